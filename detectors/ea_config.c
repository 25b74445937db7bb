/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_config.c - loads and checks the YAML configuration (see ea_config.h
 * and the README's config reference) with libyaml's document API, which
 * keeps the line and column of every node for error messages.
 */
#include "ea_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <strings.h>
#include <yaml.h>

const char *const ea_default_topics[] = {
	"$hw/events/device/+/twin/update",
	"$hw/events/device/+/+/twin/update",
	"$hw/events/device/+/twin/update/document",
	"$hw/events/device/+/+/twin/update/document",
	"$hw/events/device/+/state/update",
	"$hw/events/device/+/+/state/update",
	NULL
};

#define DEFAULT_RESULT_TOPIC "edge-anomaly/{namespace}/{device}/{property}"
#define PATH_MAX_LEN 160

/* ------------------------------------------------------------------ */
/* Small owned-string helpers                                          */

static char *dup_str(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = malloc(len);
	if(d != NULL) memcpy(d, s, len);
	return d;
}

static void free_strv(char **v, size_t n)
{
	size_t i;
	if(v == NULL) return;
	for(i = 0; i < n; i++) free(v[i]);
	free(v);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_chain(ea_chain *c)
{
	free(c->items);
	c->items = NULL;
	c->count = 0;
}

void ea_config_free(ea_config *cfg)
{
	size_t i;

	if(cfg == NULL) return;
	free(cfg->path);
	free_strv(cfg->topics, cfg->topic_count);
	free_strv(cfg->include, cfg->include_count);
	free_strv(cfg->exclude, cfg->exclude_count);
	free_strv(cfg->tap_namespaces, cfg->tap_namespace_count);
	free_strv(cfg->tap_groups, cfg->tap_group_count);
	for(i = 0; i < cfg->group_count; i++){
		free(cfg->groups[i].name);
		free_strv(cfg->groups[i].patterns, cfg->groups[i].count);
	}
	free(cfg->groups);
	for(i = 0; i < cfg->route_count; i++){
		ea_route *r = &cfg->routes[i];
		free(r->name);
		free(r->ns_glob);
		free(r->device_glob);
		free(r->property_glob);
		free_strv(r->groups, r->group_count);
		free_chain(&r->chain);
		free(r->external.target);
		free(r->external.tls_ca);
		free(r->external.tls_cert);
		free(r->external.tls_key);
		free(r->external.token);
		free(r->external.token_file);
	}
	free(cfg->routes);
	free_chain(&cfg->default_chain);
	free(cfg->result_topic);
	for(i = 0; i < cfg->model_check_count; i++){
		free(cfg->model_checks[i].model);
		free(cfg->model_checks[i].property);
		free(cfg->model_checks[i].origin);
		free_chain(&cfg->model_checks[i].chain);
	}
	free(cfg->model_checks);
	for(i = 0; i < cfg->device_model_count; i++){
		free(cfg->device_models[i].ns);
		free(cfg->device_models[i].device);
		free(cfg->device_models[i].model);
	}
	free(cfg->device_models);
	free(cfg->mirror_path);
	free(cfg->edgex_namespace);
	free(cfg->edgex_result_topic);
	free(cfg->status_url);
	free(cfg->status_token_file);
	free(cfg->status_ca);
	free(cfg->status_backlog);
	free(cfg);
}

static bool chain_add(ea_chain *c, const ea_detector_type *type, const ea_params *params)
{
	ea_detector_instance *items = realloc(c->items, (c->count + 1) * sizeof(*items));
	if(items == NULL) return false;
	c->items = items;
	c->items[c->count].type = type;
	c->items[c->count].params = *params;
	c->count++;
	return true;
}

static bool default_chain(ea_chain *c)
{
	static const char *const names[] = { "type", "spike", "stuck", "staleness" };
	size_t i;

	for(i = 0; i < sizeof(names) / sizeof(names[0]); i++){
		const ea_detector_type *t = ea_detector_find(names[i]);
		ea_params p;
		ea_params_defaults(t, &p);
		if(!chain_add(c, t, &p)) return false;
	}
	return true;
}

static bool set_default_topics(ea_config *cfg)
{
	size_t n = 0, i;

	while(ea_default_topics[n] != NULL) n++;
	cfg->topics = calloc(n, sizeof(char *));
	if(cfg->topics == NULL) return false;
	for(i = 0; i < n; i++){
		cfg->topics[i] = dup_str(ea_default_topics[i]);
		if(cfg->topics[i] == NULL) return false;
		cfg->topic_count++;
	}
	return true;
}

ea_config *ea_config_defaults(void)
{
	ea_config *cfg = calloc(1, sizeof(*cfg));

	if(cfg == NULL) return NULL;
	cfg->workers = 2;
	cfg->queue_capacity = 8192;
	cfg->queue_max_bytes = UINT64_C(16) << 20;
	cfg->max_payload = UINT64_C(1) << 20;
	cfg->max_series = 50000;
	cfg->max_pending_results = 10000;
	cfg->max_pending_bytes = UINT64_C(8) << 20;
	cfg->result_qos = 1;
	cfg->mirror_retention_ms = INT64_C(7) * 86400000;
	cfg->mirror_max_size = UINT64_C(1) << 30;
	cfg->mirror_samples = true;
	cfg->status_interval_ms = 2000;
	cfg->status_timeout_ms = 5000;
	cfg->status_max_devices = 10000;
	cfg->mirror_results = true;
	cfg->result_retain = false;
	cfg->repeat_interval_ms = 60000;
	cfg->stats_interval_ms = 10000;
	cfg->idle_check_ms = 1000;
	cfg->path = dup_str("(defaults)");
	cfg->result_topic = dup_str(DEFAULT_RESULT_TOPIC);
	cfg->edgex_namespace = dup_str("edgex");
	cfg->edgex_result_topic = dup_str("edge-anomaly/edgex/{device}/{property}");
	if(cfg->path == NULL || cfg->result_topic == NULL || !set_default_topics(cfg)
			|| !default_chain(&cfg->default_chain)){
		ea_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* ------------------------------------------------------------------ */
/* Loader                                                              */

struct loader {
	const char *name;
	yaml_document_t *doc;
	ea_config *cfg;
	ea_config_error *err;
	const yaml_node_t *tap_groups_node; /* where devices.groups was, for messages */
	/* detector libraries this file names (paths owned by the library
	 * table); a chain may use only their detectors */
	const char *libraries[EA_PLUGIN_DETECTORS_MAX];
	size_t library_count;
};

static void fail(struct loader *ld, const yaml_node_t *node, const char *path, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

static void fail(struct loader *ld, const yaml_node_t *node, const char *path, const char *fmt, ...)
{
	char what[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if(ld->err == NULL) return;
	if(node != NULL){
		snprintf(ld->err->message, sizeof(ld->err->message), "%s:%zu:%zu: key '%s': %s",
				ld->name, node->start_mark.line + 1, node->start_mark.column + 1, path, what);
	}else{
		snprintf(ld->err->message, sizeof(ld->err->message), "%s: key '%s': %s", ld->name, path, what);
	}
}

static const char *scalar(const yaml_node_t *node)
{
	if(node == NULL || node->type != YAML_SCALAR_NODE) return NULL;
	return (const char *)node->data.scalar.value;
}

static bool is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);
	if(node == NULL) return true;
	if(s == NULL) return false;
	if(node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0;
}

/* "parent.key"; a path longer than the buffer is cut and ends in "...". */
static void join_path(char *out, size_t len, const char *parent, const char *key)
{
	int n;

	if(parent[0] == '\0') n = snprintf(out, len, "%s", key);
	else n = snprintf(out, len, "%s.%s", parent, key);
	if(n < 0 || (size_t)n >= len){
		if(len > 4) memcpy(out + len - 4, "...", 4);
	}
}

static bool want_scalar(struct loader *ld, const yaml_node_t *node, const char *path, const char **out)
{
	*out = scalar(node);
	if(*out == NULL){
		fail(ld, node, path, "expects a single value, not a list or mapping");
		return false;
	}
	return true;
}

static bool get_uint(struct loader *ld, const yaml_node_t *node, const char *path,
		unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
	const char *s;
	char *end = NULL;
	unsigned long long v;

	if(!want_scalar(ld, node, path, &s)) return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if(*s == '-' || *s == '\0' || errno != 0 || *end != '\0'){
		fail(ld, node, path, "expects a whole number, got '%s'", s);
		return false;
	}
	if(v < lo || v > hi){
		fail(ld, node, path, "must be between %llu and %llu, got %llu", lo, hi, v);
		return false;
	}
	*out = v;
	return true;
}

static bool get_size(struct loader *ld, const yaml_node_t *node, const char *path,
		uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *s;

	if(!want_scalar(ld, node, path, &s)) return false;
	if(!ea_parse_size(s, out)){
		fail(ld, node, path, "expects a size like 65536, 64KiB or 16MiB, got '%s'", s);
		return false;
	}
	if(*out < lo || *out > hi){
		fail(ld, node, path, "must be between %llu and %llu bytes", (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	return true;
}

static bool get_duration(struct loader *ld, const yaml_node_t *node, const char *path,
		int64_t lo, int64_t hi, int64_t *out)
{
	const char *s;

	if(!want_scalar(ld, node, path, &s)) return false;
	if(!ea_parse_duration_ms(s, out)){
		fail(ld, node, path, "expects a duration like 500ms, 30s, 5m or 1h, got '%s'", s);
		return false;
	}
	if(*out < lo || *out > hi){
		fail(ld, node, path, "must be between %lld ms and %lld ms, got %lld ms",
				(long long)lo, (long long)hi, (long long)*out);
		return false;
	}
	return true;
}

static bool get_bool(struct loader *ld, const yaml_node_t *node, const char *path, bool *out)
{
	const char *s;

	if(!want_scalar(ld, node, path, &s)) return false;
	if(strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0) *out = true;
	else if(strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0) *out = false;
	else{
		fail(ld, node, path, "expects true or false, got '%s'", s);
		return false;
	}
	return true;
}

static bool get_string(struct loader *ld, const yaml_node_t *node, const char *path, char **out)
{
	const char *s;

	if(!want_scalar(ld, node, path, &s)) return false;
	if(*s == '\0'){
		fail(ld, node, path, "must not be empty");
		return false;
	}
	free(*out);
	*out = dup_str(s);
	if(*out == NULL){
		fail(ld, node, path, "out of memory");
		return false;
	}
	return true;
}

/* A list of non-empty strings (a single scalar counts as a list of one).
 * Appends to *v. */
static bool get_strv(struct loader *ld, const yaml_node_t *node, const char *path,
		char ***v, size_t *n)
{
	yaml_node_item_t *it;

	if(node != NULL && node->type == YAML_SCALAR_NODE){
		char *one = NULL;
		char **grown;
		if(!get_string(ld, node, path, &one)) return false;
		grown = realloc(*v, (*n + 1) * sizeof(char *));
		if(grown == NULL){
			free(one);
			fail(ld, node, path, "out of memory");
			return false;
		}
		*v = grown;
		(*v)[(*n)++] = one;
		return true;
	}
	if(node == NULL || node->type != YAML_SEQUENCE_NODE){
		fail(ld, node, path, "expects a list of strings");
		return false;
	}
	for(it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++){
		const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		char ipath[PATH_MAX_LEN];
		char *one = NULL;
		char **grown;

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - node->data.sequence.items.start));
		if(!get_string(ld, item, ipath, &one)) return false;
		grown = realloc(*v, (*n + 1) * sizeof(char *));
		if(grown == NULL){
			free(one);
			fail(ld, item, ipath, "out of memory");
			return false;
		}
		*v = grown;
		(*v)[(*n)++] = one;
	}
	return true;
}

typedef bool (*key_handler)(struct loader *ld, const yaml_node_t *value, const char *path, void *target);

struct key_spec {
	const char *key;
	key_handler handle;
};

/* Walks a mapping, dispatching each key to its handler; unknown keys and
 * duplicates are errors naming the known keys. */
static bool walk_mapping(struct loader *ld, const yaml_node_t *node, const char *path,
		const struct key_spec *specs, size_t nspecs, void *target)
{
	yaml_node_pair_t *pair;
	uint32_t seen = 0;

	if(node == NULL || node->type != YAML_MAPPING_NODE){
		fail(ld, node, path[0] ? path : "(top level)", "expects a mapping of keys to values");
		return false;
	}
	for(pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++){
		const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
		const char *key = scalar(k);
		char kpath[PATH_MAX_LEN];
		size_t i;

		if(key == NULL){
			fail(ld, k, path[0] ? path : "(top level)", "keys must be plain names");
			return false;
		}
		join_path(kpath, sizeof(kpath), path, key);
		for(i = 0; i < nspecs; i++){
			if(strcmp(specs[i].key, key) == 0) break;
		}
		if(i == nspecs){
			char known[256] = "";
			size_t j;
			for(j = 0; j < nspecs; j++){
				strncat(known, specs[j].key, sizeof(known) - strlen(known) - 1);
				if(j + 1 < nspecs) strncat(known, ", ", sizeof(known) - strlen(known) - 1);
			}
			fail(ld, k, kpath, "unknown key; known keys here: %s", known);
			return false;
		}
		if(seen & (UINT32_C(1) << i)){
			fail(ld, k, kpath, "given twice");
			return false;
		}
		seen |= UINT32_C(1) << i;
		if(!specs[i].handle(ld, v, kpath, target)) return false;
	}
	return true;
}

/* --- detectors ----------------------------------------------------- */

/* `node` holds the parameters (NULL for a bare name); `where` is the node
 * that cross-parameter errors point at. */
static bool load_detector_params(struct loader *ld, const ea_detector_type *type,
		const yaml_node_t *node, const yaml_node_t *where, const char *path, ea_params *params)
{
	yaml_node_pair_t *pair;
	uint32_t seen = 0;
	char err[200];

	ea_params_defaults(type, params);
	if(!is_null(node)){
		if(node->type != YAML_MAPPING_NODE){
			fail(ld, node, path, "expects a mapping of parameters, e.g. {min: 0, max: 100}");
			return false;
		}
		for(pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++){
			const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
			const yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
			const char *key = scalar(k), *value;
			char kpath[PATH_MAX_LEN];
			int index;

			if(key == NULL){
				fail(ld, k, path, "parameter names must be plain names");
				return false;
			}
			join_path(kpath, sizeof(kpath), path, key);
			index = ea_param_index(type, key);
			if(index < 0){
				char known[200] = "";
				size_t j;
				for(j = 0; j < type->param_count; j++){
					strncat(known, type->params[j].name, sizeof(known) - strlen(known) - 1);
					if(j + 1 < type->param_count) strncat(known, ", ", sizeof(known) - strlen(known) - 1);
				}
				fail(ld, k, kpath, "detector '%s' has no parameter '%s'; it takes: %s",
						type->name, key, type->param_count ? known : "no parameters");
				return false;
			}
			if(seen & (UINT32_C(1) << index)){
				fail(ld, k, kpath, "given twice");
				return false;
			}
			seen |= UINT32_C(1) << index;
			if(!want_scalar(ld, v, kpath, &value)) return false;
			if(!ea_param_set(type, params, index, value, err, sizeof(err))){
				fail(ld, v, kpath, "%s", err);
				return false;
			}
		}
	}
	if(type->validate != NULL && !type->validate(params, err, sizeof(err))){
		fail(ld, where, path, "%s", err);
		return false;
	}
	return true;
}

static void list_builtins(char *out, size_t len)
{
	const ea_detector_type *const *b = ea_detector_builtins();
	size_t i;

	out[0] = '\0';
	for(i = 0; b[i] != NULL; i++){
		strncat(out, b[i]->name, len - strlen(out) - 1);
		if(b[i + 1] != NULL) strncat(out, ", ", len - strlen(out) - 1);
	}
}

static bool names_library(const struct loader *ld, const char *library)
{
	size_t i;
	for(i = 0; i < ld->library_count; i++) if(ld->libraries[i] == library) return true;
	return false;
}

/* The detectors of the libraries this file names, for messages. */
static void list_library_detectors(const struct loader *ld, char *out, size_t len)
{
	const ea_detector_type *t;
	size_t i;

	out[0] = '\0';
	for(i = 0; (t = ea_plugin_detector_at(i)) != NULL; i++){
		if(!names_library(ld, ea_plugin_detector_library(t))) continue;
		if(out[0] != '\0') strncat(out, ", ", len - strlen(out) - 1);
		strncat(out, t->name, len - strlen(out) - 1);
	}
}

static bool load_detector(struct loader *ld, const yaml_node_t *node, const char *path, ea_chain *chain)
{
	const char *name = NULL;
	const yaml_node_t *params_node = NULL, *name_node = node;
	const ea_detector_type *type;
	ea_params params;
	char ppath[PATH_MAX_LEN];

	if(node != NULL && node->type == YAML_SCALAR_NODE){
		name = scalar(node);
	}else if(node != NULL && node->type == YAML_MAPPING_NODE
			&& node->data.mapping.pairs.top - node->data.mapping.pairs.start == 1){
		name_node = yaml_document_get_node(ld->doc, node->data.mapping.pairs.start->key);
		params_node = yaml_document_get_node(ld->doc, node->data.mapping.pairs.start->value);
		name = scalar(name_node);
	}
	if(name == NULL){
		fail(ld, node, path, "a detector is a name ('spike') or a name with parameters ('range: {min: 0, max: 100}')");
		return false;
	}
	type = ea_detector_find(name);
	if(type != NULL && ea_plugin_detector_library(type) != NULL
			&& !names_library(ld, ea_plugin_detector_library(type))){
		/* loaded for another config of this process; this file must say
		 * so too, or it would fail to load in a fresh process */
		fail(ld, name_node, path, "detector '%s' comes from %s, which this file does not list under "
				"detector_libraries", name, ea_plugin_detector_library(type));
		return false;
	}
	if(type == NULL){
		char known[200], loaded[160];
		list_builtins(known, sizeof(known));
		list_library_detectors(ld, loaded, sizeof(loaded));
		fail(ld, name_node, path, "unknown detector '%s'; built-in detectors: %s%s%s", name, known,
				loaded[0] != '\0' ? "; from detector_libraries: " : "", loaded);
		return false;
	}
	join_path(ppath, sizeof(ppath), path, name);
	if(!load_detector_params(ld, type, params_node, params_node != NULL ? params_node : name_node,
			ppath, &params)){
		return false;
	}
	if(!chain_add(chain, type, &params)){
		fail(ld, node, path, "out of memory");
		return false;
	}
	return true;
}

static bool load_chain(struct loader *ld, const yaml_node_t *node, const char *path, ea_chain *chain)
{
	yaml_node_item_t *it;

	free_chain(chain);
	if(node == NULL || node->type != YAML_SEQUENCE_NODE){
		fail(ld, node, path, "expects a list of detectors");
		return false;
	}
	for(it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++){
		char ipath[PATH_MAX_LEN];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, (size_t)(it - node->data.sequence.items.start));
		if(!load_detector(ld, yaml_document_get_node(ld->doc, *it), ipath, chain)) return false;
	}
	return true;
}

/* --- top-level keys ------------------------------------------------- */

static bool h_workers(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 1, 64, &n)) return false;
	ld->cfg->workers = (unsigned)n;
	return true;
}

static bool h_queue_capacity(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 16, 1u << 22, &n)) return false;
	ld->cfg->queue_capacity = (unsigned)n;
	return true;
}

static bool h_queue_max_bytes(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_size(ld, v, path, 4096, UINT64_C(1) << 40, &ld->cfg->queue_max_bytes);
}

static bool h_queue_max_payload(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_size(ld, v, path, 64, UINT64_C(256) << 20, &ld->cfg->max_payload);
}

static bool h_queue(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "capacity", h_queue_capacity },
		{ "max_bytes", h_queue_max_bytes },
		{ "max_payload", h_queue_max_payload },
	};
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_max_series(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 1, UINT64_C(1) << 32, &n)) return false;
	ld->cfg->max_series = (size_t)n;
	return true;
}

