/* tls_handshake — what the deterministic TLS adapter costs.
 *
 * Usage: tls_handshake [N]   (N handshakes per measurement, default 500)
 *
 * Measures, single thread, median of 5 runs:
 *  - tls_rand_new + tls_rand_free (a library context with our RAND);
 *  - tls_conn_ctx_new in a fresh context (first SSL_CTX: fetches everything)
 *    and in a warm one;
 *  - CA + leaf credential creation;
 *  - full in-memory handshakes (client and server, both sides' CPU), TLS 1.3
 *    and TLS 1.2, with our generator, and TLS 1.3 with OpenSSL's own DRBG
 *    (a plain OSSL_LIB_CTX) for comparison;
 *  - resumed TLS 1.3 handshakes (a session ticket, psk_dhe_ke) on the same
 *    raw contexts: with the full ones, the floor OpenSSL itself sets on a
 *    world's journeys per second (bench/README.md, "the TLS floor").
 * A benchmark reads the wall clock; the simulator never does.
 */
#include <glib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_conn.h"

static uint8_t seed[TLS_RAND_SEED_LEN] = {42};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *arg, int n);

/* Median seconds per operation over 5 runs of N operations. */
static double measure(bench_fn fn, void *arg, int n) {
  double t[5];
  for (int r = 0; r < 5; r++) {
    gint64 t0 = g_get_monotonic_time();
    fn(arg, n);
    t[r] = (double)(g_get_monotonic_time() - t0) / 1e6 / n;
  }
  qsort(t, 5, sizeof t[0], cmp_double);
  return t[2];
}

static void b_rand(void *arg, int n) {
  (void)arg;
  for (int i = 0; i < n; i++)
    tls_rand_free(tls_rand_new(seed));
}

static tls_ca *ca;
static tls_cred *cred;

static void b_ctx_cold(void *arg, int n) {
  tls_conn_config *cfg = arg;
  for (int i = 0; i < n; i++) {
    tls_rand *r = tls_rand_new(seed);
    tls_conn_ctx_free(tls_conn_ctx_new(r, cfg, NULL));
    tls_rand_free(r);
  }
}

static tls_rand *warm;
static void b_ctx_warm(void *arg, int n) {
  tls_conn_config *cfg = arg;
  for (int i = 0; i < n; i++)
    tls_conn_ctx_free(tls_conn_ctx_new(warm, cfg, NULL));
}

static void b_certs(void *arg, int n) {
  (void)arg;
  const char *names[] = {"mx.example"};
  for (int i = 0; i < n; i++) {
    tls_ca *c = tls_ca_new(tls_rand_libctx(warm), seed, NULL, NULL);
    tls_cred_free(tls_cred_new(tls_rand_libctx(warm), c, names, 1, seed, NULL));
    tls_ca_free(c);
  }
}

typedef struct {
  tls_conn_ctx *c, *s;
} pair;

static void move(tls_conn *from, tls_conn *to) {
  size_t len;
  const uint8_t *p = tls_conn_cipher_peek(from, &len);
  if (len > 0) {
    tls_conn_feed_cipher(to, p, len, 0);
    tls_conn_cipher_consume(from, len);
  }
}

static void b_handshake(void *arg, int n) {
  pair *p = arg;
  for (int i = 0; i < n; i++) {
    uint8_t k[TLS_RAND_SEED_LEN] = {(uint8_t)i, (uint8_t)(i >> 8)};
    tls_conn *c = tls_conn_new(p->c, "mx.example", k, NULL, 0);
    tls_conn *s = tls_conn_new(p->s, NULL, k, NULL, 0);
    for (int round = 0; round < 4; round++) {
      move(c, s);
      move(s, c);
    }
    if (tls_conn_get_state(c) != TLS_CONN_OPEN || tls_conn_get_state(s) != TLS_CONN_OPEN)
      g_error("handshake %d did not complete", i);
    tls_conn_free(c);
    tls_conn_free(s);
  }
}

