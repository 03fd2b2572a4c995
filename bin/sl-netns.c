/* SPDX-License-Identifier: MIT */
/* sl-netns: its command line is a library function (lib/cmd/sl-netns.c). */
#include "cmd.h"

int main(int argc, char **argv)
{
	return sl_cli_main(sl_netns_main, argc, argv);
}
