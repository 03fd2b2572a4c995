/* SPDX-License-Identifier: MIT */
#ifndef SL_NSIDENT_H
#define SL_NSIDENT_H

#include <stdint.h>

/*
 * A network namespace as the kernel names it for as long as it lives: the
 * device and inode of its nsfs file (what `stat /proc/PID/ns/net` shows).
 * A name under /run/netns is only a mount of it, and an interface in it
 * outlives it while the kernel tears it down, so neither says whether the
 * namespace someone made is still there; this does.
 */
struct sl_nsident {
	uint64_t dev;
	uint64_t ino;
};

#define SL_NSIDENT_STRLEN 48

int sl_nsident_fd(int fd, struct sl_nsident *id);
char *sl_nsident_fmt(const struct sl_nsident *id, char buf[SL_NSIDENT_STRLEN]);
int sl_nsident_parse(const char *s, struct sl_nsident *id);
int sl_nsident_find(const struct sl_nsident *id, const char *hint, const int *skip);
int sl_nsident_gone(const char *recorded, const char *hint, int32_t peer_nsid, const int *skip);

#endif
