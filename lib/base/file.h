/* SPDX-License-Identifier: MIT */
#ifndef SL_FILE_H
#define SL_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

int sl_read_file(const char *path, size_t max, bool nofollow, const char *what, char **text,
		 size_t *len, struct sl_error *err);
int sl_remove_tree(const char *path);

#endif
