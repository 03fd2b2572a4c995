/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bridge.h"
#include "cfg.h"
#include "error.h"
#include "file.h"
#include "ipam.h"
#include "log.h"
#include "name.h"
#include "shape.h"
#include "util.h"

/* Slicer keys we read and ignore, each with one warning (docs/DESIGN.md §1). */
static const char *const ignored[] = {
	"image", "kernel_image", "hypervisor", "storage", "storage_size", "github_user",
	"ssh_keys", "api", "share_home", "gpu_count",
	"sparse", NULL,
};

struct ctx {
	yaml_document_t *doc;
	const char *path;
	char where[160]; /* "group agents" */
	struct sl_error *err;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error(c->err, -EINVAL, "%s:%lu: %s%s%s", c->path,
			n ? (unsigned long)n->start_mark.line + 1 : 0UL, c->where,
			c->where[0] ? ": " : "", msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

/*
 * Before the document is built: a bounded depth and node count. libyaml
 * builds a 100,000-deep document in time quadratic in its depth; the
 * events say how deep it goes at a cost linear in what was read.
 */
#define CFG_MAX_DEPTH 64
#define CFG_MAX_NODES 100000
#define CFG_MAX_BYTES (1 << 20)

static int prescan(const char *path, const unsigned char *text, size_t len, struct sl_error *err)
{
	yaml_parser_t p;
	yaml_event_t e;
	unsigned depth = 0, nodes = 0;
	int r = 0;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, text, len);
	for (bool done = false; !done && !r;) {
		if (!yaml_parser_parse(&p, &e))
			break; /* yaml_parser_load() says what is wrong, with its line */
		switch (e.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CFG_MAX_DEPTH) {
				r = sl_error(err, -EINVAL,
					     "%s:%lu: nested deeper than %d levels: not a config",
					     path, (unsigned long)e.start_mark.line + 1,
					     CFG_MAX_DEPTH);
			}
			/* fall through */
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			if (++nodes > CFG_MAX_NODES) {
				r = sl_error(err, -EINVAL, "%s: more than %d nodes: not a config",
					     path, CFG_MAX_NODES);
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return r;
}

/* A key given twice is an error: which one counts would be a guess. */
static int check_dup_keys(struct ctx *c)
{
	for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++) {
			const char *ka = scalar(node(c, a->key));

			for (yaml_node_pair_t *b = a + 1; ka && b < n->data.mapping.pairs.top; b++) {
				const yaml_node_t *kb = node(c, b->key);

				if (scalar(kb) && !strcmp(ka, scalar(kb)))
					return fail(c, kb, "key '%s' given twice (first on line %lu)", ka,
						    (unsigned long)node(c, a->key)->start_mark.line + 1);
			}
		}
	}
	return 0;
}

static int read_config(const char *path, char **text, size_t *len, struct sl_error *err)
{
	return sl_read_file(path, CFG_MAX_BYTES, false, "a config", text, len, err);
}

/* Mapping lookup. */
static yaml_node_t *get(struct ctx *c, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (k && !strcmp(k, key))
			return node(c, p->value);
	}
	return NULL;
}

static int get_uint(struct ctx *c, const yaml_node_t *n, const char *key, unsigned long max,
		    unsigned long *v)
{
	const char *s = scalar(n);
	char *end;

	*v = 0;
	if (!s || !*s)
		return fail(c, n, "%s: want a number", key);
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (*end || errno || *v > max || s[0] == '-')
		return fail(c, n, "%s: '%s' is not a number from 0 to %lu", key, s, max);
	return 0;
}

static int get_str(struct ctx *c, const yaml_node_t *n, const char *key, char *buf, size_t len)
{
	const char *s = scalar(n);

	if (!s)
		return fail(c, n, "%s: want a string", key);
	if (strlen(s) >= len)
		return fail(c, n, "%s: too long (at most %zu bytes)", key, len - 1);
	snprintf(buf, len, "%s", s);
	return 0;
}

/* A list of egress entries: ["a", "b:80"], or one string. */
static int get_entries(struct ctx *c, const yaml_node_t *n, const char *key,
		       struct sl_entry_list *l)
{
	if (n->type == YAML_SCALAR_NODE)
		return sl_entry_list_add(l, scalar(n), key, c->err) < 0
			   ? fail(c, n, "%s", c->err->msg)
			   : 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "%s: want a list of addresses or CIDRs", key);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		const yaml_node_t *e = node(c, *i);
		const char *s = scalar(e);
		struct sl_entry one;

		if (!s || sl_entry_parse(s, &one, key, c->err) < 0)
			return fail(c, e, "%s", s ? c->err->msg : "want a string");
		if (sl_entry_list_add(l, s, key, c->err) < 0)
			return fail(c, e, "%s", c->err->msg);
	}
	return 0;
}

