#!/usr/bin/env bats
# sl-egress: the VM's rules in its namespace, the range's rules on the host.

load helpers

setup() {
	setup_host
	for i in 1 2 3; do
		inhost sl-ipam alloc --range 169.254.100.0/22 "$P-$i" >/dev/null
		inhost sl-netns add "$P-$i" >/dev/null
		inhost sl-veth add "$P-$i" >/dev/null
		inhost sl-tap add "$P-$i" >/dev/null
	done
}
teardown() { teardown_host; }

ns_rules() { ip netns exec "$1" iptables-legacy -S | grep -- '^-A'; }
host_rules() { inhost iptables-legacy -S | grep -- '^-A'; inhost iptables-legacy -t nat -S | grep -- '^-A'; }

@test "drop only: anti-spoof, established, nothing new from the veth, the drops" {
	run inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 --drop 203.0.113.7
	[ "$status" -eq 0 ]
	grep -qx "SL_DROP='192.168.1.0/24 203.0.113.7/32'" <<<"$output"
	local c="-m comment --comment \"sl:$P-1\"" l="-m limit --limit 5/sec --limit-burst 10"
	diff <(ns_rules "$P-1") - <<EOR
-A INPUT -m comment --comment sltools -j SL-IN
-A FORWARD -m comment --comment sltools -j SL-FWD
-A SL-FWD ! -s 169.254.100.2/32 -i tap0 $l $c -j NFLOG --nflog-prefix spoofed --nflog-group 10
-A SL-FWD ! -s 169.254.100.2/32 -i tap0 $c -j DROP
-A SL-FWD -m conntrack --ctstate RELATED,ESTABLISHED $c -j ACCEPT
-A SL-FWD -i veth0 $c -j DROP
-A SL-FWD -d 203.0.113.7/32 -i tap0 $l $c -j NFLOG --nflog-prefix "203.0.113.7/32" --nflog-group 10
-A SL-FWD -d 203.0.113.7/32 -i tap0 $c -j DROP
-A SL-FWD -d 169.254.169.254/32 -i tap0 $l $c -j NFLOG --nflog-prefix metadata --nflog-group 10
-A SL-FWD -d 169.254.169.254/32 -i tap0 $c -j DROP
-A SL-FWD -d 192.168.1.0/24 -i tap0 $l $c -j NFLOG --nflog-prefix "192.168.1.0/24" --nflog-group 10
-A SL-FWD -d 192.168.1.0/24 -i tap0 $c -j DROP
-A SL-IN -s 169.254.100.2/32 -d 169.254.100.1/32 -i tap0 -p icmp -m icmp --icmp-type 8 $c -j ACCEPT
-A SL-IN -i tap0 $c -j DROP
-A SL-IN -i veth0 $c -j DROP
EOR
	local h="-m comment --comment \"sl:169.254.100.0/22 $SL_RUN_DIR\"" g
	# the VMs' host ends are in the run dir's device group: the range's
	# sources come from there or are spoofed
	g=$(inhost ip -d -j link show "$P-1" | jq -r '.[0].group')
	if [[ "$g" =~ ^[0-9]+$ ]]; then g=$(printf '0x%x' "$g"); fi
	[[ "$g" == 0x5c* ]]
	inhost ip -d -j link show "$P-2" | jq -e --arg g "$((g))" '.[0].group == $g' >/dev/null
	diff <(host_rules) - <<EOR
-A INPUT -m comment --comment sltools -j SL-INPUT
-A FORWARD -m comment --comment sltools -j SL-FORWARD
-A SL-FORWARD -d 169.254.100.0/22 -m conntrack --ctstate RELATED,ESTABLISHED $h -j ACCEPT
-A SL-FORWARD -d 169.254.100.0/22 $h -j DROP
-A SL-FORWARD -s 169.254.100.0/22 -m devgroup --src-group $g $h -j ACCEPT
-A SL-FORWARD -s 169.254.100.0/22 $l $h -j NFLOG --nflog-prefix spoofed --nflog-group 10
-A SL-FORWARD -s 169.254.100.0/22 $h -j DROP
-A SL-INPUT -s 169.254.100.0/22 $h -j DROP
-A POSTROUTING -m comment --comment sltools -j SL-POSTROUTING
-A SL-POSTROUTING -s 169.254.100.0/22 ! -d 169.254.100.0/22 $h -j MASQUERADE
EOR
	inhost sl-egress check "$P-1"
}

