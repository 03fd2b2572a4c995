/* SPDX-License-Identifier: MIT */
/* sl-egress: a VM's egress rules, and its range's host rules. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cniplug.h"
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
	"                    bridge's subnet, SL_RANGE (or SL_MODE)\n"
	SL_COMMON_HELP
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

int main(int argc, char **argv)
{
	struct sl_error why = { 0 }, *err = &why;
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
	static const char *const verbs[] = { "apply", "test", "log", "show", "check", "flush", NULL };
	struct sl_cli cli = { .usage = usage, .done = -1 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	_cleanup_entry_list_ struct sl_entry_list allow = { 0 };
	_cleanup_entry_list_ struct sl_entry_list drop = { 0 };
	struct sl_egress_cfg c = { 0 };
	enum sl_net_mode mode;
	bool flag_allow = false, flag_drop = false, follow = false, stats = false, bridge;
	static const char *const ttl_keys[] = { "SL_DNS_TTL_MIN", "SL_DNS_TTL_MAX", NULL };
	const char *verb = NULL, *dest = NULL, *v;
	char upstream[256];
	int opt, r;

	sl_log_init(argv[0]);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hVa:d:f", opts, NULL)) != -1) {
		if (sl_cli_common(&cli, opt, optarg, argv)) {
			if (cli.done >= 0)
				return cli.done;
			continue;
		}
		switch (opt) {
		case 'a':
		case OPT_ALLOW:
			flag_allow = true;
			if (sl_entry_list_add(&allow, optarg, "--allow", err) < 0)
				return sl_cli_fail(err, -EINVAL);
			break;
		case 'd':
		case OPT_DROP:
			flag_drop = true;
			if (sl_entry_list_add(&drop, optarg, "--drop", err) < 0)
				return sl_cli_fail(err, -EINVAL);
			break;
		case OPT_IP:
			sl_input_flag("SL_IP", optarg);
			break;
		case OPT_RANGE:
			sl_input_flag("SL_RANGE", optarg);
			break;
		case OPT_MODE:
			sl_input_flag("SL_MODE", optarg);
			break;
		case OPT_BRIDGE:
			sl_input_flag("SL_BRIDGE", optarg);
			break;
		case 'f':
		case OPT_FOLLOW:
			follow = true;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case OPT_DNS_UPSTREAM:
			sl_input_flag("SL_DNS_UPSTREAM", optarg);
			break;
		case OPT_RATE_OUT:
			sl_input_flag("SL_RATE_OUT", optarg);
			break;
		case OPT_RATE_IN:
			sl_input_flag("SL_RATE_IN", optarg);
			break;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "test")) {
		/* test [NAME] DEST: the last word is the destination */
		if (argc - optind < 2)
			return sl_cli_usage(&cli, "test takes [NAME] DEST");
		dest = argv[--argc];
	}
	r = sl_cli_verb(&cli, argc, argv, verbs, NULL, &verb, &c.name);
	if (r >= 0)
		return r;
	if (sl_cniplug_is_attachment(c.name)) {
		/* sl-cni's: its rules are the plugin's, in the host's namespace */
		if (strcmp(verb, "log"))
			return sl_cli_usage(&cli, "%s is an sl-cni attachment: its rules are sl-cni's "
					    "(sl-cni(8); iptables-legacy -S SL-CNI)", c.name);
		if (!follow)
			return sl_cli_usage(&cli, "%s is an sl-cni attachment: no log is kept of its "
					    "denials; log -f shows them as they happen", c.name);
		r = sl_egress_attach_log(c.name, cli.json, stdout, err);
		return r < 0 ? sl_cli_fail(err, r) : 0;
	}
	r = sl_cli_mode(&mode, err);
	if (r < 0)
		return sl_cli_fail(err, r);
	if (mode == SL_NET_MACVTAP)
		return sl_cli_usage(&cli, "%s: macvtap mode has no egress rules: its frames leave "
				    "through the parent, past this host's firewall", c.name);
	if (mode == SL_NET_CNI)
		return sl_cli_usage(&cli, "%s: CNI mode has no egress rules of ours: the network's "
				    "plugins (firewall, ...) are its policy", c.name);
	if (mode == SL_NET_BRIDGE && !strcmp(verb, "log"))
		return sl_cli_usage(&cli, "%s: bridge mode has no egress rules: nothing is denied, "
				    "nothing logged", c.name);
	if (!strcmp(verb, "log")) {
		r = sl_egress_log(c.name, cli.json, follow, stdout, err);
		return r < 0 ? sl_cli_fail(err, r) : 0;
	}
	if (follow)
		return sl_cli_usage(&cli, "-f goes with log");
	if (stats && strcmp(verb, "show"))
		return sl_cli_usage(&cli, "--stats goes with show");
	if (!strcmp(verb, "flush")) {
		r = sl_egress_flush(c.name, err);
		return r < 0 ? sl_cli_fail(err, r) : 0;
	}
	if (strcmp(verb, "apply") && strcmp(verb, "test") && (flag_allow || flag_drop))
		return sl_cli_usage(&cli, "--allow and --drop go with apply or test");
	/* With no flags, the lists come from the inputs: a re-apply or a check. */
	if (!flag_allow && !flag_drop) {
		if ((v = sl_input_get("SL_ALLOW")) &&
		    sl_entry_list_add(&allow, v, "SL_ALLOW", err) < 0)
			return sl_cli_fail(err, -EINVAL);
		if ((v = sl_input_get("SL_DROP")) &&
		    sl_entry_list_add(&drop, v, "SL_DROP", err) < 0)
			return sl_cli_fail(err, -EINVAL);
	}
	c.allow = allow;
	c.drop = drop;
	if (!strcmp(verb, "test")) {
		r = sl_egress_test(&c, dest, &out, err);
		return r < 0 ? sl_cli_fail(err, r) : sl_cli_print(&cli, &out);
	}
	c.tap = sl_cli_input("SL_TAP", SL_TAP_DEFAULT);
	c.veth = sl_cli_input("SL_VETH_NS", SL_VETH_NS_DEFAULT);
	v = sl_input_get("SL_RANGE");
	if (!v) {
		sl_error(err, -ENXIO,
			 "%s unknown: no SL_RANGE (run sl-ipam alloc first, or give --range)",
			 c.name);
		return sl_cli_fail(err, -ENXIO);
	}
	bridge = mode == SL_NET_BRIDGE;
	if (bridge && sl_cidr_parse(v, &c.range) < 0)
		return sl_cli_usage(&cli, "bad bridge subnet '%s'", v);
	if (!bridge && (r = sl_range_parse(v, &c.range, err)) < 0)
		return sl_cli_fail(err, r);
	if (!bridge && strcmp(verb, "show") && (r = sl_cli_ip("SL_IP", &c.ip, err)) < 0)
		return sl_cli_fail(err, r);
	if (!bridge && !strcmp(verb, "show") && sl_input_get("SL_IP"))
		sl_cli_ip("SL_IP", &c.ip, err);
	/* A resolver for names in allow, and from then on for the VM's life. */
	v = sl_input_get("SL_DNS_UPSTREAM");
	if (!bridge && (v || sl_entry_list_names(&allow))) {
		if ((r = sl_dns_servers(v ? v : SL_DNS_DEFAULT, "--dns-upstream", upstream,
					sizeof(upstream), err)) < 0)
			return sl_cli_fail(err, r);
		if (!upstream[0] && sl_entry_list_names(&allow))
			return sl_cli_usage(&cli, "names in allow need a resolver upstream: "
						  "--dns-upstream (dns_servers) cannot be none");
		c.dns_upstream = upstream;
	}
	if ((r = sl_rate_parse(sl_input_get("SL_RATE_OUT"), &c.rate_out, "--rate-out", err)) < 0 ||
	    (r = sl_rate_parse(sl_input_get("SL_RATE_IN"), &c.rate_in, "--rate-in", err)) < 0)
		return sl_cli_fail(err, r);
	if (bridge && (c.rate_out || c.rate_in))
		return sl_cli_usage(&cli, "--rate-out and --rate-in need isolated mode");
	/* a bridge subnet's sources are taken only from its bridge */
	if (bridge && !(c.bridge = sl_input_get("SL_BRIDGE")))
		return sl_cli_usage(&cli, "%s: bridge mode needs its bridge: --bridge BR (or "
				    "SL_BRIDGE, which sl-tap add --bridge records)", c.name);
	for (const char *const *k = ttl_keys; *k; k++)
		if ((v = sl_input_get(*k)) && (r = sl_kv_set(&out, *k, v)) < 0)
			return sl_cli_fail(err, r);

	if (!strcmp(verb, "show"))
		r = sl_egress_show(&c, stdout, stats, cli.json, err);
	else if (!strcmp(verb, "check"))
		r = sl_egress_check(&c, err);
	else
		r = sl_egress_apply(&c, &out, err);
	if (r < 0)
		return sl_cli_fail(err, r);
	if (!strcmp(verb, "check"))
		return r ? 1 : 0;
	if (!strcmp(verb, "show"))
		return 0;
	return sl_cli_print(&cli, &out);
}
