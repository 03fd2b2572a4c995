#!/usr/bin/env bats
# CNI mode (Slicer: a group with network_name and no network): the VM's
# namespace attached by a CNI network's plugins (Debian's
# containernetworking-plugins), its TAP wired to the CNI interface by tc
# redirect. Conflists and host-local's leases live in the test's directory.

load helpers

setup() {
	require /usr/lib/cni/bridge /usr/lib/cni/ptp /usr/lib/cni/host-local /usr/lib/cni/firewall
	setup_host
	setup_lan_internet
	G="c${P:1:4}"
	export SL_CNI_CONF_DIR="$BATS_TEST_TMPDIR/net.d" SL_CNI_PATH=/usr/lib/cni
	IPAM="$BATS_TEST_TMPDIR/ipam"
	mkdir -p "$SL_CNI_CONF_DIR"
	# Slicer's own chain: bridge + host-local + firewall
	cat >"$SL_CNI_CONF_DIR/10-slicer.conflist" <<J
{ "cniVersion": "1.0.0", "name": "slicer-$P",
  "plugins": [
    { "type": "bridge", "bridge": "${P}b", "isGateway": true, "ipMasq": true,
      "ipam": { "type": "host-local", "subnet": "192.0.2.0/25", "dataDir": "$IPAM",
                "routes": [ { "dst": "0.0.0.0/0" } ] } },
    { "type": "firewall" } ] }
J
	cat >"$SL_CNI_CONF_DIR/20-ptp.conflist" <<J
{ "cniVersion": "1.0.0", "name": "ptp-$P",
  "plugins": [
    { "type": "ptp", "ipMasq": true,
      "ipam": { "type": "host-local", "subnet": "192.0.2.128/25", "dataDir": "$IPAM",
                "routes": [ { "dst": "0.0.0.0/0" } ] } } ] }
J
}
teardown() {
	down_configs
	local v
	for v in "$SL_RUN_DIR"/*/vm.env; do
		[ -e "$v" ] && inhost sl-cni-run del "$(basename "$(dirname "$v")")" >/dev/null 2>&1 || true
	done
	teardown_host
}

# the rules a plugin made for the VM: its container ID is in their comments
cni_rules() {
	{ inhost iptables -S; inhost iptables -t nat -S; } 2>/dev/null |
		grep -cE "sltools-[0-9a-f]{8}-$1[^-0-9a-zA-Z]" || true
}
leases() { # the addresses host-local holds for network $1
	ls "$IPAM/$1" 2>/dev/null | grep -c '^192\.0\.2\.' || true
}

@test "by hand: add, tap --mode cni, check, del twice, del after the namespace is gone; nothing left" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	inhost sl-netns add "$G-1" >/dev/null
	eval "$(inhost sl-cni-run add "$G-1" --network "slicer-$P")"
	[ "$SL_MODE" = cni ] && [ "$SL_CNI_NETWORK" = "slicer-$P" ] && [ "$SL_CNI_IFNAME" = eth0 ] || false
	[ "$SL_IP" = 192.0.2.2 ] && [ "$SL_GW" = 192.0.2.1 ] && [ "$SL_PREFIX" = 25 ] || false
	jq -e '.ips[0].address == "192.0.2.2/25"' "$SL_RUN_DIR/$G-1/cni-result.json" >/dev/null
	[ "$(leases "slicer-$P")" = 1 ] && [ "$(cni_rules "$G-1")" -gt 0 ] || false
	[ "$(ip -n "$G-1" -j addr show dev eth0 | jq -r '.[0].addr_info[0].local')" = 192.0.2.2 ]
	# again: the same attachment, not a second ADD (a re-run of sl-up)
	eval "$(inhost sl-cni-run add "$G-1" --network "slicer-$P")"
	[ "$SL_IP" = 192.0.2.2 ] && [ "$(leases "slicer-$P")" = 1 ] || false
	assert_usage_error "$G-1 is attached to CNI network slicer-$P by eth0 already" \
		inhost sl-cni-run add "$G-1" --network "ptp-$P"
	eval "$(inhost sl-tap add "$G-1" --mode cni)"
	[ "$SL_TAP" = tap0 ] && [ "$SL_MAC" = "$(ip -n "$G-1" -j link show dev eth0 | jq -r '.[0].address')" ] || false
	# both ways: what arrives on one leaves by the other
	ip netns exec "$G-1" tc filter show dev eth0 ingress | grep -q "Egress Redirect to device tap0"
	ip netns exec "$G-1" tc filter show dev tap0 ingress | grep -q "Egress Redirect to device eth0"
	inhost sl-cni-run check "$G-1"
	assert_usage_error "CNI mode has no egress rules of ours" inhost sl-egress apply "$G-1"
	inhost sl-cni-run del "$G-1"
	[ "$(leases "slicer-$P")" = 0 ] && [ "$(cni_rules "$G-1")" = 0 ] || false
	[ ! -e "$SL_RUN_DIR/$G-1/cni-result.json" ]
	! grep -q "^SL_CNI_NETWORK=" "$SL_RUN_DIR/$G-1/vm.env" || false
	inhost sl-cni-run del "$G-1" # twice: nothing to do
	# DEL after the namespace is gone still releases the lease and the rules
	inhost sl-cni-run add "$G-1" --network "slicer-$P" >/dev/null
	[ "$(leases "slicer-$P")" = 1 ]
	inhost sl-tap del "$G-1"
	inhost sl-netns del "$G-1"
	inhost sl-cni-run del "$G-1"
	[ "$(leases "slicer-$P")" = 0 ]
	# the firewall plugin's rules go by the kept result; the bridge plugin
	# finds what to unmasquerade in the namespace, so its NAT chain stays
	# (containernetworking-plugins 1.1.1; docs/UP.md)
	[ "$(inhost iptables -S | grep -cE "sltools-[0-9a-f]{8}-$G-1[^-0-9]" || true)" = 0 ]
	inhost ip link del "${P}b" # the bridge plugin leaves its bridge, by design
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "a plugin that fails: its CNI error and code, and nothing is left; unknown network or plugin is exit 2" {
	cat >"$SL_CNI_CONF_DIR/30-bad.conflist" <<J
{ "cniVersion": "1.0.0", "name": "bad-$P",
  "plugins": [
    { "type": "ptp", "ipam": { "type": "host-local", "subnet": "192.0.2.128/25", "dataDir": "$IPAM" } },
    { "type": "host-device", "device": "nosuch0" } ] }
J
	cat >"$SL_CNI_CONF_DIR/40-nope.conflist" <<J
{ "cniVersion": "1.0.0", "name": "nope-$P", "plugins": [ { "type": "no-such-plugin" } ] }
J
	inhost sl-netns add "$G-1" >/dev/null
	kernel_state >"$BATS_TEST_TMPDIR/before"
	run inhost sl-cni-run add "$G-1" --network "bad-$P"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "CNI plugin host-device ADD: .*(CNI error code [0-9]*)" <<<"$output"
	# the whole list got DEL: ptp's veth and host-local's lease are gone
	[ "$(leases "bad-$P")" = 0 ]
	[ "$(ip -n "$G-1" -j link show | jq -r '.[].ifname' | grep -c eth0 || true)" = 0 ]
	[ ! -e "$SL_RUN_DIR/$G-1/cni-result.json" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	assert_usage_error "no CNI network nosuch in $SL_CNI_CONF_DIR" \
		inhost sl-cni-run add "$G-1" --network nosuch
	echo '{ "name": "nosuch", broken' >"$SL_CNI_CONF_DIR/05-broken.conf"
	assert_usage_error "no CNI network nosuch in .*; 05-broken.conf is not JSON" \
		inhost sl-cni-run add "$G-1" --network nosuch
	rm "$SL_CNI_CONF_DIR/05-broken.conf"
	assert_usage_error "CNI plugin no-such-plugin: not found in /usr/lib/cni" \
		inhost sl-cni-run add "$G-1" --network "nope-$P"
	assert_usage_error "no namespace" inhost sl-cni-run add "$G-9" --network "slicer-$P"
	# plugins are not ours: one that hangs is killed after SL_CNI_TIMEOUT, one
	# that answers with no JSON is said so; neither leaves anything
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	printf '#!/bin/sh\nexec sleep 60\n' >"$BATS_TEST_TMPDIR/bin/hang"
	printf '#!/bin/sh\necho not-json\n' >"$BATS_TEST_TMPDIR/bin/garble"
	chmod +x "$BATS_TEST_TMPDIR/bin/hang" "$BATS_TEST_TMPDIR/bin/garble"
	for t in hang garble; do
		printf '{ "cniVersion": "1.0.0", "name": "%s-%s", "plugins": [ { "type": "%s" } ] }\n' \
			"$t" "$P" "$t" >"$SL_CNI_CONF_DIR/50-$t.conflist"
	done
	SECONDS=0
	run inhost env SL_CNI_PATH="$BATS_TEST_TMPDIR/bin:/usr/lib/cni" SL_CNI_TIMEOUT=1 \
		sl-cni-run add "$G-1" --network "hang-$P"
	[ "$status" -eq 1 ] && [ "$SECONDS" -lt 30 ] || false
	grep -q "CNI plugin hang ADD: no answer within 1 s (SL_CNI_TIMEOUT)" <<<"$output"
	run inhost env SL_CNI_PATH="$BATS_TEST_TMPDIR/bin" sl-cni-run add "$G-1" --network "garble-$P"
	[ "$status" -eq 1 ] && grep -q "CNI plugin garble ADD: its result is not a JSON object" <<<"$output" || false
	assert_usage_error "bad SL_CNI_TIMEOUT 'soon'" \
		inhost env SL_CNI_TIMEOUT=soon sl-cni-run add "$G-1" --network "slicer-$P"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	inhost sl-netns del "$G-1"
}

@test "VMs on Slicer's chain and on ptp reach the internet; sl-gc runs DEL for a dead one; down leaves nothing" {
	use_templates
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f
	f=$(cfg cni <<Y
config:
  host_groups:
  - name: $G
    count: 1
    ram_mb: 128
    network_name: "slicer-$P"
  - name: ${G}p
    count: 1
    ram_mb: 128
    network_name: "ptp-$P"
Y
)
	run inhost sl-up --print-script "$f"
	echo "$output"
	grep -qx "sl-cni-run add $G-1 --network slicer-$P" <<<"$output"
	grep -qx "sl-tap add $G-1 --mode cni" <<<"$output"
	! grep -q "sl-ipam\|sl-veth\|sl-egress" <<<"$output" || false
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "\[1/2\] $G-1 up 192.0.2.2" <<<"$output"
	grep -q "\[2/2\] ${G}p-1 up 192.0.2.130" <<<"$output"
	[ "$(inhost sl-exec "$G-1" -- ip -4 -o addr show eth0 | awk '{print $4}')" = 192.0.2.2/25 ]
	inhost sl-exec "$G-1" -- timeout 4 wget -q -O - http://203.0.113.10/ | grep -q "hello from $NET"
	inhost sl-exec "${G}p-1" -- timeout 4 wget -q -O - http://203.0.113.10/ | grep -q "hello from $NET"
	# a dead VM: sl-gc runs DEL (lease and rules go) and removes its namespace
	kill -9 "$(cat "$SL_RUN_DIR/${G}p-1/qemu.pid")"
	run inhost sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "VM ${G}p-1: CNI attachment to ptp-$P (DEL)" <<<"$output"
	[ "$(leases "ptp-$P")" = 0 ] && [ "$(cni_rules "${G}p-1")" = 0 ] || false
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	[ "$(pgrep -c -f "qemu-system.*-name $G" || true)" = 0 ]
	[ "$(leases "slicer-$P")" = 0 ] && [ "$(cni_rules "$G-1")" = 0 ] || false
	inhost ip link del "${P}b"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "template: true on Slicer's chain: a clone takes its CNI interface's MAC and address and reaches the internet; down leaves nothing" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f v m ip
	f=$(template_pair tpl <<Y
    network_name: "slicer-$P"
Y
)
	run inhost sl-up -d "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "^SL_SNAPSHOT=" "$SL_RUN_DIR/$G-2/vm.env"
	for v in "$G-1" "$G-2"; do
		# the chain's interface in the VM's namespace: the guest is on its link as it
		m=$(ip -n "$v" -j link show eth0 | jq -r '.[0].address')
		ip=$(sed -n 's/^SL_IP=//p' "$SL_RUN_DIR/$v/vm.env")
		[ "$(inhost sl-exec "$v" -- cat /sys/class/net/eth0/address)" = "$m" ]
		[ "$(inhost sl-exec "$v" -- ip -4 -o addr show eth0 | awk '{print $4}')" = "$ip/25" ]
		inhost sl-exec "$v" -- timeout 4 wget -q -O - http://203.0.113.10/ | grep -q "hello from $NET"
	done
	run inhost sl-up down "$f"
	[ "$status" -eq 0 ]
	[ "$(leases "slicer-$P")" = 0 ]
	inhost ip link del "${P}b"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "CNI config errors: an unknown network_name is exit 2 before anything is made" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local f
	f=$(cfg bad <<Y
config:
  host_groups:
  - name: $G
    network_name: "nosuch-$P"
Y
)
	assert_usage_error "group $G: network_name: no CNI network nosuch-$P in $SL_CNI_CONF_DIR" inhost sl-up "$f"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}
