/* SPDX-License-Identifier: MIT */
/* sl-exec: into a running VM through its agent, not its network. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "copy.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "proto.h"
#include "spawn.h"
#include "state.h"
#include "util.h"
#include "vm.h"

enum {
	OPT_CWD = OPT_TOOL,
	OPT_USER,
	OPT_TTY,
	OPT_ATTACH,
	OPT_ENVFILE,
	OPT_MAX_SIZE,
};

static const char usage[] =
    "Usage: sl-exec [OPTION]... NAME [--] CMD [ARG]...\n"
    "       sl-exec [OPTION]... shell NAME\n"
    "       sl-exec [OPTION]... cp SRC DST          (NAME:/path on one side)\n"
    "       sl-exec [OPTION]... forward NAME [BIND:]LPORT:HOST:RPORT\n"
    "       sl-exec [OPTION]... console [--attach] NAME\n"
    "Run a command in VM NAME through its agent: stdin, stdout, stderr and the\n"
    "exit status are carried through (128+N when killed by signal N).\n\n"
    "  -e, --env K=V     set a variable for the command (repeatable)\n"
    "      --env-file F  read SL_* inputs from F (what --env FILE is in the other tools)\n"
    "  -w, --cwd DIR     run in DIR\n"
    "  -u, --user U      run as user U (name or uid)\n"
    "  -t, --tty         give the command a pty (a shell, an editor)\n"
    "      --attach      console: attach to it (Ctrl-] detaches) instead of printing the log\n"
    "      --max-size N  cp out of the VM: stop past N bytes (K, M, G suffixes; default 1G)\n"
    "  -h, --help, -V, --version, --json\n"
    "\nExit status: the command's; 1 failure; 2 bad input or VM not running.\n";

static struct sl_exec_req req;
static struct sl_copy_limits copy_limits = {
	.max_bytes = SL_COPY_MAX_BYTES_DEFAULT,
	.max_entries = SL_COPY_MAX_ENTRIES_DEFAULT,
};
static bool attach;
/* What -t and shell run when no command is given. */
static char *login_shell[] = { "/bin/sh", "-l", NULL };

/* A byte count with an optional K, M, G or T (powers of 1024). */
static int parse_size(const char *s, uint64_t *v)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long n;
	const char *u;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return -EINVAL;
		for (int i = 0; i <= u - units; i++) {
			if (n > UINT64_MAX / 1024)
				return -EINVAL;
			n *= 1024;
		}
	}
	if (!n)
		return -EINVAL;
	*v = n;
	return 0;
}

/*
 * Options stand anywhere before a "--" (`sl-exec NAME --user u -- id`); with
 * no "--", parsing stops at the first word, so that in `sl-exec NAME ls -l`
 * the command's options stay its own.
 */
/* -e/--env K=V: the command's variable, not the other tools' env file. */
static int take_env(struct sl_cli *cli, char *kv)
{
	char **nv;

	if (!strchr(kv, '=') || kv[0] == '=')
		return sl_cli_usage(cli,
						"-e/--env takes K=V, not '%s' (an env file of "
						"SL_* inputs is --env-file FILE)",
						kv);
	if (!(nv = realloc(req.env, (req.nenv + 1) * sizeof(*nv))))
		return sl_error(cli->err, -ENOMEM, "-e: %s", strerror(ENOMEM));
	req.env = nv;
	req.env[req.nenv++] = kv;
	return SL_CLI_GO_ON;
}

/* One of sl-exec's own options: SL_CLI_GO_ON to go on, else what main returns. */
static int take_opt(struct sl_cli *cli, int opt, struct sl_error *err)
{
	if (opt == OPT_ENV || opt == 'e')
		return take_env(cli, optarg);
	if (opt == OPT_ENVFILE && sl_input_env_file(optarg, err) < 0)
		return sl_error_wrap(err, -EINVAL, "--env-file");
	if (opt == OPT_MAX_SIZE && parse_size(optarg, &copy_limits.max_bytes) < 0)
		return sl_cli_usage(cli, "bad --max-size '%s': a size such as 500M or 4G", optarg);
	if (opt == 'w' || opt == OPT_CWD)
		req.cwd = optarg;
	if (opt == 'u' || opt == OPT_USER)
		req.user = optarg;
	req.pty |= opt == 't' || opt == OPT_TTY;
	attach |= opt == OPT_ATTACH;
	return SL_CLI_GO_ON;
}

