/* SPDX-License-Identifier: MIT */
/*
 * sl-exec cp: a copy into or out of a VM through its agent, as a tar
 * stream; what comes out is unpacked by copy.c in libexec/sl-unpack,
 * never by tar(1) as root.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "copy.h"
#include "cp.h"
#include "error.h"
#include "file.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

/*
 * Prints "mode sha256 path" for every file under $1 (or "mode sha256" for a
 * file); the mode without set-id and sticky bits, which copy-out drops.
 */
static const char sums_sh[] =
    "set -e; m() { echo $((0$(stat -c %a \"$1\") & 511)); }; "
    "if [ -d \"$1\" ]; then cd \"$1\"; find . -type f | LC_ALL=C sort | "
    "while IFS= read -r f; do printf '%s %s %s\\n' \"$(m \"$f\")\" "
    "\"$(sha256sum < \"$f\" | cut -d' ' -f1)\" \"$f\"; done; "
    "else printf '%s %s\\n' \"$(m \"$1\")\" \"$(sha256sum < \"$1\" | cut -d' ' -f1)\"; fi";

/* Unpack a tar stream from stdin into a temporary directory next to nothing,
 * then cp -a it to $1 (into it when it is a directory); print the result. */
static const char put_sh[] =
    "set -e; t=$(mktemp -d); tar -x -C \"$t\" -f -; "
    "if [ -d \"$1\" ]; then d=\"$1/$2\"; rm -rf \"$d\"; else d=\"$1\"; rm -rf \"$d\"; fi; "
    "cp -a \"$t/$2\" \"$d\"; rm -rf \"$t\"; printf '%s' \"$d\"";

static char *local_sums(const char *path)
{
	char *argv[] = { "sh", "-c", (char *)sums_sh, "sh", (char *)path, NULL };
	struct sl_spawn sp = {
		"sh", argv, true, { SL_SPAWN_INHERIT, SL_SPAWN_CAPTURE, SL_SPAWN_INHERIT }
	};
	char *buf = NULL;
	size_t len = 0;
	int fd;
	pid_t pid = sl_spawn_start(&sp, &fd);
	FILE *f;
	char b[4096];
	ssize_t n;

	if (pid < 0)
		return NULL;
	f = open_memstream(&buf, &len);
	while ((n = read(fd, b, sizeof(b))) > 0)
		if (f)
			fwrite(b, 1, (size_t)n, f);
	close(fd);
	if (f)
		fclose(f);
	if (sl_spawn_wait(pid) != 0 || !f) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int guest_sums(const char *name, const char *path, char **out, struct sl_error *err)
{
	char *argv[] = { "sh", "-c", (char *)sums_sh, "sh", (char *)path, NULL };
	struct sl_exec_req r = { .argv = argv };
	size_t len;

	return sl_agent_capture(name, &r, -1, out, &len, err);
}

static int verify(const char *name, const char *local, const char *remote, struct sl_error *err)
{
	_cleanup_free_ char *a = local_sums(local);
	_cleanup_free_ char *b = NULL;
	int r = guest_sums(name, remote, &b, err);

	if (!a || r != 0 || !b)
		return sl_error(err, -EIO, "copy: cannot checksum the copy");
	if (strcmp(a, b))
		return sl_error(err, -EIO, "copy: %s and %s:%s differ after the copy", local, name,
				remote);
	return 0;
}

static int copy_in(const char *src, const char *name, const char *dst, struct sl_error *err)
{
	_cleanup_free_ char *s1 = strdup(src);
	_cleanup_free_ char *s2 = strdup(src);
	char *dir = dirname(s1), *base = basename(s2);
	char *tar[] = { "tar", "-C", dir, "-cf", "-", "--", base, NULL };
	char *argv[] = { "sh", "-c", (char *)put_sh, "sh", (char *)dst, base, NULL };
	struct sl_exec_req r = { .argv = argv };
	_cleanup_free_ char *final = NULL;
	struct stat st;
	struct sl_spawn sp = {
		"tar", tar, true, { SL_SPAWN_INHERIT, SL_SPAWN_CAPTURE, SL_SPAWN_INHERIT }
	};
	size_t len;
	int fd, rc;
	pid_t pid;

	if (stat(src, &st) < 0)
		return sl_error(err, -EINVAL, "copy: %s: %s", src, strerror(errno));
	pid = sl_spawn_start(&sp, &fd);
	if (pid < 0)
		return sl_error(err, pid, "copy: cannot run tar: %s", strerror(-pid));
	rc = sl_agent_capture(name, &r, fd, &final, &len, err);
	close(fd);
	if (sl_spawn_wait(pid) != 0 && rc == 0)
		return sl_error(err, -EIO, "copy: tar of %s failed", src);
	if (rc != 0) {
		if (rc > 0)
			return sl_error(err, -EIO, "copy: unpacking in %s failed (status %d)", name,
					rc);
		return rc;
	}
	return verify(name, src, final, err);
}

struct extract_job {
	const char *dir, *root;
	struct sl_copy_limits lim;
	struct sl_error err; /* why it stopped */
	int r;
};

/*
 * The guest's tar stream, unpacked as it comes (struct sl_agent_reader) by
 * libexec/sl-unpack: libarchive is loaded only by a copy out, not by
 * every sl-exec, and the code the stream reaches runs in a process apart.
 */
static void extract(void *p, int fd)
{
	struct extract_job *j = p;
	char path[4096], bytes[24], entries[24];
	char *argv[] = { "sl-unpack", (char *)j->dir, (char *)j->root, bytes, entries, NULL };
	struct sl_spawn sp = { path, argv, false, { fd, SL_SPAWN_NULL, SL_SPAWN_CAPTURE } };
	struct sl_spawn_out o = { .max = 1024 };
	int st;

	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)j->lim.max_bytes);
	snprintf(entries, sizeof(entries), "%llu", (unsigned long long)j->lim.max_entries);
	if (sl_locate(path, sizeof(path), "SL_LIBEXEC_DIR", "../libexec", SL_LIBEXEC_DIR,
		      "sl-unpack") < 0 || access(path, X_OK) < 0) {
		j->r = sl_error(&j->err, -ENOENT, "no sl-unpack at %s: run make, or set SL_LIBEXEC_DIR",
				path);
	} else if ((st = sl_spawn_run(&sp, &o, -1)) != 0) {
		if (o.buf)
			o.buf[strcspn(o.buf, "\n")] = '\0';
		if (st == 1 && o.buf && *o.buf)
			j->r = sl_error(&j->err, -EPERM, "%s", o.buf);
		else
			j->r = sl_error(&j->err, st < 0 ? st : -EIO, "sl-unpack failed (%s %d)",
					st < 0 ? "error" : "status", st);
	}
	free(o.buf);
	/* Closed early on a refusal: the relay sees EPIPE and stops the guest's tar. */
	close(fd);
}

