/* SPDX-License-Identifier: MIT */
/*
 * sl-supervise: the per-VM supervisor that sl-boot start leaves running.
 * Not run by hand: `sl-supervise NAME -- QEMU-COMMAND...` with fds 3-6 set
 * up by sl-boot (lib/vm/supervisor.h). Linked statically with only what it
 * needs, so that it stays small.
 */
#include "log.h"
#include "supervisor.h"

int main(int argc, char **argv)
{
	sl_log_init(argv[0]);
	return sl_supervise(argc, argv);
}
