/* SPDX-License-Identifier: MIT */
/* sl-egress rooms: show, check and test. */
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntrack.h"
#include "egress.h"
#include "egress-rules.h"
#include "error.h"
#include "fault.h"
#include "ipset.h"
#include "ipt.h"
#include <libiptc/libiptc.h>
#include "json.h"
#include "egressd.h"
#include "denials.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "policy.h"
#include "shape.h"
#include "state.h"
#include "tap.h"
#include "util.h"
#include "veth.h"

static int dump(struct xtc_handle *h, FILE *f, const char *const *builtin,
		const char *const *ours, const char *cm, bool stats)
{
	for (const char *const *c = ours; *c; c++)
		if (sl_ipt_chain_exists(h, *c))
			fprintf(f, ":%s - [0:0]\n", *c);
	for (const char *const *b = builtin; *b; b++) {
		_cleanup_free_ struct sl_rule *v = NULL;
		size_t n;

		if (sl_ipt_list(h, *b, &v, &n) == 0)
			eg_print_chain(f, *b, v, n, SL_JUMP_COMMENT, stats);
	}
	for (const char *const *c = ours; *c; c++) {
		_cleanup_free_ struct sl_rule *v = NULL;
		size_t n;

		if (sl_ipt_list(h, *c, &v, &n) == 0)
			eg_print_chain(f, *c, v, n, cm, stats);
	}
	return 0;
}

/*
 * Packets an entry decided: those of its ACCEPT or DROP rules from the TAP
 * (the NFLOG twins count the same packets again, rate-limited). @e NULL:
 * the whitelist's last drop.
 */
static unsigned long long entry_packets(const struct sl_entry *e, const char *tap,
					const struct sl_rule *v, size_t n)
{
	unsigned long long sum = 0;
	char set[SL_SET_NAME_LEN] = "";

	if (e && e->name[0])
		sl_entry_set_name(e, set);
	for (size_t i = 0; i < n; i++) {
		const struct sl_rule *r = &v[i];

		if (strcmp(r->in, tap) || r->has_src || r->nflog_group ||
		    (strcmp(r->target, "ACCEPT") && strcmp(r->target, "DROP")) || strcmp(r->set, set))
			continue;
		if (!e ? !r->has_dst && !r->proto
		       : (set[0] || (r->has_dst ? r->dst.addr == e->net.addr &&
							  r->dst.prefix == e->net.prefix
						: e->net.prefix == 0)) &&
				 (e->lo ? r->dport_lo == e->lo && r->dport_hi == e->hi : !r->proto))
			sum += r->pkts;
	}
	return sum;
}

/*
 * How the run dir's daemon serves the VM: its denials, and its resolver
 * when it has one (where it listens, whom it asks).
 */
static void show_daemons(const struct sl_egress_cfg *c, FILE *f)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	struct sl_egressd_vm v;
	const char *up;
	char gw[SL_IP_STRLEN];
	int r;

	if (sl_state_load(c->name, &st, NULL) < 0)
		return;
	r = sl_egressd_status(c->name, &v, NULL);
	if (r == 0)
		fprintf(f, "# denials: kept by sl-egressd pid %d, this VM its slot %u: %lu logged, "
			   "%lu suppressed since apply (sl-egress log %s)\n", v.pid, v.slot,
			v.logged, v.suppressed, c->name);
	else
		fprintf(f, "# denials: NOT KEPT: %s; sl-egress apply serves it again\n",
			r == -ESRCH ? "no sl-egressd runs" : "sl-egressd does not serve this VM");
	if (!(up = sl_kv_get(&st, "SL_DNS_UPSTREAM")))
		return;
	sl_ip_fmt(c->ip - 1, gw);
	if (r == 0 && v.resolver)
		fprintf(f, "# resolver: in sl-egressd pid %d on %s:53, upstream %s; %s; %lu queries, "
			   "%lu refused, %lu answered from its cache\n", v.pid, c->ip ? gw : "the gateway", up,
			sl_entry_list_names(&c->allow) ? "names in allow only (REFUSED otherwise)"
							: "every name (no name in allow)",
			v.queries, v.refused, v.cached);
	else
		fprintf(f, "# resolver: NOT RUNNING (upstream %s): the guest resolves nothing; "
			   "sl-egress apply starts it\n", up);
	for (size_t i = 0; i < c->allow.n; i++) {
		char set[SL_SET_NAME_LEN];

		if (!c->allow.v[i].name[0])
			continue;
		sl_entry_set_name(&c->allow.v[i], set);
		fprintf(f, "#   %s: its addresses in ip set %s (ip netns exec %s ipset list %s)\n",
			c->allow.v[i].name, set, c->name, set);
	}
}

