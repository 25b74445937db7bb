/* SPDX-License-Identifier: Apache-2.0
 *
 * detectord.c - edge-anomaly-detectord: the StreamDetect server of the
 * KubeEdge design (proto/anomaly_detector.proto), running the same
 * detector library as the broker plugin.
 *
 *   edge-anomaly-detectord --listen HOST:PORT [--config FILE]
 *       [--tls-cert F --tls-key F [--tls-client-ca F]] [--token-file F]
 *       [--authz FILE] [--stats-interval SECONDS]
 *
 * Mappers (or anything else) open AnomalyDetectionService.StreamDetect
 * and stream DevicePropertyData; every message gets one AnomalyResponse,
 * in order: status "ok" with the score, or "anomaly" with the detector,
 * kind, score and reason of the highest-scoring alert, or "error" for a
 * message that is not a DevicePropertyData. Series state (per namespace,
 * device, property) is shared by all streams, so a reconnecting mapper
 * continues where it was.
 *
 * Built on the gRPC C core with one completion queue served by one thread
 * (the engine belongs to one thread): each stream has at most one read and
 * one write outstanding, and the next message is read only after the
 * response to the previous one is sent, so HTTP/2 flow control holds a fast
 * client back and memory per stream stays at one message (max 64 KiB).
 * Also served: grpc.health.v1.Health/Check (SERVING). With --token-file,
 * calls must carry "authorization: Bearer <token>". SIGTERM or SIGINT:
 * stop accepting, let open streams finish for up to 5 s, then cancel them.
 *
 * With --authz FILE (detectors/ea_authz.h) each StreamDetect caller must be
 * one of the file's clients, known by its verified certificate (CN or
 * subject) and/or its bearer token, and may send data only for that
 * client's namespaces: a message for another namespace is answered
 * "error", never reaches a detector, and is audited on stderr (the first
 * per stream and namespace, and a count when the stream ends). Lines
 * starting "edge-anomaly-detectord: audit:" are the audit trail: who opened
 * a stream from where, who was refused and why. Secrets are never printed.
 *
 * Ownership: each stream's struct stream is freed when its last batch
 * completes; the engine and config live for the process.
 */
#include "anomaly_detector.pb-c.h"

#include "ea_authz.h"
#include "ea_config.h"
#include "ea_engine.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE (64 * 1024)
#define AUDIT_LINES_PER_STREAM 10 /* refusal lines; beyond, refusals are only counted */
#define AUDIT_REFUSED_CALLS_PER_SECOND 5 /* lines for refused calls; beyond, counted */
#define STREAM_METHOD "/kubeedge.anomalydetector.v1.AnomalyDetectionService/StreamDetect"
#define HEALTH_METHOD "/grpc.health.v1.Health/Check"

static volatile sig_atomic_t stop_requested;

struct server_stats {
	uint64_t streams_opened, streams_open, messages, anomalies, bad_messages, refused, refused_messages;
};

struct daemon {
	grpc_server *server;
	grpc_completion_queue *cq;
	void *stream_method, *health_method;
	ea_engine *engine;
	ea_config *cfg;
	char *token; /* owned; NULL: no token required */
	ea_authz *authz; /* owned; NULL: every caller may send any namespace */
	const char *authz_path;
	struct server_stats stats;
	bool shutting_down;
	int64_t audit_second;         /* refused-call lines: the current second, */
	unsigned audit_in_second;     /* lines written in it, */
	uint64_t audit_suppressed;    /* and refused calls not written since the last line */
};

enum op { OP_NEW_CALL, OP_READ, OP_WRITE, OP_STATUS, OP_CLOSED, OP_SHUTDOWN };

struct stream;

/* A tag names the stream and the operation that completed. */
struct tag {
	struct stream *s;
	enum op op;
};

