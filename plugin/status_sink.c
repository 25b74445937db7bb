/* SPDX-License-Identifier: Apache-2.0
 *
 * status_sink.c - the DeviceStatus sender described in status_sink.h,
 * with libcurl.
 *
 * The table: up to max_devices devices, each with its raised alerts (one
 * entry per property and detector), a version bumped on every change, and
 * the properties the MetaServer last accepted (so a cleared one is sent as
 * null, which a merge patch deletes). Lookup is linear in the devices:
 * results are changes of verdict, far rarer than messages, and never on
 * the broker thread. The token file is read again whenever it changes
 * (kubelet rotates projected ServiceAccount tokens), checked with one stat
 * per request.
 *
 * Ownership: the sink owns its devices, entries and strings, the curl
 * handle (sender thread only) and the thread.
 */
#include "status_sink.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_BUF (EA_NAME_MAX + 1)
#define MISSING_RETRY_MS 60000
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define BACKLOG_EVERY_MS 1000

struct alert {
	char property[NAME_BUF];
	char detector[64];
	char kind[64];
	char reason[EA_REASON_MAX];
	char value[NAME_BUF];
	int64_t ts;
	double score, confidence;
};

struct device {
	char ns[NAME_BUF], name[NAME_BUF];
	struct alert *alerts;  /* owned */
	size_t n, cap;
	char **sent;           /* owned: properties the MetaServer has */
	size_t sent_n;
	uint64_t version;      /* bumped on each change */
	uint64_t sent_version; /* version last accepted */
	int64_t next_ms;       /* not before (rate limit, 404 retry) */
	bool missing_logged;
};

struct ea_status_sink {
	char *url, *token, *ca_file, *backlog_path; /* owned */
	char *token_file;     /* owned; re-read when it changes (tokens rotate) */
	struct stat token_stat; /* of the token file when last read */
	int64_t min_interval_ms, timeout_ms;
	size_t max_devices;
	ea_status_log_fn log;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t wake;
	struct device **devices;
	size_t count;
	bool stop;
	bool changed_since_backlog;
	pthread_t thread;

	_Atomic uint64_t patches_sent, failures, missing, dropped, backlog_writes;
};

static int64_t mono_ms(void)
{
	return ea_mono_ns() / 1000000;
}

