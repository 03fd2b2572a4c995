/* SPDX-License-Identifier: MIT */
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

/*
 * A rule set grows as it is built and is bounded: the namespace's chain
 * holds at most two rules (TCP, UDP) per entry of each list, the host's a
 * handful per range. An append past the bound, or one that finds no
 * memory, is remembered and reported once by ruleset_status(), so that the
 * builders stay straight lines.
 */
#define MAX_RULES (4 * SL_POLICY_MAX_ENTRIES + 16)

struct ruleset {
	struct sl_rule *r;
	size_t n, cap;
	int err;
	struct sl_rule scratch; /* what a failed append writes into */
};

static void ruleset_free(struct ruleset *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
}
#define _cleanup_ruleset_ __attribute__((cleanup(ruleset_free)))

static int ruleset_status(const struct ruleset *s, struct sl_error *err)
{
	if (s->err == -E2BIG)
		return sl_error(err, s->err,
				"too many rules (at most %d): fewer allow and drop entries",
				MAX_RULES);
	return s->err;
}

static struct sl_rule *rule(struct ruleset *s, const char *target, const char *comment)
{
	struct sl_rule *r = &s->scratch;

	if (s->err)
		goto out;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct sl_rule *nv;

		if (s->n >= MAX_RULES) {
			s->err = -E2BIG;
			goto out;
		}
		if (cap > MAX_RULES)
			cap = MAX_RULES;
		nv = realloc(s->r, cap * sizeof(*nv));
		if (!nv) {
			s->err = -ENOMEM;
			goto out;
		}
		s->r = nv;
		s->cap = cap;
	}
	r = &s->r[s->n++];
out:
	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "%s", target);
	snprintf(r->comment, sizeof(r->comment), "%s", comment);
	return r;
}

/* Append a copy of @r (one rule set made of others). */
static void rule_copy(struct ruleset *s, const struct sl_rule *r)
{
	struct sl_rule *d = rule(s, "", "");

	*d = *r;
}

static void ns_comment(const struct sl_egress_cfg *c, char *buf, size_t len)
{
	snprintf(buf, len, "sl:%s", c->name);
}

/*
 * A drop that is logged: an NFLOG rule with @match's matches, rate-limited,
 * then the DROP. @match is a template; its target is set here.
 */
static void drop_logged(struct ruleset *s, const struct sl_rule *match, const char *why)
{
	struct sl_rule *r = rule(s, "", "");

	*r = *match;
	snprintf(r->target, sizeof(r->target), "NFLOG");
	r->limit_per_s = SL_LOG_RATE;
	r->limit_burst = SL_LOG_BURST;
	r->nflog_group = SL_NFLOG_GROUP;
	snprintf(r->nflog_prefix, sizeof(r->nflog_prefix), "%s", why);
	r = rule(s, "", "");
	*r = *match;
	snprintf(r->target, sizeof(r->target), "DROP");
}

/* The rules of one entry, from the TAP: one, or with ports one for TCP and one for UDP. */
static void entry_rules(const struct sl_egress_cfg *c, const struct sl_policy_rule *pr,
			const char *cm, struct ruleset *s)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	char why[SL_ENTRY_STRLEN];

	if (pr->builtin)
		snprintf(why, sizeof(why), "metadata");
	else
		sl_entry_fmt(pr->e, why);
	for (size_t i = 0; i < (pr->e->lo ? 2 : 1); i++) {
		struct sl_rule m = { 0 };

		snprintf(m.comment, sizeof(m.comment), "%s", cm);
		snprintf(m.in, sizeof(m.in), "%s", c->tap);
		if (pr->e->name[0]) {
			/* the addresses the resolver added for the name */
			sl_entry_set_name(pr->e, m.set);
		} else {
			/* 0.0.0.0/0 is no -d at all: as the kernel reads the rule back */
			m.has_dst = pr->e->net.prefix > 0;
			m.dst = pr->e->net;
		}
		if (pr->e->lo) {
			m.proto = protos[i];
			m.dport_lo = pr->e->lo;
			m.dport_hi = pr->e->hi;
		}
		if (pr->allow) {
			snprintf(m.target, sizeof(m.target), "ACCEPT");
			*rule(s, "", "") = m;
		} else {
			drop_logged(s, &m, why);
		}
	}
}

/*
 * With names in allow, the guest's resolver is its gateway: DNS (and DNS
 * over TLS) to anywhere else is dropped before any entry is looked at, so
 * that no name resolves by another path and an allow of ADDR:53 cannot
 * open one.
 */
static void dns_elsewhere_rules(const struct sl_egress_cfg *c, const char *cm,
				struct ruleset *s)
{
	static const struct {
		uint8_t proto;
		uint16_t port;
	} dns[] = { { IPPROTO_UDP, SL_DNS_PORT }, { IPPROTO_TCP, SL_DNS_PORT },
		    { IPPROTO_TCP, SL_DOT_PORT }, { IPPROTO_UDP, SL_DOT_PORT } };

	for (size_t i = 0; i < ARRAY_SIZE(dns); i++) {
		struct sl_rule m = { 0 };

		snprintf(m.comment, sizeof(m.comment), "%s", cm);
		snprintf(m.in, sizeof(m.in), "%s", c->tap);
		m.proto = dns[i].proto;
		m.dport_lo = m.dport_hi = dns[i].port;
		drop_logged(s, &m, "dns");
	}
}

/* Anything from the guest's side not sent from its own address: dropped, logged. */
static void spoof_rules(const struct sl_egress_cfg *c, const char *cm, struct ruleset *s)
{
	struct sl_rule spoof = { 0 };

	snprintf(spoof.comment, sizeof(spoof.comment), "%s", cm);
	snprintf(spoof.in, sizeof(spoof.in), "%s", c->tap);
	spoof.has_src = spoof.inv_src = true;
	spoof.src = (struct sl_cidr){ c->ip, 32 };
	drop_logged(s, &spoof, "spoofed");
}

/*
 * The entries most specific first (lib/policy.c), so that the first rule a
 * packet matches is the entry that decides it; in a whitelist a last drop,
 * else, with @accept_rest, a last accept.
 */
static void policy_rules(const struct sl_egress_cfg *c, const struct sl_policy *pol,
			 const char *cm, bool accept_rest, struct ruleset *s)
{
	bool reversed = sl_mutant("order-reversed"); /* the test build's: most specific last */

	for (size_t i = 0; i < pol->n; i++)
		entry_rules(c, &pol->v[reversed ? pol->n - 1 - i : i], cm, s);
	if (!pol->default_allow) { /* allow only: a whitelist */
		struct sl_rule rest = { 0 };

		snprintf(rest.comment, sizeof(rest.comment), "%s", cm);
		snprintf(rest.in, sizeof(rest.in), "%s", c->tap);
		drop_logged(s, &rest, "default");
	} else if (accept_rest) {
		struct sl_rule *r = rule(s, "ACCEPT", cm);

		snprintf(r->in, sizeof(r->in), "%s", c->tap);
	}
}

/*
 * The VM's own rules (docs/DESIGN.md §2): anti-spoofing, replies, nothing new
 * from outside, then the entries. The namespace's tables hold nothing
 * else, so they are simply rewritten on every apply.
 */
