/* SPDX-License-Identifier: MIT */
#ifndef SL_SPARE_H
#define SL_SPARE_H

#include "error.h"
#include "kv.h"
#include "sweep.h"

/* Spare clones live in a run dir of their own: $SL_RUN_DIR/.spares (a dot: no VM's). */
#define SL_SPARES ".spares"
/* A spare's first identity's name server: resolv.conf written once ahead. */
#define SL_SPARE_DNS "192.0.2.53"

struct sl_boot_cfg;
int sl_spare_add(const struct sl_boot_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_spare_take(const struct sl_boot_cfg *c, const char *accel, struct sl_kv *out,
		  struct sl_error *err);
unsigned sl_spare_stop(const char *from);
int sl_spare_list(const char *from, struct sl_kv *out);
int sl_spares_gc(struct sl_sweep *sw);

#endif
