#!/usr/bin/env bats
# sl-cni, the CNI plugin, driven by a real CNI client: t/cni-client (libcni
# from Debian's golang-github-appc-cni-dev), chained with the reference
# portmap and bandwidth plugins; and by podman. Sandboxes are scratch
# namespaces; the plugins run in the scratch host; conflists, libcni's
# cache and the run dir live in the test's directory.

load helpers

setup_file() {
	require go
	export CNI_CLIENT="$BATS_FILE_TMPDIR/cni-client"
	(cd "$BATS_TEST_DIRNAME/cni-client" &&
		GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$BATS_FILE_TMPDIR/gocache" \
			go build -o "$CNI_CLIENT" main.go)
}

setup() {
	require /usr/lib/cni/portmap /usr/lib/cni/bandwidth /usr/lib/cni/host-local jq
	setup_host
	setup_lan_internet
	CONF="$BATS_TEST_TMPDIR/net.d"
	BIN="$BATS_TEST_TMPDIR/cni-bin"
	mkdir -p "$CONF" "$BIN"
	ln -s "$(command -v sl-cni)" "$BIN/sl-cni"
	# the plugin finds its state by the config's runDir, whatever the runtime's environment
	RUN="$SL_RUN_DIR"
	SINKS=()
}

teardown() {
	local pid
	for pid in "${SINKS[@]}"; do kill "$pid" 2>/dev/null || true; done
	# what a test kept a deleted sandbox alive with
	[ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null || true
	[ -z "${MOUNTER:-}" ] || kill "$MOUNTER" 2>/dev/null || true
	teardown_host
}

# cni CMD ARGS...: the libcni client, in the scratch host
cni() {
	inhost env -u SL_RUN_DIR CNI_PATH="$BIN:/usr/lib/cni" \
		CNI_CACHE_DIR="$BATS_TEST_TMPDIR/cache" "$CNI_CLIENT" "$@"
}

# conflist NAME PLUGIN-JSON...: a conflist of those plugins, sl-cni's with runDir
conflist() {
	local name=$1 plugins
	shift
	plugins=$(IFS=,; echo "$*")
	cat >"$CONF/$name.conflist" <<J
{ "cniVersion": "1.0.0", "name": "$name", "plugins": [ $plugins ] }
J
}
slcni() { # slcni EXTRA-KEYS: sl-cni's plugin config
	echo "{ \"type\": \"sl-cni\", \"runDir\": \"$RUN\", $1 }"
}

sandbox() { # sandbox N: a scratch namespace playing a container's
	scratch_ns "${P}s$1"
}
ns() { echo "/run/netns/${P}s$1"; }
get() { # get SANDBOX-N URL: what the sandbox fetches (exit 124: timed out)
	ip netns exec "${P}s$1" timeout 4 busybox wget -q -O - "$2"
}

@test "libcni: ADD, CHECK, DEL chained before portmap and bandwidth; the policy holds with traffic; DEL twice" {
	conflist iso "$(slcni '"range": "192.0.2.0/24", "allow": ["203.0.113.0/24:80", "198.51.100.10"],
		"drop": ["203.0.113.10"], "dns": { "nameservers": ["198.51.100.53"] }')" \
		'{ "type": "portmap", "capabilities": { "portMappings": true } }' \
		'{ "type": "bandwidth", "egressRate": 100000000, "egressBurst": 1000000 }'
	sandbox 1
	sandbox 2
	kernel_state >"$BATS_TEST_TMPDIR/before"
	cni add "$CONF" iso c1 "$(ns 1)" eth0 >"$BATS_TEST_TMPDIR/r1"
	CNI_PORTMAP=8080:80 cni add "$CONF" iso c2 "$(ns 2)" eth0 >"$BATS_TEST_TMPDIR/r2"
	# the result: both ends, the address with its gateway, the route, dns
	run jq -r '[.interfaces[0].name, .interfaces[1].name, .interfaces[1].sandbox,
		.ips[0].address, .ips[0].gateway, .ips[0].interface, .routes[0].dst,
		.dns.nameservers[0]] | join(" ")' "$BATS_TEST_TMPDIR/r1"
	[[ "$output" =~ ^sc-[0-9a-f]{12}\ eth0\ $(ns 1)\ 192.0.2.2/30\ 192.0.2.1\ 1\ 0.0.0.0/0\ 198.51.100.53$ ]]
	H1=$(jq -r '.interfaces[0].name' "$BATS_TEST_TMPDIR/r1")
	[ ${#H1} -le 15 ]
	[ "$(jq -r '.ips[0].address' "$BATS_TEST_TMPDIR/r2")" = 192.0.2.6/30 ]
	# the kernel: the sandbox's end with its address, no IPv6; the host end
	[ "$(ip -n "${P}s1" -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')" = 192.0.2.2 ]
	[ "$(ip netns exec "${P}s1" cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6)" = 1 ]
	[ "$(ip -n "${P}s1" -j addr show dev eth0 | jq '[.[0].addr_info[] | select(.family=="inet6")] | length')" = 0 ]
	inhost ip -j link show "$H1" | jq -e '.[0].flags | index("UP")' >/dev/null
	# its jump: this host end, this address, to its policy's chain
	POL=$(inhost iptables-legacy -S SL-CNI | grep -- "-s 192.0.2.2/32 -i $H1 " | grep -o 'SLP-[0-9a-f]*$')
	[ -n "$POL" ]
	inhost iptables-legacy -S "$POL" | grep -q -- '-A SLP-.* -d 198.51.100.10/32 .*-j ACCEPT'
	# and the other sandbox, same policy: the same chain
	inhost iptables-legacy -S SL-CNI | grep -q -- "-s 192.0.2.6/32 -i sc-[0-9a-f]* .*-j $POL"
	cni check "$CONF" iso c1 "$(ns 1)" eth0
	cni check "$CONF" iso c2 "$(ns 2)" eth0

	# allow and drop: the most specific entry wins
	[ "$(get 1 http://198.51.100.10/)" = "hello from $LAN" ]
	run get 1 http://198.51.100.11/ # not listed, with an allow list and a drop list: allowed
	[ "$status" = 0 ]
	log_start "$H1" "$BATS_TEST_TMPDIR/denials"
	run get 1 http://203.0.113.10/ # dropped: more specific than the allowed /24:80
	[ "$status" != 0 ]
	# what was denied, and by which entry: sl-egress log -f of the attachment
	wait_line "$BATS_TEST_TMPDIR/denials" " $H1 tcp 203.0.113.10:80 denied by 203.0.113.10/32$"
	run get 2 http://203.0.113.10/ # another attachment's denial is not this one's
	sleep 0.5
	kill "$LOG_PID"
	[ "$(grep -c ' denied by ' "$BATS_TEST_TMPDIR/denials")" -ge 1 ]
	grep ' denied by ' "$BATS_TEST_TMPDIR/denials" | { ! grep -v " $H1 "; }
	# its rules are sl-cni's: sl-egress's other verbs refuse it; log needs -f
	assert_usage_error "is an sl-cni attachment: its rules are sl-cni's" \
		inhost sl-egress apply "$H1" --drop 1.1.1.1
	assert_usage_error "log -f shows them" inhost sl-egress log "$H1"
	# never another attachment, never the host (its gateway, its LAN address)
	run get 1 http://192.0.2.6/
	[ "$status" != 0 ]
	run get 1 http://192.0.2.1/
	[ "$status" != 0 ]
	run get 1 http://198.51.100.1/
	[ "$status" != 0 ]
	run ip netns exec "${P}s1" ping -c1 -W2 192.0.2.1
	[ "$status" != 0 ]
	# nothing new reaches a sandbox, but what the runtime published (portmap)
	ip netns exec "${P}s2" busybox httpd -p 80 -h "$BATS_TEST_TMPDIR/www-$LAN"
	ip -n "$LAN" route add 192.0.2.0/24 via 198.51.100.1
	run ip netns exec "$LAN" timeout 4 busybox wget -q -O - http://192.0.2.6/
	[ "$status" != 0 ]
	[ "$(ip netns exec "$LAN" timeout 4 busybox wget -q -O - http://198.51.100.1:8080/)" = "hello from $LAN" ]

	# root in the sandbox: its own tables hold nothing of ours; a borrowed address is dropped
	ip netns exec "${P}s1" iptables-legacy -F
	ip netns exec "${P}s1" iptables-legacy -P OUTPUT ACCEPT
	run get 1 http://203.0.113.10/
	[ "$status" != 0 ]
	ip -n "${P}s1" addr add 192.0.2.7/32 dev eth0
	ip -n "${P}s1" route replace default via 192.0.2.1 src 192.0.2.7
	run get 1 http://198.51.100.10/
	[ "$status" != 0 ]
	ip -n "${P}s1" route replace default via 192.0.2.1 src 192.0.2.2
	ip -n "${P}s1" addr del 192.0.2.7/32 dev eth0
	inhost iptables-legacy -S SL-CNI -v | grep -- '--nflog-prefix spoofed' | grep -qv -- '-c 0 0$'
	[ "$(get 1 http://198.51.100.10/)" = "hello from $LAN" ]

	# a rule taken away: CHECK fails and names it
	inhost iptables-legacy -D "$POL" -d 198.51.100.10/32 -m comment --comment "sl-cni policy" -j ACCEPT
	run cni check "$CONF" iso c1 "$(ns 1)" eth0
	[ "$status" != 0 ]
	[[ "$output" == *"differ from the network's policy"* ]]

	cni del "$CONF" iso c1 "$(ns 1)" eth0
	cni del "$CONF" iso c1 "$(ns 1)" eth0 # twice: still success
	cni del "$CONF" iso c2 "$(ns 2)" eth0
	[ "$(ip -n "${P}s1" -j link show | jq '[.[] | select(.ifname=="eth0")] | length')" = 0 ]
	ls "$RUN" | grep -v '^ipam$' | { ! grep .; }
	ip -n "$LAN" route del 192.0.2.0/24
	kernel_state >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "libcni: DEL after the sandbox is gone; sl-gc sweeps an attachment whose sandbox died" {
	conflist iso "$(slcni '"range": "192.0.2.0/28"')"
	sandbox 1
	sandbox 2
	cni add "$CONF" iso c1 "$(ns 1)" eth0 >/dev/null
	cni add "$CONF" iso c2 "$(ns 2)" eth0 >/dev/null
	H1=$(inhost ip -br link | awk '/^sc-/{print $1}' | head -1)
	ip netns del "${P}s1"
	ip netns del "${P}s2"
	cni del "$CONF" iso c1 "$(ns 1)" eth0
	[ "$(ls "$RUN" | grep -c '^sc-')" = 1 ]
	run inhost sl-gc --dry-run
	[[ "$output" == *"sl-cni attachment sc-"*" of c2 (its sandbox is gone)"* ]]
	[ "$(ls "$RUN" | grep -c '^sc-')" = 1 ]
	run inhost sl-gc
	[ "$status" = 0 ]
	[[ "$output" == *"of c2 (its sandbox is gone)"* ]]
	[ "$(ls "$RUN" | grep -c '^sc-')" = 0 ]
	inhost iptables-legacy -S | { ! grep -q 'SL-CNI\|SLP-'; }
	inhost iptables-legacy -t nat -S | { ! grep -q 'SL-CNI'; }
	run grep -rq 'sc-' "$RUN/ipam"
	[ "$status" != 0 ]
	# the addresses are free again: a new sandbox gets the first block
	sandbox 3
	cni add "$CONF" iso c3 "$(ns 3)" eth0 | jq -e '.ips[0].address == "192.0.2.2/30"'
	cni del "$CONF" iso c3 "$(ns 3)" eth0
}

@test "sl-gc knows a sandbox by the namespace it was made in, not by its host end" {
	conflist iso "$(slcni '"range": "192.0.2.0/28"')"
	for i in 1 2 3 4; do sandbox $i; done
	for i in 1 2 3 4; do cni add "$CONF" iso c$i "$(ns $i)" eth0 >/dev/null; done
	# c1: its eth0 moved elsewhere, then its namespace deleted: the host end
	# stays (its peer lives on), as it does while the kernel tears a namespace down
	scratch_ns "${P}limbo"
	ip -n "${P}s1" link set eth0 netns "${P}limbo"
	ip netns del "${P}s1"
	# c2: its name deleted, but a process still runs in it
	ip netns exec "${P}s2" sleep 60 3>&- &
	HOLDER=$!
	local ino
	ino=$(stat -L -c %i "$(ns 2)")
	for _ in $(seq 1 100); do
		[ "$(stat -L -c %i "/proc/$HOLDER/ns/net")" = "$ino" ] && break
		sleep 0.05
	done
	[ "$(stat -L -c %i "/proc/$HOLDER/ns/net")" = "$ino" ]
	ip netns del "${P}s2"
	# c3: its name deleted, but a bind mount elsewhere keeps it: in a mount
	# namespace of its own, so that no other test's process (ip netns exec
	# copies the mount table) keeps a copy of the mount after it is undone
	touch "$BATS_TEST_TMPDIR/keep3"
	unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && touch "$2.ready" && exec sleep 60' sh "$(ns 3)" "$BATS_TEST_TMPDIR/keep3" 3>&- &
	MOUNTER=$!
	for _ in $(seq 1 100); do [ -e "$BATS_TEST_TMPDIR/keep3.ready" ] && break; sleep 0.05; done
	[ -e "$BATS_TEST_TMPDIR/keep3.ready" ]
	ip netns del "${P}s3"
	run inhost sl-gc --dry-run
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"sl-cni attachment sc-"*" of c1 (its sandbox is gone)"* ]]
	[[ "$output" != *" of c2 "* ]]
	[[ "$output" != *" of c3 "* ]]
	[[ "$output" != *" of c4 "* ]]
	run inhost sl-gc
	[ "$status" = 0 ]
	[ "$(ls "$RUN" | grep -c '^sc-')" = 3 ]
	# the holders go: so do their attachments
	kill "$HOLDER" "$MOUNTER"; wait "$HOLDER" "$MOUNTER" 2>/dev/null || true
	run inhost sl-gc
	[ "$status" = 0 ]
	[[ "$output" == *" of c2 (its sandbox is gone)"* ]]
	[[ "$output" == *" of c3 (its sandbox is gone)"* ]]
	[ "$(ls "$RUN" | grep -c '^sc-')" = 1 ]
	cni del "$CONF" iso c4 "$(ns 4)" eth0
	[ "$(ls "$RUN" | grep -c '^sc-')" = 0 ]
	inhost iptables-legacy -S | { ! grep -q 'SL-CNI\|SLP-'; }
}

@test "sl-gc takes an attachment whose state was lost whole: host end, jump, masquerade, policy chain, lease" {
	conflist iso "$(slcni '"range": "192.0.2.0/28", "drop": ["198.51.100.0/24"]')"
	sandbox 1
	cni add "$CONF" iso c1 "$(ns 1)" eth0 >"$BATS_TEST_TMPDIR/r1"
	H1=$(jq -r '.interfaces[0].name' "$BATS_TEST_TMPDIR/r1")
	inhost iptables-legacy -S SL-CNI | grep -q -- "-i $H1 "
	rm -rf "${RUN:?}/$H1"
	run inhost sl-gc
	echo "$output"
	[ "$status" = 0 ]
	grep -q "removed sl-cni host end $H1 and its rules (no state)" <<<"$output"
	! inhost ip link show "$H1" 2>/dev/null || false
	inhost iptables-legacy -S | { ! grep -q "$H1\|SLP-\|SL-CNI"; }
	inhost iptables-legacy -t nat -S | { ! grep -q "SL-CNI"; }
	run grep -rq "$H1" "$RUN/ipam"
	[ "$status" != 0 ]
	[ -z "$(inhost sl-gc)" ]
}

@test "a DEL racing an ADD of the same attachment leaves it whole or gone, never half" {
	conflist iso "$(slcni '"range": "192.0.2.0/28"')"
	sandbox 1
	local conf i h
	conf=$(jq -c '.plugins[0] + {cniVersion: .cniVersion, name: .name}' "$CONF/iso.conflist")
	for i in $(seq 1 12); do
		plugin ADD "$conf" CNI_CONTAINERID=race >/dev/null 2>&1 &
		plugin DEL "$conf" CNI_CONTAINERID=race >/dev/null 2>&1 &
		wait
		h=$(inhost ip -j link | jq -r '.[] | select(.ifname | startswith("sc-")) | .ifname')
		if [ -n "$h" ]; then
			# whole: its state, its lease, its jump
			[ -e "$RUN/$h/vm.env" ]
			grep -q "^$h " "$RUN/ipam/leases"
			inhost iptables-legacy -S SL-CNI | grep -q -- "-i $h "
		else
			# gone: no state, no lease, no rules
			[ -z "$(ls "$RUN" | grep '^sc-')" ]
			! grep -q "^sc-" "$RUN/ipam/leases" 2>/dev/null || false
			! inhost iptables-legacy -S 2>/dev/null | grep -q -- "-i sc-" || false
		fi
		plugin DEL "$conf" CNI_CONTAINERID=race >/dev/null
	done
}

# udp_sink NS ADDR PORT FILE: every datagram to ADDR:PORT in NS, a line "SOURCE DATA" in FILE;
# returns once the socket is bound (a datagram sent before is refused: one
# CI run lost a VM's first datagrams under ASan's load, likely so)
udp_sink() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
with open(sys.argv[3], "a") as f:
    while True:
        d, a = s.recvfrom(512)
        f.write("%s %s\n" % (a[0], d.decode(errors="replace"))); f.flush()' "$2" "$3" "$4" \
		</dev/null >/dev/null 2>&1 3>&- &
	SINKS+=($!)
	for _ in $(seq 1 100); do
		[ -n "$(ip netns exec "$1" ss -Huln "src $2:$3")" ] && return 0
		sleep 0.05
	done
	echo "udp_sink: nothing bound to $2:$3 in $1" >&2
	return 1
}
udp_send() { # udp_send NS SRC DST PORT DATA
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for _ in range(3): s.sendto(sys.argv[4].encode(), (sys.argv[2], int(sys.argv[3])))' "$2" "$3" "$4" "$5"
}

@test "a sandbox or a LAN host that borrows a VM range's address is dropped as spoofed, not masqueraded" {
	# an isolated VM's range on the same host, and an attachment dropping the LAN
	standin "$P-1" --drop 198.51.100.0/24
	conflist iso "$(slcni '"range": "192.0.2.0/28", "drop": ["198.51.100.0/24"]')"
	sandbox 1
	sandbox 2
	cni add "$CONF" iso c1 "$(ns 1)" eth0 >"$BATS_TEST_TMPDIR/r1"
	cni add "$CONF" iso c2 "$(ns 2)" eth0 >/dev/null
	H1=$(jq -r '.interfaces[0].name' "$BATS_TEST_TMPDIR/r1")
	: >"$BATS_TEST_TMPDIR/lan"; : >"$BATS_TEST_TMPDIR/net"; : >"$BATS_TEST_TMPDIR/s2"
	udp_sink "$LAN" 198.51.100.10 9999 "$BATS_TEST_TMPDIR/lan"
	udp_sink "$NET" 203.0.113.10 9999 "$BATS_TEST_TMPDIR/net"
	udp_sink "${P}s2" 192.0.2.6 9999 "$BATS_TEST_TMPDIR/s2"
	sleep 0.5
	# the sinks work: the VM's own traffic and the sandbox's own address get through
	udp_send "$P-1v" 169.254.100.2 203.0.113.10 9999 vm
	udp_send "${P}s1" 192.0.2.2 203.0.113.10 9999 own
	wait_line "$BATS_TEST_TMPDIR/net" " vm$"
	wait_line "$BATS_TEST_TMPDIR/net" " own$"
	log_start "$H1" "$BATS_TEST_TMPDIR/denials"
	# root in the sandbox takes an address of the VM range
	ip -n "${P}s1" addr add 169.254.100.50/32 dev eth0
	udp_send "${P}s1" 169.254.100.50 198.51.100.10 9999 borrowed-lan
	udp_send "${P}s1" 169.254.100.50 203.0.113.10 9999 borrowed-net
	udp_send "${P}s1" 169.254.100.50 192.0.2.6 9999 borrowed-sandbox
	# a LAN host does the same, through the host
	ip -n "$LAN" addr add 169.254.100.51/32 dev eth0
	udp_send "$LAN" 169.254.100.51 203.0.113.10 9999 lan-borrowed
	wait_line "$BATS_TEST_TMPDIR/denials" " $H1 udp 198.51.100.10:9999 denied by spoofed$"
	sleep 1
	echo "LAN got: $(cat "$BATS_TEST_TMPDIR/lan")"
	echo "internet got: $(cat "$BATS_TEST_TMPDIR/net")"
	echo "sandbox 2 got: $(cat "$BATS_TEST_TMPDIR/s2")"
	! grep -q borrowed "$BATS_TEST_TMPDIR/lan" "$BATS_TEST_TMPDIR/net" "$BATS_TEST_TMPDIR/s2" || false
	kill "$LOG_PID"
	# the host's rule says why: a range's sources only from its VMs' host ends
	inhost iptables-legacy -S SL-FORWARD -v | grep -- '-s 169.254.100.0/22 .*--nflog-prefix spoofed' |
		grep -qv -- '-c 0 0$'
	inhost iptables-legacy -S SL-FORWARD | grep -q -- "-s 169.254.100.0/22 -m devgroup --src-group 0x5c[0-9a-f]* .*-j ACCEPT"
	inhost sl-egress check "$P-1"
	inhost sl-veth check "$P-1"
	cni del "$CONF" iso c1 "$(ns 1)" eth0
	cni del "$CONF" iso c2 "$(ns 2)" eth0
}

@test "libcni: 64 parallel ADDs get distinct addresses and every rule; GC keeps what the runtime lists" {
	conflist iso "$(slcni '"range": "192.0.2.0/24", "drop": ["203.0.113.10"]')"
	for i in $(seq 1 64); do sandbox "$i"; done
	for i in $(seq 1 64); do
		cni add "$CONF" iso "c$i" "$(ns "$i")" eth0 >"$BATS_TEST_TMPDIR/r$i" &
	done
	wait
	[ "$(jq -r '.ips[0].address' "$BATS_TEST_TMPDIR"/r* | sort -u | wc -l)" = 64 ]
	[ "$(inhost iptables-legacy -S SL-CNI | grep -c -- '-j SLP-')" = 64 ]
	[ "$(inhost iptables-legacy -S | grep -c '^-N SLP-')" = 1 ] # one policy, shared
	[ "$(inhost iptables-legacy -t nat -S SL-CNI-POSTROUTING | grep -c MASQUERADE)" = 64 ]
	for i in 1 17 64; do cni check "$CONF" iso "c$i" "$(ns "$i")" eth0; done
	# each one's policy, from one at the end
	[ "$(get 64 http://198.51.100.10/)" = "hello from $LAN" ]
	run get 64 http://203.0.113.10/
	[ "$status" != 0 ]

	# STATUS; VERSION; GC with the runtime's list of valid attachments (1.1.0)
	mkdir "$BATS_TEST_TMPDIR/net11"
	sed 's/"1.0.0"/"1.1.0"/' "$CONF/iso.conflist" >"$BATS_TEST_TMPDIR/net11/iso.conflist"
	cni status "$BATS_TEST_TMPDIR/net11" iso
	cni version "$BATS_TEST_TMPDIR/net11" iso | grep -qx 'sl-cni 1.0.0 1.1.0'
	cni gc "$BATS_TEST_TMPDIR/net11" iso $(for i in $(seq 1 32); do printf 'c%d/eth0 ' "$i"; done)
	[ "$(ls "$RUN" | grep -c '^sc-')" = 32 ]
	[ "$(inhost iptables-legacy -S SL-CNI | grep -c -- '-j SLP-')" = 32 ]
	[ "$(inhost ip -br link | grep -c '^sc-')" = 32 ]
	cni check "$CONF" iso c32 "$(ns 32)" eth0
	run cni check "$CONF" iso c33 "$(ns 33)" eth0
	[ "$status" != 0 ]
	cni gc "$BATS_TEST_TMPDIR/net11" iso
	[ "$(ls "$RUN" | grep -c '^sc-')" = 0 ]
	inhost iptables-legacy -S | { ! grep -q 'SL-CNI'; }
}

@test "two networks, two policies: a shared policy chain never carries one network's entries to the other" {
	conflist lan10 "$(slcni '"range": "192.0.2.0/25", "allow": ["198.51.100.10"]')"
	conflist lan11 "$(slcni '"range": "192.0.2.128/25", "allow": ["198.51.100.11"]')"
	sandbox 1
	sandbox 2
	sandbox 3
	cni add "$CONF" lan10 c1 "$(ns 1)" eth0 >/dev/null
	cni add "$CONF" lan11 c2 "$(ns 2)" eth0 >/dev/null
	cni add "$CONF" lan10 c3 "$(ns 3)" eth0 >/dev/null
	[ "$(inhost iptables-legacy -S | grep -c '^-N SLP-')" = 2 ]
	[ "$(get 1 http://198.51.100.10/)" = "hello from $LAN" ]
	run get 1 http://198.51.100.11/
	[ "$status" != 0 ]
	[ "$(get 2 http://198.51.100.11/)" = "hello from $LAN" ]
	run get 2 http://198.51.100.10/
	[ "$status" != 0 ]
	[ "$(get 3 http://198.51.100.10/)" = "hello from $LAN" ]
	# the last of a policy takes its chain; the other stays
	cni del "$CONF" lan11 c2 "$(ns 2)" eth0
	[ "$(inhost iptables-legacy -S | grep -c '^-N SLP-')" = 1 ]
	cni del "$CONF" lan10 c1 "$(ns 1)" eth0
	[ "$(inhost iptables-legacy -S | grep -c '^-N SLP-')" = 1 ]
	[ "$(get 3 http://198.51.100.10/)" = "hello from $LAN" ]
	cni del "$CONF" lan10 c3 "$(ns 3)" eth0
	inhost iptables-legacy -S | { ! grep -q 'SL-CNI\|SLP-'; }
}

@test "ipam delegated to host-local: its address, released on DEL" {
	conflist iso "$(slcni "\"ipam\": { \"type\": \"host-local\", \"subnet\": \"192.0.2.0/24\",
		\"gateway\": \"192.0.2.1\", \"dataDir\": \"$BATS_TEST_TMPDIR/ipam\" }")"
	sandbox 1
	cni add "$CONF" iso c1 "$(ns 1)" eth0 | jq -e '.ips[0].address == "192.0.2.2/24" and .ips[0].gateway == "192.0.2.1"'
	[ -e "$BATS_TEST_TMPDIR/ipam/iso/192.0.2.2" ]
	cni check "$CONF" iso c1 "$(ns 1)" eth0
	[ "$(get 1 http://198.51.100.10/)" = "hello from $LAN" ]
	cni del "$CONF" iso c1 "$(ns 1)" eth0
	[ ! -e "$BATS_TEST_TMPDIR/ipam/iso/192.0.2.2" ]
}