static bool known(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(k, *list))
			return true;
	return false;
}

/*
 * The keys of @map beyond @keys (which the caller reads): Slicer's that we
 * do not implement get one warning each, others a warning with their line.
 * A user who copies Slicer's docs wants VMs: its hypervisor and images are
 * said to be ignored, not refused, since what boots instead (QEMU's microvm,
 * our kernel and initramfs, the same network) honours every rule written.
 * @prefix names the map in messages ("network.", "config." or "").
 */
static int other_keys(struct ctx *c, const yaml_node_t *map, const char *const *keys,
		      const char *prefix)
{
	const char *sep = c->where[0] ? ": " : "";

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node(c, p->key)), *v;

		if (!k || known(k, keys))
			continue;
		v = scalar(node(c, p->value));
		if (!strcmp(k, "hypervisor")) {
			if (!v || strcasecmp(v, "qemu"))
				sl_warn("%s: %s%s%shypervisor: %s ignored: sltools boots QEMU's "
					"microvm with its own kernel and initramfs", c->path, c->where,
					sep, prefix, v ? v : "?");
		} else if (!strcmp(k, "image") || !strcmp(k, "kernel_image")) {
			sl_warn("%s: %s%s%s%s: %s ignored: VMs boot sltools' kernel and initramfs "
				"(kernel_file, initrd_file, disk_file to choose)", c->path, c->where, sep,
				prefix, k, v ? v : "?");
		} else if (known(k, ignored)) {
			sl_warn("%s: %s%s%s%s is not implemented, ignored", c->path, c->where, sep,
				prefix, k);
		} else {
			sl_warn("%s:%lu: %s%sunknown key %s%s, ignored", c->path,
				(unsigned long)node(c, p->key)->start_mark.line + 1, c->where, sep,
				prefix, k);
		}
	}
	return 0;
}

static int get_ifname(struct ctx *c, const yaml_node_t *v, const char *key, char buf[16],
		      size_t room)
{
	char tmp[64];
	int r = get_str(c, v, key, tmp, sizeof(tmp));

	if (r < 0)
		return r;
	if (sl_ifname_check(key, tmp, c->err) < 0 || strlen(tmp) > SL_IFNAME_MAX - room)
		return fail(c, v, "%s: '%s' is not an interface name of at most %zu bytes", key, tmp,
			    SL_IFNAME_MAX - room);
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

/*
 * One of network.addresses: an address of the gateway's subnet, written
 * bare or as Slicer writes it, with the subnet's prefix (192.168.137.2/24).
 */
static int bridge_address(struct ctx *c, const yaml_node_t *e, const struct sl_group *g,
			  uint32_t *ip)
{
	const char *s = scalar(e);
	char a[SL_CIDR_STRLEN + 1];
	char *slash, *end;
	unsigned long p;

	if (!s || strlen(s) >= sizeof(a))
		return fail(c, e, "network.addresses: '%s' is not an address in %s", s ? s : "?",
			    g->range_s);
	snprintf(a, sizeof(a), "%s", s);
	slash = strchr(a, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || p != g->range.prefix)
			return fail(c, e, "network.addresses: '%s': the prefix must be the "
					  "gateway's, /%u", s, g->range.prefix);
	}
	if (sl_ip_parse(a, ip) < 0 || !sl_cidr_contains(&g->range, *ip))
		return fail(c, e, "network.addresses: '%s' is not an address in %s", s,
			    g->range_s);
	return 0;
}

/* Keys of isolated mode only: the egress policy lives in the VM's namespace. */
static int no_egress_keys(struct ctx *c, const yaml_node_t *net, const char *mode)
{
	const yaml_node_t *v;

	for (const char *const *k = (const char *const[]){ "allow", "drop", "bandwidth", NULL }; *k;
	     k++)
		if ((v = get(c, net, *k)))
			return fail(c, v, "network.%s: only for mode: isolated; %s mode has no "
					  "egress rules", *k, mode);
	return 0;
}

/*
 * Slicer's pool for a macvtap group with a gateway and neither addresses
 * nor range: .220 to .254 of the gateway's subnet.
 */
