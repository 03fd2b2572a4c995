/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge.h"
#include "cni-run.h"
#include "cni-plugin.h"
#include "cidr.h"
#include "egressd.h"
#include "egress.h"
#include "gc.h"
#include "ipam.h"
#include "ipt.h"
#include "kv.h"
#include "log.h"
#include "macvtap.h"
#include "netns.h"
#include "nl.h"
#include "nsident.h"
#include "state.h"
#include "util.h"
#include "snapshot.h"
#include "spare.h"
#include "veth.h"
#include "vm.h"

#include <libiptc/libiptc.h>

static bool alive(int pid)
{
	return sl_proc_start(pid, NULL) == 0;
}

/*
 * Whether the namespace sl-netns made for the VM is gone: deleted by hand
 * (ip netns del), or being torn down by the kernel, its veth still listed.
 * The run dir's daemon holds it only until it sees its name go.
 */
static bool netns_gone(const char *name, const struct sl_kv *st)
{
	const char *ident = sl_kv_get(st, "SL_NETNS_ID");
	_cleanup_nl_ struct nl_sock *sk = NULL;
	int skip[2] = { sl_egressd_pid(), 0 };
	struct sl_link h;
	char ifname[SL_IFNAME_MAX + 1];
	int32_t peer = -1;

	if (!ident)
		return false;
	sl_ifname(name, ifname);
	if (sl_nl_open(&sk) == 0 && sl_link_get(sk, ifname, &h) == 0 &&
	    sl_veth_host_ours(name, &h))
		peer = h.peer_nsid;
	return sl_nsident_gone(ident, sl_kv_get(st, "SL_NETNS"), peer, skip) > 0;
}

/* Whether the namespace of the VM's name is the one made for it, when that was recorded. */
static bool netns_is_recorded(const char *name, const struct sl_kv *st)
{
	const char *ident = sl_kv_get(st, "SL_NETNS_ID");
	_cleanup_close_ int fd = -1;
	struct sl_nsident want, got = { 0 };

	if (!ident || sl_nsident_parse(ident, &want) < 0)
		return true;
	fd = sl_netns_open(name);
	if (fd < 0 || sl_nsident_fd(fd, &got) < 0)
		return true; /* not a namespace: sl_netns_del() knows what an add left */
	return got.dev == want.dev && got.ino == want.ino;
}

/*
 * A VM is dead when it was booted and its supervisor or QEMU is gone, or
 * when the process that owns it (the sl-up making it, or a foreground one
 * supervising it) is gone: a kill -9 half-way leaves such VMs; or when its
 * namespace is gone. Otherwise a network made by hand (never booted, no
 * owner) is the user's, and alive.
 */
static bool vm_dead(const char *name, const struct sl_kv *st)
{
	int sup, qemu;

	if (sl_kv_get(st, "SL_CNI_CONTAINER")) /* an sl-cni attachment */
		return sl_cniplug_dead(name);
	if (netns_gone(name, st))
		return true;
	sl_vm_pids(name, &sup, &qemu);
	if (sl_owner_gone(st))
		return true;
	if (sl_kv_get(st, "SL_PID") && (!sup || !qemu))
		return true;
	return false;
}

