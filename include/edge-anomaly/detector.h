/* SPDX-License-Identifier: Apache-2.0
 *
 * edge-anomaly/detector.h - the ABI for detectors written by users and
 * loaded from a shared object named in the YAML config.
 *
 * A detector library exports one function,
 *
 *     const struct edge_anomaly_detector *const *edge_anomaly_detectors(void);
 *
 * returning a NULL-terminated list of detector tables that live as long as
 * the library. The config names the library, and its detectors are then
 * used like built-in ones:
 *
 *     detector_libraries: [/usr/local/lib/edge-anomaly/detectors/libmine.so]
 *     routes:
 *       - match: {property: pressure}
 *         detectors: [{hysteresis: {high: 8, low: 6}}]
 *
 * Rules of the ABI (version EDGE_ANOMALY_DETECTOR_ABI):
 * - Never changes, in any version: the entry point (its name and its
 *   signature, a NULL-terminated list of pointers to tables) and the first
 *   member of every table, `uint32_t abi_version`. That is all edge-anomaly
 *   reads before it has checked the version.
 * - Everything else (the members and meaning of every struct, the callback
 *   signatures, the parameter kinds) belongs to one version: any change to
 *   it makes a new version number. edge-anomaly refuses a library whose
 *   tables carry another version, with a message naming the file and both
 *   versions; rebuild the library against the header of the edge-anomaly it
 *   runs in (a rebuild is all it takes when the source still compiles).
 * - State: edge-anomaly allocates `state_size` bytes (at most
 *   EDGE_ANOMALY_STATE_MAX) per series and detector, zeroed, aligned to 8
 *   bytes, and hands them to every call for that series. Keep plain bytes
 *   there (numbers, fixed arrays): a state is dropped without a call to you
 *   (series evicted, config reloaded, broker stopped), so it must not own
 *   memory, files or anything else that needs freeing, and must not hold
 *   pointers.
 * - Calls for one series come from one worker thread, one at a time; calls
 *   for different series may run in parallel on other threads. Detectors
 *   need no locks for their state; anything shared between series must be
 *   read-only (or your own thread-safe code).
 * - The sample and its strings are valid during the call only: copy what you
 *   keep into the state, never a pointer to them.
 * - Never block, sleep, lock or do I/O in observe() or idle(): they run in
 *   the broker's worker threads at the rate messages arrive, and a slow
 *   detector makes the queues overflow (samples dropped, counted).
 * - Parameters arrive as doubles in the order of `params`; durations in
 *   milliseconds, booleans 0 or 1, an optional parameter left unset is NaN.
 *   edge-anomaly checks kinds and bounds before validate() sees them.
 * - Names (of detectors and parameters) are 1 to 63 letters, digits, '_'
 *   or '-', and a detector's name must not be taken by a built-in detector
 *   or by another library loaded in the same process.
 * - Tables, names and strings must live as long as the library: it is
 *   never unloaded (configs and states made from it may outlive a reload).
 *   A changed library file takes effect at the next broker start.
 * - Threat model: the YAML config is trusted (written by the operator); a
 *   detector library runs inside the broker with the broker's privileges
 *   and sees every sample routed to it, like the plugin itself. Install only
 *   code you trust, in a directory writable only by root; edge-anomaly
 *   refuses a library file that every user may write.
 *
 * Build one (define the entry point in the file that includes this header,
 * so it is exported even with -fvisibility=hidden):
 *
 *     cc -std=c11 -Wall -Wextra -shared -fPIC -O2 -I/usr/local/include \
 *        -o libmine.so mine.c
 */
#ifndef EDGE_ANOMALY_DETECTOR_H
#define EDGE_ANOMALY_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#define EDGE_ANOMALY_DETECTOR_ABI 1
#define EDGE_ANOMALY_MAX_PARAMS 8
#define EDGE_ANOMALY_REASON_MAX 200
#define EDGE_ANOMALY_STATE_MAX 65536
#define EDGE_ANOMALY_ENTRY_SYMBOL "edge_anomaly_detectors"

