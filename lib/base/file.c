/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "util.h"

/**
 * sl_read_file() - a regular file of at most @max bytes, whole
 * @path: the file
 * @max: the most it may hold
 * @nofollow: refuse a link in its place (a file of the run dir); else
 *	follow it (the admin's own paths: a config, a conflist)
 * @what: what it should be, for the message ("a config")
 * @text: result, NUL-terminated; free() it
 * @len: its length
 * @err: why, when it fails
 *
 * Never blocks on a FIFO and never reads a device: what a config or a
 * state file names may be anything.
 *
 * Return: 0, -ENOMEM, or -EINVAL with the error recorded
 */
int sl_read_file(const char *path, size_t max, bool nofollow, const char *what, char **text,
		 size_t *len, struct sl_error *err)
{
	_cleanup_close_ int fd =
		open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;
	ssize_t n;

	*text = NULL;
	*len = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sl_error(err, -EINVAL, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode))
		return sl_error(err, -EINVAL, "%s: %s", path,
				S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
	if ((size_t)st.st_size > max)
		return sl_error(err, -EINVAL, "%s: larger than %zu bytes: not %s", path, max, what);
	*text = malloc((size_t)st.st_size + 1);
	if (!*text)
		return -ENOMEM;
	n = read(fd, *text, (size_t)st.st_size);
	if (n < 0) {
		sl_error(err, -EINVAL, "%s: %s", path, strerror(errno));
		free(*text);
		*text = NULL;
		return -EINVAL;
	}
	(*text)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/**
 * sl_remove_tree() - remove a directory tree, never following a link
 * @path: the tree
 *
 * Return: 0, or -errno
 */
int sl_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 ? -errno : 0;
}
