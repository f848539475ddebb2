/* Tests for the host framework: the disk, crash fan-out, and the
 * authoritative DNS server host over the simulated UDP and TCP. */
#include <stdlib.h>
#include <string.h>

#include "dns_auth.h"
#include "dns_resp.h"
#include "dns_tcp.h"
#include "host.h"
#include "mail_trace.h"
#include "userdir.h"
#include "sim_tcp.h"
#include "sim_udp.h"
#include "testutil.h"

/* --- disk ------------------------------------------------------------ */

START_TEST(disk_capacity_and_order) {
  disk *d = disk_new(10);
  GBytes *six = g_bytes_new_static("123456", 6), *four = g_bytes_new_static("abcd", 4);
  ck_assert_int_eq(disk_put(d, "q/b", six), DISK_OK);
  ck_assert_int_eq(disk_put(d, "q/a", four), DISK_OK);
  ck_assert_uint_eq(disk_used(d), 10);
  ck_assert_int_eq(disk_put(d, "q/c", four), DISK_FULL); /* would exceed: nothing changes */
  ck_assert_ptr_null(disk_get(d, "q/c"));
  ck_assert_uint_eq(disk_used(d), 10);
  ck_assert_int_eq(disk_put(d, "q/b", four), DISK_OK); /* replacing with less is fine */
  ck_assert_uint_eq(disk_used(d), 8);
  GPtrArray *keys = disk_list(d, "q/");
  ck_assert_uint_eq(keys->len, 2);
  ck_assert_str_eq(keys->pdata[0], "q/a");
  ck_assert_str_eq(keys->pdata[1], "q/b");
  g_ptr_array_unref(keys);
  disk_set_full(d, true);
  ck_assert_int_eq(disk_put(d, "x", four), DISK_FULL);
  ck_assert(disk_remove(d, "q/a"));
  ck_assert(!disk_remove(d, "q/a"));
  disk_set_full(d, false);
  ck_assert_int_eq(disk_put(d, "x", four), DISK_OK);
  g_bytes_unref(six);
  g_bytes_unref(four);
  disk_free(d);
}
END_TEST

/* A blob is a copy: the caller's buffer may change or go; disk_get and
 * disk_peek give the stored octets until the blob is replaced. */
