/* Tests for dns_res, the resolver engine, driven by the in-memory network
 * of authoritative servers in dns_res_harness.h. Cases: the walk root -> TLD ->
 * domain, cache hits, TTL expiry, negative caching, TCP fallback, server
 * failover and SERVFAIL bounds, CNAME chains and loops, glueless NS,
 * spoofed replies, network errors, stub mode against a recursive engine,
 * determinism of the action stream, and a mutation fuzz loop. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "dns_res.h"
#include "dns_res_harness.h"
#include "dns_res_int.h"
#include "testutil.h"

static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

/* ---- recursive resolution ---------------------------------------------- */

START_TEST(walk_then_cache_then_expiry) {
  harness *h = h_new(DNS_RES_RECURSIVE, 1, NULL);
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.3.0.1 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert(!ev->from_cache);
  ck_assert_int_eq(ev->elapsed, 6 * MS);
  assert_rrs(ev->rrs, "example.org. 3600 IN MX 10 mail.example.org.");
  ck_assert_uint_eq(ev->cnames->len, 0);
  /* The task went start -> query (root) -> query (org) -> query -> done. */
  ck_assert_uint_eq(count_trace(h, "st lookup 1 depth 0 example.org. MX: start -> query"), 1);
  ck_assert_uint_eq(count_trace(h, "st lookup 1 depth 0 example.org. MX: query -> query"), 2);
  ck_assert_uint_eq(count_trace(h, "st lookup 1 depth 0 example.org. MX: query -> done"), 1);

  /* 100 s later: from the cache, no packet, TTL counted down. */
  h->now += 100 * S;
  ev = h_resolve(h, "EXAMPLE.org", DNS_T_MX);
  NO_SENDS(h);
  ck_assert(ev->from_cache);
  ck_assert_int_eq(ev->elapsed, 0);
  assert_rrs(ev->rrs, "example.org. 3500 IN MX 10 mail.example.org.");
  ck_assert_uint_eq(count_trace(h, "ev cache_hit"), 1);

  /* Another name of the zone: the delegation is cached, straight to it. */
  ev = h_resolve(h, "mail.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.1 mail.example.org. A");
  assert_rrs(ev->rrs, "mail.example.org. 3600 IN A 10.3.0.25");

  /* After the MX TTL: asked again, of the cached delegation only. */
  h->now += 3500 * S;
  ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.3.0.1 example.org. MX");
  ck_assert(!ev->from_cache);
  assert_rrs(ev->rrs, "example.org. 3600 IN MX 10 mail.example.org.");

  /* A sibling under the same TLD skips the root; the glueless NS name is
   * resolved first, from the root since com. is not cached. */
  ev = h_resolve(h, "glueless.org", DNS_T_MX);
  SENDS(h, "udp 10.1.0.1 glueless.org. MX", "udp 10.0.0.1 ns.example.com. A",
        "udp 10.2.0.1 ns.example.com. A", "udp 10.4.0.1 ns.example.com. A",
        "udp 10.4.0.1 glueless.org. MX");
  assert_rrs(ev->rrs, "glueless.org. 3600 IN MX 5 mx.glueless.org.");
  const dns_res_stats *st = dns_res_stats_peek(h->r);
  ck_assert_uint_eq(st->lookups, 5);
  ck_assert_uint_eq(st->from_cache, 1);
  ck_assert_uint_eq(st->queries, 10);
  h_free(h);
}
END_TEST

