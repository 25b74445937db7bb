/* SPDX-License-Identifier: Apache-2.0
 *
 * util_test.c - unit tests of the small utilities in ea_util.c: error
 * names, clocks, RFC 3339 time formatting, duration and size parsing, shell
 * globs, MQTT topic filter matching and validation (including '$' topics,
 * which leading wildcards must not match), UTF-8 validation, the FNV-1a
 * hash, declared value types and the classification of sample texts.
 */
#include "unit_tests.h"

#include "ea.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static void TEST_ea_strerror_should_describe_every_error(void)
{
	int i;

	CU_ASSERT_STRING_EQUAL(ea_strerror(EA_ERR_OK), "success");
	CU_ASSERT_STRING_EQUAL(ea_strerror(EA_ERR_NOMEM), "out of memory");
	CU_ASSERT_STRING_EQUAL(ea_strerror(EA_ERR_UNSUPPORTED), "unsupported input");
	for(i = 0; i < (int)EA_ERR__COUNT; i++){
		const char *text = ea_strerror((ea_err)i);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT(text[0] != '\0');
	}
	CU_ASSERT_STRING_EQUAL(ea_strerror(EA_ERR__COUNT), "unknown error");
	CU_ASSERT_STRING_EQUAL(ea_strerror((ea_err)-1), "unknown error");
}

static void TEST_ea_errname_should_return_the_enum_name_without_prefix(void)
{
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR_OK), "OK");
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR_NOMEM), "NOMEM");
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR_PARSE), "PARSE");
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR_NOT_FOUND), "NOT_FOUND");
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR_UNSUPPORTED), "UNSUPPORTED");
	CU_ASSERT_STRING_EQUAL(ea_errname(EA_ERR__COUNT), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(ea_errname((ea_err)1000), "UNKNOWN");
}

/* ------------------------------------------------------------------ */
/* Clocks and time formatting                                          */

static void TEST_ea_now_ms_should_follow_the_wall_clock(void)
{
	int64_t before = (int64_t)time(NULL) * 1000;
	int64_t now = ea_now_ms();
	int64_t after = (int64_t)time(NULL) * 1000;

	/* time() may use a coarse clock a few ms behind: allow a second more */
	CU_ASSERT(now >= before);
	CU_ASSERT(now < after + 2000);
}

static void TEST_ea_mono_ns_should_never_go_backwards(void)
{
	int64_t a = ea_mono_ns();
	int64_t b = ea_mono_ns();
	int64_t c = ea_mono_ns();

	CU_ASSERT(a > 0);
	CU_ASSERT(b >= a);
	CU_ASSERT(c >= b);
}

