/* imap_srv.h — IMAP4rev1 server engine (RFC 3501), sans-I/O.
 *
 * Extensions: LITERAL+ (RFC 7888), SASL-IR (RFC 4959), UIDPLUS (RFC 4315),
 * IDLE (RFC 2177), MOVE (RFC 6851), NAMESPACE (RFC 2342), ID (RFC 2971),
 * ENABLE (RFC 5161; nothing is enableable, unknown names are ignored),
 * SPECIAL-USE (RFC 6154), UNSELECT (RFC 3691), STARTTLS / LOGINDISABLED
 * (RFC 3501 §6.2.1), AUTH=PLAIN (RFC 4616).
 *
 * Shape (STYLE.md "Engines"): imap_srv_feed() the client's bytes in any
 * split; peek/consume output; pull events; answer the login decision by
 * id with the user's store (imap_store.h); deadline()/tick() for the
 * autologout timer and for polling the store while a client IDLEs;
 * imap_srv_poll() to look for other sessions' changes at once.
 *
 * \Recent (RFC 3501 §2.3.2) is owned by the first session that learns of a
 * message (SELECT, or new mail absorbed later) through
 * imap_store_ops.claim_recent; EXAMINE shows unclaimed messages as recent
 * without claiming them.
 *
 * MIME-dependent FETCH items (ENVELOPE, BODY, BODYSTRUCTURE and BODY[n.m]
 * part sections) come from an optional imap_mime_provider; without one
 * they answer "NO [CANNOT] ... needs the MIME provider". BODY[1] of a
 * message that is not multipart is served without a provider (RFC 3501
 * §6.4.5: part 1 of a non-multipart message is its body).
 */
#ifndef MAILSIM_IMAP_SRV_H
#define MAILSIM_IMAP_SRV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_parse.h"
#include "imap_store.h"

/* Optional trace hook: EVENT "state", "cmd", "reply"; DETAIL a line.
 * LINES_QUIET: no COMMAND or REPLY events are queued (an owner that reads
 * the lines through the hook only); with no hook either, their text is not
 * even made. */
typedef struct {
  void (*trace)(void *ud, const char *event, const char *detail);
  void *ud;
  bool lines_quiet;
} imap_env;

/* MIME helpers plugged in by the owner (protocols/mime's mime_imap when
 * merged). Each returns NULL/false on failure. */
typedef struct {
  /* RFC 3501 §7.4.2 envelope, "(...)" */
  char *(*envelope)(void *ud, GBytes *msg);
  /* BODYSTRUCTURE (EXTENSIBLE) or BODY, "(...)" */
  char *(*bodystructure)(void *ud, GBytes *msg, bool extensible);
  /* Byte range of section PART (NPART numbers, NPART >= 1) of KIND
   * (IMAP_SEC_ALL, _HEADER, _TEXT or _MIME) inside MSG. */
  bool (*section)(void *ud, GBytes *msg, const uint32_t *part, size_t npart, imap_section_kind kind,
                  size_t *off, size_t *len);
  void *ud;
} imap_mime_provider;

typedef struct {
  const char *hostname;           /* greeting text; default "localhost" */
  size_t max_line;                /* per command line; 0 = 8192 */
  size_t max_literal;             /* per literal once logged in; 0 = 32 MiB */
  int64_t idle_timeout;           /* ns; 0 = 30 minutes (RFC 3501 §5.4) */
  int64_t poll_interval;          /* ns between store polls during IDLE; 0 = 1 s */
  int64_t epoch_unix;             /* Unix seconds of simulated time 0; 0 = 2025-01-01 */
  bool tls_available;             /* STARTTLS */
  bool tls_active;                /* implicit TLS (993) */
  bool tls_required;              /* LOGINDISABLED and no AUTH before TLS */
  const imap_mime_provider *mime; /* copied; may be NULL */
} imap_srv_config;

/* States. Legal transitions:
 *   NOT_AUTH -> AUTH_WAIT (LOGIN, AUTHENTICATE with IR) | SASL (AUTHENTICATE)
 *   SASL -> AUTH_WAIT | NOT_AUTH (cancel, bad response)
 *   AUTH_WAIT -> AUTHENTICATED (OK) | NOT_AUTH (refused)
 *   NOT_AUTH -> TLS_WAIT (STARTTLS) -> NOT_AUTH (tls_done)
 *   AUTHENTICATED <-> SELECTED (SELECT/EXAMINE, CLOSE/UNSELECT, failed SELECT)
 *   AUTHENTICATED, SELECTED <-> IDLE (IDLE / DONE)
 *   any -> LOGOUT (LOGOUT, autologout, TLS failure, hangup) */
