/* cmd_show.c — `mailsim show`: the one command that does the right thing
 * for a newcomer. It runs a scenario (or takes a trace), then opens the
 * viewer's window when there is a display and otherwise writes pictures
 * of the named moments and says where.
 *
 *   mailsim show SCENARIO|TRACE [--out DIR] [--seed N] [--pictures] [--size WxH]
 *                [--max-frames N] [--screenshot PNG]
 *
 * "A display" means DISPLAY or WAYLAND_DISPLAY is set and SDL opens a
 * window on a real video driver (not its offscreen or dummy one); if the
 * window cannot be opened the pictures are written instead, with the
 * reason. A file whose name ends in ".jsonl" (or "-") is a trace; anything
 * else is a scenario, run first with its trace written to DIR.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_viz.h"
#include "viz_model.h"
#include "viz_render.h"
#include "viz_window.h"

static const char show_usage[] =
    "usage: mailsim show SCENARIO|TRACE [--out DIR] [--seed N] [--pictures] [--size WxH]\n"
    "                    [--max-frames N] [--screenshot PNG]\n"
    "Runs SCENARIO (its trace and summary: like 'mailsim run', the trace goes to DIR),\n"
    "or takes TRACE (a file ending in .jsonl), then:\n"
    "  with a display (DISPLAY or WAYLAND_DISPLAY, and SDL opens a window) the viewer's\n"
    "  window opens (keys: H help, Space play, Q quit);\n"
    "  without one, or with --pictures, it writes PNG pictures of the named moments\n"
    "  (first-submission, mx-lookup, greylisting, delivery, imap-fetch; 'end' if the\n"
    "  trace has none of them) to DIR as NAME-MOMENT.png and prints their paths.\n"
    "Options:\n"
    "  --out DIR         where the trace and pictures go (default: out)\n"
    "  --seed N          the run's root seed (a scenario only)\n"
    "  --pictures        write the pictures even when there is a display\n"
    "  --size WxH        window or picture size (default 1280x800)\n"
    "  --max-frames N    close the window after N frames (for scripts and tests)\n"
    "  --screenshot PNG  save the window's last frame\n"
    "Exit status: 0 shown, 1 the run lost a message (still shown) or an I/O error,\n"
    "2 bad arguments, a bad scenario or a bad trace.\n";

static const char *const show_moments[] = {"first-submission", "mx-lookup", "greylisting",
                                           "delivery", "imap-fetch"};

typedef struct {
  const char *input, *out, *seed, *size, *shot;
  int max_frames, w, h;
  bool pictures;
} show_opts;

static int parse(int argc, char **argv, show_opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(show_usage, stdout);
      return 0;
    }
    if (strcmp(a, "--pictures") == 0) {
      o->pictures = true;
      continue;
    }
    const char **slot = strcmp(a, "--out") == 0          ? &o->out
                        : strcmp(a, "--seed") == 0       ? &o->seed
                        : strcmp(a, "--size") == 0       ? &o->size
                        : strcmp(a, "--screenshot") == 0 ? &o->shot
                                                         : NULL;
    if (strcmp(a, "--max-frames") == 0 && i + 1 < argc) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 1000000000) {
        fprintf(stderr, "mailsim show: --max-frames '%s': expected a count >= 1\n", argv[i]);
        return 2;
      }
      o->max_frames = (int)n;
    } else if (slot && i + 1 < argc) {
      *slot = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "mailsim show: unknown option or missing value '%s'\n%s", a, show_usage);
      return 2;
    } else if (!o->input) {
      o->input = a;
    } else {
      fprintf(stderr, "mailsim show: one SCENARIO or TRACE only\n%s", show_usage);
      return 2;
    }
  }
  if (!o->input) {
    fprintf(stderr, "mailsim show: expected a SCENARIO or a TRACE\n%s", show_usage);
    return 2;
  }
  if (o->size && (sscanf(o->size, "%dx%d", &o->w, &o->h) != 2 || o->w < 320 || o->h < 240 ||
                  o->w > 8192 || o->h > 8192)) {
    fprintf(stderr, "mailsim show: --size '%s': expected WxH from 320x240 to 8192x8192\n", o->size);
    return 2;
  }
  return -1;
}

/* The trace's stem for picture names: "out/journey.jsonl" -> "journey". */
static char *stem_of(const char *path) {
  char *base = g_path_get_basename(strcmp(path, "-") == 0 ? "stdin" : path);
  char *dot = strrchr(base, '.');
  if (dot && dot != base)
    *dot = '\0';
  return base;
}

