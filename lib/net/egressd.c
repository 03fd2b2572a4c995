/* SPDX-License-Identifier: MIT */
/* Talking to sl-egressd, the run dir's daemon (lib/net/egressd.h), and starting it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "egressd.h"
#include "kv.h"
#include "log.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

/* How long a tool waits for a new daemon to say it is ready, and for a reply. */
#define READY_MS 10000
#define REPLY_S 10

/**
 * sl_egressd_pid() - the run dir's daemon, if it runs
 *
 * Return: its pid, or 0 (none recorded, or the pid is another process
 * now: its start time differs)
 */
int sl_egressd_pid(void)
{
	char path[4096], line[64];
	unsigned long long start, now;
	int pid = 0;
	FILE *f;

	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_PID) < 0 ||
	    !(f = sl_run_fopen(path, false)))
		return 0;
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%d %llu", &pid, &start) != 2 ||
	    pid <= 0 || sl_proc_start(pid, &now) < 0 || now != start)
		pid = 0;
	fclose(f);
	return pid;
}

static int connect_ctl(int *fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval tv = { REPLY_S, 0 };

	if (sl_run_path(a.sun_path, sizeof(a.sun_path), "%s", SL_EGRESSD_SOCK) < 0)
		return -ENAMETOOLONG;
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(*fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		return e == ENOENT || e == ECONNREFUSED ? -ESRCH : -e;
	}
	return 0;
}

/* @line and a newline, then the end of the request: 0 or -errno, never SIGPIPE. */
static int send_line(int fd, const char *line)
{
	char buf[1100];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -E2BIG;
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n || shutdown(fd, SHUT_WR) < 0)
		return -errno;
	return 0;
}

/**
 * sl_egressd_request() - one request to the daemon, one reply
 * @line: "add NAME", "del NAME", "status NAME"
 * @reply: what follows "ok" in its answer
 * @len: room in @reply
 * @err: why, when it fails; the daemon's own words for an "err" answer
 *
 * Return: 0, -ESRCH (no daemon runs), or -errno
 */
int sl_egressd_request(const char *line, char *reply, size_t len, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	char buf[1024];
	size_t have = 0;
	ssize_t n;
	int r;

	for (int tries = 0;; tries++) {
		if ((r = connect_ctl(&fd)) < 0)
			return r == -ESRCH ? r : sl_error(err, r, "sl-egressd: %s", strerror(-r));
		if ((r = send_line(fd, line)) == 0)
			break;
		close(sl_steal_fd(&fd));
		/*
		 * It closed before it read a byte: it was ending (its last VM
		 * gone), so the request never reached it. Again: a daemon that
		 * is gone says so (-ESRCH), a new one answers. Not a SIGPIPE:
		 * that killed the tool without a word (t/50-egress, 1 in 150).
		 */
		if ((r != -EPIPE && r != -ECONNRESET) || tries == 5)
			return sl_error(err, r, "sl-egressd: %s", strerror(-r));
		usleep(10000);
	}
	while (have < sizeof(buf) - 1 && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strncmp(buf, "ok", 2) && (!buf[2] || buf[2] == ' ')) {
		if (reply)
			snprintf(reply, len, "%s", buf[2] ? buf + 3 : "");
		return 0;
	}
	if (!strncmp(buf, "err ", 4))
		return sl_error(err, -EIO, "%s", buf + 4);
	return sl_error(err, -EIO, "sl-egressd: %s", have ? buf : "no answer");
}

/* In the child: fds 0-2 and 3 (the ready pipe) as the daemon wants them. */
static void exec_daemon(const char *path, int ready)
{
	char log[4096];
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC), lf = -1;
	int keep[] = { 3 };

	setsid();
	if (sl_run_path(log, sizeof(log), "%s", SL_EGRESSD_LOG) == 0)
		lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(lf >= 0 ? lf : nul, 2) < 0 ||
	    dup2(ready, 3) < 0)
		_exit(127);
	sl_child_clean(keep, 1);
	/* in its environment even when it is the default: sl-gc knows it by it */
	setenv("SL_RUN_DIR", sl_run_dir(), 1);
	execl(path, SL_EGRESSD_PROG, (char *)NULL);
	dprintf(3, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Its first line: "ok", or why it could not start. */
static int wait_ready(int fd, struct sl_error *err)
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
	return sl_error(err, -EIO, "sl-egressd did not start: %s", have ? line : "no word from it");
}

