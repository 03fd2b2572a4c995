/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cidr.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "state.h"
#include "util.h"
#include "vmnet.h"

static int problems;

static void problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sl_info("check: %s", buf);
	problems++;
}

/**
 * sl_vm_netns_open() - open a VM's namespace, checking that it is ours
 * @name: VM name
 *
 * Return: fd; -ENXIO when there is none (an unknown VM), -EEXIST when it
 * is someone else's; the error recorded
 */
int sl_vm_netns_open(const char *name)
{
	_cleanup_close_ int fd = sl_netns_open(name);
	int r;

	if (fd == -ENOENT) {
		sl_set_error("no namespace %s (run sl-netns add %s first)", name, name);
		return -ENXIO;
	}
	if (fd < 0) {
		sl_set_error("cannot open namespace %s: %s", name, strerror(-fd));
		return fd;
	}
	r = sl_owned_netns(name);
	if (r < 0)
		return r;
	if (!r) {
		sl_set_error("namespace %s exists but was not made by sltools in %s",
			     name, sl_run_dir());
		return -EEXIST;
	}
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
static int netns_setup_here(void *unused)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	int r;

	(void)unused;
	r = sl_nl_open_or_fail(&sk);
	if (r < 0)
		return r;
	r = sl_link_set(sk, "lo", 1, sl_owner_tag());
	if (r < 0) {
		sl_set_error("cannot set up lo: %s", strerror(-r));
		return r;
	}
	if ((r = sl_sysctl_write("net/ipv6/conf/default/disable_ipv6", "1")) < 0 ||
	    (r = sl_sysctl_write("net/ipv6/conf/all/disable_ipv6", "1")) < 0 ||
	    (r = sl_sysctl_write("net/ipv4/ip_forward", "1")) < 0)
		return r;
	return 0;
}

static int netns_setup(int fd)
{
	_cleanup_netns_ int saved = sl_netns_enter(fd);

	if (saved < 0)
		return saved;
	return netns_setup_here(NULL);
}

/*
 * Made and tagged under the VM's lock: a second add of the same name waits,
 * then finds one of ours and re-applies, instead of seeing an untagged
 * namespace of the moment and calling it foreign.
 */
static int netns_make(const char *name)
{
	_cleanup_close_ int lock = sl_vm_lock(name);
	_cleanup_close_ int fd = -1;
	int r;

	if (lock < 0)
		return lock;
	r = sl_netns_create(name, netns_setup_here, NULL);
	if (r != -EEXIST)
		return r;
	r = sl_owned_netns(name);
	if (r < 0)
		return r;
	if (!r) {
		sl_set_error("namespace %s exists but was not made by sltools in %s", name,
			     sl_run_dir());
		return -EEXIST;
	}
	fd = sl_netns_open(name);
	if (fd < 0)
		return fd;
	return netns_setup(fd);
}

/**
 * sl_netns_add() - create a VM's private namespace
 * @name: VM name
 * @out: SL_NETNS
 *
 * Adding one of ours again re-applies its settings and succeeds; a
 * namespace of the same name that is not ours is refused and untouched.
 *
 * Return: 0, -EEXIST, or -errno with the error recorded
 */
int sl_netns_add(const char *name, struct sl_kv *out)
{
	char path[256];
	int r;

	r = sl_name_check(name);
	if (r < 0)
		return r;
	sl_netns_path(name, path, sizeof(path));
	r = netns_make(name);
	if (r == 0)
		r = sl_kv_set(out, "SL_NETNS", path);
	if (r == 0)
		r = sl_state_update(name, out, NULL);
	return r;
}

/*
 * The host end of a VM's veth goes when the kernel frees the namespace,
 * asynchronously. Wait for it, so that del means gone, and take it by hand
 * if something still holds the namespace.
 */
static int wait_host_end(struct nl_sock *sk, const char *name, int ifindex)
{
	struct sl_link h;

	for (int waited = 0; waited < 3000; waited += 2) {
		if (sl_link_get(sk, name, &h) < 0 || h.ifindex != ifindex)
			return 0;
		usleep(2000);
	}
	return sl_link_del(sk, name);
}

/*
 * A host veth without our alias is still the VM's when its peer is the
 * VM's end in the VM's namespace: an add killed before it set the alias.
 */
