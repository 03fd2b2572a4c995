#!/bin/bash
# The network path alone, isolated vs bridge mode, side by side in one run:
# sl-up --no-boot makes one VM of each mode; each VM's TAP is then swapped
# for a veth to a "guest" namespace (same name and addresses, so the same
# rules apply), and the guest talks to a scratch "internet" namespace: TCP
# throughput (Python sender and sink, 1 MiB writes) and ping RTT (iputils,
# 1000 pings at 1 ms). Without the emulated guest's noise, this is where a
# difference of microseconds shows. Usage: bench/path.sh [MB] [ROUNDS]
# (default 1024 MB, 5 rounds). Run as root after make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mb=${1:-1024} rounds=${2:-5}
tag=$(printf 'p%03d' $(($$ % 1000)))
. "$top/bench/common.sh"
inet="${tag}-inet" gi="${tag}-gi" gb="${tag}-gb"
cfg="$SL_RUN_DIR/$tag.yaml"
path_cleanup() {
	inhost sl-up down "$cfg" >/dev/null 2>&1 || true
	local n
	for n in "$inet" "$gi" "$gb"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	bench_cleanup
}
trap path_cleanup EXIT
for n in "$inet" "$gi" "$gb"; do
	ip netns add "$n"
	ip -n "$n" link set lo up
done
internet_join "$inet"

cat >"$cfg" <<Y
config:
  host_groups:
  - name: ${tag}i
    network: {mode: isolated, range: "169.254.100.0/22"}
  - name: ${tag}b
    network: {bridge: "${tag}br", gateway: "169.254.200.1/24"}
Y
inhost sl-up -d --no-boot "$cfg" 2>/dev/null
# isolated: tap0 in the VM's namespace becomes a veth to the guest
vi="${tag}i-1"
ip -n "$vi" link del tap0
ip -n "$vi" link add tap0 type veth peer name eth0 netns "$gi"
ip -n "$vi" addr add 169.254.100.1/30 dev tap0
ip -n "$vi" link set tap0 up
ip -n "$gi" addr add 169.254.100.2/30 dev eth0
ip -n "$gi" link set eth0 up
ip -n "$gi" route add default via 169.254.100.1
# bridge: the TAP port becomes a veth port of the same name
vb="${tag}b-1"
inhost ip link del "$vb"
inhost ip link add "$vb" type veth peer name eth0 netns "$gb"
inhost ip link set "$vb" master "${tag}br" up
ip -n "$gb" addr add 169.254.200.2/24 dev eth0
ip -n "$gb" link set eth0 up
ip -n "$gb" route add default via 169.254.200.1

# throughput NS: MB/s of $mb MiB from guest namespace NS to the internet
throughput() {
	local out
	sink_start "$inet" "$SL_RUN_DIR/got"
	out=$(ip netns exec "$1" python3 -c '
import socket, sys, time
n = int(sys.argv[1]) << 20; buf = bytes(1 << 20)
s = socket.create_connection(("203.0.113.10", 5001)); t = time.monotonic()
for _ in range(n >> 20): s.sendall(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print(n / (time.monotonic() - t) / 1e6)' "$mb")
	wait "$sink_pid" || true
	[ "$(cat "$SL_RUN_DIR/got")" = $((mb * 1048576)) ] || { echo "$1: short transfer" >&2; exit 1; }
	printf '%.0f' "$out"
}
latency() {
	ip netns exec "$1" ping -q -c 1000 -i 0.001 203.0.113.10 |
		awk -F'[/ =]+' '/^rtt/ { printf "%.1f", $(NF-3) * 1000 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

latency "$gi" >/dev/null; latency "$gb" >/dev/null # warm up (ARP, conntrack)
declare -a ti tb li lb
printf '%5s  %12s %12s  %12s %12s\n' round "isolated" "bridge" "isolated" "bridge"
printf '%5s  %12s %12s  %12s %12s\n' "" "MB/s" "MB/s" "RTT µs" "RTT µs"
for r in $(seq 1 "$rounds"); do
	ti[r]=$(throughput "$gi") tb[r]=$(throughput "$gb")
	li[r]=$(latency "$gi") lb[r]=$(latency "$gb")
	printf '%5d  %12s %12s  %12s %12s\n' "$r" "${ti[r]}" "${tb[r]}" "${li[r]}" "${lb[r]}"
done
mti=$(printf '%s\n' "${ti[@]}" | median) mtb=$(printf '%s\n' "${tb[@]}" | median)
mli=$(printf '%s\n' "${li[@]}" | median) mlb=$(printf '%s\n' "${lb[@]}" | median)
printf 'median: throughput isolated %s MB/s, bridge %s MB/s: isolated/bridge %.2fx\n' \
	"$mti" "$mtb" "$(awk -v a="$mti" -v b="$mtb" 'BEGIN { print a / b }')"
printf 'median: ping RTT isolated %s µs, bridge %s µs: isolated - bridge %+.1f µs\n' \
	"$mli" "$mlb" "$(awk -v a="$mli" -v b="$mlb" 'BEGIN { print a - b }')"
