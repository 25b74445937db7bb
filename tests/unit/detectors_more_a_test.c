/* SPDX-License-Identifier: Apache-2.0
 *
 * detectors_more_a_test.c - level_shift, drift, flatline and rate held to
 * their stated numbers on generated series whose truth is known: each
 * anomaly is injected at a known reading and must be raised within a stated
 * delay and not before; clean seeded noise (several seeds, up to 300,000
 * readings) must raise nothing; each raise must clear when the trouble ends
 * (or, where stated, once the detector has re-learnt the new behaviour).
 * Also: parameter validation, booleans skipped, scores growing with
 * severity, and all four from one YAML config through ea_engine_sample
 * with results of the right kind, raised and cleared.
 */
#include "unit_tests.h"

#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECOND_MS 1000LL
#define T0_MS 1761552000000LL
#define NOT_RAISED (-1L)

/* One detector instance with its own state, as the engine would hold it. */
struct detector_under_test {
	const ea_detector_type *type;
	ea_params params;
	void *state; /* owned: calloc'd here, freed by dut_free */
};

/* settings: NULL-terminated name, value pairs (may be NULL). */
static void dut_init(struct detector_under_test *d, const ea_detector_type *type, const char *const *settings)
{
	char err[200] = "";
	size_t i;

	d->type = type;
	ea_params_defaults(type, &d->params);
	for(i = 0; settings != NULL && settings[i] != NULL; i += 2){
		int k = ea_param_index(type, settings[i]);
		CU_ASSERT_FATAL(k >= 0);
		CU_ASSERT_FATAL(ea_param_set(type, &d->params, k, settings[i + 1], err, sizeof(err)));
	}
	if(type->validate != NULL) CU_ASSERT_FATAL(type->validate(&d->params, err, sizeof(err)));
	/* the exact size the engine would give: ASan sees any overrun */
	d->state = calloc(1, ea_detector_state_size(type, &d->params));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->state);
}

static void dut_free(struct detector_under_test *d)
{
	free(d->state);
	d->state = NULL;
}

/* A numeric reading at t_ms; the text lives in `text_buf` (at least 64
 * bytes), which the sample borrows. */
static ea_sample reading(double x, int64_t t_ms, char *text_buf)
{
	ea_sample s;

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "dev";
	s.property = "p";
	snprintf(text_buf, 64, "%.15g", x);
	ea_sample_classify(&s, text_buf, EA_TYPE_NONE);
	s.time_ms = t_ms;
	s.arrival_ms = t_ms;
	s.has_time = true;
	s.event_id = "";
	s.source = EA_SOURCE_REPLAY;
	return s;
}

/* Observes one sample as the engine does when something is raised (reasons
 * formatted); checks the verdict's invariants. */
static ea_verdict_state observe(struct detector_under_test *d, const ea_sample *s, ea_verdict *out)
{
	ea_verdict v;

	memset(&v, 0, sizeof(v));
	v.explain_normal = true;
	d->type->observe(&d->params, d->state, s, &v);
	CU_ASSERT(v.score >= 0.0 && v.score <= 1.0);
	if(v.state == EA_VERDICT_ANOMALY) CU_ASSERT(v.reason[0] != '\0');
	if(out != NULL) *out = v;
	return v.state;
}

static ea_verdict_state observe_number(struct detector_under_test *d, double x, int64_t t_ms, ea_verdict *out)
{
	char text[64];
	ea_sample s = reading(x, t_ms, text);
	return observe(d, &s, out);
}

