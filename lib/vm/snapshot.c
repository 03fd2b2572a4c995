/* SPDX-License-Identifier: MIT */
/*
 * Snapshots of a running VM and VMs restored from them (docs/VM.md, "Snapshots and clones").
 *
 * A snapshot is two files: QEMU's device state without RAM (~14 KB,
 * xen-save-devices-state) and a sparse copy of the RAM the guest sees. A
 * VM booted cold has its RAM in a shared memfd, copied while it is paused;
 * a restored VM maps its snapshot's file privately, so its copy is that
 * file (copied before the pause) with the pages the guest wrote since (its
 * QEMU's anonymous pages, found by /proc/PID/pagemap) over it. A fork's
 * snapshot of a restored VM (--quick) keeps only those pages and names the
 * file (an overlay), and its restore writes them into its own private
 * mapping of that file. A restore runs the template's QEMU command line
 * with the copy mapped privately and the state fed in over QMP; the guest
 * then runs on from the instant of the snapshot, and the agent makes it
 * the new VM (address, name, clock, entropy).
 *
 * What a restore checks is in the manifest: the kernel, initrd, vCPUs,
 * memory and accelerator it was made with (a mismatch is bad input), and
 * the SHA-256 of both files (a changed file is a failure, found before
 * anything starts). The memory file's hash is checked only when its
 * inode, size or ctime differ from when it was written: hashing 256 MB
 * costs ~200 ms, more than the whole restore.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "fault.h"
#include "log.h"
#include "cidr.h"
#include "name.h"
#include "proto.h"
#include "qmp.h"
#include "snapshot.h"
#include "state.h"
#include "util.h"
#include "vm.h"

/*
 * 2: the QEMU that saved it is recorded; 3: its guest's agent takes a MAC
 * in the identity (an older one refuses the request as malformed); 4: the
 * state is the devices' alone and RAM always a file (a restored VM's too)
 */
#define SNAP_VERSION "4"
#define SHA_HEX 65

/* What the template's QEMU ran with, read back from its command line. */
struct qemu_line {
	char kernel[4096], initrd[4096], disk[4096], append[4096], mac[32], accel[8];
	char ram_base[4096]; /* a restore's: the file its RAM maps privately */
	unsigned vcpu, mem_mb;
	bool dhcp;
	bool ram_shared; /* a memfd: booted cold; else a restore's private mapping */
};

/* The value of a "key=" option inside a QEMU option list, commas undoubled. */
static void opt_value(const char *list, const char *key, char *buf, size_t len)
{
	const char *p = list;
	size_t k = strlen(key), o = 0;

	buf[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, key, k) && p[k] == '=') {
			for (p += k + 1; *p && o + 1 < len; p++) {
				if (*p == ',' && p[1] != ',')
					break;
				if (*p == ',')
					p++;
				buf[o++] = *p;
			}
			buf[o] = '\0';
			return;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
}

static int read_qemu_line(const char *name, int pid, struct qemu_line *l, struct sl_error *err)
{
	static char cmd[65536];
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, cmd, sizeof(cmd) - 1)) <= 0)
		return sl_error(err, -ESRCH, "QEMU %d: its command line: %s", pid, strerror(errno));
	cmd[n] = '\0';
	for (char *a = cmd; a < cmd + n; a += strlen(a) + 1) {
		char *v = a + strlen(a) + 1;

		if (v >= cmd + n)
			break;
		if (!strcmp(a, "-kernel"))
			snprintf(l->kernel, sizeof(l->kernel), "%s", v);
		else if (!strcmp(a, "-initrd"))
			snprintf(l->initrd, sizeof(l->initrd), "%s", v);
		else if (!strcmp(a, "-append"))
			snprintf(l->append, sizeof(l->append), "%s", v);
		else if (!strcmp(a, "-accel"))
			snprintf(l->accel, sizeof(l->accel), "%s", v);
		else if (!strcmp(a, "-smp"))
			l->vcpu = (unsigned)atoi(v);
		else if (!strcmp(a, "-m"))
			l->mem_mb = (unsigned)atoi(v);
		else if (!strcmp(a, "-drive"))
			opt_value(v, "file", l->disk, sizeof(l->disk));
		else if (!strncmp(v, "virtio-net-device,", 18))
			opt_value(v, "mac", l->mac, sizeof(l->mac));
		else if (!strcmp(a, "-object") && !strncmp(v, "memory-backend-memfd,", 21))
			l->ram_shared = true;
		else if (!strcmp(a, "-object") && !strncmp(v, "memory-backend-file,", 20))
			opt_value(v, "mem-path", l->ram_base, sizeof(l->ram_base));
	}
	if (!l->kernel[0]) {
		/* a restored VM's QEMU has no boot images: its state says what ran */
		_cleanup_kv_ struct sl_kv st = { 0 };
		const char *k, *i, *a;

		if (sl_state_load(name, &st, NULL) == 0 && (k = sl_kv_get(&st, "SL_BOOT_KERNEL")) &&
		    (i = sl_kv_get(&st, "SL_BOOT_INITRD")) && (a = sl_kv_get(&st, "SL_BOOT_APPEND"))) {
			snprintf(l->kernel, sizeof(l->kernel), "%s", k);
			snprintf(l->initrd, sizeof(l->initrd), "%s", i);
			snprintf(l->append, sizeof(l->append), "%s", a);
		}
	}
	l->dhcp = strstr(l->append, " ip=dhcp") != NULL;
	if (!l->kernel[0] || !l->mem_mb || !l->vcpu || !l->append[0])
		return sl_error(err, -EPROTO, "QEMU %d was not started by sl-boot", pid);
	return 0;
}

/* SHA-256 of what @update feeds, as hex. */
static void sha_hex(const unsigned char *md, unsigned len, char hex[SHA_HEX])
{
	for (unsigned i = 0; i < len && i < 32; i++)
		sprintf(hex + (size_t)2 * i, "%02x", md[i]);
}

/**
 * sha256_file() - a file's SHA-256, hex
 * @path: the file (a link is refused: snapshots are root's own record)
 * @hex: result
 * @err: why, when it fails
 *
 * Return: 0, or -errno with the error recorded
 */
static int sha256_file(const char *path, char hex[SHA_HEX], struct sl_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	unsigned char md[EVP_MAX_MD_SIZE];
	static unsigned char buf[1 << 20];
	unsigned len = 0;
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	if (n < 0)
		r = sl_error(err, -errno, "%s: %s", path, strerror(errno));
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	sha_hex(md, len, hex);
	return r;
}

/**
 * sl_file_id() - a file's identity for a quick "unchanged"
 * @st: its stat
 * @buf: "dev:inode:size:ctime"
 * @len: size of @buf
 *
 * ctime cannot be set back by anyone, so an equal one means no write since.
 */
void sl_file_id(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%ju:%ju:%jd:%jd.%09ld", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		 (intmax_t)st->st_size, (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/*
 * Record @path's identity under KEY_ID and, unless @quick, its hash under
 * KEY_SHA256. Without the hash only the file itself can be restored, not a
 * copy of it: enough for a snapshot restored at once and removed (a fork).
 */
static int record_file(struct sl_kv *m, const char *key, const char *path, bool quick,
		       struct sl_error *err)
{
	char hex[SHA_HEX], id[128], k[64];
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	if (!quick && (r = sha256_file(path, hex, err)) < 0)
		return r;
	sl_file_id(&st, id, sizeof(id));
	snprintf(k, sizeof(k), "%s_ID", key);
	r = sl_kv_set(m, k, id);
	snprintf(k, sizeof(k), "%s_SHA256", key);
	if (!quick)
		r |= sl_kv_set(m, k, hex);
	return r ? -ENOMEM : 0;
}

/*
 * Whether @path is still what the manifest recorded under @key: the same
 * identity, or else the same content.
 */
static int same_file(const struct sl_kv *m, const char *key, const char *path, bool *same,
		     struct sl_error *err)
{
	char hex[SHA_HEX], id[128], k[64];
	const char *want;
	struct stat st;
	int r;

	*same = false;
	if (lstat(path, &st) < 0)
		return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	sl_file_id(&st, id, sizeof(id));
	snprintf(k, sizeof(k), "%s_ID", key);
	if ((want = sl_kv_get(m, k)) && !strcmp(want, id)) {
		*same = true;
		return 0;
	}
	snprintf(k, sizeof(k), "%s_SHA256", key);
	if (!(want = sl_kv_get(m, k)))
		return 0; /* a quick snapshot's: only the file itself will do */
	if ((r = sha256_file(path, hex, err)) < 0)
		return r;
	*same = !strcmp(hex, want);
	return 0;
}

/* QEMU's memfd of guest RAM, opened through /proc. */
static int open_guest_ram(int qemu, struct sl_error *err)
{
	char dir[64], path[512], link[256];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", qemu);
	if (!(d = opendir(dir)))
		return sl_error(err, -errno, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strncmp(link, "/memfd:memory-backend-memfd", 27)) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);

			return fd < 0 ? sl_error(err, -errno, "%s: %s", path, strerror(errno)) : fd;
		}
	}
	return sl_error(err, -ENOENT,
			"QEMU %d has no memfd of guest RAM (started by an older sl-boot?)", qemu);
}

