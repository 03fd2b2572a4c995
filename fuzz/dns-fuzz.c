/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what the VM's resolver reads (lib/net/dns.c): the
 * guest's queries (hostile) and the upstream's answers (believed only
 * for the name asked). Any bytes: no crash, no read past them, the
 * resolver's own reply to a query is itself a well-formed answer to it,
 * an answer never yields more addresses than asked for, and an answer
 * whose TTLs were cut gives the guest the same addresses, none kept
 * longer than the cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = malloc(size ? size : 1); /* exactly size: ASan sees any overread */
	struct sl_dns_query q, fixed = { 0, SL_DNS_TYPE_A, "allowed.test" };
	struct sl_dns_addr addrs[4];
	uint8_t out[SL_DNS_MSG_MAX];
	int k;

	if (!msg)
		return 0;
	memcpy(msg, data, size);
	if (sl_dns_query_parse(msg, size, &q) == 0) {
		int len = sl_dns_reply(msg, size, SL_DNS_RCODE_REFUSED, out, sizeof(out));
		struct sl_dns_query back;

		if (len > 0) {
			/* an answer to the query: parses, same id and question, no address */
			if (sl_dns_answer_addrs(out, (size_t)len, &q, addrs, 4) != 0)
				abort();
			if (sl_dns_query_parse(out, (size_t)len, &back) == 0)
				abort(); /* QR set: not a query */
		}
		k = sl_dns_answer_addrs(msg, size, &q, addrs, 4);
		if (k > 4)
			abort();
	}
	if (size >= 2)
		fixed.id = (uint16_t)(data[0] << 8 | data[1]);
	k = sl_dns_answer_addrs(msg, size, &fixed, addrs, 4);
	if (k > 4)
		abort();
	if (size <= SL_DNS_MSG_MAX) {
		struct sl_dns_addr cut[4];
		size_t n = size;
		int k2;

		memcpy(out, data, size);
		if (sl_dns_cap_ttls(out, &n, sizeof(out), 60) == 0) {
			k2 = sl_dns_answer_addrs(out, n, &fixed, cut, 4);
			if (k >= 0 && k2 != k)
				abort();
			for (int i = 0; i < k && i < k2; i++)
				if (cut[i].addr != addrs[i].addr || cut[i].ttl > 60)
					abort();
		}
		/* aged as the cache gives it: the same addresses, each TTL less, none wrapped */
		n = size;
		memcpy(out, data, size);
		if (sl_dns_age_ttls(out, &n, sizeof(out), 30) == 0) {
			k2 = sl_dns_answer_addrs(out, n, &fixed, cut, 4);
			if (k >= 0 && k2 != k)
				abort();
			for (int i = 0; i < k && i < k2; i++)
				if (cut[i].addr != addrs[i].addr || cut[i].ttl > addrs[i].ttl ||
				    (addrs[i].ttl >= 30 && cut[i].ttl != addrs[i].ttl - 30))
					abort();
		}
	}
	if (sl_dns_query_parse(msg, size, &q) == 0 && (q.qend < 17 || q.qend > size))
		abort(); /* the question lies inside the message */
	free(msg);
	return 0;
}
