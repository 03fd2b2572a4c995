/* SPDX-License-Identifier: MIT */
/* sl-egress: a VM's egress rules, and its range's host rules. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "cni-plugin.h"
#include "denials.h"
#include "nameserver.h"
#include "egress.h"
#include "error.h"
#include "input.h"
#include "ipam.h"
#include "log.h"
#include "shape.h"
#include "tap.h"
#include "veth.h"

enum {
	OPT_ALLOW = OPT_TOOL,
	OPT_DROP,
	OPT_IP,
	OPT_RANGE,
	OPT_MODE,
	OPT_BRIDGE,
	OPT_FOLLOW,
	OPT_STATS,
	OPT_DNS_UPSTREAM,
	OPT_RATE_OUT,
	OPT_RATE_IN,
};

static const char usage[] =
    "Usage: sl-egress [OPTION]... apply NAME [--allow ENTRY]... [--drop ENTRY]...\n"
    "       sl-egress [OPTION]... test NAME DEST\n"
    "       sl-egress [OPTION]... log [-f] NAME\n"
    "       sl-egress [OPTION]... show [--stats] NAME\n"
    "       sl-egress [OPTION]... check NAME\n"
    "       sl-egress [OPTION]... flush NAME\n"
    "Decide where VM NAME may send packets; it never reaches another VM, the\n"
    "host, or anything over IPv6, and nothing new reaches it.\n\n"
    "  -a, --allow ENTRY allow a destination (repeatable; or SL_ALLOW)\n"
    "  -d, --drop ENTRY  drop a destination (repeatable; or SL_DROP)\n"
    "      --ip ADDR     the VM's address (or SL_IP)\n"
    "      --range CIDR  the VM's range (or SL_RANGE)\n"
    "  -f, --follow      log: print each denial as it happens, until interrupted\n"
    "      --stats       show: the kernel's counters on each rule ([packets:bytes],\n"
    "                    as iptables-save -c) and the packets each entry decided\n"
    "      --dns-upstream A,B  with names in allow: the servers the VM's resolver\n"
    "                    asks (or SL_DNS_UPSTREAM; default 8.8.8.8,1.1.1.1)\n"
    "      --rate-out RATE  cap what the VM sends, e.g. 100mbit (or SL_RATE_OUT; 0: none)\n"
    "      --rate-in RATE   cap what the VM receives (or SL_RATE_IN; 0: none)\n"
    "      --mode MODE   isolated (default) or bridge: only the host rules of the\n"
    "                    bridge's subnet, SL_RANGE (or SL_MODE)\n" SL_COMMON_HELP
    "\nAn ENTRY is ADDR or ADDR/P (a bare address is /32), or in allow a DNS name\n"
    "(example.com, *.example.com: any name below), optionally :PORT or :LO-HI\n"
    "(TCP and UDP to those ports). The most specific matching entry decides:\n"
    "longer prefix first (a name counts as a /32), then one with ports, then\n"
    "allow. When none matches: dropped if there are allow entries and no drop\n"
    "entries, else allowed. Names: the VM's resolver on its gateway answers only\n"
    "them and lets the VM reach their addresses for the answer's TTL; DNS to\n"
    "anywhere else is dropped. apply prints SL_ALLOW SL_DROP SL_EGRESS_RANGE\n"
    "(and SL_DNS SL_DNS_UPSTREAM with a resolver); the run dir's sl-egressd keeps\n"
    "the VM's denials and runs its resolver.\n"
    "test DEST (ADDR, ADDR:PORT or a name) prints SL_VERDICT (allow or drop) and\n"
    "SL_ENTRY (the entry, or default), without sending a packet. log prints the\n"
    "packets dropped (rate-limited) and the names refused, as the VM's denial\n"
    "logger and resolver kept them; log -f then each new one as it happens.\n"
    "Exit status: 0 ok, 1 failure (check: rules differ), 2 bad input.\n";

/* What the command line and the inputs said, and what is made of them. */
struct egress_args {
	struct sl_cli cli;
	struct sl_entry_list allow, drop;
	bool flag_allow, flag_drop, follow, stats;
	const char *verb, *dest;
	enum sl_net_mode mode;
	struct sl_egress_cfg c;
	struct sl_error *err; /* for the options' errors */
	char upstream[256];
};

