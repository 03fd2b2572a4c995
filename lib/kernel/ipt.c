/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_devgroup.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_set.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ipset.h"
#include "ipt.h"
#include "log.h"
#include "util.h"

#define EST_MASK (XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) | \
		  XT_CONNTRACK_STATE_BIT(IP_CT_RELATED))

static int ipt_error(const char *what, const char *table, struct sl_error *err)
{
	int e = errno ? errno : EIO;

	return sl_error(err, -e, "iptables %s%s%s: %s", what, table ? " " : "", table ? table : "",
			iptc_strerror(e));
}

/**
 * sl_ipt_open() - snapshot a legacy table of the current namespace
 * @table: "filter" or "nat"
 * @h: result
 * @err: why, when it fails
 *
 * libiptc works on a copy: nothing changes until sl_ipt_commit(), which
 * replaces the whole table at once, so a failure half way changes nothing.
 */
int sl_ipt_open(const char *table, struct xtc_handle **h, struct sl_error *err)
{
	errno = 0;
	*h = iptc_init(table);
	if (!*h)
		return ipt_error("open table", table, err);
	return 0;
}

void sl_ipt_closep(struct xtc_handle **h)
{
	if (*h)
		iptc_free(*h);
}

int sl_ipt_commit(struct xtc_handle *h, struct sl_error *err)
{
	errno = 0;
	if (!iptc_commit(h))
		return ipt_error("commit", NULL, err);
	return 0;
}

int sl_ipt_chain_exists(struct xtc_handle *h, const char *chain)
{
	return iptc_is_chain(chain, h) ? 1 : 0;
}

/**
 * sl_ipt_chain_ensure() - create a user chain unless it exists
 * @err: why, when it fails
 */
int sl_ipt_chain_ensure(struct xtc_handle *h, const char *chain, struct sl_error *err)
{
	if (iptc_is_chain(chain, h))
		return 0;
	errno = 0;
	if (!iptc_create_chain(chain, h))
		return ipt_error("create chain", chain, err);
	return 0;
}

/**
 * sl_ipt_chain_delete() - flush and delete a user chain; 0 if absent
 * @err: why, when it fails
 */
int sl_ipt_chain_delete(struct xtc_handle *h, const char *chain, struct sl_error *err)
{
	if (!iptc_is_chain(chain, h))
		return 0;
	errno = 0;
	if (!iptc_flush_entries(chain, h) || !iptc_delete_chain(chain, h))
		return ipt_error("delete chain", chain, err);
	return 0;
}

static void set_iface(char name[IFNAMSIZ], unsigned char mask[IFNAMSIZ], const char *v)
{
	size_t len = strlen(v);

	memcpy(name, v, len);
	/* "sc-+" matches every name that starts "sc-": the mask covers the prefix
	 * only, and the name keeps its '+', as iptables writes it. Otherwise an
	 * exact match: the name and its NUL. */
	if (len && v[len - 1] == '+')
		memset(mask, 0xff, len - 1);
	else
		memset(mask, 0xff, len + 1);
}

/* -m icmp --icmp-type N, any code. */
static size_t icmp_match(const struct sl_rule *r, unsigned char *p)
{
	size_t len = XT_ALIGN(sizeof(struct xt_entry_match)) + XT_ALIGN(sizeof(struct ipt_icmp));
	struct xt_entry_match *m = (struct xt_entry_match *)p;
	struct ipt_icmp *ic;

	if (!p)
		return len;
	m->u.match_size = (uint16_t)len;
	strcpy(m->u.user.name, "icmp");
	ic = (void *)m->data;
	ic->type = r->icmp_type;
	ic->code[1] = 0xff;
	return len;
}

/* The -m tcp / -m udp match of a rule with a protocol: destination ports. */
static size_t port_match(const struct sl_rule *r, unsigned char *p)
{
	bool tcp = r->proto == IPPROTO_TCP;
	size_t len = XT_ALIGN(sizeof(struct xt_entry_match)) +
		     (tcp ? XT_ALIGN(sizeof(struct xt_tcp)) : XT_ALIGN(sizeof(struct xt_udp)));
	struct xt_entry_match *m = (struct xt_entry_match *)p;

	if (!r->proto)
		return 0;
	if (r->proto == IPPROTO_ICMP)
		return icmp_match(r, p);
	if (!p)
		return len;
	m->u.match_size = (uint16_t)len;
	strcpy(m->u.user.name, tcp ? "tcp" : "udp");
	if (tcp) {
		struct xt_tcp *t = (void *)m->data;

		t->spts[1] = 0xffff;
		t->dpts[0] = r->dport_lo;
		t->dpts[1] = r->dport_hi;
	} else {
		struct xt_udp *u = (void *)m->data;

		u->spts[1] = 0xffff;
		u->dpts[0] = r->dport_lo;
		u->dpts[1] = r->dport_hi;
	}
	return len;
}

