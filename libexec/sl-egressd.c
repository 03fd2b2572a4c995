/* SPDX-License-Identifier: MIT */
/*
 * sl-egressd: the one daemon of a run dir (lib/net/egressd.h). Started by the
 * first `sl-egress apply` that needs it, never by hand: fd 3 is a pipe it
 * writes "ok" or its error to once it listens on $SL_RUN_DIR/egressd.sock.
 *
 * Each VM it serves has, made in the VM's namespace (entered for the
 * moment: setns, make, come back): a listener on the namespace's NFLOG
 * group, whose denials go to the VM's denied.log; and, when its allow list
 * holds names, a resolver (lib/net/resolver.c). One epoll set over all of them
 * (a wakeup costs what is ready, not how many VMs there are); a socket
 * that is ready gives at most BUDGET messages a turn, so one VM's flood
 * waits while the others have theirs. The kernel's rate limit on the
 * logged drops keeps a flood's lines down; what it kept back is counted from
 * the drop rules' counters and said as "N suppressed".
 *
 * Control (one line, one answer, then the connection closes):
 *	add NAME     serve it, or read its state again (a new policy) -> ok slot=N
 *	del NAME     stop serving it -> ok
 *	status NAME  -> ok pid=P [slot=N logged= suppressed= resolver=0|1 queries=
 *		     refused= cached= upstream=]
 * A VM whose namespace's name goes (or is another namespace now) is let go.
 * At start every isolated VM of the run dir with egress rules is taken
 * back (after a crash the next apply starts it again). With no VM left it
 * ends, unless a tool holds the run dir's egressd lock (about to add one).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "caplog.h"
#include "denials.h"
#include "egress.h"
#include "egressd.h"
#include "ipt.h"
#include "kv.h"
#include "log.h"
#include "name.h"
#include "netns.h"
#include "nflog.h"
#include "policy.h"
#include "resolver.h"
#include "state.h"
#include "supervisor.h"
#include "util.h"

#include <libiptc/libiptc.h>

#define BUDGET 8      /* messages a socket gives in one turn */
#define NFLOG_READS 4 /* recv() of the NFLOG socket a turn (each may hold many) */
#define TICK_MS 250
#define COUNT_MS 1000 /* the drop counters, read at most this often per VM */

struct vm {
	char name[64];
	struct stat ns; /* the namespace served: to see its name go */
	struct sl_nflog *nl;
	struct sl_resolver *res; /* NULL: no names in its allow list */
	unsigned long logged;	 /* NFLOG messages since its rules were written */
	unsigned long said;	 /* suppressed, already said */
	unsigned long drops;	 /* the drop rules' count at the last reading */
	long long counted_ms;	 /* that reading's time */
	bool active;		 /* denials since that reading */
};

static struct {
	struct vm **v;
	size_t n;
	int ctl, sig, self_ns, ep;
	long long empty_since;
	bool ending;
	unsigned long long log_max; /* egressd.log's cap (SL_CONSOLE_MAX) */
} D = { .ctl = -1, .sig = -1, .self_ns = -1, .ep = -1 };

/*
 * An epoll event's data: a VM (its address) and which of its fds, in the
 * low bits (a VM is 8-aligned); with no VM, the control socket or signals.
 * Only what is ready is looked at: a wakeup costs the same with 1 VM or 256.
 */
enum { E_NFLOG = 1, E_RESOLVER = 2, E_CTL = 1, E_SIG = 2 };