static int parse_opts(struct sl_cli *cli, int argc, char **argv, bool permute, struct sl_error *err)
{
	static const struct option opts[] = {
		SL_COMMON_OPTIONS,
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "user", required_argument, NULL, OPT_USER },
		{ "tty", no_argument, NULL, OPT_TTY },
		{ "attach", no_argument, NULL, OPT_ATTACH },
		{ "env-file", required_argument, NULL, OPT_ENVFILE },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, permute ? ":hVe:w:u:t" : "+:hVe:w:u:t", opts,
				  NULL)) != -1) {
		if (opt != OPT_ENV && opt != 'e' && sl_cli_common(cli, opt, optarg, argv)) {
			if (cli->done != SL_CLI_GO_ON)
				return cli->done;
		} else if ((r = take_opt(cli, opt, err)) != SL_CLI_GO_ON) {
			return r;
		}
	}
	return SL_CLI_GO_ON;
}

/*
 * Where a command's status passes through (run, shell, console --attach),
 * sl-exec's own failure after its input was accepted (the VM is not
 * running, the agent went away, garbage on the channel) is 255, as ssh's:
 * no status a command gives by accident. Bad input stays 2, before
 * anything was sent.
 */
#define SL_EXEC_OWN_FAILURE 255

static int own_failure(int r, struct sl_error *err)
{
	sl_err("%s", sl_error_msg(err, r));
	return SL_EXEC_OWN_FAILURE;
}

static int exit_for(int r, struct sl_error *err)
{
	if (r >= 0)
		return r;
	if (r == -EPIPE) /* our stdout was closed: end as the command would */
		return 128 + SIGPIPE;
	return own_failure(r, err);
}

static int run(const char *name, char **cmd, struct sl_error *err)
{
	int sock = sl_agent_connect(name, err);

	if (sock < 0)
		return own_failure(sock, err);
	req.argv = cmd;
	return exit_for(sl_agent_exec(sock, &req, 0, 1, 2, err), err);
}

/* ---- copy ---- */

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
	int fd;
	const char *dir, *root;
	struct sl_copy_limits lim;
	struct sl_copy_result res;
	struct sl_error err; /* why it stopped */
	int r;
};

/* What may follow a tar's end marker (busybox pads to 10 KiB records). */
#define TRAILER_MAX (1u << 20)