# plugin CMD CONFIG-JSON [ENV...]: sl-cni run by hand, as a runtime would
plugin() {
	local cmd=$1 conf=$2
	shift 2
	printf '%s' "$conf" | inhost env CNI_COMMAND="$cmd" CNI_CONTAINERID=x CNI_NETNS="$(ns 1)" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$@" timeout 20 sl-cni
}

@test "bad config or environment: the CNI error code and one message; nothing made" {
	sandbox 1
	kernel_state >"$BATS_TEST_TMPDIR/before"
	ok='"cniVersion": "1.0.0", "name": "iso", "type": "sl-cni"'
	check_err() { # check_err CODE TEXT CMD CONF [ENV...]
		local code=$1 text=$2
		shift 2
		run plugin "$@"
		[ "$status" = 1 ]
		echo "$output" | jq -e --argjson c "$code" '.code == $c' >/dev/null
		[[ "$(echo "$output" | jq -r .msg)" == *"$text"* ]]
	}
	check_err 1 "cniVersion 0.3.1" ADD '{"cniVersion": "0.3.1", "name": "iso", "range": "192.0.2.0/24"}'
	check_err 6 "not a JSON object" ADD '{"cniVersion": '
	check_err 7 'give "range" or "ipam"' ADD "{ $ok }"
	check_err 7 "bad range" ADD "{ $ok, \"range\": \"192.0.2.0/33\" }"
	check_err 7 "allow" ADD "{ $ok, \"range\": \"192.0.2.0/24\", \"allow\": [\"300.1.1.1\"] }"
	check_err 7 "names in allow" ADD "{ $ok, \"range\": \"192.0.2.0/24\", \"allow\": [\"example.com\"] }"
	check_err 7 "runDir" ADD "{ $ok, \"range\": \"192.0.2.0/24\", \"runDir\": \"relative\" }"
	check_err 4 "CNI_CONTAINERID" ADD "{ $ok, \"range\": \"192.0.2.0/24\" }" CNI_CONTAINERID=
	check_err 4 "CNI_CONTAINERID 'a" ADD "{ $ok, \"range\": \"192.0.2.0/24\" }" CNI_CONTAINERID=$'a\nSL_IP=1.2.3.4'
	check_err 4 "CNI_COMMAND 'FOO'" FOO "{ $ok }"
	check_err 3 "CNI_NETNS" ADD "{ $ok, \"range\": \"192.0.2.0/24\" }" CNI_NETNS=/run/netns/none-$P
	# not a namespace: a FIFO (which must not block the runtime), a file
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	check_err 4 "is not a network namespace" ADD "{ $ok, \"range\": \"192.0.2.0/24\" }" \
		CNI_NETNS="$BATS_TEST_TMPDIR/fifo"
	check_err 4 "is not a network namespace" ADD "{ $ok, \"range\": \"192.0.2.0/24\" }" \
		CNI_NETNS=/proc/self/ns/uts
	check_err 3 "no attachment" CHECK "{ $ok, \"range\": \"192.0.2.0/24\" }"
	kernel_state >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	ls "$SL_RUN_DIR" 2>/dev/null | grep -v '^ipam$' | { ! grep .; }
	# a person running it: usage, exit 2
	run sl-cni
	[ "$status" = 2 ]
	[[ "$output" == *"CNI_COMMAND is not set"* ]]
	sl-cni --help | grep -q 'CNI_COMMAND'
	sl-cni --version | grep -q '^sl-cni '
}

