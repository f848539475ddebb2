/* tls_fixture.h — a small world for TLS tests: a CA, a server credential,
 * one tls_rand per side, and a pump that copies ciphertext between two
 * tls_conn in memory, recording the transcript. */
#ifndef MAILSIM_TLS_FIXTURE_H
#define MAILSIM_TLS_FIXTURE_H

#include <glib.h>

#include "tls_conn.h"

typedef struct {
  tls_rand *rand_c, *rand_s; /* client host, server host */
  tls_ca *ca;
  tls_cred *cred; /* for SERVER_NAME, ALT_NAME, 192.0.2.25 */
  tls_conn_ctx *cctx, *sctx;
} tls_world;

#define SERVER_NAME "mx.example"
#define ALT_NAME "smtp.example"

/* Seed bytes: a 32-octet seed whose octets are all B. */
void fixture_seed(uint8_t seed[TLS_RAND_SEED_LEN], uint8_t b);

/* Makes a world from WORLD_SEED. CCFG/SCFG override the default contexts
 * (client trusting the CA with verify on, server with the credential);
 * NULL = default. V: the credential's validity (NULL: default). */
void fixture_world_init(tls_world *w, uint8_t world_seed, const tls_conn_config *ccfg,
                        const tls_conn_config *scfg, const tls_cert_validity *v);
void fixture_world_clear(tls_world *w);

/* Moves ciphertext both ways until neither side has any, CHUNK bytes per
 * feed (0 = all at once), at time NOW. Appends every transfer to TRANSCRIPT
 * (if not NULL) as a direction octet ('C' client->server, 'S'), a 4-octet
 * length and the bytes. Returns the number of transfers. */
size_t fixture_pump(tls_conn *cli, tls_conn *srv, size_t chunk, int64_t now,
                    GByteArray *transcript);

/* Drains C's events into a text "ESTABLISHED TLSv1.3 … |FAILED reason|…". */
char *fixture_events(tls_conn *c);
/* fixture_events() with " resumed=0|1" after ESTABLISHED when RESUMED. */
char *fixture_events_ex(tls_conn *c, bool resumed);

/* Drains C's plaintext into a string (g_free). */
char *fixture_plain(tls_conn *c);

#endif
