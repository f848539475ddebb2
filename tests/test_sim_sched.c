/* Tests for sim_sched: order contract, cancel, run-until, renumbering.
 *
 * The queue is a 4-ary heap while small and a radix heap when large, with
 * runs (FIFOs of near events) beside either; every test of order and
 * control runs in five modes (loop index _i): the default limits, radix
 * heap only, limits so low that the queue keeps moving between the two,
 * 4-ary heap only, and the default limits without runs. */
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

enum { MODE_DEFAULT, MODE_RADIX, MODE_SWITCHING, MODE_HEAP, MODE_NORUNS, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"default", "radix only", "switching",
                                                   "heap only", "no runs"};

static sim_sched *sched_new(int mode) {
  sim_sched *s = sim_sched_new();
  if (mode == MODE_RADIX)
    sim_sched__set_radix_limits(s, 1, 0);
  else if (mode == MODE_SWITCHING)
    sim_sched__set_radix_limits(s, 8, 3);
  else if (mode == MODE_HEAP)
    sim_sched__set_radix_limits(s, SIZE_MAX, SIZE_MAX - 1);
  else if (mode == MODE_NORUNS)
    sim_sched__set_run_max(s, 0);
  return s;
}

static rec rec_new_mode(int mode) {
  rec r = {sched_new(mode), g_array_new(FALSE, FALSE, sizeof(intptr_t))};
  return r;
}
static void rec_free(rec *r) {
  sim_sched_free(r->s);
  g_array_free(r->log, TRUE);
}

START_TEST(equal_times_fifo_100k) {
  rec r = rec_new_mode(_i);
  for (intptr_t i = 0; i < 100000; i++)
    sim_sched_at(r.s, 5 * SIM_S, log_tag, &r, (void *)i);
  ck_assert_uint_eq(sim_sched_pending(r.s), 100000);
  ck_assert_int_eq(sim_sched_run(r.s, SIM_TIME_NEVER), SIM_RUN_IDLE);
  ck_assert_uint_eq(r.log->len, 100000);
  for (intptr_t i = 0; i < 100000; i++)
    ck_assert_msg(g_array_index(r.log, intptr_t, i) == i, "%s: position %ld: got %ld want %ld",
                  mode_names[_i], (long)i, (long)g_array_index(r.log, intptr_t, i), (long)i);
  ck_assert_int_eq(sim_sched_now(r.s), 5 * SIM_S);
  rec_free(&r);
}
END_TEST

