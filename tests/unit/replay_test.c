/* SPDX-License-Identifier: Apache-2.0
 *
 * replay_test.c - unit tests of what `edge-anomaly replay` needs from the
 * library: the engine's per-verdict hook (ea_engine_set_verdict_fn), which
 * gives replay a score for every row where results only report changes.
 *
 * Series are generated with a seeded generator: Gaussian noise with a spike
 * injected at a known index (the hook must see the spike detector's ANOMALY
 * there and no ANOMALY before), and clean bounded noise (no ANOMALY at
 * all; Gaussian tails would make that a matter of luck). The
 * timestamp parser replay uses is tested in util_test.c; the CLI itself in
 * tests/integration/test_replay.py.
 */
#include "unit_tests.h"

#include "ea_engine.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define T0 INT64_C(1793491200000) /* 2026-11-01T00:00:00Z */
#define MAX_ROWS 5000
#define MAX_CHAIN 4

/* What the hook saw, per row (sample) and chain position. */
struct seen {
	size_t rows;                   /* samples fed so far */
	size_t calls;                  /* hook calls in all */
	size_t calls_this_row;
	const ea_detector_type *type[MAX_ROWS][MAX_CHAIN];
	ea_verdict_state state[MAX_ROWS][MAX_CHAIN];
	double score[MAX_ROWS][MAX_CHAIN];
	bool anomaly_without_reason;
	bool bad_score;
	int64_t last_time_ms;
};

static void on_verdict(void *ctx, const ea_sample *sample, const ea_detector_type *type, const ea_verdict *v)
{
	struct seen *s = ctx;
	size_t row = s->rows, slot = s->calls_this_row++;

	s->calls++;
	s->last_time_ms = sample->time_ms;
	if(row >= MAX_ROWS || slot >= MAX_CHAIN) return;
	s->type[row][slot] = type;
	s->state[row][slot] = v->state;
	s->score[row][slot] = v->score;
	if(v->state == EA_VERDICT_ANOMALY && v->reason[0] == '\0') s->anomaly_without_reason = true;
	if(v->state != EA_VERDICT_SKIP && !(v->score >= 0.0 && v->score <= 1.0)) s->bad_score = true;
}

struct result_count {
	size_t raised, cleared;
};

static void on_result(void *ctx, const ea_result *r)
{
	struct result_count *c = ctx;

	if(r->anomaly) c->raised++;
	else c->cleared++;
}

/* xorshift64* and Box-Muller: the same noise on every run. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static double gaussian(uint64_t *state)
{
	double u1 = ((double)(next_random(state) >> 11) + 1.0) / 9007199254740993.0;
	double u2 = (double)(next_random(state) >> 11) / 9007199254740992.0;

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double uniform(uint64_t *state, double lo, double hi)
{
	return lo + (hi - lo) * (double)(next_random(state) >> 11) / 9007199254740992.0;
}

/* Feeds one reading a minute to the engine as replay does (sample time =
 * arrival time = the row's time). */
static void feed(ea_engine *engine, struct seen *seen, size_t row, double value)
{
	char text[64];
	ea_sample s;

	snprintf(text, sizeof(text), "%.6f", value);
	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "replay";
	s.property = "value";
	s.event_id = "";
	ea_sample_classify(&s, text, EA_TYPE_NONE);
	s.time_ms = T0 + (int64_t)row * 60000;
	s.arrival_ms = s.time_ms;
	s.has_time = true;
	s.source = EA_SOURCE_REPLAY;
	seen->calls_this_row = 0;
	ea_engine_sample(engine, &s);
	seen->rows++;
}

static ea_config *config(const char *yaml)
{
	ea_config_error err;
	ea_config *cfg = ea_config_load_string(yaml, strlen(yaml), "test", &err);

	if(cfg == NULL) fprintf(stderr, "%s\n", err.message);
	return cfg;
}

static struct seen seen_buf; /* large: kept off the stack */

