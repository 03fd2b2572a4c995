/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sched.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "error.h"
#include "log.h"
#include "name.h"
#include "proto.h"
#include "state.h"
#include "spawn.h"
#include "supervisor.h"
#include "vm.h"

#define MAX_CLIENTS 128
/* Room for one whole frame and the start of the next. */
#define RX_SIZE (SL_HDR_LEN + SL_FRAME_MAX + 16384)
/*
 * Above this many queued bytes, stop reading whoever fills the queue: the
 * sender waits instead of the supervisor growing (it should stay ~2 MiB).
 */
#define HIGH_WATER (256u << 10)

enum cstate { C_FREE, C_NEW, C_CHAN, C_CONSOLE, C_READY_WAIT, C_CLOSING };

struct client {
	enum cstate st;
	int fd;
	uint32_t chan;
	uint8_t *rx;
	size_t have;
	struct sl_buf out;
	long long since; /* accepted at (ms): an idle C_NEW may be evicted */
};

/*
 * Everything the supervisor's loop knows, in one place and passed to each
 * helper: the VM's fds and logs (@sv, from sl-supervise), the clients, the
 * guest's stream both ways, and where the handshake and liveness stand.
 */
struct supervisor {
	struct sl_supervisor *sv;
	struct client clients[MAX_CLIENTS];
	struct client *by_chan[SL_CHAN_MAX];
	uint32_t next_chan;
	uint8_t grx[RX_SIZE]; /* from the guest, not yet parsed */
	size_t ghave;
	struct sl_buf gout;   /* to the guest */
	/* Console input for QEMU's stdin: queued, never written blocking (a
	 * guest that does not read its serial port would stall every client). */
	struct sl_buf con_queue;
	bool ready, synced;
	bool hello_now; /* a client waits for the agent: hello at once, not in 50 ms */
	/* Liveness of the agent while commands wait (SL_AGENT_TIMEOUT): */
	long long guest_heard_ms, ping_sent_ms;
	uint8_t nonce[12];
	/* supervisor.log lives in /run too: a guest that resets the channel in a
	 * loop gets one line a second, with the count of the others */
	long long reset_said_ms;
	unsigned long resets_unsaid;
};

static void diag(struct supervisor *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diag(struct supervisor *L, const char *fmt, ...)
{
	char buf[512];
	struct timespec ts;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf), "%lld.%03ld %s: ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000000, L->sv->name);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (L->sv->diag_fd >= 0)
		sl_write_all(L->sv->diag_fd, buf, (size_t)n);
}

static void tell_starter(struct supervisor *L, const char *msg)
{
	if (L->sv->ready_fd < 0)
		return;
	sl_write_all(L->sv->ready_fd, msg, strlen(msg));
	close(L->sv->ready_fd);
	L->sv->ready_fd = -1;
}

