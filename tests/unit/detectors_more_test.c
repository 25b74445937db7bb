/* SPDX-License-Identifier: Apache-2.0
 *
 * detectors_more_test.c - level_shift, drift, flatline, rate, delay,
 * out_of_order (the order detectors in detectors_more_b_test.c),
 * envelope and desired on generated series whose truth is known: each
 * raised where the trouble starts (within a stated delay) and not before,
 * quiet on clean seeded noise, cleared when the trouble ends; and all of
 * them from a YAML config through the engine, with results of their kind.
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

/* One detector instance with its own state, as the engine would hold it. */
struct inst {
	const ea_detector_type *type;
	ea_params params;
	void *state; /* owned */
};

static void inst_init(struct inst *d, const ea_detector_type *type, const char *const *settings)
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
	d->state = calloc(1, ea_detector_state_size(type, &d->params) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->state);
}

static void inst_free(struct inst *d)
{
	free(d->state);
	d->state = NULL;
}

static ea_sample sample_at(double x, int64_t t_ms)
{
	static char text[64];
	ea_sample s;

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "dev";
	s.property = "p";
	snprintf(text, sizeof(text), "%.15g", x);
	ea_sample_classify(&s, text, EA_TYPE_NONE);
	s.time_ms = t_ms;
	s.arrival_ms = t_ms;
	s.has_time = true;
	s.event_id = "";
	s.source = EA_SOURCE_REPLAY;
	return s;
}

static ea_verdict_state feed(struct inst *d, const ea_sample *s, ea_verdict *out)
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

static ea_verdict_state feed_number(struct inst *d, double x, int64_t t_ms)
{
	ea_sample s = sample_at(x, t_ms);
	return feed(d, &s, NULL);
}

