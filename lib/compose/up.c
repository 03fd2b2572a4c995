/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "bridge.h"
#include "cidr.h"
#include "cmd.h"
#include "cni-run.h"
#include "nameserver.h"
#include "egress.h"
#include "fault.h"
#include "error.h"
#include "hostsd.h"
#include "ipam.h"
#include "kv.h"
#include "log.h"
#include "macvtap.h"
#include "name.h"
#include "netns.h"
#include "shape.h"
#include "snapshot.h"
#include "spare.h"
#include "spawn.h"
#include "state.h"
#include "supervisor.h"
#include "tap.h"
#include "up.h"
#include "util.h"
#include "veth.h"
#include "vm.h"

/*
 * A step is what one tool invocation does. sl-up calls the same library
 * function the tool's main calls (each tool is "parse, call one function,
 * print"), in a child per VM: a process per step costs more than the step
 * on a small host. --print-script prints the tool commands that do the
 * same. sl-boot start alone is run as the tool: it leaves a supervisor
 * behind and takes its inputs the tool's way.
 */
#define MAX_ARGS 2048

/*
 * A tool's command line. A group's userdata is one argument; each entry of
 * allow and drop two. What does not fit sets @full: such a command is
 * never printed or run, since a script missing a --drop would be a weaker
 * policy than the one sl-up applies.
 */
struct cmd {
	char *argv[MAX_ARGS];
	int argc;
	char buf[SL_USERDATA_MAX + 65536];
	size_t used;
	bool full;
};

static char tools[4096];

static void arg(struct cmd *c, const char *s)
{
	size_t n = strlen(s) + 1;

	if (c->argc >= MAX_ARGS - 1 || c->used + n > sizeof(c->buf)) {
		c->full = true;
		return;
	}
	memcpy(c->buf + c->used, s, n);
	c->argv[c->argc++] = c->buf + c->used;
	c->argv[c->argc] = NULL;
	c->used += n;
}

static void args(struct cmd *c, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, c);
	while ((s = va_arg(ap, const char *)))
		arg(c, s);
	va_end(ap);
}


/* "agents-12" is VM 12 of its group. */
static unsigned vm_number(const char *name)
{
	const char *dash = strrchr(name, '-');

	return dash ? (unsigned)strtoul(dash + 1, NULL, 10) : 0;
}


static int print_cmd(FILE *f, const struct cmd *c, struct sl_error *err)
{
	if (c->full)
		return sl_error(err, -E2BIG, "the %s command of %s is too long to print "
					     "(more than %d arguments or %zu bytes)",
				c->argv[0], c->argc > 2 ? c->argv[2] : "a VM", MAX_ARGS,
				sizeof(c->buf));
	for (int i = 0; i < c->argc; i++) {
		_cleanup_free_ char *q = sl_shell_quote(c->argv[i]);

		fprintf(f, "%s%s", i ? " " : "", q ? q : "''");
	}
	fputc('\n', f);
	return 0;
}

/*
 * Run one tool; its stdout goes nowhere (the tools merge their output into
 * the VM's env file themselves), its stderr is kept in @buf for the failure
 * report.
 */
static int run(const struct cmd *c, char *buf, size_t len)
{
	char path[4200];
	/* it dies with the worker, as the worker with sl-up: a kill -9 of sl-up
	 * leaves no boot going on for sl-gc to wait out */
	struct sl_spawn sp = { path, c->argv, false, { SL_SPAWN_NULL, SL_SPAWN_NULL,
						      SL_SPAWN_CAPTURE },
			       .die_with_parent = true };
	/* the whole stream is read, whatever the step says: the last line counts */
	struct sl_spawn_out o = { .max = len - 1, .keep_tail = true };
	int r;

	buf[0] = '\0';
	if (c->full)
		return -E2BIG;
	snprintf(path, sizeof(path), "%s/%s", tools, c->argv[0]);
	r = sl_spawn_run(&sp, &o, -1);
	if (o.buf) {
		memcpy(buf, o.buf, o.len + 1);
		free(o.buf);
	}
	/* Keep the last line: the tools say what is wrong in one. */
	while (o.len && buf[o.len - 1] == '\n')
		buf[--o.len] = '\0';
	return r;
}

static const char *last_line(const char *s)
{
	const char *nl = strrchr(s, '\n');

	return nl ? nl + 1 : s;
}

static void clean_env(void)
{
	/* An exported SL_* from an earlier eval must not steer the steps. */
	static const char *const keep[] = { "SL_RUN_DIR", "SL_GUEST_DIR", "SL_LIBEXEC_DIR",
					    "SL_QEMU", "SL_DEBUG", "SL_CONSOLE_MAX", "SL_AGENT_TIMEOUT",
					    "SL_CNI_CONF_DIR", "SL_CNI_PATH", "SL_CNI_TIMEOUT",
					    "SL_MEM_DIR", "SL_TEMPLATE_DIR",
#ifdef SL_FAULT_INJECTION
					    "SL_FAULT", "SL_MUTANT",
#endif
					    NULL };
	extern char **environ;

again:
	for (char **e = environ; *e; e++) {
		char key[64];
		size_t k = strcspn(*e, "=");
		bool kept = false;

		if (strncmp(*e, "SL_", 3) || k >= sizeof(key))
			continue;
		memcpy(key, *e, k);
		key[k] = '\0';
		for (const char *const *p = keep; *p; p++)
			kept |= !strcmp(*p, key);
		if (!kept) {
			unsetenv(key);
			goto again;
		}
	}
}

/*
 * What the steps after sl-ipam need: the lease, as sl-ipam's call gave it.
 * It goes from the lease step to the VM's worker in memory; the env file
 * is the tools' interface, not sl-up's.
 */
struct lease {
	uint32_t ip, gw;
	unsigned prefix;
};

/* From what sl_ipam_alloc() (or _bridge) put out. */
static int lease_parse(const struct sl_kv *out, const char *name, struct lease *l,
		       struct sl_error *err)
{
	const char *ip = sl_kv_get(out, "SL_IP"), *gw = sl_kv_get(out, "SL_GW");
	const char *pf = sl_kv_get(out, "SL_PREFIX");
	char *end = NULL;
	unsigned long p = pf ? strtoul(pf, &end, 10) : 0;

	if (!ip || !gw || !pf || *end || sl_ip_parse(ip, &l->ip) < 0 ||
	    sl_ip_parse(gw, &l->gw) < 0 || p < 1 || p > 30)
		return sl_error(err, -EIO, "%s: sl-ipam gave no lease", name);
	l->prefix = (unsigned)p;
	return 0;
}

/*
 * A VM launched with its own lists keeps its group's beside them
 * (SL_GROUP_ALLOW, SL_GROUP_DROP), so that sl-egress show tells the
 * override from what it overrode.
 */
static int record_group_lists(const char *name, const struct sl_group *base, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	_cleanup_free_ char *a = sl_entry_list_fmt(&base->allow);
	_cleanup_free_ char *d = sl_entry_list_fmt(&base->drop);
	int r;

	if (!a || !d)
		return -ENOMEM;
	if ((r = sl_kv_set(&kv, "SL_GROUP_ALLOW", a)) < 0 ||
	    (r = sl_kv_set(&kv, "SL_GROUP_DROP", d)) < 0)
		return r;
	return sl_state_update(name, &kv, NULL, err);
}

/*
 * What a VM's steps need, worked out once from its group and its name: the
 * printed commands and the calls read the same values.
 */
struct plan {
	const struct sl_group *g;
	const char *name;
	unsigned k;               /* its number in the group */
	enum sl_net_mode mode;    /* its group's */
	bool subnet;              /* bridge, static macvtap: one address of the gateway's subnet */
	bool lan;                 /* static macvtap: of the LAN's subnet */
	bool dhcp;                /* macvtap without a gateway: no lease, the LAN's DHCP */
	const char *address;      /* subnet: its entry of network.addresses, or NULL */
	char address_s[SL_IP_STRLEN];
	const char *pool;         /* subnet without an address: network.range, or NULL (all) */
	char tap[32];             /* bridge, macvtap: its TAP (macvtap) */
	struct sl_error tap_error; /* bridge, macvtap: why that name cannot be (code 0: it can) */
	const char *dns_upstream; /* names in allow: what the VM's resolver asks */
	const char *boot_dns;     /* else what the guest asks, or NULL */
	const char *tpl;          /* template: true: the group's snapshot, or NULL */
	bool tpl_make;            /* this VM boots cold and makes it; else restored from it */
};

