/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "kv.h"
#include "macvtap.h"
#include "unit.h"

void test_macvtap_mac(void);
void test_ipam_lan_lease(void);

/* The MAC is the name's: the same each time, local unicast, another for another. */
void test_macvtap_mac(void)
{
	uint8_t a[6], b[6], c[6];

	sl_macvtap_mac("lan-1", a);
	sl_macvtap_mac("lan-1", b);
	sl_macvtap_mac("lan-2", c);
	CHECK(!memcmp(a, b, 6));
	CHECK(memcmp(a, c, 6) != 0);
	CHECK(a[0] == 0x06 && c[0] == 0x06); /* locally administered, not multicast */
}

/*
 * A LAN lease (macvtap, sl-ipam --lan) is kept as such: the line says lan,
 * SL_MODE says macvtap when read back, and a bridge subnet on the same LAN
 * is another subnet's overlap, not a share.
 */
void test_ipam_lan_lease(void)
{
	char dir[] = "/tmp/sl-unit-ipam.XXXXXX", path[128], line[256] = "", cmd[64];
	struct sl_subnet_req q = { "198.51.100.10/24", NULL, "198.51.100.220-198.51.100.254",
				   true };
	struct sl_subnet_req br = { "198.51.100.1/24", NULL, NULL, false };
	struct sl_error err = { 0 };
	struct sl_kv out = { 0 }, again = { 0 }, other = { 0 };
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	setenv("SL_RUN_DIR", dir, 1);
	CHECK(sl_ipam_alloc_bridge(&q, "lan", "lan-1", &out, &err) == 0);
	CHECK_STR(sl_kv_get(&out, "SL_IP"), "198.51.100.220");
	CHECK_STR(sl_kv_get(&out, "SL_MODE"), "macvtap");
	snprintf(path, sizeof(path), "%s/ipam/leases", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(line, sizeof(line), f) != NULL);
		fclose(f);
	}
	CHECK_STR(line, "lan-1 lan 198.51.100.0/24 220 198.51.100.10 lan\n");
	/* read back from the file: the same lease, still macvtap */
	CHECK(sl_ipam_alloc_bridge(&q, "lan", "lan-1", &again, &err) == 0);
	CHECK_STR(sl_kv_get(&again, "SL_MODE"), "macvtap");
	CHECK(sl_ipam_alloc_bridge(&br, "web", "web-1", &other, &err) == -EADDRINUSE);
	CHECK(strstr(err.msg, "overlaps LAN subnet 198.51.100.0/24 in use by group lan") != NULL);
	sl_kv_free(&out);
	sl_kv_free(&again);
	sl_kv_free(&other);
	unsetenv("SL_RUN_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}
