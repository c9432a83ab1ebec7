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
CLIENT_SRC  = $(sort $(wildcard src/client/*.c))
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

# ---- sanitizer build used by the test suite: build/san/bin/
$(S)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo '  CC san  $<'
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(S)/libp2pm.a: $(call objs,$(S),$(LIB_SRC))
	$(Q)$(AR) rcs $@ $^

$(S)/bin/tracker: $(call objs,$(S),$(TRACKER_SRC)) $(S)/libp2pm.a
$(S)/bin/peer: $(call objs,$(S),$(PEER_SRC)) $(S)/libp2pm.a
$(S)/bin/client: $(call objs,$(S),$(CLIENT_SRC)) $(S)/libp2pm.a
$(addprefix $(S)/bin/,$(PROGRAMS)):
	@mkdir -p $(dir $@)
	@echo '  LD san  $@'
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(S)/tests/%: $(S)/tests/unit/%.o $(S)/libp2pm.a
	@mkdir -p $(dir $@)
	@echo '  LD san  $@'
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ \
	  $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# programs the integration tests use (misbehaving peers and the like)
$(S)/tools/%: $(S)/tests/tools/%.o $(S)/libp2pm.a
	@mkdir -p $(dir $@)
	@echo '  LD san  $@'
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the registry's unit test also links the tracker's registry
$(S)/tests/test_registry: $(S)/src/tracker/registry.o

UNIT_BINS = $(patsubst tests/unit/%.c,$(S)/tests/%,$(UNIT_SRC))
TOOL_BINS = $(patsubst tests/tools/%.c,$(S)/tools/%,$(sort $(wildcard tests/tools/*.c)))
SAN_PROGS = $(addprefix $(S)/bin/,$(PROGRAMS))

check-build: all $(SAN_PROGS) $(UNIT_BINS) $(TOOL_BINS)

# Unit tests are C programs, integration tests shell scripts; all print TAP.
test: check-build
	P2PM_BIN=$(CURDIR)/$(S)/bin P2PM_TOOLS=$(CURDIR)/$(S)/tools \
	  prove -j2 --timer $(PROVE_FLAGS) $(UNIT_BINS) tests/t*.sh

# Coverage-guided fuzzing of the parsers with clang's libFuzzer (not part
# of `make test`: it needs clang and runs for FUZZ_SECONDS).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
F = build/fuzz
$(F)/fuzz_proto: tests/fuzz/fuzz_proto.c $(LIB_SRC)
	@mkdir -p $(F)/corpus
	@echo '  FUZZ    $@'
	$(Q)$(FUZZ_CC) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -o $@ $^ -pthread

fuzz: $(F)/fuzz_proto
	$(F)/fuzz_proto -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(F)/corpus

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

.PHONY: all test demo install uninstall clean check-build fuzz
# keep the unit tests' object files between runs
.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