static void TEST_ea_format_time_should_write_rfc3339_utc_with_milliseconds(void)
{
	char buf[32];

	CU_ASSERT_PTR_EQUAL(ea_format_time(0, buf, sizeof(buf)), buf);
	CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000Z");
	ea_format_time(INT64_C(1763798400123), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2025-11-22T08:00:00.123Z");
	ea_format_time(INT64_C(1709210096007), buf, sizeof(buf)); /* leap day */
	CU_ASSERT_STRING_EQUAL(buf, "2024-02-29T12:34:56.007Z");
	ea_format_time(INT64_C(253402300799999), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "9999-12-31T23:59:59.999Z");
}

static void TEST_ea_format_time_should_round_negative_times_down(void)
{
	char buf[32];

	ea_format_time(-1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.999Z");
	ea_format_time(-1000, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:59.000Z");
	ea_format_time(-1001, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "1969-12-31T23:59:58.999Z");
}

static void TEST_ea_format_time_should_refuse_years_beyond_9999(void)
{
	char buf[32];

	ea_format_time(INT64_C(253402300800000), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "invalid-time");
	ea_format_time(INT64_MAX, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "invalid-time");
	ea_format_time(INT64_MIN, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "invalid-time");
}

static void TEST_ea_format_time_should_stay_inside_small_buffers(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ea_format_time(0, buf, 5);
	CU_ASSERT_STRING_EQUAL(buf, "1970");
	CU_ASSERT_EQUAL(buf[5], 'x');

	memset(buf, 'x', sizeof(buf));
	ea_format_time(0, buf, 0);
	CU_ASSERT_EQUAL(buf[0], 'x');
}

/* ------------------------------------------------------------------ */
/* Durations and sizes                                                 */

static void TEST_ea_parse_duration_ms_should_accept_every_unit(void)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
		{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 }, { "2h", 7200000 },
		{ "1d", 86400000 }, { "45", 45000 }, { "1.5s", 1500 }, { "0", 0 },
		{ "0ms", 0 }, { "0.5m", 30000 }, { "1e3ms", 1000 },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		int64_t ms = -1;
		CU_ASSERT_TRUE(ea_parse_duration_ms(cases[i].text, &ms));
		CU_ASSERT_EQUAL(ms, cases[i].ms);
	}
}

static void TEST_ea_parse_duration_ms_should_reject_junk_negative_and_overflow(void)
{
	static const char *const bad[] = {
		"", " 5s", "5 s", "5s ", "-1s", "-0.5", "5x", "s", "ms", "5sec", "nan", "inf",
		"1e20d", "1e400", "5s5", "abc",
	};
	size_t i;
	int64_t ms = 42;

	CU_ASSERT_FALSE(ea_parse_duration_ms(NULL, &ms));
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		CU_ASSERT_FALSE(ea_parse_duration_ms(bad[i], &ms));
	}
	CU_ASSERT_EQUAL(ms, 42); /* untouched on failure */
}

static void TEST_ea_parse_size_should_accept_binary_suffixes(void)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} cases[] = {
		{ "4096", 4096 }, { "0", 0 }, { "12b", 12 }, { "64k", 65536 }, { "64KiB", 65536 },
		{ "64kb", 65536 }, { "16M", 16777216 }, { "16MiB", 16777216 },
		{ "1G", UINT64_C(1073741824) }, { "1GiB", UINT64_C(1073741824) },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", UINT64_C(17179869183) << 30 },
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		uint64_t bytes = 1;
		CU_ASSERT_TRUE(ea_parse_size(cases[i].text, &bytes));
		CU_ASSERT_EQUAL(bytes, cases[i].bytes);
	}
}

static void TEST_ea_parse_size_should_reject_junk_and_overflow(void)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 k", "1.5M", "10X", "k", "1T", "1kk",
		"18446744073709551616", "17179869184G", "18014398509481984k",
	};
	size_t i;
	uint64_t bytes = 7;

	CU_ASSERT_FALSE(ea_parse_size(NULL, &bytes));
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		CU_ASSERT_FALSE(ea_parse_size(bad[i], &bytes));
	}
	CU_ASSERT_EQUAL(bytes, 7);
}

/* ------------------------------------------------------------------ */
/* Globs and MQTT topics                                               */

static void TEST_ea_glob_match_should_follow_shell_globs(void)
{
	CU_ASSERT_TRUE(ea_glob_match(NULL, "anything"));
	CU_ASSERT_TRUE(ea_glob_match("*", ""));
	CU_ASSERT_TRUE(ea_glob_match("pump-*", "pump-17"));
	CU_ASSERT_FALSE(ea_glob_match("pump-*", "fan-1"));
	CU_ASSERT_TRUE(ea_glob_match("pump-?", "pump-1"));
	CU_ASSERT_FALSE(ea_glob_match("pump-?", "pump-12"));
	CU_ASSERT_TRUE(ea_glob_match("[ab]x", "bx"));
	CU_ASSERT_FALSE(ea_glob_match("[ab]x", "cx"));
	CU_ASSERT_TRUE(ea_glob_match("temp", "temp"));
	CU_ASSERT_FALSE(ea_glob_match("temp", "Temp"));
	/* no FNM_PATHNAME: '*' crosses '/' */
	CU_ASSERT_TRUE(ea_glob_match("plant-*", "plant-a/pump-1"));
}