/* -m limit: at most limit_per_s a second, in bursts of limit_burst. */
static size_t limit_match(const struct sl_rule *r, unsigned char *p)
{
	size_t len = XT_ALIGN(sizeof(struct xt_entry_match)) + XT_ALIGN(sizeof(struct xt_rateinfo));
	struct xt_entry_match *m = (struct xt_entry_match *)p;
	struct xt_rateinfo *ri;

	if (!r->limit_per_s)
		return 0;
	if (!p)
		return len;
	m->u.match_size = (uint16_t)len;
	strcpy(m->u.user.name, "limit");
	ri = (void *)m->data;
	ri->avg = XT_LIMIT_SCALE / r->limit_per_s;
	ri->burst = r->limit_burst;
	return len;
}

/*
 * -m set --match-set SET dst: the kernel keeps the set's index, so the set
 * must exist before the rule, and stays while it is used. Revision 4, the
 * one iptables makes: iptables -S prints a rule only at the revision it
 * would use itself ("-m set [unsupported revision]" for revision 1, which
 * an admin could neither read nor iptables-save).
 */
static size_t set_match(const struct sl_rule *r, unsigned char *p, uint16_t index)
{
	size_t len = XT_ALIGN(sizeof(struct xt_entry_match)) +
		     XT_ALIGN(sizeof(struct xt_set_info_match_v4));
	struct xt_entry_match *m = (struct xt_entry_match *)p;
	struct xt_set_info_match_v4 *si;

	if (!r->set[0])
		return 0;
	if (!p)
		return len;
	m->u.match_size = (uint16_t)len;
	strcpy(m->u.user.name, "set");
	m->u.user.revision = 4;
	si = (void *)m->data;
	si->match_set.index = index;
	si->match_set.dim = 1;
	si->match_set.flags = 0; /* dst */
	si->packets.op = si->bytes.op = IPSET_COUNTER_NONE;
	si->flags = 0; /* counters updated, no --return-nomatch */
	return len;
}

/* -m devgroup --src-group G: the group of the interface the packet came in on. */
static size_t devgroup_match(const struct sl_rule *r, unsigned char *p)
{
	size_t len = XT_ALIGN(sizeof(struct xt_entry_match)) +
		     XT_ALIGN(sizeof(struct xt_devgroup_info));
	struct xt_entry_match *m = (struct xt_entry_match *)p;
	struct xt_devgroup_info *di;

	if (!r->in_group)
		return 0;
	if (!p)
		return len;
	m->u.match_size = (uint16_t)len;
	strcpy(m->u.user.name, "devgroup");
	di = (void *)m->data;
	di->flags = XT_DEVGROUP_MATCH_SRC;
	di->src_group = r->in_group;
	di->src_mask = 0xffffffffu;
	return len;
}

/* NULL: no memory, or (errno ENOENT) a set that does not exist, recorded. */
static struct ipt_entry *build(const struct sl_rule *r, struct sl_error *err)
{
	uint16_t set_index = 0;
	size_t pm = port_match(r, NULL), lm = limit_match(r, NULL), sm = set_match(r, NULL, 0);
	size_t gm = devgroup_match(r, NULL);
	size_t ct = r->ct_established || r->ct_dnat ? XT_ALIGN(sizeof(struct xt_entry_match)) +
						XT_ALIGN(sizeof(struct xt_conntrack_mtinfo3)) : 0;
	size_t cm = r->comment[0] ? XT_ALIGN(sizeof(struct xt_entry_match)) +
					    XT_ALIGN(sizeof(struct xt_comment_info)) : 0;
	bool masq = !strcmp(r->target, "MASQUERADE");
	bool nflog = !strcmp(r->target, "NFLOG");
	size_t tg = masq ? XT_ALIGN(sizeof(struct xt_entry_target)) +
				   XT_ALIGN(sizeof(struct nf_nat_ipv4_multi_range_compat))
		    : nflog ? XT_ALIGN(sizeof(struct xt_entry_target)) +
				      XT_ALIGN(sizeof(struct xt_nflog_info))
			    : XT_ALIGN(sizeof(struct xt_standard_target));
	size_t size = XT_ALIGN(sizeof(struct ipt_entry)) + pm + sm + gm + ct + lm + cm + tg;
	struct ipt_entry *e;
	unsigned char *p;
	struct xt_entry_target *t;

