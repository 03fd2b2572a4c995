/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "name.h"

/**
 * sl_name_check() - refuse a VM name that cannot name an interface
 * @name: candidate
 *
 * The name becomes the host-side interface, the namespace under /run/netns
 * and a directory under $SL_RUN_DIR, so it must satisfy all three: at most
 * 15 bytes, no '/', no whitespace, and nothing ip(8) would read as an option.
 *
 * Return: 0, -EINVAL or -ENAMETOOLONG with the error recorded
 */
int sl_name_check(const char *name)
{
	size_t len = strlen(name);

	if (!len) {
		sl_set_error("empty VM name");
		return -EINVAL;
	}
	if (len > SL_NAME_MAX) {
		sl_set_error("VM name '%s' is %zu bytes, longer than %d (it names an interface)",
			     name, len, SL_NAME_MAX);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("-_.", c))) {
			sl_set_error("VM name '%s': only letters, digits, '-', '_' and '.' are allowed, "
				     "starting with a letter or digit", name);
			return -EINVAL;
		}
	}
	return 0;
}

/**
 * sl_ifname_check() - refuse a name the kernel would not take for a link
 * @what: what it names, for the error ("TAP", "bridge")
 * @s: candidate
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_ifname_check(const char *what, const char *s)
{
	if (!s || !*s || strlen(s) > SL_NAME_MAX || strpbrk(s, " /:\t\n")) {
		sl_set_error("bad %s name '%s': 1 to %d bytes, no '/', ':' or spaces", what,
			     s ? s : "", SL_NAME_MAX);
		return -EINVAL;
	}
	return 0;
}
