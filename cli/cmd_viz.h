/* cmd_viz.h — the viewer's commands, for the lead to list in cli/cli.h and
 * in the command table of cli/mailsim.c. ARGV[0] is the command's name
 * ("render", "view"); options follow. They return the process exit status:
 * 0 on success, 2 on bad arguments or a bad trace (with a message on
 * stderr naming the file, line and what was expected), 1 on an I/O or
 * display failure. */
#ifndef MAILSIM_CMD_VIZ_H
#define MAILSIM_CMD_VIZ_H

int cli_cmd_render(int argc, char **argv);
int cli_cmd_view(int argc, char **argv);
/* `mailsim show`: run or take a trace, then the window if there is a
 * display, else pictures of the named moments (cmd_show.c). */
int cli_cmd_show(int argc, char **argv);

#endif
