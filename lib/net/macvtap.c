/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
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

/*
 * The device number of @tap as this namespace's sysfs has it: /sys is the
 * view of whoever mounted it, so a child mounts one of its own, in a mount
 * namespace of its own, and reads class/net/TAP/macvtap/tapN/dev. Only
 * system calls between fork and _exit: sl-up calls this from threads.
 */
static int tap_devnum(const char *tap, int ifindex, dev_t *devt)
{
	char path[128], buf[32] = "";
	unsigned maj, min;
	int p[2], st, fd;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "/sys/class/net/%s/macvtap/tap%d/dev", tap, ifindex);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			_exit(1);
		n = read(fd, buf, sizeof(buf) - 1);
		_exit(n > 0 && write(p[1], buf, (size_t)n) == n ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n <= 0 || sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -ENODEV;
	*devt = makedev(maj, min);
	return 0;
}

/*
 * A node of our own for @tap's device, in the VM's run dir, opened and
 * unlinked: for when /dev/tapN is another namespace's.
 */
static int open_own_node(const char *name, const char *tap, int ifindex)
{
	char node[4096];
	dev_t devt = 0;
	int fd, r;

	if ((r = tap_devnum(tap, ifindex, &devt)) < 0)
		return r;
	if (sl_run_path(node, sizeof(node), "%s/tapdev", name) < 0)
		return -ENAMETOOLONG;
	unlink(node);
	if (mknod(node, S_IFCHR | 0600, devt) < 0)
		return -errno;
	fd = open(node, O_RDWR | O_CLOEXEC);
	r = fd < 0 ? -errno : fd;
	unlink(node);
	return r;
}

static bool fd_is_tap(int fd, const char *tap)
{
	struct ifreq ifr = { 0 };

	return ioctl(fd, TUNGETIFF, &ifr) == 0 && !strncmp(ifr.ifr_name, tap, IFNAMSIZ);
}

/**
 * sl_macvtap_open() - open the character device of a VM's macvtap for QEMU
 * @name: VM
 * @tap: its macvtap, in this namespace
 * @mac: result: the macvtap's MAC, which the guest's NIC must carry
 * @err: why, when it fails
 *
 * The kernel names the device tap<ifindex> in the one devtmpfs of the
 * machine, though ifindexes repeat across namespaces: where sltools' host
 * is itself a namespace (a container, the tests' scratch host), /dev/tapN
 * can be another namespace's macvtap, or missing. The fd's own TUNGETIFF
 * must name @tap; when it does not, a node of our own is made from the
 * device number this namespace's sysfs gives.
 *
 * Return: the fd (O_CLOEXEC), or -errno with the error recorded
 */
int sl_macvtap_open(const char *name, const char *tap, uint8_t mac[6], struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
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
	if (fd < 0 || !fd_is_tap(fd, tap)) {
		int own = open_own_node(name, tap, t.ifindex);

		if (own < 0 && fd < 0)
			return sl_error(err, own, "%s: %s (the device of macvtap %s): %s", name,
					dev, tap, strerror(-own));
		if (own < 0)
			return sl_error(err, -ENXIO, "%s: %s is not the device of macvtap %s (one "
						     "of another namespace?), and its own "
						     "device number is unknown: %s",
					name, dev, tap, strerror(-own));
		close(fd);
		fd = own;
		if (!fd_is_tap(fd, tap))
			return sl_error(err, -ENXIO, "%s: the device of macvtap %s is not it",
					name, tap);
	}
	memcpy(mac, t.mac, 6);
	return sl_steal_fd(&fd);
}
