/* SPDX-License-Identifier: Apache-2.0
 *
 * topic_test.c - unit tests of ea_topic.c: classification of KubeEdge
 * device topics (twin update, twin document, device state) with one-level
 * ("default" namespace) and two-level device ids, rejection of every other
 * shape (other prefixes and suffixes, empty or extra levels), length-bounded
 * reading of topics that are not NUL-terminated, and the shard hash that
 * keeps all messages of one device on one worker.
 */
#include "unit_tests.h"

#include "ea_topic.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

/* Parses a NUL-terminated topic. */
static ea_err parse(const char *topic, ea_topic_info *out)
{
	return ea_topic_parse(topic, strlen(topic), out);
}

/* true when the (ptr, len) name equals `want`. */
static bool name_is(const char *ptr, size_t len, const char *want)
{
	return ptr != NULL && len == strlen(want) && memcmp(ptr, want, len) == 0;
}

static void TEST_ea_topic_parse_should_put_one_level_device_ids_in_the_default_namespace(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/pump-1/twin/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_UPDATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "default"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));
}

static void TEST_ea_topic_parse_should_read_namespace_and_device_of_two_level_ids(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/plant-a/pump-1/twin/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_UPDATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "plant-a"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));
}

static void TEST_ea_topic_parse_should_recognise_document_topics(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/pump-1/twin/update/document", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_DOCUMENT);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "default"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));

	CU_ASSERT_EQUAL(parse("$hw/events/device/plant-a/pump-1/twin/update/document", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_DOCUMENT);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "plant-a"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));
}

static void TEST_ea_topic_parse_should_recognise_state_topics(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/pump-1/state/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_DEVICE_STATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "default"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));

	CU_ASSERT_EQUAL(parse("$hw/events/device/plant-a/pump-1/state/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_DEVICE_STATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "plant-a"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));
}

static void TEST_ea_topic_parse_should_accept_ids_that_look_like_suffix_words(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/twin/twin/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_UPDATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "default"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "twin"));

	CU_ASSERT_EQUAL(parse("$hw/events/device/twin/update/twin/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_UPDATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "twin"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "update"));

	CU_ASSERT_EQUAL(parse("$hw/events/device/state/update/state/update", &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_DEVICE_STATE);
	CU_ASSERT_TRUE(name_is(info.ns, info.ns_len, "state"));
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "update"));
}

static void TEST_ea_topic_parse_should_reject_other_prefixes(void)
{
	static const char *const bad[] = {
		"",
		"$hw",
		"$hw/events/device/",
		"$hw/events/device",
		"hw/events/device/pump-1/twin/update",
		"$HW/events/device/pump-1/twin/update",
		"$hw/events/node/pump-1/twin/update",
		"$hw/events/devices/pump-1/twin/update",
		"/$hw/events/device/pump-1/twin/update",
		"$SYS/broker/uptime",
		"sensors/pump-1/temperature",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ea_topic_info info;
		memset(&info, 0xA5, sizeof(info));
		CU_ASSERT_EQUAL(parse(bad[i], &info), EA_ERR_UNSUPPORTED);
		CU_ASSERT_EQUAL(info.kind, EA_TOPIC_UNKNOWN);
		CU_ASSERT_PTR_NULL(info.ns);
		CU_ASSERT_PTR_NULL(info.device);
	}
}

static void TEST_ea_topic_parse_should_reject_unknown_suffixes(void)
{
	static const char *const bad[] = {
		"$hw/events/device/pump-1",
		"$hw/events/device/pump-1/twin",
		"$hw/events/device/pump-1/twin/get",
		"$hw/events/device/pump-1/twin/update/result",
		"$hw/events/device/pump-1/twin/update/delta",
		"$hw/events/device/pump-1/twin/update/document/x",
		"$hw/events/device/pump-1/twin/cloud_updated",
		"$hw/events/device/pump-1/state/get",
		"$hw/events/device/pump-1/state/update/result",
		"$hw/events/device/pump-1/Twin/Update",
		"$hw/events/device/pump-1/twin/update/",
		"$hw/events/device/pump-1/twin//update",
		"$hw/events/device/twin/update",
		"$hw/events/device/state/update",
		"$hw/events/device/twin/update/document",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ea_topic_info info;
		CU_ASSERT_EQUAL(parse(bad[i], &info), EA_ERR_UNSUPPORTED);
		CU_ASSERT_EQUAL(info.kind, EA_TOPIC_UNKNOWN);
	}
}

