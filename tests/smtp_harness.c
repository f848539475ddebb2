/* smtp_harness.c — scripted peer for the SMTP server engine (see .h).
 *
 * Decision policy (deterministic, keyed on the data):
 *   CONNECT   accepted;
 *   HELO      "bad.helo" → 550 5.7.1, else accepted;
 *   MAIL      a sender containing "spammer" → 550 5.7.1, else accepted;
 *   RCPT      "unknown" → 550 5.1.1, "later" → 450 4.2.0, "outside" →
 *             reject_relay, "bye" → 421 4.3.2, else accepted;
 *   AUTH      user "alice" password "secret" → accepted, else 535;
 *   MESSAGE   data containing "VIRUS" → 554 5.7.0, else "queued as Q<n>".
 */
#include "smtp_harness.h"

#include <string.h>

typedef struct {
  smtp_srv *srv;
  GString *log;
  GString *partial; /* output not yet ended by CRLF */
  uint64_t pending;
  bool pending_msg_virus;
  smtp_srv_event pending_ev;
  bool want_tls;
  int queued;
  int64_t now;
} harness;

void harness_config(smtp_srv_config *cfg) {
  smtp_srv_config_init(cfg);
  cfg->hostname = "mx.test";
}

static void drain_output(harness *h) {
  size_t n;
  const uint8_t *p = smtp_srv_output_peek(h->srv, &n);
  g_string_append_len(h->partial, (const char *)p, (gssize)n);
  smtp_srv_output_consume(h->srv, n);
  char *e;
  while ((e = strstr(h->partial->str, "\r\n")) != NULL) {
    g_string_append_printf(h->log, "S: %.*s\n", (int)(e - h->partial->str), h->partial->str);
    g_string_erase(h->partial, 0, e - h->partial->str + 2);
  }
}

static void answer(harness *h) {
  smtp_srv_event *ev = &h->pending_ev;
  smtp_srv *srv = h->srv;
  uint64_t id = h->pending;
  h->pending = 0;
  switch (ev->type) {
  case SMTP_SRV_EV_DECIDE_HELO:
    if (strcmp(ev->helo, "bad.helo") == 0)
      smtp_srv_reject(srv, id, 550, "5.7.1", "Error: bad HELO", h->now);
    else
      smtp_srv_accept(srv, id, h->now);
    break;
  case SMTP_SRV_EV_DECIDE_MAIL:
    if (strstr(ev->mail->from, "spammer"))
      smtp_srv_reject(srv, id, 550, "5.7.1", "Error: sender rejected", h->now);
    else
      smtp_srv_accept(srv, id, h->now);
    break;
  case SMTP_SRV_EV_DECIDE_RCPT:
    if (strstr(ev->rcpt->to, "unknown"))
      smtp_srv_reject(srv, id, 550, "5.1.1", "Error: user unknown", h->now);
    else if (strstr(ev->rcpt->to, "later"))
      smtp_srv_reject(srv, id, 450, "4.2.0", "Error: greylisted", h->now);
    else if (strstr(ev->rcpt->to, "outside"))
      smtp_srv_reject_relay(srv, id, h->now);
    else if (strstr(ev->rcpt->to, "bye"))
      smtp_srv_reject(srv, id, 421, "4.3.2", "mx.test Error: shutting down", h->now);
    else
      smtp_srv_accept(srv, id, h->now);
    break;
  case SMTP_SRV_EV_DECIDE_AUTH:
    if (strcmp(ev->user, "alice") == 0 && strcmp(ev->pass, "secret") == 0)
      smtp_srv_accept(srv, id, h->now);
    else
      smtp_srv_reject(srv, id, 535, NULL, NULL, h->now);
    break;
  case SMTP_SRV_EV_DECIDE_MESSAGE:
    if (h->pending_msg_virus) {
      smtp_srv_reject(srv, id, 554, "5.7.0", "Error: virus found", h->now);
    } else {
      char q[32];
      g_snprintf(q, sizeof q, "Q%d", ++h->queued);
      smtp_srv_accept_message(srv, id, q, h->now);
    }
    break;
  default:
    smtp_srv_accept(srv, id, h->now);
    break;
  }
}

