/* SPDX-License-Identifier: Apache-2.0
 *
 * det_desired.c - `desired`: a twin whose reported value does not reach
 * the desired one.
 *
 * KubeEdge twins carry, per property, the desired value ("expected", set
 * from the cloud) and the reported one ("actual", from the device). When an
 * operator or an application sets a value (a valve to 40 %, a setpoint to
 * 21 degrees) and the device does not follow within `timeout`, the command
 * was lost, the actuator is stuck or the device ignores the cloud.
 *
 * Raised when the latest reported value has disagreed with the latest
 * desired one for `timeout`: counted from when the desired value was set,
 * or, once the device had reached it, from when it moved away again.
 * Judged on every reading (reported or desired) and from the periodic idle
 * check, so a device that went quiet is caught too. Cleared when they agree.
 * Numbers (booleans as 0/1) agree within `tolerance`; anything else must
 * be the same text. The desired value is one the engine hands only to
 * detectors that ask for it (wants_desired). The same desired text seen
 * again (KubeEdge restates it in every twin document, and mapper-framework
 * mappers echo it in every report) neither restarts the clock nor counts
 * twice; an empty desired value means none. Times are arrival times (the
 * broker's clock), which idle checks compare with.
 *
 * Parameters (defaults): timeout (60s), tolerance (0).
 *
 * Cost: O(1) plus a hash of the value's text. State: 48 bytes.
 */
#include "ea_detector.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_TIMEOUT, P_TOLERANCE };

static const ea_param_spec params[] = {
	{ "timeout", EA_PARAM_DURATION, 60000, 1, 9e15, "time the reported value has to reach the desired one" },
	{ "tolerance", EA_PARAM_NUMBER, 0, 0, INFINITY, "largest difference that counts as reached (numbers)" },
};

struct desired_state {
	double desired_number, reported_number;
	uint64_t desired_hash, reported_hash; /* hashes of the texts; 0: none yet */
	int64_t disagree_since_ms;  /* when the current disagreement began */
	bool desired_is_number, reported_is_number;
	bool agreeing;              /* they agreed at the last judgement */
	bool reached;               /* the current desired value was reached once */
};

static uint64_t text_hash(const char *text)
{
	return ea_hash_bytes(EA_HASH_SEED, text, strlen(text)) | 1;
}

static bool agree(const ea_params *p, const struct desired_state *st)
{
	if(st->desired_is_number && st->reported_is_number)
		return fabs(st->desired_number - st->reported_number) <= p->v[P_TOLERANCE];
	return st->desired_hash == st->reported_hash;
}

static void judge(const ea_params *p, struct desired_state *st, int64_t now_ms, ea_verdict *v)
{
	double waited;

	if(st->desired_hash == 0){
		v->state = EA_VERDICT_SKIP;
		return;
	}
	if(st->reported_hash != 0 && agree(p, st)){
		st->agreeing = true;
		st->reached = true;
		ea_verdict_set(v, EA_VERDICT_NORMAL, 0.0, 1.0, "reported value has reached the desired one");
		return;
	}
	if(st->agreeing){ /* it had reached the value and has moved away */
		st->agreeing = false;
		st->disagree_since_ms = now_ms;
	}
	waited = (double)(now_ms - st->disagree_since_ms);
	if(waited < p->v[P_TIMEOUT]){
		v->state = EA_VERDICT_SKIP; /* still within the time allowed */
		return;
	}
	{
		double score = fmin(1.0, 0.5 + 0.1 * waited / p->v[P_TIMEOUT]);
		if(st->reported_hash == 0)
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.8,
					"desired value set %.0f s ago and the device has reported nothing: is it connected, and does its mapper report this property?",
					waited / 1000.0);
		else if(st->desired_is_number && st->reported_is_number && st->reached)
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.8,
					"reported %g has drifted from the desired %g (tolerance %g) for %.0f s: the device no longer holds it; check the actuator",
					st->reported_number, st->desired_number, p->v[P_TOLERANCE], waited / 1000.0);
		else if(st->desired_is_number && st->reported_is_number)
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.8,
					"reported %g has not reached the desired %g (tolerance %g) %.0f s after it was set: command lost or actuator stuck?",
					st->reported_number, st->desired_number, p->v[P_TOLERANCE], waited / 1000.0);
		else
			ea_verdict_set(v, EA_VERDICT_ANOMALY, score, 0.8,
					"reported value has differed from the desired one for %.0f s: command lost or ignored by the device?",
					waited / 1000.0);
	}
}

static void desired_observe(const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct desired_state *st = state;
	const char *text = s->text != NULL ? s->text : "";

	if(s->desired){
		uint64_t h;
		if(text[0] == '\0'){ /* no desired value (an empty echo) */
			v->state = EA_VERDICT_SKIP;
			return;
		}
		h = text_hash(text);
		if(h != st->desired_hash){ /* a new desired value: the clock starts again */
			st->desired_hash = h;
			st->desired_number = s->number;
			st->desired_is_number = s->has_number;
			st->disagree_since_ms = s->arrival_ms;
			st->agreeing = false;
			st->reached = false;
		}
	}else{
		st->reported_hash = text_hash(text);
		st->reported_number = s->number;
		st->reported_is_number = s->has_number;
	}
	judge(p, st, s->arrival_ms, v);
}

static void desired_idle(const ea_params *p, void *state, int64_t now_ms, ea_verdict *v)
{
	judge(p, state, now_ms, v);
}

const ea_detector_type ea_detector_desired = {
	.name = "desired",
	.kind = "desired-mismatch",
	.summary = "reported twin value does not reach (or leaves) the desired one in time",
	.params = params,
	.param_count = sizeof(params) / sizeof(params[0]),
	.state_size = sizeof(struct desired_state),
	.numeric_only = false,
	.wants_desired = true,
	.validate = NULL,
	.observe = desired_observe,
	.idle = desired_idle,
};
