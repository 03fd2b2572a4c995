#!/bin/bash
# Egress policy costs, side by side in one run (issue 8):
#  1. sl-egress apply with 1, 100 and 1000 entries: first apply, and a
#     live re-apply on a VM with an open flow (the policy changes in one
#     commit; the flows it now drops are cut in the same call);
#  2. the resolver of VMs with names in allow: one guest, then 64 guests
#     querying at once, each at its gateway, vs guests without names querying
#     the upstream straight (same hops: guest, its namespace, the host, the
#     "internet"); the same name each time (the resolver's cache answers),
#     then a new name each time (every query upstream and into a set);
#     beside it, dnsmasq forwarding with --ipset in each VM's namespace, for
#     what the field's own forwarder costs on the same path;
#  3. TCP throughput from a guest with 1000 entries vs one with none;
#  4. the memory of the run dir's one daemon (sl-egressd: every VM's denials
#     and resolver) with 256 VMs with names, after the queries of 2 and a
#     burst of denied packets.
# Guests are namespaces on a veth in place of the TAP (no emulated CPU
# noise). The upstream is dnsmasq in a scratch "internet".
# Usage: bench/egress.sh [QUERIES] [MB] [VMS] (default 200 queries a guest,
# 512 MB, 256 VMs).
# Run as root after make.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
queries=${1:-200} mb=${2:-512} nvms=${3:-256}
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
	--host-record=allowed.test,203.0.113.10,3600 --address=/miss.test/203.0.113.10 </dev/null >/dev/null 2>&1 &

