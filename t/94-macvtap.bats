#!/usr/bin/env bats
# macvtap mode (Slicer's mode: macvtap): each VM a macvtap on a parent in
# the host namespace, straight onto the LAN. Here the parent is the scratch
# host's veth to the "LAN" namespace, where dnsmasq serves DHCP.

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="m${P:1:4}"
	LANIF="${LAN:0:11}-h" # the host's side of the LAN (join_ns)
}
teardown() {
	down_configs
	teardown_host
}

# the LAN's router and DHCP server: dnsmasq on 198.51.100.10, leases .100-.150
dhcp_server() {
	(exec ip netns exec "$LAN" dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 \
		--interface=eth0 --bind-interfaces --pid-file= --user=root \
		--dhcp-range=198.51.100.100,198.51.100.150,255.255.255.0,1h \
		--dhcp-option=3,198.51.100.10 --dhcp-option=6,198.51.100.10 \
		--dhcp-leasefile="$BATS_TEST_TMPDIR/dhcp.leases" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/dnsmasq.log" 3>&-) &
	DNSMASQ_PID=$!
}
macvtaps() {
	inhost ip -j -d link show type macvtap | jq -r '.[].ifname'
}
vm_ping() {
	inhost sl-exec "$1" -- ping -c 1 -W 2 "$2" >/dev/null 2>&1
}

@test "tools by hand: sl-ipam --lan, sl-tap --macvtap (bridge mode, the VM's MAC from its name); del leaves nothing" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	# the LAN's subnet is routed on the host: refused as a bridge subnet, taken as a LAN
	run inhost sl-ipam alloc --gateway 198.51.100.10/24 "$G-1"
	[ "$status" -eq 2 ]
	eval "$(inhost sl-ipam alloc --gateway 198.51.100.10/24 --lan \
		--pool 198.51.100.220-198.51.100.254 "$G-1")"
	[ "$SL_MODE" = macvtap ] && [ "$SL_IP" = 198.51.100.220 ] && [ "$SL_GW" = 198.51.100.10 ] || false
	grep -q "^$G-1 $G 198.51.100.0/24 220 198.51.100.10 lan$" "$SL_RUN_DIR/ipam/leases"
	eval "$(inhost sl-tap add "$G-1" --macvtap "$LANIF")"
	[ "$SL_TAP" = "$G-1" ] && [ "$SL_PARENT" = "$LANIF" ] && [ "$SL_MODE" = macvtap ] || false
	local l
	l=$(inhost ip -j -d link show dev "$G-1")
	[ "$(jq -r '.[0].linkinfo.info_kind' <<<"$l")" = macvtap ]
	[ "$(jq -r '.[0].linkinfo.info_data.mode' <<<"$l")" = bridge ]
	[ "$(jq -r '.[0].link' <<<"$l")" = "$LANIF" ]
	[ "$(jq -r '.[0].address' <<<"$l")" = "$SL_MAC" ]
	[[ "$SL_MAC" == 06:* ]]
	[ "$(inhost sysctl -n "net.ipv6.conf.$G-1.disable_ipv6")" = 1 ]
	grep -q "^SL_MODE=macvtap$" "$SL_RUN_DIR/$G-1/vm.env"
	inhost sl-tap check "$G-1"
	# the same MAC again after del and add: the LAN's DHCP server knows it by it
	local mac=$SL_MAC
	inhost sl-tap del "$G-1"
	[ -z "$(macvtaps)" ]
	eval "$(inhost sl-tap add "$G-1" --macvtap "$LANIF")"
	[ "$SL_MAC" = "$mac" ]
	# macvtap mode has no egress rules: its frames pass the host's firewall by
	assert_usage_error "macvtap mode has no egress rules" inhost sl-egress apply "$G-1"
	# a parent that is not there, or cannot be one
	assert_usage_error "parent nosuch0: no such interface" \
		inhost sl-tap add "$G-2" --macvtap nosuch0
	# (bad input, exit 2: this said 1, in a half of an '&&' that could not fail)
	assert_usage_error "parent lo is a loopback" inhost sl-tap add "$G-2" --macvtap lo
	# someone else's link of that name is left alone
	inhost ip link add "$G-3" link "$LANIF" type macvtap
	run inhost sl-tap del "$G-3" --mode macvtap
	[ "$status" -eq 2 ] && grep -q "is not its macvtap: left alone" <<<"$output" || false
	inhost ip link del "$G-3"
	inhost sl-tap del "$G-1"
	inhost sl-ipam release "$G-1"
	[ -z "$(macvtaps)" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "a macvtap whose /dev/tapN is another namespace's: sl-boot opens its own node, the VM is on the LAN" {
	local k other="${P}o" f
	# the scratch host's next ifindex, taken first by a macvtap elsewhere
	inhost ip link add "${P}q" type veth peer name "${P}r"
	k=$(($(inhost ip -j link show | jq '[.[].ifindex] | max') + 1))
	inhost ip link del "${P}q"
	scratch_ns "$other"
	ip -n "$other" link add eth0 type veth peer name eth1
	ip -n "$other" link add link eth0 name mv0 index "$k" type macvtap
	[ -c "/dev/tap$k" ]
	f=$(cfg own <<Y
config:
  host_groups:
  - name: $G
    ram_mb: 128
    network: {mode: macvtap, parent: "$LANIF", gateway: "198.51.100.10/24", addresses: ["198.51.100.60/24"]}
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(inhost ip -j link show "$G-1" | jq '.[0].ifindex')" = "$k" ]
	inhost sl-exec "$G-1" -- ping -c 1 -W 2 198.51.100.11 >/dev/null
	# the node it made is gone; the other namespace's is untouched
	[ ! -e "$SL_RUN_DIR/$G-1/tapdev" ]
	[ -c "/dev/tap$k" ]
	inhost sl-up down "$f" >/dev/null
}

@test "a VM by DHCP from the LAN (parent from the default route): reaches the LAN, is reached from it; down leaves nothing" {
	use_templates
	require dnsmasq
	dhcp_server
	inhost ip route add default via 198.51.100.10
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f ip
	f=$(cfg dhcp <<Y
config:
  host_groups:
  - name: $G
    count: 1
    ram_mb: 128
    network:
      mode: macvtap
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "group $G: network.parent $LANIF, the interface of the default route" <<<"$output"
	grep -q "\[1/1\] $G-1 up (its address by DHCP from the LAN)" <<<"$output"
	[ "$(macvtaps)" = "$G-1" ]
	# no namespace: QEMU opens the macvtap's device in the host namespace
	! ip netns list | grep -q "^$G-1\b" || false
	ip=$(inhost sl-exec "$G-1" -- ip -4 -o addr show eth0 | awk '{print $4}')
	echo "guest: $ip"
	[[ "$ip" == 198.51.100.1[0-5][0-9]/24 || "$ip" == 198.51.100.1[0-9][0-9]/24 ]]
	ip=${ip%/24}
	# dnsmasq leased it to the VM's MAC, and the guest took its name server
	grep -q " $(grep '^SL_MAC=' "$SL_RUN_DIR/$G-1/vm.env" | cut -d= -f2) $ip " \
		"$BATS_TEST_TMPDIR/dhcp.leases"
	[ "$(inhost sl-exec "$G-1" -- cat /etc/resolv.conf)" = "nameserver 198.51.100.10" ]
	inhost sl-exec "$G-1" -- timeout 4 wget -q -O - http://198.51.100.10/ | grep -q "hello from $LAN"
	# the LAN reaches the VM
	inhost sl-exec "$G-1" -- sh -c 'mkdir -p /w && echo macvtap-vm >/w/index.html && httpd -p 80 -h /w'
	ip netns exec "$LAN" busybox ping -c 1 -W 2 "$ip" >/dev/null
	[ "$(ip netns exec "$LAN" timeout 4 busybox wget -q -O - "http://$ip/")" = macvtap-vm ]
	run inhost sl-up down "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	pgrep -a -f "qemu-system.*-name $G" || true
	[ "$(pgrep -c -f "qemu-system.*-name $G" || true)" = 0 ]
	[ -z "$(macvtaps)" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(ls "$SL_RUN_DIR" | grep -v '^ipam$' || true)" ]
}

@test "template: true by DHCP: the clone asks the LAN's server again with its own MAC and gets its own lease" {
	require dnsmasq
	dhcp_server
	local f ip1 ip2 m2
	f=$(template_pair dhcp <<Y
    network:
      mode: macvtap
      parent: "$LANIF"
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$G-2/vm.env"
	ip1=$(inhost sl-exec "$G-1" -- ip -4 -o addr show eth0 | awk '{print $4}')
	ip2=$(inhost sl-exec "$G-2" -- ip -4 -o addr show eth0 | awk '{print $4}')
	echo "template $ip1, clone $ip2"
	# one address each (the template's went with the old client's lease)
	[ "$(wc -w <<<"$ip2")" = 1 ] && [ "$ip1" != "$ip2" ] || false
	[[ "$ip2" == 198.51.100.1[0-5][0-9]/24 ]]
	m2=$(grep '^SL_MAC=' "$SL_RUN_DIR/$G-2/vm.env" | cut -d= -f2)
	[ "$(inhost sl-exec "$G-2" -- cat /sys/class/net/eth0/address)" = "$m2" ]
	grep -q " $m2 ${ip2%/24} " "$BATS_TEST_TMPDIR/dhcp.leases"
	[ "$(inhost sl-exec "$G-2" -- cat /etc/resolv.conf)" = "nameserver 198.51.100.10" ]
	ip netns exec "$LAN" busybox ping -c 1 -W 2 "${ip2%/24}" >/dev/null
	ip netns exec "$LAN" busybox ping -c 1 -W 2 "${ip1%/24}" >/dev/null
	inhost sl-up down "$f" >/dev/null
	[ -z "$(macvtaps)" ]
}

@test "static addresses: a listed one in a real VM; Slicer's .220-.254 pool; --print-script; sl-gc after kill -9" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f
	f=$(cfg static <<Y
config:
  host_groups:
  - name: $G
    count: 1
    ram_mb: 128
    network:
      mode: macvtap
      parent: "$LANIF"
      gateway: "198.51.100.10/24"
      addresses: ["198.51.100.50/24"]
  - name: ${G}p
    count: 2
    network:
      mode: macvtap
      parent: "$LANIF"
      gateway: "198.51.100.10/24"
      tap_prefix: "${P}v"
Y
)
	run inhost sl-up --print-script "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "sl-ipam alloc --gateway 198.51.100.10/24 --address 198.51.100.50 --lan --group $G $G-1" <<<"$output"
	grep -qx "sl-tap add $G-1 --macvtap $LANIF" <<<"$output"
	grep -qx "sl-ipam alloc --gateway 198.51.100.10/24 --pool 198.51.100.220-198.51.100.254 --lan --group ${G}p ${G}p-2" <<<"$output"
	grep -qx "sl-tap add ${G}p-2 --macvtap $LANIF --tap ${P}v2" <<<"$output"
	! grep -q "sl-netns\|sl-veth\|sl-egress" <<<"$output" || false
	run inhost sl-up -d "$f" --no-boot
	[ "$status" -eq 0 ]
	[ "$(grep '^SL_IP=' "$SL_RUN_DIR/${G}p-1/vm.env")" = SL_IP=198.51.100.220 ]
	[ "$(grep '^SL_IP=' "$SL_RUN_DIR/${G}p-2/vm.env")" = SL_IP=198.51.100.221 ]
	inhost sl-boot start "$G-1" >/dev/null
	[ "$(inhost sl-exec "$G-1" -- ip -4 -o addr show eth0 | awk '{print $4}')" = 198.51.100.50/24 ]
	vm_ping "$G-1" 198.51.100.11
	ip netns exec "$LAN" busybox ping -c 1 -W 2 198.51.100.50 >/dev/null
	# what a crash leaves, sl-gc takes: the VM, then the macvtaps whose VM has no state
	kill -9 "$(cat "$SL_RUN_DIR/$G-1/qemu.pid")"
	rm -rf "${SL_RUN_DIR:?}/${G}p-2"
	run inhost sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "macvtap ${P}v2 of ${G}p-2 (no state)" <<<"$output"
	grep -q "VM $G-1: macvtap $G-1 on $LANIF" <<<"$output"
	[ "$(macvtaps)" = "${P}v1" ]
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	[ -z "$(macvtaps)" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "template: true with static addresses: the clone takes its macvtap's MAC and its own address; the LAN reaches both" {
	local f m
	f=$(template_pair tpl <<Y
    network:
      mode: macvtap
      parent: "$LANIF"
      gateway: "198.51.100.10/24"
      addresses: ["198.51.100.50/24", "198.51.100.51/24"]
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$G-2/vm.env"
	# a macvtap passes only frames for its own MAC: the guest must have taken it
	m=$(inhost ip -j link show "$G-2" | jq -r '.[0].address')
	[ "$(inhost sl-exec "$G-2" -- cat /sys/class/net/eth0/address)" = "$m" ]
	[ "$(inhost sl-exec "$G-2" -- ip -4 -o addr show eth0 | awk '{print $4}')" = 198.51.100.51/24 ]
	vm_ping "$G-2" 198.51.100.11
	vm_ping "$G-1" 198.51.100.11
	ip netns exec "$LAN" busybox ping -c 1 -W 2 198.51.100.51 >/dev/null
	ip netns exec "$LAN" busybox ping -c 1 -W 2 198.51.100.50 >/dev/null
	# the LAN knows each address at its own VM's MAC
	ip -n "$LAN" -j neigh show 198.51.100.51 | jq -e --arg m "$m" '.[0].lladdr == $m' >/dev/null
	inhost sl-up down "$f" >/dev/null
	[ -z "$(macvtaps)" ]
}

# refused NETWORK WANT [COUNT]: a group with that network section is exit 2 naming WANT
refused() {
	local f
	f=$(cfg bad <<Y
config:
  host_groups:
  - name: $G
    count: ${3:-1}
    network: $1
Y
)
	assert_usage_error "$2" inhost sl-up "$f"
}

@test "macvtap config errors: exit 2, one line, nothing made" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	refused '{mode: macvtap, allow: ["0.0.0.0/0"]}' \
		"network.allow: only for mode: isolated; macvtap mode has no egress rules"
	refused '{mode: macvtap, addresses: ["198.51.100.50"]}' "network.addresses: needs network.gateway"
	refused '{mode: macvtap, parent: "nosuch0"}' "parent nosuch0: no such interface"
	# no parent given and no default route to take it from
	refused '{mode: macvtap}' "no default route to take the parent from"
	refused "{mode: macvtap, parent: \"$LANIF\", gateway: \"198.51.100.10/24\"}" \
		"count 36 is more than Slicer's pool 198.51.100.220-198.51.100.254 holds" 36
	refused '{mode: macvtap, bridge: br0}' "network.bridge: only for bridge mode"
	refused '{mode: macvtap, parent: "a-very-long-iface"}' "network.parent"
	refused '{mode: isolated, range: "169.254.100.0/22", parent: "eth0"}' \
		"network.parent: only for macvtap mode, not isolated"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "a fault at the macvtap or the boot of one DHCP VM undoes it alone" {
	local FAULTY="$TOP/bin/.sl-up-fault" f what
	[ -x "$FAULTY" ] || { echo "no $FAULTY: run make bin/.sl-up-fault" >&2; return 1; }
	kernel_state >"$BATS_TEST_TMPDIR/before"
	f=$(cfg fault <<Y
config:
  host_groups:
  - name: $G
    count: 2
    ram_mb: 128
    network: {mode: macvtap, parent: "$LANIF"}
Y
)
	for what in sl-tap sl-boot; do
		echo "# fault at $what"
		if [ "$what" = sl-tap ]; then
			run inhost env SL_FAULT="$what:$G-2" "$FAULTY" -d --no-boot "$f"
		else
			run inhost env SL_FAULT="$what:$G-2" "$FAULTY" -d "$f"
		fi
		echo "$output"
		[ "$status" -eq 1 ]
		grep -q "$G-2 failed at $what.*fault injected" <<<"$output"
		[ ! -e "$SL_RUN_DIR/$G-2/vm.env" ]
		[ "$(macvtaps)" = "$G-1" ]
		[ "$(pgrep -c -f "qemu-system.*-name $G-2\b" || true)" = 0 ]
		inhost sl-tap check "$G-1"
		[ -z "$(inhost sl-gc --dry-run)" ]
		inhost sl-up down "$f" >/dev/null
		diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	done
}
