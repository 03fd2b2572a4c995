#!/bin/sh
# Fetch Debian's cloud kernel into the build tree; never installs it.
# Usage: guest/fetch-kernel.sh OUTDIR   → OUTDIR/vmlinuz, OUTDIR/modules/*.ko
set -eu
out=$1
pkg=${SL_KERNEL_PKG:-linux-image-cloud-amd64}
mkdir -p "$out/deb"
# The meta-package names the real one.
resolve() { apt-cache depends "$pkg" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
real=$(resolve)
if [ -z "$real" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -q >&2 || true
	real=$(resolve)
fi
[ -n "$real" ] || { echo "fetch-kernel: apt knows no $pkg (run apt-get update)" >&2; exit 1; }
rm -rf "$out/deb/x"
(cd "$out/deb" && rm -f ./*.deb && apt-get download -q "$real" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
deb=$(ls "$out"/deb/*.deb)
dpkg-deb -x "$deb" "$out/deb/x"
cp "$out"/deb/x/boot/vmlinuz-* "$out/vmlinuz"
mkdir -p "$out/modules"
for m in virtio/virtio_ring virtio/virtio virtio/virtio_mmio ../net/core/failover \
	net/net_failover net/virtio_net char/virtio_console block/virtio_blk; do
	f=$(find "$out"/deb/x/lib/modules/*/kernel/drivers/"$m".ko* 2>/dev/null | head -n1)
	[ -n "$f" ] || f=$(find "$out"/deb/x/lib/modules -name "$(basename "$m").ko*" | head -n1)
	cp "$f" "$out/modules/"
done
basename "$deb" >"$out/kernel.version"
rm -rf "$out/deb"