	if (r->set[0] && sl_ipset_index(r->set, &set_index, err) < 0) {
		errno = ENOENT;
		return NULL;
	}
	e = calloc(1, size);
	if (!e)
		return NULL;
	if (r->has_src) {
		e->ip.src.s_addr = htonl(r->src.addr);
		e->ip.smsk.s_addr = htonl(sl_cidr_mask(r->src.prefix));
		if (r->inv_src)
			e->ip.invflags |= IPT_INV_SRCIP;
	}
	if (r->has_dst) {
		e->ip.dst.s_addr = htonl(r->dst.addr);
		e->ip.dmsk.s_addr = htonl(sl_cidr_mask(r->dst.prefix));
		if (r->inv_dst)
			e->ip.invflags |= IPT_INV_DSTIP;
	}
	if (r->in[0])
		set_iface(e->ip.iniface, e->ip.iniface_mask, r->in);
	if (r->out[0])
		set_iface(e->ip.outiface, e->ip.outiface_mask, r->out);
	p = (unsigned char *)e + XT_ALIGN(sizeof(struct ipt_entry));
	e->ip.proto = r->proto;
	p += port_match(r, p);
	p += set_match(r, p, set_index);
	p += devgroup_match(r, p);
	if (ct) {
		struct xt_entry_match *m = (struct xt_entry_match *)p;
		struct xt_conntrack_mtinfo3 *info = (void *)m->data;

		m->u.match_size = (uint16_t)ct;
		strcpy(m->u.user.name, "conntrack");
		m->u.user.revision = 3;
		info->match_flags = XT_CONNTRACK_STATE;
		info->state_mask = r->ct_established ? EST_MASK : XT_CONNTRACK_STATE_DNAT;
		p += ct;
	}
	p += limit_match(r, p);
	if (cm) {
		struct xt_entry_match *m = (struct xt_entry_match *)p;

		m->u.match_size = (uint16_t)cm;
		strcpy(m->u.user.name, "comment");
		snprintf((char *)((struct xt_comment_info *)m->data)->comment,
			 XT_MAX_COMMENT_LEN, "%s", r->comment);
		p += cm;
	}
	e->target_offset = (uint16_t)(p - (unsigned char *)e);
	e->next_offset = (uint16_t)size;
	t = (struct xt_entry_target *)p;
	t->u.target_size = (uint16_t)tg;
	snprintf(t->u.user.name, sizeof(t->u.user.name), "%s", r->target);
	if (masq) {
		struct nf_nat_ipv4_multi_range_compat *mr = (void *)t->data;

		mr->rangesize = 1;
	}
	if (nflog) {
		struct xt_nflog_info *ni = (void *)t->data;

		ni->group = r->nflog_group;
		snprintf(ni->prefix, sizeof(ni->prefix), "%s", r->nflog_prefix);
	}
	return e;
}

/**
 * sl_ipt_insert() - insert a rule at a position (0 = first)
 * @err: why, when it fails
 */
int sl_ipt_insert(struct xtc_handle *h, const char *chain, const struct sl_rule *r, unsigned pos,
		  struct sl_error *err)
{
	_cleanup_free_ struct ipt_entry *e = build(r, err);

	if (!e)
		return errno == ENOENT ? -ENOENT : -ENOMEM;
	errno = 0;
	if (!iptc_insert_entry(chain, e, pos, h))
		return ipt_error("insert into", chain, err);
	return 0;
}

/**
 * sl_ipt_append() - append a rule to a chain
 * @err: why, when it fails
 */
int sl_ipt_append(struct xtc_handle *h, const char *chain, const struct sl_rule *r,
		  struct sl_error *err)
{
	_cleanup_free_ struct ipt_entry *e = build(r, err);

	if (!e)
		return errno == ENOENT ? -ENOENT : -ENOMEM;
	errno = 0;
	if (!iptc_append_entry(chain, e, h))
		return ipt_error("append to", chain, err);
	return 0;
}

