/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_engine.c - the detection pipeline of one thread (see ea_engine.h):
 * series table with LRU eviction, routing at series creation, update and
 * document de-duplication, detector chains, raise/clear/repeat results,
 * result JSON and topics.
 */
#include "ea_engine.h"

#include "ea_payload.h"
#include "ea_topic.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAST_INLINE 24        /* numbers fit; longer values go to the heap */
#define SOURCE_MERGED 0xFF    /* last sample was a merged update/document pair */
/* EdgeCore answers every twin/update it processes with a
 * twin/update/document carrying the same values, stamped with its own clock
 * (and the update's event_id; see KubeEdge dtmanager/twin.go dealDocument).
 * While a series is fed by twin/update, a document arriving within this long
 * of the last update is that echo. Series fed only by documents (mappers
 * reporting to EdgeCore over gRPC) are not affected. */
#define DOCUMENT_ECHO_MS 60000
#define TIMING_EVERY 64

/* Per detector of a series: what the engine last reported. */
struct det_slot {
	int64_t last_emit_ms;
	uint8_t raised;
};

typedef struct ea_series {
	struct ea_series *hash_next;
	struct ea_series *lru_prev; /* towards most recently used */
	struct ea_series *lru_next; /* towards least recently used */
	uint64_t hash;
	const ea_chain *chain;      /* borrowed from the config or the engine */
	struct det_slot *slots;     /* chain->count entries, inside this block */
	unsigned char *states;      /* detector states, inside this block */
	size_t *state_offsets;      /* chain->count entries, inside this block */

	int64_t last_time_ms;
	int64_t last_update_ms;     /* arrival of the last twin/update sample, if has_update */
	uint64_t last_value_hash;
	double last_number;
	bool has_last;
	bool last_has_number;
	bool has_update;            /* a twin/update sample was seen */
	uint8_t last_source;        /* an ea_source, or SOURCE_MERGED */
	uint32_t block_bytes;       /* size of the whole block, to prefetch it */
	char *last_heap;            /* owned; the last value when longer than last_inline */
	char last_inline[LAST_INLINE];

	/* "ns\0device\0property\0", inside this block */
	const char *ns;
	const char *device;
	const char *property;
} ea_series;

struct ea_engine {
	const ea_config *cfg;
	ea_result_fn on_result;
	void *ctx;
	ea_verdict_fn on_verdict; /* NULL unless someone wants every verdict */
	void *verdict_ctx;
	ea_external_fn on_external; /* NULL: samples of external routes stay here */
	void *external_ctx;
	ea_sample_fn on_mirror;     /* NULL: no mirror */
	void *mirror_ctx;
	size_t max_series;

	ea_series **buckets;
	size_t bucket_count; /* power of two */
	ea_series *lru_head;
	ea_series *lru_tail;

	ea_chain state_chain; /* the device-state pseudo-property */
	ea_detector_instance state_detector;
	uint64_t timing_counter;

	/* Written by the owning thread with relaxed stores; read anywhere. */
	_Atomic uint64_t stats[sizeof(ea_engine_stats) / sizeof(uint64_t)];
};

/* Offsets of the plain counters in ea_engine_stats, in the atomic array. */
enum {
#define EA_STAT_INDEX(name, doc) STAT_##name,
	EA_ENGINE_STATS_MAP(EA_STAT_INDEX)
#undef EA_STAT_INDEX
	STAT__COUNT
};
#define STAT_TIMED_CALLS (STAT__COUNT + EA_MAX_TIMED_DETECTORS)
#define STAT_TIMED_NS (STAT__COUNT + 2 * EA_MAX_TIMED_DETECTORS)

static void stat_add(ea_engine *e, size_t index, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&e->stats[index], memory_order_relaxed);
	atomic_store_explicit(&e->stats[index], v + n, memory_order_relaxed);
}

/* Timed detector types live in the stats array as pointers (uintptr_t). */
static size_t timed_slot(ea_engine *e, const ea_detector_type *type)
{
	size_t i;

	for(i = 0; i < EA_MAX_TIMED_DETECTORS; i++){
		size_t index = STAT__COUNT + i;
		uintptr_t have = (uintptr_t)atomic_load_explicit(&e->stats[index], memory_order_relaxed);
		if(have == (uintptr_t)type) return i;
		if(have == 0){
			atomic_store_explicit(&e->stats[index], (uint64_t)(uintptr_t)type, memory_order_relaxed);
			return i;
		}
	}
	return SIZE_MAX;
}

