/* SPDX-License-Identifier: Apache-2.0
 *
 * check_config.c - `edge-anomaly check-config FILE`.
 *
 * Loads an operator's YAML config exactly as the broker plugin does
 * (ea_config_load_file) so a mistake is found before the broker refuses to
 * start. On error the library's message, which already names
 * FILE:LINE:COL and the key, goes to stderr and the exit status is 1; on
 * success "FILE: OK" and the resolved config (topics, routes, detector
 * parameters) go to stdout and the exit status is 0.
 */
#include "cli.h"
#include "ea_config.h"

#include <stdio.h>
#include <string.h>

static void check_config_usage(FILE *out)
{
	fprintf(out,
		"usage: %s check-config FILE\n"
		"\n"
		"Loads FILE as the plugin would (plugin_opt_config) and prints the resolved\n"
		"configuration: tapped topics, device filters, groups, routes and every\n"
		"detector parameter. Exit status: 0 valid, 1 invalid, 2 usage error.\n",
		EA_CLI_NAME);
}

int ea_cmd_check_config(int argc, char **argv)
{
	ea_config_error err;
	ea_config *cfg; /* owned here, freed before returning */
	const char *path;

	if(argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)){
		check_config_usage(stdout);
		return EA_EXIT_OK;
	}
	if(argc != 2 || argv[1][0] == '\0'){
		fprintf(stderr, "%s check-config: expects exactly one FILE\n\n", EA_CLI_NAME);
		check_config_usage(stderr);
		return EA_EXIT_USAGE;
	}
	path = argv[1];
	cfg = ea_config_load_file(path, &err);
	if(cfg == NULL){
		fprintf(stderr, "%s\n", err.message[0] != '\0' ? err.message : "invalid configuration");
		return EA_EXIT_FAIL;
	}
	printf("%s: OK\n", path);
	ea_config_describe(cfg, stdout);
	ea_config_free(cfg);
	if(fflush(stdout) != 0){
		perror("check-config: stdout");
		return EA_EXIT_FAIL;
	}
	return EA_EXIT_OK;
}
