/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "policy.h"
#include "util.h"

/* A port number: decimal, 1..65535, nothing else. */
static int port_parse(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (!len || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Whether the first @len bytes of @s are meant as a DNS name (example.com,
 * *.example.com): its last label has a letter, which no address has.
 */
static bool looks_like_name(const char *s, size_t len)
{
	size_t i = len && s[len - 1] == '.' ? --len : len; /* a final dot: "example.com." */

	while (i > 0 && s[i - 1] != '.')
		i--;
	if (!i)
		return false;
	for (; i < len; i++)
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
			return true;
	return false;
}

/*
 * A name as a resolver compares it: labels of letters, digits, '-' and '_'
 * (not first or last: '-'), 1-63 bytes each, 253 in all, lower-cased into
 * @out; "*." first for any name below the rest.
 */
static int name_parse(const char *s, size_t len, char out[SL_DNS_NAME_MAX + 1])
{
	size_t o = 0, label = 0;

	if (len >= 2 && !strncmp(s, "*.", 2)) {
		memcpy(out, "*.", 2);
		o = 2;
	}
	if (len > SL_DNS_NAME_MAX || len == o)
		return -EINVAL;
	for (size_t i = o; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (!label || s[i - 1] == '-')
				return -EINVAL;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			   (c == '-' && label)) {
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			label++;
		} else {
			return -EINVAL;
		}
		if (label > 63)
			return -EINVAL;
		out[o++] = c;
	}
	if (!label || s[len - 1] == '-')
		return -EINVAL;
	out[o] = '\0';
	return 0;
}

/* :PORT or :LO-HI after an address or a name. */
static int ports_parse(const char *p, struct sl_entry *e)
{
	const char *dash = strchr(p, '-');

	if (dash ? port_parse(p, (size_t)(dash - p), &e->lo) < 0 ||
			   port_parse(dash + 1, strlen(dash + 1), &e->hi) < 0 || e->lo > e->hi
		 : port_parse(p, strlen(p), &e->lo) < 0)
		return -EINVAL;
	if (!dash)
		e->hi = e->lo;
	return 0;
}

/**
 * sl_entry_parse() - parse one allow or drop entry
 * @s: ADDR, ADDR/P, either followed by :PORT or :LO-HI
 * @e: result
 * @what: the list's name for an error, e.g. "--drop" or "network.allow"
 * @err: why, when it fails
 *
 * A bare address is /32. Host bits must be zero (a typo is likelier than a
 * wish to widen a rule).
 *
 * Return: 0 or -EINVAL with the error recorded
 */
int sl_entry_parse(const char *s, struct sl_entry *e, const char *what, struct sl_error *err)
{
	char addr[SL_CIDR_STRLEN + 1];
	const char *colon = strchr(s, ':');
	size_t alen = colon ? (size_t)(colon - s) : strlen(s);

	memset(e, 0, sizeof(*e));
	if (looks_like_name(s, alen)) {
		if (strstr(what, "drop"))
			return sl_error(err, -EINVAL,
					"bad %s value '%s': domain deny lists cannot be enforced: "
					"use allow",
					what, s);
		if (name_parse(s, alen > 1 && s[alen - 1] == '.' ? alen - 1 : alen, e->name) < 0 ||
		    (colon && ports_parse(colon + 1, e) < 0))
			return sl_error(err, -EINVAL,
					"bad %s value '%s': want a DNS name (example.com or "
					"*.example.com: labels of letters, digits, '-', at most 63 "
					"bytes, 253 in all), optionally :PORT or :LO-HI",
					what, s);
		e->net.prefix = 32;
		return 0;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)(alen < sizeof(addr) ? alen : 0), s);
	if (alen >= sizeof(addr) || sl_cidr_parse(addr, &e->net) < 0 ||
	    (colon && ports_parse(colon + 1, e) < 0))
		return sl_error(err, -EINVAL,
				"bad %s value '%s': want ADDR or ADDR/P, optionally :PORT or "
				":LO-HI (an IPv4 address, host bits zero; ports 1-65535), or in "
				"allow a DNS name",
				what, s);
	return 0;
}

/**
 * sl_entry_fmt() - an entry in the form sl_entry_parse() reads back
 */
