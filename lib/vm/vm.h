/* SPDX-License-Identifier: MIT */
#ifndef SL_VM_H
#define SL_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "kv.h"
#include "mode.h"
#include "sweep.h"

/* Files of a running VM, in $SL_RUN_DIR/NAME. */
#define SL_AGENT_SOCK "agent.sock"
#define SL_CONSOLE_LOG "console.log"
#define SL_CONSOLE_LOG_OLD "console.log.1" /* the log rotated away once full */
#define SL_SUPERVISOR_LOG "supervisor.log"
#define SL_SUPERVISOR_PID "supervisor.pid"
#define SL_QEMU_PID "qemu.pid"
#define SL_QMP_SOCK "qmp.sock" /* QEMU's monitor: snapshot, restore, pause, resume */
#define SL_QEMU_NETDEV "net0"  /* the NIC's backend in QEMU, for set_link */

struct sl_boot_cfg {
	const char *name;
	const char *kernel, *initrd, *disk;
	const char *accel;   /* "auto", "kvm" or "tcg" */
	const char *tap;
	const char *cni_ifname; /* CNI mode: the chain's interface, whose MAC the guest takes */
	enum sl_net_mode mode; /* isolated: the TAP is in the VM's namespace; else in this one */
	const char *dns;     /* comma-separated, may be NULL: no resolver */
	const char *qemu;    /* the QEMU binary */
	uint32_t ip, gw;     /* macvtap mode: ip 0 for DHCP from the LAN */
	unsigned prefix, vcpu, mem_mb, timeout_s;
	const char *from;    /* a restore: the snapshot's dir (lib/vm/snapshot.c) */
	const char *ram_base; /* a fork's overlay: the file its RAM maps, its pages over it */
	bool spare;        /* a spare clone (lib/vm/spare.c): warmed, kept off the wire */
};

int sl_guest_dir(char *buf, size_t len, struct sl_error *err);
int sl_vm_sockets_fit(const char *name, struct sl_error *err);
int sl_boot_start(const struct sl_boot_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_boot_stop(const char *name, unsigned timeout_s, struct sl_error *err);
int sl_boot_status(const char *name, struct sl_kv *out, struct sl_error *err);
bool sl_boot_abandoned(const char *name, struct sl_sweep *sw);
int sl_vm_pids(const char *name, int *sup, int *qemu);

enum { SL_PROC_SUPERVISOR = 1, SL_PROC_QEMU = 2, SL_PROC_EGRESSD = 3 };
int sl_vm_process(int pid, char *name, size_t len);

/* Slicer's default name servers for a guest. */

#endif