struct stream {
	struct daemon *d;
	bool health;               /* a health check, not a StreamDetect */
	grpc_call *call;
	gpr_timespec deadline;
	grpc_metadata_array request_md;
	grpc_byte_buffer *recv;    /* the message being read */
	grpc_byte_buffer *send;    /* the response being written */
	int cancelled;             /* from RECV_CLOSE_ON_SERVER */
	int pending;               /* batches outstanding */
	bool finishing;            /* status sent or being sent */
	uint64_t sequence;
	uint64_t id;               /* stream number, for audit lines */
	char *peer;                /* owned (gpr_malloc'd by gRPC); NULL until the call starts */
	const ea_authz_client *client; /* owned by d->authz; NULL without --authz */
	uint64_t refused_messages; /* for namespaces the client may not send */
	char last_refused_ns[EA_NAME_MAX + 1]; /* audited already */
	unsigned audit_lines;      /* refusal lines written for this stream */
	struct tag t_new, t_read, t_write, t_status, t_closed;
};

/* ------------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if(f == NULL) return NULL;
	if(fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 1 << 20 || fseek(f, 0, SEEK_SET) != 0){
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if(buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n){
		free(buf);
		buf = NULL;
	}
	if(buf != NULL) buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct stream *stream_new(struct daemon *d, bool health)
{
	struct stream *s = calloc(1, sizeof(*s));

	if(s == NULL) return NULL;
	s->d = d;
	s->health = health;
	grpc_metadata_array_init(&s->request_md);
	s->t_new = (struct tag){ s, OP_NEW_CALL };
	s->t_read = (struct tag){ s, OP_READ };
	s->t_write = (struct tag){ s, OP_WRITE };
	s->t_status = (struct tag){ s, OP_STATUS };
	s->t_closed = (struct tag){ s, OP_CLOSED };
	return s;
}

static const char *peer_of(const struct stream *s)
{
	return s->peer != NULL ? s->peer : "unknown peer";
}

static void stream_free(struct stream *s)
{
	if(s->refused_messages > 0){
		fprintf(stderr, "edge-anomaly-detectord: audit: stream %llu (client '%s', %s) ended with %llu messages "
				"refused for namespaces it may not send\n", (unsigned long long)s->id,
				s->client != NULL ? ea_authz_client_name(s->client) : "?", peer_of(s),
				(unsigned long long)s->refused_messages);
	}
	if(s->peer != NULL) gpr_free(s->peer);
	if(s->recv != NULL) grpc_byte_buffer_destroy(s->recv);
	if(s->send != NULL) grpc_byte_buffer_destroy(s->send);
	grpc_metadata_array_destroy(&s->request_md);
	if(s->call != NULL){
		grpc_call_unref(s->call);
		if(!s->health) s->d->stats.streams_open--;
	}
	free(s);
}

/* Asks the server for the next call of this kind. */
static void request_call(struct daemon *d, bool health)
{
	struct stream *s;

	if(d->shutting_down) return;
	s = stream_new(d, health);
	if(s == NULL){
		fprintf(stderr, "edge-anomaly-detectord: out of memory\n");
		return;
	}
	if(grpc_server_request_registered_call(d->server, health ? d->health_method : d->stream_method, &s->call,
			&s->deadline, &s->request_md, NULL, d->cq, d->cq, &s->t_new) != GRPC_CALL_OK){
		stream_free(s);
	}
}

static bool start(struct stream *s, grpc_op *ops, size_t n, struct tag *t)
{
	if(grpc_call_start_batch(s->call, ops, n, t, NULL) != GRPC_CALL_OK) return false;
	s->pending++;
	return true;
}

static void send_status(struct stream *s, grpc_status_code code, const char *details)
{
	grpc_op op;
	grpc_slice text = grpc_slice_from_copied_string(details);

	if(s->finishing) return;
	s->finishing = true;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	op.data.send_status_from_server.status = code;
	op.data.send_status_from_server.status_details = &text;
	start(s, &op, 1, &s->t_status);
	grpc_slice_unref(text);
}

static void read_next(struct stream *s)
{
	grpc_op op;

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &s->recv;
	if(!start(s, &op, 1, &s->t_read)) send_status(s, GRPC_STATUS_INTERNAL, "cannot read");
}

/* Copies text for a log line with control bytes replaced by '?', so that
 * a caller's names cannot forge or break audit lines; cut at out_len. */
