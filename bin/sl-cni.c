/* SPDX-License-Identifier: MIT */
/*
 * sl-cni: a CNI plugin (CNI spec 1.0.0 and 1.1.0) that gives a runtime's
 * sandbox isolated mode: its own /30, an egress policy on the host, nothing
 * new in. The runtime runs it with CNI_* in the environment and the network
 * config on stdin; the result, or a CNI error, goes to stdout.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni-plugin.h"
#include "error.h"
#include "log.h"
#include "util.h"

/* A config is small; more than this on stdin is not one. */
#define STDIN_MAX (1 << 20)

static const char usage[] =
    "Usage: CNI_COMMAND=CMD CNI_CONTAINERID=ID CNI_NETNS=PATH CNI_IFNAME=IF sl-cni < CONFIG\n"
    "       sl-cni --help | --version\n"
    "A CNI plugin: isolated mode for a sandbox. CMD is ADD, DEL, CHECK, VERSION,\n"
    "STATUS or GC (CNI spec 1.0.0 and 1.1.0). CONFIG is the network config, with\n"
    "\"range\" (or \"ipam\"), \"allow\", \"drop\" and \"dns\"; see sl-cni(8).\n\n"
    "ADD prints the CNI result; a failure prints a CNI error (code, msg).\n"
    "Exit status: 0 ok, 1 failure (the CNI error on stdout), 2 usage.\n";

/* Read the config: at most STDIN_MAX bytes; NULL when there is more. */
static char *read_stdin(void)
{
	size_t have = 0;
	char *buf = malloc(STDIN_MAX + 1);

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n = read(0, buf + have, STDIN_MAX + 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have > STDIN_MAX) {
			free(buf);
			return NULL;
		}
	}
	buf[have] = '\0';
	return buf;
}

/* The spec's error object, on stdout, where the runtime reads it. */
static int cni_error(const char *version, int code, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cniVersion",
			       json_object_new_string(version ? version : "1.1.0"));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "msg", json_object_new_string(msg));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	fflush(stdout);
	return 1;
}

/* A person's -h or -V (a runtime passes no arguments): an exit status, or -1. */
static int person_args(int argc, char **argv)
{
	if (argc <= 1)
		return -1;
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("sl-cni %s (CNI spec 1.0.0, 1.1.0)\n", SL_VERSION);
		return 0;
	}
	fprintf(stderr, "sl-cni: unknown argument '%s'\n%s", argv[1], usage);
	return 2;
}

int main(int argc, char **argv)
{
	struct sl_error why = { 0 };
	struct sl_cniplug_env e = {
		.command = getenv("CNI_COMMAND"),
		.container = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"),
		.ifname = getenv("CNI_IFNAME"),
		.path = getenv("CNI_PATH"),
	};
	_cleanup_free_ char *conf = NULL;
	struct json_object *o, *v;
	const char *version = NULL;
	int code;

	sl_log_init(argv[0]);
	if ((code = person_args(argc, argv)) >= 0)
		return code;
	if (!e.command) {
		/* what the reference plugins do when a person runs one */
		fprintf(stderr, "sl-cni: a CNI plugin, run by a container runtime; CNI_COMMAND "
				"is not set (sl-cni --help)\n");
		return 2;
	}
	conf = read_stdin();
	if (!conf)
		return cni_error(NULL, SL_CNI_E_DECODE,
				 "network config on stdin over 1 MiB, or "
				 "out of memory");
	o = json_tokener_parse(conf);
	if (o && json_object_object_get_ex(o, "cniVersion", &v) &&
	    json_object_is_type(v, json_type_string))
		version = strdupa(json_object_get_string(v));
	json_object_put(o);
	code = sl_cniplug_run(&e, conf, stdout, &why);
	if (code == 0)
		return 0;
	return cni_error(version, code, why.msg[0] ? why.msg : "failed");
}
