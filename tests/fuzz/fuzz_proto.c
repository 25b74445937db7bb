/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_proto.c - the protobuf messages of StreamDetect as the two ends
 * receive them: bytes unpacked as a DevicePropertyData (what detectord
 * reads from a client) and run through the engine as detectord does, and
 * as an AnomalyResponse (what the plugin's client reads from a server).
 * Properties: never crashes; what unpacks (without unknown fields) packs
 * again to a message that unpacks to the same fields.
 */
#include "fuzz.h"

#include "anomaly_detector.pb-c.h"
#include "ea_config.h"
#include "ea_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_data(const uint8_t *data, size_t size, ea_engine *engine)
{
	Kubeedge__Anomalydetector__V1__DevicePropertyData *in, *again;
	uint8_t *buf;
	size_t len;
	ea_sample s;
	int64_t t;

	in = kubeedge__anomalydetector__v1__device_property_data__unpack(NULL, size, data);
	if(in == NULL) return;
	len = kubeedge__anomalydetector__v1__device_property_data__get_packed_size(in);
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(kubeedge__anomalydetector__v1__device_property_data__pack(in, buf) == len);
	/* the round trip holds for the fields we know; protobuf-c keeps unknown
	 * fields as read, even ones it would not read again (a field number 0
	 * in an overlong varint), so those messages are not compared */
	if(in->base.n_unknown_fields == 0){
		again = kubeedge__anomalydetector__v1__device_property_data__unpack(NULL, len, buf);
		FUZZ_CHECK(again != NULL);
		FUZZ_CHECK(strcmp(again->device_name, in->device_name) == 0
				&& strcmp(again->property_value, in->property_value) == 0);
		kubeedge__anomalydetector__v1__device_property_data__free_unpacked(again, NULL);
	}
	free(buf);
	/* as detectord: names required and bounded, then the engine */
	if(in->device_name[0] != '\0' && in->property_name[0] != '\0' && strlen(in->device_name) <= EA_NAME_MAX
			&& strlen(in->property_name) <= EA_NAME_MAX && strlen(in->namespace_) <= EA_NAME_MAX){
		memset(&s, 0, sizeof(s));
		s.ns = in->namespace_[0] != '\0' ? in->namespace_ : "default";
		s.device = in->device_name;
		s.property = in->property_name;
		s.event_id = "";
		ea_sample_classify(&s, in->property_value, ea_value_type_parse(in->value_type));
		s.arrival_ms = s.time_ms = 1761552000000LL;
		if(in->timestamp[0] != '\0' && ea_parse_timestamp(in->timestamp, &t)){
			s.time_ms = t;
			s.has_time = true;
		}
		ea_engine_sample(engine, &s);
	}
	kubeedge__anomalydetector__v1__device_property_data__free_unpacked(in, NULL);
}

static void check_response(const uint8_t *data, size_t size)
{
	Kubeedge__Anomalydetector__V1__AnomalyResponse *r;
	uint8_t *buf;
	size_t len;

	r = kubeedge__anomalydetector__v1__anomaly_response__unpack(NULL, size, data);
	if(r == NULL) return;
	FUZZ_CHECK(r->status != NULL && r->message != NULL && r->detector != NULL && r->kind != NULL);
	len = kubeedge__anomalydetector__v1__anomaly_response__get_packed_size(r);
	buf = malloc(len + 1);
	FUZZ_CHECK(buf != NULL);
	FUZZ_CHECK(kubeedge__anomalydetector__v1__anomaly_response__pack(r, buf) == len);
	free(buf);
	kubeedge__anomalydetector__v1__anomaly_response__free_unpacked(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ea_config *cfg;
	static ea_engine *engine;

	if(cfg == NULL){
		static const char yaml[] = "default_chain: [type, {range: {max: 100}}, spike, stuck, auto, out_of_order, duplicate, replay, delay]\n";
		cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "fuzz", NULL);
		FUZZ_CHECK(cfg != NULL);
		engine = ea_engine_new(cfg, 64, NULL, NULL);
		FUZZ_CHECK(engine != NULL);
	}
	check_data(data, size, engine);
	check_response(data, size);
	return 0;
}