static void client_close(struct supervisor *L, struct client *c)
{
	if (c->st == C_CHAN && c->chan) {
		/* The guest ends whatever ran for a client that went away. */
		sl_buf_frame(&L->gout, SL_CLOSE, c->chan, NULL, 0);
	}
	if (c->chan)
		L->by_chan[c->chan] = NULL;
	close(c->fd);
	free(c->rx);
	sl_buf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void to_client(struct client *c, uint8_t type, const void *data, size_t len)
{
	sl_buf_frame(&c->out, type, 0, data, len);
}

static void client_error(struct supervisor *L, struct client *c, const char *msg)
{
	to_client(c, SL_ERROR, msg, strlen(msg));
	if (c->chan)
		L->by_chan[c->chan] = NULL;
	c->chan = 0;
	c->st = C_CLOSING;
}

static uint32_t new_chan(struct supervisor *L)
{
	for (uint32_t i = 0; i < SL_CHAN_MAX - 1; i++) {
		uint32_t id = L->next_chan ? L->next_chan : 1;

		L->next_chan = id + 1 >= SL_CHAN_MAX ? 1 : id + 1;
		if (!L->by_chan[id])
			return id;
	}
	return 0;
}

static void send_hello(struct supervisor *L)
{
	uint8_t p[12] = { 0, 0, 0, SL_PROTO_VERSION };

	memcpy(p + 4, L->nonce + 4, 8);
	memcpy(L->nonce, p, 4);
	sl_buf_frame(&L->gout, SL_HELLO, 0, p, sizeof(p));
}

/*
 * The guest said something we cannot accept: drop every channel with an
 * error and start again from the handshake, discarding what follows.
 */
static long long now_ms(void);

static void guest_reset(struct supervisor *L, const char *why)
{
	long long t = now_ms();

	if (L->reset_said_ms && t - L->reset_said_ms < 1000) {
		L->resets_unsaid++;
	} else {
		diag(L, "malformed data from the guest (%s): closing all channels, "
		     "resynchronising (%lu more since the last such line)", why, L->resets_unsaid);
		L->reset_said_ms = t;
		L->resets_unsaid = 0;
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &L->clients[i];

		if (c->st == C_CHAN)
			client_error(L, c, "sl-supervisor: the guest agent sent a malformed frame");
	}
	L->synced = false;
	L->ghave = 0;
	sl_buf_free(&L->gout);
	send_hello(L);
}

static void from_guest(struct supervisor *L, const struct sl_frame *f)
{
	struct client *c;

	if (!L->synced) {
		/* Before the handshake only our own hello, echoed, counts. */
		if (f->type == SL_HELLO && f->len == sizeof(L->nonce) &&
		    !memcmp(f->data, L->nonce, sizeof(L->nonce))) {
			L->synced = true;
			if (!L->ready) {
				L->ready = true;
				diag(L, "agent ready");
				tell_starter(L, "ok\n");
			}
			for (int i = 0; i < MAX_CLIENTS; i++)
				if (L->clients[i].st == C_READY_WAIT) {
					to_client(&L->clients[i], SL_READY, NULL, 0);
					L->clients[i].st = C_CLOSING;
				}
		}
		return;
	}
	switch (f->type) {
	case SL_STDOUT:
	case SL_STDERR:
	case SL_EXIT:
	case SL_CLOSE:
	case SL_ERROR:
		break;
	case SL_HELLO:
		return; /* a late echo */
	case SL_PONG:
		L->ping_sent_ms = 0;
		return;
	default:
		return guest_reset(L, "unexpected frame type");
	}
	if (f->chan == 0 || f->chan >= SL_CHAN_MAX)
		return guest_reset(L, "bad channel id");
	if (f->type == SL_EXIT && f->len != 2)
		return guest_reset(L, "bad exit frame");
	c = L->by_chan[f->chan];
	if (!c)
		return; /* the client left already */
	to_client(c, f->type, f->data, f->len);
	if (f->type == SL_EXIT || f->type == SL_CLOSE || f->type == SL_ERROR) {
		L->by_chan[f->chan] = NULL;
		c->chan = 0;
		c->st = C_CLOSING;
	}
}

/*
 * What a spare's supervisor rewrites when it becomes a VM: its name and
 * paths (static: the loop keeps pointers to them), and what ps(1) and
 * sl-gc read of it: argv[1] (the spare's is padded to the longest name)
 * and SL_RUN_DIR in its environment, both overwritten in place.
 */
static struct {
	char name[SL_NAME_MAX + 1], sock[4096], log[4096], old[4096];
	char *arg, *arg_end; /* argv[1] to the NUL before "--" */
	char *env, *env_end; /* SL_RUN_DIR's value in the environment block */
} me;

static void overwrite(char *at, char *end, const char *s)
{
	size_t n = strlen(s);

	if (!at || (size_t)(end - at) < n)
		return;
	memcpy(at, s, n);
	memset(at + n, 0, (size_t)(end - at) - n);
}

/* A spare taken by VM @name of run dir @run: its files go there, it is that VM. */
static int become(struct supervisor *L, const char *name, const char *run, char *why, size_t len)
{
	static const char *const files[] = { SL_AGENT_SOCK,	SL_QMP_SOCK,	    SL_SUPERVISOR_PID,
					     SL_QEMU_PID,	SL_CONSOLE_LOG,	    SL_CONSOLE_LOG_OLD,
					     SL_SUPERVISOR_LOG, NULL };
	char from[4096], to[4096];

	if (strlen(name) > SL_NAME_MAX || strlen(name) > (size_t)(me.arg_end - me.arg) ||
	    strlen(run) > (size_t)(me.env_end - me.env) || strlen(run) + strlen(name) > 4000) {
		snprintf(why, len, "sl-supervisor: %s/%s does not fit in its place", run, name);
		return -ENAMETOOLONG;
	}
	for (const char *const *f = files; *f; f++) {
		snprintf(from, sizeof(from), "%s/%s/%s", sl_run_dir(), me.name, *f);
		snprintf(to, sizeof(to), "%s/%s/%s", run, name, *f);
		if (rename(from, to) < 0 && errno != ENOENT) {
			snprintf(why, len, "sl-supervisor: cannot move %s into %s/%s: %s", *f, run,
				 name, strerror(errno));
			return -errno;
		}
	}
	snprintf(me.name, sizeof(me.name), "%s", name);
	snprintf(me.sock, sizeof(me.sock), "%s/%s/%s", run, name, SL_AGENT_SOCK);
	snprintf(me.log, sizeof(me.log), "%s/%s/%s", run, name, SL_CONSOLE_LOG);
	snprintf(me.old, sizeof(me.old), "%s/%s/%s", run, name, SL_CONSOLE_LOG_OLD);
	setenv("SL_RUN_DIR", run, 1);
	overwrite(me.arg, me.arg_end, name);
	overwrite(me.env, me.env_end, run);
	diag(L, "now VM %s of %s", name, run);
	return 0;
}

static void rename_request(struct supervisor *L, struct client *c, const struct sl_frame *f)
{
	char why[4400];
	const char *name = (const char *)f->data, *run;
	size_t n = strnlen(name, f->len);

	if (n + 1 >= f->len || f->data[f->len - 1])
		return client_error(L, c, "sl-supervisor: bad rename request");
	run = name + n + 1;
	if (strlen(run) + n + 2 != f->len || run[0] != '/' || sl_name_check(name, NULL) < 0)
		return client_error(L, c, "sl-supervisor: bad rename request");
	if (become(L, name, run, why, sizeof(why)) < 0)
		return client_error(L, c, why);
	to_client(c, SL_READY, NULL, 0);
	c->st = C_CLOSING;
}

static void from_client(struct supervisor *L, struct client *c, const struct sl_frame *f)
{
	switch (f->type) {
	case SL_READY:
		if (L->ready && L->synced) {
			to_client(c, SL_READY, NULL, 0);
			c->st = C_CLOSING;
		} else {
			/* A restored guest runs at once: the hello already queued
			 * reaches it only when QEMU's socket sees new bytes. */
			c->st = C_READY_WAIT;
			L->hello_now = true;
		}
		return;
	case SL_CONSOLE:
		c->st = C_CONSOLE;
		return;
	case SL_RENAME:
		return rename_request(L, c, f);
	case SL_POWEROFF:
		diag(L, "power off requested");
		sl_buf_frame(&L->gout, SL_POWEROFF, 0, NULL, 0);
		c->st = C_CLOSING;
		return;
	case SL_EXEC:
	case SL_CONNECT:
	case SL_IDENTITY:
		if (c->st != C_NEW)
			return client_error(L, c, "sl-supervisor: one command per connection");
		if (!L->synced)
			return client_error(L, c, "sl-supervisor: the guest agent is not ready");
		c->chan = new_chan(L);
		if (!c->chan)
			return client_error(L, c, "sl-supervisor: too many channels");
		L->by_chan[c->chan] = c;
		c->st = C_CHAN;
		sl_buf_frame(&L->gout, f->type, c->chan, f->data, f->len);
		return;
	case SL_STDIN:
		if (c->st == C_CONSOLE) {
			if (f->len && sl_buf_put(&L->con_queue, f->data, f->len) < 0)
				diag(L, "console input lost: out of memory");
			return;
		}
		/* fall through */
	case SL_WINCH:
	case SL_CLOSE:
		if (c->st == C_CHAN)
			sl_buf_frame(&L->gout, f->type, c->chan, f->data, f->len);
		return;
	default:
		return client_error(L, c, "sl-supervisor: unexpected request");
	}
}

static long long now_ms(void);

/*
 * A command waits and the guest has been silent for a third of the
 * timeout: ping the agent. No answer in the whole timeout: the agent is
 * dead or hung (PID 1 in the guest; the VM may still run), so every waiting
 * client is told, instead of waiting forever, and the handshake starts
 * over. Return the poll timeout this asks for (ms), or -1.
 */
static int agent_liveness(struct supervisor *L, long long timeout_ms)
{
	long long t = now_ms();
	bool waiting = false;

	for (int i = 0; i < MAX_CLIENTS; i++)
		waiting |= L->clients[i].st == C_CHAN;
	if (!L->synced || !waiting) {
		L->ping_sent_ms = 0;
		return -1;
	}
	if (L->ping_sent_ms && t - L->ping_sent_ms >= timeout_ms) {
		diag(L, "the guest agent did not answer for %lld ms: failing its channels",
		     t - L->ping_sent_ms + timeout_ms / 3);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (L->clients[i].st == C_CHAN)
				client_error(L, &L->clients[i], "sl-supervisor: the guest agent stopped "
							  "answering (SL_AGENT_TIMEOUT)");
		L->synced = false; /* hellos again; the agent resets when it answers */
		L->ping_sent_ms = 0;
		return -1;
	}
	if (!L->ping_sent_ms && t - L->guest_heard_ms >= timeout_ms / 3) {
		sl_buf_frame(&L->gout, SL_PING, 0, NULL, 0);
		L->ping_sent_ms = t;
	}
	return 1000;
}

/*
 * The table is full: the oldest connection that has asked for nothing in
 * IDLE_EVICT_MS makes room (a client sends its request at once), so idle
 * connections cannot lock out sl-exec. Return a free slot, or NULL.
 */
#define IDLE_EVICT_MS 2000
static struct client *evict_idle(struct supervisor *L)
{
	struct client *old = NULL;
	long long t = now_ms();

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (L->clients[i].st == C_NEW && !L->clients[i].have &&
		    t - L->clients[i].since >= IDLE_EVICT_MS &&
		    (!old || L->clients[i].since < old->since))
			old = &L->clients[i];
	if (!old)
		return NULL;
	diag(L, "%d connections: closing one idle for %lld ms", MAX_CLIENTS, t - old->since);
	client_close(L, old);
	return old;
}

static void accept_client(struct supervisor *L)
{
	static const char full[] = "sl-supervisor: too many connections (128), none idle";
	int fd = accept4(L->sv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct client *c = NULL;

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS && !c; i++)
		if (L->clients[i].st == C_FREE)
			c = &L->clients[i];
	if (!c)
		c = evict_idle(L);
	if (c && (c->rx = malloc(RX_SIZE))) {
		c->st = C_NEW;
		c->fd = fd;
		c->since = now_ms();
		return;
	}
	{
		/* Say why, so the client does not report a vanished supervisor. */
		struct sl_buf b = { 0 };

		if (sl_buf_frame(&b, SL_ERROR, 0, full, sizeof(full) - 1) == 0)
			sl_buf_flush(&b, fd);
		sl_buf_free(&b);
	}
	close(fd);
}

static void read_client(struct supervisor *L, struct client *c)
{
	ssize_t n = read(c->fd, c->rx + c->have, RX_SIZE - c->have);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(L, c);
		return;
	}
	if (n < 0)
		return;
	c->have += (size_t)n;
	for (;;) {
		struct sl_frame f;
		ssize_t used = sl_frame_parse(c->rx, c->have, &f);

		if (used == 0)
			break;
		if (used < 0) {
			client_close(L, c);
			return;
		}
		from_client(L, c, &f);
		memmove(c->rx, c->rx + used, c->have - (size_t)used);
		c->have -= (size_t)used;
		if (c->st == C_FREE)
			return;
	}
}

