/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
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

/* In the child: its standard fds and environment as @s says, then the program. */
static void __attribute__((noreturn)) child_exec(const struct sl_spawn *s, int capture,
						 pid_t parent)
{
	int nul = -1;

	/* the parent may be gone already: then it never gets the signal */
	if (s->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
		_exit(127);
	for (int i = 0; i < 3; i++) {
		int fd = s->fd[i] == SL_SPAWN_CAPTURE ? capture : s->fd[i];

		if (fd == SL_SPAWN_NULL) {
			if (nul < 0 && (nul = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				_exit(127);
			fd = nul;
		}
		if (fd >= 0 && fd != i && dup2(fd, i) < 0)
			_exit(127);
	}
	for (const char *const *e = s->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		char key[256];

		if (!eq) {
			unsetenv(*e);
		} else if ((size_t)(eq - *e) < sizeof(key)) {
			memcpy(key, *e, (size_t)(eq - *e));
			key[eq - *e] = '\0';
			setenv(key, eq + 1, 1);
		}
	}
	sl_child_clean(NULL, 0);
	if (s->search)
		execvp(s->path, s->argv);
	else
		execv(s->path, s->argv);
	dprintf(2, "cannot run %s: %s\n", s->path, strerror(errno));
	_exit(127);
}

/**
 * sl_spawn_start() - start a program, clean (sl_child_clean())
 * @s: what, and where its standard fds go
 * @capture: the reading end of the stream @s captures, or -1 (close-on-exec)
 *
 * Return: the child's pid, or -errno (nothing started, nothing left open)
 */
pid_t sl_spawn_start(const struct sl_spawn *s, int *capture)
{
	bool cap = s->fd[0] == SL_SPAWN_CAPTURE || s->fd[1] == SL_SPAWN_CAPTURE ||
		   s->fd[2] == SL_SPAWN_CAPTURE;
	int p[2] = { -1, -1 }, e;
	pid_t pid, self = getpid();

	*capture = -1;
	if (cap && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL); /* not twice: the child's copy of stdio's buffers is never flushed */
	pid = fork();
	if (pid == 0)
		child_exec(s, p[1], self);
	e = errno;
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0) {
		if (p[0] >= 0)
			close(p[0]);
		return -e;
	}
	*capture = p[0];
	return pid;
}

/**
 * sl_spawn_wait() - reap a child
 * @pid: from sl_spawn_start()
 *
 * Return: its exit status, 128+N for signal N, or -errno
 */
int sl_spawn_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One read of the captured stream into @o; 0 at its end, 1 for more, or -errno. */
static int take(int fd, struct sl_spawn_out *o)
{
	char sink[4096];
	size_t room = o->max - o->len;
	ssize_t n = room ? read(fd, o->buf + o->len, room) : read(fd, sink, sizeof(sink));

	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	if (room)
		o->len += (size_t)n;
	if (o->keep_tail && o->len == o->max) {
		/* full: its second half stays, so the child never meets a closed pipe */
		memmove(o->buf, o->buf + o->max / 2, o->max - o->max / 2);
		o->len = o->max - o->max / 2;
	}
	return 1;
}

/* The captured stream to its end, or -ETIMEDOUT when @deadline_ms passes first. */
static int take_all(int fd, struct sl_spawn_out *o, long long deadline_ms)
{
	struct timespec now;
	int r = 1;

	while (r > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		long long left = -1;

		if (deadline_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = deadline_ms - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
			if (left <= 0)
				return -ETIMEDOUT;
		}
		r = poll(&pf, 1, (int)left);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			r = errno == EINTR ? 1 : -errno;
		else
			r = take(fd, o);
	}
	return r;
}

/**
 * sl_spawn_run() - run a program to its end, its captured stream kept
 * @s: what, and where its standard fds go
 * @o: what it wrote on the stream @s captures (NULL if none); @o->buf is
 *	set, also on failure, and freed by the caller
 * @timeout_ms: killed (SIGKILL) past this, or -1 for no limit
 *
 * Return: its exit status, 128+N for signal N; -ETIMEDOUT (killed and
 * reaped), or -errno
 */
int sl_spawn_run(const struct sl_spawn *s, struct sl_spawn_out *o, int timeout_ms)
{
	struct timespec now;
	long long deadline = -1;
	int fd, r = 0, st;
	pid_t pid;

	if (o) {
		o->len = 0;
		if (!(o->buf = malloc(o->max + 1)))
			return -ENOMEM;
		o->buf[0] = '\0';
	}
	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + timeout_ms;
	}
	pid = sl_spawn_start(s, &fd);
	if (pid < 0)
		return pid;
	if (fd >= 0) {
		struct sl_spawn_out none = { 0 };

		r = take_all(fd, o ? o : &none, deadline);
		close(fd);
		if (o)
			o->buf[o->len] = '\0';
	}
	if (r == -ETIMEDOUT)
		kill(pid, SIGKILL);
	st = sl_spawn_wait(pid);
	return r < 0 ? r : st;
}
