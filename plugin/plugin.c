/* SPDX-License-Identifier: Apache-2.0
 *
 * plugin.c - the mosquitto 2.0 adapter of edge-anomaly: reads options,
 * registers callbacks, moves messages to the worker pool and publishes
 * results and counters from the broker thread.
 *
 * Load it with these mosquitto.conf lines:
 *
 *   plugin /usr/local/lib/edge-anomaly/edge_anomaly.so
 *   plugin_opt_config /usr/local/etc/edge-anomaly/config.yaml
 *
 * Without plugin_opt_config it runs on the built-in defaults. SIGHUP
 * re-reads the YAML file (MOSQ_EVT_RELOAD); series keep their state.
 *
 * The message callback runs on the broker thread for every PUBLISH: it
 * matches the topic against the configured filters, copies a tapped
 * message into the queue of the worker that owns the device, or counts a
 * drop. It never blocks, never changes the message and always returns
 * success. Results come back through the pool and are published by the
 * tick callback (payloads from mosquitto_malloc, as the broker frees them).
 * mosquitto 2.0.11-2.0.14 never tick with per_listener_settings true: that
 * is detected at start and, should ticks still be missing, results are
 * published from the message callback instead (see tick_check.h).
 */
#include <mosquitto_broker.h> /* before mosquitto_plugin.h (2.0.11 header order) */
#include <mosquitto_plugin.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "ea_config.h"
#include "ea_engine.h"
#include "ea_mirror.h"
#include "external.h"
#include "pool.h"
#include "status_sink.h"
#include "tick_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EA_EXPORT __attribute__((visibility("default")))
#define EA_VERSION "0.1.0"
#define SYS_PREFIX "$SYS/broker/edge-anomaly/"
#define TICK_GRACE_NS INT64_C(3000000000)   /* no tick by then: fallback */
#define FALLBACK_DRAIN_NS INT64_C(50000000) /* publish at most every 50 ms */
#define MAX_RETIRED 8                       /* configs replaced, awaiting free */

struct ea_plugin {
	mosquitto_plugin_id_t *id; /* the broker's, borrowed */
	char *config_path;         /* owned; NULL when running on defaults */
	ea_config *cfg;            /* owned; the one in force */
	ea_config *retired[MAX_RETIRED]; /* owned; replaced, maybe still in use by workers */
	size_t retired_count;
	ea_pool *pool;             /* owned */
	ea_ext_hub *external;      /* owned; clients start on the first sample of an `external` route */
	ea_mirror *mirror;         /* owned; NULL without `mirror:` */
	ea_status_sink *status;    /* owned; NULL without `device_status:` */

	/* Written and read on the broker thread only. */
	uint64_t received;
	uint64_t tapped;
	uint64_t dropped_queue_full;
	uint64_t dropped_budget;
	uint64_t dropped_too_large;
	uint64_t results_published;
	uint64_t results_failed;
	bool tick_seen;
	bool fallback;
	int64_t start_ns;
	int64_t next_stats_ns;
	int64_t last_fallback_ns;
	ea_broker_facts facts;
};

static void free_retired(struct ea_plugin *p);

/* Any thread: a result for the device status sink. */
static void status_result(void *ctx, const ea_result *r)
{
	ea_status_result(ctx, r);
}

/* The sink's thread: its messages go to the broker's log. */
static void status_log(int level, const char *message)
{
	mosquitto_log_printf(level == 2 ? MOSQ_LOG_ERR : level == 1 ? MOSQ_LOG_WARNING : MOSQ_LOG_NOTICE, "%s", message);
}

/* A worker thread: a sample of a route with an external server. */
static void on_external_sample(void *ctx, const ea_external *x, const ea_sample *s)
{
	struct ea_plugin *p = ctx;
	ea_ext_hub_submit(p->external, x, s);
}

/* A client thread: an external server's verdict changed; publish it like
 * any result (from the tick). */
static void on_external_result(void *ctx, const ea_result *r)
{
	struct ea_plugin *p = ctx;
	ea_pool_add_result(p->pool, r);
}

/* ------------------------------------------------------------------ */
/* Publishing (broker thread only)                                     */

