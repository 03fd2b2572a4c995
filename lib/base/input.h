/* SPDX-License-Identifier: MIT */
#ifndef SL_INPUT_H
#define SL_INPUT_H

#include "error.h"

/*
 * Where a tool's inputs come from, strongest first: a flag; the --env
 * file; the SL_* environment (only when it describes the same VM); the
 * VM's own state file $SL_RUN_DIR/NAME/vm.env.
 */
int sl_input_env_file(const char *path, struct sl_error *err);
int sl_input_flag(const char *key, const char *val);
int sl_input_bind(const char *arg, const char **name, struct sl_error *err);
const char *sl_input_get(const char *key);
void sl_input_reset(void);

#endif
