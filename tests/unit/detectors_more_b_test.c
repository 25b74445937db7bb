/* SPDX-License-Identifier: Apache-2.0
 *
 * detectors_more_b_test.c - delay, out_of_order, duplicate, replay,
 * envelope and desired on generated streams whose truth is known: the
 * trouble is injected at a known reading (or time) and must be raised
 * there and not before; clean seeded streams (jittered arrival, noisy
 * values, the device's own formatting) must raise nothing; each raise must
 * clear when the trouble ends. Also: readings without a payload timestamp
 * are not judged, twin documents that merely restate a value are not
 * samples, desired values reach only the detectors that want them, and all
 * six from one YAML config through the engine with results of their kinds.
 */
#include "unit_tests.h"

#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"
#include "ea_payload.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECOND_MS 1000LL
#define MINUTE_MS 60000LL
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

/* A reading whose value is `text` (borrowed), taken at t_ms and arriving
 * at arrival_ms, with a timestamp in the payload and no event id. */
static ea_sample reading(const char *text, ea_value_type declared, int64_t t_ms, int64_t arrival_ms)
{
	ea_sample s;

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "dev";
	s.property = "p";
	ea_sample_classify(&s, text, declared);
	s.time_ms = t_ms;
	s.arrival_ms = arrival_ms;
	s.has_time = true;
	s.event_id = "";
	s.source = EA_SOURCE_TWIN_UPDATE;
	return s;
}

/* Observes one sample with reasons formatted; checks the verdict's
 * invariants (score in [0, 1], an anomaly always has a reason). */
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

static ea_verdict_state observe_at(struct detector_under_test *d, const char *text, int64_t t_ms, int64_t arrival_ms,
		ea_verdict *out)
{
	ea_sample s = reading(text, EA_TYPE_NONE, t_ms, arrival_ms);
	return observe(d, &s, out);
}

static ea_verdict_state idle_at(struct detector_under_test *d, int64_t now_ms, ea_verdict *out)
{
	ea_verdict v;

	memset(&v, 0, sizeof(v));
	v.explain_normal = true;
	d->type->idle(&d->params, d->state, now_ms, &v);
	if(v.state == EA_VERDICT_ANOMALY) CU_ASSERT(v.reason[0] != '\0');
	if(out != NULL) *out = v;
	return v.state;
}

/* Seeded generator: uniform in [0, 1) and standard normal (Box-Muller). */
static double uniform(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*seed >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *seed)
{
	double u1 = uniform(seed) + 1e-300, u2 = uniform(seed);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Arrival jitter of a healthy link: 5 ms to 3 s, mostly short. */
static int64_t link_latency(uint64_t *seed)
{
	double u = uniform(seed);
	return 5 + (int64_t)(u * u * u * 2995.0);
}

/* ------------------------------------------------------------------ */
/* delay                                                               */

static void TEST_delay_should_raise_a_reading_ten_minutes_old_there_and_clear(void)
{
	struct detector_under_test d;
	uint64_t seed = 11;
	ea_verdict v;
	long i, raised_at = NOT_RAISED, raised_count = 0;

	dut_init(&d, &ea_detector_delay, NULL);
	for(i = 0; i < 5000; i++){
		int64_t t = T0_MS + i * SECOND_MS;
		int64_t arrival = t + link_latency(&seed) + (i == 3000 ? 10 * MINUTE_MS : 0);
		ea_verdict_state st = observe_at(&d, "1", t, arrival, &v);
		if(st == EA_VERDICT_ANOMALY){
			raised_count++;
			if(raised_at == NOT_RAISED) raised_at = i;
			CU_ASSERT(strstr(v.reason, "s before it arrived (more than 30.0 s)") != NULL);
			CU_ASSERT(strstr(v.reason, "taken 60") != NULL); /* 600.x s */
		}else{
			CU_ASSERT_EQUAL(st, EA_VERDICT_NORMAL);
		}
	}
	CU_ASSERT_EQUAL(raised_at, 3000);
	CU_ASSERT_EQUAL(raised_count, 1); /* the next timely reading clears it */
	dut_free(&d);
}

static void TEST_delay_should_raise_a_clock_ahead_and_respect_both_limits(void)
{
	static const char *const settings[] = { "max_delay", "30s", "max_ahead", "5s", NULL };
	struct detector_under_test d;
	ea_verdict v;

	dut_init(&d, &ea_detector_delay, settings);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS, T0_MS + 30 * SECOND_MS, NULL), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS, T0_MS + 30 * SECOND_MS + 1, NULL), EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 5 * SECOND_MS, T0_MS, NULL), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 60 * SECOND_MS, T0_MS, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "60.0 s in the future") != NULL);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS, T0_MS + 100, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static void collect_one(void *ctx, const ea_sample *s)
{
	ea_sample *out = ctx;
	if(s->desired) return;
	*out = *s;
	out->text = NULL;     /* borrowed strings die with the call */
	out->event_id = NULL;
	out->ns = out->device = out->property = NULL;
}

