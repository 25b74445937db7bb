/* SPDX-License-Identifier: Apache-2.0
 *
 * hysteresis.c - an example detector library for edge-anomaly: a threshold
 * with hysteresis.
 *
 * Raised when the value goes above `high`; cleared only once it is back
 * below `low`, so a value hovering at the threshold does not flap between
 * raised and cleared. (The built-in `range` clears as soon as the value is
 * back in range.)
 *
 * Build and use it:
 *
 *   cc -std=c11 -shared -fPIC -O2 -I/usr/local/include \
 *      -o libea_example_hysteresis.so hysteresis.c
 *
 *   # config.yaml
 *   detector_libraries: [/usr/local/lib/edge-anomaly/detectors/libea_example_hysteresis.so]
 *   routes:
 *     - match: {property: pressure}
 *       detectors: [{hysteresis: {high: 8, low: 6}}]
 *
 * The rules a detector must follow are in include/edge-anomaly/detector.h.
 */
#include <edge-anomaly/detector.h>

#include <math.h>
#include <stdio.h>

enum { P_HIGH, P_LOW };

static const struct edge_anomaly_param params[] = {
	{ "high", EDGE_ANOMALY_PARAM_NUMBER, NAN, -INFINITY, INFINITY, "value above which it raises" },
	{ "low", EDGE_ANOMALY_PARAM_NUMBER, NAN, -INFINITY, INFINITY, "value below which a raised alarm clears" },
};

/* Per series: plain bytes, zeroed by edge-anomaly at the start. */
struct hysteresis_state {
	int raised;
};

static int hysteresis_validate(const double *p, char *err, size_t len)
{
	if(isnan(p[P_HIGH]) || isnan(p[P_LOW])){
		snprintf(err, len, "hysteresis needs both high and low");
		return 0;
	}
	if(!(p[P_LOW] < p[P_HIGH])){
		snprintf(err, len, "hysteresis low %g must be below high %g", p[P_LOW], p[P_HIGH]);
		return 0;
	}
	return 1;
}

static void hysteresis_observe(const double *p, void *state, const struct edge_anomaly_sample *s,
		struct edge_anomaly_verdict *v)
{
	struct hysteresis_state *st = state;

	if(s->is_boolean) return; /* SKIP */
	if(s->number > p[P_HIGH] || (st->raised && s->number >= p[P_LOW])){
		st->raised = 1;
		v->state = EDGE_ANOMALY_ANOMALY;
		v->score = 1.0;
		v->confidence = 1.0;
		if(v->explain_anomaly)
			snprintf(v->reason, sizeof(v->reason), "value %g went above %g and has not come back below %g",
					s->number, p[P_HIGH], p[P_LOW]);
		return;
	}
	st->raised = 0;
	v->state = EDGE_ANOMALY_NORMAL;
	v->score = 0.0;
	v->confidence = 1.0;
	if(v->explain_normal) snprintf(v->reason, sizeof(v->reason), "value %g is below %g", s->number, p[P_LOW]);
}

static const struct edge_anomaly_detector hysteresis = {
	.abi_version = EDGE_ANOMALY_DETECTOR_ABI,
	.name = "hysteresis",
	.kind = "hysteresis",
	.summary = "above high, until back below low",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct hysteresis_state),
	.numeric_only = 1,
	.wants_desired = 0,
	.validate = hysteresis_validate,
	.observe = hysteresis_observe,
	.idle = NULL,
};

static const struct edge_anomaly_detector *const all[] = { &hysteresis, NULL };

const struct edge_anomaly_detector *const *edge_anomaly_detectors(void)
{
	return all;
}
