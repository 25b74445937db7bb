/* SPDX-License-Identifier: Apache-2.0
 *
 * engine_bench.c - speed and memory of the detector engine, on one core
 * (`make bench-engine`; `make bench` runs it too and appends its section
 * to build/bench/results.md).
 *
 *   bench-engine [--series N[,N...]] [--samples-per-run N] [--runs N]
 *                [--warmup-rounds N] [--chain-only] [--json OUT] [--markdown OUT]
 *
 * Workload: per series a noisy sine (period about 5 minutes of 1 s
 * readings, noise +-0.5) with a +60 spike on about one reading in 1,000;
 * every round each series reports once, in an order shuffled per round (as
 * a broker delivers many devices). Samples are generated before each timed
 * run, so generation is never measured. Every engine first learns for
 * `--warmup-rounds` readings per series (default 160: past the learning
 * of spike and auto), untimed; then `--runs` timed runs of about
 * `--samples-per-run` samples each continue the same series; the median
 * run is reported, in samples per second of process CPU time
 * (CLOCK_PROCESS_CPUTIME_ID; the JSON has the wall time too).
 *
 * Measured, for each series count (default 1,000 and 100,000):
 *   - the config's default chain (type, spike, stuck, staleness) through
 *     ea_engine_sample, and the same plus `auto` (when built);
 *   - `auto` alone; at the first series count also every other built-in
 *     detector alone (ea_detector_builtins(), so new ones appear here by
 *     themselves; detectors with required parameters get sensible ones);
 *   - whole KubeEdge twin updates through ea_engine_message (topic and
 *     JSON parse included), and the parts: ea_payload_parse alone (to a
 *     callback that does nothing) and cJSON parse + delete alone;
 *   - memory: heap growth per series (mallinfo2 before the engine and after
 *     the warm-up) and the bound ea_engine_series_bytes_max(chain); the
 *     state bytes of each detector.
 *
 * Targets (issue 4): 2 million samples/s/core for the default chain,
 * 500,000 for `auto`, at most 1 KiB per series.
 */
#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"
#include "ea_payload.h"
#include "ea_topic.h"

#include <cJSON.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_LEN 24
#define DEVICE_LEN 24
#define PAYLOAD_LEN 256
#define TOPIC_LEN 96
#define MAX_SIZES 4
#define TARGET_CHAIN 2e6
#define TARGET_AUTO 5e5
#define TARGET_BYTES 1024.0

/* The series of one workload and a buffer of pre-generated samples. */
struct workload {
	size_t series;
	char **devices;      /* owned, `series` names */
	size_t *order;       /* owned, `series` indexes, reshuffled every round */
	size_t rounds_done;  /* rounds generated so far (the next round's index) */
	uint64_t shuffle_seed;
	bool same_order;     /* every round in the first round's order */

	/* The chunk: `capacity` samples of the rounds generated last. */
	size_t capacity, count;
	ea_sample *samples;  /* owned; strings point into texts and devices */
	char *texts;         /* owned, TEXT_LEN bytes per sample */
	char *names;         /* owned, DEVICE_LEN bytes per sample: the device name,
	                      * a copy beside the sample as a parser leaves it */
	char *payloads;      /* owned, PAYLOAD_LEN bytes per sample, or NULL */
	size_t *payload_lens; /* owned, or NULL */
	char *topics;        /* owned, TOPIC_LEN bytes per sample, or NULL */
	size_t *topic_lens;  /* owned, or NULL */
};

/* One measured figure. */
struct figure {
	double per_s;         /* median items per second of CPU time */
	double wall_per_s;    /* the same run's items per second of wall time */
	double heap_per_series;
	uint64_t results;     /* results the engine emitted (raised, cleared, repeated) */
};

