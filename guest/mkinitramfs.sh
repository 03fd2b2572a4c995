#!/bin/sh
# Build the initramfs: busybox-static and its applets, the virtio modules,
# our /init, the DHCP client's script and the static agent.
# Usage: mkinitramfs.sh KERNELDIR AGENT OUT
set -eu
kdir=$1 agent=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root"/bin "$root"/sbin "$root"/dev "$root"/proc "$root"/sys "$root"/tmp \
	"$root"/run "$root"/root "$root"/etc "$root"/lib/modules "$root"/mnt "$root"/usr/bin "$root"/usr/sbin
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
for m in "$kdir"/modules/*.ko*; do
	case $m in *.xz) xz -dc "$m" >"$root/lib/modules/$(basename "$m" .xz)" ;;
	*) cp "$m" "$root/lib/modules/" ;; esac
done
# Drop Debian's module signatures: checking them costs ~100 ms of guest time
# under TCG at every boot, and these modules come from the same verified
# package as the kernel. (The kernel notes it once as a taint.)
for m in "$root"/lib/modules/*.ko; do
	perl -e '
		local $/; open(my $f, "<", $ARGV[0]) or die; my $d = <$f>; close $f;
		my $magic = "~Module signature appended~\n";
		exit 0 unless substr($d, -length($magic)) eq $magic;
		my $info = substr($d, -length($magic) - 12, 12);
		my ($signer, $keyid, $siglen) = (ord(substr($info, 3, 1)), ord(substr($info, 4, 1)),
			unpack("N", substr($info, 8, 4)));
		my $cut = length($magic) + 12 + $siglen + $signer + $keyid;
		open($f, ">", $ARGV[0]) or die; print $f substr($d, 0, length($d) - $cut); close $f;
	' "$m"
done
cp "$here/init" "$root/init"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
cp "$here/sl-dhcp" "$root/sbin/sl-dhcp"
cp "$agent" "$root/sbin/sl-agent"
chmod 0755 "$root/init" "$root/sbin/sl-agent" "$root/sbin/sl-dhcp" "$root/etc/udhcpc.script"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | gzip -6) >"$out.tmp"
mv "$out.tmp" "$out"
