/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "ipam.h"
#include "log.h"
#include "mode.h"
#include "name.h"
#include "nl.h"
#include "policy.h"
#include "state.h"
#include "util.h"

static const char *const lease_keys[] = {
	"SL_MODE", "SL_GROUP", "SL_RANGE", "SL_BLOCK", "SL_NET", "SL_GW",
	"SL_IP", "SL_PREFIX", NULL,
};

/**
 * sl_range_parse() - parse and check a VM range
 * @s: text, e.g. "169.254.100.0/22"
 * @range: result
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_range_parse(const char *s, struct sl_cidr *range, struct sl_error *err)
{
	if (sl_cidr_parse(s, range) < 0 || !strchr(s, '/'))
		return sl_error(err, -EINVAL,
				"bad range '%s': not an IPv4 network in CIDR notation "
				"(a.b.c.d/p, host bits zero)",
				s);
	if (range->prefix < SL_RANGE_MIN_PREFIX || range->prefix > SL_BLOCK_PREFIX)
		return sl_error(err, -EINVAL,
				"bad range '%s': prefix /%u, a range must be /%d to /%d", s,
				range->prefix, SL_RANGE_MIN_PREFIX, SL_BLOCK_PREFIX);
	/* No host can route these to a VM: "this network", loopback, multicast, reserved. */
	switch (range->addr >> 24) {
	case 0:
	case 127:
		return sl_error(err, -EINVAL, "bad range '%s': %s/8 is not routable to a VM", s,
				range->addr >> 24 ? "127.0.0.0" : "0.0.0.0");
	default:
		if (range->addr >= 0xe0000000u)
			return sl_error(err, -EINVAL, "bad range '%s': %s is not unicast", s,
					range->addr >= 0xf0000000u ? "240.0.0.0/4 (reserved)"
								   : "224.0.0.0/4 (multicast)");
	}
	return 0;
}

/* How many blocks (isolated) or addresses (bridge) a lease's range has. */
static uint32_t lease_units(const struct sl_lease *l)
{
	return l->gw ? (uint32_t)(1ull << (32 - l->range.prefix)) : sl_range_blocks(&l->range);
}

static int leases_path(char *buf, size_t len)
{
	return sl_run_path(buf, len, "ipam/leases");
}

/*
 * Lines "NAME GROUP RANGE BLOCK" (isolated: BLOCK is the /30's index) or
 * "NAME GROUP SUBNET HOST GATEWAY" (bridge: HOST is the address's offset in
 * the gateway's subnet), then "lan" for a macvtap VM's; a file a person
 * can read and grep.
 */