static int default_lan_pool(struct ctx *c, const yaml_node_t *net, struct sl_group *g)
{
	uint32_t host = ~sl_cidr_mask(g->range.prefix);
	uint32_t lo = (g->range.addr & ~0xffu) | 220, hi = (g->range.addr & ~0xffu) | 254;
	char a[SL_IP_STRLEN], b[SL_IP_STRLEN];

	if (host < 255 && (lo & ~host) != g->range.addr)
		return fail(c, net, "network: the subnet %s has no .220-.254 (Slicer's pool): give "
				    "network.range or network.addresses", g->range_s);
	snprintf(g->pool_s, sizeof(g->pool_s), "%s-%s", sl_ip_fmt(lo, a), sl_ip_fmt(hi, b));
	if (g->count > 35)
		return fail(c, net, "network: count %u is more than Slicer's pool %s holds (35): "
				    "give network.range", g->count, g->pool_s);
	return 0;
}

/* tap_prefix: room for the largest VM number after it. */
static int get_tap_prefix(struct ctx *c, const yaml_node_t *net, struct sl_group *g)
{
	const yaml_node_t *v = get(c, net, "tap_prefix");

	if (!v)
		return 0;
	return get_ifname(c, v, "network.tap_prefix", g->tap_prefix,
			  (size_t)snprintf(NULL, 0, "%u", g->count ? g->count : 1));
}

/*
 * Bridge and macvtap mode: gateway (required), tap_prefix, addresses, range
 * (a pool). @mode names the mode in messages.
 */
static int parse_subnet(struct ctx *c, const yaml_node_t *net, struct sl_group *g,
			const char *mode)
{
	const yaml_node_t *v;
	int r;

	v = get(c, net, "gateway");
	if (!v)
		return fail(c, net, "network.gateway: missing for %s mode (e.g. "
				    "\"192.168.137.1/24\"; or set mode: isolated)", mode);
	if ((r = get_str(c, v, "network.gateway", g->gateway_s, sizeof(g->gateway_s))) < 0)
		return r;
	if (sl_ifaddr_parse(g->gateway_s, &g->gw, &g->range) < 0)
		return fail(c, v, "network.gateway: '%s' is not an address with its prefix "
				  "(a.b.c.d/p, /8 to /30, a host of its subnet)", g->gateway_s);
	sl_cidr_fmt(&g->range, g->range_s);
	if ((r = get_tap_prefix(c, net, g)) < 0)
		return r;
	/* range: "A-B", the pool VMs without a listed address take theirs from */
	if ((v = get(c, net, "range"))) {
		uint32_t lo, hi;

		if ((r = get_str(c, v, "network.range", g->pool_s, sizeof(g->pool_s))) < 0)
			return r;
		if (sl_pool_parse(g->pool_s, &g->range, &lo, &hi, c->err) < 0)
			return fail(c, v, "network.range: %s", c->err->msg);
		if (g->count > hi - lo + 1)
			return fail(c, v, "network.range: %s holds %u addresses, for count %u",
				    g->pool_s, hi - lo + 1, g->count);
	}
	v = get(c, net, "addresses");
	if (v && v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, "network.addresses: want a list of addresses");
	if (v) {
		size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);

		g->addresses = calloc(n ? n : 1, sizeof(*g->addresses));
		if (!g->addresses)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const yaml_node_t *e = node(c, v->data.sequence.items.start[i]);
			const char *s = scalar(e);
			uint32_t ip = 0, host;

			if ((r = bridge_address(c, e, g, &ip)) < 0)
				return r;
			host = ip & ~sl_cidr_mask(g->range.prefix);
			if (ip == g->gw || host == 0 || host == ~sl_cidr_mask(g->range.prefix))
				return fail(c, e, "network.addresses: %s is the gateway, network or "
						  "broadcast address", s);
			for (size_t j = 0; j < g->naddr; j++)
				if (g->addresses[j] == ip)
					return fail(c, e, "network.addresses: %s twice", s);
			g->addresses[g->naddr++] = ip;
		}
		if (g->count > g->naddr && !g->pool_s[0]) /* past them, the pool's */
			return fail(c, v, "network.addresses: %zu for count %u", g->naddr, g->count);
	}
	return 0;
}

/* Slicer's bridge mode: a bridge (made on first use) holding the gateway. */
static int parse_bridge(struct ctx *c, const yaml_node_t *net, struct sl_group *g)
{
	const yaml_node_t *v;
	int r;

	g->mode = SL_NET_BRIDGE;
	if ((r = no_egress_keys(c, net, "bridge")) < 0)
		return r;
	if ((v = get(c, net, "parent")))
		return fail(c, v, "network.parent: only for mode: macvtap");
	snprintf(g->bridge, sizeof(g->bridge), "%s", SL_BRIDGE_DEFAULT);
	if ((v = get(c, net, "bridge")) &&
	    (r = get_ifname(c, v, "network.bridge", g->bridge, 0)) < 0)
		return r;
	return parse_subnet(c, net, g, "bridge");
}

