/* cmd_check.h — the invariant commands: `mailsim check-trace` (one trace,
 * offline) and `mailsim chaos` (many seeds with random faults). ARGV[0] is
 * the command's name. Exit status: 0 clean, 1 violations found, 2 bad
 * usage or unreadable input. */
#ifndef MAILSIM_CMD_CHECK_H
#define MAILSIM_CMD_CHECK_H

int cli_cmd_check_trace(int argc, char **argv);
int cli_cmd_chaos(int argc, char **argv);

#endif
