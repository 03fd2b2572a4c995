/* SPDX-License-Identifier: MIT */
#ifndef SL_FORWARD_H
#define SL_FORWARD_H

#include <netinet/in.h>

#include "error.h"

/* [BIND:]LPORT:HOST:RPORT: the address to listen on, and what to reach in the guest. */
struct sl_fwd {
	char bind[64], target[300];
	struct sockaddr_in sa;
	unsigned lport;
};

int sl_forward_parse(const char *spec, struct sl_fwd *f, struct sl_error *err);
int sl_forward(const char *name, const char *spec, struct sl_error *err);

#endif
