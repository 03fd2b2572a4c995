#!/usr/bin/env bats
# sl-veth: host end NAME, peer born in the namespace, the /30 routed to it.

load helpers

setup() {
	setup_host
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-2" >/dev/null
	inhost sl-netns add "$P-2" >/dev/null
}
teardown() { teardown_host; }

@test "add: tagged host end, no address taken, routes and neighbours both ways" {
	run inhost sl-veth add "$P-2"
	[ "$status" -eq 0 ]
	[ "$output" = $'SL_VETH_HOST='"$P-2"$'\nSL_VETH_NS=veth0' ]
	local l
	l=$(inhost ip -j -d link show "$P-2")
	[ "$(jq -r '.[0].linkinfo.info_kind' <<<"$l")" = veth ]
	[ "$(jq -r '.[0].ifalias' <<<"$l")" = "sltools:$SL_RUN_DIR veth $P-2" ]
	[ "$(jq -r '.[0].operstate' <<<"$l")" = UP ]
	[ -z "$(inhost ip -4 addr show dev "$P-2")" ]
	[ -z "$(inhost ip -6 addr show dev "$P-2")" ]
	[ "$(inhost sysctl -n net.ipv6.conf.$P-2.disable_ipv6)" = 1 ]
	inhost ip -j route show 169.254.100.4/30 | jq -e --arg d "$P-2" '.[0].dev == $d'
	local mac_ns mac_host
	mac_ns=$(ip -n "$P-2" -j link show veth0 | jq -r '.[0].address')
	mac_host=$(jq -r '.[0].address' <<<"$l")
	inhost ip -j neigh show 169.254.100.6 dev "$P-2" | jq -e --arg m "$mac_ns" '.[0].lladdr == $m and (.[0].state | index("PERMANENT"))'
	ip -n "$P-2" -j route show default | jq -e '.[0].dev == "veth0" and .[0].gateway == "169.254.0.1"'
	ip -n "$P-2" -j neigh show 169.254.0.1 dev veth0 | jq -e --arg m "$mac_host" '.[0].lladdr == $m'
	[ -z "$(ip -n "$P-2" -4 addr show dev veth0)" ]
	run inhost sl-veth check "$P-2"
	[ "$status" -eq 0 ]
	grep -qx "SL_VETH_HOST=$P-2" "$SL_RUN_DIR/$P-2/vm.env"
}

@test "add twice is harmless; check names what is missing; del removes; del twice ok" {
	inhost sl-veth add "$P-2" >/dev/null
	inhost sl-veth add "$P-2" >/dev/null
	inhost ip route del 169.254.100.4/30
	run inhost sl-veth check "$P-2"
	[ "$status" -eq 1 ]
	grep -q "no route 169.254.100.4/30" <<<"$output"
	inhost sl-veth add "$P-2" >/dev/null
	inhost sl-veth check "$P-2"
	inhost sl-veth del "$P-2"
	! inhost ip link show "$P-2" 2>/dev/null || false
	! ip -n "$P-2" link show veth0 2>/dev/null || false
	[ -z "$(inhost ip route show 169.254.100.4/30)" ]
	inhost sl-veth del "$P-2"
	! grep -q SL_VETH "$SL_RUN_DIR/$P-2/vm.env" || false
}

@test "a foreign host interface of the same name is refused and untouched" {
	ip -n "$HOST" link add "$P-2" type veth peer name "${P}x"
	assert_usage_error "exists on the host and is not ours" inhost sl-veth add "$P-2"
	assert_usage_error "not ours" inhost sl-veth del "$P-2"
	inhost ip link show "$P-2" >/dev/null
	[ -z "$(ip -n "$P-2" link show veth0 2>/dev/null)" ]
}

@test "no namespace, or no lease: exit 2, nothing made" {
	assert_usage_error "no namespace $P-1" inhost sl-veth add "$P-1"
	! inhost ip link show "$P-1" 2>/dev/null || false
	inhost sl-netns add "${P}-9" >/dev/null
	assert_usage_error "$P-9 unknown: no SL_IP" inhost sl-veth add "$P-9"
	! inhost ip link show "$P-9" 2>/dev/null || false
}

@test "a host end an older sltools made (its alias the tag alone) is still the VM's: add re-aliases it, del takes it" {
	inhost sl-veth add "$P-2" >/dev/null
	inhost ip link set "$P-2" alias "sltools:$SL_RUN_DIR"
	run inhost sl-veth check "$P-2"
	[ "$status" -eq 1 ] && grep -q "alias is 'sltools:$SL_RUN_DIR', not 'sltools:$SL_RUN_DIR veth $P-2'" <<<"$output" || false
	inhost sl-veth add "$P-2" >/dev/null
	inhost ip -j link show "$P-2" | jq -e --arg a "sltools:$SL_RUN_DIR veth $P-2" '.[0].ifalias == $a'
	inhost sl-veth check "$P-2"
	inhost ip link set "$P-2" alias "sltools:$SL_RUN_DIR"
	inhost sl-veth del "$P-2"
	! inhost ip link show "$P-2" 2>/dev/null || false
}

