/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "bridge.h"
#include "cidr.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "state.h"
#include "tap.h"
#include "util.h"

/*
 * Bridge mode's links carry the owner tag plus what they are, so that
 * sl-gc tells them from isolated mode's host veths (alias = the tag) and
 * knows which VM a port belongs to.
 */
static void bridge_alias(char *buf, size_t len)
{
	snprintf(buf, len, "%s bridge", sl_owner_tag());
}

static void port_alias(const char *name, char *buf, size_t len)
{
	sl_owner_alias("port", name, buf, len);
}

/* 1: the bridge is ours and ready; 0: it does not exist; <0: unusable. */
static int bridge_state(struct nl_sock *sk, const char *bridge, uint32_t gw, unsigned prefix,
			struct sl_link *b, struct sl_error *err)
{
	char alias[300], ip[SL_IP_STRLEN];
	int r = sl_link_get(sk, bridge, b);

	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return sl_error(err, r, "cannot read %s: %s", bridge, strerror(-r));
	bridge_alias(alias, sizeof(alias));
	if (strcmp(b->kind, "bridge") || strcmp(b->alias, alias))
		return sl_error(err, -EEXIST,
				"%s exists and is not a bridge made by sltools in %s: "
				"name another one (network.bridge)",
				bridge, sl_run_dir());
	r = sl_addr_has(sk, b->ifindex, gw, prefix);
	if (r == 1)
		return 1;
	if (r == -EEXIST || r == 0)
		return sl_error(err, -EEXIST,
				"bridge %s holds another address than %s/%u (a group on the "
				"same bridge must have the same gateway)",
				bridge, sl_ip_fmt(gw, ip), prefix);
	return r;
}

/**
 * sl_bridge_usable() - whether a bridge can be used or made for a gateway
 * @bridge: its name
 * @gw: the address it holds (or will)
 * @prefix: of the subnet
 * @err: why, when it fails
 *
 * A bridge that exists must be ours and hold @gw; a bridge to be made
 * needs a subnet nothing else on the host uses. Checked by sl-up before
 * anything is made, and again when the bridge is made.
 *
 * Return: 1 (exists, ours), 0 (will be made), or -errno with the error
 * recorded (-EEXIST, -EADDRINUSE, -EINVAL)
 */
