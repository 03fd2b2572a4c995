#!/usr/bin/env bats
# Slicer's networking page's examples (examples/slicer/), as written, with
# real VMs: Slicer's hypervisor, images, storage and API keys are warned
# about and ignored, and each network mode does what the page says. Each
# group gets our template: true (use_templates): this file is about the
# network, and a VM restored from the suite's template is up in a fraction
# of a cold boot. The
# scratch host has Slicer's LAN on enp1s0 (192.168.1.0/24: its router
# 192.168.1.1 serves HTTP and, for macvtap, DHCP) and the internet
# (203.0.113.10).

load helpers

setup() {
	setup_host
	use_templates
	setup_lan_internet
	SLAN="${P}e"
	scratch_ns "$SLAN"
	ip -n "$HOST" link add enp1s0 type veth peer name eth0 netns "$SLAN"
	ip -n "$HOST" addr add 192.168.1.2/24 dev enp1s0
	ip -n "$HOST" link set enp1s0 up
	ip -n "$SLAN" addr add 192.168.1.1/24 dev eth0
	ip -n "$SLAN" link set eth0 up
	mkdir -p "$BATS_TEST_TMPDIR/www-lan"
	echo "hello from Slicer's LAN" >"$BATS_TEST_TMPDIR/www-lan/index.html"
	ip netns exec "$SLAN" busybox httpd -p 80 -h "$BATS_TEST_TMPDIR/www-lan"
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	down_configs
	[ -z "${DNSMASQ_PID:-}" ] || kill "$DNSMASQ_PID" 2>/dev/null || true
	teardown_host
}

