/* SPDX-License-Identifier: MIT */
/*
 * sl-agent: the guest side of the agent protocol (lib/base/proto.h), PID 1 of the
 * project's initramfs. Serves exec (pipes or a pty), TCP connections for
 * port-forwards, and power-off, on many channels over one virtio-serial
 * port. Single-threaded: one poll loop, non-blocking everywhere, so a slow
 * channel never stalls the others.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "identity.h"
#include "proto.h"

#define MAX_CHANS 256
#define READ_CHUNK 32768
/* Stop reading from processes while this much is queued for the host. */
#define OUT_HIGH (1u << 20)

enum kind { K_FREE, K_EXEC, K_CONN };

struct chan {
	enum kind kind;
	uint32_t id;
	pid_t pid;
	int in, out, err; /* to the process/socket, from it; -1 when closed */
	bool pty, in_eof, exited;
	int how, code;
	struct sl_buf inq;
};

static struct chan chans[MAX_CHANS];
static int port = -1;
static struct sl_buf outq;

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fd >= 0) {
		dprintf(fd, "sl-agent: %s\n", buf);
		close(fd);
	}
}

static void send_frame(uint8_t type, uint32_t chan, const void *data, size_t len)
{
	if (sl_buf_frame(&outq, type, chan, data, len) < 0)
		logmsg("out of memory queueing a frame");
}

static void send_error(uint32_t chan, const char *msg)
{
	send_frame(SL_ERROR, chan, msg, strlen(msg));
}

