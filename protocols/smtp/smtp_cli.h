/* smtp_cli.h — the SMTP client engine (RFC 5321 with PIPELINING, SIZE,
 * 8BITMIME, DSN, STARTTLS and AUTH PLAIN/LOGIN), sans-I/O.
 *
 * One engine drives one connection: greeting, EHLO (HELO after a 5xx),
 * STARTTLS when offered or required, AUTH when configured, then one
 * transaction per queued message (MAIL, RCPT per recipient, DATA with
 * dot-stuffing and CRLF normalisation), then QUIT. Commands are pipelined
 * (RFC 2920) when the server offers PIPELINING: MAIL, every RCPT and DATA
 * go out together and the replies are matched in order.
 *
 * The owner's loop, in order:
 *   cli = smtp_cli_new(&cfg, &env, now);
 *   smtp_cli_send(cli, &msg, now);      (any number, any time before QUIT)
 *   loop:
 *     send smtp_cli_output_peek() bytes; smtp_cli_output_consume(n, now);
 *     on bytes from the server: smtp_cli_feed(cli, buf, n, now);
 *     while (smtp_cli_next_event(cli, &ev)) handle(ev);
 *     at smtp_cli_deadline(): smtp_cli_tick(cli, now);
 *     if the connection breaks: smtp_cli_connection_lost(cli, now);
 *
 * Events:
 *   RESULT    one per message, exactly once, in the order sent: for each
 *             recipient the outcome (OK = accepted at the end of data; TEMP
 *             = 4xx, timeout, connection lost: retry later; PERM = 5xx:
 *             bounce), the stage it was decided at and the deciding reply.
 *   STARTTLS  the server said 220 to STARTTLS: send pending output, wrap the
 *             stream in TLS, then call smtp_cli_tls_started(). Input fed
 *             before that is discarded (RFC 3207 §4.2).
 *   CLOSE     the session is over (after QUIT, a 421, a timeout, a protocol
 *             error or connection_lost): send pending output, then close.
 *
 * Timers (RFC 5321 §4.5.3.2, all in the config): initial 220 5 min, MAIL
 * 5 min, RCPT 5 min, DATA initiation 2 min, data block 3 min (while body
 * bytes wait in the output: measured from the last output_consume), final
 * dot 10 min (from when the last body byte was consumed); EHLO, STARTTLS,
 * AUTH, RSET and QUIT use t_other. A timeout fails every unfinished
 * recipient as TEMP and closes without QUIT.
 */
#ifndef MAILSIM_SMTP_CLI_H
#define MAILSIM_SMTP_CLI_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_cmd.h"
#include "smtp_reply.h"

typedef struct smtp_cli smtp_cli;

typedef enum {
  SMTP_CLI_TLS_NEVER,
  SMTP_CLI_TLS_OPPORTUNISTIC, /* STARTTLS when offered; go on in clear if refused */
  SMTP_CLI_TLS_REQUIRED,      /* no STARTTLS offered or accepted: TEMP failure, QUIT */
} smtp_cli_tls_policy;

/* Configuration. Strings are copied by smtp_cli_new. */
typedef struct {
  const char *helo_name;
  smtp_cli_tls_policy tls;
  const char *auth_user, *auth_pass; /* NULL user: no AUTH */
  bool auth_plain, auth_login;       /* mechanisms allowed, PLAIN preferred */
  bool use_pipelining;               /* pipeline when offered */
  bool quit_when_idle;               /* QUIT once the queue is empty (else wait) */
  int64_t t_initial, t_mail, t_rcpt, t_data_init, t_data_block, t_data_term, t_other;
} smtp_cli_config;

/* Defaults: helo_name "localhost", TLS opportunistic, no AUTH, PLAIN and
 * LOGIN allowed, pipelining on, quit_when_idle on, RFC 5321 §4.5.3.2
 * timeouts (t_other 5 min). */
void smtp_cli_config_init(smtp_cli_config *cfg);

/* A message to send. Copied by smtp_cli_send. mail->from is the reverse
 * path; mail->ret and mail->envid and each rcpt's notify and orcpt are
 * sent when the server offers DSN; SIZE (smtp_cli_body_size) and BODY=8BITMIME are computed. DATA
 * may use any line ends: it is sent with CRLF only, dot-stuffed. */
