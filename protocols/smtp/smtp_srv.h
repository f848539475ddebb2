/* smtp_srv.h — the SMTP server engine (RFC 5321 with PIPELINING, SIZE,
 * 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS, AUTH PLAIN/LOGIN and DSN), sans-I/O.
 *
 * Shape (STYLE.md "Engines"): bytes in with smtp_srv_feed(), bytes out with
 * smtp_srv_output_peek()/_consume(), events pulled one at a time with
 * smtp_srv_next_event(), decisions answered later by id, timers with
 * smtp_srv_deadline()/_tick(). The engine never reads a clock, never does
 * I/O, never frees itself and never calls out for an answer.
 *
 * The owner's loop, in order:
 *   srv = smtp_srv_new(&cfg, &env);           -> event DECIDE_CONNECT
 *   loop:
 *     while (smtp_srv_next_event(srv, &ev)) handle(ev);   (answer decisions
 *         now or later with smtp_srv_accept/_reject/_answer)
 *     send smtp_srv_output_peek() bytes; smtp_srv_output_consume(n);
 *     on bytes from the peer: smtp_srv_feed(srv, buf, n, now);
 *     at smtp_srv_deadline(): smtp_srv_tick(srv, now);
 *     after event CLOSE: flush pending output, then close and free.
 *
 * Decisions. Each DECIDE_* event carries an id. While a decision is pending
 * the engine processes no further input (it never reads ahead past a
 * command whose answer is pending, RFC 2920 §3) and runs no timer; input
 * is buffered (see smtp_srv_want_input). The owner answers once:
 *   DECIDE_CONNECT  accept: "220 <hostname> ESMTP"; reject: the given reply
 *                   (421 or 554), then close (RFC 5321 §3.1).
 *   DECIDE_HELO     accept: the EHLO capability list or the HELO reply.
 *   DECIDE_MAIL     accept: "250 2.1.0 Ok".
 *   DECIDE_RCPT     accept: "250 2.1.5 Ok". Relay policy is the owner's (no
 *                   open relay: refuse a foreign domain unless
 *                   smtp_srv_auth_user() is set); smtp_srv_reject_relay()
 *                   gives the standard 554/550 5.7.1 reply.
 *   DECIDE_AUTH     accept: "235 2.7.0 Authentication successful"; reject:
 *                   default "535 5.7.8 Error: authentication failed".
 *   DECIDE_MESSAGE  accept with a queue id: "250 2.0.0 Ok: queued as ID".
 * Rejects: any 4xx/5xx; a 421 also closes the session (RFC 5321 §3.8).
 *
 * STARTTLS (RFC 3207). After "220 2.0.0 Ready to start TLS" is queued the
 * engine discards every input byte it holds or is fed (pipelined plaintext
 * must not survive the handshake, §4.2 — the CVE-2021-38371 class) and emits
 * STARTTLS: the owner sends the pending output, then wraps the byte stream
 * in TLS and calls smtp_srv_tls_started(). The engine then forgets HELO,
 * AUTH and any transaction; the client must send EHLO again.
 *
 * DATA (RFC 5321 §4.1.1.4, §4.5.2). Only CRLF "." CRLF ends the data; dots
 * are unstuffed; the stored message has CRLF line ends. Bare CR, bare LF and
 * NUL (the SMTP smuggling family, CVE-2023-51764 class) follow
 * cfg.bare_policy:
 *   SMTP_SRV_BARE_REJECT (default): in a command, a bare LF ends the line and
 *     the command is refused (500 5.5.2); a bare CR or NUL refuses the
 *     command when its line ends. In DATA they are plain data bytes (so
 *     "<LF>.<LF>", "<CR>.<CR>", "<CR><CR><LF>.<CR><LF>" and "<NUL>." never end
 *     the data) and the message is refused at the real end with 550 5.5.2
 *     (bare CR/LF) or 550 5.6.0 (NUL).
 *   SMTP_SRV_BARE_NORMALIZE: a bare LF (and in DATA a bare CR) is a line
 *     break stored as CRLF, but never part of the end-of-data sequence; a
 *     line "." reached through one is data (a relay dot-stuffs it again).
 *     NUL is kept as data. A bare CR in a command is still refused.
 * Either way a fake end never yields a second message: the bytes after it,
 * including a pipelined "MAIL FROM", stay inside the first message.
 *
 * Limits: command line 512 octets incl. CRLF (§4.5.3.1.4; AUTH lines up to
 * 12288, RFC 4954 §4) → 500 5.5.2; text line 1000 octets (§4.5.3.1.6) →
 * 550 5.6.0 at the end of data; cfg.max_recipients → 452 4.5.3
 * (§4.5.3.1.10); cfg.max_size → 552 5.3.4 (RFC 1870 §6); cfg.max_errors
 * 4xx/5xx replies → 421 4.7.0 and close; cfg.timeout idle → 421 4.4.2.
 *
 * Enhanced status codes (RFC 2034) are on every reply except the greeting,
 * the EHLO/HELO replies and the 334/354 intermediate replies, when
 * cfg.ext_enhancedstatuscodes; they are left out when it is off.
 */
