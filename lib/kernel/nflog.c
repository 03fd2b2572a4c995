/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nflog.h"

struct sl_nflog {
	struct nflog_handle *h;
	struct nflog_g_handle *gh;
	sl_nflog_cb cb;
	void *arg;
};

static int on_packet(struct nflog_g_handle *gh, struct nfgenmsg *msg, struct nflog_data *nfa,
		     void *data)
{
	struct sl_nflog *l = data;
	struct sl_packet pkt;
	char *payload = NULL;
	int len = nflog_get_payload(nfa, &payload);

	(void)gh;
	(void)msg;
	if (len < 0 || sl_packet_parse((const uint8_t *)payload, (size_t)len, &pkt) < 0)
		return 0;
	l->cb(&pkt, nflog_get_prefix(nfa) ?: "?", nflog_get_indev(nfa), l->arg);
	return 0;
}

/**
 * sl_nflog_open() - listen to an NFLOG group of the current namespace
 * @l: result; sl_nflog_close() it
 * @group: the group
 * @cb: called for each packet that sl_nflog_read() takes
 * @arg: its argument
 * @err: why, when it fails
 *
 * A group has one listener per namespace: a second one is refused (EPERM
 * or EBUSY), said so.
 *
 * Return: 0 or -errno
 */
int sl_nflog_open(struct sl_nflog **l, int group, sl_nflog_cb cb, void *arg,
		  struct sl_error *err)
{
	struct sl_nflog *n = calloc(1, sizeof(*n));
	int e;

	if (!n)
		return -ENOMEM;
	n->cb = cb;
	n->arg = arg;
	n->h = nflog_open();
	if (!n->h) {
		e = errno;
		free(n);
		return sl_error(err, -e, "cannot open NFLOG: %s", strerror(e));
	}
	nflog_bind_pf(n->h, AF_INET); /* needed before 3.8, harmless since */
	n->gh = nflog_bind_group(n->h, (uint16_t)group);
	if (!n->gh || nflog_set_mode(n->gh, NFULNL_COPY_PACKET, 128) < 0) {
		e = errno ? errno : EIO;
		sl_nflog_close(n);
		return sl_error(err, -e, "cannot listen to NFLOG group %d: %s%s", group, strerror(e),
				e == EPERM || e == EBUSY
					? " (something else listens to it in this namespace)"
					: "");
	}
	nflog_callback_register(n->gh, on_packet, n);
	*l = n;
	return 0;
}

int sl_nflog_fd(const struct sl_nflog *l)
{
	return nflog_fd(l->h);
}

/**
 * sl_nflog_read() - take what is waiting on the socket, calling back per packet
 * @l: the listener
 *
 * Return: 0 (also when nothing waited, or the kernel dropped some because we
 * were slow: ENOBUFS), or -errno
 */
int sl_nflog_read(struct sl_nflog *l)
{
	static char buf[65536];
	ssize_t n = recv(nflog_fd(l->h), buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN || errno == ENOBUFS ? 0 : -errno;
	nflog_handle_packet(l->h, buf, (int)n);
	return 0;
}

void sl_nflog_close(struct sl_nflog *l)
{
	if (!l)
		return;
	if (l->gh)
		nflog_unbind_group(l->gh);
	if (l->h)
		nflog_close(l->h);
	free(l);
}
