/* SPDX-License-Identifier: Apache-2.0
 *
 * tick_check.c - reads the broker's version and per_listener_settings from
 * /proc/self (see tick_check.h). Runs once, at plugin start.
 */
#include "tick_check.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_INCLUDE_DEPTH 4
#define MAX_EXE_BYTES (64u << 20)

static int conf_scan(const char *path, int depth);

static int scan_dir(const char *dir, int depth)
{
	struct dirent **names = NULL;
	int n, i, found = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if(n < 0) return -1;
	for(i = 0; i < n; i++){
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		if(found == 0 && len > 5 && strcmp(name + len - 5, ".conf") == 0){
			char full[1024];
			snprintf(full, sizeof(full), "%s/%s", dir, name);
			if(conf_scan(full, depth + 1) == 1) found = 1;
		}
		free(names[i]);
	}
	free(names);
	return found;
}

static int conf_scan(const char *path, int depth)
{
	FILE *f;
	char line[1024];
	int result = 0;

	if(depth > MAX_INCLUDE_DEPTH) return 0;
	f = fopen(path, "r");
	if(f == NULL) return -1;
	while(fgets(line, sizeof(line), f) != NULL){
		char *p = line, *key, *value, *end;

		while(isspace((unsigned char)*p)) p++;
		if(*p == '#' || *p == '\0') continue;
		key = strtok_r(p, " \t\r\n", &end);
		value = strtok_r(NULL, " \t\r\n", &end);
		if(key == NULL || value == NULL) continue;
		if(strcmp(key, "per_listener_settings") == 0){
			result = strcasecmp(value, "true") == 0 ? 1 : 0; /* the last line wins */
		}else if(strcmp(key, "include_dir") == 0){
			if(scan_dir(value, depth) == 1) result = 1;
		}
	}
	fclose(f);
	return result;
}

int ea_mosquitto_conf_per_listener(const char *path)
{
	return conf_scan(path, 0);
}

int ea_mosquitto_binary_minor(const char *exe_path)
{
	FILE *f = fopen(exe_path, "rb");
	char buf[65536 + 16];
	size_t carry = 0, total = 0;
	int found = -1;

	if(f == NULL) return -1;
	/* Look for a NUL-delimited string "2.0.N" (the VERSION literal). */
	while(found < 0 && total < MAX_EXE_BYTES){
		size_t got = fread(buf + carry, 1, sizeof(buf) - 16 - carry, f), n, i;
		if(got == 0) break;
		total += got;
		n = carry + got;
		for(i = 1; i + 6 < n; i++){
			size_t k;
			if(buf[i - 1] != '\0' || memcmp(buf + i, "2.0.", 4) != 0) continue;
			k = i + 4;
			while(k < n && isdigit((unsigned char)buf[k]) && k < i + 7) k++;
			if(k > i + 4 && k < n && buf[k] == '\0'){
				found = atoi(buf + i + 4);
				break;
			}
		}
		carry = n < 8 ? n : 8;
		memmove(buf, buf + n - carry, carry);
	}
	fclose(f);
	return found;
}

void ea_broker_facts_read(ea_broker_facts *facts)
{
	FILE *f;
	char cmdline[4096];
	size_t len, i;

	facts->version_minor = ea_mosquitto_binary_minor("/proc/self/exe");
	facts->per_listener = 0;
	facts->config_path[0] = '\0';
	f = fopen("/proc/self/cmdline", "rb");
	if(f == NULL){
		facts->per_listener = -1;
		return;
	}
	len = fread(cmdline, 1, sizeof(cmdline) - 1, f);
	fclose(f);
	cmdline[len] = '\0';
	for(i = 0; i < len; i += strlen(cmdline + i) + 1){
		const char *arg = cmdline + i;
		if((strcmp(arg, "-c") == 0 || strcmp(arg, "--config-file") == 0) && i + strlen(arg) + 1 < len){
			snprintf(facts->config_path, sizeof(facts->config_path), "%s", arg + strlen(arg) + 1);
			break;
		}
	}
	if(facts->config_path[0] != '\0'){
		facts->per_listener = ea_mosquitto_conf_per_listener(facts->config_path);
	}
}

bool ea_broker_tick_broken(const ea_broker_facts *facts)
{
	/* An unknown version (-1) counts as broken: the runtime check decides. */
	return facts->per_listener == 1 && facts->version_minor < 15;
}
