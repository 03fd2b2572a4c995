/* SPDX-License-Identifier: MIT */
#ifndef SL_SHAPE_H
#define SL_SHAPE_H

#include <stdint.h>

#include "error.h"

struct nl_sock;

/*
 * Bandwidth caps of an isolated VM (network.bandwidth, sl-egress
 * --rate-out/--rate-in): a tbf qdisc, through libnl-route, on the VM's own
 * links in its namespace: veth0 for what the VM sends, tap0 for what it
 * receives.
 */

/* The highest rate tbf takes through libnl (bytes a second in an int). */
#define SL_RATE_MAX_BYTES 2000000000ull

int sl_rate_parse(const char *s, uint64_t *bytes_per_s, const char *what, struct sl_error *err);
char *sl_rate_fmt(uint64_t bytes_per_s, char buf[32]);
int sl_shape_set(struct nl_sock *sk, const char *dev, uint64_t bytes_per_s, struct sl_error *err);
int sl_shape_get(struct nl_sock *sk, const char *dev, uint64_t *bytes_per_s);
int sl_tc_redirect(struct nl_sock *sk, const char *from, const char *to, struct sl_error *err);

#endif
