/* SPDX-License-Identifier: MIT */
#ifndef SL_COPY_H
#define SL_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/*
 * Copy-out: unpack a tar stream that a guest wrote onto the host. The guest
 * is hostile (docs/SECURITY.md), so what it sends is checked entry by entry
 * before anything reaches the disk.
 */
struct sl_copy_limits {
	uint64_t max_bytes;   /* file contents, all entries together */
	uint64_t max_entries;
};

#define SL_COPY_MAX_BYTES_DEFAULT (1ull << 30)
#define SL_COPY_MAX_ENTRIES_DEFAULT 100000ull

struct sl_copy_result {
	uint64_t bytes, entries;
};

bool sl_copy_path_ok(const char *path, const char *root);
bool sl_copy_link_inside(const char *entry, const char *target, const char *root);
int sl_copy_extract(int fd, const char *dir, const char *root,
		    const struct sl_copy_limits *lim, struct sl_copy_result *res,
		    struct sl_error *err);

int sl_copy_unpack(int fd, const char *dir, const char *root, const struct sl_copy_limits *lim,
		   struct sl_error *err);

#endif
