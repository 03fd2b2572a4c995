/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "proto.h"
#include "state.h"
#include "util.h"
#include "vm.h"

/* The supervisor's socket at @path, of VM (or spare) @name. */
static int connect_path(const char *name, const char *path, struct sl_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return sl_error(err, -ENAMETOOLONG, "agent socket path too long");
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno;
		close(fd);
		if (r == ENOENT || r == ECONNREFUSED)
			return sl_error(err, -ENXIO, "%s is not running (no agent at %s)", name,
					path);
		return sl_error(err, -r, "%s: %s", path, strerror(r));
	}
	return fd;
}

/**
 * sl_agent_connect() - connect to a VM's supervisor
 * @name: VM
 * @err: why, when it fails
 *
 * Return: socket, -ENXIO when the VM is not running, or -errno; recorded
 */
int sl_agent_connect(const char *name, struct sl_error *err)
{
	char path[4096];
	int r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	if (sl_run_path(path, sizeof(path), "%s/%s", name, SL_AGENT_SOCK) < 0)
		return sl_error(err, -ENAMETOOLONG, "agent socket path too long");
	return connect_path(name, path, err);
}

/* Raw mode for a local terminal while a remote pty owns it. */
static struct termios saved_tio;
/**
 * sl_agent_nudge() - ask the supervisor for the agent's handshake at once
 * @name: VM
 *
 * A READY request: the supervisor sends its hello now instead of at its
 * next 50 ms tick, and answers once the agent echoed it (a restored guest
 * runs as soon as its state is in).
 *
 * Return: the connection (close it when done), or -errno
 */
int sl_agent_nudge(const char *name)
{
	int fd = sl_agent_connect(name, NULL);

	if (fd >= 0 && sl_frame_send(fd, SL_READY, 0, NULL, 0) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static int saved_tty = -1;

static void tty_restore(void)
{
	if (saved_tty >= 0)
		tcsetattr(saved_tty, TCSADRAIN, &saved_tio);
	saved_tty = -1;
}

static void tty_raw(int fd)
{
	struct termios t;

	if (!isatty(fd) || tcgetattr(fd, &saved_tio) < 0)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSADRAIN, &t) == 0) {
		saved_tty = fd;
		atexit(tty_restore);
	}
}

static int send_winch(int sock, int tty)
{
	struct winsize ws;
	uint8_t p[4];

	if (ioctl(tty, TIOCGWINSZ, &ws) < 0)
		return 0;
	p[0] = (uint8_t)(ws.ws_row >> 8);
	p[1] = (uint8_t)ws.ws_row;
	p[2] = (uint8_t)(ws.ws_col >> 8);
	p[3] = (uint8_t)ws.ws_col;
	return sl_frame_send(sock, SL_WINCH, 0, p, 4);
}

/* One channel's ends, for relay(). */
struct relay {
	int sock;	/* to the supervisor */
	int in, out;	/* the command's stdin and stdout here, or -1 */
	int errfd;	/* its stderr here, or -1 */
	int winch_tty;	/* the terminal whose size follows, or -1 */
	bool conn_mode; /* @in and @out are one TCP socket (empty STDOUT = shut it) */
	bool in_open;
};

/* Not an end yet: relay() goes on. */
#define RELAY_MORE INT_MIN

/* One frame from the guest: RELAY_MORE, or how the channel ended (as relay()). */
static int relay_frame(const struct relay *R, const struct sl_frame *f, struct sl_error *err)
{
	switch (f->type) {
	case SL_STDOUT:
		if (!f->len && R->conn_mode)
			shutdown(R->out, SHUT_WR);
		else if (f->len && R->out >= 0 && sl_write_all(R->out, f->data, f->len) < 0) {
			if (R->conn_mode)
				return 0; /* the local end closed: so does the channel */
			/* Nobody reads it: stop, as the command would on SIGPIPE. */
			return sl_error(err, -EPIPE, "the command's output: %s", strerror(errno));
		}
		return RELAY_MORE;
	case SL_STDERR:
		if (f->len && R->errfd >= 0)
			sl_write_all(R->errfd, f->data, f->len);
		return RELAY_MORE;
	case SL_EXIT:
		return f->len == 2 ? (f->data[0] ? 128 + f->data[1] : f->data[1]) : 1;
	case SL_CLOSE:
	case SL_READY: /* what the supervisor answers a request of its own */
		return 0;
	case SL_ERROR:
		return sl_error(err, -EIO, "%.*s", (int)f->len, (const char *)f->data);
	default:
		return RELAY_MORE;
	}
}

