/* Tests for mta_retry: each profile's whole schedule, from arrival to the
 * bounce, against the times its documentation and source give (see
 * mta_retry.h for the sources). Times in the tables are seconds after
 * arrival. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>

#include "mta_retry.h"
#include "testutil.h"

#define S MTA_SEC

/* Exim default rule F,2h,15m; G,16h,1h,1.5; F,4d,6h, attempts exactly at
 * the retry times: every 15 min to 2 h; then 1 h, 1.5 h, 2.25 h, 3.375 h,
 * 5.0625 h, 7.59375 h (27337 s: retry.c multiplies integer seconds); then
 * every 6 h while the age is <= 4 d; the attempt past 4 d bounces. */
static const int64_t exim_tab[] = {0,      900,    1800,   2700,   3600,   4500,   5400,   6300,
                                   7200,   8100,   11700,  17100,  25200,  37350,  55575,  82912,
                                   104512, 126112, 147712, 169312, 190912, 212512, 234112, 255712,
                                   277312, 298912, 320512, 342112, 363712};
/* The same rule behind a 30-minute queue runner (Debian QUEUEINTERVAL=30m):
 * the G rule sees the actual gap when it is shorter than the predicted one. */
static const int64_t exim30_tab[] = {0,      1800,   3600,   5400,   7200,   9000,   12600,
                                     18000,  27000,  39600,  59400,  81000,  102600, 124200,
                                     145800, 167400, 189000, 210600, 232200, 253800, 275400,
                                     297000, 318600, 340200, 361800};
/* OpenSMTPD: arrival + 400·n² s, n = retry count, until the 4 d ttl. */
static const int64_t osmtpd_tab[] = {0,      400,    1600,   3600,   6400,   10000,  14400,  19600,
                                     25600,  32400,  40000,  48400,  57600,  67600,  78400,  90000,
                                     102400, 115600, 129600, 144400, 160000, 176400, 193600, 211600,
                                     230400, 250000, 270400, 291600, 313600, 336400};

static int64_t postfix_tab[200];
static size_t postfix_n;
static int64_t postfix0_tab[200];
static size_t postfix0_n;

/* Postfix: delay = clamp(age, 300, 4000) after each failure, stamped on the
 * file; the deferred scan every 300 s takes it at the first run >= stamp −
 * 1 s. Age 0 → 300, 300 → 600, 600 → 1200, 1200 → 2400, 2400 → 4800, 4800 →
 * 8800 → run 9000, then 4000 s rounded up to the 300 s runs = 4200 s, while
 * the age is < 5 d; the first attempt at or after 5 d bounces. With no
 * queue runner the step is the bare 4000 s. */
static void build_postfix(void) {
  static const int64_t head[] = {0, 300, 600, 1200, 2400, 4800};
  postfix_n = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
    postfix_tab[postfix_n++] = head[i];
  for (int64_t t = 9000;; t += 4200) {
    postfix_tab[postfix_n++] = t;
    if (t >= 432000)
      break;
  }
  postfix0_n = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
    postfix0_tab[postfix0_n++] = head[i];
  for (int64_t t = 8800;; t += 4000) {
    postfix0_tab[postfix0_n++] = t;
    if (t >= 432000)
      break;
  }
}

typedef struct {
  const char *name;
  mta_retry_kind kind;
  int64_t queue_run; /* -1: the profile's default */
  const int64_t *want;
  size_t nwant;
  int64_t bounce_at;
} sched_row;

static sched_row rows[5];

static void setup_rows(void) {
  build_postfix();
  rows[0] = (sched_row){"postfix", MTA_RETRY_POSTFIX, -1, postfix_tab, postfix_n, 433200};
  rows[1] = (sched_row){"postfix-norun", MTA_RETRY_POSTFIX, 0, postfix0_tab, postfix0_n, 432800};
  rows[2] = (sched_row){"exim", MTA_RETRY_EXIM, -1, exim_tab, G_N_ELEMENTS(exim_tab), 363712};
  rows[3] = (sched_row){"exim-q30m", MTA_RETRY_EXIM,           1800 * S,
                        exim30_tab,  G_N_ELEMENTS(exim30_tab), 361800};
  rows[4] = (sched_row){"opensmtpd", MTA_RETRY_OPENSMTPD,      -1,
                        osmtpd_tab,  G_N_ELEMENTS(osmtpd_tab), 345600};
}

