/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conntrack.h"
#include "error.h"
#include "log.h"

struct cut {
	const struct sl_policy *pol;
	uint32_t vm;
	struct nf_conntrack **v;
	size_t n, cap;
	int err;
};

/* Would the policy drop this flow if it started now? Then keep a copy. */
static int visit(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct cut *c = data;
	struct sl_packet pkt = { 0 };
	uint8_t proto;
	int i;

	(void)type;
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) != AF_INET ||
	    ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC)) != c->vm)
		return NFCT_CB_CONTINUE;
	pkt.dst = ntohl(nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST));
	proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		pkt.proto = proto;
		pkt.port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	}
	i = sl_policy_decide(c->pol, &pkt);
	if (i < 0 ? c->pol->default_allow : c->pol->v[i].allow)
		return NFCT_CB_CONTINUE;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct nf_conntrack **nv = realloc(c->v, cap * sizeof(struct nf_conntrack *));

		if (!nv) {
			c->err = -ENOMEM;
			return NFCT_CB_STOP;
		}
		c->v = nv;
		c->cap = cap;
	}
	if (!(c->v[c->n] = nfct_clone(ct))) {
		c->err = -ENOMEM;
		return NFCT_CB_STOP;
	}
	c->n++;
	return NFCT_CB_CONTINUE;
}

/*
 * Does the namespace track no flow at all? The count is the namespace's own
 * (the file is opened in it); a dump walks the host's whole table (262144
 * buckets here, about 1.5 ms) even for a namespace with nothing in it.
 * Unknown is "no": then the dump decides.
 */
static bool no_flows(void)
{
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "re");
	unsigned long n = 1;

	if (f) {
		if (fscanf(f, "%lu", &n) != 1)
			n = 1;
		fclose(f);
	}
	return n == 0;
}

/**
 * sl_conntrack_cut() - end the VM's flows that its policy now drops
 * @pol: the policy just applied
 * @vm: the VM's address
 * @err: why, when it fails
 *
 * The namespace's chain accepts ESTABLISHED before any entry, so a new
 * policy alone would let open connections run on. Each flow the VM
 * started is decided again by sl_policy_decide(), the order the chain has,
 * and forgotten by conntrack when the answer is now drop: its next packet
 * is NEW and meets the new rules. Flows still allowed are not touched. The
 * caller is in the VM's namespace (its conntrack table is the namespace's).
 *
 * Return: how many flows were cut, or -errno with the error recorded
 */
int sl_conntrack_cut(const struct sl_policy *pol, uint32_t vm, struct sl_error *err)
{
	struct cut c = { .pol = pol, .vm = vm };
	struct nfct_handle *h;
	uint32_t family = AF_INET;
	int r = 0;

	/* the rules are in: a flow that starts now meets them, one from before is counted */
	if (no_flows())
		return 0;
	h = nfct_open(CONNTRACK, 0);
	if (!h)
		return sl_error(err, -errno, "conntrack: cannot open the table: %s",
				strerror(errno));
	nfct_callback_register(h, NFCT_T_ALL, visit, &c);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0 && !c.err) {
		r = -errno;
		sl_error(err, r, "conntrack: cannot list the flows: %s", strerror(errno));
	}
	if (c.err)
		r = c.err;
	for (size_t i = 0; i < c.n; i++) {
		/* gone meanwhile is as good as cut */
		if (!r && nfct_query(h, NFCT_Q_DESTROY, c.v[i]) < 0 && errno != ENOENT) {
			r = -errno;
			sl_error(err, r, "conntrack: cannot cut a flow: %s", strerror(errno));
		}
		nfct_destroy(c.v[i]);
	}
	free(c.v);
	nfct_close(h);
	return r < 0 ? r : (int)c.n;
}
