/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "sweep.h"

/**
 * sl_sweep_say() - say one thing a sweep removes (or would), and count it
 * @sw: the sweep
 * @fmt: what it is, printf-style
 *
 * One line on standard output, "removed ..." or "would remove ...": what
 * sl-gc prints, so a dry run reads as the real one would.
 */
void sl_sweep_say(struct sl_sweep *sw, const char *fmt, ...)
{
	va_list ap;

	printf("%s", sw->dry ? "would remove " : "removed ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	sw->removed++;
}
