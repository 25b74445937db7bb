/* SPDX-License-Identifier: Apache-2.0
 *
 * engine_bench.c - speed and memory of the detector engine, on one core.
 *
 *   bench-engine [--series N] [--samples N] [--json OUT]
 *
 * Samples are generated before timing (a noisy sine per series with a
 * spike now and then, series interleaved as a broker would deliver them)
 * and fed through ea_engine_sample: each built-in detector alone, the
 * config's default chain, and the default chain plus `auto`; then whole
 * KubeEdge twin update messages through ea_engine_message (JSON parse
 * included) for the default chain. Each figure is the median of five
 * runs, in samples per second of thread CPU time. Memory: the bound
 * ea_engine_series_bytes_max() per series, and the heap actually used per
 * series (mallinfo2 before and after filling the table).
 *
 * Targets (issue 4): 2 million samples/s for the default chain, 500,000
 * for `auto`, at most 1 KiB per series.
 */
#include "ea_config.h"
#include "ea_detector.h"
#include "ea_engine.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

struct workload {
	size_t series, samples;
	char **devices;   /* owned, `series` names */
	ea_sample *input; /* owned, `samples` readings; texts point into `texts` */
	char *texts;      /* owned, 24 bytes per sample */
	char **payloads;  /* owned, one twin update per sample (lazily built) */
};

static double thread_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void workload_build(struct workload *w, size_t series, size_t samples)
{
	size_t i;
	uint64_t seed = 42;
	int64_t t0 = 1761552000000LL;

	w->series = series;
	w->samples = samples;
	w->devices = calloc(series, sizeof(*w->devices));
	w->input = calloc(samples, sizeof(*w->input));
	w->texts = calloc(samples, 24);
	for(i = 0; i < series; i++){
		w->devices[i] = malloc(24);
		snprintf(w->devices[i], 24, "dev-%zu", i);
	}
	for(i = 0; i < samples; i++){
		size_t d = i % series, round = i / series;
		double noise, x;
		ea_sample *s = &w->input[i];
		char *text = w->texts + i * 24;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		noise = (double)(seed >> 40) / 16777216.0 - 0.5;
		x = 50.0 + 10.0 * sin((double)round / 50.0 + (double)d) + noise;
		if(seed % 997 == 0) x += 60.0; /* a spike now and then */
		snprintf(text, 24, "%.2f", x);
		s->ns = "default";
		s->device = w->devices[d];
		s->property = "temp";
		ea_sample_classify(s, text, EA_TYPE_FLOAT);
		s->time_ms = t0 + (int64_t)round * 1000;
		s->arrival_ms = s->time_ms + 5;
		s->has_time = true;
		s->event_id = "";
		s->source = EA_SOURCE_TWIN_UPDATE;
	}
}

static void workload_payloads(struct workload *w)
{
	size_t i;

	if(w->payloads != NULL) return;
	w->payloads = calloc(w->samples, sizeof(*w->payloads));
	for(i = 0; i < w->samples; i++){
		w->payloads[i] = malloc(200);
		snprintf(w->payloads[i], 200,
				"{\"event_id\":\"\",\"timestamp\":%lld,\"twin\":{\"temp\":{\"actual\":{\"value\":\"%s\","
				"\"metadata\":{\"timestamp\":%lld}},\"metadata\":{\"type\":\"float\"}}}}",
				(long long)w->input[i].time_ms, w->input[i].text, (long long)w->input[i].time_ms);
	}
}

