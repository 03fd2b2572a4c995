/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cidr.h"
#include "unit.h"

void test_cidr_parse(void);
void test_cidr_ranges(void);

void test_cidr_parse(void)
{
	struct sl_cidr c;
	char b[SL_CIDR_STRLEN];

	CHECK(sl_cidr_parse("169.254.100.0/22", &c) == 0 && c.prefix == 22);
	CHECK_STR(sl_cidr_fmt(&c, b), "169.254.100.0/22");
	CHECK(sl_cidr_parse("10.0.0.1", &c) == 0 && c.prefix == 32);
	CHECK(sl_cidr_parse("10.0.0.1/8", &c) < 0); /* host bits */
	CHECK(sl_cidr_parse("10.1", &c) < 0);
	CHECK(sl_cidr_parse("0x0a.1.1.1", &c) < 0);
	CHECK(sl_cidr_parse("256.1.1.1", &c) < 0);
	CHECK(sl_cidr_parse("1.1.1.1/33", &c) < 0);
	CHECK(sl_cidr_parse("1.1.1.1/", &c) < 0);
}

void test_cidr_ranges(void)
{
	struct sl_cidr r, blk, other;

	CHECK(sl_cidr_parse("169.254.100.0/22", &r) == 0);
	CHECK(sl_range_blocks(&r) == 256);
	sl_range_block(&r, 1, &blk);
	CHECK(blk.addr == 0xa9fe6404 && blk.prefix == 30);
	CHECK(sl_cidr_parse("169.254.104.0/22", &other) == 0 && !sl_cidr_overlap(&r, &other));
	CHECK(sl_cidr_parse("169.254.96.0/21", &other) == 0 && sl_cidr_overlap(&r, &other));
	CHECK(sl_cidr_contains(&r, 0xa9fe67ff) && !sl_cidr_contains(&r, 0xa9fe6800));
}
