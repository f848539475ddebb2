/* DNS over the simulated network: authoritative servers for the root, a TLD
 * and a domain (two name servers), a recursive resolver host, and a stub
 * client on a mail host — the lookups an MTA makes, end to end. */
#include <stdlib.h>
#include <string.h>

#include "dns_auth.h"
#include "dns_client.h"
#include "dns_resolver.h"
#include "testutil.h"

typedef struct {
  sim_world *w;
  trace_writer *tw;
  host *hosts[7]; /* root, tld, ns1, ns2, resolver, mta, router */
  dns_zone *zones[3];
  dns_auth *auth[4];
  dns_resolver *res;
  dns_client *cli;
  /* results */
  int done;
  dns_client_result last;
  uint16_t rcode;
  guint nrrs;
  bool from_cache;
} world;

static const char *const names[] = {"a.root-servers.net", "a.gtld-servers.net", "ns1.example.org",
                                    "ns2.example.org",    "resolver",           "mta",
                                    "internet"};
static const char *const addrs[] = {"198.41.0.4", "192.5.6.30", "203.0.113.53", "203.0.113.54",
                                    "192.0.2.53", "192.0.2.25", "10.255.0.1"};

static void add_zone(dns_zone **z, const char *origin, const char *const *rrs, size_t n) {
  dns_name o = dns_name_lit(origin);
  *z = dns_zone_new(&o);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(dns_zone_add_text(*z, rrs[i]) == DNS_OK, "%s", rrs[i]);
}

static void world_init(world *x) {
  memset(x, 0, sizeof *x);
  x->w = sim_world_new(11);
  x->tw = trace_writer_new_memory();
  sim_world_set_trace(x->w, x->tw, SIM_DETAIL_PROTOCOL);
  for (int i = 0; i < 7; i++) {
    x->hosts[i] = host_new(x->w, names[i], i == 6 ? "router" : "dns", i == 6);
    sim_addr a;
    sim_addr_parse(addrs[i], &a);
    sim_node_add_addr(host_node(x->hosts[i]), &a);
  }
  sim_link_params p = {.latency = 10 * SIM_MS, .bandwidth_bps = 100000000};
  for (int i = 0; i < 6; i++)
    sim_net_add_link(sim_world_net(x->w), host_node(x->hosts[i]), host_node(x->hosts[6]), &p);
  static const char *const root[] = {
      ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400",
      ". 518400 IN NS a.root-servers.net.",
      "a.root-servers.net. 518400 IN A 198.41.0.4",
      "org. 172800 IN NS a.gtld-servers.net.",
      "a.gtld-servers.net. 172800 IN A 192.5.6.30",
  };
  static const char *const tld[] = {
      "org. 900 IN SOA a.gtld-servers.net. hostmaster.org. 1 1800 900 604800 86400",
      "org. 172800 IN NS a.gtld-servers.net.",
      "example.org. 86400 IN NS ns1.example.org.",
      "example.org. 86400 IN NS ns2.example.org.",
      "ns1.example.org. 86400 IN A 203.0.113.53",
      "ns2.example.org. 86400 IN A 203.0.113.54",
  };
  static const char *const dom[] = {
      "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 60",
      "example.org. 3600 IN NS ns1.example.org.",
      "example.org. 3600 IN NS ns2.example.org.",
      "ns1.example.org. 3600 IN A 203.0.113.53",
      "ns2.example.org. 3600 IN A 203.0.113.54",
      "example.org. 300 IN MX 10 mx.example.org.",
      "mx.example.org. 300 IN A 203.0.113.25",
      "big.example.org. 300 IN TXT \"" /* > 512 octets in all: retried over TCP */
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\" \""
      "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\" \""
      "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\" \""
      "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"",
  };
  add_zone(&x->zones[0], ".", root, G_N_ELEMENTS(root));
  add_zone(&x->zones[1], "org.", tld, G_N_ELEMENTS(tld));
  add_zone(&x->zones[2], "example.org.", dom, G_N_ELEMENTS(dom));
  dns_zone_cfg zc = {.edns_size = 0}; /* classic 512-octet UDP limit */
  x->auth[0] = dns_auth_new(x->hosts[0], &x->zones[0], 1, &zc);
  x->auth[1] = dns_auth_new(x->hosts[1], &x->zones[1], 1, &zc);
  x->auth[2] = dns_auth_new(x->hosts[2], &x->zones[2], 1, &zc);
  x->auth[3] = dns_auth_new(x->hosts[3], &x->zones[2], 1, &zc);
  dns_res_server hint = {"a.root-servers.net.", "198.41.0.4", 53};
  x->res = dns_resolver_new(x->hosts[4], &hint, 1);
  sim_addr ra;
  sim_addr_parse(addrs[4], &ra);
  x->cli = dns_client_new(x->hosts[5], &ra);
}