static void TEST_delay_should_not_judge_a_payload_without_a_timestamp(void)
{
	static const char no_time[] = "{\"twin\":{\"t\":{\"actual\":{\"value\":\"21\"}}}}";
	static const char value_time[] = "{\"twin\":{\"t\":{\"actual\":{\"value\":\"21\",\"metadata\":{\"timestamp\":1761552000000}}}}}";
	static const char message_time[] = "{\"timestamp\":1761552000000,\"twin\":{\"t\":{\"actual\":{\"value\":\"21\"}}}}";
	struct detector_under_test d;
	ea_sample s;
	int64_t late = T0_MS + 10 * MINUTE_MS;

	/* the parser says whether the time came from the payload */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(ea_payload_parse(no_time, strlen(no_time), EA_TOPIC_TWIN_UPDATE, "default", "d", late,
			collect_one, &s, NULL), EA_ERR_OK);
	CU_ASSERT_FALSE(s.has_time);
	CU_ASSERT_EQUAL(s.time_ms, late);
	CU_ASSERT_EQUAL(ea_payload_parse(value_time, strlen(value_time), EA_TOPIC_TWIN_UPDATE, "default", "d", late,
			collect_one, &s, NULL), EA_ERR_OK);
	CU_ASSERT_TRUE(s.has_time);
	CU_ASSERT_EQUAL(s.time_ms, T0_MS);
	CU_ASSERT_EQUAL(ea_payload_parse(message_time, strlen(message_time), EA_TOPIC_TWIN_UPDATE, "default", "d", late,
			collect_one, &s, NULL), EA_ERR_OK);
	CU_ASSERT_TRUE(s.has_time);

	dut_init(&d, &ea_detector_delay, NULL);
	s = reading("21", EA_TYPE_NONE, T0_MS, late);
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_ANOMALY);
	s.has_time = false; /* the same, had the payload carried no time */
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_SKIP);
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* out_of_order                                                        */

static void TEST_out_of_order_should_raise_a_reading_earlier_than_the_latest_there_and_clear(void)
{
	struct detector_under_test d;
	uint64_t seed = 21;
	ea_verdict v;
	long i, raised_at = NOT_RAISED, raised_count = 0;

	dut_init(&d, &ea_detector_out_of_order, NULL);
	for(i = 0; i < 5000; i++){
		/* a reading every second with up to 400 ms jitter of its own: in order */
		int64_t t = T0_MS + i * SECOND_MS + (int64_t)(uniform(&seed) * 400.0);
		if(i == 2500) t -= 3 * SECOND_MS; /* late: taken before the two previous ones */
		if(observe_at(&d, "1", t, t + link_latency(&seed), &v) == EA_VERDICT_ANOMALY){
			raised_count++;
			if(raised_at == NOT_RAISED) raised_at = i;
			CU_ASSERT(strstr(v.reason, "out of order") != NULL);
		}
	}
	CU_ASSERT_EQUAL(raised_at, 2500);
	CU_ASSERT_EQUAL(raised_count, 1);
	dut_free(&d);
}

static void TEST_out_of_order_should_honour_tolerance_and_not_be_poisoned_by_a_future_stamp(void)
{
	static const char *const settings[] = { "tolerance", "500ms", NULL };
	struct detector_under_test d;
	long i;

	dut_init(&d, &ea_detector_out_of_order, settings);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 1000, T0_MS + 1000, NULL), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 500, T0_MS + 1100, NULL), EA_VERDICT_NORMAL);  /* within 500 ms */
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 499, T0_MS + 1200, NULL), EA_VERDICT_ANOMALY);
	/* one reading stamped a year ahead: the next ones are not all "late" */
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 365 * 86400000LL, T0_MS + 2000, NULL), EA_VERDICT_NORMAL);
	for(i = 3; i < 100; i++)
		CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + i * SECOND_MS, T0_MS + i * SECOND_MS + 10, NULL), EA_VERDICT_NORMAL);
	/* no time in the payload: no opinion */
	{
		ea_sample s = reading("1", EA_TYPE_NONE, T0_MS, T0_MS + 200 * SECOND_MS);
		s.has_time = false;
		CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_SKIP);
	}
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* duplicate                                                           */

static void TEST_duplicate_should_raise_a_resent_event_id_or_time_there_and_clear(void)
{
	struct detector_under_test d;
	uint64_t seed = 31;
	ea_verdict v;
	char event[32];
	long i, raised[8], raised_count = 0;

	dut_init(&d, &ea_detector_duplicate, NULL);
	for(i = 0; i < 3000; i++){
		int64_t t = T0_MS + i * SECOND_MS;
		ea_sample s;
		snprintf(event, sizeof(event), "ev-%ld", i == 1000 ? 999L : i); /* 1000 resends 999's id */
		if(i == 2000) t -= SECOND_MS;                                   /* 2000 repeats 1999's time */
		s = reading("1", EA_TYPE_NONE, t, t + link_latency(&seed));
		s.event_id = event;
		if(observe(&d, &s, &v) == EA_VERDICT_ANOMALY){
			if(raised_count < 8) raised[raised_count] = i;
			raised_count++;
			CU_ASSERT(strstr(v.reason, i == 1000 ? "same event id \"ev-999\"" : "same sample time") != NULL);
		}
	}
	CU_ASSERT_EQUAL_FATAL(raised_count, 2);
	CU_ASSERT_EQUAL(raised[0], 1000);
	CU_ASSERT_EQUAL(raised[1], 2000);
	dut_free(&d);
}

