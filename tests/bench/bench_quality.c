/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_quality.c - detection quality on the Numenta Anomaly Benchmark.
 *
 *   bench-quality [--detector auto] [--param name=value]... [--data DIR]
 *                 [--labels FILE] [--per-file] [--json OUT]
 *                 [--sweep PARAM=FROM:TO:STEP] [--subset odd|even]
 *
 * Runs one detector, alone and streaming (no look-ahead: it sees each row
 * once, in order, with its timestamp), over every NAB file and scores it
 * with nab_score.c:
 * - tuned: for each profile one threshold on the detector's score, chosen
 *   over the whole corpus (as the published detectors did);
 * - untuned: the detector's own decision: a detection is a row where the
 *   detector raises (its verdict turns to ANOMALY), which is when a result
 *   reaches the operator.
 * Exit status 0; the numbers are the output.
 */
#include "ea_detector.h"
#include "nab_score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void)
{
	fprintf(stderr, "usage: bench-quality [--detector NAME] [--param NAME=VALUE]... [--data DIR]\n"
			"                     [--labels FILE] [--per-file] [--json OUT]\n"
			"                     [--sweep PARAM=FROM:TO:STEP] [--subset odd|even]\n");
}

/* Runs the detector over one file: tuned[i] its score, raised[i] 1 where it
 * raises. Returns the CPU seconds spent in the detector. */
