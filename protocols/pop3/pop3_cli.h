/* pop3_cli.h — POP3 client engine (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 5034 AUTH PLAIN), sans-I/O: the simulated user's mail program.
 *
 * One session does: wait for the greeting, CAPA, (STLS), log in (AUTH
 * PLAIN with an initial response, or USER/PASS), STAT, UIDL, then for each
 * message whose UIDL the owner has not marked seen (pop3_cli_add_seen):
 * RETR it (one POP3_CLI_EV_MESSAGE event with the un-stuffed bytes) and,
 * in delete mode, DELE it; finally QUIT. Deletions take effect only when
 * the server answers QUIT (RFC 1939 §6), reported by POP3_CLI_EV_DONE.
 *
 * Same shape as every engine: feed server bytes in any split, peek/consume
 * output, pull events; pop3_cli_tls_done() after POP3_CLI_EV_STLS.
 */
#ifndef MAILSIM_POP3_CLI_H
#define MAILSIM_POP3_CLI_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3_srv.h" /* pop3_env */

typedef struct {
  const char *user, *pass;
  bool use_stls;         /* STLS when the server offers it */
  bool require_tls;      /* give up (QUIT) when STLS is not offered */
  bool auth_plain;       /* AUTH PLAIN instead of USER/PASS */
  bool delete_after;     /* DELE each fetched message (else leave on server) */
  size_t max_line;       /* reply line limit; 0 = 4096 */
  uint64_t max_message;  /* bytes; 0 = 64 MiB; larger messages are skipped */
  int64_t reply_timeout; /* ns; 0 = 5 minutes */
} pop3_cli_config;

/* States. Legal transitions (each waits for the reply to the command
 * named):
 *   GREETING -> CAPA -> STLS -> TLS_WAIT -> CAPA -> (USER -> PASS | AUTH) -> STAT
 *   CAPA -> USER | AUTH (no STLS wanted/offered)
 *   STAT -> UIDL -> RETR <-> DELE -> ... -> QUIT -> DONE
 *   any -> QUIT (error after login) ; any -> DONE (error before, reset) */
typedef enum {
  POP3_CLI_GREETING,
  POP3_CLI_CAPA,
  POP3_CLI_STLS,
  POP3_CLI_TLS_WAIT,
  POP3_CLI_USER,
  POP3_CLI_PASS,
  POP3_CLI_AUTH,
  POP3_CLI_STAT,
  POP3_CLI_UIDL,
  POP3_CLI_RETR,
  POP3_CLI_DELE,
  POP3_CLI_QUIT,
  POP3_CLI_DONE,
  POP3_CLI_STATE_COUNT
} pop3_cli_state;
const char *pop3_cli_state_name(pop3_cli_state s);

typedef enum {
  POP3_CLI_EV_COMMAND, /* text: command sent (secrets masked) */
  POP3_CLI_EV_REPLY,   /* text: status line received */
  POP3_CLI_EV_STLS,    /* start TLS now, then pop3_cli_tls_done() */
  POP3_CLI_EV_MESSAGE, /* uidl, index (1-based), data: one message fetched */
  POP3_CLI_EV_ERROR,   /* text: why the session gives up */
  POP3_CLI_EV_DONE,    /* count: messages fetched; deleted: removed at QUIT; ok */
  POP3_CLI_EV_CLOSE,   /* close the connection */
  POP3_CLI_EV_COUNT
} pop3_cli_event_kind;
const char *pop3_cli_event_name(pop3_cli_event_kind k);

/* Strings and DATA are valid until the next pop3_cli_next_event() (ref
 * DATA to keep it). */
typedef struct {
  pop3_cli_event_kind kind;
  const char *text;
  const char *uidl;
  size_t index;
  GBytes *data;
  size_t count, deleted;
  bool ok;
} pop3_cli_event;

typedef struct pop3_cli pop3_cli;

pop3_cli *pop3_cli_new(const pop3_cli_config *cfg, const pop3_env *env, int64_t now);
void pop3_cli_free(pop3_cli *c);
/* Recycling, for owners that open many sessions: pop3_cli_renew(OLD, ...)
 * is pop3_cli_free(OLD) followed by pop3_cli_new(CFG, ENV, NOW), with
 * OLD's storage (the engine and its buffers, emptied) reused; OLD may be
 * NULL, and is taken in any state (its events are dropped). When any
 * buffer held more than 64 KiB (a message) none is kept. pop3_cli_keep(
 * &spare, C) ends a session: C becomes *SPARE when that is NULL (for a
 * later renew), else is freed. The owner frees its spare with
 * pop3_cli_free. */
pop3_cli *pop3_cli_renew(pop3_cli *old, const pop3_cli_config *cfg, const pop3_env *env,
                         int64_t now);
void pop3_cli_keep(pop3_cli **spare, pop3_cli *c);
/* Marks UIDL as already downloaded (left on the server earlier). */
void pop3_cli_add_seen(pop3_cli *c, const char *uidl);
/* The same without a copy: UIDL is borrowed and must stay valid until C
 * is renewed or freed (it is not read after its session ends). */
void pop3_cli_add_seen_ref(pop3_cli *c, const char *uidl);

void pop3_cli_feed(pop3_cli *c, const void *data, size_t len, int64_t now);
/* The connection ended; DONE with ok=false unless already done. */
void pop3_cli_hangup(pop3_cli *c);
const uint8_t *pop3_cli_output_peek(const pop3_cli *c, size_t *len);
void pop3_cli_output_consume(pop3_cli *c, size_t n);
bool pop3_cli_next_event(pop3_cli *c, pop3_cli_event *ev);
void pop3_cli_tls_done(pop3_cli *c, bool ok);

pop3_cli_state pop3_cli_state_get(const pop3_cli *c);
int64_t pop3_cli_deadline(const pop3_cli *c);
void pop3_cli_tick(pop3_cli *c, int64_t now);

#endif
