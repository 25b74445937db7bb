/* SPDX-License-Identifier: Apache-2.0
 *
 * config_test.c - unit tests of ea_config.c: the YAML configuration.
 *
 * Covers the built-in defaults, loading every key from a string and from
 * a file, detector chains with their parameters, the exact error messages
 * ("FILE:LINE:COLUMN: key 'a.b': what is wrong") for syntax errors,
 * unknown or repeated keys, bad values and bad detectors, device groups,
 * include/exclude filtering, first-match routing by namespace glob, device
 * glob, group and property glob, and the human-readable description.
 */
#include "unit_tests.h"

#include "ea_config.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Loads `yaml` under the name "t.yaml". */
static ea_config *load(const char *yaml, ea_config_error *err)
{
	return ea_config_load_string(yaml, strlen(yaml), "t.yaml", err);
}

/* Asserts that `actual` is `expected` (or, when `expected` ends in "...",
 * starts with the text before it); the failure names both and `what`
 * (CUnit copies the text). */
static void check_str(unsigned line, const char *actual, const char *expected, const char *what)
{
	char msg[2048];
	size_t n = strlen(expected);
	bool prefix = n >= 3 && strcmp(expected + n - 3, "...") == 0;
	bool ok = actual != NULL && (prefix ? strncmp(actual, expected, n - 3) == 0 : strcmp(actual, expected) == 0);

	snprintf(msg, sizeof(msg), "%s: expected \"%s\", got \"%s\"", what, expected,
			actual != NULL ? actual : "(null)");
	CU_assertImplementation(ok, line, msg, __FILE__, "", CU_FALSE);
}
#define ASSERT_STR_IS(actual, expected, what) check_str(__LINE__, (actual), (expected), (what))

/* The value of parameter `name` of a chain item, asserting it exists. */
static double param(const ea_detector_instance *d, const char *name)
{
	int i = ea_param_index(d->type, name);

	CU_ASSERT(i >= 0);
	return i >= 0 ? d->params.v[i] : NAN;
}

/* ------------------------------------------------------------------ */
/* Defaults                                                            */

