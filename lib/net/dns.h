/* SPDX-License-Identifier: MIT */
#ifndef SL_DNS_H
#define SL_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

/*
 * What the resolver of a VM whose allow list holds names reads and writes
 * (lib/net/resolver.c, in sl-egressd): the guest's queries, the upstream's answers. The
 * wire format is ldns's to parse; the guest is hostile, so every function
 * here takes any bytes (fuzz/dns-fuzz.c).
 */

/* The largest message read or written, UDP or TCP: more is dropped. */
#define SL_DNS_MSG_MAX 4096
/* Addresses taken from one answer; the rest are not added. */
#define SL_DNS_ADDRS_MAX 32
/* How long a resolved address stays allowed: the answer's TTL, clamped (by default). */
#define SL_DNS_TTL_MIN 60
#define SL_DNS_TTL_MAX 3600

#define SL_DNS_TYPE_A 1
#define SL_DNS_TYPE_AAAA 28

struct sl_dns_query {
	uint16_t id;
	uint16_t qtype;
	char name[SL_DNS_NAME_MAX + 2]; /* lower case, no final dot; "" for the root */
	uint16_t qend; /* where the question ends: header, name (uncompressed), type, class */
};

struct sl_dns_addr {
	uint32_t addr;
	uint32_t ttl;
};

int sl_dns_query_parse(const uint8_t *msg, size_t n, struct sl_dns_query *q);
int sl_dns_reply(const uint8_t *query, size_t n, unsigned rcode, uint8_t *out, size_t cap);
int sl_dns_cap_ttls(uint8_t *msg, size_t *n, size_t cap, unsigned max);
int sl_dns_age_ttls(uint8_t *msg, size_t *n, size_t cap, unsigned secs);
int sl_dns_answer_addrs(const uint8_t *msg, size_t n, const struct sl_dns_query *q,
			struct sl_dns_addr *addrs, size_t max);

#define SL_DNS_RCODE_NOERROR 0
#define SL_DNS_RCODE_SERVFAIL 2
#define SL_DNS_RCODE_REFUSED 5

#endif