static const struct option opts[] = {
	SL_COMMON_OPTIONS,
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "drop", required_argument, NULL, OPT_DROP },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "bridge", required_argument, NULL, OPT_BRIDGE },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
	{ "rate-out", required_argument, NULL, OPT_RATE_OUT },
	{ "rate-in", required_argument, NULL, OPT_RATE_IN },
	{ 0 },
};

/* allow, drop, -f and --stats: sl-egress's own options. */
static int take_own(void *ctx, int opt)
{
	struct egress_args *a = ctx;

	if (opt == 'a' || opt == OPT_ALLOW) {
		a->flag_allow = true;
		if (sl_entry_list_add(&a->allow, optarg, "--allow", a->err) < 0)
			return -EINVAL;
	} else if (opt == 'd' || opt == OPT_DROP) {
		a->flag_drop = true;
		if (sl_entry_list_add(&a->drop, optarg, "--drop", a->err) < 0)
			return -EINVAL;
	}
	a->follow |= opt == 'f' || opt == OPT_FOLLOW;
	a->stats |= opt == OPT_STATS;
	return SL_CLI_GO_ON;
}

static int parse_opts(struct egress_args *a, int argc, char **argv)
{
	static const struct sl_cli_flag flags[] = {
		{ OPT_IP, 0, "SL_IP", NULL },
		{ OPT_RANGE, 0, "SL_RANGE", NULL },
		{ OPT_MODE, 0, "SL_MODE", NULL },
		{ OPT_BRIDGE, 0, "SL_BRIDGE", NULL },
		{ OPT_DNS_UPSTREAM, 0, "SL_DNS_UPSTREAM", NULL },
		{ OPT_RATE_OUT, 0, "SL_RATE_OUT", NULL },
		{ OPT_RATE_IN, 0, "SL_RATE_IN", NULL },
		{ 0 },
	};

	return sl_cli_options(&a->cli, argc, argv, ":hVa:d:f", opts, flags, take_own, a);
}

/* The verb, the name and test's DEST (the last word). */
static int parse_words(struct egress_args *a, int argc, char **argv)
{
	static const char *const verbs[] = {
		"apply", "test", "log", "show", "check", "flush", NULL
	};

	if (optind < argc && !strcmp(argv[optind], "test")) {
		if (argc - optind < 2)
			return sl_cli_usage(&a->cli, "test takes [NAME] DEST");
		a->dest = argv[--argc];
	}
	return sl_cli_verb(&a->cli, argc, argv, verbs, NULL, &a->verb, &a->c.name);
}

/* sl-cni's attachments: their rules are the plugin's, in the host's namespace. */
static int attachment(const struct egress_args *a, struct sl_error *err)
{
	const char *name = a->c.name;
	int r;

	if (strcmp(a->verb, "log"))
		return sl_cli_usage(&a->cli,
				    "%s is an sl-cni attachment: its rules are sl-cni's "
				    "(sl-cni(8); iptables-legacy -S SL-CNI)",
				    name);
	if (!a->follow)
		return sl_cli_usage(&a->cli,
				    "%s is an sl-cni attachment: no log is kept of its "
				    "denials; log -f shows them as they happen",
				    name);
	r = sl_egress_attach_log(name, a->cli.json, stdout, err);
	return r < 0 ? r : 0;
}

