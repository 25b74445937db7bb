/* SPDX-License-Identifier: Apache-2.0
 *
 * det_order.c - the order of readings: `out_of_order`, `duplicate` and
 * `replay`, three detectors over the sample time the payload carries and
 * KubeEdge's message "event_id". Readings with neither are not judged.
 *
 * Three detectors, not one with three reasons: the engine publishes a
 * detector's verdict when it changes, so one detector would report the
 * first out-of-order reading of a replayed backlog and never say "replay"
 * (the verdict stays "raised"); as three, each trouble has its own kind in
 * the result, is raised and cleared on its own, and can be routed alone.
 *
 * `out_of_order` (kind "out-of-order"): a sample time earlier than the
 *   latest already seen, by more than `tolerance`. A sample time more than
 *   `max_ahead` ahead of its arrival counts as its arrival time (one reading
 *   stamped in the future would otherwise make every later one look late;
 *   the `delay` detector reports the clock). Clears at the next reading in
 *   order. Parameters (defaults): tolerance (0), max_ahead (5s).
 *   Cost: O(1). State: 16 bytes.
 *
 * `duplicate` (kind "duplicate"): the same event id, or the same sample
 *   time, as the previous reading of the series: a mapper resending, a
 *   message delivered twice, a retained message replayed. KubeEdge repeats
 *   a reading's event id on twin/update/document when EdgeCore echoes a
 *   twin/update: a repeat on the other of those two topics is that echo and
 *   does not count. Clears at the next reading that differs.
 *   Parameters (defaults): event_id (true), time (true).
 *   Cost: O(1) plus a hash of the event id. State: 24 bytes.
 *
 * `replay` (kind "replay"): a burst of old readings. Either `burst`
 *   readings in a row earlier than the latest sample time already seen
 *   (history sent again), or a run of readings older than `max_age` on
 *   arrival in which `burst` consecutive ones arrived at least twice as
 *   fast as they were taken (their sample times span more than twice their
 *   arrival times: a backlog flushed after a reconnect, or captured traffic
 *   replayed). The run is judged in chunks of `burst` readings, so a flush
 *   after hours of a slow link is still seen, within 2 x burst readings. A
 *   link that is merely slow (readings old but arriving at the pace they
 *   were taken) is not a replay: `delay` reports it. Raised until the next
 *   reading that is neither earlier than the latest nor old.
 *   Parameters (defaults): burst (5), max_age (1m), max_ahead (5s).
 *   Cost: O(1). State: 40 bytes.
 */
#include "ea_detector.h"

#include <stdio.h>
#include <string.h>

/* The latest sample time seen. A time further ahead of its arrival than
 * max_ahead_ms counts as its arrival time: one reading stamped in the
 * future must not make the next ones look late. */
static void note_latest(int64_t *latest_ms, bool *has_latest, const ea_sample *s, double max_ahead_ms)
{
	int64_t t = s->time_ms;

	if((double)(t - s->arrival_ms) > max_ahead_ms) t = s->arrival_ms;
	if(!*has_latest || t > *latest_ms){
		*latest_ms = t;
		*has_latest = true;
	}
}

/* ------------------------------------------------------------------ */
/* out_of_order                                                        */

enum { P_OOO_TOLERANCE, P_OOO_MAX_AHEAD };

static const ea_param_spec out_of_order_params[] = {
	{ "tolerance", EA_PARAM_DURATION, 0, 0, 9e15, "how far behind the latest reading a sample time may be" },
	{ "max_ahead", EA_PARAM_DURATION, 5000, 0, 9e15, "sample times further ahead of arrival are not taken as the latest" },
};

struct out_of_order_state {
	int64_t latest_ms;
	bool has_latest;
};

