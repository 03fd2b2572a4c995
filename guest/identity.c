/* SPDX-License-Identifier: MIT */
/*
 * What makes a VM restored from a snapshot its own and not its template's:
 * its memory is the template's, so its address, name, clock and random
 * state are too. The host sends an SL_IDENTITY request right after the
 * restore (lib/base/proto.h); the agent applies it in its own process, since a
 * fork and exec cost ~150 ms in a guest whose translated code (TCG) is
 * all gone after the restore.
 *
 * Plain ioctls, no busybox: a VM on a disk root has no initramfs tools.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <net/if.h>
#include <net/route.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "proto.h"

#define IFACE "eth0"

static char *why;
static size_t why_len;

/* The first failure, kept for the host; later ones add nothing. */
static int fail(const char *what)
{
	if (!why[0])
		snprintf(why, why_len, "%s: %s", what, strerror(errno));
	return 1;
}

/* The host's bytes into the pool, credited, then a reseed: the two clones of
 * one template must not draw the same numbers (no vmgenid driver here). */
static int fresh_entropy(const uint8_t *seed, size_t n)
{
	union {
		struct rand_pool_info info;
		unsigned char raw[sizeof(struct rand_pool_info) + SL_IDENTITY_SEED];
	} e;
	int fd, r = 0;

	e.info.entropy_count = (int)n * 8;
	e.info.buf_size = (int)n;
	memcpy((unsigned char *)e.info.buf, seed, n);
	fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("/dev/urandom");
	if (ioctl(fd, RNDADDENTROPY, &e.info) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
		r = fail("RNDADDENTROPY");
	explicit_bzero(&e, sizeof(e));
	close(fd);
	return r;
}

/* A socket for eth0's ioctls, @ifr naming it; -1 when there is none. */
static int iface_socket(struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), IFACE);
	if (s < 0)
		fail("socket");
	return s;
}

static int set_sin(struct ifreq *ifr, unsigned long req, int s, in_addr_t a, const char *what)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return ioctl(s, req, ifr) < 0 ? fail(what) : 0;
}

/*
 * eth0's address replaced; the kernel drops every route of the device when
 * its last address goes, so the default route is put back after.
 */
