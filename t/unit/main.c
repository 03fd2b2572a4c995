/* SPDX-License-Identifier: MIT */
/* Runs every unit test of t/unit/; closes with "N passed, N failed". */
#include <string.h>

#include "unit.h"

int unit_failed_checks;

#define T(f) void f(void);
#include "tests.def"
#undef T

static const struct unit_test tests[] = {
#define T(f) { #f, f },
#include "tests.def"
#undef T
};

int main(int argc, char **argv)
{
	int pass = 0, fail = 0;

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = unit_failed_checks;

		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		tests[i].fn();
		if (unit_failed_checks == before) {
			printf("ok %s\n", tests[i].name);
			pass++;
		} else {
			printf("not ok %s\n", tests[i].name);
			fail++;
		}
	}
	printf("unit: %d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
