/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "cni-run.h"
#include "kv.h"
#include "unit.h"

void test_cni_result(void);
void test_cni_result_refuses(void);

/* What the guest gets from a CNI result, as the reference plugins write them. */
void test_cni_result(void)
{
	struct sl_kv a = { 0 }, b = { 0 }, c = { 0 };
	struct sl_error err = { 0 };

	/* bridge + host-local, 1.0.0: ips[].gateway; an IPv6 server is not the guest's */
	CHECK(sl_cni_result_parse("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"interface\":0,"
				  "\"address\":\"192.0.2.2/25\",\"gateway\":\"192.0.2.1\"}],"
				  "\"dns\":{\"nameservers\":[\"192.0.2.53\",\"2001:db8::1\","
				  "\"198.51.100.53\"]}}",
				  &a, &err) == 0);
	CHECK_STR(sl_kv_get(&a, "SL_IP"), "192.0.2.2");
	CHECK_STR(sl_kv_get(&a, "SL_GW"), "192.0.2.1");
	CHECK_STR(sl_kv_get(&a, "SL_PREFIX"), "25");
	CHECK_STR(sl_kv_get(&a, "SL_DNS"), "192.0.2.53,198.51.100.53");
	/* 0.4.0 without a gateway in ips: the default route's */
	CHECK(sl_cni_result_parse("{\"ips\":[{\"version\":\"4\",\"address\":\"192.0.2.130/25\"}],"
				  "\"routes\":[{\"dst\":\"192.0.2.0/24\",\"gw\":\"192.0.2.1\"},"
				  "{\"dst\":\"0.0.0.0/0\",\"gw\":\"192.0.2.129\"}]}",
				  &b, &err) == 0);
	CHECK_STR(sl_kv_get(&b, "SL_GW"), "192.0.2.129");
	CHECK(sl_kv_get(&b, "SL_DNS") == NULL);
	/* an IPv6 address first: the first IPv4 one is the VM's */
	CHECK(sl_cni_result_parse("{\"ips\":[{\"address\":\"2001:db8::2/64\"},{\"address\":"
				  "\"10.1.2.3/8\",\"gateway\":\"10.0.0.1\"}]}",
				  &c, &err) == 0);
	CHECK_STR(sl_kv_get(&c, "SL_IP"), "10.1.2.3");
	sl_kv_free(&a);
	sl_kv_free(&b);
	sl_kv_free(&c);
}

/* Plugins are not ours: what a guest cannot use is said, not passed on. */
void test_cni_result_refuses(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"ips\":[]}",
		"{\"ips\":[{\"address\":\"192.0.2.2\"}]}",
		"{\"ips\":[{\"address\":\"192.0.2.2/24\"}]}", /* no gateway at all */
		"{\"ips\":[{\"address\":\"192.0.2.2/32\",\"gateway\":\"192.0.2.1\"}]}",
		"{\"ips\":[{\"address\":7,\"gateway\":\"192.0.2.1\"}]}",
		"{\"ips\":[{\"address\":\"192.0.2.2/24\",\"gateway\":\"x\"}]}",
		NULL
	};

	for (const char *const *b = bad; *b; b++) {
		struct sl_kv out = { 0 };
		struct sl_error err = { 0 };

		CHECK(sl_cni_result_parse(*b, &out, &err) == -EINVAL);
		CHECK(err.msg[0] != '\0');
		sl_kv_free(&out);
	}
}
