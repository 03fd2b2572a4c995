/* SPDX-License-Identifier: MIT */
/* sl-netns: a VM's private network namespace. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "error.h"
#include "log.h"
#include "netns.h"
#include "state.h"

static const char usage[] =
    "Usage: sl-netns [OPTION]... add NAME\n"
    "       sl-netns [OPTION]... del NAME\n"
    "       sl-netns [OPTION]... check NAME\n"
    "       sl-netns [OPTION]... list\n"
    "Create a VM's private network namespace, as 'ip netns add' does.\n\n" SL_COMMON_HELP
    "\nadd prints SL_NETNS. Exit status: 0 ok, 1 failure, 2 bad input.\n";

/* list: every VM namespace of this run dir, a line each. */
static int list(struct sl_error *err)
{
	char **v;
	size_t n;
	int r = sl_netns_list(&v, &n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		puts(v[i]);
	sl_strv_free(v, n);
	return 0;
}

/**
 * sl_netns_main() - sl-netns's command line, in process (sl_main_fn)
 */
int sl_netns_main(int argc, char **argv, struct sl_kv *res, struct sl_error *err)
{
	static const struct option opts[] = { SL_COMMON_OPTIONS, { 0 } };
	static const char *const verbs[] = { "add", "del", "check", "list", NULL };
	static const char *const no_name[] = { "list", NULL };
	_cleanup_cli_ struct sl_cli cli = { 0 };
	_cleanup_kv_ struct sl_kv out = { 0 };
	const char *verb = NULL, *name = NULL;
	int r;

	sl_cli_begin(&cli, usage, argv, res, err);
	if ((r = sl_cli_options(&cli, argc, argv, ":hV", opts, NULL, NULL, NULL)) != SL_CLI_GO_ON ||
	    (r = sl_cli_verb(&cli, argc, argv, verbs, no_name, &verb, &name)) != SL_CLI_GO_ON)
		return r;
	if (!strcmp(verb, "list"))
		return list(err);
	if (!strcmp(verb, "add"))
		r = sl_netns_add(name, &out, err);
	else if (!strcmp(verb, "del"))
		r = sl_netns_del(name, err);
	else
		r = sl_netns_check(name, err);
	if (r < 0)
		return r;
	if (!strcmp(verb, "check"))
		return r ? 1 : 0;
	return sl_cli_print(&cli, &out);
}
