/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "log.h"

/**
 * sl_ip_parse() - parse a dotted quad strictly
 * @s: text
 * @ip: result, host byte order
 *
 * inet_aton() would take "10.1" and "0x0a.1.1.1"; a firewall rule must say
 * exactly what the user wrote, so only four decimal octets are accepted.
 *
 * Return: 0 or -EINVAL
 */
int sl_ip_parse(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned o = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9') {
			o = o * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || o > 255)
				return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
		v = v << 8 | o;
		if (i < 3 && *p++ != '.')
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	*ip = v;
	return 0;
}

uint32_t sl_cidr_mask(unsigned prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

/**
 * sl_cidr_parse() - parse "a.b.c.d/p" or a bare address (/32)
 * @s: text
 * @c: result
 *
 * Host bits must be zero: "10.0.0.1/8" is more likely a typo than a wish,
 * and silently widening a drop rule is worse than an error.
 *
 * Return: 0 or -EINVAL (no message recorded: the caller knows the context)
 */
int sl_cidr_parse(const char *s, struct sl_cidr *c)
{
	char buf[SL_CIDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned prefix = 32;

	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (sl_ip_parse(buf, &c->addr) < 0)
		return -EINVAL;
	if (slash) {
		const char *p = slash + 1;
		int digits = 0;

		prefix = 0;
		while (*p >= '0' && *p <= '9') {
			prefix = prefix * 10 + (unsigned)(*p++ - '0');
			if (++digits > 2)
				return -EINVAL;
		}
		if (!digits || *p || prefix > 32)
			return -EINVAL;
	}
	if (c->addr & ~sl_cidr_mask(prefix))
		return -EINVAL;
	c->prefix = prefix;
	return 0;
}

/**
 * sl_ifaddr_parse() - parse an interface address "a.b.c.d/p"
 * @s: text, e.g. a bridge gateway "192.168.137.1/24"
 * @ip: the address
 * @net: the network it is in (host bits cleared)
 *
 * Unlike sl_cidr_parse(), host bits are the point here; the prefix is
 * required, and the address must be a usable host of a /8../30 network.
 *
 * Return: 0 or -EINVAL (no message recorded)
 */
int sl_ifaddr_parse(const char *s, uint32_t *ip, struct sl_cidr *net)
{
	char buf[SL_CIDR_STRLEN + 1];
	const char *slash = strchr(s, '/');
	struct sl_cidr any;
	uint32_t host;

	if (!slash || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (sl_ip_parse(buf, ip) < 0)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "0.0.0.0%s", slash);
	if (sl_cidr_parse(buf, &any) < 0 || any.prefix < 8 || any.prefix > 30)
		return -EINVAL;
	net->prefix = any.prefix;
	net->addr = *ip & sl_cidr_mask(any.prefix);
	host = *ip & ~sl_cidr_mask(any.prefix);
	if (host == 0 || host == ~sl_cidr_mask(any.prefix))
		return -EINVAL;
	return 0;
}

char *sl_ip_fmt(uint32_t ip, char buf[SL_IP_STRLEN])
{
	snprintf(buf, SL_IP_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
	return buf;
}

char *sl_cidr_fmt(const struct sl_cidr *c, char buf[SL_CIDR_STRLEN])
{
	char ip[SL_IP_STRLEN];

	snprintf(buf, SL_CIDR_STRLEN, "%s/%u", sl_ip_fmt(c->addr, ip), c->prefix);
	return buf;
}

bool sl_cidr_overlap(const struct sl_cidr *a, const struct sl_cidr *b)
{
	uint32_t m = sl_cidr_mask(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (a->addr & m) == (b->addr & m);
}

bool sl_cidr_contains(const struct sl_cidr *c, uint32_t ip)
{
	return (ip & sl_cidr_mask(c->prefix)) == c->addr;
}

/**
 * sl_range_blocks() - how many /30 VM blocks a range holds
 * @range: a /16 to /30 range
 */
uint32_t sl_range_blocks(const struct sl_cidr *range)
{
	return 1u << (SL_BLOCK_PREFIX - range->prefix);
}

/**
 * sl_range_block() - the n-th /30 of a range
 * @range: range
 * @n: block index, 0-based
 * @block: result
 */
void sl_range_block(const struct sl_cidr *range, uint32_t n, struct sl_cidr *block)
{
	block->addr = range->addr + (n << 2);
	block->prefix = SL_BLOCK_PREFIX;
}
