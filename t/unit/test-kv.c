/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "unit.h"

/* what the last failing call said */
static struct sl_error why, *const err = &why;

void test_kv_round_trip_hostile_values(void);
void test_kv_parse_refuses(void);
void test_kv_long_value(void);

void test_kv_round_trip_hostile_values(void)
{
	static const char *const vals[] = {
		"", "plain", "two words", "it's", "\"quoted\"", "$(reboot)", "`id`", "a\\b",
		"new\nline", "tab\there", "# not a comment", "x=y", "'; rm -rf /; '", "$HOME",
		"trailing space ", "*", "semi;colon", "pipe|amp&",
	};
	struct sl_kv a = { 0 }, b = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char key[16];

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "SL_K%zu", i);
		CHECK(sl_kv_set(&a, key, vals[i]) == 0);
	}
	CHECK(sl_kv_write(&a, f, false) == 0);
	fclose(f);
	CHECK(sl_kv_parse(&b, text, "test", err) == 0);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "SL_K%zu", i);
		CHECK_STR(sl_kv_get(&b, key), vals[i]);
	}
	free(text);
	sl_kv_free(&a);
	sl_kv_free(&b);
}

void test_kv_parse_refuses(void)
{
	static const char *const bad[] = { "SL_A='open", "SL_A=\"open", "not a line", "=x",
					   "SL A=1", "SL_A=1 2" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_kv k = { 0 };

		if (sl_kv_parse(&k, bad[i], "test", err) == 0) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			CHECK(!"bad env text was accepted");
		}
		sl_kv_free(&k);
	}
}

/* A value far longer than any fixed buffer (an allow list of 1000 entries). */
void test_kv_long_value(void)
{
	size_t n = 100000;
	char *v = malloc(n + 1), *text = malloc(n + 16);
	struct sl_kv k = { 0 };

	memset(v, 'a', n);
	v[n] = '\0';
	snprintf(text, n + 16, "SL_ALLOW='%s'\n", v);
	CHECK(sl_kv_parse(&k, text, "test", err) == 0);
	CHECK(sl_kv_get(&k, "SL_ALLOW") && strlen(sl_kv_get(&k, "SL_ALLOW")) == n);
	sl_kv_free(&k);
	free(v);
	free(text);
}