/* Where a copy out goes: @final, through a private directory @tmp beside it (@from in it). */
struct out_place {
	char final[PATH_MAX], tmp[PATH_MAX + 32], from[2 * PATH_MAX + 2];
};

static int out_place(const char *dst, const char *base, struct out_place *o, struct sl_error *err)
{
	char parent[PATH_MAX];
	struct stat st;

	if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(o->final, sizeof(o->final), "%s/%s", dst, base);
	else
		snprintf(o->final, sizeof(o->final), "%s", dst);
	snprintf(parent, sizeof(parent), "%s", o->final);
	snprintf(o->tmp, sizeof(o->tmp), "%s/.sl-cp.XXXXXX", dirname(parent));
	if (!mkdtemp(o->tmp))
		return sl_error(err, -errno, "copy: cannot make a directory beside %s: %s",
				o->final, strerror(errno));
	snprintf(o->from, sizeof(o->from), "%s/%s", o->tmp, base);
	return 0;
}

/*
 * Copy out of the guest. What it sends is a tar stream from a hostile
 * writer: it is unpacked by lib/vm/copy.c (in sl-unpack), never by tar(1) as root, into a
 * private directory beside the destination, and moved into place only
 * when every member passed, and its checksums match the guest's file.
 */
static int copy_out(const char *name, const char *src, const char *dst,
		    const struct sl_copy_limits *lim, struct sl_error *err)
{
	_cleanup_free_ char *s1 = strdup(src);
	_cleanup_free_ char *s2 = strdup(src);
	char *dir = s1 ? dirname(s1) : NULL, *base = s2 ? basename(s2) : NULL;
	char *argv[] = { "tar", "-C", dir, "-cf", "-", "--", base, NULL };
	struct extract_job job = { .root = base, .lim = *lim };
	struct sl_exec_req req = { .argv = argv };
	struct sl_agent_reader rd = { extract, &job, false };
	struct out_place o;
	int rc, sock;

	if (!dir || !base)
		return -ENOMEM;
	if (!strcmp(base, "/") || !strcmp(base, ".") || !strcmp(base, ".."))
		return sl_error(err, -EINVAL, "copy: %s:%s: name a file or a directory", name, src);
	if ((rc = out_place(dst, base, &o, err)) < 0)
		return rc;
	if ((sock = sl_agent_connect(name, err)) < 0) {
		rmdir(o.tmp);
		return sock;
	}
	job.dir = o.tmp;
	rc = sl_agent_exec_read(sock, &req, -1, &rd, 2, err);
	close(sock);
	if (job.r < 0) /* the thread ran, and refused */
		rc =
		    sl_error(err, job.r, "copy: %s:%s: %s: nothing copied", name, src, job.err.msg);
	else if (rc > 0)
		rc = sl_error(err, -EIO, "copy: %s:%s cannot be read (status %d)", name, src, rc);
	else if (rc == 0 && verify(name, o.from, src, NULL) < 0)
		/* checked before it takes the place of anything */
		rc = sl_error(err, -EIO,
			      "copy: what came from %s:%s differs from it (or cannot be "
			      "checked): nothing copied to %s",
			      name, src, o.final);
	else if (rc == 0 && (sl_remove_tree(o.final) < 0 || rename(o.from, o.final) < 0))
		rc = sl_error(err, -errno, "copy: cannot put the copy at %s: %s", o.final,
			      strerror(errno));
	sl_remove_tree(o.tmp);
	return rc;
}

/**
 * sl_cp() - sl-exec cp: copy a file or a tree into or out of a VM
 * @src: a host path, or NAME:/path
 * @dst: the same, the other side
 * @lim: what a copy out may bring (what the guest sends is hostile)
 * @err: why, when it fails
 *
 * Both ways go through the agent as a tar stream, and are checked against
 * the other side's sha256 sums before they count.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_cp(const char *src, const char *dst, const struct sl_copy_limits *lim,
	  struct sl_error *err)
{
	const char *sc = strchr(src, ':'), *dc = strchr(dst, ':');
	char name[64];

	if (!!sc == !!dc)
		return sl_error(err, -EINVAL, "cp: exactly one of SRC and DST must be NAME:/path");
	if (sc) {
		snprintf(name, sizeof(name), "%.*s", (int)(sc - src), src);
		return copy_out(name, sc + 1, dst, lim, err);
	}
	snprintf(name, sizeof(name), "%.*s", (int)(dc - dst), dst);
	return copy_in(src, name, dc + 1, err);
}
