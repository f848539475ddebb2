/* Tests for protocols/common/octet_hash.h: the hash reads exactly the N
 * octets given (none past them, whatever follows, at any alignment), every
 * octet counts (a change at any position of a key of 0-64 octets changes
 * the hash), and the seed counts. */
#include <glib.h>
#include <string.h>

#include "octet_hash.h"
#include "testutil.h"

/* A key of N octets made from I: varied, no two positions alike. */
static void fill(unsigned char *k, size_t n, unsigned i) {
  for (size_t j = 0; j < n; j++)
    k[j] = (unsigned char)(j * 37u + i * 11u + n + 1u);
}

START_TEST(test_reads_only_the_run) {
  for (size_t n = 0; n <= 64; n++) {
    unsigned char key[64];
    fill(key, n, 1);
    /* exactly N octets on the heap: under ASan a read past them fails */
    unsigned char *exact = g_malloc(n ? n : 1);
    memcpy(exact, key, n);
    guint want = octet_hash(n, exact, n);
    /* the same octets at every alignment, followed by other octets */
    unsigned char buf[96];
    for (size_t off = 0; off < 8; off++) {
      memset(buf, (int)(0xa5 ^ off), sizeof buf);
      memcpy(buf + off, key, n);
      ck_assert_msg(octet_hash(n, buf + off, n) == want, "n %zu offset %zu: got %u want %u", n, off,
                    octet_hash(n, buf + off, n), want);
    }
    g_free(exact);
  }
}
END_TEST

START_TEST(test_every_octet_counts) {
  unsigned fails = 0;
  for (size_t n = 1; n <= 64; n++) {
    unsigned char key[64];
    fill(key, n, 2);
    guint base = octet_hash(7, key, n);
    for (size_t j = 0; j < n; j++)
      for (unsigned bit = 0; bit < 8; bit++) {
        key[j] ^= (unsigned char)(1u << bit);
        if (octet_hash(7, key, n) == base)
          fails++;
        key[j] ^= (unsigned char)(1u << bit);
      }
  }
  ck_assert_msg(fails == 0, "got %u single-bit changes with the same hash, want 0", fails);
}
END_TEST

START_TEST(test_seed_and_length_count) {
  const char *s = "postmaster@example.org";
  size_t n = strlen(s);
  ck_assert_uint_ne(octet_hash(1, s, n), octet_hash(2, s, n));
  ck_assert_uint_ne(octet_hash(0, s, n), octet_hash(0, s, n - 1));
  ck_assert_uint_eq(octet_hash(0, s, 0), octet_hash(0, "", 0));
}
END_TEST

/* 20,000 distinct address-like keys in 2^16 buckets: a hash that mixes
 * well leaves no bucket with more than a handful (a poor one, e.g. the sum
 * of the octets, piles hundreds into a few). */
START_TEST(test_spreads_keys) {
  enum { KEYS = 20000, BUCKETS = 1 << 16 };
  guint8 *count = g_malloc0(BUCKETS);
  unsigned worst = 0;
  for (unsigned i = 0; i < KEYS; i++) {
    char k[48];
    int n = g_snprintf(k, sizeof k, "user%u@d%u.example", i % 1000, i / 1000);
    guint h = octet_hash((uint64_t)n * OCTET_HASH_K, k, (size_t)n) & (BUCKETS - 1);
    if (++count[h] > worst)
      worst = count[h];
  }
  g_free(count);
  ck_assert_msg(worst <= 8, "got a bucket of %u keys, want <= 8", worst);
}
END_TEST

int main(void) {
  Suite *s = suite_create("octet_hash");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_reads_only_the_run);
  tcase_add_test(tc, test_every_octet_counts);
  tcase_add_test(tc, test_seed_and_length_count);
  tcase_add_test(tc, test_spreads_keys);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