static int load(struct sl_lease **v, size_t *n, struct sl_error *err)
{
	char path[4096], line[512];
	_cleanup_fclose_ FILE *f = NULL;
	struct sl_lease *a = NULL;
	size_t cnt = 0;
	unsigned lineno = 0;

	*v = NULL;
	*n = 0;
	if (leases_path(path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		struct sl_lease l = { 0 };
		char range[64], gw[64] = "", kind[8] = "";
		struct sl_lease *na;
		int k;

		lineno++;
		k = sscanf(line, "%63s %63s %63s %u %63s %7s", l.name, l.group, range, &l.block, gw,
			   kind);
		l.lan = k == 6 && !strcmp(kind, "lan");
		if (k < 4 || sl_cidr_parse(range, &l.range) < 0 ||
		    (k >= 5 && (sl_ip_parse(gw, &l.gw) < 0 || !sl_cidr_contains(&l.range, l.gw))) ||
		    (k == 6 && !l.lan) || l.block >= lease_units(&l)) {
			free(a);
			return sl_error(err, -EINVAL, "%s:%u: corrupt lease", path, lineno);
		}
		na = realloc(a, (cnt + 1) * sizeof(*a));
		if (!na) {
			free(a);
			return -ENOMEM;
		}
		a = na;
		a[cnt++] = l;
	}
	*v = a;
	*n = cnt;
	return 0;
}

static int store(const struct sl_lease *v, size_t n, struct sl_error *err)
{
	char path[4096], tmp[4096], dir[4096];
	_cleanup_fclose_ FILE *f = NULL;

	if (leases_path(path, sizeof(path)) < 0 ||
	    sl_run_path(tmp, sizeof(tmp), "ipam/.leases.tmp") < 0 ||
	    sl_run_path(dir, sizeof(dir), "ipam") < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	f = sl_run_fopen_new(tmp);
	if (!f)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char c[SL_CIDR_STRLEN], g[SL_IP_STRLEN];

		fprintf(f, "%s %s %s %u", v[i].name, v[i].group, sl_cidr_fmt(&v[i].range, c),
			v[i].block);
		if (v[i].gw)
			fprintf(f, " %s%s", sl_ip_fmt(v[i].gw, g), v[i].lan ? " lan" : "");
		fputc('\n', f);
	}
	if (fflush(f) != 0 || rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	{
		int e = errno;

		sl_error(err, -e, "cannot write %s: %s", path, strerror(e));
		unlink(tmp);
		return -e;
	}
}

/**
 * sl_lease_kv() - the SL_* keys that describe a lease
 * @l: lease
 * @out: pairs to add to
 */
int sl_lease_kv(const struct sl_lease *l, struct sl_kv *out)
{
	struct sl_cidr b;
	char c[SL_CIDR_STRLEN], ip[SL_IP_STRLEN];
	int r = 0;

	if (l->gw) {
		b.addr = l->range.addr + l->block;
		b.prefix = 32;
		r |= sl_kv_set(out, "SL_NAME", l->name);
		r |= sl_kv_set(out, "SL_GROUP", l->group);
		r |= sl_kv_set(out, "SL_RANGE", sl_cidr_fmt(&l->range, c));
		r |= sl_kv_set(out, "SL_BLOCK", sl_cidr_fmt(&b, c));
		r |= sl_kv_set(out, "SL_NET", sl_ip_fmt(l->range.addr, ip));
		r |= sl_kv_set(out, "SL_GW", sl_ip_fmt(l->gw, ip));
		r |= sl_kv_set(out, "SL_IP", sl_ip_fmt(b.addr, ip));
		r |= sl_kv_setf(out, "SL_PREFIX", "%u", l->range.prefix);
		r |= sl_kv_set(out, "SL_MODE", sl_mode_name(l->lan ? SL_NET_MACVTAP : SL_NET_BRIDGE));
		return r ? -ENOMEM : 0;
	}
	sl_range_block(&l->range, l->block, &b);
	r |= sl_kv_set(out, "SL_NAME", l->name);
	r |= sl_kv_set(out, "SL_GROUP", l->group);
	r |= sl_kv_set(out, "SL_RANGE", sl_cidr_fmt(&l->range, c));
	r |= sl_kv_set(out, "SL_BLOCK", sl_cidr_fmt(&b, c));
	r |= sl_kv_set(out, "SL_NET", sl_ip_fmt(b.addr, ip));
	r |= sl_kv_set(out, "SL_GW", sl_ip_fmt(b.addr + 1, ip));
	r |= sl_kv_set(out, "SL_IP", sl_ip_fmt(b.addr + 2, ip));
	r |= sl_kv_setf(out, "SL_PREFIX", "%d", SL_BLOCK_PREFIX);
	r |= sl_kv_set(out, "SL_MODE", sl_mode_name(SL_NET_ISOLATED));
	return r ? -ENOMEM : 0;
}

/* "agents-12" belongs to group "agents" unless told otherwise. */
static void default_group(const char *name, char *group, size_t len)
{
	const char *dash = strrchr(name, '-');

	if (dash && dash != name && dash[1] && strspn(dash + 1, "0123456789") == strlen(dash + 1))
		snprintf(group, len, "%.*s", (int)(dash - name), name);
	else
		snprintf(group, len, "%s", name);
}

static int check_host_routes(const struct sl_cidr *range, const char *what_range,
			     struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char what[128];
	int r = sl_nl_open(&sk);

	if (r < 0)
		return sl_error(err, r, "netlink: %s", strerror(-r));
	r = sl_route_conflict(sk, range, sl_owner_tag(), what, sizeof(what));
	if (r < 0)
		return sl_error(err, r, "cannot read the host's routes: %s", strerror(-r));
	if (r > 0)
		return sl_error(err, -EADDRINUSE, "%s overlaps %s already on this host", what_range,
				what);
	return 0;
}

/* Same range and same kind (same gateway, or both isolated). */
static bool same_range(const struct sl_lease *a, const struct sl_lease *b)
{
	return a->range.addr == b->range.addr && a->range.prefix == b->range.prefix &&
	       a->gw == b->gw && a->lan == b->lan;
}

static bool unit_reserved(const struct sl_lease *l, uint32_t u)
{
	/* A bridge subnet's network, broadcast and gateway are nobody's. */
	return l->gw && (u == 0 || u == lease_units(l) - 1 || l->range.addr + u == l->gw);
}

static int overlap_error(const char *what, const struct sl_lease *other, struct sl_error *err)
{
	char a[SL_CIDR_STRLEN];

	return sl_error(err, -EADDRINUSE, "%s overlaps %s %s in use by group %s", what,
			other->lan  ? "LAN subnet"
			: other->gw ? "bridge subnet"
				    : "range",
			sl_cidr_fmt(&other->range, a),
			other->group);
}

/*
 * The one allocator behind both modes: @l says name, group, range and
 * gateway; @fixed is the unit (block or address offset) the caller wants,
 * or -1 for the lowest free one.
 */
/* Where a bridge lease may be: unit offsets @lo to @hi of the subnet, as written. */
struct pool {
	uint32_t lo, hi;
	const char *text;
};

static int lease_take(struct sl_lease *l, long fixed, const struct pool *pool, const char *what,
		      struct sl_kv *out, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	_cleanup_free_ uint8_t *used = NULL;
	_cleanup_close_ int lock = -1;
	bool range_known = false;
	uint32_t units = lease_units(l);
	char ip[SL_IP_STRLEN];
	size_t n;
	int r;

	lock = sl_lock("ipam", err);
	if (lock < 0)
		return lock;
	r = load(&v, &n, err);
	if (r < 0)
		return r;
	used = calloc(units, 1);
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char a[SL_CIDR_STRLEN];
		bool same = same_range(&v[i], l);

		if (!strcmp(v[i].name, l->name)) {
			if (!same)
				return sl_error(err, -EEXIST, "%s already holds a lease in %s %s",
						l->name, v[i].gw ? "bridge subnet" : "range",
						sl_cidr_fmt(&v[i].range, a));
			if (*l->group && strcmp(l->group, v[i].group))
				return sl_error(err, -EEXIST,
						"%s already holds a lease for group %s", l->name,
						v[i].group);
			if (fixed >= 0 && (uint32_t)fixed != v[i].block)
				return sl_error(err, -EEXIST, "%s already holds %s", l->name,
						sl_ip_fmt(v[i].range.addr + v[i].block, ip));
			return sl_lease_kv(&v[i], out);
		}
		if (same) {
			range_known = true;
			used[v[i].block] = 1;
		} else if (sl_cidr_overlap(&v[i].range, &l->range)) {
			return overlap_error(what, &v[i], err);
		}
	}
	/* A LAN's subnet is the host's own (through the parent): expected there. */
	if (!range_known && !l->lan) {
		r = check_host_routes(&l->range, what, err);
		if (r < 0)
			return r;
	}
	if (fixed >= 0) {
		l->block = (uint32_t)fixed;
		if (used[l->block])
			return sl_error(err, -EADDRINUSE, "%s is leased to another VM",
					sl_ip_fmt(l->range.addr + l->block, ip));
	} else {
		uint32_t end = pool ? pool->hi + 1 : units;

		for (l->block = pool ? pool->lo : 0;
		     l->block < end && (used[l->block] || unit_reserved(l, l->block)); l->block++)
			;
		if (l->block == end && pool)
			return sl_error(err, -ENOSPC, "pool %s of %s is full", pool->text, what);
		if (l->block == end) {
			if (l->gw)
				return sl_error(err, -ENOSPC,
						"%s is full (every address is leased)", what);
			return sl_error(err, -ENOSPC, "%s is full (%u blocks of /30 leased)", what,
					units);
		}
	}
	if (!*l->group)
		default_group(l->name, l->group, sizeof(l->group));
	{
		struct sl_lease *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			return -ENOMEM;
		v = nv;
		v[n++] = *l;
	}
	r = store(v, n, err);
	if (r < 0)
		return r;
	r = sl_lease_kv(l, out);
	if (r < 0)
		return r;
	r = sl_state_update(l->name, out, NULL, err);
	if (r < 0) {
		/* No lease without its record: undo. */
		store(v, n - 1, NULL); /* its failure must not hide the cause */
		return r;
	}
	return 0;
}

static int lease_init(struct sl_lease *l, const char *group, const char *name, struct sl_error *err)
{
	int r = sl_name_check(name, err);

	if (r < 0)
		return r;
	if (group && (!*group || strlen(group) >= sizeof(l->group) || strpbrk(group, " \t\n/")))
		return sl_error(err, -EINVAL, "bad group name '%s'", group);
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->group, sizeof(l->group), "%s", group ? group : "");
	return 0;
}