static void TEST_ea_topic_parse_should_reject_empty_id_levels(void)
{
	static const char *const bad[] = {
		"$hw/events/device//twin/update",
		"$hw/events/device//pump-1/twin/update",
		"$hw/events/device/plant-a//twin/update",
		"$hw/events/device///twin/update/document",
		"$hw/events/device//state/update",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ea_topic_info info;
		CU_ASSERT_EQUAL(parse(bad[i], &info), EA_ERR_UNSUPPORTED);
		CU_ASSERT_EQUAL(info.kind, EA_TOPIC_UNKNOWN);
	}
}

static void TEST_ea_topic_parse_should_reject_more_than_two_id_levels(void)
{
	ea_topic_info info;

	CU_ASSERT_EQUAL(parse("$hw/events/device/a/b/c/twin/update", &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(parse("$hw/events/device/a/b/c/twin/update/document", &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(parse("$hw/events/device/a/b/c/state/update", &info), EA_ERR_UNSUPPORTED);
	/* far more levels than any shape has */
	CU_ASSERT_EQUAL(parse("$hw/events/device/a/b/c/d/e/f/g/h/i/j/k/twin/update", &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_UNKNOWN);
}

static void TEST_ea_topic_parse_should_read_only_len_bytes(void)
{
	static const char text[] = "$hw/events/device/plant-a/pump-1/twin/update/document";
	size_t len = strlen(text);
	char *exact = malloc(len); /* no NUL: ASan catches any overread */
	ea_topic_info info;

	CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
	memcpy(exact, text, len);
	CU_ASSERT_EQUAL(ea_topic_parse(exact, len, &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_DOCUMENT);
	CU_ASSERT_TRUE(name_is(info.device, info.device_len, "pump-1"));
	/* the names point into the caller's topic */
	CU_ASSERT_PTR_EQUAL(info.ns, exact + 18);
	CU_ASSERT_PTR_EQUAL(info.device, exact + 26);

	/* a shorter len is a different topic: ".../twin/update" */
	CU_ASSERT_EQUAL(ea_topic_parse(exact, len - strlen("/document"), &info), EA_ERR_OK);
	CU_ASSERT_EQUAL(info.kind, EA_TOPIC_TWIN_UPDATE);
	/* and ".../twin/updat" is nothing */
	CU_ASSERT_EQUAL(ea_topic_parse(exact, len - strlen("e/document"), &info), EA_ERR_UNSUPPORTED);
	/* down to the bare prefix */
	CU_ASSERT_EQUAL(ea_topic_parse(exact, strlen(EA_KUBEEDGE_PREFIX), &info), EA_ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(ea_topic_parse(exact, 0, &info), EA_ERR_UNSUPPORTED);
	free(exact);
}

static void TEST_ea_topic_shard_hash_should_place_every_topic_of_a_device_together(void)
{
	static const char *const same[] = {
		"$hw/events/device/pump-1/twin/update",
		"$hw/events/device/pump-1/twin/update/document",
		"$hw/events/device/pump-1/state/update",
		"$hw/events/device/default/pump-1/twin/update",
		"$hw/events/device/default/pump-1/twin/update/document",
		"$hw/events/device/default/pump-1/state/update",
	};
	uint64_t h = ea_topic_shard_hash(same[0], strlen(same[0]));
	size_t i;

	for(i = 1; i < sizeof(same) / sizeof(same[0]); i++){
		CU_ASSERT_EQUAL(ea_topic_shard_hash(same[i], strlen(same[i])), h);
	}
	/* the hash of "ns/device" */
	CU_ASSERT_EQUAL(h, ea_hash_bytes(EA_HASH_SEED, "default/pump-1", 14));
}

static void TEST_ea_topic_shard_hash_should_separate_devices_and_namespaces(void)
{
	const char *a = "$hw/events/device/plant-a/pump-1/twin/update";
	const char *b = "$hw/events/device/plant-b/pump-1/twin/update";
	const char *c = "$hw/events/device/plant-a/pump-2/twin/update";
	uint64_t ha = ea_topic_shard_hash(a, strlen(a));

	CU_ASSERT_EQUAL(ha, ea_hash_bytes(EA_HASH_SEED, "plant-a/pump-1", 14));
	CU_ASSERT_NOT_EQUAL(ha, ea_topic_shard_hash(b, strlen(b)));
	CU_ASSERT_NOT_EQUAL(ha, ea_topic_shard_hash(c, strlen(c)));
}

static void TEST_ea_topic_shard_hash_should_hash_unknown_topics_whole(void)
{
	const char *t = "sensors/pump-1/temperature";
	const char *t2 = "$hw/events/device/pump-1/twin/get";

	CU_ASSERT_EQUAL(ea_topic_shard_hash(t, strlen(t)), ea_hash_bytes(EA_HASH_SEED, t, strlen(t)));
	CU_ASSERT_EQUAL(ea_topic_shard_hash(t2, strlen(t2)), ea_hash_bytes(EA_HASH_SEED, t2, strlen(t2)));
	CU_ASSERT_EQUAL(ea_topic_shard_hash("", 0), EA_HASH_SEED);
}

static void TEST_ea_topic_kind_name_should_name_every_kind(void)
{
	CU_ASSERT_STRING_EQUAL(ea_topic_kind_name(EA_TOPIC_TWIN_UPDATE), "twin/update");
	CU_ASSERT_STRING_EQUAL(ea_topic_kind_name(EA_TOPIC_TWIN_DOCUMENT), "twin/update/document");
	CU_ASSERT_STRING_EQUAL(ea_topic_kind_name(EA_TOPIC_DEVICE_STATE), "state/update");
	CU_ASSERT_STRING_EQUAL(ea_topic_kind_name(EA_TOPIC_UNKNOWN), "unknown");
	CU_ASSERT_STRING_EQUAL(ea_topic_kind_name((ea_topic_kind)42), "unknown");
}

/* ------------------------------------------------------------------ */

#define TEST(fn) { #fn, fn }

void init_topic_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_topic_parse_should_put_one_level_device_ids_in_the_default_namespace),
		TEST(TEST_ea_topic_parse_should_read_namespace_and_device_of_two_level_ids),
		TEST(TEST_ea_topic_parse_should_recognise_document_topics),
		TEST(TEST_ea_topic_parse_should_recognise_state_topics),
		TEST(TEST_ea_topic_parse_should_accept_ids_that_look_like_suffix_words),
		TEST(TEST_ea_topic_parse_should_reject_other_prefixes),
		TEST(TEST_ea_topic_parse_should_reject_unknown_suffixes),
		TEST(TEST_ea_topic_parse_should_reject_empty_id_levels),
		TEST(TEST_ea_topic_parse_should_reject_more_than_two_id_levels),
		TEST(TEST_ea_topic_parse_should_read_only_len_bytes),
		TEST(TEST_ea_topic_shard_hash_should_place_every_topic_of_a_device_together),
		TEST(TEST_ea_topic_shard_hash_should_separate_devices_and_namespaces),
		TEST(TEST_ea_topic_shard_hash_should_hash_unknown_topics_whole),
		TEST(TEST_ea_topic_kind_name_should_name_every_kind),
	};
	CU_pSuite suite = CU_add_suite("topic", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
