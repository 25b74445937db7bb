/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_payload.c - KubeEdge twin update, twin document and device state
 * payloads to samples, with cJSON (see ea_payload.h).
 *
 * Twin update:   {"event_id","timestamp","twin":{P:{"actual":{"value","metadata":
 *                 {"timestamp"}},"expected":{...},"metadata":{"type"}}}}
 * Twin document: {"event_id","timestamp","twin":{P:{"last":T|null,"current":T}}}
 * Device state:  {"event_id","timestamp","state":"online"}
 */
#include "ea_payload.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device state samples use this pseudo-property. */
#define STATE_PROPERTY "$state"

static void set_error(ea_parse_error *err, size_t offset, const char *message)
{
	if(err == NULL) return;
	err->offset = offset;
	snprintf(err->message, sizeof(err->message), "%s", message);
}

/* A timestamp in ms from a JSON number or numeric string; false if absent
 * or not a plausible time (negative, NaN, beyond year 9999). */
static bool json_time_ms(const cJSON *item, int64_t *out)
{
	double v;
	char *end = NULL;

	if(cJSON_IsNumber(item)){
		v = item->valuedouble;
	}else if(cJSON_IsString(item) && item->valuestring[0] != '\0'){
		v = strtod(item->valuestring, &end);
		if(*end != '\0') return false;
	}else{
		return false;
	}
	if(!isfinite(v) || v <= 0 || v > 253402300799999.0) return false;
	*out = (int64_t)v;
	return true;
}

/* The value's text: strings as they are, numbers and booleans printed.
 * Returns NULL when there is no usable value. `buf` holds printed ones. */
static const char *json_value_text(const cJSON *item, char *buf, size_t len)
{
	if(cJSON_IsString(item)) return item->valuestring;
	if(cJSON_IsBool(item)) return cJSON_IsTrue(item) ? "true" : "false";
	if(cJSON_IsNumber(item)){
		int digits;
		/* the shortest text that reads back as the same double: 0.1, not 0.10000000000000001 */
		for(digits = 15; digits <= 17; digits++){
			snprintf(buf, len, "%.*g", digits, item->valuedouble);
			if(strtod(buf, NULL) == item->valuedouble) break;
		}
		return buf;
	}
	return NULL;
}

struct parse_ctx {
	const char *ns;
	const char *device;
	int64_t message_time_ms;
	bool message_has_time;
	const char *event_id; /* borrowed from the parsed tree, "" when absent */
	int64_t arrival_ms;
	ea_source source;
	ea_sample_fn on_sample;
	void *user;
};

/* One MsgTwin value ("actual" or "expected"): {"value":..,"metadata":{"timestamp":..}} */
static void emit_value(const struct parse_ctx *ctx, const char *property,
		const cJSON *value_obj, ea_value_type declared, bool desired)
{
	char numbuf[40];
	const char *text;
	const cJSON *meta;
	ea_sample s;

	if(!cJSON_IsObject(value_obj)) return;
	text = json_value_text(cJSON_GetObjectItemCaseSensitive(value_obj, "value"), numbuf, sizeof(numbuf));
	if(text == NULL) return;

	memset(&s, 0, sizeof(s));
	s.ns = ctx->ns;
	s.device = ctx->device;
	s.property = property;
	s.arrival_ms = ctx->arrival_ms;
	s.source = ctx->source;
	s.desired = desired;
	s.event_id = ctx->event_id;
	meta = cJSON_GetObjectItemCaseSensitive(value_obj, "metadata");
	s.has_time = true;
	if(!json_time_ms(cJSON_GetObjectItemCaseSensitive(meta, "timestamp"), &s.time_ms)){
		s.time_ms = ctx->message_time_ms;
		s.has_time = ctx->message_has_time;
	}
	ea_sample_classify(&s, text, declared);
	ctx->on_sample(ctx->user, &s);
}

/* true when two MsgTwin values ({"value","metadata":{"timestamp"}}) are
 * the same value stamped at the same time: EdgeCore restating it. */
