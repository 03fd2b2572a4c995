/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "policy.h"
#include "unit.h"

/* what the last failing call said */
static struct sl_error why, *const err = &why;

void test_entry_parse_forms(void);
void test_entry_parse_refuses(void);
void test_entry_fmt_round_trip(void);
void test_policy_order(void);
void test_policy_vectors(void);
void test_policy_ports(void);
void test_name_may_open(void);

static struct sl_entry parse(const char *s)
{
	struct sl_entry e;

	CHECK(sl_entry_parse(s, &e, "--allow", err) == 0);
	return e;
}

void test_entry_parse_forms(void)
{
	struct sl_entry e = parse("192.0.2.1");

	CHECK(e.net.prefix == 32 && e.lo == 0 && e.hi == 0);
	e = parse("10.0.0.0/8:443");
	CHECK(e.net.addr == 0x0a000000 && e.net.prefix == 8 && e.lo == 443 && e.hi == 443);
	e = parse("192.0.2.1:3128-3129");
	CHECK(e.net.prefix == 32 && e.lo == 3128 && e.hi == 3129);
	e = parse("0.0.0.0/0:1-65535");
	CHECK(e.net.prefix == 0 && e.lo == 1 && e.hi == 65535);
}

void test_entry_parse_refuses(void)
{
	static const char *const bad[] = {
		"", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:80-79",
		"192.0.2.1:-80", "192.0.2.1:80-", "192.0.2.1:8a", "192.0.2.1/24:80",
		"192.0.2.0/33", "192.0.2.1::80", "example.com", "*.example.com",
		"192.0.2.1:80:90", "1.2.3", "192.0.2.1:+80", "192.0.2.1: 80",
		"192.0.2.1:000080", "::1",
	};
	struct sl_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sl_entry_parse(bad[i], &e, "--drop", err) == 0) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			CHECK(!"a bad entry was accepted");
		}
}

void test_entry_fmt_round_trip(void)
{
	static const char *const in[] = { "192.0.2.1", "10.0.0.0/8:443", "192.0.2.1:3128-3129",
					   "0.0.0.0/0" };
	static const char *const want[] = { "192.0.2.1/32", "10.0.0.0/8:443",
					    "192.0.2.1/32:3128-3129", "0.0.0.0/0" };
	char b[SL_ENTRY_STRLEN];

	for (size_t i = 0; i < 4; i++) {
		struct sl_entry e = parse(in[i]), back;

		CHECK_STR(sl_entry_fmt(&e, b), want[i]);
		CHECK(sl_entry_parse(b, &back, "x", err) == 0 && !memcmp(&e, &back, sizeof(e)));
	}
}

struct lists {
	struct sl_entry_list allow, drop;
	struct sl_policy pol;
};

static void lists(struct lists *l, const char *allow, const char *drop)
{
	memset(l, 0, sizeof(*l));
	CHECK(sl_entry_list_add(&l->allow, allow, "allow", err) == 0);
	CHECK(sl_entry_list_add(&l->drop, drop, "drop", err) == 0);
	CHECK(sl_policy_build(&l->allow, &l->drop, &l->pol) == 0);
}

static void lists_free(struct lists *l)
{
	sl_policy_free(&l->pol);
	sl_entry_list_free(&l->allow);
	sl_entry_list_free(&l->drop);
}

/* "allow" or "drop", and the deciding entry or "default", for DEST. */
static void verdict(const struct lists *l, const char *dest, const char *want_v,
		    const char *want_e)
{
	struct sl_entry d;
	struct sl_packet p;
	char b[SL_ENTRY_STRLEN];
	int i;

	CHECK(sl_entry_parse(dest, &d, "dest", err) == 0);
	p = (struct sl_packet){ d.net.addr, d.lo ? IPPROTO_TCP : 0, d.lo };
	i = sl_policy_decide(&l->pol, &p);
	CHECK_STR((i < 0 ? l->pol.default_allow : l->pol.v[i].allow) ? "allow" : "drop", want_v);
	CHECK_STR(i < 0 ? "default" : sl_entry_fmt(l->pol.v[i].e, b), want_e);
}