int sl_bridge_usable(const char *bridge, uint32_t gw, unsigned prefix, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_cidr net = { gw & sl_cidr_mask(prefix), prefix };
	struct sl_link b;
	char what[128], c[SL_CIDR_STRLEN];
	int r;

	if ((r = sl_ifname_check("bridge", bridge, err)) < 0 ||
	    (r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	r = bridge_state(sk, bridge, gw, prefix, &b, err);
	if (r != 0)
		return r;
	r = sl_route_conflict(sk, &net, sl_owner_tag(), what, sizeof(what));
	if (r < 0)
		return sl_error(err, r, "cannot read the host's routes: %s", strerror(-r));
	if (r > 0)
		return sl_error(err, -EADDRINUSE,
				"bridge subnet %s overlaps %s already on this host",
				sl_cidr_fmt(&net, c), what);
	return 0;
}

static int bridge_make(struct nl_sock *sk, const struct sl_port_cfg *c, struct sl_link *b,
		       struct sl_error *err)
{
	uint8_t mac[6];
	char alias[300];
	int r;

	/*
	 * A bridge without an address of its own takes the lowest of its
	 * ports' MACs, so it would change as VMs come and go, and every VM's
	 * ARP entry for the gateway would point nowhere for seconds. A fixed
	 * one of ours does not move.
	 */
	sl_owner_mac(c->bridge, mac);
	bridge_alias(alias, sizeof(alias));
	r = sl_link_bridge_add(sk, c->bridge, mac);
	if (r < 0)
		return sl_error(err, r, "cannot create bridge %s: %s", c->bridge, strerror(-r));
	if ((r = sl_link_set(sk, c->bridge, -1, alias)) < 0 || (r = sl_if_no_ipv6(c->bridge, err)) < 0 ||
	    (r = sl_link_get(sk, c->bridge, b)) < 0 ||
	    (r = sl_addr_add(sk, b->ifindex, c->gw, c->prefix)) < 0 ||
	    (r = sl_link_set(sk, c->bridge, 1, NULL)) < 0) {
		sl_error(err, r, "cannot set up bridge %s: %s", c->bridge, strerror(-r));
		sl_link_del(sk, c->bridge);
		return r;
	}
	return 0;
}

/*
 * A TAP in the host namespace, where udev and networkd see it come: a TAP
 * is made by ioctl, so it cannot carry our MAC or alias when the kernel
 * announces it, and udev is faster than a next call (it replaced the MAC
 * and networkd took the link, measured: docs/NETWORK.md). So it is born
 * under a name of ours, "sl+" and 8 hex digits, which 70-sltools.rules
 * marks, gets its MAC and alias, and only then its own name: udev and
 * networkd see the rename with both in place.
 */
static int host_tap_create(struct nl_sock *sk, const char *tap, const char *alias,
			   struct sl_error *err)
{
	char tmp[SL_IFNAME_MAX + 1];
	uint8_t mac[6];
	uint32_t rnd;
	int r;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return sl_error(err, -errno, "getrandom: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), "sl+%08x", rnd);
	if ((r = sl_tap_create(tmp, err)) < 0)
		return r;
	sl_owner_mac(tap, mac);
	if ((r = sl_link_set_mac(sk, tmp, mac)) < 0 || (r = sl_link_set(sk, tmp, -1, alias)) < 0 ||
	    (r = sl_link_rename(sk, tmp, tap)) < 0) {
		sl_link_del(sk, tmp);
		return sl_error(err, r, "cannot create TAP %s: %s", tap, strerror(-r));
	}
	return sl_if_no_ipv6(tap, err);
}

/* The bridge goes with its last port of ours, when we made it. */
static void bridge_drop_if_unused(struct nl_sock *sk, const char *bridge)
{
	char alias[300];
	struct sl_link b;

	bridge_alias(alias, sizeof(alias));
	if (sl_link_get(sk, bridge, &b) == 0 && !strcmp(b.alias, alias) &&
	    sl_link_ports(sk, b.ifindex) == 0)
		sl_link_del(sk, bridge);
}

/**
 * sl_port_add() - a VM's TAP as a port of a bridge in the host namespace
 * @c: VM, TAP, bridge and its gateway address
 * @out: SL_TAP SL_BRIDGE
 * @err: why, when it fails
 *
 * The bridge is made on first use, holding the gateway; QEMU later opens
 * the TAP by name from the host namespace. IPv6 is off on both.
 *
 * Return: 0, -EEXIST (a link of that name that is not ours, or a bridge
 * with another address), -EADDRINUSE, or -errno; the error recorded
 */
int sl_port_add(const struct sl_port_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int lock = -1;
	char alias[300];
	struct sl_link b = { 0 }, t;
	bool made_bridge = false, made_tap = false;
	int exists, r;

	if ((r = sl_name_check(c->name, err)) < 0 || (r = sl_ifname_check("TAP", c->tap, err)) < 0)
		return r;
	lock = sl_lock("bridge", err);
	if (lock < 0)
		return lock;
	exists = sl_bridge_usable(c->bridge, c->gw, c->prefix, err);
	if (exists < 0)
		return exists;
	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	if (exists) {
		r = sl_link_get(sk, c->bridge, &b);
		if (r < 0)
			return r;
	} else {
		r = bridge_make(sk, c, &b, err);
		if (r < 0)
			return r;
		made_bridge = true;
	}
	port_alias(c->name, alias, sizeof(alias));
	r = sl_link_get(sk, c->tap, &t);
	if (r == 0 && (strcmp(t.kind, "tun") || strcmp(t.alias, alias))) {
		r = sl_error(err, -EEXIST, "%s: %s exists and is not its TAP", c->name, c->tap);
		goto fail;
	}
	if (r == -ENODEV) {
		r = host_tap_create(sk, c->tap, alias, err);
		if (r < 0)
			goto fail;
		made_tap = true;
	}
	if (r == 0)
		r = sl_link_set_master(sk, c->tap, b.ifindex);
	if (r == 0)
		r = sl_link_set(sk, c->tap, 1, NULL);
	if (r < 0) {
		sl_error(err, r, "%s: cannot set up %s on %s: %s", c->name, c->tap, c->bridge,
			 strerror(-r));
		goto fail;
	}
	if ((r = sl_kv_set(out, "SL_TAP", c->tap)) < 0 ||
	    (r = sl_kv_set(out, "SL_BRIDGE", c->bridge)) < 0 ||
	    (r = sl_state_update(c->name, out, NULL, err)) < 0)
		goto fail;
	return 0;
fail:
	if (made_tap)
		sl_link_del(sk, c->tap);
	if (made_bridge)
		bridge_drop_if_unused(sk, c->bridge);
	return r;
}

/**
 * sl_port_del() - remove a bridge-mode VM's TAP, and the bridge with its
 * last port
 * @name: VM
 * @tap: its TAP
 * @bridge: the bridge
 * @err: why, when it fails
 *
 * Return: 0, also when they are already gone; -EEXIST when @tap is not
 * this VM's
 */
int sl_port_del(const char *name, const char *tap, const char *bridge, struct sl_error *err)
{
	static const char *const keys[] = { "SL_TAP", "SL_BRIDGE", NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int lock = -1;
	char alias[300];
	int r;

	if ((r = sl_name_check(name, err)) < 0 || (r = sl_ifname_check("TAP", tap, err)) < 0 ||
	    (r = sl_ifname_check("bridge", bridge, err)) < 0)
		return r;
	lock = sl_lock("bridge", err);
	if (lock < 0)
		return lock;
	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	port_alias(name, alias, sizeof(alias));
	r = sl_link_del_owned(sk, tap, NULL, alias, err);
	if (r == -EEXIST)
		sl_error(err, r, "%s: %s is not its TAP: left alone", name, tap);
	if (r < 0)
		return r;
	bridge_drop_if_unused(sk, bridge);
	return sl_state_update(name, NULL, keys, err);
}

/**
 * sl_port_check() - compare a VM's bridge port with what sl_port_add() makes
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_port_check(const struct sl_port_cfg *c, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char alias[300], key[128], v[16];
	struct sl_link b, t;
	struct sl_error why = { 0 };
	int problems = 0, r;

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	r = bridge_state(sk, c->bridge, c->gw, c->prefix, &b, &why);
	if (r < 0 && r != -EEXIST)
		return sl_error(err, r, "%s", sl_error_msg(&why, r));
	if (r <= 0) {
		sl_info("check: %s: bridge %s: %s", c->name, c->bridge,
			r ? sl_error_msg(&why, r) : "missing");
		return 1;
	}
	if (!(b.flags & IFF_UP))
		sl_info("check: %s: bridge %s is down", c->name, c->bridge), problems++;
	if (sl_link_get(sk, c->tap, &t) < 0) {
		sl_info("check: %s: no TAP %s", c->name, c->tap);
		return problems + 1;
	}
	port_alias(c->name, alias, sizeof(alias));
	if (strcmp(t.kind, "tun"))
		sl_info("check: %s: %s is a '%s', not a TAP", c->name, c->tap, t.kind), problems++;
	if (strcmp(t.alias, alias))
		sl_info("check: %s: %s alias is '%s', not '%s'", c->name, c->tap, t.alias, alias),
			problems++;
	if (t.master != b.ifindex)
		sl_info("check: %s: %s is not a port of %s", c->name, c->tap, c->bridge), problems++;
	if (!(t.flags & IFF_UP))
		sl_info("check: %s: %s is down", c->name, c->tap), problems++;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->tap);
	if (sl_sysctl_read(key, v, sizeof(v)) == 0 && strcmp(v, "1"))
		sl_info("check: %s: IPv6 is enabled on %s", c->name, c->tap), problems++;
	return problems;
}
