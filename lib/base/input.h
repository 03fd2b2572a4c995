/* SPDX-License-Identifier: MIT */
#ifndef SL_INPUT_H
#define SL_INPUT_H

#include <stdbool.h>

#include "error.h"
#include "kv.h"

/*
 * Where a tool's inputs come from, strongest first: a flag; the --env
 * file; the SL_* environment (only when it describes the same VM); the
 * VM's own state file $SL_RUN_DIR/NAME/vm.env. One call of a tool's main
 * holds its own (struct sl_cli's), so that the next call starts clean.
 */
struct sl_input {
	struct sl_kv flags, file, state;
	bool other_vm; /* the environment's SL_NAME is another VM's: its SL_* are not ours */
};

int sl_input_env_file(struct sl_input *in, const char *path, struct sl_error *err);
int sl_input_flag(struct sl_input *in, const char *key, const char *val);
int sl_input_bind(struct sl_input *in, const char *arg, const char **name, struct sl_error *err);
const char *sl_input_get(const struct sl_input *in, const char *key);
void sl_input_free(struct sl_input *in);

#endif
