/* SPDX-License-Identifier: MIT */
#ifndef SL_VMNET_H
#define SL_VMNET_H

#include <stdint.h>

#include "kv.h"

/* Names inside a VM's namespace; one VM per namespace, so fixed. */
#define SL_VETH_NS_DEFAULT "veth0"
#define SL_TAP_DEFAULT "tap0"

/*
 * The namespace's default route goes "via" this address on the veth; it is
 * only a key into a permanent neighbour entry holding the host end's MAC,
 * so no address of any range is taken (DESIGN.md §2, docs/NETWORK.md).
 */
#define SL_NEXTHOP_LABEL 0xa9fe0001u /* 169.254.0.1 */

int sl_owned_netns(const char *name);
int sl_vm_netns_open(const char *name);

int sl_netns_add(const char *name, struct sl_kv *out);
int sl_netns_del(const char *name);
int sl_netns_check(const char *name);
int sl_netns_list(char ***names, size_t *n);

struct sl_veth_cfg {
	const char *name;    /* VM name = host end */
	const char *peer;    /* end in the namespace */
	uint32_t ip;         /* the VM's address */
	unsigned prefix;     /* its block, /30 */
};
int sl_veth_add(const struct sl_veth_cfg *c, struct sl_kv *out);
int sl_veth_del(const char *name);
int sl_veth_check(const struct sl_veth_cfg *c);

struct sl_tap_cfg {
	const char *name; /* VM name = namespace */
	const char *tap;
	uint32_t gw;
	unsigned prefix;
};
int sl_tap_create(const char *tap);
int sl_tap_add(const struct sl_tap_cfg *c, struct sl_kv *out);
int sl_tap_del(const char *name, const char *tap);
int sl_tap_check(const struct sl_tap_cfg *c);


#endif