int sl_ipt_delete_num(struct xtc_handle *h, const char *chain, unsigned num, struct sl_error *err)
{
	errno = 0;
	if (!iptc_delete_num_entry(chain, num, h))
		return ipt_error("delete from", chain, err);
	return 0;
}

static void get_iface(char out[IFNAMSIZ], const char *name, const unsigned char *mask,
		      bool *foreign)
{
	size_t len = strnlen(name, IFNAMSIZ);

	memcpy(out, name, len);
	out[len < IFNAMSIZ ? len : IFNAMSIZ - 1] = '\0';
	if (len && out[len - 1] == '+' && (len < 2 || mask[len - 2] == 0xff) && !mask[len - 1])
		return; /* a wildcard as set_iface() writes it */
	if (len && (len >= IFNAMSIZ || mask[len] != 0xff))
		*foreign = true; /* another wildcard */
}

/* The rule's addresses, interfaces and protocol; counters. */
static void parse_ip(const struct ipt_entry *e, struct sl_rule *r)
{
	r->pkts = e->counters.pcnt;
	r->bytes = e->counters.bcnt;
	if (e->ip.smsk.s_addr) {
		r->has_src = true;
		r->src.addr = ntohl(e->ip.src.s_addr);
		r->src.prefix = (unsigned)__builtin_popcount(e->ip.smsk.s_addr);
		r->inv_src = e->ip.invflags & IPT_INV_SRCIP;
	}
	if (e->ip.dmsk.s_addr) {
		r->has_dst = true;
		r->dst.addr = ntohl(e->ip.dst.s_addr);
		r->dst.prefix = (unsigned)__builtin_popcount(e->ip.dmsk.s_addr);
		r->inv_dst = e->ip.invflags & IPT_INV_DSTIP;
	}
	get_iface(r->in, e->ip.iniface, e->ip.iniface_mask, &r->foreign);
	get_iface(r->out, e->ip.outiface, e->ip.outiface_mask, &r->foreign);
	if ((e->ip.proto && e->ip.proto != IPPROTO_TCP && e->ip.proto != IPPROTO_UDP &&
	     e->ip.proto != IPPROTO_ICMP) ||
	    (e->ip.invflags & ~(IPT_INV_SRCIP | IPT_INV_DSTIP)) || e->ip.flags)
		r->foreign = true;
	r->proto = (uint8_t)e->ip.proto;
}

/* One match: what of it sltools writes, or the rule is foreign. */
static void parse_match(const struct xt_entry_match *m, struct sl_rule *r)
{
	if (!strcmp(m->u.user.name, "conntrack") && m->u.user.revision == 3) {
		const struct xt_conntrack_mtinfo3 *i = (const void *)m->data;

		if (i->match_flags == XT_CONNTRACK_STATE && !i->invert_flags &&
		    i->state_mask == EST_MASK)
			r->ct_established = true;
		else if (i->match_flags == XT_CONNTRACK_STATE && !i->invert_flags &&
			 i->state_mask == XT_CONNTRACK_STATE_DNAT)
			r->ct_dnat = true;
		else
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "tcp") && r->proto == IPPROTO_TCP) {
		const struct xt_tcp *t = (const void *)m->data;

		r->dport_lo = t->dpts[0];
		r->dport_hi = t->dpts[1];
		if (t->spts[0] || t->spts[1] != 0xffff || t->option || t->flg_mask ||
		    t->invflags)
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "udp") && r->proto == IPPROTO_UDP) {
		const struct xt_udp *u = (const void *)m->data;

		r->dport_lo = u->dpts[0];
		r->dport_hi = u->dpts[1];
		if (u->spts[0] || u->spts[1] != 0xffff || u->invflags)
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "icmp") && r->proto == IPPROTO_ICMP) {
		const struct ipt_icmp *ic = (const void *)m->data;

		r->icmp_type = ic->type;
		if (ic->code[0] || ic->code[1] != 0xff || ic->invflags)
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "set") &&
		   (m->u.user.revision == 4 || m->u.user.revision == 1)) {
		/* (1: what sltools made before; match_set leads both) */
		const struct xt_set_info_match_v1 *si = (const void *)m->data;

		const struct xt_set_info_match_v4 *s4 = (const void *)m->data;

		if (si->match_set.dim != 1 || si->match_set.flags ||
		    sl_ipset_name_of(si->match_set.index, r->set, sizeof(r->set)) < 0 ||
		    (m->u.user.revision == 4 &&
		     (s4->packets.op != IPSET_COUNTER_NONE ||
		      s4->bytes.op != IPSET_COUNTER_NONE || s4->flags)))
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "devgroup") && m->u.user.revision == 0) {
		const struct xt_devgroup_info *di = (const void *)m->data;

		r->in_group = di->src_group;
		if (di->flags != XT_DEVGROUP_MATCH_SRC || di->src_mask != 0xffffffffu ||
		    !di->src_group)
			r->foreign = true;
	} else if (!strcmp(m->u.user.name, "limit")) {
		const struct xt_rateinfo *ri = (const void *)m->data;

		r->limit_per_s = ri->avg ? XT_LIMIT_SCALE / ri->avg : 0;
		r->limit_burst = ri->burst;
		if (!ri->avg || XT_LIMIT_SCALE % ri->avg)
			r->foreign = true; /* not a whole number a second: not ours */
	} else if (!strcmp(m->u.user.name, "comment")) {
		const struct xt_comment_info *c = (const void *)m->data;

		snprintf(r->comment, sizeof(r->comment), "%.*s",
			 (int)XT_MAX_COMMENT_LEN - 1, (const char *)c->comment);
	} else {
		r->foreign = true;
	}
}

