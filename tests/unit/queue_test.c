/* SPDX-License-Identifier: Apache-2.0
 *
 * queue_test.c - the broker-to-worker queue (plugin/queue.c) and the worker
 * pool (plugin/pool.c): order, full and byte-budget drops, the overflow
 * path, timed waits, a real producer and consumer thread, and a result
 * coming back out of the pool.
 */
#include "unit_tests.h"

#include "pool.h"
#include "queue.h"

#include <CUnit/CUnit.h>
#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void TEST_push_should_keep_order_and_content(void)
{
	ea_queue_budget budget = { 0, 1 << 20 };
	ea_queue q;
	ea_queue_msg m;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 8, &budget), 0);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "a/1", 3, "one", 3, 11), EA_PUSH_OK);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "a/2", 3, "", 0, 12), EA_PUSH_OK);
	CU_ASSERT_EQUAL(ea_queue_depth(&q), 2);
	n = ea_queue_wait(&q, 0, false);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	ea_queue_peek(&q, 0, &m);
	CU_ASSERT_STRING_EQUAL(m.topic, "a/1");
	CU_ASSERT_EQUAL(m.payload_len, 3);
	CU_ASSERT_EQUAL(memcmp(m.payload, "one", 3), 0);
	CU_ASSERT_EQUAL(m.arrival_ms, 11);
	ea_queue_peek(&q, 1, &m);
	CU_ASSERT_STRING_EQUAL(m.topic, "a/2");
	CU_ASSERT_EQUAL(m.payload_len, 0);
	ea_queue_release(&q, n);
	CU_ASSERT_EQUAL(ea_queue_depth(&q), 0);
	ea_queue_destroy(&q);
}

static void TEST_push_should_refuse_when_full(void)
{
	ea_queue_budget budget = { 0, 1 << 20 };
	ea_queue q;
	int i, ok = 0, full = 0;

	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 16, &budget), 0);
	CU_ASSERT_EQUAL(q.capacity, 16);
	for(i = 0; i < 40; i++){
		ea_push_result r = ea_queue_push(&q, "t", 1, "x", 1, i);
		if(r == EA_PUSH_OK) ok++;
		if(r == EA_PUSH_FULL) full++;
	}
	CU_ASSERT_EQUAL(ok, 16);
	CU_ASSERT_EQUAL(full, 24);
	/* freeing one slot lets exactly one more in */
	CU_ASSERT_EQUAL(ea_queue_wait(&q, 0, false), 16);
	ea_queue_release(&q, 1);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "t", 1, "y", 1, 99), EA_PUSH_OK);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "t", 1, "z", 1, 99), EA_PUSH_FULL);
	ea_queue_destroy(&q); /* frees what is still queued */
}

static void TEST_large_message_should_use_the_byte_budget(void)
{
	ea_queue_budget budget = { 0, 3000 };
	ea_queue q;
	char big[1200];
	ea_queue_msg m;

	memset(big, 'b', sizeof(big));
	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 8, &budget), 0);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "big", 3, big, sizeof(big), 1), EA_PUSH_OK);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "big", 3, big, sizeof(big), 2), EA_PUSH_OK);
	CU_ASSERT_EQUAL(budget.used, 2 * (3 + 1 + sizeof(big)));
	CU_ASSERT_EQUAL(ea_queue_push(&q, "big", 3, big, sizeof(big), 3), EA_PUSH_BUDGET);
	CU_ASSERT_EQUAL(budget.used, 2 * (3 + 1 + sizeof(big))); /* refused push gave its charge back */
	/* a small message still fits inline */
	CU_ASSERT_EQUAL(ea_queue_push(&q, "s", 1, "p", 1, 4), EA_PUSH_OK);
	CU_ASSERT_EQUAL(q.heap_pushes, 2);
	CU_ASSERT_EQUAL(ea_queue_wait(&q, 0, false), 3);
	ea_queue_peek(&q, 1, &m);
	CU_ASSERT_EQUAL(m.payload_len, sizeof(big));
	CU_ASSERT_EQUAL(memcmp(m.payload, big, sizeof(big)), 0);
	ea_queue_release(&q, 2);
	CU_ASSERT_EQUAL(budget.used, 0);
	ea_queue_destroy(&q);
}

