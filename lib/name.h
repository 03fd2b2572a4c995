/* SPDX-License-Identifier: MIT */
#ifndef SL_NAME_H
#define SL_NAME_H

#include "error.h"

/* A VM name is also an interface and a namespace name: IFNAMSIZ - 1. */
#define SL_NAME_MAX 15

int sl_name_check(const char *name, struct sl_error *err);
int sl_ifname_check(const char *what, const char *s, struct sl_error *err);

#endif