@test "allow only is a whitelist; allow and drop: allow, drop, rest allowed; neither: all allowed" {
	inhost sl-egress apply "$P-1" --allow 192.168.1.0/24 >/dev/null
	ns_rules "$P-1" | grep -- '-A SL-FWD' | grep -v -- '-j NFLOG' | tail -n 2 >"$BATS_TEST_TMPDIR/a"
	grep -q -- '-A SL-FWD -d 192.168.1.0/24 -i tap0 .* -j ACCEPT' <(head -1 "$BATS_TEST_TMPDIR/a")
	grep -q -- '-A SL-FWD -i tap0 .* -j DROP' <(tail -1 "$BATS_TEST_TMPDIR/a")

	inhost sl-egress apply "$P-2" --allow 192.168.1.0/24 --drop 10.0.0.0/8 >/dev/null
	ns_rules "$P-2" | grep -- '-A SL-FWD' | grep -v -- '-j NFLOG' | tail -n 2 >"$BATS_TEST_TMPDIR/b"
	grep -q -- '-d 192.168.1.0/24 -i tap0 .* -j ACCEPT' <(head -1 "$BATS_TEST_TMPDIR/b")
	grep -q -- '-d 10.0.0.0/8 -i tap0 .* -j DROP' <(tail -1 "$BATS_TEST_TMPDIR/b")

	inhost sl-egress apply "$P-3" >/dev/null
	# the spoof drop and its log, replies, the veth, the metadata drop and its log
	[ "$(ns_rules "$P-3" | grep -c -- '-A SL-FWD')" -eq 6 ]
	for i in 1 2 3; do inhost sl-egress check "$P-$i"; done
}

@test "apply twice is the same as once; a changed list replaces the old one" {
	inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 >/dev/null
	local ns1 host1
	ns1=$(ns_rules "$P-1"); host1=$(host_rules)
	inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 >/dev/null
	[ "$ns1" = "$(ns_rules "$P-1")" ]
	[ "$host1" = "$(host_rules)" ]
	# with no flags the lists come from the VM's env file
	inhost sl-egress apply "$P-1" >/dev/null
	[ "$ns1" = "$(ns_rules "$P-1")" ]
	inhost sl-egress apply "$P-1" --drop 10.0.0.0/8 >/dev/null
	! ns_rules "$P-1" | grep -q 192.168.1.0/24 || false
	ns_rules "$P-1" | grep -q 10.0.0.0/8
}

@test "host rules are per range: the same count for 1 VM and 3" {
	inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 >/dev/null
	local one
	one=$(host_rules)
	inhost sl-egress apply "$P-2" --drop 192.168.1.0/24 >/dev/null
	inhost sl-egress apply "$P-3" >/dev/null
	[ "$one" = "$(host_rules)" ]
	# flushing one VM keeps the range's rules for the others
	inhost sl-egress flush "$P-1"
	[ -z "$(ns_rules "$P-1")" ]
	[ "$one" = "$(host_rules)" ]
	inhost sl-egress flush "$P-2"
	inhost sl-egress flush "$P-3"
	# the last VM of the range takes the host rules and our chains with it
	[ -z "$(host_rules)" ]
	! inhost iptables-legacy -S | grep -q SL- || false
	! inhost iptables-legacy -t nat -S | grep -q SL- || false
	inhost sl-egress flush "$P-3"
}

@test "flush undoes what apply recorded, not what an edited vm.env says" {
	inhost sl-egress apply "$P-1" >/dev/null
	[ -n "$(host_rules)" ]
	sed -i 's#^SL_EGRESS_RANGE=.*#SL_EGRESS_RANGE=0.0.0.0/0#' "$SL_RUN_DIR/$P-1/vm.env"
	inhost sl-egress flush "$P-1"
	[ -z "$(host_rules)" ]
	[ ! -e "$SL_RUN_DIR/egress" ]
}

@test "a second range gets its own rules; drops to every range come before accepts" {
	inhost sl-ipam alloc --range 169.254.104.0/22 "$P-9" >/dev/null
	inhost sl-netns add "$P-9" >/dev/null
	inhost sl-egress apply "$P-1" >/dev/null
	inhost sl-egress apply "$P-9" >/dev/null
	inhost iptables-legacy -S SL-FORWARD | grep -- '^-A' | awk '{print $NF}' | tr '\n' ' ' >"$BATS_TEST_TMPDIR/t"
	# (an NFLOG rule's last field is its group, 10)
	[ "$(cat "$BATS_TEST_TMPDIR/t")" = "ACCEPT DROP ACCEPT DROP ACCEPT 10 DROP ACCEPT 10 DROP " ]
	[ "$(inhost iptables-legacy -S SL-FORWARD | grep -c -- '-s 169.254.10[04].0/22')" -eq 6 ]
	[ "$(inhost iptables-legacy -S SL-FORWARD | grep -- '^-A' | tail -n 6 | grep -c -- ' -s ')" -eq 6 ]
}

