# Shared by the benchmarks: a scratch host namespace, timing, the anchor.
# Sourced; expects $top (the checkout) and sets up PATH, SL_RUN_DIR, $host.
handbuilt=${SL_HANDBUILT:-$top/bench/handbuilt-net.sh}
[ -r "$handbuilt" ] || { echo "$0: no $handbuilt (set SL_HANDBUILT)" >&2; exit 2; }
[ -x "$top/bin/sl-ipam" ] || { echo "$0: run make first" >&2; exit 2; }
export PATH="$top/bin:$PATH"
host="slbench$$"
export SL_RUN_DIR
SL_RUN_DIR=$(mktemp -d /tmp/sl-bench.XXXXXX)
bench_cleanup() {
	local n
	# the anchor's and the bench's own names, and every namespace our tools
	# made in this run dir (whatever its VMs were called)
	for n in $(ls /run/netns 2>/dev/null); do
		if [[ "$n" =~ ^(${tag:-none}-|hb-)[0-9]+$ ]] ||
			[ "$(ip -n "$n" -j link show lo 2>/dev/null | jq -r '.[0].ifalias // ""')" = \
				"sltools:$SL_RUN_DIR" ]; then
			ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
			ip netns del "$n" 2>/dev/null || true
		fi
	done
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$SL_RUN_DIR"
}
trap bench_cleanup EXIT
ip netns add "$host"
inhost() { nsenter --net="/run/netns/$host" "$@"; }
inhost sysctl -qw net.ipv4.ip_forward=1
now() { date +%s%N; }
rules() { inhost sh -c 'iptables-legacy -S; iptables-legacy -t nat -S' | grep -c -- '^-A'; }
msf() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }

# handbuilt N: time the anchor script up and down; sets hu hd (µs per VM) and hr.
handbuilt() {
	local n=$1 t0 t1 t2
	t0=$(now); inhost bash "$handbuilt" up "$n"; t1=$(now)
	hr=$(rules)
	inhost bash "$handbuilt" down "$n"; t2=$(now)
	hu=$(((t1 - t0) / n / 1000)) hd=$(((t2 - t1) / n / 1000))
}

# sink_start NS OUT: a TCP sink on 203.0.113.10:5001 in namespace NS that
# writes how many bytes arrived (until the sender closes) to OUT; returns
# once it listens, its pid in $sink_pid.
sink_start() {
	ip netns exec "$1" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.10", 5001)); s.listen(1)
c, _ = s.accept(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += len(b)
print(n)' >"$2" &
	sink_pid=$!
	for _ in $(seq 1 100); do
		ip netns exec "$1" ss -Hltn 'sport = :5001' | grep -q . && return 0
		sleep 0.05
	done
	echo "$0: the sink in $1 did not listen" >&2
	return 1
}

# internet_join NS: scratch namespace NS (made already) as the "internet",
# 203.0.113.10, joined to the scratch host (203.0.113.1, link ${tag}-i); no
# route back, so only masqueraded replies return.
internet_join() {
	inhost ip link add "${tag}-i" type veth peer name eth0 netns "$1"
	inhost ip addr add 203.0.113.1/24 dev "${tag}-i"
	inhost ip link set "${tag}-i" up
	ip -n "$1" addr add 203.0.113.10/24 dev eth0
	ip -n "$1" link set eth0 up
}
