/* SPDX-License-Identifier: Apache-2.0
 *
 * det_type.c - `type`: a value that does not parse as its declared type.
 *
 * Catches mappers that send "NaN", "", "21,5" or "on" for a float or
 * boolean twin, and NaN or infinite numbers. Only checks values whose type
 * is declared (twin metadata.type). No parameters; no state; one parse per
 * sample (done once by the library, shared by all detectors).
 */
#include "ea_detector.h"

static void type_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	(void)p;
	(void)state;
	if(s->declared == EA_TYPE_NONE || s->declared == EA_TYPE_OTHER){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(s->type_ok){
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value parses as %s", ea_value_type_name(s->declared));
	}else{
		ea_verdict_set(v, EA_VERDICT_ANOMALY, 1.0, 1.0,
				"value \"%.60s\" is not a valid %s, the type the twin declares; check the mapper's conversion",
				s->text, ea_value_type_name(s->declared));
	}
}

const ea_detector_type ea_detector_type_check = {
	.name = "type",
	.kind = "type-error",
	.summary = "value not parseable as its declared type",
	.params = NULL,
	.param_count = 0,
	.state_size = 0,
	.numeric_only = false,
	.validate = NULL,
	.observe = type_observe,
	.idle = NULL,
};
