/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "nsident.h"
#include "unit.h"

void test_nsident_round_trip(void);
void test_nsident_of_files(void);

/* What the state keeps reads back the same; anything else is refused. */
void test_nsident_round_trip(void)
{
	struct sl_nsident id = { 4, 4026531840ull }, got;
	char buf[SL_NSIDENT_STRLEN];
	static const char *const bad[] = { "", ":", "4", "4:", ":4", "x:1", "4:1x", "4:0",
					   "-4:1", "4:-1", " 4:1", "4:1 ",
					   "99999999999999999999999:1" };

	CHECK_STR(sl_nsident_fmt(&id, buf), "4:4026531840");
	CHECK(sl_nsident_parse(buf, &got) == 0 && got.dev == 4 && got.ino == 4026531840ull);
	CHECK(sl_nsident_parse(NULL, &got) == -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(sl_nsident_parse(bad[i], &got) == -EINVAL);
}

/* Our own namespace is one; a plain file and a FIFO's kind are not. */
void test_nsident_of_files(void)
{
	struct sl_nsident id;
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0 && sl_nsident_fd(fd, &id) == 0 && id.ino != 0);
	if (fd >= 0)
		close(fd);
	/* the namespace this process is in: held, found at once by its path */
	fd = sl_nsident_find(&id, "/proc/self/ns/net", NULL);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && sl_nsident_fd(fd, &id) == -EINVAL);
	if (fd >= 0)
		close(fd);
	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && sl_nsident_fd(fd, &id) == -EINVAL);
	if (fd >= 0)
		close(fd);
}