static void TEST_duplicate_should_not_count_edgecore_echoing_an_update_as_a_document(void)
{
	static const char *const times_off[] = { "time", "false", NULL };
	static const char *const both_off[] = { "event_id", "false", "time", "false", NULL };
	struct detector_under_test d;
	ea_params p;
	char err[200];
	ea_sample s;

	dut_init(&d, &ea_detector_duplicate, times_off);
	s = reading("1", EA_TYPE_NONE, T0_MS, T0_MS + 5);
	s.event_id = "e1";
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_NORMAL);
	/* EdgeCore's document of that update: same id, its own time stamp */
	s = reading("1", EA_TYPE_NONE, T0_MS + 7, T0_MS + 8);
	s.event_id = "e1";
	s.source = EA_SOURCE_TWIN_DOCUMENT;
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_NORMAL);
	/* the same document again is a duplicate */
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_ANOMALY);
	/* neither id nor time: no opinion */
	s = reading("1", EA_TYPE_NONE, T0_MS, T0_MS);
	s.has_time = false;
	CU_ASSERT_EQUAL(observe(&d, &s, NULL), EA_VERDICT_SKIP);
	dut_free(&d);

	/* a duplicate detector that can report nothing is refused */
	ea_params_defaults(&ea_detector_duplicate, &p);
	CU_ASSERT_TRUE(ea_param_set(&ea_detector_duplicate, &p, 0, both_off[1], err, sizeof(err)));
	CU_ASSERT_TRUE(ea_param_set(&ea_detector_duplicate, &p, 1, both_off[3], err, sizeof(err)));
	CU_ASSERT_FALSE(ea_detector_duplicate.validate(&p, err, sizeof(err)));
	CU_ASSERT(strstr(err, "never report") != NULL);
}

/* ------------------------------------------------------------------ */
/* replay                                                              */

/* A healthy stream of readings, one a second, arriving with link jitter;
 * from index `outage_from` to `outage_to` the link is down and the mapper
 * buffers; at `outage_to` it flushes the buffer 10 ms apart, then goes on.
 * Returns the index within the flush of the first raise (or NOT_RAISED)
 * and counts raises outside the flush in *stray. */
static long replay_flush_run(struct detector_under_test *d, uint64_t *seed, long outage_from, long outage_to,
		long *stray, long *cleared_at)
{
	long i, k, first = NOT_RAISED;
	bool raised = false;

	*stray = 0;
	*cleared_at = NOT_RAISED;
	for(i = 0; i < outage_from; i++){
		int64_t t = T0_MS + i * SECOND_MS;
		if(observe_at(d, "1", t, t + link_latency(seed), NULL) == EA_VERDICT_ANOMALY) (*stray)++;
	}
	for(k = 0; k < outage_to - outage_from; k++){
		int64_t t = T0_MS + (outage_from + k) * SECOND_MS;
		int64_t arrival = T0_MS + outage_to * SECOND_MS + k * 10;
		if(observe_at(d, "1", t, arrival, NULL) == EA_VERDICT_ANOMALY){
			if(first == NOT_RAISED) first = k;
			raised = true;
		}
	}
	for(i = outage_to + 6; i < outage_to + 1000; i++){ /* live again */
		int64_t t = T0_MS + i * SECOND_MS;
		ea_verdict_state st = observe_at(d, "1", t, t + link_latency(seed), NULL);
		if(st == EA_VERDICT_ANOMALY) (*stray)++;
		if(raised && *cleared_at == NOT_RAISED && st == EA_VERDICT_NORMAL) *cleared_at = i;
	}
	return first;
}

static void TEST_replay_should_raise_a_flushed_backlog_at_the_burst_th_reading_and_clear(void)
{
	struct detector_under_test d;
	uint64_t seed = 41;
	long stray, cleared_at, first;

	dut_init(&d, &ea_detector_replay, NULL); /* burst 5, max_age 1m */
	first = replay_flush_run(&d, &seed, 2000, 2600, &stray, &cleared_at);
	CU_ASSERT_EQUAL(first, 4); /* the fifth old reading of the flush, not before */
	CU_ASSERT_EQUAL(stray, 0);
	CU_ASSERT_EQUAL(cleared_at, 2606); /* the first live reading */
	dut_free(&d);

	/* an outage shorter than max_age flushes readings that are not old */
	dut_init(&d, &ea_detector_replay, NULL);
	seed = 42;
	first = replay_flush_run(&d, &seed, 2000, 2050, &stray, &cleared_at);
	CU_ASSERT_EQUAL(first, NOT_RAISED);
	CU_ASSERT_EQUAL(stray, 0);
	dut_free(&d);
}

static void TEST_replay_should_raise_history_sent_again_but_not_a_slow_link(void)
{
	struct detector_under_test d;
	uint64_t seed = 43;
	ea_verdict v;
	long i, raised_at = NOT_RAISED;

	/* a link that is two minutes slow, steadily (MQTT keeps the order,
	 * 0 to 300 ms of jitter): delay's business, not replay */
	dut_init(&d, &ea_detector_replay, NULL);
	{
		int64_t arrival = 0;
		long raises = 0;
		for(i = 0; i < 20000; i++){
			int64_t t = T0_MS + i * SECOND_MS, a = t + 2 * MINUTE_MS + (int64_t)(uniform(&seed) * 300.0);
			arrival = a > arrival ? a : arrival;
			if(observe_at(&d, "1", t, arrival, NULL) == EA_VERDICT_ANOMALY) raises++;
		}
		CU_ASSERT_EQUAL(raises, 0);
		/* then the link drops for 10 minutes and the backlog comes at once */
		for(i = 0; i < 600; i++){
			int64_t t = T0_MS + (20000 + i) * SECOND_MS;
			if(observe_at(&d, "1", t, T0_MS + 20600 * SECOND_MS + 2 * MINUTE_MS + i * 10, NULL) == EA_VERDICT_ANOMALY) break;
		}
		CU_ASSERT(i >= 4 && i < 10); /* within 2 x burst of the flush */
	}
	dut_free(&d);

	/* yesterday's readings sent again at their own pace after today's */
	dut_init(&d, &ea_detector_replay, NULL);
	for(i = 0; i < 1000; i++){
		int64_t t = T0_MS + i * SECOND_MS;
		CU_ASSERT_NOT_EQUAL(observe_at(&d, "1", t, t + link_latency(&seed), NULL), EA_VERDICT_ANOMALY);
	}
	for(i = 0; i < 20 && raised_at == NOT_RAISED; i++){
		int64_t arrival = T0_MS + (1000 + i) * SECOND_MS;
		if(observe_at(&d, "1", T0_MS - 86400000LL + i * SECOND_MS, arrival, &v) == EA_VERDICT_ANOMALY) raised_at = i;
	}
	CU_ASSERT_EQUAL(raised_at, 4);
	CU_ASSERT(strstr(v.reason, "replayed history: 5 readings") != NULL);
	CU_ASSERT(strstr(v.reason, "taken before readings already seen") != NULL);
	dut_free(&d);

	/* four old readings in a row are not a burst of five */
	dut_init(&d, &ea_detector_replay, NULL);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS, T0_MS, NULL), EA_VERDICT_NORMAL);
	for(i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS - 3600000 + i, T0_MS + i, NULL), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 10, T0_MS + 10, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* envelope                                                            */