#ifndef MAILSIM_SMTP_SRV_H
#define MAILSIM_SMTP_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_cmd.h"
#include "smtp_reply.h"

typedef struct smtp_srv smtp_srv;

typedef enum {
  SMTP_SRV_BARE_REJECT,
  SMTP_SRV_BARE_NORMALIZE,
} smtp_srv_bare_policy;

/* Engine configuration. Strings are copied by smtp_srv_new. */
typedef struct {
  const char *hostname; /* in the greeting and the EHLO reply */
  bool ext_pipelining, ext_size, ext_8bitmime, ext_enhancedstatuscodes;
  bool ext_starttls, ext_auth, ext_dsn;
  bool auth_plain, auth_login; /* mechanisms offered when ext_auth */
  /* Submission (RFC 6409 §4.3): MAIL needs AUTH first (530 5.7.0). */
  bool require_auth;
  /* AUTH needs STARTTLS first (538 5.7.11, RFC 4954 §6); AUTH is then not
   * advertised before TLS. With require_auth, MAIL before STARTTLS gets
   * 530 5.7.0 Must issue a STARTTLS command first (RFC 3207 §4). */
  bool require_tls_for_auth;
  int relay_reject_code;   /* 554 (default) or 550 for smtp_srv_reject_relay */
  uint64_t max_size;       /* octets; 0 = no limit, SIZE advertised without a number */
  unsigned max_recipients; /* per transaction */
  unsigned max_errors;     /* 4xx/5xx replies before 421 and close */
  smtp_srv_bare_policy bare_policy;
  int64_t timeout; /* ns of silence before 421 4.4.2 (RFC 5321 §4.5.3.2.7) */
} smtp_srv_config;

/* Defaults: hostname "localhost", every extension on, PLAIN and LOGIN, no
 * submission rules, relay 554, max_size 10 MiB, 100 recipients, 20 errors,
 * BARE_REJECT, timeout 5 min. */
void smtp_srv_config_init(smtp_srv_config *cfg);

typedef enum {
  SMTP_SRV_EV_DECIDE_CONNECT,
  SMTP_SRV_EV_DECIDE_HELO,
  SMTP_SRV_EV_DECIDE_MAIL,
  SMTP_SRV_EV_DECIDE_RCPT,
  SMTP_SRV_EV_DECIDE_AUTH,
  SMTP_SRV_EV_DECIDE_MESSAGE,
  SMTP_SRV_EV_STARTTLS, /* send pending output, then start TLS; see above */
  SMTP_SRV_EV_CLOSE,    /* send pending output, then close and free */
  SMTP_SRV_EV__COUNT
} smtp_srv_event_type;

const char *smtp_srv_event_type_name(smtp_srv_event_type t);

/* One event. Pointers are borrowed from the engine: for a decision they
 * stay valid until it is answered; otherwise until the next call into the
 * engine. */
typedef struct {
  smtp_srv_event_type type;
  uint64_t id;                /* decisions: the id to answer */
  const char *helo;           /* DECIDE_HELO: the name given */
  bool esmtp;                 /* DECIDE_HELO: EHLO (true) or HELO */
  const char *mech;           /* DECIDE_AUTH: "PLAIN" or "LOGIN" */
  const char *authzid;        /* DECIDE_AUTH: "" when none */
  const char *user, *pass;    /* DECIDE_AUTH */
  const smtp_cmd_mail *mail;  /* DECIDE_MAIL, _RCPT, _MESSAGE: the transaction */
  const smtp_cmd_rcpt *rcpt;  /* DECIDE_RCPT: the recipient asked about */
  const smtp_cmd_rcpt *rcpts; /* DECIDE_MESSAGE: accepted recipients, in order */
  size_t nrcpts;
  const uint8_t *data; /* DECIDE_MESSAGE: the unstuffed message, CRLF lines */
  size_t len;
  const char *reason; /* CLOSE: why ("quit", "timeout", …) */
} smtp_srv_event;