/* What the supervisor sent: RELAY_MORE, or how the channel ended. */
static int relay_in(const struct relay *R, struct sl_frame_reader *rx, struct sl_error *err)
{
	ssize_t n = sl_frame_reader_fill(rx, R->sock);
	struct sl_frame f;
	int k, r;

	if (n == -EINTR)
		return RELAY_MORE;
	if (n <= 0)
		return sl_error(err, -ECONNRESET, "the VM's supervisor went away");
	while ((k = sl_frame_reader_next(rx, &f)) != 0) {
		if (k < 0)
			return sl_error(err, -EPROTO, "bad data from the supervisor");
		if ((r = relay_frame(R, &f, err)) != RELAY_MORE)
			return r;
	}
	return RELAY_MORE;
}

/* The command's input to the guest; its end sent as an empty STDIN. */
static void relay_out(struct relay *R, uint8_t *buf, size_t len)
{
	ssize_t n = read(R->in, buf, len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		R->in_open = false;
		n = 0;
	}
	if (sl_frame_send(R->sock, SL_STDIN, 0, buf, (size_t)n) < 0)
		R->in_open = false;
}

/*
 * Relay one channel: @in to the guest as STDIN, STDOUT/STDERR to @out/@errfd.
 * @conn_mode: @in and @out are one TCP socket (empty STDOUT = shut it).
 * Return: the exit status (0..255, 128+N), or -errno / -EIO on ERROR.
 */
static int relay(int sock, int in, int out, int errfd, int winch_tty, bool conn_mode,
		 struct sl_error *err)
{
	struct relay R = { sock, in, out, errfd, winch_tty, conn_mode, in >= 0 };
	struct sl_frame_reader rx;
	uint8_t buf[32768];
	int sfd = -1, status = RELAY_MORE;
	sigset_t mask;

	if (sl_frame_reader_init(&rx) < 0)
		return -ENOMEM;
	if (winch_tty >= 0) {
		sigemptyset(&mask);
		sigaddset(&mask, SIGWINCH);
		sigprocmask(SIG_BLOCK, &mask, NULL);
		sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	}
	while (status == RELAY_MORE) {
		struct pollfd pf[3] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = R.in_open ? in : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};

		if (poll(pf, 3, -1) < 0) {
			if (errno != EINTR)
				status = -errno;
			continue;
		}
		if (pf[2].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			send_winch(sock, winch_tty);
		}
		if (pf[1].revents)
			relay_out(&R, buf, sizeof(buf));
		if (pf[0].revents)
			status = relay_in(&R, &rx, err);
	}
	if (sfd >= 0)
		close(sfd);
	sl_frame_reader_free(&rx);
	return status;
}

static int put_str(uint8_t *buf, size_t *len, enum sl_exec_tag tag, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 2 > SL_FRAME_MAX)
		return -E2BIG;
	buf[(*len)++] = (uint8_t)tag;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[(*len)++] = '\0';
	return 0;
}

/**
 * sl_agent_exec() - run a command in the VM, streaming stdin/stdout/stderr
 * @sock: from sl_agent_connect()
 * @req: the command
 * @in: local stdin (-1: none, EOF at once)
 * @out: where its stdout goes
 * @err: where its stderr goes
 *
 * With @req->pty, the local terminal on @in is put in raw mode and its
 * size follows the window.
 *
 * Return: the command's status (0..255, 128+N for a signal), or -errno
 */
int sl_agent_exec(int sock, const struct sl_exec_req *req, int in, int out, int errfd,
		  struct sl_error *err)
{
	_cleanup_free_ uint8_t *p = malloc(SL_FRAME_MAX);
	size_t len = 0;
	int r = 0, tty = -1;

