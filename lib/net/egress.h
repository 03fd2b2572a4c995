/* SPDX-License-Identifier: MIT */
#ifndef SL_EGRESS_H
#define SL_EGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cidr.h"
#include "error.h"
#include "kv.h"
#include "sweep.h"
#include "policy.h"

/* Chains in the VM's namespace. */
#define SL_CHAIN_NS_FWD "SL-FWD"
#define SL_CHAIN_NS_IN "SL-IN"
/*
 * Denials are logged to this NFLOG group of the VM's namespace (groups are
 * per namespace), at most SL_LOG_RATE a second per rule in bursts of
 * SL_LOG_BURST; the prefix names what decided: an entry, "default" or
 * "spoofed".
 */
#define SL_NFLOG_GROUP 10
#define SL_LOG_RATE 5
#define SL_LOG_BURST 10
/* Chains on the host, shared by every range: rules per range, not per VM. */
#define SL_CHAIN_HOST_FWD "SL-FORWARD"
#define SL_CHAIN_HOST_IN "SL-INPUT"
#define SL_CHAIN_HOST_NAT "SL-POSTROUTING"
/* A host rule's comment: "sl:RANGE RUNDIR", the run dir hashed past this. */
#define SL_HOST_TAG_PATH_MAX 200
#define SL_HOST_COMMENT_LEN 256
/*
 * sl-cni's attachments (sl-cni(8)): their policy is on the host, keyed by
 * the host end of their veth, "sc-" and 12 hex digits; the chains shared
 * by all of them, and one per policy, "SLP-" and a hash of its entries.
 */
#define SL_ATTACH_PREFIX "sc-"
#define SL_ATTACH_IFACES SL_ATTACH_PREFIX "+"
#define SL_CHAIN_ATTACH_FWD "SL-CNI"
#define SL_CHAIN_ATTACH_IN "SL-CNI-INPUT"
#define SL_CHAIN_ATTACH_NAT "SL-CNI-POSTROUTING"
#define SL_ATTACH_CHAIN_LEN 20

/* Comment on the jumps into our chains. */
#define SL_JUMP_COMMENT "sltools"

struct sl_egress_cfg {
	const char *name;
	const char *tap;
	const char *veth;
	uint32_t ip;
	struct sl_cidr range;    /* isolated: the range; bridge: the subnet */
	const char *bridge;      /* bridge mode (host rules only): the bridge; NULL isolated */
	struct sl_entry_list allow, drop;
	/* The resolver's upstreams (comma-separated): set when names are in
	 * allow, or were (a resolver runs from then on); NULL or "": none. */
	const char *dns_upstream;
	/* Caps in bytes a second (lib/net/shape.h), 0: none: what the VM sends
	 * (tbf on the veth), what it receives (tbf on the TAP). */
	uint64_t rate_out, rate_in;
};

/* What the guest may not send but to its resolver: DNS, DNS over TLS. */
#define SL_DNS_PORT 53
#define SL_DOT_PORT 853

int sl_egress_apply(const struct sl_egress_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_egress_flush(const char *name, struct sl_error *err);
int sl_egress_test(const struct sl_egress_cfg *c, const char *dest, struct sl_kv *out,
		   struct sl_error *err);
int sl_egress_show(const struct sl_egress_cfg *c, FILE *f, bool stats, bool json,
		   struct sl_error *err);
int sl_egress_check(const struct sl_egress_cfg *c, struct sl_error *err);
int sl_egress_attach_apply(const struct sl_egress_cfg *c, struct sl_error *err);
int sl_egress_attach_remove(const char *name, struct sl_error *err);
int sl_egress_attach_check(const struct sl_egress_cfg *c, struct sl_error *err);
int sl_egress_host_release(const struct sl_cidr *range, struct sl_error *err);
void sl_egress_host_comment(const struct sl_cidr *range, char *buf, size_t len);
bool sl_egress_host_comment_range(const char *comment, struct sl_cidr *range);
int sl_egress_prune_users(bool (*gone)(const char *name), struct sl_sweep *sw,
			  struct sl_error *err);
int sl_egress_prune_host_rules(struct sl_sweep *sw);

#endif
