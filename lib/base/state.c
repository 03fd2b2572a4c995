/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "name.h"
#include "state.h"
#include "util.h"

/**
 * sl_run_dir() - where all state lives: $SL_RUN_DIR or /run/sl
 */
const char *sl_run_dir(void)
{
	const char *d = getenv("SL_RUN_DIR");

	return d && *d ? d : SL_RUN_DIR_DEFAULT;
}

/**
 * sl_owner_tag() - the mark we leave on kernel objects (interface alias)
 *
 * It carries the run directory, so that two runs with different
 * SL_RUN_DIRs tell their objects apart and sl-gc of one never takes the
 * other's.
 */
const char *sl_owner_tag(void)
{
	static char tag[256];

	/* made again if the run dir changed: a spare is made in its own (lib/vm/spare.c) */
	if (strncmp(tag + 8, sl_run_dir(), sizeof(tag) - 9) || !tag[0])
		snprintf(tag, sizeof(tag), "sltools:%s", sl_run_dir());
	return tag;
}

/**
 * sl_owner_group() - the device group of this run dir's VM host ends
 *
 * The host's rules accept a range's sources only from interfaces of this
 * group (-m devgroup), so a packet that claims a VM's address but comes in
 * elsewhere (a container's veth, the LAN) is not taken for the VM's. High
 * byte 0x5c, then 24 bits of the run dir's hash: the same on every run,
 * apart from another run dir's.
 */
uint32_t sl_owner_group(void)
{
	return 0x5c000000u | (sl_fnv1a32(sl_run_dir()) & 0xffffffu);
}

/**
 * sl_owner_mac() - the MAC of a host link we make: our prefix and a hash
 * @name: the link
 * @mac: result, SL_OWNER_MAC_PREFIX and 24 bits of FNV-1a-32 of @name
 *
 * Given at creation, so the kernel marks it set (addr_assign_type 3), which
 * udev's MACAddressPolicy=persistent leaves alone, and so udev can tell the
 * link ours by the time it first sees it (systemd/70-sltools.rules), before
 * any alias is set.
 */
void sl_owner_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = sl_fnv1a32(name);

	mac[0] = SL_OWNER_MAC0;
	mac[1] = SL_OWNER_MAC1;
	mac[2] = SL_OWNER_MAC2;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/**
 * sl_owner_alias() - the alias of a host link of ours that belongs to a VM
 * @what: what it is: "port" (bridge mode), "macvtap"
 * @name: the VM; "" gives the prefix every link of that kind shares
 * @buf: result
 * @len: size of @buf
 *
 * The owner tag, what it is and its VM, so that sl-gc finds those whose VM
 * is gone.
 */
void sl_owner_alias(const char *what, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", sl_owner_tag(), what, name);
}

/**
 * sl_alias_owner() - the VM a host link of ours belongs to
 * @alias: a link's alias
 * @what: the kind it must be, as given to sl_owner_alias()
 * @name: result, the VM's name
 * @len: size of @name
 *
 * Return: 1 when @alias is one of our links of that kind, else 0
 */
int sl_alias_owner(const char *alias, const char *what, char *name, size_t len)
{
	char prefix[320];
	size_t k;

	sl_owner_alias(what, "", prefix, sizeof(prefix));
	k = strlen(prefix);
	if (strncmp(alias, prefix, k) || !alias[k])
		return 0;
	snprintf(name, len, "%s", alias + k);
	return 1;
}

int sl_run_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(buf, len, "%s/", sl_run_dir());

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int sl_mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Only its owner may write what the tools read back as their own record:
 * a directory that is a link, someone else's, or writable by others could
 * hold planted links that make root write, truncate or delete elsewhere.
 */
