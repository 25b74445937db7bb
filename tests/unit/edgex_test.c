/* SPDX-License-Identifier: Apache-2.0
 *
 * edgex_test.c - EdgeX events as EdgeX 3.x and 4.x publish them (built from
 * the documented format, see DESIGN.md): the topic, the envelope with a
 * base64 payload (3.x) or an inline one (4.x), 4.1 optimised readings,
 * value types and the 2.345670e+01 float form, null and binary readings
 * counted not scored, CBOR refused, malformed envelopes; and through the
 * engine with the `edgex:` config.
 */
#include "unit_tests.h"

#include "ea_config.h"
#include "ea_engine.h"
#include "ea_payload.h"
#include "ea_topic.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOPIC "edgex/events/device/device-modbus/Boiler-Profile/boiler-7/Temperature"

struct got {
	int n, unscored;
	char device[8][64], property[8][64], text[8][64];
	double number[8];
	bool has_number[8], type_ok[8], has_time[8];
	ea_value_type declared[8];
	int64_t time_ms[8];
};

static void collect(void *ctx, const ea_sample *s)
{
	struct got *g = ctx;
	if(s->unscored){
		g->unscored++;
		return;
	}
	if(g->n == 8) return;
	snprintf(g->device[g->n], 64, "%s", s->device);
	snprintf(g->property[g->n], 64, "%s", s->property);
	snprintf(g->text[g->n], 64, "%s", s->text);
	g->number[g->n] = s->number;
	g->has_number[g->n] = s->has_number;
	g->type_ok[g->n] = s->type_ok;
	g->has_time[g->n] = s->has_time;
	g->declared[g->n] = s->declared;
	g->time_ms[g->n] = s->time_ms;
	g->n++;
}

static const char EVENT[] =
	"{\"apiVersion\":\"v3\",\"requestId\":\"r-1\",\"event\":{\"apiVersion\":\"v3\",\"id\":\"e-1\","
	"\"deviceName\":\"boiler-7\",\"profileName\":\"Boiler-Profile\",\"sourceName\":\"Temperature\","
	"\"origin\":1732262400123456789,\"readings\":["
	"{\"id\":\"r1\",\"origin\":1732262400123456789,\"deviceName\":\"boiler-7\",\"resourceName\":\"Temperature\","
	"\"profileName\":\"Boiler-Profile\",\"valueType\":\"Float64\",\"units\":\"C\",\"value\":\"2.345670e+01\"},"
	"{\"id\":\"r2\",\"origin\":1732262400123456789,\"deviceName\":\"boiler-7\",\"resourceName\":\"Pressure\","
	"\"profileName\":\"Boiler-Profile\",\"valueType\":\"Int32\",\"value\":\"12\"},"
	"{\"id\":\"r3\",\"origin\":1732262400123456789,\"deviceName\":\"boiler-7\",\"resourceName\":\"Running\","
	"\"valueType\":\"Bool\",\"value\":\"true\"},"
	"{\"id\":\"r4\",\"resourceName\":\"Snapshot\",\"valueType\":\"Binary\",\"binaryValue\":\"AAEC\",\"mediaType\":\"image/png\"},"
	"{\"id\":\"r5\",\"resourceName\":\"Nothing\",\"valueType\":\"Float32\",\"value\":null}"
	"]}}";

