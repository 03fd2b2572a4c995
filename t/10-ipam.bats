#!/usr/bin/env bats
# sl-ipam: /30 leases out of a range.

load helpers

setup() { setup_host; }
teardown() { teardown_host; }

@test "alloc gives block 0 of a fresh range, in SL_KEY=value lines" {
	run inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "SL_NAME=$P-1" ]
	[ "${lines[1]}" = "SL_GROUP=$P" ]
	eval "$output"
	[ "$SL_RANGE" = 169.254.100.0/22 ]
	[ "$SL_BLOCK" = 169.254.100.0/30 ]
	[ "$SL_NET" = 169.254.100.0 ]
	[ "$SL_GW" = 169.254.100.1 ]
	[ "$SL_IP" = 169.254.100.2 ]
	[ "$SL_PREFIX" = 30 ]
	# the lease is recorded in the VM's env file too
	grep -qx "SL_IP=169.254.100.2" "$SL_RUN_DIR/$P-1/vm.env"
}

@test "lowest free block first; a released block is reused; re-alloc returns the same lease" {
	for i in 1 2 3; do inhost sl-ipam alloc --range 169.254.100.0/22 "$P-$i" >/dev/null; done
	run inhost sl-ipam alloc --range 169.254.100.0/22 "$P-2"
	[ "$status" -eq 0 ]
	grep -qx "SL_IP=169.254.100.6" <<<"$output"
	inhost sl-ipam release "$P-2"
	[ ! -e "$SL_RUN_DIR/$P-2/vm.env" ]
	run inhost sl-ipam alloc --range 169.254.100.0/22 "$P-9"
	grep -qx "SL_IP=169.254.100.6" <<<"$output"
	# release of a name with no lease succeeds (idempotent)
	inhost sl-ipam release "$P-2"
}

@test "--group and --json" {
	run inhost sl-ipam alloc --json --group agents --range 169.254.104.0/23 "$P-1"
	[ "$status" -eq 0 ]
	[ "$(jq -r .SL_GROUP <<<"$output")" = agents ]
	[ "$(jq -r .SL_IP <<<"$output")" = 169.254.104.2 ]
	run inhost sl-ipam list --json
	[ "$(jq -r '.[0].SL_NAME' <<<"$output")" = "$P-1" ]
	run inhost sl-ipam list
	grep -q "^$P-1 .*agents .*169.254.104.0/23 .*169.254.104.2$" <<<"$output"
}

@test "a /23 holds 128 VMs and the 129th is refused naming the range" {
	for i in $(seq 1 128); do
		inhost sl-ipam alloc --range 169.254.104.0/23 "$P-$i" >/dev/null
	done
	[ "$(wc -l <"$SL_RUN_DIR/ipam/leases")" -eq 128 ]
	grep -q "^$P-128 .* 127$" "$SL_RUN_DIR/ipam/leases"
	assert_usage_error "range 169.254.104.0/23 is full" inhost sl-ipam alloc --range 169.254.104.0/23 "$P-129"
	[ ! -e "$SL_RUN_DIR/$P-129" ]
}

@test "64 parallel allocs get 64 distinct blocks" {
	for i in $(seq 1 64); do
		inhost sl-ipam alloc --range 169.254.100.0/22 "$P-$i" >"$BATS_TEST_TMPDIR/a$i" &
	done
	wait
	cat "$BATS_TEST_TMPDIR"/a* | grep '^SL_IP=' | sort -u >"$BATS_TEST_TMPDIR/ips"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ips")" -eq 64 ]
	[ "$(wc -l <"$SL_RUN_DIR/ipam/leases")" -eq 64 ]
	# and they are exactly blocks 0..63
	[ "$(awk '{print $4}' "$SL_RUN_DIR/ipam/leases" | sort -n | tr '\n' ' ')" = "$(seq 0 63 | tr '\n' ' ')" ]
}

@test "an overlapping range is refused, with another group's range or a host route" {
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	assert_usage_error "overlaps range 169.254.100.0/22 in use by group $P" \
		inhost sl-ipam alloc --range 169.254.102.0/23 "x$P-1"
	# the next /22 is fine: the second daemon of the seed
	inhost sl-ipam alloc --range 169.254.104.0/22 "y$P-1" >/dev/null
	# a route the host already has
	ip -n "$HOST" link add "${P}r" type veth peer name "${P}s"
	ip -n "$HOST" link set "${P}r" up
	ip -n "$HOST" route add 198.51.100.0/24 dev "${P}r"
	assert_usage_error "overlaps route 198.51.100.0/24" inhost sl-ipam alloc --range 198.51.100.0/22 "z$P-1"
	assert_usage_error "overlaps" inhost sl-ipam alloc --range 198.51.100.128/25 "z$P-1"
	[ ! -e "$SL_RUN_DIR/z$P-1" ]
	# a default route and a link-local /16 on an interface are no conflict
	ip -n "$HOST" route add default dev "${P}r"
	ip -n "$HOST" route add 169.254.0.0/16 dev "${P}r"
	inhost sl-ipam alloc --range 169.254.108.0/22 "w$P-1" >/dev/null
	# but a wider LAN route is
	ip -n "$HOST" route add 203.0.0.0/8 dev "${P}r"
	assert_usage_error "overlaps route 203.0.0.0/8" inhost sl-ipam alloc --range 203.0.113.0/24 "v$P-1"
}

@test "two SL_RUN_DIRs in two host namespaces do not see each other" {
	local other="${P}o"
	scratch_ns "$other"
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	run env SL_RUN_DIR="$BATS_TEST_TMPDIR/run2" nsenter --net="/run/netns/$other" \
		sl-ipam alloc --range 169.254.100.0/22 "$P-1"
	[ "$status" -eq 0 ]
	grep -qx "SL_IP=169.254.100.2" <<<"$output"
	run env SL_RUN_DIR="$BATS_TEST_TMPDIR/run2" nsenter --net="/run/netns/$other" sl-ipam list
	[ "${#lines[@]}" -eq 2 ]
	inhost sl-ipam release "$P-1"
	run env SL_RUN_DIR="$BATS_TEST_TMPDIR/run2" nsenter --net="/run/netns/$other" sl-ipam list
	[ "${#lines[@]}" -eq 2 ]
	rm -rf "$BATS_TEST_TMPDIR/run2"
}

@test "flags beat the environment; a stale SL_NAME does not lend its range" {
	run env SL_RANGE=169.254.100.0/22 nsenter --net="/run/netns/$HOST" \
		sl-ipam alloc --range 169.254.104.0/22 "$P-1"
	grep -qx "SL_RANGE=169.254.104.0/22" <<<"$output"
	# an exported SL_* set for another VM is ignored for this one
	run env SL_NAME=other-1 SL_RANGE=169.254.108.0/22 nsenter --net="/run/netns/$HOST" \
		sl-ipam alloc "$P-2"
	[ "$status" -eq 2 ]
	grep -q "needs --range" <<<"$output"
	# --env FILE feeds the inputs
	printf 'SL_NAME=%s\nSL_RANGE=169.254.104.0/22\n' "$P-3" >"$BATS_TEST_TMPDIR/in.env"
	run inhost sl-ipam alloc --env "$BATS_TEST_TMPDIR/in.env"
	[ "$status" -eq 0 ]
	grep -qx "SL_IP=169.254.104.6" <<<"$output"
}
