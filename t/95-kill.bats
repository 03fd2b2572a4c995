#!/usr/bin/env bats
# sl-up killed: kill -9 of sl-up, of its workers, of a QEMU, at random
# points and during boots; then sl-gc: every VM whole or gone, nothing left,
# foreign objects untouched. (Split from 95-up.bats so that two test lanes
# share the work.)

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="k${P:1:4}" # group names: short, unique per test
}
teardown() {
	down_configs
	teardown_host
}

@test "kill -9 of sl-up and of a QEMU, then sl-gc: back to before; foreign objects survive" {
	# foreign objects the test makes: a namespace, a host link, a host rule
	scratch_ns "${P}f"
	ip -n "$HOST" link add "${P}x" type veth peer name "${P}y"
	inhost iptables-legacy -A FORWARD -s 203.0.113.99 -j DROP
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg pid
	cfg=$(example agents.yaml "$G")
	up_foreground "$cfg"
	pid=$UP_PID
	inhost sl-exec "$G-1" -- true
	# kill -9 the sl-up (nsenter's child) and one QEMU
	pkill -9 -f "sl-up $cfg"
	wait "$pid" || true
	kill -9 "$(cat "$SL_RUN_DIR/$G-2/qemu.pid")"
	run inhost sl-gc --dry-run
	grep -q "would remove VM $G-1" <<<"$output"
	grep -q "would remove VM $G-2" <<<"$output"
	[ -e "$SL_RUN_DIR/$G-1/vm.env" ]
	run inhost sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
	[ "$(pgrep -c -f "sl-supervise $G-" || true)" = 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(inhost sl-gc)" ]
	ip netns list | grep -q "^${P}f\b"
	inhost ip link show "${P}x" >/dev/null
	inhost iptables-legacy -C FORWARD -s 203.0.113.99 -j DROP
}

@test "sl-gc finds the QEMU and supervisor of a VM whose state dir was deleted, and nothing of the others" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg sup qemu
	cfg=$(example agents.yaml "$G")
	inhost sl-up -d "$cfg"
	sup=$(cat "$SL_RUN_DIR/$G-2/supervisor.pid") qemu=$(cat "$SL_RUN_DIR/$G-2/qemu.pid")
	rm -rf "${SL_RUN_DIR:?}/$G-2"
	run inhost sl-gc --dry-run
	echo "$output"
	grep -q "would remove supervisor $sup of $G-2 (no state)" <<<"$output"
	grep -q "would remove QEMU $qemu of $G-2 (no state)" <<<"$output"
	! grep -q "$G-1" <<<"$output" || false
	pid_alive "$qemu"
	run inhost sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	! pid_alive "$qemu" || false
	! pid_alive "$sup" || false
	! ip netns list | grep -q "^$G-2\b" || false
	! grep -q "^$G-2 " "$SL_RUN_DIR/ipam/leases" || false
	inhost sl-exec "$G-1" -- true
	inhost sl-up down "$cfg"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

# sl-up's workers (and the sl-boot they run) die with it, each once its
# system call of the moment returns: what they leave is known only then.
gone_workers() {
	for _ in $(seq 100); do
		pgrep -f "sl-up .*$cfg" >/dev/null || pgrep -f "sl-boot start $G-" >/dev/null || return 0
		sleep 0.05
	done
	echo "sl-up's workers outlived it by 5 s" >&2
	return 1
}

# After a kill and sl-gc, each VM of group $G is whole or gone: no half-made
# one (a lease, a state dir, a namespace or a process with nobody to finish it).
whole_or_gone() {
	local n
	for n in "$G-1" "$G-2"; do
		if [ -e "$SL_RUN_DIR/$n/vm.env" ]; then
			grep -q "^SL_EGRESS_RANGE=" "$SL_RUN_DIR/$n/vm.env" || { cat "$SL_RUN_DIR/$n/vm.env"; return 1; }
			if grep -q "^SL_OWNER_PID=" "$SL_RUN_DIR/$n/vm.env"; then echo "$n: owner left"; return 1; fi
			inhost sl-netns check "$n" >/dev/null || return 1
		else
			if ip netns list | grep -q "^$n\b"; then echo "$n: namespace, no state"; return 1; fi
			if grep -q "^$n " "$SL_RUN_DIR/ipam/leases" 2>/dev/null; then echo "$n: lease, no state"; return 1; fi
			[ ! -e "$SL_RUN_DIR/$n" ] || { ls -la "$SL_RUN_DIR/$n"; return 1; }
			[ "$(pgrep -c -f "qemu-system.*-name $n\b" || true)" = 0 ] || { echo "$n: QEMU"; return 1; }
		fi
	done
}

@test "kill -9 of sl-up -d at 50 random points (with and without boots), then sl-gc: each VM whole or gone" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg pid boot ms
	cfg=$(example agents.yaml "$G")
	for i in $(seq 50); do
		boot=--no-boot
		[ $((i % 2)) = 0 ] || boot=
		ms=$((RANDOM % 300))
		(exec nsenter --net="/run/netns/$HOST" sl-up -d $boot "$cfg" </dev/null >/dev/null 2>&1) &
		pid=$!
		sleep "$(printf '0.%03d' "$ms")"
		kill -9 "$pid" 2>/dev/null || true
		# (the shell's "Killed" line for each round would bury a failure's own)
		wait "$pid" 2>/dev/null || true
		gone_workers
		inhost sl-gc >"$BATS_TEST_TMPDIR/gc.out"
		whole_or_gone || { echo "round $i ($boot, killed at $ms ms)"; cat "$BATS_TEST_TMPDIR/gc.out"; false; }
		inhost sl-up down "$cfg" >/dev/null
		diff "$BATS_TEST_TMPDIR/before" <(kernel_state) ||
			{ echo "round $i ($boot, killed at $ms ms)"; cat "$BATS_TEST_TMPDIR/gc.out"; false; }
	done
	[ -z "$(inhost sl-gc)" ]
}

@test "kill -9 of a foreground sl-up's process group during boot, then sl-gc: nothing left, 5 of 5" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg pid
	cfg=$(example agents.yaml "$G")
	for i in $(seq 5); do
		# its own process group, as a shell job is; Ctrl-\ kills the whole group
		setsid nsenter --net="/run/netns/$HOST" sl-up "$cfg" </dev/null >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			pgrep -f "qemu-system.*-name $G-" >/dev/null && break
			sleep 0.05
		done
		kill -9 -- "-$pid"
		wait "$pid" || true
		gone_workers
		inhost sl-gc >/dev/null
		[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
		[ "$(pgrep -c -f "sl-supervise $G-" || true)" = 0 ]
		[ -z "$(ls "$SL_RUN_DIR" | grep "^$G-" || true)" ]
		diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	done
}

