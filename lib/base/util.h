/* SPDX-License-Identifier: MIT */
#ifndef SL_UTIL_H
#define SL_UTIL_H

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A monotonic clock in milliseconds. */
static inline long long sl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sl_freep(void *p)
{
	free(*(void **)p);
}

static inline void sl_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void sl_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void sl_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Scope-bound resources: freed or closed on every return path. */
#define _cleanup_free_ __attribute__((cleanup(sl_freep)))
#define _cleanup_close_ __attribute__((cleanup(sl_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(sl_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(sl_closedirp)))

/*
 * FNV-1a of a string: a name to a number that is the same on every host and
 * every run (lock files, ip set names, rule tags, derived ranges).
 */
static inline uint32_t sl_fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static inline uint64_t sl_fnv1a64(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* Hand a scoped fd or pointer to the caller without it being released. */
static inline int sl_steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#define SL_STEAL(p)                                                            \
	({                                                                     \
		__typeof__(p) _t = (p);                                        \
		(p) = NULL;                                                    \
		_t;                                                            \
	})

#endif
