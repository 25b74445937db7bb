/* SPDX-License-Identifier: Apache-2.0
 *
 * det_roc.c - `rate`: a change faster than the physical process can move.
 *
 * A tank cannot fill faster than its pumps, a room cannot warm by 10 degrees
 * in a second: a reading that implies such a rate is a bad reading (a
 * glitch, a unit or scaling mix-up, an injected value). Raised when the
 * change from the last plausible reading, divided by the time between their
 * sample times, exceeds `max_rate` per second, or when the change itself
 * exceeds `max_step` (either or both must be set; max_rate is the one that
 * knows about time).
 *
 * Sample times: a reading with the same or an earlier sample time than the
 * last plausible one has no time to divide by. It is judged against
 * `max_step` alone (no opinion without it) and never becomes the reference,
 * so a late or duplicated reading cannot make the next good one look
 * implausible. The `order` detector reports the times themselves.
 *
 * A raised reading does not become the reference either: after a one-reading
 * glitch, the return to the old level is plausible and clears it. If the next
 * reading is plausible from the raised one (the value really moved and
 * stayed), the new level is taken as the reference and it clears: the jump
 * was reported once.
 *
 * Parameters: max_rate (per second, off), max_step (per reading, off).
 * Score: 1 - 0.5 / (rate / limit), 0.5 just over the limit, 0.9 at 5x.
 *
 * Cost: O(1). State: 40 bytes.
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
	double last;         /* last plausible reading: the reference */
	int64_t last_ms;
	double rejected;     /* the last raised reading, while has_rejected */
	int64_t rejected_ms;
	bool has_last;
	bool has_rejected;
};

static bool rate_validate(const ea_params *p, char *err, size_t len)
{
	if(isnan(p->v[P_MAX_RATE]) && isnan(p->v[P_MAX_STEP])){
		snprintf(err, len, "rate needs max_rate (change per second), max_step (change per reading) or both");
		return false;
	}
	return true;
}

/* How far beyond its limits the move from (from, from_ms) to (x, t_ms) is:
 * the larger of step / max_step and rate / max_rate; 0 when nothing can be
 * judged, <= 1 when plausible. *rate_out is NAN when time did not advance. */
static double excess(const ea_params *p, double from, int64_t from_ms, double x, int64_t t_ms, double *rate_out)
{
	double step = fabs(x - from), worst = 0.0;
	double max_rate = p->v[P_MAX_RATE], max_step = p->v[P_MAX_STEP];

	*rate_out = NAN;
	if(!isnan(max_step)) worst = step > max_step ? (max_step > 0 ? step / max_step : INFINITY) : 0.0;
	if(t_ms > from_ms){
		double rate = step * 1000.0 / (double)(t_ms - from_ms);
		*rate_out = rate;
		if(!isnan(max_rate) && rate > max_rate) worst = fmax(worst, max_rate > 0 ? rate / max_rate : INFINITY);
	}
	return worst;
}

static void rate_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct rate_state *st = state;
	double x = s->number, rate, over, max_rate = p->v[P_MAX_RATE], max_step = p->v[P_MAX_STEP];
	bool forward;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(!st->has_last){
		st->last = x;
		st->last_ms = s->time_ms;
		st->has_last = true;
		v->state = EA_VERDICT_SKIP;
		return;
	}
	forward = s->time_ms > st->last_ms;
	if(!forward && isnan(max_step)){
		v->state = EA_VERDICT_SKIP; /* no time passed and no step limit: no opinion */
		return;
	}
	over = excess(p, st->last, st->last_ms, x, s->time_ms, &rate);
	if(over > 1.0 && st->has_rejected && forward && s->time_ms > st->rejected_ms){
		/* plausible from the raised reading: the level really moved */
		double rate_from_rejected;
		if(excess(p, st->rejected, st->rejected_ms, x, s->time_ms, &rate_from_rejected) <= 1.0){
			st->last = x;
			st->last_ms = s->time_ms;
			st->has_rejected = false;
			ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 0.8,
					"value %g stays at the level it jumped to: taken as the new reference", x);
			return;
		}
	}
	if(over > 1.0){
		double step = x - st->last, score = isinf(over) ? 1.0 : 1.0 - 0.5 / over;
		if(forward){
			st->rejected = x;
			st->rejected_ms = s->time_ms;
			st->has_rejected = true;
		}
		if(!isnan(max_step) && fabs(step) > max_step){
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.9,
					"value jumped by %+g (from %g to %g) in one reading; at most %g is plausible: "
					"a glitch, a unit or scaling error, or an injected value", step, st->last, x, max_step);
		}else{
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.9,
					"value changed by %+g in %.3f s (%.3g per second); at most %g per second is physically "
					"plausible: a glitch, a unit or scaling error, or an injected value",
					step, (double)(s->time_ms - st->last_ms) / 1000.0, rate, max_rate);
		}
		return;
	}
	if(forward){
		st->last = x;
		st->last_ms = s->time_ms;
		st->has_rejected = false;
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "change to %g at %.3g per second is plausible", x, rate);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 0.5,
				"value %g at a sample time not after the last one: within max_step, rate not judged", x);
	}
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