static void plan_make(const struct sl_group *g, const char *name, struct plan *p)
{
	bool names = sl_entry_list_names(&g->allow);
	char tap[16];

	memset(p, 0, sizeof(*p));
	p->g = g;
	p->name = name;
	p->k = vm_number(name);
	p->mode = g->mode;
	p->dhcp = p->mode == SL_NET_MACVTAP && !g->gateway_s[0];
	p->lan = p->mode == SL_NET_MACVTAP && !p->dhcp;
	p->subnet = p->mode == SL_NET_BRIDGE || p->lan;
	if (p->subnet && g->naddr && p->k >= 1 && p->k <= g->naddr)
		p->address = sl_ip_fmt(g->addresses[p->k - 1], p->address_s);
	if (p->subnet && !p->address && g->pool_s[0])
		p->pool = g->pool_s;
	if (sl_mode_on_host(g->mode) && sl_group_tap(g, name, p->k, tap, &p->tap_error) == 0)
		snprintf(p->tap, sizeof(p->tap), "%s", tap);
	else if (sl_mode_on_host(g->mode)) {
		/* printed as is (sl-tap refuses it); the step fails with why */
		snprintf(p->tap, sizeof(p->tap), "%s%u", g->tap_prefix, p->k);
	}
	if (names)
		p->dns_upstream = g->dns[0] ? g->dns : SL_DNS_DEFAULT;
	else if (g->dns[0])
		p->boot_dns = g->dns;
}

/*
 * The steps. Each is one tool's verb: its arguments (@args, after "TOOL
 * VERB"), which --print-script prints and sl-up runs, as one argv, through
 * the tool's @main in process (lib/cmd); @before refuses what the plan
 * knows cannot be, or readies what the step needs; @after takes what the
 * step's result says (the lease); @tolerate is an errno that is no failure
 * of the step (a template another sl-up made meanwhile). A step without
 * @main is its own (@up): sl-boot start, which leaves a supervisor behind,
 * is run as the tool; userdata writes a log. Its undo is @undo, printed as
 * "TOOL UNDO_VERB NAME". @modes are the network modes whose VMs take the
 * step, @down_modes those whose way down runs its undo: an isolated VM's
 * TAP and veth go with its namespace, in one kernel batch, much cheaper
 * than deleting each. A failed VM is undone step by step, every step it
 * took. Up runs the table in order, down and undo backwards. A row with
 * @wanted is taken only by the VMs it says yes to; one without @verb
 * prints its own arguments after TOOL and is named @what in messages.
 */
struct step {
	const char *tool, *verb, *undo_verb, *what;
	unsigned modes, down_modes;
	bool (*wanted)(const struct plan *p);
	void (*args)(const struct plan *p, struct cmd *c);
	sl_main_fn *main;
	int (*before)(const struct plan *p, struct sl_error *err);
	int (*after)(const struct plan *p, const struct sl_kv *out, struct lease *v,
		     struct sl_error *err);
	int tolerate;
	int (*up)(const struct plan *p, struct sl_error *err);
	int (*undo)(const struct plan *p, struct sl_error *err);
};

#define MODE(m) (1u << (m))
#define ISOLATED MODE(SL_NET_ISOLATED)
#define BRIDGE MODE(SL_NET_BRIDGE)
#define MACVTAP MODE(SL_NET_MACVTAP)
#define CNI MODE(SL_NET_CNI)
#define ALL (ISOLATED | BRIDGE | MACVTAP | CNI)

/*
 * A macvtap VM under DHCP has no lease: the LAN's server gives it one; a
 * CNI VM's address is the chain's IPAM's.
 */
static bool has_lease(const struct plan *p)
{
	return !p->dhcp && p->mode != SL_NET_CNI;
}

static void ipam_args(const struct plan *p, struct cmd *c)
{
	if (p->subnet) {
		args(c, "--gateway", p->g->gateway_s, (char *)NULL);
		if (p->address)
			args(c, "--address", p->address, (char *)NULL);
		else if (p->pool)
			args(c, "--pool", p->pool, (char *)NULL);
		if (p->lan)
			args(c, "--lan", (char *)NULL);
	} else {
		args(c, "--range", p->g->range_s, (char *)NULL);
	}
	args(c, "--group", p->g->name, p->name, (char *)NULL);
}

static int ipam_after(const struct plan *p, const struct sl_kv *out, struct lease *v,
		      struct sl_error *err)
{
	return lease_parse(out, p->name, v, err);
}

static int ipam_undo(const struct plan *p, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv out = { 0 };

	return sl_ipam_release(p->name, &out, err);
}

static void name_args(const struct plan *p, struct cmd *c)
{
	args(c, p->name, (char *)NULL);
}

static int netns_undo(const struct plan *p, struct sl_error *err)
{
	return sl_netns_del(p->name, err);
}

static void cni_args(const struct plan *p, struct cmd *c)
{
	args(c, p->name, "--network", p->g->cni_network, (char *)NULL);
}

static int cni_undo(const struct plan *p, struct sl_error *err)
{
	return sl_cni_del(p->name, err);
}

static int veth_undo(const struct plan *p, struct sl_error *err)
{
	return sl_veth_del(p->name, err);
}

static void tap_args(const struct plan *p, struct cmd *c)
{
	args(c, p->name, (char *)NULL);
	if (p->mode == SL_NET_CNI)
		args(c, "--mode", sl_mode_name(p->mode), (char *)NULL);
	if (!sl_mode_on_host(p->mode))
		return;
	if (p->mode == SL_NET_MACVTAP)
		args(c, "--macvtap", p->g->parent, (char *)NULL);
	else
		args(c, "--bridge", p->g->bridge, (char *)NULL);
	if (strcmp(p->tap, p->name))
		args(c, "--tap", p->tap, (char *)NULL);
}

/* A TAP name the config cannot give (network.tap_prefix): said as the config's. */
static int tap_before(const struct plan *p, struct sl_error *err)
{
	if (sl_mode_on_host(p->mode) && p->tap_error.code)
		return sl_error(err, -p->tap_error.code, "%s", p->tap_error.msg);
	return 0;
}

static int tap_undo(const struct plan *p, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	const char *t, *bridge;

	if (!sl_mode_on_host(p->mode))
		return sl_tap_del(p->name, SL_TAP_DEFAULT, err);
	/* the way down may be another sl-up's: what was made is in the env file */
	sl_state_load(p->name, &st, NULL); /* none: what the plan says */
	t = sl_kv_get(&st, "SL_TAP");
	if (!t && p->tap_error.code)
		return 0; /* a name that cannot be was never made */
	if (p->mode == SL_NET_MACVTAP)
		return sl_macvtap_del(p->name, t ? t : p->tap, err);
	bridge = sl_kv_get(&st, "SL_BRIDGE");
	return sl_port_del(p->name, t ? t : p->tap, bridge && *bridge ? bridge : p->g->bridge, err);
}

static void egress_args(const struct plan *p, struct cmd *c)
{
	const struct sl_group *g = p->g;
	char b[SL_ENTRY_STRLEN];

	args(c, p->name, (char *)NULL);
	for (size_t i = 0; i < g->allow.n; i++)
		args(c, "--allow", sl_entry_fmt(&g->allow.v[i], b), (char *)NULL);
	for (size_t i = 0; i < g->drop.n; i++)
		args(c, "--drop", sl_entry_fmt(&g->drop.v[i], b), (char *)NULL);
	/* explicitly none: everything allowed (bridge mode has no lists) */
	if (!g->allow.n && !g->drop.n && p->mode != SL_NET_BRIDGE)
		args(c, "--drop", "", (char *)NULL);
	/* names: the VM's resolver asks dns_servers; the guest asks the
	 * resolver (SL_DNS, which sl-egress records and sl-boot reads) */
	if (p->dns_upstream)
		args(c, "--dns-upstream", p->dns_upstream, (char *)NULL);
	if (g->rate_out[0])
		args(c, "--rate-out", g->rate_out, (char *)NULL);
	if (g->rate_in[0])
		args(c, "--rate-in", g->rate_in, (char *)NULL);
}

/* A launch's own lists: the group's are kept beside them, for the next. */
static int egress_after(const struct plan *p, const struct sl_kv *out, struct lease *v,
			struct sl_error *err)
{
	(void)out;
	(void)v;
	return p->g->base ? record_group_lists(p->name, p->g->base, err) : 0;
}

