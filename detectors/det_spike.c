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
 * half the window has moved to the new level. Booleans are skipped.
 *
 * Cost: the window is also kept sorted, so a sample costs a binary search
 * and a move of at most `window` doubles, and the MAD is read off the
 * sorted window by merging outwards from the median (window / 2 steps):
 * no sort per sample. State: 8 + 16 x window bytes (520 for the default 32).
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

/* Followed in memory by `window` doubles in arrival order (a ring), then
 * the same values sorted. */
struct spike_state {
	uint32_t head;  /* next ring slot to write */
	uint32_t count; /* values held, <= window */
	double data[];
};

static size_t spike_state_size(const ea_params *p)
{
	return sizeof(struct spike_state) + 2 * (size_t)p->v[P_WINDOW] * sizeof(double);
}

static bool spike_validate(const ea_params *p, char *err, size_t len)
{
	if(p->v[P_MIN_SAMPLES] > p->v[P_WINDOW]){
		snprintf(err, len, "spike min_samples %g is larger than window %g: it would never leave learning",
				p->v[P_MIN_SAMPLES], p->v[P_WINDOW]);
		return false;
	}
	return true;
}

/* First index in sorted[0..n) whose value is >= x. */
static size_t lower_bound(const double *sorted, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while(lo < hi){
		size_t mid = lo + (hi - lo) / 2;
		if(sorted[mid] < x) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}

static void push(struct spike_state *st, uint32_t window, double x)
{
	double *ring = st->data, *sorted = st->data + window;
	size_t n = st->count, at;

	if(n == window){
		double old = ring[st->head];
		size_t gone = lower_bound(sorted, n, old);
		memmove(sorted + gone, sorted + gone + 1, (n - gone - 1) * sizeof(double));
		n--;
	}
	at = lower_bound(sorted, n, x);
	memmove(sorted + at + 1, sorted + at, (n - at) * sizeof(double));
	sorted[at] = x;
	ring[st->head] = x;
	st->head = (st->head + 1) % window;
	if(st->count < window) st->count++;
}

static double median_sorted(const double *a, size_t n)
{
	return (n % 2) ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/* Median absolute deviation from `med` of a sorted array: the deviations
 * grow outwards from the median on both sides, so merging the two sides
 * yields them in order; stop at the middle one. */
static double mad_sorted(const double *a, size_t n, double med)
{
	size_t want = (n - 1) / 2, taken = 0;
	size_t r = n / 2;          /* first candidate on the right */
	size_t l = r;              /* one past the first candidate on the left */
	double d = 0.0, prev = 0.0;

	while(taken <= want + ((n % 2) ? 0 : 1)){
		double dl = l > 0 ? med - a[l - 1] : INFINITY;
		double dr = r < n ? a[r] - med : INFINITY;
		prev = d;
		if(dl <= dr){
			d = dl;
			l--;
		}else{
			d = dr;
			r++;
		}
		taken++;
	}
	/* odd n: d is deviation number `want`; even n: the mean of it and the next */
	return (n % 2) ? d : 0.5 * (prev + d);
}

static void spike_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct spike_state *st = state;
	uint32_t window = (uint32_t)p->v[P_WINDOW];
	const double *sorted = st->data + window;
	double med, mad, scale, z, x = s->number;
	size_t n = st->count;

	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP; /* a flip of a boolean is no spike */
		return;
	}
	if(n < (size_t)p->v[P_MIN_SAMPLES]){
		push(st, window, x);
		v->state = EA_VERDICT_SKIP;
		return;
	}
	med = median_sorted(sorted, n);
	mad = mad_sorted(sorted, n, med);
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
	.state_size = sizeof(struct spike_state) + 2 * SPIKE_WINDOW_MAX * sizeof(double),
	.state_size_for = spike_state_size,
	.numeric_only = true,
	.validate = spike_validate,
	.observe = spike_observe,
	.idle = NULL,
};
