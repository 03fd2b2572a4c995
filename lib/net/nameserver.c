/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "error.h"
#include "nameserver.h"
#include "util.h"

/**
 * sl_dns_servers() - name servers from what a user gave
 * @in: comma- or space-separated IPv4 addresses; NULL for Slicer's default
 *      (8.8.8.8, 1.1.1.1); "127.0.0.1" alone (Slicer's way) or "none" for
 *      no resolver at all
 * @what: the option, for an error (e.g. "--dns")
 * @out: the servers, comma-separated; empty for none
 * @len: size of @out
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_dns_servers(const char *in, const char *what, char *out, size_t len, struct sl_error *err)
{
	const char *src = in ? in : SL_DNS_DEFAULT;
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;
	size_t o = 0;

	out[0] = '\0';
	if (!strcmp(src, "127.0.0.1") || !strcmp(src, "none"))
		return 0;
	copy = strdup(src);
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		uint32_t ip;
		int n;

		if (sl_ip_parse(t, &ip) < 0)
			return sl_error(err, -EINVAL, "bad %s '%s': want IPv4 addresses (or none)",
					what, t);
		n = snprintf(out + o, len - o, "%s%s", o ? "," : "", t);
		if (n < 0 || (size_t)n >= len - o)
			return sl_error(err, -EINVAL, "%s: too many name servers", what);
		o += (size_t)n;
	}
	return 0;
}
