/* SPDX-License-Identifier: MIT */
/* sl-up: from a Slicer YAML file to microVMs, and back. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "cfg.h"
#include "cli.h"
#include "egress.h"
#include "error.h"
#include "input.h"
#include "ipam.h"
#include "log.h"
#include "state.h"
#include "name.h"
#include "up.h"

enum {
	OPT_DETACH = OPT_TOOL,
	OPT_NO_BOOT,
	OPT_PRINT,
	OPT_JOBS,
	OPT_NET,
	OPT_ALLOW,
	OPT_DROP,
	OPT_COUNT,
	OPT_RANGE,
	OPT_NO_ALLOW,
	OPT_NO_DROP,
};

static const char usage[] =
    "Usage: sl-up [OPTION]... CONFIG            bring every group up, supervise\n"
    "       sl-up [OPTION]... down CONFIG       take every VM of the groups down\n"
    "       sl-up [OPTION]... launch CONFIG GROUP [--allow E]... [--drop E]...\n"
    "                      [--no-allow] [--no-drop]   add one VM to a group, its\n"
    "                      lists replaced (--no-allow, --no-drop: emptied)\n"
    "       sl-up [OPTION]... fork CONFIG VM  add one VM to VM's group whose memory\n"
    "                      is VM's at this instant (VM runs on)\n"
    "       sl-up [OPTION]... spares CONFIG [GROUP]  top up the spares of the groups\n"
    "                      with spares: N (sl-boot spare), for launch to take\n"
    "       sl-up new NAME [--net isolated|bridge] [--allow CIDR]... [--drop CIDR]...\n"
    "                      [--count N] [--range CIDR]   print a config\n"
    "Bring up microVMs from a Slicer config: per VM sl-ipam, sl-netns, sl-veth,\n"
    "sl-tap, sl-egress, sl-boot (bridge mode: sl-ipam, sl-tap, sl-egress, sl-boot).\n\n"
    "  -d, --detach        return once all are up (default: stay, and take them\n"
    "                      down on Ctrl-C or SIGTERM)\n"
    "      --no-boot       networks only, no VMs\n"
    "      --print-script  print the commands instead of running them\n"
    "  -j, --jobs N        VMs brought up or down at once (default 4 up, 16\n"
    "                      down: taking links down mostly waits on the kernel)\n" SL_COMMON_HELP
    "\nExit status: 0 ok, 1 some VM failed (the others stay up), 2 bad config.\n";

static void print_entries(const char *key, const struct sl_entry_list *l)
{
	char rs[SL_ENTRY_STRLEN];

	if (!l->n)
		return;
	printf("      %s: [", key);
	for (size_t i = 0; i < l->n; i++)
		printf("%s\"%s\"", i ? ", " : "", sl_entry_fmt(&l->v[i], rs));
	printf("]\n");
}

/* Bridge mode: Slicer's 192.168.137.0/24, or the next free /24 above it. */
static int new_bridge(const char *name, unsigned count, const char *range, struct sl_error *err)
{
	char rs[SL_CIDR_STRLEN], gw[SL_IP_STRLEN];
	struct sl_cidr r;
	bool found = false;

	if (range) {
		if (sl_cidr_parse(range, &r) < 0 || r.prefix < 8 || r.prefix > 30)
			return sl_error(err, -EINVAL,
					"bad --range '%s': a subnet a.b.c.d/p, /8 to /30", range);
		found = true;
	}
	for (uint32_t a = 0xc0a88900u; a <= 0xc0a8fe00u && !found; a += 0x100) {
		r = (struct sl_cidr){ a, 24 };
		found = sl_ipam_check_range(&r, a + 1, false, NULL) == 0;
	}
	if (!found)
		return sl_error(err, -EADDRINUSE,
				"no free /24 left in 192.168.137.0-192.168.254.255: give --range");
	if (count > (1u << (32 - r.prefix)) - 3)
		return sl_error(err, -EINVAL, "--count %u: subnet %s holds %u", count,
				sl_cidr_fmt(&r, rs), (1u << (32 - r.prefix)) - 3);
	printf("config:\n  host_groups:\n  - name: %s\n    count: %u\n    vcpu: 1\n"
	       "    ram_mb: 256\n    network:\n      bridge: \"%s\"\n      gateway: \"%s/%u\"\n",
	       name, count, SL_BRIDGE_DEFAULT, sl_ip_fmt(r.addr + 1, gw), r.prefix);
	return 0;
}

