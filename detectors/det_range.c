/* SPDX-License-Identifier: Apache-2.0
 *
 * det_range.c - `range`: a value outside [min, max].
 *
 * Catches physically impossible or out-of-spec readings (an over-range
 * temperature, a negative flow). Parameters: `min`, `max` (either may be
 * left out, not both). Cost: two comparisons per sample; no state.
 * Score: 0.5 at the bound, rising to 1 at one range-width beyond it.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>

enum { P_MIN, P_MAX };

static const ea_param_spec params[] = {
	{ "min", EA_PARAM_NUMBER, NAN, -INFINITY, INFINITY, "lowest plausible value (off: no lower bound)" },
	{ "max", EA_PARAM_NUMBER, NAN, -INFINITY, INFINITY, "highest plausible value (off: no upper bound)" },
};

static bool range_validate(const ea_params *p, char *err, size_t len)
{
	if(isnan(p->v[P_MIN]) && isnan(p->v[P_MAX])){
		snprintf(err, len, "range needs min, max or both");
		return false;
	}
	if(!isnan(p->v[P_MIN]) && !isnan(p->v[P_MAX]) && p->v[P_MIN] > p->v[P_MAX]){
		snprintf(err, len, "range min %g is above max %g", p->v[P_MIN], p->v[P_MAX]);
		return false;
	}
	return true;
}

static double excess_score(double excess, double width)
{
	if(!(width > 0.0)) width = 1.0;
	return 0.5 + 0.5 * fmin(1.0, excess / width);
}

static void range_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	double lo = p->v[P_MIN], hi = p->v[P_MAX], x = s->number;
	double width = (!isnan(lo) && !isnan(hi)) ? hi - lo : fmax(fabs(isnan(lo) ? hi : lo), 1.0);

	(void)state;
	if(!isnan(hi) && x > hi){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, excess_score(x - hi, width), 1.0,
				"value %g is above the maximum %g; check the sensor and its calibration", x, hi);
	}else if(!isnan(lo) && x < lo){
		ea_verdict_set(v, EA_VERDICT_ANOMALY, excess_score(lo - x, width), 1.0,
				"value %g is below the minimum %g; check the sensor and its calibration", x, lo);
	}else{
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "value %g is within range", x);
	}
}

const ea_detector_type ea_detector_range = {
	.name = "range",
	.kind = "out-of-range",
	.summary = "value outside [min, max]",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = 0,
	.numeric_only = true,
	.validate = range_validate,
	.observe = range_observe,
	.idle = NULL,
};
