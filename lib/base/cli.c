/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#include "cli.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "util.h"

/**
 * sl_cli_begin() - ready a tool's parser for one call of its main
 * @cli: the tool's
 * @usage: its --help
 * @argv: as main's: argv[0] names the tool
 * @out: where the result goes (NULL: stdout)
 * @err: where a failure is said
 *
 * A main may run many times in one process (sl-up calls each VM's steps in
 * process): getopt starts over (optind 0 reinitialises glibc's), and the
 * call's inputs are its own, freed by sl_cli_end() (_cleanup_cli_).
 */
void sl_cli_begin(struct sl_cli *cli, const char *usage, char **argv, struct sl_kv *out,
		  struct sl_error *err)
{
	const char *slash = argv[0] ? strrchr(argv[0], '/') : NULL;

	*cli = (struct sl_cli){ .usage = usage, .done = SL_CLI_GO_ON, .out = out, .err = err };
	cli->prog = slash ? slash + 1 : argv[0] ? argv[0] : "sltools";
	optind = 0;
	opterr = 0;
}

/**
 * sl_cli_end() - free what a call of a tool's main kept (its inputs)
 * @cli: begun by sl_cli_begin(), or zeroed
 */
void sl_cli_end(struct sl_cli *cli)
{
	sl_input_free(&cli->in);
}

/**
 * sl_cli_main() - run a tool's main as the process's: its failure on stderr
 * @fn: the tool's main (see sl_main_fn)
 * @argc: as main's
 * @argv: as main's
 *
 * Return: the exit status
 */
int sl_cli_main(sl_main_fn *fn, int argc, char **argv)
{
	struct sl_error err = { 0 };
	int r;

	sl_log_init(argv[0]);
	r = fn(argc, argv, NULL, &err);
	if (r >= 0)
		return r;
	sl_err("%s", sl_error_msg(&err, r));
	return sl_exit_status(r);
}

/**
 * sl_cli_common() - handle an option every tool takes
 * @cli: parser state; @cli->done is set when the tool should return
 * @opt: getopt_long()'s return
 * @arg: optarg
 * @argv: argv, to name an unknown option
 *
 * The tool's optstring must start with ':' and opterr be 0, so that
 * getopt_long() reports nothing itself.
 *
 * Return: true if the option was one of the common ones
 */
bool sl_cli_common(struct sl_cli *cli, int opt, const char *arg, char **argv)
{
	switch (opt) {
	case OPT_HELP:
		fputs(cli->usage, stdout);
		cli->done = 0;
		return true;
	case OPT_VERSION:
		printf("%s (sltools) %s\n", cli->prog, SL_VERSION);
		cli->done = 0;
		return true;
	case OPT_ENV:
		if (sl_input_env_file(&cli->in, arg, cli->err) < 0)
			cli->done = sl_error_wrap(cli->err, -EINVAL, "--env"); /* bad input, whatever the cause */
		return true;
	case OPT_JSON:
		cli->json = true;
		return true;
	case '?':
		/* opterr is off: one line of our own instead of getopt's two. */
		if (optopt)
			cli->done = sl_cli_usage(cli, "unknown option '-%c'", optopt);
		else
			cli->done = sl_cli_usage(cli, "unknown option '%s'", argv[optind - 1]);
		return true;
	case ':':
		if (optopt && optopt < 0x100)
			cli->done = sl_cli_usage(cli, "option '-%c' needs a value", optopt);
		else
			cli->done = sl_cli_usage(cli, "option '%s' needs a value", argv[optind - 1]);
		return true;
	}
	return false;
}

/**
 * sl_cli_options() - a tool's option loop: the common options, the flags
 * that set inputs, then the tool's own
 * @cli: the tool's; cli->done is the exit status of -h, -V or a bad option
 * @argc: as main's
 * @argv: as main's
 * @shortopts: getopt's, with a leading ':' (a missing argument is said as ours)
 * @opts: the long options, SL_COMMON_OPTIONS first
 * @flags: the options that set an input, ended by one without a key; an
 *	option may set several (sl-tap's --bridge: SL_BRIDGE and SL_MODE)
 * @own: called with each option that is not common (after its flags, if
 *	any), or NULL; returns SL_CLI_GO_ON to go on, else what main returns
 * @ctx: for @own
 *
 * Return: SL_CLI_GO_ON to go on with the words (optind at the first), else
 * what the tool's main returns (0 after --help, -EINVAL after a bad option)
 */
int sl_cli_options(struct sl_cli *cli, int argc, char **argv, const char *shortopts,
		   const struct option *opts, const struct sl_cli_flag *flags,
		   int (*own)(void *ctx, int opt), void *ctx)
{
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (sl_cli_common(cli, opt, optarg, argv)) {
			if (cli->done != SL_CLI_GO_ON)
				return cli->done;
			continue;
		}
		for (const struct sl_cli_flag *f = flags; f && f->key; f++)
			if ((opt == f->opt || (f->short_opt && opt == f->short_opt)) &&
			    (r = sl_input_flag(&cli->in, f->key, f->value ? f->value : optarg)) < 0)
				return sl_error(cli->err, r, "%s", strerror(-r));
		if (own && (r = own(ctx, opt)) != SL_CLI_GO_ON)
			return r;
	}
	return SL_CLI_GO_ON;
}

/**
 * sl_exit_status() - the exit status for a library error (docs/DESIGN.md §3)
 * @err: -errno returned by a library function
 *
 * Bad input, a conflict with something that exists, an unknown VM or a
 * full or overlapping range are the user's to fix: 2. Anything else is a
 * failure of the system: 1.
 */
