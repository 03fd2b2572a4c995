/* SPDX-License-Identifier: MIT */
#ifndef SL_SPAWN_H
#define SL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void sl_child_clean(const int *keep, size_t nkeep);

/* What a child's stdin, stdout or stderr is, when not an fd of ours. */
enum {
	SL_SPAWN_INHERIT = -1, /* ours, as it is */
	SL_SPAWN_NULL = -2,    /* /dev/null */
	SL_SPAWN_CAPTURE = -3, /* a pipe to us (one stream at most) */
};

/* A program to start: what, where its standard fds go, what it finds set. */
struct sl_spawn {
	const char *path;	/* exec'd (looked up in PATH with @search) */
	char *const *argv;	/* argv[0] included */
	bool search;
	int fd[3];		/* the child's 0, 1, 2: an fd of ours, or SL_SPAWN_* */
	const char *const *env; /* "KEY=VALUE" set, "KEY" unset; NULL-ended; or NULL */
	bool die_with_parent;	/* SIGKILL when the process (thread) that started it dies */
};

/* What the captured stream said: at most @max bytes, its head or its tail. */
struct sl_spawn_out {
	size_t max;
	bool keep_tail; /* else the head is kept and the rest read and dropped */
	char *buf;	/* NUL-terminated, malloc'ed: the caller frees it */
	size_t len;
};

pid_t sl_spawn_start(const struct sl_spawn *s, int *capture);
int sl_spawn_wait(pid_t pid);
int sl_spawn_run(const struct sl_spawn *s, struct sl_spawn_out *o, int timeout_ms);

#endif
