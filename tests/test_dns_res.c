/* Tests for dns_res, the resolver engine, driven by an in-memory network of
 * authoritative servers built from dns_zone (root, org, com, example.org,
 * example.com, glueless.org). A harness pulls the engine's actions, answers
 * each with dns_zone_respond_wire for the server address (or drops it when
 * that server is "down"), feeds the reply back (TCP replies byte by byte or
 * split at a given point), and advances simulated time to the engine's
 * deadline when nothing is in flight. Cases: the walk root -> TLD ->
 * domain, cache hits, TTL expiry, negative caching, TCP fallback, server
 * failover and SERVFAIL bounds, CNAME chains and loops, glueless NS,
 * spoofed replies, network errors, stub mode against a recursive engine,
 * determinism of the action stream, and a mutation fuzz loop. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "dns_res.h"
#include "dns_tcp.h"
#include "dns_zone.h"
#include "testutil.h"

#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

/* ---- the authoritative network ----------------------------------------- */

static const char *const root_rrs[] = {
    ". 86400 IN SOA a.root. admin.root. 1 1800 900 604800 86400",
    ". 518400 IN NS a.root.",
    ". 518400 IN NS b.root.",
    "a.root. 518400 IN A 10.0.0.1",
    "b.root. 518400 IN A 10.0.0.2",
    "org. 172800 IN NS ns1.org.",
    "org. 172800 IN NS ns2.org.",
    "ns1.org. 172800 IN A 10.1.0.1",
    "ns2.org. 172800 IN A 10.1.0.2",
    "com. 172800 IN NS ns1.com.",
    "ns1.com. 172800 IN A 10.2.0.1",
};
static const char *const org_rrs[] = {
    "org. 900 IN SOA ns1.org. admin.org. 1 1800 900 604800 900",
    "org. 172800 IN NS ns1.org.",
    "org. 172800 IN NS ns2.org.",
    "ns1.org. 172800 IN A 10.1.0.1",
    "ns2.org. 172800 IN A 10.1.0.2",
    "example.org. 86400 IN NS ns1.example.org.",
    "example.org. 86400 IN NS ns2.example.org.",
    "ns1.example.org. 86400 IN A 10.3.0.1",
    "ns2.example.org. 86400 IN A 10.3.0.2",
    "glueless.org. 86400 IN NS ns.example.com.",
};
static const char *const com_rrs[] = {
    "com. 900 IN SOA ns1.com. admin.com. 1 1800 900 604800 900",
    "com. 172800 IN NS ns1.com.",
    "ns1.com. 172800 IN A 10.2.0.1",
    "example.com. 86400 IN NS ns1.example.com.",
    "ns1.example.com. 86400 IN A 10.4.0.1",
};
static const char *const exorg_rrs[] = {
    "example.org. 3600 IN SOA ns1.example.org. admin.example.org. 1 7200 3600 1209600 300",
    "example.org. 3600 IN NS ns1.example.org.",
    "example.org. 3600 IN NS ns2.example.org.",
    "ns1.example.org. 3600 IN A 10.3.0.1",
    "ns2.example.org. 3600 IN A 10.3.0.2",
    "example.org. 3600 IN MX 10 mail.example.org.",
    "example.org. 3600 IN TXT \"v=spf1 mx -all\"",
    "mail.example.org. 3600 IN A 10.3.0.25",
    "www.example.org. 600 IN CNAME mail.example.org.",
    "alias.example.org. 600 IN CNAME www.example.com.",
    "loop1.example.org. 600 IN CNAME loop.example.com.",
    "dangling.example.org. 600 IN CNAME nothere.example.org.",
};
static const char *const excom_rrs[] = {
    "example.com. 3600 IN SOA ns1.example.com. admin.example.com. 1 7200 3600 1209600 60",
    "example.com. 3600 IN NS ns1.example.com.",
    "ns1.example.com. 3600 IN A 10.4.0.1",
    "ns.example.com. 3600 IN A 10.4.0.1",
    "www.example.com. 300 IN A 10.4.0.80",
    "loop.example.com. 300 IN CNAME loop1.example.org.",
};
static const char *const glueless_rrs[] = {
    "glueless.org. 3600 IN SOA ns.example.com. admin.glueless.org. 1 7200 3600 1209600 60",
    "glueless.org. 3600 IN NS ns.example.com.",
    "glueless.org. 3600 IN MX 5 mx.glueless.org.",
    "mx.glueless.org. 3600 IN A 10.5.0.25",
};

