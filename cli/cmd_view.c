/* cmd_view.c — `mailsim view TRACE`: the interactive window.
 *
 *   mailsim view TRACE [--at TIME] [--size WxH] [--play] [--max-frames N] [--screenshot PNG]
 *
 * A trace that cannot be read is reported on stderr and, when there is a
 * display, in a window too; the exit status is then 2. Without a display
 * the command says so and points to `mailsim render` (exit 1).
 * (Running a SCENARIO first, `mailsim view SCENARIO`, is the lead's wiring:
 * run it to a trace, then call this.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_viz.h"
#include "viz_model.h"
#include "viz_window.h"

static const char view_usage[] = "usage: mailsim view TRACE [--at TIME] [--size WxH] [--play]\n"
                                 "Keys: H help, Space play/pause, arrows step and speed, Q quit.\n";

int cli_cmd_view(int argc, char **argv) {
  const char *trace = NULL, *at = NULL, *size = NULL, *shot = NULL;
  int max_frames = 0;
  bool play = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(view_usage, stdout);
      return 0;
    } else if (strcmp(a, "--play") == 0) {
      play = true;
    } else if ((strcmp(a, "--at") == 0 || strcmp(a, "--size") == 0 ||
                strcmp(a, "--max-frames") == 0 || strcmp(a, "--screenshot") == 0) &&
               i + 1 < argc) {
      const char *val = argv[++i];
      if (a[2] == 'a')
        at = val;
      else if (strcmp(a, "--size") == 0)
        size = val;
      else if (a[3] == 'c')
        shot = val;
      else
        max_frames = atoi(val);
    } else if (a[0] == '-') {
      fprintf(stderr, "mailsim view: unknown option or missing value '%s'\n%s", a, view_usage);
      return 2;
    } else if (!trace) {
      trace = a;
    } else {
      fprintf(stderr, "mailsim view: one trace only\n%s", view_usage);
      return 2;
    }
  }
  if (!trace) {
    fprintf(stderr, "mailsim view: expected a TRACE file\n%s", view_usage);
    return 2;
  }
  viz_window_opts o = {.t = -1, .play = play, .max_frames = max_frames, .screenshot = shot};
  if (size && sscanf(size, "%dx%d", &o.w, &o.h) != 2) {
    fprintf(stderr, "mailsim view: --size '%s': expected WxH (e.g. 1280x800)\n", size);
    return 2;
  }
  GError *err = NULL;
  viz_model *m = viz_model_load(trace, &err);
  if (!m) {
    fprintf(stderr, "mailsim view: %s\n", err->message);
    GError *werr = NULL;
    if (viz_window_error(err->message, max_frames, &werr) != 0)
      g_clear_error(&werr); /* no display: stderr was enough */
    g_error_free(err);
    return 2;
  }
  if (at && !viz_time_arg(m, at, &o.t, &err)) {
    fprintf(stderr, "mailsim view: --at: %s\n", err->message);
    g_error_free(err);
    viz_model_free(m);
    return 2;
  }
  int rc = viz_window_run(m, &o, &err);
  if (rc) {
    fprintf(stderr, "mailsim view: %s (use 'mailsim render' without a display)\n", err->message);
    g_error_free(err);
  }
  viz_model_free(m);
  return rc;
}
