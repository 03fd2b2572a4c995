/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/if.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvtap.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>

#include "error.h"
#include "log.h"
#include "nsident.h"
#include "nl.h"
#include "util.h"

/**
 * sl_nl_err() - turn a libnl error code into -errno
 * @nlerr: libnl's negative NLE_* code
 *
 * libnl's codes are not errno values; this is the one place they are
 * converted, so that library callers only ever see -errno.
 */
int sl_nl_err(int nlerr)
{
	static const struct { int nle, err; } map[] = {
		{ NLE_EXIST, EEXIST },     { NLE_OBJ_NOTFOUND, ENOENT },
		{ NLE_NODEV, ENODEV },     { NLE_PERM, EPERM },
		{ NLE_INVAL, EINVAL },     { NLE_NOMEM, ENOMEM },
		{ NLE_BUSY, EBUSY },       { NLE_RANGE, ERANGE },
		{ NLE_AGAIN, EAGAIN },     { NLE_NOADDR, EADDRNOTAVAIL },
		{ NLE_NOACCESS, EACCES },  { NLE_OPNOTSUPP, EOPNOTSUPP },
		{ NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_INTR, EINTR },
		{ NLE_BAD_SOCK, EBADF },   { NLE_MSGSIZE, EMSGSIZE },
		{ NLE_NOATTR, ENOENT },    { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
	};
	int e = nlerr < 0 ? -nlerr : nlerr;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].nle == e)
			return -map[i].err;
	return -EIO;
}

/**
 * sl_nl_open() - a rtnetlink socket in the current network namespace
 * @sk: result
 *
 * The socket stays bound to the namespace it was made in, whatever the
 * thread enters later.
 *
 * Return: 0 or -errno
 */
int sl_nl_open(struct nl_sock **sk)
{
	int r;

	*sk = nl_socket_alloc();
	if (!*sk)
		return -ENOMEM;
	r = nl_connect(*sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(*sk);
		*sk = NULL;
		return sl_nl_err(r);
	}
	return 0;
}

void sl_nl_closep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}

static void rtnl_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define _cleanup_link_ __attribute__((cleanup(rtnl_link_putp)))

static void nl_addr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
#define _cleanup_addr_ __attribute__((cleanup(nl_addr_putp)))

static void nl_cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define _cleanup_cache_ __attribute__((cleanup(nl_cache_freep)))

static struct nl_addr *ip4(uint32_t ip, unsigned prefix)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);

	if (a)
		nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

/**
 * sl_nl_open_or_fail() - sl_nl_open(), with the error recorded for main
 * @err: why, when it fails
 */
int sl_nl_open_or_fail(struct nl_sock **sk, struct sl_error *err)
{
	int r = sl_nl_open(sk);

	if (r < 0)
		return sl_error(err, r, "netlink: %s", strerror(-r));
	return r;
}

/**
 * sl_nl_open_in() - enter a namespace and open a netlink socket there
 * @nsfd: the namespace
 * @saved: gets where to come back; declare it _cleanup_netns_
 * @sk: the socket; made in the namespace, it stays bound to it
 * @err: why, when it fails
 *
 * Return: 0 or -errno, the error recorded
 */
int sl_nl_open_in(int nsfd, int *saved, struct nl_sock **sk, struct sl_error *err)
{
	*saved = sl_netns_enter(nsfd);
	if (*saved < 0)
		return *saved;
	return sl_nl_open_or_fail(sk, err);
}

/**
 * sl_mac_fmt() - a MAC address as ip(8) and QEMU write it, 06:00:a9:fe:64:02
 * @mac: the address
 * @buf: result
 *
 * Return: @buf
 */
char *sl_mac_fmt(const uint8_t mac[6], char buf[SL_MAC_STRLEN])
{
	snprintf(buf, SL_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return buf;
}

/**
 * sl_link_get() - look a link up by name
 * @sk: socket in the namespace to look in
 * @name: interface name
 * @l: result
 *
 * Return: 0, -ENODEV when there is no such link, or -errno
 */
int sl_link_get(struct nl_sock *sk, const char *name, struct sl_link *l)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	struct nl_addr *mac;
	const char *s;
	int32_t nsid;
	int r;

	memset(l, 0, sizeof(*l));
	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : sl_nl_err(r);
	l->ifindex = rtnl_link_get_ifindex(link);
	l->peer_ifindex = rtnl_link_get_link(link);
	l->has_peer_netns = rtnl_link_get_link_netnsid(link, &nsid) == 0;
	l->peer_nsid = l->has_peer_netns ? nsid : -1;
	l->master = rtnl_link_get_master(link);
	l->group = rtnl_link_get_group(link);
	l->flags = rtnl_link_get_flags(link);
	s = rtnl_link_get_type(link);
	if (s)
		snprintf(l->kind, sizeof(l->kind), "%s", s);
	s = rtnl_link_get_ifalias(link);
	if (s)
		snprintf(l->alias, sizeof(l->alias), "%s", s);
	mac = rtnl_link_get_addr(link);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(l->mac, nl_addr_get_binary_addr(mac), 6);
	return 0;
}

