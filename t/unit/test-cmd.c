/* SPDX-License-Identifier: MIT */
/*
 * The tools' mains as library calls (lib/cmd): sl-up calls them many times
 * in one process, so each call starts over (getopt, inputs) and says a usage
 * error in @err, never on stderr. Only calls that fail before the name is
 * bound: binding makes the run dir.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "input.h"
#include "unit.h"

void test_cmd_usage_in_err(void);
void test_cmd_starts_over(void);
void test_input_layers(void);

#define CALL(fn, ...)                                                                              \
	({                                                                                         \
		char *v_[] = { __VA_ARGS__, NULL };                                               \
		fn((int)(sizeof(v_) / sizeof(v_[0])) - 1, v_, &out, &err);                        \
	})

/* a bad option or command: -EINVAL, the message with the tool's own hint, nothing in out */
void test_cmd_usage_in_err(void)
{
	struct sl_kv out = { 0 };
	struct sl_error err = { 0 };

	CHECK(CALL(sl_ipam_main, "sl-ipam", "--bogus", "list") == -EINVAL);
	CHECK_STR(err.msg, "unknown option '--bogus' (try 'sl-ipam --help')");
	CHECK(CALL(sl_veth_main, "/usr/bin/sl-veth", "bogus", "vm-1") == -EINVAL);
	CHECK_STR(err.msg, "unknown command 'bogus' (try 'sl-veth --help')");
	CHECK(CALL(sl_tap_main, "sl-tap", "--gw") == -EINVAL);
	CHECK_STR(err.msg, "option '--gw' needs a value (try 'sl-tap --help')");
	CHECK(CALL(sl_netns_main, "sl-netns") == -EINVAL);
	CHECK(strstr(err.msg, "missing command: add, del, check or list") == err.msg);
	CHECK(CALL(sl_egress_main, "sl-egress", "apply", "vm-1", "--allow", "10.0.0.0/33") ==
	      -EINVAL);
	CHECK(strstr(err.msg, "10.0.0.0/33") != NULL);
	CHECK(CALL(sl_boot_main, "sl-boot", "snapshot", "vm-1") == -EINVAL);
	CHECK(strstr(err.msg, "snapshot takes NAME and DIR") == err.msg);
	CHECK(CALL(sl_cni_run_main, "sl-cni-run", "-n") == -EINVAL);
	CHECK(out.n == 0);
}

/* getopt starts over: a second parse of the same words gives the same answer */
void test_cmd_starts_over(void)
{
	struct sl_kv out = { 0 };
	struct sl_error err = { 0 };

	for (int i = 0; i < 2; i++) {
		CHECK(CALL(sl_egress_main, "sl-egress", "-f", "--bogus", "log", "vm-1") == -EINVAL);
		CHECK_STR(err.msg, "unknown option '--bogus' (try 'sl-egress --help')");
		CHECK(CALL(sl_veth_main, "sl-veth", "--ip", "198.51.100.2", "bogus") == -EINVAL);
		CHECK_STR(err.msg, "unknown command 'bogus' (try 'sl-veth --help')");
	}
}

/* a call's inputs, strongest first: flag, --env file, the environment (unless another VM's) */
void test_input_layers(void)
{
	char path[] = "/tmp/sl-unit-env.XXXXXX";
	struct sl_input in = { 0 };
	struct sl_error err = { 0 };
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK(write(fd, "SL_IP=198.51.100.6\nSL_GW=198.51.100.5\n", 38) == 38);
	close(fd);
	setenv("SL_IP", "198.51.100.10", 1);
	setenv("SL_PREFIX", "30", 1);
	CHECK_STR(sl_input_get(&in, "SL_IP"), "198.51.100.10");
	CHECK(sl_input_env_file(&in, path, &err) == 0);
	CHECK_STR(sl_input_get(&in, "SL_IP"), "198.51.100.6");
	CHECK(sl_input_flag(&in, "SL_IP", "198.51.100.2") == 0);
	CHECK_STR(sl_input_get(&in, "SL_IP"), "198.51.100.2");
	CHECK_STR(sl_input_get(&in, "SL_PREFIX"), "30");
	in.other_vm = true;
	CHECK(sl_input_get(&in, "SL_PREFIX") == NULL);
	CHECK_STR(sl_input_get(&in, "SL_GW"), "198.51.100.5");
	sl_input_free(&in);
	CHECK(sl_input_get(&in, "SL_GW") == NULL);
	CHECK_STR(sl_input_get(&in, "SL_IP"), "198.51.100.10");
	unsetenv("SL_IP");
	unsetenv("SL_PREFIX");
	unlink(path);
}
