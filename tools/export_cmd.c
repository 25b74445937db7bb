/* SPDX-License-Identifier: Apache-2.0
 *
 * export_cmd.c - `edge-anomaly export`: the data mirror's samples as a
 * dataset, each with the anomaly state it was in.
 *
 *   edge-anomaly export --db FILE [--namespace NS] [--device GLOB]
 *       [--group LABEL --config FILE] [--property GLOB] [--since T]
 *       [--until T] [--format csv|jsonl] [--output FILE|-]
 *
 * One row per sample, ordered by series then time, with the columns
 * namespace, device, property, timestamp (RFC 3339, ms), value, anomaly
 * (1 while any detector had an alert raised on the series: from the
 * sample that raised it up to, not including, the one that cleared it),
 * kind (of the most recent such alert) and detector. Rows are streamed
 * from one SQLite statement, so memory does not grow with the dataset.
 * CSV quotes fields per RFC 4180; JSON lines give numbers as numbers.
 * Output goes to a temporary file renamed at the end, or to stdout.
 *
 * Ownership: everything opened here is closed before returning.
 */
#include "cli.h"

#include "ea_config.h"

#include <cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct export_opts {
	const char *db, *ns, *device, *group, *config, *property, *since, *until, *format, *output;
};

static void export_usage(FILE *out)
{
	fprintf(out,
		"usage: %s export --db FILE [--namespace NS] [--device GLOB] [--group LABEL --config FILE]\n"
		"                    [--property GLOB] [--since T] [--until T] [--format csv|jsonl] [--output FILE|-]\n\n"
		"Writes the data mirror's samples (mirror: in the plugin's config) as a dataset: one row per\n"
		"sample with namespace, device, property, timestamp, value, anomaly (1 while an alert was\n"
		"raised on the series), kind and detector. Globs as in the config (*, ?, [..]); --group\n"
		"takes its device patterns from the config. T: 'YYYY-MM-DD HH:MM:SS', RFC 3339 or epoch\n"
		"seconds/ms; --since is inclusive, --until exclusive. Default: CSV to standard output.\n",
		EA_CLI_NAME);
}

/* The anomaly state of a sample: the latest raise at or before it on the
 * series that no clear of the same detector followed up to it. */
static const char QUERY_HEAD[] =
	"SELECT s.ns, s.device, s.property, s.ts, s.value, s.num,"
	" (SELECT r.kind || char(9) || r.detector FROM results r"
	"   WHERE r.ns = s.ns AND r.device = s.device AND r.property = s.property AND r.ts <= s.ts AND r.anomaly = 1"
	"   AND NOT EXISTS (SELECT 1 FROM results c WHERE c.ns = r.ns AND c.device = r.device AND c.property = r.property"
	"     AND c.detector = r.detector AND c.anomaly = 0 AND c.ts >= r.ts AND c.rowid > r.rowid"
	"     AND c.ts <= s.ts)"
	"   ORDER BY r.ts DESC, r.rowid DESC LIMIT 1)"
	" FROM samples s WHERE 1";

static void csv_field(FILE *out, const char *text)
{
	if(strpbrk(text, ",\"\r\n") == NULL){
		fputs(text, out);
		return;
	}
	fputc('"', out);
	for(; *text != '\0'; text++){
		if(*text == '"') fputc('"', out);
		fputc(*text, out);
	}
	fputc('"', out);
}

static void json_string(FILE *out, const char *text)
{
	cJSON *s = cJSON_CreateString(text);
	char *printed = s != NULL ? cJSON_PrintUnformatted(s) : NULL;

	fputs(printed != NULL ? printed : "\"\"", out);
	cJSON_free(printed);
	cJSON_Delete(s);
}

