#!/usr/bin/env bats
# Names past an interface's 15 bytes (up to a DNS label's 63): each link a
# VM owns on the host gets a derived name (sl_ifname: 8 bytes of the name,
# '+', 6 of a hash), its alias keeps the full one, and every tool takes and
# prints the full name.

load helpers

setup() {
	setup_host
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	down_configs
	teardown_host
}

@test "a VM of a 61-byte name boots: its hostname is its name; exec, status, egress, gc" {
	use_templates
	local g vm f end
	g="$P-isolated-agents-with-a-name-slicer-could-not-give"
	g=$g$(printf 'x%.0s' $(seq $((59 - ${#g}))))
	vm="$g-1"
	[ ${#vm} -eq 61 ]
	f=$(cfg long <<Y
config:
  host_groups:
  - name: $g
    network: {mode: isolated, range: "169.254.100.0/22", allow: ["203.0.113.0/24"]}
Y
)
	run inhost sl-up -d "$f"
	[ "$status" -eq 0 ]
	[ "$(inhost sl-exec "$vm" -- hostname)" = "$vm" ]
	inhost sl-boot status "$vm" | grep -qx SL_STATE=running
	inhost sl-egress test "$vm" 203.0.113.10:80 | grep -q allow
	end=$(sed -n 's/^SL_VETH_HOST=//p' "$SL_RUN_DIR/$vm/vm.env")
	[[ "$end" =~ ^$P-\+[0-9a-v]{6}$ ]]
	[ "$(host_ends veth)" = "$end $vm" ]
	# its namespace deleted by hand: sl-gc takes the rest, by the alias
	inhost sl-boot stop "$vm" >/dev/null
	ip netns del "$vm"
	inhost sl-gc >/dev/null
	[ -z "$(host_ends veth)" ]
	[ ! -e "$SL_RUN_DIR/$vm" ]
}

@test "a run dir too long for a VM's socket: one clear line, nothing started" {
	local vm="$P-isolated-agents-with-a-long-name-1"
	export SL_RUN_DIR="$BATS_TEST_TMPDIR/$(printf 'r%.0s' $(seq 60))"
	inhost sl-ipam alloc --range 169.254.100.0/22 "$vm" >/dev/null
	inhost sl-netns add "$vm" >/dev/null
	inhost sl-veth add "$vm" >/dev/null
	inhost sl-tap add "$vm" >/dev/null
	assert_usage_error "$vm: its agent's socket .* is [0-9]* bytes, over the 107 a unix socket takes" \
		inhost sl-boot start "$vm"
	[ ! -e "$SL_RUN_DIR/$vm/supervisor.pid" ]
	! pgrep -f "qemu-system.*-name $vm" || false
	inhost sl-netns del "$vm"
	inhost sl-ipam release "$vm"
	# sl-up says it before it makes anything
	kernel_state >"$BATS_TEST_TMPDIR/before-up"
	f=$(cfg longdir <<Y
config:
  host_groups:
  - name: $P-isolated-agents-with-a-long-name
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "$vm: its agent's socket .* is [0-9]* bytes, over the 107" inhost sl-up -d "$f"
	diff "$BATS_TEST_TMPDIR/before-up" <(kernel_state)
	[ -z "$(ls "$SL_RUN_DIR" | grep -v '^ipam$' || true)" ]
}

@test "bridge and macvtap: a long name's TAP is derived, its alias the name; tap_prefix as written" {
	setup_lan_internet
	local f vm="$P-isolated-bridge-web-1" lanif="${LAN:0:11}-h" tap
	f=$(cfg br <<Y
config:
  host_groups:
  - name: $P-isolated-bridge-web
    count: 2
    network: {bridge: "${P}br", gateway: "169.254.200.1/24"}
  - name: $P-isolated-bridge-pfx
    network: {bridge: "${P}br", gateway: "169.254.200.1/24", tap_prefix: "${P}t"}
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	grep -qE "^sl-tap add $vm --bridge ${P}br --tap $P-\+[0-9a-v]{6}$" <<<"$output"
	grep -q "^sl-tap add $P-isolated-bridge-pfx-1 --bridge ${P}br --tap ${P}t1$" <<<"$output"
	run inhost sl-up -d --no-boot "$f"
	[ "$status" -eq 0 ]
	[ "$(host_ends port | wc -l)" -eq 3 ]
	tap=$(host_ends port | awk -v v="$vm" '$2 == v { print $1 }')
	[[ "$tap" =~ ^.{8}\+[0-9a-v]{6}$ ]]
	inhost ip -j -d link show "$tap" | jq -e --arg b "${P}br" '.[0].master == $b'
	host_ends port | grep -qx "${P}t1 $P-isolated-bridge-pfx-1"
	inhost sl-up down "$f" >/dev/null
	[ -z "$(host_ends port)" ]
	# macvtap by hand: the derived name is sl-tap's default too
	vm="$P-isolated-macvtap-lan-1"
	inhost sl-ipam alloc --gateway 198.51.100.10/24 --lan --pool 198.51.100.220-198.51.100.254 "$vm" >/dev/null
	tap=$(inhost sl-tap add "$vm" --macvtap "$lanif" | sed -n 's/^SL_TAP=//p')
	[[ "$tap" =~ ^.{8}\+[0-9a-v]{6}$ ]]
	inhost ip -j -d link show "$tap" | jq -e --arg a "sltools:$SL_RUN_DIR macvtap $vm" \
		'.[0].ifalias == $a and .[0].linkinfo.info_kind == "macvtap"'
	inhost sl-tap check "$vm"
	inhost sl-tap del "$vm"
	[ -z "$(host_ends macvtap)" ]
	inhost sl-ipam release "$vm"
}