static int egress_undo(const struct plan *p, struct sl_error *err)
{
	return sl_egress_flush(p->name, err);
}

static void boot_args(const struct plan *p, struct cmd *c)
{
	const struct sl_group *g = p->g;
	char n[32];

	args(c, p->name, (char *)NULL);
	snprintf(n, sizeof(n), "%u", g->vcpu);
	args(c, "--vcpu", n, (char *)NULL);
	snprintf(n, sizeof(n), "%u", g->mem_mb);
	args(c, "--mem", n, (char *)NULL);
	if (g->kernel[0])
		args(c, "--kernel", g->kernel, (char *)NULL);
	if (g->initrd[0])
		args(c, "--initrd", g->initrd, (char *)NULL);
	if (g->disk[0])
		args(c, "--disk", g->disk, (char *)NULL);
	if (p->boot_dns)
		args(c, "--dns", p->boot_dns, (char *)NULL);
	if (p->tpl && !p->tpl_make)
		args(c, "--from", p->tpl, (char *)NULL);
}

/*
 * template: true. The group's first VM, booted cold, is snapshotted once
 * its agent answered (before userdata) into the run dir, keyed by what it
 * was made of; every other VM of the group, and every later launch, is
 * restored from it (lib/vm/snapshot.c).
 */
static bool makes_template(const struct plan *p)
{
	return p->tpl && p->tpl_make;
}

static void template_args(const struct plan *p, struct cmd *c)
{
	args(c, p->name, p->tpl, (char *)NULL);
}

/*
 * Its group's folder of templates; sl-boot snapshot makes the template's
 * own beside it under a temporary name and renames it, so that another
 * sl-up never restores from half of one.
 */
static int template_before(const struct plan *p, struct sl_error *err)
{
	char dir[4200];
	int r;

	snprintf(dir, sizeof(dir), "%s", p->tpl);
	*strrchr(dir, '/') = '\0';
	if ((r = sl_mkdir_p(dir, 0700)) < 0)
		return sl_error(err, r, "%s: %s", dir, strerror(-r));
	return 0;
}

static void step_cmd(const struct plan *p, const struct step *s, struct cmd *c)
{
	memset(c, 0, sizeof(*c));
	args(c, s->tool, s->verb, (char *)NULL); /* no verb: the tool alone */
	s->args(p, c);
}

static void undo_cmd(const struct plan *p, const struct step *s, struct cmd *c)
{
	memset(c, 0, sizeof(*c));
	args(c, s->tool, s->undo_verb, p->name, (char *)NULL);
}

/*
 * sl-boot start alone is run as the tool: it leaves a supervisor behind
 * and takes its inputs the tool's way. It fails with its last line.
 */
static int boot_up(const struct plan *p, struct sl_error *err);

static int boot_undo(const struct plan *p, struct sl_error *err)
{
	return sl_boot_stop(p->name, 20, err);
}

/*
 * The group's userdata, once, when the VM's agent answers: through the
 * agent, as sl-exec runs a command; its output, both streams, into the
 * VM's userdata.log; a status other than 0 fails the VM.
 */
static bool has_userdata(const struct plan *p)
{
	return p->g->userdata != NULL;
}

static void userdata_args(const struct plan *p, struct cmd *c)
{
	args(c, p->name, "--", "sh", "-c", p->g->userdata, (char *)NULL);
}

/* What the guest writes, into a log it cannot grow past its cap (struct sl_agent_reader). */
static void pump(void *log, int fd)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			sl_caplog_write(log, buf, (size_t)n);
	close(fd);
}

static int userdata_up(const struct plan *p, struct sl_error *err)
{
	char *argv[] = { "sh", "-c", p->g->userdata, NULL };
	struct sl_exec_req req = { .argv = argv };
	_cleanup_close_ int sock = -1;
	char path[4096], old[4100];
	unsigned long long max = SL_CONSOLE_MAX_DEFAULT;
	struct sl_caplog log;
	struct sl_agent_reader rd = { pump, &log, true };
	int r;

	if ((r = sl_run_path(path, sizeof(path), "%s/%s", p->name, SL_USERDATA_LOG)) < 0)
		return sl_error(err, r, "%s: userdata log path too long", p->name);
	snprintf(old, sizeof(old), "%s.1", path);
	/* the guest's output lives in /run: capped as its console is */
	sl_console_max(&max, NULL);
	if ((r = sl_caplog_open(&log, path, old, max)) < 0)
		return sl_error(err, r, "%s: %s", path, strerror(-r));
	if ((sock = sl_agent_connect(p->name, err)) < 0) {
		sl_caplog_close(&log);
		return sock;
	}
	r = sl_agent_exec_read(sock, &req, -1, &rd, -1, err);
	sl_caplog_close(&log);
	if (r < 0)
		return sl_error_wrap(err, r, "userdata");
	if (r > 0)
		return sl_error(err, -EIO, "userdata exited with status %d (its output: %s)", r,
				path);
	return 0;
}

static int no_undo(const struct plan *p, struct sl_error *err)
{
	(void)p;
	(void)err;
	return 0;
}

enum {
	ROW_LEASE,
	ROW_NETNS,
	ROW_CNI,
	ROW_VETH,
	ROW_TAP,
	ROW_EGRESS,
	ROW_BOOT,
	ROW_TEMPLATE,
	ROW_USERDATA
};

static const struct step steps[] = {
	[ROW_LEASE] = { "sl-ipam", "alloc", "release", NULL, ALL, ALL, has_lease, ipam_args,
			.main = sl_ipam_main, .after = ipam_after, .undo = ipam_undo },
	[ROW_NETNS] = { "sl-netns", "add", "del", NULL, ISOLATED | CNI, ISOLATED | CNI, NULL,
			name_args, .main = sl_netns_main, .undo = netns_undo },
	[ROW_CNI] = { "sl-cni-run", "add", "del", NULL, CNI, CNI, NULL, cni_args,
		      .main = sl_cni_run_main, .undo = cni_undo },
	[ROW_VETH] = { "sl-veth", "add", "del", NULL, ISOLATED, 0, NULL, name_args,
		       .main = sl_veth_main, .undo = veth_undo },
	[ROW_TAP] = { "sl-tap", "add", "del", NULL, ALL, BRIDGE | MACVTAP, NULL, tap_args,
		      .main = sl_tap_main, .before = tap_before, .undo = tap_undo },
	[ROW_EGRESS] = { "sl-egress", "apply", "flush", NULL, ISOLATED | BRIDGE,
			 ISOLATED | BRIDGE, NULL, egress_args, .main = sl_egress_main,
			 .after = egress_after, .undo = egress_undo },
	[ROW_BOOT] = { "sl-boot", "start", "stop", NULL, ALL, ALL, NULL, boot_args, .up = boot_up,
		       .undo = boot_undo },
	/* another sl-up of this run dir made it meanwhile: theirs is as good */
	[ROW_TEMPLATE] = { "sl-boot", "snapshot", NULL, NULL, ALL, 0, makes_template,
			   template_args, .main = sl_boot_main, .before = template_before,
			   .tolerate = EEXIST, .undo = no_undo },
	[ROW_USERDATA] = { "sl-exec", NULL, NULL, "userdata", ALL, 0, has_userdata,
			   userdata_args, .up = userdata_up, .undo = no_undo },
};
#define STEP_LEASE (&steps[ROW_LEASE])
#define STEP_BOOT (&steps[ROW_BOOT])
#define STEP_LAST (&steps[ARRAY_SIZE(steps) - 1])

static int boot_up(const struct plan *p, struct sl_error *err)
{
	char buf[4096];
	struct cmd c;
	int r;

	step_cmd(p, STEP_BOOT, &c);
	r = run(&c, buf, sizeof(buf));
	if (r < 0)
		return sl_error(err, r, "cannot run %s: %s", c.argv[0], strerror(-r));
	if (r > 0)
		return sl_error(err, -EIO, "%s", buf[0] ? last_line(buf) : "no message");
	return 0;
}

static bool step_used(const struct plan *p, const struct step *s)
{
	return (s->modes & MODE(p->g->mode)) && (!s->wanted || s->wanted(p));
}

/* The last step a VM takes: sl-up --no-boot stops before the boot. */
static const struct step *last_step(const struct sl_up_opts *o)
{
	return o->no_boot ? STEP_BOOT - 1 : STEP_LAST;
}

/*
 * A tool's step: the argv --print-script prints, through the tool's main in
 * this process. Its result is what the tool would print.
 */