static int ns_fwd_rules(const struct sl_egress_cfg *c, struct ruleset *s, struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;
	int rc = sl_policy_build(&c->allow, &c->drop, &pol);

	if (rc < 0)
		return rc;
	ns_comment(c, cm, sizeof(cm));
	spoof_rules(c, cm, s);
	r = rule(s, "ACCEPT", cm);
	r->ct_established = true;
	r = rule(s, "DROP", cm); /* nothing new reaches the VM */
	snprintf(r->in, sizeof(r->in), "%s", c->veth);
	if (sl_entry_list_names(&c->allow))
		dns_elsewhere_rules(c, cm, s);
	policy_rules(c, &pol, cm, false, s);
	return ruleset_status(s, err);
}

/*
 * The namespace itself answers nobody but the VM's ping of its gateway
 * (the first thing an admin tries): ICMP echo from the TAP to the gateway's
 * address, the block's second address, one below the VM's; and, when it
 * has a resolver, the VM's DNS to it and the upstreams' replies.
 */
static void ns_in_rules(const struct sl_egress_cfg *c, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	ns_comment(c, cm, sizeof(cm));
	r = rule(s, "ACCEPT", cm);
	snprintf(r->in, sizeof(r->in), "%s", c->tap);
	r->has_src = r->has_dst = true;
	r->src = (struct sl_cidr){ c->ip, 32 };
	r->dst = (struct sl_cidr){ c->ip - 1, 32 };
	r->proto = IPPROTO_ICMP;
	r->icmp_type = 8; /* echo request */
	if (c->dns_upstream && *c->dns_upstream) {
		/* the guest's queries to its resolver; the resolver's answers from upstream */
		static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP };

		for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
			r = rule(s, "ACCEPT", cm);
			snprintf(r->in, sizeof(r->in), "%s", c->tap);
			r->has_src = r->has_dst = true;
			r->src = (struct sl_cidr){ c->ip, 32 };
			r->dst = (struct sl_cidr){ c->ip - 1, 32 };
			r->proto = protos[i];
			r->dport_lo = r->dport_hi = SL_DNS_PORT;
		}
		r = rule(s, "ACCEPT", cm);
		snprintf(r->in, sizeof(r->in), "%s", c->veth);
		r->ct_established = true;
	}
	r = rule(s, "DROP", cm);
	snprintf(r->in, sizeof(r->in), "%s", c->tap);
	r = rule(s, "DROP", cm);
	snprintf(r->in, sizeof(r->in), "%s", c->veth);
}

/* The run dir's part of a host rule's comment: its path, or a hash of a long one. */
static void run_tag(char *buf, size_t len)
{
	const char *rd = sl_run_dir();

	if (strlen(rd) <= SL_HOST_TAG_PATH_MAX)
		snprintf(buf, len, "%s", rd);
	else
		snprintf(buf, len, "#%016llx", (unsigned long long)sl_fnv1a64(rd));
}

/**
 * sl_egress_host_comment() - the comment on a range's host rules
 * @range: the range
 * @buf: result, at most SL_HOST_COMMENT_LEN bytes
 * @len: size of @buf
 *
 * "sl:RANGE RUNDIR": host chains are shared by every run dir of the host
 * namespace, and each may only ever touch its own rules.
 */
void sl_egress_host_comment(const struct sl_cidr *range, char *buf, size_t len)
{
	char cr[SL_CIDR_STRLEN], tag[SL_HOST_TAG_PATH_MAX + 1];

	run_tag(tag, sizeof(tag));
	snprintf(buf, len, "sl:%s %s", sl_cidr_fmt(range, cr), tag);
}

/**
 * sl_egress_host_comment_range() - the range of a host rule of this run dir
 * @comment: a rule's comment
 * @range: result
 *
 * Return: true for a rule made by sl_egress_apply() under this SL_RUN_DIR
 */
bool sl_egress_host_comment_range(const char *comment, struct sl_cidr *range)
{
	char rs[SL_CIDR_STRLEN + 1], want[SL_HOST_COMMENT_LEN];
	const char *sp;

	if (strncmp(comment, "sl:", 3) || !(sp = strchr(comment, ' ')) ||
	    (size_t)(sp - comment - 3) >= sizeof(rs))
		return false;
	snprintf(rs, sizeof(rs), "%.*s", (int)(sp - comment - 3), comment + 3);
	if (sl_cidr_parse(rs, range) < 0)
		return false;
	sl_egress_host_comment(range, want, sizeof(want));
	return !strcmp(want, comment);
}


/*
 * Host rules of one range. Rules *to* a range go at the top of SL-FORWARD,
 * rules *from* it at the bottom: so no range's "accept from" is reached
 * before every range's "drop to", whatever order ranges came in, and a VM
 * reaches no VM of any range.
 */
static void host_fwd_top(const struct sl_cidr *range, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = rule(s, "ACCEPT", cm);
	r->has_dst = true;
	r->dst = *range;
	r->ct_established = true;
	r = rule(s, "DROP", cm);
	r->has_dst = true;
	r->dst = *range;
}

static void host_from(const struct sl_cidr *range, struct ruleset *s, const char *target)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = rule(s, target, cm);
	r->has_src = true;
	r->src = *range;
}

/*
 * What the host forwards from a range: only what comes in where the range
 * lives (an isolated range's VM host ends, by their device group; a bridge
 * subnet's bridge); the same sources from anywhere else (a container's
 * veth, the LAN) are spoofed, logged and dropped, not taken for a VM's
 * and masqueraded.
 */
static void host_fwd_from(const struct sl_cidr *range, const char *bridge_if, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r, spoof = { 0 };

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = rule(s, "ACCEPT", cm);
	r->has_src = true;
	r->src = *range;
	if (bridge_if)
		snprintf(r->in, sizeof(r->in), "%s", bridge_if);
	else
		r->in_group = sl_owner_group();
	spoof.has_src = true;
	spoof.src = *range;
	snprintf(spoof.comment, sizeof(spoof.comment), "%s", cm);
	drop_logged(s, &spoof, "spoofed");
}

static void host_nat(const struct sl_cidr *range, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = rule(s, "MASQUERADE", cm);
	r->has_src = true;
	r->src = *range;
	r->has_dst = r->inv_dst = true;
	r->dst = *range;
}

/*
 * A bridge's subnet B (Slicer's default mode, docs/DESIGN.md §2): its VMs reach
 * each other (bridged frames cross FORWARD with br_netfilter), the host
 * and the LAN, masqueraded; nothing new reaches B from outside it, so an
 * isolated VM cannot reach a bridge VM either. No SL-INPUT rule: bridge
 * VMs may talk to the host.
 */
static void host_fwd_top_bridge(const struct sl_cidr *b, const char *bridge_if,
				struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(b, cm, sizeof(cm));
	r = rule(s, "ACCEPT", cm);
	r->has_dst = true;
	r->dst = *b;
	r->ct_established = true;
	r = rule(s, "ACCEPT", cm);
	r->has_src = r->has_dst = true;
	r->src = r->dst = *b;
	snprintf(r->in, sizeof(r->in), "%s", bridge_if);
	r = rule(s, "DROP", cm);
	r->has_dst = true;
	r->dst = *b;
}

/*
 * The rules of one range: SL-FORWARD's top and bottom, SL-INPUT, nat.
 * @bridge_if: a bridge subnet's bridge; NULL for an isolated range.
 */
static int host_rules(const struct sl_cidr *range, const char *bridge_if, struct ruleset *top,
		      struct ruleset *from, struct ruleset *in, struct ruleset *masq,
		      struct sl_error *err)
{
	if (bridge_if) {
		host_fwd_top_bridge(range, bridge_if, top);
	} else {
		host_fwd_top(range, top);
		host_from(range, in, "DROP");
	}
	host_fwd_from(range, bridge_if, from);
	host_nat(range, masq);
	return ruleset_status(top, err) ?: ruleset_status(from, err) ?: ruleset_status(in, err) ?:
	       ruleset_status(masq, err);
}

