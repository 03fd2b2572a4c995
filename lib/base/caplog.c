/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caplog.h"
#include "proto.h"

/**
 * sl_caplog_open() - start a capped log, empty, the last one's FILE.1 gone
 * @l: the log
 * @path: FILE
 * @old: FILE.1
 * @max: its cap in bytes
 *
 * Return: 0, or -errno (a link at @path: -ELOOP)
 */
int sl_caplog_open(struct sl_caplog *l, const char *path, const char *old, unsigned long long max)
{
	*l = (struct sl_caplog){ .fd = -1, .path = path, .old = old, .max = max };
	unlink(old);
	l->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	return l->fd < 0 ? -errno : 0;
}

/* @path becomes @old (the older one replaced), and a new @path starts, never through a link. */
static int renew(const char *path, const char *old, mode_t mode)
{
	int fd;

	if (rename(path, old) < 0)
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

/* FILE becomes FILE.1; the older FILE.1's bytes are dropped for good. */
static int rotate(struct sl_caplog *l)
{
	struct stat st;
	int fd;

	if (lstat(l->old, &st) == 0 && S_ISREG(st.st_mode))
		l->dropped += (unsigned long long)st.st_size;
	close(l->fd);
	l->fd = -1;
	l->size = 0;
	fd = renew(l->path, l->old, 0640);
	if (fd < 0)
		return fd;
	l->fd = fd;
	return 0;
}

/**
 * sl_caplog_cap_fd() - the same cap on a log written through @fd
 * @fd: where the log is written (a daemon's stderr): it is pointed at the new FILE
 * @path: FILE
 * @old: FILE.1
 * @max: its cap in bytes
 * @mode: the new FILE's
 *
 * For a log written by whatever holds @fd (sl_info() and the like), not
 * through sl_caplog_write(): looked at from time to time, so it may pass
 * @max by what was written since.
 *
 * Return: 1 when it rotated, 0, or -errno
 */
int sl_caplog_cap_fd(int fd, const char *path, const char *old, unsigned long long max,
		     mode_t mode)
{
	struct stat st;
	int nfd, r;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size < max)
		return 0;
	nfd = renew(path, old, mode);
	if (nfd < 0)
		return nfd;
	r = dup2(nfd, fd) < 0 ? -errno : 1;
	close(nfd);
	return r;
}

/**
 * sl_caplog_write() - append, rotating first when @n would pass the cap
 * @l: the log
 * @buf: bytes
 * @n: how many
 *
 * Return: 1 when it rotated, 0, or -errno when the log is lost (a rotation
 * that failed: nothing more is kept, and the caller says so once)
 */
int sl_caplog_write(struct sl_caplog *l, const void *buf, size_t n)
{
	int rotated = 0, r;

	if (l->fd < 0)
		return -EBADF;
	if (l->size + n > l->max) {
		if ((r = rotate(l)) < 0)
			return r;
		rotated = 1;
	}
	if (sl_write_all(l->fd, buf, n) < 0)
		return -errno;
	l->size += n;
	return rotated;
}

void sl_caplog_close(struct sl_caplog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
