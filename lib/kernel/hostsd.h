/* SPDX-License-Identifier: MIT */
#ifndef SL_HOSTSD_H
#define SL_HOSTSD_H

/* The files in systemd/, as installed. */
#define SL_UDEV_RULES "70-sltools.rules"
#define SL_LINK_FILE "10-sltools.link"
#define SL_NETWORKD_FILE "10-sltools.network"

void sl_hostsd_warnings(void);

#endif
