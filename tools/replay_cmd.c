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
 * that detector runs alone, its parameters set from --param through
 * ea_param_set; without --detector and --config, the default chain plus
 * `auto` (when the library has it). Each row goes to ea_engine_sample with
 * sample time = arrival time = the row's timestamp. Output:
 * `timestamp,value,anomaly_score,is_anomaly,kind`, one row per input row in
 * the same order, timestamp and value byte for byte as read; anomaly_score
 * is the highest score of any detector on the row, is_anomaly 1 when a
 * detector judged the row anomalous, kind the kind of the highest-scoring
 * such detector (empty otherwise). A field may be wrapped in double quotes
 * and blanks; a comma inside quotes is not supported (too many columns).
 * A value that is not a finite decimal number stops the run (a skipped row
 * would shift every later row against the input).
 *
 * Capture: JSON lines, one message each, as the broker received it:
 *   {"topic": "$hw/events/device/boiler-1/twin/update",
 *    "payload": "<the payload text>" or any JSON value (re-serialised),
 *    "time": "2026-11-01T00:00:05Z" (RFC 3339, or the other CSV formats)
 *            or 1793491205000 (epoch milliseconds)}
 * Each goes through the whole pipeline (topic, payload parse, routes,
 * detectors) with arrival = its time. The idle checks (staleness, desired)
 * run as simulated time passes, every `idle_check` of the config (1 s by
 * default) between messages, as the plugin's tick would run them; a
 * silence of more than MAX_IDLE_STEPS checks is crossed in MAX_IDLE_STEPS
 * equal steps. Every result is written as a JSON line
 *   {"topic": "<result topic>", "result": <ea_result_to_json>}
 * (tests/data/capture-example.jsonl is an example).
 *
 * Bad input stops the run with FILE:LINE: what, exit 1; bad options exit
 * 2. The output is written to a temporary file beside it and renamed only
 * when the run succeeds (a device or FIFO is written directly). Progress
 * goes to stderr when it is a terminal; a summary line always.
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
		"CSV input: header 'timestamp,value', one reading per row. Timestamps:\n"
		"  'YYYY-MM-DD HH:MM:SS[.fff]' (UTC), RFC 3339 ('2026-11-22T08:00:00.5Z',\n"
		"  '2026-11-22T09:00:00+01:00'), or a plain number: epoch milliseconds from\n"
		"  10^11 on (1973-03-03 in ms), epoch seconds below that.\n"
		"  Values: decimal numbers. A row that is not 'timestamp,value', a bad timestamp\n"
		"  or a value that is not a number stops the run with FILE:LINE (exit 1).\n"
		"CSV output: timestamp,value,anomaly_score,is_anomaly,kind, one row per input row\n"
		"  in order; timestamp and value as read; anomaly_score 0..1 (highest of any\n"
		"  detector); kind of the highest-scoring detector that judged the row anomalous.\n\n"
		"  --detector NAME   run NAME alone; --param NAME=VALUE (repeatable) sets its\n"
		"                    parameters (a wrong name lists the known ones)\n"
		"  --config FILE     the routes of FILE decide; the series is namespace 'default',\n"
		"                    device 'replay', property 'value' unless --namespace, --device,\n"
		"                    --property say otherwise\n"
		"  neither           the default chain plus 'auto'\n\n"
		"Capture input: JSON lines, one message each:\n"
		"  {\"topic\": \"$hw/events/device/boiler-1/twin/update\",\n"
		"   \"payload\": \"<payload text>\" or any JSON value (re-serialised),\n"
		"   \"time\": \"2026-11-01T00:00:05Z\" or 1793491205000 (epoch ms)}\n"
		"  Each goes through the whole pipeline at its time; the idle checks (staleness)\n"
		"  run as simulated time passes. Output: JSON lines {\"topic\": <result topic>,\n"
		"  \"result\": {...}} of every result, as the plugin would publish them.\n\n"
		"The output appears only when the run succeeds. Exit: 0 done, 1 bad input or\n"
		"unreadable/unwritable file, 2 bad options. Progress on stderr when it is a\n"
		"terminal; a summary line at the end.\n",
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

