/* SPDX-License-Identifier: MIT */
/* sl-gc: remove what no live VM owns. */
#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "error.h"
#include "gc.h"
#include "log.h"
#include "state.h"

enum {
	OPT_DRY = OPT_TOOL,
};

static const char usage[] =
	"Usage: sl-gc [--dry-run]\n"
	"Find and remove what no live VM owns after a crash, a kill -9 or a reboot:\n"
	"supervisors and QEMUs whose partner died, namespaces, TAPs and veths,\n"
	"leases, host rules of ranges no longer used, state. Only objects tagged\n"
	"or recorded under this SL_RUN_DIR are touched.\n\n"
	"  -n, --dry-run     list what would be removed, remove nothing\n"
	SL_COMMON_HELP
	"\nPrints one line per object. Exit status: 0 ok, 1 failure, 2 usage.\n";

static int take_dry(void *dry, int opt)
{
	if (opt == 'n' || opt == OPT_DRY)
		*(bool *)dry = true;
	return SL_CLI_GO_ON;
}

static int gc_main(int argc, char **argv, struct sl_kv *out, struct sl_error *err)
{
	static const struct option opts[] = {
		SL_COMMON_OPTIONS,
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ 0 },
	};
	_cleanup_cli_ struct sl_cli cli = { 0 };
	bool dry = false;
	int r;

	sl_cli_begin(&cli, usage, argv, out, err);
	if ((r = sl_cli_options(&cli, argc, argv, ":hVn", opts, NULL, take_dry, &dry)) !=
	    SL_CLI_GO_ON)
		return r;
	if (optind < argc)
		return sl_cli_usage(&cli, "unexpected argument '%s'", argv[optind]);
	r = sl_run_dir_ready(err);
	if (r < 0)
		return r;
	r = sl_gc(dry, err);
	if (r < 0)
		return r;
	return 0;
}

int main(int argc, char **argv)
{
	return sl_cli_main(gc_main, argc, argv);
}
