/* SPDX-License-Identifier: MIT */
/*
 * sl-resolve: the resolver of a VM whose allow list holds DNS names.
 * Started by `sl-egress apply` (lib/daemon.c), never by hand:
 * `sl-resolve NAME` with fd 3 a pipe it writes "ok" or its error to once
 * it listens. It lives in the VM's namespace, on the gateway's address,
 * port 53 (UDP and TCP); the namespace's rules let the guest reach no other
 * resolver (lib/egress.c).
 *
 * A query for a name an allow entry covers goes to the upstream servers
 * (SL_DNS_UPSTREAM); the A records of the answer, after its CNAMEs, are
 * added to that entry's ip set for their TTL (clamped) *before* the answer
 * is passed on, so the guest never holds an address its rules do not yet
 * allow, with TTLs no longer than the set keeps them. An address a drop
 * entry covers, or in a private, loopback, link-local (...) range that no
 * allow entry covers, never joins a set (sl_policy_name_may_open()): a
 * line in dns.log says which name gave it. Other names get REFUSED and a
 * line in dns.log, at most SL_DENIAL_RATE a second and a count of the rest;
 * AAAA gets no data.
 * SIGHUP re-reads the VM's lists; SIGTERM ends it; so does the namespace
 * going away.
 *
 * Memory is bounded: PENDING queries in flight, TCP_CLIENTS connections,
 * each message at most SL_DNS_MSG_MAX bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "dns.h"
#include "error.h"
#include "ipset.h"
#include "kv.h"
#include "log.h"
#include "name.h"
#include "policy.h"
#include "daemon.h"
#include "denials.h"
#include "state.h"
#include "util.h"

#define PENDING 64
#define TCP_CLIENTS 8
#define UPSTREAMS 3
#define TRY_MS 1500   /* then the next upstream */
#define GIVE_UP_MS 4000
#define TCP_IDLE_MS 3000

struct pending {
	bool used;
	uint16_t up_id;
	struct sl_dns_query q;   /* as the guest asked: its id */
	int tcp;                 /* -1: UDP, else the client slot */
	struct sockaddr_in from; /* UDP */
	unsigned tries;
	long long sent_ms;
	size_t len;
	uint8_t msg[SL_DNS_MSG_MAX];
};

struct tcp_client {
	int fd;
	long long last_ms;
	size_t have;
	uint8_t buf[2 + SL_DNS_MSG_MAX];
};

struct resolver {
	const char *name;
	uint32_t gw;
	struct sl_entry_list allow, drop;
	struct sl_policy pol;
	struct sl_denial_rate dns_log;
	struct sockaddr_in up[UPSTREAMS];
	size_t nup;
	unsigned ttl_min, ttl_max;
	int udp, tcp, upfd, sig;
	struct sl_ipset *sets;
	struct pending pend[PENDING];
	struct tcp_client cl[TCP_CLIENTS];
	struct stat ns; /* our namespace, to see it go */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned num_or(const char *v, unsigned def)
{
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 10);
	return *end || n > 86400 ? def : (unsigned)n;
}

