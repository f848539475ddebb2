/* Tests for cli/cmd_spf.c (`mailsim spf`): a zone file in, the result and
 * exit status out; bad usage and bad zone lines exit 2. Output goes to the
 * test's stdout (read by a human when it fails); the exit status is checked. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "cmd_spf.h"
#include "testutil.h"

static const char zone_text[] =
    "; test zone\n"
    "example.com. 300 IN TXT \"v=spf1 mx include:_spf.example.net -all\"\n"
    "example.com. 300 IN MX 10 mx.example.com.\n"
    "mx.example.com. 300 IN A 192.0.2.10\n"
    "_spf.example.net. 300 IN CNAME spf.example.org.\n"
    "spf.example.org. 300 IN TXT \"v=spf1 ip4:198.51.100.0/24 ~all\"\n";

static int run(const char *zone, const char *ip, const char *from) {
  char *argv[] = {"spf",           "--zone", (char *)zone, "--ip", (char *)ip, "--helo",
                  "h.example.org", "--from", (char *)from, "-v",   NULL};
  char **copy = g_memdup2(argv, sizeof argv); /* GOption reorders it */
  int r = cli_cmd_spf(10, copy);
  g_free(copy);
  return r;
}

START_TEST(test_cmd_spf) {
  char *dir = g_dir_make_tmp("cmdspf-XXXXXX", NULL);
  char *zone = g_build_filename(dir, "zone.txt", NULL);
  ck_assert(g_file_set_contents(zone, zone_text, -1, NULL));
  static const struct {
    const char *ip, *from;
    int want;
  } rows[] = {
      {"192.0.2.10", "a@example.com", 0},   /* mx */
      {"198.51.100.9", "a@example.com", 0}, /* include through a CNAME */
      {"203.0.113.5", "a@example.com", 1},  /* -all */
      {"203.0.113.5", "a@nowhere.test", 1}, /* none */
      {"not-an-ip", "a@example.com", 2},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    int got = run(zone, rows[i].ip, rows[i].from);
    ck_assert_msg(got == rows[i].want, "%s %s: got exit %d want %d", rows[i].ip, rows[i].from, got,
                  rows[i].want);
  }
  char *bad = g_build_filename(dir, "bad.txt", NULL);
  ck_assert(g_file_set_contents(bad, "example.com. 300 IN BOGUS x\n", -1, NULL));
  ck_assert_int_eq(run(bad, "192.0.2.1", "a@example.com"), 2);
  ck_assert_int_eq(run("/nonexistent/zone", "192.0.2.1", "a@example.com"), 2);
  g_remove(zone);
  g_remove(bad);
  g_rmdir(dir);
  g_free(zone);
  g_free(bad);
  g_free(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cmd_spf");
  TCase *t = tcase_create("cli");
  tcase_add_test(t, test_cmd_spf);
  suite_add_tcase(s, t);
  return testutil_run(s);
}
