/* SPDX-License-Identifier: Apache-2.0
 *
 * engine_test.c - unit tests of ea_engine.c: the pipeline from raw
 * messages to results.
 *
 * Covers series creation per (namespace, device, property) and routing to
 * detector chains, the counters for unsupported topics, parse errors and
 * excluded devices, the update/document de-duplication, raise, repeat
 * (results.repeat_interval) and clear transitions from samples and from
 * the idle check, LRU eviction at max_series, config switches, detector
 * timing, and the published form of a result: its JSON (parsed back with
 * cJSON, every field checked, always valid UTF-8, never larger than
 * EA_RESULT_JSON_MAX) and its topic (template expansion, sanitised names).
 */
#include "unit_tests.h"

#include "ea_engine.h"

#include <CUnit/CUnit.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1763798400000) /* 2025-11-22T08:00:00.000Z */
#define MAX_RESULTS 64
#define JSON_MAX 4096

/* A copy of one result, with its JSON and topic as the plugin makes them. */
struct res {
	char ns[EA_NAME_MAX + 1];
	char device[EA_NAME_MAX + 1];
	char property[EA_NAME_MAX + 1];
	char detector[32];
	char kind[32];
	char reason[EA_REASON_MAX];
	char value_text[EA_RESULT_VALUE_MAX + 8];
	bool value_is_number;
	double value_number;
	int64_t sample_time_ms;
	int64_t detected_at_ms;
	bool anomaly;
	double score;
	double confidence;
	char json[JSON_MAX];
	size_t json_len;
	char topic[1024];
	size_t topic_len;
};

struct results {
	size_t count; /* all results, even beyond MAX_RESULTS */
	struct res r[MAX_RESULTS];
};

static void on_result(void *ctx, const ea_result *r)
{
	struct results *rs = ctx;
	struct res *c;

	if(rs->count >= MAX_RESULTS){
		rs->count++;
		return;
	}
	c = &rs->r[rs->count++];
	snprintf(c->ns, sizeof(c->ns), "%s", r->ns);
	snprintf(c->device, sizeof(c->device), "%s", r->device);
	snprintf(c->property, sizeof(c->property), "%s", r->property);
	snprintf(c->detector, sizeof(c->detector), "%s", r->detector);
	snprintf(c->kind, sizeof(c->kind), "%s", r->kind);
	snprintf(c->reason, sizeof(c->reason), "%s", r->reason);
	snprintf(c->value_text, sizeof(c->value_text), "%s", r->value_text != NULL ? r->value_text : "(null)");
	c->value_is_number = r->value_is_number;
	c->value_number = r->value_number;
	c->sample_time_ms = r->sample_time_ms;
	c->detected_at_ms = r->detected_at_ms;
	c->anomaly = r->anomaly;
	c->score = r->score;
	c->confidence = r->confidence;
	c->json_len = ea_result_to_json(r, c->json, sizeof(c->json));
	c->topic_len = ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", r, c->topic, sizeof(c->topic));
}

static struct results *results_new(void)
{
	struct results *rs = calloc(1, sizeof(*rs));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	return rs;
}

static ea_config *config(const char *yaml)
{
	ea_config_error err;
	ea_config *cfg = ea_config_load_string(yaml, strlen(yaml), "engine.yaml", &err);

	if(cfg == NULL) fprintf(stderr, "\n%s\n", err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	return cfg;
}

static ea_engine *engine(const ea_config *cfg, size_t max_series, struct results *rs)
{
	ea_engine *e = ea_engine_new(cfg, max_series, on_result, rs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	return e;
}

static ea_engine_stats stats(const ea_engine *e)
{
	ea_engine_stats st;
	ea_engine_stats_read(e, &st);
	return st;
}

/* Hands one message to the engine from an exactly sized copy (no NUL). */
static ea_err message(ea_engine *e, const char *topic, const char *payload, int64_t arrival_ms)
{
	size_t tl = strlen(topic), pl = strlen(payload);
	char *t = malloc(tl > 0 ? tl : 1), *p = malloc(pl > 0 ? pl : 1);
	ea_err rc = EA_ERR_NOMEM;

	if(t != NULL && p != NULL){
		memcpy(t, topic, tl);
		memcpy(p, payload, pl);
		rc = ea_engine_message(e, t, tl, p, pl, arrival_ms);
	}
	free(t);
	free(p);
	return rc;
}

/* A twin update (or document) of one property with its value time. */
static ea_err update(ea_engine *e, const char *topic, const char *property, const char *value,
		int64_t value_ms, int64_t arrival_ms)
{
	char payload[1024];

	snprintf(payload, sizeof(payload), "{\"event_id\":\"x\",\"timestamp\":%lld,\"twin\":{\"%s\":"
			"{\"actual\":{\"value\":\"%s\",\"metadata\":{\"timestamp\":%lld}},\"metadata\":{\"type\":\"float\"}}}}",
			(long long)arrival_ms, property, value, (long long)value_ms);
	return message(e, topic, payload, arrival_ms);
}

static ea_err document(ea_engine *e, const char *topic, const char *property, const char *value,
		int64_t value_ms, int64_t arrival_ms)
{
	char payload[1024];

	snprintf(payload, sizeof(payload), "{\"event_id\":\"x\",\"timestamp\":%lld,\"twin\":{\"%s\":{\"last\":null,"
			"\"current\":{\"actual\":{\"value\":\"%s\",\"metadata\":{\"timestamp\":%lld}},"
			"\"metadata\":{\"type\":\"float\"}}}}}",
			(long long)arrival_ms, property, value, (long long)value_ms);
	return message(e, topic, payload, arrival_ms);
}

static ea_err state(ea_engine *e, const char *topic, const char *value, int64_t arrival_ms)
{
	char payload[256];

	snprintf(payload, sizeof(payload), "{\"event_id\":\"s\",\"timestamp\":%lld,\"state\":\"%s\"}",
			(long long)arrival_ms, value);
	return message(e, topic, payload, arrival_ms);
}

/* A member of a parsed result, asserting it is there. */
static const cJSON *member(const cJSON *root, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, name);
	CU_ASSERT_PTR_NOT_NULL(m);
	return m;
}

/* true when member `name` is the string `want`. */
static bool string_member_is(const cJSON *root, const char *name, const char *want)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, name);
	return cJSON_IsString(m) && strcmp(m->valuestring, want) == 0;
}

#define TOPIC_1 "$hw/events/device/pump-1/twin/update"
#define DOC_1 "$hw/events/device/pump-1/twin/update/document"
#define STATE_1 "$hw/events/device/pump-1/state/update"
#define TOPIC_A "$hw/events/device/plant-a/pump-1/twin/update"

/* ------------------------------------------------------------------ */
/* Series, routing, counters                                           */