static bool h_max_pending(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 1, UINT64_C(1) << 24, &n)) return false;
	ld->cfg->max_pending_results = (size_t)n;
	return true;
}

static bool check_filters(struct loader *ld, const yaml_node_t *v, const char *path, char **f, size_t from, size_t n)
{
	size_t i;
	for(i = from; i < n; i++){
		if(!ea_topic_filter_valid(f[i])){
			fail(ld, v, path, "'%s' is not a valid MQTT topic filter", f[i]);
			return false;
		}
	}
	return true;
}

static bool h_topics(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_config *cfg = ld->cfg;
	(void)t;
	/* "topics" replaces the defaults, wherever "extra_topics" stands. */
	free_strv(cfg->topics, cfg->topic_count);
	cfg->topics = NULL;
	cfg->topic_count = 0;
	if(!get_strv(ld, v, path, &cfg->topics, &cfg->topic_count)) return false;
	return check_filters(ld, v, path, cfg->topics, 0, cfg->topic_count);
}

/* "extra_topics" are kept aside and appended after the whole file is read,
 * so they extend "topics" wherever the two stand. */
struct extra_topics {
	char **v;
	size_t n;
};

static bool h_extra_topics(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	struct extra_topics *extra = t;
	return get_strv(ld, v, path, &extra->v, &extra->n);
}

