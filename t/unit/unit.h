/* SPDX-License-Identifier: MIT */
/* The smallest test framework that says where it failed: CHECK and a runner. */
#ifndef SL_UNIT_H
#define SL_UNIT_H

#include <stdio.h>

extern int unit_failed_checks;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__,   \
				__LINE__, __func__, #cond);                          \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

#define CHECK_STR(got, want)                                                         \
	do {                                                                         \
		const char *g_ = (got), *w_ = (want);                                \
		if (!g_ || strcmp(g_, w_)) {                                         \
			fprintf(stderr, "%s:%d: %s: got '%s', want '%s'\n", __FILE__,\
				__LINE__, __func__, g_ ? g_ : "(null)", w_);         \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

/* Each test file defines its tests with this and lists them for main.c. */
struct unit_test {
	const char *name;
	void (*fn)(void);
};

#endif
