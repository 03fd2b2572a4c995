#!/bin/bash
# Isolated vs bridge mode, the same guest, side by side in one run: TCP
# throughput and ping latency from a VM to a scratch "internet" namespace,
# rounds alternating between the modes. Usage: bench/modes.sh [MB] [ROUNDS]
# (default 64 MB, 5 rounds). Run as root after make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-64} rounds=${2:-5}
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
inhost ip link add "${tag}-i" type veth peer name eth0 netns "$inet"
inhost ip addr add 203.0.113.1/24 dev "${tag}-i"
inhost ip link set "${tag}-i" up
ip -n "$inet" addr add 203.0.113.10/24 dev eth0
ip -n "$inet" link set eth0 up # no route back: only masqueraded replies return

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
	ip netns exec "$inet" busybox nc -l -p 5001 >/dev/null &
	local srv=$!
	sleep 0.2
	t0=$(now)
	inhost sl-exec "$vm" -- sh -c "dd if=/dev/zero bs=65536 count=$((mb * 16)) 2>/dev/null | nc 203.0.113.10 5001"
	wait "$srv" || true
	t1=$(now)
	awk -v b=$((mb * 1048576)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", b / (ns / 1e9) / 1e6 }'
}
# latency VM: average ping RTT in µs over 50 pings
latency() {
	inhost sl-exec "$1" -- ping -q -c 50 -i 0.05 203.0.113.10 |
		awk -F'[/ =]+' '/round-trip/ { printf "%.0f", $(NF-2) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for vm in "${tag}i-1" "${tag}b-1"; do latency "$vm" >/dev/null; done # warm up
declare -a ti tb li lb
printf '%5s  %14s %14s  %14s %14s\n' round "isolated MB/s" "bridge MB/s" "isolated µs" "bridge µs"
for r in $(seq 1 "$rounds"); do
	ti[r]=$(throughput "${tag}i-1") tb[r]=$(throughput "${tag}b-1")
	li[r]=$(latency "${tag}i-1") lb[r]=$(latency "${tag}b-1")
	printf '%5d  %14s %14s  %14s %14s\n' "$r" "${ti[r]}" "${tb[r]}" "${li[r]}" "${lb[r]}"
done
mti=$(printf '%s\n' "${ti[@]}" | median) mtb=$(printf '%s\n' "${tb[@]}" | median)
mli=$(printf '%s\n' "${li[@]}" | median) mlb=$(printf '%s\n' "${lb[@]}" | median)
printf 'median: throughput isolated %s MB/s, bridge %s MB/s: isolated/bridge %.2fx\n' \
	"$mti" "$mtb" "$(awk -v a="$mti" -v b="$mtb" 'BEGIN { print a / b }')"
printf 'median: ping RTT isolated %s µs, bridge %s µs: isolated - bridge %+d µs\n' \
	"$mli" "$mlb" $((mli - mlb))