	if (!p)
		return -ENOMEM;
	for (char **a = req->argv; *a && !r; a++)
		r = put_str(p, &len, SL_EXEC_ARG, *a);
	for (size_t i = 0; i < req->nenv && !r; i++)
		r = put_str(p, &len, SL_EXEC_ENV, req->env[i]);
	if (req->cwd && !r)
		r = put_str(p, &len, SL_EXEC_CWD, req->cwd);
	if (req->user && !r)
		r = put_str(p, &len, SL_EXEC_USER, req->user);
	if (req->pty && !r) {
		struct winsize ws = { .ws_row = 24, .ws_col = 80 };
		char t[32];

		if (in >= 0 && isatty(in)) {
			tty = in;
			ioctl(in, TIOCGWINSZ, &ws);
		}
		snprintf(t, sizeof(t), "%u %u", ws.ws_row, ws.ws_col);
		r = put_str(p, &len, SL_EXEC_TTY, t);
	}
	if (r)
		return sl_error(err, -E2BIG, "command line too long for one request");
	r = sl_frame_send(sock, SL_EXEC, 0, p, len);
	if (r < 0)
		return r;
	if (tty >= 0)
		tty_raw(tty);
	r = relay(sock, in, out, errfd, tty, false, err);
	tty_restore();
	return r;
}

/**
 * sl_agent_identity() - send a restored guest its identity, wait for the answer
 * @name: VM
 * @req: the SL_IDENTITY payload (lib/base/proto.h)
 * @len: its length
 * @err: the guest's reason, or why the call failed
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_agent_identity(const char *name, const void *req, size_t len, struct sl_error *err)
{
	_cleanup_close_ int sock = sl_agent_connect(name, err);
	int r;

	if (sock < 0)
		return sock;
	if ((r = sl_frame_send(sock, SL_IDENTITY, 0, req, len)) < 0)
		return sl_error(err, r, "%s: the supervisor: %s", name, strerror(-r));
	r = relay(sock, -1, -1, -1, -1, false, err);
	return r > 0 ? sl_error(err, -EIO, "the guest answered %d", r) : r;
}

/**
 * sl_agent_connect_tcp() - relay a local connection to HOST:PORT in the VM
 * @sock: from sl_agent_connect()
 * @target: "host:port" as the guest sees it
 * @conn: the local connection
 * @err: why, when it fails
 *
 * Return: 0 when the connection ended, or -errno
 */
int sl_agent_connect_tcp(int sock, const char *target, int conn, struct sl_error *err)
{
	int r = sl_frame_send(sock, SL_CONNECT, 0, target, strlen(target));

	return r < 0 ? r : relay(sock, conn, conn, -1, -1, true, err);
}

/**
 * sl_agent_console() - attach to the serial console
 * @sock: from sl_agent_connect()
 * @in: local input (a terminal is put in raw mode; Ctrl-] detaches)
 * @out: console output
 */
int sl_agent_console(int sock, int in, int out)
{
	uint8_t buf[4096];
	struct sl_frame_reader rx;
	int r = sl_frame_send(sock, SL_CONSOLE, 0, NULL, 0);

	if (r < 0)
		return r;
	if (sl_frame_reader_init(&rx) < 0)
		return -ENOMEM;
	if (in >= 0 && isatty(in))
		tty_raw(in);
	for (;;) {
		struct pollfd pf[2] = { { .fd = sock, .events = POLLIN }, { .fd = in, .events = POLLIN } };
		ssize_t n;

		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents) {
			/* frames come in pieces of any size: a split one waits for its rest */
			struct sl_frame f;
			int k;

			if (sl_frame_reader_fill(&rx, sock) <= 0)
				break;
			while ((k = sl_frame_reader_next(&rx, &f)) > 0) {
				if (f.type == SL_STDOUT)
					sl_write_all(out, f.data, f.len);
				else if (f.type == SL_ERROR)
					goto out;
			}
			if (k < 0)
				break;
		}
		if (pf[1].revents) {
			n = read(in, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (memchr(buf, 0x1d, (size_t)n)) /* Ctrl-] */
				break;
			sl_frame_send(sock, SL_STDIN, 0, buf, (size_t)n);
		}
	}
out:
	tty_restore();
	sl_frame_reader_free(&rx);
	return 0;
}

/**
 * sl_agent_capture() - run a command and collect its stdout
 * @name: VM
 * @req: command
 * @in: its stdin, or -1
 * @out: result, NUL-terminated; free()
 * @outlen: its length
 * @err: why, when it fails
 *
 * Return: the command's status, or -errno
 */
