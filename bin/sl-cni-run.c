/* SPDX-License-Identifier: MIT */
/* sl-cni-run: its command line is a library function (lib/cmd/sl-cni-run.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_cni_run_main, argc, argv);
}
