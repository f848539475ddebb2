/* mta.h — the MTA host: submission (587) and relay/MX (25) services, a
 * queue kept on the host's disk, and the delivery agents that empty it.
 *
 * Server side. Every connection runs an smtp_srv engine on a session.
 * CONNECT: at most cfg.policy.max_sessions at once (421 4.7.0); MAIL: the
 * per-client rate (450 4.7.1). Port 587 (RFC 6409): STARTTLS first, then
 * AUTH against the user directory, then mail to anywhere. Port 25: mail for
 * the local domains (an unknown local user gets 550 5.1.1), relaying only
 * for authenticated clients (no open relay: 554 5.7.1). At the end of DATA:
 * more than max_hops Received fields → 554 5.4.0; otherwise the host adds a
 * Message-ID when there is none, prepends its Received field (RFC 5321
 * §4.4, with ESMTP/ESMTPS/ESMTPSA), writes the body and the queue record
 * to its disk and only then answers 250 (a full disk: 452 4.3.1, nothing
 * kept). Traces msg.submit (587) or msg.relay (25), then msg.queue.
 *
 * Filters (issue 7) plug in with mta_host_set_filter: at RCPT and at the
 * end of DATA on port 25 the host asks the filter and waits (asynchronous,
 * like every decision that needs simulated time); the answer may come at
 * once or later with mta_host_filter_answer.
 *
 * Delivery side. A queue runner wakes at the queue's next due time (the
 * retry profile already rounds retries to its queue-run period). Each due
 * message's unfinished recipients are grouped by next hop (mta_route):
 * local domains go to the mailbox host's port 25; others by MX lookup
 * through the host's dns_client (then A, and AAAA when cfg.ipv6), implicit
 * MX, null MX (556 5.1.10, no connection), MX-to-self (554 5.4.6),
 * overrides and a smarthost. Per next hop at most dest_concurrency
 * sessions, and at most process_limit busy sessions in all (Postfix's
 * delivery agent processes: a session idle in the connection cache holds
 * none); next hops that find the limit reached wait their turn, first
 * come first served; each session walks its own candidate list (connection failure
 * or a 4xx/5xx greeting: the next host), uses STARTTLS when offered, sends
 * one transaction per message (all its recipients for that hop) and then
 * takes the next message waiting for that hop (connection reuse).
 * Per-recipient results go into the queue; deferred recipients get
 * msg.defer with the next try; bounced ones an RFC 3464 DSN queued back to
 * the sender with a null reverse path (msg.bounce; never a DSN about a
 * DSN); a message that leaves the queue gets msg.expire and its files are
 * removed from the disk.
 *
 * Crash: sessions on both sides are lost; memory is dropped; on restart the
 * queue is reloaded from the disk records and delivery resumes (recipients
 * caught in flight are tried again: at least once, never lost). A build
 * with the TEST-ONLY meson option test_forget_queue_on_crash=true erases
 * the queue files at every crash instead: a deliberate bug for the
 * invariant checker to catch (never in a real build).
 *
 * Teardown (host.h): mta_host_free before the world, host_free after.
 */
#ifndef MAILSIM_MTA_H
#define MAILSIM_MTA_H

#include <stdbool.h>
#include <stdint.h>

#include "dns_client.h"
#include "host.h"
#include "mta_policy.h"
#include "mta_queue.h"
#include "tls_host.h"
#include "userdir.h"

typedef struct mta_host mta_host;

/* The delivery side's TLS policy (Postfix smtp_tls_security_level).
 * MAY: STARTTLS when offered, a failed handshake is retried once with the
 * same host in clear (opportunistic, RFC 3207 §4.1 lets the client go on).
 * ENCRYPT: TLS is required: no STARTTLS offered or a failed handshake is
 * a temporary failure for that host (the next MX, then a deferral). */
typedef enum { MTA_TLS_MAY, MTA_TLS_ENCRYPT, MTA_TLS__COUNT } mta_tls_policy;
const char *mta_tls_policy_name(mta_tls_policy p);

