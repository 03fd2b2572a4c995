/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "policy.h"
#include "unit.h"

/* what the last failing call said */
static struct sl_error why, *const err = &why;

void test_name_entries(void);
void test_name_policy(void);
void test_dns_answer_chain(void);
void test_dns_reply(void);
void test_name_not_metadata(void);
void test_dns_cap_ttls(void);
void test_dns_age_ttls(void);

void test_name_entries(void)
{
	static const char *const bad[] = { "-a.test", "a-.test", "a..test", "*.", "*.*.a.test",
					   "a b.test", "a.test:0", "a.test:90-80", NULL };
	struct sl_entry e;
	char b[SL_ENTRY_STRLEN];

	CHECK(sl_entry_parse("Example.COM.", &e, "--allow", err) == 0);
	CHECK_STR(e.name, "example.com");
	CHECK(e.net.prefix == 32 && !e.lo);
	CHECK(sl_entry_parse("*.example.com:443", &e, "--allow", err) == 0);
	CHECK_STR(sl_entry_fmt(&e, b), "*.example.com:443");
	CHECK(sl_entry_parse("example.com", &e, "--drop", err) == -EINVAL);
	for (const char *const *p = bad; *p; p++) {
		int r = sl_entry_parse(*p, &e, "--allow", err);

		if (r != -EINVAL)
			fprintf(stderr, "'%s' was taken\n", *p);
		CHECK(r == -EINVAL);
	}
	CHECK(sl_name_matches("*.example.com", "a.example.com"));
	CHECK(sl_name_matches("*.example.com", "a.b.example.com"));
	CHECK(!sl_name_matches("*.example.com", "example.com"));
	CHECK(!sl_name_matches("*.example.com", "badexample.com"));
	CHECK(sl_name_matches("example.com", "example.com"));
	CHECK(!sl_name_matches("example.com", "a.example.com"));
}

static bool held(const struct sl_entry *e, uint32_t addr, void *arg)
{
	(void)arg;
	return !strcmp(e->name, "a.test") && addr == 0xc0000201;
}

/* A name is a /32: a wider drop loses to it, an equal drop ties and allow wins. */
void test_name_policy(void)
{
	struct sl_entry_list a = { 0 }, d = { 0 };
	struct sl_policy p = { 0 };
	struct sl_packet in = { 0xc0000201, 6, 80 }, out = { 0xc0000202, 6, 80 };
	int i;

	CHECK(sl_entry_list_add(&a, "a.test *.b.test", "--allow", err) == 0);
	CHECK(sl_entry_list_add(&d, "192.0.2.0/24 192.0.2.1", "--drop", err) == 0);
	CHECK(sl_entry_list_names(&a) == 2);
	CHECK(sl_policy_build(&a, &d, &p) == 0);
	p.resolved = held;
	i = sl_policy_decide(&p, &in);
	CHECK(i >= 0 && p.v[i].allow && !strcmp(p.v[i].e->name, "a.test"));
	i = sl_policy_decide(&p, &out);
	CHECK(i >= 0 && !p.v[i].allow && p.v[i].e->net.prefix == 24);
	p.resolved = NULL; /* what the kernel does not hold, no name matches */
	i = sl_policy_decide(&p, &in);
	CHECK(i >= 0 && !p.v[i].allow);
	i = sl_policy_decide_name(&p, "x.b.test");
	CHECK(i >= 0 && !strcmp(p.v[i].e->name, "*.b.test"));
	CHECK(sl_policy_decide_name(&p, "b.test") == -1);
	sl_policy_free(&p);
	sl_entry_list_free(&a);
	sl_entry_list_free(&d);
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t o = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (name[l] == '.');
	}
	p[o++] = 0;
	return o;
}

static size_t put_rr(uint8_t *p, const char *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rdata, size_t rlen)
{
	size_t o = put_name(p, owner);

	p[o++] = (uint8_t)(type >> 8);
	p[o++] = (uint8_t)type;
	p[o++] = 0;
	p[o++] = 1;
	p[o++] = (uint8_t)(ttl >> 24);
	p[o++] = (uint8_t)(ttl >> 16);
	p[o++] = (uint8_t)(ttl >> 8);
	p[o++] = (uint8_t)ttl;
	p[o++] = (uint8_t)(rlen >> 8);
	p[o++] = (uint8_t)rlen;
	memcpy(p + o, rdata, rlen);
	return o + rlen;
}

/*
 * An answer for www.a.test: a CNAME to cdn.x.test (listed after its A
 * record), that A, and an A for evil.test that nothing asked for: only the
 * chain's address counts.
 */
void test_dns_answer_chain(void)
{
	uint8_t m[512] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0 }, cname[64];
	static const uint8_t a1[] = { 192, 0, 2, 7 }, a2[] = { 203, 0, 113, 66 };
	struct sl_dns_query q = { 0x1234, SL_DNS_TYPE_A, "www.a.test" };
	struct sl_dns_addr addrs[4];
	size_t o = 12, cl = put_name(cname, "cdn.x.test");
	int k;

	o += put_name(m + o, "www.a.test");
	m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
	o += put_rr(m + o, "cdn.x.test", 1, 30, a1, 4);
	o += put_rr(m + o, "evil.test", 1, 30, a2, 4);
	o += put_rr(m + o, "www.a.test", 5, 30, cname, cl);
	k = sl_dns_answer_addrs(m, o, &q, addrs, 4);
	CHECK(k == 1 && addrs[0].addr == 0xc0000207 && addrs[0].ttl == 30);
	q.id = 0x1235; /* not the answer to this query */
	CHECK(sl_dns_answer_addrs(m, o, &q, addrs, 4) == -EINVAL);
	q.id = 0x1234;
	snprintf(q.name, sizeof(q.name), "other.test");
	CHECK(sl_dns_answer_addrs(m, o, &q, addrs, 4) == -EINVAL);
}

