/* mail_trace.h — the msg.* records: the journey of a message.
 *
 * A message is named in the trace by its Message-ID without the angle
 * brackets (key "msg"); the scenario's messages get Message-IDs whose local
 * part begins with the scenario's key ("m1.…"). A hop — one transfer of a
 * message between two hosts — is recorded by the host that ACCEPTED it
 * (after its 250), naming both ends. Every function writes one record at
 * messages detail (and finer); they do nothing when tracing is off.
 *
 *   msg.compose {"node","msg","from","rcpts":[..],"subject","size"}
 *   msg.submit  {"from","to","msg","conn","queue_id","rcpts":[..],"tls","auth"}
 *   msg.relay   {"from","to","msg","conn","queue_id","rcpts":[..],"tls","hop"}
 *   msg.queue   {"node","msg","queue_id","rcpts":[..],"sender","lifetime","retry_gap","max_hops"}
 *               stored on disk; sender: the envelope sender ("" = null path);
 *               lifetime: how long the MTA keeps it before bouncing (ns);
 *               retry_gap: the longest wait between two tries of its retry
 *               schedule (ns); max_hops: the MTA's Received limit
 *   msg.defer   {"node","msg","queue_id","rcpt","reason","next_try"}
 *   msg.bounce  {"node","msg","queue_id","rcpt","reason","dsn"}  (dsn: its Message-ID)
 *   msg.deliver {"node","msg","rcpt","mailbox","folder","uid","uidvalidity"}
 *               (uidvalidity: the folder's, 0 when nothing was stored)
 *   msg.fetch   {"node","from","msg","proto","mailbox"}
 *   msg.display {"node","msg","fields":{"From":..,"To":..,"Cc":..,"Subject":..,"Date":..},
 *                "received":["by X from Y with W"..],
 *                "attachments":[{"name","type","size"}..]}
 *   msg.expire  {"node","msg","queue_id"}                  left the queue
 *   msg.fail    {"node","to","msg","rcpt","reason"}    a sending client gave up on
 *               a recipient (5xx from its server, or out of retries)
 * msg.store and msg.kept (message bodies, `mailsim run --keep-messages`)
 * are written by hosts/mailbox_keep.h.
 * "hop" counts Received fields (the hops the message made before). "tls"
 * and "auth" tell how the transfer was protected (auth: the user, or "").
 *
 * Policy verdicts of an MX's filters (hosts/mx_filters.h, issue 7), one
 * record per verdict; "msg" only when known (the DATA stage); "conn" (the
 * MX's SMTP connection, as in msg.relay) at the RCPT stage, so a verdict
 * can be joined with the msg.relay of the same connection:
 *   policy.greylist {"node","msg"?,"conn"?,"client","sender","rcpt","verdict","waited"}
 *                   verdict: greylist_result_name; waited: ns since first seen
 *   policy.dnsbl    {"node","msg"?,"conn"?,"client","listed":[zones],"action"}
 *                   action: "reject" | "score" | "none"
 *   policy.spf      {"node","msg","client","identity","domain","result"}
 *   policy.dkim     {"node","msg","result","sigs":[{"d","s","result","reason"?}]}
 *   policy.dmarc    {"node","msg","from_domain","result","policy","disposition"}
 *   policy.spam     {"node","msg","score","rules":[..],"action"}
 *                   score in tenths; action: "ham" | "tag" | "reject"
 */
#ifndef MAILSIM_MAIL_TRACE_H
#define MAILSIM_MAIL_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "host.h"
#include "mime_display.h"

/* A list of recipient addresses. */
typedef struct {
  const char *const *v;
  size_t n;
} mail_rcpts;

void mail_trace_compose(host *h, const char *msg, const char *from, mail_rcpts rcpts,
                        const char *subject, uint64_t size);
void mail_trace_submit(host *h, const char *client, const char *msg, uint64_t conn,
                       const char *queue_id, mail_rcpts rcpts, bool tls, const char *auth);
void mail_trace_relay(host *h, const char *client, const char *msg, uint64_t conn,
                      const char *queue_id, mail_rcpts rcpts, bool tls, unsigned hop);
/* What msg.queue says about the queue entry besides its recipients. */
typedef struct {
  const char *sender; /* "" = the null reverse path */
  sim_time lifetime;  /* queue lifetime that applies to it */
  sim_time retry_gap; /* longest wait between two tries */
  unsigned max_hops;  /* Received fields the MTA accepts */
} mail_queue_info;
void mail_trace_queue(host *h, const char *msg, const char *queue_id, mail_rcpts rcpts,
                      const mail_queue_info *qi);
void mail_trace_defer(host *h, const char *msg, const char *queue_id, const char *rcpt,
                      const char *reason, sim_time next_try);
void mail_trace_bounce(host *h, const char *msg, const char *queue_id, const char *rcpt,
                       const char *reason, const char *dsn);
void mail_trace_deliver(host *h, const char *msg, const char *rcpt, const char *mailbox,
                        const char *folder, uint32_t uid, uint32_t uidvalidity);
void mail_trace_fetch(host *h, const char *server, const char *msg, const char *proto,
                      const char *mailbox);
void mail_trace_expire(host *h, const char *msg, const char *queue_id);
void mail_trace_fail(host *h, const char *server, const char *msg, const char *rcpt,
                     const char *reason);
/* What the reader sees of message MSG, from its parsed view D: each
 * displayed field as a key ("from", "to", "cc", "subject", "date"), the
 * Received path as "by <- from" strings, top (last hop) first, and the
 * attachments. */
void mail_trace_display(host *h, const char *msg, const mime_display *d);

/* ---- policy.* (see above); MSG may be NULL or "" (then omitted); CONN 0
 * is omitted ---- */
void mail_trace_policy_greylist(host *h, const char *msg, uint64_t conn, const char *client,
                                const char *sender, const char *rcpt, const char *verdict,
                                sim_time waited);
void mail_trace_policy_dnsbl(host *h, const char *msg, uint64_t conn, const char *client,
                             const char *const *listed, size_t nlisted, const char *action);
void mail_trace_policy_spf(host *h, const char *msg, const char *client, const char *identity,
                           const char *domain, const char *result);
/* One signature as policy.dkim lists it (REASON may be NULL). */
typedef struct {
  const char *d, *s, *result, *reason;
} mail_trace_dkim_sig;
void mail_trace_policy_dkim(host *h, const char *msg, const char *result,
                            const mail_trace_dkim_sig *sigs, size_t nsigs);
void mail_trace_policy_dmarc(host *h, const char *msg, const char *from_domain,
                             const char *result, const char *policy, const char *disposition);
void mail_trace_policy_spam(host *h, const char *msg, int score, const char *const *rules,
                            size_t nrules, const char *action);

#endif
