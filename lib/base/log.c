/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

const char *sl_prog = "sl";
bool sl_verbose;
static long long started_ms; /* debug lines say how long after the start */

__attribute__((constructor)) static void mark_start(void)
{
	started_ms = sl_now_ms();
}

/**
 * sl_log_init() - name diagnostics after the program, as ip(8) does
 * @argv0: argv[0] of the tool
 */
void sl_log_init(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	sl_prog = s ? s + 1 : argv0;
	if (getenv("SL_DEBUG"))
		sl_verbose = true;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s: %s%s", sl_prog, level, "");

	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	/* One write so that parallel tools do not interleave half lines. */
	fprintf(stderr, "%s\n", buf);
}

void sl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

/* Set by a caller that runs library steps for many VMs and reports itself. */
bool sl_quiet;

void sl_warn(const char *fmt, ...)
{
	va_list ap;

	if (sl_quiet)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void sl_info(const char *fmt, ...)
{
	va_list ap;

	if (sl_quiet)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

/**
 * sl_check() - report one difference a check found, and count it
 * @count: the check's tally, which it returns (0: as made)
 * @fmt: what differs, after "check: "
 */
void sl_check(int *count, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sl_info("check: %s", buf);
	(*count)++;
}

void sl_debug(const char *fmt, ...)
{
	va_list ap;
	char level[48];

	if (!sl_verbose)
		return;
	snprintf(level, sizeof(level), "debug: +%lld ms: ", sl_now_ms() - started_ms);
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void sl_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
	exit(status);
}
