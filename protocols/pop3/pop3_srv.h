/* pop3_srv.h — POP3 server engine (RFC 1939, CAPA RFC 2449, AUTH RFC 5034,
 * STLS RFC 2595, response codes RFC 2449 §8 / RFC 3206), sans-I/O.
 *
 * Shape (STYLE.md "Engines"): create with a config and an environment;
 * pop3_srv_feed() the client's bytes in any split; peek/consume the bytes
 * to send; pull events one at a time; answer the authentication decision
 * by id; deadline()/tick() drive the autologout timer (RFC 1939 §3).
 *
 * The maildrop is reached through pop3_drop_ops, supplied by the owner
 * when it accepts a login (the owner takes the RFC 1939 §8 exclusive lock
 * before answering POP3_AUTH_OK, or answers POP3_AUTH_IN_USE). The engine
 * snapshots count, sizes and UIDLs at that moment: message numbers are
 * fixed for the session. Deletions are only marks until QUIT, when the
 * engine enters UPDATE and calls ops->commit() once; a session that ends in
 * any other way (drop, timeout, pop3_srv_free) commits nothing.
 * ops->release() is called exactly once (after UPDATE, or from
 * pop3_srv_free()), so the owner unlocks there.
 *
 * Typical loop:
 *   pop3_srv_feed(s, bytes, n, now);
 *   while (pop3_srv_next_event(s, &ev)) { ... answer decisions ... }
 *   send pop3_srv_output_peek(); pop3_srv_output_consume();
 *   on POP3_SRV_EV_CLOSE: close once the output is flushed.
 */
#ifndef MAILSIM_POP3_SRV_H
#define MAILSIM_POP3_SRV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trace hook shared by the POP3 engines: EVENT is a short dotted name
 * ("state", "cmd", "reply"), DETAIL a line of text. Optional.
 * LINES_QUIET: no COMMAND or REPLY events are queued (an owner that reads
 * the lines through the hook only); with no hook either, their text is not
 * even made. */
typedef struct {
  void (*trace)(void *ud, const char *event, const char *detail);
  void *ud;
  bool lines_quiet;
} pop3_env;

/* Maildrop access provided by the owner (a view over its store). Indexes
 * are 0-based and refer to the snapshot the owner took when it accepted
 * the login. All calls are synchronous reads except commit. */
typedef struct {
  size_t (*count)(void *ud);
  /* Size in octets as stored (the message is sent with CRLF line ends). */
  uint64_t (*size)(void *ud, size_t i);
  /* Unique id, 1..70 chars in 0x21..0x7E (RFC 1939 §7), stable across
   * sessions. Borrowed, valid until release(). */
  const char *(*uidl)(void *ud, size_t i);
  /* New reference to the bytes, NULL if the message vanished meanwhile. */
  GBytes *(*get)(void *ud, size_t i);
  /* UPDATE state: remove the N messages of DEL (ascending indexes). Returns
   * false if some could not be removed (RFC 1939 §6: -ERR some deleted
   * messages not removed). */
  bool (*commit)(void *ud, const size_t *del, size_t n);
  /* End of the session: unlock. Called exactly once. */
  void (*release)(void *ud);
} pop3_drop_ops;

typedef struct {
  const char *hostname; /* in the greeting; default "localhost" */
  size_t max_line;      /* command line limit incl. CRLF; 0 = 512 */
  int64_t idle_timeout; /* ns; 0 = 10 minutes (RFC 1939 §3 minimum) */
  bool tls_available;   /* advertise and accept STLS */
  bool tls_active;      /* the session already runs over TLS (995) */
  bool tls_required;    /* refuse USER/PASS/AUTH until TLS is active */
} pop3_srv_config;

/* States. Legal transitions:
 *   AUTHORIZATION -> SASL (AUTH PLAIN without initial response)
 *   AUTHORIZATION, SASL -> AUTH_WAIT (credentials complete)
 *   SASL -> AUTHORIZATION (cancel, bad base64)
 *   AUTH_WAIT -> TRANSACTION (answer OK) | AUTHORIZATION (answer not OK)
 *   AUTHORIZATION -> TLS_WAIT (STLS) -> AUTHORIZATION (tls_done)
 *   TRANSACTION -> UPDATE (QUIT) -> CLOSED
 *   any -> CLOSED (QUIT in AUTHORIZATION, timeout, tls failure) */
typedef enum {
  POP3_SRV_AUTHORIZATION,
  POP3_SRV_SASL,
  POP3_SRV_AUTH_WAIT,
  POP3_SRV_TLS_WAIT,
  POP3_SRV_TRANSACTION,
  POP3_SRV_UPDATE,
  POP3_SRV_CLOSED,
  POP3_SRV_STATE_COUNT
} pop3_srv_state;
const char *pop3_srv_state_name(pop3_srv_state s);