static bool same_stamped_value(const cJSON *a, const cJSON *b)
{
	char buf_a[40], buf_b[40];
	const char *text_a, *text_b;
	int64_t time_a, time_b;

	if(!cJSON_IsObject(a) || !cJSON_IsObject(b)) return false;
	if(!json_time_ms(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "metadata"), "timestamp"), &time_a)
			|| !json_time_ms(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "metadata"), "timestamp"), &time_b)
			|| time_a != time_b) return false;
	text_a = json_value_text(cJSON_GetObjectItemCaseSensitive(a, "value"), buf_a, sizeof(buf_a));
	text_b = json_value_text(cJSON_GetObjectItemCaseSensitive(b, "value"), buf_b, sizeof(buf_b));
	return text_a != NULL && text_b != NULL && strcmp(text_a, text_b) == 0;
}

/* One MsgTwin: {"actual":..,"expected":..,"metadata":{"type":..}}.
 * `last` (documents only, else NULL) is the twin before this change: a
 * value EdgeCore merely restates (the actual value when only the desired
 * one changed, and the other way round) is the same reading as before,
 * with its old time, and is not a sample again. */
static void emit_twin(const struct parse_ctx *ctx, const char *property, const cJSON *twin, const cJSON *last)
{
	static const char *const parts[2] = { "actual", "expected" };
	const cJSON *meta, *type;
	ea_value_type declared = EA_TYPE_NONE;
	int i;

	if(!cJSON_IsObject(twin)) return;
	meta = cJSON_GetObjectItemCaseSensitive(twin, "metadata");
	type = cJSON_GetObjectItemCaseSensitive(meta, "type");
	if(cJSON_IsString(type)) declared = ea_value_type_parse(type->valuestring);
	for(i = 0; i < 2; i++){
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(twin, parts[i]);
		if(last != NULL && same_stamped_value(value, cJSON_GetObjectItemCaseSensitive(last, parts[i]))) continue;
		emit_value(ctx, property, value, declared, i == 1);
	}
}

static bool property_name_ok(const char *name)
{
	size_t len = strlen(name);
	return len > 0 && len <= EA_NAME_MAX && ea_utf8_valid(name, len);
}

/* EdgeX valueType to our types; arrays, Binary and Object are not scored. */
static bool edgex_value_type(const char *t, ea_value_type *out)
{
	static const char *const ints[] = { "Int8", "Int16", "Int32", "Int64", "Uint8", "Uint16", "Uint32", "Uint64" };
	size_t i;

	for(i = 0; i < sizeof(ints) / sizeof(ints[0]); i++){
		if(strcmp(t, ints[i]) == 0){
			*out = EA_TYPE_INT;
			return true;
		}
	}
	if(strcmp(t, "Float32") == 0 || strcmp(t, "Float64") == 0) *out = EA_TYPE_FLOAT;
	else if(strcmp(t, "Bool") == 0) *out = EA_TYPE_BOOLEAN;
	else if(strcmp(t, "String") == 0) *out = EA_TYPE_STRING;
	else if(t[0] == '\0') *out = EA_TYPE_NONE;
	else return false;
	return true;
}

static const char *string_or(const cJSON *obj, const char *key, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : fallback;
}

/* An AddEventRequest {apiVersion, requestId, event{deviceName, origin,
 * readings[]}}: one sample per reading. Names missing from a reading (4.1
 * optimised payloads) come from the event; `device` (from the topic) is
 * the last resort. */
