/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "error.h"
#include "kv.h"
#include "log.h"
#include "util.h"

/**
 * sl_kv_free() - release every pair
 * @kv: list, left empty and reusable
 */
void sl_kv_free(struct sl_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->key[i]);
		free(kv->val[i]);
	}
	free(kv->key);
	free(kv->val);
	memset(kv, 0, sizeof(*kv));
}

static ssize_t find(const struct sl_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (!strcmp(kv->key[i], key))
			return (ssize_t)i;
	return -1;
}

/**
 * sl_kv_set() - set a key, keeping the position of an existing one
 * @kv: list
 * @key: name
 * @val: value, copied
 *
 * Return: 0 or -ENOMEM
 */
int sl_kv_set(struct sl_kv *kv, const char *key, const char *val)
{
	ssize_t i = find(kv, key);
	char *v = strdup(val);

	if (!v)
		return -ENOMEM;
	if (i >= 0) {
		free(kv->val[i]);
		kv->val[i] = v;
		return 0;
	}
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 16;
		char **k = realloc(kv->key, cap * sizeof(*k));

		if (!k)
			goto oom;
		kv->key = k;
		k = realloc(kv->val, cap * sizeof(*k));
		if (!k)
			goto oom;
		kv->val = k;
		kv->cap = cap;
	}
	kv->key[kv->n] = strdup(key);
	if (!kv->key[kv->n])
		goto oom;
	kv->val[kv->n++] = v;
	return 0;
oom:
	free(v);
	return -ENOMEM;
}

int sl_kv_setf(struct sl_kv *kv, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return sl_kv_set(kv, key, s);
}

const char *sl_kv_get(const struct sl_kv *kv, const char *key)
{
	ssize_t i = find(kv, key);

	return i < 0 ? NULL : kv->val[i];
}

int sl_kv_unset(struct sl_kv *kv, const char *key)
{
	ssize_t i = find(kv, key);

	if (i < 0)
		return 0;
	free(kv->key[i]);
	free(kv->val[i]);
	memmove(kv->key + i, kv->key + i + 1, (kv->n - (size_t)i - 1) * sizeof(char *));
	memmove(kv->val + i, kv->val + i + 1, (kv->n - (size_t)i - 1) * sizeof(char *));
	kv->n--;
	return 1;
}

