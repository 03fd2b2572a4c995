#!/usr/bin/env bats
# Slicer's announcement of isolated mode: "agents-1 up to agents-1000 is
# fine, but isolated-agents-1 would not fit" (15 bytes). Here the group of
# that name brings up its thousand VMs' networks. Not in CI's sanitizer
# pass (.ci/run): a thousand VMs under ASan took ten minutes and slowed every
# lane beside it; the same code runs under ASan in t/25-names and t/30-veth.

load helpers

setup() {
	setup_host
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	down_configs
	teardown_host
}

@test "Slicer's example of a name too long for it: isolated-agents-1 ... -1000 up and down" {
	# the names are the issue's own, not this lane's: nothing else may hold them
	[ ! -e /run/netns/isolated-agents-1 ] || { echo "isolated-agents-1 exists: another run?" >&2; false; }
	local f
	f=$(cfg agents <<'Y'
config:
  host_groups:
  - name: isolated-agents
    count: 1000
    network: {mode: isolated, range: "169.254.64.0/20"}
Y
)
	run inhost sl-up -d --no-boot "$f"
	[ "$status" -eq 0 ]
	grep -q "^\[1000/1000\] isolated-agents-1000 up " <<<"$output"
	host_ends veth >"$BATS_TEST_TMPDIR/ends"
	# one end per VM, each derived, each different, each naming its VM
	[ "$(wc -l <"$BATS_TEST_TMPDIR/ends")" -eq 1000 ]
	[ "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/ends" | sort -u | wc -l)" -eq 1000 ]
	! grep -vE '^isolated\+[0-9a-v]{6} isolated-agents-[0-9]+$' "$BATS_TEST_TMPDIR/ends" || false
	[ "$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/ends" | sort -u | wc -l)" -eq 1000 ]
	# the tools take and print the full name
	inhost sl-ipam list | grep -q "^isolated-agents-1000 "
	[ -e /run/netns/isolated-agents-1000 ]
	local end
	end=$(awk '$2 == "isolated-agents-777" { print $1 }' "$BATS_TEST_TMPDIR/ends")
	grep -qx "SL_VETH_HOST=$end" "$SL_RUN_DIR/isolated-agents-777/vm.env"
	inhost sl-veth check isolated-agents-777
	inhost ip -j route show 169.254.76.32/30 | jq -e --arg d "$end" '.[0].dev == $d'
	inhost sl-egress show isolated-agents-777 >/dev/null
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(ls /run/netns | grep '^isolated-agents-' || true)" ]
}
