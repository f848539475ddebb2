/* smtp_srv_int.h — internals shared by smtp_srv.c (engine core: input,
 * DATA, output, events, decisions, timers) and smtp_srv_verbs.c (the verb
 * table with its check and proceed functions). Not a public header. */
#ifndef MAILSIM_SMTP_SRV_INT_H
#define MAILSIM_SMTP_SRV_INT_H

#include "smtp_fifo.h"
#include "smtp_srv.h"

#include <glib.h>

/* Server states. Legal transitions (checked by smtp_srv__enter):
 *   CONNECT    -> HELO (greeting sent) | CLOSED (connection refused)
 *   HELO       -> HELO_WAIT | CLOSED
 *   HELO_WAIT  -> READY (accepted) | HELO (refused) | CLOSED
 *   READY      -> HELO_WAIT | MAIL_WAIT | AUTH_INPUT | AUTH_WAIT | TLS_WAIT | CLOSED
 *   AUTH_INPUT -> AUTH_INPUT (LOGIN: password next) | AUTH_WAIT | READY (abort, bad data)
 *                 | CLOSED
 *   AUTH_WAIT  -> READY | CLOSED
 *   MAIL_WAIT  -> MAIL (accepted) | READY (refused) | CLOSED
 *   MAIL       -> RCPT_WAIT | READY (RSET) | HELO_WAIT (EHLO resets) | CLOSED
 *   RCPT_WAIT  -> RCPT (accepted) | MAIL (refused, none yet) | RCPT | CLOSED
 *   RCPT       -> RCPT_WAIT | DATA | READY | HELO_WAIT | CLOSED
 *   DATA       -> DATA_WAIT (end seen) | READY (refused at the end) | CLOSED
 *   DATA_WAIT  -> READY | CLOSED
 *   TLS_WAIT   -> HELO (TLS up: everything forgotten, RFC 3207 §4.2) | CLOSED
 *   CLOSED     -> (none)
 * In *_WAIT states a decision is pending and no input is processed. */
typedef enum {
  SRV_CONNECT,
  SRV_HELO,
  SRV_HELO_WAIT,
  SRV_READY,
  SRV_AUTH_INPUT,
  SRV_AUTH_WAIT,
  SRV_MAIL_WAIT,
  SRV_MAIL,
  SRV_RCPT_WAIT,
  SRV_RCPT,
  SRV_DATA,
  SRV_DATA_WAIT,
  SRV_TLS_WAIT,
  SRV_CLOSED,
  SRV__COUNT
} smtp_srv_state;

#define SRV_BIT(s) (1u << (s))

/* Limits (RFC 5321 §4.5.3.1.4, §4.5.3.1.6; RFC 4954 §4). */
#define SRV_CMD_MAX 510    /* command line octets without CRLF */
#define SRV_AUTH_MAX 12288 /* AUTH line octets without CRLF */
#define SRV_TEXT_MAX 998   /* text line octets without CRLF */
#define SRV_INPUT_HIGH (64 * 1024)
#define SRV_EHLO_CACHE_MAX 1024 /* the longest EHLO text kept formatted */

/* An event as queued (smtp_srv_next_event fills in the rest). */
typedef struct {
  smtp_srv_event_type type;
  uint64_t id;
} srv_queued;

struct smtp_srv {
  smtp_srv_config cfg;
  char *hostname;
  smtp_env env;
  smtp_srv_state state;
  int64_t now;
  int64_t last_activity;

  /* input */
  GByteArray *in;      /* input kept for later (a decision pending) */
  const uint8_t *in_p; /* the input being parsed: IN's data, or the */
  size_t in_n;         /* fed chunk itself while IN is empty */
  size_t in_pos;
  GString *line;
  bool cr; /* a CR was the last byte seen */
  bool line_bare_cr, line_nul, line_long;

  /* output and events */
  GString *out;
  GString *scratch; /* reply texts built from pieces */
  /* The last EHLO reply: its text (EHLO_TEXT) and that text formatted
   * (EHLO_WIRE), appended as is while the text comes out the same (the
   * hostname and extensions rarely change; kept across renewals). */
  GString *ehlo_text, *ehlo_wire;
  smtp_fifo events; /* srv_queued: type and id, the rest filled when pulled */

  /* pending decision */
  uint64_t next_id;
  uint64_t pending_id;
  smtp_srv_event_type pending_type;

  /* session */
  /* The HELO name accepted (when HAS_HELO) and the one asked about
   * (DECIDE_HELO). Accepting swaps the two buffers; both are kept across
   * the session and renewals. */
  GString *helo;
  bool has_helo;
  bool esmtp;
  GString *cand_helo;
  bool cand_esmtp;
  bool tls;
  char *auth_user; /* the authenticated user (AUTH_KEPT), NULL: none */
  char *auth_kept; /* its storage, kept across renewals (smtp_string_renew) */
  unsigned errors;
  const char *close_reason;

