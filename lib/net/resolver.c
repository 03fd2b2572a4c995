/* SPDX-License-Identifier: MIT */
/*
 * The resolver of one VM (lib/net/resolver.h). A query for a name an allow
 * entry covers goes to the upstream servers (SL_DNS_UPSTREAM); the A records
 * of the answer, after its CNAMEs, go into that entry's ip set for their
 * TTL (clamped) *before* the answer is passed on, so the guest never holds
 * an address its rules do not yet allow, and with TTLs no longer than the
 * set keeps them. An address a drop entry covers, or in a private,
 * loopback, link-local (...) range that no allow entry covers, never joins
 * a set (sl_policy_name_may_open()): a line in dns.log says which name gave
 * it. Other names get REFUSED and a line in dns.log, at most
 * SL_DENIAL_RATE a second and a count of the rest; AAAA gets no data.
 *
 * Memory is bounded and taken only while in use: PENDING queries in flight
 * and TCP_CLIENTS connections a VM, each message at most SL_DNS_MSG_MAX
 * bytes, allocated when it comes and freed when it is answered; and the
 * last CACHED answers that opened addresses, each until its shortest
 * address TTL (capped) runs out, answered again with TTLs aged and the
 * guest's id and question: no upstream hop, no set add (the set keeps the
 * addresses at least as long). A name is checked against the lists at
 * every query, cached or not; new lists empty the cache.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "denials.h"
#include "dns.h"
#include "ipset.h"
#include "kv.h"
#include "log.h"
#include "policy.h"
#include "resolver.h"
#include "state.h"
#include "util.h"

#define PENDING 64
#define TCP_CLIENTS 8
#define UPSTREAMS 3
#define TRY_MS 1500 /* then the next upstream */
#define GIVE_UP_MS 4000
#define TCP_IDLE_MS 3000
#define CACHED 8

struct pending {
	uint16_t up_id;
	struct sl_dns_query q;   /* as the guest asked: its id */
	int tcp;                 /* -1: UDP, else the client slot */
	struct sockaddr_in from; /* UDP */
	unsigned tries;
	long long sent_ms;
	size_t len;
	uint8_t msg[]; /* the query as sent upstream: our id */
};

struct cached {
	long long at_ms;         /* when it came */
	unsigned life_s, aged_s; /* how long it may be given; seconds taken off its TTLs */
	struct sl_dns_query q;   /* what it answers (id: none) */
	size_t len;
	uint8_t msg[]; /* the answer, TTLs capped and aged_s taken off */
};

struct tcp_client {
	int fd;
	long long last_ms;
	size_t have;
	uint8_t *buf; /* 2 + SL_DNS_MSG_MAX, while connected */
};

/*
 * What an earlier answer gave an address in a set: until when it is open
 * there (the set's name as its FNV-1a hash; a clash only merges two
 * allowed entries' timeouts).
 */
#define HELD 256
#define HELD_PROBE 4
struct held {
	uint32_t set, addr;
	long long until_ms;
};

struct sl_resolver {
	char name[64];
	uint32_t gw;
	struct sl_entry_list allow, drop;
	struct sl_policy pol;
	struct sockaddr_in up[UPSTREAMS];
	size_t nup;
	char upstream[256];
	unsigned ttl_min, ttl_max;
	int udp, tcp, upfd;
	int ep; /* its sockets, for whoever drives it to wait on (one fd) */
	struct sl_ipset *sets;
	struct pending *pend[PENDING];
	struct cached *cache[CACHED];
	struct tcp_client cl[TCP_CLIENTS];
	struct sl_denial_rate dns_log;
	struct sl_resolver_stats st;
	struct held *held; /* HELD slots, taken at the first address opened */
};

static unsigned num_or(const char *v, unsigned def)
{
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 10);
	return *end || n > 86400 ? def : (unsigned)n;
}

