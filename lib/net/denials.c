/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cidr.h"
#include "egressd.h"
#include "egress.h"
#include "denials.h"
#include "kv.h"
#include "log.h"
#include "netns.h"
#include "nflog.h"
#include "nl.h"
#include "state.h"
#include "util.h"

/**
 * sl_denial_now() - the time as a denial log writes it (UTC, to the second)
 */
void sl_denial_now(char t[32])
{
	time_t now = time(NULL);
	struct tm tm;

	strftime(t, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
}

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

/**
 * sl_denial_from_packet() - a dropped packet as its denial line says it
 * @d: result
 * @name: the VM (or sl-cni attachment) that sent it
 * @pkt: its headers
 * @why: the prefix of the rule that logged it: the entry, "default", "spoofed"
 */
void sl_denial_from_packet(struct sl_denial *d, const char *name, const struct sl_packet *pkt,
			   const char *why)
{
	char pb[8];

	memset(d, 0, sizeof(*d));
	sl_denial_now(d->time);
	snprintf(d->vm, sizeof(d->vm), "%s", name);
	snprintf(d->proto, sizeof(d->proto), "%s", proto_name(pkt->proto, pb));
	sl_ip_fmt(pkt->dst, d->dest);
	d->port = pkt->port;
	snprintf(d->entry, sizeof(d->entry), "%s", why);
}

/* A field as the log keeps it: one word of printable bytes. */
static void word(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; i < size - 1 && src[i]; i++)
		dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '?';
	if (!i && size > 1)
		dst[i++] = '-';
	dst[i] = '\0';
}

/**
 * sl_denial_fmt() - a denial as its log line, newline included
 * @d: the denial; its fields are made single words (a guest chose the name)
 * @line: where
 * @size: its size
 *
 * Return: 0, or -E2BIG when it does not fit
 */
int sl_denial_fmt(const struct sl_denial *d, char *line, size_t size)
{
	char time[sizeof(d->time)], vm[sizeof(d->vm)], proto[sizeof(d->proto)];
	char dest[sizeof(d->dest)], entry[sizeof(d->entry)];
	int n;

	word(time, sizeof(time), d->time);
	word(vm, sizeof(vm), d->vm);
	word(proto, sizeof(proto), d->proto);
	if (d->suppressed) {
		n = snprintf(line, size, "%s %s %s %lu suppressed\n", time, vm, proto, d->suppressed);
		return n < 0 || (size_t)n >= size ? -E2BIG : 0;
	}
	word(dest, sizeof(dest), d->dest);
	word(entry, sizeof(entry), d->entry);
	/* A packet's ":PORT" is its port: no other colon, or the line would not
	 * read back. A name has no port: its colons are its own. */
	if (strcmp(proto, "dns"))
		for (char *c = dest; (c = strchr(c, ':')); c++)
			*c = '?';
	if (d->port && strcmp(proto, "dns"))
		n = snprintf(line, size, "%s %s %s %s:%u denied by %s\n", time, vm, proto, dest,
			     d->port, entry);
	else
		n = snprintf(line, size, "%s %s %s %s denied by %s\n", time, vm, proto, dest, entry);
	return n < 0 || (size_t)n >= size ? -E2BIG : 0;
}

/**
 * sl_denial_append() - add a denial to a log of the VM's, rotating it once full
 * @name: VM
 * @file: SL_DENIED_LOG or SL_DNS_LOG
 * @d: the denial
 *
 * One write of one line, so two writers do not interleave. The file is
 * never opened through a link.
 *
 * Return: 0 or -errno
 */
int sl_denial_append(const char *name, const char *file, const struct sl_denial *d)
{
	char path[4096], old[4200], line[SL_DENIAL_LINE_MAX];
	struct stat st;
	FILE *f;
	int r;

	if (sl_run_path(path, sizeof(path), "%s/%s", name, file) < 0)
		return -ENAMETOOLONG;
	if ((r = sl_denial_fmt(d, line, sizeof(line))) < 0)
		return r;
	if (stat(path, &st) == 0 && st.st_size > SL_DENIAL_LOG_MAX) {
		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
	}
	if (!(f = sl_run_fopen(path, true)))
		return -errno;
	setvbuf(f, NULL, _IOFBF, sizeof(line));
	if (fputs(line, f) < 0)
		r = -errno;
	if (fclose(f) != 0 && !r)
		r = -errno;
	return r;
}

