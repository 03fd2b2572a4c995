/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "snapshot.h"
#include "unit.h"

void test_ram_maps_line(void);

/* A restored VM's RAM found in QEMU's maps: its file's private mappings only. */
void test_ram_maps_line(void)
{
	const char *f = "/dev/shm/run/.templates/g/k/memory";
	struct sl_ram_vma v;

	CHECK(sl_ram_maps_line("7f144ffff000-7f145ffff000 rw-p 00000000 00:1b 3450"
			       "                       /dev/shm/run/.templates/g/k/memory\n",
			       f, &v));
	CHECK(v.start == 0x7f144ffff000UL && v.end == 0x7f145ffff000UL && v.off == 0);
	/* a second part of a mapping QEMU split, and one whose file was removed */
	CHECK(sl_ram_maps_line("7f1460000000-7f1468000000 rw-p 08000000 00:1b 3450 "
			       "/dev/shm/run/.templates/g/k/memory (deleted)",
			       f, &v));
	CHECK(v.start == 0x7f1460000000UL && v.off == 0x08000000);
	/* shared, another file, a name that only begins the same, anonymous memory */
	CHECK(!sl_ram_maps_line("7f144ffff000-7f145ffff000 rw-s 00000000 00:1b 3450 "
				"/dev/shm/run/.templates/g/k/memory",
				f, &v));
	CHECK(!sl_ram_maps_line("7f144ffff000-7f145ffff000 rw-p 00000000 00:1b 3451 "
				"/dev/shm/run/.templates/g/k/memory2",
				f, &v));
	CHECK(!sl_ram_maps_line("7f144ffff000-7f145ffff000 rw-p 00000000 00:00 0 ", f, &v));
	CHECK(!sl_ram_maps_line("garbage", f, &v));
	CHECK(!sl_ram_maps_line("", f, &v));
	/* a path with spaces is the path */
	CHECK(sl_ram_maps_line("1000-2000 r--p 00001000 fe:00 12 /a b/memory\n", "/a b/memory", &v));
	CHECK(v.off == 0x1000);
}