/* The bandwidth caps the kernel has, in the namespace. */
static void show_caps(const struct sl_egress_cfg *c, FILE *f)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	uint64_t out = 0, in = 0;
	char a[32], b[32];

	if (sl_nl_open(&sk) < 0)
		return;
	sl_shape_get(sk, c->veth, &out);
	sl_shape_get(sk, c->tap, &in);
	if (out || in)
		fprintf(f, "# bandwidth: out %s (tbf on %s), in %s (tbf on %s)\n",
			out ? sl_rate_fmt(out, a) : "no cap", c->veth, in ? sl_rate_fmt(in, b) : "no cap",
			c->tap);
}

/* The lists as given, then the order that decides, as comments (with
 * --stats, how many packets each entry decided). */
static int show_policy(const struct sl_egress_cfg *c, FILE *f, const struct sl_rule *v, size_t nv,
		       bool stats, struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	_cleanup_free_ char *a = sl_entry_list_fmt(&c->allow);
	_cleanup_free_ char *d = sl_entry_list_fmt(&c->drop);
	char b[SL_ENTRY_STRLEN];
	int r = sl_policy_build(&c->allow, &c->drop, &pol);

	if (r < 0 || !a || !d)
		return r < 0 ? r : -ENOMEM;
	fprintf(f, "# %s: allow [%s] drop [%s]\n", c->name, a, d);
	{
		_cleanup_kv_ struct sl_kv st = { 0 };

		if (sl_state_load(c->name, &st, err) == 0 &&
		    (sl_kv_get(&st, "SL_GROUP_ALLOW") || sl_kv_get(&st, "SL_GROUP_DROP")))
			fprintf(f, "# (its own lists, from sl-up launch; its group's: allow [%s] "
				   "drop [%s])\n",
				sl_kv_get(&st, "SL_GROUP_ALLOW") ?: "", sl_kv_get(&st, "SL_GROUP_DROP") ?: "");
	}
	fprintf(f, "# policy, the first entry that matches decides:\n");
	for (size_t i = 0; i < pol.n; i++) {
		fprintf(f, "#   %-5s %s%s", pol.v[i].allow ? "allow" : "drop",
			sl_entry_fmt(pol.v[i].e, b),
			pol.v[i].builtin ? " (built in: cloud metadata; allow it as a /32)" : "");
		if (stats)
			fprintf(f, ": %llu packets", entry_packets(pol.v[i].e, c->tap, v, nv));
		fputc('\n', f);
	}
	fprintf(f, "#   %-5s anything else (%s)", pol.default_allow ? "allow" : "drop",
		pol.default_allow ? "no allow-only list" : "allow entries and no drop entries");
	if (stats && !pol.default_allow)
		fprintf(f, ": %llu packets", entry_packets(NULL, c->tap, v, nv));
	fputc('\n', f);
	show_daemons(c, f);
	return 0;
}

/*
 * The VM's namespace entered, its filter table open and, for --stats, the
 * rules of its chain with their counters: what show reads, text or JSON.
 */
struct ns_view {
	int saved;
	struct xtc_handle *h;
	struct sl_rule *v;
	size_t nv;
};

static void ns_view_close(struct ns_view *w)
{
	sl_ipt_closep(&w->h);
	free(w->v);
	w->v = NULL;
	if (w->saved >= 0)
		sl_netns_return(&w->saved);
}
#define _cleanup_ns_view_ __attribute__((cleanup(ns_view_close)))

static int ns_view_open(int fd, bool stats, struct ns_view *w, struct sl_error *err)
{
	int r;

	w->saved = sl_netns_enter(fd);
	if (w->saved < 0)
		return w->saved;
	if ((r = sl_ipt_open("filter", &w->h, err)) < 0)
		return r;
	if (stats)
		sl_ipt_list(w->h, SL_CHAIN_NS_FWD, &w->v, &w->nv);
	return 0;
}

