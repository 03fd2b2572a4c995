/* SPDX-License-Identifier: MIT */
#ifndef SL_GC_H
#define SL_GC_H

#include <stdbool.h>

int sl_gc(bool dry_run);

#endif
