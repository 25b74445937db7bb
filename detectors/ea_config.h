/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_config.h - the operator's YAML configuration, loaded with libyaml.
 *
 * Every key is checked against a table of known keys; a mistake is
 * reported as "FILE:LINE:COLUMN: key 'a.b': what is wrong", so the broker
 * refuses to start and says where. A config is immutable once loaded and
 * may be shared read-only between threads.
 */
#ifndef EA_CONFIG_H
#define EA_CONFIG_H

#include "ea.h"
#include "ea_detector.h"

/* One detector in a chain, with its resolved parameters. */
typedef struct ea_detector_instance {
	const ea_detector_type *type; /* static, never freed */
	ea_params params;
} ea_detector_instance;

/* A StreamDetect server a route also sends its samples to (route key
 * `external`). */
typedef struct ea_external {
	char *target;          /* owned "host:port"; NULL: no external server */
	char *tls_ca;          /* owned paths; tls_ca set: TLS to the server */
	char *tls_cert;        /* with tls_key: a client certificate (mutual TLS) */
	char *tls_key;
	char *token;           /* owned bearer token (given, or read from token_file), or NULL */
	char *token_file;      /* owned path the token was read from, or NULL */
	int64_t timeout_ms;    /* a response later than this: reconnect */
	uint64_t buffer;       /* samples kept while the server is away */
} ea_external;

typedef struct ea_chain {
	ea_detector_instance *items; /* owned by the config */
	size_t count;
	const ea_external *external; /* the route's, or NULL; borrowed */
	bool mirror;                 /* its samples go to the data mirror */
	const char *origin;          /* a chain made from a device model: "EdgeX profile X"; else NULL */
} ea_chain;

/* Checks made from a device model's property (EdgeX device profile or
 * KubeEdge DeviceModel): `type` and `range` with its minimum/maximum. */
typedef struct ea_model_checks {
	char *model;      /* owned: profile or DeviceModel name */
	char *property;   /* owned */
	bool edgex;       /* an EdgeX profile (else a KubeEdge DeviceModel) */
	char *origin;     /* owned: "EdgeX device profile X" */
	ea_chain chain;
} ea_model_checks;

/* A KubeEdge Device and its DeviceModel, from the models directory. */
typedef struct ea_device_model {
	char *ns, *device, *model; /* owned */
} ea_device_model;

/* A device group ("label"): devices matching any pattern belong to it.
 * Patterns are globs on "namespace/name", or on the name alone when the
 * pattern has no '/'. */
typedef struct ea_group {
	char *name;      /* owned */
	char **patterns; /* owned, `count` entries */
	size_t count;
} ea_group;

typedef struct ea_route {
	char *name;          /* owned; "route N" when not named */
	int line;            /* where it is in the YAML, for messages */
	/* Match fields: owned; NULL matches anything. */
	char *ns_glob;
	char *device_glob;
	char *property_glob;
	char **groups;       /* all must contain the device; owned */
	size_t group_count;
	ea_chain chain;
	ea_external external; /* target NULL: none */
	int mirror;           /* route key `mirror`: -1 not given, 0 false, 1 true */
} ea_route;