static void TEST_ea_config_defaults_should_fill_every_setting(void)
{
	ea_config *cfg = ea_config_defaults();
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->path, "(defaults)");
	CU_ASSERT_EQUAL(cfg->workers, 2);
	CU_ASSERT_EQUAL(cfg->queue_capacity, 8192);
	CU_ASSERT_EQUAL(cfg->queue_max_bytes, UINT64_C(16) << 20);
	CU_ASSERT_EQUAL(cfg->max_payload, UINT64_C(1) << 20);
	CU_ASSERT_EQUAL(cfg->max_series, 50000);
	CU_ASSERT_EQUAL(cfg->max_pending_results, 10000);
	CU_ASSERT_EQUAL(cfg->max_pending_bytes, UINT64_C(8) << 20);
	CU_ASSERT_STRING_EQUAL(cfg->result_topic, "edge-anomaly/{namespace}/{device}/{property}");
	CU_ASSERT_EQUAL(cfg->result_qos, 1);
	CU_ASSERT_FALSE(cfg->result_retain);
	CU_ASSERT_EQUAL(cfg->repeat_interval_ms, 60000);
	CU_ASSERT_EQUAL(cfg->stats_interval_ms, 10000);
	CU_ASSERT_EQUAL(cfg->idle_check_ms, 1000);
	CU_ASSERT_EQUAL(cfg->include_count, 0);
	CU_ASSERT_EQUAL(cfg->exclude_count, 0);
	CU_ASSERT_EQUAL(cfg->group_count, 0);
	CU_ASSERT_EQUAL(cfg->route_count, 0);

	CU_ASSERT_EQUAL(cfg->topic_count, 6);
	for(i = 0; i < cfg->topic_count && ea_default_topics[i] != NULL; i++){
		CU_ASSERT_STRING_EQUAL(cfg->topics[i], ea_default_topics[i]);
		CU_ASSERT_TRUE(ea_topic_filter_valid(cfg->topics[i]));
	}
	CU_ASSERT_PTR_NULL(ea_default_topics[6]);
	CU_ASSERT_TRUE(ea_topic_matches(cfg->topics[0], "$hw/events/device/pump-1/twin/update"));

	CU_ASSERT_EQUAL_FATAL(cfg->default_chain.count, 4);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[0].type, &ea_detector_type_check);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[1].type, &ea_detector_spike);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[2].type, &ea_detector_stuck);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[3].type, &ea_detector_staleness);
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[1], "window"), 32, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[1], "threshold"), 6, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[2], "samples"), 20, 0);
	CU_ASSERT_TRUE(isnan(param(&cfg->default_chain.items[2], "duration")));
	CU_ASSERT_TRUE(isnan(param(&cfg->default_chain.items[3], "interval")));
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[3], "min_silence"), 5000, 0);

	/* every series goes to the default chain */
	CU_ASSERT_PTR_NULL(ea_config_route(cfg, "default", "pump-1", "temperature"));
	CU_ASSERT_PTR_EQUAL(ea_config_chain(cfg, "default", "pump-1", "temperature"), &cfg->default_chain);
	CU_ASSERT_TRUE(ea_config_device_included(cfg, "any", "device"));
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_give_defaults_for_an_empty_document(void)
{
	static const char *const empty[] = { "", "~\n", "null\n", "# only a comment\n", "---\n", "---\n...\n" };
	size_t i;

	for(i = 0; i < sizeof(empty) / sizeof(empty[0]); i++){
		ea_config_error err;
		ea_config *cfg = load(empty[i], &err);
		CU_ASSERT_PTR_NOT_NULL(cfg);
		if(cfg == NULL) continue;
		CU_ASSERT_STRING_EQUAL(cfg->path, "t.yaml");
		CU_ASSERT_EQUAL(cfg->workers, 2);
		CU_ASSERT_EQUAL(cfg->topic_count, 6);
		CU_ASSERT_EQUAL(cfg->default_chain.count, 4);
		CU_ASSERT_STRING_EQUAL(err.message, "");
		ea_config_free(cfg);
	}
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static const char full_yaml[] =
	"# every key\n"
	"workers: 4\n"
	"queue:\n"
	"  capacity: 1024\n"
	"  max_bytes: 8MiB\n"
	"  max_payload: 64KiB\n"
	"max_series: 500\n"
	"max_pending_results: 100\n"
	"extra_topics: 'factory/+/telemetry'\n"
	"topics:\n"
	"  - $hw/events/device/+/twin/update\n"
	"  - $hw/events/device/+/+/twin/update\n"
	"devices:\n"
	"  include: ['plant-*/*', 'pump-*']\n"
	"  exclude: [pump-test]\n"
	"groups:\n"
	"  pumps: ['pump-*', 'plant-b/compressor-?']\n"
	"  critical: plant-a/pump-1\n"
	"results:\n"
	"  topic: alerts/{namespace}/{device}/{property}/{detector}\n"
	"  qos: 2\n"
	"  retain: yes\n"
	"  repeat_interval: 5m\n"
	"stats_interval: 30s\n"
	"idle_check: 250ms\n"
	"default_chain:\n"
	"  - type\n"
	"  - staleness: {interval: 90s}\n"
	"routes:\n"
	"  - name: critical pumps\n"
	"    match: {group: [pumps, critical], property: 'temp*'}\n"
	"    detectors:\n"
	"      - range: {min: -10, max: 50.5}\n"
	"      - stuck: {samples: 5, duration: 1m, tolerance: 0.1}\n"
	"  - match:\n"
	"      namespace: 'plant-?'\n"
	"      device: 'fan-*'\n"
	"    detectors: []\n"
	"  - match: {property: '$state'}\n"
	"    detectors: [state]\n";

static void TEST_ea_config_load_string_should_load_every_key(void)
{
	ea_config_error err;
	ea_config *cfg = load(full_yaml, &err);
	const ea_route *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->path, "t.yaml");
	CU_ASSERT_EQUAL(cfg->workers, 4);
	CU_ASSERT_EQUAL(cfg->queue_capacity, 1024);
	CU_ASSERT_EQUAL(cfg->queue_max_bytes, UINT64_C(8) << 20);
	CU_ASSERT_EQUAL(cfg->max_payload, UINT64_C(64) << 10);
	CU_ASSERT_EQUAL(cfg->max_series, 500);
	CU_ASSERT_EQUAL(cfg->max_pending_results, 100);

	/* "topics" replaces the defaults; "extra_topics" is appended even when
	 * it comes first */
	CU_ASSERT_EQUAL_FATAL(cfg->topic_count, 3);
	CU_ASSERT_STRING_EQUAL(cfg->topics[0], "$hw/events/device/+/twin/update");
	CU_ASSERT_STRING_EQUAL(cfg->topics[1], "$hw/events/device/+/+/twin/update");
	CU_ASSERT_STRING_EQUAL(cfg->topics[2], "factory/+/telemetry");

	CU_ASSERT_EQUAL_FATAL(cfg->include_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg->include[0], "plant-*/*");
	CU_ASSERT_STRING_EQUAL(cfg->include[1], "pump-*");
	CU_ASSERT_EQUAL_FATAL(cfg->exclude_count, 1);
	CU_ASSERT_STRING_EQUAL(cfg->exclude[0], "pump-test");

	CU_ASSERT_EQUAL_FATAL(cfg->group_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg->groups[0].name, "pumps");
	CU_ASSERT_EQUAL_FATAL(cfg->groups[0].count, 2);
	CU_ASSERT_STRING_EQUAL(cfg->groups[0].patterns[1], "plant-b/compressor-?");
	CU_ASSERT_STRING_EQUAL(cfg->groups[1].name, "critical");
	CU_ASSERT_EQUAL_FATAL(cfg->groups[1].count, 1); /* a single pattern is a list of one */
	CU_ASSERT_STRING_EQUAL(cfg->groups[1].patterns[0], "plant-a/pump-1");

	CU_ASSERT_STRING_EQUAL(cfg->result_topic, "alerts/{namespace}/{device}/{property}/{detector}");
	CU_ASSERT_EQUAL(cfg->result_qos, 2);
	CU_ASSERT_TRUE(cfg->result_retain);
	CU_ASSERT_EQUAL(cfg->repeat_interval_ms, 300000);
	CU_ASSERT_EQUAL(cfg->stats_interval_ms, 30000);
	CU_ASSERT_EQUAL(cfg->idle_check_ms, 250);

	CU_ASSERT_EQUAL_FATAL(cfg->default_chain.count, 2);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[0].type, &ea_detector_type_check);
	CU_ASSERT_PTR_EQUAL(cfg->default_chain.items[1].type, &ea_detector_staleness);
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[1], "interval"), 90000, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[1], "factor"), 5, 0);

	CU_ASSERT_EQUAL_FATAL(cfg->route_count, 3);
	r = &cfg->routes[0];
	CU_ASSERT_STRING_EQUAL(r->name, "critical pumps");
	CU_ASSERT_EQUAL(r->line, 30);
	CU_ASSERT_PTR_NULL(r->ns_glob);
	CU_ASSERT_PTR_NULL(r->device_glob);
	CU_ASSERT_STRING_EQUAL(r->property_glob, "temp*");
	CU_ASSERT_EQUAL_FATAL(r->group_count, 2);
	CU_ASSERT_STRING_EQUAL(r->groups[0], "pumps");
	CU_ASSERT_STRING_EQUAL(r->groups[1], "critical");
	CU_ASSERT_EQUAL_FATAL(r->chain.count, 2);
	CU_ASSERT_PTR_EQUAL(r->chain.items[0].type, &ea_detector_range);
	CU_ASSERT_DOUBLE_EQUAL(param(&r->chain.items[0], "min"), -10, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&r->chain.items[0], "max"), 50.5, 0);
	CU_ASSERT_PTR_EQUAL(r->chain.items[1].type, &ea_detector_stuck);
	CU_ASSERT_DOUBLE_EQUAL(param(&r->chain.items[1], "samples"), 5, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&r->chain.items[1], "duration"), 60000, 0);
	CU_ASSERT_DOUBLE_EQUAL(param(&r->chain.items[1], "tolerance"), 0.1, 0);

	r = &cfg->routes[1];
	CU_ASSERT_STRING_EQUAL(r->name, "route 2");
	CU_ASSERT_EQUAL(r->line, 35);
	CU_ASSERT_STRING_EQUAL(r->ns_glob, "plant-?");
	CU_ASSERT_STRING_EQUAL(r->device_glob, "fan-*");
	CU_ASSERT_PTR_NULL(r->property_glob);
	CU_ASSERT_EQUAL(r->group_count, 0);
	CU_ASSERT_EQUAL(r->chain.count, 0);

	r = &cfg->routes[2];
	CU_ASSERT_STRING_EQUAL(r->name, "route 3");
	CU_ASSERT_EQUAL_FATAL(r->chain.count, 1);
	CU_ASSERT_PTR_EQUAL(r->chain.items[0].type, &ea_detector_device_state);
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_give_unset_parameters_their_defaults(void)
{
	ea_config_error err;
	ea_config *cfg = load("default_chain:\n"
			"  - spike\n"
			"  - spike:\n"
			"  - spike: {}\n"
			"  - spike: {threshold: 4.5}\n"
			"  - range: {max: 100}\n", &err);
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->default_chain.count, 5);
	for(i = 0; i < 4; i++){
		const ea_detector_instance *d = &cfg->default_chain.items[i];
		CU_ASSERT_PTR_EQUAL(d->type, &ea_detector_spike);
		CU_ASSERT_DOUBLE_EQUAL(param(d, "window"), 32, 0);
		CU_ASSERT_DOUBLE_EQUAL(param(d, "min_samples"), 10, 0);
		CU_ASSERT_DOUBLE_EQUAL(param(d, "threshold"), i == 3 ? 4.5 : 6, 0);
	}
	CU_ASSERT_TRUE(isnan(param(&cfg->default_chain.items[4], "min")));
	CU_ASSERT_DOUBLE_EQUAL(param(&cfg->default_chain.items[4], "max"), 100, 0);
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_read_booleans_and_durations_in_every_spelling(void)
{
	static const struct {
		const char *yaml;
		bool retain;
		int64_t repeat_ms;
	} cases[] = {
		{ "results: {retain: true, repeat_interval: 0}\n", true, 0 },
		{ "results: {retain: on, repeat_interval: 1h}\n", true, 3600000 },
		{ "results: {retain: False, repeat_interval: 45}\n", false, 45000 },
		{ "results: {retain: off, repeat_interval: 1500ms}\n", false, 1500 },
		{ "results: {retain: NO, repeat_interval: 1d}\n", false, 86400000 },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_config_error err;
		ea_config *cfg = load(cases[i].yaml, &err);
		CU_ASSERT_PTR_NOT_NULL(cfg);
		if(cfg == NULL) continue;
		CU_ASSERT_EQUAL(cfg->result_retain, cases[i].retain);
		CU_ASSERT_EQUAL(cfg->repeat_interval_ms, cases[i].repeat_ms);
		ea_config_free(cfg);
	}
}