/* Isolated mode: the next free /22 from 169.254.100.0, as a second daemon would take. */
static int free_range(struct sl_cidr *r, struct sl_error *err)
{
	for (uint32_t a = 0xa9fe6400u; a <= 0xa9fefc00u; a += 0x400) {
		*r = (struct sl_cidr){ a, 22 };
		if (sl_ipam_check_range(r, 0, false, NULL) == 0)
			return 0;
	}
	return sl_error(err, -EADDRINUSE,
			"no free /22 left in 169.254.100.0-169.254.255.255: give --range");
}

static int new_config(const char *name, const char *net, struct sl_entry_list *allow,
		      struct sl_entry_list *drop, unsigned count, const char *range,
		      struct sl_error *err)
{
	char probe[96], rs[SL_CIDR_STRLEN];
	struct sl_cidr r;

	if (strcmp(net, "isolated") && strcmp(net, "bridge"))
		return sl_error(err, -EINVAL, "--net %s: isolated or bridge", net);
	snprintf(probe, sizeof(probe), "%s-%u", name, count ? count : 1);
	if (sl_name_check(probe, err) < 0)
		return -EINVAL;
	if (!strcmp(net, "bridge")) {
		if (allow->n || drop->n)
			return sl_error(
			    err, -EINVAL,
			    "--allow and --drop need --net isolated: bridge mode has no "
			    "egress rules");
		return new_bridge(name, count, range, err);
	}
	if (range && sl_range_parse(range, &r, err) < 0)
		return -EINVAL;
	if (!range && free_range(&r, err) < 0)
		return -EADDRINUSE;
	if (count > sl_range_blocks(&r))
		return sl_error(err, -EINVAL, "--count %u: range %s holds %u", count,
				sl_cidr_fmt(&r, rs), sl_range_blocks(&r));
	printf("config:\n  host_groups:\n  - name: %s\n    count: %u\n    vcpu: 1\n"
	       "    ram_mb: 256\n    network:\n      mode: \"isolated\"\n      range: \"%s\"\n",
	       name, count, sl_cidr_fmt(&r, rs));
	print_entries("allow", allow);
	print_entries("drop", drop);
	return 0;
}

/* What the command line said. */
struct up_args {
	struct sl_cli cli;
	struct sl_up_opts o;
	struct sl_entry_list allow, drop;
	const char *net, *range, *verb, *config, *arg; /* arg: launch's GROUP, fork's VM, spares' GROUP */
	bool detach, flag_allow, flag_drop, no_allow, no_drop;
	struct sl_error *err; /* for the options' errors */
	unsigned long count;
};

static const struct option opts[] = {
	SL_COMMON_OPTIONS,
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "no-boot", no_argument, NULL, OPT_NO_BOOT },
	{ "print-script", no_argument, NULL, OPT_PRINT },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "net", required_argument, NULL, OPT_NET },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "drop", required_argument, NULL, OPT_DROP },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "no-allow", no_argument, NULL, OPT_NO_ALLOW },
	{ "no-drop", no_argument, NULL, OPT_NO_DROP },
	{ 0 },
};

