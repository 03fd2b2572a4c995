/* SPDX-License-Identifier: MIT */
/*
 * sl-cni: isolated mode as a CNI plugin. A sandbox (CNI_NETNS) gets one end
 * of a veth pair with a /30 of the network's range (or what a delegated
 * IPAM plugin gives); the host end, "sc-" and 12 hex digits of a hash of
 * the attachment, carries the gateway. Its egress policy is written on the
 * host (lib/net/egress-attach.c, sl_egress_attach_apply()), where root in the sandbox
 * cannot reach it. What DEL and sl-gc need is kept as the attachment's
 * state, $SL_RUN_DIR/sc-…/vm.env, as a VM's is.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "cni-run.h"
#include "cni-plugin.h"
#include "egress.h"
#include "file.h"
#include "ipam.h"
#include "ipt.h"
#include "json.h"
#include "kv.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "nsident.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/* A network config is small; a bound keeps a bad one from eating memory. */
#define CONF_MAX (1 << 20)
/* The kept config, for the DEL of a delegated IPAM plugin by sl-gc. */
#define CONF_FILE "cni-conf.json"

/* What one network config says (sl-cni(8)). */
struct netconf {
	struct json_object *root;
	const char *name, *version;
	const char *range;             /* or ipam */
	struct json_object *ipam;      /* {"type": …}: delegated */
	struct json_object *dns, *prev; /* passed through */
	struct sl_entry_list allow, drop;
};

static void netconf_free(struct netconf *n)
{
	sl_json_putp(&n->root);
	sl_entry_list_free(&n->allow);
	sl_entry_list_free(&n->drop);
}
#define _cleanup_netconf_ __attribute__((cleanup(netconf_free)))

static bool version_ok(const char *v)
{
	static const char *const known[] = SL_CNIPLUG_VERSIONS;

	for (size_t i = 0; v && i < ARRAY_SIZE(known); i++)
		if (!strcmp(v, known[i]))
			return true;
	return false;
}

/* allow or drop: a list of entries as sl-egress takes them. */
static int entries(struct json_object *root, const char *key, struct sl_entry_list *l,
		   struct sl_error *err)
{
	struct json_object *a;

