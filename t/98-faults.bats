#!/usr/bin/env bats
# Fault injection: every step of sl-up made to fail in turn for one VM
# (bin/.sl-up-fault, the test build: SL_FAULT=TOOL:VM), then: that VM is
# undone, the other is intact, sl-gc finds nothing, down leaves nothing.

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="f${P:1:4}"
	FAULTY="$TOP/bin/.sl-up-fault"
	[ -x "$FAULTY" ] || { echo "no $FAULTY: run make bin/.sl-up-fault" >&2; return 1; }
	cat >"$BATS_TEST_TMPDIR/c.yaml" <<Y
config:
  host_groups:
  - name: $G
    count: 2
    vcpu: 1
    ram_mb: 256
    network: {mode: isolated, range: "169.254.100.0/22", drop: ["198.51.100.0/24"]}
Y
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	inhost sl-up down "$BATS_TEST_TMPDIR/c.yaml" >/dev/null 2>&1 || true
	teardown_host
}

# fail_at WHAT [sl-up options]: $G-2 fails at WHAT; check the aftermath
fail_at() {
	local what=$1
	shift
	run inhost env SL_FAULT="$what:$G-2" "$FAULTY" -d "$@" "$BATS_TEST_TMPDIR/c.yaml"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "$G-2.*\(fault injected\|cannot start its worker\)" <<<"$output"
	# the failed VM: nothing of it anywhere
	[ ! -e "$SL_RUN_DIR/$G-2/vm.env" ]
	! ip netns list | grep -q "^$G-2\b" || false
	! grep -q "^$G-2 " "$SL_RUN_DIR/ipam/leases" || false
	! inhost ip link show "$G-2" >/dev/null 2>&1 || false
	[ "$(pgrep -c -f "qemu-system.*-name $G-2\b" || true)" = 0 ]
	# the other: whole
	inhost sl-netns check "$G-1"
	inhost sl-veth check "$G-1"
	inhost sl-tap check "$G-1"
	inhost sl-egress check "$G-1"
	! grep -q "^SL_OWNER" "$SL_RUN_DIR/$G-1/vm.env" || false
	[ -z "$(inhost sl-gc --dry-run)" ]
	inhost sl-up down "$BATS_TEST_TMPDIR/c.yaml" >/dev/null
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "a fault at each network step undoes that VM alone" {
	for step in sl-ipam sl-netns sl-veth sl-tap sl-egress fork; do
		echo "# fault at $step"
		fail_at "$step" --no-boot
	done
}

@test "a fault after the boot stops that VM and undoes its network; the other keeps running" {
	fail_at sl-boot
}

@test "the installed sl-up has no fault injection" {
	run inhost env SL_FAULT="sl-netns:$G-2" sl-up -d --no-boot "$BATS_TEST_TMPDIR/c.yaml"
	[ "$status" -eq 0 ]
	inhost sl-netns check "$G-2"
	inhost sl-up down "$BATS_TEST_TMPDIR/c.yaml" >/dev/null
}