static int publish_copy(const char *topic, const void *data, size_t len, int qos, bool retain)
{
	void *payload = NULL;
	int rc;

	if(len > 0){
		payload = mosquitto_malloc(len);
		if(payload == NULL) return MOSQ_ERR_NOMEM;
		memcpy(payload, data, len);
	}
	rc = mosquitto_broker_publish(NULL, topic, (int)len, payload, qos, retain, NULL);
	if(rc != MOSQ_ERR_SUCCESS) mosquitto_free(payload); /* freed by the broker only on success */
	return rc;
}

static void publish_results(struct ea_plugin *p)
{
	ea_outgoing *o = ea_pool_take_results(p->pool);

	while(o != NULL){
		ea_outgoing *next = o->next;
		if(publish_copy(o->topic, o->payload, o->payload_len, o->qos, o->retain) == MOSQ_ERR_SUCCESS){
			p->results_published++;
		}else{
			p->results_failed++;
		}
		free(o);
		o = next;
	}
}

static void publish_counter(const char *name, uint64_t value)
{
	char topic[160], text[32];
	int n;

	snprintf(topic, sizeof(topic), SYS_PREFIX "%s", name);
	n = snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	publish_copy(topic, text, (size_t)n, 0, true);
}

static void publish_stats(struct ea_plugin *p)
{
	ea_pool_stats s;
	size_t i;

	ea_pool_stats_read(p->pool, &s);
	publish_counter("messages/received", p->received);
	publish_counter("messages/tapped", p->tapped);
	publish_counter("messages/dropped", p->dropped_queue_full + p->dropped_budget + p->dropped_too_large);
	publish_counter("messages/dropped/queue_full", p->dropped_queue_full);
	publish_counter("messages/dropped/byte_budget", p->dropped_budget);
	publish_counter("messages/dropped/too_large", p->dropped_too_large);
	publish_counter("messages/parse_errors", s.engine.parse_errors);
	publish_counter("messages/unsupported_topics", s.engine.unsupported_topics);
	publish_counter("messages/excluded", s.engine.excluded);
	publish_counter("messages/unsupported_payloads", s.engine.unsupported_payloads);
	publish_counter("samples/unscored", s.engine.unscored);
	publish_counter("samples/received", s.engine.samples);
	publish_counter("samples/duplicates", s.engine.duplicates);
	publish_counter("anomalies/raised", s.engine.anomalies_raised);
	publish_counter("anomalies/cleared", s.engine.anomalies_cleared);
	publish_counter("anomalies/repeated", s.engine.anomalies_repeated);
	publish_counter("series/tracked", s.engine.series);
	publish_counter("series/evicted", s.engine.series_evicted);
	publish_counter("queue/depth", s.queue_depth);
	publish_counter("queue/overflow_messages", s.queue_heap_pushes);
	publish_counter("queue/wakeups", s.queue_wakes);
	publish_counter("queue/overflow_bytes", s.queue_heap_bytes);
	publish_counter("results/published", p->results_published);
	publish_counter("results/failed", p->results_failed);
	publish_counter("results/dropped", s.results_dropped);
	publish_counter("results/pending", s.results_pending);
	{
		ea_ext_stats x;
		ea_ext_hub_stats(p->external, &x);
		publish_counter("external/servers", x.clients);
		publish_counter("external/connected", x.connected);
		publish_counter("external/sent", x.sent);
		publish_counter("external/answered", x.answered);
		publish_counter("external/anomalies", x.anomalies);
		publish_counter("external/dropped", x.dropped_full);
		publish_counter("external/lost_in_flight", x.lost_in_flight);
		publish_counter("external/reconnects", x.reconnects);
		publish_counter("external/errors", x.errors);
	}
	{
		ea_mirror_stats m;
		ea_mirror_stats_read(p->mirror, &m);
		publish_counter("mirror/samples", m.samples_written);
		publish_counter("mirror/results", m.results_written);
		publish_counter("mirror/dropped", m.dropped);
		publish_counter("mirror/queued", m.queued);
		publish_counter("mirror/write_errors", m.write_errors);
		publish_counter("mirror/deleted", m.deleted);
	}
	{
		ea_status_stats st;
		ea_status_stats_read(p->status, &st);
		publish_counter("status/devices", st.devices);
		publish_counter("status/pending", st.pending);
		publish_counter("status/patches", st.patches_sent);
		publish_counter("status/failures", st.failures);
		publish_counter("status/missing", st.missing);
		publish_counter("status/dropped", st.dropped);
		publish_counter("status/backlog_writes", st.backlog_writes);
	}
	publish_counter("workers", s.workers); /* last: ends a batch */

	for(i = 0; i < EA_MAX_TIMED_DETECTORS && s.engine.timed_type[i] != NULL; i++){
		char name[96];
		uint64_t calls = s.engine.timed_calls[i];
		snprintf(name, sizeof(name), "detector/%s/ns_per_sample", s.engine.timed_type[i]->name);
		publish_counter(name, calls ? s.engine.timed_ns[i] / calls : 0);
	}
}

