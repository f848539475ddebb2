/* sweep_ci.h — means and 95 % confidence intervals in fixed point, for
 * `mailsim sweep`'s summary table.
 *
 * Integer arithmetic only (128-bit sums, an integer square root), so the
 * same samples print the same digits on every build. The interval is
 * Student's t: mean ± t(0.975, n−1) · s / √n, with s the sample standard
 * deviation (n − 1 in the denominator) and t from a table of two-sided 95 %
 * quantiles (df 1–30, 40, 50, 60, 80, 100, 120, ∞; a df between two rows
 * takes the smaller df's value, so the interval is never too narrow).
 */
#ifndef MAILSIM_SWEEP_CI_H
#define MAILSIM_SWEEP_CI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
  size_t n;
  int64_t min, max;
  int64_t mean_milli; /* mean × 1000, rounded half away from zero */
  int64_t half_milli; /* the interval's half-width × 1000; -1 when n < 2 */
} sweep_ci;

/* t(0.975, DF) × 1000 (DF >= 1). */
int sweep_ci_t975_milli(size_t df);

/* Summarises the N samples V (N >= 1). */
void sweep_ci_compute(const int64_t *v, size_t n, sweep_ci *out);

/* Appends V_MILLI / 1000 / 10^SHIFT with DECIMALS digits after the point
 * (0 <= DECIMALS <= 3 + SHIFT), rounded half away from zero:
 * (12345, 0, 2) -> "12.35"; (1500000, 3, 3) -> "1.500". */
void sweep_ci_append_fixed(GString *out, int64_t v_milli, int shift, int decimals);

#endif
