/* sim_rng.h — the simulator's own random streams.
 *
 * Generator: xoshiro256** 1.0 (Blackman and Vigna), 256-bit state, period
 * 2^256 - 1. A stream is named: its state is derived from (root seed, name)
 * only — FNV-1a 64 of the name, mixed with the seed, expanded by splitmix64 —
 * so adding or removing a stream never changes another stream's draws.
 *
 * Derived draws and their algorithms (all exact across compilers: integer
 * arithmetic, or IEEE double operations plus libm's log/exp, with
 * -ffp-contract=off):
 *  - below(n): unbiased integer in [0, n) by rejection of the low
 *    (2^64 mod n) values, then modulo;
 *  - unit(): double in [0, 1): the top 53 bits times 2^-53;
 *  - exp(mean): inversion, -mean * log(1 - unit());
 *  - normal(mu, sigma): Marsaglia's polar method (one pair per call, the
 *    second value discarded so a draw's cost never depends on history);
 *  - lognormal(mu, sigma): exp(normal(mu, sigma)).
 * Time-valued draws round to the nearest nanosecond and saturate.
 */
#ifndef MAILSIM_SIM_RNG_H
#define MAILSIM_SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_time.h"

typedef struct {
  uint64_t s[4];
} sim_rng;

/* Seeds RNG as the stream NAME of root SEED. */
void sim_rng_init(sim_rng *rng, uint64_t seed, const char *name);
uint64_t sim_rng_u64(sim_rng *rng);
/* Unbiased integer in [0, n); n must be > 0. */
uint64_t sim_rng_below(sim_rng *rng, uint64_t n);
/* Unbiased integer in [lo, hi] (inclusive); lo <= hi. */
int64_t sim_rng_range(sim_rng *rng, int64_t lo, int64_t hi);
/* Double in [0, 1). */
double sim_rng_unit(sim_rng *rng);
/* True with probability p (p <= 0: never, p >= 1: always). */
bool sim_rng_chance(sim_rng *rng, double p);
double sim_rng_exp(sim_rng *rng, double mean);
double sim_rng_normal(sim_rng *rng, double mu, double sigma);
double sim_rng_lognormal(sim_rng *rng, double mu, double sigma);
/* Exponential duration with the given mean, in whole ns. */
sim_time sim_rng_exp_time(sim_rng *rng, sim_time mean);
/* Shuffles N elements of SIZE bytes in place (Fisher–Yates with below()). */
void sim_rng_shuffle(sim_rng *rng, void *base, size_t n, size_t size);

/* FNV-1a 64 of a string: the stable name hash used for stream derivation. */
uint64_t sim_rng_name_hash(const char *name);

#endif
