/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "cidr.h"
#include "dns.h"
#include "error.h"
#include "log.h"
#include "util.h"

/* How many CNAMEs an answer may chain before the name it answers. */
#define CNAME_DEPTH 16

static void pkt_freep(ldns_pkt **p)
{
	if (*p)
		ldns_pkt_free(*p);
}
#define _cleanup_pkt_ __attribute__((cleanup(pkt_freep)))

/* @p on the wire into @out: its length, or -ENOMEM, or -E2BIG (@out untouched). */
static int pkt_out(const ldns_pkt *p, uint8_t *out, size_t cap)
{
	uint8_t *wire = NULL;
	size_t len = 0;

	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK)
		return -ENOMEM;
	if (len > cap || len > INT_MAX) {
		free(wire);
		return -E2BIG;
	}
	memcpy(out, wire, len);
	free(wire);
	return (int)len;
}

/*
 * A domain name as the policy compares it: lower case, no final dot. A
 * name with bytes ldns must escape ("\\046") keeps the escape and so
 * matches no entry, which allows only letters, digits, '-' and '_'.
 */
static int dname_str(const ldns_rdf *rdf, char out[SL_DNS_NAME_MAX + 2])
{
	char *s;
	size_t len;

	if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME || !(s = ldns_rdf2str(rdf)))
		return -EINVAL;
	len = strlen(s);
	if (len && s[len - 1] == '.')
		s[--len] = '\0';
	if (len > SL_DNS_NAME_MAX + 1) {
		free(s);
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	free(s);
	return 0;
}

/**
 * sl_dns_query_parse() - what a guest asks
 * @msg: a DNS message from the guest, any bytes
 * @n: its length
 * @q: result: id, type and name of its one question
 *
 * Only a standard query (QR 0, opcode QUERY) of one question of class IN
 * is a query; anything else gets no answer at all.
 *
 * Return: 0, or -EINVAL
 */
int sl_dns_query_parse(const uint8_t *msg, size_t n, struct sl_dns_query *q)
{
	_cleanup_pkt_ ldns_pkt *p = NULL;
	const ldns_rr *rr;

	memset(q, 0, sizeof(*q));
	if (n < 12 || n > SL_DNS_MSG_MAX || ldns_wire2pkt(&p, msg, n) != LDNS_STATUS_OK)
		return -EINVAL;
	if (ldns_pkt_qr(p) || ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY ||
	    ldns_pkt_qdcount(p) != 1 || !(rr = ldns_rr_list_rr(ldns_pkt_question(p), 0)) ||
	    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		return -EINVAL;
	if (dname_str(ldns_rr_owner(rr), q->name) < 0)
		return -EINVAL;
	/* the first name of a message cannot be compressed: its size on the wire */
	q->qend = (uint16_t)(12 + ldns_rdf_size(ldns_rr_owner(rr)) + 4);
	if (q->qend > n)
		return -EINVAL;
	q->id = ldns_pkt_id(p);
	q->qtype = (uint16_t)ldns_rr_get_type(rr);
	return 0;
}

/**
 * sl_dns_reply() - the resolver's own answer to a query: no records
 * @query: the guest's query (one sl_dns_query_parse() took)
 * @n: its length
 * @rcode: SL_DNS_RCODE_REFUSED (a name not allowed), _NOERROR (an AAAA:
 *	   no data, isolated mode has no IPv6) or _SERVFAIL (no upstream answered)
 * @out: the reply
 * @cap: room in @out
 *
 * Return: the reply's length, or -EINVAL (not a query), -E2BIG (no room)
 */
int sl_dns_reply(const uint8_t *query, size_t n, unsigned rcode, uint8_t *out, size_t cap)
{
	_cleanup_pkt_ ldns_pkt *q = NULL;
	_cleanup_pkt_ ldns_pkt *r = NULL;
	const ldns_rr *rr;
	ldns_rr *copy;

	if (n > SL_DNS_MSG_MAX || ldns_wire2pkt(&q, query, n) != LDNS_STATUS_OK ||
	    ldns_pkt_qdcount(q) != 1 || !(rr = ldns_rr_list_rr(ldns_pkt_question(q), 0)))
		return -EINVAL;
	if (!(r = ldns_pkt_new()) || !(copy = ldns_rr_clone(rr)))
		return -ENOMEM;
	ldns_pkt_set_id(r, ldns_pkt_id(q));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
	ldns_pkt_set_rd(r, ldns_pkt_rd(q));
	ldns_pkt_set_ra(r, true);
	ldns_pkt_set_rcode(r, (uint8_t)rcode);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, copy);
	return pkt_out(r, out, cap);
}

/* Whether @name is one of the @n names of the chain so far. */
static bool in_chain(char chain[][SL_DNS_NAME_MAX + 2], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(chain[i], name))
			return true;
	return false;
}

/**
 * sl_dns_answer_addrs() - the addresses an upstream answer gives a query
 * @msg: the upstream's reply, any bytes
 * @n: its length
 * @q: the query it must answer (id, name and type checked)
 * @addrs: result: A records of the name or of a name its CNAMEs lead to,
 *	   with their TTLs
 * @max: room in @addrs
 *
 * Records of other names (additional data an upstream may add, or lies)
 * give nothing: only the chain that starts at the name asked for.
 *
 * Return: how many addresses, or -EINVAL (not the answer to @q)
 */