static bool h_include(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_strv(ld, v, path, &ld->cfg->include, &ld->cfg->include_count);
}

static bool h_exclude(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_strv(ld, v, path, &ld->cfg->exclude, &ld->cfg->exclude_count);
}

static bool h_tap_namespaces(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_strv(ld, v, path, &ld->cfg->tap_namespaces, &ld->cfg->tap_namespace_count);
}

static bool h_tap_groups(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	ld->tap_groups_node = v;
	return get_strv(ld, v, path, &ld->cfg->tap_groups, &ld->cfg->tap_group_count);
}

static bool h_devices(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "include", h_include },
		{ "exclude", h_exclude },
		{ "namespaces", h_tap_namespaces },
		{ "groups", h_tap_groups },
	};
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_groups(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_config *cfg = ld->cfg;
	yaml_node_pair_t *pair;
	(void)t;

	if(v == NULL || v->type != YAML_MAPPING_NODE){
		fail(ld, v, path, "expects a mapping of group names to lists of device patterns");
		return false;
	}
	for(pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++){
		const yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		const yaml_node_t *val = yaml_document_get_node(ld->doc, pair->value);
		const char *name = scalar(k);
		char gpath[PATH_MAX_LEN];
		ea_group *grown, *g;
		size_t i;

		if(name == NULL || *name == '\0'){
			fail(ld, k, path, "group names must be plain names");
			return false;
		}
		join_path(gpath, sizeof(gpath), path, name);
		for(i = 0; i < cfg->group_count; i++){
			if(strcmp(cfg->groups[i].name, name) == 0){
				fail(ld, k, gpath, "group given twice");
				return false;
			}
		}
		grown = realloc(cfg->groups, (cfg->group_count + 1) * sizeof(*grown));
		if(grown == NULL){
			fail(ld, k, gpath, "out of memory");
			return false;
		}
		cfg->groups = grown;
		g = &cfg->groups[cfg->group_count++];
		memset(g, 0, sizeof(*g));
		g->name = dup_str(name);
		if(g->name == NULL){
			fail(ld, k, gpath, "out of memory");
			return false;
		}
		if(!get_strv(ld, val, gpath, &g->patterns, &g->count)) return false;
	}
	return true;
}