typedef struct ea_config {
	char *path; /* owned; "(defaults)" when built without a file */

	unsigned workers;           /* worker threads */
	unsigned queue_capacity;    /* messages per worker queue */
	uint64_t queue_max_bytes;   /* bytes of queued large payloads, all workers */
	uint64_t max_payload;       /* larger payloads are dropped and counted */
	size_t max_series;          /* per plugin; LRU eviction beyond it */
	size_t max_pending_results; /* results waiting for the tick */
	uint64_t max_pending_bytes; /* and the bytes they may hold */

	char **topics;              /* owned filters, topic_count entries */
	size_t topic_count;
	char **include;             /* device patterns; empty = all */
	size_t include_count;
	char **exclude;
	size_t exclude_count;
	char **tap_namespaces;      /* devices.namespaces: only these (empty: all) */
	size_t tap_namespace_count;
	char **tap_groups;          /* devices.groups: only members of these (empty: all) */
	size_t tap_group_count;
	ea_group *groups;
	size_t group_count;
	ea_route *routes;
	size_t route_count;
	ea_chain default_chain;

	/* The data mirror (`mirror:`); mirror_path NULL: off. */
	char *mirror_path;          /* owned */
	int64_t mirror_retention_ms;/* 0 keeps everything */
	uint64_t mirror_max_size;   /* bytes; 0: no cap */
	bool mirror_samples;        /* samples of routes without `mirror:` (and the default chain) */
	bool mirror_results;        /* every result */

	/* Device state sent to DeviceStatus (`device_status:`); status_url NULL: off. */
	char *status_url;           /* owned MetaServer base URL */
	char *status_token_file;    /* owned, or NULL */
	char *status_ca;            /* owned, or NULL */
	char *status_backlog;       /* owned file for unsent state, or NULL */
	int64_t status_interval_ms; /* at most one patch per device this often */
	int64_t status_timeout_ms;
	uint64_t status_max_devices;

	/* Device models (`models:`): checks for devices no route matches. */
	ea_model_checks *model_checks;
	size_t model_check_count;
	ea_device_model *device_models;
	size_t device_model_count;

	/* EdgeX (`edgex:`): tapped when enabled. */
	bool edgex_enabled;
	char *edgex_namespace;      /* owned; the namespace of this EdgeX instance's devices */
	char *edgex_result_topic;   /* owned template for their results */

	char *result_topic;         /* template with {namespace} {device} {property} */
	int result_qos;
	bool result_retain;
	int64_t repeat_interval_ms; /* repeat a raised state at most this often; 0 never */
	int64_t stats_interval_ms;  /* 0 disables $SYS counters */
	int64_t idle_check_ms;      /* how often quiet series are checked */
} ea_config;

/* Where a configuration error is. */
typedef struct ea_config_error {
	char message[512]; /* "FILE:LINE:COL: key 'x': ..." */
} ea_config_error;

/* Builds the defaults (no file). Returns NULL on out of memory.
 * The caller frees the result with ea_config_free. */
ea_config *ea_config_defaults(void);

/* Loads a YAML file. Returns a new config (caller frees with
 * ea_config_free) or NULL with err filled. */
ea_config *ea_config_load_file(const char *path, ea_config_error *err);

/* Loads YAML from memory; `name` is used in messages. Same ownership. */
ea_config *ea_config_load_string(const char *yaml, size_t len,
		const char *name, ea_config_error *err);

/* Frees a config; accepts NULL and half-built configs. */
void ea_config_free(ea_config *cfg);

/* true when the device is tapped (include/exclude). */
bool ea_config_device_included(const ea_config *cfg, const char *ns,
		const char *device);

/* true when the device belongs to the group called `name`. */
bool ea_config_device_in_group(const ea_config *cfg, const char *name,
		const char *ns, const char *device);

/* The route for a series: the first that matches, or NULL for the default
 * chain. */
const ea_route *ea_config_route(const ea_config *cfg, const char *ns,
		const char *device, const char *property);

/* The chain for a series (the route's or the default). Never NULL. */
/* The chain for a series: its route's; else, with no route, the checks of
 * its device model (EdgeX `model` = the reading's profile, or the KubeEdge
 * Device's DeviceModel from the models directory); else the default chain. */
const ea_chain *ea_config_chain_for(const ea_config *cfg, const char *ns, const char *device,
		const char *property, const char *model);

const ea_chain *ea_config_chain(const ea_config *cfg, const char *ns,
		const char *device, const char *property);

/* Writes a human-readable description of the resolved config (topics,
 * routes with their detectors and parameters) into `out`. */
#include <stdio.h>
void ea_config_describe(const ea_config *cfg, FILE *out);

/* Default topic filters (NULL-terminated, static). */
extern const char *const ea_default_topics[];

#endif
