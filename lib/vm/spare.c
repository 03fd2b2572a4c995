/* SPDX-License-Identifier: MIT */
/*
 * Spare clones: a VM restored ahead of time from a snapshot and run once
 * through the identity's paths, that `sl-boot start --from` takes instead
 * of restoring. Under TCG most of a restore is the guest's code translated
 * afresh in a new QEMU (docs/VM.md); a spare has paid for that already.
 *
 * A spare is a VM of a run dir of its own, $SL_RUN_DIR/.spares, made with
 * the same library calls as any (namespace, TAP, start --from): nothing of
 * this run dir lists, sweeps or tags it. Taking one moves its TAP into the
 * VM's namespace in place of the VM's own (sl_tap_adopt()) and tells its
 * supervisor to become the VM (SL_RENAME): its sockets, pid files and logs
 * move into the VM's directory. The VM's identity then follows as for any
 * restore.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cidr.h"
#include "error.h"
#include "fault.h"
#include "file.h"
#include "log.h"
#include "netns.h"
#include "nl.h"
#include "snapshot.h"
#include "spare.h"
#include "state.h"
#include "tap.h"
#include "util.h"
#include "vm.h"

/* A spare's own network, in its own namespace only: TEST-NET-1, no way out. */
#define SPARE_GW 0xc0000201u /* 192.0.2.1 */
#define SPARE_IP 0xc0000202u

/* $SL_RUN_DIR/.spares, or a spare's directory in it. */
static int spares_path(char *buf, size_t len, const char *id)
{
	return sl_run_path(buf, len, "%s%s%s", SL_SPARES, id ? "/" : "", id ? id : "");
}

/* While one lives, the process works in the spares' run dir. */
struct run_dir_swap {
	char *old;
};

static void swap_back(struct run_dir_swap *s)
{
	if (s->old) {
		setenv("SL_RUN_DIR", s->old, 1);
		free(s->old);
	}
}

static int swap_to_spares(struct run_dir_swap *s)
{
	char dir[4096];

	if (spares_path(dir, sizeof(dir), NULL) < 0 || !(s->old = strdup(sl_run_dir())))
		return -ENOMEM;
	return setenv("SL_RUN_DIR", dir, 1) < 0 ? -errno : 0;
}

#define _cleanup_swap_ __attribute__((cleanup(swap_back)))

/* A spare gone whole: its processes, namespace (with its TAP) and directory. */
static void spare_end(const char *id)
{
	_cleanup_swap_ struct run_dir_swap sw = { 0 };
	char dir[4096];

	if (swap_to_spares(&sw) < 0)
		return;
	sl_boot_stop(id, 0, NULL);
	if (sl_netns_exists(id) == 1)
		sl_netns_remove(id, NULL);
	if (sl_run_path(dir, sizeof(dir), "%s", id) == 0)
		sl_remove_tree(dir);
}

/*
 * Its directory, locked (-EWOULDBLOCK while it is made or taken), and its
 * state (-ENOENT: none, its maker died early, or it was taken a moment ago).
 */
static int spare_lock(const char *id, struct sl_kv *st)
{
	char dir[4096], path[4200];
	_cleanup_close_ int fd = -1;

	if (spares_path(dir, sizeof(dir), id) < 0)
		return -ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, SL_VM_ENV);
	if (sl_kv_load(st, path, NULL) < 0)
		return -ENOENT;
	return sl_steal_fd(&fd);
}

static bool alive(const struct sl_kv *st, const char *key)
{
	const char *v = sl_kv_get(st, key);

	return v && atoi(v) > 0 && kill(atoi(v), 0) == 0;
}

/* The identity of the snapshot's manifest: a spare of a snapshot made anew is stale. */
static int manifest_id(const char *from, char *buf, size_t len)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", from, SL_SNAP_MANIFEST);
	if (stat(path, &st) < 0)
		return -errno;
	sl_file_id(&st, buf, len);
	return 0;
}

/* Whether spare @id's TAP is in its namespace: a taking moves it out first. */
static bool has_tap(const char *id)
{
	_cleanup_close_ int ns = sl_netns_open(id);
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link t;

	return ns >= 0 && sl_nl_open_in(ns, &saved, &sk, NULL) == 0 &&
	       sl_link_get(sk, SL_TAP_DEFAULT, &t) == 0;
}

/* Why spare @id (state @st) is of no use any more, or NULL. */
static const char *spare_stale(const char *id, const struct sl_kv *st)
{
	const char *from = sl_kv_get(st, "SL_SPARE_OF"), *mid = sl_kv_get(st, "SL_SPARE_MANIFEST");
	char now[128];

	if (!alive(st, "SL_PID") || !alive(st, "SL_QEMU_PID"))
		return "its QEMU or supervisor is gone";
	if (!has_tap(id))
		return "its TAP was taken: a start killed half-way";
	if (!from || !mid || manifest_id(from, now, sizeof(now)) < 0 || strcmp(now, mid))
		return "its snapshot is gone or was made anew";
	return NULL;
}