/*
 * Slicer's macvtap mode: each VM a macvtap on parent (default: the
 * interface of the default route, found by sl_up_ranges()); without a
 * gateway the guest asks the LAN's DHCP server, with one it gets a static
 * address: addresses, else range, else .220-.254.
 */
static int parse_macvtap(struct ctx *c, const yaml_node_t *net, struct sl_group *g)
{
	const yaml_node_t *v;
	int r;

	g->mode = SL_NET_MACVTAP;
	if ((r = no_egress_keys(c, net, "macvtap")) < 0)
		return r;
	if ((v = get(c, net, "bridge")))
		return fail(c, v, "network.bridge: only for bridge mode; macvtap mode has "
				  "network.parent");
	if ((v = get(c, net, "parent")) &&
	    (r = get_ifname(c, v, "network.parent", g->parent, 0)) < 0)
		return r;
	if (get(c, net, "gateway")) {
		if ((r = parse_subnet(c, net, g, "macvtap")) < 0)
			return r;
		return !g->naddr && !g->pool_s[0] ? default_lan_pool(c, net, g) : 0;
	}
	for (const char *const *k = (const char *const[]){ "addresses", "range", NULL }; *k; k++)
		if ((v = get(c, net, *k)))
			return fail(c, v, "network.%s: needs network.gateway (without one, the VMs "
					  "ask the LAN's DHCP server)", *k);
	if ((r = get_tap_prefix(c, net, g)) < 0)
		return r;
	return 0;
}

/**
 * sl_group_tap() - the TAP name of a bridge-mode VM
 * @g: its group
 * @vm: the VM's name
 * @n: its number in the group, from 1
 * @tap: result
 * @err: why, when it fails
 *
 * Slicer's tap_prefix and the VM's number, or else the VM's interface name
 * (sl_ifname()), which is unique on the host already.
 *
 * Return: 0, or -ENAMETOOLONG (a launched VM past count whose number does
 * not fit after the prefix) with the error recorded
 */
int sl_group_tap(const struct sl_group *g, const char *vm, unsigned n, char tap[16],
		 struct sl_error *err)
{
	char buf[32];

	if (g->tap_prefix[0])
		snprintf(buf, sizeof(buf), "%s%u", g->tap_prefix, n);
	else
		sl_ifname(vm, buf);
	if (strlen(buf) > SL_IFNAME_MAX)
		return sl_error(err, -ENAMETOOLONG,
				"group %s: TAP name %s is over 15 bytes (network.tap_prefix)",
				g->name, buf);
	memcpy(tap, buf, strlen(buf) + 1);
	return 0;
}

/* network.bandwidth: {egress: RATE, ingress: RATE}, as tc(8) writes rates. */
static int parse_bandwidth(struct ctx *c, const yaml_node_t *bw, struct sl_group *g)
{
	static const char *const keys[] = { "egress", "ingress", NULL };
	char *dst[] = { g->rate_out, g->rate_in };
	const yaml_node_t *v;
	int r;

	if (bw->type != YAML_MAPPING_NODE)
		return fail(c, bw, "network.bandwidth: want a mapping (egress: 100mbit, ingress: ...)");
	if ((r = other_keys(c, bw, keys, "network.bandwidth.")) < 0)
		return r;
	for (size_t i = 0; keys[i]; i++) {
		char what[64];
		uint64_t rate;

		if (!(v = get(c, bw, keys[i])))
			continue;
		snprintf(what, sizeof(what), "network.bandwidth.%s", keys[i]);
		if ((r = get_str(c, v, what, dst[i], sizeof(g->rate_out))) < 0)
			return r;
		if (sl_rate_parse(dst[i], &rate, what, c->err) < 0)
			return fail(c, v, "%s", c->err->msg);
	}
	return 0;
}

