/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the CNI result reader (lib/net/cni-run.c): plugins are not
 * ours, and what they print on stdout becomes a guest's address, gateway
 * and name servers. Whatever it accepts is an address, a gateway, a prefix
 * of 1..31 and a list of addresses, each of which parses again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "cni-run.h"
#include "kv.h"

static void is_ip(const char *s)
{
	uint32_t ip;

	if (!s || sl_ip_parse(s, &ip) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_kv out = { 0 };
	char *json = malloc(size + 1);

	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	if (sl_cni_result_parse(json, &out, NULL) == 0) {
		const char *p = sl_kv_get(&out, "SL_PREFIX"), *dns = sl_kv_get(&out, "SL_DNS");
		long prefix = p ? strtol(p, NULL, 10) : -1;

		is_ip(sl_kv_get(&out, "SL_IP"));
		is_ip(sl_kv_get(&out, "SL_GW"));
		if (prefix < 1 || prefix > 31)
			abort();
		if (dns) {
			char *copy = strdup(dns), *save = NULL;

			for (char *s = strtok_r(copy, ",", &save); s;
			     s = strtok_r(NULL, ",", &save))
				is_ip(s);
			free(copy);
		}
	}
	sl_kv_free(&out);
	free(json);
	return 0;
}
