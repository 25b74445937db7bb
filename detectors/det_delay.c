/* SPDX-License-Identifier: Apache-2.0
 *
 * det_delay.c - `delay`: readings that arrive long after they were taken, or
 * that claim to come from the future.
 *
 * Compares the sample time the device or mapper put in the message (the
 * twin value's metadata timestamp, else the message timestamp) with the
 * time the broker received it. Raised when the reading is older than
 * `max_delay` on arrival (a congested link, a mapper flushing a backlog,
 * a clock that has fallen behind) or more than `max_ahead` in the future (a
 * device clock running ahead, a forged timestamp). Readings without a
 * timestamp in the payload are not judged (the parser sets s->has_time
 * only for a time it read). Clears at the next timely reading.
 *
 * What it measures depends on who stamped the reading: a twin/update from
 * an MQTT mapper carries the mapper's time (mapper to broker); EdgeCore
 * stamps the values of twin/update/document with its own clock, so on
 * clusters whose mappers report over gRPC (documents only) it sees little
 * more than EdgeCore's own lag. A document that merely restates an older
 * value is not a reading (ea_payload.c), so it is never judged late.
 *
 * Parameters (defaults): max_delay (30s), max_ahead (5s).
 * Cost: O(1). State: none.
 */
#include "ea_detector.h"

#include <stdio.h>

enum { P_MAX_DELAY, P_MAX_AHEAD };

static const ea_param_spec params[] = {
	{ "max_delay", EA_PARAM_DURATION, 30000, 1, 9e15, "age on arrival that raises it" },
	{ "max_ahead", EA_PARAM_DURATION, 5000, 1, 9e15, "how far in the future a sample time may be (clock skew)" },
};

static void delay_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	int64_t age = s->arrival_ms - s->time_ms;

	(void)state;
	if(!s->has_time){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if((double)age > p->v[P_MAX_DELAY]){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, age > 10 * p->v[P_MAX_DELAY] ? 1.0 : 0.5 + 0.05 * (double)age / p->v[P_MAX_DELAY],
				0.9, "reading taken %.1f s before it arrived (more than %.1f s): a slow link, a backlog or a clock behind",
				(double)age / 1000.0, p->v[P_MAX_DELAY] / 1000.0);
	}else if((double)-age > p->v[P_MAX_AHEAD]){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.8, 0.9,
				"reading stamped %.1f s in the future (more than %.1f s): the device clock is ahead or the time is forged",
				(double)-age / 1000.0, p->v[P_MAX_AHEAD] / 1000.0);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reading arrived %.1f s after it was taken", (double)age / 1000.0);
	}
}

const ea_detector_type ea_detector_delay = {
	.name = "delay",
	.kind = "delay",
	.summary = "sample time far behind (or ahead of) arrival time",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = 0,
	.numeric_only = false,
	.validate = NULL,
	.observe = delay_observe,
	.idle = NULL,
};
