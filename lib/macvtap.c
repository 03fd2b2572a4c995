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

#include "error.h"
#include "kv.h"
#include "log.h"
#include "macvtap.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "state.h"
#include "util.h"

static void macvtap_alias(const char *name, char *buf, size_t len)
{
	sl_owner_alias("macvtap", name, buf, len);
}

/**
 * sl_macvtap_mac() - the MAC a macvtap-mode VM always has
 * @name: the VM
 * @mac: result
 *
 * Made of the name, not of an address: under DHCP the LAN's server knows
 * the VM by it, so the same VM gets the same lease back. Locally
 * administered, unicast (06:...), like the other modes' MACs.
 */
void sl_macvtap_mac(const char *name, uint8_t mac[6])
{
	uint64_t h = sl_fnv1a64(name);

	mac[0] = 0x06;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

/**
 * sl_default_parent() - the interface of this namespace's default route
 * @parent: result
 * @err: why, when it fails
 *
 * Slicer's default parent. /proc/net/route is this namespace's table (it
 * follows the process, like /proc/sys/net); the lowest metric wins.
 *
 * Return: 0, or -ENXIO (no default route) with the error recorded
 */
int sl_default_parent(char parent[16], struct sl_error *err)
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[256], ifname[IFNAMSIZ + 1];
	unsigned long dst, mask, best = ~0ul, metric;
	unsigned flags;

	parent[0] = '\0';
	if (!f)
		return sl_error(err, -errno, "/proc/net/route: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%16s %lx %*x %x %*d %*d %lu %lx", ifname, &dst, &flags, &metric,
			   &mask) == 5 &&
		    dst == 0 && mask == 0 && (flags & 1) && metric < best &&
		    strlen(ifname) < IFNAMSIZ) {
			best = metric;
			memcpy(parent, ifname, strlen(ifname) + 1);
		}
	fclose(f);
	if (!parent[0])
		return sl_error(err, -ENXIO, "no default route to take the parent from: give "
					      "network.parent (sl-tap --macvtap IF)");
	return 0;
}

static int parent_get(struct nl_sock *sk, const char *name, const char *parent, struct sl_link *p,
		      struct sl_error *err)
{
	int r = sl_link_get(sk, parent, p);

	if (r == -ENODEV)
		return sl_error(err, -ENXIO, "%s: parent %s: no such interface", name, parent);
	if (r < 0)
		return sl_error(err, r, "%s: parent %s: %s", name, parent, strerror(-r));
	if ((p->flags & IFF_LOOPBACK) || !strcmp(p->kind, "macvtap") || !strcmp(p->kind, "tun"))
		return sl_error(err, -EINVAL, "%s: parent %s is a %s, not a LAN interface", name,
				parent, (p->flags & IFF_LOOPBACK) ? "loopback" : p->kind);
	return 0;
}

/**
 * sl_macvtap_parent_ok() - whether a macvtap can sit on @parent
 * @parent: interface of this namespace
 * @err: why not
 *
 * Return: 0, -ENXIO (no such interface) or -EINVAL (loopback, a TAP, a
 * macvtap), with the error recorded
 */
