/* Tests for sim_sched: order contract, cancel, run-until, renumbering. */
#include <stdlib.h>

#include "sim_sched_int.h"
#include "testutil.h"

typedef struct {
  sim_sched *s;
  GArray *log; /* of intptr_t tags in run order */
} rec;

static void log_tag(void *a, void *b) {
  rec *r = a;
  intptr_t tag = (intptr_t)b;
  g_array_append_val(r->log, tag);
}

static rec rec_new(void) {
  rec r = {sim_sched_new(), g_array_new(FALSE, FALSE, sizeof(intptr_t))};
  return r;
}
static void rec_free(rec *r) {
  sim_sched_free(r->s);
  g_array_free(r->log, TRUE);
}

START_TEST(equal_times_fifo_100k) {
  rec r = rec_new();
  for (intptr_t i = 0; i < 100000; i++)
    sim_sched_at(r.s, 5 * SIM_S, log_tag, &r, (void *)i);
  ck_assert_uint_eq(sim_sched_pending(r.s), 100000);
  ck_assert_int_eq(sim_sched_run(r.s, SIM_TIME_NEVER), SIM_RUN_IDLE);
  ck_assert_uint_eq(r.log->len, 100000);
  for (intptr_t i = 0; i < 100000; i++)
    ck_assert_msg(g_array_index(r.log, intptr_t, i) == i, "position %ld: got %ld", (long)i,
                  (long)g_array_index(r.log, intptr_t, i));
  ck_assert_int_eq(sim_sched_now(r.s), 5 * SIM_S);
  rec_free(&r);
}
END_TEST

START_TEST(time_order_then_fifo) {
  rec r = rec_new();
  /* tag = 10*time + insertion rank among equal times */
  sim_time times[] = {3, 1, 2, 1, 3, 0, 2, 1};
  int rank[4] = {0};
  for (size_t i = 0; i < G_N_ELEMENTS(times); i++) {
    intptr_t tag = times[i] * 10 + rank[times[i]]++;
    sim_sched_at(r.s, times[i], log_tag, &r, (void *)tag);
  }
  sim_sched_run(r.s, SIM_TIME_NEVER);
  intptr_t want[] = {0, 10, 11, 12, 20, 21, 30, 31};
  ck_assert_uint_eq(r.log->len, G_N_ELEMENTS(want));
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_int_eq(g_array_index(r.log, intptr_t, i), want[i]);
  rec_free(&r);
}
END_TEST

START_TEST(cancel_skips_event) {
  rec r = rec_new();
  sim_event_id a = sim_sched_at(r.s, 10, log_tag, &r, (void *)1);
  sim_event_id b = sim_sched_at(r.s, 10, log_tag, &r, (void *)2);
  sim_sched_at(r.s, 20, log_tag, &r, (void *)3);
  ck_assert(sim_sched_cancel(r.s, b));
  ck_assert(!sim_sched_cancel(r.s, b)); /* twice */
  ck_assert(!sim_sched_cancel(r.s, 0));
  ck_assert_uint_eq(sim_sched_pending(r.s), 2);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  ck_assert_uint_eq(r.log->len, 2);
  ck_assert_int_eq(g_array_index(r.log, intptr_t, 0), 1);
  ck_assert_int_eq(g_array_index(r.log, intptr_t, 1), 3);
  ck_assert(!sim_sched_cancel(r.s, a)); /* already ran */
  rec_free(&r);
}
END_TEST

START_TEST(stale_id_does_not_cancel_reused_slot) {
  rec r = rec_new();
  sim_event_id a = sim_sched_at(r.s, 1, log_tag, &r, (void *)1);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  sim_event_id b = sim_sched_at(r.s, 2, log_tag, &r, (void *)2); /* reuses a's slot */
  ck_assert_uint_ne(a, b);
  ck_assert(!sim_sched_cancel(r.s, a));
  sim_sched_run(r.s, SIM_TIME_NEVER);
  ck_assert_uint_eq(r.log->len, 2);
  rec_free(&r);
}
END_TEST

