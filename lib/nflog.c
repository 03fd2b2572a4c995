/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cidr.h"
#include "egress.h"
#include "kv.h"
#include "log.h"
#include "netns.h"
#include "nflog.h"
#include "policy.h"
#include "util.h"
#include "vmnet.h"

struct follow {
	const char *name;
	bool json;
	FILE *out;
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
	struct follow *f = data;
	_cleanup_kv_ struct sl_kv kv = { 0 };
	struct sl_packet d;
	char *payload = NULL, ip[SL_IP_STRLEN], t[32], pb[8];
	const char *why = nflog_get_prefix(nfa);
	int len = nflog_get_payload(nfa, &payload);
	time_t now = time(NULL);
	struct tm tm;

	(void)gh;
	(void)msg;
	if (len < 0 || sl_packet_parse((const uint8_t *)payload, (size_t)len, &d) < 0)
		return 0;
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	sl_ip_fmt(d.dst, ip);
	if (!f->json) {
		if (d.port)
			fprintf(f->out, "%s %s %s %s:%u denied by %s\n", t, f->name,
				proto_name(d.proto, pb), ip, d.port, why ? why : "?");
		else
			fprintf(f->out, "%s %s %s %s denied by %s\n", t, f->name,
				proto_name(d.proto, pb), ip, why ? why : "?");
	} else if (sl_kv_set(&kv, "SL_TIME", t) == 0 && sl_kv_set(&kv, "SL_NAME", f->name) == 0 &&
		   sl_kv_set(&kv, "SL_PROTO", proto_name(d.proto, pb)) == 0 &&
		   sl_kv_set(&kv, "SL_DEST", ip) == 0 &&
		   sl_kv_setf(&kv, "SL_PORT", "%u", d.port) == 0 &&
		   sl_kv_set(&kv, "SL_ENTRY", why ? why : "?") == 0) {
		sl_kv_write(&kv, f->out, true);
	}
	fflush(f->out);
	return 0;
}

/**
 * sl_egress_log() - print the VM's denials as they happen, until killed
 * @name: VM
 * @json: one JSON object a line instead of text
 * @out: where
 *
 * Listens on the NFLOG group of the VM's namespace that the chain's logged
 * drops (drop_logged() in egress.c) send to. The kernel keeps no log: only
 * denials while this runs are seen; the chain's rate limit bounds them.
 *
 * Return: -errno when it cannot listen (it does not return otherwise)
 */
int sl_egress_log(const char *name, bool json, FILE *out)
{
	_cleanup_close_ int nsfd = sl_vm_netns_open(name);
	struct follow f = { .name = name, .json = json, .out = out };
	struct nflog_handle *h = NULL;
	struct nflog_g_handle *gh = NULL;
	char buf[65536];
	int r = 0;

	if (nsfd < 0)
		return nsfd;
	{
		_cleanup_netns_ int saved = sl_netns_enter(nsfd);

		if (saved < 0)
			return saved;
		/* the socket stays in the namespace it was made in */
		h = nflog_open();
		if (!h) {
			sl_set_error("%s: cannot open NFLOG: %s", name, strerror(errno));
			return -errno;
		}
	}
	nflog_bind_pf(h, AF_INET); /* needed before 3.8, harmless since */
	gh = nflog_bind_group(h, SL_NFLOG_GROUP);
	if (!gh || nflog_set_mode(gh, NFULNL_COPY_PACKET, 128) < 0) {
		r = -errno;
		sl_set_error("%s: cannot listen to NFLOG group %d: %s%s", name, SL_NFLOG_GROUP,
			     strerror(errno),
			     errno == EPERM ? " (another sl-egress log follows it: one listener a VM)" : "");
		goto out;
	}
	nflog_callback_register(gh, on_packet, &f);
	for (;;) {
		ssize_t n = recv(nflog_fd(h), buf, sizeof(buf), 0);

		if (n < 0 && (errno == EINTR || errno == ENOBUFS))
			continue; /* ENOBUFS: we were slow and the kernel dropped some */
		if (n < 0) {
			r = -errno;
			sl_set_error("%s: NFLOG: %s", name, strerror(errno));
			break;
		}
		nflog_handle_packet(h, buf, (int)n);
	}
out:
	if (gh)
		nflog_unbind_group(gh);
	nflog_close(h);
	return r;
}
