/* SPDX-License-Identifier: MIT */
#ifndef SL_CIDR_H
#define SL_CIDR_H

#include <stdbool.h>
#include <stdint.h>

/* An IPv4 prefix; addr in host byte order, host bits zero. */
struct sl_cidr {
	uint32_t addr;
	unsigned prefix;
};

#define SL_CIDR_STRLEN 19 /* "255.255.255.255/32" + NUL */
#define SL_IP_STRLEN 16

int sl_cidr_parse(const char *s, struct sl_cidr *c);
int sl_ip_parse(const char *s, uint32_t *ip);
int sl_ifaddr_parse(const char *s, uint32_t *ip, struct sl_cidr *net);
char *sl_cidr_fmt(const struct sl_cidr *c, char buf[SL_CIDR_STRLEN]);
char *sl_ip_fmt(uint32_t ip, char buf[SL_IP_STRLEN]);
uint32_t sl_cidr_mask(unsigned prefix);
bool sl_cidr_overlap(const struct sl_cidr *a, const struct sl_cidr *b);
bool sl_cidr_contains(const struct sl_cidr *c, uint32_t ip);

/* /30 blocks of a VM range: network, gateway, VM, broadcast. */
#define SL_BLOCK_PREFIX 30
#define SL_RANGE_MIN_PREFIX 16
uint32_t sl_range_blocks(const struct sl_cidr *range);
void sl_range_block(const struct sl_cidr *range, uint32_t n, struct sl_cidr *block);

#endif