/* How a device writes its numbers: "%.<places>f", or "%.<places>e". */
struct writing {
	int places;
	bool exponent;
};
#define FIXED(n) ((struct writing){ (n), false })
#define EXPONENT(n) ((struct writing){ (n), true })

/* Feeds n readings of gen written as `how`; returns the number of raises. */
static long feed_formatted(struct detector_under_test *d, struct writing how, double (*gen)(long, uint64_t *),
		uint64_t *seed, long from, long n)
{
	char text[64];
	long i, raises = 0;

	for(i = from; i < from + n; i++){
		ea_sample s;
		if(how.exponent) snprintf(text, sizeof(text), "%.*e", how.places, gen(i, seed));
		else snprintf(text, sizeof(text), "%.*f", how.places, gen(i, seed));
		s = reading(text, EA_TYPE_FLOAT, T0_MS + i * SECOND_MS, T0_MS + i * SECOND_MS);
		if(observe(d, &s, NULL) == EA_VERDICT_ANOMALY) raises++;
	}
	return raises;
}

static double room_temperature(long i, uint64_t *seed)
{
	(void)i;
	return 21.0 + 1.2 * fmax(-2.5, fmin(2.5, gauss(seed)));
}

static ea_verdict_state observe_text(struct detector_under_test *d, const char *text, ea_verdict *v)
{
	ea_sample s = reading(text, EA_TYPE_FLOAT, T0_MS, T0_MS);
	return observe(d, &s, v);
}