static int nsid_parse(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID])
		*(int32_t *)arg = nla_get_s32(tb[NETNSA_NSID]);
	return NL_OK;
}

static int nsid_acked(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(bool *)arg = true;
	return NL_STOP;
}

/**
 * sl_nl_nsid() - the id @sk's namespace gives another namespace
 * @sk: socket in the namespace asking
 * @nsfd: the other namespace
 * @nsid: result, -1 when it has none (nothing of ours links the two)
 *
 * The id a link's IFLA_LINK_NETNSID names its peer's namespace by: with
 * it, a namespace found by its inode can be checked to be that peer's.
 * Reads through the request's ack, so that @sk can ask again (a leftover
 * ack would be the answer to the next request).
 *
 * Return: 0 or -errno
 */
int sl_nl_nsid(struct nl_sock *sk, int nsfd, int32_t *nsid)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETNSID, NLM_F_REQUEST | NLM_F_ACK);
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	bool acked = false;
	int r = -NLE_NOMEM;

	*nsid = -1;
	if (msg && cb && nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(msg, NETNSA_FD, (uint32_t)nsfd) == 0 &&
	    nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nsid_parse, nsid) == 0 &&
	    nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nsid_acked, &acked) == 0 &&
	    (r = nl_send_auto(sk, msg)) >= 0)
		do
			r = nl_recvmsgs(sk, cb);
		while (r >= 0 && !acked);
	nlmsg_free(msg);
	nl_cb_put(cb);
	return r < 0 ? sl_nl_err(r) : 0;
}

/* A MAC in a link to be made: given at creation, the kernel calls it set. */
static int link_set_addr(struct rtnl_link *link, const uint8_t mac[6])
{
	struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

	if (!a)
		return -ENOMEM;
	rtnl_link_set_addr(link, a);
	nl_addr_put(a);
	return 0;
}

/**
 * sl_link_veth_add() - create a veth pair with its peer born in a namespace
 * @sk: socket in the namespace of the first end
 * @name: first end
 * @peer: peer name
 * @peer_nsfd: namespace of the peer
 * @mac: the first end's MAC (sl_owner_mac()), or NULL for a random one
 *
 * Both ends are created down: IPv6 and the alias are set up before the
 * link can carry anything. Making the peer directly in its namespace
 * avoids a move, which is slow under load (docs/DESIGN.md §2).
 *
 * Return: 0, -EEXIST, or -errno
 */
int sl_link_veth_add(struct nl_sock *sk, const char *name, const char *peer,
		     int peer_nsfd, const uint8_t *mac)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_veth_alloc();
	struct rtnl_link *p;
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	if (mac && (r = link_set_addr(link, mac)) < 0)
		return r;
	p = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(p, peer);
	rtnl_link_set_ns_fd(p, peer_nsfd);
	rtnl_link_put(p);
	r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	return r < 0 ? sl_nl_err(r) : 0;
}

/**
 * sl_link_bridge_add() - create a Linux bridge, down
 * @sk: socket
 * @name: bridge name
 * @mac: its MAC, fixed: without one a bridge takes the lowest of its
 *	ports', which moves as ports come and go
 *
 * Return: 0, -EEXIST, or -errno
 */
int sl_link_bridge_add(struct nl_sock *sk, const char *name, const uint8_t mac[6])
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	if ((r = link_set_addr(link, mac)) < 0)
		return r;
	r = rtnl_link_set_type(link, "bridge");
	if (r < 0)
		return sl_nl_err(r);
	r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	return r < 0 ? sl_nl_err(r) : 0;
}

/**
 * sl_link_macvtap_add() - create a macvtap in bridge mode on a parent, down
 * @sk: socket in the parent's namespace
 * @name: the macvtap's name
 * @parent: the parent's ifindex
 * @mac: its MAC address: the guest must send with it, since a macvtap only
 *	takes frames for its own address
 *
 * Bridge mode: the VMs on one parent reach each other too, as the hosts of
 * a LAN do.
 *
 * Return: 0, -EEXIST, or -errno
 */
