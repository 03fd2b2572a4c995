/* SPDX-License-Identifier: MIT */
/* sl-ipam: lease /30 blocks of a VM range, or addresses of a bridge subnet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "error.h"
#include "input.h"
#include "ipam.h"
#include "log.h"
#include "util.h"

enum {
	OPT_RANGE = OPT_TOOL,
	OPT_GROUP,
	OPT_GATEWAY,
	OPT_ADDRESS,
	OPT_POOL,
	OPT_LAN,
};

static const char usage[] =
    "Usage: sl-ipam [OPTION]... alloc --range CIDR [--group G] NAME\n"
    "       sl-ipam [OPTION]... alloc --gateway ADDR/P [--address IP | --pool A-B] [--lan]\n"
    "               [--group G] NAME\n"
    "       sl-ipam [OPTION]... release NAME\n"
    "       sl-ipam [OPTION]... list\n"
    "Lease the lowest free /30 block of a VM range to a VM (isolated mode), or\n"
    "one address of a bridge's subnet (bridge mode, with --gateway), or of a LAN\n"
    "(macvtap mode, with --gateway and --lan).\n\n"
    "  -r, --range CIDR       the group's range, /16 to /30 (or SL_RANGE)\n"
    "  -G, --gateway ADDR/P   bridge mode: the bridge's address (or SL_GATEWAY)\n"
    "      --address IP       bridge mode: this address, not the lowest free one\n"
    "                         (or SL_ADDRESS)\n"
    "      --pool A-B         bridge mode: the lowest free address from A to B\n"
    "                         (Slicer's bridge range; or SL_POOL)\n"
    "      --lan              macvtap mode: the gateway is the LAN's router, its\n"
    "                         subnet the host's own (its routes are expected)\n"
    "  -g, --group G          the VM's group (or SL_GROUP; default: NAME without "
    "-N)\n" SL_COMMON_HELP
    "\nalloc prints SL_NAME SL_GROUP SL_RANGE SL_BLOCK SL_NET SL_GW SL_IP SL_PREFIX\n"
    "SL_MODE.\n"
    "Exit status: 0 ok, 1 failure, 2 bad input (bad range, full, overlapping).\n";

static int list(const struct sl_cli *cli, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	size_t n;
	int r = sl_ipam_leases(&v, &n, err);

	if (r < 0)
		return r;
	if (cli->json)
		fputc('[', stdout);
	else if (n)
		printf("%-15s %-15s %-18s %s\n", "NAME", "GROUP", "RANGE", "IP");
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv kv = { 0 };

		if (sl_lease_kv(&v[i], &kv) < 0)
			return -ENOMEM;
		if (cli->json) {
			if (i)
				fputc(',', stdout);
			sl_kv_write(&kv, stdout, true);
		} else {
			printf("%-15s %-15s %-18s %s\n", v[i].name, v[i].group,
			       sl_kv_get(&kv, "SL_RANGE"), sl_kv_get(&kv, "SL_IP"));
		}
	}
	if (cli->json)
		fputs("]\n", stdout);
	return 0;
}

static const struct option opts[] = {
	SL_COMMON_OPTIONS,
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "lan", no_argument, NULL, OPT_LAN },
	{ 0 },
};

static int take_lan(void *lan, int opt)
{
	if (opt == OPT_LAN)
		*(bool *)lan = true;
	return SL_CLI_GO_ON;
}

static int parse_opts(struct sl_cli *cli, int argc, char **argv, bool *lan)
{
	static const struct sl_cli_flag flags[] = {
		{ OPT_RANGE, 'r', "SL_RANGE", NULL },	  { OPT_GROUP, 'g', "SL_GROUP", NULL },
		{ OPT_GATEWAY, 'G', "SL_GATEWAY", NULL }, { OPT_ADDRESS, 0, "SL_ADDRESS", NULL },
		{ OPT_POOL, 0, "SL_POOL", NULL },	  { 0 },
	};
	int r = sl_cli_options(cli, argc, argv, ":hVr:g:G:", opts, flags, take_lan, lan);

	if (r != SL_CLI_GO_ON)
		return r;
	if (optind >= argc)
		return sl_cli_usage(cli, "missing command: alloc, release or list");
	return SL_CLI_GO_ON;
}

/* What alloc needs beside the name: SL_CLI_GO_ON, or a usage error's status. */
static int alloc_inputs(const struct sl_cli *cli, bool lan)
{
	if (sl_cli_get(cli, "SL_GATEWAY"))
		return SL_CLI_GO_ON;
	if (sl_cli_get(cli, "SL_POOL"))
		return sl_cli_usage(cli, "--pool needs --gateway (bridge mode)");
	if (lan)
		return sl_cli_usage(cli, "--lan needs --gateway (macvtap mode)");
	if (!sl_cli_get(cli, "SL_RANGE"))
		return sl_cli_usage(cli, "alloc needs --range CIDR or --gateway ADDR/P");
	return SL_CLI_GO_ON;
}

/* alloc: a /30 of --range, or with --gateway one address of a bridge's or the LAN's subnet. */
static int alloc(const struct sl_cli *cli, const char *name, bool lan, struct sl_kv *out,
		 struct sl_error *err)
{
	const char *range = sl_cli_get(cli, "SL_RANGE"), *gw = sl_cli_get(cli, "SL_GATEWAY");
	struct sl_subnet_req q = { gw, sl_cli_get(cli, "SL_ADDRESS"), sl_cli_get(cli, "SL_POOL"), lan };

	if (gw)
		return sl_ipam_alloc_bridge(&q, sl_cli_get(cli, "SL_GROUP"), name, out, err);
	return sl_ipam_alloc(range, sl_cli_get(cli, "SL_GROUP"), name, out, err);
}

static int ipam(struct sl_cli *cli, int argc, char **argv, struct sl_kv *out, struct sl_error *err)
{
	const char *verb, *name = NULL;
	bool lan = false;
	int r;

	if ((r = parse_opts(cli, argc, argv, &lan)) != SL_CLI_GO_ON)
		return r;
	verb = argv[optind++];
	if (!strcmp(verb, "list"))
		return optind < argc ? sl_cli_usage(cli, "list takes no arguments")
				     : list(cli, err);
	if (strcmp(verb, "alloc") && strcmp(verb, "release"))
		return sl_cli_usage(cli, "unknown command '%s'", verb);
	if (argc - optind > 1)
		return sl_cli_usage(cli, "too many arguments");
	r = sl_input_bind(&cli->in, optind < argc ? argv[optind] : NULL, &name, err);
	if (r < 0)
		return r == -EINVAL && !name ? sl_cli_usage(cli, "%s", err->msg) : r;
	if (!strcmp(verb, "alloc")) {
		if ((r = alloc_inputs(cli, lan)) != SL_CLI_GO_ON)
			return r;
		r = alloc(cli, name, lan, out, err);
	} else {
		r = sl_ipam_release(name, out, err);
		sl_kv_free(out); /* release prints nothing */
	}
	return r < 0 ? r : sl_cli_print(cli, out);
}

/**
 * sl_ipam_main() - sl-ipam's command line, in process (sl_main_fn)
 */
int sl_ipam_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	_cleanup_cli_ struct sl_cli cli = { 0 };
	_cleanup_kv_ struct sl_kv out = { 0 };

	sl_cli_begin(&cli, usage, argv, res, err);
	return ipam(&cli, argc, argv, &out, err);
}
