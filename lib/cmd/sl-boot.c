/* SPDX-License-Identifier: MIT */
/* sl-boot: start, stop and inspect a VM's QEMU and its supervisor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "nameserver.h"
#include "snapshot.h"
#include "spare.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "tap.h"
#include "util.h"
#include "vm.h"

enum {
	OPT_KERNEL = OPT_TOOL,
	OPT_INITRD,
	OPT_DISK,
	OPT_VCPU,
	OPT_MEM,
	OPT_ACCEL,
	OPT_TIMEOUT,
	OPT_DNS,
	OPT_MODE,
	OPT_FROM,
	OPT_STOP,
	OPT_QUICK,
	OPT_LIST,
};

static const char usage[] =
    "Usage: sl-boot [OPTION]... start NAME [--kernel F] [--initrd F] [--disk F]\n"
    "                          [--vcpu N] [--mem MB] [--accel kvm|tcg|auto] [--from DIR]\n"
    "       sl-boot [OPTION]... stop NAME\n"
    "       sl-boot [OPTION]... status NAME\n"
    "       sl-boot [OPTION]... snapshot NAME DIR [--stop] [--quick]\n"
    "       sl-boot [OPTION]... pause|resume NAME\n"
    "       sl-boot [OPTION]... spare DIR [--stop | --list]\n"
    "Boot VM NAME with QEMU's microvm machine on its TAP, inside its namespace\n"
    "(bridge mode: in this one), and leave a supervisor that serves its agent\n"
    "and keeps its console log.\n\n"
    "      --kernel F    kernel (or SL_KERNEL; default: the project's)\n"
    "      --initrd F    initramfs (or SL_INITRD; default: the project's)\n"
    "      --disk F      ext4 image as the root disk, virtio-blk (or SL_DISK)\n"
    "      --vcpu N      vCPUs (or SL_VCPU; default 1)\n"
    "      --mem MB      memory (or SL_MEM; default 256)\n"
    "      --accel A     kvm, tcg or auto (default: KVM where it can run the kernel)\n"
    "      --dns A,B     name servers for the guest (or SL_DNS; default 8.8.8.8,1.1.1.1;\n"
    "                    127.0.0.1 or none: no resolver)\n"
    "      --mode MODE   isolated (default), bridge, macvtap or cni (or SL_MODE;\n"
    "                    macvtap without SL_IP: the guest asks the LAN's DHCP server)\n"
    "      --from DIR    restore the VM from a snapshot instead of booting it: its\n"
    "                    kernel, initrd, vCPUs and memory are the snapshot's\n"
    "      --stop        snapshot: stop the VM after, instead of letting it run on\n"
    "      --quick       snapshot: no SHA-256 of its files, only their identity, for a\n"
    "                    snapshot restored at once (a fork's): a copy of it is refused\n"
    "      --stop        spare: stop DIR's spares\n"
    "      --list        spare: count DIR's spares\n"
    "      --timeout S   how long start waits for the agent, stop for power-off\n"
    "                    (default 120 and 20)\n" SL_COMMON_HELP
    "\nstart prints SL_PID SL_QEMU_PID SL_AGENT SL_CONSOLE SL_ACCEL (and SL_SNAPSHOT);\n"
    "status prints SL_STATE SL_PID SL_QEMU_PID SL_PSS_KB; snapshot prints SL_SNAPSHOT\n"
    "SL_PAUSED_MS SL_STATE_BYTES; spare prints SL_SPARE SL_PID SL_QEMU_PID (--list:\n"
    "SL_SPARES SL_SPARE_NAMES; --stop: SL_STOPPED). A spare is a VM restored from\n"
    "snapshot DIR ahead of time (isolated mode); start --from DIR takes one if\n"
    "there is one (SL_SPARE says which). Exit status: 0 ok (status: running), 1 failure\n"
    "(status: not running; a snapshot's file missing or altered), 2 bad input\n"
    "(missing kernel, running already, unknown VM, a snapshot of another kernel,\n"
    "initrd, vCPU count or memory size).\n";

static unsigned num(const char *key, const char *v, unsigned dflt, int *bad, struct sl_error *err)
{
	char *end;
	unsigned long n;

	if (!v)
		return dflt;
	n = strtoul(v, &end, 10);
	if (*end || end == v || n > 1048576) {
		sl_error(err, -EINVAL, "bad %s '%s': want a number", key, v);
		*bad = 1;
	}
	return (unsigned)n;
}

/* What the command line said, and the start it makes. */
struct boot_args {
	struct sl_cli cli;
	struct sl_boot_cfg c;
	const char *verb, *dir; /* dir: snapshot's */
	bool stop_after, quick, list;
	char guest[4096], kernel[4200], initrd[4200], dns[256];
};

