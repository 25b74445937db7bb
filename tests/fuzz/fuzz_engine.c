/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_engine.c - a whole message through the engine (topic, payload,
 * routing, detectors, results). Input: topic, a NUL byte, payload; the
 * payload may hold several messages separated by "\n--\n" for the same
 * topic, so state builds up. Property: every result is valid JSON with the
 * expected fields and its topic is valid UTF-8.
 */
#include "fuzz.h"

#include "ea_engine.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_result(void *ctx, const ea_result *r)
{
	static char json[EA_RESULT_JSON_MAX];
	char topic[1024];
	size_t n;
	cJSON *root;

	(void)ctx;
	n = ea_result_to_json(r, json, sizeof(json));
	FUZZ_CHECK(n > 0);
	root = cJSON_ParseWithLength(json, n);
	FUZZ_CHECK(root != NULL);
	FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItem(root, "device")));
	FUZZ_CHECK(cJSON_IsBool(cJSON_GetObjectItem(root, "anomaly")));
	FUZZ_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(root, "anomalyScore")));
	FUZZ_CHECK(strlen(cJSON_GetObjectItem(root, "value")->valuestring != NULL
			? cJSON_GetObjectItem(root, "value")->valuestring : "") <= 3 * EA_RESULT_VALUE_MAX + 3);
	cJSON_Delete(root);
	n = ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", r, topic, sizeof(topic));
	if(n > 0) FUZZ_CHECK(ea_utf8_valid(topic, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ea_config *cfg;
	const char *in = (const char *)data, *nul, *p, *end;
	ea_engine *engine;
	int64_t t = 1761552000000;

	if(cfg == NULL){
		static const char yaml[] =
			"routes:\n"
			"  - match: {property: temp*}\n"
			"    detectors: [type, {range: {min: 0, max: 100}}, {spike: {min_samples: 3}}, {stuck: {samples: 3}}, staleness]\n"
			"  - match: {property: '*'}\n"
			"    detectors: [{auto: {learn: 2}}, {level_shift: {learn: 5, window: 3, persist: 1}}, {drift: {learn: 10}},\n"
			"                {flatline: {learn: 5, window: 3}}, {rate: {max_rate: 1, max_step: 10}}, delay, out_of_order, duplicate, {replay: {burst: 2}},\n"
			"                {envelope: {learn: 2}}, {desired: {timeout: 1s}}]\n";
		cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "fuzz", NULL);
		FUZZ_CHECK(cfg != NULL);
	}
	nul = memchr(in, '\0', size);
	if(nul == NULL) return 0;
	engine = ea_engine_new(cfg, 64, check_result, NULL);
	if(engine == NULL) return 0;
	p = nul + 1;
	end = in + size;
	while(p <= end){
		const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
		const char *stop = sep != NULL ? sep : end;
		ea_engine_message(engine, in, (size_t)(nul - in), p, (size_t)(stop - p), t);
		t += 1000;
		if(sep == NULL) break;
		p = sep + 4;
	}
	ea_engine_idle(engine, t + 3600000);
	ea_engine_free(engine);
	return 0;
}
