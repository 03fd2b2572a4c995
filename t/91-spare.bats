#!/usr/bin/env bats
# Spare clones: VMs restored from a snapshot ahead of time, each in a
# namespace of its own, that `sl-boot start --from` takes instead of
# restoring; a LAN and an internet to reach, in a scratch host.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	file_vms_up t 1 2 3
	export T="$P-t" S1="$P-1" S2="$P-2" S3="$P-3" SNAP="$BATS_FILE_TMPDIR/snap"
	inhost sl-boot start "$T" >/dev/null
	inhost sl-boot snapshot "$T" "$SNAP" --stop >/dev/null
	inhost sl-boot spare "$SNAP" >"$BATS_FILE_TMPDIR/spare1.out"
	inhost sl-boot spare "$SNAP" >"$BATS_FILE_TMPDIR/spare2.out"
	inhost sl-boot start "$S1" --from "$SNAP" >"$BATS_FILE_TMPDIR/s1.out"
	inhost sl-boot start "$S2" --from "$SNAP" --dns 198.51.100.53 >"$BATS_FILE_TMPDIR/s2.out"
}
teardown_file() {
	file_vms_down "$T" "$S1" "$S2" "$S3"
}

spare_of() { sed -n 's/^SL_SPARE=//p' "$BATS_FILE_TMPDIR/$1.out"; }

@test "start --from takes a spare: the VM's own address, MAC, route, name, name servers, clock; its processes and files are the VM's" {
	local s1 s2 c gw sup qemu
	s1=$(spare_of spare1) s2=$(spare_of spare2)
	[ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] || false
	# each start took one of the two, and they are gone from their namespaces
	[ "$(sort <(spare_of s1; spare_of s2) | tr '\n' ' ')" = "$(printf '%s\n' "$s1" "$s2" | sort | tr '\n' ' ')" ]
	run inhost sl-boot spare "$SNAP" --list
	grep -qx "SL_SPARES=0" <<<"$output"
	[ ! -e "/run/netns/$s1" ] && [ ! -e "/run/netns/$s2" ] && [ ! -e "$SL_RUN_DIR/.spares/$s1" ] || false
	for c in "$S1" "$S2"; do
		vm_is_itself "$c"
		gw=$(lease "$c" GW)
		# its TAP is the spare's, in its namespace as sl-tap leaves one
		inhost ip -n "$c" -j addr show tap0 |
			jq -e --arg gw "$gw" '.[0].addr_info[0].local == $gw and (.[0].flags | index("UP"))' >/dev/null
		inhost sl-tap check "$c" >/dev/null
		# its supervisor says the VM's name; its QEMU is that supervisor's child
		run inhost sl-boot status "$c"
		grep -qx "SL_STATE=running" <<<"$output"
		sup=$(sed -n 's/^SL_PID=//p' <<<"$output") qemu=$(sed -n 's/^SL_QEMU_PID=//p' <<<"$output")
		[ "$(tr '\0' ' ' <"/proc/$sup/cmdline" | awk '{print $2}')" = "$c" ]
		[ "$(awk '{print $4}' "/proc/$qemu/stat")" = "$sup" ]
		grep -qx "SL_RUN_DIR=$SL_RUN_DIR" < <(tr '\0' '\n' <"/proc/$sup/environ")
		[ -S "$SL_RUN_DIR/$c/agent.sock" ] && [ -S "$SL_RUN_DIR/$c/qmp.sock" ] && [ -e "$SL_RUN_DIR/$c/console.log" ] || false
		grep -q "now VM $c of $SL_RUN_DIR" "$SL_RUN_DIR/$c/supervisor.log"
	done
	[ "$(in_vm "$S1" -- cat /etc/resolv.conf)" = "$(printf 'nameserver 8.8.8.8\nnameserver 1.1.1.1')" ]
	[ "$(in_vm "$S2" -- cat /etc/resolv.conf)" = "nameserver 198.51.100.53" ]
	[ "$(in_vm "$S1" -- cat /proc/sys/kernel/random/uuid)" != "$(in_vm "$S2" -- cat /proc/sys/kernel/random/uuid)" ]
	# sl-gc takes the VMs for what they are: nothing of theirs is swept
	run inhost sl-gc --dry-run
	! grep -q "$S1\|$S2\|spare" <<<"$output" || false
}

@test "a VM from a spare is held by its own policy: what it allows, not the rest, not the other VMs, no spoofing" {
	in_vm "$S1" -- timeout 4 wget -q -O - http://203.0.113.10/ | grep -q "hello from $NET"
	in_vm "$S2" -- timeout 4 wget -q -O - http://198.51.100.10/ | grep -q "hello from $LAN"
	none_succeed "in_vm $S1 -- timeout 3 wget -q -O /dev/null http://198.51.100.10/" \
		"in_vm $S2 -- timeout 3 wget -q -O /dev/null http://203.0.113.10/" \
		"in_vm $S1 -- ping -c 1 -W 2 $(lease "$S2" IP)"
	wait_logged "$S1" "$S1 tcp 198.51.100.10:80"
	# the address a spare had in its own namespace gets nowhere
	in_vm "$S1" -- ip addr add 192.0.2.3/32 dev eth0
	run in_vm "$S1" -- ping -c 1 -W 2 -I 192.0.2.3 203.0.113.10
	[ "$status" -ne 0 ]
	in_vm "$S1" -- ip addr del 192.0.2.3/32 dev eth0
	wait_logged "$S1" "spoofed"
}

