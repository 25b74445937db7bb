/* SPDX-License-Identifier: Apache-2.0
 *
 * abi_test.c - detectors from users' shared objects
 * (include/edge-anomaly/detector.h, detectors/ea_plugin_detector.c):
 *
 * - the example library (examples/detectors/hysteresis.c) loaded through a
 *   YAML config and run by the engine: raised where the series crosses
 *   `high`, held in between, cleared below `low`; its validate() and
 *   parameter names reach the config's messages;
 * - the probe library (tests/unit/libs/probe.c, built with
 *   -fvisibility=hidden): parameters converted as documented (durations in
 *   ms, booleans 0/1, unset NaN), state zeroed per series, idle() called,
 *   desired values given only to detectors that ask for them, a relative
 *   path resolved beside the config file;
 * - refusals, each naming the file: another ABI version, no entry point,
 *   not a shared object, a missing file, a file every user may write;
 *   malformed tables (checked directly); a config that uses a library's
 *   detector without naming the library; loading while not allowed.
 *
 * The libraries are built by the Makefile into $(BUILD)/examples, compiled
 * in as EA_TEST_LIBDIR; the environment variable EA_TEST_LIBDIR overrides.
 */
#include "unit_tests.h"

#include "../../include/edge-anomaly/detector.h"
#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EA_TEST_LIBDIR
#define EA_TEST_LIBDIR "build/examples"
#endif

static const char *lib_dir(void)
{
	const char *d = getenv("EA_TEST_LIBDIR");
	return d != NULL && d[0] != '\0' ? d : EA_TEST_LIBDIR;
}

static ea_config *load_with_library(const char *library, const char *rest, ea_config_error *err)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), "detector_libraries: ['%s/%s']\n%s", lib_dir(), library, rest);
	return ea_config_load_string(yaml, strlen(yaml), "t.yaml", err);
}

struct seen_results {
	int raised, cleared;
	int64_t first_raised_ms; /* sample time of the first raise; -1 none */
	double last_score, last_confidence;
	char last_kind[32];
	char last_detector[32];
	char last_reason[EA_REASON_MAX];
};

static void seen_reset(struct seen_results *s)
{
	memset(s, 0, sizeof(*s));
	s->first_raised_ms = -1;
}

static void on_result(void *ctx, const ea_result *r)
{
	struct seen_results *s = ctx;

	if(r->anomaly){
		if(s->raised++ == 0) s->first_raised_ms = r->sample_time_ms;
	}else{
		s->cleared++;
	}
	s->last_score = r->score;
	s->last_confidence = r->confidence;
	snprintf(s->last_kind, sizeof(s->last_kind), "%s", r->kind);
	snprintf(s->last_detector, sizeof(s->last_detector), "%s", r->detector);
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", r->reason);
}

static void feed_sample(ea_engine *e, const char *device, double x, int64_t t, bool desired)
{
	ea_sample s;
	char text[32];

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = device;
	s.property = "pressure";
	snprintf(text, sizeof(text), "%g", x);
	ea_sample_classify(&s, text, EA_TYPE_FLOAT);
	s.time_ms = t;
	s.arrival_ms = t;
	s.has_time = true;
	s.desired = desired;
	s.event_id = "";
	ea_engine_sample(e, &s);
}

static void feed(ea_engine *e, double x, int64_t t)
{
	feed_sample(e, "pump-1", x, t, false);
}