static int tool_main(const struct plan *p, const struct step *s, struct lease *v,
		     struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv out = { 0 };
	struct cmd c;
	int r;

	if (s->before && (r = s->before(p, err)) < 0)
		return r;
	step_cmd(p, s, &c);
	if (c.full)
		return sl_error(err, -E2BIG, "the %s command is too long", s->tool);
	r = s->main(c.argc, c.argv, &out, err);
	if (s->tolerate && r == -s->tolerate) {
		sl_error_clear(err);
		r = 0;
	}
	if (r > 0) /* an exit status without a failure said: a check's (never add's) */
		return sl_error(err, -EIO, "%s %s exited with status %d", s->tool, s->verb, r);
	if (r < 0 || !s->after)
		return r;
	return s->after(p, &out, v, err);
}

/*
 * Step @s of the VM in this process; the lease step fills @v, the others
 * read it. Return 0 or -errno with @err set.
 */
static int step_do(const struct plan *p, const struct step *s, struct lease *v,
		   struct sl_error *err)
{
	int r;

	/* The lease is all or nothing (one locked write): it fails before. The
	 * others may half-make: they fail after their work, for the undo. */
	if (s == STEP_LEASE && sl_fault(s->tool, p->name))
		return sl_error(err, -EIO, "fault injected (SL_FAULT)");
	r = s->main ? tool_main(p, s, v, err) : s->up(p, err);
	if (r == 0 && s != STEP_LEASE && sl_fault(s->tool, p->name))
		return sl_error(err, -EIO, "fault injected after the step (SL_FAULT)");
	return r;
}

/* The undo of step @s, in this process; also the way down. */
static int step_undo(const struct plan *p, const struct step *s, struct sl_error *err)
{
	return s->undo(p, err);
}

/*
 * @pid owns the VM (sl_owner_mark()): sl-up from before the first step,
 * then the worker that takes the steps, which is killed with sl-up but may
 * finish its system call first; until it is gone, sl-gc leaves the VM be.
 */
static int own(const char *name, int pid, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	int r = sl_owner_mark(&kv, pid);

	return r < 0 ? r : sl_state_update(name, &kv, NULL, err);
}

/* Nobody owns the VM: complete and left to itself, or undone. */
static void disown(const char *name)
{
	sl_state_update(name, NULL, sl_owner_keys, NULL);
}

/* The undo of the lease, or of record_group() for a VM that has none. */
static void lease_undo(const struct plan *p)
{
	static const char *const keys[] = { "SL_GROUP", NULL };

	if (step_used(p, STEP_LEASE))
		step_undo(p, STEP_LEASE, NULL);
	else
		sl_state_update(p->name, NULL, keys, NULL);
}

/* A group's template (template: true): where it is kept, whether it is there. */
struct tmpl {
	char dir[4096];
	bool ready;
};

struct job {
	const struct sl_group *g;
	char name[96];
	struct lease lease; /* taken before the workers start */
	bool skip;          /* failed already (its lease) */
	struct tmpl *tpl;   /* its group's template, or NULL */
	bool tpl_make;      /* it makes it */
	unsigned num;       /* its number in the config's order, from 1 */
};

/* The plan of a job's VM: plan_make() and its template. */
static void plan_job(const struct job *j, struct plan *p)
{
	plan_make(j->g, j->name, p);
	if (j->tpl) {
		p->tpl = j->tpl->dir;
		p->tpl_make = j->tpl_make;
	}
}

/*
 * What of a group's guest network its template holds (sl_snapshot_key()):
 * whether a DHCP client runs in it. The rest is the same in every mode:
 * QEMU's NIC is a tap netdev in each (a TAP opened by name, a macvtap's
 * inherited fd), and the identity sets name, MAC, address and resolvers.
 */
static const char *template_net(const struct sl_group *g)
{
	return g->mode == SL_NET_MACVTAP && !g->gateway_s[0] ? "dhcp" : "static";
}

/* Whether the template in @dir is whole: sl-boot snapshot renames it into place. */
static bool template_ready(const char *dir)
{
	char probe[4300];

	return snprintf(probe, sizeof(probe), "%s/%s", dir, SL_SNAP_MANIFEST) < (int)sizeof(probe) &&
	       access(probe, F_OK) == 0;
}

/*
 * Where group @g's template is kept: $SL_TEMPLATE_DIR/KEY when that is set
 * (shared by every group and run dir that names it: the key says all that
 * shapes the guest), else .templates/GROUP/KEY in the run dir, KEY from
 * its kernel, initrd, QEMU, vCPUs, memory and DHCP or not. One kept in the
 * group's folder under another key means one of them changed: said, and
 * made anew.
 */
static int template_find(const struct sl_group *g, struct tmpl *t, struct sl_error *err)
{
	char guest[4096] = "", kernel[4200], initrd[4200], key[17], group[4096];
	const char *qemu, *store = getenv("SL_TEMPLATE_DIR");
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int r;

	if (store && *store && *store != '/') /* empty: as if unset */
		return sl_error(err, -EINVAL, "SL_TEMPLATE_DIR '%s': not an absolute path", store);
	if (!g->kernel[0] || !g->initrd[0]) {
		if ((r = sl_guest_dir(guest, sizeof(guest), err)) < 0)
			return r;
	}
	snprintf(kernel, sizeof(kernel), "%s", g->kernel[0] ? g->kernel : "");
	snprintf(initrd, sizeof(initrd), "%s", g->initrd[0] ? g->initrd : "");
	if (!kernel[0])
		snprintf(kernel, sizeof(kernel), "%s/vmlinuz", guest);
	if (!initrd[0])
		snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.gz", guest);
	/* the QEMU sl-boot will run (SL_QEMU is passed on to it) */
	qemu = getenv("SL_QEMU");
	if ((r = sl_snapshot_key(kernel, initrd, qemu && *qemu ? qemu : "qemu-system-x86_64",
				 g->vcpu, g->mem_mb, template_net(g), key, err)) < 0)
		return sl_error_wrap(err, r, "group %s: template", g->name);
	if (store && *store) {
		/* refused as a run dir is: others could plant a template or a link */
		if (access(store, F_OK) == 0 &&
		    (r = sl_dir_check(store, "SL_TEMPLATE_DIR", err)) < 0)
			return r;
		if (snprintf(t->dir, sizeof(t->dir), "%s/%s", store, key) >= (int)sizeof(t->dir))
			return sl_error(err, -ENAMETOOLONG, "SL_TEMPLATE_DIR: path too long");
	} else if (sl_run_path(group, sizeof(group), "%s/%s", SL_TEMPLATES, g->name) < 0 ||
		   sl_run_path(t->dir, sizeof(t->dir), "%s/%s/%s", SL_TEMPLATES, g->name, key) < 0) {
		return sl_error(err, -ENAMETOOLONG, "group %s: template path too long", g->name);
	}
	t->ready = template_ready(t->dir);
	if (t->ready || (store && *store))
		return 0;
	d = opendir(group);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && !strchr(e->d_name, '.')) {
			sl_info("group %s: its template is made anew: its kernel, initrd, QEMU, "
				"vCPUs, memory or DHCP changed",
				g->name);
			break;
		}
	return 0;
}

/*
 * Templates of the jobs' groups; the first VM of a group whose template is
 * not there makes it, and goes first (partition: makers at the front).
 * Return how many makers, or -errno.
 */
static int templates_plan(struct job *v, size_t n, struct tmpl **out, struct sl_error *err)
{
	struct tmpl *t = calloc(n ? n : 1, sizeof(*t));
	size_t makers = 0;
	int r;

	*out = t;
	if (!t)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++) {
		if (!v[j].g->template)
			continue;
		/* one record per group: the first job of it owns it */
		for (size_t i = 0; i < j && !v[j].tpl; i++)
			if (v[i].g == v[j].g || (v[i].g->name[0] && !strcmp(v[i].g->name, v[j].g->name)))
				v[j].tpl = v[i].tpl;
		if (v[j].tpl)
			continue;
		v[j].tpl = &t[j];
		if ((r = template_find(v[j].g, v[j].tpl, err)) < 0)
			return r;
		if (!v[j].tpl->ready) {
			struct job mk = v[j];

			mk.tpl_make = true;
			memmove(&v[makers + 1], &v[makers], (j - makers) * sizeof(*v));
			v[makers++] = mk;
		}
	}
	return (int)makers;
}