@test "stop leaves nothing; spare --stop ends a snapshot's spares; sl-gc ends those of a snapshot gone" {
	local copy="$BATS_TEST_TMPDIR/copy" s
	inhost sl-boot stop "$S2"
	run -1 inhost sl-boot status "$S2"
	[ ! -e "$SL_RUN_DIR/$S2/qmp.sock" ] && [ ! -e "$SL_RUN_DIR/$S2/agent.sock" ] || false
	! grep -q "^SL_SPARE=" "$SL_RUN_DIR/$S2/vm.env" || false
	s=$(inhost sl-boot spare "$SNAP" | sed -n 's/^SL_SPARE=//p')
	[ -e "/run/netns/$s" ]
	run inhost sl-boot spare "$SNAP" --list
	grep -qx "SL_SPARES=1" <<<"$output" && grep -qx "SL_SPARE_NAMES=$s" <<<"$output" || false
	run inhost sl-boot spare "$SNAP" --stop
	grep -qx "SL_STOPPED=1" <<<"$output"
	[ ! -e "/run/netns/$s" ] && [ ! -e "$SL_RUN_DIR/.spares/$s" ] || false
	! pgrep -f "sl-supervise $s" || false
	# a spare of a copy outlives nothing of it: sl-gc ends it once the copy goes
	cp -a "$SNAP" "$copy"
	s=$(inhost sl-boot spare "$copy" | sed -n 's/^SL_SPARE=//p')
	run inhost sl-gc --dry-run
	! grep -q "spare $s" <<<"$output" || false
	rm -rf "$copy"
	run inhost sl-gc
	echo "$output"
	grep -q "spare $s (its snapshot is gone or was made anew)" <<<"$output"
	[ ! -e "/run/netns/$s" ] && [ ! -e "$SL_RUN_DIR/.spares/$s" ] || false
	! pgrep -f "sl-supervise $s" || false
	# no spare: a restore as before
	inhost sl-boot start "$S2" --from "$SNAP" >"$BATS_TEST_TMPDIR/out"
	! grep -q "^SL_SPARE=" "$BATS_TEST_TMPDIR/out" || false
	[ "$(in_vm "$S2" -- hostname)" = "$S2" ]
}

@test "spare refuses what it cannot keep (2, one line, nothing made)" {
	local before
	before=$(owned_netns)
	assert_usage_error "not-a-snapshot" inhost sl-boot spare "$BATS_TEST_TMPDIR/not-a-snapshot"
	assert_usage_error "isolated mode" inhost sl-boot spare "$SNAP" --mode bridge
	assert_usage_error "spare takes DIR and --stop or --list" inhost sl-boot spare "$SNAP" --stop --list
	assert_usage_error "does not match the snapshot" inhost sl-boot spare "$SNAP" --mem 512
	assert_usage_error "--list is for spare only" inhost sl-boot status "$S1" --list
	[ "$(owned_netns)" = "$before" ]
	[ -z "$(ls "$SL_RUN_DIR/.spares")" ]
}

@test "kill -9 of a start taking a spare (its TAP moved, its supervisor not told): sl-gc ends the spare and undoes the start; the network stays, the VM starts again" {
	local s
	s=$(inhost sl-boot spare "$SNAP" | sed -n 's/^SL_SPARE=//p')
	killed_at taking "$S3" start "$S3" --from "$SNAP"
	run -1 inhost sl-boot status "$S3"
	grep -qx "SL_UNFINISHED=start" <<<"$output"
	# the spare's TAP is the VM's now
	! ip -n "$s" link show tap0 2>/dev/null || false
	run inhost sl-gc
	echo "$output"
	grep -qx "removed spare $s (its TAP was taken: a start killed half-way)" <<<"$output"
	grep -qx "removed VM $S3: its sl-boot start died before it ended: stopped" <<<"$output"
	! pgrep -f "sl-supervise $s" || false
	[ ! -e "/run/netns/$s" ] && [ ! -e "$SL_RUN_DIR/.spares/$s" ] || false
	run inhost sl-gc
	[ -z "$output" ]
	inhost sl-tap check "$S3" >/dev/null
	inhost sl-veth check "$S3" >/dev/null
	inhost sl-boot start "$S3" --from "$SNAP" >/dev/null
	[ "$(in_vm "$S3" -- hostname)" = "$S3" ]
	in_vm "$S3" -- ping -c 1 -W 2 "$(lease "$S3" GW)" >/dev/null
	inhost sl-boot stop "$S3"
}