static double clock_seconds(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if(p == NULL){
		fprintf(stderr, "bench-engine: out of memory\n");
		exit(1);
	}
	return p;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static void workload_init(struct workload *w, size_t series, size_t capacity_rounds, bool messages)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->series = series;
	w->devices = xcalloc(series, sizeof(*w->devices));
	w->order = xcalloc(series, sizeof(*w->order));
	for(i = 0; i < series; i++){
		w->devices[i] = xcalloc(1, 24);
		snprintf(w->devices[i], 24, "dev-%zu", i);
		w->order[i] = i;
	}
	w->capacity = series * capacity_rounds;
	w->samples = xcalloc(w->capacity, sizeof(*w->samples));
	w->texts = xcalloc(w->capacity, TEXT_LEN);
	w->names = xcalloc(w->capacity, DEVICE_LEN);
	if(messages){
		w->payloads = xcalloc(w->capacity, PAYLOAD_LEN);
		w->payload_lens = xcalloc(w->capacity, sizeof(size_t));
		w->topics = xcalloc(w->capacity, TOPIC_LEN);
		w->topic_lens = xcalloc(w->capacity, sizeof(size_t));
	}
}

static void workload_free(struct workload *w)
{
	size_t i;

	for(i = 0; i < w->series; i++) free(w->devices[i]);
	free(w->devices);
	free(w->order);
	free(w->samples);
	free(w->texts);
	free(w->names);
	free(w->payloads);
	free(w->payload_lens);
	free(w->topics);
	free(w->topic_lens);
}

