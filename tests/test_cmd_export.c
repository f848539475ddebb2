/* Tests for cli/cmd_export.c: exit statuses of `mailsim export`.
 * `test_cmd_export --run ARGS...` runs `mailsim export ARGS...` (a driver
 * while the command table lives in the lead's branch); `--fixture` prints
 * the hand-built journey trace (for tests/mermaid_peer.mjs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_export.h"
#include "stats_fixture.h"
#include "testutil.h"

static int run(const char *a1, const char *a2, const char *a3, const char *a4) {
  const char *argv[] = {"export", a1, a2, a3, a4, NULL};
  int argc = 1;
  while (argc < 5 && argv[argc])
    argc++;
  char **copy = g_new0(char *, 6);
  memcpy(copy, argv, sizeof(char *) * (size_t)argc);
  /* stdout goes to the test log; only the status matters here. */
  int st = cli_cmd_export(argc, copy);
  g_free(copy);
  return st;
}

START_TEST(exit_statuses) {
  char *t = stats_fixture_journey();
  char *good = NULL;
  int fd = g_file_open_tmp("export-XXXXXX.jsonl", &good, NULL);
  ck_assert(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
  close(fd);
  static const struct {
    const char *a[4];
    int want;
  } rows[] = {
      {{"@", "--mermaid", NULL, NULL}, 0},
      {{"@", "--mermaid", "--message", "m2"}, 0},
      {{"@", "--mermaid", "--connection", "4"}, 0},
      {{"@", "--mermaid", "--message", "nosuch"}, 1},
      {{"@", "--mermaid", "--connection", "99"}, 1},
      {{"@", "--mermaid", "--connection", "x1"}, 2},
      {{"@", "--mermaid", "--connection", "0"}, 2},
      {{"@", NULL, NULL, NULL}, 2}, /* no format */
      {{"/nonexistent.jsonl", "--mermaid", NULL, NULL}, 2},
      {{"@", "--mermaid", "--bogus", NULL}, 2},
      {{"--mermaid", NULL, NULL, NULL}, 2}, /* no TRACE */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    const char *a[4];
    for (int k = 0; k < 4; k++)
      a[k] = rows[i].a[k] && strcmp(rows[i].a[k], "@") == 0 ? good : rows[i].a[k];
    int got = run(a[0], a[1], a[2], a[3]);
    ck_assert_msg(got == rows[i].want, "row %zu: got exit %d want %d", i, got, rows[i].want);
  }
  unlink(good);
  g_free(good);
  g_free(t);
}
END_TEST

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--fixture") == 0) { /* the journey trace, for peers */
    char *t = stats_fixture_journey();
    fputs(t, stdout);
    g_free(t);
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "--run") == 0) {
    argv[1] = "export";
    return cli_cmd_export(argc - 1, argv + 1);
  }
  Suite *s = suite_create("cmd_export");
  TCase *tc = tcase_create("cmd");
  tcase_add_test(tc, exit_statuses);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