typedef struct {
  const smtp_cmd_mail *mail;
  const smtp_cmd_rcpt *rcpts;
  size_t nrcpts;
  const uint8_t *data;
  size_t len;
  uint64_t cookie; /* the owner's id, returned in the RESULT event */
} smtp_cli_message;

typedef enum { SMTP_CLI_OK, SMTP_CLI_TEMP, SMTP_CLI_PERM } smtp_cli_status;
const char *smtp_cli_status_name(smtp_cli_status s);

/* Where an outcome was decided. */
typedef enum {
  SMTP_CLI_STAGE_CONNECT, /* greeting */
  SMTP_CLI_STAGE_HELO,
  SMTP_CLI_STAGE_STARTTLS,
  SMTP_CLI_STAGE_AUTH,
  SMTP_CLI_STAGE_MAIL,
  SMTP_CLI_STAGE_RCPT,
  SMTP_CLI_STAGE_DATA, /* the reply to DATA */
  SMTP_CLI_STAGE_DOT,  /* the reply after the final dot */
  SMTP_CLI_STAGE__COUNT
} smtp_cli_stage;
const char *smtp_cli_stage_name(smtp_cli_stage s);

typedef struct {
  const char *rcpt;
  smtp_cli_status status;
  smtp_cli_stage stage;
  bool local;       /* decided by the client (timeout, lost connection, limit) */
  int code;         /* the server's reply code, or a local code, 0 if none */
  const char *esc;  /* "" if none */
  const char *text; /* the reply text (lines joined by '\n') or the local reason */
} smtp_cli_rcpt_result;

typedef enum {
  SMTP_CLI_EV_RESULT,
  SMTP_CLI_EV_STARTTLS,
  SMTP_CLI_EV_CLOSE,
  SMTP_CLI_EV__COUNT
} smtp_cli_event_type;
const char *smtp_cli_event_type_name(smtp_cli_event_type t);

/* One event; pointers are valid until the next smtp_cli_next_event or
 * smtp_cli_free. */
typedef struct {
  smtp_cli_event_type type;
  uint64_t cookie;                   /* RESULT */
  const smtp_cli_rcpt_result *rcpts; /* RESULT, in the order given */
  size_t nrcpts;
  unsigned n_ok, n_temp, n_perm; /* RESULT */
  const char *reason;            /* CLOSE: "quit", "timeout", "421", … */
} smtp_cli_event;

/* Creates the engine for a connection established at NOW (the greeting
 * timer starts then). CFG and ENV are copied. */
smtp_cli *smtp_cli_new(const smtp_cli_config *cfg, const smtp_env *env, int64_t now);
void smtp_cli_free(smtp_cli *cli);

/* Recycling, for owners that open many sessions: smtp_cli_renew(OLD, ...)
 * is smtp_cli_free(OLD) followed by smtp_cli_new(CFG, ENV, NOW), with
 * OLD's storage (the engine and its buffers) reused; OLD may be NULL, and
 * is taken in any state (its messages are dropped without events).
 * smtp_cli_keep_upto(&spares, CLI, MAX) ends a session: CLI is parked in
 * the list *SPARES (linked through the engines) while that holds fewer
 * than MAX, else is freed (CLI NULL: nothing); smtp_cli_keep is the same
 * with MAX 1. smtp_cli_take pops one engine from the list (NULL: empty)
 * for smtp_cli_renew, which takes one engine, never a list. The owner
 * frees the list with smtp_cli_free (which frees the engines behind CLI
 * too). */
smtp_cli *smtp_cli_renew(smtp_cli *old, const smtp_cli_config *cfg, const smtp_env *env,
                         int64_t now);
void smtp_cli_keep(smtp_cli **spare, smtp_cli *cli);
void smtp_cli_keep_upto(smtp_cli **spares, smtp_cli *cli, unsigned max);
smtp_cli *smtp_cli_take(smtp_cli **spares);

/* Queues message M (copied). Messages sent after QUIT went out, or after
 * the session ended, get a TEMP result at once. A recipient that is not a
 * valid mailbox (or has an ORCPT with controls or spaces) gets PERM 553
 * 5.1.3 locally and is never sent; a bad sender or ENVID fails every
 * recipient with PERM 553 5.1.7 — outside data never becomes a command. */
