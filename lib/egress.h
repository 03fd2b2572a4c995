/* SPDX-License-Identifier: MIT */
#ifndef SL_EGRESS_H
#define SL_EGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "kv.h"

/* Chains in the VM's namespace. */
#define SL_CHAIN_NS_FWD "SL-FWD"
#define SL_CHAIN_NS_IN "SL-IN"
/* Chains on the host, shared by every range: rules per range, not per VM. */
#define SL_CHAIN_HOST_FWD "SL-FORWARD"
#define SL_CHAIN_HOST_IN "SL-INPUT"
#define SL_CHAIN_HOST_NAT "SL-POSTROUTING"
/* Comment on the jumps into our chains. */
#define SL_JUMP_COMMENT "sltools"

struct sl_cidr_list {
	struct sl_cidr *v;
	size_t n;
};

struct sl_egress_cfg {
	const char *name;
	const char *tap;
	const char *veth;
	uint32_t ip;
	struct sl_cidr range;    /* isolated: the range; bridge: the subnet */
	bool bridge;             /* bridge mode: host rules only */
	struct sl_cidr_list allow, drop;
};

int sl_cidr_list_add(struct sl_cidr_list *l, const char *text, const char *what);
char *sl_cidr_list_fmt(const struct sl_cidr_list *l);
void sl_cidr_list_free(struct sl_cidr_list *l);
#define _cleanup_cidr_list_ __attribute__((cleanup(sl_cidr_list_free)))

int sl_egress_apply(const struct sl_egress_cfg *c, struct sl_kv *out);
int sl_egress_flush(const char *name);
int sl_egress_show(const struct sl_egress_cfg *c, FILE *f);
int sl_egress_check(const struct sl_egress_cfg *c);
int sl_egress_host_release(const struct sl_cidr *range);
int sl_egress_prune_users(bool (*gone)(const char *name), bool dry,
			  void (*report)(const char *name, const char *range));

#endif
