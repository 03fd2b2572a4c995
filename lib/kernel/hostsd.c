/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "hostsd.h"
#include "log.h"

/* Where networkd and udevd read .network/.link files and rules, first first. */
static const char *const network_dirs[] = { "/etc/systemd/network", "/run/systemd/network",
					     "/usr/local/lib/systemd/network",
					     "/usr/lib/systemd/network", "/lib/systemd/network", NULL };
static const char *const rules_dirs[] = { "/etc/udev/rules.d", "/run/udev/rules.d",
					   "/usr/local/lib/udev/rules.d", "/usr/lib/udev/rules.d",
					   "/lib/udev/rules.d", NULL };

static bool same_netns(pid_t pid, ino_t ours)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	return stat(p, &st) == 0 && st.st_ino == ours;
}

/* The pid of a process whose comm is @comm, in our network namespace; 0 if none. */
static pid_t daemon_here(const char *comm)
{
	struct stat self;
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	if (!d)
		return 0;
	if (stat("/proc/self/ns/net", &self) < 0) {
		closedir(d);
		return 0;
	}
	while (!found && (e = readdir(d))) {
		char p[64], c[32] = "";
		FILE *f;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
		if (!(f = fopen(p, "re")))
			continue;
		if (fgets(c, sizeof(c), f))
			c[strcspn(c, "\n")] = '\0';
		fclose(f);
		if (!strcmp(c, comm) && same_netns(pid, self.st_ino))
			found = pid;
	}
	closedir(d);
	return found;
}

/* Whether @name is in one of @dirs as process @pid sees its files (its root). */
static bool daemon_has(pid_t pid, const char *const *dirs, const char *name)
{
	for (; *dirs; dirs++) {
		char p[512];

		snprintf(p, sizeof(p), "/proc/%d/root%s/%s", (int)pid, *dirs, name);
		if (access(p, F_OK) == 0)
			return true;
	}
	return false;
}

/**
 * sl_hostsd_warnings() - what the systemd daemons here would do to our links
 *
 * systemd-networkd configures every link a .network matches: its own
 * 80-container-ve.network takes a VM named ve-*, 80-vm-vt.network a TAP
 * named vt-*, a catch-all every VM's link (an address, a 169.254.0.0/16
 * route, measured: docs/NETWORK.md). NetworkManager may take them too.
 * Our files stop both; where a daemon runs in this network namespace and
 * does not see them (looked for as the daemon sees its files), say so.
 */
void sl_hostsd_warnings(void)
{
	pid_t nd = daemon_here("systemd-network"), nm = daemon_here("NetworkManager");
	pid_t ud = daemon_here("systemd-udevd");
	bool rules = ud && daemon_has(ud, rules_dirs, SL_UDEV_RULES);

	if (nd && !ud)
		/* what a file cannot fix: the mark is udev's */
		sl_warn("systemd-networkd runs here (pid %d) without systemd-udevd: %s cannot "
			"tell the VMs' host links from others; make sure no .network of yours "
			"matches them (a catch-all Name=*, or VMs named ve-*, vt-*, vz-*)",
			(int)nd, SL_NETWORKD_FILE);
	else if (nd && (!daemon_has(nd, network_dirs, SL_NETWORKD_FILE) || !rules))
		sl_warn("systemd-networkd runs here (pid %d) without %s: it may give the VMs' "
			"host links addresses and routes, and take VMs named ve-* or vt-* for "
			"containers (fix: install %s, %s and %s: make install, or the package)",
			(int)nd, rules ? SL_NETWORKD_FILE : SL_UDEV_RULES, SL_UDEV_RULES,
			SL_LINK_FILE, SL_NETWORKD_FILE);
	if (nm && !rules)
		sl_warn("NetworkManager runs here (pid %d) and udev has no %s: it may take "
			"the VMs' host links (fix: install %s: make install, or the package)",
			(int)nm, SL_UDEV_RULES, SL_UDEV_RULES);
}