int sl_dir_check(const char *path, const char *what, struct sl_error *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return sl_error(err, -errno, "%s %s: %s", what, path, strerror(errno));
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
		return sl_error(err, -EINVAL, "%s %s is %s, not a directory: refusing it", what,
				path, S_ISLNK(st.st_mode) ? "a link" : "something else");
	if (st.st_uid != geteuid())
		return sl_error(err, -EINVAL,
				"%s %s is owned by uid %u, not by us (uid %u): refusing it", what,
				path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return sl_error(err, -EINVAL,
				"%s %s is writable by others (mode %03o): refusing it", what, path,
				(unsigned)(st.st_mode & 0777));
	return 0;
}

/**
 * sl_run_dir_ready() - make the run dir if needed, and check it is ours
 * @err: why, when it fails
 *
 * Made 0700. A run dir that is a link, not ours, or writable by group or
 * others is refused (docs/SECURITY.md).
 *
 * Return: 0, or -errno / -EINVAL with the error recorded
 */
int sl_run_dir_ready(struct sl_error *err)
{
	int r = sl_mkdir_p(sl_run_dir(), 0700);

	if (r < 0)
		return sl_error(err, r, "cannot create %s: %s", sl_run_dir(), strerror(-r));
	return sl_dir_check(sl_run_dir(), "SL_RUN_DIR", err);
}

/**
 * sl_vm_dir_ready() - make a VM's state directory if needed, and check it
 * @name: VM
 * @dir: result, its path
 * @len: size of @dir
 * @err: why, when it fails
 *
 * Return: 0, or -errno / -EINVAL with the error recorded
 */
int sl_vm_dir_ready(const char *name, char *dir, size_t len, struct sl_error *err)
{
	int r = sl_name_check(name, err);

	if (r < 0 || (r = sl_run_dir_ready(err)) < 0)
		return r;
	if (sl_run_path(dir, len, "%s", name) < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sl_error(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	return sl_dir_check(dir, "state directory", err);
}

/**
 * sl_run_fopen() - open a file under the run dir, never through a link
 * @path: the file
 * @append: for appending (created if missing); else for reading
 *
 * For logs that grow (a resolver's dns.log) and their readers: a link
 * planted in their place is refused (ELOOP), not followed.
 *
 * Return: a stream, or NULL with errno set
 */
FILE *sl_run_fopen(const char *path, bool append)
{
	int fd = open(path, append ? O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC
				   : O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, append ? "a" : "r");
	if (!f)
		close(fd);
	return f;
}

/**
 * sl_run_fopen_new() - create a file under the run dir for writing, never through a link
 * @path: the file; one left by a crash, or a link planted there, is removed first
 *
 * Return: a stream, or NULL with errno set
 */
FILE *sl_run_fopen_new(const char *path)
{
	int fd;
	FILE *f;

	if (unlink(path) < 0 && errno != ENOENT)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int lock_file(const char *what, int op, struct sl_error *err)
{
	char path[4096];
	int fd, r;

	r = sl_run_dir_ready(err);
	if (r < 0)
		return r;
	r = sl_run_path(path, sizeof(path), ".%s.lock", what);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		return sl_error(err, r, "%s: %s", path, strerror(errno));
	}
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		if (r != -EWOULDBLOCK)
			sl_error(err, r, "lock %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

/**
 * sl_lock() - take an exclusive lock on shared state
 * @what: lock name, e.g. "ipam" or "host"
 * @err: why, when it fails
 *
 * flock() is released when the fd closes, also when the process dies, so a
 * kill -9 never leaves a stale lock.
 *
 * Return: fd holding the lock, or -errno with the error recorded
 */
int sl_lock(const char *what, struct sl_error *err)
{
	return lock_file(what, LOCK_EX, err);
}

/**
 * sl_lock_try() - sl_lock(), unless somebody holds it now
 * @what: lock name
 * @err: why, when it fails (not set for -EWOULDBLOCK)
 *
 * For a sweep that must leave alone whatever is being worked on.
 *
 * Return: fd holding the lock, -EWOULDBLOCK when it is held, or -errno
 */
int sl_lock_try(const char *what, struct sl_error *err)
{
	return lock_file(what, LOCK_EX | LOCK_NB, err);
}

/**
 * sl_state_load() - read $SL_RUN_DIR/NAME/vm.env
 * @name: VM name
 * @kv: list to add to; left empty when the VM has no state
 * @err: why, when it fails
 *
 * Return: 0, or -errno
 */
int sl_state_load(const char *name, struct sl_kv *kv, struct sl_error *err)
{
	char path[4096], dir[4096];
	struct stat st = { 0 };
	int r;

	if (sl_name_check(name, err) < 0)
		return -EINVAL;
	r = sl_run_path(path, sizeof(path), "%s/%s", name, SL_VM_ENV);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	/* what the tools made is read back only from where they made it */
	if (S_ISLNK(st.st_mode) || (r = sl_run_path(dir, sizeof(dir), "%s", name)) < 0 ||
	    (r = sl_dir_check(dir, "state directory", err)) < 0) {
		if (S_ISLNK(st.st_mode))
			return sl_error(err, -EINVAL, "%s is a link: refusing to read it", path);
		return r;
	}
	return sl_kv_load(kv, path, err);
}

/*
 * The per-VM lock. Its file is never removed: a lock file unlinked while a
 * waiter holds it open lets the next process lock a new file, and two
 * believe they hold the VM. So the names hash into a fixed set of files; two
 * VMs sharing one only wait for each other a moment.
 */
#define SL_VM_LOCKS 64

static void vm_lock_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "vm-%02u", (unsigned)(sl_fnv1a32(name) % SL_VM_LOCKS));
}

/**
 * sl_proc_start() - when a live process started (clock ticks since boot)
 * @pid: process
 * @start: its start time (may be NULL)
 *
 * With the pid, the start time names one process for good: a pid reused
 * after a reboot or a wrap is another process.
 *
 * Return: 0, or -ESRCH when it is gone or a zombie (whoever has not reaped it)
 */
int sl_proc_start(int pid, unsigned long long *start)
{
	char path[64], st[1024];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long t = 0;
	const char *p;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f || !fgets(st, sizeof(st), f) || !(p = strrchr(st, ')')) || p[1] != ' ' ||
	    p[2] == 'Z')
		return -ESRCH;
	/* ") S ...": field 22 is starttime (proc(5)); field 21 is always 0 */
	for (int field = 2; field < 22 && p; field++) /* to the space before field 22 */
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &t) != 1)
		return -ESRCH;
	if (start)
		*start = t;
	return 0;
}

