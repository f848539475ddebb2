/* cmd_render.c — `mailsim render`: the viewer's pictures without a
 * display. One PNG at a time cursor, or a numbered series of frames.
 *
 *   mailsim render TRACE --out FILE.png [--at TIME] [--view topology|sequence|timeline|all]
 *                  [--size WxH] [--select node:NAME|msg:KEY|conn:N|link:N|event:N] [--linear]
 *   mailsim render TRACE --frames DIR [--fps N] [--from TIME] [--to TIME] [--step DURATION] ...
 *   mailsim render TRACE --moments          list the named moments and their times
 *
 * TIME is a duration from the start of the run ("1m30s", "250ms") or a
 * named moment of the trace ("first-submission", "mx-lookup",
 * "greylisting", "delivery", "imap-fetch", ...: see viz_moment), which is
 * what golden pictures use. Pictures are byte-reproducible.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>

#include "cmd_viz.h"
#include "trace_time.h"
#include "viz_model.h"
#include "viz_render.h"

static const char render_usage[] =
    "usage: mailsim render TRACE --out FILE.png [--at TIME] [--view "
    "topology|sequence|timeline|all]\n"
    "                      [--size WxH] [--select node:NAME|msg:KEY|conn:N|link:N|event:N]\n"
    "                      [--linear] [--proto smtp,dns,imap,pop3]\n"
    "       mailsim render TRACE --frames DIR [--fps N] [--from TIME] [--to TIME] [--step "
    "DURATION]\n"
    "       mailsim render TRACE --moments\n"
    "TIME: a duration (\"1m30s\", \"250ms\") or a moment: start, end, first-submission, "
    "mx-lookup,\n"
    "      greylisting, delivery, imap-fetch, pop3-fetch, bounce, fault.\n";

static const char *const moment_names[] = {
    "start",      "first-submission", "mx-lookup", "greylisting", "delivery",
    "imap-fetch", "pop3-fetch",       "bounce",    "fault",       "end"};

typedef struct {
  const char *trace, *out, *at, *view, *size, *select, *frames, *from, *to, *step, *fps, *proto;
  bool linear, moments, help;
} render_opts;

G_GNUC_PRINTF(1, 2)
static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "mailsim render: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n%s", render_usage);
  return 2;
}

static int parse_opts(int argc, char **argv, render_opts *o) {
  static const struct {
    const char *name;
    size_t off;
  } valued[] = {
      {"--out", G_STRUCT_OFFSET(render_opts, out)},
      {"--at", G_STRUCT_OFFSET(render_opts, at)},
      {"--view", G_STRUCT_OFFSET(render_opts, view)},
      {"--size", G_STRUCT_OFFSET(render_opts, size)},
      {"--select", G_STRUCT_OFFSET(render_opts, select)},
      {"--frames", G_STRUCT_OFFSET(render_opts, frames)},
      {"--from", G_STRUCT_OFFSET(render_opts, from)},
      {"--to", G_STRUCT_OFFSET(render_opts, to)},
      {"--step", G_STRUCT_OFFSET(render_opts, step)},
      {"--fps", G_STRUCT_OFFSET(render_opts, fps)},
      {"--proto", G_STRUCT_OFFSET(render_opts, proto)},
  };
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--linear") == 0) {
      o->linear = true;
      continue;
    }
    if (strcmp(a, "--moments") == 0) {
      o->moments = true;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = true;
      continue;
    }
    bool found = false;
    for (size_t k = 0; k < G_N_ELEMENTS(valued); k++) {
      size_t n = strlen(valued[k].name);
      if (strncmp(a, valued[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        continue;
      const char **slot = (const char **)(void *)((char *)o + valued[k].off);
      if (a[n] == '=') {
        *slot = a + n + 1;
      } else {
        if (i + 1 >= argc)
          return usage_error("%s needs a value", valued[k].name);
        *slot = argv[++i];
      }
      found = true;
      break;
    }
    if (found)
      continue;
    if (a[0] == '-' && a[1] != '\0')
      return usage_error("unknown option '%s'", a);
    if (o->trace)
      return usage_error("one trace only (got another: '%s')", a);
    o->trace = a;
  }
  return 0;
}

static bool parse_size(const char *s, int *w, int *h) {
  char *end;
  long a = strtol(s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X'))
    return false;
  const char *p = end + 1;
  long b = strtol(p, &end, 10);
  if (end == p || *end || a < 320 || b < 240 || a > 16384 || b > 16384)
    return false;
  *w = (int)a;
  *h = (int)b;
  return true;
}

static bool time_opt(const viz_model *m, const char *name, const char *text, int64_t *t) {
  GError *err = NULL;
  if (viz_time_arg(m, text, t, &err))
    return true;
  fprintf(stderr, "mailsim render: %s: %s\n", name, err->message);
  g_error_free(err);
  return false;
}

static int list_moments(const viz_model *m) {
  for (size_t i = 0; i < G_N_ELEMENTS(moment_names); i++) {
    int64_t t;
    char buf[TRACE_TIME_BUFSZ];
    if (viz_moment(m, moment_names[i], &t))
      printf("%-18s %s\n", moment_names[i], trace_time_format(t, buf));
  }
  return 0;
}

static int render_frames(const viz_model *m, viz_view_state *st, int w, int h,
                         const render_opts *o) {
  int64_t from = viz_model_t_first(m), to = viz_model_t_last(m), step = 0;
  long fps = 25;
  if (o->fps) {
    char *end;
    fps = strtol(o->fps, &end, 10);
    if (end == o->fps || *end || fps < 1 || fps > 240)
      return usage_error("--fps '%s': expected an integer from 1 to 240", o->fps);
  }
  if ((o->from && !time_opt(m, "--from", o->from, &from)) ||
      (o->to && !time_opt(m, "--to", o->to, &to)))
    return 2;
  if (o->step) {
    GError *err = NULL;
    if (!trace_time_parse(o->step, &step, &err) || step <= 0) {
      fprintf(stderr, "mailsim render: --step: %s\n",
              err ? err->message : "expected a duration above 0");
      g_clear_error(&err);
      return 2;
    }
  } else {
    step = MAX((to - from) / (fps * 20), 1); /* the run in 20 seconds of video */
  }
  if (to < from)
    return usage_error("--to is before --from ('%s')", o->to);
  int64_t count = (to - from) / step + 1;
  if (count > 100000)
    return usage_error("%s: more than 100000 frames: use a larger --step or a shorter range",
                       o->frames);
  if (g_mkdir_with_parents(o->frames, 0777) != 0) {
    fprintf(stderr, "mailsim render: %s: %s\n", o->frames, g_strerror(errno));
    return 1;
  }
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  if (SDL_Init(0) != 0) {
    fprintf(stderr, "mailsim render: SDL_Init: %s\n", SDL_GetError());
    return 1;
  }
  SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
  SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
  GError *err = NULL;
  viz_render *v = r ? viz_render_new(r, m, &err) : NULL;
  int rc = 0;
  if (!v) {
    fprintf(stderr, "mailsim render: %s\n", err ? err->message : SDL_GetError());
    g_clear_error(&err);
    rc = 1;
  }
  for (int64_t k = 0; rc == 0 && k < count; k++) {
    st->t = from + k * step;
    st->playing = true;
    viz_render_frame(v, st, w, h);
    SDL_RenderPresent(r);
    char name[32];
    g_snprintf(name, sizeof name, "frame-%06" G_GINT64_FORMAT ".png", k + 1);
    char *path = g_build_filename(o->frames, name, NULL);
    if (IMG_SavePNG(surf, path) != 0) {
      fprintf(stderr, "mailsim render: %s: %s\n", path, IMG_GetError());
      rc = 1;
    }
    g_free(path);
  }
  if (rc == 0)
    printf("%" G_GINT64_FORMAT " frames in %s (%ld fps)\n", count, o->frames, fps);
  viz_render_free(v);
  if (r)
    SDL_DestroyRenderer(r);
  SDL_FreeSurface(surf);
  SDL_Quit();
  return rc;
}

