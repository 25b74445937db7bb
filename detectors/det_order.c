/* SPDX-License-Identifier: Apache-2.0
 *
 * det_order.c - `order`: readings out of order, duplicated, or replayed
 * history after a reconnect.
 *
 * Uses the sample time the payload carries and KubeEdge's message
 * "event_id"; readings with neither are not judged.
 * - duplicate: the same event id as the previous reading, or the same
 *   sample time (a mapper resending, a retained message replayed, a
 *   message delivered twice). The engine already merges the copy of one
 *   reading that KubeEdge publishes on both twin/update and
 *   twin/update/document, so those do not count.
 * - out of order: a sample time earlier than the latest already seen.
 * - replay: `burst` or more readings in a row that are out of order or
 *   older than `replay_age` on arrival: a mapper flushing a backlog after a
 *   reconnect, or someone replaying captured traffic.
 * One detector, one kind ("order"); the reason says which of the three.
 * Clears at the next reading that is new and in order.
 *
 * Cost: O(1) plus a hash of the event id. State: 40 bytes.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_BURST, P_REPLAY_AGE, P_DUPLICATES };

static const ea_param_spec params[] = {
	{ "burst", EA_PARAM_INTEGER, 5, 2, 1e6, "old readings in a row that count as a replay" },
	{ "replay_age", EA_PARAM_DURATION, 60000, 1, 9e15, "age on arrival from which a reading counts as old" },
	{ "duplicates", EA_PARAM_BOOL, 1, 0, 1, "report repeated event ids and sample times" },
};

struct order_state {
	int64_t latest_ms;     /* latest sample time seen */
	int64_t last_ms;       /* sample time of the previous reading */
	uint64_t last_event;   /* hash of the previous event id, 0 when none */
	uint64_t old_in_a_row;
	uint64_t readings;
};

static void order_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct order_state *st = state;
	const char *event = s->event_id != NULL ? s->event_id : "";
	uint64_t event_hash = event[0] != '\0' ? ea_hash_bytes(EA_HASH_SEED, event, strlen(event)) | 1 : 0;
	bool same_event = event_hash != 0 && event_hash == st->last_event;
	bool same_time = s->has_time && st->readings > 0 && s->time_ms == st->last_ms;
	bool earlier = s->has_time && st->readings > 0 && s->time_ms < st->latest_ms;
	bool old = s->has_time && (double)(s->arrival_ms - s->time_ms) >= p->v[P_REPLAY_AGE];

	if(!s->has_time && event_hash == 0){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(earlier || old) st->old_in_a_row++;
	else st->old_in_a_row = 0;

	if((double)st->old_in_a_row >= p->v[P_BURST]){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 1.0, 0.9,
				"replayed history: %llu readings in a row are old (this one taken %.1f s before it arrived, %.1f s before the latest seen); a backlog flushed after a reconnect, or replayed traffic",
				(unsigned long long)st->old_in_a_row, (double)(s->arrival_ms - s->time_ms) / 1000.0,
				(double)(st->latest_ms - s->time_ms) / 1000.0);
	}else if(p->v[P_DUPLICATES] != 0 && (same_event || same_time)){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.6, 0.8, "duplicate reading: %s as the previous one",
				same_event ? "same event id" : "same sample time");
	}else if(earlier){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.8, 0.9,
				"out of order: taken %.3f s before the latest reading already seen", (double)(st->latest_ms - s->time_ms) / 1000.0);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reading is new and in order");
	}
	if(s->has_time){
		if(st->readings == 0 || s->time_ms > st->latest_ms) st->latest_ms = s->time_ms;
		st->last_ms = s->time_ms;
	}
	st->last_event = event_hash;
	st->readings++;
}

const ea_detector_type ea_detector_order = {
	.name = "order",
	.kind = "order",
	.summary = "out-of-order, duplicate and replayed readings",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct order_state),
	.numeric_only = false,
	.validate = NULL,
	.observe = order_observe,
	.idle = NULL,
};
