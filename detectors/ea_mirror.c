/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_mirror.c - the data mirror described in ea_mirror.h.
 *
 * Ownership: the mirror owns its queue of records (one malloc each), the
 * SQLite connection (used under db_lock: by the writer thread, and by
 * ea_mirror_apply_retention) and the writer thread.
 */
#include "ea_mirror.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETENTION_EVERY_MS 60000
#define FLUSH_EVERY_MS 100

enum record_kind { REC_SAMPLE, REC_RESULT };

/* One sample or result: one allocation, strings inside it. */
struct record {
	enum record_kind kind;
	const char *ns, *device, *property, *value;
	const char *detector, *rkind, *reason; /* results */
	int64_t ts, at;                        /* sample time; arrival or detection */
	bool has_number, anomaly;
	double number, score;
	char data[];
};

struct ea_mirror {
	sqlite3 *db;
	sqlite3_stmt *ins_sample, *ins_result;
	pthread_mutex_t db_lock;
	int64_t retention_ms;
	uint64_t max_size;
	size_t batch;

	pthread_mutex_t lock;      /* guards the queue and the counters below it */
	pthread_cond_t wake;       /* writer: records or stop */
	pthread_cond_t flushed;    /* flush(): a batch was committed */
	struct record **queue;
	size_t cap, head, count;
	uint64_t enqueued, committed; /* records taken into / out of the queue (committed or failed) */
	bool stop;
	pthread_t thread;

	_Atomic uint64_t samples_written, results_written, dropped, batches, write_errors, deleted;
};

