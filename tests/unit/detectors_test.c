/* SPDX-License-Identifier: Apache-2.0
 *
 * detectors_test.c - unit tests of the detector interface (ea_detector.c:
 * registry, parameters, verdicts) and of each built-in detector, driven
 * directly through its table on generated series whose truth is known:
 * a ramp through range bounds, constant and noisy series for stuck, a
 * noisy sine with one injected spike (and a dip, and a level shift) for
 * spike, silences of known length for staleness (observe and idle), and
 * tables of texts for type and state.
 *
 * Per-series state is allocated zeroed with exactly `state_size` bytes (no
 * state at all when it is 0), so ASan catches a detector that writes past
 * its declared state.
 */
#include "unit_tests.h"

#include "ea_detector.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One detector instance with its own state, as the engine would hold it. */
struct det {
	const ea_detector_type *type;
	ea_params params;
	void *state;
};

static void det_init(struct det *d, const ea_detector_type *type)
{
	d->type = type;
	ea_params_defaults(type, &d->params);
	d->state = type->state_size > 0 ? calloc(1, type->state_size) : NULL;
	CU_ASSERT_FATAL(type->state_size == 0 || d->state != NULL);
}

static void det_free(struct det *d)
{
	free(d->state);
	d->state = NULL;
}

/* Sets a parameter as the config loader would, asserting it is accepted. */
static void det_set(struct det *d, const char *name, const char *text)
{
	char err[200] = "";
	int i = ea_param_index(d->type, name);

	CU_ASSERT(i >= 0);
	CU_ASSERT_TRUE(ea_param_set(d->type, &d->params, i, text, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "");
}

/* A numeric sample at sample time and arrival time t_ms. */
static ea_sample number_at(double x, int64_t t_ms)
{
	ea_sample s;

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "dev";
	s.property = "p";
	s.text = "";
	s.declared = EA_TYPE_FLOAT;
	s.type_ok = true;
	s.has_number = true;
	s.number = x;
	s.time_ms = t_ms;
	s.arrival_ms = t_ms;
	s.source = EA_SOURCE_REPLAY;
	return s;
}

static ea_verdict observe(struct det *d, const ea_sample *s)
{
	ea_verdict v = { .explain_normal = true };

	memset(&v, 0, sizeof(v));
	v.state = EA_VERDICT_SKIP;
	d->type->observe(&d->params, d->state, s, &v);
	return v;
}

static ea_verdict observe_number(struct det *d, double x, int64_t t_ms)
{
	ea_sample s = number_at(x, t_ms);
	return observe(d, &s);
}

static ea_verdict idle(struct det *d, int64_t now_ms)
{
	ea_verdict v = { .explain_normal = true };

	memset(&v, 0, sizeof(v));
	v.state = EA_VERDICT_SKIP;
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->type->idle);
	d->type->idle(&d->params, d->state, now_ms, &v);
	return v;
}

/* Deterministic noise in [-1, 1) (a 32-bit LCG), so every run is the same. */
static double noise(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (double)(*seed >> 8) / 8388608.0 - 1.0;
}

/* ------------------------------------------------------------------ */
/* Registry, parameters, verdicts                                      */

static void TEST_ea_detector_builtins_should_list_the_six_detectors(void)
{
	static const char *const names[] = { "range", "stuck", "spike", "staleness", "type", "state" };
	static const char *const kinds[] = { "out-of-range", "stuck", "spike", "stale", "type-error", "device-state" };
	const ea_detector_type *const *b = ea_detector_builtins();
	size_t i, k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for(i = 0; i < 6; i++){
		CU_ASSERT_PTR_NOT_NULL_FATAL(b[i]);
		CU_ASSERT_STRING_EQUAL(b[i]->name, names[i]);
		CU_ASSERT_STRING_EQUAL(b[i]->kind, kinds[i]);
		CU_ASSERT_PTR_NOT_NULL(b[i]->summary);
		CU_ASSERT_PTR_NOT_NULL(b[i]->observe);
		CU_ASSERT(b[i]->param_count <= EA_MAX_PARAMS);
		CU_ASSERT(b[i]->param_count == 0 || b[i]->params != NULL);
		for(k = 0; k < b[i]->param_count; k++){
			const ea_param_spec *p = &b[i]->params[k];
			CU_ASSERT_PTR_NOT_NULL(p->name);
			CU_ASSERT(p->doc != NULL && p->doc[0] != '\0');
			CU_ASSERT(p->min <= p->max);
			/* a default is either off or a value the config could give */
			CU_ASSERT(isnan(p->default_value) || (p->default_value >= p->min && p->default_value <= p->max));
		}
	}
	/* later detectors follow the first six; every name is unique */
	for(i = 0; b[i] != NULL; i++)
		for(k = 0; k < i; k++) CU_ASSERT_STRING_NOT_EQUAL(b[i]->name, b[k]->name);
	CU_ASSERT_PTR_EQUAL(b[0], &ea_detector_range);
	CU_ASSERT_PTR_EQUAL(b[4], &ea_detector_type_check);
	CU_ASSERT_PTR_EQUAL(b[5], &ea_detector_device_state);
	/* numeric detectors, and the only one with an idle check */
	CU_ASSERT_TRUE(ea_detector_range.numeric_only);
	CU_ASSERT_TRUE(ea_detector_stuck.numeric_only);
	CU_ASSERT_TRUE(ea_detector_spike.numeric_only);
	CU_ASSERT_FALSE(ea_detector_staleness.numeric_only);
	CU_ASSERT_FALSE(ea_detector_type_check.numeric_only);
	CU_ASSERT_FALSE(ea_detector_device_state.numeric_only);
	CU_ASSERT_PTR_NOT_NULL(ea_detector_staleness.idle);
	CU_ASSERT_PTR_NULL(ea_detector_range.idle);
	CU_ASSERT_PTR_NULL(ea_detector_spike.idle);
}

