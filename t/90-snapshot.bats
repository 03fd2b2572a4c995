#!/usr/bin/env bats
# Snapshots and clones: one VM booted cold (the template) and snapshotted,
# two clones restored from it, each in its own namespace with its own
# lease and policy; a LAN and an internet to reach, in a scratch host.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	file_vms_up t 1 2 3
	export T="$P-t" C1="$P-1" C2="$P-2" C3="$P-3" SNAP="$BATS_FILE_TMPDIR/snap"
	inhost sl-boot start "$T" >/dev/null
	inhost sl-boot snapshot "$T" "$SNAP" >"$BATS_FILE_TMPDIR/snap.out"
	inhost sl-boot start "$C1" --from "$SNAP" >"$BATS_FILE_TMPDIR/c1.out"
	inhost sl-boot start "$C2" --from "$SNAP" --dns 198.51.100.53,203.0.113.53 >/dev/null
}
teardown_file() {
	file_vms_down "$T" "$C1" "$C2" "$C3"
}


@test "snapshot: state and memory written 0600, the manifest names what it was made of; the template runs on" {
	grep -qx "SL_SNAPSHOT=$SNAP" "$BATS_FILE_TMPDIR/snap.out"
	grep -q "^SL_PAUSED_MS=[0-9]*$" "$BATS_FILE_TMPDIR/snap.out"
	[ "$(stat -c %a "$SNAP")" = 700 ]
	[ "$(stat -c %a "$SNAP/state")" = 600 ] && [ "$(stat -c %a "$SNAP/memory")" = 600 ] || false
	# guest RAM is left out of QEMU's state: tens of KB, the RAM file 256 MB sparse
	[ "$(stat -c %s "$SNAP/state")" -lt 1000000 ]
	[ "$(stat -c %s "$SNAP/memory")" = $((256 << 20)) ]
	grep -qx "SL_SNAPSHOT_OF=$T" "$SNAP/snapshot.env"
	grep -qx "SL_MEM=256" "$SNAP/snapshot.env" && grep -qx "SL_VCPU=1" "$SNAP/snapshot.env" || false
	grep -qx "SL_STATE_SHA256=$(sha256sum <"$SNAP/state" | cut -d' ' -f1)" "$SNAP/snapshot.env"
	[ "$(in_vm "$T" -- hostname)" = "$T" ]
	run inhost sl-boot status "$T"
	grep -qx "SL_STATE=running" <<<"$output"
}

@test "clones: each its own address, MAC, route, name and randomness, the host's clock; they share the template's pages" {
	grep -qx "SL_SNAPSHOT=$SNAP" "$BATS_FILE_TMPDIR/c1.out"
	local c u1 u2 r1 r2
	for c in "$C1" "$C2"; do
		vm_is_itself "$c"
	done
	u1=$(in_vm "$C1" -- cat /proc/sys/kernel/random/uuid)
	u2=$(in_vm "$C2" -- cat /proc/sys/kernel/random/uuid)
	r1=$(in_vm "$C1" -- sh -c 'head -c 16 /dev/urandom | od -An -tx1')
	r2=$(in_vm "$C2" -- sh -c 'head -c 16 /dev/urandom | od -An -tx1')
	[ "$u1" != "$u2" ] && [ "$r1" != "$r2" ] || false
	# name servers: C1 has the template's (the default), C2 its own
	[ "$(in_vm "$C1" -- cat /etc/resolv.conf)" = "$(printf 'nameserver 8.8.8.8\nnameserver 1.1.1.1')" ]
	[ "$(in_vm "$C2" -- cat /etc/resolv.conf)" = "$(printf 'nameserver 198.51.100.53\nnameserver 203.0.113.53')" ]
	# a clone's QEMU costs a fraction of a cold one: unwritten pages are the snapshot's
	local pt pc
	pt=$(inhost sl-boot status "$T" | sed -n 's/^SL_PSS_KB=//p')
	pc=$(inhost sl-boot status "$C1" | sed -n 's/^SL_PSS_KB=//p')
	echo "PSS: template $pt kB, clone $pc kB" >&2
	[ "$pc" -gt 0 ] && [ "$pc" -lt $((pt * 2 / 3)) ] || false
}

