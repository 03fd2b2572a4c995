#!/usr/bin/env bats
# The run dir is the tools' record of what they made: only they may write it,
# and nothing planted in it is followed (docs/SECURITY.md).

load helpers

setup() {
	setup_host
	VICTIM="$BATS_TEST_TMPDIR/victim"
	mkdir -p "$VICTIM/dir"
	echo precious >"$VICTIM/file"
	echo precious >"$VICTIM/dir/keep"
}
teardown() { teardown_host; }

victim_intact() {
	[ "$(cat "$VICTIM/file")" = precious ] && [ "$(cat "$VICTIM/dir/keep")" = precious ] &&
		[ "$(ls -A "$VICTIM/dir")" = keep ] ||
		{ echo "the victim changed:" >&2; ls -la "$VICTIM" "$VICTIM/dir" >&2; return 1; }
}

@test "a run dir writable by others, owned by another user, or a link: refused, nothing made" {
	local d="$BATS_TEST_TMPDIR/shared"
	SCRATCH_NS+=("$P-1") # under a foreign run dir teardown would not find it
	mkdir -m 0777 "$d"
	chmod 0777 "$d"
	SL_RUN_DIR=$d assert_usage_error "SL_RUN_DIR $d is writable by others (mode 777): refusing it" \
		inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1"
	chmod 0755 "$d"
	chown 65534 "$d"
	SL_RUN_DIR=$d assert_usage_error "is owned by uid 65534, not by us (uid 0)" inhost sl-netns add "$P-1"
	ln -s "$VICTIM/dir" "$BATS_TEST_TMPDIR/link"
	SL_RUN_DIR="$BATS_TEST_TMPDIR/link" assert_usage_error "is a link, not a directory" \
		inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1"
	[ -z "$(ls -A "$d")" ]
	[ -z "$(ip netns list | grep "^$P-1\b")" ]
	victim_intact
}

@test "a run dir made by another user holding VM -> /victim/dir: down and gc delete nothing there" {
	local d="$BATS_TEST_TMPDIR/shared"
	mkdir -m 0777 "$d"
	chmod 0777 "$d"
	ln -s "$VICTIM/dir" "$d/$P-1"
	printf 'config:\n  host_groups:\n  - name: %s\n    count: 1\n    network:\n      mode: isolated\n      range: 169.254.100.0/22\n' \
		"$P" >"$BATS_TEST_TMPDIR/c.yaml"
	SL_RUN_DIR=$d run inhost sl-up down "$BATS_TEST_TMPDIR/c.yaml"
	[ "$status" -ne 0 ]
	grep -q "writable by others" <<<"$output"
	SL_RUN_DIR=$d run inhost sl-gc
	[ "$status" -ne 0 ]
	victim_intact
}

@test "in our own run dir, links planted for console.log, supervisor.log, a VM's dir, vm.env and temporaries are never followed" {
	vm_net_up "$P-1" 169.254.100.0/22
	# the console log: sl-boot start must not truncate and fill the file it points at
	ln -s "$VICTIM/file" "$SL_RUN_DIR/$P-1/console.log"
	run inhost sl-boot start "$P-1" --timeout 20
	[ "$status" -ne 0 ]
	grep -qi "symbolic links" <<<"$output"
	victim_intact
	rm "$SL_RUN_DIR/$P-1/console.log"
	rm -f "$SL_RUN_DIR/$P-1/supervisor.log"
	ln -s "$VICTIM/file" "$SL_RUN_DIR/$P-1/supervisor.log"
	run inhost sl-boot start "$P-1" --timeout 20
	inhost sl-boot stop "$P-1" --timeout 0 >/dev/null 2>&1 || true
	victim_intact
	# a VM's state directory planted as a link elsewhere receives nothing
	ln -s "$VICTIM/dir" "$SL_RUN_DIR/$P-2"
	assert_usage_error "state directory $SL_RUN_DIR/$P-2 is a link" \
		inhost sl-ipam alloc --range 169.254.100.0/22 "$P-2"
	# vm.env through a link is not read: a teardown takes only what the tools recorded
	mkdir -m 0700 "$SL_RUN_DIR/$P-3"
	printf 'SL_EGRESS_RANGE=0.0.0.0/0\n' >"$VICTIM/env"
	ln -s "$VICTIM/env" "$SL_RUN_DIR/$P-3/vm.env"
	run inhost sl-egress flush "$P-3"
	[ "$status" -ne 0 ]
	grep -q "vm.env is a link: refusing to read it" <<<"$output"
	# the lease file's temporary: a planted link is replaced, not written through
	ln -s "$VICTIM/file" "$SL_RUN_DIR/ipam/.leases.tmp"
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-4" >/dev/null
	grep -q "^$P-4 " "$SL_RUN_DIR/ipam/leases"
	# and the same for a VM's env file's temporary
	ln -s "$VICTIM/file" "$SL_RUN_DIR/$P-1/.vm.env.tmp"
	inhost sl-egress apply "$P-1" --drop 192.0.2.0/24 >/dev/null
	grep -q "SL_DROP=192.0.2.0/24" "$SL_RUN_DIR/$P-1/vm.env"
	victim_intact
	rm -f "$SL_RUN_DIR/$P-2" "$SL_RUN_DIR/$P-3/vm.env"
}

@test "what the tools make under the run dir is theirs alone: directories 0700, files 0600" {
	vm_net_up "$P-1" 169.254.100.0/22 --drop 192.0.2.0/24
	[ "$(stat -c %a "$SL_RUN_DIR")" = 700 ]
	[ "$(stat -c %a "$SL_RUN_DIR/$P-1")" = 700 ]
	[ "$(stat -c %a "$SL_RUN_DIR/$P-1/vm.env")" = 600 ]
	[ "$(stat -c %a "$SL_RUN_DIR/ipam/leases")" = 600 ]
	[ -z "$(find "$SL_RUN_DIR" -perm /022)" ]
}

@test "sl-gc removes a VM dir that a kill left empty or with only a cut-short first write, and nothing else" {
	mkdir -p "$SL_RUN_DIR/torn-1" "$SL_RUN_DIR/torn-2" "$SL_RUN_DIR/keep-1" "$SL_RUN_DIR/egress"
	chmod 700 "$SL_RUN_DIR" "$SL_RUN_DIR/torn-1" "$SL_RUN_DIR/torn-2" "$SL_RUN_DIR/keep-1"
	echo "SL_NAME=torn-1" >"$SL_RUN_DIR/torn-1/.vm.env.tmp"
	echo "SL_NAME=keep-1" >"$SL_RUN_DIR/keep-1/.vm.env.tmp"
	echo "a log" >"$SL_RUN_DIR/keep-1/console.log"
	run inhost sl-gc --dry-run
	grep -q "torn-1: a state directory left empty or with only a cut-short write" <<<"$output"
	grep -q "torn-2: a state directory left empty or with only a cut-short write" <<<"$output"
	! grep -q "egress" <<<"$output" || false
	[ -e "$SL_RUN_DIR/torn-1" ]
	run inhost sl-gc
	[ "$status" -eq 0 ]
	[ ! -e "$SL_RUN_DIR/torn-1" ] && [ ! -e "$SL_RUN_DIR/torn-2" ] || false
	[ -e "$SL_RUN_DIR/keep-1/console.log" ]
	! grep -q keep-1 <<<"$output" || false
}