/* Appends one instance of `type` with these parameters to the chain, which
 * the config owns (items from malloc, freed by ea_config_free). */
static bool chain_append(ea_chain *chain, const ea_detector_type *type, const ea_params *params)
{
	ea_detector_instance *items = realloc(chain->items, (chain->count + 1) * sizeof(*items));

	if(items == NULL) return false;
	chain->items = items;
	items[chain->count].type = type;
	items[chain->count].params = *params;
	chain->count++;
	return true;
}

/* Prints the names of the built-in detectors, for an unknown --detector. */
static void list_detectors(FILE *out)
{
	const ea_detector_type *const *b = ea_detector_builtins();
	size_t i;

	for(i = 0; b[i] != NULL; i++) fprintf(out, "%s%s", i ? ", " : "", b[i]->name);
	fputc('\n', out);
}

/* The parameters of --detector from its defaults and each --param, checked
 * like the YAML loader checks them. false after saying why. */
static bool detector_params(const struct replay_opts *o, const ea_detector_type *type, ea_params *params)
{
	char err[256], name[64];
	size_t i, j, name_len;

	ea_params_defaults(type, params);
	for(i = 0; i < o->param_count; i++){
		const char *eq = strchr(o->params[i], '=');
		int index;
		if(eq == NULL || eq == o->params[i]){
			fprintf(stderr, "%s replay: --param wants NAME=VALUE, not '%s'\n", EA_CLI_NAME, o->params[i]);
			return false;
		}
		name_len = (size_t)(eq - o->params[i]);
		index = -1;
		if(name_len < sizeof(name)){
			memcpy(name, o->params[i], name_len);
			name[name_len] = '\0';
			index = ea_param_index(type, name);
		}
		if(index < 0){
			fprintf(stderr, "%s replay: --param %.*s: detector '%s' has no such parameter; it takes:", EA_CLI_NAME,
					(int)name_len, o->params[i], type->name);
			for(j = 0; j < type->param_count; j++) fprintf(stderr, "%s %s", j ? "," : "", type->params[j].name);
			fprintf(stderr, "%s\n", type->param_count ? "" : " nothing");
			return false;
		}
		if(!ea_param_set(type, params, index, eq + 1, err, sizeof(err))){
			fprintf(stderr, "%s replay: --param %s: %s\n", EA_CLI_NAME, o->params[i], err);
			return false;
		}
	}
	if(type->validate != NULL && !type->validate(params, err, sizeof(err))){
		fprintf(stderr, "%s replay: --detector %s: %s\n", EA_CLI_NAME, type->name, err);
		return false;
	}
	return true;
}

/* The config to replay with: --config's file; or the defaults with the
 * default chain replaced by --detector alone; or the default chain plus
 * `auto` when the library has it. NULL after saying why, with *rc the exit
 * status (a bad file is bad input, a bad --detector or --param a usage
 * error). The caller frees the config with ea_config_free. */
