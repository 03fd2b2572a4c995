#!/bin/bash
# Egress policy costs, side by side in one run (issue 8):
#  1. sl-egress apply with 1, 100 and 1000 entries: first apply, and a
#     live re-apply on a VM with an open flow (the policy changes in one
#     commit; the flows it now drops are cut in the same call);
#  2. the resolver of a VM with names in allow: a query at the gateway vs
#     the same query from a VM without names straight to the upstream
#     (same hops: guest, its namespace, the host, the "internet");
#  3. TCP throughput from a guest with 1000 entries vs one with none;
#  4. the memory of the daemons each VM's namespace gets: its denial logger
#     (every isolated VM) and its resolver (names in allow), after the
#     queries of 2 and a burst of denied packets, beside the supervisor
#     figure of bench/boot.sh.
# Guests are namespaces on a veth in place of the TAP (no emulated CPU
# noise). The upstream is dnsmasq in a scratch "internet".
# Usage: bench/egress.sh [QUERIES] [MB] (default 1000 queries, 512 MB).
# Run as root after make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
queries=${1:-1000} mb=${2:-512}
tag=$(printf 'e%03d' $(($$ % 1000)))
. "$top/bench/common.sh"
inet="${tag}-inet"
guests=()
egress_cleanup() {
	local n
	for n in "$inet" "${guests[@]}"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	for n in $(ls "$SL_RUN_DIR" 2>/dev/null | grep "^${tag}-" || true); do
		inhost sl-egress flush "$n" >/dev/null 2>&1 || true
	done
	bench_cleanup
}
trap egress_cleanup EXIT

ip netns add "$inet"
ip -n "$inet" link set lo up
internet_join "$inet"
ip netns exec "$inet" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=203.0.113.10 --pid-file= --user=root --cache-size=0 \
	--host-record=allowed.test,203.0.113.10,3600 </dev/null >/dev/null 2>&1 &

# vm N: VM tag-N's network by the tools, a guest namespace on a veth named tap0
vm() {
	local name="${tag}-$1" g="${tag}-$1g"
	inhost sl-ipam alloc --range 169.254.100.0/22 "$name" >/dev/null
	inhost sl-netns add "$name" >/dev/null
	inhost sl-veth add "$name" >/dev/null
	eval "$(inhost sl-ipam alloc --range 169.254.100.0/22 "$name")"
	ip netns add "$g"
	guests+=("$g")
	ip -n "$name" link add tap0 type veth peer name eth0 netns "$g"
	ip -n "$name" addr add "$SL_GW/30" dev tap0
	ip -n "$name" link set tap0 up
	ip -n "$g" link set lo up
	ip -n "$g" addr add "$SL_IP/30" dev eth0
	ip -n "$g" link set eth0 up
	ip -n "$g" route add default via "$SL_GW"
	GW=$SL_GW
}

# entries N: N drop entries that match nothing the benchmark sends
entries() {
	python3 -c "import sys; n=int(sys.argv[1]); print(','.join(f'10.{i // 256}.{i % 256}.0/24' for i in range(n)))" "$1"
}
median_ms() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1e6 }'; }

echo "== 1. apply: entries -> first apply, live re-apply (median of 5, ms)"
vm 1
printf '%8s %12s %12s %10s\n' entries first live rules
for n in 1 100 1000; do
	list=$(entries "$n")
	first=() live=()
	for _ in 1 2 3 4 5; do
		inhost sl-egress flush "${tag}-1" >/dev/null
		t0=$(now); inhost sl-egress apply "${tag}-1" --allow 0.0.0.0/0 --drop "$list" >/dev/null
		t1=$(now)
		first+=($((t1 - t0)))
		t0=$(now); inhost sl-egress apply "${tag}-1" --allow 0.0.0.0/0 --drop "$list,192.0.2.0/24" \
			>/dev/null 2>&1
		t1=$(now)
		live+=($((t1 - t0)))
	done
	r=$(ip netns exec "${tag}-1" iptables-legacy -S SL-FWD | grep -c '^-A')
	printf '%8d %12s %12s %10d\n' "$n" "$(printf '%s\n' "${first[@]}" | median_ms)" \
		"$(printf '%s\n' "${live[@]}" | median_ms)" "$r"
