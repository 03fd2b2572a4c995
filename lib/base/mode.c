// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "mode.h"
#include "util.h"

static const char *const names[] = { [SL_NET_ISOLATED] = "isolated",
				     [SL_NET_BRIDGE] = "bridge",
				     [SL_NET_MACVTAP] = "macvtap",
				     [SL_NET_CNI] = "cni" };

/**
 * sl_mode_name() - a mode as SL_MODE writes it
 * @m: the mode
 *
 * Return: "isolated", "bridge", "macvtap" or "cni"
 */
const char *sl_mode_name(enum sl_net_mode m)
{
	return (unsigned)m < ARRAY_SIZE(names) ? names[m] : "isolated";
}

/**
 * sl_mode_parse() - SL_MODE's value as a mode
 * @s: "isolated", "bridge", "macvtap" or "cni"
 * @m: the mode, when it is one
 *
 * Return: 0, or -EINVAL (the caller names the input it came from)
 */
int sl_mode_parse(const char *s, enum sl_net_mode *m)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*m = (enum sl_net_mode)i;
			return 0;
		}
	return -EINVAL;
}
