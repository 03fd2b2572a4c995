/* SPDX-License-Identifier: MIT */
#ifndef SL_IPSET_H
#define SL_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The kernel's ip sets of the current network namespace, through libipset:
 * hash:ip sets with a timeout per address, one per name entry of a VM's
 * allow list (lib/policy/policy.h), filled by its resolver (lib/net/resolver.c, in sl-egressd).
 */
struct sl_ipset;

int sl_ipset_open(struct sl_ipset **s, struct sl_error *err);
void sl_ipset_closep(struct sl_ipset **s);
#define _cleanup_ipset_ __attribute__((cleanup(sl_ipset_closep)))

int sl_ipset_create(struct sl_ipset *s, const char *set, struct sl_error *err);
int sl_ipset_destroy(struct sl_ipset *s, const char *set, struct sl_error *err);
int sl_ipset_add(struct sl_ipset *s, const char *set, uint32_t addr, unsigned timeout,
		 struct sl_error *err);
int sl_ipset_del(struct sl_ipset *s, const char *set, uint32_t addr, struct sl_error *err);
int sl_ipset_test(struct sl_ipset *s, const char *set, uint32_t addr, struct sl_error *err);
int sl_ipset_names(struct sl_ipset *s, char ***names, size_t *n, struct sl_error *err);

/* What a rule's set match holds: the set's index in the namespace. */
int sl_ipset_index(const char *set, uint16_t *index, struct sl_error *err);
int sl_ipset_name_of(uint16_t index, char *buf, size_t len);

#endif
