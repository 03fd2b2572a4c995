/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
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
#include "resolver.h"
#include "state.h"
#include "util.h"
#include "vmnet.h"

struct follow {
	const char *name;
	bool json;
	FILE *out;
	char dns_path[4096]; /* the resolver's refused names */
	FILE *dns;
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

/* One denial, as text or a JSON object; port 0: none. */
static void print_denial(struct follow *f, const char *t, const char *proto, const char *dest,
			 unsigned port, const char *why)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };

	if (!f->json) {
		if (port)
			fprintf(f->out, "%s %s %s %s:%u denied by %s\n", t, f->name, proto, dest,
				port, why);
		else
			fprintf(f->out, "%s %s %s %s denied by %s\n", t, f->name, proto, dest, why);
	} else if (sl_kv_set(&kv, "SL_TIME", t) == 0 && sl_kv_set(&kv, "SL_NAME", f->name) == 0 &&
		   sl_kv_set(&kv, "SL_PROTO", proto) == 0 && sl_kv_set(&kv, "SL_DEST", dest) == 0 &&
		   sl_kv_setf(&kv, "SL_PORT", "%u", port) == 0 &&
		   sl_kv_set(&kv, "SL_ENTRY", why) == 0) {
		sl_kv_write(&kv, f->out, true);
	}
	fflush(f->out);
}

static int on_packet(struct nflog_g_handle *gh, struct nfgenmsg *msg, struct nflog_data *nfa,
		     void *data)
{
	struct follow *f = data;
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
	print_denial(f, t, proto_name(d.proto, pb), sl_ip_fmt(d.dst, ip), d.port, why ? why : "?");
	return 0;
}

/* The resolver's lines ("TIME NAME dns QNAME denied by ENTRY") from @in, to its end. */
static void dns_lines(struct follow *f, FILE *in)
{
	char line[640], t[32], vm[32], proto[8], dest[SL_DNS_NAME_MAX + 2], why[64];

	while (fgets(line, sizeof(line), in))
		if (sscanf(line, "%31s %31s %7s %254s denied by %63s", t, vm, proto, dest, why) == 5)
			print_denial(f, t, proto, dest, 0, why);
	clearerr(in);
}

/* What the resolver refused so far: the rotated log, then the current one, kept open. */
static void dns_past(struct follow *f)
{
	char old[4200];
	FILE *in;

	if (sl_run_path(f->dns_path, sizeof(f->dns_path), "%s/%s", f->name, SL_DNS_LOG) < 0)
		return;
	snprintf(old, sizeof(old), "%s.1", f->dns_path);
	if ((in = sl_run_fopen(old, false))) {
		dns_lines(f, in);
		fclose(in);
	}
	if ((f->dns = sl_run_fopen(f->dns_path, false)))
		dns_lines(f, f->dns);
}

/* Following: new lines, and the new file after a rotation. */
static void dns_more(struct follow *f)
{
	struct stat now, open_st;

	if (!f->dns) {
		f->dns = sl_run_fopen(f->dns_path, false);
		if (!f->dns)
			return;
	}
	dns_lines(f, f->dns);
	if (stat(f->dns_path, &now) == 0 && fstat(fileno(f->dns), &open_st) == 0 &&
	    now.st_ino != open_st.st_ino) {
		fclose(f->dns);
		f->dns = NULL;
		dns_more(f);
	}
}

/**
 * sl_egress_log() - print the VM's denials
 * @name: VM
 * @json: one JSON object a line instead of text
 * @follow: go on printing them as they happen, until killed
 * @out: where
 *
 * First the names its resolver refused (dns.log, kept and capped). Then,
 * following, those and the packets its rules dropped: this listens on the
 * NFLOG group of the VM's namespace that the chain's logged drops
 * (drop_logged() in egress.c) send to. The kernel keeps no log of packets:
 * only denials while this runs are seen; the chain's rate limit bounds them.
 *
 * Return: 0 (not following), -errno when it cannot listen (following, it
 * does not return otherwise)
 */
int sl_egress_log(const char *name, bool json, bool follow, FILE *out)
{
	_cleanup_close_ int nsfd = sl_vm_netns_open(name);
	struct follow f = { .name = name, .json = json, .out = out };
	struct nflog_handle *h = NULL;
	struct nflog_g_handle *gh = NULL;
	char buf[65536];
	int r = 0;

	if (nsfd < 0)
		return nsfd;
	dns_past(&f);
	if (!follow) {
		if (f.dns)
			fclose(f.dns);
		return 0;
	}
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
		struct pollfd pf = { nflog_fd(h), POLLIN, 0 };
		ssize_t n;

		dns_more(&f);
		if (poll(&pf, 1, 250) <= 0)
			continue;
		n = recv(nflog_fd(h), buf, sizeof(buf), 0);
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
	if (f.dns)
		fclose(f.dns);
	return r;
}