/* Fills the chunk with the next `rounds` rounds (at most its capacity). */
static void workload_next(struct workload *w, size_t rounds)
{
	const int64_t t0 = 1761552000000LL;
	size_t r, k;

	w->count = 0;
	for(r = 0; r < rounds && w->count + w->series <= w->capacity; r++){
		size_t round = w->rounds_done++;

		for(k = w->series; k > 1 && !(w->same_order && round > 0); k--){ /* a new delivery order every round */
			size_t j, tmp;
			w->shuffle_seed = mix64(w->shuffle_seed);
			j = (size_t)(w->shuffle_seed % k);
			tmp = w->order[k - 1];
			w->order[k - 1] = w->order[j];
			w->order[j] = tmp;
		}
		for(k = 0; k < w->series; k++){
			size_t d = w->order[k], at = w->count++;
			uint64_t h = mix64(((uint64_t)d << 32) ^ (uint64_t)round);
			double noise = (double)(h >> 11) / 9007199254740992.0 - 0.5;
			double x = 50.0 + 10.0 * sin((double)round / 50.0 + (double)d) + noise;
			ea_sample *s = &w->samples[at];
			char *text = w->texts + at * TEXT_LEN;

			if(h % 1000 == 7) x += 60.0; /* a spike now and then */
			snprintf(text, TEXT_LEN, "%.2f", x);
			memset(s, 0, sizeof(*s));
			s->ns = "default";
			memcpy(w->names + at * DEVICE_LEN, w->devices[d], DEVICE_LEN);
			s->device = w->names + at * DEVICE_LEN;
			s->property = "temperature";
			ea_sample_classify(s, text, EA_TYPE_FLOAT);
			s->time_ms = t0 + (int64_t)round * 1000;
			s->arrival_ms = s->time_ms + 5;
			s->has_time = true;
			s->event_id = "";
			s->source = EA_SOURCE_TWIN_UPDATE;
			if(w->payloads != NULL){
				int n = snprintf(w->payloads + at * PAYLOAD_LEN, PAYLOAD_LEN,
						"{\"event_id\":\"\",\"timestamp\":%lld,\"twin\":{\"temperature\":{\"actual\":{\"value\":\"%s\","
						"\"metadata\":{\"timestamp\":%lld}},\"metadata\":{\"type\":\"float\"}}}}",
						(long long)s->time_ms, text, (long long)s->time_ms);
				w->payload_lens[at] = (size_t)n;
				n = snprintf(w->topics + at * TOPIC_LEN, TOPIC_LEN, "$hw/events/device/default/%s/twin/update", s->device);
				w->topic_lens[at] = (size_t)n;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* What is timed                                                       */

enum mode {
	MODE_SAMPLES,       /* ea_engine_sample */
	MODE_MESSAGES,      /* ea_engine_message */
	MODE_PAYLOAD_PARSE, /* ea_topic_parse + ea_payload_parse, no engine */
	MODE_CJSON          /* cJSON parse + delete, no engine */
};

static void count_result(void *ctx, const ea_result *r)
{
	(void)r;
	(*(uint64_t *)ctx)++;
}

static void ignore_sample(void *ctx, const ea_sample *s)
{
	(*(uint64_t *)ctx) += (uint64_t)s->has_number;
}

static void feed(enum mode mode, ea_engine *e, const struct workload *w, uint64_t *sink)
{
	size_t i;

	for(i = 0; i < w->count; i++){
		const char *payload = w->payloads != NULL ? w->payloads + i * PAYLOAD_LEN : NULL;

		if(mode == MODE_SAMPLES){
			ea_engine_sample(e, &w->samples[i]);
		}else if(mode == MODE_MESSAGES){
			ea_engine_message(e, w->topics + i * TOPIC_LEN, w->topic_lens[i], payload, w->payload_lens[i],
					w->samples[i].arrival_ms);
		}else if(mode == MODE_PAYLOAD_PARSE){
			ea_topic_info info;
			if(ea_topic_parse(w->topics + i * TOPIC_LEN, w->topic_lens[i], &info) == EA_ERR_OK)
				ea_payload_parse(payload, w->payload_lens[i], info.kind, "default", w->samples[i].device,
						w->samples[i].arrival_ms, ignore_sample, sink, NULL);
		}else{
			cJSON *root = cJSON_ParseWithLength(payload, w->payload_lens[i]);
			*sink += root != NULL;
			cJSON_Delete(root);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One engine (none for the parse-only modes) over a fresh workload: warm-up
 * rounds untimed, then `runs` timed chunks; the median chunk. */
static struct figure measure(const ea_config *cfg, enum mode mode, size_t series, bool same_order,
		size_t warmup_rounds, size_t samples_per_run, int runs)
{
	size_t rounds_per_run = samples_per_run / series > 0 ? samples_per_run / series : 1, done;
	double cpu[16], wall[16], cpu_sorted[16];
	struct figure f = { 0 };
	struct workload w;
	struct mallinfo2 before, after;
	ea_engine *e = NULL;
	uint64_t sink = 0;
	int r;

	if(runs > 16) runs = 16;
	workload_init(&w, series, rounds_per_run, mode != MODE_SAMPLES);
	w.same_order = same_order;
	before = mallinfo2();
	if(mode == MODE_SAMPLES || mode == MODE_MESSAGES){
		e = ea_engine_new(cfg, series + 16, count_result, &f.results);
		if(e == NULL){
			fprintf(stderr, "bench-engine: out of memory\n");
			exit(1);
		}
	}
	for(done = 0; done < warmup_rounds; done += rounds_per_run){
		workload_next(&w, warmup_rounds - done < rounds_per_run ? warmup_rounds - done : rounds_per_run);
		feed(mode, e, &w, &sink);
	}
	after = mallinfo2();
	/* in use from the heap plus large blocks mapped on their own (the hash table) */
	f.heap_per_series = ((double)(after.uordblks + after.hblkhd) - (double)(before.uordblks + before.hblkhd))
			/ (double)series;
	for(r = 0; r < runs; r++){
		double c0, c1, m0, m1;
		workload_next(&w, rounds_per_run);
		m0 = clock_seconds(CLOCK_MONOTONIC);
		c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
		feed(mode, e, &w, &sink);
		c1 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
		m1 = clock_seconds(CLOCK_MONOTONIC);
		cpu[r] = (double)w.count / (c1 - c0);
		wall[r] = (double)w.count / (m1 - m0);
		cpu_sorted[r] = cpu[r];
	}
	qsort(cpu_sorted, (size_t)runs, sizeof(double), cmp_double);
	f.per_s = cpu_sorted[runs / 2];
	for(r = 0; r < runs; r++) if(cpu[r] == f.per_s) f.wall_per_s = wall[r];
	if(sink == 42) fprintf(stderr, "\n"); /* keeps the parse-only loops from being optimised away */
	ea_engine_free(e);
	workload_free(&w);
	return f;
}

/* ------------------------------------------------------------------ */
/* Configs                                                             */

static ea_config *config_of(const char *chain_yaml, char *err_out, size_t err_len)
{
	char yaml[1024];
	ea_config_error err;
	ea_config *cfg;

	snprintf(yaml, sizeof(yaml), "default_chain: %s\n", chain_yaml);
	cfg = ea_config_load_string(yaml, strlen(yaml), "bench", &err);
	if(cfg == NULL && err_out != NULL) snprintf(err_out, err_len, "%s", err.message);
	return cfg;
}

/* A detector alone; one that refuses to run without parameters gets
 * sensible ones for the workload (values around 50). NULL when even that
 * fails (err says why). */
static ea_config *config_alone(const char *name, char *err, size_t err_len)
{
	static const struct { const char *name, *params; } needs[] = {
		{ "range", "{min: 0, max: 200}" },
		{ "rate", "{max_rate: 1000}" },
	};
	char chain[256];
	ea_config *cfg;
	size_t i;

	snprintf(chain, sizeof(chain), "[%s]", name);
	cfg = config_of(chain, err, err_len);
	for(i = 0; cfg == NULL && i < sizeof(needs) / sizeof(needs[0]); i++){
		if(strcmp(needs[i].name, name) != 0) continue;
		snprintf(chain, sizeof(chain), "[{%s: %s}]", name, needs[i].params);
		cfg = config_of(chain, err, err_len);
	}
	return cfg;
}

static void chain_names(const ea_chain *chain, bool with_auto, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "[");
	for(i = 0; i < chain->count; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", chain->items[i].type->name);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s]", with_auto ? ", auto" : "");
}

/* ------------------------------------------------------------------ */
/* Output: a table on stdout, Markdown, JSON                            */

struct report {
	FILE *md;            /* borrowed, or NULL */
	FILE *json;          /* borrowed, or NULL */
	bool json_first;
};

/* 1234567.8 -> "1,234,568" */
static const char *thousands(double v, char *buf, size_t len)
{
	char digits[32];
	size_t n, i, o = 0;

	if(!isfinite(v) || v < 0) v = 0;
	snprintf(digits, sizeof(digits), "%.0f", v);
	n = strlen(digits);
	for(i = 0; i < n && o + 2 < len; i++){
		if(i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static void md_printf(struct report *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void md_printf(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	if(rep->md == NULL) return;
	va_start(ap, fmt);
	vfprintf(rep->md, fmt, ap);
	va_end(ap);
}

/* One row: what, items/s, heap per series (<0: none), bound (0: none),
 * state bytes (SIZE_MAX: none). */
static void row(struct report *rep, size_t series, const char *what, const char *unit, const struct figure *f,
		size_t bound, size_t state)
{
	char rate[32], heap[32] = "", bnd[32] = "", st[32] = "";

	thousands(f->per_s, rate, sizeof(rate));
	if(f->heap_per_series >= 0) snprintf(heap, sizeof(heap), "%.0f", f->heap_per_series);
	if(bound > 0) snprintf(bnd, sizeof(bnd), "%zu", bound);
	if(state != SIZE_MAX) snprintf(st, sizeof(st), "%zu", state);
	printf("%-46s %12s %-9s %8.1f %9s %9s %8s\n", what, rate, unit, 1e9 / f->per_s, heap, bnd, st);
	md_printf(rep, "| %s | %s %s | %.1f | %s | %s | %s |\n", what, rate, unit, 1e9 / f->per_s, heap, bnd, st);
	if(rep->json != NULL){
		fprintf(rep->json, "%s\n    {\"series\": %zu, \"what\": \"%s\", \"unit\": \"%s\", \"per_s\": %.0f, "
				"\"wall_per_s\": %.0f, \"results\": %llu",
				rep->json_first ? "" : ",", series, what, unit, f->per_s, f->wall_per_s,
				(unsigned long long)f->results);
		if(f->heap_per_series >= 0) fprintf(rep->json, ", \"heap_bytes_per_series\": %.0f", f->heap_per_series);
		if(bound > 0) fprintf(rep->json, ", \"bound_bytes_per_series\": %zu", bound);
		if(state != SIZE_MAX) fprintf(rep->json, ", \"state_bytes\": %zu", state);
		fprintf(rep->json, "}");
		rep->json_first = false;
	}
}

static void row_missing(struct report *rep, const char *what, const char *why)
{
	printf("%-46s %s\n", what, why);
	md_printf(rep, "| %s | %s | | | | |\n", what, why);
}

/* The verdicts on the targets, from the largest series count measured. */
struct verdicts {
	size_t series;
	struct figure chain, with_auto, auto_alone, messages, payload, cjson;
	size_t chain_bound, with_auto_bound;
	bool have_auto;
};

static void print_targets(struct report *rep, const struct verdicts *v, const char *chain_list)
{
	char a[32], b[32], line[1024];
	double parse_ns = 1e9 / v->payload.per_s, engine_ns = 1e9 / v->chain.per_s, message_ns = 1e9 / v->messages.per_s;

	printf("\ntargets (issue 4), at %s series:\n", thousands((double)v->series, a, sizeof(a)));
	md_printf(rep, "\nTargets (issue 4), at %s series:\n\n", thousands((double)v->series, a, sizeof(a)));
	snprintf(line, sizeof(line), "default chain %s: %s samples/s, %.1fx the 2M target (%s)", chain_list,
			thousands(v->chain.per_s, b, sizeof(b)), v->chain.per_s / TARGET_CHAIN,
			v->chain.per_s >= TARGET_CHAIN ? "met" : "NOT met");
	printf("  %s\n", line);
	md_printf(rep, "- %s\n", line);
	if(v->have_auto){
		snprintf(line, sizeof(line), "auto alone: %s samples/s, %.1fx the 500k target (%s); default chain + auto %s samples/s",
				thousands(v->auto_alone.per_s, a, sizeof(a)), v->auto_alone.per_s / TARGET_AUTO,
				v->auto_alone.per_s >= TARGET_AUTO ? "met" : "NOT met", thousands(v->with_auto.per_s, b, sizeof(b)));
	}else{
		snprintf(line, sizeof(line), "auto: not built yet (ea_detector_find(\"auto\") is NULL)");
	}
	printf("  %s\n", line);
	md_printf(rep, "- %s\n", line);
	snprintf(line, sizeof(line), "memory: %.0f B per series measured with the default chain, %.2fx the 1 KiB target (%s); "
			"bound %zu B (names of 3 x %d B and a %d B value)", v->chain.heap_per_series,
			v->chain.heap_per_series / TARGET_BYTES, v->chain.heap_per_series <= TARGET_BYTES ? "met" : "NOT met",
			v->chain_bound, EA_NAME_MAX, EA_RESULT_VALUE_MAX);
	printf("  %s\n", line);
	md_printf(rep, "- %s\n", line);
	if(v->have_auto){
		snprintf(line, sizeof(line), "memory with auto added: %.0f B per series measured, %.2fx the 1 KiB target (%s); bound %zu B",
				v->with_auto.heap_per_series, v->with_auto.heap_per_series / TARGET_BYTES,
				v->with_auto.heap_per_series <= TARGET_BYTES ? "met" : "NOT met", v->with_auto_bound);
		printf("  %s\n", line);
		md_printf(rep, "- %s\n", line);
	}
	snprintf(line, sizeof(line), "a whole twin update costs %.0f ns: payload parse %.0f ns (%.0f%%, of which cJSON parse + delete "
			"%.0f ns), engine %.0f ns (%.0f%%); the parse is %.1fx the engine", message_ns, parse_ns,
			100.0 * parse_ns / message_ns, 1e9 / v->cjson.per_s, engine_ns, 100.0 * engine_ns / message_ns,
			parse_ns / engine_ns);
	printf("  %s\n", line);
	md_printf(rep, "- %s\n", line);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-engine [--series N[,N...]] [--samples-per-run N] [--runs N] [--warmup-rounds N]\n"
			"                    [--chain-only] [--json OUT] [--markdown OUT]\n");
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = { 1000, 100000 }, size_count = 2, samples_per_run = 1000000, warmup_rounds = 160;
	int runs = 5, a;
	bool chain_only = false; /* only the default chain (for profiling) */
	const char *json_path = NULL, *md_path = NULL;
	const ea_detector_type *const *builtins = ea_detector_builtins();
	const ea_detector_type *auto_type = ea_detector_find("auto");
	struct report rep = { NULL, NULL, true };
	struct verdicts v;
	ea_config *defaults, *chain_cfg, *auto_cfg = NULL, *with_auto_cfg = NULL;
	ea_config_error cerr;
	char chain_list[512], with_auto_list[512], err[sizeof(cerr.message)];
	size_t z, i;

	for(a = 1; a < argc; a++){
		if(strcmp(argv[a], "--series") == 0 && a + 1 < argc){
			char *p = argv[++a], *end;
			size_count = 0;
			while(*p != '\0' && size_count < MAX_SIZES){
				sizes[size_count] = strtoul(p, &end, 10);
				if(end == p || sizes[size_count] == 0){
					usage();
					return 2;
				}
				size_count++;
				p = *end == ',' ? end + 1 : end;
			}
		}else if(strcmp(argv[a], "--samples-per-run") == 0 && a + 1 < argc){
			samples_per_run = strtoul(argv[++a], NULL, 10);
		}else if(strcmp(argv[a], "--runs") == 0 && a + 1 < argc){
			runs = atoi(argv[++a]);
		}else if(strcmp(argv[a], "--warmup-rounds") == 0 && a + 1 < argc){
			warmup_rounds = strtoul(argv[++a], NULL, 10);
		}else if(strcmp(argv[a], "--chain-only") == 0){
			chain_only = true;
		}else if(strcmp(argv[a], "--json") == 0 && a + 1 < argc){
			json_path = argv[++a];
		}else if(strcmp(argv[a], "--markdown") == 0 && a + 1 < argc){
			md_path = argv[++a];
		}else{
			usage();
			return 2;
		}
	}
	if(size_count == 0 || samples_per_run == 0 || runs < 1 || runs > 16){
		usage();
		return 2;
	}

	defaults = ea_config_load_string("", 0, "defaults", &cerr);
	if(defaults == NULL){
		fprintf(stderr, "bench-engine: %s\n", cerr.message);
		return 1;
	}
	chain_names(&defaults->default_chain, false, chain_list, sizeof(chain_list));
	chain_names(&defaults->default_chain, true, with_auto_list, sizeof(with_auto_list));
	chain_cfg = config_of(chain_list, err, sizeof(err));
	if(chain_cfg == NULL){
		fprintf(stderr, "bench-engine: %s\n", err);
		return 1;
	}
	if(auto_type != NULL){
		auto_cfg = config_alone("auto", err, sizeof(err));
		with_auto_cfg = config_of(with_auto_list, err, sizeof(err));
	}
	if(json_path != NULL && (rep.json = fopen(json_path, "w")) == NULL) perror(json_path);
	if(md_path != NULL && (rep.md = fopen(md_path, "w")) == NULL) perror(md_path);
	if(rep.json != NULL){
		fprintf(rep.json, "{\"samples_per_run\": %zu, \"runs\": %d, \"warmup_rounds\": %zu, \"clock\": \"CLOCK_PROCESS_CPUTIME_ID\", "
				"\"default_chain\": \"%s\", \"auto_built\": %s, \"rows\": [", samples_per_run, runs, warmup_rounds,
				chain_list, auto_type != NULL ? "true" : "false");
	}
	md_printf(&rep, "## Engine alone (`make bench-engine`)\n\n"
			"One core, samples pre-generated (noisy sines, a spike in about 1 reading of 1,000, series in a "
			"shuffled order every round), %zu warm-up readings per series untimed, then the median of %d runs "
			"of about %zu samples, in process CPU time. Heap: growth per series after the warm-up (mallinfo2); "
			"bound: ea_engine_series_bytes_max().\n", warmup_rounds, runs, samples_per_run);

	memset(&v, 0, sizeof(v));
	v.have_auto = auto_type != NULL && auto_cfg != NULL && with_auto_cfg != NULL;
	v.chain_bound = ea_engine_series_bytes_max(&chain_cfg->default_chain);
	if(v.have_auto) v.with_auto_bound = ea_engine_series_bytes_max(&with_auto_cfg->default_chain);

	for(z = 0; z < size_count; z++){
		size_t series = sizes[z];
		char title[64], what[600];
		struct figure f;

		printf("\nengine, one core, %s series: %zu warm-up readings per series, median of %d runs of ~%zu samples "
				"(CPU time)\n", thousands((double)series, title, sizeof(title)), warmup_rounds, runs, samples_per_run);
		printf("%-46s %12s %-9s %8s %9s %9s %8s\n", "chain", "rate", "", "ns each", "heap B/s", "bound B", "state B");
		md_printf(&rep, "\n### %s series\n\n| chain | rate | ns each | heap B/series | bound B/series | state B |\n"
				"|---|---|---|---|---|---|\n", title);

		v.series = series;
		v.chain = measure(chain_cfg, MODE_SAMPLES, series, false, warmup_rounds, samples_per_run, runs);
		snprintf(what, sizeof(what), "default chain %s", chain_list);
		row(&rep, series, what, "samples/s", &v.chain, v.chain_bound, SIZE_MAX);
		f = measure(chain_cfg, MODE_SAMPLES, series, true, warmup_rounds, samples_per_run, runs);
		row(&rep, series, "  the same, series in the same order every round", "samples/s", &f, v.chain_bound, SIZE_MAX);
		if(chain_only) continue;
		if(v.have_auto){
			v.with_auto = measure(with_auto_cfg, MODE_SAMPLES, series, false, warmup_rounds, samples_per_run, runs);
			row(&rep, series, "default chain + auto", "samples/s", &v.with_auto, v.with_auto_bound, SIZE_MAX);
			v.auto_alone = measure(auto_cfg, MODE_SAMPLES, series, false, warmup_rounds, samples_per_run, runs);
			{
				ea_params p;
				ea_params_defaults(auto_type, &p);
				row(&rep, series, "auto alone", "samples/s", &v.auto_alone,
						ea_engine_series_bytes_max(&auto_cfg->default_chain), ea_detector_state_size(auto_type, &p));
			}
		}else{
			row_missing(&rep, "auto", "not built yet");
		}
		v.messages = measure(chain_cfg, MODE_MESSAGES, series, false, warmup_rounds, samples_per_run, runs);
		row(&rep, series, "default chain, whole twin updates (ea_engine_message)", "msgs/s", &v.messages, 0, SIZE_MAX);
		v.payload = measure(NULL, MODE_PAYLOAD_PARSE, series, false, 0, samples_per_run, runs);
		v.payload.heap_per_series = -1;
		row(&rep, series, "  of which topic + payload parse alone", "msgs/s", &v.payload, 0, SIZE_MAX);
		v.cjson = measure(NULL, MODE_CJSON, series, false, 0, samples_per_run, runs);
		v.cjson.heap_per_series = -1;
		row(&rep, series, "  of which cJSON parse + delete alone", "msgs/s", &v.cjson, 0, SIZE_MAX);

		if(z != 0) continue; /* every detector alone: at the first series count only */
		for(i = 0; builtins[i] != NULL; i++){
			const ea_detector_type *t = builtins[i];
			ea_config *cfg;

			if(t == auto_type) continue;
			snprintf(what, sizeof(what), "%s alone", t->name);
			cfg = config_alone(t->name, err, sizeof(err));
			if(cfg == NULL){
				char why[sizeof(err) + 16];
				snprintf(why, sizeof(why), "skipped: %s", err);
				row_missing(&rep, what, why);
				continue;
			}
			f = measure(cfg, MODE_SAMPLES, series, false, warmup_rounds, samples_per_run, runs);
			row(&rep, series, what, "samples/s", &f, ea_engine_series_bytes_max(&cfg->default_chain),
					ea_detector_state_size(cfg->default_chain.items[0].type, &cfg->default_chain.items[0].params));
			ea_config_free(cfg);
		}
	}
	if(!chain_only) print_targets(&rep, &v, chain_list);
	if(rep.json != NULL){
		fprintf(rep.json, "\n  ],\n  \"targets\": {\"series\": %zu, \"default_chain_per_s\": %.0f, \"default_chain_ratio\": %.3f, "
				"\"auto_per_s\": %.0f, \"auto_ratio\": %.3f, \"heap_bytes_per_series\": %.0f, "
				"\"heap_bytes_per_series_with_auto\": %.0f, \"bound_bytes_per_series\": %zu, "
				"\"message_ns\": %.1f, \"payload_parse_ns\": %.1f, \"cjson_ns\": %.1f, \"engine_ns\": %.1f}}\n",
				v.series, v.chain.per_s, v.chain.per_s / TARGET_CHAIN, v.have_auto ? v.auto_alone.per_s : 0.0,
				v.have_auto ? v.auto_alone.per_s / TARGET_AUTO : 0.0, v.chain.heap_per_series,
				v.have_auto ? v.with_auto.heap_per_series : 0.0, v.chain_bound, 1e9 / v.messages.per_s,
				1e9 / v.payload.per_s, 1e9 / v.cjson.per_s, 1e9 / v.chain.per_s);
		fclose(rep.json);
	}
	if(rep.md != NULL) fclose(rep.md);
	ea_config_free(auto_cfg);
	ea_config_free(with_auto_cfg);
	ea_config_free(chain_cfg);
	ea_config_free(defaults);
	return 0;
}