/* Refill at SL_DENIAL_RATE a second, up to SL_DENIAL_BURST. */
static void refill(struct sl_denial_rate *rt, long long now_ms)
{
	if (!rt->started) {
		rt->tokens = SL_DENIAL_BURST;
		rt->started = true;
	} else if (now_ms > rt->last_ms) {
		rt->tokens += (double)(now_ms - rt->last_ms) * SL_DENIAL_RATE / 1000.0;
		if (rt->tokens > SL_DENIAL_BURST)
			rt->tokens = SL_DENIAL_BURST;
	}
	rt->last_ms = now_ms;
}

/* The "N suppressed" line, when there is one to say and room for it. */
static int say_suppressed(const char *name, const char *file, struct sl_denial_rate *rt,
			  const char *vm)
{
	struct sl_denial s = { 0 };
	int r;

	if (!rt->suppressed || rt->tokens < 1)
		return 0;
	sl_denial_now(s.time);
	snprintf(s.vm, sizeof(s.vm), "%s", vm);
	snprintf(s.proto, sizeof(s.proto), "%s", rt->proto);
	s.suppressed = rt->suppressed;
	if ((r = sl_denial_append(name, file, &s)) < 0)
		return r;
	rt->tokens -= 1;
	rt->suppressed = 0;
	return 0;
}

/**
 * sl_denial_append_limited() - sl_denial_append(), at a bounded rate
 * @name: VM
 * @file: its log
 * @rt: the writer's rate state for that log
 * @d: the denial
 * @now_ms: a monotonic clock
 *
 * Over the rate, @d is counted instead; the count is written as one line
 * before the next line that is.
 *
 * Return: 0 (written or counted) or -errno
 */
int sl_denial_append_limited(const char *name, const char *file, struct sl_denial_rate *rt,
			     const struct sl_denial *d, long long now_ms)
{
	int r;

	refill(rt, now_ms);
	if ((r = say_suppressed(name, file, rt, d->vm)) < 0)
		return r;
	if (rt->tokens < 1) {
		rt->suppressed++;
		snprintf(rt->proto, sizeof(rt->proto), "%s", d->proto);
		return 0;
	}
	rt->tokens -= 1;
	return sl_denial_append(name, file, d);
}

/**
 * sl_denial_flush() - write the count of suppressed denials once there is room
 * @name: VM (also the line's VM)
 * @file: its log
 * @rt: the writer's rate state
 * @now_ms: a monotonic clock
 *
 * Return: 0 or -errno
 */
int sl_denial_flush(const char *name, const char *file, struct sl_denial_rate *rt,
		    long long now_ms)
{
	refill(rt, now_ms);
	return say_suppressed(name, file, rt, name);
}

/**
 * sl_denial_logs_remove() - remove the VM's denial logs, rotated halves too
 *
 * What flush does once the daemons that wrote them are gone.
 */
void sl_denial_logs_remove(const char *name)
{
	static const char *const files[] = { SL_DENIED_LOG, SL_DENIED_LOG ".1", SL_DNS_LOG,
					     SL_DNS_LOG ".1" };
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (sl_run_path(path, sizeof(path), "%s/%s", name, files[i]) == 0)
			unlink(path);
}

/**
 * sl_denial_parse() - read one line of a denial log
 * @line: as sl_denial_append() wrote it (a newline at its end or not)
 * @d: the denial
 *
 * Return: 0, or -EINVAL for a line that is not one
 */
int sl_denial_parse(const char *line, struct sl_denial *d)
{
	char dest[sizeof(d->dest) + 6], *colon, *end; /* and ":PORT" */
	int n = 0;

	memset(d, 0, sizeof(*d));
	if (sscanf(line, "%31s %63s %7s %20[0-9] suppressed%n", d->time, d->vm, d->proto, dest,
		   &n) == 4 && n && (!line[n] || !strcmp(line + n, "\n"))) {
		d->suppressed = strtoul(dest, &end, 10);
		return d->suppressed && !*end && dest[0] != '0' ? 0 : -EINVAL;
	}
	n = 0;
	if (sscanf(line, "%31s %63s %7s %261s denied by %63s%n", d->time, d->vm, d->proto, dest,
		   d->entry, &n) != 5 || !n || (line[n] && strcmp(line + n, "\n")))
		return -EINVAL;
	/* names have no port; an address may */
	if (strcmp(d->proto, "dns") && (colon = strrchr(dest, ':'))) {
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (*end || end == colon + 1 || !p || p > 65535)
			return -EINVAL;
		d->port = (unsigned)p;
		*colon = '\0';
	}
	if (strlen(dest) >= sizeof(d->dest))
		return -EINVAL;
	memcpy(d->dest, dest, strlen(dest) + 1);
	return 0;
}

