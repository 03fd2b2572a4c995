/* SPDX-License-Identifier: MIT */
#ifndef SL_AGENT_H
#define SL_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* A command to run in a VM. */
struct sl_exec_req {
	char **argv;
	char **env; /* K=V */
	size_t nenv;
	const char *cwd, *user;
	bool pty;
};

int sl_agent_connect(const char *name, struct sl_error *err);
int sl_agent_nudge(const char *name);
int sl_agent_identity(const char *name, const void *req, size_t len, struct sl_error *err);
int sl_agent_rename(const char *sock_path, const char *name, struct sl_error *err);
int sl_agent_exec(int sock, const struct sl_exec_req *req, int in, int out, int errfd,
		  struct sl_error *err);
int sl_agent_connect_tcp(int sock, const char *target, int conn, struct sl_error *err);
int sl_agent_console(int sock, int in, int out);
int sl_agent_capture(const char *name, const struct sl_exec_req *req, int in, char **out,
		     size_t *outlen, struct sl_error *err);
int sl_agent_run(const char *name, const struct sl_exec_req *req, int in, int out, int errfd,
		 struct sl_error *err);

/*
 * What reads a command's output as it comes, in a thread of its own
 * (sl_agent_exec_read()): it reads @fd to its end, or stops early, and
 * closes it either way (an early close stops the command with EPIPE).
 */
struct sl_agent_reader {
	void (*read)(void *ctx, int fd);
	void *ctx;
	bool with_stderr; /* the command's stderr into the same pipe; else to errfd */
};
int sl_agent_exec_read(int sock, const struct sl_exec_req *req, int in,
		       const struct sl_agent_reader *rd, int errfd, struct sl_error *err);

#endif
