/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "daemon.h"
#include "netns.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

#ifndef SL_LIBEXEC_DIR
#define SL_LIBEXEC_DIR "/usr/local/libexec/sltools"
#endif
/* How long apply waits for a new daemon to be ready. */
#define READY_MS 5000

const struct sl_daemon sl_resolver = { "sl-resolve", "the resolver", "SL_RESOLVER_PID",
				       "SL_RESOLVER_START", "resolver.log" };
const struct sl_daemon sl_denylog = { "sl-denylog", "the denial logger", "SL_DENYLOG_PID",
				      "SL_DENYLOG_START", "denylog.log" };

/**
 * sl_daemon_pid() - the VM's running daemon of a kind, from its state
 * @d: which
 * @st: the VM's state
 *
 * Return: its pid, or 0 when none runs (none recorded, or the pid is now
 * another process: the start time differs)
 */
int sl_daemon_pid(const struct sl_daemon *d, const struct sl_kv *st)
{
	const char *p = sl_kv_get(st, d->pid_key), *s = sl_kv_get(st, d->start_key);
	unsigned long long start;
	int pid;

	if (!p || !s)
		return 0;
	pid = atoi(p);
	if (sl_proc_start(pid, &start) < 0 || start != strtoull(s, NULL, 10))
		return 0;
	return pid;
}

/* In the child: fds 0-2 and 3 (the ready pipe) as a daemon wants them. */
static void exec_daemon(const struct sl_daemon *d, const char *path, const char *name, int ready)
{
	char log[4096];
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC), lf = -1;
	int keep[] = { 3 };

	setsid();
	if (sl_run_path(log, sizeof(log), "%s/%s", name, d->errlog) == 0)
		lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(lf >= 0 ? lf : nul, 2) < 0 ||
	    dup2(ready, 3) < 0)
		_exit(127);
	sl_child_clean(keep, 1);
	execl(path, d->prog, name, (char *)NULL);
	dprintf(3, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Its first line: "ok", or why it could not listen. */
static int wait_ready(const struct sl_daemon *d, int fd, const char *name, struct sl_error *err)
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
	return sl_error(err, -EIO, "%s: %s did not start: %s", name, d->what,
			have ? line : "no word from it");
}

/**
 * sl_daemon_ensure() - a daemon of a kind for the VM, reading its current state
 * @d: which
 * @name: VM
 * @out: the pid and start time of a new one
 * @err: why, when it fails
 *
 * One that runs is told to re-read the state (SIGHUP); else one is
 * started, in a session of its own (it outlives the caller), and this
 * returns once it says it is ready.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_daemon_ensure(const struct sl_daemon *d, const char *name, struct sl_kv *out,
		     struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	char path[4096];
	unsigned long long start;
	int p[2], r, pid;

	if ((r = sl_state_load(name, &st, err)) < 0)
		return r;
	if ((pid = sl_daemon_pid(d, &st)) > 0)
		return kill(pid, SIGHUP) < 0 ? -errno : 0;
	if ((r = sl_locate(path, sizeof(path), "SL_LIBEXEC_DIR", "../libexec", SL_LIBEXEC_DIR,
			   d->prog)) < 0)
		return r;
	if (access(path, X_OK) < 0)
		return sl_error(err, -ENOENT, "no %s at %s: run make, or set SL_LIBEXEC_DIR",
				d->prog, path);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_daemon(d, path, name, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	r = wait_ready(d, p[0], name, err);
	close(p[0]);
	if (r < 0 || sl_proc_start(pid, &start) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return r < 0 ? r : sl_error(err, -EIO, "%s: %s died at start", name, d->what);
	}
	if ((r = sl_kv_setf(out, d->pid_key, "%d", pid)) < 0 ||
	    (r = sl_kv_setf(out, d->start_key, "%llu", start)) < 0)
		return r;
	return 0;
}

/**
 * sl_daemon_stop() - end the VM's daemon of a kind, if one runs
 * @d: which
 * @name: VM
 * @err: why, when it fails
 *
 * SIGTERM, then SIGKILL after a second; then its own log goes. Its keys
 * stay for the caller to remove with the rest.
 *
 * Return: 0 or -errno
 */
int sl_daemon_stop(const struct sl_daemon *d, const char *name, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	char log[4096];
	int r = sl_state_load(name, &st, err), pid;

	if (r < 0)
		return r;
	if (sl_run_path(log, sizeof(log), "%s/%s", name, d->errlog) < 0)
		return -ENAMETOOLONG;
	if (!(pid = sl_daemon_pid(d, &st))) {
		unlink(log);
		return 0;
	}
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && sl_proc_start(pid, NULL) == 0; i++) {
		struct timespec ts = { 0, 10000000L };

		waitpid(pid, NULL, WNOHANG); /* our own child, when apply started it */
		nanosleep(&ts, NULL);
	}
	if (sl_proc_start(pid, NULL) == 0)
		kill(pid, SIGKILL);
	unlink(log);
	return 0;
}

/**
 * sl_daemon_enter() - in a daemon: move into the VM's namespace
 * @name: VM
 * @ns: what that namespace is, for sl_daemon_ns_alive()
 * @err: why, when it fails
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_daemon_enter(const char *name, struct stat *ns, struct sl_error *err)
{
	_cleanup_close_ int fd = sl_netns_open(name);

	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET) < 0 || fstat(fd, ns) < 0)
		return sl_error(err, -errno, "%s: cannot enter its namespace: %s", name,
				strerror(errno));
	return 0;
}

/**
 * sl_daemon_ns_alive() - whether the VM's namespace is still the one entered
 *
 * sl-netns del (or ip netns del) removes its name; a daemon still in it
 * would keep it alive unseen, so it ends instead.
 */
bool sl_daemon_ns_alive(const char *name, const struct stat *ns)
{
	char path[4096];
	struct stat st;

	return sl_netns_path(name, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       st.st_dev == ns->st_dev && st.st_ino == ns->st_ino;
}

/**
 * sl_daemon_signals() - in a daemon: SIGHUP, SIGTERM and SIGINT as a descriptor
 *
 * Blocked, so they arrive only through it, in the daemon's poll loop.
 *
 * Return: a nonblocking signalfd, or -errno
 */
int sl_daemon_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/**
 * sl_daemon_ready() - in a daemon: record itself, then tell its starter
 * @d: which daemon this is
 * @name: its VM
 * @r: 0, or the failure recorded in @err
 *
 * Ready, it writes its own pid and start time into the VM's state before
 * it says so: a starter killed between the word and its own write leaves
 * no daemon that flush cannot find. The word ("ok" or why not) goes on
 * fd 3, which is then closed: the starter waits for it.
 *
 * Return: @r, or the failure to record itself
 */
int sl_daemon_ready(const struct sl_daemon *d, const char *name, int r, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv me = { 0 };
	unsigned long long start;

	if (r == 0 && ((r = sl_proc_start(getpid(), &start)) < 0 ||
		       (r = sl_kv_setf(&me, d->pid_key, "%d", getpid())) < 0 ||
		       (r = sl_kv_setf(&me, d->start_key, "%llu", start)) < 0 ||
		       (r = sl_state_update(name, &me, NULL, err)) < 0))
		sl_error_wrap(err, r, "%s: %s cannot record itself", name, d->what);
	dprintf(3, "%s\n", r < 0 ? sl_error_msg(err, r) : "ok");
	close(3);
	return r;
}