/*
 * Reading: one log (denied.log or dns.log), its rotated half first, then
 * the current file, kept open to follow it across rotations.
 */
struct tail {
	char path[4096];
	FILE *old, *cur;
	bool ahead;        /* a parsed line waits in d */
	struct sl_denial d;
};

static void tail_open(struct tail *t, const char *name, const char *file)
{
	char old[4200];

	if (sl_run_path(t->path, sizeof(t->path), "%s/%s", name, file) < 0)
		return;
	snprintf(old, sizeof(old), "%s.1", t->path);
	t->old = sl_run_fopen(old, false);
	t->cur = sl_run_fopen(t->path, false);
}

static bool tail_read(FILE *f, struct sl_denial *d)
{
	char line[SL_DENIAL_LINE_MAX];

	while (f && fgets(line, sizeof(line), f))
		if (sl_denial_parse(line, d) == 0)
			return true;
	if (f)
		clearerr(f); /* at its end for now: more may come */
	return false;
}

/* The next denial, or false for none yet; a rotated current file is reopened. */
static bool tail_next(struct tail *t)
{
	struct stat now, open_st;

	if (t->ahead)
		return true;
	if (t->old) {
		if ((t->ahead = tail_read(t->old, &t->d)))
			return true;
		fclose(t->old);
		t->old = NULL;
	}
	if (!t->cur && !(t->cur = sl_run_fopen(t->path, false)))
		return false;
	if ((t->ahead = tail_read(t->cur, &t->d)))
		return true;
	if (stat(t->path, &now) == 0 && fstat(fileno(t->cur), &open_st) == 0 &&
	    now.st_ino != open_st.st_ino) {
		fclose(t->cur);
		t->cur = NULL;
		return tail_next(t);
	}
	return false;
}

static void tail_close(struct tail *t)
{
	if (t->old)
		fclose(t->old);
	if (t->cur)
		fclose(t->cur);
}

/* One denial, as text or a JSON object. */
static void print_denial(const struct sl_denial *d, bool json, FILE *out)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };

	if (d->suppressed) {
		if (!json)
			fprintf(out, "%s %s %s %lu suppressed\n", d->time, d->vm, d->proto,
				d->suppressed);
		else if (sl_kv_set(&kv, "SL_TIME", d->time) == 0 &&
			 sl_kv_set(&kv, "SL_NAME", d->vm) == 0 &&
			 sl_kv_set(&kv, "SL_PROTO", d->proto) == 0 &&
			 sl_kv_setf(&kv, "SL_SUPPRESSED", "%lu", d->suppressed) == 0)
			sl_kv_write(&kv, out, true);
		return;
	}
	if (!json) {
		if (d->port)
			fprintf(out, "%s %s %s %s:%u denied by %s\n", d->time, d->vm, d->proto,
				d->dest, d->port, d->entry);
		else
			fprintf(out, "%s %s %s %s denied by %s\n", d->time, d->vm, d->proto, d->dest,
				d->entry);
	} else if (sl_kv_set(&kv, "SL_TIME", d->time) == 0 && sl_kv_set(&kv, "SL_NAME", d->vm) == 0 &&
		   sl_kv_set(&kv, "SL_PROTO", d->proto) == 0 &&
		   sl_kv_set(&kv, "SL_DEST", d->dest) == 0 &&
		   sl_kv_setf(&kv, "SL_PORT", "%u", d->port) == 0 &&
		   sl_kv_set(&kv, "SL_ENTRY", d->entry) == 0) {
		sl_kv_write(&kv, out, true);
	}
}

