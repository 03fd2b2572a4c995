#!/usr/bin/env bats
# sl-up's template: true: one VM of the group boots cold and is snapshotted,
# the others (and launches) are restored from it; the template is kept and
# reused while what it was made of is unchanged.

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="m${P:1:4}"
}
teardown() {
	down_configs
	teardown_host
}

group_cfg() { # group_cfg NAME COUNT VCPU
	cfg "$1" <<EOF
config:
  host_groups:
    - name: $1
      count: $2
      vcpu: $3
      template: true
      userdata: "hostname > /root/ud"
      network:
        mode: isolated
        range: 169.254.120.0/22
        allow: [203.0.113.0/24]
EOF
}
spares_cfg() { # spares_cfg N: one VM of a template: true group with N spares
	cfg "$G" <<EOF
config:
  host_groups:
    - name: $G
      count: 1
      template: true
      spares: $1
      network:
        mode: isolated
        range: 169.254.120.0/22
        allow: [203.0.113.0/24]
EOF
}
snap_of() { sed -n 's/^SL_SNAPSHOT=//p' "$SL_RUN_DIR/$1/vm.env"; }

@test "template: true: the first VM boots cold and is snapshotted; the others are restored, each itself, userdata in each" {
	local c dir
	c=$(group_cfg "$G" 3 1)
	run inhost sl-up -d "$c"
	echo "$output"
	[ "$status" -eq 0 ]
	dir=$(ls -d "$SL_RUN_DIR/.templates/$G"/*)
	[ "$(echo "$dir" | wc -l)" = 1 ]
	[ -e "$dir/snapshot.env" ] && [ -e "$dir/state" ] && [ -e "$dir/memory" ] || false
	grep -qx "SL_SNAPSHOT_OF=$G-1" "$dir/snapshot.env"
	[ -z "$(snap_of "$G-1")" ]
	[ "$(snap_of "$G-2")" = "$dir" ] && [ "$(snap_of "$G-3")" = "$dir" ] || false
	for n in 1 2 3; do
		# its own name (userdata ran after the restore), its own lease
		[ "$(inhost sl-exec "$G-$n" -- cat /root/ud)" = "$G-$n" ]
		inhost sl-exec "$G-$n" -- ip -4 -o addr show eth0 |
			grep -q "inet $(sed -n 's/^SL_IP=//p' "$SL_RUN_DIR/$G-$n/vm.env")/30"
		inhost sl-exec "$G-$n" -- timeout 4 wget -q -O /dev/null http://203.0.113.10/
	done
	# --print-script shows the same: the snapshot, then restores from it
	inhost sl-up --print-script "$c" | grep -qx "sl-boot start $G-2 --vcpu 1 --mem 256 --from $dir"
	# a launch is restored from the kept template too
	run inhost sl-up launch "$c" "$G"
	[ "$status" -eq 0 ]
	[ "$(snap_of "$G-4")" = "$dir" ]
	[ "$(inhost sl-exec "$G-4" -- hostname)" = "$G-4" ]
}

@test "SL_TEMPLATE_DIR: groups of other names share one template there, each VM with its own name servers; sl-gc removes it only once its kernel changed and nothing maps it" {
	local store="$BATS_TEST_TMPDIR/store" kernel="$BATS_TEST_TMPDIR/vmlinuz" a b dir
	cp "$TOP/build/guest/vmlinuz" "$kernel" # a kernel of this test's own, to change
	kernel_state >"$BATS_TEST_TMPDIR/before"
	a=$(cfg a <<EOF
config:
  host_groups:
    - name: ${G}a
      template: true
      kernel_file: $kernel
      dns_servers: ["203.0.113.53"]
      network: {mode: isolated, range: 169.254.120.0/22}
EOF
)
	b=$(cfg b <<EOF
config:
  host_groups:
    - name: ${G}b
      count: 2
      template: true
      kernel_file: $kernel
      network: {mode: isolated, range: 169.254.124.0/22}
EOF
)
	assert_usage_error "SL_TEMPLATE_DIR 'store': not an absolute path" \
		inhost env SL_TEMPLATE_DIR=store sl-up -d "$b"
	# a store others can write is refused as a run dir is; sl-gc leaves it alone
	mkdir -m 777 "$BATS_TEST_TMPDIR/open"
	assert_usage_error "SL_TEMPLATE_DIR $BATS_TEST_TMPDIR/open is writable by others" \
		inhost env SL_TEMPLATE_DIR="$BATS_TEST_TMPDIR/open" sl-up -d "$b"
	inhost env SL_TEMPLATE_DIR="$BATS_TEST_TMPDIR/open" sl-gc 2>&1 | grep -q "writable by others (mode 777): refusing it: not swept"
	# empty is as if unset: the group's own folder in the run dir
	inhost env SL_TEMPLATE_DIR= sl-up --print-script "$b" | grep -q "^sl-boot snapshot ${G}b-1 $SL_RUN_DIR/.templates/${G}b/"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	inhost env SL_TEMPLATE_DIR="$store" sl-up -d "$a"
	dir=$(ls -d "$store"/*)
	[ "$(echo "$dir" | wc -l)" = 1 ] && [ -e "$dir/snapshot.env" ] || false
	[ -z "$(snap_of "${G}a-1")" ] # the group's first VM made it, booted cold
	[ ! -e "$SL_RUN_DIR/.templates" ]
	inhost sl-exec "${G}a-1" -- cat /etc/resolv.conf | grep -qx "nameserver 203.0.113.53"
	# another group of the same shape: both its VMs restored from that template
	inhost env SL_TEMPLATE_DIR="$store" sl-up -d "$b"
	[ "$(snap_of "${G}b-1")" = "$dir" ] && [ "$(snap_of "${G}b-2")" = "$dir" ] || false
	[ "$(inhost sl-exec "${G}b-2" -- hostname)" = "${G}b-2" ]
	# its name server is its own (sl-up's default), not the template's
	[ "$(inhost sl-exec "${G}b-1" -- cat /etc/resolv.conf)" = "$(printf 'nameserver 8.8.8.8\nnameserver 1.1.1.1')" ]
	inhost sl-exec "${G}b-1" -- timeout 4 wget -q -O /dev/null http://203.0.113.10/
	inhost sl-up down "$a"
	inhost sl-up down "$b"
	# sl-gc: a template the next sl-up would take stays, nothing running
	run inhost env SL_TEMPLATE_DIR="$store" sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$dir/snapshot.env" ] && [ -e "$dir/memory" ] || false
	# its kernel changed: no sl-up takes it again, but while clones map it, it stays
	inhost env SL_TEMPLATE_DIR="$store" sl-up -d "$b" >/dev/null 2>&1
	[ "$(snap_of "${G}b-1")" = "$dir" ]
	touch "$kernel"
	run inhost env SL_TEMPLATE_DIR="$store" sl-gc
	echo "$output"
	[ "$status" -eq 0 ]
	[ -e "$dir/snapshot.env" ]
	inhost sl-up down "$b"
	run inhost env SL_TEMPLATE_DIR="$store" sl-gc --dry-run
	echo "$output"
	grep -q "template $dir (its kernel, initrd or QEMU changed; nothing maps it)" <<<"$output"
	run inhost env SL_TEMPLATE_DIR="$store" sl-gc
	[ "$status" -eq 0 ]
	[ ! -e "$dir" ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "the printed script of a template: true group runs by hand: the templates' folder made, the template taken, the other VM restored" {
	local c dir
	c=$(group_cfg "$G" 2 1)
	inhost sl-up --print-script "$c" >"$BATS_TEST_TMPDIR/up.sh"
	grep -qx "mkdir -p -m 700 $SL_RUN_DIR/.templates/$G" "$BATS_TEST_TMPDIR/up.sh"
	inhost sh "$BATS_TEST_TMPDIR/up.sh" >/dev/null 2>&1
	dir=$(ls -d "$SL_RUN_DIR/.templates/$G"/*)
	[ "$(snap_of "$G-2")" = "$dir" ]
	[ "$(inhost sl-exec "$G-2" -- cat /root/ud)" = "$G-2" ]
}

@test "a kept template is reused by the next sl-up, every VM restored; a changed vCPU count makes one anew, said" {
	local c dir
	c=$(group_cfg "$G" 2 1)
	inhost sl-up -d "$c" >/dev/null 2>&1
	dir=$(ls -d "$SL_RUN_DIR/.templates/$G"/*)
	inhost sl-up down "$c"
	[ -e "$dir/snapshot.env" ] # kept by down
	run inhost sl-up -d "$c"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -q "made anew" <<<"$output" || false
	[ "$(snap_of "$G-1")" = "$dir" ] && [ "$(snap_of "$G-2")" = "$dir" ] || false
	[ "$(inhost sl-exec "$G-1" -- hostname)" = "$G-1" ]
	inhost sl-up down "$c"
	c=$(group_cfg "$G" 1 2)
	run inhost sl-up -d "$c"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "group $G: its template is made anew: its kernel, initrd, QEMU, vCPUs, memory or DHCP changed" <<<"$output"
	[ "$(ls -d "$SL_RUN_DIR/.templates/$G"/* | wc -l)" = 2 ]
	[ "$(inhost sl-exec "$G-1" -- nproc)" = 2 ]
	# sl-gc: the older template goes (nothing uses it), the newer stays
	inhost sl-up down "$c"
	run inhost sl-gc
	echo "$output"
	grep -q "template $dir" <<<"$output"
	[ ! -e "$dir" ]
	[ "$(ls -d "$SL_RUN_DIR/.templates/$G"/* | wc -l)" = 1 ]
}

@test "sl-up fork: a new VM of the group with the memory of a running one, at its own address; the forked VM runs on" {
	local c base qemu
	c=$(group_cfg "$G" 2 1)
	inhost sl-up -d "$c" >/dev/null 2>&1
	# a fork of a clone, by the script sl-up prints for it: its RAM maps the
	# template's memory, with the pages the clone wrote over it its own
	inhost sl-exec "$G-2" -- sh -c 'echo in-the-clone >/root/mark'
	inhost sl-up --print-script fork "$c" "$G-2" >"$BATS_TEST_TMPDIR/fork.sh"
	grep -qx "sl-boot snapshot $G-2 $SL_RUN_DIR/.forks/$G-3 --quick" "$BATS_TEST_TMPDIR/fork.sh"
	inhost sh "$BATS_TEST_TMPDIR/fork.sh" >/dev/null
	[ "$(inhost sl-exec "$G-3" -- hostname)" = "$G-3" ]
	[ "$(inhost sl-exec "$G-3" -- cat /root/mark)" = in-the-clone ]
	base=$(sed -n 's/^SL_RAM_BASE=//p' "$SL_RUN_DIR/$G-3/vm.env")
	[ "$base" = "$(snap_of "$G-2")/memory" ]
	qemu=$(sed -n 's/^SL_QEMU_PID=//p' "$SL_RUN_DIR/$G-3/vm.env")
	grep -q " $base\$" "/proc/$qemu/maps"
	! grep -qa in-the-clone "$base" || false
	# its snapshot's state and pages went once read; its manifest stays while it runs
	[ "$(ls "$SL_RUN_DIR/.forks/$G-3")" = snapshot.env ]
	# a fork of the VM booted cold, by sl-up
	inhost sl-exec "$G-1" -- sh -c 'echo before-fork >/root/mark'
	run inhost sl-up fork "$c" "$G-1"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "$G-4 up" <<<"$output"
	[ "$(inhost sl-exec "$G-4" -- cat /root/mark)" = before-fork ]
	[ "$(inhost sl-exec "$G-4" -- hostname)" = "$G-4" ]
	# userdata ran once, in the VM forked: the fork has its memory, not a new run
	[ "$(inhost sl-exec "$G-4" -- cat /root/ud)" = "$G-1" ]
	inhost sl-exec "$G-4" -- ip -4 -o addr show eth0 |
		grep -q "inet $(sed -n 's/^SL_IP=//p' "$SL_RUN_DIR/$G-4/vm.env")/30"
	inhost sl-exec "$G-1" -- true
	# its RAM maps its snapshot's memory, kept while it runs; a fork of it
	# maps that memory too, with the pages it wrote its own
	[ "$(ls "$SL_RUN_DIR/.forks/$G-4" | tr '\n' ' ')" = "memory snapshot.env " ]
	inhost sl-exec "$G-4" -- sh -c 'echo in-the-fork >/root/mark'
	inhost sl-up fork "$c" "$G-4" >/dev/null 2>&1
	[ "$(inhost sl-exec "$G-5" -- cat /root/mark)" = in-the-fork ]
	[ "$(sed -n 's/^SL_RAM_BASE=//p' "$SL_RUN_DIR/$G-5/vm.env")" = "$SL_RUN_DIR/.forks/$G-4/memory" ]
	qemu=$(sed -n 's/^SL_QEMU_PID=//p' "$SL_RUN_DIR/$G-5/vm.env")
	grep -q " $SL_RUN_DIR/.forks/$G-4/memory\$" "/proc/$qemu/maps"
	# sl-gc keeps a fork's snapshot while the fork runs, not after
	run inhost sl-gc --dry-run
	! grep -q "fork snapshot" <<<"$output" || false
	inhost sl-boot stop "$G-4"
	run inhost sl-gc --dry-run
	grep -q "fork snapshot $SL_RUN_DIR/.forks/$G-4 " <<<"$output"
	! grep -q "fork snapshot $SL_RUN_DIR/.forks/$G-5 " <<<"$output" || false
	# the memory $G-5 maps removed under it: it runs on, and a fork of it
	# copies that memory (as QEMU maps it) with what $G-5 wrote
	inhost sl-gc >/dev/null
	[ ! -e "$SL_RUN_DIR/.forks/$G-4" ]
	inhost sl-exec "$G-5" -- sh -c 'echo in-the-fork-of-a-fork >/root/mark5'
	inhost sl-up fork "$c" "$G-5" >/dev/null 2>&1
	[ "$(inhost sl-exec "$G-6" -- cat /root/mark /root/mark5)" = "$(printf 'in-the-fork\nin-the-fork-of-a-fork')" ]
	! grep -q "^SL_RAM_BASE=" "$SL_RUN_DIR/$G-6/vm.env" || false
	[ "$(ls "$SL_RUN_DIR/.forks/$G-6" | tr '\n' ' ')" = "memory snapshot.env " ]
	assert_usage_error "no such VM" inhost sl-up fork "$c" "$G-9"
	# down takes the VMs' state (their logs) and the forks' snapshots with
	# them; its printed script does the same
	inhost sl-up --print-script down "$c" >"$BATS_TEST_TMPDIR/down.sh"
	grep -qx "rm -rf $SL_RUN_DIR/$G-6 $SL_RUN_DIR/.forks/$G-6" "$BATS_TEST_TMPDIR/down.sh"
	inhost sh "$BATS_TEST_TMPDIR/down.sh" >/dev/null 2>&1
	[ -z "$(ls -A "$SL_RUN_DIR/.forks")" ]
	[ -z "$(ls -d "$SL_RUN_DIR/$G-"* 2>/dev/null)" ]
}

@test "kill -9 of sl-up while it snapshots the template, then sl-gc: no VM, no half-made template" {
	local c pid
	c=$(group_cfg "$G" 2 1)
	(exec nsenter --net="/run/netns/$HOST" sl-up -d "$c" </dev/null >/dev/null 2>&1) &
	pid=$!
	for _ in $(seq 1200); do
		compgen -G "$SL_RUN_DIR/.templates/$G/*.tmp-*" >/dev/null && break
		sleep 0.05
	done
	compgen -G "$SL_RUN_DIR/.templates/$G/*.tmp-*" >/dev/null
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	for _ in $(seq 100); do pgrep -f "sl-up -d $c" >/dev/null || break; sleep 0.05; done
	run inhost sl-gc
	echo "$output"
	grep -q "template $SL_RUN_DIR/.templates/$G/.*\.tmp-" <<<"$output"
	[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
	[ -z "$(ls "$SL_RUN_DIR" | grep "^$G-" || true)" ]
	[ -z "$(ls -A "$SL_RUN_DIR/.templates/$G" 2>/dev/null)" ]
	[ -z "$(inhost sl-gc)" ]
}

@test "template: true with a disk, or not true or false: exit 2, nothing made" {
	local c
	c=$(cfg "${G}d" <<EOF
config:
  host_groups:
    - name: ${G}d
      template: true
      disk_file: /nonexistent.img
      network:
        mode: isolated
EOF
)
	assert_usage_error "template: true with disk_file" inhost sl-up -d "$c"
	c=$(cfg "${G}x" <<EOF
config:
  host_groups:
    - name: ${G}x
      template: yes please
      network:
        mode: isolated
EOF
)
	assert_usage_error "template: want true or false" inhost sl-up -d "$c"
	[ ! -e "$SL_RUN_DIR/.templates" ]
}

@test "spares: N keeps N VMs of the template restored ahead; launch takes one, sl-up spares tops up, down ends them" {
	local c dir s
	c=$(spares_cfg 2)
	inhost sl-up --print-script "$c" >"$BATS_TEST_TMPDIR/script"
	[ "$(grep -c "^sl-boot spare $SL_RUN_DIR/.templates/$G/" "$BATS_TEST_TMPDIR/script")" = 2 ]
	inhost sl-up -d "$c"
	dir=$(ls -d "$SL_RUN_DIR/.templates/$G"/*)
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=2" <<<"$output"
	# a launch takes one: its VM is itself, held by its rules
	inhost sl-up launch "$c" "$G"
	s=$(sed -n 's/^SL_SPARE=//p' "$SL_RUN_DIR/$G-2/vm.env")
	[ -n "$s" ] && [ ! -e "/run/netns/$s" ] || false
	vm_is_itself "$G-2"
	inhost sl-exec "$G-2" -- timeout 4 wget -q -O /dev/null http://203.0.113.10/
	run inhost sl-exec "$G-2" -- timeout 3 wget -q -O /dev/null http://198.51.100.10/
	[ "$status" -ne 0 ]
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=1" <<<"$output"
	inhost sl-up spares "$c"
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=2" <<<"$output"
	inhost sl-up down "$c"
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=0" <<<"$output"
	[ -z "$(ls "$SL_RUN_DIR/.spares")" ]
	[ -z "$(owned_netns)" ]
}

@test "spares: without template: true, or in bridge mode: exit 2, nothing made" {
	local c
	c=$(cfg "$G" <<EOF
config:
  host_groups:
    - name: $G
      count: 1
      spares: 1
      network: {mode: isolated}
EOF
)
	assert_usage_error "spares: for a group with template: true in isolated mode" inhost sl-up -d "$c"
	c=$(cfg "$G-b" <<EOF
config:
  host_groups:
    - name: $G
      count: 1
      template: true
      spares: 1
      network: {mode: bridge, bridge: ${P}br0, gateway: 192.0.2.1/24}
EOF
)
	assert_usage_error "spares: for a group with template: true in isolated mode" inhost sl-up -d "$c"
	c=$(cfg "$G-n" <<EOF
config:
  host_groups:
    - name: $G
      count: 1
      template: true
      spares: 65
      network: {mode: isolated}
EOF
)
	assert_usage_error "spares: '65' is not a number from 0 to 64" inhost sl-up -d "$c"
	assert_usage_error "spares takes CONFIG \[GROUP\]" inhost sl-up spares
	assert_usage_error "no group nope" inhost sl-up spares "$(cfg ok <<EOF
config:
  host_groups:
    - name: $G
      count: 1
      network: {mode: isolated}
EOF
)" nope
	[ -z "$(owned_netns)" ]
}

@test "the foreground sl-up makes again the spares launches took; its Ctrl-C ends them" {
	local c dir
	c=$(spares_cfg 1)
	up_foreground "$c"
	dir=$(ls -d "$SL_RUN_DIR/.templates/$G"/*)
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=1" <<<"$output"
	inhost sl-up launch "$c" "$G"
	grep -q '^SL_SPARE=' "$SL_RUN_DIR/$G-2/vm.env"
	for _ in $(seq 1 40); do
		inhost sl-boot spare "$dir" --list | grep -qx "SL_SPARES=1" && break
		sleep 0.5
	done
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=1" <<<"$output"
	pkill -TERM -f "sl-up $c"
	wait "$UP_PID"
	run inhost sl-boot spare "$dir" --list
	grep -qx "SL_SPARES=0" <<<"$output"
	[ -z "$(ls "$SL_RUN_DIR/.spares")" ]
}
