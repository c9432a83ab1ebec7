# p2p-music - tracker, peer and client over one protocol library.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

CC ?= cc
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
       -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wvla
CFLAGS ?= -O2 -g
WERROR ?= -Werror
CPPFLAGS += -Iinclude -D_GNU_SOURCE
ALL_CFLAGS = -std=c11 $(WARN) $(WERROR) $(CFLAGS) -pthread -MMD -MP
LDLIBS += -pthread

SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

LIB_SRC     = $(sort $(wildcard src/lib/*.c))
TRACKER_SRC = $(sort $(wildcard src/tracker/*.c))
PEER_SRC    = $(sort $(wildcard src/peer/*.c))
CLIENT_SRC  = $(sort $(wildcard src/client/*.c src/client/gateway/*.c))
UNIT_SRC    = $(sort $(wildcard tests/unit/*.c))
PROGRAMS    = tracker peer client

# $(call objs,BUILDDIR,SOURCES)
objs = $(patsubst %.c,$(1)/%.o,$(2))

# V=1 shows the full commands
V ?= 0
Q = $(if $(filter 1,$(V)),,@)
B = build/rel
S = build/san

all: $(addprefix bin/,$(PROGRAMS))

# ---- release build: bin/
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC      $<'
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(B)/libp2pm.a: $(call objs,$(B),$(LIB_SRC))
	$(Q)$(AR) rcs $@ $^

bin/tracker: $(call objs,$(B),$(TRACKER_SRC)) $(B)/libp2pm.a
bin/peer: $(call objs,$(B),$(PEER_SRC)) $(B)/libp2pm.a
bin/client: $(call objs,$(B),$(CLIENT_SRC)) $(B)/libp2pm.a
$(addprefix bin/,$(PROGRAMS)):
	@mkdir -p bin
	@echo '  LD      $@'
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- instrumented trees: the same programs, unit tests and test tools
# built with extra flags into their own directory.
# $(call instrumented_tree,DIR,FLAGS,LABEL)
define instrumented_tree
$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@echo '  CC $(3) $$<'
	$$(Q)$$(CC) $$(CPPFLAGS) $$(ALL_CFLAGS) $(2) -c $$< -o $$@

$(1)/libp2pm.a: $$(call objs,$(1),$$(LIB_SRC))
	$$(Q)$$(AR) rcs $$@ $$^

$(1)/bin/tracker: $$(call objs,$(1),$$(TRACKER_SRC)) $(1)/libp2pm.a
$(1)/bin/peer: $$(call objs,$(1),$$(PEER_SRC)) $(1)/libp2pm.a
$(1)/bin/client: $$(call objs,$(1),$$(CLIENT_SRC)) $(1)/libp2pm.a
$$(addprefix $(1)/bin/,$$(PROGRAMS)):
	@mkdir -p $$(dir $$@)
	@echo '  LD $(3) $$@'
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)

$(1)/tests/%: $(1)/tests/unit/%.o $(1)/libp2pm.a
	@mkdir -p $$(dir $$@)
	@echo '  LD $(3) $$@'
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) -o $$@ \
	  $$(filter %.o,$$^) $$(filter %.a,$$^) $$(LDLIBS)

# programs the integration tests use (misbehaving peers and the like)
$(1)/tools/%: $(1)/tests/tools/%.o $(1)/libp2pm.a
	@mkdir -p $$(dir $$@)
	@echo '  LD $(3) $$@'
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)

# each fuzz target run over its committed seeds and past crashes
# (tests/fuzz/replay.c) without libFuzzer
$(1)/fuzz/fuzz_%: tests/fuzz/replay.c $(1)/tests/fuzz/fuzz_%.o $(1)/libp2pm.a
	@mkdir -p $$(dir $$@)
	@echo '  LD $(3) $$@'
	$$(Q)$$(CC) $$(CPPFLAGS) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) \
	  -DFUZZ_TARGET='"fuzz_$$*"' -DFUZZ_DIR='"$$(CURDIR)/tests/fuzz"' \
	  -o $$@ $$^ $$(LDLIBS)

# the registry's and source's unit tests also link the tracker's modules
$(1)/tests/test_registry: $(1)/src/tracker/registry.o $(1)/src/tracker/namefilter.o
$(1)/tests/test_source: $(1)/src/tracker/source.o
# and the LIST line parser's the client's tracker requests
$(1)/tests/test_listline: $(1)/src/client/tracker_client.o
# and --start's times the client's queue_time module
$(1)/tests/test_queuetime: $(1)/src/client/queue_time.o
# and the queue's stream reading its queue_ts module
$(1)/tests/test_queuets: $(1)/src/client/queue_ts.o
endef

FUZZ_SRC   = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRC))
UNIT_NAMES = $(patsubst tests/unit/%.c,%,$(UNIT_SRC))
TOOL_NAMES = $(patsubst tests/tools/%.c,%,$(sort $(wildcard tests/tools/*.c)))
# $(call test_bins,DIR): everything `make test` runs or needs from a tree
test_bins = $(addprefix $(1)/bin/,$(PROGRAMS)) $(addprefix $(1)/tests/,$(UNIT_NAMES)) \
            $(addprefix $(1)/tools/,$(TOOL_NAMES)) $(addprefix $(1)/fuzz/,$(FUZZ_NAMES))
# $(call run_suite,DIR): the unit tests, fuzz replays and integration tests
run_suite = P2PM_BIN=$(CURDIR)/$(1)/bin P2PM_TOOLS=$(CURDIR)/$(1)/tools \
	  prove -j2 --timer $(PROVE_FLAGS) $(addprefix $(1)/tests/,$(UNIT_NAMES)) \
	  $(addprefix $(1)/fuzz/,$(FUZZ_NAMES)) tests/t*.sh

# ---- sanitizer build used by the test suite: build/san/
$(eval $(call instrumented_tree,$(S),$(SAN_FLAGS),san))

check-build: all $(call test_bins,$(S))

# Unit tests are C programs, integration tests shell scripts; all print TAP.
test: check-build
	$(call run_suite,$(S))

# ---- ThreadSanitizer build of the programs and the concurrency test
T = build/tsan
TSAN_FLAGS = -O1 -g -fsanitize=thread -fno-omit-frame-pointer
$(eval $(call instrumented_tree,$(T),$(TSAN_FLAGS),tsan))

tsan: $(addprefix $(T)/bin/,$(PROGRAMS))

# the concurrency test of tests/tsan/ on that build; a report fails it
TSAN_TESTS = $(sort $(wildcard tests/tsan/t*.sh))
tsan-test: tsan
	P2PM_BIN=$(CURDIR)/$(T)/bin P2PM_TOOLS=$(CURDIR)/$(T)/tools \
	  prove --timer $(PROVE_FLAGS) $(TSAN_TESTS)

# ---- soak: the release programs under churn and load for SOAK_SECONDS
SOAK_SECONDS ?= 150
soak: all
	SOAK_SECONDS=$(SOAK_SECONDS) P2PM_BIN=$(CURDIR)/bin scripts/soak

# ---- line coverage (gcc --coverage, read with gcov) of the test suite:
# build/cov/, counts reset before each run, a table per file of src/
COV = build/cov
COV_FLAGS = -O0 -g --coverage
$(eval $(call instrumented_tree,$(COV),$(COV_FLAGS),cov))

coverage: $(call test_bins,$(COV))
	find $(COV) -name '*.gcda' -delete
	rc=0; $(call run_suite,$(COV)) || rc=$$?; \
	  scripts/coverage-report $(COV) || exit 1; \
	  if [ $$rc -ne 0 ]; then echo 'coverage: the test suite failed'; fi; exit $$rc

# ---- coverage-guided fuzzing with clang's libFuzzer: one program per
# tests/fuzz/fuzz_*.c, each run FUZZ_SECONDS from its committed corpus
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
F = build/fuzz
$(F)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC fuzz $<'
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(WARN) $(WERROR) -g -O1 \
	  -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c $< -o $@

$(F)/libp2pm.a: $(call objs,$(F),$(LIB_SRC))
	$(Q)$(AR) rcs $@ $^

$(F)/bin/fuzz_%: $(F)/tests/fuzz/fuzz_%.o $(F)/libp2pm.a
	@mkdir -p $(dir $@)
	@echo '  LD fuzz $@'
	$(Q)$(FUZZ_CC) -g -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -pthread

FUZZ_BINS = $(addprefix $(F)/bin/,$(FUZZ_NAMES))
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(F)/bin

# the recording relay that tests/fuzz/grow-corpus puts in front of daemons
$(F)/tools/record: $(B)/tests/fuzz/record.o $(B)/libp2pm.a
	@mkdir -p $(dir $@)
	@echo '  LD      $@'
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-corpus: all $(F)/tools/record
	P2PM_BIN=$(CURDIR)/bin P2PM_FUZZ_TOOLS=$(CURDIR)/$(F)/tools tests/fuzz/grow-corpus

# every scripts/bench-* and one table of their figures (the test bed's
# need root); nothing here asserts a time
bench: all
	./scripts/bench
.PHONY: bench

# installs what is missing first (a no-op when all is there), then builds
demo:
	./scripts/install-deps
	$(MAKE) all
	./scripts/demo

# installed as p2pm-tracker, p2pm-peer and p2pm-client (see README), with
# their man pages and systemd units (ExecStart= pointing into BINDIR)
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS = p2pm-tracker.service p2pm-peer@.service

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR)
	for p in $(PROGRAMS); do \
	  install -m 0755 bin/$$p $(DESTDIR)$(BINDIR)/p2pm-$$p || exit 1; \
	  install -m 0644 docs/man/p2pm-$$p.1 $(DESTDIR)$(MANDIR)/man1/ || exit 1; done
	for u in $(UNITS); do \
	  sed 's|@BINDIR@|$(BINDIR)|g' docs/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; done

uninstall:
	for p in $(PROGRAMS); do rm -f $(DESTDIR)$(BINDIR)/p2pm-$$p \
	  $(DESTDIR)$(MANDIR)/man1/p2pm-$$p.1; done
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done

clean:
	rm -rf build bin

.PHONY: all test demo install uninstall clean check-build fuzz fuzz-build \
	fuzz-corpus tsan tsan-test soak coverage
# keep the unit tests' object files between runs
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