START_TEST(full_schedule) {
  setup_rows();
  const sched_row *r = &rows[_i];
  mta_retry_profile p;
  mta_retry_profile_init(&p, r->kind);
  if (r->queue_run >= 0)
    p.queue_run = r->queue_run;
  int64_t got[400], bounce = -1;
  size_t n = mta_retry_schedule(&p, 0, false, got, G_N_ELEMENTS(got), &bounce);
  ck_assert_msg(n == r->nwant, "%s: got %zu attempts want %zu", r->name, n, r->nwant);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(got[i] == r->want[i] * S,
                  "%s attempt %zu: got %" G_GINT64_FORMAT " s want %" G_GINT64_FORMAT " s", r->name,
                  i + 1, got[i] / S, r->want[i]);
  ck_assert_msg(bounce == r->bounce_at * S,
                "%s: bounce got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, r->name, bounce / S,
                r->bounce_at);
}
END_TEST

/* The schedule moves with the arrival time (except postfix's queue runs,
 * which stay on their own grid). */
START_TEST(arrival_offset) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_OPENSMTPD);
  int64_t got[64], bounce;
  int64_t a = 1234567890123;
  size_t n = mta_retry_schedule(&p, a, false, got, 64, &bounce);
  ck_assert_uint_eq(n, G_N_ELEMENTS(osmtpd_tab));
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq(got[i] - a, osmtpd_tab[i] * S);
  ck_assert_int_eq(bounce - a, 4 * MTA_DAY);

  /* Postfix: a message arriving at 12.5 s fails; stamp 312.5 s; the scan at
   * 300 s leaves it (more than 1 s ahead), the one at 600 s takes it. */
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  mta_retry_state st = {0, 0};
  int64_t next = 0;
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 12500 * MTA_SEC / 1000, 1, false,
                                           12500 * MTA_SEC / 1000, &next),
                   MTA_RETRY_DEFER);
  ck_assert_int_eq(next, 600 * S);
  /* Stamp 300.5 s is within the 1 s slack of the 300 s scan... */
  ck_assert_int_eq(
      mta_retry_after_failure(&p, &st, 500 * MTA_SEC / 1000, 1, false, 500 * MTA_SEC / 1000, &next),
      MTA_RETRY_DEFER);
  ck_assert_int_eq(next, 300 * S);
  /* ...and 301.5 s is not. */
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 1500 * MTA_SEC / 1000, 1, false,
                                           1500 * MTA_SEC / 1000, &next),
                   MTA_RETRY_DEFER);
  ck_assert_int_eq(next, 600 * S);
}
END_TEST

/* Lifetimes: postfix bounces at the first attempt at or after the lifetime
 * (bounce_queue_lifetime for a null sender); opensmtpd expires on a timer. */
START_TEST(lifetimes) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  mta_retry_state st = {0, 0};
  int64_t next;
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 50, false, 5 * MTA_DAY - 1, &next),
                   MTA_RETRY_DEFER);
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 50, false, 5 * MTA_DAY, &next),
                   MTA_RETRY_BOUNCE);
  ck_assert_int_eq(next, 5 * MTA_DAY);
  p.bounce_lifetime = 1 * MTA_DAY;
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 20, true, MTA_DAY, &next), MTA_RETRY_BOUNCE);
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 20, false, MTA_DAY, &next), MTA_RETRY_DEFER);
  int64_t times[200], bounce;
  size_t n = mta_retry_schedule(&p, 0, true, times, 200, &bounce);
  ck_assert_int_ge(bounce, MTA_DAY);
  ck_assert_int_lt(times[n - 2], MTA_DAY);
  ck_assert_int_eq(times[n - 1], bounce);

  ck_assert(!mta_retry_expired(&p, 0, false, 10 * MTA_DAY)); /* postfix: after attempts only */
  mta_retry_profile_init(&p, MTA_RETRY_OPENSMTPD);
  ck_assert(!mta_retry_expired(&p, 0, false, 4 * MTA_DAY - 1));
  ck_assert(mta_retry_expired(&p, 0, false, 4 * MTA_DAY));
  /* The 29th retry (336400 s) is followed by the expiry, not a 30th try. */
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 30, false, 336400 * S, &next),
                   MTA_RETRY_EXPIRE);
  ck_assert_int_eq(next, 4 * MTA_DAY);
  /* A slow attempt skips the steps already past (scheduler_next). */
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 1, false, 1700 * S, &next), MTA_RETRY_DEFER);
  ck_assert_int_eq(next, 3600 * S);
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 1, false, 5 * MTA_DAY, &next),
                   MTA_RETRY_BOUNCE);

  /* Exim without rules treats temporary errors as permanent. */
  mta_retry_profile_init(&p, MTA_RETRY_EXIM);
  p.nrules = 0;
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 1, false, 0, &next), MTA_RETRY_BOUNCE);
  /* retry_interval_max caps a geometric gap. */
  mta_retry_profile_init(&p, MTA_RETRY_EXIM);
  p.retry_interval_max = 2 * MTA_HOUR;
  st = (mta_retry_state){10 * MTA_HOUR, 16 * MTA_HOUR};
  ck_assert_int_eq(mta_retry_after_failure(&p, &st, 0, 9, false, 16 * MTA_HOUR, &next),
                   MTA_RETRY_DEFER);
  ck_assert_int_eq(next, 18 * MTA_HOUR);
}
END_TEST

