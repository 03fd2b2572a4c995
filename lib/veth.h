/* SPDX-License-Identifier: MIT */
#ifndef SL_VETH_H
#define SL_VETH_H

#include <stdint.h>

#include "error.h"
#include "kv.h"

/* The VM's end, inside its namespace; one VM per namespace, so fixed. */
#define SL_VETH_NS_DEFAULT "veth0"

/*
 * The namespace's default route goes "via" this address on the veth; it is
 * only a key into a permanent neighbour entry holding the host end's MAC,
 * so no address of any range is taken (docs/DESIGN.md §2, docs/NETWORK.md).
 */
#define SL_NEXTHOP_LABEL 0xa9fe0001u /* 169.254.0.1 */

/* A VM's veth pair (sl-veth): the host end named as the VM. */
struct sl_veth_cfg {
	const char *name;    /* VM name = host end */
	const char *peer;    /* end in the namespace */
	uint32_t ip;         /* the VM's address */
	unsigned prefix;     /* its block, /30 */
};
int sl_veth_add(const struct sl_veth_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_veth_del(const char *name, struct sl_error *err);
int sl_veth_check(const struct sl_veth_cfg *c, struct sl_error *err);

#endif