START_TEST(disk_copies_and_peeks) {
  disk *d = disk_new(0);
  char buf[8] = "record1";
  ck_assert_int_eq(disk_put_data(d, "mta/q/1", buf, 7), DISK_OK);
  buf[6] = '9'; /* the caller's copy changes: the disk's does not */
  size_t len = 0;
  const uint8_t *p = disk_peek(d, "mta/q/1", &len);
  ck_assert_uint_eq(len, 7);
  ck_assert_int_eq(memcmp(p, "record1", 7), 0);
  GBytes *b = disk_get(d, "mta/q/1");
  ck_assert_ptr_eq(g_bytes_get_data(b, NULL), p);
  ck_assert_ptr_eq(disk_get(d, "mta/q/1"), b); /* one view per blob */
  GBytes *big = g_bytes_new("a longer record", 15);
  ck_assert_int_eq(disk_put(d, "mta/q/1", big), DISK_OK);
  g_bytes_unref(big); /* the disk kept a copy, not this reference */
  p = disk_peek(d, "mta/q/1", &len);
  ck_assert_uint_eq(len, 15);
  ck_assert_int_eq(memcmp(p, "a longer record", 15), 0);
  b = disk_get(d, "mta/q/1"); /* the replaced blob's view went with it */
  ck_assert_uint_eq(g_bytes_get_size(b), 15);
  ck_assert_ptr_eq(g_bytes_get_data(b, NULL), p);
  ck_assert_uint_eq(disk_used(d), 15);
  ck_assert_int_eq(disk_put_data(d, "mta/q/0", "", 0), DISK_OK); /* empty blob */
  ck_assert_ptr_nonnull(disk_peek(d, "mta/q/0", &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_ptr_null(disk_peek(d, "mta/q/2", &len));
  GPtrArray *keys = disk_list(d, "mta/q/");
  ck_assert_uint_eq(keys->len, 2);
  ck_assert_str_eq(keys->pdata[0], "mta/q/0");
  ck_assert_str_eq(keys->pdata[1], "mta/q/1");
  g_ptr_array_unref(keys);
  ck_assert(disk_remove(d, "mta/q/1"));
  ck_assert_uint_eq(disk_used(d), 0);
  disk_free(d);
}
END_TEST

/* A blob written again at its size is written over in place (its octets
 * where they were); one with a view from disk_get is replaced as before
 * (the view goes with it), and a rewrite from pieces of the blob itself,
 * moved, reads them before it writes. */
START_TEST(disk_same_size_rewrite) {
  disk *d = disk_new(0);
  ck_assert_int_eq(disk_put_data(d, "mta/seq", "AAAAAAAA", 8), DISK_OK);
  size_t len = 0;
  const uint8_t *p = disk_peek(d, "mta/seq", &len);
  ck_assert_int_eq(disk_put_data(d, "mta/seq", "BBBBBBBB", 8), DISK_OK);
  const uint8_t *q = disk_peek(d, "mta/seq", &len);
  ck_assert_ptr_eq(q, p); /* in place */
  ck_assert_uint_eq(len, 8);
  ck_assert_int_eq(memcmp(q, "BBBBBBBB", 8), 0);
  ck_assert_uint_eq(disk_used(d), 8);
  ck_assert_ptr_nonnull(disk_get(d, "mta/seq")); /* a view: the blob is replaced */
  ck_assert_int_eq(disk_put_data(d, "mta/seq", "CCCCCCCC", 8), DISK_OK);
  GBytes *v = disk_get(d, "mta/seq");
  gsize vl = 0;
  const char *vd = g_bytes_get_data(v, &vl);
  ck_assert_uint_eq(vl, 8);
  ck_assert_int_eq(memcmp(vd, "CCCCCCCC", 8), 0);
  ck_assert_int_eq(memcmp(disk_peek(d, "mta/seq", &len), "CCCCCCCC", 8), 0);
  /* "head|tail" rewritten as "tail|head" from the blob's own octets */
  ck_assert_int_eq(disk_put_data(d, "m", "headtail", 8), DISK_OK);
  p = disk_peek(d, "m", &len);
  disk_part parts[] = {{p + 4, 4}, {p, 4}};
  ck_assert_int_eq(disk_put_parts(d, "m", parts, 2), DISK_OK);
  q = disk_peek(d, "m", &len);
  ck_assert_int_eq(memcmp(q, "tailhead", 8), 0);
  ck_assert_uint_eq(disk_used(d), 16);
  disk_set_full(d, true); /* the same size never needs room */
  ck_assert_int_eq(disk_put_data(d, "m", "12345678", 8), DISK_OK);
  ck_assert_int_eq(memcmp(disk_peek(d, "m", &len), "12345678", 8), 0);
  disk_free(d);
}
END_TEST

/* A blob written from pieces is their concatenation, whatever their
 * sizes (empty ones included), checked against disk_put_data of the whole
 * at every split of a message into three; a full disk refuses it whole. */
START_TEST(disk_put_parts_concatenates) {
  static const char msg[] = "Received: by x\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n";
  size_t n = sizeof msg - 1;
  disk *d = disk_new(0);
  for (size_t i = 0; i <= n; i++)
    for (size_t j = i; j <= n; j++) {
      disk_part parts[] = {{msg, i}, {NULL, 0}, {msg + i, j - i}, {msg + j, n - j}};
      ck_assert_int_eq(disk_put_parts(d, "mta/body/b1", parts, G_N_ELEMENTS(parts)), DISK_OK);
      size_t len = 0;
      const uint8_t *p = disk_peek(d, "mta/body/b1", &len);
      ck_assert_msg(len == n && memcmp(p, msg, n) == 0, "split %zu/%zu: got %zu octets want %zu",
                    i, j, len, n);
      ck_assert_uint_eq(disk_used(d), n);
    }
  disk_set_full(d, true);
  disk_part more[] = {{msg, n}, {"x", 1}};
  ck_assert_int_eq(disk_put_parts(d, "mta/body/b1", more, 2), DISK_FULL);
  size_t len = 0;
  ck_assert_ptr_nonnull(disk_peek(d, "mta/body/b1", &len));
  ck_assert_uint_eq(len, n); /* unchanged */
  disk_free(d);
}
END_TEST

/* Listing is in key order (strcmp) whatever the order of writes, removals
 * and rewrites, and only the prefix's keys. */
START_TEST(disk_list_sorted) {
  static const struct {
    const char *prefix;
    const char *want; /* the listing, space-separated */
  } cases[] = {
      {"mta/q/", "mta/q/0000000000000001 mta/q/0000000000000009 mta/q/000000000000000a "
                 "mta/q/0000000000000010 mta/q/00000000000000ff"},
      {"mta/b", "mta/body/0000000000000002 mta/body/0000000000000003"},
      {"mta/", "mta/body/0000000000000002 mta/body/0000000000000003 mta/q/0000000000000001 "
               "mta/q/0000000000000009 mta/q/000000000000000a mta/q/0000000000000010 "
               "mta/q/00000000000000ff mta/seq"},
      {"", "a mta/body/0000000000000002 mta/body/0000000000000003 mta/q/0000000000000001 "
           "mta/q/0000000000000009 mta/q/000000000000000a mta/q/0000000000000010 "
           "mta/q/00000000000000ff mta/seq"},
      {"none/", ""},
  };
  disk *d = disk_new(0);
  const char *writes[] = {"mta/q/0000000000000010", "mta/seq", "mta/q/0000000000000009",
                          "mta/body/0000000000000003", "mta/q/00000000000000ff", "a",
                          "mta/q/0000000000000002", "mta/q/0000000000000001",
                          "mta/body/0000000000000002", "mta/q/000000000000000a",
                          "mta/q/0000000000000009" /* a rewrite */};
  for (size_t i = 0; i < G_N_ELEMENTS(writes); i++)
    ck_assert_int_eq(disk_put_data(d, writes[i], "xyz", 1 + i % 3), DISK_OK);
  ck_assert(disk_remove(d, "mta/q/0000000000000002"));
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    GPtrArray *keys = disk_list(d, cases[i].prefix);
    GString *got = g_string_new(NULL);
    for (guint k = 0; k < keys->len; k++)
      g_string_append_printf(got, "%s%s", k ? " " : "", (const char *)keys->pdata[k]);
    ck_assert_msg(strcmp(got->str, cases[i].want) == 0, "prefix '%s': got '%s' want '%s'",
                  cases[i].prefix, got->str, cases[i].want);
    g_string_free(got, TRUE);
    g_ptr_array_unref(keys);
  }
  disk_free(d);
}
END_TEST

/* --- user directory and msg.* records ---------------------------------- */

/* Many blobs written, replaced and removed in a seeded order (the set
 * grows, and removals shift entries back within their probe runs): every
 * key reads what a plain table says it holds, absent ones read NULL, the
 * listing is that table's keys sorted and the used count their sizes. */
START_TEST(disk_many_keys_against_a_table) {
  disk *d = disk_new(0);
  GHashTable *want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GRand *r = g_rand_new_with_seed(7);
  for (int step = 0; step < 6000; step++) {
    char key[32];
    g_snprintf(key, sizeof key, "mta/q/%x", g_rand_int_range(r, 0, 900));
    if (g_rand_int_range(r, 0, 3) == 0) {
      ck_assert_int_eq(disk_remove(d, key), g_hash_table_remove(want, key));
    } else {
      char *val = g_strdup_printf("%d:%s", step, key);
      ck_assert_int_eq(disk_put_data(d, key, val, strlen(val)), DISK_OK);
      g_hash_table_insert(want, g_strdup(key), val);
    }
  }
  uint64_t used = 0;
  for (int k = 0; k < 900; k++) {
    char key[32];
    g_snprintf(key, sizeof key, "mta/q/%x", k);
    const char *v = g_hash_table_lookup(want, key);
    size_t len = 0;
    const uint8_t *got = disk_peek(d, key, &len);
    if (!v) {
      ck_assert_ptr_null(got);
      continue;
    }
    ck_assert_msg(got && len == strlen(v) && memcmp(got, v, len) == 0, "%s: got %.*s want %s", key,
                  got ? (int)len : 0, got ? (const char *)got : "", v);
    used += len;
  }
  ck_assert_uint_eq(disk_used(d), used);
  GPtrArray *keys = disk_list(d, "mta/q/");
  ck_assert_uint_eq(keys->len, g_hash_table_size(want));
  for (guint i = 0; i + 1 < keys->len; i++)
    ck_assert_int_lt(strcmp(keys->pdata[i], keys->pdata[i + 1]), 0);
  g_ptr_array_unref(keys);
  g_rand_free(r);
  g_hash_table_destroy(want);
  disk_free(d);
}
END_TEST

START_TEST(userdir_lookups) {
  userdir *d = userdir_new();
  ck_assert(userdir_add(d, "Bob@Example.org", "pw", "mail.example.org"));
  ck_assert(!userdir_add(d, "Bob@EXAMPLE.ORG", "x", NULL)); /* same address */
  ck_assert(userdir_add(d, "bob@example.org", "other", NULL)); /* local parts are exact */
  ck_assert(userdir_check(d, "Bob@example.ORG", "pw"));
  ck_assert(!userdir_check(d, "Bob@example.org", "PW"));
  ck_assert(!userdir_check(d, "nobody@example.org", "pw"));
  ck_assert(!userdir_check(d, "Bob@example.org", NULL));
  const userdir_user *u = userdir_find(d, "Bob@example.org");
  ck_assert_str_eq(u->mailbox, "mail.example.org");
  GPtrArray *on = userdir_on_host(d, "mail.example.org");
  ck_assert_uint_eq(on->len, 1);
  g_ptr_array_unref(on);
  /* Keys longer than the lookup's stack buffer, and without '@'. */
  GString *lng = g_string_new(NULL);
  for (int i = 0; i < 40; i++)
    g_string_append(lng, "Ab.c");
  g_string_append(lng, "@Long.EXAMPLE");
  ck_assert(userdir_add(d, lng->str, "pw2", "long.example"));
  g_string_truncate(lng, lng->len - 12);
  g_string_append(lng, "long.example");
  ck_assert(userdir_check(d, lng->str, "pw2"));
  g_string_ascii_down(lng);
  ck_assert(!userdir_check(d, lng->str, "pw2")); /* the local part is exact */
  g_string_free(lng, TRUE);
  /* The domain is after the last '@'; only A-Z change ('@', '[' and '`'
   * sit next to them). */
  ck_assert(userdir_add(d, "X@y@AZ[`.Org", "pw3", NULL));
  ck_assert(userdir_check(d, "X@y@az[`.org", "pw3"));
  ck_assert(!userdir_check(d, "X@Y@az[`.org", "pw3"));
  ck_assert(!userdir_check(d, "X@y@az{@.org", "pw3"));
  ck_assert(userdir_add(d, "postmaster", "pm", NULL));
  ck_assert(userdir_check(d, "postmaster", "pm"));
  ck_assert(!userdir_check(d, "Postmaster", "pm"));
  userdir_free(d);
}
END_TEST

/* Addresses of every length from 1 to 40 octets (the key's hash reads
 * words, halves or octets by length), with and without a domain: each is
 * found as given and with its domain's case changed, and not with any one
 * octet changed (or one octet more or less). */
START_TEST(userdir_every_length) {
  userdir *d = userdir_new();
  char a[48], b[48];
  for (size_t n = 1; n <= 40; n++)
    for (int dom = 0; dom < 2; dom++) {
      for (size_t i = 0; i < n; i++)
        a[i] = (char)('a' + (i * 7 + n + (size_t)dom) % 26);
      if (dom && n >= 3)
        a[n / 2] = '@';
      a[n] = 0;
      ck_assert_msg(userdir_add(d, a, a, NULL), "%s", a);
    }
  for (size_t n = 1; n <= 40; n++)
    for (int dom = 0; dom < 2; dom++) {
      for (size_t i = 0; i < n; i++)
        a[i] = (char)('a' + (i * 7 + n + (size_t)dom) % 26);
      if (dom && n >= 3)
        a[n / 2] = '@';
      a[n] = 0;
      const userdir_user *u = userdir_find(d, a);
      ck_assert_msg(u && strcmp(u->password, a) == 0, "%s not found", a);
      memcpy(b, a, n + 1);
      if (dom && n >= 3)
        for (size_t i = n / 2 + 1; i < n; i++)
          b[i] = (char)g_ascii_toupper(b[i]);
      u = userdir_find(d, b);
      ck_assert_msg(u && strcmp(u->password, a) == 0, "%s not found as %s", a, b);
      for (size_t at = 0; at < n; at++) {
        memcpy(b, a, n + 1);
        b[at] = b[at] == '@' ? '#' : '0';
        u = userdir_find(d, b);
        ck_assert_msg(!u || strcmp(u->address, b) == 0, "%s found as %s", b, u ? u->address : "");
      }
      memcpy(b, a, n + 1);
      b[n - 1] = 0;
      u = userdir_find(d, b);
      ck_assert_msg(!u || strlen(u->address) == n - 1, "%s found as a shorter one", a);
    }
  /* one upper-case letter at every place of domains of 1..30 octets */
  for (size_t n = 1; n <= 30; n++) {
    g_snprintf(a, sizeof a, "u%zu@", n);
    size_t l = strlen(a);
    for (size_t i = 0; i < n; i++)
      a[l + i] = (char)('a' + (i * 5 + n) % 26);
    a[l + n] = 0;
    ck_assert(userdir_add(d, a, a, NULL));
    for (size_t at = 0; at < n; at++) {
      memcpy(b, a, l + n + 1);
      b[l + at] = (char)g_ascii_toupper(b[l + at]);
      const userdir_user *u = userdir_find(d, b);
      ck_assert_msg(u && strcmp(u->address, a) == 0, "%s not found as %s", a, b);
    }
  }
  userdir_free(d);
}
END_TEST

START_TEST(msg_records) {
  sim_world *w = sim_world_new(1);
  trace_writer *tw = trace_writer_new_memory();
  sim_world_set_trace(w, tw, SIM_DETAIL_MESSAGES);
  host *h = host_new(w, "mx", "mta", false);
  const char *r[] = {"bob@example.org", "carol@example.org"};
  mail_trace_relay(h, "relay", "m1.abc@example.com", 7, "Q1", (mail_rcpts){r, 2}, true, 2);
  mail_trace_defer(h, "m1.abc@example.com", "Q1", "bob@example.org", "450 4.2.0 greylisted",
                   300 * SIM_S);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"t\":0,\"id\":1,\"ev\":\"msg.relay\",\"from\":\"relay\",\"to\":\"mx\","
                   "\"msg\":\"m1.abc@example.com\",\"conn\":7,\"queue_id\":\"Q1\",\"rcpts\":"
                   "[\"bob@example.org\",\"carol@example.org\"],\"tls\":true,\"hop\":2}\n"
                   "{\"t\":0,\"id\":2,\"ev\":\"msg.defer\",\"node\":\"mx\",\"msg\":"
                   "\"m1.abc@example.com\",\"queue_id\":\"Q1\",\"rcpt\":\"bob@example.org\","
                   "\"reason\":\"450 4.2.0 greylisted\",\"next_try\":300000000000}\n");
  sim_world_free(w);
  host_free(h);
  trace_writer_free(tw);
}
END_TEST

