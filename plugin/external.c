/* SPDX-License-Identifier: Apache-2.0
 *
 * external.c - the StreamDetect clients described in external.h, on the
 * gRPC C core and protobuf-c.
 *
 * Each client thread owns a completion queue, a channel and at most one
 * open StreamDetect call. It keeps one read outstanding and sends the next
 * sample when the previous send has completed and fewer than IN_FLIGHT_MAX
 * samples await their answer; answers come in order, so each is matched
 * to the oldest sample in flight. When the call fails, the server closes
 * it or an answer takes longer than `timeout`, the call is cancelled, the
 * samples in flight are counted as lost (the server may or may not have
 * seen them; sending them again could count a reading twice), and a new
 * call is opened after a backoff (100 ms doubling to 5 s, back to 100 ms
 * once a call is accepted). Samples are sent only on a call the server has
 * accepted (its initial metadata arrived); until then, and while the
 * server is away, they wait in the buffer (`buffer` samples; beyond it they
 * are dropped and counted).
 *
 * Ownership: the hub owns its clients; a client owns its copies of the
 * settings, its buffered samples (one malloc each) and its gRPC objects.
 */
#include "external.h"

#include "anomaly_detector.pb-c.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METHOD "/kubeedge.anomalydetector.v1.AnomalyDetectionService/StreamDetect"
#define IN_FLIGHT_MAX 32
#define VALUE_MAX 1024
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define RAISED_SLOTS 65536 /* series whose alert is raised, per client */

/* One sample waiting or in flight: one allocation. */
struct ext_sample {
	char *ns, *device, *property, *value; /* inside this block */
	int64_t time_ms;
	int64_t sent_ns;
	char data[];
};

enum ext_tag { TAG_START, TAG_SEND, TAG_RECV, TAG_STATUS };

struct ext_client {
	struct ea_ext_hub *hub;
	struct ext_client *next;
	char *key;                 /* identity of the server and credentials */
	char *target, *tls_ca, *tls_cert, *tls_key, *token; /* owned copies */
	int64_t timeout_ms;

	pthread_mutex_t lock;      /* guards the ring */
	struct ext_sample **ring;
	size_t ring_cap, ring_head, ring_count;

	pthread_t thread;
	atomic_bool stop;
	atomic_bool connected;

	/* client thread only */
	grpc_completion_queue *cq;
	grpc_channel *channel;
	grpc_call *call;
	int pending_ops;
	bool sending, receiving, broken, ever_connected;
	bool ready;                /* the server answered the call's start: send */
	grpc_byte_buffer *send_buf, *recv_buf;
	grpc_metadata_array initial_md, trailing_md;
	grpc_status_code status;
	grpc_slice status_details;
	grpc_metadata auth;
	struct ext_sample *in_flight[IN_FLIGHT_MAX];
	size_t in_flight_head, in_flight_count;
	uint64_t *raised;          /* open addressing set of series hashes, RAISED_SLOTS */
	int tags[4];               /* addresses used as completion tags */
};

struct ea_ext_hub {
	ea_ext_result_fn sink;
	void *sink_ctx;
	pthread_mutex_t lock;      /* guards the client list */
	struct ext_client *clients;
	_Atomic uint64_t sent, answered, anomalies, dropped_full, lost_in_flight, reconnects, errors, client_count;
};

/* ------------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if(f == NULL) return NULL;
	if(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1 << 20) && fseek(f, 0, SEEK_SET) == 0){
		buf = malloc((size_t)n + 1);
		if(buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) buf[n] = '\0';
		else{
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static uint64_t series_key(const char *ns, const char *device, const char *property)
{
	uint64_t h = ea_hash_bytes(EA_HASH_SEED, ns, strlen(ns) + 1);
	h = ea_hash_bytes(h, device, strlen(device) + 1);
	h = ea_hash_bytes(h, property, strlen(property) + 1);
	return h < 2 ? h + 2 : h; /* 0: empty slot, 1: deleted */
}