enum { Z_ROOT, Z_ORG, Z_COM, Z_EXORG, Z_EXCOM, Z_GLUELESS, Z_COUNT };

typedef struct {
  const char *addr;
  int zones[2];
  int nzones;
} auth_host;

static const auth_host hosts[] = {
    {"10.0.0.1", {Z_ROOT}, 1},  {"10.0.0.2", {Z_ROOT}, 1},
    {"10.1.0.1", {Z_ORG}, 1},   {"10.1.0.2", {Z_ORG}, 1},
    {"10.2.0.1", {Z_COM}, 1},   {"10.3.0.1", {Z_EXORG}, 1},
    {"10.3.0.2", {Z_EXORG}, 1}, {"10.4.0.1", {Z_EXCOM, Z_GLUELESS}, 2},
};

static dns_zone *zones[Z_COUNT];

static dns_zone *zone_build(const char *origin, const char *const *rrs, size_t n) {
  dns_name o = dns_name_lit(origin);
  dns_zone *z = dns_zone_new(&o);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(dns_zone_add_text(z, rrs[i]) == DNS_OK, "%s", rrs[i]);
  return z;
}

static void zones_setup(void) {
  zones[Z_ROOT] = zone_build(".", root_rrs, G_N_ELEMENTS(root_rrs));
  zones[Z_ORG] = zone_build("org", org_rrs, G_N_ELEMENTS(org_rrs));
  zones[Z_COM] = zone_build("com", com_rrs, G_N_ELEMENTS(com_rrs));
  zones[Z_EXORG] = zone_build("example.org", exorg_rrs, G_N_ELEMENTS(exorg_rrs));
  zones[Z_EXCOM] = zone_build("example.com", excom_rrs, G_N_ELEMENTS(excom_rrs));
  zones[Z_GLUELESS] = zone_build("glueless.org", glueless_rrs, G_N_ELEMENTS(glueless_rrs));
  /* A TXT RRset of 7 x 200 octets: larger than 512 and than EDNS 1232. */
  dns_rr big;
  dns_name owner = dns_name_lit("big.example.org");
  dns_rr_init(&big, &owner, DNS_T_TXT, 600);
  uint8_t s[200];
  for (int i = 0; i < 7; i++) {
    memset(s, 'a' + i, sizeof s);
    ck_assert(dns_rr_txt_add(&big, s, sizeof s) == DNS_OK);
  }
  ck_assert(dns_zone_add(zones[Z_EXORG], &big) == DNS_OK);
  dns_rr_clear(&big);
}

static void zones_teardown(void) {
  for (int i = 0; i < Z_COUNT; i++) {
    dns_zone_free(zones[i]);
    zones[i] = NULL;
  }
}

/* ---- randomness -------------------------------------------------------- */

