/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_plugin_detector.c - detectors loaded from users' shared objects (the
 * ABI in include/edge-anomaly/detector.h), adapted to ea_detector_type so
 * the config and the engine treat them like built-in ones.
 *
 * A library is opened with dlopen(RTLD_NOW | RTLD_LOCAL), its
 * edge_anomaly_detectors() list is checked (ABI version, names, sizes,
 * callbacks) and each detector gets a slot in a process-wide table of
 * AUTO_SLOTS entries. The internal interface has no "self" argument, so
 * each slot has its own small trampoline functions that know their slot.
 * Libraries are never closed: configs, engines and series states made
 * from them may live on after a reload, and a detector's code must stay
 * mapped while any of them exists.
 *
 * Loading is off until the program turns it on (ea_plugin_detectors_allow):
 * the broker plugin, the CLI and detectord do, the fuzz targets do not, so
 * fuzzed YAML can never open a library (fuzz_config checks that none is
 * ever loaded).
 *
 * Threat model: the config is trusted, so a library it names is code the
 * operator chose to run inside the broker with the broker's privileges.
 * As a guard against a careless install, a library file that every user
 * may write (or that sits in such a directory without the sticky bit) is
 * refused: anybody on the machine could otherwise run code as the broker.
 *
 * Ownership: the table owns copies of the library paths (freed when this
 * code is unmapped, see free_library_paths); detector tables and strings
 * are the libraries' (mapped for the life of the process).
 */
#include "ea_detector.h"

#include "../include/edge-anomaly/detector.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PLUGIN_SLOTS EA_PLUGIN_DETECTORS_MAX
#define PLUGIN_NAME_MAX 64 /* names are shorter */

/* The public header restates internal limits and enums; keep them equal. */
_Static_assert(EDGE_ANOMALY_MAX_PARAMS == EA_MAX_PARAMS, "parameter count differs from the internal one");
_Static_assert(EDGE_ANOMALY_REASON_MAX <= EA_REASON_MAX, "a user's reason must fit the internal one");
_Static_assert(EDGE_ANOMALY_PARAM_NUMBER == (int)EA_PARAM_NUMBER && EDGE_ANOMALY_PARAM_INTEGER == (int)EA_PARAM_INTEGER
		&& EDGE_ANOMALY_PARAM_DURATION == (int)EA_PARAM_DURATION && EDGE_ANOMALY_PARAM_BOOL == (int)EA_PARAM_BOOL,
		"parameter kinds differ from the internal ones");

struct plugin_slot {
	ea_detector_type type;                 /* what the engine sees */
	ea_param_spec specs[EA_MAX_PARAMS];
	const struct edge_anomaly_detector *user;
	char *library;                         /* resolved path, one copy shared by the
	                                        * (consecutive) slots of a library */
};

static struct plugin_slot slots[PLUGIN_SLOTS];
static _Atomic size_t slot_count;          /* slots[0 .. slot_count) are ready */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool allowed;

void ea_plugin_detectors_allow(bool allow)
{
	atomic_store(&allowed, allow);
}

/* ------------------------------------------------------------------ */
/* Calls into a slot's detector                                        */

/* Every member is set: no memset on this per-sample path. */
static void to_user_sample(const ea_sample *s, struct edge_anomaly_sample *u)
{
	u->ns = s->ns;
	u->device = s->device;
	u->property = s->property;
	u->text = s->text != NULL ? s->text : "";
	u->has_number = s->has_number;
	u->is_boolean = ea_sample_is_boolean(s);
	u->number = s->number;
	u->time_ms = s->time_ms;
	u->arrival_ms = s->arrival_ms;
	u->has_time = s->has_time;
	u->desired = s->desired;
	u->event_id = s->event_id != NULL ? s->event_id : "";
}

/* A verdict about to be handed to the user's code: SKIP, an empty reason
 * and what the engine will read. Only what the ABI promises is set (the
 * reason's bytes after the first are left as they are: cheaper). */
static void user_verdict_init(struct edge_anomaly_verdict *uv, const ea_verdict *v)
{
	uv->state = EDGE_ANOMALY_SKIP;
	uv->score = 0.0;
	uv->confidence = 0.0;
	uv->reason[0] = '\0';
	uv->explain_normal = v->explain_normal;
	uv->explain_anomaly = !v->quiet_anomaly;
}

/* Takes the user's verdict; its reason is checked and copied only when the
 * engine will read it. */