/**
 * sl_spare_add() - restore a spare from a snapshot, for a start to take
 * @c: the snapshot (@c->from) and what a restore of it takes (QEMU,
 *     accelerator, timeout, name servers: a VM taking the spare with others
 *     writes resolv.conf)
 * @out: SL_SPARE (its id), SL_PID, SL_QEMU_PID
 * @err: why, when it fails
 *
 * Isolated mode, a static guest, no disk. The spare gets two identities
 * (addresses, MACs and name servers of its own namespace) and runs a
 * command twice, so that the paths a VM's identity and first command take
 * are translated already; its NIC stays cut from the wire. On failure
 * nothing of it is left.
 *
 * Return: 0, or -errno with the error recorded (-EINVAL: bad input)
 */
int sl_spare_add(const struct sl_boot_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_swap_ struct run_dir_swap sw = { 0 };
	_cleanup_kv_ struct sl_kv tmp = { 0 }, mine = { 0 };
	_cleanup_close_ int lock = -1;
	char id[16], dir[4096], from[4096], qemu[4096], mid[128];
	struct sl_boot_cfg s = *c;
	uint32_t rnd;
	int r;

	if (c->mode != SL_NET_ISOLATED || c->disk)
		return sl_error(err, -EINVAL, "a spare is for isolated mode and a VM without a disk");
	if (!realpath(c->from, from) || manifest_id(from, mid, sizeof(mid)) < 0)
		return sl_error(err, -EINVAL, "snapshot '%s': %s", c->from, strerror(errno));
	if (sl_qemu_path(c->qemu, qemu, sizeof(qemu)) < 0)
		return sl_error(err, -EINVAL, "no QEMU '%s'", c->qemu);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sl_error(err, -errno, "getrandom: %s", strerror(errno));
	snprintf(id, sizeof(id), "sp-%08x", rnd);
	if ((r = sl_run_dir_ready(err)) < 0 || (r = swap_to_spares(&sw)) < 0 ||
	    (r = sl_vm_dir_ready(id, dir, sizeof(dir), err)) < 0)
		return r;
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) < 0)
		return sl_error(err, -errno, "%s: %s", dir, strerror(errno));
	s.name = id;
	s.from = from;
	s.tap = SL_TAP_DEFAULT;
	s.ip = SPARE_IP;
	s.gw = SPARE_GW;
	s.prefix = 24;
	s.spare = true;
	if ((r = sl_netns_add(id, &tmp, err)) < 0 ||
	    (r = sl_tap_add(&(struct sl_tap_cfg){ id, SL_TAP_DEFAULT, SPARE_GW, 24 }, &tmp, err)) < 0 ||
	    (r = sl_boot_start(&s, out, err)) < 0 || (r = sl_kv_set(&mine, "SL_SPARE_OF", from)) < 0 ||
	    (r = sl_kv_set(&mine, "SL_SPARE_MANIFEST", mid)) < 0 ||
	    (r = sl_kv_set(&mine, "SL_SPARE_QEMU", qemu)) < 0 ||
	    (r = sl_state_update(id, &mine, NULL, err)) < 0) {
		swap_back(&sw);
		sw.old = NULL;
		spare_end(id);
		return r;
	}
	return sl_kv_set(out, "SL_SPARE", id);
}

/* Spare @id, locked, becomes VM @c: its TAP, then its supervisor's files. */
static int take(const struct sl_boot_cfg *c, const char *id, struct sl_error *err)
{
	char sock[4200];
	_cleanup_close_ int ns = sl_netns_open(id);
	int r;

	if (ns < 0)
		return -EAGAIN;
	sl_debug("%s: taking spare %s", c->name, id);
	r = sl_tap_adopt(c->name, c->tap, c->gw, c->prefix, ns, SL_TAP_DEFAULT, err);
	if (r == -EAGAIN)
		return r;
	if (r == 0)
		sl_debug("%s: the spare's TAP is the VM's", c->name);
	if (r == 0 && sl_fault("taking", c->name)) /* tests: killed with the TAP moved */
		raise(SIGSTOP);
	if (r == 0 && (r = spares_path(sock, sizeof(sock), id)) == 0) {
		strncat(sock, "/" SL_AGENT_SOCK, sizeof(sock) - strlen(sock) - 1);
		r = sl_agent_rename(sock, c->name, err);
	}
	if (r < 0)
		return sl_error_wrap(err, r, "%s: taking spare %s", c->name, id);
	return 0;
}

/**
 * sl_spare_take() - make a spare of @c's snapshot VM @c, if there is one
 * @c: the VM, its network made (isolated mode, its TAP as sl-tap left it)
 * @accel: the accelerator its start chose
 * @out: SL_SPARE, the spare it took
 * @err: why, when it fails
 *
 * Afterwards the VM runs with its processes and files its own, the guest
 * still the spare's: the caller gives it its identity and the wire.
 *
 * Return: 0; -EAGAIN when no spare fits (nothing done); -errno with the
 * error recorded, the spare stopped and the VM's TAP in place
 */
int sl_spare_take(const struct sl_boot_cfg *c, const char *accel, struct sl_kv *out,
		  struct sl_error *err)
{
	_cleanup_closedir_ DIR *d = NULL;
	char dir[4096], from[4096], qemu[4096];
	struct dirent *e;

