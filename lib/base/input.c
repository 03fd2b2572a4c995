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

/**
 * sl_input_free() - forget a call's inputs
 * @in: a tool main's, or zeroed
 */
void sl_input_free(struct sl_input *in)
{
	sl_kv_free(&in->flags);
	sl_kv_free(&in->file);
	sl_kv_free(&in->state);
	in->other_vm = false;
}

/**
 * sl_input_env_file() - read inputs from a file (--env)
 * @in: the call's inputs
 * @path: KEY=value file, such as a VM's vm.env
 * @err: why, when it fails
 *
 * Return: 0 or -errno with the error recorded
 */
int sl_input_env_file(struct sl_input *in, const char *path, struct sl_error *err)
{
	return sl_kv_load(&in->file, path, err);
}

/**
 * sl_input_flag() - an input given on the command line
 * @in: the call's inputs
 * @key: the SL_* key the flag stands for
 * @val: value
 */
int sl_input_flag(struct sl_input *in, const char *key, const char *val)
{
	return sl_kv_set(&in->flags, key, val);
}

static const char *get_layered(const struct sl_input *in, const char *key, int with_state)
{
	const char *v = sl_kv_get(&in->flags, key);

	if (!v)
		v = sl_kv_get(&in->file, key);
	if (!v && !in->other_vm) {
		v = getenv(key);
		if (v && !*v)
			v = NULL;
	}
	if (!v && with_state)
		v = sl_kv_get(&in->state, key);
	return v;
}

/**
 * sl_input_bind() - settle which VM the tool works on
 * @in: the call's inputs; the VM's state joins them
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
int sl_input_bind(struct sl_input *in, const char *arg, const char **name, struct sl_error *err)
{
	const char *env = getenv("SL_NAME");
	const char *n = arg;
	int r;

	if (!n)
		n = get_layered(in, "SL_NAME", 0);
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
		in->other_vm = true;
	r = sl_kv_set(&in->flags, "SL_NAME", n);
	if (r < 0)
		return r;
	r = sl_state_load(n, &in->state, err);
	if (r < 0)
		return r;
	*name = sl_kv_get(&in->flags, "SL_NAME");
	return 0;
}

/**
 * sl_input_get() - the value of an input, or NULL
 * @in: the call's inputs
 * @key: SL_* key
 */
const char *sl_input_get(const struct sl_input *in, const char *key)
{
	return get_layered(in, key, 1);
}
