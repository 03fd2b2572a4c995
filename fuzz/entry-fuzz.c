/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for egress entries (lib/policy/policy.c), as a user or an env
 * file writes them: a parsed entry formats to text that parses back to
 * the same entry, and decisions over a list built from the input never
 * point outside it. The same bytes as a packet a guest sent (the denial
 * log parses its header) never read past what was copied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* what a refused input was told */
static struct sl_error why, *const err = &why;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sl_entry_list a = { 0 }, d = { 0 };
	struct sl_policy p = { 0 };

	if (!text)
		return 0;
	{
		uint8_t *copy = malloc(size ? size : 1); /* exactly size: ASan sees any overread */
		struct sl_packet pkt;

		if (copy) {
			memcpy(copy, data, size);
			sl_packet_parse(copy, size, &pkt);
			free(copy);
		}
	}
	memcpy(text, data, size);
	text[size] = '\0';
	{
		struct sl_entry e, back;
		char b[SL_ENTRY_STRLEN];

		if (sl_entry_parse(text, &e, "--allow", err) == 0 &&
		    (sl_entry_parse(sl_entry_fmt(&e, b), &back, "x", err) < 0 ||
		     memcmp(&e, &back, sizeof(e))))
			abort();
	}
	/* the first half allows, the rest drops */
	{
		size_t h = strlen(text) / 2;
		char save = text[h];

		text[h] = '\0';
		sl_entry_list_add(&a, text, "--allow", err);
		text[h] = save;
		sl_entry_list_add(&d, text + h, "--drop", err);
	}
	if (sl_policy_build(&a, &d, &p) == 0) {
		for (uint32_t i = 0; i < 64; i++) {
			struct sl_packet pkt = { (uint32_t)rand(), (uint8_t)(i % 3 ? 6 : 0),
						 (uint16_t)rand() };
			int k = sl_policy_decide(&p, &pkt);

			if (k >= (int)p.n || k < -1 || (k >= 0 && !sl_entry_matches(p.v[k].e, &pkt)))
				abort();
			/* nothing before the decider matches: the first match decides */
			for (int j = 0; j < k; j++)
				if (sl_entry_matches(p.v[j].e, &pkt))
					abort();
		}
	}
	sl_policy_free(&p);
	sl_entry_list_free(&a);
	sl_entry_list_free(&d);
	free(text);
	return 0;
}