int sl_link_macvtap_add(struct nl_sock *sk, const char *name, int parent, const uint8_t mac[6])
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_macvtap_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	rtnl_link_set_link(link, parent);
	if ((r = link_set_addr(link, mac)) < 0)
		return r;
	r = rtnl_link_macvtap_set_mode(link, rtnl_link_macvtap_str2mode("bridge"));
	if (r == 0)
		r = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	return r < 0 ? sl_nl_err(r) : 0;
}

/* Apply the attributes set in @chg to link @name; consumes nothing. */
static int link_change(struct nl_sock *sk, const char *name, struct rtnl_link *chg)
{
	_cleanup_link_ struct rtnl_link *orig = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &orig);

	if (r < 0)
		return r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV ? -ENODEV : sl_nl_err(r);
	r = rtnl_link_change(sk, orig, chg, 0);
	return r < 0 ? sl_nl_err(r) : 0;
}

/**
 * sl_link_set_mac() - give a link a fixed MAC address
 * @sk: socket
 * @name: link
 * @mac: the address
 */
int sl_link_set_mac(struct nl_sock *sk, const char *name, const uint8_t mac[6])
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();
	struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

	if (!chg || !a) {
		if (a)
			nl_addr_put(a);
		return -ENOMEM;
	}
	rtnl_link_set_addr(chg, a);
	nl_addr_put(a);
	return link_change(sk, name, chg);
}

/**
 * sl_link_rename() - give a link, down, another name
 * @sk: socket
 * @name: the link
 * @to: its new name
 *
 * Return: 0, -EEXIST (@to is taken), -ENODEV, or -errno
 */
int sl_link_rename(struct nl_sock *sk, const char *name, const char *to)
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_name(chg, to);
	return link_change(sk, name, chg);
}

/**
 * sl_link_move() - move a link into another namespace under another name
 * @sk: socket in the link's namespace
 * @name: the link
 * @nsfd: the namespace it goes to
 * @to: its name there
 *
 * One request: the link never shows in either namespace under a name it
 * could clash with. A TAP keeps the file its holder has open.
 *
 * Return: 0, -EEXIST (@to is taken there), -ENODEV, or -errno
 */
int sl_link_move(struct nl_sock *sk, const char *name, int nsfd, const char *to)
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_ns_fd(chg, nsfd);
	rtnl_link_set_name(chg, to);
	return link_change(sk, name, chg);
}

/**
 * sl_link_set_master() - enslave a link to a bridge
 * @sk: socket
 * @name: the port
 * @master: the bridge's ifindex
 */
int sl_link_set_master(struct nl_sock *sk, const char *name, int master)
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_master(chg, master);
	return link_change(sk, name, chg);
}

struct ports_ctx {
	int master;
	unsigned n;
};

static void count_port(struct nl_object *o, void *arg)
{
	struct ports_ctx *c = arg;

	if (rtnl_link_get_master((struct rtnl_link *)o) == c->master)
		c->n++;
}

/**
 * sl_link_ports() - how many links a bridge has as ports
 * @sk: socket
 * @master: the bridge's ifindex
 *
 * Return: the count, or -errno
 */
int sl_link_ports(struct nl_sock *sk, int master)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct ports_ctx c = { .master = master };
	int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);

	if (r < 0)
		return sl_nl_err(r);
	nl_cache_foreach(cache, count_port, &c);
	return (int)c.n;
}

/**
 * sl_link_set() - bring a link up or down and/or set its alias
 * @sk: socket
 * @name: link
 * @up: 1 up, 0 down, -1 leave
 * @alias: new alias, or NULL to leave
 */
int sl_link_set(struct nl_sock *sk, const char *name, int up, const char *alias)
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		return -ENOMEM;
	if (up > 0)
		rtnl_link_set_flags(chg, IFF_UP);
	else if (up == 0)
		rtnl_link_unset_flags(chg, IFF_UP);
	if (alias)
		rtnl_link_set_ifalias(chg, alias);
	return link_change(sk, name, chg);
}

/**
 * sl_link_set_group() - put a link in a device group
 * @sk: socket in the link's namespace
 * @name: link
 * @group: the group (IFLA_GROUP), what -m devgroup matches
 *
 * Return: 0 or -errno
 */
