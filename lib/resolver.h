/* SPDX-License-Identifier: MIT */
#ifndef SL_RESOLVER_H
#define SL_RESOLVER_H

#include "kv.h"

/*
 * The resolver of a VM whose allow list holds names (libexec/sl-resolve.c):
 * started by sl-egress apply, told of a new list by SIGHUP, stopped by
 * sl-egress flush (and so by sl-up down and sl-gc). Its pid and start time
 * are in the VM's state: SL_RESOLVER_PID, SL_RESOLVER_START.
 */

/* Names it refused, one line each, in the VM's directory; rotated once. */
#define SL_DNS_LOG "dns.log"
#define SL_DNS_LOG_MAX (1024L * 1024)
/* Its own stderr, in the VM's directory. */
#define SL_RESOLVER_LOG "resolver.log"

int sl_resolver_ensure(const char *name, struct sl_kv *out);
int sl_resolver_stop(const char *name);
int sl_resolver_pid(const struct sl_kv *st);

#endif
