/* SPDX-License-Identifier: Apache-2.0
 *
 * det_staleness.c - `staleness`: a series that has gone quiet.
 *
 * Catches dropped links, dead mappers and devices that stopped reporting.
 * Raised from the periodic idle check when no sample has arrived for
 * `interval` (if set) or for `factor` times the learned interval between
 * samples (after `min_samples` readings) but never less than `min_silence`.
 * Cleared by the next sample. Uses arrival time, so a device clock that is
 * off does not matter. Cost: O(1) per sample and per check. State: 32 bytes.
 */
#include "ea_detector.h"

#include <math.h>

enum { P_INTERVAL, P_FACTOR, P_MIN_SAMPLES, P_MIN_SILENCE };

static const ea_param_spec params[] = {
	{ "interval", EA_PARAM_DURATION, NAN, 1, 9e15, "silence that raises it (off: learn from the series)" },
	{ "factor", EA_PARAM_NUMBER, 5, 1.5, 1000, "multiple of the learned interval that raises it" },
	{ "min_samples", EA_PARAM_INTEGER, 5, 2, 1e6, "readings to learn the interval from" },
	{ "min_silence", EA_PARAM_DURATION, 5000, 1, 9e15, "shortest learned silence that raises it" },
};

struct staleness_state {
	int64_t last_arrival_ms;
	double mean_interval_ms; /* exponentially weighted */
	uint64_t samples;
};

static void staleness_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct staleness_state *st = state;
	int64_t at = s->arrival_ms;

	(void)p;
	if(st->samples > 0 && at > st->last_arrival_ms){
		double gap = (double)(at - st->last_arrival_ms);
		if(st->samples == 1) st->mean_interval_ms = gap;
		else st->mean_interval_ms += 0.1 * (gap - st->mean_interval_ms);
	}
	if(at > st->last_arrival_ms) st->last_arrival_ms = at;
	st->samples++;
	ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "samples arrive");
}

static void staleness_idle(const ea_params *p, void *state, int64_t now_ms, ea_verdict *v)
{
	struct staleness_state *st = state;
	double limit, silent;

	v->state = EA_VERDICT_SKIP;
	if(st->samples == 0) return;
	if(!isnan(p->v[P_INTERVAL])){
		limit = p->v[P_INTERVAL]; /* what the operator said, exactly */
	}else{
		if((double)st->samples < p->v[P_MIN_SAMPLES]) return;
		limit = fmax(p->v[P_FACTOR] * st->mean_interval_ms, p->v[P_MIN_SILENCE]);
	}
	silent = (double)(now_ms - st->last_arrival_ms);
	if(silent > limit){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.5 + 0.1 * (silent / limit - 1.0)), 1.0,
				"no sample for %.1f s (expected at least every %.1f s); check the device, its mapper and the link",
				silent / 1000.0, limit / 1000.0);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "last sample %.1f s ago", silent / 1000.0);
	}
}

const ea_detector_type ea_detector_staleness = {
	.name = "staleness",
	.kind = "stale",
	.summary = "no sample for longer than expected",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct staleness_state),
	.numeric_only = false,
	.validate = NULL,
	.observe = staleness_observe,
	.idle = staleness_idle,
};