/* --- a small world: client - server, with a zone ----------------------- */

typedef struct {
  sim_world *w;
  trace_writer *tw;
  host *client, *server;
  dns_zone *zone;
  dns_auth *auth;
  sim_addr server_addr;
} world;

static void world_init(world *x) {
  x->w = sim_world_new(7);
  x->tw = trace_writer_new_memory();
  sim_world_set_trace(x->w, x->tw, SIM_DETAIL_PROTOCOL);
  x->client = host_new(x->w, "client", "resolver", false);
  x->server = host_new(x->w, "ns1", "dns", false);
  sim_addr a;
  sim_addr_parse("10.0.0.1", &a);
  sim_node_add_addr(host_node(x->client), &a);
  sim_addr_parse("10.0.0.53", &x->server_addr);
  sim_node_add_addr(host_node(x->server), &x->server_addr);
  sim_link_params p = {.latency = 5 * SIM_MS, .bandwidth_bps = 10000000};
  sim_net_add_link(sim_world_net(x->w), host_node(x->client), host_node(x->server), &p);
  dns_name origin = dns_name_lit("example.org.");
  x->zone = dns_zone_new(&origin);
  const char *rrs[] = {
      "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 300",
      "example.org. 3600 IN NS ns1.example.org.",
      "ns1.example.org. 3600 IN A 10.0.0.53",
      "example.org. 300 IN MX 10 mx.example.org.",
      "mx.example.org. 300 IN A 10.0.0.25",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rrs); i++)
    ck_assert_int_eq(dns_zone_add_text(x->zone, rrs[i]), DNS_OK);
  dns_zone_cfg cfg = {.edns_size = 1232};
  x->auth = dns_auth_new(x->server, &x->zone, 1, &cfg);
}

