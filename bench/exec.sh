#!/bin/bash
# sl-exec's own cost, side by side with another build in one run: its
# start-up alone (a VM that does not exist: the binary loads, reads its
# input, finds no agent) and `sl-exec VM -- true` against one VM booted by
# this build, the two builds alternately, medians of RUNS each.
# Usage: bench/exec.sh OTHER_CHECKOUT [RUNS]   (default 41). OTHER_CHECKOUT
# is a built checkout of another revision (git worktree, then make). Run as
# root after `make`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
other=$(cd "${1:?usage: bench/exec.sh OTHER_CHECKOUT [RUNS]}" && pwd)
runs=${2:-41}
[ -x "$other/bin/sl-exec" ] || { echo "$0: no $other/bin/sl-exec: build it first" >&2; exit 2; }
tag=ex
. "$top/bench/one-vm.sh"
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] / 1e6 }'; }

inhost sl-boot start "$vm" >/dev/null 2>&1

declare -A start trip
for _ in $(seq 1 "$runs"); do
	for b in this other; do
		d=$top
		[ $b = other ] && d=$other
		t0=$(now); "$d/bin/sl-exec" nosuchvm-1 -- true 2>/dev/null || true; t1=$(now)
		start[$b]+="$((t1 - t0)) "
		t0=$(now); "$d/bin/sl-exec" "$vm" -- true; t1=$(now)
		trip[$b]+="$((t1 - t0)) "
	done
done
printf '%-7s %-12s %22s %22s %s\n' build revision "start-up alone (ms)" "sl-exec VM -- true" libraries
for b in this other; do
	d=$top
	[ $b = other ] && d=$other
	printf '%-7s %-12s %22s %22s %s\n' "$b" "$(git -C "$d" rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"$(tr ' ' '\n' <<<"${start[$b]}" | grep . | median)" \
		"$(tr ' ' '\n' <<<"${trip[$b]}" | grep . | median)" "$(ldd "$d/bin/sl-exec" | wc -l)"
done
echo "(medians of $runs, the builds alternately; each figure includes two date(1) calls)"
