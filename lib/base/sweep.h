/* SPDX-License-Identifier: MIT */
#ifndef SL_SWEEP_H
#define SL_SWEEP_H

#include <stdbool.h>

/*
 * What sl-gc carries to each layer it asks to sweep its own leftovers:
 * whether only to say what would go, and how many things went. Each layer
 * says what it removes, in its own words, through sl_sweep_say().
 */
struct sl_sweep {
	bool dry;    /* say, remove nothing */
	int removed; /* said so far */
};

void sl_sweep_say(struct sl_sweep *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
