/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cidr.h"
#include "egressd.h"
#include "error.h"
#include "fault.h"
#include "log.h"
#include "macvtap.h"
#include "name.h"
#include "netns.h"
#include "nl.h"
#include "proto.h"
#include "snapshot.h"
#include "spare.h"
#include "spawn.h"
#include "state.h"
#include "supervisor.h"
#include "util.h"
#include "vm.h"

#ifndef SL_GUEST_INSTALL_DIR
#define SL_GUEST_INSTALL_DIR "/usr/local/lib/sltools/guest"
#endif

/**
 * sl_guest_dir() - where the project's kernel and initramfs are
 * @buf: result
 * @len: size of @buf
 * @err: why, when it fails
 *
 * $SL_GUEST_DIR, else build/guest next to the binaries (a checkout after
 * `make`), else where `make install` put it.
 *
 * Return: 0, or -ENOENT with the error recorded
 */
int sl_guest_dir(char *buf, size_t len, struct sl_error *err)
{
	if (sl_locate(buf, len, "SL_GUEST_DIR", "../build/guest", SL_GUEST_INSTALL_DIR, "") == 0)
		return 0;
	return sl_error(err, -ENOENT, "no guest image: run 'make guest' or set SL_GUEST_DIR");
}

static int read_pid(const char *name, const char *file)
{
	char path[4096], buf[32] = "";
	_cleanup_close_ int fd = -1;

	if (sl_run_path(path, sizeof(path), "%s/%s", name, file) < 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return 0;
	return atoi(buf);
}

/*
 * Whether @pid lives and its command line holds @what and the VM's name:
 * a pid file can outlive its process and the pid be reused.
 */
/* The start of /proc/PID/@what, NUL-terminated; its length, or <= 0. */
static ssize_t proc_read(int pid, const char *what, char *buf, size_t len)
{
	char path[64];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static const char *cur_name = "";
static bool pid_is(int pid, const char *what)
{
	char cmd[4096];
	ssize_t n = pid > 0 ? proc_read(pid, "cmdline", cmd, sizeof(cmd)) : 0;

	if (n <= 0)
		return false;
	for (ssize_t i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	cmd[n] = '\0';
	return strstr(cmd, what) != NULL && strstr(cmd, cur_name) != NULL;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Whether process @pid's environment says SL_RUN_DIR is ours (sl-boot sets it). */
static bool runs_for_us(int pid)
{
	char want[4200], buf[65536];
	ssize_t n = proc_read(pid, "environ", buf, sizeof(buf));

	if (n <= 0)
		return false;
	snprintf(want, sizeof(want), "SL_RUN_DIR=%s", sl_run_dir());
	for (char *e = buf; e < buf + n; e += strlen(e) + 1)
		if (!strcmp(e, want))
			return true;
	return false;
}

/* @pid's parent, from /proc/PID/stat (its name may hold spaces: after the last ')'). */
static int parent_of(int pid)
{
	char buf[512], *p;
	int ppid = 0;

	if (proc_read(pid, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	return sscanf(p + 1, " %*c %d", &ppid) == 1 ? ppid : 0;
}

/**
 * sl_vm_process() - whether a process is a VM's supervisor or QEMU, ours
 * @pid: process
 * @name: the VM's name
 * @len: size of @name
 *
 * Known by the program (sl-supervise NAME, qemu-system-* ... -name NAME) and
 * by the SL_RUN_DIR that sl-boot puts in the supervisor's environment and
 * QEMU inherits, so that it works without the VM's state dir (sl-gc).
 *
 * Return: SL_PROC_SUPERVISOR, SL_PROC_QEMU, or 0
 */
int sl_vm_process(int pid, char *name, size_t len)
{
	char cmd[8192];
	ssize_t n = proc_read(pid, "cmdline", cmd, sizeof(cmd));
	bool sup, qemu;
	const char *arg = cmd, *prog = basename_of(cmd);

	if (n <= 0)
		return 0;
	sup = !strcmp(prog, "sl-supervise");
	qemu = !strncmp(prog, "qemu-system", 11);
	/* a QEMU is its supervisor's VM's: a spare's keeps its -name when taken */
	if (qemu && sl_vm_process(parent_of(pid), name, len) == SL_PROC_SUPERVISOR)
		return SL_PROC_QEMU;
	if (!strcmp(prog, "sl-egressd")) { /* the run dir's, no VM's */
		snprintf(name, len, "%s", "");
		return runs_for_us(pid) ? SL_PROC_EGRESSD : 0;
	}
	/* argv, NUL-separated: the VM is argv[1] or follows "-name" */
	for (int i = 0; (sup || qemu) && arg < cmd + n; i++, arg += strlen(arg) + 1) {
		const char *next = arg + strlen(arg) + 1;

		if ((sup && i == 1) || (qemu && !strcmp(arg, "-name") && next < cmd + n)) {
			snprintf(name, len, "%s", sup ? arg : next);
			return runs_for_us(pid) ? (sup ? SL_PROC_SUPERVISOR : SL_PROC_QEMU) : 0;
		}
	}
	return 0;
}

/* A spare's QEMU keeps its -name when a VM takes it: known by its parent. */
static bool qemu_of(int qemu, int sup)
{
	const char *keep = cur_name;
	bool r;

	cur_name = "";
	r = sup > 0 && qemu > 0 && parent_of(qemu) == sup && pid_is(qemu, "qemu-system");
	cur_name = keep;
	return r;
}

/**
 * sl_vm_pids() - the live supervisor and QEMU of a VM, 0 where none
 */
int sl_vm_pids(const char *name, int *sup, int *qemu)
{
	static char pat[SL_NAME_MAX + 3];

	snprintf(pat, sizeof(pat), " %s ", name);
	cur_name = pat;
	*sup = read_pid(name, SL_SUPERVISOR_PID);
	*qemu = read_pid(name, SL_QEMU_PID);
	if (!pid_is(*sup, "sl-supervise"))
		*sup = 0;
	if (!pid_is(*qemu, "qemu-system") && !qemu_of(*qemu, *sup))
		*qemu = 0;
	return 0;
}

/* KVM where it can run a stock kernel; kvm_pvm (nested PVM) cannot. */
static const char *pick_accel(const char *want, const char **why)
{
	if (want && strcmp(want, "auto")) {
		*why = "forced";
		return want;
	}
	if (access("/sys/module/kvm_pvm", F_OK) == 0) {
		*why = "kvm_pvm here boots only PVM guest kernels";
		return "tcg";
	}
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		*why = "no usable /dev/kvm";
		return "tcg";
	}
	*why = "/dev/kvm works";
	return "kvm";
}

static unsigned long tsc_khz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	if (f)
		fclose(f);
	return (unsigned long)(mhz * 1000);
}

struct argv {
	char *v[64];
	int n;
	char buf[32768];
	size_t used;
	bool full; /* an argument did not fit: never exec a partial line */
};

static void add(struct argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->n >= 63 || a->used >= sizeof(a->buf)) {
		a->full = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(a->buf + a->used, sizeof(a->buf) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || a->used + (size_t)n >= sizeof(a->buf)) {
		a->full = true;
		return;
	}
	a->v[a->n++] = a->buf + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)n + 1;
}

/*
 * A value inside a QEMU option list (-drive file=V,...): a comma ends the
 * value unless doubled, so "a,format=qcow2" would set an option of its own.
 */
static const char *qemu_opt_value(const char *v, char *buf, size_t len)
{
	size_t o = 0;

	for (; *v && o + 2 < len; v++) {
		if (*v == ',')
			buf[o++] = ',';
		buf[o++] = *v;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * The VM's own MAC: a macvtap's (it takes no other) or the CNI interface's
 * when given, else one made of its address.
 */
static char *own_mac(const struct sl_boot_cfg *c, const uint8_t *mac, char buf[SL_MAC_STRLEN])
{
	if (mac)
		return sl_mac_fmt(mac, buf);
	snprintf(buf, SL_MAC_STRLEN, "06:00:%02x:%02x:%02x:%02x", c->ip >> 24, (c->ip >> 16) & 255,
		 (c->ip >> 8) & 255, c->ip & 255);
	return buf;
}

/*
 * The NIC: a macvtap's device is an fd QEMU inherits (SL_FD_TAP); a TAP is
 * opened by name. A restore's too has the VM's own MAC: its state says the
 * template's until the agent gives the guest this one, but QEMU announces
 * a migrated NIC (RARP, for a second) with the MAC of its command line.
 */
static void qemu_nic(const struct sl_boot_cfg *c, const uint8_t *mac, struct argv *a)
{
	char esc[2 * 64 + 1], m[SL_MAC_STRLEN];

	add(a, "-netdev");
	if (c->mode == SL_NET_MACVTAP)
		add(a, "tap,id=" SL_QEMU_NETDEV ",fd=%d", SL_FD_TAP);
	else
		add(a, "tap,id=" SL_QEMU_NETDEV ",ifname=%s,script=no,downscript=no",
		    qemu_opt_value(c->tap, esc, sizeof(esc)));
	add(a, "-device");
	add(a, "virtio-net-device,netdev=" SL_QEMU_NETDEV ",mac=%s", own_mac(c, mac, m));
}

/* ip= of the guest's /init: static, or dhcp (macvtap mode without an address). */
static void guest_ip(const struct sl_boot_cfg *c, char *buf, size_t len)
{
	char ip[SL_IP_STRLEN], gw[SL_IP_STRLEN], mask[SL_IP_STRLEN];

	if (!c->ip) {
		snprintf(buf, len, "dhcp");
		return;
	}
	snprintf(buf, len, "%s::%s:%s::eth0:off", sl_ip_fmt(c->ip, ip), sl_ip_fmt(c->gw, gw),
		 sl_ip_fmt(sl_cidr_mask(c->prefix), mask));
}

static void qemu_argv(const struct sl_boot_cfg *c, const char *accel, int agent_fd,
		      const uint8_t *mac, unsigned attempt, struct argv *a)
{
	char ip[128], esc[2 * 4096 + 1];
	bool kvm = !strcmp(accel, "kvm");

	add(a, "%s", c->qemu);
	add(a, "-name");
	add(a, "%s", c->name);
	add(a, "-M");
	add(a, "microvm,x-option-roms=off,rtc=on,memory-backend=mem");
	/*
	 * Guest RAM is a memfd, which a snapshot copies. A restore maps its
	 * snapshot's copy privately: pages it never writes stay shared with
	 * every clone. Its state is the devices' alone, a stream without
	 * QEMU's configuration section (lib/vm/snapshot.c). A fork's overlay
	 * maps the file its source's RAM maps, and gets the pages written
	 * over it before its state loads.
	 */
	add(a, "-object");
	if (c->from && c->ram_base)
		add(a, "memory-backend-file,id=mem,size=%uM,mem-path=%s,share=off", c->mem_mb,
		    qemu_opt_value(c->ram_base, esc, sizeof(esc)));
	else if (c->from)
		add(a, "memory-backend-file,id=mem,size=%uM,mem-path=%s/%s,share=off", c->mem_mb,
		    qemu_opt_value(c->from, esc, sizeof(esc)), SL_SNAP_MEMORY);
	else
		add(a, "memory-backend-memfd,id=mem,size=%uM,share=on", c->mem_mb);
	if (c->from) {
		add(a, "-global");
		add(a, "migration.send-configuration=off");
		add(a, "-incoming");
		add(a, "defer");
	}
	add(a, "-qmp");
	{
		char q[4096];

		if (sl_run_path(q, sizeof(q), "%s/%s", c->name, SL_QMP_SOCK) < 0)
			a->full = true;
		add(a, "unix:%s,server=on,wait=off", qemu_opt_value(q, esc, sizeof(esc)));
	}
	add(a, "-accel");
	add(a, "%s", accel);
	add(a, "-cpu");
	add(a, "%s", kvm ? "host" : "max");
	add(a, "-smp");
	add(a, "%u", c->vcpu);
	add(a, "-m");
	add(a, "%u", c->mem_mb);
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-display");
	add(a, "none");
	add(a, "-no-reboot");
	/*
	 * A restore's kernel runs in the memory it restores: QEMU does not
	 * write boot images into guest RAM on an incoming migration, and
	 * reading them cost ~45 ms of its start.
	 */
	if (!c->from) {
		char tsc[64] = "";
		unsigned long khz = kvm ? 0 : tsc_khz();
		/* test builds: a guest with its local APIC timer off, as TCG leaves a few */
		bool notimer = sl_fault("notimer-always", c->name) ||
			       (attempt == 0 && sl_fault("notimer", c->name));

		add(a, "-kernel");
		add(a, "%s", c->kernel);
		add(a, "-initrd");
		add(a, "%s", c->initrd);
		add(a, "-append");
		/* Under TCG, calibration of the TSC hangs half the boots on a busy host. */
		if (khz)
			snprintf(tsc, sizeof(tsc), " tsc_early_khz=%lu%s", khz,
				 notimer ? " nolapic_timer" : "");
		guest_ip(c, ip, sizeof(ip));
		add(a, "console=ttyS0 panic=-1 ipv6.disable=1 ip=%s sl_name=%s%s%s%s%s", ip, c->name,
		    tsc,
		    c->dns && *c->dns ? " sl_dns=" : "", c->dns ? c->dns : "",
		    c->disk ? " sl_root=/dev/vda" : "");
	}
	add(a, "-chardev");
	add(a, "stdio,id=con,signal=off");
	add(a, "-serial");
	add(a, "chardev:con");
	add(a, "-device");
	add(a, "virtio-serial-device");
	add(a, "-chardev");
	add(a, "socket,id=agent,fd=%d", agent_fd);
	add(a, "-device");
	add(a, "virtserialport,chardev=agent,name=sl.agent");
	qemu_nic(c, mac, a);
	if (c->disk) {
		add(a, "-drive");
		add(a, "file=%s,format=raw,if=none,id=disk0",
		    qemu_opt_value(c->disk, esc, sizeof(esc)));
		add(a, "-device");
		add(a, "virtio-blk-device,drive=disk0");
	}
}

static int check_file(const char *what, const char *path, struct sl_error *err)
{
	if (access(path, R_OK) == 0)
		return 0;
	return sl_error(err, -EINVAL, "%s '%s': %s", what, path, strerror(errno));
}

/* Fixed fd numbers across the exec of the supervisor (supervisor.h). */

static char supervisor_path[4096];

/* sl-supervise next to a checkout's bin/ (../libexec), else where make install put it. */
static int find_supervisor(void)
{
	return sl_locate(supervisor_path, sizeof(supervisor_path), "SL_LIBEXEC_DIR", "../libexec",
			 SL_LIBEXEC_DIR, "sl-supervise");
}

/* In the grandchild of sl-boot start: set up the fixed fds and exec. */
static void exec_supervisor(const struct sl_boot_cfg *c, const char *accel, int nsfd,
			    int tapfd, const uint8_t *mac, unsigned attempt, int ready_fd)
{
	static struct argv a;
	char *args[80];
	int sp[2], n = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0) {
		dprintf(ready_fd, "fail: socketpair: %s\n", strerror(errno));
		_exit(1);
	}
	/* Move everything above the fixed numbers first, then into place. */
	ready_fd = fcntl(ready_fd, F_DUPFD, 10);
	nsfd = fcntl(nsfd, F_DUPFD, 10);
	sp[0] = fcntl(sp[0], F_DUPFD, 10);
	sp[1] = fcntl(sp[1], F_DUPFD, 10);
	tapfd = tapfd < 0 ? -1 : fcntl(tapfd, F_DUPFD, 10);
	if (dup2(ready_fd, SL_FD_READY) < 0 || dup2(nsfd, SL_FD_NETNS) < 0 ||
	    dup2(sp[0], SL_FD_GUEST) < 0 || dup2(sp[1], SL_FD_QEMU_AGENT) < 0 ||
	    (tapfd >= 0 && dup2(tapfd, SL_FD_TAP) < 0))
		_exit(1);
	qemu_argv(c, accel, SL_FD_QEMU_AGENT, mac, attempt, &a);
	if (a.full) {
		dprintf(SL_FD_READY, "fail: the QEMU command line is too long\n");
		_exit(1);
	}
	args[n++] = "sl-supervise";
	args[n++] = (char *)c->name;
	if (c->spare) /* room for the name of the VM that takes it (supervisor.c) */
		args[n++] = "..............................................................";
	args[n++] = "--";
	for (int i = 0; i < a.n && n < 79; i++)
		args[n++] = a.v[i];
	args[n] = NULL;
	/* Said even when it is the default: sl-gc knows ours by it (lib/compose/gc.c). */
	setenv("SL_RUN_DIR", sl_run_dir(), 1);
	sl_child_clean((const int[]){ SL_FD_READY, SL_FD_NETNS, SL_FD_GUEST, SL_FD_QEMU_AGENT,
				      SL_FD_TAP },
		       tapfd >= 0 ? 5 : 4);
	execv(supervisor_path, args);
	dprintf(SL_FD_READY, "fail: exec supervisor: %s\n", strerror(errno));
	_exit(1);
}

/* The console log's last @len - 1 bytes into @buf, NUL-terminated: their count, or -1. */
static ssize_t console_read_tail(const char *dir, char *buf, size_t len)
{
	char path[4200];
	_cleanup_close_ int fd = -1;
	off_t size;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, SL_CONSOLE_LOG);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, len - 1, size > (off_t)len - 1 ? size - (off_t)len + 1 : 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static void console_tail(const char *dir)
{
	char buf[2048];

	if (console_read_tail(dir, buf, sizeof(buf)) > 0)
		fprintf(stderr, "%s: last console lines of %s/%s:\n%s\n", sl_prog, dir,
			SL_CONSOLE_LOG, buf);
}

/**
 * sl_vm_sockets_fit() - whether a VM's sockets' paths fit a unix address
 * @name: the VM
 * @err: why not
 *
 * The agent's and QEMU's sockets live in the VM's run dir; a unix socket's
 * path holds 107 bytes, and a long run dir with a long VM name can pass
 * that. Said before anything starts, not as the supervisor's ENOENT.
 *
 * Return: 0, or -ENAMETOOLONG with the error recorded
 */
int sl_vm_sockets_fit(const char *name, struct sl_error *err)
{
	char path[4096];
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (sl_run_path(path, sizeof(path), "%s/%s", name, SL_AGENT_SOCK) < 0 ||
	    strlen(path) > max)
		return sl_error(err, -ENAMETOOLONG,
				"%s: its agent's socket %s is %zu bytes, over the %zu a unix "
				"socket takes: a shorter SL_RUN_DIR or VM name",
				name, path, strlen(path), max);
	return 0;
}

/* What a start checks before anything starts: bad input leaves nothing behind. */
static int start_checks(const struct sl_boot_cfg *c, struct sl_error *err)
{
	int sup = 0, qemu = 0, r;

	if ((r = check_file("kernel", c->kernel, err)) < 0 ||
	    (r = check_file("initrd", c->initrd, err)) < 0 ||
	    (c->disk && (r = check_file("disk", c->disk, err)) < 0))
		return r;
	if (c->vcpu < 1 || c->vcpu > 64 || c->mem_mb < 64 || c->mem_mb > 1048576)
		return sl_error(err, -EINVAL,
				"bad --vcpu %u or --mem %u (1..64 vCPUs, 64 MB or more)", c->vcpu,
				c->mem_mb);
	if ((r = sl_console_max(&(unsigned long long){ 0 }, err)) < 0 ||
	    (r = sl_agent_timeout(&(long long){ 0 }, err)) < 0)
		return r;
	sl_vm_pids(c->name, &sup, &qemu);
	if (sup || qemu)
		return sl_error(err, -EEXIST, "%s is running already (supervisor %d, qemu %d)",
				c->name, sup, qemu);
	if (find_supervisor() < 0)
		return sl_error(err, -ENOENT,
				"no sl-supervise at %s: run make, or set SL_LIBEXEC_DIR",
				supervisor_path);
	return 0;
}

/*
 * The TAP in the VM's namespace (isolated, CNI) or in ours (bridge), with
 * the CNI interface's MAC for the guest in CNI mode.
 */
static int find_tap(const struct sl_boot_cfg *c, int nsfd, uint8_t mac[6], bool *has_mac,
		    struct sl_error *err)
{
	_cleanup_netns_ int saved = sl_netns_enter(nsfd);
	_cleanup_nl_ struct nl_sock *sk = NULL;
	bool host_ns = sl_mode_on_host(c->mode);
	struct sl_link t;

	if (saved < 0)
		return saved;
	if (sl_nl_open(&sk) < 0 || sl_link_get(sk, c->tap, &t) < 0 || strcmp(t.kind, "tun"))
		return sl_error(err, -ENXIO, "%s: no TAP %s in %s (run sl-tap add %s)", c->name,
				c->tap, host_ns ? "this namespace" : "its namespace", c->name);
	if (c->mode != SL_NET_CNI)
		return 0;
	if (sl_link_get(sk, c->cni_ifname, &t) < 0)
		return sl_error(err, -ENXIO, "%s: no %s in its namespace (run sl-cni-run add %s)",
				c->name, c->cni_ifname, c->name);
	memcpy(mac, t.mac, 6);
	*has_mac = true;
	return 0;
}

/*
 * The supervisor, double-forked into a session of its own: it runs QEMU
 * and writes "ok" or "fail: WHY" on the pipe whose reading end is returned.
 */
static int spawn_supervisor(const struct sl_boot_cfg *c, const char *accel, int nsfd, int tapfd,
			    const uint8_t *mac, unsigned attempt)
{
	int ready[2], r;
	pid_t child;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	child = fork();
	if (child < 0) {
		r = -errno;
		close(ready[0]);
		close(ready[1]);
		return r;
	}
	if (child == 0) {
		pid_t g;

		close(ready[0]);
		setsid();
		g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		sl_vm_write_pid(c->name, SL_SUPERVISOR_PID, getpid());
		exec_supervisor(c, accel, nsfd, tapfd, mac, attempt, ready[1]);
	}
	close(ready[1]);
	waitpid(child, NULL, 0);
	return ready[0];
}

/*
 * What guest/init says before it powers a guest off that came up with no
 * timer on a CPU: under TCG on a busy host the kernel can measure the local
 * APIC timer "too slow" and disable it, and microvm has no PIT or HPET to
 * fall back on, so every sleep in that guest would last for ever.
 */
#define NO_TIMER_MARK "sl-init: no timer"
#define NO_TIMER_BOOTS 3 /* boots of one start before it gives up */

/* Whether the console's last 4 KiB hold @mark. */
static bool console_says(const char *dir, const char *mark)
{
	char buf[4097];
	ssize_t n = console_read_tail(dir, buf, sizeof(buf));

	return n > 0 && memmem(buf, (size_t)n, mark, strlen(mark)) != NULL;
}

/*
 * Until the supervisor says the agent answered (a restore first loads its
 * state); on anything else nothing is left running and the console's tail
 * is printed. -EAGAIN, with nothing printed, when a cold boot's guest
 * powered itself off for want of a timer and @again allows one more boot.
 */
static int await_agent(const struct sl_boot_cfg *c, const char *dir, int ready, bool again,
		       struct sl_error *err)
{
	struct pollfd pf = { .fd = ready, .events = POLLIN };
	char msg[256] = "";
	ssize_t n = 0;
	int nudge, r;

	if (c->from && sl_fault("loading", c->name))
		raise(SIGSTOP);
	if (c->from && (r = sl_snapshot_incoming(c, err)) < 0) {
		sl_boot_stop(c->name, 0, NULL);
		console_tail(dir);
		return sl_error_wrap(err, r, "%s", c->name);
	}
	/* the guest runs: ask for the handshake now (closed once ready) */
	nudge = c->from ? sl_agent_nudge(c->name) : -1;
	if (poll(&pf, 1, (int)c->timeout_s * 1000) > 0)
		n = read(ready, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	if (nudge >= 0)
		close(nudge);
	if (!strncmp(msg, "ok", 2))
		return 0;
	sl_boot_stop(c->name, 0, NULL); /* the cause is what follows */
	if (!c->from && console_says(dir, NO_TIMER_MARK)) {
		if (again)
			return -EAGAIN;
		console_tail(dir);
		return sl_error(err, -EIO,
				"%s: boot failed: the guest came up without a timer %d times "
				"(its local APIC timer measured too slow: a host too busy for TCG)",
				c->name, NO_TIMER_BOOTS);
	}
	console_tail(dir);
	if (!msg[0])
		snprintf(msg, sizeof(msg), "the agent did not answer within %u s", c->timeout_s);
	msg[strcspn(msg, "\n")] = '\0';
	return sl_error(err, -EIO, "%s: boot failed: %s", c->name,
			strncmp(msg, "fail: ", 6) ? msg : msg + 6);
}

/*
 * A restored guest made this VM: its identity (MAC @mac, address...) while
 * its NIC is cut from the wire, then the wire; a DHCP guest's client started
 * again once it is on it.
 */
static int become_this_vm(const struct sl_boot_cfg *c, const char *mac, struct sl_error *err)
{
	int r;

	if ((r = sl_guest_identity_set(c, mac, err)) < 0 ||
	    (r = sl_snapshot_connect(c->name, err)) < 0 || (!c->ip && (r = sl_guest_dhcp(c, err)) < 0))
		return r;
	sl_debug("%s: the guest took its identity; its NIC is on the wire", c->name);
	return 0;
}

/*
 * A spare runs the identity's paths twice, with addresses, MACs and name
 * servers of its own namespace, and a command twice, so that a VM taking
 * it finds them translated; its NIC stays cut from the wire as the
 * restore left it.
 */
static int warm_spare(const struct sl_boot_cfg *c, struct sl_error *err)
{
	struct sl_boot_cfg w = *c;
	char mac[SL_MAC_STRLEN];
	int r;

	w.dns = SL_SPARE_DNS;
	if ((r = sl_guest_identity_set(&w, own_mac(&w, NULL, mac), err)) < 0)
		return r;
	w.ip = c->ip + 1;
	w.dns = c->dns;
	if ((r = sl_guest_identity_set(&w, own_mac(&w, NULL, mac), err)) < 0)
		return r;
	/* and a command's (the agent's fork and exec, busybox), as sl-exec runs one */
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "true", NULL };
		struct sl_exec_req req = { .argv = argv };

		if ((r = sl_agent_run(c->name, &req, -1, -1, -1, err)) != 0)
			return r < 0 ? r : sl_error(err, -EIO, "%s: true in the guest said %d", c->name, r);
	}
	return 0;
}

/* What a started VM is, into @out and its state. */
/* What a start records in the VM's state, and its stop takes away: one list. */
static const char *const start_keys[] = { "SL_PID",	    "SL_QEMU_PID",    "SL_AGENT",
					  "SL_CONSOLE",	    "SL_ACCEL",	      "SL_BOOTS",
					  "SL_SNAPSHOT",    "SL_BOOT_KERNEL", "SL_BOOT_INITRD",
					  "SL_BOOT_APPEND", "SL_RAM_BASE",    "SL_SPARE",
					  NULL };

static int record_start(const struct sl_boot_cfg *c, const struct sl_kv *manifest,
			const char *accel, unsigned boots, const char *dir, struct sl_kv *out,
			struct sl_error *err)
{
	int sup = 0, qemu = 0, r = 0;

	sl_vm_pids(c->name, &sup, &qemu);
	if (c->from) {
		/* what this guest booted with, for a snapshot of it (its QEMU has none) */
		r |= sl_kv_set(out, "SL_SNAPSHOT", c->from);
		r |= sl_kv_set(out, "SL_BOOT_KERNEL", c->kernel);
		r |= sl_kv_set(out, "SL_BOOT_INITRD", c->initrd);
		r |= sl_kv_set(out, "SL_BOOT_APPEND", sl_kv_get(manifest, "SL_APPEND"));
		/* a template's memory this VM maps: sl-gc keeps the template */
		if (c->ram_base)
			r |= sl_kv_set(out, "SL_RAM_BASE", c->ram_base);
	}
	r |= sl_kv_setf(out, "SL_PID", "%d", sup);
	r |= sl_kv_setf(out, "SL_QEMU_PID", "%d", qemu);
	r |= sl_kv_setf(out, "SL_AGENT", "%s/%s", dir, SL_AGENT_SOCK);
	r |= sl_kv_setf(out, "SL_CONSOLE", "%s/%s", dir, SL_CONSOLE_LOG);
	r |= sl_kv_set(out, "SL_ACCEL", accel);
	/* more than 1: a guest came up without a timer and was booted again */
	r |= sl_kv_setf(out, "SL_BOOTS", "%u", boots);
	if (r)
		return -ENOMEM;
	return sl_state_update(c->name, out, NULL, err);
}

/**
 * sl_boot_start() - boot a VM on its TAP and wait for its agent
 * @c: the VM
 * @out: SL_PID (supervisor), SL_QEMU_PID, SL_AGENT, SL_CONSOLE, SL_ACCEL,
 *	 SL_BOOTS (how many boots it took)
 * @err: why, when it fails
 *
 * Leaves a supervisor (double-forked, own session) that runs QEMU in the
 * VM's namespace. Returns when the agent has answered; on a timeout or an
 * early QEMU exit the console tail is printed and nothing is left running.
 *
 * Return: 0; -EINVAL (missing kernel...), -ENXIO (unknown VM), -EEXIST
 * (running already); or -errno, with the error recorded
 */
int sl_boot_start(const struct sl_boot_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_close_ int nsfd = -1, tapfd = -1, ready = -1;
	_cleanup_kv_ struct sl_kv manifest = { 0 };
	_cleanup_step_ struct sl_step step = { c->name, SL_STEP_BOOT, -1 };
	struct sl_boot_cfg restore;
	bool has_mac = false;
	uint8_t mac[6];
	const uint8_t *given_mac; /* a macvtap's or CNI interface's, else NULL */
	char dir[4096], nic_mac[SL_MAC_STRLEN];
	const char *accel, *why;
	unsigned boot;
	int r;

	if ((r = sl_name_check(c->name, err)) < 0 || (r = sl_vm_sockets_fit(c->name, err)) < 0)
		return r;
	if (c->from) {
		/* checked before anything starts: a bad snapshot leaves nothing */
		restore = *c;
		if ((r = sl_snapshot_prepare(&restore, &manifest, err)) < 0)
			return sl_error_wrap(err, r, "%s: start --from", c->name);
		c = &restore;
	}
	if ((r = start_checks(c, err)) < 0)
		return r;
	/* Bridge and macvtap mode: QEMU stays in this namespace, where its link is. */
	nsfd = sl_mode_on_host(c->mode) ? open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
					: sl_vm_netns_open(c->name, err);
	if (nsfd < 0)
		return sl_mode_on_host(c->mode) ? -errno : nsfd;
	if (c->mode == SL_NET_MACVTAP)
		r = tapfd = sl_macvtap_open(c->name, c->tap, mac, err);
	else
		r = find_tap(c, nsfd, mac, &has_mac, err);
	if (r < 0)
		return r;
	given_mac = tapfd >= 0 || has_mac ? mac : NULL;
	accel = pick_accel(c->accel, &why);
	if (strcmp(accel, "kvm") && strcmp(accel, "tcg"))
		return sl_error(err, -EINVAL, "bad --accel '%s': kvm, tcg or auto", accel);
	if (sl_run_path(dir, sizeof(dir), "%s", c->name) < 0)
		return -ENAMETOOLONG;
	if ((r = sl_vm_dir_ready(c->name, dir, sizeof(dir), err)) < 0)
		return r;
	/* from here a kill -9 leaves a VM that sl-gc stops (sl_boot_abandoned) */
	if ((step.fd = sl_step_begin(c->name, SL_STEP_BOOT, NULL, err)) < 0)
		return step.fd;
	sl_info("%s: accelerator %s (%s)", c->name, accel, why);
	/* a spare restored ahead of time becomes this VM, else a restore or a boot */
	r = c->from ? sl_spare_take(c, accel, out, err) : -EAGAIN;
	if (r < 0 && r != -EAGAIN) {
		sl_boot_stop(c->name, 0, NULL); /* what of the spare became this VM's */
		return r;
	}
	for (boot = 0; r == -EAGAIN; boot++) {
		ready = spawn_supervisor(c, accel, nsfd, tapfd, given_mac, boot);
		if (ready < 0)
			return ready;
		r = await_agent(c, dir, ready, boot + 1 < NO_TIMER_BOOTS, err);
		if (r != -EAGAIN)
			break;
		close(sl_steal_fd(&ready));
		sl_info("%s: the guest came up without a timer (TCG on a busy host); booting it again",
			c->name);
	}
	if (r < 0)
		return r;
	sl_debug("%s: the agent answered", c->name);
	if (c->from && sl_fault("restored", c->name))
		raise(SIGSTOP);
	if (c->from && (r = c->spare ? warm_spare(c, err)
				     : become_this_vm(c, own_mac(c, given_mac, nic_mac), err)) < 0) {
		sl_boot_stop(c->name, 0, NULL);
		return r;
	}
	return record_start(c, &manifest, accel, boot + 1, dir, out, err);
}

static bool gone(int pid, const char *what)
{
	return !pid_is(pid, what);
}

/* A VM's QEMU: by its name, or (a spare's that a VM took) by its supervisor. */
static bool qemu_gone(int qemu, int sup)
{
	return gone(qemu, "qemu-system") && !qemu_of(qemu, sup);
}

static void wait_gone(int sup, int qemu, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 20) {
		if (gone(sup, "sl-supervise") && qemu_gone(qemu, sup))
			return;
		usleep(20000);
	}
}

/**
 * sl_boot_stop() - power a VM off, then make sure
 * @name: VM
 * @timeout_s: how long the guest may take to power off (0: kill at once)
 * @err: why, when it fails
 *
 * Return: 0, also when nothing was running
 */
int sl_boot_stop(const char *name, unsigned timeout_s, struct sl_error *err)
{
	int sup, qemu, r;

	r = sl_name_check(name, err);
	if (r < 0)
		return r;
	sl_vm_pids(name, &sup, &qemu);
	if (sup && timeout_s) {
		char path[4096];
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (sl_run_path(path, sizeof(path), "%s/%s", name, SL_AGENT_SOCK) == 0 &&
		    strlen(path) < sizeof(sa.sun_path) && fd >= 0) {
			strcpy(sa.sun_path, path);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				sl_frame_send(fd, SL_POWEROFF, 0, NULL, 0);
		}
		wait_gone(sup, qemu, timeout_s * 1000);
	}
	if (!gone(sup, "sl-supervise")) {
		kill(sup, SIGTERM); /* it stops QEMU and cleans up */
		wait_gone(sup, qemu, 3000);
	}
	if (!qemu_gone(qemu, sup)) {
		kill(qemu, SIGKILL);
		wait_gone(0, qemu, 3000);
	}
	if (!gone(sup, "sl-supervise"))
		kill(sup, SIGKILL);
	sl_vm_remove_files(name);
	{
		/* a start that died is over once the VM is stopped */
		_cleanup_kv_ struct sl_kv kv = { 0 };

		sl_step_end(name, SL_STEP_BOOT, sl_step_abandoned(name, SL_STEP_BOOT, &kv));
	}
	return sl_state_update(name, NULL, start_keys, err);
}

/* A process's proportional set size: what it costs, shared pages split. */
static long pss_kb(int pid)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	long kb = 0;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			break;
	return kb;
}

/* A step that a tool began on the VM and died in (its marker unlocked). */
static bool step_left(const char *name, const char *step)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	int fd = sl_step_abandoned(name, step, &kv);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/**
 * sl_boot_status() - whether a VM runs, and its pids
 * @out: SL_STATE running|stopped|broken, SL_PID, SL_QEMU_PID, SL_PSS_KB (QEMU's), for a VM
 *	 with egress rules SL_EGRESSD_PID (0: not served), with names SL_RESOLVER
 * @err: why, when it fails
 *
 * Return: 0 if running, 1 if not, or -errno
 */
int sl_boot_status(const char *name, struct sl_kv *out, struct sl_error *err)
{
	int sup, qemu, r = sl_name_check(name, err);
	bool unfinished;

	if (r < 0)
		return r;
	sl_vm_pids(name, &sup, &qemu);
	/* running, maybe, but not the VM it was to be: sl-gc stops it */
	unfinished = step_left(name, SL_STEP_BOOT);
	sl_kv_set(out, "SL_STATE", unfinished			? "broken"
				   : sup && qemu		? "running"
				   : !sup && !qemu		? "stopped"
								: "broken");
	if (unfinished || step_left(name, SL_STEP_SNAPSHOT))
		sl_kv_set(out, "SL_UNFINISHED", unfinished ? "start" : "snapshot");
	sl_kv_setf(out, "SL_PID", "%d", sup);
	sl_kv_setf(out, "SL_QEMU_PID", "%d", qemu);
	if (qemu)
		sl_kv_setf(out, "SL_PSS_KB", "%ld", pss_kb(qemu));
	{
		_cleanup_kv_ struct sl_kv st = { 0 };

		struct sl_egressd_vm v;

		/* the run dir's daemon keeps its denials (and runs its resolver): 0
		 * when it does not serve the VM */
		if (sl_state_load(name, &st, err) == 0 && sl_kv_get(&st, "SL_ALLOW")) {
			bool served = sl_egressd_status(name, &v, NULL) == 0;

			sl_kv_setf(out, "SL_EGRESSD_PID", "%d", served ? v.pid : 0);
			if (sl_kv_get(&st, "SL_DNS_UPSTREAM"))
				sl_kv_set(out, "SL_RESOLVER", served && v.resolver ? "yes" : "no");
		}
	}
	return sup && qemu && !unfinished ? 0 : 1;
}

/**
 * sl_boot_abandoned() - stop a VM whose sl-boot start died before it ended
 * @name: VM
 * @sw: the sweep, told of it
 *
 * Such a VM may run, but a restore killed before the guest took its
 * identity runs with its template's address, name and randomness; a cold
 * boot killed before its agent answered is not known to work. Either way
 * it is not the VM that was asked for: "back to before" is stopped.
 *
 * Return: true when there was one
 */
bool sl_boot_abandoned(const char *name, struct sl_sweep *sw)
{
	_cleanup_kv_ struct sl_kv kv = { 0 };
	int fd = sl_step_abandoned(name, SL_STEP_BOOT, &kv);

	if (fd < 0)
		return false;
	sl_sweep_say(sw, "VM %s: its sl-boot start died before it ended: stopped", name);
	if (sw->dry) {
		close(fd);
		return true;
	}
	sl_boot_stop(name, 0, NULL);
	sl_step_end(name, SL_STEP_BOOT, fd);
	return true;
}