static void TEST_wait_should_return_at_the_deadline(void)
{
	ea_queue_budget budget = { 0, 1 << 20 };
	ea_queue q;
	int64_t t0;

	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 8, &budget), 0);
	t0 = ea_mono_ns();
	CU_ASSERT_EQUAL(ea_queue_wait(&q, t0 + 30 * 1000000, false), 0);
	CU_ASSERT(ea_mono_ns() - t0 >= 25 * 1000000);
	ea_queue_stop(&q);
	CU_ASSERT_EQUAL(ea_queue_wait(&q, 0, false), 0); /* stopped: returns at once */
	ea_queue_destroy(&q);
}

struct waiter {
	ea_queue *q;
	int64_t deadline;
	bool linger;
	size_t got;
};

static void *wait_once(void *arg)
{
	struct waiter *w = arg;
	w->got = ea_queue_wait(w->q, w->deadline, w->linger);
	return NULL;
}

static void TEST_push_should_wake_a_long_sleep_but_not_a_linger(void)
{
	ea_queue_budget budget = { 0, 1 << 20 };
	struct timespec pause = { 0, 30 * 1000000 };
	ea_queue q;
	pthread_t t;
	struct waiter w;

	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 1024, &budget), 0);
	/* lingering: the push leaves it to the consumer's own short timer */
	w.q = &q;
	w.deadline = ea_mono_ns() + 150 * 1000000;
	w.linger = true;
	w.got = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, wait_once, &w), 0);
	nanosleep(&pause, NULL);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "t", 1, "1", 1, 1), EA_PUSH_OK);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_EQUAL(q.wakes, 0);
	ea_queue_release(&q, 1);

	/* a long sleep is woken by the first push */
	w.deadline = ea_mono_ns() + 60 * INT64_C(1000000000);
	w.linger = false;
	w.got = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, wait_once, &w), 0);
	nanosleep(&pause, NULL);
	CU_ASSERT_EQUAL(ea_queue_push(&q, "t", 1, "2", 1, 2), EA_PUSH_OK);
	pthread_join(t, NULL); /* returns long before the deadline: it was woken */
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT_EQUAL(q.wakes, 1);
	ea_queue_release(&q, 1);

	/* a lingering consumer is woken once a full batch waits */
	w.deadline = ea_mono_ns() + 60 * INT64_C(1000000000);
	w.linger = true;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, wait_once, &w), 0);
	nanosleep(&pause, NULL);
	for(int i = 0; i < EA_QUEUE_WAKE_BATCH; i++){
		CU_ASSERT_EQUAL(ea_queue_push(&q, "t", 1, "3", 1, 3), EA_PUSH_OK);
	}
	pthread_join(t, NULL);
	CU_ASSERT(w.got >= 1);
	CU_ASSERT_EQUAL(q.wakes, 2);
	ea_queue_destroy(&q);
}

#define THREAD_MESSAGES 200000

struct consumer_ctx {
	ea_queue *q;
	long received;
	long out_of_order;
};

static void *consume(void *arg)
{
	struct consumer_ctx *c = arg;
	long expect = 0;

	while(c->received < THREAD_MESSAGES){
		size_t n = ea_queue_wait(c->q, ea_mono_ns() + 1000000000, false), i;
		for(i = 0; i < n; i++){
			ea_queue_msg m;
			long v;
			ea_queue_peek(c->q, i, &m);
			v = strtol(m.payload, NULL, 10);
			if(v != expect) c->out_of_order++;
			expect = v + 1;
			c->received++;
		}
		ea_queue_release(c->q, n);
		if(n == 0 && atomic_load(&c->q->stopping)) break;
	}
	return NULL;
}

