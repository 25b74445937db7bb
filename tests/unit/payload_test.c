/* SPDX-License-Identifier: Apache-2.0
 *
 * payload_test.c - unit tests of ea_payload.c: KubeEdge twin update, twin
 * document and device state payloads turned into samples.
 *
 * Well-formed payloads must give one sample per actual and expected value
 * with the right names, text, declared type, number and time (value
 * timestamp, else message timestamp, else arrival). Malformed ones (empty,
 * truncated at every byte, not an object, twin not an object, null or
 * structured values, deep nesting, over-long or invalid UTF-8 property
 * names, trailing junk) must be reported or skipped without a crash. Every
 * payload is copied into an exactly sized heap buffer without a NUL, so
 * ASan reports any read beyond the length.
 */
#include "unit_tests.h"

#include "ea_payload.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRIVAL_MS INT64_C(1763798400000)
#define MSG_MS INT64_C(1763798300000)
#define VALUE_MS INT64_C(1763798200000)
#define MAX_GOT 16

struct got {
	char ns[EA_NAME_MAX + 1];
	char device[EA_NAME_MAX + 1];
	char property[EA_NAME_MAX + 1];
	char text[256];
	ea_value_type declared;
	bool has_number;
	bool type_ok;
	bool desired;
	double number;
	int64_t time_ms;
	int64_t arrival_ms;
	ea_source source;
};

struct collector {
	size_t count;
	struct got s[MAX_GOT];
};

static void collect(void *ctx, const ea_sample *s)
{
	struct collector *c = ctx;
	struct got *g;

	if(c->count >= MAX_GOT){
		c->count++;
		return;
	}
	g = &c->s[c->count++];
	snprintf(g->ns, sizeof(g->ns), "%s", s->ns);
	snprintf(g->device, sizeof(g->device), "%s", s->device);
	snprintf(g->property, sizeof(g->property), "%s", s->property);
	snprintf(g->text, sizeof(g->text), "%s", s->text);
	g->declared = s->declared;
	g->has_number = s->has_number;
	g->type_ok = s->type_ok;
	g->desired = s->desired;
	g->number = s->number;
	g->time_ms = s->time_ms;
	g->arrival_ms = s->arrival_ms;
	g->source = s->source;
}

/* Parses `len` bytes of `payload` from an exactly sized copy. */
static ea_err parse_len(const char *payload, size_t len, ea_topic_kind kind,
		struct collector *c, ea_parse_error *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	ea_err rc;

	memset(c, 0, sizeof(*c));
	if(err != NULL) memset(err, 0, sizeof(*err));
	if(copy == NULL) return EA_ERR_NOMEM;
	memcpy(copy, payload, len);
	rc = ea_payload_parse(copy, len, kind, "plant-a", "pump-1", ARRIVAL_MS, collect, c, err);
	free(copy);
	return rc;
}

static ea_err parse(const char *payload, ea_topic_kind kind, struct collector *c, ea_parse_error *err)
{
	return parse_len(payload, strlen(payload), kind, c, err);
}

/* The sample of `property` (desired or actual), or NULL. */
static const struct got *find(const struct collector *c, const char *property, bool desired)
{
	size_t i;

	for(i = 0; i < c->count && i < MAX_GOT; i++){
		if(strcmp(c->s[i].property, property) == 0 && c->s[i].desired == desired) return &c->s[i];
	}
	return NULL;
}

static const char update_payload[] =
	"{\"event_id\":\"e-1\",\"timestamp\":1763798300000,\"twin\":{"
	"\"temperature\":{\"actual\":{\"value\":\"21.5\",\"metadata\":{\"timestamp\":1763798200000}},"
	"\"expected\":{\"value\":\"22\",\"metadata\":{\"timestamp\":1763798100000}},"
	"\"metadata\":{\"type\":\"float\"}},"
	"\"mode\":{\"actual\":{\"value\":\"auto\"},\"metadata\":{\"type\":\"string\"}}}}";

/* ------------------------------------------------------------------ */
/* Well-formed payloads                                                */