static void TEST_ea_config_load_string_should_resolve_yaml_aliases(void)
{
	ea_config_error err;
	ea_config *cfg = load("groups:\n"
			"  pumps: &pumps ['pump-*', 'p-*']\n"
			"  also: *pumps\n", &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL_FATAL(cfg->group_count, 2);
	CU_ASSERT_EQUAL_FATAL(cfg->groups[1].count, 2);
	CU_ASSERT_STRING_EQUAL(cfg->groups[1].patterns[1], "p-*");
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_read_only_len_bytes(void)
{
	const char *text = "workers: 3\nmax_series: 7\n";
	size_t len = strlen(text);
	char *exact = malloc(len); /* no NUL: ASan catches any overread */
	ea_config_error err;
	ea_config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
	memcpy(exact, text, len);
	cfg = ea_config_load_string(exact, len, "exact.yaml", &err);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	if(cfg != NULL){
		CU_ASSERT_EQUAL(cfg->workers, 3);
		CU_ASSERT_EQUAL(cfg->max_series, 7);
		ea_config_free(cfg);
	}
	/* only the first line */
	cfg = ea_config_load_string(exact, strlen("workers: 3\n"), "exact.yaml", &err);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	if(cfg != NULL){
		CU_ASSERT_EQUAL(cfg->workers, 3);
		CU_ASSERT_EQUAL(cfg->max_series, 50000);
		ea_config_free(cfg);
	}
	free(exact);
}

static void TEST_ea_config_load_string_should_accept_a_null_error(void)
{
	ea_config *cfg = ea_config_load_string("workers: 0\n", 11, "t.yaml", NULL);

	CU_ASSERT_PTR_NULL(cfg);
	cfg = ea_config_load_string("workers: [\n", 11, "t.yaml", NULL);
	CU_ASSERT_PTR_NULL(cfg);
	cfg = ea_config_load_string("workers: 5\n", 11, "t.yaml", NULL);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	ea_config_free(cfg);
	ea_config_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static void TEST_ea_config_load_string_should_report_file_line_column_and_key_path(void)
{
	static const struct {
		const char *yaml;
		const char *message;
	} cases[] = {
		{ "workers: 0\n", "t.yaml:1:10: key 'workers': must be between 1 and 64, got 0" },
		{ "workers: 65\n", "t.yaml:1:10: key 'workers': must be between 1 and 64, got 65" },
		{ "workers: many\n", "t.yaml:1:10: key 'workers': expects a whole number, got 'many'" },
		{ "workers: -1\n", "t.yaml:1:10: key 'workers': expects a whole number, got '-1'" },
		{ "workers: 2.5\n", "t.yaml:1:10: key 'workers': expects a whole number, got '2.5'" },
		{ "workers:\n", "t.yaml:1:9: key 'workers': expects a whole number, got ''" },
		{ "workers: [1]\n", "t.yaml:1:10: key 'workers': expects a single value, not a list or mapping" },
		{ "workers: 2\nworkers: 3\n", "t.yaml:2:1: key 'workers': given twice" },
		{ "wrokers: 2\n", "t.yaml:1:1: key 'wrokers': unknown key; known keys here: workers, queue, "
			"max_series, max_pending_results, topics, extra_topics, devices, groups, results, "
			"stats_interval, idle_check, detector_libraries, mirror, device_status, edgex, models, default_chain, routes" },
		{ "queue:\n  capacity: 8\n", "t.yaml:2:13: key 'queue.capacity': must be between 16 and 4194304, got 8" },
		{ "queue:\n  max_bytes: lots\n",
			"t.yaml:2:14: key 'queue.max_bytes': expects a size like 65536, 64KiB or 16MiB, got 'lots'" },
		{ "queue:\n  max_payload: 32\n", "t.yaml:2:16: key 'queue.max_payload': must be between 64 and 268435456 bytes" },
		{ "queue:\n  colour: red\n",
			"t.yaml:2:3: key 'queue.colour': unknown key; known keys here: capacity, max_bytes, max_payload" },
		{ "queue: 5\n", "t.yaml:1:8: key 'queue': expects a mapping of keys to values" },
		{ "max_series: 0\n", "t.yaml:1:13: key 'max_series': must be between 1 and 4294967296, got 0" },
		{ "max_pending_results: 99999999\n",
			"t.yaml:1:22: key 'max_pending_results': must be between 1 and 16777216, got 99999999" },
		{ "results:\n  qos: 3\n", "t.yaml:2:8: key 'results.qos': must be between 0 and 2, got 3" },
		{ "results:\n  retain: maybe\n", "t.yaml:2:11: key 'results.retain': expects true or false, got 'maybe'" },
		{ "results:\n  repeat_interval: soon\n",
			"t.yaml:2:20: key 'results.repeat_interval': expects a duration like 500ms, 30s, 5m or 1h, got 'soon'" },
		{ "results:\n  topic: 'alerts/#'\n",
			"t.yaml:2:10: key 'results.topic': a result topic cannot contain the wildcards + or #" },
		{ "results:\n  topic: ''\n", "t.yaml:2:10: key 'results.topic': must not be empty" },
		{ "results:\n", "t.yaml:1:9: key 'results': expects a mapping of keys to values" },
		{ "stats_interval: 500ms\n", "t.yaml:1:17: key 'stats_interval': must be 0 (off) or at least 1s" },
		{ "idle_check: 1ms\n", "t.yaml:1:13: key 'idle_check': must be between 10 ms and 3600000 ms, got 1 ms" },
		{ "topics: ['a/#/b']\n", "t.yaml:1:9: key 'topics': 'a/#/b' is not a valid MQTT topic filter" },
		{ "topics: []\n", "t.yaml:1:1: key 'topics': no topic is tapped: give at least one filter" },
		{ "topics: {a: 1}\n", "t.yaml:1:9: key 'topics': expects a list of strings" },
		{ "topics: [a, [b]]\n", "t.yaml:1:13: key 'topics[1]': expects a single value, not a list or mapping" },
		{ "extra_topics: ['x/y+']\n", "t.yaml:1:1: key 'extra_topics': 'x/y+' is not a valid MQTT topic filter" },
		{ "devices:\n  include: ['']\n", "t.yaml:2:13: key 'devices.include[0]': must not be empty" },
		{ "devices:\n  exclude: {a: 1}\n", "t.yaml:2:12: key 'devices.exclude': expects a list of strings" },
		{ "devices:\n  only: [a]\n", "t.yaml:2:3: key 'devices.only': unknown key; known keys here: include, exclude, namespaces, groups" },
		{ "groups: [a]\n", "t.yaml:1:9: key 'groups': expects a mapping of group names to lists of device patterns" },
		{ "groups:\n  pumps: [a]\n  pumps: [b]\n", "t.yaml:3:3: key 'groups.pumps': group given twice" },
		{ "groups:\n  pumps: [a, {b: 1}]\n", "t.yaml:2:14: key 'groups.pumps[1]': expects a single value, not a list or mapping" },
		{ "default_chain: spike\n", "t.yaml:1:16: key 'default_chain': expects a list of detectors" },
		{ "default_chain:\n  - magic\n", "t.yaml:2:5: key 'default_chain[0]': unknown detector 'magic'; "
			"built-in detectors: range, stuck, spike, staleness, type, state, ..." },
		{ "default_chain:\n  - type\n  - magic: {a: 1}\n", "t.yaml:3:5: key 'default_chain[1]': unknown detector 'magic'; "
			"built-in detectors: range, stuck, spike, staleness, type, state, ..." },
		{ "default_chain:\n  - range: {min: 10, max: 0}\n",
			"t.yaml:2:12: key 'default_chain[0].range': range min 10 is above max 0" },
		{ "default_chain:\n  - range: {}\n",
			"t.yaml:2:12: key 'default_chain[0].range': range needs min, max or both" },
		{ "default_chain:\n  - range: {max: high}\n",
			"t.yaml:2:18: key 'default_chain[0].range.max': expects a number, got 'high'" },
		{ "default_chain:\n  - range: {max: .nan}\n",
			"t.yaml:2:18: key 'default_chain[0].range.max': expects a number, got '.nan'" },
		{ "default_chain:\n  - spike: {window: 4}\n",
			"t.yaml:2:21: key 'default_chain[0].spike.window': must be between 8 and 64, got '4'" },
		{ "default_chain:\n  - spike: {windw: 4}\n",
			"t.yaml:2:13: key 'default_chain[0].spike.windw': detector 'spike' has no parameter 'windw'; "
			"it takes: window, threshold, min_samples, min_deviation" },
		{ "default_chain:\n  - type: {strict: true}\n",
			"t.yaml:2:12: key 'default_chain[0].type.strict': detector 'type' has no parameter 'strict'; "
			"it takes: no parameters" },
		{ "default_chain:\n  - stuck: {samples: 2.5}\n",
			"t.yaml:2:22: key 'default_chain[0].stuck.samples': expects a whole number, got '2.5'" },
		{ "default_chain:\n  - stuck: {duration: forever}\n",
			"t.yaml:2:23: key 'default_chain[0].stuck.duration': expects a duration like 500ms, 30s, 5m or 1h, got 'forever'" },
		{ "default_chain:\n  - stuck: {duration: 0s}\n",
			"t.yaml:2:23: key 'default_chain[0].stuck.duration': must be between 1ms and 2500000000h, got '0s'" },
		{ "default_chain:\n  - stuck: {samples: [1]}\n",
			"t.yaml:2:22: key 'default_chain[0].stuck.samples': expects a single value, not a list or mapping" },
		{ "default_chain:\n  - stuck: [1]\n",
			"t.yaml:2:12: key 'default_chain[0].stuck': expects a mapping of parameters, e.g. {min: 0, max: 100}" },
		{ "default_chain:\n  - {range: {max: 1}, stuck: {}}\n",
			"t.yaml:2:5: key 'default_chain[0]': a detector is a name ('spike') or a name with parameters "
			"('range: {min: 0, max: 100}')" },
		{ "routes: {}\n", "t.yaml:1:9: key 'routes': expects a list of routes" },
		{ "routes:\n  - match: {device: 'a*'}\n",
			"t.yaml:2:5: key 'routes[0]': a route needs 'detectors' (a list; [] sends the series to no detector)" },
		{ "routes:\n  - detectors: []\n  - match: {colour: red}\n    detectors: []\n",
			"t.yaml:3:13: key 'routes[1].match.colour': unknown key; known keys here: namespace, device, property, group" },
		{ "routes:\n  - match: {group: pumps}\n    detectors: []\ngroups:\n  pumps: [a]\n",
			"t.yaml:2:5: key 'routes[0]': group 'pumps' is not declared under 'groups' (declare 'groups' before 'routes')" },
		{ "routes:\n  - name: ''\n    detectors: []\n", "t.yaml:2:11: key 'routes[0].name': must not be empty" },
		{ "routes:\n  - detectors: []\n    external: {timeout: 5s}\n",
			"t.yaml:3:15: key 'routes[0].external': needs 'target' (host:port of a StreamDetect server)" },
		{ "routes:\n  - detectors: []\n    external: {target: nohost}\n",
			"t.yaml:3:24: key 'routes[0].external.target': expects host:port (or unix:/path) of a StreamDetect server" },
		{ "routes:\n  - detectors: []\n    external: {target: 'h:1', tls: {cert: c.pem}}\n",
			"t.yaml:3:36: key 'routes[0].external.tls': needs 'ca' (the server's CA), and 'cert' with 'key' for a client certificate" },
		{ "routes:\n  - detectors: []\n    external: {target: 'h:1', buffer: 0}\n",
			"t.yaml:3:39: key 'routes[0].external.buffer': must be between 1 and 10000000, got 0" },
		{ "routes:\n  - detectors: []\n    external: {target: 'h:1', colour: red}\n",
			"t.yaml:3:31: key 'routes[0].external.colour': unknown key; known keys here: target, tls, token, token_file, timeout, buffer" },
		{ "routes:\n  - detectors: []\n    external: {target: 'h:1', token: a, token_file: /etc/hostname}\n",
			"t.yaml:3:53: key 'routes[0].external.token_file': give 'token' or 'token_file', not both" },
		{ "routes:\n  - detectors: []\n    external: {target: 'h:1', token_file: /nonexistent/ea.token}\n",
			"t.yaml:3:43: key 'routes[0].external.token_file': cannot read the token file /nonexistent/ea.token: "
			"No such file or directory" },
		{ "device_status: {interval: 1s}\n",
			"t.yaml:1:16: key 'device_status': needs 'url' (EdgeCore's MetaServer, e.g. http://127.0.0.1:10550)" },
		{ "device_status: {url: 'ftp://x'}\n",
			"t.yaml:1:22: key 'device_status.url': expects an http:// or https:// URL of EdgeCore's MetaServer, e.g. http://127.0.0.1:10550" },
		{ "mirror: {retention: 1d}\n", "t.yaml:1:9: key 'mirror': needs 'path' (the SQLite database file)" },
		{ "mirror: {path: m.db, max_size: lots}\n",
			"t.yaml:1:32: key 'mirror.max_size': expects a size like 65536, 64KiB or 16MiB, got 'lots'" },
		{ "routes:\n  - detectors: []\n    mirror: maybe\n", "t.yaml:3:13: key 'routes[0].mirror': expects true or false, got 'maybe'" },
		{ "devices:\n  groups: [nope]\n", "t.yaml:2:11: key 'devices.groups': group 'nope' is not declared under 'groups'" },
		{ "routes:\n  - colour: red\n",
			"t.yaml:2:5: key 'routes[0].colour': unknown key; known keys here: name, match, detectors, external, mirror" },
		{ "just a scalar\n", "t.yaml:1:1: key '(top level)': expects a mapping of keys to values" },
		{ "- a\n- b\n", "t.yaml:1:1: key '(top level)': expects a mapping of keys to values" },
		{ "? [a]\n: 1\n", "t.yaml:1:3: key '(top level)': keys must be plain names" },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_config_error err;
		ea_config *cfg = load(cases[i].yaml, &err);
		CU_ASSERT_PTR_NULL(cfg);
		ASSERT_STR_IS(err.message, cases[i].message, cases[i].yaml);
		ea_config_free(cfg);
	}
}

static void TEST_ea_config_load_string_should_report_yaml_syntax_errors_with_position(void)
{
	static const struct {
		const char *yaml;
		const char *prefix;
	} cases[] = {
		{ "workers: [\n", "t.yaml:2:1: YAML syntax error: " },
		{ "workers: 2\n  queue: 3\n", "t.yaml:2:8: YAML syntax error: " },
		{ "workers: *nope\n", "t.yaml:1:10: YAML syntax error: " },
		{ "a: 'unterminated\n", "t.yaml:2:1: YAML syntax error: " },
		{ "\t- tab\n", "t.yaml:1:1: YAML syntax error: " },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_config_error err;
		ea_config *cfg = load(cases[i].yaml, &err);
		char got[sizeof(err.message)];
		CU_ASSERT_PTR_NULL(cfg);
		snprintf(got, sizeof(got), "%.*s", (int)strlen(cases[i].prefix), err.message);
		ASSERT_STR_IS(got, cases[i].prefix, err.message);
		CU_ASSERT(strlen(err.message) > strlen(cases[i].prefix)); /* says what is wrong */
		ea_config_free(cfg);
	}
}

static void TEST_ea_config_load_string_should_place_errors_of_bare_detector_names(void)
{
	/* Regression, fixed bug (ea_config.c:452-453, load_detector_params): when a
	 * detector is written as a bare name ("- range") its parameter node is
	 * NULL, and the validate() failure is reported against that NULL node,
	 * so the message has no line and column: "t.yaml: key
	 * 'default_chain[0].range': range needs min, max or both" instead of
	 * "t.yaml:2:5: key ...", breaking the FILE:LINE:COLUMN promise of
	 * ea_config.h (the name's node would give the position). */
	ea_config_error err;
	ea_config *cfg = load("default_chain:\n  - range\n", &err);

	CU_ASSERT_PTR_NULL(cfg);
	ASSERT_STR_IS(err.message, "t.yaml:2:5: key 'default_chain[0].range': range needs min, max or both",
			"bare 'range'");
	ea_config_free(cfg);

	cfg = load("routes:\n  - detectors: [range]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	ASSERT_STR_IS(err.message, "t.yaml:2:17: key 'routes[0].detectors[0].range': range needs min, max or both",
			"bare 'range' in a flow list");
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_reject_spike_min_samples_above_window(void)
{
	/* Regression, fixed bug (det_spike.c:102, ea_detector_spike.validate is NULL):
	 * spike keeps at most `window` values and judges only once it holds
	 * `min_samples`, so with min_samples > window (e.g. window 8,
	 * min_samples 20, both inside their own bounds) it never leaves its
	 * learning phase and never raises anything. The loader accepts the
	 * config silently; it should refuse it like range's min > max. */
	ea_config_error err;
	ea_config *cfg = load("default_chain:\n  - spike: {window: 8, min_samples: 20}\n", &err);

	CU_ASSERT_PTR_NULL(cfg);
	if(cfg == NULL){
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "t.yaml:2:"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "min_samples"));
	}
	ea_config_free(cfg);
}

static void TEST_ea_config_load_string_should_reject_repeated_detector_parameters(void)
{
	/* Regression, fixed bug (ea_config.c:421, the loop of load_detector_params):
	 * every other mapping goes through walk_mapping(), which refuses a key
	 * given twice ("given twice"), but detector parameters are read with
	 * their own loop that has no such check: "range: {max: 10, max: 50}"
	 * is accepted and silently keeps 50. */
	ea_config_error err;
	ea_config *cfg = load("default_chain:\n  - range: {max: 10, max: 50}\n", &err);

	CU_ASSERT_PTR_NULL(cfg);
	if(cfg == NULL){
		ASSERT_STR_IS(err.message, "t.yaml:2:22: key 'default_chain[0].range.max': given twice", "max twice");
	}
	ea_config_free(cfg);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

static void TEST_ea_config_load_file_should_load_a_file_and_name_it_in_errors(void)
{
	char path[] = "/tmp/ea-config-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	ea_config_error err;
	ea_config *cfg;
	char want[256];

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(full_yaml, f);
	fclose(f);
	cfg = ea_config_load_file(path, &err);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	if(cfg != NULL){
		CU_ASSERT_STRING_EQUAL(cfg->path, path);
		CU_ASSERT_EQUAL(cfg->route_count, 3);
		CU_ASSERT_EQUAL(cfg->workers, 4);
		ea_config_free(cfg);
	}

	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("workers: 2\nqueue:\n  capacity: 1\n", f);
	fclose(f);
	cfg = ea_config_load_file(path, &err);
	CU_ASSERT_PTR_NULL(cfg);
	snprintf(want, sizeof(want), "%s:3:13: key 'queue.capacity': must be between 16 and 4194304, got 1", path);
	ASSERT_STR_IS(err.message, want, "file error");
	ea_config_free(cfg);
	unlink(path);
}

static void TEST_ea_config_load_file_should_report_files_it_cannot_open(void)
{
	ea_config_error err;
	ea_config *cfg = ea_config_load_file("/nonexistent/edge-anomaly.yaml", &err);

	CU_ASSERT_PTR_NULL(cfg);
	ASSERT_STR_IS(err.message, "/nonexistent/edge-anomaly.yaml: cannot open: No such file or directory", "missing");
	cfg = ea_config_load_file("/nonexistent/edge-anomaly.yaml", NULL);
	CU_ASSERT_PTR_NULL(cfg);
}

/* ------------------------------------------------------------------ */
/* Devices, groups and routes                                          */

static void TEST_ea_config_device_included_should_apply_include_then_exclude(void)
{
	ea_config_error err;
	ea_config *all = load("devices:\n  exclude: ['test-*', 'lab/*']\n", &err);
	ea_config *some = load("devices:\n"
			"  include: ['plant-a/*', 'pump-?']\n"
			"  exclude: ['plant-a/debug-*', 'pump-9']\n", &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	CU_ASSERT_PTR_NOT_NULL_FATAL(some);

	/* no include: everything but the excluded */
	CU_ASSERT_TRUE(ea_config_device_included(all, "default", "pump-1"));
	CU_ASSERT_FALSE(ea_config_device_included(all, "default", "test-1"));
	CU_ASSERT_FALSE(ea_config_device_included(all, "plant-a", "test-1")); /* no '/': any namespace */
	CU_ASSERT_FALSE(ea_config_device_included(all, "lab", "pump-1"));
	CU_ASSERT_TRUE(ea_config_device_included(all, "labs", "pump-1"));

	/* include: only those */
	CU_ASSERT_TRUE(ea_config_device_included(some, "plant-a", "fan-1"));
	CU_ASSERT_TRUE(ea_config_device_included(some, "plant-b", "pump-1"));
	CU_ASSERT_TRUE(ea_config_device_included(some, "default", "pump-2"));
	CU_ASSERT_FALSE(ea_config_device_included(some, "plant-b", "fan-1"));
	CU_ASSERT_FALSE(ea_config_device_included(some, "default", "pump-10"));
	/* exclude wins over include */
	CU_ASSERT_FALSE(ea_config_device_included(some, "plant-a", "debug-1"));
	CU_ASSERT_FALSE(ea_config_device_included(some, "plant-c", "pump-9"));
	CU_ASSERT_FALSE(ea_config_device_included(some, "plant-b", "debug-1"));
	ea_config_free(all);
	ea_config_free(some);
}

static void TEST_ea_config_device_in_group_should_match_names_or_namespaced_patterns(void)
{
	ea_config_error err;
	ea_config *cfg = load("groups:\n"
			"  pumps: ['pump-*', 'plant-b/compressor-?']\n"
			"  empty: []\n", &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(ea_config_device_in_group(cfg, "pumps", "default", "pump-1"));
	CU_ASSERT_TRUE(ea_config_device_in_group(cfg, "pumps", "plant-a", "pump-1"));
	CU_ASSERT_TRUE(ea_config_device_in_group(cfg, "pumps", "plant-b", "compressor-3"));
	CU_ASSERT_FALSE(ea_config_device_in_group(cfg, "pumps", "plant-a", "compressor-3"));
	CU_ASSERT_FALSE(ea_config_device_in_group(cfg, "pumps", "plant-b", "compressor-33"));
	CU_ASSERT_FALSE(ea_config_device_in_group(cfg, "pumps", "default", "fan-1"));
	CU_ASSERT_FALSE(ea_config_device_in_group(cfg, "empty", "default", "pump-1"));
	CU_ASSERT_FALSE(ea_config_device_in_group(cfg, "nope", "default", "pump-1"));
	ea_config_free(cfg);
}

static const char routing_yaml[] =
	"groups:\n"
	"  pumps: ['pump-*']\n"
	"  north: ['plant-n/*']\n"
	"routes:\n"
	"  - name: by-namespace\n"
	"    match: {namespace: 'lab-*'}\n"
	"    detectors: [type]\n"
	"  - name: by-device\n"
	"    match: {device: 'fan-?'}\n"
	"    detectors: [{range: {max: 1}}]\n"
	"  - name: by-two-groups\n"
	"    match: {group: [pumps, north]}\n"
	"    detectors: [{range: {max: 2}}]\n"
	"  - name: by-group-and-property\n"
	"    match: {group: pumps, property: 'temp*'}\n"
	"    detectors: [{range: {max: 3}}]\n"
	"  - name: by-property\n"
	"    match: {property: '*pressure'}\n"
	"    detectors: []\n"
	"  - name: shadowed\n"
	"    match: {device: 'fan-1'}\n"
	"    detectors: [stuck]\n";

/* The name of the route of a series, or "(default)". */
static const char *route_of(const ea_config *cfg, const char *ns, const char *device, const char *property)
{
	const ea_route *r = ea_config_route(cfg, ns, device, property);
	return r != NULL ? r->name : "(default)";
}

static void TEST_ea_config_route_should_pick_the_first_matching_route(void)
{
	ea_config_error err;
	ea_config *cfg = load(routing_yaml, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->route_count, 6);
	/* namespace glob, before anything else */
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "lab-1", "fan-1", "temperature"), "by-namespace");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "lab-1", "pump-1", "pressure"), "by-namespace");
	/* device glob; the later route for fan-1 is shadowed */
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "default", "fan-1", "temperature"), "by-device");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "default", "fan-1", "pressure"), "by-device");
	/* all groups of a route must contain the device */
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-n", "pump-1", "speed"), "by-two-groups");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "pump-1", "speed"), "(default)");
	/* group and property glob together */
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "pump-1", "temperature"), "by-group-and-property");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "valve-1", "temperature"), "(default)");
	/* property glob alone */
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "valve-1", "oil-pressure"), "by-property");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "fan-10", "pressure"), "by-property");
	CU_ASSERT_STRING_EQUAL(route_of(cfg, "plant-s", "fan-10", "pressure-max"), "(default)");
	ea_config_free(cfg);
}

