/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "util.h"

int sl_netns_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", SL_NETNS_RUN_DIR, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/**
 * sl_netns_exists() - whether /run/netns/NAME is there
 * @name: namespace name
 *
 * Return: 1, 0, or -errno
 */
int sl_netns_exists(const char *name)
{
	char path[256];
	struct stat st;

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/**
 * sl_netns_open() - open a named namespace for setns()
 * @name: namespace name under /run/netns
 *
 * A file under /run/netns that is not a namespace mount (a half-made one,
 * or a stray file) is refused with -EBADF, not entered.
 *
 * Return: fd or -errno
 */
int sl_netns_open(const char *name)
{
	char path[256];
	int fd;

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -EBADF;
	}
	return fd;
}

/**
 * sl_netns_enter() - switch this thread into a namespace
 * @nsfd: from sl_netns_open()
 *
 * Return: an fd for the namespace we left (for sl_netns_return()), or
 * -errno
 */
int sl_netns_enter(int nsfd)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (saved < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int e = errno;

		close(saved);
		return -e;
	}
	return saved;
}

/**
 * sl_netns_return() - go back to the namespace sl_netns_enter() left
 * @saved: its fd; closed and set to -1
 */
int sl_netns_return(int *saved)
{
	int r = 0;

	if (setns(*saved, CLONE_NEWNET) < 0)
		r = -errno;
	close(*saved);
	*saved = -1;
	return r;
}

/**
 * sl_netns_same() - whether two namespace fds name the same namespace
 */
int sl_netns_same(int a, int b)
{
	struct stat sa, sb;

	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return -errno;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * The mount point must be shared so that a namespace bound here from one
 * mount namespace shows in the others: ip-netns does the same, under a
 * flock of the directory (iproute2 >= 5.x takes the same lock), so that
 * two first adds at once do not stack two bind mounts.
 */
static int prepare_run_dir(void)
{
	_cleanup_close_ int dir = -1;
	int made = 0;

	if (mkdir(SL_NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	dir = open(SL_NETNS_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while (flock(dir, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	while (mount("", SL_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made)
			return -errno;
		if (mount(SL_NETNS_RUN_DIR, SL_NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		made = 1;
	}
	return 0;
}

/*
 * An empty file where a namespace should be mounted is what an add killed
 * between creating its mount point and binding the namespace leaves (ours
 * and `ip netns add` alike). Call only under the name's lock, so that it is
 * never another add's mount point of the moment.
 */
static bool stale_mount_point(const char *path)
{
	struct statfs fs;
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	       statfs(path, &fs) == 0 && fs.f_type != NSFS_MAGIC;
}

/**
 * sl_netns_create() - make a named namespace as `ip netns add` does
 * @name: namespace name
 * @setup: run inside the new namespace before it gets its name (may be NULL)
 * @arg: for @setup
 *
 * A bind mount of the new namespace on /run/netns/NAME, so `ip netns exec`
 * and `ip -n` work on it and it outlives this process. It is set up before
 * it is bound: whoever sees the name sees it whole, and a kill on the way
 * leaves at most an empty mount point (replaced by the next add). The
 * caller's namespace is unchanged afterwards.
 *
 * Return: 0, -EEXIST, or -errno with the error recorded
 */
int sl_netns_create(const char *name, int (*setup)(void *), void *arg)
{
	_cleanup_close_ int saved = -1;
	char path[256];
	int fd, r;

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = prepare_run_dir();
	if (r < 0) {
		sl_set_error("cannot prepare %s: %s", SL_NETNS_RUN_DIR, strerror(-r));
		return r;
	}
	if (sl_netns_remove_stale(name) > 0)
		sl_debug("%s: an empty mount point left by an interrupted add: replaced", path);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		if (r != -EEXIST)
			sl_set_error("cannot create %s: %s", path, strerror(errno));
		return r;
	}
	close(fd);
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		r = -errno;
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail;
	}
	if (setup && (r = setup(arg)) < 0) {
		if (setns(saved, CLONE_NEWNET) < 0)
			sl_warn("cannot return to the caller's namespace: %s", strerror(errno));
		unlink(path);
		return r; /* @setup said why */
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		r = -errno;
	if (setns(saved, CLONE_NEWNET) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		return 0;
fail:
	sl_set_error("cannot create namespace %s: %s", name, strerror(-r));
	umount2(path, MNT_DETACH);
	unlink(path);
	return r;
}

/**
 * sl_netns_remove_stale() - remove an empty mount point left by a killed add
 * @name: namespace name
 *
 * Call under the name's lock (see stale_mount_point()).
 *
 * Return: 1 removed, 0 none there, or -errno
 */
int sl_netns_remove_stale(const char *name)
{
	char path[256];

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (!stale_mount_point(path))
		return 0;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 1;
}

/**
 * sl_netns_remove() - undo sl_netns_create(), as `ip netns del` does
 * @name: namespace name
 *
 * The namespace itself lives on while a process is still in it.
 *
 * Return: 0 (also when it was not there) or -errno with the error recorded
 */
int sl_netns_remove(const char *name)
{
	char path[256];

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		int e = errno;

		sl_set_error("cannot unmount %s: %s", path, strerror(e));
		return -e;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		int e = errno;

		sl_set_error("cannot remove %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/**
 * sl_sysctl_write() - set a sysctl of the current network namespace
 * @key: path below /proc/sys, e.g. "net/ipv4/ip_forward"
 * @val: value
 *
 * /proc/sys/net follows the namespace of the process that opens it, unlike
 * /sys/class/net, which follows the mount (DESIGN.md §7).
 *
 * Return: 0 or -errno with the error recorded
 */
int sl_sysctl_write(const char *key, const char *val)
{
	char path[512];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, len) != (ssize_t)len) {
		int e = errno;

		sl_set_error("cannot set %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

/**
 * sl_sysctl_read() - read a sysctl of the current network namespace
 * @key: path below /proc/sys
 * @buf: result, trailing newline removed
 * @len: size of @buf
 */
int sl_sysctl_read(const char *key, char *buf, size_t len)
{
	char path[512];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}
