/* SPDX-License-Identifier: MIT */
/* sl-egress rooms: the host's rules of a range, and the VMs that use it. */
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntrack.h"
#include "egress.h"
#include "egress-rules.h"
#include "error.h"
#include "fault.h"
#include "ipset.h"
#include "ipt.h"
#include <libiptc/libiptc.h>
#include "json.h"
#include "egressd.h"
#include "denials.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "policy.h"
#include "shape.h"
#include "state.h"
#include "tap.h"
#include "util.h"
#include "veth.h"

/* The run dir's part of a host rule's comment: its path, or a hash of a long one. */
static void run_tag(char *buf, size_t len)
{
	const char *rd = sl_run_dir();

	if (strlen(rd) <= SL_HOST_TAG_PATH_MAX)
		snprintf(buf, len, "%s", rd);
	else
		snprintf(buf, len, "#%016llx", (unsigned long long)sl_fnv1a64(rd));
}

/**
 * sl_egress_host_comment() - the comment on a range's host rules
 * @range: the range
 * @buf: result, at most SL_HOST_COMMENT_LEN bytes
 * @len: size of @buf
 *
 * "sl:RANGE RUNDIR": host chains are shared by every run dir of the host
 * namespace, and each may only ever touch its own rules.
 */
void sl_egress_host_comment(const struct sl_cidr *range, char *buf, size_t len)
{
	char cr[SL_CIDR_STRLEN], tag[SL_HOST_TAG_PATH_MAX + 1];

	run_tag(tag, sizeof(tag));
	snprintf(buf, len, "sl:%s %s", sl_cidr_fmt(range, cr), tag);
}

/**
 * sl_egress_host_comment_range() - the range of a host rule of this run dir
 * @comment: a rule's comment
 * @range: result
 *
 * Return: true for a rule made by sl_egress_apply() under this SL_RUN_DIR
 */
bool sl_egress_host_comment_range(const char *comment, struct sl_cidr *range)
{
	char rs[SL_CIDR_STRLEN + 1], want[SL_HOST_COMMENT_LEN];
	const char *sp;

	if (strncmp(comment, "sl:", 3) || !(sp = strchr(comment, ' ')) ||
	    (size_t)(sp - comment - 3) >= sizeof(rs))
		return false;
	snprintf(rs, sizeof(rs), "%.*s", (int)(sp - comment - 3), comment + 3);
	if (sl_cidr_parse(rs, range) < 0)
		return false;
	sl_egress_host_comment(range, want, sizeof(want));
	return !strcmp(want, comment);
}

/*
 * Host rules of one range. Rules *to* a range go at the top of SL-FORWARD,
 * rules *from* it at the bottom: so no range's "accept from" is reached
 * before every range's "drop to", whatever order ranges came in, and a VM
 * reaches no VM of any range.
 */
static void host_fwd_top(const struct sl_cidr *range, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = eg_rule(s, "ACCEPT", cm);
	r->has_dst = true;
	r->dst = *range;
	r->ct_established = true;
	r = eg_rule(s, "DROP", cm);
	r->has_dst = true;
	r->dst = *range;
}

static void host_from(const struct sl_cidr *range, struct ruleset *s, const char *target)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = eg_rule(s, target, cm);
	r->has_src = true;
	r->src = *range;
}

/*
 * What the host forwards from a range: only what comes in where the range
 * lives (an isolated range's VM host ends, by their device group; a bridge
 * subnet's bridge); the same sources from anywhere else (a container's
 * veth, the LAN) are spoofed, logged and dropped, not taken for a VM's
 * and masqueraded.
 */
static void host_fwd_from(const struct sl_cidr *range, const char *bridge_if, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r, spoof = { 0 };

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = eg_rule(s, "ACCEPT", cm);
	r->has_src = true;
	r->src = *range;
	if (bridge_if)
		snprintf(r->in, sizeof(r->in), "%s", bridge_if);
	else
		r->in_group = sl_owner_group();
	spoof.has_src = true;
	spoof.src = *range;
	snprintf(spoof.comment, sizeof(spoof.comment), "%s", cm);
	eg_drop_logged(s, &spoof, "spoofed");
}

static void host_nat(const struct sl_cidr *range, struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	r = eg_rule(s, "MASQUERADE", cm);
	r->has_src = true;
	r->src = *range;
	r->has_dst = r->inv_dst = true;
	r->dst = *range;
}

