/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "kv.h"
#include "state.h"
#include "unit.h"

void test_error_make(void);
void test_error_wrap(void);
void test_error_long_context(void);
void test_error_clear(void);

/* The message is built where the failure was; the return is -errno. */
void test_error_make(void)
{
	struct sl_error err = { 0 };

	CHECK(sl_error(&err, -EEXIST, "veth %s: %s", "agents-1", "taken") == -EEXIST);
	CHECK(err.code == EEXIST);
	CHECK_STR(err.msg, "veth agents-1: taken");
	/* a positive code is the same errno; no code is still a failure */
	CHECK(sl_error(&err, ENXIO, "x") == -ENXIO);
	CHECK(sl_error(&err, 0, "y") == -EIO && err.code == EIO);
	/* nobody listening: only the return */
	CHECK(sl_error(NULL, -EINVAL, "ignored") == -EINVAL);
	CHECK_STR(sl_error_msg(&err, -EIO), "y");
}

/* Context goes in front on the way up; a bare errno gets its strerror(). */
void test_error_wrap(void)
{
	struct sl_error err = { 0 };

	CHECK(sl_error_wrap(&err, -ENOENT, "sl-veth add %s", "agents-2") == -ENOENT);
	CHECK_STR(err.msg, "sl-veth add agents-2: No such file or directory");
	sl_error(&err, -EEXIST, "RTM_NEWLINK agents-2: File exists");
	sl_error_wrap(&err, -EEXIST, "sl-veth add");
	sl_error_wrap(&err, -EEXIST, "agents-2");
	CHECK_STR(err.msg, "agents-2: sl-veth add: RTM_NEWLINK agents-2: File exists");
	CHECK(err.code == EEXIST);
	CHECK(sl_error_wrap(NULL, -EPERM, "nobody") == -EPERM);
	/* nothing recorded: the errno speaks */
	CHECK_STR(sl_error_msg(NULL, -ENOMEM), strerror(ENOMEM));
	memset(&err, 0, sizeof(err));
	CHECK_STR(sl_error_msg(&err, -EACCES), strerror(EACCES));
}

/* A message never overruns its buffer, whatever the context adds. */
void test_error_long_context(void)
{
	struct sl_error err = { 0 };
	char big[3000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sl_error(&err, -E2BIG, "%s", big);
	CHECK(strlen(err.msg) == sizeof(err.msg) - 1);
	sl_error_wrap(&err, -E2BIG, "%s", big);
	CHECK(strlen(err.msg) == sizeof(err.msg) - 1);
	CHECK(err.msg[0] == 'a');
}

/*
 * A failure the caller lived with is forgotten: the next one, a bare errno,
 * speaks for itself. And a listing that skips what is no VM's (a directory
 * whose name no VM may have) records nothing.
 */
void test_error_clear(void)
{
	char dir[] = "/tmp/sl-unit-error.XXXXXX", path[128];
	struct sl_error err = { 0 };
	struct sl_kv set = { 0 };
	char **names = NULL;
	size_t n = 0;

	sl_error(&err, -EINVAL, "bad name 'x y'");
	sl_error_clear(&err);
	CHECK(err.code == 0);
	CHECK_STR(sl_error_msg(&err, -ENOENT), strerror(ENOENT));
	sl_error_wrap(&err, -ENOENT, "vm.env");
	CHECK_STR(err.msg, "vm.env: No such file or directory");
	sl_error_clear(NULL);

	CHECK(mkdtemp(dir) != NULL);
	setenv("SL_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/not a vm!", dir);
	CHECK(mkdir(path, 0700) == 0);
	sl_error_clear(&err);
	CHECK(sl_kv_set(&set, "SL_X", "1") == 0);
	CHECK(sl_state_update("ok-1", &set, NULL, &err) == 0);
	CHECK(sl_state_list(&names, &n, &err) == 0);
	CHECK(n == 1 && names && !strcmp(names[0], "ok-1"));
	CHECK(err.code == 0);
	sl_strv_free(names, n);
	sl_kv_free(&set);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
	unsetenv("SL_RUN_DIR");
}