/* A new daemon, in a session of its own; back once it says it is ready. */
static int start(struct sl_error *err)
{
	char path[4096];
	int p[2], r, pid;

	if ((r = sl_locate(path, sizeof(path), "SL_LIBEXEC_DIR", "../libexec", SL_LIBEXEC_DIR,
			   SL_EGRESSD_PROG)) < 0)
		return r;
	if (access(path, X_OK) < 0)
		return sl_error(err, -ENOENT, "no %s at %s: run make, or set SL_LIBEXEC_DIR",
				SL_EGRESSD_PROG, path);
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0)
		exec_daemon(path, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -errno;
	}
	r = wait_ready(p[0], err);
	close(p[0]);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return r;
}

/**
 * sl_egressd_serve() - the daemon to serve a VM, or to take its new policy
 * @name: the VM; its state says its lists and resolver
 * @err: why, when it fails
 *
 * Under the run dir's egressd lock, so that two tools never start two
 * daemons and the daemon never ends between the start and the request. A
 * daemon that had died without ending (its pid file left) is said so.
 *
 * Return: 0 or -errno
 */
int sl_egressd_serve(const char *name, struct sl_error *err)
{
	_cleanup_close_ int lock = sl_lock(SL_EGRESSD_LOCK, err);
	char line[128], path[4096];
	int r;

	if (lock < 0)
		return lock;
	snprintf(line, sizeof(line), "add %s", name);
	if ((r = sl_egressd_request(line, NULL, 0, err)) != -ESRCH)
		return r;
	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_PID) == 0 &&
	    access(path, F_OK) == 0)
		sl_warn("%s had died: started again, it takes back every VM of %s",
			SL_EGRESSD_PROG, sl_run_dir());
	if ((r = start(err)) < 0)
		return r;
	if ((r = sl_egressd_request(line, NULL, 0, err)) == -ESRCH)
		return sl_error(err, -EIO, "%s started but does not answer", SL_EGRESSD_PROG);
	return r;
}

/**
 * sl_egressd_forget() - the daemon to stop serving a VM; none running is fine
 * @name: the VM
 * @err: why, when it fails
 *
 * Return: 0 or -errno
 */
int sl_egressd_forget(const char *name, struct sl_error *err)
{
	char line[128];
	int r;

	snprintf(line, sizeof(line), "del %s", name);
	r = sl_egressd_request(line, NULL, 0, err);
	return r == -ESRCH ? 0 : r;
}

/* "key=value" out of a reply, the value up to the next space (upstream: to the end). */
static const char *field(const char *reply, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key);
	const char *p = reply;

	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == '=') {
			p += k + 1;
			snprintf(buf, len, "%.*s", (int)(strcmp(key, "upstream") ? strcspn(p, " ")
										 : strlen(p)), p);
			return buf;
		}
		if ((p = strchr(p, ' ')))
			p++;
	}
	return NULL;
}

/**
 * sl_egressd_status() - how the daemon serves a VM
 * @name: the VM
 * @v: result
 * @err: why, when it fails
 *
 * Return: 0, -ESRCH (no daemon runs), -ENOENT (it does not serve the VM),
 * or -errno
 */
int sl_egressd_status(const char *name, struct sl_egressd_vm *v, struct sl_error *err)
{
	char line[128], reply[1024] = "", b[256];
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(line, sizeof(line), "status %s", name);
	if ((r = sl_egressd_request(line, reply, sizeof(reply), err)) < 0)
		return r;
	if (!field(reply, "slot", b, sizeof(b)))
		return sl_error(err, -ENOENT, "%s: %s does not serve it", name, SL_EGRESSD_PROG);
	v->slot = (unsigned)strtoul(b, NULL, 10);
	v->pid = field(reply, "pid", b, sizeof(b)) ? atoi(b) : 0;
	v->logged = field(reply, "logged", b, sizeof(b)) ? strtoul(b, NULL, 10) : 0;
	v->suppressed = field(reply, "suppressed", b, sizeof(b)) ? strtoul(b, NULL, 10) : 0;
	v->resolver = field(reply, "resolver", b, sizeof(b)) && !strcmp(b, "1");
	v->queries = field(reply, "queries", b, sizeof(b)) ? strtoul(b, NULL, 10) : 0;
	v->refused = field(reply, "refused", b, sizeof(b)) ? strtoul(b, NULL, 10) : 0;
	v->cached = field(reply, "cached", b, sizeof(b)) ? strtoul(b, NULL, 10) : 0;
	if (!field(reply, "upstream", v->upstream, sizeof(v->upstream)))
		v->upstream[0] = '\0';
	return 0;
}