/**
 * sl_ipam_alloc() - lease the lowest free /30 of a range to a VM
 * @range_s: the group's range
 * @group: group name, or NULL to derive it from the VM name
 * @name: VM name
 * @out: the lease as SL_* pairs
 * @err: why, when it fails
 *
 * The VM that already holds a lease in this range gets the same one back,
 * so a re-run is harmless. A range that overlaps another range with
 * leases, or a route or address the host already has, is refused.
 *
 * Return: 0; -EINVAL, -EEXIST, -EADDRINUSE, -ENOSPC with the error
 * recorded; or -errno
 */
int sl_ipam_alloc(const char *range_s, const char *group, const char *name, struct sl_kv *out,
		  struct sl_error *err)
{
	struct sl_lease l = { 0 };
	char what[SL_CIDR_STRLEN + 8];
	int r = lease_init(&l, group, name, err);

	if (r < 0)
		return r;
	r = sl_range_parse(range_s, &l.range, err);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "range %s", range_s);
	return lease_take(&l, -1, NULL, what, out, err);
}

/**
 * sl_pool_parse() - a pool of addresses, "A-B", in a bridge's subnet
 * @s: the pool as written, e.g. "192.168.137.10-192.168.137.50"
 * @subnet: the subnet both ends must be in
 * @lo: result, the offset of A in the subnet
 * @hi: result, the offset of B
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_pool_parse(const char *s, const struct sl_cidr *subnet, uint32_t *lo, uint32_t *hi,
		  struct sl_error *err)
{
	char a[SL_IP_STRLEN + 1], c[SL_CIDR_STRLEN];
	const char *dash = strchr(s, '-');
	uint32_t x, y;

	if (!dash || (size_t)(dash - s) >= sizeof(a))
		return sl_error(err, -EINVAL, "bad range '%s': want FIRST-LAST, two addresses", s);
	snprintf(a, sizeof(a), "%.*s", (int)(dash - s), s);
	if (sl_ip_parse(a, &x) < 0 || sl_ip_parse(dash + 1, &y) < 0)
		return sl_error(err, -EINVAL, "bad range '%s': want FIRST-LAST, two addresses", s);
	if (!sl_cidr_contains(subnet, x) || !sl_cidr_contains(subnet, y))
		return sl_error(err, -EINVAL, "bad range '%s': not in the subnet %s", s,
				sl_cidr_fmt(subnet, c));
	if (x > y)
		return sl_error(err, -EINVAL, "bad range '%s': the first address is after the last",
				s);
	*lo = x - subnet->addr;
	*hi = y - subnet->addr;
	return 0;
}

/**
 * sl_ipam_alloc_bridge() - lease one address of a gateway's subnet to a VM
 * @q: the gateway ("192.168.137.1/24"), the address wanted (Slicer's
 *     network.addresses) or NULL for the lowest free one, the pool to take
 *     it from ("A-B", Slicer's network.range) or NULL for the whole subnet;
 *     lan for macvtap mode
 * @group: group name, or NULL to derive it from the VM name
 * @name: VM name
 * @out: the lease as SL_* pairs, SL_MODE=bridge (macvtap with @q->lan)
 * @err: why, when it fails
 *
 * Bridge VMs share one subnet and one gateway, so the lease is an address,
 * not a /30. The subnet must not overlap an isolated range or another
 * bridge's subnet, nor anything on the host that is not ours; a LAN's
 * subnet (macvtap mode) is the host's own, so routes to it are expected.
 *
 * Return: as sl_ipam_alloc()
 */
