/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "forward.h"
#include "unit.h"

void test_forward_parse(void);

/* sl-exec forward's [BIND:]LPORT:HOST:RPORT: what a user may write, and what is refused */
void test_forward_parse(void)
{
	static const char *const bad[] = { "", "8080", "8080:", "0:db:5432", "65536:db:5432",
					   "x:8080:db:5432", "1.2.3:8080:db:5432",
					   "a:b:c:d:e", "-1:db:5432", "8080x:db:5432", "8080::5432",
					   "8080:db:", "8080:db:x", "8080:db:70000", " 80:db:1" };
	struct sl_error err = { 0 };
	struct sl_fwd f;
	char a[INET_ADDRSTRLEN];

	CHECK(sl_forward_parse("8080:db:5432", &f, &err) == 0);
	CHECK_STR(f.bind, "127.0.0.1");
	CHECK_STR(f.target, "db:5432");
	CHECK(f.lport == 8080 && ntohs(f.sa.sin_port) == 8080);
	CHECK_STR(inet_ntop(AF_INET, &f.sa.sin_addr, a, sizeof(a)), "127.0.0.1");
	CHECK(sl_forward_parse("0.0.0.0:80:127.0.0.1:8000", &f, &err) == 0);
	CHECK_STR(f.bind, "0.0.0.0");
	CHECK_STR(f.target, "127.0.0.1:8000");
	CHECK(f.lport == 80);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		CHECK(sl_forward_parse(bad[i], &f, &err) == -EINVAL);
		CHECK(strstr(err.msg, "want [BIND:]LPORT:HOST:RPORT") != NULL);
	}
	{
		/* a HOST too long for the request is refused, not cut (the fuzzer's find) */
		char spec[400];

		snprintf(spec, sizeof(spec), "8080:%0*d:80", (int)sizeof(f.target), 0);
		CHECK(sl_forward_parse(spec, &f, &err) == -EINVAL);
		CHECK(strstr(err.msg, "HOST:RPORT is over") != NULL);
		snprintf(spec, sizeof(spec), "8080:%0*d:80", (int)sizeof(f.target) - 4, 0);
		CHECK(sl_forward_parse(spec, &f, &err) == 0 && strlen(f.target) == sizeof(f.target) - 1);
	}
}