# The example, as written (and templated), where down_configs finds it.
slicer() {
	templated <"$TOP/examples/slicer/$1" >"$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}
vm_get() { # vm_get VM HOST → 0 if the page came
	inhost sl-exec "$1" -- timeout 4 wget -q -O - "http://$2/" 2>/dev/null
}
vm_addr() {
	inhost sl-exec "$1" -- ip -4 -o addr show eth0 | awk '{print $4}'
}
up() { # up CONFIG: sl-up -d, every Slicer-only key warned about once
	run inhost sl-up -d "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c "hypervisor: firecracker ignored: sltools boots QEMU's microvm" <<<"$output")" = 1 ]
	for k in image kernel_image; do
		[ "$(grep -c "config.$k: ghcr.io/openfaasltd/.* ignored" <<<"$output")" = 1 ]
	done
	for k in api github_user; do
		[ "$(grep -c "config.$k is not implemented, ignored" <<<"$output")" = 1 ]
	done
}
down() {
	inhost sl-up down "$1" >/dev/null
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}
# the names isolated and CNI VMs take are the machine's (their namespaces)
names_free() {
	local n
	for n in "$@"; do
		[ ! -e "/run/netns/$n" ] || { echo "a namespace $n exists on this machine" >&2; return 1; }
	done
}

@test "bridge: the VM on vmtap1 in brvm0, 192.168.137.2; it reaches the gateway, the LAN and the internet" {
	local f
	f=$(slicer bridge.yaml)
	up "$f"
	grep -q "\[1/1\] vm-1 up 192.168.137.2" <<<"$output"
	inhost ip -j -d link show vmtap1 | jq -e '.[0].master == "brvm0"'
	[ "$(vm_addr vm-1)" = 192.168.137.2/24 ]
	inhost sl-exec vm-1 -- ping -c 1 -W 2 192.168.137.1 >/dev/null
	inhost busybox ping -c 1 -W 2 192.168.137.2 >/dev/null
	vm_get vm-1 192.168.1.1 | grep -q "hello from Slicer's LAN"
	vm_get vm-1 203.0.113.10 | grep -q "hello from"
	# 2 vCPUs and ram_gb: 4 as written
	[ "$(inhost sl-exec vm-1 -- nproc)" = 2 ]
	pgrep -a -f "qemu-system.*-name vm-1" | grep -q -- "-m 4096"
	down "$f"
}

@test "bridge with static addresses: three VMs at .2 .3 .4, reaching each other" {
	local f
	f=$(slicer bridge-static.yaml)
	up "$f"
	for n in 1 2 3; do
		[ "$(vm_addr vm-$n)" = "192.168.137.$((n + 1))/24" ]
	done
	inhost sl-exec vm-3 -- ping -c 1 -W 2 192.168.137.2 >/dev/null
	down "$f"
}

@test "macvtap with DHCP: the VM a host of the LAN behind enp1s0, its address from the LAN's server" {
	require dnsmasq
	(exec ip netns exec "$SLAN" dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 \
		--interface=eth0 --bind-interfaces --pid-file= --user=root \
		--dhcp-range=192.168.1.100,192.168.1.150,255.255.255.0,1h \
		--dhcp-option=3,192.168.1.1 --dhcp-leasefile="$BATS_TEST_TMPDIR/dhcp.leases" \
		</dev/null >/dev/null 2>&1 3>&-) &
	DNSMASQ_PID=$!
	local f ip
	f=$(slicer macvtap-dhcp.yaml)
	up "$f"
	inhost ip -j -d link show type macvtap | jq -e '.[0].ifname == "vm-1" and .[0].link == "enp1s0"'
	ip=$(vm_addr vm-1)
	[[ "$ip" =~ ^192\.168\.1\.1([0-4][0-9]|50)/24$ ]]
	vm_get vm-1 192.168.1.1 | grep -q "hello from Slicer's LAN"
	ip netns exec "$SLAN" busybox ping -c 1 -W 2 "${ip%/24}" >/dev/null
	down "$f"
}

@test "macvtap with static addresses: .200 and .201 on the LAN, reached from it" {
	local f
	f=$(slicer macvtap-static.yaml)
	up "$f"
	[ "$(vm_addr vm-1)" = 192.168.1.200/24 ]
	[ "$(vm_addr vm-2)" = 192.168.1.201/24 ]
	ip netns exec "$SLAN" busybox ping -c 1 -W 2 192.168.1.201 >/dev/null
	vm_get vm-2 192.168.1.1 | grep -q "hello from Slicer's LAN"
	down "$f"
}

@test "isolated: the internet allowed, Slicer's LAN dropped and logged, the other VM unreachable" {
	names_free agents-1 agents-2
	local f
	f=$(slicer isolated.yaml)
	up "$f"
	grep -q "\[2/2\] agents-2 up 169.254.100.6" <<<"$output"
	vm_get agents-1 203.0.113.10 | grep -q "hello from"
	! vm_get agents-1 192.168.1.1 || false
	! inhost sl-exec agents-1 -- ping -c 1 -W 2 169.254.100.6 >/dev/null 2>&1 || false
	inhost sl-egress test agents-1 192.168.1.1:80 | grep -qx "SL_ENTRY=192.168.1.0/24"
	inhost sl-egress log agents-1 | grep -q "192.168.1.1:80 denied by 192.168.1.0/24"
	down "$f"
}

@test "CNI: network_name slicer, the conflist's bridge and host-local give the VM its address" {
	require /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/firewall
	names_free vm-1
	export SL_CNI_CONF_DIR="$BATS_TEST_TMPDIR/net.d" SL_CNI_PATH=/usr/lib/cni
	mkdir -p "$SL_CNI_CONF_DIR"
	# the example's conflist, its leases in the test's directory
	jq --arg d "$BATS_TEST_TMPDIR/ipam" '.plugins[0].ipam.dataDir = $d' \
		"$TOP/examples/cni-slicer.conflist" >"$SL_CNI_CONF_DIR/10-slicer.conflist"
	local f
	f=$(slicer cni.yaml)
	up "$f"
	[[ "$(vm_addr vm-1)" == 192.168.138.* ]]
	vm_get vm-1 203.0.113.10 | grep -q "hello from"
	inhost sl-up down "$f" >/dev/null
	# the bridge plugin keeps its bridge, as it does under every runtime
	inhost ip link del slicer0
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}
