#!/bin/bash
# sl-up --no-boot of N VMs and sl-up down, side by side in one run with
# bench/handbuilt-net.sh, inside a scratch host: per-VM times,
# their ratio, the host rule count. Usage: bench/up.sh [N]... (default 1 16 256)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 16 256)
tag=$(printf 'u%03d' $(($$ % 1000)))
. "$top/bench/common.sh"

printf '%6s  %12s %12s  %12s %12s  %8s %8s %8s  %s\n' N "sl-up up/VM" "down/VM" "script up/VM" "down/VM" "up x" "down x" "total x" "host rules (sl-up/script)"
declare -A per_vm
for n in "${sizes[@]}"; do
	cfg="$SL_RUN_DIR/$tag.yaml"
	printf 'config:\n  host_groups:\n  - name: %s\n    count: %d\n    network:\n      mode: isolated\n      range: "169.254.100.0/22"\n      drop: ["192.168.1.0/24"]\n' "$tag" "$n" >"$cfg"
	t0=$(now); inhost sl-up -d --no-boot "$cfg" 2>/dev/null; t1=$(now)
	ur=$(rules)
	inhost sl-up down "$cfg" 2>/dev/null; t2=$(now)
	[ "$(rules)" -eq 0 ] || { echo "sl-up left host rules behind" >&2; exit 1; }
	handbuilt "$n"
	tu=$(((t1 - t0) / n / 1000)) td=$(((t2 - t1) / n / 1000))
	per_vm[$n]=$((tu + td))
	printf '%6d  %9s ms %9s ms  %9s ms %9s ms  %7.1fx %7.1fx %7.1fx  %s/%s\n' "$n" \
		"$(msf $tu)" "$(msf $td)" "$(msf $hu)" "$(msf $hd)" \
		"$(awk -v a=$hu -v b=$tu 'BEGIN{print a/b}')" "$(awk -v a=$hd -v b=$td 'BEGIN{print a/b}')" \
		"$(awk -v a=$((hu + hd)) -v b=$((tu + td)) 'BEGIN{print a/b}')" "$ur" "$hr"
done
first=${sizes[0]} last=${sizes[${#sizes[@]}-1]}
if [ "$first" != "$last" ]; then
	awk -v a="${per_vm[$first]}" -v b="${per_vm[$last]}" -v f="$first" -v l="$last" \
		'BEGIN { printf "sl-up per-VM cost at N=%d / N=%d: %.2fx\n", l, f, b / a }'
fi
