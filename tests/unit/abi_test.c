/* SPDX-License-Identifier: Apache-2.0
 *
 * abi_test.c - detectors from users' shared objects: the example library
 * (examples/detectors/hysteresis.c) loaded through a YAML config and run
 * by the engine; a library built for another ABI version, one that is not
 * a detector library and a missing file refused with messages naming the
 * file; loading refused unless the program allows it. The libraries are
 * built by the Makefile into $EA_TEST_LIBDIR (default build/examples).
 */
#include "unit_tests.h"

#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *lib_dir(void)
{
	const char *d = getenv("EA_TEST_LIBDIR");
	return d != NULL && d[0] != '\0' ? d : "build/examples";
}

static ea_config *load_with_library(const char *library, const char *rest, ea_config_error *err)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), "detector_libraries: ['%s/%s']\n%s", lib_dir(), library, rest);
	return ea_config_load_string(yaml, strlen(yaml), "t.yaml", err);
}

struct seen_results {
	int raised, cleared;
	char last_kind[32];
	char last_reason[EA_REASON_MAX];
};

static void on_result(void *ctx, const ea_result *r)
{
	struct seen_results *s = ctx;

	if(r->anomaly) s->raised++;
	else s->cleared++;
	snprintf(s->last_kind, sizeof(s->last_kind), "%s", r->kind);
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", r->reason);
}

static void feed(ea_engine *e, double x, int64_t t)
{
	ea_sample s;
	char text[32];

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "pump-1";
	s.property = "pressure";
	snprintf(text, sizeof(text), "%g", x);
	ea_sample_classify(&s, text, EA_TYPE_FLOAT);
	s.time_ms = t;
	s.arrival_ms = t;
	s.has_time = true;
	s.event_id = "";
	ea_engine_sample(e, &s);
}

static void TEST_a_library_detector_should_run_like_a_built_in(void)
{
	ea_config_error err;
	struct seen_results seen = { 0 };
	ea_config *cfg;
	ea_engine *e;
	const ea_detector_type *type;

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
	feed(e, 9, 2000);   /* above high: raised */
	feed(e, 7, 3000);   /* between: stays raised */
	feed(e, 7.5, 4000);
	CU_ASSERT_EQUAL(seen.raised, 1);
	CU_ASSERT_EQUAL(seen.cleared, 0);
	CU_ASSERT_STRING_EQUAL(seen.last_kind, "hysteresis");
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "value 9 went above 8 and has not come back below 6");
	feed(e, 5.5, 5000); /* below low: cleared */
	CU_ASSERT_EQUAL(seen.cleared, 1);
	CU_ASSERT_STRING_EQUAL(seen.last_reason, "value 5.5 is below 6");
	ea_engine_free(e);
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

static void TEST_a_library_for_another_abi_should_be_refused(void)
{
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_abi_other.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "t.yaml:1:") != NULL);
	CU_ASSERT(strstr(err.message, "libea_test_abi_other.so was built for detector ABI 2; this edge-anomaly speaks ABI 1")
			!= NULL);
	CU_ASSERT_PTR_NULL(ea_detector_find("from_the_future"));
}

static void TEST_other_files_should_be_refused_with_their_name(void)
{
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(true);
	cfg = load_with_library("libea_test_no_entry.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "libea_test_no_entry.so does not export edge_anomaly_detectors()") != NULL);
	cfg = load_with_library("no-such-library.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "no-such-library.so: cannot open") != NULL);
	cfg = ea_config_load_string("detector_libraries: /x.so\n", 25, "t.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "expects a list of paths") != NULL);
}

static void TEST_loading_should_be_refused_unless_allowed(void)
{
	ea_config_error err;
	ea_config *cfg;

	ea_plugin_detectors_allow(false);
	cfg = load_with_library("libea_example_hysteresis.so", "", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "cannot be loaded by this program") != NULL);
	ea_plugin_detectors_allow(true);
}

void init_abi_tests(void)
{
	CU_pSuite s = CU_add_suite("abi", NULL, NULL);
	CU_add_test(s, "TEST_a_library_detector_should_run_like_a_built_in", TEST_a_library_detector_should_run_like_a_built_in);
	CU_add_test(s, "TEST_a_library_for_another_abi_should_be_refused", TEST_a_library_for_another_abi_should_be_refused);
	CU_add_test(s, "TEST_other_files_should_be_refused_with_their_name", TEST_other_files_should_be_refused_with_their_name);
	CU_add_test(s, "TEST_loading_should_be_refused_unless_allowed", TEST_loading_should_be_refused_unless_allowed);
}
