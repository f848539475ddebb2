/* mail_tally: counters and nearest-rank delay percentiles. */
#include "mail_tally.h"
#include "testutil.h"

/* Delays (in seconds) and the percentiles they must give. */
static const struct {
  int n;
  int64_t delays[10];
  int64_t p50, p95, max;
} pct_rows[] = {
    {1, {7}, 7, 7, 7},
    {2, {9, 1}, 1, 9, 9},
    {4, {4, 3, 2, 1}, 2, 4, 4},
    {10, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 5, 10, 10},
    {5, {5, 5, 5, 5, 100}, 5, 100, 100},
};

START_TEST(percentiles) {
  mail_tally *t = mail_tally_new();
  char id[32];
  for (int i = 0; i < pct_rows[_i].n; i++) {
    g_snprintf(id, sizeof id, "m%d@x", i);
    mail_tally_submit(t, id, 1, 1000 * SIM_S);
    mail_tally_deliver(t, id, 1000 * SIM_S + pct_rows[_i].delays[i] * SIM_S);
  }
  mail_tally_stats st;
  mail_tally_get(t, &st);
  ck_assert_msg(st.delay_samples == (uint64_t)pct_rows[_i].n, "samples: got %llu want %d",
                (unsigned long long)st.delay_samples, pct_rows[_i].n);
  ck_assert_msg(st.delay_p50 == pct_rows[_i].p50 * SIM_S, "p50: got %lld want %lld s",
                (long long)st.delay_p50, (long long)pct_rows[_i].p50);
  ck_assert_msg(st.delay_p95 == pct_rows[_i].p95 * SIM_S, "p95: got %lld want %lld s",
                (long long)st.delay_p95, (long long)pct_rows[_i].p95);
  ck_assert_msg(st.delay_max == pct_rows[_i].max * SIM_S, "max: got %lld want %lld s",
                (long long)st.delay_max, (long long)pct_rows[_i].max);
  mail_tally_free(t);
}
END_TEST

START_TEST(counters) {
  mail_tally *t = mail_tally_new();
  mail_tally_stats st;
  mail_tally_get(t, &st);
  ck_assert_uint_eq(st.delay_samples, 0);
  ck_assert_int_eq(st.delay_p50, 0);
  /* A client deferral before the submission, the second submission of the
   * same message (the deferred recipient) is not a new message. */
  mail_tally_defer(t, "a@x", true);
  mail_tally_submit(t, "a@x", 2, 10);
  mail_tally_submit(t, "a@x", 1, 70);
  mail_tally_submit(t, "b@x", 1, 20);
  mail_tally_defer(t, "b@x", false);
  mail_tally_defer(t, "b@x", false);
  mail_tally_bounce(t, "b@x");
  mail_tally_deliver(t, "a@x", 110);   /* delay from the FIRST submission: 100 */
  mail_tally_deliver(t, "dsn@x", 200); /* never submitted: a DSN */
  mail_tally_fetch(t);
  mail_tally_fail(t);
  mail_tally_get(t, &st);
  struct {
    const char *name;
    uint64_t got, want;
  } rows[] = {{"submitted", st.submitted, 2},
              {"submitted_rcpts", st.submitted_rcpts, 4},
              {"delivered", st.delivered, 2},
              {"unsubmitted", st.unsubmitted, 1},
              {"deferred", st.deferred, 1},
              {"retries", st.retries, 2},
              {"client_retries", st.client_retries, 1},
              {"bounced", st.bounced, 1},
              {"fetched", st.fetched, 1},
              {"failed", st.failed, 1},
              {"delay_samples", st.delay_samples, 1},
              {"delay_max", (uint64_t)st.delay_max, 100}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    ck_assert_msg(rows[i].got == rows[i].want, "%s: got %llu want %llu", rows[i].name,
                  (unsigned long long)rows[i].got, (unsigned long long)rows[i].want);
  mail_tally_free(t);
  mail_tally_free(NULL);
}
END_TEST

/* The deferred mark and the submission time share a word: neither hides
 * the other (a message deferred before it is known submitted, one
 * submitted at time 0, a deferral after the submission). */
START_TEST(deferred_and_time_zero) {
  mail_tally *t = mail_tally_new();
  mail_tally_defer(t, "early@x", false); /* deferred, not yet submitted */
  mail_tally_submit(t, "early@x", 1, 30);
  mail_tally_submit(t, "zero@x", 1, 0);
  mail_tally_defer(t, "zero@x", false);
  mail_tally_deliver(t, "early@x", 100);
  mail_tally_deliver(t, "zero@x", 7);
  mail_tally_stats st;
  mail_tally_get(t, &st);
  ck_assert_uint_eq(st.submitted, 2);
  ck_assert_uint_eq(st.deferred, 2);
  ck_assert_uint_eq(st.unsubmitted, 0);
  ck_assert_uint_eq(st.delay_samples, 2);
  ck_assert_int_eq(st.delay_p50, 7);
  ck_assert_int_eq(st.delay_max, 70);
  mail_tally_free(t);
}
END_TEST

/* Many messages: the table grows several times, records span blocks, and
 * a Message-ID longer than a quarter block gets a block of its own between
 * ordinary ones; every message is still found (its submission time, its
 * deferred mark) and none is counted twice. */
START_TEST(many_messages) {
  enum { N = 5000, LONG_EVERY = 997 };
  mail_tally *t = mail_tally_new();
  char *pad = g_strnfill(3000, 'q');
  GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < N; i++)
    g_ptr_array_add(ids, g_strdup_printf("m%d.%s@x", i, i % LONG_EVERY == 5 ? pad : "ab"));
  for (int i = 0; i < N; i++) {
    mail_tally_submit(t, ids->pdata[i], 1, (sim_time)i);
    if (i % 3 == 0)
      mail_tally_defer(t, ids->pdata[i], false);
  }
  for (int i = 0; i < N; i++) {
    mail_tally_submit(t, ids->pdata[i], 1, (sim_time)i + 99); /* again: not a new one */
    mail_tally_defer(t, ids->pdata[i], false);
    mail_tally_deliver(t, ids->pdata[i], (sim_time)i + 10 + i % 2);
  }
  mail_tally_deliver(t, "never@x", 5);
  mail_tally_stats st;
  mail_tally_get(t, &st);
  ck_assert_uint_eq(st.submitted, N);
  ck_assert_uint_eq(st.submitted_rcpts, 2 * N);
  ck_assert_uint_eq(st.deferred, N); /* each message once, however often */
  ck_assert_uint_eq(st.retries, N / 3 + 1 + N);
  ck_assert_uint_eq(st.delay_samples, N);
  ck_assert_uint_eq(st.unsubmitted, 1);
  ck_assert_int_eq(st.delay_p50, 10); /* from the first submission */
  ck_assert_int_eq(st.delay_max, 11);
  g_ptr_array_unref(ids);
  g_free(pad);
  mail_tally_free(t);
}
END_TEST