START_TEST(negative_caching) {
  harness *h = h_new(DNS_RES_RECURSIVE, 2, NULL);
  const dns_res_event *ev = h_resolve(h, "nope.example.org", DNS_T_A);
  SENDS(h, "udp 10.0.0.1 nope.example.org. A", "udp 10.1.0.1 nope.example.org. A",
        "udp 10.3.0.1 nope.example.org. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NXDOMAIN);
  ck_assert_uint_eq(ev->rrs->len, 0);
  assert_rrs(ev->authority, "example.org. 300 IN SOA ns1.example.org. admin.example.org. 1 7200 "
                            "3600 1209600 300");
  int64_t t0 = h->now;
  /* NXDOMAIN denies every type of the name, for the SOA minimum (300 s). */
  static const struct {
    int64_t after;
    uint16_t type;
    bool cached;
  } rows[] = {{1 * S, DNS_T_A, true},
              {100 * S, DNS_T_MX, true},
              {298 * S, DNS_T_A, true},
              {301 * S, DNS_T_A, false}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    h->now = t0 + rows[i].after;
    ev = h_resolve(h, "nope.example.org", rows[i].type);
    ck_assert_msg(ev->rcode == DNS_RCODE_NXDOMAIN, "row %zu: got rcode %u", i, ev->rcode);
    ck_assert_msg(ev->from_cache == rows[i].cached, "row %zu: got from_cache %d want %d", i,
                  ev->from_cache, rows[i].cached);
    ck_assert_uint_eq(h->sends->len, rows[i].cached ? 0 : 1);
  }
  /* NODATA: cached for that type only. */
  ev = h_resolve(h, "mail.example.org", DNS_T_MX);
  SENDS(h, "udp 10.3.0.1 mail.example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert_uint_eq(ev->rrs->len, 0);
  ck_assert_uint_eq(ev->authority->len, 1);
  ev = h_resolve(h, "mail.example.org", DNS_T_MX);
  NO_SENDS(h);
  ck_assert(ev->from_cache && ev->rcode == DNS_RCODE_NOERROR && ev->rrs->len == 0);
  ck_assert_uint_eq(ev->authority->len, 1);
  h->now += 300 * S;
  h_resolve(h, "mail.example.org", DNS_T_MX);
  SENDS(h, "udp 10.3.0.1 mail.example.org. MX");
  h_free(h);
}
END_TEST

static void big_txt_run(ssize_t split, char **trace_out) {
  harness *h = h_new(DNS_RES_RECURSIVE, 3, NULL);
  h->tcp_split = split;
  const dns_res_event *ev = h_resolve(h, "big.example.org", DNS_T_TXT);
  SENDS(h, "udp 10.0.0.1 big.example.org. TXT", "udp 10.1.0.1 big.example.org. TXT",
        "udp 10.3.0.1 big.example.org. TXT", "tcp 10.3.0.1 big.example.org. TXT");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert_uint_eq(ev->rrs->len, 1);
  ck_assert_uint_eq(dns_rr_txt_count(&g_array_index(ev->rrs, dns_rr, 0)), 7);
  ck_assert_uint_eq(g_array_index(ev->rrs, dns_rr, 0).rawlen, 7 * 201);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->tcp_queries, 1);
  /* Cached: the second lookup sends nothing. */
  ev = h_resolve(h, "big.example.org", DNS_T_TXT);
  NO_SENDS(h);
  ck_assert_uint_eq(g_array_index(ev->rrs, dns_rr, 0).rawlen, 7 * 201);
  if (trace_out)
    *trace_out = g_strdup(h->trace->str);
  h_free(h);
}

START_TEST(tc_retries_over_tcp) {
  char *bytewise = NULL;
  big_txt_run(-1, &bytewise);
  /* Every split point of the TCP reply gives the same actions and events. */
  for (ssize_t k = 0; k <= 1420; k += 1) {
    char *t = NULL;
    big_txt_run(k, &t);
    ck_assert_msg(strcmp(t, bytewise) == 0, "split %zd differs", k);
    g_free(t);
  }
  g_free(bytewise);
}
END_TEST

START_TEST(first_ns_down) {
  harness *h = h_new(DNS_RES_RECURSIVE, 4, NULL);
  h->down[0] = "10.3.0.1";
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.3.0.1 example.org. MX", "udp 10.3.0.1 example.org. MX",
        "udp 10.3.0.2 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  assert_rrs(ev->rrs, "example.org. 3600 IN MX 10 mail.example.org.");
  /* 1 s then 2 s of backoff on the dead server (timed from the send),
   * plus three round trips of 2 ms. */
  ck_assert_int_eq(ev->elapsed, 3 * S + 6 * MS);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->timeouts, 2);
  ck_assert_uint_eq(count_trace(h, "ev timeout"), 2);
  /* The dead server is remembered (RFC 2308 §7.2): asked last. */
  ev = h_resolve(h, "mail.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.2 mail.example.org. A");
  ck_assert_int_eq(ev->elapsed, 2 * MS);
  /* ... for dead_ttl (60 s) only. */
  h->now += 60 * S;
  ev = h_resolve(h, "www.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.1 www.example.org. A", "udp 10.3.0.1 www.example.org. A",
        "udp 10.3.0.2 www.example.org. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->dead_marked, 2);
  h_free(h);
}
END_TEST

static void three_tries(dns_res_config *cfg) {
  cfg->timeouts[0] = 2 * S;
  cfg->timeouts[1] = 2 * S;
  cfg->timeouts[2] = 2 * S;
  cfg->ntimeouts = 3;
}

static void four_s(dns_res_config *cfg) {
  three_tries(cfg);
  cfg->timeouts[0] = cfg->timeouts[1] = cfg->timeouts[2] = 4 * S;
}

START_TEST(all_down_servfail) {
  static const struct {
    const char *qname;
    const char *down[2];
    void (*tweak)(dns_res_config *);
    int64_t elapsed;
    const char *reason;
    guint sends;
  } rows[] = {
      /* Both example.org servers: 1 s + 2 s each, then no server is left. */
      {"example.org", {"10.3.0.1", "10.3.0.2"}, NULL, 6 * S + 4 * MS, "no_servers", 6},
      /* Both roots. */
      {"example.org", {"10.0.0.1", "10.0.0.2"}, NULL, 6 * S, "no_servers", 4},
      /* Slower retries: the 10 s bound ends it. */
      {"example.org", {"10.3.0.1", "10.3.0.2"}, three_tries, 10 * S, "timeout", 7},
      /* The only server of the glueless NS: the sub-lookup fails, so does the lookup. */
      {"glueless.org", {"10.4.0.1"}, NULL, 3 * S + 8 * MS, "no_servers", 6},
      /* ... or the bound ends both while the sub-lookup waits. */
      {"glueless.org", {"10.4.0.1"}, four_s, 10 * S, "timeout", 7},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    harness *h = h_new(DNS_RES_RECURSIVE, 5, rows[i].tweak);
    h->down[0] = rows[i].down[0];
    h->down[1] = rows[i].down[1];
    const dns_res_event *ev = h_resolve(h, rows[i].qname, DNS_T_MX);
    ck_assert_msg(ev->rcode == DNS_RCODE_SERVFAIL, "row %zu: got rcode %u", i, ev->rcode);
    ck_assert_msg(ev->elapsed == rows[i].elapsed,
                  "row %zu: got elapsed %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, i,
                  ev->elapsed, rows[i].elapsed);
    ck_assert_msg(ev->elapsed <= 10 * S, "row %zu: over the bound", i);
    ck_assert_str_eq(ev->reason, rows[i].reason);
    ck_assert_msg(h->sends->len == rows[i].sends, "row %zu: got %u sends want %u", i, h->sends->len,
                  rows[i].sends);
    ck_assert_uint_eq(ev->rrs->len, 0);
    h_free(h);
  }
}
END_TEST

/* Each attempt's events name the delegation asked and the server's NS
 * name: the roots' from the configuration, then those of the referrals
 * (glue), then a glueless NS resolved by a sub-lookup. */
START_TEST(attempts_name_zone_and_server) {
  harness *h = h_new(DNS_RES_RECURSIVE, 5, NULL);
  h->down[0] = "10.0.0.1"; /* a.root. first, then b.root. */
  const dns_res_event *ev = h_resolve(h, "glueless.org", DNS_T_MX);
  static const char *const want[] = {"ev query",
                                     " glueless.org. MX 10.0.0.1 ",
                                     " zone=. ns=a.root. port=53\n",
                                     "ev timeout",
                                     " zone=. ns=a.root. port=53\n",
                                     " glueless.org. MX 10.0.0.2 ",
                                     " zone=. ns=b.root. port=53\n",
                                     " zone=org. ns=ns1.org. port=53\n",
                                     " ns.example.com. A 10.0.0.2 ",
                                     " zone=. ns=b.root. port=53\n",
                                     " zone=com. ns=ns1.com. port=53\n",
                                     " glueless.org. MX 10.4.0.1 ",
                                     " zone=glueless.org. ns=ns.example.com. port=53\n",
                                     "ev done"};
  const char *at = h->trace->str;
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    const char *f = strstr(at, want[i]);
    ck_assert_msg(f != NULL, "got no \"%s\" after offset %td in:\n%s", want[i], at - h->trace->str,
                  h->trace->str);
    at = f + strlen(want[i]);
  }
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  h_free(h);
}
END_TEST