/* Add @v to @o under @key, or to the array @o when @key is NULL; @v is consumed. */
static int jadd(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (key ? json_object_object_add(o, key, v) : json_object_array_add(o, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static json_object *entries_json(const struct sl_entry_list *l)
{
	json_object *a = json_object_new_array();
	char b[SL_ENTRY_STRLEN];

	for (size_t i = 0; a && i < l->n; i++)
		if (jadd(a, NULL, json_object_new_string(sl_entry_fmt(&l->v[i], b))) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

/* A list as SL_ALLOW or SL_DROP holds it, as a JSON array (NULL for none). */
static json_object *state_list_json(const struct sl_kv *st, const char *key)
{
	_cleanup_entry_list_ struct sl_entry_list l = { 0 };
	const char *v = sl_kv_get(st, key);

	if (!v || sl_entry_list_add(&l, v, key, NULL) < 0)
		return NULL;
	return entries_json(&l);
}

/* The chains' rules as lines (dump()'s output, one string each). */
static json_object *dump_json(struct xtc_handle *h, const char *const *builtin,
			      const char *const *ours, const char *cm, bool stats)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	json_object *a = json_object_new_array();
	char *save = NULL;

	if (!m || !a) {
		if (m)
			fclose(m);
		json_object_put(a);
		return NULL;
	}
	dump(h, m, builtin, ours, cm, stats);
	fclose(m);
	for (char *t = buf ? strtok_r(buf, "\n", &save) : NULL; t; t = strtok_r(NULL, "\n", &save))
		if (jadd(a, NULL, json_object_new_string(t)) < 0) {
			json_object_put(a);
			return NULL;
		}
	return a;
}

/* The policy, most specific first, and what happens to anything else. */
static int policy_json(const struct sl_egress_cfg *c, json_object *o, const struct sl_rule *v,
		       size_t nv, bool stats)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	json_object *a, *d;
	char b[SL_ENTRY_STRLEN];
	int r = sl_policy_build(&c->allow, &c->drop, &pol);

	if (r < 0 || (r = jadd(o, "policy", a = json_object_new_array())) < 0)
		return r;
	for (size_t i = 0; i < pol.n; i++) {
		json_object *e = json_object_new_object();

		if ((r = jadd(a, NULL, e)) < 0 ||
		    (r = jadd(e, "verdict", json_object_new_string(pol.v[i].allow ? "allow" : "drop"))) < 0 ||
		    (r = jadd(e, "entry", json_object_new_string(sl_entry_fmt(pol.v[i].e, b)))) < 0 ||
		    (r = jadd(e, "builtin", json_object_new_boolean(pol.v[i].builtin))) < 0 ||
		    (stats && (r = jadd(e, "packets", json_object_new_int64((int64_t)entry_packets(
								  pol.v[i].e, c->tap, v, nv)))) < 0))
			return r;
	}
	if ((r = jadd(o, "default", d = json_object_new_object())) < 0 ||
	    (r = jadd(d, "verdict", json_object_new_string(pol.default_allow ? "allow" : "drop"))) < 0)
		return r;
	if (stats && !pol.default_allow)
		r = jadd(d, "packets", json_object_new_int64((int64_t)entry_packets(NULL, c->tap, v, nv)));
	return r;
}

/* The daemons and the caps, from the state and the kernel (in the namespace). */
static int extras_json(const struct sl_egress_cfg *c, const struct sl_kv *st, json_object *o)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	const char *up = sl_kv_get(st, "SL_DNS_UPSTREAM");
	struct sl_egressd_vm v = { 0 };
	uint64_t out = 0, in = 0;
	json_object *bw, *res, *d;
	bool served;
	char a[32];
	int r;

	served = sl_egressd_status(c->name, &v, NULL) == 0;
	if (!served) {
		r = json_object_object_add(o, "daemon", NULL) ? -ENOMEM : 0; /* null */
	} else if ((r = jadd(o, "daemon", d = json_object_new_object())) == 0 &&
		   (r = jadd(d, "pid", json_object_new_int(v.pid))) == 0 &&
		   (r = jadd(d, "slot", json_object_new_int((int)v.slot))) == 0 &&
		   (r = jadd(d, "logged", json_object_new_int64((int64_t)v.logged))) == 0) {
		r = jadd(d, "suppressed", json_object_new_int64((int64_t)v.suppressed));
	}
	if (r < 0)
		return r;
	if (!up) {
		r = json_object_object_add(o, "resolver", NULL) ? -ENOMEM : 0; /* null */
	} else if ((r = jadd(o, "resolver", res = json_object_new_object())) == 0) {
		r = jadd(res, "pid", json_object_new_int(served && v.resolver ? v.pid : 0));
		if (r == 0)
			r = jadd(res, "upstream", json_object_new_string(up));
		if (r == 0)
			r = jadd(res, "queries", json_object_new_int64((int64_t)v.queries));
		if (r == 0)
			r = jadd(res, "refused", json_object_new_int64((int64_t)v.refused));
		if (r == 0)
			r = jadd(res, "cached", json_object_new_int64((int64_t)v.cached));
	}
	if (r < 0)
		return r;
	if (sl_nl_open(&sk) == 0) {
		sl_shape_get(sk, c->veth, &out);
		sl_shape_get(sk, c->tap, &in);
	}
	if ((r = jadd(o, "bandwidth", bw = json_object_new_object())) < 0)
		return r;
	if (out && (r = jadd(bw, "out", json_object_new_string(sl_rate_fmt(out, a)))) < 0)
		return r;
	if (in && (r = jadd(bw, "in", json_object_new_string(sl_rate_fmt(in, a)))) < 0)
		return r;
	return 0;
}

/*
 * What show and show --json print of each table: the builtin chains that
 * jump to ours (filter: fb, nat: nb), and ours (the namespace's: nsc; the
 * host's: hc, nc).
 */
static const char *const fb[] = { "FORWARD", "INPUT", NULL };
static const char *const nsc[] = { SL_CHAIN_NS_FWD, SL_CHAIN_NS_IN, NULL };
static const char *const hc[] = { SL_CHAIN_HOST_FWD, SL_CHAIN_HOST_IN, NULL };
static const char *const nb[] = { "POSTROUTING", NULL };
static const char *const nc[] = { SL_CHAIN_HOST_NAT, NULL };

/*
 * show --json: one object, name, the lists (and the group's, when sl-up
 * launch overrode them), the policy, resolver, caps and rule lines.
 */
static int show_json(const struct sl_egress_cfg *c, FILE *f, bool stats, int fd,
		     struct sl_error *err)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_kv_ struct sl_kv st = { 0 };
	json_object *rules, *g;
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	if (!o || (r = jadd(o, "name", json_object_new_string(c->name))) < 0 ||
	    (r = jadd(o, "allow", entries_json(&c->allow))) < 0 ||
	    (r = jadd(o, "drop", entries_json(&c->drop))) < 0 ||
	    (r = jadd(o, "rules", rules = json_object_new_object())) < 0)
		return o ? r : -ENOMEM;
	sl_state_load(c->name, &st, NULL); /* no state: no group to show */
	if (sl_kv_get(&st, "SL_GROUP_ALLOW") || sl_kv_get(&st, "SL_GROUP_DROP")) {
		if ((r = jadd(o, "group", g = json_object_new_object())) < 0 ||
		    (r = jadd(g, "allow",
			      state_list_json(&st, "SL_GROUP_ALLOW")
				  ?: json_object_new_array())) < 0 ||
		    (r = jadd(g, "drop",
			      state_list_json(&st, "SL_GROUP_DROP")
				  ?: json_object_new_array())) < 0)
			return r;
	}
	if (!c->bridge) {
		_cleanup_ns_view_ struct ns_view w = { .saved = -1 };

		if ((r = ns_view_open(fd, stats, &w, err)) < 0 ||
		    (r = policy_json(c, o, w.v, w.nv, stats)) < 0 ||
		    (r = extras_json(c, &st, o)) < 0 ||
		    (r = jadd(rules, "namespace", dump_json(w.h, fb, nsc, NULL, stats))) < 0)
			return r;
	}
	sl_egress_host_comment(&c->range, cm, sizeof(cm));
	{
		_cleanup_ipt_ struct xtc_handle *h = NULL;

		if ((r = sl_ipt_open("filter", &h, err)) < 0 ||
		    (r = jadd(rules, "host", dump_json(h, fb, hc, cm, stats))) < 0)
			return r;
	}
	{
		_cleanup_ipt_ struct xtc_handle *h = NULL;

		if ((r = sl_ipt_open("nat", &h, err)) < 0 ||
		    (r = jadd(rules, "nat", dump_json(h, nb, nc, cm, stats))) < 0)
			return r;
	}
	fprintf(f, "%s\n", sl_json_line(o));
	return 0;
}

/**
 * sl_egress_show() - print a VM's rules and its range's host rules
 * @c: VM (only name, TAP and range are used)
 * @f: stream
 * @stats: with the kernel's counters, as iptables-save -c, and per entry
 * @json: one JSON object (show_json()) instead
 * @err: why, when it fails
 *
 * In iptables-save syntax, one section per namespace and table.
 */
int sl_egress_show(const struct sl_egress_cfg *c, FILE *f, bool stats, bool json,
		   struct sl_error *err)
{
	_cleanup_close_ int fd = c->bridge ? -1 : sl_vm_netns_open(c->name, err);
	char cm[SL_HOST_COMMENT_LEN], cr[SL_CIDR_STRLEN];
	int r;

	if (fd < 0 && !c->bridge)
		return fd;
	if (json)
		return show_json(c, f, stats, fd, err);
	if (!c->bridge) {
		_cleanup_ns_view_ struct ns_view w = { .saved = -1 };

		if ((r = ns_view_open(fd, stats, &w, err)) < 0 ||
		    (r = show_policy(c, f, w.v, w.nv, stats, err)) < 0)
			return r;
		show_caps(c, f);
		fprintf(f, "# namespace %s\n*filter\n", c->name);
		dump(w.h, f, fb, nsc, NULL, stats);
		fprintf(f, "COMMIT\n");
	}
	{
		_cleanup_ipt_ struct xtc_handle *h = NULL;

		sl_egress_host_comment(&c->range, cm, sizeof(cm));
		fprintf(f, "# host, range %s\n*filter\n", sl_cidr_fmt(&c->range, cr));
		if ((r = sl_ipt_open("filter", &h, err)) < 0)
			return r;
		dump(h, f, fb, hc, cm, stats);
		fprintf(f, "COMMIT\n*nat\n");
		sl_ipt_closep(&h);
		h = NULL;
		if ((r = sl_ipt_open("nat", &h, err)) < 0)
			return r;
		dump(h, f, nb, nc, cm, stats);
		fprintf(f, "COMMIT\n");
	}
	return 0;
}

int eg_check_chain(struct xtc_handle *h, const char *where, const char *chain,
		       const char *cm, const struct ruleset *want)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	char line[512];
	size_t n, k = 0;
	int bad = 0;

	if (sl_ipt_list(h, chain, &v, &n) < 0) {
		sl_info("check: %s: chain %s is missing", where, chain);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (cm && strcmp(v[i].comment, cm))
			continue;
		if (k < want->n && sl_rule_equal(&v[i], &want->r[k])) {
			k++;
			continue;
		}
		sl_rule_format(&v[i], chain, line, sizeof(line));
		sl_info("check: %s: unexpected rule: %s", where, line);
		bad++;
	}
	for (; k < want->n; k++) {
		sl_rule_format(&want->r[k], chain, line, sizeof(line));
		sl_info("check: %s: missing rule: %s", where, line);
		bad++;
	}
	return bad;
}