static int ensure_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err)
{
	struct sl_rule j = { 0 };
	int r;

	r = sl_ipt_chain_ensure(h, to, err);
	if (r < 0)
		return r;
	if (sl_ipt_find_jump(h, from, to) >= 0)
		return 0;
	snprintf(j.target, sizeof(j.target), "%s", to);
	snprintf(j.comment, sizeof(j.comment), "%s", SL_JUMP_COMMENT);
	return sl_ipt_insert(h, from, &j, 0, err);
}

static int drop_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err)
{
	int pos, r;

	while ((pos = sl_ipt_find_jump(h, from, to)) >= 0) {
		r = sl_ipt_delete_num(h, from, (unsigned)pos, err);
		if (r < 0)
			return r;
	}
	return sl_ipt_chain_delete(h, to, err);
}

/*
 * What a mutant of the test build (lib/fault.h, t/mutants.sh) takes out of
 * a rule set of the namespace's (or with @host, the host's) before it is
 * written: its DROPs; the anti-spoofing rules; a name's set match, so that
 * the rule accepts any address. The installed tools have no mutants.
 */
static void mutate(struct ruleset *s, bool host)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct sl_rule *r = &s->r[i];

		if ((!strcmp(r->target, "DROP") && sl_mutant(host ? "host-open" : "ns-drop")) ||
		    (!host && r->has_src && r->inv_src && sl_mutant("spoof-open")))
			continue;
		if (!host && r->set[0] && sl_mutant("names-open"))
			r->set[0] = '\0';
		if (k != i)
			s->r[k] = *r;
		k++;
	}
	s->n = k;
}

static int write_chain(struct xtc_handle *h, const char *chain, const struct ruleset *s,
		       struct sl_error *err)
{
	int r = sl_ipt_chain_ensure(h, chain, err);

	if (r < 0)
		return r;
	errno = 0;
	if (!iptc_flush_entries(chain, h))
		return sl_error(err, -EIO, "cannot flush %s", chain);
	for (size_t i = 0; i < s->n; i++) {
		r = sl_ipt_append(h, chain, &s->r[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether a name entry's ip set holds an address now (sl_policy.resolved). */
static bool in_set(const struct sl_entry *e, uint32_t addr, void *arg)
{
	char set[SL_SET_NAME_LEN];

	sl_entry_set_name(e, set);
	/* a set that cannot be read holds nothing */
	return sl_ipset_test(arg, set, addr, NULL) == 1;
}

/* The ip sets of the name entries, in the namespace: before the rules that name them. */
static int sets_create(struct sl_ipset *h, const struct sl_entry_list *allow, struct sl_error *err)
{
	for (size_t i = 0; i < allow->n; i++) {
		char set[SL_SET_NAME_LEN];
		int r;

		if (!allow->v[i].name[0])
			continue;
		sl_entry_set_name(&allow->v[i], set);
		if ((r = sl_ipset_create(h, set, err)) < 0)
			return r;
	}
	return 0;
}

/* Whether @set is one of ours (sl_entry_set_name()) and no entry of @allow names it. */
static bool set_unwanted(const char *set, const struct sl_entry_list *allow)
{
	if (strncmp(set, "sl-", 3) || strlen(set) != SL_SET_NAME_LEN - 1)
		return false;
	for (size_t i = 0; allow && i < allow->n; i++) {
		char want[SL_SET_NAME_LEN];

		if (!allow->v[i].name[0])
			continue;
		sl_entry_set_name(&allow->v[i], want);
		if (!strcmp(want, set))
			return false;
	}
	return true;
}

/*
 * Our ip sets that no entry of @allow names (NULL: all of them), once no
 * rule uses them: with the name go the addresses it let the VM reach.
 */
static int sets_prune(struct sl_ipset *h, const struct sl_entry_list *allow, struct sl_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = sl_ipset_names(h, &names, &n, err);

	for (size_t i = 0; r >= 0 && i < n; i++)
		if (set_unwanted(names[i], allow))
			r = sl_ipset_destroy(h, names[i], err);
	sl_strv_free(names, n);
	return r;
}

/* A policy that changes also ends the open flows it now drops. In the namespace. */
static int cut_dropped_flows(const struct sl_egress_cfg *c, struct sl_ipset *sets,
			     struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	int r = sl_policy_build(&c->allow, &c->drop, &pol);

	pol.resolved = in_set;
	pol.arg = sets;
	if (r < 0 || (r = sl_conntrack_cut(&pol, c->ip, err)) < 0)
		return r;
	if (r > 0)
		sl_info("%s: %d open flow%s to destinations now dropped cut", c->name, r,
			r == 1 ? "" : "s");
	return 0;
}

/*
 * The bandwidth caps, in the namespace: on the veth what the VM sends, on
 * the TAP what it receives. A cap of 0 lifts one. Before the rules: a cap
 * that cannot be set (no TAP yet) leaves the old policy whole.
 */
static int shape(const struct sl_egress_cfg *c, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link l;
	int r;
	const char *dev[] = { c->veth, c->tap };
	const uint64_t rate[] = { c->rate_out, c->rate_in };
	static const char *const why[] = { "sends: run sl-veth add first",
					    "receives: run sl-tap add first" };

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	for (size_t i = 0; i < 2; i++) {
		if (sl_link_get(sk, dev[i], &l) < 0) {
			if (!rate[i])
				continue; /* no link, no cap to lift */
			return sl_error(err, -ENODEV, "%s: no %s to cap what the VM %s", c->name,
					dev[i], why[i]);
		}
		if ((r = sl_shape_set(sk, dev[i], rate[i], err)) < 0)
			return r;
	}
	return 0;
}

static int ns_apply(const struct sl_egress_cfg *c, int nsfd, struct sl_error *err)
{
	_cleanup_netns_ int saved = sl_netns_enter(nsfd);
	_cleanup_ipt_ struct xtc_handle *h = NULL;
	_cleanup_ipset_ struct sl_ipset *sets = NULL;
	_cleanup_ruleset_ struct ruleset fwd = { 0 };
	_cleanup_ruleset_ struct ruleset in = { 0 };
	int r;

	if (saved < 0)
		return saved;
	if ((r = ns_fwd_rules(c, &fwd, err)) < 0)
		return r;
	ns_in_rules(c, &in);
	mutate(&fwd, false);
	mutate(&in, false);
	if ((r = ruleset_status(&in, err)) < 0 || (r = shape(c, err)) < 0 ||
	    (r = sl_ipset_open(&sets, err)) < 0 || (r = sets_create(sets, &c->allow, err)) < 0 ||
	    (r = sl_ipt_open("filter", &h, err)) < 0 ||
	    (r = write_chain(h, SL_CHAIN_NS_FWD, &fwd, err)) < 0 ||
	    (r = write_chain(h, SL_CHAIN_NS_IN, &in, err)) < 0 ||
	    (r = ensure_jump(h, "FORWARD", SL_CHAIN_NS_FWD, err)) < 0 ||
	    (r = ensure_jump(h, "INPUT", SL_CHAIN_NS_IN, err)) < 0 ||
	    (r = sl_ipt_commit(h, err)) < 0 || (r = sets_prune(sets, &c->allow, err)) < 0)
		return r;
	return cut_dropped_flows(c, sets, err);
}

/* Delete every rule of a chain whose comment is @cm. */
static int delete_tagged(struct xtc_handle *h, const char *chain, const char *cm,
			 struct sl_error *err)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n;
	int r = sl_ipt_list(h, chain, &v, &n);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = n; i-- > 0;) {
		if (strcmp(v[i].comment, cm))
			continue;
		r = sl_ipt_delete_num(h, chain, (unsigned)i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether @chain holds exactly @s (and nothing else) among rules tagged @cm. */
static bool tagged_match(struct xtc_handle *h, const char *chain, const char *cm,
			 const struct ruleset *s)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n, k = 0;

	if (sl_ipt_list(h, chain, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].comment, cm))
			continue;
		if (k >= s->n || !sl_rule_equal(&v[i], &s->r[k]))
			return false;
		k++;
	}
	return k == s->n;
}

static int host_apply(const struct sl_cidr *range, const char *bridge_if, struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	_cleanup_ruleset_ struct ruleset top = { 0 };
	_cleanup_ruleset_ struct ruleset from = { 0 };
	_cleanup_ruleset_ struct ruleset in = { 0 };
	_cleanup_ruleset_ struct ruleset masq = { 0 };
	_cleanup_ruleset_ struct ruleset both = { 0 };
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	if ((r = host_rules(range, bridge_if, &top, &from, &in, &masq, err)) < 0)
		return r;
	mutate(&top, true);
	mutate(&from, true);
	mutate(&in, true);
	for (size_t i = 0; i < top.n; i++)
		rule_copy(&both, &top.r[i]);
	for (size_t i = 0; i < from.n; i++)
		rule_copy(&both, &from.r[i]);
	if ((r = ruleset_status(&both, err)) < 0)
		return r;

	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = ensure_jump(f, "FORWARD", SL_CHAIN_HOST_FWD, err)) < 0 ||
	    (r = ensure_jump(f, "INPUT", SL_CHAIN_HOST_IN, err)) < 0)
		return r;
	if (!tagged_match(f, SL_CHAIN_HOST_FWD, cm, &both)) {
		if ((r = delete_tagged(f, SL_CHAIN_HOST_FWD, cm, err)) < 0)
			return r;
		for (size_t i = top.n; i-- > 0;)
			if ((r = sl_ipt_insert(f, SL_CHAIN_HOST_FWD, &top.r[i], 0, err)) < 0)
				return r;
		for (size_t i = 0; i < from.n; i++)
			if ((r = sl_ipt_append(f, SL_CHAIN_HOST_FWD, &from.r[i], err)) < 0)
				return r;
	}
	if (!tagged_match(f, SL_CHAIN_HOST_IN, cm, &in)) {
		if ((r = delete_tagged(f, SL_CHAIN_HOST_IN, cm, err)) < 0)
			return r;
		for (size_t i = 0; i < in.n; i++)
			if ((r = sl_ipt_append(f, SL_CHAIN_HOST_IN, &in.r[i], err)) < 0)
				return r;
	}
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;

	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = ensure_jump(nat, "POSTROUTING", SL_CHAIN_HOST_NAT, err)) < 0)
		return r;
	if (!tagged_match(nat, SL_CHAIN_HOST_NAT, cm, &masq)) {
		if ((r = delete_tagged(nat, SL_CHAIN_HOST_NAT, cm, err)) < 0 ||
		    (r = sl_ipt_append(nat, SL_CHAIN_HOST_NAT, &masq.r[0], err)) < 0)
			return r;
	}
	return sl_ipt_commit(nat, err);
}