START_TEST(edns_fallback) {
  harness *h = h_new(DNS_RES_RECURSIVE, 16, NULL);
  h->old[0] = "10.1.0.1";
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.1.0.1 example.org. MX", "udp 10.3.0.1 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  /* The second query to the old server went without OPT, only that one. */
  ck_assert_int_eq(h->no_opt, 1);
  h_free(h);
}
END_TEST

static void v6(dns_res_config *cfg) { cfg->ipv6 = true; }

START_TEST(ipv6_glue) {
  harness *h = h_new(DNS_RES_RECURSIVE, 18, v6);
  h->down[0] = "10.3.0.1";
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.3.0.1 example.org. MX", "udp 10.3.0.1 example.org. MX",
        "udp 2001:db8:3::1 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  h_free(h);
  /* Without cfg.ipv6 the AAAA glue is not used. */
  h = h_new(DNS_RES_RECURSIVE, 18, NULL);
  h->down[0] = "10.3.0.1";
  h_resolve(h, "example.org", DNS_T_MX);
  ck_assert_uint_eq(count_trace(h, "2001:db8"), 0);
  h_free(h);
}
END_TEST

static void no_dead(dns_res_config *cfg) { cfg->dead_ttl = 0; }

START_TEST(dead_memory_off) {
  harness *h = h_new(DNS_RES_RECURSIVE, 4, no_dead);
  h->down[0] = "10.3.0.1";
  h_resolve(h, "example.org", DNS_T_MX);
  const dns_res_event *ev = h_resolve(h, "mail.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.1 mail.example.org. A", "udp 10.3.0.1 mail.example.org. A",
        "udp 10.3.0.2 mail.example.org. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->dead_marked, 0);
  h_free(h);
}
END_TEST

START_TEST(unreachable_moves_on_at_once) {
  harness *h = h_new(DNS_RES_RECURSIVE, 6, NULL);
  h->refuse[0] = "10.0.0.1";
  h->refuse[1] = "10.3.0.1";
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.0.0.2 example.org. MX",
        "udp 10.1.0.1 example.org. MX", "udp 10.3.0.1 example.org. MX",
        "udp 10.3.0.2 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  ck_assert_int_eq(ev->elapsed, 8 * MS);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->net_errors, 2);
  ck_assert_uint_eq(dns_res_stats_peek(h->r)->timeouts, 0);
  h_free(h);
}
END_TEST

START_TEST(cname_chains) {
  harness *h = h_new(DNS_RES_RECURSIVE, 7, NULL);
  /* Inside one zone: one response carries the chain. */
  const dns_res_event *ev = h_resolve(h, "www.example.org", DNS_T_A);
  SENDS(h, "udp 10.0.0.1 www.example.org. A", "udp 10.1.0.1 www.example.org. A",
        "udp 10.3.0.1 www.example.org. A");
  assert_rrs(ev->cnames, "www.example.org. 600 IN CNAME mail.example.org.");
  assert_rrs(ev->rrs, "mail.example.org. 3600 IN A 10.3.0.25");
  /* Across zones: the chain leaves example.org, the search restarts. */
  ev = h_resolve(h, "alias.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.1 alias.example.org. A", "udp 10.0.0.1 www.example.com. A",
        "udp 10.2.0.1 www.example.com. A", "udp 10.4.0.1 www.example.com. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  assert_rrs(ev->cnames, "alias.example.org. 600 IN CNAME www.example.com.");
  assert_rrs(ev->rrs, "www.example.com. 300 IN A 10.4.0.80");
  /* From the cache, chain included. */
  h->now += 10 * S;
  ev = h_resolve(h, "alias.example.org", DNS_T_A);
  NO_SENDS(h);
  ck_assert(ev->from_cache);
  /* The CNAME was cached 6 ms before the A: 589.994 s remain. */
  assert_rrs(ev->cnames, "alias.example.org. 589 IN CNAME www.example.com.");
  assert_rrs(ev->rrs, "www.example.com. 290 IN A 10.4.0.80");
  /* A chain to a name that does not exist: NXDOMAIN with the chain. */
  ev = h_resolve(h, "dangling.example.org", DNS_T_MX);
  SENDS(h, "udp 10.3.0.1 dangling.example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NXDOMAIN);
  assert_rrs(ev->cnames, "dangling.example.org. 600 IN CNAME nothere.example.org.");
  ev = h_resolve(h, "nothere.example.org", DNS_T_TXT);
  NO_SENDS(h);
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NXDOMAIN);
  /* A loop across zones ends in SERVFAIL. */
  ev = h_resolve(h, "loop1.example.org", DNS_T_A);
  SENDS(h, "udp 10.3.0.1 loop1.example.org. A", "udp 10.4.0.1 loop.example.com. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_SERVFAIL);
  ck_assert_str_eq(ev->reason, "cname_loop");
  ck_assert_uint_eq(ev->cnames->len, 2);
  h_free(h);
}
END_TEST

START_TEST(out_of_bailiwick_ignored) {
  harness *h = h_new(DNS_RES_RECURSIVE, 15, NULL);
  h->poison = true;
  const dns_res_event *ev = h_resolve(h, "alias.example.org", DNS_T_A);
  /* The forged www.example.com A in the answer is not believed: the
   * resolver asks the com servers itself, and gets the true address. */
  SENDS(h, "udp 10.0.0.1 alias.example.org. A", "udp 10.1.0.1 alias.example.org. A",
        "udp 10.3.0.1 alias.example.org. A", "udp 10.0.0.1 www.example.com. A",
        "udp 10.2.0.1 www.example.com. A", "udp 10.4.0.1 www.example.com. A");
  assert_rrs(ev->rrs, "www.example.com. 300 IN A 10.4.0.80");
  /* Glue for ns.example.com from the org servers is out of their zone. */
  ev = h_resolve(h, "glueless.org", DNS_T_MX);
  SENDS(h, "udp 10.1.0.1 glueless.org. MX", "udp 10.4.0.1 ns.example.com. A",
        "udp 10.4.0.1 glueless.org. MX");
  assert_rrs(ev->rrs, "glueless.org. 3600 IN MX 5 mx.glueless.org.");
  dns_cache *c = dns_res_cache_peek(h->r);
  static const struct {
    const char *name;
    uint16_t type;
    const char *want;
  } rows[] = {{"ns.evil.org", DNS_T_A, "miss"},
              {"ns.example.com", DNS_T_A, "rrset"},  /* asked of example.com's server */
              {"ns1.example.com", DNS_T_A, "rrset"}, /* the com glue, not 6.6.6.7 */
              {"com", DNS_T_NS, "rrset"}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_name n = dns_name_lit(rows[i].name);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(dns_rr));
    g_array_set_clear_func(out, rr_clear_cb);
    dns_cache_kind k = dns_cache_get(c, &n, rows[i].type, DNS_C_IN, h->now, out, NULL);
    ck_assert_msg(strcmp(dns_cache_kind_name(k), rows[i].want) == 0, "%s: got %s want %s",
                  rows[i].name, dns_cache_kind_name(k), rows[i].want);
    char *txt = rrs_text(out);
    ck_assert_msg(!strstr(txt, "6.6.6.") && !strstr(txt, "evil"), "%s: poisoned: %s", rows[i].name,
                  txt);
    g_free(txt);
    g_array_free(out, TRUE);
  }
  h_free(h);
}
END_TEST

static void short_chain(dns_res_config *cfg) { cfg->max_cname = 0; }

START_TEST(cname_limit) {
  harness *h = h_new(DNS_RES_RECURSIVE, 8, short_chain);
  const dns_res_event *ev = h_resolve(h, "www.example.org", DNS_T_A);
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_SERVFAIL);
  ck_assert_str_eq(ev->reason, "cname_limit");
  h_free(h);
}
END_TEST

START_TEST(spoofed_replies_ignored) {
  harness *h = h_new(DNS_RES_RECURSIVE, 9, NULL);
  h->spoof = true;
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.3.0.1 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  assert_rrs(ev->rrs, "example.org. 3600 IN MX 10 mail.example.org.");
  const dns_res_stats *st = dns_res_stats_peek(h->r);
  /* Wrong id, address, port or question; cut short. */
  ck_assert_uint_eq(st->mismatched, 4 * 3);
  ck_assert_uint_eq(st->malformed, 3);
  ck_assert_uint_eq(count_trace(h, "ev dropped"), 15);
  ck_assert_uint_eq(st->timeouts, 0);
  /* A reply for a closed action is late, not an answer. */
  dns_res_on_udp(h->r, 1, "10.0.0.1", 53, (const uint8_t *)"xx", 2, h->now);
  ck_assert_uint_eq(st->late, 1);
  h_free(h);
}
END_TEST

static void shuffled(dns_res_config *cfg) { cfg->shuffle = true; }

START_TEST(shuffle_still_resolves) {
  for (uint64_t seed = 0; seed < 8; seed++) {
    harness *h = h_new(DNS_RES_RECURSIVE, seed, shuffled);
    h->down[0] = "10.3.0.2";
    const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
    ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
    ck_assert_uint_ge(h->sends->len, 3);
    h_free(h);
  }
}
END_TEST

/* ---- stub mode --------------------------------------------------------- */

START_TEST(stub_against_recursive) {
  harness *h = h_new(DNS_RES_STUB, 10, NULL);
  harness *up = h_new(DNS_RES_RECURSIVE, 11, NULL);
  h->up = up;
  h->up_addr = "10.53.0.1";
  const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
  SENDS(h, "udp 10.53.0.1 example.org. MX");
  SENDS(up, "udp 10.0.0.1 example.org. MX", "udp 10.1.0.1 example.org. MX",
        "udp 10.3.0.1 example.org. MX");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
  assert_rrs(ev->rrs, "example.org. 3600 IN MX 10 mail.example.org.");
  ev = h_resolve(h, "example.org", DNS_T_MX);
  NO_SENDS(h);
  ck_assert(ev->from_cache);
  /* CNAME chain through the recursive server. */
  ev = h_resolve(h, "alias.example.org", DNS_T_A);
  SENDS(h, "udp 10.53.0.1 alias.example.org. A");
  assert_rrs(ev->cnames, "alias.example.org. 600 IN CNAME www.example.com.");
  assert_rrs(ev->rrs, "www.example.com. 300 IN A 10.4.0.80");
  /* Large answer: truncated over UDP by the recursive server, then TCP. */
  ev = h_resolve(h, "big.example.org", DNS_T_TXT);
  SENDS(h, "udp 10.53.0.1 big.example.org. TXT", "tcp 10.53.0.1 big.example.org. TXT");
  ck_assert_uint_eq(g_array_index(ev->rrs, dns_rr, 0).rawlen, 7 * 201);
  /* NXDOMAIN with its SOA, cached by the stub for the negative TTL. */
  ev = h_resolve(h, "nope.example.org", DNS_T_A);
  SENDS(h, "udp 10.53.0.1 nope.example.org. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NXDOMAIN);
  ck_assert_uint_eq(ev->authority->len, 1);
  ev = h_resolve(h, "nope.example.org", DNS_T_A);
  NO_SENDS(h);
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_NXDOMAIN);
  /* NODATA without SOA from the forwarder: believed, not cached. */
  h->up_no_soa = true;
  for (int i = 0; i < 2; i++) {
    ev = h_resolve(h, "mail.example.org", DNS_T_TXT);
    SENDS(h, "udp 10.53.0.1 mail.example.org. TXT");
    ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
    ck_assert_uint_eq(ev->rrs->len + ev->authority->len, 0);
  }
  h->up_no_soa = false;
  /* The recursive server gone: SERVFAIL after the retries. */
  h->up_down = true;
  ev = h_resolve(h, "other.example.org", DNS_T_A);
  SENDS(h, "udp 10.53.0.1 other.example.org. A", "udp 10.53.0.1 other.example.org. A");
  ck_assert_uint_eq(ev->rcode, DNS_RCODE_SERVFAIL);
  ck_assert_int_eq(ev->elapsed, 3 * S);
  h_free(h);
  h_free(up);
}
END_TEST

static void no_cache(dns_res_config *cfg) { cfg->cache = false; }

START_TEST(stub_without_cache) {
  harness *h = h_new(DNS_RES_STUB, 12, no_cache);
  harness *up = h_new(DNS_RES_RECURSIVE, 13, NULL);
  h->up = up;
  h->up_addr = "10.53.0.1";
  for (int i = 0; i < 2; i++) {
    const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
    SENDS(h, "udp 10.53.0.1 example.org. MX");
    ck_assert(!ev->from_cache);
  }
  ck_assert(dns_res_cache_peek(h->r) == NULL);
  h_free(h);
  h_free(up);
}
END_TEST

/* ---- determinism and robustness ---------------------------------------- */

/* The lookups of the determinism scenario, one server down: a referral
 * chain, a large TXT, a CNAME, a glueless delegation, a NODATA. */
static void resolve_scenario(harness *h) {
  h->down[0] = "10.1.0.1";
  h_resolve(h, "example.org", DNS_T_MX);
  h_resolve(h, "big.example.org", DNS_T_TXT);
  h_resolve(h, "alias.example.org", DNS_T_A);
  h_resolve(h, "glueless.org", DNS_T_MX);
  h_resolve(h, "nope.example.org", DNS_T_AAAA);
}

static char *scenario_trace(uint64_t seed) {
  harness *h = h_new(DNS_RES_RECURSIVE, seed, shuffled);
  resolve_scenario(h);
  char *t = g_strdup(h->trace->str);
  h_free(h);
  return t;
}

START_TEST(same_seed_same_actions) {
  char *a = scenario_trace(42), *b = scenario_trace(42), *c = scenario_trace(43);
  ck_assert_msg(strcmp(a, b) == 0, "same seed, different traces");
  ck_assert_msg(strcmp(a, c) != 0, "different seeds, same query ids");
  ck_assert_msg(strstr(a, "act tcp") && strstr(a, "ev timeout"), "scenario too thin");
  g_free(a);
  g_free(b);
  g_free(c);
}
END_TEST

static void shuffled_done_only(dns_res_config *cfg) {
  cfg->shuffle = true;
  cfg->done_events_only = true;
}

/* scenario_trace's lookups with TWEAK; *ST receives the counters. */
static char *scenario_trace_with(uint64_t seed, void (*tweak)(dns_res_config *),
                                 dns_res_stats *st) {
  harness *h = h_new(DNS_RES_RECURSIVE, seed, tweak);
  resolve_scenario(h);
  h_resolve(h, "example.org", DNS_T_MX); /* a cache hit */
  *st = *dns_res_stats_peek(h->r);
  char *t = g_strdup(h->trace->str);
  h_free(h);
  return t;
}

/* done_events_only: the same actions, DONE events and counters; no other
 * event. */
START_TEST(done_events_only) {
  dns_res_stats sa, sb;
  char *all = scenario_trace_with(42, shuffled, &sa);
  char *done = scenario_trace_with(42, shuffled_done_only, &sb);
  GString *want = g_string_new(NULL);
  char **lines = g_strsplit(all, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l && (!g_str_has_prefix(*l, "ev ") || g_str_has_prefix(*l, "ev done ")))
      g_string_append_printf(want, "%s\n", *l);
  g_strfreev(lines);
  ck_assert_msg(strstr(all, "ev cache_hit") && strstr(all, "ev timeout") &&
                    strstr(all, "ev response"),
                "scenario too thin");
  ck_assert_str_eq(done, want->str);
  ck_assert_msg(memcmp(&sa, &sb, sizeof sa) == 0, "counters differ");
  ck_assert_uint_gt(sb.cache_hits, 0);
  g_string_free(want, TRUE);
  g_free(all);
  g_free(done);
}
END_TEST

/* The answers of cache hits (MX, NXDOMAIN, CNAME chain, TXT, again after
 * 100 s) with each DONE event's records read, then given back with
 * dns_res_give_rrs (GIVE) or kept: the same text either way (the
 * recycled array comes back empty, its records cleared). */
static char *give_back_run(bool give) {
  harness *h = h_new(DNS_RES_RECURSIVE, 42, shuffled_done_only);
  resolve_scenario(h);
  static const struct {
    const char *name;
    uint16_t type;
  } q[] = {{"example.org", DNS_T_MX},     {"nope.example.org", DNS_T_AAAA},
           {"alias.example.org", DNS_T_A}, {"big.example.org", DNS_T_TXT},
           {"example.org", DNS_T_MX},     {"alias.example.org", DNS_T_A}};
  GString *g = g_string_new(NULL);
  for (size_t i = 0; i < G_N_ELEMENTS(q); i++) {
    if (i == 4)
      h->now += 100 * S;
    dns_res_event *ev = (dns_res_event *)h_resolve(h, q[i].name, q[i].type);
    char *a = rrs_text(ev->rrs);
    g_string_append_printf(g, "%s rcode=%u [%s]%s\n", q[i].name, ev->rcode, a,
                           ev->from_cache ? " cache" : "");
    g_free(a);
    if (give) {
      dns_res_give_rrs(h->r, ev->rrs); /* the harness's clear sees NULL */
      ev->rrs = NULL;
    }
  }
  dns_res_give_rrs(h->r, NULL); /* a no-op */
  h_free(h);
  return g_string_free(g, FALSE);
}

/* Server addresses as text: every octet value at every place of an A
 * address (and an AAAA one) as printf / inet_ntop write them. */
START_TEST(addr_text_as_printf) {
  dns_rr rr;
  memset(&rr, 0, sizeof rr);
  rr.type = DNS_T_A;
  for (int place = 0; place < 4; place++)
    for (unsigned v = 0; v < 256; v++) {
      static const uint8_t base[4][4] = {
          {10, 1, 0, 25}, {192, 0, 2, 255}, {0, 0, 0, 0}, {100, 99, 9, 10}};
      for (int b = 0; b < 4; b++) {
        memcpy(rr.rd.a, base[b], 4);
        rr.rd.a[place] = (uint8_t)v;
        char got[DNS_RES_ADDR_MAX], want[DNS_RES_ADDR_MAX];
        dns_res__addr_text(&rr, got);
        g_snprintf(want, sizeof want, "%u.%u.%u.%u", rr.rd.a[0], rr.rd.a[1], rr.rd.a[2],
                   rr.rd.a[3]);
        ck_assert_msg(strcmp(got, want) == 0, "got %s want %s", got, want);
      }
    }
  rr.type = DNS_T_AAAA;
  rr.rd.aaaa[0] = 0x20;
  rr.rd.aaaa[1] = 0x01;
  rr.rd.aaaa[2] = 0x0d;
  rr.rd.aaaa[3] = 0xb8;
  rr.rd.aaaa[15] = 1;
  char got[DNS_RES_ADDR_MAX];
  dns_res__addr_text(&rr, got);
  ck_assert_str_eq(got, "2001:db8::1");
}
END_TEST

static uint64_t fixed_rand(void *user) {
  (void)user;
  return 0x1234567;
}

/* A stub's UDP queries for names of every length (1..255 octets): the
 * octets dns_res_action_bytes gives are the query dns_msg_encode_query
 * writes, held in the action up to DNS_RES_QUERY_INLINE octets and in a
 * GBytes beyond; the TCP retry's query framed in a GBytes. */
START_TEST(query_octets_every_length) {
  static const dns_res_server fwd[] = {{"resolver.", "10.53.0.1", 0}};
  unsigned inl = 0, big = 0;
  for (size_t len = 1; len <= 255; len++) {
    dns_res_config cfg;
    dns_res_config_defaults(&cfg);
    cfg.mode = DNS_RES_STUB;
    cfg.servers = fwd;
    cfg.nservers = 1;
    dns_res_env env = {fixed_rand, NULL, NULL};
    dns_res *r = dns_res_new(&cfg, &env);
    dns_name n; /* labels of up to 63 octets: LEN wire octets (or one fewer) */
    n.len = 0;
    for (size_t left = len - 1; left >= 2;) {
      size_t l = MIN(left - 1, 63);
      n.wire[n.len++] = (uint8_t)l;
      memset(n.wire + n.len, 'a' + (int)(len % 26), l);
      n.len = (uint8_t)(n.len + l);
      left -= l + 1;
    }
    n.wire[n.len++] = 0;
    dns_res_lookup(r, &n, DNS_T_A, 0);
    dns_res_action a;
    ck_assert(dns_res_next_action(r, &a) && a.kind == DNS_RES_ACT_UDP);
    size_t qn;
    const uint8_t *q = dns_res_action_bytes(&a, &qn);
    uint8_t want[600];
    size_t wn = dns_msg_encode_query(a.qid, &n, DNS_T_A, true, cfg.edns_size, want, sizeof want);
    ck_assert_msg(qn == wn && memcmp(q, want, wn) == 0,
                  "name of %u octets: got %zu octets want %zu", n.len, qn, wn);
    ck_assert_msg((a.data == NULL) == (wn <= DNS_RES_QUERY_INLINE),
                  "name of %u octets: %zu octets %s", n.len, wn, a.data ? "in a GBytes" : "inline");
    a.data ? big++ : inl++;
    dns_res_action_clear(&a);
    ck_assert(dns_res_action_bytes(&a, &qn) == NULL && qn == 0);
    dns_res_free(r);
  }
  ck_assert_msg(inl > 20 && big > 20, "both kinds: %u inline, %u in a GBytes", inl, big);
}
END_TEST

START_TEST(give_rrs_back) {
  char *kept = give_back_run(false), *given = give_back_run(true);
  ck_assert_str_eq(given, kept);
  ck_assert_msg(strstr(kept, " cache") && strstr(kept, "IN MX"), "scenario too thin: %s", kept);
  g_free(kept);
  g_free(given);
}
END_TEST

/* What a run shows of its results: the trace without state lines, every
 * DONE event's sections and flags, the counters. */
static void shuffled_done_answer_only(dns_res_config *cfg) {
  shuffled_done_only(cfg);
  cfg->done_answer_only = true;
}

static void shuffled_done_empty_null(dns_res_config *cfg) {
  shuffled_done_only(cfg);
  cfg->done_empty_null = true;
}

/* LEAN: with done_answer_only (cnames and authority NULL, asserted);
 * NUL: with done_empty_null (cnames and authority NULL or not empty,
 * asserted); SECTIONS: the log shows cnames and authority. */
static char *done_only_run_nul(bool state_trace, bool lean, bool sections, bool nul) {
  harness *h = h_new_env(DNS_RES_RECURSIVE, 42,
                         lean  ? shuffled_done_answer_only
                         : nul ? shuffled_done_empty_null
                               : shuffled_done_only,
                         state_trace);
  resolve_scenario(h);
  /* answered by the cache: an MX, an NXDOMAIN (SOA), a CNAME chain, again */
  h_resolve(h, "example.org", DNS_T_MX);
  h_resolve(h, "nope.example.org", DNS_T_AAAA);
  h_resolve(h, "alias.example.org", DNS_T_A);
  h_resolve(h, "big.example.org", DNS_T_TXT);
  h->now += 100 * S;
  h_resolve(h, "example.org", DNS_T_MX);
  GString *g = g_string_new(NULL);
  char **lines = g_strsplit(h->trace->str, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l && !g_str_has_prefix(*l, "st "))
      g_string_append_printf(g, "%s\n", *l);
  g_strfreev(lines);
  for (guint i = 0; i < h->done->len; i++) {
    const dns_res_event *ev = &g_array_index(h->done, dns_res_event, i);
    if (lean)
      ck_assert(ev->cnames == NULL && ev->authority == NULL);
    if (nul)
      ck_assert((!ev->cnames || ev->cnames->len) && (!ev->authority || ev->authority->len));
    else if (!lean)
      ck_assert(ev->cnames && ev->authority);
    char *a = rrs_text(ev->rrs), *c = sections ? rrs_text(ev->cnames) : g_strdup("-"),
         *au = sections ? rrs_text(ev->authority) : g_strdup("-");
    g_string_append_printf(g,
                           "done %" G_GUINT64_FORMAT " rcode=%u [%s] cnames [%s] auth [%s]%s%s "
                           "elapsed=%" G_GINT64_FORMAT "\n",
                           ev->lookup, ev->rcode, a, c, au, ev->from_cache ? " cache" : "",
                           ev->joined ? " joined" : "", ev->elapsed);
    g_free(a);
    g_free(c);
    g_free(au);
  }
  const dns_res_stats *st = dns_res_stats_peek(h->r);
  g_string_append_printf(
      g,
      "lookups=%" G_GUINT64_FORMAT " done=%" G_GUINT64_FORMAT " from_cache=%" G_GUINT64_FORMAT
      " cache_hits=%" G_GUINT64_FORMAT " queries=%" G_GUINT64_FORMAT " pending=%zu\n",
      st->lookups, st->done, st->from_cache, st->cache_hits, st->queries, dns_res_pending(h->r));
  h_free(h);
  return g_string_free(g, FALSE);
}

static char *done_only_run_with(bool state_trace, bool lean, bool sections) {
  return done_only_run_nul(state_trace, lean, sections, false);
}

/* done_empty_null: the same results, sections included (NULL read as
 * empty), with and without the state trace. */
START_TEST(done_empty_null) {
  char *full = done_only_run_with(true, false, true);
  char *nul = done_only_run_nul(false, false, true, true),
       *nul_traced = done_only_run_nul(true, false, true, true);
  ck_assert_str_eq(nul, full);
  ck_assert_str_eq(nul_traced, full);
  g_free(full);
  g_free(nul);
  g_free(nul_traced);
}
END_TEST

static char *done_only_run(bool state_trace) {
  return done_only_run_with(state_trace, false, true);
}

/* done_answer_only: the same results but for the two sections left out. */
START_TEST(done_answer_only) {
  char *full = done_only_run_with(true, false, false),
       *lean = done_only_run_with(false, true, false);
  char *lean_traced = done_only_run_with(true, true, false);
  ck_assert_str_eq(lean, full);
  ck_assert_str_eq(lean_traced, full);
  g_free(full);
  g_free(lean);
  g_free(lean_traced);
}
END_TEST

/* Without a state trace and below protocol detail, a lookup the cache
 * answers makes no lookup or task (dns_res_lookup's shortcut): its DONE
 * event, the counters and everything after it are those of the full path. */
START_TEST(cache_answer_without_task) {
  char *full = done_only_run(true), *quick = done_only_run(false);
  ck_assert_str_eq(quick, full);
  /* cache answers: positive, negative with its SOA, a CNAME chain */
  ck_assert_msg(strstr(full, "auth [] cache") && strstr(full, "1209600 300] cache") &&
                    strstr(full, "CNAME www.example.com.] auth [] cache"),
                "scenario too thin");
  g_free(full);
  g_free(quick);
}
END_TEST

START_TEST(many_lookups_in_flight) {
  /* Several lookups interleaved: each completes once, in order of ids. */
  harness *h = h_new(DNS_RES_RECURSIVE, 14, NULL);
  h->down[0] = "10.3.0.1";
  static const char *const names[] = {"example.org", "www.example.org", "nope.example.org",
                                      "alias.example.org", "glueless.org"};
  uint64_t ids[G_N_ELEMENTS(names)];
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    dns_name n = dns_name_lit(names[i]);
    ids[i] = dns_res_lookup(h->r, &n, DNS_T_A, h->now);
  }
  ck_assert_uint_eq(dns_res_pending(h->r), G_N_ELEMENTS(names));
  ck_assert(dns_res_cancel(h->r, ids[4], h->now));
  ck_assert(!dns_res_cancel(h->r, ids[4], h->now));
  h_pump(h);
  ck_assert_uint_eq(h->done->len, 4);
  static const uint16_t want[] = {DNS_RCODE_NOERROR, DNS_RCODE_NOERROR, DNS_RCODE_NXDOMAIN,
                                  DNS_RCODE_NOERROR};
  for (guint i = 0; i < h->done->len; i++) {
    const dns_res_event *ev = &g_array_index(h->done, dns_res_event, i);
    ck_assert_msg(ev->rcode == want[ev->lookup - 1], "lookup %" G_GUINT64_FORMAT ": got %u",
                  ev->lookup, ev->rcode);
  }
  h_free(h);
}
END_TEST

