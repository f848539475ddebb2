/* mail_trace.c — msg.* records (see mail_trace.h). */
#include "mail_trace.h"

#include "mail_tally.h"

#include <string.h>

static trace_writer *begin(host *h, const char *ev) {
  trace_writer *tw = host_trace(h, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, host_now(h), ev);
  return tw;
}

/* The head and "node": the host writing the record. */
static trace_writer *begin_node(host *h, const char *ev) {
  trace_writer *tw = host_trace(h, SIM_DETAIL_MESSAGES);
  if (tw)
    trace_event_begin_node(tw, host_now(h), ev, host_name(h));
  return tw;
}

static void rcpts_key(trace_writer *tw, mail_rcpts r) {
  trace_arr_begin(tw, "rcpts");
  for (size_t i = 0; i < r.n; i++)
    trace_key_str(tw, NULL, r.v[i]);
  trace_arr_end(tw);
}

void mail_trace_compose(host *h, const char *msg, const char *from, mail_rcpts rcpts,
                        const char *subject, uint64_t size) {
  trace_writer *tw = begin_node(h, "msg.compose");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "from", from);
  rcpts_key(tw, rcpts);
  trace_key_str(tw, "subject", subject);
  trace_key_uint(tw, "size", size);
  trace_end(tw);
}

static void transfer(host *h, const char *ev, const char *client, const char *msg,
                     uint64_t conn, const char *queue_id, mail_rcpts rcpts, bool tls) {
  trace_writer *tw = begin(h, ev);
  trace_key_str(tw, "from", client);
  trace_key_str(tw, "to", host_name(h));
  trace_key_str(tw, "msg", msg);
  trace_key_uint(tw, "conn", conn);
  trace_key_str(tw, "queue_id", queue_id);
  rcpts_key(tw, rcpts);
  trace_key_bool(tw, "tls", tls);
}

void mail_trace_submit(host *h, const char *client, const char *msg, uint64_t conn,
                       const char *queue_id, mail_rcpts rcpts, bool tls, const char *auth) {
  if (host_tally(h))
    mail_tally_submit(host_tally(h), msg, rcpts.n, host_now(h));
  trace_writer *tw = host_trace(h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  transfer(h, "msg.submit", client, msg, conn, queue_id, rcpts, tls);
  trace_key_str(tw, "auth", auth ? auth : "");
  trace_end(tw);
}

void mail_trace_relay(host *h, const char *client, const char *msg, uint64_t conn,
                      const char *queue_id, mail_rcpts rcpts, bool tls, unsigned hop) {
  trace_writer *tw = host_trace(h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  transfer(h, "msg.relay", client, msg, conn, queue_id, rcpts, tls);
  trace_key_uint(tw, "hop", hop);
  trace_end(tw);
}

void mail_trace_queue(host *h, const char *msg, const char *queue_id, mail_rcpts rcpts,
                      const mail_queue_info *qi) {
  trace_writer *tw = begin_node(h, "msg.queue");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", queue_id);
  rcpts_key(tw, rcpts);
  trace_key_str(tw, "sender", qi->sender);
  trace_key_int(tw, "lifetime", qi->lifetime);
  trace_key_int(tw, "retry_gap", qi->retry_gap);
  trace_key_uint(tw, "max_hops", qi->max_hops);
  trace_end(tw);
}

void mail_trace_defer(host *h, const char *msg, const char *queue_id, const char *rcpt,
                      const char *reason, sim_time next_try) {
  if (host_tally(h))
    mail_tally_defer(host_tally(h), msg, queue_id[0] == '\0');
  trace_writer *tw = begin_node(h, "msg.defer");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", queue_id);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "reason", reason);
  trace_key_int(tw, "next_try", next_try);
  trace_end(tw);
}

void mail_trace_bounce(host *h, const char *msg, const char *queue_id, const char *rcpt,
                       const char *reason, const char *dsn) {
  if (host_tally(h))
    mail_tally_bounce(host_tally(h), msg);
  trace_writer *tw = begin_node(h, "msg.bounce");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", queue_id);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "reason", reason);
  trace_key_str(tw, "dsn", dsn ? dsn : "");
  trace_end(tw);
}

void mail_trace_deliver(host *h, const char *msg, const char *rcpt, const char *mailbox,
                        const char *folder, uint32_t uid, uint32_t uidvalidity) {
  bool dup = false;
  if (host_tally(h)) {
    mail_tally_deliver(host_tally(h), msg, host_now(h));
    dup = mail_tally_duplicate(host_tally(h), msg, mailbox);
  }
  trace_writer *tw = begin_node(h, "msg.deliver");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "mailbox", mailbox);
  trace_key_str(tw, "folder", folder);
  trace_key_uint(tw, "uid", uid);
  trace_key_uint(tw, "uidvalidity", uidvalidity);
  trace_end(tw);
  if (dup) { /* the same message in the same mailbox again (RFC 1047) */
    tw = begin_node(h, "msg.duplicate");
    trace_key_str(tw, "msg", msg);
    trace_key_str(tw, "rcpt", rcpt);
    trace_key_str(tw, "mailbox", mailbox);
    trace_end(tw);
  }
}

void mail_trace_fetch(host *h, const char *server, const char *msg, const char *proto,
                      const char *mailbox) {
  if (host_tally(h))
    mail_tally_fetch(host_tally(h));
  trace_writer *tw = begin_node(h, "msg.fetch");
  trace_key_str(tw, "from", server);
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "proto", proto);
  trace_key_str(tw, "mailbox", mailbox);
  trace_end(tw);
}

