/* SPDX-License-Identifier: MIT */
#ifndef SL_VETH_H
#define SL_VETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"
#include "name.h"

struct sl_link;

/* The VM's end, inside its namespace; one VM per namespace, so fixed. */
#define SL_VETH_NS_DEFAULT "veth0"

/*
 * The namespace's default route goes "via" this address on the veth; it is
 * only a key into a permanent neighbour entry holding the host end's MAC,
 * so no address of any range is taken (docs/DESIGN.md §2, docs/NETWORK.md).
 */
#define SL_NEXTHOP_LABEL 0xa9fe0001u /* 169.254.0.1 */

/* A VM's veth pair (sl-veth): the host end named as the VM (sl_ifname()). */
struct sl_veth_cfg {
	const char *name;    /* VM name; the host end is sl_ifname() of it */
	const char *peer;    /* end in the namespace */
	uint32_t ip;         /* the VM's address */
	unsigned prefix;     /* its block, /30 */
};
int sl_veth_add(const struct sl_veth_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_veth_del(const char *name, struct sl_error *err);
int sl_veth_check(const struct sl_veth_cfg *c, struct sl_error *err);
void sl_veth_host(const char *name, char ifname[SL_IFNAME_MAX + 1], char *alias, size_t len);
bool sl_veth_host_ours(const char *name, const struct sl_link *h);

#endif
