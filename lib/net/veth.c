/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/if.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "state.h"
#include "util.h"
#include "veth.h"

static uint32_t nexthop_label(uint32_t ip, unsigned prefix)
{
	struct sl_cidr block = { ip & sl_cidr_mask(prefix), prefix };

	/* Never the VM's own block, where it would be a local address. */
	return sl_cidr_contains(&block, SL_NEXTHOP_LABEL) ? SL_NEXTHOP_LABEL + 4
							  : SL_NEXTHOP_LABEL;
}

static int veth_routes(int nsfd, const struct sl_veth_cfg *c, struct nl_sock *host,
		       const struct sl_link *h, struct sl_error *err)
{
	struct sl_cidr block = { c->ip & sl_cidr_mask(c->prefix), c->prefix };
	struct sl_cidr deflt = { 0, 0 };
	uint32_t label = nexthop_label(c->ip, c->prefix);
	struct sl_link p;
	int r;

	{
		_cleanup_netns_ int saved = -1;
		_cleanup_nl_ struct nl_sock *sk = NULL;

		if ((r = sl_nl_open_in(nsfd, &saved, &sk, err)) < 0)
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
		if (r < 0)
			return sl_error(err, r, "%s: cannot set up %s in the namespace: %s",
					c->name, c->peer, strerror(-r));
	}
	r = sl_neigh_add(host, h->ifindex, c->ip, p.mac);
	if (r == 0) {
		r = sl_route_add(host, &block, 0, h->ifindex);
		if (r == -EEXIST)
			r = sl_route_has(host, &block, 0, h->ifindex) > 0 ? 0 : -EEXIST;
	}
	if (r < 0) {
		char b[SL_CIDR_STRLEN];

		sl_error(err, r, "%s: cannot route %s to it: %s%s", c->name, sl_cidr_fmt(&block, b),
			 strerror(-r), r == -EEXIST ? " (another route holds it)" : "");
	}
	return r;
}

/**
 * sl_veth_host() - the name and alias of a VM's host end
 * @name: the VM
 * @ifname: result, sl_ifname() of @name
 * @alias: result, our owner tag, "veth" and the VM's full name
 * @len: size of @alias
 *
 * The alias is how `ip link`, sl-gc and sl-netns del know whose a derived
 * name is.
 */
void sl_veth_host(const char *name, char ifname[SL_IFNAME_MAX + 1], char *alias, size_t len)
{
	sl_ifname(name, ifname);
	sl_owner_alias("veth", name, alias, len);
}

/**
 * sl_veth_host_ours() - whether a host link is the host end of VM @name
 * @name: the VM
 * @h: the link named sl_ifname() of @name
 *
 * Before names could be longer than a link's, the alias was the owner tag
 * alone, on a link named as the VM: those are still taken for the VM's.
 */
bool sl_veth_host_ours(const char *name, const struct sl_link *h)
{
	char ifname[SL_IFNAME_MAX + 1], alias[sizeof(h->alias)];

	if (strcmp(h->kind, "veth"))
		return false;
	sl_veth_host(name, ifname, alias, sizeof(alias));
	return !strcmp(h->alias, alias) ||
	       (!strcmp(h->alias, sl_owner_tag()) && !strcmp(ifname, name));
}

/* The VM's namespace, ours, and netlink in the host's, where the pair's host end is. */
static int vm_and_host(const char *name, int *nsfd, struct nl_sock **host, struct sl_error *err)
{
	*nsfd = sl_vm_netns_open(name, err);
	if (*nsfd < 0)
		return *nsfd;
	return sl_nl_open_or_fail(host, err);
}

