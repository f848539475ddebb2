/* Tests for sim_time: duration parsing and printing. */
#include <check.h>
#include <stdlib.h>

#include "sim_time.h"
#include "testutil.h"

static const struct {
  const char *text;
  sim_time want;
} good[] = {
    {"0s", 0},
    {"250ms", 250 * SIM_MS},
    {"5m", 5 * SIM_MIN},
    {"2h", 2 * SIM_HOUR},
    {"1d", SIM_DAY},
    {"1h30m", 90 * SIM_MIN},
    {"1.5s", 1500 * SIM_MS},
    {"0.000000001s", 1},
    {"7ns", 7},
    {"12us", 12000},
    {"9223372036854775807ns", INT64_MAX},
    {"106751d", 106751 * SIM_DAY},
};

START_TEST(parse_good) {
  sim_time got = -1;
  GError *err = NULL;
  ck_assert_msg(sim_time_parse(good[_i].text, &got, &err), "%s: %s", good[_i].text,
                err ? err->message : "?");
  ck_assert_msg(got == good[_i].want, "%s: got %lld want %lld", good[_i].text, (long long)got,
                (long long)good[_i].want);
}
END_TEST

static const struct {
  const char *text;
  int code;
} bad[] = {
    {"", SIM_TIME_ERROR_SYNTAX},
    {"5", SIM_TIME_ERROR_UNIT},
    {"5x", SIM_TIME_ERROR_UNIT},
    {"5 s", SIM_TIME_ERROR_UNIT},
    {"-5s", SIM_TIME_ERROR_RANGE},
    {"s", SIM_TIME_ERROR_SYNTAX},
    {"1.s", SIM_TIME_ERROR_SYNTAX},
    {"0.5ns", SIM_TIME_ERROR_RANGE},
    {"9223372036854775808ns", SIM_TIME_ERROR_RANGE},
    {"106752d", SIM_TIME_ERROR_RANGE},
    {"99999999999999999999999s", SIM_TIME_ERROR_RANGE},
    {"106751d23h59m59s", SIM_TIME_ERROR_RANGE},
    {"5mins", SIM_TIME_ERROR_UNIT},
};

START_TEST(parse_bad) {
  sim_time got = 42;
  GError *err = NULL;
  ck_assert_msg(!sim_time_parse(bad[_i].text, &got, &err), "%s: accepted as %lld", bad[_i].text,
                (long long)got);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(err->code == bad[_i].code, "%s: got code %d want %d (%s)", bad[_i].text, err->code,
                bad[_i].code, err->message);
  ck_assert_msg(strstr(err->message, bad[_i].text) != NULL, "message names the text: %s",
                err->message);
  ck_assert_int_eq(got, 42);
  g_error_free(err);
}
END_TEST

static const struct {
  sim_time t;
  const char *want;
} fmt[] = {
    {0, "0s"},       {250 * SIM_MS, "250ms"},   {5 * SIM_MIN, "5m"}, {90 * SIM_MIN, "1h30m"},
    {SIM_DAY + 1, "1d1ns"}, {-SIM_S, "-1s"},    {1500 * SIM_MS, "1s500ms"},
    {INT64_MIN, "-106751d23h47m16s854ms775us808ns"},
};

START_TEST(format_values) {
  char buf[SIM_TIME_BUFSZ];
  ck_assert_str_eq(sim_time_format(fmt[_i].t, buf), fmt[_i].want);
}
END_TEST

START_TEST(format_parse_round_trip) {
  /* Every non-negative value printed parses back to itself. */
  sim_time vals[] = {1, 999, SIM_MS + 1, 3 * SIM_DAY + 7 * SIM_HOUR + 12345, INT64_MAX};
  for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
    char buf[SIM_TIME_BUFSZ];
    sim_time back = -1;
    ck_assert(sim_time_parse(sim_time_format(vals[i], buf), &back, NULL));
    ck_assert_msg(back == vals[i], "%s: got %lld want %lld", buf, (long long)back,
                  (long long)vals[i]);
  }
}
END_TEST

START_TEST(format_short) {
  char buf[SIM_TIME_BUFSZ];
  ck_assert_str_eq(sim_time_format_short(0, buf), "0s");
  ck_assert_str_eq(sim_time_format_short(191025920, buf), "191ms");
  ck_assert_str_eq(sim_time_format_short(1461741388, buf), "1.462s");
  ck_assert_str_eq(sim_time_format_short(1500 * SIM_MS, buf), "1.5s");
  ck_assert_str_eq(sim_time_format_short(150 * SIM_MIN, buf), "2.5h");
  ck_assert_str_eq(sim_time_format_short(999999999, buf), "1s");
  ck_assert_str_eq(sim_time_format_short(-2 * SIM_MS, buf), "-2ms");
  ck_assert_str_eq(sim_time_format_short(7, buf), "7ns");
}
END_TEST

START_TEST(saturating_add) {
  ck_assert(sim_time_add(SIM_TIME_NEVER - 5, 10) == SIM_TIME_NEVER);
  ck_assert(sim_time_add(5, 10) == 15);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_time");
  TCase *tc = tcase_create("parse");
  tcase_add_loop_test(tc, parse_good, 0, G_N_ELEMENTS(good));
  tcase_add_loop_test(tc, parse_bad, 0, G_N_ELEMENTS(bad));
  suite_add_tcase(s, tc);
  tc = tcase_create("format");
  tcase_add_loop_test(tc, format_values, 0, G_N_ELEMENTS(fmt));
  tcase_add_test(tc, format_parse_round_trip);
  tcase_add_test(tc, saturating_add);
  tcase_add_test(tc, format_short);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