static char *base64(const char *in)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), i, o = 0;
	char *out = malloc(n / 3 * 4 + 8);

	for(i = 0; i + 2 < n; i += 3){
		unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if(n - i == 1){
		unsigned v = (unsigned char)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	}else if(n - i == 2){
		unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static ea_err parse(const char *payload, struct got *g, ea_parse_error *err)
{
	memset(g, 0, sizeof(*g));
	return ea_payload_parse(payload, strlen(payload), EA_TOPIC_EDGEX_EVENT, "plant-x", "boiler-7", 5000, collect, g, err);
}

static void check_event(const struct got *g)
{
	CU_ASSERT_EQUAL(g->n, 3);
	CU_ASSERT_EQUAL(g->unscored, 2); /* the binary and the null reading */
	CU_ASSERT_STRING_EQUAL(g->property[0], "Temperature");
	CU_ASSERT_STRING_EQUAL(g->device[0], "boiler-7");
	CU_ASSERT_TRUE(g->has_number[0] && g->type_ok[0]);
	CU_ASSERT_DOUBLE_EQUAL(g->number[0], 23.4567, 1e-9);
	CU_ASSERT_EQUAL(g->declared[0], EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(g->time_ms[0], 1732262400123LL); /* origin in ns */
	CU_ASSERT_TRUE(g->has_time[0]);
	CU_ASSERT_STRING_EQUAL(g->property[1], "Pressure");
	CU_ASSERT_EQUAL(g->declared[1], EA_TYPE_INT);
	CU_ASSERT_DOUBLE_EQUAL(g->number[1], 12, 0);
	CU_ASSERT_EQUAL(g->declared[2], EA_TYPE_BOOLEAN);
	CU_ASSERT_STRING_EQUAL(g->text[2], "true");
}

static void TEST_edgex_topic_should_give_the_device(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(ea_topic_parse(TOPIC, strlen(TOPIC), &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_EDGEX_EVENT);
	CU_ASSERT_EQUAL(info.device_len, strlen("boiler-7"));
	CU_ASSERT_EQUAL(memcmp(info.device, "boiler-7", info.device_len), 0);
	CU_ASSERT_EQUAL(ea_topic_parse("edgex/events/device/a/b/c", 25, &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_topic_parse("edgex/events/device/a/b/c/d/e", 29, &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_topic_parse("edgex/events/device/a//c/d", 26, &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_topic_shard_hash(TOPIC, strlen(TOPIC)),
			ea_topic_shard_hash("edgex/events/device/other/P/boiler-7/Pressure", 45));
}

static void TEST_edgex_3x_base64_payload(void)
{
	char *b64 = base64(EVENT), *env = malloc(strlen(b64) + 300);
	struct got g;

	snprintf(env, strlen(b64) + 300, "{\"apiVersion\":\"v3\",\"receivedTopic\":\"%s\",\"correlationID\":\"c-1\","
			"\"requestID\":\"r-1\",\"errorCode\":0,\"payload\":\"%s\",\"contentType\":\"application/json\"}", TOPIC, b64);
	CU_ASSERT_EQUAL(parse(env, &g, NULL), EA_ERR_OK);
	check_event(&g);
	free(b64);
	free(env);
}

static void TEST_edgex_4x_inline_payload(void)
{
	char *env = malloc(sizeof(EVENT) + 300);
	struct got g;

	snprintf(env, sizeof(EVENT) + 300, "{\"apiVersion\":\"v3\",\"receivedTopic\":\"%s\",\"correlationID\":\"c-1\","
			"\"errorCode\":0,\"payload\":%s,\"contentType\":\"application/json\"}", TOPIC, EVENT);
	CU_ASSERT_EQUAL(parse(env, &g, NULL), EA_ERR_OK);
	check_event(&g);
	free(env);
}

static void TEST_edgex_41_optimised_readings_take_names_from_the_event(void)
{
	static const char env[] =
		"{\"apiVersion\":\"v3\",\"payload\":{\"apiVersion\":\"v3\",\"event\":{\"id\":\"e\",\"deviceName\":\"pump-3\","
		"\"profileName\":\"P\",\"sourceName\":\"Flow\",\"origin\":1732262400000000000,"
		"\"readings\":[{\"valueType\":\"Float32\",\"value\":\"1.500000e+00\"}]}},\"contentType\":\"application/json\"}";
	struct got g;

	CU_ASSERT_EQUAL(parse(env, &g, NULL), EA_ERR_OK);
	CU_ASSERT_EQUAL(g.n, 1);
	CU_ASSERT_STRING_EQUAL(g.device[0], "pump-3");
	CU_ASSERT_STRING_EQUAL(g.property[0], "Flow");
	CU_ASSERT_DOUBLE_EQUAL(g.number[0], 1.5, 0);
	CU_ASSERT_EQUAL(g.time_ms[0], 1732262400000LL);
}

static void TEST_edgex_refuses_cbor_and_malformed_envelopes(void)
{
	struct got g;
	ea_parse_error err;

	CU_ASSERT_EQUAL(parse("{\"payload\":\"oWFhAQ==\",\"contentType\":\"application/cbor\"}", &g, &err), EA_ERR_UNSUPPORTED);
	CU_ASSERT(strstr(err.message, "CBOR") != NULL);
	CU_ASSERT_EQUAL(parse("{\"payload\":\"!!!not base64\"}", &g, &err), EA_ERR_PARSE);
	CU_ASSERT(strstr(err.message, "base64") != NULL);
	CU_ASSERT_EQUAL(parse("{\"payload\":\"aGVsbG8=\"}", &g, &err), EA_ERR_PARSE); /* "hello" */
	CU_ASSERT_EQUAL(parse("{\"payload\":{\"apiVersion\":\"v3\"}}", &g, &err), EA_ERR_PARSE);
	CU_ASSERT(strstr(err.message, "event") != NULL);
	CU_ASSERT_EQUAL(parse("{\"apiVersion\":\"v3\"}", &g, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(parse("[1,2]", &g, &err), EA_ERR_PARSE);
	CU_ASSERT_EQUAL(g.n, 0);
}

struct results_seen {
	int raised;
	char topic[256];
	char kind[64];
};

static void on_result(void *ctx, const ea_result *r)
{
	struct results_seen *rs = ctx;
	if(!r->anomaly) return;
	rs->raised++;
	snprintf(rs->kind, sizeof(rs->kind), "%s", r->kind);
	ea_result_topic("edge-anomaly/edgex/{device}/{property}", r, rs->topic, sizeof(rs->topic));
	CU_ASSERT_STRING_EQUAL(r->ns, "factory-2");
}

static void TEST_edgex_events_through_the_engine(void)
{
	static const char yaml[] = "edgex: {namespace: factory-2}\nroutes:\n  - match: {namespace: factory-2, property: Temperature}\n"
			"    detectors: [type, {range: {max: 100}}]\n";
	ea_config_error cerr;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "t.yaml", &cerr);
	struct results_seen rs = { 0 };
	ea_engine *e;
	ea_engine_stats st;
	char env[1024];
	size_t i;
	bool tapped = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	for(i = 0; i < cfg->topic_count; i++) tapped = tapped || strcmp(cfg->topics[i], "edgex/events/device/#") == 0;
	CU_ASSERT_TRUE(tapped);
	e = ea_engine_new(cfg, 10, on_result, &rs);
	snprintf(env, sizeof(env), "{\"apiVersion\":\"v3\",\"payload\":{\"event\":{\"deviceName\":\"boiler-7\",\"origin\":1,"
			"\"readings\":[{\"resourceName\":\"Temperature\",\"valueType\":\"Float64\",\"value\":\"1.800000e+02\"},"
			"{\"resourceName\":\"Img\",\"valueType\":\"Binary\",\"binaryValue\":\"AA==\"}]}}}");
	CU_ASSERT_EQUAL(ea_engine_message(e, TOPIC, strlen(TOPIC), env, strlen(env), 1000), EA_ERR_OK);
	CU_ASSERT_EQUAL(rs.raised, 1);
	CU_ASSERT_STRING_EQUAL(rs.kind, "out-of-range");
	CU_ASSERT_STRING_EQUAL(rs.topic, "edge-anomaly/edgex/boiler-7/Temperature");
	ea_engine_stats_read(e, &st);
	CU_ASSERT_EQUAL(st.unscored, 1);
	ea_engine_free(e);
	ea_config_free(cfg);

	/* without `edgex:` the events are not analysed */
	cfg = ea_config_load_string("", 0, "t.yaml", &cerr);
	e = ea_engine_new(cfg, 10, on_result, &rs);
	CU_ASSERT_EQUAL(ea_engine_message(e, TOPIC, strlen(TOPIC), env, strlen(env), 1000), EA_ERR_UNSUPPORTED);
	ea_engine_free(e);
	ea_config_free(cfg);
}


/* ------------------------------------------------------------------ */
/* Device models feed detectors                                        */

struct reasons {
	int raised;
	char reason[8][EA_REASON_MAX + 200];
	char kind[8][64];
};

static void keep_reason(void *ctx, const ea_result *r)
{
	struct reasons *rs = ctx;
	if(!r->anomaly || rs->raised == 8) return;
	snprintf(rs->reason[rs->raised], sizeof(rs->reason[0]), "%s", r->reason);
	snprintf(rs->kind[rs->raised], sizeof(rs->kind[0]), "%s", r->kind);
	rs->raised++;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void TEST_device_models_give_range_and_type_checks(void)
{
	char dir[] = "/tmp/ea-models-XXXXXX", edgex_dir[300], kube_dir[300], path[400], yaml[1200];
	ea_config_error cerr;
	ea_config *cfg;
	ea_engine *e;
	struct reasons rs = { 0 };
	char env[800];
	const char *twin = "{\"timestamp\":1,\"twin\":{\"temperature\":{\"actual\":{\"value\":\"130\"}},"
			"\"pressure\":{\"actual\":{\"value\":\"9\"}}}}";

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(edgex_dir, sizeof(edgex_dir), "%s/edgex", dir);
	snprintf(kube_dir, sizeof(kube_dir), "%s/kube", dir);
	mkdir(edgex_dir, 0755);
	mkdir(kube_dir, 0755);
	snprintf(path, sizeof(path), "%s/boiler.yaml", edgex_dir);
	write_file(path, "name: Boiler-Profile\nmanufacturer: ACME\ndeviceResources:\n"
			"  - name: Temperature\n    properties: {valueType: Float64, readWrite: R, minimum: 0, maximum: 120}\n"
			"  - name: Label\n    properties: {valueType: String, readWrite: R}\n");
	snprintf(path, sizeof(path), "%s/boiler.yaml", kube_dir);
	write_file(path, "apiVersion: devices.kubeedge.io/v1beta1\nkind: DeviceModel\nmetadata: {name: boiler-model, namespace: default}\n"
			"spec:\n  properties:\n    - {name: temperature, type: FLOAT, minimum: \"0\", maximum: \"120\"}\n"
			"    - {name: pressure, type: FLOAT, minimum: \"0\", maximum: \"16\"}\n---\n"
			"apiVersion: devices.kubeedge.io/v1beta1\nkind: Device\nmetadata: {name: boiler-1, namespace: default}\n"
			"spec: {deviceModelRef: {name: boiler-model}, nodeName: n1}\n");
	snprintf(yaml, sizeof(yaml), "edgex: {namespace: factory-2}\nmodels: {edgex_profiles: %s, kubeedge: %s}\n"
			"routes:\n  - match: {device: boiler-9}\n    detectors: []\n", edgex_dir, kube_dir);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &cerr);
	if(cfg == NULL) fprintf(stderr, "%s\n", cerr.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->model_check_count, 4);
	CU_ASSERT_EQUAL(cfg->device_model_count, 1);
	e = ea_engine_new(cfg, 20, keep_reason, &rs);
	/* EdgeX: the reading's profile gives the limits */
	snprintf(env, sizeof(env), "{\"apiVersion\":\"v3\",\"payload\":{\"event\":{\"deviceName\":\"boiler-7\",\"profileName\":"
			"\"Boiler-Profile\",\"readings\":[{\"resourceName\":\"Temperature\",\"valueType\":\"Float64\",\"value\":"
			"\"1.800000e+02\"}]}}}");
	ea_engine_message(e, TOPIC, strlen(TOPIC), env, strlen(env), 1000);
	CU_ASSERT_EQUAL_FATAL(rs.raised, 1);
	CU_ASSERT_STRING_EQUAL(rs.kind[0], "out-of-range");
	CU_ASSERT(strstr(rs.reason[0], "(limits from the EdgeX device profile Boiler-Profile)") != NULL);
	/* KubeEdge: the Device's DeviceModel gives them */
	ea_engine_message(e, "$hw/events/device/boiler-1/twin/update", strlen("$hw/events/device/boiler-1/twin/update"),
			twin, strlen(twin), 2000);
	CU_ASSERT_EQUAL_FATAL(rs.raised, 2);
	CU_ASSERT(strstr(rs.reason[1], "above the maximum 120") != NULL);
	CU_ASSERT(strstr(rs.reason[1], "(limits from the KubeEdge DeviceModel boiler-model)") != NULL);
	/* a device without a model, and one a route covers: no model checks */
	ea_engine_message(e, "$hw/events/device/boiler-2/twin/update", strlen("$hw/events/device/boiler-2/twin/update"),
			twin, strlen(twin), 3000);
	ea_engine_message(e, "$hw/events/device/boiler-9/twin/update", strlen("$hw/events/device/boiler-9/twin/update"),
			twin, strlen(twin), 3000);
	CU_ASSERT_EQUAL(rs.raised, 2);
	ea_engine_free(e);
	ea_config_free(cfg);

	/* a broken model file stops the load, naming the file */
	snprintf(path, sizeof(path), "%s/broken.yaml", edgex_dir);
	write_file(path, "name: [unclosed\n");
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &cerr);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(cerr.message, "broken.yaml:") != NULL);
	unlink(path);
	snprintf(yaml, sizeof(yaml), "models: {kubeedge: %s/nowhere}\n", dir);
	cfg = ea_config_load_string(yaml, strlen(yaml), "t.yaml", &cerr);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT(strstr(cerr.message, "key 'models.kubeedge': cannot open the directory") != NULL);
	snprintf(path, sizeof(path), "%s/boiler.yaml", edgex_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/boiler.yaml", kube_dir);
	unlink(path);
	rmdir(edgex_dir);
	rmdir(kube_dir);
	rmdir(dir);
}

static void TEST_devices_namespaces_and_groups_limit_what_is_tapped(void)
{
	static const char yaml[] = "groups:\n  pumps: [pump-*]\ndevices:\n  namespaces: [team-a, team-b]\n  groups: [pumps]\n";
	ea_config_error cerr;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "t.yaml", &cerr);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_TRUE(ea_config_device_included(cfg, "team-a", "pump-1"));
	CU_ASSERT_TRUE(ea_config_device_included(cfg, "team-b", "pump-9"));
	CU_ASSERT_FALSE(ea_config_device_included(cfg, "team-c", "pump-1")); /* other namespace */
	CU_ASSERT_FALSE(ea_config_device_included(cfg, "team-b", "valve-1")); /* not in the group */
	ea_config_free(cfg);
}

void init_edgex_tests(void)
{
	CU_pSuite s = CU_add_suite("edgex", NULL, NULL);
	CU_add_test(s, "TEST_edgex_topic_should_give_the_device", TEST_edgex_topic_should_give_the_device);
	CU_add_test(s, "TEST_edgex_3x_base64_payload", TEST_edgex_3x_base64_payload);
	CU_add_test(s, "TEST_edgex_4x_inline_payload", TEST_edgex_4x_inline_payload);
	CU_add_test(s, "TEST_edgex_41_optimised_readings_take_names_from_the_event",
			TEST_edgex_41_optimised_readings_take_names_from_the_event);
	CU_add_test(s, "TEST_edgex_refuses_cbor_and_malformed_envelopes", TEST_edgex_refuses_cbor_and_malformed_envelopes);
	CU_add_test(s, "TEST_edgex_events_through_the_engine", TEST_edgex_events_through_the_engine);
	CU_add_test(s, "TEST_device_models_give_range_and_type_checks", TEST_device_models_give_range_and_type_checks);
	CU_add_test(s, "TEST_devices_namespaces_and_groups_limit_what_is_tapped",
			TEST_devices_namespaces_and_groups_limit_what_is_tapped);
}
