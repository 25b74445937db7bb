/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_detector.h - the one interface every detector implements.
 *
 * A detector is a table of functions plus a table of parameters. The engine
 * owns each series' state: it allocates `state_size` zeroed bytes per
 * series for each detector in the series' chain, so a fresh state is all
 * zeros and detectors need no init function. State belongs to exactly one
 * worker thread; detectors need no locks and must not keep pointers to the
 * sample past the call.
 *
 * Each call fills an ea_verdict: EA_VERDICT_SKIP when the detector has no
 * opinion (still learning, or the sample is not for it), NORMAL or ANOMALY
 * otherwise. The engine turns changes of verdict into results.
 */
#ifndef EA_DETECTOR_H
#define EA_DETECTOR_H

#include "ea.h"

#define EA_MAX_PARAMS 8
#define EA_REASON_MAX 200

typedef enum ea_param_kind {
	EA_PARAM_NUMBER,   /* any finite double */
	EA_PARAM_INTEGER,  /* whole number */
	EA_PARAM_DURATION, /* "30s", "5m", seconds; stored as milliseconds */
	EA_PARAM_BOOL      /* true/false; stored as 1/0 */
} ea_param_kind;

typedef struct ea_param_spec {
	const char *name;
	ea_param_kind kind;
	double default_value; /* NAN: unset unless configured ("off") */
	double min;           /* inclusive bounds on a configured value */
	double max;
	const char *doc;      /* one line for check-config and the README */
} ea_param_spec;

/* Resolved parameters of one detector instance, in the order of its specs.
 * An unset optional parameter is NAN. */
typedef struct ea_params {
	double v[EA_MAX_PARAMS];
} ea_params;

typedef enum ea_verdict_state {
	EA_VERDICT_SKIP = 0,
	EA_VERDICT_NORMAL,
	EA_VERDICT_ANOMALY
} ea_verdict_state;

typedef struct ea_verdict {
	ea_verdict_state state;
	double score;      /* 0 (normal) .. 1 (certainly anomalous) */
	double confidence; /* 0 .. 1, how sure the detector is of its verdict */
	char reason[EA_REASON_MAX]; /* a sentence a person can act on */
	/* Set by the caller before the call: false when a NORMAL verdict's
	 * reason will not be read (nothing was raised), so ea_verdict_set skips
	 * formatting it, the costliest part of most detectors. */
	bool explain_normal;
	/* Set by the caller: true when an ANOMALY verdict's reason will not be
	 * read either (already raised, no repeat due), so ea_verdict_set skips
	 * formatting it too. Zero (the default) formats it. */
	bool quiet_anomaly;
} ea_verdict;

typedef struct ea_detector_type {
	const char *name;    /* as written in the YAML: "range", "stuck", ... */
	const char *kind;    /* what it reports: "out-of-range", "stuck", ... */
	const char *summary; /* one line */
	const ea_param_spec *params;
	size_t param_count;
	size_t state_size;   /* bytes of per-series state, zeroed at start; for
	                      * detectors with state_size_for, the most it can be */
	/* Bytes of state for these parameters (e.g. a window), at most
	 * state_size. NULL: always state_size. */
	size_t (*state_size_for)(const ea_params *p);
	bool numeric_only;   /* skip samples without a number */
	bool wants_desired;  /* also given twin "expected" values (s->desired);
	                      * every other detector sees reported values only */

	/* Cross-parameter check after all values are set (e.g. min < max).
	 * Writes a message into err and returns false when invalid. May be NULL. */
	bool (*validate)(const ea_params *p, char *err, size_t err_len);
	/* Observes one sample of the series. */
	void (*observe)(const ea_params *p, void *state, const ea_sample *s,
			ea_verdict *v);
	/* Called periodically while the series is quiet, with the wall clock in
	 * ms. NULL for detectors that only react to samples. */
	void (*idle)(const ea_params *p, void *state, int64_t now_ms,
			ea_verdict *v);
} ea_detector_type;

