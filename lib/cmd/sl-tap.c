/* SPDX-License-Identifier: MIT */
/*
 * sl-tap: the persistent TAP a VM's QEMU opens: inside its namespace
 * (isolated mode), or as a port of a bridge in the host's (bridge mode); or
 * the macvtap on a LAN interface whose device QEMU opens (macvtap mode).
 */
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "cli.h"
#include "cmd.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "macvtap.h"
#include "name.h"
#include "tap.h"

enum {
	OPT_GW = OPT_TOOL,
	OPT_TAP,
	OPT_BRIDGE,
	OPT_MODE,
	OPT_MACVTAP,
};

static const char usage[] =
    "Usage: sl-tap [OPTION]... add NAME\n"
    "       sl-tap [OPTION]... del NAME\n"
    "       sl-tap [OPTION]... check NAME\n"
    "Create the TAP of VM NAME in its namespace, holding the VM's gateway; or,\n"
    "in bridge mode, in this namespace as a port of a bridge holding it; or, in\n"
    "macvtap mode, a macvtap on a LAN interface of this namespace.\n\n"
    "      --gw ADDR      the gateway address (or SL_GW; with SL_PREFIX)\n"
    "      --tap IF       the TAP's name (or SL_TAP; default tap0, in bridge\n"
    "                     mode NAME)\n"
    "  -b, --bridge BR    bridge mode, on bridge BR, made on first use (or\n"
    "                     SL_BRIDGE; default brvm0)\n"
    "  -m, --macvtap IF   macvtap mode, on parent IF (or SL_PARENT; default the\n"
    "                     interface of the default route)\n"
    "      --mode MODE    isolated (default), bridge, macvtap or cni (or SL_MODE;\n"
    "                     cni: no address, wired to SL_CNI_IFNAME by tc redirect)\n" SL_COMMON_HELP
    "\nadd prints SL_TAP (and SL_BRIDGE; or SL_PARENT SL_MAC SL_MODE). Exit status:\n"
    "0 ok, 1 failure, 2 bad input.\n";

static int bridge_port(const struct sl_cli *cli, const char *verb, const char *name,
		       struct sl_port_cfg *p, struct sl_kv *out, struct sl_error *err)
{
	static char ifname[SL_IFNAME_MAX + 1];
	int r;

	sl_ifname(name, ifname);
	p->name = name;
	p->tap = sl_cli_input(cli, "SL_TAP", ifname);
	p->bridge = sl_cli_input(cli, "SL_BRIDGE", SL_BRIDGE_DEFAULT);
	if (!strcmp(verb, "del")) {
		r = sl_port_del(p->name, p->tap, p->bridge, err);
		return r < 0 ? r : 0;
	}
	if ((r = sl_cli_ip(cli, "SL_GW", &p->gw, err)) < 0 || (r = sl_cli_prefix(cli, &p->prefix, err)) < 0)
		return r;
	if (!strcmp(verb, "check")) {
		r = sl_port_check(p, err);
		return r < 0 ? r : r ? 1 : 0;
	}
	r = sl_port_add(p, out, err);
	if (r < 0)
		return r;
	return sl_cli_print(cli, out);
}

static int macvtap(const struct sl_cli *cli, const char *verb, const char *name, struct sl_kv *out,
		   struct sl_error *err)
{
	static char ifname[SL_IFNAME_MAX + 1];
	struct sl_macvtap_cfg m = { name, NULL, sl_cli_get(cli, "SL_PARENT") };
	char parent[16];
	int r;

	sl_ifname(name, ifname);
	m.tap = sl_cli_input(cli, "SL_TAP", ifname);
	if (!strcmp(verb, "del")) {
		r = sl_macvtap_del(name, m.tap, err);
		return r < 0 ? r : 0;
	}
	if (!m.parent) {
		if ((r = sl_default_parent(parent, err)) < 0)
			return r;
		m.parent = parent;
	}
	if (!strcmp(verb, "check")) {
		r = sl_macvtap_check(&m, err);
		return r < 0 ? r : r ? 1 : 0;
	}
	r = sl_macvtap_add(&m, out, err);
	return r < 0 ? r : sl_cli_print(cli, out);
}