char *sl_entry_fmt(const struct sl_entry *e, char buf[SL_ENTRY_STRLEN])
{
	char c[SL_CIDR_STRLEN];
	const char *what = e->name[0] ? e->name : sl_cidr_fmt(&e->net, c);

	if (!e->lo)
		snprintf(buf, SL_ENTRY_STRLEN, "%s", what);
	else if (e->lo == e->hi)
		snprintf(buf, SL_ENTRY_STRLEN, "%s:%u", what, e->lo);
	else
		snprintf(buf, SL_ENTRY_STRLEN, "%s:%u-%u", what, e->lo, e->hi);
	return buf;
}

/**
 * sl_entry_set_name() - the kernel ip set that holds a name entry's addresses
 * @e: a name entry
 * @buf: result
 *
 * One set per name, whatever the ports: "sl-" and 16 hex digits of a hash
 * of the name, so that it is the same on every apply and fits ip_set's 31
 * bytes. Sets are per network namespace: the VM's own.
 */
void sl_entry_set_name(const struct sl_entry *e, char buf[SL_SET_NAME_LEN])
{
	snprintf(buf, SL_SET_NAME_LEN, "sl-%016llx", (unsigned long long)sl_fnv1a64(e->name));
}

/**
 * sl_name_matches() - whether a name entry covers a name
 * @pattern: an entry's name: NAME exactly, or *.NAME any name below NAME
 * @name: a name from a query, lower case, no final dot
 *
 * "*.example.com" covers "a.example.com" and "a.b.example.com", not
 * "example.com" itself (write both for both).
 */
bool sl_name_matches(const char *pattern, const char *name)
{
	size_t pl, nl = strlen(name);

	if (strncmp(pattern, "*.", 2))
		return !strcmp(pattern, name);
	pl = strlen(pattern + 1); /* ".example.com" */
	return nl > pl && !strcmp(name + nl - pl, pattern + 1);
}

/* How many entries of @l are names. */
size_t sl_entry_list_names(const struct sl_entry_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].name[0] != 0;
	return n;
}

/**
 * sl_entry_list_add() - add entries from a flag, a variable or a YAML value
 * @l: list
 * @text: one or more entries, separated by commas or spaces
 * @what: what to call the value in an error, e.g. "--drop"
 * @err: why, when it fails
 *
 * Return: 0, -EINVAL (a bad entry, or more than SL_POLICY_MAX_ENTRIES)
 * with the error recorded, or -ENOMEM
 */
int sl_entry_list_add(struct sl_entry_list *l, const char *text, const char *what,
		      struct sl_error *err)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", \t\n", &save); t; t = strtok_r(NULL, ", \t\n", &save)) {
		struct sl_entry e, *nv;

		if (sl_entry_parse(t, &e, what, err) < 0)
			return -EINVAL;
		if (l->n >= SL_POLICY_MAX_ENTRIES)
			return sl_error(err, -EINVAL, "too many %s entries (at most %d)", what,
					SL_POLICY_MAX_ENTRIES);
		if (e.name[0] && sl_entry_list_names(l) >= SL_POLICY_MAX_NAMES)
			return sl_error(err, -EINVAL, "too many names in %s (at most %d)", what,
					SL_POLICY_MAX_NAMES);
		nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->v[l->n++] = e;
	}
	return 0;
}

/**
 * sl_entry_list_fmt() - a list as one space-separated string (SL_ALLOW, SL_DROP)
 *
 * Return: a string to free(), or NULL
 */
char *sl_entry_list_fmt(const struct sl_entry_list *l)
{
	char *s = calloc(l->n + 1, SL_ENTRY_STRLEN);
	char b[SL_ENTRY_STRLEN];

	if (!s)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, sl_entry_fmt(&l->v[i], b));
	}
	return s;
}

