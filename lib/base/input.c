/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "input.h"
#include "kv.h"
#include "log.h"
#include "name.h"
#include "state.h"

static struct sl_kv flags, file, state;
static int use_environ = 1;

void sl_input_reset(void)
{
	sl_kv_free(&flags);
	sl_kv_free(&file);
	sl_kv_free(&state);
	use_environ = 1;
}

/**
 * sl_input_env_file() - read inputs from a file (--env)
 * @path: KEY=value file, such as a VM's vm.env
 * @err: why, when it fails
 *
 * Return: 0 or -errno with the error recorded
 */
int sl_input_env_file(const char *path, struct sl_error *err)
{
	return sl_kv_load(&file, path, err);
}

/**
 * sl_input_flag() - an input given on the command line
 * @key: the SL_* key the flag stands for
 * @val: value
 */
int sl_input_flag(const char *key, const char *val)
{
	return sl_kv_set(&flags, key, val);
}

static const char *get_layered(const char *key, int with_state)
{
	const char *v = sl_kv_get(&flags, key);

	if (!v)
		v = sl_kv_get(&file, key);
	if (!v && use_environ) {
		v = getenv(key);
		if (v && !*v)
			v = NULL;
	}
	if (!v && with_state)
		v = sl_kv_get(&state, key);
	return v;
}

/**
 * sl_input_bind() - settle which VM the tool works on
 * @arg: NAME from the command line, or NULL
 * @name: result
 * @err: why, when it fails
 *
 * An exported SL_NAME left over from an earlier `eval` must not lend its
 * addresses to another VM, so the environment is consulted only when its
 * SL_NAME is absent or equals the chosen name.
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_input_bind(const char *arg, const char **name, struct sl_error *err)
{
	const char *env = getenv("SL_NAME");
	const char *n = arg;
	int r;

	if (!n)
		n = get_layered("SL_NAME", 0);
	if (!n)
		return sl_error(err, -EINVAL, "missing VM NAME (argument, --env FILE or SL_NAME)");
	r = sl_name_check(n, err);
	if (r < 0)
		return r;
	/* Before anything is made for the VM: a run dir that is not ours is refused. */
	r = sl_run_dir_ready(err);
	if (r < 0)
		return r;
	if (env && *env && strcmp(env, n))
		use_environ = 0;
	r = sl_kv_set(&flags, "SL_NAME", n);
	if (r < 0)
		return r;
	r = sl_state_load(n, &state, err);
	if (r < 0)
		return r;
	*name = sl_kv_get(&flags, "SL_NAME");
	return 0;
}

/**
 * sl_input_get() - the value of an input, or NULL
 * @key: SL_* key
 */
const char *sl_input_get(const char *key)
{
	return get_layered(key, 1);
}
