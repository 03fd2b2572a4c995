# Shared by every t/*.bats. Each test gets its own scratch "host" namespace
# and its own SL_RUN_DIR; nothing touches the real host's links, routes,
# sysctls or firewall (docs/DESIGN.md §7). teardown removes everything, also
# after a failure.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
export PATH="$TOP/bin:$PATH"
# t/mutants.sh puts a mutant tool first, to prove the tests can fail.
[ -z "${SL_TEST_MUTANT:-}" ] || export PATH="$TOP/t/mutants/$SL_TEST_MUTANT:$PATH"

# The sanitizer pass (.ci/run) runs the suite with LeakSanitizer off: its
# check at each exit costs ~0.1-0.3 s a process here, most of the pass. The
# files in SL_LEAK_CHECK (basenames) turn it back on; together they run
# every tool, daemon and error path at least once.
if [ -n "${SL_LEAK_CHECK:-}" ] && [[ " $SL_LEAK_CHECK " == *" $(basename "$BATS_TEST_FILENAME" .bats) "* ]]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS//detect_leaks=0/detect_leaks=1}"
fi

# In CI a test that cannot run fails instead of skipping.
require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || {
			echo "missing $c: run 'make deps'" >&2
			return 1
		}
	done
}

# Short unique names: names up to 15 bytes are their own interface names,
# which most tests look for; t/25-names and t/30-veth test longer ones.
# With t/run -j, each lane's names start with its own digit, so files
# running at once never draw the same prefix.
uniq_prefix() {
	printf 't%x%03x%02x' $((${SL_TEST_LANE:-0} % 16)) $((RANDOM % 4096)) $((BATS_TEST_NUMBER % 256))
}