/*
 * @buf at @at of @out, page by page: a page of zeros is left a hole, or
 * made one (@punch: @out held other data there, which it must no longer).
 */
static int put_pages(int out, const unsigned char *buf, size_t n, off_t at, bool punch)
{
	static const unsigned char zero[4096];

	for (size_t i = 0; i < n;) {
		size_t run = 0;
		bool zeros = !memcmp(buf + i, zero, n - i < sizeof(zero) ? n - i : sizeof(zero));

		/* a run of pages alike, written or punched at once */
		while (i + run < n) {
			size_t l = n - i - run < sizeof(zero) ? n - i - run : sizeof(zero);

			if (!memcmp(buf + i + run, zero, l) != zeros)
				break;
			run += l;
		}
		if (!zeros ? pwrite(out, buf + i, run, at + (off_t)i) != (ssize_t)run
			   : punch && fallocate(out, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						at + (off_t)i, (off_t)run) < 0)
			return -1;
		i += run;
	}
	return 0;
}

/*
 * A sparse copy of @in into @out: only the pages that hold data are read
 * and written. A cold VM's memfd is copied while it is paused; a restored
 * VM's file, which no guest writes, before the pause.
 */
static int copy_ram(int in, int out, struct sl_error *err)
{
	static unsigned char buf[1 << 20];
	off_t size = lseek(in, 0, SEEK_END), at = 0;

	if (size < 0)
		return sl_error(err, -errno, "guest RAM: %s", strerror(errno));
	while (at < size) {
		off_t data = lseek(in, at, SEEK_DATA), hole;

		if (data < 0)
			break; /* the rest is a hole */
		hole = lseek(in, data, SEEK_HOLE);
		for (at = data; at < hole;) {
			size_t want = (size_t)(hole - at < (off_t)sizeof(buf) ? hole - at
									 : (off_t)sizeof(buf));
			ssize_t n = pread(in, buf, want, at);

			if (n <= 0 || put_pages(out, buf, (size_t)n, at, false) < 0)
				return sl_error(err, n < 0 ? -errno : -EIO, "copying guest RAM: %s",
						strerror(errno ? errno : EIO));
			at += n;
		}
	}
	if (ftruncate(out, size) < 0)
		return sl_error(err, -errno, "copying guest RAM: %s", strerror(errno));
	return 0;
}


/* The guest RAM a snapshot copies, and where it goes. */
struct ram_src {
	int fd;  /* a cold VM's memfd, or the file a restored VM maps privately */
	int out; /* the snapshot's memory file, or its written pages (an overlay) */
	struct sl_ram_vma vma[8];
	size_t n;     /* a restored VM's: its mappings of that file */
	uint8_t *map; /* an overlay's: which pages the guest wrote, a bit each */
	size_t pages; /* of the file */
};

static void ram_src_close(struct ram_src *src)
{
	if (src->fd >= 0)
		close(src->fd);
	if (src->out >= 0)
		close(src->out);
	free(src->map);
}

/**
 * sl_ram_maps_line() - whether a line of /proc/PID/maps maps @path privately
 * @line: the line, its newline or not
 * @path: the file, by its real path (the kernel's, " (deleted)" once removed)
 * @v: where it is mapped and from which offset of the file, when it does
 *
 * Return: true for a private mapping of @path, removed since or not
 */
bool sl_ram_maps_line(const char *line, const char *path, struct sl_ram_vma *v)
{
	unsigned long long off;
	char perms[8];
	int at = 0;
	size_t n = strlen(path);
	const char *p;

	if (sscanf(line, "%lx-%lx %7s %llx %*s %*u %n", &v->start, &v->end, perms, &off, &at) < 4 ||
	    !at || perms[3] != 'p')
		return false;
	p = line + at;
	v->off = (off_t)off;
	return !strncmp(p, path, n) && (!p[n] || p[n] == '\n' || !strncmp(p + n, " (deleted)", 10));
}

/*
 * Where QEMU @qemu maps @file, a restored VM's RAM: its private mappings of
 * it (one, or more if QEMU split it).
 */
static int ram_vmas(int qemu, const char *file, struct ram_src *src, struct sl_error *err)
{
	char p[128], real[PATH_MAX], *line = NULL;
	size_t cap = 0;
	_cleanup_fclose_ FILE *f = NULL;

	if (!realpath(file, real))
		snprintf(real, sizeof(real), "%s", file); /* removed: maps still names it so */
	snprintf(p, sizeof(p), "/proc/%d/maps", qemu);
	if (!(f = fopen(p, "re")))
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	src->n = 0;
	while (getline(&line, &cap, f) > 0 && src->n <= ARRAY_SIZE(src->vma)) {
		struct sl_ram_vma v;

		if (sl_ram_maps_line(line, real, &v) && src->n++ < ARRAY_SIZE(src->vma))
			src->vma[src->n - 1] = v;
	}
	free(line);
	if (src->n > ARRAY_SIZE(src->vma))
		return sl_error(err, -E2BIG, "QEMU %d maps its RAM's file in over %zu parts", qemu,
				ARRAY_SIZE(src->vma));
	return src->n ? 0
		      : sl_error(err, -ENOENT, "QEMU %d does not map its RAM's file %s", qemu,
				 file);
}

/* The file @src's first mapping maps, through map_files: the very one, even if renamed over. */
static int open_mapped(int qemu, const struct ram_src *src, struct sl_error *err)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%lx-%lx", qemu, src->vma[0].start,
		 src->vma[0].end);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? sl_error(err, -errno, "%s: %s", p, strerror(errno)) : fd;
}

/* Whether page @i is one the guest wrote, in an overlay's map; and marking it so. */
static bool page_written(const uint8_t *map, size_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void page_mark(uint8_t *map, size_t i)
{
	map[i / 8] |= (uint8_t)(1u << (i % 8));
}

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)

/*
 * The pages of a restored VM's RAM its guest wrote (its own now: anonymous,
 * no longer its file's, as pagemap tells) from its QEMU's memory into the
 * copy of that file, with the VM paused.
 */
