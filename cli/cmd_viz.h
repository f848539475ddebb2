/* cmd_viz.h — the viewer's commands, for the lead to list in cli/cli.h and
 * in the command table of cli/mailsim.c. ARGV[0] is the command's name
 * ("render", "view"); options follow. They return the process exit status:
 * 0 on success, 2 on bad arguments or a bad trace (with a message on
 * stderr naming the file, line and what was expected), 1 on an I/O or
 * display failure. */
#ifndef MAILSIM_CMD_VIZ_H
#define MAILSIM_CMD_VIZ_H

#include <glib.h>
#include <stdbool.h>

#include "trace_stats.h"

int cli_cmd_render(int argc, char **argv);
int cli_cmd_view(int argc, char **argv);
/* `mailsim show`: run or take a trace, then the window if there is a
 * display, else pictures of the named moments (cmd_show.c). */
int cli_cmd_show(int argc, char **argv);

/* Shared by `show` and `view` (cmd_show.c). True if INPUT names a trace (a
 * file ending in ".jsonl", or "-"); anything else is a scenario. */
bool cli_viz_is_trace(const char *input);
/* Runs SCENARIO like `mailsim run SCENARIO --trace DIR/NAME.jsonl [--seed
 * SEED]` (SEED may be NULL), creating DIR; the run's summary, or the
 * loader's error, goes to stdout/stderr. Returns the trace's path (free with
 * g_free) with *RUN_RC = run's exit status (0, or 1: a message was lost);
 * NULL with *RUN_RC = 2 for a bad scenario or 1 if DIR cannot be created
 * (message on stderr prefixed "mailsim CMD: "). */
char *cli_viz_run_scenario(const char *cmd, const char *scenario, const char *dir, const char *seed,
                           int *run_rc);

/* The viewer lives in its own executable, `mailsim-viz`, beside `mailsim`
 * (cli/viz_exec.c says why). In `mailsim`, cli_cmd_render, cli_cmd_view and
 * cli_cmd_show hand over to it; cli_viz_linked() tells the two apart. */
bool cli_viz_linked(void);
/* `mailsim` only: replaces the process with mailsim-viz, found in the
 * directory of /proc/self/exe, running ARGV (NULL-terminated, argv[0] the
 * command's name). Returns only on failure: 1, with a message on stderr. */
int cli_viz_exec(char **argv);
/* `mailsim-viz` only: viz_plot_stats (viz/viz_plot.h). */
bool cli_viz_plot_stats(const trace_stats *s, const char *title, const char *png_path, GError **err);

#endif