void ea_engine_stats_read(const ea_engine *e, ea_engine_stats *out)
{
	uint64_t raw[sizeof(ea_engine_stats) / sizeof(uint64_t)];
	size_t i;

	for(i = 0; i < sizeof(raw) / sizeof(raw[0]); i++){
		raw[i] = atomic_load_explicit(&e->stats[i], memory_order_relaxed);
	}
	memset(out, 0, sizeof(*out));
#define EA_STAT_COPY(name, doc) out->name = raw[STAT_##name];
	EA_ENGINE_STATS_MAP(EA_STAT_COPY)
#undef EA_STAT_COPY
	for(i = 0; i < EA_MAX_TIMED_DETECTORS; i++){
		out->timed_type[i] = (const ea_detector_type *)(uintptr_t)raw[STAT__COUNT + i];
		out->timed_calls[i] = raw[STAT_TIMED_CALLS + i];
		out->timed_ns[i] = raw[STAT_TIMED_NS + i];
	}
}

_Static_assert(sizeof(ea_engine_stats) == (STAT__COUNT + 3 * EA_MAX_TIMED_DETECTORS) * sizeof(uint64_t),
		"ea_engine_stats must be the counters then three arrays of 64-bit words");
_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "pointers must fit in 64 bits");

/* ------------------------------------------------------------------ */
/* Series table                                                        */

static uint64_t series_hash(const char *ns, const char *device, const char *property)
{
	uint64_t h = ea_hash_bytes(EA_HASH_SEED, ns, strlen(ns) + 1);
	h = ea_hash_bytes(h, device, strlen(device) + 1);
	return ea_hash_bytes(h, property, strlen(property) + 1);
}

static void lru_unlink(ea_engine *e, ea_series *s)
{
	if(s->lru_prev) s->lru_prev->lru_next = s->lru_next;
	else e->lru_head = s->lru_next;
	if(s->lru_next) s->lru_next->lru_prev = s->lru_prev;
	else e->lru_tail = s->lru_prev;
	s->lru_prev = s->lru_next = NULL;
}

static void lru_push_front(ea_engine *e, ea_series *s)
{
	s->lru_prev = NULL;
	s->lru_next = e->lru_head;
	if(e->lru_head) e->lru_head->lru_prev = s;
	e->lru_head = s;
	if(e->lru_tail == NULL) e->lru_tail = s;
}

static void drop_series(ea_engine *e, ea_series *s, const char *why);

static void series_free(ea_series *s)
{
	free(s->last_heap);
	free(s);
}

static const char *last_text(const ea_series *s)
{
	return s->last_heap != NULL ? s->last_heap : s->last_inline;
}

/* Keeps up to EA_RESULT_VALUE_MAX bytes of the value, cut at a character
 * boundary (results mark the cut with "..."). */