/* One option; SL_CLI_GO_ON, or the exit status of a bad one. */
static int take_opt(void *ctx, int opt)
{
	struct up_args *a = ctx;
	struct sl_error *err = a->err;
	char *end;

	if ((opt == 'j' || opt == OPT_JOBS) &&
	    (!(a->o.jobs = (unsigned)strtoul(optarg, &end, 10)) || *end || a->o.jobs > 64))
		return sl_cli_usage(&a->cli, "bad --jobs '%s'", optarg);
	if (opt == OPT_COUNT && ((a->count = strtoul(optarg, &end, 10)) > 65536 || *end))
		return sl_cli_usage(&a->cli, "bad --count '%s'", optarg);
	if (opt == OPT_ALLOW && sl_entry_list_add(&a->allow, optarg, "--allow", err) < 0)
		return -EINVAL;
	if (opt == OPT_DROP && sl_entry_list_add(&a->drop, optarg, "--drop", err) < 0)
		return -EINVAL;
	a->detach |= opt == 'd' || opt == OPT_DETACH;
	a->o.no_boot |= opt == OPT_NO_BOOT;
	a->o.print_only |= opt == OPT_PRINT;
	a->flag_allow |= opt == OPT_ALLOW;
	a->flag_drop |= opt == OPT_DROP;
	a->no_allow |= opt == OPT_NO_ALLOW;
	a->no_drop |= opt == OPT_NO_DROP;
	if (opt == OPT_NET)
		a->net = optarg;
	if (opt == OPT_RANGE)
		a->range = optarg;
	return SL_CLI_GO_ON;
}

static int parse_opts(struct up_args *a, int argc, char **argv, struct sl_error *err)
{
	int r;

	a->err = err;
	if ((r = sl_cli_options(&a->cli, argc, argv, ":hVdj:", opts, NULL, take_opt, a)) !=
	    SL_CLI_GO_ON)
		return r;
	if (optind >= argc)
		return sl_cli_usage(&a->cli, "missing CONFIG");
	return SL_CLI_GO_ON;
}

/* The verb (up when the first word is the CONFIG), its words, and the lists' flags. */
static int parse_words(struct up_args *a, int argc, char **argv)
{
	const char *v = argv[optind];
	bool allow = a->flag_allow && a->no_allow;
	int want;

	if ((a->flag_allow && a->no_allow) || (a->flag_drop && a->no_drop))
		return sl_cli_usage(&a->cli, "--%s and --no-%s together", allow ? "allow" : "drop",
				    allow ? "allow" : "drop");
	if ((a->no_allow || a->no_drop) && strcmp(v, "launch"))
		return sl_cli_usage(&a->cli, "--no-allow and --no-drop go with launch");
	if ((a->flag_allow || a->flag_drop) && strcmp(v, "launch"))
		return sl_cli_usage(&a->cli, "--allow and --drop go with new or launch");
	/* launch: a list given (or emptied) replaces the group's for that VM */
	a->o.allow = a->flag_allow || a->no_allow ? &a->allow : NULL;
	a->o.drop = a->flag_drop || a->no_drop ? &a->drop : NULL;
	a->verb = "up";
	if (!strcmp(v, "spares")) {
		a->verb = v;
		if (argc - optind < 2 || argc - optind > 3)
			return sl_cli_usage(&a->cli, "spares takes CONFIG [GROUP]");
		optind++;
	} else if (!strcmp(v, "down") || !strcmp(v, "launch") || !strcmp(v, "fork")) {
		a->verb = v;
		want = !strcmp(v, "down") ? 2 : 3;
		if (argc - optind != want)
			return sl_cli_usage(&a->cli, "%s takes CONFIG%s", v,
					    want == 2		 ? ""
					    : !strcmp(v, "fork") ? " VM"
								 : " GROUP");
		optind++;
	} else if (argc - optind != 1) {
		return sl_cli_usage(&a->cli, "too many arguments");
	}
	a->config = argv[optind];
	a->arg = optind + 1 < argc ? argv[optind + 1] : NULL;
	return SL_CLI_GO_ON;
}