static void TEST_threads_should_hand_over_every_message_in_order(void)
{
	ea_queue_budget budget = { 0, 1 << 20 };
	ea_queue q;
	pthread_t t;
	struct consumer_ctx c;
	long i;

	CU_ASSERT_EQUAL_FATAL(ea_queue_init(&q, 64, &budget), 0);
	c.q = &q;
	c.received = 0;
	c.out_of_order = 0;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, consume, &c), 0);
	for(i = 0; i < THREAD_MESSAGES; i++){
		char payload[24];
		int n = snprintf(payload, sizeof(payload), "%ld", i);
		while(ea_queue_push(&q, "t/x", 3, payload, (size_t)n + 1, i) == EA_PUSH_FULL){
			sched_yield(); /* the test's producer may wait; the broker never does */
		}
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(c.received, THREAD_MESSAGES);
	CU_ASSERT_EQUAL(c.out_of_order, 0);
	ea_queue_destroy(&q);
}

static void TEST_pool_should_turn_a_bad_value_into_a_result(void)
{
	static const char yaml[] = "workers: 2\nidle_check: 50ms\n";
	static const char topic[] = "$hw/events/device/plant/boiler-1/twin/update";
	static const char payload[] =
		"{\"event_id\":\"e1\",\"timestamp\":1761552000000,\"twin\":{\"temperature\":{\"actual\":"
		"{\"value\":\"hot\",\"metadata\":{\"timestamp\":1761552000000}},\"metadata\":{\"type\":\"float\"}}}}";
	ea_config_error cerr;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "test.yaml", &cerr);
	char err[128];
	ea_pool *pool;
	ea_outgoing *o = NULL;
	ea_pool_stats stats;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	pool = ea_pool_new(cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL(ea_pool_push(pool, topic, sizeof(topic) - 1, payload, sizeof(payload) - 1, ea_now_ms()), EA_PUSH_OK);
	for(i = 0; i < 200 && o == NULL; i++){
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
		if(ea_pool_has_results(pool)) o = ea_pool_take_results(pool);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_STRING_EQUAL(o->topic, "edge-anomaly/plant/boiler-1/temperature");
	CU_ASSERT_EQUAL(o->qos, 1);
	{
		cJSON *j = cJSON_ParseWithLength(o->payload, o->payload_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "kind")->valuestring, "type-error");
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "value")->valuestring, "hot");
		CU_ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(j, "anomaly")));
		CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "timestamp")->valuestring, "2025-10-27T08:00:00.000Z");
		cJSON_Delete(j);
	}
	CU_ASSERT_PTR_NULL(o->next);
	free(o);
	ea_pool_stats_read(pool, &stats);
	CU_ASSERT_EQUAL(stats.engine.messages, 1);
	CU_ASSERT_EQUAL(stats.engine.samples, 1);
	CU_ASSERT_EQUAL(stats.engine.anomalies_raised, 1);
	CU_ASSERT_EQUAL(stats.results_pending, 0);
	CU_ASSERT_EQUAL(stats.workers, 2);
	ea_pool_free(pool);
	ea_config_free(cfg);
}

