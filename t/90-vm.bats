#!/usr/bin/env bats
# The microVM layer: one real VM (QEMU microvm, TCG here) on the network the
# tools made, in a scratch host; sl-exec through its agent.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	setup_host
	export P HOST SL_RUN_DIR
	VM="$P-1"
	export VM
	vm_net_up "$VM" 169.254.100.0/22
	inhost sl-boot start "$VM" >"$BATS_FILE_TMPDIR/start.out"
}
teardown_file() {
	export BATS_TEST_TMPDIR=$BATS_FILE_TMPDIR
	SCRATCH_NS=("$HOST")
	for n in "$VM" "$P-2" "$P-3" "$P-5"; do inhost sl-boot stop "$n" --timeout 5 2>/dev/null || true; done
	teardown_host
}

@test "start printed SL_PID SL_QEMU_PID SL_AGENT SL_CONSOLE; status says running" {
	. "$BATS_FILE_TMPDIR/start.out"
	[ -S "$SL_AGENT" ]
	[ "$(stat -c %a "$SL_AGENT")" = 600 ]
	kill -0 "$SL_PID" && kill -0 "$SL_QEMU_PID" || false
	tr '\0' ' ' <"/proc/$SL_PID/cmdline" | grep -q "supervise $VM"
	# QEMU runs inside the VM's namespace, where its TAP is
	[ "$(readlink "/proc/$SL_QEMU_PID/ns/net")" = "$(ip netns exec "$VM" readlink /proc/self/ns/net)" ]
	# the supervisor is double-forked into a session of its own, not our child
	[ "$(ps -o sid= -p "$SL_PID" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	[ "$(ps -o ppid= -p "$SL_PID" | tr -d ' ')" != "$$" ]
	run inhost sl-boot status "$VM"
	[ "$status" -eq 0 ]
	grep -qx "SL_STATE=running" <<<"$output"
}

@test "exit statuses: true 0, false 1, exit 2, exit 7, kill -9 137" {
	inhost sl-exec "$VM" -- true
	run inhost sl-exec "$VM" -- false
	[ "$status" -eq 1 ]
	run inhost sl-exec "$VM" -- sh -c 'exit 2'
	[ "$status" -eq 2 ]
	run inhost sl-exec "$VM" -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run inhost sl-exec "$VM" -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	run -127 inhost sl-exec "$VM" -- /no/such/command
}

@test "10 MB of random bytes through cat come back identical" {
	head -c 10000000 /dev/urandom >"$BATS_TEST_TMPDIR/r"
	inhost sl-exec "$VM" -- cat <"$BATS_TEST_TMPDIR/r" >"$BATS_TEST_TMPDIR/back"
	cmp "$BATS_TEST_TMPDIR/r" "$BATS_TEST_TMPDIR/back"
	# EOF on stdin reaches the guest: wc ends and counts it all
	[ "$(inhost sl-exec "$VM" -- wc -c <"$BATS_TEST_TMPDIR/r" | tr -d ' ')" = 10000000 ]
}

@test "stdout and stderr stay separate; --env, --cwd, --user" {
	inhost sl-exec "$VM" -- sh -c 'echo to-out; echo to-err >&2' >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e"
	[ "$(cat "$BATS_TEST_TMPDIR/o")" = to-out ]
	[ "$(cat "$BATS_TEST_TMPDIR/e")" = to-err ]
	[ "$(inhost sl-exec -e FOO=bar --env X=1 "$VM" -- sh -c 'echo $FOO$X')" = bar1 ]
	[ "$(inhost sl-exec "$VM" --cwd /tmp -- pwd)" = /tmp ]
	[ "$(inhost sl-exec "$VM" --user nobody -- id -u)" = 65534 ]
	# without "--", the command's own options stay its own
	[ "$(inhost sl-exec "$VM" echo -n x)" = x ]
}

@test "8 sl-exec at once all succeed" {
	for i in $(seq 1 8); do
		inhost sl-exec "$VM" -- sh -c "sleep 1; echo run-$i" >"$BATS_TEST_TMPDIR/p$i" &
	done
	wait
	for i in $(seq 1 8); do [ "$(cat "$BATS_TEST_TMPDIR/p$i")" = "run-$i" ]; done
}

@test "a file and a directory copied in and back out match, modes kept" {
	local d="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$d/sub/deeper"
	head -c 300000 /dev/urandom >"$d/sub/blob"
	echo hello >"$d/a.txt"
	printf '#!/bin/sh\necho hi\n' >"$d/sub/deeper/run.sh"
	chmod 0751 "$d/sub/deeper/run.sh"
	chmod 0600 "$d/a.txt"
	inhost sl-exec cp "$d" "$VM:/root/"
	inhost sl-exec cp "$d/sub/blob" "$VM:/tmp/blob.copy"
	[ "$(inhost sl-exec "$VM" -- /root/tree/sub/deeper/run.sh)" = hi ]
	[ "$(inhost sl-exec "$VM" -- stat -c %a /root/tree/a.txt)" = 600 ]
	mkdir "$BATS_TEST_TMPDIR/out"
	inhost sl-exec cp "$VM:/root/tree" "$BATS_TEST_TMPDIR/out/"
	inhost sl-exec cp "$VM:/tmp/blob.copy" "$BATS_TEST_TMPDIR/out/blob"
	(cd "$d" && find . -type f -exec sha256sum {} + | sort) >"$BATS_TEST_TMPDIR/s1"
	(cd "$BATS_TEST_TMPDIR/out/tree" && find . -type f -exec sha256sum {} + | sort) >"$BATS_TEST_TMPDIR/s2"
	diff "$BATS_TEST_TMPDIR/s1" "$BATS_TEST_TMPDIR/s2"
	cmp "$d/sub/blob" "$BATS_TEST_TMPDIR/out/blob"
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/out/tree/sub/deeper/run.sh")" = 751 ]
	# a bad copy is an error, not a silent success
	run inhost sl-exec cp "$VM:/no/such/file" "$BATS_TEST_TMPDIR/out/x"
	[ "$status" -ne 0 ]
	# copy-out unpacks in libexec/sl-unpack: sl-exec itself loads no libarchive
	ldd "$TOP/libexec/sl-unpack" | grep -q libarchive
	! ldd "$TOP/bin/sl-exec" | grep -q libarchive || false
	SL_LIBEXEC_DIR="$BATS_TEST_TMPDIR" run -1 inhost sl-exec cp "$VM:/root/tree" "$BATS_TEST_TMPDIR/none"
	grep -q "no sl-unpack at $BATS_TEST_TMPDIR/sl-unpack: run make, or set SL_LIBEXEC_DIR: nothing copied" <<<"$output"
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	[ -z "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name '.sl-cp.*')" ]
}