int sl_ipam_alloc_bridge(const struct sl_subnet_req *q, const char *group, const char *name,
			 struct sl_kv *out, struct sl_error *err)
{
	struct sl_lease l = { 0 };
	char what[SL_CIDR_STRLEN + 16], c[SL_CIDR_STRLEN];
	struct pool pool = { .text = q->pool };
	long fixed = -1;
	int r = lease_init(&l, group, name, err);

	if (r < 0)
		return r;
	if (sl_ifaddr_parse(q->gw, &l.gw, &l.range) < 0)
		return sl_error(err, -EINVAL,
				"bad gateway '%s': not an address with its prefix, a.b.c.d/p "
				"(/8 to /30, not the network or broadcast address)",
				q->gw);
	l.lan = q->lan;
	snprintf(what, sizeof(what), "%s subnet %s", q->lan ? "LAN" : "bridge",
		 sl_cidr_fmt(&l.range, c));
	if (q->address) {
		uint32_t ip;

		if (sl_ip_parse(q->address, &ip) < 0 || !sl_cidr_contains(&l.range, ip))
			return sl_error(err, -EINVAL, "bad address '%s': not an address in %s",
					q->address, c);
		fixed = (long)(ip - l.range.addr);
		if (unit_reserved(&l, (uint32_t)fixed))
			return sl_error(
			    err, -EINVAL,
			    "bad address '%s': the network, broadcast or gateway address of %s",
			    q->address, c);
	}
	if (q->pool && (r = sl_pool_parse(q->pool, &l.range, &pool.lo, &pool.hi, err)) < 0)
		return r;
	return lease_take(&l, fixed, q->pool ? &pool : NULL, what, out, err);
}