	if (!json_object_object_get_ex(root, key, &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return sl_error(err, -EINVAL, "\"%s\" is not a list of entries", key);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		int r;

		if (!json_object_is_type(e, json_type_string))
			return sl_error(err, -EINVAL, "\"%s\" entry %zu is not a string", key, i + 1);
		r = sl_entry_list_add(l, json_object_get_string(e), key, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Read a network config; a CNI error code when it is not one we can use. */
static int netconf_parse(const char *text, bool need_addr, struct netconf *n,
			 struct sl_error *err)
{
	struct json_object *v;

	if (strlen(text) > CONF_MAX)
		return sl_error(err, SL_CNI_E_DECODE, "network config over %d bytes", CONF_MAX);
	n->root = json_tokener_parse(text);
	if (!n->root || !json_object_is_type(n->root, json_type_object))
		return sl_error(err, SL_CNI_E_DECODE, "network config is not a JSON object");
	n->version = sl_json_str(n->root, "cniVersion");
	if (!version_ok(n->version))
		return sl_error(err, SL_CNI_E_VERSION,
				"cniVersion %s: sl-cni speaks 1.0.0 and 1.1.0",
				n->version ? n->version : "missing");
	n->name = sl_json_str(n->root, "name");
	if (!n->name || !*n->name || strlen(n->name) > 60 || strpbrk(n->name, " \t\n/"))
		return sl_error(err, SL_CNI_E_CONFIG, "network \"name\" missing or not a name");
	n->range = sl_json_str(n->root, "range");
	/* A runtime runs DEL from wherever it cleans up (podman: conmon's exit
	 * command), with an environment of its own: where our state is must be
	 * in the config, not in SL_RUN_DIR. */
	if (sl_json_str(n->root, "runDir")) {
		const char *d = sl_json_str(n->root, "runDir");

		if (*d != '/' || strlen(d) > 256)
			return sl_error(err, SL_CNI_E_CONFIG, "network %s: runDir '%s' is not an "
					"absolute path", n->name ? n->name : "?", d);
		setenv("SL_RUN_DIR", d, 1);
	}
	if (json_object_object_get_ex(n->root, "ipam", &v) && json_object_is_type(v, json_type_object) &&
	    json_object_object_length(v))
		n->ipam = v;
	if (json_object_object_get_ex(n->root, "dns", &v) && json_object_is_type(v, json_type_object))
		n->dns = v;
	if (json_object_object_get_ex(n->root, "prevResult", &v) &&
	    json_object_is_type(v, json_type_object))
		n->prev = v;
	if (need_addr && !!n->range == !!n->ipam)
		return sl_error(err, SL_CNI_E_CONFIG,
				"network %s: give \"range\" or \"ipam\", one of them", n->name);
	if (n->ipam && !sl_json_str(n->ipam, "type"))
		return sl_error(err, SL_CNI_E_CONFIG, "network %s: \"ipam\" without \"type\"",
				n->name);
	if (entries(n->root, "allow", &n->allow, err) < 0 ||
	    entries(n->root, "drop", &n->drop, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_CONFIG, "network %s", n->name);
	if (sl_entry_list_names(&n->allow))
		return sl_error(err, SL_CNI_E_CONFIG,
				"network %s: names in allow need sl-up's resolver; sl-cni takes "
				"addresses and CIDRs",
				n->name);
	return 0;
}

/**
 * sl_cniplug_conf_parse() - read a network config as ADD (or another command) would
 * @conf: the config's text
 * @add: read it for ADD: "range" or "ipam" is required
 * @nallow: result, how many allow entries it has
 * @ndrop: result, how many drop entries
 * @err: why, when it is not one sl-cni can use
 *
 * Return: 0, or the CNI error code (1 version, 6 not JSON, 7 invalid)
 */
int sl_cniplug_conf_parse(const char *conf, bool add, size_t *nallow, size_t *ndrop,
			  struct sl_error *err)
{
	_cleanup_netconf_ struct netconf n = { 0 };
	struct sl_error why = { 0 };
	int r = netconf_parse(conf, add, &n, err ? err : &why);

	if (r < 0)
		return -r;
	*nallow = n.allow.n;
	*ndrop = n.drop.n;
	return 0;
}

/**
 * sl_cniplug_attachment_name() - the name of an attachment: its host end,
 *	its lease, its state directory
 * @network: the network's name
 * @container: CNI_CONTAINERID
 * @ifname: CNI_IFNAME
 * @buf: result, "sc-" and 12 hex digits of FNV-1a-64 of the three
 *
 * The spec's key of an attachment is those three; the name fits an
 * interface name (15 bytes) and is the same for every command.
 *
 * Return: 0
 */
int sl_cniplug_attachment_name(const char *network, const char *container, const char *ifname,
			       char buf[16])
{
	char key[1024];

	snprintf(key, sizeof(key), "%s\n%s\n%s", network, container, ifname);
	snprintf(buf, 16, "%s%012llx", SL_ATTACH_PREFIX,
		 (unsigned long long)(sl_fnv1a64(key) & 0xffffffffffffull));
	return 0;
}

/**
 * sl_cniplug_is_attachment() - whether a state directory is an sl-cni attachment's
 */
bool sl_cniplug_is_attachment(const char *name)
{
	_cleanup_kv_ struct sl_kv st = { 0 };

	return sl_state_load(name, &st, NULL) == 0 && sl_kv_get(&st, "SL_CNI_CONTAINER");
}

static void owner_alias(const char *att, char *buf, size_t len)
{
	sl_owner_alias("cni", att, buf, len);
}

/*
 * The lease: a /30 of the range, leased under the attachment's name for
 * group "cni:NETWORK", or what the IPAM plugin gives (its first IPv4
 * address with a gateway).
 */
struct addr {
	uint32_t ip, gw;
	unsigned prefix;
};

static int ipam_delegate(const struct sl_cniplug_env *e, const char *cmd, const char *conf,
			 struct addr *a, struct sl_error *err)
{
	_cleanup_json_ struct json_object *res = NULL;
	struct json_object *ips;
	const char *type = NULL;
	_cleanup_json_ struct json_object *root = json_tokener_parse(conf);
	struct json_object *ipam;
	int r;

	if (root && json_object_object_get_ex(root, "ipam", &ipam))
		type = sl_json_str(ipam, "type");
	if (!type)
		return sl_error(err, -EINVAL, "no IPAM plugin");
	r = sl_cni_exec(&(struct sl_cni_exec){ .type = type, .cmd = cmd, .container = e->container,
					       .netns = e->netns ? e->netns : "", .ifname = e->ifname,
					       .path = e->path ? e->path : SL_CNI_PATH_DEFAULT },
			conf, a ? &res : NULL, err);
	if (r < 0 || !a)
		return r;
	if (json_object_object_get_ex(res, "ips", &ips) && json_object_is_type(ips, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ips); i++) {
			struct json_object *ip = json_object_array_get_idx(ips, i);
			const char *addr = sl_json_str(ip, "address"), *gw = sl_json_str(ip, "gateway");
			struct sl_cidr c;

			if (!addr || !gw || sl_ifaddr_parse(addr, &a->ip, &c) < 0 ||
			    sl_ip_parse(gw, &a->gw) < 0)
				continue;
			a->prefix = c.prefix;
			return 0;
		}
	ipam_delegate(e, "DEL", conf, NULL, NULL);
	return sl_error(err, -EINVAL, "IPAM plugin %s gave no IPv4 address with a gateway", type);
}

static int lease(const struct sl_cniplug_env *e, const struct netconf *n, const char *att,
		 const char *conf, struct addr *a, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv out = { 0 };
	char group[80];
	int r;

	if (n->ipam)
		return ipam_delegate(e, "ADD", conf, a, err);
	snprintf(group, sizeof(group), "cni:%s", n->name);
	r = sl_ipam_alloc(n->range, group, att, &out, err);
	if (r < 0)
		return r;
	sl_ip_parse(sl_kv_get(&out, "SL_IP"), &a->ip);
	sl_ip_parse(sl_kv_get(&out, "SL_GW"), &a->gw);
	a->prefix = SL_BLOCK_PREFIX;
	return 0;
}

/* The sandbox's end: no IPv6, up, its address, the default route via the gateway. */
static int sandbox_side(int nsfd, const char *ifname, const struct addr *a, uint8_t mac[6],
			struct sl_error *err)
{
	_cleanup_netns_ int saved = -1;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct sl_cidr any = { 0, 0 };
	struct sl_link l;
	int r;

	if ((r = sl_nl_open_in(nsfd, &saved, &sk, err)) < 0 ||
	    (r = sl_if_no_ipv6(ifname, err)) < 0)
		return r;
	if ((r = sl_link_set(sk, ifname, 1, NULL)) < 0 || (r = sl_link_get(sk, ifname, &l)) < 0 ||
	    (r = sl_addr_add(sk, l.ifindex, a->ip, a->prefix)) < 0 ||
	    (r = sl_route_add(sk, &any, a->gw, l.ifindex)) < 0)
		return sl_error(err, r, "%s in the sandbox: %s", ifname, strerror(-r));
	memcpy(mac, l.mac, 6);
	return 0;
}

/* The host's end: no IPv6, ours (alias), up, the gateway, the route to the sandbox. */
static int host_side(struct nl_sock *sk, const char *att, const struct addr *a, uint8_t mac[6],
		     struct sl_error *err)
{
	struct sl_cidr to = { a->ip, 32 };
	char alias[320];
	struct sl_link l;
	int r;

	owner_alias(att, alias, sizeof(alias));
	if ((r = sl_if_no_ipv6(att, err)) < 0)
		return r;
	if ((r = sl_link_set(sk, att, 1, alias)) < 0 || (r = sl_link_get(sk, att, &l)) < 0 ||
	    (r = sl_addr_add(sk, l.ifindex, a->gw, 32)) < 0 ||
	    (r = sl_route_add(sk, &to, 0, l.ifindex)) < 0)
		return sl_error(err, r, "%s on the host: %s", att, strerror(-r));
	memcpy(mac, l.mac, 6);
	return sl_sysctl_write("net/ipv4/ip_forward", "1", err);
}

/*
 * ADD, CHECK and DEL of one attachment hold its lock (one of 64, by name)
 * throughout: a DEL racing an ADD would otherwise release a lease the ADD
 * goes on to use, and sl-gc would take apart an attachment half made.
 */
static int op_lock(const char *att, bool wait, struct sl_error *err)
{
	char what[32];

	snprintf(what, sizeof(what), "cni-%02u", (unsigned)(sl_fnv1a32(att) % 64));
	return wait ? sl_lock(what, err) : sl_lock_try(what, err);
}

/* Our link of that name, if any; -EEXIST when the name is someone else's. */
static int own_link(struct nl_sock *sk, const char *att, struct sl_error *err)
{
	char alias[320];
	struct sl_link l;

	if (sl_link_get(sk, att, &l) < 0)
		return 0;
	owner_alias(att, alias, sizeof(alias));
	if (strcmp(l.alias, alias))
		return sl_error(err, -EEXIST, "interface %s exists on the host and is not ours", att);
	return 1;
}

static json_object *jaddr(uint32_t ip)
{
	char b[SL_IP_STRLEN];

	return json_object_new_string(sl_ip_fmt(ip, b));
}

static void jadd_array(struct json_object *o, const char *key, struct json_object **a)
{
	if (!json_object_object_get_ex(o, key, a) || !json_object_is_type(*a, json_type_array)) {
		*a = json_object_new_array();
		json_object_object_add(o, key, *a);
	}
}

/* The ADD result: prevResult's, with our two interfaces, address, route and dns added. */
static struct json_object *result(const struct netconf *n, const struct sl_cniplug_env *e,
				  const char *att, const struct addr *a, const uint8_t hmac[6],
				  const uint8_t smac[6])
{
	struct json_object *res = NULL, *ifs, *ips, *routes, *o;
	char mac[SL_MAC_STRLEN], cidr[SL_CIDR_STRLEN];
	size_t first;

	if (!n->prev || json_object_deep_copy(n->prev, &res, NULL) < 0)
		res = json_object_new_object();
	json_object_object_add(res, "cniVersion", json_object_new_string(n->version));
	jadd_array(res, "interfaces", &ifs);
	jadd_array(res, "ips", &ips);
	jadd_array(res, "routes", &routes);
	first = json_object_array_length(ifs);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(att));
	json_object_object_add(o, "mac", json_object_new_string(sl_mac_fmt(hmac, mac)));
	json_object_array_add(ifs, o);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(e->ifname));
	json_object_object_add(o, "mac", json_object_new_string(sl_mac_fmt(smac, mac)));
	json_object_object_add(o, "sandbox", json_object_new_string(e->netns));
	json_object_array_add(ifs, o);
	o = json_object_new_object();
	json_object_object_add(o, "address", json_object_new_string(sl_cidr_fmt(
		&(struct sl_cidr){ a->ip, a->prefix }, cidr)));
	json_object_object_add(o, "gateway", jaddr(a->gw));
	json_object_object_add(o, "interface", json_object_new_int((int)first + 1));
	json_object_array_add(ips, o);
	o = json_object_new_object();
	json_object_object_add(o, "dst", json_object_new_string("0.0.0.0/0"));
	json_object_object_add(o, "gw", jaddr(a->gw));
	json_object_array_add(routes, o);
	if (n->dns)
		json_object_object_add(res, "dns", json_object_get(n->dns));
	return res;
}

/* The attachment's state: what DEL, CHECK and sl-gc find it by. */
static int state_save(const struct netconf *n, const struct sl_cniplug_env *e, const char *att,
		      const char *conf, const struct sl_nsident *sandbox, struct sl_error *err)
{
	char ident[SL_NSIDENT_STRLEN];
	_cleanup_kv_ struct sl_kv kv = { 0 };
	char dir[4096], path[4200];
	int r;

	if (sl_kv_set(&kv, "SL_CNI_CONTAINER", e->container) < 0 ||
	    sl_kv_set(&kv, "SL_CNI_IFNAME", e->ifname) < 0 ||
	    sl_kv_set(&kv, "SL_CNI_NETNS", e->netns) < 0 ||
	    sl_kv_set(&kv, "SL_CNI_NETNS_ID", sl_nsident_fmt(sandbox, ident)) < 0 ||
	    sl_kv_set(&kv, "SL_CNI_PLUGIN_NETWORK", n->name) < 0 ||
	    (n->ipam && sl_kv_set(&kv, "SL_CNI_IPAM", sl_json_str(n->ipam, "type")) < 0))
		return -ENOMEM;
	if ((r = sl_vm_dir_ready(att, dir, sizeof(dir), err)) < 0 ||
	    (r = sl_state_update(att, &kv, NULL, err)) < 0)
		return r;
	if (!n->ipam)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, CONF_FILE);
	{
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
					      0600);

		if (fd < 0 || write(fd, conf, strlen(conf)) != (ssize_t)strlen(conf))
			return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	}
	return 0;
}

static void egress_cfg(const struct netconf *n, const char *att, uint32_t ip,
		       struct sl_egress_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->name = att;
	c->tap = att;
	c->ip = ip;
	c->allow = n->allow;
	c->drop = n->drop;
}

/*
 * Take an attachment apart: its rules, its veth (the sandbox's end goes
 * with it), its lease or the IPAM plugin's DEL (with @ipam_conf, the
 * network's config when it delegates, else the one kept at ADD), its state. Whatever is
 * already gone is skipped: DEL must succeed then (the spec).
 */
static int teardown(const char *att, const struct sl_cniplug_env *e, const char *ipam_conf,
		    struct sl_error *err)
{
	const char *conf = ipam_conf;
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_kv_ struct sl_kv st = { 0 }, out = { 0 };
	int r;

