/* SPDX-License-Identifier: MIT */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "kv.h"
#include "sweep.h"

#define SL_RUN_DIR_DEFAULT "/run/sl"
#define SL_VM_ENV "vm.env"

const char *sl_run_dir(void);
const char *sl_owner_tag(void);
uint32_t sl_owner_group(void);
void sl_owner_alias(const char *what, const char *name, char *buf, size_t len);
/* 0a:73:6c ("sl", locally administered): what systemd/70-sltools.rules matches. */
#define SL_OWNER_MAC0 0x0a
#define SL_OWNER_MAC1 0x73
#define SL_OWNER_MAC2 0x6c
void sl_owner_mac(const char *name, uint8_t mac[6]);
int sl_alias_owner(const char *alias, const char *what, char *name, size_t len);
int sl_run_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sl_lock(const char *what, struct sl_error *err);
int sl_lock_try(const char *what, struct sl_error *err);
int sl_vm_lock(const char *name, struct sl_error *err);
/* A step of a tool on a VM that a sweep must undo if the tool dies in it. */
#define SL_STEP_BOOT "booting"
#define SL_STEP_SNAPSHOT "snapshotting"
int sl_step_begin(const char *name, const char *step, const struct sl_kv *kv,
		  struct sl_error *err);
void sl_step_end(const char *name, const char *step, int fd);
int sl_step_abandoned(const char *name, const char *step, struct sl_kv *kv);
struct sl_step {
	const char *name, *step;
	int fd;
};
static inline void sl_step_cleanup(struct sl_step *s)
{
	sl_step_end(s->name, s->step, s->fd);
}
#define _cleanup_step_ __attribute__((cleanup(sl_step_cleanup)))
int sl_proc_start(int pid, unsigned long long *start);
int sl_owner_mark(struct sl_kv *kv, int pid);
bool sl_owner_gone(const struct sl_kv *st);
extern const char *const sl_owner_keys[];
int sl_run_dir_ready(struct sl_error *err);
int sl_mkdir_p(const char *path, mode_t mode);
int sl_dir_check(const char *path, const char *what, struct sl_error *err);
int sl_vm_dir_ready(const char *name, char *dir, size_t len, struct sl_error *err);
FILE *sl_run_fopen(const char *path, bool append);
FILE *sl_run_fopen_new(const char *path);
int sl_state_load(const char *name, struct sl_kv *kv, struct sl_error *err);
int sl_state_update(const char *name, const struct sl_kv *set, const char *const *unset,
		    struct sl_error *err);
int sl_state_list(char ***names, size_t *n, struct sl_error *err);
int sl_state_torn(struct sl_sweep *sw);
int sl_state_purge(const char *name, struct sl_error *err);
int sl_self_dir(char *buf, size_t len);
/* Where make install puts the helpers (the Makefile says; this is its default). */
#ifndef SL_LIBEXEC_DIR
#define SL_LIBEXEC_DIR "/usr/local/libexec/sltools"
#endif
int sl_locate(char *buf, size_t len, const char *env, const char *rel, const char *installed,
	      const char *file);
void sl_strv_free(char **v, size_t n);

#endif