/* The modes without our rules; and the verbs that need nothing more than the name. */
static int mode_and_early_verbs(struct egress_args *a, struct sl_error *err)
{
	const char *name = a->c.name;
	int r = sl_cli_mode(&a->cli, &a->mode, err);

	if (r < 0)
		return r;
	if (a->mode == SL_NET_MACVTAP)
		return sl_cli_usage(&a->cli,
				    "%s: macvtap mode has no egress rules: its frames "
				    "leave through the parent, past this host's firewall",
				    name);
	if (a->mode == SL_NET_CNI)
		return sl_cli_usage(&a->cli,
				    "%s: CNI mode has no egress rules of ours: the "
				    "network's plugins (firewall, ...) are its policy",
				    name);
	if (a->mode == SL_NET_BRIDGE && !strcmp(a->verb, "log"))
		return sl_cli_usage(&a->cli,
				    "%s: bridge mode has no egress rules: nothing is "
				    "denied, nothing logged",
				    name);
	if (!strcmp(a->verb, "log")) {
		r = sl_egress_log(name, a->cli.json, a->follow, stdout, err);
		return r < 0 ? r : 0;
	}
	if (a->follow)
		return sl_cli_usage(&a->cli, "-f goes with log");
	if (a->stats && strcmp(a->verb, "show"))
		return sl_cli_usage(&a->cli, "--stats goes with show");
	if (!strcmp(a->verb, "flush")) {
		r = sl_egress_flush(name, err);
		return r < 0 ? r : 0;
	}
	return SL_CLI_GO_ON;
}

/* allow and drop: the flags, or with none the inputs (a re-apply or a check). */
static int entry_lists(struct egress_args *a, struct sl_error *err)
{
	const char *v;

	if (strcmp(a->verb, "apply") && strcmp(a->verb, "test") && (a->flag_allow || a->flag_drop))
		return sl_cli_usage(&a->cli, "--allow and --drop go with apply or test");
	if (!a->flag_allow && !a->flag_drop) {
		if ((v = sl_cli_get(&a->cli, "SL_ALLOW")) &&
		    sl_entry_list_add(&a->allow, v, "SL_ALLOW", err) < 0)
			return -EINVAL;
		if ((v = sl_cli_get(&a->cli, "SL_DROP")) &&
		    sl_entry_list_add(&a->drop, v, "SL_DROP", err) < 0)
			return -EINVAL;
	}
	a->c.allow = a->allow;
	a->c.drop = a->drop;
	return SL_CLI_GO_ON;
}

/* The VM's range and address: a bridge's subnet, or an isolated VM's lease. */
static int range_and_ip(struct egress_args *a, struct sl_error *err)
{
	bool bridge = a->mode == SL_NET_BRIDGE;
	const char *v = sl_cli_get(&a->cli, "SL_RANGE");
	int r;

	a->c.tap = sl_cli_input(&a->cli, "SL_TAP", SL_TAP_DEFAULT);
	a->c.veth = sl_cli_input(&a->cli, "SL_VETH_NS", SL_VETH_NS_DEFAULT);
	if (!v) {
		sl_error(err, -ENXIO,
			 "%s unknown: no SL_RANGE (run sl-ipam alloc first, or give --range)",
			 a->c.name);
		return -ENXIO;
	}
	if (bridge && sl_cidr_parse(v, &a->c.range) < 0)
		return sl_cli_usage(&a->cli, "bad bridge subnet '%s'", v);
	if (!bridge && (r = sl_range_parse(v, &a->c.range, err)) < 0)
		return r;
	if (!bridge && strcmp(a->verb, "show") && (r = sl_cli_ip(&a->cli, "SL_IP", &a->c.ip, err)) < 0)
		return r;
	if (!bridge && !strcmp(a->verb, "show") && sl_cli_get(&a->cli, "SL_IP"))
		sl_cli_ip(&a->cli, "SL_IP", &a->c.ip, NULL);
	return SL_CLI_GO_ON;
}