static void maybe_publish_stats(struct ea_plugin *p, int64_t now_ns)
{
	if(p->cfg->stats_interval_ms <= 0 || now_ns < p->next_stats_ns) return;
	p->next_stats_ns = now_ns + p->cfg->stats_interval_ms * 1000000;
	publish_stats(p);
}

/* ------------------------------------------------------------------ */
/* Callbacks (broker thread)                                           */

static bool topic_tapped(const ea_config *cfg, const char *topic)
{
	size_t i;

	for(i = 0; i < cfg->topic_count; i++){
		if(ea_topic_matches(cfg->topics[i], topic)) return true;
	}
	return false;
}

/* Until the first tick: after TICK_GRACE_NS without one, say so once and
 * publish from here instead. */
static void tick_watch(struct ea_plugin *p)
{
	int64_t now = ea_mono_ns();

	if(!p->fallback){
		if(now - p->start_ns < TICK_GRACE_NS) return;
		p->fallback = true;
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"edge-anomaly: the broker has not called MOSQ_EVT_TICK in %lld s: this is mosquitto 2.0.11-2.0.14 "
				"with per_listener_settings true, which never ticks plugins. Results are now published from the "
				"message callback, only while messages arrive; staleness of quiet devices cannot be reported. "
				"Fix: set per_listener_settings false, or use mosquitto 2.0.15 or later.",
				(long long)(TICK_GRACE_NS / 1000000000));
	}
	if(now - p->last_fallback_ns < FALLBACK_DRAIN_NS) return;
	p->last_fallback_ns = now;
	if(ea_pool_has_results(p->pool)) publish_results(p);
	maybe_publish_stats(p, now);
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct ea_plugin *p = userdata;
	const struct mosquitto_evt_message *m = event_data;
	size_t topic_len;

	(void)event;
	p->received++;
	if(!p->tick_seen) tick_watch(p);
	if(m->topic == NULL || !topic_tapped(p->cfg, m->topic)) return MOSQ_ERR_SUCCESS;
	p->tapped++;
	if(m->payloadlen > p->cfg->max_payload){
		p->dropped_too_large++;
		return MOSQ_ERR_SUCCESS;
	}
	topic_len = strlen(m->topic);
	switch(ea_pool_push(p->pool, m->topic, topic_len, m->payload, m->payloadlen, ea_now_ms())){
		case EA_PUSH_OK:
			break;
		case EA_PUSH_FULL:
			p->dropped_queue_full++;
			break;
		case EA_PUSH_BUDGET:
			p->dropped_budget++;
			break;
	}
	return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	struct ea_plugin *p = userdata;

	(void)event;
	(void)event_data;
	if(!p->tick_seen){
		p->tick_seen = true;
		if(p->fallback){
			mosquitto_log_printf(MOSQ_LOG_NOTICE, "edge-anomaly: the broker ticks again; leaving the fallback");
			p->fallback = false;
		}
	}
	if(ea_pool_has_results(p->pool)) publish_results(p);
	if(p->cfg->stats_interval_ms > 0) maybe_publish_stats(p, ea_mono_ns());
	if(p->retired_count > 0) free_retired(p);
	return MOSQ_ERR_SUCCESS;
}

