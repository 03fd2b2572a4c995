/* SPDX-License-Identifier: MIT */
/* sl-veth: its command line is a library function (lib/cmd/sl-veth.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_veth_main, argc, argv);
}