static int chain_empty(struct xtc_handle *h, const char *chain)
{
	return iptc_is_chain(chain, h) && !iptc_first_rule(chain, h);
}

/**
 * sl_egress_host_release() - remove the host rules of a range
 * @range: range no VM uses any more
 * @err: why, when it fails
 *
 * Our chains go too when no range is left in them. The caller holds the
 * "host" lock.
 */
int sl_egress_host_release(const struct sl_cidr *range, struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = delete_tagged(f, SL_CHAIN_HOST_FWD, cm, err)) < 0 ||
	    (r = delete_tagged(f, SL_CHAIN_HOST_IN, cm, err)) < 0)
		return r;
	if (chain_empty(f, SL_CHAIN_HOST_FWD) &&
	    (r = drop_jump(f, "FORWARD", SL_CHAIN_HOST_FWD, err)) < 0)
		return r;
	if (chain_empty(f, SL_CHAIN_HOST_IN) &&
	    (r = drop_jump(f, "INPUT", SL_CHAIN_HOST_IN, err)) < 0)
		return r;
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = delete_tagged(nat, SL_CHAIN_HOST_NAT, cm, err)) < 0)
		return r;
	if (chain_empty(nat, SL_CHAIN_HOST_NAT) &&
	    (r = drop_jump(nat, "POSTROUTING", SL_CHAIN_HOST_NAT, err)) < 0)
		return r;
	return sl_ipt_commit(nat, err);
}

/*
 * Which VMs use a range's host rules: one empty file per VM in a directory
 * per range, so that taking a VM out costs the same with 1 VM or 256, and
 * rmdir() succeeding says the last one is gone. Caller holds "host".
 */
static int range_dir(const char *range, char *buf, size_t len)
{
	char r[SL_CIDR_STRLEN + 1];

	snprintf(r, sizeof(r), "%s", range);
	*strchrnul(r, '/') = '_';
	return sl_run_path(buf, len, "egress/%s", r);
}

/* range_dir() backwards: the range a directory under egress/ is for, or false. */
static bool dir_range(const char *d_name, char range[SL_CIDR_STRLEN + 1])
{
	if (d_name[0] == '.' || strlen(d_name) > SL_CIDR_STRLEN)
		return false;
	snprintf(range, SL_CIDR_STRLEN + 1, "%s", d_name);
	*strchrnul(range, '_') = '/';
	return true;
}