static void from_user_verdict(const struct edge_anomaly_verdict *u, ea_verdict *v)
{
	size_t len;
	bool explain;

	switch(u->state){
	case EDGE_ANOMALY_NORMAL: v->state = EA_VERDICT_NORMAL; break;
	case EDGE_ANOMALY_ANOMALY: v->state = EA_VERDICT_ANOMALY; break;
	default: v->state = EA_VERDICT_SKIP; return;
	}
	v->score = isfinite(u->score) ? fmin(1.0, fmax(0.0, u->score)) : 0.0;
	v->confidence = isfinite(u->confidence) ? fmin(1.0, fmax(0.0, u->confidence)) : 0.0;
	explain = v->state == EA_VERDICT_NORMAL ? v->explain_normal : !v->quiet_anomaly;
	if(!explain){
		v->reason[0] = '\0';
		return;
	}
	len = strnlen(u->reason, sizeof(u->reason));
	if(len == sizeof(u->reason) || !ea_utf8_valid(u->reason, len)){
		snprintf(v->reason, sizeof(v->reason), "(the detector's reason was not valid UTF-8 text)");
	}else{
		memcpy(v->reason, u->reason, len + 1);
	}
}

static void slot_observe(size_t i, const ea_params *p, void *state, const ea_sample *s, ea_verdict *v)
{
	struct edge_anomaly_sample us;
	struct edge_anomaly_verdict uv;

	to_user_sample(s, &us);
	user_verdict_init(&uv, v);
	slots[i].user->observe(p->v, state, &us, &uv);
	from_user_verdict(&uv, v);
}

static void slot_idle(size_t i, const ea_params *p, void *state, int64_t now_ms, ea_verdict *v)
{
	struct edge_anomaly_verdict uv;

	user_verdict_init(&uv, v);
	slots[i].user->idle(p->v, state, now_ms, &uv);
	from_user_verdict(&uv, v);
}

static bool slot_validate(size_t i, const ea_params *p, char *err, size_t len)
{
	char buf[EA_REASON_MAX] = "";

	if(slots[i].user->validate(p->v, buf, sizeof(buf))) return true;
	buf[sizeof(buf) - 1] = '\0';
	snprintf(err, len, "%s", buf[0] != '\0' ? buf : "invalid parameters");
	return false;
}

/* One set of trampolines per slot. */
#define SLOT_FUNCS(n)                                                                        \
	static void observe_##n(const ea_params *p, void *st, const ea_sample *s, ea_verdict *v) \
	{ slot_observe(n, p, st, s, v); }                                                        \
	static void idle_##n(const ea_params *p, void *st, int64_t now, ea_verdict *v)           \
	{ slot_idle(n, p, st, now, v); }                                                         \
	static bool validate_##n(const ea_params *p, char *e, size_t l)                          \
	{ return slot_validate(n, p, e, l); }
#define SLOT_LIST(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) \
	X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
SLOT_LIST(SLOT_FUNCS)

