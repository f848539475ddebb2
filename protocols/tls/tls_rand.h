/* tls_rand.h — deterministic randomness for OpenSSL 3, one library context
 * at a time, with no process-global state.
 *
 * A tls_rand owns an OSSL_LIB_CTX into which it loads OpenSSL's "default"
 * provider (ciphers, key exchange, signatures) and a small built-in provider,
 * "mailsim-rand", whose only algorithm is the RAND "MAILSIM-DRBG". Before
 * anything can draw, RAND_set_DRBG_type and RAND_set_seed_source_type make
 * MAILSIM-DRBG the primary, public and private generators and the seed source
 * of that context, so every draw made on behalf of the context (client and
 * server randoms, X25519 keys, session ids, ticket keys) comes from a
 * tls_rand_stream and the operating system's entropy is never read.
 *
 * The generator: block i of a stream is SHA-256(key || i as 8 little-endian
 * bytes); bytes are handed out in order, so a stream's output depends only on
 * its 32-byte seed and on how many bytes were drawn before. (Not meant to be
 * secure; meant to be exact.) Seeds come from the simulator's named streams.
 *
 * Which stream a draw uses: the context's base stream (seeded by
 * tls_rand_new), unless a stream is bound with tls_rand_bind. tls_conn binds
 * its own stream around every call into libssl, so a connection's bytes
 * depend on its own seed only, not on what other connections of the same
 * context drew before — one tls_rand per host serves all its connections.
 *
 * Threads: a tls_rand may be used by one thread at a time. Several tls_rand
 * (several simulated worlds) in one process, on one thread or on several,
 * never share generator state.
 *
 * Cost (bench/tls_handshake.c and callgrind, OpenSSL 3.0, this machine):
 * tls_rand_new is cheap (~5 us, 74k instructions: providers load lazily),
 * but the first SSL_CTX in a fresh context fetches every algorithm (~2.5-4
 * ms, 11.5M instructions) against ~0.3-0.6 ms (2.5M) for an SSL_CTX in a
 * warm one and ~2 ms (10M) for a whole TLS 1.3 handshake, both sides. So:
 * one library context per simulated world (tls_rand_new), one tls_rand per
 * simulated host sharing it (tls_rand_new_shared, seeded from the host's
 * stream), one tls_conn_ctx per host and role, one tls_conn per connection
 * (seeded from the host's stream and the connection id, e.g. with
 * tls_rand_derive).
 */
#ifndef MAILSIM_TLS_RAND_H
#define MAILSIM_TLS_RAND_H

#include <openssl/types.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_RAND_SEED_LEN 32

/* One generator stream (plain data: may live in the caller's storage). */
typedef struct {
  uint8_t key[TLS_RAND_SEED_LEN];
  uint64_t block;  /* index of the next block to compute */
  uint8_t buf[32]; /* the current block */
  unsigned pos;    /* bytes of buf already handed out (32 = none left) */
  uint64_t drawn;  /* total bytes handed out */
} tls_rand_stream;

/* Seeds STREAM with SEED; the stream starts at its first byte. */
void tls_rand_stream_init(tls_rand_stream *stream, const uint8_t seed[TLS_RAND_SEED_LEN]);
/* Writes the next LEN bytes of STREAM to OUT. */
void tls_rand_stream_bytes(tls_rand_stream *stream, void *out, size_t len);

/* OUT = SHA-256(PARENT || LABEL): a child seed named LABEL (a connection, a
 * key). OUT may alias PARENT. */
void tls_rand_derive(uint8_t out[TLS_RAND_SEED_LEN], const uint8_t parent[TLS_RAND_SEED_LEN],
                     const char *label);

typedef struct tls_rand tls_rand;

/* Creates a library context whose randomness is the stream seeded by SEED.
 * Never returns NULL (an OpenSSL setup failure is a broken installation:
 * aborts with OpenSSL's error). */
tls_rand *tls_rand_new(const uint8_t seed[TLS_RAND_SEED_LEN]);
/* A tls_rand that shares LIB's library context (its providers, algorithm
 * caches and name map: ~0.5 MiB and ~10M instructions of first fetches per
 * context) but has a base stream of its own, seeded by SEED. LIB (borrowed)
 * must have been made by tls_rand_new and must outlive the result.
 * Draws in the shared context come from the bound stream (tls_rand_bind);
 * what is made on the shared tls_rand's behalf outside a connection
 * (tls_conn_ctx_new: OpenSSL's ticket keys) binds its base stream
 * (tls_rand_base) around the call, so a shared tls_rand hands out the same
 * bytes, in the same order, as a tls_rand_new of the same seed — as long
 * as its owner binds it around every call that draws (tls_conn does). */
tls_rand *tls_rand_new_shared(tls_rand *lib, const uint8_t seed[TLS_RAND_SEED_LEN]);
/* Frees the context (a shared tls_rand: only its own stream). Everything
 * made in it (SSL_CTX, SSL, EVP_PKEY, X509) must be freed first. NULL is a
 * no-op. */
void tls_rand_free(tls_rand *rand);

/* The library context, borrowed: pass it to SSL_CTX_new_ex, X509_new_ex,
 * EVP_PKEY_*_ex. */
OSSL_LIB_CTX *tls_rand_libctx(const tls_rand *rand);

/* Makes STREAM (borrowed, must stay valid while bound) the source of every
 * draw in RAND's library context and returns the previously bound stream
 * (NULL = the context's own base stream, the one tls_rand_new seeded).
 * tls_rand_bind(rand, NULL) binds that base stream again; passing back what
 * bind returned restores exactly the previous binding. Bind, call OpenSSL,
 * restore — never leave a freed stream bound. A shared context
 * (tls_rand_new_shared) has one binding for all its tls_rand. */
tls_rand_stream *tls_rand_bind(tls_rand *rand, tls_rand_stream *stream);
/* The stream to bind for draws on RAND's own behalf: NULL for a tls_rand_new
 * (its base stream is the context's), the shared tls_rand's own base stream
 * otherwise. */
tls_rand_stream *tls_rand_base(tls_rand *rand);

/* Bytes drawn from RAND's base stream so far (diagnostics and tests). */
uint64_t tls_rand_base_drawn(const tls_rand *rand);

#endif