/**
 * sl_owner_mark() - name a process the owner of a VM being made
 * @kv: gets SL_OWNER_PID and SL_OWNER_START
 * @pid: the process (getpid(): this one)
 *
 * Recorded before the first step, so that whatever a kill -9 leaves is
 * known to be abandoned (sl_owner_gone()), not taken for a network made by
 * hand. Removed when the VM is complete, unless the owner stays to take it
 * down (a foreground sl-up).
 *
 * Return: 0 or -errno
 */
int sl_owner_mark(struct sl_kv *kv, int pid)
{
	unsigned long long start = 0;
	int r = sl_proc_start(pid, &start);

	if (r == 0)
		r = sl_kv_setf(kv, "SL_OWNER_PID", "%d", pid);
	if (r == 0)
		r = sl_kv_setf(kv, "SL_OWNER_START", "%llu", start);
	return r;
}

const char *const sl_owner_keys[] = { "SL_OWNER_PID", "SL_OWNER_START", NULL };

/**
 * sl_owner_gone() - whether a VM's recorded owner has died
 * @st: the VM's state
 *
 * Return: true when an owner is recorded and that process (same pid, same
 * start time) no longer runs
 */
bool sl_owner_gone(const struct sl_kv *st)
{
	const char *pid = sl_kv_get(st, "SL_OWNER_PID"), *want = sl_kv_get(st, "SL_OWNER_START");
	unsigned long long start;

	if (!pid)
		return false;
	if (sl_proc_start(atoi(pid), &start) < 0)
		return true;
	return want && strtoull(want, NULL, 10) != start;
}

