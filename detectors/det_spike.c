/* SPDX-License-Identifier: Apache-2.0
 *
 * det_spike.c - `spike`: a value far from the recent behaviour of its
 * series, measured robustly.
 *
 * Keeps the last `window` values; a new value is anomalous when its distance
 * from their median exceeds `threshold` times their robust spread
 * (1.4826 x median absolute deviation, floored by `min_deviation` and by a
 * millionth of the level). Learns for `min_samples` readings first. A
 * spike clears as soon as values return; a lasting level shift clears once
 * half the window has moved to the new level.
 * Cost: O(window) per sample (median by insertion into a sorted copy).
 * State: 8 x 64 + 8 bytes per series.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SPIKE_WINDOW_MAX 64

enum { P_WINDOW, P_THRESHOLD, P_MIN_SAMPLES, P_MIN_DEVIATION };

static const ea_param_spec params[] = {
	{ "window", EA_PARAM_INTEGER, 32, 8, SPIKE_WINDOW_MAX, "recent readings that define normal" },
	{ "threshold", EA_PARAM_NUMBER, 6, 1, 1000, "robust deviations from the median that raise it" },
	{ "min_samples", EA_PARAM_INTEGER, 10, 3, SPIKE_WINDOW_MAX, "readings to learn before judging" },
	{ "min_deviation", EA_PARAM_NUMBER, 0, 0, INFINITY, "smallest spread assumed (sensor resolution)" },
};

struct spike_state {
	double values[SPIKE_WINDOW_MAX];
	uint32_t head;  /* next slot to write */
	uint32_t count; /* values held, <= window */
};

static bool spike_validate(const ea_params *p, char *err, size_t len)
{
	if(p->v[P_MIN_SAMPLES] > p->v[P_WINDOW]){
		snprintf(err, len, "spike min_samples %g is larger than window %g: it would never leave learning",
				p->v[P_MIN_SAMPLES], p->v[P_WINDOW]);
		return false;
	}
	return true;
}

static void sort_small(double *a, size_t n)
{
	size_t i, j;

	for(i = 1; i < n; i++){
		double x = a[i];
		for(j = i; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
		a[j] = x;
	}
}

static double median_sorted(const double *a, size_t n)
{
	return (n % 2) ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

static void push(struct spike_state *st, uint32_t window, double x)
{
	st->values[st->head] = x;
	st->head = (st->head + 1) % window;
	if(st->count < window) st->count++;
}

static void spike_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct spike_state *st = state;
	uint32_t window = (uint32_t)p->v[P_WINDOW];
	double sorted[SPIKE_WINDOW_MAX], dev[SPIKE_WINDOW_MAX];
	double med, mad, scale, z, x = s->number;
	size_t i, n = st->count;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP; /* a flip of a boolean is no spike */
		return;
	}
	if(n < (size_t)p->v[P_MIN_SAMPLES]){
		push(st, window, x);
		v->state = EA_VERDICT_SKIP;
		return;
	}
	memcpy(sorted, st->values, n * sizeof(double));
	sort_small(sorted, n);
	med = median_sorted(sorted, n);
	for(i = 0; i < n; i++) dev[i] = fabs(sorted[i] - med);
	sort_small(dev, n);
	mad = median_sorted(dev, n);
	scale = fmax(1.4826 * mad, fmax(p->v[P_MIN_DEVIATION], 1e-6 * fmax(fabs(med), 1.0)));
	z = fabs(x - med) / scale;
	push(st, window, x);

	if(z > p->v[P_THRESHOLD]){
		double score = 1.0 - 0.5 * exp(-(z - p->v[P_THRESHOLD]) / p->v[P_THRESHOLD]);
		ea_verdict_set(v, EA_VERDICT_ANOMALY, score, fmin(1.0, (double)n / (double)window),
				"value %g jumped %.1f robust deviations %s the recent median %g; check for a fault, interference or a changed process",
				x, z, x > med ? "above" : "below", med);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.5 * z / p->v[P_THRESHOLD], fmin(1.0, (double)n / (double)window),
				"value %g is %.1f robust deviations from the recent median %g", x, z, med);
	}
}

const ea_detector_type ea_detector_spike = {
	.name = "spike",
	.kind = "spike",
	.summary = "value far from the recent median (robust z-score)",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct spike_state),
	.numeric_only = true,
	.validate = spike_validate,
	.observe = spike_observe,
	.idle = NULL,
};
