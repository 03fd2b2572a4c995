/* SPDX-License-Identifier: MIT */
#ifndef SL_RESOLVER_H
#define SL_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "util.h"

/*
 * The resolver of one VM whose allow list holds names (or did): it answers
 * the guest at its gateway, port 53, UDP and TCP, asks the upstreams for
 * names an allow entry covers, puts the answers' addresses into the
 * entries' ip sets before the guest sees them, and refuses other names.
 * It owns sockets and an ip set handle made in the VM's namespace; whoever
 * drives it (sl-egressd, for every VM of a run dir) waits on its one fd (an
 * epoll set of its sockets) and calls back, a budget at a time, so that one
 * VM's flood waits its turn.
 */
struct sl_resolver;

/* What it has done since it was opened, for sl-egress show and check. */
struct sl_resolver_stats {
	unsigned long queries, refused, answered, failed;
	unsigned long cached; /* of those answered, from its cache */
};

int sl_resolver_open(struct sl_resolver **r, const char *name, struct sl_error *err);
int sl_resolver_reload(struct sl_resolver *r, struct sl_error *err);
int sl_resolver_fd(const struct sl_resolver *r);
void sl_resolver_io(struct sl_resolver *r, unsigned budget);
void sl_resolver_tick(struct sl_resolver *r, long long now_ms);
void sl_resolver_stats(const struct sl_resolver *r, struct sl_resolver_stats *s);
const char *sl_resolver_upstream(const struct sl_resolver *r);
void sl_resolver_close(struct sl_resolver *r);

#endif
