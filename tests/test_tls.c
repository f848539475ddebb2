/* Tests for protocols/tls: the deterministic RAND provider, the run-time
 * credentials and the adapter (handshakes, determinism across runs, worlds
 * and splits, failures with their reasons, application data, close). */
#include <check.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "tls_fixture.h"

#define SEC INT64_C(1000000000)
#define DAY (86400 * SEC)

/* ---- tls_rand ---- */

START_TEST(rand_is_the_stream) {
  uint8_t seed[TLS_RAND_SEED_LEN], a[100], b[100];
  fixture_seed(seed, 7);
  tls_rand *r = tls_rand_new(seed);
  tls_rand_stream s;
  tls_rand_stream_init(&s, seed);
  /* public and private draws come from the one stream, in call order */
  ck_assert_int_eq(RAND_bytes_ex(tls_rand_libctx(r), a, 40, 0), 1);
  ck_assert_int_eq(RAND_priv_bytes_ex(tls_rand_libctx(r), a + 40, 60, 0), 1);
  tls_rand_stream_bytes(&s, b, 100);
  ck_assert_msg(memcmp(a, b, 100) == 0, "RAND_bytes_ex differs from the stream");
  ck_assert_uint_eq(tls_rand_base_drawn(r), 100);
  /* a bound stream takes the draws; the base stream stays where it was */
  tls_rand_stream bound, ref;
  uint8_t other[TLS_RAND_SEED_LEN];
  fixture_seed(other, 9);
  tls_rand_stream_init(&bound, other);
  tls_rand_stream_init(&ref, other);
  ck_assert_ptr_null(tls_rand_bind(r, &bound));
  ck_assert_int_eq(RAND_bytes_ex(tls_rand_libctx(r), a, 33, 0), 1);
  ck_assert_ptr_eq(tls_rand_bind(r, NULL), &bound);
  tls_rand_stream_bytes(&ref, b, 33);
  ck_assert_msg(memcmp(a, b, 33) == 0, "bound stream not used");
  ck_assert_uint_eq(tls_rand_base_drawn(r), 100);
  ck_assert_uint_eq(bound.drawn, 33);
  tls_rand_free(r);
  tls_rand_free(NULL);
}
END_TEST

/* Any split of the draws gives the same bytes. */
START_TEST(rand_stream_splits) {
  uint8_t seed[TLS_RAND_SEED_LEN], whole[200], parts[200];
  fixture_seed(seed, 1);
  tls_rand_stream s;
  tls_rand_stream_init(&s, seed);
  tls_rand_stream_bytes(&s, whole, sizeof whole);
  for (size_t step = 1; step <= 70; step++) {
    tls_rand_stream_init(&s, seed);
    for (size_t off = 0; off < sizeof parts; off += step)
      tls_rand_stream_bytes(&s, parts + off, MIN(step, sizeof parts - off));
    ck_assert_msg(memcmp(whole, parts, sizeof whole) == 0, "step %zu differs", step);
  }
  /* derive: different labels, different seeds */
  uint8_t d1[32], d2[32];
  tls_rand_derive(d1, seed, "a");
  tls_rand_derive(d2, seed, "b");
  ck_assert(memcmp(d1, d2, 32) != 0);
  tls_rand_derive(d2, seed, "a");
  ck_assert(memcmp(d1, d2, 32) == 0);
}
END_TEST

/* Two contexts with different seeds never share state. */
START_TEST(rand_contexts_independent) {
  uint8_t sa[32], sb[32], a1[64], a2[64], b1[64];
  fixture_seed(sa, 1);
  fixture_seed(sb, 2);
  tls_rand *ra = tls_rand_new(sa), *rb = tls_rand_new(sb);
  RAND_bytes_ex(tls_rand_libctx(ra), a1, 32, 0);
  RAND_bytes_ex(tls_rand_libctx(rb), b1, 64, 0); /* draws in B between A's draws */
  RAND_bytes_ex(tls_rand_libctx(ra), a1 + 32, 32, 0);
  tls_rand *ra2 = tls_rand_new(sa);
  RAND_bytes_ex(tls_rand_libctx(ra2), a2, 64, 0);
  ck_assert_msg(memcmp(a1, a2, 64) == 0, "A's draws depend on B");
  ck_assert(memcmp(a1, b1, 64) != 0);
  tls_rand_free(ra);
  tls_rand_free(rb);
  tls_rand_free(ra2);
}
END_TEST

/* ---- tls_cert ---- */

static X509 *parse(const uint8_t *der, size_t len) {
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  ck_assert_ptr_nonnull(x);
  return x;
}

