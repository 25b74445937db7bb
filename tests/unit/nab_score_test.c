/* SPDX-License-Identifier: Apache-2.0
 *
 * nab_score_test.c - the NAB scorer (tests/bench/nab_score.c) on small
 * corpora whose scores follow by hand from the published rules.
 */
#include "unit_tests.h"

#include "../bench/nab_score.h"

#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One file of `rows` rows, minute timestamps, one window [left, right]
 * (or none when left > right), probation rows not scored. The caller frees
 * the corpus with nab_corpus_free. */
static nab_corpus *corpus_of(size_t rows, size_t left, size_t right, size_t probation)
{
	nab_corpus *c = calloc(1, sizeof(*c));
	nab_file *f;
	size_t i;

	c->files = calloc(1, sizeof(*c->files));
	c->file_count = 1;
	f = &c->files[0];
	f->name = strdup("test.csv");
	f->rows = rows;
	f->time_ms = calloc(rows, sizeof(*f->time_ms));
	f->value = calloc(rows, sizeof(*f->value));
	for(i = 0; i < rows; i++) f->time_ms[i] = (int64_t)i * 60000;
	f->windows = calloc(1, sizeof(*f->windows));
	if(left <= right){
		f->windows[0].left = left;
		f->windows[0].right = right;
		f->window_count = 1;
	}
	f->probation = probation;
	c->window_count = f->window_count;
	return c;
}

static double sigmoid_score(double x)
{
	return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

static void test_never_and_perfect(void)
{
	nab_corpus *c = corpus_of(100, 40, 59, 10);
	double *scores = calloc(100, sizeof(double));
	double *const all[1] = { scores };
	nab_result r;

	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.normalised, 0.0, 1e-9);
	CU_ASSERT_EQUAL(r.fn, 1);
	scores[40] = 1.0; /* the window's first row */
	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.normalised, 100.0, 1e-9);
	CU_ASSERT_EQUAL(r.tp, 1);
	/* more detections later in the same window change nothing */
	scores[45] = scores[59] = 1.0;
	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.normalised, 100.0, 1e-9);
	free(scores);
	nab_corpus_free(c);
}

static void test_position_in_window(void)
{
	nab_corpus *c = corpus_of(100, 40, 59, 10);
	double *scores = calloc(100, sizeof(double));
	double *const all[1] = { scores };
	double expected;
	nab_result r;

	/* row 50: x = -(59 - 50 + 1) / 20 = -0.5, divided by the value at -1 */
	scores[50] = 1.0;
	expected = sigmoid_score(-0.5) / sigmoid_score(-1.0);
	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, expected, 1e-9);
	/* normalised: null -1, perfect +1 */
	CU_ASSERT_DOUBLE_EQUAL(r.normalised, 100.0 * (expected + 1.0) / 2.0, 1e-9);
	free(scores);
	nab_corpus_free(c);
}

static void test_false_positives(void)
{
	nab_corpus *c = corpus_of(100, 40, 59, 10);
	double *scores = calloc(100, sizeof(double));
	double *const all[1] = { scores };
	nab_result r;

	/* before the first window: -1 x fp_weight; in probation: not scored */
	scores[5] = 1.0;
	scores[20] = 1.0;
	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, -1.0 - 0.11, 1e-9);
	CU_ASSERT_EQUAL(r.fp, 1);
	r = nab_score_threshold(c, all, &nab_profiles[1], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, -1.0 - 0.22, 1e-9);
	r = nab_score_threshold(c, all, &nab_profiles[2], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, -2.0 - 0.11, 1e-9);
	/* after the window: the sigmoid of the distance in widths - 1 */
	scores[20] = 0.0;
	scores[5] = 0.0;
	scores[69] = 1.0;
	r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, -1.0 + 0.11 * sigmoid_score(10.0 / 19.0), 1e-9);
	free(scores);
	nab_corpus_free(c);
}

static void test_best_threshold(void)
{
	nab_corpus *c = corpus_of(200, 100, 119, 10);
	double *scores = calloc(200, sizeof(double));
	double *const all[1] = { scores };
	nab_result r;

	/* 0.9 at the window start, 0.5 on many rows outside it: the best
	 * threshold takes the first and none of the others */
	for(size_t i = 20; i < 90; i++) scores[i] = 0.5;
	scores[100] = 0.9;
	r = nab_score_best(c, all, &nab_profiles[0]);
	CU_ASSERT_DOUBLE_EQUAL(r.threshold, 0.9, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.normalised, 100.0, 1e-9);
	CU_ASSERT_EQUAL(r.fp, 0);
	free(scores);
	nab_corpus_free(c);
}

static void test_probation_window(void)
{
	/* a window entirely inside the probationary period is not scored,
	 * but still counts in the perfect score (as in NAB) */
	nab_corpus *c = corpus_of(100, 2, 5, 10);
	double *scores = calloc(100, sizeof(double));
	double *const all[1] = { scores };
	nab_result r = nab_score_threshold(c, all, &nab_profiles[0], 0.5);

	CU_ASSERT_EQUAL(r.tp + r.fn, 0);
	CU_ASSERT_DOUBLE_EQUAL(r.raw, 0.0, 1e-12);
	free(scores);
	nab_corpus_free(c);
}

static void test_parse_time(void)
{
	int64_t t;
	CU_ASSERT_EQUAL(nab_parse_time("2014-04-10 07:15:00.000000", &t), 0);
	CU_ASSERT_EQUAL(t, 1397114100000LL);
	CU_ASSERT_EQUAL(nab_parse_time("1970-01-01 00:00:01", &t), 0);
	CU_ASSERT_EQUAL(t, 1000);
	CU_ASSERT_NOT_EQUAL(nab_parse_time("yesterday", &t), 0);
}

void init_nab_score_tests(void)
{
	CU_pSuite s = CU_add_suite("nab_score", NULL, NULL);
	CU_add_test(s, "never firing scores 0, the window start 100", test_never_and_perfect);
	CU_add_test(s, "a detection mid-window scores the scaled sigmoid", test_position_in_window);
	CU_add_test(s, "false positives cost fp_weight times the sigmoid", test_false_positives);
	CU_add_test(s, "the best threshold is found over all scores", test_best_threshold);
	CU_add_test(s, "windows in the probationary period are not scored", test_probation_window);
	CU_add_test(s, "NAB timestamps", test_parse_time);
}
