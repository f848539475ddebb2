/* Golden traces: every bundled scenario runs twice in one process; both
 * traces must be byte-identical to each other and to the stored golden file
 * traces/golden/NAME.jsonl. A golden file changes only through
 * tools/regen-golden, never through a test. Also: another seed gives a
 * different trace. */
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"

static const char *const scenarios[] = {"stream",       "dns",          "journey", "mx-failover",
                                        "retry-bounce", "pop3-vs-imap", "loop",    "spam",
                                        "greylist-study"};

static GString *run_once(const scn_config *c, uint64_t seed) {
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, seed, tw, SIM_DETAIL_PROTOCOL);
  scn_world_run(sw);
  scn_world_free(sw);
  GString *out = g_string_new_len(trace_writer_peek_memory(tw)->str, trace_writer_peek_memory(tw)->len);
  trace_writer_free(tw);
  return out;
}

/* Line number of the first difference, for the message. */
static int first_diff_line(const char *a, const char *b) {
  int line = 1;
  for (; *a && *a == *b; a++, b++)
    line += *a == '\n';
  return line;
}

START_TEST(golden_trace) {
  const char *name = scenarios[_i];
  char *rel = g_strdup_printf("scenarios/%s.json", name);
  char *path = testutil_src_path(rel);
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  GString *a = run_once(c, c->seed);
  GString *b = run_once(c, c->seed);
  ck_assert_msg(g_string_equal(a, b), "%s: two runs differ at line %d", name,
                first_diff_line(a->str, b->str));

  char *grel = g_strdup_printf("traces/golden/%s.jsonl", name);
  char *gpath = testutil_src_path(grel);
  char *golden = NULL;
  gsize glen = 0;
  ck_assert_msg(g_file_get_contents(gpath, &golden, &glen, NULL),
                "%s missing: run tools/regen-golden", gpath);
  ck_assert_msg(glen == a->len && memcmp(golden, a->str, glen) == 0,
                "%s: trace differs from %s at line %d (if the change is deliberate, run "
                "tools/regen-golden and say why in the commit)",
                name, grel, first_diff_line(a->str, golden));

  GString *other = run_once(c, c->seed + 1);
  ck_assert_msg(!g_string_equal(a, other), "%s: seed %llu and %llu give the same trace", name,
                (unsigned long long)c->seed, (unsigned long long)c->seed + 1);

  g_string_free(other, TRUE);
  g_free(golden);
  g_free(gpath);
  g_free(grel);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  scn_config_free(c);
  g_free(path);
  g_free(rel);
}
END_TEST

int main(void) {
  Suite *s = suite_create("golden");
  TCase *tc = tcase_create("scenarios");
  tcase_add_loop_test(tc, golden_trace, 0, G_N_ELEMENTS(scenarios));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
