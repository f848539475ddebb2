/* Tests for trace_time: duration parsing and printing, exact integers. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace_time.h"

static const struct {
  const char *text;
  int64_t want;
} good[] = {
    {"0s", 0},
    {"250ms", 250000000},
    {"5m", 300000000000},
    {"2h", 7200000000000},
    {"1h30m", 5400000000000},
    {"1.5s", 1500000000},
    {"2d", 172800000000000},
    {"7us", 7000},
    {"3ns", 3},
    {"1m5s120ms", 65120000000},
    {"0.000000001s", 1},
    {"9223372036854775807ns", INT64_MAX},
};

START_TEST(parse_good) {
  int64_t got = -1;
  GError *err = NULL;
  ck_assert_msg(trace_time_parse(good[_i].text, &got, &err), "%s: %s", good[_i].text,
                err ? err->message : "");
  ck_assert_msg(got == good[_i].want, "%s: got %" PRId64 " want %" PRId64, good[_i].text, got,
                good[_i].want);
}
END_TEST

static const struct {
  const char *text;
  int code;
} bad[] = {
    {"", TRACE_TIME_ERROR_SYNTAX},       {"5", TRACE_TIME_ERROR_UNIT},
    {"5x", TRACE_TIME_ERROR_UNIT},       {"-5s", TRACE_TIME_ERROR_RANGE},
    {"1.s", TRACE_TIME_ERROR_SYNTAX},    {"s", TRACE_TIME_ERROR_SYNTAX},
    {"0.5ns", TRACE_TIME_ERROR_RANGE},   {"9223372036854775808ns", TRACE_TIME_ERROR_RANGE},
    {"300000d", TRACE_TIME_ERROR_RANGE}, {"5 s", TRACE_TIME_ERROR_UNIT},
    {"5sec", TRACE_TIME_ERROR_UNIT},
};

START_TEST(parse_bad) {
  int64_t got = 42;
  GError *err = NULL;
  ck_assert_msg(!trace_time_parse(bad[_i].text, &got, &err), "%s: accepted", bad[_i].text);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(err->code == bad[_i].code, "%s: got code %d want %d (%s)", bad[_i].text, err->code,
                bad[_i].code, err->message);
  ck_assert_msg(strstr(err->message, "duration") != NULL, "message: %s", err->message);
  ck_assert_int_eq(got, 42);
  g_error_free(err);
}
END_TEST

static const struct {
  int64_t t;
  const char *exact, *clock, *brief;
} fmt[] = {
    {0, "0s", "0:00.000", "0s"},
    {250000000, "250ms", "0:00.250", "250ms"},
    {65120000000, "1m5s120ms", "1:05.120", "1m 5s"},
    {5400000000000, "1h30m", "1:30:00.000", "1h 30m"},
    {3600000000001, "1h1ns", "1:00:00.000", "1h"},
    {-1500000000, "-1s500ms", "-0:01.500", "-1s 500ms"},
    {90061001000000, "1d1h1m1s1ms", "1d 1:01:01.001", "1d 1h"},
};

START_TEST(format_rows) {
  char buf[TRACE_TIME_BUFSZ];
  ck_assert_str_eq(trace_time_format(fmt[_i].t, buf), fmt[_i].exact);
  ck_assert_str_eq(trace_time_format_clock(fmt[_i].t, buf), fmt[_i].clock);
  ck_assert_str_eq(trace_time_format_short(fmt[_i].t, buf), fmt[_i].brief);
  if (fmt[_i].t >= 0) {
    int64_t back = -1;
    ck_assert(trace_time_parse(fmt[_i].exact, &back, NULL));
    ck_assert_int_eq(back, fmt[_i].t);
  }
}
END_TEST

START_TEST(format_extremes) {
  char buf[TRACE_TIME_BUFSZ];
  int64_t back = 0;
  ck_assert(trace_time_parse(trace_time_format(INT64_MAX, buf), &back, NULL));
  ck_assert(back == INT64_MAX);
  ck_assert_int_eq(trace_time_format(INT64_MIN, buf)[0], '-');
  ck_assert_int_eq(trace_time_format_clock(INT64_MIN, buf)[0], '-');
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_time");
  TCase *tc = tcase_create("parse");
  tcase_add_loop_test(tc, parse_good, 0, G_N_ELEMENTS(good));
  tcase_add_loop_test(tc, parse_bad, 0, G_N_ELEMENTS(bad));
  suite_add_tcase(s, tc);
  tc = tcase_create("format");
  tcase_add_loop_test(tc, format_rows, 0, G_N_ELEMENTS(fmt));
  tcase_add_test(tc, format_extremes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
