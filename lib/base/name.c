/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "name.h"
#include "util.h"

/**
 * sl_name_check() - refuse a VM name that cannot name an interface
 * @name: candidate
 * @err: why, when it fails
 *
 * The name becomes the namespace under /run/netns, a directory under
 * $SL_RUN_DIR and the guest's hostname, and, up to 15 bytes, the host-side
 * interface (sl_ifname()), so it must satisfy all of them: at most 63 bytes
 * (a DNS label), no '/', no whitespace, and nothing ip(8) would read as an
 * option.
 *
 * Return: 0, -EINVAL or -ENAMETOOLONG with the error recorded
 */
int sl_name_check(const char *name, struct sl_error *err)
{
	size_t len = strlen(name);

	if (!len)
		return sl_error(err, -EINVAL, "empty VM name");
	if (len > SL_NAME_MAX)
		return sl_error(err, -ENAMETOOLONG,
				"VM name '%s' is %zu bytes, longer than %d (a DNS label)",
				name, len, SL_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("-_.", c)))
			return sl_error(
			    err, -EINVAL,
			    "VM name '%s': only letters, digits, '-', '_' and '.' are allowed, "
			    "starting with a letter or digit",
			    name);
	}
	return 0;
}

/**
 * sl_ifname_check() - refuse a name the kernel would not take for a link
 * @what: what it names, for the error ("TAP", "bridge")
 * @s: candidate
 * @err: why, when it fails
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_ifname_check(const char *what, const char *s, struct sl_error *err)
{
	if (!s || !*s || strlen(s) > SL_IFNAME_MAX || strpbrk(s, " /:\t\n"))
		return sl_error(err, -EINVAL,
				"bad %s name '%s': 1 to %d bytes, no '/', ':' or spaces", what,
				s ? s : "", SL_IFNAME_MAX);
	return 0;
}

/**
 * sl_ifname() - the host interface name of a VM
 * @name: the VM's name, checked
 * @out: result, at most SL_IFNAME_MAX bytes
 *
 * A name that fits is its own interface name. A longer one keeps its first
 * 8 bytes, readable in `ip link`, then SL_IFNAME_SEP and 30 bits of a hash of
 * the whole name in base32: stable, different for names that share their
 * head, and never a VM's own name, since no VM name holds the separator.
 * Two long names can still hash alike (among 1000 of them, with a chance of
 * 1 in 2000); the link's alias says whose it is, so the second is refused.
 */
void sl_ifname(const char *name, char out[SL_IFNAME_MAX + 1])
{
	static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
	size_t len = strlen(name);
	uint64_t h;

	if (len <= SL_IFNAME_MAX) {
		memcpy(out, name, len + 1);
		return;
	}
	/* FNV alone leaves names that differ in their last byte alike: mix it
	 * (MurmurHash3's finalizer) so that every bit of the name moves all 30 */
	h = sl_fnv1a64(name);
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	memcpy(out, name, 8);
	out[8] = SL_IFNAME_SEP;
	for (int i = 0; i < 6; i++, h >>= 5)
		out[9 + i] = b32[h & 31];
	out[15] = '\0';
}
