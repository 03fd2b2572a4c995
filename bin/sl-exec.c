/* SPDX-License-Identifier: MIT */
/* sl-exec: into a running VM through its agent, not its network. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"
#include "copy.h"
#include "cp.h"
#include "forward.h"
#include "error.h"
#include "input.h"
#include "log.h"
#include "proto.h"
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
	if (opt == OPT_ENVFILE && sl_input_env_file(&cli->in, optarg, err) < 0)
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
	req.argv = cmd;
	return exit_for(sl_agent_run(name, &req, 0, 1, 2, err), err);
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
	int r = sl_input_bind(&cli->in, w->npos > 1 ? w->pos[1] : NULL, &name, err), s;

	if (r < 0)
		return r;
	if (!strcmp(sub, "forward")) {
		if (w->npos != 3)
			return sl_cli_usage(cli, "forward takes NAME and [BIND:]LPORT:HOST:RPORT");
		return sl_forward(name, w->pos[2], err);
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
	int r = sl_input_bind(&cli->in, w->first, &name, err);

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
	_cleanup_cli_ struct sl_cli cli = { 0 };
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
		r = sl_cp(w.pos[1], w.pos[2], &copy_limits, err);
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
