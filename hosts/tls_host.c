/* tls_host.c — the world's CA and each host's TLS contexts. */
#include "tls_host.h"

struct tls_world {
  sim_world *w;
  tls_rand *rand; /* the CA's library context */
  tls_ca *ca;
};

struct tls_host {
  tls_world *tw;
  host *h;
  sim_rng rng; /* "tls:NAME": connection seeds */
  tls_rand *rand;
  tls_cred *cred;
  tls_conn_ctx *server, *client;
  /* faults: made on first use */
  tls_host_fault fault;
  tls_rand *fault_rand;
  tls_cred *wrong_cred;
  tls_conn_ctx *wrong_name, *no_cipher;
};

static void seed_from(sim_rng *rng, uint8_t seed[TLS_RAND_SEED_LEN]) {
  for (size_t i = 0; i < TLS_RAND_SEED_LEN; i += 8) {
    uint64_t v = sim_rng_u64(rng);
    for (size_t k = 0; k < 8 && i + k < TLS_RAND_SEED_LEN; k++)
      seed[i + k] = (uint8_t)(v >> (8 * k));
  }
}

tls_world *tls_world_new(sim_world *w) {
  tls_world *tw = g_new0(tls_world, 1);
  tw->w = w;
  sim_rng rng;
  sim_world_stream(w, "tls:ca", &rng);
  uint8_t seed[TLS_RAND_SEED_LEN];
  seed_from(&rng, seed);
  tw->rand = tls_rand_new(seed);
  seed_from(&rng, seed);
  tw->ca = tls_ca_new(tls_rand_libctx(tw->rand), seed, NULL, NULL); /* fixed default dates */
  return tw;
}

void tls_world_free(tls_world *tw) {
  if (!tw)
    return;
  tls_ca_free(tw->ca);
  tls_rand_free(tw->rand);
  g_free(tw);
}

const tls_ca *tls_world_ca(const tls_world *tw) { return tw->ca; }

tls_host *tls_host_new(tls_world *tw, host *h, const char *const *names, size_t n) {
  tls_host *th = g_new0(tls_host, 1);
  th->tw = tw;
  th->h = h;
  char *stream = g_strdup_printf("tls:%s", host_name(h));
  sim_world_stream(host_world(h), stream, &th->rng);
  g_free(stream);
  uint8_t seed[TLS_RAND_SEED_LEN];
  seed_from(&th->rng, seed);
  th->rand = tls_rand_new(seed);
  seed_from(&th->rng, seed);
  th->cred = tls_cred_new(tls_rand_libctx(th->rand), tw->ca, names, n, seed, NULL);
  if (!th->cred)
    g_error("tls_host_new: OpenSSL refused the names of host %s", host_name(h));
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  cfg.cred = th->cred;
  cfg.verify = false;
  char *err = NULL;
  th->server = tls_conn_ctx_new(th->rand, &cfg, &err);
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.trust = tw->ca;
  cfg.verify = true;
  th->client = tls_conn_ctx_new(th->rand, &cfg, err ? NULL : &err);
  if (!th->server || !th->client)
    g_error("tls_host_new: %s", err ? err : "no context");
  return th;
}

void tls_host_free(tls_host *th) {
  if (!th)
    return;
  tls_conn_ctx_free(th->server);
  tls_conn_ctx_free(th->client);
  tls_conn_ctx_free(th->wrong_name);
  tls_conn_ctx_free(th->no_cipher);
  tls_cred_free(th->wrong_cred);
  tls_rand_free(th->fault_rand);
  tls_cred_free(th->cred);
  tls_rand_free(th->rand);
  g_free(th);
}

static void make_fault_ctxs(tls_host *th) {
  if (th->fault_rand)
    return;
  sim_rng rng;
  char *stream = g_strdup_printf("tls-fault:%s", host_name(th->h));
  sim_world_stream(host_world(th->h), stream, &rng);
  g_free(stream);
  uint8_t seed[TLS_RAND_SEED_LEN];
  seed_from(&rng, seed);
  th->fault_rand = tls_rand_new(seed);
  seed_from(&rng, seed);
  const char *wrong[] = {"wrong-name.invalid"};
  th->wrong_cred = tls_cred_new(tls_rand_libctx(th->fault_rand), th->tw->ca, wrong, 1, seed, NULL);
  g_assert(th->wrong_cred);
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  cfg.cred = th->wrong_cred;
  cfg.verify = false;
  th->wrong_name = tls_conn_ctx_new(th->fault_rand, &cfg, NULL);
  cfg.cred = th->cred;
  cfg.max_version = TLS_CONN_V1_2;
  cfg.cipher_list = "PSK-AES128-CBC-SHA"; /* no PSK identity on either side: nothing shared */
  th->no_cipher = tls_conn_ctx_new(th->fault_rand, &cfg, NULL);
  g_assert(th->wrong_name && th->no_cipher);
}

void tls_host_set_fault(tls_host *th, tls_host_fault f) {
  if (f != TLS_HOST_FAULT_NONE)
    make_fault_ctxs(th);
  th->fault = f;
}

tls_host_fault tls_host_get_fault(const tls_host *th) { return th->fault; }

tls_conn *tls_host_conn(tls_host *th, tls_conn_role role, const char *server_name) {
  uint8_t seed[TLS_RAND_SEED_LEN];
  seed_from(&th->rng, seed);
  tls_conn_ctx *ctx = role == TLS_CONN_SERVER ? th->server : th->client;
  if (role == TLS_CONN_SERVER && th->fault == TLS_HOST_FAULT_CERT_MISMATCH)
    ctx = th->wrong_name;
  else if (role == TLS_CONN_SERVER && th->fault == TLS_HOST_FAULT_HANDSHAKE)
    ctx = th->no_cipher;
  return tls_conn_new(ctx, role == TLS_CONN_CLIENT ? server_name : NULL, seed, NULL,
                      host_now(th->h));
}