void test_policy_order(void)
{
	struct lists l;
	char b[SL_ENTRY_STRLEN];
	static const char *const want[] = { "192.0.2.1/32:80", "192.0.2.1/32:80", "192.0.2.1/32",
					    "169.254.169.254/32", "10.1.0.0/16", "10.0.0.0/8",
					    "0.0.0.0/0" };

	lists(&l, "0.0.0.0/0 192.0.2.1:80 10.0.0.0/8", "10.1.0.0/16 192.0.2.1 192.0.2.1:80");
	CHECK(l.pol.n == 7); /* the user's six and the built-in metadata drop */
	CHECK(l.pol.v[3].builtin && !l.pol.v[3].allow);
	for (size_t i = 0; i < l.pol.n && i < 7; i++)
		CHECK_STR(sl_entry_fmt(l.pol.v[i].e, b), want[i]);
	/* at the exact tie (192.0.2.1:80 in both) allow comes first */
	CHECK(l.pol.v[0].allow && !l.pol.v[1].allow);
	CHECK(l.pol.default_allow);
	lists_free(&l);
}

/* The vectors: lists, then destinations with their verdict and deciding entry. */
static const struct vector {
	const char *allow, *drop;
	const char *probe[3][3];
} vectors[] = {
	{ "", "198.51.100.0/24",
	  { { "198.51.100.10", "drop", "198.51.100.0/24" }, { "203.0.113.10", "allow", "default" } } },
	{ "198.51.100.0/24", "",
	  { { "198.51.100.10", "allow", "198.51.100.0/24" }, { "203.0.113.10", "drop", "default" } } },
	{ "0.0.0.0/0", "198.51.100.0/24",
	  { { "198.51.100.10", "drop", "198.51.100.0/24" }, { "203.0.113.10", "allow", "0.0.0.0/0" } } },
	{ "198.51.100.0/24", "10.0.0.0/8",
	  { { "10.1.1.1", "drop", "10.0.0.0/8" }, { "198.51.100.1", "allow", "198.51.100.0/24" },
	    { "203.0.113.10", "allow", "default" } } },
	{ "10.0.0.0/8", "10.1.0.0/16",
	  { { "10.1.1.1", "drop", "10.1.0.0/16" }, { "10.2.1.1", "allow", "10.0.0.0/8" },
	    { "203.0.113.10", "allow", "default" } } },
	{ "", "", { { "203.0.113.10", "allow", "default" } } },
	{ "198.51.100.10", "198.51.100.10", { { "198.51.100.10", "allow", "198.51.100.10/32" } } },
	/* the cloud metadata address: dropped whatever the wider entries say */
	{ "", "", { { "169.254.169.254:80", "drop", "169.254.169.254/32" } } },
	{ "0.0.0.0/0 169.254.0.0/16", "198.51.100.0/24",
	  { { "169.254.169.254", "drop", "169.254.169.254/32" }, { "169.254.1.1", "allow", "169.254.0.0/16" } } },
	/* allowed as a /32 (or a port of it); a whitelist stays a whitelist */
	{ "169.254.169.254", "", { { "169.254.169.254:80", "allow", "169.254.169.254/32" },
				   { "203.0.113.10", "drop", "default" } } },
	{ "169.254.169.254:80", "", { { "169.254.169.254:80", "allow", "169.254.169.254/32:80" },
				      { "169.254.169.254:22", "drop", "169.254.169.254/32" } } },
};

void test_policy_vectors(void)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct lists l;

		lists(&l, vectors[i].allow, vectors[i].drop);
		for (size_t j = 0; j < 3 && vectors[i].probe[j][0]; j++)
			verdict(&l, vectors[i].probe[j][0], vectors[i].probe[j][1],
				vectors[i].probe[j][2]);
		lists_free(&l);
	}
}

void test_policy_ports(void)
{
	struct lists l;

	lists(&l, "198.51.100.10:3128 198.51.100.10:3129", "0.0.0.0/0");
	verdict(&l, "198.51.100.10:3128", "allow", "198.51.100.10/32:3128");
	verdict(&l, "198.51.100.10:3129", "allow", "198.51.100.10/32:3129");
	verdict(&l, "198.51.100.10:3130", "drop", "0.0.0.0/0");
	verdict(&l, "198.51.100.10", "drop", "0.0.0.0/0"); /* ICMP has no port */
	lists_free(&l);
	/* equal prefix: the entry with ports beats the one without */
	lists(&l, "198.51.100.11", "198.51.100.11:80");
	verdict(&l, "198.51.100.11:80", "drop", "198.51.100.11/32:80");
	verdict(&l, "198.51.100.11:81", "allow", "198.51.100.11/32");
	lists_free(&l);
	/* but a longer prefix without ports beats a shorter one with */
	lists(&l, "198.51.100.0/24:1-65535", "198.51.100.12");
	verdict(&l, "198.51.100.12:80", "drop", "198.51.100.12/32");
	lists_free(&l);
}