static int readdress(const char *ip, const char *prefix, const char *gw)
{
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };
	struct in_addr a, g;
	unsigned long p = strtoul(prefix, NULL, 10);
	in_addr_t mask = p ? htonl(~0u << (32 - p)) : 0;
	int s, r;

	if (!inet_aton(ip, &a) || !inet_aton(gw, &g) || p < 1 || p > 32) {
		errno = EINVAL;
		return fail("bad address, prefix or gateway");
	}
	if ((s = iface_socket(&ifr)) < 0)
		return 1;
	r = set_sin(&ifr, SIOCSIFADDR, s, a.s_addr, "set address");
	if (!r)
		r = set_sin(&ifr, SIOCSIFNETMASK, s, mask, "set netmask");
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	rt.rt_dev = (char *)IFACE;
	while (!r && ioctl(s, SIOCDELRT, &rt) == 0)
		; /* the template's default route, if the kernel kept it */
	((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_gateway)->sin_addr = g;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (!r && ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		r = fail("add default route");
	close(s);
	return r;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* aa:bb:cc:dd:ee:ff into @m; no sscanf: stdio's code is translated afresh too. */
static bool parse_mac(const char *s, unsigned char m[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return false;
		m[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

/*
 * eth0's MAC, when it is not the VM's: the restored NIC says its template's.
 * On a link others share (a bridge, a LAN) two clones must not answer for
 * one MAC; virtio-net takes the change while the link is up.
 */
static int set_mac(const char *mac)
{
	struct ifreq ifr = { 0 };
	unsigned char m[6];
	int s, r = 0;

	if (!parse_mac(mac, m)) {
		errno = EINVAL;
		return fail("bad MAC");
	}
	if ((s = iface_socket(&ifr)) < 0)
		return 1;
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		r = fail("read the MAC");
	} else if (memcmp(ifr.ifr_hwaddr.sa_data, m, 6)) {
		memcpy(ifr.ifr_hwaddr.sa_data, m, 6);
		if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
			r = fail("set the MAC");
	}
	close(s);
	return r;
}

/* The running udhcpc's pid (guest/init started it), or 0. */
static pid_t find_udhcpc(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	while (d && !found && (e = readdir(d))) {
		char path[300], comm[32];
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (n == 7 && !memcmp(comm, "udhcpc\n", 7))
			found = (pid_t)strtol(e->d_name, NULL, 10);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * A guest on the LAN's DHCP holds its template's lease, which the
 * template's MAC asked for. Its client is ended (it read the MAC when it
 * started) and the address dropped while the wire is still cut; the host
 * starts a new client once this VM is on the wire (sl_guest_dhcp()).
 */
static int drop_dhcp(bool dns_fixed)
{
	struct ifreq ifr = { 0 };
	pid_t old = find_udhcpc();
	int s, st, r;

	if (dns_fixed)
		close(open("/run/sl-dns-fixed", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	else
		unlink("/run/sl-dns-fixed");
	if (old > 0 && kill(old, SIGTERM) == 0) {
		/* ours to reap when the agent is PID 1; else wait for it to go */
		for (int i = 0; i < 200 && kill(old, 0) == 0; i++) {
			if (waitpid(old, &st, WNOHANG) == old)
				break;
			usleep(5000);
		}
	}
	if ((s = iface_socket(&ifr)) < 0)
		return 1;
	/* the kernel deletes the address that is set to 0.0.0.0 */
	r = set_sin(&ifr, SIOCSIFADDR, s, 0, "drop the template's address");
	close(s);
	return r;
}

/*
 * resolv.conf rewritten only when it says something else: a clone's name
 * servers are mostly its template's, and a first write costs a restored
 * guest ~25 ms of kernel and libc code translated afresh (TCG), a read ~5.
 * @dns "" empties it: a VM without name servers restored from a template
 * that had some (a shared template store: another group's).
 */
static int write_resolv(const char *dns)
{
	char want[1024], have[sizeof(want) + 1];
	size_t n = 0, len;
	ssize_t got = -1;
	int fd;

	for (const char *s = dns; *s; s += len + (s[len] == ',')) {
		len = strcspn(s, ",");
		if (!len)
			continue;
		if (n + sizeof("nameserver \n") + len > sizeof(want)) {
			errno = E2BIG;
			return fail("/etc/resolv.conf");
		}
		/* no printf: its code is translated afresh too */
		memcpy(want + n, "nameserver ", 11);
		memcpy(want + n + 11, s, len);
		want[n + 11 + len] = '\n';
		n += 12 + len;
	}
	fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, have, sizeof(have));
		close(fd);
	}
	if ((got == (ssize_t)n && !memcmp(have, want, n)) || (!n && got < 0))
		return 0; /* as wanted, or no file where none is wanted */
	fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("/etc/resolv.conf");
	got = write(fd, want, n);
	if (close(fd) < 0 || got != (ssize_t)n)
		return fail("/etc/resolv.conf");
	return 0;
}

/**
 * sl_guest_identity() - make this restored guest the VM it now is
 * @p: the request: SL_IDENTITY_SEED bytes of the host's entropy, then
 *     NAME, IP, PREFIX, GW, DNS (a,b or "-"), REALTIME_NS and, from a host
 *     that sends it, MAC ("-": keep it), each NUL-ended (IP "-": an
 *     address by DHCP: the template's dropped, its client ended)
 * @len: its length
 * @msg: the first failure, for the host
 * @msg_len: size of @msg
 *
 * Return: 0, or 1 with @msg said
 */
int sl_guest_identity(const uint8_t *p, size_t len, char *msg, size_t msg_len)
{
	const char *arg[7] = { 0 };
	const char *s = (const char *)p + SL_IDENTITY_SEED, *end = (const char *)p + len;
	struct timespec ts;
	long long ns;
	int r = 0, n = 0;

	why = msg;
	why_len = msg_len;
	why[0] = '\0';
	for (; len > SL_IDENTITY_SEED && s < end && n < 7; n++) {
		const char *z = memchr(s, '\0', (size_t)(end - s));

		if (!z)
			break;
		arg[n] = s;
		s = z + 1;
	}
	if (n < 6 || s != end) {
		errno = EINVAL;
		return fail("a malformed identity request");
	}
	ns = strtoll(arg[5], NULL, 10);
	ts.tv_sec = ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		r |= fail("set the clock");
	r |= fresh_entropy(p, SL_IDENTITY_SEED);
	if (sethostname(arg[0], strlen(arg[0])) < 0)
		r |= fail("sethostname");
	if (arg[6] && strcmp(arg[6], "-"))
		r |= set_mac(arg[6]);
	if (strcmp(arg[1], "-"))
		r |= readdress(arg[1], arg[2], arg[3]);
	else
		r |= drop_dhcp(strcmp(arg[4], "-"));
	if (strcmp(arg[4], "-"))
		r |= write_resolv(arg[4]);
	else if (strcmp(arg[1], "-"))
		r |= write_resolv(""); /* a DHCP guest's come from its server */
	return r ? 1 : 0;
}