void sl_entry_list_free(struct sl_entry_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Decision order: longer prefix first; at equal prefix an entry with ports
 * before one without; then allow before drop; then the order given.
 */
static int by_specificity(const void *pa, const void *pb)
{
	const struct sl_policy_rule *a = pa, *b = pb;

	if (a->e->net.prefix != b->e->net.prefix)
		return a->e->net.prefix > b->e->net.prefix ? -1 : 1;
	/* A name is no address: it does not open the metadata address, whatever
	 * an answer says (a name below an allowed wildcard can be anyone's). */
	if (a->builtin != b->builtin && (a->e->name[0] || b->e->name[0]))
		return a->builtin ? -1 : 1;
	if (!!a->e->lo != !!b->e->lo)
		return a->e->lo ? -1 : 1;
	if (a->allow != b->allow)
		return a->allow ? -1 : 1;
	if (a->builtin != b->builtin)
		return a->builtin ? 1 : -1;
	return a->e < b->e ? -1 : a->e > b->e; /* same list here: the order given */
}

/**
 * sl_policy_build() - merge allow and drop into the order that decides
 * @allow: allow entries
 * @drop: drop entries
 * @p: result; points into @allow and @drop, which must outlive it
 *
 * Among the entries that match a packet the most specific decides: longer
 * prefix first; at equal prefix an entry with ports beats one without; at
 * an exact tie allow wins. Sorted so, the first entry that matches is the
 * one that decides, which is how iptables reads a chain. When none
 * matches: drop if there are allow entries and no drop entries (a
 * whitelist), allow otherwise. One entry is always there, not the user's:
 * drop 169.254.169.254/32, the clouds' instance metadata (credentials of
 * the host's cloud account), as sandboxes do; an allow of that /32 (or of a
 * port of it) wins over it, anything wider does not, nor does a name (its
 * answer may say 169.254.169.254). It does not count as
 * a drop entry for the whitelist rule.
 *
 * Return: 0 or -ENOMEM
 */
int sl_policy_build(const struct sl_entry_list *allow, const struct sl_entry_list *drop,
		    struct sl_policy *p)
{
	static const struct sl_entry metadata = { { SL_METADATA_ADDR, 32 }, 0, 0 };
	size_t n = allow->n + drop->n + 1, k = 0;

	p->n = 0;
	p->default_allow = !(allow->n && !drop->n);
	p->v = calloc(n, sizeof(*p->v));
	if (!p->v)
		return -ENOMEM;
	/* Allow entries first, then drop: by_specificity()'s last key needs one array order. */
	for (size_t i = 0; i < allow->n; i++)
		p->v[k++] = (struct sl_policy_rule){ &allow->v[i], true };
	for (size_t i = 0; i < drop->n; i++)
		p->v[k++] = (struct sl_policy_rule){ &drop->v[i], false };
	/* Last, so an equal user drop sorts first and is the one named. */
	p->v[k++] = (struct sl_policy_rule){ &metadata, false, true };
	p->n = n;
	qsort(p->v, n, sizeof(*p->v), by_specificity);
	return 0;
}

void sl_policy_free(struct sl_policy *p)
{
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* An entry's ports against a packet's (an entry without ports: any). */
static bool ports_match(const struct sl_entry *e, const struct sl_packet *pkt)
{
	if (!e->lo)
		return true;
	return (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP) && pkt->port >= e->lo &&
	       pkt->port <= e->hi;
}

/**
 * sl_entry_matches() - whether an address entry matches a packet
 *
 * An entry with ports matches TCP and UDP to those ports only. A name
 * entry matches no packet here: its addresses are the kernel's to know.
 */
bool sl_entry_matches(const struct sl_entry *e, const struct sl_packet *pkt)
{
	if (e->name[0] || !sl_cidr_contains(&e->net, pkt->dst))
		return false;
	return ports_match(e, pkt);
}

/**
 * sl_policy_decide() - which rule decides a packet
 * @p: from sl_policy_build()
 * @pkt: the packet
 *
 * Return: the index in @p->v of the deciding rule, or -1 for the default
 */
int sl_policy_decide(const struct sl_policy *p, const struct sl_packet *pkt)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct sl_entry *e = p->v[i].e;

		if (e->name[0] ? p->resolved && ports_match(e, pkt) &&
					 p->resolved(e, pkt->dst, p->arg)
			       : sl_entry_matches(e, pkt))
			return (int)i;
	}
	return -1;
}

/**
 * sl_policy_decide_name() - which name entry lets a name be resolved
 * @p: from sl_policy_build()
 * @name: a query's name, lower case, no final dot
 *
 * Return: the index in @p->v of the first allow entry whose name covers
 * @name (the most specific first), or -1: the resolver refuses it
 */
int sl_policy_decide_name(const struct sl_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].allow && p->v[i].e->name[0] && sl_name_matches(p->v[i].e->name, name))
			return (int)i;
	return -1;
}