int sl_macvtap_parent_ok(const char *parent, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link p;
	int r;

	if ((r = sl_ifname_check("parent", parent, err)) < 0 ||
	    (r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	return parent_get(sk, "network.parent", parent, &p, err);
}

/**
 * sl_macvtap_add() - a VM's macvtap on its parent, up, with the VM's MAC
 * @c: VM, macvtap name, parent
 * @out: SL_TAP SL_PARENT SL_MAC SL_MODE=macvtap
 * @err: why, when it fails
 *
 * The VM's frames go straight out of the parent onto the LAN: the host's
 * firewall never sees them, and the host cannot reach the VM through the
 * parent (a macvtap talks to the wire and to its siblings, not to its
 * parent's own stack). IPv6 is off on the host's side of it. Made again
 * when it is ours already.
 *
 * Return: 0, -ENXIO (no parent), -EEXIST (a link of that name that is not
 * ours), or -errno; the error recorded
 */
int sl_macvtap_add(const struct sl_macvtap_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char alias[300], mac_s[SL_MAC_STRLEN];
	struct sl_link p, t;
	uint8_t mac[6];
	bool made = false;
	int r;

	if ((r = sl_name_check(c->name, err)) < 0 ||
	    (r = sl_ifname_check("macvtap", c->tap, err)) < 0 ||
	    (r = sl_ifname_check("parent", c->parent, err)) < 0)
		return r;
	if ((r = sl_nl_open_or_fail(&sk, err)) < 0 || (r = parent_get(sk, c->name, c->parent, &p, err)) < 0)
		return r;
	macvtap_alias(c->name, alias, sizeof(alias));
	sl_macvtap_mac(c->name, mac);
	r = sl_link_get(sk, c->tap, &t);
	if (r == 0 && (strcmp(t.kind, "macvtap") || strcmp(t.alias, alias) ||
		       t.peer_ifindex != p.ifindex))
		return sl_error(err, -EEXIST, "%s: %s exists and is not its macvtap on %s", c->name,
				c->tap, c->parent);
	if (r == -ENODEV) {
		r = sl_link_macvtap_add(sk, c->tap, p.ifindex, mac);
		if (r < 0)
			return sl_error(err, r, "%s: cannot create macvtap %s on %s: %s", c->name,
					c->tap, c->parent, strerror(-r));
		made = true;
		r = sl_link_set(sk, c->tap, -1, alias);
		if (r == 0)
			r = sl_if_no_ipv6(c->tap, err);
	}
	if (r == 0)
		r = sl_link_set(sk, c->tap, 1, NULL);
	if (r < 0) {
		sl_error(err, r, "%s: cannot set up macvtap %s: %s", c->name, c->tap, strerror(-r));
		goto fail;
	}
	if ((r = sl_kv_set(out, "SL_TAP", c->tap)) < 0 ||
	    (r = sl_kv_set(out, "SL_PARENT", c->parent)) < 0 ||
	    (r = sl_kv_set(out, "SL_MAC", sl_mac_fmt(mac, mac_s))) < 0 ||
	    (r = sl_kv_set(out, "SL_MODE", "macvtap")) < 0 ||
	    (r = sl_state_update(c->name, out, NULL, err)) < 0)
		goto fail;
	return 0;
fail:
	if (made)
		sl_link_del(sk, c->tap);
	return r;
}

/**
 * sl_macvtap_del() - remove a VM's macvtap
 * @name: VM
 * @tap: the macvtap
 * @err: why, when it fails
 *
 * Return: 0, also when it is already gone; -EEXIST when @tap is not this
 * VM's; or -errno, with the error recorded
 */
int sl_macvtap_del(const char *name, const char *tap, struct sl_error *err)
{
	static const char *const keys[] = { "SL_TAP", "SL_PARENT", "SL_MAC", "SL_MODE", NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char alias[300];
	int r;

	if ((r = sl_name_check(name, err)) < 0 || (r = sl_ifname_check("macvtap", tap, err)) < 0)
		return r;
	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	macvtap_alias(name, alias, sizeof(alias));
	r = sl_link_del_owned(sk, tap, "macvtap", alias, err);
	if (r == -EEXIST)
		return sl_error(err, r, "%s: %s is not its macvtap: left alone", name, tap);
	if (r < 0)
		return r;
	return sl_state_update(name, NULL, keys, err);
}

/**
 * sl_macvtap_check() - compare a VM's macvtap with what sl_macvtap_add() makes
 * @c: VM, macvtap, parent
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_macvtap_check(const struct sl_macvtap_cfg *c, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char alias[300];
	struct sl_link p, t;
	uint8_t mac[6];
	int problems = 0, r;

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	if (parent_get(sk, c->name, c->parent, &p, err) < 0) {
		sl_info("check: %s", err ? err->msg : c->parent);
		return 1;
	}
	if (sl_link_get(sk, c->tap, &t) < 0) {
		sl_info("check: %s: no macvtap %s", c->name, c->tap);
		return 1;
	}
	macvtap_alias(c->name, alias, sizeof(alias));
	sl_macvtap_mac(c->name, mac);
	if (strcmp(t.kind, "macvtap"))
		sl_info("check: %s: %s is a '%s', not a macvtap", c->name, c->tap, t.kind), problems++;
	if (strcmp(t.alias, alias))
		sl_info("check: %s: %s alias is '%s', not '%s'", c->name, c->tap, t.alias, alias),
			problems++;
	if (t.peer_ifindex != p.ifindex)
		sl_info("check: %s: %s is not on %s", c->name, c->tap, c->parent), problems++;
	if (memcmp(t.mac, mac, 6))
		sl_info("check: %s: %s has another MAC than the VM's", c->name, c->tap), problems++;
	if (!(t.flags & IFF_UP))
		sl_info("check: %s: %s is down", c->name, c->tap), problems++;
	return problems;
}

/**
 * sl_macvtap_open() - open the character device of a VM's macvtap for QEMU
 * @name: VM
 * @tap: its macvtap, in this namespace
 * @mac: result: the macvtap's MAC, which the guest's NIC must carry
 * @err: why, when it fails
 *
 * The kernel names the device tap<ifindex> (devtmpfs makes it, also for a
 * macvtap in another namespace, where ifindexes repeat): the fd's own
 * TUNGETIFF must name @tap, else it is another namespace's.
 *
 * Return: the fd (O_CLOEXEC), or -errno with the error recorded
 */
int sl_macvtap_open(const char *name, const char *tap, uint8_t mac[6], struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
	struct ifreq ifr = { 0 };
	char dev[64];
	struct sl_link t;
	int r;

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	if (sl_link_get(sk, tap, &t) < 0 || strcmp(t.kind, "macvtap"))
		return sl_error(err, -ENXIO, "%s: no macvtap %s in this namespace (run sl-tap add "
					     "%s --macvtap PARENT)", name, tap, name);
	snprintf(dev, sizeof(dev), "/dev/tap%d", t.ifindex);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return sl_error(err, -errno, "%s: %s (the device of macvtap %s): %s", name, dev, tap,
				strerror(errno));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0 || strncmp(ifr.ifr_name, tap, IFNAMSIZ))
		return sl_error(err, -ENXIO, "%s: %s is not the device of macvtap %s (one of "
					     "another namespace?)", name, dev, tap);
	memcpy(mac, t.mac, 6);
	return sl_steal_fd(&fd);
}