static void set_last_text(ea_series *s, const char *text)
{
	size_t len = strlen(text);

	if(len > EA_RESULT_VALUE_MAX){
		len = EA_RESULT_VALUE_MAX;
		while(len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
	}
	if(len < LAST_INLINE){
		free(s->last_heap);
		s->last_heap = NULL;
		memcpy(s->last_inline, text, len);
		s->last_inline[len] = '\0';
		return;
	}
	if(s->last_heap == NULL){
		s->last_heap = malloc(EA_RESULT_VALUE_MAX + 1);
		if(s->last_heap == NULL){
			s->last_inline[0] = '\0'; /* out of memory: no value rather than a wrong one */
			return;
		}
	}
	memcpy(s->last_heap, text, len);
	s->last_heap[len] = '\0';
}

static void table_remove(ea_engine *e, ea_series *s)
{
	ea_series **pp = &e->buckets[s->hash & (e->bucket_count - 1)];

	while(*pp != NULL && *pp != s) pp = &(*pp)->hash_next;
	if(*pp == s) *pp = s->hash_next;
	lru_unlink(e, s);
	series_free(s);
	stat_add(e, STAT_series, (uint64_t)-1);
}

static void table_grow(ea_engine *e)
{
	size_t n = e->bucket_count * 2, i;
	ea_series **b = calloc(n, sizeof(*b));

	if(b == NULL) return; /* keep the smaller table: slower, still correct */
	for(i = 0; i < e->bucket_count; i++){
		ea_series *s = e->buckets[i];
		while(s != NULL){
			ea_series *next = s->hash_next;
			s->hash_next = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
			s = next;
		}
	}
	free(e->buckets);
	e->buckets = b;
	e->bucket_count = n;
}

static size_t align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

static ea_series *series_create(ea_engine *e, uint64_t hash, const char *ns,
		const char *device, const char *property, const ea_chain *chain)
{
	size_t nl = strlen(ns) + 1, dl = strlen(device) + 1, pl = strlen(property) + 1;
	size_t count = chain->count, i;
	/* the key right after the header, where the lookup reads it */
	size_t off_key = sizeof(ea_series);
	size_t off_slots = align8(off_key + nl + dl + pl);
	size_t off_offsets = align8(off_slots + count * sizeof(struct det_slot));
	size_t off_states = align8(off_offsets + count * sizeof(size_t));
	size_t states_size = 0, total;
	unsigned char *block;
	ea_series *s;
	char *key;

	for(i = 0; i < count; i++){
		states_size += align8(ea_detector_state_size(chain->items[i].type, &chain->items[i].params));
	}
	total = off_states + states_size;

	if(e->lru_tail != NULL && (size_t)atomic_load_explicit(&e->stats[STAT_series], memory_order_relaxed) >= e->max_series){
		drop_series(e, e->lru_tail, "the series is no longer tracked (max_series reached); its state is unknown");
		stat_add(e, STAT_series_evicted, 1);
	}
	block = calloc(1, total);
	if(block == NULL) return NULL;
	s = (ea_series *)block;
	s->hash = hash;
	s->block_bytes = total <= UINT32_MAX ? (uint32_t)total : UINT32_MAX;
	s->chain = chain;
	s->slots = (struct det_slot *)(block + off_slots);
	s->state_offsets = (size_t *)(block + off_offsets);
	s->states = block + off_states;
	states_size = 0;
	for(i = 0; i < count; i++){
		s->state_offsets[i] = states_size;
		states_size += align8(ea_detector_state_size(chain->items[i].type, &chain->items[i].params));
	}
	key = (char *)block + off_key;
	memcpy(key, ns, nl);
	memcpy(key + nl, device, dl);
	memcpy(key + nl + dl, property, pl);
	s->ns = key;
	s->device = key + nl;
	s->property = key + nl + dl;

	s->hash_next = e->buckets[hash & (e->bucket_count - 1)];
	e->buckets[hash & (e->bucket_count - 1)] = s;
	lru_push_front(e, s);
	stat_add(e, STAT_series, 1);
	if((size_t)atomic_load_explicit(&e->stats[STAT_series], memory_order_relaxed) > e->bucket_count / 2 /* chains of about one: each step is a cache miss */
			&& e->bucket_count < (SIZE_MAX / 2) / sizeof(ea_series *)){
		table_grow(e);
	}
	return s;
}

size_t ea_engine_series_bytes_max(const ea_chain *chain)
{
	size_t i, bytes = align8(sizeof(ea_series)) + align8(chain->count * sizeof(struct det_slot))
			+ align8(chain->count * sizeof(size_t));

	for(i = 0; i < chain->count; i++){
		bytes += align8(ea_detector_state_size(chain->items[i].type, &chain->items[i].params));
	}
	bytes += 3 * (EA_NAME_MAX + 1);      /* namespace, device, property */
	bytes += EA_RESULT_VALUE_MAX + 1;    /* a long last value */
	bytes += 2 * 16 + 4 * sizeof(void *); /* allocator headers, hash bucket share (load 1/4 to 1/2) */
	return bytes;
}

uint64_t ea_engine_series_memory_bound(const ea_config *cfg)
{
	size_t i, largest = ea_engine_series_bytes_max(&cfg->default_chain);

	for(i = 0; i < cfg->route_count; i++){
		size_t b = ea_engine_series_bytes_max(&cfg->routes[i].chain);
		if(b > largest) largest = b;
	}
	return (uint64_t)cfg->max_series * largest;
}

/* Asks for the whole block of a series at once: the key, the slots and
 * every detector state are read next, and with many series they are
 * rarely in the cache. Fetched together they cost about one miss instead
 * of one after the other (default chain, 100,000 series delivered in a
 * random order: 1.1 to 1.5 million samples/s; make bench-engine). */
static void prefetch_series(const ea_series *s)
{
	const char *p = (const char *)s;
	size_t off;

	for(off = 64; off < s->block_bytes; off += 64) __builtin_prefetch(p + off);
}

static ea_series *series_find(ea_engine *e, uint64_t hash, const char *ns,
		const char *device, const char *property)
{
	ea_series *s;

	for(s = e->buckets[hash & (e->bucket_count - 1)]; s != NULL; s = s->hash_next){
		if(s->hash == hash) prefetch_series(s);
		if(s->hash == hash && strcmp(s->property, property) == 0
				&& strcmp(s->device, device) == 0 && strcmp(s->ns, ns) == 0){
			return s;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Engine                                                              */

ea_engine *ea_engine_new(const ea_config *cfg, size_t max_series, ea_result_fn on_result, void *ctx)
{
	ea_engine *e = calloc(1, sizeof(*e));

	if(e == NULL) return NULL;
	e->cfg = cfg;
	e->on_result = on_result;
	e->ctx = ctx;
	e->max_series = max_series > 0 ? max_series : 1;
	e->bucket_count = 1024;
	e->buckets = calloc(e->bucket_count, sizeof(*e->buckets));
	if(e->buckets == NULL){
		free(e);
		return NULL;
	}
	e->state_detector.type = &ea_detector_device_state;
	ea_params_defaults(&ea_detector_device_state, &e->state_detector.params);
	e->state_chain.items = &e->state_detector;
	e->state_chain.count = 1;
	return e;
}

void ea_engine_free(ea_engine *e)
{
	if(e == NULL) return;
	while(e->lru_head != NULL){
		ea_series *s = e->lru_head;
		e->lru_head = s->lru_next;
		series_free(s);
	}
	free(e->buckets);
	free(e);
}

static bool chains_equal(const ea_chain *a, const ea_chain *b)
{
	size_t i;

	if(a->count != b->count) return false;
	for(i = 0; i < a->count; i++){
		if(a->items[i].type != b->items[i].type) return false;
		if(memcmp(&a->items[i].params, &b->items[i].params, sizeof(ea_params)) != 0) return false;
	}
	return true;
}

void ea_engine_set_config(ea_engine *e, const ea_config *cfg)
{
	ea_series *s = e->lru_head;

	e->cfg = cfg;
	while(s != NULL){
		ea_series *next = s->lru_next;
		if(s->chain != &e->state_chain){
			const ea_chain *chain = ea_config_chain(cfg, s->ns, s->device, s->property);
			if(chains_equal(chain, s->chain)) s->chain = chain;
			else drop_series(e, s, "the detector chain changed with a config reload; detection starts again");
		}
		s = next;
	}
}

static void emit(ea_engine *e, const ea_series *s, const ea_detector_type *type,
		const ea_verdict *v, bool anomaly, int64_t sample_time_ms, int64_t now_ms,
		const char *text, bool has_number, double number)
{
	ea_result r;

	r.ns = s->ns;
	r.device = s->device;
	r.property = s->property;
	r.detector = type->name;
	r.kind = type->kind;
	r.reason = v->reason;
	if(s->chain->origin != NULL && v->reason[0] != '\0'){
		/* checks made from a device model say which */
		static _Thread_local char with_origin[EA_REASON_MAX + 700];
		snprintf(with_origin, sizeof(with_origin), "%s (limits from the %s)", v->reason, s->chain->origin);
		r.reason = with_origin;
	}
	r.value_text = text;
	r.value_is_number = has_number;
	r.value_number = number;
	r.sample_time_ms = sample_time_ms;
	r.detected_at_ms = now_ms;
	r.anomaly = anomaly;
	r.score = v->score;
	r.confidence = v->confidence;
	if(e->on_result != NULL) e->on_result(e->ctx, &r);
}

/* Turns a verdict into a raise, repeat or clear, or nothing. */
static void apply_verdict(ea_engine *e, ea_series *s, size_t i, const ea_verdict *v,
		int64_t sample_time_ms, int64_t now_ms, const char *text, bool has_number, double number)
{
	struct det_slot *slot = &s->slots[i];
	const ea_detector_type *type = s->chain->items[i].type;

	if(v->state == EA_VERDICT_ANOMALY){
		if(!slot->raised){
			slot->raised = 1;
			slot->last_emit_ms = now_ms;
			stat_add(e, STAT_anomalies_raised, 1);
			emit(e, s, type, v, true, sample_time_ms, now_ms, text, has_number, number);
		}else if(e->cfg->repeat_interval_ms > 0 && now_ms - slot->last_emit_ms >= e->cfg->repeat_interval_ms){
			slot->last_emit_ms = now_ms;
			stat_add(e, STAT_anomalies_repeated, 1);
			emit(e, s, type, v, true, sample_time_ms, now_ms, text, has_number, number);
		}
	}else if(v->state == EA_VERDICT_NORMAL && slot->raised){
		slot->raised = 0;
		slot->last_emit_ms = now_ms;
		stat_add(e, STAT_anomalies_cleared, 1);
		emit(e, s, type, v, false, sample_time_ms, now_ms, text, has_number, number);
	}
}

/* Removes a series; anomalies it had raised are cleared first, so nobody
 * is left with an alarm that will never clear. */
static void drop_series(ea_engine *e, ea_series *s, const char *why)
{
	int64_t now = ea_now_ms();
	size_t i;

	for(i = 0; i < s->chain->count; i++){
		if(s->slots[i].raised){
			ea_verdict v;
			v.explain_normal = true;
			ea_verdict_set(&v, EA_VERDICT_NORMAL, 0.0, 0.0, "%s", why);
			apply_verdict(e, s, i, &v, s->last_time_ms, now, last_text(s), s->last_has_number, s->last_number);
		}
	}
	table_remove(e, s);
}

static void run_detector(ea_engine *e, ea_series *s, size_t i, const ea_sample *sample, ea_verdict *v)
{
	const ea_detector_instance *inst = &s->chain->items[i];
	void *state = s->states + s->state_offsets[i];

	if(++e->timing_counter % TIMING_EVERY == 0){
		int64_t t0 = ea_mono_ns();
		size_t slot;
		inst->type->observe(&inst->params, state, sample, v);
		slot = timed_slot(e, inst->type);
		if(slot != SIZE_MAX){
			stat_add(e, STAT_TIMED_CALLS + slot, 1);
			stat_add(e, STAT_TIMED_NS + slot, (uint64_t)(ea_mono_ns() - t0));
		}
	}else{
		inst->type->observe(&inst->params, state, sample, v);
	}
}

/* true when an anomaly verdict of this slot would change nothing (already
 * raised, no repeat due): its reason need not be formatted. */
static bool anomaly_is_quiet(const ea_engine *e, const struct det_slot *slot, int64_t now_ms)
{
	if(e->on_verdict != NULL) return false; /* whoever gets every verdict gets its reason too */
	return slot->raised && !(e->cfg->repeat_interval_ms > 0 && now_ms - slot->last_emit_ms >= e->cfg->repeat_interval_ms);
}

static bool chain_wants_desired(const ea_chain *chain)
{
	size_t i;
	for(i = 0; i < chain->count; i++) if(chain->items[i].type->wants_desired) return true;
	return false;
}

void ea_engine_sample(ea_engine *e, const ea_sample *sample)
{
	const ea_chain *chain;
	uint64_t hash, value_hash;
	ea_series *s;
	size_t i;

	stat_add(e, STAT_samples, 1);
	if(sample->unscored){
		stat_add(e, STAT_unscored, 1);
		return;
	}

	hash = series_hash(sample->ns, sample->device, sample->property);
	s = series_find(e, hash, sample->ns, sample->device, sample->property);
	if(s == NULL){
		chain = sample->source == EA_SOURCE_DEVICE_STATE ? &e->state_chain
				: ea_config_chain_for(e->cfg, sample->ns, sample->device, sample->property, sample->model);
		if(sample->desired && !chain_wants_desired(chain)) return; /* nobody would look at it */
		s = series_create(e, hash, sample->ns, sample->device, sample->property, chain);
		if(s == NULL) return;
	}else if(s != e->lru_head){
		lru_unlink(e, s);
		lru_push_front(e, s);
	}

	/* A desired (twin "expected") value goes only to the detectors that
	 * compare it with the reported one; it is not the series' value. */
	if(sample->desired){
		for(i = 0; i < s->chain->count; i++){
			ea_verdict v;
			if(!s->chain->items[i].type->wants_desired) continue;
			v.state = EA_VERDICT_SKIP;
			v.reason[0] = '\0';
			v.explain_normal = s->slots[i].raised != 0;
			v.quiet_anomaly = anomaly_is_quiet(e, &s->slots[i], sample->arrival_ms);
			run_detector(e, s, i, sample, &v);
			apply_verdict(e, s, i, &v, sample->time_ms, sample->arrival_ms,
					sample->text, sample->has_number, sample->number);
		}
		return;
	}

	/* The same sample seen on twin/update and on twin/update/document. */
	if(sample->source == EA_SOURCE_TWIN_DOCUMENT && s->has_update
			&& sample->arrival_ms >= s->last_update_ms && sample->arrival_ms - s->last_update_ms <= DOCUMENT_ECHO_MS){
		stat_add(e, STAT_duplicates, 1);
		return;
	}
	if(sample->source == EA_SOURCE_TWIN_UPDATE){
		s->has_update = true;
		s->last_update_ms = sample->arrival_ms;
	}
	value_hash = ea_hash_bytes(EA_HASH_SEED, sample->text, strlen(sample->text));
	if(s->has_last && s->last_time_ms == sample->time_ms && s->last_value_hash == value_hash
			&& s->last_source != (uint8_t)sample->source
			&& (sample->source == EA_SOURCE_TWIN_UPDATE || sample->source == EA_SOURCE_TWIN_DOCUMENT)
			&& (s->last_source == EA_SOURCE_TWIN_UPDATE || s->last_source == EA_SOURCE_TWIN_DOCUMENT)){
		stat_add(e, STAT_duplicates, 1);
		s->last_source = SOURCE_MERGED; /* a third copy is a real repeat */
		return;
	}
	s->has_last = true;
	s->last_time_ms = sample->time_ms;
	s->last_value_hash = value_hash;
	s->last_source = (uint8_t)sample->source;
	s->last_has_number = sample->has_number;
	s->last_number = sample->number;
	set_last_text(s, sample->text);

	if(s->chain->mirror && e->on_mirror != NULL) e->on_mirror(e->mirror_ctx, sample);
	if(s->chain->external != NULL && e->on_external != NULL) e->on_external(e->external_ctx, s->chain->external, sample);
	for(i = 0; i < s->chain->count; i++){
		ea_verdict v;
		if(s->chain->items[i].type->numeric_only && !sample->has_number) continue;
		v.state = EA_VERDICT_SKIP;
		v.reason[0] = '\0';
		v.explain_normal = s->slots[i].raised != 0;
		v.quiet_anomaly = anomaly_is_quiet(e, &s->slots[i], sample->arrival_ms);
		run_detector(e, s, i, sample, &v);
		if(e->on_verdict != NULL) e->on_verdict(e->verdict_ctx, sample, s->chain->items[i].type, &v);
		apply_verdict(e, s, i, &v, sample->time_ms, sample->arrival_ms,
				sample->text, sample->has_number, sample->number);
	}
}

void ea_engine_set_mirror_fn(ea_engine *e, ea_sample_fn fn, void *ctx)
{
	e->on_mirror = fn;
	e->mirror_ctx = ctx;
}

void ea_engine_set_external_fn(ea_engine *e, ea_external_fn fn, void *ctx)
{
	e->on_external = fn;
	e->external_ctx = ctx;
}

void ea_engine_set_verdict_fn(ea_engine *e, ea_verdict_fn fn, void *ctx)
{
	e->on_verdict = fn;
	e->verdict_ctx = ctx;
}

struct message_ctx {
	ea_engine *engine;
};

static void on_sample(void *ctx, const ea_sample *sample)
{
	ea_engine_sample(((struct message_ctx *)ctx)->engine, sample);
}

/* Copies len bytes into a NUL-terminated name; false when too long or
 * holding a NUL or invalid UTF-8. */
static bool copy_name(char *dst, const char *src, size_t len)
{
	if(len == 0 || len > EA_NAME_MAX || !ea_utf8_valid(src, len)) return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

ea_err ea_engine_message(ea_engine *e, const char *topic, size_t topic_len,
		const char *payload, size_t payload_len, int64_t arrival_ms)
{
	char ns[EA_NAME_MAX + 1], device[EA_NAME_MAX + 1];
	struct message_ctx ctx = { e };
	ea_topic_info info;
	ea_err rc;

	stat_add(e, STAT_messages, 1);
	if(ea_topic_parse(topic, topic_len, &info) == EA_ERR_OK && info.kind == EA_TOPIC_EDGEX_EVENT){
		if(!e->cfg->edgex_enabled){
			stat_add(e, STAT_unsupported_topics, 1);
			return EA_ERR_UNSUPPORTED;
		}
		/* the EdgeX instance's namespace, from the config */
		info.ns = e->cfg->edgex_namespace;
		info.ns_len = strlen(e->cfg->edgex_namespace);
	}
	if(info.kind == EA_TOPIC_UNKNOWN
			|| !copy_name(ns, info.ns, info.ns_len) || !copy_name(device, info.device, info.device_len)){
		stat_add(e, STAT_unsupported_topics, 1);
		return EA_ERR_UNSUPPORTED;
	}
	if(!ea_config_device_included(e->cfg, ns, device)){
		stat_add(e, STAT_excluded, 1);
		return EA_ERR_OK;
	}
	rc = ea_payload_parse(payload, payload_len, info.kind, ns, device, arrival_ms, on_sample, &ctx, NULL);
	if(rc == EA_ERR_PARSE) stat_add(e, STAT_parse_errors, 1);
	else if(rc == EA_ERR_UNSUPPORTED) stat_add(e, STAT_unsupported_payloads, 1);
	return rc;
}

void ea_engine_idle(ea_engine *e, int64_t now_ms)
{
	ea_series *s;
	size_t i;

	for(s = e->lru_head; s != NULL; s = s->lru_next){
		for(i = 0; i < s->chain->count; i++){
			const ea_detector_instance *inst = &s->chain->items[i];
			ea_verdict v;

			if(inst->type->idle == NULL) continue;
			v.state = EA_VERDICT_SKIP;
			v.reason[0] = '\0';
			v.explain_normal = s->slots[i].raised != 0;
			v.quiet_anomaly = anomaly_is_quiet(e, &s->slots[i], now_ms);
			inst->type->idle(&inst->params, s->states + s->state_offsets[i], now_ms, &v);
			apply_verdict(e, s, i, &v, s->last_time_ms, now_ms, last_text(s),
					s->last_has_number, s->last_number);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Result JSON and topic                                               */

struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if(o->overflow || o->pos + n >= o->len){
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void puts_raw(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A number with `digits` significant digits; JSON has no NaN or Inf. */
static void put_number(struct out *o, double v, int digits)
{
	char tmp[40];
	int n;

	if(!isfinite(v)) v = 0.0;
	n = snprintf(tmp, sizeof(tmp), "%.*g", digits, v);
	if(n > 0) put(o, tmp, (size_t)n);
}

/* Length of the valid multi-byte UTF-8 character at p (NUL-terminated
 * text), or 0 when the bytes there are not one. */
static size_t utf8_char_len(const unsigned char *p)
{
	size_t n = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0, k;

	for(k = 1; k < n; k++){
		if(p[k] == 0) return 0;
	}
	return n > 0 && ea_utf8_valid((const char *)p, n) ? n : 0;
}

/* A JSON string of at most `max` input bytes (then "..."): escapes quotes,
 * backslashes and control bytes; bytes of invalid UTF-8 become U+FFFD so
 * the output is always valid JSON. */
static void put_json_string_max(struct out *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *start = p;

	put(o, "\"", 1);
	while(*p){
		if((size_t)(p - start) >= max){
			put(o, "...", 3);
			break;
		}
		if(*p == '"') put(o, "\\\"", 2);
		else if(*p == '\\') put(o, "\\\\", 2);
		else if(*p == '\n') put(o, "\\n", 2);
		else if(*p < 0x20){
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(o, esc, 6);
		}else if(*p < 0x80){
			put(o, (const char *)p, 1);
		}else{
			size_t n = utf8_char_len(p);
			if(n > 0){
				put(o, (const char *)p, n);
				p += n;
				continue;
			}
			put(o, "\xEF\xBF\xBD", 3);
		}
		p++;
	}
	put(o, "\"", 1);
}

static void put_json_string(struct out *o, const char *s)
{
	put_json_string_max(o, s, SIZE_MAX);
}

size_t ea_result_to_json(const ea_result *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	char when[40];

	if(len == 0) return 0;
	buf[0] = '\0';
	puts_raw(&o, "{\"namespace\":");
	put_json_string(&o, r->ns);
	puts_raw(&o, ",\"device\":");
	put_json_string(&o, r->device);
	puts_raw(&o, ",\"property\":");
	put_json_string(&o, r->property);
	puts_raw(&o, ",\"value\":");
	if(r->value_is_number && isfinite(r->value_number)) put_number(&o, r->value_number, 15);
	else put_json_string_max(&o, r->value_text != NULL ? r->value_text : "", EA_RESULT_VALUE_MAX);
	puts_raw(&o, ",\"timestamp\":");
	put_json_string(&o, ea_format_time(r->sample_time_ms, when, sizeof(when)));
	puts_raw(&o, ",\"detector\":");
	put_json_string(&o, r->detector);
	puts_raw(&o, ",\"kind\":");
	put_json_string(&o, r->kind);
	puts_raw(&o, r->anomaly ? ",\"anomaly\":true" : ",\"anomaly\":false");
	puts_raw(&o, ",\"anomalyScore\":");
	put_number(&o, r->score, 4);
	puts_raw(&o, ",\"confidence\":");
	put_number(&o, r->confidence, 4);
	puts_raw(&o, ",\"reason\":");
	put_json_string(&o, r->reason);
	puts_raw(&o, ",\"detectedAt\":");
	put_json_string(&o, ea_format_time(r->detected_at_ms, when, sizeof(when)));
	puts_raw(&o, "}");
	if(o.overflow){
		buf[0] = '\0';
		return 0;
	}
	return o.pos;
}

/* A name inside one topic level: '/', '+', '#', control bytes and invalid
 * UTF-8 become '_'. */
static void put_topic_name(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while(*p){
		if(*p < 0x80){
			char c = (*p == '/' || *p == '+' || *p == '#' || *p < 0x20 || *p == 0x7F) ? '_' : (char)*p;
			put(o, &c, 1);
			p++;
		}else{
			size_t n = utf8_char_len(p);
			if(n > 0){
				put(o, (const char *)p, n);
				p += n;
			}else{
				put(o, "_", 1);
				p++;
			}
		}
	}
}

size_t ea_result_topic(const char *template_, const ea_result *r, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	const char *p = template_;

	if(len == 0) return 0;
	buf[0] = '\0';
	while(*p){
		if(strncmp(p, "{namespace}", 11) == 0){
			put_topic_name(&o, r->ns);
			p += 11;
		}else if(strncmp(p, "{device}", 8) == 0){
			put_topic_name(&o, r->device);
			p += 8;
		}else if(strncmp(p, "{property}", 10) == 0){
			put_topic_name(&o, r->property);
			p += 10;
		}else if(strncmp(p, "{detector}", 10) == 0){
			put_topic_name(&o, r->detector);
			p += 10;
		}else{
			put(&o, p, 1);
			p++;
		}
	}
	if(o.overflow || o.pos > 65535){
		buf[0] = '\0';
		return 0;
	}
	return o.pos;
}
