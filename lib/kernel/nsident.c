/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nl.h"
#include "nsident.h"
#include "util.h"

/**
 * sl_nsident_fd() - the identity of a network namespace held by a file
 * @fd: an open namespace file (/proc/PID/ns/net, a /run/netns mount)
 * @id: result
 *
 * Return: 0, -EINVAL when @fd is not a network namespace, or -errno
 */
int sl_nsident_fd(int fd, struct sl_nsident *id)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (sfs.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return -EINVAL;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/**
 * sl_nsident_fmt() - an identity as state files keep it, "DEV:INO"
 * @id: the identity
 * @buf: result
 *
 * Return: @buf
 */
char *sl_nsident_fmt(const struct sl_nsident *id, char buf[SL_NSIDENT_STRLEN])
{
	snprintf(buf, SL_NSIDENT_STRLEN, "%" PRIu64 ":%" PRIu64, id->dev, id->ino);
	return buf;
}

/**
 * sl_nsident_parse() - read what sl_nsident_fmt() wrote
 * @s: "DEV:INO"
 * @id: result
 *
 * Return: 0 or -EINVAL
 */
int sl_nsident_parse(const char *s, struct sl_nsident *id)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	id->dev = strtoull(s, &end, 10);
	if (errno || *end != ':' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	id->ino = strtoull(end + 1, &end, 10);
	return errno || *end || !id->ino ? -EINVAL : 0;
}

/* An fd on @path when it is the namespace @id: checked again once open, as the path may change. */
static int open_if(const char *path, const struct sl_nsident *id)
{
	struct sl_nsident got = { 0 };
	struct stat st;
	int fd;

	if (stat(path, &st) < 0 || st.st_dev != id->dev || st.st_ino != id->ino)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -ENOENT;
	if (sl_nsident_fd(fd, &got) < 0 || got.dev != id->dev || got.ino != id->ino) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

/* Whether the link at @path reads @want ("net:[INO]", as the kernel names a namespace). */
static bool link_is(const char *path, const char *want)
{
	char buf[64];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n <= 0)
		return false;
	buf[n] = 0;
	return !strcmp(buf, want);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo; undo it in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

/* A bind mount of the namespace in the mount namespace of process @pid. */
static int in_mounts(const char *pid, const struct sl_nsident *id, const char *want)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	char path[4200];

	snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid);
	f = fopen(path, "re");
	while (f && getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char root[64], mnt[4096];
		int fd;

		if (sscanf(line, "%*s %*s %u:%u %63s %4095s", &maj, &min, root, mnt) != 4 ||
		    strcmp(root, want) || makedev(maj, min) != id->dev)
			continue;
		unescape(mnt);
		snprintf(path, sizeof(path), "/proc/%s/root%s", pid, mnt);
		if ((fd = open_if(path, id)) >= 0)
			return fd;
	}
	return -ENOENT;
}

/* A task of process @pid in the namespace, or an open file of it. */
static int in_process(const char *pid, const struct sl_nsident *id, const char *want)
{
	char dir[300], path[600];
	struct dirent *e;
	DIR *d;
	int fd = -ENOENT;

	snprintf(dir, sizeof(dir), "/proc/%s/task", pid);
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		if (pass == 1)
			snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
		if (!(d = opendir(dir)))
			continue;
		while (fd < 0 && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), pass ? "%s/%s" : "%s/%s/ns/net", dir, e->d_name);
			if (link_is(path, want))
				fd = open_if(path, id);
		}
		closedir(d);
	}
	return fd;
}

static bool skipped(const int *skip, int pid)
{
	for (; skip && *skip; skip++)
		if (*skip == pid)
			return true;
	return false;
}

/* Whether @mnt ("mnt:[INO]") was seen; remember it if not. */
static bool seen_before(char (**seen)[32], size_t *n, const char *mnt)
{
	char(*v)[32];

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*seen)[i], mnt))
			return true;
	v = realloc(*seen, (*n + 1) * sizeof(*v));
	if (!v)
		return false; /* look again rather than miss a holder */
	*seen = v;
	snprintf(v[(*n)++], sizeof(*v), "%s", mnt);
	return false;
}

/**
 * sl_nsident_find() - open a namespace by its identity, if anything holds it
 * @id: the namespace
 * @hint: a path it was mounted at, looked at first (may be NULL)
 * @skip: processes whose hold does not count, 0-terminated (may be NULL):
 *	our own daemons in a VM's namespace, which end when its name goes
 *
 * A namespace lives while a mount, a task or an open file holds it; once
 * none does, the kernel tears it down, asynchronously, and its interfaces
 * are still listed for a while. So this looks for the holders, not for the
 * interfaces: @hint, then every process's tasks, mounts (in every mount
 * namespace) and open files.
 *
 * Return: an fd on the namespace, -ENOENT when nothing holds it, or -errno
 */
int sl_nsident_find(const struct sl_nsident *id, const char *hint, const int *skip)
{
	_cleanup_closedir_ DIR *proc = NULL;
	_cleanup_free_ char(*seen)[32] = NULL;
	size_t nseen = 0;
	struct dirent *e;
	char want[40];
	int fd;

	if (hint && (fd = open_if(hint, id)) >= 0)
		return fd;
	snprintf(want, sizeof(want), "net:[%" PRIu64 "]", id->ino);
	if (!(proc = opendir("/proc")))
		return -errno;
	while ((e = readdir(proc))) {
		char path[300], mnt[32];
		ssize_t n;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' || skipped(skip, atoi(e->d_name)))
			continue;
		if ((fd = in_process(e->d_name, id, want)) >= 0)
			return fd;
		snprintf(path, sizeof(path), "/proc/%s/ns/mnt", e->d_name);
		n = readlink(path, mnt, sizeof(mnt) - 1);
		if (n <= 0)
			continue;
		mnt[n] = 0;
		if (!seen_before(&seen, &nseen, mnt) && (fd = in_mounts(e->d_name, id, want)) >= 0)
			return fd;
	}
	return -ENOENT;
}

/**
 * sl_nsident_gone() - whether a namespace recorded when it was made is gone
 * @recorded: its identity, as sl_nsident_fmt() wrote it
 * @hint: where it was mounted (CNI_NETNS, /run/netns/NAME), or NULL
 * @peer_nsid: the id this namespace gives the one a link of ours has its
 *	peer in (the host end's IFLA_LINK_NETNSID), or -1 if there is none
 * @skip: processes whose hold does not count, as sl_nsident_find() takes
 *
 * Being torn down counts as gone. The kernel reuses inode numbers: with
 * @peer_nsid, what is found must also be the namespace the link's peer is
 * in, else it is another one that took the number.
 *
 * Return: 1 gone, 0 held (also when it cannot be told: whoever removes
 * things on 1 must not guess), or -EINVAL for a bad @recorded
 */
int sl_nsident_gone(const char *recorded, const char *hint, int32_t peer_nsid, const int *skip)
{
	_cleanup_close_ int fd = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_nsident id;
	int32_t nsid;

	if (sl_nsident_parse(recorded, &id) < 0)
		return -EINVAL;
	fd = sl_nsident_find(&id, hint, skip);
	if (fd == -ENOENT)
		return 1;
	if (fd < 0 || peer_nsid < 0)
		return 0;
	if (sl_nl_open(&sk) < 0 || sl_nl_nsid(sk, fd, &nsid) < 0)
		return 0;
	return nsid != peer_nsid;
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