void smtp_cli_send(smtp_cli *cli, const smtp_cli_message *m, int64_t now);
/* Asks for QUIT once the queue is empty (with quit_when_idle off). */
void smtp_cli_quit(smtp_cli *cli, int64_t now);

/* Server bytes, any split. */
void smtp_cli_feed(smtp_cli *cli, const void *buf, size_t len, int64_t now);
const uint8_t *smtp_cli_output_peek(const smtp_cli *cli, size_t *len);
/* Drops N sent bytes; NOW drives the data-block and final-dot timers. */
void smtp_cli_output_consume(smtp_cli *cli, size_t n, int64_t now);
bool smtp_cli_next_event(smtp_cli *cli, smtp_cli_event *ev);

/* TLS is up after event STARTTLS: the engine sends EHLO again. */
void smtp_cli_tls_started(smtp_cli *cli, int64_t now);
/* The transport broke: unfinished recipients fail TEMP, then CLOSE. */
void smtp_cli_connection_lost(smtp_cli *cli, int64_t now);

int64_t smtp_cli_deadline(const smtp_cli *cli);
void smtp_cli_tick(smtp_cli *cli, int64_t now);

/* Server capabilities seen in the last EHLO reply (SMTP_CLI_CAP_* bits). */
enum {
  SMTP_CLI_CAP_PIPELINING = 1u << 0,
  SMTP_CLI_CAP_SIZE = 1u << 1,
  SMTP_CLI_CAP_8BITMIME = 1u << 2,
  SMTP_CLI_CAP_ENHANCEDSTATUSCODES = 1u << 3,
  SMTP_CLI_CAP_STARTTLS = 1u << 4,
  SMTP_CLI_CAP_AUTH_PLAIN = 1u << 5,
  SMTP_CLI_CAP_AUTH_LOGIN = 1u << 6,
  SMTP_CLI_CAP_DSN = 1u << 7,
};
unsigned smtp_cli_caps(const smtp_cli *cli);
uint64_t smtp_cli_server_size(const smtp_cli *cli); /* SIZE limit, 0 = none given */
bool smtp_cli_tls_active(const smtp_cli *cli);
const char *smtp_cli_state_name(const smtp_cli *cli);

/* Appends DATA as sent after 354 (RFC 5321 §4.5.2, §2.3.8): every CRLF,
 * bare CR and bare LF becomes CRLF, a line starting with "." gets another
 * ".", a last line without a break gets CRLF, then "." CRLF. */
void smtp_cli_encode_body(GString *out, const uint8_t *data, size_t len);
/* The SIZE of DATA (RFC 1870 §3): octets after CRLF normalisation, without
 * the stuffing dots and the final "." CRLF — what the server will store. */
uint64_t smtp_cli_body_size(const uint8_t *data, size_t len);
/* The same size; *CRLF_ONLY tells whether every line break in DATA is a
 * CRLF (no bare CR or LF), which smtp_cli_encode_crlf_body needs. */
uint64_t smtp_cli_body_scan(const uint8_t *data, size_t len, bool *crlf_only);
/* smtp_cli_body_scan that also tells, when *CRLF_ONLY, whether a line of
 * DATA starts with "." (*DOTS; false otherwise). */
uint64_t smtp_cli_body_scan_dots(const uint8_t *data, size_t len, bool *crlf_only, bool *dots);
/* smtp_cli_body_scan_dots that also tells whether an octet of DATA has its
 * high bit set (*EIGHT: an 8-bit message, RFC 6152), read in the same
 * pass where it can. */
uint64_t smtp_cli_body_scan_8bit(const uint8_t *data, size_t len, bool *crlf_only, bool *dots,
                                 bool *eight);
/* smtp_cli_encode_body for DATA whose line breaks are all CRLF: the same
 * octets, the data copied in stretches between the stuffing dots. */
void smtp_cli_encode_crlf_body(GString *out, const uint8_t *data, size_t len);
/* The same for CRLF-only DATA in which no line starts with "." (the usual
 * message): the data copied at once. */
void smtp_cli_encode_plain_body(GString *out, const uint8_t *data, size_t len);

#endif
