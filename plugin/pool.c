/* SPDX-License-Identifier: Apache-2.0
 *
 * pool.c - worker threads, their engines and the result hand-off (see
 * pool.h).
 */
#include "pool.h"

#include "ea_mirror.h"

#include "ea_topic.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC_BUF 2048
#define JSON_BUF EA_RESULT_JSON_MAX

struct worker {
	struct ea_pool *pool;
	ea_queue queue;
	ea_engine *engine;   /* owned; used by this worker's thread only */
	const ea_config *cfg; /* the config this worker uses; its thread only */
	const ea_config *_Atomic wanted_cfg; /* set by the broker thread */
	const ea_config *_Atomic active_cfg; /* what the worker uses, for others to read */
	pthread_t thread;
	bool started;
};

struct ea_pool {
	const ea_config *cfg; /* borrowed; the latest, as given on the broker thread */
	struct worker *workers;
	unsigned worker_count;
	ea_queue_budget budget;

	pthread_mutex_t results_lock; /* guards the list below */
	ea_outgoing *results_head;
	ea_outgoing *results_tail;
	_Atomic uint64_t results_pending;
	_Atomic uint64_t results_pending_bytes;
	_Atomic uint64_t results_dropped;

	/* The data mirror, or NULL: set once by the plugin before traffic. */
	ea_mirror *_Atomic mirror;
	_Atomic bool mirror_results;
	/* Every result is also shown to this function (the device status sink). */
	_Atomic(ea_result_fn) result_tap;
	void *_Atomic result_tap_ctx;
	/* Samples of `external` routes: set once by the plugin before traffic. */
	_Atomic(ea_external_fn) external_fn;
	void *_Atomic external_ctx;
	/* How results from other threads (external servers) are published:
	 * copied from the first config, fixed for the pool's life. */
	char *ext_topic; /* owned */
	int ext_qos;
	bool ext_retain;
	uint64_t ext_max_results, ext_max_bytes;
};

/* Formats a result and queues it for the tick; any thread. */
static void queue_result(struct ea_pool *pool, const char *topic_template, int qos, bool retain,
		uint64_t max_results, uint64_t max_bytes, const ea_result *r)
{
	char topic[TOPIC_BUF];
	static _Thread_local char json[JSON_BUF]; /* 16 KiB, one per thread */
	size_t tlen, jlen, size;
	ea_outgoing *out;
	char *block;

	if(atomic_load_explicit(&pool->results_pending, memory_order_relaxed) >= max_results){
		atomic_fetch_add_explicit(&pool->results_dropped, 1, memory_order_relaxed);
		return;
	}
	tlen = ea_result_topic(topic_template, r, topic, sizeof(topic));
	jlen = ea_result_to_json(r, json, sizeof(json));
	size = sizeof(ea_outgoing) + tlen + 1 + jlen;
	if(tlen == 0 || jlen == 0
			|| atomic_load_explicit(&pool->results_pending_bytes, memory_order_relaxed) + size > max_bytes){
		atomic_fetch_add_explicit(&pool->results_dropped, 1, memory_order_relaxed);
		return;
	}
	block = malloc(size);
	if(block == NULL){
		atomic_fetch_add_explicit(&pool->results_dropped, 1, memory_order_relaxed);
		return;
	}
	out = (ea_outgoing *)block;
	memcpy(block + sizeof(ea_outgoing), topic, tlen + 1);
	memcpy(block + sizeof(ea_outgoing) + tlen + 1, json, jlen);
	out->next = NULL;
	out->topic = block + sizeof(ea_outgoing);
	out->payload = block + sizeof(ea_outgoing) + tlen + 1;
	out->payload_len = (uint32_t)jlen;
	out->qos = qos;
	out->retain = retain;

	pthread_mutex_lock(&pool->results_lock);
	if(pool->results_tail != NULL) pool->results_tail->next = out;
	else pool->results_head = out;
	pool->results_tail = out;
	atomic_fetch_add_explicit(&pool->results_pending_bytes, size, memory_order_relaxed);
	atomic_fetch_add_explicit(&pool->results_pending, 1, memory_order_release);
	pthread_mutex_unlock(&pool->results_lock);
}