static const struct option opts[] = {
	SL_COMMON_OPTIONS,
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "vcpu", required_argument, NULL, OPT_VCPU },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "stop", no_argument, NULL, OPT_STOP },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "list", no_argument, NULL, OPT_LIST },
	{ 0 },
};

/* --from, --stop and --quick: start's snapshot, snapshot's stop after and hashes. */
static int take_own(void *ctx, int opt)
{
	struct boot_args *a = ctx;

	if (opt == OPT_FROM)
		a->c.from = optarg;
	a->stop_after |= opt == OPT_STOP;
	a->quick |= opt == OPT_QUICK;
	a->list |= opt == OPT_LIST;
	return SL_CLI_GO_ON;
}

static int parse_args(struct boot_args *a, int argc, char **argv)
{
	static const char *const verbs[] = { "start", "stop",	"status", "snapshot",
					     "pause", "resume", "spare", NULL };
	static const struct sl_cli_flag flags[] = {
		{ OPT_KERNEL, 0, "SL_KERNEL", NULL },	{ OPT_INITRD, 0, "SL_INITRD", NULL },
		{ OPT_DISK, 0, "SL_DISK", NULL },	{ OPT_VCPU, 0, "SL_VCPU", NULL },
		{ OPT_MEM, 0, "SL_MEM", NULL },		{ OPT_ACCEL, 0, "SL_ACCEL", NULL },
		{ OPT_TIMEOUT, 0, "SL_TIMEOUT", NULL }, { OPT_DNS, 0, "SL_DNS", NULL },
		{ OPT_MODE, 0, "SL_MODE", NULL },	{ 0 },
	};
	int r = sl_cli_options(&a->cli, argc, argv, ":hV", opts, flags, take_own, a);

	if (r != SL_CLI_GO_ON)
		return r;
	/* snapshot's second operand */
	if (optind < argc && !strcmp(argv[optind], "snapshot")) {
		if (argc - optind != 3)
			return sl_cli_usage(&a->cli, "snapshot takes NAME and DIR");
		a->dir = argv[--argc];
	}
	/* spare's operand is a snapshot, no VM */
	if (optind < argc && !strcmp(argv[optind], "spare")) {
		if (argc - optind != 2)
			return sl_cli_usage(&a->cli, "spare takes DIR");
		a->dir = argv[--argc];
	}
	r = sl_cli_verb(&a->cli, argc, argv, verbs, (const char *const[]){ "spare", NULL },
			&a->verb, &a->c.name);
	if (r != SL_CLI_GO_ON)
		return r;
	return SL_CLI_GO_ON;
}

/* Every verb but start. */
static int other_verbs(struct boot_args *a, struct sl_kv *out, struct sl_error *err)
{
	const char *name = a->c.name;
	unsigned timeout;
	int r, bad = 0;

	if (!strcmp(a->verb, "snapshot")) {
		r = sl_snapshot_make(name, a->dir,
				     (a->stop_after ? SL_SNAP_STOP : 0) | (a->quick ? SL_SNAP_QUICK : 0),
				     out, err);
		return r < 0 ? r : sl_cli_print(&a->cli, out);
	}
	if (!strcmp(a->verb, "pause") || !strcmp(a->verb, "resume")) {
		r = sl_vm_pause(name, !strcmp(a->verb, "pause"), err);
		return r < 0 ? r : 0;
	}
	if (!strcmp(a->verb, "status")) {
		r = sl_boot_status(name, out, err);
		if (r < 0)
			return r;
		sl_cli_print(&a->cli, out);
		return r;
	}
	/* stop */
	timeout = num("--timeout", sl_cli_get(&a->cli, "SL_TIMEOUT"), 20, &bad, err);
	if (bad)
		return -EINVAL;
	r = sl_boot_stop(name, timeout, err);
	return r < 0 ? r : 0;
}

