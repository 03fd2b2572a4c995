#!/bin/bash
# Bring up and tear down N isolated VM networks two ways, side by side in one
# run, inside a scratch host namespace: with the tools (the README's by-hand
# pipeline) and with bench/handbuilt-net.sh (the same topology in
# ip(8) and iptables-legacy(8)). Prints per-VM times, their ratio, and the
# host rule count. Not a test: run it by hand, as root, after `make`.
#
# Usage: bench/net-layer.sh [N]...      (default: 1 16 256)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 16 256)
tag=$(printf 'b%03d' $(($$ % 1000)))
. "$top/bench/common.sh"

# The loops run inside the scratch host, as a user's shell there would, so
# both sides pay the same process start-up per command.
tools_up() {
	inhost env tag="$tag" n="$1" bash -c '
	for i in $(seq 1 "$n"); do
		sl-ipam alloc --range 169.254.100.0/22 "$tag-$i" >/dev/null
		sl-netns add "$tag-$i" >/dev/null
		sl-veth add "$tag-$i" >/dev/null
		sl-tap add "$tag-$i" >/dev/null
		sl-egress apply "$tag-$i" --drop 192.168.1.0/24 >/dev/null
	done'
}
# The README's teardown: sl-netns del takes the TAP and the veth with the
# namespace, in one batch. SL_BENCH_FULL=1 runs every layer's del instead.
full=${SL_BENCH_FULL:-0}
tools_down() {
	inhost env tag="$tag" n="$1" full="$full" bash -c '
	for i in $(seq 1 "$n"); do
		sl-egress flush "$tag-$i"
		if [ "$full" = 1 ]; then
			sl-tap del "$tag-$i"
			sl-veth del "$tag-$i"
		fi
		sl-netns del "$tag-$i"
		sl-ipam release "$tag-$i"
	done'
}

printf '%6s  %12s %12s  %12s %12s  %8s %8s %8s  %s\n' N "tools up/VM" "down/VM" "script up/VM" "down/VM" "up x" "down x" "total x" "host rules (tools/script)"
declare -A per_vm
for n in "${sizes[@]}"; do
	t0=$(now); tools_up "$n"; t1=$(now)
	tr=$(rules)
	tools_down "$n"; t2=$(now)
	[ "$(rules)" -eq 0 ] || { echo "tools left host rules behind" >&2; exit 1; }
	handbuilt "$n"
	tu=$(((t1 - t0) / n / 1000)) td=$(((t2 - t1) / n / 1000))
	ratio=$(awk -v hu=$hu -v hd=$hd -v tu=$tu -v td=$td \
		'BEGIN { printf "%7.1fx %7.1fx %7.1fx", hu / tu, hd / td, (hu + hd) / (tu + td) }')
	per_vm[$n]=$((tu + td))
	printf '%6d  %9.2f ms %9.2f ms  %9.2f ms %9.2f ms  %s  %s/%s\n' "$n" \
		"$(awk -v v=$tu 'BEGIN{print v/1000}')" "$(awk -v v=$td 'BEGIN{print v/1000}')" \
		"$(awk -v v=$hu 'BEGIN{print v/1000}')" "$(awk -v v=$hd 'BEGIN{print v/1000}')" \
		"$ratio" "$tr" "$hr"
done
first=${sizes[0]} last=${sizes[${#sizes[@]}-1]}
if [ "$first" != "$last" ]; then
	awk -v a="${per_vm[$first]}" -v b="${per_vm[$last]}" -v f="$first" -v l="$last" \
		'BEGIN { printf "tools per-VM cost at N=%d / N=%d: %.2fx\n", l, f, b / a }'
fi
