/* SPDX-License-Identifier: Apache-2.0
 *
 * det_auto.c - `auto`: an adaptive detector for any numeric series nobody
 * configured. (development version)
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { P_THRESHOLD, P_LEARN, P_REST };

static const ea_param_spec params[] = {
	{ "threshold", EA_PARAM_NUMBER, 0.8, 0, 1, "score at which it raises" },
	{ "learn", EA_PARAM_INTEGER, 150, 10, 1e6, "readings learnt before judging" },
	{ "rest", EA_PARAM_INTEGER, 150, 0, 1e6, "readings after a raise before the next" },
};

#define AUTO_BITS 2048
#define AUTO_CTX 8
#define AUTO_SLOTS 48

struct auto_state {
	uint32_t n;
	uint32_t since_raise;
	int64_t first_ms;
	double lo, hi;          /* range seen */
	double mu, dev;         /* EWMA level and absolute deviation */
	double r_short, r_mean, r_var; /* raw score statistics */
	uint8_t bins[AUTO_CTX]; /* last bins, newest first */
	uint64_t seen[AUTO_BITS / 64];
	float slot_mu[AUTO_SLOTS], slot_dev[AUTO_SLOTS];
	uint16_t slot_n[AUTO_SLOTS];
};

static double knob(const char *name, double def)
{
	const char *v = getenv(name);
	return v != NULL ? atof(v) : def;
}

static double K_W5, K_Z5, K_A5, K_D5, K_MODE, K_W4, K_SLOTS, K_DAYS, K_CTX, K_NBITS, K_NB, K_SPATIAL_TOL, K_Z, K_W1, K_W2, K_W3, K_ALPHA, K_LIKE, K_SHORT;
static int knobs_ready;

