/* mua.h — a user's mail program on a client host: composes and submits
 * messages, and fetches mail over IMAP or POP3 on a schedule.
 *
 * Accounts. A client host may serve several people: each account names an
 * address, its password and the submission server (a host name, looked up
 * as an A record through the host's stub resolver, or a direct address).
 *
 * Sending (mua_send): at the given time the message is composed
 * (mime_compose: From, To, Cc, Bcc, Subject, text and HTML bodies,
 * attachments whose bytes come from a stream named after the host and the
 * message key, Message-ID "<KEY.<16 hex>@<from domain>>", Date from
 * simulated time and the configured epoch) and recorded (msg.compose).
 * It is then submitted on port 587 (RFC 6409): STARTTLS required, AUTH
 * with the account's password. Recipients refused with 4xx, or not sent
 * because the server could not be reached (DNS failure, refused
 * connection, timeout, TLS failure), are retried after retry_base,
 * doubling each time (1, 2, 4 ... minutes by default) for at most
 * max_tries attempts, each deferral recorded as msg.defer with this host
 * as node; recipients refused with 5xx, or still failing after the last
 * try, are given up and recorded as msg.fail. The accepting server records
 * the hop (msg.submit).
 *
 * Fetching (mua_fetch_every): every INTERVAL the client logs in to the
 * mailbox server (IMAP: STARTTLS, login, UID SEARCH for UIDs above the
 * last one it has, UID FETCH, mark \Seen; POP3: STLS, login, UIDL, RETR
 * of the ones it has not downloaded, DELE unless KEEP). For every new
 * message: msg.fetch, then msg.display (mime_display_scan). A
 * round is skipped while the previous one is still running. POP3 in delete
 * mode: a message is remembered as done only when QUIT removed it; after
 * a broken session it is downloaded (and shown) again, never left behind.
 *
 * Crash: sessions, timers and lookups in progress are dropped; the outbox,
 * the accounts and what the client already fetched are on its disk, so on
 * restart unfinished messages are attempted again at once and fetching
 * resumes on its schedule.
 */
#ifndef MAILSIM_MUA_H
#define MAILSIM_MUA_H

#include <stdbool.h>
#include <stdint.h>

#include "dns_client.h"
#include "host.h"
#include "tls_host.h"

typedef struct {
  int64_t epoch_unix;   /* Unix seconds of simulated time 0 (Date fields) */
  int tz_min;           /* zone of the Date field, minutes east of UTC */
  const char *helo;     /* EHLO name; NULL: the host name */
  uint16_t submit_port; /* 587 */
  sim_time retry_base;  /* first retry delay; doubles each time (1 min) */
  unsigned max_tries;   /* attempts per message, the first included (5) */
} mua_config;

/* Defaults: MIME_DATE_EPOCH_DEFAULT, UTC, host name, 587, 1 min, 5 tries. */
void mua_config_init(mua_config *cfg);

typedef struct {
  const char *address; /* "alice@example.com" (login and From) */
  const char *password;
  const char *display_name;  /* NULL: none */
  const char *submit_server; /* host name: the A lookup and the TLS name */
  const char *submit_addr;   /* address literal; NULL: look SUBMIT_SERVER up */
} mua_account;

typedef struct {
  const char *name; /* file name */
  const char *type; /* "application/pdf"; NULL: application/octet-stream */
  uint64_t size;    /* octets of generated content */
} mua_attachment;

typedef struct {
  const char *key;  /* the scenario's message key, "m1" */
  const char *from; /* an account's address */
  const char *const *to, *const *cc, *const *bcc;
  size_t nto, ncc, nbcc;
  const char *subject, *text, *html; /* NULL: none */
  const mua_attachment *attachments;
  size_t nattachments;
} mua_message;

typedef enum { MUA_IMAP, MUA_POP3 } mua_proto;

typedef struct {
  mua_proto proto;
  const char *server;      /* host name: the A lookup and the TLS name */
  const char *server_addr; /* address literal; NULL: look SERVER up */
  const char *user, *password;
  sim_time first;    /* first round at this time */
  sim_time interval; /* then every INTERVAL (> 0) */
  bool keep;         /* POP3: leave messages on the server */
} mua_fetch;

typedef struct mua mua;

/* A client on H. CFG is copied; TLS (borrowed) gives the client its TLS
 * contexts and is required for submission and for fetching with TLS; DNS
 * (borrowed, may be NULL when every server is given by address) resolves
 * server names. */
mua *mua_new(host *h, const mua_config *cfg, tls_host *tls, dns_client *dns);
/* Cancels its events and frees everything (before the world; see host.h).
 * NULL is a no-op. */
void mua_free(mua *m);

/* Adds an account (strings copied). False if the address is already one. */
bool mua_add_account(mua *m, const mua_account *a);
/* Schedules message M (deep-copied) to be composed and submitted at AT
 * (not before now). Its From must be an account (asserted: the scenario
 * loader checks it). */
void mua_send(mua *m, const mua_message *msg, sim_time at);
/* The same as mua_send(M, MSG, now) followed by its event, called when the
 * message is due: a scenario's traffic source creates each message at its
 * time instead of holding every message (and an event) from the start.
 * ORDER is the message's place in the outbox, which decides the order in
 * which a restarted client takes up what fell due while it was down: the
 * outbox is kept in increasing ORDER (mua_send gives the calls' order, 0,
 * 1, ...; do not mix the two on one client). MSG is read during the call
 * only: a running client composes it at once, a client that is down keeps
 * a copy until it is back. */
void mua_send_now(mua *m, const mua_message *msg, uint64_t order);
/* Starts fetching per F (strings copied). */
void mua_fetch_every(mua *m, const mua_fetch *f);

/* Counters for tests and summaries. */
typedef struct {
  uint64_t composed;      /* messages composed */
  uint64_t accepted;      /* recipients accepted by the submission server */
  uint64_t deferred;      /* recipient deferrals (each retry) */
  uint64_t failed;        /* recipients given up */
  uint64_t fetched;       /* messages fetched (all accounts) */
  uint64_t rounds;        /* fetch sessions that ended well */
  uint64_t fetch_engines; /* IMAP/POP3 client engines made (one per connected round) */
  uint64_t outbox;        /* outgoing messages held in memory now (finished ones until swept) */
} mua_stats;
void mua_get_stats(const mua *m, mua_stats *out);

#endif
