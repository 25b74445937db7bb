/* SPDX-License-Identifier: Apache-2.0
 *
 * det_levelshift.c - `level_shift`: the level moves to a new value and
 * stays there (a step), as distinct from a one-reading spike (`spike`) and
 * from a slow departure (`drift`).
 *
 * Two levels are compared each reading: the current one, the median of the
 * last `window` readings, and a reference one learnt before them. The
 * reference (level and spread, the mean absolute deviation) is learnt over
 * the first `learn` readings, then follows the signal as an average over
 * about `reference` readings, fed with each reading as it leaves the recent
 * window, so the readings being judged never pull the reference towards
 * themselves: a slow cycle is followed, a step is not. While the current
 * level is 3/4 of the threshold away or more, the reference holds still (a
 * step just over the threshold cannot be absorbed before it is judged; a
 * level that stays there for `adopt` readings becomes the reference). When
 * it is `threshold` reference spreads or more away for `persist` readings in
 * a row, a level shift is raised. A spike moves the median of the window
 * very little and does not count. Once raised, it stays raised while the
 * level stays beyond 3/4 of the threshold; it clears when the level returns,
 * or when the new level has held for `adopt` readings: the detector has then
 * re-learnt it as the reference (the operator was told once). A series that
 * was exactly constant while learning has no spread: any lasting move of its
 * median then counts (the spread is floored at a millionth of the level).
 *
 * Parameters (defaults): window (8), threshold (5 spreads), persist (4),
 * learn (30), adopt (200), reference (100). adopt must exceed persist, or a
 * shift would be adopted before it is ever raised.
 *
 * Measured with the defaults on seeded Gaussian noise (10 seeds): a step of
 * 6 sd is raised 7 to 13 readings after it starts, 8 sd after 7, 5 sd in 9
 * of 10 runs (after 10 to 95); nothing raised in 5 x 300,000 readings of white noise, none in
 * 300,000 of AR(1) noise with phi 0.9 and 3 episodes with phi 0.98 (a wander
 * of 5 spreads with a correlation time of 50 readings).
 *
 * Cost: a copy and insertion sort of `window` values per reading, about
 * 90 ns (window at most 32). State: 40 + 8 x window bytes (104 for the
 * default 8, 296 at most).
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHIFT_WINDOW_MAX 32
/* 1.2533 x the mean absolute deviation estimates the standard deviation of
 * Gaussian noise: thresholds read as standard deviations. */
#define MAD_TO_SD 1.2533
/* Share of the threshold from which the reference holds still, and under
 * which a raised shift clears. */
#define HOLD_SHARE 0.75

enum { P_WINDOW, P_THRESHOLD, P_PERSIST, P_LEARN, P_ADOPT, P_REFERENCE };

static const ea_param_spec params[] = {
	{ "window", EA_PARAM_INTEGER, 8, 3, SHIFT_WINDOW_MAX, "recent readings whose median is the current level" },
	{ "threshold", EA_PARAM_NUMBER, 5, 1, 1000, "distance from the reference level, in spreads, that counts as moved" },
	{ "persist", EA_PARAM_INTEGER, 4, 1, 1e5, "readings in a row the level must stay moved" },
	{ "learn", EA_PARAM_INTEGER, 30, 5, 1e9, "readings that define the first reference level" },
	{ "adopt", EA_PARAM_INTEGER, 200, 2, 1e6, "readings after which a new level becomes the reference (clears)" },
	{ "reference", EA_PARAM_INTEGER, 100, 10, 1e6, "readings the reference level averages over as it follows slow changes" },
};

struct shift_state {
	uint64_t readings;
	uint32_t moved;       /* readings in a row with the level moved */
	uint32_t doubtful;    /* readings in a row between HOLD_SHARE x threshold
	                       * and the threshold: the reference holds still */
	double ref_level;
	double ref_spread;    /* mean absolute deviation from ref_level */
	uint32_t head, count; /* ring of the last `window` readings */
	double ring[];
};

static size_t shift_state_size(const ea_params *p)
{
	return sizeof(struct shift_state) + (size_t)p->v[P_WINDOW] * sizeof(double);
}

static bool shift_validate(const ea_params *p, char *err, size_t len)
{
	if(p->v[P_ADOPT] <= p->v[P_PERSIST]){
		snprintf(err, len, "level_shift adopt %g must be larger than persist %g: a new level would become the "
				"reference before it is ever raised", p->v[P_ADOPT], p->v[P_PERSIST]);
		return false;
	}
	return true;
}