/* The target, with an NFLOG's group and prefix. */
static void parse_target(struct xtc_handle *h, const struct ipt_entry *e, struct sl_rule *r)
{
	const char *tgt = iptc_get_target(e, h);

	snprintf(r->target, sizeof(r->target), "%s", tgt ? tgt : "");
	if (!strcmp(r->target, "NFLOG")) {
		const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);
		const struct xt_nflog_info *ni = (const void *)t->data;

		r->nflog_group = ni->group;
		snprintf(r->nflog_prefix, sizeof(r->nflog_prefix), "%.*s",
			 (int)sizeof(ni->prefix) - 1, ni->prefix);
		if (ni->flags || ni->threshold)
			r->foreign = true;
	}
}

static void parse(struct xtc_handle *h, const struct ipt_entry *e, struct sl_rule *r)
{
	const unsigned char *p = (const unsigned char *)e->elems;
	const unsigned char *end = (const unsigned char *)e + e->target_offset;

	memset(r, 0, sizeof(*r));
	parse_ip(e, r);
	while (p < end) {
		const struct xt_entry_match *m = (const void *)p;

		if (m->u.match_size < sizeof(*m))
			break;
		parse_match(m, r);
		p += m->u.match_size;
	}
	parse_target(h, e, r);
}

/**
 * sl_ipt_list() - the rules of a chain, in order
 * @h: table
 * @chain: chain
 * @rules: result, free()
 * @n: count
 *
 * Return: 0, -ENOENT if the chain does not exist, or -ENOMEM
 */
int sl_ipt_list(struct xtc_handle *h, const char *chain, struct sl_rule **rules,
		size_t *n)
{
	const struct ipt_entry *e;
	struct sl_rule *v = NULL;
	size_t cnt = 0;

	*rules = NULL;
	*n = 0;
	if (!iptc_is_chain(chain, h))
		return -ENOENT;
	for (e = iptc_first_rule(chain, h); e; e = iptc_next_rule(e, h)) {
		struct sl_rule *nv = realloc(v, (cnt + 1) * sizeof(*v));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		parse(h, e, &v[cnt++]);
	}
	*rules = v;
	*n = cnt;
	return 0;
}

/**
 * sl_ipt_find_jump() - position of the first plain jump to a target
 *
 * Return: 0-based position, or -ENOENT
 */
int sl_ipt_find_jump(struct xtc_handle *h, const char *chain, const char *target)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n;
	int r = sl_ipt_list(h, chain, &v, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct sl_rule plain = { 0 };

		snprintf(plain.target, sizeof(plain.target), "%s", target);
		snprintf(plain.comment, sizeof(plain.comment), "%s", v[i].comment);
		if (sl_rule_equal(&v[i], &plain))
			return (int)i;
	}
	return -ENOENT;
}