static void out_of_order_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct out_of_order_state *st = state;

	if(!s->has_time){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->has_latest && (double)(st->latest_ms - s->time_ms) > p->v[P_OOO_TOLERANCE]){
		double behind = (double)(st->latest_ms - s->time_ms);
		ea_verdict_set(v, EA_VERDICT_ANOMALY, behind > 60000.0 ? 1.0 : 0.6 + 0.4 * behind / 60000.0, 0.9,
				"out of order: taken %.3f s before the latest reading already seen; a mapper resending, several writers, or a device clock stepping back",
				behind / 1000.0);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reading is in order");
	}
	note_latest(&st->latest_ms, &st->has_latest, s, p->v[P_OOO_MAX_AHEAD]);
}

const ea_detector_type ea_detector_out_of_order = {
	.name = "out_of_order",
	.kind = "out-of-order",
	.summary = "a sample time earlier than the latest already seen",
	.params = out_of_order_params,
	.param_count = sizeof(out_of_order_params) / sizeof(out_of_order_params[0]),
	.state_size = sizeof(struct out_of_order_state),
	.numeric_only = false,
	.validate = NULL,
	.observe = out_of_order_observe,
	.idle = NULL,
};

/* ------------------------------------------------------------------ */
/* duplicate                                                           */

enum { P_DUP_EVENT_ID, P_DUP_TIME };

static const ea_param_spec duplicate_params[] = {
	{ "event_id", EA_PARAM_BOOL, 1, 0, 1, "report the previous reading's event id again" },
	{ "time", EA_PARAM_BOOL, 1, 0, 1, "report the previous reading's sample time again" },
};

struct duplicate_state {
	int64_t last_ms;       /* sample time of the previous reading */
	uint64_t last_event;   /* hash of its event id, 0 when none */
	bool has_last_time;
	uint8_t last_source;   /* its ea_source */
};

static bool is_twin_topic(ea_source source)
{
	return source == EA_SOURCE_TWIN_UPDATE || source == EA_SOURCE_TWIN_DOCUMENT;
}

static bool duplicate_validate(const ea_params *p, char *err, size_t len)
{
	if(p->v[P_DUP_EVENT_ID] == 0 && p->v[P_DUP_TIME] == 0){
		snprintf(err, len, "duplicate with event_id and time both false would never report anything");
		return false;
	}
	return true;
}

static void duplicate_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct duplicate_state *st = state;
	const char *event = s->event_id != NULL ? s->event_id : "";
	uint64_t event_hash = event[0] != '\0' ? ea_hash_bytes(EA_HASH_SEED, event, strlen(event)) | 1 : 0;
	bool echo = is_twin_topic(s->source) && is_twin_topic((ea_source)st->last_source)
			&& (uint8_t)s->source != st->last_source;
	bool same_event = p->v[P_DUP_EVENT_ID] != 0 && event_hash != 0 && event_hash == st->last_event && !echo;
	bool same_time = p->v[P_DUP_TIME] != 0 && s->has_time && st->has_last_time && s->time_ms == st->last_ms;

	if(!s->has_time && event_hash == 0){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(same_event){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.6, 0.9,
				"duplicate reading: same event id \"%.60s\" as the previous one; a mapper resending or a message delivered twice",
				event);
	}else if(same_time){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.6, 0.8,
				"duplicate reading: same sample time as the previous one; a mapper resending a cached value or a message delivered twice");
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reading is new");
	}
	if(s->has_time){
		st->last_ms = s->time_ms;
		st->has_last_time = true;
	}
	st->last_event = event_hash;
	st->last_source = (uint8_t)s->source;
}

const ea_detector_type ea_detector_duplicate = {
	.name = "duplicate",
	.kind = "duplicate",
	.summary = "the same event id or sample time as the previous reading",
	.params = duplicate_params,
	.param_count = sizeof(duplicate_params) / sizeof(duplicate_params[0]),
	.state_size = sizeof(struct duplicate_state),
	.numeric_only = false,
	.validate = duplicate_validate,
	.observe = duplicate_observe,
	.idle = NULL,
};

