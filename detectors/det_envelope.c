/* SPDX-License-Identifier: Apache-2.0
 *
 * det_envelope.c - `envelope`: values the device cannot produce.
 *
 * Catches injected or forged values, unit mix-ups and values computed
 * somewhere other than the sensor. Over the first `learn` readings it
 * learns the envelope the device lives in (lowest and highest value) and
 * how the device writes numbers, read from the value's text as reported:
 * - its decimal places: the most it ever used, trailing zeros not counted
 *   ("23.40" is one decimal place, "2.345670e+01" four), so a thermometer
 *   that reports tenths never sends 23.4567 and an integer counter never
 *   sends a fraction;
 * - its step: the largest quantum all its values are whole multiples of,
 *   apart from an offset (the greatest common divisor of their differences,
 *   computed exactly on the digits), so a device that reports in 0.5 steps
 *   never sends 20.3. Judged only when learning saw at least 10 distinct
 *   values (a few values on a coarse grid prove nothing).
 * Afterwards it raises for a value outside the envelope widened by
 * `margin` times its width on each side, or, with `resolution` on, for a
 * value with more decimal places than the device ever used or off its step.
 * An accepted value beyond the envelope moves that bound `adapt` of the way
 * towards it, so slow legitimate growth is followed (a ramp slower than
 * about adapt x margin x width per reading) while an injected excursion
 * is not absorbed; raised values never move it.
 *
 * Parameters (defaults): learn (200), margin (0.5), adapt (0.05),
 * resolution (true).
 *
 * Cost: one pass over the value's text, a gcd (O(log)) per reading while
 * learning. State: 56 bytes.
 */
#include "ea_detector.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_LEARN, P_MARGIN, P_ADAPT, P_RESOLUTION };

static const ea_param_spec params[] = {
	{ "learn", EA_PARAM_INTEGER, 200, 2, 1e9, "readings that define the envelope, the decimal places and the step" },
	{ "margin", EA_PARAM_NUMBER, 0.5, 0, 1e6, "widening of the envelope on each side, in envelope widths" },
	{ "adapt", EA_PARAM_NUMBER, 0.05, 0, 1, "share of the way an accepted value beyond the envelope moves its bound" },
	{ "resolution", EA_PARAM_BOOL, 1, 0, 1, "raise for more decimal places than the device used, or values off its step" },
};

#define MIN_DISTINCT_FOR_STEP 10 /* all on the grid by chance: about 2^-10 */

struct envelope_state {
	double low, high;
	uint64_t readings;
	int64_t reference;   /* first value's digits at `decimals` places */
	uint64_t step;       /* gcd of differences from reference, at `decimals` places; 0: none yet */
	uint64_t distinct;   /* 64-bit sketch of the distinct values seen while learning */
	int32_t decimals;    /* most decimal places seen while learning */
	bool step_unknown;   /* some value's digits did not fit: no step check */
};

/* A number as written: value = digits x 10^-decimals, exactly. */
struct written_number {
	int32_t decimals;   /* places after the point, trailing zeros not counted; >= 0 */
	bool has_digits;    /* digits holds the value (fits in 18 digits) */
	int64_t digits;
};

static const int64_t powers_of_ten[19] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL, 100000000000000LL,
	1000000000000000LL, 10000000000000000LL, 100000000000000000LL, 1000000000000000000LL
};

/* a x 10^k into *out; false on overflow. */
static bool scale_up(int64_t a, int32_t k, int64_t *out)
{
	if(k < 0 || k > 18) return false;
	if(a != 0 && llabs(a) > INT64_MAX / powers_of_ten[k]) return false;
	*out = a * powers_of_ten[k];
	return true;
}

/* Reads "-12.340", "1.5e-3", "2.345670e+01". false for anything else
 * ("0x1A", "inf", junk). */