void test_packet_parse(void);
void test_packet_parse(void)
{
	/* IPv4, IHL 5, TCP to 198.51.100.10:3128 */
	uint8_t tcp[24] = { 0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 6, 0, 0, 169, 254, 100, 2,
			    198, 51, 100, 10, 0x9c, 0x40, 0x0c, 0x38 };
	uint8_t frag[24];
	struct sl_packet p;

	CHECK(sl_packet_parse(tcp, sizeof(tcp), &p) == 0);
	CHECK(p.proto == IPPROTO_TCP && p.dst == 0xc633640a && p.port == 3128);
	/* a later fragment carries no ports */
	memcpy(frag, tcp, sizeof(frag));
	frag[7] = 1;
	CHECK(sl_packet_parse(frag, sizeof(frag), &p) == 0 && p.port == 0);
	/* short, not IPv4, an IHL past the copy */
	CHECK(sl_packet_parse(tcp, 19, &p) < 0);
	frag[0] = 0x65;
	CHECK(sl_packet_parse(frag, sizeof(frag), &p) < 0);
	frag[0] = 0x4f;
	CHECK(sl_packet_parse(frag, sizeof(frag), &p) < 0);
	frag[0] = 0x44;
	CHECK(sl_packet_parse(frag, sizeof(frag), &p) < 0);
	/* the ports cut off: still the address */
	CHECK(sl_packet_parse(tcp, 22, &p) == 0 && p.port == 0 && p.dst == 0xc633640a);
}

/* may NAME open ADDR under ALLOW/DROP ("a b c" lists); why, when not */
static bool may(const char *allow, const char *drop, const char *name, const char *addr,
		char refusal[SL_REFUSAL_STRLEN])
{
	_cleanup_entry_list_ struct sl_entry_list a = { 0 }, d = { 0 };
	struct sl_entry n = parse(name);
	uint32_t ip;

	CHECK(sl_entry_list_add(&a, allow, "allow", err) == 0);
	CHECK(sl_entry_list_add(&d, drop, "drop", err) == 0);
	CHECK(sl_ip_parse(addr, &ip) == 0);
	refusal[0] = 0;
	return sl_policy_name_may_open(&a, &d, &n, ip, refusal);
}

/* What a user wrote as an address decides before any answer for a name. */
void test_name_may_open(void)
{
	char r[SL_REFUSAL_STRLEN];

	/* the red team's case: a name's answer inside a dropped LAN */
	CHECK(!may("*.ok.test", "192.168.1.0/24", "*.ok.test", "192.168.1.10", r));
	CHECK_STR(r, "192.168.1.0/24");
	/* a drop with ports still keeps names out of its addresses */
	CHECK(!may("*.ok.test", "203.0.113.0/24:22", "*.ok.test", "203.0.113.9", r));
	/* public addresses: opened */
	CHECK(may("*.ok.test", "192.168.1.0/24", "*.ok.test", "203.0.113.10", r));
	CHECK(may("a.test", "", "a.test", "198.51.100.10", r));
	/* private, loopback, link-local, shared, multicast, reserved: not by a name alone */
	static const char *const kinds[][2] = {
		{ "10.1.2.3", "private" },       { "172.16.0.1", "private" },
		{ "192.168.0.1", "private" },    { "127.0.0.1", "loopback" },
		{ "169.254.100.6", "link-local" }, { "100.64.0.1", "shared" },
		{ "224.0.0.1", "multicast" },    { "255.255.255.255", "reserved" },
		{ "0.0.0.0", "this-network" },   { "169.254.169.254", "metadata" },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		CHECK(!may("a.test", "", "a.test", kinds[i][0], r));
		CHECK_STR(r, kinds[i][1]);
	}
	/* ... unless an address allow covers it, for the name's ports */
	CHECK(may("a.test 10.0.0.0/8", "", "a.test", "10.1.2.3", r));
	CHECK(may("a.test:443 10.0.0.0/8:443", "", "a.test:443", "10.1.2.3", r));
	CHECK(!may("a.test 10.0.0.0/8:443", "", "a.test", "10.1.2.3", r));
	CHECK(!may("a.test:80 10.0.0.0/8:443", "", "a.test:80", "10.1.2.3", r));
	/* a drop inside the allow still wins */
	CHECK(!may("a.test 10.0.0.0/8", "10.1.0.0/16", "a.test", "10.1.2.3", r));
	CHECK_STR(r, "10.1.0.0/16");
	/* the metadata address only by its own /32 */
	CHECK(!may("a.test 169.254.0.0/16", "", "a.test", "169.254.169.254", r));
	CHECK(may("a.test 169.254.169.254", "", "a.test", "169.254.169.254", r));
}
