/* SPDX-License-Identifier: Apache-2.0
 *
 * ea.h - core types of the edge-anomaly detector library.
 *
 * The library knows nothing of mosquitto: the broker plugin, the CLI
 * (replay, simulate, check-config), the tests and the fuzzers all drive it
 * through the same functions. Everything here is plain C11 plus POSIX.
 *
 * Names: public ones start with `ea_`; internal non-static ones shared
 * between files of the library use `ea__`.
 */
#ifndef EA_H
#define EA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------
 * Errors: one enum, 0 = success, generated from one list together with
 * ea_strerror() and ea_errname().
 * ------------------------------------------------------------------- */
#define EA_ERRNO_MAP(X)                                                   \
	X(OK, "success")                                                      \
	X(NOMEM, "out of memory")                                             \
	X(INVAL, "invalid argument")                                          \
	X(PARSE, "malformed input")                                           \
	X(CONFIG, "invalid configuration")                                    \
	X(IO, "input/output error")                                           \
	X(FULL, "capacity reached")                                           \
	X(NOT_FOUND, "not found")                                             \
	X(UNSUPPORTED, "unsupported input")

typedef enum ea_err {
#define EA_ERR_ENUM(name, text) EA_ERR_##name,
	EA_ERRNO_MAP(EA_ERR_ENUM)
#undef EA_ERR_ENUM
	EA_ERR__COUNT
} ea_err;

/* Returns a static string; never NULL. */
const char *ea_strerror(ea_err err);
/* Returns the enum name without prefix ("NOMEM"); static; never NULL. */
const char *ea_errname(ea_err err);

/* Longest names the library keeps (longer ones are rejected as malformed). */
#define EA_NAME_MAX 256

/* ---------------------------------------------------------------------
 * Samples: one value of one property of one device at one time.
 * ------------------------------------------------------------------- */

/* The type a twin declares in metadata.type (KubeEdge) or valueType. */
typedef enum ea_value_type {
	EA_TYPE_NONE = 0, /* not declared: inferred from the text */
	EA_TYPE_INT,      /* "int", "integer" */
	EA_TYPE_FLOAT,    /* "float", "double" */
	EA_TYPE_BOOLEAN,  /* "boolean", "bool" */
	EA_TYPE_STRING,   /* "string" */
	EA_TYPE_OTHER     /* declared but not one of the above (e.g. "bytes") */
} ea_value_type;

/* Where a sample came from. */
typedef enum ea_source {
	EA_SOURCE_TWIN_UPDATE = 0, /* $hw/events/device/.../twin/update */
	EA_SOURCE_TWIN_DOCUMENT,   /* $hw/events/device/.../twin/update/document */
	EA_SOURCE_DEVICE_STATE,    /* $hw/events/device/.../state/update */
	EA_SOURCE_REPLAY,          /* offline replay, tests */
	EA_SOURCE_EDGEX            /* edgex/events/device/... */
} ea_source;

typedef struct ea_sample {
	/* All strings are borrowed from the caller and NUL-terminated; they are
	 * valid only during the call that receives the sample. */
	const char *ns;
	const char *device;
	const char *property;
	const char *text;        /* the value as reported; "" when absent */
	ea_value_type declared;  /* declared type, EA_TYPE_NONE if absent */
	bool has_number;         /* number holds the numeric value (booleans 0/1) */
	bool type_ok;            /* text parses as the declared type */
	double number;
	int64_t time_ms;         /* sample time, ms since the epoch */
	int64_t arrival_ms;      /* when the library received it */
	ea_source source;
	bool desired;            /* twin "expected" (desired) value, not "actual" */
	bool has_time;           /* time_ms came from the payload (else arrival) */
	const char *event_id;    /* the message's "event_id"; "" when absent */
	const char *model;       /* EdgeX profile of the reading, or NULL */
	bool unscored;           /* a reading with no value to judge (EdgeX null,
	                          * binary or object readings): counted only */
} ea_sample;

/* Parses `text` as `declared` into s->number, s->has_number, s->type_ok.
 * A NaN or infinite number is never "ok" for a numeric type. */
void ea_sample_classify(ea_sample *s, const char *text, ea_value_type declared);

/* true for a boolean value: declared boolean, or undeclared "true"/"false".
 * Detectors of numeric behaviour (spike, stuck) skip these. */
bool ea_sample_is_boolean(const ea_sample *s);

/* Maps "int", "integer", "float", "double", "boolean", "bool", "string"
 * (any case) to the enum; NULL or "" gives EA_TYPE_NONE. */
ea_value_type ea_value_type_parse(const char *name);
const char *ea_value_type_name(ea_value_type t);

/* ---------------------------------------------------------------------
 * Small utilities used across the library and its callers.
 * ------------------------------------------------------------------- */

/* Milliseconds since the epoch, wall clock. */
int64_t ea_now_ms(void);
/* Monotonic nanoseconds. */
int64_t ea_mono_ns(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds,
 * "2026-11-22T08:00:00.000Z", into buf (at least 32 bytes). Returns buf. */
char *ea_format_time(int64_t ms, char *buf, size_t len);

/* Parses a timestamp into ms since the epoch: "YYYY-MM-DD HH:MM:SS[.fff]"
 * (UTC), RFC 3339 ("2026-11-22T08:00:00.5Z", "...+02:00"), or a plain
 * number of epoch seconds or, from 10^11 on (1973 in ms, year 5138 in s),
 * milliseconds, with an optional fraction. The whole text must match.
 * Returns false for anything else or a time outside years 1..9999. */
bool ea_parse_timestamp(const char *text, int64_t *out_ms);

/* Decodes base64 (standard or URL alphabet, padding optional, line breaks
 * ignored) into out; returns the bytes written, or SIZE_MAX for a
 * character outside the alphabet, data after padding, or too small out. */
size_t ea_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_len);

/* Parses "250ms", "30s", "5m", "2h", "1d" or a bare number of seconds into
 * milliseconds. Returns false on anything else (negative, junk, overflow). */
bool ea_parse_duration_ms(const char *text, int64_t *out_ms);

/* Parses "4096", "64k"/"64KiB", "16M"/"16MiB", "1G"/"1GiB" into bytes. */
bool ea_parse_size(const char *text, uint64_t *out_bytes);

/* Shell glob match (fnmatch without flags). NULL pattern matches anything. */
bool ea_glob_match(const char *pattern, const char *text);

/* MQTT topic filter match with + and #; a topic starting with '$' is not
 * matched by a wildcard in the first level, as in the MQTT spec. */
bool ea_topic_matches(const char *filter, const char *topic);

/* true when `filter` is a valid MQTT subscription filter. */
bool ea_topic_filter_valid(const char *filter);

/* true when the bytes are valid UTF-8 without NUL. */
bool ea_utf8_valid(const char *s, size_t len);

/* 64-bit FNV-1a over bytes; seed with EA_HASH_SEED or a previous hash. */
#define EA_HASH_SEED UINT64_C(14695981039346656037)
uint64_t ea_hash_bytes(uint64_t h, const void *data, size_t len);

#endif
