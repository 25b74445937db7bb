/* SPDX-License-Identifier: Apache-2.0
 *
 * cli.h - the subcommands of the `edge-anomaly` command line tool.
 *
 * cli.c holds main() and a table that maps each subcommand name to one of
 * the functions below. Each receives the arguments from the subcommand's
 * own name on (argv[0] is "simulate", "check-config", ...), borrowed from
 * main, and returns the process exit status: 0 success, 1 failure, 2 usage
 * error.
 */
#ifndef EA_CLI_H
#define EA_CLI_H

#include <stdio.h>

#define EA_CLI_NAME "edge-anomaly"
#define EA_CLI_VERSION "0.1.0"

/* Exit statuses shared by every subcommand. */
#define EA_EXIT_OK 0
#define EA_EXIT_FAIL 1
#define EA_EXIT_USAGE 2

/* `edge-anomaly simulate [options]`: a simulated KubeEdge mapper (simulate.c). */
int ea_cmd_simulate(int argc, char **argv);

/* `edge-anomaly check-config FILE`: loads and describes a YAML config
 * (check_config.c). */
int ea_cmd_check_config(int argc, char **argv);

/* `edge-anomaly replay ...`: recorded data through the detectors, offline
 * (replay_cmd.c). */
int ea_cmd_replay(int argc, char **argv);

/* `edge-anomaly export --db FILE ...`: the data mirror as a dataset
 * (export_cmd.c). */
int ea_cmd_export(int argc, char **argv);

/* `edge-anomaly report --db FILE ... --output F`: an HTML report of the
 * data mirror (report_cmd.c). */
int ea_cmd_report(int argc, char **argv);

/* `edge-anomaly help [SUBCOMMAND]` and `--help` (cli.c). */
int ea_cmd_help(int argc, char **argv);

/* `edge-anomaly --version` (cli.c). */
int ea_cmd_version(int argc, char **argv);

/* Gives a file made by mkstemp (0600) the mode a new output file gets,
 * 0666 less the umask (cli.c). */
void ea_cli_share_like_a_new_file(int fd);

/* Prints the tool's overall usage (cli.c). */
void ea_cli_usage(FILE *out);

#endif