static uint64_t splitmix(void *user) {
  uint64_t *st = user;
  uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* ---- the harness ------------------------------------------------------- */

typedef struct harness harness;
struct harness {
  dns_res *r;
  uint64_t seed;
  int64_t now;
  const char *down[4];   /* addresses that drop every query */
  const char *refuse[4]; /* addresses that answer with a network error */
  const char *old[4];    /* addresses that answer EDNS queries with FORMERR */
  int no_opt;            /* queries sent without EDNS */
  ssize_t tcp_split;     /* -1: TCP replies byte by byte; else in two parts */
  bool spoof;            /* precede each UDP reply by forged and broken ones */
  bool poison;           /* 10.3.0.x add out-of-bailiwick data to answers */
  bool want_rd;          /* the RD bit queries must carry */
  /* Stub mode: queries to up_addr are answered by the engine of UP. */
  harness *up;
  const char *up_addr;
  bool up_down;
  /* Fuzz: mutate replies with this generator state when non-zero. */
  uint64_t fuzz;
  GPtrArray *sends; /* "udp 10.0.0.1 example.org. MX" */
  GString *trace;   /* every action and event, for determinism */
  GArray *done;     /* dns_res_event, DONE events */
  GHashTable *open; /* open action ids (lookup only) */
};

static bool listed(const char *const *set, const char *addr) {
  for (int i = 0; i < 4 && set[i]; i++)
    if (strcmp(set[i], addr) == 0)
      return true;
  return false;
}

static void ev_clear_cb(gpointer p) { dns_res_event_clear(p); }
static void rr_clear_cb(gpointer p) { dns_rr_clear(p); }

static harness *h_new(dns_res_mode mode, uint64_t seed, void (*tweak)(dns_res_config *)) {
  static const dns_res_server roots[] = {{"a.root.", "10.0.0.1", 0}, {"b.root.", "10.0.0.2", 0}};
  static const dns_res_server fwd[] = {{"resolver.", "10.53.0.1", 0}};
  harness *h = g_new0(harness, 1);
  h->seed = seed;
  h->tcp_split = -1;
  h->want_rd = mode == DNS_RES_STUB;
  dns_res_config cfg;
  dns_res_config_defaults(&cfg);
  cfg.mode = mode;
  cfg.servers = mode == DNS_RES_STUB ? fwd : roots;
  cfg.nservers = mode == DNS_RES_STUB ? 1 : 2;
  if (tweak)
    tweak(&cfg);
  dns_res_env env = {splitmix, &h->seed};
  h->r = dns_res_new(&cfg, &env);
  h->now = 1000 * S;
  h->sends = g_ptr_array_new_with_free_func(g_free);
  h->trace = g_string_new(NULL);
  h->done = g_array_new(FALSE, FALSE, sizeof(dns_res_event));
  g_array_set_clear_func(h->done, ev_clear_cb);
  h->open = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  return h;
}

static void h_free(harness *h) {
  if (!h)
    return;
  dns_res_free(h->r);
  g_ptr_array_free(h->sends, TRUE);
  g_string_free(h->trace, TRUE);
  g_array_free(h->done, TRUE);
  g_hash_table_destroy(h->open);
  g_free(h);
}

static char *rrs_text(const GArray *a) {
  GString *t = g_string_new(NULL);
  for (guint i = 0; i < a->len; i++) {
    if (i)
      g_string_append(t, " | ");
    dns_rr_append_text(&g_array_index(a, dns_rr, i), t);
  }
  return g_string_free(t, FALSE);
}

static void drain_events(harness *h) {
  dns_res_event ev;
  while (dns_res_next_event(h->r, &ev)) {
    char *q = dns_name_to_text(&ev.qname), *rr = rrs_text(ev.rrs);
    char tb[16];
    g_string_append_printf(h->trace,
                           "ev %s t=%" G_GINT64_FORMAT " lk=%" G_GUINT64_FORMAT
                           " act=%" G_GUINT64_FORMAT " %s %s %s qid=%u rcode=%u %s [%s]\n",
                           dns_res_ev_kind_name(ev.kind), ev.t, ev.lookup, ev.action, q,
                           dns_type_to_text(ev.qtype, tb), ev.server, ev.qid, ev.rcode,
                           ev.reason ? ev.reason : "-", rr);
    g_free(q);
    g_free(rr);
    if (ev.kind == DNS_RES_EV_DONE)
      g_array_append_val(h->done, ev);
    else
      dns_res_event_clear(&ev);
  }
}

static void h_pump(harness *h);

/* Mutates BUF in place from the fuzz state (a few byte flips, maybe a cut). */
static void mutate(harness *h, GByteArray *buf) {
  if (!h->fuzz || buf->len == 0 || splitmix(&h->fuzz) % 2)
    return; /* half the replies intact, so lookups get deep */
  uint64_t n = 1 + splitmix(&h->fuzz) % 3;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t x = splitmix(&h->fuzz);
    buf->data[x % buf->len] ^= (uint8_t)(1u << ((x >> 32) % 8));
  }
  if (splitmix(&h->fuzz) % 8 == 0)
    g_byte_array_set_size(buf, (guint)(splitmix(&h->fuzz) % (buf->len + 1)));
}