/* Standard normal noise from a seeded generator (Box-Muller). */
static double gauss(uint64_t *seed)
{
	double u1, u2;

	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	u1 = ((double)(*seed >> 11) + 0.5) / 9007199254740992.0;
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	u2 = ((double)(*seed >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Feeds n readings of gen(i) and returns the index of the first raise, or
 * -1; readings before `quiet_until` must not raise. */
static long first_raise(struct inst *d, long from, long n, double (*gen)(long, uint64_t *), uint64_t *seed)
{
	long i;

	for(i = from; i < from + n; i++)
		if(feed_number(d, gen(i, seed), i * SECOND_MS) == EA_VERDICT_ANOMALY) return i;
	return -1;
}

/* ------------------------------------------------------------------ */

static double noise_at_20(long i, uint64_t *seed)
{
	(void)i;
	return 20.0 + gauss(seed);
}

static double step_at_1000(long i, uint64_t *seed)
{
	return (i >= 1000 ? 28.0 : 20.0) + gauss(seed);
}

static void TEST_level_shift_should_raise_a_step_and_not_a_spike(void)
{
	struct inst d;
	uint64_t seed = 1;
	long i, raised;

	inst_init(&d, &ea_detector_level_shift, NULL);
	/* one wild reading in clean noise: not a level shift */
	CU_ASSERT_EQUAL(first_raise(&d, 0, 500, noise_at_20, &seed), -1);
	CU_ASSERT_NOT_EQUAL(feed_number(&d, 80.0, 500 * SECOND_MS), EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(first_raise(&d, 501, 499, noise_at_20, &seed), -1);
	/* a step of 8 sd at reading 1000: raised within persist + window/2 */
	raised = first_raise(&d, 1000, 100, step_at_1000, &seed);
	CU_ASSERT(raised >= 1000 && raised <= 1000 + 4 + 8);
	/* the new level becomes the reference after `adopt` readings: cleared */
	for(i = raised + 1; i < raised + 400; i++)
		if(feed_number(&d, step_at_1000(i, &seed), i * SECOND_MS) == EA_VERDICT_NORMAL) break;
	CU_ASSERT(i < raised + 400);
	CU_ASSERT_EQUAL(first_raise(&d, i + 1, 2000, step_at_1000, &seed), -1);
	inst_free(&d);
}

static double ramp_from_2000(long i, uint64_t *seed)
{
	return 5.0 + 0.5 * gauss(seed) + (i >= 2000 ? 0.05 * 0.5 * (double)(i - 2000) : 0.0);
}

static void TEST_drift_should_catch_a_slow_ramp_and_stay_quiet_on_noise(void)
{
	struct inst d, quiet;
	uint64_t seed = 2;
	long raised, i;
	int raises = 0;

	inst_init(&d, &ea_detector_drift, NULL);
	/* a ramp of 0.05 sd per reading from reading 2000 */
	raised = first_raise(&d, 0, 2200, ramp_from_2000, &seed);
	CU_ASSERT(raised >= 2000 && raised <= 2000 + 80);
	inst_free(&d);

	/* 300,000 readings of stationary noise: never */
	inst_init(&quiet, &ea_detector_drift, NULL);
	for(i = 0; i < 300000; i++)
		if(feed_number(&quiet, noise_at_20(i, &seed), i * SECOND_MS) == EA_VERDICT_ANOMALY) raises++;
	CU_ASSERT_EQUAL(raises, 0);
	inst_free(&quiet);
}

static void TEST_drift_should_clear_when_the_value_returns(void)
{
	struct inst d;
	uint64_t seed = 3;
	long i, cleared = -1;

	inst_init(&d, &ea_detector_drift, NULL);
	CU_ASSERT_NOT_EQUAL(first_raise(&d, 0, 2200, ramp_from_2000, &seed), -1);
	for(i = 2200; i < 4000; i++){
		if(feed_number(&d, 5.0 + 0.5 * gauss(&seed), i * SECOND_MS) == EA_VERDICT_NORMAL){
			cleared = i;
			break;
		}
	}
	CU_ASSERT(cleared > 0);
	inst_free(&d);
}

static double flat_from_800(long i, uint64_t *seed)
{
	/* healthy: a wandering signal; from 800 only 1 % of its movement */
	return 50.0 + (i >= 800 ? 0.01 : 1.0) * 3.0 * gauss(seed);
}

static void TEST_flatline_should_raise_when_the_signal_only_jitters(void)
{
	struct inst d, healthy_quiet;
	uint64_t seed = 4;
	long raised;

	inst_init(&d, &ea_detector_flatline, NULL);
	raised = first_raise(&d, 0, 1000, flat_from_800, &seed);
	CU_ASSERT(raised >= 800 && raised <= 800 + 60);
	inst_free(&d);
	/* a signal that is quiet from its start is its own normal */
	inst_init(&healthy_quiet, &ea_detector_flatline, NULL);
	CU_ASSERT_EQUAL(first_raise(&healthy_quiet, 800, 5000, flat_from_800, &seed), -1);
	inst_free(&healthy_quiet);
}

static void TEST_rate_should_raise_an_implausible_rate_per_second(void)
{
	static const char *const settings[] = { "max_rate", "2", NULL };
	struct inst d;
	ea_verdict v;
	ea_sample s;
	char err[200];
	ea_params none;

	inst_init(&d, &ea_detector_rate, settings);
	CU_ASSERT_EQUAL(feed_number(&d, 100.0, 0), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(feed_number(&d, 101.5, 1 * SECOND_MS), EA_VERDICT_NORMAL);  /* 1.5/s */
	CU_ASSERT_EQUAL(feed_number(&d, 111.5, 6 * SECOND_MS), EA_VERDICT_NORMAL);  /* 2/s exactly */
	CU_ASSERT_EQUAL(feed_number(&d, 131.5, 7 * SECOND_MS), EA_VERDICT_ANOMALY); /* 20/s */
	CU_ASSERT_EQUAL(feed_number(&d, 132.0, 8 * SECOND_MS), EA_VERDICT_NORMAL);  /* cleared */
	/* the same sample time again: nothing to divide by, no opinion on rate */
	s = sample_at(500.0, 8 * SECOND_MS);
	CU_ASSERT_EQUAL(feed(&d, &s, &v), EA_VERDICT_SKIP);
	inst_free(&d);
	/* at least one limit is required */
	ea_params_defaults(&ea_detector_rate, &none);
	CU_ASSERT_FALSE(ea_detector_rate.validate(&none, err, sizeof(err)));
	CU_ASSERT(strstr(err, "max_rate") != NULL);
}

static void TEST_delay_should_raise_old_and_future_readings_with_a_timestamp(void)
{
	struct inst d;
	ea_sample s;

	inst_init(&d, &ea_detector_delay, NULL);
	s = sample_at(1.0, 1000000);
	s.arrival_ms = s.time_ms + 2000;
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_NORMAL);
	s.arrival_ms = s.time_ms + 10 * 60 * SECOND_MS; /* ten minutes old */
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_ANOMALY);
	s.arrival_ms = s.time_ms - 60 * SECOND_MS; /* a minute in the future */
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_ANOMALY);
	s.arrival_ms = s.time_ms + 10 * 60 * SECOND_MS;
	s.has_time = false; /* the time was the arrival: nothing to judge */
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_SKIP);
	inst_free(&d);
}

static void TEST_envelope_should_raise_values_the_device_cannot_produce(void)
{
	struct inst d;
	ea_sample s;
	ea_verdict v;
	uint64_t seed = 5;
	long i;

	inst_init(&d, &ea_detector_envelope, NULL);
	/* a thermometer with 0.1 resolution between about 18 and 24 */
	for(i = 0; i < 400; i++){
		char text[32];
		snprintf(text, sizeof(text), "%.1f", 21.0 + fmax(-3.0, fmin(3.0, gauss(&seed))));
		s = sample_at(0, i * SECOND_MS);
		ea_sample_classify(&s, text, EA_TYPE_FLOAT);
		CU_ASSERT_NOT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_ANOMALY);
	}
	s = sample_at(0, i * SECOND_MS);
	ea_sample_classify(&s, "23.4567", EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(feed(&d, &s, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "decimal places") != NULL);
	s = sample_at(0, i * SECOND_MS);
	ea_sample_classify(&s, "95.0", EA_TYPE_FLOAT); /* Fahrenheit? */
	CU_ASSERT_EQUAL(feed(&d, &s, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "outside") != NULL);
	s = sample_at(0, i * SECOND_MS);
	ea_sample_classify(&s, "24.6", EA_TYPE_FLOAT); /* a little beyond: widens it */
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_NORMAL);
	inst_free(&d);
}