/* The VM's lists and upstreams from its state file: at start and on SIGHUP. */
static int load(struct resolver *R, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	struct sl_entry_list allow = { 0 }, drop = { 0 };
	const char *ip, *a, *d, *up;
	char *save = NULL, *copy;
	uint32_t addr;
	int r;

	if ((r = sl_state_load(R->name, &kv, err)) < 0)
		return r;
	ip = sl_kv_get(&kv, "SL_IP");
	if (!ip || sl_ip_parse(ip, &addr) < 0)
		return sl_error(err, -EINVAL, "%s: no SL_IP in its state", R->name);
	R->gw = addr - 1;
	if ((a = sl_kv_get(&kv, "SL_ALLOW")) && sl_entry_list_add(&allow, a, "SL_ALLOW", err) < 0)
		return -EINVAL;
	if ((d = sl_kv_get(&kv, "SL_DROP")) && sl_entry_list_add(&drop, d, "SL_DROP", err) < 0) {
		sl_entry_list_free(&allow);
		return -EINVAL;
	}
	sl_policy_free(&R->pol);
	sl_entry_list_free(&R->allow);
	sl_entry_list_free(&R->drop);
	R->allow = allow;
	R->drop = drop;
	{
		struct sl_entry_list none = { 0 };

		if ((r = sl_policy_build(&R->allow, &none, &R->pol)) < 0)
			return r;
	}
	up = sl_kv_get(&kv, "SL_DNS_UPSTREAM");
	if (!up || !(copy = strdup(up)))
		return up ? -ENOMEM : sl_error(err, -EINVAL, "%s: no SL_DNS_UPSTREAM", R->name);
	R->nup = 0;
	for (char *t = strtok_r(copy, ", ", &save); t && R->nup < UPSTREAMS;
	     t = strtok_r(NULL, ", ", &save)) {
		if (sl_ip_parse(t, &addr) < 0)
			continue;
		R->up[R->nup] = (struct sockaddr_in){ .sin_family = AF_INET,
						       .sin_port = htons(53),
						       .sin_addr.s_addr = htonl(addr) };
		R->nup++;
	}
	free(copy);
	if (!R->nup)
		return sl_error(err, -EINVAL, "%s: SL_DNS_UPSTREAM '%s' holds no address", R->name,
				up);
	R->ttl_min = num_or(sl_kv_get(&kv, "SL_DNS_TTL_MIN"), SL_DNS_TTL_MIN);
	R->ttl_max = num_or(sl_kv_get(&kv, "SL_DNS_TTL_MAX"), SL_DNS_TTL_MAX);
	if (R->ttl_max < R->ttl_min)
		R->ttl_max = R->ttl_min;
	return 0;
}