void mail_trace_expire(host *h, const char *msg, const char *queue_id) {
  trace_writer *tw = begin_node(h, "msg.expire");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", queue_id);
  trace_end(tw);
}

void mail_trace_fail(host *h, const char *server, const char *msg, const char *rcpt,
                     const char *reason) {
  if (host_tally(h))
    mail_tally_fail(host_tally(h));
  trace_writer *tw = begin_node(h, "msg.fail");
  trace_key_str(tw, "to", server);
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "reason", reason);
  trace_end(tw);
}

/* One Received entry as the string "by BY from FROM with WITH" ("?" for
 * a missing part), built by appends: the same octets the printf of
 * format "by %s from %s with %s" wrote, so the same JSON string. */
static void received_key(trace_writer *tw, const mime_received_info *r) {
  const char *part[3] = {r->by ? r->by : "?", r->from ? r->from : "?", r->with ? r->with : "?"};
  static const char *const lead[3] = {"by ", " from ", " with "};
  static const size_t lead_len[3] = {3, 6, 6};
  size_t len[3], total = 0;
  for (int i = 0; i < 3; i++) {
    len[i] = strlen(part[i]);
    total += lead_len[i] + len[i];
  }
  char stack[256];
  char *buf = total <= sizeof stack ? stack : g_malloc(total);
  char *p = buf;
  for (int i = 0; i < 3; i++) {
    memcpy(p, lead[i], lead_len[i]);
    p += lead_len[i];
    memcpy(p, part[i], len[i]);
    p += len[i];
  }
  trace_key_strn(tw, NULL, buf, total);
  if (buf != stack)
    g_free(buf);
}

