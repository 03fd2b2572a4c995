#!/bin/bash
# Isolated vs bridge mode, the same guest, side by side in one run: TCP
# throughput between a VM and a scratch "internet" namespace (the VM sends
# MB megabytes with busybox nc, and fetches 4×MB with busybox wget from a
# busybox httpd), and ping latency VM → internet; rounds alternate between
# the modes. Usage: bench/modes.sh [MB] [ROUNDS] (default 8 MB, 5 rounds).
# Run as root after make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-8} rounds=${2:-5}
tag=$(printf 'm%03d' $(($$ % 1000)))
. "$top/bench/common.sh"
inet="${tag}-inet"
cfg="$SL_RUN_DIR/$tag.yaml"
modes_cleanup() {
	inhost sl-up down "$cfg" >/dev/null 2>&1 || true
	ip netns pids "$inet" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$inet" 2>/dev/null || true
	bench_cleanup
}
trap modes_cleanup EXIT

ip netns add "$inet"
ip -n "$inet" link set lo up
internet_join "$inet" # no route back: only masqueraded replies return
mkdir -p "$SL_RUN_DIR/www"
head -c $((4 * mb * 1048576)) /dev/zero >"$SL_RUN_DIR/www/blob"
ip netns exec "$inet" busybox httpd -p 80 -h "$SL_RUN_DIR/www"

cat >"$cfg" <<Y
config:
  host_groups:
  - name: ${tag}i
    count: 1
    ram_mb: 256
    network:
      mode: isolated
      range: "169.254.100.0/22"
  - name: ${tag}b
    count: 1
    ram_mb: 256
    network:
      bridge: "${tag}br"
      gateway: "169.254.200.1/24"
Y
inhost sl-up -d "$cfg" >/dev/null 2>&1

# throughput VM: MB/s of $mb MB through busybox nc to the internet namespace
throughput() {
	local vm=$1 t0 t1
	sink_start "$inet" "$SL_RUN_DIR/got"
	t0=$(now)
	inhost sl-exec "$vm" -- sh -c "dd if=/dev/zero bs=65536 count=$((mb * 16)) 2>/dev/null | nc 203.0.113.10 5001"
	wait "$sink_pid" || true
	t1=$(now)
	[ "$(cat "$SL_RUN_DIR/got")" = $((mb * 1048576)) ] || {
		echo "$vm: the server got $(cat "$SL_RUN_DIR/got") bytes, not $((mb * 1048576))" >&2
		exit 1
	}
	awk -v b=$((mb * 1048576)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'
}
# download VM: MB/s of 4×$mb MB fetched by busybox wget from the internet
download() {
	local vm=$1 t0 t1 got
	t0=$(now)
	got=$(inhost sl-exec "$vm" -- sh -c "wget -q -O - http://203.0.113.10/blob | wc -c")
	t1=$(now)
	[ "$got" = $((4 * mb * 1048576)) ] || { echo "$vm: fetched $got bytes" >&2; exit 1; }
	awk -v b="$got" -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'
}
# latency VM: average ping RTT in µs over 50 pings
latency() {
	inhost sl-exec "$1" -- ping -q -c 50 -i 0.05 203.0.113.10 |
		awk -F'[/ =]+' '/round-trip/ { printf "%.0f", $(NF-2) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for vm in "${tag}i-1" "${tag}b-1"; do latency "$vm" >/dev/null; done # warm up
declare -a ti tb di db li lb
printf '%5s  %10s %10s  %10s %10s  %10s %10s\n' round "send iso" "send br" "fetch iso" "fetch br" "ping iso" "ping br"
printf '%5s  %10s %10s  %10s %10s  %10s %10s\n' "" MB/s MB/s MB/s MB/s µs µs
for r in $(seq 1 "$rounds"); do
	ti[r]=$(throughput "${tag}i-1") tb[r]=$(throughput "${tag}b-1")
	di[r]=$(download "${tag}i-1") db[r]=$(download "${tag}b-1")
	li[r]=$(latency "${tag}i-1") lb[r]=$(latency "${tag}b-1")
	printf '%5d  %10s %10s  %10s %10s  %10s %10s\n' "$r" "${ti[r]}" "${tb[r]}" "${di[r]}" "${db[r]}" "${li[r]}" "${lb[r]}"
done
mti=$(printf '%s\n' "${ti[@]}" | median) mtb=$(printf '%s\n' "${tb[@]}" | median)
mdi=$(printf '%s\n' "${di[@]}" | median) mdb=$(printf '%s\n' "${db[@]}" | median)
mli=$(printf '%s\n' "${li[@]}" | median) mlb=$(printf '%s\n' "${lb[@]}" | median)
printf 'median: send (VM → internet) isolated %s MB/s, bridge %s MB/s: isolated/bridge %.2fx\n' \
	"$mti" "$mtb" "$(awk -v a="$mti" -v b="$mtb" 'BEGIN { print a / b }')"
printf 'median: fetch (internet → VM) isolated %s MB/s, bridge %s MB/s: isolated/bridge %.2fx\n' \
	"$mdi" "$mdb" "$(awk -v a="$mdi" -v b="$mdb" 'BEGIN { print a / b }')"
printf 'median: ping RTT isolated %s µs, bridge %s µs: isolated - bridge %+d µs\n' \
	"$mli" "$mlb" $((mli - mlb))
