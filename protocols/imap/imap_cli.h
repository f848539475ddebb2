/* imap_cli.h — IMAP4rev1 client engine (RFC 3501), sans-I/O: the simulated
 * user's mail program synchronising one mailbox.
 *
 * One session: greeting, CAPABILITY, (STARTTLS, CAPABILITY), log in
 * (AUTHENTICATE PLAIN with SASL-IR when offered, else LOGIN), SELECT the
 * mailbox, UID SEARCH for UIDs above the last one the owner has (all of
 * them when the UIDVALIDITY changed), UID FETCH (UID FLAGS BODY.PEEK[]) —
 * one POP-like MESSAGE event per message — then optionally UID STORE
 * +FLAGS.SILENT (\Seen) and UID MOVE to a folder; then either LOGOUT or
 * IDLE until the server reports new mail (EXISTS), sync again, and so on
 * until imap_cli_stop().
 *
 * Same engine shape as the others: feed server bytes in any split,
 * peek/consume output, pull events, imap_cli_tls_done() after STARTTLS.
 */
#ifndef MAILSIM_IMAP_CLI_H
#define MAILSIM_IMAP_CLI_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap_srv.h" /* imap_env */

typedef struct {
  const char *user, *pass;
  const char *mailbox;   /* default "INBOX" */
  bool use_starttls;     /* STARTTLS when offered */
  bool require_tls;      /* give up when it is not */
  bool mark_seen;        /* UID STORE +FLAGS.SILENT (\Seen) after fetching */
  const char *move_to;   /* UID MOVE fetched messages there (NULL: keep) */
  bool idle;             /* IDLE after syncing (RFC 2177) instead of LOGOUT */
  uint32_t uidvalidity;  /* what the owner knows (0: nothing) */
  uint32_t last_uid;     /* highest UID the owner already has */
  size_t max_message;    /* 0 = 64 MiB */
  int64_t reply_timeout; /* ns; 0 = 5 minutes (not applied while IDLE) */
} imap_cli_config;

/* States; each waits for the tagged reply of the command it names.
 *   GREETING -> CAPABILITY -> STARTTLS -> TLS_WAIT -> CAPABILITY -> LOGIN
 *   CAPABILITY -> LOGIN (no TLS wanted/offered) -> SELECT -> SEARCH
 *   SEARCH -> FETCH -> STORE -> MOVE -> (IDLE -> DONE_SENT -> SEARCH) | LOGOUT
 *   (steps without work are skipped) ; LOGOUT -> DONE ; any -> DONE */
typedef enum {
  IMAP_CLI_GREETING,
  IMAP_CLI_CAPABILITY,
  IMAP_CLI_STARTTLS,
  IMAP_CLI_TLS_WAIT,
  IMAP_CLI_LOGIN,
  IMAP_CLI_SELECT,
  IMAP_CLI_SEARCH,
  IMAP_CLI_FETCH,
  IMAP_CLI_STORE,
  IMAP_CLI_MOVE,
  IMAP_CLI_IDLE,
  IMAP_CLI_DONE_SENT,
  IMAP_CLI_LOGOUT,
  IMAP_CLI_DONE,
  IMAP_CLI_STATE_COUNT
} imap_cli_state;
const char *imap_cli_state_name(imap_cli_state s);

typedef enum {
  IMAP_CLI_EV_COMMAND,  /* text: command sent (secrets masked) */
  IMAP_CLI_EV_REPLY,    /* text: tagged reply received */
  IMAP_CLI_EV_STARTTLS, /* start TLS now, then imap_cli_tls_done() */
  IMAP_CLI_EV_MESSAGE,  /* uid, uidvalidity, flags (text), data */
  IMAP_CLI_EV_SYNCED,   /* count: messages fetched in this round */
  IMAP_CLI_EV_ERROR,    /* text */
  IMAP_CLI_EV_DONE,     /* count: messages fetched in the session; ok */
  IMAP_CLI_EV_CLOSE,
  IMAP_CLI_EV_COUNT
} imap_cli_event_kind;
const char *imap_cli_event_name(imap_cli_event_kind k);

/* Strings and DATA valid until the next imap_cli_next_event(). */
typedef struct {
  imap_cli_event_kind kind;
  const char *text;
  uint32_t uid, uidvalidity;
  GBytes *data;
  size_t count;
  bool ok;
} imap_cli_event;

typedef struct imap_cli imap_cli;

imap_cli *imap_cli_new(const imap_cli_config *cfg, const imap_env *env, int64_t now);
void imap_cli_free(imap_cli *c);
/* Recycling, for owners that open many sessions: imap_cli_renew(OLD, ...)
 * is imap_cli_free(OLD) followed by imap_cli_new(CFG, ENV, NOW), with
 * OLD's storage (the engine and its small buffers) reused; OLD may be
 * NULL, and is taken in any state (its events are dropped). A buffer that
 * held more than 64 KiB is not kept (the framer, which holds messages, is
 * always made anew). imap_cli_keep(&spare, C) ends a session: C becomes
 * *SPARE when that is NULL (for a later renew), else is freed. The owner
 * frees its spare with imap_cli_free. */
imap_cli *imap_cli_renew(imap_cli *old, const imap_cli_config *cfg, const imap_env *env,
                         int64_t now);
void imap_cli_keep(imap_cli **spare, imap_cli *c);
void imap_cli_feed(imap_cli *c, const void *data, size_t len, int64_t now);
void imap_cli_hangup(imap_cli *c);
const uint8_t *imap_cli_output_peek(const imap_cli *c, size_t *len);
void imap_cli_output_consume(imap_cli *c, size_t n);
bool imap_cli_next_event(imap_cli *c, imap_cli_event *ev);
void imap_cli_tls_done(imap_cli *c, bool ok);
/* Ends an IDLE session: DONE, then LOGOUT (no-op in other states; the
 * session then logs out at its next opportunity). */
void imap_cli_stop(imap_cli *c);

imap_cli_state imap_cli_state_get(const imap_cli *c);
int64_t imap_cli_deadline(const imap_cli *c);
void imap_cli_tick(imap_cli *c, int64_t now);

#endif
