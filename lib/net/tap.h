/* SPDX-License-Identifier: MIT */
#ifndef SL_TAP_H
#define SL_TAP_H

#include <stdint.h>

#include "error.h"
#include "kv.h"

/* The TAP inside a VM's namespace; one VM per namespace, so fixed. */
#define SL_TAP_DEFAULT "tap0"

/* A VM's TAP (sl-tap): in its namespace, or on the host in bridge mode. */
struct sl_tap_cfg {
	const char *name; /* VM name = namespace */
	const char *tap;
	uint32_t gw;
	unsigned prefix;
};
int sl_tap_create(const char *tap, struct sl_error *err);
int sl_tap_add(const struct sl_tap_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_tap_wire(const char *name, const char *tap, const char *peer, struct sl_kv *out,
		struct sl_error *err);
int sl_tap_del(const char *name, const char *tap, struct sl_error *err);
int sl_tap_adopt(const char *name, const char *tap, uint32_t gw, unsigned prefix, int from_ns,
		 const char *from_tap, struct sl_error *err);
int sl_tap_check(const struct sl_tap_cfg *c, struct sl_error *err);

#endif
