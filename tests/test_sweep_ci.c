/* Tests for cli/sweep_ci.c: fixed-point means and Student-t intervals
 * against values worked out by hand, and the fixed-decimal printer. */
#include <string.h>

#include "sweep_ci.h"
#include "testutil.h"

static const struct {
  size_t df;
  int want;
} t_rows[] = {{1, 12706}, {4, 2776},  {29, 2045}, {30, 2042},  {31, 2042},  {39, 2042},
              {40, 2021}, {49, 2021}, {99, 1990}, {120, 1980}, {121, 1960}, {100000, 1960}};

START_TEST(t_table) {
  int got = sweep_ci_t975_milli(t_rows[_i].df);
  ck_assert_msg(got == t_rows[_i].want, "df %zu: got %d want %d", t_rows[_i].df, got,
                t_rows[_i].want);
}
END_TEST

/* By hand: {1,2,3,4,5}: mean 3, s² = 10/4, se = √(2.5/5) = 0.70711 → 707
 * (milli), half = 707 × 2.776 = 1962.6 → 1963. {-1,1}: se = √(2/1/2) = 1,
 * half = 12.706. {2,2,3}: mean 2.3333, s² = 1/3, se = √(1/9) = 0.33333 →
 * 333, half = 333 × 4.303 = 1432.9 → 1433. Delays in ms {540580, 540577,
 * 540582}: mean 540579.667, s² = (0.111+7.111+5.444)/2 = 6.3333, se =
 * √(6.3333/3) = 1.45297 → 1453, half = 1453 × 4.303 = 6252.3 → 6252. */
static const struct {
  int64_t v[5];
  size_t n;
  int64_t mean, half, min, max;
} ci_rows[] = {
    {{1, 2, 3, 4, 5}, 5, 3000, 1963, 1, 5},
    {{-1, 1}, 2, 0, 12706, -1, 1},
    {{2, 2, 3}, 3, 2333, 1433, 2, 3},
    {{7}, 1, 7000, -1, 7, 7},
    {{5, 5, 5, 5}, 4, 5000, 0, 5, 5},
    {{540580, 540577, 540582}, 3, 540579667, 6252, 540577, 540582},
    {{-2, -3}, 2, -2500, 6353, -3, -2},
    {{INT64_C(4000000000000), INT64_C(4000000000002)},
     2,
     INT64_C(4000000000001000),
     12706,
     INT64_C(4000000000000),
     INT64_C(4000000000002)},
};

START_TEST(intervals) {
  sweep_ci ci;
  sweep_ci_compute(ci_rows[_i].v, ci_rows[_i].n, &ci);
  ck_assert_msg(ci.n == ci_rows[_i].n && ci.mean_milli == ci_rows[_i].mean &&
                    ci.half_milli == ci_rows[_i].half && ci.min == ci_rows[_i].min &&
                    ci.max == ci_rows[_i].max,
                "row %d: got mean %" G_GINT64_FORMAT " half %" G_GINT64_FORMAT
                " min %" G_GINT64_FORMAT " max %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT
                " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                _i, ci.mean_milli, ci.half_milli, ci.min, ci.max, ci_rows[_i].mean,
                ci_rows[_i].half, ci_rows[_i].min, ci_rows[_i].max);
}
END_TEST

static const struct {
  int64_t v;
  int shift, decimals;
  const char *want;
} fixed_rows[] = {
    {12345, 0, 2, "12.35"},
    {12344, 0, 2, "12.34"},
    {-12345, 0, 2, "-12.35"},
    {1500000, 3, 3, "1.500"},
    {540579667, 3, 3, "540.580"},
    {166666000, 4, 2, "16.67"},
    {0, 0, 0, "0"},
    {999, 0, 0, "1"},
    {-499, 0, 0, "0"},
    {3312500, 0, 1, "3312.5"},
    {7, 0, 3, "0.007"},
};

START_TEST(fixed) {
  GString *o = g_string_new(NULL);
  sweep_ci_append_fixed(o, fixed_rows[_i].v, fixed_rows[_i].shift, fixed_rows[_i].decimals);
  ck_assert_msg(strcmp(o->str, fixed_rows[_i].want) == 0, "row %d: got %s want %s", _i, o->str,
                fixed_rows[_i].want);
  g_string_free(o, TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sweep_ci");
  TCase *tc = tcase_create("ci");
  tcase_add_loop_test(tc, t_table, 0, G_N_ELEMENTS(t_rows));
  tcase_add_loop_test(tc, intervals, 0, G_N_ELEMENTS(ci_rows));
  tcase_add_loop_test(tc, fixed, 0, G_N_ELEMENTS(fixed_rows));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