static int parse_network(struct ctx *c, const yaml_node_t *net, struct sl_group *g)
{
	static const char *const keys[] = { "mode",	  "range",	"allow",
					    "drop",	  "bridge",	"gateway",
					    "addresses", "tap_prefix", "bandwidth",
					    "parent",	  NULL };
	const yaml_node_t *v;
	int r;

	if (net->type != YAML_MAPPING_NODE)
		return fail(c, net, "network: want a mapping");
	if ((r = other_keys(c, net, keys, "network.")) < 0)
		return r;
	v = get(c, net, "mode");
	if (!v || !strcmp(scalar(v) ? scalar(v) : "", "bridge"))
		return parse_bridge(c, net, g); /* Slicer's default */
	if (!strcmp(scalar(v) ? scalar(v) : "", "macvtap"))
		return parse_macvtap(c, net, g);
	if (!scalar(v) || strcmp(scalar(v), "isolated"))
		return fail(c, v, "network.mode: '%s' is not isolated, bridge or macvtap",
			    scalar(v) ? scalar(v) : "?");
	g->mode = SL_NET_ISOLATED;
	for (const char *const *k = (const char *const[]){ "bridge", "gateway", "addresses",
							   "tap_prefix", "parent", NULL }; *k; k++)
		if ((v = get(c, net, *k)))
			return fail(c, v, "network.%s: only for %s mode, not isolated", *k,
				    !strcmp(*k, "bridge")   ? "bridge"
				    : !strcmp(*k, "parent") ? "macvtap"
							    : "bridge or macvtap");
	v = get(c, net, "range");
	if (!v) {
		g->range_auto = true; /* the host's state decides which: sl_up_ranges() */
	} else {
		if ((r = get_str(c, v, "network.range", g->range_s, sizeof(g->range_s))) < 0)
			return r;
		if (sl_range_parse(g->range_s, &g->range, c->err) < 0)
			return fail(c, v, "network.range: %s", c->err->msg);
	}
	if ((v = get(c, net, "allow")) && (r = get_entries(c, v, "network.allow", &g->allow)) < 0)
		return r;
	if ((v = get(c, net, "drop")) && (r = get_entries(c, v, "network.drop", &g->drop)) < 0)
		return r;
	if ((v = get(c, net, "bandwidth")) && (r = parse_bandwidth(c, v, g)) < 0)
		return r;
	return 0;
}

/* userdata (the script) or userdata_file (a path to it): one of them, read now. */
static int parse_userdata(struct ctx *c, const yaml_node_t *gn, struct sl_group *g)
{
	const yaml_node_t *text = get(c, gn, "userdata"), *file = get(c, gn, "userdata_file");
	_cleanup_free_ char *buf = NULL;
	char path[1024];
	size_t len = 0;
	int r;

	if (text && file)
		return fail(c, file, "userdata and userdata_file: give the script once");
	if (text) {
		if (!scalar(text))
			return fail(c, text, "userdata: want the script, a string");
		len = strlen(scalar(text));
		if (len > SL_USERDATA_MAX)
			return fail(c, text, "userdata: %zu bytes, more than %d", len,
				    SL_USERDATA_MAX);
		g->userdata = strdup(scalar(text));
		return g->userdata ? 0 : -ENOMEM;
	}
	if (!file)
		return 0;
	if ((r = get_str(c, file, "userdata_file", path, sizeof(path))) < 0)
		return r;
	if (sl_read_file(path, SL_USERDATA_MAX, false, "a userdata script", &buf, &len, c->err) < 0)
		return fail(c, file, "userdata_file: %s", c->err->msg);
	if (memchr(buf, '\0', len))
		return fail(c, file, "userdata_file: %s holds a NUL byte: not a script", path);
	g->userdata = SL_STEAL(buf);
	return 0;
}

/* count, vcpu, and the memory (in one of Slicer's three units). */
static int parse_sizes(struct ctx *c, const yaml_node_t *gn, struct sl_group *g)
{
	/* one of them: with two, one would be dropped without a word */
	static const char *const mem[] = { "ram_gb", "ram_mb", "ram_bytes" };
	static const unsigned long max[] = { 1024, 1048576, 1048576UL << 20 };
	const char *first = NULL;
	const yaml_node_t *v;
	unsigned long n = 0;
	int r;

	g->count = 1;
	g->vcpu = 1;
	g->mem_mb = 256;
	if ((v = get(c, gn, "count"))) {
		if ((r = get_uint(c, v, "count", 100000, &n)) < 0)
			return r;
		g->count = (unsigned)n;
	}
	if ((v = get(c, gn, "vcpu"))) {
		if ((r = get_uint(c, v, "vcpu", 64, &n)) < 0)
			return r;
		if (!n)
			return fail(c, v, "vcpu: at least 1");
		g->vcpu = (unsigned)n;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!(v = get(c, gn, mem[i])))
			continue;
		if (first)
			return fail(c, v, "%s and %s: give the memory once", first, mem[i]);
		first = mem[i];
		if ((r = get_uint(c, v, mem[i], max[i], &n)) < 0)
			return r;
		g->mem_mb = i == 0 ? (unsigned)n * 1024 : i == 1 ? (unsigned)n : (unsigned)(n >> 20);
	}
	if (g->mem_mb < 64)
		return fail(c, gn, "memory: %u MB is less than 64", g->mem_mb);
	return 0;
}