static void TEST_ea_payload_parse_should_emit_actual_and_expected_values(void)
{
	struct collector c;
	ea_parse_error err;
	const struct got *g;

	CU_ASSERT_EQUAL(parse(update_payload, EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 3);

	g = find(&c, "temperature", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->ns, "plant-a");
	CU_ASSERT_STRING_EQUAL(g->device, "pump-1");
	CU_ASSERT_STRING_EQUAL(g->text, "21.5");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_FLOAT);
	CU_ASSERT_TRUE(g->type_ok);
	CU_ASSERT_TRUE(g->has_number);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 21.5, 0.0);
	CU_ASSERT_EQUAL(g->time_ms, VALUE_MS);
	CU_ASSERT_EQUAL(g->arrival_ms, ARRIVAL_MS);
	CU_ASSERT_EQUAL(g->source, EA_SOURCE_TWIN_UPDATE);

	g = find(&c, "temperature", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "22");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_FLOAT);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 22.0, 0.0);
	CU_ASSERT_EQUAL(g->time_ms, INT64_C(1763798100000));

	g = find(&c, "mode", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "auto");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_STRING);
	CU_ASSERT_TRUE(g->type_ok);
	CU_ASSERT_FALSE(g->has_number);
	CU_ASSERT_EQUAL(g->time_ms, MSG_MS); /* no value timestamp */
	CU_ASSERT_PTR_NULL(find(&c, "mode", true));
}