START_TEST(names) {
  for (unsigned k = 0; k < MTA_RETRY__COUNT; k++) {
    mta_retry_kind got;
    ck_assert(mta_retry_kind_parse(mta_retry_kind_name((mta_retry_kind)k), &got));
    ck_assert_int_eq(got, k);
  }
  mta_retry_kind got;
  ck_assert(!mta_retry_kind_parse("sendmail", &got));
  ck_assert(!mta_retry_kind_parse(NULL, &got));
  ck_assert_str_eq(mta_retry_verdict_name(MTA_RETRY_EXPIRE), "expire");
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  ck_assert_int_eq(p.queue_run, 300 * S);
  ck_assert_int_eq(p.min_backoff, 300 * S);
  ck_assert_int_eq(p.max_backoff, 4000 * S);
  ck_assert_int_eq(p.lifetime, 5 * MTA_DAY);
  ck_assert_int_eq(p.bounce_lifetime, 5 * MTA_DAY);
  ck_assert_int_eq(p.delay_warning, 0);
  ck_assert_int_eq(mta_retry_queue_run_at(&p, 0), 0);
  ck_assert_int_eq(mta_retry_queue_run_at(&p, 1), 300 * S);
  ck_assert_int_eq(mta_retry_queue_run_at(&p, -1), 0);
  p.queue_run_phase = 7 * S;
  ck_assert_int_eq(mta_retry_queue_run_at(&p, 8 * S), 307 * S);
}
END_TEST

/* Delay warnings: postfix off by default (one when configured), exim every
 * 24 h, opensmtpd once at 4 h. */
START_TEST(warnings) {
  static const struct {
    mta_retry_kind kind;
    unsigned warned;
    int64_t want; /* seconds after arrival, -1 = none */
  } wrows[] = {
      {MTA_RETRY_POSTFIX, 0, -1},      {MTA_RETRY_EXIM, 0, 86400},
      {MTA_RETRY_EXIM, 1, 2 * 86400},  {MTA_RETRY_EXIM, 3, 4 * 86400},
      {MTA_RETRY_OPENSMTPD, 0, 14400}, {MTA_RETRY_OPENSMTPD, 1, -1},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(wrows); i++) {
    mta_retry_profile p;
    mta_retry_profile_init(&p, wrows[i].kind);
    int64_t got = mta_retry_warning_at(&p, 100 * S, wrows[i].warned);
    int64_t want = wrows[i].want < 0 ? INT64_MAX : 100 * S + wrows[i].want * S;
    ck_assert_msg(got == want, "row %zu: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, i, got,
                  want);
  }
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  p.delay_warning = 4 * MTA_HOUR; /* delay_warning_time = 4h */
  ck_assert_int_eq(mta_retry_warning_at(&p, 0, 0), 4 * MTA_HOUR);
  ck_assert_int_eq(mta_retry_warning_at(&p, 0, 1), INT64_MAX);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mta_retry");
  TCase *tc = tcase_create("schedules");
  tcase_add_loop_test(tc, full_schedule, 0, 5);
  tcase_add_test(tc, arrival_offset);
  tcase_add_test(tc, lifetimes);
  tcase_add_test(tc, names);
  tcase_add_test(tc, warnings);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