/* Exports the entry point from a library built with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define EDGE_ANOMALY_EXPORT __attribute__((visibility("default")))
#else
#define EDGE_ANOMALY_EXPORT
#endif

enum edge_anomaly_param_kind {
	EDGE_ANOMALY_PARAM_NUMBER = 0,   /* any finite number */
	EDGE_ANOMALY_PARAM_INTEGER = 1,  /* whole number */
	EDGE_ANOMALY_PARAM_DURATION = 2, /* "30s", "5m" in the YAML; milliseconds here */
	EDGE_ANOMALY_PARAM_BOOL = 3      /* true/false in the YAML; 1/0 here */
};

struct edge_anomaly_param {
	const char *name;     /* as written in the YAML */
	int kind;             /* enum edge_anomaly_param_kind */
	double default_value; /* NaN: unset unless configured */
	double min, max;      /* inclusive bounds on a configured value */
	const char *doc;      /* one line for check-config */
};

/* One reading. All strings NUL-terminated, valid during the call only. */
struct edge_anomaly_sample {
	const char *ns, *device, *property;
	const char *text;    /* the value as reported */
	int has_number;      /* number is the value (booleans 0/1) */
	int is_boolean;
	double number;
	int64_t time_ms;     /* sample time, ms since the epoch */
	int64_t arrival_ms;  /* when the broker received it */
	int has_time;        /* time_ms came from the payload */
	int desired;         /* a twin "expected" value (only if wants_desired) */
	const char *event_id;/* KubeEdge event id, "" when absent */
};

enum edge_anomaly_state {
	EDGE_ANOMALY_SKIP = 0,   /* no opinion (learning, not for me) */
	EDGE_ANOMALY_NORMAL = 1,
	EDGE_ANOMALY_ANOMALY = 2
};

struct edge_anomaly_verdict {
	int state;           /* enum edge_anomaly_state; SKIP on entry */
	double score;        /* 0 normal .. 1 certainly anomalous */
	double confidence;   /* 0 .. 1 */
	char reason[EDGE_ANOMALY_REASON_MAX]; /* a sentence a person can act on (UTF-8) */
	/* Set on entry: 0 when the reason of a NORMAL (resp. ANOMALY) verdict
	 * will not be read, so formatting it (the costly part) can be skipped. */
	int explain_normal;
	int explain_anomaly;
};

struct edge_anomaly_detector {
	uint32_t abi_version; /* EDGE_ANOMALY_DETECTOR_ABI */
	const char *name;     /* as used in the YAML: letters, digits, '_' and '-' */
	const char *kind;     /* what the result reports: "hysteresis", ... */
	const char *summary;  /* one line */
	const struct edge_anomaly_param *params;
	size_t param_count;   /* at most EDGE_ANOMALY_MAX_PARAMS */
	size_t state_size;    /* bytes per series, zeroed at start, 8-byte aligned;
	                       * at most EDGE_ANOMALY_STATE_MAX */
	int numeric_only;     /* only readings with a number */
	int wants_desired;    /* also twin "expected" values */
	/* After all parameters are set; 0 and a message in err if invalid. May
	 * be NULL. */
	int (*validate)(const double *params, char *err, size_t err_len);
	/* One reading of the series. Required. */
	void (*observe)(const double *params, void *state, const struct edge_anomaly_sample *s,
			struct edge_anomaly_verdict *v);
	/* Periodically while the series is quiet, with the wall clock. May be
	 * NULL. */
	void (*idle)(const double *params, void *state, int64_t now_ms, struct edge_anomaly_verdict *v);
};

/* The one symbol a detector library exports: its detectors, a
 * NULL-terminated list of tables that live as long as the library. */
EDGE_ANOMALY_EXPORT const struct edge_anomaly_detector *const *edge_anomaly_detectors(void);

#endif