@test "podman --network-backend cni: a container on an sl-cni network obeys its list" {
	require podman runc
	local pd="$BATS_TEST_TMPDIR/podman"
	mkdir -p "$pd/rootfs/bin" "$pd/net.d"
	cp "$(command -v busybox)" "$pd/rootfs/bin/"
	for c in sh wget ip timeout; do ln -s busybox "$pd/rootfs/bin/$c"; done
	tar -C "$pd/rootfs" -cf "$pd/rootfs.tar" .
	cat >"$pd/net.d/iso.conflist" <<J
{ "cniVersion": "1.0.0", "name": "iso-$P",
  "plugins": [ { "type": "sl-cni", "runDir": "$RUN", "range": "192.0.2.0/24",
                 "allow": ["198.51.100.10", "203.0.113.10:80"] } ] }
J
	cat >"$pd/containers.conf" <<C
[network]
network_backend = "cni"
cni_plugin_dirs = ["$BIN", "/usr/lib/cni"]
network_config_dir = "$pd/net.d"
[engine]
tmp_dir = "$pd/tmp"
events_logger = "file"
C
	pod() {
		inhost env CONTAINERS_CONF="$pd/containers.conf" podman --root "$pd/storage" \
			--runroot "$pd/run" --storage-driver vfs --runtime runc --cgroup-manager cgroupfs \
			--network-backend cni --cni-config-dir "$pd/net.d" "$@"
	}
	pod import "$pd/rootfs.tar" localhost/slbox >/dev/null
	run pod run --rm --network "iso-$P" --ulimit nofile=1024:20000 --ulimit nproc=1024:1024 \
		localhost/slbox sh -c 'ip -4 -o addr show eth0; wget -q -O - http://198.51.100.10/;
		echo lan=$?; timeout 4 wget -q -O - http://198.51.100.11/; echo other=$?;
		wget -q -O - http://203.0.113.10/; echo net=$?'
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"inet 192.0.2."*"/30"* ]]
	[[ "$output" == *"hello from $LAN"*"lan=0"* ]]
	[[ "$output" == *"other=143"* || "$output" == *"other=1"* ]]
	[[ "$output" == *"hello from $NET"*"net=0"* ]]
	# the container is gone, and with it (podman's DEL) its attachment
	[ "$(ls "$RUN" | grep -c '^sc-')" = 0 ]
	inhost iptables-legacy -S | { ! grep -q 'SLP-'; }
	pod rmi -a -f >/dev/null 2>&1 || true
}
