/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_engine.h - one detection pipeline: raw message -> samples -> route ->
 * detector chain -> results.
 *
 * An engine belongs to one thread (a plugin worker, the replay CLI, a
 * test). It owns the series table: per (namespace, device, property) the
 * detector states, the last value and the raised/cleared state of each
 * detector. Results are handed to a callback as they happen.
 *
 * Statistics are written by the owning thread only and may be read by any
 * thread (relaxed atomics): see ea_engine_stats_read().
 */
#ifndef EA_ENGINE_H
#define EA_ENGINE_H

#include "ea.h"
#include "ea_config.h"
#include "ea_detector.h"
#include "ea_payload.h"

typedef struct ea_engine ea_engine;

/* A change of a detector's verdict on one series (or a repeat of a raised
 * one). All strings borrowed, valid during the callback only. */
typedef struct ea_result {
	const char *ns;
	const char *device;
	const char *property;
	const char *detector;
	const char *kind;
	const char *reason;
	const char *value_text;  /* the value as reported */
	bool value_is_number;
	double value_number;
	int64_t sample_time_ms;  /* time of the sample the result is about */
	int64_t detected_at_ms;
	bool anomaly;            /* true raised (or repeated), false cleared */
	double score;
	double confidence;
} ea_result;

typedef void (*ea_result_fn)(void *ctx, const ea_result *result);

/* Every verdict of every detector on every reported sample, whatever the
 * verdict (for replay, which writes a score per row). All borrowed, valid
 * during the call only. */
typedef void (*ea_verdict_fn)(void *ctx, const ea_sample *sample,
		const ea_detector_type *detector, const ea_verdict *verdict);

#define EA_ENGINE_STATS_MAP(X)                                                \
	X(messages, "messages handed to the engine")                              \
	X(parse_errors, "payloads that were not valid twin or state JSON")        \
	X(unsupported_topics, "messages on topics of no known shape")             \
	X(excluded, "messages of devices excluded by the config")                 \
	X(samples, "values found in messages")                                    \
	X(duplicates, "samples seen twice (update and document) counted once")    \
	X(anomalies_raised, "results raising an anomaly")                         \
	X(anomalies_cleared, "results clearing an anomaly")                       \
	X(anomalies_repeated, "results repeating a raised anomaly")               \
	X(series, "series currently tracked")                                     \
	X(series_evicted, "series dropped (least recently used) at max_series")            \
	X(unscored, "readings without a value to judge (EdgeX null, binary, object)")      \
	X(unsupported_payloads, "payloads in a format not decoded (EdgeX CBOR)")

#define EA_MAX_TIMED_DETECTORS 32

typedef struct ea_engine_stats {
#define EA_STAT_FIELD(name, doc) uint64_t name;
	EA_ENGINE_STATS_MAP(EA_STAT_FIELD)
#undef EA_STAT_FIELD
	/* Time spent per detector type, measured on one call in 64. */
	const ea_detector_type *timed_type[EA_MAX_TIMED_DETECTORS];
	uint64_t timed_calls[EA_MAX_TIMED_DETECTORS];
	uint64_t timed_ns[EA_MAX_TIMED_DETECTORS];
} ea_engine_stats;

/* Creates an engine. `cfg` is borrowed and must outlive the engine (or be
 * replaced with ea_engine_set_config). `max_series` caps the table (least
 * recently used series are evicted). Returns NULL on out of memory. */
ea_engine *ea_engine_new(const ea_config *cfg, size_t max_series,
		ea_result_fn on_result, void *ctx);

/* Frees the engine and all series; accepts NULL. */
void ea_engine_free(ea_engine *engine);

/* Switches to another config (borrowed). Series whose chain is unchanged
 * keep their state; the others start again. */
void ea_engine_set_config(ea_engine *engine, const ea_config *cfg);

/* The most bytes one series with this chain can hold: its block with the
 * longest names, a long last value, allocator and hash table overhead. */
size_t ea_engine_series_bytes_max(const ea_chain *chain);

/* The most bytes the series of one config can hold: max_series times the
 * largest series of any route or the default chain. */
uint64_t ea_engine_series_memory_bound(const ea_config *cfg);

/* Handles one raw message as received on `topic`. Never fails on bad
 * input: it is counted. Returns EA_ERR_OK, EA_ERR_PARSE, EA_ERR_UNSUPPORTED
 * or EA_ERR_NOMEM for the caller's information. */
ea_err ea_engine_message(ea_engine *engine, const char *topic,
		size_t topic_len, const char *payload, size_t payload_len,
		int64_t arrival_ms);

/* Handles one sample directly (replay, tests, gRPC). */
void ea_engine_sample(ea_engine *engine, const ea_sample *sample);

/* Samples of routes with an `external` StreamDetect server are also handed
 * to this function (reported values, after de-duplication), on the
 * engine's thread; it must not block. All borrowed, valid during the call. */
typedef void (*ea_external_fn)(void *ctx, const ea_external *external, const ea_sample *sample);
void ea_engine_set_external_fn(ea_engine *engine, ea_external_fn fn, void *ctx);

/* Reported samples (after de-duplication) of chains with `mirror` set are
 * also handed to this function, on the engine's thread; it must not block. */
void ea_engine_set_mirror_fn(ea_engine *engine, ea_sample_fn fn, void *ctx);

/* Calls fn for every verdict from now on (NULL: stop); costs nothing when
 * unset. Verdicts of NORMAL carry no reason unless something was raised. */
void ea_engine_set_verdict_fn(ea_engine *engine, ea_verdict_fn fn, void *ctx);

/* Runs the idle checks (staleness) of every series at wall time now_ms. */
void ea_engine_idle(ea_engine *engine, int64_t now_ms);

/* Copies the statistics; safe from any thread. */
void ea_engine_stats_read(const ea_engine *engine, ea_engine_stats *out);

/* Longest value text copied into a result; longer ones are cut at a
 * character boundary and end in "...". */
#define EA_RESULT_VALUE_MAX 256
/* A buffer of this size always holds a result's JSON: names are at most
 * EA_NAME_MAX bytes, the value EA_RESULT_VALUE_MAX, and escaping at most
 * multiplies them by six. */
#define EA_RESULT_JSON_MAX 16384

/* Formats a result as the JSON object published on the broker into buf.
 * Returns the length written (excluding NUL), or 0 if buf is too small. */
size_t ea_result_to_json(const ea_result *r, char *buf, size_t len);

/* Expands a topic template ({namespace}, {device}, {property}) into buf.
 * Characters that cannot appear in a topic level ('/', '+', '#', control
 * bytes, invalid UTF-8) in the names are replaced by '_'. Returns the
 * length, or 0 if buf is too small. */
size_t ea_result_topic(const char *template_, const ea_result *r, char *buf,
		size_t len);

#endif