done

echo "== 2. DNS: $queries queries of allowed.test (ms per query)"
vm 2
inhost sl-egress apply "${tag}-2" --allow allowed.test --dns-upstream 203.0.113.10 >/dev/null
gw2=$GW
vm 3
inhost sl-egress apply "${tag}-3" --drop '' >/dev/null
q() { # q GUEST SERVER: per-query latency in ns, one a line
	ip netns exec "$1" python3 - "$2" "$queries" <<'EOF'
import random, socket, struct, sys, time
server, n = sys.argv[1], int(sys.argv[2])
name = b"".join(bytes([len(l)]) + l for l in b"allowed.test".split(b".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(n + 20):
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
    t = time.perf_counter_ns()
    s.sendto(q, (server, 53))
    r = s.recv(4096)
    d = time.perf_counter_ns() - t
    assert struct.unpack(">H", r[:2])[0] == qid and r[7] >= 1, "no answer"
    if i >= 20:  # warm-up
        print(d)
EOF
}
q "${tag}-2g" "$gw2" >"$SL_RUN_DIR/via"
q "${tag}-3g" 203.0.113.10 >"$SL_RUN_DIR/direct"
p90() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int(NR * 0.9)] / 1e6 }'; }
mv=$(sort -n "$SL_RUN_DIR/via" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e6 }')
md=$(sort -n "$SL_RUN_DIR/direct" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e6 }')
printf '%-28s %10s %10s\n' "" median p90
printf '%-28s %10s %10s\n' "via the VM's resolver" "$mv" "$(p90 <"$SL_RUN_DIR/via")"
printf '%-28s %10s %10s\n' "straight to the upstream" "$md" "$(p90 <"$SL_RUN_DIR/direct")"
awk -v a="$mv" -v b="$md" 'BEGIN { printf "added by the resolver: %.3f ms median\n", a - b }'

echo "== 3. TCP throughput, $mb MB from the guest (MB/s)"
vm 4
inhost sl-egress apply "${tag}-4" --allow 0.0.0.0/0 --drop "$(entries 1000)" >/dev/null
tput() { # tput GUEST: MB/s of one transfer to the sink
	sink_start "$inet" "$SL_RUN_DIR/sink"
	ip netns exec "$1" python3 - "$mb" <<'EOF'
import socket, sys, time
mb = int(sys.argv[1])
buf = b"\0" * (1 << 20)
c = socket.create_connection(("203.0.113.10", 5001))
t = time.perf_counter()
for _ in range(mb):
    c.sendall(buf)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(f"{mb / (time.perf_counter() - t):.1f}")
EOF
	wait "$sink_pid" 2>/dev/null || true
}
declare -a t0s t1000s
for _ in 1 2 3; do
	t0s+=("$(tput "${tag}-3g")")
	t1000s+=("$(tput "${tag}-4g")")
done
a=$(printf '%s\n' "${t0s[@]}" | sort -n | sed -n 2p)
b=$(printf '%s\n' "${t1000s[@]}" | sort -n | sed -n 2p)
printf 'no entries: %s MB/s   1000 entries: %s MB/s   ratio %s (median of 3)\n' "$a" "$b" \
	"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"

echo "== 4. the daemons of VM 2's namespace after 2. and 300 denied connections (KiB)"
ip netns exec "${tag}-2g" python3 -c '
import socket, time
socks = []
for _ in range(300):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("198.51.100.1", 9))
    socks.append(s)
time.sleep(1)
'
sleep 0.5
printf '%-16s %8s %8s %8s\n' daemon pid RSS PSS
for key in SL_DENYLOG_PID SL_RESOLVER_PID; do
	pid=$(sed -n "s/^$key=//p" "$SL_RUN_DIR/${tag}-2/vm.env")
	printf '%-16s %8s %8s %8s\n' "$(cat "/proc/$pid/comm")" "$pid" \
		"$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")" \
		"$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")"
done
printf 'lines kept in denied.log: %s\n' "$(wc -l <"$SL_RUN_DIR/${tag}-2/denied.log")"