static void TEST_ea_detector_find_should_match_exact_names_only(void)
{
	CU_ASSERT_PTR_EQUAL(ea_detector_find("range"), &ea_detector_range);
	CU_ASSERT_PTR_EQUAL(ea_detector_find("stuck"), &ea_detector_stuck);
	CU_ASSERT_PTR_EQUAL(ea_detector_find("spike"), &ea_detector_spike);
	CU_ASSERT_PTR_EQUAL(ea_detector_find("staleness"), &ea_detector_staleness);
	CU_ASSERT_PTR_EQUAL(ea_detector_find("type"), &ea_detector_type_check);
	CU_ASSERT_PTR_EQUAL(ea_detector_find("state"), &ea_detector_device_state);
	CU_ASSERT_PTR_NULL(ea_detector_find(NULL));
	CU_ASSERT_PTR_NULL(ea_detector_find(""));
	CU_ASSERT_PTR_NULL(ea_detector_find("Range"));
	CU_ASSERT_PTR_NULL(ea_detector_find("out-of-range"));
	CU_ASSERT_PTR_NULL(ea_detector_find("spikes"));
}

static void TEST_ea_params_defaults_should_set_defaults_and_leave_the_rest_off(void)
{
	ea_params p;
	size_t i;

	memset(&p, 0, sizeof(p));
	ea_params_defaults(&ea_detector_stuck, &p);
	CU_ASSERT_DOUBLE_EQUAL(p.v[0], 20, 0);
	CU_ASSERT_TRUE(isnan(p.v[1]));
	CU_ASSERT_DOUBLE_EQUAL(p.v[2], 0, 0);
	for(i = 3; i < EA_MAX_PARAMS; i++) CU_ASSERT_TRUE(isnan(p.v[i]));

	ea_params_defaults(&ea_detector_type_check, &p);
	for(i = 0; i < EA_MAX_PARAMS; i++) CU_ASSERT_TRUE(isnan(p.v[i]));
}

static void TEST_ea_param_index_should_find_parameters_by_name(void)
{
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, "window"), 0);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, "threshold"), 1);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, "min_samples"), 2);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, "min_deviation"), 3);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, "Window"), -1);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_spike, ""), -1);
	CU_ASSERT_EQUAL(ea_param_index(&ea_detector_type_check, "window"), -1);
}

/* A detector type with one parameter of each kind, for the generic code. */
static const ea_param_spec all_kinds[] = {
	{ "number", EA_PARAM_NUMBER, NAN, -10, 10, "a number" },
	{ "integer", EA_PARAM_INTEGER, 3, 1, 100, "an integer" },
	{ "duration", EA_PARAM_DURATION, 1000, 10, 3600000, "a duration" },
	{ "flag", EA_PARAM_BOOL, 0, 0, 1, "a flag" },
};
static const ea_detector_type all_kinds_type = {
	.name = "all-kinds",
	.kind = "test",
	.summary = "one parameter of each kind",
	.params = all_kinds,
	.param_count = sizeof(all_kinds) / sizeof(all_kinds[0]),
};

static void TEST_ea_param_set_should_parse_every_kind(void)
{
	static const struct {
		int index;
		const char *text;
		double value;
	} cases[] = {
		{ 0, "2.5", 2.5 }, { 0, "-10", -10 }, { 0, "1e1", 10 }, { 0, "0", 0 },
		{ 1, "42", 42 }, { 1, "1", 1 }, { 1, "1e2", 100 },
		{ 2, "250ms", 250 }, { 2, "30s", 30000 }, { 2, "5m", 300000 }, { 2, "1h", 3600000 }, { 2, "2", 2000 },
		{ 3, "true", 1 }, { 3, "YES", 1 }, { 3, "1", 1 }, { 3, "false", 0 }, { 3, "no", 0 }, { 3, "0", 0 },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_params p;
		char err[200] = "";
		ea_params_defaults(&all_kinds_type, &p);
		CU_ASSERT_TRUE(ea_param_set(&all_kinds_type, &p, cases[i].index, cases[i].text, err, sizeof(err)));
		CU_ASSERT_DOUBLE_EQUAL(p.v[cases[i].index], cases[i].value, 0);
		CU_ASSERT_STRING_EQUAL(err, "");
	}
}