int sl_link_set_group(struct nl_sock *sk, const char *name, uint32_t group)
{
	_cleanup_link_ struct rtnl_link *chg = rtnl_link_alloc();

	if (!chg)
		return -ENOMEM;
	rtnl_link_set_group(chg, group);
	return link_change(sk, name, chg);
}

/**
 * sl_link_del() - delete a link by name
 *
 * Return: 0, also when it is already gone, or -errno
 */
int sl_link_del(struct nl_sock *sk, const char *name)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	r = rtnl_link_delete(sk, link);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return 0;
	return r < 0 ? sl_nl_err(r) : 0;
}

/**
 * sl_link_del_owned() - delete a link only if it carries our alias
 * @sk: socket in the link's namespace
 * @name: link
 * @kind: the kind it must be ("tun"), or NULL for any
 * @alias: the alias it must carry
 * @err: why, when it fails
 *
 * The del verbs' one rule: gone already is success, someone else's link of
 * that name is left alone.
 *
 * Return: 0; -EEXIST when the link is not ours (the caller says so, in its
 * own words); or -errno with the error recorded
 */
int sl_link_del_owned(struct nl_sock *sk, const char *name, const char *kind, const char *alias,
		      struct sl_error *err)
{
	struct sl_link l;
	int r = sl_link_get(sk, name, &l);

	if (r == -ENODEV)
		return 0;
	if (r == 0 && ((kind && strcmp(l.kind, kind)) || strcmp(l.alias, alias)))
		return -EEXIST;
	if (r == 0)
		r = sl_link_del(sk, name);
	if (r < 0)
		return sl_error(err, r, "cannot delete %s: %s", name, strerror(-r));
	return r;
}

struct alias_match {
	const char *alias;
	char **v;
	size_t n;
	int err;
};

static void collect_alias(struct nl_object *o, void *arg)
{
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct alias_match *m = arg;
	const char *a = rtnl_link_get_ifalias(l);
	char **nv;

	size_t k = strlen(m->alias);

	if (m->err || !a)
		return;
	if (k && m->alias[k - 1] == '*' ? strncmp(a, m->alias, k - 1) : strcmp(a, m->alias))
		return;
	nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
	if (!nv || !(nv[m->n] = strdup(rtnl_link_get_name(l)))) {
		if (nv)
			m->v = nv;
		m->err = -ENOMEM;
		return;
	}
	m->v = nv;
	m->n++;
}

/**
 * sl_link_list_alias() - names of the links that carry an alias
 * @sk: socket
 * @alias: the alias, e.g. sl_owner_tag(); ending in '*', a prefix
 * @names: result, free each and the array
 * @n: count
 */
int sl_link_list_alias(struct nl_sock *sk, const char *alias, char ***names,
		       size_t *n)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct alias_match m = { .alias = alias };
	int r;

	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return sl_nl_err(r);
	nl_cache_foreach(cache, collect_alias, &m);
	*names = m.v;
	*n = m.n;
	return m.err;
}

/**
 * sl_addr_add() - add an IPv4 address to a link
 *
 * Return: 0, -EEXIST, or -errno
 */
int sl_addr_add(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix)
{
	_cleanup_addr_ struct nl_addr *local = ip4(ip, prefix);
	struct rtnl_addr *a = rtnl_addr_alloc();
	int r;

	if (!a || !local) {
		if (a)
			rtnl_addr_put(a);
		return -ENOMEM;
	}
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	rtnl_addr_set_prefixlen(a, (int)prefix);
	r = rtnl_addr_add(sk, a, NLM_F_EXCL);
	rtnl_addr_put(a);
	return r < 0 ? sl_nl_err(r) : 0;
}

struct find_ctx {
	int ifindex;
	uint32_t ip, via;
	unsigned prefix;
	const uint8_t *mac;
	int found;
};

static void match_addr(struct nl_object *o, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	struct find_ctx *c = arg;
	struct nl_addr *l = rtnl_addr_get_local(a);

	if (rtnl_addr_get_ifindex(a) != c->ifindex || !l ||
	    nl_addr_get_family(l) != AF_INET)
		return;
	if (ntohl(*(uint32_t *)nl_addr_get_binary_addr(l)) == c->ip &&
	    (unsigned)rtnl_addr_get_prefixlen(a) == c->prefix)
		c->found = 1;
	else
		c->found = c->found ? c->found : -1;
}

/**
 * sl_addr_has() - whether a link holds exactly this address
 *
 * Return: 1 when it does, 0 when it holds no IPv4 address, -EEXIST when it
 * holds others, or -errno
 */
