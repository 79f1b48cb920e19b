# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# xlb: everything builds into $(BUILD); nothing generated is committed.
# `make help` lists the targets.

CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
BUILD ?= build
V ?= 0

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

# A fresh machine lacks packages: say so, and how to get them, instead of
# failing deep in the compiler (gnu/stubs-32.h not found). Goals that
# install them first (test, bench, demo, deps) or need none pass.
ifneq ($(filter-out deps test bench demo check clean help uninstall,$(or $(MAKECMDGOALS),all)),)
DEPS_MISSING := $(shell scripts/deps.sh --missing)
ifneq ($(DEPS_MISSING),)
$(error missing packages: $(DEPS_MISSING); run 'make deps' (as root) first)
endif
endif

ARCH := $(shell uname -m)
PKGS := libbpf libxdp libelf zlib jansson libmicrohttpd libcurl libsystemd \
	openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Werror \
	-Iinclude -Ibpf -I/usr/include/$(ARCH)-linux-gnu
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -MMD -MP -D_GNU_SOURCE \
	-Iinclude -Iuser/lib -I$(BUILD)/include $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS)

# BPF objects: one per bpf/*.bpf.c, each with a skeleton.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/include/%.skel.h,$(BPF_SRCS))
# BPF code includes headers only; every object depends on all of them.
BPF_HDRS := $(wildcard bpf/*.h include/xlb/*.h)

LIB_SRCS := $(wildcard user/lib/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB := $(BUILD)/lib/libxlb.a

# Programs: each directory under user/ other than lib is one binary.
PROG_DIRS := $(filter-out user/lib,$(patsubst %/,%,$(dir $(wildcard user/*/*.c))))
PROG_NAME = $(if $(filter user/agent,$(1)),xlb-agent,$(notdir $(1)))
PROGS := $(foreach d,$(sort $(PROG_DIRS)),$(BUILD)/bin/$(call PROG_NAME,$(d)))

# Unit tests: one binary per tests/unit/test_*.c (cmocka).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