/* The kernel's caps are the ones given. */
static int check_caps(const struct sl_egress_cfg *c, const char *where)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	const char *dev[] = { c->veth, c->tap };
	const uint64_t want[] = { c->rate_out, c->rate_in };
	int bad = 0;

	if (sl_nl_open(&sk) < 0)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		uint64_t have = 0;
		char a[32], b[32];

		sl_shape_get(sk, dev[i], &have);
		if (have == want[i])
			continue;
		sl_info("check: %s: %s is capped at %s, want %s", where, dev[i],
			have ? sl_rate_fmt(have, a) : "nothing", want[i] ? sl_rate_fmt(want[i], b) : "no cap");
		bad++;
	}
	return bad;
}

/* The daemon serves the VM, and runs its resolver when it has one. */
static int check_daemons(const struct sl_egress_cfg *c, const char *where, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	int bad = 0;

	struct sl_egressd_vm v;
	int r;

	if (sl_state_load(c->name, &st, err) < 0)
		return 0;
	r = sl_egressd_status(c->name, &v, NULL);
	if (r < 0) {
		sl_info("check: %s: its denials are not kept: %s", where,
			r == -ESRCH ? "no sl-egressd runs" : "sl-egressd does not serve it");
		bad++;
	}
	if (c->dns_upstream && *c->dns_upstream && (r < 0 || !v.resolver)) {
		sl_info("check: %s: the resolver is not running", where);
		bad++;
	}
	return bad;
}

