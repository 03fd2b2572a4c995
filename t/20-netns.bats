#!/usr/bin/env bats
# sl-netns: namespaces made as `ip netns add` makes them.

load helpers

setup() { setup_host; }
teardown() { teardown_host; }

@test "add makes a namespace ip(8) can use: lo up, IPv6 off, forwarding on" {
	run inhost sl-netns add "$P-1"
	[ "$status" -eq 0 ]
	[ "$output" = "SL_NETNS=/run/netns/$P-1" ]
	ip netns list | grep -q "^$P-1\b"
	[ "$(ip -n "$P-1" -j link show lo | jq -r '.[0].operstate')" = UNKNOWN ]
	ip -n "$P-1" -j link show lo | jq -e '.[0].flags | index("UP")'
	[ "$(ip netns exec "$P-1" sysctl -n net.ipv6.conf.all.disable_ipv6)" = 1 ]
	[ "$(ip netns exec "$P-1" sysctl -n net.ipv6.conf.default.disable_ipv6)" = 1 ]
	[ "$(ip netns exec "$P-1" sysctl -n net.ipv4.ip_forward)" = 1 ]
	[ -z "$(ip -n "$P-1" -6 addr)" ]
	run inhost sl-netns check "$P-1"
	[ "$status" -eq 0 ]
	run inhost sl-netns list
	[ "$output" = "$P-1" ]
}

@test "add twice is harmless; check finds a change; del twice succeeds" {
	inhost sl-netns add "$P-1" >/dev/null
	run inhost sl-netns add "$P-1"
	[ "$status" -eq 0 ]
	ip netns exec "$P-1" sysctl -qw net.ipv4.ip_forward=0
	run inhost sl-netns check "$P-1"
	[ "$status" -eq 1 ]
	grep -q "forwarding is off" <<<"$output"
	inhost sl-netns del "$P-1"
	! ip netns list | grep -q "^$P-1\b" || false
	[ ! -e "$SL_RUN_DIR/$P-1" ]
	inhost sl-netns del "$P-1"
}

@test "a foreign namespace of the same name is refused and untouched" {
	scratch_ns "$P-1"
	ip -n "$P-1" link add fa type veth peer name fb
	assert_usage_error "exists but was not made by sltools" inhost sl-netns add "$P-1"
	assert_usage_error "not made by sltools" inhost sl-netns del "$P-1"
	ip -n "$P-1" link show fa >/dev/null
	[ -z "$(inhost sl-netns list)" ]
}

@test "namespaces of another SL_RUN_DIR are not ours" {
	inhost sl-netns add "$P-1" >/dev/null
	run env SL_RUN_DIR="$BATS_TEST_TMPDIR/other" nsenter --net="/run/netns/$HOST" sl-netns del "$P-1"
	[ "$status" -eq 2 ]
	ip netns list | grep -q "^$P-1\b"
}

@test "two adds of one name at once both succeed: the loser never sees it half-made" {
	SCRATCH_NS+=("$P-1")
	for i in $(seq 20); do
		inhost sl-netns add "$P-1" >"$BATS_TEST_TMPDIR/a" 2>&1 & a=$!
		inhost sl-netns add "$P-1" >"$BATS_TEST_TMPDIR/b" 2>&1 & b=$!
		wait "$a" || { cat "$BATS_TEST_TMPDIR/a"; false; }
		wait "$b" || { cat "$BATS_TEST_TMPDIR/b"; false; }
		run inhost sl-netns check "$P-1"
		[ "$status" -eq 0 ]
		inhost sl-netns del "$P-1"
	done
}

@test "an empty mount point left by an add killed half-way is replaced by the next add, removed by del" {
	SCRATCH_NS+=("$P-1")
	touch "/run/netns/$P-1" # what a kill between the mount point and the bind leaves
	run inhost sl-netns add "$P-1"
	[ "$status" -eq 0 ]
	run inhost sl-netns check "$P-1"
	[ "$status" -eq 0 ]
	[ "$(stat -f -c %T "/run/netns/$P-1")" = nsfs ]
	inhost sl-netns del "$P-1"
	touch "/run/netns/$P-1"
	inhost sl-netns del "$P-1"
	[ ! -e "/run/netns/$P-1" ]
}

@test "del waits for a host veth an add left without its alias (killed half-way), even with the namespace held" {
	inhost sl-netns add "$P-1" >/dev/null
	# what a kill between making the pair and naming it ours leaves
	inhost ip link add "$P-1" type veth peer name veth0 netns "$P-1"
	# a process in the namespace keeps it, and so the pair, after del
	(exec ip netns exec "$P-1" sleep 20) &
	local holder=$!
	sleep 0.2
	inhost sl-netns del "$P-1"
	run inhost ip link show "$P-1"
	kill "$holder"
	[ "$status" -ne 0 ]
	# a veth of that name whose peer is elsewhere is not the VM's: left alone
	inhost sl-netns add "$P-1" >/dev/null
	inhost ip link add "$P-1" type veth peer name "$P-x"
	inhost sl-netns del "$P-1"
	inhost ip link show "$P-1" >/dev/null
	inhost ip link del "$P-1"
}

@test "sl-gc knows a VM's namespace by what it was: deleted outside sltools, even while torn down, its network goes" {
	vm_net_up "$P-1" 169.254.100.0/22 --drop 192.168.1.0/24
	vm_net_up "$P-2" 169.254.100.0/22 --drop 192.168.1.0/24
	grep -q '^SL_NETNS_ID=[0-9]*:[0-9]*$' "$SL_RUN_DIR/$P-1/vm.env"
	# the VM end moved out before the namespace goes: the host end stays, as
	# it does while the kernel tears a namespace down
	scratch_ns "$P-limbo"
	ip -n "$P-1" link set veth0 netns "$P-limbo"
	ip netns del "$P-1"
	inhost ip link show "$P-1" >/dev/null
	run inhost sl-gc --dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "would remove VM $P-1: the state of its namespace, deleted outside sltools" <<<"$output"
	grep -q "would remove VM $P-1: lease 169.254.100.2" <<<"$output"
	! grep -q "$P-2" <<<"$output" || false
	run inhost sl-gc
	[ "$status" -eq 0 ]
	[ ! -e "$SL_RUN_DIR/$P-1" ]
	! inhost sl-ipam list | grep -q "$P-1" || false
	! inhost ip link show "$P-1" 2>/dev/null || false
	# the other VM, its lease and the range's host rules are untouched
	inhost sl-ipam list | grep -q "$P-2"
	inhost sl-netns check "$P-2"
	inhost sl-egress check "$P-2"
	# the same name made again by someone else is not the VM's namespace
	ip netns del "$P-2"
	scratch_ns "$P-2" # someone else's now (teardown removes it, also on failure)
	run inhost sl-gc
	[ "$status" -eq 0 ]
	grep -q "VM $P-2: lease" <<<"$output"
	! grep -q "VM $P-2: namespace" <<<"$output" || false
	ip netns list | grep -q "^$P-2\b" # foreign now: left alone
	[ -z "$(inhost iptables-legacy -S | grep 169.254.100.0/22)" ]
}
