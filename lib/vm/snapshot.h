/* SPDX-License-Identifier: MIT */
#ifndef SL_SNAPSHOT_H
#define SL_SNAPSHOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "kv.h"
#include "sweep.h"

/* A snapshot directory (sl-boot snapshot): what a restore needs. */
#define SL_SNAP_MANIFEST "snapshot.env" /* what it was made of, and hashes */
#define SL_SNAP_STATE "state"           /* QEMU's device state, guest RAM left out */
#define SL_SNAP_MEMORY "memory"         /* guest RAM, a sparse file */
/* a fork's (--quick) of a restored VM instead: the pages its guest wrote over its RAM's file */
#define SL_SNAP_WRITTEN "written"         /* at their offsets, a sparse file */
#define SL_SNAP_WRITTEN_MAP "written.map" /* which pages: a bit each, the lowest first */
/* sl-up's kept templates: $SL_RUN_DIR/.templates/GROUP/KEY (a dot: no VM's) */
#define SL_TEMPLATES ".templates"
/* sl-up fork's snapshots, one per fork while it starts: $SL_RUN_DIR/.forks/NAME */
#define SL_FORKS ".forks"

struct sl_boot_cfg;

/* One mapping of a restored VM's RAM file in its QEMU (/proc/PID/maps). */
struct sl_ram_vma {
	unsigned long start, end;
	off_t off; /* where in the file */
};
bool sl_ram_maps_line(const char *line, const char *path, struct sl_ram_vma *v);

enum { SL_SNAP_STOP = 1, SL_SNAP_QUICK = 2 };
int sl_snapshot_make(const char *name, const char *dir, unsigned flags, struct sl_kv *out,
		     struct sl_error *err);
void sl_snapshot_remove(const char *dir);
bool sl_snapshot_abandoned(const char *name, struct sl_sweep *sw);
int sl_snapshot_prepare(struct sl_boot_cfg *c, struct sl_kv *manifest, struct sl_error *err);
int sl_snapshot_incoming(const struct sl_boot_cfg *c, struct sl_error *err);
int sl_guest_identity_set(const struct sl_boot_cfg *c, const char *mac, struct sl_error *err);
int sl_snapshot_key(const char *kernel, const char *initrd, const char *qemu, unsigned vcpu,
		    unsigned mem_mb, const char *net, char key[17], struct sl_error *err);
int sl_qemu_path(const char *qemu, char *buf, size_t len);
struct stat;
void sl_file_id(const struct stat *st, char *buf, size_t len);
int sl_templates_gc(struct sl_sweep *sw);
int sl_template_store_gc(struct sl_sweep *sw);
int sl_forks_gc(struct sl_sweep *sw);
int sl_vm_pause(const char *name, bool pause, struct sl_error *err);
int sl_snapshot_connect(const char *name, struct sl_error *err);
int sl_guest_dhcp(const struct sl_boot_cfg *c, struct sl_error *err);

#endif
