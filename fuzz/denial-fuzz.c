/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the denial log lines (lib/net/denials.c): sl-egress log
 * reads files whose names a guest chose (dns.log) and that anyone with the
 * run dir may have edited. Whatever parses formats to one printable line,
 * which parses again to a denial that formats to the same line; and any
 * denial, whatever bytes its fields hold, formats to one such line.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "denials.h"

static void one_printable_line(const char *l)
{
	size_t n = strlen(l);

	if (!n || l[n - 1] != '\n')
		abort();
	for (size_t i = 0; i + 1 < n; i++)
		if (!isprint((unsigned char)l[i]))
			abort();
}

/* fmt, parse, fmt: the second line is the first. */
static void round_trip(const struct sl_denial *d)
{
	char a[SL_DENIAL_LINE_MAX], b[SL_DENIAL_LINE_MAX];
	struct sl_denial back;

	if (sl_denial_fmt(d, a, sizeof(a)) < 0)
		abort(); /* every field is bounded: it always fits */
	one_printable_line(a);
	if (sl_denial_parse(a, &back) < 0 || sl_denial_fmt(&back, b, sizeof(b)) < 0 ||
	    strcmp(a, b))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct sl_denial d;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (sl_denial_parse(line, &d) == 0)
		round_trip(&d);
	/* the same bytes as the fields of a denial a logger would write */
	memset(&d, 0, sizeof(d));
	if (size >= sizeof(d)) {
		memcpy(&d, data, sizeof(d));
		d.time[sizeof(d.time) - 1] = d.vm[sizeof(d.vm) - 1] = '\0';
		d.proto[sizeof(d.proto) - 1] = d.dest[sizeof(d.dest) - 1] = '\0';
		d.entry[sizeof(d.entry) - 1] = '\0';
		d.port %= 65536;
		round_trip(&d);
	}
	free(line);
	return 0;
}