static ea_config *load_config(const struct replay_opts *o, int *rc)
{
	ea_config_error err;
	ea_config *cfg;
	const ea_detector_type *type;
	ea_params params;
	size_t i;

	*rc = EA_EXIT_FAIL;
	if(o->config != NULL){
		cfg = ea_config_load_file(o->config, &err);
		if(cfg == NULL) fprintf(stderr, "%s replay: %s\n", EA_CLI_NAME, err.message);
		return cfg;
	}
	if(o->detector != NULL){
		type = ea_detector_find(o->detector);
		if(type == NULL){
			fprintf(stderr, "%s replay: --detector: unknown detector '%s'; known: ", EA_CLI_NAME, o->detector);
			list_detectors(stderr);
			*rc = EA_EXIT_USAGE;
			return NULL;
		}
		if(!detector_params(o, type, &params)){
			*rc = EA_EXIT_USAGE;
			return NULL;
		}
	}else{
		/* auto joins the default chain as soon as the library has it */
		type = ea_detector_find("auto");
		if(type != NULL) ea_params_defaults(type, &params);
	}
	cfg = ea_config_defaults();
	if(cfg == NULL) goto nomem;
	if(o->detector != NULL){
		cfg->default_chain.count = 0; /* items stay allocated, reused */
	}else{
		for(i = 0; i < cfg->default_chain.count; i++){
			if(cfg->default_chain.items[i].type == type) type = NULL; /* already there */
		}
	}
	if(type != NULL && !chain_append(&cfg->default_chain, type, &params)) goto nomem;
	return cfg;
nomem:
	fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
	ea_config_free(cfg);
	return NULL;
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

/* Removes the line ending (LF, CRLF, or a CR alone) of a line of n bytes
 * in place; returns the new length. */
static size_t chomp(char *line, size_t n)
{
	while(n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
	return n;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The field between begin and end (exclusive) without the blanks around it
 * and one pair of double quotes; made NUL-terminated in place (writes at
 * most at *end). Returns its start. */
static char *field_text(char *begin, char *end)
{
	while(begin < end && is_blank(*begin)) begin++;
	while(end > begin && is_blank(end[-1])) end--;
	if(end - begin >= 2 && *begin == '"' && end[-1] == '"'){
		begin++;
		end--;
	}
	*end = '\0';
	return begin;
}

/* true for text made only of what a decimal number is written with (no
 * hexadecimal, no "inf" or "nan"); strtod then decides. */
static bool decimal_chars(const char *text)
{
	if(*text == '\0') return false;
	for(; *text != '\0'; text++){
		if(strchr("0123456789+-.eE", *text) == NULL) return false;
	}
	return true;
}

/* Grows *buf (owned, from malloc) to hold at least `need` bytes. */
static bool ensure_capacity(char **buf, size_t *cap, size_t need)
{
	char *bigger;

	if(need <= *cap) return true;
	bigger = realloc(*buf, need);
	if(bigger == NULL) return false;
	*buf = bigger;
	*cap = need;
	return true;
}

static bool header_ok(char *line, size_t n)
{
	char *comma, *ts, *value;

	if(n >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF){
		line += 3; /* a UTF-8 byte order mark */
		n -= 3;
	}
	comma = memchr(line, ',', n);
	if(comma == NULL || memchr(comma + 1, ',', n - (size_t)(comma + 1 - line)) != NULL) return false;
	ts = field_text(line, comma);
	value = field_text(comma + 1, line + n);
	return strcasecmp(ts, "timestamp") == 0 && strcasecmp(value, "value") == 0;
}

static int replay_csv(const struct replay_opts *o, ea_config *cfg)
{
	FILE *in = fopen(o->input, "r");
	struct out_file out = { 0 };
	struct progress pr;
	struct row_verdict rv;
	ea_engine *engine;
	char *line = NULL, *work = NULL;
	size_t cap = 0, work_cap = 0, len;
	ssize_t n;
	uint64_t line_no = 0, rows = 0, anomalous = 0;
	int rc = EA_EXIT_FAIL;
	int64_t t0 = ea_mono_ns();

	if(in == NULL){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->input, strerror(errno));
		return EA_EXIT_FAIL;
	}
	engine = ea_engine_new(cfg, 16, NULL, NULL);
	if(engine == NULL){
		fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
		fclose(in);
		return EA_EXIT_FAIL;
	}
	if(!out_open(&out, o->output)){
		fclose(in);
		ea_engine_free(engine);
		return EA_EXIT_FAIL;
	}
	ea_engine_set_verdict_fn(engine, collect_verdict, &rv);
	progress_start(&pr, in);

	errno = 0;
	n = getline(&line, &cap, in);
	line_no = 1;
	if(n < 0 && ferror(in)){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->input, strerror(errno));
		goto done;
	}
	if(n <= 0){
		fprintf(stderr, "%s:1: empty file: expected the header 'timestamp,value'\n", o->input);
		goto done;
	}
	len = chomp(line, (size_t)n);
	if(!ensure_capacity(&work, &work_cap, len + 1)){
		fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
		goto done;
	}
	memcpy(work, line, len + 1);
	if(strlen(line) != len || !header_ok(work, len)){
		fprintf(stderr, "%s:1: expected the header 'timestamp,value', found '%.80s'\n", o->input, line);
		goto done;
	}
	fprintf(out.f, "timestamp,value,anomaly_score,is_anomaly,kind\n");
	while((n = getline(&line, &cap, in)) > 0){
		char *comma, *ts_text, *value_text;
		int64_t t_ms;
		ea_sample s;
		size_t i;

		line_no++;
		len = chomp(line, (size_t)n);
		if(strlen(line) != len){
			fprintf(stderr, "%s:%llu: a NUL byte in the row\n", o->input, (unsigned long long)line_no);
			goto done;
		}
		for(i = 0; i < len && is_blank(line[i]); i++) {}
		if(i == len) continue; /* a blank line is no row */
		/* parse a copy; `line` stays as read for the output */
		if(!ensure_capacity(&work, &work_cap, len + 1)){
			fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
			goto done;
		}
		memcpy(work, line, len + 1);
		comma = memchr(work, ',', len);
		if(comma == NULL){
			fprintf(stderr, "%s:%llu: expected 'timestamp,value', found '%.80s'\n", o->input,
					(unsigned long long)line_no, line);
			goto done;
		}
		if(memchr(comma + 1, ',', len - (size_t)(comma + 1 - work)) != NULL){
			fprintf(stderr, "%s:%llu: too many columns: expected 'timestamp,value'\n", o->input,
					(unsigned long long)line_no);
			goto done;
		}
		ts_text = field_text(work, comma);
		value_text = field_text(comma + 1, work + len);
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
		if(!decimal_chars(value_text) || !s.has_number){
			fprintf(stderr, "%s:%llu: bad value '%.80s': expected a finite decimal number\n", o->input,
					(unsigned long long)line_no, value_text);
			goto done;
		}
		s.time_ms = t_ms;
		s.arrival_ms = t_ms;
		s.has_time = true;
		s.source = EA_SOURCE_REPLAY;
		memset(&rv, 0, sizeof(rv));
		ea_engine_sample(engine, &s);
		/* the row as read, then the verdict */
		fprintf(out.f, "%s,%.6f,%d,%s\n", line, rv.score > 1.0 ? 1.0 : rv.score, rv.anomaly ? 1 : 0,
				rv.anomaly ? rv.kind : "");
		rows++;
		if(rv.anomaly) anomalous++;
		progress_update(&pr, in, rows);
	}
	if(ferror(in)){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->input, strerror(errno));
		goto done;
	}
	rc = EA_EXIT_OK;
done:
	progress_end(&pr);
	free(line);
	free(work);
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

/* A silence longer than this many idle checks is crossed in this many
 * equal steps, so a capture with a gap of days costs no more than a minute
 * of checks does, per gap. */
#define MAX_IDLE_STEPS 3600

struct capture_ctx {
	FILE *out;              /* borrowed: the output file */
	const ea_config *cfg;   /* borrowed */
	uint64_t results, raised;
	bool write_failed;
	char json[EA_RESULT_JSON_MAX];
};

/* Engine callback: one JSON line per result, with the topic the plugin
 * would publish it on. */
static void write_result(void *ctx, const ea_result *r)
{
	struct capture_ctx *c = ctx;
	const ea_config *cfg = c->cfg;
	/* EdgeX devices have their own topic template, as in plugin/pool.c */
	const char *template_ = cfg->edgex_enabled && strcmp(r->ns, cfg->edgex_namespace) == 0
			? cfg->edgex_result_topic : cfg->result_topic;
	char topic[2048];
	size_t n = ea_result_to_json(r, c->json, sizeof(c->json));
	size_t tn = ea_result_topic(template_, r, topic, sizeof(topic));
	cJSON *t;
	char *topic_json;

	if(n == 0 || tn == 0){
		c->write_failed = true; /* cannot happen with these buffer sizes */
		return;
	}
	t = cJSON_CreateString(topic);
	topic_json = t != NULL ? cJSON_PrintUnformatted(t) : NULL;
	if(topic_json == NULL || fprintf(c->out, "{\"topic\":%s,\"result\":%s}\n", topic_json, c->json) < 0){
		c->write_failed = true;
	}else{
		c->results++;
		if(r->anomaly) c->raised++;
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

/* Runs the idle checks the plugin would have run between *next_check and
 * now_ms, one every `step` ms (fewer, evenly spread, over a silence of more
 * than MAX_IDLE_STEPS steps); leaves *next_check at the next one due. */
static void idle_until(ea_engine *engine, int64_t *next_check, int64_t step, int64_t now_ms)
{
	int64_t stride = step;

	if(*next_check > now_ms) return;
	if((now_ms - *next_check) / step >= MAX_IDLE_STEPS) stride = (now_ms - *next_check) / MAX_IDLE_STEPS + 1;
	for(; *next_check <= now_ms; *next_check += stride) ea_engine_idle(engine, *next_check);
	if(stride != step) *next_check = now_ms + step;
}

static int replay_capture(const struct replay_opts *o, ea_config *cfg)
{
	FILE *in = fopen(o->capture, "r");
	struct out_file out = { 0 };
	struct capture_ctx *ctx = NULL;
	struct progress pr;
	ea_engine *engine = NULL;
	char *line = NULL;
	size_t cap = 0, len, i;
	ssize_t n;
	uint64_t line_no = 0, messages = 0;
	int64_t next_check = INT64_MIN, t0 = ea_mono_ns();
	int rc = EA_EXIT_FAIL;

	if(in == NULL){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->capture, strerror(errno));
		return EA_EXIT_FAIL;
	}
	if(!out_open(&out, o->output)){
		fclose(in);
		return EA_EXIT_FAIL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if(ctx != NULL){
		ctx->out = out.f;
		ctx->cfg = cfg;
		engine = ea_engine_new(cfg, cfg->max_series, write_result, ctx);
	}
	progress_start(&pr, in);
	if(engine == NULL){
		fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
		goto done;
	}
	errno = 0;
	while((n = getline(&line, &cap, in)) > 0){
		cJSON *root, *topic, *payload;
		int64_t t_ms;
		char *payload_text;
		bool owned = false;

		line_no++;
		len = chomp(line, (size_t)n);
		for(i = 0; i < len && is_blank(line[i]); i++) {}
		if(i == len) continue; /* a blank line is no message */
		root = cJSON_ParseWithLength(line, len);
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
		if(payload_text == NULL){
			fprintf(stderr, "%s replay: out of memory\n", EA_CLI_NAME);
			cJSON_Delete(root);
			goto done;
		}
		/* the idle checks the silence before this message would have seen */
		if(next_check == INT64_MIN) next_check = t_ms + cfg->idle_check_ms;
		idle_until(engine, &next_check, cfg->idle_check_ms, t_ms);
		ea_engine_message(engine, topic->valuestring, strlen(topic->valuestring), payload_text, strlen(payload_text), t_ms);
		if(owned) cJSON_free(payload_text);
		cJSON_Delete(root);
		messages++;
		progress_update(&pr, in, messages);
	}
	if(ferror(in)){
		fprintf(stderr, "%s replay: cannot read %s: %s\n", EA_CLI_NAME, o->capture, strerror(errno));
		goto done;
	}
	if(ctx->write_failed){
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
		fprintf(stderr, "%s replay: %llu messages, %llu results (%llu raising), %.2f s, %.0f messages/s -> %s\n",
				EA_CLI_NAME, (unsigned long long)messages, (unsigned long long)ctx->results,
				(unsigned long long)ctx->raised, secs, secs > 0 ? (double)messages / secs : 0.0, o->output);
	}
	free(ctx);
	return rc;
}

/* ------------------------------------------------------------------ */

int ea_cmd_replay(int argc, char **argv)
{
	static const struct replay_opts default_opts = { .ns = "default", .device = "replay", .property = "value" };
	struct replay_opts o = default_opts;
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
	if(o.capture != NULL && (o.ns != default_opts.ns || o.device != default_opts.device
			|| o.property != default_opts.property)){
		fprintf(stderr, "%s replay: --namespace, --device and --property apply to CSV input; a capture's topics "
				"name the series\n", EA_CLI_NAME);
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
	cfg = load_config(&o, &rc);
	if(cfg == NULL) return rc;
	rc = o.input != NULL ? replay_csv(&o, cfg) : replay_capture(&o, cfg);
	ea_config_free(cfg);
	return rc;
}
