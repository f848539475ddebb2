/* forget_queue: the checker can fail. Built only with the test-only meson
 * option test_forget_queue_on_crash, which makes the MTA forget its queue
 * when it crashes (the effect lives in hosts/, from the faults branch).
 * The journey's submission server crashes while it holds Alice's message
 * (queued at 1 min, greylisted, next try at 10 min) and restarts; with its
 * queue forgotten the message is never sent, and the no-loss invariant
 * must say so, naming the message and the host, in the end record too. */
#include <string.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"
#include "trace_check.h"

START_TEST(forgotten_queue_is_a_loss) {
  char *path = testutil_src_path("scenarios/journey.json");
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  scn_fault f;
  scn_fault_init(&f, SCN_FAULT_CRASH, "smtp.example.com", 2 * 60 * SIM_S, 5 * 60 * SIM_S);
  ck_assert_msg(scn_fault_append(c, &f, &err), "%s", err ? err->message : "");
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_MESSAGES);
  bool ok = scn_world_run(sw);
  ck_assert_msg(!ok, "the run reports success with a forgotten queue");
  const trace_check *tc = scn_world_check(sw);
  bool found = false;
  for (size_t i = 0; i < trace_check_count(tc); i++) {
    const trace_check_violation *v = trace_check_at(tc, i);
    if (v->inv == TRACE_CHECK_NO_LOSS && strcmp(v->hosts, "smtp.example.com") == 0 &&
        g_str_has_prefix(v->msg, "m1."))
      found = true;
  }
  ck_assert_msg(found, "got %zu violations, none a loss of m1 at smtp.example.com",
                trace_check_count(tc));
  ck_assert(strstr(trace_writer_peek_memory(tw)->str, "\"violations\":[\"no-loss: message m1."));
  scn_world_free(sw);
  trace_writer_free(tw);
  scn_config_free(c);
  g_free(path);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("forget_queue");
  TCase *tc = tcase_create("loss");
  tcase_add_test(tc, forgotten_queue_is_a_loss);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
