#!/bin/bash
# Clones against cold boots, side by side in one run, inside a scratch host:
#  1. sl-boot start of one VM, cold (RUNS times) and restored from a
#     snapshot of a template (RUNS times): medians to the agent answering,
#     their ratio, the first and third sl-exec after a restore, and where
#     a restore's time goes (QEMU to its monitor, loading the state, the
#     agent's first answer, the identity: sl-boot's SL_DEBUG lines); and
#     taking a spare of the snapshot (sl-boot spare, made beforehand) instead;
#  2. N clones alive at once, each in its own namespace: all restored, every
#     agent answering sl-exec true, PSS of each clone's QEMU against a cold
#     VM's, and the CPU an idle clone takes over 10 s;
#  3. sl-up -d of a group of N: cold, against template: true with the
#     template kept (wall time to every agent answering);
#  4. sl-up fork of a group's VM booted cold, of its clone (a kept
#     template's) and of that clone's fork, RUNS times each: to the fork's
#     agent answering, each fork's PSS and what of its snapshot it keeps;
#  5. sl-up launch of a kept template's group, restored against taking a
#     spare (spares: 1), RUNS each: to launch's return and its first command.
# Usage: bench/clone.sh [RUNS] [N] [SECTIONS]   (defaults 5, 16, 12345). Run as
# root after `make`. Section 3 boots N VMs cold at once: mind the memory.
# The run dir is on tmpfs (/dev/shm), as a host's /run is (not here).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$top/bin:$PATH"
runs=${1:-5} n=${2:-16} sections=${3:-12345}
host="slclone$$" p="cl$(($$ % 1000))"
export SL_RUN_DIR
SL_RUN_DIR=$(mktemp -d /dev/shm/sl-bench.XXXXXX) # tmpfs, as /run is on a host
snap="$SL_RUN_DIR.snap"
vms=("$p-t" "$p-c")
for i in $(seq 1 "$n"); do vms+=("$p-$i"); done
cleanup() {
	inhost sl-boot spare "$snap" --stop >/dev/null 2>&1 || true
	for v in "${vms[@]}"; do
		inhost sl-boot stop "$v" --timeout 1 >/dev/null 2>&1 || true
		ip netns pids "$v" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$v" 2>/dev/null || true
	done
	ip netns pids "$host" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$SL_RUN_DIR" "$snap"
}
trap cleanup EXIT
inhost() { nsenter --net="/run/netns/$host" "$@"; }
now() { date +%s%N; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.0f", ns / 1e6 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
pss() { inhost sl-boot status "$1" | sed -n 's/^SL_PSS_KB=//p'; }
net_up() {
	inhost sl-ipam alloc --range 169.254.96.0/20 "$1" >/dev/null
	inhost sl-netns add "$1" >/dev/null
	inhost sl-veth add "$1" >/dev/null
	inhost sl-tap add "$1" >/dev/null
	inhost sl-egress apply "$1" --allow 203.0.113.0/24 >/dev/null
}

ip netns add "$host"
inhost sysctl -qw net.ipv4.ip_forward=1
for v in "${vms[@]}"; do net_up "$v"; done

# 1. one VM: cold, then restored
t="$p-t" c="$p-c"
inhost sl-boot start "$t" >/dev/null 2>&1
inhost sl-boot snapshot "$t" "$snap" >"$SL_RUN_DIR/snap.out"
cold=() warm=() first=() later=() mon=() loaded=() answered=() identity=()
# step_ms FILE WORDS: the +N ms of sl-boot's debug line that holds WORDS
step_ms() { sed -n "s/^sl-boot: debug: +\([0-9]*\) ms: .*$2.*/\1/p" "$1" | head -1; }
for _ in $(seq 1 "$runs"); do
	t0=$(now)
	inhost sl-boot start "$c" >/dev/null 2>&1
	cold+=($(($(now) - t0)))
	cold_pss=$(pss "$c")
	inhost sl-boot stop "$c" --timeout 2 >/dev/null
done
for _ in $(seq 1 "$runs"); do
	t0=$(now)
	SL_DEBUG=1 inhost sl-boot start "$c" --from "$snap" >/dev/null 2>"$SL_RUN_DIR/debug"
	t1=$(now)
	sl-exec "$c" -- true
	t2=$(now)
	sl-exec "$c" -- true
	t3=$(now)
	sl-exec "$c" -- true
	warm+=($((t1 - t0))) first+=($((t2 - t1))) later+=($(($(now) - t3)))
	mon+=("$(step_ms "$SL_RUN_DIR/debug" "monitor answers")")
	loaded+=("$(step_ms "$SL_RUN_DIR/debug" "state loaded")")
	answered+=("$(step_ms "$SL_RUN_DIR/debug" "agent answered")")
	identity+=("$(step_ms "$SL_RUN_DIR/debug" "took its identity")")
	inhost sl-boot stop "$c" --timeout 2 >/dev/null
done
# a spare made beforehand, settled for a second: start --from takes it
spared=() sfirst=() sident=() stook=() staking=() stap=()
for _ in $(seq 1 "$runs"); do
	inhost sl-boot spare "$snap" >/dev/null 2>&1
	sleep 1
	t0=$(now)
	SL_DEBUG=1 inhost sl-boot start "$c" --from "$snap" >"$SL_RUN_DIR/out" 2>"$SL_RUN_DIR/debug"
	t1=$(now)
	sl-exec "$c" -- true
	spared+=($((t1 - t0))) sfirst+=($(($(now) - t1)))
	grep -q '^SL_SPARE=' "$SL_RUN_DIR/out" || { echo "no spare taken" >&2; exit 1; }
	sident+=("$(step_ms "$SL_RUN_DIR/debug" "took its identity")")
	stook+=("$(step_ms "$SL_RUN_DIR/debug" "took spare")")
	staking+=("$(step_ms "$SL_RUN_DIR/debug" "taking spare")")
	stap+=("$(step_ms "$SL_RUN_DIR/debug" "TAP is the VM")")
	inhost sl-boot stop "$c" --timeout 2 >/dev/null
done
smed=$(printf '%s\n' "${spared[@]}" | median)
cmed=$(printf '%s\n' "${cold[@]}" | median)
wmed=$(printf '%s\n' "${warm[@]}" | median)
fmed=$(printf '%s\n' "${first[@]}" | median)
echo "== one VM, $runs runs each (medians)"
printf '  %-44s %8s ms\n' "cold: sl-boot start to the agent" "$(ms "$cmed")"
printf '  %-44s %8s ms\n' "restored: sl-boot start --from to the agent" "$(ms "$wmed")"
printf '  %-44s %8s ms\n' "then the first sl-exec true" "$(ms "$fmed")"
printf '  %-44s %8s ms\n' "the third sl-exec true (code translated)" \
	"$(ms "$(printf '%s\n' "${later[@]}" | median)")"
echo "  a restore's steps, ms since sl-boot started (SL_DEBUG):"
printf '    %-42s %8s ms\n' "QEMU's monitor answers" "$(printf '%s\n' "${mon[@]}" | median)" \
	"its state loaded, the guest runs" "$(printf '%s\n' "${loaded[@]}" | median)" \
	"the agent answered" "$(printf '%s\n' "${answered[@]}" | median)" \
	"the guest took its identity" "$(printf '%s\n' "${identity[@]}" | median)"
printf '  %-44s %8s\n' "ratio cold / restored" "$(awk -v a="$cmed" -v b="$wmed" 'BEGIN { printf "%.1fx", a / b }')"
printf '  %-44s %8s ms\n' "from a spare: start --from to the agent" "$(ms "$smed")" \
	"  a spare found, locked (SL_DEBUG)" "$(printf '%s\n' "${staking[@]}" | median)" \
	"  its TAP the VM's" "$(printf '%s\n' "${stap[@]}" | median)" \
	"  its supervisor and files the VM's" "$(printf '%s\n' "${stook[@]}" | median)" \
	"  the identity taken (SL_DEBUG)" "$(printf '%s\n' "${sident[@]}" | median)" \
	"then the first sl-exec true" "$(ms "$(printf '%s\n' "${sfirst[@]}" | median)")"
printf '  %-44s %8s\n' "ratio cold / from a spare" "$(awk -v a="$cmed" -v b="$smed" 'BEGIN { printf "%.1fx", a / b }')" \
	"ratio restored / from a spare" "$(awk -v a="$wmed" -v b="$smed" 'BEGIN { printf "%.1fx", a / b }')"
sed -n 's/^SL_PAUSED_MS=/  template paused for the snapshot (ms)          /p; s/^SL_STATE_BYTES=/  device state (bytes)                          /p' \
	"$SL_RUN_DIR/snap.out"

# Where a restore's time goes: QEMU alone, from exec to answering QMP.
qmon=$(python3 - "$snap/memory" "$runs" <<'PY'
import subprocess, sys, time
mem, runs = sys.argv[1], int(sys.argv[2])
args = ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on,memory-backend=mem",
        "-object", "memory-backend-file,id=mem,size=256M,mem-path=%s,share=off" % mem,
        "-accel", "tcg", "-cpu", "max", "-m", "256", "-nodefaults", "-no-user-config",
        "-display", "none", "-incoming", "defer", "-qmp", "stdio"]
t = []
for _ in range(runs):
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    p.stdout.readline()
    p.stdin.write(b'{"execute":"qmp_capabilities"}\n'); p.stdin.flush()
    p.stdout.readline()
    t.append(time.monotonic() - t0)
    p.kill(); p.wait()
print(int(sorted(t)[len(t) // 2] * 1e9))
PY
)
printf '  %-44s %8s ms\n' "of which QEMU alone, exec to QMP answering" "$(ms "$qmon")"

# 2. N clones at once
t0=$(now)
for i in $(seq 1 "$n"); do inhost sl-boot start "$p-$i" --from "$snap" >/dev/null 2>&1; done
t1=$(now)
ok=0
for i in $(seq 1 "$n"); do sl-exec "$p-$i" -- true && ok=$((ok + 1)); done
declare -a pids
tot=0
for i in $(seq 1 "$n"); do
	k=$(pss "$p-$i")
	tot=$((tot + k))
	pids+=("$(cat "$SL_RUN_DIR/$p-$i/qemu.pid")")
done
ticks() { local s=0 x; for x in "${pids[@]}"; do s=$((s + $(awk '{ print $14 + $15 }' "/proc/$x/stat"))); done; echo "$s"; }
c0=$(ticks); sleep 10; c1=$(ticks)
hz=$(getconf CLK_TCK)
echo "== $n clones at once"
printf '  %-44s %8s ms\n' "all $n restored, one after another" "$(ms $((t1 - t0)))"
printf '  %-44s %8s\n' "agents answering sl-exec true" "$ok/$n"
printf '  %-44s %8s MB\n' "PSS of a clone's QEMU (mean)" "$((tot / n / 1024))"
printf '  %-44s %8s MB\n' "PSS of a cold VM's QEMU" "$((cold_pss / 1024))"
printf '  %-44s %8s\n' "ratio cold / clone" "$(awk -v a="$cold_pss" -v b="$((tot / n))" 'BEGIN { printf "%.1fx", a / b }')"
printf '  %-44s %8s %%\n' "idle CPU per clone (of one CPU, over 10 s)" \
	"$(awk -v d=$((c1 - c0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.1f", 100 * d / hz / 10 / n }')"

# 3. sl-up of a group of N: cold, and from a kept template
if [[ $sections == *3* ]]; then
for i in $(seq 1 "$n"); do inhost sl-boot stop "$p-$i" --timeout 1 >/dev/null 2>&1 || true; done
grp="u$(($$ % 1000))"
for i in $(seq 1 "$n"); do vms+=("$grp-$i"); done
for t in false true; do
	cat >"$SL_RUN_DIR/$t.yaml" <<EOF
config:
  host_groups:
    - name: $grp
      count: $n
      template: $t
      network:
        mode: isolated
        range: 169.254.112.0/22
        allow: [203.0.113.0/24]
EOF
done
upall() { # upall true|false: "ns to sl-up's return, ns to every sl-exec true after"
	local t0 t1 t2
	t0=$(now)
	inhost sl-up -d ${SL_BENCH_JOBS:+-j "$SL_BENCH_JOBS"} "$SL_RUN_DIR/$1.yaml" >/dev/null 2>&1
	t1=$(now)
	for i in $(seq 1 "$n"); do sl-exec "$grp-$i" -- true & done
	wait
	t2=$(now)
	inhost sl-up down "$SL_RUN_DIR/$1.yaml" >/dev/null 2>&1
	echo $((t1 - t0)) $((t2 - t0))
}
read -r upcold upcold2 < <(upall false)
upall true >/dev/null # makes the template
read -r uptpl uptpl2 < <(upall true)
echo "== sl-up -d of a group of $n (it returns once every agent answered)"
printf '  %-44s %8s ms\n' "cold" "$(ms "$upcold")"
printf '  %-44s %8s ms\n' "template: true, template kept" "$(ms "$uptpl")"
printf '  %-44s %8s\n' "ratio" "$(awk -v a="$upcold" -v b="$uptpl" 'BEGIN { printf "%.1fx", a / b }')"
printf '  %-44s %8s\n' "ratio, to every VM's first sl-exec true done" \
	"$(awk -v a="$upcold2" -v b="$uptpl2" 'BEGIN { printf "%.1fx", a / b }')"
fi

# 4. sl-up fork
if [[ $sections == *4* ]]; then
fg="f$(($$ % 1000))"
for i in $(seq 1 $((3 * runs + 2))); do vms+=("$fg-$i"); done
# a kept template: $fg-1 boots cold and is snapshotted, $fg-2 is its clone
cat >"$SL_RUN_DIR/fork.yaml" <<EOF
config:
  host_groups:
    - name: $fg
      count: 2
      template: true
      network:
        mode: isolated
        range: 169.254.116.0/22
        allow: [203.0.113.0/24]
EOF
inhost sl-up -d "$SL_RUN_DIR/fork.yaml" >/dev/null 2>&1
for v in "$fg-1" "$fg-2"; do # guests that used their memory
	inhost sl-exec "$v" -- sh -c 'head -c 64000000 /dev/urandom >/tmp/fill'
done
forks=() firsts=() cforks=() ffs=() next=3
# what of a fork's snapshot stays while it runs (a memory file: memory too)
kept() { du -sk "$SL_RUN_DIR/.forks/$1" | cut -f1; }
fork_of() { # fork_of VM: ns to sl-up fork's return; the fork is $fg-$next
	local t0
	t0=$(now)
	inhost sl-up fork "$SL_RUN_DIR/fork.yaml" "$1" >/dev/null 2>&1
	echo $(($(now) - t0))
}
for _ in $(seq 1 "$runs"); do
	forks+=($(fork_of "$fg-1"))
	t1=$(now)
	sl-exec "$fg-$next" -- true
	firsts+=($(($(now) - t1)))
	cold_pss=$(pss "$fg-$next") cold_kept=$(kept "$fg-$next")
	next=$((next + 1))
	cforks+=($(fork_of "$fg-2"))
	clone_pss=$(pss "$fg-$next") clone_kept=$(kept "$fg-$next")
	next=$((next + 1))
	# a fork of that fork: of a VM itself restored from a fork's snapshot
	ffs+=($(fork_of "$fg-$((next - 1))"))
	ff_pss=$(pss "$fg-$next") ff_kept=$(kept "$fg-$next")
	next=$((next + 1))
done
echo "== sl-up fork (guests holding 64 MB of written memory in 256 MB; it returns"
echo "   once the fork's agent answered and took its identity)"
echo "  each run (ms): cold $(for t in "${forks[@]}"; do ms "$t"; echo -n ' '; done)," \
	"clone $(for t in "${cforks[@]}"; do ms "$t"; echo -n ' '; done)," \
	"fork's fork $(for t in "${ffs[@]}"; do ms "$t"; echo -n ' '; done)"
printf '  %-52s %8s ms\n' "of a VM booted cold" "$(ms "$(printf '%s\n' "${forks[@]}" | median)")"
printf '  %-52s %8s ms\n' "then the fork's first sl-exec true" "$(ms "$(printf '%s\n' "${firsts[@]}" | median)")"
printf '  %-52s %8s ms\n' "of a clone of a kept template" \
	"$(ms "$(printf '%s\n' "${cforks[@]}" | median)")"
printf '  %-52s %8s ms\n' "of that fork (a fork of a fork)" "$(ms "$(printf '%s\n' "${ffs[@]}" | median)")"
printf '  %-52s %8s KB\n' "PSS: a fork of the cold VM" "$cold_pss"
printf '  %-52s %8s KB\n' "  and its snapshot's files, kept while it runs" "$cold_kept"
printf '  %-52s %8s KB\n' "PSS: a fork of the clone" "$clone_pss"
printf '  %-52s %8s KB\n' "  and its snapshot's files, kept while it runs" "$clone_kept"
printf '  %-52s %8s KB\n' "PSS: the fork of a fork" "$ff_pss"
printf '  %-52s %8s KB\n' "  and its snapshot's files, kept while it runs" "$ff_kept"
inhost sl-up down "$SL_RUN_DIR/fork.yaml" >/dev/null 2>&1
fi

# 5. sl-up launch of a kept template's group: restored, against taking a
# spare (spares: 1, topped up by sl-up spares between launches, untimed)
if [[ $sections == *5* ]]; then
lg="l$(($$ % 1000))"
for i in $(seq 1 $((2 * runs + 1))); do vms+=("$lg-$i"); done
cat >"$SL_RUN_DIR/launch.yaml" <<EOF
config:
  host_groups:
    - name: $lg
      count: 1
      template: true
      spares: 1
      network:
        mode: isolated
        range: 169.254.124.0/22
        allow: [203.0.113.0/24]
EOF
inhost sl-up -d "$SL_RUN_DIR/launch.yaml" >/dev/null 2>&1
lspare=() lsfirst=() lplain=() lpfirst=() k=2
launch_one() { # "ns to launch's return, ns to its first sl-exec true, spare|plain"
	local t0 t1 t2 took v="$lg-$k"
	t0=$(now)
	inhost sl-up launch "$SL_RUN_DIR/launch.yaml" "$lg" >/dev/null 2>&1
	t1=$(now)
	sl-exec "$v" -- true
	t2=$(now)
	took=plain
	! grep -q '^SL_SPARE=' "$SL_RUN_DIR/$v/vm.env" || took=spare
	echo $((t1 - t0)) $((t2 - t1)) "$took"
}
for _ in $(seq 1 "$runs"); do
	sleep 1
	read -r a b took < <(launch_one)
	[ "$took" = spare ] || { echo "launch of $lg-$k took no spare" >&2; exit 1; }
	lspare+=("$a") lsfirst+=("$b") k=$((k + 1))
	read -r a b took < <(launch_one)
	[ "$took" = plain ] || { echo "launch of $lg-$k took a spare" >&2; exit 1; }
	lplain+=("$a") lpfirst+=("$b") k=$((k + 1))
	inhost sl-up spares "$SL_RUN_DIR/launch.yaml" >/dev/null 2>&1
done
echo "== sl-up launch of a kept template's group, $runs each (medians)"
printf '  %-44s %8s ms\n' "restored" "$(ms "$(printf '%s\n' "${lplain[@]}" | median)")" \
	"  then its first sl-exec true" "$(ms "$(printf '%s\n' "${lpfirst[@]}" | median)")" \
	"taking a spare (spares: 1)" "$(ms "$(printf '%s\n' "${lspare[@]}" | median)")" \
	"  then its first sl-exec true" "$(ms "$(printf '%s\n' "${lsfirst[@]}" | median)")"
inhost sl-up down "$SL_RUN_DIR/launch.yaml" >/dev/null 2>&1
fi