static void log_event(harness *h, const smtp_srv_event *ev) {
  GString *l = h->log;
  switch (ev->type) {
  case SMTP_SRV_EV_DECIDE_CONNECT:
    g_string_append(l, "E: CONNECT\n");
    break;
  case SMTP_SRV_EV_DECIDE_HELO:
    g_string_append_printf(l, "E: %s %s\n", ev->esmtp ? "EHLO" : "HELO", ev->helo);
    break;
  case SMTP_SRV_EV_DECIDE_MAIL:
    g_string_append_printf(l, "E: MAIL <%s>", ev->mail->from);
    if (ev->mail->has_size)
      g_string_append_printf(l, " size=%" G_GUINT64_FORMAT, ev->mail->size);
    if (ev->mail->body)
      g_string_append_printf(l, " body=%s", ev->mail->body == SMTP_BODY_7BIT ? "7BIT" : "8BITMIME");
    if (ev->mail->ret)
      g_string_append_printf(l, " ret=%s", ev->mail->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
    if (ev->mail->envid)
      g_string_append_printf(l, " envid=%s", ev->mail->envid);
    if (ev->mail->auth)
      g_string_append_printf(l, " auth=%s", ev->mail->auth);
    g_string_append_c(l, '\n');
    break;
  case SMTP_SRV_EV_DECIDE_RCPT:
    g_string_append_printf(l, "E: RCPT <%s>", ev->rcpt->to);
    if (ev->rcpt->notify)
      g_string_append_printf(l, " notify=%u", ev->rcpt->notify);
    if (ev->rcpt->orcpt)
      g_string_append_printf(l, " orcpt=%s", ev->rcpt->orcpt);
    g_string_append_c(l, '\n');
    break;
  case SMTP_SRV_EV_DECIDE_AUTH:
    g_string_append_printf(l, "E: AUTH %s [%s] [%s] [%s]\n", ev->mech, ev->authzid, ev->user,
                           ev->pass);
    break;
  case SMTP_SRV_EV_DECIDE_MESSAGE: {
    char *d = g_strndup((const char *)ev->data, ev->len);
    char *esc = g_strescape(d, NULL);
    g_string_append_printf(l, "E: MESSAGE <%s> ->", ev->mail->from);
    for (size_t i = 0; i < ev->nrcpts; i++)
      g_string_append_printf(l, " <%s>", ev->rcpts[i].to);
    g_string_append_printf(l, " %zu: %s\n", ev->len, esc);
    h->pending_msg_virus = g_strstr_len((const char *)ev->data, (gssize)ev->len, "VIRUS");
    g_free(esc);
    g_free(d);
    break;
  }
  case SMTP_SRV_EV_STARTTLS:
    g_string_append(l, "E: STARTTLS\n");
    h->want_tls = true;
    break;
  case SMTP_SRV_EV_CLOSE:
    g_string_append_printf(l, "E: CLOSE %s\n", ev->reason);
    break;
  default:
    g_assert_not_reached();
  }
}

/* Drains output and events; answers decisions now unless DEFER. */
static void pump(harness *h, bool defer) {
  for (;;) {
    drain_output(h);
    if (h->pending && !defer) {
      answer(h);
      continue;
    }
    smtp_srv_event ev;
    if (!smtp_srv_next_event(h->srv, &ev))
      break;
    log_event(h, &ev);
    if (ev.id) {
      g_assert(h->pending == 0);
      h->pending = ev.id;
      h->pending_ev = ev;
    }
  }
}

static void feed_segment(harness *h, const char *p, size_t n, split_plan plan, size_t base) {
  size_t i = 0;
  while (i < n) {
    size_t k = n - i;
    if (plan.mode == SPLIT_BYTES)
      k = 1;
    else if (plan.mode == SPLIT_AT && base + i < plan.at && base + n > plan.at)
      k = plan.at - (base + i);
    h->now += 1000;
    smtp_srv_feed(h->srv, p + i, k, h->now);
    i += k;
    if (plan.deferred && h->pending) /* held across this feed: answer only now */
      answer(h);
    pump(h, plan.deferred);
  }
}

char *harness_run_kept(smtp_srv **spare, const smtp_srv_config *cfg, const char *script,
                       size_t len, split_plan plan) {
  harness h = {0};
  h.log = g_string_new(NULL);
  h.partial = g_string_new(NULL);
  h.srv = spare ? smtp_srv_renew(*spare, cfg, NULL) : smtp_srv_new(cfg, NULL);
  pump(&h, plan.deferred);
  size_t seg = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || script[i] == HARNESS_TLS[0]) {
      feed_segment(&h, script + seg, i - seg, plan, seg);
      pump(&h, false);
      if (i < len && h.want_tls) {
        h.want_tls = false;
        smtp_srv_tls_started(h.srv, h.now);
        g_string_append(h.log, "T: tls up\n");
        pump(&h, false);
      }
      seg = i + 1;
    }
  }
  pump(&h, false);
  if (h.partial->len)
    g_string_append_printf(h.log, "S(partial): %s\n", h.partial->str);
  if (spare)
    *spare = h.srv;
  else
    smtp_srv_free(h.srv);
  g_string_free(h.partial, TRUE);
  return g_string_free(h.log, FALSE);
}

char *harness_run(const smtp_srv_config *cfg, const char *script, size_t len, split_plan plan) {
  return harness_run_kept(NULL, cfg, script, len, plan);
}