int eg_check_jump(struct xtc_handle *h, const char *where, const char *from, const char *to)
{
	if (sl_ipt_find_jump(h, from, to) >= 0)
		return 0;
	sl_info("check: %s: no jump from %s to %s", where, from, to);
	return 1;
}

/**
 * sl_egress_check() - compare the kernel's rules with what apply makes
 * @c: VM, addresses, allow and drop lists
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_egress_check(const struct sl_egress_cfg *c, struct sl_error *err)
{
	_cleanup_ruleset_ struct ruleset fwd = { 0 };
	_cleanup_ruleset_ struct ruleset in = { 0 };
	_cleanup_ruleset_ struct ruleset top = { 0 };
	_cleanup_ruleset_ struct ruleset from = { 0 };
	_cleanup_ruleset_ struct ruleset hin = { 0 };
	_cleanup_ruleset_ struct ruleset masq = { 0 };
	_cleanup_close_ int fd = c->bridge ? -1 : sl_vm_netns_open(c->name, err);
	char cm[SL_HOST_COMMENT_LEN], where[64];
	int bad = 0, r;

	if (fd < 0 && !c->bridge)
		return fd;
	if ((r = eg_ns_fwd_rules(c, &fwd, err)) < 0)
		return r;
	eg_ns_in_rules(c, &in);
	if ((r = eg_ruleset_status(&in, err)) < 0)
		return r;
	snprintf(where, sizeof(where), "namespace %s", c->name);
	if (!c->bridge) {
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_ipt_ struct xtc_handle *h = NULL;

		if (saved < 0)
			return saved;
		if ((r = sl_ipt_open("filter", &h, err)) < 0)
			return r;
		bad += eg_check_jump(h, where, "FORWARD", SL_CHAIN_NS_FWD);
		bad += eg_check_jump(h, where, "INPUT", SL_CHAIN_NS_IN);
		bad += eg_check_chain(h, where, SL_CHAIN_NS_FWD, NULL, &fwd);
		bad += eg_check_chain(h, where, SL_CHAIN_NS_IN, NULL, &in);
		bad += check_daemons(c, where, err);
		bad += check_caps(c, where);
	}
	sl_egress_host_comment(&c->range, cm, sizeof(cm));
	if ((r = eg_host_rules(&c->range, c->bridge, &top, &from, &hin, &masq, err)) < 0)
		return r;
	for (size_t i = 0; i < from.n; i++)
		eg_rule_copy(&top, &from.r[i]);
	if ((r = eg_ruleset_status(&top, err)) < 0)
		return r;
	{
		_cleanup_ipt_ struct xtc_handle *h = NULL;
		_cleanup_ipt_ struct xtc_handle *n = NULL;
		char v[8];

		if ((r = sl_ipt_open("filter", &h, err)) < 0 ||
		    (r = sl_ipt_open("nat", &n, err)) < 0)
			return r;
		bad += eg_check_jump(h, "host", "FORWARD", SL_CHAIN_HOST_FWD);
		bad += eg_check_jump(h, "host", "INPUT", SL_CHAIN_HOST_IN);
		bad += eg_check_jump(n, "host", "POSTROUTING", SL_CHAIN_HOST_NAT);
		bad += eg_check_chain(h, "host", SL_CHAIN_HOST_FWD, cm, &top);
		bad += eg_check_chain(h, "host", SL_CHAIN_HOST_IN, cm, &hin);
		bad += eg_check_chain(n, "host", SL_CHAIN_HOST_NAT, cm, &masq);
		if (sl_sysctl_read("net/ipv4/ip_forward", v, sizeof(v)) == 0 && strcmp(v, "1")) {
			sl_info("check: host: forwarding is off (net.ipv4.ip_forward=0)");
			bad++;
		}
	}
	return bad;
}

/* DEST of sl-egress test: ADDR (a packet without ports, e.g. ICMP), ADDR:PORT (TCP), or a name. */
static int dest_parse(const char *dest, struct sl_packet *pkt, char name[SL_DNS_NAME_MAX + 1],
		      struct sl_error *err)
{
	struct sl_entry e;

