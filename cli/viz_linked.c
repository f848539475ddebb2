/* viz_linked.c — the viewer's hooks in `mailsim-viz`, which links SDL2 and
 * runs every command in its own process (see viz_exec.c for `mailsim`). */
#include "cmd_viz.h"
#include "viz_plot.h"

bool cli_viz_linked(void) {
  return true;
}

int cli_viz_exec(char **argv) {
  (void)argv;
  g_error("cli_viz_exec: mailsim-viz is the viewer; nothing to hand over");
}

bool cli_viz_plot_stats(const trace_stats *s, const char *title, const char *png_path, GError **err) {
  return viz_plot_stats(s, title, png_path, err);
}
