/* SPDX-License-Identifier: MIT */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
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

/* What a step of a tool's main returns when there is no exit status yet. */
#define SL_CLI_GO_ON (-1)

struct sl_cli {
	const char *usage;
	bool json;
	int done; /* SL_CLI_GO_ON, else the exit status */
};

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
int sl_cli_fail(const struct sl_error *err, int r);
int sl_cli_usage(const struct sl_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sl_cli_print(const struct sl_cli *cli, const struct sl_kv *out);
const char *sl_cli_input(const char *key, const char *dflt);

int sl_cli_verb(struct sl_cli *cli, int argc, char **argv, const char *const *verbs,
		const char *const *no_name, const char **verb, const char **name);
int sl_cli_ip(const char *key, uint32_t *ip, struct sl_error *err);
int sl_cli_prefix(unsigned *prefix, struct sl_error *err);
int sl_cli_mode(enum sl_net_mode *mode, struct sl_error *err);

#endif