	name[0] = '\0';
	/* one destination: no prefix, no port range, no wildcard (names may hold '-') */
	if (strchr(dest, '/') || strchr(dest, '*') || sl_entry_parse(dest, &e, "DEST", err) < 0 ||
	    (e.name[0] && e.lo) || e.lo != e.hi)
		return sl_error(err, -EINVAL, "bad DEST '%s': want ADDR, ADDR:PORT or a DNS name",
				dest);
	memcpy(name, e.name, sizeof(e.name));
	pkt->dst = e.net.addr;
	pkt->proto = e.lo ? IPPROTO_TCP : 0;
	pkt->port = e.lo;
	return 0;
}

/* Which entry decides, with what the VM's ip sets hold now when it has a namespace. */
static int decide(const struct sl_egress_cfg *c, struct sl_policy *pol, const char *name,
		  const struct sl_packet *pkt, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_netns_ int saved = -1;
	_cleanup_ipset_ struct sl_ipset *sets = NULL;

	if (name[0])
		return sl_policy_decide_name(pol, name);
	if (sl_entry_list_names(&c->allow) && sl_owned_netns(c->name) == 1 &&
	    (fd = sl_netns_open(c->name)) >= 0)
		saved = sl_netns_enter(fd);
	if (saved >= 0 && sl_ipset_open(&sets, err) == 0) {
		pol->resolved = eg_in_set;
		pol->arg = sets;
	}
	return sl_policy_decide(pol, pkt);
}

