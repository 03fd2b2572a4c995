#!/bin/bash
# The suite's network tests (the files whose tests call use_templates),
# their VMs restored from the run's templates, against the same tests with
# every VM booted cold (SL_TEST_COLD=1): t/run -j2 of the same files,
# alternately, ROUNDS times each; each file's time, the wall times and
# their ratio. Usage: bench/suite.sh [ROUNDS] (default 2). Root; makes
# VMs only inside the tests' scratch hosts.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
rounds=${1:-2}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "bench/suite.sh: bad ROUNDS '$rounds'" >&2; exit 2; }
mapfile -t files < <(grep -l '^	use_templates$' t/*.bats)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A wall
for ((r = 1; r <= rounds; r++)); do
	for kind in cold templates; do
		t0=$(date +%s%N)
		if [ "$kind" = cold ]; then
			SL_TEST_COLD=1 t/run -j2 "${files[@]}" >"$out/$kind.$r" 2>&1 || { cat "$out/$kind.$r"; exit 1; }
		else
			t/run -j2 "${files[@]}" >"$out/$kind.$r" 2>&1 || { cat "$out/$kind.$r"; exit 1; }
		fi
		wall[$kind.$r]=$((($(date +%s%N) - t0) / 1000000))
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-22s %12s %12s\n' file "cold s" "templates s"
for f in "${files[@]}"; do
	n=$(basename "$f")
	c=$(for ((r = 1; r <= rounds; r++)); do awk -v f="$f" '$1 == f { print $2 }' "$out/cold.$r"; done | median)
	t=$(for ((r = 1; r <= rounds; r++)); do awk -v f="$f" '$1 == f { print $2 }' "$out/templates.$r"; done | median)
	printf '%-22s %12s %12s\n' "$n" "$c" "$t"
done
wc=$(for ((r = 1; r <= rounds; r++)); do echo "${wall[cold.$r]}"; done | median)
wt=$(for ((r = 1; r <= rounds; r++)); do echo "${wall[templates.$r]}"; done | median)
printf '%-22s %12.1f %12.1f\n' "wall (median)" "$(awk -v v="$wc" 'BEGIN { print v / 1000 }')" \
	"$(awk -v v="$wt" 'BEGIN { print v / 1000 }')"
echo "every round: cold $(for ((r = 1; r <= rounds; r++)); do printf '%s ' "${wall[cold.$r]}"; done)ms," \
	"templates $(for ((r = 1; r <= rounds; r++)); do printf '%s ' "${wall[templates.$r]}"; done)ms"
awk -v c="$wc" -v t="$wt" 'BEGIN { printf "templates: %.2fx faster (wall)\n", c / t }'