static void TEST_desired_should_raise_when_reported_does_not_follow(void)
{
	static const char *const settings[] = { "timeout", "30s", "tolerance", "0.5", NULL };
	struct inst d;
	ea_sample s;
	ea_verdict v;

	inst_init(&d, &ea_detector_desired, settings);
	s = sample_at(40.0, 0);
	s.desired = true;
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_SKIP); /* just set */
	CU_ASSERT_EQUAL(feed_number(&d, 10.0, 10 * SECOND_MS), EA_VERDICT_SKIP); /* still moving */
	CU_ASSERT_EQUAL(feed_number(&d, 12.0, 31 * SECOND_MS), EA_VERDICT_ANOMALY);
	/* the device goes quiet: the idle check keeps it raised */
	memset(&v, 0, sizeof(v));
	ea_detector_desired.idle(&d.params, d.state, 90 * SECOND_MS, &v);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	/* it gets there (within the tolerance): cleared */
	CU_ASSERT_EQUAL(feed_number(&d, 39.6, 95 * SECOND_MS), EA_VERDICT_NORMAL);
	/* the same desired value sent again does not restart the clock; a new one does */
	s = sample_at(40.0, 100 * SECOND_MS);
	s.desired = true;
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_NORMAL);
	s = sample_at(60.0, 100 * SECOND_MS);
	s.desired = true;
	CU_ASSERT_EQUAL(feed(&d, &s, NULL), EA_VERDICT_SKIP);
	memset(&v, 0, sizeof(v));
	ea_detector_desired.idle(&d.params, d.state, 120 * SECOND_MS, &v);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_SKIP);
	ea_detector_desired.idle(&d.params, d.state, 131 * SECOND_MS, &v);
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	inst_free(&d);
}