/**
 * sl_veth_add() - join a VM's namespace to the host with a veth pair
 * @c: names and the VM's address
 * @out: SL_VETH_HOST, SL_VETH_NS
 * @err: why, when it fails
 *
 * The host end is named after the VM (sl_ifname(): a name longer than a
 * link's gets a derived one; the alias, sl_veth_host(), keeps the full
 * name and refuses a second VM whose name derives the same), in this run
 * dir's device group
 * (sl_owner_group(): where the host's rules take a range's packets from),
 * and carries no address: the host
 * routes the VM's /30 to it and knows the VM's address by a permanent
 * neighbour entry; the namespace sends everything to the host the same
 * way. Nothing is taken from the range.
 *
 * Return: 0, -ENXIO (no namespace), -EEXIST (foreign link, or another VM's
 * of the same derived name), or -errno
 */
int sl_veth_add(const struct sl_veth_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
	char key[128], ifname[SL_IFNAME_MAX + 1], alias[sizeof(((struct sl_link *)0)->alias)];
	struct sl_link h;
	bool made = false;
	int r;

	if ((r = vm_and_host(c->name, &fd, &sk, err)) < 0)
		return r;
	sl_veth_host(c->name, ifname, alias, sizeof(alias));
	r = sl_link_get(sk, ifname, &h);
	if (r == 0 && !sl_veth_host_ours(c->name, &h)) {
		char whose[SL_NAME_MAX + 1];

		if (sl_alias_owner(h.alias, "veth", whose, sizeof(whose)))
			return sl_error(err, -EEXIST,
					"interface %s is VM %s's: %s and %s have the same interface "
					"name (sl_ifname): rename one",
					ifname, whose, whose, c->name);
		return sl_error(err, -EEXIST,
				"interface %s exists on the host and is not ours: left alone",
				ifname);
	}
	if (r == -ENODEV) {
		uint8_t mac[6];

		sl_owner_mac(c->name, mac);
		r = sl_link_veth_add(sk, ifname, c->peer, fd, mac);
		if (r == -EEXIST)
			return sl_error(err, r,
					"cannot create veth %s: %s already exists in namespace %s",
					ifname, c->peer, c->name);
		if (r < 0)
			return sl_error(err, r, "cannot create veth %s: %s", ifname, strerror(-r));
		made = true;
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
		r = sl_sysctl_write(key, "1", err);
		if (r == 0) {
			r = sl_link_set(sk, ifname, 1, alias);
			if (r < 0)
				sl_error(err, r, "cannot set up %s: %s", ifname, strerror(-r));
		}
		if (r == 0)
			r = sl_link_get(sk, ifname, &h);
	}
	if (r == 0 && strcmp(h.alias, alias)) /* an older sltools' alias: now the VM's name too */
		r = sl_link_set(sk, ifname, -1, alias);
	if (r == 0 && h.group != sl_owner_group()) {
		r = sl_link_set_group(sk, ifname, sl_owner_group());
		if (r < 0)
			sl_error(err, r, "cannot set the group of %s: %s", ifname, strerror(-r));
	}
	if (r == 0)
		r = veth_routes(fd, c, sk, &h, err);
	if (r == 0)
		r = sl_kv_set(out, "SL_VETH_HOST", ifname);
	if (r == 0)
		r = sl_kv_set(out, "SL_VETH_NS", c->peer);
	if (r == 0)
		r = sl_state_update(c->name, out, NULL, err);
	if (r < 0 && made)
		sl_link_del(sk, ifname); /* takes the peer and the routes with it */
	return r;
}

/**
 * sl_veth_del() - remove the veth pair of a VM
 * @err: why, when it fails
 *
 * Return: 0, also when it is already gone; -EEXIST when the host link of
 * that name is not ours
 */
