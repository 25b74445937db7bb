/* SPDX-License-Identifier: Apache-2.0
 *
 * det_stuck.c - `stuck`: a value that does not change any more.
 *
 * Catches frozen sensors and mappers that resend a cached reading.
 * Raised when the value has stayed within `tolerance` of the first value of
 * the run for `samples` readings, or (when `duration` is set) for that long
 * in sample time. Booleans are not checked (they legitimately hold).
 * Cost: a few comparisons per sample. State: 32 bytes per series.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>

enum { P_SAMPLES, P_DURATION, P_TOLERANCE };

static const ea_param_spec params[] = {
	{ "samples", EA_PARAM_INTEGER, 20, 2, 1e9, "readings in a row with the same value that raise it" },
	{ "duration", EA_PARAM_DURATION, NAN, 1, 9e15, "time with the same value that raises it (off: only samples)" },
	{ "tolerance", EA_PARAM_NUMBER, 0, 0, INFINITY, "changes up to this size count as the same value" },
};

struct stuck_state {
	double run_value;
	int64_t run_start_ms;
	uint64_t run_length; /* 0: no sample yet */
};

static void stuck_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct stuck_state *st = state;
	double samples = p->v[P_SAMPLES], duration = p->v[P_DURATION];
	int64_t held_ms;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->run_length == 0 || fabs(s->number - st->run_value) > p->v[P_TOLERANCE]){
		st->run_value = s->number;
		st->run_start_ms = s->time_ms;
		st->run_length = 1;
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value changes");
		return;
	}
	st->run_length++;
	held_ms = s->time_ms - st->run_start_ms;
	if((double)st->run_length >= samples || (!isnan(duration) && (double)held_ms >= duration)){
		double ratio = (double)st->run_length / samples;
		if(!isnan(duration) && duration > 0) ratio = fmax(ratio, (double)held_ms / duration);
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.5 + 0.25 * ratio), fmin(1.0, 0.5 + 0.25 * ratio),
				"value %g has not changed for %llu readings over %.0f s; the sensor or its mapper may be frozen",
				st->run_value, (unsigned long long)st->run_length, (double)held_ms / 1000.0);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value held for %llu readings",
				(unsigned long long)st->run_length);
	}
}

const ea_detector_type ea_detector_stuck = {
	.name = "stuck",
	.kind = "stuck",
	.summary = "value unchanged for too many readings or too long",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct stuck_state),
	.numeric_only = true,
	.validate = NULL,
	.observe = stuck_observe,
	.idle = NULL,
};