static int watch(int fd, struct vm *v, unsigned kind)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uintptr_t)v | kind };

	return epoll_ctl(D.ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static struct vm *find(const char *name, size_t *at)
{
	for (size_t i = 0; i < D.n; i++)
		if (!strcmp(D.v[i]->name, name)) {
			if (at)
				*at = i;
			return D.v[i];
		}
	return NULL;
}

static void on_packet(const struct sl_packet *pkt, const char *why, unsigned indev, void *arg)
{
	struct vm *v = arg;
	struct sl_denial d;
	static bool warned; /* its own log is not to grow with the denials */
	int r;

	(void)indev;
	v->logged++;
	v->active = true;
	sl_denial_from_packet(&d, v->name, pkt, why);
	if ((r = sl_denial_append(v->name, SL_DENIED_LOG, &d)) < 0 && !warned) {
		sl_warn("%s: cannot write %s: %s", v->name, SL_DENIED_LOG, strerror(-r));
		warned = true;
	}
}

/* Into the VM's namespace (the one its name holds now), for a moment. */
static int enter(const char *name, struct stat *ns, struct sl_error *err)
{
	_cleanup_close_ int fd = sl_netns_open(name);

	if (fd < 0)
		return sl_error(err, fd, "%s: no namespace: %s", name, strerror(-fd));
	if (fstat(fd, ns) < 0 || setns(fd, CLONE_NEWNET) < 0)
		return sl_error(err, -errno, "%s: cannot enter its namespace: %s", name,
				strerror(errno));
	return 0;
}

static void leave(void)
{
	if (setns(D.self_ns, CLONE_NEWNET) < 0)
		sl_die(1, "cannot come back to its own namespace: %s", strerror(errno));
}

static void vm_free(struct vm *v)
{
	sl_nflog_close(v->nl);
	sl_resolver_close(v->res);
	free(v);
}

/* Whether the VM's state asks for a resolver: names in allow, now or before. */
static bool wants_resolver(const char *name)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	const char *up;

	return sl_state_load(name, &st, NULL) == 0 && (up = sl_kv_get(&st, "SL_DNS_UPSTREAM")) &&
	       *up;
}

/* A VM served already: its new policy (its rules were written anew, and their counters). */
static int reload(struct vm *v, struct sl_error *err)
{
	int r = 0;

	v->logged = v->said = v->drops = 0;
	v->counted_ms = sl_now_ms();
	if (v->res)
		return sl_resolver_reload(v->res, err);
	if (!wants_resolver(v->name))
		return 0;
	if ((r = enter(v->name, &v->ns, err)) < 0)
		return r;
	r = sl_resolver_open(&v->res, v->name, err);
	leave();
	if (r == 0 && (r = watch(sl_resolver_fd(v->res), v, E_RESOLVER)) < 0) {
		sl_resolver_close(v->res);
		v->res = NULL;
		sl_error(err, r, "%s: epoll: %s", v->name, strerror(-r));
	}
	return r;
}

static int add(const char *name, size_t *slot, struct sl_error *err)
{
	struct vm *v = find(name, slot), **nv;
	int r;

	if (v)
		return reload(v, err);
	/* an array of pointers: a VM's address is its NFLOG callback's argument */
	if (!(v = calloc(1, sizeof(*v))) ||
	    !(nv = realloc(D.v, (D.n + 1) *
				    sizeof(struct vm *)))) { // NOLINT(bugprone-sizeof-expression)
		free(v);
		return -ENOMEM;
	}
	D.v = nv;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->counted_ms = sl_now_ms();
	if ((r = enter(name, &v->ns, err)) < 0) {
		free(v);
		return r;
	}
	/* the sockets are made in the namespace: NFLOG groups are per namespace */
	if ((r = sl_nflog_open(&v->nl, SL_NFLOG_GROUP, on_packet, v, err)) < 0)
		sl_error_wrap(err, r, "%s", name);
	else if (wants_resolver(name))
		r = sl_resolver_open(&v->res, name, err);
	leave();
	if (r == 0 && ((r = watch(sl_nflog_fd(v->nl), v, E_NFLOG)) < 0 ||
		       (v->res && (r = watch(sl_resolver_fd(v->res), v, E_RESOLVER)) < 0)))
		sl_error(err, r, "%s: epoll: %s", name, strerror(-r));
	if (r < 0) {
		vm_free(v);
		return r;
	}
	*slot = D.n;
	D.v[D.n++] = v;
	return 0;
}

static void drop_vm(size_t i)
{
	if (!D.v || i >= D.n)
		return;
	vm_free(D.v[i]);
	memmove(D.v + i, D.v + i + 1,
		(D.n - i - 1) * sizeof(struct vm *)); // NOLINT(bugprone-sizeof-expression)
	if (!--D.n)
		D.empty_since = sl_now_ms();
}