int cli_cmd_render(int argc, char **argv) {
  render_opts o = {0};
  int rc = parse_opts(argc, argv, &o);
  if (rc)
    return rc;
  if (o.help) {
    fputs(render_usage, stdout);
    return 0;
  }
  if (!o.trace)
    return usage_error("%s", "expected a TRACE file");
  if (!o.moments && !o.out && !o.frames)
    return usage_error("%s", "expected --out FILE.png or --frames DIR");
  int w = 1280, h = 800;
  if (o.size && !parse_size(o.size, &w, &h))
    return usage_error("--size '%s': expected WxH, 320x240 to 16384x16384 (e.g. 1280x800)", o.size);
  GError *err = NULL;
  viz_model *m = viz_model_load(o.trace, &err);
  if (!m) {
    fprintf(stderr, "mailsim render: %s\n", err->message);
    g_error_free(err);
    return 2;
  }
  if (o.moments) {
    rc = list_moments(m);
    viz_model_free(m);
    return rc;
  }
  viz_view_state st;
  viz_view_state_init(&st, m);
  st.seq_linear = o.linear;
  if (o.view && !viz_view_parse(o.view, &st.views)) {
    viz_model_free(m);
    return usage_error("--view '%s': expected topology, sequence, timeline or all", o.view);
  }
  if (o.select && !viz_selection_parse(m, o.select, &st.sel)) {
    viz_model_free(m);
    return usage_error(
        "--select '%s': expected node:NAME, msg:KEY, conn:N, link:N or event:N naming "
        "something in the trace",
        o.select);
  }
  if (o.proto) {
    char **names = g_strsplit(o.proto, ",", -1);
    for (int i = 0; names[i] && rc == 0; i++) {
      viz_proto p = VIZ_PROTO_NONE;
      for (int k = 1; k < VIZ_PROTO_COUNT; k++)
        if (g_ascii_strcasecmp(names[i], viz_proto_name((viz_proto)k)) == 0)
          p = (viz_proto)k;
      if (p == VIZ_PROTO_NONE)
        rc = usage_error("--proto '%s': expected smtp, dns, imap or pop3 (comma-separated)",
                         names[i]);
      st.proto_mask |= 1u << p;
    }
    g_strfreev(names);
    if (rc) {
      viz_model_free(m);
      return rc;
    }
  }
  if (o.frames) {
    rc = render_frames(m, &st, w, h, &o);
  } else if (o.at && !time_opt(m, "--at", o.at, &st.t)) {
    rc = 2;
  } else if (!viz_render_png(m, &st, w, h, o.out, &err)) {
    fprintf(stderr, "mailsim render: %s\n", err->message);
    g_error_free(err);
    rc = 1;
  }
  viz_model_free(m);
  return rc;
}