static guint count_sends(const harness *h, const char *needle) {
  guint k = 0;
  for (guint i = 0; i < h->sends->len; i++)
    k += strstr(g_ptr_array_index(h->sends, i), needle) != NULL;
  return k;
}

START_TEST(identical_lookups_join) {
  /* cancel: 0 none, 1 the first (the others take over), 2 the second. */
  static const struct {
    int cancel;
    guint done;
    guint mx_sends;
  } rows[] = {{0, 4, 5}, {1, 3, 5}, {2, 3, 5}}; /* one walk: 2 timeouts, 3 answers */
  for (size_t row = 0; row < G_N_ELEMENTS(rows); row++) {
    harness *h = h_new(DNS_RES_RECURSIVE, 17, NULL);
    h->down[0] = "10.0.0.1"; /* keep them in flight a while */
    static const char *const names[] = {"example.org", "EXAMPLE.org", "example.org", "example.org"};
    static const uint16_t types[] = {DNS_T_MX, DNS_T_MX, DNS_T_A, DNS_T_MX};
    uint64_t ids[4];
    for (int i = 0; i < 4; i++) {
      dns_name n = dns_name_lit(names[i]);
      ids[i] = dns_res_lookup(h->r, &n, types[i], h->now);
    }
    if (rows[row].cancel)
      ck_assert(dns_res_cancel(h->r, ids[rows[row].cancel - 1], h->now));
    h_pump(h);
    ck_assert_msg(h->done->len == rows[row].done, "row %zu: got %u results want %u", row,
                  h->done->len, rows[row].done);
    ck_assert_msg(count_sends(h, "example.org. MX") == rows[row].mx_sends,
                  "row %zu: got %u MX queries want %u", row, count_sends(h, "example.org. MX"),
                  rows[row].mx_sends);
    for (guint i = 0; i < h->done->len; i++) {
      const dns_res_event *ev = &g_array_index(h->done, dns_res_event, i);
      ck_assert_uint_eq(ev->rcode, DNS_RCODE_NOERROR);
      ck_assert_uint_eq(ev->rrs->len, ev->qtype == DNS_T_MX ? 1 : 0); /* no A: NODATA */
      ck_assert_msg(!(rows[row].cancel && ev->lookup == ids[rows[row].cancel - 1]),
                    "row %zu: a cancelled lookup completed", row);
      bool first_mx = ev->lookup == ids[0] || (rows[row].cancel == 1 && ev->lookup == ids[1]);
      ck_assert_msg(ev->joined == (ev->qtype == DNS_T_MX && !first_mx),
                    "row %zu lookup %" G_GUINT64_FORMAT ": got joined %d", row, ev->lookup,
                    ev->joined);
    }
    ck_assert_uint_eq(dns_res_stats_peek(h->r)->joined, 2);
    h_free(h);
  }
}
END_TEST