static void mirror_result(struct ea_pool *pool, const ea_result *r)
{
	ea_mirror *m = atomic_load_explicit(&pool->mirror, memory_order_acquire);
	ea_result_fn tap = atomic_load_explicit(&pool->result_tap, memory_order_acquire);

	if(m != NULL && atomic_load_explicit(&pool->mirror_results, memory_order_relaxed)) ea_mirror_result(m, r);
	if(tap != NULL) tap(atomic_load_explicit(&pool->result_tap_ctx, memory_order_relaxed), r);
}

void ea_pool_set_result_tap(ea_pool *pool, ea_result_fn fn, void *ctx)
{
	atomic_store_explicit(&pool->result_tap_ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&pool->result_tap, fn, memory_order_release);
}

/* Engine callback, on a worker thread: a sample of a mirrored chain. */
static void on_mirror_sample(void *ctx, const ea_sample *s)
{
	struct worker *w = ctx;
	ea_mirror *m = atomic_load_explicit(&w->pool->mirror, memory_order_acquire);
	if(m != NULL) ea_mirror_sample(m, s);
}

void ea_pool_set_mirror(ea_pool *pool, ea_mirror *mirror, bool results)
{
	atomic_store_explicit(&pool->mirror_results, results, memory_order_relaxed);
	atomic_store_explicit(&pool->mirror, mirror, memory_order_release);
}

/* Engine callback, on a worker thread: format and queue for the tick. */
static void on_result(void *ctx, const ea_result *r)
{
	struct worker *w = ctx;
	const ea_config *cfg = w->cfg;

	mirror_result(w->pool, r);
	/* EdgeX devices have their own topic template */
	const char *topic = cfg->edgex_enabled && strcmp(r->ns, cfg->edgex_namespace) == 0 ? cfg->edgex_result_topic
			: cfg->result_topic;

	queue_result(w->pool, topic, cfg->result_qos, cfg->result_retain, cfg->max_pending_results,
			cfg->max_pending_bytes, r);
}

/* Engine callback, on a worker thread: a sample for an external server. */
static void on_external(void *ctx, const ea_external *x, const ea_sample *s)
{
	struct worker *w = ctx;
	ea_external_fn fn = atomic_load_explicit(&w->pool->external_fn, memory_order_acquire);

	if(fn != NULL) fn(atomic_load_explicit(&w->pool->external_ctx, memory_order_relaxed), x, s);
}

void ea_pool_set_external(ea_pool *pool, ea_external_fn fn, void *ctx)
{
	atomic_store_explicit(&pool->external_ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&pool->external_fn, fn, memory_order_release);
}

void ea_pool_add_result(ea_pool *pool, const ea_result *r)
{
	mirror_result(pool, r);
	if(pool->ext_topic == NULL){
		atomic_fetch_add_explicit(&pool->results_dropped, 1, memory_order_relaxed);
		return;
	}
	queue_result(pool, pool->ext_topic, pool->ext_qos, pool->ext_retain, pool->ext_max_results, pool->ext_max_bytes, r);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t idle_ns = w->cfg->idle_check_ms * 1000000;
	int64_t next_idle = ea_mono_ns() + idle_ns;
	int64_t linger_until = 0;
	bool lingering = false;

	while(!atomic_load(&w->queue.stopping)){
		const ea_config *wanted = atomic_load_explicit(&w->wanted_cfg, memory_order_acquire);
		size_t n, i;
		int64_t now;

		if(wanted != w->cfg){
			w->cfg = wanted;
			ea_engine_set_config(w->engine, wanted);
			idle_ns = wanted->idle_check_ms * 1000000;
			next_idle = ea_mono_ns() + idle_ns;
			atomic_store_explicit(&w->active_cfg, wanted, memory_order_release);
		}
		/* after a batch, linger briefly for more; then sleep until the idle check */
		if(lingering && linger_until < next_idle) n = ea_queue_wait(&w->queue, linger_until, true);
		else n = ea_queue_wait(&w->queue, next_idle, false);
		lingering = n > 0;
		if(lingering) linger_until = ea_mono_ns() + EA_QUEUE_LINGER_MS * INT64_C(1000000);

		for(i = 0; i < n; i++){
			ea_queue_msg m;
			ea_queue_peek(&w->queue, i, &m);
			ea_engine_message(w->engine, m.topic, m.topic_len, m.payload, m.payload_len, m.arrival_ms);
		}
		if(n > 0) ea_queue_release(&w->queue, n);
		now = ea_mono_ns();
		if(now >= next_idle){
			ea_engine_idle(w->engine, ea_now_ms());
			next_idle = now + idle_ns;
		}
	}
	return NULL;
}