static void TEST_ea_param_set_should_refuse_bad_values_with_a_message(void)
{
	static const struct {
		int index;
		const char *text;
		const char *message;
	} cases[] = {
		{ 0, "", "expects a number, got ''" },
		{ 0, "ten", "expects a number, got 'ten'" },
		{ 0, "1.5x", "expects a number, got '1.5x'" },
		{ 0, "nan", "expects a number, got 'nan'" },
		{ 0, "inf", "expects a number, got 'inf'" },
		{ 0, "1e999", "expects a number, got '1e999'" },
		{ 0, "10.5", "must be between -10 and 10, got '10.5'" },
		{ 1, "2.5", "expects a whole number, got '2.5'" },
		{ 1, "0", "must be between 1 and 100, got '0'" },
		{ 1, "101", "must be between 1 and 100, got '101'" },
		{ 2, "soon", "expects a duration like 500ms, 30s, 5m or 1h, got 'soon'" },
		{ 2, "-1s", "expects a duration like 500ms, 30s, 5m or 1h, got '-1s'" },
		{ 2, "5ms", "must be between 10ms and 1h, got '5ms'" },
		{ 2, "2h", "must be between 10ms and 1h, got '2h'" },
		{ 3, "maybe", "expects true or false, got 'maybe'" },
		{ 3, "2", "expects true or false, got '2'" },
		{ 4, "1", "unknown parameter" },
		{ -1, "1", "unknown parameter" },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_params p, before;
		char err[200] = "";
		ea_params_defaults(&all_kinds_type, &p);
		before = p;
		CU_ASSERT_FALSE(ea_param_set(&all_kinds_type, &p, cases[i].index, cases[i].text, err, sizeof(err)));
		CU_ASSERT_STRING_EQUAL(err, cases[i].message);
		CU_ASSERT_EQUAL(memcmp(&p, &before, sizeof(p)), 0); /* unchanged */
	}
}

static void TEST_ea_param_format_should_print_values_for_people(void)
{
	static const struct {
		int index;
		double value;
		const char *text;
	} cases[] = {
		{ 0, NAN, "off" }, { 0, 2.5, "2.5" }, { 0, -10, "-10" }, { 0, 0.1, "0.1" },
		{ 1, 20, "20" }, { 1, NAN, "off" },
		{ 2, 500, "500ms" }, { 2, 1500, "1500ms" }, { 2, 30000, "30s" }, { 2, 90000, "90s" },
		{ 2, 300000, "5m" }, { 2, 5400000, "90m" }, { 2, 7200000, "2h" }, { 2, 0, "0s" },
		{ 3, 1, "true" }, { 3, 0, "false" },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		char buf[32];
		ea_param_format(&all_kinds[cases[i].index], cases[i].value, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, cases[i].text);
	}
}

static void TEST_ea_verdict_set_should_clamp_and_format(void)
{
	ea_verdict v = { .explain_normal = true };
	char long_text[400];

	ea_verdict_set(&v, EA_VERDICT_ANOMALY, 1.7, -0.2, "value %d is %s", 42, "odd");
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 1.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.confidence, 0.0, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "value 42 is odd");

	ea_verdict_set(&v, EA_VERDICT_NORMAL, -3, 0.25, "fine");
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_NORMAL);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.confidence, 0.25, 0);

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	ea_verdict_set(&v, EA_VERDICT_NORMAL, 0.5, 0.5, "%s", long_text);
	CU_ASSERT_EQUAL(strlen(v.reason), EA_REASON_MAX - 1);

	/* a NORMAL reason nobody asked for is not formatted; an ANOMALY one always is */
	v.explain_normal = false;
	ea_verdict_set(&v, EA_VERDICT_NORMAL, 0.1, 1.0, "fine %d", 1);
	CU_ASSERT_STRING_EQUAL(v.reason, "");
	ea_verdict_set(&v, EA_VERDICT_ANOMALY, 0.9, 1.0, "bad %d", 2);
	CU_ASSERT_STRING_EQUAL(v.reason, "bad 2");
}

/* ------------------------------------------------------------------ */
/* range                                                               */