static void workload_free(struct workload *w)
{
	size_t i;
	for(i = 0; i < w->series; i++) free(w->devices[i]);
	if(w->payloads != NULL) for(i = 0; i < w->samples; i++) free(w->payloads[i]);
	free(w->payloads);
	free(w->devices);
	free(w->input);
	free(w->texts);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median samples/s over RUNS fresh engines; *bytes_per_series the heap
 * growth per series of the last run. */
static double run_samples(const ea_config *cfg, struct workload *w, bool messages, double *bytes_per_series)
{
	double rates[RUNS];
	int r;

	for(r = 0; r < RUNS; r++){
		struct mallinfo2 before = mallinfo2(), after;
		ea_engine *e = ea_engine_new(cfg, w->series + 16, NULL, NULL);
		double t0, t1;
		size_t i;

		if(e == NULL){
			fprintf(stderr, "bench-engine: out of memory\n");
			exit(1);
		}
		t0 = thread_seconds();
		if(messages){
			char topic[96];
			for(i = 0; i < w->samples; i++){
				int n = snprintf(topic, sizeof(topic), "$hw/events/device/%s/twin/update", w->input[i].device);
				ea_engine_message(e, topic, (size_t)n, w->payloads[i], strlen(w->payloads[i]), w->input[i].arrival_ms);
			}
		}else{
			for(i = 0; i < w->samples; i++) ea_engine_sample(e, &w->input[i]);
		}
		t1 = thread_seconds();
		after = mallinfo2();
		rates[r] = (double)w->samples / (t1 - t0);
		if(bytes_per_series != NULL)
			*bytes_per_series = (double)(after.uordblks - before.uordblks) / (double)w->series;
		ea_engine_free(e);
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp_double);
	return rates[RUNS / 2];
}

static ea_config *config_of(const char *chain_yaml)
{
	char yaml[1024];
	ea_config_error err;
	ea_config *cfg;

	snprintf(yaml, sizeof(yaml), "default_chain: %s\n", chain_yaml);
	cfg = ea_config_load_string(yaml, strlen(yaml), "bench", &err);
	if(cfg == NULL) fprintf(stderr, "bench-engine: %s\n", err.message);
	return cfg;
}

/* A detector alone, with the parameters it requires. */
static const char *alone(const char *name, char *buf, size_t len)
{
	if(strcmp(name, "range") == 0) snprintf(buf, len, "[{range: {min: 0, max: 100}}]");
	else if(strcmp(name, "rate") == 0) snprintf(buf, len, "[{rate: {max_rate: 1000}}]");
	else snprintf(buf, len, "[%s]", name);
	return buf;
}

static const char *chain_names(const ea_chain *chain, bool with_auto, char *buf, size_t len)
{
	size_t i;
	snprintf(buf, len, "[");
	for(i = 0; i < chain->count; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", chain->items[i].type->name);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s]", with_auto ? ", auto" : "");
	return buf;
}

int main(int argc, char **argv)
{
	size_t series = 1000, samples = 2000000, i;
	const char *json_path = "build/bench-engine.json";
	const ea_detector_type *const *b = ea_detector_builtins();
	struct workload w = { 0 };
	ea_config *defaults, *cfg;
	char chain[512], buf[256];
	double rate, bytes, default_rate = 0, auto_rate = 0, default_bytes = 0, default_bound = 0;
	double with_auto_bytes = 0, with_auto_bound = 0, message_rate = 0;
	FILE *json;
	int a;

	for(a = 1; a < argc; a++){
		if(strcmp(argv[a], "--series") == 0 && a + 1 < argc) series = strtoul(argv[++a], NULL, 10);
		else if(strcmp(argv[a], "--samples") == 0 && a + 1 < argc) samples = strtoul(argv[++a], NULL, 10);
		else if(strcmp(argv[a], "--json") == 0 && a + 1 < argc) json_path = argv[++a];
		else{
			fprintf(stderr, "usage: bench-engine [--series N] [--samples N] [--json OUT]\n");
			return 2;
		}
	}
	if(series == 0 || samples < series){
		fprintf(stderr, "bench-engine: need --samples >= --series > 0\n");
		return 2;
	}
	workload_build(&w, series, samples);
	json = fopen(json_path, "w");
	if(json != NULL) fprintf(json, "{\"series\": %zu, \"samples\": %zu, \"detectors\": {", series, samples);

	printf("engine, one core: %zu series, %zu samples, median of %d runs (thread CPU time)\n\n", series, samples, RUNS);
	printf("%-28s %14s %12s %12s\n", "chain", "samples/s", "heap B/ser", "state B");
	for(i = 0; b[i] != NULL; i++){
		ea_params p;
		cfg = config_of(alone(b[i]->name, buf, sizeof(buf)));
		if(cfg == NULL) continue;
		rate = run_samples(cfg, &w, false, &bytes);
		ea_params_defaults(b[i], &p);
		printf("%-28s %14.0f %12.0f %12zu\n", b[i]->name, rate, bytes, ea_detector_state_size(b[i], &p));
		if(json != NULL) fprintf(json, "%s\"%s\": {\"samples_per_s\": %.0f, \"state_bytes\": %zu}", i ? ", " : "",
				b[i]->name, rate, ea_detector_state_size(b[i], &p));
		if(strcmp(b[i]->name, "auto") == 0) auto_rate = rate;
		ea_config_free(cfg);
	}
	{
		ea_config_error err;
		defaults = ea_config_load_string("", 0, "defaults", &err);
		if(defaults == NULL){
			fprintf(stderr, "bench-engine: %s\n", err.message);
			return 1;
		}
	}
	cfg = config_of(chain_names(&defaults->default_chain, false, chain, sizeof(chain)));
	default_rate = run_samples(cfg, &w, false, &default_bytes);
	default_bound = (double)ea_engine_series_bytes_max(&cfg->default_chain);
	printf("%-28s %14.0f %12.0f %12s  (bound %.0f B per series)\n", "default chain", default_rate, default_bytes, "",
			default_bound);
	workload_payloads(&w);
	message_rate = run_samples(cfg, &w, true, NULL);
	printf("%-28s %14.0f %12s %12s\n", "default chain, whole messages", message_rate, "", "");
	ea_config_free(cfg);
	cfg = config_of(chain_names(&defaults->default_chain, true, chain, sizeof(chain)));
	rate = run_samples(cfg, &w, false, &with_auto_bytes);
	with_auto_bound = (double)ea_engine_series_bytes_max(&cfg->default_chain);
	printf("%-28s %14.0f %12.0f %12s  (bound %.0f B per series)\n", "default chain + auto", rate, with_auto_bytes, "",
			with_auto_bound);
	ea_config_free(cfg);
	ea_config_free(defaults);

	printf("\ntargets: default chain %.2fx of 2,000,000/s; auto %.2fx of 500,000/s; "
			"%.0f B per series with the default chain (%.0f with auto) against 1,024\n",
			default_rate / 2e6, auto_rate / 5e5, default_bytes, with_auto_bytes);
	printf("parse share: a whole message costs %.0f ns, the engine part %.0f ns\n", 1e9 / message_rate, 1e9 / default_rate);
	if(json != NULL){
		fprintf(json, "}, \"default_chain\": {\"samples_per_s\": %.0f, \"heap_bytes_per_series\": %.0f, "
				"\"bound_bytes_per_series\": %.0f, \"messages_per_s\": %.0f}, "
				"\"default_chain_with_auto\": {\"heap_bytes_per_series\": %.0f, \"bound_bytes_per_series\": %.0f}}\n",
				default_rate, default_bytes, default_bound, message_rate, with_auto_bytes, with_auto_bound);
		fclose(json);
	}
	workload_free(&w);
	return 0;
}
