/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam.h"
#include "log.h"
#include "name.h"
#include "nl.h"
#include "state.h"
#include "util.h"

static const char *const lease_keys[] = {
	"SL_GROUP", "SL_RANGE", "SL_BLOCK", "SL_NET", "SL_GW",
	"SL_IP", "SL_PREFIX", NULL,
};

/**
 * sl_range_parse() - parse and check a VM range
 * @s: text, e.g. "169.254.100.0/22"
 * @range: result
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_range_parse(const char *s, struct sl_cidr *range)
{
	if (sl_cidr_parse(s, range) < 0 || !strchr(s, '/')) {
		sl_set_error("bad range '%s': not an IPv4 network in CIDR notation "
			     "(a.b.c.d/p, host bits zero)", s);
		return -EINVAL;
	}
	if (range->prefix < SL_RANGE_MIN_PREFIX || range->prefix > SL_BLOCK_PREFIX) {
		sl_set_error("bad range '%s': prefix /%u, a range must be /%d to /%d",
			     s, range->prefix, SL_RANGE_MIN_PREFIX, SL_BLOCK_PREFIX);
		return -EINVAL;
	}
	return 0;
}

static int leases_path(char *buf, size_t len)
{
	return sl_run_path(buf, len, "ipam/leases");
}

/* Lines "NAME GROUP RANGE BLOCK"; a file a person can read and grep. */
static int load(struct sl_lease **v, size_t *n)
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
		char range[64];
		struct sl_lease *na;

		lineno++;
		if (sscanf(line, "%15s %63s %63s %u", l.name, l.group, range, &l.block) != 4 ||
		    sl_cidr_parse(range, &l.range) < 0 ||
		    l.block >= sl_range_blocks(&l.range)) {
			free(a);
			sl_set_error("%s:%u: corrupt lease", path, lineno);
			return -EINVAL;
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

static int store(const struct sl_lease *v, size_t n)
{
	char path[4096], tmp[4096], dir[4096];
	_cleanup_fclose_ FILE *f = NULL;

	if (leases_path(path, sizeof(path)) < 0 ||
	    sl_run_path(tmp, sizeof(tmp), "ipam/.leases.tmp") < 0 ||
	    sl_run_path(dir, sizeof(dir), "ipam") < 0)
		return -ENAMETOOLONG;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail;
	f = fopen(tmp, "we");
	if (!f)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char c[SL_CIDR_STRLEN];

		fprintf(f, "%s %s %s %u\n", v[i].name, v[i].group,
			sl_cidr_fmt(&v[i].range, c), v[i].block);
	}
	if (fflush(f) != 0 || rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	{
		int e = errno;

		sl_set_error("cannot write %s: %s", path, strerror(e));
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

	sl_range_block(&l->range, l->block, &b);
	r |= sl_kv_set(out, "SL_NAME", l->name);
	r |= sl_kv_set(out, "SL_GROUP", l->group);
	r |= sl_kv_set(out, "SL_RANGE", sl_cidr_fmt(&l->range, c));
	r |= sl_kv_set(out, "SL_BLOCK", sl_cidr_fmt(&b, c));
	r |= sl_kv_set(out, "SL_NET", sl_ip_fmt(b.addr, ip));
	r |= sl_kv_set(out, "SL_GW", sl_ip_fmt(b.addr + 1, ip));
	r |= sl_kv_set(out, "SL_IP", sl_ip_fmt(b.addr + 2, ip));
	r |= sl_kv_setf(out, "SL_PREFIX", "%d", SL_BLOCK_PREFIX);
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

static int check_host_routes(const struct sl_cidr *range, const char *rs)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	char what[128];
	int r = sl_nl_open(&sk);

	if (r < 0) {
		sl_set_error("netlink: %s", strerror(-r));
		return r;
	}
	r = sl_route_conflict(sk, range, sl_owner_tag(), what, sizeof(what));
	if (r < 0) {
		sl_set_error("cannot read the host's routes: %s", strerror(-r));
		return r;
	}
	if (r > 0) {
		sl_set_error("range %s overlaps %s already on this host", rs, what);
		return -EADDRINUSE;
	}
	return 0;
}

/**
 * sl_ipam_alloc() - lease the lowest free /30 of a range to a VM
 * @range_s: the group's range
 * @group: group name, or NULL to derive it from the VM name
 * @name: VM name
 * @out: the lease as SL_* pairs
 *
 * The VM that already holds a lease in this range gets the same one back,
 * so a re-run is harmless. A range that overlaps another range with
 * leases, or a route or address the host already has, is refused.
 *
 * Return: 0; -EINVAL, -EEXIST, -EADDRINUSE, -ENOSPC with the error
 * recorded; or -errno
 */
int sl_ipam_alloc(const char *range_s, const char *group, const char *name,
		  struct sl_kv *out)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	_cleanup_free_ uint8_t *used = NULL;
	_cleanup_close_ int lock = -1;
	struct sl_lease l = { 0 };
	struct sl_cidr range;
	bool range_known = false;
	uint32_t blocks;
	size_t n;
	int r;

	r = sl_name_check(name);
	if (r < 0)
		return r;
	r = sl_range_parse(range_s, &range);
	if (r < 0)
		return r;
	if (group && (!*group || strlen(group) >= sizeof(l.group) || strpbrk(group, " \t\n/"))) {
		sl_set_error("bad group name '%s'", group);
		return -EINVAL;
	}
	lock = sl_lock("ipam");
	if (lock < 0)
		return lock;
	r = load(&v, &n);
	if (r < 0)
		return r;

	blocks = sl_range_blocks(&range);
	used = calloc(blocks, 1);
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char a[SL_CIDR_STRLEN];
		bool same = v[i].range.addr == range.addr && v[i].range.prefix == range.prefix;

		if (!strcmp(v[i].name, name)) {
			if (!same) {
				sl_set_error("%s already holds a lease in range %s", name,
					     sl_cidr_fmt(&v[i].range, a));
				return -EEXIST;
			}
			if (group && strcmp(group, v[i].group)) {
				sl_set_error("%s already holds a lease for group %s", name,
					     v[i].group);
				return -EEXIST;
			}
			return sl_lease_kv(&v[i], out);
		}
		if (same) {
			range_known = true;
			used[v[i].block] = 1;
		} else if (sl_cidr_overlap(&v[i].range, &range)) {
			sl_set_error("range %s overlaps range %s in use by group %s", range_s,
				     sl_cidr_fmt(&v[i].range, a), v[i].group);
			return -EADDRINUSE;
		}
	}
	if (!range_known) {
		r = check_host_routes(&range, range_s);
		if (r < 0)
			return r;
	}
	for (l.block = 0; l.block < blocks && used[l.block]; l.block++)
		;
	if (l.block == blocks) {
		sl_set_error("range %s is full (%u blocks of /30 leased)", range_s, blocks);
		return -ENOSPC;
	}
	snprintf(l.name, sizeof(l.name), "%s", name);
	if (group)
		snprintf(l.group, sizeof(l.group), "%s", group);
	else
		default_group(name, l.group, sizeof(l.group));
	l.range = range;
	{
		struct sl_lease *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			return -ENOMEM;
		v = nv;
		v[n++] = l;
	}
	r = store(v, n);
	if (r < 0)
		return r;
	r = sl_lease_kv(&l, out);
	if (r < 0)
		return r;
	r = sl_state_update(name, out, NULL);
	if (r < 0) {
		/* No lease without its record: undo. */
		store(v, n - 1);
		return r;
	}
	return 0;
}

