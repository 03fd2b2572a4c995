/* SPDX-License-Identifier: MIT */
/* sl-ipam: lease /30 blocks of a VM range, or addresses of a bridge subnet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
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
	"  -g, --group G          the VM's group (or SL_GROUP; default: NAME without -N)\n"
	SL_COMMON_HELP
	"\nalloc prints SL_NAME SL_GROUP SL_RANGE SL_BLOCK SL_NET SL_GW SL_IP SL_PREFIX\n"
	"SL_MODE.\n"
	"Exit status: 0 ok, 1 failure, 2 bad input (bad range, full, overlapping).\n";

static int list(const struct sl_cli *cli, struct sl_error *err)
{
	_cleanup_free_ struct sl_lease *v = NULL;
	size_t n;
	int r = sl_ipam_leases(&v, &n, err);

	if (r < 0)
		return sl_cli_fail(err, r);
	if (cli->json)
		fputc('[', stdout);
	else if (n)
		printf("%-15s %-15s %-18s %s\n", "NAME", "GROUP", "RANGE", "IP");
	for (size_t i = 0; i < n; i++) {
		_cleanup_kv_ struct sl_kv kv = { 0 };

		if (sl_lease_kv(&v[i], &kv) < 0)
			return sl_cli_fail(err, -ENOMEM);
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

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
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
	struct sl_cli cli = { .usage = usage, .done = -1 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	const char *verb, *name = NULL;
	bool lan = false;
	int opt, r;

	sl_log_init(argv[0]);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hVr:g:G:", opts, NULL)) != -1) {
		if (sl_cli_common(&cli, opt, optarg, argv)) {
			if (cli.done >= 0)
				return cli.done;
			continue;
		}
		switch (opt) {
		case 'r':
		case OPT_RANGE:
			sl_input_flag("SL_RANGE", optarg);
			break;
		case 'g':
		case OPT_GROUP:
			sl_input_flag("SL_GROUP", optarg);
			break;
		case 'G':
		case OPT_GATEWAY:
			sl_input_flag("SL_GATEWAY", optarg);
			break;
		case OPT_ADDRESS:
			sl_input_flag("SL_ADDRESS", optarg);
			break;
		case OPT_POOL:
			sl_input_flag("SL_POOL", optarg);
			break;
		case OPT_LAN:
			lan = true;
			break;
		}
	}
	if (optind >= argc)
		return sl_cli_usage(&cli, "missing command: alloc, release or list");
	verb = argv[optind++];
	if (!strcmp(verb, "list")) {
		if (optind < argc)
			return sl_cli_usage(&cli, "list takes no arguments");
		return list(&cli, err);
	}
	if (strcmp(verb, "alloc") && strcmp(verb, "release"))
		return sl_cli_usage(&cli, "unknown command '%s'", verb);
	if (argc - optind > 1)
		return sl_cli_usage(&cli, "too many arguments");
	r = sl_input_bind(optind < argc ? argv[optind] : NULL, &name, err);
	if (r < 0)
		return r == -EINVAL && !name ? sl_cli_usage(&cli, "%s", err->msg)
					     : sl_cli_fail(err, r);
	if (!strcmp(verb, "alloc")) {
		const char *range = sl_input_get("SL_RANGE");
		const char *gw = sl_input_get("SL_GATEWAY");

		if (!gw && sl_input_get("SL_POOL"))
			return sl_cli_usage(&cli, "--pool needs --gateway (bridge mode)");
		struct sl_subnet_req q = { gw, sl_input_get("SL_ADDRESS"), sl_input_get("SL_POOL"),
					   lan };

		if (!gw && q.lan)
			return sl_cli_usage(&cli, "--lan needs --gateway (macvtap mode)");
		if (gw)
			r = sl_ipam_alloc_bridge(&q, sl_input_get("SL_GROUP"), name, &out, err);
		else if (!range)
			return sl_cli_usage(&cli, "alloc needs --range CIDR or --gateway ADDR/P");
		else
			r = sl_ipam_alloc(range, sl_input_get("SL_GROUP"), name, &out, err);
	} else {
		r = sl_ipam_release(name, &out, err);
		sl_kv_free(&out); /* release prints nothing */
	}
	if (r < 0)
		return sl_cli_fail(err, r);
	return sl_cli_print(&cli, &out);
}
