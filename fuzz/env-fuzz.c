/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for env files (lib/base/kv.c), as a person or a tampered
 * vm.env writes them: whatever parses writes back to text that parses to
 * the same keys and values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

/* what a refused input was told */
static struct sl_error why, *const err = &why;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *out = NULL;
	struct sl_kv a = { 0 }, b = { 0 };
	size_t len = 0;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sl_kv_parse(&a, text, "fuzz", err) == 0) {
		FILE *f = open_memstream(&out, &len);

		if (!f || sl_kv_write(&a, f, false) < 0)
			abort();
		fclose(f);
		if (sl_kv_parse(&b, out, "again", err) < 0 || a.n != b.n)
			abort();
		for (size_t i = 0; i < a.n; i++)
			if (!sl_kv_get(&b, a.key[i]) || strcmp(a.val[i], sl_kv_get(&b, a.key[i])))
				abort();
	}
	free(out);
	sl_kv_free(&a);
	sl_kv_free(&b);
	free(text);
	return 0;
}