/**
 * sl_vm_lock() - take a VM's lock, for work that must not interleave
 * @name: VM name
 * @err: why, when it fails
 *
 * The lock sl_state_update() takes: release it before updating the state.
 *
 * Return: fd holding the lock, or -errno with the error recorded
 */
int sl_vm_lock(const char *name, struct sl_error *err)
{
	char lname[64];

	vm_lock_name(name, lname, sizeof(lname));
	return sl_lock(lname, err);
}

/**
 * sl_state_update() - merge keys into a VM's env file and drop others
 * @name: VM name
 * @set: keys to set (may be NULL)
 * @unset: NULL-terminated keys to remove (may be NULL)
 * @err: why, when it fails
 *
 * The file is what a person sources to debug one layer, so it is always
 * complete: written to a temporary file and renamed. When the last key
 * goes, the file goes, and the directory with it if nothing else is there.
 * A per-VM lock keeps two tools on one VM from losing each other's keys.
 *
 * Return: 0 or -errno with the error recorded
 */
int sl_state_update(const char *name, const struct sl_kv *set, const char *const *unset,
		    struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	_cleanup_close_ int lock = -1;
	char dir[4096], path[4096], tmp[4096];
	_cleanup_fclose_ FILE *f = NULL;
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	lock = sl_vm_lock(name, err);
	if (lock < 0)
		return lock;
	if (sl_run_path(dir, sizeof(dir), "%s", name) < 0 ||
	    sl_run_path(path, sizeof(path), "%s/%s", name, SL_VM_ENV) < 0 ||
	    sl_run_path(tmp, sizeof(tmp), "%s/.%s.tmp", name, SL_VM_ENV) < 0)
		return -ENAMETOOLONG;
	r = sl_state_load(name, &kv, err);
	if (r < 0)
		return r;
	if (set) {
		r = sl_kv_set(&kv, "SL_NAME", name);
		if (r == 0)
			r = sl_kv_merge(&kv, set);
		if (r < 0)
			return r;
	}
	for (; unset && *unset; unset++)
		sl_kv_unset(&kv, *unset);

	/* SL_NAME alone describes nothing that exists. */
	if (!kv.n || (kv.n == 1 && sl_kv_get(&kv, "SL_NAME"))) {
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			return sl_error(err, r, "%s: %s", path, strerror(errno));
		}
		if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
			sl_debug("rmdir %s: %s", dir, strerror(errno));
		return 0;
	}
	r = sl_vm_dir_ready(name, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	f = sl_run_fopen_new(tmp);
	if (!f) {
		r = -errno;
		return sl_error(err, r, "%s: %s", tmp, strerror(errno));
	}
	r = sl_kv_write(&kv, f, false);
	if (r == 0 && fflush(f) != 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		sl_error(err, r, "cannot write %s: %s", path, strerror(-r));
		unlink(tmp);
	}
	return r;
}

void sl_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Whether VM dir @name holds nothing but, perhaps, the temporary of a state
 * write: a kill between the mkdir and the write, or the write and its
 * rename. (ipam/ and egress/ are the run dir's own, not VMs'.)
 */
static bool only_torn_write(const char *name)
{
	char path[4096];
	DIR *d;
	struct dirent *de;
	bool other = false;

	if (!strcmp(name, "ipam") || !strcmp(name, "egress") ||
	    sl_run_path(path, sizeof(path), "%s", name) < 0 || !(d = opendir(path)))
		return false;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (strcmp(de->d_name, "." SL_VM_ENV ".tmp"))
			other = true;
	}
	closedir(d);
	return !other;
}

