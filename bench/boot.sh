#!/bin/bash
# Boot and agent figures, side by side in one run, inside a scratch host:
#  - bare QEMU booting the project's kernel and initramfs (same command line
#    sl-boot uses, agent port not connected) until the init's marker line;
#  - sl-boot start until the agent has answered;
#  - sl-exec NAME true round trip, against the guest's own time to run true;
#  - sl-exec of 100 MB through cat (MB/s);
#  - the supervisor's RSS.
# Usage: bench/boot.sh [RUNS]   (default 5). Run as root after `make`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
tag=bb
. "$top/bench/one-vm.sh"
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# QEMU's command line as sl-boot builds it, with the agent port left unconnected.
inhost sl-boot start "$vm" >/dev/null 2>&1
qpid=$(cat "$SL_RUN_DIR/$vm/qemu.pid")
mapfile -d '' qargs <"/proc/$qpid/cmdline"
inhost sl-boot stop "$vm" >/dev/null
for i in "${!qargs[@]}"; do
	case ${qargs[$i]} in socket,id=agent,fd=*) qargs[$i]=null,id=agent ;; esac
done

bare=() sl=()
for r in $(seq 1 "$runs"); do
	t0=$(now)
	coproc Q { exec ip netns exec "$vm" "${qargs[@]}" </dev/null 2>&1; }
	while IFS= read -r line <&"${Q[0]}"; do
		case $line in *"sl-init: ready"*) break ;; esac
	done
	t1=$(now)
	kill "$Q_PID"
	wait "$Q_PID" || true
	inhost sl-boot start "$vm" >/dev/null 2>&1
	t2=$(now)
	bare+=($((t1 - t0))) sl+=($((t2 - t1)))
	if [ "$r" -lt "$runs" ]; then inhost sl-boot stop "$vm" >/dev/null; fi
done
bmed=$(printf '%s\n' "${bare[@]}" | median)
smed=$(printf '%s\n' "${sl[@]}" | median)

# Round trip: 21 runs of sl-exec true; the guest's own time for one true.
# sl-exec needs no namespace (the agent socket is a file): run it from here.
rt=()
for _ in $(seq 1 21); do
	t0=$(now); sl-exec "$vm" -- true; t1=$(now); rt+=($((t1 - t0)))
done
rtmed=$(printf '%s\n' "${rt[@]}" | median)
t0=$(now); inhost sl-exec "$vm" -- sh -c 'i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done'; t1=$(now)
t2=$(now); inhost sl-exec "$vm" -- sh -c 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); done'; t3=$(now)
guest_true=$(( ((t1 - t0) - (t3 - t2)) / 100 ))
# The local side alone: starting sl-exec and connecting, without a guest.
t0=$(now); for _ in $(seq 1 21); do sl-exec "nosuchvm-1" -- true 2>/dev/null || true; done; t1=$(now)
local_start=$(( (t1 - t0) / 21 ))

# 100 MB through cat.
head -c 100000000 /dev/zero | tr '\0' 'x' >"$SL_RUN_DIR/blob"
t0=$(now)
sl-exec "$vm" -- cat <"$SL_RUN_DIR/blob" | cmp - "$SL_RUN_DIR/blob"
t1=$(now)
mbs=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", 100 / (ns / 1e9) }')
sup=$(cat "$SL_RUN_DIR/$vm/supervisor.pid")
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$sup/status")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$sup/status")

echo "runs: $runs, accelerator: $(inhost sl-boot status "$vm" >/dev/null; grep -o 'SL_ACCEL=.*' "$SL_RUN_DIR/$vm/vm.env")"
printf 'boot, bare QEMU to the init marker (median): %s ms   [%s]\n' "$(ms "$bmed")" "$(for v in "${bare[@]}"; do printf '%s ' "$(ms "$v")"; done)"
printf 'boot, sl-boot start to the agent   (median): %s ms   [%s]\n' "$(ms "$smed")" "$(for v in "${sl[@]}"; do printf '%s ' "$(ms "$v")"; done)"
awk -v a="$smed" -v b="$bmed" 'BEGIN { printf "sl-boot / bare: %.2fx\n", a / b }'
printf 'sl-exec true round trip (median of 21): %s ms; the guest running true: %s ms; sl-exec start-up alone: %s ms\n' \
	"$(ms "$rtmed")" "$(ms "$guest_true")" "$(ms "$local_start")"
printf 'round trip beyond the guest'"'"'s own time: %s ms\n' "$(ms $((rtmed - guest_true)))"
printf 'sl-exec cat of 100 MB: %s MB/s\n' "$mbs"
printf 'supervisor RSS: %s KiB (peak %s KiB)\n' "$rss" "$hwm"