/* The same handshake with OpenSSL's own DRBG, straight on SSL objects. */
typedef struct {
  SSL_CTX *c, *s;
} raw_pair;

static void raw_move(BIO *from, BIO *to) {
  char buf[16384];
  int n;
  while ((n = BIO_read(from, buf, sizeof buf)) > 0)
    BIO_write(to, buf, n);
}

/* One raw handshake pair on P, offering SESS (NULL: a full handshake).
 * Returns the client's session when WANT_SESSION (the server's ticket is
 * read after the handshake, as a client does before its first command). */
static SSL_SESSION *raw_once(raw_pair *p, SSL_SESSION *sess, bool want_session, int i) {
  SSL *c = SSL_new(p->c), *s = SSL_new(p->s);
  BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
  BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c_in, -1);
  BIO_set_mem_eof_return(s_in, -1);
  SSL_set_bio(c, c_in, c_out);
  SSL_set_bio(s, s_in, s_out);
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  SSL_set_tlsext_host_name(c, "mx.example");
  SSL_set1_host(c, "mx.example");
  if (sess)
    SSL_set_session(c, sess);
  int dc = 0, ds = 0;
  for (int round = 0; round < 4 && !(dc == 1 && ds == 1); round++) {
    dc = SSL_do_handshake(c);
    raw_move(c_out, s_in);
    ds = SSL_do_handshake(s);
    raw_move(s_out, c_in);
  }
  if (dc != 1 || ds != 1)
    g_error("raw handshake %d did not complete", i);
  if (sess && !SSL_session_reused(c))
    g_error("raw handshake %d was not resumed", i);
  SSL_SESSION *got = NULL;
  if (want_session) {
    char b;
    (void)SSL_read(c, &b, 1); /* takes the NewSessionTicket */
    got = SSL_get1_session(c);
  }
  /* a connection freed unshut marks its session (the offered one too) not
   * resumable: a client that closes cleanly keeps it */
  SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(c);
  SSL_free(s);
  return got;
}

static void b_raw(void *arg, int n) {
  for (int i = 0; i < n; i++)
    raw_once(arg, NULL, false, i);
}

/* Resumed handshakes (TLS 1.3 psk_dhe_ke, OpenSSL's default and ours): no
 * certificate, no signature, still one X25519 exchange on each side. */
typedef struct {
  raw_pair *p;
  SSL_SESSION *sess;
} resume_arg;

static void b_raw_resumed(void *arg, int n) {
  resume_arg *a = arg;
  for (int i = 0; i < n; i++) {
    SSL_SESSION *next = raw_once(a->p, a->sess, true, i); /* tickets are single use */
    SSL_SESSION_free(a->sess);
    a->sess = next;
  }
}

