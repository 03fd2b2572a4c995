/* SPDX-License-Identifier: MIT */
#ifndef SL_DAEMON_H
#define SL_DAEMON_H

#include <stdbool.h>
#include <sys/stat.h>

#include "error.h"
#include "kv.h"

/*
 * The daemons of a VM's namespace (libexec/): started by sl-egress apply,
 * told of a new policy by SIGHUP, stopped by sl-egress flush (and so by
 * sl-up down and sl-gc); each also ends when the namespace it serves goes.
 * Their pid and start time are in the VM's state.
 *
 * - sl-denylog, for every isolated VM: keeps the packets its rules dropped
 *   (NFLOG) in denied.log. SL_DENYLOG_PID, SL_DENYLOG_START.
 * - sl-resolve, for a VM whose allow list holds names: its resolver, which
 *   keeps the names it refused in dns.log. SL_RESOLVER_PID,
 *   SL_RESOLVER_START.
 */
struct sl_daemon {
	const char *prog;      /* in SL_LIBEXEC_DIR */
	const char *what;      /* for messages */
	const char *pid_key;   /* in the VM's state */
	const char *start_key; /* its start time, so a reused pid is not it */
	const char *errlog;    /* its stderr, in the VM's directory */
};

extern const struct sl_daemon sl_resolver, sl_denylog;

int sl_daemon_ensure(const struct sl_daemon *d, const char *name, struct sl_kv *out,
		     struct sl_error *err);
int sl_daemon_stop(const struct sl_daemon *d, const char *name, struct sl_error *err);
int sl_daemon_pid(const struct sl_daemon *d, const struct sl_kv *st);

/* In the daemon: */
int sl_daemon_enter(const char *name, struct stat *ns, struct sl_error *err);
bool sl_daemon_ns_alive(const char *name, const struct stat *ns);
int sl_daemon_signals(void);
int sl_daemon_ready(const struct sl_daemon *d, const char *name, int r, struct sl_error *err);

#endif
