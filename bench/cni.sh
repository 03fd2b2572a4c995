#!/bin/bash
# sl-cni against the reference ptp + host-local + firewall chain (Debian's
# containernetworking-plugins), side by side in one run through the same
# libcni client (t/cni-client): ADD and DEL per attachment with N = 1, 16
# and 256 sandboxes, one after another as a runtime places them (N < 16:
# repeated to 16 attachments, averaged); first as a runtime does it, from
# one process with libcni in it, then as a script does, a client process
# per ADD and DEL. Both
# networks masquerade and keep sandboxes apart; sl-cni also writes each
# one's allow/drop policy. Usage: bench/cni.sh [N...] (default 1 16 256).
# Run as root after make; needs go (make deps).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=("${@:-1}")
[ $# -gt 0 ] || sizes=(1 16 256)
tag=$(printf 'c%03d' $(($$ % 1000)))
. "$top/bench/common.sh"

client="$SL_RUN_DIR/cni-client"
(cd "$top/t/cni-client" && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOCACHE="$SL_RUN_DIR/gocache" go build -o "$client" main.go)
conf="$SL_RUN_DIR/net.d" bin="$SL_RUN_DIR/cni-bin"
mkdir -p "$conf" "$bin"
ln -s "$top/bin/sl-cni" "$bin/sl-cni"
cat >"$conf/10-sl.conflist" <<J
{ "cniVersion": "1.0.0", "name": "sl", "plugins": [
  { "type": "sl-cni", "runDir": "$SL_RUN_DIR", "range": "100.64.0.0/20",
    "allow": ["0.0.0.0/0:443"], "drop": ["10.0.0.0/8"] } ] }
J
cat >"$conf/20-ref.conflist" <<J
{ "cniVersion": "1.0.0", "name": "ref", "plugins": [
  { "type": "ptp", "ipMasq": true,
    "ipam": { "type": "host-local", "subnet": "100.80.0.0/20", "dataDir": "$SL_RUN_DIR/ipam",
              "routes": [ { "dst": "0.0.0.0/0" } ] } },
  { "type": "firewall" } ] }
J
cni() {
	inhost env CNI_PATH="$bin:/usr/lib/cni" CNI_CACHE_DIR="$SL_RUN_DIR/cache" "$client" "$@"
}

# run NET N: ADD then DEL for sandboxes 1..N, rounds times (16/N, at least
# once, so that a small N is not one sample), the client started for each
# ADD and DEL (as a script would); sets add del (µs per attachment)
run() {
	local net=$1 n=$2 rounds=$(((16 + $2 - 1) / $2)) t0 t1 t2 i k ta=0 td=0
	for k in $(seq 1 "$rounds"); do
		t0=$(now)
		for i in $(seq 1 "$n"); do
			cni add "$conf" "$net" "$tag-$i" "/run/netns/$tag-$i" eth0 >/dev/null
		done
		t1=$(now)
		for i in $(seq 1 "$n"); do
			cni del "$conf" "$net" "$tag-$i" "/run/netns/$tag-$i" eth0 >/dev/null
		done
		t2=$(now)
		ta=$((ta + t1 - t0)) td=$((td + t2 - t1))
	done
	add=$((ta / n / rounds / 1000)) del=$((td / n / rounds / 1000))
}

# inproc NET N: the same from one client process, as a runtime (containerd,
# podman) calls libcni: no client start, no nsenter per attachment
inproc() {
	local net=$1 n=$2 rounds=$(((16 + $2 - 1) / $2)) k a d ta=0 td=0
	for k in $(seq 1 "$rounds"); do
		read -r a d < <(cni bench "$conf" "$net" "$tag" "$n")
		ta=$((ta + a)) td=$((td + d))
	done
	add=$((ta / rounds)) del=$((td / rounds))
}

row() { # row N SL_ADD REF_ADD SL_DEL REF_DEL (µs)
	printf '%-5s %-11s %-9s %-7s %-11s %-9s %s\n' "$1" "$(msf "$2")" "$(msf "$3")" \
		"$(awk -v a="$3" -v b="$2" 'BEGIN { printf "%.1fx", a / b }')" \
		"$(msf "$4")" "$(msf "$5")" \
		"$(awk -v a="$5" -v b="$4" 'BEGIN { printf "%.1fx", a / b }')"
}

made=0
for n in "${sizes[@]}"; do
	for i in $(seq $((made + 1)) "$n"); do ip netns add "$tag-$i"; done
	[ "$n" -gt "$made" ] && made=$n
done
# table TITLE MEASURE: both networks measured by MEASURE (inproc, run) at each N,
# the reference first, then ours, on the same sandboxes
table() {
	local n ra rd sa sd
	echo "== $1"
	echo "N     sl-cni ADD  ref ADD   ratio   sl-cni DEL  ref DEL   ratio   (ms per attachment)"
	for n in "${sizes[@]}"; do
		"$2" ref "$n"; ra=$add rd=$del
		"$2" sl "$n"; sa=$add sd=$del
		row "$n" "$sa" "$ra" "$sd" "$rd"
	done
}
table "a runtime: one client process, libcni in it" inproc
table "a script: the client started (and nsenter'd into the host) for each ADD and DEL" run
# what the client costs by itself: one VERSION query (both networks pay it)
t0=$(now); cni version "$conf" sl >/dev/null; t1=$(now)
echo "client start + VERSION: $(msf $(((t1 - t0) / 1000))) ms"
