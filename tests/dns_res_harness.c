/* dns_res_harness.c — see dns_res_harness.h. */
#include "dns_res_harness.h"

#include <check.h>
#include <string.h>

#include "dns_tcp.h"
#include "dns_zone.h"

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
    "ns1.example.org. 86400 IN AAAA 2001:db8:3::1",
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
    {"10.0.0.1", {Z_ROOT}, 1},       {"10.0.0.2", {Z_ROOT}, 1},
    {"10.1.0.1", {Z_ORG}, 1},        {"10.1.0.2", {Z_ORG}, 1},
    {"10.2.0.1", {Z_COM}, 1},        {"10.3.0.1", {Z_EXORG}, 1},
    {"10.3.0.2", {Z_EXORG}, 1},      {"10.4.0.1", {Z_EXCOM, Z_GLUELESS}, 2},
    {"2001:db8:3::1", {Z_EXORG}, 1},
};

static dns_zone *zones[Z_COUNT];

static dns_zone *zone_build(const char *origin, const char *const *rrs, size_t n) {
  dns_name o = dns_name_lit(origin);
  dns_zone *z = dns_zone_new(&o);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(dns_zone_add_text(z, rrs[i]) == DNS_OK, "%s", rrs[i]);
  return z;
}

void zones_setup(void) {
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

void zones_teardown(void) {
  for (int i = 0; i < Z_COUNT; i++) {
    dns_zone_free(zones[i]);
    zones[i] = NULL;
  }
}

/* ---- randomness -------------------------------------------------------- */

uint64_t splitmix(void *user) {
  uint64_t *st = user;
  uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* ---- the harness ------------------------------------------------------- */

static bool listed(const char *const *set, const char *addr) {
  for (int i = 0; i < 4 && set[i]; i++)
    if (strcmp(set[i], addr) == 0)
      return true;
  return false;
}

static void ev_clear_cb(gpointer p) { dns_res_event_clear(p); }

static uint64_t h_rand(void *user) { return splitmix(&((harness *)user)->seed); }

static void h_trace(void *user, const char *line) {
  g_string_append_printf(((harness *)user)->trace, "st %s\n", line);
}

harness *h_new(dns_res_mode mode, uint64_t seed, void (*tweak)(dns_res_config *)) {
  return h_new_env(mode, seed, tweak, true);
}

harness *h_new_env(dns_res_mode mode, uint64_t seed, void (*tweak)(dns_res_config *),
                   bool state_trace) {
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
  dns_res_env env = {h_rand, h, state_trace ? h_trace : NULL};
  h->r = dns_res_new(&cfg, &env);
  h->now = 1000 * S;
  h->sends = g_ptr_array_new_with_free_func(g_free);
  h->trace = g_string_new(NULL);
  h->done = g_array_new(FALSE, FALSE, sizeof(dns_res_event));
  g_array_set_clear_func(h->done, ev_clear_cb);
  h->open = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  return h;
}

void h_free(harness *h) {
  if (!h)
    return;
  dns_res_free(h->r);
  g_ptr_array_free(h->sends, TRUE);
  g_string_free(h->trace, TRUE);
  g_array_free(h->done, TRUE);
  g_hash_table_destroy(h->open);
  g_free(h);
}

char *rrs_text(const GArray *a) {
  GString *t = g_string_new(NULL);
  for (guint i = 0; a && i < a->len; i++) {
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
                           " act=%" G_GUINT64_FORMAT " %s %s %s qid=%u rcode=%u %s [%s]",
                           dns_res_ev_kind_name(ev.kind), ev.t, ev.lookup, ev.action, q,
                           dns_type_to_text(ev.qtype, tb), ev.server, ev.qid, ev.rcode,
                           ev.reason ? ev.reason : "-", rr);
    g_free(q);
    g_free(rr);
    if (ev.action) { /* the attempt's delegation and server name */
      char *z = dns_name_to_text(&ev.zone), *ns = dns_name_to_text(&ev.server_name);
      g_string_append_printf(h->trace, " zone=%s ns=%s port=%u", z, ns, ev.port);
      g_free(z);
      g_free(ns);
    }
    g_string_append_c(h->trace, '\n');
    if (ev.kind == DNS_RES_EV_DONE)
      g_array_append_val(h->done, ev);
    else
      dns_res_event_clear(&ev);
  }
}

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
  if (dns_msg_decode(&m, out->data, out->len) == DNS_OK && dns_msg_qdcount(&m) == 1) {
    dns_question *q = dns_msg_question_at(&m, 0);
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
    if (h->up_no_soa && r.sec[DNS_SEC_AUTHORITY])
      g_array_set_size(r.sec[DNS_SEC_AUTHORITY], 0);
    size_t limit = tcp ? 65535 : dns_msg_udp_limit(&q, 1232);
    uint8_t *buf = g_malloc(limit);
    dns_enc_result res;
    ck_assert(dns_msg_encode(&r, buf, limit, DNS_ENC_TRUNCATE, &res) == DNS_OK);
    g_byte_array_append(out, buf, (guint)res.len);
    if (!h->up_no_soa) { /* the direct encoder writes the same octets */
      dns_enc_result res2;
      ck_assert(dns_res_encode_response(&q, qq, ev, 1232, buf, limit, DNS_ENC_TRUNCATE, &res2) ==
                DNS_OK);
      ck_assert_uint_eq(res2.len, res.len);
      ck_assert(memcmp(buf, out->data + out->len - res.len, res.len) == 0);
    }
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
  size_t dlen = 0;
  const uint8_t *d = dns_res_action_bytes(a, &dlen);
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
void h_pump(harness *h) {
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
const dns_res_event *h_resolve(harness *h, const char *qname, uint16_t qtype) {
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

void assert_sends(const harness *h, const char *const *want, size_t n) {
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

void assert_rrs(const GArray *a, const char *want) {
  char *got = rrs_text(a);
  ck_assert_msg(strcmp(got, want) == 0, "records:\n got  %s\n want %s", got, want);
  g_free(got);
}

uint64_t count_trace(const harness *h, const char *needle) {
  uint64_t k = 0;
  for (const char *p = h->trace->str; (p = strstr(p, needle)); p++)
    k++;
  return k;
}
