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

/* This thread's network namespace: entered, left, compared. */
int sl_netns_enter(int nsfd);
int sl_netns_return(int *saved);
int sl_netns_same(int fd_a, int fd_b);

/*
 * Run a block of code in another network namespace and come back, also on
 * an early return: `_cleanup_netns_ int saved = sl_netns_enter(fd);`.
 */
static inline void sl_netns_returnp(int *saved)
{
	if (*saved >= 0)
		sl_netns_return(saved);
}
#define _cleanup_netns_ __attribute__((cleanup(sl_netns_returnp)))

#endif