/* An answer to a decision. code 0 = accept with the standard reply;
 * otherwise a 4xx/5xx reply with ESC (NULL: derived from the code's class)
 * and TEXT (NULL: a standard text). QUEUE_ID names an accepted message. */
typedef struct {
  int code;
  const char *esc;
  const char *text;
  const char *queue_id;
} smtp_srv_answer;

/* Creates an engine for one connection. CFG and ENV are copied. The first
 * event is DECIDE_CONNECT. Never returns NULL. */
smtp_srv *smtp_srv_new(const smtp_srv_config *cfg, const smtp_env *env);
void smtp_srv_free(smtp_srv *srv);

/* Recycling, for owners that open many sessions: smtp_srv_renew(OLD, ...)
 * is smtp_srv_free(OLD) followed by smtp_srv_new(CFG, ENV), with OLD's
 * storage (the engine and its buffers) reused; OLD may be NULL, and is
 * taken in any state. smtp_srv_keep_upto(&spares, SRV, MAX) ends a
 * session: SRV is parked in the list *SPARES (linked through the engines)
 * while that holds fewer than MAX, else is freed (SRV NULL: nothing);
 * smtp_srv_keep is the same with MAX 1. smtp_srv_take pops one engine from
 * the list (NULL: empty) for smtp_srv_renew, which takes one engine, never
 * a list. The owner frees the list with smtp_srv_free (which frees the
 * engines behind SRV too). */
smtp_srv *smtp_srv_renew(smtp_srv *old, const smtp_srv_config *cfg, const smtp_env *env);
void smtp_srv_keep(smtp_srv **spare, smtp_srv *srv);
void smtp_srv_keep_upto(smtp_srv **spares, smtp_srv *srv, unsigned max);
smtp_srv *smtp_srv_take(smtp_srv **spares);

/* Takes LEN bytes from the peer at time NOW (any split of the stream is
 * accepted; LEN may be 0). Never fails: bad input becomes replies. */
void smtp_srv_feed(smtp_srv *srv, const void *buf, size_t len, int64_t now);

/* False when the engine holds more buffered input than it wants (a
 * decision is pending and the peer keeps pipelining): the owner should stop
 * reading from the peer until it turns true again (flow control). */
bool smtp_srv_want_input(const smtp_srv *srv);

/* Pending output: *LEN bytes at the returned pointer (borrowed until the
 * next call into the engine). consume(N) drops the first N (N <= *LEN). */
const uint8_t *smtp_srv_output_peek(const smtp_srv *srv, size_t *len);
void smtp_srv_output_consume(smtp_srv *srv, size_t n);

/* Pulls the next event into *EV; false when there is none. */
bool smtp_srv_next_event(smtp_srv *srv, smtp_srv_event *ev);

/* Answers decision ID at time NOW. Returns false (and does nothing) when ID
 * is not the pending decision (stale after a close). A nonzero code outside
 * 400..599 is a bug. */
bool smtp_srv_answer_decision(smtp_srv *srv, uint64_t id, const smtp_srv_answer *a, int64_t now);
bool smtp_srv_accept(smtp_srv *srv, uint64_t id, int64_t now);
bool smtp_srv_accept_message(smtp_srv *srv, uint64_t id, const char *queue_id, int64_t now);
bool smtp_srv_reject(smtp_srv *srv, uint64_t id, int code, const char *esc, const char *text,
                     int64_t now);
/* "554 5.7.1 <rcpt>: Relay access denied" (or 550 per cfg.relay_reject_code). */
bool smtp_srv_reject_relay(smtp_srv *srv, uint64_t id, int64_t now);

/* The owner's TLS layer is up (after event STARTTLS): reset to the state
 * after the greeting (RFC 3207 §4.2); input fed from now on is the
 * decrypted stream. */
void smtp_srv_tls_started(smtp_srv *srv, int64_t now);

/* The next time smtp_srv_tick must be called, or SMTP_NO_DEADLINE. */
int64_t smtp_srv_deadline(const smtp_srv *srv);
void smtp_srv_tick(smtp_srv *srv, int64_t now);

/* Session facts for Received headers and traces (borrowed; NULL if unset). */
const char *smtp_srv_helo(const smtp_srv *srv);
const char *smtp_srv_auth_user(const smtp_srv *srv);
bool smtp_srv_tls_active(const smtp_srv *srv);
bool smtp_srv_closed(const smtp_srv *srv);

/* The engine's state, by name (for traces and tests). */
const char *smtp_srv_state_name(const smtp_srv *srv);

#endif
