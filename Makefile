# sltools — isolated networking for microVMs. Plain make, no configure.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
UNITDIR ?= $(PREFIX)/lib/systemd/system
# The udev rule and the .link/.network that keep udev and networkd off our links.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
NETWORKDIR ?= $(PREFIX)/lib/systemd/network
# Where runtimes look for CNI plugins (Debian's containernetworking-plugins: /usr/lib/cni).
CNIDIR ?= $(PREFIX)/lib/cni
DESTDIR ?=

CC ?= cc
AR ?= ar
PKG_CONFIG ?= pkg-config
PKGS := libnl-3.0 libnl-route-3.0 libip4tc yaml-0.1 libarchive libnetfilter_conntrack libnetfilter_log libipset ldns json-c libcrypto
VERSION := 0.1.0

# lib/ by layer (docs/ARCHITECTURE.md): what every layer uses, the pure
# policy, the glue to the kernel and the system's libraries, the network
# layers, the VM, each tool's command line as a function (cmd), and the
# composition of them all; each uses only those before it. One archive;
# headers found by name.
LIB_DIRS := lib/base lib/policy lib/kernel lib/net lib/vm lib/cmd lib/compose
LIB_INC := $(LIB_DIRS:%=-I%)
LIB_HDR := $(wildcard $(LIB_DIRS:%=%/*.h))
CFLAGS ?= -O2 -g
# The project's own flags come after the user's so that CFLAGS cannot drop them.
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wno-missing-field-initializers
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -DSL_VERSION='"$(VERSION)"' \
	$(LIB_INC) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Each tool loads only the libraries it calls: a process start is most of
# a small command's time (ldns alone brings OpenSSL).
override LDFLAGS += -Wl,--as-needed
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
endif

TOOLS := sl-ipam sl-netns sl-veth sl-tap sl-cni-run sl-cni sl-egress sl-boot sl-exec sl-up sl-gc
BINS := $(addprefix bin/,$(TOOLS))
LIB_SRC := $(wildcard $(LIB_DIRS:%=%/*.c))
LIB_OBJ := $(LIB_SRC:.c=.o)
MANS1 := $(patsubst %.scd,%,$(wildcard man/*.1.scd))
MANS7 := $(patsubst %.scd,%,$(wildcard man/*.7.scd))
MANS8 := $(patsubst %.scd,%,$(wildcard man/*.8.scd))
MANS := $(MANS1) $(MANS7) $(MANS8)

GUEST := build/guest
GUEST_FILES := $(GUEST)/vmlinuz $(GUEST)/initramfs.cpio.gz
GUESTDIR ?= $(PREFIX)/lib/sltools/guest
override CFLAGS += -DSL_GUEST_INSTALL_DIR='"$(GUESTDIR)"'

SUPERVISE_SRC := libexec/sl-supervise.c lib/vm/supervisor.c lib/base/caplog.c lib/base/error.c lib/base/proto.c lib/base/state.c lib/base/kv.c \
	lib/base/log.c lib/base/name.c lib/base/spawn.c lib/base/sweep.c
LIBEXECDIR ?= $(PREFIX)/libexec/sltools
override CFLAGS += -DSL_LIBEXEC_DIR='"$(LIBEXECDIR)"'
ifeq ($(SANITIZE),1)
SUPERVISE_LINK :=
else
SUPERVISE_LINK := -static
endif

# The run dir's daemon (lib/net/egressd.h), started by sl-egress apply, and
# copy-out's unpacker (lib/vm/copy.c), run by sl-exec cp.
DAEMONS := libexec/sl-egressd libexec/sl-unpack

all: $(BINS) libexec/sl-supervise $(DAEMONS) $(MANS) guest

# The supervisor: static and small, it stays running for each VM.
libexec/sl-supervise: $(SUPERVISE_SRC) $(LIB_HDR) .flags
	$(CC) $(CFLAGS) $(LDFLAGS) $(SUPERVISE_LINK) -o $@ $(SUPERVISE_SRC) -ljson-c

$(DAEMONS): libexec/%: libexec/%.c lib/libsl.a $(LIB_HDR) .flags
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< lib/libsl.a $(LDLIBS)

# The guest: Debian's cloud kernel (fetched, unpacked, never installed) and
# an initramfs of busybox-static, the virtio modules, /init and the agent.
guest: $(GUEST_FILES)

# udevd and udevadm for t/26-systemd, unpacked from Debian's udev of the
# installed systemd's version, never installed: its postinst would start
# udevd on the real host, which sets device nodes' modes and renames links.
UDEV_ROOT := build/udev
$(UDEV_ROOT)/bin/udevadm:
	rm -rf $(UDEV_ROOT) build/udev.tmp && mkdir -p build/udev.tmp
	cd build/udev.tmp && v="udev=$$(dpkg-query -W -f='$${Version}' systemd)" && \
		{ apt-get download -q "$$v" || { apt-get update -q && apt-get download -q "$$v"; }; }
	dpkg-deb -x build/udev.tmp/udev_*.deb build/udev.tmp/root && mv build/udev.tmp/root $(UDEV_ROOT)
	rm -rf build/udev.tmp

$(GUEST)/vmlinuz: guest/fetch-kernel.sh
	guest/fetch-kernel.sh $(GUEST)

# Static, and never sanitized: it is PID 1 of the guest.
$(GUEST)/sl-agent: guest/sl-agent.c guest/identity.c guest/identity.h lib/base/proto.c lib/base/proto.h
	@mkdir -p $(GUEST)
	$(CC) -O2 -g $(WARN) -std=gnu11 -D_GNU_SOURCE $(LIB_INC) -static -o $@ guest/sl-agent.c guest/identity.c lib/base/proto.c

$(GUEST)/initramfs.cpio.gz: guest/init guest/udhcpc.script guest/sl-dhcp guest/mkinitramfs.sh $(GUEST)/sl-agent $(GUEST)/vmlinuz
	guest/mkinitramfs.sh $(GUEST) $(GUEST)/sl-agent $@

# Rebuild everything when the flags change (e.g. SANITIZE=1 after a plain build).
.flags: FORCE
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@

lib/%.o: lib/%.c $(LIB_HDR) .flags
	$(CC) $(CFLAGS) -c -o $@ $<

# Made anew: ar keeps the members of files that no longer exist.
lib/libsl.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

bin/sl-%: bin/sl-%.c lib/libsl.a $(LIB_HDR) .flags
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< lib/libsl.a $(LDLIBS)

# sl-up and sl-boot with fault injection (SL_FAULT, lib/base/fault.h), for the
# tests only: next to the tools they run, hidden, never installed.
bin/.sl-up-fault: bin/sl-up.c lib/compose/up.c lib/net/egress-rules.c lib/libsl.a $(LIB_HDR) .flags
	$(CC) $(CFLAGS) -DSL_FAULT_INJECTION $(LDFLAGS) -o $@ bin/sl-up.c lib/compose/up.c lib/net/egress-rules.c \
		lib/libsl.a $(LDLIBS)
bin/.sl-boot-fault: bin/sl-boot.c lib/vm/vm.c lib/vm/snapshot.c lib/vm/spare.c lib/libsl.a $(LIB_HDR) .flags
	$(CC) $(CFLAGS) -DSL_FAULT_INJECTION $(LDFLAGS) -o $@ bin/sl-boot.c lib/vm/vm.c lib/vm/snapshot.c lib/vm/spare.c \
		lib/libsl.a $(LDLIBS)

# Through a temporary: a page scdoc refuses leaves no half page behind.
man/%.7: man/%.7.scd
	scdoc < $< > $@.tmp && mv $@.tmp $@

man/%.1: man/%.1.scd
	scdoc < $< > $@.tmp && mv $@.tmp $@

man/%.8: man/%.8.scd
	scdoc < $< > $@.tmp && mv $@.tmp $@

# Every build and test dependency, from Debian's packages. Quick when present.
DEPS := build-essential pkg-config libnl-3-dev libnl-route-3-dev libiptc-dev libip4tc-dev \
	libyaml-dev libarchive-dev libnetfilter-conntrack-dev libnetfilter-log-dev bats scdoc iptables iproute2 util-linux procps cppcheck clang-tidy jq \
	libipset-dev libldns-dev libjson-c-dev libssl-dev dnsmasq-base containernetworking-plugins ipset debhelper dpkg-dev lintian man-db systemd git xz-utils \
	golang-go golang-github-appc-cni-dev podman runc \
	busybox-static cpio qemu-system-x86 tar coreutils clang libclang-rt-14-dev python3 bsdutils
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	else echo "all dependencies present"; fi

# Test files run in TEST_JOBS lanes at once (t/run -j): the suite mostly
# waits (timeouts that prove a drop, guests booting), and every test must
# hold up on a busy host anyway: three lanes on two cores.
TEST_JOBS ?= 3
check: all bin/.sl-up-fault bin/.sl-boot-fault fuzz unit $(UDEV_ROOT)/bin/udevadm
	t/run -j $(TEST_JOBS) $(TESTS)
	@if [ -z "$(TESTS)" ]; then t/mutants.sh; fi

# The unit tests and the bats suite alone: what a SANITIZE=1 pass needs
# (the fuzzers are sanitized builds of their own, and the mutation check
# tests the tests, not the code: once each is enough).
check-suite: all bin/.sl-up-fault bin/.sl-boot-fault unit $(UDEV_ROOT)/bin/udevadm
	t/run -j $(TEST_JOBS) $(TESTS)

# Unit tests of the pure code (t/unit/), plain asserts and one runner.
UNIT_SRC := $(wildcard t/unit/*.c)
t/unit/unit-tests: $(UNIT_SRC) t/unit/unit.h t/unit/tests.def lib/libsl.a .flags
	$(CC) $(CFLAGS) -It/unit $(LDFLAGS) -o $@ $(UNIT_SRC) lib/libsl.a $(LDLIBS)

# (with LeakSanitizer even where a pass turned it off for the suite: one process)
unit: t/unit/unit-tests
	ASAN_OPTIONS='$(subst detect_leaks=0,detect_leaks=1,$(ASAN_OPTIONS))' t/unit/unit-tests

# libFuzzer targets, each for a short time on every check: the frame parser
# (what the guest sends the supervisor), copy-out (the guest's tar stream),
# egress entries and denied packets' headers, env files, the config
# loader, the resolver's DNS messages, the denial log lines, CNI results
# and sl-cni's network configs, sl-exec forward's specs (what users, env
# files, guests, upstream servers, plugins and runtimes write).
FUZZ_SECONDS ?= 12
FUZZ_TARGETS := frame copy entry env config dns denial cni cniconf forward
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE $(LIB_INC) -fsanitize=fuzzer,address,undefined
fuzz/frame-fuzz: fuzz/frame-fuzz.c lib/base/proto.c lib/base/proto.h
	clang $(FUZZ_CFLAGS) -o $@ fuzz/frame-fuzz.c lib/base/proto.c
fuzz/copy-fuzz: fuzz/copy-fuzz.c lib/vm/copy.c lib/vm/copy.h lib/base/error.c lib/base/error.h lib/base/file.c
	clang $(FUZZ_CFLAGS) -o $@ fuzz/copy-fuzz.c lib/vm/copy.c lib/base/error.c lib/base/file.c -larchive
fuzz/entry-fuzz: fuzz/entry-fuzz.c lib/policy/policy.c lib/policy/policy.h lib/base/cidr.c lib/base/log.c lib/base/error.c
	clang $(FUZZ_CFLAGS) -o $@ fuzz/entry-fuzz.c lib/policy/policy.c lib/base/cidr.c lib/base/log.c lib/base/error.c

fuzz/dns-fuzz: fuzz/dns-fuzz.c lib/net/dns.c lib/net/dns.h lib/base/cidr.c lib/base/log.c lib/base/error.c
	clang $(FUZZ_CFLAGS) -o $@ fuzz/dns-fuzz.c lib/net/dns.c lib/base/cidr.c lib/base/log.c lib/base/error.c -lldns

fuzz/env-fuzz: fuzz/env-fuzz.c lib/base/kv.c lib/base/kv.h lib/base/log.c lib/base/error.c
	clang $(FUZZ_CFLAGS) -o $@ fuzz/env-fuzz.c lib/base/kv.c lib/base/log.c lib/base/error.c -ljson-c
# Targets that reach much of lib/ link all of it, compiled once for them
# (instrumented, not linked with the fuzzer's main) into build/fuzz/.
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=build/fuzz/%.o)
build/fuzz/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE $(LIB_INC) -fsanitize=fuzzer-no-link,address,undefined \
		$(shell $(PKG_CONFIG) --cflags $(PKGS)) -c -o $@ $<
build/fuzz/libsl-fuzz.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^
fuzz/denial-fuzz fuzz/cni-fuzz fuzz/cniconf-fuzz fuzz/config-fuzz fuzz/forward-fuzz: fuzz/%-fuzz: fuzz/%-fuzz.c \
		build/fuzz/libsl-fuzz.a $(LIB_HDR)
	clang $(FUZZ_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS)) -o $@ $< \
		build/fuzz/libsl-fuzz.a $(LDLIBS)
fuzz-build: $(FUZZ_TARGETS:%=fuzz/%-fuzz)

# Two at a time: each is one process on one core.
fuzz: fuzz-build
	@run() { \
		mkdir -p build/fuzz-corpus-$$1; \
		seeds=fuzz/corpus-$$1; [ $$1 = frame ] && seeds=fuzz/corpus; \
		fuzz/$$1-fuzz -max_total_time=$(FUZZ_SECONDS) build/fuzz-corpus-$$1 $$seeds \
			>build/fuzz-$$1.log 2>&1 || { tail -n 40 build/fuzz-$$1.log; \
			echo "fuzz: $$1 FAILED"; return 1; }; \
		echo "fuzz: $$1: $$(grep -o 'Done [0-9]* runs in [0-9]* second' build/fuzz-$$1.log), no crash"; \
	}; \
	set -- $(FUZZ_TARGETS); \
	while [ $$# -gt 0 ]; do \
		run $$1 & a=$$!; b=; \
		if [ $$# -gt 1 ]; then run $$2 & b=$$!; shift; fi; \
		shift; \
		wait $$a || exit 1; \
		[ -z "$$b" ] || wait $$b || exit 1; \
	done

# The agents example end to end, in scratch namespaces: the first thing to run.
demo: deps
	$(MAKE) all
	demo/demo.sh

# clang-tidy a file at a time, two at once (it takes a core per file)
TIDY_SRC := $(LIB_SRC) $(BINS:=.c) libexec/sl-supervise.c $(DAEMONS:=.c)
tidy: $(TIDY_SRC:%=tidy/%)
tidy/%: FORCE
	@clang-tidy --quiet $* -- $(CFLAGS)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem $(LIB_INC) lib bin libexec guest
	$(MAKE) -j2 --no-print-directory tidy

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(CNIDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 0755 bin/sl-cni $(DESTDIR)$(CNIDIR)
	install -m 0644 $(MANS1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MANS7) $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(MANS8) $(DESTDIR)$(MANDIR)/man8
	for t in $(TOOLS); do \
		install -m 0644 completions/bash/sltools $(DESTDIR)$(BASHCOMPDIR)/$$t; done
	install -m 0644 completions/zsh/_sltools $(DESTDIR)$(ZSHCOMPDIR)/_sltools
	install -m 0644 completions/fish/*.fish $(DESTDIR)$(FISHCOMPDIR)
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(GUESTDIR)
	install -m 0755 libexec/sl-supervise $(DAEMONS) $(DESTDIR)$(LIBEXECDIR)
	install -m 0644 $(GUEST_FILES) $(DESTDIR)$(GUESTDIR)
	install -d $(DESTDIR)$(UNITDIR)
	install -m 0644 systemd/sl-up@.service systemd/sltools-gc.service $(DESTDIR)$(UNITDIR)
	install -d $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(NETWORKDIR)
	install -m 0644 systemd/70-sltools.rules $(DESTDIR)$(UDEVRULESDIR)
	install -m 0644 systemd/10-sltools.link systemd/10-sltools.network $(DESTDIR)$(NETWORKDIR)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(TOOLS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MANS1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(MANS7)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MANS8)))
	rm -f $(DESTDIR)$(CNIDIR)/sl-cni
	rm -f $(addprefix $(DESTDIR)$(BASHCOMPDIR)/,$(TOOLS))
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_sltools
	rm -f $(addprefix $(DESTDIR)$(FISHCOMPDIR)/,$(TOOLS:=.fish))
	rm -rf $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(LIBEXECDIR)
	rm -f $(DESTDIR)$(UNITDIR)/sl-up@.service $(DESTDIR)$(UNITDIR)/sltools-gc.service
	rm -f $(DESTDIR)$(UDEVRULESDIR)/70-sltools.rules
	rm -f $(DESTDIR)$(NETWORKDIR)/10-sltools.link $(DESTDIR)$(NETWORKDIR)/10-sltools.network

# The Debian packages sltools and sltools-guest, from the tracked files as
# they are in the working tree, built in a copy (build/deb/src): into
# build/deb/. lintian must find no error. Our own make's variables (a
# SANITIZE=1 check) do not reach the package's build.
deb:
	rm -rf build/deb && mkdir -p build/deb/src
	git ls-files -z | xargs -0 tar -c | tar -x -C build/deb/src
	if [ -e $(GUEST)/vmlinuz ]; then mkdir -p build/deb/src/$(GUEST)/modules && \
		cp -a $(GUEST)/vmlinuz $(GUEST)/kernel.version build/deb/src/$(GUEST)/ && \
		cp -a $(GUEST)/modules/. build/deb/src/$(GUEST)/modules/; fi
	cd build/deb/src && MAKEFLAGS= MAKELEVEL= dpkg-buildpackage -b -us -uc
	# lintian leaves its MLDBM files in TMPDIR: one of ours, removed after
	mkdir -p build/deb/tmp
	TMPDIR=$(CURDIR)/build/deb/tmp lintian --fail-on error \
		build/deb/sltools_$(VERSION)_amd64.changes
	rm -rf build/deb/tmp

clean:
	rm -rf build/fuzz
	rm -f $(LIB_DIRS:%=%/*.o) lib/libsl.a $(BINS) bin/.sl-up-fault bin/.sl-boot-fault $(MANS) .flags $(GUEST)/sl-agent $(FUZZ_TARGETS:%=fuzz/%-fuzz) \
		libexec/sl-supervise $(DAEMONS) t/unit/unit-tests

# clean keeps the downloaded kernel; this takes it too.
distclean: clean
	rm -rf build

.PHONY: all guest fuzz fuzz-build unit deps check check-suite demo lint tidy install uninstall clean distclean deb FORCE
.SECONDARY:
