/* SPDX-License-Identifier: MIT */
#ifndef SL_MACVTAP_H
#define SL_MACVTAP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"

/* A macvtap-mode VM's link: on a parent in the host namespace, bridge mode. */
struct sl_macvtap_cfg {
	const char *name;   /* VM */
	const char *tap;    /* the macvtap's name, default the VM's */
	const char *parent; /* the LAN interface it sits on */
};

void sl_macvtap_mac(const char *name, uint8_t mac[6]);
int sl_default_parent(char parent[16], struct sl_error *err);
int sl_macvtap_parent_ok(const char *parent, struct sl_error *err);
int sl_macvtap_add(const struct sl_macvtap_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_macvtap_del(const char *name, const char *tap, struct sl_error *err);
int sl_macvtap_check(const struct sl_macvtap_cfg *c, struct sl_error *err);
int sl_macvtap_open(const char *name, const char *tap, uint8_t mac[6], struct sl_error *err);

#endif
