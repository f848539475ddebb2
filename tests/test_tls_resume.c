/* Tests for TLS session resumption in protocols/tls (RFC 8446 §2.2, §4.6.1):
 * a server with tickets issues one, the client's hook receives it, a new
 * connection offering it resumes (no certificate, psk_dhe_ke), the bytes
 * are the same on every run whatever the wall clock says, the age checks
 * use simulated time, and a ticket the server cannot read falls back to a
 * full handshake. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tls_fixture.h"

#define SEC INT64_C(1000000000)

typedef struct {
  tls_session *last;
  int count;
} jar;

static void keep(void *ctx, tls_session *s) {
  jar *j = ctx;
  tls_session_free(j->last);
  j->last = s;
  j->count++;
}

static tls_conn_ctx *other_ctx; /* shared worlds: a third host's context */
static uint64_t drawn_c, drawn_s;  /* base-stream draws of the last own-context world */

/* The fixture's world with both hosts' tls_rand and contexts made again,
 * tickets on. LIB: the hosts' tls_rand share LIB's library context
 * (tls_rand_new_shared), the server's context is made first and a third
 * host draws from the shared context in between; NULL: a context each. */
static void ticket_world_in(tls_world *w, uint8_t seed, tls_rand *lib) {
  fixture_world_init(w, seed, NULL, NULL, NULL);
  tls_conn_ctx_free(w->cctx);
  tls_conn_ctx_free(w->sctx);
  tls_rand_free(w->rand_c);
  tls_rand_free(w->rand_s);
  uint8_t s[TLS_RAND_SEED_LEN], kc[TLS_RAND_SEED_LEN], ks[TLS_RAND_SEED_LEN];
  fixture_seed(s, seed);
  tls_rand_derive(kc, s, "client host"); /* as fixture_world_init */
  tls_rand_derive(ks, s, "server host");
  w->rand_c = lib ? tls_rand_new_shared(lib, kc) : tls_rand_new(kc);
  w->rand_s = lib ? tls_rand_new_shared(lib, ks) : tls_rand_new(ks);
  tls_conn_config cc, sc;
  tls_conn_config_init(&cc, TLS_CONN_CLIENT);
  cc.trust = w->ca;
  tls_conn_config_init(&sc, TLS_CONN_SERVER);
  sc.cred = w->cred;
  sc.verify = false;
  cc.tickets = sc.tickets = true;
  if (lib) {
    w->sctx = tls_conn_ctx_new(w->rand_s, &sc, NULL);
    other_ctx = tls_conn_ctx_new(lib, &sc, NULL);
    w->cctx = tls_conn_ctx_new(w->rand_c, &cc, NULL);
  } else {
    w->cctx = tls_conn_ctx_new(w->rand_c, &cc, NULL);
    w->sctx = tls_conn_ctx_new(w->rand_s, &sc, NULL);
  }
  ck_assert(w->cctx != NULL && w->sctx != NULL);
}

static void ticket_world(tls_world *w, uint8_t seed) { ticket_world_in(w, seed, NULL); }