START_TEST(fuzz_mutated_replies) {
  /* Mutated replies (bit flips, cuts) must never crash the engine, and
   * every lookup must still end within the bound. */
  static const struct {
    const char *name;
    uint16_t type;
  } qs[] = {{"example.org", DNS_T_MX},      {"big.example.org", DNS_T_TXT},
            {"alias.example.org", DNS_T_A}, {"glueless.org", DNS_T_MX},
            {"nope.example.org", DNS_T_A},  {"loop1.example.org", DNS_T_A}};
  uint64_t servfail = 0, total = 0, dropped = 0, queries = 0;
  for (uint64_t round = 1; round <= 400; round++) {
    harness *h = h_new(DNS_RES_RECURSIVE, round, round % 2 ? shuffled : NULL);
    h->fuzz = round * 7919;
    for (size_t i = 0; i < G_N_ELEMENTS(qs); i++) {
      const dns_res_event *ev = h_resolve(h, qs[i].name, qs[i].type);
      ck_assert(ev->elapsed <= 10 * S);
      servfail += ev->rcode == DNS_RCODE_SERVFAIL;
      total++;
    }
    const dns_res_stats *st = dns_res_stats_peek(h->r);
    dropped += st->mismatched + st->malformed;
    queries += st->queries;
    h_free(h);
  }
  printf("dns_res fuzz: %" G_GUINT64_FORMAT " lookups, %" G_GUINT64_FORMAT
         " SERVFAIL, %" G_GUINT64_FORMAT " queries, %" G_GUINT64_FORMAT " replies dropped\n",
         total, servfail, queries, dropped);
  ck_assert_uint_gt(servfail, 0); /* the mutations did bite */
  ck_assert_uint_lt(servfail, total);
}
END_TEST