static void world_clear(world *x) {
  sim_world_free(x->w);
  dns_auth_free(x->auth);
  dns_zone_free(x->zone);
  host_free(x->client);
  host_free(x->server);
  trace_writer_free(x->tw);
}

typedef struct {
  world *x;
  sim_udp_sock *sock;
  int replies;
  dns_msg last;
} udp_client;

static void uc_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t port,
                    const uint8_t *buf, size_t len) {
  (void)s, (void)from, (void)port;
  udp_client *u = user;
  dns_msg_clear(&u->last);
  dns_msg_init(&u->last);
  ck_assert_int_eq(dns_msg_decode(&u->last, buf, len), DNS_OK);
  u->replies++;
}
static const sim_udp_callbacks uc_cb = {uc_recv, NULL};

static void uc_query(void *a, void *b) {
  udp_client *u = a;
  (void)b;
  dns_msg q;
  dns_name n = dns_name_lit("example.org.");
  dns_resp_make_query(&q, 4242, &n, 15 /* MX */, false, 1232);
  uint8_t buf[512];
  size_t len = 0;
  dns_enc_result r;
  ck_assert_int_eq(dns_msg_encode(&q, buf, sizeof buf, 0, &r), DNS_OK);
  len = r.len;
  sim_udp_send(u->sock, &u->x->server_addr, 53, buf, len);
  dns_msg_clear(&q);
}