static double run_file(const ea_detector_type *type, const ea_params *params,
		const nab_file *f, double *tuned, double *raised)
{
	size_t size = ea_detector_state_size(type, params), i;
	void *state = calloc(1, size ? size : 1);
	bool was_anomaly = false;
	struct timespec a, b;
	ea_verdict v;
	char text[64];

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for(i = 0; i < f->rows; i++){
		ea_sample s;
		memset(&s, 0, sizeof(s));
		s.ns = "nab";
		s.device = f->name;
		s.property = "value";
		snprintf(text, sizeof(text), "%.15g", f->value[i]);
		ea_sample_classify(&s, text, EA_TYPE_NONE);
		s.time_ms = f->time_ms[i];
		s.arrival_ms = f->time_ms[i];
		s.source = EA_SOURCE_REPLAY;
		memset(&v, 0, sizeof(v));
		v.explain_normal = false;
		type->observe(params, state, &s, &v);
		tuned[i] = v.state == EA_VERDICT_SKIP ? 0.0 : v.score;
		raised[i] = v.state == EA_VERDICT_ANOMALY && !was_anomaly ? 1.0 : 0.0;
		if(v.state != EA_VERDICT_SKIP) was_anomaly = v.state == EA_VERDICT_ANOMALY;
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	free(state);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	const char *detector = "auto", *data = "/work/shared/nab/data";
	const char *labels = "/work/shared/nab/labels/combined_windows.json", *json_path = NULL;
	const char *param_args[64];
	size_t param_count = 0, f, total_rows = 0;
	bool per_file = false;
	const char *sweep = NULL; /* "name=from:to:step" */
	const char *subset = NULL; /* "odd" or "even": every other file, for a split-half check */
	const ea_detector_type *type;
	ea_params params;
	nab_corpus *corpus;
	double **tuned, **raised, cpu = 0;
	char err[512];
	nab_result best[3], own[3];
	int i;
	FILE *json = NULL;

	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "--detector") == 0 && i + 1 < argc) detector = argv[++i];
		else if(strcmp(argv[i], "--param") == 0 && i + 1 < argc && param_count < 64) param_args[param_count++] = argv[++i];
		else if(strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
		else if(strcmp(argv[i], "--labels") == 0 && i + 1 < argc) labels = argv[++i];
		else if(strcmp(argv[i], "--json") == 0 && i + 1 < argc) json_path = argv[++i];
		else if(strcmp(argv[i], "--per-file") == 0) per_file = true;
		else if(strcmp(argv[i], "--sweep") == 0 && i + 1 < argc) sweep = argv[++i];
		else if(strcmp(argv[i], "--subset") == 0 && i + 1 < argc) subset = argv[++i];
		else { usage(); return 2; }
	}
	type = ea_detector_find(detector);
	if(type == NULL){
		fprintf(stderr, "bench-quality: no detector called '%s'\n", detector);
		return 2;
	}
	ea_params_defaults(type, &params);
	for(f = 0; f < param_count; f++){
		char name[64];
		const char *eq = strchr(param_args[f], '=');
		int idx;
		if(eq == NULL || (size_t)(eq - param_args[f]) >= sizeof(name)){
			fprintf(stderr, "bench-quality: --param wants NAME=VALUE, not '%s'\n", param_args[f]);
			return 2;
		}
		memcpy(name, param_args[f], (size_t)(eq - param_args[f]));
		name[eq - param_args[f]] = '\0';
		idx = ea_param_index(type, name);
		if(idx < 0 || !ea_param_set(type, &params, idx, eq + 1, err, sizeof(err))){
			fprintf(stderr, "bench-quality: --param %s: %s\n", param_args[f], idx < 0 ? "no such parameter" : err);
			return 2;
		}
	}
	if(type->validate != NULL && !type->validate(&params, err, sizeof(err))){
		fprintf(stderr, "bench-quality: %s\n", err);
		return 2;
	}
	corpus = nab_corpus_load(data, labels, err, sizeof(err));
	if(corpus == NULL){
		fprintf(stderr, "bench-quality: %s\n", err);
		return 1;
	}
	if(subset != NULL){
		size_t keep = 0, parity = strcmp(subset, "odd") == 0 ? 1 : 0;
		nab_corpus *rest = calloc(1, sizeof(*rest));
		rest->files = calloc(corpus->file_count, sizeof(*rest->files));
		corpus->window_count = 0;
		for(f = 0; f < corpus->file_count; f++){
			if(f % 2 == parity){
				corpus->files[keep++] = corpus->files[f];
				corpus->window_count += corpus->files[f].window_count;
			}else{
				rest->files[rest->file_count++] = corpus->files[f];
			}
		}
		corpus->file_count = keep;
		nab_corpus_free(rest);
	}
	tuned = calloc(corpus->file_count, sizeof(*tuned));
	raised = calloc(corpus->file_count, sizeof(*raised));
	for(f = 0; f < corpus->file_count; f++){
		const nab_file *nf = &corpus->files[f];
		tuned[f] = malloc(nf->rows * sizeof(double) + 1);
		raised[f] = malloc(nf->rows * sizeof(double) + 1);
		cpu += run_file(type, &params, nf, tuned[f], raised[f]);
		total_rows += nf->rows;
	}
	printf("NAB: %zu files, %zu rows, %zu windows; detector '%s' took %.3f s CPU (%.0f rows/s)\n",
			corpus->file_count, total_rows, corpus->window_count, detector, cpu, (double)total_rows / cpu);
	printf("%-20s %10s %10s %6s %6s %6s   %10s %6s %6s %6s\n", "profile", "tuned", "threshold", "TP", "FP", "FN",
			"own", "TP", "FP", "FN");
	for(i = 0; i < 3; i++){
		best[i] = nab_score_best(corpus, tuned, &nab_profiles[i]);
		own[i] = nab_score_threshold(corpus, raised, &nab_profiles[i], 0.5);
		printf("%-20s %10.1f %10.4f %6zu %6zu %6zu   %10.1f %6zu %6zu %6zu\n", nab_profiles[i].name,
				best[i].normalised, best[i].threshold, best[i].tp, best[i].fp, best[i].fn,
				own[i].normalised, own[i].tp, own[i].fp, own[i].fn);
	}
	if(sweep != NULL){
		char name[64];
		double from, to, step, x;
		int idx;
		nab_result sb[3];
		if(sscanf(sweep, "%63[^=]=%lf:%lf:%lf", name, &from, &to, &step) != 4 || step <= 0
				|| (idx = ea_param_index(type, name)) < 0){
			fprintf(stderr, "bench-quality: --sweep wants PARAM=FROM:TO:STEP with a parameter of %s\n", detector);
			return 2;
		}
		for(i = 0; i < 3; i++) sb[i].normalised = -INFINITY;
		for(x = from; x <= to + step / 2; x += step){
			ea_params q = params;
			q.v[idx] = x;
			for(f = 0; f < corpus->file_count; f++) run_file(type, &q, &corpus->files[f], tuned[f], raised[f]);
			for(i = 0; i < 3; i++){
				nab_result r = nab_score_threshold(corpus, raised, &nab_profiles[i], 0.5);
				if(r.normalised > sb[i].normalised){ sb[i] = r; sb[i].threshold = x; }
			}
		}
		printf("swept %s from %g to %g: best per profile (the detector's own decision):\n", name, from, to);
		for(i = 0; i < 3; i++)
			printf("%-20s %10.1f %10.4f %6zu %6zu %6zu\n", nab_profiles[i].name, sb[i].normalised,
					sb[i].threshold, sb[i].tp, sb[i].fp, sb[i].fn);
	}
	if(per_file){
		printf("\nper file, standard profile at the tuned threshold %.4f:\n", best[0].threshold);
		for(f = 0; f < corpus->file_count; f++){
			size_t tp = 0, fp = 0, fn = 0, tp2 = 0, fp2 = 0, fn2 = 0;
			double raw = nab_file_raw(&corpus->files[f], tuned[f], &nab_profiles[0], best[0].threshold, &tp, &fp, &fn);
			double raw2 = nab_file_raw(&corpus->files[f], raised[f], &nab_profiles[0], 0.5, &tp2, &fp2, &fn2);
			printf("  %-58s raw %7.2f tp %zu fp %3zu fn %zu | own %7.2f tp %zu fp %3zu fn %zu\n", corpus->files[f].name,
					raw, tp, fp, fn, raw2, tp2, fp2, fn2);
		}
	}
	if(json_path != NULL && (json = fopen(json_path, "w")) != NULL){
		fprintf(json, "{\"detector\": \"%s\", \"rows\": %zu, \"cpu_seconds\": %.3f, \"profiles\": {", detector, total_rows, cpu);
		for(i = 0; i < 3; i++){
			fprintf(json, "%s\"%s\": {\"tuned\": %.2f, \"threshold\": %.6f, \"own\": %.2f}", i ? ", " : "",
					nab_profiles[i].name, best[i].normalised, best[i].threshold, own[i].normalised);
		}
		fprintf(json, "}}\n");
		fclose(json);
	}
	for(f = 0; f < corpus->file_count; f++){
		free(tuned[f]);
		free(raised[f]);
	}
	free(tuned);
	free(raised);
	nab_corpus_free(corpus);
	return 0;
}
