# persistd: one non-recursive Makefile.
#
#   make            build persistd and persistctl into build/
#   make check      install missing Debian packages, build with ASan+UBSan into
#                   build-san/, run unit tests, fuzz replays and integration tests
#   make demo       the main job end to end on a local test setup
#   make fuzz       run every libFuzzer harness for FUZZ_SECONDS each (clang-14)
#   make bench      benchmarks in tests/bench/
#   make soak       persistd SIGKILLed at random moments across 200 renewals
#                   (SOAK_ARGS=--renewals N --max-minutes M --seed S); not in check
#   make install    PREFIX=/usr DESTDIR=...
#
# Sources are found by wildcard: a new module is a new .c/.h pair and needs no
# edit here. common/ builds into one archive every binary links.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
CATALOGDIR ?= $(PREFIX)/lib/systemd/catalog
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR ?=

VERSION := 0.1.0
FUZZ_SECONDS ?= 60
PYTHON := /usr/bin/python3
PYTEST_ARGS ?=
# The integration tests mostly wait (on CAs, DNS, timers), so two files run side by side;
# a file's tests stay together, in order, on one worker (they share servers).
# PYTEST_JOBS=0 runs them one by one.
PYTEST_JOBS ?= 2

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif

PKGS := libuv getdns yajl libsystemd inih libcurl libcrypto libmicrohttpd libseccomp libpq
# Debian's libunbound.pc requires libevent's .pc (libevent-dev), which nothing
# else needs: asked on its own, with -lunbound when pkg-config cannot answer.
UNBOUND_LIBS := $(shell pkg-config --libs libunbound 2>/dev/null || echo -lunbound)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MBEDTLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
LIBS := $(PKG_LIBS) $(UNBOUND_LIBS) $(MBEDTLS_LIBS) -lm
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wsign-compare -Wformat=2 -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DPERSISTD_VERSION='"$(VERSION)"' $(WARN) -I. $(PKG_CFLAGS)

ifeq ($(SAN),1)
O := build-san
MODE_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
MODE_LDFLAGS := -fsanitize=address,undefined
else
O := build
MODE_CFLAGS := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
MODE_LDFLAGS :=
endif

