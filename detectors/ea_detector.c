/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_detector.c - the registry of built-in detectors and the generic,
 * table-driven handling of their parameters.
 */
#include "ea_detector.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const ea_detector_type *const builtins[] = {
	&ea_detector_range,
	&ea_detector_stuck,
	&ea_detector_spike,
	&ea_detector_staleness,
	&ea_detector_type_check,
	&ea_detector_device_state,
	&ea_detector_auto,
	&ea_detector_level_shift,
	&ea_detector_drift,
	&ea_detector_flatline,
	&ea_detector_rate,
	&ea_detector_delay,
	&ea_detector_out_of_order,
	&ea_detector_duplicate,
	&ea_detector_replay,
	&ea_detector_envelope,
	&ea_detector_desired,
	NULL
};

const ea_detector_type *const *ea_detector_builtins(void)
{
	return builtins;
}

const ea_detector_type *ea_detector_find(const char *name)
{
	size_t i;

	if(name == NULL) return NULL;
	for(i = 0; builtins[i] != NULL; i++){
		if(strcmp(builtins[i]->name, name) == 0) return builtins[i];
	}
	return ea_plugin_detector_find(name);
}

size_t ea_detector_state_size(const ea_detector_type *type, const ea_params *p)
{
	return type->state_size_for != NULL ? type->state_size_for(p) : type->state_size;
}

void ea_params_defaults(const ea_detector_type *type, ea_params *p)
{
	size_t i;

	for(i = 0; i < EA_MAX_PARAMS; i++) p->v[i] = NAN;
	for(i = 0; i < type->param_count && i < EA_MAX_PARAMS; i++){
		p->v[i] = type->params[i].default_value;
	}
}

int ea_param_index(const ea_detector_type *type, const char *name)
{
	size_t i;

	for(i = 0; i < type->param_count; i++){
		if(strcmp(type->params[i].name, name) == 0) return (int)i;
	}
	return -1;
}

static bool parse_number(const char *text, double *out)
{
	char *end = NULL;
	double v;

	if(*text == '\0') return false;
	errno = 0;
	v = strtod(text, &end);
	if(errno != 0 || *end != '\0' || !isfinite(v)) return false;
	*out = v;
	return true;
}

bool ea_param_set(const ea_detector_type *type, ea_params *p, int index,
		const char *text, char *err, size_t err_len)
{
	const ea_param_spec *spec;
	double v = 0.0;
	int64_t ms;

	if(index < 0 || (size_t)index >= type->param_count){
		snprintf(err, err_len, "unknown parameter");
		return false;
	}
	spec = &type->params[index];
	switch(spec->kind){
		case EA_PARAM_NUMBER:
			if(!parse_number(text, &v)){
				snprintf(err, err_len, "expects a number, got '%s'", text);
				return false;
			}
			break;
		case EA_PARAM_INTEGER:
			if(!parse_number(text, &v) || v != floor(v)){
				snprintf(err, err_len, "expects a whole number, got '%s'", text);
				return false;
			}
			break;
		case EA_PARAM_DURATION:
			if(!ea_parse_duration_ms(text, &ms)){
				snprintf(err, err_len, "expects a duration like 500ms, 30s, 5m or 1h, got '%s'", text);
				return false;
			}
			v = (double)ms;
			break;
		case EA_PARAM_BOOL:
			if(strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 || strcmp(text, "1") == 0) v = 1.0;
			else if(strcasecmp(text, "false") == 0 || strcasecmp(text, "no") == 0 || strcmp(text, "0") == 0) v = 0.0;
			else{
				snprintf(err, err_len, "expects true or false, got '%s'", text);
				return false;
			}
			break;
	}
	if(v < spec->min || v > spec->max){
		char lo[32], hi[32];
		ea_param_format(spec, spec->min, lo, sizeof(lo));
		ea_param_format(spec, spec->max, hi, sizeof(hi));
		snprintf(err, err_len, "must be between %s and %s, got '%s'", lo, hi, text);
		return false;
	}
	p->v[index] = v;
	return true;
}

void ea_param_format(const ea_param_spec *spec, double value, char *buf, size_t len)
{
	if(isnan(value)){
		snprintf(buf, len, "off");
		return;
	}
	switch(spec->kind){
		case EA_PARAM_DURATION:
			if(value >= 3600000.0 && fmod(value, 3600000.0) == 0) snprintf(buf, len, "%.0fh", value / 3600000.0);
			else if(value >= 60000.0 && fmod(value, 60000.0) == 0) snprintf(buf, len, "%.0fm", value / 60000.0);
			else if(fmod(value, 1000.0) == 0) snprintf(buf, len, "%.0fs", value / 1000.0);
			else snprintf(buf, len, "%.0fms", value);
			break;
		case EA_PARAM_BOOL:
			snprintf(buf, len, "%s", value != 0.0 ? "true" : "false");
			break;
		case EA_PARAM_INTEGER:
			snprintf(buf, len, "%.0f", value);
			break;
		case EA_PARAM_NUMBER:
			snprintf(buf, len, "%g", value);
			break;
	}
}

void ea_verdict_set(ea_verdict *v, ea_verdict_state state, double score,
		double confidence, const char *fmt, ...)
{
	va_list ap;

	v->state = state;
	v->score = score < 0.0 ? 0.0 : (score > 1.0 ? 1.0 : score);
	v->confidence = confidence < 0.0 ? 0.0 : (confidence > 1.0 ? 1.0 : confidence);
	if((state == EA_VERDICT_NORMAL && !v->explain_normal) || (state == EA_VERDICT_ANOMALY && v->quiet_anomaly)){
		v->reason[0] = '\0';
		return;
	}
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}
