/* SPDX-License-Identifier: MIT */
/*
 * sl-cni-run: attach a VM's namespace to a CNI network (CNI mode), by the
 * network's conflist and the plugins it names; detach it; check it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "cni-run.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "name.h"

enum {
	OPT_NETWORK = OPT_TOOL,
	OPT_IFNAME,
};

static const char usage[] =
    "Usage: sl-cni-run [OPTION]... add NAME --network NET\n"
    "       sl-cni-run [OPTION]... del NAME\n"
    "       sl-cni-run [OPTION]... check NAME\n"
    "Attach VM NAME's namespace to CNI network NET: each plugin of NET's conflist\n"
    "(in SL_CNI_CONF_DIR, default /etc/cni/net.d; plugins from SL_CNI_PATH, default\n"
    "/opt/cni/bin:/usr/lib/cni) gets ADD; del runs DEL, check CHECK.\n\n"
    "  -n, --network NET  the conflist's name (or SL_CNI_NETWORK)\n"
    "      --ifname IF    the interface the chain makes (or SL_CNI_IFNAME;\n"
    "                     default eth0)\n" SL_COMMON_HELP
    "\nadd prints SL_IP SL_GW SL_PREFIX (SL_DNS) SL_MODE SL_CNI_NETWORK SL_CNI_IFNAME.\n"
    "Exit status: 0 ok, 1 failure (a plugin failed: its message and CNI code),\n"
    "2 bad input (unknown network, plugin or VM).\n";

static int parse_opts(struct sl_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		SL_COMMON_OPTIONS,
		{ "network", required_argument, NULL, OPT_NETWORK },
		{ "ifname", required_argument, NULL, OPT_IFNAME },
		{ 0 },
	};
	static const struct sl_cli_flag flags[] = {
		{ OPT_NETWORK, 'n', "SL_CNI_NETWORK", NULL },
		{ OPT_IFNAME, 0, "SL_CNI_IFNAME", NULL },
		{ 0 },
	};

	return sl_cli_options(cli, argc, argv, ":hVn:", opts, flags, NULL, NULL);
}

/**
 * sl_cni_run_main() - sl-cni-run's command line, in process (sl_main_fn)
 */
int sl_cni_run_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	static const char *const verbs[] = { "add", "del", "check", NULL };
	_cleanup_cli_ struct sl_cli cli = { 0 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	struct sl_cni_cfg c = { 0 };
	const char *verb = NULL;
	int r;

	sl_cli_begin(&cli, usage, argv, res, err);
	if ((r = parse_opts(&cli, argc, argv)) != SL_CLI_GO_ON ||
	    (r = sl_cli_verb(&cli, argc, argv, verbs, NULL, &verb, &c.name)) != SL_CLI_GO_ON)
		return r;
	if (!strcmp(verb, "del")) {
		r = sl_cni_del(c.name, err);
		return r < 0 ? r : 0;
	}
	if (!strcmp(verb, "check")) {
		r = sl_cni_check(c.name, err);
		return r < 0 ? r : r ? 1 : 0;
	}
	c.network = sl_cli_get(&cli, "SL_CNI_NETWORK");
	c.ifname = sl_cli_input(&cli, "SL_CNI_IFNAME", SL_CNI_IFNAME_DEFAULT);
	if (!c.network || !*c.network)
		return sl_cli_usage(&cli, "add needs --network NET");
	if (sl_ifname_check("--ifname", c.ifname, err) < 0)
		return sl_cli_usage(&cli, "%s", err->msg);
	r = sl_cni_add(&c, &out, err);
	if (r < 0)
		return r;
	return sl_cli_print(&cli, &out);
}
