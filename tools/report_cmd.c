/* SPDX-License-Identifier: Apache-2.0
 *
 * report_cmd.c - `edge-anomaly report`: one self-contained HTML file (inline
 * SVG, no script, no network) with a chart per series of the data mirror,
 * anomalies marked, and the list of anomalies with their reasons.
 *
 *   edge-anomaly report --db FILE [--namespace NS] [--device GLOB]
 *       [--group LABEL --config FILE] [--property GLOB] [--since T]
 *       [--until T] [--max-series N] --output report.html
 *
 * A series' samples are read in time order and kept at most MAX_POINTS at a
 * time: when full, every other point is dropped, except anomalous ones, so
 * memory stays bounded whatever the time range. Each chart: the values as a
 * line (class "series-line"), every anomalous sample as a red dot (class
 * "anomaly"), each raise as a red triangle above it (class "raise").
 *
 * Ownership: everything opened here is closed before returning.
 */
#include "cli.h"

#include "ea_config.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POINTS 4000
#define CHART_W 960
#define CHART_H 220
#define PAD_L 70
#define PAD_R 20
#define PAD_T 20
#define PAD_B 30

struct point {
	int64_t ts;
	double value;
	bool anomaly, raise;
};

struct series {
	char ns[257], device[257], property[257];
	struct point *pts; /* owned, MAX_POINTS */
	size_t n, stride, seen;
	uint64_t samples, anomalous;
};

static void html_text(FILE *out, const char *s)
{
	for(; *s != '\0'; s++){
		switch(*s){
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

static void add_point(struct series *s, int64_t ts, double v, bool anomaly, bool raise)
{
	s->samples++;
	if(anomaly) s->anomalous++;
	if(!anomaly && (s->seen++ % s->stride) != 0) return;
	if(s->n == MAX_POINTS){
		/* halve: keep every other normal point and every anomalous one */
		size_t i, k = 0;
		for(i = 0; i < s->n; i++) if(s->pts[i].anomaly || i % 2 == 0) s->pts[k++] = s->pts[i];
		s->n = k;
		s->stride *= 2;
		if(s->n == MAX_POINTS) return; /* all anomalous: the rest is not drawn */
	}
	s->pts[s->n++] = (struct point){ ts, v, anomaly, raise };
}

static void chart(FILE *out, const struct series *s, int index)
{
	double lo = INFINITY, hi = -INFINITY, x, y;
	int64_t t0, t1;
	size_t i;
	char a[40], b[40];

	for(i = 0; i < s->n; i++){
		lo = fmin(lo, s->pts[i].value);
		hi = fmax(hi, s->pts[i].value);
	}
	if(s->n == 0) return;
	if(hi <= lo){
		hi = lo + 1;
		lo = lo - 1;
	}
	t0 = s->pts[0].ts;
	t1 = s->pts[s->n - 1].ts > t0 ? s->pts[s->n - 1].ts : t0 + 1;
	fprintf(out, "<section class=\"chart\" id=\"series-%d\"><h2>", index);
	html_text(out, s->ns);
	fputs(" / ", out);
	html_text(out, s->device);
	fputs(" / ", out);
	html_text(out, s->property);
	fprintf(out, "</h2><p>%llu samples, %llu anomalous%s</p>\n", (unsigned long long)s->samples,
			(unsigned long long)s->anomalous, s->stride > 1 ? " (normal samples thinned for drawing)" : "");
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
			CHART_W, CHART_H, CHART_W, CHART_H);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", PAD_L, PAD_T,
			CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"11\">%.6g</text>", PAD_L - 4, PAD_T + 10, hi);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"11\">%.6g</text>\n", PAD_L - 4,
			CHART_H - PAD_B, lo);
	fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", PAD_L, CHART_H - 8, ea_format_time(t0, a, sizeof(a)));
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"11\">%s</text>\n", CHART_W - PAD_R, CHART_H - 8,
			ea_format_time(t1, b, sizeof(b)));
	fputs("<polyline class=\"series-line\" fill=\"none\" stroke=\"#2456a8\" stroke-width=\"1.2\" points=\"", out);
	for(i = 0; i < s->n; i++){
		x = PAD_L + (double)(s->pts[i].ts - t0) / (double)(t1 - t0) * (CHART_W - PAD_L - PAD_R);
		y = CHART_H - PAD_B - (s->pts[i].value - lo) / (hi - lo) * (CHART_H - PAD_T - PAD_B);
		fprintf(out, "%.1f,%.1f ", x, y);
	}
	fputs("\"/>\n", out);
	for(i = 0; i < s->n; i++){
		if(!s->pts[i].anomaly) continue;
		x = PAD_L + (double)(s->pts[i].ts - t0) / (double)(t1 - t0) * (CHART_W - PAD_L - PAD_R);
		y = CHART_H - PAD_B - (s->pts[i].value - lo) / (hi - lo) * (CHART_H - PAD_T - PAD_B);
		fprintf(out, "<circle class=\"anomaly\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#e0201b\"/>", x, y);
		if(s->pts[i].raise)
			fprintf(out, "<path class=\"raise\" d=\"M%.1f %.1f l-6 -10 h12 z\" fill=\"#e0201b\"/>", x, y - 7);
		fputc('\n', out);
	}
	fputs("</svg></section>\n", out);
}