static void *extract_thread(void *p)
{
	struct extract_job *j = p;

	j->r = sl_copy_extract(j->fd, j->dir, j->root, &j->lim, &j->res, &j->err);
	if (j->r == 0) {
		char b[16384];
		size_t left = TRAILER_MAX;
		ssize_t n;

		while ((n = read(j->fd, b, sizeof(b))) > 0) {
			if ((size_t)n > left) {
				j->r = sl_error(&j->err, -EFBIG,
						"more than %u bytes after the archive's end",
						TRAILER_MAX);
				break;
			}
			left -= (size_t)n;
		}
	}
	/* Closed early on a refusal: the relay sees EPIPE and stops the guest's tar. */
	close(j->fd);
	return NULL;
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

/* The guest's tar into @job (unpacked by a thread as it comes): tar's status, or -errno. */
static int out_stream(int sock, char **argv, struct extract_job *job, struct sl_error *err)
{
	struct sl_exec_req r = { .argv = argv };
	pthread_t th;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	job->fd = p[0];
	if ((rc = -pthread_create(&th, NULL, extract_thread, job)) < 0) {
		close(p[0]);
		close(p[1]);
		return rc;
	}
	rc = sl_agent_exec(sock, &r, -1, p[1], 2, err);
	close(p[1]);
	pthread_join(th, NULL);
	return rc;
}

/*
 * Copy out of the guest. What it sends is a tar stream from a hostile
 * writer: it is unpacked by lib/vm/copy.c, never by tar(1) as root, into a
 * private directory beside the destination, and moved into place only
 * when every member passed, and its checksums match the guest's file.
 */
static int copy_out(const char *name, const char *src, const char *dst, struct sl_error *err)
{
	_cleanup_free_ char *s1 = strdup(src);
	_cleanup_free_ char *s2 = strdup(src);
	char *dir = s1 ? dirname(s1) : NULL, *base = s2 ? basename(s2) : NULL;
	char *argv[] = { "tar", "-C", dir, "-cf", "-", "--", base, NULL };
	struct extract_job job = { .root = base, .lim = copy_limits };
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
	rc = out_stream(sock, argv, &job, err);
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
	else if (rc == 0 && (sl_copy_remove_tree(o.final) < 0 || rename(o.from, o.final) < 0))
		rc = sl_error(err, -errno, "copy: cannot put the copy at %s: %s", o.final,
			      strerror(errno));
	sl_copy_remove_tree(o.tmp);
	return rc;
}

static int copy(const char *src, const char *dst, struct sl_error *err)
{
	const char *sc = strchr(src, ':'), *dc = strchr(dst, ':');
	char name[64];

	if (!!sc == !!dc)
		return sl_error(err, -EINVAL, "cp: exactly one of SRC and DST must be NAME:/path");
	if (sc) {
		snprintf(name, sizeof(name), "%.*s", (int)(sc - src), src);
		return copy_out(name, sc + 1, dst, err);
	}
	snprintf(name, sizeof(name), "%.*s", (int)(dc - dst), dst);
	return copy_in(src, name, dc + 1, err);
}

/* ---- forward ---- */

/* [BIND:]LPORT:HOST:RPORT: the address to listen on, and what to reach in the guest. */
struct fwd {
	char bind[64], target[300];
	struct sockaddr_in sa;
	unsigned lport;
};

static int forward_parse(const char *spec, struct fwd *f, struct sl_error *err)
{
	const char *p = spec, *c;
	int n = 0;

	snprintf(f->bind, sizeof(f->bind), "127.0.0.1");
	f->sa = (struct sockaddr_in){ .sin_family = AF_INET };
	for (c = spec; *c; c++)
		n += *c == ':';
	if (n == 3) {
		c = strchr(spec, ':');
		snprintf(f->bind, sizeof(f->bind), "%.*s", (int)(c - spec), spec);
		p = c + 1;
	}
	if ((n != 2 && n != 3) || sscanf(p, "%u:", &f->lport) != 1 || !f->lport ||
	    f->lport > 65535 || inet_pton(AF_INET, f->bind, &f->sa.sin_addr) != 1)
		return sl_error(err, -EINVAL, "bad forward '%s': want [BIND:]LPORT:HOST:RPORT",
				spec);
	snprintf(f->target, sizeof(f->target), "%s", strchr(p, ':') + 1);
	f->sa.sin_port = htons((uint16_t)f->lport);
	return 0;
}

/* One connection, in a child of its own: relayed to the target through the agent. */
static void forward_one(const char *name, const char *target, int c, struct sl_error *err)
{
	int s = sl_agent_connect(name, err), r;

	if ((r = s) < 0 || (r = sl_agent_connect_tcp(s, target, c, err)) < 0) {
		sl_err("%s", sl_error_msg(err, r));
		_exit(1);
	}
	_exit(0);
}

static int forward(const char *name, const char *spec, struct sl_error *err)
{
	struct fwd f = { 0 };
	int fd, one = 1, s;

	if ((s = forward_parse(spec, &f, err)) < 0)
		return s;
	/* Fail now, not at the first connection, when the VM is not running. */
	if ((s = sl_agent_connect(name, err)) < 0)
		return s;
	close(s);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&f.sa, sizeof(f.sa)) < 0 || listen(fd, 64) < 0)
		return sl_error(err, -EADDRINUSE, "forward: cannot listen on %s:%u: %s", f.bind,
				f.lport, strerror(errno));
	signal(SIGCHLD, SIG_IGN); /* no zombies from the per-connection children */
	sl_info("forwarding %s:%u to %s in %s (Ctrl-C stops)", f.bind, f.lport, f.target, name);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0 && errno == EINTR)
			continue;
		if (c < 0)
			return -errno;
		if (fork() == 0) {
			close(fd);
			forward_one(name, f.target, c, err);
		}
		close(c);
	}
}