void mail_trace_display(host *h, const char *msg, const mime_display *d) {
  trace_writer *tw = host_trace(h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  trace_event_begin_node(tw, host_now(h), "msg.display", host_name(h));
  trace_key_str(tw, "msg", msg);
  trace_obj_begin(tw, "fields");
  for (guint i = 0; i < d->fields->len; i++) {
    const mime_display_field *f = d->fields->pdata[i];
    trace_key_str(tw, f->name, f->value);
  }
  trace_obj_end(tw);
  trace_arr_begin(tw, "received");
  for (guint i = 0; i < d->received->len; i++) {
    const mime_received_info *r = d->received->pdata[i];
    received_key(tw, r);
  }
  trace_arr_end(tw);
  trace_arr_begin(tw, "attachments");
  for (guint i = 0; i < d->attachments->len; i++) {
    const mime_display_attachment *a = d->attachments->pdata[i];
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "name", a->filename ? a->filename : "");
    trace_key_str(tw, "type", a->type);
    trace_key_uint(tw, "size", a->size);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  trace_end(tw);
}

/* ---- policy.* ---- */

static trace_writer *policy_begin(host *h, const char *ev, const char *msg) {
  trace_writer *tw = begin_node(h, ev);
  if (msg && *msg)
    trace_key_str(tw, "msg", msg);
  return tw;
}

void mail_trace_policy_greylist(host *h, const char *msg, uint64_t conn, const char *client,
                                const char *sender, const char *rcpt, const char *verdict,
                                sim_time waited) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.greylist", msg);
  if (conn)
    trace_key_uint(tw, "conn", conn);
  trace_key_str(tw, "client", client);
  trace_key_str(tw, "sender", sender);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "verdict", verdict);
  trace_key_int(tw, "waited", waited);
  trace_end(tw);
}

void mail_trace_policy_dnsbl(host *h, const char *msg, uint64_t conn, const char *client,
                             const char *const *listed, size_t nlisted, const char *action) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.dnsbl", msg);
  if (conn)
    trace_key_uint(tw, "conn", conn);
  trace_key_str(tw, "client", client);
  trace_arr_begin(tw, "listed");
  for (size_t i = 0; i < nlisted; i++)
    trace_key_str(tw, NULL, listed[i]);
  trace_arr_end(tw);
  trace_key_str(tw, "action", action);
  trace_end(tw);
}

void mail_trace_policy_spf(host *h, const char *msg, const char *client, const char *identity,
                           const char *domain, const char *result) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.spf", msg);
  trace_key_str(tw, "client", client);
  trace_key_str(tw, "identity", identity);
  trace_key_str(tw, "domain", domain ? domain : "");
  trace_key_str(tw, "result", result);
  trace_end(tw);
}

void mail_trace_policy_dkim(host *h, const char *msg, const char *result,
                            const mail_trace_dkim_sig *sigs, size_t nsigs) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.dkim", msg);
  trace_key_str(tw, "result", result);
  trace_arr_begin(tw, "sigs");
  for (size_t i = 0; i < nsigs; i++) {
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "d", sigs[i].d ? sigs[i].d : "");
    trace_key_str(tw, "s", sigs[i].s ? sigs[i].s : "");
    trace_key_str(tw, "result", sigs[i].result);
    if (sigs[i].reason)
      trace_key_str(tw, "reason", sigs[i].reason);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  trace_end(tw);
}

void mail_trace_policy_dmarc(host *h, const char *msg, const char *from_domain,
                             const char *result, const char *policy, const char *disposition) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.dmarc", msg);
  trace_key_str(tw, "from_domain", from_domain ? from_domain : "");
  trace_key_str(tw, "result", result);
  trace_key_str(tw, "policy", policy);
  trace_key_str(tw, "disposition", disposition);
  trace_end(tw);
}

void mail_trace_policy_spam(host *h, const char *msg, int score, const char *const *rules,
                            size_t nrules, const char *action) {
  if (!host_trace(h, SIM_DETAIL_MESSAGES))
    return;
  trace_writer *tw = policy_begin(h, "policy.spam", msg);
  trace_key_int(tw, "score", score);
  trace_arr_begin(tw, "rules");
  for (size_t i = 0; i < nrules; i++)
    trace_key_str(tw, NULL, rules[i]);
  trace_arr_end(tw);
  trace_key_str(tw, "action", action);
  trace_end(tw);
}