@test "a clone's network is its own namespace's: its policy, its log, no spoofing the template's address" {
	local tip
	tip=$(lease "$T" IP)
	# C1 may reach the internet, not the LAN; C2 the other way round
	in_vm "$C1" -- timeout 4 wget -q -O - http://203.0.113.10/ | grep -q "hello from $NET"
	in_vm "$C2" -- timeout 4 wget -q -O - http://198.51.100.10/ | grep -q "hello from $LAN"
	none_succeed "in_vm $C1 -- timeout 3 wget -q -O /dev/null http://198.51.100.10/" \
		"in_vm $C2 -- timeout 3 wget -q -O /dev/null http://203.0.113.10/" \
		"in_vm $C1 -- ping -c 1 -W 2 $(lease "$C2" IP)" \
		"in_vm $C1 -- ping -c 1 -W 2 $tip"
	wait_logged "$C1" "$C1 tcp 198.51.100.10:80"
	! inhost sl-egress log "$C2" | grep -q "$C1" || false
	# the template's own address, taken by a clone, gets nowhere
	in_vm "$C1" -- ip addr add "$tip/32" dev eth0
	run in_vm "$C1" -- ping -c 1 -W 2 -I "$tip" 203.0.113.10
	[ "$status" -ne 0 ]
	in_vm "$C1" -- ip addr del "$tip/32" dev eth0
	wait_logged "$C1" "spoofed"
}

@test "clones write their own memory: the snapshot's files stay as written; pause and resume" {
	in_vm "$C1" -- dd if=/dev/urandom of=/tmp/fill bs=1M count=40 2>/dev/null
	in_vm "$C2" -- dd if=/dev/zero of=/tmp/fill bs=1M count=40 2>/dev/null
	grep -qx "SL_MEMORY_SHA256=$(sha256sum <"$SNAP/memory" | cut -d' ' -f1)" "$SNAP/snapshot.env"
	grep -qx "SL_STATE_SHA256=$(sha256sum <"$SNAP/state" | cut -d' ' -f1)" "$SNAP/snapshot.env"
	inhost sl-boot pause "$C2"
	run timeout 3 nsenter --net="/run/netns/$HOST" sl-exec "$C2" -- true
	[ "$status" -eq 124 ]
	inhost sl-boot resume "$C2"
	in_vm "$C2" -- true
}

@test "restore refuses another kernel, memory size or vCPU count (2), an altered or truncated file (1); nothing runs after" {
	assert_usage_error "does not match the snapshot's 256" inhost sl-boot start "$C3" --from "$SNAP" --mem 512
	assert_usage_error "does not match the snapshot's 1" inhost sl-boot start "$C3" --from "$SNAP" --vcpu 2
	cp "$(sed -n 's/^SL_KERNEL=//p' "$SNAP/snapshot.env")" "$BATS_TEST_TMPDIR/other-kernel"
	echo x >>"$BATS_TEST_TMPDIR/other-kernel"
	assert_usage_error "is not the one the snapshot was made with" \
		inhost sl-boot start "$C3" --from "$SNAP" --kernel "$BATS_TEST_TMPDIR/other-kernel"
	# another QEMU (here one byte longer): its state would not load
	cp "$(command -v qemu-system-x86_64)" "$BATS_TEST_TMPDIR/other-qemu"
	echo x >>"$BATS_TEST_TMPDIR/other-qemu"
	SL_QEMU="$BATS_TEST_TMPDIR/other-qemu" assert_usage_error \
		"QEMU $BATS_TEST_TMPDIR/other-qemu is not the one the snapshot was made with" \
		inhost sl-boot start "$C3" --from "$SNAP"
	grep -qx "SL_QEMU=$(realpath "$(command -v qemu-system-x86_64)")" "$SNAP/snapshot.env"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/empty"
	assert_usage_error "is not a snapshot" inhost sl-boot start "$C3" --from "$BATS_TEST_TMPDIR/empty"
	ln -s "$SNAP" "$BATS_TEST_TMPDIR/link"
	assert_usage_error "is a link" inhost sl-boot start "$C3" --from "$BATS_TEST_TMPDIR/link"
	local bad="$BATS_TEST_TMPDIR/bad"
	cp -a "$SNAP" "$bad"
	chmod 0777 "$bad"
	assert_usage_error "writable by others" inhost sl-boot start "$C3" --from "$bad"
	chmod 0700 "$bad"
	# a snapshot of an older sltools: its guest's agent takes no MAC
	sed -i 's/^SL_SNAPSHOT_VERSION=.*/SL_SNAPSHOT_VERSION=2/' "$bad/snapshot.env"
	assert_usage_error "a snapshot of version 2, not 4" inhost sl-boot start "$C3" --from "$bad"
	cp "$SNAP/snapshot.env" "$bad/snapshot.env"
	# a copy elsewhere is fine (its memory file is hashed again), an altered one is not
	printf '\x01' | dd of="$bad/state" bs=1 seek=100 conv=notrunc 2>/dev/null
	run -1 inhost sl-boot start "$C3" --from "$bad"
	grep -q "state is not what was written" <<<"$output"
	cp "$SNAP/state" "$bad/state"
	truncate -s 128M "$bad/memory"
	run -1 inhost sl-boot start "$C3" --from "$bad"
	grep -q "memory is not what was written" <<<"$output"
	run -1 inhost sl-boot status "$C3"
	grep -qx "SL_STATE=stopped" <<<"$output"
	[ ! -e "$SL_RUN_DIR/$C3/qmp.sock" ]
	! pgrep -f -- "-name $C3 " || false
	# snapshots: into an existing directory, of a VM not running
	assert_usage_error "exists" inhost sl-boot snapshot "$T" "$SNAP"
	assert_usage_error "is not running" inhost sl-boot snapshot "$C3" "$BATS_TEST_TMPDIR/s3"
	[ ! -e "$BATS_TEST_TMPDIR/s3" ]
}

