/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_payload.h - turns KubeEdge twin and state payloads into samples.
 *
 * Payloads are untrusted: anything may arrive. The parser never trusts a
 * length, a type or a nesting depth, reports where it stopped, and calls the
 * sample callback once per value found (actual and expected of every
 * property). Values are strings in KubeEdge; a JSON number or boolean is
 * accepted too and taken as its text.
 */
#ifndef EA_PAYLOAD_H
#define EA_PAYLOAD_H

#include "ea.h"
#include "ea_topic.h"

typedef struct ea_parse_error {
	size_t offset;      /* byte offset in the payload where it failed */
	char message[128];  /* what was wrong, for a log line */
} ea_parse_error;

/* Receives each sample; the sample and its strings are valid only during
 * the call. */
typedef void (*ea_sample_fn)(void *ctx, const ea_sample *sample);

/* Parses `payload` (len bytes, need not be NUL-terminated) published on a
 * topic of `kind` for device ns/device (NUL-terminated, borrowed).
 * Calls on_sample for each value. Returns EA_ERR_OK, EA_ERR_PARSE (err
 * filled; on_sample may already have been called for earlier properties
 * only when the JSON itself was valid), or EA_ERR_NOMEM. `err` may be NULL. */
ea_err ea_payload_parse(const char *payload, size_t len, ea_topic_kind kind,
		const char *ns, const char *device, int64_t arrival_ms,
		ea_sample_fn on_sample, void *ctx, ea_parse_error *err);

#endif
