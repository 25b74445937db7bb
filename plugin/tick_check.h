/* SPDX-License-Identifier: Apache-2.0
 *
 * tick_check.h - finds out, at start, whether this broker will ever call
 * the plugin's MOSQ_EVT_TICK callback.
 *
 * mosquitto 2.0.11 to 2.0.14 skip the tick entirely when
 * `per_listener_settings true` (src/plugin.c, plugin__handle_tick: "FIXME -
 * iterate over all listeners"); 2.0.15 fixed it. The plugin API tells a
 * plugin neither the broker version nor that setting, so this reads both
 * from the running broker: the version string in its executable
 * (/proc/self/exe) and the setting in the config file named by -c on its
 * command line (/proc/self/cmdline), following include_dir.
 */
#ifndef EA_TICK_CHECK_H
#define EA_TICK_CHECK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ea_broker_facts {
	int version_minor;     /* 2.0.N -> N; -1 when not found */
	int per_listener;      /* 1 true, 0 false, -1 unknown */
	char config_path[512]; /* "" when the broker runs without -c */
} ea_broker_facts;

/* Fills *facts from /proc/self. Never fails: unknown parts stay -1. */
void ea_broker_facts_read(ea_broker_facts *facts);

/* Reads `per_listener_settings` from a mosquitto config file and the files
 * of its include_dir lines. Returns 1, 0 (absent or false), -1 unreadable. */
int ea_mosquitto_conf_per_listener(const char *path);

/* Finds "2.0.N" in a mosquitto executable; returns N or -1. */
int ea_mosquitto_binary_minor(const char *exe_path);

/* true when these facts mean the tick will never fire. */
bool ea_broker_tick_broken(const ea_broker_facts *facts);

#endif
