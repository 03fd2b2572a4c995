/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "util.h"

/* At most this many path components are considered: deeper is refused. */
#define MAX_DEPTH 256

/*
 * Split @path into components, skipping empty and "." ones. Return the
 * count, or -1 when there are too many or @path is absolute.
 */
static int split(char *path, char **comp, int max)
{
	int n = 0;
	char *save = NULL;

	if (path[0] == '/')
		return -1;
	for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (n >= max)
			return -1;
		comp[n++] = t;
	}
	return n;
}

/**
 * sl_copy_path_ok() - whether an archive member's name stays in the copy
 * @path: the name as the archive gives it
 * @root: the one top-level name the copy may hold (the file or directory
 *        that was asked for)
 *
 * Relative, no "..", and @root or below it.
 */
bool sl_copy_path_ok(const char *path, const char *root)
{
	char buf[PATH_MAX], *comp[MAX_DEPTH];
	int n;

	if (strlen(path) >= sizeof(buf))
		return false;
	strcpy(buf, path);
	n = split(buf, comp, MAX_DEPTH);
	if (n < 1 || strcmp(comp[0], root))
		return false;
	for (int i = 1; i < n; i++)
		if (!strcmp(comp[i], ".."))
			return false;
	return true;
}

/**
 * sl_copy_link_inside() - whether a symlink cannot lead out of the copy
 * @entry: the link's own name (already checked with sl_copy_path_ok())
 * @target: what it points to
 * @root: the copy's top-level name
 *
 * The target must be relative, made of leading ".." then names only, and
 * its leading ".." may climb no higher than inside @root. A ".." after a
 * name is refused: the name may be a link to a shallower place, and the
 * ".." would then climb further than it reads. With every link so made,
 * and members never written through a link (libarchive's SECURE_SYMLINKS),
 * no path in the copy resolves outside it. The copy's top level may be
 * renamed on arrival, so it cannot be named by a link either.
 */
bool sl_copy_link_inside(const char *entry, const char *target, const char *root)
{
	char ebuf[PATH_MAX], tbuf[PATH_MAX], *ec[MAX_DEPTH], *tc[MAX_DEPTH];
	int ne, nt, depth, i = 0;

	if (!*target || strlen(entry) >= sizeof(ebuf) || strlen(target) >= sizeof(tbuf))
		return false;
	strcpy(ebuf, entry);
	strcpy(tbuf, target);
	ne = split(ebuf, ec, MAX_DEPTH);
	nt = split(tbuf, tc, MAX_DEPTH);
	if (ne < 2 || nt < 0 || strcmp(ec[0], root))
		return false; /* the top level itself is not a link */
	depth = ne - 1; /* the link's directory, root included */
	for (; i < nt && !strcmp(tc[i], ".."); i++)
		if (--depth < 1)
			return false;
	for (; i < nt; i++)
		if (!strcmp(tc[i], ".."))
			return false;
	return true;
}

/* Why an entry of this type may not be made on the host. */
static const char *refused_type(mode_t type)
{
	switch (type) {
	case AE_IFREG:
	case AE_IFDIR:
	case AE_IFLNK:
		return NULL;
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

/* Check one member and point it into @dir; 0 or -errno with @err set. */
static int vet(struct archive_entry *e, const char *dir, const char *root,
	       const struct sl_copy_limits *lim, struct sl_copy_result *res, struct sl_error *err)
{
	const char *path = archive_entry_pathname(e);
	const char *hard = archive_entry_hardlink(e);
	const char *why = refused_type(archive_entry_filetype(e));
	char full[PATH_MAX];

	if (!path || !sl_copy_path_ok(path, root))
		return sl_error(err, -EPERM, "'%s' is outside '%s'", path ? path : "", root);
	if (++res->entries > lim->max_entries)
		return sl_error(err, -EFBIG, "more than %llu entries",
			    (unsigned long long)lim->max_entries);
	if (hard) {
		struct stat st;

		if (!sl_copy_path_ok(hard, root) ||
		    snprintf(full, sizeof(full), "%s/%s", dir, hard) >= (int)sizeof(full) ||
		    lstat(full, &st) < 0 || !S_ISREG(st.st_mode))
			return sl_error(err, -EPERM, "%s: a hard link to '%s', not to a file of the copy",
				    path, hard);
		archive_entry_set_hardlink(e, full);
	} else if (why) {
		return sl_error(err, -EPERM, "%s: %s", path, why);
	} else if (archive_entry_filetype(e) == AE_IFLNK) {
		const char *t = archive_entry_symlink(e);

		if (!t || !sl_copy_link_inside(path, t, root))
			return sl_error(err, -EPERM, "%s: a link to '%s', which is not inside the copy",
				    path, t ? t : "");
	}
	if (archive_entry_size(e) < 0 || (uint64_t)archive_entry_size(e) > lim->max_bytes - res->bytes)
		return sl_error(err, -EFBIG, "%s: more than %llu bytes in all", path,
			    (unsigned long long)lim->max_bytes);
	if (snprintf(full, sizeof(full), "%s/%s", dir, path) >= (int)sizeof(full))
		return sl_error(err, -ENAMETOOLONG, "%s: name too long", path);
	archive_entry_set_pathname(e, full);
	/* Never set-id or sticky, never the guest's owner: ours, and its rwx. */
	archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
	archive_entry_set_uid(e, getuid());
	archive_entry_set_gid(e, getgid());
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	return 0;
}

static int copy_data(struct archive *in, struct archive *out, const char *path,
		     const struct sl_copy_limits *lim, struct sl_copy_result *res,
		     struct sl_error *err)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &size, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return sl_error(err, -EIO, "%s: %s", path, archive_error_string(in));
		if (off < 0 || (uint64_t)off > lim->max_bytes ||
		    size > lim->max_bytes - res->bytes)
			return sl_error(err, -EFBIG, "%s: more than %llu bytes in all", path,
				    (unsigned long long)lim->max_bytes);
		res->bytes += size;
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
			return sl_error(err, -EIO, "%s: %s", path, archive_error_string(out));
	}
}

