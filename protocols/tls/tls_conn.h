/* tls_conn.h — the TLS adapter: OpenSSL 3 over memory buffers, sans-I/O and
 * deterministic. One adapter for SMTP (STARTTLS, RFC 3207), IMAP and POP3
 * (STARTTLS/STLS, RFC 2595), in simulation and live mode alike.
 *
 * Two levels, as in OpenSSL:
 *   tls_conn_ctx  what a host serves or trusts (role, credentials, trusted
 *                 CA, verification, versions): an SSL_CTX in the host's
 *                 tls_rand context. Costly (0.3-4 ms, tls_rand.h); make one
 *                 per host and role and keep it.
 *   tls_conn      one TLS session over one byte stream (~ an SSL object).
 *
 * Shape (STYLE.md "Engines"): ciphertext from the peer goes in with
 * tls_conn_feed_cipher() (any split); ciphertext for the peer comes out with
 * tls_conn_cipher_peek()/_consume(); plaintext goes in with
 * tls_conn_write_plain() and comes out with tls_conn_plain_peek()/_consume()
 * (or tls_conn_read_plain()); events are pulled with tls_conn_next_event().
 * No clock is read: every call takes NOW (ns of simulated time) and the
 * certificate check uses TLS_EPOCH_UNIX + NOW as the current time
 * (X509_VERIFY_PARAM_set_time). No timer: TLS itself has none here; the
 * protocol engine above times out.
 *
 * The owner's loop:
 *   c = tls_conn_new(ctx, server_name, seed, env, now);  (a client queues its
 *                                                        ClientHello at once)
 *   loop:
 *     send tls_conn_cipher_peek() bytes; tls_conn_cipher_consume(n);
 *     on bytes from the peer: tls_conn_feed_cipher(c, buf, n, now);
 *     while (tls_conn_next_event(c, &ev)) handle(ev);
 *     plaintext for the engine: tls_conn_plain_peek()/_consume();
 *     plaintext from the engine: tls_conn_write_plain();
 *   after FAILED or CLOSED: send the pending ciphertext (an alert or
 *   close_notify), then close the stream and free.
 *
 * Determinism: every draw OpenSSL makes for a connection comes from the
 * connection's own stream, seeded by the SEED given to tls_conn_new (bound
 * around each call, tls_rand.h), so a connection's bytes depend only on its
 * seed, its config and the peer's bytes — not on other connections.
 *
 * Resumption (RFC 8446 §2.2, §4.6.1), off unless the config asks for it
 * (tls_conn_config.tickets). A server context then issues one stateless
 * NewSessionTicket per handshake, encrypted under the context's ticket key
 * (OpenSSL's own, drawn from the context's stream when it is made), as
 * Postfix's smtpd and Dovecot do. A client context hands every ticket it
 * receives to env.new_session as a tls_session; the owner caches it per
 * destination (Postfix: smtp_tls_session_cache) and offers it again with
 * tls_conn_new_resume(). The key exchange mode is psk_dhe_ke (OpenSSL's
 * default, what real servers and clients use): a resumed handshake skips
 * the certificate, its signature and its verification but still does an
 * X25519 exchange, so it keeps forward secrecy.
 *
 * No wall-clock value reaches the wire: the server stamps each ticket's
 * session with simulated time (TLS_EPOCH_UNIX + NOW) before encrypting it
 * and checks a ticket's age in simulated time (tls_conn_config.ticket_lifetime)
 * when it comes back; the client's obfuscated ticket age (RFC 8446 §4.2.11.1)
 * is computed by OpenSSL from time(NULL), so tls_conn_new_resume back-dates
 * the session by its simulated age just before the ClientHello is built and
 * builds it again should the wall-clock second change in between. Without
 * tickets, SSL_OP_NO_TICKET and num_tickets 0 keep OpenSSL from issuing any.
 */
#ifndef MAILSIM_TLS_CONN_H
#define MAILSIM_TLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_cert.h"
#include "tls_rand.h"

/* Simulated time 0 is 2026-01-01T00:00:00Z for certificate checks. */
#define TLS_EPOCH_UNIX INT64_C(1767225600)

typedef struct tls_conn tls_conn;

typedef enum { TLS_CONN_CLIENT, TLS_CONN_SERVER } tls_conn_role;
const char *tls_conn_role_name(tls_conn_role r);

typedef enum { TLS_CONN_V1_2, TLS_CONN_V1_3 } tls_conn_version;

/* What a context serves and trusts. Pointers are borrowed by
 * tls_conn_ctx_new only (the credentials are copied into the context). */