static bool h_result_topic(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	const char *p;
	(void)t;
	if(!get_string(ld, v, path, &ld->cfg->result_topic)) return false;
	for(p = ld->cfg->result_topic; *p; p++){
		if(*p == '+' || *p == '#'){
			fail(ld, v, path, "a result topic cannot contain the wildcards + or #");
			return false;
		}
	}
	if(!ea_utf8_valid(ld->cfg->result_topic, strlen(ld->cfg->result_topic))){
		fail(ld, v, path, "not valid UTF-8");
		return false;
	}
	return true;
}

static bool h_result_qos(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 0, 2, &n)) return false;
	ld->cfg->result_qos = (int)n;
	return true;
}

static bool h_result_retain(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_bool(ld, v, path, &ld->cfg->result_retain);
}

static bool h_repeat(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_duration(ld, v, path, 0, INT64_C(86400000) * 365, &ld->cfg->repeat_interval_ms);
}

static bool h_result_pending_bytes(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_size(ld, v, path, 65536, UINT64_C(1) << 34, &ld->cfg->max_pending_bytes);
}

static bool h_results(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "topic", h_result_topic },
		{ "qos", h_result_qos },
		{ "retain", h_result_retain },
		{ "repeat_interval", h_repeat },
		{ "max_pending_bytes", h_result_pending_bytes },
	};
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_stats_interval(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	if(!get_duration(ld, v, path, 0, INT64_C(86400000), &ld->cfg->stats_interval_ms)) return false;
	if(ld->cfg->stats_interval_ms != 0 && ld->cfg->stats_interval_ms < 1000){
		fail(ld, v, path, "must be 0 (off) or at least 1s");
		return false;
	}
	return true;
}

static bool h_idle_check(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_duration(ld, v, path, 10, 3600000, &ld->cfg->idle_check_ms);
}

/* "detector_libraries": shared objects with users' detectors, loaded
 * before any chain is read (load_document runs this first, wherever the
 * key stands; the table entry then only accepts the key). Relative paths
 * are relative to the config file. */
static bool h_detector_libraries(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	yaml_node_item_t *it;
	size_t i = 0;

	(void)t;
	if(v == NULL || v->type != YAML_SEQUENCE_NODE){
		fail(ld, v, path, "expects a list of paths of detector libraries (.so)");
		return false;
	}
	for(it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, i++){
		const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		const char *file = scalar(item), *slash = strrchr(ld->cfg->path, '/'), *library;
		char ipath[PATH_MAX_LEN], full[4096], err[600];

		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if(file == NULL || file[0] == '\0'){
			fail(ld, item, ipath, "expects the path of a detector library (.so)");
			return false;
		}
		if(file[0] != '/' && slash != NULL){
			snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - ld->cfg->path), ld->cfg->path, file);
		}else{
			snprintf(full, sizeof(full), "%s", file);
		}
		library = ea_plugin_detectors_load(full, err, sizeof(err));
		if(library == NULL){
			fail(ld, item, ipath, "%s", err);
			return false;
		}
		if(!names_library(ld, library)) ld->libraries[ld->library_count++] = library;
	}
	return true;
}

static bool h_detector_libraries_loaded(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)ld;
	(void)v;
	(void)path;
	(void)t;
	return true; /* done by load_document before the walk */
}

static bool h_default_chain(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return load_chain(ld, v, path, &ld->cfg->default_chain);
}

/* --- routes --------------------------------------------------------- */

static bool h_match_ns(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_route *)t)->ns_glob);
}

static bool h_match_device(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_route *)t)->device_glob);
}

static bool h_match_property(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_route *)t)->property_glob);
}

static bool h_match_group(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_route *r = t;
	return get_strv(ld, v, path, &r->groups, &r->group_count);
}

static bool h_route_match(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "namespace", h_match_ns },
		{ "device", h_match_device },
		{ "property", h_match_property },
		{ "group", h_match_group },
	};
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_route_name(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_route *)t)->name);
}

static bool h_route_detectors(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_route *r = t;
	return load_chain(ld, v, path, &r->chain);
}

static bool h_ext_target(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_external *x = t;
	if(!get_string(ld, v, path, &x->target)) return false;
	if(x->target[0] == '\0' || strchr(x->target, ':') == NULL){
		fail(ld, v, path, "expects host:port (or unix:/path) of a StreamDetect server");
		return false;
	}
	return true;
}

static bool h_ext_tls_ca(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_external *)t)->tls_ca);
}

static bool h_ext_tls_cert(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_external *)t)->tls_cert);
}

static bool h_ext_tls_key(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_string(ld, v, path, &((ea_external *)t)->tls_key);
}

static bool h_ext_tls(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "ca", h_ext_tls_ca },
		{ "cert", h_ext_tls_cert },
		{ "key", h_ext_tls_key },
	};
	ea_external *x = t;
	if(!walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t)) return false;
	if(x->tls_ca == NULL || (x->tls_cert == NULL) != (x->tls_key == NULL)){
		fail(ld, v, path, "needs 'ca' (the server's CA), and 'cert' with 'key' for a client certificate");
		return false;
	}
	return true;
}

static bool h_ext_token(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_external *x = t;
	if(x->token != NULL){
		fail(ld, v, path, "give 'token' or 'token_file', not both");
		return false;
	}
	if(!get_string(ld, v, path, &x->token)) return false;
	if(x->token[0] == '\0' || strpbrk(x->token, "\r\n") != NULL){
		fail(ld, v, path, "must be one line, not empty");
		return false;
	}
	return true;
}

/* The token's first line from a file (relative to the config file), so the
 * config itself holds no secret. Read at load and at every reload. */
static bool h_ext_token_file(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	ea_external *x = t;
	const char *slash = strrchr(ld->cfg->path, '/');
	char full[4096], buf[600];
	size_t n;
	FILE *f;

	if(x->token != NULL){
		fail(ld, v, path, "give 'token' or 'token_file', not both");
		return false;
	}
	if(!get_string(ld, v, path, &x->token_file)) return false;
	if(x->token_file[0] != '/' && slash != NULL){
		snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - ld->cfg->path), ld->cfg->path, x->token_file);
	}else{
		snprintf(full, sizeof(full), "%s", x->token_file);
	}
	f = fopen(full, "rb");
	if(f == NULL){
		fail(ld, v, path, "cannot read the token file %s: %s", full, strerror(errno));
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if(n == 0 || n > 512 || strlen(buf) != n){
		memset(buf, 0, sizeof(buf));
		fail(ld, v, path, "the token file %s must hold one token of 1 to 512 bytes on its first line", full);
		return false;
	}
	x->token = dup_str(buf);
	memset(buf, 0, sizeof(buf));
	if(x->token == NULL){
		fail(ld, v, path, "out of memory");
		return false;
	}
	return true;
}