static void TEST_ea_payload_parse_should_fall_back_to_message_time_then_arrival(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"timestamp\":1763798300000,\"twin\":{\"p\":{\"actual\":"
			"{\"value\":\"1\",\"metadata\":{\"timestamp\":1763798200000}}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_EQUAL(c.s[0].time_ms, VALUE_MS);

	CU_ASSERT_EQUAL(parse("{\"timestamp\":1763798300000,\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_EQUAL(c.s[0].time_ms, MSG_MS);

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\",\"metadata\":{}}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_EQUAL(c.s[0].time_ms, ARRIVAL_MS);
	CU_ASSERT_EQUAL(c.s[0].arrival_ms, ARRIVAL_MS);
}

static void TEST_ea_payload_parse_should_accept_timestamps_as_numeric_strings(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"timestamp\":\"1763798300000\",\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}},"
			"\"q\":{\"actual\":{\"value\":\"2\",\"metadata\":{\"timestamp\":\"1763798200000\"}}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(find(&c, "p", false));
	CU_ASSERT_PTR_NOT_NULL_FATAL(find(&c, "q", false));
	CU_ASSERT_EQUAL(find(&c, "p", false)->time_ms, MSG_MS);
	CU_ASSERT_EQUAL(find(&c, "q", false)->time_ms, VALUE_MS);
}

static void TEST_ea_payload_parse_should_ignore_implausible_timestamps(void)
{
	static const char *const bad[] = {
		"0", "-5", "\"\"", "\"soon\"", "\"12abc\"", "true", "null", "{}", "[]",
		"253402300800000", "1e300",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		char payload[256];
		struct collector c;

		/* a bad value timestamp falls back to the message's */
		snprintf(payload, sizeof(payload), "{\"timestamp\":1763798300000,\"twin\":{\"p\":{\"actual\":"
				"{\"value\":\"1\",\"metadata\":{\"timestamp\":%s}}}}}", bad[i]);
		CU_ASSERT_EQUAL(parse(payload, EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
		CU_ASSERT_EQUAL(c.count, 1);
		CU_ASSERT_EQUAL(c.s[0].time_ms, MSG_MS);

		/* a bad message timestamp falls back to arrival */
		snprintf(payload, sizeof(payload), "{\"timestamp\":%s,\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}",
				bad[i]);
		CU_ASSERT_EQUAL(parse(payload, EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
		CU_ASSERT_EQUAL(c.count, 1);
		CU_ASSERT_EQUAL(c.s[0].time_ms, ARRIVAL_MS);
	}
}

static void TEST_ea_payload_parse_should_take_json_numbers_and_booleans_as_text(void)
{
	struct collector c;
	const struct got *g;

	CU_ASSERT_EQUAL(parse("{\"twin\":{"
			"\"i\":{\"actual\":{\"value\":21}},"
			"\"f\":{\"actual\":{\"value\":21.5}},"
			"\"n\":{\"actual\":{\"value\":-3}},"
			"\"t\":{\"actual\":{\"value\":true}},"
			"\"b\":{\"actual\":{\"value\":false},\"metadata\":{\"type\":\"boolean\"}},"
			"\"d\":{\"actual\":{\"value\":7},\"metadata\":{\"type\":\"int\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 6);

	g = find(&c, "i", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "21");
	CU_ASSERT_TRUE(g->has_number);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 21.0, 0.0);

	g = find(&c, "f", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "21.5");
	CU_ASSERT_DOUBLE_EQUAL(g->number, 21.5, 0.0);

	g = find(&c, "n", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "-3");
	CU_ASSERT_DOUBLE_EQUAL(g->number, -3.0, 0.0);

	g = find(&c, "t", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "true");
	CU_ASSERT_TRUE(g->has_number);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 1.0, 0.0);

	g = find(&c, "b", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "false");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_BOOLEAN);
	CU_ASSERT_TRUE(g->type_ok);

	g = find(&c, "d", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "7");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_INT);
	CU_ASSERT_TRUE(g->type_ok);
}

static void TEST_ea_payload_parse_should_keep_the_text_of_fractional_json_numbers(void)
{
	/* Regression, fixed bug (ea_payload.c:56, json_value_text): JSON numbers are
	 * printed with "%.17g", so {"value":0.1} gives the text
	 * "0.10000000000000001" and 0.3 gives "0.29999999999999999" instead of
	 * "0.1" and "0.3", although ea_payload.h says a JSON number "is taken as
	 * its text". The odd text reaches results (value of string-typed
	 * properties, type-error reasons) and the update/document
	 * de-duplication (which hashes the text). */
	struct collector c;
	const struct got *g;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"a\":{\"actual\":{\"value\":0.1}},\"b\":{\"actual\":{\"value\":0.3}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 2);
	g = find(&c, "a", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 0.1, 0.0);
	CU_ASSERT_STRING_EQUAL(g->text, "0.1");
	g = find(&c, "b", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "0.3");
}

static void TEST_ea_payload_parse_should_classify_by_the_declared_type(void)
{
	struct collector c;
	const struct got *g;

	CU_ASSERT_EQUAL(parse("{\"twin\":{"
			"\"i\":{\"actual\":{\"value\":\"21.0\"},\"metadata\":{\"type\":\"int\"}},"
			"\"f\":{\"actual\":{\"value\":\"NaN\"},\"metadata\":{\"type\":\"double\"}},"
			"\"o\":{\"actual\":{\"value\":\"AAEC\"},\"metadata\":{\"type\":\"bytes\"}},"
			"\"n\":{\"actual\":{\"value\":\"12\"},\"metadata\":{\"type\":7}},"
			"\"u\":{\"actual\":{\"value\":\"12\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 5);

	g = find(&c, "i", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_INT);
	CU_ASSERT_FALSE(g->type_ok);
	CU_ASSERT_TRUE(g->has_number);

	g = find(&c, "f", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(g->type_ok);
	CU_ASSERT_FALSE(g->has_number);

	g = find(&c, "o", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_OTHER);
	CU_ASSERT_TRUE(g->type_ok);

	g = find(&c, "n", false); /* a type that is not a string: undeclared */
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_NONE);
	CU_ASSERT_TRUE(g->has_number);

	g = find(&c, "u", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_NONE);
	CU_ASSERT_DOUBLE_EQUAL(g->number, 12.0, 0.0);
}

static void TEST_ea_payload_parse_should_read_only_current_of_documents(void)
{
	struct collector c;
	const struct got *g;

	CU_ASSERT_EQUAL(parse("{\"event_id\":\"e-2\",\"timestamp\":1763798300000,\"twin\":{"
			"\"temperature\":{\"last\":null,\"current\":{\"actual\":{\"value\":\"21.5\","
			"\"metadata\":{\"timestamp\":1763798200000}},\"metadata\":{\"type\":\"float\"}}},"
			"\"pressure\":{\"last\":{\"actual\":{\"value\":\"1.0\"}},\"current\":{\"actual\":{\"value\":\"1.2\"},"
			"\"expected\":{\"value\":\"1.1\"}}},"
			"\"gone\":{\"last\":{\"actual\":{\"value\":\"5\"}},\"current\":null},"
			"\"flat\":{\"actual\":{\"value\":\"9\"}}}}",
			EA_TOPIC_TWIN_DOCUMENT, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 3);

	g = find(&c, "temperature", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "21.5");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(g->time_ms, VALUE_MS);
	CU_ASSERT_EQUAL(g->source, EA_SOURCE_TWIN_DOCUMENT);

	g = find(&c, "pressure", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "1.2"); /* current, not last */
	CU_ASSERT_EQUAL(g->time_ms, MSG_MS);
	CU_ASSERT_EQUAL(g->source, EA_SOURCE_TWIN_DOCUMENT);
	g = find(&c, "pressure", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->text, "1.1");

	/* no current, or a MsgTwin without the document wrapper: nothing */
	CU_ASSERT_PTR_NULL(find(&c, "gone", false));
	CU_ASSERT_PTR_NULL(find(&c, "flat", false));
}

static void TEST_ea_payload_parse_should_emit_the_state_pseudo_property(void)
{
	struct collector c;
	const struct got *g;

	CU_ASSERT_EQUAL(parse("{\"event_id\":\"e-3\",\"timestamp\":1763798300000,\"state\":\"offline\"}",
			EA_TOPIC_DEVICE_STATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	g = find(&c, "$state", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_STRING_EQUAL(g->ns, "plant-a");
	CU_ASSERT_STRING_EQUAL(g->device, "pump-1");
	CU_ASSERT_STRING_EQUAL(g->text, "offline");
	CU_ASSERT_EQUAL(g->declared, EA_TYPE_STRING);
	CU_ASSERT_TRUE(g->type_ok);
	CU_ASSERT_FALSE(g->has_number);
	CU_ASSERT_EQUAL(g->time_ms, MSG_MS);
	CU_ASSERT_EQUAL(g->arrival_ms, ARRIVAL_MS);
	CU_ASSERT_EQUAL(g->source, EA_SOURCE_DEVICE_STATE);

	/* no timestamp: arrival; a "twin" member is not looked at */
	CU_ASSERT_EQUAL(parse("{\"state\":\"online\",\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}",
			EA_TOPIC_DEVICE_STATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_STRING_EQUAL(c.s[0].property, "$state");
	CU_ASSERT_STRING_EQUAL(c.s[0].text, "online");
	CU_ASSERT_EQUAL(c.s[0].time_ms, ARRIVAL_MS);
}

static void TEST_ea_payload_parse_should_reject_state_without_a_state_string(void)
{
	static const char *const bad[] = {
		"{}", "{\"state\":null}", "{\"state\":1}", "{\"state\":true}", "{\"state\":{}}",
		"{\"status\":\"online\"}", "{\"twin\":{}}",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct collector c;
		ea_parse_error err;
		CU_ASSERT_EQUAL(parse(bad[i], EA_TOPIC_DEVICE_STATE, &c, &err), EA_ERR_PARSE);
		CU_ASSERT_EQUAL(c.count, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "state"));
	}
}

static void TEST_ea_payload_parse_should_skip_values_without_a_usable_value(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":{"
			"\"null\":{\"actual\":{\"value\":null}},"
			"\"missing\":{\"actual\":{\"metadata\":{\"timestamp\":1}}},"
			"\"object\":{\"actual\":{\"value\":{\"x\":1}}},"
			"\"array\":{\"actual\":{\"value\":[1,2]}},"
			"\"actual_string\":{\"actual\":\"21\"},"
			"\"actual_null\":{\"actual\":null,\"expected\":null},"
			"\"empty\":{},"
			"\"ok\":{\"actual\":{\"value\":\"\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(find(&c, "ok", false));
	CU_ASSERT_STRING_EQUAL(find(&c, "ok", false)->text, ""); /* an empty string is a value */
}

static void TEST_ea_payload_parse_should_skip_properties_that_are_not_objects(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"a\":5,\"b\":\"x\",\"c\":null,\"d\":[],\"e\":true,"
			"\"f\":{\"actual\":{\"value\":\"3\"}}}}", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_PTR_NOT_NULL(find(&c, "f", false));

	CU_ASSERT_EQUAL(parse("{\"twin\":{}}", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 0);
}

/* ------------------------------------------------------------------ */
/* Malformed payloads                                                  */

static void TEST_ea_payload_parse_should_reject_empty_payloads(void)
{
	struct collector c;
	ea_parse_error err;

	memset(&c, 0, sizeof(c));
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(ea_payload_parse(NULL, 0, EA_TOPIC_TWIN_UPDATE, "default", "d", ARRIVAL_MS,
			collect, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(err.offset, 0);
	CU_ASSERT_STRING_EQUAL(err.message, "empty payload");
	CU_ASSERT_EQUAL(ea_payload_parse("{}", 0, EA_TOPIC_TWIN_UPDATE, "default", "d", ARRIVAL_MS,
			collect, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_STRING_EQUAL(err.message, "empty payload");
	CU_ASSERT_EQUAL(c.count, 0);

	CU_ASSERT_EQUAL(parse(" \n\t", EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(parse(" ", EA_TOPIC_DEVICE_STATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
}

static void TEST_ea_payload_parse_should_reject_every_truncation_of_a_payload(void)
{
	size_t len = strlen(update_payload), cut;
	unsigned wrong_rc = 0, samples = 0, bad_offset = 0, no_message = 0;

	for(cut = 1; cut < len; cut++){
		struct collector c;
		ea_parse_error err;
		ea_err rc = parse_len(update_payload, cut, EA_TOPIC_TWIN_UPDATE, &c, &err);
		if(rc != EA_ERR_PARSE) wrong_rc++;
		if(c.count != 0) samples++;
		if(err.offset > cut) bad_offset++;
		if(err.message[0] == '\0') no_message++;
	}
	CU_ASSERT_EQUAL(wrong_rc, 0);
	CU_ASSERT_EQUAL(samples, 0);
	CU_ASSERT_EQUAL(bad_offset, 0);
	CU_ASSERT_EQUAL(no_message, 0);
}

static void TEST_ea_payload_parse_should_report_where_invalid_json_stops(void)
{
	struct collector c;
	ea_parse_error err;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":x}}", EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(err.offset, 13);
	CU_ASSERT_STRING_EQUAL(err.message, "invalid JSON");
	/* at the stray comma or the brace after it */
	CU_ASSERT_EQUAL(parse("{\"twin\":{},}", EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT(err.offset >= 10 && err.offset <= 11);
	/* near the single quote, certainly not past the key */
	CU_ASSERT_EQUAL(parse("{'twin':{}}", EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT(err.offset >= 1 && err.offset <= 3);
	CU_ASSERT_STRING_EQUAL(err.message, "invalid JSON");
	CU_ASSERT_EQUAL(c.count, 0);
}

static void TEST_ea_payload_parse_should_reject_json_that_is_not_an_object(void)
{
	static const char *const bad[] = { "[]", "[{\"twin\":{}}]", "42", "\"twin\"", "null", "true" };
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct collector c;
		ea_parse_error err;
		CU_ASSERT_EQUAL(parse(bad[i], EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
		CU_ASSERT_STRING_EQUAL(err.message, "payload is not a JSON object");
		CU_ASSERT_EQUAL(c.count, 0);
		CU_ASSERT_EQUAL(parse(bad[i], EA_TOPIC_DEVICE_STATE, &c, &err), EA_ERR_PARSE);
		CU_ASSERT_EQUAL(c.count, 0);
	}
}

static void TEST_ea_payload_parse_should_reject_a_twin_that_is_not_an_object(void)
{
	static const char *const bad[] = {
		"{}", "{\"twin\":null}", "{\"twin\":\"x\"}", "{\"twin\":[]}", "{\"twin\":[{\"p\":{}}]}",
		"{\"twin\":5}", "{\"Twin\":{}}", "{\"state\":\"online\"}",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		struct collector c;
		ea_parse_error err;
		CU_ASSERT_EQUAL(parse(bad[i], EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "twin"));
		CU_ASSERT_EQUAL(c.count, 0);
		CU_ASSERT_EQUAL(parse(bad[i], EA_TOPIC_TWIN_DOCUMENT, &c, &err), EA_ERR_PARSE);
		CU_ASSERT_EQUAL(c.count, 0);
	}
}

static void TEST_ea_payload_parse_should_reject_huge_nesting(void)
{
	const size_t depth = 100000;
	const char *head = "{\"twin\":{\"p\":{\"actual\":{\"value\":";
	size_t hl = strlen(head), len = hl + 2 * depth + 4, i;
	char *p = malloc(len);
	struct collector c;
	ea_parse_error err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, head, hl);
	for(i = 0; i < depth; i++) p[hl + i] = '[';
	for(i = 0; i < depth; i++) p[hl + depth + i] = ']';
	memcpy(p + hl + 2 * depth, "}}}}", 4);
	CU_ASSERT_EQUAL(parse_len(p, len, EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
	free(p);
}

static void TEST_ea_payload_parse_should_accept_moderate_nesting_in_ignored_members(void)
{
	/* {"twin":{"p":{"actual":{"value":"1"},"extra":[[...200...]]}}} */
	const size_t depth = 200;
	const char *head = "{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"},\"extra\":";
	size_t hl = strlen(head), len = hl + 2 * depth + 3, i;
	char *p = malloc(len);
	struct collector c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, head, hl);
	for(i = 0; i < depth; i++) p[hl + i] = '[';
	for(i = 0; i < depth; i++) p[hl + depth + i] = ']';
	memcpy(p + hl + 2 * depth, "}}}", 3);
	CU_ASSERT_EQUAL(parse_len(p, len, EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	free(p);
}

static void TEST_ea_payload_parse_should_skip_property_names_too_long(void)
{
	char name_ok[EA_NAME_MAX + 1], name_long[EA_NAME_MAX + 2];
	char payload[1024];
	struct collector c;

	memset(name_ok, 'a', EA_NAME_MAX);
	name_ok[EA_NAME_MAX] = '\0';
	memset(name_long, 'b', EA_NAME_MAX + 1);
	name_long[EA_NAME_MAX + 1] = '\0';
	snprintf(payload, sizeof(payload), "{\"twin\":{\"%s\":{\"actual\":{\"value\":\"1\"}},"
			"\"%s\":{\"actual\":{\"value\":\"2\"}}}}", name_ok, name_long);
	CU_ASSERT_EQUAL(parse(payload, EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
	CU_ASSERT_PTR_NOT_NULL(find(&c, name_ok, false));
	CU_ASSERT_PTR_NULL(find(&c, name_long, false));
}

static void TEST_ea_payload_parse_should_skip_invalid_and_empty_property_names(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":{"
			"\"bad\xFF\":{\"actual\":{\"value\":\"1\"}},"
			"\"\xC0\x80\":{\"actual\":{\"value\":\"2\"}},"
			"\"\xED\xA0\x80\":{\"actual\":{\"value\":\"3\"}},"
			"\"\":{\"actual\":{\"value\":\"4\"}},"
			"\"\\u0000\":{\"actual\":{\"value\":\"5\"}},"
			"\"caf\\u00e9\":{\"actual\":{\"value\":\"6\"}},"
			"\"ok\":{\"actual\":{\"value\":\"7\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 2);
	CU_ASSERT_PTR_NOT_NULL(find(&c, "caf\xC3\xA9", false));
	CU_ASSERT_PTR_NOT_NULL(find(&c, "ok", false));
}

static void TEST_ea_payload_parse_should_survive_invalid_utf8_in_values(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"\xFF\xFE\xC3\"}},"
			"\"q\":{\"actual\":{\"value\":\"2\"}}}}", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_PTR_NOT_NULL(find(&c, "q", false));
	/* a lone surrogate escape is invalid JSON */
	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"\\ud800\"}}}}",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
}

static void TEST_ea_payload_parse_should_stop_at_len(void)
{
	/* the bytes after len are not part of the payload */
	const char *text = "{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}GARBAGE{";
	struct collector c;

	CU_ASSERT_EQUAL(parse_len(text, strlen(text) - strlen("GARBAGE{"), EA_TOPIC_TWIN_UPDATE, &c, NULL),
			EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
}

static void TEST_ea_payload_parse_should_accept_trailing_whitespace(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}\r\n",
			EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(c.count, 1);
}

static void TEST_ea_payload_parse_should_reject_trailing_junk(void)
{
	/* Regression, fixed bug (ea_payload.c:137): cJSON_ParseWithLengthOpts is called
	 * with require_null_terminated false and `end` is never checked, so
	 * bytes after the first JSON value are ignored: the payload
	 * {"twin":{...}}junk (not valid JSON) returns EA_ERR_OK and emits its
	 * samples instead of EA_ERR_PARSE, and so does a payload of two
	 * concatenated objects. */
	struct collector c;
	ea_parse_error err;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}junk",
			EA_TOPIC_TWIN_UPDATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
	CU_ASSERT_EQUAL(parse("{\"state\":\"online\"}{\"state\":\"offline\"}",
			EA_TOPIC_DEVICE_STATE, &c, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
}

static void TEST_ea_payload_parse_should_refuse_unknown_topic_kinds(void)
{
	struct collector c;
	ea_parse_error err;

	CU_ASSERT_EQUAL(parse("{\"twin\":{\"p\":{\"actual\":{\"value\":\"1\"}}}}", EA_TOPIC_UNKNOWN, &c, &err),
			EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(c.count, 0);
	CU_ASSERT(err.message[0] != '\0');
}

static void TEST_ea_payload_parse_should_accept_a_null_error_pointer(void)
{
	struct collector c;

	CU_ASSERT_EQUAL(parse("{\"twin\":", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(parse("[]", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(parse("{}", EA_TOPIC_DEVICE_STATE, &c, NULL), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(parse("{}", EA_TOPIC_TWIN_UPDATE, &c, NULL), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(ea_payload_parse(NULL, 0, EA_TOPIC_TWIN_UPDATE, "default", "d", 0, collect, &c, NULL),
			EA_ERR_PARSE);
	CU_ASSERT_EQUAL(c.count, 0);
}

/* ------------------------------------------------------------------ */

#define TEST(fn) { #fn, fn }

void init_payload_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_payload_parse_should_emit_actual_and_expected_values),
		TEST(TEST_ea_payload_parse_should_fall_back_to_message_time_then_arrival),
		TEST(TEST_ea_payload_parse_should_accept_timestamps_as_numeric_strings),
		TEST(TEST_ea_payload_parse_should_ignore_implausible_timestamps),
		TEST(TEST_ea_payload_parse_should_take_json_numbers_and_booleans_as_text),
		TEST(TEST_ea_payload_parse_should_keep_the_text_of_fractional_json_numbers),
		TEST(TEST_ea_payload_parse_should_classify_by_the_declared_type),
		TEST(TEST_ea_payload_parse_should_read_only_current_of_documents),
		TEST(TEST_ea_payload_parse_should_emit_the_state_pseudo_property),
		TEST(TEST_ea_payload_parse_should_reject_state_without_a_state_string),
		TEST(TEST_ea_payload_parse_should_skip_values_without_a_usable_value),
		TEST(TEST_ea_payload_parse_should_skip_properties_that_are_not_objects),
		TEST(TEST_ea_payload_parse_should_reject_empty_payloads),
		TEST(TEST_ea_payload_parse_should_reject_every_truncation_of_a_payload),
		TEST(TEST_ea_payload_parse_should_report_where_invalid_json_stops),
		TEST(TEST_ea_payload_parse_should_reject_json_that_is_not_an_object),
		TEST(TEST_ea_payload_parse_should_reject_a_twin_that_is_not_an_object),
		TEST(TEST_ea_payload_parse_should_reject_huge_nesting),
		TEST(TEST_ea_payload_parse_should_accept_moderate_nesting_in_ignored_members),
		TEST(TEST_ea_payload_parse_should_skip_property_names_too_long),
		TEST(TEST_ea_payload_parse_should_skip_invalid_and_empty_property_names),
		TEST(TEST_ea_payload_parse_should_survive_invalid_utf8_in_values),
		TEST(TEST_ea_payload_parse_should_stop_at_len),
		TEST(TEST_ea_payload_parse_should_accept_trailing_whitespace),
		TEST(TEST_ea_payload_parse_should_reject_trailing_junk),
		TEST(TEST_ea_payload_parse_should_refuse_unknown_topic_kinds),
		TEST(TEST_ea_payload_parse_should_accept_a_null_error_pointer),
	};
	CU_pSuite suite = CU_add_suite("payload", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