/* Everything the logs hold now, the two merged in time order. */
static void print_ready(struct tail t[2], bool json, FILE *out)
{
	for (;;) {
		bool a = tail_next(&t[0]), b = tail_next(&t[1]);
		struct tail *first;

		if (!a && !b)
			break;
		first = !b || (a && strcmp(t[0].d.time, t[1].d.time) <= 0) ? &t[0] : &t[1];
		print_denial(&first->d, json, out);
		first->ahead = false;
	}
	fflush(out);
}

/**
 * sl_egress_log() - print the VM's denials
 * @name: VM
 * @json: one JSON object a line instead of text
 * @follow: go on printing them as they happen, until killed
 * @out: where
 * @err: why, when it fails
 *
 * What sl-egressd kept of it (dropped packets, names its resolver refused),
 * in time order; following, then each new one. Any number of readers at
 * once: they read files, the daemon alone listens.
 *
 * Return: 0 (not following), -errno (following, it does not return otherwise)
 */
int sl_egress_log(const char *name, bool json, bool follow, FILE *out, struct sl_error *err)
{
	_cleanup_close_ int nsfd = sl_vm_netns_open(name, err);
	_cleanup_kv_ struct sl_kv st = { 0 };
	struct tail t[2] = { 0 };

	if (nsfd < 0)
		return nsfd;
	if (sl_state_load(name, &st, err) == 0 && sl_kv_get(&st, "SL_ALLOW") &&
	    sl_egressd_status(name, &(struct sl_egressd_vm){ 0 }, NULL) < 0)
		sl_warn("%s: sl-egressd does not serve it: dropped packets are not being kept "
			"(sl-egress apply serves it again)", name);
	tail_open(&t[0], name, SL_DENIED_LOG);
	tail_open(&t[1], name, SL_DNS_LOG);
	print_ready(t, json, out);
	for (; follow;) {
		struct timespec ts = { 0, 250000000L };

		nanosleep(&ts, NULL);
		print_ready(t, json, out);
		if (ferror(out))
			break; /* its reader went away */
	}
	tail_close(&t[0]);
	tail_close(&t[1]);
	return 0;
}

struct attach_log {
	const char *name;
	unsigned ifindex;
	bool json;
	FILE *out;
};

static void attach_packet(const struct sl_packet *pkt, const char *why, unsigned indev, void *arg)
{
	struct attach_log *a = arg;
	struct sl_denial d;

	if (indev != a->ifindex)
		return; /* another attachment's */
	sl_denial_from_packet(&d, a->name, pkt, why);
	print_denial(&d, a->json, a->out);
	fflush(a->out);
}

/**
 * sl_egress_attach_log() - show an sl-cni attachment's denials as they happen
 * @name: the attachment (sc-…)
 * @json: one JSON object a denial
 * @out: where they go
 * @err: why, when it fails
 *
 * An attachment's rules are in the host's namespace and no logger of ours
 * runs there: this listens to the host's NFLOG group for as long as it
 * runs, keeping the packets that came in on the attachment's host end. It
 * ends when the host end goes (DEL) or its reader does.
 *
 * Return: 0 when the attachment went, or -errno
 */
int sl_egress_attach_log(const char *name, bool json, FILE *out, struct sl_error *err)
{
	_cleanup_nl_ struct nl_sock *sk = NULL;
	struct attach_log a = { .name = name, .json = json, .out = out };
	struct sl_nflog *l = NULL;
	struct sl_link link;
	int r;

	if ((r = sl_nl_open_or_fail(&sk, err)) < 0)
		return r;
	if (sl_link_get(sk, name, &link) < 0)
		return sl_error(err, -ENXIO, "%s: its host end is gone", name);
	a.ifindex = (unsigned)link.ifindex;
	if ((r = sl_nflog_open(&l, SL_NFLOG_GROUP, attach_packet, &a, err)) < 0)
		return sl_error_wrap(err, r, "%s", name);
	while (!ferror(out)) {
		struct pollfd pf = { sl_nflog_fd(l), POLLIN, 0 };

		if (poll(&pf, 1, 250) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (pf.revents && (r = sl_nflog_read(l)) < 0)
			break;
		if (sl_link_get(sk, name, &link) < 0 || (unsigned)link.ifindex != a.ifindex) {
			r = 0;
			break;
		}
	}
	sl_nflog_close(l);
	return r < 0 ? sl_error(err, r, "%s: NFLOG: %s", name, strerror(-r)) : 0;
}