static void say(const ea_status_sink *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(const ea_status_sink *s, int level, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if(s->log == NULL) return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->log(level, msg);
}

static bool pending(const struct device *d)
{
	return d->version != d->sent_version;
}

static struct device *find_device(ea_status_sink *s, const char *ns, const char *name, bool create)
{
	size_t i;
	struct device *d;

	for(i = 0; i < s->count; i++){
		if(strcmp(s->devices[i]->name, name) == 0 && strcmp(s->devices[i]->ns, ns) == 0) return s->devices[i];
	}
	if(!create || s->count == s->max_devices) return NULL;
	d = calloc(1, sizeof(*d));
	if(d == NULL) return NULL;
	snprintf(d->ns, sizeof(d->ns), "%s", ns);
	snprintf(d->name, sizeof(d->name), "%s", name);
	s->devices[s->count++] = d;
	return d;
}

static void set_alert(struct device *d, const char *property, const char *detector, const char *kind,
		const char *reason, const char *value, int64_t ts, double score, double confidence)
{
	size_t i;
	struct alert *a = NULL;

	for(i = 0; i < d->n; i++){
		if(strcmp(d->alerts[i].property, property) == 0 && strcmp(d->alerts[i].detector, detector) == 0) a = &d->alerts[i];
	}
	if(a == NULL){
		if(d->n == d->cap){
			size_t cap = d->cap ? d->cap * 2 : 4;
			struct alert *grown = realloc(d->alerts, cap * sizeof(*grown));
			if(grown == NULL) return;
			d->alerts = grown;
			d->cap = cap;
		}
		a = &d->alerts[d->n++];
		memset(a, 0, sizeof(*a));
		snprintf(a->property, sizeof(a->property), "%s", property);
		snprintf(a->detector, sizeof(a->detector), "%s", detector);
	}
	snprintf(a->kind, sizeof(a->kind), "%s", kind);
	snprintf(a->reason, sizeof(a->reason), "%s", reason);
	snprintf(a->value, sizeof(a->value), "%s", value);
	a->ts = ts;
	a->score = score;
	a->confidence = confidence;
}

static void clear_alert(struct device *d, const char *property, const char *detector)
{
	size_t i;
	for(i = 0; i < d->n; i++){
		if(strcmp(d->alerts[i].property, property) == 0 && strcmp(d->alerts[i].detector, detector) == 0){
			d->alerts[i] = d->alerts[--d->n];
			return;
		}
	}
}

void ea_status_result(ea_status_sink *s, const ea_result *r)
{
	struct device *d;

	pthread_mutex_lock(&s->lock);
	d = find_device(s, r->ns, r->device, r->anomaly);
	if(d == NULL){
		pthread_mutex_unlock(&s->lock);
		if(r->anomaly) atomic_fetch_add(&s->dropped, 1);
		return;
	}
	if(r->anomaly) set_alert(d, r->property, r->detector, r->kind, r->reason, r->value_text, r->sample_time_ms, r->score,
			r->confidence);
	else clear_alert(d, r->property, r->detector);
	d->version++;
	s->changed_since_backlog = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* The patch                                                           */

/* The merge patch for a device's current state; `props` gets the
 * properties it reports (owned by the caller, free with free_strv). */
static char *build_patch(const struct device *d, char ***props, size_t *prop_n)
{
	cJSON *root = cJSON_CreateObject(), *data, *anomalies, *ext;
	double best = 0, conf = 1;
	char when[40], *text;
	size_t i, k;

	*props = calloc(d->n + 1, sizeof(char *));
	*prop_n = 0;
	ext = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "status"), "extensions"),
			"edge-anomaly");
	cJSON_AddStringToObject(ext, "lastUpdated", ea_format_time(ea_now_ms(), when, sizeof(when)));
	data = cJSON_AddObjectToObject(ext, "data");
	anomalies = cJSON_CreateObject();
	for(i = 0; i < d->n; i++){
		const struct alert *a = &d->alerts[i];
		cJSON *o;
		bool better = true;
		/* one entry per property: the highest score among its detectors */
		for(k = 0; k < d->n; k++){
			if(k != i && strcmp(d->alerts[k].property, a->property) == 0
					&& (d->alerts[k].score > a->score || (d->alerts[k].score == a->score && k < i))) better = false;
		}
		if(!better) continue;
		o = cJSON_AddObjectToObject(anomalies, a->property);
		cJSON_AddStringToObject(o, "kind", a->kind);
		cJSON_AddStringToObject(o, "detector", a->detector);
		cJSON_AddStringToObject(o, "reason", a->reason);
		cJSON_AddStringToObject(o, "value", a->value);
		cJSON_AddStringToObject(o, "timestamp", ea_format_time(a->ts, when, sizeof(when)));
		if(a->score > best){
			best = a->score;
			conf = a->confidence;
		}
		(*props)[(*prop_n)++] = strdup(a->property);
	}
	/* cleared since the last accepted patch: null deletes them */
	for(i = 0; i < d->sent_n; i++){
		if(cJSON_GetObjectItemCaseSensitive(anomalies, d->sent[i]) == NULL) cJSON_AddNullToObject(anomalies, d->sent[i]);
	}
	cJSON_AddNumberToObject(data, "anomalyScore", best);
	cJSON_AddNumberToObject(data, "confidence", d->n > 0 ? conf : 1.0);
	cJSON_AddItemToObject(data, "anomalies", anomalies);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static void free_strv(char **v, size_t n)
{
	size_t i;
	if(v == NULL) return;
	for(i = 0; i < n; i++) free(v[i]);
	free(v);
}

static size_t discard(char *ptr, size_t size, size_t n, void *user)
{
	(void)ptr;
	(void)user;
	return size * n;
}

static void refresh_token(ea_status_sink *s);