# A VM of name $1 with its lease, namespace and veth; prints its host end.
long_vm() {
	inhost sl-ipam alloc --range 169.254.100.0/22 "$1" >/dev/null
	inhost sl-netns add "$1" >/dev/null
	inhost sl-veth add "$1" | sed -n 's/^SL_VETH_HOST=//p'
}

@test "long names: a derived host end, stable, its alias the full name; 15 shared bytes still differ" {
	local a="$P-isolated-agents-1" b="$P-isolated-agents-2" m ha hb hm
	m=$(printf '%s-%s' "$P" "$(printf 'm%.0s' $(seq 80))" | cut -c1-63)
	[ ${#m} -eq 63 ]
	[ "${a:0:15}" = "${b:0:15}" ]
	ha=$(long_vm "$a"); hb=$(long_vm "$b"); hm=$(long_vm "$m")
	for v in "$a:$ha" "$b:$hb" "$m:$hm"; do
		local vm=${v%%:*} h=${v#*:}
		[[ "$h" =~ ^.{8}\+[0-9a-v]{6}$ ]]
		[ "${h:0:8}" = "${vm:0:8}" ]
		inhost ip -j -d link show "$h" | jq -e --arg a "sltools:$SL_RUN_DIR veth $vm" \
			'.[0].ifalias == $a and .[0].linkinfo.info_kind == "veth"'
		grep -qx "SL_VETH_HOST=$h" "$SL_RUN_DIR/$vm/vm.env"
		inhost sl-veth check "$vm"
		# the VM is reached through its derived end
		inhost ip -j route show "$(sed -n 's/^SL_BLOCK=//p' "$SL_RUN_DIR/$vm/vm.env")" |
			jq -e --arg d "$h" '.[0].dev == $d'
	done
	[ "$ha" != "$hb" ]
	# stable: the same name derives the same end again
	inhost sl-veth del "$a"
	! inhost ip link show "$ha" 2>/dev/null || false
	[ "$(inhost sl-veth add "$a" | sed -n 's/^SL_VETH_HOST=//p')" = "$ha" ]
	# sl-netns del takes it with the namespace; sl-gc finds an orphan by its alias
	inhost sl-netns del "$m"
	! inhost ip link show "$hm" 2>/dev/null || false
	# an end whose namespace is gone (one held elsewhere, as sl-gc meets them)
	inhost sl-netns del "$b"
	! inhost ip link show "$hb" 2>/dev/null || false
	inhost ip link add "$hb" type veth peer name "${P}p"
	inhost ip link set "$hb" alias "sltools:$SL_RUN_DIR veth $b"
	run inhost sl-gc
	[ "$status" -eq 0 ]
	grep -q "host link $hb of $b" <<<"$output"
	! inhost ip link show "$hb" 2>/dev/null || false
}

@test "long names: a derived name taken by another VM or by a foreign link is refused, untouched" {
	local a="$P-isolated-agents-1" b="$P-isolated-agents-2" ha hb
	ha=$(long_vm "$a")
	inhost sl-ipam alloc --range 169.254.100.0/22 "$b" >/dev/null
	inhost sl-netns add "$b" >/dev/null
	# what two names that hash alike meet: a's end where b's would be
	hb=$(inhost sl-veth add "$b" | sed -n 's/^SL_VETH_HOST=//p')
	inhost sl-veth del "$b"
	inhost ip link set "$ha" name "$hb"
	assert_usage_error "interface $hb is VM $a's: $a and $b have the same interface name" \
		inhost sl-veth add "$b"
	assert_usage_error "interface $hb is VM $a's: left alone" inhost sl-veth del "$b"
	inhost ip -j link show "$hb" | jq -e --arg a "sltools:$SL_RUN_DIR veth $a" '.[0].ifalias == $a'
	inhost ip link set "$hb" name "$ha"
	# a foreign link of that name
	inhost ip link add "$hb" type veth peer name "${P}f"
	assert_usage_error "interface $hb exists on the host and is not ours" inhost sl-veth add "$b"
	inhost ip link show "$hb" >/dev/null
	# a VM cannot be named as a derived end: no VM name holds '+'
	assert_usage_error "only letters, digits" inhost sl-netns add "$hb"
}
