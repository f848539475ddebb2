/* fuzz_dns_res — libFuzzer target for the resolver engine (clang,
 * -fsanitize=fuzzer,address). The input is a script of replies: for each
 * query the engine sends, the next chunk (one mode octet, two length
 * octets, bytes) is delivered as the reply, over UDP or as TCP stream bytes
 * in two parts. Modes let the fuzzer get past matching: 0 raw, 1 with the
 * query id patched in, 2 with the id and the query's question spliced in.
 * When the script runs out, time advances to each deadline until the
 * lookups end. Properties: no crash or over-read, every lookup ends with a
 * DONE event within total_timeout, every action is closed, and the engine
 * keeps its invariants (it aborts on a broken one). Built and run briefly
 * by meson when the compiler is clang (test "dns_res_fuzz"). */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_res.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t counter(void *user) {
  uint64_t *st = user;
  *st = *st * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
  return *st >> 11;
}

typedef struct {
  const uint8_t *p;
  size_t left;
} script;

static bool next_chunk(script *s, uint8_t *mode, const uint8_t **buf, size_t *len) {
  if (s->left < 3)
    return false;
  *mode = s->p[0] % 3;
  size_t n = ((size_t)s->p[1] << 8) | s->p[2];
  s->p += 3;
  s->left -= 3;
  if (n > s->left)
    n = s->left;
  *buf = s->p;
  *len = n;
  s->p += n;
  s->left -= n;
  return true;
}

/* The reply to QUERY (unframed) built from chunk BUF per MODE, into OUT. */
static void build_reply(uint8_t mode, const uint8_t *buf, size_t len, const uint8_t *query,
                        size_t qlen, GByteArray *out) {
  g_byte_array_append(out, buf, (guint)len);
  if (mode >= 1 && out->len >= 2 && qlen >= 2)
    memcpy(out->data, query, 2);
  if (mode == 2 && out->len >= 12 && qlen > 12) {
    GByteArray *b = g_byte_array_new();
    g_byte_array_append(b, out->data, 12);
    b->data[4] = 0;
    b->data[5] = 1; /* qdcount 1 */
    size_t qend = qlen;
    if (query[11] || query[10]) /* arcount: drop the OPT, keep the question */
      qend = qlen - 11;
    g_byte_array_append(b, query + 12, (guint)(qend - 12));
    g_byte_array_append(b, out->data + 12, out->len - 12);
    g_byte_array_set_size(out, 0);
    g_byte_array_append(out, b->data, b->len);
    g_byte_array_free(b, TRUE);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const dns_res_server roots[] = {{"a.root.", "10.0.0.1", 0}, {"b.root.", "10.0.0.2", 0}};
  dns_res_config cfg;
  dns_res_config_defaults(&cfg);
  cfg.servers = roots;
  cfg.nservers = 2;
  uint64_t st = size;
  dns_res_env env = {counter, &st, NULL};
  dns_res *r = dns_res_new(&cfg, &env);
  script s = {data, size};
  int64_t now = 0;
  dns_name q1 = dns_name_lit("www.example.org"), q2 = dns_name_lit("example.org");
  dns_res_lookup(r, &q1, DNS_T_A, now);
  dns_res_lookup(r, &q2, DNS_T_MX, now);
  dns_res_lookup(r, &q1, DNS_T_A, now); /* joins the first */
  GHashTable *open = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  int done = 0;
  for (int guard = 0; guard < 10000 && dns_res_pending(r) > 0; guard++) {
    dns_res_action a;
    bool any = false;
    while (dns_res_next_action(r, &a)) {
      any = true;
      if (a.kind == DNS_RES_ACT_CLOSE) {
        if (!g_hash_table_remove(open, &a.id))
          abort();
        dns_res_action_clear(&a);
        continue;
      }
      uint64_t *k = g_new(uint64_t, 1);
      *k = a.id;
      g_hash_table_add(open, k);
      uint8_t mode;
      const uint8_t *buf;
      size_t len;
      if (next_chunk(&s, &mode, &buf, &len)) {
        size_t qlen;
        const uint8_t *q = dns_res_action_bytes(&a, &qlen);
        if (a.kind == DNS_RES_ACT_TCP) {
          q += 2;
          qlen -= 2;
        }
        GByteArray *out = g_byte_array_new();
        build_reply(mode, buf, len, q, qlen, out);
        now += 1000000;
        if (a.kind == DNS_RES_ACT_UDP) {
          dns_res_on_udp(r, a.id, a.server, a.port, out->data, out->len, now);
        } else {
          GByteArray *f = g_byte_array_new();
          uint8_t pre[2] = {(uint8_t)(out->len >> 8), (uint8_t)out->len};
          g_byte_array_append(f, pre, 2);
          g_byte_array_append(f, out->data, out->len);
          guint cut = f->len / 2;
          dns_res_on_tcp_bytes(r, a.id, f->data, cut, now);
          dns_res_on_tcp_bytes(r, a.id, f->data + cut, f->len - cut, now);
          g_byte_array_free(f, TRUE);
        }
        g_byte_array_free(out, TRUE);
      }
      dns_res_action_clear(&a);
    }
    dns_res_event ev;
    while (dns_res_next_event(r, &ev)) {
      if (ev.kind == DNS_RES_EV_DONE) {
        done++;
        if (ev.elapsed > cfg.total_timeout)
          abort();
      }
      dns_res_event_clear(&ev);
    }
    if (!any && dns_res_pending(r) > 0) {
      int64_t d = dns_res_deadline(r);
      if (d == INT64_MAX)
        abort();
      if (d > now)
        now = d;
      dns_res_tick(r, now);
    }
  }
  dns_res_event ev;
  while (dns_res_next_event(r, &ev)) {
    done += ev.kind == DNS_RES_EV_DONE;
    dns_res_event_clear(&ev);
  }
  dns_res_action a;
  while (dns_res_next_action(r, &a)) {
    if (a.kind == DNS_RES_ACT_CLOSE)
      g_hash_table_remove(open, &a.id);
    dns_res_action_clear(&a);
  }
  if (dns_res_pending(r) != 0 || done != 3 || g_hash_table_size(open) != 0)
    abort();
  g_hash_table_destroy(open);
  dns_res_free(r);
  return 0;
}
