/* SPDX-License-Identifier: Apache-2.0
 *
 * simulate.c - `edge-anomaly simulate`: a simulated KubeEdge mapper.
 *
 * Connects to a broker with libmosquitto and publishes, for N devices at a
 * fixed rate per device, device twin updates exactly as KubeEdge carries
 * them (see DESIGN.md): on `$hw/events/device/{ns}/{device}/twin/update`
 * (KubeEdge v1.17+), `$hw/events/device/{device}/twin/update` (up to
 * v1.16.1) or `.../twin/update/document` (what EdgeCore publishes for
 * mapper-framework mappers), after one `state/update` "online" per device.
 *
 * The first three devices carry one scripted fault each, so a broker with
 * the plugin has something to find:
 *   boiler-1 temperature ~60: at 40 % of the run ONE value of 180.0;
 *   pump-2   pressure ~3.2:   from 50 % the same value over and over;
 *   meter-3  power ~1200:     from 60 % no messages at all.
 * Further devices (sensor-4, sensor-5, ...) stay normal. Values are noisy
 * and drift slowly; the noise comes from a seeded generator, so a run is
 * reproducible (--seed).
 *
 * Threads: the main thread builds and publishes messages on a fixed
 * schedule; libmosquitto's network thread (mosquitto_loop_start) writes
 * them and runs the callbacks, which only update atomics. SIGINT and
 * SIGTERM are blocked in the network thread and stop the main loop, after
 * which the queued messages are flushed, the client disconnects cleanly
 * and the process re-raises the signal (so a calling shell sees it).
 */
#include "cli.h"
#include "ea.h"

#include <cJSON.h>
#include <mosquitto.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PI 3.14159265358979323846
#define KEEPALIVE_S 30
#define CONNACK_WAIT_MS 5000
#define FLUSH_WAIT_MS 5000
#define DEVICE_NAME_MAX 64
#define NAMESPACE_MAX 63   /* a Kubernetes namespace is a DNS label */
#define TOPIC_MAX 512
#define VALUE_TEXT_MAX 32

/* Fault points, as fractions of the run. */
#define SPIKE_AT 0.4
#define STUCK_FROM 0.5
#define SILENT_FROM 0.6
#define SPIKE_VALUE 180.0

enum topic_style {
	STYLE_TWO_LEVEL = 0, /* $hw/events/device/{ns}/{device}/twin/update */
	STYLE_ONE_LEVEL,     /* $hw/events/device/{device}/twin/update */
	STYLE_DOCUMENT       /* $hw/events/device/{ns}/{device}/twin/update/document */
};

static const char *const style_names[] = { "two-level", "one-level", "document" };

struct sim_options {
	const char *host; /* borrowed from argv */
	const char *ns;   /* borrowed from argv */
	long port;
	long devices;
	double rate;      /* messages per second per device */
	double duration;  /* seconds */
	enum topic_style style;
	long qos;
	unsigned long long seed;
	bool quiet;
};

enum device_role { ROLE_BOILER, ROLE_PUMP, ROLE_METER, ROLE_SENSOR };

struct sim_device {
	char name[DEVICE_NAME_MAX];
	const char *property; /* static string */
	enum device_role role;
	double base;      /* value the signal varies around */
	double amplitude; /* of the slow drift */
	double period_s;  /* of the slow drift */
	double phase;
	double noise;     /* standard deviation of the per-sample noise */
	int decimals;     /* digits after the point in the reported text */
	bool fault_announced;
	char stuck_text[VALUE_TEXT_MAX]; /* pump once stuck: the repeated text */
	/* Document style: the previous value, sent as "last". */
	bool has_last;
	char last_text[VALUE_TEXT_MAX];
	int64_t last_ms;
};

/* State shared with libmosquitto's network thread: atomics only. */
struct sim_shared {
	atomic_int connack;         /* -1 until CONNACK, then its return code */
	atomic_int lost;            /* 1 once the connection dropped unexpectedly */
	atomic_uint_fast64_t done;  /* messages written (QoS 0) or acknowledged (QoS 1) */
};

