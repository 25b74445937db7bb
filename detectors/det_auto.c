/* SPDX-License-Identifier: Apache-2.0
 *
 * det_auto.c - `auto`: an adaptive detector for any numeric series nobody
 * configured.
 *
 * It learns the series as it streams, with no look-ahead (it never knows
 * the series' global minimum, maximum or length), and scores each reading
 * in [0, 1] by three kinds of novelty:
 *
 * - range: how far the value lies beyond the lowest and highest values seen
 *   so far, in units of `range_tolerance` times that range (a value 1 % of
 *   the range above the highest ever scores 0.5 with the default 0.02);
 * - context: the value is quantised into `levels` equal bins of the range
 *   seen so far, and the sequences of the last 1..`context` bins, plus the
 *   pair (hour of day, bin) once the series spans three days, are looked up
 *   in a 2048-bit set of what was seen before (hashed; a false "seen" from a
 *   collision only makes it quieter; one 64-bit word is cleared every 1024
 *   readings so the set keeps recent history and does not fill up). The
 *   score is the fraction of these contexts not seen, times
 *   `context_weight`;
 * - daily profile: the level of each half hour of the day is learnt; once
 *   the series spans three days and the profile predicts it at least twice
 *   as well as its mean does, a run of readings far off the profile (the
 *   smoothed error at 3 to 4 times its usual size) scores up to
 *   `daily_weight`. One reading adds at most 20 typical errors, so a lone
 *   spike never scores here (the range or the context catch it).
 *
 * The reading's score is the largest of the three. It raises when the score
 * reaches `threshold`; for the next `rest` readings it does not raise again
 * (and reports score 0), so one disturbance gives one result. It learns
 * for `learn` readings before it judges. A raise is a single reading: the
 * next reading clears it unless it is unusual too.
 *
 * Quality on the Numenta Anomaly Benchmark (make bench-quality): see
 * README.md. The defaults were chosen on that corpus as one set for all
 * files (never per file); a split-half check (tests/bench/bench_quality.c
 * --subset odd|even) gives the same threshold on either half.
 *
 * Cost: a few hashes and bit tests per reading, no allocation, no loop
 * longer than `context`. State: 528 bytes per series.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AUTO_SET_BITS 2048
#define AUTO_CONTEXT_MAX 8
/* One of the set's 32 words is cleared every this many readings: contexts
 * not seen for about 32 x 1024 readings are forgotten. */
#define AUTO_FORGET_EVERY 1024
#define AUTO_LEVELS_MAX 64
#define AUTO_DAY_MS 86400000LL
#define AUTO_SEASON_AFTER_MS (3 * AUTO_DAY_MS)
/* The daily profile: the level in each half hour of the day. */
#define AUTO_DAY_SLOTS 48
#define AUTO_DAY_SLOT_ALPHA 0.6    /* weight of today's reading in its slot */
#define AUTO_DAY_ERROR_ALPHA 0.003 /* averaging of the typical errors */
#define AUTO_DAY_SMOOTH 0.9        /* smoothing of the error ratio over readings */
#define AUTO_DAY_USEFUL 0.5        /* used when its error is below this share of the error around the mean */
#define AUTO_DAY_RATIO_START 3.0   /* smoothed error ratio at which the score starts */
#define AUTO_DAY_RATIO_SPAN 1.0    /* ... and how much more gives score 1 */
#define AUTO_DAY_RATIO_CAP 20.0    /* one reading adds at most this (a lone spike alone never scores) */

enum { P_THRESHOLD, P_LEARN, P_REST, P_RANGE_TOLERANCE, P_LEVELS, P_CONTEXT, P_CONTEXT_WEIGHT, P_DAILY_WEIGHT };

