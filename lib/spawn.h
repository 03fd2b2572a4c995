/* SPDX-License-Identifier: MIT */
#ifndef SL_SPAWN_H
#define SL_SPAWN_H

#include <stddef.h>

void sl_child_clean(const int *keep, size_t nkeep);

#endif