static void TEST_pool_should_cap_pending_results(void)
{
	static const char yaml[] = "workers: 1\nmax_pending_results: 3\n";
	ea_config_error cerr;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "test.yaml", &cerr);
	char err[128], topic[96], payload[256];
	ea_pool *pool;
	ea_pool_stats stats;
	ea_outgoing *o;
	int i, n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	pool = ea_pool_new(cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	for(i = 0; i < 10; i++){
		int tl = snprintf(topic, sizeof(topic), "$hw/events/device/ns/dev-%d/twin/update", i);
		int pl = snprintf(payload, sizeof(payload),
				"{\"twin\":{\"t\":{\"actual\":{\"value\":\"x\"},\"metadata\":{\"type\":\"int\"}}}}");
		CU_ASSERT_EQUAL(ea_pool_push(pool, topic, (size_t)tl, payload, (size_t)pl, ea_now_ms()), EA_PUSH_OK);
	}
	for(i = 0; i < 300; i++){
		struct timespec ts = { 0, 10 * 1000000 };
		ea_pool_stats_read(pool, &stats);
		if(stats.engine.messages == 10) break;
		nanosleep(&ts, NULL);
	}
	ea_pool_stats_read(pool, &stats);
	CU_ASSERT_EQUAL(stats.engine.anomalies_raised, 10);
	CU_ASSERT_EQUAL(stats.results_pending, 3);
	CU_ASSERT_EQUAL(stats.results_dropped, 7);
	o = ea_pool_take_results(pool);
	while(o != NULL){
		ea_outgoing *next = o->next;
		n++;
		free(o);
		o = next;
	}
	CU_ASSERT_EQUAL(n, 3);
	ea_pool_free(pool);
	ea_config_free(cfg);
}

