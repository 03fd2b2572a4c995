/* SPDX-License-Identifier: MIT */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "error.h"

/* A DNS name in presentation form, without the final dot: at most 253 bytes. */
#define SL_DNS_NAME_MAX 253

/*
 * An egress entry as a user writes it in allow or drop: ADDR, ADDR/P, or
 * (allow only) a DNS name, NAME or *.NAME, either optionally followed by
 * :PORT or :LO-HI (TCP and UDP to those destination ports). A name stands
 * for the addresses its answers gave (lib/net/dns.c): it is as specific as a /32.
 */
struct sl_entry {
	struct sl_cidr net; /* a name: 0.0.0.0/32 */
	uint16_t lo, hi; /* destination ports, TCP and UDP; 0, 0: any protocol, any port */
	char name[SL_DNS_NAME_MAX + 1]; /* lower case, "*." first for a wildcard; "" */
};

#define SL_ENTRY_STRLEN (SL_DNS_NAME_MAX + 13) /* "*.name:65535-65535" */
/* Per list (allow, drop): a bound that keeps a bad input from eating memory. */
#define SL_POLICY_MAX_ENTRIES 4096
/* Distinct names per VM: each has a kernel ip set, at most 256 per namespace. */
#define SL_POLICY_MAX_NAMES 128
/* An entry's ip set: "sl-" and a hash of its name. */
#define SL_SET_NAME_LEN 20

struct sl_entry_list {
	struct sl_entry *v;
	size_t n;
};

int sl_entry_parse(const char *s, struct sl_entry *e, const char *what, struct sl_error *err);
char *sl_entry_fmt(const struct sl_entry *e, char buf[SL_ENTRY_STRLEN]);
void sl_entry_set_name(const struct sl_entry *e, char buf[SL_SET_NAME_LEN]);
bool sl_name_matches(const char *pattern, const char *name);
size_t sl_entry_list_names(const struct sl_entry_list *l);
int sl_entry_list_add(struct sl_entry_list *l, const char *text, const char *what,
		      struct sl_error *err);
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

/*
 * allow and drop merged, most specific first: iptables' first match decides.
 * A name entry matches the addresses @resolved says its ip set holds now
 * (the kernel's, lib/kernel/ipset.c); none when @resolved is NULL.
 */
struct sl_policy {
	struct sl_policy_rule *v;
	size_t n;
	bool default_allow; /* when no entry matches */
	bool (*resolved)(const struct sl_entry *e, uint32_t addr, void *arg);
	void *arg;
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
/* Long enough for an entry or the name of a special range. */
#define SL_REFUSAL_STRLEN SL_ENTRY_STRLEN
bool sl_policy_name_may_open(const struct sl_entry_list *allow, const struct sl_entry_list *drop,
			     const struct sl_entry *name, uint32_t addr,
			     char why[SL_REFUSAL_STRLEN]);
int sl_policy_decide_name(const struct sl_policy *p, const char *name);
bool sl_entry_matches(const struct sl_entry *e, const struct sl_packet *pkt);
int sl_packet_parse(const uint8_t *p, size_t n, struct sl_packet *pkt);

#endif