typedef struct {
  tls_conn_role role;
  const tls_cred *cred; /* server: required; client: a client certificate or NULL */
  const tls_ca *trust;  /* the CA whose certificates are accepted, or NULL */
  /* Client: verify the server's chain against TRUST and its name against
   * the server name; a failure aborts the handshake (FAILED). Off: the
   * handshake goes on and ESTABLISHED tells whether the peer verified.
   * Server: ask for a client certificate and require a valid one. */
  bool verify;
  tls_conn_version min_version, max_version;
  /* TLS 1.2 cipher list in OpenSSL syntax (SSL_CTX_set_cipher_list); NULL:
   * OpenSSL's default. A list the peer shares nothing with makes the
   * handshake fail with a handshake_failure alert (a fault, issue 10). */
  const char *cipher_list;
  /* Resumption: a server issues session tickets; a client passes the
   * tickets it receives to env.new_session (see above). */
  bool tickets;
  /* Server: a ticket older than this (simulated ns) is not accepted (a full
   * handshake follows); also the lifetime announced in the ticket, in
   * seconds. Postfix: smtpd_tls_session_cache_timeout, 3600 s. */
  int64_t ticket_lifetime;
} tls_conn_config;

/* Defaults: client, no credentials, no trust, verify on, TLS 1.2..1.3, no
 * tickets (lifetime 3600 s when turned on). */
void tls_conn_config_init(tls_conn_config *cfg, tls_conn_role role);

typedef struct tls_conn_ctx tls_conn_ctx;

/* Makes a context in RAND's library context (RAND is borrowed and must
 * outlive the context and its connections). Returns NULL, with a reason in
 * *ERR (g_free it; ERR may be NULL) when the config is unusable: a server
 * without credentials, min_version above max_version. Draws from RAND's base
 * stream (OpenSSL makes ticket keys even though tickets are off). */
tls_conn_ctx *tls_conn_ctx_new(tls_rand *rand, const tls_conn_config *cfg, char **err);
void tls_conn_ctx_free(tls_conn_ctx *ctx);
/* Collect the key log (tls_conn_keylog) of connections made in CTX from now
 * on: ON by default. Off, tls_conn_keylog stays "" and OpenSSL formats no
 * secret as hex (about 8 % of a handshake's instructions: libssl prints
 * each key log line byte by byte whenever a callback is set). Nothing on
 * the wire depends on it. */
void tls_conn_ctx_set_keylog(tls_conn_ctx *ctx, bool on);

/* What a connection reports through its trace hook. */
typedef enum {
  TLS_CONN_TRACE_STATE, /* "OLD -> NEW" */
  TLS_CONN_TRACE_NOTE,
  TLS_CONN_TRACE__COUNT
} tls_conn_trace_kind;
const char *tls_conn_trace_kind_name(tls_conn_trace_kind k);

/* Called synchronously from inside tls_conn calls; TEXT is borrowed for the
 * call. Must not call back into the connection. */
typedef void (*tls_conn_trace_fn)(void *ctx, int64_t now, tls_conn_trace_kind kind,
                                  const char *text);

/* A session a client may resume: the ticket, its secret and what the full
 * handshake established (peer certificate, verification result). Opaque;
 * owned by whoever took it; immutable once made, so one session may be
 * offered by several connections. */
typedef struct tls_session tls_session;
void tls_session_free(tls_session *s);
/* When the ticket arrived (simulated ns) and how long the server said it
 * may be used (RFC 8446 §4.6.1 ticket_lifetime, in ns). */
int64_t tls_session_received(const tls_session *s);
int64_t tls_session_lifetime(const tls_session *s);

/* Client with tickets on: a NewSessionTicket arrived at NOW; the callee
 * owns S. Called synchronously from inside tls_conn calls; must not call
 * back into the connection. */
typedef void (*tls_conn_session_fn)(void *ctx, tls_session *s);

typedef struct {
  tls_conn_trace_fn trace; /* NULL: no tracing */
  void *ctx;
  tls_conn_session_fn new_session; /* NULL: tickets are dropped */
  void *session_ctx;
} tls_conn_env;

/* Legal transitions: HANDSHAKE -> OPEN | FAILED | SHUTDOWN; OPEN -> CLOSED
 * (the peer's close_notify) | FAILED (a fatal alert or a broken record) |
 * SHUTDOWN (tls_conn_close); SHUTDOWN -> CLOSED | FAILED. CLOSED and FAILED
 * are final. */
typedef enum {
  TLS_CONN_HANDSHAKE,
  TLS_CONN_OPEN,
  TLS_CONN_CLOSED,
  TLS_CONN_SHUTDOWN,
  TLS_CONN_FAILED,
  TLS_CONN__COUNT
} tls_conn_state;
const char *tls_conn_state_name(tls_conn_state s);

typedef enum {
  TLS_CONN_EV_ESTABLISHED, /* the handshake is done: version, cipher, peer */
  TLS_CONN_EV_FAILED,      /* reason: handshake or record failure */
  TLS_CONN_EV_CLOSED,      /* the peer sent close_notify */
  TLS_CONN_EV__COUNT
} tls_conn_event_type;
const char *tls_conn_event_type_name(tls_conn_event_type t);