static void TEST_pool_should_cap_pending_result_bytes(void)
{
	static const char yaml[] = "workers: 1\nresults: {max_pending_bytes: 64KiB}\n";
	ea_config_error cerr;
	ea_config *cfg = ea_config_load_string(yaml, sizeof(yaml) - 1, "test.yaml", &cerr);
	char err[128], topic[96];
	static const char payload[] = "{\"twin\":{\"t\":{\"actual\":{\"value\":\"x\"},\"metadata\":{\"type\":\"int\"}}}}";
	ea_pool *pool;
	ea_pool_stats stats;
	ea_outgoing *o;
	uint64_t bytes = 0, n = 0;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	pool = ea_pool_new(cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	for(i = 0; i < 400; i++){
		int tl = snprintf(topic, sizeof(topic), "$hw/events/device/ns/dev-%d/twin/update", i);
		CU_ASSERT_EQUAL(ea_pool_push(pool, topic, (size_t)tl, payload, sizeof(payload) - 1, ea_now_ms()), EA_PUSH_OK);
	}
	for(i = 0; i < 300; i++){
		struct timespec ts = { 0, 10 * 1000000 };
		ea_pool_stats_read(pool, &stats);
		if(stats.engine.messages == 400) break;
		nanosleep(&ts, NULL);
	}
	ea_pool_stats_read(pool, &stats);
	CU_ASSERT_EQUAL(stats.engine.anomalies_raised, 400);
	o = ea_pool_take_results(pool);
	while(o != NULL){
		ea_outgoing *next = o->next;
		bytes += sizeof(ea_outgoing) + strlen(o->topic) + 1 + o->payload_len;
		n++;
		free(o);
		o = next;
	}
	CU_ASSERT(bytes <= 64 * 1024);
	CU_ASSERT(bytes > 60 * 1024); /* filled to the cap, not far below it */
	CU_ASSERT_EQUAL(n + stats.results_dropped, 400);
	ea_pool_stats_read(pool, &stats);
	CU_ASSERT_EQUAL(stats.results_pending, 0);
	ea_pool_free(pool);
	ea_config_free(cfg);
}

static void TEST_pool_should_switch_config_and_release_the_old_one(void)
{
	static const char yaml_a[] = "workers: 2\nroutes:\n  - match: {property: t}\n    detectors: [{range: {max: 100}}]\n";
	static const char yaml_b[] = "workers: 2\nroutes:\n  - match: {property: t}\n    detectors: [{range: {max: 10}}]\n";
	ea_config_error cerr;
	ea_config *a = ea_config_load_string(yaml_a, sizeof(yaml_a) - 1, "a.yaml", &cerr);
	ea_config *b = ea_config_load_string(yaml_b, sizeof(yaml_b) - 1, "b.yaml", &cerr);
	char err[128], topic[96], payload[160];
	ea_pool *pool;
	ea_pool_stats stats;
	ea_outgoing *o;
	int i, tl, pl, raised_50 = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pool = ea_pool_new(a, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	/* traffic while the config changes: the workers switch between batches */
	for(i = 0; i < 2000; i++){
		tl = snprintf(topic, sizeof(topic), "$hw/events/device/ns/d%d/twin/update", i % 64);
		pl = snprintf(payload, sizeof(payload), "{\"twin\":{\"t\":{\"actual\":{\"value\":\"%d\"}}}}", i % 7);
		(void)ea_pool_push(pool, topic, (size_t)tl, payload, (size_t)pl, ea_now_ms());
		if(i == 1000) ea_pool_set_config(pool, b);
	}
	for(i = 0; i < 500 && ea_pool_config_in_use(pool, a); i++){
		struct timespec ts = { 0, 2 * 1000000 };
		nanosleep(&ts, NULL);
	}
	CU_ASSERT_FALSE(ea_pool_config_in_use(pool, a));
	CU_ASSERT_TRUE(ea_pool_config_in_use(pool, b));
	o = ea_pool_take_results(pool);
	while(o != NULL){
		ea_outgoing *next = o->next;
		free(o);
		o = next;
	}
	ea_config_free(a); /* no worker uses it any more */
	/* the new route applies: 50 is above b's max of 10 */
	tl = snprintf(topic, sizeof(topic), "$hw/events/device/ns/fresh/twin/update");
	pl = snprintf(payload, sizeof(payload), "{\"twin\":{\"t\":{\"actual\":{\"value\":\"50\"}}}}");
	CU_ASSERT_EQUAL(ea_pool_push(pool, topic, (size_t)tl, payload, (size_t)pl, ea_now_ms()), EA_PUSH_OK);
	for(i = 0; i < 300 && !raised_50; i++){
		struct timespec ts = { 0, 5 * 1000000 };
		nanosleep(&ts, NULL);
		o = ea_pool_take_results(pool);
		while(o != NULL){
			ea_outgoing *next = o->next;
			if(strstr(o->topic, "/fresh/") != NULL && memmem(o->payload, o->payload_len, "\"anomaly\":true", 14) != NULL){
				raised_50 = 1;
			}
			free(o);
			o = next;
		}
	}
	CU_ASSERT_TRUE(raised_50);
	ea_pool_stats_read(pool, &stats);
	CU_ASSERT_EQUAL(stats.workers, 2);
	ea_pool_free(pool);
	ea_config_free(b);
}

void init_queue_tests(void)
{
	CU_pSuite s = CU_add_suite("queue", NULL, NULL);

	CU_add_test(s, "push_should_keep_order_and_content", TEST_push_should_keep_order_and_content);
	CU_add_test(s, "push_should_refuse_when_full", TEST_push_should_refuse_when_full);
	CU_add_test(s, "large_message_should_use_the_byte_budget", TEST_large_message_should_use_the_byte_budget);
	CU_add_test(s, "wait_should_return_at_the_deadline", TEST_wait_should_return_at_the_deadline);
	CU_add_test(s, "push_should_wake_a_long_sleep_but_not_a_linger",
			TEST_push_should_wake_a_long_sleep_but_not_a_linger);
	CU_add_test(s, "threads_should_hand_over_every_message_in_order",
			TEST_threads_should_hand_over_every_message_in_order);
	CU_add_test(s, "pool_should_turn_a_bad_value_into_a_result", TEST_pool_should_turn_a_bad_value_into_a_result);
	CU_add_test(s, "pool_should_cap_pending_results", TEST_pool_should_cap_pending_results);
	CU_add_test(s, "pool_should_cap_pending_result_bytes", TEST_pool_should_cap_pending_result_bytes);
	CU_add_test(s, "pool_should_switch_config_and_release_the_old_one",
			TEST_pool_should_switch_config_and_release_the_old_one);
}