# Nothing special, set-id or foreign-owned may appear anywhere under $1.
assert_tame_tree() {
	local bad
	bad=$(find "$1" \( ! -type f ! -type d ! -type l \) -o -perm /7000 -o ! -user 0 -o ! -group 0)
	[ -z "$bad" ] || { echo "unsafe on the host: $bad" >&2; return 1; }
}

@test "copy-out: a device node, a FIFO, set-id bits and foreign owners never reach the host" {
	local out="$BATS_TEST_TMPDIR/co"
	mkdir -p "$out"
	inhost sl-exec "$VM" -- sh -c 'set -e; mkdir -p /root/loot /root/suid /root/fifo
		mknod /root/loot/mem c 1 1; chmod 0666 /root/loot/mem
		cp /bin/busybox /root/loot/sh; chmod 4755 /root/loot/sh
		cp /bin/busybox /root/suid/sh; chmod 6755 /root/suid/sh; chmod 1777 /root/suid
		echo x >/root/suid/theirs; chown 1234:1234 /root/suid/theirs
		mkfifo /root/fifo/pipe; ln -s /dev/zero /root/zero'
	# a device node anywhere in the tree: the whole copy is refused, nothing left
	run -1 inhost timeout 60 sl-exec cp "$VM:/root/loot" "$out/"
	grep -q "loot/mem: a character device: nothing copied" <<<"$output"
	[ -z "$(ls -A "$out")" ]
	# set-id, sticky and a foreign owner: copied, as root's, without the bits
	inhost timeout 60 sl-exec cp "$VM:/root/suid" "$out/"
	[ "$(stat -c %a "$out/suid/sh")" = 755 ]
	[ "$(stat -c %a "$out/suid")" = 777 ]
	[ "$(cat "$out/suid/theirs")" = x ]
	assert_tame_tree "$out"
	# a FIFO, a link to /dev/zero, /dev/zero itself: refused at once, not a hang
	run -1 inhost timeout 60 sl-exec cp "$VM:/root/fifo" "$out/"
	grep -q "fifo/pipe: a FIFO" <<<"$output"
	run -1 inhost timeout 60 sl-exec cp "$VM:/root/zero" "$out/"
	grep -q "zero: a link to '/dev/zero', which is not inside the copy" <<<"$output"
	run -1 inhost timeout 60 sl-exec cp "$VM:/dev/zero" "$out/"
	grep -q "zero: a character device" <<<"$output"
	[ "$(ls -A "$out")" = suid ]
	assert_tame_tree "$out"
}

