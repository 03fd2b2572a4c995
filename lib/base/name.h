/* SPDX-License-Identifier: MIT */
#ifndef SL_NAME_H
#define SL_NAME_H

#include <stddef.h>

#include "error.h"

/* A VM or group name: a DNS label (it is the guest's hostname). */
#define SL_NAME_MAX 63
/* An interface name: IFNAMSIZ - 1. */
#define SL_IFNAME_MAX 15
/* What joins a derived interface name's head and hash: never in a VM name. */
#define SL_IFNAME_SEP '+'

int sl_name_check(const char *name, struct sl_error *err);
int sl_ifname_check(const char *what, const char *s, struct sl_error *err);
void sl_ifname(const char *name, char out[SL_IFNAME_MAX + 1]);

#endif