static void TEST_range_validate_should_need_a_bound_and_an_ordered_pair(void)
{
	ea_params p;
	char err[200];

	ea_params_defaults(&ea_detector_range, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ea_detector_range.validate);
	CU_ASSERT_FALSE(ea_detector_range.validate(&p, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "range needs min, max or both");
	p.v[0] = 10;
	CU_ASSERT_TRUE(ea_detector_range.validate(&p, err, sizeof(err)));
	p.v[1] = 0;
	CU_ASSERT_FALSE(ea_detector_range.validate(&p, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "range min 10 is above max 0");
	p.v[1] = 10;
	CU_ASSERT_TRUE(ea_detector_range.validate(&p, err, sizeof(err)));
	p.v[0] = NAN;
	CU_ASSERT_TRUE(ea_detector_range.validate(&p, err, sizeof(err)));
}

static void TEST_range_observe_should_raise_exactly_outside_the_bounds(void)
{
	struct det d;
	int x, wrong = 0, anomalies = 0;

	det_init(&d, &ea_detector_range);
	det_set(&d, "min", "0");
	det_set(&d, "max", "100");
	for(x = -20; x <= 120; x++){ /* a ramp through both bounds */
		ea_verdict v = observe_number(&d, x, x);
		bool outside = x < 0 || x > 100;
		if(v.state != (outside ? EA_VERDICT_ANOMALY : EA_VERDICT_NORMAL)) wrong++;
		if(v.state == EA_VERDICT_ANOMALY) anomalies++;
		if(v.confidence != 1.0) wrong++;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(anomalies, 40);
	det_free(&d);
}

static void TEST_range_observe_should_score_by_the_excess_and_explain(void)
{
	struct det d;
	ea_verdict v = { .explain_normal = true };

	det_init(&d, &ea_detector_range);
	det_set(&d, "min", "0");
	det_set(&d, "max", "100");
	v = observe_number(&d, 100.001, 0);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.5, 1e-4);
	CU_ASSERT_STRING_EQUAL(v.reason, "value 100.001 is above the maximum 100; check the sensor and its calibration");
	v = observe_number(&d, 150, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.75, 1e-12);
	v = observe_number(&d, 200, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 1.0, 1e-12);
	v = observe_number(&d, 1e9, 0);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 1.0, 1e-12);
	v = observe_number(&d, -25, 0);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.625, 1e-12);
	CU_ASSERT_STRING_EQUAL(v.reason, "value -25 is below the minimum 0; check the sensor and its calibration");
	v = observe_number(&d, 42, 0);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_NORMAL);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.0, 0);
	det_free(&d);

	/* one bound: the width is the bound's size */
	det_init(&d, &ea_detector_range);
	det_set(&d, "max", "40");
	v = observe_number(&d, 60, 0);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.75, 1e-12);
	v = observe_number(&d, -1e6, 0);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_NORMAL);
	det_free(&d);
}

/* ------------------------------------------------------------------ */
/* stuck                                                               */

static void TEST_stuck_observe_should_raise_after_samples_equal_readings(void)
{
	struct det d;
	int i;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "5");
	for(i = 1; i <= 8; i++){ /* the 5th equal reading raises, and it stays */
		ea_verdict v = observe_number(&d, 21.5, i * 1000);
		CU_ASSERT_EQUAL(v.state, i < 5 ? EA_VERDICT_NORMAL : EA_VERDICT_ANOMALY);
		if(i == 5){
			CU_ASSERT_STRING_EQUAL(v.reason, "value 21.5 has not changed for 5 readings over 4 s; "
					"the sensor or its mapper may be frozen");
			CU_ASSERT(v.score >= 0.5 && v.score <= 1.0);
		}
	}
	/* a change clears it and starts a new run */
	CU_ASSERT_EQUAL(observe_number(&d, 21.6, 9000).state, EA_VERDICT_NORMAL);
	for(i = 2; i <= 5; i++){
		CU_ASSERT_EQUAL(observe_number(&d, 21.6, 9000 + i * 1000).state,
				i < 5 ? EA_VERDICT_NORMAL : EA_VERDICT_ANOMALY);
	}
	det_free(&d);
}

static void TEST_stuck_observe_should_use_the_default_of_20_readings(void)
{
	struct det d;
	int i, first = 0;

	det_init(&d, &ea_detector_stuck);
	for(i = 1; i <= 30 && first == 0; i++){
		if(observe_number(&d, 7, i).state == EA_VERDICT_ANOMALY) first = i;
	}
	CU_ASSERT_EQUAL(first, 20);
	det_free(&d);
}

static void TEST_stuck_observe_should_count_changes_within_tolerance_as_the_same_value(void)
{
	static const double series[] = { 10.0, 10.2, 9.9, 10.4, 9.6 };
	struct det d;
	size_t i;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "5");
	det_set(&d, "tolerance", "0.5");
	for(i = 0; i < 5; i++){ /* all within 0.5 of the run's first value */
		CU_ASSERT_EQUAL(observe_number(&d, series[i], (int64_t)i).state,
				i < 4 ? EA_VERDICT_NORMAL : EA_VERDICT_ANOMALY);
	}
	/* 0.6 from the run's first value (not from the last) is a change */
	CU_ASSERT_EQUAL(observe_number(&d, 10.6, 10).state, EA_VERDICT_NORMAL);
	det_free(&d);
}

static void TEST_stuck_observe_should_raise_after_duration_in_sample_time(void)
{
	struct det d;
	int i, first = 0;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "1000");
	det_set(&d, "duration", "10s");
	for(i = 0; i <= 20 && first == 0; i++){
		/* one reading a second, from t = 0: held 10 s at the 11th */
		if(observe_number(&d, 3.0, (int64_t)i * 1000).state == EA_VERDICT_ANOMALY) first = i + 1;
	}
	CU_ASSERT_EQUAL(first, 11);
	det_free(&d);
}

static void TEST_stuck_observe_should_skip_declared_booleans(void)
{
	struct det d;
	int i, skipped = 0;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "2");
	for(i = 0; i < 10; i++){
		ea_sample s = number_at(1.0, i);
		s.declared = EA_TYPE_BOOLEAN;
		s.text = "true";
		if(observe(&d, &s).state == EA_VERDICT_SKIP) skipped++;
	}
	CU_ASSERT_EQUAL(skipped, 10);
	det_free(&d);
}

