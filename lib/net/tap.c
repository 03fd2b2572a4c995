/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cidr.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "shape.h"
#include "state.h"
#include "tap.h"
#include "util.h"

/**
 * sl_tap_create() - a persistent TAP in the current namespace
 * @tap: its name
 * @err: why, when it fails
 *
 * Return: 0 or -errno, the error recorded
 */
int sl_tap_create(const char *tap, struct sl_error *err)
{
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { 0 };

	if (fd < 0) {
		int e = errno;

		return sl_error(err, -e, "/dev/net/tun: %s", strerror(e));
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	/* QEMU asks for the same flags when it opens the TAP by name. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = errno;

		return sl_error(err, -e, "cannot create TAP %s: %s", tap, strerror(e));
	}
	return 0;
}

/*
 * Our TAP @tap in the namespace @sk is in, made when missing (@made says
 * so). Return 0, -EEXIST (a link of that name that is not our TAP, the
 * error recorded) or -errno.
 */
static int tap_ensure(struct nl_sock *sk, const char *name, const char *tap, struct sl_link *t,
		      bool *made, struct sl_error *err)
{
	int r = sl_link_get(sk, tap, t);

	*made = false;
	if (r == 0 && (strcmp(t->kind, "tun") || strcmp(t->alias, sl_owner_tag())))
		return sl_error(err, -EEXIST, "%s: %s exists in the namespace and is not our TAP",
				name, tap);
	if (r != -ENODEV)
		return r;
	if ((r = sl_tap_create(tap, err)) < 0)
		return r;
	*made = true;
	r = sl_link_set(sk, tap, -1, sl_owner_tag());
	return r == 0 ? sl_link_get(sk, tap, t) : r;
}

/**
 * sl_tap_add() - a persistent TAP in the VM's namespace, holding the gateway
 * @c: namespace, TAP name, gateway address
 * @out: SL_TAP
 * @err: why, when it fails
 *
 * QEMU opens it later by name (or is handed an fd), from inside the
 * namespace. IPv6 is off because the namespace's default says so.
 *
 * Return: 0, -ENXIO (no namespace), -EEXIST (a different link of that
 * name), or -errno
 */
int sl_tap_add(const struct sl_tap_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	struct sl_link t;
	bool made = false;
	int r;

	fd = sl_vm_netns_open(c->name, err);
	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_nl_ struct nl_sock *sk = NULL;
		char ip[SL_IP_STRLEN];

		if (saved < 0)
			return saved;
		r = sl_nl_open_or_fail(&sk, err);
		if (r < 0)
			return r;
		r = tap_ensure(sk, c->name, c->tap, &t, &made, err);
		if (r == -EEXIST)
			return r;
		if (r == 0) {
			r = sl_addr_has(sk, t.ifindex, c->gw, c->prefix);
			if (r == 0)
				r = sl_addr_add(sk, t.ifindex, c->gw, c->prefix);
			else if (r == -EEXIST)
				sl_error(err, r, "%s: %s holds another address than %s/%u", c->name,
					 c->tap, sl_ip_fmt(c->gw, ip), c->prefix);
			else if (r == 1)
				r = 0;
		}
		if (r == 0)
			r = sl_link_set(sk, c->tap, 1, NULL);
		if (r < 0) {
			if (r != -EEXIST)
				sl_error(err, r, "%s: cannot set up %s: %s", c->name, c->tap,
					 strerror(-r));
			if (made)
				sl_link_del(sk, c->tap);
			return r;
		}
	}
	r = sl_kv_set(out, "SL_TAP", c->tap);
	if (r == 0)
		r = sl_state_update(c->name, out, NULL, err);
	return r;
}

/**
 * sl_tap_wire() - a TAP in the VM's namespace, wired to the CNI interface
 * @name: the VM = its namespace
 * @tap: the TAP
 * @peer: the interface the CNI chain made there (eth0)
 * @out: SL_TAP SL_MAC (@peer's: the guest's NIC takes it, so that what the
 *	 chain set up for @peer, ARP and MAC checks included, holds for the VM)
 * @err: why, when it fails
 *
 * No address on the TAP: every frame that arrives on one leaves by the
 * other (sl_tc_redirect() both ways), so the guest is on @peer's link as
 * if it were @peer. Making it again is harmless.
 *
 * Return: 0, -ENXIO (no namespace, no @peer), -EEXIST, or -errno; the error
 * recorded
 */
int sl_tap_wire(const char *name, const char *tap, const char *peer, struct sl_kv *out,
		struct sl_error *err)
{
	_cleanup_close_ int fd = sl_vm_netns_open(name, err);
	struct sl_link t, p;
	bool made = false;
	char mac[SL_MAC_STRLEN];
	int r;

	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int saved = -1;
		_cleanup_nl_ struct nl_sock *sk = NULL;

		if ((r = sl_nl_open_in(fd, &saved, &sk, err)) < 0)
			return r;
		if (sl_link_get(sk, peer, &p) < 0)
			return sl_error(err, -ENXIO,
					"%s: no %s in its namespace (run sl-cni-run add %s)", name,
					peer, name);
		r = tap_ensure(sk, name, tap, &t, &made, err);
		if (r == -EEXIST)
			return r;
		if (r == 0)
			r = sl_link_set(sk, tap, 1, NULL);
		if (r == 0)
			r = sl_link_set(sk, peer, 1, NULL);
		if (r < 0)
			sl_error(err, r, "%s: cannot set up %s: %s", name, tap, strerror(-r));
		if (r == 0 && (r = sl_tc_redirect(sk, peer, tap, err)) == 0)
			r = sl_tc_redirect(sk, tap, peer, err);
		if (r < 0) {
			if (made)
				sl_link_del(sk, tap);
			return r;
		}
	}
	if ((r = sl_kv_set(out, "SL_TAP", tap)) < 0 ||
	    (r = sl_kv_set(out, "SL_MAC", sl_mac_fmt(p.mac, mac))) < 0)
		return r;
	return sl_state_update(name, out, NULL, err);
}

