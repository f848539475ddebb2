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
 *   msg.queue   {"node","msg","queue_id","rcpts":[..]}     stored on disk
 *   msg.defer   {"node","msg","queue_id","rcpt","reason","next_try"}
 *   msg.bounce  {"node","msg","queue_id","rcpt","reason","dsn"}  (dsn: its Message-ID)
 *   msg.deliver {"node","msg","rcpt","mailbox","folder","uid"}
 *   msg.fetch   {"node","from","msg","proto","mailbox"}
 *   msg.display {"node","msg","fields":{"From":..,"To":..,"Cc":..,"Subject":..,"Date":..},
 *                "received":["by X from Y with W"..],
 *                "attachments":[{"name","type","size"}..]}
 *   msg.expire  {"node","msg","queue_id"}                  left the queue
 *   msg.fail    {"node","to","msg","rcpt","reason"}    a sending client gave up on
 *               a recipient (5xx from its server, or out of retries)
 * "hop" counts Received fields (the hops the message made before). "tls"
 * and "auth" tell how the transfer was protected (auth: the user, or "").
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
void mail_trace_queue(host *h, const char *msg, const char *queue_id, mail_rcpts rcpts);
void mail_trace_defer(host *h, const char *msg, const char *queue_id, const char *rcpt,
                      const char *reason, sim_time next_try);
void mail_trace_bounce(host *h, const char *msg, const char *queue_id, const char *rcpt,
                       const char *reason, const char *dsn);
void mail_trace_deliver(host *h, const char *msg, const char *rcpt, const char *mailbox,
                        const char *folder, uint32_t uid);
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

#endif