START_TEST(time_order_then_fifo) {
  rec r = rec_new_mode(_i);
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

/* Near events go to runs (FIFOs with only their heads compared to the
 * heap's root), a run taking an event only if it is not earlier than the
 * run's last one. Times that go down and up, with many ties, fill every
 * run and the heap at once: the order must still be (time, insertion),
 * cancelled events skipped wherever they wait, and events scheduled from
 * callbacks (ties with all of them) keep their place. */
static void tie_again(void *a, void *b) {
  rec *r = a;
  log_tag(a, b);
  intptr_t tag = (intptr_t)b;
  if (tag % 5 == 0 && tag < 100000)
    sim_sched_at(r->s, sim_sched_now(r->s) + (tag % 3), tie_again, r, (void *)(tag + 100000));
}

START_TEST(runs_keep_time_then_fifo_order) {
  rec r = rec_new_mode(_i);
  enum { N = 3000 };
  sim_event_id ids[N];
  for (intptr_t i = 0; i < N; i++) {
    sim_time t = (i * 7919) % 13 + (i / 500) * 3; /* down and up, 13 ties at a time */
    ids[i] = sim_sched_at(r.s, t, tie_again, &r, (void *)i);
  }
  size_t in_runs = sim_sched__run_entries(r.s);
  if (_i == MODE_NORUNS)
    ck_assert_uint_eq(in_runs, 0);
  else
    ck_assert_msg(in_runs > N / 10 && in_runs < N, "%s: %zu of %d in runs", mode_names[_i], in_runs,
                  N);
  for (intptr_t i = 0; i < N; i += 7)
    ck_assert(sim_sched_cancel(r.s, ids[i]));
  sim_sched_run(r.s, SIM_TIME_NEVER);
  /* The model: (time, insertion) order, children inserted when their
   * parent runs. Simulated with the same rules on a plain array. */
  GArray *want = g_array_new(FALSE, FALSE, sizeof(intptr_t));
  GArray *qt = g_array_new(FALSE, FALSE, sizeof(sim_time));
  GArray *qtag = g_array_new(FALSE, FALSE, sizeof(intptr_t));
  for (intptr_t i = 0; i < N; i++) {
    if (i % 7 == 0)
      continue;
    sim_time t = (i * 7919) % 13 + (i / 500) * 3;
    g_array_append_val(qt, t);
    g_array_append_val(qtag, i);
  }
  while (qt->len) { /* the earliest, first inserted among equals */
    guint best = 0;
    for (guint k = 1; k < qt->len; k++)
      if (g_array_index(qt, sim_time, k) < g_array_index(qt, sim_time, best))
        best = k;
    sim_time t = g_array_index(qt, sim_time, best);
    intptr_t tag = g_array_index(qtag, intptr_t, best);
    g_array_remove_index(qt, best);
    g_array_remove_index(qtag, best);
    g_array_append_val(want, tag);
    if (tag % 5 == 0 && tag < 100000) {
      sim_time ct = t + tag % 3;
      intptr_t ctag = tag + 100000;
      g_array_append_val(qt, ct);
      g_array_append_val(qtag, ctag);
    }
  }
  ck_assert_uint_eq(r.log->len, want->len);
  for (guint k = 0; k < want->len; k++)
    ck_assert_msg(g_array_index(r.log, intptr_t, k) == g_array_index(want, intptr_t, k),
                  "%s: position %u: got %ld want %ld", mode_names[_i], k,
                  (long)g_array_index(r.log, intptr_t, k), (long)g_array_index(want, intptr_t, k));
  g_array_free(want, TRUE);
  g_array_free(qt, TRUE);
  g_array_free(qtag, TRUE);
  rec_free(&r);
}
END_TEST

START_TEST(cancel_skips_event) {
  rec r = rec_new_mode(_i);
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

/* Compaction drops the cancelled entries waiting in a lane's ring (and
 * may skip a ring where nothing was cancelled: lane A's 299 wait on); what
 * is left runs in order. 600 live, 201 cancels: the 201st compacts
 * (more than half as many dead as live, at least 128). */
START_TEST(compaction_drops_cancelled_lane_entries) {
  rec r = rec_new_mode(MODE_DEFAULT);
  enum { PER = 300, CANCEL = 201 };
  sim_event_id b[PER];
  for (intptr_t k = 0; k < PER; k++) {
    sim_sched_at(r.s, 2 * SIM_S, log_tag, &r, (void *)(k + 1));               /* lane A */
    b[k] = sim_sched_at(r.s, 3 * SIM_S, log_tag, &r, (void *)(PER + k + 1)); /* lane B */
  }
  ck_assert_uint_eq(sim_sched__lane_waiting(r.s), 2 * (PER - 1));
  for (int k = 1; k <= CANCEL; k++) /* B's, behind its head */
    ck_assert(sim_sched_cancel(r.s, b[k]));
  ck_assert_uint_eq(sim_sched__compactions(r.s), 1);
  size_t got = sim_sched__lane_waiting(r.s);
  ck_assert_msg(got == 2 * (PER - 1) - CANCEL, "got %zu waiting, want %d", got,
                2 * (PER - 1) - CANCEL);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  ck_assert_uint_eq(r.log->len, 2 * PER - CANCEL);
  for (guint k = 0; k < PER; k++)
    ck_assert_int_eq(g_array_index(r.log, intptr_t, k), (intptr_t)k + 1);
  ck_assert_int_eq(g_array_index(r.log, intptr_t, PER), PER + 1);
  for (guint k = PER + 1; k < r.log->len; k++)
    ck_assert_int_eq(g_array_index(r.log, intptr_t, k), (intptr_t)k + CANCEL + 1);
  rec_free(&r);
}
END_TEST

/* Eight delays seen once hold every lane with only their heads; a delay
 * that repeats takes one of those lanes, so its second event waits in the
 * ring. The heads left in the heap still run in (t, seq) order. */
START_TEST(repeated_delay_takes_a_lane_of_one) {
  rec r = rec_new_mode(MODE_DEFAULT);
  for (intptr_t k = 0; k < 8; k++)
    sim_sched_at(r.s, (10 + k) * SIM_S, log_tag, &r, (void *)(k + 1));
  ck_assert_uint_eq(sim_sched__lane_waiting(r.s), 0);
  sim_sched_at(r.s, 2 * SIM_S, log_tag, &r, (void *)9);
  sim_sched_at(r.s, 2 * SIM_S, log_tag, &r, (void *)10);
  size_t got = sim_sched__lane_waiting(r.s);
  ck_assert_msg(got == 1, "got %zu waiting, want 1", got);
  sim_sched_at(r.s, 10 * SIM_S, log_tag, &r, (void *)11); /* behind 1 (same t, later seq) */
  sim_sched_run(r.s, SIM_TIME_NEVER);
  static const intptr_t want[] = {9, 10, 1, 11, 2, 3, 4, 5, 6, 7, 8};
  ck_assert_uint_eq(r.log->len, G_N_ELEMENTS(want));
  for (guint k = 0; k < G_N_ELEMENTS(want); k++)
    ck_assert_int_eq(g_array_index(r.log, intptr_t, k), want[k]);
  rec_free(&r);
}
END_TEST

START_TEST(stale_id_does_not_cancel_reused_slot) {
  rec r = rec_new_mode(_i);
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
  rec r = rec_new_mode(_i);
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

START_TEST(looking_at_the_front_settles_nothing) {
  /* After run(until) and next_time(), an event may still be scheduled
   * between now and the front that was looked at (a radix heap must not
   * have moved its base past now). */
  rec r = rec_new_mode(_i);
  sim_event_id a = sim_sched_at(r.s, 100, log_tag, &r, (void *)1);
  sim_sched_at(r.s, 200, log_tag, &r, (void *)2);
  ck_assert_int_eq(sim_sched_run(r.s, 50), SIM_RUN_UNTIL);
  ck_assert(sim_sched_cancel(r.s, a));
  ck_assert_int_eq(sim_sched_next_time(r.s), 200);
  sim_sched_at(r.s, 60, log_tag, &r, (void *)3);
  ck_assert_int_eq(sim_sched_next_time(r.s), 60);
  ck_assert_int_eq(sim_sched_run(r.s, 150), SIM_RUN_UNTIL);
  sim_sched_at(r.s, 160, log_tag, &r, (void *)4);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  intptr_t want[] = {3, 4, 2};
  ck_assert_uint_eq(r.log->len, G_N_ELEMENTS(want));
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(g_array_index(r.log, intptr_t, i) == want[i],
                  "%s: position %zu: got %ld want %ld", mode_names[_i], i,
                  (long)g_array_index(r.log, intptr_t, i), (long)want[i]);
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
  rec r = rec_new_mode(_i);
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
  hold h = {sched_new(_i), 50000, 0, true};
  for (int i = 0; i < 1000; i++)
    sim_sched_at(h.s, i % 97, hold_fire, &h, NULL);
  sim_sched_run(h.s, SIM_TIME_NEVER);
  ck_assert(h.ordered);
  ck_assert_uint_eq(sim_sched_executed(h.s), 1000 + 50001 - 1);
  sim_sched_free(h.s);
}
END_TEST

START_TEST(renumbering_keeps_order) {
  rec r = rec_new_mode(_i);
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

/* --- model test: a random workload checked against plain bookkeeping --- */

typedef struct {
  sim_time t;
  sim_event_id id;
  bool cancelled, ran;
} model_ev;

typedef struct {
  sim_sched *s;
  GArray *evs; /* model_ev, index = insertion order */
  uint64_t lcg;
  sim_time last_t; /* of the last event run */
  intptr_t last_i;
  int runs;
  bool saw_radix, saw_heap;
  int heavy; /* cancels per segment (0: one), and up to HEAVY-1 per event run */
  bool lanes; /* delays from a fixed set too, with lanes from 2,000 ns on */
  size_t max_waiting; /* most entries seen waiting in lanes */
  size_t max_in_runs; /* most entries seen in runs */
  bool stops;     /* some callbacks call sim_sched_stop */
  bool stop_sent; /* stop was called in this run: no event may follow */
  int stopped;    /* runs that returned SIM_RUN_STOPPED */
  char err[160];
} model;

static uint32_t model_rand(model *m, uint32_t n) {
  m->lcg = m->lcg * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return (uint32_t)(m->lcg >> 33) % n;
}

static void model_fire(void *a, void *b);

static void model_add(model *m, sim_time delay) {
  intptr_t i = (intptr_t)m->evs->len;
  model_ev e = {sim_sched_now(m->s) + delay, 0, false, false};
  g_array_append_val(m->evs, e);
  g_array_index(m->evs, model_ev, i).id = sim_sched_after(m->s, delay, model_fire, m, (void *)i);
}

/* Fixed delays (more of them than the scheduler has lanes), as timers
 * with a constant timeout give. */
static const sim_time lane_delays[] = {2000,  2001,  3000,  5000,   7919,
                                       10000, 20000, 50000, 100000, 200000};

/* Delays with many ties: 0, a few ns, or up to ~1 ms; with lanes, also
 * one of the fixed delays half of the time. */
static sim_time model_delay(model *m) {
  if (m->lanes && model_rand(m, 2) == 0)
    return lane_delays[model_rand(m, G_N_ELEMENTS(lane_delays))];
  switch (model_rand(m, 4)) {
  case 0:
    return 0;
  case 1:
    return model_rand(m, 4);
  case 2:
    return model_rand(m, 1000);
  default:
    return model_rand(m, 1000000);
  }
}

static void model_cancel_some(model *m) {
  if (m->evs->len == 0)
    return;
  model_ev *e = &g_array_index(m->evs, model_ev, model_rand(m, m->evs->len));
  bool want = !e->cancelled && !e->ran;
  bool got = sim_sched_cancel(m->s, e->id);
  if (got != want && !m->err[0])
    g_snprintf(m->err, sizeof m->err, "cancel: got %d want %d", got, want);
  if (got)
    e->cancelled = true;
}

static void model_fire(void *a, void *b) {
  model *m = a;
  intptr_t i = (intptr_t)b;
  model_ev *e = &g_array_index(m->evs, model_ev, i);
  sim_time now = sim_sched_now(m->s);
  if (m->stop_sent && !m->err[0])
    g_snprintf(m->err, sizeof m->err, "event %ld ran after stop", (long)i);
  if (!m->err[0] && (e->ran || e->cancelled || e->t != now || now < m->last_t ||
                     (now == m->last_t && i < m->last_i)))
    g_snprintf(m->err, sizeof m->err,
               "event %ld (t %" G_GINT64_FORMAT ", ran %d, cancelled %d) at %" G_GINT64_FORMAT
               " after event %ld at %" G_GINT64_FORMAT,
               (long)i, (gint64)e->t, e->ran, e->cancelled, (gint64)now, (long)m->last_i,
               (gint64)m->last_t);
  e->ran = true;
  m->last_t = now;
  m->last_i = i;
  m->runs++;
  if (sim_sched__lane_waiting(m->s) > m->max_waiting)
    m->max_waiting = sim_sched__lane_waiting(m->s);
  if (sim_sched__run_entries(m->s) > m->max_in_runs)
    m->max_in_runs = sim_sched__run_entries(m->s);
  *(sim_sched__is_radix(m->s) ? &m->saw_radix : &m->saw_heap) = true;
  for (uint32_t k = model_rand(m, 3); k > 0 && m->evs->len < 60000; k--)
    model_add(m, model_delay(m));
  if (m->heavy) {
    for (uint32_t k = model_rand(m, (uint32_t)m->heavy); k > 0; k--)
      model_cancel_some(m);
  } else if (model_rand(m, 4) == 0) {
    model_cancel_some(m);
  }
  if (m->stops && model_rand(m, 40) == 0) {
    sim_sched_stop(m->s);
    m->stop_sent = true;
  }
}

static sim_time model_next(const model *m) {
  sim_time best = SIM_TIME_NEVER;
  for (guint i = 0; i < m->evs->len; i++) {
    const model_ev *e = &g_array_index(m->evs, model_ev, i);
    if (!e->ran && !e->cancelled && e->t < best)
      best = e->t;
  }
  return best;
}

static void random_workload(int mode, int heavy, bool lanes, bool stops) {
  int _i = mode;
  model m = {.s = sched_new(_i),
             .evs = g_array_new(FALSE, FALSE, sizeof(model_ev)),
             .lcg = 12345 + (uint64_t)_i + (uint64_t)heavy + (lanes ? 99 : 0) + (stops ? 7 : 0),
             .last_i = -1,
             .heavy = heavy,
             .lanes = lanes,
             .stops = stops};
  /* With lanes, runs take only delays below 600 ns: run heads then
   * compete with heap and lane entries of every kind at equal times. */
  if (lanes) {
    sim_sched__set_lane_min(m.s, 2000);
    if (_i != MODE_NORUNS)
      sim_sched__set_run_max(m.s, 600);
  }
  for (int k = 0; k < 3000; k++)
    model_add(&m, model_delay(&m));
  int segments = 0;
  while (sim_sched_pending(m.s) > 0) {
    /* Between runs: more events (some at now: ties with the queue head),
     * cancels, and a look at the front that must not disturb anything. */
    for (uint32_t k = model_rand(&m, 20); k > 0; k--)
      model_add(&m, model_delay(&m));
    for (int k = heavy ? 8 * heavy : 1; k > 0; k--)
      model_cancel_some(&m);
    sim_time next = sim_sched_next_time(m.s), want = model_next(&m);
    ck_assert_msg(next == want, "%s: next_time got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT,
                  mode_names[_i], (gint64)next, (gint64)want);
    sim_time until = sim_sched_now(m.s) + model_rand(&m, 200000);
    sim_run_result r = sim_sched_run(m.s, until);
    ck_assert_msg(!m.err[0], "%s: %s", mode_names[_i], m.err);
    /* UNTIL: the clock is at the limit; IDLE: at the last event run;
     * STOPPED: at the event that called stop. */
    if (r == SIM_RUN_UNTIL)
      ck_assert_int_eq(sim_sched_now(m.s), until);
    else if (r == SIM_RUN_STOPPED)
      ck_assert(m.stops && sim_sched_now(m.s) == m.last_t && m.last_t <= until);
    else
      ck_assert(r == SIM_RUN_IDLE && sim_sched_now(m.s) <= until);
    ck_assert(r == SIM_RUN_STOPPED || !m.stop_sent);
    m.stopped += r == SIM_RUN_STOPPED;
    m.stop_sent = false;
    segments++;
  }
  int want_runs = 0;
  for (guint i = 0; i < m.evs->len; i++) {
    const model_ev *e = &g_array_index(m.evs, model_ev, i);
    ck_assert_msg(e->ran != e->cancelled, "%s: event %u ran %d cancelled %d", mode_names[_i], i,
                  e->ran, e->cancelled);
    want_runs += e->ran;
  }
  ck_assert_int_eq(m.runs, want_runs);
  ck_assert_uint_eq(sim_sched_executed(m.s), (uint64_t)want_runs);
  ck_assert_int_gt(segments, 10);
  if (_i == MODE_SWITCHING)
    ck_assert_msg(m.saw_radix && m.saw_heap, "switching: radix %d heap %d", m.saw_radix,
                  m.saw_heap);
  if (_i == MODE_RADIX)
    ck_assert(m.saw_radix && !m.saw_heap);
  if (_i == MODE_HEAP)
    ck_assert(m.saw_heap && !m.saw_radix);
  /* Lanes hold entries behind their heads, except in the radix heap (the
   * switching mode spends most of its time there). */
  if (lanes && (_i == MODE_HEAP || _i == MODE_DEFAULT || _i == MODE_NORUNS))
    ck_assert_msg(m.max_waiting > 0, "%s: no entry waited in a lane", mode_names[_i]);
  if (lanes && _i == MODE_RADIX)
    ck_assert_uint_eq(m.max_waiting, 0);
  /* Runs hold entries, unless they are off. */
  if (_i == MODE_NORUNS)
    ck_assert_uint_eq(m.max_in_runs, 0);
  else
    ck_assert_msg(m.max_in_runs > 0, "%s: no entry in a run", mode_names[_i]);
  if (stops)
    ck_assert_msg(m.stopped > 10, "%s: %d runs stopped", mode_names[_i], m.stopped);
  /* Heavy cancelling drops the cancelled entries in bulk. */
  if (heavy)
    ck_assert_msg(sim_sched__compactions(m.s) > 0, "%s: %zu compactions", mode_names[_i],
                  sim_sched__compactions(m.s));
  sim_sched_free(m.s);
  g_array_free(m.evs, TRUE);
}

START_TEST(random_workload_matches_model) { random_workload(_i, 0, false, false); }
END_TEST

/* Events with fixed delays wait in lanes (only each lane's head is in the
 * heap); the order must stay the model's, cancels and compaction included,
 * and when the queue moves to the radix heap and back. */
START_TEST(lane_workload_matches_model) { random_workload(_i, 0, true, false); }
END_TEST

START_TEST(lane_cancel_heavy_workload_matches_model) { random_workload(_i, 6, true, false); }
END_TEST

/* Most events cancelled, so that they outnumber the live ones and are
 * removed in bulk (compaction) while the order must stay the model's. */
START_TEST(cancel_heavy_workload_matches_model) { random_workload(_i, 6, false, false); }
END_TEST

/* Callbacks that call stop now and then: each run returns after the
 * callback that stopped it, the next one goes on in the model's order
 * (the run loop's gate must send the turn after a stop to the general
 * turn, and be reset by the next run). */
START_TEST(stopping_workload_matches_model) { random_workload(_i, 0, true, true); }
END_TEST

START_TEST(default_limits_switch_both_ways) {
  rec r = rec_new_mode(MODE_DEFAULT);
  ck_assert(!sim_sched__is_radix(r.s));
  for (intptr_t i = 0; i < 20000; i++)
    sim_sched_at(r.s, (i * 7919) % 5000, log_tag, &r, (void *)i);
  ck_assert(sim_sched__is_radix(r.s));
  ck_assert_int_eq(sim_sched_run(r.s, 4900), SIM_RUN_UNTIL);
  ck_assert(!sim_sched__is_radix(r.s)); /* about 80 left */
  sim_sched_run(r.s, SIM_TIME_NEVER);
  ck_assert_uint_eq(r.log->len, 20000);
  /* time order, then insertion order */
  for (guint k = 1; k < r.log->len; k++) {
    intptr_t x = g_array_index(r.log, intptr_t, k - 1), y = g_array_index(r.log, intptr_t, k);
    sim_time tx = (x * 7919) % 5000, ty = (y * 7919) % 5000;
    ck_assert_msg(tx < ty || (tx == ty && x < y), "position %u: %ld after %ld", k, (long)y,
                  (long)x);
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
  rec r = rec_new_mode(_i);
  sim_sched_at(r.s, 10, past, &r, NULL);
  sim_sched_run(r.s, SIM_TIME_NEVER); /* must abort */
  rec_free(&r);
}
END_TEST

/* --- the external source ------------------------------------------- */

/* A workload where every event may schedule a child at +0, +10 or +20:
 * many equal times. The same events are fed once through sim_sched_at and
 * once through a source; the run order must be the same. */
typedef struct {
  sim_sched *s;
  GArray *log;
  intptr_t next_tag;
  const sim_time *src_times;
  size_t src_n, src_i;
} src_world;

static void src_event(void *a, void *b);

static void src_spawn(src_world *w, intptr_t tag) {
  g_array_append_val(w->log, tag);
  uint64_t h = (uint64_t)tag * UINT64_C(0x9E3779B97F4A7C15);
  if (w->next_tag < 5000 && (h >> 60) % 4 != 0)
    sim_sched_after(w->s, (sim_time)((h >> 40) % 3) * 10, src_event, w, (void *)w->next_tag++);
}

static void src_event(void *a, void *b) { src_spawn(a, (intptr_t)b); }

static sim_time src_fire(void *ctx) {
  src_world *w = ctx;
  src_spawn(w, 2000 + (intptr_t)w->src_i);
  w->src_i++;
  return w->src_i < w->src_n ? w->src_times[w->src_i] : SIM_TIME_NEVER;
}

static GArray *src_run(int mode, bool use_source, uint64_t seq_limit, size_t *pending0) {
  enum { NPRE = 40, NSRC = 300 };
  sim_time times[NSRC];
  for (size_t i = 0; i < NSRC; i++)
    times[i] = (sim_time)(i / 15) * 10; /* 15 at each time */
  src_world w = {
      sched_new(mode), g_array_new(FALSE, FALSE, sizeof(intptr_t)), 3000, times, NSRC, 0};
  if (seq_limit)
    sim_sched__set_seq_limit(w.s, seq_limit);
  for (intptr_t i = 0; i < NPRE; i++)
    sim_sched_at(w.s, (i % 20) * 10, src_event, &w, (void *)(1000 + i));
  if (use_source) {
    sim_sched_set_source(w.s, times[0], src_fire, &w);
  } else {
    for (size_t i = 0; i < NSRC; i++)
      sim_sched_at(w.s, times[i], src_event, &w, (void *)(2000 + (intptr_t)i));
  }
  for (intptr_t i = 0; i < NPRE; i++)
    sim_sched_at(w.s, (i % 20) * 10, src_event, &w, (void *)(1500 + i));
  *pending0 = sim_sched_pending(w.s);
  sim_sched_run(w.s, 100); /* stop half-way, then go on one step at a time */
  while (sim_sched_step(w.s))
    ;
  sim_sched_free(w.s);
  return w.log;
}

START_TEST(source_runs_in_the_order_of_scheduled_events) {
  static const uint64_t limits[] = {0, 7, 64, 1000};
  for (size_t li = 0; li < G_N_ELEMENTS(limits); li++) {
    size_t p_at, p_src;
    GArray *want = src_run(_i, false, limits[li], &p_at);
    GArray *got = src_run(_i, true, limits[li], &p_src);
    ck_assert_msg(got->len == want->len,
                  "%s, seq limit %" G_GUINT64_FORMAT ": got %u events, want %u", mode_names[_i],
                  limits[li], got->len, want->len);
    for (guint i = 0; i < got->len; i++) {
      intptr_t g = g_array_index(got, intptr_t, i), x = g_array_index(want, intptr_t, i);
      ck_assert_msg(g == x, "%s, seq limit %" G_GUINT64_FORMAT ": event %u: got tag %ld, want %ld",
                    mode_names[_i], limits[li], i, (long)g, (long)x);
    }
    ck_assert_msg(want->len > 1000, "got %u events, want a workload of > 1000", want->len);
    ck_assert_uint_eq(p_at, 380);
    ck_assert_uint_eq(p_src, 81); /* the source counts as one */
    g_array_unref(got);
    g_array_unref(want);
  }
}
END_TEST

static sim_time src_never(void *ctx) {
  (void)ctx;
  return SIM_TIME_NEVER;
}

START_TEST(source_time_is_seen_by_next_time_and_until) {
  sim_sched *s = sched_new(_i);
  int dummy = 0;
  sim_sched_set_source(s, 50, src_never, &dummy);
  ck_assert_int_eq(sim_sched_pending(s), 1);
  ck_assert_int_eq(sim_sched_next_time(s), 50);
  ck_assert_int_eq(sim_sched_run(s, 40), SIM_RUN_UNTIL);
  ck_assert_int_eq(sim_sched_now(s), 40);
  ck_assert_int_eq(sim_sched_run(s, 60), SIM_RUN_IDLE);
  ck_assert_int_eq(sim_sched_now(s), 50);
  ck_assert_uint_eq(sim_sched_executed(s), 1);
  ck_assert_uint_eq(sim_sched_pending(s), 0);
  ck_assert_int_eq(sim_sched_next_time(s), SIM_TIME_NEVER);
  sim_sched_free(s);
}
END_TEST

/* A source set by a callback while the run goes on: its events (from 15,
 * at 15 and 25) must come before the later queued ones, in heap and run
 * entries alike (events at 10..40 queued before, at 5 ns steps so that
 * some of them sit in runs); the run's common turns must see it at once. */
typedef struct {
  rec *r;
  sim_time next;
} late_src;

static sim_time late_src_fire(void *ctx) {
  late_src *ls = ctx;
  intptr_t tag = 1000 + (intptr_t)sim_sched_now(ls->r->s);
  g_array_append_val(ls->r->log, tag);
  sim_time t = ls->next;
  ls->next = SIM_TIME_NEVER;
  return t;
}

static late_src *late_ctx;

static void set_late_source(void *a, void *b) {
  log_tag(a, b);
  rec *r = a;
  sim_sched_set_source(r->s, 15, late_src_fire, late_ctx);
}

START_TEST(source_set_by_a_callback_runs_in_order) {
  rec r = rec_new_mode(_i);
  late_src ls = {&r, 25};
  late_ctx = &ls;
  sim_sched_at(r.s, 10, set_late_source, &r, (void *)10);
  for (intptr_t t = 11; t <= 40; t++)
    sim_sched_at(r.s, t, log_tag, &r, (void *)t);
  ck_assert_int_eq(sim_sched_run(r.s, SIM_TIME_NEVER), SIM_RUN_IDLE);
  /* 10..14, the source at 15, 15..24, the source at 25, 25..40 (equal
   * times: the queued events first, they were scheduled before). */
  GArray *want = g_array_new(FALSE, FALSE, sizeof(intptr_t));
  for (intptr_t t = 10; t <= 40; t++) {
    g_array_append_val(want, t);
    if (t == 15 || t == 25) {
      intptr_t s = 1000 + t;
      g_array_append_val(want, s);
    }
  }
  ck_assert_uint_eq(r.log->len, want->len);
  for (guint i = 0; i < want->len; i++)
    ck_assert_msg(g_array_index(r.log, intptr_t, i) == g_array_index(want, intptr_t, i),
                  "%s: position %u: got %ld want %ld", mode_names[_i], i,
                  (long)g_array_index(r.log, intptr_t, i), (long)g_array_index(want, intptr_t, i));
  g_array_free(want, TRUE);
  rec_free(&r);
}
END_TEST

/* A burst of 50,000 timers spread over 64 distinct times, run to the end
 * in radix mode: the bucket arrays it grew are given back as the buckets
 * drain (what stays is about 65 small arrays of 256 entries, far below the
 * 50,000 entries of the burst), and the order is unchanged. */
START_TEST(drained_buckets_give_their_arrays_back) {
  rec r = rec_new_mode(MODE_RADIX);
  enum { N = 50000 };
  for (intptr_t i = 0; i < N; i++)
    sim_sched_at(r.s, 1000 + (i % 64) * 977, log_tag, &r, (void *)i);
  size_t full = sim_sched__bucket_room(r.s);
  ck_assert_msg(full >= N, "room %zu for %d entries", full, N);
  sim_sched_run(r.s, 1000 + 32 * 977);
  sim_sched_at(r.s, sim_sched_now(r.s) + 1, log_tag, &r, (void *)(intptr_t)N);
  sim_sched_run(r.s, SIM_TIME_NEVER);
  size_t left = sim_sched__bucket_room(r.s);
  ck_assert_msg(left <= 2 * 65 * 256, "got %zu entries of room after draining, want <= %d", left,
                2 * 65 * 256);
  ck_assert_uint_eq(r.log->len, N + 1);
  for (guint k = 1; k < N; k++) {
    intptr_t x = g_array_index(r.log, intptr_t, k - 1), y = g_array_index(r.log, intptr_t, k);
    ck_assert_msg(x % 64 < y % 64 || (x % 64 == y % 64 && x < y) || y == N,
                  "position %u: %ld after %ld", k, (long)y, (long)x);
  }
  rec_free(&r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_sched");
  TCase *tc = tcase_create("order");
  tcase_add_loop_test(tc, equal_times_fifo_100k, 0, MODE_COUNT);
  tcase_add_loop_test(tc, time_order_then_fifo, 0, MODE_COUNT);
  tcase_add_loop_test(tc, runs_keep_time_then_fifo_order, 0, MODE_COUNT);
  tcase_add_loop_test(tc, hold_model_keeps_order, 0, MODE_COUNT);
  tcase_add_loop_test(tc, renumbering_keeps_order, 0, MODE_COUNT);
  tcase_add_loop_test(tc, random_workload_matches_model, 0, MODE_COUNT);
  tcase_add_loop_test(tc, cancel_heavy_workload_matches_model, 0, MODE_COUNT);
  tcase_add_loop_test(tc, lane_workload_matches_model, 0, MODE_COUNT);
  tcase_add_loop_test(tc, lane_cancel_heavy_workload_matches_model, 0, MODE_COUNT);
  tcase_add_loop_test(tc, stopping_workload_matches_model, 0, MODE_COUNT);
  tcase_add_test(tc, default_limits_switch_both_ways);
  tcase_add_test(tc, drained_buckets_give_their_arrays_back);
  tcase_add_loop_test(tc, source_runs_in_the_order_of_scheduled_events, 0, MODE_COUNT);
  tcase_add_loop_test(tc, source_time_is_seen_by_next_time_and_until, 0, MODE_COUNT);
  tcase_add_loop_test(tc, source_set_by_a_callback_runs_in_order, 0, MODE_COUNT);
  suite_add_tcase(s, tc);
  tc = tcase_create("control");
  tcase_add_loop_test(tc, cancel_skips_event, 0, MODE_COUNT);
  tcase_add_loop_test(tc, stale_id_does_not_cancel_reused_slot, 0, MODE_COUNT);
  tcase_add_test(tc, compaction_drops_cancelled_lane_entries);
  tcase_add_test(tc, repeated_delay_takes_a_lane_of_one);
  tcase_add_loop_test(tc, run_until_semantics, 0, MODE_COUNT);
  tcase_add_loop_test(tc, looking_at_the_front_settles_nothing, 0, MODE_COUNT);
  tcase_add_loop_test(tc, stop_returns_after_callback, 0, MODE_COUNT);
  tcase_add_loop_test_raise_signal(tc, scheduling_in_the_past_aborts, SIGTRAP, 0, MODE_COUNT);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