static pair make_pair(tls_rand *rc, tls_rand *rs, tls_conn_version v) {
  tls_conn_config cc, sc;
  tls_conn_config_init(&cc, TLS_CONN_CLIENT);
  cc.trust = ca;
  cc.min_version = cc.max_version = v;
  tls_conn_config_init(&sc, TLS_CONN_SERVER);
  sc.cred = cred;
  sc.verify = false;
  pair p = {tls_conn_ctx_new(rc, &cc, NULL), tls_conn_ctx_new(rs, &sc, NULL)};
  return p;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 500;
  if (n <= 0)
    n = 500;
  warm = tls_rand_new(seed);
  ca = tls_ca_new(tls_rand_libctx(warm), seed, NULL, NULL);
  const char *names[] = {"mx.example"};
  cred = tls_cred_new(tls_rand_libctx(warm), ca, names, 1, seed, NULL);
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.trust = ca;

  printf("%-44s %10.1f us\n", "tls_rand_new+free (library context)",
         1e6 * measure(b_rand, NULL, n / 5 + 1));
  printf("%-44s %10.1f us\n", "tls_conn_ctx_new, fresh context",
         1e6 * measure(b_ctx_cold, &cfg, n / 20 + 1));
  printf("%-44s %10.1f us\n", "tls_conn_ctx_new, warm context",
         1e6 * measure(b_ctx_warm, &cfg, n / 5 + 1));
  printf("%-44s %10.1f us\n", "CA + leaf credentials", 1e6 * measure(b_certs, NULL, n / 5 + 1));

  tls_rand *rc = tls_rand_new(seed), *rs = tls_rand_new(seed);
  pair p13 = make_pair(rc, rs, TLS_CONN_V1_3), p12 = make_pair(rc, rs, TLS_CONN_V1_2);
  double t13 = measure(b_handshake, &p13, n), t12 = measure(b_handshake, &p12, n);
  printf("%-44s %10.1f us  %8.0f handshakes/s\n", "handshake TLS 1.3 (tls_conn, both sides)",
         1e6 * t13, 1 / t13);
  printf("%-44s %10.1f us  %8.0f handshakes/s\n", "handshake TLS 1.2 (tls_conn, both sides)",
         1e6 * t12, 1 / t12);

  /* OpenSSL's own DRBG in a plain context, same credentials */
  OSSL_LIB_CTX *plain = OSSL_LIB_CTX_new();
  raw_pair rp = {SSL_CTX_new_ex(plain, NULL, TLS_client_method()),
                 SSL_CTX_new_ex(plain, NULL, TLS_server_method())};
  BIO *kb = BIO_new_mem_buf(tls_cred_key_pem(cred), -1),
      *cb = BIO_new_mem_buf(tls_cred_cert_pem(cred), -1);
  BIO *ab = BIO_new_mem_buf(tls_ca_cert_pem(ca), -1);
  EVP_PKEY *key = PEM_read_bio_PrivateKey_ex(kb, NULL, NULL, NULL, plain, NULL);
  X509 *cert = PEM_read_bio_X509(cb, NULL, NULL, NULL),
       *cax = PEM_read_bio_X509(ab, NULL, NULL, NULL);
  SSL_CTX_use_certificate(rp.s, cert);
  SSL_CTX_use_PrivateKey(rp.s, key);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(rp.c), cax);
  SSL_CTX_set_verify(rp.c, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_num_tickets(rp.s, 0);
  double traw = measure(b_raw, &rp, n);
  printf("%-44s %10.1f us  %8.0f handshakes/s\n", "handshake TLS 1.3 (raw SSL, OpenSSL DRBG)",
         1e6 * traw, 1 / traw);

  /* The same contexts with one ticket per handshake, as our servers issue. */
  SSL_CTX_set_num_tickets(rp.s, 1);
  SSL_CTX_set_session_cache_mode(rp.c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  resume_arg ra = {&rp, raw_once(&rp, NULL, true, -1)};
  if (!ra.sess)
    g_error("no session ticket after a full handshake");
  double tres = measure(b_raw_resumed, &ra, n);
  printf("%-44s %10.1f us  %8.0f handshakes/s\n", "resumed TLS 1.3 (raw SSL, psk_dhe_ke)",
         1e6 * tres, 1 / tres);
  SSL_SESSION_free(ra.sess);

  X509_free(cert);
  X509_free(cax);
  EVP_PKEY_free(key);
  BIO_free(kb);
  BIO_free(cb);
  BIO_free(ab);
  SSL_CTX_free(rp.c);
  SSL_CTX_free(rp.s);
  OSSL_LIB_CTX_free(plain);
  tls_conn_ctx_free(p13.c);
  tls_conn_ctx_free(p13.s);
  tls_conn_ctx_free(p12.c);
  tls_conn_ctx_free(p12.s);
  tls_rand_free(rc);
  tls_rand_free(rs);
  tls_cred_free(cred);
  tls_ca_free(ca);
  tls_rand_free(warm);
  return 0;
}
