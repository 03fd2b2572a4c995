/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "denials.h"
#include "unit.h"

void test_denial_round_trip(void);
void test_denial_parse_refuses(void);

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
