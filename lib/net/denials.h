/* SPDX-License-Identifier: MIT */
#ifndef SL_DENIALS_H
#define SL_DENIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "name.h"

/*
 * The denial logs in a VM's directory, one line a denial:
 *	TIME VM PROTO DEST[:PORT] denied by ENTRY
 * (TIME as 2026-11-29T09:59:33Z), or, for denials a writer did not log
 * because they came faster than SL_DENIAL_RATE a second:
 *	TIME VM PROTO N suppressed sl-egressd writes the packets and, with
 * its resolver, the names (PROTO "dns"); sl-egress log reads both. Each is
 * rotated once to FILE.1 past SL_DENIAL_LOG_MAX.
 */
#define SL_DENIED_LOG "denied.log"
#define SL_DNS_LOG "dns.log"
#define SL_DENIAL_LOG_MAX (1024L * 1024)
/* Longer than any line the fields below make. */
#define SL_DENIAL_LINE_MAX 512

/* One denial as its log keeps it. */
struct sl_denial {
	char time[32];
	char vm[SL_NAME_MAX + 1];
	char proto[8];
	char dest[256]; /* an address or a name */
	unsigned port;  /* 0: none */
	char entry[64];
	unsigned long suppressed; /* not 0: a "N suppressed" line, no dest or entry */
};

/*
 * What a writer logs of a flood: SL_DENIAL_BURST lines at once, then
 * SL_DENIAL_RATE a second; the rest are counted and said in one line
 * before the next that is written (or by sl_denial_flush() once there is
 * room), so a guest cannot rotate its own history away and nothing goes
 * unsaid.
 */
#define SL_DENIAL_RATE 5
#define SL_DENIAL_BURST 10
struct sl_denial_rate {
	double tokens;
	long long last_ms;
	bool started;
	unsigned long suppressed;
	char proto[8]; /* of the suppressed ones */
};

int sl_denial_fmt(const struct sl_denial *d, char *line, size_t size);
int sl_denial_append(const char *name, const char *file, const struct sl_denial *d);
int sl_denial_append_limited(const char *name, const char *file, struct sl_denial_rate *rt,
			     const struct sl_denial *d, long long now_ms);
int sl_denial_flush(const char *name, const char *file, struct sl_denial_rate *rt,
		    long long now_ms);
void sl_denial_logs_remove(const char *name);
int sl_denial_parse(const char *line, struct sl_denial *d);
void sl_denial_now(char t[32]);
struct sl_packet;
void sl_denial_from_packet(struct sl_denial *d, const char *name, const struct sl_packet *pkt,
			   const char *why);
int sl_egress_attach_log(const char *name, bool json, FILE *out, struct sl_error *err);
int sl_egress_log(const char *name, bool json, bool follow, FILE *out, struct sl_error *err);

#endif
