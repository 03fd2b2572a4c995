/* SPDX-License-Identifier: MIT */
#ifndef SL_KV_H
#define SL_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"

/*
 * An ordered list of KEY=value pairs: what a tool prints, what an env file
 * holds, what the state of a VM is.
 */
struct sl_kv {
	size_t n, cap;
	char **key;
	char **val;
};

void sl_kv_free(struct sl_kv *kv);
int sl_kv_set(struct sl_kv *kv, const char *key, const char *val);
int sl_kv_setf(struct sl_kv *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *sl_kv_get(const struct sl_kv *kv, const char *key);
int sl_kv_unset(struct sl_kv *kv, const char *key);
int sl_kv_merge(struct sl_kv *dst, const struct sl_kv *src);

int sl_kv_parse(struct sl_kv *kv, const char *text, const char *origin, struct sl_error *err);
int sl_kv_load(struct sl_kv *kv, const char *path, struct sl_error *err);

char *sl_shell_quote(const char *s);
int sl_kv_write(const struct sl_kv *kv, FILE *f, bool json);

struct json_object;
const char *sl_json_line(struct json_object *o);

#define _cleanup_kv_ __attribute__((cleanup(sl_kv_free)))

/* An env file is small: a bound that stops --env /dev/zero or a runaway file. */
#define SL_KV_FILE_MAX (4 << 20)

#endif