/* PATCHes the body; returns the HTTP status, or 0 when there was none. */
static long send_patch(ea_status_sink *s, CURL *curl, const char *ns, const char *name, const char *body)
{
	char url[2048], auth[1100];
	char *ens = curl_easy_escape(curl, ns, 0), *ename = curl_easy_escape(curl, name, 0);
	struct curl_slist *headers = NULL;
	long code = 0;

	snprintf(url, sizeof(url), "%s/apis/devices.kubeedge.io/v1beta1/namespaces/%s/devicestatuses/%s", s->url,
			ens ? ens : "", ename ? ename : "");
	curl_free(ens);
	curl_free(ename);
	headers = curl_slist_append(headers, "Content-Type: application/merge-patch+json");
	headers = curl_slist_append(headers, "Accept: application/json");
	refresh_token(s);
	if(s->token != NULL){
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if(s->ca_file != NULL) curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
	if(curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(headers);
	return code;
}

/* ------------------------------------------------------------------ */
/* Backlog                                                             */

/* Writes the table to the backlog file (temp + rename); under the lock. */
static void write_backlog(ea_status_sink *s)
{
	cJSON *root, *arr;
	char tmp[4200], *text;
	size_t i, k;
	FILE *f;
	bool any = false;

	if(s->backlog_path == NULL) return;
	for(i = 0; i < s->count; i++) any = any || pending(s->devices[i]);
	if(!any){
		unlink(s->backlog_path); /* nothing unsent */
		s->changed_since_backlog = false;
		return;
	}
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "devices");
	for(i = 0; i < s->count; i++){
		const struct device *d = s->devices[i];
		cJSON *o = cJSON_CreateObject(), *alerts = cJSON_AddArrayToObject(o, "alerts"), *sent = cJSON_AddArrayToObject(o, "sent");
		cJSON_AddStringToObject(o, "namespace", d->ns);
		cJSON_AddStringToObject(o, "name", d->name);
		cJSON_AddBoolToObject(o, "pending", pending(d));
		for(k = 0; k < d->n; k++){
			const struct alert *a = &d->alerts[k];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "property", a->property);
			cJSON_AddStringToObject(x, "detector", a->detector);
			cJSON_AddStringToObject(x, "kind", a->kind);
			cJSON_AddStringToObject(x, "reason", a->reason);
			cJSON_AddStringToObject(x, "value", a->value);
			cJSON_AddNumberToObject(x, "timestamp", (double)a->ts);
			cJSON_AddNumberToObject(x, "score", a->score);
			cJSON_AddNumberToObject(x, "confidence", a->confidence);
			cJSON_AddItemToArray(alerts, x);
		}
		for(k = 0; k < d->sent_n; k++) cJSON_AddItemToArray(sent, cJSON_CreateString(d->sent[k]));
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->backlog_path);
	f = fopen(tmp, "w");
	if(f != NULL && text != NULL && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0 && fclose(f) == 0
			&& rename(tmp, s->backlog_path) == 0){
		atomic_fetch_add(&s->backlog_writes, 1);
		s->changed_since_backlog = false;
	}else{
		if(f != NULL) fclose(f);
		unlink(tmp);
		say(s, 1, "edge-anomaly: device status backlog %s: cannot write it", s->backlog_path);
	}
	cJSON_free(text);
}

static void load_backlog(ea_status_sink *s)
{
	FILE *f;
	char *buf;
	long n;
	cJSON *root, *dev;
	size_t loaded = 0;

	if(s->backlog_path == NULL || (f = fopen(s->backlog_path, "rb")) == NULL) return;
	if(fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (64L << 20) || fseek(f, 0, SEEK_SET) != 0){
		fclose(f);
		return;
	}
	buf = malloc((size_t)n + 1);
	if(buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n){
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);
	root = cJSON_ParseWithLength(buf, (size_t)n);
	free(buf);
	cJSON_ArrayForEach(dev, cJSON_GetObjectItemCaseSensitive(root, "devices")){
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(dev, "namespace"), *name = cJSON_GetObjectItemCaseSensitive(dev, "name");
		const cJSON *a, *sent;
		struct device *d;
		if(!cJSON_IsString(ns) || !cJSON_IsString(name)) continue;
		d = find_device(s, ns->valuestring, name->valuestring, true);
		if(d == NULL){
			atomic_fetch_add(&s->dropped, 1);
			continue;
		}
		cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(dev, "alerts")){
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "property"), *det = cJSON_GetObjectItemCaseSensitive(a, "detector");
			const cJSON *k = cJSON_GetObjectItemCaseSensitive(a, "kind"), *r = cJSON_GetObjectItemCaseSensitive(a, "reason");
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");
			if(!cJSON_IsString(p) || !cJSON_IsString(det) || !cJSON_IsString(k) || !cJSON_IsString(r) || !cJSON_IsString(v)) continue;
			set_alert(d, p->valuestring, det->valuestring, k->valuestring, r->valuestring, v->valuestring,
					(int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "timestamp")),
					cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "score")),
					cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "confidence")));
		}
		cJSON_ArrayForEach(sent, cJSON_GetObjectItemCaseSensitive(dev, "sent")){
			char **grown;
			if(!cJSON_IsString(sent)) continue;
			grown = realloc(d->sent, (d->sent_n + 1) * sizeof(*grown));
			if(grown == NULL) break;
			d->sent = grown;
			d->sent[d->sent_n++] = strdup(sent->valuestring);
		}
		d->version = d->sent_version + 1; /* unsent: send it */
		loaded++;
	}
	cJSON_Delete(root);
	if(loaded > 0) say(s, 0, "edge-anomaly: device status: %zu devices from the backlog %s will be sent", loaded, s->backlog_path);
}

