/* SPDX-License-Identifier: Apache-2.0
 *
 * ea_topic.c - classifies KubeEdge device topics (see ea_topic.h). No
 * allocation; one pass over the topic.
 */
#include "ea_topic.h"

#include <string.h>

#define PREFIX_LEN (sizeof(EA_KUBEEDGE_PREFIX) - 1)
#define MAX_LEVELS 8

static const char default_ns[] = "default";

struct suffix {
	const char *levels[3];
	size_t count;
	ea_topic_kind kind;
};

static const struct suffix suffixes[] = {
	{ { "twin", "update", "document" }, 3, EA_TOPIC_TWIN_DOCUMENT },
	{ { "twin", "update", NULL }, 2, EA_TOPIC_TWIN_UPDATE },
	{ { "state", "update", NULL }, 2, EA_TOPIC_DEVICE_STATE },
};

static bool level_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* {service}/{profile}/{device}/{source}: four non-empty levels. */
static ea_err parse_edgex(const char *p, const char *end, ea_topic_info *out)
{
	const char *level[4];
	size_t lens[4], n = 0;
	const char *start = p;

	for(; ; p++){
		if(p == end || *p == '/'){
			if(n == 4 || p == start) return EA_ERR_UNSUPPORTED;
			level[n] = start;
			lens[n] = (size_t)(p - start);
			n++;
			if(p == end) break;
			start = p + 1;
		}
	}
	if(n != 4) return EA_ERR_UNSUPPORTED;
	out->kind = EA_TOPIC_EDGEX_EVENT;
	out->ns = EA_EDGEX_NAMESPACE;
	out->ns_len = sizeof(EA_EDGEX_NAMESPACE) - 1;
	out->device = level[2];
	out->device_len = lens[2];
	(void)level[0];
	return EA_ERR_OK;
}

ea_err ea_topic_parse(const char *topic, size_t len, ea_topic_info *out)
{
	const char *start[MAX_LEVELS];
	size_t lens[MAX_LEVELS];
	size_t count = 0, i, s;
	const char *p, *end = topic + len, *level;

	memset(out, 0, sizeof(*out));
	if(len > sizeof(EA_EDGEX_PREFIX) - 1 && memcmp(topic, EA_EDGEX_PREFIX, sizeof(EA_EDGEX_PREFIX) - 1) == 0){
		return parse_edgex(topic + sizeof(EA_EDGEX_PREFIX) - 1, end, out);
	}
	if(len <= PREFIX_LEN || memcmp(topic, EA_KUBEEDGE_PREFIX, PREFIX_LEN) != 0){
		return EA_ERR_UNSUPPORTED;
	}
	level = topic + PREFIX_LEN;
	for(p = level; ; p++){
		if(p == end || *p == '/'){
			if(count == MAX_LEVELS) return EA_ERR_UNSUPPORTED;
			start[count] = level;
			lens[count] = (size_t)(p - level);
			count++;
			if(p == end) break;
			level = p + 1;
		}
	}
	for(s = 0; s < sizeof(suffixes) / sizeof(suffixes[0]); s++){
		const struct suffix *sx = &suffixes[s];
		size_t id_levels;
		bool match = true;

		if(count < sx->count + 1) continue;
		id_levels = count - sx->count;
		if(id_levels > 2) continue;
		for(i = 0; i < sx->count; i++){
			if(!level_is(start[id_levels + i], lens[id_levels + i], sx->levels[i])){
				match = false;
				break;
			}
		}
		if(!match) continue;
		for(i = 0; i < id_levels; i++){
			if(lens[i] == 0) return EA_ERR_UNSUPPORTED;
		}
		out->kind = sx->kind;
		if(id_levels == 1){
			out->ns = default_ns;
			out->ns_len = sizeof(default_ns) - 1;
			out->device = start[0];
			out->device_len = lens[0];
		}else{
			out->ns = start[0];
			out->ns_len = lens[0];
			out->device = start[1];
			out->device_len = lens[1];
		}
		return EA_ERR_OK;
	}
	return EA_ERR_UNSUPPORTED;
}

uint64_t ea_topic_shard_hash(const char *topic, size_t len)
{
	ea_topic_info info;
	uint64_t h;

	if(ea_topic_parse(topic, len, &info) != EA_ERR_OK){
		return ea_hash_bytes(EA_HASH_SEED, topic, len);
	}
	h = ea_hash_bytes(EA_HASH_SEED, info.ns, info.ns_len);
	h = ea_hash_bytes(h, "/", 1);
	return ea_hash_bytes(h, info.device, info.device_len);
}

const char *ea_topic_kind_name(ea_topic_kind kind)
{
	switch(kind){
		case EA_TOPIC_TWIN_UPDATE: return "twin/update";
		case EA_TOPIC_TWIN_DOCUMENT: return "twin/update/document";
		case EA_TOPIC_DEVICE_STATE: return "state/update";
		case EA_TOPIC_EDGEX_EVENT: return "edgex event";
		case EA_TOPIC_UNKNOWN: break;
	}
	return "unknown";
}