int sl_exit_status(int err)
{
	switch (-err) {
	case 0:
		return 0;
	case EINVAL:
	case ENAMETOOLONG:
	case ENOSPC:
	case EADDRINUSE:
	case EEXIST:
	case ENXIO:
		return 2;
	default:
		return 1;
	}
}

/**
 * sl_cli_usage() - a usage error: said in the tool's error, with the hint
 *
 * Return: -EINVAL (exit status 2)
 */
int sl_cli_usage(const struct sl_cli *cli, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	/* formatted first: the message may be cli->err's own */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return sl_error(cli->err, -EINVAL, "%s (try '%s --help')", buf, cli->prog);
}

/**
 * sl_cli_print() - a tool's result: into the caller's cli->out, or on stdout
 *
 * Return: 0, or -errno with cli->err set
 */
int sl_cli_print(const struct sl_cli *cli, const struct sl_kv *out)
{
	int r;

	if (cli->out) {
		r = sl_kv_merge(cli->out, out);
		return r < 0 ? sl_error(cli->err, r, "%s", strerror(-r)) : 0;
	}
	if (sl_kv_write(out, stdout, cli->json) < 0 || fflush(stdout) != 0)
		return sl_error(cli->err, -EIO, "cannot write output: %s", strerror(errno));
	return 0;
}

/**
 * sl_cli_get() - an input of this call, or NULL (lib/base/input.h)
 */
const char *sl_cli_get(const struct sl_cli *cli, const char *key)
{
	return sl_input_get(&cli->in, key);
}

/**
 * sl_cli_input() - an input with a default
 */
const char *sl_cli_input(const struct sl_cli *cli, const char *key, const char *dflt)
{
	const char *v = sl_cli_get(cli, key);

	return v ? v : dflt;
}

/**
 * sl_cli_verb() - take "VERB [NAME]" from what getopt_long() left
 * @cli: parser state
 * @argc: argc
 * @argv: argv, from optind on
 * @verbs: NULL-terminated accepted verbs
 * @no_name: NULL-terminated verbs that take no NAME (may be NULL)
 * @verb: result
 * @name: result: the VM name, bound as the tool's input (see input.h)
 *
 * Return: SL_CLI_GO_ON to go on, or -errno with cli->err set
 */
int sl_cli_verb(struct sl_cli *cli, int argc, char **argv, const char *const *verbs,
		const char *const *no_name, const char **verb, const char **name)
{
	bool ok = false;
	int r;

	if (optind >= argc) {
		char list[256] = "";

		for (const char *const *v = verbs; *v; v++) {
			strcat(list, v == verbs ? "" : v[1] ? ", " : " or ");
			strncat(list, *v, sizeof(list) - strlen(list) - 1);
		}
		return sl_cli_usage(cli, "missing command: %s", list);
	}
	*verb = argv[optind++];
	for (const char *const *v = verbs; *v; v++)
		ok |= !strcmp(*v, *verb);
	if (!ok)
		return sl_cli_usage(cli, "unknown command '%s'", *verb);
	for (const char *const *v = no_name; v && *v; v++) {
		if (strcmp(*v, *verb))
			continue;
		if (optind < argc)
			return sl_cli_usage(cli, "%s takes no arguments", *verb);
		*name = NULL;
		return SL_CLI_GO_ON;
	}
	if (argc - optind > 1)
		return sl_cli_usage(cli, "too many arguments: '%s'", argv[optind + 1]);
	r = sl_input_bind(&cli->in, optind < argc ? argv[optind] : NULL, name, cli->err);
	return r < 0 ? r : SL_CLI_GO_ON;
}

/**
 * sl_cli_ip() - an IPv4 address input, required
 * @key: SL_* key
 * @ip: result
 * @err: why, when it fails
 *
 * Return: 0, or -ENXIO (missing: the VM is unknown) / -EINVAL, recorded
 */
int sl_cli_ip(const struct sl_cli *cli, const char *key, uint32_t *ip, struct sl_error *err)
{
	const char *v = sl_cli_get(cli, key);

	if (!v)
		return sl_error(err, -ENXIO,
				"%s unknown: no %s (run sl-ipam alloc first, or give --env FILE)",
				sl_cli_get(cli, "SL_NAME"), key);
	if (sl_ip_parse(v, ip) < 0)
		return sl_error(err, -EINVAL, "bad %s '%s': not an IPv4 address", key, v);
	return 0;
}

/**
 * sl_cli_prefix() - SL_PREFIX, the VM block's prefix (default 30)
 * @err: why, when it fails
 */
int sl_cli_prefix(const struct sl_cli *cli, unsigned *prefix, struct sl_error *err)
{
	const char *v = sl_cli_get(cli, "SL_PREFIX");
	char *end;
	unsigned long p;

	*prefix = 30;
	if (!v)
		return 0;
	p = strtoul(v, &end, 10);
	if (*end || end == v || p < 1 || p > 30)
		return sl_error(err, -EINVAL, "bad SL_PREFIX '%s': want 1 to 30", v);
	*prefix = (unsigned)p;
	return 0;
}

/**
 * sl_cli_mode() - SL_MODE: "isolated" (the default), "bridge", "macvtap", "cni"
 * @mode: result
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_cli_mode(const struct sl_cli *cli, enum sl_net_mode *mode, struct sl_error *err)
{
	const char *v = sl_cli_get(cli, "SL_MODE");

	*mode = SL_NET_ISOLATED;
	if (v && sl_mode_parse(v, mode) < 0)
		return sl_error(err, -EINVAL, "bad SL_MODE '%s': isolated, bridge, macvtap or cni",
				v);
	return 0;
}
