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
	"       sl-up new NAME [--net isolated|bridge] [--allow CIDR]... [--drop CIDR]...\n"
	"                      [--count N] [--range CIDR]   print a config\n"
	"Bring up microVMs from a Slicer config: per VM sl-ipam, sl-netns, sl-veth,\n"
	"sl-tap, sl-egress, sl-boot (bridge mode: sl-ipam, sl-tap, sl-egress, sl-boot).\n\n"
	"  -d, --detach        return once all are up (default: stay, and take them\n"
	"                      down on Ctrl-C or SIGTERM)\n"
	"      --no-boot       networks only, no VMs\n"
	"      --print-script  print the commands instead of running them\n"
	"  -j, --jobs N        VMs brought up or down at once (default 4 up, 16\n"
	"                      down: taking links down mostly waits on the kernel)\n"
	SL_COMMON_HELP
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
		found = sl_ipam_check_range(&r, a + 1, false, err) == 0;
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
	if (range) {
		if (sl_range_parse(range, &r, err) < 0)
			return -EINVAL;
	} else {
		/* The next free /22 from 169.254.100.0, as a second daemon would take. */
		bool found = false;

		for (uint32_t a = 0xa9fe6400u; a <= 0xa9fefc00u && !found; a += 0x400) {
			r = (struct sl_cidr){ a, 22 };
			found = sl_ipam_check_range(&r, 0, false, err) == 0;
		}
		if (!found)
			return sl_error(
			    err, -EADDRINUSE,
			    "no free /22 left in 169.254.100.0-169.254.255.255: give --range");
	}
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

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
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
	struct sl_cli cli = { .usage = usage, .done = -1 };
	struct sl_up_opts o = { .jobs = 0, .script = stdout };
	_cleanup_entry_list_ struct sl_entry_list allow = { 0 };
	_cleanup_entry_list_ struct sl_entry_list drop = { 0 };
	_cleanup_config_ struct sl_config cfg = { 0 };
	const char *net = "isolated", *range = NULL, *verb;
	bool detach = false, flag_allow = false, flag_drop = false, no_allow = false,
	     no_drop = false;
	unsigned long count = 1;
	int opt, r;

	sl_log_init(argv[0]);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hVdj:", opts, NULL)) != -1) {
		char *end;

		if (sl_cli_common(&cli, opt, optarg, argv)) {
			if (cli.done >= 0)
				return cli.done;
			continue;
		}
		switch (opt) {
		case 'd':
		case OPT_DETACH:
			detach = true;
			break;
		case OPT_NO_BOOT:
			o.no_boot = true;
			break;
		case OPT_PRINT:
			o.print_only = true;
			break;
		case 'j':
		case OPT_JOBS:
			o.jobs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !o.jobs || o.jobs > 64)
				return sl_cli_usage(&cli, "bad --jobs '%s'", optarg);
			break;
		case OPT_NET:
			net = optarg;
			break;
		case OPT_ALLOW:
			flag_allow = true;
			if (sl_entry_list_add(&allow, optarg, "--allow", err) < 0)
				return sl_cli_fail(err, -EINVAL);
			break;
		case OPT_DROP:
			flag_drop = true;
			if (sl_entry_list_add(&drop, optarg, "--drop", err) < 0)
				return sl_cli_fail(err, -EINVAL);
			break;
		case OPT_NO_ALLOW:
			no_allow = true;
			break;
		case OPT_NO_DROP:
			no_drop = true;
			break;
		case OPT_COUNT:
			count = strtoul(optarg, &end, 10);
			if (*end || count > 65536)
				return sl_cli_usage(&cli, "bad --count '%s'", optarg);
			break;
		case OPT_RANGE:
			range = optarg;
			break;
		}
	}
	if (optind >= argc)
		return sl_cli_usage(&cli, "missing CONFIG");
	verb = argv[optind];
	if (!strcmp(verb, "new")) {
		if (argc - optind != 2)
			return sl_cli_usage(&cli, "new takes NAME");
		r = new_config(argv[optind + 1], net, &allow, &drop, (unsigned)count, range, err);
		return r < 0 ? sl_cli_fail(err, r) : 0;
	}
	if ((flag_allow && no_allow) || (flag_drop && no_drop))
		return sl_cli_usage(&cli, "--%s and --no-%s together", flag_allow && no_allow ? "allow" : "drop",
				    flag_allow && no_allow ? "allow" : "drop");
	if ((no_allow || no_drop) && strcmp(verb, "launch"))
		return sl_cli_usage(&cli, "--no-allow and --no-drop go with launch");
	if ((flag_allow || flag_drop) && strcmp(verb, "launch"))
		return sl_cli_usage(&cli, "--allow and --drop go with new or launch");
	/* launch: a list given (or emptied) replaces the group's for that VM */
	o.allow = flag_allow || no_allow ? &allow : NULL;
	o.drop = flag_drop || no_drop ? &drop : NULL;
	if (!strcmp(verb, "down") || !strcmp(verb, "launch") || !strcmp(verb, "fork")) {
		int want = !strcmp(verb, "down") ? 2 : 3;

		if (argc - optind != want)
			return sl_cli_usage(&cli, "%s takes CONFIG%s", verb,
					    want == 2 ? "" : !strcmp(verb, "fork") ? " VM" : " GROUP");
		optind++;
	} else {
		verb = "up";
		if (argc - optind != 1)
			return sl_cli_usage(&cli, "too many arguments");
	}
	r = sl_config_load(argv[optind], &cfg, err);
	if (r < 0)
		return sl_cli_fail(err, r);
	if (!o.print_only && (r = sl_run_dir_ready(err)) < 0)
		return sl_cli_fail(err, r);
	if (!strcmp(verb, "down")) {
		r = sl_up_down(&cfg, &o, err);
		return r < 0 ? sl_cli_fail(err, r) : r ? 1 : 0;
	}
	if ((r = sl_up_ranges(&cfg, err)) < 0)
		return sl_cli_fail(err, r);
	if (!o.print_only) {
		r = sl_up_check_host(&cfg, err);
		if (r < 0)
			return sl_cli_fail(err, r);
		sl_up_host_warnings();
	}
	if (!strcmp(verb, "launch")) {
		r = sl_up_launch(&cfg, argv[optind + 1], &o, err);
		return r < 0 ? sl_cli_fail(err, r) : r ? 1 : 0;
	}
	if (!strcmp(verb, "fork")) {
		r = sl_up_fork(&cfg, argv[optind + 1], &o, err);
		return r < 0 ? sl_cli_fail(err, r) : r ? 1 : 0;
	}
	if (!detach && !o.print_only) {
		sigset_t set;

		/* Blocked now, so that a Ctrl-C during bring-up still tears down. */
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, NULL);
		o.foreground = true;
		r = sl_up_config(&cfg, &o, err);
		if (r >= 0) {
			const struct timespec tick = { 1, 0 };
			int sig;

			sl_info("%s: up%s; Ctrl-C or SIGTERM takes every VM down", cfg.path,
				r ? " (with failures)" : "");
			/* Supervising: a VM that stops is taken down, once a second. */
			while ((sig = sigtimedwait(&set, NULL, &tick)) < 0)
				sl_up_reap(&cfg, &o, NULL); /* each VM is said on stderr */
			sl_info("signal %d: taking the VMs down", sig);
		}
		sl_up_down(&cfg, &o, NULL); /* r's error, if any, is the one to print */
		return r < 0 ? sl_cli_fail(err, r) : 0;
	}
	r = sl_up_config(&cfg, &o, err);
	return r < 0 ? sl_cli_fail(err, r) : r ? 1 : 0;
}
