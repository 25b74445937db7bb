/* SPDX-License-Identifier: Apache-2.0
 *
 * replay_cmd.c - `edge-anomaly replay`: runs recorded data through the
 * detector engine, offline.
 *
 *   edge-anomaly replay --input IN.csv --output OUT.csv [--config FILE]
 *                       [--detector NAME [--param NAME=VALUE]...]
 *                       [--namespace NS] [--device D] [--property P]
 *   edge-anomaly replay --capture IN.jsonl --output OUT.jsonl [--config FILE]
 *
 * CSV: header `timestamp,value`; one reading per row. The rows are one
 * series (namespace "default", device "replay", property "value" unless
 * given), so the config's routes apply as in the broker. With --detector
 * that detector runs alone; without a config, the config's default chain
 * plus `auto`. Output: `timestamp,value,anomaly_score,is_anomaly,kind`, one
 * row per input row in the same order, timestamp and value as read;
 * anomaly_score is the highest score of any detector on the row,
 * is_anomaly 1 when a detector judged the row anomalous, kind the kind of
 * the highest-scoring such detector.
 *
 * Capture: JSON lines {"topic": "...", "payload": <string or JSON>, "time":
 * RFC 3339 or epoch ms}, as a broker would have received them; each goes
 * through the whole pipeline (topic, payload parse, routes, detectors) at
 * its time, with the idle checks run as time advances, and every result is
 * written as a JSON line {"topic": "<result topic>", "result": {...}}.
 *
 * Bad input stops the run with FILE:LINE: what, exit 1; the output is
 * written to a temporary file and renamed only when the run succeeds.
 * Progress goes to stderr when it is a terminal.
 *
 * Ownership: everything allocated here is freed before returning.
 */
#include "cli.h"

#include "ea_config.h"
#include "ea_engine.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PARAMS 16

struct replay_opts {
	const char *input, *capture, *output, *config, *detector;
	const char *ns, *device, *property;
	const char *params[MAX_PARAMS];
	size_t param_count;
};

static void replay_usage(FILE *out)
{
	fprintf(out,
		"usage: %s replay --input IN.csv --output OUT.csv [--config FILE]\n"
		"                 [--detector NAME [--param NAME=VALUE]...]\n"
		"                 [--namespace NS] [--device D] [--property P]\n"
		"       %s replay --capture IN.jsonl --output OUT.jsonl [--config FILE]\n\n"
		"Runs recorded readings through the detectors, offline.\n\n"
		"CSV input: header 'timestamp,value'. Timestamps: 'YYYY-MM-DD HH:MM:SS[.fff]' (UTC),\n"
		"RFC 3339 ('2026-11-22T08:00:00Z', '...+01:00'), or epoch seconds, or epoch\n"
		"milliseconds (numbers from 10^11 on). Values: numbers; a row that is not\n"
		"'timestamp,value' stops the run with its line number.\n"
		"CSV output: timestamp,value,anomaly_score,is_anomaly,kind (one row per input row).\n\n"
		"Without --detector, the config's routes decide (the series is namespace 'default',\n"
		"device 'replay', property 'value' unless given); without a config, the default\n"
		"chain plus 'auto'.\n\n"
		"Capture input: JSON lines {\"topic\": ..., \"payload\": string or JSON, \"time\": RFC 3339\n"
		"or epoch ms}; output: JSON lines {\"topic\": ..., \"result\": {...}} of every result.\n",
		EA_CLI_NAME, EA_CLI_NAME);
}

/* ------------------------------------------------------------------ */
/* Output file: a temporary beside the target, renamed at the end.     */

struct out_file {
	FILE *f;
	char *tmp_path;   /* owned */
	const char *path; /* borrowed */
};