int sl_kv_merge(struct sl_kv *dst, const struct sl_kv *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int r = sl_kv_set(dst, src->key[i], src->val[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

static bool key_ok(const char *k, size_t len)
{
	if (!len || !(k[0] == '_' || (k[0] >= 'A' && k[0] <= 'Z') ||
		      (k[0] >= 'a' && k[0] <= 'z')))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z') ||
		      (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9')))
			return false;
	return true;
}

/*
 * Parse one shell word the way sh would for the subset we write: bare
 * characters, '...' and "..." (with \ escapes), concatenated.
 */
static int parse_word(const char **pp, char *out, size_t outlen)
{
	const char *p = *pp;
	size_t o = 0;

	while (*p && *p != '\n' && *p != ' ' && *p != '\t' && *p != '#') {
		if (*p == '\'') {
			for (p++; *p && *p != '\''; p++) {
				if (o + 1 >= outlen)
					return -E2BIG;
				out[o++] = *p;
			}
			if (*p != '\'')
				return -EINVAL;
			p++;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
					p++;
				if (o + 1 >= outlen)
					return -E2BIG;
				out[o++] = *p;
			}
			if (*p != '"')
				return -EINVAL;
			p++;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (o + 1 >= outlen)
				return -E2BIG;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	*pp = p;
	return 0;
}

/**
 * sl_kv_parse() - read KEY=value lines as written by sl_kv_write()
 * @kv: list to add to
 * @text: file contents
 * @origin: file name for messages
 * @err: why, when it fails
 *
 * Blank lines, comments and a leading "export " are accepted so that a file
 * a person edits by hand still loads.
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_kv_parse(struct sl_kv *kv, const char *text, const char *origin, struct sl_error *err)
{
	const char *p = text;
	unsigned line = 0;
	/* No value is longer than the text it is read from. */
	size_t vlen = strlen(text) + 1;
	_cleanup_free_ char *val = malloc(vlen);

	if (!val)
		return -ENOMEM;
	while (*p) {
		const char *eq, *k;
		int r;

		line++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "export ", 7))
			p += 7;
		if (*p == '\n' || *p == '#' || !*p) {
			p = strchrnul(p, '\n');
			if (*p)
				p++;
			continue;
		}
		k = p;
		eq = strchr(p, '=');
		if (!eq || memchr(p, '\n', (size_t)(eq - p)) || !key_ok(k, (size_t)(eq - k)))
			return sl_error(err, -EINVAL, "%s:%u: not a KEY=value line", origin, line);
		p = eq + 1;
		r = parse_word(&p, val, vlen);
		if (r < 0)
			return sl_error(err, -EINVAL, "%s:%u: bad quoting", origin, line);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#')
			p = strchrnul(p, '\n');
		if (*p && *p != '\n')
			return sl_error(err, -EINVAL, "%s:%u: trailing text after value", origin,
					line);
		if (*p)
			p++;
		{
			_cleanup_free_ char *key = strndup(k, (size_t)(eq - k));

			if (!key)
				return -ENOMEM;
			r = sl_kv_set(kv, key, val);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/**
 * sl_kv_load() - read an env file
 * @kv: list to add to
 * @path: file
 * @err: why, when it fails
 *
 * Return: 0, -errno with the error recorded
 */
int sl_kv_load(struct sl_kv *kv, const char *path, struct sl_error *err)
{
	/* Non-blocking open: a FIFO given as an env file is refused, not waited on. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		return sl_error(err, -e, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return sl_error(err, -EINVAL, "%s: not a regular file", path);
	if (st.st_size > SL_KV_FILE_MAX)
		return sl_error(err, -EINVAL, "%s: larger than %d bytes: not an env file", path,
				SL_KV_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	n = read(fd, buf, (size_t)st.st_size); /* a file that grew meanwhile is read to its old size */
	if (n < 0) {
		int e = errno;

		return sl_error(err, -e, "%s: %s", path, strerror(e));
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		return sl_error(err, -EINVAL, "%s: holds a NUL byte: not an env file", path);
	return sl_kv_parse(kv, buf, path, err);
}

/**
 * sl_shell_quote() - quote a value so that sh reads it back unchanged
 * @s: value
 *
 * Plain values stay bare so that output is easy to read; anything else is
 * single-quoted with ' written as '\''.
 *
 * Return: new string, or NULL on allocation failure
 */
char *sl_shell_quote(const char *s)
{
	size_t n = 3;
	bool plain = *s != '\0';
	size_t k;
	char *q;

	for (const char *p = s; *p; p++) {
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-./:@%+,",
			    *p))
			plain = false;
		n += *p == '\'' ? 4 : 1;
	}
	if (plain)
		return strdup(s);
	q = malloc(n);
	if (!q)
		return NULL;
	k = 0;
	q[k++] = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(q + k, "'\\''", 4);
			k += 4;
		} else {
			q[k++] = *p;
		}
	}
	q[k++] = '\'';
	q[k] = '\0';
	return q;
}

/**
 * sl_kv_write() - print pairs as shell assignments or one JSON object (json-c)
 * @kv: pairs
 * @f: stream
 * @json: JSON instead of KEY=value lines
 *
 * Return: 0 or -errno
 */
int sl_kv_write(const struct sl_kv *kv, FILE *f, bool json)
{
	if (json) {
		json_object *o = json_object_new_object();

		for (size_t i = 0; o && i < kv->n; i++) {
			json_object *v = json_object_new_string(kv->val[i]);

			if (!v || json_object_object_add(o, kv->key[i], v) < 0) {
				json_object_put(v);
				json_object_put(o);
				o = NULL;
			}
		}
		if (!o)
			return -ENOMEM;
		fprintf(f, "%s\n", sl_json_line(o));
		json_object_put(o);
	} else {
		for (size_t i = 0; i < kv->n; i++) {
			_cleanup_free_ char *q = sl_shell_quote(kv->val[i]);

			if (!q)
				return -ENOMEM;
			fprintf(f, "%s=%s\n", kv->key[i], q);
		}
	}
	return ferror(f) ? -EIO : 0;
}

/**
 * sl_json_line() - an object as one line of JSON, as the tools print it
 * @o: object; the string lives as long as it
 *
 * No spaces and no escaped '/' (an entry such as 10.0.0.0/8 reads as written).
 */
const char *sl_json_line(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE);
}