@test "show prints iptables-save syntax; check finds a tampered rule" {
	inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 >/dev/null
	run inhost sl-egress show "$P-1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "# $P-1: allow [] drop [192.168.1.0/24]" ]
	[ "${lines[2]}" = "#   drop  169.254.169.254/32 (built in: cloud metadata; allow it as a /32)" ]
	[[ ${lines[5]} =~ ^"# denials: kept by sl-egressd pid "[0-9]+", this VM its slot "[0-9]+": 0 logged, 0 suppressed since apply (sl-egress log $P-1)"$ ]]
	[ "${lines[6]}" = "# namespace $P-1" ]
	[ "${lines[7]}" = "*filter" ]
	grep -qx -- '-A SL-FWD -d 192.168.1.0/24 -i tap0 -m comment --comment "sl:'"$P-1"'" -j DROP' <<<"$output"
	grep -qx -- "-A SL-POSTROUTING -s 169.254.100.0/22 ! -d 169.254.100.0/22 -m comment --comment \"sl:169.254.100.0/22 $SL_RUN_DIR\" -j MASQUERADE" <<<"$output"
	[ "$(grep -c '^COMMIT$' <<<"$output")" -eq 3 ]
	# every rule shown in the namespace section is what iptables-legacy -S has
	diff <(sed -n '/^# namespace/,/^COMMIT/p' <<<"$output" | grep -- '^-A' | sort) <(ns_rules "$P-1" | sort)
	ip netns exec "$P-1" iptables-legacy -D SL-FWD -d 192.168.1.0/24 -i tap0 -m comment --comment "sl:$P-1" -j DROP
	run inhost sl-egress check "$P-1"
	[ "$status" -eq 1 ]
	grep -q "missing rule: -A SL-FWD -d 192.168.1.0/24" <<<"$output"
	inhost iptables-legacy -t nat -F SL-POSTROUTING
	run inhost sl-egress check "$P-1"
	grep -q "host: missing rule: -A SL-POSTROUTING" <<<"$output"
}

@test "bad CIDRs name the flag and the value; nothing is applied" {
	assert_usage_error "bad --drop value '192.168.1.0/33'" inhost sl-egress apply "$P-1" --drop 192.168.1.0/33
	assert_usage_error "bad --allow value 'example..com'" inhost sl-egress apply "$P-1" --allow example..com
	assert_usage_error "bad --drop value '10.0.0.1/8'" inhost sl-egress apply "$P-1" --drop 10.0.0.1/8
	[ -z "$(ns_rules "$P-1")" ]
	[ -z "$(host_rules)" ]
}