static int copy_written(int qemu, const struct ram_src *src, struct sl_error *err)
{
	static unsigned char buf[256 << 12];
	uint64_t pm[256];
	char p[64], m[64];
	_cleanup_close_ int map = -1, mem = -1;
	const size_t page = 4096;

	snprintf(p, sizeof(p), "/proc/%d/pagemap", qemu);
	snprintf(m, sizeof(m), "/proc/%d/mem", qemu);
	if ((map = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	if ((mem = open(m, O_RDONLY | O_CLOEXEC)) < 0)
		return sl_error(err, -errno, "%s: %s", m, strerror(errno));
	for (size_t i = 0; i < src->n; i++) {
		const struct sl_ram_vma *v = &src->vma[i];

		for (unsigned long a = v->start; a < v->end;) {
			size_t k = (v->end - a) / page < ARRAY_SIZE(pm) ? (v->end - a) / page
									 : ARRAY_SIZE(pm);

			if (pread(map, pm, k * sizeof(*pm), (off_t)(a / page * sizeof(*pm))) !=
			    (ssize_t)(k * sizeof(*pm)))
				return sl_error(err, -EIO, "%s: %s", p, strerror(errno ? errno : EIO));
			for (size_t j = 0; j < k;) {
				size_t run = 0;

				while (j + run < k && (((pm[j + run] & PM_PRESENT) &&
							!(pm[j + run] & PM_FILE)) ||
						       (pm[j + run] & PM_SWAPPED)))
					run++;
				off_t at = v->off + (off_t)(a + j * page - v->start);

				if (run && (pread(mem, buf, run * page, (off_t)(a + j * page)) !=
						    (ssize_t)(run * page) ||
					    put_pages(src->out, buf, run * page, at, true) < 0))
					return sl_error(err, errno ? -errno : -EIO,
							"copying the RAM QEMU %d wrote: %s", qemu,
							strerror(errno ? errno : EIO));
				for (size_t w = 0; src->map && w < run; w++) {
					size_t pg = (size_t)at / page + w;

					if (pg < src->pages)
						page_mark(src->map, pg);
				}
				j += run ? run : 1;
			}
			a += k * page;
		}
	}
	return 0;
}

static int path_in(char *buf, size_t len, const char *dir, const char *file)
{
	return snprintf(buf, len, "%s/%s", dir, file) >= (int)len ? -ENAMETOOLONG : 0;
}

/**
 * sl_snapshot_remove() - remove a snapshot's files, then its directory
 * @dir: the snapshot
 */
void sl_snapshot_remove(const char *dir)
{
	static const char manifest_tmp[] = SL_SNAP_MANIFEST ".tmp";
	static const char *const files[] = { SL_SNAP_STATE,   SL_SNAP_MEMORY,	   SL_SNAP_WRITTEN,
					     SL_SNAP_WRITTEN_MAP, SL_SNAP_MANIFEST, manifest_tmp };
	char p[4200];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (path_in(p, sizeof(p), dir, files[i]) == 0)
			unlink(p);
	rmdir(dir);
}

/* The restored NIC's backend cut from its wire, or joined to it again. */
static int set_link(struct sl_qmp *q, bool up, struct sl_error *err)
{
	json_object *a = json_tokener_parse(up ? "{\"name\":\"" SL_QEMU_NETDEV "\",\"up\":true}"
					       : "{\"name\":\"" SL_QEMU_NETDEV "\",\"up\":false}");
	int r = sl_qmp_simple(q, "set_link", a, err);

	json_object_put(a);
	return r;
}

/*
 * QEMU's device state, guest RAM left out (xen-save-devices-state: not
 * Xen's alone, the device sections of a migration stream without its
 * iterative RAM), into @dir's state file, passed to QEMU as an fd set.
 */
static int save_devices(struct sl_qmp *q, const char *dir, struct sl_error *err)
{
	char p[4200], fdset[64];
	_cleanup_close_ int sfd = -1;
	json_object *a, *ret = NULL, *v = NULL;
	int r, set;

	if ((r = path_in(p, sizeof(p), dir, SL_SNAP_STATE)) < 0)
		return sl_error(err, r, "%s: path too long", dir);
	sfd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sfd < 0)
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	if ((r = sl_qmp_cmd(q, "add-fd", NULL, sfd, &ret, err)) < 0)
		return r;
	set = json_object_object_get_ex(ret, "fdset-id", &v) ? json_object_get_int(v) : -1;
	json_object_put(ret);
	if (set < 0)
		return sl_error(err, -EPROTO, "QEMU's add-fd answered no fdset-id");
	snprintf(fdset, sizeof(fdset), "/dev/fdset/%d", set);
	a = json_object_new_object();
	json_object_object_add(a, "filename", json_object_new_string(fdset));
	/* not live: else QEMU gives up the VM's disks to a migration's other side */
	json_object_object_add(a, "live", json_object_new_boolean(false));
	r = sl_qmp_simple(q, "xen-save-devices-state", a, err);
	json_object_put(a);
	/* the set's fd, QEMU's copy of ours, goes now, not with the monitor's session */
	a = json_object_new_object();
	json_object_object_add(a, "fdset-id", json_object_new_int(set));
	sl_qmp_simple(q, "remove-fd", a, NULL);
	json_object_put(a);
	return r;
}

/*
 * Whether the file a restored VM's RAM maps (@fd) is still the one at its
 * path: then a fork's snapshot can name it instead of copying it.
 */
static bool base_in_place(const char *path, int fd, char *real, size_t len)
{
	struct stat a, b;

	return realpath(path, real) && strlen(real) < len && fstat(fd, &a) == 0 &&
	       stat(real, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Open what a snapshot copies of @qemu's RAM (@l: its command line) and
 * where it goes in @dir. A restored VM's file is copied here, before the
 * pause (no guest writes it), and what the guest wrote over it is copied
 * paused; a fork's (@quick) snapshot names that file in @m instead, and
 * keeps only what the guest wrote (an overlay, restored at once).
 */
static int ram_open(int qemu, const struct qemu_line *l, const char *dir, bool quick,
		    struct ram_src *src, struct sl_kv *m, struct sl_error *err)
{
	char p[4200], real[PATH_MAX], id[128];
	struct stat st;
	int r;

	if (!l->ram_shared && !l->ram_base[0])
		return sl_error(err, -EPROTO, "QEMU %d's RAM is neither a memfd nor a file", qemu);
	if (l->ram_shared)
		src->fd = open_guest_ram(qemu, err);
	else if ((r = ram_vmas(qemu, l->ram_base, src, err)) < 0)
		return r;
	else
		src->fd = open_mapped(qemu, src, err);
	if (src->fd < 0)
		return src->fd;
	if (!l->ram_shared && quick && base_in_place(l->ram_base, src->fd, real, sizeof(real)) &&
	    fstat(src->fd, &st) == 0) {
		src->pages = (size_t)st.st_size / 4096;
		if (!(src->map = calloc(src->pages / 8 + 1, 1)))
			return -ENOMEM;
		sl_file_id(&st, id, sizeof(id));
		if (sl_kv_set(m, "SL_RAM_BASE", real) < 0 || sl_kv_set(m, "SL_RAM_BASE_ID", id) < 0)
			return -ENOMEM;
	}
	if ((r = path_in(p, sizeof(p), dir, src->map ? SL_SNAP_WRITTEN : SL_SNAP_MEMORY)) < 0)
		return sl_error(err, r, "%s: path too long", dir);
	src->out = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (src->out < 0)
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	if (src->map)
		return ftruncate(src->out, (off_t)src->pages * 4096) < 0
			       ? sl_error(err, -errno, "%s: %s", p, strerror(errno))
			       : 0;
	return l->ram_shared ? 0 : copy_ram(src->fd, src->out, err);
}

/* An overlay's map of written pages, into @dir. */
static int write_map(const char *dir, const struct ram_src *src, struct sl_error *err)
{
	char p[4200];
	_cleanup_close_ int fd = -1;
	size_t len = src->pages / 8 + 1;

	if (path_in(p, sizeof(p), dir, SL_SNAP_WRITTEN_MAP) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, src->map, len) != (ssize_t)len)
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	return 0;
}

/* The paused part: device state, then the RAM a cold VM holds or a restored one wrote. */
static int save_paused(struct sl_qmp *q, int qemu, const char *dir, const struct qemu_line *l,
		       const struct ram_src *src, struct sl_error *err)
{
	int r = save_devices(q, dir, err);

	if (r < 0)
		return r;
	if (l->ram_shared)
		return copy_ram(src->fd, src->out, err);
	if ((r = copy_written(qemu, src, err)) < 0)
		return r;
	return src->map ? write_map(dir, src, err) : 0;
}

static int write_manifest(const char *dir, const struct sl_kv *m, struct sl_error *err)
{
	char p[4200], tmp[4200];
	FILE *f;
	int r = 0;

	if (path_in(p, sizeof(p), dir, SL_SNAP_MANIFEST) < 0 ||
	    path_in(tmp, sizeof(tmp), dir, SL_SNAP_MANIFEST ".tmp") < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: path too long", dir);
	f = sl_run_fopen_new(tmp);
	if (!f)
		return sl_error(err, -errno, "%s: %s", tmp, strerror(errno));
	sl_kv_write(m, f, false);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, p) < 0)
		r = -errno;
	return r < 0 ? sl_error(err, r, "%s: %s", p, strerror(-r)) : 0;
}

/* The manifest's fixed part: what the template was made of. */
static int describe(struct sl_kv *m, const char *name, const struct qemu_line *l, int qemu,
		    unsigned flags, struct sl_error *err)
{
	char exe[64], bin[4096];
	bool quick = flags & SL_SNAP_QUICK;
	ssize_t n;
	int r = 0;

	r |= sl_kv_set(m, "SL_SNAPSHOT_VERSION", SNAP_VERSION);
	r |= sl_kv_set(m, "SL_SNAPSHOT_OF", name);
	r |= sl_kv_set(m, "SL_KERNEL", l->kernel);
	r |= sl_kv_set(m, "SL_INITRD", l->initrd);
	if (l->disk[0])
		r |= sl_kv_set(m, "SL_DISK", l->disk);
	r |= sl_kv_setf(m, "SL_VCPU", "%u", l->vcpu);
	r |= sl_kv_setf(m, "SL_MEM", "%u", l->mem_mb);
	r |= sl_kv_set(m, "SL_ACCEL", l->accel);
	r |= sl_kv_set(m, "SL_GUEST_NET", l->dhcp ? "dhcp" : "static");
	r |= sl_kv_set(m, "SL_MAC", l->mac);
	r |= sl_kv_set(m, "SL_APPEND", l->append);
	if (r)
		return -ENOMEM;
	if ((r = record_file(m, "SL_KERNEL", l->kernel, quick, err)) < 0 ||
	    (r = record_file(m, "SL_INITRD", l->initrd, quick, err)) < 0)
		return r;
	/*
	 * The QEMU that runs it: a state loads only into the QEMU that saved
	 * it. Through /proc: a binary replaced since QEMU started (an upgrade)
	 * is not the one that runs, and no restore could match it.
	 */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", qemu);
	if ((n = readlink(exe, bin, sizeof(bin) - 1)) < 0)
		return sl_error(err, -errno, "QEMU %d: %s", qemu, strerror(errno));
	bin[n] = '\0';
	{
		struct stat a, b;

		if (stat(exe, &a) < 0)
			return sl_error(err, -errno, "%s: %s", exe, strerror(errno));
		if (stat(bin, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			return sl_error(err, -EINVAL,
					"%s: its QEMU %s was replaced since it started (an "
					"upgrade?): its state would load into no QEMU there is; "
					"stop and start it first",
					name, bin);
		if (sl_kv_set(m, "SL_QEMU", bin) < 0)
			return -ENOMEM;
		return record_file(m, "SL_QEMU", bin, quick, err);
	}
}

/**
 * sl_qemu_path() - the QEMU binary a program name runs, as PATH finds it
 * @qemu: a path, or a name looked up in PATH
 * @buf: the binary's real path
 * @len: its size
 *
 * Return: 0, or -ENOENT
 */
int sl_qemu_path(const char *qemu, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char cand[4096];

	if (strchr(qemu, '/'))
		return realpath(qemu, cand) && snprintf(buf, len, "%s", cand) < (int)len ? 0 : -ENOENT;
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t k = strcspn(p, ":");
		char full[4096];

		if (k && snprintf(full, sizeof(full), "%.*s/%s", (int)k, p, qemu) < (int)sizeof(full) &&
		    access(full, X_OK) == 0 && realpath(full, cand))
			return snprintf(buf, len, "%s", cand) < (int)len ? 0 : -ENOENT;
		p += k + (p[k] == ':');
	}
	return -ENOENT;
}

/* Whether the guest's vCPUs run (QMP query-status). */
static int qmp_running(struct sl_qmp *q, bool *running, struct sl_error *err)
{
	json_object *ret = NULL, *s = NULL;
	int r = sl_qmp_cmd(q, "query-status", NULL, -1, &ret, err);

	if (r < 0)
		return r;
	json_object_object_get_ex(ret, "status", &s);
	*running = s && !strcmp(json_object_get_string(s), "running");
	json_object_put(ret);
	return 0;
}

/*
 * The VM's marker while it is paused for a snapshot: a kill -9 of
 * sl-boot snapshot leaves it paused and @dir half-written, and
 * sl_snapshot_abandoned() needs both to undo that.
 */
static int step_begin(struct sl_step *step, const char *dir, const char *final, bool running,
		      struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	_cleanup_free_ char *abs = realpath(dir, NULL);

	if (!abs)
		return sl_error(err, -errno, "%s: %s", dir, strerror(errno));
	if (sl_kv_set(&kv, "SL_SNAPSHOT_DIR", abs) < 0 || sl_kv_set(&kv, "SL_SNAPSHOT_FINAL", final) < 0 ||
	    sl_kv_set(&kv, "SL_WAS_RUNNING", running ? "1" : "0") < 0)
		return -ENOMEM;
	step->fd = sl_step_begin(step->name, SL_STEP_SNAPSHOT, &kv, err);
	return step->fd < 0 ? step->fd : 0;
}

/**
 * sl_snapshot_abandoned() - undo what a killed sl-boot snapshot left
 * @name: VM
 * @sw: the sweep: told what is (or would be) removed or resumed
 *
 * Its directory goes: the temporary one it was made in, never renamed into
 * place (or, recorded by an older sl-boot, the snapshot's own unless its
 * manifest was written); the VM runs again if it ran before the snapshot
 * paused it.
 *
 * Return: true when there was such a step
 */
bool sl_snapshot_abandoned(const char *name, struct sl_sweep *sw)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	const char *dir, *was;
	char p[4200];
	int fd = sl_step_abandoned(name, SL_STEP_SNAPSHOT, &kv);

	if (fd < 0)
		return false;
	dir = sl_kv_get(&kv, "SL_SNAPSHOT_DIR");
	was = sl_kv_get(&kv, "SL_WAS_RUNNING");
	if (dir && path_in(p, sizeof(p), dir, SL_SNAP_MANIFEST) == 0 &&
	    (sl_kv_get(&kv, "SL_SNAPSHOT_FINAL") || access(p, F_OK) < 0) &&
	    access(dir, F_OK) == 0) {
		sl_sweep_say(sw, "half-made snapshot %s of %s (its sl-boot snapshot died)", dir,
			     name);
		if (!sw->dry)
			sl_snapshot_remove(dir);
	}
	if (was && !strcmp(was, "1")) {
		sl_sweep_say(sw, "the pause of %s for a snapshot (it runs on)", name);
		if (!sw->dry)
			sl_vm_pause(name, false, NULL);
	}
	if (sw->dry)
		close(fd);
	else
		sl_step_end(name, SL_STEP_SNAPSHOT, fd);
	return true;
}

/*
 * Where a snapshot for @final is made: FINAL.tmp-PID beside it (0700),
 * which sl-gc knows for a maker's while the maker lives; and @final's
 * absolute path, recorded for sl-gc. @final must not exist.
 */
static int snapshot_tmp(const char *final, char *dir, size_t len, char *abs_final, size_t alen,
			struct sl_error *err)
{
	_cleanup_free_ char *parent = NULL;
	char d[4096], b[4096]; /* dirname() and basename() write into theirs */
	struct stat st;

	if ((size_t)snprintf(d, sizeof(d), "%s", final) >= sizeof(d))
		return sl_error(err, -ENAMETOOLONG, "snapshot directory %s: too long", final);
	snprintf(b, sizeof(b), "%s", final);
	if (lstat(final, &st) == 0)
		return sl_error(err, -EEXIST, "snapshot directory %s: exists: a snapshot goes into a new one",
				final);
	if (errno != ENOENT)
		return sl_error(err, -errno, "snapshot directory %s: %s", final, strerror(errno));
	if (!(parent = realpath(dirname(d), NULL)))
		return sl_error(err, -errno, "snapshot directory %s: %s", final, strerror(errno));
	if ((size_t)snprintf(dir, len, "%s.tmp-%d", final, (int)getpid()) >= len ||
	    (size_t)snprintf(abs_final, alen, "%s/%s", parent, basename(b)) >= alen)
		return sl_error(err, -ENAMETOOLONG, "snapshot directory %s: too long", final);
	if (mkdir(dir, 0700) < 0)
		return sl_error(err, -errno, "snapshot directory %s: %s", dir, strerror(errno));
	return 0;
}

/**
 * sl_snapshot_make() - snapshot a running VM into a new directory
 * @name: VM (running)
 * @dir: the snapshot's directory, made here (0700); it must not exist. It
 *	 is made as DIR.tmp-PID beside it and renamed into place whole, so
 *	 that nobody (another sl-up restoring from a template) sees half of one
 * @flags: SL_SNAP_STOP: stop the VM after, instead of letting it run on;
 *	   SL_SNAP_QUICK: no SHA-256 of any file, their identity only (a
 *	   snapshot restored at once and removed: a fork), so a copy of it
 *	   cannot be checked and is refused
 * @out: SL_SNAPSHOT (the directory), SL_PAUSED_MS, SL_STATE_BYTES
 * @err: why, when it fails
 *
 * The VM is paused while its state is saved and its RAM copied, and runs
 * on after (unless SL_SNAP_STOP) whether that worked or not. A VM booted
 * cold gives a state and a RAM file; one restored from a snapshot its RAM
 * inside the state. A failure leaves no directory.
 *
 * Return: 0; -ENXIO (not running), -EEXIST (@dir exists, or came to exist
 * meanwhile); or -errno, with the error recorded
 */
int sl_snapshot_make(const char *name, const char *final, unsigned flags, struct sl_kv *out,
		     struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv m = { 0 };
	_cleanup_step_ struct sl_step step = { name, SL_STEP_SNAPSHOT, -1 };
	struct sl_qmp q = { .fd = -1 };
	struct qemu_line l;
	__attribute__((cleanup(ram_src_close))) struct ram_src src = { .fd = -1, .out = -1 };
	bool running = false, quick = flags & SL_SNAP_QUICK;
	long long t0;
	char p[4200], dir[4200], abs_final[4200];
	int sup, qemu, r, rc;

	if ((r = sl_name_check(name, err)) < 0)
		return r;
	sl_vm_pids(name, &sup, &qemu);
	if (!sup || !qemu)
		return sl_error(err, -ENXIO, "%s is not running", name);
	if ((r = read_qemu_line(name, qemu, &l, err)) < 0 || (r = describe(&m, name, &l, qemu, flags, err)) < 0 ||
	    (r = snapshot_tmp(final, dir, sizeof(dir), abs_final, sizeof(abs_final), err)) < 0)
		return r;
	if ((r = sl_qmp_open(&q, name, 0, err)) < 0 || (r = qmp_running(&q, &running, err)) < 0 ||
	    (r = step_begin(&step, dir, abs_final, running, err)) < 0) {
		sl_qmp_close(&q);
		goto fail;
	}
	if ((r = ram_open(qemu, &l, dir, quick, &src, &m, err)) < 0) {
		sl_qmp_close(&q);
		goto fail;
	}
	t0 = sl_now_ms();
	if ((r = sl_qmp_simple(&q, "stop", NULL, err)) == 0)
		r = save_paused(&q, qemu, dir, &l, &src, err);
	if (sl_fault("paused", name))
		raise(SIGSTOP);
	/* as it was: a VM paused by sl-boot pause stays paused */
	if (!(flags & SL_SNAP_STOP) && running) {
		rc = sl_qmp_simple(&q, "cont", NULL, r < 0 ? NULL : err);
		r = r < 0 ? r : rc;
	}
	sl_qmp_close(&q);
	if (r < 0)
		goto fail;
	rc = sl_kv_setf(out, "SL_PAUSED_MS", "%lld", sl_now_ms() - t0);
	if (flags & SL_SNAP_STOP)
		sl_boot_stop(name, 0, NULL);
	if (src.map ? (r = path_in(p, sizeof(p), dir, SL_SNAP_WRITTEN)) < 0 ||
			      (r = record_file(&m, "SL_WRITTEN", p, quick, err)) < 0 ||
			      (r = path_in(p, sizeof(p), dir, SL_SNAP_WRITTEN_MAP)) < 0 ||
			      (r = record_file(&m, "SL_WRITTEN_MAP", p, quick, err)) < 0
		    : (r = path_in(p, sizeof(p), dir, SL_SNAP_MEMORY)) < 0 ||
			      (r = record_file(&m, "SL_MEMORY", p, quick, err)) < 0)
		goto fail;
	if ((r = path_in(p, sizeof(p), dir, SL_SNAP_STATE)) < 0 ||
	    (r = record_file(&m, "SL_STATE", p, quick, err)) < 0 ||
	    (r = write_manifest(dir, &m, err)) < 0)
		goto fail;
	{
		struct stat s;

		rc |= sl_kv_setf(out, "SL_STATE_BYTES", "%jd",
				 stat(p, &s) == 0 ? (intmax_t)s.st_size : (intmax_t)0);
	}
	/* into place whole; an empty directory made meanwhile would be replaced: not a snapshot's */
	if (rename(dir, final) < 0) {
		r = sl_error(err, errno == ENOTEMPTY || errno == EEXIST ? -EEXIST : -errno,
			     "snapshot directory %s: %s", final,
			     errno == ENOTEMPTY || errno == EEXIST ? "made meanwhile by another"
								    : strerror(errno));
		goto fail;
	}
	rc |= sl_kv_set(out, "SL_SNAPSHOT", final);
	return rc ? -ENOMEM : 0;
fail:
	sl_snapshot_remove(dir);
	return sl_error_wrap(err, r, "%s: snapshot", name);
}

/* @key of the manifest against what the restore was asked for (0: take it). */
static int match_num(const struct sl_kv *m, const char *key, const char *what, unsigned *v,
		     struct sl_error *err)
{
	const char *s = sl_kv_get(m, key);
	unsigned want = s ? (unsigned)strtoul(s, NULL, 10) : 0;

	if (!want)
		return sl_error(err, -EINVAL, "the snapshot's manifest has no %s", key);
	if (*v && *v != want)
		return sl_error(err, -EINVAL, "%s %u does not match the snapshot's %u", what, *v,
				want);
	*v = want;
	return 0;
}

/* A kernel or initrd: the snapshot's unless given, and unchanged since. */
static int match_file(const struct sl_kv *m, const char *key, const char *what,
		      const char **path, struct sl_error *err)
{
	const char *rec = sl_kv_get(m, key);
	bool same;
	int r;

	if (!rec)
		return sl_error(err, -EINVAL, "the snapshot's manifest has no %s", key);
	if (!*path)
		*path = rec;
	if ((r = same_file(m, key, *path, &same, err)) < 0)
		return r == -ENOENT ? sl_error(err, -EINVAL, "%s %s: %s", what, *path,
					       strerror(ENOENT))
				    : r;
	if (!same)
		return sl_error(err, -EINVAL, "%s %s is not the one the snapshot was made with%s",
				what, *path, strcmp(*path, rec) ? "" : " (it changed since)");
	return 0;
}

/* The QEMU to restore with is the one that saved the state (or a copy of it). */
static int match_qemu(const struct sl_kv *m, const char *qemu, struct sl_error *err)
{
	char bin[4096];
	bool same;
	int r;

	if (!qemu)
		qemu = "qemu-system-x86_64";
	if (sl_qemu_path(qemu, bin, sizeof(bin)) < 0)
		return sl_error(err, -EINVAL, "QEMU %s: not found", qemu);
	if ((r = same_file(m, "SL_QEMU", bin, &same, err)) < 0)
		return r;
	if (!same)
		return sl_error(err, -EINVAL,
				"QEMU %s is not the one the snapshot was made with (%s): a state "
				"loads only into the QEMU that saved it",
				bin, sl_kv_get(m, "SL_QEMU") ? sl_kv_get(m, "SL_QEMU") : "?");
	return 0;
}

static bool has_hash(const struct sl_kv *m, const char *key)
{
	char k[64];

	snprintf(k, sizeof(k), "%s_SHA256", key);
	return sl_kv_get(m, k) != NULL;
}

/* The snapshot's files: there, plain, and what was written. */
static int check_payload(const char *dir, const struct sl_kv *m, struct sl_error *err)
{
	static const struct {
		const char *file, *key;
	} f[] = { { SL_SNAP_STATE, "SL_STATE" },
		  { SL_SNAP_MEMORY, "SL_MEMORY" },
		  { SL_SNAP_WRITTEN, "SL_WRITTEN" },
		  { SL_SNAP_WRITTEN_MAP, "SL_WRITTEN_MAP" } };
	/* the state, and the memory or (an overlay's) the pages written */
	static const size_t pick[2][3] = { { 0, 1, 1 }, { 0, 2, 3 } };
	const size_t *use = pick[sl_kv_get(m, "SL_RAM_BASE") != NULL];
	char p[4200];
	bool same;

	for (size_t k = 0; k < 3; k++) {
		const size_t i = use[k];
		struct stat st;

		if (path_in(p, sizeof(p), dir, f[i].file) < 0)
			return sl_error(err, -ENAMETOOLONG, "%s: path too long", dir);
		if (lstat(p, &st) < 0)
			return sl_error(err, -EIO, "snapshot %s: %s: %s", dir, f[i].file,
					strerror(errno));
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
			return sl_error(err, -EIO,
					"snapshot %s: %s is not a plain file of ours: refusing it",
					dir, f[i].file);
		if (same_file(m, f[i].key, p, &same, err) < 0)
			return sl_error_wrap(err, -EIO, "snapshot %s", dir);
		if (!same && !has_hash(m, f[i].key))
			return sl_error(err, -EIO,
					"snapshot %s: %s is not the file written, and a --quick "
					"snapshot has no SHA-256 to check a copy by: refusing it",
					dir, f[i].file);
		if (!same)
			return sl_error(err, -EIO,
					"snapshot %s: %s is not what was written (its SHA-256 "
					"differs): refusing it",
					dir, f[i].file);
	}
	return 0;
}

/*
 * An overlay's base, the file its source's RAM mapped: still a plain file of
 * ours, large enough, and the very one the snapshot was made over.
 */
static int base_check(const struct sl_boot_cfg *c, const struct sl_kv *m, struct sl_error *err)
{
	const char *want = sl_kv_get(m, "SL_RAM_BASE_ID");
	char id[128];
	struct stat st;

	if (*c->ram_base != '/' || lstat(c->ram_base, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size < (off_t)c->mem_mb << 20)
		return sl_error(err, -EIO,
				"snapshot %s: the memory its pages go over, %s, is gone or not a "
				"plain file of ours: refusing it",
				c->from, c->ram_base);
	sl_file_id(&st, id, sizeof(id));
	if (!want || strcmp(id, want))
		return sl_error(err, -EIO,
				"snapshot %s: the memory its pages go over, %s, is not the file "
				"it was made over: refusing it",
				c->from, c->ram_base);
	return 0;
}

/**
 * sl_snapshot_prepare() - check a snapshot and fill a restore's QEMU line
 * @c: the VM to start; @c->from the snapshot; kernel, initrd (NULL), vcpu,
 *     mem_mb (0) and accel ("auto") are taken from it, else must match it
 * @manifest: loaded here; @c points into it, so it lives as long as @c
 * @err: why, when it fails
 *
 * Return: 0; -EINVAL (not a snapshot, unsafe directory, a mismatch);
 * -EIO (a file missing, truncated or altered)
 */
int sl_snapshot_prepare(struct sl_boot_cfg *c, struct sl_kv *manifest, struct sl_error *err)
{
	char p[4200];
	const char *v;
	int r;

	if ((r = sl_dir_check(c->from, "snapshot directory", err)) < 0)
		return r == -ENOENT ? sl_error(err, -EINVAL, "snapshot directory %s: %s", c->from,
					       strerror(ENOENT))
				    : r;
	if (path_in(p, sizeof(p), c->from, SL_SNAP_MANIFEST) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: path too long", c->from);
	if (access(p, F_OK) < 0)
		return sl_error(err, -EINVAL, "%s is not a snapshot (no %s)", c->from,
				SL_SNAP_MANIFEST);
	if (sl_kv_load(manifest, p, err) < 0)
		return sl_error_wrap(err, -EIO, "snapshot %s", c->from);
	if (!(v = sl_kv_get(manifest, "SL_SNAPSHOT_VERSION")) || strcmp(v, SNAP_VERSION))
		return sl_error(err, -EINVAL, "%s: a snapshot of version %s, not %s", c->from,
				v ? v : "(none)", SNAP_VERSION);
	if ((r = match_file(manifest, "SL_KERNEL", "kernel", &c->kernel, err)) < 0 ||
	    (r = match_file(manifest, "SL_INITRD", "initrd", &c->initrd, err)) < 0 ||
	    (r = match_num(manifest, "SL_VCPU", "--vcpu", &c->vcpu, err)) < 0 ||
	    (r = match_num(manifest, "SL_MEM", "--mem", &c->mem_mb, err)) < 0 ||
	    (r = match_qemu(manifest, c->qemu, err)) < 0)
		return r;
	v = sl_kv_get(manifest, "SL_ACCEL");
	if (!v || (c->accel && strcmp(c->accel, "auto") && strcmp(c->accel, v)))
		return sl_error(err, -EINVAL, "--accel %s does not match the snapshot's %s",
				c->accel, v ? v : "(none)");
	c->accel = v;
	if (!!sl_kv_get(manifest, "SL_DISK") != !!c->disk)
		return sl_error(err, -EINVAL,
				c->disk ? "the snapshot was made without a disk: no --disk"
					: "the snapshot was made with a disk: give this VM its own "
					  "copy with --disk");
	v = sl_kv_get(manifest, "SL_GUEST_NET");
	if (!v || strcmp(v, c->ip ? "static" : "dhcp"))
		return sl_error(err, -EINVAL,
				"the snapshot's guest took its address by %s, this VM by %s",
				v ? v : "(none)", c->ip ? "a static lease" : "DHCP");
	if (!sl_kv_get(manifest, "SL_APPEND"))
		return sl_error(err, -EINVAL, "the snapshot's manifest has no SL_APPEND");
	c->ram_base = sl_kv_get(manifest, "SL_RAM_BASE");
	if (c->ram_base && (r = base_check(c, manifest, err)) < 0)
		return r;
	return check_payload(c->from, manifest, err);
}

/* Where QEMU's mapping @d puts @off of its file (0: nowhere), and how much follows there. */
static unsigned long vma_addr(const struct ram_src *d, off_t off, size_t *left)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct sl_ram_vma *v = &d->vma[i];

		if (off >= v->off && off < v->off + (off_t)(v->end - v->start)) {
			*left = (size_t)(v->off + (off_t)(v->end - v->start) - off);
			return v->start + (unsigned long)(off - v->off);
		}
	}
	return 0;
}

/*
 * An overlay's pages, the ones its source's guest wrote, written into the
 * new QEMU's private mapping of the same file before its state loads: each
 * becomes this VM's own (a copy on write), the rest stays the file's,
 * shared with every VM that maps it.
 */
static int apply_written(const struct sl_boot_cfg *c, struct sl_error *err)
{
	static unsigned char buf[256 << 12];
	__attribute__((cleanup(ram_src_close))) struct ram_src d = { .fd = -1, .out = -1 };
	_cleanup_close_ int data = -1, map = -1, mem = -1;
	const size_t page = 4096, pages = ((size_t)c->mem_mb << 20) / page;
	char p[4200];
	int sup, qemu, r;

	sl_vm_pids(c->name, &sup, &qemu);
	if (!qemu)
		return sl_error(err, -ESRCH, "%s: its QEMU is gone", c->name);
	if ((r = ram_vmas(qemu, c->ram_base, &d, err)) < 0)
		return r;
	if (!(d.map = calloc(pages / 8 + 1, 1)))
		return -ENOMEM;
	if (path_in(p, sizeof(p), c->from, SL_SNAP_WRITTEN_MAP) < 0 ||
	    (map = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    read(map, d.map, pages / 8 + 1) < (ssize_t)(pages / 8) ||
	    path_in(p, sizeof(p), c->from, SL_SNAP_WRITTEN) < 0 ||
	    (data = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sl_error(err, -EIO, "%s: %s", p, strerror(errno ? errno : EIO));
	snprintf(p, sizeof(p), "/proc/%d/mem", qemu);
	if ((mem = open(p, O_RDWR | O_CLOEXEC)) < 0)
		return sl_error(err, -errno, "%s: %s", p, strerror(errno));
	for (size_t i = 0; i < pages;) {
		size_t run = 0, left = 0;
		unsigned long at;

		if (!page_written(d.map, i)) {
			i++;
			continue;
		}
		/* a run of written pages, within one of QEMU's mappings */
		at = vma_addr(&d, (off_t)(i * page), &left);
		while (i + run < pages && run < sizeof(buf) / page && run < left / page &&
		       page_written(d.map, i + run))
			run++;
		if (!at || !run ||
		    pread(data, buf, run * page, (off_t)(i * page)) != (ssize_t)(run * page) ||
		    pwrite(mem, buf, run * page, (off_t)at) != (ssize_t)(run * page))
			return sl_error(err, -EIO, "writing the pages of %s/%s into QEMU %d: %s",
					c->from, SL_SNAP_WRITTEN, qemu,
					at ? strerror(errno ? errno : EIO) : "not in its RAM");
		i += run;
	}
	return 0;
}

/**
 * sl_snapshot_incoming() - feed a started clone's QEMU its template's state
 * @c: the VM, whose QEMU waits (-incoming defer): its name, snapshot
 *     (@c->from), timeout (for QEMU's monitor to appear and the load)
 * @err: why, when it fails
 *
 * Returns once the guest runs.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_snapshot_incoming(const struct sl_boot_cfg *c, struct sl_error *err)
{
	const char *name = c->name, *dir = c->from;
	unsigned timeout_s = c->timeout_s;
	struct sl_qmp q;
	_cleanup_close_ int sfd = -1;
	json_object *a, *ret = NULL;
	long long until = sl_now_ms() + (long long)timeout_s * 1000;
	char p[4200];
	int r;

	if ((r = sl_qmp_open(&q, name, (int)timeout_s * 1000, err)) < 0)
		return r;
	sl_debug("%s: QEMU's monitor answers", name);
	if (c->ram_base && (r = apply_written(c, err)) < 0)
		goto out;
	if (path_in(p, sizeof(p), dir, SL_SNAP_STATE) < 0 ||
	    (sfd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		r = sl_error(err, -EIO, "%s: %s", p, strerror(errno));
		goto out;
	}
	/*
	 * The wire cut until the guest is its own VM (sl_snapshot_connect()):
	 * what it sends first says its template's address and MAC (ARP probes
	 * of old neighbours, QEMU's announcements after a migration), and a
	 * bridge would learn the template's MAC on this VM's port. Cut before
	 * the load, the guest sees no carrier change.
	 */
	if ((r = set_link(&q, false, err)) < 0)
		goto out;
	a = json_tokener_parse("{\"fdname\":\"sl-state\"}");
	r = sl_qmp_cmd(&q, "getfd", a, sfd, &ret, err);
	json_object_put(a);
	json_object_put(ret);
	if (r < 0)
		goto out;
	a = json_tokener_parse("{\"uri\":\"fd:sl-state\"}");
	r = sl_qmp_simple(&q, "migrate-incoming", a, err);
	json_object_put(a);
	/*
	 * The template was paused when saved, and QEMU keeps that: once the
	 * state is in ("paused", no longer "inmigrate"), the guest is continued.
	 */
	while (r == 0) {
		json_object *s = NULL;
		const char *st;

		ret = NULL;
		if ((r = sl_qmp_cmd(&q, "query-status", NULL, -1, &ret, err)) < 0)
			break;
		json_object_object_get_ex(ret, "status", &s);
		st = s ? json_object_get_string(s) : "";
		if (!strcmp(st, "running")) {
			sl_debug("%s: its state loaded, the guest runs", name);
			json_object_put(ret);
			break;
		}
		if (!strcmp(st, "paused")) {
			r = sl_qmp_simple(&q, "cont", NULL, err);
		} else if (strcmp(st, "inmigrate")) {
			r = sl_error(err, -EIO, "QEMU is %s, not running, after loading %s", st, p);
		} else if (sl_now_ms() >= until) {
			r = sl_error(err, -ETIMEDOUT, "loading %s took over %u s", p, timeout_s);
		}
		json_object_put(ret);
		if (r == 0)
			usleep(1000);
	}
out:
	sl_qmp_close(&q);
	return r < 0 ? sl_error_wrap(err, r, "restore from %s", dir) : 0;
}

/* One NUL-ended string onto the request; false when it does not fit. */
static bool put(uint8_t *p, size_t *len, size_t cap, const char *s)
{
	size_t n = strlen(s) + 1;

	if (*len + n > cap)
		return false;
	memcpy(p + *len, s, n);
	*len += n;
	return true;
}

/**
 * sl_guest_identity_set() - make a restored guest the VM @c is
 * @c: the VM: its name, address, gateway, name servers
 * @mac: the VM's own MAC (its NIC says the template's)
 * @err: why, when it fails
 *
 * One SL_IDENTITY request to the agent: the guest's clock, 64 bytes of the
 * host's entropy into its pool and a reseed, its hostname, MAC, address and
 * default route, resolv.conf (guest/identity.c).
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_guest_identity_set(const struct sl_boot_cfg *c, const char *mac, struct sl_error *err)
{
	char ip[SL_IP_STRLEN] = "-", gw[SL_IP_STRLEN] = "-", prefix[8] = "-", ns[32];
	uint8_t req[SL_IDENTITY_SEED + 512];
	size_t len = SL_IDENTITY_SEED;
	struct timespec now;
	bool ok;
	int r;

	if (getrandom(req, SL_IDENTITY_SEED, 0) != (ssize_t)SL_IDENTITY_SEED)
		return sl_error(err, -errno, "getrandom: %s", strerror(errno));
	if (c->ip) {
		sl_ip_fmt(c->ip, ip);
		sl_ip_fmt(c->gw, gw);
		snprintf(prefix, sizeof(prefix), "%u", c->prefix);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(ns, sizeof(ns), "%lld", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	ok = put(req, &len, sizeof(req), c->name) && put(req, &len, sizeof(req), ip) &&
	     put(req, &len, sizeof(req), prefix) && put(req, &len, sizeof(req), gw) &&
	     put(req, &len, sizeof(req), c->dns && *c->dns ? c->dns : "-") &&
	     put(req, &len, sizeof(req), ns) && put(req, &len, sizeof(req), mac);
	r = ok ? sl_agent_identity(c->name, req, len, err)
	       : sl_error(err, -E2BIG, "the identity request is too long");
	explicit_bzero(req, SL_IDENTITY_SEED);
	if (r < 0)
		return sl_error_wrap(err, r, "%s: giving the restored guest its identity", c->name);
	return 0;
}

/**
 * sl_guest_dhcp() - start a restored DHCP guest's client again
 * @c: the VM, given its identity and on the wire
 * @err: why, when it fails
 *
 * The identity ended its template's client and dropped its lease; the
 * guest's /sbin/sl-dhcp asks the LAN's server with this VM's MAC and
 * returns once it holds a lease, or after five tries without one (as at
 * boot).
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_guest_dhcp(const struct sl_boot_cfg *c, struct sl_error *err)
{
	char *argv[] = { "/sbin/sl-dhcp", (char *)c->name, NULL };
	struct sl_exec_req req = { .argv = argv };
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int r;

	if (null < 0)
		return sl_error(err, -errno, "/dev/null: %s", strerror(errno));
	r = sl_agent_run(c->name, &req, -1, null, null, err);
	if (r > 0)
		r = sl_error(err, -EIO, "/sbin/sl-dhcp in the guest ended with status %d", r);
	return r < 0 ? sl_error_wrap(err, r, "%s: its DHCP client", c->name) : 0;
}

/**
 * sl_snapshot_key() - a short name for what a template is made of
 * @kernel: the kernel file
 * @initrd: the initramfs
 * @qemu: the QEMU binary (a path, or a name PATH finds)
 * @vcpu: vCPUs
 * @mem_mb: memory
 * @net: what of the guest's network a restore cannot change: "dhcp" (a
 *       client runs in the guest) or "static"
 * @key: result, 16 hex digits
 * @err: why, when it fails
 *
 * The files are named by their identity (device, inode, size, ctime): a
 * kernel rebuilt or QEMU upgraded gives another key, so a kept template is
 * reused only while what it was made of is unchanged. The guest's name,
 * address, MAC and name servers are not in it: the identity sets them.
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_snapshot_key(const char *kernel, const char *initrd, const char *qemu, unsigned vcpu,
		    unsigned mem_mb, const char *net, char key[17], struct sl_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char text[600], k[128], i[128], q[128], bin[4096], hex[SHA_HEX];
	unsigned len = 0;
	struct stat st;

	if (stat(kernel, &st) < 0)
		return sl_error(err, -EINVAL, "kernel %s: %s", kernel, strerror(errno));
	sl_file_id(&st, k, sizeof(k));
	if (stat(initrd, &st) < 0)
		return sl_error(err, -EINVAL, "initrd %s: %s", initrd, strerror(errno));
	sl_file_id(&st, i, sizeof(i));
	if (sl_qemu_path(qemu, bin, sizeof(bin)) < 0 || stat(bin, &st) < 0)
		return sl_error(err, -EINVAL, "QEMU %s: not found", qemu);
	sl_file_id(&st, q, sizeof(q));
	snprintf(text, sizeof(text), "v%s %s %s %s %u %u %.64s", SNAP_VERSION, k, i, q, vcpu, mem_mb,
		 net);
	if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL))
		return sl_error(err, -ENOMEM, "hashing a template's key");
	sha_hex(md, len, hex);
	snprintf(key, 17, "%.16s", hex);
	return 0;
}

/* Whether a VM's state says it was restored from @dir, or maps its memory. */
static bool template_used(const char *dir)
{
	char **names;
	size_t n, len = strlen(dir);
	bool used = false;

	if (sl_state_list(&names, &n, NULL) < 0)
		return true; /* when in doubt, keep */
	for (size_t i = 0; i < n && !used; i++) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		const char *s;

		if (sl_state_load(names[i], &st, NULL) < 0)
			continue;
		used = ((s = sl_kv_get(&st, "SL_SNAPSHOT")) && !strcmp(s, dir)) ||
		       ((s = sl_kv_get(&st, "SL_RAM_BASE")) && !strncmp(s, dir, len) &&
			s[len] == '/');
	}
	sl_strv_free(names, n);
	return used;
}

/* The newest complete template of a group directory, by its manifest's time. */
static void newest_template(const char *group, char *best, size_t len)
{
	_cleanup_closedir_ DIR *d = opendir(group);
	struct timespec t = { 0 };
	struct dirent *e;

	best[0] = '\0';
	while (d && (e = readdir(d))) {
		char p[4300];
		struct stat st;

		if (e->d_name[0] == '.' || strchr(e->d_name, '.'))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s/%s", group, e->d_name, SL_SNAP_MANIFEST) >=
		    (int)sizeof(p))
			continue;
		if (stat(p, &st) == 0 && (st.st_mtim.tv_sec > t.tv_sec ||
					  (st.st_mtim.tv_sec == t.tv_sec &&
					   st.st_mtim.tv_nsec > t.tv_nsec))) {
			t = st.st_mtim;
			snprintf(best, len, "%s", e->d_name);
		}
	}
}

/* One group's templates: all but the newest unless a VM runs from one;
 * a half-made one whose maker is gone. */
static int templates_gc_group(const char *group, struct sl_sweep *sw)
{
	_cleanup_closedir_ DIR *d = opendir(group);
	char best[256], p[4300];
	struct dirent *e;
	int found = 0;

	newest_template(group, best, sizeof(best));
	while (d && (e = readdir(d))) {
		const char *tmp = strstr(e->d_name, ".tmp-");

		if (e->d_name[0] == '.' || !strcmp(e->d_name, best))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", group, e->d_name) >= (int)sizeof(p))
			continue;
		if (tmp ? sl_proc_start(atoi(tmp + 5), NULL) == 0 : template_used(p))
			continue;
		sl_sweep_say(sw, "template %s (nothing uses it)", p);
		found++;
		if (!sw->dry)
			sl_snapshot_remove(p);
	}
	if (!sw->dry)
		rmdir(group); /* once empty */
	return found;
}

/**
 * sl_templates_gc() - remove sl-up's templates nothing uses
 * @sw: the sweep, told each template directory that goes
 *
 * Of each group's kept templates, the newest stays (the next sl-up reuses
 * it); older ones go unless a VM still runs from one, and so do half-made
 * ones whose sl-up is gone.
 *
 * Return: how many went (or would)
 */
int sl_templates_gc(struct sl_sweep *sw)
{
	char top[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int found = 0;

	if (sl_run_path(top, sizeof(top), "%s", SL_TEMPLATES) < 0 || !(d = opendir(top)))
		return 0;
	while ((e = readdir(d))) {
		char group[4300];

		if (e->d_name[0] == '.')
			continue;
		if (snprintf(group, sizeof(group), "%s/%s", top, e->d_name) < (int)sizeof(group))
			found += templates_gc_group(group, sw);
	}
	if (!sw->dry)
		rmdir(top);
	return found;
}

/* Whether the file manifest @m names under @key is still the one it
 * recorded (KEY_ID): a kernel rebuilt or QEMU upgraded gives another key,
 * so a template made of the old one is never chosen again. */
static bool still_same(const struct sl_kv *m, const char *key)
{
	char idk[64], id[128];
	const char *path = sl_kv_get(m, key), *want;
	struct stat st;

	snprintf(idk, sizeof(idk), "%s_ID", key);
	want = sl_kv_get(m, idk);
	if (!path || !want || stat(path, &st) < 0)
		return false;
	sl_file_id(&st, id, sizeof(id));
	return !strcmp(id, want);
}

/* Whether a process of this host maps @path: a VM restored from that
 * template (any run dir's: their state is not ours to read) or a fork
 * loaded over it. Its maps name the file by its resolved path. */
static bool mapped_by_any(const char *path)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	size_t n = strlen(path);
	struct dirent *e;
	bool hit = false;

	while (d && !hit && (e = readdir(d))) {
		char maps[300], *line = NULL;
		size_t cap = 0;
		ssize_t len;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(maps, sizeof(maps), "/proc/%s/maps", e->d_name);
		if (!(f = fopen(maps, "re")))
			continue;
		while (!hit && (len = getline(&line, &cap, f)) > 0) {
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			hit = (size_t)len > n && line[len - (ssize_t)n - 1] == ' ' &&
			      !strcmp(line + len - n, path);
		}
		free(line);
		fclose(f);
	}
	return hit;
}

/* A template of the store that cannot be chosen again and that nothing maps. */
static bool store_template_stale(const char *dir)
{
	_cleanup_kv_ struct sl_kv m = { 0 };
	char p[4400], real[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/%s", dir, SL_SNAP_MANIFEST) >= (int)sizeof(p) ||
	    sl_kv_load(&m, p, NULL) < 0)
		return false; /* not a template of ours */
	if (still_same(&m, "SL_KERNEL") && still_same(&m, "SL_INITRD") && still_same(&m, "SL_QEMU"))
		return false; /* the next sl-up of that shape takes it */
	snprintf(p, sizeof(p), "%s/%s", dir, SL_SNAP_MEMORY);
	return !realpath(p, real) || !mapped_by_any(real);
}

/**
 * sl_template_store_gc() - remove what of $SL_TEMPLATE_DIR can never serve
 * @sw: the sweep, told each template directory that goes
 *
 * A store is shared by run dirs this sl-gc knows nothing of, so a
 * template's use is judged by the host, not by this run dir's state: one
 * goes when its kernel, initrd or QEMU changed since it was made (no
 * sl-up chooses it again) and no process maps its memory; a half-made one
 * when its maker is gone. One that can still be chosen stays.
 *
 * Return: how many went (or would)
 */
int sl_template_store_gc(struct sl_sweep *sw)
{
	const char *store = getenv("SL_TEMPLATE_DIR");
	_cleanup_closedir_ DIR *d = NULL;
	struct sl_error err = { 0 };
	struct dirent *e;
	int found = 0, r;

	if (!store || *store != '/' || access(store, F_OK) < 0)
		return 0;
	/* nothing is read or removed from a folder others could have planted in */
	if ((r = sl_dir_check(store, "SL_TEMPLATE_DIR", &err)) < 0) {
		sl_warn("%s: not swept", sl_error_msg(&err, r));
		return 0;
	}
	if (!(d = opendir(store)))
		return 0;
	while ((e = readdir(d))) {
		const char *tmp = strstr(e->d_name, ".tmp-");
		char p[4300];

		if (e->d_name[0] == '.' ||
		    snprintf(p, sizeof(p), "%s/%s", store, e->d_name) >= (int)sizeof(p) ||
		    sl_dir_check(p, "template", NULL) < 0) /* a link, someone else's: not ours */
			continue;
		if (tmp ? sl_proc_start(atoi(tmp + 5), NULL) == 0 : !store_template_stale(p))
			continue;
		sl_sweep_say(sw, "template %s (%s)", p,
			     tmp ? "half-made, its maker gone"
				 : "its kernel, initrd or QEMU changed; nothing maps it");
		found++;
		if (!sw->dry)
			sl_snapshot_remove(p);
	}
	return found;
}

/* Whether VM @name (state @st, loaded or empty) runs, restored from @dir. */
static bool fork_runs_from(const char *name, const struct sl_kv *st, const char *dir)
{
	const char *s = sl_kv_get(st, "SL_SNAPSHOT");
	int sup, qemu;

	if (!s || strcmp(s, dir))
		return false;
	sl_vm_pids(name, &sup, &qemu);
	return sup && qemu;
}

/**
 * sl_forks_gc() - remove the snapshots of forks no fork is made or runs from
 * @sw: the sweep, told each directory that goes
 *
 * sl-up fork removes a snapshot's state once the fork runs, and sl-up down
 * the rest; a kill, or a fork stopped by hand, leaves it. It is kept while
 * the fork's state names a live owner, and while the fork runs from it.
 *
 * Return: how many went (or would)
 */
int sl_forks_gc(struct sl_sweep *sw)
{
	char top[4096];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *e;
	int found = 0;

	if (sl_run_path(top, sizeof(top), "%s", SL_FORKS) < 0 || !(d = opendir(top)))
		return 0;
	while ((e = readdir(d))) {
		_cleanup_kv_ struct sl_kv st = { 0 };
		char p[4400];

		if (e->d_name[0] == '.' ||
		    snprintf(p, sizeof(p), "%s/%s", top, e->d_name) >= (int)sizeof(p))
			continue;
		/* an owner recorded and alive: the fork is being made */
		if (sl_name_check(e->d_name, NULL) == 0 && sl_state_load(e->d_name, &st, NULL) == 0 &&
		    sl_kv_get(&st, "SL_OWNER_PID") && !sl_owner_gone(&st))
			continue;
		/* the fork runs from it: its RAM maps the memory there */
		if (fork_runs_from(e->d_name, &st, p))
			continue;
		sl_sweep_say(sw, "fork snapshot %s (no fork made or running from it)", p);
		found++;
		if (!sw->dry)
			sl_snapshot_remove(p);
	}
	return found;
}

/**
 * sl_snapshot_connect() - join a restored VM's NIC to its wire again
 * @name: the VM, restored and given its identity
 * @err: why, when it fails
 *
 * Return: 0, or -errno with the error recorded
 */
int sl_snapshot_connect(const char *name, struct sl_error *err)
{
	struct sl_qmp q;
	int r;

	if ((r = sl_qmp_open(&q, name, 0, err)) < 0)
		return r;
	r = set_link(&q, true, err);
	sl_qmp_close(&q);
	return r < 0 ? sl_error_wrap(err, r, "%s: connecting its NIC", name) : 0;
}

/**
 * sl_vm_pause() - stop or continue a VM's vCPUs (QMP stop/cont)
 *
 * Return: 0, -ENXIO when not running, or -errno with the error recorded
 */
int sl_vm_pause(const char *name, bool pause, struct sl_error *err)
{
	struct sl_qmp q;
	int sup, qemu, r;

	if ((r = sl_name_check(name, err)) < 0)
		return r;
	sl_vm_pids(name, &sup, &qemu);
	if (!sup || !qemu)
		return sl_error(err, -ENXIO, "%s is not running", name);
	if ((r = sl_qmp_open(&q, name, 0, err)) < 0)
		return r;
	r = sl_qmp_simple(&q, pause ? "stop" : "cont", NULL, err);
	sl_qmp_close(&q);
	return r;
}
