/* SPDX-License-Identifier: MIT */
/* sl-egress rooms: sl-cni attachments' policy chains on the host. */
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

/*
 * sl-cni's attachments (lib/net/cni-plugin.c): the workload is a container whose
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
		r = eg_rule(s, "ACCEPT", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		r->ct_established = true;
		r = eg_rule(s, "ACCEPT", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		r->ct_dnat = true;
		r = eg_rule(s, "DROP", SL_JUMP_COMMENT);
		snprintf(r->out, sizeof(r->out), "%s", SL_ATTACH_IFACES);
		return;
	}
	{
		struct sl_rule m = { 0 };

		snprintf(m.comment, sizeof(m.comment), "%s", SL_JUMP_COMMENT);
		snprintf(m.in, sizeof(m.in), "%s", SL_ATTACH_IFACES);
		eg_drop_logged(s, &m, "spoofed");
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
	r = eg_rule(s, "ACCEPT", POLICY_COMMENT);
	r->ct_established = true;
	eg_policy_rules(&any, &pol, POLICY_COMMENT, true, s);
	return eg_ruleset_status(s, err);
}

/* The jump from SL-CNI to the policy: this host end, this address. */
static void attach_jump(const struct sl_egress_cfg *c, const char *chain, struct sl_rule *j)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->in, sizeof(j->in), "%s", c->tap);
	j->has_src = true;
	j->src = (struct sl_cidr){ c->ip, 32 };
	snprintf(j->target, sizeof(j->target), "%s", chain);
	eg_ns_comment(c, j->comment, sizeof(j->comment));
}

static void attach_masq(const struct sl_egress_cfg *c, struct sl_rule *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->target, sizeof(r->target), "MASQUERADE");
	eg_ns_comment(c, r->comment, sizeof(r->comment));
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
		if ((r = eg_ruleset_status(&base, err)) < 0 ||
		    (r = eg_write_chain(h, SL_CHAIN_ATTACH_FWD, &base, err)) < 0)
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
	if ((r = eg_ensure_jump(h, "INPUT", SL_CHAIN_ATTACH_IN, err)) < 0)
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
	eg_ns_comment(c, cm, sizeof(cm));
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	if ((r = sl_ipt_open("filter", &f, err)) < 0 || (r = attach_base(f, err)) < 0 ||
	    (r = eg_write_chain(f, chain, &pol, err)) < 0 ||
	    (r = eg_delete_tagged(f, SL_CHAIN_ATTACH_FWD, cm, err)) < 0 ||
	    (r = sl_ipt_insert(f, SL_CHAIN_ATTACH_FWD, &j, ATTACH_BASE_RULES, err)) < 0 ||
	    (r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = eg_ensure_jump(nat, "POSTROUTING", SL_CHAIN_ATTACH_NAT, err)) < 0 ||
	    (r = eg_delete_tagged(nat, SL_CHAIN_ATTACH_NAT, cm, err)) < 0 ||
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

	eg_ns_comment(&c, cm, sizeof(cm));
	lock = sl_lock("host", err);
	if (lock < 0)
		return lock;
	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = eg_delete_tagged(f, SL_CHAIN_ATTACH_FWD, cm, err)) < 0 ||
	    (r = policies_prune(f, err)) < 0)
		return r;
	if (sl_ipt_chain_exists(f, SL_CHAIN_ATTACH_FWD) && attach_none(f) &&
	    ((r = eg_drop_jump(f, "FORWARD", SL_CHAIN_ATTACH_FWD, err)) < 0 ||
	     (r = eg_drop_jump(f, "INPUT", SL_CHAIN_ATTACH_IN, err)) < 0 ||
	     (r = policies_prune(f, err)) < 0))
		return r;
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = eg_delete_tagged(nat, SL_CHAIN_ATTACH_NAT, cm, err)) < 0)
		return r;
	if (eg_chain_empty(nat, SL_CHAIN_ATTACH_NAT) &&
	    (r = eg_drop_jump(nat, "POSTROUTING", SL_CHAIN_ATTACH_NAT, err)) < 0)
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
	attach_jump(c, chain, eg_rule(&jump, "", ""));
	attach_masq(c, eg_rule(&masq, "", ""));
	eg_ns_comment(c, cm, sizeof(cm));
	if ((r = eg_ruleset_status(&jump, err)) < 0 || (r = eg_ruleset_status(&masq, err)) < 0 ||
	    (r = sl_ipt_open("filter", &f, err)) < 0 || (r = sl_ipt_open("nat", &nat, err)) < 0)
		return r;
	return eg_check_chain(f, c->name, chain, NULL, &pol) +
	       eg_check_chain(f, c->name, SL_CHAIN_ATTACH_FWD, cm, &jump) +
	       eg_check_chain(nat, c->name, SL_CHAIN_ATTACH_NAT, cm, &masq) +
	       check_attach_base(f, c->name) +
	       eg_check_jump(f, c->name, "FORWARD", SL_CHAIN_ATTACH_FWD) +
	       eg_check_jump(f, c->name, "INPUT", SL_CHAIN_ATTACH_IN) +
	       eg_check_jump(nat, c->name, "POSTROUTING", SL_CHAIN_ATTACH_NAT);
}