/**
 * sl_state_torn() - VM directories that hold only a cut-short state write
 * @sw: the sweep, told each such VM
 *
 * A kill -9 between the mkdir of the first write of a VM's state and the
 * rename of its temporary leaves a directory with no vm.env, empty or with
 * that temporary: no tool sees a VM there, so nothing else would ever
 * remove it. Taken under the
 * VM's lock, so a write in progress is waited for, never cut.
 *
 * Return: how many were (or would be) removed
 */
int sl_state_torn(struct sl_sweep *sw)
{
	DIR *d = opendir(sl_run_dir());
	struct dirent *de;
	int found = 0;

	while (d && (de = readdir(d))) {
		_cleanup_close_ int lock = -1;
		char path[4096];

		if (de->d_name[0] == '.' || sl_name_check(de->d_name, NULL) < 0 ||
		    !only_torn_write(de->d_name))
			continue;
		lock = sl_vm_lock(de->d_name, NULL);
		if (lock < 0 || !only_torn_write(de->d_name)) /* again, under the lock */
			continue;
		sl_sweep_say(sw, "VM %s: a state directory left empty or with only a cut-short write",
			     de->d_name);
		found++;
		if (sw->dry || sl_run_path(path, sizeof(path), "%s/.%s.tmp", de->d_name, SL_VM_ENV) < 0)
			continue;
		unlink(path);
		if (sl_run_path(path, sizeof(path), "%s", de->d_name) == 0)
			rmdir(path);
	}
	if (d)
		closedir(d);
	return found;
}

/**
 * sl_state_list() - names of the VMs that have state under $SL_RUN_DIR
 * @names: result, sorted; free with sl_strv_free()
 * @n: count
 * @err: why, when it fails
 *
 * Return: 0 or -errno
 */
