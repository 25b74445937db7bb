/* SPDX-License-Identifier: Apache-2.0
 *
 * det_envelope.c - `envelope`: values the device cannot produce.
 *
 * Catches injected or forged values and unit mix-ups. Over the first
 * `learn` readings it learns the envelope the device lives in (lowest and
 * highest value) and how it writes numbers: the most decimal places it
 * ever reported (a device with a 0.1 resolution never sends 23.4567, an
 * integer counter never sends a fraction). Afterwards it raises for a
 * value outside the envelope widened by `margin` times its width on each
 * side, or, with `resolution` on, for a value with more decimal places
 * than the device ever used. Values inside the widened envelope widen it
 * (slow, legitimate growth is followed). Decimal places are read from the
 * value as reported (trailing zeros of a JSON number do not survive JSON,
 * so "23.40" as a string counts 2, 23.40 as a number counts 1).
 *
 * Cost: a scan of the value's text. State: 32 bytes.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_LEARN, P_MARGIN, P_RESOLUTION };

static const ea_param_spec params[] = {
	{ "learn", EA_PARAM_INTEGER, 200, 2, 1e9, "readings that define the envelope and the resolution" },
	{ "margin", EA_PARAM_NUMBER, 0.5, 0, 1e6, "widening of the envelope on each side, in envelope widths" },
	{ "resolution", EA_PARAM_BOOL, 1, 0, 1, "raise for more decimal places than the device ever used" },
};

struct envelope_state {
	double low, high;
	uint64_t readings;
	int32_t decimals; /* most decimal places seen while learning */
};

/* Decimal places of a number as written: "23.45" 2, "7" 0, "1.5e-3" 4. */
static int32_t decimal_places(const char *text)
{
	const char *dot = strchr(text, '.'), *e = strpbrk(text, "eE"), *p;
	int32_t places = 0;
	long exponent = 0;

	if(dot != NULL && (e == NULL || dot < e)){
		for(p = dot + 1; *p >= '0' && *p <= '9'; p++) places++;
	}
	if(e != NULL){
		exponent = strtol(e + 1, NULL, 10);
		if(exponent > 400) exponent = 400;
		if(exponent < -400) exponent = -400;
		places -= (int32_t)exponent;
	}
	return places < 0 ? 0 : places;
}

static void envelope_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct envelope_state *st = state;
	double x = s->number, width, margin, lo, hi;
	int32_t places = decimal_places(s->text != NULL ? s->text : "");

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	st->readings++;
	if(st->readings == 1){
		st->low = st->high = x;
		st->decimals = places;
	}
	if((double)st->readings <= p->v[P_LEARN]){
		if(x < st->low) st->low = x;
		if(x > st->high) st->high = x;
		if(places > st->decimals) st->decimals = places;
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
				"value %g is outside everything this device reported (%g..%g, allowing %g either side): injected or in the wrong unit?",
				x, st->low, st->high, margin);
	}else if(p->v[P_RESOLUTION] != 0 && places > st->decimals){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.7, 0.7,
				"value %s has %d decimal places; this device never reported more than %d: not from its sensor?",
				s->text, (int)places, (int)st->decimals);
	}else{
		if(x < st->low) st->low = x;
		if(x > st->high) st->high = x;
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value %g fits the device's envelope %g..%g", x, st->low, st->high);
	}
}

const ea_detector_type ea_detector_envelope = {
	.name = "envelope",
	.kind = "injected",
	.summary = "values outside the learned envelope or finer than the device's resolution",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct envelope_state),
	.numeric_only = true,
	.validate = NULL,
	.observe = envelope_observe,
	.idle = NULL,
};
