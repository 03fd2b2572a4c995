/* SPDX-License-Identifier: MIT */
#ifndef SL_MODE_H
#define SL_MODE_H

#include <stdbool.h>

/*
 * A VM's network mode, the one type every layer branches on (the config,
 * sl-up's plan, sl-tap, sl-boot); SL_MODE=NAME is its form in env and state
 * files, read and written only through sl_mode_parse() and sl_mode_name().
 */
enum sl_net_mode { SL_NET_ISOLATED, SL_NET_BRIDGE, SL_NET_MACVTAP, SL_NET_CNI };

/* Bridge and macvtap VMs have no namespace: their link and QEMU are the host's. */
static inline bool sl_mode_on_host(enum sl_net_mode m)
{
	return m == SL_NET_BRIDGE || m == SL_NET_MACVTAP;
}

const char *sl_mode_name(enum sl_net_mode m);
int sl_mode_parse(const char *s, enum sl_net_mode *m);

#endif