static void world_clear(world *x) {
  dns_client_free(x->cli);
  dns_resolver_free(x->res);
  for (int i = 0; i < 4; i++)
    dns_auth_free(x->auth[i]);
  sim_world_free(x->w);
  for (int i = 0; i < 3; i++)
    dns_zone_free(x->zones[i]);
  for (int i = 0; i < 7; i++)
    host_free(x->hosts[i]);
  trace_writer_free(x->tw);
}

static void got(void *user, const dns_client_result *r) {
  world *x = user;
  x->done++;
  x->rcode = r->rcode;
  x->nrrs = r->rrs->len;
  x->from_cache = r->from_cache;
}

typedef struct {
  world *x;
  const char *name;
  uint16_t type;
} ask;

static void do_ask(void *a, void *b) {
  (void)b;
  ask *q = a;
  dns_client_lookup(q->x->cli, q->name, q->type, got, q->x);
}

static size_t count(world *x, const char *needle) {
  size_t n = 0;
  for (const char *p = trace_writer_peek_memory(x->tw)->str; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

START_TEST(walks_root_tld_domain_then_caches) {
  world x;
  world_init(&x);
  ask q = {&x, "example.org.", 15 /* MX */};
  sim_world_at(x.w, SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 30 * SIM_S);
  ck_assert_int_eq(x.done, 1);
  ck_assert_uint_eq(x.rcode, 0);
  ck_assert_uint_eq(x.nrrs, 1);
  /* The walk: the stub asks the resolver, which asks root, TLD, domain. */
  const char *t = trace_writer_peek_memory(x.tw)->str;
  const char *q1 = strstr(t, "\"ev\":\"dns.query\",\"conn\":0,\"from\":\"mta\",\"to\":\"resolver\"");
  const char *q2 = strstr(t, "\"from\":\"resolver\",\"to\":\"a.root-servers.net\"");
  const char *q3 = strstr(t, "\"from\":\"resolver\",\"to\":\"a.gtld-servers.net\"");
  const char *q4 = strstr(t, "\"from\":\"resolver\",\"to\":\"ns");
  ck_assert_msg(q1 && q2 && q3 && q4 && q1 < q2 && q2 < q3 && q3 < q4, "walk order: %s", t);
  size_t queries = count(&x, "\"ev\":\"dns.query\"");

  /* Again at once: the stub's cache answers; no packet at all. */
  sim_world_at(x.w, 40 * SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 50 * SIM_S);
  ck_assert_int_eq(x.done, 2);
  ck_assert(x.from_cache);
  ck_assert_uint_eq(count(&x, "\"ev\":\"dns.query\""), queries);

  /* After the MX TTL (300 s) the stub asks again; the resolver's cache
   * still knows the delegation, so it goes straight to the domain. */
  sim_world_at(x.w, 400 * SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 420 * SIM_S);
  ck_assert_int_eq(x.done, 3);
  ck_assert(!x.from_cache);
  size_t root_asked = count(&x, "\"to\":\"a.root-servers.net\"");
  ck_assert_uint_eq(root_asked, 1);
  world_clear(&x);
}
END_TEST

START_TEST(nxdomain_cached_for_soa_minimum) {
  world x;
  world_init(&x);
  ask q = {&x, "nothere.example.org.", 1};
  sim_world_at(x.w, SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 10 * SIM_S);
  ck_assert_int_eq(x.done, 1);
  ck_assert_uint_eq(x.rcode, 3);
  size_t to_ns = count(&x, "\"to\":\"ns");
  sim_world_at(x.w, 30 * SIM_S, do_ask, &q, NULL); /* within the 60 s minimum */
  sim_world_run(x.w, 40 * SIM_S);
  ck_assert_uint_eq(x.rcode, 3);
  ck_assert_uint_eq(count(&x, "\"to\":\"ns"), to_ns);
  sim_world_at(x.w, 100 * SIM_S, do_ask, &q, NULL); /* after it: asked again */
  sim_world_run(x.w, 110 * SIM_S);
  ck_assert_uint_eq(x.rcode, 3);
  ck_assert_uint_gt(count(&x, "\"to\":\"ns"), to_ns);
  world_clear(&x);
}
END_TEST

START_TEST(large_answer_over_tcp) {
  world x;
  world_init(&x);
  ask q = {&x, "big.example.org.", 16 /* TXT */};
  sim_world_at(x.w, SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 30 * SIM_S);
  ck_assert_int_eq(x.done, 1);
  ck_assert_uint_eq(x.rcode, 0);
  ck_assert_uint_eq(x.nrrs, 1);
  ck_assert_msg(count(&x, "\"tc\":true") >= 1, "a truncated answer first");
  ck_assert_msg(count(&x, "\"proto\":\"tcp\"") >= 2, "then the query and answer over TCP");
  world_clear(&x);
}
END_TEST

START_TEST(first_ns_down_uses_second_all_down_servfail) {
  world x;
  world_init(&x);
  sim_node_crash_at(host_node(x.hosts[2]), SIM_S / 2);
  ask q = {&x, "mx.example.org.", 1};
  sim_world_at(x.w, SIM_S, do_ask, &q, NULL);
  sim_world_run(x.w, 30 * SIM_S);
  ck_assert_int_eq(x.done, 1);
  ck_assert_uint_eq(x.rcode, 0);
  ck_assert_msg(count(&x, "\"to\":\"ns2.example.org\"") >= 1, "ns2 answered");

  sim_node_crash_at(host_node(x.hosts[3]), 40 * SIM_S);
  ask q2 = {&x, "other.example.org.", 1};
  sim_world_at(x.w, 41 * SIM_S, do_ask, &q2, NULL);
  sim_world_run(x.w, 120 * SIM_S);
  ck_assert_int_eq(x.done, 2);
  ck_assert_uint_eq(x.rcode, 2); /* SERVFAIL, within the resolver's bound */
  ck_assert_msg(count(&x, "\"ev\":\"dns.timeout\"") >= 1, "timeouts traced");
  world_clear(&x);
}
END_TEST

/* Bursts of lookups in flight at once, every third cancelled as soon as
 * asked: each other callback comes exactly once with its own answer, in
 * lookup order for those the stub's cache answers (the A record; the
 * NXDOMAINs have expired by the second burst), after the
 * client's list of lookups grew for the burst and shrank after it. */
typedef struct {
  int calls;
  uint16_t rcode;
  int order;
} burst_slot;

typedef struct {
  world *x;
  burst_slot slot[200];
  uint64_t ids[200];
  int seen;
} burst;

static burst *burst_of; /* the test's (callbacks carry the slot) */

static void burst_got(void *user, const dns_client_result *r) {
  burst_slot *s = user;
  s->calls++;
  s->rcode = r->rcode;
  s->order = burst_of->seen++;
}

static void burst_ask(void *a, void *b) {
  (void)b;
  burst *u = a;
  for (int i = 0; i < 200; i++) {
    char name[64];
    if (i % 2)
      g_snprintf(name, sizeof name, "mx.example.org.");
    else
      g_snprintf(name, sizeof name, "n%d.example.org.", i);
    u->ids[i] = dns_client_lookup(u->x->cli, name, 1, burst_got, &u->slot[i]);
    ck_assert_uint_ne(u->ids[i], 0);
    if (i % 3 == 0)
      dns_client_cancel(u->x->cli, u->ids[i]);
  }
}

START_TEST(bursts_of_lookups) {
  world x;
  world_init(&x);
  for (int round = 0; round < 2; round++) {
    burst *u = g_new0(burst, 1);
    u->x = &x;
    burst_of = u;
    sim_time t0 = (sim_time)(1 + 100 * round) * SIM_S;
    sim_world_at(x.w, t0, burst_ask, u, NULL);
    sim_world_run(x.w, t0 + 60 * SIM_S);
    int last_cached = -1;
    for (int i = 0; i < 200; i++) {
      const burst_slot *s = &u->slot[i];
      int want_calls = i % 3 == 0 ? 0 : 1;
      ck_assert_msg(s->calls == want_calls, "round %d lookup %d: got %d calls want %d", round, i,
                    s->calls, want_calls);
      if (want_calls)
        ck_assert_msg(s->rcode == (i % 2 ? 0 : 3), "round %d lookup %d: got rcode %u", round, i,
                      s->rcode);
      if (round == 1 && want_calls && i % 2) { /* from the stub's cache: in order */
        ck_assert_msg(s->order > last_cached, "round %d lookup %d: out of order", round, i);
        last_cached = s->order;
      }
    }
    g_free(u);
  }
  world_clear(&x);
}
END_TEST

START_TEST(same_seed_same_trace) {
  GString *t[2];
  for (int i = 0; i < 2; i++) {
    world x;
    world_init(&x);
    ask q = {&x, "example.org.", 15};
    sim_world_at(x.w, SIM_S, do_ask, &q, NULL);
    sim_world_run(x.w, 30 * SIM_S);
    t[i] = g_string_new(trace_writer_peek_memory(x.tw)->str);
    world_clear(&x);
  }
  ck_assert(g_string_equal(t[0], t[1]));
  g_string_free(t[0], TRUE);
  g_string_free(t[1], TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dns_hosts");
  TCase *tc = tcase_create("hierarchy");
  tcase_add_test(tc, walks_root_tld_domain_then_caches);
  tcase_add_test(tc, nxdomain_cached_for_soa_minimum);
  tcase_add_test(tc, large_answer_over_tcp);
  tcase_add_test(tc, first_ns_down_uses_second_all_down_servfail);
  tcase_add_test(tc, same_seed_same_trace);
  tcase_add_test(tc, bursts_of_lookups);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
