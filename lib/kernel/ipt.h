/* SPDX-License-Identifier: MIT */
#ifndef SL_IPT_H
#define SL_IPT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "error.h"

struct xtc_handle;

/*
 * The rules sltools writes, in a form a person would recognise: the few
 * matches and targets we use, nothing else. A kernel rule that uses
 * anything more reads back with foreign set.
 */
struct sl_rule {
	char in[IFNAMSIZ], out[IFNAMSIZ]; /* a final '+' matches every name so begun */
	bool has_src, has_dst, inv_src, inv_dst;
	struct sl_cidr src, dst;
	bool ct_established; /* -m conntrack --ctstate RELATED,ESTABLISHED */
	bool ct_dnat;        /* -m conntrack --ctstate DNAT (not with ct_established) */
	uint8_t proto;       /* 0, IPPROTO_TCP, IPPROTO_UDP (-p tcp -m tcp), IPPROTO_ICMP */
	uint8_t icmp_type;   /* with IPPROTO_ICMP: -m icmp --icmp-type N (any code) */
	uint16_t dport_lo, dport_hi; /* with proto: --dport LO[:HI] */
	char set[32];        /* -m set --match-set SET dst: an ip set of the namespace */
	uint32_t in_group;   /* -m devgroup --src-group: the in interface's group; 0 none */
	uint32_t limit_per_s, limit_burst; /* -m limit --limit N/sec; 0: none */
	uint16_t nflog_group;      /* target NFLOG: --nflog-group */
	char nflog_prefix[64];     /* and --nflog-prefix */
	char comment[256];
	char target[29]; /* ACCEPT, DROP, MASQUERADE or a chain */
	bool foreign;
	uint64_t pkts, bytes; /* the kernel's counters, when read back; never compared */
};

int sl_ipt_open(const char *table, struct xtc_handle **h, struct sl_error *err);
void sl_ipt_closep(struct xtc_handle **h);
#define _cleanup_ipt_ __attribute__((cleanup(sl_ipt_closep)))
int sl_ipt_commit(struct xtc_handle *h, struct sl_error *err);

int sl_ipt_chain_ensure(struct xtc_handle *h, const char *chain, struct sl_error *err);
int sl_ipt_chain_exists(struct xtc_handle *h, const char *chain);
int sl_ipt_chain_delete(struct xtc_handle *h, const char *chain, struct sl_error *err);
int sl_ipt_insert(struct xtc_handle *h, const char *chain, const struct sl_rule *r, unsigned pos,
		  struct sl_error *err);
int sl_ipt_append(struct xtc_handle *h, const char *chain, const struct sl_rule *r,
		  struct sl_error *err);
int sl_ipt_delete_num(struct xtc_handle *h, const char *chain, unsigned num, struct sl_error *err);
int sl_ipt_list(struct xtc_handle *h, const char *chain, struct sl_rule **rules,
		size_t *n);
int sl_ipt_find_jump(struct xtc_handle *h, const char *chain, const char *target);
bool sl_rule_equal(const struct sl_rule *a, const struct sl_rule *b);
int sl_rule_format(const struct sl_rule *r, const char *chain, char *buf, size_t len);

#endif
