/* SPDX-License-Identifier: MIT */
#ifndef SL_EGRESSD_H
#define SL_EGRESSD_H

#include <stdbool.h>

#include "error.h"

/*
 * sl-egressd (libexec/): one daemon per run dir that serves every isolated
 * VM of it: it keeps each VM's denials (the NFLOG group of the VM's
 * namespace, into its denied.log, with a count of what the kernel's rate
 * limit kept back) and runs the resolver of each VM whose allow list holds
 * names (lib/net/resolver.h). A VM is one message on its control socket, not a
 * process: sl-egress apply adds it (or tells it of a new policy), flush
 * takes it out; it goes by itself when the VM's namespace does. The daemon
 * is started by the first apply that needs it (and again, said so, by the
 * next one after it died: it then takes back every VM of the run dir), and
 * ends when it serves no VM.
 *
 * In the run dir: egressd.sock (the control socket), egressd.pid (pid and
 * start time), egressd.log (its stderr).
 */
#define SL_EGRESSD_PROG "sl-egressd"
#define SL_EGRESSD_SOCK "egressd.sock"
#define SL_EGRESSD_PID "egressd.pid"
#define SL_EGRESSD_LOG "egressd.log"
#define SL_EGRESSD_LOCK "egressd"

/* What the daemon says of one VM it serves. */
struct sl_egressd_vm {
	int pid;                     /* the daemon */
	unsigned slot;               /* the VM's place in it */
	unsigned long logged;        /* denials kept since the last apply */
	unsigned long suppressed;    /* the kernel dropped without a log line, counted */
	bool resolver;
	unsigned long queries, refused, cached; /* cached: of the answers, from its cache */
	char upstream[256];
};

int sl_egressd_pid(void);
int sl_egressd_serve(const char *name, struct sl_error *err);
int sl_egressd_forget(const char *name, struct sl_error *err);
int sl_egressd_status(const char *name, struct sl_egressd_vm *v, struct sl_error *err);
int sl_egressd_request(const char *line, char *reply, size_t len, struct sl_error *err);

#endif
