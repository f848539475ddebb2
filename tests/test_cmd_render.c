/* Tests for `mailsim render` (cli_cmd_render): exit statuses for bad
 * arguments and bad traces, a picture at a named moment twice = the same
 * bytes, numbered frames, the moments listing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cmd_viz.h"
#include "testutil.h"
#include "viz_fixture.h"

static char *dir;

static char *write_file(const char *name, const char *data, size_t len) {
  char *path = g_build_filename(dir, name, NULL);
  ck_assert(g_file_set_contents(path, data, (gssize)len, NULL));
  return path;
}

static void setup(void) {
  dir = g_dir_make_tmp("cmdrender-XXXXXX", NULL);
  size_t len;
  char *text = viz_fixture_trace(&len);
  g_free(write_file("journey.jsonl", text, len));
  g_free(write_file("trunc.jsonl", text, len / 2));
  g_free(text);
}

static void teardown(void) {
  char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
  g_free(cmd);
  g_free(dir);
}

static int run(const char *args) {
  gchar **argv;
  char *line = g_strdup_printf("render %s", args);
  ck_assert(g_shell_parse_argv(line, NULL, &argv, NULL));
  int rc = cli_cmd_render((int)g_strv_length(argv), argv);
  g_strfreev(argv);
  g_free(line);
  return rc;
}

static const struct {
  const char *args; /* %s = the temporary directory */
  int want;
} rows[] = {
    {"", 2},
    {"%s/journey.jsonl", 2}, /* no --out */
    {"%s/journey.jsonl --out %s/a.png --size 10x10", 2},
    {"%s/journey.jsonl --out %s/a.png --view 3d", 2},
    {"%s/journey.jsonl --out %s/a.png --at lunchtime", 2},
    {"%s/journey.jsonl --out %s/a.png --select node:nobody", 2},
    {"%s/journey.jsonl --out %s/a.png --bogus", 2},
    {"%s/trunc.jsonl --out %s/a.png", 2},
    {"%s/missing.jsonl --out %s/a.png", 2},
    {"%s/journey.jsonl --out %s/no/such/dir/a.png", 1},
    {"%s/journey.jsonl --out %s/a.png --at greylisting --select msg:m1", 0},
    {"%s/journey.jsonl --moments", 0},
    {"%s/journey.jsonl --help", 0},
};

/* ARGS with every "%s" replaced by the temporary directory. */
static char *expand(const char *args) {
  gchar **parts = g_strsplit(args, "%s", -1);
  char *r = g_strjoinv(dir, parts);
  g_strfreev(parts);
  return r;
}

START_TEST(exit_statuses) {
  char *args = expand(rows[_i].args);
  int rc = run(args);
  ck_assert_msg(rc == rows[_i].want, "render %s: got %d want %d", args, rc, rows[_i].want);
  g_free(args);
}
END_TEST

START_TEST(same_bytes_and_frames) {
  char *a =
      g_strdup_printf("%s/journey.jsonl --out %s/1.png --at mx-lookup --size 800x600", dir, dir);
  char *b =
      g_strdup_printf("%s/journey.jsonl --out=%s/2.png --at=mx-lookup --size=800x600", dir, dir);
  ck_assert_int_eq(run(a), 0);
  ck_assert_int_eq(run(b), 0);
  char *p1 = g_build_filename(dir, "1.png", NULL), *p2 = g_build_filename(dir, "2.png", NULL);
  gchar *d1, *d2;
  gsize n1, n2;
  ck_assert(g_file_get_contents(p1, &d1, &n1, NULL));
  ck_assert(g_file_get_contents(p2, &d2, &n2, NULL));
  ck_assert(n1 == n2 && memcmp(d1, d2, n1) == 0);
  char *f = g_strdup_printf(
      "%s/journey.jsonl --frames %s/frames --from 1s --to 1s100ms --step 10ms", dir, dir);
  ck_assert_int_eq(run(f), 0);
  char *last = g_build_filename(dir, "frames", "frame-000011.png", NULL);
  char *none = g_build_filename(dir, "frames", "frame-000012.png", NULL);
  ck_assert(g_file_test(last, G_FILE_TEST_EXISTS));
  ck_assert(!g_file_test(none, G_FILE_TEST_EXISTS));
  g_free(a), g_free(b), g_free(f), g_free(p1), g_free(p2), g_free(d1), g_free(d2);
  g_free(last), g_free(none);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cmd_render");
  TCase *tc = tcase_create("cli");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, exit_statuses, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, same_bytes_and_frames);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
