/* SPDX-License-Identifier: MIT */
#ifndef SL_GC_H
#define SL_GC_H

#include <stdbool.h>

#include "error.h"

int sl_gc(bool dry_run, struct sl_error *err);

#endif
