/* SPDX-License-Identifier: Apache-2.0
 *
 * det_levelshift.c - `level_shift`: the level moves to a new value and
 * stays there (a step), as distinct from a one-reading spike.
 *
 * Learns a reference level and spread (mean and mean absolute deviation)
 * over the first `learn` readings, then keeps following them slowly while
 * nothing is suspected. Each reading, the median of the last `window`
 * readings is compared with the reference in reference spreads; when it is
 * `threshold` spreads or more away for `persist` readings in a row, a level
 * shift is raised. A spike moves the median of a window very little, so it
 * does not count. Cleared when the median returns, or when the new level
 * has held for `adopt` readings: it then becomes the reference (the
 * operator has been told once).
 *
 * Cost: a copy and insertion sort of `window` values per reading (window
 * at most 32). State: 40 + 8 x window bytes (104 for the default 8).
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHIFT_WINDOW_MAX 32

enum { P_WINDOW, P_THRESHOLD, P_PERSIST, P_LEARN, P_ADOPT };

static const ea_param_spec params[] = {
	{ "window", EA_PARAM_INTEGER, 8, 3, SHIFT_WINDOW_MAX, "recent readings whose median is the current level" },
	{ "threshold", EA_PARAM_NUMBER, 5, 1, 1000, "distance from the reference level, in spreads, that counts as moved" },
	{ "persist", EA_PARAM_INTEGER, 4, 1, 1e6, "readings in a row the level must stay moved" },
	{ "learn", EA_PARAM_INTEGER, 30, 5, 1e9, "readings that define the first reference level" },
	{ "adopt", EA_PARAM_INTEGER, 200, 1, 1e9, "readings after which a new level becomes the reference" },
};

struct shift_state {
	uint64_t readings;
	uint64_t moved;       /* readings in a row with the level moved */
	double ref_level;
	double ref_spread;    /* mean absolute deviation */
	uint32_t head, count; /* ring of recent readings */
	double ring[];
};

static size_t shift_state_size(const ea_params *p)
{
	return sizeof(struct shift_state) + (size_t)p->v[P_WINDOW] * sizeof(double);
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
	double x = s->number, level, spread, distance;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
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
	spread = fmax(1.25 * st->ref_spread, fmax(fabs(st->ref_level) * 1e-6, 1e-12));
	distance = (level - st->ref_level) / spread;
	if(fabs(distance) >= p->v[P_THRESHOLD]){
		st->moved++;
		if((double)st->moved >= p->v[P_ADOPT]){
			/* the new level has held: it is the reference now */
			ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0,
					"level %g has held for %llu readings and is now the reference", level,
					(unsigned long long)st->moved);
			st->ref_level = level;
			st->moved = 0;
			return;
		}
		if((double)st->moved >= p->v[P_PERSIST]){
			double score = fmin(1.0, 0.5 + 0.5 * (fabs(distance) - p->v[P_THRESHOLD]) / p->v[P_THRESHOLD]);
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, fmin(1.0, 0.5 + 0.1 * (double)st->moved),
					"level moved from %g to %g (%.1f spreads) and has stayed for %llu readings",
					st->ref_level, level, distance, (unsigned long long)st->moved);
			return;
		}
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 0.5, "level %g moved %.1f spreads, not yet for long", level, distance);
		return;
	}
	st->moved = 0;
	/* follow the reference slowly while nothing is suspected */
	st->ref_spread += (fabs(x - st->ref_level) - st->ref_spread) / 1000.0;
	st->ref_level += (x - st->ref_level) / 1000.0;
	ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "level %g is within %.1f spreads of %g", level, distance,
			st->ref_level);
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
	.validate = NULL,
	.observe = shift_observe,
	.idle = NULL,
};
