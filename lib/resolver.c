/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "resolver.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

#ifndef SL_LIBEXEC_DIR
#define SL_LIBEXEC_DIR "/usr/local/libexec/sltools"
#endif
/* How long apply waits for a new resolver to listen. */
#define READY_MS 5000

/**
 * sl_resolver_pid() - the VM's running resolver, from its state
 * @st: the VM's state
 *
 * Return: its pid, or 0 when none runs (none recorded, or the pid is now
 * another process: the start time differs)
 */
int sl_resolver_pid(const struct sl_kv *st)
{
	const char *p = sl_kv_get(st, "SL_RESOLVER_PID"), *s = sl_kv_get(st, "SL_RESOLVER_START");
	unsigned long long start;
	int pid;

	if (!p || !s)
		return 0;
	pid = atoi(p);
	if (sl_proc_start(pid, &start) < 0 || start != strtoull(s, NULL, 10))
		return 0;
	return pid;
}

/* In the child: fds 0-2 and 3 (the ready pipe) as sl-resolve wants them. */
static void exec_resolver(const char *path, const char *name, int ready)
{
	char log[4096];
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC), lf = -1;
	int keep[] = { 3 };

	setsid();
	if (sl_run_path(log, sizeof(log), "%s/%s", name, SL_RESOLVER_LOG) == 0)
		lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(lf >= 0 ? lf : nul, 2) < 0 ||
	    dup2(ready, 3) < 0)
		_exit(127);
	sl_child_clean(keep, 1);
	execl(path, "sl-resolve", name, (char *)NULL);
	dprintf(3, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Its first line: "ok", or why it could not listen. */
static int wait_ready(int fd, const char *name)
{
	char line[512];
	size_t have = 0;
	struct pollfd pf = { fd, POLLIN, 0 };

	while (have < sizeof(line) - 1 && poll(&pf, 1, READY_MS) > 0) {
		ssize_t n = read(fd, line + have, sizeof(line) - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(line, '\n', have))
			break;
	}
	line[have] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	sl_set_error("%s: the resolver did not start: %s", name, have ? line : "no word from it");
	return -EIO;
}

/**
 * sl_resolver_ensure() - a resolver for the VM, reading its current lists
 * @name: VM; its state holds SL_IP, SL_ALLOW, SL_DNS_UPSTREAM
 * @out: SL_RESOLVER_PID and SL_RESOLVER_START of a new one
 *
 * One that runs is told to re-read the lists (SIGHUP); else one is
 * started, in a session of its own (it outlives the caller), and this
 * returns once it listens.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_resolver_ensure(const char *name, struct sl_kv *out)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	char path[4096];
	unsigned long long start;
	int p[2], r, pid;

	if ((r = sl_state_load(name, &st)) < 0)
		return r;
	if ((pid = sl_resolver_pid(&st)) > 0)
		return kill(pid, SIGHUP) < 0 ? -errno : 0;
	if ((r = sl_locate(path, sizeof(path), "SL_LIBEXEC_DIR", "../libexec", SL_LIBEXEC_DIR,
			   "sl-resolve")) < 0)
		return r;
	if (access(path, X_OK) < 0) {
		sl_set_error("no sl-resolve at %s: run make, or set SL_LIBEXEC_DIR", path);
		return -ENOENT;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_resolver(path, name, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	r = wait_ready(p[0], name);
	close(p[0]);
	if (r < 0 || sl_proc_start(pid, &start) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r < 0 ? r : (sl_set_error("%s: the resolver died at start", name), -EIO);
	}
	if ((r = sl_kv_setf(out, "SL_RESOLVER_PID", "%d", pid)) < 0 ||
	    (r = sl_kv_setf(out, "SL_RESOLVER_START", "%llu", start)) < 0)
		return r;
	return 0;
}

/**
 * sl_resolver_stop() - end the VM's resolver, if one runs
 * @name: VM
 *
 * SIGTERM, then SIGKILL after a second. Its keys stay for the caller to
 * remove with the rest.
 *
 * Return: 0 or -errno
 */
int sl_resolver_stop(const char *name)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	int r = sl_state_load(name, &st), pid;

	if (r < 0)
		return r;
	if (!(pid = sl_resolver_pid(&st)))
		return 0;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && sl_proc_start(pid, NULL) == 0; i++) {
		struct timespec ts = { 0, 10000000L };

		waitpid(pid, NULL, WNOHANG); /* our own child, when apply started it */
		nanosleep(&ts, NULL);
	}
	if (sl_proc_start(pid, NULL) == 0)
		kill(pid, SIGKILL);
	return 0;
}
