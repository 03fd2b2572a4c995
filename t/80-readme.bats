#!/usr/bin/env bats
# The README's by-hand pipeline and teardown work as written.

load helpers

setup() { setup_host; }
teardown() { teardown_host; }

# The first ```sh block of the README after a line holding TEXT.
readme_block() {
	awk -v text="$1" 'index($0, text) { seen = 1 } seen && /^```sh$/ { inb = 1; next }
		inb && /^```$/ { exit } inb' "$TOP/README.md"
}

@test "README pipeline: up, checks pass, teardown leaves nothing" {
	local name=untrusted-agents-1
	# the README uses the name untrusted-agents-1; run it only when nobody else has it
	if ip netns list | grep -q "^untrusted-agents-1\b"; then
		echo "a namespace untrusted-agents-1 exists on this machine" >&2
		return 1
	fi
	readme_block "Then, one layer at a time" >"$BATS_TEST_TMPDIR/up.sh"
	readme_block "Boot the VM on that network" >>"$BATS_TEST_TMPDIR/up.sh"
	readme_block "Teardown, in reverse" >"$BATS_TEST_TMPDIR/down.sh"
	grep -q "sl-ipam alloc" "$BATS_TEST_TMPDIR/up.sh"
	grep -q "sl-ipam release" "$BATS_TEST_TMPDIR/down.sh"
	kernel_state >"$BATS_TEST_TMPDIR/before"
	# the README's commands run from the checkout
	run inhost bash -c "cd '$TOP' && bash -e '$BATS_TEST_TMPDIR/up.sh'"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "VM untrusted-agents-1: address 169.254.100.2, gateway 169.254.100.1" <<<"$output"
	grep -q "inet 169.254.100.2/30" <<<"$output"
	grep -qx "status 7" <<<"$output"
	grep -q "Linux version" <<<"$output"
	# a name Slicer could not take: its host end derived, the alias its name
	inhost ip -j link show | jq -e --arg a "sltools:$SL_RUN_DIR veth untrusted-agents-1" \
		'[.[] | select(.ifalias == $a)] | length == 1 and (.[0].ifname | test("^untruste[+][0-9a-v]{6}$"))'
	ip netns exec "$name" iptables-legacy -S SL-FWD | grep -q 192.168.1.0/24
	run inhost bash -c "cd '$TOP' && bash -e '$BATS_TEST_TMPDIR/down.sh'"
	[ "$status" -eq 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "the short teardown (flush, netns del, release) leaves nothing either" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	vm_net_up "$P-1" 169.254.100.0/22 --drop 192.168.1.0/24
	inhost ip link show "$P-1" >/dev/null
	inhost sl-egress flush "$P-1"
	inhost sl-netns del "$P-1"
	! inhost ip link show "$P-1" 2>/dev/null || false
	inhost sl-tap del "$P-1"
	inhost sl-veth del "$P-1"
	inhost sl-ipam release "$P-1"
	[ ! -e "$SL_RUN_DIR/$P-1" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}