static ea_err parse_edgex_event(const cJSON *req, const char *ns, const char *device, int64_t arrival_ms,
		ea_sample_fn on_sample, void *user, ea_parse_error *err)
{
	const cJSON *event = cJSON_GetObjectItemCaseSensitive(req, "event"), *reading, *origin;
	const char *event_device, *event_source;
	int64_t event_ms = 0;
	bool event_has_time = false;

	if(!cJSON_IsObject(event)){
		set_error(err, 0, "EdgeX AddEventRequest without an \"event\" object");
		return EA_ERR_PARSE;
	}
	event_device = string_or(event, "deviceName", device);
	event_source = string_or(event, "sourceName", "");
	origin = cJSON_GetObjectItemCaseSensitive(event, "origin");
	if(cJSON_IsNumber(origin) && origin->valuedouble > 0 && origin->valuedouble < 9.2e18){
		event_ms = (int64_t)(origin->valuedouble / 1e6);
		event_has_time = true;
	}
	cJSON_ArrayForEach(reading, cJSON_GetObjectItemCaseSensitive(event, "readings")){
		const char *rdevice = string_or(reading, "deviceName", event_device);
		const char *property = string_or(reading, "resourceName", event_source);
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(reading, "value");
		const cJSON *rorigin = cJSON_GetObjectItemCaseSensitive(reading, "origin");
		ea_value_type declared = EA_TYPE_NONE;
		ea_sample s;

		if(!cJSON_IsObject(reading) || !property_name_ok(property) || strlen(rdevice) == 0
				|| strlen(rdevice) > EA_NAME_MAX || !ea_utf8_valid(rdevice, strlen(rdevice))) continue;
		memset(&s, 0, sizeof(s));
		s.ns = ns;
		s.device = rdevice;
		s.property = property;
		s.arrival_ms = arrival_ms;
		s.source = EA_SOURCE_EDGEX;
		s.event_id = string_or(event, "id", "");
		s.model = string_or(reading, "profileName", string_or(event, "profileName", NULL));
		if(s.model != NULL && strlen(s.model) > EA_NAME_MAX) s.model = NULL;
		if(strlen(s.event_id) > EA_NAME_MAX) s.event_id = "";
		s.time_ms = event_has_time ? event_ms : arrival_ms;
		s.has_time = event_has_time;
		if(cJSON_IsNumber(rorigin) && rorigin->valuedouble > 0 && rorigin->valuedouble < 9.2e18){
			s.time_ms = (int64_t)(rorigin->valuedouble / 1e6);
			s.has_time = true;
		}
		if(!cJSON_IsString(value) || !edgex_value_type(string_or(reading, "valueType", ""), &declared)){
			/* null, binary, object and array readings: counted, not scored */
			s.unscored = true;
			s.text = "";
			on_sample(user, &s);
			continue;
		}
		ea_sample_classify(&s, value->valuestring, declared);
		on_sample(user, &s);
	}
	return EA_ERR_OK;
}

/* The EdgeX message envelope {apiVersion, receivedTopic, correlationID,
 * payload, contentType, ...}: payload inline (4.x) or base64 (3.x, or 4.x
 * with EDGEX_MSG_BASE64_PAYLOAD); CBOR is not decoded (unsupported). */
static ea_err parse_edgex_envelope(const cJSON *root, const char *ns, const char *device, int64_t arrival_ms,
		ea_sample_fn on_sample, void *user, ea_parse_error *err)
{
	const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
	const char *content = string_or(root, "contentType", "application/json");
	ea_err rc;

	if(strstr(content, "cbor") != NULL){
		set_error(err, 0, "EdgeX CBOR payload (not decoded; set EDGEX_ENCODE_ALL_EVENTS_CBOR=false)");
		return EA_ERR_UNSUPPORTED;
	}
	if(cJSON_IsObject(payload)) return parse_edgex_event(payload, ns, device, arrival_ms, on_sample, user, err);
	if(cJSON_IsString(payload)){
		size_t in_len = strlen(payload->valuestring), n;
		unsigned char *raw = malloc(in_len / 4 * 3 + 4);
		cJSON *req;
		if(raw == NULL){
			set_error(err, 0, "out of memory");
			return EA_ERR_NOMEM;
		}
		n = ea_base64_decode(payload->valuestring, in_len, raw, in_len / 4 * 3 + 3);
		if(n == SIZE_MAX){
			free(raw);
			set_error(err, 0, "EdgeX payload is neither a JSON object nor valid base64");
			return EA_ERR_PARSE;
		}
		req = cJSON_ParseWithLength((const char *)raw, n);
		free(raw);
		if(!cJSON_IsObject(req)){
			cJSON_Delete(req);
			set_error(err, 0, "EdgeX payload is not a JSON AddEventRequest");
			return EA_ERR_PARSE;
		}
		rc = parse_edgex_event(req, ns, device, arrival_ms, on_sample, user, err);
		cJSON_Delete(req);
		return rc;
	}
	/* no envelope: an AddEventRequest published as is */
	if(cJSON_GetObjectItemCaseSensitive(root, "event") != NULL)
		return parse_edgex_event(root, ns, device, arrival_ms, on_sample, user, err);
	set_error(err, 0, "EdgeX message without a payload");
	return EA_ERR_PARSE;
}