static void TEST_ea_config_chain_should_fall_back_to_the_default_chain(void)
{
	ea_config_error err;
	ea_config *cfg = load(routing_yaml, &err);
	const ea_chain *c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	c = ea_config_chain(cfg, "default", "fan-1", "temperature");
	CU_ASSERT_PTR_EQUAL(c, &cfg->routes[1].chain);
	CU_ASSERT_EQUAL_FATAL(c->count, 1);
	CU_ASSERT_DOUBLE_EQUAL(param(&c->items[0], "max"), 1, 0);
	/* a route with no detectors is an empty chain, not the default */
	c = ea_config_chain(cfg, "x", "valve-1", "pressure");
	CU_ASSERT_PTR_EQUAL(c, &cfg->routes[4].chain);
	CU_ASSERT_EQUAL(c->count, 0);
	c = ea_config_chain(cfg, "x", "valve-1", "temperature");
	CU_ASSERT_PTR_EQUAL(c, &cfg->default_chain);
	CU_ASSERT_EQUAL(c->count, 4);
	ea_config_free(cfg);
}

/* ------------------------------------------------------------------ */
/* Description                                                         */

static void TEST_ea_config_describe_should_list_settings_routes_and_parameters(void)
{
	ea_config_error err;
	ea_config *cfg = load(full_yaml, &err);
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	out = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	ea_config_describe(cfg, out);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "config: t.yaml\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "workers: 4, queue: 1024 messages each"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "idle_check: 250ms, stats_interval: 30s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "qos 2, retain true, repeat_interval 5m"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  factory/+/telemetry\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "devices excluded: pump-test\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "group pumps: pump-* plant-b/compressor-?\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "route 'critical pumps' (line 30): namespace=* device=* property=temp* "
			"group=pumps group=critical\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    - range (out-of-range): min=-10, max=50.5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    - stuck (stuck): samples=5, duration=1m, tolerance=0.1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    (no detectors)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    - staleness (stale): interval=90s, factor=5, min_samples=5, "
			"min_silence=5s\n"));
	free(text);
	ea_config_free(cfg);

	cfg = ea_config_defaults();
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	text = NULL;
	out = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	ea_config_describe(cfg, out);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "devices included: (all)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "devices excluded: (none)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "    - stuck (stuck): samples=20, duration=off, tolerance=0\n"));
	free(text);
	ea_config_free(cfg);
}