@test "copy-out: links stay inside the copy; --max-size bounds it" {
	local out="$BATS_TEST_TMPDIR/cl"
	mkdir -p "$out"
	inhost sl-exec "$VM" -- sh -c 'set -e; mkdir -p /root/in/sub /root/esc /root/big
		echo data >/root/in/sub/f; ln -s sub/f /root/in/l; ln -s ../in/sub /root/in/sub/up
		ln /root/in/sub/f /root/in/hard
		ln -s ../../etc /root/esc/l
		head -c 2000000 /dev/urandom >/root/big/f'
	inhost timeout 60 sl-exec cp "$VM:/root/in" "$out/"
	[ "$(readlink "$out/in/l")" = sub/f ]
	[ "$(cat "$out/in/l")" = data ]
	[ "$(cat "$out/in/hard")" = data ]
	run -1 inhost timeout 60 sl-exec cp "$VM:/root/esc" "$out/"
	grep -q "esc/l: a link to '../../etc', which is not inside the copy" <<<"$output"
	run -1 inhost timeout 60 sl-exec cp --max-size 1M "$VM:/root/big" "$out/"
	grep -q "more than 1048576 bytes in all: nothing copied" <<<"$output"
	inhost timeout 60 sl-exec cp --max-size 3M "$VM:/root/big" "$out/"
	[ "$(stat -c %s "$out/big/f")" = 2000000 ]
	[ "$(ls -A "$out" | sort | tr '\n' ' ')" = "big in " ]
}

@test "copy-out: a guest whose tar sends crafted members writes nothing outside the copy" {
	local out="$BATS_TEST_TMPDIR/cc" t="$BATS_TEST_TMPDIR/tars"
	mkdir -p "$out/dst" "$t"
	python3 - "$t" "$out" <<'PY'
import io, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
def mk(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.GNU_FORMAT) as tf:
        for m in members:
            ti = tarfile.TarInfo(m[1]); data = b""
            if m[0] == "dir": ti.type = tarfile.DIRTYPE; ti.mode = 0o755
            elif m[0] == "file": data = b"pwned\n"; ti.size = len(data); ti.mode = 0o644
            elif m[0] == "sym": ti.type = tarfile.SYMTYPE; ti.linkname = m[2]
            elif m[0] == "hard": ti.type = tarfile.LNKTYPE; ti.linkname = m[2]
            tf.addfile(ti, io.BytesIO(data))
mk("dotdot", [("dir", "loot"), ("file", "loot/../../escaped")])
mk("abs", [("dir", "loot"), ("file", out + "/escaped")])
mk("other", [("dir", "loot"), ("file", "other/escaped")])
mk("through", [("dir", "loot"), ("sym", "loot/l", "."), ("file", "loot/l/x"),
               ("sym", "loot/m", "sub/../.."), ("file", "loot/m/escaped")])
mk("outlink", [("dir", "loot"), ("sym", "loot/l", "../.."), ("file", "loot/l/escaped")])
mk("hardout", [("dir", "loot"), ("hard", "loot/h", "/etc/passwd")])
PY
	for a in dotdot abs other through outlink hardout; do
		inhost sl-exec cp "$t/$a.tar" "$VM:/root/$a.tar"
	done
	for a in dotdot abs other through outlink hardout; do
		# the guest's root replaces tar with one that sends the crafted stream
		inhost sl-exec "$VM" -- sh -c "rm /bin/tar; printf '#!/bin/sh\ncat /root/$a.tar\n' >/bin/tar; chmod 755 /bin/tar; mkdir -p /root/loot"
		run -1 inhost timeout 60 sl-exec cp "$VM:/root/loot" "$out/dst/"
		grep -q "nothing copied" <<<"$output" || { echo "$a: $output" >&2; false; }
		[ -z "$(find "$out" -name escaped -o -name x -o -name h)" ]
		[ -z "$(ls -A "$out/dst")" ]
	done
	[ -z "$(find "$out" -mindepth 1 ! -path "$out/dst")" ]
	inhost sl-exec "$VM" -- sh -c 'rm /bin/tar; ln -s busybox /bin/tar'
}

