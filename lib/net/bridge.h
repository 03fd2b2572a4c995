/* SPDX-License-Identifier: MIT */
#ifndef SL_BRIDGE_H
#define SL_BRIDGE_H

#include <stdint.h>

#include "error.h"
#include "kv.h"

/* Slicer's default bridge name. */
#define SL_BRIDGE_DEFAULT "brvm0"

/* A bridge-mode VM's TAP: in the host namespace, a port of the bridge. */
struct sl_port_cfg {
	const char *name;   /* VM */
	const char *tap;    /* TAP name, default the VM's name */
	const char *bridge; /* the bridge, made on first use */
	uint32_t gw;        /* the bridge's address */
	unsigned prefix;
};

int sl_bridge_usable(const char *bridge, uint32_t gw, unsigned prefix, struct sl_error *err);
int sl_port_add(const struct sl_port_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_port_del(const char *name, const char *tap, const char *bridge, struct sl_error *err);
int sl_port_check(const struct sl_port_cfg *c, struct sl_error *err);

#endif
