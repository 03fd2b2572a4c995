/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv.h"
#include "state.h"
#include "unit.h"

/* what the last failing call said */
static struct sl_error why, *const err = &why;

void test_state_racing_writers(void);
void test_proc_start(void);
void test_step_marker(void);

/*
 * Writers of one VM that each set a key, read it back and remove it: the
 * file (and, before the fix, its lock) comes and goes while the others
 * wait. A key missing on read-back is an update lost to a second holder of
 * "the" lock.
 */
static int writer(int id, int rounds)
{
	char key[16], val[16];

	snprintf(key, sizeof(key), "SL_W%d", id);
	for (int i = 0; i < rounds; i++) {
		struct sl_kv set = { 0 }, got = { 0 };
		const char *unset[] = { key, NULL };
		int lost;

		snprintf(val, sizeof(val), "%d", i);
		if (sl_kv_set(&set, key, val) < 0 || sl_state_update("race-1", &set, NULL, err) < 0)
			return 2;
		sl_kv_free(&set);
		if (sl_state_load("race-1", &got, err) < 0)
			return 2;
		lost = !sl_kv_get(&got, key) || strcmp(sl_kv_get(&got, key), val);
		sl_kv_free(&got);
		if (lost)
			return 1;
		if (sl_state_update("race-1", NULL, unset, err) < 0)
			return 2;
	}
	return 0;
}

void test_state_racing_writers(void)
{
	char dir[] = "/tmp/sl-unit-state.XXXXXX", cmd[64];
	int bad = 0, st;

	CHECK(mkdtemp(dir) != NULL);
	setenv("SL_RUN_DIR", dir, 1);
	for (int id = 0; id < 4; id++)
		if (fork() == 0)
			_exit(writer(id, 1500));
	while (wait(&st) > 0)
		bad += !WIFEXITED(st) || WEXITSTATUS(st);
	CHECK(bad == 0);
	unsetenv("SL_RUN_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/*
 * A process's start time is field 22 of /proc/PID/stat, counted here
 * another way (the fields after the command's closing parenthesis); a
 * child started later has a later or equal one. It was field 21, always
 * 0, so that a reused pid passed for its VM's owner.
 */
void test_proc_start(void)
{
	char line[1024];
	unsigned long long want = 0, got = 0, child = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	char *p, *save = NULL;
	int field = 2;
	pid_t pid;

	CHECK(f && fgets(line, sizeof(line), f));
	if (f)
		fclose(f);
	p = strrchr(line, ')');
	for (char *t = strtok_r(p + 1, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (++field == 22)
			want = strtoull(t, NULL, 10);
	CHECK(sl_proc_start(getpid(), &got) == 0);
	CHECK(want > 0 && got == want);
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK(sl_proc_start(pid, &child) == 0 && child >= got);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(sl_proc_start(pid, &child) == -ESRCH);
}

/*
 * A step's marker is locked for as long as its process lives: under way it
 * is not abandoned; a process killed in it leaves one that is, with what it
 * wrote; one ended while a sweep waited is not the sweep's.
 */
void test_step_marker(void)
{
	char dir[] = "/tmp/sl-unit-step.XXXXXX", cmd[64], path[128];
	struct sl_kv kv = { 0 }, got = { 0 };
	int fd, sweep, st;
	pid_t pid;

	CHECK(mkdtemp(dir) != NULL);
	setenv("SL_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/vm-1", dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_BOOT, &got) == -ENOENT);
	/* under way in this process: another open file's lock conflicts */
	fd = sl_step_begin("vm-1", SL_STEP_BOOT, NULL, err);
	CHECK(fd >= 0);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_BOOT, &got) == -EWOULDBLOCK);
	sl_step_end("vm-1", SL_STEP_BOOT, fd);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_BOOT, &got) == -ENOENT);
	/* killed in it: abandoned, with what it said */
	CHECK(sl_kv_set(&kv, "SL_SNAPSHOT_DIR", "/x y") == 0);
	pid = fork();
	if (pid == 0) {
		if (sl_step_begin("vm-1", SL_STEP_SNAPSHOT, &kv, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	sweep = sl_step_abandoned("vm-1", SL_STEP_SNAPSHOT, &got);
	CHECK(sweep >= 0);
	CHECK(sl_kv_get(&got, "SL_SNAPSHOT_DIR") && !strcmp(sl_kv_get(&got, "SL_SNAPSHOT_DIR"), "/x y"));
	/* while the sweep holds it, a second sweep stays out */
	sl_kv_free(&got);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_SNAPSHOT, &got) == -EWOULDBLOCK);
	sl_step_end("vm-1", SL_STEP_SNAPSHOT, sweep);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_SNAPSHOT, &got) == -ENOENT);
	/* a new step over an abandoned marker takes its place, locked */
	pid = fork();
	if (pid == 0) {
		if (sl_step_begin("vm-1", SL_STEP_BOOT, NULL, NULL) < 0)
			_exit(1);
		raise(SIGKILL);
	}
	waitpid(pid, NULL, 0);
	fd = sl_step_begin("vm-1", SL_STEP_BOOT, NULL, err);
	CHECK(fd >= 0);
	CHECK(sl_step_abandoned("vm-1", SL_STEP_BOOT, &got) == -EWOULDBLOCK);
	sl_step_end("vm-1", SL_STEP_BOOT, fd);
	sl_kv_free(&kv);
	sl_kv_free(&got);
	unsetenv("SL_RUN_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}
