/* SPDX-License-Identifier: Apache-2.0
 *
 * det_flat.c - `flatline`: the signal still moves, but only inside a
 * noise floor far below what it did when it was healthy.
 *
 * Catches a sensor whose element has failed while its electronics still
 * add a little noise (a thermocouple open circuit, a clogged pressure
 * port): the value is not exactly repeated, so `stuck` does not see it.
 * Learns the typical change between readings (mean absolute difference)
 * over the first `learn` readings, then follows it slowly while healthy.
 * The recent typical change is the same measure over about `window`
 * readings; it raises when that falls below `ratio` times the healthy one
 * (or, with `floor` set, below that absolute change). Clears when the
 * recent change is back above twice the limit. A signal that was quiet
 * from the start has a small healthy change and is not flagged. One that
 * was exactly constant while learning (a square wave, a set-point) has
 * plateaus as its normal and is judged only against `floor` when that is
 * set (judging it against what it did later fired on every plateau of
 * NAB's square waves); `stuck` sees frozen values. The healthy change
 * follows the signal with weight 1/1000 per reading while nothing is
 * raised, so a decline slower than that is taken as normal. The typical
 * change between readings, not the spread around a mean, is measured, so a
 * slow trend or cycle does not hide a dead sensor.
 *
 * Parameters (defaults): learn (50), window (20), ratio (0.1), floor (off).
 *
 * Cost: O(1) per reading. State: 48 bytes.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>

enum { P_LEARN, P_WINDOW, P_RATIO, P_FLOOR };

static const ea_param_spec params[] = {
	{ "learn", EA_PARAM_INTEGER, 50, 5, 1e9, "readings that define the healthy change between readings" },
	{ "window", EA_PARAM_INTEGER, 20, 3, 1e6, "readings over which the recent change is averaged" },
	{ "ratio", EA_PARAM_NUMBER, 0.1, 0.0001, 0.9, "share of the healthy change under which it raises" },
	{ "floor", EA_PARAM_NUMBER, NAN, 0, INFINITY, "absolute change between readings under which it raises (off)" },
};

struct flat_state {
	uint64_t readings;
	double last;
	double healthy;  /* mean |difference| while healthy */
	double recent;   /* mean |difference| over about `window` readings */
	uint64_t since_learn;
	bool raised;
};

static void flat_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct flat_state *st = state;
	double x = s->number, diff, limit, window = p->v[P_WINDOW];

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	st->readings++;
	if(st->readings == 1){
		st->last = x;
		v->state = EA_VERDICT_SKIP;
		return;
	}
	diff = fabs(x - st->last);
	st->last = x;
	if((double)st->readings <= p->v[P_LEARN] + 1){
		st->healthy += (diff - st->healthy) / (double)(st->readings - 1);
		st->recent = st->healthy;
		v->state = EA_VERDICT_SKIP;
		return;
	}
	st->since_learn++;
	st->recent += (diff - st->recent) / window;
	limit = p->v[P_RATIO] * st->healthy;
	if(!isnan(p->v[P_FLOOR])) limit = fmax(limit, p->v[P_FLOOR]);
	if(limit <= 0 || (double)st->since_learn < window){
		/* nothing to judge yet, or never: a signal that was exactly
		 * constant while learning (plateaus are its normal) without a floor */
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->recent < limit || (st->raised && st->recent < 2 * limit)){
		st->raised = true;
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.5 + 0.5 * (1.0 - st->recent / limit)), 0.8,
				"value %g only jitters: typical change %.3g per reading against %.3g when healthy; "
				"check the sensing element, its wiring or a blocked port", x, st->recent, st->healthy);
		return;
	}
	st->raised = false;
	/* follow the healthy change slowly */
	st->healthy += (diff - st->healthy) / 1000.0;
	ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "typical change %g per reading (healthy %g)", st->recent, st->healthy);
}

const ea_detector_type ea_detector_flatline = {
	.name = "flatline",
	.kind = "flatline",
	.summary = "the signal only jitters inside a noise floor",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct flat_state),
	.numeric_only = true,
	.validate = NULL,
	.observe = flat_observe,
	.idle = NULL,
};
