/* SPDX-License-Identifier: MIT */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "input.h"
#include "kv.h"
#include "mode.h"

#ifndef SL_VERSION
#define SL_VERSION "0.1.0"
#endif

/* Options every tool takes; a tool's own start at OPT_TOOL. */
enum sl_common_opt {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_ENV = 0x100,
	OPT_JSON,
	OPT_TOOL = 0x200,
};

#define SL_COMMON_OPTIONS                                                                          \
	{ "help", no_argument, NULL, OPT_HELP }, { "version", no_argument, NULL, OPT_VERSION },    \
	    { "env", required_argument, NULL, OPT_ENV },                                           \
	{                                                                                          \
		"json", no_argument, NULL, OPT_JSON                                                \
	}

#define SL_COMMON_HELP                                                                             \
	"  -h, --help        show this help and exit\n"                                            \
	"  -V, --version     show the version and exit\n"                                          \
	"      --env FILE    read SL_* inputs from FILE (e.g. a vm.env)\n"                         \
	"      --json        print the result as one JSON object\n"

/*
 * What a step of a tool's main returns when it has no answer yet: not an
 * exit status (0 and up) nor a failure (-errno).
 */
#define SL_CLI_GO_ON INT_MIN

/*
 * A tool's main as a library function (iproute2's do_*, busybox's applets):
 * sl-up calls it in process on the argv --print-script prints. It takes
 * argv as main does; the result goes into @out (NULL: printed on stdout, as
 * the tool prints it). Return: the exit status (0, or 1 where a check found
 * a difference), or -errno with @err saying why (usage errors too: -EINVAL);
 * the tool exits with sl_exit_status() of it.
 */
typedef int sl_main_fn(int argc, char **argv, struct sl_kv *out, struct sl_error *err);

struct sl_cli {
	const char *usage;
	const char *prog; /* the tool's name, as "try 'PROG --help'" says it */
	bool json;
	int done;	      /* SL_CLI_GO_ON, else what the tool's main returns */
	struct sl_kv *out;    /* where the result goes; NULL: stdout */
	struct sl_error *err; /* where a failure is said */
	struct sl_input in;   /* this call's inputs: flags, --env file, state */
};

void sl_cli_begin(struct sl_cli *cli, const char *usage, char **argv, struct sl_kv *out,
		  struct sl_error *err);
void sl_cli_end(struct sl_cli *cli);
#define _cleanup_cli_ __attribute__((cleanup(sl_cli_end)))
int sl_cli_main(sl_main_fn *fn, int argc, char **argv);

bool sl_cli_common(struct sl_cli *cli, int opt, const char *arg, char **argv);

/* An option that sets one of the tool's inputs (lib/base/input.h), as --ip sets SL_IP. */
struct sl_cli_flag {
	int opt;	   /* the long option's value */
	int short_opt;	   /* its one-letter form, or 0 */
	const char *key;   /* the input it sets */
	const char *value; /* what it sets it to; NULL: the option's argument */
};
int sl_cli_options(struct sl_cli *cli, int argc, char **argv, const char *shortopts,
		   const struct option *opts, const struct sl_cli_flag *flags,
		   int (*own)(void *ctx, int opt), void *ctx);
int sl_exit_status(int err);
int sl_cli_usage(const struct sl_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sl_cli_print(const struct sl_cli *cli, const struct sl_kv *out);
const char *sl_cli_get(const struct sl_cli *cli, const char *key);
const char *sl_cli_input(const struct sl_cli *cli, const char *key, const char *dflt);

int sl_cli_verb(struct sl_cli *cli, int argc, char **argv, const char *const *verbs,
		const char *const *no_name, const char **verb, const char **name);
int sl_cli_ip(const struct sl_cli *cli, const char *key, uint32_t *ip, struct sl_error *err);
int sl_cli_prefix(const struct sl_cli *cli, unsigned *prefix, struct sl_error *err);
int sl_cli_mode(const struct sl_cli *cli, enum sl_net_mode *mode, struct sl_error *err);

#endif
