/* cmd_view.c — `mailsim view TRACE|SCENARIO`: the interactive window.
 *
 *   mailsim view TRACE|SCENARIO [--out DIR] [--seed N] [--at TIME] [--size WxH]
 *                [--play] [--max-frames N] [--screenshot PNG]
 *
 * A SCENARIO (any file not ending in ".jsonl") is run first, as `mailsim
 * show` does (cli_viz_run_scenario, cmd_show.c): its trace goes to
 * DIR/NAME.jsonl and its summary is printed; a bad scenario is exit 2 with
 * the loader's error. A trace that cannot be read is reported on stderr
 * and, when there is a display, in a window too; the exit status is then 2.
 * Without a display the command says so and points to `mailsim render`
 * (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_viz.h"
#include "viz_model.h"
#include "viz_window.h"

static const char view_usage[] =
    "usage: mailsim view TRACE|SCENARIO [--out DIR] [--seed N] [--at TIME] [--size WxH] [--play]\n"
    "                    [--max-frames N] [--screenshot PNG]\n"
    "Opens the viewer's window on TRACE (a file ending in .jsonl, or - for stdin); a\n"
    "SCENARIO is run first (its summary printed; like 'mailsim run', the trace goes to\n"
    "DIR/NAME.jsonl). Needs a display; without one use 'mailsim render' or 'mailsim show'.\n"
    "Options:\n"
    "  --out DIR         where a scenario's trace goes (default: out)\n"
    "  --seed N          the run's root seed (a scenario only)\n"
    "  --at TIME         start the cursor at TIME (\"1m30s\", or a moment: mx-lookup, ...)\n"
    "  --size WxH        window size (default 1280x800)\n"
    "  --play            start playing\n"
    "  --max-frames N    close the window after N frames (for scripts and tests)\n"
    "  --screenshot PNG  save the window's last frame\n"
    "Keys: H help, Space play/pause, arrows step and speed, Q quit.\n"
    "Exit status: 0 shown, 1 the run lost a message (still shown) or no window could be\n"
    "opened, 2 bad arguments, a bad scenario or a bad trace.\n";

int cli_cmd_view(int argc, char **argv) {
  const char *input = NULL, *at = NULL, *size = NULL, *shot = NULL, *out = "out", *seed = NULL;
  int max_frames = 0;
  bool play = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(view_usage, stdout);
      return 0;
    } else if (strcmp(a, "--play") == 0) {
      play = true;
    } else if ((strcmp(a, "--out") == 0 || strcmp(a, "--seed") == 0) && i + 1 < argc) {
      *(a[2] == 'o' ? &out : &seed) = argv[++i];
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
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "mailsim view: unknown option or missing value '%s'\n%s", a, view_usage);
      return 2;
    } else if (!input) {
      input = a;
    } else {
      fprintf(stderr, "mailsim view: one TRACE or SCENARIO only\n%s", view_usage);
      return 2;
    }
  }
  if (!input) {
    fprintf(stderr, "mailsim view: expected a TRACE or a SCENARIO\n%s", view_usage);
    return 2;
  }
  viz_window_opts o = {.t = -1, .play = play, .max_frames = max_frames, .screenshot = shot};
  if (size && sscanf(size, "%dx%d", &o.w, &o.h) != 2) {
    fprintf(stderr, "mailsim view: --size '%s': expected WxH (e.g. 1280x800)\n", size);
    return 2;
  }
  const char *trace = input;
  char *made = NULL;
  int run_rc = 0;
  if (!cli_viz_is_trace(input)) {
    made = cli_viz_run_scenario("view", input, out, seed, &run_rc);
    if (!made)
      return run_rc;
    trace = made;
  }
  GError *err = NULL;
  viz_model *m = viz_model_load(trace, &err);
  if (!m) {
    fprintf(stderr, "mailsim view: %s\n", err->message);
    GError *werr = NULL;
    if (viz_window_error(err->message, max_frames, &werr) != 0)
      g_clear_error(&werr); /* no display: stderr was enough */
    g_error_free(err);
    g_free(made);
    return 2;
  }
  if (at && !viz_time_arg(m, at, &o.t, &err)) {
    fprintf(stderr, "mailsim view: --at: %s\n", err->message);
    g_error_free(err);
    viz_model_free(m);
    g_free(made);
    return 2;
  }
  int rc = viz_window_run(m, &o, &err);
  if (rc) {
    fprintf(stderr, "mailsim view: %s (use 'mailsim render' without a display)\n", err->message);
    g_error_free(err);
  }
  viz_model_free(m);
  g_free(made);
  return rc ? rc : run_rc;
}
