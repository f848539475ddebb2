/* Tests for dns_idvec: records kept in id order and binary searched;
 * every count from 0 to 200, removals from the front, the back, the middle
 * and every other one checked against a plain list; the block halving as
 * it empties; an id not above the last aborts. */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "dns_idvec.h"
#include "testutil.h"

typedef struct {
  int tag;
  uint64_t id;
} rec;

/* X holds exactly the records of WANT (in order), each found by its id,
 * and ids between and around them are not found. */
static void check_same(const dns_idvec *x, rec *const *want, guint n) {
  ck_assert_uint_eq(x->n, n);
  for (guint i = 0; i < n; i++) {
    ck_assert_ptr_eq(x->v[i], want[i]);
    ck_assert_int_eq(dns_idvec_find(x, want[i]->id), (gssize)i);
    ck_assert_int_eq(dns_idvec_find(x, want[i]->id + 1), -1); /* ids are even */
  }
  ck_assert_int_eq(dns_idvec_find(x, 0), -1);
  ck_assert_int_eq(dns_idvec_find(x, UINT64_MAX), -1);
}

typedef enum { FRONT, BACK, MIDDLE, EVERY_OTHER, NWAYS } way;

START_TEST(add_find_remove) {
  for (guint n = 0; n <= 200; n += n < 20 ? 1 : 30)
    for (way w = 0; w < NWAYS; w++) {
      dns_idvec x;
      dns_idvec_init(&x, offsetof(rec, id));
      rec *recs = g_new0(rec, n + 1);
      rec **want = g_new0(rec *, n + 1);
      for (guint i = 0; i < n; i++) {
        recs[i].tag = (int)i;
        recs[i].id = 2 * (uint64_t)i + 2; /* 2, 4, ...: odd ids are absent */
        dns_idvec_add(&x, &recs[i]);
        want[i] = &recs[i];
      }
      guint m = n, cap_max = x.cap;
      check_same(&x, want, m);
      while (m > 0) {
        guint at = w == FRONT ? 0 : w == BACK ? m - 1 : w == MIDDLE ? m / 2 : (m % 2 ? m - 1 : 0);
        gssize got = dns_idvec_find(&x, want[at]->id);
        ck_assert_int_eq(got, (gssize)at);
        dns_idvec_remove_at(&x, at);
        memmove(want + at, want + at + 1, (m - at - 1) * sizeof *want);
        m--;
        check_same(&x, want, m);
        ck_assert_uint_le(x.cap, cap_max);
        ck_assert(x.cap <= 16 || x.n > x.cap / 4); /* a quarter full: halved */
      }
      dns_idvec_clear(&x);
      ck_assert_uint_eq(x.n + x.cap, 0);
      ck_assert_ptr_null(x.v);
      g_free(recs);
      g_free(want);
    }
}
END_TEST

/* The search over an array held elsewhere gives the same answers. */
START_TEST(search_plain_array) {
  rec r[5] = {{0, 3}, {1, 8}, {2, 9}, {3, 40}, {4, 41}};
  void *v[5] = {&r[0], &r[1], &r[2], &r[3], &r[4]};
  const struct {
    uint64_t id;
    gssize want;
  } rows[] = {{3, 0}, {8, 1}, {9, 2}, {40, 3}, {41, 4}, {0, -1}, {4, -1}, {10, -1}, {42, -1}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    gssize got = dns_idvec_search(v, 5, offsetof(rec, id), rows[i].id);
    ck_assert_msg(got == rows[i].want, "id %" G_GUINT64_FORMAT ": got %zd want %zd", rows[i].id,
                  got, rows[i].want);
  }
  ck_assert_int_eq(dns_idvec_search(v, 0, offsetof(rec, id), 3), -1);
}
END_TEST

START_TEST(add_out_of_order_aborts) {
  dns_idvec x;
  dns_idvec_init(&x, offsetof(rec, id));
  rec a = {0, 5}, b = {1, 5};
  dns_idvec_add(&x, &a);
  dns_idvec_add(&x, &b); /* not above the last: a bug */
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_idvec");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, add_find_remove);
  tcase_add_test(tc, search_plain_array);
  tcase_add_test_raise_signal(tc, add_out_of_order_aborts, SIGABRT);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