static const struct option opts[] = {
	SL_COMMON_OPTIONS,
	{ "gw", required_argument, NULL, OPT_GW },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "bridge", required_argument, NULL, OPT_BRIDGE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "macvtap", required_argument, NULL, OPT_MACVTAP },
	{ 0 },
};

/* --bridge and --macvtap say the mode too. */
static int mode_of(void *ctx, int opt)
{
	struct sl_cli *cli = ctx;
	int r = 0;

	if (opt == OPT_BRIDGE || opt == 'b')
		r = sl_input_flag(&cli->in, "SL_MODE", sl_mode_name(SL_NET_BRIDGE));
	if (opt == OPT_MACVTAP || opt == 'm')
		r = sl_input_flag(&cli->in, "SL_MODE", sl_mode_name(SL_NET_MACVTAP));
	return r < 0 ? sl_error(cli->err, r, "%s", strerror(-r)) : SL_CLI_GO_ON;
}

static int parse_opts(struct sl_cli *cli, int argc, char **argv)
{
	static const struct sl_cli_flag flags[] = {
		{ OPT_GW, 0, "SL_GW", NULL },		{ OPT_TAP, 0, "SL_TAP", NULL },
		{ OPT_BRIDGE, 'b', "SL_BRIDGE", NULL }, { OPT_MACVTAP, 'm', "SL_PARENT", NULL },
		{ OPT_MODE, 0, "SL_MODE", NULL },	{ 0 },
	};

	return sl_cli_options(cli, argc, argv, ":hVb:m:", opts, flags, mode_of, cli);
}

/* Isolated and CNI mode: the TAP in the VM's namespace. */
static int tap(const struct sl_cli *cli, const char *verb, const char *name, enum sl_net_mode mode,
	       struct sl_kv *out, struct sl_error *err)
{
	struct sl_tap_cfg c = { .name = name, .tap = sl_cli_input(cli, "SL_TAP", SL_TAP_DEFAULT) };
	int r;

	if (sl_ifname_check("TAP", c.tap, err) < 0)
		return sl_cli_usage(cli, "%s", err->msg);
	if (!strcmp(verb, "del")) {
		r = sl_tap_del(c.name, c.tap, err);
		return r < 0 ? r : 0;
	}
	if (mode == SL_NET_CNI && !strcmp(verb, "add")) {
		r = sl_tap_wire(c.name, c.tap, sl_cli_input(cli, "SL_CNI_IFNAME", "eth0"), out, err);
		return r < 0 ? r : sl_cli_print(cli, out);
	}
	if (mode == SL_NET_CNI)
		return sl_cli_usage(cli, "check: not for CNI mode (sl-cni-run check %s)", c.name);
	if ((r = sl_cli_ip(cli, "SL_GW", &c.gw, err)) < 0 || (r = sl_cli_prefix(cli, &c.prefix, err)) < 0)
		return r;
	if (!strcmp(verb, "check")) {
		r = sl_tap_check(&c, err);
		return r < 0 ? r : r ? 1 : 0;
	}
	r = sl_tap_add(&c, out, err);
	return r < 0 ? r : sl_cli_print(cli, out);
}

/**
 * sl_tap_main() - sl-tap's command line, in process (sl_main_fn)
 */
int sl_tap_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	static const char *const verbs[] = { "add", "del", "check", NULL };
	_cleanup_cli_ struct sl_cli cli = { 0 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	struct sl_port_cfg p = { 0 };
	const char *verb = NULL, *name = NULL;
	enum sl_net_mode mode;
	int r;

	sl_cli_begin(&cli, usage, argv, res, err);
	if ((r = parse_opts(&cli, argc, argv)) != SL_CLI_GO_ON ||
	    (r = sl_cli_verb(&cli, argc, argv, verbs, NULL, &verb, &name)) != SL_CLI_GO_ON)
		return r;
	if ((r = sl_cli_mode(&cli, &mode, err)) < 0)
		return r;
	if (mode == SL_NET_BRIDGE)
		return bridge_port(&cli, verb, name, &p, &out, err);
	if (mode == SL_NET_MACVTAP)
		return macvtap(&cli, verb, name, &out, err);
	return tap(&cli, verb, name, mode, &out, err);
}
