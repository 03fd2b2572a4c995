#!/bin/bash
# The anchor a user would otherwise write: one isolated VM network set up
# with ip(8) and iptables-legacy(8), the way the seed's topology is built by
# hand. The issues' ratios are measured against this script, kept here as
# it was given so that they stay comparable.
# Usage: handbuilt-net.sh up|down N   (N VMs, block i of 169.254.100.0/22)
# Run it inside a scratch namespace that plays the host:
#   nsenter --net=/run/netns/HOST handbuilt-net.sh up 16
set -eu
# refuse to touch the real host: the caller must stand in a named scratch namespace
here_ns=$(stat -L -c %i /proc/self/ns/net)
inside=no
for f in /run/netns/*; do
  [ -e "$f" ] && [ "$(stat -L -c %i "$f" 2>/dev/null)" = "$here_ns" ] && inside=yes
done
if [ $inside = no ]; then
  echo "handbuilt-net.sh: run me inside a scratch namespace (nsenter --net=/run/netns/HOST), not on the real host" >&2
  exit 2
fi
verb=$1 n=${2:-1}
ipt=iptables-legacy
ip4() { local b=$1 o=$2; echo "169.254.$((100 + (b*4+o)/256)).$(((b*4+o)%256))"; }
up_one() {
  local i=$1 name=hb-$1 ns=hb-$1
  local net=$(ip4 $i 0) gw=$(ip4 $i 1) vm=$(ip4 $i 2)
  ip netns add $ns
  ip link add $name type veth peer name veth0 netns $ns
  ip link set $name up
  ip -n $ns link set lo up
  ip -n $ns link set veth0 up
  ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1
  ip -n $ns tuntap add dev tap0 mode tap
  ip -n $ns addr add $gw/30 dev tap0
  ip -n $ns link set tap0 up
  ip -n $ns route add 169.254.1.1 dev veth0 scope link
  ip -n $ns route add default via 169.254.1.1 dev veth0
  ip netns exec $ns sysctl -qw net.ipv4.conf.veth0.proxy_arp=1
  sysctl -qw net.ipv4.conf.$name.proxy_arp=1
  ip route add $net/30 dev $name
  ip netns exec $ns $ipt -A FORWARD -i tap0 ! -s $vm -j DROP
  ip netns exec $ns $ipt -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ip netns exec $ns $ipt -A FORWARD -i tap0 -d 169.254.0.0/16 -j DROP
  ip netns exec $ns $ipt -A FORWARD -i tap0 -d 192.168.1.0/24 -j DROP
  ip netns exec $ns $ipt -A FORWARD -i veth0 -o tap0 -j DROP
  ip netns exec $ns $ipt -P INPUT DROP
}
down_one() {
  local i=$1
  ip route del $(ip4 $i 0)/30 2>/dev/null || true
  ip link del hb-$i 2>/dev/null || true
  ip netns del hb-$i 2>/dev/null || true
}
if [ "$verb" = up ]; then
  sysctl -qw net.ipv4.ip_forward=1
  $ipt -N HB-FWD 2>/dev/null || true
  $ipt -C FORWARD -j HB-FWD 2>/dev/null || $ipt -A FORWARD -j HB-FWD
  $ipt -A HB-FWD -s 169.254.100.0/22 -d 169.254.100.0/22 -j DROP
  $ipt -A INPUT -s 169.254.100.0/22 -j DROP
  $ipt -t nat -A POSTROUTING -s 169.254.100.0/22 ! -d 169.254.100.0/22 -j MASQUERADE
  for i in $(seq 0 $((n-1))); do up_one $i; done
else
  for i in $(seq 0 $((n-1))); do down_one $i; done
  $ipt -F HB-FWD 2>/dev/null || true
  $ipt -D FORWARD -j HB-FWD 2>/dev/null || true
  $ipt -X HB-FWD 2>/dev/null || true
  $ipt -D INPUT -s 169.254.100.0/22 -j DROP 2>/dev/null || true
  $ipt -t nat -D POSTROUTING -s 169.254.100.0/22 ! -d 169.254.100.0/22 -j MASQUERADE 2>/dev/null || true
fi