static const char SCHEMA[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS samples(ns TEXT NOT NULL, device TEXT NOT NULL, property TEXT NOT NULL,"
	" ts INTEGER NOT NULL, arrival INTEGER NOT NULL, value TEXT NOT NULL, num REAL);"
	"CREATE INDEX IF NOT EXISTS samples_series ON samples(ns, device, property, ts);"
	"CREATE INDEX IF NOT EXISTS samples_arrival ON samples(arrival);"
	"CREATE TABLE IF NOT EXISTS results(ns TEXT NOT NULL, device TEXT NOT NULL, property TEXT NOT NULL,"
	" ts INTEGER NOT NULL, detected_at INTEGER NOT NULL, detector TEXT NOT NULL, kind TEXT NOT NULL,"
	" anomaly INTEGER NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL, value TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS results_series ON results(ns, device, property, ts);"
	"CREATE INDEX IF NOT EXISTS results_detected ON results(detected_at);";

static int64_t mono_ms(void)
{
	return ea_mono_ns() / 1000000;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

static bool write_batch(ea_mirror *m, struct record **batch, size_t n)
{
	size_t i, samples = 0, results = 0;
	bool ok;

	pthread_mutex_lock(&m->db_lock);
	ok = sqlite3_exec(m->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	for(i = 0; ok && i < n; i++){
		const struct record *r = batch[i];
		sqlite3_stmt *st = r->kind == REC_SAMPLE ? m->ins_sample : m->ins_result;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, r->ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->device, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->property, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, r->ts);
		sqlite3_bind_int64(st, 5, r->at);
		if(r->kind == REC_SAMPLE){
			sqlite3_bind_text(st, 6, r->value, -1, SQLITE_STATIC);
			if(r->has_number) sqlite3_bind_double(st, 7, r->number);
			else sqlite3_bind_null(st, 7);
			samples++;
		}else{
			sqlite3_bind_text(st, 6, r->detector, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, r->rkind, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 8, r->anomaly);
			sqlite3_bind_double(st, 9, r->score);
			sqlite3_bind_text(st, 10, r->reason, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 11, r->value, -1, SQLITE_STATIC);
			results++;
		}
		ok = sqlite3_step(st) == SQLITE_DONE;
	}
	if(ok) ok = sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	if(!ok) sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&m->db_lock);
	if(ok){
		atomic_fetch_add(&m->samples_written, samples);
		atomic_fetch_add(&m->results_written, results);
		atomic_fetch_add(&m->batches, 1);
	}else{
		atomic_fetch_add(&m->write_errors, 1);
	}
	return ok;
}

static uint64_t scalar_u64(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	uint64_t v = 0;

	if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
	if(sqlite3_step(st) == SQLITE_ROW) v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

uint64_t ea_mirror_apply_retention(ea_mirror *m, int64_t now_ms)
{
	uint64_t deleted = 0;
	char sql[256];

	pthread_mutex_lock(&m->db_lock);
	if(m->retention_ms > 0){
		snprintf(sql, sizeof(sql), "DELETE FROM samples WHERE arrival < %lld", (long long)(now_ms - m->retention_ms));
		if(sqlite3_exec(m->db, sql, NULL, NULL, NULL) == SQLITE_OK) deleted += (uint64_t)sqlite3_changes(m->db);
		snprintf(sql, sizeof(sql), "DELETE FROM results WHERE detected_at < %lld", (long long)(now_ms - m->retention_ms));
		if(sqlite3_exec(m->db, sql, NULL, NULL, NULL) == SQLITE_OK) deleted += (uint64_t)sqlite3_changes(m->db);
	}
	if(m->max_size > 0){
		/* used pages (not the free list) against the cap; delete the oldest
		 * samples in proportion to the excess (and 1 % more), until under
		 * it (freed pages are reused; pages half emptied count as used) */
		int rounds;
		for(rounds = 0; rounds < 64; rounds++){
			uint64_t used = (scalar_u64(m->db, "PRAGMA page_count") - scalar_u64(m->db, "PRAGMA freelist_count"))
					* scalar_u64(m->db, "PRAGMA page_size");
			uint64_t rows = scalar_u64(m->db, "SELECT count(*) FROM samples"), drop;
			if(used <= m->max_size || rows == 0) break;
			drop = (uint64_t)((double)rows * (1.0 - (double)m->max_size / (double)used)) + rows / 100 + 1;
			snprintf(sql, sizeof(sql), "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples ORDER BY arrival "
					"LIMIT %llu)", (unsigned long long)drop);
			if(sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK) break;
			deleted += (uint64_t)sqlite3_changes(m->db);
			snprintf(sql, sizeof(sql), "DELETE FROM results WHERE detected_at < (SELECT coalesce(min(arrival), 0) FROM samples)");
			if(sqlite3_exec(m->db, sql, NULL, NULL, NULL) == SQLITE_OK) deleted += (uint64_t)sqlite3_changes(m->db);
		}
	}
	pthread_mutex_unlock(&m->db_lock);
	atomic_fetch_add(&m->deleted, deleted);
	return deleted;
}

static void *writer_main(void *arg)
{
	ea_mirror *m = arg;
	struct record **batch = malloc(m->batch * sizeof(*batch));
	int64_t next_retention = mono_ms() + RETENTION_EVERY_MS;

	for(;;){
		size_t n = 0, i;
		bool stopping;

		pthread_mutex_lock(&m->lock);
		if(m->count < m->batch && !m->stop){
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += FLUSH_EVERY_MS * 1000000L;
			if(until.tv_nsec >= 1000000000L){
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&m->wake, &m->lock, &until);
		}
		while(n < m->batch && m->count > 0 && batch != NULL){
			batch[n++] = m->queue[m->head];
			m->head = (m->head + 1) % m->cap;
			m->count--;
		}
		stopping = m->stop && m->count == 0;
		pthread_mutex_unlock(&m->lock);

		if(n > 0) write_batch(m, batch, n);
		for(i = 0; i < n; i++) free(batch[i]);
		if(n > 0){
			pthread_mutex_lock(&m->lock);
			m->committed += n;
			pthread_cond_broadcast(&m->flushed);
			pthread_mutex_unlock(&m->lock);
		}
		if(mono_ms() >= next_retention){
			ea_mirror_apply_retention(m, ea_now_ms());
			next_retention = mono_ms() + RETENTION_EVERY_MS;
		}
		if(stopping || batch == NULL) break;
	}
	free(batch);
	return NULL;
}

/* ------------------------------------------------------------------ */

ea_mirror *ea_mirror_open(const ea_mirror_settings *s, char *err, size_t err_len)
{
	ea_mirror *m = calloc(1, sizeof(*m));
	char *msg = NULL;

	if(m == NULL){
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	m->retention_ms = s->retention_ms;
	m->max_size = s->max_size;
	m->batch = s->batch > 0 ? s->batch : 5000;
	m->cap = s->queue_records > 0 ? s->queue_records : 100000;
	m->queue = calloc(m->cap, sizeof(*m->queue));
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->db_lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	pthread_cond_init(&m->flushed, NULL);
	if(m->queue == NULL){
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	if(sqlite3_open_v2(s->path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
			!= SQLITE_OK){
		snprintf(err, err_len, "mirror database %s: %s", s->path, m->db ? sqlite3_errmsg(m->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(m->db, 5000);
	if(sqlite3_exec(m->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK){
		snprintf(err, err_len, "mirror database %s: %s", s->path, msg ? msg : sqlite3_errmsg(m->db));
		sqlite3_free(msg);
		goto fail;
	}
	if(sqlite3_prepare_v2(m->db, "INSERT INTO samples(ns, device, property, ts, arrival, value, num) VALUES(?,?,?,?,?,?,?)",
			-1, &m->ins_sample, NULL) != SQLITE_OK
			|| sqlite3_prepare_v2(m->db, "INSERT INTO results(ns, device, property, ts, detected_at, detector, kind, "
					"anomaly, score, reason, value) VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &m->ins_result, NULL) != SQLITE_OK){
		snprintf(err, err_len, "mirror database %s: %s (a database of another program?)", s->path, sqlite3_errmsg(m->db));
		goto fail;
	}
	if(pthread_create(&m->thread, NULL, writer_main, m) != 0){
		snprintf(err, err_len, "cannot start the mirror thread");
		goto fail;
	}
	return m;
fail:
	sqlite3_finalize(m->ins_sample);
	sqlite3_finalize(m->ins_result);
	sqlite3_close(m->db);
	free(m->queue);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->db_lock);
	pthread_cond_destroy(&m->wake);
	pthread_cond_destroy(&m->flushed);
	free(m);
	return NULL;
}

void ea_mirror_close(ea_mirror *m)
{
	size_t i;

	if(m == NULL) return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	for(i = 0; i < m->count; i++) free(m->queue[(m->head + i) % m->cap]);
	free(m->queue);
	sqlite3_finalize(m->ins_sample);
	sqlite3_finalize(m->ins_result);
	sqlite3_close(m->db);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->db_lock);
	pthread_cond_destroy(&m->wake);
	pthread_cond_destroy(&m->flushed);
	free(m);
}

static void enqueue(ea_mirror *m, struct record *r)
{
	bool wake;

	pthread_mutex_lock(&m->lock);
	if(m->count == m->cap || m->stop){
		pthread_mutex_unlock(&m->lock);
		free(r);
		atomic_fetch_add(&m->dropped, 1);
		return;
	}
	m->queue[(m->head + m->count) % m->cap] = r;
	m->count++;
	m->enqueued++;
	wake = m->count == m->batch;
	if(wake) pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
}

/* Copies strings into r->data, in order; returns the next free byte. */
static char *put(char *at, const char **field, const char *text)
{
	size_t n = strlen(text) + 1;
	memcpy(at, text, n);
	*field = at;
	return at + n;
}

void ea_mirror_sample(ea_mirror *m, const ea_sample *s)
{
	const char *value = s->text != NULL ? s->text : "";
	size_t len = strlen(s->ns) + strlen(s->device) + strlen(s->property) + strlen(value) + 4;
	struct record *r = malloc(sizeof(*r) + len);
	char *at;

	if(r == NULL){
		atomic_fetch_add(&m->dropped, 1);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->kind = REC_SAMPLE;
	at = put(r->data, &r->ns, s->ns);
	at = put(at, &r->device, s->device);
	at = put(at, &r->property, s->property);
	put(at, &r->value, value);
	r->ts = s->time_ms;
	r->at = s->arrival_ms;
	r->has_number = s->has_number;
	r->number = s->number;
	enqueue(m, r);
}

void ea_mirror_result(ea_mirror *m, const ea_result *res)
{
	const char *value = res->value_text != NULL ? res->value_text : "";
	size_t len = strlen(res->ns) + strlen(res->device) + strlen(res->property) + strlen(value) + strlen(res->detector)
			+ strlen(res->kind) + strlen(res->reason) + 7;
	struct record *r = malloc(sizeof(*r) + len);
	char *at;

	if(r == NULL){
		atomic_fetch_add(&m->dropped, 1);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->kind = REC_RESULT;
	at = put(r->data, &r->ns, res->ns);
	at = put(at, &r->device, res->device);
	at = put(at, &r->property, res->property);
	at = put(at, &r->value, value);
	at = put(at, &r->detector, res->detector);
	at = put(at, &r->rkind, res->kind);
	put(at, &r->reason, res->reason);
	r->ts = res->sample_time_ms;
	r->at = res->detected_at_ms;
	r->anomaly = res->anomaly;
	r->score = res->score;
	enqueue(m, r);
}

bool ea_mirror_flush(ea_mirror *m, int64_t timeout_ms)
{
	struct timespec until;
	uint64_t target;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if(until.tv_nsec >= 1000000000L){
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->lock);
	target = m->enqueued;
	pthread_cond_signal(&m->wake);
	while(m->committed < target){
		if(pthread_cond_timedwait(&m->flushed, &m->lock, &until) != 0) break;
	}
	ok = m->committed >= target;
	pthread_mutex_unlock(&m->lock);
	return ok;
}

void ea_mirror_stats_read(ea_mirror *m, ea_mirror_stats *out)
{
	memset(out, 0, sizeof(*out));
	if(m == NULL) return;
	out->samples_written = atomic_load(&m->samples_written);
	out->results_written = atomic_load(&m->results_written);
	out->dropped = atomic_load(&m->dropped);
	out->batches = atomic_load(&m->batches);
	out->write_errors = atomic_load(&m->write_errors);
	out->deleted = atomic_load(&m->deleted);
	pthread_mutex_lock(&m->lock);
	out->queued = m->count;
	pthread_mutex_unlock(&m->lock);
}