static void read_guest(struct supervisor *L)
{
	ssize_t n = read(L->sv->guest_fd, L->grx + L->ghave, RX_SIZE - L->ghave);
	size_t off = 0;

	if (n <= 0)
		return;
	L->guest_heard_ms = now_ms();
	L->ghave += (size_t)n;
	while (off < L->ghave) {
		struct sl_frame f;
		ssize_t used = sl_frame_parse(L->grx + off, L->ghave - off, &f);

		if (used == 0)
			break;
		if (used < 0) {
			if (L->synced) {
				guest_reset(L, "bad frame header");
				return;
			}
			off += sl_frame_hunt(L->grx + off, L->ghave - off);
			continue;
		}
		from_guest(L, &f);
		if (L->ghave == 0)
			return; /* reset */
		off += (size_t)used;
	}
	memmove(L->grx, L->grx + off, L->ghave - off);
	L->ghave -= off;
}

/*
 * The guest fills the console log as fast as it likes (MB/s under KVM), and
 * it lives in /run: once full it becomes console.log.1, replacing the
 * older one, whose bytes are counted as dropped in supervisor.log.
 */
static void console_log(struct supervisor *L, const uint8_t *buf, size_t n)
{
	struct sl_caplog *c = &L->sv->console;
	int r;

	if (c->fd < 0)
		return;
	r = sl_caplog_write(c, buf, n);
	if (r > 0)
		diag(L, "console log reached %llu bytes: rotated to %s, %llu bytes dropped so far",
		     c->max, c->old, c->dropped);
	else if (r < 0)
		diag(L, "cannot rotate %s: %s; console no longer logged", c->path, strerror(-r));
}