/* dns_servers: a list of IPv4 addresses, kept comma-separated. */
static int parse_dns_servers(struct ctx *c, const yaml_node_t *v, struct sl_group *g)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, "dns_servers: want a list of addresses");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
		const char *s = scalar(node(c, *i));
		uint32_t ip;

		if (!s || sl_ip_parse(s, &ip) < 0)
			return fail(c, node(c, *i), "dns_servers: '%s' is not an IPv4 address",
				    s ? s : "?");
		if (strlen(g->dns) + strlen(s) + 2 >= sizeof(g->dns))
			return fail(c, v, "dns_servers: too many");
		if (g->dns[0])
			strcat(g->dns, ",");
		strcat(g->dns, s);
	}
	return 0;
}

/* kernel_file, initrd_file, disk_file: each a path, if given. */
static int parse_files(struct ctx *c, const yaml_node_t *gn, struct sl_group *g)
{
	const struct { const char *key; char *buf; size_t len; } f[] = {
		{ "kernel_file", g->kernel, sizeof(g->kernel) },
		{ "initrd_file", g->initrd, sizeof(g->initrd) },
		{ "disk_file", g->disk, sizeof(g->disk) },
	};
	const yaml_node_t *v;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		if ((v = get(c, gn, f[i].key)) && (r = get_str(c, v, f[i].key, f[i].buf, f[i].len)) < 0)
			return r;
	return 0;
}

/* network (a mode of ours or Slicer's), or network_name alone: Slicer's CNI mode. */
static int parse_group_network(struct ctx *c, const yaml_node_t *gn, struct sl_group *g)
{
	const yaml_node_t *v = get(c, gn, "network");
	int r;

	if (v && get(c, gn, "network_name"))
		return fail(c, get(c, gn, "network_name"), "network_name: only without network "
							  "(Slicer's CNI mode)");
	if (v)
		return parse_network(c, v, g);
	if (!(v = get(c, gn, "network_name")))
		return fail(c, gn, "no network section and no network_name (Slicer's CNI mode): "
				   "add network: {mode: isolated}, or network_name: NET");
	/* the conflist of that name attaches each VM */
	g->mode = SL_NET_CNI;
	if ((r = get_str(c, v, "network_name", g->cni_network, sizeof(g->cni_network))) < 0)
		return r;
	if (!g->cni_network[0] || strchr(g->cni_network, '/'))
		return fail(c, v, "network_name: '%s' is not a CNI network name", g->cni_network);
	return 0;
}

/*
 * template: true or false. A clone is made its own VM in every mode: the
 * agent gives it its MAC (its address's, its macvtap's or CNI interface's)
 * and its address (its lease, or a DHCP client started again). A disk it
 * would share with its template: refused.
 */
static int parse_template(struct ctx *c, const yaml_node_t *v, struct sl_group *g)
{
	const char *t = scalar(v);

	if (!t || (strcmp(t, "true") && strcmp(t, "false")))
		return fail(c, v, "template: want true or false");
	g->template = !strcmp(t, "true");
	if (g->template && g->disk[0])
		return fail(c, v, "template: true with disk_file: the clones would share "
				  "one disk; not supported");
	return 0;
}

/*
 * spares: N (ours): VMs of the group's template restored ahead of time,
 * that sl-up launch takes (sl-boot spare). Isolated mode only, where the
 * VM's TAP is its namespace's and the spare's can take its place.
 */
static int parse_spares(struct ctx *c, const yaml_node_t *v, struct sl_group *g)
{
	unsigned long n;
	int r;

	if ((r = get_uint(c, v, "spares", SL_SPARES_MAX, &n)) < 0)
		return r;
	g->spares = (unsigned)n;
	if (n && (!g->template || g->mode != SL_NET_ISOLATED))
		return fail(c, v, "spares: for a group with template: true in isolated mode");
	return 0;
}