static int listen_on(struct resolver *R, struct sl_error *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53),
				 .sin_addr.s_addr = htonl(R->gw) };
	int one = 1;

	R->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	R->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	R->upfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (R->udp < 0 || R->tcp < 0 || R->upfd < 0)
		goto fail;
	setsockopt(R->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The gateway's address may come later (sl-tap after sl-egress, by hand). */
	setsockopt(R->udp, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	setsockopt(R->tcp, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(R->udp, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    bind(R->tcp, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(R->tcp, TCP_CLIENTS) < 0)
		goto fail;
	return 0;
fail:
	return sl_error(err, -errno, "%s: cannot listen on port 53 of the gateway: %s", R->name,
			strerror(errno));
}

/* A denied name, in dns.log as `sl-egress log` prints it. */
/* A line in dns.log: a name refused, or (with @addr) an address a name's answer may not open. */
static void log_denied(struct resolver *R, const char *qname, const uint32_t *addr,
		       const char *why)
{
	struct sl_denial d = { 0 };
	static bool warned; /* its own log is not to grow with the denials */
	char ip[SL_IP_STRLEN];
	int r;

	sl_denial_now(d.time);
	snprintf(d.vm, sizeof(d.vm), "%s", R->name);
	snprintf(d.proto, sizeof(d.proto), "dns");
	if (addr)
		snprintf(d.dest, sizeof(d.dest), "%s=%s", qname, sl_ip_fmt(*addr, ip));
	else
		snprintf(d.dest, sizeof(d.dest), "%s", qname[0] ? qname : ".");
	snprintf(d.entry, sizeof(d.entry), "%s", why);
	r = sl_denial_append_limited(R->name, SL_DNS_LOG, &R->dns_log, &d, now_ms());
	if (r < 0 && !warned) {
		sl_warn("%s: cannot write %s: %s", R->name, SL_DNS_LOG, strerror(-r));
		warned = true;
	}
}

static void tcp_close(struct tcp_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
}

/* An answer to the guest, by the way its query came. */
static void send_client(struct resolver *R, int tcp, const struct sockaddr_in *from,
			const uint8_t *msg, size_t len)
{
	if (tcp < 0) {
		sendto(R->udp, msg, len, MSG_DONTWAIT, (const struct sockaddr *)from,
		       sizeof(*from));
	} else if (R->cl[tcp].fd >= 0) {
		uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
		struct iovec iov[2] = { { hdr, 2 }, { (void *)msg, len } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		if (sendmsg(R->cl[tcp].fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len + 2)
			tcp_close(&R->cl[tcp]);
	}
}

static void answer_self(struct resolver *R, int tcp, const struct sockaddr_in *from,
			const uint8_t *q, size_t n, unsigned rcode)
{
	uint8_t out[SL_DNS_MSG_MAX];
	int len = sl_dns_reply(q, n, rcode, out, sizeof(out));

	if (len > 0)
		send_client(R, tcp, from, out, (size_t)len);
}

static void send_upstream(struct resolver *R, struct pending *p)
{
	const struct sockaddr_in *to = &R->up[p->tries % R->nup];

	p->sent_ms = now_ms();
	p->tries++;
	sendto(R->upfd, p->msg, p->len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

/* A query from the guest: answered here, or sent on. */
static void on_query(struct resolver *R, int tcp, const struct sockaddr_in *from,
		     const uint8_t *msg, size_t n)
{
	struct sl_dns_query q;
	struct pending *p = NULL;
	uint16_t id;

	if (sl_dns_query_parse(msg, n, &q) < 0)
		return; /* not a query: no answer */
	if (q.qtype == SL_DNS_TYPE_AAAA) {
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_NOERROR);
		return;
	}
	/* With no name left in the list (a live update), names are not policed. */
	if (sl_entry_list_names(&R->allow) && sl_policy_decide_name(&R->pol, q.name) < 0) {
		log_denied(R, q.name, NULL, "default");
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_REFUSED);
		return;
	}
	for (size_t i = 0; i < PENDING && !p; i++)
		if (!R->pend[i].used)
			p = &R->pend[i];
	if (!p) {
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_SERVFAIL);
		return;
	}
	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (uint16_t)now_ms();
		for (size_t i = 0; i < PENDING; i++)
			if (R->pend[i].used && R->pend[i].up_id == id)
				id = 0;
	} while (!id);
	*p = (struct pending){ .used = true, .up_id = id, .q = q, .tcp = tcp, .len = n };
	if (from)
		p->from = *from;
	memcpy(p->msg, msg, n);
	p->msg[0] = (uint8_t)(id >> 8);
	p->msg[1] = (uint8_t)id;
	send_upstream(R, p);
}

/* The guest's own id back on a message that carries the upstream's. */
static void guest_id(const struct pending *p, uint8_t *msg)
{
	msg[0] = (uint8_t)(p->q.id >> 8);
	msg[1] = (uint8_t)p->q.id;
}

static unsigned kept_ttl(const struct resolver *R, unsigned ttl)
{
	return ttl < R->ttl_min ? R->ttl_min : ttl > R->ttl_max ? R->ttl_max : ttl;
}

/*
 * An answer's addresses into the set of every entry that covers the name,
 * all or none: a failure takes back what this answer added. An address the
 * lists keep from names is said once in dns.log and added nowhere.
 */
static int open_addrs(struct resolver *R, const struct pending *p,
		      const struct sl_dns_addr *addrs, int k, struct sl_error *err)
{
	_cleanup_free_ struct added { size_t e; int a; } *done = NULL;
	uint64_t refused = 0; /* bit a: address a was refused and said */
	size_t ndone = 0;
	int r = 0;

	if (k > 0 && !(done = calloc(R->pol.n * (size_t)k, sizeof(*done))))
		return -ENOMEM;
	for (size_t e = 0; e < R->pol.n && r == 0; e++) {
		const struct sl_entry *en = R->pol.v[e].e;
		char set[SL_SET_NAME_LEN], why[SL_REFUSAL_STRLEN];

		if (!en->name[0] || !sl_name_matches(en->name, p->q.name))
			continue;
		sl_entry_set_name(en, set);
		for (int a = 0; a < k && r == 0; a++) {
			if (!sl_policy_name_may_open(&R->allow, &R->drop, en, addrs[a].addr, why)) {
				if (!(refused & (1ull << a)))
					log_denied(R, p->q.name, &addrs[a].addr, why);
				refused |= 1ull << a;
				continue;
			}
			r = sl_ipset_add(R->sets, set, addrs[a].addr, kept_ttl(R, addrs[a].ttl), err);
			if (r == 0)
				done[ndone++] = (struct added){ e, a };
		}
	}
	if (r < 0)
		while (ndone-- > 0) {
			char set[SL_SET_NAME_LEN];

			sl_entry_set_name(R->pol.v[done[ndone].e].e, set);
			sl_ipset_del(R->sets, set, addrs[done[ndone].a].addr, NULL);
		}
	return r;
}

/* An upstream's answer: its addresses into the sets first, then to the guest. */
static void on_answer(struct resolver *R, uint8_t *msg, size_t n, const struct sockaddr_in *src)
{
	struct sl_error why = { 0 }, *err = &why;
	struct sl_dns_addr addrs[SL_DNS_ADDRS_MAX];
	bool known = false;
	int k = -1;

	for (size_t i = 0; i < R->nup; i++)
		known |= src->sin_addr.s_addr == R->up[i].sin_addr.s_addr &&
			 src->sin_port == R->up[i].sin_port;
	if (!known || n < 12)
		return;
	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &R->pend[i];
		struct sl_dns_query asked;
		int r;

		if (!p->used || p->up_id != (uint16_t)(msg[0] << 8 | msg[1]))
			continue;
		asked = p->q;
		asked.id = p->up_id;
		k = sl_dns_answer_addrs(msg, n, &asked, addrs, SL_DNS_ADDRS_MAX);
		if (k < 0)
			return; /* not the answer to it: keep waiting */
		if ((r = open_addrs(R, p, addrs, k, err)) < 0) {
			sl_warn("%s", sl_error_msg(err, r));
			guest_id(p, p->msg);
			answer_self(R, p->tcp, &p->from, p->msg, p->len, SL_DNS_RCODE_SERVFAIL);
			p->used = false;
			return;
		}
		/* the guest keeps an address no longer than its set does (as it
		 * was, if it cannot be rewritten: the set still decides) */
		sl_dns_cap_ttls(msg, &n, SL_DNS_MSG_MAX, R->ttl_max);
		guest_id(p, msg);
		send_client(R, p->tcp, &p->from, msg, n);
		p->used = false;
		return;
	}
}

static void on_tcp_data(struct resolver *R, int slot)
{
	struct tcp_client *c = &R->cl[slot];
	ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	size_t want;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tcp_close(c);
		return;
	}
	c->have += (size_t)n;
	c->last_ms = now_ms();
	while (c->have >= 2) {
		want = (size_t)c->buf[0] << 8 | c->buf[1];
		if (want < 12 || want > SL_DNS_MSG_MAX) {
			tcp_close(c);
			return;
		}
		if (c->have < 2 + want)
			return;
		on_query(R, slot, NULL, c->buf + 2, want);
		if (c->fd < 0)
			return;
		memmove(c->buf, c->buf + 2 + want, c->have - 2 - want);
		c->have -= 2 + want;
	}
}

static void on_accept(struct resolver *R)
{
	int fd = accept4(R->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int slot = -1;
	long long oldest = 0;

	if (fd < 0)
		return;
	for (int i = 0; i < TCP_CLIENTS; i++) {
		if (R->cl[i].fd < 0) {
			slot = i;
			break;
		}
		if (slot < 0 || R->cl[i].last_ms < oldest) {
			slot = i;
			oldest = R->cl[i].last_ms;
		}
	}
	/* All taken: the idlest goes, so that a guest cannot hold them all. */
	tcp_close(&R->cl[slot]);
	for (size_t i = 0; i < PENDING; i++)
		if (R->pend[i].used && R->pend[i].tcp == slot)
			R->pend[i].used = false;
	R->cl[slot].fd = fd;
	R->cl[slot].last_ms = now_ms();
}

/* Queries past their time, clients idle too long, a namespace gone. */
static bool on_tick(struct resolver *R)
{
	long long t = now_ms();

	for (size_t i = 0; i < PENDING; i++) {
		struct pending *p = &R->pend[i];

		if (!p->used || t - p->sent_ms < TRY_MS)
			continue;
		if (p->tries * TRY_MS >= GIVE_UP_MS) {
			uint8_t q[SL_DNS_MSG_MAX];

			memcpy(q, p->msg, p->len);
			guest_id(p, q);
			answer_self(R, p->tcp, &p->from, q, p->len, SL_DNS_RCODE_SERVFAIL);
			p->used = false;
		} else {
			send_upstream(R, p);
		}
	}
	for (int i = 0; i < TCP_CLIENTS; i++)
		if (R->cl[i].fd >= 0 && t - R->cl[i].last_ms > TCP_IDLE_MS)
			tcp_close(&R->cl[i]);
	sl_denial_flush(R->name, SL_DNS_LOG, &R->dns_log, t);
	/* The VM's namespace is gone (sl-netns del): so is its resolver. */
	return sl_daemon_ns_alive(R->name, &R->ns);
}

static int setup(struct resolver *R, struct sl_error *err)
{
	int r;

	if ((r = sl_daemon_enter(R->name, &R->ns, err)) < 0 || (r = load(R, err)) < 0 ||
	    (r = listen_on(R, err)) < 0 || (r = sl_ipset_open(&R->sets, err)) < 0)
		return r;
	R->sig = sl_daemon_signals();
	return R->sig < 0 ? R->sig : 0;
}

static int serve(struct resolver *R, struct sl_error *err)
{
	struct pollfd pf[4 + TCP_CLIENTS];
	uint8_t buf[SL_DNS_MSG_MAX + 1];

	for (;;) {
		int n;

		pf[0] = (struct pollfd){ R->sig, POLLIN, 0 };
		pf[1] = (struct pollfd){ R->udp, POLLIN, 0 };
		pf[2] = (struct pollfd){ R->tcp, POLLIN, 0 };
		pf[3] = (struct pollfd){ R->upfd, POLLIN, 0 };
		for (int i = 0; i < TCP_CLIENTS; i++)
			pf[4 + i] = (struct pollfd){ R->cl[i].fd, POLLIN, 0 };
		n = poll(pf, ARRAY_SIZE(pf), 500);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (!on_tick(R))
			return 0;
		if (n <= 0)
			continue;
		if (pf[0].revents) {
			struct signalfd_siginfo si;

			if (read(R->sig, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGHUP)
					return 0;
				int r = load(R, err);

				if (r < 0)
					sl_warn("reload: %s", sl_error_msg(err, r));
			}
		}
		if (pf[1].revents) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t len = recvfrom(R->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from,
					       &fl);

			if (len > 0 && len <= SL_DNS_MSG_MAX)
				on_query(R, -1, &from, buf, (size_t)len);
		}
		if (pf[2].revents)
			on_accept(R);
		if (pf[3].revents) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t len = recvfrom(R->upfd, buf, sizeof(buf), 0,
					       (struct sockaddr *)&from, &fl);

			if (len > 0 && len <= SL_DNS_MSG_MAX)
				on_answer(R, buf, (size_t)len, &from);
		}
		for (int i = 0; i < TCP_CLIENTS; i++)
			if (R->cl[i].fd >= 0 && pf[4 + i].fd == R->cl[i].fd && pf[4 + i].revents)
				on_tcp_data(R, i);
	}
}

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
	static struct resolver R = { .udp = -1, .tcp = -1, .upfd = -1, .sig = -1 };
	int r;

	sl_log_init(argv[0]);
	if (argc != 2 || sl_name_check(argv[1], err) < 0) {
		dprintf(3, "usage: sl-resolve NAME (run by sl-egress apply)\n");
		sl_die(2, "usage: sl-resolve NAME (run by sl-egress apply)");
	}
	R.name = argv[1];
	for (int i = 0; i < TCP_CLIENTS; i++)
		R.cl[i].fd = -1;
	r = setup(&R, err);
	/* sl-egress waits for this line: the resolver listens, or why not */
	r = sl_daemon_ready(&sl_resolver, R.name, r, err);
	if (r < 0)
		sl_die(1, "%s", sl_error_msg(err, r));
	r = serve(&R, err);
	sl_ipset_closep(&R.sets);
	return r < 0 ? 1 : 0;
}
