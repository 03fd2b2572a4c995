/* SPDX-License-Identifier: MIT */
/* sl-tap: its command line is a library function (lib/cmd/sl-tap.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_tap_main, argc, argv);
}
