/* SPDX-License-Identifier: MIT */
/* sl-egress: its command line is a library function (lib/cmd/sl-egress.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_egress_main, argc, argv);
}