static void TEST_ea_topic_matches_should_match_exact_plus_and_hash(void)
{
	CU_ASSERT_TRUE(ea_topic_matches("a/b/c", "a/b/c"));
	CU_ASSERT_FALSE(ea_topic_matches("a/b/c", "a/b/d"));
	CU_ASSERT_FALSE(ea_topic_matches("a/b", "a/b/c"));
	CU_ASSERT_FALSE(ea_topic_matches("a/b/c", "a/b"));
	CU_ASSERT_FALSE(ea_topic_matches("a/b", "a/bc"));
	CU_ASSERT_TRUE(ea_topic_matches("a/+/c", "a/x/c"));
	CU_ASSERT_FALSE(ea_topic_matches("a/+/c", "a/x/y/c"));
	CU_ASSERT_TRUE(ea_topic_matches("+/+", "a/b"));
	CU_ASSERT_FALSE(ea_topic_matches("+/+", "a"));
	CU_ASSERT_FALSE(ea_topic_matches("a/+", "a"));
	CU_ASSERT_TRUE(ea_topic_matches("#", "a/b/c"));
	CU_ASSERT_TRUE(ea_topic_matches("a/#", "a/b/c"));
	CU_ASSERT_FALSE(ea_topic_matches("a/#", "b/c"));
	CU_ASSERT_TRUE(ea_topic_matches("a/+/#", "a/b/c/d"));
	CU_ASSERT_TRUE(ea_topic_matches("$hw/events/device/+/twin/update",
			"$hw/events/device/pump-1/twin/update"));
	CU_ASSERT_FALSE(ea_topic_matches("$hw/events/device/+/twin/update",
			"$hw/events/device/ns/pump-1/twin/update"));
	CU_ASSERT_TRUE(ea_topic_matches("$hw/events/device/+/+/twin/update",
			"$hw/events/device/ns/pump-1/twin/update"));
}

static void TEST_ea_topic_matches_should_let_hash_match_the_parent_level(void)
{
	CU_ASSERT_TRUE(ea_topic_matches("a/#", "a"));
	CU_ASSERT_TRUE(ea_topic_matches("a/b/#", "a/b"));
	CU_ASSERT_TRUE(ea_topic_matches("a/+/#", "a/b"));
	CU_ASSERT_FALSE(ea_topic_matches("a/b/#", "a"));
}

static void TEST_ea_topic_matches_should_handle_empty_levels(void)
{
	CU_ASSERT_TRUE(ea_topic_matches("a/+", "a/"));
	CU_ASSERT_TRUE(ea_topic_matches("/+", "/x"));
	CU_ASSERT_TRUE(ea_topic_matches("/+", "/"));
	CU_ASSERT_TRUE(ea_topic_matches("a//b", "a//b"));
	CU_ASSERT_TRUE(ea_topic_matches("a/+/b", "a//b"));
	CU_ASSERT_FALSE(ea_topic_matches("+", "/"));
	CU_ASSERT_FALSE(ea_topic_matches("a", "a/"));
	CU_ASSERT_FALSE(ea_topic_matches("a/", "a"));
}