/* dns_res_encode_response writes the octets dns_msg_encode writes for
 * dns_res_make_response's message: every limit (with and without
 * truncation), with and without EDNS, DO, a question, CNAMEs, authority. */
static GArray *rrs_of(const char *const *text) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(dns_rr));
  g_array_set_clear_func(a, rr_clear_cb);
  for (; *text; text++) {
    dns_rr rr;
    ck_assert(dns_rr_from_text(&rr, *text) == DNS_OK);
    g_array_append_val(a, rr);
  }
  return a;
}

START_TEST(encode_response_as_make_response) {
  const char *cn[] = {"a.example.org. 60 IN CNAME b.example.org.",
                      "b.example.org. 60 IN CNAME c.example.org.", NULL};
  const char *an[] = {"c.example.org. 60 IN A 192.0.2.1", "c.example.org. 60 IN A 192.0.2.2",
                      "c.example.org. 60 IN A 192.0.2.3",
                      "c.example.org. 60 IN MX 5 mx.example.org.", NULL};
  const char *au[] = {"example.org. 60 IN SOA ns.example.org. admin.example.org. 1 2 3 4 5", NULL};
  const char *none[] = {NULL};
  const char *const *sets[][3] = {
      {cn, an, au}, {none, an, none}, {none, none, au}, {cn, none, none}, {none, none, none}};
  guint checked = 0;
  for (size_t si = 0; si < G_N_ELEMENTS(sets); si++)
    for (int variant = 0; variant < 8; variant++) {
      dns_res_event ev;
      memset(&ev, 0, sizeof ev);
      ev.kind = DNS_RES_EV_DONE;
      ev.rcode = si == 2 ? DNS_RCODE_NXDOMAIN : DNS_RCODE_NOERROR;
      ev.cnames = rrs_of(sets[si][0]);
      ev.rrs = rrs_of(sets[si][1]);
      ev.authority = rrs_of(sets[si][2]);
      dns_msg q;
      dns_msg_init(&q);
      q.id = (uint16_t)(0x1234 + variant);
      q.rd = variant & 1;
      q.opcode = variant == 5 ? DNS_OP_STATUS : DNS_OP_QUERY;
      if (variant & 2)
        dns_msg_set_edns(&q, 4096, variant & 4);
      if (variant != 6) {
        dns_name n = dns_name_lit("A.example.org");
        dns_msg_add_question(&q, &n, DNS_T_A, DNS_C_IN);
      }
      dns_msg r;
      dns_res_make_response(&q, &ev, 1232, &r);
      uint8_t full[1024], a[1024], b[1024];
      dns_enc_result fr;
      ck_assert(dns_msg_encode(&r, full, sizeof full, 0, &fr) == DNS_OK);
      for (size_t limit = 0; limit <= fr.len + 1; limit++)
        for (unsigned fl = 0; fl <= DNS_ENC_TRUNCATE; fl += DNS_ENC_TRUNCATE) {
          dns_enc_result ra, rb;
          memset(a, 0xAA, sizeof a);
          memset(b, 0xAA, sizeof b);
          dns_err ea = dns_msg_encode(&r, a, limit, fl, &ra);
          dns_err eb =
              dns_res_encode_response(&q, dns_msg_question(&q), &ev, 1232, b, limit, fl, &rb);
          ck_assert_int_eq(eb, ea);
          ck_assert_uint_eq(rb.len, ra.len);
          ck_assert_int_eq(rb.tc, ra.tc);
          ck_assert_uint_eq(rb.dropped, ra.dropped);
          if (ea == DNS_OK)
            ck_assert(memcmp(a, b, ra.len) == 0);
          checked++;
        }
      dns_msg_clear(&r);
      dns_msg_clear(&q);
      dns_res_event_clear(&ev);
    }
  ck_assert_uint_gt(checked, 1000);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_res");
  TCase *tc = tcase_create("recursive");
  tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
  tcase_add_test(tc, walk_then_cache_then_expiry);
  tcase_add_test(tc, negative_caching);
  tcase_add_test(tc, tc_retries_over_tcp);
  tcase_add_test(tc, first_ns_down);
  tcase_add_test(tc, all_down_servfail);
  tcase_add_test(tc, dead_memory_off);
  tcase_add_test(tc, attempts_name_zone_and_server);
  tcase_add_test(tc, edns_fallback);
  tcase_add_test(tc, ipv6_glue);
  tcase_add_test(tc, unreachable_moves_on_at_once);
  tcase_add_test(tc, cname_chains);
  tcase_add_test(tc, cname_limit);
  tcase_add_test(tc, out_of_bailiwick_ignored);
  tcase_add_test(tc, spoofed_replies_ignored);
  tcase_add_test(tc, shuffle_still_resolves);
  suite_add_tcase(s, tc);
  tc = tcase_create("stub");
  tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
  tcase_add_test(tc, stub_against_recursive);
  tcase_add_test(tc, stub_without_cache);
  suite_add_tcase(s, tc);
  tc = tcase_create("robustness");
  tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
  tcase_add_test(tc, same_seed_same_actions);
  tcase_add_test(tc, done_events_only);
  tcase_add_test(tc, give_rrs_back);
  tcase_add_test(tc, cache_answer_without_task);
  tcase_add_test(tc, done_answer_only);
  tcase_add_test(tc, done_empty_null);
  tcase_add_test(tc, many_lookups_in_flight);
  tcase_add_test(tc, identical_lookups_join);
  tcase_add_test(tc, fuzz_mutated_replies);
  tcase_add_test(tc, encode_response_as_make_response);
  tcase_add_test(tc, addr_text_as_printf);
  tcase_add_test(tc, query_octets_every_length);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