static bool out_open(struct out_file *o, const char *path)
{
	int fd;
	size_t len = strlen(path) + 16;
	struct stat st;

	o->path = path;
	if(stat(path, &st) == 0 && !S_ISREG(st.st_mode)){
		/* a device or a pipe (/dev/null, a FIFO): write to it directly,
		 * never rename a file over it */
		o->tmp_path = NULL;
		o->f = fopen(path, "w");
		if(o->f == NULL) fprintf(stderr, "%s replay: cannot write %s: %s\n", EA_CLI_NAME, path, strerror(errno));
		return o->f != NULL;
	}
	o->tmp_path = malloc(len);
	if(o->tmp_path == NULL) return false;
	snprintf(o->tmp_path, len, "%s.tmpXXXXXX", path);
	fd = mkstemp(o->tmp_path);
	if(fd >= 0) ea_cli_share_like_a_new_file(fd);
	if(fd < 0 || (o->f = fdopen(fd, "w")) == NULL){
		fprintf(stderr, "%s replay: cannot write %s: %s\n", EA_CLI_NAME, path, strerror(errno));
		if(fd >= 0) close(fd);
		free(o->tmp_path);
		o->tmp_path = NULL;
		return false;
	}
	return true;
}

static bool out_commit(struct out_file *o)
{
	bool ok = fflush(o->f) == 0 && !ferror(o->f);

	ok = fclose(o->f) == 0 && ok;
	o->f = NULL;
	if(o->tmp_path == NULL){
		if(!ok) fprintf(stderr, "%s replay: cannot write %s: %s\n", EA_CLI_NAME, o->path, strerror(errno));
		return ok; /* written directly */
	}
	if(ok && rename(o->tmp_path, o->path) != 0) ok = false;
	if(!ok){
		fprintf(stderr, "%s replay: cannot write %s: %s\n", EA_CLI_NAME, o->path, strerror(errno));
		unlink(o->tmp_path);
	}
	free(o->tmp_path);
	o->tmp_path = NULL;
	return ok;
}

static void out_abandon(struct out_file *o)
{
	if(o->f != NULL) fclose(o->f);
	if(o->tmp_path != NULL) unlink(o->tmp_path);
	free(o->tmp_path);
	o->f = NULL;
	o->tmp_path = NULL;
}

/* ------------------------------------------------------------------ */
/* Progress on a terminal                                              */

struct progress {
	bool on;
	off_t total;       /* input bytes */
	int last_percent;
	int64_t start_ns;
};

static void progress_start(struct progress *pr, FILE *in)
{
	struct stat st;

	pr->on = isatty(STDERR_FILENO) && fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	pr->total = pr->on ? st.st_size : 0;
	pr->last_percent = -1;
	pr->start_ns = ea_mono_ns();
}

static void progress_update(struct progress *pr, FILE *in, uint64_t rows)
{
	long at;
	int percent, i;
	double secs;

	if(!pr->on || (rows & 1023) != 0) return;
	at = ftell(in);
	if(at < 0) return;
	percent = (int)((double)at * 100.0 / (double)pr->total);
	if(percent == pr->last_percent) return;
	pr->last_percent = percent;
	secs = (double)(ea_mono_ns() - pr->start_ns) / 1e9;
	fputc('\r', stderr);
	fputc('[', stderr);
	for(i = 0; i < 30; i++) fputc(i < percent * 30 / 100 ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%  %llu rows  %.0f rows/s", percent, (unsigned long long)rows,
			secs > 0 ? (double)rows / secs : 0.0);
	fflush(stderr);
}