START_TEST(cert_deterministic) {
  uint8_t s1[32], s2[32];
  fixture_seed(s1, 1);
  fixture_seed(s2, 2);
  tls_rand *r = tls_rand_new(s1);
  OSSL_LIB_CTX *lc = tls_rand_libctx(r);
  tls_ca *ca1 = tls_ca_new(lc, s1, NULL, NULL), *ca2 = tls_ca_new(NULL, s1, NULL, NULL);
  tls_ca *ca3 = tls_ca_new(lc, s2, NULL, NULL);
  size_t l1, l2, l3;
  const uint8_t *d1 = tls_ca_cert_der(ca1, &l1), *d2 = tls_ca_cert_der(ca2, &l2);
  const uint8_t *d3 = tls_ca_cert_der(ca3, &l3);
  ck_assert_msg(l1 == l2 && memcmp(d1, d2, l1) == 0, "same seed, different CA bytes");
  ck_assert_msg(l1 != l3 || memcmp(d1, d3, l1) != 0, "different seed, same CA bytes");
  ck_assert_str_eq(tls_ca_name(ca1), "mailsim CA");
  ck_assert(g_str_has_prefix(tls_ca_cert_pem(ca1), "-----BEGIN CERTIFICATE-----\n"));
  ck_assert_uint_eq(tls_rand_base_drawn(r), 0); /* building draws nothing */

  const char *names[] = {"mx.example", "192.0.2.1"};
  tls_cred *c1 = tls_cred_new(lc, ca1, names, 2, s1, NULL);
  tls_cred *c2 = tls_cred_new(NULL, ca2, names, 2, s1, NULL);
  ck_assert_ptr_nonnull(c1);
  d1 = tls_cred_cert_der(c1, &l1);
  d2 = tls_cred_cert_der(c2, &l2);
  ck_assert_msg(l1 == l2 && memcmp(d1, d2, l1) == 0, "same inputs, different leaf bytes");
  ck_assert_str_eq(tls_cred_key_pem(c1), tls_cred_key_pem(c2));
  ck_assert(g_str_has_prefix(tls_cred_key_pem(c1), "-----BEGIN PRIVATE KEY-----\n"));

  /* the leaf: v3, issuer = CA, signature by the CA, fixed dates, serial from names */
  X509 *leaf = parse(d1, l1);
  d2 = tls_ca_cert_der(ca1, &l2);
  X509 *cax = parse(d2, l2);
  ck_assert_int_eq(X509_get_version(leaf), X509_VERSION_3);
  ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(cax)), 0);
  ck_assert_int_eq(X509_verify(leaf, X509_get0_pubkey(cax)), 1);
  ck_assert_int_eq(X509_verify(cax, X509_get0_pubkey(cax)), 1);
  ck_assert_int_eq(X509_check_host(leaf, "mx.example", 0, 0, NULL), 1);
  ck_assert_int_eq(X509_check_host(leaf, "other.example", 0, 0, NULL), 0);
  ck_assert_int_eq(X509_check_ip_asc(leaf, "192.0.2.1", 0), 1);
  ck_assert_int_eq(X509_check_ca(cax), 1);
  ck_assert_int_eq(X509_check_ca(leaf), 0);
  int day, sec;
  ck_assert(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)));
  ck_assert_int_eq(day, 3652); /* 2025-01-01 .. 2035-01-01 */
  struct tm tm;
  ck_assert(ASN1_TIME_to_tm(X509_get0_notBefore(leaf), &tm));
  ck_assert_int_eq(tm.tm_year * 10000 + tm.tm_mon * 100 + tm.tm_mday, 1250001);
  ck_assert_int_eq(tm.tm_hour + tm.tm_min + tm.tm_sec, 0);
  ASN1_INTEGER *serial = X509_get_serialNumber(leaf);
  uint64_t sv = 0;
  ck_assert(ASN1_INTEGER_get_uint64(&sv, serial));
  ck_assert(sv != 0 && sv < (UINT64_C(1) << 63));
  const char *other[] = {"mx2.example"};
  tls_cred *c3 = tls_cred_new(lc, ca1, other, 1, s1, NULL);
  d3 = tls_cred_cert_der(c3, &l3);
  X509 *leaf3 = parse(d3, l3);
  ck_assert_int_ne(ASN1_INTEGER_cmp(serial, X509_get_serialNumber(leaf3)), 0);
  X509_free(leaf);
  X509_free(leaf3);
  X509_free(cax);
  tls_cred_free(c1);
  tls_cred_free(c2);
  tls_cred_free(c3);
  tls_ca_free(ca1);
  tls_ca_free(ca2);
  tls_ca_free(ca3);
  tls_cred_free(NULL);
  tls_ca_free(NULL);
  tls_rand_free(r);
}
END_TEST

static const struct {
  const char *name;
  bool ok;
} cred_names[] = {
    {"mx.example", true}, {"*.example", true}, {"::1", true},       {"", false},
    {"a b", false},       {"a\nb", false},     {"\xc3\xa4", false},
};

START_TEST(cert_bad_names) {
  uint8_t s[32];
  fixture_seed(s, 3);
  tls_ca *ca = tls_ca_new(NULL, s, "t", NULL);
  const char *names[] = {cred_names[_i].name};
  tls_cred *c = tls_cred_new(NULL, ca, names, 1, s, NULL);
  ck_assert_msg((c != NULL) == cred_names[_i].ok, "%s: got %s want %s", cred_names[_i].name,
                c ? "cred" : "NULL", cred_names[_i].ok ? "cred" : "NULL");
  ck_assert_ptr_null(tls_cred_new(NULL, ca, names, 0, s, NULL));
  tls_cred_free(c);
  tls_ca_free(ca);
}
END_TEST

/* ---- the adapter ---- */

