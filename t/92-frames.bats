#!/usr/bin/env bats
# The client's frame reader: frames from the supervisor arrive in pieces of
# any size (a stand-in supervisor splits them byte by byte).

load helpers

setup() {
	export SL_RUN_DIR="$BATS_TEST_TMPDIR/run"
	mkdir -m 0700 -p "$SL_RUN_DIR/fr-1"
	FAKE=
}
# a stand-in that no client reached still waits in accept(): ours to end
teardown() {
	[ -z "$FAKE" ] || kill "$FAKE" 2>/dev/null || true
}

# fake_supervisor SPLIT: serve fr-1's agent socket once: wait for the
# client's first frame, then send STDOUT frames "one." "two." "three." in
# pieces of SPLIT bytes, then an EXIT or close.
fake_supervisor() {
	python3 - "$SL_RUN_DIR/fr-1/agent.sock" "$1" <<'PY' &
import socket, struct, sys, time
path, split = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(1)
c, _ = s.accept()
c.recv(12)
frames = b"".join(struct.pack(">HBBII", 0x534c, 4, 0, 0, len(p)) + p for p in (b"one.", b"two.", b"three."))
for i in range(0, len(frames), split):
    c.sendall(frames[i:i + split]); time.sleep(0.01)
time.sleep(0.2)
c.close()
PY
	FAKE=$!
	for _ in $(seq 1 50); do [ -S "$SL_RUN_DIR/fr-1/agent.sock" ] && return; sleep 0.1; done
}

@test "console --attach: frames split at every byte come out whole, once, in order" {
	for split in 1 5 13 100; do
		rm -f "$SL_RUN_DIR/fr-1/agent.sock"
		fake_supervisor "$split"
		out=$(sleep 3 | timeout 10 sl-exec console --attach fr-1)
		# it ends once it served the client (bounded: a client that never
		# came leaves it in accept)
		for _ in $(seq 1 50); do pid_alive "$FAKE" || break; sleep 0.1; done
		if pid_alive "$FAKE"; then echo "split $split: no client reached the supervisor" >&2; false; fi
		wait "$FAKE"
		[ "$out" = "one.two.three." ] || { echo "split $split: got '$out'" >&2; false; }
	done
}
