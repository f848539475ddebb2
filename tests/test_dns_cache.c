/* Tests for dns_cache: TTL countdown and expiry in simulated time,
 * credibility ranks, negative entries (NXDOMAIN for the name, NODATA for
 * the type, with their SOA), capacity eviction order, case folding. */
#include <glib.h>
#include <string.h>

#include "dns_cache.h"
#include "dns_cache_int.h"
#include "testutil.h"

#define S INT64_C(1000000000)

static dns_rr rr_lit(const char *text) {
  dns_rr rr;
  ck_assert_msg(dns_rr_from_text(&rr, text) == DNS_OK, "%s", text);
  return rr;
}

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

static GArray *rr_array(void) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(dns_rr));
  g_array_set_clear_func(a, rr_clear_cb);
  return a;
}

static dns_cache *cache_new(size_t max) {
  dns_cache_config cfg;
  dns_cache_config_defaults(&cfg);
  cfg.max_entries = max;
  return dns_cache_new(&cfg);
}

START_TEST(ttl_counts_down) {
  dns_cache *c = cache_new(100);
  dns_rr rrs[2] = {rr_lit("Mail.Example.org. 300 IN A 192.0.2.1"),
                   rr_lit("mail.example.org. 200 IN A 192.0.2.2")};
  ck_assert(dns_cache_put(c, rrs, 2, DNS_CACHE_RANK_AUTH_ANSWER, 5 * S));
  dns_name n = dns_name_lit("MAIL.example.ORG");
  static const struct {
    int64_t at;
    dns_cache_kind want;
    uint32_t ttl;
  } rows[] = {
      {5 * S, DNS_CACHE_RRSET, 200},   {5 * S + S / 2, DNS_CACHE_RRSET, 199},
      {105 * S, DNS_CACHE_RRSET, 100}, {205 * S - 1, DNS_CACHE_RRSET, 0},
      {205 * S, DNS_CACHE_MISS, 0},    {400 * S, DNS_CACHE_MISS, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GArray *out = rr_array();
    dns_cache_kind k = dns_cache_get(c, &n, DNS_T_A, DNS_C_IN, rows[i].at, out, NULL);
    ck_assert_msg(k == rows[i].want, "row %zu: got %s want %s", i, dns_cache_kind_name(k),
                  dns_cache_kind_name(rows[i].want));
    if (k == DNS_CACHE_RRSET) {
      ck_assert_uint_eq(out->len, 2);
      ck_assert_msg(g_array_index(out, dns_rr, 0).ttl == rows[i].ttl, "row %zu: got ttl %u want %u",
                    i, g_array_index(out, dns_rr, 0).ttl, rows[i].ttl);
    }
    g_array_free(out, TRUE);
  }
  ck_assert_uint_eq(dns_cache_count(c), 0);
  dns_rr_clear(&rrs[0]);
  dns_rr_clear(&rrs[1]);
  dns_cache_free(c);
}
END_TEST

START_TEST(ranks) {
  dns_cache *c = cache_new(100);
  dns_rr auth = rr_lit("ns1.example.org. 3600 IN A 192.0.2.1");
  dns_rr glue = rr_lit("ns1.example.org. 86400 IN A 198.51.100.66");
  dns_rr zero = rr_lit("ns1.example.org. 0 IN A 198.51.100.67");
  ck_assert(dns_cache_put(c, &auth, 1, DNS_CACHE_RANK_AUTH_ANSWER, 0));
  ck_assert_msg(!dns_cache_put(c, &glue, 1, DNS_CACHE_RANK_GLUE, S), "glue replaced an answer");
  ck_assert(!dns_cache_put(c, &zero, 1, DNS_CACHE_RANK_AUTH_ANSWER, S));
  GArray *out = rr_array();
  dns_cache_rank rank;
  ck_assert(dns_cache_get(c, &auth.owner, DNS_T_A, DNS_C_IN, 2 * S, out, &rank) == DNS_CACHE_RRSET);
  ck_assert_uint_eq(g_array_index(out, dns_rr, 0).rd.a[0], 192);
  ck_assert_str_eq(dns_cache_rank_name(rank), "auth_answer");
  g_array_set_size(out, 0);
  /* Once the answer expires, glue may take its place. */
  ck_assert(dns_cache_put(c, &glue, 1, DNS_CACHE_RANK_GLUE, 3600 * S));
  ck_assert(dns_cache_get(c, &auth.owner, DNS_T_A, DNS_C_IN, 3600 * S, out, NULL) ==
            DNS_CACHE_RRSET);
  ck_assert_uint_eq(g_array_index(out, dns_rr, 0).rd.a[0], 198);
  g_array_free(out, TRUE);
  dns_rr_clear(&auth);
  dns_rr_clear(&glue);
  dns_rr_clear(&zero);
  dns_cache_free(c);
}
END_TEST

START_TEST(negative) {
  dns_cache *c = cache_new(100);
  dns_rr soa = rr_lit("example.org. 300 IN SOA ns1.example.org. h.example.org. 1 2 3 4 300");
  dns_name nx = dns_name_lit("nope.example.org"), nd = dns_name_lit("mail.example.org");
  ck_assert(dns_cache_put_negative(c, &nx, DNS_T_A, DNS_C_IN, true, &soa, 300,
                                   DNS_CACHE_RANK_AUTH_ANSWER, 0));
  ck_assert(dns_cache_put_negative(c, &nd, DNS_T_MX, DNS_C_IN, false, NULL, 60,
                                   DNS_CACHE_RANK_AUTH_ANSWER, 0));
  ck_assert(!dns_cache_put_negative(c, &nd, DNS_T_TXT, DNS_C_IN, false, NULL, 0,
                                    DNS_CACHE_RANK_AUTH_ANSWER, 0));
  static const struct {
    const char *name;
    uint16_t type;
    int64_t at;
    dns_cache_kind want;
    guint soa;
  } rows[] = {
      {"nope.example.org", DNS_T_A, 10 * S, DNS_CACHE_NXDOMAIN, 1},
      {"NOPE.example.org", DNS_T_MX, 10 * S, DNS_CACHE_NXDOMAIN, 1}, /* every type */
      {"mail.example.org", DNS_T_MX, 59 * S, DNS_CACHE_NODATA, 0},
      {"mail.example.org", DNS_T_A, 10 * S, DNS_CACHE_MISS, 0}, /* that type only */
      {"mail.example.org", DNS_T_MX, 60 * S, DNS_CACHE_MISS, 0},
      {"nope.example.org", DNS_T_A, 300 * S, DNS_CACHE_MISS, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_name n = dns_name_lit(rows[i].name);
    GArray *out = rr_array();
    dns_cache_kind k = dns_cache_get(c, &n, rows[i].type, DNS_C_IN, rows[i].at, out, NULL);
    ck_assert_msg(k == rows[i].want, "row %zu: got %s want %s", i, dns_cache_kind_name(k),
                  dns_cache_kind_name(rows[i].want));
    ck_assert_msg(out->len == rows[i].soa, "row %zu: got %u SOA want %u", i, out->len, rows[i].soa);
    if (out->len)
      ck_assert_uint_eq(g_array_index(out, dns_rr, 0).ttl, 290);
    g_array_free(out, TRUE);
  }
  /* Positive data for a denied name lifts the denial. */
  ck_assert(dns_cache_put_negative(c, &nx, DNS_T_A, DNS_C_IN, true, NULL, 300,
                                   DNS_CACHE_RANK_AUTH_ANSWER, 400 * S));
  dns_rr a = rr_lit("nope.example.org. 60 IN TXT \"now here\"");
  ck_assert(dns_cache_put(c, &a, 1, DNS_CACHE_RANK_AUTH_ANSWER, 401 * S));
  ck_assert(dns_cache_get(c, &nx, DNS_T_A, DNS_C_IN, 402 * S, NULL, NULL) == DNS_CACHE_MISS);
  dns_rr_clear(&a);
  dns_rr_clear(&soa);
  dns_cache_free(c);
}
END_TEST

START_TEST(eviction_order) {
  dns_cache *c = cache_new(3);
  const char *recs[] = {"a.test. 500 IN A 192.0.2.1", "b.test. 100 IN A 192.0.2.2",
                        "c.test. 100 IN A 192.0.2.3", "d.test. 900 IN A 192.0.2.4"};
  for (size_t i = 0; i < G_N_ELEMENTS(recs); i++) {
    dns_rr rr = rr_lit(recs[i]);
    ck_assert(dns_cache_put(c, &rr, 1, DNS_CACHE_RANK_ANSWER, 0));
    dns_rr_clear(&rr);
  }
  /* b and c expire first; b was stored first, so b goes. */
  static const struct {
    const char *name;
    bool present;
  } rows[] = {{"a.test", true}, {"b.test", false}, {"c.test", true}, {"d.test", true}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_name n = dns_name_lit(rows[i].name);
    bool got = dns_cache_get(c, &n, DNS_T_A, DNS_C_IN, 1, NULL, NULL) == DNS_CACHE_RRSET;
    ck_assert_msg(got == rows[i].present, "%s: got %d want %d", rows[i].name, got, rows[i].present);
  }
  ck_assert_uint_eq(dns_cache_evictions(c), 1);
  ck_assert_uint_eq(dns_cache_expire(c, 100 * S), 1); /* c */
  ck_assert_uint_eq(dns_cache_count(c), 2);
  dns_cache_free(c);
  dns_cache_free(NULL);
}
END_TEST

/* Every record type comes back as stored (the cache packs records at
 * their real length and rebuilds them), duplicates dropped, TTL counted
 * down; the owner's case as stored. */
START_TEST(records_round_trip) {
  static const char *const rows[] = {
      "Host.Example.org. 300 IN A 192.0.2.7",
      "host.example.org. 300 IN AAAA 2001:db8::7",
      "example.org. 300 IN NS ns1.example.org.",
      "www.example.org. 300 IN CNAME host.example.org.",
      "7.2.0.192.in-addr.arpa. 300 IN PTR host.example.org.",
      "example.org. 300 IN MX 10 mx1.example.org.",
      ("example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 900 "
       "1209600 300"),
      "_imaps._tcp.example.org. 300 IN SRV 0 1 993 imap.example.org.",
      "example.org. 300 IN TXT \"v=spf1 mx -all\" \"second string\"",
      /* RDATA names under the entry's name are packed as their prefix, */
      "d03.test. 300 IN MX 10 mx.d03.test.",
      "alias.example.org. 300 IN CNAME alias.example.org.",
      "example.org. 300 IN SOA ns1.example.org. hostmaster.example.net. 1 2 3 4 5",
      ". 300 IN NS a.root-servers.net.",
      ". 300 IN NS .",
      "_imaps._tcp.example.org. 300 IN SRV 0 1 993 a._imaps._tcp.example.org.",
      /* ... only when spelt exactly as the (lower-case) key, */
      "Example.org. 300 IN MX 10 MX1.Example.ORG.",
      "example.org. 300 IN NS ns1.EXAMPLE.org.",
      /* ... and at a label boundary ("xexample.org." is not under it). */
      "example.org. 300 IN MX 10 xexample.org.",
      "example.org. 300 IN CNAME org.",
      "example.org. 300 IN TYPE65280 \\# 3 abcdef",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_cache *c = cache_new(10);
    dns_rr in[2] = {rr_lit(rows[i]), rr_lit(rows[i])}; /* the same record twice */
    ck_assert(dns_cache_put(c, in, 2, DNS_CACHE_RANK_ANSWER, 0));
    GArray *out = rr_array();
    ck_assert_int_eq(dns_cache_get(c, &in[0].owner, in[0].type, DNS_C_IN, 100 * S, out, NULL),
                     DNS_CACHE_RRSET);
    ck_assert_msg(out->len == 1, "%s: got %u records, want 1", rows[i], out->len);
    dns_rr *got = &g_array_index(out, dns_rr, 0);
    ck_assert_msg(dns_rr_same_data(got, &in[0]), "%s: got other data back", rows[i]);
    ck_assert_uint_eq(got->ttl, 200);
    ck_assert_uint_eq(got->rawlen, in[0].rawlen);
    ck_assert(got->rawlen == 0 || memcmp(got->raw, in[0].raw, got->rawlen) == 0);
    ck_assert(got->owner.len == in[0].owner.len &&
              memcmp(got->owner.wire, in[0].owner.wire, got->owner.len) == 0);
    /* Every name spelt as it came (dns_rr_same_data folds case). */
    GString *gt = g_string_new(NULL), *wt = g_string_new(NULL);
    dns_rr_append_rdata_text(got, gt);
    dns_rr_append_rdata_text(&in[0], wt);
    ck_assert_msg(strcmp(gt->str, wt->str) == 0, "%s: got rdata %s want %s", rows[i], gt->str,
                  wt->str);
    g_string_free(gt, TRUE);
    g_string_free(wt, TRUE);
    g_array_unref(out);
    dns_rr_clear(&in[0]);
    dns_rr_clear(&in[1]);
    dns_cache_free(c);
  }
}
END_TEST

/* Many entries with colliding expiry times, replacements, lookups that
 * drop expired entries and capacity evictions, against a model that keeps
 * (name, expiry, store order) and evicts the smallest (expiry, order):
 * after every step the cache holds exactly the model's entries. */
START_TEST(model_order) {
  enum { NAMES = 40, MAX = 16, STEPS = 3000 };
  dns_cache *c = cache_new(MAX);
  /* run 1: the 32-bit store order wraps after ~1,500 stores (the entries
   * are renumbered in their order: the same evictions as the model's) */
  if (_i == 1)
    dns_cache__set_seq(c, UINT32_MAX - 1500);
  int64_t expiry[NAMES]; /* 0: absent */
  uint64_t order[NAMES], seq = 0;
  memset(expiry, 0, sizeof expiry);
  uint32_t x = 12345, evictions = 0, tied = 0;
  for (int step = 0; step < STEPS; step++) {
    int64_t now = (int64_t)step * S / 2;
    x = x * 1103515245u + 12345u;
    int name = (int)((x >> 8) % NAMES);
    uint32_t ttl = 1 + (x >> 20) % 24; /* whole seconds, half-second steps: many ties */
    char text[64];
    g_snprintf(text, sizeof text, "h%d.example. %u IN A 192.0.2.%d", name, ttl, name);
    dns_rr rr = rr_lit(text);
    if ((x >> 4) % 3 == 0) { /* a lookup drops the name's entry if it expired */
      GArray *out = rr_array();
      dns_cache_kind k = dns_cache_get(c, &rr.owner, DNS_T_A, DNS_C_IN, now, out, NULL);
      bool live = expiry[name] && expiry[name] > now;
      ck_assert_msg((k == DNS_CACHE_RRSET) == live, "step %d h%d: got %s want %s", step, name,
                    dns_cache_kind_name(k), live ? "rrset" : "miss");
      if (!live)
        expiry[name] = 0;
      g_array_free(out, TRUE);
    } else {
      ck_assert(dns_cache_put(c, &rr, 1, DNS_CACHE_RANK_ANSWER, now));
      expiry[name] = 0;               /* replaced */
      for (int i = 0; i < NAMES; i++) /* expired ones go first */
        if (expiry[i] && expiry[i] <= now)
          expiry[i] = 0;
      for (;;) {
        int n = 0, victim = -1;
        for (int i = 0; i < NAMES; i++)
          if (expiry[i]) {
            n++;
            if (victim >= 0 && expiry[i] == expiry[victim])
              tied++;
            if (victim < 0 || expiry[i] < expiry[victim] ||
                (expiry[i] == expiry[victim] && order[i] < order[victim]))
              victim = i;
          }
        if (n < MAX)
          break;
        expiry[victim] = 0;
        evictions++;
      }
      expiry[name] = now + (int64_t)ttl * S;
      order[name] = seq++;
    }
    dns_rr_clear(&rr);
    for (int i = 0; i < NAMES; i++) { /* the same entries (a peek at NOW drops nothing live) */
      char nm[32];
      g_snprintf(nm, sizeof nm, "h%d.example.", i);
      dns_name n = dns_name_lit(nm);
      bool want = expiry[i] && expiry[i] > now;
      dns_cache_kind k = dns_cache_get(c, &n, DNS_T_A, DNS_C_IN, now, NULL, NULL);
      ck_assert_msg((k == DNS_CACHE_RRSET) == want, "step %d h%d: got %s want %s", step, i,
                    dns_cache_kind_name(k), want ? "rrset" : "miss");
      if (!want)
        expiry[i] = 0; /* the peek dropped it if it had expired */
    }
  }
  ck_assert_uint_eq(dns_cache_evictions(c), evictions);
  ck_assert_msg(evictions > 100 && tied > 100, "evictions %u, ties %u: the model is exercised",
                evictions, tied);
  dns_cache_free(c);
}
END_TEST

/* NXDOMAIN, NODATA and positive entries for a few names with random TTLs,
 * lookups that drop what expired and capacity evictions, against a model
 * keeping each key's (kind, expiry, store order): every lookup answers as
 * the model does (a denied name stays denied for every type until its
 * entry expires, is evicted or positive data lifts it), and the count of
 * NXDOMAIN entries that lets lookups skip their key is the model's. */
START_TEST(model_negative) {
  enum { NAMES = 12, MAX = 8, STEPS = 4000, NX = 0, TA = 1, TMX = 2, KEYS = 3 };
  static const uint16_t types[KEYS] = {0, DNS_T_A, DNS_T_MX};
  dns_cache *c = cache_new(MAX);
  int64_t expiry[NAMES][KEYS]; /* 0: absent */
  dns_cache_kind kind[NAMES][KEYS];
  uint64_t order[NAMES][KEYS], seq = 0;
  memset(expiry, 0, sizeof expiry);
  uint32_t x = 777;
  unsigned seen[DNS_CACHE_KIND_COUNT] = {0}, evictions = 0;
  for (int step = 0; step < STEPS; step++) {
    int64_t now = (int64_t)step * S / 2;
    x = x * 1103515245u + 12345u;
    int name = (int)((x >> 8) % NAMES), op = (int)((x >> 16) % 8);
    uint32_t ttl = 1 + (x >> 20) % 24;
    int key = op % 2 ? TA : TMX;
    char nm[32];
    g_snprintf(nm, sizeof nm, "N%d.Example.", name);
    dns_name n = dns_name_lit(nm);
    if (op < 3) { /* lookups; a live key of the type first, then the denial */
      dns_cache_kind k = dns_cache_get(c, &n, types[key], DNS_C_IN, now, NULL, NULL);
      dns_cache_kind want = DNS_CACHE_MISS;
      if (expiry[name][key] && expiry[name][key] <= now)
        expiry[name][key] = 0;
      if (expiry[name][key]) {
        want = kind[name][key];
      } else {
        if (expiry[name][NX] && expiry[name][NX] <= now)
          expiry[name][NX] = 0;
        if (expiry[name][NX])
          want = DNS_CACHE_NXDOMAIN;
      }
      ck_assert_msg(k == want, "step %d N%d type %u: got %s want %s", step, name, types[key],
                    dns_cache_kind_name(k), dns_cache_kind_name(want));
      seen[k]++;
    } else {
      int store = op == 3 ? NX : key;
      bool ok;
      if (op == 3 || op == 4) {
        ok = dns_cache_put_negative(c, &n, types[key], DNS_C_IN, op == 3, NULL, ttl,
                                    DNS_CACHE_RANK_ANSWER, now);
      } else {
        char text[96];
        g_snprintf(text, sizeof text,
                   key == TA ? "%s %u IN A 192.0.2.%d" : "%s %u IN MX %d mx.test.", nm, ttl, name);
        dns_rr rr = rr_lit(text);
        ok = dns_cache_put(c, &rr, 1, DNS_CACHE_RANK_ANSWER, now);
        dns_rr_clear(&rr);
        expiry[name][NX] = 0; /* positive data lifts a denial */
      }
      ck_assert(ok);
      expiry[name][store] = 0; /* replaced */
      for (int i = 0; i < NAMES; i++)
        for (int j = 0; j < KEYS; j++)
          if (expiry[i][j] && expiry[i][j] <= now)
            expiry[i][j] = 0; /* expired ones go first */
      for (;;) {
        int cnt = 0, vi = -1, vj = -1;
        for (int i = 0; i < NAMES; i++)
          for (int j = 0; j < KEYS; j++)
            if (expiry[i][j]) {
              cnt++;
              if (vi < 0 || expiry[i][j] < expiry[vi][vj] ||
                  (expiry[i][j] == expiry[vi][vj] && order[i][j] < order[vi][vj]))
                vi = i, vj = j;
            }
        if (cnt < MAX)
          break;
        expiry[vi][vj] = 0;
        evictions++;
      }
      expiry[name][store] = now + (int64_t)ttl * S;
      order[name][store] = seq++;
      kind[name][store] = op == 3   ? DNS_CACHE_NXDOMAIN
                          : op == 4 ? DNS_CACHE_NODATA
                                    : DNS_CACHE_RRSET;
    }
    size_t nx = 0;
    for (int i = 0; i < NAMES; i++)
      nx += expiry[i][NX] != 0;
    ck_assert_msg(dns_cache__nx(c) == nx, "step %d: got %zu NXDOMAIN entries want %zu", step,
                  dns_cache__nx(c), nx);
  }
  ck_assert_uint_eq(dns_cache_evictions(c), evictions);
  ck_assert_msg(seen[DNS_CACHE_NXDOMAIN] > 100 && seen[DNS_CACHE_NODATA] > 100 &&
                    seen[DNS_CACHE_RRSET] > 100 && seen[DNS_CACHE_MISS] > 100 && evictions > 100,
                "the model is exercised: nx %u nodata %u rrset %u miss %u evictions %u",
                seen[DNS_CACHE_NXDOMAIN], seen[DNS_CACHE_NODATA], seen[DNS_CACHE_RRSET],
                seen[DNS_CACHE_MISS], evictions);
  dns_cache_free(c);
}
END_TEST

/* RRsets of 1 to 300 records (a record count is kept from two on; packing
 * goes past its stack buffer from ~30 TXT records on): every record comes
 * back, in order, with its data. */
static const unsigned rrset_counts[] = {1, 2, 3, 17, 40, 300};

START_TEST(rrset_sizes) {
  unsigned n = rrset_counts[_i];
  dns_rr *in = g_new(dns_rr, n);
  for (unsigned i = 0; i < n; i++) {
    char text[128];
    g_snprintf(text, sizeof text, "big.example. 60 IN TXT \"record number %u of the set\"", i);
    in[i] = rr_lit(text);
  }
  dns_cache *c = cache_new(4);
  ck_assert(dns_cache_put(c, in, n, DNS_CACHE_RANK_ANSWER, 0));
  GArray *out = rr_array();
  dns_cache_rank rank = DNS_CACHE_RANK_GLUE;
  ck_assert_int_eq(dns_cache_get(c, &in[0].owner, DNS_T_TXT, DNS_C_IN, 10 * S, out, &rank),
                   DNS_CACHE_RRSET);
  ck_assert_int_eq(rank, DNS_CACHE_RANK_ANSWER);
  ck_assert_msg(out->len == n, "got %u records, want %u", out->len, n);
  for (unsigned i = 0; i < n; i++) {
    dns_rr *got = &g_array_index(out, dns_rr, i);
    ck_assert_msg(dns_rr_same_data(got, &in[i]), "record %u of %u: other data", i, n);
    ck_assert_uint_eq(got->ttl, 50);
  }
  g_array_unref(out);
  for (unsigned i = 0; i < n; i++)
    dns_rr_clear(&in[i]);
  g_free(in);
  dns_cache_free(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_cache");
  TCase *tc = tcase_create("cache");
  tcase_add_test(tc, ttl_counts_down);
  tcase_add_test(tc, ranks);
  tcase_add_test(tc, negative);
  tcase_add_test(tc, eviction_order);
  tcase_add_test(tc, records_round_trip);
  tcase_add_loop_test(tc, model_order, 0, 2);
  tcase_add_test(tc, model_negative);
  tcase_add_loop_test(tc, rrset_sizes, 0, G_N_ELEMENTS(rrset_counts));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
