/* SPDX-License-Identifier: MIT */
#ifndef SL_CP_H
#define SL_CP_H

#include "copy.h"
#include "error.h"

int sl_cp(const char *src, const char *dst, const struct sl_copy_limits *lim,
	  struct sl_error *err);

#endif
