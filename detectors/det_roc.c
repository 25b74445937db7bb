/* SPDX-License-Identifier: Apache-2.0
 *
 * det_roc.c - `rate`: a change faster than the physical process can move.
 *
 * A tank cannot fill faster than its pumps, a room cannot warm by 10 degrees
 * in a second: a reading that implies such a rate is a bad reading (a
 * glitch, a unit mix-up, an injected value). Raised when the change from
 * the previous reading, divided by the time between their sample times,
 * exceeds `max_rate` per second, or when the change itself exceeds
 * `max_step` (either or both must be set). Readings with the same or an
 * earlier sample time than the previous one are only checked against
 * `max_step` (no time has passed to divide by; the `order` detector reports
 * the times themselves). Clears at the next reading within the limits.
 *
 * Cost: O(1). State: 24 bytes.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>

enum { P_MAX_RATE, P_MAX_STEP };

static const ea_param_spec params[] = {
	{ "max_rate", EA_PARAM_NUMBER, NAN, 0, INFINITY, "largest plausible change per second (the physical limit)" },
	{ "max_step", EA_PARAM_NUMBER, NAN, 0, INFINITY, "largest plausible change from one reading to the next" },
};

struct rate_state {
	double last;
	int64_t last_ms;
	uint64_t readings;
};

static bool rate_validate(const ea_params *p, char *err, size_t len)
{
	if(isnan(p->v[P_MAX_RATE]) && isnan(p->v[P_MAX_STEP])){
		snprintf(err, len, "rate needs max_rate (change per second), max_step (change per reading) or both");
		return false;
	}
	return true;
}

static void rate_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct rate_state *st = state;
	double x = s->number, step, max_rate = p->v[P_MAX_RATE], max_step = p->v[P_MAX_STEP];
	int64_t dt_ms;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->readings++ == 0){
		st->last = x;
		st->last_ms = s->time_ms;
		v->state = EA_VERDICT_SKIP;
		return;
	}
	step = x - st->last;
	dt_ms = s->time_ms - st->last_ms;
	if(!isnan(max_step) && fabs(step) > max_step){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.5 + 0.1 * fabs(step) / fmax(max_step, 1e-300)), 0.9,
				"value jumped by %g (from %g to %g) in one reading; at most %g is plausible", step, st->last, x,
				max_step);
	}else if(!isnan(max_rate) && dt_ms > 0 && fabs(step) * 1000.0 / (double)dt_ms > max_rate){
		double rate = fabs(step) * 1000.0 / (double)dt_ms;
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.5 + 0.1 * rate / fmax(max_rate, 1e-300)), 0.9,
				"value changed by %g in %.3f s (%g per second); at most %g per second is physically plausible",
				step, (double)dt_ms / 1000.0, rate, max_rate);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "change %g in %.3f s is plausible", step, (double)dt_ms / 1000.0);
	}
	st->last = x;
	if(dt_ms > 0) st->last_ms = s->time_ms;
}

const ea_detector_type ea_detector_rate = {
	.name = "rate",
	.kind = "rate-of-change",
	.summary = "change faster than the physical limit per second or per reading",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct rate_state),
	.numeric_only = true,
	.validate = rate_validate,
	.observe = rate_observe,
	.idle = NULL,
};
