/* SPDX-License-Identifier: MIT */
/*
 * sl-unpack: copy-out's unpacker (lib/vm/copy.c) in a process of its own.
 * Not run by hand: sl-exec cp runs `sl-unpack DIR ROOT MAX_BYTES
 * MAX_ENTRIES` with the guest's tar stream on stdin. Apart, so that sl-exec
 * does not load libarchive and the 17 libraries it brings on every call,
 * and so that the code a hostile guest's stream reaches runs in a process
 * that holds nothing else of ours, and no capability.
 * Exit status: 0 every member passed; 1 refused or failed, the reason on
 * stderr; 2 bad use.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "copy.h"
#include "log.h"

/* A bound as sl-exec wrote it: decimal, whole. */
static int bound(const char *s, uint64_t *v)
{
	char *end = NULL;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

/*
 * Root with no capability left: it writes in the directory sl-exec made
 * for it (root's own), and can no longer chown, make device nodes, pass
 * a permission check or gain a privilege by exec, whatever the stream makes
 * libarchive do.
 */
static int drop_privileges(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* (a root without CAP_SETPCAP, in a container, keeps its bounding set:
	 * no new privileges makes it moot for an exec) */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			return -errno;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct sl_copy_limits lim;
	struct sl_error err = { 0 };
	int r;

	sl_log_init(argv[0]);
	if (argc != 5 || bound(argv[3], &lim.max_bytes) < 0 || bound(argv[4], &lim.max_entries) < 0)
		sl_die(2, "usage: sl-unpack DIR ROOT MAX_BYTES MAX_ENTRIES < TAR (run by sl-exec cp)");
	if ((r = drop_privileges()) < 0) {
		fprintf(stderr, "cannot drop privileges: %s\n", strerror(-r));
		return 1;
	}
	r = sl_copy_unpack(0, argv[1], argv[2], &lim, &err);
	if (r < 0) {
		/* the message alone: sl-exec says whose copy it was */
		fprintf(stderr, "%s\n", sl_error_msg(&err, r));
		return 1;
	}
	return 0;
}
