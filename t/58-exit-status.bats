#!/usr/bin/env bats
# Every tool's exit statuses, audited against its man page: each status a
# row below produces must be the one the page's EXIT STATUS names for it.

load helpers

setup() {
	setup_host
	# One namespace whose forwarding is off: a difference for `check`.
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	inhost sl-netns add "$P-1" >/dev/null
	ip netns exec "$P-1" sysctl -qw net.ipv4.ip_forward=0
	printf 'config:\n  host_groups: [\n' >"$BATS_TEST_TMPDIR/bad.yaml"
}
teardown() { teardown_host; }

# documented TOOL N: the page's EXIT STATUS section names status N
documented() {
	sed -n '/^# EXIT STATUS/,/^# [A-Z]/p' "$TOP/man/$1.1.scd" | grep -q "\*$2\*"
}

# row WANT TOOL ARGS...: the tool exits WANT, and its page says so
row() {
	local want=$1 tool=$2 rc=0
	shift
	inhost "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "$*: exit $rc, want $want: $(cat "$BATS_TEST_TMPDIR/err")" >&2
		return 1
	fi
	documented "$tool" "$want" || { echo "man/$tool.1.scd does not document exit $want" >&2; return 1; }
}

@test "--help is 0 and an unknown option 2 for every tool, as each page says" {
	for t in sl-ipam sl-netns sl-veth sl-tap sl-egress sl-boot sl-exec sl-gc sl-up; do
		row 0 "$t" --help
		row 2 "$t" --no-such-option
	done
}

@test "failures are 1, bad input 2, per tool, as each page says" {
	row 2 sl-ipam alloc --range 169.254.108.0/33 "$P-2"
	row 2 sl-netns add "$P-name-over-63-bytes-$(printf 'x%.0s' $(seq 50))"
	row 1 sl-netns check "$P-1"
	row 2 sl-veth add "$P-9"
	row 2 sl-tap add "$P-9"
	row 2 sl-egress apply "$P-9"
	row 2 sl-egress apply "$P-1" --drop 10.0.0.0/33
	row 1 sl-boot status "$P-1"
	row 2 sl-boot start "$P-9"
	row 0 sl-gc
	row 2 sl-up "$BATS_TEST_TMPDIR/bad.yaml"
}

@test "sl-exec: 255 for its own failure, 2 for bad input; a command's 2 stays 2" {
	row 255 sl-exec "$P-1" -- true
	row 2 sl-exec "$P-name-over-63-bytes-$(printf 'x%.0s' $(seq 50))" -- true
	# the command's own statuses are proven through a VM in 90-vm.bats
	documented sl-exec 255
}