static bool h_ext_timeout(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	return get_duration(ld, v, path, 10, INT64_C(3600000), &((ea_external *)t)->timeout_ms);
}

static bool h_ext_buffer(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	if(!get_uint(ld, v, path, 1, 10000000, &n)) return false;
	((ea_external *)t)->buffer = n;
	return true;
}

static bool h_route_mirror(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	bool b;
	if(!get_bool(ld, v, path, &b)) return false;
	((ea_route *)t)->mirror = b ? 1 : 0;
	return true;
}

static bool h_mirror_path(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	free(ld->cfg->mirror_path);
	ld->cfg->mirror_path = NULL;
	if(!get_string(ld, v, path, &ld->cfg->mirror_path)) return false;
	if(ld->cfg->mirror_path[0] == '\0'){
		fail(ld, v, path, "must not be empty");
		return false;
	}
	return true;
}

static bool h_mirror_retention(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_duration(ld, v, path, 0, INT64_C(3650) * 86400000, &ld->cfg->mirror_retention_ms);
}

static bool h_mirror_max_size(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_size(ld, v, path, 0, UINT64_C(1) << 50, &ld->cfg->mirror_max_size);
}

static bool h_mirror_samples(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_bool(ld, v, path, &ld->cfg->mirror_samples);
}

static bool h_mirror_results(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_bool(ld, v, path, &ld->cfg->mirror_results);
}

static bool h_status_url(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	if(!get_string(ld, v, path, &ld->cfg->status_url)) return false;
	if(strncmp(ld->cfg->status_url, "http://", 7) != 0 && strncmp(ld->cfg->status_url, "https://", 8) != 0){
		fail(ld, v, path, "expects an http:// or https:// URL of EdgeCore's MetaServer, e.g. http://127.0.0.1:10550");
		return false;
	}
	return true;
}

static bool h_status_token_file(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_string(ld, v, path, &ld->cfg->status_token_file);
}

static bool h_status_ca(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_string(ld, v, path, &ld->cfg->status_ca);
}

static bool h_status_backlog(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_string(ld, v, path, &ld->cfg->status_backlog);
}

static bool h_status_interval(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_duration(ld, v, path, 0, INT64_C(3600000), &ld->cfg->status_interval_ms);
}

static bool h_status_timeout(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return get_duration(ld, v, path, 100, INT64_C(600000), &ld->cfg->status_timeout_ms);
}

static bool h_status_max_devices(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	unsigned long long n;
	(void)t;
	if(!get_uint(ld, v, path, 1, 10000000, &n)) return false;
	ld->cfg->status_max_devices = n;
	return true;
}

/* --- device models --------------------------------------------------- */

static const yaml_node_t *node_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	if(map == NULL || map->type != YAML_MAPPING_NODE) return NULL;
	for(pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++){
		const char *k = scalar(yaml_document_get_node(doc, pair->key));
		if(k != NULL && strcmp(k, key) == 0) return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static const char *node_str(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	return scalar(node_get(doc, map, key));
}

/* A bound as a number ("120", 120, "1.5e2"); NAN when absent or not a number. */
static double node_number(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	const char *text = node_str(doc, map, key);
	char *end = NULL;
	double v;

	if(text == NULL || text[0] == '\0') return NAN;
	v = strtod(text, &end);
	return end != NULL && *end == '\0' && isfinite(v) ? v : NAN;
}

static bool add_model_checks(struct loader *ld, bool edgex, const char *model, const char *property, double min,
		double max)
{
	ea_config *cfg = ld->cfg;
	ea_model_checks *grown, *m;
	const ea_detector_type *type = ea_detector_find("type"), *range = ea_detector_find("range");
	ea_params p;
	char origin[600];

	if(min > max){
		double t = min;
		min = max;
		max = t;
	}
	grown = realloc(cfg->model_checks, (cfg->model_check_count + 1) * sizeof(*grown));
	if(grown == NULL) return false;
	cfg->model_checks = grown;
	m = &cfg->model_checks[cfg->model_check_count];
	memset(m, 0, sizeof(*m));
	snprintf(origin, sizeof(origin), "%s %s", edgex ? "EdgeX device profile" : "KubeEdge DeviceModel", model);
	m->model = dup_str(model);
	m->property = dup_str(property);
	m->origin = dup_str(origin);
	m->edgex = edgex;
	cfg->model_check_count++;
	if(m->model == NULL || m->property == NULL || m->origin == NULL) return false;
	m->chain.origin = m->origin;
	ea_params_defaults(type, &p);
	if(!chain_add(&m->chain, type, &p)) return false;
	if(!isnan(min) || !isnan(max)){
		ea_params_defaults(range, &p);
		p.v[0] = min; /* range: min, max */
		p.v[1] = max;
		if(!chain_add(&m->chain, range, &p)) return false;
	}
	return true;
}

/* One YAML file of models: EdgeX device profiles (name, deviceResources
 * [].properties {valueType, minimum, maximum}) or KubeEdge documents
 * (DeviceModel: metadata.name, spec.properties [] {name, type, minimum,
 * maximum}; Device: metadata, spec.deviceModelRef.name). */
static bool load_model_file(struct loader *ld, const yaml_node_t *where, const char *path, const char *file, bool edgex)
{
	FILE *f = fopen(file, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	bool ok = true;

	if(f == NULL){
		fail(ld, where, path, "cannot read %s: %s", file, strerror(errno));
		return false;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for(;;){
		const yaml_node_t *root, *list, *meta;
		yaml_node_item_t *it;
		const char *name;

		if(!yaml_parser_load(&parser, &doc)){
			fail(ld, where, path, "%s:%zu:%zu: YAML syntax error: %s", file, parser.problem_mark.line + 1,
					parser.problem_mark.column + 1, parser.problem ? parser.problem : "unknown problem");
			ok = false;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if(root == NULL){
			yaml_document_delete(&doc);
			break; /* end of stream */
		}
		if(edgex){
			name = node_str(&doc, root, "name");
			list = node_get(&doc, root, "deviceResources");
			if(name != NULL && list != NULL && list->type == YAML_SEQUENCE_NODE){
				for(it = list->data.sequence.items.start; ok && it < list->data.sequence.items.top; it++){
					const yaml_node_t *res = yaml_document_get_node(&doc, *it);
					const yaml_node_t *props = node_get(&doc, res, "properties");
					const char *rname = node_str(&doc, res, "name");
					if(rname == NULL || props == NULL) continue;
					ok = add_model_checks(ld, true, name, rname, node_number(&doc, props, "minimum"),
							node_number(&doc, props, "maximum"));
				}
			}
		}else{
			const char *kind = node_str(&doc, root, "kind");
			meta = node_get(&doc, root, "metadata");
			name = node_str(&doc, meta, "name");
			if(kind != NULL && name != NULL && strcmp(kind, "DeviceModel") == 0){
				list = node_get(&doc, node_get(&doc, root, "spec"), "properties");
				if(list != NULL && list->type == YAML_SEQUENCE_NODE){
					for(it = list->data.sequence.items.start; ok && it < list->data.sequence.items.top; it++){
						const yaml_node_t *prop = yaml_document_get_node(&doc, *it);
						const char *pname = node_str(&doc, prop, "name");
						if(pname == NULL) continue;
						ok = add_model_checks(ld, false, name, pname, node_number(&doc, prop, "minimum"),
								node_number(&doc, prop, "maximum"));
					}
				}
			}else if(kind != NULL && name != NULL && strcmp(kind, "Device") == 0){
				const char *model = node_str(&doc, node_get(&doc, node_get(&doc, root, "spec"), "deviceModelRef"), "name");
				const char *ns = node_str(&doc, meta, "namespace");
				ea_device_model *grown;
				if(model != NULL){
					grown = realloc(ld->cfg->device_models, (ld->cfg->device_model_count + 1) * sizeof(*grown));
					if(grown == NULL){
						ok = false;
					}else{
						ld->cfg->device_models = grown;
						grown[ld->cfg->device_model_count].ns = dup_str(ns != NULL ? ns : "default");
						grown[ld->cfg->device_model_count].device = dup_str(name);
						grown[ld->cfg->device_model_count].model = dup_str(model);
						ld->cfg->device_model_count++;
					}
				}
			}
		}
		yaml_document_delete(&doc);
		if(!ok) break;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if(!ok && ld->err != NULL && ld->err->message[0] == '\0') fail(ld, where, path, "out of memory reading %s", file);
	return ok;
}

static bool load_model_dir(struct loader *ld, const yaml_node_t *v, const char *path, bool edgex)
{
	const char *dir = scalar(v);
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	bool ok = true;

	if(dir == NULL || dir[0] == '\0'){
		fail(ld, v, path, "expects a directory of YAML files");
		return false;
	}
	d = opendir(dir);
	if(d == NULL){
		fail(ld, v, path, "cannot open the directory %s: %s", dir, strerror(errno));
		return false;
	}
	while((e = readdir(d)) != NULL){
		size_t len = strlen(e->d_name);
		char **grown;
		if(e->d_name[0] == '.' || !(len > 5 && (strcmp(e->d_name + len - 5, ".yaml") == 0 || strcmp(e->d_name + len - 4, ".yml") == 0)))
			continue;
		grown = realloc(names, (n + 1) * sizeof(*names));
		if(grown == NULL) break;
		names = grown;
		names[n] = malloc(strlen(dir) + len + 2);
		if(names[n] == NULL) break;
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), compare_strings);
	for(i = 0; i < n; i++){
		if(ok) ok = load_model_file(ld, v, path, names[i], edgex);
		free(names[i]);
	}
	free(names);
	return ok;
}

static bool h_models_edgex(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return load_model_dir(ld, v, path, true);
}

static bool h_models_kubeedge(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	return load_model_dir(ld, v, path, false);
}

static bool h_models(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "edgex_profiles", h_models_edgex },
		{ "kubeedge", h_models_kubeedge },
	};
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_edgex_namespace(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	free(ld->cfg->edgex_namespace);
	ld->cfg->edgex_namespace = NULL;
	if(!get_string(ld, v, path, &ld->cfg->edgex_namespace)) return false;
	if(ld->cfg->edgex_namespace[0] == '\0' || strlen(ld->cfg->edgex_namespace) > EA_NAME_MAX
			|| strpbrk(ld->cfg->edgex_namespace, "/+#") != NULL){
		fail(ld, v, path, "expects a namespace name (no '/', '+' or '#', at most 256 bytes)");
		return false;
	}
	return true;
}

static bool h_edgex_results_topic(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	(void)t;
	free(ld->cfg->edgex_result_topic);
	ld->cfg->edgex_result_topic = NULL;
	if(!get_string(ld, v, path, &ld->cfg->edgex_result_topic)) return false;
	if(strpbrk(ld->cfg->edgex_result_topic, "+#") != NULL || ld->cfg->edgex_result_topic[0] == '\0'){
		fail(ld, v, path, "a result topic cannot be empty or contain the wildcards + or #");
		return false;
	}
	return true;
}

static bool h_edgex(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "namespace", h_edgex_namespace },
		{ "results_topic", h_edgex_results_topic },
	};
	ld->cfg->edgex_enabled = true;
	if(v != NULL && v->type == YAML_SCALAR_NODE){
		bool on;
		if(!get_bool(ld, v, path, &on)) return false;
		ld->cfg->edgex_enabled = on;
		return true;
	}
	return walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t);
}

