/* viz_exec.c — the viewer's commands in `mailsim`, which does not link
 * SDL2: `render`, `view`, `show` and `stats --plot` hand the process over
 * to `mailsim-viz`, built and installed beside it, with the same arguments.
 *
 * Why two executables: SDL2, SDL2_ttf and SDL2_image pull in ~60 shared
 * libraries whose loading and relocation cost every process ~10 ms (~25 M
 * instructions, measured with callgrind and LD_DEBUG=statistics) before
 * main; `run`, `check`, `explain` and the other trace tools never draw, so
 * they no longer pay it. The exec keeps the exit status, the signals and
 * the standard streams of one process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_viz.h"

bool cli_viz_linked(void) {
  return false;
}

int cli_viz_exec(char **argv) {
  GError *err = NULL;
  char *self = g_file_read_link("/proc/self/exe", &err);
  if (!self) {
    fprintf(stderr, "mailsim %s: cannot find the viewer: %s\n", argv[0], err->message);
    g_error_free(err);
    return 1;
  }
  char *dir = g_path_get_dirname(self);
  char *viz = g_build_filename(dir, "mailsim-viz", NULL);
  guint n = g_strv_length(argv);
  char **args = g_new0(char *, n + 2);
  args[0] = viz;
  memcpy(args + 1, argv, n * sizeof *argv);
  fflush(NULL);
  execv(viz, args);
  fprintf(stderr, "mailsim %s: cannot run the viewer %s: %s\n", argv[0], viz, g_strerror(errno));
  g_free(args);
  g_free(viz);
  g_free(dir);
  g_free(self);
  return 1;
}

int cli_cmd_render(int argc, char **argv) {
  (void)argc;
  return cli_viz_exec(argv);
}

int cli_cmd_view(int argc, char **argv) {
  (void)argc;
  return cli_viz_exec(argv);
}

int cli_cmd_show(int argc, char **argv) {
  (void)argc;
  return cli_viz_exec(argv);
}

bool cli_viz_plot_stats(const trace_stats *s, const char *title, const char *png_path, GError **err) {
  (void)s, (void)title, (void)png_path, (void)err;
  g_error("cli_viz_plot_stats: mailsim hands `stats --plot` to mailsim-viz first");
}