bool sl_rule_equal(const struct sl_rule *a, const struct sl_rule *b)
{
	if (a->foreign || b->foreign)
		return false;
	if (a->has_src != b->has_src || a->has_dst != b->has_dst)
		return false;
	if (a->has_src && (a->inv_src != b->inv_src || a->src.addr != b->src.addr ||
			   a->src.prefix != b->src.prefix))
		return false;
	if (a->has_dst && (a->inv_dst != b->inv_dst || a->dst.addr != b->dst.addr ||
			   a->dst.prefix != b->dst.prefix))
		return false;
	if (a->proto != b->proto ||
	    (a->proto == IPPROTO_ICMP && a->icmp_type != b->icmp_type) ||
	    (a->proto && a->proto != IPPROTO_ICMP &&
	     (a->dport_lo != b->dport_lo || a->dport_hi != b->dport_hi)))
		return false;
	if (strcmp(a->set, b->set) || a->in_group != b->in_group)
		return false;
	if (a->limit_per_s != b->limit_per_s ||
	    (a->limit_per_s && a->limit_burst != b->limit_burst) ||
	    a->nflog_group != b->nflog_group || strcmp(a->nflog_prefix, b->nflog_prefix))
		return false;
	return !strcmp(a->in, b->in) && !strcmp(a->out, b->out) &&
	       a->ct_established == b->ct_established && a->ct_dnat == b->ct_dnat &&
	       !strcmp(a->comment, b->comment) && !strcmp(a->target, b->target);
}

/* The quote iptables-save puts around a string: none when plain alphanumeric. */
static const char *quote(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return "\"";
	return "";
}

/**
 * sl_rule_format() - a rule as iptables-save writes it
 * @r: rule
 * @chain: its chain
 * @buf: result
 * @len: size of @buf
 *
 * Matches the order iptables-legacy -S prints, so that the output of
 * `sl-egress show` can be compared with it by eye or by diff.
 */
int sl_rule_format(const struct sl_rule *r, const char *chain, char *buf, size_t len)
{
	char c[SL_CIDR_STRLEN];
	size_t o = 0;

#define PUT(...)                                                                  \
	do {                                                                      \
		int n_ = snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__);   \
		if (n_ > 0)                                                       \
			o += (size_t)n_;                                          \
	} while (0)

	PUT("-A %s", chain);
	if (r->has_src)
		PUT("%s -s %s", r->inv_src ? " !" : "", sl_cidr_fmt(&r->src, c));
	if (r->has_dst)
		PUT("%s -d %s", r->inv_dst ? " !" : "", sl_cidr_fmt(&r->dst, c));
	if (r->in[0])
		PUT(" -i %s", r->in);
	if (r->out[0])
		PUT(" -o %s", r->out);
	if (r->proto == IPPROTO_ICMP) {
		PUT(" -p icmp -m icmp --icmp-type %u", r->icmp_type);
	} else if (r->proto) {
		const char *pn = r->proto == IPPROTO_TCP ? "tcp" : "udp";

		PUT(" -p %s -m %s", pn, pn);
		if (r->dport_lo == r->dport_hi)
			PUT(" --dport %u", r->dport_lo);
		else if (r->dport_lo || r->dport_hi != 0xffff)
			PUT(" --dport %u:%u", r->dport_lo, r->dport_hi);
	}
	if (r->set[0])
		PUT(" -m set --match-set %s dst", r->set);
	if (r->in_group)
		PUT(" -m devgroup --src-group 0x%x", r->in_group);
	if (r->ct_established)
		PUT(" -m conntrack --ctstate RELATED,ESTABLISHED");
	if (r->ct_dnat)
		PUT(" -m conntrack --ctstate DNAT");
	if (r->limit_per_s) {
		PUT(" -m limit --limit %u/sec", r->limit_per_s);
		if (r->limit_burst != 5) /* iptables says the burst only when not its default */
			PUT(" --limit-burst %u", r->limit_burst);
	}
	if (r->comment[0])
		PUT(" -m comment --comment %s%s%s", quote(r->comment), r->comment,
		    quote(r->comment));
	if (r->foreign)
		PUT(" (other matches)");
	if (r->target[0])
		PUT(" -j %s", r->target);
	if (!strcmp(r->target, "NFLOG")) {
		if (r->nflog_prefix[0])
			PUT(" --nflog-prefix %s%s%s", quote(r->nflog_prefix), r->nflog_prefix,
			    quote(r->nflog_prefix));
		if (r->nflog_group)
			PUT(" --nflog-group %u", r->nflog_group);
	}
#undef PUT
	return o < len ? 0 : -ENOSPC;
}