# Who made each scratch namespace: /run/sltools-tests/NAME says the
# maker's pid, its start time and run dir. A run killed with SIGKILL (a CI
# run cut short) gets no teardown; the next test's setup_host removes what
# such a run left: the namespaces whose maker is gone, with the VM
# namespaces of its run dir and what runs in them. Nothing another live
# run made is touched.
SL_TEST_OWNERS=/run/sltools-tests
start_time() { # start_time PID: its start in clock ticks since boot, or nothing
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}
claim_ns() { # claim_ns NAME: this test's process made it (setup_file's: the file's)
	local me=$BASHPID # not in $(...): that is a subshell of its own
	mkdir -p -m 700 "$SL_TEST_OWNERS"
	# written whole, then renamed: a sweep never reads a half-written record
	echo "$me $(start_time "$me") ${SL_RUN_DIR:-}" >"$SL_TEST_OWNERS/.$1.$me"
	mv "$SL_TEST_OWNERS/.$1.$me" "$SL_TEST_OWNERS/$1"
}
drop_ns() { # drop_ns NAME: end what runs in it, delete it
	ip netns pids "$1" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$1" 2>/dev/null || true
	rm -f "$SL_TEST_OWNERS/$1"
}
sweep_dead_ns() {
	local f pid st run n
	for f in "$SL_TEST_OWNERS"/*; do
		[ -e "$f" ] || continue
		read -r pid st run <"$f" || true
		[ -n "$st" ] && [ "$(start_time "$pid")" = "$st" ] && continue
		echo "t/helpers: removing $(basename "$f"), left by a run that is gone (its maker $pid, started $st, is not: $(start_time "$pid"))" >&2
		if [ -n "$run" ]; then
			for n in $(SL_RUN_DIR=$run owned_netns); do drop_ns "$n"; done
		fi
		drop_ns "$(basename "$f")"
	done
}

# setup_host: make the scratch host namespace and export what tools need.
setup_host() {
	[ "$(id -u)" = 0 ] || { echo "tests need root" >&2; return 1; }
	require ip iptables-legacy nsenter bats busybox
	sweep_dead_ns
	P=$(uniq_prefix)
	HOST="${P}h"
	export SL_RUN_DIR="$BATS_TEST_TMPDIR/run"
	SCRATCH_NS=("$HOST")
	ip netns add "$HOST"
	claim_ns "$HOST"
	ip -n "$HOST" link set lo up
	# The scratch host forwards, like a real VM host must.
	inhost sysctl -qw net.ipv4.ip_forward=1
}

# Run a command inside the scratch host.
inhost() {
	nsenter --net="/run/netns/$HOST" "$@"
}
# setup_file of a file whose tests share one scratch host, a LAN, an
# internet and four VMs' networks, named $P-$1 to $P-$4: the first two may
# reach the internet, the third the LAN, the fourth nothing.
file_vms_up() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	setup_host
	setup_lan_internet
	export P HOST SL_RUN_DIR LAN NET
	vm_net_up "$P-$1" 169.254.100.0/22 --allow 203.0.113.0/24
	vm_net_up "$P-$2" 169.254.100.0/22 --allow 203.0.113.0/24
	vm_net_up "$P-$3" 169.254.100.0/22 --allow 198.51.100.0/24
	vm_net_up "$P-$4" 169.254.100.0/22
}
# teardown_file of file_vms_up: the VMs named stopped, the host gone.
file_vms_down() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	SCRATCH_NS=("$HOST" "$LAN" "$NET")
	for n in "$@"; do inhost sl-boot stop "$n" --timeout 2 2>/dev/null || true; done
	teardown_host
}
# vm_is_itself VM: a (restored) VM's guest holds its own lease, gateway,
# name and MAC (made of its address), one address only, the host's clock
# within a second; and on the wire, its TAP's side learnt its MAC.
vm_is_itself() {
	local c=$1 ip gw mac out now t
	ip=$(lease "$c" IP) gw=$(lease "$c" GW)
	# shellcheck disable=SC2086 # the address's four numbers
	mac=$(printf '06:00:%02x:%02x:%02x:%02x' ${ip//./ })
	out=$(in_vm "$c" -- sh -c 'hostname; ip -4 -o addr show eth0; ip route show default; cat /sys/class/net/eth0/address')
	echo "$out"
	[ "$(sed -n 1p <<<"$out")" = "$c" ] && [ "$(grep -c ' inet ' <<<"$out")" = 1 ] &&
		grep -q "inet $ip/30 " <<<"$out" && grep -q "^default via $gw dev eth0" <<<"$out" &&
		[ "$(tail -1 <<<"$out")" = "$mac" ] || return 1
	in_vm "$c" -- ping -c 1 -W 1 "$gw" >/dev/null || true
	inhost ip -n "$c" -j neigh show "$ip" | jq -e --arg m "$mac" '.[0].lladdr == $m' >/dev/null || return 1
	now=$(date +%s) t=$(in_vm "$c" -- date +%s)
	[ $((t - now)) -le 1 ] && [ $((now - t)) -le 1 ]
}
lease() { sed -n "s/^SL_$2=//p" "$SL_RUN_DIR/$1/vm.env"; } # lease VM KEY: its SL_KEY
in_vm() { inhost sl-exec "$@"; }

# A further scratch namespace (LAN, internet, a foreign one), removed in teardown.
scratch_ns() {
	ip netns add "$1"
	claim_ns "$1"
	SCRATCH_NS+=("$1")
	ip -n "$1" link set lo up
}

# Join scratch namespace $1 to the host: host side $2/$3 (e.g. 198.51.100.1/24),
# namespace side $4/$3, default route back to the host.
join_ns() {
	local ns=$1 hostip=$2 plen=$3 nsip=$4 hif="${1:0:11}-h"
	ip -n "$HOST" link add "$hif" type veth peer name eth0 netns "$ns"
	ip -n "$HOST" addr add "$hostip/$plen" dev "$hif"
	ip -n "$HOST" link set "$hif" up
	ip -n "$ns" addr add "$nsip/$plen" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via "$hostip"
}

# A scratch "LAN" (198.51.100.0/24: .10 and .11) and "internet"
# (203.0.113.0/24: .10) joined to the host, each with a busybox httpd on
# port 80. The internet has no route back: only masqueraded replies return.
setup_lan_internet() {
	LAN="${P}l" NET="${P}i"
	scratch_ns "$LAN"; join_ns "$LAN" 198.51.100.1 24 198.51.100.10
	ip -n "$LAN" addr add 198.51.100.11/24 dev eth0
	scratch_ns "$NET"; join_ns "$NET" 203.0.113.1 24 203.0.113.10
	ip -n "$NET" route del default
	local ns
	for ns in "$LAN" "$NET"; do
		mkdir -p "$BATS_TEST_TMPDIR/www-$ns"
		echo "hello from $ns" >"$BATS_TEST_TMPDIR/www-$ns/index.html"
		ip netns exec "$ns" busybox httpd -p 80 -h "$BATS_TEST_TMPDIR/www-$ns"
	done
}

# A config file from stdin: cfg NAME <<< YAML prints its path.
cfg() {
	templated >"$BATS_TEST_TMPDIR/$1.yaml"
	echo "$BATS_TEST_TMPDIR/$1.yaml"
}

# use_templates: from here on the test's configs (cfg, example, slicer)
# give each host group template: true, kept in the run's shared store
# (SL_TEMPLATE_DIR: t/run's SL_TEST_TEMPLATES, else this bats run's), so
# that a VM of the suite boots cold only where the test is about booting:
# the suite's first group of each shape (kernel, initrd, QEMU, vCPUs,
# memory, DHCP or not) makes the template, every later one is restored
# from it.
use_templates() {
	[ -z "${SL_TEST_COLD:-}" ] || return 0 # bench/suite.sh: the same tests, every VM cold
	export SL_TEMPLATE_DIR="${SL_TEST_TEMPLATES:-$BATS_RUN_TMPDIR/templates}"
	TEMPLATED=1
}

# A config on stdin to stdout, after use_templates with template: true in
# each host group; one that says template or has a disk is left as it is.
templated() {
	local y
	y=$(cat)
	if [ -z "${TEMPLATED:-}" ] || grep -qE '^ *(template|disk_file):' <<<"$y"; then
		printf '%s\n' "$y"
		return
	fi
	awk '/^ *host_groups:/ { groups = 1 }
	     { print }
	     groups && /^ *- name:/ { match($0, /^ */); printf "%*s  template: true\n", RLENGTH, "" }' <<<"$y"
}