int sl_addr_has(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct find_ctx c = { .ifindex = ifindex, .ip = ip, .prefix = prefix };
	int r = rtnl_addr_alloc_cache(sk, &cache);

	if (r < 0)
		return sl_nl_err(r);
	nl_cache_foreach(cache, match_addr, &c);
	return c.found == 1 ? 1 : c.found == 0 ? 0 : -EEXIST;
}

static struct rtnl_route *build_route(const struct sl_cidr *dst, uint32_t via,
				      int ifindex)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	_cleanup_addr_ struct nl_addr *d = ip4(dst->addr, dst->prefix);
	_cleanup_addr_ struct nl_addr *gw = via ? ip4(via, 32) : NULL;

	if (!rt || !nh || !d || (via && !gw)) {
		if (rt)
			rtnl_route_put(rt);
		if (nh)
			rtnl_route_nh_free(nh);
		return NULL;
	}
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, RTPROT_STATIC);
	rtnl_route_set_scope(rt, via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_dst(rt, d);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	if (via) {
		rtnl_route_nh_set_gateway(nh, gw);
		/* The next hop is a label in the neighbour table, on no subnet. */
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	}
	rtnl_route_add_nexthop(rt, nh);
	return rt;
}

/**
 * sl_route_add() - add a route in the main table
 * @sk: socket
 * @dst: destination (0.0.0.0/0 for the default route)
 * @via: on-link next hop, or 0 for a device route
 * @ifindex: output link
 *
 * Return: 0, -EEXIST, or -errno
 */
int sl_route_add(struct nl_sock *sk, const struct sl_cidr *dst, uint32_t via,
		 int ifindex)
{
	struct rtnl_route *rt = build_route(dst, via, ifindex);
	int r;

	if (!rt)
		return -ENOMEM;
	r = rtnl_route_add(sk, rt, NLM_F_EXCL);
	rtnl_route_put(rt);
	return r < 0 ? sl_nl_err(r) : 0;
}

/**
 * sl_route_del() - delete a route; 0 also when it is already gone
 */
int sl_route_del(struct nl_sock *sk, const struct sl_cidr *dst, int ifindex)
{
	struct rtnl_route *rt = build_route(dst, 0, ifindex);
	int r;

	if (!rt)
		return -ENOMEM;
	rtnl_route_set_scope(rt, RT_SCOPE_NOWHERE);
	r = rtnl_route_delete(sk, rt, 0);
	rtnl_route_put(rt);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return 0;
	return r < 0 ? sl_nl_err(r) : 0;
}

static uint32_t addr4(struct nl_addr *a)
{
	if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4)
		return 0;
	return ntohl(*(uint32_t *)nl_addr_get_binary_addr(a));
}

static void match_route(struct nl_object *o, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)o;
	struct find_ctx *c = arg;
	struct nl_addr *d = rtnl_route_get_dst(rt);
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(rt) != 1)
		return;
	if (addr4(d) != c->ip || (unsigned)nl_addr_get_prefixlen(d) != c->prefix)
		return;
	nh = rtnl_route_nexthop_n(rt, 0);
	if (rtnl_route_nh_get_ifindex(nh) == c->ifindex &&
	    addr4(rtnl_route_nh_get_gateway(nh)) == c->via)
		c->found = 1;
}

/**
 * sl_route_has() - whether exactly this route is in the main table
 *
 * Return: 1, 0, or -errno
 */
int sl_route_has(struct nl_sock *sk, const struct sl_cidr *dst, uint32_t via,
		 int ifindex)
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct find_ctx c = { .ifindex = ifindex, .ip = dst->addr,
			      .prefix = dst->prefix, .via = via };
	int r = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);

	if (r < 0)
		return sl_nl_err(r);
	nl_cache_foreach(cache, match_route, &c);
	return c.found;
}

/**
 * sl_neigh_add() - a permanent neighbour entry (no ARP needed across the veth)
 *
 * Replaces an entry for the same address, so it can be re-run.
 */
int sl_neigh_add(struct nl_sock *sk, int ifindex, uint32_t ip, const uint8_t mac[6])
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	_cleanup_addr_ struct nl_addr *dst = ip4(ip, 32);
	_cleanup_addr_ struct nl_addr *ll = nl_addr_build(AF_LLC, mac, 6);
	int r;

	if (!n || !dst || !ll) {
		if (n)
			rtnl_neigh_put(n);
		return -ENOMEM;
	}
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	r = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_neigh_put(n);
	return r < 0 ? sl_nl_err(r) : 0;
}