@test "entries go most specific first; ports are TCP and UDP rules; show and check agree with the kernel" {
	run inhost sl-egress apply "$P-1" --drop 0.0.0.0/0 --allow 192.0.2.1:3128,192.0.2.1:3129-3130 \
		--allow 10.0.0.0/8 --drop 10.1.0.0/16 --allow 10.1.2.0/24:53
	[ "$status" -eq 0 ]
	grep -qx "SL_ALLOW='192.0.2.1/32:3128 192.0.2.1/32:3129-3130 10.0.0.0/8 10.1.2.0/24:53'" <<<"$output"
	grep -qx "SL_DROP='0.0.0.0/0 10.1.0.0/16'" <<<"$output"
	local c="-m comment --comment \"sl:$P-1\""
	diff <(ns_rules "$P-1" | grep -- '^-A SL-FWD.*-i tap0' | grep -v -- '-s 169' | grep -v -- '-j NFLOG') - <<EOR
-A SL-FWD -d 192.0.2.1/32 -i tap0 -p tcp -m tcp --dport 3128 $c -j ACCEPT
-A SL-FWD -d 192.0.2.1/32 -i tap0 -p udp -m udp --dport 3128 $c -j ACCEPT
-A SL-FWD -d 192.0.2.1/32 -i tap0 -p tcp -m tcp --dport 3129:3130 $c -j ACCEPT
-A SL-FWD -d 192.0.2.1/32 -i tap0 -p udp -m udp --dport 3129:3130 $c -j ACCEPT
-A SL-FWD -d 169.254.169.254/32 -i tap0 $c -j DROP
-A SL-FWD -d 10.1.2.0/24 -i tap0 -p tcp -m tcp --dport 53 $c -j ACCEPT
-A SL-FWD -d 10.1.2.0/24 -i tap0 -p udp -m udp --dport 53 $c -j ACCEPT
-A SL-FWD -d 10.1.0.0/16 -i tap0 $c -j DROP
-A SL-FWD -d 10.0.0.0/8 -i tap0 $c -j ACCEPT
-A SL-FWD -i tap0 $c -j DROP
EOR
	# show prints the lists and the order that decides, then the rules
	inhost sl-egress show "$P-1" >"$BATS_TEST_TMPDIR/show"
	grep -qx "# $P-1: allow \[192.0.2.1/32:3128 192.0.2.1/32:3129-3130 10.0.0.0/8 10.1.2.0/24:53\] drop \[0.0.0.0/0 10.1.0.0/16\]" "$BATS_TEST_TMPDIR/show"
	diff <(sed -n 's/^#   //p' "$BATS_TEST_TMPDIR/show") - <<EOP
allow 192.0.2.1/32:3128
allow 192.0.2.1/32:3129-3130
drop  169.254.169.254/32 (built in: cloud metadata; allow it as a /32)
allow 10.1.2.0/24:53
drop  10.1.0.0/16
allow 10.0.0.0/8
drop  0.0.0.0/0
allow anything else (no allow-only list)
EOP
	# show prints the same rules as iptables-legacy -S; check finds nothing to say
	diff <(ns_rules "$P-1" | grep '^-A SL-FWD') <(inhost sl-egress show "$P-1" | grep '^-A SL-FWD')
	inhost sl-egress check "$P-1"
	# a rule changed behind our back is found
	ip netns exec "$P-1" iptables-legacy -D SL-FWD -d 10.1.0.0/16 -i tap0 -m comment --comment "sl:$P-1" -j DROP
	run inhost sl-egress check "$P-1"
	[ "$status" -eq 1 ]
	grep -q "missing rule: -A SL-FWD -d 10.1.0.0/16 -i tap0" <<<"$output"
}

@test "sl-egress test: the deciding entry for each of the issue's vectors, from the VM's own lists" {
	t() { # t DEST WANT-VERDICT WANT-ENTRY [apply flags...]
		local d=$1 v=$2 e=$3
		run inhost sl-egress test "$P-1" "$d"
		[ "$status" -eq 0 ] && grep -qx "SL_VERDICT=$v" <<<"$output" && grep -qx "SL_ENTRY=$e" <<<"$output" ||
			{ echo "test $d: want $v by $e, got: $output" >&2; return 1; }
	}
	ap() { inhost sl-egress apply "$P-1" --allow '' --drop '' "$@" >/dev/null; }
	ap --drop 198.51.100.0/24
	t 198.51.100.10 drop 198.51.100.0/24; t 203.0.113.10:80 allow default
	ap --allow 198.51.100.0/24
	t 198.51.100.10:80 allow 198.51.100.0/24; t 203.0.113.10 drop default
	ap --allow 0.0.0.0/0 --drop 198.51.100.0/24
	t 198.51.100.10 drop 198.51.100.0/24; t 203.0.113.10 allow 0.0.0.0/0
	ap --drop 0.0.0.0/0 --allow 198.51.100.10:3128 --allow 198.51.100.10:3129
	t 198.51.100.10:3128 allow 198.51.100.10/32:3128; t 198.51.100.10:3129 allow 198.51.100.10/32:3129
	t 198.51.100.10:3130 drop 0.0.0.0/0; t 198.51.100.10 drop 0.0.0.0/0
	ap --allow 198.51.100.0/24 --drop 10.0.0.0/8
	t 10.1.1.1 drop 10.0.0.0/8; t 198.51.100.10 allow 198.51.100.0/24; t 203.0.113.10 allow default
	ap --allow 10.0.0.0/8 --drop 10.1.0.0/16
	t 10.1.1.1 drop 10.1.0.0/16; t 10.2.1.1 allow 10.0.0.0/8; t 203.0.113.10 allow default
	ap
	t 203.0.113.10 allow default
	# at an exact tie allow wins; at equal prefix the entry with ports beats the one without
	ap --drop 198.51.100.10 --allow 198.51.100.10 --drop 198.51.100.11:80 --allow 198.51.100.11
	t 198.51.100.10 allow 198.51.100.10/32; t 198.51.100.11:80 drop 198.51.100.11/32:80
	t 198.51.100.11:81 allow 198.51.100.11/32
	# a policy given by flags is tested without applying it
	run inhost sl-egress test "$P-1" 192.0.2.9:443 --drop 192.0.2.0/24 --allow 192.0.2.9:443
	grep -qx "SL_VERDICT=allow" <<<"$output"
	[ "$(ip netns exec "$P-1" iptables-legacy -S SL-FWD | grep -c 192.0.2)" = 0 ]
	assert_usage_error "bad DEST 'nowhere': want ADDR, ADDR:PORT or a DNS name" inhost sl-egress test "$P-1" nowhere
}