static void remove_vm(struct sl_sweep *sw, const char *name, const struct sl_kv *st)
{
	int sup, qemu;

	if (sl_kv_get(st, "SL_CNI_CONTAINER")) {
		sl_sweep_say(sw, "sl-cni attachment %s of %s (its sandbox is gone): rules, lease", name,
		    sl_kv_get(st, "SL_CNI_CONTAINER"));
		if (!sw->dry)
			sl_cniplug_remove(name, NULL);
		return;
	}

	sl_vm_pids(name, &sup, &qemu);
	if (sl_kv_get(st, "SL_NETNS_ID") && sl_netns_exists(name) <= 0)
		sl_sweep_say(sw, "VM %s: the state of its namespace, deleted outside sltools", name);
	if (sup || qemu || sl_kv_get(st, "SL_PID"))
		sl_sweep_say(sw, "VM %s: supervisor %d, QEMU %d", name, sup, qemu);
	if (!sw->dry)
		sl_boot_stop(name, 0, NULL);
	if (sl_kv_get(st, "SL_EGRESS_RANGE")) {
		sl_sweep_say(sw, "VM %s: egress rules", name);
		if (!sw->dry)
			sl_egress_flush(name, NULL);
	}
	if (sl_kv_get(st, "SL_CNI_NETWORK")) {
		sl_sweep_say(sw, "VM %s: CNI attachment to %s (DEL)", name, sl_kv_get(st, "SL_CNI_NETWORK"));
		if (!sw->dry)
			sl_cni_del(name, NULL);
	}
	if (sl_netns_exists(name) > 0 && netns_is_recorded(name, st)) {
		sl_sweep_say(sw, "VM %s: namespace, TAP and veth", name);
		if (!sw->dry)
			sl_netns_del(name, NULL);
	}
	if (sl_kv_get(st, "SL_PARENT") && sl_kv_get(st, "SL_TAP")) {
		sl_sweep_say(sw, "VM %s: macvtap %s on %s", name, sl_kv_get(st, "SL_TAP"),
		    sl_kv_get(st, "SL_PARENT"));
		if (!sw->dry)
			sl_macvtap_del(name, sl_kv_get(st, "SL_TAP"), NULL);
	}
	if (sl_kv_get(st, "SL_BRIDGE") && sl_kv_get(st, "SL_TAP")) {
		sl_sweep_say(sw, "VM %s: TAP %s on bridge %s", name, sl_kv_get(st, "SL_TAP"),
		    sl_kv_get(st, "SL_BRIDGE"));
		if (!sw->dry)
			sl_port_del(name, sl_kv_get(st, "SL_TAP"), sl_kv_get(st, "SL_BRIDGE"), NULL);
	}
	if (sl_kv_get(st, "SL_IP")) {
		_cleanup_kv_ struct sl_kv out = { 0 };

		sl_sweep_say(sw, "VM %s: lease %s", name, sl_kv_get(st, "SL_IP"));
		if (!sw->dry)
			sl_ipam_release(name, &out, NULL);
	}
	if (!sw->dry)
		sl_state_purge(name, NULL); /* what is left: the owner, the logs */
}

static bool has_state(const char *name)
{
	char path[4096];

	return sl_run_path(path, sizeof(path), "%s/%s", name, SL_VM_ENV) == 0 &&
	       access(path, F_OK) == 0;
}

static bool no_state(const char *name)
{
	return !has_state(name);
}

/*
 * Supervisors and QEMUs of ours whose VM has no state dir any more (it was
 * deleted under them): found in /proc, and killed; so is a daemon of the
 * run dir that its pid file does not name (the run dir was emptied under
 * it), but only while no tool holds the egressd lock (one is starting).
 */
static int stateless_processes(struct sl_sweep *sw, struct sl_error *err)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	_cleanup_close_ int lock = sl_lock_try(SL_EGRESSD_LOCK, NULL);
	struct dirent *e;
	int daemon = sl_egressd_pid();

	while (d && (e = readdir(d))) {
		int pid = atoi(e->d_name), what;
		char vm[64];

		if (pid <= 0 || pid == getpid() || !alive(pid))
			continue;
		what = sl_vm_process(pid, vm, sizeof(vm));
		if (what == SL_PROC_EGRESSD) {
			/* the run dir's daemon is the one its pid file names */
			if (pid == daemon || lock < 0)
				continue;
			sl_sweep_say(sw, "sl-egressd %d (not the run dir's: no pid file names it)", pid);
			if (!sw->dry)
				kill(pid, SIGKILL);
			continue;
		}
		if (!what || has_state(vm))
			continue;
		sl_sweep_say(sw, "%s %d of %s (no state)", what == SL_PROC_SUPERVISOR ? "supervisor" : "QEMU",
		    pid, vm);
		if (!sw->dry)
			kill(pid, SIGKILL);
	}
	(void)err;
	return 0;
}

