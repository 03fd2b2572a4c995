/* SPDX-License-Identifier: MIT */
/* sl-egress rooms: apply and flush of a VM's policy. */
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

/* Whether a name entry's ip set holds an address now (sl_policy.resolved). */
bool eg_in_set(const struct sl_entry *e, uint32_t addr, void *arg)
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

	pol.resolved = eg_in_set;
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
	if ((r = eg_ns_fwd_rules(c, &fwd, err)) < 0)
		return r;
	eg_ns_in_rules(c, &in);
	eg_mutate(&fwd, false);
	eg_mutate(&in, false);
	if ((r = eg_ruleset_status(&in, err)) < 0 || (r = shape(c, err)) < 0 ||
	    (r = sl_ipset_open(&sets, err)) < 0 || (r = sets_create(sets, &c->allow, err)) < 0 ||
	    (r = sl_ipt_open("filter", &h, err)) < 0 ||
	    (r = eg_write_chain(h, SL_CHAIN_NS_FWD, &fwd, err)) < 0 ||
	    (r = eg_write_chain(h, SL_CHAIN_NS_IN, &in, err)) < 0 ||
	    (r = eg_ensure_jump(h, "FORWARD", SL_CHAIN_NS_FWD, err)) < 0 ||
	    (r = eg_ensure_jump(h, "INPUT", SL_CHAIN_NS_IN, err)) < 0 ||
	    (r = sl_ipt_commit(h, err)) < 0 || (r = sets_prune(sets, &c->allow, err)) < 0)
		return r;
	return cut_dropped_flows(c, sets, err);
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
 * The run dir's daemon (lib/net/egressd.h) serves the VM: its denials, and its
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
 * (lib/net/egressd.h).
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
	r = eg_host_apply(&c->range, c->bridge, err);
	if (r < 0)
		return r;
	warn_forwarding();
	if ((!c->bridge && ((r = sl_kv_set(out, "SL_ALLOW", a)) < 0 ||
			    (r = sl_kv_set(out, "SL_DROP", d)) < 0 ||
			    (r = rate_keys(c, out)) < 0)) ||
	    (r = sl_kv_set(out, "SL_EGRESS_RANGE", sl_cidr_fmt(&c->range, cr))) < 0)
		return r;
	/* Recorded under the host lock: flush counts a range's users by them. */
	r = eg_range_user_add(c->name, sl_kv_get(out, "SL_EGRESS_RANGE"), err);
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
		    (r = eg_drop_jump(h, "FORWARD", SL_CHAIN_NS_FWD, err)) < 0 ||
		    (r = eg_drop_jump(h, "INPUT", SL_CHAIN_NS_IN, err)) < 0 ||
		    (r = sl_ipt_commit(h, err)) < 0 || (r = sl_ipset_open(&sets, err)) < 0 ||
		    (r = sets_prune(sets, NULL, err)) < 0 || (r = unshape(&st, err)) < 0)
			return r;
	}
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	r = eg_user_ranges(name, &ranges, &n);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char range_s[SL_CIDR_STRLEN + 1];

		sl_cidr_fmt(&ranges[i], range_s);
		r = eg_range_user_del(name, range_s);
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
void eg_print_chain(FILE *f, const char *chain, const struct sl_rule *v, size_t n,
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