static void read_console(struct supervisor *L)
{
	uint8_t buf[8192];
	ssize_t n = read(L->sv->con_out, buf, sizeof(buf));

	if (n <= 0)
		return;
	console_log(L, buf, (size_t)n);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (L->clients[i].st == C_CONSOLE && sl_buf_size(&L->clients[i].out) < HIGH_WATER)
			to_client(&L->clients[i], SL_STDOUT, buf, (size_t)n);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The signals waiting for us: from the signalfd, or, when none could be
 * made, straight from the pending set (they stay blocked either way, so
 * SIGTERM is ours to act on, not a default death that orphans QEMU).
 * Return: whether QEMU has exited (its status in @status).
 */
static bool take_signals(struct supervisor *L, int sfd, const sigset_t *mask, int *status)
{
	static const struct timespec now = { 0, 0 };
	struct signalfd_siginfo si;
	int signo;

	for (;;) {
		if (sfd >= 0)
			signo = read(sfd, &si, sizeof(si)) == sizeof(si) ? (int)si.ssi_signo : -1;
		else
			signo = sigtimedwait(mask, NULL, &now);
		if (signo < 0)
			break;
		if (signo == SIGCHLD)
			continue;
		diag(L, "signal %d: stopping qemu", signo);
		kill(L->sv->qemu_pid, SIGTERM);
	}
	return waitpid(L->sv->qemu_pid, status, WNOHANG) == L->sv->qemu_pid;
}

/*
 * Signals through a signalfd (or, without one, looked for every 100 ms),
 * the fds non-blocking, the hello's nonce. Return: the signalfd, or -1.
 */
static int loop_setup(struct supervisor *L, struct sl_supervisor *s, sigset_t *mask)
{
	int sfd, ur;

	for (int i = 0; i < MAX_CLIENTS; i++)
		L->clients[i].fd = -1;
	sigemptyset(mask);
	sigaddset(mask, SIGCHLD);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) /* out of fds or memory: look for QEMU's exit every 100 ms instead */
		diag(L, "signalfd: %s: polling for signals", strerror(errno));
	fcntl(s->guest_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->con_out, F_SETFL, O_NONBLOCK);
	fcntl(s->con_in, F_SETFL, O_NONBLOCK);
	fcntl(s->listen_fd, F_SETFL, O_NONBLOCK);
	ur = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (ur < 0 || read(ur, L->nonce + 4, 8) != 8)
		memcpy(L->nonce + 4, &s->qemu_pid, sizeof(s->qemu_pid));
	if (ur >= 0)
		close(ur);
	return sfd;
}