typedef enum {
  POP3_SRV_EV_COMMAND, /* text: the command line (secrets masked) */
  POP3_SRV_EV_REPLY,   /* text: the status line sent */
  POP3_SRV_EV_AUTH,    /* decision: id, user, pass -> pop3_srv_auth_answer() */
  POP3_SRV_EV_STLS,    /* after flushing output, start TLS; then pop3_srv_tls_done() */
  POP3_SRV_EV_RETR,    /* index: message sent in full by RETR (msg.fetch) */
  POP3_SRV_EV_UPDATE,  /* count: messages removed at QUIT; ok: commit succeeded */
  POP3_SRV_EV_CLOSE,   /* close the connection once the output is flushed */
  POP3_SRV_EV_COUNT
} pop3_srv_event_kind;
const char *pop3_srv_event_name(pop3_srv_event_kind k);

/* Strings are owned by the engine and valid until the next call of
 * pop3_srv_next_event() or pop3_srv_free(). */
typedef struct {
  pop3_srv_event_kind kind;
  uint64_t id;
  const char *text;
  const char *user;
  const char *pass;
  size_t index;
  size_t count;
  bool ok;
} pop3_srv_event;

typedef enum {
  POP3_AUTH_OK,     /* OPS/UD given: the maildrop is locked for this session */
  POP3_AUTH_FAIL,   /* -ERR [AUTH] */
  POP3_AUTH_IN_USE, /* -ERR [IN-USE] (RFC 2449 §8.1.1) */
  POP3_AUTH_TEMP,   /* -ERR [SYS/TEMP] */
  POP3_AUTH_COUNT
} pop3_auth_result;

typedef struct pop3_srv pop3_srv;

/* CFG and ENV are copied (strings duplicated). The greeting is queued. */
pop3_srv *pop3_srv_new(const pop3_srv_config *cfg, const pop3_env *env, int64_t now);
/* Releases the maildrop if held (without UPDATE). NULL is a no-op. */
void pop3_srv_free(pop3_srv *s);
/* Recycling, for owners that serve many sessions: pop3_srv_renew(OLD, ...)
 * is pop3_srv_free(OLD) then pop3_srv_new(...) (the same engine, maildrop
 * released, greeting queued), reusing OLD's storage; OLD (may be NULL) may
 * be taken in any state. Buffers that held more than 64 KiB are let go,
 * not kept. Sessions overlap, so an owner keeps a list of spares (a
 * pop3_srv *, NULL when empty): pop3_srv_keep(&spares, S) ends a session, S
 * (its maildrop released at once, as pop3_srv_free would) joining the list
 * unless it holds 16 already (then S is freed); pop3_srv_take(&spares)
 * removes one from the list for a renew (NULL when empty).
 * pop3_srv_free(spares) frees the whole list. */
pop3_srv *pop3_srv_renew(pop3_srv *old, const pop3_srv_config *cfg, const pop3_env *env,
                         int64_t now);
void pop3_srv_keep(pop3_srv **spares, pop3_srv *s);
pop3_srv *pop3_srv_take(pop3_srv **spares);

/* Client bytes, any split. Input is ignored once CLOSED. */
void pop3_srv_feed(pop3_srv *s, const void *data, size_t len, int64_t now);
/* The connection ended (reset or EOF): no UPDATE; the state becomes CLOSED
 * and the maildrop is released. */
void pop3_srv_hangup(pop3_srv *s);

const uint8_t *pop3_srv_output_peek(const pop3_srv *s, size_t *len);
void pop3_srv_output_consume(pop3_srv *s, size_t n);

bool pop3_srv_next_event(pop3_srv *s, pop3_srv_event *ev);

/* Answers the AUTH decision ID. With POP3_AUTH_OK, OPS and UD describe the
 * maildrop (borrowed until ops->release). An unknown or stale id is a bug. */
void pop3_srv_auth_answer(pop3_srv *s, uint64_t id, pop3_auth_result res, const pop3_drop_ops *ops,
                          void *ud);
/* TLS is up (OK) or failed (!OK: the session closes). Input buffered before
 * the handshake is discarded (RFC 2595 §3.1 / CVE-2011-0411). */
void pop3_srv_tls_done(pop3_srv *s, bool ok);

pop3_srv_state pop3_srv_state_get(const pop3_srv *s);
/* Next time tick() has work (autologout), INT64_MAX if none. */
int64_t pop3_srv_deadline(const pop3_srv *s);
void pop3_srv_tick(pop3_srv *s, int64_t now);

#endif