/*
 * Up in the foreground: SIGINT, SIGTERM and SIGHUP blocked before bring-up
 * (a Ctrl-C then still tears down), a VM that stops taken down, the spares
 * launches took made again, every VM taken down at the signal.
 */
static int foreground(struct sl_config *cfg, struct sl_up_opts *o, struct sl_error *err)
{
	const struct timespec tick = { 1, 0 };
	sigset_t set;
	int r, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	o->foreground = true;
	r = sl_up_config(cfg, o, err);
	if (r >= 0) {
		sl_info("%s: up%s; Ctrl-C or SIGTERM takes every VM down", cfg->path,
			r ? " (with failures)" : "");
		/* Supervising: a VM that stops is taken down, once a second. */
		while ((sig = sigtimedwait(&set, NULL, &tick)) < 0) {
			sl_up_reap(cfg, o, NULL); /* each VM is said on stderr */
			sl_up_spares_refill(cfg, o); /* what launches took */
		}
		sl_info("signal %d: taking the VMs down", sig);
	}
	sl_up_down(cfg, o, NULL); /* r's error, if any, is the one to print */
	return r < 0 ? r : 0;
}

/* A library call's result as what main returns: 1 when some VM failed. */
static int status_of(int r)
{
	return r < 0 ? r : r ? 1 : 0;
}

/* Every verb but new, on the loaded config. */
static int run(struct up_args *a, struct sl_config *cfg, struct sl_error *err)
{
	int r;

	if ((r = sl_config_load(a->config, cfg, err)) < 0 ||
	    (!a->o.print_only && (r = sl_run_dir_ready(err)) < 0))
		return r;
	if (!strcmp(a->verb, "down"))
		return status_of(sl_up_down(cfg, &a->o, err));
	if (!strcmp(a->verb, "spares")) /* of templates: no network is made */
		return status_of(sl_up_spares(cfg, a->arg, &a->o, err));
	if ((r = sl_up_ranges(cfg, err)) < 0 ||
	    (!a->o.print_only && (r = sl_up_check_host(cfg, err)) < 0))
		return r;
	if (!a->o.print_only)
		sl_up_host_warnings();
	if (!strcmp(a->verb, "launch"))
		return status_of(sl_up_launch(cfg, a->arg, &a->o, err));
	if (!strcmp(a->verb, "fork"))
		return status_of(sl_up_fork(cfg, a->arg, &a->o, err));
	if (!a->detach && !a->o.print_only)
		return foreground(cfg, &a->o, err);
	return status_of(sl_up_config(cfg, &a->o, err));
}

static int up(struct up_args *a, int argc, char **argv, struct sl_config *cfg, struct sl_error *err)
{
	int r;

	if ((r = parse_opts(a, argc, argv, err)) != SL_CLI_GO_ON)
		return r;
	if (!strcmp(argv[optind], "new")) {
		if (argc - optind != 2)
			return sl_cli_usage(&a->cli, "new takes NAME");
		r = new_config(argv[optind + 1], a->net, &a->allow, &a->drop, (unsigned)a->count,
			       a->range, err);
		return r < 0 ? r : 0;
	}
	if ((r = parse_words(a, argc, argv)) != SL_CLI_GO_ON)
		return r;
	return run(a, cfg, err);
}

static int up_main(int argc, char **argv, struct sl_kv *out, struct sl_error *err)
{
	struct up_args a = { .o = { .jobs = 0, .script = stdout }, .net = "isolated", .count = 1 };
	_cleanup_config_ struct sl_config cfg = { 0 };
	int r;

	sl_cli_begin(&a.cli, usage, argv, out, err);
	r = up(&a, argc, argv, &cfg, err);
	sl_cli_end(&a.cli);
	sl_entry_list_free(&a.allow);
	sl_entry_list_free(&a.drop);
	return r;
}

int main(int argc, char **argv)
{
	return sl_cli_main(up_main, argc, argv);
}
