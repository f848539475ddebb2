/* tls_rand.c — a per-library-context RAND provider for OpenSSL 3 whose
 * output is a seeded, exactly reproducible stream.
 *
 * Why a provider and a context of our own: in OpenSSL 3 the DRBGs live in
 * the library context (crypto/rand/rand_lib.c), and libssl draws through
 * RAND_bytes_ex/RAND_priv_bytes_ex on the SSL_CTX's context. A fresh
 * OSSL_LIB_CTX with RAND_set_DRBG_type pointing at our algorithm therefore
 * captures every draw of the connections made in it, and nothing leaks
 * between contexts (between simulated worlds). The TEST-RAND of the default
 * provider cannot do this: used as a seed source only, the real DRBG above
 * it still mixes in time and counters (PLATFORM.md).
 *
 * All DRBG instances of a context (seed source, primary, public, private)
 * are the same algorithm and read the same provider-wide stream pointer, so
 * the parent/child chaining OpenSSL sets up is ignored on purpose: no
 * instance keeps state of its own and the draw order is the call order.
 *
 * The provider's dispatch follows provider-base(7) and provider-rand(7):
 * newctx/freectx, instantiate/uninstantiate/generate (the three EVP_RAND
 * requires), enable_locking/lock/unlock (required for the primary DRBG,
 * which OpenSSL shares between threads), get_ctx_params for state, strength
 * and max_request (EVP_RAND_generate asks for max_request).
 */
#include "tls_rand.h"

#include <glib.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <string.h>

#define PROV_NAME "mailsim-rand"
#define DRBG_NAME "MAILSIM-DRBG"
#define DRBG_PROPQ "provider=" PROV_NAME
#define MAX_REQUEST (1u << 16)

/* ---- the stream ---- */

static void sha256(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, a, (gssize)alen);
  g_checksum_update(c, b, (gssize)blen);
  gsize len = 32;
  g_checksum_get_digest(c, out, &len);
  g_assert(len == 32);
  g_checksum_free(c);
}

void tls_rand_stream_init(tls_rand_stream *stream, const uint8_t seed[TLS_RAND_SEED_LEN]) {
  memset(stream, 0, sizeof *stream);
  memcpy(stream->key, seed, TLS_RAND_SEED_LEN);
  stream->pos = sizeof stream->buf;
}

void tls_rand_stream_bytes(tls_rand_stream *stream, void *out, size_t len) {
  uint8_t *o = out;
  while (len > 0) {
    if (stream->pos == sizeof stream->buf) {
      uint8_t ctr[8];
      for (int i = 0; i < 8; i++)
        ctr[i] = (uint8_t)(stream->block >> (8 * i));
      sha256(stream->buf, stream->key, sizeof stream->key, ctr, sizeof ctr);
      stream->block++;
      stream->pos = 0;
    }
    size_t n = MIN(len, sizeof stream->buf - stream->pos);
    memcpy(o, stream->buf + stream->pos, n);
    stream->pos += (unsigned)n;
    stream->drawn += n;
    o += n;
    len -= n;
  }
}

void tls_rand_derive(uint8_t out[TLS_RAND_SEED_LEN], const uint8_t parent[TLS_RAND_SEED_LEN],
                     const char *label) {
  uint8_t tmp[32];
  sha256(tmp, parent, TLS_RAND_SEED_LEN, label, strlen(label));
  memcpy(out, tmp, sizeof tmp);
}

/* ---- the provider ---- */

/* The provider context: one per library context. */
typedef struct {
  GMutex lock;
  tls_rand_stream base;
  tls_rand_stream *current; /* NULL: base */
} prov_ctx;

/* One DRBG instance: only a state, the bytes come from the provider. */
typedef struct {
  prov_ctx *prov;
  int state;
} drbg_ctx;

static void *drbg_newctx(void *provctx, void *parent, const OSSL_DISPATCH *parent_calls) {
  (void)parent;
  (void)parent_calls;
  drbg_ctx *d = g_new0(drbg_ctx, 1);
  d->prov = provctx;
  d->state = EVP_RAND_STATE_UNINITIALISED;
  return d;
}

static void drbg_freectx(void *vctx) { g_free(vctx); }

static int drbg_instantiate(void *vctx, unsigned int strength, int prediction_resistance,
                            const unsigned char *pstr, size_t pstr_len, const OSSL_PARAM params[]) {
  (void)strength;
  (void)prediction_resistance;
  (void)pstr;
  (void)pstr_len;
  (void)params;
  drbg_ctx *d = vctx;
  d->state = EVP_RAND_STATE_READY;
  return 1;
}

static int drbg_uninstantiate(void *vctx) {
  drbg_ctx *d = vctx;
  d->state = EVP_RAND_STATE_UNINITIALISED;
  return 1;
}