/**
 * sl_copy_extract() - unpack a guest's tar stream into a directory
 * @fd: the stream
 * @dir: an empty directory of ours, where the copy is made
 * @root: the one top-level name the stream may hold
 * @lim: bounds on bytes and entries
 * @res: counts
 * @err: the reason, when it fails
 *
 * Only regular files, directories, hard links to files of the copy and
 * symlinks that stay inside it are made; everything is owned by the
 * caller, with no set-id or sticky bit. The first member that breaks a
 * rule stops the copy: the caller removes @dir (sl_remove_tree()).
 * Reading stops at the archive's end marker; the caller drains what follows
 * (sl_copy_unpack()).
 *
 * Return: 0, -EPERM (a refused member), -EFBIG (a limit), -EIO, -ENOMEM
 */
int sl_copy_extract(int fd, const char *dir, const char *root,
		    const struct sl_copy_limits *lim, struct sl_copy_result *res,
		    struct sl_error *err)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	char real[PATH_MAX];
	int r = 0;

	memset(res, 0, sizeof(*res));
	/*
	 * Members are named by absolute paths below @dir (vet() refused any
	 * absolute name of the stream's own): with no link in @dir's own path,
	 * SECURE_SYMLINKS refuses exactly the links the stream made.
	 */
	if (!realpath(dir, real)) {
		r = sl_error(err, -errno, "%s: %s", dir, strerror(errno));
		goto done;
	}
	dir = real;
	if (!in || !out) {
		r = sl_error(err, -ENOMEM, "out of memory");
		goto done;
	}
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
						    ARCHIVE_EXTRACT_NO_OVERWRITE |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if (archive_read_open_fd(in, fd, 65536) != ARCHIVE_OK) {
		r = sl_error(err, -EIO, "%s", archive_error_string(in));
		goto done;
	}
	for (;;) {
		char path[PATH_MAX];
		int a = archive_read_next_header(in, &e);

		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			r = sl_error(err, -EIO, "not a tar stream: %s", archive_error_string(in));
			break;
		}
		snprintf(path, sizeof(path), "%s", archive_entry_pathname(e) ?: "");
		if ((r = vet(e, dir, root, lim, res, err)) < 0)
			break;
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			r = sl_error(err, -EPERM, "%s: %s", path, archive_error_string(out));
			break;
		}
		if (archive_entry_size(e) > 0 && !archive_entry_hardlink(e) &&
		    (r = copy_data(in, out, path, lim, res, err)) < 0)
			break;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			r = sl_error(err, -EIO, "%s: %s", path, archive_error_string(out));
			break;
		}
	}
	if (r == 0 && archive_write_close(out) != ARCHIVE_OK)
		r = sl_error(err, -EIO, "%s", archive_error_string(out));
	if (r == 0 && !res->entries)
		r = sl_error(err, -EIO, "the stream held nothing");
done:
	if (in)
		archive_read_free(in);
	if (out)
		archive_write_free(out);
	return r;
}

/* What may follow a tar's end marker (busybox pads to 10 KiB records). */
#define TRAILER_MAX (1u << 20)

/**
 * sl_copy_unpack() - sl_copy_extract(), then the rest of the stream drained
 * @fd: the stream, read to its end
 * @dir: an empty directory of ours, where the copy is made
 * @root: the one top-level name the stream may hold
 * @lim: bounds on bytes and entries
 * @err: the reason, when it fails
 *
 * A stream is refused whole when more than padding follows its end marker.
 *
 * Return: as sl_copy_extract(), or -EFBIG for what follows the end
 */
int sl_copy_unpack(int fd, const char *dir, const char *root, const struct sl_copy_limits *lim,
		   struct sl_error *err)
{
	struct sl_copy_result res;
	char b[16384];
	size_t left = TRAILER_MAX;
	ssize_t n;
	int r = sl_copy_extract(fd, dir, root, lim, &res, err);

	if (r < 0)
		return r;
	while ((n = read(fd, b, sizeof(b))) > 0) {
		if ((size_t)n > left)
			return sl_error(err, -EFBIG, "more than %u bytes after the archive's end",
					TRAILER_MAX);
		left -= (size_t)n;
	}
	return 0;
}
