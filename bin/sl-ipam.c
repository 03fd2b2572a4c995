/* SPDX-License-Identifier: MIT */
/* sl-ipam: its command line is a library function (lib/cmd/sl-ipam.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_ipam_main, argc, argv);
}