typedef enum {
  IMAP_SRV_NOT_AUTH,
  IMAP_SRV_SASL,
  IMAP_SRV_AUTH_WAIT,
  IMAP_SRV_TLS_WAIT,
  IMAP_SRV_AUTHENTICATED,
  IMAP_SRV_SELECTED,
  IMAP_SRV_IDLE,
  IMAP_SRV_LOGOUT,
  IMAP_SRV_STATE_COUNT
} imap_srv_state;
const char *imap_srv_state_name(imap_srv_state s);

typedef enum {
  IMAP_SRV_EV_COMMAND,  /* text: tag and command (secrets masked) */
  IMAP_SRV_EV_REPLY,    /* text: a tagged status line or BYE */
  IMAP_SRV_EV_AUTH,     /* decision: id, user, pass -> imap_srv_auth_answer() */
  IMAP_SRV_EV_STARTTLS, /* flush output, start TLS, then imap_srv_tls_done() */
  IMAP_SRV_EV_FETCH,    /* mailbox, uid: a message body was sent (msg.fetch) */
  IMAP_SRV_EV_CLOSE,    /* close once the output is flushed */
  IMAP_SRV_EV_COUNT
} imap_srv_event_kind;
const char *imap_srv_event_name(imap_srv_event_kind k);

/* Strings valid until the next imap_srv_next_event() or imap_srv_free();
 * an AUTH event's user and pass only until its imap_srv_auth_answer()
 * (they are wiped there). */
typedef struct {
  imap_srv_event_kind kind;
  uint64_t id;
  const char *text, *user, *pass, *mailbox;
  uint32_t uid;
} imap_srv_event;

typedef enum {
  IMAP_AUTH_OK,   /* OPS/UD: the user's store (borrowed until ops->release) */
  IMAP_AUTH_FAIL, /* NO [AUTHENTICATIONFAILED] */
  IMAP_AUTH_TEMP, /* NO [UNAVAILABLE] */
  IMAP_AUTH_COUNT
} imap_auth_result;

typedef struct imap_srv imap_srv;

imap_srv *imap_srv_new(const imap_srv_config *cfg, const imap_env *env, int64_t now);
/* Releases the store if held. NULL is a no-op. */
void imap_srv_free(imap_srv *s);
/* Recycling, for owners that serve many sessions: imap_srv_renew(OLD, ...)
 * is imap_srv_free(OLD) then imap_srv_new(...) (the same engine, store
 * released, greeting queued), reusing OLD's storage; OLD (may be NULL) may
 * be taken in any state. Buffers that held more than 64 KiB are let go,
 * not kept. Sessions overlap, so an owner keeps a list of spares (a
 * imap_srv *, NULL when empty): imap_srv_keep(&spares, S) ends a session, S
 * (its store released at once, as imap_srv_free would) joining the list
 * unless it holds 16 already (then S is freed); imap_srv_take(&spares)
 * removes one from the list for a renew (NULL when empty).
 * imap_srv_free(spares) frees the whole list. */
imap_srv *imap_srv_renew(imap_srv *old, const imap_srv_config *cfg, const imap_env *env,
                         int64_t now);
void imap_srv_keep(imap_srv **spares, imap_srv *s);
imap_srv *imap_srv_take(imap_srv **spares);

void imap_srv_feed(imap_srv *s, const void *data, size_t len, int64_t now);
/* The connection ended: LOGOUT state, store released, no output. */
void imap_srv_hangup(imap_srv *s);
const uint8_t *imap_srv_output_peek(const imap_srv *s, size_t *len);
void imap_srv_output_consume(imap_srv *s, size_t n);
bool imap_srv_next_event(imap_srv *s, imap_srv_event *ev);

void imap_srv_auth_answer(imap_srv *s, uint64_t id, imap_auth_result res, const imap_store_ops *ops,
                          void *ud);
/* TLS up (OK) or failed (closes). Input buffered meanwhile is discarded. */
void imap_srv_tls_done(imap_srv *s, bool ok);

/* Looks for other sessions' changes now; while IDLE, untagged EXISTS,
 * EXPUNGE and FETCH are written at once (RFC 2177). Elsewhere they wait
 * for the next command that may carry them (RFC 3501 §7.4.1). */
void imap_srv_poll(imap_srv *s);

imap_srv_state imap_srv_state_get(const imap_srv *s);
int64_t imap_srv_deadline(const imap_srv *s);
void imap_srv_tick(imap_srv *s, int64_t now);

#endif