typedef struct {
  tls_world w;
  tls_conn *cli, *srv;
  GByteArray *transcript;
  char *cev, *sev;
} session;

static void session_start(session *s, uint8_t world_seed, const char *sni,
                          const tls_conn_config *ccfg, const tls_conn_config *scfg,
                          const tls_cert_validity *v) {
  fixture_world_init(&s->w, world_seed, ccfg, scfg, v);
  uint8_t k[32];
  fixture_seed(k, (uint8_t)(world_seed + 100));
  s->cli = tls_conn_new(s->w.cctx, sni, k, NULL, 0);
  fixture_seed(k, (uint8_t)(world_seed + 200));
  s->srv = tls_conn_new(s->w.sctx, NULL, k, NULL, 0);
  s->transcript = g_byte_array_new();
  s->cev = s->sev = NULL;
}

static void session_events(session *s) {
  g_free(s->cev);
  g_free(s->sev);
  s->cev = fixture_events(s->cli);
  s->sev = fixture_events(s->srv);
}

static void session_end(session *s) {
  tls_conn_free(s->cli);
  tls_conn_free(s->srv);
  g_byte_array_unref(s->transcript);
  g_free(s->cev);
  g_free(s->sev);
  fixture_world_clear(&s->w);
}

START_TEST(handshake_tls13) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  ck_assert_int_eq(tls_conn_get_state(s.cli), TLS_CONN_HANDSHAKE);
  size_t n;
  tls_conn_cipher_peek(s.cli, &n);
  ck_assert_msg(n > 0, "no ClientHello queued by tls_conn_new");
  fixture_pump(s.cli, s.srv, 0, 0, s.transcript);
  session_events(&s);
  ck_assert_str_eq(s.cev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 "
                          "cn=mx.example sni=mx.example");
  ck_assert_str_eq(s.sev, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=0 cn= "
                          "sni=mx.example");
  ck_assert_int_eq(tls_conn_get_state(s.cli), TLS_CONN_OPEN);
  ck_assert_int_eq(tls_conn_get_state(s.srv), TLS_CONN_OPEN);
  ck_assert(tls_conn_random_drawn(s.cli) > 0 && tls_conn_random_drawn(s.srv) > 0);
  session_end(&s);
}
END_TEST

/* The SAN's other names and its IP address verify too; SNI is not sent for
 * an IP literal (RFC 6066 §3). */
static const struct {
  const char *name;
  const char *want_sni;
} alt_names[] = {{ALT_NAME, ALT_NAME}, {"192.0.2.25", ""}, {"MX.EXAMPLE", "MX.EXAMPLE"}};

/* The key log (tls_conn_keylog): empty before any secret; after a TLS 1.3
 * handshake both ends hold the same five NSS key log lines (RFC 8446 §7.1
 * secrets, one client random), each "LABEL <64 hex> <96 hex>" (SHA-384). */
START_TEST(keylog_lines) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  ck_assert_str_eq(tls_conn_keylog(s.srv), "");
  ck_assert_int_eq(tls_conn_get_role(s.cli), TLS_CONN_CLIENT);
  ck_assert_int_eq(tls_conn_get_role(s.srv), TLS_CONN_SERVER);
  fixture_pump(s.cli, s.srv, 0, 0, s.transcript);
  const char *ck = tls_conn_keylog(s.cli);
  /* The same lines at both ends (each end derives them in its own order). */
  char **a = g_strsplit(ck, "\n", -1), **b = g_strsplit(tls_conn_keylog(s.srv), "\n", -1);
  ck_assert_uint_eq(g_strv_length(a), g_strv_length(b));
  for (char **l = a; *l; l++)
    ck_assert_msg(g_strv_contains((const char *const *)b, *l), "server lacks %s", *l);
  g_strfreev(a);
  g_strfreev(b);
  static const char *const labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                       "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                       "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"};
  char **lines = g_strsplit(ck, "\n", -1);
  ck_assert_uint_eq(g_strv_length(lines), G_N_ELEMENTS(labels) + 1); /* ends in LF */
  ck_assert_str_eq(lines[G_N_ELEMENTS(labels)], "");
  char *random = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(labels); i++) {
    char **f = g_strsplit(lines[i], " ", -1);
    ck_assert_uint_eq(g_strv_length(f), 3);
    bool known = false;
    for (size_t k = 0; k < G_N_ELEMENTS(labels); k++)
      known = known || strcmp(f[0], labels[k]) == 0;
    ck_assert_msg(known, "got label %s", f[0]);
    ck_assert_uint_eq(strlen(f[1]), 64);
    ck_assert_uint_eq(strlen(f[2]), 96);
    if (!random)
      random = g_strdup(f[1]);
    ck_assert_str_eq(f[1], random);
    g_strfreev(f);
  }
  g_free(random);
  g_strfreev(lines);
  session_end(&s);
}
END_TEST

START_TEST(handshake_alt_names) {
  session s;
  session_start(&s, 1, alt_names[_i].name, NULL, NULL, NULL);
  fixture_pump(s.cli, s.srv, 0, 0, NULL);
  session_events(&s);
  char *want = g_strdup_printf(
      "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 cn=mx.example sni=%s",
      alt_names[_i].name);
  ck_assert_str_eq(s.cev, want);
  char *swant = g_strdup_printf(" sni=%s", alt_names[_i].want_sni);
  ck_assert_msg(g_str_has_suffix(s.sev, swant), "got %s want suffix %s", s.sev, swant);
  g_free(want);
  g_free(swant);
  session_end(&s);
}
END_TEST

