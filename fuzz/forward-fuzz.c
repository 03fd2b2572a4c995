/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for sl-exec forward's [BIND:]LPORT:HOST:RPORT
 * (lib/vm/forward.c), as a user writes it: an accepted spec has ports in
 * 1..65535, a bind address that is IPv4, a target that is the spec's
 * HOST:RPORT whole (nothing cut), and it prints back to a spec that parses
 * to the same forward.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"

/* what a refused input was told */
static struct sl_error why, *const err = &why;

static void check(const char *spec, const struct sl_fwd *f)
{
	const char *t = strrchr(f->target, ':');
	char again[sizeof(f->bind) + sizeof(f->target) + 16];
	struct sl_fwd g = { 0 };
	size_t n = strlen(f->target);

	if (!f->lport || f->lport > 65535 || !t || t == f->target || !t[1])
		abort();
	/* the target is the spec's tail, whole */
	if (strlen(spec) < n || strcmp(spec + strlen(spec) - n, f->target))
		abort();
	snprintf(again, sizeof(again), "%s:%u:%s", f->bind, f->lport, f->target);
	if (sl_forward_parse(again, &g, err) < 0 || strcmp(g.bind, f->bind) ||
	    strcmp(g.target, f->target) || g.lport != f->lport ||
	    memcmp(&g.sa, &f->sa, sizeof(g.sa)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	struct sl_fwd f = { 0 };

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (sl_forward_parse(spec, &f, err) == 0)
		check(spec, &f);
	free(spec);
	return 0;
}