/* Additional input and prediction resistance are ignored: both would only
 * feed outside state (OpenSSL's own DRBG mixes time into adin). */
static int drbg_generate(void *vctx, unsigned char *out, size_t outlen, unsigned int strength,
                         int prediction_resistance, const unsigned char *addin, size_t addin_len) {
  (void)strength;
  (void)prediction_resistance;
  (void)addin;
  (void)addin_len;
  drbg_ctx *d = vctx;
  if (d->state != EVP_RAND_STATE_READY)
    return 0;
  g_mutex_lock(&d->prov->lock);
  tls_rand_stream *s = d->prov->current ? d->prov->current : &d->prov->base;
  tls_rand_stream_bytes(s, out, outlen);
  g_mutex_unlock(&d->prov->lock);
  return 1;
}

static int drbg_reseed(void *vctx, int prediction_resistance, const unsigned char *ent,
                       size_t ent_len, const unsigned char *addin, size_t addin_len) {
  (void)vctx;
  (void)prediction_resistance;
  (void)ent;
  (void)ent_len;
  (void)addin;
  (void)addin_len;
  return 1;
}

/* As a parent (seed source) of an instance: hand out stream bytes. */
static size_t drbg_get_seed(void *vctx, unsigned char **buffer, int entropy, size_t min_len,
                            size_t max_len, int prediction_resistance, const unsigned char *adin,
                            size_t adin_len) {
  (void)entropy;
  (void)max_len;
  unsigned char *b = OPENSSL_secure_malloc(min_len);
  if (b == NULL)
    return 0;
  if (!drbg_generate(vctx, b, min_len, 0, prediction_resistance, adin, adin_len)) {
    OPENSSL_secure_clear_free(b, min_len);
    return 0;
  }
  *buffer = b;
  return min_len;
}

static void drbg_clear_seed(void *vctx, unsigned char *buffer, size_t b_len) {
  (void)vctx;
  OPENSSL_secure_clear_free(buffer, b_len);
}

/* Locking is the provider's mutex, taken inside generate. */
static int drbg_enable_locking(void *vctx) {
  (void)vctx;
  return 1;
}
static int drbg_lock(void *vctx) {
  (void)vctx;
  return 1;
}
static void drbg_unlock(void *vctx) { (void)vctx; }

static const OSSL_PARAM *drbg_gettable_ctx_params(void *vctx, void *provctx) {
  (void)vctx;
  (void)provctx;
  static const OSSL_PARAM known[] = {
      OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, NULL),
      OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, NULL),
      OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, NULL),
      OSSL_PARAM_END,
  };
  return known;
}

static int drbg_get_ctx_params(void *vctx, OSSL_PARAM params[]) {
  drbg_ctx *d = vctx;
  OSSL_PARAM *p;
  if ((p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE)) != NULL &&
      !OSSL_PARAM_set_int(p, d->state))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH)) != NULL &&
      !OSSL_PARAM_set_uint(p, 256))
    return 0;
  if ((p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST)) != NULL &&
      !OSSL_PARAM_set_size_t(p, MAX_REQUEST))
    return 0;
  return 1;
}

#define FN(f) ((void (*)(void))(f))

static const OSSL_DISPATCH drbg_functions[] = {
    {OSSL_FUNC_RAND_NEWCTX, FN(drbg_newctx)},
    {OSSL_FUNC_RAND_FREECTX, FN(drbg_freectx)},
    {OSSL_FUNC_RAND_INSTANTIATE, FN(drbg_instantiate)},
    {OSSL_FUNC_RAND_UNINSTANTIATE, FN(drbg_uninstantiate)},
    {OSSL_FUNC_RAND_GENERATE, FN(drbg_generate)},
    {OSSL_FUNC_RAND_RESEED, FN(drbg_reseed)},
    {OSSL_FUNC_RAND_ENABLE_LOCKING, FN(drbg_enable_locking)},
    {OSSL_FUNC_RAND_LOCK, FN(drbg_lock)},
    {OSSL_FUNC_RAND_UNLOCK, FN(drbg_unlock)},
    {OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS, FN(drbg_gettable_ctx_params)},
    {OSSL_FUNC_RAND_GET_CTX_PARAMS, FN(drbg_get_ctx_params)},
    {OSSL_FUNC_RAND_GET_SEED, FN(drbg_get_seed)},
    {OSSL_FUNC_RAND_CLEAR_SEED, FN(drbg_clear_seed)},
    {0, NULL},
};

