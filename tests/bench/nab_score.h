/* SPDX-License-Identifier: Apache-2.0
 *
 * nab_score.h - a scorer for the Numenta Anomaly Benchmark (NAB), written
 * from its published rules (see /work/shared/DESIGN.md, "Detection
 * quality"), so `make bench-quality` can report our detectors on the
 * three NAB profiles.
 *
 * The rules, as implemented here:
 * - Probationary period: the first min(floor(0.15 n), 750) rows of each
 *   file are not scored.
 * - Each labelled window is scored by its earliest detection: a scaled
 *   sigmoid of the detection's position, 2 sigmoid(-5 x) - 1 with
 *   x = -(right - i + 1) / width, divided by its value at x = -1 so the
 *   window's first row scores tp_weight. A window without a detection costs
 *   -fn_weight. Windows with no row after the probationary period are not
 *   scored (as in NAB).
 * - A detection outside every window costs fp_weight times the same
 *   sigmoid of its distance past the end of the previous window in window
 *   widths, |right - i| / (width - 1) (down to -1 from 3 widths on), or -1
 *   before the first window.
 * - A row is a detection when its score is at least the threshold. One
 *   threshold per profile is chosen over the whole corpus by trying every
 *   distinct score (NAB used a local search over the same function).
 * - Normalised score: 100 (raw - null) / (perfect - null), where null is
 *   the raw score of a detector that never fires (-fn_weight per scored
 *   window) and perfect is tp_weight times the number of labelled windows.
 *
 * Ownership: a nab_corpus owns its files, rows and windows; free it with
 * nab_corpus_free. Score arrays passed in are borrowed.
 */
#ifndef NAB_SCORE_H
#define NAB_SCORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct nab_profile {
	const char *name;
	double tp_weight;
	double fp_weight;
	double fn_weight;
} nab_profile;

/* standard, reward_low_FP_rate, reward_low_FN_rate */
extern const nab_profile nab_profiles[3];

typedef struct nab_window {
	size_t left, right; /* row indexes, inclusive */
} nab_window;

typedef struct nab_file {
	char *name;          /* "realKnownCause/nyc_taxi.csv" */
	size_t rows;
	int64_t *time_ms;    /* rows entries */
	double *value;       /* rows entries */
	nab_window *windows;
	size_t window_count;
	size_t probation;    /* rows not scored at the start */
} nab_file;

typedef struct nab_corpus {
	nab_file *files;
	size_t file_count;
	size_t window_count; /* all labelled windows */
} nab_corpus;

/* Loads every file named in the labels JSON (combined_windows.json) from
 * data_dir. Returns NULL and writes a message into err on failure. */
nab_corpus *nab_corpus_load(const char *data_dir, const char *labels_path,
		char *err, size_t err_len);
void nab_corpus_free(nab_corpus *corpus);

/* Parses "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) into ms since the epoch. */
int nab_parse_time(const char *text, int64_t *out_ms);

typedef struct nab_result {
	double threshold;
	double raw;        /* summed over the corpus */
	double normalised; /* 0 never fires, 100 perfect */
	size_t tp, fp, fn; /* windows detected, detections outside, windows missed */
} nab_result;

/* Score of the corpus for `scores` (scores[f][i]: row i of file f) at one
 * threshold. */
nab_result nab_score_threshold(const nab_corpus *corpus, double *const *scores,
		const nab_profile *profile, double threshold);

/* The best threshold over all distinct scores, and its result. */
nab_result nab_score_best(const nab_corpus *corpus, double *const *scores,
		const nab_profile *profile);

/* Raw score of one file at a threshold (for per-file reports). */
double nab_file_raw(const nab_file *file, const double *scores,
		const nab_profile *profile, double threshold, size_t *tp, size_t *fp,
		size_t *fn);

#endif