@test "copy-out: a copy that differs from the guest's file at the last check is not left in place" {
	local out="$BATS_TEST_TMPDIR/cd"
	mkdir -p "$out"
	# the guest's tar sends a decoy of the same name: a valid archive, other bytes
	inhost sl-exec "$VM" -- sh -c 'mkdir -p /root/decoy && echo real >/root/f && echo decoy >/root/decoy/f &&
		rm /bin/tar && printf "#!/bin/sh\nexec busybox tar -C /root/decoy -cf - -- f\n" >/bin/tar && chmod 755 /bin/tar'
	run -1 inhost timeout 60 sl-exec cp "$VM:/root/f" "$out/f"
	echo "$output"
	grep -q "differs from it" <<<"$output"
	[ ! -e "$out/f" ]
	[ -z "$(ls -A "$out")" ]
	inhost sl-exec "$VM" -- sh -c 'rm /bin/tar; ln -s busybox /bin/tar'
	inhost sl-exec cp "$VM:/root/f" "$out/f"
	[ "$(cat "$out/f")" = real ]
}

@test "a forwarded port carries HTTP to busybox httpd in the guest, many at once" {
	inhost sl-exec "$VM" -- sh -c 'mkdir -p /www && echo from-the-guest >/www/index.html && httpd -p 8080 -h /www'
	inhost sl-exec forward "$VM" 127.0.0.1:18080:127.0.0.1:8080 2>"$BATS_TEST_TMPDIR/fwd.err" &
	local fwd=$!
	for _ in $(seq 1 50); do inhost busybox nc -z 127.0.0.1 18080 && break; sleep 0.1; done
	for i in 1 2 3 4 5 6; do
		inhost timeout 10 busybox wget -q -O "$BATS_TEST_TMPDIR/w$i" http://127.0.0.1:18080/ &
	done
	wait %2 %3 %4 %5 %6 %7
	kill "$fwd"
	for i in 1 2 3 4 5 6; do [ "$(cat "$BATS_TEST_TMPDIR/w$i")" = from-the-guest ]; done
}

@test "a pty: window size carried, Ctrl-C reaches the foreground job" {
	run inhost script -qec "stty rows 33 cols 111; sl-exec -t $VM -- stty size" /dev/null
	grep -q "33 111" <<<"$output"
	run inhost bash -c "(sleep 2; printf '\\003') | sl-exec -t $VM -- sh -c 'trap \"echo got-int; exit 3\" INT; echo ready; sleep 20 & wait'"
	[ "$status" -eq 3 ]
	grep -q got-int <<<"$output"
}

@test "the console log holds the kernel's boot lines" {
	grep -q "Linux version" "$SL_RUN_DIR/$VM/console.log"
	run inhost sl-exec console "$VM"
	grep -q "Command line: .*ip=169.254.100.2::169.254.100.1" <<<"$output"
}

@test "the VM's network: its address, its gateway, no IPv6" {
	run inhost sl-exec "$VM" -- ip -4 addr show eth0
	grep -q "inet 169.254.100.2/30" <<<"$output"
	run inhost sl-exec "$VM" -- ip route
	grep -q "default via 169.254.100.1" <<<"$output"
	run inhost sl-exec "$VM" -- cat /proc/net/if_inet6
	[ "$status" -ne 0 ] || [ -z "$output" ]
	# Slicer's default name servers, with no --dns
	[ "$(inhost sl-exec "$VM" -- cat /etc/resolv.conf)" = "$(printf 'nameserver 8.8.8.8\nnameserver 1.1.1.1')" ]
}

