/* SPDX-License-Identifier: MIT */
/* sl-exec forward: a host port relayed to a port the guest reaches, through its agent. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "error.h"
#include "forward.h"
#include "log.h"

/**
 * sl_forward_parse() - read sl-exec forward's [BIND:]LPORT:HOST:RPORT
 * @spec: as the user wrote it
 * @f: result: where to listen (BIND defaults to 127.0.0.1), what to reach
 * @err: why, when it is bad
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_forward_parse(const char *spec, struct sl_fwd *f, struct sl_error *err)
{
	const char *p = spec, *c, *rport;
	unsigned long lport, rp;
	char *end = NULL, *rend = NULL;
	int n = 0;

	snprintf(f->bind, sizeof(f->bind), "127.0.0.1");
	f->sa = (struct sockaddr_in){ .sin_family = AF_INET };
	for (c = spec; *c; c++)
		n += *c == ':';
	if (n == 3) {
		c = strchr(spec, ':');
		snprintf(f->bind, sizeof(f->bind), "%.*s", (int)(c - spec), spec);
		p = c + 1;
	}
	/* ports as numbers only: strtoul alone takes "-1" and " 80" */
	lport = *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
	rport = n == 2 || n == 3 ? strrchr(spec, ':') + 1 : "";
	rp = *rport >= '0' && *rport <= '9' ? strtoul(rport, &rend, 10) : 0;
	if ((n != 2 && n != 3) || !lport || lport > 65535 || !end || *end != ':' || end[1] == ':' ||
	    !rp || rp > 65535 || !rend || *rend || inet_pton(AF_INET, f->bind, &f->sa.sin_addr) != 1)
		return sl_error(err, -EINVAL, "bad forward '%s': want [BIND:]LPORT:HOST:RPORT",
				spec);
	if (strlen(end + 1) >= sizeof(f->target))
		return sl_error(err, -EINVAL, "bad forward: HOST:RPORT is over %zu bytes",
				sizeof(f->target) - 1);
	f->lport = (unsigned)lport;
	snprintf(f->target, sizeof(f->target), "%s", end + 1);
	f->sa.sin_port = htons((uint16_t)f->lport);
	return 0;
}

/*
 * One connection, in a child of its own: relayed to the target through the
 * agent. Nobody waits for the child: it says its failure itself.
 */
static void forward_one(const char *name, const char *target, int c, struct sl_error *err)
{
	int s = sl_agent_connect(name, err), r;

	if ((r = s) < 0 || (r = sl_agent_connect_tcp(s, target, c, err)) < 0) {
		sl_err("%s", sl_error_msg(err, r));
		_exit(1);
	}
	_exit(0);
}

/**
 * sl_forward() - sl-exec forward: listen on the host, relay each connection
 * to HOST:RPORT as the guest reaches it, through the agent
 * @name: VM
 * @spec: [BIND:]LPORT:HOST:RPORT
 * @err: why, when it fails
 *
 * Runs until it fails (or the process is ended).
 *
 * Return: -errno with the error recorded
 */
int sl_forward(const char *name, const char *spec, struct sl_error *err)
{
	struct sl_fwd f = { 0 };
	int fd, one = 1, s;

	if ((s = sl_forward_parse(spec, &f, err)) < 0)
		return s;
	/* Fail now, not at the first connection, when the VM is not running. */
	if ((s = sl_agent_connect(name, err)) < 0)
		return s;
	close(s);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&f.sa, sizeof(f.sa)) < 0 || listen(fd, 64) < 0)
		return sl_error(err, -EADDRINUSE, "forward: cannot listen on %s:%u: %s", f.bind,
				f.lport, strerror(errno));
	signal(SIGCHLD, SIG_IGN); /* no zombies from the per-connection children */
	sl_info("forwarding %s:%u to %s in %s (Ctrl-C stops)", f.bind, f.lport, f.target, name);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			return -errno;
		if (fork() == 0) {
			close(fd);
			forward_one(name, f.target, c, err);
		}
		close(c);
	}
}
