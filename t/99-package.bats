#!/usr/bin/env bats
# The Debian packages (make deb) and the systemd units: built from the
# tree in a copy, unpacked into a scratch root (dpkg -x: nothing is
# installed on this machine), the installed tools, pages and units used.

load helpers

setup_file() {
	require dpkg-buildpackage lintian systemd-analyze man dpkg-deb
	make -C "$TOP" deb >"$BATS_FILE_TMPDIR/deb.log" 2>&1 || {
		tail -n 40 "$BATS_FILE_TMPDIR/deb.log" >&2
		return 1
	}
	DEBS="$TOP/build/deb"
	ROOT="$BATS_FILE_TMPDIR/root"
	mkdir -p "$ROOT"
	dpkg -x "$DEBS/sltools_0.1.0_amd64.deb" "$ROOT"
	dpkg -x "$DEBS/sltools-guest_0.1.0_amd64.deb" "$ROOT"
	export DEBS ROOT
}

@test "make deb: sltools and sltools-guest, no lintian error; the guest kernel only in sltools-guest; run-time dependencies declared" {
	# its MLDBM files go into TMPDIR and stay: into the test's, which bats removes
	TMPDIR="$BATS_TEST_TMPDIR" lintian --fail-on error "$DEBS/sltools_0.1.0_amd64.deb" \
		"$DEBS/sltools-guest_0.1.0_amd64.deb"
	local tools guest deps
	tools=$(dpkg-deb -c "$DEBS/sltools_0.1.0_amd64.deb")
	guest=$(dpkg-deb -c "$DEBS/sltools-guest_0.1.0_amd64.deb")
	for t in sl-ipam sl-netns sl-veth sl-tap sl-cni-run sl-egress sl-boot sl-exec sl-gc sl-up; do
		grep -q "\./usr/bin/$t$" <<<"$tools"
		grep -q "\./usr/share/man/man1/$t\.1\.gz$" <<<"$tools"
		grep -q "\./usr/share/bash-completion/completions/$t$" <<<"$tools"
	done
	# the plugin: in /usr/bin and where runtimes look for CNI plugins, its page in section 8
	grep -q "\./usr/bin/sl-cni$" <<<"$tools"
	grep -q "\./usr/lib/cni/sl-cni$" <<<"$tools"
	grep -q "\./usr/share/man/man8/sl-cni\.8\.gz$" <<<"$tools"
	grep -q "\./usr/libexec/sltools/sl-supervise$" <<<"$tools"
	grep -q "\./usr/libexec/sltools/sl-egressd$" <<<"$tools"
	grep -q "\./usr/libexec/sltools/sl-unpack$" <<<"$tools"
	grep -q "\./usr/share/man/man7/sltools\.7\.gz$" <<<"$tools"
	grep -q "\./usr/lib/systemd/system/sl-up@\.service$" <<<"$tools"
	grep -q "\./usr/lib/systemd/system/sltools-gc\.service$" <<<"$tools"
	grep -q "\./usr/lib/udev/rules\.d/70-sltools\.rules$" <<<"$tools"
	grep -q "\./usr/lib/systemd/network/10-sltools\.link$" <<<"$tools"
	grep -q "\./usr/lib/systemd/network/10-sltools\.network$" <<<"$tools"
	! grep -q "vmlinuz\|initramfs" <<<"$tools" || false
	grep -q "\./usr/lib/sltools/guest/vmlinuz$" <<<"$guest"
	grep -q "\./usr/lib/sltools/guest/initramfs\.cpio\.gz$" <<<"$guest"
	deps=$(dpkg-deb -f "$DEBS/sltools_0.1.0_amd64.deb" Depends)
	for d in iproute2 iptables qemu-system-x86 libnl-route-3-200 libip4tc2 libyaml-0-2 libjson-c5; do
		grep -q "$d" <<<"$deps" || { echo "Depends lacks $d: $deps" >&2; return 1; }
	done
}

@test "the installed tools run, their pages read, the units verify" {
	run "$ROOT/usr/bin/sl-up" --version
	[ "$status" -eq 0 ] && grep -q "0\.1\.0" <<<"$output" || false
	"$ROOT/usr/bin/sl-cni-run" --help | grep -q "^Usage: sl-cni-run"
	man -l "$ROOT/usr/share/man/man1/sl-up.1.gz" 2>/dev/null | grep -q "sl-up"
	man -l "$ROOT/usr/share/man/man7/sltools.7.gz" 2>/dev/null | grep -q "sl-cni-run"
	# the plugin where a runtime finds it answers as a plugin
	echo '{"cniVersion":"1.1.0"}' | CNI_COMMAND=VERSION "$ROOT/usr/lib/cni/sl-cni" |
		jq -e '.supportedVersions == ["1.0.0", "1.1.0"]' >/dev/null
	man -l "$ROOT/usr/share/man/man8/sl-cni.8.gz" 2>/dev/null | grep -q "WHERE THE POLICY LIVES"
	# the units, as systemd would load them from the installed root (with
	# this machine's own units for the targets they name; the man pages
	# they cite are checked above, man -l)
	cp -rn /usr/lib/systemd/system/. "$ROOT/usr/lib/systemd/system/"
	run systemd-analyze verify --man=no --root="$ROOT" sl-up@agents.service sltools-gc.service
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -qi "error\|not executable\|unknown" <<<"$output" || false
	grep -qx "ExecStart=/usr/bin/sl-up /etc/sltools/%i.yaml" \
		"$ROOT/usr/lib/systemd/system/sl-up@.service"
}

@test "on a bare Debian 12 (an empty dpkg status), apt would bring every run-time dependency of both" {
	: >"$BATS_FILE_TMPDIR/empty-status"
	run apt-get -o Dir::State::status="$BATS_FILE_TMPDIR/empty-status" install -s -q \
		"$DEBS/sltools_0.1.0_amd64.deb" "$DEBS/sltools-guest_0.1.0_amd64.deb"
	[ "$status" -eq 0 ] || { echo "$output" | tail -n 20 >&2; return 1; }
	for p in sltools sltools-guest iproute2 iptables qemu-system-x86 libnl-route-3-200 libip4tc2 \
		libyaml-0-2 libjson-c5 libnetfilter-log1 libldns3; do
		grep -q "^Inst $p " <<<"$output" || { echo "apt would not install $p" >&2; return 1; }
	done
}