@test "start of a busy name, or with a missing kernel: exit 2, nothing more running" {
	# this file's QEMUs only: other lanes start and stop theirs meanwhile
	local before
	before=$(pgrep -c -f "qemu-system.*-name $P-" || true)
	assert_usage_error "$VM is running already" inhost sl-boot start "$VM"
	vm_net_up "$P-2" 169.254.100.0/22
	assert_usage_error "kernel '/no/such/vmlinuz'" inhost sl-boot start "$P-2" --kernel /no/such/vmlinuz
	assert_usage_error "unknown: no SL_IP" inhost sl-boot start "$P-9"
	[ "$(pgrep -c -f "qemu-system.*-name $P-" || true)" = "$before" ]
	[ ! -e "$SL_RUN_DIR/$P-2/agent.sock" ]
	run inhost sl-boot status "$P-2"
	[ "$status" -eq 1 ]
}

@test "a guest that comes up with no timer stops itself and is booted again; three such boots: exit 1, nothing left" {
	local fault="$BATS_TEST_DIRNAME/../bin/.sl-boot-fault"
	vm_net_up "$P-5" 169.254.108.0/22
	# the first boot's guest without its local APIC timer (what TCG leaves a
	# few guests on a busy host): its /init stops it, sl-boot boots again
	run --separate-stderr inhost env SL_FAULT="notimer:$P-5" "$fault" start "$P-5"
	[ "$status" -eq 0 ]
	[ "$(grep -c "^.*: $P-5: the guest came up without a timer (TCG on a busy host); booting it again$" <<<"$stderr")" = 1 ]
	# said in its output and kept in its state: a run's retries are counted
	grep -qx "SL_BOOTS=2" <<<"$output"
	grep -qx "SL_BOOTS=2" "$SL_RUN_DIR/$P-5/vm.env"
	# the guest that answered keeps time: its sleep ends (bounded from the host)
	timeout 30 nsenter --net="/run/netns/$HOST" sl-exec "$P-5" -- sleep 0.2
	inhost sl-boot stop "$P-5"
	run --separate-stderr inhost env SL_FAULT="notimer-always:$P-5" "$fault" start "$P-5"
	[ "$status" -eq 1 ]
	[ "$(grep -c "booting it again$" <<<"$stderr")" = 2 ]
	grep -q "^.*: $P-5: boot failed: the guest came up without a timer 3 times" <<<"$stderr"
	grep -q "sl-init: no timer on a CPU" <<<"$stderr" # the console's tail
	! pgrep -f "qemu-system.*-name $P-5 " || false
	! pgrep -f "sl-supervise $P-5 " || false
	run inhost sl-boot status "$P-5"
	[ "$status" -eq 1 ]
	vm_net_down "$P-5"
}

@test "console input the guest does not read never stalls the supervisor for other clients" {
	# 4 MB at the serial port, which nothing in the guest reads
	(exec timeout 20 nsenter --net="/run/netns/$HOST" sl-exec console --attach "$VM" \
		< <(head -c 4000000 /dev/zero) >/dev/null 2>&1 3>&-) &
	local flood=$!
	sleep 2
	run timeout 10 nsenter --net="/run/netns/$HOST" sl-exec "$VM" -- echo alive
	kill "$flood" 2>/dev/null || true
	wait "$flood" || true
	[ "$output" = alive ]
}