/* ------------------------------------------------------------------ */
/* Sender                                                              */

static void *sender_main(void *arg)
{
	ea_status_sink *s = arg;
	CURL *curl = curl_easy_init();
	int64_t retry_at = 0, backoff = BACKOFF_MIN_MS, last_backlog = 0;
	bool link_down = false;

	pthread_mutex_lock(&s->lock);
	while(!s->stop){
		struct device *d = NULL;
		int64_t now = mono_ms();
		size_t i;
		char *body = NULL, **props = NULL, ns[NAME_BUF], name[NAME_BUF];
		size_t prop_n = 0;
		uint64_t version = 0;
		long code;

		if(s->changed_since_backlog && (link_down || now - last_backlog >= BACKLOG_EVERY_MS)){
			write_backlog(s);
			last_backlog = now;
		}
		if(now >= retry_at){
			for(i = 0; i < s->count && d == NULL; i++){
				if(pending(s->devices[i]) && s->devices[i]->next_ms <= now) d = s->devices[i];
			}
		}
		if(d == NULL || curl == NULL){
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000L;
			if(until.tv_nsec >= 1000000000L){
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&s->wake, &s->lock, &until);
			continue;
		}
		body = build_patch(d, &props, &prop_n);
		version = d->version;
		snprintf(ns, sizeof(ns), "%s", d->ns);
		snprintf(name, sizeof(name), "%s", d->name);
		pthread_mutex_unlock(&s->lock);

		code = body != NULL ? send_patch(s, curl, ns, name, body) : 0;
		cJSON_free(body);

		pthread_mutex_lock(&s->lock);
		d = find_device(s, ns, name, false);
		if(d != NULL && code >= 200 && code < 300){
			free_strv(d->sent, d->sent_n);
			d->sent = props;
			d->sent_n = prop_n;
			props = NULL;
			d->sent_version = version;
			d->next_ms = mono_ms() + s->min_interval_ms;
			d->missing_logged = false;
			atomic_fetch_add(&s->patches_sent, 1);
			if(link_down) say(s, 0, "edge-anomaly: device status: the MetaServer answers again");
			link_down = false;
			backoff = BACKOFF_MIN_MS;
			s->changed_since_backlog = true; /* the backlog shrinks */
		}else if(d != NULL && code == 404){
			/* no DeviceStatus for this device (yet): say so once, try again later */
			if(!d->missing_logged)
				say(s, 1, "edge-anomaly: device status: no DeviceStatus %s/%s (KubeEdge v1.23+ creates it; is the CRD "
						"installed?); trying again every minute", ns, name);
			d->missing_logged = true;
			d->next_ms = mono_ms() + MISSING_RETRY_MS;
			atomic_fetch_add(&s->missing, 1);
		}else{
			/* no answer, or an error: the link or the MetaServer is down; back off */
			atomic_fetch_add(&s->failures, 1);
			if(!link_down && (code == 401 || code == 403))
				say(s, 1, "edge-anomaly: device status: PATCH %s/%s refused (HTTP %ld): %s; keeping the state and "
						"retrying (the token file is read again when it changes)", ns, name, code,
						s->token == NULL ? "no token is sent; set device_status.token_file"
						: code == 401 ? "the token was not accepted" : "the token's ServiceAccount may not patch "
						"devicestatuses (see conf/kubeedge/rbac.yaml)");
			else if(!link_down)
				say(s, 1, "edge-anomaly: device status: PATCH %s/%s failed (%s %ld); keeping the state and retrying",
						ns, name, code ? "HTTP" : "no answer", code);
			link_down = true;
			retry_at = mono_ms() + backoff;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			s->changed_since_backlog = true;
		}
		free_strv(props, prop_n);
	}
	write_backlog(s);
	pthread_mutex_unlock(&s->lock);
	if(curl != NULL) curl_easy_cleanup(curl);
	return NULL;
}

