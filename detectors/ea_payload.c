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

/* One MsgTwin: {"actual":..,"expected":..,"metadata":{"type":..}} */
static void emit_twin(const struct parse_ctx *ctx, const char *property, const cJSON *twin)
{
	const cJSON *meta, *type;
	ea_value_type declared = EA_TYPE_NONE;

	if(!cJSON_IsObject(twin)) return;
	meta = cJSON_GetObjectItemCaseSensitive(twin, "metadata");
	type = cJSON_GetObjectItemCaseSensitive(meta, "type");
	if(cJSON_IsString(type)) declared = ea_value_type_parse(type->valuestring);
	emit_value(ctx, property, cJSON_GetObjectItemCaseSensitive(twin, "actual"), declared, false);
	emit_value(ctx, property, cJSON_GetObjectItemCaseSensitive(twin, "expected"), declared, true);
}

static bool property_name_ok(const char *name)
{
	size_t len = strlen(name);
	return len > 0 && len <= EA_NAME_MAX && ea_utf8_valid(name, len);
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
			emit_twin(&ctx, prop->string, cJSON_GetObjectItemCaseSensitive(prop, "current"));
		}else{
			emit_twin(&ctx, prop->string, prop);
		}
	}
	cJSON_Delete(root);
	return EA_ERR_OK;
}