/**
 * sl_egress_test() - which entry decides a destination, without a packet
 * @c: the VM's lists (its name is only for the output)
 * @dest: ADDR, ADDR:PORT or a DNS name
 * @out: SL_VERDICT (allow or drop), SL_ENTRY (the entry, or "default")
 * @err: why, when it fails
 *
 * The order is sl_policy_build()'s, the one eg_ns_fwd_rules() writes: what
 * this says is what the chain does. An address a name entry allows is one
 * its ip set holds now (the VM's, when it has a namespace). For a name, the
 * verdict is the resolver's: allow when an entry covers it (its addresses
 * are then reachable), drop (REFUSED) when names are listed and none does.
 * With names in allow, DNS and DNS over TLS (ports 53, 853) to anywhere but
 * the gateway are dropped before any entry (entry "dns"). Isolation (other
 * VMs, the host) is enforced by the host's chains whatever the lists say,
 * and not shown here.
 *
 * Return: 0, -EINVAL (bad DEST), -ENOMEM
 */
int sl_egress_test(const struct sl_egress_cfg *c, const char *dest, struct sl_kv *out,
		   struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	struct sl_packet pkt;
	char b[SL_ENTRY_STRLEN], name[SL_DNS_NAME_MAX + 1];
	bool allow;
	int r, i;

	const char *entry;

	if ((r = dest_parse(dest, &pkt, name, err)) < 0 ||
	    (r = sl_policy_build(&c->allow, &c->drop, &pol)) < 0)
		return r;
	i = decide(c, &pol, name, &pkt, err);
	if (name[0])
		allow = i >= 0 || !sl_entry_list_names(&c->allow); /* no names: not policed */
	else
		allow = i < 0 ? pol.default_allow : pol.v[i].allow;
	entry = i < 0 ? "default" : sl_entry_fmt(pol.v[i].e, b);
	/* dns_elsewhere_rules() come before every entry */
	if (!name[0] && sl_entry_list_names(&c->allow) &&
	    (pkt.port == SL_DNS_PORT || pkt.port == SL_DOT_PORT)) {
		allow = false;
		entry = "dns";
	}
	if ((r = sl_kv_set(out, "SL_NAME", c->name)) < 0 ||
	    (r = sl_kv_set(out, "SL_DEST", dest)) < 0 ||
	    (r = sl_kv_set(out, "SL_VERDICT", allow ? "allow" : "drop")) < 0 ||
	    (r = sl_kv_set(out, "SL_ENTRY", entry)) < 0)
		return r;
	return 0;
}