static int range_user_add(const char *name, const char *range, struct sl_error *err)
{
	char dir[4096], path[4096 + 32];
	int fd;

	if (range_dir(range, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/egress", sl_run_dir());
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	return sl_error(err, -errno, "cannot record %s as a user of %s: %s", name, range,
			strerror(errno));
}

/* Return: 1 when @name was the range's last user, 0 if others remain. */
static int range_user_del(const char *name, const char *range)
{
	char dir[4096], path[4096 + 32];

	if (range_dir(range, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (rmdir(dir) == 0 || errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/egress", sl_run_dir());
		rmdir(path);
		return 1;
	}
	return errno == ENOTEMPTY || errno == EEXIST ? 0 : -errno;
}

/*
 * The ranges @name is recorded as a user of, by apply, under the run dir
 * only root writes: what flush undoes comes from there, never from vm.env,
 * which a person may edit (SL_EGRESS_RANGE=0.0.0.0/0 there would strand the
 * real range's host rules). Call with the "host" lock held.
 */
static int user_ranges(const char *name, struct sl_cidr **v, size_t *n)
{
	_cleanup_closedir_ DIR *top = NULL;
	char path[4096];
	struct dirent *e;

	if (sl_run_path(path, sizeof(path), "egress") < 0)
		return -ENAMETOOLONG;
	top = opendir(path);
	while (top && (e = readdir(top))) {
		char user[4096 + 600], range[SL_CIDR_STRLEN + 1];
		struct sl_cidr c, *nv;

		if (!dir_range(e->d_name, range))
			continue;
		snprintf(user, sizeof(user), "%s/%s/%s", path, e->d_name, name);
		if (sl_cidr_parse(range, &c) < 0 || access(user, F_OK) < 0)
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		nv[(*n)++] = c;
	}
	return 0;
}

/**
 * sl_egress_prune_users() - forget the range users whose VM is gone
 * @gone: says whether a VM no longer exists
 * @sw: the sweep, told each such VM and its range
 * @err: why, when it fails
 *
 * A VM whose state was lost still counts as a user of its range, and would
 * keep the range's host rules after the last real VM left. The range's
 * directory goes with its last user; sl_egress_prune_host_rules() then
 * finds the rules of a range with no directory. Takes the "host" lock.
 *
 * Return: how many were (or would be) forgotten, or -errno
 */
int sl_egress_prune_users(bool (*gone)(const char *name), struct sl_sweep *sw,
			  struct sl_error *err)
{
	_cleanup_close_ int lock = sl_lock("host", err);
	_cleanup_closedir_ DIR *top = NULL;
	char path[4096];
	struct dirent *r;
	int found = 0;

	if (lock < 0)
		return lock;
	if (sl_run_path(path, sizeof(path), "egress") < 0)
		return -ENAMETOOLONG;
	top = opendir(path);
	while (top && (r = readdir(top))) {
		_cleanup_closedir_ DIR *d = NULL;
		char dir[4096 + 300], range[SL_CIDR_STRLEN + 1];
		struct dirent *u;

		if (!dir_range(r->d_name, range))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", path, r->d_name);
		d = opendir(dir);
		while (d && (u = readdir(d))) {
			if (u->d_name[0] == '.' || !gone(u->d_name))
				continue;
			sl_sweep_say(sw, "%s as a user of range %s (no state)", u->d_name, range);
			found++;
			if (!sw->dry)
				range_user_del(u->d_name, range);
		}
	}
	return found;
}

/**
 * sl_egress_prune_host_rules() - remove the host rules of ranges no VM uses
 * @sw: the sweep, told each range whose rules go
 *
 * Only this run dir's rules (their comment names it): other run dirs'
 * ranges are theirs. A range is used while its directory of users exists.
 * Takes the "host" lock.
 *
 * Return: how many ranges' rules went (or would)
 */
int sl_egress_prune_host_rules(struct sl_sweep *sw)
{
	_cleanup_close_ int lock = sl_lock("host", NULL);
	_cleanup_ipt_ struct xtc_handle *h = NULL;
	_cleanup_free_ struct sl_rule *rules = NULL;
	size_t nr = 0;
	int found = 0;

	if (lock < 0 || sl_ipt_open("filter", &h, NULL) < 0 ||
	    sl_ipt_list(h, SL_CHAIN_HOST_FWD, &rules, &nr) < 0)
		return 0;
	for (size_t i = 0; i < nr; i++) {
		struct sl_cidr range;
		char dir[4096], rs[SL_CIDR_STRLEN + 1];
		bool dup = false;

		if (!sl_egress_host_comment_range(rules[i].comment, &range))
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(rules[j].comment, rules[i].comment);
		if (dup || range_dir(sl_cidr_fmt(&range, rs), dir, sizeof(dir)) < 0 ||
		    access(dir, F_OK) == 0)
			continue;
		sl_sweep_say(sw, "host rules of range %s", rs);
		found++;
		if (!sw->dry)
			sl_egress_host_release(&range, NULL);
	}
	return found;
}

static void warn_forwarding(void)
{
	char v[8];

	if (sl_sysctl_read("net/ipv4/ip_forward", v, sizeof(v)) == 0 && strcmp(v, "1"))
		sl_warn("forwarding is off on this host (net.ipv4.ip_forward=0): VMs reach "
			"nothing until it is on (sysctl -w net.ipv4.ip_forward=1)");
}

/* SL_RATE_OUT and SL_RATE_IN: the caps as tc writes them, "0" for none. */
static int rate_keys(const struct sl_egress_cfg *c, struct sl_kv *out)
{
	char b[32];
	int r;

	if ((r = sl_kv_set(out, "SL_RATE_OUT", c->rate_out ? sl_rate_fmt(c->rate_out, b) : "0")) < 0)
		return r;
	return sl_kv_set(out, "SL_RATE_IN", c->rate_in ? sl_rate_fmt(c->rate_in, b) : "0");
}

/*
 * Before sl-egressd, each VM had a denial logger and a resolver of its own,
 * their pids in its state: an upgraded host may still run them, and they
 * hold the namespace's NFLOG group. They are ended, and their keys go.
 */
static void legacy_stop(const char *name, const struct sl_kv *st)
{
	static const char *const keys[][2] = { { "SL_DENYLOG_PID", "SL_DENYLOG_START" },
					       { "SL_RESOLVER_PID", "SL_RESOLVER_START" } };
	static const char *const gone[] = { "SL_DENYLOG_PID", "SL_DENYLOG_START",
					    "SL_RESOLVER_PID", "SL_RESOLVER_START", NULL };
	bool any = false;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *p = sl_kv_get(st, keys[i][0]), *t = sl_kv_get(st, keys[i][1]);
		unsigned long long start;
		int pid;

		if (!p)
			continue;
		any = true;
		pid = atoi(p);
		if (!t || sl_proc_start(pid, &start) < 0 || start != strtoull(t, NULL, 10))
			continue;
		kill(pid, SIGTERM);
		for (int w = 0; w < 100 && sl_proc_start(pid, NULL) == 0; w++)
			usleep(10000);
		if (sl_proc_start(pid, NULL) == 0)
			kill(pid, SIGKILL);
	}
	if (any)
		sl_state_update(name, NULL, gone, NULL);
}

/*
 * The run dir's daemon (lib/egressd.h) serves the VM: its denials, and its
 * resolver when the list holds names (or did). The state is written first:
 * the daemon reads the VM's lists from there.
 */
static int daemon_apply(const struct sl_egress_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	char gw[SL_IP_STRLEN];
	int r;

	if (c->dns_upstream && *c->dns_upstream &&
	    ((r = sl_kv_set(out, "SL_DNS_UPSTREAM", c->dns_upstream)) < 0 ||
	     (r = sl_kv_set(out, "SL_DNS", sl_ip_fmt(c->ip - 1, gw))) < 0))
		return r;
	if ((r = sl_state_update(c->name, out, NULL, err)) < 0)
		return r;
	{
		_cleanup_kv_ struct sl_kv st = { 0 };

		if (sl_state_load(c->name, &st, NULL) == 0)
			legacy_stop(c->name, &st);
	}
	return sl_egressd_serve(c->name, err);
}

/**
 * sl_egress_apply() - install a VM's egress rules and its range's host rules
 * @c: VM, addresses, allow and drop lists
 * @out: SL_ALLOW, SL_DROP, SL_EGRESS_RANGE; with a resolver SL_DNS (the
 *	 gateway) and SL_DNS_UPSTREAM
 * @err: why, when it fails
 *
 * Applying twice is the same as once: the namespace's chains are rewritten
 * whole, and the host's rules for the range are added only when missing.
 * Names in allow get an ip set each, made before the rules and removed
 * with the last entry naming them, and a resolver. An isolated VM's
 * dropped packets are kept, and its resolver run, by the run dir's daemon
 * (lib/egressd.h).
 *
 * Return: 0, -ENXIO (no namespace), or -errno with the error recorded
 */
int sl_egress_apply(const struct sl_egress_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *a = sl_entry_list_fmt(&c->allow);
	_cleanup_free_ char *d = sl_entry_list_fmt(&c->drop);
	char cr[SL_CIDR_STRLEN];
	int r;

	if (!a || !d)
		return -ENOMEM;
	r = sl_name_check(c->name, err);
	if (r < 0)
		return r;
	if (c->bridge && (c->allow.n || c->drop.n))
		return sl_error(err, -EINVAL,
				"%s: bridge mode has no egress rules: allow and drop need "
				"isolated mode",
				c->name);
	if (!c->bridge) {
		fd = sl_vm_netns_open(c->name, err);
		if (fd < 0)
			return fd;
		r = ns_apply(c, fd, err);
		if (r < 0)
			return r;
	}
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	r = host_apply(&c->range, c->bridge, err);
	if (r < 0)
		return r;
	warn_forwarding();
	if ((!c->bridge && ((r = sl_kv_set(out, "SL_ALLOW", a)) < 0 ||
			    (r = sl_kv_set(out, "SL_DROP", d)) < 0 ||
			    (r = rate_keys(c, out)) < 0)) ||
	    (r = sl_kv_set(out, "SL_EGRESS_RANGE", sl_cidr_fmt(&c->range, cr))) < 0)
		return r;
	/* Recorded under the host lock: flush counts a range's users by them. */
	r = range_user_add(c->name, sl_kv_get(out, "SL_EGRESS_RANGE"), err);
	if (r < 0)
		return r;
	sl_closep(&lock);
	lock = -1;
	if (c->bridge)
		return sl_state_update(c->name, out, NULL, err);
	return daemon_apply(c, out, err);
}

/* Flush: the caps off whichever of the VM's links are there (in the namespace). */
static int unshape(const struct sl_kv *st, struct sl_error *err)
{
	const char *devs[] = { sl_kv_get(st, "SL_VETH_NS") ?: SL_VETH_NS_DEFAULT,
			       sl_kv_get(st, "SL_TAP") ?: SL_TAP_DEFAULT };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	int r;

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		struct sl_link l;

		if (sl_link_get(sk, devs[i], &l) == 0 &&
		    (r = sl_shape_set(sk, devs[i], 0, err)) < 0)
			return r;
	}
	return 0;
}

/**
 * sl_egress_flush() - remove what sl_egress_apply() made for a VM
 * @name: VM
 * @err: why, when it fails
 *
 * The range's host rules go with the last VM of the range.
 *
 * Return: 0, also when nothing was there, or -errno
 */
int sl_egress_flush(const char *name, struct sl_error *err)
{
	static const char *const keys[] = { "SL_ALLOW", "SL_DROP", "SL_EGRESS_RANGE",
					    "SL_DNS_UPSTREAM", "SL_RESOLVER_PID",
					    "SL_RESOLVER_START", "SL_DENYLOG_PID",
					    "SL_DENYLOG_START", "SL_DNS_TTL_MIN",
					    "SL_DNS_TTL_MAX", "SL_RATE_OUT", "SL_RATE_IN", NULL };
	static const char *const dns_keys[] = { "SL_DNS", NULL };
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_free_ struct sl_cidr *ranges = NULL;
	_cleanup_close_ int lock = -1;
	size_t n = 0;
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	if ((r = sl_state_load(name, &st, err)) < 0 || (r = sl_egressd_forget(name, err)) < 0)
		return r;
	legacy_stop(name, &st);
	sl_denial_logs_remove(name);
	r = sl_owned_netns(name);
	if (r < 0)
		return r;
	if (r) {
		_cleanup_close_ int fd = sl_netns_open(name);
		_cleanup_netns_ int saved = -1;
		_cleanup_ipt_ struct xtc_handle *h = NULL;
		_cleanup_ipset_ struct sl_ipset *sets = NULL;

		if (fd < 0)
			return fd;
		saved = sl_netns_enter(fd);
		if (saved < 0)
			return saved;
		if ((r = sl_ipt_open("filter", &h, err)) < 0 ||
		    (r = drop_jump(h, "FORWARD", SL_CHAIN_NS_FWD, err)) < 0 ||
		    (r = drop_jump(h, "INPUT", SL_CHAIN_NS_IN, err)) < 0 ||
		    (r = sl_ipt_commit(h, err)) < 0 || (r = sl_ipset_open(&sets, err)) < 0 ||
		    (r = sets_prune(sets, NULL, err)) < 0 || (r = unshape(&st, err)) < 0)
			return r;
	}
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	r = user_ranges(name, &ranges, &n);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char range_s[SL_CIDR_STRLEN + 1];

		sl_cidr_fmt(&ranges[i], range_s);
		r = range_user_del(name, range_s);
		if (r > 0)
			r = sl_egress_host_release(&ranges[i], err);
	}
	if (r < 0)
		return r;
	/* The guest's resolver was its gateway: ours to take back. */
	if (sl_kv_get(&st, "SL_DNS_UPSTREAM") &&
	    (r = sl_state_update(name, NULL, dns_keys, err)) < 0)
		return r;
	return sl_state_update(name, NULL, keys, err);
}

/* As iptables-save does, with -c: the counters first, "[packets:bytes]". */
static void print_chain(FILE *f, const char *chain, const struct sl_rule *v, size_t n,
			const char *only_comment, bool stats)
{
	char line[512];

	for (size_t i = 0; i < n; i++) {
		if (only_comment && strcmp(v[i].comment, only_comment))
			continue;
		sl_rule_format(&v[i], chain, line, sizeof(line));
		if (stats)
			fprintf(f, "[%llu:%llu] ", (unsigned long long)v[i].pkts,
				(unsigned long long)v[i].bytes);
		fprintf(f, "%s\n", line);
	}
}

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
			print_chain(f, *b, v, n, SL_JUMP_COMMENT, stats);
	}
	for (const char *const *c = ours; *c; c++) {
		_cleanup_free_ struct sl_rule *v = NULL;
		size_t n;

		if (sl_ipt_list(h, *c, &v, &n) == 0)
			print_chain(f, *c, v, n, cm, stats);
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
 * show --json: one object, name, the lists (and the group's, when sl-up
 * launch overrode them), the policy, resolver, caps and rule lines.
 */
static int show_json(const struct sl_egress_cfg *c, FILE *f, bool stats, int fd,
		     struct sl_error *err)
{
	static const char *const fb[] = { "FORWARD", "INPUT", NULL };
	static const char *const nsc[] = { SL_CHAIN_NS_FWD, SL_CHAIN_NS_IN, NULL };
	static const char *const hc[] = { SL_CHAIN_HOST_FWD, SL_CHAIN_HOST_IN, NULL };
	static const char *const nb[] = { "POSTROUTING", NULL };
	static const char *const nc[] = { SL_CHAIN_HOST_NAT, NULL };
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
	static const char *const fb[] = { "FORWARD", "INPUT", NULL };
	static const char *const nsc[] = { SL_CHAIN_NS_FWD, SL_CHAIN_NS_IN, NULL };
	static const char *const hc[] = { SL_CHAIN_HOST_FWD, SL_CHAIN_HOST_IN, NULL };
	static const char *const nb[] = { "POSTROUTING", NULL };
	static const char *const nc[] = { SL_CHAIN_HOST_NAT, NULL };
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

static int check_chain(struct xtc_handle *h, const char *where, const char *chain,
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

static int check_jump(struct xtc_handle *h, const char *where, const char *from, const char *to)
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
	if ((r = ns_fwd_rules(c, &fwd, err)) < 0)
		return r;
	ns_in_rules(c, &in);
	if ((r = ruleset_status(&in, err)) < 0)
		return r;
	snprintf(where, sizeof(where), "namespace %s", c->name);
	if (!c->bridge) {
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_ipt_ struct xtc_handle *h = NULL;

		if (saved < 0)
			return saved;
		if ((r = sl_ipt_open("filter", &h, err)) < 0)
			return r;
		bad += check_jump(h, where, "FORWARD", SL_CHAIN_NS_FWD);
		bad += check_jump(h, where, "INPUT", SL_CHAIN_NS_IN);
		bad += check_chain(h, where, SL_CHAIN_NS_FWD, NULL, &fwd);
		bad += check_chain(h, where, SL_CHAIN_NS_IN, NULL, &in);
		bad += check_daemons(c, where, err);
		bad += check_caps(c, where);
	}
	sl_egress_host_comment(&c->range, cm, sizeof(cm));
	if ((r = host_rules(&c->range, c->bridge, &top, &from, &hin, &masq, err)) < 0)
		return r;
	for (size_t i = 0; i < from.n; i++)
		rule_copy(&top, &from.r[i]);
	if ((r = ruleset_status(&top, err)) < 0)
		return r;
	{
		_cleanup_ipt_ struct xtc_handle *h = NULL;
		_cleanup_ipt_ struct xtc_handle *n = NULL;
		char v[8];

		if ((r = sl_ipt_open("filter", &h, err)) < 0 ||
		    (r = sl_ipt_open("nat", &n, err)) < 0)
			return r;
		bad += check_jump(h, "host", "FORWARD", SL_CHAIN_HOST_FWD);
		bad += check_jump(h, "host", "INPUT", SL_CHAIN_HOST_IN);
		bad += check_jump(n, "host", "POSTROUTING", SL_CHAIN_HOST_NAT);
		bad += check_chain(h, "host", SL_CHAIN_HOST_FWD, cm, &top);
		bad += check_chain(h, "host", SL_CHAIN_HOST_IN, cm, &hin);
		bad += check_chain(n, "host", SL_CHAIN_HOST_NAT, cm, &masq);
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
		pol->resolved = in_set;
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
 * The order is sl_policy_build()'s, the one ns_fwd_rules() writes: what
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

/*
 * sl-cni's attachments (lib/cniplug.c): the workload is a container whose
 * root could rewrite any rule in its own namespace, so its policy lives in
 * the host namespace. SL-CNI holds what every attachment shares: replies,
 * and connections a runtime published (DNAT, the portmap plugin), may
 * reach one; nothing else new may, so not from another attachment either;
 * then one jump per attachment, matching its host end and its address, to
 * its policy's chain; what no jump took (a borrowed address, a host end
 * without policy) is logged as spoofed and dropped. A policy's chain,
 * SLP- and a hash of its entries, is shared by every attachment with that
 * policy: one rule per attachment, so that an ADD costs the same with 1 or
 * 256 of them (libiptc rewrites the whole table).
 */
static void attach_base_rules(struct ruleset *s, bool tail)
{
	struct sl_rule *r;

	if (!tail) {
		r = rule(s, "ACCEPT", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		r->ct_established = true;
		r = rule(s, "ACCEPT", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		r->ct_dnat = true;
		r = rule(s, "DROP", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		return;
	}
	{
		struct sl_rule m = { 0 };

		snprintf(m.comment, sizeof(m.comment), "%s", SL_JUMP_COMMENT);
		snprintf(m.in, sizeof(m.in), "%s", SL_ATTACH_IFACES);
		drop_logged(s, &m, "spoofed");
	}
}
#define ATTACH_BASE_RULES 3
#define POLICY_CHAIN_PREFIX "SLP-"
#define POLICY_COMMENT "sl-cni policy"

/* The chain of a policy: "SLP-" and 12 hex digits of a hash of its entries. */
static int policy_chain(const struct sl_egress_cfg *c, char buf[SL_ATTACH_CHAIN_LEN])
{
	_cleanup_free_ char *a = sl_entry_list_fmt(&c->allow);
	_cleanup_free_ char *d = sl_entry_list_fmt(&c->drop);
	_cleanup_free_ char *key = NULL;

	if (!a || !d || asprintf(&key, "allow %s\ndrop %s", a, d) < 0)
		return -ENOMEM;
	snprintf(buf, SL_ATTACH_CHAIN_LEN, POLICY_CHAIN_PREFIX "%012llx",
		 (unsigned long long)(sl_fnv1a64(key) & 0xffffffffffffull));
	return 0;
}

/* A policy's chain: replies, the entries, the rest; no interface: the jump chose. */
static int attach_policy_rules(const struct sl_egress_cfg *c, struct ruleset *s,
			       struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	struct sl_egress_cfg any = *c;
	struct sl_rule *r;
	int rc;

	if (sl_entry_list_names(&c->allow))
		return sl_error(err, -EINVAL, "%s: names in allow need a resolver, which "
				"sl-cni does not run: write addresses", c->name);
	rc = sl_policy_build(&c->allow, &c->drop, &pol);
	if (rc < 0)
		return rc;
	any.tap = "";
	r = rule(s, "ACCEPT", POLICY_COMMENT);
	r->ct_established = true;
	policy_rules(&any, &pol, POLICY_COMMENT, true, s);
	return ruleset_status(s, err);
}

/* The jump from SL-CNI to the policy: this host end, this address. */
static void attach_jump(const struct sl_egress_cfg *c, const char *chain, struct sl_rule *j)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->in, sizeof(j->in), "%s", c->tap);
	j->has_src = true;
	j->src = (struct sl_cidr){ c->ip, 32 };
	snprintf(j->target, sizeof(j->target), "%s", chain);
	ns_comment(c, j->comment, sizeof(j->comment));
}

static void attach_masq(const struct sl_egress_cfg *c, struct sl_rule *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "MASQUERADE");
	ns_comment(c, r->comment, sizeof(r->comment));
	r->has_src = true;
	r->src = (struct sl_cidr){ c->ip, 32 };
}

/*
 * SL-CNI and SL-CNI-INPUT with their shared rules, and the jumps to them:
 * FORWARD's just after SL-FORWARD's when isolated VMs are here too, so that
 * their "nothing new reaches a VM" comes first.
 */
static int attach_base(struct xtc_handle *h, struct sl_error *err)
{
	_cleanup_ruleset_ struct ruleset base = { 0 };
	int r, pos;

	if (!sl_ipt_chain_exists(h, SL_CHAIN_ATTACH_FWD)) {
		attach_base_rules(&base, false);
		attach_base_rules(&base, true);
		if ((r = ruleset_status(&base, err)) < 0 ||
		    (r = write_chain(h, SL_CHAIN_ATTACH_FWD, &base, err)) < 0)
			return r;
	}
	if (!sl_ipt_chain_exists(h, SL_CHAIN_ATTACH_IN)) {
		struct sl_rule in = { 0 };

		snprintf(in.in, sizeof(in.in), "%s", SL_ATTACH_IFACES);
		snprintf(in.target, sizeof(in.target), "DROP");
		snprintf(in.comment, sizeof(in.comment), "%s", SL_JUMP_COMMENT);
		if ((r = sl_ipt_chain_ensure(h, SL_CHAIN_ATTACH_IN, err)) < 0 ||
		    (r = sl_ipt_append(h, SL_CHAIN_ATTACH_IN, &in, err)) < 0)
			return r;
	}
	if ((r = ensure_jump(h, "INPUT", SL_CHAIN_ATTACH_IN, err)) < 0)
		return r;
	if (sl_ipt_find_jump(h, "FORWARD", SL_CHAIN_ATTACH_FWD) < 0) {
		struct sl_rule j = { 0 };

		pos = sl_ipt_find_jump(h, "FORWARD", SL_CHAIN_HOST_FWD);
		snprintf(j.target, sizeof(j.target), "%s", SL_CHAIN_ATTACH_FWD);
		snprintf(j.comment, sizeof(j.comment), "%s", SL_JUMP_COMMENT);
		if ((r = sl_ipt_insert(h, "FORWARD", &j, pos < 0 ? 0 : (unsigned)pos + 1, err)) < 0)
			return r;
	}
	return 0;
}

/**
 * sl_egress_attach_apply() - write an sl-cni attachment's policy on the host
 * @c: name (the attachment, "sc-" and 12 hex digits), tap (its host end),
 *     ip (the workload's address), allow and drop (no names)
 * @err: why, when it fails
 *
 * Takes the "host" lock: libiptc replaces a whole table at once, so two
 * writers at a time would lose one's rules.
 *
 * Return: 0, -EINVAL (a name in allow, too many entries), or -errno
 */
int sl_egress_attach_apply(const struct sl_egress_cfg *c, struct sl_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	_cleanup_ruleset_ struct ruleset pol = { 0 };
	char chain[SL_ATTACH_CHAIN_LEN], cm[SL_HOST_COMMENT_LEN];
	struct sl_rule j, masq;
	int r;

	if ((r = attach_policy_rules(c, &pol, err)) < 0 || (r = policy_chain(c, chain)) < 0)
		return r;
	attach_jump(c, chain, &j);
	attach_masq(c, &masq);
	ns_comment(c, cm, sizeof(cm));
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	if ((r = sl_ipt_open("filter", &f, err)) < 0 || (r = attach_base(f, err)) < 0 ||
	    (r = write_chain(f, chain, &pol, err)) < 0 ||
	    (r = delete_tagged(f, SL_CHAIN_ATTACH_FWD, cm, err)) < 0 ||
	    (r = sl_ipt_insert(f, SL_CHAIN_ATTACH_FWD, &j, ATTACH_BASE_RULES, err)) < 0 ||
	    (r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = ensure_jump(nat, "POSTROUTING", SL_CHAIN_ATTACH_NAT, err)) < 0 ||
	    (r = delete_tagged(nat, SL_CHAIN_ATTACH_NAT, cm, err)) < 0 ||
	    (r = sl_ipt_append(nat, SL_CHAIN_ATTACH_NAT, &masq, err)) < 0)
		return r;
	return sl_ipt_commit(nat, err);
}

/* Whether SL-CNI jumps to no attachment any more. */
static bool attach_none(struct xtc_handle *h)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n;

	if (sl_ipt_list(h, SL_CHAIN_ATTACH_FWD, &v, &n) < 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].comment, SL_JUMP_COMMENT))
			return false;
	return true;
}

/* Policy chains no attachment jumps to any more. */
static int policies_prune(struct xtc_handle *h, struct sl_error *err)
{
	char gone[64][SL_ATTACH_CHAIN_LEN];
	size_t n = 0;
	int r;

	for (const char *ch = iptc_first_chain(h); ch; ch = iptc_next_chain(h)) {
		unsigned refs = 0;

		if (strncmp(ch, POLICY_CHAIN_PREFIX, strlen(POLICY_CHAIN_PREFIX)) ||
		    !iptc_get_references(&refs, ch, h) || refs || n == ARRAY_SIZE(gone))
			continue;
		snprintf(gone[n++], SL_ATTACH_CHAIN_LEN, "%s", ch);
	}
	for (size_t i = 0; i < n; i++)
		if ((r = sl_ipt_chain_delete(h, gone[i], err)) < 0)
			return r;
	return 0;
}

/**
 * sl_egress_attach_remove() - remove an sl-cni attachment's rules
 * @name: the attachment
 * @err: why, when it fails
 *
 * Its policy's chain goes with the last attachment that used it, the
 * shared chains with the last attachment. Nothing there is no error.
 *
 * Return: 0 or -errno
 */
int sl_egress_attach_remove(const char *name, struct sl_error *err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	struct sl_egress_cfg c = { .name = name };
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	ns_comment(&c, cm, sizeof(cm));
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = delete_tagged(f, SL_CHAIN_ATTACH_FWD, cm, err)) < 0 ||
	    (r = policies_prune(f, err)) < 0)
		return r;
	if (sl_ipt_chain_exists(f, SL_CHAIN_ATTACH_FWD) && attach_none(f) &&
	    ((r = drop_jump(f, "FORWARD", SL_CHAIN_ATTACH_FWD, err)) < 0 ||
	     (r = drop_jump(f, "INPUT", SL_CHAIN_ATTACH_IN, err)) < 0 ||
	     (r = policies_prune(f, err)) < 0))
		return r;
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = delete_tagged(nat, SL_CHAIN_ATTACH_NAT, cm, err)) < 0)
		return r;
	if (chain_empty(nat, SL_CHAIN_ATTACH_NAT) &&
	    (r = drop_jump(nat, "POSTROUTING", SL_CHAIN_ATTACH_NAT, err)) < 0)
		return r;
	return sl_ipt_commit(nat, err);
}