/* Standard normal noise from a seeded generator (PCG-style LCG, Box-Muller). */
static double gauss(uint64_t *seed)
{
	double u1, u2;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	u1 = ((double)(*seed >> 11) + 0.5) / 9007199254740992.0;
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	u2 = ((double)(*seed >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A generated series: the value of reading i (one reading a second). */
typedef double (*series_fn)(long i, uint64_t *seed);

/* Feeds readings [from, to) of gen; returns the first that raises, or
 * NOT_RAISED; stops at the raise. */
static long first_raise_in(struct detector_under_test *d, series_fn gen, uint64_t *seed, long from, long to,
		ea_verdict *at_raise)
{
	long i;

	for(i = from; i < to; i++){
		ea_verdict v;
		if(observe_number(d, gen(i, seed), i * SECOND_MS, &v) == EA_VERDICT_ANOMALY){
			if(at_raise != NULL) *at_raise = v;
			return i;
		}
	}
	return NOT_RAISED;
}

/* Feeds readings [from, to); returns the first with a NORMAL verdict. */
static long first_normal_in(struct detector_under_test *d, series_fn gen, uint64_t *seed, long from, long to)
{
	long i;

	for(i = from; i < to; i++)
		if(observe_number(d, gen(i, seed), i * SECOND_MS, NULL) == EA_VERDICT_NORMAL) return i;
	return NOT_RAISED;
}

static bool param_rejected(const ea_detector_type *type, const char *name, const char *text)
{
	ea_params p;
	char err[200] = "";
	bool ok;

	ea_params_defaults(type, &p);
	ok = ea_param_set(type, &p, ea_param_index(type, name), text, err, sizeof(err));
	return !ok && err[0] != '\0';
}

/* ------------------------------------------------------------------ */
/* level_shift                                                          */

#define STEP_AT 600L

static double noise_20(long i, uint64_t *seed)
{
	(void)i;
	return 20.0 + gauss(seed);
}

static double step_up_7_at_600(long i, uint64_t *seed)
{
	return 20.0 + gauss(seed) + (i >= STEP_AT ? 7.0 : 0.0);
}

static double step_down_7_at_600(long i, uint64_t *seed)
{
	return 20.0 + gauss(seed) - (i >= STEP_AT ? 7.0 : 0.0);
}

static double step_up_6_at_600(long i, uint64_t *seed)
{
	return 20.0 + gauss(seed) + (i >= STEP_AT ? 6.0 : 0.0);
}

static double step_down_6_at_600(long i, uint64_t *seed)
{
	return 20.0 + gauss(seed) - (i >= STEP_AT ? 6.0 : 0.0);
}

/* the step lasts 100 readings, then the level returns */
static double step_600_to_700(long i, uint64_t *seed)
{
	return 20.0 + gauss(seed) + (i >= STEP_AT && i < STEP_AT + 100 ? 7.0 : 0.0);
}

static void TEST_level_shift_should_raise_a_step_within_persist_plus_half_the_window(void)
{
	uint64_t seed;

	/* default window 8, persist 4: the median crosses after about 4 of the
	 * new readings, then 4 in a row: at most 16 readings late. Seeds 1 to 5
	 * step by 7 sd, 6 to 10 by 6 sd (just over the threshold of 5 spreads:
	 * the reference must not absorb it first) */
	for(seed = 1; seed <= 10; seed++){
		static const series_fn steps[2][2] = {
			{ step_down_7_at_600, step_up_7_at_600 }, { step_down_6_at_600, step_up_6_at_600 }
		};
		double size = seed <= 5 ? 7.0 : 6.0;
		struct detector_under_test d;
		ea_verdict v;
		long raised;
		uint64_t s = seed;
		double from = NAN, to = NAN;

		dut_init(&d, &ea_detector_level_shift, NULL);
		raised = first_raise_in(&d, steps[seed > 5][seed % 2], &s, 0, STEP_AT + 200, &v);
		CU_ASSERT(raised >= STEP_AT);
		CU_ASSERT(raised <= STEP_AT + 16);
		/* the reason names both levels */
		CU_ASSERT_EQUAL(sscanf(v.reason, "level moved from %lf to %lf", &from, &to), 2);
		CU_ASSERT(fabs(from - 20.0) < 0.5);
		CU_ASSERT(fabs(to - (seed % 2 ? 20.0 + size : 20.0 - size)) < 1.5);
		CU_ASSERT(strstr(v.reason, seed % 2 ? "(+" : "(-") != NULL);
		CU_ASSERT(strstr(v.reason, "readings") != NULL);
		CU_ASSERT(v.score >= 0.5);
		dut_free(&d);
	}
}

static void TEST_level_shift_should_not_absorb_a_step_just_over_the_threshold(void)
{
	uint64_t seed;
	long worst = 0;

	/* 6 sd against a threshold of 5 spreads: the median dips under the
	 * threshold now and then; the reference must hold still meanwhile, or
	 * it creeps towards the new level and the step is never raised (a
	 * reference that kept following missed 4 runs of these 200) */
	for(seed = 1; seed <= 200; seed++){
		struct detector_under_test d;
		uint64_t s = seed * 17;
		long raised;

		dut_init(&d, &ea_detector_level_shift, NULL);
		raised = first_raise_in(&d, step_up_6_at_600, &s, 0, STEP_AT + 1000, NULL);
		CU_ASSERT(raised >= STEP_AT);
		if(raised - STEP_AT > worst) worst = raised - STEP_AT;
		dut_free(&d);
	}
	CU_ASSERT(worst <= 50);
}

static void TEST_level_shift_should_ignore_noise_spikes_and_correlated_wander(void)
{
	struct detector_under_test d;
	uint64_t seed = 11;
	double wander = 0.0;
	long i, raises = 0;

	/* 100,000 readings of white noise with a 50-sd spike every 500 */
	dut_init(&d, &ea_detector_level_shift, NULL);
	for(i = 0; i < 100000; i++){
		double x = noise_20(i, &seed) + (i % 500 == 499 ? 50.0 : 0.0);
		if(observe_number(&d, x, i * SECOND_MS, NULL) == EA_VERDICT_ANOMALY) raises++;
	}
	CU_ASSERT_EQUAL(raises, 0);
	dut_free(&d);

	/* 100,000 readings of AR(1) noise (phi 0.9, a sensor sampled faster
	 * than its process moves) */
	dut_init(&d, &ea_detector_level_shift, NULL);
	for(i = 0; i < 100000; i++){
		wander = 0.9 * wander + sqrt(1 - 0.81) * gauss(&seed);
		if(observe_number(&d, 20.0 + wander, i * SECOND_MS, NULL) == EA_VERDICT_ANOMALY) raises++;
	}
	CU_ASSERT_EQUAL(raises, 0);
	dut_free(&d);
}

/* a daily-like cycle of +-8 sd over 4,000 readings: followed, not a step */
static double slow_cycle(long i, uint64_t *seed)
{
	return 20.0 + 8.0 * sin(2.0 * M_PI * (double)i / 4000.0) + gauss(seed);
}

static void TEST_level_shift_should_follow_a_slow_cycle(void)
{
	struct detector_under_test d;
	uint64_t seed = 12;

	dut_init(&d, &ea_detector_level_shift, NULL);
	CU_ASSERT_EQUAL(first_raise_in(&d, slow_cycle, &seed, 0, 40000, NULL), NOT_RAISED);
	dut_free(&d);
}

static void TEST_level_shift_should_clear_when_the_level_returns(void)
{
	struct detector_under_test d;
	uint64_t seed = 13;
	long raised, cleared;

	dut_init(&d, &ea_detector_level_shift, NULL);
	raised = first_raise_in(&d, step_600_to_700, &seed, 0, STEP_AT + 100, NULL);
	CU_ASSERT(raised >= STEP_AT && raised <= STEP_AT + 16);
	/* still raised while the step lasts */
	CU_ASSERT_EQUAL(first_normal_in(&d, step_600_to_700, &seed, raised + 1, STEP_AT + 100), NOT_RAISED);
	/* back: cleared once the median has returned (half the window) */
	cleared = first_normal_in(&d, step_600_to_700, &seed, STEP_AT + 100, STEP_AT + 200);
	CU_ASSERT(cleared >= STEP_AT + 100 && cleared <= STEP_AT + 100 + 8);
	CU_ASSERT_EQUAL(first_raise_in(&d, step_600_to_700, &seed, cleared + 1, 5000, NULL), NOT_RAISED);
	dut_free(&d);
}

static void TEST_level_shift_should_clear_once_the_new_level_is_the_reference(void)
{
	static const char *const settings[] = { "adopt", "50", NULL };
	struct detector_under_test d;
	uint64_t seed = 14;
	ea_verdict v;
	long raised, cleared, i;

	dut_init(&d, &ea_detector_level_shift, settings);
	raised = first_raise_in(&d, step_up_7_at_600, &seed, 0, STEP_AT + 100, NULL);
	CU_ASSERT_FATAL(raised >= STEP_AT && raised <= STEP_AT + 16);
	cleared = first_normal_in(&d, step_up_7_at_600, &seed, raised + 1, raised + 200);
	/* moved for `adopt` readings in all, `persist` of them before the raise */
	CU_ASSERT_EQUAL(cleared, raised + 50 - 4);
	for(i = cleared + 1; i < cleared + 3000; i++){
		if(observe_number(&d, step_up_7_at_600(i, &seed), i * SECOND_MS, &v) == EA_VERDICT_ANOMALY) break;
	}
	CU_ASSERT_EQUAL(i, cleared + 3000); /* the new level is normal now */
	dut_free(&d);
}

static void TEST_level_shift_should_validate_its_parameters_and_skip_booleans(void)
{
	struct detector_under_test d;
	ea_params p;
	char err[200] = "";
	ea_sample s;
	int i;

	ea_params_defaults(&ea_detector_level_shift, &p);
	CU_ASSERT_TRUE(ea_detector_level_shift.validate(&p, err, sizeof(err)));
	p.v[ea_param_index(&ea_detector_level_shift, "adopt")] = 4; /* = persist */
	CU_ASSERT_FALSE(ea_detector_level_shift.validate(&p, err, sizeof(err)));
	CU_ASSERT(strstr(err, "adopt") != NULL && strstr(err, "persist") != NULL);
	CU_ASSERT_TRUE(param_rejected(&ea_detector_level_shift, "window", "33"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_level_shift, "window", "2"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_level_shift, "threshold", "0.5"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_level_shift, "persist", "2.5"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_level_shift, "reference", "5"));
	/* window 32, the largest state: within the declared maximum */
	ea_params_defaults(&ea_detector_level_shift, &p);
	p.v[0] = 32;
	CU_ASSERT(ea_detector_state_size(&ea_detector_level_shift, &p) <= ea_detector_level_shift.state_size);
	CU_ASSERT(ea_detector_state_size(&ea_detector_level_shift, &p) <= 300);

	dut_init(&d, &ea_detector_level_shift, NULL);
	memset(&s, 0, sizeof(s));
	s.ns = s.device = s.property = "x";
	s.event_id = "";
	for(i = 0; i < 100; i++){
		ea_sample_classify(&s, i < 50 ? "false" : "true", EA_TYPE_BOOLEAN);
		CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_SKIP);
	}
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* drift                                                                */

#define RAMP_AT 2000L

/* sd 0.5 around 5; from RAMP_AT a ramp of 0.05 sd per reading */
static double ramp_005(long i, uint64_t *seed)
{
	return 5.0 + 0.5 * gauss(seed) + (i >= RAMP_AT ? 0.05 * 0.5 * (double)(i - RAMP_AT) : 0.0);
}

/* a ramp of 0.001 sd per reading: 1 sd after 1,000 readings */
static double ramp_0001_down(long i, uint64_t *seed)
{
	return 5.0 + 0.5 * gauss(seed) - (i >= RAMP_AT ? 0.001 * 0.5 * (double)(i - RAMP_AT) : 0.0);
}

/* up to +5 sd over 100 readings, held for 200, then back */
static double ramp_hold_return(long i, uint64_t *seed)
{
	double off = 0.0;
	if(i >= RAMP_AT && i < RAMP_AT + 100) off = 0.05 * (double)(i - RAMP_AT);
	else if(i >= RAMP_AT + 100 && i < RAMP_AT + 300) off = 5.0;
	return 5.0 + 0.5 * (gauss(seed) + off);
}

/* up to +5 sd over 100 readings and stays there */
static double ramp_and_settle(long i, uint64_t *seed)
{
	double off = i < RAMP_AT ? 0.0 : fmin(5.0, 0.05 * (double)(i - RAMP_AT));
	return 5.0 + 0.5 * (gauss(seed) + off);
}

static void TEST_drift_should_catch_a_ramp_of_005_sd_within_80_readings(void)
{
	uint64_t seed;

	for(seed = 21; seed <= 25; seed++){
		struct detector_under_test d;
		ea_verdict v;
		uint64_t s = seed;
		long raised;
		const char *learned;

		dut_init(&d, &ea_detector_drift, NULL);
		raised = first_raise_in(&d, ramp_005, &s, 0, RAMP_AT + 500, &v);
		CU_ASSERT(raised >= RAMP_AT);
		CU_ASSERT(raised <= RAMP_AT + 80);
		CU_ASSERT(strstr(v.reason, "drifted up") != NULL);
		learned = strstr(v.reason, "a learned ");
		CU_ASSERT_FATAL(learned != NULL);
		CU_ASSERT(fabs(strtod(learned + strlen("a learned "), NULL) - 5.0) < 0.2);
		dut_free(&d);
	}
}

static void TEST_drift_should_catch_a_ramp_of_0001_sd_within_2500_readings(void)
{
	uint64_t seed;

	/* slower than the baseline could follow if it kept adapting while the
	 * CUSUM rises: it must not absorb the ramp */
	for(seed = 26; seed <= 28; seed++){
		struct detector_under_test d;
		ea_verdict v;
		uint64_t s = seed;
		long raised;

		dut_init(&d, &ea_detector_drift, NULL);
		raised = first_raise_in(&d, ramp_0001_down, &s, 0, RAMP_AT + 5000, &v);
		CU_ASSERT(raised >= RAMP_AT);
		CU_ASSERT(raised <= RAMP_AT + 2500);
		CU_ASSERT(strstr(v.reason, "drifted down") != NULL);
		dut_free(&d);
	}
}

static void TEST_drift_should_stay_quiet_on_300000_readings_of_noise_and_spikes(void)
{
	uint64_t seed;

	for(seed = 31; seed <= 32; seed++){
		struct detector_under_test d;
		uint64_t s = seed;
		long i, raises = 0;

		dut_init(&d, &ea_detector_drift, NULL);
		for(i = 0; i < 300000; i++){
			/* one 30-sd spike in 1,000 readings: spikes are not drift */
			double x = noise_20(i, &s) + (i % 1000 == 999 ? 30.0 : 0.0);
			if(observe_number(&d, x, i * SECOND_MS, NULL) == EA_VERDICT_ANOMALY) raises++;
		}
		CU_ASSERT_EQUAL(raises, 0);
		dut_free(&d);
	}
}

static void TEST_drift_should_clear_when_the_value_returns_or_the_baseline_follows(void)
{
	struct detector_under_test d;
	uint64_t seed = 33;
	long raised, cleared;

	dut_init(&d, &ea_detector_drift, NULL);
	raised = first_raise_in(&d, ramp_hold_return, &seed, 0, RAMP_AT + 100, NULL);
	CU_ASSERT_FATAL(raised >= RAMP_AT && raised <= RAMP_AT + 100);
	CU_ASSERT_EQUAL(first_normal_in(&d, ramp_hold_return, &seed, raised + 1, RAMP_AT + 300), NOT_RAISED);
	cleared = first_normal_in(&d, ramp_hold_return, &seed, RAMP_AT + 300, RAMP_AT + 2000);
	CU_ASSERT(cleared > RAMP_AT + 300 && cleared <= RAMP_AT + 300 + 100);
	dut_free(&d);

	/* settled at +5 sd: told once, kept raised well past the end of the
	 * ramp, cleared once the baseline followed (about 800 readings), then
	 * quiet at the new level */
	dut_init(&d, &ea_detector_drift, NULL);
	raised = first_raise_in(&d, ramp_and_settle, &seed, 0, RAMP_AT + 100, NULL);
	CU_ASSERT_FATAL(raised >= RAMP_AT && raised <= RAMP_AT + 100);
	cleared = first_normal_in(&d, ramp_and_settle, &seed, raised + 1, RAMP_AT + 5000);
	CU_ASSERT(cleared > RAMP_AT + 400 && cleared <= RAMP_AT + 3000);
	CU_ASSERT_EQUAL(first_raise_in(&d, ramp_and_settle, &seed, cleared + 1, cleared + 20000, NULL), NOT_RAISED);
	dut_free(&d);
}

static void TEST_drift_should_score_by_accumulated_drift_and_validate(void)
{
	struct detector_under_test d;
	uint64_t seed = 34;
	ea_verdict first, later;
	long raised, i;

	dut_init(&d, &ea_detector_drift, NULL);
	raised = first_raise_in(&d, ramp_005, &seed, 0, RAMP_AT + 200, &first);
	CU_ASSERT_FATAL(raised != NOT_RAISED);
	for(i = raised + 1; i <= raised + 30; i++) observe_number(&d, ramp_005(i, &seed), i * SECOND_MS, &later);
	CU_ASSERT_EQUAL(later.state, EA_VERDICT_ANOMALY);
	CU_ASSERT(later.score > first.score);
	CU_ASSERT(first.score >= 0.5);
	dut_free(&d);

	CU_ASSERT_TRUE(param_rejected(&ea_detector_drift, "learn", "5"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_drift, "allowance", "-1"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_drift, "threshold", "0"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_drift, "adapt", "0.9"));
	CU_ASSERT(ea_detector_drift.state_size <= 64);
}

/* ------------------------------------------------------------------ */
/* flatline                                                             */

#define FLAT_AT 1000L

/* sd 3 until FLAT_AT, then 1 % of that: the element died, the electronics
 * still add a little noise (no exact repeats: `stuck` cannot see it) */
static double goes_flat(long i, uint64_t *seed)
{
	return 50.0 + (i >= FLAT_AT ? 0.03 : 3.0) * gauss(seed);
}

/* flat for 300 readings only, then healthy again */
static double flat_for_300(long i, uint64_t *seed)
{
	return 50.0 + (i >= FLAT_AT && i < FLAT_AT + 300 ? 0.03 : 3.0) * gauss(seed);
}

/* healthy and quiet from its start */
static double quiet_from_start(long i, uint64_t *seed)
{
	(void)i;
	return 50.0 + 0.03 * gauss(seed);
}

/* constant while learning, healthy from 60, flat from 2,100 */
static double constant_then_healthy_then_flat(long i, uint64_t *seed)
{
	if(i < 60) return 50.0;
	return 50.0 + (i >= 2100 ? 0.03 : 3.0) * gauss(seed);
}

static void TEST_flatline_should_raise_within_80_readings_of_the_signal_going_flat(void)
{
	uint64_t seed;

	/* the recent change averages over about `window` (20) readings: from
	 * healthy to under a tenth takes about 20 x ln(10) = 46 */
	for(seed = 41; seed <= 45; seed++){
		struct detector_under_test d;
		ea_verdict v;
		uint64_t s = seed;
		long raised;

		dut_init(&d, &ea_detector_flatline, NULL);
		raised = first_raise_in(&d, goes_flat, &s, 0, FLAT_AT + 1000, &v);
		CU_ASSERT(raised >= FLAT_AT + 20);
		CU_ASSERT(raised <= FLAT_AT + 80);
		CU_ASSERT(strstr(v.reason, "only jitters") != NULL);
		dut_free(&d);
	}
}

static void TEST_flatline_should_clear_when_the_signal_moves_again(void)
{
	struct detector_under_test d;
	uint64_t seed = 46;
	long raised, cleared;

	dut_init(&d, &ea_detector_flatline, NULL);
	raised = first_raise_in(&d, flat_for_300, &seed, 0, FLAT_AT + 300, NULL);
	CU_ASSERT_FATAL(raised >= FLAT_AT && raised <= FLAT_AT + 80);
	CU_ASSERT_EQUAL(first_normal_in(&d, flat_for_300, &seed, raised + 1, FLAT_AT + 300), NOT_RAISED);
	cleared = first_normal_in(&d, flat_for_300, &seed, FLAT_AT + 300, FLAT_AT + 400);
	CU_ASSERT(cleared >= FLAT_AT + 300 && cleared <= FLAT_AT + 300 + 10);
	CU_ASSERT_EQUAL(first_raise_in(&d, flat_for_300, &seed, cleared + 1, 100000, NULL), NOT_RAISED);
	dut_free(&d);
}

static void TEST_flatline_should_not_raise_a_signal_quiet_from_its_start(void)
{
	static const char *const with_floor[] = { "floor", "0.1", NULL };
	struct detector_under_test d;
	uint64_t seed = 47;
	long raised;

	dut_init(&d, &ea_detector_flatline, NULL);
	CU_ASSERT_EQUAL(first_raise_in(&d, quiet_from_start, &seed, 0, 100000, NULL), NOT_RAISED);
	dut_free(&d);
	/* unless an absolute floor says that quiet is too quiet: typical change
	 * 0.034 per reading is under 0.1, raised once learnt plus a window */
	dut_init(&d, &ea_detector_flatline, with_floor);
	raised = first_raise_in(&d, quiet_from_start, &seed, 0, 1000, NULL);
	CU_ASSERT(raised >= 50 + 20 && raised <= 50 + 20 + 2);
	dut_free(&d);
}

static void TEST_flatline_should_judge_a_signal_constant_while_learning_only_by_floor(void)
{
	static const char *const with_floor[] = { "floor", "0.1", NULL };
	struct detector_under_test d;
	uint64_t seed = 48;
	long raised;

	/* plateaus were its normal: no opinion without a floor */
	dut_init(&d, &ea_detector_flatline, NULL);
	CU_ASSERT_EQUAL(first_raise_in(&d, constant_then_healthy_then_flat, &seed, 0, 4000, NULL), NOT_RAISED);
	dut_free(&d);
	/* with one, the healthy stretch is fine and the flat one raised */
	dut_init(&d, &ea_detector_flatline, with_floor);
	raised = first_raise_in(&d, constant_then_healthy_then_flat, &seed, 0, 4000, NULL);
	CU_ASSERT(raised >= 2100 && raised <= 2100 + 80);
	dut_free(&d);
}

static void TEST_flatline_should_stay_quiet_on_300000_readings_of_noise(void)
{
	struct detector_under_test d;
	uint64_t seed = 49;
	long i, raises = 0;

	dut_init(&d, &ea_detector_flatline, NULL);
	for(i = 0; i < 300000; i++){
		/* noise quantised to the sensor's resolution of 0.1 */
		double x = round((20.0 + 0.3 * gauss(&seed)) * 10.0) / 10.0;
		if(observe_number(&d, x, i * SECOND_MS, NULL) == EA_VERDICT_ANOMALY) raises++;
	}
	CU_ASSERT_EQUAL(raises, 0);
	dut_free(&d);
	CU_ASSERT_TRUE(param_rejected(&ea_detector_flatline, "ratio", "1"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_flatline, "floor", "-0.1"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_flatline, "window", "2"));
	CU_ASSERT(ea_detector_flatline.state_size <= 64);
}

/* ------------------------------------------------------------------ */
/* rate                                                                 */

static void TEST_rate_should_raise_a_glitch_once_and_clear_on_the_return(void)
{
	static const char *const settings[] = { "max_rate", "2", NULL };
	struct detector_under_test d;
	uint64_t seed = 51;
	ea_verdict v;
	long i;

	/* a tank filling at 1.5 cm/s with 0.05 cm of noise, one reading a
	 * second; at reading 50 one glitch of +30 cm */
	dut_init(&d, &ea_detector_rate, settings);
	for(i = 0; i < 100; i++){
		double x = 100.0 + 1.5 * (double)i + 0.05 * gauss(&seed) + (i == 50 ? 30.0 : 0.0);
		ea_verdict_state st = observe_number(&d, x, T0_MS + i * SECOND_MS, &v);
		if(i == 0) CU_ASSERT_EQUAL(st, EA_VERDICT_SKIP);
		if(i > 0 && i != 50) CU_ASSERT_EQUAL(st, EA_VERDICT_NORMAL); /* the return too */
		if(i == 50){
			CU_ASSERT_EQUAL(st, EA_VERDICT_ANOMALY);
			CU_ASSERT(strstr(v.reason, "per second") != NULL && strstr(v.reason, "at most 2 per second") != NULL);
		}
	}
	dut_free(&d);
}

static void TEST_rate_should_adopt_a_jump_that_stays(void)
{
	static const char *const settings[] = { "max_rate", "2", NULL };
	struct detector_under_test d;
	ea_verdict v;
	long i;

	dut_init(&d, &ea_detector_rate, settings);
	for(i = 0; i < 100; i++){
		double x = i < 50 ? 10.0 : 40.0; /* re-mounted sensor: a new level */
		ea_verdict_state st = observe_number(&d, x, T0_MS + i * SECOND_MS, &v);
		if(i == 50) CU_ASSERT_EQUAL(st, EA_VERDICT_ANOMALY);
		if(i == 51) CU_ASSERT(strstr(v.reason, "new reference") != NULL);
		if(i > 50) CU_ASSERT_EQUAL(st, EA_VERDICT_NORMAL);
	}
	dut_free(&d);
}

static void TEST_rate_should_divide_by_sample_time_not_by_readings(void)
{
	static const char *const settings[] = { "max_rate", "2", NULL };
	struct detector_under_test d;

	dut_init(&d, &ea_detector_rate, settings);
	observe_number(&d, 0.0, T0_MS, NULL);
	CU_ASSERT_EQUAL(observe_number(&d, 15.0, T0_MS + 10 * SECOND_MS, NULL), EA_VERDICT_NORMAL);  /* 1.5/s */
	CU_ASSERT_EQUAL(observe_number(&d, 16.0, T0_MS + 10500, NULL), EA_VERDICT_NORMAL);           /* 2/s: at the limit */
	CU_ASSERT_EQUAL(observe_number(&d, 18.0, T0_MS + 11000, NULL), EA_VERDICT_ANOMALY);          /* 4/s */
	dut_free(&d);
}

static void TEST_rate_should_handle_equal_and_backward_sample_times(void)
{
	static const char *const rate_only[] = { "max_rate", "2", NULL };
	static const char *const with_step[] = { "max_rate", "2", "max_step", "5", NULL };
	struct detector_under_test d;
	ea_verdict v;

	dut_init(&d, &ea_detector_rate, rate_only);
	observe_number(&d, 10.0, T0_MS, NULL);
	CU_ASSERT_EQUAL(observe_number(&d, 11.0, T0_MS + SECOND_MS, NULL), EA_VERDICT_NORMAL);
	/* no time passed: nothing to divide by, no opinion (and no division) */
	CU_ASSERT_EQUAL(observe_number(&d, 500.0, T0_MS + SECOND_MS, NULL), EA_VERDICT_SKIP);
	/* from a minute ago (a late reading): no opinion either */
	CU_ASSERT_EQUAL(observe_number(&d, -500.0, T0_MS - 60 * SECOND_MS, NULL), EA_VERDICT_SKIP);
	/* neither became the reference: the next good reading is plausible */
	CU_ASSERT_EQUAL(observe_number(&d, 12.0, T0_MS + 2 * SECOND_MS, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);

	dut_init(&d, &ea_detector_rate, with_step);
	observe_number(&d, 10.0, T0_MS, NULL);
	/* with max_step, the step alone is judged */
	CU_ASSERT_EQUAL(observe_number(&d, 13.0, T0_MS, &v), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_number(&d, 30.0, T0_MS, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "in one reading") != NULL);
	CU_ASSERT_EQUAL(observe_number(&d, 11.0, T0_MS + SECOND_MS, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static void TEST_rate_should_score_by_severity_and_require_a_limit(void)
{
	static const char *const settings[] = { "max_rate", "2", NULL };
	struct detector_under_test d;
	ea_verdict mild, wild;
	ea_params p;
	char err[200] = "";

	dut_init(&d, &ea_detector_rate, settings);
	observe_number(&d, 0.0, T0_MS, NULL);
	observe_number(&d, 3.0, T0_MS + SECOND_MS, &mild);        /* 1.5 x the limit */
	observe_number(&d, 0.0, T0_MS + 2 * SECOND_MS, NULL);     /* back */
	observe_number(&d, 40.0, T0_MS + 3 * SECOND_MS, &wild);   /* 20 x */
	CU_ASSERT_EQUAL(mild.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(wild.state, EA_VERDICT_ANOMALY);
	CU_ASSERT(mild.score >= 0.5 && mild.score < wild.score && wild.score <= 1.0);
	dut_free(&d);

	ea_params_defaults(&ea_detector_rate, &p);
	CU_ASSERT_FALSE(ea_detector_rate.validate(&p, err, sizeof(err)));
	CU_ASSERT(strstr(err, "max_rate") != NULL);
	CU_ASSERT_TRUE(param_rejected(&ea_detector_rate, "max_rate", "-1"));
	CU_ASSERT_TRUE(param_rejected(&ea_detector_rate, "max_rate", "fast"));
	CU_ASSERT(ea_detector_rate.state_size <= 48);
}

/* ------------------------------------------------------------------ */
/* From one YAML config, through the engine                             */

struct first_results {
	long raised_at[4];  /* per property, the reading of the first raise */
	long cleared_at[4]; /* and of the first clear after it */
	char kind[4][32];
	long current;       /* the reading being fed */
};

static const char *const engine_properties[4] = { "level", "slow", "hum", "tank" };

static void record_result(void *ctx, const ea_result *r)
{
	struct first_results *fr = ctx;
	int k;

	for(k = 0; k < 4; k++){
		if(strcmp(r->property, engine_properties[k]) != 0) continue;
		if(r->anomaly && fr->raised_at[k] == NOT_RAISED){
			fr->raised_at[k] = fr->current;
			snprintf(fr->kind[k], sizeof(fr->kind[k]), "%s", r->kind);
		}else if(!r->anomaly && fr->raised_at[k] != NOT_RAISED && fr->cleared_at[k] == NOT_RAISED){
			fr->cleared_at[k] = fr->current;
		}
	}
}

static void TEST_all_four_should_work_from_yaml_through_the_engine(void)
{
	static const char yaml[] =
		"routes:\n"
		"  - match: {property: level}\n"
		"    detectors: [{level_shift: {window: 6, threshold: 6, persist: 3, learn: 40, adopt: 100, reference: 50}}]\n"
		"  - match: {property: slow}\n"
		"    detectors: [{drift: {learn: 50, allowance: 0.5, threshold: 8, adapt: 0.0005}}]\n"
		"  - match: {property: hum}\n"
		"    detectors: [{flatline: {learn: 40, window: 10, ratio: 0.2}}]\n"
		"  - match: {property: tank}\n"
		"    detectors: [{rate: {max_rate: 2, max_step: 50}}]\n";
	struct first_results fr;
	ea_config_error err;
	ea_config *cfg;
	ea_engine *e;
	uint64_t seed = 61;
	char text[64];
	long i;
	int k;

	cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "four.yaml", &err);
	if(cfg == NULL) fprintf(stderr, "%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	for(k = 0; k < 4; k++){
		fr.raised_at[k] = fr.cleared_at[k] = NOT_RAISED;
		fr.kind[k][0] = '\0';
	}
	e = ea_engine_new(cfg, 100, record_result, &fr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for(i = 0; i < 800; i++){
		double values[4];
		values[0] = 10.0 + 0.2 * gauss(&seed) + (i >= 300 && i < 400 ? 3.0 : 0.0); /* step 300..400 */
		values[1] = 5.0 + 0.5 * gauss(&seed) + (i >= 300 ? 0.025 * (double)(i - 300) : 0.0); /* 0.05 sd/reading */
		values[2] = 50.0 + (i >= 300 && i < 500 ? 0.01 : 1.0) * gauss(&seed);   /* flat 300..500 */
		values[3] = 100.0 + 1.0 * (double)i + (i == 300 ? 20.0 : 0.0);           /* a glitch at 300 */
		fr.current = i;
		for(k = 0; k < 4; k++){
			ea_sample s = reading(values[k], T0_MS + i * SECOND_MS, text);
			s.device = "tank-1";
			s.property = engine_properties[k];
			ea_engine_sample(e, &s);
		}
	}
	CU_ASSERT_STRING_EQUAL(fr.kind[0], "level-shift");
	CU_ASSERT(fr.raised_at[0] >= 300 && fr.raised_at[0] <= 300 + 12);
	CU_ASSERT(fr.cleared_at[0] >= 400 && fr.cleared_at[0] <= 400 + 6);
	CU_ASSERT_STRING_EQUAL(fr.kind[1], "drift");
	CU_ASSERT(fr.raised_at[1] >= 300 && fr.raised_at[1] <= 300 + 80);
	CU_ASSERT_STRING_EQUAL(fr.kind[2], "flatline");
	CU_ASSERT(fr.raised_at[2] >= 300 && fr.raised_at[2] <= 300 + 40);
	CU_ASSERT(fr.cleared_at[2] >= 500 && fr.cleared_at[2] <= 500 + 10);
	CU_ASSERT_STRING_EQUAL(fr.kind[3], "rate-of-change");
	CU_ASSERT_EQUAL(fr.raised_at[3], 300);
	CU_ASSERT_EQUAL(fr.cleared_at[3], 301);
	ea_engine_free(e);
	ea_config_free(cfg);
}

static void TEST_yaml_should_report_parameters_that_do_not_fit_together(void)
{
	static const char bad_adopt[] =
		"routes:\n"
		"  - match: {property: level}\n"
		"    detectors: [{level_shift: {persist: 10, adopt: 5}}]\n";
	static const char no_limit[] =
		"routes:\n"
		"  - match: {property: tank}\n"
		"    detectors: [{rate: {}}]\n";
	static const char bad_value[] =
		"routes:\n"
		"  - match: {property: slow}\n"
		"    detectors: [{drift: {threshold: lots}}]\n";
	ea_config_error err;
	ea_config *cfg;

	cfg = ea_config_load_string(bad_adopt, sizeof(bad_adopt) - 1, "a.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "a.yaml:3:") != NULL);
	CU_ASSERT(strstr(err.message, "adopt") != NULL);
	ea_config_free(cfg);
	cfg = ea_config_load_string(no_limit, sizeof(no_limit) - 1, "b.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "max_rate") != NULL);
	ea_config_free(cfg);
	cfg = ea_config_load_string(bad_value, sizeof(bad_value) - 1, "c.yaml", &err);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(err.message, "threshold") != NULL && strstr(err.message, "lots") != NULL);
	ea_config_free(cfg);
}

#define TEST(fn) { #fn, fn }

void init_detectors_more_a_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_level_shift_should_raise_a_step_within_persist_plus_half_the_window),
		TEST(TEST_level_shift_should_not_absorb_a_step_just_over_the_threshold),
		TEST(TEST_level_shift_should_ignore_noise_spikes_and_correlated_wander),
		TEST(TEST_level_shift_should_follow_a_slow_cycle),
		TEST(TEST_level_shift_should_clear_when_the_level_returns),
		TEST(TEST_level_shift_should_clear_once_the_new_level_is_the_reference),
		TEST(TEST_level_shift_should_validate_its_parameters_and_skip_booleans),
		TEST(TEST_drift_should_catch_a_ramp_of_005_sd_within_80_readings),
		TEST(TEST_drift_should_catch_a_ramp_of_0001_sd_within_2500_readings),
		TEST(TEST_drift_should_stay_quiet_on_300000_readings_of_noise_and_spikes),
		TEST(TEST_drift_should_clear_when_the_value_returns_or_the_baseline_follows),
		TEST(TEST_drift_should_score_by_accumulated_drift_and_validate),
		TEST(TEST_flatline_should_raise_within_80_readings_of_the_signal_going_flat),
		TEST(TEST_flatline_should_clear_when_the_signal_moves_again),
		TEST(TEST_flatline_should_not_raise_a_signal_quiet_from_its_start),
		TEST(TEST_flatline_should_judge_a_signal_constant_while_learning_only_by_floor),
		TEST(TEST_flatline_should_stay_quiet_on_300000_readings_of_noise),
		TEST(TEST_rate_should_raise_a_glitch_once_and_clear_on_the_return),
		TEST(TEST_rate_should_adopt_a_jump_that_stays),
		TEST(TEST_rate_should_divide_by_sample_time_not_by_readings),
		TEST(TEST_rate_should_handle_equal_and_backward_sample_times),
		TEST(TEST_rate_should_score_by_severity_and_require_a_limit),
		TEST(TEST_all_four_should_work_from_yaml_through_the_engine),
		TEST(TEST_yaml_should_report_parameters_that_do_not_fit_together),
	};
	CU_pSuite suite = CU_add_suite("detectors_more_a", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) CU_add_test(suite, tests[i].name, tests[i].fn);
}
