/* Tests for the headless renderer: the same trace, time and size give the
 * same PNG bytes (twice in one process, and for every view); pictures at
 * different moments differ; bad sizes and times are errors; named moments
 * resolve on the synthetic journey; the frame's hit regions select what
 * is drawn where. Golden pictures of the real journey come with it. */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "testutil.h"
#include "viz_fixture.h"
#include "viz_render.h"

static viz_model *load(void) {
  size_t len;
  char *text = viz_fixture_trace(&len);
  viz_model *m = viz_model_load_memory("journey.jsonl", text, len, NULL);
  ck_assert_ptr_nonnull(m);
  g_free(text);
  return m;
}

static GBytes *png(const viz_model *m, const viz_view_state *s, int w, int h) {
  char *dir = g_dir_make_tmp("vizpng-XXXXXX", NULL);
  ck_assert_ptr_nonnull(dir);
  char *path = g_build_filename(dir, "out.png", NULL);
  GError *err = NULL;
  ck_assert_msg(viz_render_png(m, s, w, h, path, &err), "render: %s", err ? err->message : "");
  gchar *data;
  gsize len;
  ck_assert(g_file_get_contents(path, &data, &len, NULL));
  ck_assert_uint_gt(len, 1000);
  ck_assert(memcmp(data, "\x89PNG", 4) == 0);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  return g_bytes_new_take(data, len);
}

static const struct {
  const char *moment;
  unsigned views;
  bool select;
} shots[] = {
    {"first-submission", VIZ_VIEW_ALL, false}, {"mx-lookup", VIZ_VIEW_ALL, false},
    {"greylisting", VIZ_VIEW_ALL, true},       {"delivery", VIZ_VIEW_TOPOLOGY, false},
    {"imap-fetch", VIZ_VIEW_SEQUENCE, true},   {"fault", VIZ_VIEW_TIMELINE, false},
};

START_TEST(byte_identical) {
  viz_model *m = load();
  viz_view_state s;
  viz_view_state_init(&s, m);
  ck_assert_msg(viz_moment(m, shots[_i].moment, &s.t), "no moment %s", shots[_i].moment);
  s.views = shots[_i].views;
  if (shots[_i].select)
    ck_assert(viz_selection_parse(m, "msg:m1", &s.sel));
  GBytes *a = png(m, &s, 1280, 800), *b = png(m, &s, 1280, 800);
  ck_assert_msg(g_bytes_equal(a, b), "%s: two renders differ", shots[_i].moment);
  /* another moment gives another picture */
  s.t += 250 * FIX_MS;
  GBytes *c = png(m, &s, 1280, 800);
  ck_assert_msg(!g_bytes_equal(a, c), "%s: the picture ignores the time", shots[_i].moment);
  g_bytes_unref(a);
  g_bytes_unref(b);
  g_bytes_unref(c);
  viz_model_free(m);
}
END_TEST

START_TEST(pixels_show_state) {
  viz_model *m = load();
  viz_view_state s;
  viz_view_state_init(&s, m);
  s.views = VIZ_VIEW_TOPOLOGY;
  ck_assert(viz_moment(m, "fault", &s.t));
  s.t += FIX_S; /* the reader's link is down: a red dashed link with a label */
  SDL_Surface *down = viz_render_surface(m, &s, 800, 600, NULL);
  s.t = 50 * FIX_S;
  SDL_Surface *up = viz_render_surface(m, &s, 800, 600, NULL);
  ck_assert_ptr_nonnull(down);
  ck_assert_ptr_nonnull(up);
  /* count strongly red pixels (the palette's error red) */
  int red[2] = {0, 0};
  SDL_Surface *sf[2] = {down, up};
  for (int k = 0; k < 2; k++) {
    ck_assert_uint_eq(sf[k]->format->format, SDL_PIXELFORMAT_RGB888);
    for (int y = 0; y < sf[k]->h; y++) {
      const Uint32 *row = (const Uint32 *)(void *)((const Uint8 *)sf[k]->pixels + y * sf[k]->pitch);
      for (int x = 0; x < sf[k]->w; x++)
        if (row[x] == 0xD32F2F)
          red[k]++;
    }
  }
  ck_assert_msg(red[0] > 200 && red[1] < red[0] / 4, "red pixels: down %d, up %d", red[0], red[1]);
  SDL_FreeSurface(down);
  SDL_FreeSurface(up);
  viz_model_free(m);
}
END_TEST

