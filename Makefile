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
LIB_LIBS = $(CJSON_LIBS) $(YAML_LIBS) -lm -pthread

LIB_SRC := detectors/ea_util.c detectors/ea_topic.c detectors/ea_payload.c \
	detectors/ea_detector.c detectors/ea_config.c detectors/ea_engine.c \
	detectors/det_range.c detectors/det_stuck.c detectors/det_spike.c \
	detectors/det_staleness.c detectors/det_type.c detectors/det_state.c
PLUGIN_SRC := plugin/plugin.c plugin/queue.c plugin/pool.c plugin/tick_check.c
CLI_SRC := tools/cli.c tools/simulate.c tools/check_config.c
UNIT_SRC := tests/unit/main.c $(wildcard tests/unit/*_test.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)

SAN_LIB_OBJ := $(LIB_SRC:%.c=$(SAN)/%.o)
SAN_PLUGIN_OBJ := $(filter-out $(SAN)/plugin/plugin.o,$(PLUGIN_SRC:%.c=$(SAN)/%.o))
SAN_UNIT_OBJ := $(UNIT_SRC:%.c=$(SAN)/%.o)
TSAN_OBJ := $(UNIT_SRC:%.c=$(TSAN)/%.o) $(LIB_SRC:%.c=$(TSAN)/%.o) \
	$(filter-out $(TSAN)/plugin/plugin.o,$(PLUGIN_SRC:%.c=$(TSAN)/%.o))

.PHONY: all install uninstall demo check check-unit check-integration bench fuzz clean deps

all: $(BUILD)/edge_anomaly.so $(BUILD)/edge-anomaly

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SANFLAGS) -O1 -c $< -o $@

$(TSAN)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=thread -O1 -c $< -o $@

$(BUILD)/libedgeanomaly.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# The plugin: only mosquitto_plugin_{version,init,cleanup} are exported.
$(BUILD)/edge_anomaly.so: $(PLUGIN_OBJ) $(BUILD)/libedgeanomaly.a
	$(CC) -shared $(CFLAGS) -pthread -Wl,--no-undefined -Wl,--unresolved-symbols=ignore-in-object-files \
		-o $@ $(PLUGIN_OBJ) $(BUILD)/libedgeanomaly.a $(LIB_LIBS)

$(BUILD)/edge-anomaly: $(CLI_OBJ) $(BUILD)/libedgeanomaly.a
	$(CC) $(CFLAGS) -pthread -o $@ $(CLI_OBJ) $(BUILD)/libedgeanomaly.a $(LIB_LIBS) -lmosquitto

# Unit tests: CUnit, the library and the plugin's queue and pool built with
# ASan and UBSan; any sanitizer report fails the run.
$(BUILD)/unit-tests: $(SAN_UNIT_OBJ) $(SAN_LIB_OBJ) $(SAN_PLUGIN_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -pthread -o $@ $^ $(LIB_LIBS) -lcunit

# The same unit tests under ThreadSanitizer: the queue and pool are shared
# between threads.
$(BUILD)/unit-tests-tsan: $(TSAN_OBJ)
	$(CC) $(CFLAGS) -fsanitize=thread -pthread -o $@ $^ $(LIB_LIBS) -lcunit

install: all
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(EXAMPLEDIR)
	install -m 0755 $(BUILD)/edge_anomaly.so $(DESTDIR)$(PLUGINDIR)/edge_anomaly.so
	install -m 0755 $(BUILD)/edge-anomaly $(DESTDIR)$(BINDIR)/edge-anomaly
	install -m 0644 conf/config.yaml conf/mosquitto.conf $(DESTDIR)$(EXAMPLEDIR)/

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/edge_anomaly.so $(DESTDIR)$(BINDIR)/edge-anomaly
	rm -f $(DESTDIR)$(EXAMPLEDIR)/config.yaml $(DESTDIR)$(EXAMPLEDIR)/mosquitto.conf

deps:
	tools/install-deps.sh

demo:
	tools/install-deps.sh
	$(MAKE) all
	tools/demo.sh

check-unit: $(BUILD)/unit-tests $(BUILD)/unit-tests-tsan
	$(BUILD)/unit-tests-tsan > $(BUILD)/unit-tests-tsan.log 2>&1 || { cat $(BUILD)/unit-tests-tsan.log; exit 1; }
	@echo "ThreadSanitizer: unit tests passed without reports"
	$(BUILD)/unit-tests

check-integration: all
	tests/integration/run.sh

check: check-unit check-integration

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