int sl_state_list(char ***names, size_t *n, struct sl_error *err)
{
	DIR *d = opendir(sl_run_dir());
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : sl_error(err, -errno, "%s: %s", sl_run_dir(), strerror(errno));
	while ((de = readdir(d))) {
		char path[4096];
		char **nv;

		if (de->d_name[0] == '.' || sl_name_check(de->d_name, NULL) < 0)
			continue;
		if (sl_run_path(path, sizeof(path), "%s/%s", de->d_name, SL_VM_ENV) < 0 ||
		    access(path, F_OK) < 0)
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(de->d_name))) {
			closedir(d);
			sl_strv_free(nv ? nv : v, cnt);
			return sl_error(err, -ENOMEM, "%s: %s", sl_run_dir(), strerror(ENOMEM));
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

/**
 * sl_state_purge() - remove a VM's state directory and all in it
 * @name: VM name
 * @err: why, when it fails
 *
 * For the end of a VM's life (sl-up down, sl-gc): its logs go too.
 *
 * Return: 0 or -errno
 */
int sl_state_purge(const char *name, struct sl_error *err)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int fd, r;

	if (sl_name_check(name, err) < 0 || sl_run_path(path, sizeof(path), "%s", name) < 0)
		return -EINVAL;
	if ((r = sl_dir_check(sl_run_dir(), "SL_RUN_DIR", err)) < 0)
		return r;
	/* A link planted in place of the directory is removed, never followed. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return unlink(path) < 0 ? -errno : 0;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	if (rmdir(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/**
 * sl_self_dir() - the directory of the running binary
 */
int sl_self_dir(char *buf, size_t len)
{
	char exe[4000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(buf, len, "%s", exe);
	return 0;
}

/**
 * sl_locate() - find one of the project's files: checkout first, then installed
 * @buf: result
 * @len: size of @buf
 * @env: a variable naming the directory (wins when set)
 * @rel: the directory relative to the binary's, in a checkout after make
 * @installed: the directory make install uses
 * @file: the file in that directory ("" for the directory itself)
 *
 * Return: 0, or -ENOENT with @buf holding the last place tried
 */
int sl_locate(char *buf, size_t len, const char *env, const char *rel, const char *installed,
	      const char *file)
{
	const char *e = getenv(env);
	char self[4000];

	if (e && *e) {
		snprintf(buf, len, "%s%s%s", e, *file ? "/" : "", file);
		return access(buf, F_OK) == 0 ? 0 : -ENOENT;
	}
	if (sl_self_dir(self, sizeof(self)) == 0) {
		snprintf(buf, len, "%s/%s%s%s", self, rel, *file ? "/" : "", file);
		if (access(buf, F_OK) == 0)
			return 0;
	}
	snprintf(buf, len, "%s%s%s", installed, *file ? "/" : "", file);
	return access(buf, F_OK) == 0 ? 0 : -ENOENT;
}

static int step_path(char *buf, size_t len, const char *name, const char *step, const char *sfx)
{
	return sl_run_path(buf, len, "%s/%s%s", name, step, sfx);
}

/**
 * sl_step_begin() - mark in a VM's run dir that a step is under way
 * @name: VM (its run dir exists)
 * @step: the marker's file name, e.g. "booting"
 * @kv: what a sweep needs to undo the step if this process dies, or NULL
 * @err: why, when it fails
 *
 * The marker is locked before it takes its name (written as a temporary,
 * locked, renamed), so no one ever sees it unlocked while the step lives;
 * a kill -9 drops the lock, which is how sl_step_abandoned() tells a dead
 * step from one under way. The fd is close-on-exec: no child holds it.
 *
 * Return: the fd for sl_step_end(), or -errno with the error recorded
 */
int sl_step_begin(const char *name, const char *step, const struct sl_kv *kv,
		  struct sl_error *err)
{
	char path[4096], tmp[4096];
	FILE *f;
	int fd, r = 0;

	if (step_path(path, sizeof(path), name, step, "") < 0 ||
	    step_path(tmp, sizeof(tmp), name, step, ".new") < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: run dir path too long", name);
	f = sl_run_fopen_new(tmp);
	if (!f)
		return sl_error(err, -errno, "%s: %s", tmp, strerror(errno));
	if (kv)
		r = sl_kv_write(kv, f, false);
	if (fflush(f) != 0 || flock(fileno(f), LOCK_EX) < 0)
		r = -errno;
	/* the lock is the open file's: it holds through the copy */
	fd = r < 0 ? -1 : fcntl(fileno(f), F_DUPFD_CLOEXEC, 0);
	fclose(f);
	if (fd < 0 || rename(tmp, path) < 0) {
		r = r < 0 ? r : -errno;
		unlink(tmp);
		if (fd >= 0)
			close(fd);
		return sl_error(err, r, "%s: %s", path, strerror(-r));
	}
	return fd;
}

/**
 * sl_step_end() - the step is over (done or undone): its marker goes
 * @name: VM
 * @step: as given to sl_step_begin()
 * @fd: sl_step_begin()'s or sl_step_abandoned()'s; closed here (< 0: nothing)
 *
 * Unlinked before the lock drops, so a sweep that opened it just before
 * finds it unlinked once it gets the lock, and leaves it.
 */
void sl_step_end(const char *name, const char *step, int fd)
{
	char path[4096];

	if (fd < 0)
		return;
	if (step_path(path, sizeof(path), name, step, "") == 0)
		unlink(path);
	close(fd);
}

/**
 * sl_step_abandoned() - a step whose process died before it ended
 * @name: VM
 * @step: as given to sl_step_begin()
 * @kv: filled with what the marker holds
 *
 * Return: an fd holding the marker's lock (undo the step, then
 * sl_step_end()), or -ENOENT (no such step), -EWOULDBLOCK (under way)
 */
int sl_step_abandoned(const char *name, const char *step, struct sl_kv *kv)
{
	char path[4096];
	struct stat a, b;
	int fd;

	if (step_path(path, sizeof(path), name, step, "") < 0)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -EWOULDBLOCK;
	}
	/* ended while we waited for the lock: not ours to undo */
	if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev || sl_kv_load(kv, path, NULL) < 0) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}