/* One full conversation: handshake, data both ways, close both ways. */
static GByteArray *conversation(uint8_t world_seed, size_t chunk, char **plain_out) {
  session s;
  session_start(&s, world_seed, SERVER_NAME, NULL, NULL, NULL);
  ck_assert(tls_conn_write_plain(s.cli, "EHLO early\r\n", 12, 0)); /* before the handshake */
  fixture_pump(s.cli, s.srv, chunk, 1 * SEC, s.transcript);
  ck_assert(tls_conn_write_plain(s.srv, "250 ok\r\n", 8, 2 * SEC));
  char big[40000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char)('a' + i % 26);
  ck_assert(tls_conn_write_plain(s.cli, big, sizeof big, 2 * SEC));
  fixture_pump(s.cli, s.srv, chunk, 3 * SEC, s.transcript);
  tls_conn_close(s.cli, 4 * SEC);
  ck_assert(!tls_conn_write_plain(s.cli, "x", 1, 4 * SEC));
  fixture_pump(s.cli, s.srv, chunk, 4 * SEC, s.transcript);
  ck_assert_int_eq(tls_conn_get_state(s.srv), TLS_CONN_CLOSED);
  ck_assert(tls_conn_write_plain(s.srv, "221 bye\r\n", 9, 5 * SEC)); /* half-close */
  tls_conn_close(s.srv, 5 * SEC);
  fixture_pump(s.cli, s.srv, chunk, 5 * SEC, s.transcript);
  ck_assert_int_eq(tls_conn_get_state(s.cli), TLS_CONN_CLOSED);
  session_events(&s);
  char *cp = fixture_plain(s.cli), *sp = fixture_plain(s.srv);
  ck_assert_str_eq(cp, "250 ok\r\n221 bye\r\n");
  ck_assert_uint_eq(strlen(sp), 12 + sizeof big);
  ck_assert(g_str_has_prefix(sp, "EHLO early\r\nabcdefghijklmnopqrstuvwxyzabc"));
  ck_assert_msg(memcmp(sp + 12, big, sizeof big) == 0, "big write corrupted");
  ck_assert(g_str_has_suffix(s.cev, "|CLOSED"));
  ck_assert(g_str_has_suffix(s.sev, "|CLOSED"));
  if (plain_out != NULL)
    *plain_out = g_strdup_printf("%s\n%s\n%s\n%.40s", s.cev, s.sev, cp, sp);
  g_free(cp);
  g_free(sp);
  GByteArray *t = g_byte_array_ref(s.transcript);
  session_end(&s);
  return t;
}

