/* tls_fixture.c — see tls_fixture.h. */
#include "tls_fixture.h"

#include <string.h>

void fixture_seed(uint8_t seed[TLS_RAND_SEED_LEN], uint8_t b) {
  memset(seed, b, TLS_RAND_SEED_LEN);
}

void fixture_world_init(tls_world *w, uint8_t world_seed, const tls_conn_config *ccfg,
                        const tls_conn_config *scfg, const tls_cert_validity *v) {
  uint8_t s[TLS_RAND_SEED_LEN], k[TLS_RAND_SEED_LEN];
  fixture_seed(s, world_seed);
  memset(w, 0, sizeof *w);
  tls_rand_derive(k, s, "client host");
  w->rand_c = tls_rand_new(k);
  tls_rand_derive(k, s, "server host");
  w->rand_s = tls_rand_new(k);
  tls_rand_derive(k, s, "ca");
  w->ca = tls_ca_new(tls_rand_libctx(w->rand_s), k, NULL, NULL);
  tls_rand_derive(k, s, "server cred");
  const char *names[] = {SERVER_NAME, ALT_NAME, "192.0.2.25"};
  w->cred = tls_cred_new(tls_rand_libctx(w->rand_s), w->ca, names, 3, k, v);
  g_assert(w->cred != NULL);
  tls_conn_config c, sv;
  if (ccfg != NULL) {
    c = *ccfg;
  } else {
    tls_conn_config_init(&c, TLS_CONN_CLIENT);
    c.trust = w->ca;
  }
  if (scfg != NULL) {
    sv = *scfg;
  } else {
    tls_conn_config_init(&sv, TLS_CONN_SERVER);
    sv.verify = false;
  }
  if (sv.cred == NULL)
    sv.cred = w->cred;
  char *err = NULL;
  w->cctx = tls_conn_ctx_new(w->rand_c, &c, &err);
  g_assert(w->cctx != NULL);
  w->sctx = tls_conn_ctx_new(w->rand_s, &sv, &err);
  g_assert(w->sctx != NULL);
}

void fixture_world_clear(tls_world *w) {
  tls_conn_ctx_free(w->cctx);
  tls_conn_ctx_free(w->sctx);
  tls_cred_free(w->cred);
  tls_ca_free(w->ca);
  tls_rand_free(w->rand_c);
  tls_rand_free(w->rand_s);
}

static size_t move(tls_conn *from, tls_conn *to, char dir, size_t chunk, int64_t now,
                   GByteArray *transcript) {
  size_t len;
  const uint8_t *p = tls_conn_cipher_peek(from, &len);
  if (len == 0)
    return 0;
  uint8_t *copy = g_memdup2(p, len);
  tls_conn_cipher_consume(from, len);
  if (transcript != NULL) {
    uint8_t hdr[5] = {(uint8_t)dir, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    g_byte_array_append(transcript, hdr, sizeof hdr);
    g_byte_array_append(transcript, copy, (guint)len);
  }
  size_t step = chunk == 0 ? len : chunk;
  for (size_t off = 0; off < len; off += step)
    tls_conn_feed_cipher(to, copy + off, MIN(step, len - off), now);
  g_free(copy);
  return 1;
}

size_t fixture_pump(tls_conn *cli, tls_conn *srv, size_t chunk, int64_t now,
                    GByteArray *transcript) {
  size_t n = 0;
  for (;;) {
    size_t m = move(cli, srv, 'C', chunk, now, transcript);
    m += move(srv, cli, 'S', chunk, now, transcript);
    if (m == 0)
      return n;
    n += m;
  }
}

char *fixture_events(tls_conn *c) { return fixture_events_ex(c, false); }

char *fixture_events_ex(tls_conn *c, bool resumed) {
  GString *s = g_string_new("");
  tls_conn_event ev;
  while (tls_conn_next_event(c, &ev)) {
    if (s->len > 0)
      g_string_append_c(s, '|');
    g_string_append(s, tls_conn_event_type_name(ev.type));
    if (ev.type == TLS_CONN_EV_ESTABLISHED) {
      g_string_append_printf(s, " %s %s %s verified=%d cn=%s sni=%s", ev.version, ev.cipher,
                             ev.group, ev.peer_verified, ev.peer_subject, ev.server_name);
      if (resumed)
        g_string_append_printf(s, " resumed=%d", ev.resumed);
    } else if (ev.type == TLS_CONN_EV_FAILED)
      g_string_append_printf(s, " %s", ev.reason);
  }
  return g_string_free(s, FALSE);
}

char *fixture_plain(tls_conn *c) {
  size_t len;
  const uint8_t *p = tls_conn_plain_peek(c, &len);
  char *s = g_strndup(len ? (const char *)p : "", len);
  tls_conn_plain_consume(c, len);
  return s;
}