/* The packets the VM's logged drops dropped: DROP rules right after their NFLOG twin. */
static int count_drops(struct vm *v, unsigned long *drops)
{
	_cleanup_ipt_ struct xtc_handle *h = NULL;
	_cleanup_free_ struct sl_rule *rules = NULL;
	struct sl_error why = { 0 };
	struct stat now = { 0 };
	size_t n = 0;
	int r;

	if ((r = enter(v->name, &now, &why)) < 0)
		return r;
	if (now.st_dev != v->ns.st_dev || now.st_ino != v->ns.st_ino) {
		leave();
		return -ESTALE;
	}
	r = sl_ipt_open("filter", &h, &why);
	if (r == 0)
		r = sl_ipt_list(h, SL_CHAIN_NS_FWD, &rules, &n);
	leave();
	if (r < 0)
		return r;
	*drops = 0;
	for (size_t i = 1; i < n; i++)
		if (!strcmp(rules[i].target, "DROP") && !strcmp(rules[i - 1].target, "NFLOG"))
			*drops += rules[i].pkts;
	return 0;
}

/*
 * What the kernel's limit kept from the log: the drops counted a second ago
 * (their messages have come by now) less those logged. Said as one line
 * when it grew; read while the VM is dropping, and once more after.
 */
static void account(struct vm *v, long long now)
{
	unsigned long drops, held;

	if (now - v->counted_ms < COUNT_MS || (!v->active && v->logged + v->said >= v->drops))
		return;
	if (count_drops(v, &drops) < 0)
		return;
	held = v->drops > v->logged ? v->drops - v->logged : 0;
	if (held > v->said) {
		struct sl_denial d = { 0 };

		sl_denial_now(d.time);
		snprintf(d.vm, sizeof(d.vm), "%.31s", v->name);
		snprintf(d.proto, sizeof(d.proto), "ip");
		d.suppressed = held - v->said;
		if (sl_denial_append(v->name, SL_DENIED_LOG, &d) == 0)
			v->said = held;
	}
	v->drops = drops;
	v->counted_ms = now;
	v->active = false;
}