static void TEST_verdict_reasons_are_formatted_only_when_read(void)
{
	ea_verdict v;

	memset(&v, 0, sizeof(v));
	ea_verdict_set(&v, EA_VERDICT_ANOMALY, 0.9, 0.9, "value %d", 7);
	CU_ASSERT_STRING_EQUAL(v.reason, "value 7");
	v.quiet_anomaly = true; /* already raised, no repeat due */
	ea_verdict_set(&v, EA_VERDICT_ANOMALY, 0.9, 0.9, "value %d", 8);
	CU_ASSERT_STRING_EQUAL(v.reason, "");
	CU_ASSERT_EQUAL(v.state, EA_VERDICT_ANOMALY);
	CU_ASSERT_DOUBLE_EQUAL(v.score, 0.9, 1e-12);
	v.explain_normal = false;
	ea_verdict_set(&v, EA_VERDICT_NORMAL, 0.0, 1.0, "fine %d", 9);
	CU_ASSERT_STRING_EQUAL(v.reason, "");
	v.explain_normal = true;
	ea_verdict_set(&v, EA_VERDICT_NORMAL, 0.0, 1.0, "fine %d", 9);
	CU_ASSERT_STRING_EQUAL(v.reason, "fine 9");
}

/* ------------------------------------------------------------------ */
/* From the YAML, through the engine                                   */

struct kinds_seen {
	char kinds[16][32];
	size_t count;
};

static void remember_kind(void *ctx, const ea_result *r)
{
	struct kinds_seen *k = ctx;
	size_t i;

	if(!r->anomaly) return;
	for(i = 0; i < k->count; i++) if(strcmp(k->kinds[i], r->kind) == 0) return;
	if(k->count < 16) snprintf(k->kinds[k->count++], sizeof(k->kinds[0]), "%s", r->kind);
}

static bool seen(const struct kinds_seen *k, const char *kind)
{
	size_t i;
	for(i = 0; i < k->count; i++) if(strcmp(k->kinds[i], kind) == 0) return true;
	return false;
}

