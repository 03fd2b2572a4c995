/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "nameserver.h"
#include "unit.h"

void test_dns_servers(void);

/* What --dns and --dns-upstream take: a list, Slicer's default, or none at all. */
void test_dns_servers(void)
{
	struct sl_error err = { 0 };
	char out[64];

	CHECK(sl_dns_servers(NULL, "--dns", out, sizeof(out), &err) == 0);
	CHECK_STR(out, "8.8.8.8,1.1.1.1");
	CHECK(sl_dns_servers("192.0.2.1 198.51.100.2", "--dns", out, sizeof(out), &err) == 0);
	CHECK_STR(out, "192.0.2.1,198.51.100.2");
	CHECK(sl_dns_servers("none", "--dns", out, sizeof(out), &err) == 0);
	CHECK_STR(out, "");
	CHECK(sl_dns_servers("127.0.0.1", "--dns", out, sizeof(out), &err) == 0);
	CHECK_STR(out, "");
	CHECK(sl_dns_servers("192.0.2.1,dns.test", "--dns-upstream", out, sizeof(out), &err) ==
	      -EINVAL);
	CHECK(strstr(sl_error_msg(&err, -EINVAL), "bad --dns-upstream 'dns.test'") != NULL);
	CHECK(sl_dns_servers("192.0.2.1,192.0.2.2,192.0.2.3", "--dns", out, 20, &err) == -EINVAL);
}
