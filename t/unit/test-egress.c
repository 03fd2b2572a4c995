/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "egress.h"
#include "unit.h"

void test_host_comment_run_dir(void);

void test_host_comment_run_dir(void)
{
	struct sl_cidr r, got;
	char cm[SL_HOST_COMMENT_LEN], other[SL_HOST_COMMENT_LEN], longdir[400];

	CHECK(sl_cidr_parse("169.254.100.0/22", &r) == 0);
	setenv("SL_RUN_DIR", "/run/sl-a", 1);
	sl_egress_host_comment(&r, cm, sizeof(cm));
	CHECK_STR(cm, "sl:169.254.100.0/22 /run/sl-a");
	CHECK(sl_egress_host_comment_range(cm, &got) && got.addr == r.addr && got.prefix == 22);
	CHECK(!sl_egress_host_comment_range("sl:169.254.100.0/22", &got)); /* untagged: nobody's */
	CHECK(!sl_egress_host_comment_range("sl:169.254.100.0/22 /run/sl-ab", &got));
	setenv("SL_RUN_DIR", "/run/sl-b", 1);
	sl_egress_host_comment(&r, other, sizeof(other));
	CHECK(!sl_egress_host_comment_range(cm, &got)); /* a's rule, seen from b */
	CHECK(sl_egress_host_comment_range(other, &got));
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv("SL_RUN_DIR", longdir, 1);
	sl_egress_host_comment(&r, cm, sizeof(cm));
	CHECK(strlen(cm) < 64 && strstr(cm, " #"));
	CHECK(sl_egress_host_comment_range(cm, &got));
	unsetenv("SL_RUN_DIR");
}