static void TEST_ea_topic_matches_should_not_match_dollar_topics_with_leading_wildcards(void)
{
	CU_ASSERT_FALSE(ea_topic_matches("#", "$SYS/broker/uptime"));
	CU_ASSERT_FALSE(ea_topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
	CU_ASSERT_FALSE(ea_topic_matches("+/events/device/+/twin/update",
			"$hw/events/device/pump-1/twin/update"));
	CU_ASSERT_FALSE(ea_topic_matches("#", "$hw"));
	CU_ASSERT_TRUE(ea_topic_matches("$SYS/#", "$SYS/broker/uptime"));
	CU_ASSERT_TRUE(ea_topic_matches("$SYS/+/uptime", "$SYS/broker/uptime"));
	/* only the first level is special */
	CU_ASSERT_TRUE(ea_topic_matches("a/+", "a/$b"));
	CU_ASSERT_TRUE(ea_topic_matches("a/#", "a/$b/c"));
}

static void TEST_ea_topic_filter_valid_should_accept_well_formed_filters(void)
{
	CU_ASSERT_TRUE(ea_topic_filter_valid("a"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("#"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("+"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("a/+/c/#"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("/"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("+/+/+"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("$hw/events/device/+/+/twin/update/document"));
	CU_ASSERT_TRUE(ea_topic_filter_valid("caf\xC3\xA9/+"));
}

static void TEST_ea_topic_filter_valid_should_reject_misplaced_wildcards_and_bad_bytes(void)
{
	char *huge;

	CU_ASSERT_FALSE(ea_topic_filter_valid(NULL));
	CU_ASSERT_FALSE(ea_topic_filter_valid(""));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a/#/b"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a#"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a/b#"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a+"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("+a"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a/+b/c"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("##"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a/\xC3"));
	CU_ASSERT_FALSE(ea_topic_filter_valid("a/\xFF"));

	huge = malloc(65537);
	CU_ASSERT_PTR_NOT_NULL_FATAL(huge);
	memset(huge, 'a', 65536);
	huge[65536] = '\0';
	CU_ASSERT_FALSE(ea_topic_filter_valid(huge)); /* longer than MQTT allows */
	huge[65535] = '\0';
	CU_ASSERT_TRUE(ea_topic_filter_valid(huge));
	free(huge);
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */

static void TEST_ea_utf8_valid_should_accept_valid_sequences(void)
{
	static const char *const good[] = {
		"", "plain ascii", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xEF\xBF\xBF", "\xED\x9F\xBF",
		"\xEE\x80\x80", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\x7F",
	};
	size_t i;

	for(i = 0; i < sizeof(good) / sizeof(good[0]); i++){
		CU_ASSERT_TRUE(ea_utf8_valid(good[i], strlen(good[i])));
	}
}

static void TEST_ea_utf8_valid_should_reject_malformed_sequences(void)
{
	static const char *const bad[] = {
		"\x80",             /* lone continuation byte */
		"a\xBF\x62",        /* continuation byte in ASCII ("b" after it) */
		"\xC0\x80",         /* overlong NUL */
		"\xC1\xBF",         /* overlong 2-byte */
		"\xE0\x80\x80",     /* overlong 3-byte */
		"\xF0\x80\x80\x80", /* overlong 4-byte */
		"\xED\xA0\x80",     /* UTF-16 surrogate */
		"\xED\xBF\xBF",     /* UTF-16 surrogate */
		"\xF4\x90\x80\x80", /* beyond U+10FFFF */
		"\xF8\x88\x80\x80\x80", /* 5-byte form */
		"\xFE", "\xFF",
		"\xC3",             /* truncated 2-byte */
		"\xE2\x82",         /* truncated 3-byte */
		"\xF0\x9F\x98",     /* truncated 4-byte */
		"\xC3(",            /* bad continuation */
		"\xE2\x28\xA1",
	};
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		CU_ASSERT_FALSE(ea_utf8_valid(bad[i], strlen(bad[i])));
	}
	CU_ASSERT_FALSE(ea_utf8_valid("a\0b", 3)); /* NUL inside */
}

static void TEST_ea_utf8_valid_should_read_only_len_bytes(void)
{
	/* Exactly sized heap buffers without a NUL: ASan catches any overread. */
	char *euro = malloc(3);
	char *cut = malloc(2);

	CU_ASSERT_PTR_NOT_NULL_FATAL(euro);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
	memcpy(euro, "\xE2\x82\xAC", 3);
	memcpy(cut, "\xE2\x82", 2);
	CU_ASSERT_TRUE(ea_utf8_valid(euro, 3));
	CU_ASSERT_FALSE(ea_utf8_valid(euro, 2)); /* a prefix is truncated */
	CU_ASSERT_FALSE(ea_utf8_valid(cut, 2));
	CU_ASSERT_TRUE(ea_utf8_valid(euro, 0));
	free(euro);
	free(cut);
}

/* ------------------------------------------------------------------ */
/* Hash                                                                */

static void TEST_ea_hash_bytes_should_compute_fnv1a(void)
{
	/* The FNV-1a 64 algorithm, checked with the standard offset basis
	 * 0xcbf29ce484222325 and the reference vectors. */
	const uint64_t basis = UINT64_C(0xcbf29ce484222325);

	CU_ASSERT_EQUAL(ea_hash_bytes(basis, "", 0), basis);
	CU_ASSERT_EQUAL(ea_hash_bytes(basis, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
	CU_ASSERT_EQUAL(ea_hash_bytes(basis, "foobar", 6), UINT64_C(0x85944171f73967e8));
}

static void TEST_ea_hash_bytes_should_use_the_fnv1a_offset_basis_as_seed(void)
{
	/* Regression, fixed bug (ea.h:131): EA_HASH_SEED is 1469598103934665603
	 * (0x14650fb0739d0383), the FNV-1a 64 offset basis with its last digit
	 * dropped; the basis is 14695981039346656037 (0xcbf29ce484222325). So
	 * ea_hash_bytes(EA_HASH_SEED, ...) is not the FNV-1a the header
	 * promises: "a" hashes to 0x44bd8ad473cd9906 instead of
	 * 0xaf63dc4c8601ec8c. */
	CU_ASSERT_EQUAL(EA_HASH_SEED, UINT64_C(0xcbf29ce484222325));
	CU_ASSERT_EQUAL(ea_hash_bytes(EA_HASH_SEED, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
}

static void TEST_ea_hash_bytes_should_chain_like_one_pass(void)
{
	uint64_t whole = ea_hash_bytes(EA_HASH_SEED, "default/pump-1", 14);
	uint64_t parts = ea_hash_bytes(ea_hash_bytes(EA_HASH_SEED, "default/", 8), "pump-1", 6);

	CU_ASSERT_EQUAL(whole, parts);
	CU_ASSERT_NOT_EQUAL(whole, ea_hash_bytes(EA_HASH_SEED, "default/pump-2", 14));
	CU_ASSERT_NOT_EQUAL(ea_hash_bytes(EA_HASH_SEED, "ab", 2), ea_hash_bytes(EA_HASH_SEED, "ba", 2));
}

/* ------------------------------------------------------------------ */
/* Value types and sample classification                               */

static void TEST_ea_value_type_parse_should_map_names_in_any_case(void)
{
	CU_ASSERT_EQUAL(ea_value_type_parse(NULL), EA_TYPE_NONE);
	CU_ASSERT_EQUAL(ea_value_type_parse(""), EA_TYPE_NONE);
	CU_ASSERT_EQUAL(ea_value_type_parse("int"), EA_TYPE_INT);
	CU_ASSERT_EQUAL(ea_value_type_parse("Integer"), EA_TYPE_INT);
	CU_ASSERT_EQUAL(ea_value_type_parse("INT64"), EA_TYPE_INT);
	CU_ASSERT_EQUAL(ea_value_type_parse("float"), EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(ea_value_type_parse("DOUBLE"), EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(ea_value_type_parse("float32"), EA_TYPE_FLOAT);
	CU_ASSERT_EQUAL(ea_value_type_parse("boolean"), EA_TYPE_BOOLEAN);
	CU_ASSERT_EQUAL(ea_value_type_parse("Bool"), EA_TYPE_BOOLEAN);
	CU_ASSERT_EQUAL(ea_value_type_parse("string"), EA_TYPE_STRING);
	CU_ASSERT_EQUAL(ea_value_type_parse("bytes"), EA_TYPE_OTHER);
	CU_ASSERT_EQUAL(ea_value_type_parse("int "), EA_TYPE_OTHER);
}

static void TEST_ea_value_type_name_should_name_every_type(void)
{
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_NONE), "none");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_INT), "int");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_FLOAT), "float");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_BOOLEAN), "boolean");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_STRING), "string");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name(EA_TYPE_OTHER), "other");
	CU_ASSERT_STRING_EQUAL(ea_value_type_name((ea_value_type)99), "other");
}

/* Classifies `text` as `declared` into a fresh sample. */
static ea_sample classify(const char *text, ea_value_type declared)
{
	ea_sample s;

	/* stale values from an earlier sample that classify must reset */
	memset(&s, 0, sizeof(s));
	s.has_number = true;
	s.type_ok = true;
	s.number = 123.0;
	s.declared = EA_TYPE_OTHER;
	ea_sample_classify(&s, text, declared);
	return s;
}

static void TEST_ea_sample_classify_should_parse_declared_ints(void)
{
	ea_sample s = classify("21", EA_TYPE_INT);

	CU_ASSERT_PTR_NOT_NULL(s.text);
	CU_ASSERT_EQUAL(s.declared, EA_TYPE_INT);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 21.0, 0.0);

	s = classify("-7", EA_TYPE_INT);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_DOUBLE_EQUAL(s.number, -7.0, 0.0);

	/* a number, but not an int: usable by numeric detectors, wrong type */
	s = classify("21.0", EA_TYPE_INT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 21.0, 0.0);

	s = classify("abc", EA_TYPE_INT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 0.0, 0.0);

	s = classify(" 21", EA_TYPE_INT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);

	s = classify("", EA_TYPE_INT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);

	s = classify("99999999999999999999", EA_TYPE_INT); /* beyond int64 */
	CU_ASSERT_FALSE(s.type_ok);
}

static void TEST_ea_sample_classify_should_parse_declared_floats_and_refuse_nan_and_inf(void)
{
	ea_sample s = classify("21.5", EA_TYPE_FLOAT);

	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 21.5, 0.0);

	s = classify("-1e-3", EA_TYPE_FLOAT);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_DOUBLE_EQUAL(s.number, -0.001, 1e-15);

	s = classify("NaN", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("inf", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("-Infinity", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	s = classify("1e999", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("21,5", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("21.5 ", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
	s = classify("", EA_TYPE_FLOAT);
	CU_ASSERT_FALSE(s.type_ok);
}

static void TEST_ea_sample_classify_should_parse_declared_booleans(void)
{
	ea_sample s = classify("true", EA_TYPE_BOOLEAN);

	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 1.0, 0.0);
	s = classify("FALSE", EA_TYPE_BOOLEAN);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 0.0, 0.0);
	s = classify("1", EA_TYPE_BOOLEAN);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 1.0, 0.0);
	s = classify("on", EA_TYPE_BOOLEAN);
	CU_ASSERT_FALSE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("2", EA_TYPE_BOOLEAN);
	CU_ASSERT_FALSE(s.type_ok);
}

static void TEST_ea_sample_classify_should_accept_anything_as_string(void)
{
	ea_sample s = classify("21.5", EA_TYPE_STRING);

	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("", EA_TYPE_STRING);
	CU_ASSERT_TRUE(s.type_ok);
	s = classify("\x01\x02", EA_TYPE_OTHER);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	CU_ASSERT_EQUAL(s.declared, EA_TYPE_OTHER);
}

static void TEST_ea_sample_classify_should_infer_numbers_when_undeclared(void)
{
	ea_sample s = classify("21.5", EA_TYPE_NONE);

	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 21.5, 0.0);
	s = classify("true", EA_TYPE_NONE);
	CU_ASSERT_TRUE(s.has_number);
	CU_ASSERT_DOUBLE_EQUAL(s.number, 1.0, 0.0);
	s = classify("running", EA_TYPE_NONE);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("nan", EA_TYPE_NONE);
	CU_ASSERT_TRUE(s.type_ok);
	CU_ASSERT_FALSE(s.has_number);
	s = classify("", EA_TYPE_NONE);
	CU_ASSERT_FALSE(s.has_number);
}

/* ------------------------------------------------------------------ */

static void TEST_ea_parse_timestamp_should_read_every_replay_format(void)
{
	int64_t t;
	static const char *const bad[] = {
		"", "yesterday", "2026-11-22", "2026-11-22 08:00", "2026-13-01 00:00:00", "2026-02-30 00:00:00",
		"2025-02-29 00:00:00", "2026-11-22 24:00:00", "2026-11-22T08:00:00+25:00", "2026-11-22 08:00:00 junk",
		"2026-11-22 08:00:00.", "-5", "1e9", "12:00", "253402300800000", "nan",
	};
	size_t i;

	CU_ASSERT_TRUE(ea_parse_timestamp("2014-04-10 07:15:00", &t));
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("2014-04-10 07:15:00.250000", &t));
	CU_ASSERT_EQUAL(t, 1397114100250LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("2014-04-10T07:15:00Z", &t));
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("2014-04-10T09:15:00.5+02:00", &t));
	CU_ASSERT_EQUAL(t, 1397114100500LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("2014-04-10T02:15:00-05:00", &t));
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("1397114100", &t)); /* seconds */
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("1397114100.25", &t));
	CU_ASSERT_EQUAL(t, 1397114100250LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("1397114100000", &t)); /* milliseconds */
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("2024-02-29 00:00:00", &t)); /* a leap day */
	CU_ASSERT_EQUAL(t, 1709164800000LL);
	CU_ASSERT_TRUE(ea_parse_timestamp("1969-12-31 23:59:59", &t));
	CU_ASSERT_EQUAL(t, -1000);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		if(ea_parse_timestamp(bad[i], &t)) CU_FAIL(bad[i]);
	}
}