/* Frees replaced configs no worker uses any more. */
static void free_retired(struct ea_plugin *p)
{
	size_t i = 0;

	while(i < p->retired_count){
		if(ea_pool_config_in_use(p->pool, p->retired[i])){
			i++;
			continue;
		}
		ea_config_free(p->retired[i]);
		p->retired[i] = p->retired[--p->retired_count];
	}
}

/* SIGHUP: read the YAML again. A config that became invalid is refused and
 * the running one kept; keys that size threads and memory need a restart. */
static int on_reload(int event, void *event_data, void *userdata)
{
	struct ea_plugin *p = userdata;
	ea_config_error cerr;
	ea_config *next;

	(void)event;
	(void)event_data;
	if(p->config_path == NULL){
		mosquitto_log_printf(MOSQ_LOG_INFO, "edge-anomaly: reload: no plugin_opt_config, still on defaults");
		return MOSQ_ERR_SUCCESS;
	}
	free_retired(p);
	if(p->retired_count == MAX_RETIRED){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "edge-anomaly: reload: workers still switching from earlier "
				"reloads; try again in a second");
		return MOSQ_ERR_SUCCESS;
	}
	next = ea_config_load_file(p->config_path, &cerr);
	if(next == NULL){
		mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: reload refused, the running config stays: %s", cerr.message);
		return MOSQ_ERR_SUCCESS;
	}
	if(next->workers != p->cfg->workers || next->queue_capacity != p->cfg->queue_capacity
			|| next->queue_max_bytes != p->cfg->queue_max_bytes || next->max_series != p->cfg->max_series){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "edge-anomaly: reload: workers, queue.capacity, queue.max_bytes and "
				"max_series take effect at the next broker restart; the rest applies now");
		next->workers = p->cfg->workers;
		next->queue_capacity = p->cfg->queue_capacity;
		next->queue_max_bytes = p->cfg->queue_max_bytes;
		next->max_series = p->cfg->max_series;
	}
	p->retired[p->retired_count++] = p->cfg;
	p->cfg = next;
	ea_pool_set_config(p->pool, next);
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "edge-anomaly: reloaded %s: %zu topic filters, %zu routes",
			p->config_path, next->topic_count, next->route_count);
	return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Plugin entry points                                                 */

static void plugin_free(struct ea_plugin *p)
{
	size_t i;

	if(p == NULL) return;
	if(p->id != NULL){
		mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, NULL);
		mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, NULL);
		mosquitto_callback_unregister(p->id, MOSQ_EVT_RELOAD, on_reload, NULL);
	}
	ea_pool_free(p->pool); /* joins the workers: no config is in use after this */
	ea_ext_hub_free(p->external); /* after the workers, which submit to it */
	ea_mirror_close(p->mirror);   /* after the workers and clients: writes what is queued */
	ea_status_close(p->status);   /* keeps what is unsent in its backlog file */
	for(i = 0; i < p->retired_count; i++) ea_config_free(p->retired[i]);
	ea_config_free(p->cfg);
	free(p->config_path);
	free(p);
}

static void report_tick_facts(const struct ea_plugin *p)
{
	const ea_broker_facts *f = &p->facts;

	if(!ea_broker_tick_broken(f)) return;
	if(f->version_minor >= 0){
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"edge-anomaly: %s sets per_listener_settings true and this broker is mosquitto 2.0.%d, which never "
				"calls the plugin tick in that mode (fixed in 2.0.15). Results will be published only while messages "
				"arrive and quiet devices will not be reported stale. Set per_listener_settings false or upgrade.",
				f->config_path, f->version_minor);
	}else{
		mosquitto_log_printf(MOSQ_LOG_WARNING,
				"edge-anomaly: %s sets per_listener_settings true; mosquitto 2.0.11 to 2.0.14 never call the plugin "
				"tick in that mode. The broker's version could not be read; edge-anomaly will say within 3 s of "
				"traffic whether ticks arrive.", f->config_path);
	}
}

