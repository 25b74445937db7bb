/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_mirror.h - the data mirror: a copy of tapped samples and of every
 * result in an embedded SQLite database, for offline training
 * (`edge-anomaly export`).
 *
 * Any thread hands records to the mirror (a copy into a bounded queue
 * under a mutex, never I/O); one writer thread of its own inserts them in
 * batches, one transaction each, in WAL mode, and applies the retention
 * (age and size cap) once a minute. A full queue drops records and counts
 * them. After a kill -9 the database is intact (WAL) and holds every
 * committed batch: at most the records of the batch being written and
 * those still queued (at most `batch` records plus the queue) are lost.
 *
 * Schema (also read by export):
 *   samples(ns, device, property, ts, arrival, value, num)
 *   results(ns, device, property, ts, detected_at, detector, kind,
 *           anomaly, score, reason, value)
 * ts is the sample time and arrival/detected_at the broker's, all ms since
 * the epoch; num is the value as a number or NULL.
 */
#ifndef EA_MIRROR_H
#define EA_MIRROR_H

#include "ea.h"
#include "ea_engine.h"

#include <stdint.h>

typedef struct ea_mirror ea_mirror;

typedef struct ea_mirror_settings {
	const char *path;       /* database file; created if missing */
	int64_t retention_ms;   /* older samples and results are deleted; 0 keeps all */
	uint64_t max_size;      /* bytes; oldest rows deleted beyond it; 0: no cap */
	size_t queue_records;   /* records waiting at most (default 100000) */
	size_t batch;           /* records per transaction at most (default 5000) */
} ea_mirror_settings;

typedef struct ea_mirror_stats {
	uint64_t samples_written, results_written;
	uint64_t dropped;        /* queue full */
	uint64_t batches;
	uint64_t write_errors;   /* failed transactions (their records are lost) */
	uint64_t deleted;        /* rows removed by retention */
	uint64_t queued;         /* records waiting now */
} ea_mirror_stats;

/* Opens (creating the schema if needed) and starts the writer thread.
 * NULL with a message naming the file in err on failure. */
ea_mirror *ea_mirror_open(const ea_mirror_settings *settings, char *err, size_t err_len);

/* Writes what is queued, stops the thread, closes the database; accepts
 * NULL. No other call may run concurrently or later. */
void ea_mirror_close(ea_mirror *mirror);

/* Any thread: queue a copy. Never blocks on I/O. */
void ea_mirror_sample(ea_mirror *mirror, const ea_sample *sample);
void ea_mirror_result(ea_mirror *mirror, const ea_result *result);

/* Waits until everything queued before the call is committed (tests, the
 * CLI); false after timeout_ms. */
bool ea_mirror_flush(ea_mirror *mirror, int64_t timeout_ms);

/* Any thread. */
void ea_mirror_stats_read(ea_mirror *mirror, ea_mirror_stats *out);

/* Applies retention now (normally once a minute on the writer thread);
 * for tests. Returns the rows deleted. */
uint64_t ea_mirror_apply_retention(ea_mirror *mirror, int64_t now_ms);

#endif