/* The built-in detectors, NULL-terminated; static. */
const ea_detector_type *const *ea_detector_builtins(void);
/* Finds a detector by name, built-in or loaded from a library; NULL when
 * unknown. */
const ea_detector_type *ea_detector_find(const char *name);

/* Detectors from users' shared objects (ea_plugin_detector.c, ABI in
 * include/edge-anomaly/detector.h). Loading is refused until a program
 * allows it (the plugin, the CLI and detectord do; fuzz targets never). */
#define EA_PLUGIN_DETECTORS_MAX 32 /* detectors from all libraries together */
void ea_plugin_detectors_allow(bool allow);
/* Loads the detectors of the library at `path` (once per file: the same
 * file again returns at once). Returns the library's resolved path, owned
 * by the library table and valid for the life of the process (libraries
 * are never unloaded); NULL with a message naming the file in err.
 * Thread-safe. */
const char *ea_plugin_detectors_load(const char *path, char *err, size_t err_len);
/* A loaded detector by name, or NULL. */
const ea_detector_type *ea_plugin_detector_find(const char *name);
/* The index-th loaded detector (0, 1, ...), NULL past the last. */
const ea_detector_type *ea_plugin_detector_at(size_t index);
/* The resolved path of the library a loaded detector came from (the
 * pointer ea_plugin_detectors_load returned), or NULL for a built-in. */
const char *ea_plugin_detector_library(const ea_detector_type *type);
/* Internal, for tests: checks a library's NULL-terminated list of tables
 * as loading does (version, names, parameters, sizes, callbacks, names
 * taken), with `room` slots free. Returns how many detectors it lists, or
 * 0 with a message naming `path` in err. */
struct edge_anomaly_detector;
size_t ea_plugin__check_list(const struct edge_anomaly_detector *const *list, size_t room, const char *path,
		char *err, size_t err_len);

/* Bytes of per-series state an instance with these parameters needs. */
size_t ea_detector_state_size(const ea_detector_type *type, const ea_params *p);

/* Sets every parameter to its default. */
void ea_params_defaults(const ea_detector_type *type, ea_params *p);
/* Index of the parameter called `name`, or -1. */
int ea_param_index(const ea_detector_type *type, const char *name);
/* Parses `text` for parameter `index` and stores it. On failure writes a
 * message into err (e.g. "expects a duration like 30s or 5m") and returns
 * false. */
bool ea_param_set(const ea_detector_type *type, ea_params *p, int index,
		const char *text, char *err, size_t err_len);
/* Formats a parameter's value for people ("30s", "120", "off"). */
void ea_param_format(const ea_param_spec *spec, double value, char *buf,
		size_t len);

/* Helper for detectors: fills a verdict. `fmt` is a printf format. */
void ea_verdict_set(ea_verdict *v, ea_verdict_state state, double score,
		double confidence, const char *fmt, ...)
		__attribute__((format(printf, 5, 6)));

/* Built-in detector tables, one file each. */
extern const ea_detector_type ea_detector_range;
extern const ea_detector_type ea_detector_stuck;
extern const ea_detector_type ea_detector_spike;
extern const ea_detector_type ea_detector_staleness;
extern const ea_detector_type ea_detector_type_check;
extern const ea_detector_type ea_detector_device_state;
extern const ea_detector_type ea_detector_auto;
extern const ea_detector_type ea_detector_level_shift;
extern const ea_detector_type ea_detector_drift;
extern const ea_detector_type ea_detector_flatline;
extern const ea_detector_type ea_detector_rate;
extern const ea_detector_type ea_detector_delay;
extern const ea_detector_type ea_detector_out_of_order;
extern const ea_detector_type ea_detector_duplicate;
extern const ea_detector_type ea_detector_replay;
extern const ea_detector_type ea_detector_envelope;
extern const ea_detector_type ea_detector_desired;

#endif