static void progress_end(struct progress *pr)
{
	if(pr->on && pr->last_percent >= 0) fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* The config: given, built for one detector, or the default + auto    */

/* Appends `text` to the buffer, YAML single-quoted. */
static void append_quoted(char *buf, size_t len, const char *text)
{
	size_t n = strlen(buf);

	if(n + 1 < len) buf[n++] = '\'';
	for(; *text != '\0' && n + 3 < len; text++){
		if(*text == '\'') buf[n++] = '\'';
		buf[n++] = *text;
	}
	if(n + 1 < len) buf[n++] = '\'';
	buf[n] = '\0';
}

static ea_config *load_config(const struct replay_opts *o)
{
	ea_config_error err;
	ea_config *cfg;
	char yaml[4096] = "";
	size_t i;

	if(o->config != NULL && o->detector == NULL){
		cfg = ea_config_load_file(o->config, &err);
		if(cfg == NULL) fprintf(stderr, "%s replay: %s\n", EA_CLI_NAME, err.message);
		return cfg;
	}
	if(o->detector != NULL){
		if(ea_detector_find(o->detector) == NULL){
			fprintf(stderr, "%s replay: --detector: unknown detector '%s' (see '%s check-config')\n", EA_CLI_NAME,
					o->detector, EA_CLI_NAME);
			return NULL;
		}
		snprintf(yaml, sizeof(yaml), "default_chain:\n  - %s: {", o->detector);
		for(i = 0; i < o->param_count; i++){
			const char *eq = strchr(o->params[i], '=');
			if(eq == NULL || eq == o->params[i]){
				fprintf(stderr, "%s replay: --param wants NAME=VALUE, not '%s'\n", EA_CLI_NAME, o->params[i]);
				return NULL;
			}
			snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "%s%.*s: ", i ? ", " : "",
					(int)(eq - o->params[i]), o->params[i]);
			append_quoted(yaml, sizeof(yaml), eq + 1);
		}
		snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "}\n");
	}else{
		/* the default chain of a config with no settings, plus auto */
		ea_config *defaults = ea_config_load_string("", 0, "defaults", &err);
		bool has_auto = false;
		if(defaults == NULL){
			fprintf(stderr, "%s replay: %s\n", EA_CLI_NAME, err.message);
			return NULL;
		}
		snprintf(yaml, sizeof(yaml), "default_chain: [");
		for(i = 0; i < defaults->default_chain.count; i++){
			const char *name = defaults->default_chain.items[i].type->name;
			has_auto = has_auto || strcmp(name, "auto") == 0;
			snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "%s%s", i ? ", " : "", name);
		}
		snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "%s]\n", has_auto ? "" : ", auto");
		ea_config_free(defaults);
	}
	cfg = ea_config_load_string(yaml, strlen(yaml), o->detector != NULL ? "--detector" : "defaults", &err);
	if(cfg == NULL) fprintf(stderr, "%s replay: %s\n", EA_CLI_NAME, err.message);
	return cfg;
}

/* ------------------------------------------------------------------ */
/* CSV                                                                 */

struct row_verdict {
	double score;
	bool anomaly;
	double anomaly_score;
	const char *kind; /* static, from the detector table */
};

static void collect_verdict(void *ctx, const ea_sample *sample, const ea_detector_type *type, const ea_verdict *v)
{
	struct row_verdict *rv = ctx;

	(void)sample;
	if(v->state == EA_VERDICT_SKIP) return;
	if(v->score > rv->score) rv->score = v->score;
	if(v->state == EA_VERDICT_ANOMALY && (!rv->anomaly || v->score > rv->anomaly_score)){
		rv->anomaly = true;
		rv->anomaly_score = v->score;
		rv->kind = type->kind;
	}
}

