/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "denials.h"
#include "unit.h"

void test_denial_round_trip(void);
void test_denial_parse_refuses(void);
void test_denial_suppressed(void);

void test_denial_round_trip(void)
{
	struct sl_denial d = { "2026-11-29T10:00:00Z", "vm-1", "tcp", "198.51.100.10", 443, "10.0.0.0/8" };
	struct sl_denial back;
	char line[SL_DENIAL_LINE_MAX];

	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK_STR(line, "2026-11-29T10:00:00Z vm-1 tcp 198.51.100.10:443 denied by 10.0.0.0/8\n");
	CHECK(sl_denial_parse(line, &back) == 0);
	CHECK_STR(back.time, d.time);
	CHECK_STR(back.vm, d.vm);
	CHECK_STR(back.proto, d.proto);
	CHECK_STR(back.dest, d.dest);
	CHECK(back.port == d.port);
	CHECK_STR(back.entry, d.entry);

	/* a name a guest asked for: spaces, a newline, control bytes become one word */
	memset(&d, 0, sizeof(d));
	strcpy(d.time, "2026-11-29T10:00:01Z");
	strcpy(d.vm, "vm-1");
	strcpy(d.proto, "dns");
	strcpy(d.dest, "a b\nc\x01.test:53");
	strcpy(d.entry, "default");
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK_STR(line, "2026-11-29T10:00:01Z vm-1 dns a?b?c?.test:53 denied by default\n");
	CHECK(sl_denial_parse(line, &back) == 0);
	CHECK_STR(back.dest, "a?b?c?.test:53"); /* a name has no port */
	CHECK(back.port == 0);

	/* the longest of every field still fits a line */
	memset(d.dest, 'x', sizeof(d.dest) - 1);
	memset(d.entry, 'y', sizeof(d.entry) - 1);
	memset(d.vm, 'z', sizeof(d.vm) - 1);
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK(sl_denial_parse(line, &back) == 0);
	CHECK(strlen(back.dest) == sizeof(d.dest) - 1);
	/* an empty field is a dash, never a missing word */
	d.dest[0] = '\0';
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK(sl_denial_parse(line, &back) == 0);
	CHECK_STR(back.dest, "-");

	/* found by fuzz/denial-fuzz: every line fmt writes reads back */
	memset(d.dest, 'x', sizeof(d.dest) - 1); /* the longest address, and a port */
	strcpy(d.proto, "tcp");
	d.port = 65535;
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK(sl_denial_parse(line, &back) == 0 && back.port == 65535);
	CHECK(strlen(back.dest) == sizeof(d.dest) - 1);
	strcpy(d.dest, "a:b"); /* a colon of a packet's address is not its port */
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK(sl_denial_parse(line, &back) == 0);
	CHECK_STR(back.dest, "a?b");
	strcpy(d.proto, "dns"); /* a name has no port */
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK(sl_denial_parse(line, &back) == 0 && back.port == 0);
	CHECK_STR(back.dest, "a:b");
}

void test_denial_parse_refuses(void)
{
	struct sl_denial d;

	CHECK(sl_denial_parse("", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4 denied\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4 dropped by x\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4:0 denied by x\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4:65536 denied by x\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4:80x denied by x\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4: denied by x\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4 denied by x trailing\n", &d) < 0);
	CHECK(sl_denial_parse("2026 vm tcp 1.2.3.4:80 denied by x", &d) == 0 && d.port == 80);
	CHECK(sl_denial_parse("2026 vm icmp 1.2.3.4 denied by spoofed\n", &d) == 0 && d.port == 0);
}

/* lines of FILE in the VM's dir, each parsed into v[] */
static int read_log(const char *dir, struct sl_denial *v, int max)
{
	char path[256], line[SL_DENIAL_LINE_MAX];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/vm-1/dns.log", dir);
	if (!(f = fopen(path, "r")))
		return 0;
	while (n < max && fgets(line, sizeof(line), f))
		CHECK(sl_denial_parse(line, &v[n++]) == 0);
	fclose(f);
	return n;
}

/* A flood: the burst, then a count of the rest before the next line written. */
void test_denial_suppressed(void)
{
	char dir[] = "/tmp/sl-unit-denials.XXXXXX", path[128], cmd[64], line[SL_DENIAL_LINE_MAX];
	struct sl_denial d = { "2026-12-05T00:00:00Z", "vm-1", "dns", "x.test", 0, "default" };
	struct sl_denial_rate rt = { 0 };
	struct sl_denial v[32], back;
	int n;

	/* the line itself: written and read back */
	d.suppressed = 1234;
	CHECK(sl_denial_fmt(&d, line, sizeof(line)) == 0);
	CHECK_STR(line, "2026-12-05T00:00:00Z vm-1 dns 1234 suppressed\n");
	CHECK(sl_denial_parse(line, &back) == 0 && back.suppressed == 1234);
	CHECK(sl_denial_parse("2026 vm-1 dns 0 suppressed\n", &back) < 0);
	CHECK(sl_denial_parse("2026 vm-1 dns 012 suppressed\n", &back) < 0);
	d.suppressed = 0;

	CHECK(mkdtemp(dir) != NULL);
	setenv("SL_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/vm-1", dir);
	CHECK(mkdir(path, 0700) == 0);
	for (int i = 0; i < 100; i++)
		CHECK(sl_denial_append_limited("vm-1", SL_DNS_LOG, &rt, &d, 1000) == 0);
	n = read_log(dir, v, 32);
	CHECK(n == SL_DENIAL_BURST);
	/* nothing to say yet: no room */
	CHECK(sl_denial_flush("vm-1", SL_DNS_LOG, &rt, 1000) == 0);
	CHECK(read_log(dir, v, 32) == SL_DENIAL_BURST);
	/* a second on: the count first, then the line */
	CHECK(sl_denial_append_limited("vm-1", SL_DNS_LOG, &rt, &d, 2000) == 0);
	n = read_log(dir, v, 32);
	CHECK(n == SL_DENIAL_BURST + 2);
	CHECK(v[SL_DENIAL_BURST].suppressed == 100 - SL_DENIAL_BURST);
	CHECK_STR(v[SL_DENIAL_BURST].proto, "dns");
	CHECK(!v[SL_DENIAL_BURST + 1].suppressed);
	/* a count with nothing after it is said once there is room */
	for (int i = 0; i < 20; i++)
		sl_denial_append_limited("vm-1", SL_DNS_LOG, &rt, &d, 2000);
	CHECK(sl_denial_flush("vm-1", SL_DNS_LOG, &rt, 3000) == 0);
	n = read_log(dir, v, 32);
	CHECK(n >= 1 && v[n - 1].suppressed > 0);
	unsetenv("SL_RUN_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}