#define TEST(fn) { #fn, fn }

void init_util_tests(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(TEST_ea_strerror_should_describe_every_error),
		TEST(TEST_ea_errname_should_return_the_enum_name_without_prefix),
		TEST(TEST_ea_now_ms_should_follow_the_wall_clock),
		TEST(TEST_ea_mono_ns_should_never_go_backwards),
		TEST(TEST_ea_format_time_should_write_rfc3339_utc_with_milliseconds),
		TEST(TEST_ea_format_time_should_round_negative_times_down),
		TEST(TEST_ea_format_time_should_refuse_years_beyond_9999),
		TEST(TEST_ea_format_time_should_stay_inside_small_buffers),
		TEST(TEST_ea_parse_duration_ms_should_accept_every_unit),
		TEST(TEST_ea_parse_duration_ms_should_reject_junk_negative_and_overflow),
		TEST(TEST_ea_parse_size_should_accept_binary_suffixes),
		TEST(TEST_ea_parse_size_should_reject_junk_and_overflow),
		TEST(TEST_ea_glob_match_should_follow_shell_globs),
		TEST(TEST_ea_topic_matches_should_match_exact_plus_and_hash),
		TEST(TEST_ea_topic_matches_should_let_hash_match_the_parent_level),
		TEST(TEST_ea_topic_matches_should_handle_empty_levels),
		TEST(TEST_ea_topic_matches_should_not_match_dollar_topics_with_leading_wildcards),
		TEST(TEST_ea_topic_filter_valid_should_accept_well_formed_filters),
		TEST(TEST_ea_topic_filter_valid_should_reject_misplaced_wildcards_and_bad_bytes),
		TEST(TEST_ea_utf8_valid_should_accept_valid_sequences),
		TEST(TEST_ea_utf8_valid_should_reject_malformed_sequences),
		TEST(TEST_ea_utf8_valid_should_read_only_len_bytes),
		TEST(TEST_ea_hash_bytes_should_compute_fnv1a),
		TEST(TEST_ea_hash_bytes_should_use_the_fnv1a_offset_basis_as_seed),
		TEST(TEST_ea_hash_bytes_should_chain_like_one_pass),
		TEST(TEST_ea_value_type_parse_should_map_names_in_any_case),
		TEST(TEST_ea_value_type_name_should_name_every_type),
		TEST(TEST_ea_sample_classify_should_parse_declared_ints),
		TEST(TEST_ea_sample_classify_should_parse_declared_floats_and_refuse_nan_and_inf),
		TEST(TEST_ea_sample_classify_should_parse_declared_booleans),
		TEST(TEST_ea_sample_classify_should_accept_anything_as_string),
		TEST(TEST_ea_sample_classify_should_infer_numbers_when_undeclared),
		TEST(TEST_ea_parse_timestamp_should_read_every_replay_format),
	};
	CU_pSuite suite = CU_add_suite("util", NULL, NULL);
	size_t i;

	if(suite == NULL) return;
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++){
		if(CU_add_test(suite, tests[i].name, tests[i].fn) == NULL) return;
	}
}