/**
 * sl_ipam_release() - give a VM's block back
 * @name: VM name
 * @out: the released lease's pairs (empty when there was none)
 *
 * Return: 0, also when the VM held no lease, or -errno
 */
int sl_ipam_release(const char *name, struct sl_kv *out)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	_cleanup_close_ int lock = -1;
	size_t n, k = 0;
	int r;

	r = sl_name_check(name);
	if (r < 0)
		return r;
	lock = sl_lock("ipam");
	if (lock < 0)
		return lock;
	r = load(&v, &n);
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
		r = store(v, k);
		if (r < 0)
			return r;
	}
	return sl_state_update(name, NULL, lease_keys);
}

/**
 * sl_ipam_check_range() - whether a range could be used, without leasing
 * @range: candidate
 * @reuse: a range that already has leases is fine (a re-run of its group)
 *
 * The checks sl_ipam_alloc() makes before it takes a block: no overlap with
 * another range that has leases, nor with the host's routes or addresses
 * (unless the range itself already has leases: those routes are ours).
 *
 * Return: 0, -EADDRINUSE with the error recorded, or -errno
 */
int sl_ipam_check_range(const struct sl_cidr *range, bool reuse)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	char rs[SL_CIDR_STRLEN], a[SL_CIDR_STRLEN];
	bool known = false;
	size_t n;
	int r = sl_ipam_leases(&v, &n);

	if (r < 0)
		return r;
	sl_cidr_fmt(range, rs);
	for (size_t i = 0; i < n; i++) {
		if (v[i].range.addr == range->addr && v[i].range.prefix == range->prefix && reuse) {
			known = true;
		} else if (sl_cidr_overlap(&v[i].range, range)) {
			sl_set_error("range %s overlaps range %s in use by group %s", rs,
				     sl_cidr_fmt(&v[i].range, a), v[i].group);
			return -EADDRINUSE;
		}
	}
	return known ? 0 : check_host_routes(range, rs);
}

/**
 * sl_ipam_leases() - all leases, in the order they were made
 */
int sl_ipam_leases(struct sl_lease **v, size_t *n)
{
	_cleanup_close_ int lock = sl_lock("ipam");

	if (lock < 0)
		return lock;
	return load(v, n);
}
