/* SPDX-License-Identifier: MIT */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>

/* Exit statuses shared by every tool (docs/DESIGN.md §3). */
enum sl_exit {
	SL_EXIT_OK = 0,
	SL_EXIT_FAIL = 1,
	SL_EXIT_USAGE = 2,
};

extern const char *sl_prog;
extern bool sl_verbose;
extern bool sl_quiet; /* no warnings or info lines; errors still print */

void sl_log_init(const char *argv0);
void sl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_check(int *count, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