/* ------------------------------------------------------------------ */
/* replay                                                              */

enum { P_REPLAY_BURST, P_REPLAY_MAX_AGE, P_REPLAY_MAX_AHEAD };

static const ea_param_spec replay_params[] = {
	{ "burst", EA_PARAM_INTEGER, 5, 2, 1e6, "old readings in a row that make a replay" },
	{ "max_age", EA_PARAM_DURATION, 60000, 1, 9e15, "age on arrival from which a reading counts as old" },
	{ "max_ahead", EA_PARAM_DURATION, 5000, 0, 9e15, "sample times further ahead of arrival are not taken as the latest" },
};

struct replay_state {
	int64_t latest_ms;          /* latest sample time seen */
	int64_t chunk_first_ms;     /* sample time of the first reading of the chunk */
	int64_t chunk_first_arrival;
	uint32_t back_in_a_row;     /* readings in a row earlier than the latest */
	uint32_t aged_in_a_row;     /* readings in a row older than max_age on arrival */
	uint32_t chunk;             /* aged readings in the current chunk of the run */
	bool has_latest;
	bool replaying;             /* raised for the current run */
};

static void replay_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct replay_state *st = state;
	double burst = p->v[P_REPLAY_BURST];
	bool earlier, aged;

	if(!s->has_time){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	earlier = st->has_latest && s->time_ms < st->latest_ms;
	aged = (double)(s->arrival_ms - s->time_ms) >= p->v[P_REPLAY_MAX_AGE];
	note_latest(&st->latest_ms, &st->has_latest, s, p->v[P_REPLAY_MAX_AHEAD]);
	if(!earlier && !aged){
		st->back_in_a_row = st->aged_in_a_row = st->chunk = 0;
		st->replaying = false;
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reading is current");
		return;
	}
	if(!earlier) st->back_in_a_row = 0;
	else if(st->back_in_a_row < UINT32_MAX) st->back_in_a_row++;
	if(aged){
		if(st->aged_in_a_row < UINT32_MAX) st->aged_in_a_row++;
		if(st->chunk == 0){
			st->chunk_first_ms = s->time_ms;
			st->chunk_first_arrival = s->arrival_ms;
		}
		st->chunk++;
	}else{
		st->aged_in_a_row = st->chunk = 0;
	}
	if(!st->replaying && (double)st->back_in_a_row >= burst) st->replaying = true;
	if(!st->replaying && (double)st->chunk >= burst){
		/* did this chunk's sample times advance at least twice as fast as
		 * real time? If not, look at the next `burst` readings afresh */
		if(s->time_ms - st->chunk_first_ms > 2 * (s->arrival_ms - st->chunk_first_arrival)) st->replaying = true;
		else st->chunk = 0;
	}
	if(!st->replaying){
		v->state = EA_VERDICT_SKIP; /* old, but not (yet) a replay */
		return;
	}
	if(st->back_in_a_row > 0)
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.9, 0.8,
				"replayed history: %u readings in a row taken before readings already seen (this one %.1f s before them): traffic sent again, or a mapper re-sending its buffer",
				(unsigned)st->back_in_a_row, (double)(st->latest_ms - s->time_ms) / 1000.0);
	else
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.8, 0.8,
				"replayed history: %u old readings in a row arriving faster than they were taken (this one taken %.1f s before it arrived): a backlog flushed after a reconnect, or captured traffic replayed",
				(unsigned)st->aged_in_a_row, (double)(s->arrival_ms - s->time_ms) / 1000.0);
}

const ea_detector_type ea_detector_replay = {
	.name = "replay",
	.kind = "replay",
	.summary = "a burst of old readings: a flushed backlog or replayed traffic",
	.params = replay_params,
	.param_count = sizeof(replay_params) / sizeof(replay_params[0]),
	.state_size = sizeof(struct replay_state),
	.numeric_only = false,
	.validate = NULL,
	.observe = replay_observe,
	.idle = NULL,
};