int sl_dns_answer_addrs(const uint8_t *msg, size_t n, const struct sl_dns_query *q,
			struct sl_dns_addr *addrs, size_t max)
{
	_cleanup_pkt_ ldns_pkt *p = NULL;
	char chain[CNAME_DEPTH + 1][SL_DNS_NAME_MAX + 2];
	struct sl_dns_query asked;
	const ldns_rr_list *an;
	size_t nchain = 1, k = 0;
	bool grew = true;

	if (n < 12 || n > SL_DNS_MSG_MAX || ldns_wire2pkt(&p, msg, n) != LDNS_STATUS_OK ||
	    !ldns_pkt_qr(p) || ldns_pkt_id(p) != q->id || ldns_pkt_qdcount(p) != 1)
		return -EINVAL;
	{
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);

		if (!rr || dname_str(ldns_rr_owner(rr), asked.name) < 0 ||
		    strcmp(asked.name, q->name) || ldns_rr_get_type(rr) != q->qtype)
			return -EINVAL;
	}
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
		return 0;
	an = ldns_pkt_answer(p);
	snprintf(chain[0], sizeof(chain[0]), "%s", q->name);
	/* CNAMEs in any order: follow until the chain stops growing. */
	while (grew && nchain <= CNAME_DEPTH) {
		grew = false;
		for (size_t i = 0; i < ldns_rr_list_rr_count(an) && nchain <= CNAME_DEPTH; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			char owner[SL_DNS_NAME_MAX + 2], target[SL_DNS_NAME_MAX + 2];

			if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
			    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    dname_str(ldns_rr_owner(rr), owner) < 0 ||
			    !in_chain(chain, nchain, owner) ||
			    dname_str(ldns_rr_rdf(rr, 0), target) < 0 ||
			    in_chain(chain, nchain, target))
				continue;
			memcpy(chain[nchain++], target, sizeof(target));
			grew = true;
		}
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(an) && k < max; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		const ldns_rdf *a = ldns_rr_rdf(rr, 0);
		char owner[SL_DNS_NAME_MAX + 2];
		const uint8_t *b;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !a ||
		    ldns_rdf_get_type(a) != LDNS_RDF_TYPE_A || ldns_rdf_size(a) != 4 ||
		    dname_str(ldns_rr_owner(rr), owner) < 0 || !in_chain(chain, nchain, owner))
			continue;
		b = ldns_rdf_data(a);
		addrs[k].addr = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		addrs[k].ttl = ldns_rr_ttl(rr);
		k++;
	}
	return (int)k;
}

/* Every record's TTL through @f (the OPT record is not one: ldns keeps it apart). */
static int rewrite_ttls(uint8_t *msg, size_t *n, size_t cap, uint32_t (*f)(uint32_t, unsigned),
			unsigned arg)
{
	_cleanup_pkt_ ldns_pkt *p = NULL;
	ldns_rr_list *lists[3];
	bool changed = false;
	int len;

	if (*n > SL_DNS_MSG_MAX || ldns_wire2pkt(&p, msg, *n) != LDNS_STATUS_OK)
		return -EINVAL;
	lists[0] = ldns_pkt_answer(p);
	lists[1] = ldns_pkt_authority(p);
	lists[2] = ldns_pkt_additional(p);
	for (size_t s = 0; s < ARRAY_SIZE(lists); s++)
		for (size_t i = 0; lists[s] && i < ldns_rr_list_rr_count(lists[s]); i++) {
			ldns_rr *rr = ldns_rr_list_rr(lists[s], i);
			uint32_t ttl = f(ldns_rr_ttl(rr), arg);

			if (ttl != ldns_rr_ttl(rr)) {
				ldns_rr_set_ttl(rr, ttl);
				changed = true;
			}
		}
	if (!changed)
		return 0;
	if ((len = pkt_out(p, msg, cap)) < 0)
		return len;
	*n = (size_t)len;
	return 0;
}

static uint32_t capped(uint32_t ttl, unsigned max)
{
	return ttl > max ? max : ttl;
}

static uint32_t aged(uint32_t ttl, unsigned secs)
{
	return ttl > secs ? ttl - secs : 0;
}

/**
 * sl_dns_cap_ttls() - no record of a message to be kept longer than @max
 * @msg: an answer, rewritten in place
 * @n: its length; the new one on return
 * @cap: room in @msg
 * @max: seconds
 *
 * The resolver keeps an answer's addresses in the VM's sets for at most
 * @max seconds; a guest that cached them longer would find them closed.
 *
 * Return: 0, or -EINVAL / -E2BIG / -ENOMEM (@msg untouched)
 */
int sl_dns_cap_ttls(uint8_t *msg, size_t *n, size_t cap, unsigned max)
{
	return rewrite_ttls(msg, n, cap, capped, max);
}

/**
 * sl_dns_age_ttls() - an answer as old as it is: every TTL less @secs
 * @msg: an answer, rewritten in place
 * @n: its length; the new one on return
 * @cap: room in @msg
 * @secs: how long it was kept; a TTL does not go below 0
 *
 * An answer given again from the resolver's cache must not promise the
 * guest more time than the upstream gave it when it came.
 *
 * Return: 0, or -EINVAL / -E2BIG / -ENOMEM (@msg untouched)
 */
int sl_dns_age_ttls(uint8_t *msg, size_t *n, size_t cap, unsigned secs)
{
	return rewrite_ttls(msg, n, cap, aged, secs);
}