/* This turn's poll timeout; a hello sent while the agent has not answered one. */
static int turn_timeout(struct supervisor *L, int sfd, long long *last_hello)
{
	int timeout = -1;

	if (!L->synced) {
		long long t = now_ms();

		/* One hello at a time: a guest that does not read its port
		 * must not grow the queue by one every 50 ms. */
		if ((t - *last_hello >= 50 || L->hello_now) && !sl_buf_size(&L->gout)) {
			send_hello(L);
			*last_hello = t;
			L->hello_now = false;
		}
		timeout = 50;
	}
	if (agent_liveness(L, L->sv->agent_timeout_ms) > 0 && timeout < 0)
		timeout = 1000;
	if (sfd < 0 && (timeout < 0 || timeout > 100))
		timeout = 100;
	return timeout;
}

/*
 * What to wait for: signals, the guest's port (not read while a client's
 * queue is full), the console, new clients, each client (not read while
 * the guest's queue is full), the console's input. Return: how many.
 */
static int turn_polls(struct supervisor *L, int sfd, struct pollfd *pf)
{
	const struct sl_supervisor *s = L->sv;
	bool guest_backlog = sl_buf_size(&L->gout) > HIGH_WATER;
	bool console_backlog = sl_buf_size(&L->con_queue) > HIGH_WATER;
	bool clients_full = false;
	int n = 0;

	for (int i = 0; i < MAX_CLIENTS; i++)
		if (L->clients[i].st != C_FREE && sl_buf_size(&L->clients[i].out) > HIGH_WATER &&
		    L->clients[i].st != C_CONSOLE)
			clients_full = true;
	pf[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pf[n++] = (struct pollfd){ .fd = s->guest_fd,
				   .events = (short)((clients_full ? 0 : POLLIN) |
						     (sl_buf_size(&L->gout) ? POLLOUT : 0)) };
	pf[n++] = (struct pollfd){ .fd = s->con_out, .events = POLLIN };
	pf[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &L->clients[i];
		short ev = 0;

		if (c->st != C_FREE && c->st != C_CLOSING && !guest_backlog &&
		    !(c->st == C_CONSOLE && console_backlog))
			ev |= POLLIN;
		if (sl_buf_size(&c->out))
			ev |= POLLOUT;
		pf[n++] = (struct pollfd){ .fd = c->st == C_FREE ? -1 : c->fd, .events = ev };
	}
	pf[n++] = (struct pollfd){ .fd = sl_buf_size(&L->con_queue) ? s->con_in : -1,
				   .events = POLLOUT };
	return n;
}

/* One turn's ready fds served, in the order of turn_polls(). */
static void turn_serve(struct supervisor *L, const struct pollfd *pf)
{
	const struct sl_supervisor *s = L->sv;

	if (pf[2].revents)
		read_console(L);
	if (pf[1].revents & POLLOUT)
		sl_buf_flush(&L->gout, s->guest_fd);
	if (pf[1].revents & POLLIN)
		read_guest(L);
	if (pf[3].revents & POLLIN)
		accept_client(L);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &L->clients[i];
		short re = pf[4 + i].revents;

		if (c->st == C_FREE || pf[4 + i].fd != c->fd)
			continue;
		if ((re & POLLOUT) && sl_buf_flush(&c->out, c->fd) < 0) {
			client_close(L, c);
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			read_client(L, c);
		if (c->st == C_CLOSING && !sl_buf_size(&c->out))
			client_close(L, c);
	}
	if (sl_buf_size(&L->gout))
		sl_buf_flush(&L->gout, s->guest_fd);
	if ((pf[4 + MAX_CLIENTS].revents & (POLLOUT | POLLERR)) &&
	    sl_buf_flush(&L->con_queue, s->con_in) < 0)
		sl_buf_drop(&L->con_queue, sl_buf_size(&L->con_queue)); /* QEMU is going */
}

/* QEMU is gone: drain the console, tell everyone, clean up. */
static void qemu_gone(struct supervisor *L, int status)
{
	read_console(L);
	diag(L, "qemu exited (%s %d)", WIFSIGNALED(status) ? "signal" : "status",
	     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	tell_starter(L, "fail: QEMU exited before the agent answered\n");
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &L->clients[i];

		if (c->st == C_FREE)
			continue;
		if (c->st != C_CLOSING)
			to_client(c, SL_ERROR, "the VM stopped", 14);
		fcntl(c->fd, F_SETFL, 0);
		sl_buf_flush(&c->out, c->fd);
		c->chan = 0;
		client_close(L, c);
	}
	unlink(L->sv->sock_path);
}

/**
 * sl_supervisor_run() - serve one VM until its QEMU exits
 * @s: the fds set up by sl_boot_start()
 *
 * Return: QEMU's exit status, for the log; the caller exits.
 */
int sl_supervisor_run(struct sl_supervisor *s)
{
	static struct supervisor one; /* one VM a process; too big for the stack */
	struct supervisor *L = &one;
	long long last_hello = 0;
	int status = 0, sfd, poll_failed = 0;
	sigset_t mask;

	L->sv = s;
	sfd = loop_setup(L, s, &mask);
	diag(L, "supervising qemu pid %d", s->qemu_pid);
	for (;;) {
		struct pollfd pf[5 + MAX_CLIENTS];
		int timeout = turn_timeout(L, sfd, &last_hello);
		int n = turn_polls(L, sfd, pf);

		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			/* not a turn to serve, and not one to spin on: wait, look for QEMU's exit */
			if (!poll_failed++)
				diag(L, "poll: %s", strerror(errno));
			nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
			if (take_signals(L, sfd, &mask, &status))
				break;
			continue;
		}
		poll_failed = 0;
		if ((pf[0].revents || sfd < 0) && take_signals(L, sfd, &mask, &status))
			break;
		turn_serve(L, pf);
	}
	qemu_gone(L, status);
	return status;
}