/* After the makers: a template that is still not there is not waited for. */
static void templates_check(struct job *v, size_t from, size_t n)
{
	for (size_t j = from; j < n; j++) {
		struct tmpl *t = v[j].tpl;

		if (!t || t->ready)
			continue;
		t->ready = template_ready(t->dir);
		if (!t->ready) {
			sl_warn("group %s: no template (the VM that was to make it failed): "
				"%s boots cold",
				v[j].g->name, v[j].name);
			v[j].tpl = NULL;
		}
	}
}

/* Bring one VM up; on failure undo its earlier steps. Return 0 or 1. */
static int vm_up(struct job *j, const struct sl_up_opts *o, unsigned idx, unsigned total)
{
	const char *name = j->name;
	struct lease *lease = &j->lease;
	struct sl_error err = { 0 };
	struct plan p;
	int r;

	sl_quiet = true; /* the tools' warnings: sl-up gave its own at start */
	plan_job(j, &p);
	if ((r = own(name, getpid(), &err)) < 0) {
		sl_err("[%u/%u] %s failed: cannot record its owner: %s", idx, total, name,
		       sl_error_msg(&err, r));
		lease_undo(&p); /* nothing else was made yet */
		disown(name);
		return 1;
	}
	/* the lease was taken before the workers started (leases_in_order) */
	for (const struct step *s = STEP_LEASE + 1; s <= last_step(o); s++) {
		if (!step_used(&p, s) || (r = step_do(&p, s, lease, &err)) == 0)
			continue;
		sl_err("[%u/%u] %s failed at %s%s%s: %s", idx, total, name,
		       s->verb ? s->tool : s->what, s->verb ? " " : "", s->verb ? s->verb : "",
		       sl_error_msg(&err, r));
		/* Undo this VM's steps, the failed one included (it may have half-made). */
		for (size_t u = (size_t)(s - steps) + 1; u-- > ROW_LEASE + 1;)
			if (step_used(&p, &steps[u]))
				step_undo(&p, &steps[u], NULL);
		lease_undo(&p);
		disown(name);
		return 1;
	}
	{
		_cleanup_kv_ struct sl_kv st = { 0 };

		/* Complete: nobody owns it now, unless sl-up stays to take it down. */
		if (!o->foreground)
			disown(name);
		else
			own(name, getppid(), NULL);
		sl_state_load(name, &st, NULL);
		fprintf(stderr, "[%u/%u] %s up %s\n", idx, total, name,
			sl_kv_get(&st, "SL_IP")	 ? sl_kv_get(&st, "SL_IP")
			: p.dhcp ? "(its address by DHCP from the LAN)"
				 : "");
	}
	return 0;
}

/* A fixed argv (no command's: no buffer of its own) as one line of the script. */
static int print_argv(FILE *f, char *const *argv, int argc, struct sl_error *err)
{
	static struct cmd c;

	c.argc = argc;
	c.full = false;
	memcpy(c.argv, argv, (size_t)argc * sizeof(*argv));
	return print_cmd(f, &c, err);
}

/* In a printed script: a folder sl-up makes (sl_mkdir_p(dir, 0700)). */
static int print_mkdir(FILE *f, const char *dir, struct sl_error *err)
{
	char *const mk[] = { "mkdir", "-p", "-m", "700", (char *)dir };

	return print_argv(f, mk, 5, err);
}

/* In a printed script: what template_before() does, the folder made. */
static int print_template_before(FILE *f, const struct plan *p, struct sl_error *err)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s", p->tpl);
	*strrchr(dir, '/') = '\0';
	return print_mkdir(f, dir, err);
}

/* Where sl-up fork puts VM @name's snapshot: .forks/NAME in the run dir. */
static int fork_dir(char *buf, size_t len, const char *name)
{
	return sl_run_path(buf, len, "%s/%s", SL_FORKS, name);
}

/* A fork's snapshot, once the fork is down. */
static void fork_snapshot_remove(const char *name)
{
	char p[4096];

	if (fork_dir(p, sizeof(p), name) == 0)
		sl_snapshot_remove(p);
}

/*
 * In a printed down: what vm_down() removes after the steps, the VM's state
 * directory (its logs) and a fork's snapshot, as rm -rf.
 */
static int print_purge(FILE *f, const char *name, struct sl_error *err)
{
	char state[4096], fork[4096];
	char *const rm[] = { "rm", "-rf", state, fork };
	bool has_fork;

	if (sl_run_path(state, sizeof(state), "%s", name) < 0 ||
	    fork_dir(fork, sizeof(fork), name) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: run dir path too long", name);
	has_fork = access(fork, F_OK) == 0;
	return print_argv(f, rm, has_fork ? 4 : 3, err);
}

/* The way down: the undo of each step the VM's mode runs on the way down. */
static bool down_used(const struct plan *p, const struct step *s)
{
	return (s->down_modes & MODE(p->g->mode)) && (!s->wanted || s->wanted(p));
}

static int vm_down(const struct sl_group *g, const char *name)
{
	struct plan p;
	int bad = 0;

	sl_quiet = true;
	plan_make(g, name, &p);
	for (size_t i = ARRAY_SIZE(steps); i-- > 0;) {
		const struct step *s = &steps[i];
		struct sl_error err = { 0 };
		int r;

		if (down_used(&p, s) && (r = step_undo(&p, s, &err)) < 0) {
			sl_err("%s: %s %s: %s", name, s->tool, s->undo_verb, sl_error_msg(&err, r));
			bad = 1;
		}
	}
	disown(name);
	if (!bad) {
		sl_state_purge(name, NULL); /* the console and supervisor logs */
		fork_snapshot_remove(name);
	}
	return bad;
}

/*
 * Bringing a VM up is CPU work (2 cores here: 4 at once is the sweet
 * spot); taking one down mostly sleeps in the kernel's RCU grace period
 * per deleted link, so more at once pays (bench/up.sh, docs/PERFORMANCE.md).
 */
#define SL_UP_JOBS 4
#define SL_DOWN_JOBS 16


/*
 * VMs whose worker could not be started (fork failed): on the way up their
 * lease and owner record are undone, on the way down they stay as they are;
 * each is reported.
 */
static void not_started(struct job *v, size_t from, size_t to, size_t n, bool up, const char *why)
{
	for (size_t j = from; j < to; j++) {
		if (v[j].skip)
			continue;
		sl_err("[%u/%zu] %s: not %s: cannot start its worker: %s", v[j].num, n, v[j].name,
		       up ? "brought up" : "taken down", why);
		if (up) {
			struct plan p;

			plan_make(v[j].g, v[j].name, &p);
			lease_undo(&p);
			disown(v[j].name);
		}
	}
}

/*
 * Bring up (or down) VMs @from to @to of the @n in @v, @jobs at a time,
 * each said as its number in the config of @n (the makers of templates go
 * first, the rest after). Return how many failed.
 */
static int parallel(struct job *v, size_t n, size_t from, size_t to, unsigned jobs,
		    const struct sl_up_opts *o, bool up)
{
	size_t next = from, running = 0;
	int failed = 0, st;
	pid_t self = getpid();

	fflush(NULL);
	while (next < to || running) {
		while (next < to && running < (jobs ? jobs : 1)) {
			pid_t pid;

			if (v[next].skip) {
				next++;
				failed++;
				continue;
			}
			pid = sl_fault("fork", v[next].name) ? (errno = EAGAIN, -1) : fork();
			if (pid == 0) {
				/* A kill -9 of sl-up ends its VMs' workers too: what they
				 * leave is recorded as owned by a dead sl-up, for sl-gc. */
				if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != self)
					_exit(1);
				_exit(up ? vm_up(&v[next], o, v[next].num, (unsigned)n)
					 : vm_down(v[next].g, v[next].name));
			}
			if (pid < 0) {
				/* Start no more; the running ones are waited for below. */
				not_started(v, next, to, n, up, strerror(errno));
				failed += (int)(to - next);
				next = to;
				break;
			}
			next++;
			running++;
		}
		if (wait(&st) > 0) {
			running--;
			failed += !WIFEXITED(st) || WEXITSTATUS(st);
		}
	}
	return failed;
}

static int jobs_for(const struct sl_group *g, const char *name, struct job **v, size_t *n)
{
	struct job *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	nv[*n].g = g;
	snprintf(nv[*n].name, sizeof(nv[*n].name), "%s", name);
	(*n)++;
	nv[*n - 1].num = (unsigned)*n;
	return 0;
}