ALL_CFLAGS := $(BASE_CFLAGS) $(MODE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(MODE_LDFLAGS) $(LDFLAGS)

COMMON_SRC := $(wildcard common/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/acme/*.c))
CTL_SRC := $(filter-out ctl/main.c,$(wildcard ctl/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
DRIVER_SRC := $(wildcard tests/drivers/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(O)/%.o)
CTL_OBJ := $(CTL_SRC:%.c=$(O)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/replay/%)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(O)/bench/%)
DRIVER_BIN := $(DRIVER_SRC:tests/drivers/%.c=$(O)/drivers/%)

LIBCOMMON := $(O)/libcommon.a
LIBDAEMON := $(O)/libdaemon.a
LIBCTL := $(O)/libctl.a

.PHONY: all check unit integration replay demo fuzz bench soak install uninstall clean deps \
	check-build check-static
.DEFAULT_GOAL := all

all: $(O)/persistd $(O)/persistctl

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The status page's files are embedded by the assembler (.incbin).
WEB_ASSETS := $(wildcard daemon/web/*)
$(O)/daemon/webpage.o: $(WEB_ASSETS)

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBDAEMON): $(DAEMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBCTL): $(CTL_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(O)/persistd: $(O)/daemon/main.o $(LIBDAEMON) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/persistctl: $(O)/ctl/main.o $(LIBCTL) $(LIBCOMMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/%: tests/unit/%.c $(LIBDAEMON) $(LIBCTL) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(LIBDAEMON) $(LIBCTL) $(LIBCOMMON) $(ALL_LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# Fuzz harnesses built with gcc against a replay main(): runs the seeds and
# past crashes in make check without libFuzzer.
$(O)/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(LIBDAEMON) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c $(LIBDAEMON) $(LIBCOMMON) $(ALL_LDFLAGS) $(LIBS)

$(O)/bench/%: tests/bench/%.c tests/bench/legacy_getdns_uv.inc $(LIBDAEMON) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(LIBDAEMON) $(LIBCOMMON) $(ALL_LDFLAGS) $(LIBS)

# Small C programs that integration tests drive (a module on a real loop
# against real servers); pytest finds them in $PERSISTD_BUILD/drivers/.
$(O)/drivers/%: tests/drivers/%.c $(LIBDAEMON) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(LIBDAEMON) $(LIBCOMMON) $(ALL_LDFLAGS) $(LIBS)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps

# make check: everything, against the sanitizer build.
check: deps
	@$(MAKE) --no-print-directory SAN=1 check-build
	@$(MAKE) --no-print-directory SAN=1 unit
	@$(MAKE) --no-print-directory SAN=1 replay
	@$(MAKE) --no-print-directory SAN=1 integration
	@$(MAKE) --no-print-directory check-static
	@echo "make check: all passed"

check-build: all $(UNIT_BIN) $(REPLAY_BIN) $(DRIVER_BIN)

# The shipping pieces: systemd units (verify, sandbox score), man pages
# (mandoc -Tlint), make install/uninstall into a temp DESTDIR.
check-static:
	@scripts/check-systemd
	@scripts/check-man
	@scripts/check-install

unit: $(UNIT_BIN)
	@scripts/run-unit $(UNIT_BIN)

replay: $(REPLAY_BIN)
	@set -e; for b in $(REPLAY_BIN); do n=$$(basename $$b); p=$${n#fuzz_}; \
		$$b tests/fuzz/$$p.in tests/fuzz/$$p.repro; done

integration: all $(DRIVER_BIN)
	PERSISTD_BUILD=$(CURDIR)/$(O) $(PYTHON) -m pytest -q -rs -p no:cacheprovider --durations=12 \
		$(if $(filter-out 0,$(PYTEST_JOBS)),-n $(PYTEST_JOBS) --dist loadfile) tests/integration \
		$(PYTEST_ARGS)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(CURDIR)/build

# Kill -9 at random moments, restart, and count what broke (scripts/soak).
SOAK_ARGS ?=
soak: all
	@$(PYTHON) scripts/soak --build $(CURDIR)/$(O) $(SOAK_ARGS)

# libFuzzer builds: clang-14, everything instrumented.
FUZZ_O := build-fuzz
FUZZ_CC := clang-14
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined
FUZZ_COMMON_OBJ := $(COMMON_SRC:%.c=$(FUZZ_O)/%.o) $(DAEMON_SRC:%.c=$(FUZZ_O)/%.o)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)

$(FUZZ_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

# An archive, so a harness links only the objects it reaches (the daemon's
# objects refer to main.c, which no harness links).
$(FUZZ_O)/libfuzzobj.a: $(FUZZ_COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_O)/libfuzzobj.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer -o $@ $< $(FUZZ_O)/libfuzzobj.a $(LIBS)

fuzz: deps $(FUZZ_BIN)
	@scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@nice scripts/bench-dns $(CURDIR)/build --strace --json $(CURDIR)/build/bench-dns.json
	@nice scripts/bench-acme $(CURDIR)/build --rounds 3 --json $(CURDIR)/build/bench-acme.json
	@scripts/bench-daemon $(CURDIR)/build

# Config files are never overwritten. certs.d/example.conf.sample is installed
# only together with a fresh persistd.conf: on a configured system a deleted
# sample does not come back. It is not live (only certs.d/*.conf is read):
# copy it to certs.d/NAME.conf to make a cert.
# uninstall removes what install put there; a config file is removed only
# when it is still byte-identical to the shipped copy.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(CATALOGDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DATADIR)/doc/persistd
	install -m 0755 $(O)/persistd $(DESTDIR)$(SBINDIR)/persistd
	install -m 0755 $(O)/persistctl $(DESTDIR)$(BINDIR)/persistctl
	sed -e 's|/usr/sbin/persistd|$(SBINDIR)/persistd|g' \
		-e 's|/usr/bin/persistctl|$(BINDIR)/persistctl|g' \
		systemd/persistd.service >$(O)/persistd.service
	install -m 0644 $(O)/persistd.service $(DESTDIR)$(UNITDIR)/persistd.service
	install -m 0644 systemd/persistd.socket $(DESTDIR)$(UNITDIR)/persistd.socket
	install -m 0644 systemd/persistd-deploy@.path $(DESTDIR)$(UNITDIR)/persistd-deploy@.path
	install -m 0644 systemd/persistd-deploy@.service \
		$(DESTDIR)$(UNITDIR)/persistd-deploy@.service
	install -m 0644 systemd/persistd.sysusers $(DESTDIR)$(SYSUSERSDIR)/persistd.conf
	install -m 0644 systemd/persistd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/persistd.conf
	install -m 0644 systemd/persistd.catalog $(DESTDIR)$(CATALOGDIR)/persistd.catalog
	install -m 0644 docs/man/persistctl.1 $(DESTDIR)$(MANDIR)/man1/persistctl.1
	install -m 0644 docs/man/persistd.conf.5 $(DESTDIR)$(MANDIR)/man5/persistd.conf.5
	install -m 0644 docs/man/persistd.8 $(DESTDIR)$(MANDIR)/man8/persistd.8
	install -m 0644 ctl/persistctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/persistctl
	install -m 0644 docs/operating-model.md docs/security.md docs/rollback.md docs/web.md \
		docs/deploying.md \
		$(DESTDIR)$(DATADIR)/doc/persistd/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/persistd $(DESTDIR)$(SYSCONFDIR)/persistd/certs.d
	@conf=$(DESTDIR)$(SYSCONFDIR)/persistd; \
	if [ -e $$conf/persistd.conf ] || [ -L $$conf/persistd.conf ]; then \
		echo "install: keeping the existing $$conf/persistd.conf (etc/persistd.conf not installed)"; \
		[ -e $$conf/certs.d/example.conf.sample ] || \
			echo "install: not adding $$conf/certs.d/example.conf.sample to an existing configuration"; \
	else \
		echo "install -m 0644 etc/persistd.conf $$conf/persistd.conf"; \
		install -m 0644 etc/persistd.conf $$conf/persistd.conf || exit 1; \
		if [ -e $$conf/certs.d/example.conf.sample ] || [ -L $$conf/certs.d/example.conf.sample ]; then \
			echo "install: keeping the existing $$conf/certs.d/example.conf.sample"; \
		else \
			echo "install -m 0644 etc/certs.d/example.conf.sample $$conf/certs.d/example.conf.sample"; \
			install -m 0644 etc/certs.d/example.conf.sample $$conf/certs.d/example.conf.sample || exit 1; \
		fi; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		echo "install: done. Next, as root:"; \
		echo "  systemd-sysusers persistd.conf && systemd-tmpfiles --create persistd.conf"; \
		echo "  journalctl --update-catalog && systemctl daemon-reload"; \
		echo "  edit $(SYSCONFDIR)/persistd/persistd.conf and certs.d/, then: persistd --check-config"; \
		echo "  systemctl enable --now persistd.socket persistd.service"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/persistd $(DESTDIR)$(BINDIR)/persistctl \
		$(DESTDIR)$(UNITDIR)/persistd.service $(DESTDIR)$(UNITDIR)/persistd.socket \
		'$(DESTDIR)$(UNITDIR)/persistd-deploy@.path' \
		'$(DESTDIR)$(UNITDIR)/persistd-deploy@.service' \
		$(DESTDIR)$(SYSUSERSDIR)/persistd.conf $(DESTDIR)$(TMPFILESDIR)/persistd.conf \
		$(DESTDIR)$(CATALOGDIR)/persistd.catalog \
		$(DESTDIR)$(MANDIR)/man1/persistctl.1 $(DESTDIR)$(MANDIR)/man5/persistd.conf.5 \
		$(DESTDIR)$(MANDIR)/man8/persistd.8 $(DESTDIR)$(BASHCOMPDIR)/persistctl \
		$(DESTDIR)$(DATADIR)/doc/persistd/operating-model.md \
		$(DESTDIR)$(DATADIR)/doc/persistd/security.md \
		$(DESTDIR)$(DATADIR)/doc/persistd/rollback.md \
		$(DESTDIR)$(DATADIR)/doc/persistd/web.md \
		$(DESTDIR)$(DATADIR)/doc/persistd/deploying.md
	@conf=$(DESTDIR)$(SYSCONFDIR)/persistd; \
	for f in persistd.conf certs.d/example.conf.sample; do \
		if [ -f $$conf/$$f ] && [ ! -L $$conf/$$f ] && cmp -s etc/$$f $$conf/$$f; then \
			echo "rm -f $$conf/$$f"; rm -f $$conf/$$f || exit 1; \
		elif [ -e $$conf/$$f ] || [ -L $$conf/$$f ]; then \
			echo "uninstall: keeping $$conf/$$f: it differs from the shipped etc/$$f"; \
		fi; \
	done; \
	for d in $$conf/certs.d $$conf $(DESTDIR)$(DATADIR)/doc/persistd; do \
		if [ -d $$d ] && [ -z "$$(ls -A $$d)" ]; then echo "rmdir $$d"; rmdir $$d; fi; \
	done; \
	if [ -z "$(DESTDIR)" ]; then \
		echo "uninstall: the state directory (/var/lib/persistd: account keys, certificates)"; \
		echo "  and the persistd user are left in place; see rollback.md. Then, as root:"; \
		echo "  journalctl --update-catalog && systemctl daemon-reload"; \
	fi

clean:
	rm -rf build build-san build-fuzz
