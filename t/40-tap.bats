#!/usr/bin/env bats
# sl-tap: a persistent TAP in the namespace, holding the gateway.

load helpers

setup() {
	setup_host
	inhost sl-ipam alloc --range 169.254.104.0/22 "$P-1" >/dev/null
	inhost sl-netns add "$P-1" >/dev/null
}
teardown() { teardown_host; }

@test "add: tap0 in the namespace, gateway /30, up, IPv6 off" {
	run inhost sl-tap add "$P-1"
	[ "$status" -eq 0 ]
	[ "$output" = "SL_TAP=tap0" ]
	local l
	l=$(ip -n "$P-1" -j -d link show tap0)
	[ "$(jq -r '.[0].linkinfo.info_kind' <<<"$l")" = tun ]
	[ "$(jq -r '.[0].linkinfo.info_data.type' <<<"$l")" = tap ]
	jq -e '.[0].flags | index("UP")' <<<"$l"
	ip -n "$P-1" -j addr show tap0 | jq -e '[.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"] == ["169.254.104.1/30"]'
	[ -z "$(ip -n "$P-1" -6 addr show dev tap0)" ]
	[ "$(ip netns exec "$P-1" sysctl -n net.ipv6.conf.tap0.disable_ipv6)" = 1 ]
	# nothing of it on the host
	! inhost ip link show tap0 2>/dev/null || false
	inhost sl-tap check "$P-1"
}

@test "add twice is harmless; a changed address is found; del twice ok" {
	inhost sl-tap add "$P-1" >/dev/null
	inhost sl-tap add "$P-1" >/dev/null
	ip -n "$P-1" addr flush dev tap0
	ip -n "$P-1" addr add 169.254.104.9/30 dev tap0
	run inhost sl-tap check "$P-1"
	[ "$status" -eq 1 ]
	grep -q "does not hold exactly 169.254.104.1/30" <<<"$output"
	assert_usage_error "holds another address" inhost sl-tap add "$P-1"
	inhost sl-tap del "$P-1"
	! ip -n "$P-1" link show tap0 2>/dev/null || false
	inhost sl-tap del "$P-1"
}

@test "a foreign tap0 in the namespace is refused and untouched" {
	ip -n "$P-1" tuntap add dev tap0 mode tap
	assert_usage_error "not our TAP" inhost sl-tap add "$P-1"
	assert_usage_error "not our TAP" inhost sl-tap del "$P-1"
	ip -n "$P-1" link show tap0 >/dev/null
	[ -z "$(ip -n "$P-1" -4 addr show dev tap0)" ]
}