struct sim {
	struct sim_options opt;
	struct sim_device *devices; /* owned, opt.devices entries */
	struct mosquitto *mosq;     /* owned */
	bool loop_started;          /* libmosquitto's network thread runs */
	struct sim_shared shared;
	uint64_t rng;               /* the values: seeded by --seed, reproducible */
	uint64_t id_rng;            /* event ids: seeded by time and pid, unique per run */
	uint64_t sent;              /* publishes accepted by libmosquitto */
	uint64_t sent_twin;
	uint64_t sent_state;
};

static volatile sig_atomic_t stop_signal = 0;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* ------------------------------------------------------------------ */
/* Usage and argument parsing                                          */

static void simulate_usage(FILE *out)
{
	fprintf(out,
		"usage: %s simulate [options]\n"
		"\n"
		"Publishes simulated KubeEdge device twin updates to an MQTT broker, with one\n"
		"scripted fault per device among the first three:\n"
		"  boiler-1 temperature ~60: one value of 180.0 at 40%% of the run\n"
		"  pump-2   pressure ~3.2:   stuck on one value from 50%% of the run\n"
		"  meter-3  power ~1200:     silent from 60%% of the run\n"
		"Further devices (sensor-4, ...) report normal temperatures.\n"
		"\n"
		"options:\n"
		"  --host HOST           broker address (default 127.0.0.1)\n"
		"  --port PORT           broker port (default 1883)\n"
		"  --devices N           number of devices (default 3)\n"
		"  --namespace NS        Kubernetes namespace of the devices (default default)\n"
		"  --rate HZ             messages per second per device (default 5)\n"
		"  --duration SECONDS    length of the run (default 20)\n"
		"  --topic-style STYLE   two-level ($hw/events/device/NS/DEV/twin/update, KubeEdge\n"
		"                        v1.17+; default), one-level ($hw/events/device/DEV/...,\n"
		"                        up to v1.16.1) or document (.../twin/update/document)\n"
		"  --qos 0|1             QoS of the published messages (default 0)\n"
		"  --seed N              seed of the noise, for reproducible runs (default 1)\n"
		"  --quiet               print nothing but errors\n"
		"  --help                show this help\n"
		"\n"
		"Each injected fault is announced on stdout when it happens. Exit status: 0\n"
		"done, 1 connection or publish failure, 2 usage error. SIGINT or SIGTERM stop\n"
		"the run cleanly (queued messages flushed, clean disconnect), then the process\n"
		"ends by that signal.\n",
		EA_CLI_NAME);
}

static bool parse_long(const char *opt, const char *text, long lo, long hi, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if(end == text || *end != '\0'){
		fprintf(stderr, "%s simulate: %s expects a whole number, got '%s'\n", EA_CLI_NAME, opt, text);
		return false;
	}
	if(errno == ERANGE){
		fprintf(stderr, "%s simulate: %s must be between %ld and %ld, got '%s'\n", EA_CLI_NAME, opt, lo, hi, text);
		return false;
	}
	if(v < lo || v > hi){
		fprintf(stderr, "%s simulate: %s must be between %ld and %ld, got %ld\n", EA_CLI_NAME, opt, lo, hi, v);
		return false;
	}
	*out = v;
	return true;
}