struct slot_funcs {
	void (*observe)(const ea_params *, void *, const ea_sample *, ea_verdict *);
	void (*idle)(const ea_params *, void *, int64_t, ea_verdict *);
	bool (*validate)(const ea_params *, char *, size_t);
};
#define SLOT_ENTRY(n) { observe_##n, idle_##n, validate_##n },
static const struct slot_funcs slot_funcs[PLUGIN_SLOTS] = { SLOT_LIST(SLOT_ENTRY) };

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static bool name_ok(const char *name)
{
	size_t i, n;

	if(name == NULL) return false;
	n = strnlen(name, PLUGIN_NAME_MAX);
	if(n == 0 || n == PLUGIN_NAME_MAX) return false;
	for(i = 0; i < n; i++){
		char c = name[i];
		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool text_ok(const char *text)
{
	return text != NULL && strnlen(text, 1024) < 1024 && ea_utf8_valid(text, strlen(text));
}

/* Checks one table; writes why not into err. The version is checked
 * first: it is the only member every ABI version shares. */
static bool table_ok(const struct edge_anomaly_detector *d, const char *path, char *err, size_t len)
{
	size_t k;

	if(d->abi_version != EDGE_ANOMALY_DETECTOR_ABI){
		snprintf(err, len, "detector library %s was built for detector ABI %u; this edge-anomaly speaks ABI %d: "
				"rebuild it against include/edge-anomaly/detector.h", path, (unsigned)d->abi_version,
				EDGE_ANOMALY_DETECTOR_ABI);
		return false;
	}
	if(!name_ok(d->name)){
		snprintf(err, len, "detector library %s: a detector name must be 1..%d letters, digits, '_' or '-'", path,
				PLUGIN_NAME_MAX - 1);
		return false;
	}
	if(!text_ok(d->kind) || !text_ok(d->summary) || d->observe == NULL){
		snprintf(err, len, "detector library %s: detector '%s' needs a kind, a summary and observe()", path, d->name);
		return false;
	}
	if(d->state_size > EDGE_ANOMALY_STATE_MAX){
		snprintf(err, len, "detector library %s: detector '%s' wants %zu bytes per series; at most %d", path, d->name,
				d->state_size, EDGE_ANOMALY_STATE_MAX);
		return false;
	}
	if(d->param_count > EA_MAX_PARAMS){
		snprintf(err, len, "detector library %s: detector '%s' has %zu parameters; at most %d", path, d->name,
				d->param_count, EA_MAX_PARAMS);
		return false;
	}
	if(d->param_count > 0 && d->params == NULL){
		snprintf(err, len, "detector library %s: detector '%s' has %zu parameters but no table of them", path,
				d->name, d->param_count);
		return false;
	}
	for(k = 0; k < d->param_count; k++){
		const struct edge_anomaly_param *q = &d->params[k];
		size_t j;
		if(!name_ok(q->name) || !text_ok(q->doc) || q->kind < EDGE_ANOMALY_PARAM_NUMBER
				|| q->kind > EDGE_ANOMALY_PARAM_BOOL || !(q->min <= q->max)
				|| !(isnan(q->default_value) || (q->default_value >= q->min && q->default_value <= q->max))){
			snprintf(err, len, "detector library %s: parameter %zu of detector '%s' is malformed (name, doc, kind, "
					"min <= max, default within them)", path, k + 1, d->name);
			return false;
		}
		for(j = 0; j < k; j++){
			if(strcmp(d->params[j].name, q->name) == 0){
				snprintf(err, len, "detector library %s: detector '%s' has two parameters called '%s'", path,
						d->name, q->name);
				return false;
			}
		}
	}
	return true;
}

size_t ea_plugin__check_list(const struct edge_anomaly_detector *const *list, size_t room, const char *path,
		char *err, size_t len)
{
	size_t n = 0, i;

	while(list != NULL && list[n] != NULL && n <= PLUGIN_SLOTS) n++;
	if(n == 0){
		snprintf(err, len, "detector library %s lists no detectors", path);
		return 0;
	}
	/* The version before anything else, so a library for another ABI is
	 * always told so, whatever else is wrong with it. */
	for(i = 0; i < n; i++){
		if(list[i]->abi_version != EDGE_ANOMALY_DETECTOR_ABI){
			(void)table_ok(list[i], path, err, len);
			return 0;
		}
	}
	if(n > room){
		snprintf(err, len, "detector library %s: at most %d detectors can be loaded from libraries; %zu more do not fit",
				path, PLUGIN_SLOTS, n);
		return 0;
	}
	for(i = 0; i < n; i++){
		size_t k;
		if(!table_ok(list[i], path, err, len)) return 0;
		for(k = 0; k < i; k++){
			if(strcmp(list[k]->name, list[i]->name) == 0) break;
		}
		if(k < i || ea_detector_find(list[i]->name) != NULL){
			snprintf(err, len, "detector library %s: a detector called '%s' exists already (built in or from "
					"another library)", path, list[i]->name);
			return 0;
		}
	}
	return n;
}

/* Refuses a file that anybody on the machine could replace or change. */
static bool permissions_ok(const char *resolved, const char *path, char *err, size_t len)
{
	char dir[PATH_MAX];
	struct stat st;

	if(stat(resolved, &st) != 0){
		snprintf(err, len, "detector library %s: cannot open: %m", path);
		return false;
	}
	if(!S_ISREG(st.st_mode)){
		snprintf(err, len, "detector library %s is not a regular file", path);
		return false;
	}
	if(st.st_mode & S_IWOTH){
		snprintf(err, len, "detector library %s is writable by every user, who could run code inside the broker "
				"that way: chmod o-w it", path);
		return false;
	}
	snprintf(dir, sizeof(dir), "%s", resolved);
	if(stat(dirname(dir), &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)){
		snprintf(err, len, "detector library %s is in a directory every user may write to, so anybody could "
				"replace it: move it or chmod o-w the directory", path);
		return false;
	}
	return true;
}

static const char *library_loaded(const char *resolved)
{
	size_t i, n = atomic_load(&slot_count);
	for(i = 0; i < n; i++) if(strcmp(slots[i].library, resolved) == 0) return slots[i].library;
	return NULL;
}

static void fill_slot(struct plugin_slot *slot, size_t index, const struct edge_anomaly_detector *d)
{
	size_t k;

	slot->user = d;
	for(k = 0; k < d->param_count; k++){
		slot->specs[k].name = d->params[k].name;
		slot->specs[k].kind = (ea_param_kind)d->params[k].kind; /* same values: asserted above */
		slot->specs[k].default_value = d->params[k].default_value;
		slot->specs[k].min = d->params[k].min;
		slot->specs[k].max = d->params[k].max;
		slot->specs[k].doc = d->params[k].doc;
	}
	slot->type.name = d->name;
	slot->type.kind = d->kind;
	slot->type.summary = d->summary;
	slot->type.params = slot->specs;
	slot->type.param_count = d->param_count;
	slot->type.state_size = d->state_size;
	slot->type.state_size_for = NULL;
	slot->type.numeric_only = d->numeric_only != 0;
	slot->type.wants_desired = d->wants_desired != 0;
	slot->type.validate = d->validate != NULL ? slot_funcs[index].validate : NULL;
	slot->type.observe = slot_funcs[index].observe;
	slot->type.idle = d->idle != NULL ? slot_funcs[index].idle : NULL;
}

const char *ea_plugin_detectors_load(const char *path, char *err, size_t len)
{
	char resolved[PATH_MAX];
	const struct edge_anomaly_detector *const *(*entry)(void);
	const struct edge_anomaly_detector *const *list;
	const char *library = NULL;
	char *owned;
	void *handle;
	size_t n, i, base;

	if(!atomic_load(&allowed)){
		snprintf(err, len, "detector libraries cannot be loaded by this program");
		return NULL;
	}
	if(realpath(path, resolved) == NULL){
		snprintf(err, len, "detector library %s: cannot open: %m", path);
		return NULL;
	}
	pthread_mutex_lock(&load_lock);
	library = library_loaded(resolved);
	if(library != NULL) goto out; /* the same file again: nothing to do */
	if(!permissions_ok(resolved, path, err, len)) goto out;
	handle = dlopen(resolved, RTLD_NOW | RTLD_LOCAL);
	if(handle == NULL){
		snprintf(err, len, "detector library %s: %s", path, dlerror());
		goto out;
	}
	*(void **)&entry = dlsym(handle, EDGE_ANOMALY_ENTRY_SYMBOL);
	if(entry == NULL){
		snprintf(err, len, "detector library %s does not export %s(): not an edge-anomaly detector library", path,
				EDGE_ANOMALY_ENTRY_SYMBOL);
		dlclose(handle);
		goto out;
	}
	list = entry();
	base = atomic_load(&slot_count);
	n = ea_plugin__check_list(list, PLUGIN_SLOTS - base, path, err, len);
	owned = n > 0 ? strdup(resolved) : NULL;
	if(owned == NULL){
		if(n > 0) snprintf(err, len, "out of memory");
		dlclose(handle); /* nothing of it was published */
		goto out;
	}
	/* From here on the library stays loaded (see the top of this file). */
	for(i = 0; i < n; i++){
		memset(&slots[base + i], 0, sizeof(slots[base + i]));
		slots[base + i].library = owned;
		fill_slot(&slots[base + i], base + i, list[i]);
	}
	atomic_store(&slot_count, base + n); /* publishes them all at once */
	library = owned;
out:
	pthread_mutex_unlock(&load_lock);
	return library;
}

/* Runs when the code holding the table is unmapped: at exit, or when the
 * broker unloads edge_anomaly.so (mosquitto dlcloses its plugins before it
 * exits, which would otherwise turn the path copies into leaks). The
 * libraries themselves stay mapped: nothing of them needs freeing. */
__attribute__((destructor)) static void free_library_paths(void)
{
	size_t i, n = atomic_exchange(&slot_count, 0);

	for(i = 0; i < n; i++){
		if(i + 1 == n || slots[i + 1].library != slots[i].library) free(slots[i].library);
		slots[i].library = NULL;
	}
}

const ea_detector_type *ea_plugin_detector_find(const char *name)
{
	size_t i, n = atomic_load(&slot_count);

	for(i = 0; i < n; i++) if(strcmp(slots[i].type.name, name) == 0) return &slots[i].type;
	return NULL;
}

const ea_detector_type *ea_plugin_detector_at(size_t index)
{
	return index < atomic_load(&slot_count) ? &slots[index].type : NULL;
}

const char *ea_plugin_detector_library(const ea_detector_type *type)
{
	size_t i, n = atomic_load(&slot_count);

	for(i = 0; i < n; i++) if(&slots[i].type == type) return slots[i].library;
	return NULL;
}
