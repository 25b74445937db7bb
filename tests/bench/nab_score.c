/* SPDX-License-Identifier: Apache-2.0
 *
 * nab_score.c - the NAB scorer described in nab_score.h.
 */
#include "nab_score.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const nab_profile nab_profiles[3] = {
	{ "standard", 1.0, 0.11, 1.0 },
	{ "reward_low_FP_rate", 1.0, 0.22, 1.0 },
	{ "reward_low_FN_rate", 1.0, 0.11, 2.0 },
};

/* Per-row weights, independent of the profile: the scaled sigmoid and the
 * window the row belongs to (or OUTSIDE, or PROBATION). */
#define ROW_OUTSIDE (-1)
#define ROW_PROBATION (-2)

struct nab_rows_extra {
	double *sigmoid;  /* scaled sigmoid (in a window: already / maxTP) */
	int32_t *window;  /* window index within the file, or ROW_* */
};

static double scaled_sigmoid(double x)
{
	if(x >= 3.0) return -1.0;
	return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

int nab_parse_time(const char *text, int64_t *out_ms)
{
	struct tm tm;
	int y, mo, d, h, mi, n = 0;
	double sec;

	memset(&tm, 0, sizeof(tm));
	if(sscanf(text, "%d-%d-%d %d:%d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = 0;
	*out_ms = (int64_t)timegm(&tm) * 1000 + (int64_t)llround(sec * 1000.0);
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if(f == NULL) return NULL;
	for(;;){
		size_t got;
		if(cap - n < 65536){
			char *grown;
			cap = cap ? cap * 2 : 1 << 20;
			grown = realloc(buf, cap + 1);
			if(grown == NULL){ free(buf); fclose(f); return NULL; }
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if(got == 0) break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int load_csv(nab_file *file, const char *path, char *err, size_t err_len)
{
	size_t len, cap = 0, line = 1;
	char *text = read_all(path, &len), *p, *save = NULL;

	if(text == NULL){
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	p = strtok_r(text, "\n", &save); /* header */
	while((p = strtok_r(NULL, "\n", &save)) != NULL){
		char *comma = strchr(p, ',');
		line++;
		if(comma == NULL) continue;
		*comma = '\0';
		if(file->rows == cap){
			cap = cap ? cap * 2 : 4096;
			file->time_ms = realloc(file->time_ms, cap * sizeof(*file->time_ms));
			file->value = realloc(file->value, cap * sizeof(*file->value));
			if(file->time_ms == NULL || file->value == NULL){
				snprintf(err, err_len, "out of memory");
				free(text);
				return -1;
			}
		}
		if(nab_parse_time(p, &file->time_ms[file->rows]) != 0){
			snprintf(err, err_len, "%s:%zu: bad timestamp '%s'", path, line, p);
			free(text);
			return -1;
		}
		file->value[file->rows] = strtod(comma + 1, NULL);
		file->rows++;
	}
	free(text);
	return 0;
}

static size_t first_at_or_after(const nab_file *f, int64_t t)
{
	size_t i;
	for(i = 0; i < f->rows; i++) if(f->time_ms[i] >= t) return i;
	return f->rows;
}

static size_t last_at_or_before(const nab_file *f, int64_t t)
{
	size_t i = f->rows;
	while(i > 0){
		i--;
		if(f->time_ms[i] <= t) return i;
	}
	return 0;
}

nab_corpus *nab_corpus_load(const char *data_dir, const char *labels_path,
		char *err, size_t err_len)
{
	size_t len;
	char *json = read_all(labels_path, &len);
	cJSON *root, *item;
	nab_corpus *c;

	if(json == NULL){
		snprintf(err, err_len, "%s: %s", labels_path, strerror(errno));
		return NULL;
	}
	root = cJSON_ParseWithLength(json, len);
	free(json);
	if(!cJSON_IsObject(root)){
		snprintf(err, err_len, "%s: not a JSON object of windows", labels_path);
		cJSON_Delete(root);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	c->files = calloc((size_t)cJSON_GetArraySize(root), sizeof(*c->files));
	cJSON_ArrayForEach(item, root){
		nab_file *f = &c->files[c->file_count++];
		char path[4096];
		cJSON *w;
		size_t k = 0;

		f->name = strdup(item->string);
		snprintf(path, sizeof(path), "%s/%s", data_dir, item->string);
		if(load_csv(f, path, err, err_len) != 0){
			cJSON_Delete(root);
			nab_corpus_free(c);
			return NULL;
		}
		f->probation = (size_t)fmin(floor(0.15 * (double)f->rows), 0.15 * 5000);
		f->window_count = (size_t)cJSON_GetArraySize(item);
		f->windows = calloc(f->window_count + 1, sizeof(*f->windows));
		cJSON_ArrayForEach(w, item){
			int64_t a, b;
			cJSON *wa = cJSON_GetArrayItem(w, 0), *wb = cJSON_GetArrayItem(w, 1);
			if(!cJSON_IsString(wa) || !cJSON_IsString(wb) || nab_parse_time(wa->valuestring, &a) != 0
					|| nab_parse_time(wb->valuestring, &b) != 0){
				snprintf(err, err_len, "%s: window %zu of %s is not two timestamps", labels_path, k, f->name);
				cJSON_Delete(root);
				nab_corpus_free(c);
				return NULL;
			}
			f->windows[k].left = first_at_or_after(f, a);
			f->windows[k].right = last_at_or_before(f, b);
			k++;
		}
		c->window_count += f->window_count;
	}
	cJSON_Delete(root);
	return c;
}

void nab_corpus_free(nab_corpus *c)
{
	size_t i;
	if(c == NULL) return;
	for(i = 0; i < c->file_count; i++){
		free(c->files[i].name);
		free(c->files[i].time_ms);
		free(c->files[i].value);
		free(c->files[i].windows);
	}
	free(c->files);
	free(c);
}

/* Fills the per-row sigmoid and window of one file. */
static void file_rows(const nab_file *f, double *sig, int32_t *win)
{
	const double max_tp = scaled_sigmoid(-1.0);
	size_t i, w = 0;
	bool in = false;
	long prev_right = -1;
	double prev_width = 0;

	for(i = 0; i < f->rows; i++){
		if(!in && w < f->window_count && i == f->windows[w].left) in = true;
		if(in){
			const nab_window *cw = &f->windows[w];
			double width = (double)(cw->right - cw->left + 1);
			sig[i] = scaled_sigmoid(-((double)cw->right - (double)i + 1.0) / width) / max_tp;
			win[i] = (int32_t)w;
			if(i == cw->right){
				in = false;
				prev_right = (long)i;
				prev_width = width;
				w++;
			}
		}else{
			double pos = prev_right < 0 ? 3.0 : fabs((double)prev_right - (double)i) / (prev_width - 1.0);
			sig[i] = scaled_sigmoid(pos);
			win[i] = ROW_OUTSIDE;
		}
		if(i < f->probation) win[i] = ROW_PROBATION;
	}
}

double nab_file_raw(const nab_file *f, const double *scores,
		const nab_profile *p, double threshold, size_t *tp, size_t *fp,
		size_t *fn)
{
	double *sig = malloc(f->rows * sizeof(*sig) + 1);
	int32_t *win = malloc(f->rows * sizeof(*win) + 1);
	double *best = malloc((f->window_count + 1) * sizeof(*best));
	bool *scored = calloc(f->window_count + 1, sizeof(*scored));
	double raw = 0;
	size_t i, w;

	file_rows(f, sig, win);
	for(w = 0; w < f->window_count; w++) best[w] = -p->fn_weight;
	for(i = 0; i < f->rows; i++){
		bool hit = scores[i] >= threshold;
		if(win[i] == ROW_PROBATION) continue;
		if(win[i] == ROW_OUTSIDE){
			if(hit){ raw += sig[i] * p->fp_weight; (*fp)++; }
		}else{
			scored[win[i]] = true;
			if(hit) best[win[i]] = fmax(best[win[i]], sig[i] * p->tp_weight);
		}
	}
	for(w = 0; w < f->window_count; w++){
		if(!scored[w]) continue;
		raw += best[w];
		if(best[w] > -p->fn_weight) (*tp)++; else (*fn)++;
	}
	free(sig);
	free(win);
	free(best);
	free(scored);
	return raw;
}

static double normalise(const nab_corpus *c, const nab_profile *p, double raw, size_t scored_windows)
{
	double null = -p->fn_weight * (double)scored_windows;
	double perfect = p->tp_weight * (double)c->window_count;
	return 100.0 * (raw - null) / (perfect - null);
}

nab_result nab_score_threshold(const nab_corpus *c, double *const *scores,
		const nab_profile *p, double threshold)
{
	nab_result r = { .threshold = threshold };
	size_t f;
	for(f = 0; f < c->file_count; f++)
		r.raw += nab_file_raw(&c->files[f], scores[f], p, threshold, &r.tp, &r.fp, &r.fn);
	r.normalised = normalise(c, p, r.raw, r.tp + r.fn);
	return r;
}

struct sweep_row {
	double score;
	double sig;
	int32_t window; /* corpus-wide window index, or ROW_OUTSIDE */
};

static int by_score_desc(const void *a, const void *b)
{
	double x = ((const struct sweep_row *)a)->score, y = ((const struct sweep_row *)b)->score;
	return (x < y) - (x > y);
}

nab_result nab_score_best(const nab_corpus *c, double *const *scores,
		const nab_profile *p)
{
	size_t total = 0, n = 0, f, i, base = 0, scored_windows = 0;
	struct sweep_row *rows;
	double *best, window_part = 0, fp_part = 0, best_total;
	bool *scored;
	nab_result r = { .threshold = INFINITY };

	for(f = 0; f < c->file_count; f++) total += c->files[f].rows;
	rows = malloc(total * sizeof(*rows) + 1);
	best = malloc((c->window_count + 1) * sizeof(*best));
	scored = calloc(c->window_count + 1, sizeof(*scored));
	for(f = 0; f < c->file_count; f++){
		const nab_file *nf = &c->files[f];
		double *sig = malloc(nf->rows * sizeof(*sig) + 1);
		int32_t *win = malloc(nf->rows * sizeof(*win) + 1);
		file_rows(nf, sig, win);
		for(i = 0; i < nf->rows; i++){
			if(win[i] == ROW_PROBATION) continue;
			rows[n].score = isnan(scores[f][i]) ? 0.0 : scores[f][i];
			rows[n].sig = sig[i];
			rows[n].window = win[i] == ROW_OUTSIDE ? ROW_OUTSIDE : (int32_t)base + win[i];
			if(win[i] != ROW_OUTSIDE) scored[base + (size_t)win[i]] = true;
			n++;
		}
		base += nf->window_count;
		free(sig);
		free(win);
	}
	for(i = 0; i < c->window_count; i++){
		best[i] = -p->fn_weight;
		if(scored[i]){ window_part -= p->fn_weight; scored_windows++; }
	}
	qsort(rows, n, sizeof(*rows), by_score_desc);
	best_total = window_part; /* never fires */
	for(i = 0; i < n;){
		double s = rows[i].score;
		for(; i < n && rows[i].score == s; i++){
			if(rows[i].window == ROW_OUTSIDE){
				fp_part += rows[i].sig * p->fp_weight;
			}else{
				double v = rows[i].sig * p->tp_weight;
				if(v > best[rows[i].window]){
					window_part += v - best[rows[i].window];
					best[rows[i].window] = v;
				}
			}
		}
		if(window_part + fp_part > best_total){
			best_total = window_part + fp_part;
			r.threshold = s;
		}
	}
	free(rows);
	free(best);
	free(scored);
	(void)scored_windows;
	if(isinf(r.threshold)) r.threshold = 1.1;
	return nab_score_threshold(c, scores, p, r.threshold);
}
