/* SPDX-License-Identifier: MIT */
#ifndef SL_CONNTRACK_H
#define SL_CONNTRACK_H

#include <stdint.h>

#include "error.h"
#include "policy.h"

int sl_conntrack_cut(const struct sl_policy *pol, uint32_t vm, struct sl_error *err);

#endif