/* SL-CNI begins with its shared rules and ends with them. */
static int check_attach_base(struct xtc_handle *f, const char *where)
{
	_cleanup_ruleset_ struct ruleset head = { 0 };
	_cleanup_ruleset_ struct ruleset tail = { 0 };
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n;
	bool ok;

	attach_base_rules(&head, false);
	attach_base_rules(&tail, true);
	if (head.err || tail.err || sl_ipt_list(f, SL_CHAIN_ATTACH_FWD, &v, &n) < 0 ||
	    n < head.n + tail.n)
		ok = false;
	else {
		ok = true;
		for (size_t i = 0; i < head.n; i++)
			ok &= sl_rule_equal(&v[i], &head.r[i]);
		for (size_t i = 0; i < tail.n; i++)
			ok &= sl_rule_equal(&v[n - tail.n + i], &tail.r[i]);
	}
	if (!ok)
		sl_info("check: %s: %s lacks its shared rules", where, SL_CHAIN_ATTACH_FWD);
	return !ok;
}

/**
 * sl_egress_attach_check() - compare an attachment's rules with what apply writes
 * @c: as for sl_egress_attach_apply()
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_egress_attach_check(const struct sl_egress_cfg *c, struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	_cleanup_ruleset_ struct ruleset pol = { 0 };
	_cleanup_ruleset_ struct ruleset jump = { 0 };
	_cleanup_ruleset_ struct ruleset masq = { 0 };
	char chain[SL_ATTACH_CHAIN_LEN], cm[SL_HOST_COMMENT_LEN];
	int r;

	if ((r = attach_policy_rules(c, &pol, err)) < 0 || (r = policy_chain(c, chain)) < 0)
		return r;
	attach_jump(c, chain, rule(&jump, "", ""));
	attach_masq(c, rule(&masq, "", ""));
	ns_comment(c, cm, sizeof(cm));
	if ((r = ruleset_status(&jump, err)) < 0 || (r = ruleset_status(&masq, err)) < 0 ||
	    (r = sl_ipt_open("filter", &f, err)) < 0 || (r = sl_ipt_open("nat", &nat, err)) < 0)
		return r;
	return check_chain(f, c->name, chain, NULL, &pol) +
	       check_chain(f, c->name, SL_CHAIN_ATTACH_FWD, cm, &jump) +
	       check_chain(nat, c->name, SL_CHAIN_ATTACH_NAT, cm, &masq) +
	       check_attach_base(f, c->name) +
	       check_jump(f, c->name, "FORWARD", SL_CHAIN_ATTACH_FWD) +
	       check_jump(f, c->name, "INPUT", SL_CHAIN_ATTACH_IN) +
	       check_jump(nat, c->name, "POSTROUTING", SL_CHAIN_ATTACH_NAT);
}