START_TEST(moments_and_args) {
  viz_model *m = load();
  static const struct {
    const char *arg;
    int64_t want;
  } rows[] = {
      {"start", FIX_S},        {"end", 500 * FIX_S},   {"1m30s", 90 * FIX_S},
      {"250ms", 250 * FIX_MS}, {"fault", 101 * FIX_S},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    int64_t t = -1;
    GError *err = NULL;
    ck_assert_msg(viz_time_arg(m, rows[i].arg, &t, &err), "%s: %s", rows[i].arg,
                  err ? err->message : "");
    ck_assert_msg(t == rows[i].want, "%s: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT,
                  rows[i].arg, t, rows[i].want);
  }
  int64_t t;
  ck_assert(viz_moment(m, "delivery", &t));
  ck_assert(viz_moment(m, "imap-fetch", &t));
  ck_assert(!viz_moment(m, "pop3-fetch", &t));
  ck_assert(!viz_moment(m, "bounce", &t));
  GError *err = NULL;
  ck_assert(!viz_time_arg(m, "lunchtime", &t, &err));
  ck_assert(strstr(err->message, "lunchtime") && strstr(err->message, "greylisting"));
  g_clear_error(&err);
  ck_assert(!viz_time_arg(m, "5x", &t, &err));
  g_clear_error(&err);
  viz_selection sel;
  ck_assert(viz_selection_parse(m, "node:mx.bob.example", &sel) && sel.kind == VIZ_SEL_NODE);
  ck_assert(viz_selection_parse(m, "conn:0", &sel) && sel.kind == VIZ_SEL_CONN);
  ck_assert(!viz_selection_parse(m, "conn:99", &sel));
  ck_assert(!viz_selection_parse(m, "node:nobody", &sel));
  ck_assert(!viz_selection_parse(m, "bogus", &sel));
  unsigned views;
  ck_assert(viz_view_parse("all", &views) && views == VIZ_VIEW_ALL);
  ck_assert(!viz_view_parse("3d", &views));
  viz_view_state s;
  viz_view_state_init(&s, m);
  ck_assert_ptr_null(viz_render_surface(m, &s, 100, 100, &err));
  ck_assert(strstr(err->message, "100x100"));
  g_clear_error(&err);
  viz_model_free(m);
}
END_TEST

/* Hit regions: clicking where a host is drawn selects that host. */
START_TEST(hit_regions) {
  viz_model *m = load();
  SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
  ck_assert_int_eq(SDL_Init(0), 0);
  SDL_Surface *sf = SDL_CreateRGBSurfaceWithFormat(0, 1280, 800, 32, SDL_PIXELFORMAT_RGB888);
  SDL_Renderer *r = SDL_CreateSoftwareRenderer(sf);
  viz_render *v = viz_render_new(r, m, NULL);
  ck_assert_ptr_nonnull(v);
  viz_view_state s;
  viz_view_state_init(&s, m);
  viz_render_frame(v, &s, 1280, 800);
  uint32_t mx = viz_model_node_find(m, "mx.bob.example");
  bool found = false;
  for (int y = 40; y < 800 && !found; y += 2)
    for (int x = 0; x < 1280 && !found; x += 2) {
      viz_selection h = viz_render_hit(v, x, y);
      if (h.kind == VIZ_SEL_NODE && h.index == mx)
        found = true;
    }
  ck_assert(found);
  viz_selection none = viz_render_hit(v, 2, 2); /* the header bar */
  ck_assert_int_eq(none.kind, VIZ_SEL_NONE);
  int64_t t;
  ck_assert(!viz_render_timeline_time(v, 640, 100, &t));
  ck_assert(viz_render_timeline_time(v, 1263, 760, &t));
  ck_assert_int_eq(t, viz_model_t_last(m));
  viz_render_free(v);
  SDL_DestroyRenderer(r);
  SDL_FreeSurface(sf);
  viz_model_free(m);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("viz_render");
  TCase *tc = tcase_create("png");
  tcase_add_loop_test(tc, byte_identical, 0, G_N_ELEMENTS(shots));
  tcase_add_test(tc, pixels_show_state);
  suite_add_tcase(s, tc);
  tc = tcase_create("args");
  tcase_add_test(tc, moments_and_args);
  tcase_add_test(tc, hit_regions);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