/**
 * sl_listen_unix() - a listening unix socket, mode 0600 from the start
 * @path: where; a stale socket there is replaced
 *
 * Return: fd or -errno
 */
int sl_listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* 0600 from the start: no window in which others may connect. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		int e = errno;

		umask(old);
		close(fd);
		return -e;
	}
	umask(old);
	return fd;
}

/**
 * sl_vm_write_pid() - record a pid in $SL_RUN_DIR/NAME/FILE
 */
int sl_vm_write_pid(const char *name, const char *file, int v)
{
	char path[4096];
	FILE *f;

	if (sl_run_path(path, sizeof(path), "%s/%s", name, file) < 0)
		return -ENAMETOOLONG;
	f = sl_run_fopen_new(path);
	if (!f)
		return -errno;
	fprintf(f, "%d\n", v);
	return fclose(f) ? -errno : 0;
}

/**
 * sl_vm_remove_files() - remove a VM's socket and pid files
 */
void sl_vm_remove_files(const char *name)
{
	static const char *const files[] = { SL_AGENT_SOCK, SL_QMP_SOCK, SL_SUPERVISOR_PID,
					     SL_QEMU_PID, NULL };
	char path[4096];

	for (const char *const *f = files; *f; f++)
		if (sl_run_path(path, sizeof(path), "%s/%s", name, *f) == 0)
			unlink(path);
}

