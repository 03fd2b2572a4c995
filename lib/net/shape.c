/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <linux/if_ether.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "error.h"
#include "log.h"
#include "nl.h"
#include "shape.h"
#include "util.h"

/* How much a queue may hold before tbf drops: this long at the rate. */
#define LATENCY_US 50000
/* The bucket: 10 ms at the rate, and at least a few full frames. */
#define BURST_MIN 16384u

/**
 * sl_rate_parse() - a rate as tc(8) writes it
 * @s: a number and a unit: bit (or none), kbit, mbit, gbit (powers of
 *     1000, bits), or bps, kbps, mbps, gbps (bytes); "0" or "" for none
 * @bytes_per_s: result, 0 for none
 * @what: the option, for an error
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_rate_parse(const char *s, uint64_t *bytes_per_s, const char *what, struct sl_error *err)
{
	static const struct {
		const char *unit;
		uint64_t bits; /* bits in one unit */
	} units[] = { { "", 1 },	     { "bit", 1 },	   { "kbit", 1000 },
		      { "mbit", 1000000 },   { "gbit", 1000000000 }, { "bps", 8 },
		      { "kbps", 8000 },	     { "mbps", 8000000 },  { "gbps", 8000000000ull } };
	char *end;
	unsigned long long n;

	*bytes_per_s = 0;
	if (!s || !*s || !strcmp(s, "0"))
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno || end == s)
		goto bad;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].unit))
			continue;
		if (n > SL_RATE_MAX_BYTES * 8 / units[i].bits)
			goto bad;
		*bytes_per_s = n * units[i].bits / 8;
		if (n && *bytes_per_s < 1000) /* 8 kbit: below, tbf cannot hold a frame in time */
			goto bad;
		return 0;
	}
bad:
	return sl_error(err, -EINVAL,
			"bad %s '%s': want a rate such as 100mbit, 512kbit or 10mbps "
			"(8kbit to 16gbit; 0 for none)",
			what, s);
}

/**
 * sl_rate_fmt() - a rate as tc -s prints it, in bits a second
 */
char *sl_rate_fmt(uint64_t bytes_per_s, char buf[32])
{
	uint64_t b = bytes_per_s * 8;

	if (b && b % 1000000000 == 0)
		snprintf(buf, 32, "%llugbit", (unsigned long long)(b / 1000000000));
	else if (b && b % 1000000 == 0)
		snprintf(buf, 32, "%llumbit", (unsigned long long)(b / 1000000));
	else if (b && b % 1000 == 0)
		snprintf(buf, 32, "%llukbit", (unsigned long long)(b / 1000));
	else
		snprintf(buf, 32, "%llubit", (unsigned long long)b);
	return buf;
}

static void qdisc_putp(struct rtnl_qdisc **q)
{
	if (*q)
		rtnl_qdisc_put(*q);
}

/**
 * sl_shape_set() - cap what leaves a link, or lift the cap
 * @sk: rtnetlink socket of the link's namespace
 * @dev: link
 * @bytes_per_s: rate; 0 removes the root qdisc (the link's default returns)
 * @err: why, when it fails
 *
 * A tbf root qdisc, replaced whole: applying twice is the same as once.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_shape_set(struct nl_sock *sk, const char *dev, uint64_t bytes_per_s, struct sl_error *err)
{
	__attribute__((cleanup(qdisc_putp))) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	struct sl_link l;
	uint64_t burst = bytes_per_s / 100;
	int r;

	if (!q)
		return -ENOMEM;
	if ((r = sl_link_get(sk, dev, &l)) < 0)
		return sl_error(err, r, "cannot shape %s: %s", dev, strerror(-r));
	rtnl_tc_set_ifindex(TC_CAST(q), l.ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	if (!bytes_per_s) {
		r = rtnl_qdisc_delete(sk, q);
		/* none there (the default qdisc) is what was asked */
		if (r == -NLE_OBJ_NOTFOUND || r == -NLE_INVAL || r == -NLE_NOADDR)
			return 0;
		if (r < 0)
			return sl_error(err, sl_nl_err(r), "cannot remove the cap of %s: %s", dev,
					nl_geterror(r));
		return 0;
	}
	if ((r = rtnl_tc_set_kind(TC_CAST(q), "tbf")) < 0)
		return sl_nl_err(r);
	rtnl_qdisc_tbf_set_rate(q, (int)bytes_per_s, (int)(burst > BURST_MIN ? burst : BURST_MIN), 0);
	rtnl_qdisc_tbf_set_limit_by_latency(q, LATENCY_US);
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	if (r < 0) {
		sl_error(err, sl_nl_err(r), "cannot cap %s at %llu bytes/s: %s", dev,
			 (unsigned long long)bytes_per_s, nl_geterror(r));
		return sl_nl_err(r);
	}
	return 0;
}