static bool h_device_status(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "url", h_status_url },
		{ "token_file", h_status_token_file },
		{ "ca", h_status_ca },
		{ "backlog", h_status_backlog },
		{ "interval", h_status_interval },
		{ "timeout", h_status_timeout },
		{ "max_devices", h_status_max_devices },
	};
	if(!walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t)) return false;
	if(ld->cfg->status_url == NULL){
		fail(ld, v, path, "needs 'url' (EdgeCore's MetaServer, e.g. http://127.0.0.1:10550)");
		return false;
	}
	return true;
}

static bool h_mirror(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "path", h_mirror_path },
		{ "retention", h_mirror_retention },
		{ "max_size", h_mirror_max_size },
		{ "samples", h_mirror_samples },
		{ "results", h_mirror_results },
	};
	if(!walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), t)) return false;
	if(ld->cfg->mirror_path == NULL){
		fail(ld, v, path, "needs 'path' (the SQLite database file)");
		return false;
	}
	return true;
}

static bool h_route_external(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "target", h_ext_target },
		{ "tls", h_ext_tls },
		{ "token", h_ext_token },
		{ "token_file", h_ext_token_file },
		{ "timeout", h_ext_timeout },
		{ "buffer", h_ext_buffer },
	};
	ea_route *r = t;
	r->external.timeout_ms = 5000;
	r->external.buffer = 10000;
	if(!walk_mapping(ld, v, path, specs, sizeof(specs) / sizeof(specs[0]), &r->external)) return false;
	if(r->external.target == NULL){
		fail(ld, v, path, "needs 'target' (host:port of a StreamDetect server)");
		return false;
	}
	return true;
}

static bool h_routes(struct loader *ld, const yaml_node_t *v, const char *path, void *t)
{
	static const struct key_spec specs[] = {
		{ "name", h_route_name },
		{ "match", h_route_match },
		{ "detectors", h_route_detectors },
		{ "external", h_route_external },
		{ "mirror", h_route_mirror },
	};
	ea_config *cfg = ld->cfg;
	yaml_node_item_t *it;
	(void)t;

	if(v == NULL || v->type != YAML_SEQUENCE_NODE){
		fail(ld, v, path, "expects a list of routes");
		return false;
	}
	for(it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++){
		const yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
		size_t index = (size_t)(it - v->data.sequence.items.start);
		char rpath[PATH_MAX_LEN];
		ea_route *grown, *r;
		size_t g, k;

		snprintf(rpath, sizeof(rpath), "%s[%zu]", path, index);
		grown = realloc(cfg->routes, (cfg->route_count + 1) * sizeof(*grown));
		if(grown == NULL){
			fail(ld, item, rpath, "out of memory");
			return false;
		}
		cfg->routes = grown;
		r = &cfg->routes[cfg->route_count++];
		memset(r, 0, sizeof(*r));
		r->line = item != NULL ? (int)item->start_mark.line + 1 : 0;
		r->chain.count = SIZE_MAX; /* "detectors" not given yet */
		r->mirror = -1;
		if(!walk_mapping(ld, item, rpath, specs, sizeof(specs) / sizeof(specs[0]), r)){
			if(r->chain.count == SIZE_MAX) r->chain.count = 0;
			return false;
		}
		if(r->chain.count == SIZE_MAX){
			r->chain.count = 0;
			fail(ld, item, rpath, "a route needs 'detectors' (a list; [] sends the series to no detector)");
			return false;
		}
		if(r->name == NULL){
			char name[32];
			snprintf(name, sizeof(name), "route %zu", index + 1);
			r->name = dup_str(name);
			if(r->name == NULL){
				fail(ld, item, rpath, "out of memory");
				return false;
			}
		}
		for(g = 0; g < r->group_count; g++){
			bool found = false;
			for(k = 0; k < cfg->group_count; k++){
				if(strcmp(cfg->groups[k].name, r->groups[g]) == 0) found = true;
			}
			if(!found){
				fail(ld, item, rpath, "group '%s' is not declared under 'groups' (declare 'groups' before 'routes')",
						r->groups[g]);
				return false;
			}
		}
	}
	/* the routes array no longer moves: chains can point at their routes' settings */
	for(size_t n = 0; n < cfg->route_count; n++)
		cfg->routes[n].chain.external = cfg->routes[n].external.target != NULL ? &cfg->routes[n].external : NULL;
	return true;
}

