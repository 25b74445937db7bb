/* SPDX-License-Identifier: Apache-2.0
 *
 * external.h - sending samples of routes with `external:` to StreamDetect
 * servers (edge-anomaly-detectord or any implementation of the design's
 * service) and turning their answers into results.
 *
 * One client per distinct server (target, TLS files, token), each with its
 * own thread, gRPC channel and a bounded buffer of samples. Workers submit
 * samples without waiting (a full buffer drops and counts); the client
 * thread streams them, reconnects with backoff when the server goes away,
 * and hands a result to the sink on each change of the server's verdict
 * on a series (raised on "anomaly", cleared on the next "ok"), exactly
 * like a local detector's.
 */
#ifndef EA_EXTERNAL_H
#define EA_EXTERNAL_H

#include "ea_config.h"
#include "ea_engine.h"

#include <stdint.h>

typedef struct ea_ext_hub ea_ext_hub;

/* Receives results on a client thread; must be thread-safe. */
typedef void (*ea_ext_result_fn)(void *ctx, const ea_result *result);

typedef struct ea_ext_stats {
	uint64_t clients;         /* servers in use */
	uint64_t connected;       /* of them with an open stream */
	uint64_t sent;            /* samples sent */
	uint64_t answered;        /* responses received */
	uint64_t anomalies;       /* responses with status "anomaly" */
	uint64_t dropped_full;    /* samples not kept: buffer full (server away or slow) */
	uint64_t lost_in_flight;  /* samples sent but not answered when a stream broke */
	uint64_t reconnects;      /* streams opened after the first */
	uint64_t errors;          /* responses with status "error" or unreadable */
} ea_ext_stats;

/* A hub without clients (they start on the first sample for a server).
 * NULL on out of memory. */
ea_ext_hub *ea_ext_hub_new(ea_ext_result_fn sink, void *sink_ctx);

/* Stops every client thread and frees everything; accepts NULL. No
 * submit may run concurrently or later. */
void ea_ext_hub_free(ea_ext_hub *hub);

/* Any thread: queues a copy of the sample for the route's server. Never
 * waits on the network; takes a mutex for the copy. */
void ea_ext_hub_submit(ea_ext_hub *hub, const ea_external *external, const ea_sample *sample);

/* Sums the counters of all clients; any thread. */
void ea_ext_hub_stats(ea_ext_hub *hub, ea_ext_stats *out);

#endif
