/* SPDX-License-Identifier: MIT */
#ifndef SL_NFLOG_H
#define SL_NFLOG_H

#include <stdbool.h>
#include <stdio.h>

int sl_egress_log(const char *name, bool json, bool follow, FILE *out);

#endif