static int print_up(const struct sl_up_opts *o, const struct job *j, struct sl_error *err)
{
	struct plan p;
	struct cmd c;
	int r;

	plan_job(j, &p);
	if (j->g->range_auto)
		fprintf(o->script, "# %s (network.range %s, derived from the group's name)\n",
			j->name, j->g->range_s);
	else
		fprintf(o->script, "# %s\n", j->name);
	for (const struct step *s = steps; s <= last_step(o); s++) {
		if (!step_used(&p, s))
			continue;
		if (s == &steps[ROW_TEMPLATE] && (r = print_template_before(o->script, &p, err)) < 0)
			return r;
		step_cmd(&p, s, &c);
		if ((r = print_cmd(o->script, &c, err)) < 0)
			return r;
	}
	return 0;
}

/* The commands of vm_down(). */
static int print_down(const struct sl_up_opts *o, const struct job *j, struct sl_error *err)
{
	struct plan p;
	struct cmd c;
	int r;

	plan_make(j->g, j->name, &p);
	for (size_t i = ARRAY_SIZE(steps); i-- > 0;) {
		if (!down_used(&p, &steps[i]))
			continue;
		undo_cmd(&p, &steps[i], &c);
		if ((r = print_cmd(o->script, &c, err)) < 0)
			return r;
	}
	return print_purge(o->script, j->name, err);
}

static void script_header(FILE *f)
{
	_cleanup_free_ char *q = sl_shell_quote(tools);

	fprintf(f, "#!/bin/sh\n# generated by sl-up: the same commands sl-up runs\nset -e\n"
		   "export PATH=%s:\"$PATH\"\n", q ? q : tools);
	if (getenv("SL_RUN_DIR")) {
		_cleanup_free_ char *r = sl_shell_quote(getenv("SL_RUN_DIR"));

		fprintf(f, "export SL_RUN_DIR=%s\n", r ? r : "");
	}
}

/*
 * A VM without a lease (DHCP) still says its group, which the lease says
 * for the others: sl-up down and reap find a config's VMs by it.
 */
static int record_group(const struct plan *p, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	int r = sl_kv_set(&kv, "SL_GROUP", p->g->name);

	return r < 0 ? r : sl_state_update(p->name, &kv, NULL, err);
}

/*
 * Leases first, one VM after the other in config order, so that on a fresh
 * range <group>-n gets block n-1 whatever order the parallel steps finish
 * in (docs/DESIGN.md §5).
 */
static void leases_in_order(struct job *v, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		struct sl_error err = { 0 };
		struct plan p;
		int r;

		plan_make(v[j].g, v[j].name, &p);
		if ((r = own(v[j].name, getpid(), &err)) == 0 &&
		    (r = step_used(&p, STEP_LEASE) ? step_do(&p, STEP_LEASE, &v[j].lease, &err)
						   : record_group(&p, &err)) == 0)
			continue;
		disown(v[j].name);
		sl_err("[%zu/%zu] %s failed at sl-ipam alloc: %s", j + 1, n, v[j].name,
		       sl_error_msg(&err, r));
		v[j].skip = true;
	}
}

/**
 * sl_up_ranges() - what the config leaves to the host: a range for each
 * isolated group that names none, a parent for each macvtap group
 * @cfg: a loaded config; the groups' ranges and parents are filled in
 * @err: why, when it fails
 *
 * In config order, each range clear of the config's other ranges and of
 * what the host uses (sl_ipam_derive_range()); the parent is the interface
 * of the default route. Said on stderr, so that the admin can write it
 * down.
 *
 * Return: 0, or -EADDRINUSE / -ENXIO / -errno with the error recorded
 */
int sl_up_ranges(struct sl_config *cfg, struct sl_error *err)
{
	_cleanup_free_ struct sl_cidr *taken = calloc(cfg->n ? cfg->n : 1, sizeof(*taken));
	size_t n = 0;

	if (!taken)
		return sl_error(err, -ENOMEM, "no memory");
	for (size_t i = 0; i < cfg->n; i++)
		if (!cfg->g[i].range_auto)
			taken[n++] = cfg->g[i].range;
	for (size_t i = 0; i < cfg->n; i++) {
		struct sl_group *g = &cfg->g[i];
		int r;

		if (g->mode == SL_NET_MACVTAP && !g->parent[0]) {
			if ((r = sl_default_parent(g->parent, err)) < 0)
				return sl_error_wrap(err, r, "%s: group %s", cfg->path, g->name);
			sl_info("group %s: network.parent %s, the interface of the default route",
				g->name, g->parent);
		}
		if (!g->range_auto)
			continue;
		if ((r = sl_ipam_derive_range(g->name, taken, n, &g->range, err)) < 0)
			return sl_error_wrap(err, r, "%s", cfg->path);
		sl_cidr_fmt(&g->range, g->range_s);
		taken[n++] = g->range;
		sl_info("group %s: network.range %s, derived from its name", g->name, g->range_s);
	}
	return 0;
}

/**
 * sl_up_check_host() - the checks before anything is created
 * @cfg: a loaded config
 * @err: why, when it fails
 *
 * Each range (bridge subnet) must not overlap ranges in use by other
 * groups or the host's routes (its own earlier leases are fine: a re-run);
 * a bridge that exists must be ours and hold the group's gateway.
 *
 * Return: 0 or -EADDRINUSE with the error recorded
 */
int sl_up_check_host(const struct sl_config *cfg, struct sl_error *err)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const struct sl_group *g = &cfg->g[i];
		bool bridge = g->mode == SL_NET_BRIDGE;
		const char *key = bridge ? "network.gateway" : "network.range";
		int r;

		/* CNI: the network's conflist and plugins must be there */
		if (g->mode == SL_NET_CNI) {
			if ((r = sl_cni_network_ok(g->cni_network, err)) < 0)
				return sl_error_wrap(err, r, "%s: group %s: network_name", cfg->path,
						     g->name);
			continue;
		}
		/* A LAN's subnet is the host's own; the parent must be there. */
		if (g->mode == SL_NET_MACVTAP) {
			if ((r = sl_macvtap_parent_ok(g->parent, err)) < 0)
				return sl_error_wrap(err, r, "%s: group %s", cfg->path, g->name);
			continue;
		}
		r = sl_ipam_check_range(&g->range, bridge ? g->gw : 0, true, err);

		if (r >= 0 && bridge) {
			r = sl_bridge_usable(g->bridge, g->gw, g->range.prefix, err);
			if (r == -EEXIST)
				key = "network.bridge";
		}
		if (r < 0)
			return sl_error_wrap(err, r, "%s: group %s: %s", cfg->path, g->name, key);
	}
	return 0;
}

/* Every verb runs the tools next to sl-up, with a clean SL_* environment. */
static int prepare(struct sl_error *err)
{
	int r = sl_self_dir(tools, sizeof(tools));

	if (r < 0)
		return sl_error(err, r, "cannot find the tools beside sl-up: %s", strerror(-r));
	clean_env();
	return 0;
}

/*
 * spares: N: the spares of each such group's template in this run dir
 * topped up to N (@group: that group's only), one sl-boot spare at a time
 * (each a restore and its warm-up, ~1 s under TCG here), or printed. A
 * group whose template is not there yet is said and left.
 *
 * Return: how many spares failed (each said), or -errno
 */
static int spares_top_up(const struct sl_config *cfg, const char *group,
			 const struct sl_up_opts *o, bool quiet, struct sl_error *err)
{
	static struct cmd c; /* too big for the stack */
	char why[4096];
	int r, failed = 0;

	for (size_t i = 0; i < cfg->n; i++) {
		const struct sl_group *g = &cfg->g[i];
		_cleanup_kv_ struct sl_kv have = { 0 };
		struct tmpl t;
		unsigned n = 0;

		if (!g->spares || (group && strcmp(group, g->name)))
			continue;
		if ((r = template_find(g, &t, err)) < 0)
			return r;
		if (!o->print_only && !t.ready) {
			if (!quiet)
				sl_warn("group %s: no template yet, so no spares", g->name);
			continue;
		}
		if (!o->print_only && sl_spare_list(t.dir, &have) == 0)
			n = (unsigned)atoi(sl_kv_get(&have, "SL_SPARES") ?: "0");
		for (; n < g->spares; n++) {
			c.argc = 0;
			c.used = 0;
			args(&c, "sl-boot", "spare", t.dir, (char *)NULL);
			if (o->print_only) {
				if ((r = print_cmd(o->script, &c, err)) < 0)
					return r;
			} else if (run(&c, why, sizeof(why)) != 0) {
				if (!quiet)
					sl_warn("group %s: a spare failed: %s", g->name,
						last_line(why));
				failed++;
				break;
			}
		}
	}
	return failed;
}