/* The console log as kept: the rotated part first, if any (docs/VM.md). */
static int print_console_log(const char *name, struct sl_error *err)
{
	char path[4096], old[4096], b[8192];
	_cleanup_close_ int fd = -1, fd1 = -1;
	ssize_t n;

	if (sl_run_path(path, sizeof(path), "%s/%s", name, SL_CONSOLE_LOG) < 0 ||
	    sl_run_path(old, sizeof(old), "%s/%s", name, SL_CONSOLE_LOG_OLD) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: console log path too long", name);
	fd1 = open(old, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		sl_error(err, -ENXIO, "%s has no console log (%s)", name, path);
		return -ENXIO;
	}
	while (fd1 >= 0 && (n = read(fd1, b, sizeof(b))) > 0)
		sl_write_all(1, b, (size_t)n);
	while ((n = read(fd, b, sizeof(b))) > 0)
		sl_write_all(1, b, (size_t)n);
	return 0;
}

/* The words after the options: the subcommand or NAME, its operands, and the command after "--". */
struct words {
	const char *first; /* the subcommand, or NAME */
	char **pos,
	    **cmd; /* pos[1]...: the subcommand's operands (after a re-parse, pos[0] is not it) */
	int npos;
};

static bool is_sub(const char *w)
{
	return !strcmp(w, "cp") || !strcmp(w, "copy") || !strcmp(w, "forward") ||
	       !strcmp(w, "console") || !strcmp(w, "shell");
}

static int parse_words(struct sl_cli *cli, int argc, char **argv, struct words *w,
		       struct sl_error *err)
{
	int dd = argc, r;

	opterr = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dd = i;
			break;
		}
	if ((r = parse_opts(cli, dd, argv, dd < argc, err)) != SL_CLI_GO_ON)
		return r;
	w->pos = argv + optind;
	w->npos = dd - optind;
	w->cmd = dd < argc ? argv + dd + 1 : NULL;
	if (w->npos < 1)
		return sl_cli_usage(cli, "missing VM NAME");
	w->first = w->pos[0];
	if (dd == argc && is_sub(w->first)) {
		/* No "--": options may still follow the subcommand. */
		optind = optind + 1;
		if ((r = parse_opts(cli, argc, argv, true, err)) != SL_CLI_GO_ON)
			return r;
		w->pos = argv + optind - 1;
		w->npos = argc - optind + 1;
	}
	return SL_CLI_GO_ON;
}

/* forward, console and shell: NAME (or the env file's), then theirs. */
static int named_sub(struct sl_cli *cli, const struct words *w, struct sl_error *err)
{
	const char *sub = w->first, *name = NULL;
	int r = sl_input_bind(w->npos > 1 ? w->pos[1] : NULL, &name, err), s;

	if (r < 0)
		return r;
	if (!strcmp(sub, "forward")) {
		if (w->npos != 3)
			return sl_cli_usage(cli, "forward takes NAME and [BIND:]LPORT:HOST:RPORT");
		return forward(name, w->pos[2], err);
	}
	if (w->npos > 2)
		return sl_cli_usage(cli, "too many arguments");
	if (!strcmp(sub, "shell")) {
		req.pty = true;
		return run(name, w->cmd && *w->cmd ? w->cmd : login_shell, err);
	}
	if (!attach)
		return print_console_log(name, err);
	if ((s = sl_agent_connect(name, err)) < 0)
		return own_failure(s, err);
	return exit_for(sl_agent_console(s, 0, 1), err);
}

/* sl-exec NAME CMD ARG..., or NAME -- CMD ARG... */
static int exec_cmd(struct sl_cli *cli, const struct words *w, struct sl_error *err)
{
	const char *name = NULL;
	char **cmd = w->cmd;
	int r = sl_input_bind(w->first, &name, err);

	if (r < 0)
		return r;
	if (!cmd)
		cmd = w->pos + 1;
	else if (w->npos > 1)
		return sl_cli_usage(cli, "'%s' before '--': the command goes after it", w->pos[1]);
	if (!*cmd && !req.pty)
		return sl_cli_usage(cli, "missing CMD (or -t for a shell)");
	return run(name, *cmd ? cmd : login_shell, err);
}

static int exec_main(int argc, char **argv, struct sl_kv *out, struct sl_error *err)
{
	struct sl_cli cli;
	struct words w = { 0 };
	int r;

	sl_cli_begin(&cli, usage, argv, out, err);
	/* A closed socket or pipe is an error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if ((r = parse_words(&cli, argc, argv, &w, err)) != SL_CLI_GO_ON)
		return r;
	if (!w.first) /* set whenever the words went on */
		return -EINVAL;
	if (!strcmp(w.first, "cp") || !strcmp(w.first, "copy")) {
		if (w.npos != 3 || w.cmd)
			return sl_cli_usage(&cli, "cp takes SRC and DST");
		r = copy(w.pos[1], w.pos[2], err);
		return r < 0 ? r : 0;
	}
	if (is_sub(w.first))
		return named_sub(&cli, &w, err);
	return exec_cmd(&cli, &w, err);
}

int main(int argc, char **argv)
{
	return sl_cli_main(exec_main, argc, argv);
}