/* What holds only of the group as a whole: names need an upstream, the VMs fit their range. */
static int group_fits(struct ctx *c, const yaml_node_t *gn, const struct sl_group *g)
{
	/* the addresses of a bridge's subnet less network, gateway and broadcast */
	unsigned subnet = g->range.prefix ? (1u << (32 - g->range.prefix)) - 3 : 0;

	/* Names in allow are resolved by the VM's resolver, which asks dns_servers. */
	if (sl_entry_list_names(&g->allow) &&
	    (!strcmp(g->dns, "127.0.0.1") || !strcmp(g->dns, "none")))
		return fail(c, get(c, gn, "dns_servers"), "dns_servers: %s means no resolver, "
			    "but network.allow holds names: the VM's resolver needs an upstream",
			    g->dns);
	if (g->range_auto && g->count > SL_IPAM_AUTO_BLOCKS)
		return fail(c, get(c, gn, "count"), "count %u is more than a derived range holds (%u): "
						    "give network.range", g->count, SL_IPAM_AUTO_BLOCKS);
	if (g->mode == SL_NET_ISOLATED && !g->range_auto && g->count > sl_range_blocks(&g->range))
		return fail(c, get(c, gn, "count"), "count %u is more than range %s holds (%u)",
			    g->count, g->range_s, sl_range_blocks(&g->range));
	if (g->gateway_s[0] && g->count > subnet)
		return fail(c, get(c, gn, "count"), "count %u is more than subnet %s holds (%u)",
			    g->count, g->range_s, subnet);
	return 0;
}

static int parse_group(struct ctx *c, const yaml_node_t *gn, struct sl_group *g)
{
	static const char *const keys[] = { "name", "count", "vcpu", "ram_gb", "ram_mb",
					    "ram_bytes", "dns_servers", "kernel_file",
					    "initrd_file", "disk_file", "network", "network_name",
					    "userdata", "userdata_file", "template", "spares", NULL };
	const yaml_node_t *v;
	char probe[96];
	int r;

	if (gn->type != YAML_MAPPING_NODE)
		return fail(c, gn, "a host group must be a mapping");
	v = get(c, gn, "name");
	if (!v)
		return fail(c, gn, "host group without a name");
	if ((r = get_str(c, v, "name", g->name, sizeof(g->name))) < 0)
		return r;
	snprintf(c->where, sizeof(c->where), "group %s", g->name);
	if ((r = other_keys(c, gn, keys, "")) < 0 || (r = parse_sizes(c, gn, g)) < 0 ||
	    ((v = get(c, gn, "dns_servers")) && (r = parse_dns_servers(c, v, g)) < 0) ||
	    (r = parse_files(c, gn, g)) < 0 || (r = parse_userdata(c, gn, g)) < 0)
		return r;
	/* The longest VM name must be a name (a DNS label). */
	snprintf(probe, sizeof(probe), "%s-%u", g->name, g->count ? g->count : 1);
	if (sl_name_check(probe, c->err) < 0)
		return fail(c, get(c, gn, "name"), "%s", c->err->msg);
	if ((r = parse_group_network(c, gn, g)) < 0 ||
	    ((v = get(c, gn, "template")) && (r = parse_template(c, v, g)) < 0) ||
	    ((v = get(c, gn, "spares")) && (r = parse_spares(c, v, g)) < 0) ||
	    (r = group_fits(c, gn, g)) < 0)
		return r;
	c->where[0] = '\0';
	return 0;
}

/* Both on one bridge, or both static on one LAN (macvtap): one subnet, shared. */
static bool same_lan(const struct sl_group *a, const struct sl_group *b)
{
	if (a->mode != b->mode || !a->gateway_s[0] || !b->gateway_s[0])
		return false;
	return (a->mode == SL_NET_BRIDGE && !strcmp(a->bridge, b->bridge)) ||
	       (a->mode == SL_NET_MACVTAP && !strcmp(a->parent, b->parent));
}

/*
 * Two groups may share a bridge or a LAN (same gateway); otherwise no two
 * groups' addresses or TAP names may meet. A DHCP group's addresses are
 * the LAN's business.
 */