static void match_neigh(struct nl_object *o, void *arg)
{
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;
	struct find_ctx *c = arg;
	struct nl_addr *ll = rtnl_neigh_get_lladdr(n);

	if (rtnl_neigh_get_ifindex(n) != c->ifindex ||
	    addr4(rtnl_neigh_get_dst(n)) != c->ip || !ll ||
	    nl_addr_get_len(ll) != 6)
		return;
	if (!memcmp(nl_addr_get_binary_addr(ll), c->mac, 6) &&
	    (rtnl_neigh_get_state(n) & NUD_PERMANENT))
		c->found = 1;
}

/**
 * sl_neigh_has() - whether a permanent entry ip → mac is on the link
 */
int sl_neigh_has(struct nl_sock *sk, int ifindex, uint32_t ip, const uint8_t mac[6])
{
	_cleanup_cache_ struct nl_cache *cache = NULL;
	struct find_ctx c = { .ifindex = ifindex, .ip = ip, .mac = mac };
	int r = rtnl_neigh_alloc_cache(sk, &cache);

	if (r < 0)
		return sl_nl_err(r);
	nl_cache_foreach(cache, match_neigh, &c);
	return c.found;
}

struct conflict_ctx {
	const struct sl_cidr *range;
	struct nl_cache *links;
	const char *skip_alias;
	char *what;
	size_t len;
	int found;
};

static void route_conflict(struct nl_object *o, void *arg)
{
	struct rtnl_route *rt = (struct rtnl_route *)o;
	struct conflict_ctx *c = arg;
	struct nl_addr *d = rtnl_route_get_dst(rt);
	struct sl_cidr dst;
	char buf[SL_CIDR_STRLEN];
	int table = (int)rtnl_route_get_table(rt);

	if (c->found || !d || nl_addr_get_family(d) != AF_INET)
		return;
	if (table != RT_TABLE_MAIN && table != RT_TABLE_LOCAL)
		return;
	if (table == RT_TABLE_LOCAL && rtnl_route_get_type(rt) != RTN_LOCAL)
		return;
	dst.addr = addr4(d);
	dst.prefix = (unsigned)nl_addr_get_prefixlen(d);
	/*
	 * Any route that shares addresses with the range is a conflict (a LAN
	 * subnet, another VM host's range), except the default route and a
	 * route for the whole link-local /16, which hosts often add to an
	 * interface (avahi, cloud images) without using its addresses; our
	 * more specific /30s win over both.
	 */
	if (!sl_cidr_overlap(&dst, c->range) || dst.prefix == 0)
		return;
	if (dst.prefix < c->range->prefix && dst.prefix == 16 && dst.addr == 0xa9fe0000u)
		return;
	if (rtnl_route_get_nnexthops(rt) == 1 && c->skip_alias) {
		int ifi = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, 0));
		struct rtnl_link *l = rtnl_link_get(c->links, ifi);
		const char *a = l ? rtnl_link_get_ifalias(l) : NULL;
		size_t k = strlen(c->skip_alias);
		/* "TAG" on veths, "TAG bridge"/"TAG port NAME" on bridge mode's links */
		int ours = a && !strncmp(a, c->skip_alias, k) && (!a[k] || a[k] == ' ');

		if (l)
			rtnl_link_put(l);
		if (ours)
			return;
	}
	snprintf(c->what, c->len, "%s %s", table == RT_TABLE_LOCAL ? "local address" : "route",
		 sl_cidr_fmt(&dst, buf));
	c->found = 1;
}

/**
 * sl_route_conflict() - find a route or local address inside a range
 * @sk: socket in the host namespace
 * @range: candidate VM range
 * @skip_alias: ignore routes through links whose alias is this tag, or
 *              starts with it and a space (our own)
 * @what: describes the first conflict found
 * @len: size of @what
 *
 * Return: 1 when something on the host already uses part of the range, 0,
 * or -errno
 */
int sl_route_conflict(struct nl_sock *sk, const struct sl_cidr *range,
		      const char *skip_alias, char *what, size_t len)
{
	_cleanup_cache_ struct nl_cache *routes = NULL;
	_cleanup_cache_ struct nl_cache *links = NULL;
	struct conflict_ctx c = { .range = range, .skip_alias = skip_alias,
				  .what = what, .len = len };
	int r;

	r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &links);
	if (r < 0)
		return sl_nl_err(r);
	r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
	if (r < 0)
		return sl_nl_err(r);
	c.links = links;
	nl_cache_foreach(routes, route_conflict, &c);
	return c.found;
}