/* The upstreams of SL_DNS_UPSTREAM, port 53. */
static int upstreams(struct sl_resolver *R, const char *up, struct sl_error *err)
{
	_cleanup_free_ char *copy = strdup(up);
	char *save = NULL;
	uint32_t addr;

	if (!copy)
		return -ENOMEM;
	R->nup = 0;
	for (char *t = strtok_r(copy, ", ", &save); t && R->nup < UPSTREAMS;
	     t = strtok_r(NULL, ", ", &save)) {
		if (sl_ip_parse(t, &addr) < 0)
			continue;
		R->up[R->nup++] = (struct sockaddr_in){ .sin_family = AF_INET,
							 .sin_port = htons(53),
							 .sin_addr.s_addr = htonl(addr) };
	}
	if (!R->nup)
		return sl_error(err, -EINVAL, "%s: SL_DNS_UPSTREAM '%s' holds no address", R->name,
				up);
	snprintf(R->upstream, sizeof(R->upstream), "%s", up);
	return 0;
}

static void cache_clear(struct sl_resolver *R)
{
	for (int i = 0; i < CACHED; i++) {
		free(R->cache[i]);
		R->cache[i] = NULL;
	}
}

/**
 * sl_resolver_reload() - read the VM's lists and upstreams from its state again
 * @r: the resolver
 * @err: why, when it fails (the old lists stay)
 *
 * Return: 0 or -errno
 */
int sl_resolver_reload(struct sl_resolver *R, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	struct sl_entry_list allow = { 0 }, drop = { 0 }, none = { 0 };
	struct sl_policy pol = { 0 };
	const char *ip, *a, *d, *up;
	uint32_t addr;
	int r;

	if ((r = sl_state_load(R->name, &kv, err)) < 0)
		return r;
	ip = sl_kv_get(&kv, "SL_IP");
	if (!ip || sl_ip_parse(ip, &addr) < 0)
		return sl_error(err, -EINVAL, "%s: no SL_IP in its state", R->name);
	if (!(up = sl_kv_get(&kv, "SL_DNS_UPSTREAM")))
		return sl_error(err, -EINVAL, "%s: no SL_DNS_UPSTREAM", R->name);
	if ((r = upstreams(R, up, err)) < 0)
		return r;
	if (((a = sl_kv_get(&kv, "SL_ALLOW")) && sl_entry_list_add(&allow, a, "SL_ALLOW", err) < 0) ||
	    ((d = sl_kv_get(&kv, "SL_DROP")) && sl_entry_list_add(&drop, d, "SL_DROP", err) < 0) ||
	    (r = sl_policy_build(&allow, &none, &pol)) < 0) {
		sl_entry_list_free(&allow);
		sl_entry_list_free(&drop);
		return r < 0 ? r : -EINVAL;
	}
	/* the policy points into the list's entries: they move in together;
	 * what the old lists let in is no answer for the new ones */
	cache_clear(R);
	sl_policy_free(&R->pol);
	sl_entry_list_free(&R->allow);
	sl_entry_list_free(&R->drop);
	R->allow = allow;
	R->drop = drop;
	R->pol = pol;
	R->gw = addr - 1;
	R->ttl_min = num_or(sl_kv_get(&kv, "SL_DNS_TTL_MIN"), SL_DNS_TTL_MIN);
	R->ttl_max = num_or(sl_kv_get(&kv, "SL_DNS_TTL_MAX"), SL_DNS_TTL_MAX);
	if (R->ttl_max < R->ttl_min)
		R->ttl_max = R->ttl_min;
	return 0;
}

static int listen_on(struct sl_resolver *R, struct sl_error *err)
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

/* What an epoll event of its set is: a socket of its own, or TCP client N. */
enum { W_UDP, W_TCP, W_UP, W_CLIENT };