static struct chan *find(uint32_t id)
{
	for (int i = 0; i < MAX_CHANS; i++)
		if (chans[i].kind != K_FREE && chans[i].id == id)
			return &chans[i];
	return NULL;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void chan_free(struct chan *c)
{
	if (c->kind == K_EXEC && !c->exited && c->pid > 0)
		kill(-c->pid, SIGKILL);
	if (c->in == c->out)
		c->in = -1;
	closefd(&c->in);
	closefd(&c->out);
	closefd(&c->err);
	sl_buf_free(&c->inq);
	c->kind = K_FREE;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* No NSS in a static binary: read /etc/passwd ourselves. */
static int lookup_user(const char *user, uid_t *uid, gid_t *gid, char *home, size_t hlen)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[512];
	char *end;
	unsigned long n = strtoul(user, &end, 10);

	if (*user && !*end) {
		*uid = (uid_t)n;
		*gid = (gid_t)n;
		snprintf(home, hlen, "/");
	}
	while (f && fgets(line, sizeof(line), f)) {
		char *fld[7] = { 0 }, *s = line;

		for (int i = 0; i < 7 && s; i++) {
			fld[i] = s;
			s = strchr(s, ':');
			if (s)
				*s++ = '\0';
		}
		if (!fld[5])
			continue;
		if (!strcmp(fld[0], user) || (!*end && strtoul(fld[2], NULL, 10) == n)) {
			*uid = (uid_t)strtoul(fld[2], NULL, 10);
			*gid = (gid_t)strtoul(fld[3], NULL, 10);
			snprintf(home, hlen, "%s", fld[5]);
			fclose(f);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return *user && !*end ? 0 : -1;
}

static void do_exec(uint32_t id, const uint8_t *p, uint32_t len)
{
	char *argv[256], *envp[256], *cwd = NULL, *user = NULL;
	int argc = 0, envc = 0, rows = 0, cols = 0;
	bool pty = false;
	char *copy = malloc(len + 1), *s, *e;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, master = -1;
	struct chan *c = NULL;
	uid_t uid = 0;
	gid_t gid = 0;
	char home[256] = "/root";
	pid_t pid;

	if (!copy)
		return send_error(id, "out of memory");
	memcpy(copy, p, len);
	copy[len] = '\0';
	envp[envc++] = "PATH=/bin:/sbin:/usr/bin:/usr/sbin";
	for (s = copy; s < copy + len; s = e + 1) {
		e = s + strlen(s);
		if (*s == SL_EXEC_ARG && argc < 255)
			argv[argc++] = s + 1;
		else if (*s == SL_EXEC_ENV && envc < 250 && strchr(s + 1, '='))
			envp[envc++] = s + 1;
		else if (*s == SL_EXEC_CWD)
			cwd = s + 1;
		else if (*s == SL_EXEC_USER)
			user = s + 1;
		else if (*s == SL_EXEC_TTY && sscanf(s + 1, "%d %d", &rows, &cols) == 2)
			pty = true;
	}
	argv[argc] = NULL;
	if (!argc) {
		free(copy);
		return send_error(id, "exec: no command");
	}
	if (user && lookup_user(user, &uid, &gid, home, sizeof(home)) < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "exec: unknown user '%s'", user);
		free(copy);
		return send_error(id, msg);
	}
	for (int i = 0; i < MAX_CHANS && !c; i++)
		if (chans[i].kind == K_FREE)
			c = &chans[i];
	if (!c || find(id)) {
		free(copy);
		return send_error(id, c ? "exec: channel in use" : "exec: too many channels");
	}
	if (pty) {
		struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };

		pid = forkpty(&master, NULL, NULL, &ws);
	} else {
		if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
			free(copy);
			return send_error(id, "exec: no pipes");
		}
		pid = fork();
	}
	if (pid == 0) {
		char homevar[300];
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		if (!pty) {
			setsid();
			dup2(inp[0], 0);
			dup2(outp[1], 1);
			dup2(errp[1], 2);
		}
		snprintf(homevar, sizeof(homevar), "HOME=%s", home);
		envp[envc++] = homevar;
		if (pty)
			envp[envc++] = "TERM=xterm";
		envp[envc] = NULL;
		if (user && (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)) {
			dprintf(2, "sl-agent: cannot become %s: %s\n", user, strerror(errno));
			_exit(126);
		}
		if (cwd && chdir(cwd) < 0) {
			dprintf(2, "sl-agent: cd %s: %s\n", cwd, strerror(errno));
			_exit(126);
		}
		execvpe(argv[0], argv, envp);
		dprintf(2, "sl-agent: %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	free(copy);
	if (pid < 0) {
		closefd(&inp[0]); closefd(&inp[1]); closefd(&outp[0]);
		closefd(&outp[1]); closefd(&errp[0]); closefd(&errp[1]);
		return send_error(id, "exec: fork failed");
	}
	memset(c, 0, sizeof(*c));
	c->kind = K_EXEC;
	c->id = id;
	c->pid = pid;
	c->pty = pty;
	if (pty) {
		fcntl(master, F_SETFD, FD_CLOEXEC);
		c->in = c->out = master;
		c->err = -1;
	} else {
		close(inp[0]);
		close(outp[1]);
		close(errp[1]);
		c->in = inp[1];
		c->out = outp[0];
		c->err = errp[0];
		set_nonblock(c->in);
	}
	set_nonblock(c->out);
	if (c->err >= 0)
		set_nonblock(c->err);
}

static void do_connect(uint32_t id, const uint8_t *p, uint32_t len)
{
	char spec[300], *colon, *end;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct chan *c = NULL;
	unsigned long portnum;
	int fd;

	if (len >= sizeof(spec))
		return send_error(id, "connect: bad address");
	memcpy(spec, p, len);
	spec[len] = '\0';
	colon = strrchr(spec, ':');
	if (!colon)
		return send_error(id, "connect: want host:port");
	*colon = '\0';
	portnum = strtoul(colon + 1, &end, 10);
	/* No resolver in the initramfs: addresses, and localhost. */
	if (!strcmp(spec, "localhost"))
		snprintf(spec, sizeof(spec), "127.0.0.1");
	if (*end || !portnum || portnum > 65535 || inet_pton(AF_INET, spec, &sa.sin_addr) != 1)
		return send_error(id, "connect: want an IPv4 address and a port");
	sa.sin_port = htons((uint16_t)portnum);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "connect %s:%lu: %s", spec, portnum, strerror(errno));
		if (fd >= 0)
			close(fd);
		return send_error(id, msg);
	}
	for (int i = 0; i < MAX_CHANS && !c; i++)
		if (chans[i].kind == K_FREE)
			c = &chans[i];
	if (!c || find(id)) {
		close(fd);
		return send_error(id, "connect: no channel");
	}
	memset(c, 0, sizeof(*c));
	c->kind = K_CONN;
	c->id = id;
	c->in = c->out = fd;
	c->err = -1;
	set_nonblock(fd);
}

