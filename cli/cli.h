/* cli.h — the subcommands of the mailsim command.
 *
 * Each subcommand is a function taking its own argv (argv[0] = the
 * subcommand's name) and returning the process exit status: 0 success,
 * 1 the run completed but found a failure (e.g. a stream that did not
 * arrive), 2 bad usage or bad input (message on stderr).
 */
#ifndef MAILSIM_CLI_H
#define MAILSIM_CLI_H

#include <glib.h>
#include <stdbool.h>

typedef int (*cli_cmd_fn)(int argc, char **argv);

int cli_cmd_run(int argc, char **argv);
int cli_cmd_check(int argc, char **argv);
int cli_cmd_diff(int argc, char **argv);
int cli_cmd_explain(int argc, char **argv);

/* Parses ARGV with ENTRIES; on error prints "mailsim NAME: message" and the
 * usage hint, returning false. SUMMARY is the --help description. */
bool cli_parse(const char *name, const char *params, const char *summary, GOptionEntry *entries,
               int *argc, char ***argv);

#endif