static int watch(struct sl_resolver *R, int fd, uint32_t what, struct sl_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = what };

	if (epoll_ctl(R->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return sl_error(err, -errno, "%s: epoll: %s", R->name, strerror(errno));
	return 0;
}

/**
 * sl_resolver_open() - a resolver for a VM, in the namespace the caller is in
 * @r: result; sl_resolver_close() it
 * @name: the VM (its state says its lists and upstreams)
 * @err: why, when it fails
 *
 * The caller stands in the VM's namespace: the sockets (its gateway, port
 * 53; its upstream queries, which leave from the namespace like the VM's
 * packets) and the ip set handle stay bound to it.
 *
 * Return: 0 or -errno
 */
int sl_resolver_open(struct sl_resolver **r, const char *name, struct sl_error *err)
{
	struct sl_resolver *R = calloc(1, sizeof(*R));
	int e;

	if (!R)
		return -ENOMEM;
	snprintf(R->name, sizeof(R->name), "%s", name);
	R->udp = R->tcp = R->upfd = -1;
	for (int i = 0; i < TCP_CLIENTS; i++)
		R->cl[i].fd = -1;
	if ((R->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		e = sl_error(err, -errno, "%s: epoll: %s", name, strerror(errno));
		free(R);
		return e;
	}
	if ((e = sl_resolver_reload(R, err)) < 0 || (e = listen_on(R, err)) < 0 ||
	    (e = watch(R, R->udp, W_UDP, err)) < 0 || (e = watch(R, R->tcp, W_TCP, err)) < 0 ||
	    (e = watch(R, R->upfd, W_UP, err)) < 0 || (e = sl_ipset_open(&R->sets, err)) < 0) {
		sl_resolver_close(R);
		return e;
	}
	*r = R;
	return 0;
}

static void pending_free(struct sl_resolver *R, int i)
{
	free(R->pend[i]);
	R->pend[i] = NULL;
}

/* A TCP client gone; so are its queries in flight: their answers would go
 * to whoever takes the slot next. */
static void tcp_close(struct sl_resolver *R, int slot)
{
	struct tcp_client *c = &R->cl[slot];

	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->have = 0;
	free(c->buf);
	c->buf = NULL;
	for (int i = 0; i < PENDING; i++)
		if (R->pend[i] && R->pend[i]->tcp == slot)
			pending_free(R, i);
}

/**
 * sl_resolver_close() - its sockets, queries and clients go; the sets stay
 */
void sl_resolver_close(struct sl_resolver *R)
{
	if (!R)
		return;
	for (int i = 0; i < PENDING; i++)
		pending_free(R, i);
	for (int i = 0; i < TCP_CLIENTS; i++)
		tcp_close(R, i);
	if (R->udp >= 0)
		close(R->udp);
	if (R->tcp >= 0)
		close(R->tcp);
	if (R->upfd >= 0)
		close(R->upfd);
	if (R->ep >= 0)
		close(R->ep);
	sl_ipset_closep(&R->sets);
	free(R->held);
	cache_clear(R);
	sl_policy_free(&R->pol);
	sl_entry_list_free(&R->allow);
	sl_entry_list_free(&R->drop);
	free(R);
}

/* A line in dns.log: a name refused, or (with @addr) an address a name's answer may not open. */
static void log_denied(struct sl_resolver *R, const char *qname, const uint32_t *addr,
		       const char *why)
{
	struct sl_denial d = { 0 };
	char ip[SL_IP_STRLEN];

	sl_denial_now(d.time);
	snprintf(d.vm, sizeof(d.vm), "%.31s", R->name);
	snprintf(d.proto, sizeof(d.proto), "dns");
	if (addr)
		snprintf(d.dest, sizeof(d.dest), "%s=%s", qname, sl_ip_fmt(*addr, ip));
	else
		snprintf(d.dest, sizeof(d.dest), "%s", qname[0] ? qname : ".");
	snprintf(d.entry, sizeof(d.entry), "%s", why);
	sl_denial_append_limited(R->name, SL_DNS_LOG, &R->dns_log, &d, sl_now_ms());
}

/* An answer to the guest, by the way its query came. */
static void send_client(struct sl_resolver *R, int tcp, const struct sockaddr_in *from,
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
			tcp_close(R, tcp);
	}
}

static void answer_self(struct sl_resolver *R, int tcp, const struct sockaddr_in *from,
			const uint8_t *q, size_t n, unsigned rcode)
{
	uint8_t out[SL_DNS_MSG_MAX];
	int len = sl_dns_reply(q, n, rcode, out, sizeof(out));

	if (len > 0)
		send_client(R, tcp, from, out, (size_t)len);
}

/* The guest's own id back on a message that carries the upstream's. */
static void guest_id(const struct pending *p, uint8_t *msg)
{
	msg[0] = (uint8_t)(p->q.id >> 8);
	msg[1] = (uint8_t)p->q.id;
}

/* A query given up on: SERVFAIL with the guest's id. */
static void fail_pending(struct sl_resolver *R, int i)
{
	struct pending *p = R->pend[i];

	guest_id(p, p->msg);
	answer_self(R, p->tcp, &p->from, p->msg, p->len, SL_DNS_RCODE_SERVFAIL);
	R->st.failed++;
	pending_free(R, i);
}

static void send_upstream(struct sl_resolver *R, struct pending *p)
{
	const struct sockaddr_in *to = &R->up[p->tries % R->nup];

	p->sent_ms = sl_now_ms();
	p->tries++;
	sendto(R->upfd, p->msg, p->len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
}

/* Ids from getrandom() 64 at a time: a system call per query was one in eight of the daemon's. */
static uint16_t random_id(void)
{
	static uint16_t pool[64];
	static size_t left;

	if (!left) {
		if (getrandom(pool, sizeof(pool), 0) != sizeof(pool))
			return (uint16_t)sl_now_ms();
		left = ARRAY_SIZE(pool);
	}
	return pool[--left];
}

/* An id no query in flight uses (ours, towards the upstreams). */
static uint16_t fresh_id(const struct sl_resolver *R)
{
	uint16_t id;

	do {
		id = random_id();
		for (int i = 0; i < PENDING; i++)
			if (R->pend[i] && R->pend[i]->up_id == id)
				id = 0;
	} while (!id);
	return id;
}

/* Answers past their life go: their memory too (also from the tick, asked again or not). */
static void cache_expire(struct sl_resolver *R, long long now)
{
	for (int i = 0; i < CACHED; i++)
		if (R->cache[i] && now - R->cache[i]->at_ms >= (long long)R->cache[i]->life_s * 1000) {
			free(R->cache[i]);
			R->cache[i] = NULL;
		}
}

/* Its fresh entry for the question, or NULL. */
static struct cached *cache_find(struct sl_resolver *R, const struct sl_dns_query *q,
				 long long now)
{
	cache_expire(R, now);
	for (int i = 0; i < CACHED; i++) {
		struct cached *c = R->cache[i];

		if (c && c->q.qtype == q->qtype && c->q.qend == q->qend && !strcmp(c->q.name, q->name))
			return c;
	}
	return NULL;
}

/*
 * A fresh cached answer, given as the guest asked: its id, its question (the
 * same name, maybe in other letter case), TTLs less the answer's age.
 * Return: whether it was answered.
 */
static bool from_cache(struct sl_resolver *R, int tcp, const struct sockaddr_in *from,
		       const struct sl_dns_query *q, const uint8_t *query)
{
	long long now = sl_now_ms();
	struct cached *c = cache_find(R, q, now);
	unsigned age;
	uint8_t out[SL_DNS_MSG_MAX];
	size_t len;

	if (!c)
		return false;
	age = (unsigned)((now - c->at_ms) / 1000);
	if (age > c->aged_s) {
		len = c->len;
		memcpy(out, c->msg, len);
		/* TTLs are whole seconds: rewritten once a second at most */
		if (sl_dns_age_ttls(out, &len, sizeof(out), age - c->aged_s) < 0 || len > c->len)
			return false; /* as it came, upstream it goes */
		memcpy(c->msg, out, len);
		c->len = len;
		c->aged_s = age;
	}
	memcpy(out, c->msg, c->len);
	memcpy(out + 12, query + 12, (size_t)q->qend - 12);
	out[0] = (uint8_t)(q->id >> 8);
	out[1] = (uint8_t)q->id;
	send_client(R, tcp, from, out, c->len);
	R->st.answered++;
	R->st.cached++;
	return true;
}

/*
 * Keep an answer that opened addresses, for its shortest address TTL as the
 * set keeps it: the oldest entry makes room.
 */
static void cache_put(struct sl_resolver *R, const struct pending *p, const uint8_t *msg,
		      size_t n, const struct sl_dns_addr *addrs, int k)
{
	unsigned life = R->ttl_max;
	int slot = 0;
	struct cached *c;

	/* only an answer whose question is the one asked, byte for byte, where
	 * from_cache() puts the next guest's */
	if (k <= 0 || n < p->q.qend || (msg[3] & 0x0f) != SL_DNS_RCODE_NOERROR ||
	    memcmp(msg + 12, p->msg + 12, (size_t)p->q.qend - 12))
		return;
	for (int a = 0; a < k; a++)
		if (addrs[a].ttl < life)
			life = addrs[a].ttl;
	if (!life || cache_find(R, &p->q, sl_now_ms()))
		return;
	for (int i = 0; i < CACHED; i++) {
		if (!R->cache[i]) {
			slot = i;
			break;
		}
		if (R->cache[i]->at_ms < R->cache[slot]->at_ms)
			slot = i;
	}
	if (!(c = malloc(sizeof(*c) + n)))
		return;
	*c = (struct cached){ .at_ms = sl_now_ms(), .life_s = life, .q = p->q, .len = n };
	memcpy(c->msg, msg, n);
	free(R->cache[slot]);
	R->cache[slot] = c;
}

/* A query from the guest: answered here, or sent on. */
static void on_query(struct sl_resolver *R, int tcp, const struct sockaddr_in *from,
		     const uint8_t *msg, size_t n)
{
	struct sl_dns_query q;
	struct pending *p;
	int slot = -1;

	if (sl_dns_query_parse(msg, n, &q) < 0)
		return; /* not a query: no answer */
	R->st.queries++;
	if (q.qtype == SL_DNS_TYPE_AAAA) {
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_NOERROR);
		return;
	}
	/* With no name left in the list (a live update), names are not policed. */
	if (sl_entry_list_names(&R->allow) && sl_policy_decide_name(&R->pol, q.name) < 0) {
		R->st.refused++;
		log_denied(R, q.name, NULL, "default");
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_REFUSED);
		return;
	}
	if (from_cache(R, tcp, from, &q, msg))
		return;
	for (int i = 0; i < PENDING && slot < 0; i++)
		if (!R->pend[i])
			slot = i;
	if (slot < 0 || !(p = malloc(sizeof(*p) + n))) {
		answer_self(R, tcp, from, msg, n, SL_DNS_RCODE_SERVFAIL);
		return;
	}
	*p = (struct pending){ .up_id = fresh_id(R), .q = q, .tcp = tcp, .len = n };
	if (from)
		p->from = *from;
	memcpy(p->msg, msg, n);
	p->msg[0] = (uint8_t)(p->up_id >> 8);
	p->msg[1] = (uint8_t)p->up_id;
	R->pend[slot] = p;
	send_upstream(R, p);
}