static int write_pictures(const viz_model *m, const show_opts *o, const char *stem,
                          const char *why) {
  if (g_mkdir_with_parents(o->out, 0755) != 0) {
    fprintf(stderr, "mailsim show: cannot create %s: %s\n", o->out, g_strerror(errno));
    return 1;
  }
  GPtrArray *names = g_ptr_array_new();
  for (size_t i = 0; i < G_N_ELEMENTS(show_moments); i++)
    g_ptr_array_add(names, (gpointer)show_moments[i]);
  g_ptr_array_add(names, (gpointer) "end");
  int written = 0, rc = 0;
  GString *list = g_string_new(NULL);
  for (guint i = 0; i < names->len && rc == 0; i++) {
    const char *name = g_ptr_array_index(names, i);
    int64_t t;
    if (strcmp(name, "end") == 0 && written) /* "end" only when nothing else exists */
      break;
    if (!viz_moment(m, name, &t))
      continue;
    viz_view_state s;
    viz_view_state_init(&s, m);
    s.t = t;
    char *file = g_strdup_printf("%s-%s.png", stem, name);
    char *path = g_build_filename(o->out, file, NULL);
    GError *err = NULL;
    if (viz_render_png(m, &s, o->w ? o->w : 1280, o->h ? o->h : 800, path, &err)) {
      g_string_append_printf(list, "  %s\n", path);
      written++;
    } else {
      fprintf(stderr, "mailsim show: %s: %s\n", path, err->message);
      g_error_free(err);
      rc = 1;
    }
    g_free(path);
    g_free(file);
  }
  if (written)
    printf("%s; wrote %d picture%s of the named moments:\n%s", why, written,
           written == 1 ? "" : "s", list->str);
  g_string_free(list, TRUE);
  g_ptr_array_free(names, TRUE);
  return rc;
}

/* True if the window should be tried; *WHY says why not. */
static bool display_present(const char **why) {
  const char *drv = g_getenv("SDL_VIDEODRIVER");
  if (drv && (g_ascii_strcasecmp(drv, "offscreen") == 0 || g_ascii_strcasecmp(drv, "dummy") == 0)) {
    *why = "no display (SDL_VIDEODRIVER is an offscreen driver)";
    return false;
  }
  if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
    *why = "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)";
    return false;
  }
  return true;
}

bool cli_viz_is_trace(const char *input) {
  return g_str_has_suffix(input, ".jsonl") || strcmp(input, "-") == 0;
}

char *cli_viz_run_scenario(const char *cmd, const char *scenario, const char *dir, const char *seed,
                           int *run_rc) {
  /* like `mailsim run SCENARIO --trace DIR/NAME.jsonl [--seed N]` */
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    fprintf(stderr, "mailsim %s: cannot create %s: %s\n", cmd, dir, g_strerror(errno));
    *run_rc = 1;
    return NULL;
  }
  char *stem = stem_of(scenario), *file = g_strconcat(stem, ".jsonl", NULL);
  char *made = g_build_filename(dir, file, NULL);
  g_free(stem);
  g_free(file);
  char *run_argv[] = {
      "run", (char *)scenario, "--trace", made, seed ? "--seed" : NULL, (char *)seed, NULL};
  *run_rc = cli_cmd_run(seed ? 6 : 4, run_argv);
  if (*run_rc == 2) {
    g_free(made);
    return NULL;
  }
  return made;
}

int cli_cmd_show(int argc, char **argv) {
  show_opts o = {.out = "out"};
  int rc = parse(argc, argv, &o);
  if (rc >= 0)
    return rc;
  const char *trace = o.input;
  char *made = NULL;
  int run_rc = 0;
  if (!cli_viz_is_trace(o.input)) {
    made = cli_viz_run_scenario("show", o.input, o.out, o.seed, &run_rc);
    if (!made)
      return run_rc;
    trace = made;
  }
  GError *err = NULL;
  viz_model *m = viz_model_load(trace, &err);
  const char *why = NULL;
  bool window = !o.pictures && display_present(&why);
  if (!m) {
    fprintf(stderr, "mailsim show: %s\n", err->message);
    GError *werr = NULL;
    if (window && viz_window_error(err->message, o.max_frames, &werr) != 0)
      g_clear_error(&werr);
    g_error_free(err);
    g_free(made);
    return 2;
  }
  if (o.pictures)
    why = "--pictures";
  rc = 0;
  if (window) {
    viz_window_opts wo = {
        .w = o.w, .h = o.h, .t = -1, .max_frames = o.max_frames, .screenshot = o.shot};
    if (viz_window_run(m, &wo, &err) != 0) {
      fprintf(stderr, "mailsim show: %s\n", err->message);
      g_clear_error(&err);
      window = false;
      why = "no window could be opened";
    }
  }
  if (!window) {
    char *stem = stem_of(trace);
    rc = write_pictures(m, &o, stem, why);
    g_free(stem);
    if (rc == 0 && !o.pictures)
      printf("Open the viewer on a machine with a display: mailsim view %s\n", trace);
  }
  viz_model_free(m);
  g_free(made);
  return rc ? rc : run_rc;
}
