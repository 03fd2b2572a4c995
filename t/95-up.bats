#!/usr/bin/env bats
# sl-up end to end: the example configs (their LAN mapped to the scratch LAN
# 198.51.100.0/24), real VMs, real traffic from inside them.

load helpers

setup() {
	setup_host
	setup_lan_internet
	G="g${P:1:4}" # group names: short, unique per test
}
teardown() {
	down_configs
	teardown_host
}

vm_get() { # vm_get VM URL-host → 0 if the page came
	inhost sl-exec "$1" -- timeout 4 wget -q -O - "http://$2/" >/dev/null 2>&1
}
vm_ping() {
	inhost sl-exec "$1" -- ping -c 1 -W 2 "$2" >/dev/null 2>&1
}

@test "agents (drop the LAN): internet yes, LAN no; no VM, host or inbound; down leaves nothing" {
	use_templates
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg
	cfg=$(example agents.yaml "$G")
	run inhost sl-up -d "$cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q "\[1/2\] $G-1 up 169.254.100.2" <<<"$output"
	grep -q "\[2/2\] $G-2 up 169.254.100.6" <<<"$output"
	vm_get "$G-1" 203.0.113.10
	inhost sl-exec "$G-2" -- sh -c 'mkdir -p /w && echo vm2 >/w/index.html && httpd -p 80 -h /w'
	vm_ping "$G-1" 169.254.100.1 # its gateway answers a ping (and nothing else)
	ip -n "$LAN" route add 169.254.100.0/22 via 198.51.100.1
	# the LAN; the other VM of the group, the host's addresses; inbound from
	# the host and the LAN (with a route to the range): all at once
	none_succeed \
		'vm_get "$G-1" 198.51.100.10' 'vm_ping "$G-1" 198.51.100.11' \
		'vm_get "$G-1" 169.254.100.6' 'vm_ping "$G-1" 169.254.100.6' \
		'vm_ping "$G-1" 203.0.113.1' 'vm_get "$G-1" 198.51.100.1' \
		'inhost timeout 4 busybox wget -q -O - http://169.254.100.6/' \
		'ip netns exec "$LAN" timeout 4 busybox wget -q -O - http://169.254.100.6/'
	# a VM that takes another address gets nothing out: counted where it
	# would arrive (a spoofed packet's reply could never come back)
	ip netns exec "$NET" iptables-legacy -I INPUT -d 203.0.113.10 -p icmp --icmp-type echo-request
	inhost sl-exec "$G-2" -- sh -c 'ip addr flush dev eth0; ip addr add 169.254.100.9/30 dev eth0; ip route add 169.254.100.5 dev eth0; ip route add default via 169.254.100.5; ping -c 3 -W 1 203.0.113.10 >/dev/null 2>&1; true'
	! vm_get "$G-2" 203.0.113.10 || false
	[ "$(ip netns exec "$NET" iptables-legacy -L INPUT -v -n -x | awk '/icmptype 8/ { print $1 }')" = 0 ]
	# IPv6 off on every interface we made
	for n in "$G-1" "$G-2"; do
		[ -z "$(ip -n "$n" -6 addr)" ]
		[ -z "$(inhost ip -6 addr show dev "$n")" ]
	done
	run inhost sl-up down "$cfg"
	[ "$status" -eq 0 ]
	[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
	[ -z "$(ls "$SL_RUN_DIR" | grep -v '^ipam$' || true)" ]
	inhost sl-up down "$cfg"
}

@test "whitelist and allow+drop groups on two ranges; no VM reaches the other group" {
	use_templates
	local wl ad
	wl=$(example whitelist.yaml "${G}w")
	ad=$(example allow-drop.yaml "${G}a")
	sed -i 's#169.254.100.0/22#169.254.104.0/22#' "$ad"
	inhost sl-up -d "$wl"
	inhost sl-up -d "$ad"
	vm_get "${G}w-1" 198.51.100.10
	vm_get "${G}a-1" 198.51.100.10      # allowed, before the drop
	vm_get "${G}a-1" 203.0.113.10       # the rest is allowed
	inhost sl-exec "${G}a-1" -- sh -c 'mkdir -p /w && echo a >/w/index.html && httpd -p 80 -h /w'
	# the whitelist's rest, the drop, the other group's VM
	none_succeed 'vm_get "${G}w-1" 203.0.113.10' 'vm_get "${G}a-1" 198.51.100.11' \
		'vm_get "${G}w-1" 169.254.104.2'
	# host rules: 7 per range plus 3 jumps
	[ "$(inhost sh -c 'iptables-legacy -S; iptables-legacy -t nat -S' | grep -c -- '^-A')" -eq 17 ]
	inhost sl-up down "$wl"
	inhost sl-up down "$ad"
}

@test "a failed step undoes that VM and leaves the others up" {
	local cfg
	cfg=$(example agents.yaml "$G")
	# the second VM's name is taken by a foreign namespace: its sl-netns add fails
	scratch_ns "$G-2"
	run inhost sl-up -d --no-boot "$cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "\[2/2\] $G-2 failed at sl-netns add: .*not made by sltools" <<<"$output"
	grep -q "\[1/2\] $G-1 up" <<<"$output"
	inhost sl-netns check "$G-1"
	! grep -q "^$G-2 " "$SL_RUN_DIR/ipam/leases" || false
	[ ! -e "$SL_RUN_DIR/$G-2/vm.env" ]
	ip netns list | grep -q "^$G-2\b" # the foreign one is untouched
}

@test "in the foreground, sl-up takes down a VM that stops; SIGTERM takes the rest down" {
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local cfg pid
	cfg=$(example agents.yaml "$G")
	up_foreground "$cfg"
	pid=$UP_PID
	kill -9 "$(cat "$SL_RUN_DIR/$G-2/qemu.pid")"
	for _ in $(seq 1 100); do
		[ -e "$SL_RUN_DIR/$G-2/vm.env" ] || break
		sleep 0.2
	done
	cat "$BATS_TEST_TMPDIR/up.log"
	grep -q "warning: $G-2 stopped (supervisor gone, QEMU gone): taking it down" "$BATS_TEST_TMPDIR/up.log" ||
		grep -q "warning: $G-2 stopped (supervisor .*, QEMU gone): taking it down" "$BATS_TEST_TMPDIR/up.log"
	[ ! -e "$SL_RUN_DIR/$G-2/vm.env" ]
	! ip netns list | grep -q "^$G-2\b" || false
	! grep -q "^$G-2 " "$SL_RUN_DIR/ipam/leases" || false
	inhost sl-exec "$G-1" -- true # the other VM is still up
	# sl-up is nsenter's child: signal it, not nsenter
	pkill -TERM -f "sl-up $cfg"
	wait "$pid"
	[ "$(pgrep -c -f "qemu-system.*-name $G-" || true)" = 0 ]
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}

@test "booted VMs: Slicer's generated allow 0.0.0.0/0 + drop LAN, and the proxy-only recipe" {
	use_templates
	local sg px
	sg=$(example slicer-generated.yaml "${G}s")
	px=$(example proxy-only.yaml "${G}p")
	sed -i 's#^    network:#    dns_servers: ["127.0.0.1"]\n    network:#' "$px"
	ip netns exec "$LAN" busybox httpd -p 198.51.100.10:3128 -h "$BATS_TEST_TMPDIR/www-$LAN"
	ip netns exec "$LAN" busybox httpd -p 198.51.100.10:3129 -h "$BATS_TEST_TMPDIR/www-$LAN"
	inhost sl-up -d "$sg"
	inhost sl-up -d "$px"
	vm_get "${G}s-1" 203.0.113.10
	vm_get "${G}p-1" 198.51.100.10:3128
	none_succeed 'vm_get "${G}s-1" 198.51.100.10' 'vm_get "${G}s-1" 198.51.100.11' \
		'vm_get "${G}p-1" 198.51.100.10:3129' 'vm_get "${G}p-1" 198.51.100.10' \
		'vm_get "${G}p-1" 203.0.113.10'
	# the lists the VM got, and what sl-egress test says of them
	grep -qx "SL_DROP=0.0.0.0/0" "$SL_RUN_DIR/${G}p-1/vm.env"
	grep -qx "SL_ALLOW=198.51.100.10/32:3128" "$SL_RUN_DIR/${G}p-1/vm.env"
	inhost sl-egress test "${G}p-1" 198.51.100.10:3128 | grep -qx SL_VERDICT=allow
	# dns_servers: ["127.0.0.1"] is no resolver; the default is Slicer's
	[ -z "$(inhost sl-exec "${G}p-1" -- cat /etc/resolv.conf)" ]
	inhost sl-exec "${G}s-1" -- cat /etc/resolv.conf | grep -qx "nameserver 8.8.8.8"
	inhost sl-up down "$sg"
	inhost sl-up down "$px"
}

# vm_resolves VM NAME ADDR: busybox nslookup in the guest gives ADDR for NAME.
# Once (t/95, CI, 2026-12-05) an A query went unanswered within nslookup's
# 5 s while its AAAA was answered; never seen again in 5 runs, 3 of them
# under two CPU hogs. What the resolver and the guest saw is printed before
# a second try, so that a next time says more; the second must answer.
vm_resolves() {
	local out
	out=$(inhost sl-exec "$1" -- nslookup "$2")
	grep -q "$3" <<<"$out" && return 0
	echo "# first nslookup $2: $out" >&2
	inhost sl-egress show --json "$1" | jq -c .resolver >&2 || true
	inhost sl-exec "$1" -- grep Udp: /proc/net/snmp >&2 || true
	cat "$SL_RUN_DIR/$1/dns.log" "$SL_RUN_DIR/egressd.log" >&2 2>/dev/null || true
	out=$(inhost sl-exec "$1" -- nslookup "$2")
	echo "# second: $out" >&2
	grep -q "$3" <<<"$out"
}

@test "a booted VM with names in allow: the name resolves at its gateway and answers; a blocked one by no path" {
	use_templates
	dns_server
	local c="$BATS_TEST_TMPDIR/$G.yaml" vm="$G-1" gw pid
	sed -e "s/name: builder/name: $G/" -e 's/dns_servers: .*/dns_servers: ["203.0.113.10"]/' \
		-e '/allow:/,$d' "$TOP/examples/domain-allowlist.yaml" | templated >"$c"
	echo '      allow: ["allowed.test", "*.allowed.test:80"]' >>"$c"
	inhost sl-up -d "$c"
	gw=$(grep '^SL_GW=' "$SL_RUN_DIR/$vm/vm.env" | cut -d= -f2)
	# the guest asks its gateway, and nothing else
	[ "$(inhost sl-exec "$vm" -- cat /etc/resolv.conf)" = "nameserver $gw" ]
	vm_resolves "$vm" allowed.test 203.0.113.10
	vm_get "$vm" allowed.test
	vm_resolves "$vm" alias.allowed.test 203.0.113.11
	vm_get "$vm" alias.allowed.test
	none_succeed 'vm_get "$vm" blocked.test' 'vm_get "$vm" 203.0.113.20'
	run inhost sl-exec "$vm" -- nslookup blocked.test 203.0.113.10
	! grep -q "203.0.113.20" <<<"$output" || false
	inhost sl-egress log "$vm" | grep -q "dns blocked.test denied by default"
	# its resolver runs in the run dir's daemon: in its status; gone with the last VM
	inhost sl-boot status "$vm" | grep -qx "SL_RESOLVER=yes"
	pid=$(inhost sl-boot status "$vm" | grep '^SL_EGRESSD_PID=' | cut -d= -f2)
	[ "$pid" -gt 0 ] && pid_alive "$pid" || false
	inhost sl-up --print-script "$c" | grep -q -- "--allow allowed.test .*--dns-upstream 203.0.113.10"
	inhost sl-up down "$c"
	! pid_alive "$pid" || false
}

# sig_bits PID FIELD: the signals set in /proc/PID/status's FIELD (SigBlk, SigIgn), by number
sig_bits() {
	local hex
	hex=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")
	for s in 1 2 3 13 15; do (((0x$hex >> (s - 1)) & 1)) && echo "$s"; done
	return 0
}

@test "a QEMU under a foreground sl-up: no signal blocked or ignored, no fd of its callers; SIGTERM ends it" {
	local cfg qemu sup marker="$BATS_TEST_TMPDIR/marker-fd"
	cfg=$(example agents.yaml "$G")
	# sl-up holds fd 9 on a marker file: nothing it starts may inherit it
	up_foreground "$cfg" 9>"$marker"
	qemu=$(cat "$SL_RUN_DIR/$G-1/qemu.pid")
	sup=$(cat "$SL_RUN_DIR/$G-1/supervisor.pid")
	[ -z "$(sig_bits "$qemu" SigBlk)" ]
	[ -z "$(sig_bits "$qemu" SigIgn | grep -vx 13)" ] # QEMU ignores SIGPIPE itself
	for p in "$qemu" "$sup"; do
		! ls -l "/proc/$p/fd" | grep -F "$marker" || false
	done
	# QEMU holds no namespace fd, no pipe to sl-boot, and two sockets: its
	# agent chardev and its monitor's listener (qmp.sock, for snapshots)
	! ls -l "/proc/$qemu/fd" | grep -q 'net:\[' || false
	[ "$(ls -l "/proc/$qemu/fd" | grep -c 'socket:')" = 2 ]
	[ -S "$SL_RUN_DIR/$G-1/qmp.sock" ]
	[ "$(stat -c %a "$SL_RUN_DIR/$G-1/qmp.sock")" = 600 ] || [ "$(stat -c %a "$SL_RUN_DIR/$G-1")" = 700 ]
	# pipes only as its stdin, stdout and stderr (from the supervisor)
	[ -z "$(find "/proc/$qemu/fd" -mindepth 1 ! -name 0 ! -name 1 ! -name 2 -lname 'pipe:*')" ]
	kill -TERM "$qemu"
	for _ in $(seq 1 25); do pid_alive "$qemu" || break; sleep 0.2; done
	! pid_alive "$qemu" || false
	pkill -TERM -f "sl-up $cfg"
	wait "$UP_PID"
}

@test "userdata runs once in the guest when its agent answers, output in userdata.log; a failing one fails the VM, with its status" {
	use_templates
	kernel_state >"$BATS_TEST_TMPDIR/before"
	local ok bad
	printf 'echo "hello $((6 * 7))"\necho ran >/tmp/userdata-ran\necho to-stderr >&2\n' \
		>"$BATS_TEST_TMPDIR/script.sh"
	ok=$(cfg ok <<Y
config:
  host_groups:
  - name: $G
    userdata_file: $BATS_TEST_TMPDIR/script.sh
    network: {mode: isolated, range: "169.254.100.0/22"}
Y
)
	inhost sl-up --print-script "$ok" | grep -q "^sl-exec $G-1 -- sh -c "
	run inhost sl-up -d "$ok"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx "hello 42" "$SL_RUN_DIR/$G-1/userdata.log"
	grep -qx "to-stderr" "$SL_RUN_DIR/$G-1/userdata.log"
	[ "$(inhost sl-exec "$G-1" -- cat /tmp/userdata-ran)" = ran ]
	bad=$(cfg bad <<Y
config:
  host_groups:
  - name: ${G}b
    userdata: "echo about to fail; exit 3"
    network: {mode: isolated, range: "169.254.104.0/22"}
Y
)
	run inhost sl-up -d "$bad"
	echo "$output"
	[ "$status" -eq 1 ]
	grep -q "${G}b-1 failed at userdata: userdata exited with status 3" <<<"$output"
	# the failed VM is undone, the other stays
	[ ! -e "/run/netns/${G}b-1" ] && [ ! -e "$SL_RUN_DIR/${G}b-1/vm.env" ] || false
	[ "$(inhost sl-exec "$G-1" -- echo alive)" = alive ]
	# a guest's output cannot fill /run: userdata.log is capped as the console is
	flood=$(cfg flood <<Y
config:
  host_groups:
  - name: ${G}f
    userdata: "head -c 2000000 /dev/zero; echo; echo the-end"
    network: {mode: isolated, range: "169.254.108.0/22"}
Y
)
	SL_CONSOLE_MAX=65536 inhost sl-up -d "$flood"
	local u="$SL_RUN_DIR/${G}f-1/userdata.log"
	ls -l "$u" "$u.1"
	[ "$(stat -c %s "$u")" -le 65536 ] && [ "$(stat -c %s "$u.1")" -le 65536 ] || false
	[ "$(tail -n 1 "$u")" = the-end ]
	inhost sl-up down "$flood"
	inhost sl-up down "$ok"
	diff "$BATS_TEST_TMPDIR/before" <(kernel_state)
}