static void reset_all(void)
{
	for (int i = 0; i < MAX_CHANS; i++)
		if (chans[i].kind != K_FREE)
			chan_free(&chans[i]);
}

static void handle(const struct sl_frame *f)
{
	struct chan *c = f->chan ? find(f->chan) : NULL;

	switch (f->type) {
	case SL_HELLO:
		/* A new supervisor session: whatever ran for the old one goes. */
		reset_all();
		sl_buf_free(&outq);
		send_frame(SL_HELLO, 0, f->data, f->len);
		break;
	case SL_PING:
		send_frame(SL_PONG, 0, f->data, f->len);
		break;
	case SL_EXEC:
		if (f->chan)
			do_exec(f->chan, f->data, f->len);
		break;
	case SL_CONNECT:
		if (f->chan)
			do_connect(f->chan, f->data, f->len);
		break;
	case SL_STDIN:
		if (!c || c->in < 0 || c->in_eof)
			break;
		if (!f->len)
			c->in_eof = true;
		else
			sl_buf_put(&c->inq, f->data, f->len);
		break;
	case SL_WINCH:
		if (c && c->pty && f->len == 4) {
			struct winsize ws = {
				.ws_row = (unsigned short)(f->data[0] << 8 | f->data[1]),
				.ws_col = (unsigned short)(f->data[2] << 8 | f->data[3]),
			};

			ioctl(c->out, TIOCSWINSZ, &ws);
		}
		break;
	case SL_CLOSE:
		if (c)
			chan_free(c);
		break;
	case SL_IDENTITY:
		if (f->chan) {
			char why[256];

			if (sl_guest_identity(f->data, f->len, why, sizeof(why)) == 0)
				send_frame(SL_EXIT, f->chan, (const uint8_t[]){ 0, 0 }, 2);
			else
				send_frame(SL_ERROR, f->chan, why, strlen(why));
			/* the host waits for this answer; the log line can wait */
			sl_buf_flush(&outq, port);
			logmsg("identity %s", why[0] ? why : "set");
		}
		break;
	case SL_POWEROFF:
		logmsg("power off");
		sync();
		reboot(RB_POWER_OFF);
		break;
	default:
		break;
	}
}

static void reap(int sfd)
{
	struct signalfd_siginfo si;
	int st;
	pid_t pid;

	while (read(sfd, &si, sizeof(si)) > 0)
		;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CHANS; i++) {
			struct chan *c = &chans[i];

			if (c->kind != K_EXEC || c->pid != pid)
				continue;
			c->exited = true;
			c->how = WIFSIGNALED(st) ? 1 : 0;
			c->code = WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
		}
	}
}

/* Pump a process's output, flush its input, report its end. */
static void service(struct chan *c, short rev_out, short rev_err, short rev_in)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n;

	if (c->out >= 0 && (rev_out & (POLLIN | POLLHUP | POLLERR))) {
		n = read(c->out, buf, sizeof(buf));
		if (n > 0) {
			send_frame(SL_STDOUT, c->id, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* EIO on a pty master: the session's last holder left. */
			send_frame(SL_STDOUT, c->id, NULL, 0);
			if (c->in == c->out)
				c->in = -1;
			closefd(&c->out);
		}
	}
	if (c->err >= 0 && (rev_err & (POLLIN | POLLHUP | POLLERR))) {
		n = read(c->err, buf, sizeof(buf));
		if (n > 0) {
			send_frame(SL_STDERR, c->id, buf, (size_t)n);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			send_frame(SL_STDERR, c->id, NULL, 0);
			closefd(&c->err);
		}
	}
	if (c->in >= 0 && sl_buf_size(&c->inq) && (rev_in & (POLLOUT | POLLERR | POLLHUP))) {
		if (sl_buf_flush(&c->inq, c->in) < 0) {
			sl_buf_free(&c->inq);
			c->in_eof = true;
		}
	}
	if (c->in >= 0 && c->in_eof && !sl_buf_size(&c->inq)) {
		if (c->kind == K_CONN)
			shutdown(c->in, SHUT_WR);
		else if (!c->pty)
			closefd(&c->in);
		c->in_eof = false;
		if (c->kind == K_EXEC && c->pty)
			c->in_eof = true; /* a pty has no EOF to give */
	}
	if (c->kind == K_EXEC && c->exited && c->out < 0 && c->err < 0) {
		uint8_t st[2] = { (uint8_t)c->how, (uint8_t)c->code };

		send_frame(SL_EXIT, c->id, st, sizeof(st));
		c->exited = false;
		c->pid = 0;
		chan_free(c);
	} else if (c->kind == K_CONN && c->out < 0) {
		send_frame(SL_CLOSE, c->id, NULL, 0);
		chan_free(c);
	}
}