static unsigned kept_ttl(const struct sl_resolver *R, unsigned ttl)
{
	return ttl < R->ttl_min ? R->ttl_min : ttl > R->ttl_max ? R->ttl_max : ttl;
}

/*
 * The timeout to give @addr in @set: the answer's, or what an earlier
 * answer left it if that is longer. Two names of one entry (a wildcard's)
 * may resolve to one address with different TTLs, and the kernel takes the
 * last add's timeout: the shorter would close the address while the guest
 * still holds the longer answer. HELD addresses a VM are remembered (the
 * soonest to expire forgotten first); one forgotten gets its answer's TTL.
 */
static unsigned held_timeout(struct sl_resolver *R, const char *set, uint32_t addr, unsigned ttl,
			     long long now)
{
	uint32_t h = sl_fnv1a32(set);
	size_t i0 = (size_t)((h ^ addr) * 2654435761u) % HELD, victim = i0;

	if (!R->held && !(R->held = calloc(HELD, sizeof(*R->held))))
		return ttl;
	for (size_t k = 0; k < HELD_PROBE; k++) {
		struct held *e = &R->held[(i0 + k) % HELD];

		if (e->until_ms > now && e->set == h && e->addr == addr) {
			long long left = (e->until_ms - now + 999) / 1000;

			if (left > ttl)
				ttl = (unsigned)left;
			e->until_ms = now + ttl * 1000LL;
			return ttl;
		}
		if (e->until_ms < R->held[victim].until_ms)
			victim = (i0 + k) % HELD;
	}
	R->held[victim] = (struct held){ h, addr, now + ttl * 1000LL };
	return ttl;
}