static void load_knobs(void)
{
	if(knobs_ready) return;
	K_NB = knob("A_NB", 8);
	K_W4 = knob("A_W4", 0);
	K_MODE = knob("A_MODE", 0);
	K_W5 = knob("A_W5", 0);
	K_Z5 = knob("A_Z5", 6);
	K_A5 = knob("A_A5", 0.3);
	K_D5 = knob("A_D5", 2);
	K_SLOTS = knob("A_SLOTS", 24);
	K_DAYS = knob("A_DAYS", 2);
	K_CTX = knob("A_CTX", 6);
	K_NBITS = knob("A_NBITS", 2048);
	K_SPATIAL_TOL = knob("A_TOL", 0.1);
	K_Z = knob("A_Z", 6);
	K_W1 = knob("A_W1", 1);
	K_W2 = knob("A_W2", 1);
	K_W3 = knob("A_W3", 1);
	K_ALPHA = knob("A_ALPHA", 0.001);
	K_LIKE = knob("A_LIKE", 0);
	K_SHORT = knob("A_SHORT", 0.1);
	knobs_ready = 1;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void auto_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct auto_state *st = state;
	double x = s->number, learn = p->v[P_LEARN];
	double s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, raw, score;
	int bin, k, novel = 0;
	uint64_t h = 0x9e3779b97f4a7c15ULL;

	load_knobs();
	if(ea_sample_is_boolean(s)){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->n == 0){
		st->lo = st->hi = st->mu = x;
		st->dev = 0;
	}
	/* spatial novelty: beyond the range seen */
	{
		double range = st->hi - st->lo, e = 0;
		if(range <= 0) range = fmax(fabs(st->mu) * 1e-3, 1e-9);
		if(x > st->hi) e = (x - st->hi) / range;
		else if(x < st->lo) e = (st->lo - x) / range;
		s1 = fmin(1.0, e / K_SPATIAL_TOL);
	}
	/* residual */
	{
		double d = fabs(x - st->mu), sd = 1.4826 * st->dev;
		if(sd <= 0) sd = fmax(fabs(st->mu) * 1e-6, 1e-12);
		s3 = fmin(1.0, d / (K_Z * sd));
	}
	/* context novelty over bins of the range seen */
	{
		double range = st->hi - st->lo;
		double nb = K_NB;
		if(range <= 0) bin = 0;
		else bin = (int)floor((x - st->lo) / range * nb);
		if(bin < -1) bin = -1;
		if(bin > (int)nb) bin = (int)nb;
		bin += 1;
		memmove(st->bins + 1, st->bins, AUTO_CTX - 1);
		st->bins[0] = (uint8_t)bin;
		for(k = 0; k < (int)K_CTX; k++){
			uint64_t b;
			h = mix(h ^ (((uint64_t)st->bins[k] + 1) * 0x100000001b3ULL + (uint64_t)k));
			b = h % (uint64_t)K_NBITS;
			if(!(st->seen[b / 64] & (1ULL << (b % 64)))){
				novel++;
				st->seen[b / 64] |= 1ULL << (b % 64);
			}
		}
		s2 = (double)novel / K_CTX;
		if(st->n == 0) st->first_ms = s->time_ms;
		{
			int64_t day = 86400000;
			uint64_t slot = (uint64_t)(((s->time_ms % day) + day) % day) * (uint64_t)K_SLOTS / (uint64_t)day;
			uint64_t b = mix(0x51ed27ULL ^ (slot << 8) ^ (uint64_t)bin) % (uint64_t)K_NBITS;
			bool seen = (st->seen[b / 64] & (1ULL << (b % 64))) != 0;
			st->seen[b / 64] |= 1ULL << (b % 64);
			if(!seen && (double)(s->time_ms - st->first_ms) >= K_DAYS * (double)day) s4 = 1;
		}
		{
			int64_t day = 86400000;
			size_t slot = (size_t)((((s->time_ms % day) + day) % day) * AUTO_SLOTS / day);
			double m = st->slot_mu[slot], d = st->slot_dev[slot];
			if(st->slot_n[slot] > 0 && (double)(s->time_ms - st->first_ms) >= K_D5 * (double)day){
				double floor_dev = fmax(st->dev * 0.05, fmax(fabs(st->mu) * 1e-6, 1e-12));
				s5 = fmin(1.0, fabs(x - m) / (K_Z5 * fmax(1.4826 * d, floor_dev)));
			}
			if(st->slot_n[slot] == 0){ st->slot_mu[slot] = (float)x; st->slot_dev[slot] = 0; }
			else{
				double a = fmax(1.0 / (st->slot_n[slot] + 1), K_A5 / 6);
				st->slot_dev[slot] = (float)(d + a * (fabs(x - m) - d));
				st->slot_mu[slot] = (float)(m + a * (x - m));
			}
			if(st->slot_n[slot] < 60000) st->slot_n[slot]++;
		}
		if(K_MODE == 1) s2 = ((double)novel + s4) / (K_CTX + 1);
		if(K_MODE == 2) s2 = s2 * (0.5 + 0.5 * s4);
	}
	/* update statistics */
	st->n++;
	{
		double a = fmax(1.0 / st->n, K_ALPHA);
		st->dev += a * (fabs(x - st->mu) - st->dev);
		st->mu += a * (x - st->mu);
		if(x < st->lo) st->lo = x;
		if(x > st->hi) st->hi = x;
	}
	raw = fmax(fmax(fmax(K_W1 * s1, K_W4 * s4), fmax(K_W2 * s2, K_W3 * s3)), K_W5 * s5);
	if(raw > 1) raw = 1;
	score = raw;
	if(K_LIKE > 0){
		/* anomaly likelihood of the short average of raw against its history */
		double z, sdv;
		st->r_short += K_SHORT * (raw - st->r_short);
		sdv = sqrt(fmax(st->r_var, 1e-6));
		z = (st->r_short - st->r_mean) / sdv;
		score = 0.5 * erfc(-z / sqrt(2.0));
		{
			double a = fmax(1.0 / st->n, K_LIKE);
			double d = raw - st->r_mean;
			st->r_mean += a * d;
			st->r_var += a * (d * d - st->r_var);
		}
	}
	st->since_raise++;
	if(st->n <= learn){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->since_raise <= p->v[P_REST]) score = 0;
	if(score >= p->v[P_THRESHOLD]){
		st->since_raise = 0;
		ea_verdict_set(v, EA_VERDICT_ANOMALY, score, score, "value %g is unusual for this series (score %.2f)", x, score);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, score, 1.0 - score, "value %g is usual (score %.2f)", x, score);
	}
}

const ea_detector_type ea_detector_auto = {
	.name = "auto",
	.kind = "unusual",
	.summary = "adaptive: anything unusual for this series",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct auto_state),
	.numeric_only = true,
	.observe = auto_observe,
};