/**
 * sl_shape_get() - the cap on what leaves a link
 * @bytes_per_s: result: the rate of its tbf root qdisc, 0 when it has none
 *
 * Return: 0 or -errno
 */
int sl_shape_get(struct nl_sock *sk, const char *dev, uint64_t *bytes_per_s)
{
	struct nl_cache *cache = NULL;
	struct rtnl_qdisc *q;
	struct sl_link l;
	int r;

	*bytes_per_s = 0;
	if ((r = sl_link_get(sk, dev, &l)) < 0)
		return r;
	if ((r = rtnl_qdisc_alloc_cache(sk, &cache)) < 0)
		return sl_nl_err(r);
	q = rtnl_qdisc_get_by_parent(cache, l.ifindex, TC_H_ROOT);
	if (q) {
		const char *kind = rtnl_tc_get_kind(TC_CAST(q));

		if (kind && !strcmp(kind, "tbf"))
			*bytes_per_s = (uint64_t)rtnl_qdisc_tbf_get_rate(q);
		rtnl_qdisc_put(q);
	}
	nl_cache_free(cache);
	return 0;
}

/* ffff:, the ingress qdisc's handle (libnl's TC_HANDLE shifts a signed int). */
#define INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0u)

static void cls_putp(struct rtnl_cls **c)
{
	if (*c)
		rtnl_cls_put(*c);
}

/**
 * sl_tc_redirect() - every frame that arrives on @from leaves by @to
 * @sk: rtnetlink socket of both links' namespace
 * @from: the link whose ingress is taken
 * @to: the link it is sent out of
 * @err: why, when it fails
 *
 * An ingress qdisc on @from and a u32 filter that matches all, with a
 * mirred egress redirect (this kernel has no matchall classifier): what
 * tc-redirect-tap does to join a VM's TAP to a CNI interface. Both ways
 * make a wire through the namespace that its own stack never sees.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_tc_redirect(struct nl_sock *sk, const char *from, const char *to, struct sl_error *err)
{
	__attribute__((cleanup(qdisc_putp))) struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	__attribute__((cleanup(cls_putp))) struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	struct sl_link f, t;
	int r;

	if (!q || !cls || !act) {
		if (act)
			rtnl_act_put(act);
		return -ENOMEM;
	}
	if ((r = sl_link_get(sk, from, &f)) < 0 || (r = sl_link_get(sk, to, &t)) < 0) {
		rtnl_act_put(act);
		return sl_error(err, r, "cannot redirect %s to %s: %s", from, to, strerror(-r));
	}
	rtnl_tc_set_ifindex(TC_CAST(q), f.ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	if ((r = rtnl_tc_set_kind(TC_CAST(q), "ingress")) < 0 ||
	    (r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE)) < 0) {
		rtnl_act_put(act);
		return sl_error(err, sl_nl_err(r), "cannot add an ingress qdisc to %s: %s", from,
				nl_geterror(r));
	}
	rtnl_tc_set_ifindex(TC_CAST(cls), f.ifindex);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, 1);
	rtnl_tc_set_kind(TC_CAST(act), "mirred");
	rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(act, (uint32_t)t.ifindex);
	if ((r = rtnl_tc_set_kind(TC_CAST(cls), "u32")) < 0 ||
	    (r = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) < 0 ||
	    (r = rtnl_u32_set_cls_terminal(cls)) < 0 || (r = rtnl_u32_add_action(cls, act)) < 0) {
		rtnl_act_put(act);
		return sl_error(err, sl_nl_err(r), "cannot make the redirect of %s: %s", from,
				nl_geterror(r));
	}
	rtnl_act_put(act); /* the classifier holds it now */
	r = rtnl_cls_add(sk, cls, NLM_F_CREATE | NLM_F_EXCL);
	if (r < 0 && r != -NLE_EXIST)
		return sl_error(err, sl_nl_err(r), "cannot redirect %s to %s: %s", from, to,
				nl_geterror(r));
	return 0;
}