# vm N: VM tag-N's network by the tools, a guest namespace on a veth named
# tap0; N from 300 in a second range (one /22 holds 256)
vm() {
	local name="${tag}-$1" g="${tag}-$1g" range=169.254.100.0/22
	[ "$1" -lt 300 ] || range=169.254.104.0/22
	inhost sl-ipam alloc --range "$range" "$name" >/dev/null
	inhost sl-netns add "$name" >/dev/null
	inhost sl-veth add "$name" >/dev/null
	eval "$(inhost sl-ipam alloc --range "$range" "$name")"
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
# a VM that stays, as on a host with VMs: the daemon runs throughout
vm 0
inhost sl-egress apply "${tag}-0" --drop '' >/dev/null
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
# One entry, 50 times in one shell inside the host: beside the same tool
# doing nothing (--version) and /bin/true, since a process costs more on
# this host than the apply's own work
inhost bash -c '
n=50
t() { local s e; s=$(date +%s%N); for _ in $(seq $n); do "$@" >/dev/null 2>&1; done; e=$(date +%s%N); echo $(((e - s) / n / 1000)); }
a=$(t sl-egress apply "$1" --allow 0.0.0.0/0 --drop 10.0.0.0/24)
v=$(t sl-egress --version)
z=$(t /bin/true)
printf "one entry, live, mean of %d: apply %s us; sl-egress --version %s us; /bin/true %s us\n" $n "$a" "$v" "$z"
printf "the apply'"'"'s own work (apply - --version): %s us\n" $((a - v))
' sh "${tag}-1"

echo "== 2. DNS: one guest, then 64 at once, $queries queries each (ms per query)"
for i in $(seq 100 163); do
	vm "$i"
	inhost sl-egress apply "${tag}-$i" --allow allowed.test,*.miss.test --dns-upstream 203.0.113.10 >/dev/null
	echo "${tag}-${i}g $GW"
done >"$SL_RUN_DIR/named"
for i in $(seq 200 263); do
	vm "$i"
	inhost sl-egress apply "${tag}-$i" --drop '' >/dev/null
	echo "${tag}-${i}g 203.0.113.10"
	echo "${tag}-$i ${tag}-${i}g $GW" >>"$SL_RUN_DIR/fwd-vms"
done >"$SL_RUN_DIR/plain"
# NAMES: "same" (allowed.test every time: the resolver's cache answers after
# the first) or "new" (a name never asked before each time, under miss.test:
# every query goes upstream and opens its address)
q() { # q GUEST SERVER OUT NAMES: per-query latency in ns, one a line, into OUT
	ip netns exec "$1" python3 - "$2" "$queries" "$4" >"$3" <<'EOF'
import random, socket, struct, sys, time
server, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def wire(i):
    text = b"allowed.test" if mode == "same" else b"q%d-%d.miss.test" % (random.randrange(1 << 30), i)
    return b"".join(bytes([len(l)]) + l for l in text.split(b".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(n + 20):
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire(i) + struct.pack(">HH", 1, 1)
    t = time.perf_counter_ns()
    s.sendto(q, (server, 53))
    r = s.recv(4096)
    d = time.perf_counter_ns() - t
    assert struct.unpack(">H", r[:2])[0] == qid and r[7] >= 1, "no answer"
    if i >= 20:  # warm-up
        print(d)
EOF
}
at_once() { # at_once LIST OUT NAMES: every guest of LIST querying at the same time
	# One client process with a socket in each guest's namespace, each guest
	# one query in flight at a time: 64 client processes on 2 cores would
	# measure the scheduler, not the resolver.
	python3 - "$1" "$queries" "$3" >"$2" <<'EOF'
import ctypes, os, random, select, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
n, mode = int(sys.argv[2]), sys.argv[3]
def wire(g):
    text = b"allowed.test" if mode == "same" else b"q%d-%d.miss.test" % (g[0].fileno(), g[1])
    return b"".join(bytes([len(l)]) + l for l in text.split(b".")) + b"\0"
home = os.open("/proc/self/ns/net", os.O_RDONLY)
guests = {}
for line in open(sys.argv[1]):
    g, srv = line.split()
    fd = os.open("/run/netns/" + g, os.O_RDONLY)
    if libc.setns(fd, 0) != 0:
        raise OSError(ctypes.get_errno(), "setns " + g)
    os.close(fd)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect((srv, 53))
    guests[s.fileno()] = [s, 0, 0, 0]  # socket, answers, query id, sent at (ns)
libc.setns(home, 0)
ep = select.epoll()
def ask(g):
    g[2] = random.randrange(65536)
    g[3] = time.perf_counter_ns()
    g[0].send(struct.pack(">HHHHHH", g[2], 0x0100, 1, 0, 0, 0) + wire(g) + struct.pack(">HH", 1, 1))
for fd, g in guests.items():
    ep.register(fd, select.EPOLLIN)
    ask(g)
left = len(guests)
while left:
    ev = ep.poll(2)
    assert ev, "no answer in 2 s"
    for fd, _ in ev:
        g = guests[fd]
        r = g[0].recv(4096)
        d = time.perf_counter_ns() - g[3]
        assert struct.unpack(">H", r[:2])[0] == g[2] and r[7] >= 1, "no answer"
        g[1] += 1
        if g[1] > 20:  # warm-up
            print(d)
        if g[1] < n + 20:
            ask(g)
        else:
            left -= 1
EOF
}
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e6 }'; }
p90() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.3f", v[int(NR * 0.9)] / 1e6 }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
read -r g1 gw1 <"$SL_RUN_DIR/named"
read -r p1 up1 <"$SL_RUN_DIR/plain"
for names in same new; do
	if [ $names = same ]; then
		echo "-- the same name each time (allowed.test: from the resolver's cache after the first)"
	else
		echo "-- a new name each time (qN-M.miss.test: every query upstream, every answer into a set)"
	fi
	# one guest alone first: the resolver's own cost, without 64 guests' queueing
	q "$g1" "$gw1" "$SL_RUN_DIR/via1" $names
	q "$p1" "$up1" "$SL_RUN_DIR/direct1" $names
	printf 'one guest: via its resolver %s ms, straight %s ms median: added %s ms\n' \
		"$(med "$SL_RUN_DIR/via1")" "$(med "$SL_RUN_DIR/direct1")" \
		"$(minus "$(med "$SL_RUN_DIR/via1")" "$(med "$SL_RUN_DIR/direct1")")"
	at_once "$SL_RUN_DIR/named" "$SL_RUN_DIR/via" $names
	at_once "$SL_RUN_DIR/plain" "$SL_RUN_DIR/direct" $names
	echo "64 guests at once:"
	printf '%-34s %10s %10s\n' "" median p90
	printf '%-34s %10s %10s\n' "via their resolvers (one daemon)" "$(med "$SL_RUN_DIR/via")" "$(p90 "$SL_RUN_DIR/via")"
	printf '%-34s %10s %10s\n' "straight to the upstream" "$(med "$SL_RUN_DIR/direct")" "$(p90 "$SL_RUN_DIR/direct")"
	printf 'added by the resolver: %s ms median\n' "$(minus "$(med "$SL_RUN_DIR/via")" "$(med "$SL_RUN_DIR/direct")")"
done
# The field's own forwarder beside it, for what any forwarder in the path
# costs here: dnsmasq in each plain VM's namespace on its gateway, no cache,
# --ipset putting every answer's address into a set as the resolver does (a
# process a VM, as sltools had before its one daemon). For it alone the
# namespace's SL-IN is opened (the guest's queries to GW, the answers).
while read -r vm g gw; do
	ip netns exec "$vm" ipset create slbench-fwd hash:ip timeout 3600 -exist
	ip netns exec "$vm" iptables-legacy -I SL-IN 1 -j ACCEPT
	ip netns exec "$vm" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$gw" --pid-file= --user=root --cache-size=0 \
		--server=203.0.113.10 --ipset=/miss.test/slbench-fwd </dev/null >/dev/null 2>&1 &
	echo "$g $gw"
done <"$SL_RUN_DIR/fwd-vms" >"$SL_RUN_DIR/fwd"
while read -r vm g gw; do
	for _ in $(seq 50); do
		ip netns exec "$vm" ss -Hlun "src $gw:53" | grep -q . && break
		sleep 0.1
	done
done <"$SL_RUN_DIR/fwd-vms"
read -r f1 fw1 <"$SL_RUN_DIR/fwd"
echo "-- the same, new names, through dnsmasq forwarding with --ipset (a process a VM)"
q "$f1" "$fw1" "$SL_RUN_DIR/fwd1" new
q "$p1" "$up1" "$SL_RUN_DIR/direct1" new
printf 'one guest: via dnsmasq %s ms, straight %s ms median: added %s ms\n' \
	"$(med "$SL_RUN_DIR/fwd1")" "$(med "$SL_RUN_DIR/direct1")" \
	"$(minus "$(med "$SL_RUN_DIR/fwd1")" "$(med "$SL_RUN_DIR/direct1")")"
at_once "$SL_RUN_DIR/fwd" "$SL_RUN_DIR/viafwd" new
at_once "$SL_RUN_DIR/plain" "$SL_RUN_DIR/direct" new
echo "64 guests at once:"
printf '%-34s %10s %10s\n' "" median p90
printf '%-34s %10s %10s\n' "via dnsmasq (64 processes)" "$(med "$SL_RUN_DIR/viafwd")" "$(p90 "$SL_RUN_DIR/viafwd")"
printf '%-34s %10s %10s\n' "straight to the upstream" "$(med "$SL_RUN_DIR/direct")" "$(p90 "$SL_RUN_DIR/direct")"
fwdset=$(ip netns exec "$(cut -d' ' -f1 "$SL_RUN_DIR/fwd-vms" | head -1)" ipset test slbench-fwd 203.0.113.10 2>&1 | grep -q 'is in' && echo yes || echo no)
printf 'added by dnsmasq forwarding: %s ms median (its set holds the answers: %s)\n' \
	"$(minus "$(med "$SL_RUN_DIR/viafwd")" "$(med "$SL_RUN_DIR/direct")")" "$fwdset"

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
	t0s+=("$(tput "${tag}-200g")")
	t1000s+=("$(tput "${tag}-4g")")
done
a=$(printf '%s\n' "${t0s[@]}" | sort -n | sed -n 2p)
b=$(printf '%s\n' "${t1000s[@]}" | sort -n | sed -n 2p)
printf 'no entries: %s MB/s   1000 entries: %s MB/s   ratio %s (median of 3)\n' "$a" "$b" \
	"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"

echo "== 4. the run dir's daemon with $nvms VMs with names, after 2. and 300 denied connections (KiB)"
for i in $(seq 300 $((300 + nvms - 65))); do
	vm "$i"
	inhost sl-egress apply "${tag}-$i" --allow allowed.test --dns-upstream 203.0.113.10 >/dev/null
done
ip netns exec "${tag}-100g" python3 -c '
import socket, time
socks = []
for _ in range(300):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("198.51.100.1", 9))
    socks.append(s)
time.sleep(1)
'
sleep 2
pid=$(cut -d' ' -f1 "$SL_RUN_DIR/egressd.pid")
named=$(grep -l '^SL_DNS_UPSTREAM=' "$SL_RUN_DIR"/*/vm.env | wc -l)
printf '%-12s %8s %6s %6s %10s %10s\n' daemon pid VMs names RSS PSS
printf '%-12s %8s %6s %6s %10s %10s\n' "$(cat "/proc/$pid/comm")" "$pid" \
	"$(ls "$SL_RUN_DIR"/*/vm.env | wc -l)" "$named" \
	"$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")" \
	"$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")"
printf "processes of the run dir's daemon: %s\n" "$(pgrep -c -x sl-egressd)"
printf 'lines kept in denied.log: %s (%s)\n' "$(grep -c ' denied by ' "$SL_RUN_DIR/${tag}-100/denied.log")" \
	"$(grep ' suppressed$' "$SL_RUN_DIR/${tag}-100/denied.log" | awk '{ s += $4 } END { print s + 0 " counted as suppressed" }')"
