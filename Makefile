# SPDX-License-Identifier: Apache-2.0
# edge-anomaly: build, install, demo, check, bench, fuzz.
#
#   make            build/edge_anomaly.so and build/edge-anomaly
#   make install    PREFIX=/usr/local DESTDIR= (plugin, CLI, example configs)
#   make demo       install what is missing (as root), build, run the demo
#   make check      every test: unit (ASan+UBSan), integration (real broker)
#   make bench      benchmarks (see tests/bench)

include config.mk

BUILD := build
SAN := $(BUILD)/san
TSAN := $(BUILD)/tsan

CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
CJSON_LIBS := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
YAML_LIBS := $(shell $(PKG_CONFIG) --libs yaml-0.1 2>/dev/null || echo -lyaml)

ALL_CFLAGS = $(WARNFLAGS) $(BASEFLAGS) $(CJSON_CFLAGS) -Idetectors -Iplugin $(CFLAGS)
LIB_LIBS = $(CJSON_LIBS) $(YAML_LIBS) -lsqlite3 -lm -ldl -pthread

# Every detectors/*.c is part of the library and every tools/*.c of the CLI.
LIB_SRC := $(sort $(wildcard detectors/*.c))
PLUGIN_SRC := plugin/plugin.c plugin/queue.c plugin/pool.c plugin/tick_check.c plugin/external.c plugin/status_sink.c
CLI_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := tests/unit/main.c $(wildcard tests/unit/*_test.c) tests/bench/nab_score.c

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)

SAN_LIB_OBJ := $(LIB_SRC:%.c=$(SAN)/%.o)
SAN_PLUGIN_OBJ := $(filter-out $(SAN)/plugin/plugin.o $(SAN)/plugin/external.o $(SAN)/plugin/status_sink.o,$(PLUGIN_SRC:%.c=$(SAN)/%.o))
SAN_UNIT_OBJ := $(UNIT_SRC:%.c=$(SAN)/%.o)
TSAN_OBJ := $(UNIT_SRC:%.c=$(TSAN)/%.o) $(LIB_SRC:%.c=$(TSAN)/%.o) \
	$(filter-out $(TSAN)/plugin/plugin.o $(TSAN)/plugin/external.o $(TSAN)/plugin/status_sink.o,$(PLUGIN_SRC:%.c=$(TSAN)/%.o))

FUZZ_TARGETS := payload topic config engine timestamp proto authz
FUZZ_SECONDS ?= 60
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz-replay-%)
FUZZ_BIN := $(FUZZ_TARGETS:%=$(BUILD)/fuzz-%)

.SECONDARY:

.PHONY: all install uninstall demo check check-unit check-fuzz check-integration bench bench-quality bench-engine bench-detectord bench-mirror fuzz clean deps

# The example detector library (examples/detectors/) and the libraries the
# unit tests load or must refuse; built against the public header only.
EXAMPLE_SO := $(BUILD)/examples/libea_example_hysteresis.so
TEST_SO := $(BUILD)/examples/libea_test_abi_other.so $(BUILD)/examples/libea_test_no_entry.so \
	$(BUILD)/examples/libea_test_probe.so

all: $(BUILD)/edge_anomaly.so $(BUILD)/edge-anomaly $(EXAMPLE_SO) $(BUILD)/edge-anomaly-detectord

$(BUILD)/examples/libea_example_%.so: examples/detectors/%.c include/edge-anomaly/detector.h
	@mkdir -p $(dir $@)
	$(CC) $(WARNFLAGS) -O2 -g -fPIC -shared -Iinclude -o $@ $<

$(BUILD)/examples/libea_test_%.so: tests/unit/libs/%.c include/edge-anomaly/detector.h
	@mkdir -p $(dir $@)
	$(CC) $(WARNFLAGS) -O2 -g -fPIC -fvisibility=hidden -shared -Iinclude -o $@ $<

# abi_test loads them from here unless EA_TEST_LIBDIR says otherwise.
$(SAN)/tests/unit/abi_test.o $(TSAN)/tests/unit/abi_test.o: ALL_CFLAGS += -DEA_TEST_LIBDIR='"$(BUILD)/examples"'

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -O1 -c $< -o $@

$(TSAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=thread -O1 -c $< -o $@

# Made afresh each time: `ar r` never drops members of files that were
# removed or renamed, and a stale member can win at link time.
$(BUILD)/libedgeanomaly.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# The plugin: only mosquitto_plugin_{version,init,cleanup} are exported.
$(BUILD)/plugin/external.o: plugin/external.c $(BUILD)/proto/anomaly_detector.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/proto -c $< -o $@

$(BUILD)/edge_anomaly.so: $(PLUGIN_OBJ) $(BUILD)/proto/anomaly_detector.pb-c.o $(BUILD)/libedgeanomaly.a
	$(CC) -shared $(CFLAGS) -pthread -Wl,--no-undefined -Wl,--unresolved-symbols=ignore-in-object-files \
		-o $@ $(PLUGIN_OBJ) $(BUILD)/proto/anomaly_detector.pb-c.o $(BUILD)/libedgeanomaly.a $(LIB_LIBS) $(GRPC_LIBS) -lcurl

$(BUILD)/edge-anomaly: $(CLI_OBJ) $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $(CLI_OBJ) $(BUILD)/libedgeanomaly.a $(LIB_LIBS) -lmosquitto

# The StreamDetect server (proto/): C generated from the .proto by protoc-c
# at build time into $(BUILD)/proto (never committed, so always in step),
# built with relaxed warnings as it is not our code.
GRPC_LIBS := $(shell $(PKG_CONFIG) --libs grpc libprotobuf-c 2>/dev/null || echo -lgrpc -lgpr -lprotobuf-c)

$(BUILD)/proto/anomaly_detector.pb-c.c $(BUILD)/proto/anomaly_detector.pb-c.h: proto/anomaly_detector.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --c_out=$(BUILD)/proto -Iproto $<

$(BUILD)/proto/anomaly_detector.pb-c.o: $(BUILD)/proto/anomaly_detector.pb-c.c
	$(CC) -std=c11 -O2 -g -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/proto/detectord.o: proto/detectord.c $(BUILD)/proto/anomaly_detector.pb-c.h
	$(CC) $(ALL_CFLAGS) -I$(BUILD)/proto -c $< -o $@

$(BUILD)/edge-anomaly-detectord: $(BUILD)/proto/detectord.o $(BUILD)/proto/anomaly_detector.pb-c.o $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LIB_LIBS) $(GRPC_LIBS)

# Unit tests: CUnit, the library and the plugin's queue and pool built with
# ASan and UBSan; any sanitizer report fails the run.
$(BUILD)/unit-tests $(BUILD)/unit-tests-tsan: | $(EXAMPLE_SO) $(TEST_SO)
$(BUILD)/unit-tests: $(SAN_UNIT_OBJ) $(SAN_LIB_OBJ) $(SAN_PLUGIN_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -pthread -o $@ $^ $(LIB_LIBS) -lcunit

# The same unit tests under ThreadSanitizer: the queue and pool are shared
# between threads.
$(BUILD)/unit-tests-tsan: $(TSAN_OBJ)
	$(CC) $(CFLAGS) -fsanitize=thread -pthread -o $@ $^ $(LIB_LIBS) -lcunit

# Fuzz targets: replayed over the saved corpus in `make check` (gcc, ASan,
# UBSan); run with libFuzzer by `make fuzz` (clang).
$(BUILD)/fuzz-replay-%: $(SAN)/tests/fuzz/fuzz_%.o $(SAN)/tests/fuzz/replay_main.o $(SAN_LIB_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -pthread -o $@ $^ $(LIB_LIBS)

# The protobuf target needs the generated code.
$(SAN)/tests/fuzz/fuzz_proto.o: tests/fuzz/fuzz_proto.c $(BUILD)/proto/anomaly_detector.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -O1 -I$(BUILD)/proto -c $< -o $@

$(SAN)/proto/anomaly_detector.pb-c.o: $(BUILD)/proto/anomaly_detector.pb-c.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g -fPIC $(SANFLAGS) -c $< -o $@

$(BUILD)/fuzz-replay-proto: $(SAN)/tests/fuzz/fuzz_proto.o $(SAN)/tests/fuzz/replay_main.o \
		$(SAN)/proto/anomaly_detector.pb-c.o $(SAN_LIB_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -pthread -o $@ $^ $(LIB_LIBS) -lprotobuf-c

$(BUILD)/fuzz-proto: tests/fuzz/fuzz_proto.c $(BUILD)/proto/anomaly_detector.pb-c.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(CJSON_CFLAGS) -Idetectors -I$(BUILD)/proto -o $@ $^ $(LIB_LIBS) -lprotobuf-c

$(BUILD)/fuzz-%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(CJSON_CFLAGS) -Idetectors -o $@ $^ $(LIB_LIBS)

# Benchmarks: load generator and the external-subscriber comparison.
$(BUILD)/bench-loadgen: tests/bench/loadgen.c
	$(CC) $(WARNFLAGS) -D_GNU_SOURCE -O2 -g -pthread -o $@ $< -lmosquitto

$(BUILD)/bench-extsub: $(BUILD)/tests/bench/extsub.o $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LIB_LIBS) -lmosquitto

# Detection quality on the Numenta Anomaly Benchmark (NAB_DATA, NAB_LABELS).
NAB_DIR ?= ../shared/nab
$(BUILD)/bench-quality: $(BUILD)/tests/bench/bench_quality.o $(BUILD)/tests/bench/nab_score.o $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LIB_LIBS)

bench-quality: $(BUILD)/bench-quality
	$(BUILD)/bench-quality --data $(NAB_DIR)/data --labels $(NAB_DIR)/labels/combined_windows.json \
		--json $(BUILD)/bench-quality.json $(QUALITY_ARGS)

# Engine speed and memory per series, one core (see tests/bench/engine_bench.c).
$(BUILD)/bench-engine: $(BUILD)/tests/bench/engine_bench.o $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LIB_LIBS)

bench-engine: $(BUILD)/bench-engine
	$(BUILD)/bench-engine --json $(BUILD)/bench-engine.json --markdown $(BUILD)/bench-engine.md $(ENGINE_ARGS)

# Data mirror write rate against the tap rate, and export speed.
$(BUILD)/bench-mirror: $(BUILD)/tests/bench/mirror_bench.o $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $^ $(LIB_LIBS)

bench-mirror: $(BUILD)/bench-mirror $(BUILD)/edge-anomaly
	$(BUILD)/bench-mirror --db $(BUILD)/bench-mirror.db
	$(BUILD)/edge-anomaly export --db $(BUILD)/bench-mirror.db --output /dev/null

# StreamDetect server throughput over one and several streams.
bench-detectord: $(BUILD)/edge-anomaly-detectord
	/usr/bin/python3 tests/bench/bench_detectord.py --build $(BUILD) --json $(BUILD)/bench-detectord.json

bench: all $(BUILD)/bench-loadgen $(BUILD)/bench-extsub $(BUILD)/bench-engine
	/usr/bin/python3 tests/bench/run_bench.py --engine-bench $(BUILD)/bench-engine $(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(EXAMPLEDIR)
	install -m 0755 $(BUILD)/edge_anomaly.so $(DESTDIR)$(PLUGINDIR)/edge_anomaly.so
	install -m 0755 $(BUILD)/edge-anomaly $(DESTDIR)$(BINDIR)/edge-anomaly
	install -m 0755 $(BUILD)/edge-anomaly-detectord $(DESTDIR)$(BINDIR)/edge-anomaly-detectord
	install -d $(DESTDIR)$(EXAMPLEDIR)/proto
	install -m 0644 proto/anomaly_detector.proto $(DESTDIR)$(EXAMPLEDIR)/proto/
	install -m 0644 conf/config.yaml conf/demo.yaml conf/mosquitto.conf $(DESTDIR)$(EXAMPLEDIR)/
	install -d $(DESTDIR)$(PREFIX)/include/edge-anomaly $(DESTDIR)$(PLUGINDIR)/detectors $(DESTDIR)$(EXAMPLEDIR)/detectors
	install -m 0644 include/edge-anomaly/detector.h $(DESTDIR)$(PREFIX)/include/edge-anomaly/detector.h
	install -m 0755 $(EXAMPLE_SO) $(DESTDIR)$(PLUGINDIR)/detectors/
	install -m 0644 examples/detectors/hysteresis.c $(DESTDIR)$(EXAMPLEDIR)/detectors/
	install -d $(DESTDIR)$(SYSCONFDIR)/edge-anomaly
	test -e $(DESTDIR)$(SYSCONFDIR)/edge-anomaly/config.yaml || \
		install -m 0644 conf/config.yaml $(DESTDIR)$(SYSCONFDIR)/edge-anomaly/config.yaml

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/edge_anomaly.so $(DESTDIR)$(BINDIR)/edge-anomaly $(DESTDIR)$(BINDIR)/edge-anomaly-detectord
	rm -f $(DESTDIR)$(EXAMPLEDIR)/proto/anomaly_detector.proto
	rm -f $(DESTDIR)$(EXAMPLEDIR)/config.yaml $(DESTDIR)$(EXAMPLEDIR)/demo.yaml $(DESTDIR)$(EXAMPLEDIR)/mosquitto.conf
	rm -f $(DESTDIR)$(PREFIX)/include/edge-anomaly/detector.h $(DESTDIR)$(PLUGINDIR)/detectors/libea_example_hysteresis.so
	rm -f $(DESTDIR)$(EXAMPLEDIR)/detectors/hysteresis.c

deps:
	tools/install-deps.sh

demo:
	tools/install-deps.sh
	$(MAKE) all
	tools/demo.sh

check-unit: $(BUILD)/unit-tests $(BUILD)/unit-tests-tsan $(EXAMPLE_SO) $(TEST_SO)
	EA_TEST_LIBDIR=$(BUILD)/examples $(BUILD)/unit-tests-tsan > $(BUILD)/unit-tests-tsan.log 2>&1 || { cat $(BUILD)/unit-tests-tsan.log; exit 1; }
	@echo "ThreadSanitizer: unit tests passed without reports"
	EA_TEST_LIBDIR=$(BUILD)/examples $(BUILD)/unit-tests

check-integration: all $(BUILD)/bench-loadgen $(TEST_SO)
	EA_BUILD_DIR=$(abspath $(BUILD)) tests/integration/run.sh

check-fuzz: $(FUZZ_REPLAY)
	@for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz-replay-$$t tests/fuzz/corpus/$$t || exit 1; done

# make fuzz [FUZZ_SECONDS=60]: each target for that long; new inputs are kept
# in build/fuzz-corpus, crashers in build/fuzz-crashes (copy a fixed one into
# tests/fuzz/corpus so check-fuzz keeps replaying it).
fuzz: $(FUZZ_BIN)
	@command -v clang >/dev/null || { echo "make fuzz needs clang and libclang-rt-14-dev: apt-get install clang libclang-rt-14-dev"; exit 1; }
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz-corpus/$$t $(BUILD)/fuzz-crashes/$$t; \
		echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz-crashes/$$t/ $(BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t \
			2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added|==.*ERROR|SUMMARY)' ; \
		test -z "$$(ls -A $(BUILD)/fuzz-crashes/$$t)" || { echo "crashers in $(BUILD)/fuzz-crashes/$$t"; exit 1; }; \
	done

check: check-unit check-fuzz check-integration

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
