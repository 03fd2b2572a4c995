/* SPDX-License-Identifier: MIT */
#ifndef SL_IPAM_H
#define SL_IPAM_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "error.h"
#include "kv.h"
#include "name.h"

/*
 * One lease: a VM's /30 block of a group's range (isolated), or one
 * address of a bridge's subnet (bridge: gw set, block = address - subnet).
 */
struct sl_lease {
	char name[SL_NAME_MAX + 1];
	char group[64];
	struct sl_cidr range;
	uint32_t block;
	uint32_t gw;
	bool lan; /* macvtap: an address of a LAN the host is on, not a subnet of ours */
};

/* One address of a gateway's subnet (bridge and macvtap mode). */
struct sl_subnet_req {
	const char *gw;      /* the gateway with its prefix, "192.168.137.1/24" */
	const char *address; /* the address wanted (network.addresses), or NULL */
	const char *pool;    /* "A-B", where the lowest free one comes from, or NULL */
	bool lan;            /* macvtap: the LAN's own subnet, routed through the parent */
};

int sl_range_parse(const char *s, struct sl_cidr *range, struct sl_error *err);
int sl_ipam_alloc(const char *range, const char *group, const char *name, struct sl_kv *out,
		  struct sl_error *err);
int sl_ipam_alloc_bridge(const struct sl_subnet_req *q, const char *group, const char *name,
			 struct sl_kv *out, struct sl_error *err);
int sl_pool_parse(const char *s, const struct sl_cidr *subnet, uint32_t *lo, uint32_t *hi,
		  struct sl_error *err);
int sl_ipam_release(const char *name, struct sl_kv *out, struct sl_error *err);
int sl_ipam_leases(struct sl_lease **v, size_t *n, struct sl_error *err);
int sl_ipam_check_range(const struct sl_cidr *range, uint32_t gw, bool reuse, struct sl_error *err);
int sl_lease_kv(const struct sl_lease *l, struct sl_kv *out);

/* An isolated group without a range gets a /22 of 169.254.0.0/16 (Slicer). */
#define SL_IPAM_AUTO_PREFIX 22
#define SL_IPAM_AUTO_BLOCKS (1u << (30 - SL_IPAM_AUTO_PREFIX))
int sl_ipam_derive_range(const char *group, const struct sl_cidr *taken, size_t ntaken,
			 struct sl_cidr *range, struct sl_error *err);

#endif
