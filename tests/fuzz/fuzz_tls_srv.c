/* libFuzzer target: the TLS adapter as a server. The first input byte picks
 * the mode: even — the rest is the client's byte stream as is; odd — the
 * rest is XORed over a real ClientHello (made once at start-up), so the
 * mutations reach deep into the handshake. The stream is fed in chunks
 * whose sizes come from the data; then plaintext is written and the
 * connection closed. Any abort or sanitizer report is a bug in the adapter
 * (or in OpenSSL). The contexts are made once: a fresh context per input
 * would cost milliseconds. */
#include <stdint.h>
#include <string.h>

#include "tls_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  tls_rand *rand;
  tls_ca *ca;
  tls_cred *cred;
  tls_conn_ctx *sctx;
  uint8_t hello[4096];
  size_t hello_len;
} fuzz_env;

static fuzz_env *setup(void) {
  static fuzz_env env;
  if (env.rand != NULL)
    return &env;
  uint8_t seed[TLS_RAND_SEED_LEN] = {3};
  env.rand = tls_rand_new(seed);
  env.ca = tls_ca_new(tls_rand_libctx(env.rand), seed, NULL, NULL);
  const char *names[] = {"mx.example"};
  env.cred = tls_cred_new(tls_rand_libctx(env.rand), env.ca, names, 1, seed, NULL);
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  cfg.cred = env.cred;
  cfg.verify = false;
  env.sctx = tls_conn_ctx_new(env.rand, &cfg, NULL);
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.trust = env.ca;
  tls_conn_ctx *cctx = tls_conn_ctx_new(env.rand, &cfg, NULL);
  tls_conn *c = tls_conn_new(cctx, "mx.example", seed, NULL, 0);
  const uint8_t *p = tls_conn_cipher_peek(c, &env.hello_len);
  if (env.hello_len > sizeof env.hello)
    env.hello_len = sizeof env.hello;
  memcpy(env.hello, p, env.hello_len);
  tls_conn_free(c);
  tls_conn_ctx_free(cctx);
  return &env;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_env *env = setup();
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++, size--;
  uint8_t buf[4096];
  const uint8_t *in = data;
  if (mode & 1) {
    size_t n = env->hello_len;
    memcpy(buf, env->hello, n);
    for (size_t i = 0; i < size && i < n; i++)
      buf[i] ^= data[i];
    in = buf;
    size = n;
  }
  uint8_t seed[TLS_RAND_SEED_LEN] = {mode};
  tls_conn *s = tls_conn_new(env->sctx, NULL, seed, NULL, 0);
  size_t pos = 0;
  int64_t now = 0;
  while (pos < size) {
    size_t k = 1 + in[pos] % 97;
    if (k > size - pos)
      k = size - pos;
    tls_conn_feed_cipher(s, in + pos, k, ++now);
    pos += k;
    size_t n;
    tls_conn_cipher_peek(s, &n);
    tls_conn_cipher_consume(s, n);
    tls_conn_event ev;
    while (tls_conn_next_event(s, &ev))
      if (ev.type == TLS_CONN_EV_FAILED && ev.reason == NULL)
        __builtin_trap();
  }
  tls_conn_write_plain(s, "220 x\r\n", 7, now);
  tls_conn_close(s, now);
  tls_conn_read_plain(s, buf, sizeof buf);
  tls_conn_free(s);
  return 0;
}