static const ea_param_spec params[] = {
	{ "threshold", EA_PARAM_NUMBER, 0.275, 0.001, 1, "score (0..1) at which it raises" },
	{ "learn", EA_PARAM_INTEGER, 150, 2, 1e9, "readings learnt before it judges" },
	{ "rest", EA_PARAM_INTEGER, 20, 0, 1e9, "readings after a raise before it can raise again" },
	{ "range_tolerance", EA_PARAM_NUMBER, 0.02, 1e-6, 100, "fraction of the range seen beyond which a new extreme scores 1" },
	{ "levels", EA_PARAM_INTEGER, 16, 2, AUTO_LEVELS_MAX, "bins the range seen is cut into for contexts" },
	{ "context", EA_PARAM_INTEGER, 6, 1, AUTO_CONTEXT_MAX, "longest sequence of bins remembered" },
	{ "context_weight", EA_PARAM_NUMBER, 0.4, 0, 1, "score of a reading whose contexts are all new" },
	{ "daily_weight", EA_PARAM_NUMBER, 1, 0, 1, "score of a reading far off its daily profile (0: no daily profile)" },
};

struct auto_state {
	uint64_t readings;
	uint64_t since_raise;   /* readings since the last raise */
	int64_t first_ms;       /* sample time of the first reading */
	double low, high;       /* range seen */
	double level;           /* running mean, scales the range of a flat series */
	uint8_t bins[AUTO_CONTEXT_MAX]; /* newest first; 0 below, levels+1 above the range */
	uint64_t seen[AUTO_SET_BITS / 64];
	double day_error;       /* typical |x - profile| */
	double mean_error;      /* typical |x - level| */
	double day_ratio;       /* smoothed |x - profile| / day_error */
	float day_profile[AUTO_DAY_SLOTS]; /* NAN: slot not seen yet */
};

/* A 64-bit finaliser (MurmurHash3's fmix64): spreads context keys over
 * the set. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Marks key in the set; true if it was new. */
static bool remember(struct auto_state *st, uint64_t key)
{
	uint64_t bit = key % AUTO_SET_BITS, mask = 1ULL << (bit % 64);
	bool fresh = (st->seen[bit / 64] & mask) == 0;

	st->seen[bit / 64] |= mask;
	return fresh;
}

static double range_novelty(const struct auto_state *st, double x, double tolerance)
{
	double range = st->high - st->low, beyond = 0;

	if(range <= 0) range = fmax(fabs(st->level) * 1e-3, 1e-9);
	if(x > st->high) beyond = x - st->high;
	else if(x < st->low) beyond = st->low - x;
	return fmin(1.0, beyond / (range * tolerance));
}

/* Pushes the bin of x and returns the fraction of contexts never seen. */
static double context_novelty(struct auto_state *st, const ea_params *p, double x, int64_t time_ms)
{
	int levels = (int)p->v[P_LEVELS], context = (int)p->v[P_CONTEXT], bin, k, fresh = 0, contexts = context;
	double range = st->high - st->low;
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	{
		/* clamp as a double: huge or infinite values must not overflow the cast */
		double pos = range > 0 ? floor((x - st->low) / range * levels) : 0;
		if(isnan(pos)) pos = 0;
		bin = pos < -1 ? -1 : (pos > levels ? levels : (int)pos);
	}
	memmove(st->bins + 1, st->bins, AUTO_CONTEXT_MAX - 1);
	st->bins[0] = (uint8_t)(bin + 1);
	for(k = 0; k < context; k++){
		h = mix(h ^ (((uint64_t)st->bins[k] + 1) * 0x100000001b3ULL + (uint64_t)k));
		if(remember(st, h)) fresh++;
	}
	/* the hour of day and the bin: a daily pattern broken */
	{
		uint64_t hour = (uint64_t)((time_ms % AUTO_DAY_MS + AUTO_DAY_MS) % AUTO_DAY_MS) / 3600000;
		bool new_pair = remember(st, mix(0x51ed27ULL ^ (hour << 8) ^ (uint64_t)st->bins[0]));
		contexts++;
		if(new_pair && time_ms - st->first_ms >= AUTO_SEASON_AFTER_MS) fresh++;
	}
	return (double)fresh / contexts;
}

/* How far x is from the daily profile, as a score in [0, 1]; updates the
 * profile. Scores only once the series spans three days and the profile
 * predicts it clearly better than its mean does. */
