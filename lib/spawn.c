/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close-on-exec for [lo, hi]; the child keeps using them until it execs. */
static void cloexec_range(unsigned lo, unsigned hi)
{
	if (lo <= hi)
		syscall(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC);
}

/**
 * sl_child_clean() - make a forked child start its program clean
 * @keep: descriptors above 2 the program is meant to have
 * @nkeep: how many
 *
 * Call in the child just before exec: every other descriptor above 2 is
 * marked close-on-exec (whatever the caller's caller left open), every
 * signal's disposition goes back to its default (an ignored SIGPIPE or
 * SIGINT survives exec otherwise) and the signal mask is emptied (a
 * mask survives exec too: a parent that blocked SIGTERM would leave its
 * child deaf to it). As crun's mark_or_close_fds_ge_than() and
 * unblock_signals(), and skalibs' spawn with no blocked signals.
 */
void sl_child_clean(const int *keep, size_t nkeep)
{
	int k[16] = { 0 };
	size_t n = 0;
	unsigned next = 3;
	sigset_t all;

	for (size_t i = 0; i < nkeep && n < 16; i++)
		if (keep[i] > 2)
			k[n++] = keep[i];
	qsort(k, n, sizeof(k[0]), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)k[i] > next)
			cloexec_range(next, (unsigned)k[i] - 1);
		if ((unsigned)k[i] >= next)
			next = (unsigned)k[i] + 1;
	}
	cloexec_range(next, ~0u);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL); /* fails harmlessly for 32, 33 (glibc's own) */
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}