void test_dns_reply(void)
{
	uint8_t m[512] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 }, out[512];
	struct sl_dns_query q;
	size_t o = 12;
	int n;

	o += put_name(m + o, "Blocked.Test");
	m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
	CHECK(sl_dns_query_parse(m, o, &q) == 0);
	CHECK_STR(q.name, "blocked.test");
	CHECK(q.id == 0xabcd && q.qtype == SL_DNS_TYPE_A);
	n = sl_dns_reply(m, o, SL_DNS_RCODE_REFUSED, out, sizeof(out));
	CHECK(n > 12 && out[0] == 0xab && out[1] == 0xcd && (out[2] & 0x80) &&
	      (out[3] & 0x0f) == SL_DNS_RCODE_REFUSED && out[7] == 0);
	CHECK(sl_dns_reply(m, o, SL_DNS_RCODE_REFUSED, out, 12) == -E2BIG);
	m[2] |= 0x80; /* an answer is not a query */
	CHECK(sl_dns_query_parse(m, o, &q) == -EINVAL);
}

static bool anything(const struct sl_entry *e, uint32_t addr, void *arg)
{
	(void)e;
	(void)addr;
	(void)arg;
	return true;
}

/* An answer that says 169.254.169.254 opens nothing: the built-in drop goes first. */
void test_name_not_metadata(void)
{
	struct sl_entry_list a = { 0 }, d = { 0 };
	struct sl_policy p = { 0 };
	struct sl_packet meta = { 0xa9fea9fe, 6, 80 }, other = { 0xc0000201, 6, 80 };
	int i;

	CHECK(sl_entry_list_add(&a, "*.a.test:80 b.test", "--allow", err) == 0);
	CHECK(sl_policy_build(&a, &d, &p) == 0);
	p.resolved = anything;
	i = sl_policy_decide(&p, &meta);
	CHECK(i >= 0 && p.v[i].builtin && !p.v[i].allow);
	i = sl_policy_decide(&p, &other);
	CHECK(i >= 0 && p.v[i].allow && p.v[i].e->name[0]);
	sl_policy_free(&p);
	sl_entry_list_free(&a);
}

/* TTLs over the cap come down to it, others stay; the id and the records stay. */
void test_dns_cap_ttls(void)
{
	uint8_t m[512] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0 }, cname[64];
	static const uint8_t a1[] = { 192, 0, 2, 7 };
	struct sl_dns_query q = { 0x1234, SL_DNS_TYPE_A, "www.a.test" };
	struct sl_dns_addr addrs[4];
	size_t o = 12, cl = put_name(cname, "cdn.x.test"), n;

	o += put_name(m + o, "www.a.test");
	m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
	o += put_rr(m + o, "www.a.test", 5, 86400, cname, cl);
	o += put_rr(m + o, "cdn.x.test", 1, 30, a1, 4);
	n = o;
	CHECK(sl_dns_cap_ttls(m, &n, sizeof(m), 3600) == 0);
	CHECK(m[0] == 0x12 && m[1] == 0x34);
	CHECK(sl_dns_answer_addrs(m, n, &q, addrs, 4) == 1 && addrs[0].addr == 0xc0000207 &&
	      addrs[0].ttl == 30);
	/* the CNAME's day is an hour now: cap at 10 and both say 10 */
	CHECK(sl_dns_cap_ttls(m, &n, sizeof(m), 10) == 0);
	CHECK(sl_dns_answer_addrs(m, n, &q, addrs, 4) == 1 && addrs[0].ttl == 10);
	/* not a message: untouched */
	n = 5;
	CHECK(sl_dns_cap_ttls(m, &n, sizeof(m), 10) == -EINVAL && n == 5);
}

/*
 * A cached answer given again: every TTL less its age, none below 0; the
 * question where sl_dns_query_parse() says it ends.
 */
void test_dns_age_ttls(void)
{
	uint8_t m[512] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 }, cname[64];
	static const uint8_t a1[] = { 192, 0, 2, 7 };
	struct sl_dns_query q = { 0x1234, SL_DNS_TYPE_A, "www.a.test" }, parsed;
	struct sl_dns_addr addrs[4];
	size_t o = 12, cl = put_name(cname, "cdn.x.test"), n;

	o += put_name(m + o, "www.A.test");
	m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
	CHECK(sl_dns_query_parse(m, o, &parsed) == 0);
	CHECK(parsed.qend == o && !strcmp(parsed.name, "www.a.test"));
	m[2] = 0x81, m[3] = 0x80, m[7] = 2;
	o += put_rr(m + o, "www.a.test", 5, 300, cname, cl);
	o += put_rr(m + o, "cdn.x.test", 1, 30, a1, 4);
	n = o;
	CHECK(sl_dns_age_ttls(m, &n, sizeof(m), 20) == 0);
	CHECK(sl_dns_answer_addrs(m, n, &q, addrs, 4) == 1 && addrs[0].ttl == 10);
	CHECK(sl_dns_cap_ttls(m, &n, sizeof(m), 280) == 0); /* the CNAME: 280 already */
	CHECK(sl_dns_age_ttls(m, &n, sizeof(m), 15) == 0);
	CHECK(sl_dns_answer_addrs(m, n, &q, addrs, 4) == 1 && addrs[0].ttl == 0);
	CHECK(sl_dns_cap_ttls(m, &n, sizeof(m), 265) == 0);
	/* what a guest sent as the question is where it was */
	CHECK(memcmp(m + 12, "\3www\1A\4test", 11) == 0);
	n = 5;
	CHECK(sl_dns_age_ttls(m, &n, sizeof(m), 1) == -EINVAL && n == 5);
}
