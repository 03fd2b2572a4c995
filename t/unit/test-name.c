/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "name.h"
#include "unit.h"

void test_name_limits(void);
void test_ifname_derived(void);

/* A DNS label's 63 bytes; a derived interface name is never a VM name. */
void test_name_limits(void)
{
	char n[80];

	memset(n, 'a', 63);
	n[63] = '\0';
	CHECK(sl_name_check(n, NULL) == 0);
	n[63] = 'a';
	n[64] = '\0';
	CHECK(sl_name_check(n, NULL) == -ENAMETOOLONG);
	CHECK(sl_name_check("isolated-agents-1000", NULL) == 0);
	CHECK(sl_name_check("isolated+k870oq", NULL) == -EINVAL);
	CHECK(sl_name_check("", NULL) == -EINVAL);
	CHECK(sl_name_check("-a", NULL) == -EINVAL);
}

/* Short names are their own; long ones a readable head, '+', a stable hash. */
void test_ifname_derived(void)
{
	char a[SL_IFNAME_MAX + 1], b[SL_IFNAME_MAX + 1], name[80], seen[1000][SL_IFNAME_MAX + 1];

	sl_ifname("agents-1000", a);
	CHECK_STR(a, "agents-1000");
	sl_ifname("abcdefghijklmno", a); /* 15: fits */
	CHECK_STR(a, "abcdefghijklmno");
	sl_ifname("abcdefghijklmnop", a); /* 16: derived */
	CHECK(strlen(a) == SL_IFNAME_MAX && !strncmp(a, "abcdefgh", 8) && a[8] == SL_IFNAME_SEP);
	CHECK(strspn(a + 9, "0123456789abcdefghijklmnopqrstuv") == 6);
	sl_ifname("abcdefghijklmnop", b);
	CHECK_STR(a, b);
	/* names that share their first 15 bytes, and Slicer's own example: all apart */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "isolated-agents-%d", i + 1);
		sl_ifname(name, seen[i]);
		CHECK(sl_name_check(seen[i], NULL) < 0);
		for (int k = 0; k < i; k++)
			CHECK(strcmp(seen[i], seen[k]));
	}
}
