/* SPDX-License-Identifier: MIT */
#ifndef SL_CFG_H
#define SL_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "egress.h"
#include "error.h"
#include "mode.h"

/* A group's userdata: one argument of one agent request, so bounded. */
#define SL_USERDATA_MAX 32768
/* Where its output goes, in the VM's state directory. */
#define SL_USERDATA_LOG "userdata.log"

/* One host group of a Slicer config. */
struct sl_group {
	char name[64];
	unsigned count, vcpu, mem_mb;
	enum sl_net_mode mode;
	char range_s[SL_CIDR_STRLEN]; /* bridge, macvtap: the gateway's subnet */
	struct sl_cidr range;
	/* isolated without network.range: sl_up_ranges() derives one (Slicer's way) */
	bool range_auto;
	/* bridge and macvtap mode (a macvtap group without gateway_s: DHCP) */
	char bridge[16], tap_prefix[16], gateway_s[SL_CIDR_STRLEN];
	char parent[16]; /* macvtap: the LAN interface; "" until sl_up_ranges() */
	char cni_network[128]; /* CNI mode (network_name, no network): the conflist's name */
	char pool_s[2 * SL_IP_STRLEN]; /* network.range, "A-B": where addresses come from; "" all */
	uint32_t gw;
	uint32_t *addresses; /* network.addresses, VM n gets addresses[n-1] */
	size_t naddr;
	struct sl_entry_list allow, drop;
	char rate_out[32], rate_in[32]; /* network.bandwidth, as written; "" none */
	char dns[256];        /* comma-separated */
	char kernel[1024], initrd[1024], disk[1024];
	char *userdata; /* userdata or userdata_file's text: run once in the guest; NULL none */
	bool template;  /* ours: one VM boots cold, the others are restored from its snapshot */
	unsigned spares; /* ours: VMs of the template restored ahead of time (sl-boot spare) */
	/* sl-up launch with --allow/--drop: the group as configured (this is a
	 * copy with the VM's own lists); NULL otherwise */
	const struct sl_group *base;
};

#define SL_SPARES_MAX 64

struct sl_config {
	char path[1024];
	struct sl_group *g;
	size_t n;
};

int sl_config_load(const char *path, struct sl_config *cfg, struct sl_error *err);
void sl_config_free(struct sl_config *cfg);
#define _cleanup_config_ __attribute__((cleanup(sl_config_free)))
const struct sl_group *sl_config_group(const struct sl_config *cfg, const char *name);
int sl_group_tap(const struct sl_group *g, const char *vm, unsigned n, char tap[16],
		 struct sl_error *err);

#endif
