#!/usr/bin/env bats
# Bridge mode (Slicer's default): TAPs on a Linux bridge in the host
# namespace, the gateway on the bridge, masquerade out. Bridge VMs reach
# each other, the host and the LAN; isolated VMs still reach no VM.

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="b${P:1:4}"
	BR="${P}br"
}
teardown() {
	down_configs
	teardown_host
}

vm_get() {
	inhost sl-exec "$1" -- timeout 4 wget -q -O - "http://$2/" >/dev/null 2>&1
}
vm_ping() {
	inhost sl-exec "$1" -- ping -c 1 -W 2 "$2" >/dev/null 2>&1
}
# master IFNAME → the bridge a link is a port of, from the kernel
master() {
	inhost ip -j link show dev "$1" | jq -r '.[0].master // empty'
}

@test "tools by hand: sl-ipam --gateway, sl-tap --bridge; the bridge goes with its last port" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	eval "$(inhost sl-ipam alloc --gateway 169.254.200.1/24 "$G-1")"
	[ "$SL_MODE" = bridge ] && [ "$SL_IP" = 169.254.200.2 ] && [ "$SL_GW" = 169.254.200.1 ] || false
	[ "$SL_PREFIX" = 24 ] && [ "$SL_RANGE" = 169.254.200.0/24 ] || false
	eval "$(inhost sl-ipam alloc --gateway 169.254.200.1/24 --address 169.254.200.50 "$G-2")"
	[ "$SL_IP" = 169.254.200.50 ]
	assert_usage_error "169.254.200.50 is leased to another VM" \
		inhost sl-ipam alloc --gateway 169.254.200.1/24 --address 169.254.200.50 "$G-3"
	assert_usage_error "the network, broadcast or gateway address" \
		inhost sl-ipam alloc --gateway 169.254.200.1/24 --address 169.254.200.1 "$G-3"
	assert_usage_error "overlaps bridge subnet 169.254.200.0/24 in use by group $G" \
		inhost sl-ipam alloc --range 169.254.200.0/22 "$G-3"
	assert_usage_error "bad gateway '169.254.200.0/24'" \
		inhost sl-ipam alloc --gateway 169.254.200.0/24 "$G-3"
	inhost sl-tap add "$G-1" --bridge "$BR" >/dev/null
	local mac
	mac=$(inhost ip -j link show dev "$BR" | jq -r '.[0].address')
	inhost sl-tap add "$G-2" --bridge "$BR" --tap "${P}t2" >/dev/null
	# the gateway's MAC does not move as ports come (the VMs' ARP entries stay good)
	[ "$(inhost ip -j link show dev "$BR" | jq -r '.[0].address')" = "$mac" ]
	[ "$(master "$G-1")" = "$BR" ] && [ "$(master "${P}t2")" = "$BR" ] || false
	[ "$(inhost ip -j addr show dev "$BR" | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" = 169.254.200.1/24 ]
	[ "$(inhost ip -j link show dev "$G-1" | jq -r '.[0].linkinfo.info_kind // "tun"')" = tun ]
	[ "$(inhost sysctl -n "net.ipv6.conf.$G-1.disable_ipv6")" = 1 ]
	assert_usage_error "$G-1: bridge mode has no egress rules: nothing is denied, nothing logged" \
		inhost sl-egress log "$G-1"
	inhost sl-tap check "$G-1"
	# a foreign link of a VM's TAP name is refused, and left alone
	inhost ip link add "$G-3" type veth peer name "${P}z"
	inhost sl-ipam alloc --gateway 169.254.200.1/24 "$G-3" >/dev/null
	assert_usage_error "$G-3 exists and is not its TAP" inhost sl-tap add "$G-3" --bridge "$BR"
	inhost ip link del "$G-3"
	inhost sl-ipam release "$G-3"
	inhost sl-egress apply "$G-1" >/dev/null
	# the subnet's sources only from its bridge; anywhere else they are spoofed
	inhost iptables-legacy -C SL-FORWARD -s 169.254.200.0/24 -d 169.254.200.0/24 -i "$BR" -m comment --comment "sl:169.254.200.0/24 $SL_RUN_DIR" -j ACCEPT
	inhost iptables-legacy -C SL-FORWARD -s 169.254.200.0/24 -i "$BR" -m comment --comment "sl:169.254.200.0/24 $SL_RUN_DIR" -j ACCEPT
	inhost iptables-legacy -C SL-FORWARD -s 169.254.200.0/24 -m comment --comment "sl:169.254.200.0/24 $SL_RUN_DIR" -j DROP
	inhost iptables-legacy -t nat -C SL-POSTROUTING -s 169.254.200.0/24 ! -d 169.254.200.0/24 -m comment --comment "sl:169.254.200.0/24 $SL_RUN_DIR" -j MASQUERADE
	assert_usage_error "bridge mode has no egress rules" inhost sl-egress apply "$G-2" --drop 198.51.100.0/24
	inhost sl-egress check "$G-1"
	inhost sl-tap del "$G-1"
	inhost ip link show "$BR" >/dev/null # one port left
	inhost sl-tap del "$G-2"
	! inhost ip link show "$BR" 2>/dev/null || false
	inhost sl-tap del "$G-2" # idempotent
	inhost sl-egress flush "$G-1"
	inhost sl-ipam release "$G-1"
	inhost sl-ipam release "$G-2"
	rm -rf "${SL_RUN_DIR:?}/$G-"*
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "bridge VMs reach each other, the host, the LAN and the internet; isolated VMs reach none of them; down leaves nothing" {
	use_templates
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f
	f=$(cfg mixed <<Y
config:
  host_groups:
  - name: $G
    count: 2
    ram_mb: 128
    network:
      bridge: "$BR"
      tap_prefix: "${P}t"
      gateway: "169.254.200.1/24"
      addresses: ["169.254.200.20", "169.254.200.21"]
  - name: ${G}i
    count: 1
    ram_mb: 128
    network:
      mode: "isolated"
      range: "169.254.100.0/22"
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "\[1/3\] $G-1 up 169.254.200.20" <<<"$output"
	grep -q "\[2/3\] $G-2 up 169.254.200.21" <<<"$output"
	[ "$(master "${P}t1")" = "$BR" ] && [ "$(master "${P}t2")" = "$BR" ] || false
	# no namespace for bridge VMs; QEMU runs in the host namespace
	! ip netns list | grep -q "^$G-1\b" || false
	inhost sl-exec "$G-2" -- sh -c 'mkdir -p /w && echo vm2 >/w/index.html && httpd -p 80 -h /w'
	vm_get "$G-1" 203.0.113.10   # internet, masqueraded
	vm_get "$G-1" 198.51.100.10  # LAN
	vm_get "$G-1" 169.254.200.21 # the other VM
	vm_ping "$G-1" 169.254.200.1 # the host
	inhost timeout 4 busybox wget -q -O - http://169.254.200.21/ >/dev/null # host → VM
	# isolated VM ↔ bridge VM: neither way
	inhost sl-exec "${G}i-1" -- sh -c 'mkdir -p /w && echo iso >/w/index.html && httpd -p 80 -h /w'
	vm_get "${G}i-1" 203.0.113.10
	# ... and the LAN cannot open connections to a bridge VM
	ip -n "$LAN" route add 169.254.200.0/24 via 198.51.100.1
	none_succeed 'vm_get "${G}i-1" 169.254.200.21' 'vm_ping "${G}i-1" 169.254.200.1' \
		'vm_get "$G-1" 169.254.100.2' \
		'ip netns exec "$LAN" timeout 4 busybox wget -q -O - http://169.254.200.21/'
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	[ "$(pgrep -c -f "qemu-system.*-name $G" || true)" = 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(ls "$SL_RUN_DIR" | grep -v '^ipam$' || true)" ]
}

@test "template: true on a bridge: the clone and a fork take their own MAC and address; they reach each other; down leaves nothing" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f mac1 mac2
	f=$(template_pair tpl <<Y
    network:
      bridge: "$BR"
      tap_prefix: "${P}t"
      gateway: "169.254.200.1/24"
      addresses: ["169.254.200.20", "169.254.200.21", "169.254.200.22"]
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	# the second is restored from the first's snapshot
	grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$G-2/vm.env"
	! grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$G-1/vm.env" || false
	mac1=$(inhost sl-exec "$G-1" -- cat /sys/class/net/eth0/address)
	mac2=$(inhost sl-exec "$G-2" -- cat /sys/class/net/eth0/address)
	[ "$mac1" = 06:00:a9:fe:c8:14 ] && [ "$mac2" = 06:00:a9:fe:c8:15 ] || false
	inhost sl-exec "$G-2" -- ip -4 -o addr show eth0 | grep -q "inet 169.254.200.21/24 "
	inhost sl-exec "$G-2" -- sh -c 'mkdir -p /w && echo vm2 >/w/index.html && httpd -p 80 -h /w'
	inhost sl-exec "$G-1" -- sh -c 'mkdir -p /w && echo vm1 >/w/index.html && httpd -p 80 -h /w'
	[ "$(inhost sl-exec "$G-1" -- timeout 4 wget -q -O - http://169.254.200.21/)" = vm2 ]
	[ "$(inhost sl-exec "$G-2" -- timeout 4 wget -q -O - http://169.254.200.20/)" = vm1 ]
	# the bridge learnt each MAC on its own VM's port
	inhost bridge -j fdb show br "$BR" | jq -e --arg m "$mac2" --arg p "${P}t2" \
		'any(.[]; .mac == $m and .ifname == $p)' >/dev/null
	inhost bridge -j fdb show br "$BR" | jq -e --arg m "$mac1" --arg p "${P}t1" \
		'any(.[]; .mac == $m and .ifname == $p)' >/dev/null
	# a fork of the first: its memory (the web server running), its own MAC and address
	run inhost sl-up fork "$f" "$G-1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(inhost sl-exec "$G-3" -- cat /sys/class/net/eth0/address)" = 06:00:a9:fe:c8:16 ]
	[ "$(inhost sl-exec "$G-2" -- timeout 4 wget -q -O - http://169.254.200.22/)" = vm1 ]
	[ "$(inhost sl-exec "$G-2" -- timeout 4 wget -q -O - http://169.254.200.20/)" = vm1 ]
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "kill -9 of sl-up and of a bridge VM's QEMU, then sl-gc: back to before; a foreign bridge survives" {
	inhost ip link add "${P}fb" type bridge
	inhost ip addr add 198.51.100.200/32 dev "${P}fb"
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f pid
	f=$(cfg br <<Y
config:
  host_groups:
  - name: $G
    count: 2
    ram_mb: 128
    network:
      bridge: "$BR"
      gateway: "169.254.200.1/24"
Y
)
	up_foreground "$f"
	pid=$UP_PID
	pkill -9 -f "sl-up $f"
	wait "$pid" || true
	kill -9 "$(cat "$SL_RUN_DIR/$G-2/qemu.pid")"
	run inhost sl-gc --dry-run
	echo "$output"
	grep -q "would remove VM $G-1: TAP $G-1 on bridge $BR" <<<"$output"
	inhost ip link show "$G-1" >/dev/null
	run inhost sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(inhost sl-gc)" ]
}

@test "sl-gc: a bridge port whose state dir is gone, and then its bridge" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	inhost sl-ipam alloc --gateway 169.254.200.1/24 "$G-1" >/dev/null
	inhost sl-tap add "$G-1" --bridge "$BR" >/dev/null
	inhost sl-ipam release "$G-1"
	rm -rf "${SL_RUN_DIR:?}/$G-1"
	run inhost sl-gc --dry-run
	echo "$output"
	grep -q "would remove bridge port $G-1 of $G-1 (no state)" <<<"$output"
	grep -q "would remove bridge $BR (no ports left)" <<<"$output"
	inhost ip link show "$BR" >/dev/null
	inhost sl-gc
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "launch in a bridge group takes the next listed address, then says none is left; down removes the bridge" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f
	f=$(cfg zero <<Y
config:
  host_groups:
  - name: $G
    count: 0
    network:
      bridge: "$BR"
      gateway: "169.254.200.1/24"
      addresses: ["169.254.200.77", "169.254.200.78"]
Y
)
	inhost sl-up -d --no-boot "$f"
	! inhost ip link show "$BR" 2>/dev/null || false
	run inhost sl-up launch --no-boot "$f" "$G"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "$G-1 up 169.254.200.77" <<<"$output"
	inhost sl-up launch --no-boot "$f" "$G"
	grep -q "^SL_IP=169.254.200.78$" "$SL_RUN_DIR/$G-2/vm.env"
	[ "$(master "$G-2")" = "$BR" ]
	assert_usage_error "no address left for $G-3 in network.addresses (2 listed)" inhost sl-up launch --no-boot "$f" "$G"
	inhost sl-up down "$f"
	! inhost ip link show "$BR" 2>/dev/null || false
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "a bridge range as Slicer writes it (FIRST-LAST) is the pool: by hand and from a config; full, outside, reversed refused" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local pool=169.254.200.10-169.254.200.11 f big
	eval "$(inhost sl-ipam alloc --gateway 169.254.200.1/24 --pool "$pool" "$G-1")"
	[ "$SL_IP" = 169.254.200.10 ]
	eval "$(inhost sl-ipam alloc --gateway 169.254.200.1/24 --pool "$pool" "$G-2")"
	[ "$SL_IP" = 169.254.200.11 ]
	assert_usage_error "pool $pool of bridge subnet 169.254.200.0/24 is full" \
		inhost sl-ipam alloc --gateway 169.254.200.1/24 --pool "$pool" "$G-3"
	assert_usage_error "bad range '169.254.201.1-169.254.201.5': not in the subnet 169.254.200.0/24" \
		inhost sl-ipam alloc --gateway 169.254.200.1/24 --pool 169.254.201.1-169.254.201.5 "$G-3"
	assert_usage_error "the first address is after the last" \
		inhost sl-ipam alloc --gateway 169.254.200.1/24 --pool 169.254.200.9-169.254.200.5 "$G-3"
	assert_usage_error "--pool needs --gateway" \
		inhost sl-ipam alloc --range 169.254.100.0/22 --pool "$pool" "$G-3"
	inhost sl-ipam release "$G-1"
	inhost sl-ipam release "$G-2"
	f=$(cfg pool <<Y
config:
  host_groups:
  - name: $G
    count: 2
    network:
      bridge: "$BR"
      gateway: "169.254.200.1/24"
      range: "169.254.200.20-169.254.200.29"
Y
)
	inhost sl-up --print-script "$f" | grep -q -- "^sl-ipam alloc --gateway 169.254.200.1/24 --pool 169.254.200.20-169.254.200.29 --group $G $G-1$"
	inhost sl-up -d --no-boot "$f" 2>/dev/null
	grep -q "^SL_IP=169.254.200.20$" "$SL_RUN_DIR/$G-1/vm.env"
	grep -q "^SL_IP=169.254.200.21$" "$SL_RUN_DIR/$G-2/vm.env"
	inhost sl-up launch --no-boot "$f" "$G" 2>/dev/null
	grep -q "^SL_IP=169.254.200.22$" "$SL_RUN_DIR/$G-3/vm.env"
	inhost sl-up down "$f" 2>/dev/null
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	big=$(cfg big <<Y
config:
  host_groups:
  - name: $G
    count: 11
    network:
      gateway: "169.254.200.1/24"
      range: "169.254.200.20-169.254.200.29"
Y
)
	assert_usage_error "network.range: 169.254.200.20-169.254.200.29 holds 10 addresses, for count 11" \
		inhost sl-up --print-script "$big"
}
