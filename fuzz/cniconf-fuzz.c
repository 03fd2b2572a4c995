/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for sl-cni's network config reader (lib/net/cni-plugin.c):
 * runtimes hand the plugin whatever an admin or a job wrote. It must
 * answer every input with success or one of the codes sl-cni documents
 * for a config (1, 6, 7), never crash, and never accept more entries than
 * a list may hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni-plugin.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *conf = malloc(size + 1);

	if (!conf)
		return 0;
	memcpy(conf, data, size);
	conf[size] = '\0';
	for (int add = 0; add < 2; add++) {
		size_t na = 0, nd = 0;
		int code = sl_cniplug_conf_parse(conf, add, &na, &nd, NULL);

		if (code != 0 && code != SL_CNI_E_VERSION && code != SL_CNI_E_DECODE &&
		    code != SL_CNI_E_CONFIG)
			abort();
		if (code == 0 && (na > SL_POLICY_MAX_ENTRIES || nd > SL_POLICY_MAX_ENTRIES))
			abort();
	}
	free(conf);
	return 0;
}