/**
 * sl_packet_parse() - what a packet is for, from its first bytes (a logged denial)
 * @p: the packet from its IPv4 header on (the guest wrote it: any bytes)
 * @n: how many bytes the log copied
 * @d: result
 *
 * Return: 0, or -EINVAL when it is not an IPv4 header that fits in @n
 */
int sl_packet_parse(const uint8_t *p, size_t n, struct sl_packet *d)
{
	size_t ihl;

	memset(d, 0, sizeof(*d));
	if (n < 20 || p[0] >> 4 != 4)
		return -EINVAL;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > n)
		return -EINVAL;
	d->proto = p[9];
	d->dst = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	/* ports only in a first fragment that holds them */
	if ((d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) && !(p[6] & 0x1f) && !p[7] &&
	    n >= ihl + 4)
		d->port = (uint16_t)(p[ihl + 2] << 8 | p[ihl + 3]);
	return 0;
}

/* Ranges no name may open unless a CIDR allow does (dnsmasq's --stop-dns-rebind, and more). */
static const struct {
	uint32_t net;
	unsigned prefix;
	const char *what;
} special[] = {
	{ 0x00000000u, 8, "this-network" }, { 0x0a000000u, 8, "private" },
	{ 0x64400000u, 10, "shared" },      { 0x7f000000u, 8, "loopback" },
	{ 0xa9fe0000u, 16, "link-local" },  { 0xac100000u, 12, "private" },
	{ 0xc0a80000u, 16, "private" },     { 0xe0000000u, 4, "multicast" },
	{ 0xf0000000u, 4, "reserved" },
};

/* Whether @e's ports hold every port of @name's (no ports: every port). */
static bool ports_cover(const struct sl_entry *e, const struct sl_entry *name)
{
	if (!e->lo && !e->hi)
		return true;
	return (name->lo || name->hi) && e->lo <= name->lo && name->hi <= e->hi;
}

/**
 * sl_policy_name_may_open() - whether an answer's address may join a name's set
 * @allow: the VM's allow list (its address entries count here)
 * @drop: its drop list
 * @name: the name entry whose set it would join
 * @addr: the address an answer for a name it covers gave
 * @why: when not, why: the drop entry that covers @addr, or the kind of
 *	range it is in ("private", "loopback", "link-local", "metadata", ...)
 *
 * A name stands for whatever its answers say, and whoever runs its zone
 * (or a CNAME in it) says what they like. So what a user wrote as an
 * address decides first: an address a drop entry covers (whatever its
 * ports) is never opened by a name; nor is an address in a private,
 * loopback, link-local, shared, multicast or reserved range (a VM's own
 * range and the host's LAN are among them), unless an allow entry covers it
 * for the name's ports; nor the metadata address, unless allowed as a /32.
 *
 * Return: true when it may be added
 */
bool sl_policy_name_may_open(const struct sl_entry_list *allow, const struct sl_entry_list *drop,
			     const struct sl_entry *name, uint32_t addr,
			     char why[SL_REFUSAL_STRLEN])
{
	const char *kind = NULL;

	for (size_t i = 0; i < drop->n; i++)
		if (!drop->v[i].name[0] && sl_cidr_contains(&drop->v[i].net, addr)) {
			sl_entry_fmt(&drop->v[i], why);
			return false;
		}
	if (addr == SL_METADATA_ADDR) {
		for (size_t i = 0; i < allow->n; i++)
			if (!allow->v[i].name[0] && allow->v[i].net.prefix == 32 &&
			    allow->v[i].net.addr == addr && ports_cover(&allow->v[i], name))
				return true;
		snprintf(why, SL_REFUSAL_STRLEN, "metadata");
		return false;
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]) && !kind; i++) {
		struct sl_cidr c = { special[i].net, special[i].prefix };

		if (sl_cidr_contains(&c, addr))
			kind = special[i].what;
	}
	if (!kind)
		return true;
	for (size_t i = 0; i < allow->n; i++)
		if (!allow->v[i].name[0] && sl_cidr_contains(&allow->v[i].net, addr) &&
		    ports_cover(&allow->v[i], name))
			return true;
	snprintf(why, SL_REFUSAL_STRLEN, "%s", kind);
	return false;
}