EA_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;

	for(i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

EA_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	struct ea_plugin *p = calloc(1, sizeof(*p));
	const char *config_path = NULL;
	ea_config_error cerr;
	char err[256];
	int i, rc;

	if(p == NULL) return MOSQ_ERR_NOMEM;
	/* the operator's config may name detector libraries (detector_libraries) */
	ea_plugin_detectors_allow(true);
	for(i = 0; i < option_count; i++){
		if(strcmp(options[i].key, "config") == 0){
			config_path = options[i].value;
		}else{
			mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: unknown option plugin_opt_%s; the only option is "
					"plugin_opt_config (the path of the YAML config)", options[i].key);
			free(p);
			return MOSQ_ERR_INVAL;
		}
	}
	if(config_path != NULL){
		p->config_path = strdup(config_path);
		if(p->config_path == NULL){
			free(p);
			return MOSQ_ERR_NOMEM;
		}
		p->cfg = ea_config_load_file(config_path, &cerr);
		if(p->cfg == NULL){
			mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: %s", cerr.message);
			mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: not started; check the config with: edge-anomaly check-config %s",
					config_path);
			plugin_free(p);
			return MOSQ_ERR_INVAL;
		}
	}else{
		p->cfg = ea_config_defaults();
		if(p->cfg == NULL){
			plugin_free(p);
			return MOSQ_ERR_NOMEM;
		}
	}
	p->pool = ea_pool_new(p->cfg, err, sizeof(err));
	if(p->pool == NULL){
		mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: cannot start workers: %s", err);
		plugin_free(p);
		return MOSQ_ERR_UNKNOWN;
	}
	p->external = ea_ext_hub_new(on_external_result, p);
	if(p->external == NULL){
		plugin_free(p);
		return MOSQ_ERR_NOMEM;
	}
	ea_pool_set_external(p->pool, on_external_sample, p);
	if(p->cfg->mirror_path != NULL){
		ea_mirror_settings ms = { .path = p->cfg->mirror_path, .retention_ms = p->cfg->mirror_retention_ms,
			.max_size = p->cfg->mirror_max_size };
		p->mirror = ea_mirror_open(&ms, err, sizeof(err));
		if(p->mirror == NULL){
			mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: %s", err);
			plugin_free(p);
			return MOSQ_ERR_UNKNOWN;
		}
		ea_pool_set_mirror(p->pool, p->mirror, p->cfg->mirror_results);
	}
	if(p->cfg->status_url != NULL){
		ea_status_settings ss = { .url = p->cfg->status_url, .token_file = p->cfg->status_token_file,
			.ca_file = p->cfg->status_ca, .backlog_path = p->cfg->status_backlog,
			.min_interval_ms = p->cfg->status_interval_ms, .timeout_ms = p->cfg->status_timeout_ms,
			.max_devices = (size_t)p->cfg->status_max_devices, .log = status_log };
		p->status = ea_status_open(&ss, err, sizeof(err));
		if(p->status == NULL){
			mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: %s", err);
			plugin_free(p);
			return MOSQ_ERR_UNKNOWN;
		}
		ea_pool_set_result_tap(p->pool, status_result, p->status);
	}
	p->start_ns = ea_mono_ns();
	p->next_stats_ns = p->start_ns;
	ea_broker_facts_read(&p->facts);
	report_tick_facts(p);

	rc = mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, p);
	if(rc == MOSQ_ERR_SUCCESS){
		p->id = identifier;
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p);
	}
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(identifier, MOSQ_EVT_RELOAD, on_reload, NULL, p);
	}
	if(rc != MOSQ_ERR_SUCCESS){
		mosquitto_log_printf(MOSQ_LOG_ERR, "edge-anomaly: cannot register callbacks: %s", mosquitto_strerror(rc));
		plugin_free(p);
		return rc;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO, "edge-anomaly %s: config %s, %u workers, %zu topic filters, %zu routes, "
			"results on %s; holds at most %.1f MiB", EA_VERSION, p->cfg->path, p->cfg->workers, p->cfg->topic_count,
			p->cfg->route_count, p->cfg->result_topic, (double)ea_pool_memory_bound(p->cfg) / 1048576.0);
	*userdata = p;
	return MOSQ_ERR_SUCCESS;
}

EA_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	plugin_free(userdata);
	return MOSQ_ERR_SUCCESS;
}