/*
 * A bridge's subnet B (Slicer's default mode, docs/DESIGN.md §2): its VMs reach
 * each other (bridged frames cross FORWARD with br_netfilter), the host
 * and the LAN, masqueraded; nothing new reaches B from outside it, so an
 * isolated VM cannot reach a bridge VM either. No SL-INPUT rule: bridge
 * VMs may talk to the host.
 */
static void host_fwd_top_bridge(const struct sl_cidr *b, const char *bridge_if,
				struct ruleset *s)
{
	char cm[SL_HOST_COMMENT_LEN];
	struct sl_rule *r;

	sl_egress_host_comment(b, cm, sizeof(cm));
	r = eg_rule(s, "ACCEPT", cm);
	r->has_dst = true;
	r->dst = *b;
	r->ct_established = true;
	r = eg_rule(s, "ACCEPT", cm);
	r->has_src = r->has_dst = true;
	r->src = r->dst = *b;
	snprintf(r->in, sizeof(r->in), "%s", bridge_if);
	r = eg_rule(s, "DROP", cm);
	r->has_dst = true;
	r->dst = *b;
}

/*
 * The rules of one range: SL-FORWARD's top and bottom, SL-INPUT, nat.
 * @bridge_if: a bridge subnet's bridge; NULL for an isolated range.
 */
int eg_host_rules(const struct sl_cidr *range, const char *bridge_if, struct ruleset *top,
		      struct ruleset *from, struct ruleset *in, struct ruleset *masq,
		      struct sl_error *err)
{
	if (bridge_if) {
		host_fwd_top_bridge(range, bridge_if, top);
	} else {
		host_fwd_top(range, top);
		host_from(range, in, "DROP");
	}
	host_fwd_from(range, bridge_if, from);
	host_nat(range, masq);
	return eg_ruleset_status(top, err) ?: eg_ruleset_status(from, err) ?: eg_ruleset_status(in, err) ?:
	       eg_ruleset_status(masq, err);
}

/* Delete every rule of a chain whose comment is @cm. */
int eg_delete_tagged(struct xtc_handle *h, const char *chain, const char *cm,
			 struct sl_error *err)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n;
	int r = sl_ipt_list(h, chain, &v, &n);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = n; i-- > 0;) {
		if (strcmp(v[i].comment, cm))
			continue;
		r = sl_ipt_delete_num(h, chain, (unsigned)i, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether @chain holds exactly @s (and nothing else) among rules tagged @cm. */
static bool tagged_match(struct xtc_handle *h, const char *chain, const char *cm,
			 const struct ruleset *s)
{
	_cleanup_free_ struct sl_rule *v = NULL;
	size_t n, k = 0;

	if (sl_ipt_list(h, chain, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].comment, cm))
			continue;
		if (k >= s->n || !sl_rule_equal(&v[i], &s->r[k]))
			return false;
		k++;
	}
	return k == s->n;
}

int eg_host_apply(const struct sl_cidr *range, const char *bridge_if, struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	_cleanup_ruleset_ struct ruleset top = { 0 };
	_cleanup_ruleset_ struct ruleset from = { 0 };
	_cleanup_ruleset_ struct ruleset in = { 0 };
	_cleanup_ruleset_ struct ruleset masq = { 0 };
	_cleanup_ruleset_ struct ruleset both = { 0 };
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	if ((r = eg_host_rules(range, bridge_if, &top, &from, &in, &masq, err)) < 0)
		return r;
	eg_mutate(&top, true);
	eg_mutate(&from, true);
	eg_mutate(&in, true);
	for (size_t i = 0; i < top.n; i++)
		eg_rule_copy(&both, &top.r[i]);
	for (size_t i = 0; i < from.n; i++)
		eg_rule_copy(&both, &from.r[i]);
	if ((r = eg_ruleset_status(&both, err)) < 0)
		return r;

	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = eg_ensure_jump(f, "FORWARD", SL_CHAIN_HOST_FWD, err)) < 0 ||
	    (r = eg_ensure_jump(f, "INPUT", SL_CHAIN_HOST_IN, err)) < 0)
		return r;
	if (!tagged_match(f, SL_CHAIN_HOST_FWD, cm, &both)) {
		if ((r = eg_delete_tagged(f, SL_CHAIN_HOST_FWD, cm, err)) < 0)
			return r;
		for (size_t i = top.n; i-- > 0;)
			if ((r = sl_ipt_insert(f, SL_CHAIN_HOST_FWD, &top.r[i], 0, err)) < 0)
				return r;
		for (size_t i = 0; i < from.n; i++)
			if ((r = sl_ipt_append(f, SL_CHAIN_HOST_FWD, &from.r[i], err)) < 0)
				return r;
	}
	if (!tagged_match(f, SL_CHAIN_HOST_IN, cm, &in)) {
		if ((r = eg_delete_tagged(f, SL_CHAIN_HOST_IN, cm, err)) < 0)
			return r;
		for (size_t i = 0; i < in.n; i++)
			if ((r = sl_ipt_append(f, SL_CHAIN_HOST_IN, &in.r[i], err)) < 0)
				return r;
	}
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;

	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = eg_ensure_jump(nat, "POSTROUTING", SL_CHAIN_HOST_NAT, err)) < 0)
		return r;
	if (!tagged_match(nat, SL_CHAIN_HOST_NAT, cm, &masq)) {
		if ((r = eg_delete_tagged(nat, SL_CHAIN_HOST_NAT, cm, err)) < 0 ||
		    (r = sl_ipt_append(nat, SL_CHAIN_HOST_NAT, &masq.r[0], err)) < 0)
			return r;
	}
	return sl_ipt_commit(nat, err);
}

