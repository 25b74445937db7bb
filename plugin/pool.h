/* SPDX-License-Identifier: Apache-2.0
 *
 * pool.h - the worker threads: each owns one queue and one detection engine
 * (so series state is never shared), runs the idle checks on a timer, and
 * hands finished results to the broker thread through a bounded list.
 *
 * Nothing here calls mosquitto: the plugin publishes what
 * ea_pool_take_results returns, on the broker thread.
 */
#ifndef EA_POOL_H
#define EA_POOL_H

#include "ea_config.h"
#include "ea_engine.h"
#include "queue.h"

#include <stdbool.h>

/* One result ready to publish. One allocation: free() it whole. */
typedef struct ea_outgoing {
	struct ea_outgoing *next;
	const char *topic;   /* NUL-terminated, inside this block */
	const char *payload; /* payload_len bytes, inside this block */
	uint32_t payload_len;
	int qos;
	bool retain;
} ea_outgoing;

typedef struct ea_pool_stats {
	ea_engine_stats engine;   /* summed over workers (timed_* merged by type) */
	uint64_t queue_depth;     /* messages waiting, all workers */
	uint64_t queue_heap_pushes;/* messages that took the overflow path */
	uint64_t queue_wakes;     /* signals to sleeping workers */
	uint64_t queue_heap_bytes; /* bytes held by the overflow path now */
	uint64_t results_pending;
	uint64_t results_dropped; /* max_pending_results reached, or too large */
	uint64_t workers;
} ea_pool_stats;

typedef struct ea_pool ea_pool;

/* Starts cfg->workers threads. `cfg` is borrowed and must outlive its use
 * (see ea_pool_set_config).
 * Returns NULL with a message in err on failure (nothing left running). */
ea_pool *ea_pool_new(const ea_config *cfg, char *err, size_t err_len);

/* Stops and joins every worker, frees queued messages and results;
 * accepts NULL. */
void ea_pool_free(ea_pool *pool);

/* Broker thread: copies a message into the queue of the worker that owns
 * its device. Never blocks. */
ea_push_result ea_pool_push(ea_pool *pool, const char *topic, size_t topic_len,
		const void *payload, size_t payload_len, int64_t arrival_ms);

/* true when results wait (one atomic load; cheap enough for every tick). */
bool ea_pool_has_results(ea_pool *pool);

/* Takes every waiting result, oldest first, as a list the caller owns:
 * free() each element. NULL when there is none. */
ea_outgoing *ea_pool_take_results(ea_pool *pool);

/* Broker thread: hands a new config (borrowed, must outlive its use) to
 * every worker; each switches between two batches, keeping the state of
 * series whose detector chain did not change. `workers`, `queue.*` and
 * `max_series` keep the values the pool started with. */
void ea_pool_set_config(ea_pool *pool, const ea_config *cfg);

/* true while some worker still uses `cfg` (so it must not be freed). */
bool ea_pool_config_in_use(ea_pool *pool, const ea_config *cfg);

/* The most memory the pool can hold for this config: queue slots, the
 * overflow byte budget, series, and waiting results at their largest. */
uint64_t ea_pool_memory_bound(const ea_config *cfg);

/* Records samples of mirrored chains, and every result if `results`, in
 * the data mirror (borrowed; it must outlive the pool's workers). Set once,
 * before traffic. */
struct ea_mirror;
void ea_pool_set_mirror(ea_pool *pool, struct ea_mirror *mirror, bool results);

/* Shows every result (local and external) to fn too, on the thread that
 * made it; fn must be thread-safe and must not block. Set once, before
 * traffic. */
void ea_pool_set_result_tap(ea_pool *pool, ea_result_fn fn, void *ctx);

/* Sends the samples of `external` routes to fn (on worker threads; it
 * must not block). Set once, before traffic, or NULL to stop. */
void ea_pool_set_external(ea_pool *pool, ea_external_fn fn, void *ctx);

/* Any thread: queues a result made elsewhere (an external server's) for
 * the tick, with the result settings of the config the pool started with. */
void ea_pool_add_result(ea_pool *pool, const ea_result *r);

/* Sums the counters of all workers; any thread. */
void ea_pool_stats_read(ea_pool *pool, ea_pool_stats *out);

#endif