int ea_cmd_export(int argc, char **argv)
{
	struct export_opts o = { .format = "csv" };
	char sql[2048], tmp_path[4096] = "", err[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	ea_config *cfg = NULL;
	int64_t since = 0, until = 0;
	uint64_t rows = 0, total = 0;
	bool to_stdout, json, progress, ok = false, direct = false;
	struct stat target;
	FILE *out = NULL;
	int i, bind = 1, rc;
	int64_t t0 = ea_mono_ns();

	for(i = 1; i < argc; i++){
		const char **slot = NULL;
		if(strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0){
			export_usage(stdout);
			return EA_EXIT_OK;
		}
		if(strcmp(argv[i], "--db") == 0) slot = &o.db;
		else if(strcmp(argv[i], "--namespace") == 0) slot = &o.ns;
		else if(strcmp(argv[i], "--device") == 0) slot = &o.device;
		else if(strcmp(argv[i], "--group") == 0) slot = &o.group;
		else if(strcmp(argv[i], "--config") == 0) slot = &o.config;
		else if(strcmp(argv[i], "--property") == 0) slot = &o.property;
		else if(strcmp(argv[i], "--since") == 0) slot = &o.since;
		else if(strcmp(argv[i], "--until") == 0) slot = &o.until;
		else if(strcmp(argv[i], "--format") == 0) slot = &o.format;
		else if(strcmp(argv[i], "--output") == 0) slot = &o.output;
		if(slot == NULL){
			fprintf(stderr, "%s export: unknown option '%s'\n\n", EA_CLI_NAME, argv[i]);
			export_usage(stderr);
			return EA_EXIT_USAGE;
		}
		if(i + 1 >= argc){
			fprintf(stderr, "%s export: %s needs a value\n", EA_CLI_NAME, argv[i]);
			return EA_EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	if(o.db == NULL){
		fprintf(stderr, "%s export: --db FILE is required (the mirror's database)\n\n", EA_CLI_NAME);
		export_usage(stderr);
		return EA_EXIT_USAGE;
	}
	if(strcmp(o.format, "csv") != 0 && strcmp(o.format, "jsonl") != 0){
		fprintf(stderr, "%s export: --format is csv or jsonl, not '%s'\n", EA_CLI_NAME, o.format);
		return EA_EXIT_USAGE;
	}
	if((o.since != NULL && !ea_parse_timestamp(o.since, &since)) || (o.until != NULL && !ea_parse_timestamp(o.until, &until))){
		fprintf(stderr, "%s export: bad time '%s' (expected 'YYYY-MM-DD HH:MM:SS', RFC 3339 or epoch seconds/ms)\n",
				EA_CLI_NAME, o.since != NULL && !ea_parse_timestamp(o.since, &since) ? o.since : o.until);
		return EA_EXIT_USAGE;
	}
	if(o.group != NULL){
		ea_config_error cerr;
		size_t g;
		bool found = false;
		if(o.config == NULL){
			fprintf(stderr, "%s export: --group needs --config FILE (where the group's device patterns are)\n", EA_CLI_NAME);
			return EA_EXIT_USAGE;
		}
		cfg = ea_config_load_file(o.config, &cerr);
		if(cfg == NULL){
			fprintf(stderr, "%s export: %s\n", EA_CLI_NAME, cerr.message);
			return EA_EXIT_FAIL;
		}
		for(g = 0; g < cfg->group_count; g++) found = found || strcmp(cfg->groups[g].name, o.group) == 0;
		if(!found){
			fprintf(stderr, "%s export: no group '%s' in %s\n", EA_CLI_NAME, o.group, o.config);
			ea_config_free(cfg);
			return EA_EXIT_USAGE;
		}
	}
	json = strcmp(o.format, "jsonl") == 0;
	to_stdout = o.output == NULL || strcmp(o.output, "-") == 0;

	if(access(o.db, R_OK) != 0){
		fprintf(stderr, "%s export: cannot read %s: %s\n", EA_CLI_NAME, o.db, strerror(errno));
		goto done;
	}
	if(sqlite3_open_v2(o.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK){
		fprintf(stderr, "%s export: %s: %s\n", EA_CLI_NAME, o.db, db ? sqlite3_errmsg(db) : "cannot open");
		goto done;
	}
	sqlite3_busy_timeout(db, 5000);
	snprintf(sql, sizeof(sql), "%s%s%s%s%s%s ORDER BY s.ns, s.device, s.property, s.ts, s.rowid", QUERY_HEAD,
			o.ns ? " AND s.ns = ?" : "", o.device ? " AND s.device GLOB ?" : "",
			o.property ? " AND s.property GLOB ?" : "", o.since ? " AND s.ts >= ?" : "", o.until ? " AND s.ts < ?" : "");
	if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK){
		fprintf(stderr, "%s export: %s is not an edge-anomaly mirror database: %s\n", EA_CLI_NAME, o.db, sqlite3_errmsg(db));
		goto done;
	}
	if(o.ns) sqlite3_bind_text(st, bind++, o.ns, -1, SQLITE_STATIC);
	if(o.device) sqlite3_bind_text(st, bind++, o.device, -1, SQLITE_STATIC);
	if(o.property) sqlite3_bind_text(st, bind++, o.property, -1, SQLITE_STATIC);
	if(o.since) sqlite3_bind_int64(st, bind++, since);
	if(o.until) sqlite3_bind_int64(st, bind++, until);

	progress = !to_stdout && isatty(STDERR_FILENO);
	if(progress){
		sqlite3_stmt *count;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM samples s WHERE 1%s%s%s%s%s", o.ns ? " AND s.ns = ?" : "",
				o.device ? " AND s.device GLOB ?" : "", o.property ? " AND s.property GLOB ?" : "",
				o.since ? " AND s.ts >= ?" : "", o.until ? " AND s.ts < ?" : "");
		if(sqlite3_prepare_v2(db, sql, -1, &count, NULL) == SQLITE_OK){
			bind = 1;
			if(o.ns) sqlite3_bind_text(count, bind++, o.ns, -1, SQLITE_STATIC);
			if(o.device) sqlite3_bind_text(count, bind++, o.device, -1, SQLITE_STATIC);
			if(o.property) sqlite3_bind_text(count, bind++, o.property, -1, SQLITE_STATIC);
			if(o.since) sqlite3_bind_int64(count, bind++, since);
			if(o.until) sqlite3_bind_int64(count, bind++, until);
			if(sqlite3_step(count) == SQLITE_ROW) total = (uint64_t)sqlite3_column_int64(count, 0);
			sqlite3_finalize(count);
		}
	}

	if(!to_stdout && stat(o.output, &target) == 0 && !S_ISREG(target.st_mode)){
		/* a device or a pipe (/dev/null, a FIFO): write to it directly,
		 * never rename a file over it */
		out = fopen(o.output, "w");
		if(out == NULL){
			fprintf(stderr, "%s export: cannot write %s: %s\n", EA_CLI_NAME, o.output, strerror(errno));
			goto done;
		}
		direct = true;
	}else if(to_stdout){
		out = stdout;
	}else{
		int fd;
		snprintf(tmp_path, sizeof(tmp_path), "%s.tmpXXXXXX", o.output);
		fd = mkstemp(tmp_path);
	if(fd >= 0) ea_cli_share_like_a_new_file(fd);
		if(fd < 0 || (out = fdopen(fd, "w")) == NULL){
			fprintf(stderr, "%s export: cannot write %s: %s\n", EA_CLI_NAME, o.output, strerror(errno));
			if(fd >= 0) close(fd);
			tmp_path[0] = '\0';
			goto done;
		}
	}
	if(!json) fputs("namespace,device,property,timestamp,value,anomaly,kind,detector\n", out);
	while((rc = sqlite3_step(st)) == SQLITE_ROW){
		const char *ns = (const char *)sqlite3_column_text(st, 0);
		const char *device = (const char *)sqlite3_column_text(st, 1);
		const char *property = (const char *)sqlite3_column_text(st, 2);
		int64_t ts = sqlite3_column_int64(st, 3);
		const char *value = (const char *)sqlite3_column_text(st, 4);
		bool numeric = sqlite3_column_type(st, 5) != SQLITE_NULL;
		const char *alert = (const char *)sqlite3_column_text(st, 6);
		char when[40], kind[128] = "", detector[128] = "";

		if(ns == NULL || device == NULL || property == NULL || value == NULL) continue;
		if(cfg != NULL && !ea_config_device_in_group(cfg, o.group, ns, device)) continue;
		if(alert != NULL){
			const char *tab = strchr(alert, '\t');
			snprintf(kind, sizeof(kind), "%.*s", tab ? (int)(tab - alert) : (int)strlen(alert), alert);
			snprintf(detector, sizeof(detector), "%s", tab ? tab + 1 : "");
		}
		ea_format_time(ts, when, sizeof(when));
		if(json){
			fputs("{\"namespace\":", out);
			json_string(out, ns);
			fputs(",\"device\":", out);
			json_string(out, device);
			fputs(",\"property\":", out);
			json_string(out, property);
			fprintf(out, ",\"timestamp\":\"%s\",\"value\":", when);
			if(numeric) fprintf(out, "%.17g", sqlite3_column_double(st, 5));
			else json_string(out, value);
			fprintf(out, ",\"anomaly\":%s,\"kind\":", alert ? "true" : "false");
			if(alert){
				json_string(out, kind);
				fputs(",\"detector\":", out);
				json_string(out, detector);
			}else{
				fputs("null,\"detector\":null", out);
			}
			fputs("}\n", out);
		}else{
			csv_field(out, ns);
			fputc(',', out);
			csv_field(out, device);
			fputc(',', out);
			csv_field(out, property);
			fprintf(out, ",%s,", when);
			csv_field(out, value);
			fprintf(out, ",%d,", alert ? 1 : 0);
			csv_field(out, kind);
			fputc(',', out);
			csv_field(out, detector);
			fputc('\n', out);
		}
		rows++;
		if(progress && total > 0 && rows % 10000 == 0){
			fprintf(stderr, "\r%llu of %llu rows (%.0f%%)", (unsigned long long)rows, (unsigned long long)total,
					100.0 * (double)rows / (double)total);
		}
	}
	if(progress) fputc('\n', stderr);
	if(rc != SQLITE_DONE){
		fprintf(stderr, "%s export: reading %s: %s\n", EA_CLI_NAME, o.db, sqlite3_errmsg(db));
		goto done;
	}
	if(fflush(out) != 0 || ferror(out)){
		fprintf(stderr, "%s export: cannot write %s: %s\n", EA_CLI_NAME, to_stdout ? "standard output" : o.output,
				strerror(errno));
		goto done;
	}
	ok = true;
done:
	if(direct){
		if(fclose(out) != 0) ok = false;
	}else if(out != NULL && out != stdout){
		if(fclose(out) != 0) ok = false;
		if(ok && rename(tmp_path, o.output) != 0){
			snprintf(err, sizeof(err), "%s", strerror(errno));
			fprintf(stderr, "%s export: cannot write %s: %s\n", EA_CLI_NAME, o.output, err);
			ok = false;
		}
		if(!ok) unlink(tmp_path);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ea_config_free(cfg);
	if(ok){
		double secs = (double)(ea_mono_ns() - t0) / 1e9;
		fprintf(stderr, "%s export: %llu rows in %.2f s (%.0f rows/s)%s%s\n", EA_CLI_NAME, (unsigned long long)rows, secs,
				secs > 0 ? (double)rows / secs : 0.0, to_stdout ? "" : " -> ", to_stdout ? "" : o.output);
	}
	return ok ? EA_EXIT_OK : EA_EXIT_FAIL;
}
