/* octet_hash.h — a hash of a run of octets for GHashTable keys, eight
 * octets a step: each 64-bit word (read with memcpy, any alignment) mixed
 * in by a multiply with the golden-ratio constant, the last word
 * overlapping the one before so that nothing past the run is read; under
 * eight octets two overlapping halves, under four three octets. Cheaper
 * than g_str_hash's octet loop on the 10-60-octet keys of the hot lookups
 * (addresses, DNS names).
 *
 * octet_hash(seed, p, n): the caller's seed carries whatever else the key
 * holds (its length, a type). Equal (seed, octets) hash equal; the value is
 * the same on every run and build (no per-process salt), but it is only a
 * hash: nothing may depend on the order a table iterates in. */
#ifndef MAILSIM_OCTET_HASH_H
#define MAILSIM_OCTET_HASH_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OCTET_HASH_K UINT64_C(0x9e3779b97f4a7c15)

static inline guint octet_hash(uint64_t h, const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t w;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&w, s + i, 8);
      h = (h ^ w) * OCTET_HASH_K;
      h ^= h >> 29;
    }
    memcpy(&w, s + n - 8, 8);
  } else if (n >= 4) {
    uint32_t lo, hi;
    memcpy(&lo, s, 4);
    memcpy(&hi, s + n - 4, 4);
    w = (uint64_t)hi << 32 | lo;
  } else {
    w = n ? (uint64_t)s[0] << 16 | (uint64_t)s[n >> 1] << 8 | s[n - 1] : 0;
  }
  h = (h ^ w) * OCTET_HASH_K;
  return (guint)(h ^ h >> 32);
}

#endif