static void TEST_ea_config_external_token_file_should_be_read_next_to_the_config(void)
{
	char dir[] = "/tmp/ea-config-token-XXXXXX", path[96], token_path[96], *text = NULL;
	ea_config_error err;
	ea_config *cfg;
	FILE *f, *out;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(token_path, sizeof(token_path), "%s/detectord.token", dir);
	f = fopen(token_path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("Secr3t-route-token\nsecond line ignored\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("routes:\n  - detectors: []\n    external: {target: 'h:1', token_file: detectord.token}\n", f);
	fclose(f);
	cfg = ea_config_load_file(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_STRING_EQUAL(cfg->routes[0].external.token, "Secr3t-route-token");
	out = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	ea_config_describe(cfg, out);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, ", bearer token from the token file"));
	CU_ASSERT_PTR_NULL(strstr(text, "Secr3t")); /* the token is never shown */
	free(text);
	ea_config_free(cfg);

	f = fopen(token_path, "w"); /* an empty file is refused */
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	CU_ASSERT_PTR_NULL(ea_config_load_file(path, &err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "must hold one token of 1 to 512 bytes"));
	unlink(token_path);
	unlink(path);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */

#define TEST(fn) { #fn, fn }

void init_config_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_config_defaults_should_fill_every_setting),
		TEST(TEST_ea_config_load_string_should_give_defaults_for_an_empty_document),
		TEST(TEST_ea_config_load_string_should_load_every_key),
		TEST(TEST_ea_config_load_string_should_give_unset_parameters_their_defaults),
		TEST(TEST_ea_config_load_string_should_read_booleans_and_durations_in_every_spelling),
		TEST(TEST_ea_config_load_string_should_resolve_yaml_aliases),
		TEST(TEST_ea_config_load_string_should_read_only_len_bytes),
		TEST(TEST_ea_config_load_string_should_accept_a_null_error),
		TEST(TEST_ea_config_load_string_should_report_file_line_column_and_key_path),
		TEST(TEST_ea_config_load_string_should_report_yaml_syntax_errors_with_position),
		TEST(TEST_ea_config_load_string_should_place_errors_of_bare_detector_names),
		TEST(TEST_ea_config_load_string_should_reject_spike_min_samples_above_window),
		TEST(TEST_ea_config_load_string_should_reject_repeated_detector_parameters),
		TEST(TEST_ea_config_load_file_should_load_a_file_and_name_it_in_errors),
		TEST(TEST_ea_config_load_file_should_report_files_it_cannot_open),
		TEST(TEST_ea_config_device_included_should_apply_include_then_exclude),
		TEST(TEST_ea_config_device_in_group_should_match_names_or_namespaced_patterns),
		TEST(TEST_ea_config_route_should_pick_the_first_matching_route),
		TEST(TEST_ea_config_chain_should_fall_back_to_the_default_chain),
		TEST(TEST_ea_config_describe_should_list_settings_routes_and_parameters),
		TEST(TEST_ea_config_external_token_file_should_be_read_next_to_the_config),
	};
	CU_pSuite suite = CU_add_suite("config", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
