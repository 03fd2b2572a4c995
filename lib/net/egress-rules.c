/* SPDX-License-Identifier: MIT */
/* sl-egress rooms: the rule sets that apply writes and check compares, and their writing. */
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

void eg_ruleset_free(struct ruleset *s)
{
	free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
}

int eg_ruleset_status(const struct ruleset *s, struct sl_error *err)
{
	if (s->err == -E2BIG)
		return sl_error(err, s->err,
				"too many rules (at most %d): fewer allow and drop entries",
				MAX_RULES);
	return s->err;
}

struct sl_rule *eg_rule(struct ruleset *s, const char *target, const char *comment)
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
void eg_rule_copy(struct ruleset *s, const struct sl_rule *r)
{
	struct sl_rule *d = eg_rule(s, "", "");

	*d = *r;
}

void eg_ns_comment(const struct sl_egress_cfg *c, char *buf, size_t len)
{
	snprintf(buf, len, "sl:%s", c->name);
}

/*
 * A drop that is logged: an NFLOG rule with @match's matches, rate-limited,
 * then the DROP. @match is a template; its target is set here.
 */
void eg_drop_logged(struct ruleset *s, const struct sl_rule *match, const char *why)
{
	struct sl_rule *r = eg_rule(s, "", "");

	*r = *match;
	snprintf(r->target, sizeof(r->target), "NFLOG");
	r->limit_per_s = SL_LOG_RATE;
	r->limit_burst = SL_LOG_BURST;
	r->nflog_group = SL_NFLOG_GROUP;
	snprintf(r->nflog_prefix, sizeof(r->nflog_prefix), "%s", why);
	r = eg_rule(s, "", "");
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
			*eg_rule(s, "", "") = m;
		} else {
			eg_drop_logged(s, &m, why);
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
		eg_drop_logged(s, &m, "dns");
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
	eg_drop_logged(s, &spoof, "spoofed");
}

/*
 * The entries most specific first (lib/policy/policy.c), so that the first rule a
 * packet matches is the entry that decides it; in a whitelist a last drop,
 * else, with @accept_rest, a last accept.
 */
void eg_policy_rules(const struct sl_egress_cfg *c, const struct sl_policy *pol,
			 const char *cm, bool accept_rest, struct ruleset *s)
{
	bool reversed = sl_mutant("order-reversed"); /* the test build's: most specific last */

	for (size_t i = 0; i < pol->n; i++)
		entry_rules(c, &pol->v[reversed ? pol->n - 1 - i : i], cm, s);
	if (!pol->default_allow) { /* allow only: a whitelist */
		struct sl_rule rest = { 0 };

		snprintf(rest.comment, sizeof(rest.comment), "%s", cm);
		snprintf(rest.in, sizeof(rest.in), "%s", c->tap);
		eg_drop_logged(s, &rest, "default");
	} else if (accept_rest) {
		struct sl_rule *r = eg_rule(s, "ACCEPT", cm);

		snprintf(r->in, sizeof(r->in), "%s", c->tap);
	}
}

/*
 * The VM's own rules (docs/DESIGN.md §2): anti-spoofing, replies, nothing new
 * from outside, then the entries. The namespace's tables hold nothing
 * else, so they are simply rewritten on every apply.
 */
int eg_ns_fwd_rules(const struct sl_egress_cfg *c, struct ruleset *s, struct sl_error *err)
{
	_cleanup_policy_ struct sl_policy pol = { 0 };
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;
	int rc = sl_policy_build(&c->allow, &c->drop, &pol);

	if (rc < 0)
		return rc;
	eg_ns_comment(c, cm, sizeof(cm));
	spoof_rules(c, cm, s);
	r = eg_rule(s, "ACCEPT", cm);
	r->ct_established = true;
	r = eg_rule(s, "DROP", cm); /* nothing new reaches the VM */
	snprintf(r->in, sizeof(r->in), "%s", c->veth);
	if (sl_entry_list_names(&c->allow))
		dns_elsewhere_rules(c, cm, s);
	eg_policy_rules(c, &pol, cm, false, s);
	return eg_ruleset_status(s, err);
}

/*
 * The namespace itself answers nobody but the VM's ping of its gateway
 * (the first thing an admin tries): ICMP echo from the TAP to the gateway's
 * address, the block's second address, one below the VM's; and, when it
 * has a resolver, the VM's DNS to it and the upstreams' replies.
 */
void eg_ns_in_rules(const struct sl_egress_cfg *c, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	eg_ns_comment(c, cm, sizeof(cm));
	r = eg_rule(s, "ACCEPT", cm);
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
			r = eg_rule(s, "ACCEPT", cm);
			snprintf(r->in, sizeof(r->in), "%s", c->tap);
			r->has_src = r->has_dst = true;
			r->src = (struct sl_cidr){ c->ip, 32 };
			r->dst = (struct sl_cidr){ c->ip - 1, 32 };
			r->proto = protos[i];
			r->dport_lo = r->dport_hi = SL_DNS_PORT;
		}
		r = eg_rule(s, "ACCEPT", cm);
		snprintf(r->in, sizeof(r->in), "%s", c->veth);
		r->ct_established = true;
	}
	r = eg_rule(s, "DROP", cm);
	snprintf(r->in, sizeof(r->in), "%s", c->tap);
	r = eg_rule(s, "DROP", cm);
	snprintf(r->in, sizeof(r->in), "%s", c->veth);
}

int eg_ensure_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err)
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

int eg_drop_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err)
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
 * What a mutant of the test build (lib/base/fault.h, t/mutants.sh) takes out of
 * a rule set of the namespace's (or with @host, the host's) before it is
 * written: its DROPs; the anti-spoofing rules; a name's set match, so that
 * the rule accepts any address. The installed tools have no mutants.
 */
void eg_mutate(struct ruleset *s, bool host)
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

int eg_write_chain(struct xtc_handle *h, const char *chain, const struct ruleset *s,
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
