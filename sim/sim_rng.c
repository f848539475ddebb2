/* sim_rng.c — xoshiro256** streams derived from (seed, name).
 * Reference: https://prng.di.unimi.it/xoshiro256starstar.c (public domain). */
#include "sim_rng.h"

#include <glib.h>
#include <math.h>
#include <string.h>

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t sim_rng_name_hash(const char *name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    h ^= *p;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void sim_rng_init(sim_rng *rng, uint64_t seed, const char *name) {
  /* Mix the seed first so seeds 1 and 2 with related names don't collide. */
  uint64_t x = seed;
  uint64_t k = splitmix64(&x) ^ sim_rng_name_hash(name);
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&k);
  if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
    rng->s[0] = 1; /* the all-zero state is the one fixed point */
}

uint64_t sim_rng_u64(sim_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint64_t sim_rng_below(sim_rng *rng, uint64_t n) {
  g_assert(n > 0);
  uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
  for (;;) {
    uint64_t r = sim_rng_u64(rng);
    if (r >= threshold)
      return r % n;
  }
}

int64_t sim_rng_range(sim_rng *rng, int64_t lo, int64_t hi) {
  g_assert(lo <= hi);
  uint64_t span = (uint64_t)hi - (uint64_t)lo;
  uint64_t off = span == UINT64_MAX ? sim_rng_u64(rng) : sim_rng_below(rng, span + 1);
  return (int64_t)((uint64_t)lo + off);
}

double sim_rng_unit(sim_rng *rng) { return (double)(sim_rng_u64(rng) >> 11) * 0x1p-53; }

bool sim_rng_chance(sim_rng *rng, double p) {
  if (p <= 0)
    return false;
  if (p >= 1)
    return true;
  return sim_rng_unit(rng) < p;
}

double sim_rng_exp(sim_rng *rng, double mean) { return -mean * log(1.0 - sim_rng_unit(rng)); }

double sim_rng_normal(sim_rng *rng, double mu, double sigma) {
  double u, v, s;
  do {
    u = 2.0 * sim_rng_unit(rng) - 1.0;
    v = 2.0 * sim_rng_unit(rng) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return mu + sigma * u * sqrt(-2.0 * log(s) / s);
}

double sim_rng_lognormal(sim_rng *rng, double mu, double sigma) {
  return exp(sim_rng_normal(rng, mu, sigma));
}

sim_time sim_rng_exp_time(sim_rng *rng, sim_time mean) {
  double d = sim_rng_exp(rng, (double)mean);
  if (!(d < 9.2e18))
    return SIM_TIME_NEVER;
  return (sim_time)(d + 0.5);
}

void sim_rng_shuffle(sim_rng *rng, void *base, size_t n, size_t size) {
  unsigned char *b = base;
  unsigned char tmp[256];
  g_assert(size <= sizeof tmp);
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)sim_rng_below(rng, i);
    if (j == i - 1)
      continue;
    memcpy(tmp, b + (i - 1) * size, size);
    memcpy(b + (i - 1) * size, b + j * size, size);
    memcpy(b + j * size, tmp, size);
  }
}
