/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Whether @s looks like a DNS name (example.com, *.example.com): for a clear error. */
static bool looks_like_name(const char *s)
{
	const char *dot = strrchr(s, '.');
	bool alpha = false;

	if (!strncmp(s, "*.", 2))
		s += 2;
	if (!dot || !dot[1])
		return false;
	for (; *s; s++) {
		if (s > dot && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			alpha = true; /* the top-level label has a letter */
		else if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
			   (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '.'))
			return false;
	}
	return alpha;
}

/**
 * sl_entry_parse() - parse one allow or drop entry
 * @s: ADDR, ADDR/P, either followed by :PORT or :LO-HI
 * @e: result
 * @what: the list's name for an error, e.g. "--drop" or "network.allow"
 *
 * A bare address is /32. Host bits must be zero (a typo is likelier than a
 * wish to widen a rule).
 *
 * Return: 0 or -EINVAL with the error recorded
 */
int sl_entry_parse(const char *s, struct sl_entry *e, const char *what)
{
	char addr[SL_CIDR_STRLEN + 1];
	const char *colon = strchr(s, ':');
	size_t alen = colon ? (size_t)(colon - s) : strlen(s);

	memset(e, 0, sizeof(*e));
	if (looks_like_name(s)) {
		if (strstr(what, "drop"))
			sl_set_error("bad %s value '%s': domain deny lists cannot be enforced: use allow",
				     what, s);
		else
			sl_set_error("bad %s value '%s': domain names are not supported yet: "
				     "give addresses", what, s);
		return -EINVAL;
	}
	if (alen >= sizeof(addr))
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (sl_cidr_parse(addr, &e->net) < 0)
		goto bad;
	if (colon) {
		const char *p = colon + 1, *dash = strchr(p, '-');

		if (dash ? port_parse(p, (size_t)(dash - p), &e->lo) < 0 ||
				   port_parse(dash + 1, strlen(dash + 1), &e->hi) < 0 || e->lo > e->hi
			 : port_parse(p, strlen(p), &e->lo) < 0)
			goto bad;
		if (!dash)
			e->hi = e->lo;
	}
	return 0;
bad:
	sl_set_error("bad %s value '%s': want ADDR or ADDR/P, optionally :PORT or :LO-HI "
		     "(an IPv4 address, host bits zero; ports 1-65535)", what, s);
	return -EINVAL;
}

/**
 * sl_entry_fmt() - an entry in the form sl_entry_parse() reads back
 */
char *sl_entry_fmt(const struct sl_entry *e, char buf[SL_ENTRY_STRLEN])
{
	char c[SL_CIDR_STRLEN];

	sl_cidr_fmt(&e->net, c);
	if (!e->lo)
		snprintf(buf, SL_ENTRY_STRLEN, "%s", c);
	else if (e->lo == e->hi)
		snprintf(buf, SL_ENTRY_STRLEN, "%s:%u", c, e->lo);
	else
		snprintf(buf, SL_ENTRY_STRLEN, "%s:%u-%u", c, e->lo, e->hi);
	return buf;
}

/**
 * sl_entry_list_add() - add entries from a flag, a variable or a YAML value
 * @l: list
 * @text: one or more entries, separated by commas or spaces
 * @what: what to call the value in an error, e.g. "--drop"
 *
 * Return: 0, -EINVAL (a bad entry, or more than SL_POLICY_MAX_ENTRIES)
 * with the error recorded, or -ENOMEM
 */
int sl_entry_list_add(struct sl_entry_list *l, const char *text, const char *what)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", \t\n", &save); t; t = strtok_r(NULL, ", \t\n", &save)) {
		struct sl_entry e, *nv;

		if (sl_entry_parse(t, &e, what) < 0)
			return -EINVAL;
		if (l->n >= SL_POLICY_MAX_ENTRIES) {
			sl_set_error("too many %s entries (at most %d)", what, SL_POLICY_MAX_ENTRIES);
			return -EINVAL;
		}
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
 * port of it) wins over it, anything wider does not. It does not count as
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

/**
 * sl_entry_matches() - whether an entry matches a packet
 *
 * An entry with ports matches TCP and UDP to those ports only.
 */
bool sl_entry_matches(const struct sl_entry *e, const struct sl_packet *pkt)
{
	if (!sl_cidr_contains(&e->net, pkt->dst))
		return false;
	if (!e->lo)
		return true;
	return (pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP) && pkt->port >= e->lo &&
	       pkt->port <= e->hi;
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
	for (size_t i = 0; i < p->n; i++)
		if (sl_entry_matches(p->v[i].e, pkt))
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