static bool same_bytes(const GByteArray *a, const GByteArray *b) {
  return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

START_TEST(same_seed_same_transcript) {
  char *p1, *p2, *p3;
  GByteArray *t1 = conversation(1, 0, &p1);
  GByteArray *t2 = conversation(1, 0, &p2);
  GByteArray *t3 = conversation(2, 0, &p3);
  ck_assert_msg(same_bytes(t1, t2), "same seed: transcripts differ (%u vs %u bytes)", t1->len,
                t2->len);
  ck_assert_str_eq(p1, p2);
  ck_assert_msg(!same_bytes(t1, t3), "different seeds gave the same transcript");
  ck_assert_str_eq(p1, p3); /* same conversation all the same */
  /* Ed25519 + X25519 + TLS 1.3 give constant lengths: only the bytes differ */
  ck_assert_uint_eq(t1->len, t3->len);
  g_byte_array_unref(t1);
  g_byte_array_unref(t2);
  g_byte_array_unref(t3);
  g_free(p1);
  g_free(p2);
  g_free(p3);
}
END_TEST

/* The digest of one conversation is fixed: the same bytes on every build
 * (gcc or clang, any optimisation, sanitizers). It is a function of the
 * seeds and of OpenSSL's TLS code: an OpenSSL update that changes its
 * ClientHello changes it, and then every trace with TLS changes too. */
#define CONVERSATION_SHA256 "3b7832c1d9fb0bff7bb51d8239a99b41101d75913a5033ab1cf6c995d888807e"

START_TEST(golden_digest) {
  GByteArray *t = conversation(1, 0, NULL);
  char *got = g_compute_checksum_for_data(G_CHECKSUM_SHA256, t->data, t->len);
  ck_assert_msg(strcmp(got, CONVERSATION_SHA256) == 0, "got %s want %s (OpenSSL %s)", got,
                CONVERSATION_SHA256, OpenSSL_version(OPENSSL_VERSION));
  g_free(got);
  g_byte_array_unref(t);
}
END_TEST

/* Feeding byte by byte and in 7-byte pieces changes nothing on the wire. */
START_TEST(splits_same_transcript) {
  GByteArray *whole = conversation(1, 0, NULL);
  static const size_t chunks[] = {1, 7, 100};
  for (size_t i = 0; i < G_N_ELEMENTS(chunks); i++) {
    GByteArray *t = conversation(1, chunks[i], NULL);
    ck_assert_msg(same_bytes(whole, t), "chunk %zu: transcript differs", chunks[i]);
    g_byte_array_unref(t);
  }
  g_byte_array_unref(whole);
}
END_TEST

/* Split the client's whole byte stream at every point: a fresh server with
 * the same seed answers with the same bytes and reads the same plaintext. */
START_TEST(every_split_point) {
  session s;
  session_start(&s, 5, SERVER_NAME, NULL, NULL, NULL);
  GByteArray *cstream = g_byte_array_new(), *sref = g_byte_array_new();
  tls_conn_write_plain(s.cli, "hello server\r\n", 14, 0);
  for (int round = 0; round < 20; round++) {
    size_t len;
    const uint8_t *p = tls_conn_cipher_peek(s.cli, &len);
    g_byte_array_append(cstream, p, (guint)len);
    tls_conn_feed_cipher(s.srv, p, len, 0);
    tls_conn_cipher_consume(s.cli, len);
    p = tls_conn_cipher_peek(s.srv, &len);
    g_byte_array_append(sref, p, (guint)len);
    tls_conn_feed_cipher(s.cli, p, len, 0);
    tls_conn_cipher_consume(s.srv, len);
  }
  char *want_plain = fixture_plain(s.srv);
  ck_assert_str_eq(want_plain, "hello server\r\n");
  uint8_t k[32];
  fixture_seed(k, 205);
  for (size_t cut = 0; cut <= cstream->len; cut++) {
    tls_conn *srv = tls_conn_new(s.w.sctx, NULL, k, NULL, 0);
    tls_conn_feed_cipher(srv, cstream->data, cut, 0);
    tls_conn_feed_cipher(srv, cstream->data + cut, cstream->len - cut, 0);
    size_t len;
    const uint8_t *p = tls_conn_cipher_peek(srv, &len);
    ck_assert_msg(len == sref->len && memcmp(p, sref->data, len) == 0,
                  "cut %zu: server output differs", cut);
    char *plain = fixture_plain(srv);
    ck_assert_msg(strcmp(plain, want_plain) == 0, "cut %zu: got %s want %s", cut, plain,
                  want_plain);
    g_free(plain);
    tls_conn_free(srv);
  }
  g_free(want_plain);
  g_byte_array_unref(cstream);
  g_byte_array_unref(sref);
  session_end(&s);
}
END_TEST

/* Worlds A and B interleaved step by step in one process, then A again
 * alone: A's transcript is the same both times. */
START_TEST(worlds_interleaved) {
  session a, b, a2;
  session_start(&a, 1, SERVER_NAME, NULL, NULL, NULL);
  session_start(&b, 2, SERVER_NAME, NULL, NULL, NULL);
  for (int round = 0; round < 10; round++) {
    fixture_pump(b.cli, b.srv, 0, 0, b.transcript); /* B first: draws before A's */
    size_t len;
    const uint8_t *p = tls_conn_cipher_peek(a.cli, &len);
    GByteArray *t = a.transcript;
    g_byte_array_append(t, p, (guint)len);
    tls_conn_feed_cipher(a.srv, p, len, 0);
    tls_conn_cipher_consume(a.cli, len);
    tls_conn_write_plain(b.cli, "b", 1, 0);
    p = tls_conn_cipher_peek(a.srv, &len);
    g_byte_array_append(t, p, (guint)len);
    tls_conn_feed_cipher(a.cli, p, len, 0);
    tls_conn_cipher_consume(a.srv, len);
  }
  session_start(&a2, 1, SERVER_NAME, NULL, NULL, NULL);
  for (int round = 0; round < 10; round++) {
    size_t len;
    const uint8_t *p = tls_conn_cipher_peek(a2.cli, &len);
    g_byte_array_append(a2.transcript, p, (guint)len);
    tls_conn_feed_cipher(a2.srv, p, len, 0);
    tls_conn_cipher_consume(a2.cli, len);
    p = tls_conn_cipher_peek(a2.srv, &len);
    g_byte_array_append(a2.transcript, p, (guint)len);
    tls_conn_feed_cipher(a2.cli, p, len, 0);
    tls_conn_cipher_consume(a2.srv, len);
  }
  ck_assert_int_eq(tls_conn_get_state(a.cli), TLS_CONN_OPEN);
  ck_assert_int_eq(tls_conn_get_state(b.cli), TLS_CONN_OPEN);
  ck_assert_msg(same_bytes(a.transcript, a2.transcript), "world A changed when B ran beside it");
  ck_assert(!same_bytes(a.transcript, b.transcript));
  session_end(&a);
  session_end(&b);
  session_end(&a2);
}
END_TEST

/* Connections of one host context are independent: a second connection with
 * the same seed in the same (already used) contexts repeats the first. */
START_TEST(connections_independent) {
  session s;
  session_start(&s, 3, SERVER_NAME, NULL, NULL, NULL);
  fixture_pump(s.cli, s.srv, 0, 0, s.transcript);
  uint8_t kc[32], ks[32];
  fixture_seed(kc, 103);
  fixture_seed(ks, 203);
  tls_conn *c2 = tls_conn_new(s.w.cctx, SERVER_NAME, kc, NULL, 0);
  tls_conn *s2 = tls_conn_new(s.w.sctx, NULL, ks, NULL, 0);
  GByteArray *t2 = g_byte_array_new();
  fixture_pump(c2, s2, 0, 0, t2);
  ck_assert_msg(same_bytes(s.transcript, t2), "second connection differs from the first");
  tls_conn_free(c2);
  tls_conn_free(s2);
  g_byte_array_unref(t2);
  session_end(&s);
}
END_TEST

/* Two worlds on two threads at once give what they give alone: no state is
 * shared between library contexts, not even across threads. */
typedef struct {
  uint8_t seed;
  GByteArray *t;
} thread_job;

static gpointer thread_run(gpointer p) {
  thread_job *j = p;
  for (int i = 0; i < 3; i++) {
    GByteArray *t = conversation(j->seed, 0, NULL);
    if (j->t == NULL)
      j->t = t;
    else if (!same_bytes(j->t, t))
      g_error("thread %d: run %d differs", j->seed, i);
    else
      g_byte_array_unref(t);
  }
  return NULL;
}

START_TEST(worlds_on_threads) {
  GByteArray *alone1 = conversation(1, 0, NULL), *alone2 = conversation(2, 0, NULL);
  thread_job j1 = {1, NULL}, j2 = {2, NULL};
  GThread *t1 = g_thread_new("w1", thread_run, &j1), *t2 = g_thread_new("w2", thread_run, &j2);
  g_thread_join(t1);
  g_thread_join(t2);
  ck_assert_msg(same_bytes(alone1, j1.t), "world 1 on a thread differs");
  ck_assert_msg(same_bytes(alone2, j2.t), "world 2 on a thread differs");
  g_byte_array_unref(alone1);
  g_byte_array_unref(alone2);
  g_byte_array_unref(j1.t);
  g_byte_array_unref(j2.t);
}
END_TEST

/* ---- failures ---- */

/* A flipped bit in an application record: the reader fails (RFC 8446 §5.2,
 * bad_record_mac), the writer is told by the alert. */
START_TEST(corrupt_record) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  fixture_pump(s.cli, s.srv, 0, 0, NULL);
  session_events(&s);
  tls_conn_write_plain(s.cli, "secret", 6, 0);
  size_t len;
  const uint8_t *p = tls_conn_cipher_peek(s.cli, &len);
  ck_assert_uint_gt(len, 10);
  uint8_t *copy = g_memdup2(p, len);
  copy[len - 3] ^= 0x40;
  tls_conn_cipher_consume(s.cli, len);
  tls_conn_feed_cipher(s.srv, copy, len, 0);
  g_free(copy);
  fixture_pump(s.cli, s.srv, 0, 0, NULL);
  session_events(&s);
  ck_assert_str_eq(s.sev, "FAILED decryption failed or bad record mac");
  ck_assert_str_eq(s.cev, "FAILED sslv3 alert bad record mac");
  char *plain = fixture_plain(s.srv);
  ck_assert_str_eq(plain, "");
  g_free(plain);
  session_end(&s);
}
END_TEST