int eg_chain_empty(struct xtc_handle *h, const char *chain)
{
	return iptc_is_chain(chain, h) && !iptc_first_rule(chain, h);
}

/**
 * sl_egress_host_release() - remove the host rules of a range
 * @range: range no VM uses any more
 * @err: why, when it fails
 *
 * Our chains go too when no range is left in them. The caller holds the
 * "host" lock.
 */
int sl_egress_host_release(const struct sl_cidr *range, struct sl_error *err)
{
	_cleanup_ipt_ struct xtc_handle *f = NULL;
	_cleanup_ipt_ struct xtc_handle *nat = NULL;
	char cm[SL_HOST_COMMENT_LEN];
	int r;

	sl_egress_host_comment(range, cm, sizeof(cm));
	if ((r = sl_ipt_open("filter", &f, err)) < 0 ||
	    (r = eg_delete_tagged(f, SL_CHAIN_HOST_FWD, cm, err)) < 0 ||
	    (r = eg_delete_tagged(f, SL_CHAIN_HOST_IN, cm, err)) < 0)
		return r;
	if (eg_chain_empty(f, SL_CHAIN_HOST_FWD) &&
	    (r = eg_drop_jump(f, "FORWARD", SL_CHAIN_HOST_FWD, err)) < 0)
		return r;
	if (eg_chain_empty(f, SL_CHAIN_HOST_IN) &&
	    (r = eg_drop_jump(f, "INPUT", SL_CHAIN_HOST_IN, err)) < 0)
		return r;
	if ((r = sl_ipt_commit(f, err)) < 0)
		return r;
	if ((r = sl_ipt_open("nat", &nat, err)) < 0 ||
	    (r = eg_delete_tagged(nat, SL_CHAIN_HOST_NAT, cm, err)) < 0)
		return r;
	if (eg_chain_empty(nat, SL_CHAIN_HOST_NAT) &&
	    (r = eg_drop_jump(nat, "POSTROUTING", SL_CHAIN_HOST_NAT, err)) < 0)
		return r;
	return sl_ipt_commit(nat, err);
}

/*
 * Which VMs use a range's host rules: one empty file per VM in a directory
 * per range, so that taking a VM out costs the same with 1 VM or 256, and
 * rmdir() succeeding says the last one is gone. Caller holds "host".
 */
static int range_dir(const char *range, char *buf, size_t len)
{
	char r[SL_CIDR_STRLEN + 1];

	snprintf(r, sizeof(r), "%s", range);
	*strchrnul(r, '/') = '_';
	return sl_run_path(buf, len, "egress/%s", r);
}

/* range_dir() backwards: the range a directory under egress/ is for, or false. */
static bool dir_range(const char *d_name, char range[SL_CIDR_STRLEN + 1])
{
	if (d_name[0] == '.' || strlen(d_name) > SL_CIDR_STRLEN)
		return false;
	snprintf(range, SL_CIDR_STRLEN + 1, "%s", d_name);
	*strchrnul(range, '_') = '/';
	return true;
}