@test "a snapshot of a clone holds the memory its guest sees: the template's pages and what the clone wrote; a VM restored from it has that memory, and can be snapshotted again" {
	local s1="$BATS_TEST_TMPDIR/s1" s3="$BATS_TEST_TMPDIR/s3" qemu
	in_vm "$C1" -- sh -c 'echo written-in-c1 >/root/mark'
	inhost sl-boot snapshot "$C1" "$s1" >/dev/null
	# the state is the devices' alone; what the clone wrote is in its memory
	# file, not in the template's it maps
	[ "$(stat -c %s "$s1/state")" -lt 1000000 ]
	grep -qa written-in-c1 "$s1/memory"
	! grep -qa written-in-c1 "$SNAP/memory" || false
	inhost sl-boot start "$C3" --from "$s1" >/dev/null
	[ "$(in_vm "$C3" -- cat /root/mark)" = written-in-c1 ]
	[ "$(in_vm "$C3" -- hostname)" = "$C3" ]
	in_vm "$C3" -- ip -4 -o addr show eth0 | grep -q "inet $(lease "$C3" IP)/30"
	qemu=$(sed -n 's/^SL_QEMU_PID=//p' "$SL_RUN_DIR/$C3/vm.env")
	grep -q " $s1/memory\$" "/proc/$qemu/maps"
	# and again, of the VM restored from it
	in_vm "$C3" -- sh -c 'echo written-in-c3 >/root/mark3'
	inhost sl-boot snapshot "$C3" "$s3" >/dev/null
	grep -qa written-in-c3 "$s3/memory"
	# pages of zeros stay holes: the file holds what the guests wrote
	[ "$(du -k "$s3/memory" | cut -f1)" -lt 200000 ]
	inhost sl-boot stop "$C3"
	inhost sl-boot start "$C3" --from "$s3" >/dev/null
	[ "$(in_vm "$C3" -- cat /root/mark /root/mark3)" = "$(printf 'written-in-c1\nwritten-in-c3')" ]
	inhost sl-boot stop "$C3"
}

@test "a clone started from a good copy of the snapshot runs, without the template's name servers (--dns none); stop leaves no QEMU, no sockets" {
	local good="$BATS_TEST_TMPDIR/good"
	cp -a "$SNAP" "$good"
	inhost sl-boot start "$C3" --from "$good" --dns none >/dev/null
	[ "$(in_vm "$C3" -- hostname)" = "$C3" ]
	[ -z "$(in_vm "$C3" -- cat /etc/resolv.conf)" ]
	inhost sl-boot stop "$C3"
	run -1 inhost sl-boot status "$C3"
	grep -qx "SL_STATE=stopped" <<<"$output"
	[ ! -e "$SL_RUN_DIR/$C3/qmp.sock" ] && [ ! -e "$SL_RUN_DIR/$C3/agent.sock" ] || false
	! grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$C3/vm.env" || false
}