static void TEST_a_library_detector_should_run_like_a_built_in(void)
{
	ea_config_error err;
	struct seen_results seen;
	ea_config *cfg;
	ea_engine *e;
	const ea_detector_type *type;

	seen_reset(&seen);
	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_example_hysteresis.so",
			"routes:\n  - match: {property: pressure}\n    detectors: [{hysteresis: {high: 8, low: 6}}]\n", &err);
	if(cfg == NULL) fprintf(stderr, "%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	type = ea_detector_find("hysteresis");
	CU_ASSERT_PTR_NOT_NULL_FATAL(type);
	CU_ASSERT_STRING_EQUAL(type->kind, "hysteresis");
	CU_ASSERT_EQUAL(type->param_count, 2);
	CU_ASSERT(strstr(ea_plugin_detector_library(type), "libea_example_hysteresis.so") != NULL);
	CU_ASSERT_PTR_NULL(ea_plugin_detector_library(&ea_detector_range));

	e = ea_engine_new(cfg, 10, on_result, &seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	feed(e, 5, 1000);
	feed(e, 7.9, 2000);
	CU_ASSERT_EQUAL(seen.raised, 0); /* nothing before the crossing */
	feed(e, 9, 3000);   /* above high: raised */
	feed(e, 7, 4000);   /* between: stays raised */
	feed(e, 6, 5000);   /* at low: still raised */
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.first_raised_ms, 3000);
	CU_ASSERT_EQUAL(seen.cleared, 0);
	CU_ASSERT_STRING_EQUAL(seen.last_kind, "hysteresis");
	CU_ASSERT_STRING_EQUAL(seen.last_detector, "hysteresis");
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "value 9 went above 8 and has not come back below 6");
	feed(e, 5.5, 6000); /* below low: cleared */
	CU_ASSERT_EQUAL(seen.cleared, 1);
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "value 5.5 is below 6");
	feed(e, 7.5, 7000); /* between again, from below: stays clear */
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.cleared, 1);
	ea_engine_free(e);
	{
		/* check-config says where a detector comes from */
		char *text = NULL;
		size_t text_len = 0;
		FILE *out = open_memstream(&text, &text_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		ea_config_describe(cfg, out);
		fclose(out);
		CU_ASSERT(strstr(text, "    - hysteresis (hysteresis): high=8, low=6 [from /") != NULL);
		CU_ASSERT(strstr(text, "libea_example_hysteresis.so]\n") != NULL);
		CU_ASSERT(strstr(text, "    - spike (spike): ") != NULL && strstr(strstr(text, "    - spike"), "[from") == NULL);
		free(text);
	}
	ea_config_free(cfg);

	/* loading the same library again is fine; its validate() is used */
	cfg = load_with_library("libea_example_hysteresis.so",
			"default_chain: [{hysteresis: {high: 1, low: 2}}]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "t.yaml:2:") != NULL);
	CU_ASSERT(strstr(err.message, "hysteresis low 2 must be below high 1") != NULL);
	cfg = load_with_library("libea_example_hysteresis.so", "default_chain: [{hysteresis: {high: 1, colour: 2}}]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "detector 'hysteresis' has no parameter 'colour'; it takes: high, low") != NULL);
}

static void TEST_a_library_detector_should_get_parameters_state_and_idle_as_documented(void)
{
	ea_config_error err;
	struct seen_results seen;
	ea_config *cfg;
	ea_engine *e;
	char device[32];
	int i;

	seen_reset(&seen);
	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_probe.so",
			"routes:\n  - match: {property: pressure}\n"
			"    detectors: [{abi_probe: {limit: 5, quiet: 30s, strict: true}}]\n", &err);
	if(cfg == NULL) fprintf(stderr, "%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 1000, on_result, &seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);

	/* 200 series, each a fresh state: every first call checks it is all
	 * zero (ASan fills fresh malloc memory with 0xbe, so an engine that did
	 * not zero it would be caught). Values 0..4.9: nothing raised. */
	for(i = 0; i < 200; i++){
		snprintf(device, sizeof(device), "pump-%d", i);
		feed_sample(e, device, (i % 50) / 10.0, 1000 + i, false);
		feed_sample(e, device, (i % 50) / 10.0, 2000 + i, false);
	}
	CU_ASSERT_EQUAL(seen.raised, 0);
	CU_ASSERT_EQUAL(seen.cleared, 0);
	ea_engine_free(e);

	/* the injected anomaly: raised there, with the parameters as converted */
	e = ea_engine_new(cfg, 10, on_result, &seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	feed(e, 4, 10000);
	CU_ASSERT_EQUAL(seen.raised, 0);
	feed(e, 6, 11000);
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.first_raised_ms, 11000);
	CU_ASSERT_STRING_EQUAL(seen.last_kind, "probe");
	CU_ASSERT_STRING_EQUAL(seen.last_reason,
			"default/pump-1/pressure=6 n=6 limit=5 every=1 quiet=30000 strict=1");
	CU_ASSERT_DOUBLE_EQUAL(seen.last_score, 0.75, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(seen.last_confidence, 0.5, 1e-9);
	feed(e, 1, 12000);
	CU_ASSERT_EQUAL(seen.cleared, 1);

	/* idle(): quiet for 30 s is not yet too long; 31 s is */
	ea_engine_idle(e, 12000 + 29000);
	CU_ASSERT_EQUAL(seen.raised, 1);
	ea_engine_idle(e, 12000 + 31000);
	CU_ASSERT(seen.raised >= 2);
	CU_ASSERT(strncmp(seen.last_reason, "quiet for ", 10) == 0);
	ea_engine_free(e);
	ea_config_free(cfg);

	/* validate() sees converted values; bounds are checked before it */
	cfg = load_with_library("libea_test_probe.so", "default_chain: [{abi_probe: {limit: -1, strict: true}}]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "abi_probe: strict wants a limit of 0 or more, not -1") != NULL);
	cfg = load_with_library("libea_test_probe.so", "default_chain: [{abi_probe: {quiet: 1ms}}]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "t.yaml:2:") != NULL);
	cfg = load_with_library("libea_test_probe.so", "default_chain: [{abi_probe: {every: 1.5}}]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "abi_probe.every") != NULL);

	/* an unset optional parameter arrives as NaN */
	seen_reset(&seen);
	cfg = load_with_library("libea_test_probe.so", "default_chain: [abi_probe]\n", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 10, on_result, &seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	feed(e, 11, 1000);
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT(strstr(seen.last_reason, "limit=10 every=1 quiet=nan strict=0") != NULL);
	ea_engine_idle(e, 1000 + 86400000); /* quiet unset: idle() has no opinion */
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.cleared, 0);
	ea_engine_free(e);
	ea_config_free(cfg);
}

static void TEST_desired_values_should_reach_only_detectors_that_ask(void)
{
	ea_config_error err;
	struct seen_results seen;
	ea_config *cfg;
	ea_engine *e;

	seen_reset(&seen);
	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_probe.so", "default_chain: [{abi_probe: {limit: 5}}, abi_desired_probe]\n",
			&err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 10, on_result, &seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	feed(e, 1, 1000);
	CU_ASSERT_EQUAL(seen.raised, 0);
	feed_sample(e, "pump-1", 100, 2000, true); /* desired 100: above abi_probe's limit, which must not see it */
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_STRING_EQUAL(seen.last_detector, "abi_desired_probe");
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "desired value 100");
	feed(e, 2, 3000);
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.cleared, 1);
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "reported value 2");
	ea_engine_free(e);
	ea_config_free(cfg);
}

static void TEST_a_relative_library_path_should_be_beside_the_config(void)
{
	ea_config_error err;
	ea_config *cfg;
	char name[600];
	const char *yaml = "detector_libraries: [libea_test_probe.so]\ndefault_chain: [abi_probe]\n";

	ea_plugin_detectors_allow(true);
	snprintf(name, sizeof(name), "%s/config.yaml", lib_dir());
	cfg = ea_config_load_string(yaml, strlen(yaml), name, &err);
	if(cfg == NULL) fprintf(stderr, "%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL(cfg);
	ea_config_free(cfg);
	cfg = ea_config_load_string(yaml, strlen(yaml), "/nonexistent-dir/config.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "detector library /nonexistent-dir/libea_test_probe.so: cannot open") != NULL);
}

static void TEST_a_config_should_use_only_libraries_it_names(void)
{
	ea_config_error err;
	ea_config *cfg;
	const char *yaml = "default_chain: [abi_probe]\n";

	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_probe.so", "", &err); /* loaded in this process */
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	ea_config_free(cfg);
	CU_ASSERT_PTR_NOT_NULL(ea_detector_find("abi_probe"));
	cfg = ea_config_load_string(yaml, strlen(yaml), "other.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "other.yaml:1:17: key 'default_chain[0]': detector 'abi_probe' comes from ")
			!= NULL);
	CU_ASSERT(strstr(err.message, "libea_test_probe.so, which this file does not list under detector_libraries")
			!= NULL);
	/* an unknown name lists the detectors of the file's libraries */
	cfg = load_with_library("libea_test_probe.so", "default_chain: [abi_prob]\n", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "unknown detector 'abi_prob'; built-in detectors: ") != NULL);
	CU_ASSERT(strstr(err.message, "; from detector_libraries: abi_probe, abi_desired_probe") != NULL);
}

static void TEST_a_library_for_another_abi_should_be_refused(void)
{
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_abi_other.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "t.yaml:1:") != NULL);
	CU_ASSERT(strstr(err.message, "libea_test_abi_other.so was built for detector ABI 2; this edge-anomaly speaks ABI 1: "
			"rebuild it against include/edge-anomaly/detector.h") != NULL);
	CU_ASSERT_PTR_NULL(ea_detector_find("from_the_future"));
}

static void TEST_other_files_should_be_refused_with_their_name(void)
{
	ea_config_error err;
	ea_config *cfg;
	char text_file[600], yaml[1024];
	FILE *f;

	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_no_entry.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "libea_test_no_entry.so does not export edge_anomaly_detectors()") != NULL);
	cfg = load_with_library("no-such-library.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "no-such-library.so: cannot open: No such file or directory") != NULL);
	cfg = ea_config_load_string("detector_libraries: /x.so\n", 25, "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "expects a list of paths") != NULL);

	/* not a shared object: dlopen's own words, after the file's name */
	snprintf(text_file, sizeof(text_file), "%s/not-a-library.so", lib_dir());
	f = fopen(text_file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("just text\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "detector_libraries: ['%s']\n", text_file);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "key 'detector_libraries[0]': detector library ") != NULL);
	CU_ASSERT(strstr(err.message, "not-a-library.so: ") != NULL);
	CU_ASSERT(strstr(err.message, "header") != NULL || strstr(err.message, "too short") != NULL);
	unlink(text_file);
}

static bool copy_file(const char *from, const char *to)
{
	char buf[8192];
	size_t n;
	bool ok = true;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

	if(in == NULL || out == NULL) ok = false;
	while(ok && (n = fread(buf, 1, sizeof(buf), in)) > 0) ok = fwrite(buf, 1, n, out) == n;
	if(in != NULL) fclose(in);
	if(out != NULL && fclose(out) != 0) ok = false;
	return ok;
}

static void TEST_a_library_anybody_may_write_should_be_refused(void)
{
	char dir[] = "/tmp/ea-abi-test-XXXXXX", lib[600], from[600], yaml[1024];
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(from, sizeof(from), "%s/libea_example_hysteresis.so", lib_dir());
	snprintf(lib, sizeof(lib), "%s/libcopy.so", dir);
	CU_ASSERT_FATAL(copy_file(from, lib));
	snprintf(yaml, sizeof(yaml), "detector_libraries: ['%s']\n", lib);

	CU_ASSERT_EQUAL(chmod(lib, 0666), 0);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "libcopy.so is writable by every user") != NULL);

	CU_ASSERT_EQUAL(chmod(lib, 0644), 0);
	CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "libcopy.so is in a directory every user may write to") != NULL);

	/* with both fixed it gets as far as its detector, whose name is taken
	 * by the original (loaded by an earlier test or now) */
	CU_ASSERT_EQUAL(chmod(dir, 0700), 0);
	cfg = load_with_library("libea_example_hysteresis.so", "", &err);
	ea_config_free(cfg);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "libcopy.so: a detector called 'hysteresis' exists already") != NULL);
	unlink(lib);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Tables checked directly                                             */

