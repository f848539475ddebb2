/* tls_host.c — the world's CA and each host's TLS contexts, and each host's
 * client session cache: the newest ticket per server name, offered again
 * until its lifetime (the server's hint, capped by CACHE_LIFETIME) runs
 * out, as Postfix's smtp_tls_session_cache (timeout 3600 s) and mail
 * clients do. A lookup table only: nothing iterates it. */
#include "tls_host.h"

struct tls_world {
  sim_world *w;
  tls_rand *rand; /* the library context of the CA and of every host (each
                     host's tls_rand shares it with a stream of its own) */
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
  GHashTable *sessions; /* server name -> cache_entry */
  unsigned services;    /* 1u << tls_host_service */
};

/* Postfix: smtp_tls_session_cache_timeout = 3600 s (and smtpd's ticket
 * lifetime, smtpd_tls_session_cache_timeout, the same). */
#define CACHE_LIFETIME (INT64_C(3600) * 1000000000)

typedef struct {
  tls_session *s; /* the newest ticket, or NULL */
} cache_entry;

static void entry_free(gpointer p) {
  cache_entry *e = p;
  tls_session_free(e->s);
  g_free(e);
}

static void keep_session(void *ctx, tls_session *s) {
  cache_entry *e = ctx;
  tls_session_free(e->s);
  e->s = s;
}

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
  th->rand = tls_rand_new_shared(tw->rand, seed); /* the world's library context */
  seed_from(&th->rng, seed);
  th->cred = tls_cred_new(tls_rand_libctx(th->rand), tw->ca, names, n, seed, NULL);
  if (!th->cred)
    g_error("tls_host_new: OpenSSL refused the names of host %s", host_name(h));
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  cfg.cred = th->cred;
  cfg.verify = false;
  cfg.tickets = true;
  cfg.ticket_lifetime = CACHE_LIFETIME;
  char *err = NULL;
  th->server = tls_conn_ctx_new(th->rand, &cfg, &err);
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.trust = tw->ca;
  cfg.verify = true;
  cfg.tickets = true;
  th->client = tls_conn_ctx_new(th->rand, &cfg, err ? NULL : &err);
  if (!th->server || !th->client)
    g_error("tls_host_new: %s", err ? err : "no context");
  th->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
  th->services = TLS_HOST_ALL_SERVICES;
  return th;
}

void tls_host_set_services(tls_host *th, unsigned mask) {
  g_assert((mask & ~TLS_HOST_ALL_SERVICES) == 0);
  th->services = mask;
}

bool tls_host_on(const tls_host *th, tls_host_service service) {
  g_assert((unsigned)service < TLS_HOST__SERVICES);
  return th != NULL && (th->services & (1u << service)) != 0;
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
  g_hash_table_destroy(th->sessions);
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
  th->fault_rand = tls_rand_new_shared(th->tw->rand, seed);
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
  sim_time now = host_now(th->h);
  /* The key log is read only for packet detail (session.c, tls.keylog);
   * collecting it costs ~8 % of a handshake. */
  bool keylog = host_trace(th->h, SIM_DETAIL_PACKETS) != NULL;
  if (role == TLS_CONN_SERVER) {
    tls_conn_ctx *ctx = th->server;
    if (th->fault == TLS_HOST_FAULT_CERT_MISMATCH)
      ctx = th->wrong_name;
    else if (th->fault == TLS_HOST_FAULT_HANDSHAKE)
      ctx = th->no_cipher;
    tls_conn_ctx_set_keylog(ctx, keylog);
    return tls_conn_new(ctx, NULL, seed, NULL, now);
  }
  tls_conn_ctx_set_keylog(th->client, keylog);
  const char *key = server_name ? server_name : "";
  cache_entry *e = g_hash_table_lookup(th->sessions, key);
  if (!e) {
    e = g_new0(cache_entry, 1);
    g_hash_table_insert(th->sessions, g_strdup(key), e);
  }
  if (e->s && now - tls_session_received(e->s) > MIN(tls_session_lifetime(e->s), CACHE_LIFETIME)) {
    tls_session_free(e->s); /* expired */
    e->s = NULL;
  }
  tls_conn_env env = {.new_session = keep_session, .session_ctx = e};
  return tls_conn_new_resume(th->client, server_name, e->s, seed, &env, now);
}
