/* SPDX-License-Identifier: Apache-2.0
 *
 * det_state.c - `state`: a device that reports itself offline or unhealthy
 * ($hw/events/device/.../state/update). Runs on the pseudo-property
 * "$state" of each device; online and ok clear it. No parameters, no state.
 */
#include "ea_detector.h"

#include <string.h>
#include <strings.h>

static void state_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	(void)p;
	(void)state;
	if(strcasecmp(s->text, "online") == 0 || strcasecmp(s->text, "ok") == 0){
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "device reports %s", s->text);
	}else{
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 0.8, 1.0,
				"device reports state \"%.40s\"; its readings are not being refreshed", s->text);
	}
}

const ea_detector_type ea_detector_device_state = {
	.name = "state",
	.kind = "device-state",
	.summary = "device reports offline, unknown or unhealthy",
	.params = NULL,
	.param_count = 0,
	.state_size = 0,
	.numeric_only = false,
	.validate = NULL,
	.observe = state_observe,
	.idle = NULL,
};