# The agent's unit tests link its objects but main (and decap, which
# needs the skeleton's BPF object for nothing they test).
AGENT_TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out \
	user/agent/main.c user/agent/decap.c,$(wildcard user/agent/*.c)))
PROG_LIBS_agent := -lm

# Golden-packet runner: every tests/bpf/*.c is linked into one binary.
GOLDEN_SRCS := $(wildcard tests/bpf/*.c)
GOLDEN_BIN := $(BUILD)/tests/golden

# Fuzz suite: tests/fuzz/*.c with the golden runner's harness, setup and
# packet builder (not its cases or main).
FUZZ_SRCS := $(wildcard tests/fuzz/*.c) tests/bpf/harness.c tests/bpf/setup.c \
	tests/bpf/packet.c
FUZZ_BIN := $(BUILD)/tests/fuzz

# Benchmarks: tests/bench/*.bpf.c are harness programs, the rest one binary.
BENCH_BPF_SRCS := $(wildcard tests/bench/*.bpf.c)
BENCH_BPF_OBJS := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(BENCH_BPF_SRCS))
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bench/*.c))
BENCH_BIN := $(BUILD)/tests/bench

# make install: where each part goes, under $(DESTDIR). The programs
# (the CLI too) go in sbin, as ipvsadm and bpftool do: each needs root or
# CAP_BPF and CAP_NET_ADMIN (the CLI reads the pinned maps and talks to
# a 0600 socket). The BPF objects are compiled into the programs
# (skeletons): nothing is loaded from disk, so none is installed. Units
# go where Debian's systemd looks for a package's (/lib/systemd/system)
# when PREFIX is /usr, else under the prefix.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
DOCDIR ?= $(DATADIR)/doc/xlb
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system
UNITS := $(wildcard scripts/systemd/*.service)
EXAMPLES := scripts/xlb-agent.example.json $(wildcard scripts/examples/*) \
	$(wildcard scripts/systemd/*.default)
# Built by the man pages' own rule when their tools are there; whatever
# exists is installed.
MAN8 := $(wildcard $(BUILD)/man/*.8)
MAN5 := $(wildcard $(BUILD)/man/*.5)
# What install puts, by destination; uninstall removes exactly these.
INSTALLED := $(patsubst $(BUILD)/bin/%,$(SBINDIR)/%,$(PROGS)) \
	$(BASHCOMPDIR)/xlb $(DOCDIR)/LICENSE \
	$(addprefix $(DOCDIR)/examples/,$(notdir $(EXAMPLES))) \
	$(addprefix $(UNITDIR)/,$(notdir $(UNITS))) \
	$(addprefix $(MANDIR)/man8/,$(notdir $(MAN8))) \
	$(addprefix $(MANDIR)/man5/,$(notdir $(MAN5)))

.DELETE_ON_ERROR:
.PHONY: all bpf test test-unit test-bpf test-e2e fuzz bench demo check \
	deps clean help install uninstall deb

all: $(BPF_OBJS) $(SKELS) $(LIB) $(PROGS)

bpf: $(BPF_OBJS) $(SKELS)

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c $(BPF_HDRS)
	$(call msg,BPF,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The benchmark's LRU and no-trace baselines are the balancer's source
# with one define.
$(BUILD)/bench/balance_lru.bpf.o: bpf/balance.bpf.c
$(BUILD)/bench/balance_notrace.bpf.o: bpf/balance.bpf.c

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	@mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name xlb_$(subst -,_,$*) > $@

$(BUILD)/include/bench_%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,SKEL,$@)
	@mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name bench_$(subst -,_,$*) > $@

$(BUILD)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

define prog_rule
$(BUILD)/bin/$(call PROG_NAME,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(1)/*.c)) $(LIB)
	$$(call msg,LD,$$@)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS) $$(PROG_LIBS_$(notdir $(1)))
endef
$(foreach d,$(sort $(PROG_DIRS)),$(eval $(call prog_rule,$(d))))

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lm

$(BUILD)/obj/tests/unit/test_agent%.o: CFLAGS += -Iuser/agent

$(BUILD)/tests/unit/test_agent%: $(BUILD)/obj/tests/unit/test_agent%.o \
		$(AGENT_TEST_OBJS) $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lm

# It runs the agent as an operator would.
$(BUILD)/tests/unit/test_agent_cli $(BUILD)/tests/unit/test_agent_addrs: \
		| $(BUILD)/bin/xlb-agent
# It runs the CLI against a fake xlbd.
$(BUILD)/tests/unit/test_pool_cli $(BUILD)/tests/unit/test_uplink_cli: \
		| $(BUILD)/bin/xlb

$(GOLDEN_BIN): $(patsubst %.c,$(BUILD)/obj/%.o,$(GOLDEN_SRCS)) $(LIB) $(BPF_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out %.bpf.o,$(filter %.o %.a,$^)) $(LDLIBS)

$(FUZZ_BIN): $(patsubst %.c,$(BUILD)/obj/%.o,$(FUZZ_SRCS)) $(LIB) $(BPF_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out %.bpf.o,$(filter %.o %.a,$^)) $(LDLIBS)

$(patsubst %.c,$(BUILD)/obj/%.o,$(BENCH_SRCS)): \
	$(patsubst tests/bench/%.bpf.c,$(BUILD)/include/bench_%.skel.h,$(BENCH_BPF_SRCS))

$(BENCH_BIN): $(patsubst %.c,$(BUILD)/obj/%.o,$(BENCH_SRCS)) $(LIB) $(BPF_OBJS) $(BENCH_BPF_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a,$(filter-out %.bpf.o,$^)) $(LDLIBS) -lm -lpthread

deps:
	$(Q)scripts/deps.sh

# The test suites each end with "N passed, N failed"; tests/run.sh adds
# them up into the one line that closes `make test`.
test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(GOLDEN_BIN) $(FUZZ_BIN)
	$(Q)tests/run.sh all

test-unit: $(UNIT_BINS)
	$(Q)tests/run.sh unit

test-bpf: $(GOLDEN_BIN)
	$(Q)tests/run.sh bpf

test-e2e: all
	$(Q)tests/run.sh e2e

# The full fuzz corpus (tests/run.sh fuzz runs a fast subset).
fuzz: $(FUZZ_BIN)
	$(Q)$(FUZZ_BIN) --count $(or $(FUZZ_COUNT),200000) $(FUZZ_ARGS)

# Benchmarks print figures and never fail on time; they fail only when
# the path they measure is not the intended one (or requests fail).
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BENCH_BIN)
	$(Q)rc=0; BUILD=$(BUILD) tests/bench/run.sh || rc=1; \
		BUILD=$(BUILD) tests/bench/controller.sh || rc=1; exit $$rc

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

check:
	$(Q)scripts/check.sh

# The units name /usr/sbin: rewritten for another SBINDIR.
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR)
	$(Q)install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 scripts/xlb-completion.bash $(DESTDIR)$(BASHCOMPDIR)/xlb
	$(Q)install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE
	$(Q)install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(Q)for u in $(UNITS); do \
		sed 's|/usr/sbin/|$(SBINDIR)/|g' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	$(if $(MAN8),$(Q)install -d $(DESTDIR)$(MANDIR)/man8 && \
		install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(MAN5),$(Q)install -d $(DESTDIR)$(MANDIR)/man5 && \
		install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)

# Only the files, and the directories that were only xlb's when empty.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# make deb: the Debian package of the committed tree (git archive HEAD,
# so what is packaged is a commit, not whatever the working tree holds),
# built by debhelper with scripts/debian as its debian/ in
# $(BUILD)/deb/xlb-VERSION, left in $(BUILD)/xlb_VERSION_ARCH.deb. It
# compiles everything again, with Debian's hardening flags (about 30 s
# on two cores). user/lib/version.h is the version; the changelog's
# newest entry must name it.
XLB_VERSION = $(shell sed -n 's/^\#define XLB_VERSION "\(.*\)"$$/\1/p' user/lib/version.h)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_JOBS ?= 2
deb:
	$(Q)v=$$(dpkg-parsechangelog -l scripts/debian/changelog -S Version) && \
		[ "$$v" = "$(XLB_VERSION)" ] || { echo "make deb: scripts/debian/changelog's newest entry is $$v, user/lib/version.h says $(XLB_VERSION): add a changelog entry (dch -c scripts/debian/changelog -v $(XLB_VERSION))" >&2; exit 1; }
	$(Q)git rev-parse --verify -q HEAD >/dev/null || \
		{ echo "make deb: it packages a git checkout's HEAD; this tree is none" >&2; exit 1; }
	$(Q)git diff --quiet HEAD -- || \
		echo "make deb: uncommitted changes are not packaged (it packages HEAD)" >&2
	$(call msg,DEB,$(BUILD)/xlb_$(XLB_VERSION)_$(DEB_ARCH).deb)
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/xlb-$(XLB_VERSION)
	$(Q)git archive --format=tar HEAD | tar -x -C $(BUILD)/deb/xlb-$(XLB_VERSION)
	$(Q)cp -r $(BUILD)/deb/xlb-$(XLB_VERSION)/scripts/debian \
		$(BUILD)/deb/xlb-$(XLB_VERSION)/debian
	$(Q)cd $(BUILD)/deb/xlb-$(XLB_VERSION) && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD \
		DEB_BUILD_OPTIONS="parallel=$(DEB_JOBS) $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -30 ../build.log; echo "make deb: failed, see $(BUILD)/deb/build.log" >&2; exit 1; }
	$(Q)mv $(BUILD)/deb/xlb_$(XLB_VERSION)_$(DEB_ARCH).deb $(BUILD)/

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

help:
	@echo 'xlb targets:'
	@echo '  all (default)  BPF objects, skeletons, libxlb and the programs'
	@echo '  test           install missing packages, build, run every suite'
	@echo '  test-unit      userspace unit tests (cmocka)'
	@echo '  test-bpf       golden-packet tests of the BPF programs'
	@echo '  test-e2e       end-to-end tests in network namespaces'
	@echo '  fuzz           the full fuzz corpus (FUZZ_COUNT, FUZZ_ARGS)'
	@echo '  bench          benchmarks; figures in $(BUILD)/bench/*.json,'
	@echo '                 their picture in $(BUILD)/bench/bench.svg'
	@echo '  demo           the network-namespace demo'
	@echo '  man            the manuals (scdoc) in $(BUILD)/man'
	@echo '  check          clang-format and static analysis'
	@echo '  deps           install missing Debian packages'
	@echo '  install        programs, units, completion, examples, man pages'
	@echo '                 into $$(DESTDIR)$$(PREFIX) (PREFIX=/usr/local)'
	@echo '  uninstall      remove exactly what install put there'
	@echo '  deb            Debian package of HEAD: $(BUILD)/xlb_VERSION_ARCH.deb'
	@echo '  clean          remove $(BUILD)'
	@echo 'Variables: V=1 (show commands), CLANG, BPFTOOL, CC, BUILD,'
	@echo '  PREFIX, DESTDIR (and SBINDIR, DOCDIR, MANDIR, UNITDIR...)'

include scripts/man/man.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
