/* Tests for the scenario's message store (scenarios/scn_msgs.h): pages
 * sized to the expected count, more or fewer messages than expected,
 * release in any order, what is a bug after release; and a world that
 * releases its messages as it sends them writes the same trace. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"

/* Fills message I of M: its id "mI" in its page's strings, its from an
 * interned address, its time I seconds. */
static void fill(scn_msgs *m, size_t i) {
  GStringChunk *ch = NULL;
  scn_message *sm = scn_msgs_append(m, &ch);
  ck_assert_ptr_nonnull(ch);
  ck_assert_ptr_null(sm->id); /* zeroed */
  char id[24];
  g_snprintf(id, sizeof id, "m%zu", i);
  sm->id = g_string_chunk_insert(ch, id);
  sm->from = g_string_chunk_insert_const(scn_msgs_addresses(m), i % 2 ? "a@x.org" : "b@x.org");
  sm->to = g_ptr_array_new();
  g_ptr_array_add(sm->to, (char *)sm->from);
  sm->at = (sim_time)i * SIM_S;
}

static void check_all(const scn_msgs *m, size_t n) {
  ck_assert_uint_eq(scn_msgs_count(m), n);
  for (size_t i = 0; i < n; i++) {
    const scn_message *sm = scn_msgs_at(m, i);
    char id[24];
    g_snprintf(id, sizeof id, "m%zu", i);
    ck_assert_msg(strcmp(sm->id, id) == 0, "message %zu: got id %s want %s", i, sm->id, id);
    ck_assert_msg(sm->at == (sim_time)i * SIM_S, "message %zu: got at %" G_GINT64_FORMAT, i,
                  (gint64)sm->at);
    ck_assert_str_eq(sm->from, i % 2 ? "a@x.org" : "b@x.org");
    ck_assert_ptr_eq(sm->to->pdata[0], sm->from);
  }
}

/* (expected, appended): exact, fewer than a page, more and fewer than
 * expected, page boundaries. */
static const struct {
  size_t expect, n;
} counts[] = {{0, 0},   {0, 1},   {0, 200}, {1, 1},     {10, 10},   {10, 11}, {10, 200},
              {64, 64}, {64, 65}, {65, 65}, {130, 130}, {130, 129}, {200, 3}, {127, 128}};

START_TEST(append_and_read) {
  size_t e = counts[_i].expect, n = counts[_i].n;
  scn_msgs *m = scn_msgs_new(e);
  for (size_t i = 0; i < n; i++)
    fill(m, i);
  check_all(m, n);
  ck_assert_uint_eq(scn_msgs_live(m), n);
  /* equal addresses are one string */
  if (n >= 3)
    ck_assert_ptr_eq(scn_msgs_at(m, 0)->from, scn_msgs_at(m, 2)->from);
  scn_msgs_free(m);
}
END_TEST

/* Released in order, in reverse, every other one first: the others stay
 * readable; everything is freed once the last goes (ASan: no leak). */
START_TEST(release_any_order) {
  const size_t n = 200;
  for (int order = 0; order < 3; order++) {
    scn_msgs *m = scn_msgs_new(n);
    for (size_t i = 0; i < n; i++)
      fill(m, i);
    bool *gone = g_new0(bool, n);
    for (size_t k = 0; k < n; k++) {
      size_t i = order == 0 ? k : order == 1 ? n - 1 - k : k < n / 2 ? 2 * k : 2 * (k - n / 2) + 1;
      scn_msgs_release(m, i);
      gone[i] = true;
      ck_assert_uint_eq(scn_msgs_live(m), n - 1 - k);
      for (size_t j = 0; j < n; j += 7)
        if (!gone[j])
          ck_assert_uint_eq(scn_msgs_at(m, j)->at, (sim_time)j * SIM_S);
    }
    ck_assert_uint_eq(scn_msgs_count(m), n);
    g_free(gone);
    scn_msgs_free(m);
  }
}
END_TEST

START_TEST(read_after_release_aborts) {
  scn_msgs *m = scn_msgs_new(3);
  for (size_t i = 0; i < 3; i++)
    fill(m, i);
  scn_msgs_release(m, 1);
  (void)scn_msgs_at(m, 1);
}
END_TEST

START_TEST(release_twice_aborts) {
  scn_msgs *m = scn_msgs_new(3);
  for (size_t i = 0; i < 3; i++)
    fill(m, i);
  scn_msgs_release(m, 1);
  scn_msgs_release(m, 1);
}
END_TEST

START_TEST(read_out_of_range_aborts) {
  scn_msgs *m = scn_msgs_new(3);
  fill(m, 0);
  (void)scn_msgs_at(m, 1);
}
END_TEST

/* The journey with N more messages (ids x0.., times out of order: the
 * pages empty in no particular order) as a scenario text. */
static char *journey_with(size_t n) {
  char *path = testutil_src_path("scenarios/journey.json");
  char *text = NULL;
  ck_assert(g_file_get_contents(path, &text, NULL, NULL));
  g_free(path);
  const char *at = strstr(text, "\"messages\": [");
  ck_assert_ptr_nonnull(at);
  at += strlen("\"messages\": [");
  GString *s = g_string_new_len(text, at - text);
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(s,
                           "{\"id\":\"x%zu\",\"from\":\"alice@example.com\",\"to\":[\"bob@example."
                           "org\"],\"subject\":\"n %zu\",\"text\":\"t\\n\",\"at\":\"%zums\"},",
                           i, i, (i * 7919) % 90000);
  g_string_append(s, at);
  g_free(text);
  return g_string_free(s, FALSE);
}

static GString *run(const char *json, bool release, size_t *live) {
  GError *err = NULL;
  scn_config *c = scn_parse("journey+.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  c->release_messages = release;
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_MESSAGES);
  scn_world_run(sw);
  scn_world_free(sw);
  GString *out = g_string_new(trace_writer_peek_memory(tw)->str);
  trace_writer_free(tw);
  *live = scn_msgs_live(c->messages);
  scn_config_free(c);
  return out;
}

/* Releasing changes no byte of the trace, and every message is released
 * by the end; without it the config keeps them all. */
START_TEST(world_releases_as_it_sends) {
  char *json = journey_with(150);
  size_t live_keep = 0, live_rel = 1;
  GString *keep = run(json, false, &live_keep);
  GString *rel = run(json, true, &live_rel);
  ck_assert_uint_eq(live_keep, 152);
  ck_assert_uint_eq(live_rel, 0);
  ck_assert_msg(keep->len == rel->len && memcmp(keep->str, rel->str, keep->len) == 0,
                "the traces differ (%zu and %zu octets)", keep->len, rel->len);
  ck_assert_ptr_nonnull(strstr(rel->str, "\"subject\":\"n 149\""));
  g_string_free(keep, TRUE);
  g_string_free(rel, TRUE);
  g_free(json);
}
END_TEST

int main(void) {
  Suite *s = suite_create("scn_msgs");
  TCase *tc = tcase_create("store");
  tcase_add_loop_test(tc, append_and_read, 0, G_N_ELEMENTS(counts));
  tcase_add_test(tc, release_any_order);
  tcase_add_test_raise_signal(tc, read_after_release_aborts, SIGABRT);
  tcase_add_test_raise_signal(tc, release_twice_aborts, SIGABRT);
  tcase_add_test_raise_signal(tc, read_out_of_range_aborts, SIGABRT);
  suite_add_tcase(s, tc);
  TCase *tw = tcase_create("world");
  tcase_set_timeout(tw, 60);
  tcase_add_test(tw, world_releases_as_it_sends);
  suite_add_tcase(s, tw);
  return testutil_run(s);
}