/* Re-encodes the response in OUT with extra records in each section, all
 * outside the zones of the servers poisoned (org., example.org.): a
 * resolver must believe none of them (RFC 2181 §5.4.1, bailiwick). */
static void poison(GByteArray *out) {
  dns_msg m;
  ck_assert(dns_msg_decode(&m, out->data, out->len) == DNS_OK);
  static const struct {
    dns_section s;
    const char *rr;
  } evil[] = {
      {DNS_SEC_ANSWER, "www.example.com. 86400 IN A 6.6.6.6"},
      {DNS_SEC_AUTHORITY, "com. 86400 IN NS ns.evil.org."},
      {DNS_SEC_ADDITIONAL, "ns1.example.com. 86400 IN A 6.6.6.7"},
      {DNS_SEC_ADDITIONAL, "ns.evil.org. 86400 IN A 6.6.6.8"},
      {DNS_SEC_ADDITIONAL, "ns.example.com. 86400 IN A 6.6.6.9"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(evil); i++) {
    dns_rr rr;
    ck_assert(dns_rr_from_text(&rr, evil[i].rr) == DNS_OK);
    dns_msg_take_rr(&m, evil[i].s, &rr);
    dns_rr_clear(&rr);
  }
  uint8_t buf[65535];
  dns_enc_result res;
  ck_assert(dns_msg_encode(&m, buf, sizeof buf, 0, &res) == DNS_OK);
  g_byte_array_set_size(out, 0);
  g_byte_array_append(out, buf, (guint)res.len);
  dns_msg_clear(&m);
}

/* A copy of response OUT asking another question (same id). */
static GByteArray *other_question(const GByteArray *out) {
  dns_msg m;
  GByteArray *b = g_byte_array_new();
  if (dns_msg_decode(&m, out->data, out->len) == DNS_OK && m.question->len == 1) {
    dns_question *q = &g_array_index(m.question, dns_question, 0);
    q->type = q->type == DNS_T_TXT ? DNS_T_A : DNS_T_TXT;
    uint8_t buf[65535];
    dns_enc_result res;
    ck_assert(dns_msg_encode(&m, buf, sizeof buf, 0, &res) == DNS_OK);
    g_byte_array_append(b, buf, (guint)res.len);
  }
  dns_msg_clear(&m);
  return b;
}

/* The answer of server ADDR to query PKT, or false if it has none. */
static bool answer(harness *h, const char *addr, const uint8_t *pkt, size_t len, bool tcp,
                   GByteArray *out) {
  if (h->up && strcmp(addr, h->up_addr) == 0) {
    /* The recursive engine behind the stub: resolve, then answer. */
    dns_msg q, r;
    ck_assert(dns_msg_decode(&q, pkt, len) == DNS_OK);
    const dns_question *qq = dns_msg_question(&q);
    h->up->now = h->now;
    guint before = h->up->done->len;
    uint64_t id = dns_res_lookup(h->up->r, &qq->name, qq->type, h->up->now);
    h_pump(h->up);
    h->now = h->up->now;
    ck_assert_uint_eq(h->up->done->len, before + 1);
    const dns_res_event *ev = &g_array_index(h->up->done, dns_res_event, before);
    ck_assert_uint_eq(ev->lookup, id);
    dns_res_make_response(&q, ev, 1232, &r);
    size_t limit = tcp ? 65535 : dns_msg_udp_limit(&q, 1232);
    uint8_t *buf = g_malloc(limit);
    dns_enc_result res;
    ck_assert(dns_msg_encode(&r, buf, limit, DNS_ENC_TRUNCATE, &res) == DNS_OK);
    g_byte_array_append(out, buf, (guint)res.len);
    g_free(buf);
    dns_msg_clear(&q);
    dns_msg_clear(&r);
    return true;
  }
  if (listed(h->old, addr)) { /* RFC 6891 §7: a server from before EDNS */
    dns_msg q;
    ck_assert(dns_msg_decode(&q, pkt, len) == DNS_OK);
    if (q.edns.present) {
      dns_msg r;
      dns_msg_init(&r);
      r.id = q.id;
      r.qr = true;
      r.rcode = DNS_RCODE_FORMERR;
      const dns_question *qq = dns_msg_question(&q);
      dns_msg_add_question(&r, &qq->name, qq->type, qq->rclass);
      uint8_t buf[512];
      dns_enc_result res;
      ck_assert(dns_msg_encode(&r, buf, sizeof buf, 0, &res) == DNS_OK);
      g_byte_array_append(out, buf, (guint)res.len);
      dns_msg_clear(&r);
      dns_msg_clear(&q);
      return true;
    }
    dns_msg_clear(&q);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(hosts); i++) {
    if (strcmp(hosts[i].addr, addr) != 0)
      continue;
    dns_zone *zs[2] = {zones[hosts[i].zones[0]], zones[hosts[i].zones[1]]};
    dns_zone_cfg zcfg = {1232};
    bool have = dns_zone_respond_wire(zs, (size_t)hosts[i].nzones, &zcfg, pkt, len, tcp, out, NULL);
    if (have && h->poison &&
        (g_str_has_prefix(addr, "10.3.0.") || g_str_has_prefix(addr, "10.1.0.")))
      poison(out);
    return have;
  }
  return false;
}

static void log_send(harness *h, const dns_res_action *a, const uint8_t *pkt, size_t len) {
  dns_msg q;
  ck_assert(dns_msg_decode(&q, pkt, len) == DNS_OK);
  ck_assert_msg(q.rd == h->want_rd, "got rd %d want %d", q.rd, h->want_rd);
  ck_assert_uint_eq(q.id, a->qid);
  h->no_opt += !q.edns.present;
  const dns_question *qq = dns_msg_question(&q);
  char *n = dns_name_to_text(&qq->name);
  char tb[16];
  g_ptr_array_add(h->sends, g_strdup_printf("%s %s %s %s", dns_res_act_kind_name(a->kind),
                                            a->server, n, dns_type_to_text(qq->type, tb)));
  g_free(n);
  dns_msg_clear(&q);
}

static void handle(harness *h, const dns_res_action *a) {
  gsize dlen = 0;
  const uint8_t *d = a->data ? g_bytes_get_data(a->data, &dlen) : NULL;
  GString *hex = g_string_new(NULL);
  for (gsize i = 0; i < dlen; i++)
    g_string_append_printf(hex, "%02x", d[i]);
  g_string_append_printf(h->trace, "act %s id=%" G_GUINT64_FORMAT " %s:%u sport=%u qid=%u %s\n",
                         dns_res_act_kind_name(a->kind), a->id, a->server, a->port, a->sport,
                         a->qid, hex->str);
  g_string_free(hex, TRUE);
  if (a->kind == DNS_RES_ACT_CLOSE) {
    ck_assert_msg(g_hash_table_remove(h->open, &a->id),
                  "close of unknown action %" G_GUINT64_FORMAT, a->id);
    return;
  }
  ck_assert_uint_eq(a->port, 53);
  uint64_t *key = g_new(uint64_t, 1);
  *key = a->id;
  g_hash_table_add(h->open, key);
  h->now += MS; /* one millisecond each way */
  if (a->kind == DNS_RES_ACT_UDP) {
    log_send(h, a, d, dlen);
    if (listed(h->down, a->server) || (h->up && h->up_down && !strcmp(a->server, h->up_addr)))
      return;
    if (listed(h->refuse, a->server)) {
      dns_res_on_net_error(h->r, a->id, DNS_RES_NET_UNREACHABLE, h->now);
      return;
    }
    GByteArray *out = g_byte_array_new();
    if (answer(h, a->server, d, dlen, false, out)) {
      h->now += MS;
      mutate(h, out);
      if (h->spoof) {
        GByteArray *forged = g_byte_array_new();
        g_byte_array_append(forged, out->data, out->len);
        forged->data[1] ^= 1; /* another id */
        dns_res_on_udp(h->r, a->id, a->server, 53, forged->data, forged->len, h->now);
        dns_res_on_udp(h->r, a->id, "192.0.2.66", 53, out->data, out->len, h->now);
        dns_res_on_udp(h->r, a->id, a->server, 5353, out->data, out->len, h->now);
        dns_res_on_udp(h->r, a->id, a->server, 53, out->data, 7, h->now);
        g_byte_array_free(forged, TRUE);
        forged = other_question(out);
        dns_res_on_udp(h->r, a->id, a->server, 53, forged->data, forged->len, h->now);
        g_byte_array_free(forged, TRUE);
      }
      dns_res_on_udp(h->r, a->id, a->server, 53, out->data, out->len, h->now);
    }
    g_byte_array_free(out, TRUE);
    return;
  }
  /* TCP: the query arrives through a deframer fed byte by byte. */
  dns_tcp *in = dns_tcp_new();
  GBytes *q = NULL;
  for (gsize i = 0; i < dlen; i++) {
    ck_assert_msg(!q, "query frame ended early");
    dns_tcp_feed(in, d + i, 1);
    q = dns_tcp_next(in);
  }
  ck_assert_msg(q != NULL && dns_tcp_pending(in) == 0, "TCP query not one whole frame");
  dns_tcp_free(in);
  gsize qlen;
  const uint8_t *qd = g_bytes_get_data(q, &qlen);
  log_send(h, a, qd, qlen);
  if (listed(h->down, a->server) || (h->up && h->up_down && !strcmp(a->server, h->up_addr))) {
    g_bytes_unref(q);
    return;
  }
  if (listed(h->refuse, a->server)) {
    dns_res_on_net_error(h->r, a->id, DNS_RES_NET_REFUSED, h->now);
    g_bytes_unref(q);
    return;
  }
  GByteArray *out = g_byte_array_new();
  bool have = answer(h, a->server, qd, qlen, true, out);
  g_bytes_unref(q);
  if (have) {
    h->now += MS;
    mutate(h, out);
    GByteArray *framed = g_byte_array_new();
    dns_tcp_frame(out->data, out->len, framed);
    if (h->tcp_split < 0) {
      for (guint i = 0; i < framed->len; i++)
        dns_res_on_tcp_bytes(h->r, a->id, framed->data + i, 1, h->now);
    } else {
      guint k = (guint)h->tcp_split < framed->len ? (guint)h->tcp_split : framed->len;
      dns_res_on_tcp_bytes(h->r, a->id, framed->data, k, h->now);
      dns_res_on_tcp_bytes(h->r, a->id, framed->data + k, framed->len - k, h->now);
    }
    g_byte_array_free(framed, TRUE);
  }
  g_byte_array_free(out, TRUE);
}

/* Runs the engine until no lookup is pending. */
static void h_pump(harness *h) {
  for (int guard = 0; guard < 100000; guard++) {
    dns_res_action a;
    bool any = false;
    while (dns_res_next_action(h->r, &a)) {
      any = true;
      handle(h, &a);
      dns_res_action_clear(&a);
    }
    drain_events(h);
    if (any)
      continue;
    if (dns_res_pending(h->r) == 0) {
      ck_assert_msg(g_hash_table_size(h->open) == 0, "got %u actions never closed",
                    g_hash_table_size(h->open));
      return;
    }
    int64_t d = dns_res_deadline(h->r);
    ck_assert_msg(d != INT64_MAX, "a pending lookup without a deadline");
    if (d > h->now)
      h->now = d;
    dns_res_tick(h->r, h->now);
  }
  ck_abort_msg("the engine never settled");
}

/* Looks QNAME/QTYPE up to completion; returns the DONE event (borrowed). */
static const dns_res_event *h_resolve(harness *h, const char *qname, uint16_t qtype) {
  g_ptr_array_set_size(h->sends, 0);
  dns_name n = dns_name_lit(qname);
  guint before = h->done->len;
  uint64_t id = dns_res_lookup(h->r, &n, qtype, h->now);
  h_pump(h);
  ck_assert_msg(h->done->len == before + 1, "got %u results want 1", h->done->len - before);
  const dns_res_event *ev = &g_array_index(h->done, dns_res_event, before);
  ck_assert_uint_eq(ev->lookup, id);
  ck_assert(dns_name_equal(&ev->qname, &n));
  return ev;
}

static void assert_sends(const harness *h, const char *const *want, size_t n) {
  GString *got = g_string_new(NULL);
  for (guint i = 0; i < h->sends->len; i++)
    g_string_append_printf(got, "%s; ", (const char *)g_ptr_array_index(h->sends, i));
  GString *exp = g_string_new(NULL);
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(exp, "%s; ", want[i]);
  ck_assert_msg(strcmp(got->str, exp->str) == 0, "sends:\n got  %s\n want %s", got->str, exp->str);
  g_string_free(got, TRUE);
  g_string_free(exp, TRUE);
}

static void assert_rrs(const GArray *a, const char *want) {
  char *got = rrs_text(a);
  ck_assert_msg(strcmp(got, want) == 0, "records:\n got  %s\n want %s", got, want);
  g_free(got);
}

#define SENDS(h, ...)                                                                              \
  do {                                                                                             \
    static const char *const w_[] = {__VA_ARGS__};                                                 \
    assert_sends(h, w_, G_N_ELEMENTS(w_));                                                         \
  } while (0)
#define NO_SENDS(h) assert_sends(h, NULL, 0)

static uint64_t count_trace(const harness *h, const char *needle) {
  uint64_t k = 0;
  for (const char *p = h->trace->str; (p = strstr(p, needle)); p++)
    k++;
  return k;
}

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

START_TEST(all_down_servfail) {
  static const struct {
    const char *down[2];
    void (*tweak)(dns_res_config *);
    int64_t elapsed;
    const char *reason;
    guint sends;
  } rows[] = {
      /* Both example.org servers: 1 s + 2 s each, then no server is left. */
      {{"10.3.0.1", "10.3.0.2"}, NULL, 6 * S + 4 * MS, "no_servers", 6},
      /* Both roots. */
      {{"10.0.0.1", "10.0.0.2"}, NULL, 6 * S, "no_servers", 4},
      /* Slower retries: the 10 s bound ends it. */
      {{"10.3.0.1", "10.3.0.2"}, three_tries, 10 * S, "timeout", 7},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    harness *h = h_new(DNS_RES_RECURSIVE, 5, rows[i].tweak);
    h->down[0] = rows[i].down[0];
    h->down[1] = rows[i].down[1];
    const dns_res_event *ev = h_resolve(h, "example.org", DNS_T_MX);
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

static char *scenario_trace(uint64_t seed) {
  harness *h = h_new(DNS_RES_RECURSIVE, seed, shuffled);
  h->down[0] = "10.1.0.1";
  h_resolve(h, "example.org", DNS_T_MX);
  h_resolve(h, "big.example.org", DNS_T_TXT);
  h_resolve(h, "alias.example.org", DNS_T_A);
  h_resolve(h, "glueless.org", DNS_T_MX);
  h_resolve(h, "nope.example.org", DNS_T_AAAA);
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
  tcase_add_test(tc, edns_fallback);
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
  tcase_add_test(tc, many_lookups_in_flight);
  tcase_add_test(tc, fuzz_mutated_replies);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