static void TEST_envelope_should_raise_values_off_the_envelope_or_finer_than_the_device_there(void)
{
	struct detector_under_test d;
	uint64_t seed = 51;
	ea_verdict v;

	dut_init(&d, &ea_detector_envelope, NULL);
	/* a thermometer reporting tenths: learning, then 20,000 clean readings */
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(1), room_temperature, &seed, 0, 200), 0);
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(1), room_temperature, &seed, 200, 20000), 0);
	CU_ASSERT_EQUAL(observe_text(&d, "23.4567", &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "has 4 decimal places; this device never reported more than 1") != NULL);
	CU_ASSERT_EQUAL(observe_text(&d, "22.3", &v), EA_VERDICT_NORMAL); /* cleared */
	CU_ASSERT_EQUAL(observe_text(&d, "22.30", &v), EA_VERDICT_NORMAL); /* trailing zeros are formatting */
	CU_ASSERT_EQUAL(observe_text(&d, "71.2", &v), EA_VERDICT_ANOMALY);  /* Fahrenheit */
	CU_ASSERT(strstr(v.reason, "outside everything this device reported") != NULL);
	CU_ASSERT(v.score > 0.9);
	CU_ASSERT_EQUAL(observe_text(&d, "-40.0", &v), EA_VERDICT_ANOMALY);
	CU_ASSERT_EQUAL(observe_text(&d, "21.0", &v), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static double counter_value(long i, uint64_t *seed)
{
	return (double)(100 + (long)(uniform(seed) * 50.0) + i % 7);
}

static double half_steps(long i, uint64_t *seed)
{
	(void)i;
	return round(2.0 * (20.0 + 2.0 * gauss(seed))) / 2.0;
}

static double three_values(long i, uint64_t *seed)
{
	(void)seed;
	return 20.0 + 0.5 * (double)(i % 3);
}

static void TEST_envelope_should_learn_whole_numbers_and_a_step(void)
{
	struct detector_under_test d;
	uint64_t seed = 52;
	ea_verdict v;

	/* an integer-only series reports a fraction */
	dut_init(&d, &ea_detector_envelope, NULL);
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(0), counter_value, &seed, 0, 5000), 0);
	CU_ASSERT_EQUAL(observe_text(&d, "120.5", &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "only ever reported whole numbers") != NULL);
	CU_ASSERT_EQUAL(observe_text(&d, "120", &v), EA_VERDICT_NORMAL);
	dut_free(&d);

	/* a device reporting in 0.5 steps (written with one decimal) sends 20.3 */
	dut_init(&d, &ea_detector_envelope, NULL);
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(1), half_steps, &seed, 0, 10000), 0);
	CU_ASSERT_EQUAL(observe_text(&d, "20.3", &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "off this device's step of 0.5") != NULL);
	CU_ASSERT_EQUAL(observe_text(&d, "20.5", &v), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(observe_text(&d, "2.05e1", &v), EA_VERDICT_NORMAL); /* the same number written otherwise */
	dut_free(&d);

	/* three distinct values while learning prove no step */
	dut_init(&d, &ea_detector_envelope, NULL);
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(1), three_values, &seed, 0, 300), 0);
	CU_ASSERT_EQUAL(observe_text(&d, "20.3", &v), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static double edgex_level(long i, uint64_t *seed)
{
	/* 0.01 resolution, crossing powers of ten (9.99 .. 10.xx and 99 .. 100) */
	return round(100.0 * (i % 2 == 0 ? 10.0 + 0.3 * gauss(seed) : 100.0 + 0.5 * gauss(seed))) / 100.0;
}

static void TEST_envelope_should_read_edgex_exponent_formatting_without_false_raises(void)
{
	struct detector_under_test d;
	uint64_t seed = 53;
	ea_verdict v;

	dut_init(&d, &ea_detector_envelope, NULL);
	/* EdgeX writes floats as 2.345670e+01: the digits say 0.01 */
	CU_ASSERT_EQUAL(feed_formatted(&d, EXPONENT(6), edgex_level, &seed, 0, 20000), 0);
	CU_ASSERT_EQUAL(observe_text(&d, "1.234567e+01", &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "decimal places") != NULL);
	CU_ASSERT_EQUAL(observe_text(&d, "1.023000e+01", &v), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static double slow_ramp(long i, uint64_t *seed)
{
	/* learning width about 6; then up 0.01 per reading (adapt x margin x width = 0.15) */
	return 21.0 + fmax(-3.0, fmin(3.0, gauss(seed))) + (i > 200 ? 0.01 * (double)(i - 200) : 0.0);
}

static void TEST_envelope_should_follow_slow_growth_but_not_absorb_an_injection(void)
{
	static const char *const no_resolution[] = { "resolution", "false", NULL };
	struct detector_under_test d;
	uint64_t seed = 54;
	long i;

	dut_init(&d, &ea_detector_envelope, no_resolution);
	/* 30 units of slow, legitimate growth (5 envelope widths) are followed */
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(3), slow_ramp, &seed, 0, 3200), 0);
	dut_free(&d);

	/* an attacker walking the value up a margin at a time is raised, and
	 * raised values never widen the envelope */
	dut_init(&d, &ea_detector_envelope, no_resolution);
	CU_ASSERT_EQUAL(feed_formatted(&d, FIXED(3), room_temperature, &seed, 0, 200), 0);
	{
		long first_raise = NOT_RAISED;
		for(i = 0; i < 40; i++){
			char text[32];
			snprintf(text, sizeof(text), "%.3f", 24.0 + 0.5 * (double)i);
			if(observe_text(&d, text, NULL) == EA_VERDICT_ANOMALY && first_raise == NOT_RAISED) first_raise = i;
		}
		CU_ASSERT(first_raise != NOT_RAISED && first_raise <= 12);
		CU_ASSERT_EQUAL(observe_text(&d, "40.0", NULL), EA_VERDICT_ANOMALY);
	}
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* desired                                                             */

static ea_verdict_state desired_at(struct detector_under_test *d, const char *text, int64_t arrival_ms)
{
	ea_sample s = reading(text, EA_TYPE_NONE, arrival_ms, arrival_ms);
	s.desired = true;
	return observe(d, &s, NULL);
}

static void TEST_desired_should_raise_at_the_timeout_not_before_and_clear_when_reached(void)
{
	static const char *const settings[] = { "timeout", "30s", "tolerance", "0.5", NULL };
	struct detector_under_test d;
	uint64_t seed = 61;
	ea_verdict v;
	char text[32];
	long i, raised_at = NOT_RAISED, cleared_at = NOT_RAISED;

	dut_init(&d, &ea_detector_desired, settings);
	/* reported 10 with noise before any desired value: no opinion */
	for(i = 0; i < 100; i++){
		snprintf(text, sizeof(text), "%.2f", 10.0 + 0.1 * gauss(&seed));
		CU_ASSERT_EQUAL(observe_at(&d, text, T0_MS + i * SECOND_MS, T0_MS + i * SECOND_MS, NULL), EA_VERDICT_SKIP);
	}
	CU_ASSERT_EQUAL(desired_at(&d, "40", T0_MS + 100 * SECOND_MS), EA_VERDICT_SKIP);
	/* the valve moves 0.5 a second but sticks at 25; freed at 200 s it
	 * goes on from 25, within the tolerance (39.5) at 229 s */
	for(i = 101; i < 300; i++){
		double pos = i < 200 ? fmin(25.0, 10.0 + 0.5 * (double)(i - 100)) : fmin(40.0, 25.0 + 0.5 * (double)(i - 200));
		ea_verdict_state st;
		snprintf(text, sizeof(text), "%.2f", pos);
		st = observe_at(&d, text, T0_MS + i * SECOND_MS, T0_MS + i * SECOND_MS, &v);
		if(st == EA_VERDICT_ANOMALY && raised_at == NOT_RAISED){
			raised_at = i;
			CU_ASSERT(strstr(v.reason, "reported 25 has not reached the desired 40 (tolerance 0.5) 30 s after") != NULL);
		}
		if(st == EA_VERDICT_NORMAL && cleared_at == NOT_RAISED) cleared_at = i;
	}
	CU_ASSERT_EQUAL(raised_at, 130);
	CU_ASSERT_EQUAL(cleared_at, 229); /* 39.5 is within the tolerance */
	dut_free(&d);
}

static void TEST_desired_should_raise_from_idle_when_the_device_is_quiet(void)
{
	struct detector_under_test d;
	ea_verdict v;

	dut_init(&d, &ea_detector_desired, NULL); /* timeout 60s */
	CU_ASSERT_EQUAL(desired_at(&d, "on", T0_MS), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 59999, NULL), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 60000, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "reported nothing") != NULL);
	/* text values compare as text */
	CU_ASSERT_EQUAL(observe_at(&d, "off", T0_MS + 61000, T0_MS + 61000, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "differed from the desired one") != NULL);
	CU_ASSERT_EQUAL(observe_at(&d, "on", T0_MS + 62000, T0_MS + 62000, NULL), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 200000, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);
}

