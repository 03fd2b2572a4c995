#!/usr/bin/env bats
# Config validation: every error exits 2 with one line naming the file, the
# group and the key, before anything is created.

load helpers

setup() {
	setup_host
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
teardown() {
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state) || { teardown_host; return 1; }
	teardown_host
}


@test "a VM name over 63 bytes" {
	f=$(cfg long <<'Y'
config:
  host_groups:
  - name: isolated-agents-0123456789012345678901234567890123456789-abcde
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "long.yaml:3: group isolated-agents-0123456789012345678901234567890123456789-abcde: VM name '.*-1' is 64 bytes, longer than 63" inhost sl-up -d --no-boot "$f"
	sed -i 's/-abcde$/-abcdefghi/' "$f"
	assert_usage_error "long.yaml:3: name: too long (at most 63 bytes)" inhost sl-up -d --no-boot "$f"
}
@test "a bad range" {
	f=$(cfg badrange <<'Y'
config:
  host_groups:
  - name: a
    network: {mode: isolated, range: "169.254.100.0/31"}
Y
)
	assert_usage_error "group a: network.range: bad range '169.254.100.0/31'" inhost sl-up -d --no-boot "$f"
}
@test "overlapping ranges in one file" {
	f=$(cfg overlap <<'Y'
config:
  host_groups:
  - name: a
    network: {mode: isolated, range: "169.254.100.0/22"}
  - name: b
    network: {mode: isolated, range: "169.254.102.0/23"}
Y
)
	assert_usage_error "group b: network.range: 169.254.102.0/23 overlaps 169.254.100.0/22 of group a" inhost sl-up -d --no-boot "$f"
}
@test "a range overlapping one in use" {
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	f=$(cfg inuse <<'Y'
config:
  host_groups:
  - name: b
    network: {mode: isolated, range: "169.254.100.0/23"}
Y
)
	assert_usage_error "group b: network.range: range 169.254.100.0/23 overlaps range 169.254.100.0/22" inhost sl-up -d --no-boot "$f"
	inhost sl-ipam release "$P-1"
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
@test "a count larger than the range holds" {
	f=$(cfg count <<'Y'
config:
  host_groups:
  - name: a
    count: 5
    network: {mode: isolated, range: "169.254.100.0/29"}
Y
)
	assert_usage_error "group a: count 5 is more than range 169.254.100.0/29 holds (2)" inhost sl-up -d --no-boot "$f"
}
@test "a bad CIDR in drop" {
	f=$(cfg cidr <<'Y'
config:
  host_groups:
  - name: a
    network:
      mode: isolated
      range: "169.254.100.0/22"
      drop: ["192.168.1.0/24", "not-a-cidr"]
Y
)
	assert_usage_error "group a: bad network.drop value 'not-a-cidr': want ADDR or ADDR/P" inhost sl-up -d --no-boot "$f"
}
@test "duplicate group names" {
	f=$(cfg dup <<'Y'
config:
  host_groups:
  - name: a
    network: {mode: isolated, range: "169.254.100.0/22"}
  - name: a
    network: {mode: isolated, range: "169.254.104.0/22"}
Y
)
	assert_usage_error "group a: name: a second group of that name" inhost sl-up -d --no-boot "$f"
}
@test "malformed YAML" {
	f=$(cfg broken <<'Y'
config:
  host_groups:
  - name: a
    network: {mode: isolated, range: "169.254.100.0/22"
Y
)
	assert_usage_error "broken.yaml:.*malformed YAML" inhost sl-up -d --no-boot "$f"
}
@test "neither network nor network_name: refused; both: refused" {
	f=$(cfg cni <<'Y'
config:
  host_groups:
  - name: a
    count: 1
Y
)
	assert_usage_error "group a: no network section and no network_name" inhost sl-up -d --no-boot "$f"
	f=$(cfg both <<'Y'
config:
  host_groups:
  - name: a
    network_name: cni-net
    network: {mode: isolated}
Y
)
	assert_usage_error "group a: network_name: only without network" inhost sl-up -d --no-boot "$f"
}
@test "Slicer's own keys load with one warning each" {
	f=$(cfg slicer <<'Y'
config:
  host_groups:
  - name: a
    count: 0
    vcpu: 2
    ram_gb: 1
    storage: image
    storage_size: 25G
    github_user: someone
    network:
      mode: "isolated"
      range: "169.254.100.0/22"
      drop: ["192.168.1.0/24"]
  image: "ghcr.io/openfaasltd/slicer-systemd:latest"
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	[ "$(grep -c "warning: .*storage is not implemented" <<<"$output")" -eq 1 ]
	grep -q "github_user is not implemented" <<<"$output"
}
@test "sl-up new prints a config that loads, with the next free range" {
	inhost sl-ipam alloc --range 169.254.100.0/22 "$P-1" >/dev/null
	inhost sl-up new "$P" --drop 192.168.1.0/24 --count 2 >"$BATS_TEST_TMPDIR/new.yaml"
	grep -q 'range: "169.254.104.0/22"' "$BATS_TEST_TMPDIR/new.yaml"
	run inhost sl-up --print-script "$BATS_TEST_TMPDIR/new.yaml"
	[ "$status" -eq 0 ]
	grep -q "^sl-egress apply $P-2 --drop 192.168.1.0/24$" <<<"$output"
	grep -q "^sl-boot start $P-2 --vcpu 1 --mem 256$" <<<"$output"
	inhost sl-ipam release "$P-1"
	kernel_state >"$BATS_TEST_TMPDIR/before"
}
# A group named $P with count 0 on 169.254.100.0/22: VMs come by launch only.
empty_group() {
	cfg zero <<Y
config:
  host_groups:
  - name: $P
    count: 0
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
}

@test "count 0: nothing at up; launch adds VMs one by one, lowest free index; down removes them" {
	f=$(empty_group)
	inhost sl-up -d --no-boot "$f"
	[ ! -e "$SL_RUN_DIR/$P-1" ]
	run inhost sl-up launch --no-boot "$f" "$P"
	grep -q "\[1/1\] $P-1 up 169.254.100.2" <<<"$output"
	run inhost sl-up launch --no-boot "$f" "$P"
	grep -q "\[1/1\] $P-2 up 169.254.100.6" <<<"$output"
	inhost sl-veth check "$P-2"
	assert_usage_error "no group nosuch" inhost sl-up launch --no-boot "$f" nosuch
	run inhost sl-up down "$f"
	grep -q "2 VMs down" <<<"$output"
	[ ! -e "$SL_RUN_DIR/$P-1" ] && [ ! -e "$SL_RUN_DIR/$P-2" ] || false
}

@test "eight launches at once give eight VMs with eight names and eight addresses" {
	f=$(empty_group)
	local pids=()
	for i in 1 2 3 4 5 6 7 8; do
		inhost sl-up launch --no-boot "$f" "$P" >"$BATS_TEST_TMPDIR/l$i" 2>&1 &
		pids+=($!)
	done
	for i in 0 1 2 3 4 5 6 7; do wait "${pids[$i]}" || { cat "$BATS_TEST_TMPDIR/l$((i + 1))"; false; }; done
	for i in 1 2 3 4 5 6 7 8; do inhost sl-netns check "$P-$i"; done
	[ "$(grep -c "^$P-" "$SL_RUN_DIR/ipam/leases")" = 8 ]
	[ "$(cut -d' ' -f4 "$SL_RUN_DIR/ipam/leases" | sort -u | wc -l)" = 8 ]
	run inhost sl-up down "$f"
	grep -q "8 VMs down" <<<"$output"
}

@test "bridge mode: a missing or bad gateway, allow/drop, a clash between groups" {
	f=$(cfg nogw <<'Y'
config:
  host_groups:
  - name: a
    network:
      bridge: brvm0
Y
)
	assert_usage_error "nogw.yaml:5: group a: network.gateway: missing for bridge mode" inhost sl-up -d --no-boot "$f"
	f=$(cfg badgw <<'Y'
config:
  host_groups:
  - name: a
    network: {gateway: "169.254.200.0/24"}
Y
)
	assert_usage_error "group a: network.gateway: '169.254.200.0/24' is not an address with its prefix" inhost sl-up -d --no-boot "$f"
	f=$(cfg allow <<'Y'
config:
  host_groups:
  - name: a
    network: {gateway: "169.254.200.1/24", allow: ["203.0.113.0/24"]}
Y
)
	assert_usage_error "group a: network.allow: only for mode: isolated" inhost sl-up -d --no-boot "$f"
	f=$(cfg twogw <<'Y'
config:
  host_groups:
  - name: a
    network: {bridge: br0, gateway: "169.254.200.1/24"}
  - name: b
    network: {bridge: br0, gateway: "169.254.201.1/24"}
Y
)
	assert_usage_error "group b: network.gateway: 169.254.201.1/24, but group a has 169.254.200.1/24 on bridge br0" inhost sl-up -d --no-boot "$f"
	f=$(cfg mix <<'Y'
config:
  host_groups:
  - name: a
    network: {gateway: "169.254.100.1/24"}
  - name: b
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "group b: network.range: 169.254.100.0/22 overlaps 169.254.100.1/24 of group a" inhost sl-up -d --no-boot "$f"
}

@test "bridge mode: addresses outside the subnet, fewer addresses than VMs, a foreign bridge of that name" {
	f=$(cfg out <<'Y'
config:
  host_groups:
  - name: a
    network: {gateway: "169.254.200.1/24", addresses: ["169.254.201.5"]}
Y
)
	assert_usage_error "group a: network.addresses: '169.254.201.5' is not an address in 169.254.200.0/24" inhost sl-up -d --no-boot "$f"
	f=$(cfg few <<'Y'
config:
  host_groups:
  - name: a
    count: 3
    network: {gateway: "169.254.200.1/24", addresses: ["169.254.200.5", "169.254.200.6"]}
Y
)
	assert_usage_error "group a: network.addresses: 2 for count 3" inhost sl-up -d --no-boot "$f"
	inhost ip link add "${P}fb" type bridge
	kernel_state >"$BATS_TEST_TMPDIR/before"
	f=$(cfg foreign <<Y
config:
  host_groups:
  - name: a
    network: {bridge: "${P}fb", gateway: "169.254.200.1/24"}
Y
)
	assert_usage_error "group a: network.bridge: ${P}fb exists and is not a bridge made by sltools" inhost sl-up -d --no-boot "$f"
}

@test "Slicer's top-level keys: hypervisor, image, api, github_user are each warned about once and ignored" {
	f=$(cfg hv <<'Y'
config:
  hypervisor: firecracker
  image: "ghcr.io/openfaasltd/slicer-systemd:latest"
  api: {bind: 127.0.0.1, port: 8080}
  github_user: someone
  host_groups:
  - name: a
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	[ "$(grep -c "warning: .*config.hypervisor: firecracker ignored: sltools boots QEMU's microvm with its own kernel and initramfs" <<<"$output")" = 1 ]
	grep -q "warning: .*config.image: ghcr.io/openfaasltd/slicer-systemd:latest ignored: VMs boot sltools' kernel" <<<"$output"
	for k in api github_user; do grep -q "warning: .*config.$k is not implemented, ignored" <<<"$output"; done
	grep -q "^sl-boot start a-1" <<<"$output"
	sed -i 's/firecracker/qemu/' "$f"
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	! grep -q hypervisor <<<"$output" || false
}

@test "Slicer's networking page's examples (examples/slicer/) print as written, each Slicer key warned about once" {
	local f out
	for f in "$TOP"/examples/slicer/*.yaml; do
		run inhost sl-up --print-script "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output" >&2; false; }
		out=$output
		for k in hypervisor image kernel_image api github_user; do
			[ "$(grep -c "warning: .*config.$k[: ]" <<<"$out")" = 1 ] || { echo "$f: $k" >&2; false; }
		done
		for k in storage storage_size; do
			[ "$(grep -c "warning: .*group .*: $k is not implemented" <<<"$out")" = 1 ]
		done
		grep -q "^sl-boot start .* --vcpu 2 --mem 4096$" <<<"$out"
	done
	run inhost sl-up --print-script "$TOP/examples/slicer/bridge-static.yaml"
	grep -qx "sl-ipam alloc --gateway 192.168.137.1/24 --address 192.168.137.4 --group vm vm-3" <<<"$output"
	grep -qx "sl-tap add vm-3 --bridge brvm0 --tap vmtap3" <<<"$output"
	run inhost sl-up --print-script "$TOP/examples/slicer/macvtap-static.yaml"
	grep -qx "sl-ipam alloc --gateway 192.168.1.1/24 --address 192.168.1.201 --lan --group vm vm-2" <<<"$output"
	grep -qx "sl-tap add vm-2 --macvtap enp1s0" <<<"$output"
	run inhost sl-up --print-script "$TOP/examples/slicer/isolated.yaml"
	grep -q "^sl-egress apply agents-1 .*--allow 0.0.0.0/0 .*--drop 192.168.1.0/24" <<<"$output" ||
		grep -q "^sl-egress apply agents-1 .*--drop 192.168.1.0/24 .*--allow 0.0.0.0/0" <<<"$output"
	run inhost sl-up --print-script "$TOP/examples/slicer/cni.yaml"
	grep -qx "sl-cni-run add vm-1 --network slicer" <<<"$output"
}

@test "bridge addresses as Slicer writes them, with the subnet's prefix; another prefix is refused" {
	f=$(cfg pfx <<'Y'
config:
  host_groups:
  - name: a
    count: 2
    network: {gateway: "169.254.200.1/24", addresses: ["169.254.200.5/24", "169.254.200.6"]}
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	grep -q -- "--address 169.254.200.5 " <<<"$output"
	grep -q -- "--address 169.254.200.6 " <<<"$output"
	sed -i 's#169.254.200.5/24#169.254.200.5/16#' "$f"
	assert_usage_error "network.addresses: '169.254.200.5/16': the prefix must be the gateway's, /24" inhost sl-up -d --no-boot "$f"
}

@test "sl-up new --net bridge prints a config that loads" {
	inhost sl-up new "$P" --net bridge --count 2 >"$BATS_TEST_TMPDIR/new.yaml"
	grep -q 'gateway: "192.168.137.1/24"' "$BATS_TEST_TMPDIR/new.yaml"
	run inhost sl-up --print-script "$BATS_TEST_TMPDIR/new.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "^sl-ipam alloc --gateway 192.168.137.1/24 --group $P $P-2$" <<<"$output"
	grep -q "^sl-tap add $P-2 --bridge brvm0$" <<<"$output"
	! grep -q "sl-netns" <<<"$output" || false
	assert_usage_error "need --net isolated" inhost sl-up new "$P" --net bridge --drop 10.0.0.0/8
}

@test "the printed script does what sl-up does: same kernel state, same env files" {
	f=$(cfg both <<'Y'
config:
  host_groups:
  - name: iso
    count: 2
    network: {mode: isolated, range: "169.254.100.0/22", drop: ["198.51.100.0/24"]}
  - name: brg
    count: 2
    network: {bridge: brs0, gateway: "169.254.200.1/24", tap_prefix: "brstap"}
  - name: dns
    count: 1
    dns_servers: ["192.0.2.53"]
    network: {mode: isolated, range: "169.254.104.0/22", allow: ["a.test", "*.b.test:443"]}
Y
)
	# sorted: the order of VMs and of ranges' rules depends on which VM's
	# steps ran first (sl-up runs 4 at once), and means nothing
	snap() {
		{
			kernel_state
			# a daemon's pid and a namespace's inode are their own each time
			for e in "$SL_RUN_DIR"/*/vm.env; do
				grep -Ev "^SL_(RESOLVER|DENYLOG)_|^SL_NETNS_ID=" "$e" | sed "s|^|$e |"
			done
			ip netns exec dns-1 ipset list -n
		} | sort
	}
	inhost sl-up --print-script --no-boot "$f" >"$BATS_TEST_TMPDIR/up.sh"
	inhost sh "$BATS_TEST_TMPDIR/up.sh" >/dev/null 2>&1
	snap >"$BATS_TEST_TMPDIR/by-hand"
	grep -q "brstap2" "$BATS_TEST_TMPDIR/by-hand"
	grep -q "dns-1/vm.env SL_DNS_UPSTREAM=192.0.2.53" "$BATS_TEST_TMPDIR/by-hand"
	grep -q "dns-1/vm.env SL_DNS=169.254.104.1" "$BATS_TEST_TMPDIR/by-hand"
	inhost sl-up --print-script down "$f" >"$BATS_TEST_TMPDIR/down.sh"
	inhost sh "$BATS_TEST_TMPDIR/down.sh" >/dev/null 2>&1
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	inhost sl-up -d --no-boot "$f" 2>/dev/null
	snap >"$BATS_TEST_TMPDIR/sl-up"
	inhost sl-up down "$f" 2>/dev/null
	diff "$BATS_TEST_TMPDIR/by-hand" "$BATS_TEST_TMPDIR/sl-up"
}

@test "launch overrides a group's lists for one VM: --allow, --drop, --no-allow, --no-drop" {
	G="o${P:1:4}"
	f=$(cfg over <<Y
config:
  host_groups:
  - name: $G
    count: 1
    network:
      mode: isolated
      range: "169.254.100.0/22"
      allow: ["198.51.100.0/24"]
      drop: ["198.51.100.11"]
Y
)
	inhost sl-up -d --no-boot "$f" >/dev/null
	inhost sl-up --no-boot launch "$f" "$G" --drop 203.0.113.0/24 >/dev/null
	inhost sl-up --no-boot launch "$f" "$G" --no-allow >/dev/null
	inhost sl-up --no-boot launch "$f" "$G" --no-allow --no-drop >/dev/null
	inhost sl-up --no-boot launch "$f" "$G" --allow 192.0.2.1:443 >/dev/null
	lists() { grep -E '^SL_(ALLOW|DROP)=' "$SL_RUN_DIR/$1/vm.env" | sort | tr '\n' ' '; }
	[ "$(lists "$G-1")" = "SL_ALLOW=198.51.100.0/24 SL_DROP=198.51.100.11/32 " ]
	[ "$(lists "$G-2")" = "SL_ALLOW=198.51.100.0/24 SL_DROP=203.0.113.0/24 " ]
	[ "$(lists "$G-3")" = "SL_ALLOW='' SL_DROP=198.51.100.11/32 " ]
	[ "$(lists "$G-4")" = "SL_ALLOW='' SL_DROP='' " ]
	[ "$(lists "$G-5")" = "SL_ALLOW=192.0.2.1/32:443 SL_DROP=198.51.100.11/32 " ]
	# the kernel has each VM's own lists
	ip netns exec "$G-2" iptables-legacy -S SL-FWD | grep -q -- '-d 203.0.113.0/24 -i tap0 .* -j DROP'
	! ip netns exec "$G-4" iptables-legacy -S SL-FWD | grep -q -- '-d 198.51.100' || false
	inhost sl-egress test "$G-3" 203.0.113.10 | grep -qx SL_VERDICT=allow
	inhost sl-egress test "$G-5" 198.51.100.11 | grep -qx SL_VERDICT=drop
	inhost sl-egress test "$G-5" 192.0.2.1:443 | grep -qx SL_ENTRY=192.0.2.1/32:443
	# show tells the override from the group's lists, in text and JSON
	inhost sl-egress show "$G-2" | grep -qF "# (its own lists, from sl-up launch; its group's: allow [198.51.100.0/24] drop [198.51.100.11/32])"
	run inhost sl-egress show --json "$G-2"
	[ "$(jq -c '[.allow, .drop, .group.allow, .group.drop]' <<<"$output")" = \
		'[["198.51.100.0/24"],["203.0.113.0/24"],["198.51.100.0/24"],["198.51.100.11/32"]]' ]
	[ "$(jq -c '[.policy[] | select(.builtin | not) | [.verdict, .entry]]' <<<"$output")" = \
		'[["allow","198.51.100.0/24"],["drop","203.0.113.0/24"]]' ]
	[ "$(jq -r '.default.verdict, .resolver' <<<"$output")" = "$(printf 'allow\nnull')" ]
	jq -e '.rules.namespace | any(test("-A SL-FWD -d 203.0.113.0/24 -i tap0 .*-j DROP"))' <<<"$output" >/dev/null
	jq -e '.rules.host | length > 0' <<<"$output" >/dev/null
	! inhost sl-egress show "$G-1" | grep -q "its own lists" || false
	[ "$(inhost sl-egress show --json "$G-1" | jq -c .group)" = null ]
	# the printed script carries the override
	inhost sl-up --print-script launch "$f" "$G" --drop 10.0.0.0/8 | grep -q -- "--drop 10.0.0.0/8"
	assert_usage_error "--allow and --no-allow together" inhost sl-up launch "$f" "$G" --allow 10.0.0.1 --no-allow
	assert_usage_error "--allow and --drop go with new or launch" inhost sl-up down "$f" --drop 10.0.0.1
	assert_usage_error "--no-allow and --no-drop go with launch" inhost sl-up -d "$f" --no-drop
	inhost sl-up down "$f" >/dev/null
}

@test "CONFIG that is no config: a directory, a FIFO, /dev/zero, 2 MB, 100000 nested lists, a key twice, ram_bytes past 1 TiB" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	assert_usage_error "$BATS_TEST_TMPDIR: is a directory" inhost timeout 10 sl-up -d --no-boot "$BATS_TEST_TMPDIR"
	assert_usage_error "fifo: not a regular file" inhost timeout 10 sl-up -d --no-boot "$BATS_TEST_TMPDIR/fifo"
	assert_usage_error "/dev/zero: not a regular file" inhost timeout 10 sl-up -d --no-boot /dev/zero
	head -c 2000000 /dev/zero | tr '\0' '#' >"$BATS_TEST_TMPDIR/big.yaml"
	assert_usage_error "larger than 1048576 bytes" inhost timeout 10 sl-up -d --no-boot "$BATS_TEST_TMPDIR/big.yaml"
	python3 -c 'print("config: " + "[" * 100000)' >"$BATS_TEST_TMPDIR/deep.yaml"
	assert_usage_error "deep.yaml:1: nested deeper than 64 levels" inhost timeout 10 sl-up -d --no-boot "$BATS_TEST_TMPDIR/deep.yaml"
	f=$(cfg dup <<'Y'
config:
  host_groups:
  - name: a
    count: 1
    count: 2
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "dup.yaml:5: key 'count' given twice (first on line 4)" inhost sl-up -d --no-boot "$f"
	f=$(cfg bytes <<'Y'
config:
  host_groups:
  - name: a
    ram_bytes: 18446744073709551615
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	run inhost sl-up -d --no-boot "$f"
	[ "$status" -eq 2 ]
	grep -q "ram_bytes" <<<"$output"
}

@test "two memory keys in one group (ram_gb and ram_mb) name both" {
	f=$(cfg mem <<'Y'
config:
  host_groups:
  - name: a
    ram_gb: 1
    ram_mb: 512
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "mem.yaml:5: group a: ram_gb and ram_mb: give the memory once" inhost sl-up -d --no-boot "$f"
}

@test "names in allow with dns_servers [127.0.0.1] (no resolver) are refused; every example loads" {
	f=$(cfg nodns <<'Y'
config:
  host_groups:
  - name: a
    dns_servers: ["127.0.0.1"]
    network:
      mode: isolated
      range: "169.254.100.0/22"
      allow: ["github.com"]
Y
)
	assert_usage_error "group a: dns_servers: 127.0.0.1 means no resolver, but network.allow holds names" \
		inhost sl-up -d --no-boot "$f"
	local e
	for e in "$TOP"/examples/*.yaml; do
		inhost sl-up --print-script "$e" >/dev/null || { echo "$e does not load" >&2; return 1; }
	done
	inhost sl-up --print-script "$TOP/examples/domain-allowlist.yaml" |
		grep -q -- "--allow github.com --allow '\*.github.com' .*--dns-upstream 8.8.8.8,1.1.1.1"
}

@test "network.bandwidth: rates go to sl-egress; a bad rate and bridge mode are refused, an unknown key warned about" {
	f=$(cfg bw <<'Y'
config:
  host_groups:
  - name: a
    network:
      mode: isolated
      range: "169.254.100.0/22"
      bandwidth: {egress: 100mbit, ingress: 20mbit}
Y
)
	inhost sl-up --print-script "$f" | grep -q -- "sl-egress apply a-1 .*--rate-out 100mbit --rate-in 20mbit"
	sed -i 's/20mbit/lots/' "$f"
	assert_usage_error "group a: bad network.bandwidth.ingress 'lots'" inhost sl-up -d --no-boot "$f"
	# a key of its own it does not know is warned about, as elsewhere
	sed -i 's/ingress: lots/ingres: 1mbit/' "$f"
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	grep -q "group a: unknown key network.bandwidth.ingres, ignored" <<<"$output"
	! grep -q -- "--rate-in" <<<"$output" || false
	f=$(cfg bwb <<'Y'
config:
  host_groups:
  - name: b
    network:
      gateway: "169.254.200.1/24"
      bandwidth: {egress: 100mbit}
Y
)
	assert_usage_error "group b: network.bandwidth: only for mode: isolated" inhost sl-up -d --no-boot "$f"
}

@test "an isolated group without range gets a /22 of 169.254.0.0/16 from its name: the same each time, clear of what is in use" {
	f=$(cfg auto <<Y
config:
  host_groups:
  - name: $P
    count: 2
    network: {mode: isolated}
  - name: ${P}b
    network: {mode: isolated}
Y
)
	range_of() { # range_of GROUP: the range the printed script leases from
		sed -n "s/^sl-ipam alloc --range \([^ ]*\) --group $1 .*/\1/p" | head -n 1
	}
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	r1=$(range_of "$P" <<<"$output")
	r2=$(range_of "${P}b" <<<"$output")
	[[ "$r1" =~ ^169\.254\.([0-9]+)\.0/22$ ]] && [ $((BASH_REMATCH[1] % 4)) -eq 0 ] || false
	[[ "$r2" =~ ^169\.254\.[0-9]+\.0/22$ ]] && [ "$r1" != "$r2" ] || false
	grep -q "group $P: network.range $r1, derived from its name" <<<"$output"
	grep -q "^# $P-1 (network.range $r1, derived from the group's name)" <<<"$output"
	# the same again
	run inhost sl-up --print-script "$f"
	[ "$(range_of "$P" <<<"$output")" = "$r1" ] && [ "$(range_of "${P}b" <<<"$output")" = "$r2" ] || false
	# a route of the host over it: the next free /22
	inhost ip route add blackhole "$r1"
	run inhost sl-up --print-script "$f"
	r1b=$(range_of "$P" <<<"$output")
	[[ "$r1b" =~ ^169\.254\.[0-9]+\.0/22$ ]] && [ "$r1b" != "$r1" ] || false
	[ "$(range_of "${P}b" <<<"$output")" != "$r1b" ]
	inhost ip route del blackhole "$r1"
	# up: the leases are in it; a re-run and a launch keep it
	inhost sl-up -d --no-boot "$f" 2>/dev/null
	grep -qx "SL_RANGE=$r1" "$SL_RUN_DIR/$P-1/vm.env"
	grep -qx "SL_RANGE=$r2" "$SL_RUN_DIR/${P}b-1/vm.env"
	run inhost sl-up --print-script "$f"
	[ "$(range_of "$P" <<<"$output")" = "$r1" ]
	inhost sl-up launch --no-boot "$f" "$P" 2>/dev/null
	grep -qx "SL_RANGE=$r1" "$SL_RUN_DIR/$P-3/vm.env"
	# another config's group cannot take it now
	g=$(cfg other <<Y
config:
  host_groups:
  - name: ${P}c
    network: {mode: isolated}
Y
)
	run inhost sl-up --print-script "$g"
	r3=$(range_of "${P}c" <<<"$output")
	[ -n "$r3" ] && [ "$r3" != "$r1" ] && [ "$r3" != "$r2" ] || false
	inhost sl-up down "$f" 2>/dev/null
	# more VMs than a /22 holds
	h=$(cfg big <<Y
config:
  host_groups:
  - name: x
    count: 300
    network: {mode: isolated}
Y
)
	assert_usage_error "group x: count 300 is more than a derived range holds (256): give network.range" \
		inhost sl-up --print-script "$h"
}

@test "userdata and userdata_file: one of them; a script too big, a missing file, a NUL byte are refused" {
	printf 'echo hi\n' >"$BATS_TEST_TMPDIR/s.sh"
	f=$(cfg both <<Y
config:
  host_groups:
  - name: a
    userdata: "echo hi"
    userdata_file: $BATS_TEST_TMPDIR/s.sh
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "group a: userdata and userdata_file: give the script once" inhost sl-up --print-script "$f"
	f=$(cfg missing <<Y
config:
  host_groups:
  - name: a
    userdata_file: $BATS_TEST_TMPDIR/nosuch.sh
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	assert_usage_error "userdata_file: $BATS_TEST_TMPDIR/nosuch.sh: No such file" inhost sl-up --print-script "$f"
	head -c 40000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big.sh"
	sed -i "s#nosuch.sh#big.sh#" "$f"
	assert_usage_error "larger than 32768 bytes: not a userdata script" inhost sl-up --print-script "$f"
	printf 'echo a\0b\n' >"$BATS_TEST_TMPDIR/big.sh"
	assert_usage_error "holds a NUL byte: not a script" inhost sl-up --print-script "$f"
	printf 'echo from-file\n' >"$BATS_TEST_TMPDIR/big.sh"
	inhost sl-up --print-script "$f" | grep -q "^sl-exec a-1 -- sh -c 'echo from-file"
}

@test "--print-script prints every entry of long lists (40 allow and a drop), and refuses a line it cannot hold" {
	local many huge f
	many=$(for i in $(seq 1 40); do printf '"203.0.113.%d/32",' "$i"; done)
	f=$(cfg many <<Y
config:
  host_groups:
  - name: many
    network: {mode: isolated, range: "169.254.100.0/22", allow: [${many%,}], drop: ["198.51.100.0/24"]}
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 0 ]
	[ "$(grep '^sl-egress apply' <<<"$output" | tr ' ' '\n' | grep -c -- '^--allow$')" = 40 ]
	grep '^sl-egress apply' <<<"$output" | grep -q -- "--allow 203.0.113.40/32 --drop 198.51.100.0/24"
	huge=$(for i in $(seq 0 1099); do printf '"10.%d.%d.0/24",' $((i / 256)) $((i % 256)); done)
	f=$(cfg huge <<Y
config:
  host_groups:
  - name: huge
    network: {mode: isolated, range: "169.254.100.0/22", allow: [${huge%,}]}
Y
)
	run inhost sl-up --print-script "$f"
	[ "$status" -eq 1 ]
	grep -q "the sl-egress command of huge-1 is too long to print" <<<"$output"
}