/**
 * sl_up_spares() - top up the spares of the config's groups
 * @cfg: the config
 * @group: one group's only, or NULL
 * @o: options (print_only)
 * @err: why, when it fails
 *
 * sl-up and sl-up spares: each group with spares: N gets N spares of its
 * template in this run dir (sl-boot spare), for sl-up launch to take.
 *
 * Return: 0, the number of spares that failed, or -errno
 */
int sl_up_spares(const struct sl_config *cfg, const char *group, const struct sl_up_opts *o,
		 struct sl_error *err)
{
	int r;

	if (group && !sl_config_group(cfg, group))
		return sl_error(err, -EINVAL, "no group %s in %s", group, cfg->path);
	if ((r = prepare(err)) < 0)
		return r;
	if (o->print_only)
		script_header(o->script);
	return spares_top_up(cfg, group, o, false, err);
}

/**
 * sl_up_spares_refill() - what the foreground sl-up does once a second
 * @cfg: the config it brought up
 * @o: options
 *
 * The spares launches took are made again, one group's at a time, without
 * a word; after a spare failed, not again for a minute (each try is a
 * restore: a host that cannot make one would spend its CPU on it).
 */
void sl_up_spares_refill(const struct sl_config *cfg, const struct sl_up_opts *o)
{
	static long long pause_until;
	long long now = sl_now_ms();

	if (now < pause_until || prepare(NULL) < 0)
		return;
	if (spares_top_up(cfg, NULL, o, true, NULL) != 0)
		pause_until = now + 60000;
}

/* The spares of the config's groups' templates in this run dir, ended. */
static void spares_end(const struct sl_config *cfg, const struct sl_up_opts *o)
{
	for (size_t i = 0; i < cfg->n; i++) {
		struct tmpl t;
		char *argv[] = { "sl-boot", "spare", t.dir, "--stop" };

		if (!cfg->g[i].spares || template_find(&cfg->g[i], &t, NULL) < 0)
			continue;
		if (o->print_only)
			print_argv(o->script, argv, 4, NULL);
		else
			sl_spare_stop(t.dir);
	}
}

/**
 * sl_up_config() - bring every VM of every group up
 * @err: why, when it fails
 *
 * Return: 0, or the number of VMs that failed (each reported), or -errno
 */
int sl_up_config(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err)
{
	_cleanup_free_ struct job *v = NULL;
	_cleanup_free_ struct tmpl *t = NULL;
	size_t n = 0;
	int r, makers, failed;

	if ((r = prepare(err)) < 0)
		return r;
	for (size_t i = 0; i < cfg->n; i++)
		for (unsigned k = 1; k <= cfg->g[i].count; k++) {
			char name[96];

			snprintf(name, sizeof(name), "%s-%u", cfg->g[i].name, k);
			if ((r = jobs_for(&cfg->g[i], name, &v, &n)) < 0)
				return r;
		}
	for (size_t j = 0; !o->print_only && !o->no_boot && j < n; j++)
		if ((r = sl_vm_sockets_fit(v[j].name, err)) < 0)
			return r; /* before anything is made */
	if ((makers = templates_plan(v, n, &t, err)) < 0)
		return makers;
	if (o->print_only) {
		script_header(o->script);
		for (size_t j = 0; j < n; j++)
			if ((r = print_up(o, &v[j], err)) < 0)
				return r;
		return o->no_boot ? 0 : spares_top_up(cfg, NULL, o, false, err);
	}
	leases_in_order(v, n);
	if (!makers || o->no_boot)
		failed = parallel(v, n, 0, n, o->jobs ? o->jobs : SL_UP_JOBS, o, true);
	else {
		/* the VMs that make templates first, the rest restored from them */
		failed = parallel(v, n, 0, (size_t)makers, o->jobs ? o->jobs : SL_UP_JOBS, o, true);
		templates_check(v, (size_t)makers, n);
		failed += parallel(v, n, (size_t)makers, n, o->jobs ? o->jobs : SL_UP_JOBS, o, true);
	}
	if (failed < 0 || o->no_boot)
		return failed;
	/* then the spares: the VMs asked for come first */
	return (r = spares_top_up(cfg, NULL, o, false, err)) < 0 ? r : failed;
}

/* The VMs of a group that exist: its state dirs, launched ones included. */
static int group_vms(const struct sl_group *g, struct job **v, size_t *n, struct sl_error *err)
{
	char **names;
	size_t cnt;
	int r = sl_state_list(&names, &cnt, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < cnt && r == 0; i++) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		const char *grp;

		if (sl_state_load(names[i], &st, NULL) < 0) /* gone meanwhile */
			continue;
		grp = sl_kv_get(&st, "SL_GROUP");
		if (grp && !strcmp(grp, g->name))
			r = jobs_for(g, names[i], v, n);
	}
	sl_strv_free(names, cnt);
	/* And the configured names, in case only kernel objects are left. */
	for (unsigned k = 1; k <= g->count && r == 0; k++) {
		char name[96];
		bool dup = false;

		snprintf(name, sizeof(name), "%s-%u", g->name, k);
		for (size_t j = 0; j < *n; j++)
			dup |= !strcmp((*v)[j].name, name);
		if (!dup && sl_netns_exists(name) > 0)
			r = jobs_for(g, name, v, n);
	}
	return r;
}

/**
 * sl_up_down() - take every VM of the config's groups down; idempotent
 * @err: why, when it fails
 */
int sl_up_down(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err)
{
	_cleanup_free_ struct job *v = NULL;
	size_t n = 0;
	int r;

	if ((r = prepare(err)) < 0)
		return r;
	for (size_t i = 0; i < cfg->n; i++)
		if ((r = group_vms(&cfg->g[i], &v, &n, err)) < 0)
			return r;
	if (o->print_only) {
		script_header(o->script);
		spares_end(cfg, o);
		for (size_t j = 0; j < n; j++)
			if ((r = print_down(o, &v[j], err)) < 0)
				return r;
		return 0;
	}
	spares_end(cfg, o);
	r = parallel(v, n, 0, n, o->jobs ? o->jobs : SL_DOWN_JOBS, o, false);
	if (n)
		fprintf(stderr, "sl-up: %zu VMs down\n", n);
	return r;
}

/**
 * sl_up_reap() - take down the config's VMs whose QEMU or supervisor died
 * @cfg: the config sl-up brought up
 * @o: options (jobs)
 * @err: why, when it fails
 *
 * What the foreground sl-up does while it supervises: a VM that stopped
 * (powered off, crashed, killed) is said on stderr and its network, rules,
 * lease and state go, as sl-gc would do later. VMs never booted
 * (--no-boot) are left alone.
 *
 * Return: how many VMs were found stopped, or -errno
 */
int sl_up_reap(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err)
{
	_cleanup_free_ struct job *v = NULL;
	size_t n = 0, k = 0;
	int r;

	for (size_t i = 0; i < cfg->n; i++)
		if ((r = group_vms(&cfg->g[i], &v, &n, err)) < 0)
			return r;
	for (size_t j = 0; j < n; j++) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		int sup, qemu;

		if (sl_state_load(v[j].name, &st, NULL) < 0 || !sl_kv_get(&st, "SL_PID"))
			continue;
		sl_vm_pids(v[j].name, &sup, &qemu);
		if (sup && qemu)
			continue;
		sl_warn("%s stopped (supervisor %s, QEMU %s): taking it down", v[j].name,
			sup ? "running" : "gone", qemu ? "running" : "gone");
		v[k++] = v[j];
	}
	if (k)
		parallel(v, k, 0, k, o->jobs ? o->jobs : SL_DOWN_JOBS, o, false);
	return (int)k;
}

/*
 * The lowest free name of the group, taken (its owner recorded) under one
 * lock, so that two launches at once pick two names.
 */
static int launch_name(const struct sl_group *g, struct job *one, bool print_only,
		       struct sl_error *err)
{
	_cleanup_close_ int lock = print_only ? -1 : sl_lock("launch", err);

