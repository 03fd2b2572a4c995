#!/usr/bin/env bats
# Bad input: exit 2, one clear line on stderr, nothing on stdout, nothing made.

load helpers

setup() {
	setup_host
	# One VM that exists, so that conflicts can be tried against it.
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	inhost sl-netns add "$P-1" >/dev/null
	inhost sl-ipam alloc --range 169.254.104.0/30 "$P-2" >/dev/null
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	kernel_state >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after" || {
		echo "bad input left something behind" >&2
		teardown_host
		return 1
	}
	teardown_host
}

@test "range: not a CIDR" {
	assert_usage_error "bad range 'banana'" inhost sl-ipam alloc --range banana "$P-3"
}
@test "range: prefix /33" {
	assert_usage_error "bad range '169.254.108.0/33'" inhost sl-ipam alloc --range 169.254.108.0/33 "$P-3"
}
@test "range: /31 is smaller than a block" {
	assert_usage_error "prefix /31, a range must be /16 to /30" inhost sl-ipam alloc --range 169.254.108.0/31 "$P-3"
}
@test "range: /15 is too large" {
	assert_usage_error "prefix /15, a range must be /16 to /30" inhost sl-ipam alloc --range 169.254.0.0/15 "$P-3"
}
@test "range: host bits set" {
	assert_usage_error "host bits zero" inhost sl-ipam alloc --range 169.254.108.1/22 "$P-3"
}
@test "range: full" {
	assert_usage_error "range 169.254.104.0/30 is full" inhost sl-ipam alloc --range 169.254.104.0/30 "$P-3"
}
@test "range: overlaps a range in use" {
	assert_usage_error "overlaps range 169.254.100.0/22" inhost sl-ipam alloc --range 169.254.96.0/21 "$P-3"
}
@test "name: 64 bytes, longer than a DNS label (sl-ipam, sl-netns, sl-veth)" {
	local n
	n=$(printf 'a%.0s' $(seq 64))
	assert_usage_error "VM name '$n' is 64 bytes, longer than 63 (a DNS label)" inhost sl-ipam alloc --range 169.254.108.0/22 "$n"
	assert_usage_error "is 64 bytes, longer than 63" inhost sl-netns add "$n"
	assert_usage_error "is 64 bytes, longer than 63" inhost sl-veth add "$n"
}
@test "name: a derived interface name ('+') is not a VM name" {
	assert_usage_error "only letters, digits" inhost sl-netns add "isolated+k870oq"
}
@test "name: a slash" {
	assert_usage_error "only letters, digits" inhost sl-tap add "a/b"
}
@test "unknown option" {
	assert_usage_error "unknown option '--frobnicate'" inhost sl-netns --frobnicate add "$P-3"
}
@test "option without its value" {
	assert_usage_error "option '--range' needs a value" inhost sl-ipam alloc "$P-3" --range
}
@test "missing NAME" {
	assert_usage_error "missing VM NAME" env -u SL_NAME nsenter --net="/run/netns/$HOST" sl-netns add
}
@test "missing command" {
	assert_usage_error "missing command: add, del or check" inhost sl-veth
}
@test "unknown command" {
	assert_usage_error "unknown command 'frob'" inhost sl-tap frob "$P-1"
}
@test "too many arguments" {
	assert_usage_error "too many arguments" inhost sl-netns add "$P-3" "$P-4"
}
@test "alloc without a range" {
	assert_usage_error "needs --range" inhost sl-ipam alloc "$P-3"
}
@test "unknown VM (sl-veth): no namespace" {
	assert_usage_error "$P-3 unknown: no SL_IP" inhost sl-veth add "$P-3"
}
@test "unknown VM (sl-egress): no range known" {
	assert_usage_error "$P-3 unknown: no SL_RANGE" inhost sl-egress apply "$P-3"
}
@test "unknown VM (sl-tap): no gateway known" {
	inhost sl-netns add "$P-5" >/dev/null
	assert_usage_error "$P-5 unknown: no SL_GW" inhost sl-tap add "$P-5"
	inhost sl-netns del "$P-5"
}
@test "bad CIDR in --drop" {
	assert_usage_error "bad --drop value '300.1.1.1'" inhost sl-egress apply "$P-1" --drop 300.1.1.1
}
@test "--env file that does not exist" {
	assert_usage_error "No such file" inhost sl-veth --env /nonexistent/vm.env add "$P-1"
}
@test "--env file that is not KEY=value" {
	echo "this is not an env file" >"$BATS_TEST_TMPDIR/bad.env"
	assert_usage_error "not a KEY=value line" inhost sl-veth --env "$BATS_TEST_TMPDIR/bad.env" add "$P-1"
}
@test "egress entries: bad ports, a name in drop, a bad name in allow, a DEST; none applied" {
	assert_usage_error "bad --allow value '192.0.2.1:0'" inhost sl-egress apply "$P-1" --allow 192.0.2.1:0
	assert_usage_error "bad --allow value '192.0.2.1:65536'" inhost sl-egress apply "$P-1" --allow 192.0.2.1:65536
	assert_usage_error "bad --drop value '192.0.2.0/24:90-80'" inhost sl-egress apply "$P-1" --drop 192.0.2.0/24:90-80
	assert_usage_error "bad --drop value '192.0.2.0/24:'" inhost sl-egress apply "$P-1" --drop 192.0.2.0/24:
	assert_usage_error "bad --drop value '192.0.2.1/24:80'" inhost sl-egress apply "$P-1" --drop 192.0.2.1/24:80
	assert_usage_error "'example.com': domain deny lists cannot be enforced: use allow" \
		inhost sl-egress apply "$P-1" --drop example.com
	assert_usage_error "'*.-example.com': want a DNS name" \
		inhost sl-egress apply "$P-1" --allow '*.-example.com'
	assert_usage_error "bad DEST '192.0.2.0/24'" inhost sl-egress test "$P-1" 192.0.2.0/24
	assert_usage_error "bad --dns 'banana'" inhost sl-boot start "$P-1" --dns banana
}
@test "egress entries: 4096 per list are taken, one more is refused (was an overflow at 256+256)" {
	local many
	many=$(python3 -c 'print(",".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(4097)))')
	assert_usage_error "too many --drop entries (at most 4096)" inhost sl-egress apply "$P-1" --drop "$many"
	# 256 + 256 (an overflow of the old fixed rule array), planned and tested without applying
	run inhost sl-egress test "$P-1" 10.0.3.1:80 --allow "${many%%,10.1.0.0/24*}" \
		--drop "$(python3 -c 'print(",".join(f"10.{i // 256}.{i % 256}.0/25" for i in range(256)))')"
	[ "$status" -eq 0 ]
	grep -qx "SL_ENTRY=10.0.3.0/25" <<<"$output"
}
@test "--env that is no env file: /dev/zero, a FIFO, a directory, 5 MB, a NUL byte (bounded, at once)" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	head -c 5000000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big.env"
	printf 'SL_NAME=a\0b\n' >"$BATS_TEST_TMPDIR/nul.env"
	assert_usage_error "/dev/zero: not a regular file" inhost timeout 10 sl-egress --env /dev/zero flush "$P-1"
	assert_usage_error "fifo: not a regular file" inhost timeout 10 sl-netns --env "$BATS_TEST_TMPDIR/fifo" list
	assert_usage_error "$BATS_TEST_TMPDIR: not a regular file" inhost sl-veth --env "$BATS_TEST_TMPDIR" del "$P-1"
	assert_usage_error "larger than 4194304 bytes" inhost sl-tap --env "$BATS_TEST_TMPDIR/big.env" del "$P-1"
	assert_usage_error "holds a NUL byte" inhost sl-ipam --env "$BATS_TEST_TMPDIR/nul.env" list
}
@test "range: not unicast or not routable (0/8, 127/8, 224/4, 240/4)" {
	assert_usage_error "0.0.0.0/8 is not routable" inhost sl-ipam alloc --range 0.1.0.0/22 "$P-3"
	assert_usage_error "127.0.0.0/8 is not routable" inhost sl-ipam alloc --range 127.1.0.0/22 "$P-3"
	assert_usage_error "224.0.0.0/4 (multicast)" inhost sl-ipam alloc --range 224.1.0.0/22 "$P-3"
	assert_usage_error "240.0.0.0/4 (reserved)" inhost sl-ipam alloc --range 250.1.0.0/22 "$P-3"
}

@test "sl-exec: -e/--env takes K=V only; an env file of inputs is --env-file (issue 10, item 8)" {
	printf 'SL_NAME=%s\n' "$P-1" >"$BATS_TEST_TMPDIR/in.env"
	assert_usage_error "-e/--env takes K=V, not '$BATS_TEST_TMPDIR/in.env'" \
		inhost sl-exec -e "$BATS_TEST_TMPDIR/in.env" -- true
	assert_usage_error "-e/--env takes K=V, not '=x'" inhost sl-exec --env =x "$P-1" -- true
	assert_usage_error "--env-file: .*nope.env" inhost sl-exec --env-file "$BATS_TEST_TMPDIR/nope.env" -- true
	# the file is read: its SL_NAME names the VM (none runs: no agent there)
	run inhost sl-exec --env-file "$BATS_TEST_TMPDIR/in.env" shell </dev/null
	[ "$status" -eq 255 ]
	grep -q "$P-1 is not running" <<<"$output"
}