int sl_agent_capture(const char *name, const struct sl_exec_req *req, int in, char **out,
		     size_t *outlen, struct sl_error *err)
{
	_cleanup_close_ int sock = sl_agent_connect(name, err);
	_cleanup_close_ int mfd = memfd_create("sl-capture", MFD_CLOEXEC);
	off_t size;
	int r;

	*out = NULL;
	*outlen = 0;
	if (sock < 0)
		return sock;
	if (mfd < 0)
		return -errno;
	r = sl_agent_exec(sock, req, in, mfd, 2, err);
	if (r < 0)
		return r;
	size = lseek(mfd, 0, SEEK_END);
	*out = malloc((size_t)size + 1);
	if (!*out)
		return -ENOMEM;
	if (pread(mfd, *out, (size_t)size, 0) != size) {
		free(*out);
		*out = NULL;
		return -EIO;
	}
	(*out)[size] = '\0';
	*outlen = (size_t)size;
	return r;
}

/**
 * sl_agent_run() - run a command in VM @name, its streams on the given fds
 * @name: VM
 * @req: command
 * @in: its stdin, or -1
 * @out: where its stdout goes
 * @errfd: where its stderr goes
 * @err: why, when it fails
 *
 * Return: the command's status (0..255, 128+N for a signal), or -errno
 */
int sl_agent_run(const char *name, const struct sl_exec_req *req, int in, int out, int errfd,
		 struct sl_error *err)
{
	_cleanup_close_ int sock = sl_agent_connect(name, err);

	if (sock < 0)
		return sock;
	return sl_agent_exec(sock, req, in, out, errfd, err);
}

struct reader_job {
	const struct sl_agent_reader *rd;
	int fd;
};

static void *reader_thread(void *p)
{
	struct reader_job *j = p;

	j->rd->read(j->rd->ctx, j->fd);
	return NULL;
}

/**
 * sl_agent_exec_read() - run a command, its stdout read by @rd as it comes
 * @sock: from sl_agent_connect()
 * @req: command
 * @in: its stdin, or -1
 * @rd: what reads the output, in a thread (a copy's unpacker, a log)
 * @errfd: where its stderr goes, unless @rd takes it too
 * @err: why, when it fails
 *
 * A pipe, not a file: what the guest sends is taken as it comes, and the
 * reader can stop it by closing its end.
 *
 * Return: the command's status, or -errno
 */
int sl_agent_exec_read(int sock, const struct sl_exec_req *req, int in,
		       const struct sl_agent_reader *rd, int errfd, struct sl_error *err)
{
	struct reader_job j = { rd, -1 };
	pthread_t th;
	int p[2], r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return sl_error(err, -errno, "pipe: %s", strerror(errno));
	j.fd = p[0];
	if ((r = -pthread_create(&th, NULL, reader_thread, &j)) < 0) {
		close(p[0]);
		close(p[1]);
		return sl_error(err, r, "thread: %s", strerror(-r));
	}
	r = sl_agent_exec(sock, req, in, p[1], rd->with_stderr ? p[1] : errfd, err);
	close(p[1]);
	pthread_join(th, NULL);
	return r;
}

/**
 * sl_agent_rename() - make a spare's supervisor VM @name's
 * @sock_path: the spare's agent.sock
 * @name: the VM it becomes
 * @err: why, when it fails
 *
 * The supervisor moves its sockets, pid files and logs into this run dir's
 * @name and answers once they are there (lib/vm/spare.c).
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_agent_rename(const char *sock_path, const char *name, struct sl_error *err)
{
	_cleanup_close_ int sock = connect_path(name, sock_path, err);
	uint8_t req[SL_NAME_MAX + 4200];
	size_t n = strlen(name) + 1, m = strlen(sl_run_dir()) + 1;
	int r;

	if (sock < 0)
		return sock;
	if (n + m > sizeof(req))
		return sl_error(err, -ENAMETOOLONG, "%s: the run dir's path is too long", name);
	memcpy(req, name, n);
	memcpy(req + n, sl_run_dir(), m);
	if ((r = sl_frame_send(sock, SL_RENAME, 0, req, n + m)) < 0)
		return sl_error(err, r, "%s: the spare's supervisor: %s", name, strerror(-r));
	return relay(sock, -1, -1, -1, -1, false, err);
}