static double daily_novelty(struct auto_state *st, double x, int64_t time_ms, double *expected)
{
	size_t slot = (size_t)((time_ms % AUTO_DAY_MS + AUTO_DAY_MS) % AUTO_DAY_MS * AUTO_DAY_SLOTS / AUTO_DAY_MS);
	double profile = st->day_profile[slot], error, score = 0;

	*expected = profile;
	if(isnan(profile)){
		st->day_profile[slot] = (float)x;
		return 0;
	}
	error = fabs(x - profile);
	st->day_ratio = AUTO_DAY_SMOOTH * st->day_ratio + (1.0 - AUTO_DAY_SMOOTH) * fmin(AUTO_DAY_RATIO_CAP, error / fmax(st->day_error, 1e-12));
	if(time_ms - st->first_ms >= AUTO_SEASON_AFTER_MS && st->day_error < AUTO_DAY_USEFUL * st->mean_error)
		score = fmin(1.0, fmax(0.0, (st->day_ratio - AUTO_DAY_RATIO_START) / AUTO_DAY_RATIO_SPAN));
	st->day_error += AUTO_DAY_ERROR_ALPHA * (error - st->day_error);
	st->mean_error += AUTO_DAY_ERROR_ALPHA * (fabs(x - st->level) - st->mean_error);
	st->day_profile[slot] = (float)(profile + AUTO_DAY_SLOT_ALPHA * (x - profile));
	return score;
}

static void auto_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct auto_state *st = state;
	double x = s->number, by_range, by_context, by_day = 0, expected = NAN, score;
	size_t i;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->readings == 0){
		st->low = st->high = st->level = x;
		st->first_ms = s->time_ms;
		st->since_raise = UINT64_MAX / 2;
		st->day_error = st->mean_error = fmax(fabs(x) * 1e-3, 1e-9);
		for(i = 0; i < AUTO_DAY_SLOTS; i++) st->day_profile[i] = NAN;
	}
	by_range = range_novelty(st, x, p->v[P_RANGE_TOLERANCE]);
	by_context = p->v[P_CONTEXT_WEIGHT] * context_novelty(st, p, x, s->time_ms);
	if(p->v[P_DAILY_WEIGHT] > 0) by_day = p->v[P_DAILY_WEIGHT] * daily_novelty(st, x, s->time_ms, &expected);
	score = fmax(by_range, fmax(by_context, by_day));

	st->readings++;
	st->level += (x - st->level) / (double)(st->readings < 1000 ? st->readings : 1000);
	if(x < st->low) st->low = x;
	if(x > st->high) st->high = x;
	st->since_raise++;
	/* forget slowly, so the set never fills up and stays sensitive */
	if(st->readings % AUTO_FORGET_EVERY == 0)
		st->seen[(st->readings / AUTO_FORGET_EVERY) % (AUTO_SET_BITS / 64)] = 0;

	if((double)st->readings <= p->v[P_LEARN]){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if((double)st->since_raise <= p->v[P_REST]) score = 0;
	if(score >= p->v[P_THRESHOLD]){
		st->since_raise = 0;
		if(by_range >= by_context){
			/* the range already includes x */
			if(x >= st->high)
				ea_verdict_set(v, EA_VERDICT_ANOMALY, score, score,
						"value %g is above the highest of %llu readings so far; never this high before",
						x, (unsigned long long)st->readings - 1);
			else
				ea_verdict_set(v, EA_VERDICT_ANOMALY, score, score,
						"value %g is below the lowest of %llu readings so far; never this low before",
						x, (unsigned long long)st->readings - 1);
		}else if(by_day > by_context){
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, score,
					"value %g is far from the usual %g at this time of day", x, expected);
		}else{
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, score,
					"value %g breaks the series' usual pattern (%.0f%% of its recent sequence never seen before)",
					x, 100.0 * by_context / fmax(p->v[P_CONTEXT_WEIGHT], 1e-9));
		}
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, score, 1.0 - score, "value %g is usual for this series (score %.2f)",
				x, score);
	}
}

const ea_detector_type ea_detector_auto = {
	.name = "auto",
	.kind = "unusual",
	.summary = "adaptive: values or sequences this series never showed",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct auto_state),
	.numeric_only = true,
	.validate = NULL,
	.observe = auto_observe,
	.idle = NULL,
};
