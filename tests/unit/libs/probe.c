/* SPDX-License-Identifier: Apache-2.0
 *
 * probe.c - a detector library for the unit tests (abi_test.c) that shows
 * what edge-anomaly hands a user's detector, through the public header only:
 *
 * - `abi_probe` (numeric): raised when a value exceeds `limit`; its reason
 *   echoes every parameter as it arrived (a duration in ms, a bool as 0/1,
 *   an unset one as nan) and the sample's names, so a test can check the
 *   conversions. Its 4 KiB state must be all zero at the first call of a
 *   series (else it raises "state was not zeroed"); idle() raises once the
 *   series has been quiet for `quiet`. validate() refuses `strict` with a
 *   negative limit.
 * - `abi_desired_probe` (wants_desired, not numeric_only): raised by a
 *   desired (twin "expected") value, normal for a reported one, so a test
 *   can check that only detectors asking for them see desired values.
 *
 * Cost per sample: a few comparisons, plus a 4 KiB scan on a series' first
 * sample. State: 4 KiB + 16 bytes per series (abi_probe), none for
 * abi_desired_probe.
 */
#include <edge-anomaly/detector.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_LIMIT, P_EVERY, P_QUIET, P_STRICT };

static const struct edge_anomaly_param probe_params[] = {
	{ "limit", EDGE_ANOMALY_PARAM_NUMBER, 10, -1e9, 1e9, "raised above this" },
	{ "every", EDGE_ANOMALY_PARAM_INTEGER, 1, 1, 100, "echoed only" },
	{ "quiet", EDGE_ANOMALY_PARAM_DURATION, NAN, 1000, 86400000, "raised after this long without a reading" },
	{ "strict", EDGE_ANOMALY_PARAM_BOOL, 0, 0, 1, "refuse a negative limit" },
};

struct probe_state {
	int64_t calls;
	int64_t last_ms;
	unsigned char filler[4096];
};

static int probe_validate(const double *p, char *err, size_t len)
{
	if(p[P_STRICT] != 0 && p[P_LIMIT] < 0){
		snprintf(err, len, "abi_probe: strict wants a limit of 0 or more, not %g", p[P_LIMIT]);
		return 0;
	}
	return 1;
}

static int all_zero(const void *bytes, size_t n)
{
	const unsigned char *b = bytes;
	size_t i;

	for(i = 0; i < n; i++) if(b[i] != 0) return 0;
	return 1;
}

static void probe_observe(const double *p, void *state, const struct edge_anomaly_sample *s,
		struct edge_anomaly_verdict *v)
{
	struct probe_state *st = state;

	if(st->calls == 0 && !all_zero(st, sizeof(*st))){
		v->state = EDGE_ANOMALY_ANOMALY;
		v->score = 1;
		snprintf(v->reason, sizeof(v->reason), "state was not zeroed");
		return;
	}
	st->calls++;
	st->last_ms = s->arrival_ms;
	st->filler[st->calls % sizeof(st->filler)] = 1; /* the state is ours to write */
	v->state = s->number > p[P_LIMIT] ? EDGE_ANOMALY_ANOMALY : EDGE_ANOMALY_NORMAL;
	v->score = v->state == EDGE_ANOMALY_ANOMALY ? 0.75 : 0.0;
	v->confidence = 0.5;
	if((v->state == EDGE_ANOMALY_ANOMALY && v->explain_anomaly) || (v->state == EDGE_ANOMALY_NORMAL && v->explain_normal))
		snprintf(v->reason, sizeof(v->reason), "%s/%s/%s=%s n=%g limit=%g every=%g quiet=%g strict=%g",
				s->ns, s->device, s->property, s->text, s->number, p[P_LIMIT], p[P_EVERY], p[P_QUIET],
				p[P_STRICT]);
}

static void probe_idle(const double *p, void *state, int64_t now_ms, struct edge_anomaly_verdict *v)
{
	struct probe_state *st = state;

	if(isnan(p[P_QUIET]) || st->calls == 0) return; /* SKIP */
	if((double)(now_ms - st->last_ms) > p[P_QUIET]){
		v->state = EDGE_ANOMALY_ANOMALY;
		v->score = 1;
		v->confidence = 1;
		snprintf(v->reason, sizeof(v->reason), "quiet for %lld ms", (long long)(now_ms - st->last_ms));
	}
}

static void desired_observe(const double *p, void *state, const struct edge_anomaly_sample *s,
		struct edge_anomaly_verdict *v)
{
	(void)p;
	(void)state;
	v->state = s->desired ? EDGE_ANOMALY_ANOMALY : EDGE_ANOMALY_NORMAL;
	v->score = s->desired ? 1 : 0;
	v->confidence = 1;
	snprintf(v->reason, sizeof(v->reason), "%s value %s", s->desired ? "desired" : "reported", s->text);
}

static const struct edge_anomaly_detector probe = {
	.abi_version = EDGE_ANOMALY_DETECTOR_ABI,
	.name = "abi_probe",
	.kind = "probe",
	.summary = "echoes what edge-anomaly hands a detector",
	.params = probe_params,
	.param_count = sizeof(probe_params) / sizeof(probe_params[0]),
	.state_size = sizeof(struct probe_state),
	.numeric_only = 1,
	.validate = probe_validate,
	.observe = probe_observe,
	.idle = probe_idle,
};

static const struct edge_anomaly_detector desired_probe = {
	.abi_version = EDGE_ANOMALY_DETECTOR_ABI,
	.name = "abi_desired_probe",
	.kind = "desired-probe",
	.summary = "raised by desired values",
	.wants_desired = 1,
	.observe = desired_observe,
};

static const struct edge_anomaly_detector *const all[] = { &probe, &desired_probe, NULL };

const struct edge_anomaly_detector *const *edge_anomaly_detectors(void)
{
	return all;
}
