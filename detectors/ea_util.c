/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_util.c - errors, clocks, time and size parsing, glob and MQTT topic
 * matching, UTF-8 checks and hashing for the detector library.
 */
#include "ea.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const error_texts[] = {
#define EA_ERR_TEXT(name, text) text,
	EA_ERRNO_MAP(EA_ERR_TEXT)
#undef EA_ERR_TEXT
};

static const char *const error_names[] = {
#define EA_ERR_NAME(name, text) #name,
	EA_ERRNO_MAP(EA_ERR_NAME)
#undef EA_ERR_NAME
};

const char *ea_strerror(ea_err err)
{
	if((unsigned)err >= (unsigned)EA_ERR__COUNT) return "unknown error";
	return error_texts[err];
}

const char *ea_errname(ea_err err)
{
	if((unsigned)err >= (unsigned)EA_ERR__COUNT) return "UNKNOWN";
	return error_names[err];
}

int64_t ea_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ea_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *ea_format_time(int64_t ms, char *buf, size_t len)
{
	int64_t secs = ms / 1000;
	int64_t rem = ms % 1000;
	struct tm tm;
	time_t t;

	if(rem < 0){
		rem += 1000;
		secs -= 1;
	}
	t = (time_t)secs;
	if(len == 0) return buf;
	if(gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0){
		snprintf(buf, len, "invalid-time");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
	return buf;
}

bool ea_parse_duration_ms(const char *text, int64_t *out_ms)
{
	char *end = NULL;
	double value, scale;

	if(text == NULL || *text == '\0' || isspace((unsigned char)*text)) return false;
	errno = 0;
	value = strtod(text, &end);
	if(errno != 0 || end == text || !isfinite(value) || value < 0) return false;
	if(*end == '\0' || strcmp(end, "s") == 0) scale = 1000.0;
	else if(strcmp(end, "ms") == 0) scale = 1.0;
	else if(strcmp(end, "m") == 0) scale = 60000.0;
	else if(strcmp(end, "h") == 0) scale = 3600000.0;
	else if(strcmp(end, "d") == 0) scale = 86400000.0;
	else return false;
	value *= scale;
	if(value > 9.0e15) return false;
	*out_ms = (int64_t)llround(value);
	return true;
}

bool ea_parse_size(const char *text, uint64_t *out_bytes)
{
	char *end = NULL;
	unsigned long long value;
	uint64_t scale = 1;

	if(text == NULL || !isdigit((unsigned char)*text)) return false;
	errno = 0;
	value = strtoull(text, &end, 10);
	if(errno != 0 || end == text) return false;
	if(*end == '\0' || strcasecmp(end, "b") == 0) scale = 1;
	else if(strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0 || strcasecmp(end, "kb") == 0) scale = UINT64_C(1) << 10;
	else if(strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0 || strcasecmp(end, "mb") == 0) scale = UINT64_C(1) << 20;
	else if(strcasecmp(end, "g") == 0 || strcasecmp(end, "gib") == 0 || strcasecmp(end, "gb") == 0) scale = UINT64_C(1) << 30;
	else return false;
	if(value > UINT64_MAX / scale) return false;
	*out_bytes = (uint64_t)value * scale;
	return true;
}

bool ea_glob_match(const char *pattern, const char *text)
{
	if(pattern == NULL) return true;
	return fnmatch(pattern, text, 0) == 0;
}

/* Length of the topic level starting at s (up to '/' or end). */
static size_t level_len(const char *s, const char *end)
{
	const char *p = s;
	while(p < end && *p != '/') p++;
	return (size_t)(p - s);
}

bool ea_topic_matches(const char *filter, const char *topic)
{
	const char *f = filter, *fend = filter + strlen(filter);
	const char *t = topic, *tend = topic + strlen(topic);

	if(*topic == '$' && (*filter == '+' || *filter == '#')) return false;
	for(;;){
		size_t flen = level_len(f, fend);
		size_t tlen = level_len(t, tend);

		if(flen == 1 && *f == '#') return true;
		if(t > tend) return false;
		if(!(flen == 1 && *f == '+')){
			if(flen != tlen || memcmp(f, t, flen) != 0) return false;
		}
		f += flen;
		t += tlen;
		if(f == fend && t == tend) return true;
		if(f == fend) return false;
		/* f is at '/' */
		f++;
		if(t == tend){
			/* "a/#" matches "a": the rest of the filter must be "#" */
			return strcmp(f, "#") == 0;
		}
		t++;
	}
}

bool ea_topic_filter_valid(const char *filter)
{
	size_t len;
	const char *p;

	if(filter == NULL) return false;
	len = strlen(filter);
	if(len == 0 || len > 65535 || !ea_utf8_valid(filter, len)) return false;
	for(p = filter; *p; p++){
		if(*p == '+'){
			if((p != filter && p[-1] != '/') || (p[1] != '\0' && p[1] != '/')) return false;
		}else if(*p == '#'){
			if((p != filter && p[-1] != '/') || p[1] != '\0') return false;
		}
	}
	return true;
}

bool ea_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while(i < len){
		unsigned char c = p[i];
		uint32_t cp;
		size_t n, k;

		if(c == 0) return false;
		if(c < 0x80){ i++; continue; }
		if((c & 0xE0) == 0xC0){ n = 1; cp = c & 0x1Fu; }
		else if((c & 0xF0) == 0xE0){ n = 2; cp = c & 0x0Fu; }
		else if((c & 0xF8) == 0xF0){ n = 3; cp = c & 0x07u; }
		else return false;
		if(i + n >= len) return false; /* truncated sequence */
		for(k = 1; k <= n; k++){
			if((p[i + k] & 0xC0) != 0x80) return false;
			cp = (cp << 6) | (p[i + k] & 0x3Fu);
		}
		if((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
		if(cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
		i += n + 1;
	}
	return true;
}

uint64_t ea_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for(i = 0; i < len; i++){
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

ea_value_type ea_value_type_parse(const char *name)
{
	if(name == NULL || *name == '\0') return EA_TYPE_NONE;
	if(strcasecmp(name, "int") == 0 || strcasecmp(name, "integer") == 0
			|| strcasecmp(name, "int64") == 0 || strcasecmp(name, "int32") == 0){
		return EA_TYPE_INT;
	}
	if(strcasecmp(name, "float") == 0 || strcasecmp(name, "double") == 0
			|| strcasecmp(name, "float64") == 0 || strcasecmp(name, "float32") == 0){
		return EA_TYPE_FLOAT;
	}
	if(strcasecmp(name, "boolean") == 0 || strcasecmp(name, "bool") == 0) return EA_TYPE_BOOLEAN;
	if(strcasecmp(name, "string") == 0) return EA_TYPE_STRING;
	return EA_TYPE_OTHER;
}

const char *ea_value_type_name(ea_value_type t)
{
	switch(t){
		case EA_TYPE_NONE: return "none";
		case EA_TYPE_INT: return "int";
		case EA_TYPE_FLOAT: return "float";
		case EA_TYPE_BOOLEAN: return "boolean";
		case EA_TYPE_STRING: return "string";
		case EA_TYPE_OTHER: return "other";
	}
	return "other";
}

/* strtod/strtoll on the whole text, no leading or trailing space. */
static bool parse_double(const char *text, double *out)
{
	char *end = NULL;
	double v;

	if(*text == '\0' || isspace((unsigned char)*text)) return false;
	errno = 0;
	v = strtod(text, &end);
	if(end == text || *end != '\0') return false;
	if(errno == ERANGE && fabs(v) > 1.0) return false; /* overflow */
	*out = v;
	return true;
}

static bool parse_int(const char *text, double *out)
{
	char *end = NULL;
	long long v;

	if(*text == '\0' || isspace((unsigned char)*text)) return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if(errno != 0 || end == text || *end != '\0') return false;
	*out = (double)v;
	return true;
}

static bool parse_bool(const char *text, double *out)
{
	if(strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0){ *out = 1.0; return true; }
	if(strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0){ *out = 0.0; return true; }
	return false;
}

bool ea_sample_is_boolean(const ea_sample *s)
{
	if(s->declared == EA_TYPE_BOOLEAN) return true;
	return s->declared == EA_TYPE_NONE && s->text != NULL
			&& (strcasecmp(s->text, "true") == 0 || strcasecmp(s->text, "false") == 0);
}

void ea_sample_classify(ea_sample *s, const char *text, ea_value_type declared)
{
	double v = 0.0;

	s->text = text;
	s->declared = declared;
	s->has_number = false;
	s->type_ok = false;
	s->number = 0.0;
	switch(declared){
		case EA_TYPE_INT:
			s->type_ok = parse_int(text, &v);
			if(!s->type_ok && parse_double(text, &v) && isfinite(v)){
				s->has_number = true; /* "21.0" for an int: a number, wrong type */
			}
			s->has_number = s->has_number || s->type_ok;
			break;
		case EA_TYPE_FLOAT:
			s->type_ok = parse_double(text, &v) && isfinite(v);
			s->has_number = s->type_ok;
			break;
		case EA_TYPE_BOOLEAN:
			s->type_ok = parse_bool(text, &v);
			s->has_number = s->type_ok;
			break;
		case EA_TYPE_STRING:
		case EA_TYPE_OTHER:
			s->type_ok = true;
			break;
		case EA_TYPE_NONE:
			s->type_ok = true;
			if(parse_double(text, &v) && isfinite(v)) s->has_number = true;
			else if(parse_bool(text, &v)) s->has_number = true;
			break;
	}
	if(s->has_number) s->number = v;
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool read_digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for(i = 0; i < n; i++){
		if((*p)[i] < '0' || (*p)[i] > '9') return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool parse_epoch_number(const char *text, int64_t *out_ms)
{
	const char *p = text;
	char *end = NULL;
	double v;

	if(*p == '+' || *p == '-') return false;
	for(; *p != '\0'; p++) if(!((*p >= '0' && *p <= '9') || *p == '.')) return false;
	if(p == text) return false;
	v = strtod(text, &end);
	if(end == text || *end != '\0' || !isfinite(v)) return false;
	if(v < 1e11) v *= 1000.0; /* seconds */
	if(v > 253402300799999.0) return false;
	*out_ms = (int64_t)llround(v);
	return true;
}

bool ea_parse_timestamp(const char *text, int64_t *out_ms)
{
	const char *p = text;
	int year, month, day, hour, minute, second, frac_ms = 0;
	int64_t offset_min = 0, days;
	static const int month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if(text == NULL || *text == '\0') return false;
	if(strchr(text, '-') == NULL || strlen(text) < 19) return parse_epoch_number(text, out_ms);
	if(!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) || *p++ != '-'
			|| !read_digits(&p, 2, &day)) return false;
	if(*p != ' ' && *p != 'T' && *p != 't') return false;
	p++;
	if(!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute) || *p++ != ':'
			|| !read_digits(&p, 2, &second)) return false;
	if(*p == '.'){
		int digits = 0, scale = 100;
		p++;
		while(*p >= '0' && *p <= '9'){
			if(digits < 3) frac_ms += (*p - '0') * scale;
			scale /= 10;
			digits++;
			p++;
		}
		if(digits == 0) return false;
	}
	if(*p == 'Z' || *p == 'z'){
		p++;
	}else if(*p == '+' || *p == '-'){
		int oh, om, sign = *p == '-' ? -1 : 1;
		p++;
		if(!read_digits(&p, 2, &oh) || *p++ != ':' || !read_digits(&p, 2, &om) || oh > 23 || om > 59) return false;
		offset_min = sign * (oh * 60 + om);
	}
	if(*p != '\0') return false;
	if(year < 1 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 || minute > 59
			|| second > 60) return false;
	if(month == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return false;
	days = days_from_civil(year, month, day);
	*out_ms = ((days * 24 + hour) * 60 + minute) * 60000 + (int64_t)second * 1000 + frac_ms - offset_min * 60000;
	return true;
}

size_t ea_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, n = 0;

	for(i = 0; i < len; i++){
		int c = (unsigned char)in[i], v;
		if(c >= 'A' && c <= 'Z') v = c - 'A';
		else if(c >= 'a' && c <= 'z') v = c - 'a' + 26;
		else if(c >= '0' && c <= '9') v = c - '0' + 52;
		else if(c == '+' || c == '-') v = 62;
		else if(c == '/' || c == '_') v = 63;
		else if(c == '=') break;
		else if(c == '\n' || c == '\r' || c == ' ') continue;
		else return SIZE_MAX;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if(bits >= 8){
			bits -= 8;
			if(n == out_len) return SIZE_MAX;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	for(; i < len; i++){
		if(in[i] != '=' && in[i] != '\n' && in[i] != '\r') return SIZE_MAX; /* data after padding */
	}
	return n;
}
