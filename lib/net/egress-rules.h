/* SPDX-License-Identifier: MIT */
#ifndef SL_EGRESS_RULES_H
#define SL_EGRESS_RULES_H

/*
 * Inside sl-egress (lib/net/egress*.c), not for the other layers: the rule sets
 * its rooms build and write, and what one room asks of another. The rooms:
 * egress-rules.c (the rule sets), egress-host.c (a range's host rules and
 * users), egress.c (apply, flush), egress-show.c (show, check, test),
 * egress-attach.c (sl-cni's attachments).
 */
#include <stdbool.h>
#include <stddef.h>

#include <libiptc/libiptc.h>

#include "cidr.h"
#include "egress.h"
#include "error.h"
#include "ipset.h"
#include "ipt.h"
#include "policy.h"

/*
 * A rule set grows as it is built and is bounded: the namespace's chain
 * holds at most two rules (TCP, UDP) per entry of each list, the host's a
 * handful per range. An append past the bound, or one that finds no
 * memory, is remembered and reported once by eg_ruleset_status(), so that the
 * builders stay straight lines.
 */
#define MAX_RULES (4 * SL_POLICY_MAX_ENTRIES + 16)

struct ruleset {
	struct sl_rule *r;
	size_t n, cap;
	int err;
	struct sl_rule scratch; /* what a failed append writes into */
};

#define _cleanup_ruleset_ __attribute__((cleanup(eg_ruleset_free)))

void eg_ruleset_free(struct ruleset *s);
int eg_ruleset_status(const struct ruleset *s, struct sl_error *err);
struct sl_rule *eg_rule(struct ruleset *s, const char *target, const char *comment);
void eg_rule_copy(struct ruleset *s, const struct sl_rule *r);
void eg_ns_comment(const struct sl_egress_cfg *c, char *buf, size_t len);
void eg_drop_logged(struct ruleset *s, const struct sl_rule *match, const char *why);
void eg_policy_rules(const struct sl_egress_cfg *c, const struct sl_policy *pol, const char *cm,
		     bool accept_rest, struct ruleset *s);
int eg_ns_fwd_rules(const struct sl_egress_cfg *c, struct ruleset *s, struct sl_error *err);
void eg_ns_in_rules(const struct sl_egress_cfg *c, struct ruleset *s);
int eg_host_rules(const struct sl_cidr *range, const char *bridge_if, struct ruleset *top,
		  struct ruleset *from, struct ruleset *in, struct ruleset *masq,
		  struct sl_error *err);
int eg_ensure_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err);
int eg_drop_jump(struct xtc_handle *h, const char *from, const char *to, struct sl_error *err);
void eg_mutate(struct ruleset *s, bool host);
int eg_write_chain(struct xtc_handle *h, const char *chain, const struct ruleset *s,
		   struct sl_error *err);
bool eg_in_set(const struct sl_entry *e, uint32_t addr, void *arg);
int eg_delete_tagged(struct xtc_handle *h, const char *chain, const char *cm, struct sl_error *err);
int eg_host_apply(const struct sl_cidr *range, const char *bridge_if, struct sl_error *err);
int eg_chain_empty(struct xtc_handle *h, const char *chain);
int eg_range_user_add(const char *name, const char *range, struct sl_error *err);
int eg_range_user_del(const char *name, const char *range);
int eg_user_ranges(const char *name, struct sl_cidr **v, size_t *n);
void eg_print_chain(FILE *f, const char *chain, const struct sl_rule *v, size_t n,
		    const char *only_comment, bool stats);
int eg_check_chain(struct xtc_handle *h, const char *where, const char *chain, const char *cm,
		   const struct ruleset *want);
int eg_check_jump(struct xtc_handle *h, const char *where, const char *from, const char *to);

#endif
