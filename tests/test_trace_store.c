/* trace_store: the bump store's references, the tables' lookups and
 * growth, the hash. */
#include "testutil.h"
#include "trace_store.h"

#include <glib.h>

/* Request sizes (block of 256 octets: a quarter is 64) and what must come
 * back: the size rounded, and whether it got a block of its own. */
static const struct {
  size_t n, rounded;
  bool own;
} alloc_rows[] = {
    {1, 8, false},   {8, 8, false},  {9, 16, false},   {63, 64, false},
    {64, 64, false}, {65, 72, true}, {300, 304, true}, {0, 8, false},
};

START_TEST(alloc_rows_test) {
  trace_store st;
  trace_store_init(&st, 256, "test");
  /* Fill most of a block first, so small requests also cross blocks. */
  uint32_t r0;
  for (int i = 0; i < 3; i++)
    trace_store_alloc(&st, 64, &r0);
  trace_store_alloc(&st, 8, &r0); /* 56 octets left */
  uint32_t ref;
  char *p = trace_store_alloc(&st, alloc_rows[_i].n, &ref);
  ck_assert_msg(trace_store_at(&st, ref) == p, "n=%zu: at(ref) got %p want %p", alloc_rows[_i].n,
                trace_store_at(&st, ref), (void *)p);
  ck_assert_msg(((uintptr_t)p & 7) == 0, "n=%zu: got %p, not 8-aligned", alloc_rows[_i].n,
                (void *)p);
  /* A block of its own is added behind the open one, which stays open. */
  bool own = st.open != st.blocks->len - 1;
  ck_assert_msg(own == alloc_rows[_i].own, "n=%zu: own block got %d want %d", alloc_rows[_i].n, own,
                alloc_rows[_i].own);
  if (own)
    ck_assert_msg((ref & ((1u << TRACE_STORE_SLOT_BITS) - 1)) == 0, "n=%zu: slot got %u want 0",
                  alloc_rows[_i].n, ref & ((1u << TRACE_STORE_SLOT_BITS) - 1));
  else /* the free part starts where this one ends */
    ck_assert_msg(st.p == p + alloc_rows[_i].rounded, "n=%zu: free part got %p want %p",
                  alloc_rows[_i].n, (void *)st.p, (void *)(p + alloc_rows[_i].rounded));
  trace_store_clear(&st);
  trace_store_clear(&st); /* twice is fine */
}
END_TEST

/* Many records of many sizes, then each read back by its reference. */
START_TEST(alloc_many) {
  trace_store st;
  trace_store_init(&st, 1024, "test");
  enum { N = 5000 };
  uint32_t *refs = g_new(uint32_t, N);
  for (uint32_t i = 0; i < N; i++) {
    size_t n = 1 + (i * 37) % 600; /* up to 600: some of their own */
    unsigned char *p = trace_store_alloc(&st, n, &refs[i]);
    memset(p, (int)(i & 0xFF), n);
  }
  for (uint32_t i = 0; i < N; i++) {
    size_t n = 1 + (i * 37) % 600;
    const unsigned char *p = trace_store_at(&st, refs[i]);
    for (size_t k = 0; k < n; k++)
      if (p[k] != (i & 0xFF))
        ck_abort_msg("record %u octet %zu: got %u want %u", i, k, p[k], i & 0xFF);
  }
  g_free(refs);
  trace_store_clear(&st);
}
END_TEST

/* Pairs of inputs that differ in one octet, or only in length: their
 * hashes must differ, and each must equal itself from another copy. */
static const struct {
  const char *a, *b;
  size_t na, nb;
  uint64_t seed_a, seed_b;
} hash_rows[] = {
    {"", "", 0, 0, 0, 1},
    {"a", "b", 1, 1, 0, 0},
    {"abcdefgh", "abcdefgi", 8, 8, 0, 0},
    {"abcdefghX", "abcdefghY", 9, 9, 0, 0},
    {"abcdefgh", "abcdefgh\0", 8, 9, 0, 0},
    {"m1@example.org", "m2@example.org", 14, 14, 0, 0},
    {"q1", "q1", 2, 2, 7, 8},
    {"0123456789abcdef0123", "0123456789abcdef0124", 20, 20, UINT64_MAX, UINT64_MAX},
};