static void TEST_verdict_fn_should_see_every_verdict_and_the_spike_where_it_is(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 50}}, spike]\n");
	struct result_count results = { 0 };
	struct seen *seen = &seen_buf;
	ea_engine *engine;
	uint64_t rng = 42;
	size_t i, first_anomaly = SIZE_MAX;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	engine = ea_engine_new(cfg, 16, on_result, &results);
	CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
	memset(seen, 0, sizeof(*seen));
	ea_engine_set_verdict_fn(engine, on_verdict, seen);
	for(i = 0; i < 300; i++) feed(engine, seen, i, 20.0 + 0.5 * gaussian(&rng) + (i == 200 ? 40.0 : 0.0));

	/* one call per detector per sample, in chain order, with the sample */
	CU_ASSERT_EQUAL(seen->calls, 2 * 300);
	CU_ASSERT_EQUAL(seen->last_time_ms, T0 + 299 * 60000);
	for(i = 0; i < 300; i++){
		CU_ASSERT_PTR_EQUAL(seen->type[i][0], ea_detector_find("range"));
		CU_ASSERT_PTR_EQUAL(seen->type[i][1], ea_detector_find("spike"));
		if(first_anomaly == SIZE_MAX && (seen->state[i][0] == EA_VERDICT_ANOMALY || seen->state[i][1] == EA_VERDICT_ANOMALY))
			first_anomaly = i;
	}
	/* the range judges every row, the spike detector once it has learnt */
	CU_ASSERT_EQUAL(seen->state[0][0], EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(seen->state[0][1], EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(seen->state[199][1], EA_VERDICT_NORMAL);
	/* the spike at 200, nothing before it */
	CU_ASSERT_EQUAL(first_anomaly, 200);
	CU_ASSERT_EQUAL(seen->state[200][0], EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(seen->state[200][1], EA_VERDICT_ANOMALY);
	CU_ASSERT_TRUE(seen->score[200][1] > 0.5);
	CU_ASSERT_EQUAL(seen->state[201][0], EA_VERDICT_NORMAL);
	CU_ASSERT_FALSE(seen->anomaly_without_reason);
	CU_ASSERT_FALSE(seen->bad_score);
	/* results still report only the changes: range and spike raised, cleared */
	CU_ASSERT_EQUAL(results.raised, 2);
	CU_ASSERT_EQUAL(results.cleared, 2);

	ea_engine_free(engine);
	ea_config_free(cfg);
}

static void TEST_verdict_fn_should_report_anomalies_that_raise_no_result(void)
{
	ea_config *cfg = config("results: {repeat_interval: 0}\ndefault_chain: [{range: {max: 50}}]\n");
	struct result_count results = { 0 };
	struct seen *seen = &seen_buf;
	ea_engine *engine;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	engine = ea_engine_new(cfg, 16, on_result, &results);
	CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
	memset(seen, 0, sizeof(*seen));
	ea_engine_set_verdict_fn(engine, on_verdict, seen);
	feed(engine, seen, 0, 20.0);
	for(i = 1; i <= 5; i++) feed(engine, seen, i, 60.0 + (double)i);
	feed(engine, seen, 6, 20.0);

	/* five anomalous rows, each with its verdict and reason; one raise */
	for(i = 1; i <= 5; i++){
		CU_ASSERT_EQUAL(seen->state[i][0], EA_VERDICT_ANOMALY);
		CU_ASSERT_TRUE(seen->score[i][0] > 0.0);
	}
	CU_ASSERT_EQUAL(seen->state[6][0], EA_VERDICT_NORMAL);
	CU_ASSERT_FALSE(seen->anomaly_without_reason);
	CU_ASSERT_EQUAL(results.raised, 1);
	CU_ASSERT_EQUAL(results.cleared, 1);

	ea_engine_free(engine);
	ea_config_free(cfg);
}

static void TEST_verdict_fn_should_see_no_anomaly_in_clean_noise(void)
{
	ea_config *cfg = config("default_chain: [type, spike, stuck]\n");
	struct seen *seen = &seen_buf;
	ea_engine *engine;
	uint64_t seed;
	size_t i, anomalies = 0, judged = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	for(seed = 1; seed <= 5; seed++){
		uint64_t rng = seed * UINT64_C(0x9E3779B97F4A7C15);
		engine = ea_engine_new(cfg, 16, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
		memset(seen, 0, sizeof(*seen));
		ea_engine_set_verdict_fn(engine, on_verdict, seen);
		/* bounded noise: no reading is more than about 2 robust
		 * deviations from the median (spike wants 6), none repeats
		 * (stuck), all are numbers (type) */
		for(i = 0; i < MAX_ROWS; i++) feed(engine, seen, i, 100.0 + uniform(&rng, -2.0, 2.0));
		CU_ASSERT_EQUAL(seen->calls, 3 * MAX_ROWS);
		for(i = 0; i < MAX_ROWS; i++){
			size_t k;
			for(k = 0; k < 3; k++){
				if(seen->state[i][k] == EA_VERDICT_ANOMALY) anomalies++;
				if(seen->state[i][k] != EA_VERDICT_SKIP) judged++;
			}
		}
		ea_engine_free(engine);
	}
	CU_ASSERT_EQUAL(anomalies, 0);
	CU_ASSERT_TRUE(judged > 2 * 5 * (MAX_ROWS - 100)); /* the detectors did judge */
	ea_config_free(cfg);
}

static void TEST_verdict_fn_should_stop_when_unset(void)
{
	ea_config *cfg = config("default_chain: [spike]\n");
	struct seen *seen = &seen_buf;
	ea_engine *engine;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	engine = ea_engine_new(cfg, 16, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(engine);
	memset(seen, 0, sizeof(*seen));
	ea_engine_set_verdict_fn(engine, on_verdict, seen);
	feed(engine, seen, 0, 1.0);
	CU_ASSERT_EQUAL(seen->calls, 1);
	ea_engine_set_verdict_fn(engine, NULL, NULL);
	feed(engine, seen, 1, 1.0);
	CU_ASSERT_EQUAL(seen->calls, 1);
	/* idle checks are not verdicts on a sample: never reported */
	ea_engine_set_verdict_fn(engine, on_verdict, seen);
	ea_engine_idle(engine, T0 + 86400000);
	CU_ASSERT_EQUAL(seen->calls, 1);
	ea_engine_free(engine);
	ea_config_free(cfg);
}

#define TEST(fn) { #fn, fn }

void init_replay_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_verdict_fn_should_see_every_verdict_and_the_spike_where_it_is),
		TEST(TEST_verdict_fn_should_report_anomalies_that_raise_no_result),
		TEST(TEST_verdict_fn_should_see_no_anomaly_in_clean_noise),
		TEST(TEST_verdict_fn_should_stop_when_unset),
	};
	CU_pSuite suite = CU_add_suite("replay", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