static ea_config *load_document(struct loader *ld, yaml_document_t *doc)
{
	static const struct key_spec specs[] = {
		{ "workers", h_workers },
		{ "queue", h_queue },
		{ "max_series", h_max_series },
		{ "max_pending_results", h_max_pending },
		{ "topics", h_topics },
		{ "extra_topics", h_extra_topics },
		{ "devices", h_devices },
		{ "groups", h_groups },
		{ "results", h_results },
		{ "stats_interval", h_stats_interval },
		{ "idle_check", h_idle_check },
		{ "detector_libraries", h_detector_libraries_loaded },
		{ "mirror", h_mirror },
		{ "device_status", h_device_status },
		{ "edgex", h_edgex },
		{ "models", h_models },
		{ "default_chain", h_default_chain },
		{ "routes", h_routes },
	};
	struct extra_topics extra = { NULL, 0 };
	yaml_node_t *root = yaml_document_get_root_node(doc);
	ea_config *cfg = ld->cfg;
	size_t i;

	ld->doc = doc;
	if(root == NULL || is_null(root)) return cfg; /* empty file: defaults */
	/* detector libraries first: chains anywhere in the file may use them */
	if(root->type == YAML_MAPPING_NODE){
		yaml_node_pair_t *pair;
		for(pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++){
			const char *key = scalar(yaml_document_get_node(doc, pair->key));
			if(key != NULL && strcmp(key, "detector_libraries") == 0
					&& !h_detector_libraries(ld, yaml_document_get_node(doc, pair->value), "detector_libraries", NULL))
				return NULL;
		}
	}
	if(!walk_mapping(ld, root, "", specs, sizeof(specs) / sizeof(specs[0]), &extra)){
		free_strv(extra.v, extra.n);
		return NULL;
	}
	if(extra.n > 0){
		char **grown = realloc(cfg->topics, (cfg->topic_count + extra.n) * sizeof(char *));
		if(grown == NULL){
			free_strv(extra.v, extra.n);
			fail(ld, root, "extra_topics", "out of memory");
			return NULL;
		}
		cfg->topics = grown;
		for(i = 0; i < extra.n; i++) cfg->topics[cfg->topic_count++] = extra.v[i];
		free(extra.v);
		if(!check_filters(ld, root, "extra_topics", cfg->topics, cfg->topic_count - extra.n, cfg->topic_count)){
			return NULL;
		}
	}
	if(cfg->topic_count == 0){
		fail(ld, root, "topics", "no topic is tapped: give at least one filter");
		return NULL;
	}
	/* EdgeX: its events are tapped too (unless `topics` already covers them) */
	if(cfg->edgex_enabled){
		bool covered = false;
		for(i = 0; i < cfg->topic_count; i++)
			covered = covered || ea_topic_matches(cfg->topics[i], "edgex/events/device/s/p/d/r");
		if(!covered){
			char **grown = realloc(cfg->topics, (cfg->topic_count + 1) * sizeof(char *));
			if(grown == NULL || (grown[cfg->topic_count] = dup_str("edgex/events/device/#")) == NULL){
				if(grown != NULL) cfg->topics = grown;
				fail(ld, root, "edgex", "out of memory");
				return NULL;
			}
			cfg->topics = grown;
			cfg->topic_count++;
		}
	}
	for(i = 0; i < cfg->tap_group_count; i++){
		size_t g;
		bool found = false;
		for(g = 0; g < cfg->group_count; g++) found = found || strcmp(cfg->groups[g].name, cfg->tap_groups[i]) == 0;
		if(!found){
			fail(ld, ld->tap_groups_node, "devices.groups", "group '%s' is not declared under 'groups'", cfg->tap_groups[i]);
			return NULL;
		}
	}
	/* which chains' samples go to the mirror */
	cfg->default_chain.mirror = cfg->mirror_path != NULL && cfg->mirror_samples;
	for(i = 0; i < cfg->route_count; i++){
		ea_route *r = &cfg->routes[i];
		r->chain.mirror = cfg->mirror_path != NULL && (r->mirror >= 0 ? r->mirror == 1 : cfg->mirror_samples);
	}
	return cfg;
}