static const OSSL_ALGORITHM prov_rands[] = {
    {DRBG_NAME, DRBG_PROPQ, drbg_functions, "mailsim deterministic generator (SHA-256 counter)"},
    {NULL, NULL, NULL, NULL},
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int operation_id, int *no_cache) {
  (void)provctx;
  *no_cache = 0;
  return operation_id == OSSL_OP_RAND ? prov_rands : NULL;
}

static void prov_teardown(void *provctx) {
  prov_ctx *p = provctx;
  g_mutex_clear(&p->lock);
  g_free(p);
}

static const OSSL_DISPATCH prov_functions[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, FN(prov_teardown)},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, FN(prov_query)},
    {0, NULL},
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     const OSSL_DISPATCH **out, void **provctx) {
  (void)handle;
  (void)in;
  prov_ctx *p = g_new0(prov_ctx, 1);
  g_mutex_init(&p->lock);
  /* Unseeded until tls_rand_new seeds it, which happens before any draw:
   * an all-zero key is still a fixed, reproducible stream. */
  static const uint8_t zero[TLS_RAND_SEED_LEN];
  tls_rand_stream_init(&p->base, zero);
  *out = prov_functions;
  *provctx = p;
  return 1;
}

/* ---- the context ---- */

struct tls_rand {
  OSSL_LIB_CTX *libctx;
  OSSL_PROVIDER *prov_default, *prov_rand; /* NULL in a shared tls_rand */
  prov_ctx *prov;
  bool shared;         /* made by tls_rand_new_shared: the context is borrowed */
  tls_rand_stream own; /* shared: the base stream */
};

G_GNUC_NORETURN static void die(const char *what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  g_error("tls_rand_new: %s: %s", what, buf);
}

tls_rand *tls_rand_new(const uint8_t seed[TLS_RAND_SEED_LEN]) {
  tls_rand *r = g_new0(tls_rand, 1);
  r->libctx = OSSL_LIB_CTX_new();
  if (r->libctx == NULL)
    die("OSSL_LIB_CTX_new");
  if (!OSSL_PROVIDER_add_builtin(r->libctx, PROV_NAME, prov_init))
    die("OSSL_PROVIDER_add_builtin");
  r->prov_rand = OSSL_PROVIDER_load(r->libctx, PROV_NAME);
  if (r->prov_rand == NULL)
    die("OSSL_PROVIDER_load " PROV_NAME);
  r->prov = OSSL_PROVIDER_get0_provider_ctx(r->prov_rand);
  g_assert(r->prov != NULL);
  tls_rand_stream_init(&r->prov->base, seed);
  /* Before any DRBG of the context exists (they are made on first use). */
  if (!RAND_set_DRBG_type(r->libctx, DRBG_NAME, DRBG_PROPQ, NULL, NULL))
    die("RAND_set_DRBG_type");
  if (!RAND_set_seed_source_type(r->libctx, DRBG_NAME, DRBG_PROPQ))
    die("RAND_set_seed_source_type");
  r->prov_default = OSSL_PROVIDER_load(r->libctx, "default");
  if (r->prov_default == NULL)
    die("OSSL_PROVIDER_load default");
  return r;
}

tls_rand *tls_rand_new_shared(tls_rand *lib, const uint8_t seed[TLS_RAND_SEED_LEN]) {
  g_assert(lib != NULL && !lib->shared);
  tls_rand *r = g_new0(tls_rand, 1);
  r->libctx = lib->libctx;
  r->prov = lib->prov;
  r->shared = true;
  tls_rand_stream_init(&r->own, seed);
  return r;
}

void tls_rand_free(tls_rand *rand) {
  if (rand == NULL)
    return;
  if (rand->shared) {
    g_assert(rand->prov->current != &rand->own); /* never left bound */
    g_free(rand);
    return;
  }
  OSSL_PROVIDER_unload(rand->prov_default);
  OSSL_PROVIDER_unload(rand->prov_rand);
  OSSL_LIB_CTX_free(rand->libctx);
  g_free(rand);
}

OSSL_LIB_CTX *tls_rand_libctx(const tls_rand *rand) { return rand->libctx; }

tls_rand_stream *tls_rand_bind(tls_rand *rand, tls_rand_stream *stream) {
  g_mutex_lock(&rand->prov->lock);
  tls_rand_stream *old = rand->prov->current;
  rand->prov->current = stream;
  g_mutex_unlock(&rand->prov->lock);
  return old;
}

tls_rand_stream *tls_rand_base(tls_rand *rand) { return rand->shared ? &rand->own : NULL; }

uint64_t tls_rand_base_drawn(const tls_rand *rand) {
  g_mutex_lock(&rand->prov->lock);
  uint64_t n = rand->shared ? rand->own.drawn : rand->prov->base.drawn;
  g_mutex_unlock(&rand->prov->lock);
  return n;
}