/* Whether the VM's namespace is still the one served (its name, its identity). */
static bool ns_alive(const struct vm *v)
{
	char path[4096];
	struct stat st;

	return sl_netns_path(v->name, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       st.st_dev == v->ns.st_dev && st.st_ino == v->ns.st_ino;
}

static void status(const char *name, char *out, size_t len)
{
	size_t i;
	struct vm *v = find(name, &i);
	struct sl_resolver_stats rs = { 0 };
	int n;

	n = snprintf(out, len, "ok pid=%d", getpid());
	if (!v || n < 0 || (size_t)n >= len)
		return;
	if (v->res)
		sl_resolver_stats(v->res, &rs);
	snprintf(out + n, len - (size_t)n,
		 " slot=%zu logged=%lu suppressed=%lu resolver=%d queries=%lu refused=%lu "
		 "cached=%lu%s%s",
		 i, v->logged, v->said, v->res != NULL, rs.queries, rs.refused, rs.cached,
		 v->res ? " upstream=" : "", v->res ? sl_resolver_upstream(v->res) : "");
}

/* One control connection: a line in, a line out. Return: whether there was one. */
/* One request line "VERB NAME", answered into @out. */
static void control_request(const char *in, char *out, size_t len)
{
	struct sl_error why = { 0 }, *err = &why;
	char verb[16], name[64];
	size_t slot = 0;
	int r;

	if (sscanf(in, "%15s %63s", verb, name) != 2 || sl_name_check(name, NULL) < 0) {
		snprintf(out, len, "err sl-egressd: bad request");
	} else if (!strcmp(verb, "add") && D.ending) {
		snprintf(out, len, "err sl-egressd: ending");
	} else if (!strcmp(verb, "add")) {
		r = add(name, &slot, err);
		if (r < 0)
			snprintf(out, len, "err %s", sl_error_msg(err, r));
		else
			snprintf(out, len, "ok slot=%zu", slot);
	} else if (!strcmp(verb, "del")) {
		if (find(name, &slot))
			drop_vm(slot);
		snprintf(out, len, "ok");
	} else if (!strcmp(verb, "status")) {
		status(name, out, len);
	} else {
		snprintf(out, len, "err sl-egressd: unknown request '%s'", verb);
	}
}

static bool on_control(void)
{
	struct timeval tv = { 1, 0 };
	char in[256] = "", out[1024];
	int fd = accept4(D.ctl, NULL, NULL, SOCK_CLOEXEC);
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (have < sizeof(in) - 1 && (n = read(fd, in + have, sizeof(in) - 1 - have)) > 0) {
		have += (size_t)n;
		if (memchr(in, '\n', have))
			break;
	}
	in[have] = '\0';
	control_request(in, out, sizeof(out));
	dprintf(fd, "%s\n", out);
	close(fd);
	return true;
}

/* Every isolated VM of the run dir with egress rules: after a restart, all are served again. */
static void take_back(void)
{
	char **names = NULL;
	size_t n = 0;

	if (sl_state_list(&names, &n, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		struct sl_error why = { 0 };
		const char *mode;
		size_t slot;
		int r;

		if (sl_state_load(names[i], &st, NULL) < 0 || !sl_kv_get(&st, "SL_EGRESS_RANGE") ||
		    !sl_kv_get(&st, "SL_IP") ||
		    ((mode = sl_kv_get(&st, "SL_MODE")) && strcmp(mode, "isolated")) ||
		    sl_owned_netns(names[i]) != 1)
			continue;
		if ((r = add(names[i], &slot, &why)) < 0)
			sl_warn("%s", sl_error_msg(&why, r));
	}
	sl_strv_free(names, n);
}

static int listen_ctl(struct sl_error *err)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (sl_run_path(a.sun_path, sizeof(a.sun_path), "%s", SL_EGRESSD_SOCK) < 0)
		return -ENAMETOOLONG;
	unlink(a.sun_path);
	D.ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (D.ctl < 0 || bind(D.ctl, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(a.sun_path, 0600) < 0 || listen(D.ctl, 64) < 0)
		return sl_error(err, -errno, "%s: %s", a.sun_path, strerror(errno));
	return 0;
}

static int write_pid(struct sl_error *err)
{
	char path[4096], tmp[4200];
	unsigned long long start;
	FILE *f;
	int r;

	if ((r = sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_PID)) < 0 ||
	    (r = sl_proc_start(getpid(), &start)) < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = sl_run_fopen_new(tmp)))
		return sl_error(err, -errno, "%s: %s", tmp, strerror(errno));
	fprintf(f, "%d %llu\n", getpid(), start);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * egressd.log is its stderr, and a guest can make it write (each answer
 * whose address does not fit its full set is a line), so it is capped as
 * console.log is: past SL_CONSOLE_MAX bytes it becomes egressd.log.1 (the
 * older one dropped) and a new one starts. Looked at on every tick.
 */
static void cap_log(void)
{
	char path[4096], old[4200];

	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_LOG) < 0)
		return;
	snprintf(old, sizeof(old), "%s.1", path);
	if (sl_caplog_cap_fd(2, path, old, D.log_max, 0600) == 1)
		sl_info("egressd.log passed %llu bytes: what it said before is in egressd.log.1",
			D.log_max);
}

/* What it leaves: nothing, but a log that says something. */
static void remove_files(void)
{
	char path[4096];
	struct stat st;

	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_SOCK) == 0)
		unlink(path);
	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_PID) == 0)
		unlink(path);
	if (sl_run_path(path, sizeof(path), "%s", SL_EGRESSD_LOG) == 0 && lstat(path, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size == 0)
		unlink(path);
}