START_TEST(hash_rows_test) {
  uint32_t ha = trace_store_hash(hash_rows[_i].seed_a, hash_rows[_i].a, hash_rows[_i].na);
  uint32_t hb = trace_store_hash(hash_rows[_i].seed_b, hash_rows[_i].b, hash_rows[_i].nb);
  ck_assert_msg(ha != hb, "row %d: got equal hashes %08x", _i, ha);
  char *copy = g_strndup(hash_rows[_i].a, hash_rows[_i].na);
  uint32_t again = trace_store_hash(hash_rows[_i].seed_a, copy, hash_rows[_i].na);
  ck_assert_msg(again == ha, "row %d: got %08x want %08x", _i, again, ha);
  g_free(copy);
}
END_TEST

/* A table of values 1..N whose hash is HASH_OF (a bad one collides). */
typedef struct {
  uint32_t mod;
} tctx;

static uint32_t h_of(const tctx *c, uint32_t v) {
  return c->mod ? (v % c->mod) * 2654435761u : trace_store_hash(0, (char *)&v, sizeof v);
}

static uint32_t rehash(void *ctx, uint32_t v) { return h_of(ctx, v); }

/* V's slot, or the free one where it would go (the documented probe). */
static uint32_t *find(const trace_store_tab *tb, const tctx *c, uint32_t v) {
  for (uint32_t i = h_of(c, v);; i++) {
    uint32_t *sl = trace_store_tab_slot(tb, i);
    if (!*sl || *sl == v)
      return sl;
  }
}

static const struct {
  uint32_t n, mod, want_cap;
} tab_rows[] = {
    {0, 0, 64}, {48, 0, 64}, {49, 0, 128}, {1000, 0, 2048}, {3000, 7, 4096}, {500, 1, 1024},
};

START_TEST(tab_rows_test) {
  tctx c = {tab_rows[_i].mod};
  trace_store_tab tb;
  trace_store_tab_init(&tb);
  for (uint32_t v = 1; v <= tab_rows[_i].n; v++) {
    uint32_t *sl = find(&tb, &c, v);
    ck_assert_msg(*sl == 0, "insert %u: got slot holding %u want free", v, *sl);
    *sl = v;
    trace_store_tab_added(&tb, rehash, &c, "test");
  }
  ck_assert_msg(tb.n == tab_rows[_i].n, "n: got %u want %u", tb.n, tab_rows[_i].n);
  ck_assert_msg(tb.cap == tab_rows[_i].want_cap, "cap: got %u want %u", tb.cap,
                tab_rows[_i].want_cap);
  for (uint32_t v = 1; v <= tab_rows[_i].n + 5; v++) {
    uint32_t *sl = find(&tb, &c, v);
    uint32_t want = v <= tab_rows[_i].n ? v : 0;
    ck_assert_msg(*sl == want, "find %u: got %u want %u", v, *sl, want);
  }
  trace_store_tab_clear(&tb);
  ck_assert_ptr_null(tb.slots);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_store");
  TCase *tc = tcase_create("store");
  tcase_add_loop_test(tc, alloc_rows_test, 0, G_N_ELEMENTS(alloc_rows));
  tcase_add_test(tc, alloc_many);
  suite_add_tcase(s, tc);
  tc = tcase_create("hash");
  tcase_add_loop_test(tc, hash_rows_test, 0, G_N_ELEMENTS(hash_rows));
  suite_add_tcase(s, tc);
  tc = tcase_create("tab");
  tcase_add_loop_test(tc, tab_rows_test, 0, G_N_ELEMENTS(tab_rows));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