/**
 * sl_ipam_release() - give a VM's block back
 * @name: VM name
 * @out: the released lease's pairs (empty when there was none)
 * @err: why, when it fails
 *
 * Return: 0, also when the VM held no lease, or -errno
 */
int sl_ipam_release(const char *name, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	_cleanup_close_ int lock = -1;
	size_t n, k = 0;
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	lock = sl_lock("ipam", err);
	if (lock < 0)
		return lock;
	r = load(&v, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].name, name)) {
			r = sl_lease_kv(&v[i], out);
			if (r < 0)
				return r;
			continue;
		}
		v[k++] = v[i];
	}
	if (k != n) {
		r = store(v, k, err);
		if (r < 0)
			return r;
	}
	return sl_state_update(name, NULL, lease_keys, err);
}

/**
 * sl_ipam_check_range() - whether a range could be used, without leasing
 * @range: candidate
 * @gw: the gateway for a bridge subnet, 0 for an isolated range
 * @reuse: a range that already has leases is fine (a re-run of its group)
 * @err: why, when it fails
 *
 * The checks sl_ipam_alloc() makes before it takes a block: no overlap with
 * another range that has leases, nor with the host's routes or addresses
 * (unless the range itself already has leases: those routes are ours).
 *
 * Return: 0, -EADDRINUSE with the error recorded, or -errno
 */