static void nop_observe(const double *p, void *state, const struct edge_anomaly_sample *s,
		struct edge_anomaly_verdict *v)
{
	(void)p;
	(void)state;
	(void)s;
	(void)v;
}

static const struct edge_anomaly_param good_params[2] = {
	{ "a", EDGE_ANOMALY_PARAM_NUMBER, 1, 0, 10, "first" },
	{ "b", EDGE_ANOMALY_PARAM_DURATION, NAN, 0, 1000, "second" },
};

static struct edge_anomaly_detector good_table(const char *name)
{
	struct edge_anomaly_detector d;

	memset(&d, 0, sizeof(d));
	d.abi_version = EDGE_ANOMALY_DETECTOR_ABI;
	d.name = name;
	d.kind = "k";
	d.summary = "s";
	d.params = good_params;
	d.param_count = 2;
	d.state_size = 16;
	d.observe = nop_observe;
	return d;
}

/* Checks a one-table list (or two with `second`); returns the message, or
 * "" when accepted. */
static const char *check_tables(const struct edge_anomaly_detector *first, const struct edge_anomaly_detector *second)
{
	static char err[600];
	const struct edge_anomaly_detector *list[3] = { first, second, NULL };

	err[0] = '\0';
	if(ea_plugin__check_list(list, EA_PLUGIN_DETECTORS_MAX, "/lib/x.so", err, sizeof(err)) > 0) err[0] = '\0';
	else CU_ASSERT(strncmp(err, "detector library /lib/x.so", 26) == 0);
	return err;
}