static int groups_clash(struct ctx *c, const yaml_node_t *gn, const struct sl_group *a,
			const struct sl_group *b)
{
	bool host_links = a->mode != SL_NET_ISOLATED && b->mode != SL_NET_ISOLATED;
	const char *key = b->gateway_s[0] ? "network.gateway" : "network.range";

	if (same_lan(a, b)) {
		if (a->gw != b->gw)
			return fail(c, gn, "group %s: network.gateway: %s, but group %s has %s on "
					   "%s %s", b->name, b->gateway_s, a->name, a->gateway_s,
				    a->mode == SL_NET_BRIDGE ? "bridge" : "parent",
				    a->mode == SL_NET_BRIDGE ? a->bridge
				    : a->parent[0]	      ? a->parent
							      : "(the default route's)");
		if (a->tap_prefix[0] && !strcmp(a->tap_prefix, b->tap_prefix))
			return fail(c, gn, "group %s: network.tap_prefix: %s is group %s's too",
				    b->name, b->tap_prefix, a->name);
		for (size_t i = 0; i < b->naddr; i++)
			for (size_t j = 0; j < a->naddr; j++)
				if (b->addresses[i] == a->addresses[j])
					return fail(c, gn, "group %s: network.addresses: one is "
							   "group %s's too", b->name, a->name);
		return 0;
	}
	if (host_links && a->tap_prefix[0] && !strcmp(a->tap_prefix, b->tap_prefix))
		return fail(c, gn, "group %s: network.tap_prefix: %s is group %s's too", b->name,
			    b->tap_prefix, a->name);
	/* DHCP's and CNI's addresses are the LAN's and the plugins' business */
	if ((a->mode == SL_NET_MACVTAP && !a->gateway_s[0]) ||
	    (b->mode == SL_NET_MACVTAP && !b->gateway_s[0]) || a->mode == SL_NET_CNI ||
	    b->mode == SL_NET_CNI)
		return 0;
	if (!a->range_auto && !b->range_auto && sl_cidr_overlap(&a->range, &b->range))
		return fail(c, gn, "group %s: %s: %s overlaps %s of group %s", b->name, key,
			    b->gateway_s[0] ? b->gateway_s : b->range_s,
			    a->gateway_s[0] ? a->gateway_s : a->range_s, a->name);
	return 0;
}

/**
 * sl_config_load() - read and check a Slicer config file
 * @path: YAML file
 * @cfg: result; sl_config_free() it
 * @err: why, when it fails
 *
 * Everything is checked before anything is created: each error names the
 * file, the line, the group and the key. Keys we do not implement get one
 * warning each.
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_config_load(const char *path, struct sl_config *cfg, struct sl_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	yaml_parser_t parser;
	yaml_document_t doc;
	struct sl_error none = { 0 };
	struct ctx c = { .doc = &doc, .path = path, .err = err ? err : &none };
	yaml_node_t *root, *groups;
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	if ((r = read_config(path, &text, &len, err)) < 0 ||
	    (r = prescan(path, (const unsigned char *)text, len, err)) < 0)
		return r;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = sl_error(err, -EINVAL, "%s:%lu: malformed YAML: %s", path,
			     (unsigned long)parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	if ((r = check_dup_keys(&c)) < 0)
		goto out;
	{
		/* The keys beside host_groups: Slicer's, warned about; a foreign hypervisor refused. */
		static const char *const top[] = { "host_groups", NULL };
		const yaml_node_t *config = get(&c, root, "config");

		if (config && config->type == YAML_MAPPING_NODE &&
		    (r = other_keys(&c, config, top, "config.")) < 0)
			goto out;
	}
	groups = get(&c, get(&c, root, "config"), "host_groups");
	if (!groups || groups->type != YAML_SEQUENCE_NODE || groups->data.sequence.items.top ==
								     groups->data.sequence.items.start) {
		r = fail(&c, root, "no config.host_groups list");
		goto out;
	}
	{
		/* counted only once there is room: sl_config_free() walks n entries */
		size_t n = (size_t)(groups->data.sequence.items.top - groups->data.sequence.items.start);

		cfg->g = calloc(n, sizeof(*cfg->g));
		if (!cfg->g) {
			r = -ENOMEM;
			goto out;
		}
		cfg->n = n;
	}
	for (size_t i = 0; i < cfg->n && !r; i++) {
		yaml_node_t *gn = node(&c, groups->data.sequence.items.start[i]);

		r = parse_group(&c, gn, &cfg->g[i]);
		for (size_t j = 0; j < i && !r; j++) {
			if (!strcmp(cfg->g[j].name, cfg->g[i].name))
				r = fail(&c, gn, "group %s: name: a second group of that name",
					 cfg->g[i].name);
			else
				r = groups_clash(&c, gn, &cfg->g[j], &cfg->g[i]);
		}
	}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (r < 0)
		sl_config_free(cfg);
	return r;
}

void sl_config_free(struct sl_config *cfg)
{
	for (size_t i = 0; cfg->g && i < cfg->n; i++) {
		sl_entry_list_free(&cfg->g[i].allow);
		sl_entry_list_free(&cfg->g[i].drop);
		free(cfg->g[i].addresses);
		free(cfg->g[i].userdata);
	}
	free(cfg->g);
	cfg->g = NULL;
	cfg->n = 0;
}

const struct sl_group *sl_config_group(const struct sl_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (!strcmp(cfg->g[i].name, name))
			return &cfg->g[i];
	return NULL;
}