int sl_ipam_check_range(const struct sl_cidr *range, uint32_t gw, bool reuse, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	struct sl_lease want = { .range = *range, .gw = gw };
	char what[SL_CIDR_STRLEN + 16], rs[SL_CIDR_STRLEN];
	bool known = false;
	size_t n;
	int r = sl_ipam_leases(&v, &n, err);

	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "%s %s", gw ? "bridge subnet" : "range",
		 sl_cidr_fmt(range, rs));
	for (size_t i = 0; i < n; i++) {
		if (same_range(&v[i], &want) && reuse)
			known = true;
		else if (sl_cidr_overlap(&v[i].range, range))
			return overlap_error(what, &v[i], err);
	}
	return known ? 0 : check_host_routes(range, what, err);
}

/* A derived range must not hold the cloud metadata address a guest may be told to ask. */
static bool holds_metadata(const struct sl_cidr *r)
{
	return sl_cidr_contains(r, SL_METADATA_ADDR);
}

/**
 * sl_ipam_derive_range() - the range of an isolated group that names none
 * @group: the group's name
 * @taken: ranges the caller holds already (the config's other groups)
 * @ntaken: how many
 * @range: result, a /22 of 169.254.0.0/16
 * @err: why, when it fails
 *
 * Slicer derives the range from the group's name. Here: a group that holds
 * leases already keeps their range (a re-run, a launch); otherwise the /22
 * the name hashes to, or the next one after it that overlaps no @taken
 * range, no other group's leases and no route or address of the host.
 * The same name on a host in the same state gives the same range.
 *
 * Return: 0, -EADDRINUSE (every /22 is taken) with the error recorded, or -errno
 */
int sl_ipam_derive_range(const char *group, const struct sl_cidr *taken, size_t ntaken,
			 struct sl_cidr *range, struct sl_error *err)
{
	const unsigned n = 1u << (SL_IPAM_AUTO_PREFIX - 16);
	_cleanup_free_ struct sl_lease *v = NULL;
	uint32_t h = sl_fnv1a32(group);
	size_t nl;
	int r = sl_ipam_leases(&v, &nl, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < nl; i++)
		if (!v[i].gw && !strcmp(v[i].group, group)) {
			*range = v[i].range;
			return 0;
		}
	for (unsigned k = 0; k < n; k++) {
		struct sl_cidr c = { 0xa9fe0000u | ((h + k) % n) << (32 - SL_IPAM_AUTO_PREFIX),
				     SL_IPAM_AUTO_PREFIX };
		bool ok = !holds_metadata(&c);

		for (size_t i = 0; i < ntaken && ok; i++)
			ok = !sl_cidr_overlap(&taken[i], &c);
		for (size_t i = 0; i < nl && ok; i++)
			ok = !sl_cidr_overlap(&v[i].range, &c);
		if (ok && (r = check_host_routes(&c, "range", NULL)) == 0) {
			*range = c;
			return 0;
		}
		if (ok && r != -EADDRINUSE)
			return sl_error(err, r, "cannot read the host's routes: %s", strerror(-r));
	}
	return sl_error(err, -EADDRINUSE,
			"group %s: no free /%d left in 169.254.0.0/16: give network.range", group,
			SL_IPAM_AUTO_PREFIX);
}

/**
 * sl_ipam_leases() - all leases, in the order they were made
 * @err: why, when it fails
 */
int sl_ipam_leases(struct sl_lease **v, size_t *n, struct sl_error *err)
{
	_cleanup_close_ int lock = sl_lock("ipam", err);

	if (lock < 0)
		return lock;
	return load(v, n, err);
}