int ea_cmd_report(int argc, char **argv)
{
	const char *db_path = NULL, *ns = NULL, *device = NULL, *group = NULL, *config = NULL, *property = NULL;
	const char *since_text = NULL, *until_text = NULL, *output = NULL;
	int64_t since = 0, until = 0;
	unsigned long max_series = 50;
	char sql[2048], tmp_path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *res = NULL;
	ea_config *cfg = NULL;
	struct series cur;
	FILE *out = NULL;
	int i, bind, rc = EA_EXIT_FAIL, charts = 0, fd;
	bool have = false, direct = false;
	struct stat target;
	uint64_t anomalies = 0;

	memset(&cur, 0, sizeof(cur));
	for(i = 1; i < argc; i++){
		const char **slot = NULL;
		if(strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0){
			printf("usage: %s report --db FILE [--namespace NS] [--device GLOB] [--group LABEL --config FILE]\n"
					"                    [--property GLOB] [--since T] [--until T] [--max-series N] --output report.html\n\n"
					"Writes one self-contained HTML file (inline SVG, no network): a chart per series of the\n"
					"data mirror with anomalies marked, and the anomalies with their reasons. Filters as in\n"
					"'%s export'; at most --max-series charts (default 50).\n", EA_CLI_NAME, EA_CLI_NAME);
			return EA_EXIT_OK;
		}
		if(strcmp(argv[i], "--db") == 0) slot = &db_path;
		else if(strcmp(argv[i], "--namespace") == 0) slot = &ns;
		else if(strcmp(argv[i], "--device") == 0) slot = &device;
		else if(strcmp(argv[i], "--group") == 0) slot = &group;
		else if(strcmp(argv[i], "--config") == 0) slot = &config;
		else if(strcmp(argv[i], "--property") == 0) slot = &property;
		else if(strcmp(argv[i], "--since") == 0) slot = &since_text;
		else if(strcmp(argv[i], "--until") == 0) slot = &until_text;
		else if(strcmp(argv[i], "--output") == 0) slot = &output;
		else if(strcmp(argv[i], "--max-series") == 0 && i + 1 < argc){
			char *end;
			max_series = strtoul(argv[++i], &end, 10);
			if(*end != '\0' || max_series == 0 || max_series > 10000){
				fprintf(stderr, "%s report: --max-series wants 1..10000\n", EA_CLI_NAME);
				return EA_EXIT_USAGE;
			}
			continue;
		}
		if(slot == NULL || i + 1 >= argc){
			fprintf(stderr, "%s report: unknown or incomplete option '%s' (see '%s help report')\n", EA_CLI_NAME, argv[i],
					EA_CLI_NAME);
			return EA_EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	if(db_path == NULL || output == NULL){
		fprintf(stderr, "%s report: --db FILE and --output FILE are required\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	if((since_text != NULL && !ea_parse_timestamp(since_text, &since)) || (until_text != NULL && !ea_parse_timestamp(until_text, &until))){
		fprintf(stderr, "%s report: bad time (expected 'YYYY-MM-DD HH:MM:SS', RFC 3339 or epoch seconds/ms)\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	if(group != NULL){
		ea_config_error cerr;
		if(config == NULL){
			fprintf(stderr, "%s report: --group needs --config FILE\n", EA_CLI_NAME);
			return EA_EXIT_USAGE;
		}
		if((cfg = ea_config_load_file(config, &cerr)) == NULL){
			fprintf(stderr, "%s report: %s\n", EA_CLI_NAME, cerr.message);
			return EA_EXIT_FAIL;
		}
	}
	if(access(db_path, R_OK) != 0 || sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK){
		fprintf(stderr, "%s report: cannot read %s: %s\n", EA_CLI_NAME, db_path, db ? sqlite3_errmsg(db) : strerror(errno));
		goto done;
	}
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql),
			"SELECT s.ns, s.device, s.property, s.ts, s.num,"
			" EXISTS(SELECT 1 FROM results r WHERE r.ns = s.ns AND r.device = s.device AND r.property = s.property"
			"  AND r.ts <= s.ts AND r.anomaly = 1 AND NOT EXISTS (SELECT 1 FROM results c WHERE c.ns = r.ns"
			"  AND c.device = r.device AND c.property = r.property AND c.detector = r.detector AND c.anomaly = 0"
			"  AND c.ts >= r.ts AND c.rowid > r.rowid AND c.ts <= s.ts)),"
			" EXISTS(SELECT 1 FROM results r WHERE r.ns = s.ns AND r.device = s.device AND r.property = s.property"
			"  AND r.ts = s.ts AND r.anomaly = 1)"
			" FROM samples s WHERE s.num IS NOT NULL%s%s%s%s%s ORDER BY s.ns, s.device, s.property, s.ts, s.rowid",
			ns ? " AND s.ns = ?" : "", device ? " AND s.device GLOB ?" : "", property ? " AND s.property GLOB ?" : "",
			since_text ? " AND s.ts >= ?" : "", until_text ? " AND s.ts < ?" : "");
	if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK){
		fprintf(stderr, "%s report: %s is not an edge-anomaly mirror database: %s\n", EA_CLI_NAME, db_path, sqlite3_errmsg(db));
		goto done;
	}
	bind = 1;
	if(ns) sqlite3_bind_text(st, bind++, ns, -1, SQLITE_STATIC);
	if(device) sqlite3_bind_text(st, bind++, device, -1, SQLITE_STATIC);
	if(property) sqlite3_bind_text(st, bind++, property, -1, SQLITE_STATIC);
	if(since_text) sqlite3_bind_int64(st, bind++, since);
	if(until_text) sqlite3_bind_int64(st, bind++, until);

	if(stat(output, &target) == 0 && !S_ISREG(target.st_mode)){
		/* a device or a pipe: write to it directly, never rename over it */
		direct = true;
		out = fopen(output, "w");
		if(out == NULL){
			fprintf(stderr, "%s report: cannot write %s: %s\n", EA_CLI_NAME, output, strerror(errno));
			goto done;
		}
	}else{
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmpXXXXXX", output);
	fd = mkstemp(tmp_path);
	if(fd >= 0) ea_cli_share_like_a_new_file(fd);
	if(fd < 0 || (out = fdopen(fd, "w")) == NULL){
		fprintf(stderr, "%s report: cannot write %s: %s\n", EA_CLI_NAME, output, strerror(errno));
		if(fd >= 0){
			close(fd);
			unlink(tmp_path);
		}
		goto done;
	}
	}
	cur.pts = malloc(MAX_POINTS * sizeof(*cur.pts));
	if(cur.pts == NULL) goto done;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>edge-anomaly report</title>\n"
			"<style>body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:22px}h2{font-size:15px;margin:18px 0 2px}"
			"p{margin:2px 0 6px;color:#555;font-size:13px}table{border-collapse:collapse;font-size:13px}"
			"td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f0f0f0}</style></head><body>\n"
			"<h1>edge-anomaly report</h1>\n", out);
	fputs("<p>From the data mirror ", out);
	html_text(out, db_path);
	fputs(". Red dots: samples while an alert was raised; red triangles: where it was raised.</p>\n", out);
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		const char *rns = (const char *)sqlite3_column_text(st, 0);
		const char *rdev = (const char *)sqlite3_column_text(st, 1);
		const char *rprop = (const char *)sqlite3_column_text(st, 2);
		if(rns == NULL || rdev == NULL || rprop == NULL) continue;
		if(cfg != NULL && !ea_config_device_in_group(cfg, group, rns, rdev)) continue;
		if(!have || strcmp(rns, cur.ns) != 0 || strcmp(rdev, cur.device) != 0 || strcmp(rprop, cur.property) != 0){
			if(have && (unsigned long)charts < max_series) chart(out, &cur, charts++);
			snprintf(cur.ns, sizeof(cur.ns), "%s", rns);
			snprintf(cur.device, sizeof(cur.device), "%s", rdev);
			snprintf(cur.property, sizeof(cur.property), "%s", rprop);
			cur.n = 0;
			cur.stride = 1;
			cur.seen = cur.samples = cur.anomalous = 0;
			have = true;
		}
		add_point(&cur, sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4), sqlite3_column_int(st, 5) != 0,
				sqlite3_column_int(st, 6) != 0);
	}
	if(have && (unsigned long)charts < max_series) chart(out, &cur, charts++);
	if(rc != SQLITE_DONE){
		fprintf(stderr, "%s report: reading %s: %s\n", EA_CLI_NAME, db_path, sqlite3_errmsg(db));
		rc = EA_EXIT_FAIL;
		goto done;
	}
	if(!have) fputs("<p class=\"empty\">No numeric samples match the filters.</p>\n", out);

	/* the anomalies, with their reasons */
	snprintf(sql, sizeof(sql), "SELECT ts, ns, device, property, detector, kind, score, value, reason, detected_at"
			" FROM results WHERE anomaly = 1%s%s%s%s%s ORDER BY ts, rowid LIMIT 10000",
			ns ? " AND ns = ?" : "", device ? " AND device GLOB ?" : "", property ? " AND property GLOB ?" : "",
			since_text ? " AND ts >= ?" : "", until_text ? " AND ts < ?" : "");
	if(sqlite3_prepare_v2(db, sql, -1, &res, NULL) != SQLITE_OK){
		fprintf(stderr, "%s report: %s: %s\n", EA_CLI_NAME, db_path, sqlite3_errmsg(db));
		rc = EA_EXIT_FAIL;
		goto done;
	}
	bind = 1;
	if(ns) sqlite3_bind_text(res, bind++, ns, -1, SQLITE_STATIC);
	if(device) sqlite3_bind_text(res, bind++, device, -1, SQLITE_STATIC);
	if(property) sqlite3_bind_text(res, bind++, property, -1, SQLITE_STATIC);
	if(since_text) sqlite3_bind_int64(res, bind++, since);
	if(until_text) sqlite3_bind_int64(res, bind++, until);
	fputs("<h2>Anomalies</h2>\n<table id=\"anomalies\"><tr><th>sample time</th><th>namespace</th><th>device</th>"
			"<th>property</th><th>detector</th><th>kind</th><th>score</th><th>value</th><th>reason</th></tr>\n", out);
	while(sqlite3_step(res) == SQLITE_ROW){
		char when[40];
		int c;
		const char *rns = (const char *)sqlite3_column_text(res, 1), *rdev = (const char *)sqlite3_column_text(res, 2);
		if(cfg != NULL && (rns == NULL || rdev == NULL || !ea_config_device_in_group(cfg, group, rns, rdev))) continue;
		fprintf(out, "<tr class=\"anomaly-row\"><td>%s</td>", ea_format_time(sqlite3_column_int64(res, 0), when, sizeof(when)));
		for(c = 1; c <= 8; c++){
			const char *text = (const char *)sqlite3_column_text(res, c);
			fputs("<td>", out);
			if(c == 6) fprintf(out, "%.2f", sqlite3_column_double(res, c));
			else html_text(out, text != NULL ? text : "");
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
		anomalies++;
	}
	fputs("</table>\n</body></html>\n", out);
	if(fflush(out) != 0 || ferror(out)){
		fprintf(stderr, "%s report: cannot write %s: %s\n", EA_CLI_NAME, output, strerror(errno));
		rc = EA_EXIT_FAIL;
		goto done;
	}
	rc = EA_EXIT_OK;
done:
	if(out != NULL){
		if(fclose(out) != 0) rc = EA_EXIT_FAIL;
		if(direct){
			/* written in place */
		}else if(rc == EA_EXIT_OK && rename(tmp_path, output) != 0){
			fprintf(stderr, "%s report: cannot write %s: %s\n", EA_CLI_NAME, output, strerror(errno));
			rc = EA_EXIT_FAIL;
		}
		if(rc != EA_EXIT_OK && !direct) unlink(tmp_path);
	}
	if(rc == EA_EXIT_OK)
		fprintf(stderr, "%s report: %d charts, %llu anomalies -> %s\n", EA_CLI_NAME, charts, (unsigned long long)anomalies, output);
	free(cur.pts);
	sqlite3_finalize(st);
	sqlite3_finalize(res);
	sqlite3_close(db);
	ea_config_free(cfg);
	return rc;
}
