/* SPDX-License-Identifier: MIT */
#ifndef SL_SUPERVISOR_H
#define SL_SUPERVISOR_H

#include "caplog.h"
#include "error.h"

/*
 * The per-VM supervisor: owns QEMU's end of the agent port and the serial
 * console, keeps console.log, serves clients on agent.sock, reaps QEMU.
 */
struct sl_supervisor {
	const char *name;
	int listen_fd;  /* agent.sock, listening */
	int guest_fd;   /* our end of QEMU's agent chardev */
	int con_in;     /* QEMU's stdin: console input */
	int con_out;    /* QEMU's stdout and stderr: console output */
	struct sl_caplog console;             /* console.log, capped */
	long long agent_timeout_ms;           /* silence before waiting clients are failed */
	int diag_fd;    /* supervisor.log */
	int ready_fd;   /* tells sl-boot start "ok" or why not; -1 after */
	int qemu_pid;
	const char *sock_path;
};

#define SL_CONSOLE_MAX_DEFAULT (4ULL << 20)
#define SL_CONSOLE_MAX_MIN (64ULL << 10)

/* Fixed fd numbers across the exec of sl-supervise; SL_FD_TAP, a macvtap's
 * device, only in macvtap mode (QEMU gets it, as netdev fd=). */
enum { SL_FD_READY = 3, SL_FD_NETNS, SL_FD_GUEST, SL_FD_QEMU_AGENT, SL_FD_TAP };

int sl_supervisor_run(struct sl_supervisor *s);
int sl_supervise(int argc, char **argv);
int sl_console_max(unsigned long long *max, struct sl_error *err);
int sl_agent_timeout(long long *ms, struct sl_error *err);
int sl_listen_unix(const char *path);
int sl_vm_write_pid(const char *name, const char *file, int v);
void sl_vm_remove_files(const char *name);

#endif
