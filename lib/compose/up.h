/* SPDX-License-Identifier: MIT */
#ifndef SL_UP_H
#define SL_UP_H

#include <stdbool.h>
#include <stdio.h>

#include "cfg.h"
#include "error.h"

struct sl_up_opts {
	bool no_boot;
	bool print_only;  /* --print-script: write the commands, run nothing */
	FILE *script;     /* where --print-script writes */
	unsigned jobs;    /* VMs brought up or down at once; 0: the defaults */
	bool foreground;  /* sl-up stays as the VMs' owner (SL_OWNER_PID) to take them down */
	/* launch: lists that replace the group's for the new VM; NULL: inherit */
	const struct sl_entry_list *allow, *drop;
};

int sl_up_config(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err);
int sl_up_down(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err);
int sl_up_spares(const struct sl_config *cfg, const char *group, const struct sl_up_opts *o,
		 struct sl_error *err);
void sl_up_spares_refill(const struct sl_config *cfg, const struct sl_up_opts *o);
int sl_up_launch(const struct sl_config *cfg, const char *group, const struct sl_up_opts *o,
		 struct sl_error *err);
int sl_up_fork(const struct sl_config *cfg, const char *vm, const struct sl_up_opts *o,
	       struct sl_error *err);
int sl_up_reap(const struct sl_config *cfg, const struct sl_up_opts *o, struct sl_error *err);
int sl_up_ranges(struct sl_config *cfg, struct sl_error *err);
int sl_up_check_host(const struct sl_config *cfg, struct sl_error *err);
void sl_up_host_warnings(void);

#endif
