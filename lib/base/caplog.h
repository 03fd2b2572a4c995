/* SPDX-License-Identifier: MIT */
#ifndef SL_CAPLOG_H
#define SL_CAPLOG_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A log a guest fills (the console, userdata's output): it lives in /run,
 * and a guest writes as fast as it likes. At most @max bytes, then it
 * becomes FILE.1 (replacing the older one) and a new FILE starts: never
 * more than twice @max on disk. Opened and rotated never through a link.
 */
struct sl_caplog {
	int fd;
	const char *path, *old; /* FILE, FILE.1 */
	unsigned long long size, max;
	unsigned long long dropped; /* bytes rotated away for good */
};

int sl_caplog_open(struct sl_caplog *l, const char *path, const char *old, unsigned long long max);
int sl_caplog_write(struct sl_caplog *l, const void *buf, size_t n);
void sl_caplog_close(struct sl_caplog *l);
int sl_caplog_cap_fd(int fd, const char *path, const char *old, unsigned long long max,
		     mode_t mode);

#endif