/**
 * sl_tap_del() - remove a VM's TAP
 * @err: why, when it fails
 *
 * Return: 0, also when it or the namespace is already gone
 */
int sl_tap_del(const char *name, const char *tap, struct sl_error *err)
{
	static const char *const keys[] = { "SL_TAP", "SL_MAC", NULL };
	_cleanup_close_ int fd = -1;
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	fd = sl_vm_netns_open(name, err);
	if (fd == -ENXIO)
		return sl_state_update(name, NULL, keys, err);
	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_nl_ struct nl_sock *sk = NULL;

		if (saved < 0)
			return saved;
		if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
			return r;
		r = sl_link_del_owned(sk, tap, "tun", sl_owner_tag(), err);
		if (r == -EEXIST)
			sl_error(err, r, "%s: %s is not our TAP: left alone", name, tap);
		if (r < 0)
			return r;
	}
	return sl_state_update(name, NULL, keys, err);
}

/**
 * sl_tap_check() - compare a VM's TAP with what sl_tap_add() makes
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_tap_check(const struct sl_tap_cfg *c, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char key[128], v[16], ip[SL_IP_STRLEN];
	struct sl_link t;
	int problems = 0, r;

	fd = sl_vm_netns_open(c->name, err);
	if (fd < 0)
		return fd;
	if ((r = sl_nl_open_in(fd, &saved, &sk, err)) < 0)
		return r;
	if (sl_link_get(sk, c->tap, &t) < 0) {
		sl_check(&problems, "%s: no %s in the namespace", c->name, c->tap);
		return problems;
	}
	if (strcmp(t.kind, "tun"))
		sl_check(&problems, "%s: %s is a '%s', not a TAP", c->name, c->tap, t.kind);
	if (!(t.flags & IFF_UP))
		sl_check(&problems, "%s: %s is down", c->name, c->tap);
	if (sl_addr_has(sk, t.ifindex, c->gw, c->prefix) != 1)
		sl_check(&problems, "%s: %s does not hold exactly %s/%u", c->name, c->tap,
			sl_ip_fmt(c->gw, ip), c->prefix);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->tap);
	if (sl_sysctl_read(key, v, sizeof(v)) == 0 && strcmp(v, "1"))
		sl_check(&problems, "%s: IPv6 is enabled on %s", c->name, c->tap);
	return problems;
}

/* Our TAP @tap set up as sl-tap leaves it: tagged, @gw/@prefix, up, capped at @rate. */
static int tap_setup(struct nl_sock *sk, const char *tap, uint32_t gw, unsigned prefix,
		     uint64_t rate, struct sl_error *err)
{
	struct sl_link t;
	int r;

	if ((r = sl_link_set(sk, tap, -1, sl_owner_tag())) < 0 || (r = sl_link_get(sk, tap, &t)) < 0 ||
	    (r = sl_addr_add(sk, t.ifindex, gw, prefix)) < 0 || (r = sl_link_set(sk, tap, 1, NULL)) < 0)
		return sl_error(err, r, "cannot set up %s: %s", tap, strerror(-r));
	return rate ? sl_shape_set(sk, tap, rate, err) : 0;
}

/**
 * sl_tap_adopt() - put a TAP that a QEMU holds in place of a VM's own
 * @name: the VM (its namespace)
 * @tap: the TAP sl-tap made there, holding @gw/@prefix
 * @gw: its address
 * @prefix: its prefix length
 * @from_ns: the namespace of the TAP to adopt (a spare's, lib/vm/spare.c)
 * @from_tap: that TAP
 * @err: why, when it fails
 *
 * The VM's TAP goes and the other takes its name, address, tag and cap:
 * the rules, which match it by name, hold for it at once. A QEMU started
 * ahead of time on @from_tap is then this VM's.
 *
 * Return: 0; -EAGAIN when the VM's TAP is not as sl-tap leaves it (nothing
 * done); -errno with the error recorded, and the VM's TAP made again
 */
int sl_tap_adopt(const char *name, const char *tap, uint32_t gw, unsigned prefix, int from_ns,
		 const char *from_tap, struct sl_error *err)
{
	_cleanup_close_ int fd = sl_vm_netns_open(name, err);
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL, *from = NULL;
	uint64_t rate = 0;
	struct sl_link t;
	int r;

	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int back = -1;

		if ((r = sl_nl_open_in(from_ns, &back, &from, err)) < 0)
			return r;
	}
	if ((r = sl_nl_open_in(fd, &saved, &sk, err)) < 0)
		return r;
	if (sl_link_get(sk, tap, &t) < 0 || strcmp(t.kind, "tun") ||
	    strcmp(t.alias, sl_owner_tag()) || sl_addr_has(sk, t.ifindex, gw, prefix) != 1 ||
	    sl_shape_get(sk, tap, &rate) < 0)
		return -EAGAIN;
	if ((r = sl_link_del(sk, tap)) < 0)
		return sl_error(err, r, "%s: cannot remove %s: %s", name, tap, strerror(-r));
	if ((r = sl_link_move(from, from_tap, fd, tap)) < 0) {
		sl_error(err, r, "%s: cannot move %s into its namespace as %s: %s", name, from_tap,
			 tap, strerror(-r));
		if (sl_tap_create(tap, NULL) == 0)
			tap_setup(sk, tap, gw, prefix, rate, NULL);
		return r;
	}
	if ((r = tap_setup(sk, tap, gw, prefix, rate, err)) < 0)
		return sl_error_wrap(err, r, "%s", name);
	return 0;
}