START_TEST(run_until_semantics) {
  rec r = rec_new();
  sim_sched_at(r.s, 10, log_tag, &r, (void *)1);
  sim_sched_at(r.s, 20, log_tag, &r, (void *)2);
  sim_sched_at(r.s, 30, log_tag, &r, (void *)3);
  ck_assert_int_eq(sim_sched_run(r.s, 20), SIM_RUN_UNTIL); /* inclusive */
  ck_assert_uint_eq(r.log->len, 2);
  ck_assert_int_eq(sim_sched_now(r.s), 20);
  ck_assert_int_eq(sim_sched_run(r.s, 25), SIM_RUN_UNTIL);
  ck_assert_int_eq(sim_sched_now(r.s), 25);
  ck_assert_int_eq(sim_sched_next_time(r.s), 30);
  ck_assert_int_eq(sim_sched_run(r.s, 100), SIM_RUN_IDLE);
  ck_assert_int_eq(sim_sched_now(r.s), 30); /* idle: the clock stays at the last event */
  ck_assert_uint_eq(r.log->len, 3);
  ck_assert_int_eq(sim_sched_next_time(r.s), SIM_TIME_NEVER);
  ck_assert(!sim_sched_step(r.s));
  rec_free(&r);
}
END_TEST

static void stopper(void *a, void *b) {
  (void)b;
  rec *r = a;
  intptr_t tag = 99;
  g_array_append_val(r->log, tag);
  sim_sched_stop(r->s);
}

START_TEST(stop_returns_after_callback) {
  rec r = rec_new();
  sim_sched_at(r.s, 1, stopper, &r, NULL);
  sim_sched_at(r.s, 1, log_tag, &r, (void *)1);
  ck_assert_int_eq(sim_sched_run(r.s, SIM_TIME_NEVER), SIM_RUN_STOPPED);
  ck_assert_uint_eq(r.log->len, 1);
  ck_assert_int_eq(sim_sched_run(r.s, SIM_TIME_NEVER), SIM_RUN_IDLE);
  ck_assert_uint_eq(r.log->len, 2);
  rec_free(&r);
}
END_TEST

typedef struct {
  sim_sched *s;
  int left;
  sim_time last;
  bool ordered;
} hold;

static void hold_fire(void *a, void *b) {
  hold *h = a;
  (void)b;
  sim_time now = sim_sched_now(h->s);
  if (now < h->last)
    h->ordered = false;
  h->last = now;
  if (h->left-- > 0)
    sim_sched_after(h->s, (now * 7919 + 13) % 1000, hold_fire, h, NULL);
}

START_TEST(hold_model_keeps_order) {
  /* Fused pop/push path: every callback schedules one event. */
  hold h = {sim_sched_new(), 50000, 0, true};
  for (int i = 0; i < 1000; i++)
    sim_sched_at(h.s, i % 97, hold_fire, &h, NULL);
  sim_sched_run(h.s, SIM_TIME_NEVER);
  ck_assert(h.ordered);
  ck_assert_uint_eq(sim_sched_executed(h.s), 1000 + 50001 - 1);
  sim_sched_free(h.s);
}
END_TEST

START_TEST(renumbering_keeps_order) {
  rec r = rec_new();
  sim_sched__set_seq_limit(r.s, 64);
  /* 1000 events at 3 times, interleaved: order must still be (t, insertion). */
  for (intptr_t i = 0; i < 1000; i++)
    sim_sched_at(r.s, i % 3, log_tag, &r, (void *)i);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  ck_assert_uint_eq(r.log->len, 1000);
  intptr_t prev = -1;
  for (guint k = 0; k < r.log->len; k++) {
    intptr_t v = g_array_index(r.log, intptr_t, k);
    intptr_t key = (v % 3) * 10000 + v;
    ck_assert_msg(key > prev, "position %u: %ld after key %ld", k, (long)v, (long)prev);
    prev = key;
  }
  rec_free(&r);
}
END_TEST

static void past(void *a, void *b) {
  (void)b;
  rec *r = a;
  sim_sched_at(r->s, sim_sched_now(r->s) - 1, log_tag, r, NULL);
}

START_TEST(scheduling_in_the_past_aborts) {
  rec r = rec_new();
  sim_sched_at(r.s, 10, past, &r, NULL);
  sim_sched_run(r.s, SIM_TIME_NEVER); /* must abort */
  rec_free(&r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_sched");
  TCase *tc = tcase_create("order");
  tcase_add_test(tc, equal_times_fifo_100k);
  tcase_add_test(tc, time_order_then_fifo);
  tcase_add_test(tc, hold_model_keeps_order);
  tcase_add_test(tc, renumbering_keeps_order);
  suite_add_tcase(s, tc);
  tc = tcase_create("control");
  tcase_add_test(tc, cancel_skips_event);
  tcase_add_test(tc, stale_id_does_not_cancel_reused_slot);
  tcase_add_test(tc, run_until_semantics);
  tcase_add_test(tc, stop_returns_after_callback);
  tcase_add_test_raise_signal(tc, scheduling_in_the_past_aborts, SIGTRAP);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
