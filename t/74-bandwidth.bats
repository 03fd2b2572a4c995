#!/usr/bin/env bats
# Bandwidth caps (network.bandwidth, sl-egress --rate-out/--rate-in): a tbf
# root qdisc on the VM's veth (what it sends) and TAP (what it receives), in
# its namespace. The "VM" is a stand-in namespace (helpers.bash).

load helpers

setup() {
	setup_host
	require busybox python3 tc
	setup_lan_internet
}
teardown() { teardown_host; }

# tbf_rate NS DEV: the rate (bytes/s) of DEV's tbf root qdisc, or nothing
tbf_rate() {
	ip netns exec "$1" tc -j qdisc show dev "$2" | python3 -c '
import json, sys
for q in json.load(sys.stdin):
    if q.get("kind") == "tbf" and q.get("root"):
        print(q["options"]["rate"])'
}

# seconds VMNS MB DIRECTION: how long MB megabytes take to (out) or from (in) the internet
seconds() {
	ip netns exec "$1" python3 - "$2" "$3" <<'PY'
import socket, sys, time, urllib.request
mb, way = int(sys.argv[1]), sys.argv[2]
t = time.monotonic()
if way == "out":
    c = socket.create_connection(("203.0.113.10", 7001), timeout=30)
    c.sendall(b"\0" * (mb << 20))
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
else:
    n = len(urllib.request.urlopen("http://203.0.113.10/big", timeout=30).read())
    assert n == mb << 20, n
print(f"{time.monotonic() - t:.2f}")
PY
}

@test "caps out and in: tbf on the veth and the TAP at the rates given; traffic is held to them; 0 lifts a cap" {
	head -c $((1 << 20)) /dev/zero >"$BATS_TEST_TMPDIR/www-$NET/big"
	(exec ip netns exec "$NET" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("203.0.113.10", 7001)); s.listen(4)
while True:
    c, _ = s.accept()
    while c.recv(1 << 16): pass
    c.close()' </dev/null >/dev/null 2>&1 3>&-) &
	standin "$P-1" --rate-out 4mbit --rate-in 8mbit
	[ "$(tbf_rate "$P-1" veth0)" = 500000 ]
	[ "$(tbf_rate "$P-1" tap0)" = 1000000 ]
	grep -qx "SL_RATE_OUT=4mbit" "$SL_RUN_DIR/$P-1/vm.env"
	grep -qx "SL_RATE_IN=8mbit" "$SL_RUN_DIR/$P-1/vm.env"
	# 1 MiB at 4 Mbit/s is 2.1 s, at 8 Mbit/s 1.05 s (less a 16 KiB bucket)
	out=$(seconds "$P-1v" 1 out)
	in=$(seconds "$P-1v" 1 in)
	echo "1 MiB out in $out s, in in $in s" >&2
	awk -v t="$out" 'BEGIN { exit !(t >= 1.6) }'
	awk -v t="$in" 'BEGIN { exit !(t >= 0.8) }'
	run inhost sl-egress show "$P-1"
	grep -q "^# bandwidth: out 4mbit (tbf on veth0), in 8mbit (tbf on tap0)" <<<"$output"
	inhost sl-egress check "$P-1"
	[ "$(inhost sl-egress show --json "$P-1" | jq -c .bandwidth)" = '{"out":"4mbit","in":"8mbit"}' ]
	# a re-apply without flags keeps them (from the env file); 0 lifts one
	inhost sl-egress apply "$P-1" >/dev/null
	[ "$(tbf_rate "$P-1" veth0)" = 500000 ]
	inhost sl-egress apply "$P-1" --drop '' --rate-out 0 >/dev/null
	[ -z "$(tbf_rate "$P-1" veth0)" ]
	[ "$(tbf_rate "$P-1" tap0)" = 1000000 ]
	out=$(seconds "$P-1v" 1 out)
	awk -v t="$out" 'BEGIN { exit !(t < 1.6) }'
	# a cap changed by hand is a difference check names
	ip netns exec "$P-1" tc qdisc replace dev tap0 root tbf rate 1mbit burst 16k latency 50ms
	run inhost sl-egress check "$P-1"
	[ "$status" -eq 1 ]
	grep -q "tap0 is capped at 1mbit, want 8mbit" <<<"$output"
	inhost sl-egress flush "$P-1"
	[ -z "$(tbf_rate "$P-1" veth0)" ] && [ -z "$(tbf_rate "$P-1" tap0)" ] || false
	! grep -q "^SL_RATE" "$SL_RUN_DIR/$P-1/vm.env" || false
}

@test "bad rates exit 2 and change nothing; bridge mode has no caps" {
	standin "$P-1"
	local before
	before=$(kernel_state; ip netns exec "$P-1" tc qdisc show)
	assert_usage_error "bad --rate-out 'fast'" inhost sl-egress apply "$P-1" --rate-out fast
	assert_usage_error "bad --rate-in '1bit'" inhost sl-egress apply "$P-1" --rate-in 1bit
	assert_usage_error "bad --rate-out '100mbits'" inhost sl-egress apply "$P-1" --rate-out 100mbits
	assert_usage_error "bad --rate-in '99gbit'" inhost sl-egress apply "$P-1" --rate-in 99gbit
	assert_usage_error "need isolated mode" \
		inhost sl-egress apply "$P-1" --mode bridge --range 169.254.200.0/24 --rate-out 1mbit
	[ "$(kernel_state; ip netns exec "$P-1" tc qdisc show)" = "$before" ]
}
