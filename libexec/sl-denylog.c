/* SPDX-License-Identifier: MIT */
/*
 * sl-denylog: keeps the packets a VM's rules dropped in its denied.log.
 * Started by `sl-egress apply` for every isolated VM (lib/daemon.c), never
 * by hand: `sl-denylog NAME` with fd 3 a pipe it writes "ok" or its error
 * to once it listens. It lives in the VM's namespace and listens on the
 * NFLOG group that the chain's logged drops send to (drop_logged() in
 * lib/egress.c; their rate limit bounds what comes). The kernel keeps no
 * log of its own: without this, a denial nobody was watching is lost.
 * SIGTERM ends it; so does the namespace going away. SIGHUP (a new policy)
 * changes nothing here: the entry that decided comes with each packet.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cidr.h"
#include "daemon.h"
#include "denials.h"
#include "egress.h"
#include "error.h"
#include "log.h"
#include "name.h"
#include "nflog.h"
#include "policy.h"
#include "util.h"

struct denylog {
	const char *name;
	struct stat ns;
	int sig;
	struct sl_nflog *nl;
};

static void on_packet(const struct sl_packet *pkt, const char *why, unsigned indev, void *data)
{
	struct denylog *L = data;
	struct sl_denial d;
	static bool warned; /* its own log is not to grow with the denials */
	int r;

	(void)indev;
	sl_denial_from_packet(&d, L->name, pkt, why);
	if ((r = sl_denial_append(L->name, SL_DENIED_LOG, &d)) < 0 && !warned) {
		sl_warn("%s: cannot write %s: %s", L->name, SL_DENIED_LOG, strerror(-r));
		warned = true;
	}
}

static int setup(struct denylog *L, struct sl_error *err)
{
	int r;

	if ((r = sl_daemon_enter(L->name, &L->ns, err)) < 0)
		return r;
	/* the socket is made in the namespace: NFLOG groups are per namespace */
	if ((r = sl_nflog_open(&L->nl, SL_NFLOG_GROUP, on_packet, L, err)) < 0)
		return sl_error_wrap(err, r, "%s", L->name);
	L->sig = sl_daemon_signals();
	return L->sig < 0 ? L->sig : 0;
}

static int serve(struct denylog *L)
{
	for (;;) {
		struct pollfd pf[2] = { { L->sig, POLLIN, 0 }, { sl_nflog_fd(L->nl), POLLIN, 0 } };
		int r;

		if (poll(pf, 2, 500) < 0 && errno != EINTR)
			return -errno;
		if (!sl_daemon_ns_alive(L->name, &L->ns))
			return 0;
		if (pf[0].revents) {
			struct signalfd_siginfo si;

			if (read(L->sig, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return 0;
		}
		if (!pf[1].revents)
			continue;
		if ((r = sl_nflog_read(L->nl)) < 0) {
			sl_warn("%s: NFLOG: %s", L->name, strerror(-r));
			return r;
		}
	}
}

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
	struct denylog L = { .sig = -1 };
	int r;

	sl_log_init(argv[0]);
	if (argc != 2 || sl_name_check(argv[1], err) < 0) {
		dprintf(3, "usage: sl-denylog NAME (run by sl-egress apply)\n");
		sl_die(2, "usage: sl-denylog NAME (run by sl-egress apply)");
	}
	L.name = argv[1];
	r = sl_daemon_ready(&sl_denylog, L.name, setup(&L, err), err);
	if (r < 0)
		sl_die(1, "%s", sl_error_msg(err, r));
	r = serve(&L);
	sl_nflog_close(L.nl);
	return r < 0 ? 1 : 0;
}
