/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "copy.h"
#include "unit.h"

void test_copy_path_ok(void);
void test_copy_link_inside(void);

void test_copy_path_ok(void)
{
	CHECK(sl_copy_path_ok("loot", "loot"));
	CHECK(sl_copy_path_ok("loot/", "loot"));
	CHECK(sl_copy_path_ok("./loot/a/b", "loot"));
	CHECK(sl_copy_path_ok("loot//a/./b", "loot"));
	CHECK(!sl_copy_path_ok("/loot", "loot"));
	CHECK(!sl_copy_path_ok("loot/../x", "loot"));
	CHECK(!sl_copy_path_ok("loot/a/..", "loot"));
	CHECK(!sl_copy_path_ok("other", "loot"));
	CHECK(!sl_copy_path_ok("loots/a", "loot"));
	CHECK(!sl_copy_path_ok("", "loot"));
	CHECK(!sl_copy_path_ok(".", "loot"));
	CHECK(!sl_copy_path_ok("../loot", "loot"));
}

void test_copy_link_inside(void)
{
	CHECK(sl_copy_link_inside("loot/l", "f", "loot"));
	CHECK(sl_copy_link_inside("loot/l", "sub/f", "loot"));
	CHECK(sl_copy_link_inside("loot/sub/l", "../f", "loot"));
	CHECK(sl_copy_link_inside("loot/sub/l", "..", "loot"));
	CHECK(sl_copy_link_inside("loot/a/b/l", "../../x/y", "loot"));
	CHECK(!sl_copy_link_inside("loot/l", "..", "loot"));      /* the copy's parent */
	CHECK(!sl_copy_link_inside("loot/l", "../loot/f", "loot")); /* names the top */
	CHECK(!sl_copy_link_inside("loot/l", "/etc/passwd", "loot"));
	CHECK(!sl_copy_link_inside("loot/l", "/dev/zero", "loot"));
	CHECK(!sl_copy_link_inside("loot/l", "a/../..", "loot"));  /* .. after a name */
	CHECK(!sl_copy_link_inside("loot/l", "a/../f", "loot"));
	CHECK(!sl_copy_link_inside("loot/sub/l", "../../x", "loot"));
	CHECK(!sl_copy_link_inside("loot", "f", "loot"));          /* the top is no link */
	CHECK(!sl_copy_link_inside("loot/l", "", "loot"));
}
