/* SPDX-License-Identifier: MIT */
#ifndef SL_NAMESERVER_H
#define SL_NAMESERVER_H

#include <stddef.h>

#include "error.h"

/*
 * The name servers a user names (sl-boot --dns, sl-egress --dns-upstream,
 * the YAML's dns:). Apart from lib/net/dns.c so that the tools that only read
 * an option do not load ldns and, through it, OpenSSL at every start.
 */

/* Slicer's default name servers; "127.0.0.1" or "none": no resolver. */
#define SL_DNS_DEFAULT "8.8.8.8,1.1.1.1"
int sl_dns_servers(const char *in, const char *what, char *out, size_t len, struct sl_error *err);

#endif
