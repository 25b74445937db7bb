/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_topic.c - topic classification (detectors/ea_topic.c), MQTT filter
 * matching and validation, and result topic expansion. Input: filter, a NUL
 * byte, topic. Properties: parsed names lie inside the topic; a valid filter
 * always matches itself when it has no wildcard; expanded result topics are
 * valid UTF-8 with no wildcard and one level per name.
 */
#include "fuzz.h"

#include "ea_engine.h"
#include "ea_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	char *filter, *topic, out[512];
	size_t flen, tlen;
	ea_topic_info info;

	flen = nul != NULL ? (size_t)(nul - in) : 0;
	tlen = nul != NULL ? size - flen - 1 : size;
	filter = strndup(in, flen);
	topic = malloc(tlen + 1);
	if(filter == NULL || topic == NULL){
		free(filter);
		free(topic);
		return 0;
	}
	memcpy(topic, nul != NULL ? nul + 1 : in, tlen);
	topic[tlen] = '\0';

	if(ea_topic_parse(topic, tlen, &info) == EA_ERR_OK){
		FUZZ_CHECK(info.kind != EA_TOPIC_UNKNOWN);
		FUZZ_CHECK(info.device >= topic && info.device + info.device_len <= topic + tlen);
		FUZZ_CHECK(info.device_len > 0 && info.ns_len > 0);
	}
	(void)ea_topic_shard_hash(topic, tlen);
	if(ea_topic_filter_valid(filter)){
		bool wild = strpbrk(filter, "+#") != NULL;
		bool m = ea_topic_matches(filter, topic);
		if(!wild) FUZZ_CHECK(m == (strcmp(filter, topic) == 0));
		if(!wild) FUZZ_CHECK(ea_topic_matches(filter, filter));
	}
	if(strlen(topic) == tlen){
		ea_result r;
		size_t n;
		memset(&r, 0, sizeof(r));
		r.ns = "ns";
		r.device = topic;
		r.property = filter;
		r.detector = "d";
		n = ea_result_topic("edge-anomaly/{namespace}/{device}/{property}", &r, out, sizeof(out));
		if(n > 0){
			size_t slashes = 0, i;
			FUZZ_CHECK(ea_utf8_valid(out, n));
			FUZZ_CHECK(strpbrk(out, "+#") == NULL);
			for(i = 0; i < n; i++) slashes += out[i] == '/';
			FUZZ_CHECK(slashes == 3);
		}
	}
	free(filter);
	free(topic);
	return 0;
}
