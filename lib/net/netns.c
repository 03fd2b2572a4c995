/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
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

#include "error.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "nsident.h"
#include "state.h"
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
int sl_netns_create(const char *name, int (*setup)(void *, struct sl_error *), void *arg,
		    struct sl_error *err)
{
	_cleanup_close_ int saved = -1;
	char path[256];
	int fd, r;

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	r = prepare_run_dir();
	if (r < 0)
		return sl_error(err, r, "cannot prepare %s: %s", SL_NETNS_RUN_DIR, strerror(-r));
	if (sl_netns_remove_stale(name) > 0)
		sl_debug("%s: an empty mount point left by an interrupted add: replaced", path);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		if (r != -EEXIST)
			return sl_error(err, r, "cannot create %s: %s", path, strerror(errno));
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
	if (setup && (r = setup(arg, err)) < 0) {
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
	sl_error(err, r, "cannot create namespace %s: %s", name, strerror(-r));
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
 * @err: why, when it fails
 *
 * The namespace itself lives on while a process is still in it.
 *
 * Return: 0 (also when it was not there) or -errno with the error recorded
 */
int sl_netns_remove(const char *name, struct sl_error *err)
{
	char path[256];

	if (sl_netns_path(name, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		int e = errno;

		return sl_error(err, -e, "cannot unmount %s: %s", path, strerror(e));
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		int e = errno;

		return sl_error(err, -e, "cannot remove %s: %s", path, strerror(e));
	}
	return 0;
}

/**
 * sl_if_no_ipv6() - turn IPv6 off on one interface of this namespace
 * @ifname: the interface
 * @err: why, when it fails
 *
 * Return: 0 (also when the kernel has no IPv6), or -errno with the error
 * recorded
 */
int sl_if_no_ipv6(const char *ifname, struct sl_error *err)
{
	char key[128];
	int r;

	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
	r = sl_sysctl_write(key, "1", err);
	return r == -ENOENT ? 0 : r;
}

/**
 * sl_sysctl_write() - set a sysctl of the current network namespace
 * @key: path below /proc/sys, e.g. "net/ipv4/ip_forward"
 * @val: value
 * @err: why, when it fails
 *
 * /proc/sys/net follows the namespace of the process that opens it, unlike
 * /sys/class/net, which follows the mount (docs/DESIGN.md §7).
 *
 * Return: 0 or -errno with the error recorded
 */
int sl_sysctl_write(const char *key, const char *val, struct sl_error *err)
{
	char path[512];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, len) != (ssize_t)len) {
		int e = errno;

		return sl_error(err, -e, "cannot set %s: %s", path, strerror(e));
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

/*
 * The VM layer of sl-netns: a VM's namespace, made and checked as ours,
 * on top of the mechanics above.
 */

/* 0 when namespace @name is ours, -EEXIST (said) when it is someone else's. */
static int netns_ours(const char *name, struct sl_error *err)
{
	int r = sl_owned_netns(name);

	if (r < 0)
		return sl_error(err, r, "namespace %s: %s", name, strerror(-r));
	if (!r)
		return sl_error(err, -EEXIST, "namespace %s exists but was not made by sltools in %s",
				name, sl_run_dir());
	return 0;
}

/**
 * sl_vm_netns_open() - open a VM's namespace, checking that it is ours
 * @name: VM name
 * @err: why, when it fails
 *
 * Return: fd; -EINVAL for a name no VM can have, -ENXIO when there is
 * none (an unknown VM), -EEXIST when it is someone else's; the error
 * recorded
 */
int sl_vm_netns_open(const char *name, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = sl_name_check(name, err);

	if (r < 0)
		return r;
	fd = sl_netns_open(name);
	if (fd == -ENOENT)
		return sl_error(err, -ENXIO, "no namespace %s (run sl-netns add %s first)", name,
				name);
	if (fd < 0)
		return sl_error(err, fd, "cannot open namespace %s: %s", name, strerror(-fd));
	if ((r = netns_ours(name, err)) < 0)
		return r;
	return sl_steal_fd(&fd);
}

/**
 * sl_owned_netns() - whether a named namespace is one of ours
 * @name: namespace name
 *
 * Ours carry the owner tag as the alias of their loopback: a mark in the
 * kernel, so it survives the loss of $SL_RUN_DIR (a reboot of /run aside).
 *
 * Return: 1, 0 (foreign or absent), or -errno
 */
int sl_owned_netns(const char *name)
{
	_cleanup_close_ int fd = sl_netns_open(name);
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_netns_ int saved = -1;
	struct sl_link lo;
	int r;

	if (fd == -ENOENT || fd == -EBADF)
		return 0;
	if (fd < 0)
		return fd;
	saved = sl_netns_enter(fd);
	if (saved < 0)
		return saved;
	r = sl_nl_open(&sk);
	if (r < 0)
		return r;
	r = sl_link_get(sk, "lo", &lo);
	if (r < 0)
		return r;
	return !strcmp(lo.alias, sl_owner_tag());
}

/* lo up and tagged, IPv6 off for every interface to come, forwarding on. */
static int netns_setup_here(void *unused, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	int r;

	(void)unused;
	r = sl_nl_open_or_fail(&sk, err);
	if (r < 0)
		return r;
	r = sl_link_set(sk, "lo", 1, sl_owner_tag());
	if (r < 0)
		return sl_error(err, r, "cannot set up lo: %s", strerror(-r));
	if ((r = sl_sysctl_write("net/ipv6/conf/default/disable_ipv6", "1", err)) < 0 ||
	    (r = sl_sysctl_write("net/ipv6/conf/all/disable_ipv6", "1", err)) < 0 ||
	    (r = sl_sysctl_write("net/ipv4/ip_forward", "1", err)) < 0)
		return r;
	return 0;
}

static int netns_setup(int fd, struct sl_error *err)
{
	_cleanup_netns_ int saved = sl_netns_enter(fd);

	if (saved < 0)
		return saved;
	return netns_setup_here(NULL, err);
}

/*
 * Made and tagged under the VM's lock: a second add of the same name waits,
 * then finds one of ours and re-applies, instead of seeing an untagged
 * namespace of the moment and calling it foreign.
 */
static int netns_make(const char *name, struct sl_error *err)
{
	_cleanup_close_ int lock = sl_vm_lock(name, err);
	_cleanup_close_ int fd = -1;
	int r;

	if (lock < 0)
		return lock;
	r = sl_netns_create(name, netns_setup_here, NULL, err);
	if (r != -EEXIST)
		return r;
	if ((r = netns_ours(name, err)) < 0)
		return r;
	fd = sl_netns_open(name);
	if (fd < 0)
		return fd;
	return netns_setup(fd, err);
}

/**
 * sl_netns_add() - create a VM's private namespace
 * @name: VM name
 * @out: SL_NETNS
 *
 * The state keeps SL_NETNS_ID too, the namespace's identity, by which
 * sl-gc tells that it is gone (also while the kernel tears it down).
 * @err: why, when it fails
 *
 * Adding one of ours again re-applies its settings and succeeds; a
 * namespace of the same name that is not ours is refused and untouched.
 *
 * Return: 0, -EEXIST, or -errno with the error recorded
 */
int sl_netns_add(const char *name, struct sl_kv *out, struct sl_error *err)
{
	char path[256];
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	sl_netns_path(name, path, sizeof(path));
	r = netns_make(name, err);
	if (r == 0)
		r = sl_kv_set(out, "SL_NETNS", path);
	if (r == 0) {
		_cleanup_close_ int fd = sl_netns_open(name);
		_cleanup_kv_ struct sl_kv st = { 0 };
		struct sl_nsident id;
		char ident[SL_NSIDENT_STRLEN];

		r = fd < 0 ? fd : sl_nsident_fd(fd, &id);
		if (r < 0)
			return sl_error(err, r, "namespace %s: %s", name, strerror(-r));
		if (sl_kv_set(&st, "SL_NETNS", path) < 0 ||
		    sl_kv_set(&st, "SL_NETNS_ID", sl_nsident_fmt(&id, ident)) < 0)
			return -ENOMEM;
		r = sl_state_update(name, &st, NULL, err);
	}
	return r;
}

/*
 * The host end of a VM's veth goes when the kernel frees the namespace,
 * asynchronously. Wait for it, so that del means gone, and take it by hand
 * if something still holds the namespace.
 */
static int wait_host_end(struct nl_sock *sk, const char *ifname, int ifindex)
{
	struct sl_link h;

	for (int waited = 0; waited < 3000; waited += 2) {
		if (sl_link_get(sk, ifname, &h) < 0 || h.ifindex != ifindex)
			return 0;
		usleep(2000);
	}
	return sl_link_del(sk, ifname);
}

/*
 * Whether @h, the host link named as VM @name, is a veth whose peer lives in
 * the VM's namespace: removing the namespace removes it too (whatever its
 * alias says: an add killed before it set the alias leaves one without).
 */
static bool peered_into_vm_netns(struct nl_sock *sk, const char *name, const struct sl_link *h)
{
	_cleanup_close_ int fd = -1;
	int32_t nsid = -1;

	if (strcmp(h->kind, "veth") || !h->has_peer_netns || (fd = sl_netns_open(name)) < 0)
		return false;
	return sl_nl_nsid(sk, fd, &nsid) == 0 && nsid >= 0 && nsid == h->peer_nsid;
}

/**
 * sl_netns_del() - remove a VM's namespace, and so everything in it
 * @name: VM name
 * @err: why, when it fails
 *
 * Like `ip netns del`, this takes the TAP and the veth pair with the
 * namespace; the kernel removes them in one batch, which is cheaper than
 * sl-tap del and sl-veth del one after the other.
 *
 * Return: 0, also when it is already gone; -EEXIST when it is not ours
 */
int sl_netns_del(const char *name, struct sl_error *err)
{
	static const char *const keys[] = { "SL_NETNS", "SL_NETNS_ID", "SL_TAP", "SL_VETH_HOST",
					    "SL_VETH_NS", NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link h = { 0 };
	char ifname[SL_IFNAME_MAX + 1];
	int r = sl_name_check(name, err);

	if (r < 0)
		return r;
	{
		/* what an add killed half-way left: not a namespace, but in its place */
		_cleanup_close_ int lock = sl_vm_lock(name, err);

		if (lock >= 0)
			sl_netns_remove_stale(name);
	}
	r = sl_netns_exists(name);
	if (r > 0) {
		r = sl_owned_netns(name);
		if (r < 0)
			return r;
		if (!r)
			return sl_error(err, -EEXIST,
					"namespace %s was not made by sltools in %s: left alone",
					name, sl_run_dir());
		r = sl_nl_open_or_fail(&sk, err);
		if (r < 0)
			return r;
		sl_ifname(name, ifname);
		if (sl_link_get(sk, ifname, &h) < 0 || !peered_into_vm_netns(sk, name, &h))
			h.ifindex = 0;
		r = sl_netns_remove(name, err);
		if (r == 0 && h.ifindex)
			r = wait_host_end(sk, ifname, h.ifindex);
	}
	if (r < 0)
		return r;
	return sl_state_update(name, NULL, keys, err);
}

/**
 * sl_netns_check() - compare a VM's namespace with what sl_netns_add() makes
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_netns_check(const char *name, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_netns_ int saved = -1;
	struct sl_link lo;
	char v[32];
	int problems = 0, r;

	fd = sl_vm_netns_open(name, err);
	if (fd < 0)
		return fd;
	if ((r = sl_nl_open_in(fd, &saved, &sk, err)) < 0)
		return r;
	if (sl_link_get(sk, "lo", &lo) < 0 || !(lo.flags & IFF_UP))
		sl_check(&problems, "%s: lo is not up", name);
	if (sl_sysctl_read("net/ipv6/conf/all/disable_ipv6", v, sizeof(v)) < 0 || strcmp(v, "1"))
		sl_check(&problems, "%s: IPv6 is not disabled (net.ipv6.conf.all.disable_ipv6)", name);
	if (sl_sysctl_read("net/ipv6/conf/default/disable_ipv6", v, sizeof(v)) < 0 || strcmp(v, "1"))
		sl_check(&problems, "%s: IPv6 is not disabled for new links "
			 "(net.ipv6.conf.default.disable_ipv6)", name);
	if (sl_sysctl_read("net/ipv4/ip_forward", v, sizeof(v)) < 0 || strcmp(v, "1"))
		sl_check(&problems, "%s: forwarding is off (net.ipv4.ip_forward)", name);
	return problems;
}

/**
 * sl_netns_list() - names of the namespaces under /run/netns that are ours
 * @err: why, when it fails
 */
int sl_netns_list(char ***names, size_t *n, struct sl_error *err)
{
	_cleanup_free_ char **all = NULL;
	size_t cnt = 0, k = 0;
	int r;

	*names = NULL;
	*n = 0;
	{
		DIR *d;
		struct dirent *de;

		d = opendir(SL_NETNS_RUN_DIR);
		if (!d)
			return errno == ENOENT ? 0 : sl_error(err, -errno, "%s: %s", SL_NETNS_RUN_DIR, strerror(errno));
		while ((de = readdir(d))) {
			char **nv;

			if (de->d_name[0] == '.' || sl_name_check(de->d_name, NULL) < 0)
				continue;
			nv = realloc(all, (cnt + 1) * sizeof(*nv));
			if (!nv || !(nv[cnt] = strdup(de->d_name))) {
				closedir(d);
				sl_strv_free(nv ? nv : all, cnt);
				all = NULL;
				return sl_error(err, -ENOMEM, "%s: %s", SL_NETNS_RUN_DIR, strerror(ENOMEM));
			}
			all = nv;
			cnt++;
		}
		closedir(d);
	}
	for (size_t i = 0; i < cnt; i++) {
		r = sl_owned_netns(all[i]);
		if (r > 0)
			all[k++] = all[i];
		else
			free(all[i]);
	}
	*names = SL_STEAL(all);
	*n = k;
	return 0;
}
