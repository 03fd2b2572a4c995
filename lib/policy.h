/* SPDX-License-Identifier: MIT */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

/*
 * An egress entry as a user writes it in allow or drop: ADDR, ADDR/P,
 * either optionally followed by :PORT or :LO-HI (TCP and UDP to those
 * destination ports).
 */
struct sl_entry {
	struct sl_cidr net;
	uint16_t lo, hi; /* destination ports, TCP and UDP; 0, 0: any protocol, any port */
};

#define SL_ENTRY_STRLEN (SL_CIDR_STRLEN + 12) /* "a.b.c.d/p:65535-65535" */
/* Per list (allow, drop): a bound that keeps a bad input from eating memory. */
#define SL_POLICY_MAX_ENTRIES 4096

struct sl_entry_list {
	struct sl_entry *v;
	size_t n;
};

int sl_entry_parse(const char *s, struct sl_entry *e, const char *what);
char *sl_entry_fmt(const struct sl_entry *e, char buf[SL_ENTRY_STRLEN]);
int sl_entry_list_add(struct sl_entry_list *l, const char *text, const char *what);
char *sl_entry_list_fmt(const struct sl_entry_list *l);
void sl_entry_list_free(struct sl_entry_list *l);
#define _cleanup_entry_list_ __attribute__((cleanup(sl_entry_list_free)))

/* One entry in decision order. */
struct sl_policy_rule {
	const struct sl_entry *e;
	bool allow;
	bool builtin; /* not the user's: the cloud metadata address */
};

/* Clouds' instance metadata (credentials): dropped unless allowed as a /32. */
#define SL_METADATA_ADDR 0xa9fea9feu /* 169.254.169.254 */

/* allow and drop merged, most specific first: iptables' first match decides. */
struct sl_policy {
	struct sl_policy_rule *v;
	size_t n;
	bool default_allow; /* when no entry matches */
};

int sl_policy_build(const struct sl_entry_list *allow, const struct sl_entry_list *drop,
		    struct sl_policy *p);
void sl_policy_free(struct sl_policy *p);
#define _cleanup_policy_ __attribute__((cleanup(sl_policy_free)))

/* A packet for sl_policy_decide(): proto 0 for one without ports (ICMP). */
struct sl_packet {
	uint32_t dst;
	uint8_t proto; /* 0, IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

int sl_policy_decide(const struct sl_policy *p, const struct sl_packet *pkt);
bool sl_entry_matches(const struct sl_entry *e, const struct sl_packet *pkt);
int sl_packet_parse(const uint8_t *p, size_t n, struct sl_packet *pkt);

#endif