# template_pair NAME <<< NETWORK: a config of one group $G of two VMs with
# template: true (the second restored from the first), the group's network
# keys on stdin, indented as under the group; prints its path.
template_pair() {
	{
		printf 'config:\n  host_groups:\n  - name: %s\n    count: 2\n    template: true\n' "$G"
		cat
	} | cfg "$1"
}

# Take down what every config a test wrote brought up (in teardown).
down_configs() {
	local c
	for c in "$BATS_TEST_TMPDIR"/*.yaml; do
		[ -e "$c" ] && inhost sl-up down "$c" >/dev/null 2>&1 || true
	done
}

# The scratch host's links of this run dir's VMs of one kind (veth, port,
# macvtap): "IFNAME VM" per line, the VM's name from the alias.
host_ends() {
	inhost ip -j link show | jq -r --arg t "sltools:$SL_RUN_DIR $1 " \
		'.[] | select((.ifalias // "") | startswith($t)) | .ifname + " " + (.ifalias | ltrimstr($t))'
}

# Everything in /run/netns that carries our owner tag for this SL_RUN_DIR.
owned_netns() {
	local n a
	for n in $(ls /run/netns 2>/dev/null); do
		a=$(ip -n "$n" -j link show lo 2>/dev/null | grep -o '"ifalias":"[^"]*"' || true)
		# the run dir's VMs', and its spare clones' (a run dir of their own)
		[ "$a" = "\"ifalias\":\"sltools:$SL_RUN_DIR\"" ] ||
			[ "$a" = "\"ifalias\":\"sltools:$SL_RUN_DIR/.spares\"" ] && echo "$n"
	done
	return 0
}

teardown_host() {
	local n f
	if [ -n "${SL_RUN_DIR:-}" ]; then
		# VMs a failed test left running: stop them by their recorded pids
		for f in "$SL_RUN_DIR"/*/supervisor.pid; do
			[ -e "$f" ] || continue
			n=$(basename "$(dirname "$f")")
			sl-boot stop "$n" --timeout 2 >/dev/null 2>&1 || true
		done
		for f in "$SL_RUN_DIR"/.spares/*/supervisor.pid; do
			[ -e "$f" ] || continue
			n=$(basename "$(dirname "$f")")
			SL_RUN_DIR=$SL_RUN_DIR/.spares sl-boot stop "$n" --timeout 2 >/dev/null 2>&1 || true
		done
		# what runs in a VM's namespace (its resolver) is ours to end
		for n in $(owned_netns); do drop_ns "$n"; done
	fi
	for n in "${SCRATCH_NS[@]}"; do drop_ns "$n"; done
	rm -rf "${SL_RUN_DIR:-/nonexistent}"
}

# The one-line error every bad input must give: exit 2, one line on stderr,
# nothing on stdout.
assert_usage_error() {
	local want=$1; shift
	local out err rc
	out=$("$@" 2>"$BATS_TEST_TMPDIR/err") && rc=0 || rc=$?
	err=$(cat "$BATS_TEST_TMPDIR/err")
	if [ "$rc" != 2 ] || [ -n "$out" ] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ] ||
		! grep -q -- "$want" <<<"$err"; then
		echo "command: $*" >&2
		echo "exit $rc (want 2); stdout: '$out'; stderr: '$err' (want one line with '$want')" >&2
		return 1
	fi
}

# Snapshot of everything a tool could create, for "nothing left behind".
kernel_state() {
	# namespaces this test could have made (others on the machine come and go)
	{ owned_netns; ls /run/netns 2>/dev/null | grep -E "^(${P}|${G:-$P})" || true; } | sort -u
	inhost ip -o link show | awk -F': ' '{print $2}' | sort
	inhost ip -4 route show
	inhost iptables-legacy -S
	inhost iptables-legacy -t nat -S
	find "$SL_RUN_DIR" -name vm.env 2>/dev/null || true
	cat "$SL_RUN_DIR/ipam/leases" 2>/dev/null || true
	return 0
}

# Bring up the network of VM $1 in range $2 with the tools, by hand.
vm_net_up() {
	local name=$1 range=$2
	shift 2
	inhost sl-ipam alloc --range "$range" "$name" >/dev/null &&
	inhost sl-netns add "$name" >/dev/null &&
	inhost sl-veth add "$name" >/dev/null &&
	inhost sl-tap add "$name" >/dev/null &&
	inhost sl-egress apply "$name" "$@" >/dev/null
}

vm_net_down() {
	local name=$1
	inhost sl-egress flush "$name" &&
	inhost sl-tap del "$name" &&
	inhost sl-veth del "$name" &&
	inhost sl-netns del "$name" &&
	inhost sl-ipam release "$name"
}

# jq-free JSON field reads from ip -j: field NAME of the first object.
json_field() {
	grep -o "\"$1\":\"[^\"]*\"" | head -n1 | cut -d'"' -f4
}

# A live process (a zombie waiting for its reaper does not count). One read
# of its stat: a process that goes between a check and the read is gone,
# not alive.
pid_alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# up_foreground CONFIG: sl-up CONFIG in the foreground (in the background of
# the test), its output in $BATS_TEST_TMPDIR/up.log; returns once all VMs
# are up, the pid (nsenter's) in $UP_PID.
up_foreground() {
	inhost sl-up "$1" >"$BATS_TEST_TMPDIR/up.log" 2>&1 &
	UP_PID=$!
	for _ in $(seq 1 600); do
		grep -q "Ctrl-C or SIGTERM" "$BATS_TEST_TMPDIR/up.log" && break
		sleep 0.2
	done
	grep -q "up; Ctrl-C" "$BATS_TEST_TMPDIR/up.log"
}

# standin NAME: bring up NAME's network with the tools (no sl-tap), and a
# "VM" namespace NAMEv on a veth called tap0 with the VM's address.
standin() {
	local name=$1; shift
	local vm="${name}v"
	inhost sl-ipam alloc --range 169.254.100.0/22 "$name" >/dev/null
	inhost sl-netns add "$name" >/dev/null
	inhost sl-veth add "$name" >/dev/null
	eval "$(inhost sl-ipam alloc --range 169.254.100.0/22 "$name")"
	scratch_ns "$vm"
	ip -n "$name" link add tap0 type veth peer name eth0 netns "$vm"
	ip -n "$name" addr add "$SL_GW/30" dev tap0
	ip -n "$name" link set tap0 up
	ip -n "$vm" addr add "$SL_IP/30" dev eth0
	ip -n "$vm" link set eth0 up
	ip -n "$vm" route add default via "$SL_GW"
	inhost sl-egress apply "$name" "$@" >/dev/null
}

# none_succeed CMD...: each CMD (a string, for eval) run at once in the
# background; fails, naming them, if any succeeded. For probes that must
# time out: N of them cost one timeout, not N.
none_succeed() {
	local c pids=() bad=0 i=0
	for c in "$@"; do
		eval "$c" </dev/null >/dev/null 2>&1 &
		pids+=($!)
	done
	for c in "$@"; do
		if wait "${pids[$i]}"; then
			echo "succeeded, and must not have: $c" >&2
			bad=1
		fi
		i=$((i + 1))
	done
	return $bad
}

reach() { # reach VMNS URL-host
	ip netns exec "$1" timeout 4 busybox wget -q -O - "http://$2/" >/dev/null 2>&1
}

# log_start VM FILE [--json]: sl-egress log -f in the background, its pid in LOG_PID
log_start() {
	local vm=$1 file=$2; shift 2
	# exec all the way: $! is then the listener itself, to be killed by pid
	(exec nsenter --net="/run/netns/$HOST" sl-egress log -f "$@" "$vm" >"$file" 2>&1) &
	LOG_PID=$!
	sleep 0.5
}
wait_logged() { # wait_logged VM PATTERN: a line in what sl-egress log prints
	for _ in $(seq 1 50); do inhost sl-egress log "$1" 2>&1 | grep -q -- "$2" && return 0; sleep 0.1; done
	echo "no line '$2' in:" >&2; inhost sl-egress log "$1" >&2
	return 1
}
wait_line() { # wait_line FILE PATTERN
	for _ in $(seq 1 50); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
	echo "no line '$2' in:" >&2; cat "$1" >&2
	return 1
}

# dns_server: dnsmasq in the internet (setup_lan_internet) on 203.0.113.10:
# allowed.test .10, blocked.test .20, alias.allowed.test a CNAME to
# target.other.test .11, meta.allowed.test the clouds' metadata address;
# under ok.test, names that point where a name must not open: rebind (the
# LAN's .10), cname (a CNAME to lan.other.test, the LAN's .11), private
# (10.1.0.10), loop (127.0.0.1), and good (the internet's .10); TTL
# $DNS_TTL (default 300); the internet gets .11 and .20 too. Its pid in
# DNSMASQ_PID.
dns_server() {
	ip -n "$NET" addr replace 203.0.113.11/24 dev eth0
	ip -n "$NET" addr replace 203.0.113.20/24 dev eth0
	(exec ip netns exec "$NET" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--bind-interfaces --listen-address=203.0.113.10 --port=53 --pid-file= --user=root \
		--host-record=allowed.test,203.0.113.10,"${DNS_TTL:-300}" \
		--host-record=blocked.test,203.0.113.20,"${DNS_TTL:-300}" \
		--host-record=target.other.test,203.0.113.11,"${DNS_TTL:-300}" \
		--host-record=meta.allowed.test,169.254.169.254,"${DNS_TTL:-300}" \
		--cname=alias.allowed.test,target.other.test \
		--host-record=rebind.ok.test,198.51.100.10,"${DNS_TTL:-300}" \
		--host-record=lan.other.test,198.51.100.11,"${DNS_TTL:-300}" \
		--cname=cname.ok.test,lan.other.test \
		--host-record=private.ok.test,10.1.0.10,"${DNS_TTL:-300}" \
		--host-record=loop.ok.test,127.0.0.1,"${DNS_TTL:-300}" \
		--host-record=good.ok.test,203.0.113.10,"${DNS_TTL:-300}" \
		--host-record=short.ok.test,203.0.113.10,2 \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/dnsmasq.log" 3>&-) &
	DNSMASQ_PID=$!
	for _ in $(seq 1 50); do
		ip netns exec "$NET" "$TOP/t/dnsq.py" 203.0.113.10 allowed.test >/dev/null && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/dnsmasq.log" >&2
	return 1
}

# example FILE GROUP: the example with its group renamed and its LAN scratch
example() {
	sed -e "s/name: agents/name: $2/; s/name: review/name: $2/; s/name: sandbox/name: $2/" \
		-e 's#192.168.1.0/24#198.51.100.0/24#g; s#10.0.0.0/8#198.51.100.11/32#g' \
		-e 's#192.168.1.10:#198.51.100.10:#g' \
		"$TOP/examples/$1" | templated >"$BATS_TEST_TMPDIR/$2.yaml"
	echo "$BATS_TEST_TMPDIR/$2.yaml"
}

# stopped_at PID: wait until the process stopped itself (SIGSTOP at its
# SL_FAULT point); then a kill -9 lands exactly there
stopped_at() {
	for _ in $(seq 600); do
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ] && return 0
		pid_alive "$1" || return 1
		sleep 0.05
	done
	return 1
}
killed_at() { # killed_at POINT VM ARGS...: sl-boot ARGS killed -9 at POINT
	local pid
	# not through inhost: $! must be the tool (nsenter execs it), not a subshell
	nsenter --net="/run/netns/$HOST" env SL_FAULT="$1:$2" \
		"$BATS_TEST_DIRNAME/../bin/.sl-boot-fault" "${@:3}" >/dev/null 2>&1 &
	pid=$!
	stopped_at "$pid" || { kill -9 "$pid"; wait "$pid"; return 1; } # never left stopped
	kill -9 "$pid"
	wait "$pid" || true
}
