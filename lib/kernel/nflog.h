/* SPDX-License-Identifier: MIT */
#ifndef SL_NFLOG_H
#define SL_NFLOG_H

#include "error.h"
#include "policy.h"

/*
 * The packets our logged drops send to an NFLOG group (eg_drop_logged() in
 * lib/net/egress-rules.c) of the current network namespace: sl-egressd keeps a VM's,
 * sl-egress log -f shows an sl-cni attachment's as they come.
 */
struct sl_nflog;

/* One packet: its headers as a policy reads them, the rule's prefix, the
 * interface it came in on (0: unknown). */
typedef void (*sl_nflog_cb)(const struct sl_packet *pkt, const char *prefix, unsigned indev,
			    void *arg);

int sl_nflog_open(struct sl_nflog **l, int group, sl_nflog_cb cb, void *arg,
		  struct sl_error *err);
int sl_nflog_fd(const struct sl_nflog *l);
int sl_nflog_read(struct sl_nflog *l);
void sl_nflog_close(struct sl_nflog *l);

#endif