int sl_veth_del(const char *name, struct sl_error *err)
{
	static const char *const keys[] = { "SL_VETH_HOST", "SL_VETH_NS", NULL };
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char ifname[SL_IFNAME_MAX + 1], alias[sizeof(((struct sl_link *)0)->alias)];
	struct sl_link h;
	int r;

	if ((r = sl_name_check(name, err)) < 0 || (r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	sl_veth_host(name, ifname, alias, sizeof(alias));
	r = sl_link_get(sk, ifname, &h);
	if (r == 0 && !sl_veth_host_ours(name, &h)) {
		char whose[SL_NAME_MAX + 1];

		if (sl_alias_owner(h.alias, "veth", whose, sizeof(whose)))
			return sl_error(err, -EEXIST, "interface %s is VM %s's: left alone", ifname,
					whose);
		return sl_error(err, -EEXIST, "interface %s is not ours: left alone", ifname);
	}
	if (r == 0)
		r = sl_link_del(sk, ifname);
	if (r < 0 && r != -ENODEV) /* gone already is success */
		return sl_error(err, r, "cannot delete %s: %s", ifname, strerror(-r));
	return sl_state_update(name, NULL, keys, err);
}

/**
 * sl_veth_check() - compare a VM's veth pair with what sl_veth_add() makes
 * @err: why, when it fails
 *
 * Return: number of differences (each reported on stderr), or -errno
 */
int sl_veth_check(const struct sl_veth_cfg *c, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int fd = -1;
	struct sl_cidr block = { c->ip & sl_cidr_mask(c->prefix), c->prefix };
	struct sl_cidr deflt = { 0, 0 };
	uint32_t label = nexthop_label(c->ip, c->prefix);
	struct sl_link h, p;
	char key[128], v[16], b[SL_CIDR_STRLEN], ifname[SL_IFNAME_MAX + 1], alias[sizeof(h.alias)];
	int problems = 0, r;

	if ((r = vm_and_host(c->name, &fd, &sk, err)) < 0)
		return r;
	sl_veth_host(c->name, ifname, alias, sizeof(alias));
	if (sl_link_get(sk, ifname, &h) < 0) {
		sl_check(&problems, "%s: no host interface %s", c->name, ifname);
		return problems;
	}
	if (strcmp(h.kind, "veth"))
		sl_check(&problems, "%s: host interface is a '%s', not a veth", c->name, h.kind);
	if (strcmp(h.alias, alias))
		sl_check(&problems, "%s: host interface alias is '%s', not '%s'", c->name, h.alias,
			 alias);
	if (!(h.flags & IFF_UP))
		sl_check(&problems, "%s: host interface is down", c->name);
	if (h.group != sl_owner_group())
		sl_check(&problems, "%s: host interface is in device group 0x%x, not 0x%x: the "
			 "host's rules will not take its packets for the VM's", c->name, h.group,
			 sl_owner_group());
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
	if (sl_sysctl_read(key, v, sizeof(v)) == 0 && strcmp(v, "1"))
		sl_check(&problems, "%s: IPv6 is enabled on the host interface", c->name);
	if (sl_route_has(sk, &block, 0, h.ifindex) <= 0)
		sl_check(&problems, "%s: no route %s dev %s", c->name, sl_cidr_fmt(&block, b), ifname);
	{
		_cleanup_netns_ int saved = -1;
		_cleanup_nl_ struct nl_sock *ns = NULL;

		if ((r = sl_nl_open_in(fd, &saved, &ns, err)) < 0)
			return r;
		if (sl_link_get(ns, c->peer, &p) < 0) {
			sl_check(&problems, "%s: no %s in the namespace", c->name, c->peer);
			return problems;
		}
		if (p.peer_ifindex != h.ifindex || !p.has_peer_netns)
			sl_check(&problems, "%s: %s in the namespace is not the peer of host %s", c->name,
				c->peer, ifname);
		if (!(p.flags & IFF_UP))
			sl_check(&problems, "%s: %s is down", c->name, c->peer);
		if (sl_neigh_has(ns, p.ifindex, label, h.mac) <= 0)
			sl_check(&problems, "%s: no permanent neighbour for the next hop on %s", c->name, c->peer);
		if (sl_route_has(ns, &deflt, label, p.ifindex) <= 0)
			sl_check(&problems, "%s: no default route via %s in the namespace", c->name, c->peer);
	}
	if (sl_neigh_has(sk, h.ifindex, c->ip, p.mac) <= 0)
		sl_check(&problems, "%s: no permanent neighbour for the VM's address on %s", c->name, ifname);
	return problems;
}
