/* SPDX-License-Identifier: Apache-2.0
 *
 * mirror_test.c - the data mirror (detectors/ea_mirror.c) on a temporary
 * database: records from several threads all committed, results stored
 * with their fields, a full queue drops and counts, retention by age and
 * by size. Under ASan and TSan like the rest.
 */
#include "unit_tests.h"

#include "ea_mirror.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void temp_db(char *path, size_t len)
{
	snprintf(path, len, "/tmp/ea-mirror-test-%d-XXXXXX", (int)getpid());
	{
		int fd = mkstemp(path);
		if(fd >= 0) close(fd);
		unlink(path);
	}
}

static void remove_db(const char *path)
{
	char side[600];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static long long query(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return -1;
	if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK){
		if(sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

static ea_sample sample_of(const char *device, double x, int64_t t)
{
	static _Thread_local char text[32];
	ea_sample s;

	memset(&s, 0, sizeof(s));
	s.ns = "default";
	s.device = device;
	s.property = "temp";
	snprintf(text, sizeof(text), "%g", x);
	ea_sample_classify(&s, text, EA_TYPE_NONE);
	s.time_ms = t;
	s.arrival_ms = t;
	return s;
}

struct writer_arg {
	ea_mirror *m;
	const char *device;
	int n;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	int i;
	for(i = 0; i < a->n; i++){
		ea_sample s = sample_of(a->device, i, 1000000 + i);
		ea_mirror_sample(a->m, &s);
	}
	return NULL;
}

static void TEST_mirror_should_commit_records_from_several_threads(void)
{
	char path[256], err[256];
	ea_mirror_settings st = { .path = path, .batch = 500 };
	ea_mirror *m;
	pthread_t t[3];
	struct writer_arg a[3] = { { NULL, "d0", 3000 }, { NULL, "d1", 3000 }, { NULL, "d2", 3000 } };
	ea_result r;
	ea_mirror_stats stats;
	int i;

	temp_db(path, sizeof(path));
	m = ea_mirror_open(&st, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for(i = 0; i < 3; i++){
		a[i].m = m;
		pthread_create(&t[i], NULL, writer, &a[i]);
	}
	for(i = 0; i < 3; i++) pthread_join(t[i], NULL);
	memset(&r, 0, sizeof(r));
	r.ns = "default";
	r.device = "d0";
	r.property = "temp";
	r.detector = "range";
	r.kind = "out-of-range";
	r.reason = "value 180 is above the maximum 100";
	r.value_text = "180";
	r.sample_time_ms = 1000005;
	r.detected_at_ms = 1000006;
	r.anomaly = true;
	r.score = 0.9;
	ea_mirror_result(m, &r);
	CU_ASSERT_TRUE(ea_mirror_flush(m, 10000));
	ea_mirror_stats_read(m, &stats);
	CU_ASSERT_EQUAL(stats.samples_written, 9000);
	CU_ASSERT_EQUAL(stats.results_written, 1);
	CU_ASSERT_EQUAL(stats.dropped, 0);
	CU_ASSERT(stats.batches >= 18); /* at most 500 records a batch */
	CU_ASSERT_EQUAL(query(path, "SELECT count(*) FROM samples WHERE device = 'd1'"), 3000);
	CU_ASSERT_EQUAL(query(path, "SELECT count(*) FROM samples WHERE num IS NOT NULL"), 9000);
	CU_ASSERT_EQUAL(query(path, "SELECT count(*) FROM results WHERE kind = 'out-of-range' AND anomaly = 1 AND ts = 1000005 "
			"AND detected_at = 1000006 AND reason LIKE 'value 180%'"), 1);
	ea_mirror_close(m);
	remove_db(path);
}

static void TEST_mirror_should_drop_and_count_when_its_queue_is_full(void)
{
	char path[256], err[256];
	ea_mirror_settings st = { .path = path, .queue_records = 10, .batch = 10 };
	ea_mirror *m;
	ea_mirror_stats stats;
	int i;

	temp_db(path, sizeof(path));
	m = ea_mirror_open(&st, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for(i = 0; i < 100000; i++){
		ea_sample s = sample_of("fast", i, i);
		ea_mirror_sample(m, &s);
	}
	CU_ASSERT_TRUE(ea_mirror_flush(m, 10000));
	ea_mirror_stats_read(m, &stats);
	CU_ASSERT(stats.dropped > 0);
	CU_ASSERT_EQUAL(stats.samples_written + stats.dropped, 100000);
	CU_ASSERT_EQUAL(query(path, "SELECT count(*) FROM samples"), (long long)stats.samples_written);
	ea_mirror_close(m);
	remove_db(path);
}

static void TEST_mirror_retention_should_delete_by_age_and_size(void)
{
	char path[256], err[256];
	ea_mirror_settings st = { .path = path, .retention_ms = 3600000, .max_size = 512 * 1024 };
	ea_mirror *m;
	int64_t now = 1800000000000LL;
	int i;

	temp_db(path, sizeof(path));
	m = ea_mirror_open(&st, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for(i = 0; i < 100; i++){
		ea_sample s = sample_of("old", i, now - 7200000 + i);
		ea_mirror_sample(m, &s);
	}
	for(i = 0; i < 40000; i++){
		ea_sample s = sample_of("a-device-with-a-longish-name", i * 0.001, now - 1000 + i);
		ea_mirror_sample(m, &s);
	}
	CU_ASSERT_TRUE(ea_mirror_flush(m, 20000));
	CU_ASSERT(ea_mirror_apply_retention(m, now) > 100);
	CU_ASSERT_EQUAL(query(path, "SELECT count(*) FROM samples WHERE device = 'old'"), 0);
	/* under the cap, newest kept */
	CU_ASSERT((query(path, "PRAGMA page_count") - query(path, "PRAGMA freelist_count")) * query(path, "PRAGMA page_size")
			<= 512 * 1024);
	CU_ASSERT(query(path, "SELECT count(*) FROM samples") > 0);
	CU_ASSERT_EQUAL(query(path, "SELECT max(ts) FROM samples"), now - 1000 + 39999);
	ea_mirror_close(m);
	remove_db(path);
}

static void TEST_mirror_open_should_name_the_file_on_failure(void)
{
	char err[256] = "";
	ea_mirror_settings st = { .path = "/nonexistent-dir/mirror.db" };

	CU_ASSERT_PTR_NULL(ea_mirror_open(&st, err, sizeof(err)));
	CU_ASSERT(strstr(err, "/nonexistent-dir/mirror.db") != NULL);
}

void init_mirror_tests(void)
{
	CU_pSuite s = CU_add_suite("mirror", NULL, NULL);
	CU_add_test(s, "TEST_mirror_should_commit_records_from_several_threads", TEST_mirror_should_commit_records_from_several_threads);
	CU_add_test(s, "TEST_mirror_should_drop_and_count_when_its_queue_is_full",
			TEST_mirror_should_drop_and_count_when_its_queue_is_full);
	CU_add_test(s, "TEST_mirror_retention_should_delete_by_age_and_size", TEST_mirror_retention_should_delete_by_age_and_size);
	CU_add_test(s, "TEST_mirror_open_should_name_the_file_on_failure", TEST_mirror_open_should_name_the_file_on_failure);
}