  /* AUTH in progress */
  bool auth_login; /* LOGIN (else PLAIN) */
  int auth_step;   /* LOGIN: 0 = username next, 1 = password next */
  /* The decoded credentials, in AUTH_IN (kept across renewals, wiped
   * when done): PLAIN's "authzid NUL user NUL pass", or LOGIN's user and
   * pass each ended by NUL; where each starts (SIZE_MAX: not given). */
  GString *auth_in;
  size_t a_authzid, a_user, a_pass;

  /* transaction */
  smtp_cmd_mail mail; /* valid in MAIL, RCPT, DATA, DATA_WAIT */
  smtp_cmd_mail scratch_mail;
  smtp_cmd_rcpt cand_rcpt;
  GArray *rcpts; /* smtp_cmd_rcpt, accepted */
  /* The strings of MAIL, SCRATCH_MAIL, CAND_RCPT and RCPTS (smtp_cmd's
   * _in parsers): let go together when the transaction ends, the first
   * block kept (across renewals too). */
  smtp_cmd_arena txn_strs;

  /* DATA */
  GByteArray *msg;
  uint64_t msg_size;
  bool d_bol, d_bol_strict, d_dot, d_dot_strict, d_cr;
  size_t d_linelen;
  bool d_bare, d_nul, d_long, d_big;
  bool grown; /* IN or MSG held more than is kept for the next session */
  /* Parked (smtp_srv_keep_upto): the next engine of the owner's list, and
   * how many engines the list holds from this one. */
  smtp_srv *next_spare;
  unsigned nspares;
};

/* The only place that assigns srv->state (traces "OLD -> NEW"). */
void smtp_srv__enter(smtp_srv *srv, smtp_srv_state s);
/* Queues a reply. ESC: NULL derives "c.0.0" from the code, "" puts none;
 * enhanced codes are dropped when the extension is off. 4xx/5xx count as
 * errors. TEXT may hold '\n' for a multi-line reply. */
void smtp_srv__reply(smtp_srv *srv, int code, const char *esc, const char *text);
/* Queues the reply CODE (no enhanced code) whose lines are already
 * formatted in WIRE[0..N) (smtp_reply_append's output), as
 * smtp_srv__reply would have queued it. */
void smtp_srv__reply_wire(smtp_srv *srv, int code, const char *wire, size_t n);
/* Queues the one-line reply CODE with the enhanced code ESC[0..EN) (0:
 * none; dropped when the extension is off) and the text A[0..AN) then
 * B[0..BN), which hold no CR nor LF (not checked): as smtp_srv__reply. */
void smtp_srv__reply_line(smtp_srv *srv, int code, const char *esc, size_t en, const char *a,
                          size_t an, const char *b, size_t bn);
/* smtp_srv__reply of string literals ESC ("" for none) and TEXT, one line
 * with neither CR nor LF: their lengths known to the compiler. */
#define smtp_srv__reply_lit(srv, code, esc, text)                                                  \
  smtp_srv__reply_line((srv), (code), "" esc, sizeof(esc) - 1, "" text, sizeof(text) - 1, NULL, 0)
/* The reply A followed by B (both NUL-terminated), without printf. */
void smtp_srv__reply2(smtp_srv *srv, int code, const char *esc, const char *a, const char *b);
void smtp_srv__replyf(smtp_srv *srv, int code, const char *esc, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Asks the owner: queues a DECIDE_* event and waits in the current state. */
void smtp_srv__decide(smtp_srv *srv, smtp_srv_event_type type);
void smtp_srv__push_event(smtp_srv *srv, smtp_srv_event_type type);
void smtp_srv__close(smtp_srv *srv, const char *reason);
/* The trace hook's call (smtp_srv__trace), its arguments worked out only
 * when a hook is set. */
void smtp_srv__trace_out(smtp_srv *srv, smtp_trace_kind kind, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
#define smtp_srv__trace(srv, ...)                                                                  \
  ((srv)->env.trace ? smtp_srv__trace_out((srv), __VA_ARGS__) : (void)0)
/* Forgets the transaction (MAIL, RCPTs, data). */
void smtp_srv__reset_txn(smtp_srv *srv);
void smtp_srv__reset_auth_input(smtp_srv *srv);
/* The credential starting at AT in auth_in (NULL for SIZE_MAX). */
const char *smtp_srv__auth_part(const smtp_srv *srv, size_t at);
/* Drops buffered input (after STARTTLS), tracing how much. */
void smtp_srv__discard_input(smtp_srv *srv, const char *why);
/* Starts reading message data. */
void smtp_srv__begin_data(smtp_srv *srv);

/* smtp_srv_verbs.c: handles one complete command line (not AUTH input). */
void smtp_srv__command(smtp_srv *srv, const char *line);
/* smtp_srv_verbs.c: handles one line of AUTH input (state AUTH_INPUT). */
void smtp_srv__auth_input(smtp_srv *srv, const char *line);
/* smtp_srv_verbs.c: the EHLO/HELO reply text after an accepted HELO. */
void smtp_srv__helo_reply(smtp_srv *srv);
const char *smtp_srv__state_name(smtp_srv_state s);

#endif