static bool peer_in_vm_netns(const char *name, const struct sl_link *h)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_close_ int fd = -1;
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link p;
	const char *peer;

	if (strcmp(h->kind, "veth") || !h->has_peer_netns || (fd = sl_netns_open(name)) < 0)
		return false;
	sl_state_load(name, &st);
	peer = sl_kv_get(&st, "SL_VETH_NS") ?: SL_VETH_NS_DEFAULT;
	saved = sl_netns_enter(fd);
	if (saved < 0 || sl_nl_open(&sk) < 0)
		return false;
	return sl_link_get(sk, peer, &p) == 0 && p.ifindex == h->peer_ifindex &&
	       p.peer_ifindex == h->ifindex;
}

/**
 * sl_netns_del() - remove a VM's namespace, and so everything in it
 * @name: VM name
 *
 * Like `ip netns del`, this takes the TAP and the veth pair with the
 * namespace; the kernel removes them in one batch, which is cheaper than
 * sl-tap del and sl-veth del one after the other.
 *
 * Return: 0, also when it is already gone; -EEXIST when it is not ours
 */
int sl_netns_del(const char *name)
{
	static const char *const keys[] = { "SL_NETNS", "SL_TAP", "SL_VETH_HOST", "SL_VETH_NS",
					    NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_link h = { 0 };
	int r = sl_name_check(name);

	if (r < 0)
		return r;
	{
		/* what an add killed half-way left: not a namespace, but in its place */
		_cleanup_close_ int lock = sl_vm_lock(name);

		if (lock >= 0)
			sl_netns_remove_stale(name);
	}
	r = sl_netns_exists(name);
	if (r > 0) {
		r = sl_owned_netns(name);
		if (r < 0)
			return r;
		if (!r) {
			sl_set_error("namespace %s was not made by sltools in %s: left alone",
				     name, sl_run_dir());
			return -EEXIST;
		}
		r = sl_nl_open_or_fail(&sk);
		if (r < 0)
			return r;
		if (sl_link_get(sk, name, &h) < 0 ||
		    ((strcmp(h.alias, sl_owner_tag()) || strcmp(h.kind, "veth")) &&
		     !peer_in_vm_netns(name, &h)))
			h.ifindex = 0;
		r = sl_netns_remove(name);
		if (r == 0 && h.ifindex)
			r = wait_host_end(sk, name, h.ifindex);
	}
	if (r < 0)
		return r;
	return sl_state_update(name, NULL, keys);
}

/**
 * sl_netns_check() - compare a VM's namespace with what sl_netns_add() makes
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_netns_check(const char *name)
{
	_cleanup_close_ int fd = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_netns_ int saved = -1;
	struct sl_link lo;
	char v[32];
	int r;

	problems = 0;
	fd = sl_vm_netns_open(name);
	if (fd < 0)
		return fd;
	saved = sl_netns_enter(fd);
	if (saved < 0)
		return saved;
	r = sl_nl_open_or_fail(&sk);
	if (r < 0)
		return r;
	if (sl_link_get(sk, "lo", &lo) < 0 || !(lo.flags & IFF_UP))
		problem("%s: lo is not up", name);
	if (sl_sysctl_read("net/ipv6/conf/all/disable_ipv6", v, sizeof(v)) < 0 || strcmp(v, "1"))
		problem("%s: IPv6 is not disabled (net.ipv6.conf.all.disable_ipv6)", name);
	if (sl_sysctl_read("net/ipv6/conf/default/disable_ipv6", v, sizeof(v)) < 0 || strcmp(v, "1"))
		problem("%s: IPv6 is not disabled for new links (net.ipv6.conf.default.disable_ipv6)", name);
	if (sl_sysctl_read("net/ipv4/ip_forward", v, sizeof(v)) < 0 || strcmp(v, "1"))
		problem("%s: forwarding is off (net.ipv4.ip_forward)", name);
	return problems;
}

/**
 * sl_netns_list() - names of the namespaces under /run/netns that are ours
 */
int sl_netns_list(char ***names, size_t *n)
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
			return errno == ENOENT ? 0 : -errno;
		while ((de = readdir(d))) {
			char **nv;

			if (de->d_name[0] == '.' || sl_name_check(de->d_name) < 0)
				continue;
			nv = realloc(all, (cnt + 1) * sizeof(*nv));
			if (!nv || !(nv[cnt] = strdup(de->d_name))) {
				closedir(d);
				sl_strv_free(nv ? nv : all, cnt);
				all = NULL;
				return -ENOMEM;
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

/* ---- veth ---- */

static uint32_t nexthop_label(uint32_t ip, unsigned prefix)
{
	struct sl_cidr block = { ip & sl_cidr_mask(prefix), prefix };

	/* Never the VM's own block, where it would be a local address. */
	return sl_cidr_contains(&block, SL_NEXTHOP_LABEL) ? SL_NEXTHOP_LABEL + 4
							  : SL_NEXTHOP_LABEL;
}

static int veth_routes(int nsfd, const struct sl_veth_cfg *c, struct nl_sock *host,
		       const struct sl_link *h)
{
	struct sl_cidr block = { c->ip & sl_cidr_mask(c->prefix), c->prefix };
	struct sl_cidr deflt = { 0, 0 };
	uint32_t label = nexthop_label(c->ip, c->prefix);
	struct sl_link p;
	int r;

	{
		_cleanup_netns_ int saved = sl_netns_enter(nsfd);
		_cleanup_nl_ struct nl_sock *sk = NULL;

		if (saved < 0)
			return saved;
		r = sl_nl_open_or_fail(&sk);
		if (r < 0)
			return r;
		r = sl_link_set(sk, c->peer, 1, sl_owner_tag());
		if (r == 0)
			r = sl_link_get(sk, c->peer, &p);
		if (r == 0)
			r = sl_neigh_add(sk, p.ifindex, label, h->mac);
		if (r == 0) {
			r = sl_route_add(sk, &deflt, label, p.ifindex);
			if (r == -EEXIST)
				r = sl_route_has(sk, &deflt, label, p.ifindex) > 0 ? 0 : -EEXIST;
		}
		if (r < 0) {
			sl_set_error("%s: cannot set up %s in the namespace: %s", c->name, c->peer,
				     strerror(-r));
			return r;
		}
	}
	r = sl_neigh_add(host, h->ifindex, c->ip, p.mac);
	if (r == 0) {
		r = sl_route_add(host, &block, 0, h->ifindex);
		if (r == -EEXIST)
			r = sl_route_has(host, &block, 0, h->ifindex) > 0 ? 0 : -EEXIST;
	}
	if (r < 0) {
		char b[SL_CIDR_STRLEN];

		sl_set_error("%s: cannot route %s to it: %s%s", c->name, sl_cidr_fmt(&block, b),
			     strerror(-r), r == -EEXIST ? " (another route holds it)" : "");
	}
	return r;
}

/**
 * sl_veth_add() - join a VM's namespace to the host with a veth pair
 * @c: names and the VM's address
 * @out: SL_VETH_HOST, SL_VETH_NS
 *
 * The host end is named after the VM and carries no address: the host
 * routes the VM's /30 to it and knows the VM's address by a permanent
 * neighbour entry; the namespace sends everything to the host the same
 * way. Nothing is taken from the range.
 *
 * Return: 0, -ENXIO (no namespace), -EEXIST (foreign link), or -errno
 */
int sl_veth_add(const struct sl_veth_cfg *c, struct sl_kv *out)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
	struct sl_link h;
	char key[128];
	bool made = false;
	int r;

	r = sl_name_check(c->name);
	if (r < 0)
		return r;
	fd = sl_vm_netns_open(c->name);
	if (fd < 0)
		return fd;
	r = sl_nl_open_or_fail(&sk);
	if (r < 0)
		return r;
	r = sl_link_get(sk, c->name, &h);
	if (r == 0 && (strcmp(h.alias, sl_owner_tag()) || strcmp(h.kind, "veth"))) {
		sl_set_error("interface %s exists on the host and is not ours: left alone", c->name);
		return -EEXIST;
	}
	if (r == -ENODEV) {
		r = sl_link_veth_add(sk, c->name, c->peer, fd);
		if (r == -EEXIST) {
			sl_set_error("cannot create veth %s: %s already exists in namespace %s",
				     c->name, c->peer, c->name);
			return r;
		}
		if (r < 0) {
			sl_set_error("cannot create veth %s: %s", c->name, strerror(-r));
			return r;
		}
		made = true;
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->name);
		r = sl_sysctl_write(key, "1");
		if (r == 0) {
			r = sl_link_set(sk, c->name, 1, sl_owner_tag());
			if (r < 0)
				sl_set_error("cannot set up %s: %s", c->name, strerror(-r));
		}
		if (r == 0)
			r = sl_link_get(sk, c->name, &h);
	}
	if (r == 0)
		r = veth_routes(fd, c, sk, &h);
	if (r == 0)
		r = sl_kv_set(out, "SL_VETH_HOST", c->name);
	if (r == 0)
		r = sl_kv_set(out, "SL_VETH_NS", c->peer);
	if (r == 0)
		r = sl_state_update(c->name, out, NULL);
	if (r < 0 && made)
		sl_link_del(sk, c->name); /* takes the peer and the routes with it */
	return r;
}

/**
 * sl_veth_del() - remove the veth pair of a VM
 *
 * Return: 0, also when it is already gone; -EEXIST when the host link of
 * that name is not ours
 */
int sl_veth_del(const char *name)
{
	static const char *const keys[] = { "SL_VETH_HOST", "SL_VETH_NS", NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	int r;

	if ((r = sl_name_check(name)) < 0 || (r = sl_nl_open_or_fail(&sk)) < 0)
		return r;
	r = sl_link_del_owned(sk, name, NULL, sl_owner_tag());
	if (r == -EEXIST)
		sl_set_error("interface %s is not ours: left alone", name);
	if (r < 0)
		return r;
	return sl_state_update(name, NULL, keys);
}

/**
 * sl_veth_check() - compare a VM's veth pair with what sl_veth_add() makes
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_veth_check(const struct sl_veth_cfg *c)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
	struct sl_cidr block = { c->ip & sl_cidr_mask(c->prefix), c->prefix };
	struct sl_cidr deflt = { 0, 0 };
	uint32_t label = nexthop_label(c->ip, c->prefix);
	struct sl_link h, p;
	char key[128], v[16], b[SL_CIDR_STRLEN];
	int r;

	problems = 0;
	fd = sl_vm_netns_open(c->name);
	if (fd < 0)
		return fd;
	r = sl_nl_open_or_fail(&sk);
	if (r < 0)
		return r;
	if (sl_link_get(sk, c->name, &h) < 0) {
		problem("%s: no host interface %s", c->name, c->name);
		return problems;
	}
	if (strcmp(h.kind, "veth"))
		problem("%s: host interface is a '%s', not a veth", c->name, h.kind);
	if (strcmp(h.alias, sl_owner_tag()))
		problem("%s: host interface alias is '%s', not '%s'", c->name, h.alias, sl_owner_tag());
	if (!(h.flags & IFF_UP))
		problem("%s: host interface is down", c->name);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->name);
	if (sl_sysctl_read(key, v, sizeof(v)) == 0 && strcmp(v, "1"))
		problem("%s: IPv6 is enabled on the host interface", c->name);
	if (sl_route_has(sk, &block, 0, h.ifindex) <= 0)
		problem("%s: no route %s dev %s", c->name, sl_cidr_fmt(&block, b), c->name);
	{
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_nl_ struct nl_sock *ns = NULL;

		if (saved < 0)
			return saved;
		r = sl_nl_open_or_fail(&ns);
		if (r < 0)
			return r;
		if (sl_link_get(ns, c->peer, &p) < 0) {
			problem("%s: no %s in the namespace", c->name, c->peer);
			return problems;
		}
		if (p.peer_ifindex != h.ifindex || !p.has_peer_netns)
			problem("%s: %s in the namespace is not the peer of host %s", c->name,
				c->peer, c->name);
		if (!(p.flags & IFF_UP))
			problem("%s: %s is down", c->name, c->peer);
		if (sl_neigh_has(ns, p.ifindex, label, h.mac) <= 0)
			problem("%s: no permanent neighbour for the next hop on %s", c->name, c->peer);
		if (sl_route_has(ns, &deflt, label, p.ifindex) <= 0)
			problem("%s: no default route via %s in the namespace", c->name, c->peer);
	}
	if (sl_neigh_has(sk, h.ifindex, c->ip, p.mac) <= 0)
		problem("%s: no permanent neighbour for the VM's address on %s", c->name, c->name);
	return problems;
}

/* ---- tap ---- */

/**
 * sl_tap_create() - a persistent TAP in the current namespace
 * @tap: its name
 *
 * Return: 0 or -errno, the error recorded
 */
int sl_tap_create(const char *tap)
{
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { 0 };

	if (fd < 0) {
		int e = errno;

		sl_set_error("/dev/net/tun: %s", strerror(e));
		return -e;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	/* QEMU asks for the same flags when it opens the TAP by name. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		int e = errno;

		sl_set_error("cannot create TAP %s: %s", tap, strerror(e));
		return -e;
	}
	return 0;
}

/**
 * sl_tap_add() - a persistent TAP in the VM's namespace, holding the gateway
 * @c: namespace, TAP name, gateway address
 * @out: SL_TAP
 *
 * QEMU opens it later by name (or is handed an fd), from inside the
 * namespace. IPv6 is off because the namespace's default says so.
 *
 * Return: 0, -ENXIO (no namespace), -EEXIST (a different link of that
 * name), or -errno
 */
int sl_tap_add(const struct sl_tap_cfg *c, struct sl_kv *out)
{
	_cleanup_close_ int fd = -1;
	struct sl_link t;
	bool made = false;
	int r;

	r = sl_name_check(c->name);
	if (r < 0)
		return r;
	fd = sl_vm_netns_open(c->name);
	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_nl_ struct nl_sock *sk = NULL;
		char ip[SL_IP_STRLEN];

		if (saved < 0)
			return saved;
		r = sl_nl_open_or_fail(&sk);
		if (r < 0)
			return r;
		r = sl_link_get(sk, c->tap, &t);
		if (r == 0 && (strcmp(t.kind, "tun") || strcmp(t.alias, sl_owner_tag()))) {
			sl_set_error("%s: %s exists in the namespace and is not our TAP", c->name, c->tap);
			return -EEXIST;
		}
		if (r == -ENODEV) {
			r = sl_tap_create(c->tap);
			if (r < 0)
				return r;
			made = true;
			r = sl_link_set(sk, c->tap, -1, sl_owner_tag());
			if (r == 0)
				r = sl_link_get(sk, c->tap, &t);
		}
		if (r == 0) {
			r = sl_addr_has(sk, t.ifindex, c->gw, c->prefix);
			if (r == 0)
				r = sl_addr_add(sk, t.ifindex, c->gw, c->prefix);
			else if (r == -EEXIST)
				sl_set_error("%s: %s holds another address than %s/%u", c->name,
					     c->tap, sl_ip_fmt(c->gw, ip), c->prefix);
			else if (r == 1)
				r = 0;
		}
		if (r == 0)
			r = sl_link_set(sk, c->tap, 1, NULL);
		if (r < 0) {
			if (r != -EEXIST)
				sl_set_error("%s: cannot set up %s: %s", c->name, c->tap, strerror(-r));
			if (made)
				sl_link_del(sk, c->tap);
			return r;
		}
	}
	r = sl_kv_set(out, "SL_TAP", c->tap);
	if (r == 0)
		r = sl_state_update(c->name, out, NULL);
	return r;
}

/**
 * sl_tap_del() - remove a VM's TAP
 *
 * Return: 0, also when it or the namespace is already gone
 */
int sl_tap_del(const char *name, const char *tap)
{
	static const char *const keys[] = { "SL_TAP", NULL };
	_cleanup_close_ int fd = -1;
	int r;

	r = sl_name_check(name);
	if (r < 0)
		return r;
	fd = sl_vm_netns_open(name);
	if (fd == -ENXIO)
		return sl_state_update(name, NULL, keys);
	if (fd < 0)
		return fd;
	{
		_cleanup_netns_ int saved = sl_netns_enter(fd);
		_cleanup_nl_ struct nl_sock *sk = NULL;

		if (saved < 0)
			return saved;
		if ((r = sl_nl_open_or_fail(&sk)) < 0)
			return r;
		r = sl_link_del_owned(sk, tap, "tun", sl_owner_tag());
		if (r == -EEXIST)
			sl_set_error("%s: %s is not our TAP: left alone", name, tap);
		if (r < 0)
			return r;
	}
	return sl_state_update(name, NULL, keys);
}

/**
 * sl_tap_check() - compare a VM's TAP with what sl_tap_add() makes
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_tap_check(const struct sl_tap_cfg *c)
{
	_cleanup_close_ int fd = -1;
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char key[128], v[16], ip[SL_IP_STRLEN];
	struct sl_link t;
	int r;

	problems = 0;
	fd = sl_vm_netns_open(c->name);
	if (fd < 0)
		return fd;
	saved = sl_netns_enter(fd);
	if (saved < 0)
		return saved;
	r = sl_nl_open_or_fail(&sk);
	if (r < 0)
		return r;
	if (sl_link_get(sk, c->tap, &t) < 0) {
		problem("%s: no %s in the namespace", c->name, c->tap);
		return problems;
	}
	if (strcmp(t.kind, "tun"))
		problem("%s: %s is a '%s', not a TAP", c->name, c->tap, t.kind);
	if (!(t.flags & IFF_UP))
		problem("%s: %s is down", c->name, c->tap);
	if (sl_addr_has(sk, t.ifindex, c->gw, c->prefix) != 1)
		problem("%s: %s does not hold exactly %s/%u", c->name, c->tap,
			sl_ip_fmt(c->gw, ip), c->prefix);
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", c->tap);
	if (sl_sysctl_read(key, v, sizeof(v)) == 0 && strcmp(v, "1"))
		problem("%s: IPv6 is enabled on %s", c->name, c->tap);
	return problems;
}
