/* sweep_ci.c — fixed-point mean and Student-t interval (see sweep_ci.h).
 * t quantiles: two-sided 95 % (p = 0.975), as in every statistics table
 * (e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2). */
#include "sweep_ci.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static const struct {
  size_t df;
  int t;
} t975[] = {
    {1, 12706}, {2, 4303},  {3, 3182},  {4, 2776},  {5, 2571},   {6, 2447},
    {7, 2365},  {8, 2306},  {9, 2262},  {10, 2228}, {11, 2201},  {12, 2179},
    {13, 2160}, {14, 2145}, {15, 2131}, {16, 2120}, {17, 2110},  {18, 2101},
    {19, 2093}, {20, 2086}, {21, 2080}, {22, 2074}, {23, 2069},  {24, 2064},
    {25, 2060}, {26, 2056}, {27, 2052}, {28, 2048}, {29, 2045},  {30, 2042},
    {40, 2021}, {50, 2009}, {60, 2000}, {80, 1990}, {100, 1984}, {120, 1980},
};

int sweep_ci_t975_milli(size_t df) {
  g_assert(df >= 1);
  if (df > 120)
    return 1960;
  int t = t975[0].t;
  for (size_t i = 0; i < G_N_ELEMENTS(t975) && t975[i].df <= df; i++)
    t = t975[i].t;
  return t;
}

static u128 isqrt(u128 x) {
  u128 r = 0, bit = (u128)1 << 126;
  while (bit > x)
    bit >>= 2;
  while (bit) {
    if (x >= r + bit) {
      x -= r + bit;
      r = (r >> 1) + bit;
    } else {
      r >>= 1;
    }
    bit >>= 2;
  }
  return r;
}

/* NUM / DEN rounded half away from zero (DEN > 0). */
static i128 div_round(i128 num, i128 den) {
  return num >= 0 ? (num + den / 2) / den : -((-num + den / 2) / den);
}

void sweep_ci_compute(const int64_t *v, size_t n, sweep_ci *out) {
  g_assert(n >= 1);
  i128 sum = 0;
  out->n = n;
  out->min = out->max = v[0];
  for (size_t i = 0; i < n; i++) {
    sum += v[i];
    out->min = MIN(out->min, v[i]);
    out->max = MAX(out->max, v[i]);
  }
  out->mean_milli = (int64_t)div_round(sum * 1000, (i128)n);
  if (n < 2) {
    out->half_milli = -1;
    return;
  }
  /* n·Σ(x − mean)² = n·Σx² − (Σx)², computed on deviations from the
   * minimum so the squares stay small. */
  i128 s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    i128 d = (i128)v[i] - out->min;
    s += d;
    s2 += d * d;
  }
  u128 nss = (u128)((i128)n * s2 - s * s);           /* n·Σ(x − mean)² >= 0 */
  u128 den = (u128)n * (u128)n * (u128)(n - 1);      /* se² = nss / (n²(n−1)) */
  u128 se_micro2 = (nss * 1000000u + den / 2) / den; /* (se × 1000)² */
  u128 se_milli = isqrt(se_micro2);
  if ((se_milli + 1) * (se_milli + 1) - se_micro2 <= se_micro2 - se_milli * se_milli)
    se_milli++; /* round to nearest */
  out->half_milli = (int64_t)div_round((i128)se_milli * sweep_ci_t975_milli(n - 1), 1000);
}

void sweep_ci_append_fixed(GString *out, int64_t v_milli, int shift, int decimals) {
  g_assert(decimals >= 0 && decimals <= 3 + shift);
  i128 div = 1;
  for (int i = 0; i < 3 + shift - decimals; i++)
    div *= 10;
  i128 q = div_round(v_milli, div);
  bool neg = q < 0;
  u128 a = (u128)(neg ? -q : q);
  u128 p = 1;
  for (int i = 0; i < decimals; i++)
    p *= 10;
  g_string_append_printf(out, "%s%" G_GUINT64_FORMAT, neg ? "-" : "", (guint64)(a / p));
  if (decimals)
    g_string_append_printf(out, ".%0*" G_GUINT64_FORMAT, decimals, (guint64)(a % p));
}