static void TEST_ea_engine_new_should_start_with_zero_counters(void)
{
	ea_config *cfg = ea_config_defaults();
	ea_engine *e;
	ea_engine_stats st;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = ea_engine_new(cfg, 10, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	st = stats(e);
	CU_ASSERT_EQUAL(st.messages + st.parse_errors + st.unsupported_topics + st.excluded + st.samples
			+ st.duplicates + st.anomalies_raised + st.anomalies_cleared + st.anomalies_repeated
			+ st.series + st.series_evicted, 0);
	for(i = 0; i < EA_MAX_TIMED_DETECTORS; i++){
		CU_ASSERT_PTR_NULL(st.timed_type[i]);
		CU_ASSERT_EQUAL(st.timed_calls[i], 0);
	}
	/* no callback: results are counted, not delivered */
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "NaN", T0, T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(stats(e).anomalies_raised, 1);
	ea_engine_free(e);
	ea_engine_free(NULL);
	ea_config_free(cfg);
}

static void TEST_ea_engine_message_should_create_one_series_per_property(void)
{
	ea_config *cfg = config("default_chain: [type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	ea_engine_stats st;

	/* two properties, each with actual and expected */
	CU_ASSERT_EQUAL(message(e, TOPIC_1, "{\"twin\":{"
			"\"t\":{\"actual\":{\"value\":\"1\"},\"expected\":{\"value\":\"2\"}},"
			"\"p\":{\"actual\":{\"value\":\"3\"},\"expected\":{\"value\":\"4\"}}}}", T0), EA_ERR_OK);
	st = stats(e);
	CU_ASSERT_EQUAL(st.messages, 1);
	CU_ASSERT_EQUAL(st.samples, 4);
	CU_ASSERT_EQUAL(st.series, 2); /* expected values make no series */

	/* the same series again; the one-level id is namespace "default" */
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "5", T0 + 1, T0 + 1), EA_ERR_OK);
	CU_ASSERT_EQUAL(update(e, "$hw/events/device/default/pump-1/twin/update", "t", "6", T0 + 2, T0 + 2), EA_ERR_OK);
	CU_ASSERT_EQUAL(stats(e).series, 2);
	/* another namespace, another device, another property */
	CU_ASSERT_EQUAL(update(e, TOPIC_A, "t", "7", T0 + 3, T0 + 3), EA_ERR_OK);
	CU_ASSERT_EQUAL(update(e, "$hw/events/device/pump-2/twin/update", "t", "8", T0 + 4, T0 + 4), EA_ERR_OK);
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "q", "9", T0 + 5, T0 + 5), EA_ERR_OK);
	/* the device state is a series of its own */
	CU_ASSERT_EQUAL(state(e, STATE_1, "online", T0 + 6), EA_ERR_OK);
	st = stats(e);
	CU_ASSERT_EQUAL(st.series, 6);
	CU_ASSERT_EQUAL(st.messages, 7);
	CU_ASSERT_EQUAL(st.samples, 10);
	CU_ASSERT_EQUAL(st.series_evicted, 0);
	CU_ASSERT_EQUAL(rs->count, 0);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_count_unusable_messages(void)
{
	ea_config *cfg = config("devices:\n  exclude: ['test-*', 'lab/*']\ndefault_chain: [type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	char topic[600];
	char name[EA_NAME_MAX + 2];
	ea_engine_stats st;
	static const char bad_utf8[] = "$hw/events/device/pump\xFF/twin/update";
	static const char with_nul[] = "$hw/events/device/pu\0mp/twin/update";

	/* topics of no known shape */
	CU_ASSERT_EQUAL(message(e, "sensors/pump-1", "{}", T0), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(message(e, "$hw/events/device/pump-1/twin/get", "{}", T0), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_engine_message(e, bad_utf8, sizeof(bad_utf8) - 1, "{}", 2, T0), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_engine_message(e, with_nul, sizeof(with_nul) - 1, "{}", 2, T0), EA_ERR_UNSUPPORTED);
	memset(name, 'n', EA_NAME_MAX + 1);
	name[EA_NAME_MAX + 1] = '\0';
	snprintf(topic, sizeof(topic), "$hw/events/device/%s/twin/update", name);
	CU_ASSERT_EQUAL(update(e, topic, "t", "1", T0, T0), EA_ERR_UNSUPPORTED); /* 257-byte device */
	name[EA_NAME_MAX] = '\0';
	snprintf(topic, sizeof(topic), "$hw/events/device/%s/%s/twin/update", name, name);
	CU_ASSERT_EQUAL(update(e, topic, "t", "1", T0, T0), EA_ERR_OK); /* 256 bytes each is fine */

	/* payloads that are not twin or state JSON */
	CU_ASSERT_EQUAL(message(e, TOPIC_1, "", T0), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(message(e, TOPIC_1, "{\"twin\":", T0), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(message(e, TOPIC_1, "[]", T0), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(message(e, STATE_1, "{\"state\":7}", T0), EA_ERR_PARSE);

	/* excluded devices are counted and not parsed */
	CU_ASSERT_EQUAL(update(e, "$hw/events/device/test-7/twin/update", "t", "1", T0, T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(message(e, "$hw/events/device/lab/pump-1/twin/update", "not json", T0), EA_ERR_OK);

	st = stats(e);
	CU_ASSERT_EQUAL(st.messages, 12);
	CU_ASSERT_EQUAL(st.unsupported_topics, 5);
	CU_ASSERT_EQUAL(st.parse_errors, 4);
	CU_ASSERT_EQUAL(st.excluded, 2);
	CU_ASSERT_EQUAL(st.samples, 1);
	CU_ASSERT_EQUAL(st.series, 1);
	CU_ASSERT_EQUAL(rs->count, 0);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_route_each_series_to_its_chain(void)
{
	ea_config *cfg = config(
			"groups:\n"
			"  pumps: ['pump-*']\n"
			"default_chain: [{range: {max: 10}}]\n"
			"routes:\n"
			"  - match: {namespace: lab}\n"
			"    detectors: []\n"
			"  - match: {group: pumps, property: 'temp*'}\n"
			"    detectors: [{range: {max: 100}}]\n"
			"  - match: {device: 'fan-?'}\n"
			"    detectors: [{range: {min: 60}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	update(e, TOPIC_1, "temperature", "50", T0, T0);                                 /* max 100: fine */
	update(e, TOPIC_1, "pressure", "50", T0, T0);                                    /* default: max 10 */
	update(e, "$hw/events/device/fan-1/twin/update", "temperature", "50", T0, T0);    /* min 60 */
	update(e, "$hw/events/device/lab/pump-1/twin/update", "temperature", "5000", T0, T0); /* nothing */
	update(e, "$hw/events/device/valve-1/twin/update", "temperature", "50", T0, T0); /* default */
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	CU_ASSERT_STRING_EQUAL(rs->r[0].device, "pump-1");
	CU_ASSERT_STRING_EQUAL(rs->r[0].property, "pressure");
	CU_ASSERT_STRING_EQUAL(rs->r[0].reason, "value 50 is above the maximum 10; check the sensor and its calibration");
	CU_ASSERT_STRING_EQUAL(rs->r[1].device, "fan-1");
	CU_ASSERT_STRING_EQUAL(rs->r[1].reason, "value 50 is below the minimum 60; check the sensor and its calibration");
	CU_ASSERT_STRING_EQUAL(rs->r[2].device, "valve-1");
	CU_ASSERT_EQUAL(stats(e).series, 5);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_check_device_state_whatever_the_routes(void)
{
	ea_config *cfg = config("default_chain: []\nroutes:\n  - match: {property: '*'}\n    detectors: []\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	CU_ASSERT_EQUAL(state(e, STATE_1, "offline", T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(state(e, STATE_1, "offline", T0 + 1000), EA_ERR_OK); /* still raised: no result */
	CU_ASSERT_EQUAL(state(e, "$hw/events/device/plant-a/pump-1/state/update", "unknown", T0 + 2000), EA_ERR_OK);
	CU_ASSERT_EQUAL(state(e, STATE_1, "online", T0 + 3000), EA_ERR_OK);
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);

	CU_ASSERT_TRUE(rs->r[0].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[0].ns, "default");
	CU_ASSERT_STRING_EQUAL(rs->r[0].device, "pump-1");
	CU_ASSERT_STRING_EQUAL(rs->r[0].property, "$state");
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "state");
	CU_ASSERT_STRING_EQUAL(rs->r[0].kind, "device-state");
	CU_ASSERT_STRING_EQUAL(rs->r[0].value_text, "offline");
	CU_ASSERT_FALSE(rs->r[0].value_is_number);
	CU_ASSERT_STRING_EQUAL(rs->r[0].topic, "edge-anomaly/default/pump-1/$state");

	CU_ASSERT_TRUE(rs->r[1].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[1].ns, "plant-a");
	CU_ASSERT_STRING_EQUAL(rs->r[1].value_text, "unknown");

	CU_ASSERT_FALSE(rs->r[2].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[2].ns, "default");
	CU_ASSERT_STRING_EQUAL(rs->r[2].value_text, "online");
	CU_ASSERT_EQUAL(rs->r[2].detected_at_ms, T0 + 3000);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* Desired (twin "expected") values go only to detectors that ask for them
 * (`desired`); a chain without one does not even keep a series for them. */
static void TEST_ea_engine_sample_should_not_feed_desired_values_to_detectors(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 10}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	CU_ASSERT_EQUAL(message(e, TOPIC_1, "{\"twin\":{\"t\":{\"expected\":{\"value\":\"99\"}}}}", T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(rs->count, 0);
	CU_ASSERT_EQUAL(stats(e).samples, 1);
	CU_ASSERT_EQUAL(stats(e).series, 0);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

struct external_seen {
	int calls;
	char target[64];
	char device[64];
};

static void on_external_sample(void *ctx, const ea_external *x, const ea_sample *s)
{
	struct external_seen *seen = ctx;
	seen->calls++;
	snprintf(seen->target, sizeof(seen->target), "%s", x->target);
	snprintf(seen->device, sizeof(seen->device), "%s", s->device);
}

/* Samples of a route with `external` reach the hook (reported values,
 * once even when KubeEdge sends update and document); others do not. */
static void TEST_ea_engine_sample_should_hand_external_routes_to_the_hook(void)
{
	ea_config *cfg = config("routes:\n  - match: {device: pump-*}\n    detectors: []\n"
			"    external: {target: 'detectord:50051'}\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	struct external_seen seen = { 0 };

	ea_engine_set_external_fn(e, on_external_sample, &seen);
	CU_ASSERT_EQUAL(message(e, "$hw/events/device/pump-1/twin/update",
			"{\"timestamp\":5,\"twin\":{\"p\":{\"actual\":{\"value\":\"3\"},\"expected\":{\"value\":\"4\"}}}}", T0),
			EA_ERR_OK);
	CU_ASSERT_EQUAL(message(e, "$hw/events/device/pump-1/twin/update/document",
			"{\"timestamp\":5,\"twin\":{\"p\":{\"last\":null,\"current\":{\"actual\":{\"value\":\"3\"}}}}}", T0),
			EA_ERR_OK);
	CU_ASSERT_EQUAL(seen.calls, 1); /* the actual value once; not the expected one */
	CU_ASSERT_STRING_EQUAL(seen.target, "detectord:50051");
	CU_ASSERT_STRING_EQUAL(seen.device, "pump-1");
	CU_ASSERT_EQUAL(message(e, "$hw/events/device/valve-1/twin/update",
			"{\"twin\":{\"p\":{\"actual\":{\"value\":\"3\"}}}}", T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(seen.calls, 1);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_sample_should_give_numeric_detectors_numbers_only(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 10}}, type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	update(e, TOPIC_1, "t", "NaN", T0, T0); /* not a number: only type sees it */
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "type");
	CU_ASSERT_STRING_EQUAL(rs->r[0].kind, "type-error");
	CU_ASSERT_FALSE(rs->r[0].value_is_number);
	update(e, TOPIC_1, "t", "50", T0 + 1000, T0 + 1000); /* a number: range raises, type clears */
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	CU_ASSERT_STRING_EQUAL(rs->r[1].detector, "range");
	CU_ASSERT_TRUE(rs->r[1].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[2].detector, "type");
	CU_ASSERT_FALSE(rs->r[2].anomaly);
	update(e, TOPIC_1, "t", "oops", T0 + 2000, T0 + 2000); /* range keeps its state */
	CU_ASSERT_EQUAL_FATAL(rs->count, 4);
	CU_ASSERT_STRING_EQUAL(rs->r[3].detector, "type");
	CU_ASSERT_TRUE(rs->r[3].anomaly);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* De-duplication                                                      */

static void TEST_ea_engine_message_should_count_a_sample_seen_on_update_and_document_once(void)
{
	ea_config *cfg = config("default_chain: [{stuck: {samples: 2}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	ea_engine_stats st;

	/* EdgeCore republishes every update as a document, the value stamped
	 * with its own clock (here 7 ms later): one reading */
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "5", T0, T0), EA_ERR_OK);
	CU_ASSERT_EQUAL(document(e, DOC_1, "t", "5", T0 + 7, T0 + 3), EA_ERR_OK);
	st = stats(e);
	CU_ASSERT_EQUAL(st.samples, 2);
	CU_ASSERT_EQUAL(st.duplicates, 1);
	CU_ASSERT_EQUAL(st.series, 1);
	CU_ASSERT_EQUAL(rs->count, 0); /* stuck saw one reading, not two */

	/* the next update is the second reading, its echo again nothing */
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "5", T0 + 1000, T0 + 1000), EA_ERR_OK);
	CU_ASSERT_EQUAL(document(e, DOC_1, "t", "5", T0 + 1009, T0 + 1002), EA_ERR_OK);
	CU_ASSERT_EQUAL(stats(e).duplicates, 2);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "stuck");
	CU_ASSERT_TRUE(rs->r[0].anomaly);
	CU_ASSERT_EQUAL(rs->r[0].detected_at_ms, T0 + 1000);

	/* an echo of an older update (EdgeCore behind a fast mapper) is not a
	 * reading either, even with another value */
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "6", T0 + 2000, T0 + 2000), EA_ERR_OK);
	CU_ASSERT_EQUAL(update(e, TOPIC_1, "t", "7", T0 + 2100, T0 + 2100), EA_ERR_OK);
	CU_ASSERT_EQUAL(document(e, DOC_1, "t", "6", T0 + 2150, T0 + 2150), EA_ERR_OK);
	CU_ASSERT_EQUAL(stats(e).duplicates, 3);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_not_merge_samples_that_differ(void)
{
	ea_config *cfg = config("default_chain: [{stuck: {samples: 3, tolerance: 10}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	/* same source twice: a real repeat */
	update(e, TOPIC_1, "t", "5", T0, T0);
	update(e, TOPIC_1, "t", "5", T0, T0 + 1);
	CU_ASSERT_EQUAL(stats(e).duplicates, 0);
	/* a series fed only by documents (a mapper reporting to EdgeCore over
	 * gRPC): every document is a reading */
	document(e, DOC_1, "d", "6", T0, T0 + 2);
	document(e, DOC_1, "d", "6", T0 + 5, T0 + 3);
	document(e, DOC_1, "d", "6", T0 + 5, T0 + 4);
	CU_ASSERT_EQUAL(stats(e).duplicates, 0);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1); /* stuck saw the three */
	CU_ASSERT_STRING_EQUAL(rs->r[0].property, "d");
	/* a document more than a minute after the last update (the mapper
	 * moved to gRPC): a reading */
	document(e, DOC_1, "t", "7", T0 + 61002, T0 + 61002);
	CU_ASSERT_EQUAL(stats(e).duplicates, 0);
	/* device states are never merged */
	state(e, STATE_1, "online", T0 + 61003);
	state(e, STATE_1, "online", T0 + 61003);
	CU_ASSERT_EQUAL(stats(e).duplicates, 0);
	CU_ASSERT_EQUAL(stats(e).samples, 8);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_count_a_resent_reading_again(void)
{
	/* Regression, fixed bug (ea_engine.c:415-421): after an update/document pair is
	 * merged, last_source is set to the document's source "so that a third
	 * copy is a real repeat", but a third copy that comes on twin/update
	 * (the mapper resending the same reading: update, document, update,
	 * document) differs from last_source again and is merged as well, and
	 * so is every later copy. Each resend of a cached reading with its old
	 * timestamp is swallowed, so stuck never sees it; expected: update #2
	 * counted as a reading (stuck with samples 2 raises), 2 duplicates;
	 * actual: 3 duplicates and no result. */
	ea_config *cfg = config("default_chain: [{stuck: {samples: 2}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	update(e, TOPIC_1, "t", "5", T0, T0);
	document(e, DOC_1, "t", "5", T0, T0 + 1);
	update(e, TOPIC_1, "t", "5", T0, T0 + 1000);  /* resent */
	document(e, DOC_1, "t", "5", T0, T0 + 1001);
	CU_ASSERT_EQUAL(stats(e).duplicates, 2);
	CU_ASSERT_EQUAL(rs->count, 1);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* Raise, repeat, clear                                                */

static void TEST_ea_engine_message_should_raise_once_repeat_at_the_interval_and_clear(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 10}}]\nresults: {repeat_interval: 60s}\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	ea_engine_stats st;
	int i;

	for(i = 0; i <= 4; i++){ /* out of range every 30 s for 2 minutes */
		update(e, TOPIC_1, "t", "20", T0 + i * 30000, T0 + i * 30000);
	}
	update(e, TOPIC_1, "t", "5", T0 + 130000, T0 + 130000);
	update(e, TOPIC_1, "t", "6", T0 + 140000, T0 + 140000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 4);
	CU_ASSERT_TRUE(rs->r[0].anomaly);
	CU_ASSERT_EQUAL(rs->r[0].detected_at_ms, T0);
	CU_ASSERT_TRUE(rs->r[1].anomaly); /* repeat */
	CU_ASSERT_EQUAL(rs->r[1].detected_at_ms, T0 + 60000);
	CU_ASSERT_TRUE(rs->r[2].anomaly); /* repeat */
	CU_ASSERT_EQUAL(rs->r[2].detected_at_ms, T0 + 120000);
	/* the readings between repeats are not explained, the results are */
	CU_ASSERT_STRING_EQUAL(rs->r[0].reason, "value 20 is above the maximum 10; check the sensor and its calibration");
	CU_ASSERT_STRING_EQUAL(rs->r[1].reason, rs->r[0].reason);
	CU_ASSERT_STRING_EQUAL(rs->r[2].reason, rs->r[0].reason);
	CU_ASSERT_FALSE(rs->r[3].anomaly); /* clear */
	CU_ASSERT_EQUAL(rs->r[3].detected_at_ms, T0 + 130000);
	CU_ASSERT_DOUBLE_EQUAL(rs->r[3].value_number, 5, 0);
	CU_ASSERT_STRING_EQUAL(rs->r[3].reason, "value 5 is within range");
	st = stats(e);
	CU_ASSERT_EQUAL(st.anomalies_raised, 1);
	CU_ASSERT_EQUAL(st.anomalies_repeated, 2);
	CU_ASSERT_EQUAL(st.anomalies_cleared, 1);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_never_repeat_with_a_zero_interval(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 10}}]\nresults: {repeat_interval: 0}\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	int i;

	for(i = 0; i < 10; i++) update(e, TOPIC_1, "t", "20", T0 + i * 3600000, T0 + i * 3600000);
	CU_ASSERT_EQUAL(rs->count, 1);
	CU_ASSERT_EQUAL(stats(e).anomalies_repeated, 0);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_idle_should_raise_staleness_and_the_next_sample_clear_it(void)
{
	ea_config *cfg = config("default_chain: [{staleness: {interval: 10s}}]\nresults: {repeat_interval: 60s}\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);

	ea_engine_idle(e, T0); /* no series yet */
	update(e, TOPIC_1, "t", "21.5", T0 - 500, T0);
	ea_engine_idle(e, T0 + 5000);
	ea_engine_idle(e, T0 + 10000);
	CU_ASSERT_EQUAL(rs->count, 0);
	ea_engine_idle(e, T0 + 10001);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_TRUE(rs->r[0].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "staleness");
	CU_ASSERT_STRING_EQUAL(rs->r[0].kind, "stale");
	CU_ASSERT_EQUAL(rs->r[0].sample_time_ms, T0 - 500); /* the last sample */
	CU_ASSERT_EQUAL(rs->r[0].detected_at_ms, T0 + 10001);
	CU_ASSERT_STRING_EQUAL(rs->r[0].value_text, "21.5");
	CU_ASSERT_TRUE(rs->r[0].value_is_number);
	CU_ASSERT_DOUBLE_EQUAL(rs->r[0].value_number, 21.5, 0);
	/* still silent: repeated only after repeat_interval */
	ea_engine_idle(e, T0 + 20000);
	ea_engine_idle(e, T0 + 60000);
	CU_ASSERT_EQUAL(rs->count, 1);
	ea_engine_idle(e, T0 + 70001);
	CU_ASSERT_EQUAL_FATAL(rs->count, 2);
	CU_ASSERT_TRUE(rs->r[1].anomaly);
	/* the next sample clears it */
	update(e, TOPIC_1, "t", "22", T0 + 80000, T0 + 80000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	CU_ASSERT_FALSE(rs->r[2].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[2].detector, "staleness");
	CU_ASSERT_EQUAL(rs->r[2].detected_at_ms, T0 + 80000);
	ea_engine_idle(e, T0 + 85000);
	CU_ASSERT_EQUAL(rs->count, 3);
	CU_ASSERT_EQUAL(stats(e).anomalies_raised, 1);
	CU_ASSERT_EQUAL(stats(e).anomalies_repeated, 1);
	CU_ASSERT_EQUAL(stats(e).anomalies_cleared, 1);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_idle_should_report_the_value_as_reported(void)
{
	/* Regression, fixed bug (ea_engine.c:19, 44, 429, 498): a series keeps its last
	 * value in last_text[LAST_TEXT_MAX = 64], and idle results (staleness)
	 * give that copy as value_text, so a value is cut to 63 bytes, without
	 * the "..." and possibly inside a UTF-8 character (then published as
	 * U+FFFD), while results of samples carry up to EA_RESULT_VALUE_MAX
	 * (256) bytes of "the value as reported" (ea_engine.h). Expected: the
	 * 100-byte value whole; actual: its first 63 bytes. */
	ea_config *cfg = config("default_chain: [{staleness: {interval: 1s}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	char value[101], payload[512];
	cJSON *root;

	memset(value, 'v', 100);
	value[100] = '\0';
	memcpy(value + 62, "\xC3\xA9", 2); /* a character across byte 63 */
	snprintf(payload, sizeof(payload), "{\"twin\":{\"mode\":{\"actual\":{\"value\":\"%s\"},"
			"\"metadata\":{\"type\":\"string\"}}}}", value);
	CU_ASSERT_EQUAL(message(e, TOPIC_1, payload, T0), EA_ERR_OK);
	ea_engine_idle(e, T0 + 5000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_STRING_EQUAL(rs->r[0].value_text, value);
	root = cJSON_Parse(rs->r[0].json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(string_member_is(root, "value", value));
	cJSON_Delete(root);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_report_an_injected_spike_exactly_once_and_clear_it(void)
{
	ea_config *cfg = ea_config_defaults(); /* type, spike, stuck, staleness */
	struct results *rs = results_new();
	ea_engine *e;
	uint32_t seed = 12345;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = engine(cfg, 100, rs);
	for(i = 0; i < 600; i++){
		char value[32];
		double x;
		seed = seed * 1664525u + 1013904223u;
		x = 20.0 + 2.0 * sin(2.0 * M_PI * i / 200.0) + 0.5 * ((double)(seed >> 8) / 8388608.0 - 1.0);
		if(i == 300) x += 30.0;
		snprintf(value, sizeof(value), "%.6f", x);
		update(e, TOPIC_A, "temperature", value, T0 + i * 1000, T0 + i * 1000 + 5);
		if(i % 10 == 0) ea_engine_idle(e, T0 + i * 1000 + 6);
	}
	CU_ASSERT_EQUAL_FATAL(rs->count, 2);
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "spike");
	CU_ASSERT_TRUE(rs->r[0].anomaly);
	CU_ASSERT_EQUAL(rs->r[0].sample_time_ms, T0 + 300000);
	CU_ASSERT(rs->r[0].value_number > 45.0);
	CU_ASSERT_STRING_EQUAL(rs->r[1].detector, "spike");
	CU_ASSERT_FALSE(rs->r[1].anomaly);
	CU_ASSERT_EQUAL(rs->r[1].sample_time_ms, T0 + 301000);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_message_should_report_a_frozen_value_after_stuck_samples(void)
{
	ea_config *cfg = ea_config_defaults(); /* stuck: 20 readings */
	struct results *rs = results_new();
	ea_engine *e;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	e = engine(cfg, 100, rs);
	for(i = 1; i <= 25; i++) update(e, TOPIC_1, "pressure", "2.5", T0 + i * 1000, T0 + i * 1000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_STRING_EQUAL(rs->r[0].detector, "stuck");
	CU_ASSERT_EQUAL(rs->r[0].sample_time_ms, T0 + 20000);
	/* a change clears it (and, after a flat line, is also a spike) */
	update(e, TOPIC_1, "pressure", "2.6", T0 + 26000, T0 + 26000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	CU_ASSERT_STRING_EQUAL(rs->r[1].detector, "spike");
	CU_ASSERT_TRUE(rs->r[1].anomaly);
	CU_ASSERT_STRING_EQUAL(rs->r[2].detector, "stuck");
	CU_ASSERT_FALSE(rs->r[2].anomaly);
	CU_ASSERT_EQUAL(rs->r[2].sample_time_ms, T0 + 26000);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* Eviction, config switches, timing                                   */

static void TEST_ea_engine_message_should_evict_the_least_recently_used_series_at_max_series(void)
{
	ea_config *cfg = config("default_chain: [{staleness: {interval: 1s}}]\nresults: {repeat_interval: 0}\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 3, rs);
	ea_engine_stats st;
	bool seen[4] = { false, false, false, false };
	size_t i;

	update(e, "$hw/events/device/a/twin/update", "t", "1", T0, T0);
	update(e, "$hw/events/device/b/twin/update", "t", "1", T0 + 1, T0 + 1);
	update(e, "$hw/events/device/c/twin/update", "t", "1", T0 + 2, T0 + 2);
	update(e, "$hw/events/device/a/twin/update", "t", "2", T0 + 3, T0 + 3); /* a is recent again */
	st = stats(e);
	CU_ASSERT_EQUAL(st.series, 3);
	CU_ASSERT_EQUAL(st.series_evicted, 0);
	update(e, "$hw/events/device/d/twin/update", "t", "1", T0 + 4, T0 + 4);   /* evicts b */
	st = stats(e);
	CU_ASSERT_EQUAL(st.series, 3);
	CU_ASSERT_EQUAL(st.series_evicted, 1);

	/* every series still tracked goes stale: a, c and d, not b */
	ea_engine_idle(e, T0 + 60000);
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	for(i = 0; i < rs->count; i++){
		CU_ASSERT_EQUAL(strlen(rs->r[i].device), 1);
		if(rs->r[i].device[0] >= 'a' && rs->r[i].device[0] <= 'd') seen[rs->r[i].device[0] - 'a'] = true;
	}
	CU_ASSERT_TRUE(seen[0]);
	CU_ASSERT_FALSE(seen[1]);
	CU_ASSERT_TRUE(seen[2]);
	CU_ASSERT_TRUE(seen[3]);

	/* b comes back as a new series and evicts the oldest (c) */
	update(e, "$hw/events/device/b/twin/update", "t", "1", T0 + 70000, T0 + 70000);
	st = stats(e);
	CU_ASSERT_EQUAL(st.series, 3);
	CU_ASSERT_EQUAL(st.series_evicted, 2);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_new_should_keep_at_least_one_series(void)
{
	ea_config *cfg = config("default_chain: [type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 0, rs); /* 0 means 1 */
	int i;

	for(i = 0; i < 50; i++){
		char prop[16];
		snprintf(prop, sizeof(prop), "p%d", i);
		update(e, TOPIC_1, prop, "1", T0 + i, T0 + i);
	}
	CU_ASSERT_EQUAL(stats(e).series, 1);
	CU_ASSERT_EQUAL(stats(e).series_evicted, 49);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_sample_should_find_every_series_past_the_initial_table(void)
{
	ea_config *cfg = config("default_chain: [{stuck: {samples: 2}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100000, rs);
	ea_sample s;
	char prop[32];
	int i, round;

	/* more series than the initial 1024 buckets, each seen twice: every
	 * one must be found again for stuck to raise */
	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = "dev";
	s.property = prop;
	s.text = "1";
	s.has_number = true;
	s.number = 1;
	s.type_ok = true;
	s.source = EA_SOURCE_REPLAY;
	for(round = 0; round < 2; round++){
		for(i = 0; i < 3000; i++){
			snprintf(prop, sizeof(prop), "p%d", i);
			s.time_ms = s.arrival_ms = T0 + round * 10000 + i;
			ea_engine_sample(e, &s);
		}
	}
	CU_ASSERT_EQUAL(stats(e).series, 3000);
	CU_ASSERT_EQUAL(stats(e).anomalies_raised, 3000);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_engine_set_config_should_keep_unchanged_chains_and_restart_others(void)
{
	const char *yaml = "default_chain: [{stuck: {samples: 3}}]\n"
			"routes:\n  - match: {property: 'x*'}\n    detectors: [{stuck: {samples: 3}}]\n";
	ea_config *a = config(yaml);
	ea_config *same = config(yaml); /* equal chains in another config */
	ea_config *other = config("default_chain: [{stuck: {samples: 3}}]\n"
			"routes:\n  - match: {property: 'x*'}\n    detectors: [{stuck: {samples: 4}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(a, 100, rs);

	update(e, TOPIC_1, "t", "1", T0, T0);
	update(e, TOPIC_1, "x1", "1", T0, T0);
	update(e, TOPIC_1, "t", "1", T0 + 1, T0 + 1);
	update(e, TOPIC_1, "x1", "1", T0 + 1, T0 + 1);
	state(e, STATE_1, "online", T0 + 1);
	CU_ASSERT_EQUAL(stats(e).series, 3);

	ea_engine_set_config(e, same);
	ea_config_free(a);
	CU_ASSERT_EQUAL(stats(e).series, 3);
	update(e, TOPIC_1, "t", "1", T0 + 2, T0 + 2); /* third reading: kept state raises */
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	CU_ASSERT_STRING_EQUAL(rs->r[0].property, "t");

	ea_engine_set_config(e, other); /* x1's chain changed: it starts again */
	CU_ASSERT_EQUAL(stats(e).series, 2);
	update(e, TOPIC_1, "x1", "1", T0 + 2, T0 + 2);
	update(e, TOPIC_1, "x1", "1", T0 + 3, T0 + 3);
	update(e, TOPIC_1, "x1", "1", T0 + 4, T0 + 4);
	CU_ASSERT_EQUAL(rs->count, 1); /* 3 readings of a fresh series with samples 4 */
	update(e, TOPIC_1, "x1", "1", T0 + 5, T0 + 5);
	CU_ASSERT_EQUAL_FATAL(rs->count, 2);
	CU_ASSERT_STRING_EQUAL(rs->r[1].property, "x1");
	/* the state series survived every switch */
	state(e, STATE_1, "offline", T0 + 6);
	CU_ASSERT_EQUAL_FATAL(rs->count, 3);
	CU_ASSERT_STRING_EQUAL(rs->r[2].detector, "state");
	ea_engine_free(e);
	ea_config_free(same);
	ea_config_free(other);
	free(rs);
}

static void TEST_ea_engine_stats_read_should_time_one_detector_call_in_64(void)
{
	ea_config *cfg = config("default_chain: [{range: {max: 1000}}, type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	ea_engine_stats st;
	uint64_t calls = 0;
	size_t i;
	int k;

	for(k = 0; k < 640; k++) update(e, TOPIC_1, "t", "1", T0 + k, T0 + k); /* 1280 detector calls */
	st = stats(e);
	for(i = 0; i < EA_MAX_TIMED_DETECTORS; i++){
		if(st.timed_type[i] == NULL) continue;
		CU_ASSERT(st.timed_type[i] == &ea_detector_range || st.timed_type[i] == &ea_detector_type_check);
		calls += st.timed_calls[i];
	}
	CU_ASSERT_EQUAL(calls, 1280 / 64);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* ------------------------------------------------------------------ */
/* Result JSON                                                         */

static void TEST_ea_result_to_json_should_publish_every_field(void)
{
	ea_config *cfg = config("default_chain: [{range: {min: 0, max: 120}}]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	const struct res *r;
	cJSON *root;
	const cJSON *m;

	update(e, "$hw/events/device/plant-a/boiler-1/twin/update", "temperature", "180", T0, T0 + 4);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	r = &rs->r[0];
	CU_ASSERT(r->json_len > 0);
	CU_ASSERT_EQUAL(r->json_len, strlen(r->json));
	CU_ASSERT_TRUE(ea_utf8_valid(r->json, r->json_len));
	root = cJSON_Parse(r->json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(cJSON_IsObject(root));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(root), 12);
	CU_ASSERT_TRUE(string_member_is(root, "namespace", "plant-a"));
	CU_ASSERT_TRUE(string_member_is(root, "device", "boiler-1"));
	CU_ASSERT_TRUE(string_member_is(root, "property", "temperature"));
	m = member(root, "value");
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	if(cJSON_IsNumber(m)) CU_ASSERT_DOUBLE_EQUAL(m->valuedouble, 180, 0);
	CU_ASSERT_TRUE(string_member_is(root, "timestamp", "2025-11-22T08:00:00.000Z"));
	CU_ASSERT_TRUE(string_member_is(root, "detector", "range"));
	CU_ASSERT_TRUE(string_member_is(root, "kind", "out-of-range"));
	m = member(root, "anomaly");
	CU_ASSERT_TRUE(cJSON_IsTrue(m));
	m = member(root, "anomalyScore");
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	if(cJSON_IsNumber(m)){
		CU_ASSERT_DOUBLE_EQUAL(m->valuedouble, r->score, 1e-4);
		CU_ASSERT_DOUBLE_EQUAL(m->valuedouble, 0.75, 1e-4); /* 60 over, range width 120 */
	}
	m = member(root, "confidence");
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	if(cJSON_IsNumber(m)) CU_ASSERT_DOUBLE_EQUAL(m->valuedouble, 1, 0);
	CU_ASSERT_TRUE(string_member_is(root, "reason",
			"value 180 is above the maximum 120; check the sensor and its calibration"));
	CU_ASSERT_TRUE(string_member_is(root, "detectedAt", "2025-11-22T08:00:00.004Z"));
	cJSON_Delete(root);

	/* the clear: anomaly false */
	update(e, "$hw/events/device/plant-a/boiler-1/twin/update", "temperature", "90.25", T0 + 1000, T0 + 1001);
	CU_ASSERT_EQUAL_FATAL(rs->count, 2);
	root = cJSON_Parse(rs->r[1].json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(cJSON_IsFalse(member(root, "anomaly")));
	m = member(root, "value");
	CU_ASSERT_TRUE(cJSON_IsNumber(m));
	if(cJSON_IsNumber(m)) CU_ASSERT_DOUBLE_EQUAL(m->valuedouble, 90.25, 0);
	CU_ASSERT_TRUE(string_member_is(root, "timestamp", "2025-11-22T08:00:01.000Z"));
	CU_ASSERT_TRUE(string_member_is(root, "detectedAt", "2025-11-22T08:00:01.001Z"));
	cJSON_Delete(root);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

static void TEST_ea_result_to_json_should_give_non_numbers_as_strings(void)
{
	ea_config *cfg = config("default_chain: [type]\n");
	struct results *rs = results_new();
	ea_engine *e = engine(cfg, 100, rs);
	cJSON *root;

	update(e, TOPIC_1, "t", "21,5", T0, T0);
	CU_ASSERT_EQUAL_FATAL(rs->count, 1);
	root = cJSON_Parse(rs->r[0].json);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(string_member_is(root, "value", "21,5"));
	CU_ASSERT_TRUE(string_member_is(root, "kind", "type-error"));
	CU_ASSERT_TRUE(string_member_is(root, "reason", "value \"21,5\" is not a valid float, the type the twin "
			"declares; check the mapper's conversion"));
	cJSON_Delete(root);
	ea_engine_free(e);
	ea_config_free(cfg);
	free(rs);
}

/* A result with every field set, for the formatting functions. */
static ea_result sample_result(void)
{
	ea_result r;

	memset(&r, 0, sizeof(r));
	r.ns = "plant-a";
	r.device = "pump-1";
	r.property = "temperature";
	r.detector = "range";
	r.kind = "out-of-range";
	r.reason = "value 180 is above the maximum 120";
	r.value_text = "180";
	r.value_is_number = true;
	r.value_number = 180;
	r.sample_time_ms = T0;
	r.detected_at_ms = T0 + 4;
	r.anomaly = true;
	r.score = 0.8333333;
	r.confidence = 1;
	return r;
}

static void TEST_ea_result_to_json_should_escape_strings_and_replace_invalid_utf8(void)
{
	ea_result r = sample_result();
	char buf[2048];
	size_t n;
	cJSON *root;

	r.ns = "ns \"quoted\" \\ back";
	r.device = "line\nbreak\ttab\x01\x1f\x7f";
	r.property = "caf\xC3\xA9 \xF0\x9F\x98\x80";
	r.reason = "bad \xFF\xFE bytes \xC3 cut \xED\xA0\x80 surrogate";
	r.value_is_number = false;
	r.value_text = "\"</script>\"";
	n = ea_result_to_json(&r, buf, sizeof(buf));
	CU_ASSERT(n > 0);
	CU_ASSERT_TRUE(ea_utf8_valid(buf, n));
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(string_member_is(root, "namespace", "ns \"quoted\" \\ back"));
	CU_ASSERT_TRUE(string_member_is(root, "device", "line\nbreak\ttab\x01\x1f\x7f"));
	CU_ASSERT_TRUE(string_member_is(root, "property", "caf\xC3\xA9 \xF0\x9F\x98\x80"));
	CU_ASSERT_TRUE(string_member_is(root, "reason", "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD cut "
			"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate"));
	CU_ASSERT_TRUE(string_member_is(root, "value", "\"</script>\""));
	cJSON_Delete(root);
}

static void TEST_ea_result_to_json_should_never_write_nan_or_infinity(void)
{
	ea_result r = sample_result();
	char buf[2048];
	cJSON *root;
	const cJSON *m;

	r.score = NAN;
	r.confidence = INFINITY;
	r.value_number = NAN; /* not a usable number: the text is used */
	r.value_text = "NaN";
	CU_ASSERT(ea_result_to_json(&r, buf, sizeof(buf)) > 0);
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	m = member(root, "anomalyScore");
	CU_ASSERT_TRUE(cJSON_IsNumber(m) && m->valuedouble == 0.0);
	m = member(root, "confidence");
	CU_ASSERT_TRUE(cJSON_IsNumber(m) && m->valuedouble == 0.0);
	CU_ASSERT_TRUE(string_member_is(root, "value", "NaN"));
	cJSON_Delete(root);

	r.value_number = -1e300; /* extreme but finite */
	CU_ASSERT(ea_result_to_json(&r, buf, sizeof(buf)) > 0);
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	m = member(root, "value");
	CU_ASSERT_TRUE(cJSON_IsNumber(m) && m->valuedouble == -1e300);
	cJSON_Delete(root);
}

static void TEST_ea_result_to_json_should_return_0_when_the_buffer_is_too_small(void)
{
	ea_result r = sample_result();
	char full[2048];
	size_t need = ea_result_to_json(&r, full, sizeof(full)), len;
	unsigned wrong = 0;

	CU_ASSERT_FATAL(need > 0);
	CU_ASSERT_EQUAL(ea_result_to_json(&r, full, 0), 0);
	for(len = 1; len <= need + 1; len++){
		char *buf = malloc(len); /* exactly sized: ASan catches overflows */
		size_t n;
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		n = ea_result_to_json(&r, buf, len);
		if(len <= need){
			if(n != 0 || buf[0] != '\0') wrong++;
		}else{
			if(n != need || strcmp(buf, full) != 0) wrong++;
		}
		free(buf);
	}
	CU_ASSERT_EQUAL(wrong, 0);
}

static void TEST_ea_result_to_json_should_cut_long_values_at_a_character_boundary(void)
{
	ea_result r = sample_result();
	char text[1001], want[EA_RESULT_VALUE_MAX + 8];
	char buf[4096];
	cJSON *root;

	r.value_is_number = false;
	memset(text, 'a', 1000);
	text[1000] = '\0';
	r.value_text = text;
	CU_ASSERT(ea_result_to_json(&r, buf, sizeof(buf)) > 0);
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	memset(want, 'a', EA_RESULT_VALUE_MAX);
	memcpy(want + EA_RESULT_VALUE_MAX, "...", 4);
	CU_ASSERT_TRUE(string_member_is(root, "value", want));
	cJSON_Delete(root);

	/* a two-byte character across the limit is kept whole */
	memcpy(text + EA_RESULT_VALUE_MAX - 1, "\xC3\xA9", 2);
	CU_ASSERT(ea_result_to_json(&r, buf, sizeof(buf)) > 0);
	CU_ASSERT_TRUE(ea_utf8_valid(buf, strlen(buf)));
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	memset(want, 'a', EA_RESULT_VALUE_MAX - 1);
	memcpy(want + EA_RESULT_VALUE_MAX - 1, "\xC3\xA9...", 6);
	CU_ASSERT_TRUE(string_member_is(root, "value", want));
	cJSON_Delete(root);

	/* exactly the limit is not cut */
	text[EA_RESULT_VALUE_MAX] = '\0';
	memset(text, 'b', EA_RESULT_VALUE_MAX);
	CU_ASSERT(ea_result_to_json(&r, buf, sizeof(buf)) > 0);
	root = cJSON_Parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_TRUE(string_member_is(root, "value", text));
	cJSON_Delete(root);
}

static void TEST_ea_result_to_json_should_fit_the_worst_case_in_EA_RESULT_JSON_MAX(void)
{
	/* names of EA_NAME_MAX control bytes (6 bytes each escaped), the longest
	 * value and reason, all escaped */
	char name[EA_NAME_MAX + 1], value[EA_RESULT_VALUE_MAX * 2 + 1], reason[EA_REASON_MAX];
	ea_result r = sample_result();
	char *buf = malloc(EA_RESULT_JSON_MAX);
	size_t n;
	cJSON *root;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memset(name, '\x01', EA_NAME_MAX);
	name[EA_NAME_MAX] = '\0';
	memset(value, '\x02', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	memset(reason, '\x03', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	r.ns = r.device = r.property = name;
	r.value_text = value;
	r.value_is_number = false;
	r.reason = reason;
	r.sample_time_ms = INT64_MAX; /* "invalid-time" */
	n = ea_result_to_json(&r, buf, EA_RESULT_JSON_MAX);
	CU_ASSERT(n > 0 && n < EA_RESULT_JSON_MAX);
	root = n > 0 ? cJSON_Parse(buf) : NULL;
	CU_ASSERT_PTR_NOT_NULL(root);
	if(root != NULL){
		CU_ASSERT_TRUE(string_member_is(root, "namespace", name));
		CU_ASSERT_TRUE(string_member_is(root, "timestamp", "invalid-time"));
	}
	cJSON_Delete(root);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Result topic                                                        */

static void TEST_ea_result_topic_should_expand_the_template(void)
{
	ea_result r = sample_result();
	char buf[256];

	CU_ASSERT_EQUAL(ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", &r, buf, sizeof(buf)),
			strlen("edge-anomaly/plant-a/pump-1/temperature"));
	CU_ASSERT_STRING_EQUAL(buf, "edge-anomaly/plant-a/pump-1/temperature");
	ea_result_topic("alerts/{detector}/{device}-{property}", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "alerts/range/pump-1-temperature");
	ea_result_topic("{device}{device}", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "pump-1pump-1");
	ea_result_topic("fixed/topic", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "fixed/topic");
	/* anything else in braces is text */
	ea_result_topic("x/{kind}/{namespace/{device", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "x/{kind}/{namespace/{device");
}

static void TEST_ea_result_topic_should_sanitise_names(void)
{
	ea_result r = sample_result();
	char buf[256];

	r.ns = "a/b";
	r.device = "x+y#z";
	r.property = "p\x01q\x7fr\x1f";
	ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "edge-anomaly/a_b/x_y_z/p_q_r_");
	CU_ASSERT_TRUE(ea_topic_matches("edge-anomaly/+/+/+", buf));

	r.ns = "bad\xFF\xFE";
	r.device = "cut\xC3";
	r.property = "caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80";
	ea_result_topic("{namespace}/{device}/{property}", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "bad__/cut_/caf\xC3\xA9-\xE2\x82\xAC-\xF0\x9F\x98\x80");
	CU_ASSERT_TRUE(ea_utf8_valid(buf, strlen(buf)));

	r.ns = "default";
	r.device = "pump-1";
	r.property = "$state";
	ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", &r, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "edge-anomaly/default/pump-1/$state");
}

static void TEST_ea_result_topic_should_return_0_when_the_buffer_is_too_small(void)
{
	ea_result r = sample_result();
	const char *want = "edge-anomaly/plant-a/pump-1/temperature";
	size_t need = strlen(want), len;
	unsigned wrong = 0;
	char *big;

	CU_ASSERT_EQUAL(ea_result_topic("edge-anomaly/{namespace}", &r, NULL, 0), 0);
	for(len = 1; len <= need + 1; len++){
		char *buf = malloc(len);
		size_t n;
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		n = ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", &r, buf, len);
		if(len <= need){
			if(n != 0 || buf[0] != '\0') wrong++;
		}else{
			if(n != need || strcmp(buf, want) != 0) wrong++;
		}
		free(buf);
	}
	CU_ASSERT_EQUAL(wrong, 0);

	/* longer than an MQTT topic can be */
	big = malloc(70000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', 65536);
	big[65536] = '\0';
	r.device = big + 1; /* 65535 bytes */
	{
		char *out = malloc(140000);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_EQUAL(ea_result_topic("{device}", &r, out, 140000), 65535);
		CU_ASSERT_EQUAL(ea_result_topic("x{device}", &r, out, 140000), 0);
		CU_ASSERT_EQUAL(out[0], '\0');
		free(out);
	}
	free(big);
}

/* ------------------------------------------------------------------ */

#define TEST(fn) { #fn, fn }

void init_engine_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_engine_new_should_start_with_zero_counters),
		TEST(TEST_ea_engine_message_should_create_one_series_per_property),
		TEST(TEST_ea_engine_message_should_count_unusable_messages),
		TEST(TEST_ea_engine_message_should_route_each_series_to_its_chain),
		TEST(TEST_ea_engine_message_should_check_device_state_whatever_the_routes),
		TEST(TEST_ea_engine_sample_should_not_feed_desired_values_to_detectors),
		TEST(TEST_ea_engine_sample_should_give_numeric_detectors_numbers_only),
		TEST(TEST_ea_engine_message_should_count_a_sample_seen_on_update_and_document_once),
		TEST(TEST_ea_engine_message_should_not_merge_samples_that_differ),
		TEST(TEST_ea_engine_message_should_count_a_resent_reading_again),
		TEST(TEST_ea_engine_message_should_raise_once_repeat_at_the_interval_and_clear),
		TEST(TEST_ea_engine_message_should_never_repeat_with_a_zero_interval),
		TEST(TEST_ea_engine_idle_should_raise_staleness_and_the_next_sample_clear_it),
		TEST(TEST_ea_engine_idle_should_report_the_value_as_reported),
		TEST(TEST_ea_engine_message_should_report_an_injected_spike_exactly_once_and_clear_it),
		TEST(TEST_ea_engine_message_should_report_a_frozen_value_after_stuck_samples),
		TEST(TEST_ea_engine_message_should_evict_the_least_recently_used_series_at_max_series),
		TEST(TEST_ea_engine_new_should_keep_at_least_one_series),
		TEST(TEST_ea_engine_sample_should_hand_external_routes_to_the_hook),
		TEST(TEST_ea_engine_sample_should_find_every_series_past_the_initial_table),
		TEST(TEST_ea_engine_set_config_should_keep_unchanged_chains_and_restart_others),
		TEST(TEST_ea_engine_stats_read_should_time_one_detector_call_in_64),
		TEST(TEST_ea_result_to_json_should_publish_every_field),
		TEST(TEST_ea_result_to_json_should_give_non_numbers_as_strings),
		TEST(TEST_ea_result_to_json_should_escape_strings_and_replace_invalid_utf8),
		TEST(TEST_ea_result_to_json_should_never_write_nan_or_infinity),
		TEST(TEST_ea_result_to_json_should_return_0_when_the_buffer_is_too_small),
		TEST(TEST_ea_result_to_json_should_cut_long_values_at_a_character_boundary),
		TEST(TEST_ea_result_to_json_should_fit_the_worst_case_in_EA_RESULT_JSON_MAX),
		TEST(TEST_ea_result_topic_should_expand_the_template),
		TEST(TEST_ea_result_topic_should_sanitise_names),
		TEST(TEST_ea_result_topic_should_return_0_when_the_buffer_is_too_small),
	};
	CU_pSuite suite = CU_add_suite("engine", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
