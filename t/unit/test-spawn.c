/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "unit.h"

void test_spawn_capture_status(void);
void test_spawn_bounds(void);
void test_spawn_timeout_env_null(void);
void test_spawn_dies_with_parent(void);

static int sh(const char *script, int out, int err_fd, const char *const *env,
	      struct sl_spawn_out *o, int timeout_ms)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	struct sl_spawn s = { "sh", argv, true, { SL_SPAWN_NULL, out, err_fd }, env };

	return sl_spawn_run(&s, o, timeout_ms);
}

/* stdout or stderr captured whole; the exit status, a signal as 128+N; a missing program 127 */
void test_spawn_capture_status(void)
{
	struct sl_spawn_out o = { .max = 64 };
	char *argv[] = { "no-such-program-here", NULL };
	struct sl_spawn s = { "/nonexistent/no-such", argv, false,
			      { SL_SPAWN_NULL, SL_SPAWN_NULL, SL_SPAWN_CAPTURE } };

	CHECK(sh("printf hello; exit 3", SL_SPAWN_CAPTURE, SL_SPAWN_NULL, NULL, &o, -1) == 3);
	CHECK_STR(o.buf, "hello");
	free(o.buf);
	CHECK(sh("echo to-err >&2; kill -9 $$", SL_SPAWN_NULL, SL_SPAWN_CAPTURE, NULL, &o, -1) ==
	      128 + 9);
	CHECK_STR(o.buf, "to-err\n");
	free(o.buf);
	CHECK(sl_spawn_run(&s, &o, -1) == 127);
	CHECK(o.buf && strstr(o.buf, "cannot run /nonexistent/no-such"));
	free(o.buf);
}

/* More than the bound: the head kept and the rest drained (the child ends), or the tail. */
void test_spawn_bounds(void)
{
	struct sl_spawn_out head = { .max = 10 }, tail = { .max = 10, .keep_tail = true };
	const char *script = "i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done";

	CHECK(sh(script, SL_SPAWN_CAPTURE, SL_SPAWN_NULL, NULL, &head, 10000) == 0);
	CHECK_STR(head.buf, "line0\nline");
	CHECK(sh(script, SL_SPAWN_CAPTURE, SL_SPAWN_NULL, NULL, &tail, 10000) == 0);
	CHECK(tail.len <= 10 && tail.len >= 5);
	/* the last half of a full buffer at least: the end of the last line */
	CHECK(tail.buf && tail.len >= 5 && !strcmp(tail.buf + tail.len - 5, "9999\n"));
	free(head.buf);
	free(tail.buf);
}

/* Killed past its time and reaped; the environment set and unset; stdin /dev/null */
void test_spawn_timeout_env_null(void)
{
	static const char *const env[] = { "SL_UNIT_A=one two", "SL_UNIT_B", NULL };
	struct sl_spawn_out o = { .max = 64 };
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(sh("echo started; exec sleep 5", SL_SPAWN_CAPTURE, SL_SPAWN_NULL, NULL, &o, 200) ==
	      -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec < 3);
	CHECK_STR(o.buf, "started\n");
	free(o.buf);
	setenv("SL_UNIT_B", "inherited", 1);
	CHECK(sh("printf '%s|%s|' \"$SL_UNIT_A\" \"${SL_UNIT_B-unset}\"; cat; echo end",
		 SL_SPAWN_CAPTURE, SL_SPAWN_NULL, env, &o, 5000) == 0);
	CHECK_STR(o.buf, "one two|unset|end\n");
	free(o.buf);
	unsetenv("SL_UNIT_B");
}

/* die_with_parent: a child whose starter is killed goes too (sl-up's worker and its sl-boot) */
void test_spawn_dies_with_parent(void)
{
	char *argv[] = { "sleep", "30", NULL };
	struct sl_spawn sp = { "sleep", argv, true, { SL_SPAWN_NULL, SL_SPAWN_NULL, SL_SPAWN_NULL },
			       .die_with_parent = true };
	int p[2], st, i;
	pid_t mid, child = 0;

	CHECK(pipe(p) == 0);
	mid = fork();
	if (mid == 0) {
		int fd;
		pid_t c = sl_spawn_start(&sp, &fd);

		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		pause();
		_exit(0);
	}
	CHECK(mid > 0);
	close(p[1]);
	CHECK(read(p[0], &child, sizeof(child)) == sizeof(child));
	close(p[0]);
	CHECK(child > 0 && kill(child, 0) == 0);
	kill(mid, SIGKILL);
	waitpid(mid, &st, 0);
	/* reparented and reaped once the signal came: gone within a second or two */
	for (i = 0; i < 200 && kill(child, 0) == 0; i++)
		usleep(10000);
	CHECK(i < 200);
	if (i == 200)
		kill(child, SIGKILL);
}