void ea_pool_free(ea_pool *pool)
{
	unsigned i;
	ea_outgoing *o;

	if(pool == NULL) return;
	for(i = 0; i < pool->worker_count; i++){
		if(pool->workers[i].started) ea_queue_stop(&pool->workers[i].queue);
	}
	for(i = 0; i < pool->worker_count; i++){
		struct worker *w = &pool->workers[i];
		if(w->started) pthread_join(w->thread, NULL);
		ea_engine_free(w->engine);
		ea_queue_destroy(&w->queue);
	}
	free(pool->workers);
	o = pool->results_head;
	while(o != NULL){
		ea_outgoing *next = o->next;
		free(o);
		o = next;
	}
	pthread_mutex_destroy(&pool->results_lock);
	free(pool->ext_topic);
	free(pool);
}

ea_pool *ea_pool_new(const ea_config *cfg, char *err, size_t err_len)
{
	ea_pool *pool = calloc(1, sizeof(*pool));
	size_t per_worker_series;
	unsigned i;

	if(pool == NULL){
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	pool->cfg = cfg;
	pool->budget.limit = cfg->queue_max_bytes;
	pool->ext_topic = strdup(cfg->result_topic);
	pool->ext_qos = cfg->result_qos;
	pool->ext_retain = cfg->result_retain;
	pool->ext_max_results = cfg->max_pending_results;
	pool->ext_max_bytes = cfg->max_pending_bytes;
	pthread_mutex_init(&pool->results_lock, NULL);
	pool->workers = calloc(cfg->workers, sizeof(*pool->workers));
	if(pool->workers == NULL){
		snprintf(err, err_len, "out of memory");
		ea_pool_free(pool);
		return NULL;
	}
	pool->worker_count = cfg->workers;
	per_worker_series = (cfg->max_series + cfg->workers - 1) / cfg->workers;
	for(i = 0; i < pool->worker_count; i++){
		struct worker *w = &pool->workers[i];
		w->pool = pool;
		w->cfg = cfg;
		atomic_store(&w->wanted_cfg, cfg);
		atomic_store(&w->active_cfg, cfg);
		if(ea_queue_init(&w->queue, cfg->queue_capacity, &pool->budget) != 0){
			snprintf(err, err_len, "out of memory for the queue of worker %u (%u slots)", i, cfg->queue_capacity);
			ea_pool_free(pool);
			return NULL;
		}
		w->engine = ea_engine_new(cfg, per_worker_series, on_result, w);
		if(w->engine == NULL){
			snprintf(err, err_len, "out of memory for the engine of worker %u", i);
			ea_pool_free(pool);
			return NULL;
		}
		ea_engine_set_external_fn(w->engine, on_external, w);
		ea_engine_set_mirror_fn(w->engine, on_mirror_sample, w);
	}
	for(i = 0; i < pool->worker_count; i++){
		struct worker *w = &pool->workers[i];
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if(rc != 0){
			snprintf(err, err_len, "cannot start worker thread %u: %s", i, strerror(rc));
			ea_pool_free(pool);
			return NULL;
		}
		w->started = true;
	}
	return pool;
}

ea_push_result ea_pool_push(ea_pool *pool, const char *topic, size_t topic_len,
		const void *payload, size_t payload_len, int64_t arrival_ms)
{
	uint64_t h = ea_topic_shard_hash(topic, topic_len);
	struct worker *w = &pool->workers[h % pool->worker_count];

	return ea_queue_push(&w->queue, topic, topic_len, payload, payload_len, arrival_ms);
}

void ea_pool_set_config(ea_pool *pool, const ea_config *cfg)
{
	unsigned i;

	pool->cfg = cfg;
	for(i = 0; i < pool->worker_count; i++){
		atomic_store_explicit(&pool->workers[i].wanted_cfg, cfg, memory_order_release);
		ea_queue_wake(&pool->workers[i].queue);
	}
}

bool ea_pool_config_in_use(ea_pool *pool, const ea_config *cfg)
{
	unsigned i;

	for(i = 0; i < pool->worker_count; i++){
		if(atomic_load_explicit(&pool->workers[i].active_cfg, memory_order_acquire) == cfg) return true;
	}
	return false;
}

uint64_t ea_pool_memory_bound(const ea_config *cfg)
{
	uint32_t slots = 1;

	while(slots < cfg->queue_capacity) slots <<= 1; /* as ea_queue_init rounds */
	return (uint64_t)cfg->workers * slots * ea_queue_slot_bytes()
			+ cfg->queue_max_bytes
			+ ea_engine_series_memory_bound(cfg)
			+ cfg->max_pending_bytes + 2 * sizeof(void *) * cfg->max_pending_results;
}

bool ea_pool_has_results(ea_pool *pool)
{
	return atomic_load_explicit(&pool->results_pending, memory_order_acquire) > 0;
}

ea_outgoing *ea_pool_take_results(ea_pool *pool)
{
	ea_outgoing *list;

	/* The counters grow only under the lock, so zeroing them here is exact. */
	pthread_mutex_lock(&pool->results_lock);
	list = pool->results_head;
	pool->results_head = pool->results_tail = NULL;
	atomic_store_explicit(&pool->results_pending, 0, memory_order_relaxed);
	atomic_store_explicit(&pool->results_pending_bytes, 0, memory_order_relaxed);
	pthread_mutex_unlock(&pool->results_lock);
	return list;
}

void ea_pool_stats_read(ea_pool *pool, ea_pool_stats *out)
{
	unsigned i;
	size_t k, j;

	memset(out, 0, sizeof(*out));
	for(i = 0; i < pool->worker_count; i++){
		ea_engine_stats s;
		ea_engine_stats_read(pool->workers[i].engine, &s);
#define EA_STAT_SUM(name, doc) out->engine.name += s.name;
		EA_ENGINE_STATS_MAP(EA_STAT_SUM)
#undef EA_STAT_SUM
		for(k = 0; k < EA_MAX_TIMED_DETECTORS && s.timed_type[k] != NULL; k++){
			for(j = 0; j < EA_MAX_TIMED_DETECTORS; j++){
				if(out->engine.timed_type[j] == NULL) out->engine.timed_type[j] = s.timed_type[k];
				if(out->engine.timed_type[j] == s.timed_type[k]) break;
			}
			if(j == EA_MAX_TIMED_DETECTORS) continue;
			out->engine.timed_calls[j] += s.timed_calls[k];
			out->engine.timed_ns[j] += s.timed_ns[k];
		}
		out->queue_depth += ea_queue_depth(&pool->workers[i].queue);
		out->queue_heap_pushes += atomic_load_explicit(&pool->workers[i].queue.heap_pushes, memory_order_relaxed);
		out->queue_wakes += atomic_load_explicit(&pool->workers[i].queue.wakes, memory_order_relaxed);
	}
	out->queue_heap_bytes = atomic_load_explicit(&pool->budget.used, memory_order_relaxed);
	out->results_pending = atomic_load_explicit(&pool->results_pending, memory_order_relaxed);
	out->results_dropped = atomic_load_explicit(&pool->results_dropped, memory_order_relaxed);
	out->workers = pool->worker_count;
}