static const char *loggable(const char *text, char *out, size_t out_len)
{
	size_t i;

	for(i = 0; text[i] != '\0' && i + 1 < out_len; i++){
		unsigned char c = (unsigned char)text[i];
		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[i] = '\0';
	return out;
}

/* The bearer token the caller presented (not NUL-terminated), or NULL. */
static const char *presented_token(const struct stream *s, size_t *len)
{
	size_t i;

	for(i = 0; i < s->request_md.count; i++){
		const grpc_metadata *m = &s->request_md.metadata[i];
		if(grpc_slice_str_cmp(m->key, "authorization") == 0 && GRPC_SLICE_LENGTH(m->value) > 7
				&& memcmp(GRPC_SLICE_START_PTR(m->value), "Bearer ", 7) == 0){
			*len = GRPC_SLICE_LENGTH(m->value) - 7;
			return (const char *)GRPC_SLICE_START_PTR(m->value) + 7;
		}
	}
	*len = 0;
	return NULL;
}

/* The first value of an auth context property of the call (from its
 * verified client certificate), copied into out; false if there is none. */
static bool peer_property(grpc_auth_context *ctx, const char *name, char *out, size_t out_len)
{
	grpc_auth_property_iterator it;
	const grpc_auth_property *p;

	if(ctx == NULL) return false;
	it = grpc_auth_context_find_properties_by_name(ctx, name);
	p = grpc_auth_property_iterator_next(&it);
	if(p == NULL || p->value == NULL || p->value_length == 0 || p->value_length >= out_len) return false;
	memcpy(out, p->value, p->value_length);
	out[p->value_length] = '\0';
	return strlen(out) == p->value_length; /* no NUL inside */
}

/* Whether a refused call may have its audit line now (a few per second:
 * callers that are refused cannot flood the log); the ones left out are
 * counted and the count is given on the next line. */
static bool audit_refused_call(struct daemon *d, char *note, size_t note_len)
{
	int64_t second = ea_now_ms() / 1000;

	note[0] = '\0';
	if(second != d->audit_second){
		d->audit_second = second;
		d->audit_in_second = 0;
	}
	if(d->audit_in_second >= AUDIT_REFUSED_CALLS_PER_SECOND){
		d->audit_suppressed++;
		return false;
	}
	d->audit_in_second++;
	if(d->audit_suppressed > 0){
		snprintf(note, note_len, " (and %llu refused calls not logged before this one)",
				(unsigned long long)d->audit_suppressed);
		d->audit_suppressed = 0;
	}
	return true;
}

/* Finds which client of the access file this caller is; NULL (with an
 * audit line) if none. */
static const ea_authz_client *identify(struct stream *s)
{
	grpc_auth_context *ctx = grpc_call_auth_context(s->call);
	char cn[300], subject[1024];
	bool has_cn = peer_property(ctx, GRPC_X509_CN_PROPERTY_NAME, cn, sizeof(cn));
	bool has_subject = peer_property(ctx, GRPC_X509_SUBJECT_PROPERTY_NAME, subject, sizeof(subject));
	size_t token_len;
	const char *token = presented_token(s, &token_len);
	const ea_authz_client *c;
	char note[96];

	if(ctx != NULL) grpc_auth_context_release(ctx);
	c = ea_authz_identify(s->d->authz, token, token_len, has_cn ? cn : NULL, has_subject ? subject : NULL);
	if(has_subject) loggable(subject, subject, sizeof(subject)); /* matched above; now only for the log */
	if(c == NULL){
		if(audit_refused_call(s->d, note, sizeof(note)))
			fprintf(stderr, "edge-anomaly-detectord: audit: stream %llu from %s refused: matches no client of %s "
					"(certificate %s%s%s, bearer token %s)%s\n", (unsigned long long)s->id, peer_of(s),
					s->d->authz_path, has_subject ? "'" : "", has_subject ? subject : "none", has_subject ? "'" : "",
					token != NULL ? "presented" : "none", note);
	}else{
		fprintf(stderr, "edge-anomaly-detectord: audit: stream %llu from %s is client '%s'%s%s%s\n",
				(unsigned long long)s->id, peer_of(s), ea_authz_client_name(c),
				has_subject ? " (certificate '" : "", has_subject ? subject : "", has_subject ? "')" : "");
	}
	return c;
}

static bool token_ok(const struct stream *s)
{
	size_t i, n;
	char want[600];

	if(s->d->token == NULL) return true;
	snprintf(want, sizeof(want), "Bearer %s", s->d->token);
	n = strlen(want);
	for(i = 0; i < s->request_md.count; i++){
		const grpc_metadata *m = &s->request_md.metadata[i];
		if(grpc_slice_str_cmp(m->key, "authorization") == 0 && GRPC_SLICE_LENGTH(m->value) == n
				&& memcmp(GRPC_SLICE_START_PTR(m->value), want, n) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Detection                                                           */

struct best_verdict {
	double score, anomaly_score, confidence;
	bool anomaly;
	const ea_detector_type *detector;
	char reason[EA_REASON_MAX];
	char refusal[2 * EA_NAME_MAX + 64]; /* why a message was refused */
};

static void collect(void *ctx, const ea_sample *sample, const ea_detector_type *type, const ea_verdict *v)
{
	struct best_verdict *b = ctx;

	(void)sample;
	if(v->state == EA_VERDICT_SKIP) return;
	if(v->score > b->score) b->score = v->score;
	if(v->state == EA_VERDICT_ANOMALY && (!b->anomaly || v->score > b->anomaly_score)){
		b->anomaly = true;
		b->anomaly_score = v->score;
		b->confidence = v->confidence;
		b->detector = type;
		snprintf(b->reason, sizeof(b->reason), "%s", v->reason);
	}
}

/* Runs one message through the engine and fills the response. Strings in
 * `r` point into `b`, `now_text` or `in` (all outlive the packing). */
static void detect(struct stream *stream, const Kubeedge__Anomalydetector__V1__DevicePropertyData *in,
		struct best_verdict *b, Kubeedge__Anomalydetector__V1__AnomalyResponse *r, const char *now_text)
{
	struct daemon *d = stream->d;
	ea_sample s;
	int64_t now = ea_now_ms(), t;

	memset(b, 0, sizeof(*b));
	r->timestamp = (char *)now_text;
	r->device_name = in->device_name;
	r->namespace_ = in->namespace_;
	r->property_name = in->property_name;
	if(in->device_name[0] == '\0' || in->property_name[0] == '\0'
			|| strlen(in->device_name) > EA_NAME_MAX || strlen(in->property_name) > EA_NAME_MAX
			|| strlen(in->namespace_) > EA_NAME_MAX){
		r->status = "error";
		r->message = "device_name and property_name are required (at most 256 bytes each)";
		d->stats.bad_messages++;
		return;
	}
	memset(&s, 0, sizeof(s));
	s.ns = in->namespace_[0] != '\0' ? in->namespace_ : "default";
	if(stream->client != NULL && !ea_authz_allows(stream->client, s.ns)){
		r->status = "error";
		snprintf(b->refusal, sizeof(b->refusal), "namespace '%s' is not allowed for client '%s'", s.ns,
				ea_authz_client_name(stream->client));
		r->message = b->refusal;
		d->stats.refused_messages++;
		stream->refused_messages++;
		if(strcmp(stream->last_refused_ns, s.ns) != 0 && stream->audit_lines < AUDIT_LINES_PER_STREAM){
			char ns_text[EA_NAME_MAX + 1], device_text[EA_NAME_MAX + 1], property_text[EA_NAME_MAX + 1];
			stream->audit_lines++;
			fprintf(stderr, "edge-anomaly-detectord: audit: stream %llu (client '%s', %s) sent data for namespace "
					"'%s', which it may not send; refused (device '%s', property '%s')%s\n",
					(unsigned long long)stream->id, ea_authz_client_name(stream->client), peer_of(stream),
					loggable(s.ns, ns_text, sizeof(ns_text)), loggable(in->device_name, device_text, sizeof(device_text)),
					loggable(in->property_name, property_text, sizeof(property_text)),
					stream->audit_lines == AUDIT_LINES_PER_STREAM ? "; further refusals on this stream are only counted"
					: "");
			snprintf(stream->last_refused_ns, sizeof(stream->last_refused_ns), "%s", s.ns);
		}
		return;
	}
	s.device = in->device_name;
	s.property = in->property_name;
	s.event_id = "";
	ea_sample_classify(&s, in->property_value, ea_value_type_parse(in->value_type));
	s.arrival_ms = now;
	s.time_ms = now;
	if(in->timestamp[0] != '\0'){
		if(!ea_parse_timestamp(in->timestamp, &t)){
			r->status = "error";
			r->message = "timestamp is not RFC 3339 (or epoch seconds/milliseconds)";
			d->stats.bad_messages++;
			return;
		}
		s.time_ms = t;
		s.has_time = true;
	}
	s.source = EA_SOURCE_REPLAY;
	ea_engine_sample(d->engine, &s);
	r->score = b->score;
	if(b->anomaly){
		r->status = "anomaly";
		r->message = b->reason;
		r->score = b->anomaly_score;
		r->confidence = b->confidence;
		r->detector = (char *)b->detector->name;
		r->kind = (char *)b->detector->kind;
		d->stats.anomalies++;
	}else{
		r->status = "ok";
		r->confidence = 1.0;
	}
}

static void handle_message(struct stream *s)
{
	struct daemon *d = s->d;
	grpc_byte_buffer_reader reader;
	grpc_slice all;
	Kubeedge__Anomalydetector__V1__DevicePropertyData *in = NULL;
	Kubeedge__Anomalydetector__V1__AnomalyResponse r = KUBEEDGE__ANOMALYDETECTOR__V1__ANOMALY_RESPONSE__INIT;
	struct best_verdict b;
	char now_text[40];
	uint8_t *out;
	size_t len;
	grpc_slice out_slice;
	grpc_op op;

	s->sequence++;
	d->stats.messages++;
	if(grpc_byte_buffer_reader_init(&reader, s->recv)){
		all = grpc_byte_buffer_reader_readall(&reader);
		grpc_byte_buffer_reader_destroy(&reader);
		in = kubeedge__anomalydetector__v1__device_property_data__unpack(NULL, GRPC_SLICE_LENGTH(all),
				GRPC_SLICE_START_PTR(all));
		grpc_slice_unref(all);
	}
	grpc_byte_buffer_destroy(s->recv);
	s->recv = NULL;
	ea_format_time(ea_now_ms(), now_text, sizeof(now_text));
	r.sequence = s->sequence;
	if(in == NULL){
		r.status = "error";
		r.message = "not a DevicePropertyData message";
		r.timestamp = now_text;
		d->stats.bad_messages++;
	}else{
		ea_engine_set_verdict_fn(d->engine, collect, &b);
		detect(s, in, &b, &r, now_text);
	}
	len = kubeedge__anomalydetector__v1__anomaly_response__get_packed_size(&r);
	out = malloc(len + 1);
	if(out != NULL) kubeedge__anomalydetector__v1__anomaly_response__pack(&r, out);
	if(in != NULL) kubeedge__anomalydetector__v1__device_property_data__free_unpacked(in, NULL);
	if(out == NULL){
		send_status(s, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	out_slice = grpc_slice_from_copied_buffer((const char *)out, len);
	free(out);
	s->send = grpc_raw_byte_buffer_create(&out_slice, 1);
	grpc_slice_unref(out_slice);
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_SEND_MESSAGE;
	op.data.send_message.send_message = s->send;
	if(!start(s, &op, 1, &s->t_write)) send_status(s, GRPC_STATUS_INTERNAL, "cannot write");
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

static void on_new_call(struct stream *s, bool ok)
{
	struct daemon *d = s->d;
	grpc_op ops[4];
	grpc_slice health_reply;
	static const uint8_t serving[] = { 0x08, 0x01 }; /* HealthCheckResponse{status: SERVING} */

	request_call(d, s->health); /* keep one request outstanding */
	if(!ok){
		stream_free(s); /* the server is shutting down */
		return;
	}
	if(!s->health){
		d->stats.streams_opened++;
		d->stats.streams_open++;
		s->id = d->stats.streams_opened;
	}
	s->peer = grpc_call_get_peer(s->call);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	ops[0].data.recv_close_on_server.cancelled = &s->cancelled;
	start(s, ops, 1, &s->t_closed);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	if(!token_ok(s)){
		char note[96];
		d->stats.refused++;
		if(audit_refused_call(d, note, sizeof(note)))
			fprintf(stderr, "edge-anomaly-detectord: audit: call from %s refused: missing or wrong bearer token%s\n",
					peer_of(s), note);
		start(s, ops, 1, &s->t_write);
		send_status(s, GRPC_STATUS_UNAUTHENTICATED, "missing or wrong bearer token");
		return;
	}
	if(!s->health && d->authz != NULL && (s->client = identify(s)) == NULL){
		d->stats.refused++;
		start(s, ops, 1, &s->t_write);
		send_status(s, GRPC_STATUS_PERMISSION_DENIED, "this caller is no client of the detector's access file");
		return;
	}
	if(s->health){
		health_reply = grpc_slice_from_static_buffer(serving, sizeof(serving));
		s->send = grpc_raw_byte_buffer_create(&health_reply, 1);
		ops[1].op = GRPC_OP_SEND_MESSAGE;
		ops[1].data.send_message.send_message = s->send;
		start(s, ops, 2, &s->t_write);
		send_status(s, GRPC_STATUS_OK, "");
		return;
	}
	/* initial metadata and the first read in one batch */
	ops[1].op = GRPC_OP_RECV_MESSAGE;
	ops[1].data.recv_message.recv_message = &s->recv;
	if(!start(s, ops, 2, &s->t_read)) send_status(s, GRPC_STATUS_INTERNAL, "cannot start");
}

static void on_read(struct stream *s, bool ok)
{
	if(!ok || s->recv == NULL){
		/* the client closed its side (or the call is gone): finish */
		send_status(s, GRPC_STATUS_OK, "");
		return;
	}
	handle_message(s);
}

static void on_write(struct stream *s, bool ok)
{
	if(s->send != NULL){
		grpc_byte_buffer_destroy(s->send);
		s->send = NULL;
	}
	if(s->health || s->finishing) return;
	if(!ok){
		send_status(s, GRPC_STATUS_CANCELLED, "");
		return;
	}
	read_next(s); /* only now: flow control */
}

static void dispatch(struct tag *t, bool ok)
{
	struct stream *s = t->s;
	enum op op = t->op; /* t lives inside s, which the handlers may free */

	if(op == OP_NEW_CALL){
		on_new_call(s, ok);
		return;
	}
	s->pending--;
	switch(op){
	case OP_READ: on_read(s, ok); break;
	case OP_WRITE: on_write(s, ok); break;
	case OP_CLOSED:
		if(s->cancelled && !s->finishing) s->finishing = true; /* nothing more will be read */
		break;
	case OP_STATUS:
	case OP_NEW_CALL:
	case OP_SHUTDOWN:
		break;
	}
	if(s->pending == 0 && s->finishing) stream_free(s);
}

static void print_stats(const struct daemon *d, const char *when)
{
	fprintf(stderr, "edge-anomaly-detectord: %s: streams %llu opened, %llu open; messages %llu, anomalies %llu, "
			"bad %llu; calls refused %llu; messages refused %llu\n", when, (unsigned long long)d->stats.streams_opened,
			(unsigned long long)d->stats.streams_open, (unsigned long long)d->stats.messages,
			(unsigned long long)d->stats.anomalies, (unsigned long long)d->stats.bad_messages,
			(unsigned long long)d->stats.refused, (unsigned long long)d->stats.refused_messages);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: edge-anomaly-detectord --listen HOST:PORT [--config FILE]\n"
		"           [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--token-file FILE]\n"
		"           [--authz FILE] [--stats-interval SECONDS]\n\n"
		"Serves kubeedge.anomalydetector.v1.AnomalyDetectionService/StreamDetect with the\n"
		"edge-anomaly detectors (the config's routes, else its default chain) and\n"
		"grpc.health.v1.Health/Check. --tls-client-ca requires client certificates (mutual TLS);\n"
		"--token-file requires 'authorization: Bearer <token>' on every call.\n"
		"--authz FILE lists the clients (certificate CN/subject or bearer token) and the\n"
		"namespaces each may send; other namespaces are refused and audited.\n");
}

int main(int argc, char **argv)
{
	const char *listen_addr = NULL, *config = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *token_file = NULL,
			*authz_file = NULL;
	double stats_interval = 0;
	struct daemon d;
	grpc_server_credentials *creds;
	grpc_arg args[2];
	grpc_channel_args channel_args;
	ea_config_error err;
	struct tag shutdown_tag = { NULL, OP_SHUTDOWN };
	gpr_timespec next_stats;
	int i, rc = 0;

	memset(&d, 0, sizeof(d));
	for(i = 1; i < argc; i++){
		const char **slot = NULL;
		if(strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0){ usage(stdout); return 0; }
		if(strcmp(argv[i], "--listen") == 0) slot = &listen_addr;
		else if(strcmp(argv[i], "--config") == 0) slot = &config;
		else if(strcmp(argv[i], "--tls-cert") == 0) slot = &cert;
		else if(strcmp(argv[i], "--tls-key") == 0) slot = &key;
		else if(strcmp(argv[i], "--tls-client-ca") == 0) slot = &client_ca;
		else if(strcmp(argv[i], "--token-file") == 0) slot = &token_file;
		else if(strcmp(argv[i], "--authz") == 0) slot = &authz_file;
		else if(strcmp(argv[i], "--stats-interval") == 0 && i + 1 < argc){ stats_interval = atof(argv[++i]); continue; }
		if(slot == NULL || i + 1 >= argc){
			fprintf(stderr, "edge-anomaly-detectord: bad or incomplete option '%s'\n\n", argv[i]);
			usage(stderr);
			return 2;
		}
		*slot = argv[++i];
	}
	if(listen_addr == NULL || (cert == NULL) != (key == NULL) || (client_ca != NULL && cert == NULL)){
		fprintf(stderr, "edge-anomaly-detectord: needs --listen, and --tls-cert with --tls-key (and them for --tls-client-ca)\n\n");
		usage(stderr);
		return 2;
	}
	ea_plugin_detectors_allow(true);
	d.cfg = config != NULL ? ea_config_load_file(config, &err) : ea_config_load_string("", 0, "(defaults)", &err);
	if(d.cfg == NULL){
		fprintf(stderr, "edge-anomaly-detectord: %s\n", err.message);
		return 1;
	}
	if(token_file != NULL){
		char *nl;
		d.token = read_file(token_file);
		if(d.token == NULL){
			fprintf(stderr, "edge-anomaly-detectord: cannot read the token file %s\n", token_file);
			return 1;
		}
		if((nl = strpbrk(d.token, "\r\n")) != NULL) *nl = '\0';
		if(d.token[0] == '\0' || strlen(d.token) > 512){
			fprintf(stderr, "edge-anomaly-detectord: the token in %s is empty or longer than 512 bytes\n", token_file);
			return 1;
		}
	}
	if(authz_file != NULL){
		d.authz = ea_authz_load_file(authz_file, &err);
		if(d.authz == NULL){
			fprintf(stderr, "edge-anomaly-detectord: %s\n", err.message);
			return 1;
		}
		d.authz_path = authz_file;
	}
	d.engine = ea_engine_new(d.cfg, d.cfg->max_series, NULL, NULL);
	if(d.engine == NULL){
		fprintf(stderr, "edge-anomaly-detectord: out of memory\n");
		return 1;
	}

	grpc_init();
	args[0].type = GRPC_ARG_INTEGER;
	args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
	args[0].value.integer = MAX_MESSAGE;
	args[1].type = GRPC_ARG_INTEGER;
	args[1].key = (char *)GRPC_ARG_MAX_CONCURRENT_STREAMS;
	args[1].value.integer = 1000;
	channel_args.num_args = 2;
	channel_args.args = args;
	d.cq = grpc_completion_queue_create_for_next(NULL);
	d.server = grpc_server_create(&channel_args, NULL);
	d.stream_method = grpc_server_register_method(d.server, STREAM_METHOD, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
	d.health_method = grpc_server_register_method(d.server, HEALTH_METHOD, NULL, GRPC_SRM_PAYLOAD_NONE, 0);
	grpc_server_register_completion_queue(d.server, d.cq, NULL);
	if(cert != NULL){
		grpc_ssl_pem_key_cert_pair pair;
		char *cert_pem = read_file(cert), *key_pem = read_file(key), *ca_pem = client_ca ? read_file(client_ca) : NULL;
		if(cert_pem == NULL || key_pem == NULL || (client_ca != NULL && ca_pem == NULL)){
			fprintf(stderr, "edge-anomaly-detectord: cannot read %s\n", cert_pem == NULL ? cert : key_pem == NULL ? key : client_ca);
			return 1;
		}
		pair.cert_chain = cert_pem;
		pair.private_key = key_pem;
		creds = grpc_ssl_server_credentials_create_ex(ca_pem, &pair, 1,
				ca_pem != NULL ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
				: GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
	}else{
		creds = grpc_insecure_server_credentials_create();
	}
	if(creds == NULL || grpc_server_add_http2_port(d.server, listen_addr, creds) == 0){
		fprintf(stderr, "edge-anomaly-detectord: cannot listen on %s\n", listen_addr);
		return 1;
	}
	grpc_server_credentials_release(creds);
	grpc_server_start(d.server);
	request_call(&d, false);
	request_call(&d, true);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "edge-anomaly-detectord: listening on %s (%s%s%s)\n", listen_addr,
			cert != NULL ? "TLS" : "plaintext", client_ca != NULL ? ", client certificates required" : "",
			d.token != NULL ? ", bearer token required" : "");
	if(d.authz != NULL){
		fprintf(stderr, "edge-anomaly-detectord: access by namespace from %s (%zu clients)%s\n", authz_file,
				ea_authz_client_count(d.authz), cert == NULL ? "; without TLS, tokens cross the network in clear" : "");
	}
	next_stats = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis((int64_t)(stats_interval * 1000), GPR_TIMESPAN));

	for(;;){
		grpc_event ev = grpc_completion_queue_next(d.cq,
				gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(200, GPR_TIMESPAN)), NULL);
		if(ev.type == GRPC_QUEUE_SHUTDOWN) break;
		if(ev.type == GRPC_OP_COMPLETE){
			struct tag *t = ev.tag;
			if(t->op == OP_SHUTDOWN){
				grpc_completion_queue_shutdown(d.cq);
				continue;
			}
			dispatch(t, ev.success != 0);
		}
		if(stop_requested && !d.shutting_down){
			d.shutting_down = true;
			fprintf(stderr, "edge-anomaly-detectord: stopping: no new streams, open ones get 5 s\n");
			grpc_server_shutdown_and_notify(d.server, d.cq, &shutdown_tag);
			next_stats = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(5, GPR_TIMESPAN));
		}else if(d.shutting_down && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), next_stats) >= 0){
			grpc_server_cancel_all_calls(d.server);
			next_stats = gpr_inf_future(GPR_CLOCK_MONOTONIC);
		}else if(!d.shutting_down && stats_interval > 0 && gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), next_stats) >= 0){
			print_stats(&d, "counters");
			next_stats = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis((int64_t)(stats_interval * 1000), GPR_TIMESPAN));
		}
	}
	print_stats(&d, "stopped");
	grpc_server_destroy(d.server);
	grpc_completion_queue_destroy(d.cq);
	grpc_shutdown();
	ea_engine_free(d.engine);
	ea_config_free(d.cfg);
	free(d.token);
	ea_authz_free(d.authz);
	return rc;
}