/*
 * VMs with state whose processes or owner died go whole; a by-hand step
 * killed half-way (sl-boot start, snapshot) is undone, the network kept.
 */
static int vms_with_state(struct sl_sweep *sw, struct sl_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = sl_state_list(&names, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv st = { 0 };

		if (sl_state_load(names[i], &st, NULL) < 0)
			continue;
		if (vm_dead(names[i], &st)) {
			remove_vm(sw, names[i], &st);
			continue;
		}
		sl_snapshot_abandoned(names[i], sw);
		sl_boot_abandoned(names[i], sw);
	}
	sl_strv_free(names, n);
	return 0;
}

/* State dirs a kill left with only a cut-short first write; sl-up's templates (the run dir's,
 * SL_TEMPLATE_DIR's) and forks' snapshots nothing uses; spares no start can take. */
static int torn_and_snapshots(struct sl_sweep *sw, struct sl_error *err)
{
	(void)err;
	sl_state_torn(sw);
	sl_templates_gc(sw);
	sl_template_store_gc(sw);
	sl_forks_gc(sw);
	sl_spares_gc(sw);
	return 0;
}

/* Our namespaces with no state at all (the state dir was lost). */
static int stateless_namespaces(struct sl_sweep *sw, struct sl_error *err)
{
	char **names = NULL;
	size_t n = 0;

	(void)err;
	if (sl_netns_list(&names, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv none = { 0 };

		if (has_state(names[i]))
			continue;
		sl_sweep_say(sw, "namespace %s (no state)", names[i]);
		if (!sw->dry)
			remove_vm(sw, names[i], &none);
	}
	sl_strv_free(names, n);
	return 0;
}

/*
 * Host veth ends whose VM has no namespace: the alias names the VM (or,
 * an older sltools', is the tag alone on a link named as the VM).
 */
static int host_veths(struct sl_sweep *sw, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char **names = NULL, pat[300];
	size_t n = 0;

	(void)err;
	sl_owner_alias("veth", "*", pat, sizeof(pat));
	for (int pass = 0; pass < 2; pass++) {
		if ((!sk && sl_nl_open(&sk) < 0) ||
		    sl_link_list_alias(sk, pass ? pat : sl_owner_tag(), &names, &n) < 0)
			break;
		for (size_t i = 0; i < n; i++) {
			struct sl_link l;
			char vm[SL_NAME_MAX + 1];

			if (pass && (sl_link_get(sk, names[i], &l) < 0 ||
				     !sl_alias_owner(l.alias, "veth", vm, sizeof(vm))))
				continue;
			if (!pass)
				snprintf(vm, sizeof(vm), "%s", names[i]);
			if (sl_netns_exists(vm) > 0)
				continue;
			if (strcmp(vm, names[i]))
				sl_sweep_say(sw, "host link %s of %s", names[i], vm);
			else
				sl_sweep_say(sw, "host link %s", names[i]);
			if (!sw->dry)
				sl_link_del(sk, names[i]);
		}
		sl_strv_free(names, n);
	}
	return 0;
}

/*
 * One link of ours in bridge, macvtap or sl-cni mode whose VM has no state:
 * removed, and for a bridge port its bridge noted in @gone (*ngone of them).
 */
static void stateless_link(struct sl_sweep *sw, struct nl_sock *sk, const char *ifname,
			   const struct sl_link *l, int *gone, size_t *ngone)
{
	char vm[64];

	if (sl_alias_owner(l->alias, "macvtap", vm, sizeof(vm)) && !has_state(vm)) {
		sl_sweep_say(sw, "macvtap %s of %s (no state)", ifname, vm);
		if (!sw->dry)
			sl_link_del(sk, ifname);
	}
	/* its rules go with it: once the link is gone nothing says whose they were */
	if (sl_alias_owner(l->alias, "cni", vm, sizeof(vm)) && !has_state(vm)) {
		sl_sweep_say(sw, "sl-cni host end %s and its rules (no state)", ifname);
		if (!sw->dry) {
			sl_link_del(sk, ifname);
			sl_egress_attach_remove(ifname, NULL);
		}
	}
	if (sl_alias_owner(l->alias, "port", vm, sizeof(vm)) && !has_state(vm)) {
		sl_sweep_say(sw, "bridge port %s of %s (no state)", ifname, vm);
		gone[(*ngone)++] = l->master;
		if (!sw->dry)
			sl_link_del(sk, ifname);
	}
}

/* Bridge, macvtap and sl-cni links whose VM has no state, then our bridges left empty. */
static int mode_links(struct sl_sweep *sw, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_free_ int *gone = NULL; /* bridges of ports removed (dry: would be) */
	char **names = NULL, pat[300];
	size_t n = 0, ngone = 0;

	(void)err;
	snprintf(pat, sizeof(pat), "%s *", sl_owner_tag());
	if (sl_nl_open(&sk) < 0 || sl_link_list_alias(sk, pat, &names, &n) < 0)
		return 0;
	gone = calloc(n + 1, sizeof(*gone));
	for (int pass = 0; pass < 2 && gone; pass++)
		for (size_t i = 0; i < n; i++) {
			struct sl_link l;
			int ports;

			if (sl_link_get(sk, names[i], &l) < 0)
				continue;
			if (pass == 0) {
				stateless_link(sw, sk, names[i], &l, gone, &ngone);
				continue;
			}
			if (strcmp(l.kind, "bridge"))
				continue;
			ports = sl_link_ports(sk, l.ifindex);
			for (size_t k = 0; sw->dry && k < ngone; k++)
				ports -= gone[k] == l.ifindex;
			if (ports == 0) {
				sl_sweep_say(sw, "bridge %s (no ports left)", names[i]);
				if (!sw->dry)
					sl_link_del(sk, names[i]);
			}
		}
	sl_strv_free(names, n);
	return 0;
}

/* Leases of VMs that have no state. */
static int stateless_leases(struct sl_sweep *sw, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	size_t n = 0;

	(void)err;
	if (sl_ipam_leases(&v, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv out = { 0 };

		if (has_state(v[i].name))
			continue;
		sl_sweep_say(sw, "lease of %s", v[i].name);
		if (!sw->dry)
			sl_ipam_release(v[i].name, &out, NULL);
	}
	return 0;
}

/* Range users whose VM has no state, then the host rules of ranges no VM uses: egress's own. */
static int host_ranges(struct sl_sweep *sw, struct sl_error *err)
{
	(void)err;
	sl_egress_prune_users(no_state, sw, NULL);
	sl_egress_prune_host_rules(sw);
	return 0;
}

/*
 * In this order: a VM's own removal takes its links, lease and rules, so
 * the later sweeps find only what no VM's state names any more.
 */
static int (*const phases[])(struct sl_sweep *sw, struct sl_error *err) = {
	vms_with_state,	      torn_and_snapshots, stateless_processes, stateless_namespaces,
	host_veths,	      mode_links,	  stateless_leases,    host_ranges,
};

/**
 * sl_gc() - remove what no live VM owns
 * @dry_run: only say what would go
 * @err: why, when it fails
 *
 * Only objects carrying this SL_RUN_DIR's owner tag, or recorded under it,
 * are ever touched: namespaces (their loopback's alias), host links (alias),
 * leases, rules (chains and comments of our own), processes (pid files
 * checked against /proc/PID/cmdline). Each phase asks the layer that owns
 * the state; each says what it removes on standard output.
 *
 * Return: how many objects were (or would be) removed, or -errno
 */
int sl_gc(bool dry_run, struct sl_error *err)
{
	struct sl_sweep sw = { .dry = dry_run };

	for (size_t i = 0; i < ARRAY_SIZE(phases); i++) {
		int r = phases[i](&sw, err);

		if (r < 0)
			return r;
	}
	return sw.removed;
}