static void TEST_stuck_observe_should_skip_undeclared_booleans(void)
{
	/* Regression, fixed bug (det_stuck.c:36): stuck skips a sample only when the twin
	 * declares it boolean (s->declared == EA_TYPE_BOOLEAN). A twin without
	 * metadata.type whose value is "true" or "false" is classified as a
	 * boolean too (ea_sample_classify gives it the number 1 or 0), yet stuck
	 * checks it and raises after `samples` readings of "false", although
	 * the README says "Booleans are not checked by stuck" (they
	 * legitimately hold). */
	struct det d;
	int i, skipped = 0;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "2");
	for(i = 0; i < 10; i++){
		ea_sample s = number_at(0.0, i);
		ea_sample_classify(&s, i % 2 ? "false" : "FALSE", EA_TYPE_NONE);
		if(observe(&d, &s).state == EA_VERDICT_SKIP) skipped++;
	}
	CU_ASSERT_EQUAL(skipped, 10);
	det_free(&d);
}

static void TEST_stuck_observe_should_stay_quiet_on_a_noisy_series(void)
{
	struct det d;
	uint32_t seed = 7;
	int i, anomalies = 0;

	det_init(&d, &ea_detector_stuck);
	det_set(&d, "samples", "3");
	for(i = 0; i < 500; i++){
		double x = 20.0 + 2.0 * sin(i / 10.0) + 0.5 * noise(&seed);
		if(observe_number(&d, x, i * 1000).state == EA_VERDICT_ANOMALY) anomalies++;
	}
	CU_ASSERT_EQUAL(anomalies, 0);
	det_free(&d);
}

/* ------------------------------------------------------------------ */
/* spike                                                               */

/* 20 + 2 sin(2 pi i / 200) + uniform noise of +-0.5: with the default
 * parameters (window 32, threshold 6) the largest robust z of this series
 * is below 4, so only injected values may raise. */
static double sine_with_noise(int i, uint32_t *seed)
{
	return 20.0 + 2.0 * sin(2.0 * M_PI * i / 200.0) + 0.5 * noise(seed);
}

static void TEST_spike_observe_should_learn_for_min_samples_first(void)
{
	struct det d;
	int i;

	det_init(&d, &ea_detector_spike);
	for(i = 0; i < 10; i++){
		/* even absurd values are only learnt */
		CU_ASSERT_EQUAL(observe_number(&d, i == 5 ? 1e9 : 1.0, i).state, EA_VERDICT_SKIP);
	}
	CU_ASSERT_NOT_EQUAL(observe_number(&d, 1.0, 10).state, EA_VERDICT_SKIP);
	det_free(&d);
}

static void TEST_spike_observe_should_raise_exactly_at_an_injected_spike_and_clear_after(void)
{
	struct det d;
	uint32_t seed = 12345;
	int i, anomalies = 0, first = -1, cleared_at = -1;
	bool raised = false;

	det_init(&d, &ea_detector_spike);
	for(i = 0; i < 600; i++){
		double x = sine_with_noise(i, &seed);
		ea_verdict v = { .explain_normal = true };
		if(i == 300) x += 30.0;
		v = observe_number(&d, x, i * 1000);
		if(i < 10){
			CU_ASSERT_EQUAL(v.state, EA_VERDICT_SKIP);
			continue;
		}
		if(v.state == EA_VERDICT_ANOMALY){
			anomalies++;
			if(first < 0) first = i;
			raised = true;
			if(i == 300){
				CU_ASSERT(v.score > 0.5 && v.score <= 1.0);
				CU_ASSERT_DOUBLE_EQUAL(v.confidence, 1.0, 0);
				CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "above the recent median"));
			}
		}else if(v.state == EA_VERDICT_NORMAL && raised && cleared_at < 0){
			cleared_at = i;
		}
		if(v.state == EA_VERDICT_NORMAL) CU_ASSERT(v.score < 0.5);
	}
	CU_ASSERT_EQUAL(anomalies, 1);
	CU_ASSERT_EQUAL(first, 300);
	CU_ASSERT_EQUAL(cleared_at, 301);
	det_free(&d);
}

static void TEST_spike_observe_should_raise_on_a_dip_below_the_median(void)
{
	struct det d;
	uint32_t seed = 99;
	int i, anomalies = 0, first = -1;

	det_init(&d, &ea_detector_spike);
	for(i = 0; i < 400; i++){
		double x = sine_with_noise(i, &seed);
		ea_verdict v = { .explain_normal = true };
		if(i == 200) x -= 25.0;
		v = observe_number(&d, x, i);
		if(v.state == EA_VERDICT_ANOMALY){
			anomalies++;
			if(first < 0) first = i;
			CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "below the recent median"));
		}
	}
	CU_ASSERT_EQUAL(anomalies, 1);
	CU_ASSERT_EQUAL(first, 200);
	det_free(&d);
}