@test "128 idle connections to the agent socket do not lock out sl-exec" {
	. "$BATS_FILE_TMPDIR/start.out"
	(exec timeout 30 python3 -c '
import socket, sys, time
held = []
for _ in range(128):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
open(sys.argv[2], "w").close()
time.sleep(25)
' "$SL_AGENT" "$BATS_TEST_TMPDIR/held" </dev/null >/dev/null 2>&1 3>&-) &
	local idle=$!
	# all 128 connected (on a busy host that takes a while), then idle past
	# the supervisor's 2 s
	for _ in $(seq 100); do [ -e "$BATS_TEST_TMPDIR/held" ] && break; sleep 0.2; done
	[ -e "$BATS_TEST_TMPDIR/held" ]
	sleep 3
	run timeout 10 nsenter --net="/run/netns/$HOST" sl-exec "$VM" -- echo alive
	kill "$idle" 2>/dev/null || true
	wait "$idle" || true
	[ "$output" = alive ]
	grep -q "128 connections: closing one idle" "$SL_RUN_DIR/$VM/supervisor.log"
}

@test "the console log is capped: a guest flooding its console fills two logs of SL_CONSOLE_MAX at most" {
	vm_net_up "$P-3" 169.254.104.0/22
	SL_CONSOLE_MAX=1k assert_usage_error "bad SL_CONSOLE_MAX '1k'" inhost sl-boot start "$P-3"
	SL_CONSOLE_MAX=65536 inhost sl-boot start "$P-3" >/dev/null
	local d="$SL_RUN_DIR/$P-3"
	# 400 KB through the serial console, as a hostile guest would (~1 s under TCG)
	inhost sl-exec "$P-3" -- sh -c 'for i in $(seq 50); do head -c 8000 /dev/zero | tr "\0" x >/dev/console; done'
	[ "$(stat -c %s "$d/console.log")" -le 65536 ]
	[ "$(stat -c %s "$d/console.log.1")" -le 65536 ]
	[ "$(stat -c %s "$d/console.log.1")" -gt 32768 ]
	grep -q "console log reached 65536 bytes: rotated to .*console.log.1, [1-9][0-9]* bytes dropped so far" "$d/supervisor.log"
	run inhost sl-exec console "$P-3"
	[ "${#output}" -le 131072 ]
	grep -q xxxxxxxx <<<"$output"
	inhost sl-boot stop "$P-3"
	vm_net_down "$P-3"
}

@test "a disk whose path holds commas reaches the guest; a silent command outlives SL_AGENT_TIMEOUT" {
	vm_net_up "$P-3" 169.254.104.0/22
	local disk="$BATS_TEST_TMPDIR/a,format=qcow2,b.img"
	{ printf 'sltools-disk-mark'; head -c 1048576 /dev/zero; } >"$disk"
	inhost env SL_AGENT_TIMEOUT=2 sl-boot start "$P-3" --disk "$disk" >/dev/null
	run inhost sl-exec "$P-3" -- head -c 17 /dev/vda
	[ "$output" = sltools-disk-mark ]
	# silent for three timeouts: the agent answers the supervisor's pings
	run inhost sl-exec "$P-3" -- sh -c 'sleep 6; echo done'
	[ "$status" -eq 0 ]
	[ "$output" = done ]
	inhost sl-boot stop "$P-3"
	vm_net_down "$P-3"
}

@test "kill -9 of a supervisor takes its QEMU with it; status says not running" {
	vm_net_up "$P-3" 169.254.104.0/22
	inhost sl-boot start "$P-3" >"$BATS_TEST_TMPDIR/start3.out"
	local sup qemu
	sup=$(sed -n 's/^SL_PID=//p' "$BATS_TEST_TMPDIR/start3.out")
	qemu=$(sed -n 's/^SL_QEMU_PID=//p' "$BATS_TEST_TMPDIR/start3.out")
	pid_alive "$qemu"
	kill -9 "$sup"
	for _ in $(seq 20); do pid_alive "$qemu" || break; sleep 0.1; done
	! pid_alive "$qemu" || false
	run inhost sl-boot status "$P-3"
	[ "$status" -eq 1 ]
	inhost sl-boot stop "$P-3"
	vm_net_down "$P-3"
}

@test "stop leaves no QEMU and no supervisor; stop twice is fine" {
	. "$BATS_FILE_TMPDIR/start.out"
	inhost sl-boot stop "$VM"
	! pid_alive "$SL_PID" || false
	! pid_alive "$SL_QEMU_PID" || false
	[ ! -e "$SL_AGENT" ]
	inhost sl-boot stop "$VM"
	run inhost sl-exec "$VM" -- true
	[ "$status" -eq 255 ]
	grep -q "is not running" <<<"$output"
	grep -q "reboot: Power down" "$SL_RUN_DIR/$VM/console.log"
}
