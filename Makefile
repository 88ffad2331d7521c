# pgdata2layers — build, test, demo, bench.
#
#   make              release binary build/release/pgdata2layers and static library
#   make test         unit tests + integration tests (real PostgreSQL, S3 server, Azurite)
#   make test-unit    unit tests only (fast)
#   make asan         unit tests + a quick integration subset under ASan+UBSan
#   make fuzz         libFuzzer targets (clang), each for FUZZ_SECONDS (default 60)
#   make demo         import a generated PGDATA and verify it
#   make bench        benchmarks (scripts/bench.sh), not part of make test
#   make install      PREFIX=/usr/local: binary, man page, bash completion
#
# Every source file under lib/ is part of libpgdata2layers.a; cmd/ holds only flag parsing.
# New files are picked up automatically (no list to edit).

CXX      ?= g++
MODE     ?= release
BUILD    ?= build/$(MODE)
PREFIX   ?= /usr/local
CXXSTD   := -std=c++20
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
DEPFLAGS  = -MMD -MP
INCLUDES := -Ilib -I.
LDLIBS   := -lcurl -lssl -lcrypto -lfmt -lxxhash -lpugixml -lzstd -lpthread

ifeq ($(MODE),release)
  OPT := -O2 -g
else ifeq ($(MODE),debug)
  OPT := -O0 -g
else ifeq ($(MODE),asan)
  OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined
else
  $(error unknown MODE=$(MODE): use release, debug or asan)
endif

VERSION  := 0.1.0
CXXFLAGS += $(CXXSTD) $(OPT) $(WARN) $(INCLUDES) -DPGDATA2LAYERS_VERSION=\"$(VERSION)\"

LIB_SRCS  := $(shell find lib -name '*.cc' | LC_ALL=C sort)
CMD_SRCS  := $(shell find cmd -name '*.cc' | LC_ALL=C sort)
UNIT_SRCS := $(shell find test/unit -name '*.cc' 2>/dev/null | LC_ALL=C sort)
TOOL_SRCS := $(shell find test/tools -name '*.cc' 2>/dev/null | LC_ALL=C sort)

LIB_OBJS  := $(LIB_SRCS:%.cc=$(BUILD)/%.o)
CMD_OBJS  := $(CMD_SRCS:%.cc=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.cc=$(BUILD)/%.o)
TOOLS     := $(TOOL_SRCS:test/tools/%.cc=$(BUILD)/tools/%)

LIBA      := $(BUILD)/libpgdata2layers.a
BIN       := $(BUILD)/pgdata2layers
UNIT      := $(BUILD)/unit_tests

.PHONY: all test test-unit test-integration asan fuzz demo bench install clean tools
.DEFAULT_GOAL := all

all: $(BIN) $(LIBA)

tools: $(TOOLS)

$(BUILD)/%.o: %.cc
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIBA)
	$(CXX) $(LDFLAGS) -o $@ $(CMD_OBJS) $(LIBA) $(LDLIBS)

$(UNIT): $(UNIT_OBJS) $(LIBA)
	$(CXX) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBA) $(LDLIBS)

$(BUILD)/tools/%: test/tools/%.cc $(LIBA)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

test-unit: $(UNIT)
	cd test/unit && ../../$(UNIT)

test-integration: $(BIN) $(TOOLS)
	P2L_BUILD_MODE=$(MODE) PGDATA2LAYERS_BIN=$(abspath $(BIN)) PGDATA2LAYERS_TOOLS=$(abspath $(BUILD)/tools) test/integration/run.sh $(TESTS)

# The README's test command: everything that must pass before a change lands.
test: test-unit test-integration

asan:
	$(MAKE) MODE=asan test-unit
	$(MAKE) MODE=asan test-integration TESTS="$(ASAN_TESTS)"

fuzz:
	test/fuzz/run.sh $(FUZZ_SECONDS)

demo:
	scripts/install-deps.sh
	$(MAKE) $(BIN)
	PGDATA2LAYERS_BIN=$(abspath $(BIN)) scripts/demo.sh

bench: $(BIN) $(BUILD)/tools/fault_proxy
	PGDATA2LAYERS_BIN=$(abspath $(BIN)) PGDATA2LAYERS_TOOLS=$(abspath $(BUILD)/tools) scripts/bench.sh

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	           $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/pgdata2layers
	install -m 644 man/pgdata2layers.1 $(DESTDIR)$(PREFIX)/share/man/man1/pgdata2layers.1
	$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pgdata2layers

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