/* One event; strings are borrowed from the connection until it is freed. */
typedef struct {
  tls_conn_event_type type;
  const char *version;      /* ESTABLISHED: "TLSv1.3", "TLSv1.2" */
  const char *cipher;       /* ESTABLISHED: "TLS_AES_256_GCM_SHA384", … */
  const char *group;        /* ESTABLISHED: the key exchange group, "X25519", or "" */
  bool peer_verified;       /* ESTABLISHED: the peer's certificate verified (chain, name, time) */
  const char *peer_subject; /* ESTABLISHED: the peer certificate's CN, "" if none */
  const char *server_name;  /* ESTABLISHED: the SNI sent (client) or received (server), or "" */
  bool resumed;             /* ESTABLISHED: a session ticket was accepted (no certificate sent) */
  const char *reason;       /* FAILED: e.g. "certificate verify failed: hostname mismatch" */
} tls_conn_event;

/* Starts a connection of CTX's role at NOW. SERVER_NAME (client; may be
 * NULL) is sent as SNI when it is a DNS name (RFC 6066 §3: not for IP
 * literals) and is the name the certificate must match when verifying.
 * SEED seeds the connection's randomness (derive it from the host's stream
 * and the connection id). ENV is copied (NULL: no trace). Never NULL. */
tls_conn *tls_conn_new(tls_conn_ctx *ctx, const char *server_name,
                       const uint8_t seed[TLS_RAND_SEED_LEN], const tls_conn_env *env, int64_t now);
/* The same, offering SESSION (borrowed for the call; NULL: tls_conn_new) for
 * resumption. The server may decline it (expired, unknown key): the
 * handshake is then a full one and ESTABLISHED says resumed = false. A
 * session older than its lifetime at NOW is not offered at all. */
tls_conn *tls_conn_new_resume(tls_conn_ctx *ctx, const char *server_name,
                              const tls_session *session, const uint8_t seed[TLS_RAND_SEED_LEN],
                              const tls_conn_env *env, int64_t now);
void tls_conn_free(tls_conn *c);

/* Ciphertext from the peer, any split. Bytes fed after FAILED or CLOSED are
 * dropped. */
void tls_conn_feed_cipher(tls_conn *c, const void *buf, size_t len, int64_t now);

/* Ciphertext for the peer: *LEN bytes at the returned pointer (never NULL; borrowed
 * until the next call into C); consume drops the first N (N <= *LEN). */
const uint8_t *tls_conn_cipher_peek(const tls_conn *c, size_t *len);
void tls_conn_cipher_consume(tls_conn *c, size_t n);

/* Queues LEN plaintext bytes for the peer. Before the handshake is done they
 * wait and go out, in order, once it is. After the peer's close_notify
 * (CLOSED) our side may still write. Returns false (dropping them) in
 * FAILED and SHUTDOWN (after tls_conn_close). */
bool tls_conn_write_plain(tls_conn *c, const void *buf, size_t len, int64_t now);

/* Decrypted plaintext from the peer: peek/consume like the ciphertext, or
 * read_plain, which copies up to CAP bytes into BUF and returns the count. */
const uint8_t *tls_conn_plain_peek(const tls_conn *c, size_t *len);
void tls_conn_plain_consume(tls_conn *c, size_t n);
size_t tls_conn_read_plain(tls_conn *c, void *buf, size_t cap);

/* Pulls the next event; false when there is none. */
bool tls_conn_next_event(tls_conn *c, tls_conn_event *ev);

/* Sends close_notify (RFC 8446 §6.1) after any queued plaintext; the
 * connection then takes no more plaintext but still reads until the peer's
 * close_notify (CLOSED). During the handshake nothing is sent and the
 * connection just stops (SHUTDOWN; plaintext waiting is dropped). */
void tls_conn_close(tls_conn *c, int64_t now);

tls_conn_state tls_conn_get_state(const tls_conn *c);
tls_conn_role tls_conn_get_role(const tls_conn *c);
/* The secrets of this session so far in the NSS key log format
 * (SSLKEYLOGFILE: "LABEL CLIENT_RANDOM SECRET" lines, each ending in LF;
 * complete once ESTABLISHED), borrowed, valid until the next call on C.
 * For exporting simulated captures to Wireshark; "" before any secret.
 * Collected through SSL_CTX_set_keylog_callback; "" throughout when the
 * context's key log is off (tls_conn_ctx_set_keylog). */
const char *tls_conn_keylog(const tls_conn *c);
/* Total bytes drawn from the connection's random stream (tests). */
uint64_t tls_conn_random_drawn(const tls_conn *c);

#endif