/* The resolver's upstream, the rate caps and a bridge VM's bridge. */
static int resolver_rates_bridge(struct egress_args *a, struct sl_error *err)
{
	bool bridge = a->mode == SL_NET_BRIDGE, names = sl_entry_list_names(&a->allow);
	const char *v = sl_cli_get(&a->cli, "SL_DNS_UPSTREAM");
	int r;

	/* A resolver for names in allow, and from then on for the VM's life. */
	if (!bridge && (v || names)) {
		if ((r = sl_dns_servers(v ? v : SL_DNS_DEFAULT, "--dns-upstream", a->upstream,
					sizeof(a->upstream), err)) < 0)
			return r;
		if (!a->upstream[0] && names)
			return sl_cli_usage(&a->cli, "names in allow need a resolver upstream: "
						     "--dns-upstream (dns_servers) cannot be none");
		a->c.dns_upstream = a->upstream;
	}
	if ((r = sl_rate_parse(sl_cli_get(&a->cli, "SL_RATE_OUT"), &a->c.rate_out, "--rate-out", err)) <
		0 ||
	    (r = sl_rate_parse(sl_cli_get(&a->cli, "SL_RATE_IN"), &a->c.rate_in, "--rate-in", err)) < 0)
		return r;
	if (bridge && (a->c.rate_out || a->c.rate_in))
		return sl_cli_usage(&a->cli, "--rate-out and --rate-in need isolated mode");
	/* a bridge subnet's sources are taken only from its bridge */
	if (bridge && !(a->c.bridge = sl_cli_get(&a->cli, "SL_BRIDGE")))
		return sl_cli_usage(&a->cli,
				    "%s: bridge mode needs its bridge: --bridge BR (or "
				    "SL_BRIDGE, which sl-tap add --bridge records)",
				    a->c.name);
	return SL_CLI_GO_ON;
}

/* apply, show or check, on the whole configuration. */
static int run(struct egress_args *a, struct sl_kv *out, struct sl_error *err)
{
	static const char *const ttl_keys[] = { "SL_DNS_TTL_MIN", "SL_DNS_TTL_MAX", NULL };
	const char *v;
	int r;

	for (const char *const *k = ttl_keys; *k; k++)
		if ((v = sl_cli_get(&a->cli, *k)) && (r = sl_kv_set(out, *k, v)) < 0)
			return r;
	if (!strcmp(a->verb, "show"))
		r = sl_egress_show(&a->c, stdout, a->stats, a->cli.json, err);
	else if (!strcmp(a->verb, "check"))
		r = sl_egress_check(&a->c, err);
	else
		r = sl_egress_apply(&a->c, out, err);
	if (r < 0)
		return r;
	if (!strcmp(a->verb, "check"))
		return r ? 1 : 0;
	return !strcmp(a->verb, "show") ? 0 : sl_cli_print(&a->cli, out);
}

static int egress(struct egress_args *a, int argc, char **argv, struct sl_kv *out,
		  struct sl_error *err)
{
	int r;

	a->err = err;
	if ((r = parse_opts(a, argc, argv)) != SL_CLI_GO_ON ||
	    (r = parse_words(a, argc, argv)) != SL_CLI_GO_ON)
		return r;
	if (!a->verb || !a->c.name) /* set whenever the words went on */
		return -EINVAL;
	if (sl_cniplug_is_attachment(a->c.name))
		return attachment(a, err);
	if ((r = mode_and_early_verbs(a, err)) != SL_CLI_GO_ON ||
	    (r = entry_lists(a, err)) != SL_CLI_GO_ON)
		return r;
	if (!strcmp(a->verb, "test")) {
		r = sl_egress_test(&a->c, a->dest, out, err);
		return r < 0 ? r : sl_cli_print(&a->cli, out);
	}
	if ((r = range_and_ip(a, err)) != SL_CLI_GO_ON ||
	    (r = resolver_rates_bridge(a, err)) != SL_CLI_GO_ON)
		return r;
	return run(a, out, err);
}

/**
 * sl_egress_main() - sl-egress's command line, in process (sl_main_fn)
 */
int sl_egress_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv out = { 0 };
	struct egress_args a = { 0 };
	int r;

	sl_cli_begin(&a.cli, usage, argv, res, err);
	r = egress(&a, argc, argv, &out, err);
	sl_cli_end(&a.cli);
	sl_entry_list_free(&a.allow);
	sl_entry_list_free(&a.drop);
	return r;
}
