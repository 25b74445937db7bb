/* SPDX-License-Identifier: Apache-2.0
 *
 * auto_test.c - the `auto` detector on generated series whose truth is
 * known: quiet on stationary noise and on a steady daily pattern, raising
 * at a new extreme, at a broken pattern and at a day that departs from the
 * daily profile, one raise per disturbance.
 * (It does not catch a curve that freezes at a level it passes through
 * every day; `flatline` and `stuck` are for that.)
 */
#include "unit_tests.h"

#include "ea_detector.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000LL

struct auto_run {
	ea_params params;
	void *state; /* owned, freed by auto_end */
};

static void auto_begin(struct auto_run *r)
{
	ea_params_defaults(&ea_detector_auto, &r->params);
	r->state = calloc(1, ea_detector_state_size(&ea_detector_auto, &r->params));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->state);
}

static void auto_end(struct auto_run *r)
{
	free(r->state);
	r->state = NULL;
}

static ea_verdict_state observe(struct auto_run *r, double x, int64_t t_ms, double *score)
{
	ea_sample s;
	ea_verdict v;
	char text[64];

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "d";
	s.property = "p";
	snprintf(text, sizeof(text), "%.17g", x);
	ea_sample_classify(&s, text, EA_TYPE_NONE);
	s.time_ms = t_ms;
	s.arrival_ms = t_ms;
	memset(&v, 0, sizeof(v));
	v.explain_normal = true;
	ea_detector_auto.observe(&r->params, r->state, &s, &v);
	if(score != NULL) *score = v.score;
	CU_ASSERT(v.score >= 0.0 && v.score <= 1.0);
	if(v.state == EA_VERDICT_ANOMALY) CU_ASSERT(v.reason[0] != '\0');
	return v.state;
}

/* Uniform noise in [-1, 1), reproducible. */
static double noise(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return (double)(*seed >> 8) / 8388608.0 - 1.0;
}

/* A daily pattern sampled every 5 minutes plus a little noise. */
static double daily(int64_t i, uint32_t *seed)
{
	return 50.0 + 20.0 * sin(2.0 * M_PI * (double)(i % 288) / 288.0) + 0.5 * noise(seed);
}

static void TEST_auto_should_learn_first_and_skip_booleans(void)
{
	struct auto_run r;
	ea_sample s;
	ea_verdict v;
	int i;

	auto_begin(&r);
	for(i = 0; i < 150; i++) CU_ASSERT_EQUAL(observe(&r, i % 2 ? 1000.0 : -1000.0, i * MINUTE_MS, NULL), EA_VERDICT_SKIP);
	memset(&s, 0, sizeof(s));
	ea_sample_classify(&s, "true", EA_TYPE_BOOLEAN);
	memset(&v, 0, sizeof(v));
	ea_detector_auto.observe(&r.params, r.state, &s, &v);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_SKIP);
	CU_ASSERT(ea_detector_auto.state_size <= 640); /* well under the 1 KiB per series budget */
	auto_end(&r);
}

static void TEST_auto_should_raise_at_a_new_extreme_and_once_per_rest(void)
{
	struct auto_run r;
	uint32_t seed = 7;
	int64_t i;
	int raised_before = 0;
	double score;

	auto_begin(&r);
	for(i = 0; i < 3000; i++)
		if(observe(&r, daily(i, &seed), i * 5 * MINUTE_MS, NULL) == EA_VERDICT_ANOMALY) raised_before++;
	/* a steady daily pattern learnt over ten days: quiet at the end */
	for(; i < 6000; i++)
		CU_ASSERT_NOT_EQUAL(observe(&r, daily(i, &seed), i * 5 * MINUTE_MS, NULL), EA_VERDICT_ANOMALY);
	/* a spike far above anything seen */
	CU_ASSERT_EQUAL(observe(&r, 95.0, i * 5 * MINUTE_MS, &score), EA_VERDICT_ANOMALY);
	CU_ASSERT(score >= 0.99);
	i++;
	/* the next readings are back to normal: cleared; a second spike within
	 * `rest` (20) readings does not raise again */
	CU_ASSERT_EQUAL(observe(&r, daily(i, &seed), i * 5 * MINUTE_MS, NULL), EA_VERDICT_NORMAL);
	i++;
	CU_ASSERT_EQUAL(observe(&r, 99.0, i * 5 * MINUTE_MS, &score), EA_VERDICT_NORMAL);
	CU_ASSERT_DOUBLE_EQUAL(score, 0.0, 1e-12);
	for(i++; i < 6040; i++) observe(&r, daily(i, &seed), i * 5 * MINUTE_MS, NULL);
	/* after the rest, a new low raises */
	CU_ASSERT_EQUAL(observe(&r, 5.0, i * 5 * MINUTE_MS, NULL), EA_VERDICT_ANOMALY);
	auto_end(&r);
}