/* A count from the environment: @def when unset or empty, at least @min. */
static int env_count(const char *name, const char *what, unsigned long long def,
		     unsigned long long min, unsigned long long *v, struct sl_error *err)
{
	const char *e = getenv(name);
	char *end;

	*v = def;
	if (!e || !*e)
		return 0;
	errno = 0;
	*v = strtoull(e, &end, 10);
	if (errno || *end || *e == '-' || *v < min) {
		*v = def;
		return sl_error(err, -EINVAL, "bad %s '%s': %s, %llu or more", name, e, what, min);
	}
	return 0;
}

/**
 * sl_console_max() - the console log's cap: $SL_CONSOLE_MAX bytes
 * @max: the cap; 4 MiB when the variable is unset or empty
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded (not a number, under 64 KiB)
 */
int sl_console_max(unsigned long long *max, struct sl_error *err)
{
	return env_count("SL_CONSOLE_MAX", "a byte count", SL_CONSOLE_MAX_DEFAULT,
			 SL_CONSOLE_MAX_MIN, max, err);
}

/**
 * sl_agent_timeout() - how long a silent guest agent is given: $SL_AGENT_TIMEOUT
 * @ms: the timeout in ms; 30 s when the variable is unset or empty
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded (not a number of seconds >= 1)
 */
int sl_agent_timeout(long long *ms, struct sl_error *err)
{
	unsigned long long s;
	int r = env_count("SL_AGENT_TIMEOUT", "seconds", 30, 1, &s, err);

	*ms = (long long)(s > 86400 ? 86400 : s) * 1000;
	return r;
}

/**
 * sl_supervise() - the supervisor's main: `sl-supervise NAME -- QEMU...`
 * @argc: argc
 * @argv: argv; fds 3 to 6 set up by sl_boot_start()
 *
 * A small static program of its own rather than a fork of sl-boot, so that
 * it carries nothing of sl-boot's libraries and memory, and shows in ps(1)
 * as what it is.
 *
 * Return: exit status
 */
