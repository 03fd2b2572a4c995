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
#include <libnetfilter_log/libnetfilter_log.h>
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
#include "policy.h"
#include "util.h"

struct denylog {
	const char *name;
	struct stat ns;
	int sig;
	struct nflog_handle *h;
	struct nflog_g_handle *gh;
};

static const char *proto_name(uint8_t p, char buf[8])
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		snprintf(buf, 8, "%u", p);
		return buf;
	}
}

static int on_packet(struct nflog_g_handle *gh, struct nfgenmsg *msg, struct nflog_data *nfa,
		     void *data)
{
	struct denylog *L = data;
	struct sl_denial d = { 0 };
	struct sl_packet pkt;
	char *payload = NULL, pb[8];
	const char *why = nflog_get_prefix(nfa);
	int len = nflog_get_payload(nfa, &payload), r;
	static bool warned; /* its own log is not to grow with the denials */

	(void)gh;
	(void)msg;
	if (len < 0 || sl_packet_parse((const uint8_t *)payload, (size_t)len, &pkt) < 0)
		return 0;
	sl_denial_now(d.time);
	snprintf(d.vm, sizeof(d.vm), "%s", L->name);
	snprintf(d.proto, sizeof(d.proto), "%s", proto_name(pkt.proto, pb));
	sl_ip_fmt(pkt.dst, d.dest);
	d.port = pkt.port;
	snprintf(d.entry, sizeof(d.entry), "%s", why ? why : "?");
	if ((r = sl_denial_append(L->name, SL_DENIED_LOG, &d)) < 0 && !warned) {
		sl_warn("%s: cannot write %s: %s", L->name, SL_DENIED_LOG, strerror(-r));
		warned = true;
	}
	return 0;
}

static int setup(struct denylog *L, struct sl_error *err)
{
	int r;

	if ((r = sl_daemon_enter(L->name, &L->ns, err)) < 0)
		return r;
	/* the socket is made in the namespace: NFLOG groups are per namespace */
	if (!(L->h = nflog_open()))
		return sl_error(err, -errno, "%s: cannot open NFLOG: %s", L->name, strerror(errno));
	nflog_bind_pf(L->h, AF_INET); /* needed before 3.8, harmless since */
	L->gh = nflog_bind_group(L->h, SL_NFLOG_GROUP);
	if (!L->gh || nflog_set_mode(L->gh, NFULNL_COPY_PACKET, 128) < 0)
		return sl_error(err, -errno, "%s: cannot listen to NFLOG group %d: %s%s", L->name,
				SL_NFLOG_GROUP, strerror(errno),
				errno == EPERM ? " (something else listens to it in this namespace)"
					       : "");
	nflog_callback_register(L->gh, on_packet, L);
	L->sig = sl_daemon_signals();
	return L->sig < 0 ? L->sig : 0;
}

static int serve(struct denylog *L)
{
	static char buf[65536];

	for (;;) {
		struct pollfd pf[2] = { { L->sig, POLLIN, 0 }, { nflog_fd(L->h), POLLIN, 0 } };
		ssize_t n;

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
		n = recv(nflog_fd(L->h), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOBUFS))
			continue; /* ENOBUFS: we were slow and the kernel dropped some */
		if (n < 0) {
			sl_warn("%s: NFLOG: %s", L->name, strerror(errno));
			return -errno;
		}
		nflog_handle_packet(L->h, buf, (int)n);
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
	nflog_unbind_group(L.gh);
	nflog_close(L.h);
	return r < 0 ? 1 : 0;
}