@test "snapshot --quick of a clone: identities, no SHA-256, a copy refused (1); the pages its guest wrote, restored over its template's memory; that memory made again: refused (1)" {
	local q="$BATS_TEST_TMPDIR/quick" base="$BATS_TEST_TMPDIR/base" qemu
	cp -a "$SNAP" "$base"
	inhost sl-boot start "$C3" --from "$base" >/dev/null
	in_vm "$C3" -- sh -c 'echo quick-in-c3 >/root/qmark'
	inhost sl-boot snapshot "$C3" "$q" --quick >/dev/null
	inhost sl-boot stop "$C3"
	grep -q "^SL_STATE_ID=" "$q/snapshot.env"
	! grep -q "_SHA256=" "$q/snapshot.env" || false
	# no memory: the pages the guest wrote over the file its RAM maps, named
	grep -qx "SL_RAM_BASE=$base/memory" "$q/snapshot.env"
	[ ! -e "$q/memory" ]
	grep -qa quick-in-c3 "$q/written"
	! grep -qa quick-in-c3 "$base/memory" || false
	[ "$(stat -c %s "$q/written.map")" = 8193 ] # a bit for each page of 256 MiB
	cp -a "$q" "$q.copy"
	run -1 inhost sl-boot start "$C3" --from "$q.copy"
	grep -q "no SHA-256 to check a copy by" <<<"$output"
	run -1 inhost sl-boot status "$C3"
	inhost sl-boot start "$C3" --from "$q" >/dev/null
	[ "$(in_vm "$C3" -- cat /root/qmark)" = quick-in-c3 ]
	[ "$(in_vm "$C3" -- hostname)" = "$C3" ]
	qemu=$(sed -n 's/^SL_QEMU_PID=//p' "$SL_RUN_DIR/$C3/vm.env")
	grep -q " $base/memory\$" "/proc/$qemu/maps"
	grep -qx "SL_RAM_BASE=$base/memory" "$SL_RUN_DIR/$C3/vm.env"
	inhost sl-boot stop "$C3"
	! grep -q "^SL_RAM_BASE=" "$SL_RUN_DIR/$C3/vm.env" || false
	# the memory under it changed since (its ctime): refused, nothing runs
	chmod 600 "$base/memory"
	run -1 inhost sl-boot start "$C3" --from "$q"
	grep -q "is not the file it was made over" <<<"$output"
	run -1 inhost sl-boot status "$C3"
	! pgrep -f -- "-name $C3 " || false
	assert_usage_error "--quick is for snapshot only" inhost sl-boot start "$C3" --quick
}

@test "a snapshot of a paused VM leaves it paused" {
	inhost sl-boot pause "$C2"
	inhost sl-boot snapshot "$C2" "$BATS_TEST_TMPDIR/s5" >/dev/null
	run timeout 3 nsenter --net="/run/netns/$HOST" sl-exec "$C2" -- true
	[ "$status" -eq 124 ]
	inhost sl-boot resume "$C2"
	in_vm "$C2" -- true
}

@test "kill -9 of sl-boot snapshot while the VM is paused, and of start --from before the guest took its identity: status says so, sl-gc undoes each, the networks stay" {
	local s4="$BATS_TEST_TMPDIR/s4" qemu abs
	# a snapshot killed with the VM paused and half its files written: in
	# the temporary directory beside its own, which never came to be
	killed_at paused "$C1" snapshot "$C1" "$s4"
	[ ! -e "$s4" ]
	abs=$(realpath "$s4".tmp-*)
	[ -e "$abs/state" ] && [ ! -e "$abs/snapshot.env" ] || false
	run timeout 3 nsenter --net="/run/netns/$HOST" sl-exec "$C1" -- true
	[ "$status" -eq 124 ]
	run inhost sl-boot status "$C1"
	grep -qx "SL_UNFINISHED=snapshot" <<<"$output"
	# a restore killed while QEMU waits for its state, then one killed
	# after the load, its guest running as the template
	for point in loading restored; do
		killed_at "$point" "$C3" start "$C3" --from "$SNAP"
		# killed at "loading" the moment QEMU was spawned: its supervisor
		# may write qemu.pid a moment after
		for _ in $(seq 50); do
			grep -qs . "$SL_RUN_DIR/$C3/qemu.pid" && break
			sleep 0.1
		done
		run -1 inhost sl-boot status "$C3"
		grep -qx "SL_STATE=broken" <<<"$output"
		grep -qx "SL_UNFINISHED=start" <<<"$output"
		qemu=$(sed -n 's/^SL_QEMU_PID=//p' <<<"$output")
		pid_alive "$qemu"
		run inhost sl-gc
		echo "$output"
		grep -qx "removed VM $C3: its sl-boot start died before it ended: stopped" <<<"$output"
		if [ "$point" = loading ]; then
			grep -qx "removed half-made snapshot $abs of $C1 (its sl-boot snapshot died)" <<<"$output"
			[ ! -e "$abs" ] && [ ! -e "$s4" ] || false
			grep -qx "removed the pause of $C1 for a snapshot (it runs on)" <<<"$output"
		fi
		! pid_alive "$qemu" || false
		run -1 inhost sl-boot status "$C3"
		grep -qx "SL_STATE=stopped" <<<"$output"
		! grep -q "SL_UNFINISHED" <<<"$output" || false
	done
	# the first sl-gc took the snapshot's half: its files gone, the VM runs on
	[ ! -e "$s4" ]
	in_vm "$C1" -- true
	run inhost sl-boot status "$C1"
	! grep -q "SL_UNFINISHED" <<<"$output" || false
	# nothing else was touched: the networks are whole, C3 starts again
	run inhost sl-gc
	[ -z "$output" ]
	inhost sl-netns check "$C3" >/dev/null
	inhost sl-veth check "$C3" >/dev/null
	inhost sl-boot start "$C3" --from "$SNAP" >/dev/null
	[ "$(in_vm "$C3" -- hostname)" = "$C3" ]
	inhost sl-boot stop "$C3"
}
