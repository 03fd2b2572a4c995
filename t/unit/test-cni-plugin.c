/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cni-plugin.h"
#include "unit.h"

void test_cniplug_attachment_name(void);
void test_cniplug_conf(void);

/* One name per (network, container, ifname): an interface name, the same every time. */
void test_cniplug_attachment_name(void)
{
	char a[16], b[16], c[16], d[16], e[16];

	sl_cniplug_attachment_name("net", "c1", "eth0", a);
	sl_cniplug_attachment_name("net", "c1", "eth0", b);
	sl_cniplug_attachment_name("net", "c1", "eth1", c);
	sl_cniplug_attachment_name("net", "c2", "eth0", d);
	sl_cniplug_attachment_name("other", "c1", "eth0", e);
	CHECK(strlen(a) == 15 && !strncmp(a, "sc-", 3));
	CHECK(strspn(a + 3, "0123456789abcdef") == 12);
	CHECK_STR(a, b);
	CHECK(strcmp(a, c) && strcmp(a, d) && strcmp(a, e));
	/* the separator keeps "n"+"et" and "ne"+"t" apart */
	sl_cniplug_attachment_name("n", "etc1", "eth0", b);
	sl_cniplug_attachment_name("ne", "tc1", "eth0", c);
	CHECK(strcmp(b, c));
}

/* What a network config must be, and the CNI code for what it is not. */
void test_cniplug_conf(void)
{
	static const struct {
		const char *conf;
		int add_code, del_code;
		size_t nallow, ndrop;
	} cases[] = {
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\","
		  "\"allow\":[\"203.0.113.0/24:443\"],\"drop\":[\"10.0.0.0/8\",\"10.1.0.0/16:1-1024\"]}",
		  0, 0, 1, 2 },
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"ipam\":{\"type\":\"host-local\"}}", 0, 0, 0, 0 },
		/* DEL, CHECK, GC need no address source */
		{ "{\"cniVersion\":\"1.1.0\",\"name\":\"n\"}", SL_CNI_E_CONFIG, 0, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\","
		  "\"ipam\":{\"type\":\"host-local\"}}", SL_CNI_E_CONFIG, 0, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"subnet\":\"x\"}}", SL_CNI_E_CONFIG,
		  SL_CNI_E_CONFIG, 0, 0 },
		{ "{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\"}", SL_CNI_E_VERSION,
		  SL_CNI_E_VERSION, 0, 0 },
		{ "{\"name\":\"n\"}", SL_CNI_E_VERSION, SL_CNI_E_VERSION, 0, 0 },
		{ "[1]", SL_CNI_E_DECODE, SL_CNI_E_DECODE, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",", SL_CNI_E_DECODE, SL_CNI_E_DECODE, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"a b\"}", SL_CNI_E_CONFIG, SL_CNI_E_CONFIG, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\",\"allow\":\"x\"}",
		  SL_CNI_E_CONFIG, SL_CNI_E_CONFIG, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\",\"allow\":[7]}",
		  SL_CNI_E_CONFIG, SL_CNI_E_CONFIG, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\","
		  "\"allow\":[\"*.example.com\"]}", SL_CNI_E_CONFIG, SL_CNI_E_CONFIG, 0, 0 },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"range\":\"192.0.2.0/24\","
		  "\"drop\":[\"example.com\"]}", SL_CNI_E_CONFIG, SL_CNI_E_CONFIG, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t na = 99, nd = 99;
		struct sl_error err = { 0 };
		int code = sl_cniplug_conf_parse(cases[i].conf, true, &na, &nd, &err);

		CHECK(code == cases[i].add_code);
		CHECK(code == 0 || err.msg[0]);
		if (code == 0)
			CHECK(na == cases[i].nallow && nd == cases[i].ndrop);
		CHECK(sl_cniplug_conf_parse(cases[i].conf, false, &na, &nd, NULL) == cases[i].del_code);
	}
}