typedef enum { CFG_DEFAULT, CFG_NO_VERIFY, CFG_OTHER_CA, CFG_C12_S13, CFG_BOTH12 } cfg_kind;

static const struct {
  const char *what;
  const char *sni;
  cfg_kind cfg;
  int64_t now;
  bool short_validity;
  const char *want_cli; /* prefix of the client's events */
  const char *want_srv; /* prefix of the server's events */
} failures[] = {
    {"name mismatch", "other.example", CFG_DEFAULT, 0, false,
     "FAILED certificate verify failed: hostname mismatch", "FAILED sslv3 alert bad certificate"},
    {"ip mismatch", "192.0.2.26", CFG_DEFAULT, 0, false,
     "FAILED certificate verify failed: IP address mismatch", "FAILED sslv3 alert bad certificate"},
    {"untrusted CA", SERVER_NAME, CFG_OTHER_CA, 0, false,
     "FAILED certificate verify failed: unable to get local issuer certificate",
     "FAILED tlsv1 alert unknown ca"},
    {"expired (simulated time)", SERVER_NAME, CFG_DEFAULT, 2 * DAY, true,
     "FAILED certificate verify failed: certificate has expired",
     "FAILED sslv3 alert certificate expired"},
    {"valid at time 0", SERVER_NAME, CFG_DEFAULT, 0, true, "ESTABLISHED TLSv1.3", "ESTABLISHED"},
    {"verify off, name mismatch", "other.example", CFG_NO_VERIFY, 0, false,
     "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=0", "ESTABLISHED TLSv1.3"},
    {"verify off, untrusted", SERVER_NAME, CFG_NO_VERIFY, 0, false, "ESTABLISHED TLSv1.3",
     "ESTABLISHED"},
    {"no common version", SERVER_NAME, CFG_C12_S13, 0, false, "FAILED tlsv1 alert protocol version",
     "FAILED unsupported protocol"},
    {"TLS 1.2", SERVER_NAME, CFG_BOTH12, 0, false,
     "ESTABLISHED TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 x25519 verified=1 cn=mx.example",
     "ESTABLISHED TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"},
};