	if (c->mode != SL_NET_ISOLATED || !c->ip || c->disk || c->spare ||
	    spares_path(dir, sizeof(dir), NULL) < 0 || !(d = opendir(dir)) ||
	    !realpath(c->from, from) || sl_qemu_path(c->qemu, qemu, sizeof(qemu)) < 0)
		return -EAGAIN;
	while ((e = readdir(d))) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		_cleanup_close_ int lock = -1;
		const char *v;
		int r;

		if (strncmp(e->d_name, "sp-", 3))
			continue;
		lock = spare_lock(e->d_name, &st);
		if (lock < 0)
			continue;
		if (!(v = sl_kv_get(&st, "SL_SPARE_OF")) || strcmp(v, from) ||
		    !(v = sl_kv_get(&st, "SL_ACCEL")) || strcmp(v, accel) ||
		    !(v = sl_kv_get(&st, "SL_SPARE_QEMU")) || strcmp(v, qemu) || spare_stale(e->d_name, &st))
			continue;
		r = take(c, e->d_name, err);
		if (r == -EAGAIN)
			continue;
		spare_end(e->d_name); /* taken: what is left of it; or broken */
		if (r < 0)
			return r;
		sl_debug("%s: took spare %s", c->name, e->d_name);
		return sl_kv_set(out, "SL_SPARE", e->d_name);
	}
	return -EAGAIN;
}

/*
 * Every spare (of snapshot @from only, when given): @fn(id, state, arg)
 * with the spare locked; ones being made or taken are skipped.
 */
static void each_spare(const char *from, void (*fn)(const char *, const struct sl_kv *, void *),
		       void *arg)
{
	_cleanup_closedir_ DIR *d = NULL;
	char dir[4096], abs[4096];
	struct dirent *e;

	if (spares_path(dir, sizeof(dir), NULL) < 0 || !(d = opendir(dir)))
		return;
	if (from && !realpath(from, abs))
		snprintf(abs, sizeof(abs), "%s", from);
	while ((e = readdir(d))) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		_cleanup_close_ int lock = -1;
		const char *v;

		if (strncmp(e->d_name, "sp-", 3))
			continue;
		lock = spare_lock(e->d_name, &st);
		if (lock == -ENOENT) {
			/* a directory without state and unlocked: a maker killed early */
			_cleanup_kv_ struct sl_kv none = { 0 };

			if (!from)
				fn(e->d_name, &none, arg);
			continue;
		}
		if (lock < 0 || (from && (!(v = sl_kv_get(&st, "SL_SPARE_OF")) || strcmp(v, abs))))
			continue;
		fn(e->d_name, &st, arg);
	}
}

static void stop_one(const char *id, const struct sl_kv *st, void *arg)
{
	(void)st;
	++*(unsigned *)arg;
	spare_end(id);
}

/**
 * sl_spare_stop() - stop the spares of a snapshot
 * @from: its directory
 *
 * Return: how many were stopped
 */
unsigned sl_spare_stop(const char *from)
{
	unsigned n = 0;

	each_spare(from, stop_one, &n);
	return n;
}

struct listing {
	unsigned n;
	char names[4096];
};

static void list_one(const char *id, const struct sl_kv *st, void *arg)
{
	struct listing *l = arg;
	size_t k = strlen(l->names);

	if (spare_stale(id, st))
		return;
	l->n++;
	snprintf(l->names + k, sizeof(l->names) - k, "%s%s", k ? "," : "", id);
}

/**
 * sl_spare_list() - the usable spares of a snapshot
 * @from: its directory
 * @out: SL_SPARES (how many), SL_SPARE_NAMES (comma-separated)
 *
 * Return: 0 or -ENOMEM
 */
int sl_spare_list(const char *from, struct sl_kv *out)
{
	struct listing l = { 0 };

	each_spare(from, list_one, &l);
	if (sl_kv_setf(out, "SL_SPARES", "%u", l.n) < 0 || sl_kv_set(out, "SL_SPARE_NAMES", l.names) < 0)
		return -ENOMEM;
	return 0;
}

static void gc_one(const char *id, const struct sl_kv *st, void *arg)
{
	struct sl_sweep *sw = arg;
	const char *why = st->n ? spare_stale(id, st) : "half-made, its maker gone";

	if (!why)
		return;
	sl_sweep_say(sw, "spare %s (%s)", id, why);
	if (!sw->dry)
		spare_end(id);
}

/**
 * sl_spares_gc() - stop the spares no start can take any more
 * @sw: the sweep
 *
 * A spare whose QEMU or supervisor died (a taking killed half-way too: its
 * supervisor was told or its TAP moved, and it is stopped), whose snapshot
 * is gone or was made anew, or whose maker died before its state was
 * written. Live ones of a snapshot that is there stay: they are kept on
 * purpose (sl-boot spare DIR --stop ends them).
 *
 * Return: 0
 */
int sl_spares_gc(struct sl_sweep *sw)
{
	each_spare(NULL, gc_one, sw);
	return 0;
}