/*
 * An answer's addresses into the set of every entry that covers the name,
 * all or none: a failure takes back what this answer added. An address the
 * lists keep from names is said once in dns.log and added nowhere.
 */
static int open_addrs(struct sl_resolver *R, const struct pending *p,
		      const struct sl_dns_addr *addrs, int k, struct sl_error *err)
{
	_cleanup_free_ struct added { size_t e; int a; } *done = NULL;
	uint64_t refused = 0; /* bit a: address a was refused and said */
	long long now = sl_now_ms();
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
			r = sl_ipset_add(R->sets, set, addrs[a].addr,
					 held_timeout(R, set, addrs[a].addr,
						      kept_ttl(R, addrs[a].ttl), now),
					 err);
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
static void on_answer(struct sl_resolver *R, uint8_t *msg, size_t n, const struct sockaddr_in *src)
{
	struct sl_error why = { 0 }, *err = &why;
	struct sl_dns_addr addrs[SL_DNS_ADDRS_MAX];
	bool known = false;

	for (size_t i = 0; i < R->nup; i++)
		known |= src->sin_addr.s_addr == R->up[i].sin_addr.s_addr &&
			 src->sin_port == R->up[i].sin_port;
	if (!known || n < 12)
		return;
	for (int i = 0; i < PENDING; i++) {
		struct pending *p = R->pend[i];
		struct sl_dns_query asked;
		int k, r;

		if (!p || p->up_id != (uint16_t)(msg[0] << 8 | msg[1]))
			continue;
		asked = p->q;
		asked.id = p->up_id;
		k = sl_dns_answer_addrs(msg, n, &asked, addrs, SL_DNS_ADDRS_MAX);
		if (k < 0)
			return; /* not the answer to it: keep waiting */
		if ((r = open_addrs(R, p, addrs, k, err)) < 0) {
			sl_warn("%s", sl_error_msg(err, r));
			sl_error_clear(err); /* told: the next failure has its own words */
			fail_pending(R, i);
			return;
		}
		/* the guest keeps an address no longer than its set does (as it
		 * was, if it cannot be rewritten: the set still decides) */
		sl_dns_cap_ttls(msg, &n, SL_DNS_MSG_MAX, R->ttl_max);
		cache_put(R, p, msg, n, addrs, k);
		guest_id(p, msg);
		send_client(R, p->tcp, &p->from, msg, n);
		R->st.answered++;
		pending_free(R, i);
		return;
	}
}

static void on_tcp_data(struct sl_resolver *R, int slot)
{
	struct tcp_client *c = &R->cl[slot];
	ssize_t n = read(c->fd, c->buf + c->have, 2 + SL_DNS_MSG_MAX - c->have);
	size_t want;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			tcp_close(R, slot);
		return;
	}
	c->have += (size_t)n;
	c->last_ms = sl_now_ms();
	while (c->have >= 2) {
		want = (size_t)c->buf[0] << 8 | c->buf[1];
		if (want < 12 || want > SL_DNS_MSG_MAX) {
			tcp_close(R, slot);
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

/* A new TCP client: a free slot, else the idlest one's. */
static void on_accept(struct sl_resolver *R)
{
	int fd = accept4(R->tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int slot = -1;

	if (fd < 0)
		return;
	for (int i = 0; i < TCP_CLIENTS; i++) {
		if (R->cl[i].fd < 0) {
			slot = i;
			break;
		}
		if (slot < 0 || R->cl[i].last_ms < R->cl[slot].last_ms)
			slot = i;
	}
	/* all taken: the idlest goes, so that a guest cannot hold them all */
	tcp_close(R, slot);
	if (!(R->cl[slot].buf = malloc(2 + SL_DNS_MSG_MAX)) ||
	    watch(R, fd, W_CLIENT + (uint32_t)slot, NULL) < 0) {
		free(R->cl[slot].buf);
		R->cl[slot].buf = NULL;
		close(fd);
		return;
	}
	R->cl[slot].fd = fd;
	R->cl[slot].last_ms = sl_now_ms();
}

/**
 * sl_resolver_fd() - the one fd to wait on for it (an epoll set of its sockets)
 * @r: the resolver
 *
 * Readable when any of its sockets is: then sl_resolver_io().
 */
int sl_resolver_fd(const struct sl_resolver *R)
{
	return R->ep;
}

/*
 * At most @budget datagrams from @fd: queries (the guest's), or answers (@up).
 * One recvmmsg() takes what is there: a recvfrom() loop paid a call that
 * found nothing after each burst.
 */
static void datagrams(struct sl_resolver *R, int fd, unsigned budget, bool up)
{
	enum { BATCH = 8 };
	uint8_t buf[BATCH][SL_DNS_MSG_MAX + 1];
	struct sockaddr_in from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];

	while (budget > 0) {
		unsigned want = budget < BATCH ? budget : BATCH;
		int n;

		for (unsigned i = 0; i < want; i++) {
			iov[i] = (struct iovec){ buf[i], sizeof(buf[i]) };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[i],
							      .msg_namelen = sizeof(from[i]),
							      .msg_iov = &iov[i],
							      .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, m, want, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			size_t len = m[i].msg_len;

			if (len == 0 || len > SL_DNS_MSG_MAX ||
			    m[i].msg_hdr.msg_namelen != sizeof(from[i]))
				continue;
			if (up)
				on_answer(R, buf[i], len, &from[i]);
			else
				on_query(R, -1, &from[i], buf[i], len);
		}
		if ((unsigned)n < want)
			return; /* nothing more waits */
		budget -= (unsigned)n;
	}
}

/**
 * sl_resolver_io() - serve what is ready, at most @budget messages a socket
 * @r: the resolver
 * @budget: datagrams to take from each socket this turn; the rest wait for
 *	the next, after the other VMs had theirs
 */
void sl_resolver_io(struct sl_resolver *R, unsigned budget)
{
	struct epoll_event ev[3 + TCP_CLIENTS];
	int n = epoll_wait(R->ep, ev, (int)ARRAY_SIZE(ev), 0);

	for (int i = 0; i < n; i++) {
		uint32_t w = ev[i].data.u32;

		if (w == W_UDP)
			datagrams(R, R->udp, budget, false);
		else if (w == W_UP)
			datagrams(R, R->upfd, budget, true);
		else if (w == W_TCP)
			on_accept(R);
		else if (w - W_CLIENT < TCP_CLIENTS && R->cl[w - W_CLIENT].fd >= 0)
			on_tcp_data(R, (int)(w - W_CLIENT));
	}
}

/**
 * sl_resolver_tick() - queries past their time, clients idle too long
 * @r: the resolver
 * @now: sl_now_ms()
 */
void sl_resolver_tick(struct sl_resolver *R, long long now)
{
	for (int i = 0; i < PENDING; i++) {
		struct pending *p = R->pend[i];

		if (!p || now - p->sent_ms < TRY_MS)
			continue;
		if (p->tries * TRY_MS >= GIVE_UP_MS)
			fail_pending(R, i);
		else
			send_upstream(R, p);
	}
	for (int i = 0; i < TCP_CLIENTS; i++)
		if (R->cl[i].fd >= 0 && now - R->cl[i].last_ms > TCP_IDLE_MS)
			tcp_close(R, i);
	cache_expire(R, now);
	sl_denial_flush(R->name, SL_DNS_LOG, &R->dns_log, now);
}

void sl_resolver_stats(const struct sl_resolver *R, struct sl_resolver_stats *s)
{
	*s = R->st;
}

const char *sl_resolver_upstream(const struct sl_resolver *R)
{
	return R->upstream;
}