START_TEST(auth_udp_answers_and_traces) {
  world x;
  world_init(&x);
  udp_client u = {.x = &x};
  dns_msg_init(&u.last);
  u.sock = sim_udp_bind(host_node(x.client), 0, &uc_cb, &u);
  sim_world_at(x.w, SIM_S, uc_query, &u, NULL);
  sim_world_run(x.w, 10 * SIM_S);
  ck_assert_int_eq(u.replies, 1);
  ck_assert(u.last.aa);
  ck_assert_uint_eq(u.last.id, 4242);
  ck_assert_uint_eq(dns_msg_count(&u.last, DNS_SEC_ANSWER), 1);
  ck_assert_uint_eq(dns_msg_rr(&u.last, DNS_SEC_ANSWER, 0)->rd.mx.pref, 10);
  ck_assert_uint_eq(dns_auth_answered(x.auth), 1);
  const char *t = trace_writer_peek_memory(x.tw)->str;
  ck_assert_msg(strstr(t, "\"ev\":\"dns.query\",\"conn\":0,\"from\":\"client\",\"to\":\"ns1\","
                          "\"sent\":1000000000,\"proto\":\"udp\",\"qid\":4242,"
                          "\"qname\":\"example.org.\",\"qtype\":\"MX\"") != NULL,
                "trace: %s", t);
  dns_msg_clear(&u.last);
  world_clear(&x);
}
END_TEST