static void TEST_spike_observe_should_clear_a_level_shift_once_half_the_window_moved(void)
{
	struct det d;
	uint32_t seed = 4242;
	int i;

	det_init(&d, &ea_detector_spike); /* window 32 */
	for(i = 0; i < 100; i++){
		CU_ASSERT_NOT_EQUAL(observe_number(&d, 10.0 + 0.05 * noise(&seed), i).state, EA_VERDICT_ANOMALY);
	}
	/* a lasting step from 10 to 50: raised while fewer than 16 of the 32
	 * values in the window are at the new level, normal from then on */
	for(i = 0; i < 40; i++){
		ea_verdict v = observe_number(&d, 50.0 + 0.05 * noise(&seed), 100 + i);
		CU_ASSERT_EQUAL(v.state, i < 16 ? EA_VERDICT_ANOMALY : EA_VERDICT_NORMAL);
	}
	det_free(&d);
}

static void TEST_spike_observe_should_floor_the_spread_with_min_deviation(void)
{
	struct det d;
	int i;

	/* a constant series has no spread: min_deviation stands in for it */
	det_init(&d, &ea_detector_spike);
	det_set(&d, "min_deviation", "1");
	for(i = 0; i < 32; i++) observe_number(&d, 100.0, i);
	CU_ASSERT_EQUAL(observe_number(&d, 105.0, 32).state, EA_VERDICT_NORMAL);  /* z = 5 */
	CU_ASSERT_EQUAL(observe_number(&d, 107.0, 33).state, EA_VERDICT_ANOMALY); /* z = 7 */
	CU_ASSERT_EQUAL(observe_number(&d, 94.5, 34).state, EA_VERDICT_NORMAL);
	det_free(&d);

	/* without it, a millionth of the level */
	det_init(&d, &ea_detector_spike);
	for(i = 0; i < 32; i++) observe_number(&d, 1000.0, i);
	CU_ASSERT_EQUAL(observe_number(&d, 1000.004, 32).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_number(&d, 1000.008, 33).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

static void TEST_spike_observe_should_grow_confidence_with_the_window(void)
{
	struct det d;
	ea_verdict v = { .explain_normal = true };
	int i;

	det_init(&d, &ea_detector_spike);
	det_set(&d, "min_deviation", "1");
	for(i = 0; i < 10; i++) observe_number(&d, 5.0, i);
	v = observe_number(&d, 5.0, 10); /* judged on 10 of 32 */
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_NORMAL);
	CU_ASSERT_DOUBLE_EQUAL(v.confidence, 10.0 / 32.0, 1e-12);
	for(i = 11; i < 40; i++) v = observe_number(&d, 5.0, i);
	CU_ASSERT_DOUBLE_EQUAL(v.confidence, 1.0, 0);
	det_free(&d);
}

/* ------------------------------------------------------------------ */
/* staleness                                                           */

static void TEST_staleness_idle_should_have_no_opinion_before_any_sample(void)
{
	struct det d;

	det_init(&d, &ea_detector_staleness);
	det_set(&d, "interval", "1s");
	CU_ASSERT_EQUAL(idle(&d, 0).state, EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle(&d, INT64_C(1763798400000)).state, EA_VERDICT_SKIP);
	det_free(&d);
}

static void TEST_staleness_idle_should_raise_after_the_interval_and_clear_on_the_next_sample(void)
{
	const int64_t t0 = INT64_C(1763798400000);
	struct det d;
	ea_verdict v = { .explain_normal = true };

	det_init(&d, &ea_detector_staleness);
	det_set(&d, "interval", "30s");
	CU_ASSERT_EQUAL(observe_number(&d, 1.0, t0).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 1000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 30000).state, EA_VERDICT_NORMAL);
	v = idle(&d, t0 + 30001);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.confidence, 1.0, 0);
	CU_ASSERT(v.score >= 0.5 && v.score <= 1.0);
	CU_ASSERT_STRING_EQUAL(v.reason, "no sample for 30.0 s (expected at least every 30.0 s); "
			"check the device, its mapper and the link");
	/* a long silence scores higher, up to 1 */
	CU_ASSERT(idle(&d, t0 + 90000).score > v.score);
	CU_ASSERT_DOUBLE_EQUAL(idle(&d, t0 + 3600000).score, 1.0, 0);
	/* the next sample clears it */
	CU_ASSERT_EQUAL(observe_number(&d, 1.0, t0 + 100000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 120000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 130001).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

static void TEST_staleness_idle_should_learn_the_interval_after_min_samples(void)
{
	const int64_t t0 = INT64_C(1763798400000);
	struct det d;
	int i;

	det_init(&d, &ea_detector_staleness); /* factor 5, min_samples 5, min_silence 5s */
	for(i = 0; i < 4; i++){
		observe_number(&d, 1.0, t0 + i * 2000);
		/* still learning: no opinion however long the silence */
		CU_ASSERT_EQUAL(idle(&d, t0 + 3600000).state, EA_VERDICT_SKIP);
	}
	observe_number(&d, 1.0, t0 + 8000); /* 5 samples, every 2 s: limit 10 s */
	CU_ASSERT_EQUAL(idle(&d, t0 + 8000 + 10000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 8000 + 10001).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

static void TEST_staleness_idle_should_never_raise_a_silence_shorter_than_min_silence(void)
{
	const int64_t t0 = INT64_C(1763798400000);
	struct det d;
	int i;

	det_init(&d, &ea_detector_staleness);
	for(i = 0; i < 20; i++) observe_number(&d, 1.0, t0 + i * 100); /* learnt limit: 500 ms */
	CU_ASSERT_EQUAL(idle(&d, t0 + 1900 + 4000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 1900 + 5000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 1900 + 5001).state, EA_VERDICT_ANOMALY);
	det_free(&d);

	det_init(&d, &ea_detector_staleness);
	det_set(&d, "min_silence", "3s");
	for(i = 0; i < 5; i++) observe_number(&d, 1.0, t0 + i * 100);
	CU_ASSERT_EQUAL(idle(&d, t0 + 400 + 3000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 400 + 3001).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

static void TEST_staleness_idle_should_take_an_explicit_interval_exactly(void)
{
	const int64_t t0 = INT64_C(1763798400000);
	struct det d;

	/* min_silence bounds learnt intervals only: the operator's wins */
	det_init(&d, &ea_detector_staleness);
	det_set(&d, "interval", "1s");
	det_set(&d, "min_silence", "3s");
	observe_number(&d, 1.0, t0); /* one sample is enough */
	CU_ASSERT_EQUAL(idle(&d, t0 + 1000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 1001).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

static void TEST_staleness_observe_should_go_by_arrival_not_device_time(void)
{
	const int64_t t0 = INT64_C(1763798400000);
	struct det d;
	int i;

	det_init(&d, &ea_detector_staleness);
	det_set(&d, "interval", "10s");
	for(i = 0; i < 5; i++){
		ea_sample s = number_at(1.0, t0 + i * 1000);
		s.time_ms = 0; /* a device clock that is far off */
		CU_ASSERT_EQUAL(observe(&d, &s).state, EA_VERDICT_NORMAL);
	}
	CU_ASSERT_EQUAL(idle(&d, t0 + 4000 + 10000).state, EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle(&d, t0 + 4000 + 10001).state, EA_VERDICT_ANOMALY);
	/* a late message with an old arrival time does not move the clock back */
	observe_number(&d, 1.0, t0);
	CU_ASSERT_EQUAL(idle(&d, t0 + 4000 + 10001).state, EA_VERDICT_ANOMALY);
	det_free(&d);
}

/* ------------------------------------------------------------------ */
/* type                                                                */

static void TEST_type_observe_should_check_values_against_the_declared_type(void)
{
	static const struct {
		const char *text;
		ea_value_type declared;
		ea_verdict_state want;
	} cases[] = {
		{ "21", EA_TYPE_INT, EA_VERDICT_NORMAL },
		{ "-3", EA_TYPE_INT, EA_VERDICT_NORMAL },
		{ "21.0", EA_TYPE_INT, EA_VERDICT_ANOMALY },
		{ "", EA_TYPE_INT, EA_VERDICT_ANOMALY },
		{ "21.5", EA_TYPE_FLOAT, EA_VERDICT_NORMAL },
		{ "NaN", EA_TYPE_FLOAT, EA_VERDICT_ANOMALY },
		{ "inf", EA_TYPE_FLOAT, EA_VERDICT_ANOMALY },
		{ "21,5", EA_TYPE_FLOAT, EA_VERDICT_ANOMALY },
		{ "", EA_TYPE_FLOAT, EA_VERDICT_ANOMALY },
		{ "true", EA_TYPE_BOOLEAN, EA_VERDICT_NORMAL },
		{ "0", EA_TYPE_BOOLEAN, EA_VERDICT_NORMAL },
		{ "on", EA_TYPE_BOOLEAN, EA_VERDICT_ANOMALY },
		{ "anything", EA_TYPE_STRING, EA_VERDICT_NORMAL },
		{ "", EA_TYPE_STRING, EA_VERDICT_NORMAL },
		{ "NaN", EA_TYPE_NONE, EA_VERDICT_SKIP },
		{ "x", EA_TYPE_OTHER, EA_VERDICT_SKIP },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_sample s;
		ea_verdict v = { .explain_normal = true };
		memset(&s, 0, sizeof(s));
		ea_sample_classify(&s, cases[i].text, cases[i].declared);
		memset(&v, 0, sizeof(v));
		ea_detector_type_check.observe(NULL, NULL, &s, &v);
		CU_ASSERT_EQUAL(v.state, cases[i].want);
		if(v.state == EA_VERDICT_ANOMALY){
			CU_ASSERT_DOUBLE_EQUAL(v.score, 1.0, 0);
			CU_ASSERT_DOUBLE_EQUAL(v.confidence, 1.0, 0);
		}
	}
}

static void TEST_type_observe_should_quote_the_value_and_name_the_type(void)
{
	char long_text[200];
	ea_sample s;
	ea_verdict v = { .explain_normal = true };

	memset(&s, 0, sizeof(s));
	ea_sample_classify(&s, "NaN", EA_TYPE_FLOAT);
	ea_detector_type_check.observe(NULL, NULL, &s, &v);
	CU_ASSERT_STRING_EQUAL(v.reason, "value \"NaN\" is not a valid float, the type the twin declares; "
			"check the mapper's conversion");

	/* long values are cut at 60 bytes in the reason */
	memset(long_text, 'z', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	ea_sample_classify(&s, long_text, EA_TYPE_INT);
	ea_detector_type_check.observe(NULL, NULL, &s, &v);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "\" is not a valid int"));
	CU_ASSERT_EQUAL(strspn(v.reason + strlen("value \""), "z"), 60);
}

/* ------------------------------------------------------------------ */
/* state                                                               */

static void TEST_state_observe_should_raise_unless_online_or_ok(void)
{
	static const struct {
		const char *text;
		ea_verdict_state want;
	} cases[] = {
		{ "online", EA_VERDICT_NORMAL }, { "ONLINE", EA_VERDICT_NORMAL }, { "ok", EA_VERDICT_NORMAL },
		{ "OK", EA_VERDICT_NORMAL }, { "offline", EA_VERDICT_ANOMALY }, { "unknown", EA_VERDICT_ANOMALY },
		{ "unhealthy", EA_VERDICT_ANOMALY }, { "", EA_VERDICT_ANOMALY }, { "online ", EA_VERDICT_ANOMALY },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		ea_sample s;
		ea_verdict v = { .explain_normal = true };
		memset(&s, 0, sizeof(s));
		s.property = "$state";
		s.source = EA_SOURCE_DEVICE_STATE;
		ea_sample_classify(&s, cases[i].text, EA_TYPE_STRING);
		memset(&v, 0, sizeof(v));
		ea_detector_device_state.observe(NULL, NULL, &s, &v);
		CU_ASSERT_EQUAL(v.state, cases[i].want);
		if(v.state == EA_VERDICT_ANOMALY) CU_ASSERT_DOUBLE_EQUAL(v.score, 0.8, 1e-12);
	}
}

static void TEST_state_observe_should_name_the_reported_state(void)
{
	ea_sample s;
	ea_verdict v = { .explain_normal = true };

	memset(&s, 0, sizeof(s));
	ea_sample_classify(&s, "offline", EA_TYPE_STRING);
	ea_detector_device_state.observe(NULL, NULL, &s, &v);
	CU_ASSERT_STRING_EQUAL(v.reason, "device reports state \"offline\"; its readings are not being refreshed");
	ea_sample_classify(&s, "online", EA_TYPE_STRING);
	ea_detector_device_state.observe(NULL, NULL, &s, &v);
	CU_ASSERT_STRING_EQUAL(v.reason, "device reports online");
}

/* ------------------------------------------------------------------ */

#define TEST(fn) { #fn, fn }

void init_detectors_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_detector_builtins_should_list_the_six_detectors),
		TEST(TEST_ea_detector_find_should_match_exact_names_only),
		TEST(TEST_ea_params_defaults_should_set_defaults_and_leave_the_rest_off),
		TEST(TEST_ea_param_index_should_find_parameters_by_name),
		TEST(TEST_ea_param_set_should_parse_every_kind),
		TEST(TEST_ea_param_set_should_refuse_bad_values_with_a_message),
		TEST(TEST_ea_param_format_should_print_values_for_people),
		TEST(TEST_ea_verdict_set_should_clamp_and_format),
		TEST(TEST_range_validate_should_need_a_bound_and_an_ordered_pair),
		TEST(TEST_range_observe_should_raise_exactly_outside_the_bounds),
		TEST(TEST_range_observe_should_score_by_the_excess_and_explain),
		TEST(TEST_stuck_observe_should_raise_after_samples_equal_readings),
		TEST(TEST_stuck_observe_should_use_the_default_of_20_readings),
		TEST(TEST_stuck_observe_should_count_changes_within_tolerance_as_the_same_value),
		TEST(TEST_stuck_observe_should_raise_after_duration_in_sample_time),
		TEST(TEST_stuck_observe_should_skip_declared_booleans),
		TEST(TEST_stuck_observe_should_skip_undeclared_booleans),
		TEST(TEST_stuck_observe_should_stay_quiet_on_a_noisy_series),
		TEST(TEST_spike_observe_should_learn_for_min_samples_first),
		TEST(TEST_spike_observe_should_raise_exactly_at_an_injected_spike_and_clear_after),
		TEST(TEST_spike_observe_should_raise_on_a_dip_below_the_median),
		TEST(TEST_spike_observe_should_clear_a_level_shift_once_half_the_window_moved),
		TEST(TEST_spike_observe_should_floor_the_spread_with_min_deviation),
		TEST(TEST_spike_observe_should_grow_confidence_with_the_window),
		TEST(TEST_staleness_idle_should_have_no_opinion_before_any_sample),
		TEST(TEST_staleness_idle_should_raise_after_the_interval_and_clear_on_the_next_sample),
		TEST(TEST_staleness_idle_should_learn_the_interval_after_min_samples),
		TEST(TEST_staleness_idle_should_never_raise_a_silence_shorter_than_min_silence),
		TEST(TEST_staleness_idle_should_take_an_explicit_interval_exactly),
		TEST(TEST_staleness_observe_should_go_by_arrival_not_device_time),
		TEST(TEST_type_observe_should_check_values_against_the_declared_type),
		TEST(TEST_type_observe_should_quote_the_value_and_name_the_type),
		TEST(TEST_state_observe_should_raise_unless_online_or_ok),
		TEST(TEST_state_observe_should_name_the_reported_state),
	};
	CU_pSuite suite = CU_add_suite("detectors", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