/* `lo` is exclusive (a rate or duration of 0 means nothing), `hi` inclusive. */
static bool parse_positive_double(const char *opt, const char *text, double hi, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if(end == text || *end != '\0' || errno == ERANGE || !isfinite(v)){
		fprintf(stderr, "%s simulate: %s expects a number, got '%s'\n", EA_CLI_NAME, opt, text);
		return false;
	}
	if(!(v > 0.0) || v > hi){
		fprintf(stderr, "%s simulate: %s must be above 0 and at most %g, got %g\n", EA_CLI_NAME, opt, hi, v);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_seed(const char *text, unsigned long long *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if(end == text || *end != '\0' || errno == ERANGE || text[0] == '-'){
		fprintf(stderr, "%s simulate: --seed expects a whole number >= 0, got '%s'\n", EA_CLI_NAME, text);
		return false;
	}
	*out = v;
	return true;
}

static bool check_namespace(const char *ns)
{
	size_t len = strlen(ns);

	if(len == 0 || len > NAMESPACE_MAX){
		fprintf(stderr, "%s simulate: --namespace must have 1 to %d characters\n", EA_CLI_NAME, NAMESPACE_MAX);
		return false;
	}
	if(strpbrk(ns, "/+#") != NULL || !ea_utf8_valid(ns, len)){
		fprintf(stderr, "%s simulate: --namespace '%s' cannot be a topic level (no '/', '+' or '#')\n",
				EA_CLI_NAME, ns);
		return false;
	}
	return true;
}

/* Parses argv (argv[0] is "simulate"). Returns -1 to go on, or an exit
 * status (help shown, or a usage error reported). Accepts "--opt value" and
 * "--opt=value". */
static int parse_args(int argc, char **argv, struct sim_options *o)
{
	int i;

	o->host = "127.0.0.1";
	o->ns = "default";
	o->port = 1883;
	o->devices = 3;
	o->rate = 5.0;
	o->duration = 20.0;
	o->style = STYLE_TWO_LEVEL;
	o->qos = 0;
	o->seed = 1;
	o->quiet = false;

	for(i = 1; i < argc; i++){
		char name[32];
		const char *arg = argv[i], *value = NULL, *eq;
		bool ok = true;

		if(strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0){
			simulate_usage(stdout);
			return EA_EXIT_OK;
		}
		if(strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0){
			o->quiet = true;
			continue;
		}
		if(strncmp(arg, "--", 2) != 0){
			fprintf(stderr, "%s simulate: unexpected argument '%s'\n\n", EA_CLI_NAME, arg);
			simulate_usage(stderr);
			return EA_EXIT_USAGE;
		}
		/* The option name, without any "=value". */
		eq = strchr(arg, '=');
		if(eq != NULL){
			size_t n = (size_t)(eq - arg);
			if(n >= sizeof(name)) n = sizeof(name) - 1;
			memcpy(name, arg, n);
			name[n] = '\0';
			value = eq + 1;
		}else{
			snprintf(name, sizeof(name), "%s", arg);
		}
		if(strcmp(name, "--host") != 0 && strcmp(name, "--port") != 0 && strcmp(name, "--devices") != 0
				&& strcmp(name, "--namespace") != 0 && strcmp(name, "--rate") != 0
				&& strcmp(name, "--duration") != 0 && strcmp(name, "--topic-style") != 0
				&& strcmp(name, "--qos") != 0 && strcmp(name, "--seed") != 0){
			fprintf(stderr, "%s simulate: unknown option '%s'\n\n", EA_CLI_NAME, arg);
			simulate_usage(stderr);
			return EA_EXIT_USAGE;
		}
		if(value == NULL){
			if(i + 1 >= argc){
				fprintf(stderr, "%s simulate: %s needs a value\n", EA_CLI_NAME, name);
				return EA_EXIT_USAGE;
			}
			value = argv[++i];
		}

		if(strcmp(name, "--host") == 0){
			if(value[0] == '\0'){
				fprintf(stderr, "%s simulate: --host must not be empty\n", EA_CLI_NAME);
				ok = false;
			}
			o->host = value;
		}else if(strcmp(name, "--port") == 0){
			ok = parse_long(name, value, 1, 65535, &o->port);
		}else if(strcmp(name, "--devices") == 0){
			ok = parse_long(name, value, 1, 100000, &o->devices);
		}else if(strcmp(name, "--namespace") == 0){
			ok = check_namespace(value);
			o->ns = value;
		}else if(strcmp(name, "--rate") == 0){
			ok = parse_positive_double(name, value, 1000.0, &o->rate);
		}else if(strcmp(name, "--duration") == 0){
			ok = parse_positive_double(name, value, 7.0 * 86400.0, &o->duration);
		}else if(strcmp(name, "--qos") == 0){
			ok = parse_long(name, value, 0, 1, &o->qos);
		}else if(strcmp(name, "--seed") == 0){
			ok = parse_seed(value, &o->seed);
		}else{ /* --topic-style */
			size_t s;
			ok = false;
			for(s = 0; s < sizeof(style_names) / sizeof(style_names[0]); s++){
				if(strcmp(value, style_names[s]) == 0){
					o->style = (enum topic_style)s;
					ok = true;
				}
			}
			if(!ok){
				fprintf(stderr, "%s simulate: --topic-style must be two-level, one-level or document, got '%s'\n",
						EA_CLI_NAME, value);
			}
		}
		if(!ok) return EA_EXIT_USAGE;
	}
	if(o->duration * o->rate < 1.0){
		fprintf(stderr, "%s simulate: --duration %g at --rate %g sends no message; make the run longer\n",
				EA_CLI_NAME, o->duration, o->rate);
		return EA_EXIT_USAGE;
	}
	if(o->style == STYLE_ONE_LEVEL && strcmp(o->ns, "default") != 0){
		fprintf(stderr, "%s simulate: one-level topics carry no namespace (KubeEdge up to v1.16.1); "
				"use --topic-style two-level or document with --namespace %s\n", EA_CLI_NAME, o->ns);
		return EA_EXIT_USAGE;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* splitmix64: small, fast, good enough for sensor noise. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_unit(uint64_t *state)
{
	return ((double)(rng_next(state) >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static double rng_gauss(uint64_t *state)
{
	double u1 = rng_unit(state), u2 = rng_unit(state);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

/* A random (version 4) UUID, as KubeEdge puts in event_id. */
static void make_event_id(uint64_t *state, char out[37])
{
	uint64_t hi = rng_next(state), lo = rng_next(state);

	hi = (hi & ~UINT64_C(0xF000)) | UINT64_C(0x4000);                       /* version 4 */
	lo = (lo & ~UINT64_C(0xC000000000000000)) | UINT64_C(0x8000000000000000); /* variant 10 */
	snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
			hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, lo & UINT64_C(0xFFFFFFFFFFFF));
}

static void init_devices(struct sim *sim)
{
	long i;

	for(i = 0; i < sim->opt.devices; i++){
		struct sim_device *d = &sim->devices[i];

		memset(d, 0, sizeof(*d));
		d->phase = 2.0 * PI * rng_unit(&sim->rng);
		switch(i){
		case 0:
			snprintf(d->name, sizeof(d->name), "boiler-1");
			d->property = "temperature";
			d->role = ROLE_BOILER;
			d->base = 60.0, d->amplitude = 3.0, d->period_s = 120.0, d->noise = 0.25, d->decimals = 1;
			break;
		case 1:
			snprintf(d->name, sizeof(d->name), "pump-2");
			d->property = "pressure";
			d->role = ROLE_PUMP;
			d->base = 3.2, d->amplitude = 0.08, d->period_s = 90.0, d->noise = 0.03, d->decimals = 2;
			break;
		case 2:
			snprintf(d->name, sizeof(d->name), "meter-3");
			d->property = "power";
			d->role = ROLE_METER;
			d->base = 1200.0, d->amplitude = 80.0, d->period_s = 60.0, d->noise = 12.0, d->decimals = 1;
			break;
		default:
			snprintf(d->name, sizeof(d->name), "sensor-%ld", i + 1);
			d->property = "temperature";
			d->role = ROLE_SENSOR;
			d->base = 18.0 + (double)(i % 7), d->amplitude = 1.5, d->period_s = 150.0, d->noise = 0.2;
			d->decimals = 1;
			break;
		}
	}
}

/* The normal reading of device d at t seconds into the run. */
static double normal_value(struct sim *sim, const struct sim_device *d, double t)
{
	return d->base + d->amplitude * sin(2.0 * PI * t / d->period_s + d->phase)
			+ d->noise * rng_gauss(&sim->rng);
}

/* ------------------------------------------------------------------ */
/* Payloads (cJSON; every tree is owned by its builder and deleted there) */

/* Adds a KubeEdge MsgTwin {"actual":{"value","metadata":{"timestamp"}},
 * "metadata":{"type":"float"}} under `parent` (as `name`, or as the
 * parent itself when name is NULL). Returns false on out of memory. */
static bool add_msg_twin(cJSON *parent, const char *name, const char *text, int64_t ms)
{
	cJSON *twin, *actual, *meta;

	/* Keys in KubeEdge's order; cJSON_Add* return NULL on a NULL parent, so
	 * one check per object is enough. */
	twin = name != NULL ? cJSON_AddObjectToObject(parent, name) : parent;
	actual = cJSON_AddObjectToObject(twin, "actual");
	if(cJSON_AddStringToObject(actual, "value", text) == NULL) return false;
	meta = cJSON_AddObjectToObject(actual, "metadata");
	if(cJSON_AddNumberToObject(meta, "timestamp", (double)ms) == NULL) return false;
	meta = cJSON_AddObjectToObject(twin, "metadata");
	return cJSON_AddStringToObject(meta, "type", "float") != NULL;
}

/* Builds the twin payload for one value; returns a string the caller frees
 * with cJSON_free, or NULL on out of memory. */
static char *twin_payload(struct sim *sim, const struct sim_device *d, const char *text, int64_t ms)
{
	char event_id[37];
	cJSON *root = cJSON_CreateObject(), *twin;
	char *out = NULL;
	bool ok;

	make_event_id(&sim->id_rng, event_id);
	ok = cJSON_AddStringToObject(root, "event_id", event_id) != NULL
			&& cJSON_AddNumberToObject(root, "timestamp", (double)ms) != NULL;
	twin = ok ? cJSON_AddObjectToObject(root, "twin") : NULL;
	ok = twin != NULL;
	if(ok && sim->opt.style == STYLE_DOCUMENT){
		/* {"twin":{P:{"last":MsgTwin|null,"current":MsgTwin}}} */
		cJSON *prop = cJSON_AddObjectToObject(twin, d->property);
		ok = prop != NULL;
		if(ok && d->has_last) ok = add_msg_twin(prop, "last", d->last_text, d->last_ms);
		else if(ok) ok = cJSON_AddNullToObject(prop, "last") != NULL;
		ok = ok && add_msg_twin(prop, "current", text, ms);
	}else if(ok){
		ok = add_msg_twin(twin, d->property, text, ms);
	}
	if(ok) out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root); /* accepts NULL */
	return out;
}

/* Same ownership as twin_payload. */
static char *state_payload(struct sim *sim, const char *state, int64_t ms)
{
	char event_id[37];
	cJSON *root = cJSON_CreateObject();
	char *out = NULL;

	make_event_id(&sim->id_rng, event_id);
	if(cJSON_AddStringToObject(root, "event_id", event_id) != NULL
			&& cJSON_AddNumberToObject(root, "timestamp", (double)ms) != NULL
			&& cJSON_AddStringToObject(root, "state", state) != NULL){
		out = cJSON_PrintUnformatted(root);
	}
	cJSON_Delete(root);
	return out;
}

/* `what` is "twin/update" or "state/update"; the document suffix is added
 * for twin updates in document style. Returns false if it does not fit. */
static bool make_topic(const struct sim *sim, const struct sim_device *d, const char *what,
		char *buf, size_t len)
{
	int n;

	if(sim->opt.style == STYLE_ONE_LEVEL){
		n = snprintf(buf, len, "$hw/events/device/%s/%s", d->name, what);
	}else{
		n = snprintf(buf, len, "$hw/events/device/%s/%s/%s%s", sim->opt.ns, d->name, what,
				sim->opt.style == STYLE_DOCUMENT && strcmp(what, "twin/update") == 0 ? "/document" : "");
	}
	return n > 0 && (size_t)n < len;
}

/* ------------------------------------------------------------------ */
/* MQTT                                                                */

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct sim_shared *shared = obj;
	(void)mosq;
	atomic_store(&shared->connack, rc);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	struct sim_shared *shared = obj;
	(void)mosq;
	if(rc != 0) atomic_store(&shared->lost, 1); /* 0: we asked for it */
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	struct sim_shared *shared = obj;
	(void)mosq;
	(void)mid;
	atomic_fetch_add(&shared->done, 1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while(nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_signal){
	}
}

/* Publishes one message. `payload` is borrowed (libmosquitto copies it).
 * Returns false, with a message printed, when the run must stop. */
static bool publish(struct sim *sim, const char *topic, const char *payload)
{
	int rc;

	if(payload == NULL){
		fprintf(stderr, "%s simulate: out of memory building a payload\n", EA_CLI_NAME);
		return false;
	}
	rc = mosquitto_publish(sim->mosq, NULL, topic, (int)strlen(payload), payload, (int)sim->opt.qos, false);
	if(rc == MOSQ_ERR_NO_CONN || atomic_load(&sim->shared.lost)){
		fprintf(stderr, "%s simulate: lost the connection to %s:%ld\n", EA_CLI_NAME, sim->opt.host, sim->opt.port);
		return false;
	}
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "%s simulate: cannot publish on %s: %s\n", EA_CLI_NAME, topic, mosquitto_strerror(rc));
		return false;
	}
	sim->sent++;
	return true;
}

/* Connects and starts the network thread. Returns false, with a message
 * printed, on failure. */
static bool sim_connect(struct sim *sim)
{
	char client_id[64];
	sigset_t block, old;
	int rc, waited;

	snprintf(client_id, sizeof(client_id), "edge-anomaly-sim-%ld", (long)getpid());
	sim->mosq = mosquitto_new(client_id, true, &sim->shared);
	if(sim->mosq == NULL){
		fprintf(stderr, "%s simulate: cannot create an MQTT client: %s\n", EA_CLI_NAME, strerror(errno));
		return false;
	}
	mosquitto_connect_callback_set(sim->mosq, on_connect);
	mosquitto_disconnect_callback_set(sim->mosq, on_disconnect);
	mosquitto_publish_callback_set(sim->mosq, on_publish);

	errno = 0;
	rc = mosquitto_connect(sim->mosq, sim->opt.host, (int)sim->opt.port, KEEPALIVE_S);
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "%s simulate: cannot connect to %s:%ld: %s\n", EA_CLI_NAME, sim->opt.host, sim->opt.port,
				rc == MOSQ_ERR_ERRNO && errno != 0 ? strerror(errno)
				: rc == MOSQ_ERR_EAI ? "cannot resolve the host name" : mosquitto_strerror(rc));
		return false;
	}

	/* The network thread inherits this mask: signals go to the main thread,
	 * whose sleeps they interrupt. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = mosquitto_loop_start(sim->mosq);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sim->loop_started = rc == MOSQ_ERR_SUCCESS;
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "%s simulate: cannot start the MQTT network thread: %s\n", EA_CLI_NAME,
				mosquitto_strerror(rc));
		return false;
	}

	for(waited = 0; atomic_load(&sim->shared.connack) < 0 && waited < CONNACK_WAIT_MS && !stop_signal; waited += 10){
		if(atomic_load(&sim->shared.lost)) break;
		sleep_ms(10);
	}
	rc = atomic_load(&sim->shared.connack);
	if(rc == 0) return true;
	if(stop_signal) return false;
	if(rc > 0){
		fprintf(stderr, "%s simulate: %s:%ld refused the connection: %s\n", EA_CLI_NAME, sim->opt.host,
				sim->opt.port, mosquitto_connack_string(rc));
	}else if(atomic_load(&sim->shared.lost)){
		fprintf(stderr, "%s simulate: cannot connect to %s:%ld: the server closed the connection before "
				"answering (is it an MQTT broker?)\n", EA_CLI_NAME, sim->opt.host, sim->opt.port);
	}else{
		fprintf(stderr, "%s simulate: cannot connect to %s:%ld: no MQTT answer (CONNACK) within %d s\n",
				EA_CLI_NAME, sim->opt.host, sim->opt.port, CONNACK_WAIT_MS / 1000);
	}
	return false;
}

/* With `flush`, first waits until every publish was written (QoS 0) or
 * acknowledged (QoS 1). Then disconnects and stops the network thread. */
static void sim_disconnect(struct sim *sim, bool flush)
{
	int waited;

	if(sim->mosq == NULL || !sim->loop_started) return;
	for(waited = 0; flush && waited < FLUSH_WAIT_MS && !atomic_load(&sim->shared.lost); waited += 10){
		if(atomic_load(&sim->shared.done) >= sim->sent) break;
		sleep_ms(10);
	}
	if(flush && atomic_load(&sim->shared.done) < sim->sent){
		fprintf(stderr, "%s simulate: %llu of %llu messages were not delivered to the broker\n", EA_CLI_NAME,
				(unsigned long long)(sim->sent - atomic_load(&sim->shared.done)), (unsigned long long)sim->sent);
	}
	/* Sets the state that makes the network thread end (it also stops any
	 * reconnect attempt); the DISCONNECT packet goes out after the queued
	 * messages. */
	mosquitto_disconnect(sim->mosq);
	mosquitto_loop_stop(sim->mosq, false);
	sim->loop_started = false;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

static void announce(const struct sim *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void announce(const struct sim *sim, const char *fmt, ...)
{
	va_list ap;

	if(sim->opt.quiet) return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* One twin update of device d at step `step` of `total`. Returns false when
 * the run must stop. */
static bool step_device(struct sim *sim, struct sim_device *d, long step, long total, double t)
{
	char topic[TOPIC_MAX], text[VALUE_TEXT_MAX];
	char *payload;
	int64_t ms;
	bool ok;

	if(d->role == ROLE_METER && step >= (long)(SILENT_FROM * (double)total)){
		if(!d->fault_announced){
			announce(sim, "simulate: %s goes silent\n", d->name);
			d->fault_announced = true;
		}
		return true;
	}
	if(d->role == ROLE_BOILER && step == (long)(SPIKE_AT * (double)total)){
		snprintf(text, sizeof(text), "%.*f", d->decimals, SPIKE_VALUE);
		announce(sim, "simulate: %s %s -> %s (out of range)\n", d->name, d->property, text);
	}else if(d->role == ROLE_PUMP && step >= (long)(STUCK_FROM * (double)total)){
		if(!d->fault_announced){
			snprintf(d->stuck_text, sizeof(d->stuck_text), "%.*f", d->decimals, normal_value(sim, d, t));
			announce(sim, "simulate: %s %s stuck at %s\n", d->name, d->property, d->stuck_text);
			d->fault_announced = true;
		}
		snprintf(text, sizeof(text), "%s", d->stuck_text);
	}else{
		snprintf(text, sizeof(text), "%.*f", d->decimals, normal_value(sim, d, t));
	}

	ms = ea_now_ms();
	if(!make_topic(sim, d, "twin/update", topic, sizeof(topic))){
		fprintf(stderr, "%s simulate: topic too long for device %s\n", EA_CLI_NAME, d->name);
		return false;
	}
	payload = twin_payload(sim, d, text, ms); /* owned here */
	ok = publish(sim, topic, payload);
	cJSON_free(payload);
	if(ok){
		sim->sent_twin++;
		d->has_last = true;
		snprintf(d->last_text, sizeof(d->last_text), "%s", text);
		d->last_ms = ms;
	}
	return ok;
}

static bool publish_states(struct sim *sim, const char *state)
{
	long i;

	for(i = 0; i < sim->opt.devices; i++){
		char topic[TOPIC_MAX];
		char *payload;
		bool ok;

		if(!make_topic(sim, &sim->devices[i], "state/update", topic, sizeof(topic))){
			fprintf(stderr, "%s simulate: topic too long for device %s\n", EA_CLI_NAME, sim->devices[i].name);
			return false;
		}
		payload = state_payload(sim, state, ea_now_ms()); /* owned here */
		ok = publish(sim, topic, payload);
		cJSON_free(payload);
		if(!ok) return false;
		sim->sent_state++;
	}
	return true;
}

static void timespec_add_ns(struct timespec *ts, int64_t ns)
{
	int64_t total = (int64_t)ts->tv_nsec + ns;
	ts->tv_sec += (time_t)(total / 1000000000);
	ts->tv_nsec = (long)(total % 1000000000);
}

/* Publishes on schedule until the end, a signal or an error. Returns true
 * when it ended without error. */
static bool run(struct sim *sim)
{
	long total = (long)llround(sim->opt.duration * sim->opt.rate);
	int64_t period_ns = (int64_t)llround(1e9 / sim->opt.rate);
	struct timespec start, next;
	long step, i;

	if(total < 1) total = 1;
	if(!publish_states(sim, "online")) return false;
	clock_gettime(CLOCK_MONOTONIC, &start);
	next = start;
	for(step = 0; step < total && !stop_signal; step++){
		double t = (double)step / sim->opt.rate;

		for(i = 0; i < sim->opt.devices; i++){
			if(!step_device(sim, &sim->devices[i], step, total, t)) return false;
		}
		if(atomic_load(&sim->shared.lost)){
			fprintf(stderr, "%s simulate: lost the connection to %s:%ld\n", EA_CLI_NAME, sim->opt.host,
					sim->opt.port);
			return false;
		}
		/* Absolute deadlines keep the rate exact; a signal ends the sleep. */
		timespec_add_ns(&next, period_ns);
		while(!stop_signal && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR){
		}
	}
	return true;
}

int ea_cmd_simulate(int argc, char **argv)
{
	struct sim sim;
	struct sigaction sa;
	int status, rc;
	bool ok;

	memset(&sim, 0, sizeof(sim));
	status = parse_args(argc, argv, &sim.opt);
	if(status >= 0) return status;

	atomic_init(&sim.shared.connack, -1);
	atomic_init(&sim.shared.lost, 0);
	atomic_init(&sim.shared.done, 0);
	sim.rng = (uint64_t)sim.opt.seed;
	sim.id_rng = (uint64_t)ea_now_ms() ^ ((uint64_t)getpid() << 32);
	sim.devices = calloc((size_t)sim.opt.devices, sizeof(*sim.devices));
	if(sim.devices == NULL){
		fprintf(stderr, "%s simulate: out of memory for %ld devices\n", EA_CLI_NAME, sim.opt.devices);
		return EA_EXIT_FAIL;
	}
	init_devices(&sim);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: sleeps return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN; /* libmosquitto writes with write(): a closed socket must not kill us */
	sigaction(SIGPIPE, &sa, NULL);

	rc = mosquitto_lib_init();
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "%s simulate: cannot initialise libmosquitto: %s\n", EA_CLI_NAME, mosquitto_strerror(rc));
		free(sim.devices);
		return EA_EXIT_FAIL;
	}
	ok = sim_connect(&sim);
	if(ok){
		announce(&sim, "simulate: %ld device%s, %g Hz each, %g s, %s topics, namespace %s, QoS %ld, to %s:%ld\n",
				sim.opt.devices, sim.opt.devices == 1 ? "" : "s", sim.opt.rate, sim.opt.duration,
				style_names[sim.opt.style], sim.opt.style == STYLE_ONE_LEVEL ? "default (implied)" : sim.opt.ns,
				sim.opt.qos, sim.opt.host, sim.opt.port);
		ok = run(&sim);
		if(stop_signal) announce(&sim, "simulate: stopped by signal %d\n", (int)stop_signal);
		sim_disconnect(&sim, ok);
		if(ok){
			announce(&sim, "simulate: sent %llu twin updates and %llu state updates\n",
					(unsigned long long)sim.sent_twin, (unsigned long long)sim.sent_state);
		}
	}else{
		sim_disconnect(&sim, false); /* nothing if the thread never started */
	}
	mosquitto_destroy(sim.mosq); /* accepts NULL */
	mosquitto_lib_cleanup();
	free(sim.devices);
	if(stop_signal){
		/* Stopped cleanly; now die of the signal as the caller expects, so
		 * a shell running us stops too (a script would go on after a plain
		 * exit 0). */
		int sig = (int)stop_signal;
		fflush(stdout);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return ok ? EA_EXIT_OK : EA_EXIT_FAIL;
}
