#!/usr/bin/env bats
# The supervisor parses bytes from a hostile guest. A fake "QEMU" speaks for
# the guest on the agent port: it answers the handshake, then sends garbage.
# The supervisor must log it, fail the channel cleanly, resynchronise, and
# serve the next request.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	setup_host
	require python3
	vm_net_up "$P-1" 169.254.100.0/22
	FAKE="$BATS_TEST_TMPDIR/qemu-system-fake"
	cat >"$FAKE" <<'PY'
#!/usr/bin/env python3
import os, struct, sys, time
fd = 6
mode = os.environ.get("FAKE_MODE", "garbage")
def frame(t, ch, data=b""):
    return struct.pack(">HBBII", 0x534C, t, 0, ch, len(data)) + data
buf = b""
def next_frame():
    global buf
    while True:
        if len(buf) >= 12:
            magic, t, fl, ch, n = struct.unpack(">HBBII", buf[:12])
            if len(buf) >= 12 + n:
                f = (t, ch, buf[12:12 + n]); buf = buf[12 + n:]; return f
        d = os.read(fd, 65536)
        if not d: sys.exit(0)
        buf += d
def handshake():
    while True:
        t, ch, data = next_frame()
        if t == 1:
            os.write(fd, frame(1, 0, data)); return
handshake()
if mode == "mute":
    # An agent that hangs after the handshake: reads everything, answers nothing.
    while True: next_frame()
# First request: answer with a malformed frame (bad magic, then an oversized length).
t, ch, data = next_frame()
while t != 2: t, ch, data = next_frame()
bad = b"\xde\xad\xbe\xef" if mode == "garbage" else struct.pack(">HBBII", 0x534C, 4, 0, ch, 0x7fffffff)
os.write(fd, bad + b"\x00" * 64)
# The supervisor says hello again: answer it, then serve properly.
handshake()
while True:
    t, ch, data = next_frame()
    if t == 2:
        os.write(fd, frame(4, ch, b"recovered\n") + frame(6, ch, b"\x00\x00"))
PY
	chmod +x "$FAKE"
}
teardown() {
	inhost sl-boot stop "$P-1" --timeout 1 2>/dev/null || true
	teardown_host
}

@test "garbage from the guest: logged, the channel fails, the supervisor survives and serves" {
	for mode in garbage oversized; do
		inhost env SL_QEMU="$FAKE" FAKE_MODE=$mode sl-boot start "$P-1" --timeout 20 >"$BATS_TEST_TMPDIR/start"
		. "$BATS_TEST_TMPDIR/start"
		run inhost timeout 20 sl-exec "$P-1" -- echo hi
		[ "$status" -eq 255 ]
		grep -q "malformed frame" <<<"$output"
		kill -0 "$SL_PID"
		grep -q "malformed data from the guest" "$SL_RUN_DIR/$P-1/supervisor.log"
		# after the resync the next request is served
		for _ in $(seq 1 50); do
			out=$(inhost timeout 20 sl-exec "$P-1" -- echo hi 2>/dev/null) && break
			sleep 0.1
		done
		[ "$out" = recovered ]
		inhost sl-boot stop "$P-1" --timeout 1
		! pid_alive "$SL_PID" || false
	done
}

@test "an agent that stops answering: sl-exec says so (255) after SL_AGENT_TIMEOUT, not never" {
	SL_AGENT_TIMEOUT=0 assert_usage_error "bad SL_AGENT_TIMEOUT '0'" inhost sl-boot start "$P-1"
	inhost env SL_QEMU="$FAKE" FAKE_MODE=mute SL_AGENT_TIMEOUT=3 sl-boot start "$P-1" --timeout 20 >/dev/null
	run timeout 30 nsenter --net="/run/netns/$HOST" sl-exec "$P-1" -- sleep 1
	[ "$status" -eq 255 ]
	grep -q "the guest agent stopped answering" <<<"$output"
	grep -q "the guest agent did not answer for" "$SL_RUN_DIR/$P-1/supervisor.log"
}

@test "copy-out's unpacker, which reads the guest's tar stream, runs with no capability and no new privileges" {
	local pid st w dir="$BATS_TEST_TMPDIR/unpack"
	mkdir -m 0700 "$dir"
	# a stream that never comes: sl-unpack waits in its first read (a FIFO
	# we hold open for writing, read-write so that opening it does not block)
	mkfifo "$BATS_TEST_TMPDIR/stream"
	exec {w}<>"$BATS_TEST_TMPDIR/stream" # (not fd 3: bats' own)
	"$TOP/libexec/sl-unpack" "$dir" loot 1000 10 <"$BATS_TEST_TMPDIR/stream" &
	pid=$!
	for _ in $(seq 50); do
		grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$pid/status" 2>/dev/null && break
		sleep 0.1
	done
	st=$(cat "/proc/$pid/status")
	kill "$pid"
	exec {w}>&-
	echo "$st" | grep -E "^(Uid|Cap|NoNewPrivs)" >&2
	grep -q "^NoNewPrivs:[[:space:]]*1$" <<<"$st"
	grep -q "^CapEff:[[:space:]]*0000000000000000$" <<<"$st"
	grep -q "^CapPrm:[[:space:]]*0000000000000000$" <<<"$st"
	grep -q "^CapBnd:[[:space:]]*0000000000000000$" <<<"$st"
	# bad use: 2, one line
	run -2 "$TOP/libexec/sl-unpack" "$dir" loot 1k 10
	[ "${#lines[@]}" -eq 1 ]
	grep -q "usage: sl-unpack DIR ROOT MAX_BYTES MAX_ENTRIES" <<<"$output"
}
