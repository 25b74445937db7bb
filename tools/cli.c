/* SPDX-License-Identifier: Apache-2.0
 *
 * cli.c - main() of the `edge-anomaly` command line tool.
 *
 * The tool drives the same detector library as the broker plugin. main()
 * looks the first argument up in a table of subcommands and hands the rest
 * of the command line to that subcommand's function (see cli.h); an unknown
 * subcommand is a usage error (exit 2).
 */
#include "cli.h"

#include "ea_detector.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;    /* argument synopsis for the usage text; NULL: hidden */
	const char *summary; /* one line */
};

static const struct subcommand subcommands[] = {
	{ "simulate", ea_cmd_simulate, "[options]",
		"publish simulated KubeEdge twin updates (with faults) to a broker" },
	{ "check-config", ea_cmd_check_config, "FILE",
		"load a YAML config and print the resolved routes and detectors" },
	{ "replay", ea_cmd_replay, "--input CSV|--capture JSONL --output F",
		"run recorded readings or captured messages through the detectors" },
	{ "export", ea_cmd_export, "--db FILE [filters]",
		"write the data mirror's samples, with their anomaly state, as CSV or JSON lines" },
	{ "report", ea_cmd_report, "--db FILE [filters] --output F",
		"write an HTML report of the data mirror: charts with anomalies marked, and their reasons" },
	{ "help", ea_cmd_help, "[SUBCOMMAND]", "show this help, or a subcommand's" },
	{ "--help", ea_cmd_help, NULL, NULL },
	{ "-h", ea_cmd_help, NULL, NULL },
	{ "--version", ea_cmd_version, NULL, NULL },
	{ "version", ea_cmd_version, NULL, NULL },
};

#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for(i = 0; i < SUBCOMMAND_COUNT; i++){
		if(strcmp(subcommands[i].name, name) == 0) return &subcommands[i];
	}
	return NULL;
}

void ea_cli_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: %s SUBCOMMAND [ARGS]\n\n", EA_CLI_NAME);
	fprintf(out, "Anomaly detection for KubeEdge device data (the CLI of the mosquitto plugin).\n\n");
	fprintf(out, "subcommands:\n");
	for(i = 0; i < SUBCOMMAND_COUNT; i++){
		const struct subcommand *c = &subcommands[i];
		char left[64];
		if(c->args == NULL) continue;
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		if(strlen(left) > 24) fprintf(out, "  %s\n  %-24s %s\n", left, "", c->summary);
		else fprintf(out, "  %-24s %s\n", left, c->summary);
	}
	fprintf(out, "  %-24s %s\n", "--version", "print the version");
	fprintf(out, "\nRun '%s help SUBCOMMAND' for a subcommand's options.\n", EA_CLI_NAME);
}

int ea_cmd_help(int argc, char **argv)
{
	const struct subcommand *c;
	char help_flag[] = "--help";
	char *sub_argv[3];

	if(argc < 2){
		ea_cli_usage(stdout);
		return EA_EXIT_OK;
	}
	if(argc > 2){
		fprintf(stderr, "%s help: expects at most one subcommand name\n", EA_CLI_NAME);
		return EA_EXIT_USAGE;
	}
	c = find_subcommand(argv[1]);
	if(c == NULL || c->args == NULL || c->run == ea_cmd_help){
		if(c == NULL){
			fprintf(stderr, "%s help: unknown subcommand '%s'\n\n", EA_CLI_NAME, argv[1]);
			ea_cli_usage(stderr);
			return EA_EXIT_USAGE;
		}
		ea_cli_usage(stdout);
		return EA_EXIT_OK;
	}
	/* The subcommand prints its own usage for --help. sub_argv points into
	 * argv (borrowed) and the local help_flag; the callee keeps neither. */
	sub_argv[0] = argv[1];
	sub_argv[1] = help_flag;
	sub_argv[2] = NULL;
	return c->run(2, sub_argv);
}

void ea_cli_share_like_a_new_file(int fd)
{
	mode_t mask = umask(0);

	umask(mask);
	if(fchmod(fd, 0666 & ~mask) != 0){
		/* the file stays 0600: safe, only less convenient */
	}
}

int ea_cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%s %s\n", EA_CLI_NAME, EA_CLI_VERSION);
	return EA_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct subcommand *c;

	if(argc < 2){
		fprintf(stderr, "%s: missing subcommand\n\n", EA_CLI_NAME);
		ea_cli_usage(stderr);
		return EA_EXIT_USAGE;
	}
	c = find_subcommand(argv[1]);
	if(c == NULL){
		fprintf(stderr, "%s: unknown subcommand '%s'\n\n", EA_CLI_NAME, argv[1]);
		ea_cli_usage(stderr);
		return EA_EXIT_USAGE;
	}
	/* Configs given to the CLI may name detector libraries. */
	ea_plugin_detectors_allow(true);
	/* The subcommand sees its own name as argv[0]. */
	return c->run(argc - 1, argv + 1);
}