/* Configuration; strings are copied by mta_host_new. */
typedef struct {
  const char *hostname;             /* greeting, Received "by", MX-to-self, DSN Reporting-MTA */
  const char *const *local_domains; /* mail for these goes to the mailbox host */
  size_t nlocal_domains;
  bool submission; /* listen on 587 (STARTTLS + AUTH required) */
  bool mx;         /* listen on 25 */
  /* Where local mail is delivered (SMTP, port mailbox_port): an address
   * literal or the name of a simulated node. NULL: no local delivery. */
  const char *mailbox_host;
  uint16_t mailbox_port;     /* 0 = 25 */
  const char *retry_profile; /* "postfix" (NULL), "exim", "opensmtpd" */
  const char *smarthost;     /* "[host]" or "name" for every non-local domain, or NULL */
  uint16_t smarthost_port;   /* 0 = 25 */
  mta_policy_config policy;  /* sessions, rate, hops (mta_policy_config_init defaults) */
  unsigned dest_concurrency; /* sessions per next hop; 0 = the profile's (postfix 20,
                                exim 20, opensmtpd 10) */
  unsigned process_limit;    /* delivery sessions at once, all next hops; 0 = the
                                profile's (postfix 100, exim 20, opensmtpd 100) */
  unsigned rcpt_limit;       /* recipients per transaction; 0 = 50 */
  int64_t conn_cache_time;   /* an idle delivery session waits this long for more mail
                                (Postfix smtp_connection_cache_time_limit 2 s); 0 = QUIT */
  bool verify_local_rcpt;    /* at the MX, refuse local users unknown to the directory */
  bool ipv6;                 /* also look up AAAA of the exchanges */
  int64_t epoch_unix;        /* Unix seconds of simulated time 0 (Date, Received) */
  mta_tls_policy tls_policy; /* delivery side; MTA_TLS_MAY (default) */
  /* Reply texts shared with the world's other MTAs (borrowed: must outlive
   * the host); NULL: the queue keeps its own. Memory only, never output. */
  mta_queue_texts *texts;
} mta_host_config;

/* Defaults: submission and MX on, mailbox port 25, postfix, no smarthost,
 * mta_policy defaults, the profile's session limits, 50 recipients, 2 s connection
 * cache, verification
 * on, IPv4 only, epoch 2026-01-01. */
void mta_host_config_init(mta_host_config *cfg);

/* Starts the MTA on H. USERS (AUTH, local recipients) may be NULL; TLS
 * (STARTTLS on both sides) may be NULL for no TLS; DNS (MX and address
 * lookups) may be NULL when every route is local or an address literal.
 * All are borrowed and must outlive the MTA. Registers for H's crashes. */
mta_host *mta_host_new(host *h, const mta_host_config *cfg, userdir *users, tls_host *tls,
                       dns_client *dns);
/* Frees the MTA (before the world; see host.h). NULL is a no-op. */
void mta_host_free(mta_host *m);

/* ---- filters (issue 7) ---- */

typedef enum { MTA_FILTER_RCPT, MTA_FILTER_DATA, MTA_FILTER__COUNT } mta_filter_stage;
const char *mta_filter_stage_name(mta_filter_stage s);

/* What the filter is asked (borrowed for the call only). */
typedef struct {
  mta_filter_stage stage;
  uint64_t conn;      /* connection id */
  const char *client; /* the client's address */
  const char *helo;
  const char *sender;       /* "" for the null path */
  const char *rcpt;         /* RCPT: the recipient asked about */
  const char *const *rcpts; /* DATA: the accepted recipients */
  size_t nrcpts;
  const uint8_t *data; /* DATA: the message as received (before Received) */
  size_t len;
  bool tls;
} mta_filter_query;

/* Called with a ticket to answer (now or later) with mta_host_filter_answer. */
typedef void (*mta_filter_fn)(void *user, mta_host *m, uint64_t ticket, const mta_filter_query *q);
/* Installs FN for port 25 (NULL removes it). */
void mta_host_set_filter(mta_host *m, mta_filter_fn fn, void *user);
/* Answers TICKET: CODE 0 accepts, else a 4xx/5xx with ESC and TEXT. At
 * DATA, PREPEND (complete header fields ending in CRLF, or NULL) is added
 * above the message (Authentication-Results, X-Spam-...). Returns false
 * when the ticket is unknown (its connection is gone). */
bool mta_host_filter_answer(mta_host *m, uint64_t ticket, int code, const char *esc,
                            const char *text, const char *prepend);
/* Accepts a DATA-stage TICKET with the message replaced by DATA (LEN
 * octets, borrowed for the call; the filter's copy of the message with
 * header fields removed, e.g. forged Authentication-Results, RFC 8601 §5)
 * and PREPEND as above. Only for DATA tickets; returns false when the
 * ticket is unknown. */
bool mta_host_filter_accept_rewritten(mta_host *m, uint64_t ticket, const char *prepend,
                                      const uint8_t *data, size_t len);

/* ---- signing at submission (issue 7) ---- */

/* Called synchronously when a message submitted on port 587 is accepted,
 * before the host stores it: DATA (LEN octets) is the message as it will
 * be queued below the host's Received field (with the Message-ID the host
 * added, if any); SENDER the envelope sender ("" = null path); NOW_UNIX
 * the Unix time. Returns complete header fields ending in CRLF to prepend
 * (a DKIM-Signature), as a new string the host g_frees, or NULL. It must
 * not call back into the MTA. */
