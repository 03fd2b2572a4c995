/* SPDX-License-Identifier: MIT */
#ifndef SL_NL_H
#define SL_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "cidr.h"
#include "error.h"

struct nl_sock;

/* What the tools need to know about one link. */
struct sl_link {
	int ifindex;
	int peer_ifindex;   /* IFLA_LINK: a veth's peer, 0 if none */
	bool has_peer_netns; /* the peer lives in another namespace */
	int32_t peer_nsid;  /* that namespace's id here (IFLA_LINK_NETNSID), -1 if none */
	int master;         /* the bridge a port belongs to, 0 if none */
	uint32_t group;     /* its device group (IFLA_GROUP), 0 the default */
	unsigned flags;     /* IFF_* */
	char kind[16];      /* "veth", "tun", "" */
	char alias[256];
	uint8_t mac[6];
};

#define SL_MAC_STRLEN 18
char *sl_mac_fmt(const uint8_t mac[6], char buf[SL_MAC_STRLEN]);
int sl_nl_err(int nlerr);
int sl_nl_open(struct nl_sock **sk);
int sl_nl_open_or_fail(struct nl_sock **sk, struct sl_error *err);
int sl_nl_open_in(int nsfd, int *saved, struct nl_sock **sk, struct sl_error *err);
void sl_nl_closep(struct nl_sock **sk);
#define _cleanup_nl_ __attribute__((cleanup(sl_nl_closep)))

int sl_link_get(struct nl_sock *sk, const char *name, struct sl_link *l);
int sl_nl_nsid(struct nl_sock *sk, int nsfd, int32_t *nsid);
int sl_link_veth_add(struct nl_sock *sk, const char *name, const char *peer,
		     int peer_nsfd, const uint8_t *mac);
int sl_link_bridge_add(struct nl_sock *sk, const char *name, const uint8_t mac[6]);
int sl_link_macvtap_add(struct nl_sock *sk, const char *name, int parent, const uint8_t mac[6]);
int sl_link_set_mac(struct nl_sock *sk, const char *name, const uint8_t mac[6]);
int sl_link_rename(struct nl_sock *sk, const char *name, const char *to);
int sl_link_move(struct nl_sock *sk, const char *name, int nsfd, const char *to);
int sl_link_set_master(struct nl_sock *sk, const char *name, int master);
int sl_link_ports(struct nl_sock *sk, int master);
int sl_link_set(struct nl_sock *sk, const char *name, int up, const char *alias);
int sl_link_set_group(struct nl_sock *sk, const char *name, uint32_t group);
int sl_link_del(struct nl_sock *sk, const char *name);
int sl_link_del_owned(struct nl_sock *sk, const char *name, const char *kind, const char *alias,
		      struct sl_error *err);
int sl_link_list_alias(struct nl_sock *sk, const char *alias, char ***names,
		       size_t *n);

int sl_addr_add(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix);
int sl_addr_has(struct nl_sock *sk, int ifindex, uint32_t ip, unsigned prefix);
int sl_route_add(struct nl_sock *sk, const struct sl_cidr *dst, uint32_t via,
		 int ifindex);
int sl_route_del(struct nl_sock *sk, const struct sl_cidr *dst, int ifindex);
int sl_route_has(struct nl_sock *sk, const struct sl_cidr *dst, uint32_t via,
		 int ifindex);
int sl_neigh_add(struct nl_sock *sk, int ifindex, uint32_t ip, const uint8_t mac[6]);
int sl_neigh_has(struct nl_sock *sk, int ifindex, uint32_t ip, const uint8_t mac[6]);
int sl_route_conflict(struct nl_sock *sk, const struct sl_cidr *range,
		      const char *skip_alias, char *what, size_t len);

#endif
