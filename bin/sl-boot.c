/* SPDX-License-Identifier: MIT */
/* sl-boot: its command line is a library function (lib/cmd/sl-boot.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_boot_main, argc, argv);
}
