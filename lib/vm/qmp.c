/* SPDX-License-Identifier: MIT */
/*
 * A QMP client for one VM's QEMU: its monitor socket in the VM's run dir,
 * one command at a time, asynchronous events skipped. What snapshot,
 * restore, pause and resume need and no more.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"
#include "state.h"
#include "util.h"
#include "vm.h"

static int connect_once(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

/* One JSON object a line, as QEMU writes them; events are skipped by the caller. */
static int read_obj(struct sl_qmp *q, json_object **obj, struct sl_error *err)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->have);
		struct pollfd pf = { .fd = q->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*obj = json_tokener_parse(q->buf);
			q->have -= (size_t)(nl + 1 - q->buf);
			memmove(q->buf, nl + 1, q->have);
			if (!*obj)
				return sl_error(err, -EPROTO, "QEMU's monitor sent what is not JSON");
			return 0;
		}
		if (q->have >= sizeof(q->buf) - 1)
			return sl_error(err, -E2BIG, "a line from QEMU's monitor over %zu bytes",
					sizeof(q->buf));
		if (poll(&pf, 1, q->timeout_ms) <= 0)
			return sl_error(err, -ETIMEDOUT, "QEMU's monitor did not answer within %d ms",
					q->timeout_ms);
		n = read(q->fd, q->buf + q->have, sizeof(q->buf) - 1 - q->have);
		if (n <= 0)
			return sl_error(err, n < 0 ? -errno : -ECONNRESET, "QEMU's monitor: %s",
					n < 0 ? strerror(errno) : "QEMU went away");
		q->have += (size_t)n;
	}
}

/**
 * sl_qmp_open() - connect to a VM's monitor and leave negotiation mode
 * @q: the connection, filled
 * @name: VM
 * @wait_ms: how long QEMU may take to make its socket (a VM just started)
 * @err: why, when it fails
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_qmp_open(struct sl_qmp *q, const char *name, int wait_ms, struct sl_error *err)
{
	char path[4096];
	json_object *greeting = NULL, *ret = NULL;
	long long until = sl_now_ms() + wait_ms;
	int r;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->timeout_ms = 30000;
	if (sl_run_path(path, sizeof(path), "%s/%s", name, SL_QMP_SOCK) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: run dir path too long", name);
	while ((r = connect_once(path)) < 0 && (r == -ENOENT || r == -ECONNREFUSED) &&
	       sl_now_ms() < until)
		usleep(2000);
	if (r < 0)
		return sl_error(err, r, "%s: QEMU's monitor %s: %s", name, path, strerror(-r));
	q->fd = r;
	if ((r = read_obj(q, &greeting, err)) < 0)
		return r;
	json_object_put(greeting);
	r = sl_qmp_cmd(q, "qmp_capabilities", NULL, -1, &ret, err);
	json_object_put(ret);
	return r;
}

void sl_qmp_close(struct sl_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

/* The command line, with @pass_fd (if >= 0) riding along for getfd. */
static int send_cmd(struct sl_qmp *q, const char *s, int pass_fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)s, .iov_len = strlen(s) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass_fd >= 0) {
		struct cmsghdr *c;

		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	if (sendmsg(q->fd, &m, MSG_NOSIGNAL) != (ssize_t)iov.iov_len)
		return -errno ? -errno : -EIO;
	return 0;
}

/**
 * sl_qmp_cmd() - run one command and wait for its answer
 * @q: connection
 * @cmd: the command's name
 * @args: its arguments, or NULL (borrowed)
 * @pass_fd: an fd sent with it (getfd), or -1
 * @ret: its "return" value (json_object_put() it), NULL on failure
 * @err: QEMU's own description when it refused, or why the call failed
 *
 * Return: 0, -EIO when QEMU answered with an error, or -errno
 */
int sl_qmp_cmd(struct sl_qmp *q, const char *cmd, json_object *args, int pass_fd,
	       json_object **ret, struct sl_error *err)
{
	json_object *o = json_object_new_object(), *ans = NULL, *v;
	int r;

	*ret = NULL;
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(o, "arguments", json_object_get(args));
	r = send_cmd(q, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), pass_fd);
	json_object_put(o);
	if (r < 0)
		return sl_error(err, r, "QEMU's monitor: %s", strerror(-r));
	/* our answer is the first object that is not an event */
	while ((r = read_obj(q, &ans, err)) == 0 && json_object_object_get_ex(ans, "event", NULL)) {
		json_object_put(ans);
		ans = NULL;
	}
	if (r < 0)
		return r;
	if (json_object_object_get_ex(ans, "return", &v)) {
		*ret = json_object_get(v);
		r = 0;
	} else {
		json_object *e = NULL, *d = NULL;

		json_object_object_get_ex(ans, "error", &e);
		json_object_object_get_ex(e, "desc", &d);
		r = sl_error(err, -EIO, "QEMU refused %s: %s", cmd,
			     d ? json_object_get_string(d) : "no reason given");
	}
	json_object_put(ans);
	return r;
}

/**
 * sl_qmp_simple() - sl_qmp_cmd() for a command whose answer does not matter
 */
int sl_qmp_simple(struct sl_qmp *q, const char *cmd, json_object *args, struct sl_error *err)
{
	json_object *ret = NULL;
	int r = sl_qmp_cmd(q, cmd, args, -1, &ret, err);

	json_object_put(ret);
	return r;
}