START_TEST(auth_restarts_after_crash) {
  world x;
  world_init(&x);
  udp_client u = {.x = &x};
  dns_msg_init(&u.last);
  u.sock = sim_udp_bind(host_node(x.client), 0, &uc_cb, &u);
  sim_node_crash_at(host_node(x.server), SIM_S / 2);
  sim_world_at(x.w, SIM_S, uc_query, &u, NULL); /* lost: the server is down */
  sim_node_restart_at(host_node(x.server), 2 * SIM_S);
  sim_world_at(x.w, 3 * SIM_S, uc_query, &u, NULL); /* answered again */
  sim_world_run(x.w, 10 * SIM_S);
  ck_assert_int_eq(u.replies, 1);
  ck_assert_uint_eq(dns_auth_answered(x.auth), 1);
  dns_msg_clear(&u.last);
  world_clear(&x);
}
END_TEST

typedef struct {
  world *x;
  sim_tcp_conn *conn;
  dns_tcp *deframer;
  int replies;
} tcp_client;

static void tc_connected(void *user, sim_tcp_conn *c) {
  (void)user;
  /* Two queries in one write: the server must answer both. */
  GByteArray *out = g_byte_array_new();
  for (uint16_t id = 1; id <= 2; id++) {
    dns_msg q;
    dns_name n = dns_name_lit(id == 1 ? "mx.example.org." : "nothere.example.org.");
    dns_resp_make_query(&q, id, &n, 1 /* A */, false, 0);
    uint8_t buf[512];
    dns_enc_result r;
    ck_assert_int_eq(dns_msg_encode(&q, buf, sizeof buf, 0, &r), DNS_OK);
    dns_tcp_frame(buf, r.len, out);
    dns_msg_clear(&q);
  }
  sim_tcp_send(c, out->data, out->len);
  g_byte_array_unref(out);
}
static void tc_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  tcp_client *tc = user;
  /* Byte by byte: the deframer must not care. */
  for (size_t i = 0; i < len; i++)
    dns_tcp_feed(tc->deframer, buf + i, 1);
  GBytes *m;
  while ((m = dns_tcp_next(tc->deframer)) != NULL) {
    dns_msg r;
    dns_msg_init(&r);
    gsize n;
    const uint8_t *p = g_bytes_get_data(m, &n);
    ck_assert_int_eq(dns_msg_decode(&r, p, n), DNS_OK);
    ck_assert_uint_eq(r.rcode, r.id == 1 ? 0 : 3 /* NXDOMAIN */);
    tc->replies++;
    dns_msg_clear(&r);
    g_bytes_unref(m);
  }
  if (tc->replies == 2)
    sim_tcp_close(c);
}
static void tc_eof(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void tc_drained(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void tc_closed(void *u, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)u, (void)c;
  ck_assert_int_eq(why, SIM_TCP_CLOSED_NORMAL);
}
static const sim_tcp_callbacks tc_cb = {tc_connected, tc_data, tc_eof, tc_drained, tc_closed};

START_TEST(auth_tcp_several_queries) {
  world x;
  world_init(&x);
  tcp_client tc = {.x = &x, .deframer = dns_tcp_new()};
  tc.conn = sim_tcp_connect(host_node(x.client), &x.server_addr, 53, NULL, &tc_cb, &tc);
  sim_world_run(x.w, 10 * SIM_S);
  ck_assert_int_eq(tc.replies, 2);
  ck_assert_uint_eq(dns_auth_answered(x.auth), 2);
  const char *t = trace_writer_peek_memory(x.tw)->str;
  ck_assert_ptr_nonnull(strstr(t, "\"qname\":\"nothere.example.org.\""));
  ck_assert_ptr_nonnull(strstr(t, "\"proto\":\"tcp\""));
  dns_tcp_free(tc.deframer);
  world_clear(&x);
}
END_TEST

int main(void) {
  Suite *s = suite_create("hosts_base");
  TCase *tc = tcase_create("disk");
  tcase_add_test(tc, disk_capacity_and_order);
  tcase_add_test(tc, disk_copies_and_peeks);
  tcase_add_test(tc, disk_list_sorted);
  tcase_add_test(tc, disk_put_parts_concatenates);
  tcase_add_test(tc, disk_same_size_rewrite);
  tcase_add_test(tc, disk_many_keys_against_a_table);
  suite_add_tcase(s, tc);
  tc = tcase_create("mail");
  tcase_add_test(tc, userdir_lookups);
  tcase_add_test(tc, userdir_every_length);
  tcase_add_test(tc, msg_records);
  suite_add_tcase(s, tc);
  tc = tcase_create("dns_auth");
  tcase_add_test(tc, auth_udp_answers_and_traces);
  tcase_add_test(tc, auth_restarts_after_crash);
  tcase_add_test(tc, auth_tcp_several_queries);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