static void TEST_new_detectors_should_work_from_the_yaml_through_the_engine(void)
{
	static const char yaml[] =
		"routes:\n"
		"  - match: {property: level}\n"
		"    detectors: [{level_shift: {persist: 3}}, {rate: {max_rate: 5}}, {envelope: {learn: 50}}]\n"
		"  - match: {property: slow}\n"
		"    detectors: [{drift: {learn: 50, threshold: 10}}, {flatline: {learn: 20, window: 10}}]\n"
		"  - match: {property: valve}\n"
		"    detectors: [{desired: {timeout: 10s}}, {delay: {max_delay: 1m}}, out_of_order]\n";
	struct kinds_seen k = { .count = 0 };
	ea_config_error err;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "t.yaml", &err);
	ea_engine *e;
	uint64_t seed = 9;
	int64_t t0 = 1761552000000LL;
	long i;
	char payload[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 100, remember_kind, &k);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for(i = 0; i < 300; i++){
		double level = (i < 200 ? 10.0 : 30.0) + 0.2 * gauss(&seed);
		double slow = 5.0 + 0.5 * gauss(&seed) + (i >= 100 ? 0.05 * (double)(i - 100) : 0.0);
		snprintf(payload, sizeof(payload),
				"{\"event_id\":\"e%ld\",\"timestamp\":%lld,\"twin\":{"
				"\"level\":{\"actual\":{\"value\":\"%.2f\"}},"
				"\"slow\":{\"actual\":{\"value\":\"%.3f\"}}}}",
				i, (long long)(t0 + i * SECOND_MS), level, slow);
		ea_engine_message(e, "$hw/events/device/tank-1/twin/update", strlen("$hw/events/device/tank-1/twin/update"),
				payload, strlen(payload), t0 + i * SECOND_MS);
	}
	/* the valve: desired 40, reported stays at 0; one old reading */
	snprintf(payload, sizeof(payload),
			"{\"event_id\":\"v1\",\"timestamp\":%lld,\"twin\":{\"valve\":{\"expected\":{\"value\":\"40\"},"
			"\"actual\":{\"value\":\"0\"}}}}", (long long)t0);
	ea_engine_message(e, "$hw/events/device/valve-1/twin/update", strlen("$hw/events/device/valve-1/twin/update"),
			payload, strlen(payload), t0);
	snprintf(payload, sizeof(payload),
			"{\"event_id\":\"v2\",\"timestamp\":%lld,\"twin\":{\"valve\":{\"actual\":{\"value\":\"0\"}}}}",
			(long long)(t0 - 600 * SECOND_MS));
	ea_engine_message(e, "$hw/events/device/valve-1/twin/update", strlen("$hw/events/device/valve-1/twin/update"),
			payload, strlen(payload), t0 + 1000);
	ea_engine_idle(e, t0 + 20 * SECOND_MS);

	CU_ASSERT_TRUE(seen(&k, "level-shift"));
	CU_ASSERT_TRUE(seen(&k, "rate-of-change"));
	CU_ASSERT_TRUE(seen(&k, "injected"));
	CU_ASSERT_TRUE(seen(&k, "drift"));
	CU_ASSERT_TRUE(seen(&k, "desired-mismatch"));
	CU_ASSERT_TRUE(seen(&k, "delay"));
	CU_ASSERT_TRUE(seen(&k, "out-of-order")); /* the old reading */
	ea_engine_free(e);
	ea_config_free(cfg);
}

void init_detectors_more_tests(void)
{
	CU_pSuite s = CU_add_suite("detectors_more", NULL, NULL);
	CU_add_test(s, "TEST_level_shift_should_raise_a_step_and_not_a_spike", TEST_level_shift_should_raise_a_step_and_not_a_spike);
	CU_add_test(s, "TEST_drift_should_catch_a_slow_ramp_and_stay_quiet_on_noise",
			TEST_drift_should_catch_a_slow_ramp_and_stay_quiet_on_noise);
	CU_add_test(s, "TEST_drift_should_clear_when_the_value_returns", TEST_drift_should_clear_when_the_value_returns);
	CU_add_test(s, "TEST_flatline_should_raise_when_the_signal_only_jitters",
			TEST_flatline_should_raise_when_the_signal_only_jitters);
	CU_add_test(s, "TEST_rate_should_raise_an_implausible_rate_per_second", TEST_rate_should_raise_an_implausible_rate_per_second);
	CU_add_test(s, "TEST_delay_should_raise_old_and_future_readings_with_a_timestamp",
			TEST_delay_should_raise_old_and_future_readings_with_a_timestamp);
	CU_add_test(s, "TEST_envelope_should_raise_values_the_device_cannot_produce",
			TEST_envelope_should_raise_values_the_device_cannot_produce);
	CU_add_test(s, "TEST_desired_should_raise_when_reported_does_not_follow",
			TEST_desired_should_raise_when_reported_does_not_follow);
	CU_add_test(s, "TEST_verdict_reasons_are_formatted_only_when_read", TEST_verdict_reasons_are_formatted_only_when_read);
	CU_add_test(s, "TEST_new_detectors_should_work_from_the_yaml_through_the_engine",
			TEST_new_detectors_should_work_from_the_yaml_through_the_engine);
}