int eg_range_user_add(const char *name, const char *range, struct sl_error *err)
{
	char dir[4096], path[4096 + 32];
	int fd;

	if (range_dir(range, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/egress", sl_run_dir());
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	return sl_error(err, -errno, "cannot record %s as a user of %s: %s", name, range,
			strerror(errno));
}

/* Return: 1 when @name was the range's last user, 0 if others remain. */
int eg_range_user_del(const char *name, const char *range)
{
	char dir[4096], path[4096 + 32];

	if (range_dir(range, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (rmdir(dir) == 0 || errno == ENOENT) {
		snprintf(path, sizeof(path), "%s/egress", sl_run_dir());
		rmdir(path);
		return 1;
	}
	return errno == ENOTEMPTY || errno == EEXIST ? 0 : -errno;
}

/*
 * The ranges @name is recorded as a user of, by apply, under the run dir
 * only root writes: what flush undoes comes from there, never from vm.env,
 * which a person may edit (SL_EGRESS_RANGE=0.0.0.0/0 there would strand the
 * real range's host rules). Call with the "host" lock held.
 */
int eg_user_ranges(const char *name, struct sl_cidr **v, size_t *n)
{
	_cleanup_closedir_ DIR *top = NULL;
	char path[4096];
	struct dirent *e;

	if (sl_run_path(path, sizeof(path), "egress") < 0)
		return -ENAMETOOLONG;
	top = opendir(path);
	while (top && (e = readdir(top))) {
		char user[4096 + 600], range[SL_CIDR_STRLEN + 1];
		struct sl_cidr c, *nv;

		if (!dir_range(e->d_name, range))
			continue;
		snprintf(user, sizeof(user), "%s/%s/%s", path, e->d_name, name);
		if (sl_cidr_parse(range, &c) < 0 || access(user, F_OK) < 0)
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		nv[(*n)++] = c;
	}
	return 0;
}

/**
 * sl_egress_prune_users() - forget the range users whose VM is gone
 * @gone: says whether a VM no longer exists
 * @sw: the sweep, told each such VM and its range
 * @err: why, when it fails
 *
 * A VM whose state was lost still counts as a user of its range, and would
 * keep the range's host rules after the last real VM left. The range's
 * directory goes with its last user; sl_egress_prune_host_rules() then
 * finds the rules of a range with no directory. Takes the "host" lock.
 *
 * Return: how many were (or would be) forgotten, or -errno
 */
int sl_egress_prune_users(bool (*gone)(const char *name), struct sl_sweep *sw,
			  struct sl_error *err)
{
	_cleanup_close_ int lock = sl_lock("host", err);
	_cleanup_closedir_ DIR *top = NULL;
	char path[4096];
	struct dirent *r;
	int found = 0;

	if (lock < 0)
		return lock;
	if (sl_run_path(path, sizeof(path), "egress") < 0)
		return -ENAMETOOLONG;
	top = opendir(path);
	while (top && (r = readdir(top))) {
		_cleanup_closedir_ DIR *d = NULL;
		char dir[4096 + 300], range[SL_CIDR_STRLEN + 1];
		struct dirent *u;

		if (!dir_range(r->d_name, range))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", path, r->d_name);
		d = opendir(dir);
		while (d && (u = readdir(d))) {
			if (u->d_name[0] == '.' || !gone(u->d_name))
				continue;
			sl_sweep_say(sw, "%s as a user of range %s (no state)", u->d_name, range);
			found++;
			if (!sw->dry)
				eg_range_user_del(u->d_name, range);
		}
	}
	return found;
}

/**
 * sl_egress_prune_host_rules() - remove the host rules of ranges no VM uses
 * @sw: the sweep, told each range whose rules go
 *
 * Only this run dir's rules (their comment names it): other run dirs'
 * ranges are theirs. A range is used while its directory of users exists.
 * Takes the "host" lock.
 *
 * Return: how many ranges' rules went (or would)
 */
int sl_egress_prune_host_rules(struct sl_sweep *sw)
{
	_cleanup_close_ int lock = sl_lock("host", NULL);
	_cleanup_ipt_ struct xtc_handle *h = NULL;
	_cleanup_free_ struct sl_rule *rules = NULL;
	size_t nr = 0;
	int found = 0;

	if (lock < 0 || sl_ipt_open("filter", &h, NULL) < 0 ||
	    sl_ipt_list(h, SL_CHAIN_HOST_FWD, &rules, &nr) < 0)
		return 0;
	for (size_t i = 0; i < nr; i++) {
		struct sl_cidr range;
		char dir[4096], rs[SL_CIDR_STRLEN + 1];
		bool dup = false;

		if (!sl_egress_host_comment_range(rules[i].comment, &range))
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= !strcmp(rules[j].comment, rules[i].comment);
		if (dup || range_dir(sl_cidr_fmt(&range, rs), dir, sizeof(dir)) < 0 ||
		    access(dir, F_OK) == 0)
			continue;
		sl_sweep_say(sw, "host rules of range %s", rs);
		found++;
		if (!sw->dry)
			sl_egress_host_release(&range, NULL);
	}
	return found;
}
