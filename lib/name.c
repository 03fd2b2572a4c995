/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "name.h"

/**
 * sl_name_check() - refuse a VM name that cannot name an interface
 * @name: candidate
 * @err: why, when it fails
 *
 * The name becomes the host-side interface, the namespace under /run/netns
 * and a directory under $SL_RUN_DIR, so it must satisfy all three: at most
 * 15 bytes, no '/', no whitespace, and nothing ip(8) would read as an option.
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
				"VM name '%s' is %zu bytes, longer than %d (it names an interface)",
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
	if (!s || !*s || strlen(s) > SL_NAME_MAX || strpbrk(s, " /:\t\n"))
		return sl_error(err, -EINVAL,
				"bad %s name '%s': 1 to %d bytes, no '/', ':' or spaces", what,
				s ? s : "", SL_NAME_MAX);
	return 0;
}
