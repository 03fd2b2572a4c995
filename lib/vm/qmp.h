/* SPDX-License-Identifier: MIT */
#ifndef SL_QMP_H
#define SL_QMP_H

#include <json-c/json.h>
#include <stddef.h>

#include "error.h"

struct sl_qmp {
	int fd;
	int timeout_ms; /* for each answer */
	size_t have;
	char buf[65536];
};

int sl_qmp_open(struct sl_qmp *q, const char *name, int wait_ms, struct sl_error *err);
void sl_qmp_close(struct sl_qmp *q);
int sl_qmp_cmd(struct sl_qmp *q, const char *cmd, json_object *args, int pass_fd,
	       json_object **ret, struct sl_error *err);
int sl_qmp_simple(struct sl_qmp *q, const char *cmd, json_object *args, struct sl_error *err);

#endif
