/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <libipset/ipset.h>
#include <libipset/session.h>
#include <libipset/types.h>
#include <linux/netfilter/ipset/ip_set.h>

#include "cidr.h"
#include "error.h"
#include "ipset.h"
#include "log.h"
#include "util.h"

/* Bounds on what "list -name" may hand back (a namespace holds at most 256 sets). */
#define LIST_MAX ((size_t)64 * 1024)

struct sl_ipset {
	struct ipset *h;
	char err[512];  /* libipset's last message */
	char *out;      /* what a command printed */
	size_t nout;
};

static int on_custom_error(struct ipset *h, void *p, int status, const char *fmt, ...)
{
	struct sl_ipset *s = p;
	va_list ap;

	(void)h;
	(void)status;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int on_standard_error(struct ipset *h, void *p)
{
	struct sl_ipset *s = p;
	struct ipset_session *ss = ipset_session(h);
	const char *m = ipset_session_report_msg(ss);
	enum ipset_err_type t = ipset_session_report_type(ss);

	snprintf(s->err, sizeof(s->err), "%s", m ? m : "");
	s->err[strcspn(s->err, "\n")] = '\0';
	ipset_session_report_reset(ss);
	return t == IPSET_WARNING ? 0 : -1;
}

static int on_output(struct ipset_session *ss, void *p, const char *fmt, ...)
{
	struct sl_ipset *s = p;
	char buf[512];
	va_list ap;
	int n;
	char *nv;

	(void)ss;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (s->nout + (size_t)n + 1 > LIST_MAX || !(nv = realloc(s->out, s->nout + (size_t)n + 1)))
		return -1;
	s->out = nv;
	memcpy(s->out + s->nout, buf, (size_t)n + 1);
	s->nout += (size_t)n;
	return 0;
}

static int run(struct sl_ipset *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * sl_ipset_open() - a handle on the ip sets of the current network namespace
 * @s: result, for sl_ipset_closep()
 * @err: why, when it fails
 *
 * The namespace is the one the calling thread is in when the handle is
 * opened: the netlink socket is made then and stays bound to it.
 *
 * Return: 0 or -ENOMEM
 */
int sl_ipset_open(struct sl_ipset **s, struct sl_error *err)
{
	static bool types;
	struct sl_ipset *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (!types) {
		ipset_load_types();
		types = true;
	}
	n->h = ipset_init();
	if (!n->h) {
		free(n);
		return sl_error(err, -ENOMEM, "cannot open ip sets: no memory");
	}
	ipset_custom_printf(n->h, on_custom_error, on_standard_error, on_output, n);
	/* libipset opens its netlink socket at the first command: made now, it
	 * is bound to this namespace, whichever the caller is in later */
	if (run(n, "list -name") < 0) {
		int r = sl_error(err, -EIO, "cannot open ip sets: %s", n->err);

		sl_ipset_closep(&n);
		return r;
	}
	*s = n;
	return 0;
}

void sl_ipset_closep(struct sl_ipset **s)
{
	if (!*s)
		return;
	ipset_fini((*s)->h);
	free((*s)->out);
	free(*s);
	*s = NULL;
}

/* One ipset(8) command line; libipset's message, if any, in s->err. */
static int run(struct sl_ipset *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(struct sl_ipset *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->err[0] = '\0';
	s->nout = 0;
	r = ipset_parse_line(s->h, line);
	return r == 0 ? 0 : -EIO;
}

/**
 * sl_ipset_create() - make a set of addresses that expire, if it is missing
 * @s: handle
 * @set: its name
 * @err: why, when it fails
 *
 * hash:ip, IPv4, each address with its own timeout (the set's default,
 * an hour, is never used: sl_ipset_add() always gives one).
 *
 * Return: 0 or -EIO with the error recorded
 */
int sl_ipset_create(struct sl_ipset *s, const char *set, struct sl_error *err)
{
	if (run(s, "create %s hash:ip family inet timeout 3600 maxelem 65536 -exist", set) < 0)
		return sl_error(err, -EIO, "cannot create ip set %s: %s", set, s->err);
	return 0;
}

/**
 * sl_ipset_destroy() - remove a set; one already gone is not an error
 * @err: why, when it fails
 *
 * Return: 0, -EBUSY (a rule still uses it) or -EIO with the error recorded
 */
int sl_ipset_destroy(struct sl_ipset *s, const char *set, struct sl_error *err)
{
	if (run(s, "destroy %s", set) == 0 || strstr(s->err, "does not exist"))
		return 0;
	return sl_error(err, strstr(s->err, "in use") ? -EBUSY : -EIO,
			"cannot remove ip set %s: %s", set, s->err);
}

/*
 * libipset asks the kernel for a set's type before every add (a second
 * netlink round trip) unless the name is in its process-wide cache. Every
 * set we make is hash:ip inet, in whichever namespace: once an add found
 * the kernel's revision of it, any set of that name has that type.
 */
static void remember_type(const char *set)
{
	for (const struct ipset_type *t = ipset_types(); t; t = t->next)
		if (t->kernel_check == IPSET_KERNEL_OK && ipset_match_typename("hash:ip", t)) {
			ipset_cache_add(set, t, NFPROTO_IPV4); /* -EEXIST when known */
			return;
		}
}

/**
 * sl_ipset_add() - add an address, or renew it, for @timeout seconds
 * @err: why, when it fails
 *
 * Return: 0 or -EIO with the error recorded
 */
int sl_ipset_add(struct sl_ipset *s, const char *set, uint32_t addr, unsigned timeout,
		 struct sl_error *err)
{
	char a[SL_CIDR_STRLEN];

	if (run(s, "add %s %s timeout %u -exist", set, sl_ip_fmt(addr, a), timeout) < 0)
		return sl_error(err, -EIO, "cannot add %s to ip set %s: %s", a, set, s->err);
	remember_type(set);
	return 0;
}

/**
 * sl_ipset_del() - take an address out of a set; one not there is no error
 * @err: why, when it fails
 *
 * Return: 0 or -EIO with the error recorded
 */
int sl_ipset_del(struct sl_ipset *s, const char *set, uint32_t addr, struct sl_error *err)
{
	char a[SL_CIDR_STRLEN];

	if (run(s, "del %s %s -exist", set, sl_ip_fmt(addr, a)) < 0)
		return sl_error(err, -EIO, "cannot remove %s from ip set %s: %s", a, set, s->err);
	return 0;
}

/**
 * sl_ipset_test() - whether a set holds an address now
 * @err: why, when it fails
 *
 * Return: 1, 0 (not held, or no such set), or -EIO with the error recorded
 */
int sl_ipset_test(struct sl_ipset *s, const char *set, uint32_t addr, struct sl_error *err)
{
	char a[SL_CIDR_STRLEN];

	if (run(s, "test %s %s", set, sl_ip_fmt(addr, a)) == 0)
		return !strstr(s->err, "NOT");
	if (strstr(s->err, "NOT") || strstr(s->err, "does not exist"))
		return 0;
	return sl_error(err, -EIO, "cannot test %s in ip set %s: %s", a, set, s->err);
}

/**
 * sl_ipset_names() - the names of the namespace's sets
 * @s: handle
 * @names: result, for sl_strv_free()
 * @n: how many
 * @err: why, when it fails
 *
 * Return: 0, -ENOMEM, or -EIO with the error recorded
 */
int sl_ipset_names(struct sl_ipset *s, char ***names, size_t *n, struct sl_error *err)
{
	char *save = NULL;

	*names = NULL;
	*n = 0;
	if (run(s, "list -name") < 0)
		return sl_error(err, -EIO, "cannot list ip sets: %s", s->err);
	if (!s->nout)
		return 0;
	for (char *t = strtok_r(s->out, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
		char **nv = realloc(*names, (*n + 1) * sizeof(*nv));

		if (!nv || !(nv[*n] = strdup(t))) {
			if (nv)
				*names = nv;
			return -ENOMEM;
		}
		*names = nv;
		(*n)++;
	}
	return 0;
}

/* The kernel's ip_set socket option: a set's index by name, or the reverse. */
static int sockopt(struct ip_set_req_get_set *req)
{
	struct ip_set_req_version v = { .op = IP_SET_OP_VERSION };
	socklen_t len = sizeof(v);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0 || getsockopt(fd, SOL_IP, SO_IP_SET, &v, &len) < 0)
		return -errno;
	req->version = v.version;
	len = sizeof(*req);
	if (getsockopt(fd, SOL_IP, SO_IP_SET, req, &len) < 0)
		return -errno;
	return 0;
}

/**
 * sl_ipset_index() - the index a rule's set match names a set by
 * @err: why, when it fails
 *
 * Return: 0, or -ENOENT (no such set) with the error recorded, or -errno
 */
int sl_ipset_index(const char *set, uint16_t *index, struct sl_error *err)
{
	struct ip_set_req_get_set req = { .op = IP_SET_OP_GET_BYNAME };
	int r;

	snprintf(req.set.name, sizeof(req.set.name), "%s", set);
	r = sockopt(&req);
	if (r < 0 || req.set.index == IPSET_INVALID_ID)
		return sl_error(err, r < 0 ? r : -ENOENT, "no ip set %s in this namespace%s%s", set,
				r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	*index = req.set.index;
	return 0;
}

/**
 * sl_ipset_name_of() - the name of the set a rule's match holds the index of
 *
 * Return: 0, or -ENOENT
 */
int sl_ipset_name_of(uint16_t index, char *buf, size_t len)
{
	struct ip_set_req_get_set req = { .op = IP_SET_OP_GET_BYINDEX };

	req.set.index = index;
	if (sockopt(&req) < 0 || !req.set.name[0])
		return -ENOENT;
	snprintf(buf, len, "%.*s", IPSET_MAXNAMELEN - 1, req.set.name);
	return 0;
}