int sl_supervise(int argc, char **argv)
{
	struct sl_supervisor s = { .ready_fd = SL_FD_READY, .guest_fd = SL_FD_GUEST };
	char *sock = me.sock, *log = me.log, *old = me.old, diag[4096];
	int cin[2], cout[2], nul, dash = 0, log_errno;
	unsigned long long log_max = SL_CONSOLE_MAX_DEFAULT;
	/* Before anything is opened here: fd 7 open now is what sl-boot passed. */
	bool has_tap = fcntl(SL_FD_TAP, F_GETFD) >= 0;
	pid_t q, sup;

	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
	/* a spare's NAME is followed by dots: room for the name it may take */
	if (argc < 4 || dash < 2 || dash > 3 || (dash == 3 && strspn(argv[2], ".") != strlen(argv[2])))
		return 2;
	snprintf(me.name, sizeof(me.name), "%s", argv[1]);
	me.arg = argv[1];
	me.arg_end = argv[dash] - 1;
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "SL_RUN_DIR=", 11)) {
			me.env = *e + 11;
			me.env_end = me.env + strlen(me.env);
		}
	s.name = me.name;
	if (sl_run_path(sock, sizeof(me.sock), "%s/%s", s.name, SL_AGENT_SOCK) < 0 ||
	    sl_run_path(log, sizeof(me.log), "%s/%s", s.name, SL_CONSOLE_LOG) < 0 ||
	    sl_run_path(old, sizeof(me.old), "%s/%s", s.name, SL_CONSOLE_LOG_OLD) < 0 ||
	    sl_run_path(diag, sizeof(diag), "%s/%s", s.name, SL_SUPERVISOR_LOG) < 0)
		return 1;
	sl_console_max(&log_max, NULL); /* sl-boot start checked them */
	sl_agent_timeout(&s.agent_timeout_ms, NULL);
	/* Never through a link: a planted one would aim guest bytes at any file.
	 * The last boot's console.log.1 goes. */
	log_errno = -sl_caplog_open(&s.console, log, old, log_max);
	s.diag_fd = open(diag, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(s.diag_fd >= 0 ? s.diag_fd : nul, 2);
	}
	fcntl(SL_FD_READY, F_SETFD, FD_CLOEXEC);
	fcntl(SL_FD_NETNS, F_SETFD, FD_CLOEXEC);
	fcntl(SL_FD_GUEST, F_SETFD, FD_CLOEXEC);
	fcntl(SL_FD_QEMU_AGENT, F_SETFD, FD_CLOEXEC);
	if (has_tap)
		fcntl(SL_FD_TAP, F_SETFD, FD_CLOEXEC);
	if (s.console.fd < 0) {
		dprintf(SL_FD_READY, "fail: %s: %s (not opened through a link)\n", log,
			strerror(log_errno));
		return 1;
	}
	s.listen_fd = sl_listen_unix(sock);
	if (s.listen_fd < 0 || pipe2(cin, O_CLOEXEC) < 0 ||
	    pipe2(cout, O_CLOEXEC) < 0) {
		dprintf(SL_FD_READY, "fail: supervisor set-up: %s\n", strerror(errno));
		return 1;
	}
	sup = getpid();
	q = fork();
	if (q == 0) {
		/* A VM nobody supervises has no console log and no agent: QEMU dies
		 * with its supervisor, also a kill -9 of it (docs/VM.md). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sup)
			_exit(127);
		/* QEMU runs in the VM's namespace, where its TAP is. */
		if (setns(SL_FD_NETNS, CLONE_NEWNET) < 0) {
			dprintf(2, "setns: %s\n", strerror(errno));
			_exit(127);
		}
		dup2(cin[0], 0);
		dup2(cout[1], 1);
		dup2(cout[1], 2);
		fcntl(SL_FD_QEMU_AGENT, F_SETFD, 0);
		if (has_tap)
			fcntl(SL_FD_TAP, F_SETFD, 0);
		sl_child_clean((const int[]){ SL_FD_QEMU_AGENT, SL_FD_TAP }, has_tap ? 2 : 1);
		execvp(argv[dash + 1], argv + dash + 1);
		dprintf(2, "exec %s: %s\n", argv[dash + 1], strerror(errno));
		_exit(127);
	}
	if (q < 0) {
		dprintf(SL_FD_READY, "fail: fork: %s\n", strerror(errno));
		return 1;
	}
	close(SL_FD_QEMU_AGENT);
	close(SL_FD_NETNS);
	if (has_tap)
		close(SL_FD_TAP);
	close(cin[0]);
	close(cout[1]);
	sl_vm_write_pid(s.name, SL_QEMU_PID, q);
	s.con_in = cin[1];
	s.con_out = cout[0];
	s.qemu_pid = q;
	s.sock_path = sock;
	sl_supervisor_run(&s);
	sl_vm_remove_files(s.name);
	return 0;
}