static int open_port(void)
{
	for (int tries = 0; tries < 500; tries++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char path[300], name[64] = "";
			FILE *f;

			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
			f = fopen(path, "re");
			if (!f)
				continue;
			if (fgets(name, sizeof(name), f) && !strncmp(name, "sl.agent", 8)) {
				int fd;

				fclose(f);
				snprintf(path, sizeof(path), "/dev/%s", de->d_name);
				closedir(d);
				fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
				if (fd >= 0)
					return fd;
				d = NULL;
				break;
			}
			fclose(f);
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	return -1;
}

int main(void)
{
	static uint8_t rx[2 * (SL_HDR_LEN + SL_FRAME_MAX)];
	size_t have = 0;
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGPIPE);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	port = open_port();
	if (port < 0) {
		logmsg("no virtio port named sl.agent");
		/* PID 1 must not exit: wait for reboot. */
		for (;;)
			pause();
	}
	logmsg("serving on the sl.agent port");
	for (;;) {
		struct pollfd pf[2 + 3 * MAX_CHANS];
		int map[3 * MAX_CHANS];
		int n = 0;
		bool throttle = sl_buf_size(&outq) > OUT_HIGH;

		pf[n++] = (struct pollfd){ .fd = port, .events = (short)(POLLIN | (sl_buf_size(&outq) ? POLLOUT : 0)) };
		pf[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (int i = 0; i < MAX_CHANS; i++) {
			struct chan *c = &chans[i];

			if (c->kind == K_FREE)
				continue;
			map[n - 2] = i;
			pf[n++] = (struct pollfd){ .fd = throttle ? -1 : c->out, .events = POLLIN };
			map[n - 2] = i;
			pf[n++] = (struct pollfd){ .fd = throttle ? -1 : c->err, .events = POLLIN };
			map[n - 2] = i;
			pf[n++] = (struct pollfd){ .fd = sl_buf_size(&c->inq) ? c->in : -1, .events = POLLOUT };
		}
		if (poll(pf, (nfds_t)n, -1) < 0 && errno != EINTR)
			continue;
		if (pf[1].revents)
			reap(sfd);
		if (pf[0].revents & POLLOUT)
			sl_buf_flush(&outq, port);
		if (pf[0].revents & POLLIN) {
			ssize_t r = read(port, rx + have, sizeof(rx) - have);

			if (r > 0)
				have += (size_t)r;
			/* No host on the port (it hung up): poll would say so at
			 * once, forever; look again ten times a second instead of
			 * spinning. */
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				usleep(100000);
			for (;;) {
				struct sl_frame f;
				ssize_t used = sl_frame_parse(rx, have, &f);

				if (used == 0)
					break;
				if (used < 0) {
					used = (ssize_t)sl_frame_hunt(rx, have);
				} else {
					handle(&f);
				}
				memmove(rx, rx + used, have - (size_t)used);
				have -= (size_t)used;
			}
		}
		for (int k = 2; k < n; k += 3) {
			struct chan *c = &chans[map[k - 2]];

			if (c->kind != K_FREE)
				service(c, pf[k].revents, pf[k + 1].revents, pf[k + 2].revents);
		}
		/* Children that ended with no output pending still need their EXIT. */
		for (int i = 0; i < MAX_CHANS; i++)
			if (chans[i].kind == K_EXEC && chans[i].exited && chans[i].out < 0 && chans[i].err < 0)
				service(&chans[i], 0, 0, 0);
		if (sl_buf_size(&outq))
			sl_buf_flush(&outq, port);
	}
}