static double window_median(const struct shift_state *st)
{
	double sorted[SHIFT_WINDOW_MAX];
	uint32_t i, j, n = st->count;

	for(i = 0; i < n; i++){
		double x = st->ring[i];
		for(j = i; j > 0 && sorted[j - 1] > x; j--) sorted[j] = sorted[j - 1];
		sorted[j] = x;
	}
	return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

static void shift_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct shift_state *st = state;
	uint32_t window = (uint32_t)p->v[P_WINDOW];
	double x = s->number, leaving = NAN, level, spread, distance, bar;
	bool raised;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->count == window) leaving = st->ring[st->head];
	st->ring[st->head] = x;
	st->head = (st->head + 1) % window;
	if(st->count < window) st->count++;
	st->readings++;

	if((double)st->readings <= p->v[P_LEARN]){
		double a = 1.0 / (double)st->readings;
		if(st->readings == 1) st->ref_level = x;
		st->ref_spread += a * (fabs(x - st->ref_level) - st->ref_spread);
		st->ref_level += a * (x - st->ref_level);
		v->state = EA_VERDICT_SKIP;
		return;
	}
	level = window_median(st);
	/* the spread floor: a millionth of the level, or tiny for a level of 0 */
	spread = fmax(MAD_TO_SD * st->ref_spread, fmax(fabs(st->ref_level) * 1e-6, 1e-12));
	distance = (level - st->ref_level) / spread;
	raised = (double)st->moved >= p->v[P_PERSIST];
	/* hysteresis: a raised shift stays raised until the level is well back */
	bar = raised ? HOLD_SHARE * p->v[P_THRESHOLD] : p->v[P_THRESHOLD];
	if(fabs(distance) >= bar){
		st->moved++;
		st->doubtful = 0;
		if((double)st->moved >= p->v[P_ADOPT]){
			/* the new level has held: it is the reference now */
			ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0,
					"level %g has held for %u readings and is now the reference (was %g)", level,
					(unsigned)st->moved, st->ref_level);
			st->ref_level = level;
			st->moved = 0;
			return;
		}
		if((double)st->moved >= p->v[P_PERSIST]){
			double excess = (fabs(distance) - p->v[P_THRESHOLD]) / p->v[P_THRESHOLD];
			double score = fmin(1.0, 0.5 + 0.5 * fmax(0.0, excess));
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, fmin(1.0, 0.5 + 0.1 * (double)st->moved),
					"level moved from %g to %g (%+.1f spreads of %.3g) for %u readings; a lasting step: "
					"check for a changed set-point or load, a recalibration, a moved or replaced sensor",
					st->ref_level, level, distance, spread, (unsigned)st->moved);
			return;
		}
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 0.5, "level %g moved %+.1f spreads from %g, not yet for long",
				level, distance, st->ref_level);
		return;
	}
	st->moved = 0;
	if(fabs(distance) >= HOLD_SHARE * p->v[P_THRESHOLD]){
		/* nearly moved: the reference holds still, so a step just over the
		 * threshold cannot be absorbed by it before it is judged; a level
		 * that stays there for `adopt` readings becomes the reference */
		if((double)++st->doubtful >= p->v[P_ADOPT]){
			st->ref_level = level;
			st->doubtful = 0;
		}
	}else{
		/* nothing suspected: the reading that left the window joins the
		 * reference; its deviation is capped at 4 spreads, so an old spike
		 * cannot inflate the spread */
		double a = 1.0 / p->v[P_REFERENCE];
		st->doubtful = 0;
		if(!isnan(leaving)){
			st->ref_spread += a * (fmin(fabs(leaving - st->ref_level), 4.0 * spread) - st->ref_spread);
			st->ref_level += a * (leaving - st->ref_level);
		}
	}
	ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "level %g is within %.1f spreads of the reference %g", level,
			fabs(distance), st->ref_level);
}

const ea_detector_type ea_detector_level_shift = {
	.name = "level_shift",
	.kind = "level-shift",
	.summary = "the level moves to a new value and stays there",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct shift_state) + SHIFT_WINDOW_MAX * sizeof(double),
	.state_size_for = shift_state_size,
	.numeric_only = true,
	.validate = shift_validate,
	.observe = shift_observe,
	.idle = NULL,
};