static bool read_written_number(const char *text, struct written_number *out)
{
	const char *p = text, *int_start, *int_end, *frac_start = NULL, *frac_end = NULL;
	bool negative = false;
	long exponent = 0;
	int32_t frac_len;
	int significant = 0;
	int64_t digits = 0;
	bool overflow = false;
	const char *q;

	while(isspace((unsigned char)*p)) p++;
	if(*p == '-' || *p == '+') negative = *p++ == '-';
	int_start = p;
	while(*p >= '0' && *p <= '9') p++;
	int_end = p;
	if(*p == '.'){
		frac_start = ++p;
		while(*p >= '0' && *p <= '9') p++;
		frac_end = p;
		while(frac_end > frac_start && frac_end[-1] == '0') frac_end--;
	}
	if(p == int_start || (p == int_start + 1 && *int_start == '.')) return false;
	if(*p == 'e' || *p == 'E'){
		char *end = NULL;
		exponent = strtol(p + 1, &end, 10);
		if(end == p + 1) return false;
		p = end;
		if(exponent > 400) exponent = 400;
		if(exponent < -400) exponent = -400;
	}
	while(isspace((unsigned char)*p)) p++;
	if(*p != '\0') return false;

	frac_len = frac_start != NULL ? (int32_t)(frac_end - frac_start) : 0;
	for(q = int_start; q < (frac_start != NULL ? frac_end : int_end) && !overflow; q++){
		if(q == int_end) continue; /* the point */
		if(significant == 0 && *q == '0') continue;
		if(++significant > 18) overflow = true;
		else digits = digits * 10 + (*q - '0');
	}
	out->decimals = frac_len - (int32_t)exponent;
	out->has_digits = !overflow;
	if(out->decimals < 0){
		out->has_digits = out->has_digits && scale_up(digits, -out->decimals, &digits);
		out->decimals = 0;
	}
	out->digits = negative ? -digits : digits;
	return true;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while(b != 0){
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static uint64_t abs_diff(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* Learns one written number's decimal places and step. */
static void learn_writing(struct envelope_state *st, const struct written_number *w, bool first)
{
	int64_t scaled;

	if(first){
		st->decimals = w->decimals;
		st->reference = w->digits;
		st->step = 0;
		st->step_unknown = !w->has_digits;
		return;
	}
	if(w->decimals > st->decimals){ /* finer than before: rescale what was learnt */
		int32_t k = w->decimals - st->decimals;
		int64_t step = (int64_t)st->step;
		if(!st->step_unknown && (st->step > (uint64_t)INT64_MAX || !scale_up(st->reference, k, &st->reference)
				|| !scale_up(step, k, &step))) st->step_unknown = true;
		st->step = (uint64_t)step;
		st->decimals = w->decimals;
	}
	if(st->step_unknown) return;
	if(!w->has_digits || !scale_up(w->digits, st->decimals - w->decimals, &scaled)){
		st->step_unknown = true;
		return;
	}
	st->step = gcd_u64(st->step, abs_diff(scaled, st->reference));
}

/* true when the step is proven and the written number is off it. */
static bool off_step(const struct envelope_state *st, const struct written_number *w)
{
	int64_t scaled;

	if(st->step_unknown || st->step <= 1 || __builtin_popcountll(st->distinct) < MIN_DISTINCT_FOR_STEP) return false;
	if(!w->has_digits || !scale_up(w->digits, st->decimals - w->decimals, &scaled)) return false;
	return abs_diff(scaled, st->reference) % st->step != 0;
}

static void envelope_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct envelope_state *st = state;
	double x = s->number, width, margin, lo, hi;
	struct written_number w = { 0, false, 0 };
	bool written = read_written_number(s->text != NULL ? s->text : "", &w);

	if(ea_sample_is_boolean(s) || !isfinite(x)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->readings < UINT64_MAX) st->readings++;
	if(st->readings == 1){
		st->low = st->high = x;
		st->step_unknown = true;
		st->decimals = 0;
	}
	if((double)st->readings <= p->v[P_LEARN]){
		uint64_t bits;
		if(x < st->low) st->low = x;
		if(x > st->high) st->high = x;
		memcpy(&bits, &x, sizeof(bits));
		st->distinct |= UINT64_C(1) << (ea_hash_bytes(EA_HASH_SEED, &bits, sizeof(bits)) & 63);
		if(written) learn_writing(st, &w, st->readings == 1);
		v->state = EA_VERDICT_SKIP;
		return;
	}
	width = st->high - st->low;
	if(width <= 0) width = fmax(fabs(st->high) * 0.01, 1e-9);
	margin = p->v[P_MARGIN] * width;
	lo = st->low - margin;
	hi = st->high + margin;
	if(x < lo || x > hi){
		double beyond = (x < lo ? lo - x : x - hi) / width;
		ea_verdict_set(v, EA_VERDICT_ANOMALY, fmin(1.0, 0.6 + 0.4 * beyond), 0.8,
				"value %g is outside everything this device reported (%g..%g, allowing %g either side): injected, or in another unit?",
				x, st->low, st->high, margin);
	}else if(p->v[P_RESOLUTION] != 0 && written && w.decimals > st->decimals){
		if(st->decimals == 0)
			ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.7, 0.7,
					"value %.40s has a fraction; this device only ever reported whole numbers: not from its sensor (injected or computed)?",
					s->text);
		else
			ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.7, 0.7,
					"value %.40s has %d decimal places; this device never reported more than %d: not from its sensor (injected or computed)?",
					s->text, (int)w.decimals, (int)st->decimals);
	}else if(p->v[P_RESOLUTION] != 0 && written && off_step(st, &w)){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.7, 0.7,
				"value %.40s is off this device's step of %g (all %.0f learnt readings were on it): not from its sensor (injected or computed)?",
				s->text, (double)st->step / pow(10.0, st->decimals), p->v[P_LEARN]);
	}else{
		if(x < st->low) st->low += p->v[P_ADAPT] * (x - st->low);
		if(x > st->high) st->high += p->v[P_ADAPT] * (x - st->high);
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value %g fits the device's envelope %g..%g", x, st->low, st->high);
	}
}

const ea_detector_type ea_detector_envelope = {
	.name = "envelope",
	.kind = "injected",
	.summary = "values outside the learned envelope, finer than the device's decimals or off its step",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct envelope_state),
	.numeric_only = true,
	.validate = NULL,
	.observe = envelope_observe,
	.idle = NULL,
};
