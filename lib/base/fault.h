/* SPDX-License-Identifier: MIT */
#ifndef SL_FAULT_H
#define SL_FAULT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fault injection, in the test builds only (bin/.sl-up-fault and
 * bin/.sl-boot-fault, made by make check, never installed): SL_FAULT=WHAT:VM
 * is true at the point called WHAT for that VM, so that the tests can
 * prove each undo: sl-up fails a step there, sl-boot stops itself there
 * (SIGSTOP) for a test to kill it at that exact point. The installed tools
 * have no such variable.
 */
static inline bool sl_fault(const char *what, const char *vm)
{
#ifdef SL_FAULT_INJECTION
	const char *f = getenv("SL_FAULT");
	size_t w = strlen(what);

	return f && !strncmp(f, what, w) && f[w] == ':' && !strcmp(f + w + 1, vm);
#else
	(void)what;
	(void)vm;
	return false;
#endif
}

/*
 * Mutants, in the same test builds (bin/.sl-up-fault): SL_MUTANT=KIND has
 * the policy code write a known-wrong rule set (lib/net/egress-rules.c), as the
 * wrappers of t/mutants/ do to the tools' output. sl-up calls the library
 * in process, where no wrapper reaches: t/mutants.sh proves the sl-up tests
 * see each kind too.
 */
static inline bool sl_mutant(const char *kind)
{
#ifdef SL_FAULT_INJECTION
	const char *m = getenv("SL_MUTANT");

	return m && !strcmp(m, kind);
#else
	(void)kind;
	return false;
#endif
}

#endif
