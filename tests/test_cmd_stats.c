/* Tests for cli/cmd_stats.c and viz/viz_plot.c: exit statuses, output
 * kinds, and a plot rendered twice is the same PNG byte for byte.
 * `test_cmd_stats --run ARGS...` runs `mailsim stats ARGS...` (a driver
 * while the command table lives in the lead's branch). */
#include <SDL.h>
#include <SDL_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_stats.h"
#include "stats_fixture.h"
#include "testutil.h"
#include "trace_stats.h"
#include "viz_plot.h"

static char *tmp_file(const char *tmpl, const char *text) {
  char *path = NULL;
  int fd = g_file_open_tmp(tmpl, &path, NULL);
  ck_assert_int_ge(fd, 0);
  if (text)
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  return path;
}

static int run(const char *a1, const char *a2, const char *a3, const char *a4) {
  char *argv[] = {"stats", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
  int argc = 1;
  while (argv[argc])
    argc++;
  /* cli_parse may rearrange argv: give it a copy it can own. */
  char **copy = g_new0(char *, argc + 1);
  memcpy(copy, argv, sizeof(char *) * (size_t)argc);
  int st = cli_cmd_stats(argc, copy);
  g_free(copy);
  return st;
}

START_TEST(exit_statuses) {
  char *t = stats_fixture_journey();
  char *good = tmp_file("stats-good-XXXXXX.jsonl", t);
  t[strlen(t) - 1] = '\0'; /* truncated: the last line loses its newline */
  char *cut = tmp_file("stats-cut-XXXXXX.jsonl", t);
  char *junk = tmp_file("stats-junk-XXXXXX.jsonl", "not a trace\n");
  static const struct {
    int which; /* 0 good, 1 cut, 2 junk, 3 missing */
    const char *opt, *opt2;
    int want;
  } rows[] = {
      {0, NULL, NULL, 0},      {0, "--csv", NULL, 0}, {1, NULL, NULL, 2},
      {2, NULL, NULL, 2},      {3, NULL, NULL, 2},    {0, "--plot", "/nonexistent-dir/x.png", 2},
      {0, "--bogus", NULL, 2},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    const char *file = rows[i].which == 0   ? good
                       : rows[i].which == 1 ? cut
                       : rows[i].which == 2 ? junk
                                            : "/nonexistent-trace.jsonl";
    int got = run(file, rows[i].opt, rows[i].opt2, NULL);
    ck_assert_msg(got == rows[i].want, "row %zu: got exit %d want %d", i, got, rows[i].want);
  }
  ck_assert_int_eq(run(NULL, NULL, NULL, NULL), 2); /* no TRACE */
  ck_assert_int_eq(run(good, good, NULL, NULL), 2); /* two */
  unlink(good);
  unlink(cut);
  unlink(junk);
  g_free(good);
  g_free(cut);
  g_free(junk);
  g_free(t);
}
END_TEST

static trace_stats *fixture_stats(void) {
  char *t = stats_fixture_journey();
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("journey", t, strlen(t), &err);
  ck_assert_ptr_nonnull(r);
  trace_stats *s = trace_stats_read(r, "journey", &err);
  ck_assert_ptr_nonnull(s);
  trace_reader_free(r);
  g_free(t);
  return s;
}

static GBytes *slurp(const char *path) {
  char *data = NULL;
  gsize n = 0;
  ck_assert(g_file_get_contents(path, &data, &n, NULL));
  return g_bytes_new_take(data, n);
}

/* Pixels of exactly colour RGB in the image at PATH. */
static long count_colour(const char *path, Uint8 r, Uint8 g, Uint8 b, int *w, int *h) {
  SDL_Surface *img = IMG_Load(path);
  ck_assert_msg(img != NULL, "%s", SDL_GetError());
  SDL_Surface *rgb = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_RGB888, 0);
  SDL_FreeSurface(img);
  long n = 0;
  for (int y = 0; y < rgb->h; y++)
    for (int x = 0; x < rgb->w; x++) {
      Uint32 p = ((Uint32 *)((Uint8 *)rgb->pixels + y * rgb->pitch))[x];
      n += ((p >> 16) & 0xff) == r && ((p >> 8) & 0xff) == g && (p & 0xff) == b;
    }
  *w = rgb->w;
  *h = rgb->h;
  SDL_FreeSurface(rgb);
  return n;
}

START_TEST(plot_twice_same_bytes) {
  trace_stats *s = fixture_stats();
  char *a = tmp_file("plot-a-XXXXXX.png", NULL), *b = tmp_file("plot-b-XXXXXX.png", NULL);
  GError *err = NULL;
  ck_assert_msg(viz_plot_stats(s, "journey", a, &err), "%s", err ? err->message : "");
  ck_assert_msg(viz_plot_stats(s, "journey", b, &err), "%s", err ? err->message : "");
  GBytes *ba = slurp(a), *bb = slurp(b);
  ck_assert_uint_gt(g_bytes_get_size(ba), 1000);
  ck_assert_msg(g_bytes_equal(ba, bb), "two renders differ");
  /* The three queue lines (legend colours) and the CDF line are drawn. */
  int w, h;
  static const Uint8 lines[][3] = {{0x00, 0x72, 0xb2}, {0xd5, 0x5e, 0x00}, {0x00, 0x9e, 0x73}};
  for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
    long n = count_colour(a, lines[i][0], lines[i][1], lines[i][2], &w, &h);
    ck_assert_msg(n > 100, "colour %zu: got %ld pixels want > 100", i, n);
  }
  ck_assert_int_eq(w, VIZ_PLOT_WIDTH);
  ck_assert_int_eq(h, VIZ_PLOT_HEIGHT);
  g_bytes_unref(ba);
  g_bytes_unref(bb);
  unlink(a);
  unlink(b);
  g_free(a);
  g_free(b);
  trace_stats_free(s);
}
END_TEST

START_TEST(round_ticks) {
  static const struct {
    int64_t max, unit;
    int maxticks;
    int64_t step;
    int dec;
  } rows[] = {
      {100, 1, 5, 20, 0}, /* percent axis */
      {3, 1, 5, 1, 0},    /* counts never get fractional steps */
      {303000000000, 1000000000, 8, 50000000000, 0},
      {1500000000, 1000000000, 8, 200000000, 1},
      {900000000, 1000000, 8, 200000000, 0}, /* 900 ms: 200 ms steps */
      {7, 1000000, 8, 1000, 3},              /* 7 ns in ms: 0.001 ms steps */
      {1, 1, 5, 1, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    int dec = -1;
    int64_t got = viz_plot_step(rows[i].max, rows[i].unit, rows[i].maxticks, &dec);
    ck_assert_msg(got == rows[i].step && dec == rows[i].dec,
                  "row %zu: got step %" G_GINT64_FORMAT " (%d decimals) want %" G_GINT64_FORMAT
                  " (%d)",
                  i, got, dec, rows[i].step, rows[i].dec);
  }
}
END_TEST

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--run") == 0) {
    argv[1] = "stats";
    return cli_cmd_stats(argc - 1, argv + 1);
  }
  Suite *s = suite_create("cmd_stats");
  TCase *tc = tcase_create("cmd");
  tcase_add_test(tc, exit_statuses);
  tcase_add_test(tc, round_ticks);
  tcase_add_test(tc, plot_twice_same_bytes);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
