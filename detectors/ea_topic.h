/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_topic.h - what a KubeEdge device topic says: its kind, namespace and
 * device. Runs on the broker thread (for sharding) and in workers, so it
 * allocates nothing and is O(topic length).
 *
 * Shapes (DESIGN.md):
 *   $hw/events/device/{name}/twin/update                (namespace "default")
 *   $hw/events/device/{ns}/{name}/twin/update
 *   $hw/events/device/[{ns}/]{name}/twin/update/document
 *   $hw/events/device/[{ns}/]{name}/state/update
 *   edgex/events/device/{service}/{profile}/{name}/{source}   (EdgeX; the
 *       namespace is the config's edgex.namespace, "edgex" here)
 */
#ifndef EA_TOPIC_H
#define EA_TOPIC_H

#include "ea.h"

#define EA_KUBEEDGE_PREFIX "$hw/events/device/"
#define EA_EDGEX_PREFIX "edgex/events/device/"
#define EA_EDGEX_NAMESPACE "edgex"

typedef enum ea_topic_kind {
	EA_TOPIC_UNKNOWN = 0,
	EA_TOPIC_TWIN_UPDATE,
	EA_TOPIC_TWIN_DOCUMENT,
	EA_TOPIC_DEVICE_STATE,
	EA_TOPIC_EDGEX_EVENT
} ea_topic_kind;

typedef struct ea_topic_info {
	ea_topic_kind kind;
	/* Borrowed: point into the topic passed in, or to the static string
	 * "default" for one-level device ids. Not NUL-terminated: use the
	 * lengths. */
	const char *ns;
	size_t ns_len;
	const char *device;
	size_t device_len;
} ea_topic_info;

/* Classifies `topic` (len bytes, need not be NUL-terminated). Returns
 * EA_ERR_OK and fills *out for the shapes above, EA_ERR_UNSUPPORTED for any
 * other topic (out->kind is then EA_TOPIC_UNKNOWN). */
ea_err ea_topic_parse(const char *topic, size_t len, ea_topic_info *out);

/* Hash that places every message of one device on one worker: the hash of
 * "ns/device" for the shapes above, of the whole topic otherwise. */
uint64_t ea_topic_shard_hash(const char *topic, size_t len);

const char *ea_topic_kind_name(ea_topic_kind kind);

#endif