static void TEST_desired_should_time_a_drift_away_from_when_it_left_and_ignore_restatements(void)
{
	static const char *const settings[] = { "timeout", "30s", NULL };
	struct detector_under_test d;
	ea_verdict v;

	dut_init(&d, &ea_detector_desired, settings);
	CU_ASSERT_EQUAL(desired_at(&d, "21", T0_MS), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(observe_at(&d, "21.0", T0_MS + 10000, T0_MS + 10000, NULL), EA_VERDICT_NORMAL); /* reached */
	/* the same desired value restated (every twin document carries it),
	 * and an empty one (a mapper echoing none): nothing restarts */
	CU_ASSERT_EQUAL(desired_at(&d, "21", T0_MS + 20000), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(desired_at(&d, "", T0_MS + 21000), EA_VERDICT_SKIP);
	/* 500 s later the device drifts away: the clock starts then */
	CU_ASSERT_EQUAL(observe_at(&d, "18", T0_MS + 500000, T0_MS + 500000, NULL), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 529999, NULL), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 530000, &v), EA_VERDICT_ANOMALY);
	CU_ASSERT(strstr(v.reason, "has drifted from the desired 21") != NULL);
	/* a new desired value restarts the clock; the device already there clears it */
	CU_ASSERT_EQUAL(desired_at(&d, "18", T0_MS + 531000), EA_VERDICT_NORMAL);
	CU_ASSERT_EQUAL(desired_at(&d, "25", T0_MS + 532000), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 561999, NULL), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(idle_at(&d, T0_MS + 562000, NULL), EA_VERDICT_ANOMALY);
	/* booleans compare as 0/1 */
	CU_ASSERT_EQUAL(desired_at(&d, "true", T0_MS + 563000), EA_VERDICT_SKIP);
	CU_ASSERT_EQUAL(observe_at(&d, "1", T0_MS + 564000, T0_MS + 564000, NULL), EA_VERDICT_NORMAL);
	dut_free(&d);
}

/* ------------------------------------------------------------------ */
/* Twin documents that restate a value are not samples                 */

struct sample_log {
	size_t actual, desired;
	int64_t last_time_ms;
};

static void count_samples(void *ctx, const ea_sample *s)
{
	struct sample_log *log = ctx;
	if(s->desired) log->desired++;
	else{
		log->actual++;
		log->last_time_ms = s->time_ms;
	}
}