/* Strips a trailing CR/LF and surrounding double quotes and blanks. */
static char *trim_field(char *s)
{
	size_t n;

	while(*s == ' ' || *s == '\t') s++;
	n = strlen(s);
	while(n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
	if(n >= 2 && s[0] == '"' && s[n - 1] == '"'){
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

static int replay_csv(const struct replay_opts *o, ea_config *cfg)
{
	FILE *in = fopen(o->input, "r");
	struct out_file out = { 0 };
	struct progress pr;
	struct row_verdict rv;
	ea_engine *engine;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t line_no = 0, rows = 0, anomalous = 0;
	int rc = EA_EXIT_FAIL;
	int64_t t0 = ea_mono_ns();

	if(in == NULL){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->input, strerror(errno));
		return EA_EXIT_FAIL;
	}
	engine = ea_engine_new(cfg, 16, NULL, NULL);
	if(engine == NULL || !out_open(&out, o->output)){
		fclose(in);
		ea_engine_free(engine);
		return EA_EXIT_FAIL;
	}
	ea_engine_set_verdict_fn(engine, collect_verdict, &rv);
	progress_start(&pr, in);

	n = getline(&line, &cap, in);
	line_no = 1;
	if(n <= 0){
		fprintf(stderr, "%s:1: empty file: expected the header 'timestamp,value'\n", o->input);
		goto done;
	}
	{
		char *h = line;
		if((unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB && (unsigned char)h[2] == 0xBF) h += 3;
		h = trim_field(h);
		if(strcasecmp(h, "timestamp,value") != 0){
			fprintf(stderr, "%s:1: expected the header 'timestamp,value', found '%.80s'\n", o->input, h);
			goto done;
		}
	}
	fprintf(out.f, "timestamp,value,anomaly_score,is_anomaly,kind\n");
	while((n = getline(&line, &cap, in)) > 0){
		char *comma, *ts_text, *value_text;
		int64_t t_ms;
		ea_sample s;

		line_no++;
		if(strlen(line) != (size_t)n){
			fprintf(stderr, "%s:%llu: a NUL byte in the row\n", o->input, (unsigned long long)line_no);
			goto done;
		}
		if(trim_field(line)[0] == '\0') continue; /* blank line */
		comma = strchr(line, ',');
		if(comma == NULL){
			fprintf(stderr, "%s:%llu: expected 'timestamp,value', found '%.80s'\n", o->input,
					(unsigned long long)line_no, trim_field(line));
			goto done;
		}
		*comma = '\0';
		if(strchr(comma + 1, ',') != NULL){
			fprintf(stderr, "%s:%llu: too many columns: expected 'timestamp,value'\n", o->input,
					(unsigned long long)line_no);
			goto done;
		}
		ts_text = trim_field(line);
		value_text = trim_field(comma + 1);
		if(!ea_parse_timestamp(ts_text, &t_ms)){
			fprintf(stderr, "%s:%llu: bad timestamp '%.80s' (expected 'YYYY-MM-DD HH:MM:SS', RFC 3339 or epoch seconds/ms)\n",
					o->input, (unsigned long long)line_no, ts_text);
			goto done;
		}
		memset(&s, 0, sizeof(s));
		s.ns = o->ns;
		s.device = o->device;
		s.property = o->property;
		s.event_id = "";
		ea_sample_classify(&s, value_text, EA_TYPE_NONE);
		if(!s.has_number || !isfinite(s.number) || ea_sample_is_boolean(&s)){
			fprintf(stderr, "%s:%llu: bad value '%.80s': expected a number\n", o->input, (unsigned long long)line_no,
					value_text);
			goto done;
		}
		s.time_ms = t_ms;
		s.arrival_ms = t_ms;
		s.has_time = true;
		s.source = EA_SOURCE_REPLAY;
		memset(&rv, 0, sizeof(rv));
		ea_engine_sample(engine, &s);
		fprintf(out.f, "%s,%s,%.6f,%d,%s\n", ts_text, value_text, rv.score, rv.anomaly ? 1 : 0,
				rv.anomaly ? rv.kind : "");
		rows++;
		if(rv.anomaly) anomalous++;
		progress_update(&pr, in, rows);
	}
	if(ferror(in)){
		fprintf(stderr, "%s: read error: %s\n", o->input, strerror(errno));
		goto done;
	}
	rc = EA_EXIT_OK;
done:
	progress_end(&pr);
	free(line);
	fclose(in);
	ea_engine_free(engine);
	if(rc == EA_EXIT_OK){
		if(!out_commit(&out)) rc = EA_EXIT_FAIL;
	}else{
		out_abandon(&out);
	}
	if(rc == EA_EXIT_OK){
		double secs = (double)(ea_mono_ns() - t0) / 1e9;
		fprintf(stderr, "%s replay: %llu rows, %llu anomalous, %.2f s, %.0f rows/s -> %s\n", EA_CLI_NAME,
				(unsigned long long)rows, (unsigned long long)anomalous, secs, secs > 0 ? (double)rows / secs : 0.0,
				o->output);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Capture                                                             */

struct capture_ctx {
	FILE *out;
	const ea_config *cfg;
	uint64_t results;
	bool write_failed;
};

static void write_result(void *ctx, const ea_result *r)
{
	struct capture_ctx *c = ctx;
	static char json[EA_RESULT_JSON_MAX];
	char topic[2048];
	size_t n = ea_result_to_json(r, json, sizeof(json));
	size_t tn = ea_result_topic(c->cfg->result_topic, r, topic, sizeof(topic));
	cJSON *t;
	char *topic_json;

	if(n == 0 || tn == 0) return;
	t = cJSON_CreateString(topic);
	topic_json = t != NULL ? cJSON_PrintUnformatted(t) : NULL;
	if(topic_json != NULL){
		if(fprintf(c->out, "{\"topic\":%s,\"result\":%s}\n", topic_json, json) < 0) c->write_failed = true;
		c->results++;
	}
	cJSON_free(topic_json);
	cJSON_Delete(t);
}

static bool capture_time(const cJSON *item, int64_t *out_ms)
{
	if(cJSON_IsNumber(item)){
		if(!isfinite(item->valuedouble) || item->valuedouble < 0 || item->valuedouble > 253402300799999.0) return false;
		*out_ms = (int64_t)item->valuedouble;
		return true;
	}
	return cJSON_IsString(item) && ea_parse_timestamp(item->valuestring, out_ms);
}

static int replay_capture(const struct replay_opts *o, ea_config *cfg)
{
	FILE *in = fopen(o->capture, "r");
	struct out_file out = { 0 };
	struct capture_ctx ctx = { 0 };
	struct progress pr;
	ea_engine *engine;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t line_no = 0, messages = 0;
	int64_t last_idle = INT64_MIN, t0 = ea_mono_ns();
	int rc = EA_EXIT_FAIL;

	if(in == NULL){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->capture, strerror(errno));
		return EA_EXIT_FAIL;
	}
	if(!out_open(&out, o->output)){
		fclose(in);
		return EA_EXIT_FAIL;
	}
	ctx.out = out.f;
	ctx.cfg = cfg;
	engine = ea_engine_new(cfg, cfg->max_series, write_result, &ctx);
	if(engine == NULL){
		fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
		fclose(in);
		out_abandon(&out);
		return EA_EXIT_FAIL;
	}
	progress_start(&pr, in);
	while((n = getline(&line, &cap, in)) > 0){
		cJSON *root, *topic, *payload;
		int64_t t_ms;
		char *payload_text;
		bool owned = false;

		line_no++;
		if(trim_field(line)[0] == '\0') continue;
		root = cJSON_ParseWithLength(line, (size_t)n);
		if(!cJSON_IsObject(root)){
			fprintf(stderr, "%s:%llu: not a JSON object\n", o->capture, (unsigned long long)line_no);
			cJSON_Delete(root);
			goto done;
		}
		topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
		payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
		if(!cJSON_IsString(topic) || payload == NULL){
			fprintf(stderr, "%s:%llu: needs \"topic\" (a string) and \"payload\"\n", o->capture, (unsigned long long)line_no);
			cJSON_Delete(root);
			goto done;
		}
		if(!capture_time(cJSON_GetObjectItemCaseSensitive(root, "time"), &t_ms)){
			fprintf(stderr, "%s:%llu: needs \"time\": RFC 3339 text or epoch milliseconds\n", o->capture,
					(unsigned long long)line_no);
			cJSON_Delete(root);
			goto done;
		}
		if(cJSON_IsString(payload)){
			payload_text = payload->valuestring;
		}else{
			payload_text = cJSON_PrintUnformatted(payload);
			owned = true;
		}
		/* idle checks as time passes: at most once per simulated second */
		if(last_idle == INT64_MIN) last_idle = t_ms;
		if(t_ms - last_idle >= 1000){
			ea_engine_idle(engine, t_ms);
			last_idle = t_ms;
		}
		if(payload_text != NULL)
			ea_engine_message(engine, topic->valuestring, strlen(topic->valuestring), payload_text, strlen(payload_text), t_ms);
		if(owned) cJSON_free(payload_text);
		cJSON_Delete(root);
		messages++;
		progress_update(&pr, in, messages);
	}
	if(ctx.write_failed){
		fprintf(stderr, "%s replay: cannot write %s\n", EA_CLI_NAME, o->output);
		goto done;
	}
	rc = EA_EXIT_OK;
done:
	progress_end(&pr);
	free(line);
	fclose(in);
	ea_engine_free(engine);
	if(rc == EA_EXIT_OK){
		if(!out_commit(&out)) rc = EA_EXIT_FAIL;
	}else{
		out_abandon(&out);
	}
	if(rc == EA_EXIT_OK){
		double secs = (double)(ea_mono_ns() - t0) / 1e9;
		fprintf(stderr, "%s replay: %llu messages, %llu results, %.2f s -> %s\n", EA_CLI_NAME,
				(unsigned long long)messages, (unsigned long long)ctx.results, secs, o->output);
	}
	return rc;
}

/* ------------------------------------------------------------------ */

int ea_cmd_replay(int argc, char **argv)
{
	struct replay_opts o = { .ns = "default", .device = "replay", .property = "value" };
	ea_config *cfg;
	int i, rc;

	for(i = 1; i < argc; i++){
		const char *a = argv[i];
		const char **slot = NULL;
		if(strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0){
			replay_usage(stdout);
			return EA_EXIT_OK;
		}
		if(strcmp(a, "--input") == 0) slot = &o.input;
		else if(strcmp(a, "--capture") == 0) slot = &o.capture;
		else if(strcmp(a, "--output") == 0) slot = &o.output;
		else if(strcmp(a, "--config") == 0) slot = &o.config;
		else if(strcmp(a, "--detector") == 0) slot = &o.detector;
		else if(strcmp(a, "--namespace") == 0) slot = &o.ns;
		else if(strcmp(a, "--device") == 0) slot = &o.device;
		else if(strcmp(a, "--property") == 0) slot = &o.property;
		else if(strcmp(a, "--param") == 0){
			if(o.param_count == MAX_PARAMS){
				fprintf(stderr, "%s replay: at most %d --param\n", EA_CLI_NAME, MAX_PARAMS);
				return EA_EXIT_USAGE;
			}
			slot = &o.params[o.param_count++];
		}else{
			fprintf(stderr, "%s replay: unknown option '%s'\n\n", EA_CLI_NAME, a);
			replay_usage(stderr);
			return EA_EXIT_USAGE;
		}
		if(i + 1 >= argc){
			fprintf(stderr, "%s replay: %s needs a value\n", EA_CLI_NAME, a);
			return EA_EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	if((o.input == NULL) == (o.capture == NULL) || o.output == NULL){
		fprintf(stderr, "%s replay: give --input (CSV) or --capture (JSON lines), and --output\n\n", EA_CLI_NAME);
		replay_usage(stderr);
		return EA_EXIT_USAGE;
	}
	if(o.capture != NULL && o.detector != NULL){
		fprintf(stderr, "%s replay: --detector applies to CSV input; a capture uses the config's routes\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	if(o.param_count > 0 && o.detector == NULL){
		fprintf(stderr, "%s replay: --param needs --detector\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	if(o.detector != NULL && o.config != NULL){
		fprintf(stderr, "%s replay: give --config or --detector, not both\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	cfg = load_config(&o);
	if(cfg == NULL) return EA_EXIT_FAIL;
	rc = o.input != NULL ? replay_csv(&o, cfg) : replay_capture(&o, cfg);
	ea_config_free(cfg);
	return rc;
}