START_TEST(failure_reasons) {
  tls_conn_config c, sv;
  tls_conn_config_init(&c, TLS_CONN_CLIENT);
  tls_conn_config_init(&sv, TLS_CONN_SERVER);
  sv.verify = false;
  uint8_t seed[32];
  fixture_seed(seed, 77);
  tls_ca *other = tls_ca_new(NULL, seed, "other CA", NULL);
  tls_ca *own = NULL;
  switch (failures[_i].cfg) {
  case CFG_NO_VERIFY:
    c.verify = false;
    c.trust = other;
    break;
  case CFG_OTHER_CA:
    c.trust = other;
    break;
  case CFG_C12_S13:
    c.max_version = TLS_CONN_V1_2;
    sv.min_version = TLS_CONN_V1_3;
    break;
  case CFG_BOTH12:
    c.max_version = sv.max_version = TLS_CONN_V1_2;
    break;
  default:
    break;
  }
  /* the world's CA is made from world seed 1 (see fixture): trust it */
  if (c.trust == NULL) {
    uint8_t s[32], k[32];
    fixture_seed(s, 1);
    tls_rand_derive(k, s, "ca");
    own = tls_ca_new(NULL, k, NULL, NULL);
    c.trust = own;
  }
  tls_cert_validity day1 = {TLS_EPOCH_UNIX - 1, TLS_EPOCH_UNIX + 86400};
  session s;
  session_start(&s, 1, failures[_i].sni, &c, &sv, failures[_i].short_validity ? &day1 : NULL);
  /* the client's ClientHello was made at 0; verification happens at NOW */
  fixture_pump(s.cli, s.srv, 0, failures[_i].now, NULL);
  session_events(&s);
  ck_assert_msg(g_str_has_prefix(s.cev, failures[_i].want_cli), "%s: client got %s want %s…",
                failures[_i].what, s.cev, failures[_i].want_cli);
  ck_assert_msg(g_str_has_prefix(s.sev, failures[_i].want_srv), "%s: server got %s want %s…",
                failures[_i].what, s.sev, failures[_i].want_srv);
  bool failed = g_str_has_prefix(failures[_i].want_cli, "FAILED");
  ck_assert_int_eq(tls_conn_get_state(s.cli), failed ? TLS_CONN_FAILED : TLS_CONN_OPEN);
  if (failed) {
    ck_assert(!tls_conn_write_plain(s.cli, "x", 1, 0));
    tls_conn_feed_cipher(s.cli, "junk", 4, 0); /* dropped, no event */
    char *more = fixture_events(s.cli);
    ck_assert_str_eq(more, "");
    g_free(more);
  }
  session_end(&s);
  tls_ca_free(other);
  tls_ca_free(own);
}
END_TEST

/* A server with verify on asks for a client certificate and requires it. */
START_TEST(client_certificates) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  tls_conn_config sc, cc;
  tls_conn_config_init(&sc, TLS_CONN_SERVER);
  sc.cred = s.w.cred;
  sc.trust = s.w.ca;
  tls_conn_ctx *sctx = tls_conn_ctx_new(s.w.rand_s, &sc, NULL);
  tls_conn_config_init(&cc, TLS_CONN_CLIENT);
  cc.trust = s.w.ca;
  cc.cred = s.w.cred; /* any leaf of the CA will do (serverAuth+clientAuth) */
  tls_conn_ctx *with = tls_conn_ctx_new(s.w.rand_c, &cc, NULL);
  uint8_t k[32];
  fixture_seed(k, 1);
  for (int i = 0; i < 2; i++) {
    tls_conn *c = tls_conn_new(i == 0 ? with : s.w.cctx, SERVER_NAME, k, NULL, 0);
    tls_conn *sv = tls_conn_new(sctx, NULL, k, NULL, 0);
    fixture_pump(c, sv, 0, 0, NULL);
    char *se = fixture_events(sv), *ce = fixture_events(c);
    if (i == 0) {
      ck_assert_str_eq(se, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 "
                           "cn=mx.example sni=mx.example");
      ck_assert(g_str_has_prefix(ce, "ESTABLISHED TLSv1.3"));
    } else {
      ck_assert_str_eq(se, "FAILED peer did not return a certificate");
      /* TLS 1.3: the client finished first, then hears the alert */
      ck_assert_str_eq(ce, "ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 "
                           "cn=mx.example sni=mx.example|FAILED tlsv13 alert certificate required");
    }
    g_free(se);
    g_free(ce);
    tls_conn_free(c);
    tls_conn_free(sv);
  }
  tls_conn_ctx_free(sctx);
  tls_conn_ctx_free(with);
  session_end(&s);
}
END_TEST

/* Bytes that are not TLS: the server fails with a reason, never crashes. */
static const struct {
  const char *bytes;
  size_t len;
} garbage[] = {
    {"EHLO client.example\r\n", 21},
    {"\x16\x03\x01\xff\xff", 5},                 /* a record longer than allowed */
    {"\x16\x03\x01\x00\x04\x01\x00\x00\x00", 9}, /* an empty ClientHello */
    {"\x15\x03\x03\x00\x02\x02\x28", 7},         /* a fatal alert */
};

