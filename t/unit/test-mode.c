/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "mode.h"
#include "unit.h"

void test_mode_round_trip(void);

/* SL_MODE's four names, each read back as itself; anything else refused, the result untouched */
void test_mode_round_trip(void)
{
	enum sl_net_mode m;

	for (int i = SL_NET_ISOLATED; i <= SL_NET_CNI; i++) {
		m = SL_NET_ISOLATED;
		CHECK(sl_mode_parse(sl_mode_name((enum sl_net_mode)i), &m) == 0);
		CHECK(m == (enum sl_net_mode)i);
	}
	CHECK_STR(sl_mode_name(SL_NET_MACVTAP), "macvtap");
	m = SL_NET_BRIDGE;
	CHECK(sl_mode_parse("Bridge", &m) == -EINVAL);
	CHECK(sl_mode_parse("", &m) == -EINVAL);
	CHECK(sl_mode_parse(NULL, &m) == -EINVAL);
	CHECK(sl_mode_parse("isolated ", &m) == -EINVAL);
	CHECK(m == SL_NET_BRIDGE);
	CHECK(sl_mode_on_host(SL_NET_BRIDGE) && sl_mode_on_host(SL_NET_MACVTAP));
	CHECK(!sl_mode_on_host(SL_NET_ISOLATED) && !sl_mode_on_host(SL_NET_CNI));
}