	if (!print_only && lock < 0)
		return lock;
	for (unsigned k = 1;; k++) {
		char path[4096];

		snprintf(one->name, sizeof(one->name), "%s-%u", g->name, k);
		if (sl_name_check(one->name, err) < 0)
			return sl_error(err, -EINVAL, "group %s: no free VM name fits 63 bytes",
					g->name);
		if (sl_run_path(path, sizeof(path), "%s/vm.env", one->name) == 0 &&
		    access(path, F_OK) < 0 && sl_netns_exists(one->name) == 0)
			break;
	}
	if (!print_only && sl_vm_sockets_fit(one->name, err) < 0)
		return -ENAMETOOLONG; /* it could not boot: said before anything is made */
	if (g->naddr && !g->pool_s[0] && vm_number(one->name) > g->naddr)
		return sl_error(
		    err, -ENOSPC,
		    "group %s: no address left for %s in network.addresses (%zu listed)", g->name,
		    one->name, g->naddr);
	return print_only ? 0 : own(one->name, getpid(), err);
}

/**
 * sl_up_launch() - add one VM to a running group: the lowest free index
 * @err: why, when it fails
 */
int sl_up_launch(const struct sl_config *cfg, const char *group, const struct sl_up_opts *o,
		 struct sl_error *err)
{
	const struct sl_group *g = sl_config_group(cfg, group);
	_cleanup_free_ struct tmpl *t = NULL;
	struct sl_group over;
	struct job one = { .g = g, .num = 1 };
	int r;

	if (!g)
		return sl_error(err, -EINVAL, "%s: no group %s", cfg->path, group);
	if (o->allow || o->drop) {
		/* Slicer's per-VM override: this VM's lists, the group's otherwise */
		if (g->mode != SL_NET_ISOLATED)
			return sl_error(err, -EINVAL,
					"group %s: bridge mode has no egress lists to override",
					g->name);
		over = *g;
		over.base = g;
		if (o->allow)
			over.allow = *o->allow;
		if (o->drop)
			over.drop = *o->drop;
		one.g = &over;
	}
	if ((r = prepare(err)) < 0)
		return r;
	r = launch_name(g, &one, o->print_only, err);
	if (r < 0)
		return r;
	if ((r = templates_plan(&one, 1, &t, err)) < 0)
		return r;
	if (o->print_only) {
		script_header(o->script);
		return print_up(o, &one, err);
	}
	leases_in_order(&one, 1);
	return parallel(&one, 1, 0, 1, 1, o, true);
}

/*
 * The files of a fork's snapshot that go once the fork is restored (read
 * once): its state and the pages its source wrote (a restored VM's fork);
 * its manifest and memory (a cold VM's fork's) stay while the fork runs:
 * its RAM maps that memory privately. sl-up down and sl-gc remove them.
 */
static const char *const fork_read_once[] = { SL_SNAP_STATE, SL_SNAP_WRITTEN,
					      SL_SNAP_WRITTEN_MAP };

static int fork_state(char *buf, size_t len, const char *snap, size_t i)
{
	return snprintf(buf, len, "%s/%s", snap, fork_read_once[i]) < (int)len ? 0 : -ENAMETOOLONG;
}

/*
 * The commands of a fork, as sl_up_fork() runs them: its snapshot's
 * directory made, the snapshot, the new VM's steps, the snapshot's state
 * removed (fork_state()).
 */
static int print_fork(const struct sl_up_opts *o, const char *vm, const char *forks,
		      const char *snap, const struct job *one, struct sl_error *err)
{
	char *const sn[] = { "sl-boot", "snapshot", (char *)vm, (char *)snap, "--quick" };
	char once[3][4200];
	char *const rm[] = { "rm", "-f", once[0], once[1], once[2] };
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(fork_read_once); i++)
		if (fork_state(once[i], sizeof(once[i]), snap, i) < 0)
			return sl_error(err, -ENAMETOOLONG, "run dir path too long");
	script_header(o->script);
	if ((r = print_mkdir(o->script, forks, err)) < 0 ||
	    (r = print_argv(o->script, sn, 5, err)) < 0 || (r = print_up(o, one, err)) < 0)
		return r;
	return print_argv(o->script, rm, ARRAY_SIZE(rm), err);
}

/**
 * sl_up_fork() - a new VM of @vm's group whose memory is @vm's at this instant
 * @cfg: the config that holds @vm's group
 * @vm: a running VM; it is paused for the snapshot and runs on
 * @err: why, when it fails
 *
 * The fork is a VM of its own (lease, namespace, rules, logs, agent),
 * named as a launch names one, restored from a snapshot of @vm taken into
 * $SL_RUN_DIR/.forks/NAME, whose state goes once the fork runs (its memory
 * stays: the fork's RAM maps it). userdata is not run again: the memory has it.
 *
 * Return: 0, 1 when the fork failed (reported), or -errno
 */
int sl_up_fork(const struct sl_config *cfg, const char *vm, const struct sl_up_opts *o,
	       struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 }, said = { 0 };
	struct sl_group g;
	const struct sl_group *of;
	struct tmpl t = { .ready = true };
	struct job one = { .num = 1 };
	struct sl_up_opts fo = *o;
	const char *grp;
	char dir[4096], state[4200];
	int r, sup, qemu;

	if ((r = sl_name_check(vm, err)) < 0)
		return r;
	if (sl_state_load(vm, &st, NULL) < 0 || !(grp = sl_kv_get(&st, "SL_GROUP")))
		return sl_error(err, -ENXIO, "%s: no such VM (no state with a group)", vm);
	if (!(of = sl_config_group(cfg, grp)))
		return sl_error(err, -EINVAL, "%s is of group %s, which %s does not hold", vm, grp,
				cfg->path);
	if (of->disk[0])
		return sl_error(err, -EINVAL, "fork of %s: it has a disk (%s), which a fork "
					      "would share: not supported", vm, of->disk);
	sl_vm_pids(vm, &sup, &qemu);
	if (!o->print_only && (!sup || !qemu))
		return sl_error(err, -ENXIO, "fork of %s: it is not running", vm);
	g = *of;
	g.userdata = NULL; /* it ran in the memory the fork starts from */
	one.g = &g;
	one.tpl = &t;
	if ((r = prepare(err)) < 0 || (r = launch_name(&g, &one, o->print_only, err)) < 0)
		return r;
	if (fork_dir(dir, sizeof(dir), one.name) < 0 || fork_dir(t.dir, sizeof(t.dir), one.name) < 0)
		return sl_error(err, -ENAMETOOLONG, "run dir path too long");
	*strrchr(dir, '/') = '\0';
	if (o->print_only)
		return print_fork(o, vm, dir, t.dir, &one, err);
	if ((r = sl_mkdir_p(dir, 0700)) < 0 ||
	    (r = sl_snapshot_make(vm, t.dir, SL_SNAP_QUICK, &said, err)) < 0) {
		struct plan p;

		plan_make(&g, one.name, &p);
		lease_undo(&p);
		disown(one.name);
		return r;
	}
	fo.no_boot = false;
	leases_in_order(&one, 1);
	r = parallel(&one, 1, 0, 1, 1, &fo, true);
	if (r)
		sl_snapshot_remove(t.dir);
	for (size_t i = 0; !r && i < ARRAY_SIZE(fork_read_once); i++)
		if (fork_state(state, sizeof(state), t.dir, i) == 0)
			unlink(state);
	return r;
}

/**
 * sl_up_host_warnings() - things on this host that break isolated VMs
 *
 * Warnings with the fix, not errors: the admin may know better.
 */
void sl_up_host_warnings(void)
{
	char v[16];
	FILE *p;

	if (sl_sysctl_read("net/ipv4/ip_forward", v, sizeof(v)) == 0 && strcmp(v, "1"))
		sl_warn("IPv4 forwarding is off on this host: VMs reach nothing "
			"(fix: sysctl -w net.ipv4.ip_forward=1)");
	sl_hostsd_warnings();
	/* Legacy and nft hooks both run: an nft FORWARD policy of DROP (Docker) wins. */
	p = popen("iptables-nft -S FORWARD 2>/dev/null", "r");
	if (p) {
		char line[256];

		while (fgets(line, sizeof(line), p))
			if (!strncmp(line, "-P FORWARD DROP", 15))
				sl_warn("the nft FORWARD chain drops by default (Docker?): VM traffic "
					"is dropped whatever sltools allows (fix: iptables-nft -I "
					"FORWARD -s RANGE -j ACCEPT and -d RANGE -j ACCEPT)");
		pclose(p);
	}
}