/* Sets or clears the raised mark of a series; returns the previous state. */
static bool raised_set(struct ext_client *c, uint64_t key, bool raised)
{
	size_t i = (size_t)(key % RAISED_SLOTS), n, free_at = SIZE_MAX;

	for(n = 0; n < RAISED_SLOTS; n++, i = (i + 1) % RAISED_SLOTS){
		if(c->raised[i] == key){
			if(!raised) c->raised[i] = 1;
			return true;
		}
		if(c->raised[i] == 1 && free_at == SIZE_MAX) free_at = i;
		if(c->raised[i] == 0){
			if(free_at == SIZE_MAX) free_at = i;
			break;
		}
	}
	if(raised && free_at != SIZE_MAX) c->raised[free_at] = key; /* a full set forgets nothing, adds nothing */
	return false;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */

static void emit(struct ext_client *c, const struct ext_sample *s,
		const Kubeedge__Anomalydetector__V1__AnomalyResponse *r)
{
	bool anomaly = strcmp(r->status, "anomaly") == 0;
	bool was = raised_set(c, series_key(s->ns, s->device, s->property), anomaly);
	ea_result res;
	ea_sample parsed;
	char reason[EA_REASON_MAX];

	if(anomaly == was) return; /* no change of verdict */
	memset(&res, 0, sizeof(res));
	memset(&parsed, 0, sizeof(parsed));
	ea_sample_classify(&parsed, s->value, EA_TYPE_NONE);
	snprintf(reason, sizeof(reason), "%s", anomaly ? (r->message[0] != '\0' ? r->message : "the external detector raised an alert")
			: "the external detector says ok");
	res.ns = s->ns;
	res.device = s->device;
	res.property = s->property;
	res.detector = r->detector[0] != '\0' ? r->detector : "external";
	res.kind = r->kind[0] != '\0' ? r->kind : "external";
	res.reason = reason;
	res.value_text = s->value;
	res.value_is_number = parsed.has_number;
	res.value_number = parsed.number;
	res.sample_time_ms = s->time_ms;
	res.detected_at_ms = ea_now_ms();
	res.anomaly = anomaly;
	res.score = r->score >= 0 && r->score <= 1 ? r->score : (anomaly ? 1.0 : 0.0);
	res.confidence = r->confidence >= 0 && r->confidence <= 1 ? r->confidence : 0.5;
	c->hub->sink(c->hub->sink_ctx, &res);
}

/* ------------------------------------------------------------------ */
/* The stream                                                          */

static bool start_batch(struct ext_client *c, grpc_op *ops, size_t n, int tag)
{
	if(grpc_call_start_batch(c->call, ops, n, &c->tags[tag], NULL) != GRPC_CALL_OK){
		c->broken = true;
		return false;
	}
	c->pending_ops++;
	return true;
}

static void open_stream(struct ext_client *c)
{
	grpc_op ops[2];
	grpc_slice method = grpc_slice_from_static_string(METHOD);

	c->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq, method, NULL,
			gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
	c->broken = false;
	c->ready = false;
	c->sending = c->receiving = false;
	grpc_metadata_array_init(&c->initial_md);
	grpc_metadata_array_init(&c->trailing_md);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if(c->token != NULL){
		ops[0].data.send_initial_metadata.count = 1;
		ops[0].data.send_initial_metadata.metadata = &c->auth;
	}
	ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[1].data.recv_initial_metadata.recv_initial_metadata = &c->initial_md;
	start_batch(c, ops, 2, TAG_START);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &c->trailing_md;
	ops[0].data.recv_status_on_client.status = &c->status;
	ops[0].data.recv_status_on_client.status_details = &c->status_details;
	start_batch(c, ops, 1, TAG_STATUS);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_MESSAGE;
	ops[0].data.recv_message.recv_message = &c->recv_buf;
	if(start_batch(c, ops, 1, TAG_RECV)) c->receiving = true;
}

static struct ext_sample *ring_pop(struct ext_client *c)
{
	struct ext_sample *s = NULL;

	pthread_mutex_lock(&c->lock);
	if(c->ring_count > 0){
		s = c->ring[c->ring_head];
		c->ring_head = (c->ring_head + 1) % c->ring_cap;
		c->ring_count--;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

static void send_next(struct ext_client *c)
{
	Kubeedge__Anomalydetector__V1__DevicePropertyData d = KUBEEDGE__ANOMALYDETECTOR__V1__DEVICE_PROPERTY_DATA__INIT;
	struct ext_sample *s;
	char when[40];
	uint8_t buf[4096];
	size_t len;
	grpc_slice slice;
	grpc_op op;

	if(!c->ready || c->broken || c->sending || c->in_flight_count == IN_FLIGHT_MAX) return;
	s = ring_pop(c);
	if(s == NULL) return;
	d.device_name = s->device;
	d.namespace_ = s->ns;
	d.property_name = s->property;
	d.property_value = s->value;
	d.timestamp = ea_format_time(s->time_ms, when, sizeof(when));
	len = kubeedge__anomalydetector__v1__device_property_data__get_packed_size(&d);
	if(len > sizeof(buf)){
		atomic_fetch_add(&c->hub->errors, 1);
		free(s);
		return;
	}
	kubeedge__anomalydetector__v1__device_property_data__pack(&d, buf);
	slice = grpc_slice_from_copied_buffer((const char *)buf, len);
	c->send_buf = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = c->send_buf;
	s->sent_ns = ea_mono_ns();
	c->in_flight[(c->in_flight_head + c->in_flight_count) % IN_FLIGHT_MAX] = s;
	c->in_flight_count++;
	if(start_batch(c, &op, 1, TAG_SEND)) c->sending = true;
	atomic_fetch_add(&c->hub->sent, 1);
}

static void on_answer(struct ext_client *c)
{
	grpc_byte_buffer_reader reader;
	grpc_slice all;
	Kubeedge__Anomalydetector__V1__AnomalyResponse *r = NULL;
	struct ext_sample *s;

	if(grpc_byte_buffer_reader_init(&reader, c->recv_buf)){
		all = grpc_byte_buffer_reader_readall(&reader);
		grpc_byte_buffer_reader_destroy(&reader);
		r = kubeedge__anomalydetector__v1__anomaly_response__unpack(NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
		grpc_slice_unref(all);
	}
	grpc_byte_buffer_destroy(c->recv_buf);
	c->recv_buf = NULL;
	if(c->in_flight_count == 0){
		/* an answer to nothing: the server is confused; start again */
		if(r != NULL) kubeedge__anomalydetector__v1__anomaly_response__free_unpacked(r, NULL);
		atomic_fetch_add(&c->hub->errors, 1);
		c->broken = true;
		return;
	}
	s = c->in_flight[c->in_flight_head];
	c->in_flight_head = (c->in_flight_head + 1) % IN_FLIGHT_MAX;
	c->in_flight_count--;
	atomic_fetch_add(&c->hub->answered, 1);
	if(r == NULL || strcmp(r->status, "error") == 0){
		atomic_fetch_add(&c->hub->errors, 1);
	}else{
		if(strcmp(r->status, "anomaly") == 0) atomic_fetch_add(&c->hub->anomalies, 1);
		emit(c, s, r);
	}
	if(r != NULL) kubeedge__anomalydetector__v1__anomaly_response__free_unpacked(r, NULL);
	free(s);
}

static void dispatch(struct ext_client *c, int tag, bool ok)
{
	grpc_op op;

	c->pending_ops--;
	switch(tag){
	case TAG_START:
		if(ok && !c->broken){
			/* the server accepted the call: samples may go now (until
			 * then they wait in the buffer, not in a doomed call) */
			c->ready = true;
			if(c->ever_connected) atomic_fetch_add(&c->hub->reconnects, 1);
			c->ever_connected = true;
			atomic_store(&c->connected, true);
		}
		break;
	case TAG_SEND:
		c->sending = false;
		grpc_byte_buffer_destroy(c->send_buf);
		c->send_buf = NULL;
		if(!ok) c->broken = true;
		break;
	case TAG_RECV:
		c->receiving = false;
		if(!ok || c->recv_buf == NULL){
			c->broken = true;
			break;
		}
		on_answer(c);
		if(!c->broken){
			memset(&op, 0, sizeof(op));
			op.op = GRPC_OP_RECV_MESSAGE;
			op.data.recv_message.recv_message = &c->recv_buf;
			if(start_batch(c, &op, 1, TAG_RECV)) c->receiving = true;
		}
		break;
	case TAG_STATUS:
		c->broken = true; /* the call is over, whatever the status */
		break;
	}
}

/* Cancels the call, waits for its operations, drops what was in flight. */
static void close_stream(struct ext_client *c)
{
	if(c->call == NULL) return;
	grpc_call_cancel(c->call, NULL);
	while(c->pending_ops > 0){
		grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if(ev.type != GRPC_OP_COMPLETE) break;
		c->pending_ops--;
		if(ev.tag == &c->tags[TAG_SEND] && c->send_buf != NULL){
			grpc_byte_buffer_destroy(c->send_buf);
			c->send_buf = NULL;
		}
		if(ev.tag == &c->tags[TAG_RECV] && c->recv_buf != NULL){
			grpc_byte_buffer_destroy(c->recv_buf);
			c->recv_buf = NULL;
		}
	}
	grpc_call_unref(c->call);
	c->call = NULL;
	grpc_metadata_array_destroy(&c->initial_md);
	grpc_metadata_array_destroy(&c->trailing_md);
	grpc_slice_unref(c->status_details);
	c->status_details = grpc_empty_slice();
	while(c->in_flight_count > 0){
		free(c->in_flight[c->in_flight_head]);
		c->in_flight_head = (c->in_flight_head + 1) % IN_FLIGHT_MAX;
		c->in_flight_count--;
		atomic_fetch_add(&c->hub->lost_in_flight, 1);
	}
	atomic_store(&c->connected, false);
}

static grpc_channel *make_channel(struct ext_client *c)
{
	grpc_channel_credentials *creds;
	grpc_channel *ch;
	grpc_arg args[2];
	grpc_channel_args channel_args;

	if(c->tls_ca != NULL){
		char *ca = read_text_file(c->tls_ca), *cert = NULL, *key = NULL;
		grpc_ssl_pem_key_cert_pair pair;
		if(c->tls_cert != NULL){
			cert = read_text_file(c->tls_cert);
			key = read_text_file(c->tls_key);
		}
		pair.cert_chain = cert;
		pair.private_key = key;
		creds = ca != NULL ? grpc_ssl_credentials_create(ca, cert != NULL && key != NULL ? &pair : NULL, NULL, NULL) : NULL;
		free(ca);
		free(cert);
		free(key);
		if(creds == NULL) return NULL;
	}else{
		creds = grpc_insecure_credentials_create();
	}
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
	args[0].value.integer = BACKOFF_MIN_MS;
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
	args[1].value.integer = BACKOFF_MAX_MS;
	channel_args.num_args = 2;
	channel_args.args = args;
	ch = grpc_channel_create(c->target, creds, &channel_args);
	grpc_channel_credentials_release(creds);
	return ch;
}

static void *client_main(void *arg)
{
	struct ext_client *c = arg;
	int64_t backoff_ms = BACKOFF_MIN_MS, retry_at_ns = 0;

	c->cq = grpc_completion_queue_create_for_next(NULL);
	c->status_details = grpc_empty_slice();
	while(!atomic_load(&c->stop)){
		int64_t now = ea_mono_ns();
		grpc_event ev;

		if(c->channel == NULL && now >= retry_at_ns){
			/* TLS files unreadable: say so, and try again (they may be fixed) */
			c->channel = make_channel(c);
			if(c->channel == NULL){
				fprintf(stderr, "edge-anomaly: external %s: cannot read the TLS files (%s%s%s); retrying in 5 s\n",
						c->target, c->tls_ca, c->tls_cert ? ", " : "", c->tls_cert ? c->tls_cert : "");
				retry_at_ns = now + INT64_C(5000000000);
			}
		}

		if(c->call == NULL && c->channel != NULL && now >= retry_at_ns) open_stream(c);
		if(c->call != NULL) send_next(c);
		ev = grpc_completion_queue_next(c->cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
				gpr_time_from_millis(c->call != NULL && !c->sending ? 10 : 50, GPR_TIMESPAN)), NULL);
		if(ev.type == GRPC_OP_COMPLETE){
			int tag = (int)((int *)ev.tag - c->tags);
			dispatch(c, tag, ev.success != 0);
			if(c->ready) backoff_ms = BACKOFF_MIN_MS;
		}
		/* an answer that takes too long counts as a broken stream */
		if(c->call != NULL && c->in_flight_count > 0
				&& ea_mono_ns() - c->in_flight[c->in_flight_head]->sent_ns > c->timeout_ms * INT64_C(1000000))
			c->broken = true;
		if(c->call != NULL && c->broken){
			close_stream(c);
			retry_at_ns = ea_mono_ns() + backoff_ms * INT64_C(1000000);
			backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
		}
	}
	close_stream(c);
	if(c->channel != NULL) grpc_channel_destroy(c->channel);
	grpc_completion_queue_shutdown(c->cq);
	while(grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type != GRPC_QUEUE_SHUTDOWN){
	}
	grpc_completion_queue_destroy(c->cq);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The hub                                                             */

ea_ext_hub *ea_ext_hub_new(ea_ext_result_fn sink, void *sink_ctx)
{
	ea_ext_hub *hub = calloc(1, sizeof(*hub));

	if(hub == NULL) return NULL;
	hub->sink = sink;
	hub->sink_ctx = sink_ctx;
	pthread_mutex_init(&hub->lock, NULL);
	return hub;
}

static void client_free(struct ext_client *c)
{
	size_t i;

	for(i = 0; i < c->ring_count; i++) free(c->ring[(c->ring_head + i) % c->ring_cap]);
	free(c->ring);
	free(c->raised);
	free(c->key);
	free(c->target);
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->token);
	if(c->token != NULL || c->auth.value.refcount != NULL) grpc_slice_unref(c->auth.value);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void ea_ext_hub_free(ea_ext_hub *hub)
{
	struct ext_client *c, *next;
	bool any;

	if(hub == NULL) return;
	any = hub->clients != NULL;
	for(c = hub->clients; c != NULL; c = c->next) atomic_store(&c->stop, true);
	for(c = hub->clients; c != NULL; c = next){
		next = c->next;
		pthread_join(c->thread, NULL);
		client_free(c);
	}
	if(any) grpc_shutdown();
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

static struct ext_client *client_for(ea_ext_hub *hub, const ea_external *x)
{
	char key[2048];
	struct ext_client *c;

	snprintf(key, sizeof(key), "%s|%s|%s|%s|%s", x->target, x->tls_ca ? x->tls_ca : "", x->tls_cert ? x->tls_cert : "",
			x->tls_key ? x->tls_key : "", x->token ? x->token : "");
	pthread_mutex_lock(&hub->lock);
	for(c = hub->clients; c != NULL; c = c->next){
		if(strcmp(c->key, key) == 0) break;
	}
	if(c == NULL && (c = calloc(1, sizeof(*c))) != NULL){
		c->hub = hub;
		c->key = strdup(key);
		c->target = strdup(x->target);
		c->tls_ca = dup_or_null(x->tls_ca);
		c->tls_cert = dup_or_null(x->tls_cert);
		c->tls_key = dup_or_null(x->tls_key);
		c->token = dup_or_null(x->token);
		c->timeout_ms = x->timeout_ms;
		c->ring_cap = x->buffer > 0 ? (size_t)x->buffer : 1;
		c->ring = calloc(c->ring_cap, sizeof(*c->ring));
		c->raised = calloc(RAISED_SLOTS, sizeof(*c->raised));
		pthread_mutex_init(&c->lock, NULL);
		if(c->token != NULL){
			char bearer[600];
			snprintf(bearer, sizeof(bearer), "Bearer %s", c->token);
			c->auth.key = grpc_slice_from_static_string("authorization");
			c->auth.value = grpc_slice_from_copied_string(bearer);
		}
		if(c->key == NULL || c->target == NULL || c->ring == NULL || c->raised == NULL){
			client_free(c);
			c = NULL;
		}else{
			if(hub->clients == NULL) grpc_init(); /* once, for the hub's clients */
			if(pthread_create(&c->thread, NULL, client_main, c) != 0){
				if(hub->clients == NULL) grpc_shutdown();
				client_free(c);
				c = NULL;
			}else{
				c->next = hub->clients;
				hub->clients = c;
				atomic_fetch_add(&hub->client_count, 1);
			}
		}
	}
	pthread_mutex_unlock(&hub->lock);
	return c;
}

void ea_ext_hub_submit(ea_ext_hub *hub, const ea_external *x, const ea_sample *s)
{
	struct ext_client *c = client_for(hub, x);
	size_t ln = strlen(s->ns) + 1, ld = strlen(s->device) + 1, lp = strlen(s->property) + 1;
	size_t lv = strlen(s->text != NULL ? s->text : "") + 1;
	struct ext_sample *e;

	if(c == NULL || lv > VALUE_MAX){
		atomic_fetch_add(&hub->dropped_full, 1);
		return;
	}
	e = malloc(sizeof(*e) + ln + ld + lp + lv);
	if(e == NULL){
		atomic_fetch_add(&hub->dropped_full, 1);
		return;
	}
	e->ns = e->data;
	e->device = e->ns + ln;
	e->property = e->device + ld;
	e->value = e->property + lp;
	memcpy(e->ns, s->ns, ln);
	memcpy(e->device, s->device, ld);
	memcpy(e->property, s->property, lp);
	memcpy(e->value, s->text != NULL ? s->text : "", lv);
	e->time_ms = s->time_ms;
	e->sent_ns = 0;
	pthread_mutex_lock(&c->lock);
	if(c->ring_count == c->ring_cap){
		pthread_mutex_unlock(&c->lock);
		atomic_fetch_add(&hub->dropped_full, 1);
		free(e);
		return;
	}
	c->ring[(c->ring_head + c->ring_count) % c->ring_cap] = e;
	c->ring_count++;
	pthread_mutex_unlock(&c->lock);
}

void ea_ext_hub_stats(ea_ext_hub *hub, ea_ext_stats *out)
{
	struct ext_client *c;

	memset(out, 0, sizeof(*out));
	if(hub == NULL) return;
	out->clients = atomic_load(&hub->client_count);
	out->sent = atomic_load(&hub->sent);
	out->answered = atomic_load(&hub->answered);
	out->anomalies = atomic_load(&hub->anomalies);
	out->dropped_full = atomic_load(&hub->dropped_full);
	out->lost_in_flight = atomic_load(&hub->lost_in_flight);
	out->reconnects = atomic_load(&hub->reconnects);
	out->errors = atomic_load(&hub->errors);
	pthread_mutex_lock(&hub->lock);
	for(c = hub->clients; c != NULL; c = c->next) if(atomic_load(&c->connected)) out->connected++;
	pthread_mutex_unlock(&hub->lock);
}
