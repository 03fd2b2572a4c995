/* SPDX-License-Identifier: MIT */
/* sl-veth: the veth pair joining a VM's namespace to the host. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "name.h"
#include "veth.h"

enum {
	OPT_IP = OPT_TOOL,
	OPT_PEER,
};

static const char usage[] =
    "Usage: sl-veth [OPTION]... add NAME\n"
    "       sl-veth [OPTION]... del NAME\n"
    "       sl-veth [OPTION]... check NAME\n"
    "Join VM NAME's namespace to the host: host end NAME, peer in the namespace,\n"
    "the VM's /30 routed to it.\n\n"
    "      --ip ADDR     the VM's address (or SL_IP)\n"
    "      --peer IF     the end in the namespace (or SL_VETH_NS; default veth0)\n" SL_COMMON_HELP
    "\nadd prints SL_VETH_HOST SL_VETH_NS. Exit status: 0 ok, 1 failure, 2 bad input.\n";

static int parse_opts(struct sl_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		SL_COMMON_OPTIONS,
		{ "ip", required_argument, NULL, OPT_IP },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ 0 },
	};
	static const struct sl_cli_flag flags[] = {
		{ OPT_IP, 0, "SL_IP", NULL },
		{ OPT_PEER, 0, "SL_VETH_NS", NULL },
		{ 0 },
	};

	return sl_cli_options(cli, argc, argv, ":hV", opts, flags, NULL, NULL);
}

/**
 * sl_veth_main() - sl-veth's command line, in process (sl_main_fn)
 */
int sl_veth_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	static const char *const verbs[] = { "add", "del", "check", NULL };
	_cleanup_cli_ struct sl_cli cli = { 0 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	struct sl_veth_cfg c = { 0 };
	const char *verb = NULL;
	int r;

	sl_cli_begin(&cli, usage, argv, res, err);
	if ((r = parse_opts(&cli, argc, argv)) != SL_CLI_GO_ON ||
	    (r = sl_cli_verb(&cli, argc, argv, verbs, NULL, &verb, &c.name)) != SL_CLI_GO_ON)
		return r;
	if (!strcmp(verb, "del")) {
		r = sl_veth_del(c.name, err);
		return r < 0 ? r : 0;
	}
	c.peer = sl_cli_input(&cli, "SL_VETH_NS", SL_VETH_NS_DEFAULT);
	if ((r = sl_cli_ip(&cli, "SL_IP", &c.ip, err)) < 0 || (r = sl_cli_prefix(&cli, &c.prefix, err)) < 0)
		return r;
	if (sl_ifname_check("peer", c.peer, err) < 0)
		return sl_cli_usage(&cli, "%s", err->msg);
	if (!strcmp(verb, "check")) {
		r = sl_veth_check(&c, err);
		return r < 0 ? r : r ? 1 : 0;
	}
	r = sl_veth_add(&c, &out, err);
	if (r < 0)
		return r;
	return sl_cli_print(&cli, &out);
}