/* A message stored again in a mailbox it is in (any ASCII case) is a
 * duplicate; in another mailbox, or another message in that mailbox, is
 * not. */
START_TEST(duplicates) {
  static const struct {
    const char *msg, *mailbox;
    bool want;
  } rows[] = {
      {"a@x", "bob@d", false},  {"a@x", "carol@d", false}, {"a@x", "BOB@d", true},
      {"b@x", "bob@d", false},  {"a@x", "Carol@D", true},  {"b@x", "bob@d", true},
      {"dsn@x", "bob@d", false}, /* never submitted: still counted */
  };
  mail_tally *t = mail_tally_new();
  uint64_t dups = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    bool got = mail_tally_duplicate(t, rows[i].msg, rows[i].mailbox);
    ck_assert_msg(got == rows[i].want, "row %zu (%s in %s): got %d, want %d", i, rows[i].msg,
                  rows[i].mailbox, got, rows[i].want);
    dups += rows[i].want;
  }
  /* many pairs (the table grows), one mailbox longer than a quarter block */
  char *big = g_strnfill(3000, 'm');
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 400; i++) {
      char msg[32], box[32];
      g_snprintf(msg, sizeof msg, "m%d@x", i);
      g_snprintf(box, sizeof box, round ? "U%d@D" : "u%d@d", i % 7);
      ck_assert_int_eq(mail_tally_duplicate(t, msg, box), round == 1);
      ck_assert_int_eq(mail_tally_duplicate(t, msg, i == 5 ? big : "x@d"), round == 1);
      dups += 2 * (uint64_t)round;
    }
  mail_tally_stats st;
  mail_tally_get(t, &st);
  ck_assert_uint_eq(st.duplicates, dups);
  g_free(big);
  mail_tally_free(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mail_tally");
  TCase *tc = tcase_create("tally");
  tcase_add_loop_test(tc, percentiles, 0, G_N_ELEMENTS(pct_rows));
  tcase_add_test(tc, counters);
  tcase_add_test(tc, deferred_and_time_zero);
  tcase_add_test(tc, many_messages);
  tcase_add_test(tc, duplicates);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