static void TEST_documents_should_not_restate_an_unchanged_value_as_a_sample(void)
{
	/* the cloud set expected 40: EdgeCore's document restates the actual
	 * value 25 reported ten minutes earlier, with its old time stamp */
	static const char desired_changed[] =
		"{\"event_id\":\"c1\",\"timestamp\":1761552600000,\"twin\":{\"valve\":{"
		"\"last\":{\"expected\":{\"value\":\"30\",\"metadata\":{\"timestamp\":1761551000000}},"
		"\"actual\":{\"value\":\"25\",\"metadata\":{\"timestamp\":1761552000000}}},"
		"\"current\":{\"expected\":{\"value\":\"40\",\"metadata\":{\"timestamp\":1761552600000}},"
		"\"actual\":{\"value\":\"25\",\"metadata\":{\"timestamp\":1761552000000}}}}}}";
	/* a new report: the actual changed (time), the expected is restated */
	static const char actual_changed[] =
		"{\"event_id\":\"r2\",\"timestamp\":1761552601000,\"twin\":{\"valve\":{"
		"\"last\":{\"expected\":{\"value\":\"40\",\"metadata\":{\"timestamp\":1761552600000}},"
		"\"actual\":{\"value\":\"25\",\"metadata\":{\"timestamp\":1761552000000}}},"
		"\"current\":{\"expected\":{\"value\":\"40\",\"metadata\":{\"timestamp\":1761552600000}},"
		"\"actual\":{\"value\":\"25\",\"metadata\":{\"timestamp\":1761552601000}}}}}}";
	/* a twin just added: no last */
	static const char added[] =
		"{\"event_id\":\"a\",\"timestamp\":1761552602000,\"twin\":{\"valve\":{\"last\":null,"
		"\"current\":{\"expected\":{\"value\":\"40\",\"metadata\":{\"timestamp\":1761552602000}},"
		"\"actual\":{\"value\":\"25\",\"metadata\":{\"timestamp\":1761552602000}}}}}}";
	struct sample_log log;

	memset(&log, 0, sizeof(log));
	CU_ASSERT_EQUAL(ea_payload_parse(desired_changed, strlen(desired_changed), EA_TOPIC_TWIN_DOCUMENT, "default", "v",
			T0_MS + 600000, count_samples, &log, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(log.actual, 0);
	CU_ASSERT_EQUAL(log.desired, 1);
	memset(&log, 0, sizeof(log));
	CU_ASSERT_EQUAL(ea_payload_parse(actual_changed, strlen(actual_changed), EA_TOPIC_TWIN_DOCUMENT, "default", "v",
			T0_MS + 601000, count_samples, &log, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(log.actual, 1);
	CU_ASSERT_EQUAL(log.last_time_ms, T0_MS + 601000);
	CU_ASSERT_EQUAL(log.desired, 0);
	memset(&log, 0, sizeof(log));
	CU_ASSERT_EQUAL(ea_payload_parse(added, strlen(added), EA_TOPIC_TWIN_DOCUMENT, "default", "v",
			T0_MS + 602000, count_samples, &log, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(log.actual, 1);
	CU_ASSERT_EQUAL(log.desired, 1);
}

/* ------------------------------------------------------------------ */
/* From the YAML, through the engine                                   */

#define MAX_SEEN 64

struct seen_results {
	size_t count;
	struct {
		char detector[24];
		char kind[24];
		char property[24];
		char value[24];
		bool anomaly;
		int64_t detected_at_ms;
	} r[MAX_SEEN];
};

static void remember(void *ctx, const ea_result *r)
{
	struct seen_results *seen = ctx;

	if(seen->count >= MAX_SEEN) return;
	snprintf(seen->r[seen->count].detector, sizeof(seen->r[0].detector), "%s", r->detector);
	snprintf(seen->r[seen->count].kind, sizeof(seen->r[0].kind), "%s", r->kind);
	snprintf(seen->r[seen->count].property, sizeof(seen->r[0].property), "%s", r->property);
	snprintf(seen->r[seen->count].value, sizeof(seen->r[0].value), "%s", r->value_text);
	seen->r[seen->count].anomaly = r->anomaly;
	seen->r[seen->count].detected_at_ms = r->detected_at_ms;
	seen->count++;
}

/* Index of the first result of `kind` raised (anomaly) or cleared, or -1. */
static long find_result(const struct seen_results *seen, const char *kind, bool anomaly)
{
	size_t i;
	for(i = 0; i < seen->count; i++)
		if(strcmp(seen->r[i].kind, kind) == 0 && seen->r[i].anomaly == anomaly) return (long)i;
	return -1;
}

static void twin_message(ea_engine *e, const char *device, const char *body, const char *event_id,
		int64_t stamp_ms, int64_t arrival_ms)
{
	char topic[128], payload[512];

	snprintf(topic, sizeof(topic), "$hw/events/device/plant-a/%s/twin/update", device);
	snprintf(payload, sizeof(payload), "{\"event_id\":\"%s\",\"timestamp\":%lld,\"twin\":{%s}}",
			event_id, (long long)stamp_ms, body);
	CU_ASSERT_EQUAL(ea_engine_message(e, topic, strlen(topic), payload, strlen(payload), arrival_ms), EA_ERR_OK);
}

static void TEST_all_six_should_work_from_yaml_through_the_engine(void)
{
	static const char yaml[] =
		"results: {repeat_interval: 0}\n"
		"routes:\n"
		"  - name: valves\n"
		"    match: {device: 'valve-*'}\n"
		"    detectors:\n"
		"      - desired: {timeout: 10s, tolerance: 0.5}\n"
		"      - delay: {max_delay: 30s}\n"
		"      - out_of_order\n"
		"      - duplicate\n"
		"      - replay: {burst: 3}\n"
		"  - name: thermometers\n"
		"    match: {device: 'thermo-*'}\n"
		"    detectors: [{envelope: {learn: 100}}, {range: {max: 1000}}]\n";
	struct seen_results *seen = calloc(1, sizeof(*seen));
	ea_config_error err;
	ea_config *cfg;
	ea_engine *e;
	uint64_t seed = 71;
	char body[256], event[32];
	int64_t t = T0_MS;
	long i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "b.yaml", &err);
	if(cfg == NULL) fprintf(stderr, "\n%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 100, remember, seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);

	/* a valve set to 40 that stays at 12: one twin update with both */
	twin_message(e, "valve-1", "\"pos\":{\"expected\":{\"value\":\"40\"},\"actual\":{\"value\":\"12\"}}", "v0", t, t + 20);
	for(i = 1; i <= 9; i++){
		snprintf(event, sizeof(event), "v%ld", i);
		twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"12\"}}", event, t + i * SECOND_MS, t + i * SECOND_MS + 20);
	}
	ea_engine_idle(e, t + 9 * SECOND_MS + 500);
	CU_ASSERT_EQUAL(seen->count, 0); /* nothing yet: within the timeout, all timely, new and in order */
	ea_engine_idle(e, t + 10 * SECOND_MS + 20);
	CU_ASSERT(find_result(seen, "desired-mismatch", true) >= 0);
	/* the desired value never reached any other detector of the chain */
	CU_ASSERT_EQUAL(seen->count, 1);

	/* one delayed reading (taken 10 minutes before it arrived): delay and out_of_order */
	twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"12\"}}", "v10", t - 10 * MINUTE_MS, t + 10 * SECOND_MS + 50);
	CU_ASSERT(find_result(seen, "delay", true) >= 0);
	CU_ASSERT(find_result(seen, "out-of-order", true) >= 0);
	CU_ASSERT_EQUAL(find_result(seen, "replay", true), -1);
	/* the same message delivered twice */
	twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"12\"}}", "v11", t + 11 * SECOND_MS, t + 11 * SECOND_MS + 20);
	CU_ASSERT(find_result(seen, "delay", false) >= 0);        /* timely again: cleared */
	CU_ASSERT(find_result(seen, "out-of-order", false) >= 0);
	twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"12\"}}", "v11", t + 11 * SECOND_MS, t + 11 * SECOND_MS + 30);
	CU_ASSERT(find_result(seen, "duplicate", true) >= 0);
	/* a backlog of three old readings flushed at once */
	for(i = 0; i < 3; i++){
		snprintf(event, sizeof(event), "old%ld", i);
		twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"12\"}}", event, t - 5 * MINUTE_MS + i * SECOND_MS,
				t + 12 * SECOND_MS + i);
	}
	CU_ASSERT(find_result(seen, "replay", true) >= 0);
	/* the valve reaches 40 (within 0.5): desired clears */
	twin_message(e, "valve-1", "\"pos\":{\"actual\":{\"value\":\"39.7\"}}", "v13", t + 13 * SECOND_MS, t + 13 * SECOND_MS + 20);
	CU_ASSERT(find_result(seen, "desired-mismatch", false) >= 0);
	CU_ASSERT(find_result(seen, "replay", false) >= 0);
	CU_ASSERT(find_result(seen, "duplicate", false) >= 0);

	/* a thermometer in tenths; then a forged value with four decimals */
	for(i = 0; i < 400; i++){
		snprintf(body, sizeof(body), "\"temp\":{\"actual\":{\"value\":\"%.1f\"},\"metadata\":{\"type\":\"float\"}}",
				room_temperature(i, &seed));
		snprintf(event, sizeof(event), "t%ld", i);
		twin_message(e, "thermo-1", body, event, t + i * SECOND_MS, t + i * SECOND_MS + 10);
	}
	CU_ASSERT_EQUAL(find_result(seen, "injected", true), -1);
	twin_message(e, "thermo-1", "\"temp\":{\"actual\":{\"value\":\"21.0421\"},\"metadata\":{\"type\":\"float\"}}", "t400",
			t + 400 * SECOND_MS, t + 400 * SECOND_MS + 10);
	{
		long k = find_result(seen, "injected", true);
		CU_ASSERT_FATAL(k >= 0);
		CU_ASSERT_STRING_EQUAL(seen->r[k].detector, "envelope");
		CU_ASSERT_STRING_EQUAL(seen->r[k].value, "21.0421");
	}
	ea_engine_free(e);
	ea_config_free(cfg);
	free(seen);
}

static void TEST_desired_values_should_reach_only_detectors_that_want_them(void)
{
	static const char yaml[] =
		"routes:\n"
		"  - match: {device: 'a-*'}\n"
		"    detectors: [{range: {max: 10}}, {envelope: {learn: 2}}]\n"
		"  - match: {device: 'b-*'}\n"
		"    detectors: [{range: {max: 10}}, {desired: {timeout: 1s}}]\n";
	struct seen_results *seen = calloc(1, sizeof(*seen));
	ea_config_error err;
	ea_config *cfg;
	ea_engine *e;
	ea_engine_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "d.yaml", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 100, remember, seen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	/* a desired 50 is far above range's max, and only expected values come */
	twin_message(e, "a-1", "\"p\":{\"expected\":{\"value\":\"50\"}}", "1", T0_MS, T0_MS);
	ea_engine_stats_read(e, &st);
	CU_ASSERT_EQUAL(st.series, 0); /* no detector wants it: not even a series */
	twin_message(e, "b-1", "\"p\":{\"expected\":{\"value\":\"50\"},\"actual\":{\"value\":\"5\"}}", "2", T0_MS, T0_MS);
	ea_engine_stats_read(e, &st);
	CU_ASSERT_EQUAL(st.series, 1);
	CU_ASSERT_EQUAL(seen->count, 0); /* range saw 5, not 50 */
	ea_engine_idle(e, T0_MS + 1000);
	CU_ASSERT_EQUAL_FATAL(seen->count, 1);
	CU_ASSERT_STRING_EQUAL(seen->r[0].kind, "desired-mismatch");
	ea_engine_free(e);
	ea_config_free(cfg);
	free(seen);
}

void init_detectors_more_b_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
#define TEST(fn) { #fn, fn }
		TEST(TEST_delay_should_raise_a_reading_ten_minutes_old_there_and_clear),
		TEST(TEST_delay_should_raise_a_clock_ahead_and_respect_both_limits),
		TEST(TEST_delay_should_not_judge_a_payload_without_a_timestamp),
		TEST(TEST_out_of_order_should_raise_a_reading_earlier_than_the_latest_there_and_clear),
		TEST(TEST_out_of_order_should_honour_tolerance_and_not_be_poisoned_by_a_future_stamp),
		TEST(TEST_duplicate_should_raise_a_resent_event_id_or_time_there_and_clear),
		TEST(TEST_duplicate_should_not_count_edgecore_echoing_an_update_as_a_document),
		TEST(TEST_replay_should_raise_a_flushed_backlog_at_the_burst_th_reading_and_clear),
		TEST(TEST_replay_should_raise_history_sent_again_but_not_a_slow_link),
		TEST(TEST_envelope_should_raise_values_off_the_envelope_or_finer_than_the_device_there),
		TEST(TEST_envelope_should_learn_whole_numbers_and_a_step),
		TEST(TEST_envelope_should_read_edgex_exponent_formatting_without_false_raises),
		TEST(TEST_envelope_should_follow_slow_growth_but_not_absorb_an_injection),
		TEST(TEST_desired_should_raise_at_the_timeout_not_before_and_clear_when_reached),
		TEST(TEST_desired_should_raise_from_idle_when_the_device_is_quiet),
		TEST(TEST_desired_should_time_a_drift_away_from_when_it_left_and_ignore_restatements),
		TEST(TEST_documents_should_not_restate_an_unchanged_value_as_a_sample),
		TEST(TEST_all_six_should_work_from_yaml_through_the_engine),
		TEST(TEST_desired_values_should_reach_only_detectors_that_want_them),
#undef TEST
	};
	CU_pSuite suite = CU_add_suite("detectors_more_b", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) CU_add_test(suite, tests[i].name, tests[i].fn);
}
