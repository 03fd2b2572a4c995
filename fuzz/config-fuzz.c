/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the config loader (lib/compose/cfg.c): any bytes as a
 * Slicer YAML file. It either loads or says why, in bounded time; a config
 * that loads holds names that fit and lists within their bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "name.h"

/*
 * The loader reads a path: a file made for each input and removed after it
 * (libFuzzer ends with _Exit: an atexit handler would not run, and every
 * run left its file in /tmp).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/sl-config-fuzz.XXXXXX";
	struct sl_config cfg;
	int fd, r;

	sl_quiet = true; /* warnings for unknown keys, once per input, are noise here */
	if ((fd = mkstemp(path)) < 0)
		abort();
	if (pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	close(fd);
	r = sl_config_load(path, &cfg, NULL);
	unlink(path);
	if (r == 0) {
		for (size_t i = 0; i < cfg.n; i++)
			if (!cfg.g[i].name[0] || cfg.g[i].allow.n > 4096 || cfg.g[i].drop.n > 4096)
				abort();
		sl_config_free(&cfg);
	}
	return 0;
}
