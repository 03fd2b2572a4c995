/* SPDX-License-Identifier: MIT */
#ifndef SL_CNIPLUG_H
#define SL_CNIPLUG_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/*
 * sl-cni, the CNI plugin (sl-cni(8)): isolated mode for a runtime's
 * sandbox. The spec versions it speaks, newest last.
 */
#define SL_CNIPLUG_VERSIONS { "1.0.0", "1.1.0" }

/* The CNI spec's error codes that sl-cni answers with. */
enum sl_cni_code {
	SL_CNI_OK = 0,
	SL_CNI_E_VERSION = 1,   /* incompatible CNI version */
	SL_CNI_E_NO_SANDBOX = 3, /* unknown container, or it does not exist */
	SL_CNI_E_ENV = 4,       /* invalid necessary environment variables */
	SL_CNI_E_IO = 5,        /* I/O failure */
	SL_CNI_E_DECODE = 6,    /* failed to decode content */
	SL_CNI_E_CONFIG = 7,    /* invalid network config */
	SL_CNI_E_AGAIN = 11,    /* try again later */
	SL_CNI_E_UNAVAILABLE = 50, /* STATUS: the plugin cannot serve ADDs */
};

/* What the runtime gives a plugin in its environment (CNI_*). */
struct sl_cniplug_env {
	const char *command;   /* ADD DEL CHECK VERSION STATUS GC */
	const char *container; /* CNI_CONTAINERID */
	const char *netns;     /* CNI_NETNS: a path */
	const char *ifname;    /* CNI_IFNAME */
	const char *path;      /* CNI_PATH: where a delegated IPAM plugin is */
};

int sl_cniplug_run(const struct sl_cniplug_env *e, const char *conf, FILE *out,
		   struct sl_error *err);
int sl_cniplug_conf_parse(const char *conf, bool add, size_t *nallow, size_t *ndrop,
			  struct sl_error *err);
int sl_cniplug_attachment_name(const char *network, const char *container, const char *ifname,
			       char buf[16]);
bool sl_cniplug_is_attachment(const char *name);
bool sl_cniplug_dead(const char *name);
int sl_cniplug_remove(const char *name, struct sl_error *err);

#endif