	sl_state_load(att, &st, NULL);
	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	r = own_link(sk, att, err);
	if (r < 0)
		return r;
	/* -ENODEV: the kernel took it with a sandbox torn down meanwhile */
	if (r > 0 && (r = sl_link_del(sk, att)) < 0 && r != -ENODEV)
		return sl_error(err, r, "cannot remove %s: %s", att, strerror(-r));
	if ((r = sl_egress_attach_remove(att, err)) < 0)
		return r;
	if (sl_kv_get(&st, "SL_CNI_IPAM") || conf) {
		_cleanup_free_ char *kept = NULL;
		char path[4200];
		size_t len;

		if (!conf && sl_run_path(path, sizeof(path), "%s/%s", att, CONF_FILE) == 0 &&
		    sl_read_file(path, CONF_MAX, true, "kept CNI config", &kept, &len, NULL) == 0)
			conf = kept;
		if (conf) {
			struct sl_cniplug_env d = *e;

			if (!d.container)
				d.container = sl_kv_get(&st, "SL_CNI_CONTAINER");
			if (!d.ifname)
				d.ifname = sl_kv_get(&st, "SL_CNI_IFNAME");
			if (d.container && d.ifname &&
			    (r = ipam_delegate(&d, "DEL", conf, NULL, err)) < 0)
				return r;
		}
	}
	if ((r = sl_ipam_release(att, &out, err)) < 0)
		return r;
	return sl_state_purge(att, err);
}

/* ADD once the config is read: every step undone when a later one fails. */
static int add(const struct sl_cniplug_env *e, const struct netconf *n, const char *conf,
	       FILE *out, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_close_ int nsfd = -1;
	_cleanup_json_ struct json_object *res = NULL;
	struct sl_egress_cfg c;
	char att[16];
	uint8_t hmac[6], smac[6];
	struct addr a = { 0 };
	struct sl_nsident sandbox;
	int r;

	sl_cniplug_attachment_name(n->name, e->container, e->ifname, att);
	/* not blocking: a FIFO planted there must not hold the runtime */
	nsfd = open(e->netns, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (nsfd < 0)
		return sl_error(err, SL_CNI_E_NO_SANDBOX, "CNI_NETNS %s: %s", e->netns,
				strerror(errno));
	if (sl_nsident_fd(nsfd, &sandbox) < 0)
		return sl_error(err, SL_CNI_E_ENV, "CNI_NETNS %s is not a network namespace",
				e->netns);
	if (sl_nl_open_or_fail(&sk, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "netlink");
	if ((r = own_link(sk, att, err)) < 0)
		return sl_error_wrap(err, -SL_CNI_E_CONFIG, "ADD");
	if (r > 0 || sl_cniplug_is_attachment(att))
		return sl_error(err, SL_CNI_E_CONFIG,
				"%s is already attached to %s as %s (%s): DEL it first",
				e->container, n->name, e->ifname, att);
	if (state_save(n, e, att, conf, &sandbox, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "state of %s", att);
	r = lease(e, n, att, conf, &a, err);
	if (r < 0) {
		bool config = r == -ENOSPC || r == -EINVAL || r == -EEXIST;

		teardown(att, e, NULL, NULL);
		return sl_error_wrap(err, config ? -SL_CNI_E_CONFIG : -SL_CNI_E_IO, "network %s",
				     n->name);
	}
	{
		_cleanup_kv_ struct sl_kv kv = { 0 };
		char cidr[SL_CIDR_STRLEN];

		if (sl_kv_set(&kv, "SL_CNI_ADDRESS",
			      sl_cidr_fmt(&(struct sl_cidr){ a.ip, a.prefix }, cidr)) < 0 ||
		    sl_state_update(att, &kv, NULL, err) < 0)
			goto undo;
	}
	sl_owner_mac(att, hmac);
	r = sl_link_veth_add(sk, att, e->ifname, nsfd, hmac);
	if (r < 0) {
		sl_error(err, r, r == -EEXIST ? "cannot create %s: %s exists in the sandbox"
					      : "cannot create %s: %s",
			 att, r == -EEXIST ? e->ifname : strerror(-r));
		goto undo;
	}
	egress_cfg(n, att, a.ip, &c);
	if (host_side(sk, att, &a, hmac, err) < 0 || sandbox_side(nsfd, e->ifname, &a, smac, err) < 0 ||
	    sl_egress_attach_apply(&c, err) < 0)
		goto undo;
	res = result(n, e, att, &a, hmac, smac);
	fprintf(out, "%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY));
	return 0;
undo:
	teardown(att, e, n->ipam ? conf : NULL, NULL);
	return sl_error_wrap(err, -SL_CNI_E_IO, "ADD %s", att);
}

/* CHECK: the host end, the sandbox's end with its address, the rules. */
static int check(const struct sl_cniplug_env *e, const struct netconf *n, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_close_ int nsfd = -1;
	struct sl_egress_cfg c;
	struct sl_link l;
	char att[16];
	struct sl_cidr have;
	uint32_t ip;
	int r;

	sl_cniplug_attachment_name(n->name, e->container, e->ifname, att);
	if (sl_state_load(att, &st, NULL) < 0 || !sl_kv_get(&st, "SL_CNI_CONTAINER") ||
	    sl_ifaddr_parse(sl_kv_get(&st, "SL_CNI_ADDRESS") ?: "", &ip, &have) < 0)
		return sl_error(err, SL_CNI_E_NO_SANDBOX, "%s has no attachment to %s as %s",
				e->container, n->name, e->ifname);
	if (sl_nl_open_or_fail(&sk, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "netlink");
	if (own_link(sk, att, NULL) <= 0 || sl_link_get(sk, att, &l) < 0 || !(l.flags & IFF_UP))
		return sl_error(err, SL_CNI_E_IO, "%s: the host end %s is missing or down",
				e->container, att);
	nsfd = open(e->netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return sl_error(err, SL_CNI_E_NO_SANDBOX, "CNI_NETNS %s: %s", e->netns,
				strerror(errno));
	{
		_cleanup_netns_ int saved = -1;
		_cleanup_nl_ struct nl_sock *in = NULL;

		if (sl_nl_open_in(nsfd, &saved, &in, err) < 0)
			return sl_error_wrap(err, -SL_CNI_E_IO, "CHECK");
		if (sl_link_get(in, e->ifname, &l) < 0 ||
		    sl_addr_has(in, l.ifindex, ip, have.prefix) <= 0)
			return sl_error(err, SL_CNI_E_IO, "%s: %s in the sandbox is missing or "
					"lost its address", e->container, e->ifname);
	}
	egress_cfg(n, att, ip, &c);
	r = sl_egress_attach_check(&c, err);
	if (r < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "CHECK");
	if (r > 0)
		return sl_error(err, SL_CNI_E_IO, "%s: %d rule%s differ from the network's policy",
				att, r, r == 1 ? "" : "s");
	return 0;
}

/* GC: every attachment of this network that the runtime does not list goes. */
static int gc(const struct sl_cniplug_env *e, const struct netconf *n, struct sl_error *err)
{
	struct json_object *valid = NULL;
	char **names = NULL;
	size_t cnt = 0;
	int r;

	json_object_object_get_ex(n->root, "cni.dev/valid-attachments", &valid);
	if (valid && !json_object_is_type(valid, json_type_array))
		return sl_error(err, SL_CNI_E_DECODE, "cni.dev/valid-attachments is not a list");
	if ((r = sl_state_list(&names, &cnt, err)) < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "GC");
	for (size_t i = 0; i < cnt && r == 0; i++) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		const char *net;
		bool keep = false;

		if (sl_state_load(names[i], &st, NULL) < 0 || !sl_kv_get(&st, "SL_CNI_CONTAINER"))
			continue;
		net = sl_kv_get(&st, "SL_CNI_PLUGIN_NETWORK");
		if (!net || !n->name || strcmp(net, n->name))
			continue;
		for (size_t k = 0; valid && k < json_object_array_length(valid); k++) {
			struct json_object *a = json_object_array_get_idx(valid, k);
			const char *id = sl_json_str(a, "containerID"), *ifn = sl_json_str(a, "ifname");
			char att[16];

			if (!id || !ifn)
				continue;
			sl_cniplug_attachment_name(n->name, id, ifn, att);
			keep |= !strcmp(att, names[i]);
		}
		if (!keep) {
			_cleanup_close_ int lock = op_lock(names[i], true, err);

			r = lock < 0 ? lock : teardown(names[i], e, NULL, err);
		}
	}
	sl_strv_free(names, cnt);
	return r < 0 ? sl_error_wrap(err, -SL_CNI_E_IO, "GC") : 0;
}

static void version(const char *asked, FILE *out)
{
	static const char *const known[] = SL_CNIPLUG_VERSIONS;
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		json_object_array_add(a, json_object_new_string(known[i]));
	json_object_object_add(o, "cniVersion",
			       json_object_new_string(version_ok(asked) ? asked : "1.1.0"));
	json_object_object_add(o, "supportedVersions", a);
	fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

/* STATUS: ADDs can succeed when the host's tables and our run dir can be written. */
static int status(struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *h = NULL;

	if (sl_run_dir_ready(err) < 0 || sl_ipt_open("filter", &h, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_UNAVAILABLE, "sl-cni cannot attach");
	return 0;
}

static int need_env(const struct sl_cniplug_env *e, bool netns, struct sl_error *err)
{
	if (!e->container || !*e->container)
		return sl_error(err, SL_CNI_E_ENV, "CNI_CONTAINERID is not set");
	/* the spec's alphabet; it is written into the attachment's env file */
	if (strlen(e->container) > 256 ||
	    strspn(e->container, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789_.-") != strlen(e->container))
		return sl_error(err, SL_CNI_E_ENV, "CNI_CONTAINERID '%.64s': letters, digits, "
				"'_', '.' and '-' only, at most 256", e->container);
	if (!e->ifname || !*e->ifname || sl_ifname_check("CNI_IFNAME", e->ifname, NULL) < 0)
		return sl_error(err, SL_CNI_E_ENV, "CNI_IFNAME is not set or not an interface name");
	if (netns && (!e->netns || !*e->netns))
		return sl_error(err, SL_CNI_E_ENV, "CNI_NETNS is not set");
	return 0;
}

static int run(const struct sl_cniplug_env *e, const char *conf, FILE *out, struct sl_error *err)
{
	_cleanup_netconf_ struct netconf n = { 0 };
	const char *cmd = e->command ? e->command : "";
	char att[16];
	int r;

	if (!strcmp(cmd, "VERSION")) {
		_cleanup_json_ struct json_object *o = json_tokener_parse(conf);

		version(sl_json_str(o, "cniVersion"), out);
		return 0;
	}
	if (strcmp(cmd, "ADD") && strcmp(cmd, "DEL") && strcmp(cmd, "CHECK") &&
	    strcmp(cmd, "STATUS") && strcmp(cmd, "GC"))
		return sl_error(err, SL_CNI_E_ENV, "CNI_COMMAND '%s': not ADD, DEL, CHECK, "
				"VERSION, STATUS or GC", cmd);
	if ((r = netconf_parse(conf, !strcmp(cmd, "ADD"), &n, err)) != 0)
		return r;
	if (!strcmp(cmd, "STATUS"))
		return status(err);
	if (!strcmp(cmd, "GC"))
		return gc(e, &n, err);
	if ((r = need_env(e, strcmp(cmd, "DEL"), err)) != 0)
		return r;
	sl_cniplug_attachment_name(n.name, e->container, e->ifname, att);
	_cleanup_close_ int lock = op_lock(att, true, err);

	if (lock < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "%s", cmd);
	if (!strcmp(cmd, "ADD"))
		return add(e, &n, conf, out, err);
	if (!strcmp(cmd, "CHECK"))
		return check(e, &n, err);
	if (teardown(att, e, n.ipam ? conf : NULL, err) < 0)
		return sl_error_wrap(err, -SL_CNI_E_IO, "DEL %s", att);
	return 0;
}

/**
 * sl_cniplug_run() - one CNI command, as the spec has a plugin run it
 * @e: CNI_COMMAND and the other CNI_* values
 * @conf: the network config, from stdin
 * @out: where the result goes (stdout)
 * @err: why, when it fails; its code is the CNI error code
 *
 * Return: 0, or the CNI error code to answer with (@err holds its msg)
 */
int sl_cniplug_run(const struct sl_cniplug_env *e, const char *conf, FILE *out,
		   struct sl_error *err)
{
	if (run(e, conf, out, err) == 0)
		return 0;
	return err->code ? err->code : SL_CNI_E_IO;
}

/**
 * sl_cniplug_dead() - whether an attachment's sandbox is gone
 * @name: the attachment
 *
 * Gone when the namespace it was made in (its identity, kept at ADD) has
 * nothing holding it: a runtime deletes the namespace and runs GC at once,
 * while the kernel, tearing it down, still lists the host end. Gone too
 * when the host end is, unless an ADD or DEL holds the attachment now.
 * An attachment made before identities were kept goes by its host end.
 */
bool sl_cniplug_dead(const char *name)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_close_ int lock = -1;
	const char *ident;
	struct sl_link l;
	bool host_end;

	if (sl_nl_open(&sk) < 0 || sl_state_load(name, &st, NULL) < 0)
		return false;
	host_end = own_link(sk, name, NULL) > 0 && sl_link_get(sk, name, &l) == 0;
	ident = sl_kv_get(&st, "SL_CNI_NETNS_ID");
	if (!ident)
		return !host_end;
	if (sl_nsident_gone(ident, sl_kv_get(&st, "SL_CNI_NETNS"),
			    host_end ? l.peer_nsid : -1, NULL) > 0)
		return true;
	if (host_end)
		return false;
	lock = op_lock(name, false, NULL);
	return lock >= 0;
}

/**
 * sl_cniplug_remove() - take a dead attachment apart (sl-gc)
 * @name: the attachment
 * @err: why, when it fails
 *
 * Return: 0 or -errno
 */
int sl_cniplug_remove(const char *name, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_close_ int lock = op_lock(name, true, err);
	struct sl_cniplug_env e = { 0 };

	if (lock < 0)
		return lock;
	sl_state_load(name, &st, NULL);
	e.container = sl_kv_get(&st, "SL_CNI_CONTAINER");
	e.ifname = sl_kv_get(&st, "SL_CNI_IFNAME");
	e.netns = sl_kv_get(&st, "SL_CNI_NETNS");
	e.path = getenv("CNI_PATH");
	return teardown(name, &e, NULL, err);
}
