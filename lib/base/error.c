/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/**
 * sl_error() - record why a call failed
 * @err: where, or NULL
 * @code: the errno value, negative (as returned) or positive
 * @fmt: one line, printf format, no trailing newline
 *
 * Return: -errno, for "return sl_error(err, -EINVAL, ...)"
 */
int sl_error(struct sl_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	code = code < 0 ? -code : code ? code : EIO; /* a failure has a code */
	if (!err)
		return -code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -code;
}

/**
 * sl_error_wrap() - put context in front of a failure on its way up
 * @err: the failure a callee recorded, or NULL
 * @r: the callee's return, -errno
 * @fmt: the context, printf format; ": " and the callee's message follow
 *
 * A callee that returned @r without a message (a system call's errno
 * passed on) gets strerror() of @r in its place.
 *
 * Return: @r
 */
int sl_error_wrap(struct sl_error *err, int r, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	va_list ap;

	if (!err)
		return r;
	snprintf(old, sizeof(old), "%s", err->code ? err->msg : strerror(r < 0 ? -r : r));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	err->code = r < 0 ? -r : r;
	return r;
}

/**
 * sl_error_clear() - forget a failure the caller chose to live with
 * @err: the record, or NULL
 *
 * Without it, a later failure that records nothing (a bare -errno) would
 * be reported with the tolerated one's message.
 */
void sl_error_clear(struct sl_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

/**
 * sl_error_msg() - the line to print for a failure
 * @err: what the callee recorded
 * @r: its return, -errno
 *
 * Return: the recorded message, or strerror() of @r when none was
 */
const char *sl_error_msg(const struct sl_error *err, int r)
{
	return err && err->code ? err->msg : strerror(r < 0 ? -r : r);
}