static void TEST_auto_should_raise_when_a_pattern_breaks(void)
{
	struct auto_run r;
	uint32_t seed = 11;
	int64_t i;
	int raised = 0, first = -1;

	auto_begin(&r);
	/* a rising sawtooth, 0 to 93.75 over 16 readings, learnt for 180
	 * cycles */
	for(i = 0; i < 2880; i++){
		ea_verdict_state st = observe(&r, 6.25 * (double)(i % 16) + 0.2 * noise(&seed), i * MINUTE_MS, NULL);
		if(i >= 1880) CU_ASSERT_NOT_EQUAL(st, EA_VERDICT_ANOMALY); /* learnt: quiet */
	}
	/* then it runs backwards: every value is inside the range seen, but
	 * the sequences are new */
	for(; i < 2980; i++){
		double x = 93.75 - 6.25 * (double)(i % 16) + 0.2 * noise(&seed);
		if(observe(&r, x, i * MINUTE_MS, NULL) == EA_VERDICT_ANOMALY){
			raised++;
			if(first < 0) first = (int)(i - 2880);
		}
	}
	CU_ASSERT(raised >= 1);
	CU_ASSERT(first >= 0 && first < 32); /* within two cycles */
	auto_end(&r);
}

static void TEST_auto_should_raise_when_a_day_departs_from_the_daily_profile(void)
{
	struct auto_run r;
	uint32_t seed = 5;
	int64_t i, day = 288;
	int raised = 0, first = -1, raised_late = 0;

	auto_begin(&r);
	/* ten days of a daily curve, every 5 minutes */
	for(i = 0; i < 10 * day; i++){
		ea_verdict_state st = observe(&r, daily(i, &seed), i * 5 * MINUTE_MS, NULL);
		if(i >= 5 * day && st == EA_VERDICT_ANOMALY) raised_late++;
	}
	CU_ASSERT_EQUAL(raised_late, 0);
	/* on day eleven the curve runs at half its swing: every value is well
	 * inside the range seen, but not at these times of day */
	for(; i < 11 * day; i++){
		double x = 50.0 + 0.5 * (daily(i, &seed) - 50.0);
		if(observe(&r, x, i * 5 * MINUTE_MS, NULL) == EA_VERDICT_ANOMALY){
			raised++;
			if(first < 0) first = (int)(i - 10 * day);
		}
	}
	CU_ASSERT(raised >= 1);
	CU_ASSERT(first >= 0 && first < 144); /* within the first half of the day */
	auto_end(&r);
}

static void TEST_auto_should_stay_quiet_on_stationary_noise(void)
{
	struct auto_run r;
	uint32_t seed = 3;
	int64_t i;
	int raised = 0;

	auto_begin(&r);
	for(i = 0; i < 5000; i++) observe(&r, 10.0 + noise(&seed), i * MINUTE_MS, NULL);
	/* uniform noise cannot leave its range; its sequences of 16 levels are
	 * all seen within the first few thousand readings */
	for(; i < 105000; i++)
		if(observe(&r, 10.0 + noise(&seed), i * MINUTE_MS, NULL) == EA_VERDICT_ANOMALY) raised++;
	CU_ASSERT(raised <= 10); /* at most one in 10,000 */
	auto_end(&r);
}

static void TEST_auto_should_handle_a_flat_series_and_a_step_off_it(void)
{
	struct auto_run r;
	int64_t i;

	auto_begin(&r);
	for(i = 0; i < 500; i++) CU_ASSERT_NOT_EQUAL(observe(&r, 42.0, i * MINUTE_MS, NULL), EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(observe(&r, 42.5, i * MINUTE_MS, NULL), EA_VERDICT_ANOMALY);
	auto_end(&r);
}

static void TEST_auto_should_survive_extreme_values(void)
{
	struct auto_run r;
	double score;
	int64_t i;
	static const double extremes[] = { 1e308, -1e308, 1e308, 5e-324, -0.0, 1e300, -1e300 };

	auto_begin(&r);
	for(i = 0; i < 200; i++) observe(&r, (double)(i % 7), i * MINUTE_MS, NULL);
	/* the range becomes infinite: no overflow in the bins (UBSan checks) */
	for(i = 0; i < 7; i++){
		observe(&r, extremes[i], (200 + i) * MINUTE_MS, &score);
		CU_ASSERT(score >= 0.0 && score <= 1.0);
	}
	for(i = 0; i < 100; i++){
		observe(&r, (double)(i % 7), (300 + i) * MINUTE_MS, &score);
		CU_ASSERT(score >= 0.0 && score <= 1.0);
	}
	auto_end(&r);
}

void init_auto_tests(void)
{
	CU_pSuite s = CU_add_suite("auto", NULL, NULL);
	CU_add_test(s, "TEST_auto_should_learn_first_and_skip_booleans", TEST_auto_should_learn_first_and_skip_booleans);
	CU_add_test(s, "TEST_auto_should_raise_at_a_new_extreme_and_once_per_rest",
			TEST_auto_should_raise_at_a_new_extreme_and_once_per_rest);
	CU_add_test(s, "TEST_auto_should_raise_when_a_pattern_breaks", TEST_auto_should_raise_when_a_pattern_breaks);
	CU_add_test(s, "TEST_auto_should_raise_when_a_day_departs_from_the_daily_profile",
			TEST_auto_should_raise_when_a_day_departs_from_the_daily_profile);
	CU_add_test(s, "TEST_auto_should_stay_quiet_on_stationary_noise", TEST_auto_should_stay_quiet_on_stationary_noise);
	CU_add_test(s, "TEST_auto_should_survive_extreme_values", TEST_auto_should_survive_extreme_values);
	CU_add_test(s, "TEST_auto_should_handle_a_flat_series_and_a_step_off_it",
			TEST_auto_should_handle_a_flat_series_and_a_step_off_it);
}