typedef char *(*mta_signer_fn)(void *user, const char *sender, const uint8_t *data, size_t len,
                               int64_t now_unix);
/* Installs FN for port 587 (NULL removes it). */
void mta_host_set_signer(mta_host *m, mta_signer_fn fn, void *user);

/* ---- fault injection (issue 10) ---- */

/* The server-side decisions a fault can answer instead of the host. */
typedef enum {
  MTA_STAGE_CONNECT, /* the greeting */
  MTA_STAGE_HELO,
  MTA_STAGE_MAIL,
  MTA_STAGE_RCPT,
  MTA_STAGE_DOT, /* the reply to the end of DATA */
  MTA_STAGE__COUNT
} mta_stage;
const char *mta_stage_name(mta_stage s);

typedef struct {
  int code;         /* 400..599 */
  const char *esc;  /* enhanced status code or NULL (derived from the code) */
  const char *text; /* or NULL (a standard text) */
} mta_fault_reply;

/* Hooks a fault injector installs (any may be NULL). They are called
 * synchronously and must not call back into the MTA.
 *   reply: before the host decides at STAGE (on port 25 and 587); return
 *     true and fill *R (strings borrowed until the next call) to answer
 *     that instead. SENDER is NULL before MAIL ("" = null path); RCPTS are
 *     the recipient asked about (RCPT) or the accepted ones (DOT).
 *   greeting_delay: how long the greeting waits (a tarpit); 0 none.
 *   cut_after_dot: called once the message MSGID is stored on disk and
 *     traced, before its 250; true drops the connection instead (the
 *     client never sees the reply: RFC 1047's duplicate window). */
typedef struct {
  bool (*reply)(void *user, mta_host *m, mta_stage stage, const char *client, const char *sender,
                const char *const *rcpts, size_t nrcpts, mta_fault_reply *r);
  sim_time (*greeting_delay)(void *user, mta_host *m, const char *client);
  bool (*cut_after_dot)(void *user, mta_host *m, const char *msgid, const char *sender,
                        const char *const *rcpts, size_t nrcpts);
  void *user;
} mta_fault_hooks;
/* Installs HOOKS (copied; NULL removes them). */
void mta_host_set_fault_hooks(mta_host *m, const mta_fault_hooks *hooks);

/* ---- observation ---- */

typedef struct {
  uint64_t sessions_in;      /* connections accepted */
  uint64_t rejected_connect; /* 421 at the session limit */
  uint64_t messages_in;      /* answered 250 (submitted + relayed) */
  uint64_t submitted, relayed;
  uint64_t disk_full;                                   /* 452 4.3.1 answers */
  uint64_t sessions_out;                                /* delivery connections opened */
  uint64_t limit_waits;   /* times a next hop had to wait for process_limit */
  uint64_t peak_busy;     /* most delivery sessions busy at once */
  uint64_t rcpt_delivered, rcpt_deferred, rcpt_bounced; /* recipient results */
  uint64_t dsns;   /* DSNs queued (failures and delay warnings) */
  uint64_t left;   /* messages that left the queue */
  uint64_t queued; /* messages queued now (on disk while down) */
  uint64_t restarts;
} mta_host_stats;
void mta_host_get_stats(const mta_host *m, mta_host_stats *st);

/* Bytes of memory the MTA holds for its queue beyond the disk (the queue's
 * structures, the per-message host data and the account), estimated from
 * their sizes; 0 while down. */
size_t mta_host_memory(const mta_host *m);

/* The invariant: every message this host answered 250 for (and every DSN
 * it queued) is delivered, bounced with a DSN (or a null sender), or still
 * queued (in memory, or on disk while the host is down); no DSN about a
 * DSN; the queue's own check (mta_queue_check). Appends one new string per
 * violation to VIOLATIONS (may be NULL); returns the count. Works across
 * crashes: the account is kept by the simulator, outside the machine. */
size_t mta_host_check(const mta_host *m, GPtrArray *violations);

/* True in a TEST-ONLY build made with -Dtest_forget_queue_on_crash=true
 * (the MTA erases its queue at every crash). */
bool mta_host_test_forgets_queue(void);
/* Appends (new strings) the queue ids, as msg.queue traced them, of the
 * messages the host holds now: in its queue, or on its disk while down;
 * in arrival order. The end record lists them (traces/CHECK.md). */
void mta_host_queue_ids(const mta_host *m, GPtrArray *out);

/* The configured hostname (borrowed). */
const char *mta_host_name(const mta_host *m);

#endif