static bool same_bytes(const GByteArray *a, const GByteArray *b) {
  return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* fixture_events plus "resumed=0|1". */
static char *events(tls_conn *c) { return fixture_events_ex(c, true); }

/* One connection at NOW offering SESS (may be NULL): handshake, one line
 * each way (the client reads the server's ticket with it), close. Returns
 * the transcript; *CEV and *SEV get the events; tickets land in J. */
static GByteArray *connect_once(tls_world *w, const tls_session *sess, uint8_t kseed, int64_t now,
                                size_t chunk, jar *j, char **cev, char **sev) {
  uint8_t k[32];
  fixture_seed(k, kseed);
  tls_conn_env env = {.new_session = keep, .session_ctx = j};
  tls_conn *cli = tls_conn_new_resume(w->cctx, SERVER_NAME, sess, k, &env, now);
  fixture_seed(k, (uint8_t)(kseed + 1));
  tls_conn *srv = tls_conn_new(w->sctx, NULL, k, NULL, now);
  GByteArray *t = g_byte_array_new();
  ck_assert(tls_conn_write_plain(cli, "EHLO a\r\n", 8, now));
  fixture_pump(cli, srv, chunk, now, t);
  ck_assert(tls_conn_write_plain(srv, "250 b\r\n", 7, now));
  fixture_pump(cli, srv, chunk, now, t);
  char *cp = fixture_plain(cli), *sp = fixture_plain(srv);
  ck_assert_str_eq(cp, "250 b\r\n");
  ck_assert_str_eq(sp, "EHLO a\r\n");
  g_free(cp);
  g_free(sp);
  *cev = events(cli);
  *sev = events(srv);
  tls_conn_free(cli);
  tls_conn_free(srv);
  return t;
}

START_TEST(resume_basic) {
  tls_world w;
  ticket_world(&w, 1);
  jar j = {0};
  char *cev, *sev;
  GByteArray *full = connect_once(&w, NULL, 10, 5 * SEC, 0, &j, &cev, &sev);
  ck_assert_str_eq(cev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 "
                        "cn=mx.example sni=mx.example resumed=0");
  ck_assert_str_eq(sev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=0 cn= "
                        "sni=mx.example resumed=0");
  g_free(cev);
  g_free(sev);
  ck_assert_int_eq(j.count, 1); /* one ticket per handshake */
  ck_assert_ptr_nonnull(j.last);
  ck_assert_int_eq(tls_session_received(j.last), 5 * SEC);
  ck_assert_int_eq(tls_session_lifetime(j.last), 3600 * SEC);
  tls_session *first = j.last;
  j.last = NULL;
  GByteArray *res = connect_once(&w, first, 20, 65 * SEC, 0, &j, &cev, &sev);
  /* the peer certificate and its verification come from the session */
  ck_assert_str_eq(cev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 "
                        "cn=mx.example sni=mx.example resumed=1");
  ck_assert_str_eq(sev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=0 cn= "
                        "sni=mx.example resumed=1");
  g_free(cev);
  g_free(sev);
  ck_assert_int_eq(j.count, 2); /* a resumed handshake issues a fresh ticket */
  /* no Certificate, no CertificateVerify: far fewer bytes */
  ck_assert_msg(res->len < full->len, "got %u bytes resumed, %u full", res->len, full->len);
  /* the same session again, later: still resumable (tickets are reusable) */
  GByteArray *again = connect_once(&w, first, 20, 65 * SEC, 0, &j, &cev, &sev);
  ck_assert_msg(g_str_has_suffix(cev, "resumed=1"), "got %s / %s", cev, sev);
  ck_assert_msg(same_bytes(res, again), "same seed, same session, same time: bytes differ");
  g_free(cev);
  g_free(sev);
  tls_session_free(first);
  tls_session_free(j.last);
  tls_session_free(NULL);
  g_byte_array_unref(full);
  g_byte_array_unref(res);
  g_byte_array_unref(again);
  fixture_world_clear(&w);
}
END_TEST

/* A whole world (full handshake, then resumption 30 s later), transcripts
 * concatenated; LIB as ticket_world_in. */
static GByteArray *world_run_in(uint8_t seed, size_t chunk, int64_t age, tls_rand *lib) {
  tls_world w;
  ticket_world_in(&w, seed, lib);
  jar j = {0};
  char *cev, *sev;
  GByteArray *t = connect_once(&w, NULL, 10, 1 * SEC, chunk, &j, &cev, &sev);
  g_free(cev);
  g_free(sev);
  ck_assert_ptr_nonnull(j.last);
  tls_session *s = j.last;
  j.last = NULL;
  GByteArray *r = connect_once(&w, s, 30, 1 * SEC + age, chunk, &j, &cev, &sev);
  ck_assert_msg(g_str_has_suffix(cev, "resumed=1"), "got %s", cev);
  g_byte_array_append(t, r->data, r->len);
  g_free(cev);
  g_free(sev);
  g_byte_array_unref(r);
  tls_session_free(s);
  tls_session_free(j.last);
  if (lib) {
    /* each host drew its ticket keys from its own base stream only */
    ck_assert_uint_eq(tls_rand_base_drawn(w.rand_c), drawn_c);
    ck_assert_uint_eq(tls_rand_base_drawn(w.rand_s), drawn_s);
    tls_conn_ctx_free(other_ctx);
    other_ctx = NULL;
  } else {
    drawn_c = tls_rand_base_drawn(w.rand_c);
    drawn_s = tls_rand_base_drawn(w.rand_s);
    ck_assert_uint_gt(drawn_s, 0);
  }
  fixture_world_clear(&w);
  return t;
}

static GByteArray *world_run(uint8_t seed, size_t chunk, int64_t age) {
  return world_run_in(seed, chunk, age, NULL);
}

/* Hosts sharing one library context (tls_rand_new_shared), their contexts
 * made in another order with a third host drawing in between, write the
 * same bytes as hosts with a context each: full handshake, ticket and
 * resumption. */
START_TEST(resume_shared_context) {
  GByteArray *own = world_run(4, 0, 30 * SEC);
  uint8_t k[TLS_RAND_SEED_LEN];
  fixture_seed(k, 99);
  tls_rand *lib = tls_rand_new(k);
  GByteArray *shared = world_run_in(4, 0, 30 * SEC, lib);
  ck_assert_msg(same_bytes(own, shared), "shared context: %u vs %u bytes", shared->len, own->len);
  ck_assert_uint_gt(tls_rand_base_drawn(lib), 0); /* the third host's keys */
  tls_rand_free(lib);
  g_byte_array_unref(own);
  g_byte_array_unref(shared);
}
END_TEST

/* The ticket (its session time), the client's obfuscated age and so every
 * later byte depend on simulated time only: the same world run on either
 * side of a wall-clock second gives the same bytes; another simulated age
 * gives other bytes. */
START_TEST(resume_deterministic) {
  GByteArray *a = world_run(3, 0, 30 * SEC);
  g_usleep(1100000); /* not a timing assertion: the wall clock must not matter */
  GByteArray *b = world_run(3, 0, 30 * SEC);
  GByteArray *c = world_run(3, 0, 90 * SEC);
  ck_assert_msg(same_bytes(a, b), "same world a wall second later: %u vs %u bytes", a->len, b->len);
  ck_assert_uint_eq(a->len, c->len);
  ck_assert_msg(!same_bytes(a, c), "another ticket age, yet the same bytes");
  g_byte_array_unref(a);
  g_byte_array_unref(b);
  g_byte_array_unref(c);
}
END_TEST

/* The bytes each way, without the transfer framing of fixture_pump. */
static void directions(const GByteArray *t, GByteArray *c, GByteArray *s) {
  for (size_t off = 0; off + 5 <= t->len;) {
    uint32_t n = (uint32_t)t->data[off + 1] << 24 | (uint32_t)t->data[off + 2] << 16 |
                 (uint32_t)t->data[off + 3] << 8 | (uint32_t)t->data[off + 4];
    g_byte_array_append(t->data[off] == 'C' ? c : s, t->data + off + 5, n);
    off += 5 + n;
  }
}

/* Fed byte by byte and at every split size up to 7, the full and the
 * resumed handshakes write the same bytes each way. */
START_TEST(resume_splits) {
  GByteArray *whole = world_run(4, 0, 10 * SEC);
  GByteArray *wc = g_byte_array_new(), *ws = g_byte_array_new();
  directions(whole, wc, ws);
  ck_assert(wc->len > 0 && ws->len > 0);
  for (size_t chunk = 1; chunk <= 7; chunk++) {
    GByteArray *t = world_run(4, chunk, 10 * SEC);
    GByteArray *c = g_byte_array_new(), *s = g_byte_array_new();
    directions(t, c, s);
    ck_assert_msg(same_bytes(wc, c), "chunk %zu: client bytes differ", chunk);
    ck_assert_msg(same_bytes(ws, s), "chunk %zu: server bytes differ", chunk);
    g_byte_array_unref(c);
    g_byte_array_unref(s);
    g_byte_array_unref(t);
  }
  g_byte_array_unref(wc);
  g_byte_array_unref(ws);
  g_byte_array_unref(whole);
}
END_TEST

/* Expiry in simulated time: a session older than its lifetime is not
 * offered; a ticket the server cannot decrypt (another host's key) gives a
 * full handshake and a fresh ticket. */
START_TEST(resume_expired_or_foreign) {
  tls_world w;
  ticket_world(&w, 5);
  jar j = {0};
  char *cev, *sev;
  GByteArray *t = connect_once(&w, NULL, 10, 0, 0, &j, &cev, &sev);
  g_byte_array_unref(t);
  g_free(cev);
  g_free(sev);
  tls_session *s = j.last;
  j.last = NULL;
  static const struct {
    int64_t at;
    const char *want;
  } rows[] = {{3600 * SEC, "resumed=1"}, {3601 * SEC, "resumed=0"}, {7 * 86400 * SEC, "resumed=0"}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    t = connect_once(&w, s, 40, rows[i].at, 0, &j, &cev, &sev);
    ck_assert_msg(g_str_has_suffix(cev, rows[i].want), "at %" G_GINT64_FORMAT " s: got %s want %s",
                  rows[i].at / SEC, cev, rows[i].want);
    ck_assert_msg(g_str_has_suffix(sev, rows[i].want), "server: got %s want %s", sev, rows[i].want);
    g_byte_array_unref(t);
    g_free(cev);
    g_free(sev);
  }
  int before = j.count;
  /* the same certificate, another ticket key (another host's context):
   * the server ignores the ticket */
  uint8_t k[32];
  fixture_seed(k, 77);
  tls_rand *r2 = tls_rand_new(k);
  tls_conn_config sc;
  tls_conn_config_init(&sc, TLS_CONN_SERVER);
  sc.cred = w.cred;
  sc.verify = false;
  sc.tickets = true;
  tls_world mixed = w;
  mixed.sctx = tls_conn_ctx_new(r2, &sc, NULL);
  t = connect_once(&mixed, s, 50, 10 * SEC, 0, &j, &cev, &sev);
  ck_assert_msg(g_str_has_suffix(cev, "verified=1 cn=mx.example sni=mx.example resumed=0"),
                "foreign ticket: got %s", cev);
  ck_assert_msg(g_str_has_suffix(sev, "resumed=0"), "foreign ticket: got %s", sev);
  ck_assert_int_eq(j.count, before + 1);
  g_byte_array_unref(t);
  g_free(cev);
  g_free(sev);
  tls_conn_ctx_free(mixed.sctx);
  tls_rand_free(r2);
  tls_session_free(s);
  tls_session_free(j.last);
  fixture_world_clear(&w);
}
END_TEST

/* Without tickets (the default) no ticket reaches the hook. */
START_TEST(no_tickets_by_default) {
  tls_world w;
  fixture_world_init(&w, 7, NULL, NULL, NULL);
  jar j = {0};
  char *cev, *sev;
  GByteArray *t = connect_once(&w, NULL, 10, 0, 0, &j, &cev, &sev);
  ck_assert_int_eq(j.count, 0);
  ck_assert(g_str_has_suffix(cev, "resumed=0"));
  g_byte_array_unref(t);
  g_free(cev);
  g_free(sev);
  fixture_world_clear(&w);
}
END_TEST

static Suite *tls_resume_suite(void) {
  Suite *s = suite_create("tls_resume");
  TCase *tc = tcase_create("resume");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, resume_basic);
  tcase_add_test(tc, resume_deterministic);
  tcase_add_test(tc, resume_shared_context);
  tcase_add_test(tc, resume_splits);
  tcase_add_test(tc, resume_expired_or_foreign);
  tcase_add_test(tc, no_tickets_by_default);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(tls_resume_suite()); }