@test "1000 allow and 1000 drop entries apply (two rules per entry with ports), and flush" {
	local a d
	a=$(python3 -c 'print(",".join(f"10.{i // 256}.{i % 256}.0/24:443" for i in range(1000)))')
	d=$(python3 -c 'print(",".join(f"172.{16 + i // 256}.{i % 256}.0/24" for i in range(1000)))')
	inhost sl-egress apply "$P-1" --allow "$a" --drop "$d" >/dev/null
	[ "$(ip netns exec "$P-1" iptables-legacy -S SL-FWD | grep -c -- '--dport 443')" = 2000 ]
	[ "$(ip netns exec "$P-1" iptables-legacy -S SL-FWD | grep -c -- '-d 172\..* -j DROP')" = 1000 ]
	inhost sl-egress check "$P-1"
	inhost sl-egress flush "$P-1"
	[ -z "$(ip netns exec "$P-1" iptables-legacy -S | grep -- '-j SL-')" ]
}

@test "host rules belong to one run dir: another run dir's gc and flush never touch them" {
	local b="$BATS_TEST_TMPDIR/run-b" before
	SCRATCH_NS+=("$P-b") # removed by teardown if this test fails half way
	inhost sl-egress apply "$P-1" --drop 192.168.1.0/24 >/dev/null
	SL_RUN_DIR=$b vm_net_up "$P-b" 169.254.104.0/22 --drop 192.168.1.0/24
	before=$(host_rules | grep 169.254.100.0/22)
	[ "$(grep -c . <<<"$before")" = 7 ]
	grep -qF -- "--comment \"sl:169.254.100.0/22 $SL_RUN_DIR\"" <<<"$before"
	SL_RUN_DIR=$b inhost sl-gc >/dev/null
	[ "$(host_rules | grep 169.254.100.0/22)" = "$before" ]
	SL_RUN_DIR=$b vm_net_down "$P-b"
	[ -z "$(host_rules | grep 169.254.104.0/22)" ]
	[ "$(host_rules | grep 169.254.100.0/22)" = "$before" ]
	SL_RUN_DIR=$b inhost sl-gc >/dev/null
	[ "$(host_rules | grep 169.254.100.0/22)" = "$before" ]
	# this run's own gc still finds this run's orphans: rules of a range nobody uses
	inhost sl-egress flush "$P-1"
	inhost iptables-legacy -N SL-FORWARD 2>/dev/null || true
	inhost iptables-legacy -A SL-FORWARD -s 169.254.200.0/22 -m comment --comment "sl:169.254.200.0/22 $SL_RUN_DIR" -j ACCEPT
	inhost sl-gc | grep -q "host rules of range 169.254.200.0/22"
	[ -z "$(host_rules | grep 169.254.200.0/22)" ]
}

@test "the run dir's daemon ends with its last VM's flush: a flush racing it is answered, never cut" {
	# VM 2 has no rules: its flush only tells the daemon to let it go; when
	# that comes in as VM 1's flush ends the daemon, it used to find the
	# connection closed unanswered ("sl-egressd: no answer", 4 in 100 here)
	local i
	for i in $(seq 150); do
		inhost sl-egress apply "$P-1" --drop 10.0.0.0/8 >/dev/null
		inhost sl-egress flush "$P-1" >"$BATS_TEST_TMPDIR/1" 2>&1 &
		local p1=$!
		inhost sl-egress flush "$P-2" >"$BATS_TEST_TMPDIR/2" 2>&1 &
		local p2=$!
		wait "$p1" || { cat "$BATS_TEST_TMPDIR/1"; false; }
		wait "$p2" || { cat "$BATS_TEST_TMPDIR/2"; false; }
	done
	# and it goes with the last VM (just after answering it): no socket, no pid file
	for i in $(seq 50); do
		[ -e "$SL_RUN_DIR/egressd.sock" ] || [ -e "$SL_RUN_DIR/egressd.pid" ] || break
		sleep 0.02
	done
	[ ! -e "$SL_RUN_DIR/egressd.sock" ] && [ ! -e "$SL_RUN_DIR/egressd.pid" ] || false
}
