/* SPDX-License-Identifier: MIT */
#ifndef SL_NETNS_H
#define SL_NETNS_H

#include <stddef.h>

#include "error.h"
#include "kv.h"
#include "nsident.h"

/* Where ip-netns(8) keeps its named namespaces; ours go there too. */
#define SL_NETNS_RUN_DIR "/run/netns"

int sl_netns_path(const char *name, char *buf, size_t len);
int sl_netns_exists(const char *name);
int sl_netns_open(const char *name);
int sl_netns_create(const char *name, int (*setup)(void *, struct sl_error *), void *arg,
		    struct sl_error *err);
int sl_netns_remove(const char *name, struct sl_error *err);
int sl_netns_remove_stale(const char *name);

/* A VM's namespace (sl-netns). */
int sl_owned_netns(const char *name);
int sl_vm_netns_open(const char *name, struct sl_error *err);
int sl_netns_add(const char *name, struct sl_kv *out, struct sl_error *err);
int sl_netns_del(const char *name, struct sl_error *err);
int sl_netns_check(const char *name, struct sl_error *err);
int sl_netns_list(char ***names, size_t *n, struct sl_error *err);

int sl_sysctl_write(const char *key, const char *val, struct sl_error *err);
int sl_sysctl_read(const char *key, char *buf, size_t len);
int sl_if_no_ipv6(const char *ifname, struct sl_error *err);


#endif