ea_err ea_payload_parse(const char *payload, size_t len, ea_topic_kind kind,
		const char *ns, const char *device, int64_t arrival_ms,
		ea_sample_fn on_sample, void *user, ea_parse_error *err)
{
	const char *end = NULL;
	cJSON *root;
	const cJSON *twin, *prop;
	struct parse_ctx ctx;

	if(kind == EA_TOPIC_UNKNOWN){
		set_error(err, 0, "not a twin or state topic");
		return EA_ERR_UNSUPPORTED;
	}
	if(payload == NULL || len == 0){
		set_error(err, 0, "empty payload");
		return EA_ERR_PARSE;
	}
	root = cJSON_ParseWithLengthOpts(payload, len, &end, false);
	if(root == NULL){
		size_t offset = (end != NULL && end >= payload) ? (size_t)(end - payload) : 0;
		set_error(err, offset, "invalid JSON");
		return EA_ERR_PARSE;
	}
	if(end != NULL){
		const char *p = end, *stop = payload + len;
		while(p < stop && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\0')) p++;
		if(p < stop){
			set_error(err, (size_t)(p - payload), "data after the JSON object");
			cJSON_Delete(root);
			return EA_ERR_PARSE;
		}
	}
	if(!cJSON_IsObject(root)){
		set_error(err, 0, "payload is not a JSON object");
		cJSON_Delete(root);
		return EA_ERR_PARSE;
	}

	if(kind == EA_TOPIC_EDGEX_EVENT){
		ea_err rc = parse_edgex_envelope(root, ns, device, arrival_ms, on_sample, user, err);
		cJSON_Delete(root);
		return rc;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.ns = ns;
	ctx.device = device;
	ctx.arrival_ms = arrival_ms;
	ctx.on_sample = on_sample;
	ctx.user = user;
	ctx.message_has_time = true;
	if(!json_time_ms(cJSON_GetObjectItemCaseSensitive(root, "timestamp"), &ctx.message_time_ms)){
		ctx.message_time_ms = arrival_ms;
		ctx.message_has_time = false;
	}
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "event_id");
		ctx.event_id = cJSON_IsString(id) && strlen(id->valuestring) <= EA_NAME_MAX ? id->valuestring : "";
	}

	if(kind == EA_TOPIC_DEVICE_STATE){
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(root, "state");
		ea_sample s;

		if(!cJSON_IsString(state)){
			set_error(err, 0, "state update without a \"state\" string");
			cJSON_Delete(root);
			return EA_ERR_PARSE;
		}
		memset(&s, 0, sizeof(s));
		s.ns = ns;
		s.device = device;
		s.property = STATE_PROPERTY;
		s.time_ms = ctx.message_time_ms;
		s.has_time = ctx.message_has_time;
		s.event_id = ctx.event_id;
		s.arrival_ms = arrival_ms;
		s.source = EA_SOURCE_DEVICE_STATE;
		ea_sample_classify(&s, state->valuestring, EA_TYPE_STRING);
		on_sample(user, &s);
		cJSON_Delete(root);
		return EA_ERR_OK;
	}

	twin = cJSON_GetObjectItemCaseSensitive(root, "twin");
	if(!cJSON_IsObject(twin)){
		set_error(err, 0, "twin message without a \"twin\" object");
		cJSON_Delete(root);
		return EA_ERR_PARSE;
	}
	ctx.source = kind == EA_TOPIC_TWIN_DOCUMENT ? EA_SOURCE_TWIN_DOCUMENT : EA_SOURCE_TWIN_UPDATE;
	cJSON_ArrayForEach(prop, twin){
		if(prop->string == NULL || !property_name_ok(prop->string)) continue;
		if(kind == EA_TOPIC_TWIN_DOCUMENT){
			emit_twin(&ctx, prop->string, cJSON_GetObjectItemCaseSensitive(prop, "current"),
					cJSON_GetObjectItemCaseSensitive(prop, "last"));
		}else{
			emit_twin(&ctx, prop->string, prop, NULL);
		}
	}
	cJSON_Delete(root);
	return EA_ERR_OK;
}