/* start's kernel, initrd, disk, accelerator, mode, resolver and QEMU, from the inputs. */
static int start_files(struct boot_args *a, bool *dhcp, struct sl_error *err)
{
	struct sl_boot_cfg *c = &a->c;
	int r;

	c->kernel = sl_cli_get(&a->cli, "SL_KERNEL");
	c->initrd = sl_cli_get(&a->cli, "SL_INITRD");
	/* a restore takes them from its snapshot unless given */
	if (!c->from && (!c->kernel || !c->initrd)) {
		if (sl_guest_dir(a->guest, sizeof(a->guest), err) < 0)
			return -EINVAL;
		snprintf(a->kernel, sizeof(a->kernel), "%s/vmlinuz", a->guest);
		snprintf(a->initrd, sizeof(a->initrd), "%s/initramfs.cpio.gz", a->guest);
		c->kernel = c->kernel ? c->kernel : a->kernel;
		c->initrd = c->initrd ? c->initrd : a->initrd;
	}
	c->disk = sl_cli_get(&a->cli, "SL_DISK");
	c->accel = sl_cli_input(&a->cli, "SL_ACCEL", "auto");
	if ((r = sl_cli_mode(&a->cli, &c->mode, err)) < 0)
		return r;
	/* macvtap mode without an address: DHCP from the LAN, name servers too */
	*dhcp = c->mode == SL_NET_MACVTAP && !sl_cli_get(&a->cli, "SL_IP");
	if ((r = sl_dns_servers(sl_cli_get(&a->cli, "SL_DNS"), "--dns", a->dns, sizeof(a->dns), err)) < 0)
		return r;
	c->dns = *dhcp && !sl_cli_get(&a->cli, "SL_DNS") ? NULL : a->dns;
	c->tap = sl_cli_input(&a->cli, "SL_TAP", sl_mode_on_host(c->mode) ? c->name : SL_TAP_DEFAULT);
	c->cni_ifname = sl_cli_input(&a->cli, "SL_CNI_IFNAME", "eth0");
	c->qemu = sl_cli_input(&a->cli, "SL_QEMU", "qemu-system-x86_64");
	return SL_CLI_GO_ON;
}

/* start's sizes, timeout and address, then the start. */
static int start(struct boot_args *a, struct sl_kv *out, struct sl_error *err)
{
	struct sl_boot_cfg *c = &a->c;
	bool dhcp = false;
	int r, bad = 0;

	if ((r = start_files(a, &dhcp, err)) != SL_CLI_GO_ON)
		return r;
	c->vcpu = num("--vcpu", sl_cli_get(&a->cli, "SL_VCPU"), c->from ? 0 : 1, &bad, err);
	c->mem_mb = num("--mem", sl_cli_get(&a->cli, "SL_MEM"), c->from ? 0 : 256, &bad, err);
	c->timeout_s = num("--timeout", sl_cli_get(&a->cli, "SL_TIMEOUT"), 120, &bad, err);
	if (bad)
		return -EINVAL;
	if (c->spare)
		return (r = sl_spare_add(c, out, err)) < 0 ? r : sl_cli_print(&a->cli, out);
	if (!dhcp &&
	    ((r = sl_cli_ip(&a->cli, "SL_IP", &c->ip, err)) < 0 ||
	     (r = sl_cli_ip(&a->cli, "SL_GW", &c->gw, err)) < 0 || (r = sl_cli_prefix(&a->cli, &c->prefix, err)) < 0))
		return r;
	r = sl_boot_start(c, out, err);
	if (r < 0)
		return r;
	return sl_cli_print(&a->cli, out);
}

/* spare DIR: one more spare of snapshot DIR, or --stop or --list them. */
static int spare(struct boot_args *a, struct sl_kv *out, struct sl_error *err)
{
	const char *dir = a->dir;
	int r;

	if (a->c.from || a->quick || (a->stop_after && a->list))
		return sl_cli_usage(&a->cli, "spare takes DIR and --stop or --list");
	if (a->stop_after)
		r = sl_kv_setf(out, "SL_STOPPED", "%u", sl_spare_stop(dir));
	else if (a->list)
		r = sl_spare_list(dir, out);
	else {
		a->c.from = dir;
		a->c.name = "spare";
		a->c.spare = true;
		return start(a, out, err);
	}
	return r < 0 ? r : sl_cli_print(&a->cli, out);
}

static void boot_args_free(struct boot_args **a)
{
	if (*a)
		sl_cli_end(&(*a)->cli);
	free(*a);
}

/**
 * sl_boot_main() - sl-boot's command line, in process (sl_main_fn)
 */
int sl_boot_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv out = { 0 };
	__attribute__((cleanup(boot_args_free))) struct boot_args *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return sl_error(err, -ENOMEM, "%s", strerror(ENOMEM));
	sl_cli_begin(&a->cli, usage, argv, res, err);
	if ((r = parse_args(a, argc, argv)) != SL_CLI_GO_ON)
		return r;
	if (a->verb && !strcmp(a->verb, "spare"))
		return spare(a, &out, err);
	if (!a->verb || !a->c.name) /* set whenever the words went on */
		return -EINVAL;
	if ((a->c.from && strcmp(a->verb, "start")) || a->list ||
	    ((a->stop_after || a->quick) && strcmp(a->verb, "snapshot")))
		return sl_cli_usage(&a->cli, "%s is for %s only",
				    a->c.from ? "--from" : a->list ? "--list" : a->stop_after ? "--stop" : "--quick",
				    a->c.from ? "start" : a->list ? "spare" : "snapshot");
	if (strcmp(a->verb, "start"))
		return other_verbs(a, &out, err);
	return start(a, &out, err);
}