START_TEST(garbage_input) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  tls_conn_feed_cipher(s.srv, garbage[_i].bytes, garbage[_i].len, 0);
  session_events(&s);
  ck_assert_msg(g_str_has_prefix(s.sev, "FAILED "), "garbage %d: got %s", _i, s.sev);
  ck_assert_int_eq(tls_conn_get_state(s.srv), TLS_CONN_FAILED);
  session_end(&s);
}
END_TEST

START_TEST(config_errors) {
  uint8_t seed[32];
  fixture_seed(seed, 4);
  tls_rand *r = tls_rand_new(seed);
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  char *err = NULL;
  ck_assert_ptr_null(tls_conn_ctx_new(r, &cfg, &err));
  ck_assert_str_eq(err, "a TLS server needs credentials");
  g_free(err);
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.min_version = TLS_CONN_V1_3;
  cfg.max_version = TLS_CONN_V1_2;
  ck_assert_ptr_null(tls_conn_ctx_new(r, &cfg, NULL));
  tls_conn_ctx_free(NULL);
  tls_conn_free(NULL);
  ck_assert_str_eq(tls_conn_state_name(TLS_CONN_SHUTDOWN), "SHUTDOWN");
  ck_assert_str_eq(tls_conn_event_type_name(TLS_CONN_EV_CLOSED), "CLOSED");
  ck_assert_str_eq(tls_conn_role_name(TLS_CONN_SERVER), "server");
  ck_assert_str_eq(tls_conn_trace_kind_name(TLS_CONN_TRACE_NOTE), "note");
  tls_rand_free(r);
}
END_TEST

/* The trace hook sees the state transitions by name. */
static void collect(void *ctx, int64_t now, tls_conn_trace_kind kind, const char *text) {
  g_string_append_printf(ctx, "%" G_GINT64_FORMAT " %s %s\n", now, tls_conn_trace_kind_name(kind),
                         text);
}

START_TEST(trace_hook) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  GString *log = g_string_new("");
  tls_conn_env env = {.trace = collect, .ctx = log};
  uint8_t k[32];
  fixture_seed(k, 9);
  tls_conn *c = tls_conn_new(s.w.cctx, SERVER_NAME, k, &env, 5);
  fixture_pump(c, s.srv, 0, 6, NULL);
  tls_conn_close(c, 7);
  ck_assert_str_eq(log->str, "5 note start client sni=mx.example\n"
                             "6 note established TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 "
                             "peer=mx.example verified=yes\n"
                             "6 state HANDSHAKE -> OPEN\n"
                             "7 state OPEN -> SHUTDOWN\n");
  tls_conn_free(c);
  g_string_free(log, TRUE);
  session_end(&s);
}
END_TEST

/* Closing during the handshake sends nothing more and drops queued text. */
START_TEST(close_in_handshake) {
  session s;
  session_start(&s, 1, SERVER_NAME, NULL, NULL, NULL);
  tls_conn_write_plain(s.cli, "x", 1, 0);
  size_t before;
  tls_conn_cipher_peek(s.cli, &before);
  tls_conn_close(s.cli, 0);
  ck_assert_int_eq(tls_conn_get_state(s.cli), TLS_CONN_SHUTDOWN);
  fixture_pump(s.cli, s.srv, 0, 0, NULL);
  ck_assert_int_eq(tls_conn_get_state(s.cli), TLS_CONN_SHUTDOWN);
  char *p = fixture_plain(s.srv);
  ck_assert_str_eq(p, "");
  g_free(p);
  session_end(&s);
}
END_TEST

static Suite *tls_suite(void) {
  Suite *s = suite_create("tls");
  TCase *tc = tcase_create("rand");
  tcase_add_test(tc, rand_is_the_stream);
  tcase_add_test(tc, rand_stream_splits);
  tcase_add_test(tc, rand_contexts_independent);
  suite_add_tcase(s, tc);
  tc = tcase_create("cert");
  tcase_add_test(tc, cert_deterministic);
  tcase_add_loop_test(tc, cert_bad_names, 0, G_N_ELEMENTS(cred_names));
  suite_add_tcase(s, tc);
  tc = tcase_create("handshake");
  tcase_add_test(tc, handshake_tls13);
  tcase_add_test(tc, keylog_lines);
  tcase_add_loop_test(tc, handshake_alt_names, 0, G_N_ELEMENTS(alt_names));
  tcase_add_test(tc, trace_hook);
  tcase_add_test(tc, close_in_handshake);
  tcase_add_test(tc, config_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("determinism");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, same_seed_same_transcript);
  tcase_add_test(tc, golden_digest);
  tcase_add_test(tc, splits_same_transcript);
  tcase_add_test(tc, every_split_point);
  tcase_add_test(tc, worlds_interleaved);
  tcase_add_test(tc, connections_independent);
  tcase_add_test(tc, worlds_on_threads);
  suite_add_tcase(s, tc);
  tc = tcase_create("failures");
  tcase_add_loop_test(tc, failure_reasons, 0, G_N_ELEMENTS(failures));
  tcase_add_loop_test(tc, garbage_input, 0, G_N_ELEMENTS(garbage));
  tcase_add_test(tc, corrupt_record);
  tcase_add_test(tc, client_certificates);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(tls_suite()); }
