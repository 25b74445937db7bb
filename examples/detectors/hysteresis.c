/* SPDX-License-Identifier: Apache-2.0
 *
 * hysteresis.c - an example detector library for edge-anomaly: a threshold
 * with hysteresis, and the how-to for writing your own.
 *
 * Catches a value above `high`, and keeps the alarm raised until the value
 * is back below `low`, so a value hovering at the threshold does not flap
 * between raised and cleared (the built-in `range` clears as soon as the
 * value is back in range). Parameters: high, low (numbers, both required,
 * low < high). Cost per sample: two comparisons (a snprintf when a reason
 * will be read). State per series: 4 bytes.
 *
 * Build it (against the installed header; `make` builds this one into
 * build/examples/libea_example_hysteresis.so and `make install` installs it
 * in $(PREFIX)/lib/edge-anomaly/detectors/):
 *
 *   cc -std=c11 -Wall -Wextra -O2 -shared -fPIC -I/usr/local/include \
 *      -o libea_example_hysteresis.so hysteresis.c
 *
 * and use it (config.yaml of the plugin; `edge-anomaly check-config`
 * loads it too and shows where each detector comes from):
 *
 *   detector_libraries: [/usr/local/lib/edge-anomaly/detectors/libea_example_hysteresis.so]
 *   routes:
 *     - match: {property: pressure}
 *       detectors: [{hysteresis: {high: 8, low: 6}}]
 *
 * Writing your own, in short (the full rules are in
 * include/edge-anomaly/detector.h):
 * - One table per detector, starting with EDGE_ANOMALY_DETECTOR_ABI; one
 *   exported function, edge_anomaly_detectors(), lists them. A library
 *   built against another ABI version is refused with a message saying so:
 *   rebuild it.
 * - Parameters are declared with kind, default and bounds; edge-anomaly
 *   parses and checks the YAML and hands them over as doubles. validate()
 *   checks how they fit together.
 * - State is `state_size` plain bytes per series, zeroed by edge-anomaly
 *   and dropped without notice: no pointers, no memory of your own, never
 *   a pointer to the sample (it lives for the call only).
 * - observe() and idle() of one series run on one worker thread, one call
 *   at a time: no locks needed. They must not block, sleep or do I/O.
 * - The library runs inside the broker with its privileges: keep it, and
 *   its directory, writable only by root (a file every user may write is
 *   refused).
 * - Test it through the engine like tests/unit/abi_test.c does, or in the
 *   real broker like tests/integration/test_user_detector.py.
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