/* ------------------------------------------------------------------ */

static char *read_token(const char *path);

/* Reads the token file again if it changed since the last read (kubelet
 * replaces projected ServiceAccount tokens before they expire); keeps the
 * old token if the new file cannot be read. Sender thread only. */
static void refresh_token(ea_status_sink *s)
{
	struct stat st;
	char *fresh;

	if(s->token_file == NULL || stat(s->token_file, &st) != 0) return;
	if(st.st_ino == s->token_stat.st_ino && st.st_dev == s->token_stat.st_dev && st.st_size == s->token_stat.st_size
			&& st.st_mtim.tv_sec == s->token_stat.st_mtim.tv_sec && st.st_mtim.tv_nsec == s->token_stat.st_mtim.tv_nsec)
		return;
	fresh = read_token(s->token_file);
	if(fresh == NULL) return; /* being replaced: try on the next request */
	free(s->token);
	s->token = fresh;
	s->token_stat = st;
	say(s, 0, "edge-anomaly: device status: read the token again from %s (it changed)", s->token_file);
}

static char *read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[1024], *nl;

	if(f == NULL) return NULL;
	if(fgets(buf, sizeof(buf), f) == NULL){
		fclose(f);
		return NULL;
	}
	fclose(f);
	if((nl = strpbrk(buf, "\r\n")) != NULL) *nl = '\0';
	return buf[0] != '\0' ? strdup(buf) : NULL;
}

ea_status_sink *ea_status_open(const ea_status_settings *st, char *err, size_t err_len)
{
	ea_status_sink *s = calloc(1, sizeof(*s));

	if(s == NULL){
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK){
		snprintf(err, err_len, "cannot initialise libcurl");
		free(s);
		return NULL;
	}
	s->url = strdup(st->url);
	s->ca_file = st->ca_file ? strdup(st->ca_file) : NULL;
	s->backlog_path = st->backlog_path ? strdup(st->backlog_path) : NULL;
	s->min_interval_ms = st->min_interval_ms;
	s->timeout_ms = st->timeout_ms > 0 ? st->timeout_ms : 5000;
	s->max_devices = st->max_devices > 0 ? st->max_devices : 10000;
	s->log = st->log;
	s->devices = calloc(s->max_devices, sizeof(*s->devices));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if(st->token_file != NULL){
		if(stat(st->token_file, &s->token_stat) != 0 || (s->token = read_token(st->token_file)) == NULL
				|| (s->token_file = strdup(st->token_file)) == NULL){
			snprintf(err, err_len, "device_status.token_file %s: cannot read a token", st->token_file);
			ea_status_close(s);
			return NULL;
		}
	}
	if(s->url == NULL || s->devices == NULL){
		snprintf(err, err_len, "out of memory");
		ea_status_close(s);
		return NULL;
	}
	load_backlog(s);
	if(pthread_create(&s->thread, NULL, sender_main, s) != 0){
		snprintf(err, err_len, "cannot start the device status thread");
		ea_status_close(s);
		return NULL;
	}
	s->stop = false;
	return s;
}

void ea_status_close(ea_status_sink *s)
{
	size_t i;
	bool started;

	if(s == NULL) return;
	pthread_mutex_lock(&s->lock);
	started = !s->stop && s->thread != 0;
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if(started) pthread_join(s->thread, NULL);
	for(i = 0; i < s->count; i++){
		free(s->devices[i]->alerts);
		free_strv(s->devices[i]->sent, s->devices[i]->sent_n);
		free(s->devices[i]);
	}
	free(s->devices);
	free(s->url);
	free(s->token);
	free(s->token_file);
	free(s->ca_file);
	free(s->backlog_path);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	curl_global_cleanup();
	free(s);
}

void ea_status_stats_read(ea_status_sink *s, ea_status_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if(s == NULL) return;
	out->patches_sent = atomic_load(&s->patches_sent);
	out->failures = atomic_load(&s->failures);
	out->missing = atomic_load(&s->missing);
	out->dropped = atomic_load(&s->dropped);
	out->backlog_writes = atomic_load(&s->backlog_writes);
	pthread_mutex_lock(&s->lock);
	out->devices = s->count;
	for(i = 0; i < s->count; i++) if(pending(s->devices[i])) out->pending++;
	pthread_mutex_unlock(&s->lock);
}
