#!/bin/bash
# make demo: the agents example, end to end, inside scratch namespaces only.
# A scratch "host" with a "LAN" (198.51.100.0/24) and an "internet"
# (203.0.113.0/24) joined to it, a web server in each; two isolated VMs of
# group "agents" whose config drops the LAN. Nothing touches the real
# network; everything is removed at the end, also on Ctrl-C.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$top/bin:$PATH"
[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }
tag=d$(($$ % 10000))
host="$tag-host" lan="$tag-lan" net="$tag-net"
export SL_RUN_DIR
SL_RUN_DIR=$(mktemp -d /tmp/sl-demo.XXXXXX)
cfg="$SL_RUN_DIR/agents.yaml"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
inhost() { nsenter --net="/run/netns/$host" "$@"; }
cleanup() {
	say "tearing down"
	inhost sl-up down "$cfg" 2>&1 || true
	for ns in "$lan" "$net"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ip netns del "$host" 2>/dev/null || true
	inhost true 2>/dev/null || echo "scratch namespaces removed"
	rm -rf "$SL_RUN_DIR"
}
trap cleanup EXIT

say "a scratch host, LAN and internet (namespaces: $host $lan $net)"
ip netns add "$host"
inhost ip link set lo up
inhost sysctl -qw net.ipv4.ip_forward=1
join() { # join NS HOSTIP NSIP
	ip netns add "$1"
	ip -n "$host" link add "$1" type veth peer name eth0 netns "$1"
	ip -n "$host" addr add "$2/24" dev "$1"
	ip -n "$host" link set "$1" up
	ip -n "$1" link set lo up
	ip -n "$1" addr add "$3/24" dev eth0
	ip -n "$1" link set eth0 up
	mkdir -p "$SL_RUN_DIR/www-$1"
	echo "hello from $1" >"$SL_RUN_DIR/www-$1/index.html"
	ip netns exec "$1" busybox httpd -p 80 -h "$SL_RUN_DIR/www-$1"
}
join "$lan" 198.51.100.1 198.51.100.10
ip -n "$lan" route add default via 198.51.100.1
join "$net" 203.0.113.1 203.0.113.10
echo "LAN web server 198.51.100.10, internet web server 203.0.113.10"

say "the config: examples/agents.yaml with its LAN as this demo's LAN"
sed 's#192.168.1.0/24#198.51.100.0/24#' "$top/examples/agents.yaml" | tee "$cfg"

say "sl-up -d $cfg"
inhost sl-up -d "$cfg"

say "a command in a VM, through its agent: sl-exec agents-1 -- uname -a"
inhost sl-exec agents-1 -- uname -a
inhost sl-exec agents-1 -- ip -4 addr show eth0

say "allowed: the internet (203.0.113.10) from agents-1"
inhost sl-exec agents-1 -- timeout 4 wget -q -O - http://203.0.113.10/

say "dropped: the LAN (198.51.100.10) from agents-1"
if inhost sl-exec agents-1 -- timeout 4 wget -q -O - http://198.51.100.10/; then
	echo "UNEXPECTED: the LAN answered" >&2
	exit 1
fi
echo "no answer: dropped inside agents-1's namespace, as the config says"

say "and agents-1 cannot reach agents-2 either"
inhost sl-exec agents-2 -- sh -c 'mkdir -p /w && echo vm2 >/w/index.html && httpd -p 80 -h /w'
inhost sl-exec agents-1 -- timeout 4 wget -q -O - http://169.254.100.6/ || echo "no answer: VMs never reach each other"

say "the rules (sl-egress show agents-1)"
inhost sl-egress show agents-1