static void TEST_malformed_tables_should_be_refused_with_the_reason(void)
{
	struct edge_anomaly_detector d = good_table("fine"), e = good_table("other");
	struct edge_anomaly_param params[EDGE_ANOMALY_MAX_PARAMS + 1];
	const struct edge_anomaly_detector *empty[1] = { NULL };
	char err[300];
	size_t i;

	CU_ASSERT_STRING_EQUAL(check_tables(&d, &e), "");
	CU_ASSERT_STRING_EQUAL(check_tables(&d, NULL), "");
	CU_ASSERT_EQUAL(ea_plugin__check_list(empty, 32, "/lib/x.so", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "detector library /lib/x.so lists no detectors");
	CU_ASSERT_EQUAL(ea_plugin__check_list(NULL, 32, "/lib/x.so", err, sizeof(err)), 0);
	{
		const struct edge_anomaly_detector *two[3] = { &d, &e, NULL };
		CU_ASSERT_EQUAL(ea_plugin__check_list(two, 1, "/lib/x.so", err, sizeof(err)), 0);
		CU_ASSERT(strstr(err, "at most 32 detectors can be loaded from libraries") != NULL);
	}

	d = good_table("");
	CU_ASSERT(strstr(check_tables(&d, NULL), "a detector name must be 1..63 letters") != NULL);
	d = good_table("has space");
	CU_ASSERT(strstr(check_tables(&d, NULL), "a detector name must be 1..63 letters") != NULL);
	d = good_table("range");
	CU_ASSERT(strstr(check_tables(&d, NULL), "a detector called 'range' exists already") != NULL);
	d = good_table("twin");
	e = good_table("twin");
	CU_ASSERT(strstr(check_tables(&d, &e), "a detector called 'twin' exists already") != NULL);

	d = good_table("fine");
	d.observe = NULL;
	CU_ASSERT(strstr(check_tables(&d, NULL), "detector 'fine' needs a kind, a summary and observe()") != NULL);
	d = good_table("fine");
	d.kind = NULL;
	CU_ASSERT(strstr(check_tables(&d, NULL), "needs a kind, a summary and observe()") != NULL);
	d = good_table("fine");
	d.state_size = EDGE_ANOMALY_STATE_MAX + 1;
	CU_ASSERT(strstr(check_tables(&d, NULL), "wants 65537 bytes per series; at most 65536") != NULL);
	d.state_size = EDGE_ANOMALY_STATE_MAX;
	CU_ASSERT_STRING_EQUAL(check_tables(&d, NULL), "");

	for(i = 0; i < EDGE_ANOMALY_MAX_PARAMS + 1; i++){
		static const char *const names[] = { "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8" };
		params[i] = good_params[0];
		params[i].name = names[i];
	}
	d = good_table("fine");
	d.params = params;
	d.param_count = EDGE_ANOMALY_MAX_PARAMS;
	CU_ASSERT_STRING_EQUAL(check_tables(&d, NULL), "");
	d.param_count = EDGE_ANOMALY_MAX_PARAMS + 1;
	CU_ASSERT(strstr(check_tables(&d, NULL), "detector 'fine' has 9 parameters; at most 8") != NULL);
	d.param_count = 1;
	d.params = NULL;
	CU_ASSERT(strstr(check_tables(&d, NULL), "has 1 parameters but no table of them") != NULL);

	d = good_table("fine");
	d.params = params;
	d.param_count = 2;
	params[1].min = 5;
	params[1].max = 4;
	CU_ASSERT(strstr(check_tables(&d, NULL), "parameter 2 of detector 'fine' is malformed") != NULL);
	params[1] = good_params[0];
	params[1].name = "p1";
	params[1].default_value = 11; /* outside 0..10 */
	CU_ASSERT(strstr(check_tables(&d, NULL), "parameter 2 of detector 'fine' is malformed") != NULL);
	params[1].default_value = 1;
	params[1].kind = 7;
	CU_ASSERT(strstr(check_tables(&d, NULL), "parameter 2 of detector 'fine' is malformed") != NULL);
	params[1].kind = EDGE_ANOMALY_PARAM_BOOL;
	params[1].doc = NULL;
	CU_ASSERT(strstr(check_tables(&d, NULL), "parameter 2 of detector 'fine' is malformed") != NULL);
	params[1].doc = "ok";
	params[1].name = "p0";
	CU_ASSERT(strstr(check_tables(&d, NULL), "detector 'fine' has two parameters called 'p0'") != NULL);

	/* another version is reported first, whatever else is wrong */
	d = good_table("");
	e = good_table("fine");
	e.abi_version = 2;
	CU_ASSERT(strstr(check_tables(&d, &e), "was built for detector ABI 2; this edge-anomaly speaks ABI 1") != NULL);
}

static void TEST_loading_should_be_refused_unless_allowed(void)
{
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(false);
	cfg = load_with_library("libea_example_hysteresis.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "t.yaml:1:") != NULL);
	CU_ASSERT(strstr(err.message, "detector libraries cannot be loaded by this program") != NULL);
	ea_plugin_detectors_allow(true);
}

void init_abi_tests(void)
{
	CU_pSuite s = CU_add_suite("abi", NULL, NULL);
	CU_add_test(s, "TEST_a_library_detector_should_run_like_a_built_in", TEST_a_library_detector_should_run_like_a_built_in);
	CU_add_test(s, "TEST_a_library_detector_should_get_parameters_state_and_idle_as_documented",
			TEST_a_library_detector_should_get_parameters_state_and_idle_as_documented);
	CU_add_test(s, "TEST_desired_values_should_reach_only_detectors_that_ask",
			TEST_desired_values_should_reach_only_detectors_that_ask);
	CU_add_test(s, "TEST_a_relative_library_path_should_be_beside_the_config",
			TEST_a_relative_library_path_should_be_beside_the_config);
	CU_add_test(s, "TEST_a_config_should_use_only_libraries_it_names", TEST_a_config_should_use_only_libraries_it_names);
	CU_add_test(s, "TEST_a_library_for_another_abi_should_be_refused", TEST_a_library_for_another_abi_should_be_refused);
	CU_add_test(s, "TEST_other_files_should_be_refused_with_their_name", TEST_other_files_should_be_refused_with_their_name);
	CU_add_test(s, "TEST_a_library_anybody_may_write_should_be_refused",
			TEST_a_library_anybody_may_write_should_be_refused);
	CU_add_test(s, "TEST_malformed_tables_should_be_refused_with_the_reason",
			TEST_malformed_tables_should_be_refused_with_the_reason);
	CU_add_test(s, "TEST_loading_should_be_refused_unless_allowed", TEST_loading_should_be_refused_unless_allowed);
}
