/* SPDX-License-Identifier: MIT */
#ifndef SL_CNI_H
#define SL_CNI_H

#include "error.h"
#include "kv.h"

/* Where conflists and plugins are, unless SL_CNI_CONF_DIR / SL_CNI_PATH say. */
#define SL_CNI_CONF_DIR_DEFAULT "/etc/cni/net.d"
#define SL_CNI_PATH_DEFAULT "/opt/cni/bin:/usr/lib/cni"
/* The interface the chain makes in the VM's namespace. */
#define SL_CNI_IFNAME_DEFAULT "eth0"
/* The ADD result, kept for DEL and CHECK, in the VM's state directory. */
#define SL_CNI_RESULT "cni-result.json"

/* One VM's attachment to a CNI network: its namespace, /run/netns/NAME. */
struct sl_cni_cfg {
	const char *name;    /* VM = namespace */
	const char *network; /* the conflist's "name" */
	const char *ifname;  /* CNI_IFNAME */
};

/* One plugin run (sl_cni_exec()): the CNI_* values it gets. */
struct sl_cni_exec {
	const char *type;      /* the plugin's name, found in @path */
	const char *cmd;       /* CNI_COMMAND */
	const char *container; /* CNI_CONTAINERID */
	const char *netns;     /* CNI_NETNS */
	const char *ifname;    /* CNI_IFNAME */
	const char *path;      /* CNI_PATH: where plugins are, ':'-separated */
	const char *args;      /* CNI_ARGS, or NULL: none */
};

struct json_object;
int sl_cni_exec(const struct sl_cni_exec *x, const char *conf, struct json_object **result,
		struct sl_error *err);
int sl_cni_network_ok(const char *network, struct sl_error *err);
int sl_cni_add(const struct sl_cni_cfg *c, struct sl_kv *out, struct sl_error *err);
int sl_cni_del(const char *name, struct sl_error *err);
int sl_cni_check(const char *name, struct sl_error *err);
int sl_cni_result_parse(const char *json, struct sl_kv *out, struct sl_error *err);

#endif
