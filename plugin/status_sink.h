/* SPDX-License-Identifier: Apache-2.0
 *
 * status_sink.h - each device's current anomaly state, sent upstream into
 * its DeviceStatus (`status.extensions["edge-anomaly"]`, KubeEdge v1.23+)
 * through EdgeCore's MetaServer with JSON merge patches.
 *
 * Results (any thread) update a per-device table under a mutex; one
 * thread of its own sends the latest state of changed devices (coalesced:
 * only the newest state of a device is ever sent), at most once per
 * `min_interval` per device, retrying with backoff while the MetaServer or
 * the cloud link is down. While anything is unsent the table is also kept
 * in a file (`backlog`), so a broker restarted during an outage sends it
 * after. At most `max_devices` devices are tracked; results for more are
 * counted and dropped. A DeviceStatus that does not exist (404) is logged
 * once and tried again every minute.
 */
#ifndef EA_STATUS_SINK_H
#define EA_STATUS_SINK_H

#include "ea_engine.h"

#include <stdint.h>

typedef struct ea_status_sink ea_status_sink;

typedef void (*ea_status_log_fn)(int level, const char *message); /* 0 info, 1 warning, 2 error */

typedef struct ea_status_settings {
	const char *url;          /* MetaServer base, e.g. http://127.0.0.1:10550 */
	const char *token_file;   /* ServiceAccount token (HTTPS set-ups), or NULL */
	const char *ca_file;      /* CA for HTTPS, or NULL for the system's */
	const char *backlog_path; /* file for unsent state, or NULL */
	int64_t min_interval_ms;  /* per device */
	int64_t timeout_ms;       /* per request */
	size_t max_devices;
	ea_status_log_fn log;     /* may be NULL */
} ea_status_settings;

typedef struct ea_status_stats {
	uint64_t devices;         /* tracked now */
	uint64_t pending;         /* with state not yet sent */
	uint64_t patches_sent;    /* accepted by the MetaServer */
	uint64_t failures;        /* failed requests (retried) */
	uint64_t missing;         /* 404: no DeviceStatus (yet) */
	uint64_t dropped;         /* results for devices beyond max_devices */
	uint64_t backlog_writes;  /* times the backlog file was written */
} ea_status_stats;

/* Loads the backlog (if any) and starts the sender. NULL with a message. */
ea_status_sink *ea_status_open(const ea_status_settings *settings, char *err, size_t err_len);

/* Stops the sender (the backlog file keeps what is unsent); accepts NULL. */
void ea_status_close(ea_status_sink *sink);

/* Any thread: a change of verdict on a series. */
void ea_status_result(ea_status_sink *sink, const ea_result *result);

void ea_status_stats_read(ea_status_sink *sink, ea_status_stats *out);

#endif
