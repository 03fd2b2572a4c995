/* SPDX-License-Identifier: MIT */
#ifndef SL_CMD_H
#define SL_CMD_H

#include "cli.h"

/*
 * Each tool's command line as a library function (sl_main_fn in cli.h):
 * bin/sl-X.c runs it as the process's main; sl-up runs it in process on
 * the argv its --print-script prints, so the two are one code.
 */
sl_main_fn sl_ipam_main;
sl_main_fn sl_netns_main;
sl_main_fn sl_veth_main;
sl_main_fn sl_tap_main;
sl_main_fn sl_cni_run_main;
sl_main_fn sl_egress_main;
sl_main_fn sl_boot_main;

#endif