static int setup(struct sl_error *err)
{
	sigset_t set;
	int r;

	if ((D.self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		return sl_error(err, -errno, "its own namespace: %s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (D.sig = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return sl_error(err, -errno, "signals: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if ((D.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return sl_error(err, -errno, "epoll: %s", strerror(errno));
	if ((r = sl_run_dir_ready(err)) < 0 || (r = listen_ctl(err)) < 0)
		return r;
	if ((r = watch(D.ctl, NULL, E_CTL)) < 0 || (r = watch(D.sig, NULL, E_SIG)) < 0)
		return sl_error(err, r, "epoll: %s", strerror(-r));
	if ((r = write_pid(err)) < 0)
		return r;
	if (sl_console_max(&D.log_max, NULL) < 0) { /* the tools refuse it: not ours to */
		D.log_max = SL_CONSOLE_MAX_DEFAULT;
		sl_warn("bad SL_CONSOLE_MAX: egressd.log is capped at %llu bytes", D.log_max);
	}
	cap_log(); /* a log left as large by a daemon before */
	take_back();
	D.empty_since = sl_now_ms();
	return 0;
}

/* With no VM to serve, it ends; not while a tool holds the lock (an add is coming). */
static bool done(long long now, bool at_once)
{
	if (D.n || (!at_once && now - D.empty_since < 1000))
		return false;
	/* the lock's fd is kept open: it goes with the process */
	if (sl_lock_try(SL_EGRESSD_LOCK, NULL) < 0)
		return false;
	remove_files(); /* under the lock: a tool now finds none and starts one */
	/* who connected before the unlink is answered (a del, a status: it serves
	 * nothing now), not left with a connection reset */
	D.ending = true;
	while (on_control())
		;
	return true;
}

/*
 * One batch of events: every ready VM's turn, a budget each; a control
 * request seen sets @ctl (answered after, since it may take VMs away whose
 * events are in this batch). True when a signal says to end.
 */
static bool serve_events(const struct epoll_event *ev, int k, bool *ctl)
{
	for (int i = 0; i < k; i++) {
		struct vm *v = (struct vm *)(uintptr_t)(ev[i].data.u64 & ~(uint64_t)3);
		unsigned kind = (unsigned)(ev[i].data.u64 & 3);

		if (!v && kind == E_CTL) {
			*ctl = true;
		} else if (!v && kind == E_SIG) {
			struct signalfd_siginfo si;

			if (read(D.sig, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return true;
		} else if (kind == E_NFLOG) {
			for (int b = 0; b < NFLOG_READS; b++)
				if (sl_nflog_read(v->nl) < 0)
					break;
		} else if (kind == E_RESOLVER && v->res) {
			sl_resolver_io(v->res, BUDGET);
		}
	}
	return false;
}

static int serve(void)
{
	struct epoll_event ev[64];
	long long tick = 0;

	for (;;) {
		int k = epoll_wait(D.ep, ev, (int)ARRAY_SIZE(ev), TICK_MS);
		bool ctl = false, empty_now = false;
		long long now;

		if (k < 0 && errno != EINTR)
			return -errno;
		if (serve_events(ev, k, &ctl)) {
			remove_files();
			return 0;
		}
		if (ctl) {
			size_t before = D.n;

			on_control();
			empty_now = before && !D.n;
		}
		now = sl_now_ms();
		if (now - tick >= TICK_MS) {
			tick = now;
			cap_log();
			for (size_t i = D.n; i-- > 0;) {
				if (!ns_alive(D.v[i])) { /* sl-netns del, ip netns del */
					drop_vm(i);
					continue;
				}
				if (D.v[i]->res)
					sl_resolver_tick(D.v[i]->res, now);
				account(D.v[i], now);
			}
		}
		if (done(now, empty_now))
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
	int r;

	sl_log_init(argv[0]);
	if (argc != 1) {
		dprintf(3, "usage: sl-egressd (run by sl-egress apply)\n");
		sl_die(2, "usage: sl-egressd (run by sl-egress apply)");
	}
	r = setup(err);
	/* sl-egress waits for this line: the daemon listens, or why not */
	dprintf(3, "%s\n", r < 0 ? sl_error_msg(err, r) : "ok");
	close(3);
	if (r < 0) {
		remove_files();
		sl_die(1, "%s", sl_error_msg(err, r));
	}
	r = serve();
	while (D.n)
		drop_vm(D.n - 1);
	return r < 0 ? 1 : 0;
}
