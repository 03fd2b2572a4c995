# Shared by the benchmarks of one VM (boot.sh, exec.sh): a scratch host
# namespace with one VM's network in it (lease, namespace, veth, TAP; not
# booted), all of it gone at exit. Sourced; expects $top (the checkout)
# and $tag (two letters naming the bench); sets PATH, SL_RUN_DIR, $host,
# $vm, inhost() and now().
[ -x "$top/bin/sl-ipam" ] || { echo "$0: run make first" >&2; exit 2; }
export PATH="$top/bin:$PATH"
host="sl$tag$$" vm="$tag$(($$ % 10000))-1"
export SL_RUN_DIR
SL_RUN_DIR=$(mktemp -d /tmp/sl-bench.XXXXXX)
inhost() { nsenter --net="/run/netns/$host" "$@"; }
now() { date +%s%N; }
one_vm_cleanup() {
	inhost sl-boot stop "$vm" --timeout 5 >/dev/null 2>&1 || true
	inhost sl-netns del "$vm" >/dev/null 2>&1 || true
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$SL_RUN_DIR"
}
trap one_vm_cleanup EXIT

ip netns add "$host"
inhost sysctl -qw net.ipv4.ip_forward=1
inhost sl-ipam alloc --range 169.254.100.0/22 "$vm" >/dev/null
inhost sl-netns add "$vm" >/dev/null
inhost sl-veth add "$vm" >/dev/null
inhost sl-tap add "$vm" >/dev/null
