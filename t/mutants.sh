#!/bin/bash
# Mutation check of the traffic tests (VMs, sl-cni): run them against a mutant (t/mutants/)
# and fail unless every test named for it fails. A negative assertion that
# cannot fail ("! cmd" in the middle of a bats test) shows up here as a test
# that passes against the mutant.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
# mutant  bats file  tests that must fail (numbers in the file)
check() {
	local mutant=$1 file=$2; shift 2
	local out
	out=$(SL_TEST_MUTANT=$mutant bats --formatter tap "$file" 2>&1)
	for n in "$@"; do
		if grep -q "^ok $n " <<<"$out"; then
			echo "mutants: $file test $n passes against mutant $mutant: its assertions cannot see it" >&2
			grep "^ok $n " <<<"$out" >&2
			rc=1
		fi
	done
	[ $rc = 0 ] && echo "mutants: $mutant: tests $* of $file fail against it, as they must"
}
check ns-drop t/70-traffic.bats 1 2 3 4 7
check cni-drop t/89-cni-plugin.bats 1 3 4 5 7
exit $rc