ea_config *ea_config_load_string(const char *yaml, size_t len, const char *name, ea_config_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct loader ld;
	ea_config *cfg, *result = NULL;

	if(err != NULL) err->message[0] = '\0';
	cfg = ea_config_defaults();
	if(cfg == NULL){
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", name);
		return NULL;
	}
	free(cfg->path);
	cfg->path = dup_str(name);
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.cfg = cfg;
	ld.err = err;
	if(cfg->path == NULL || !yaml_parser_initialize(&parser)){
		ea_config_free(cfg);
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if(!yaml_parser_load(&parser, &doc)){
		if(err != NULL){
			snprintf(err->message, sizeof(err->message), "%s:%zu:%zu: YAML syntax error: %s%s%s",
					name, parser.problem_mark.line + 1, parser.problem_mark.column + 1,
					parser.problem ? parser.problem : "unknown problem",
					parser.context ? " " : "", parser.context ? parser.context : "");
		}
		yaml_parser_delete(&parser);
		ea_config_free(cfg);
		return NULL;
	}
	result = load_document(&ld, &doc);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if(result == NULL) ea_config_free(cfg);
	return result;
}

ea_config *ea_config_load_file(const char *path, ea_config_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ea_config *cfg;

	if(f == NULL){
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for(;;){
		size_t got;
		if(cap - len < 4096){
			char *grown;
			if(cap > (UINT64_C(16) << 20)){
				if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: larger than 16 MiB, not a config", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			grown = realloc(buf, cap * 2 + 8192);
			if(grown == NULL){
				if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
			cap = cap * 2 + 8192;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if(got == 0) break;
	}
	if(ferror(f)){
		if(err != NULL) snprintf(err->message, sizeof(err->message), "%s: read error: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	cfg = ea_config_load_string(buf, len, path, err);
	free(buf);
	return cfg;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

static bool device_pattern_match(const char *pattern, const char *ns, const char *device)
{
	char full[2 * EA_NAME_MAX + 2];

	if(strchr(pattern, '/') == NULL) return ea_glob_match(pattern, device);
	snprintf(full, sizeof(full), "%s/%s", ns, device);
	return ea_glob_match(pattern, full);
}

bool ea_config_device_included(const ea_config *cfg, const char *ns, const char *device)
{
	size_t i;
	bool included = cfg->include_count == 0;

	if(cfg->tap_namespace_count > 0){
		bool listed = false;
		for(i = 0; i < cfg->tap_namespace_count && !listed; i++) listed = strcmp(cfg->tap_namespaces[i], ns) == 0;
		if(!listed) return false;
	}
	if(cfg->tap_group_count > 0){
		bool member = false;
		for(i = 0; i < cfg->tap_group_count && !member; i++) member = ea_config_device_in_group(cfg, cfg->tap_groups[i], ns, device);
		if(!member) return false;
	}
	for(i = 0; i < cfg->include_count && !included; i++){
		if(device_pattern_match(cfg->include[i], ns, device)) included = true;
	}
	if(!included) return false;
	for(i = 0; i < cfg->exclude_count; i++){
		if(device_pattern_match(cfg->exclude[i], ns, device)) return false;
	}
	return true;
}

bool ea_config_device_in_group(const ea_config *cfg, const char *name, const char *ns, const char *device)
{
	size_t i, j;

	for(i = 0; i < cfg->group_count; i++){
		if(strcmp(cfg->groups[i].name, name) != 0) continue;
		for(j = 0; j < cfg->groups[i].count; j++){
			if(device_pattern_match(cfg->groups[i].patterns[j], ns, device)) return true;
		}
		return false;
	}
	return false;
}

const ea_route *ea_config_route(const ea_config *cfg, const char *ns, const char *device, const char *property)
{
	size_t i, g;

	for(i = 0; i < cfg->route_count; i++){
		const ea_route *r = &cfg->routes[i];
		bool ok = ea_glob_match(r->ns_glob, ns) && ea_glob_match(r->device_glob, device)
				&& ea_glob_match(r->property_glob, property);
		for(g = 0; ok && g < r->group_count; g++){
			ok = ea_config_device_in_group(cfg, r->groups[g], ns, device);
		}
		if(ok) return r;
	}
	return NULL;
}

const ea_chain *ea_config_chain_for(const ea_config *cfg, const char *ns, const char *device, const char *property,
		const char *model)
{
	const ea_route *r = ea_config_route(cfg, ns, device, property);
	size_t i;

	if(r != NULL) return &r->chain;
	if(cfg->model_check_count == 0) return &cfg->default_chain;
	if(model == NULL){
		for(i = 0; i < cfg->device_model_count; i++){
			if(strcmp(cfg->device_models[i].device, device) == 0 && strcmp(cfg->device_models[i].ns, ns) == 0){
				model = cfg->device_models[i].model;
				break;
			}
		}
	}
	if(model != NULL){
		for(i = 0; i < cfg->model_check_count; i++){
			const ea_model_checks *m = &cfg->model_checks[i];
			if(strcmp(m->model, model) == 0 && strcmp(m->property, property) == 0) return &m->chain;
		}
	}
	return &cfg->default_chain;
}

const ea_chain *ea_config_chain(const ea_config *cfg, const char *ns, const char *device, const char *property)
{
	const ea_route *r = ea_config_route(cfg, ns, device, property);
	return r != NULL ? &r->chain : &cfg->default_chain;
}

static void describe_chain(const ea_chain *c, FILE *out)
{
	size_t i, k;

	if(c->count == 0) fprintf(out, "    (no detectors)\n");
	for(i = 0; i < c->count; i++){
		const ea_detector_type *t = c->items[i].type;
		fprintf(out, "    - %s (%s)", t->name, t->kind);
		for(k = 0; k < t->param_count; k++){
			char v[32];
			ea_param_format(&t->params[k], c->items[i].params.v[k], v, sizeof(v));
			fprintf(out, "%s%s=%s", k == 0 ? ": " : ", ", t->params[k].name, v);
		}
		if(ea_plugin_detector_library(t) != NULL) fprintf(out, " [from %s]", ea_plugin_detector_library(t));
		fprintf(out, "\n");
	}
}

static void describe_strv(const char *title, const char *if_empty, char *const *v, size_t n, FILE *out)
{
	size_t i;
	fprintf(out, "%s:", title);
	if(n == 0) fprintf(out, " %s", if_empty);
	for(i = 0; i < n; i++) fprintf(out, "%s%s", i == 0 ? " " : ", ", v[i]);
	fprintf(out, "\n");
}

void ea_config_describe(const ea_config *cfg, FILE *out)
{
	size_t i, g;
	char rep[32], stats[32], idle[32];
	ea_param_spec dur = { "", EA_PARAM_DURATION, 0, 0, 0, "" };

	ea_param_format(&dur, (double)cfg->repeat_interval_ms, rep, sizeof(rep));
	ea_param_format(&dur, (double)cfg->stats_interval_ms, stats, sizeof(stats));
	ea_param_format(&dur, (double)cfg->idle_check_ms, idle, sizeof(idle));
	fprintf(out, "config: %s\n", cfg->path);
	fprintf(out, "workers: %u, queue: %u messages each, max_bytes %llu, max_payload %llu\n",
			cfg->workers, cfg->queue_capacity, (unsigned long long)cfg->queue_max_bytes,
			(unsigned long long)cfg->max_payload);
	fprintf(out, "max_series: %zu, max_pending_results: %zu, idle_check: %s, stats_interval: %s\n",
			cfg->max_series, cfg->max_pending_results, idle, cfg->stats_interval_ms ? stats : "off");
	fprintf(out, "results: topic %s, qos %d, retain %s, repeat_interval %s, max_pending_bytes %llu\n",
			cfg->result_topic, cfg->result_qos, cfg->result_retain ? "true" : "false",
			cfg->repeat_interval_ms ? rep : "never", (unsigned long long)cfg->max_pending_bytes);
	fprintf(out, "topics:\n");
	for(i = 0; i < cfg->topic_count; i++) fprintf(out, "  %s\n", cfg->topics[i]);
	describe_strv("devices included", "(all)", cfg->include, cfg->include_count, out);
	describe_strv("devices excluded", "(none)", cfg->exclude, cfg->exclude_count, out);
	for(i = 0; i < cfg->group_count; i++){
		fprintf(out, "group %s:", cfg->groups[i].name);
		for(g = 0; g < cfg->groups[i].count; g++) fprintf(out, " %s", cfg->groups[i].patterns[g]);
		fprintf(out, "\n");
	}
	for(i = 0; i < cfg->route_count; i++){
		const ea_route *r = &cfg->routes[i];
		fprintf(out, "route '%s' (line %d): namespace=%s device=%s property=%s", r->name, r->line,
				r->ns_glob ? r->ns_glob : "*", r->device_glob ? r->device_glob : "*",
				r->property_glob ? r->property_glob : "*");
		for(g = 0; g < r->group_count; g++) fprintf(out, " group=%s", r->groups[g]);
		fprintf(out, "\n");
		if(r->external.target != NULL){
			char timeout[32];
			ea_param_format(&dur, (double)r->external.timeout_ms, timeout, sizeof(timeout));
			fprintf(out, "  external StreamDetect server %s: %s%s%s%s, timeout %s, buffer %llu samples\n",
					r->external.target, r->external.tls_ca != NULL ? "TLS" : "plaintext",
					r->external.tls_cert != NULL ? " with a client certificate" : "",
					r->external.token != NULL ? ", bearer token" : "",
					r->external.token_file != NULL ? " from the token file" : "", timeout,
					(unsigned long long)r->external.buffer);
		}
		describe_chain(&r->chain, out);
	}
	fprintf(out, "default chain (series no route matches):\n");
	describe_chain(&cfg->default_chain, out);
}
