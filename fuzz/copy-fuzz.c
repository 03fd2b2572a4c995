/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for copy-out (lib/vm/copy.c, as libexec/sl-unpack runs
 * it): a tar stream as a hostile
 * guest could send it, unpacked into a scratch directory, and then the
 * promise checked: nothing but regular files, directories and links,
 * no set-id or sticky bit, no link that leads out, nothing outside.
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "file.h"

static char top[PATH_MAX];

static int vet(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode))
		abort(); /* a device, FIFO or socket was made */
	if (st->st_mode & 07000)
		abort(); /* a set-id or sticky bit survived */
	if (S_ISLNK(st->st_mode)) {
		char real[PATH_MAX];

		/* a link that resolves must resolve inside the scratch directory */
		if (realpath(path, real) && strncmp(real, top, strlen(top)))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sl_copy_limits lim = { .max_bytes = 1 << 20, .max_entries = 64 };
	struct sl_error err; /* its messages are built from the stream: formatted here too */
	char dir[] = "/tmp/sl-copy-fuzz.XXXXXX", inner[PATH_MAX];
	int fd = memfd_create("tar", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) < 0 ||
	    !mkdtemp(dir))
		abort();
	/* the copy's parent holds only the copy: anything beside it escaped */
	snprintf(inner, sizeof(inner), "%s/in", dir);
	if (mkdir(inner, 0700) < 0 || !realpath(inner, top))
		abort();
	sl_copy_unpack(fd, inner, "loot", &lim, &err);
	close(fd);
	nftw(dir, vet, 16, FTW_PHYS);
	{
		char beside[PATH_MAX + 8];
		struct stat st;

		snprintf(beside, sizeof(beside), "%s/loot", dir);
		if (lstat(beside, &st) == 0)
			abort();
	}
	sl_remove_tree(dir);
	return 0;
}
