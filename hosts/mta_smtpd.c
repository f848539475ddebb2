/* mta_smtpd.c — the MTA's server side: one smtp_srv engine per connection
 * on ports 25 and 587, and the decisions the engine asks for.
 *
 * Rules and their sources:
 *   CONNECT  session limit, 421 4.7.0 (mta_policy; RFC 5321 §3.8)
 *   MAIL     per-client rate, 450 4.7.1 (mta_policy; Postfix anvil)
 *   AUTH     the user directory; 535 5.7.8 (RFC 4954 §6). On 587 MAIL
 *            needs AUTH (RFC 6409 §4.3) and AUTH needs STARTTLS (RFC 3207,
 *            RFC 4954 §4) — both enforced by the engine's config.
 *   RCPT     local domain: the user must exist (550 5.1.1, Postfix
 *            local_recipient_maps); other domains only when authenticated
 *            (no open relay, RFC 5321 §3.6.1: 554 5.7.1); then, on port 25
 *            for unauthenticated clients, the filter (greylisting, DNSBL).
 *   DATA     hop count, 554 5.4.0 (RFC 5321 §6.3); the filter (SPF, DKIM,
 *            DMARC, spam); Message-ID added when missing (RFC 5322 §3.6.4
 *            SHOULD, as Postfix cleanup does); Received prepended (RFC 5321
 *            §4.4, with-clause RFC 3848); stored on disk, then 250.
 */
#include <string.h>

#include "mail_trace.h"
#include "mta_int.h"

typedef struct mta__conn conn;
struct mta__conn {
  mta_host *m;
  uint16_t port;
  smtp_srv *srv;
  session *s;
  smtp_glue_trace tr;
  char client[SIM_ADDR_BUFSZ]; /* the client's address */
  char *tls_info; /* "TLSv1.3 TLS_AES_128_GCM_SHA256" once TLS is up */
  bool counted;   /* holds a policy session */
  bool esmtp;
  bool in_pump;
  /* a decision waiting for the filter */
  uint64_t ticket;
  uint64_t decision;
  mta_filter_stage stage;
  smtp_srv_event pending;
  /* faults (issue 10): a delayed greeting or a cut after the dot */
  sim_event_id fault_timer;
  uint64_t greeting;
  /* Parked (conn_end): the next block of the host's list, and how many
   * blocks the list holds from this one. */
  conn *next_spare;
  unsigned nspares;
};

/* At most this many ended connections' blocks kept a host. */
#define CONN_SPARES_MAX 4

/* Ends C. KEEP (a connection that closed while the host runs): its
 * session's and its own block are parked on the host's lists for the next
 * connections (on_accept); else (a crash, the host's end) they are freed. */
static void conn_end(conn *c, bool keep) {
  mta_host *m = c->m;
  if (c->fault_timer)
    sim_world_cancel(host_world(m->h), c->fault_timer);
  smtp_srv_keep_upto(&m->spare_srv, c->srv, MTA__ENGINE_SPARES);
  if (c->tls_info)
    g_free(c->tls_info);
  unsigned n = m->spare_conn ? m->spare_conn->nspares : 0;
  if (!keep || n >= CONN_SPARES_MAX) {
    session_free(c->s);
    g_free(c);
    return;
  }
  session_keep(&m->spare_s, c->s);
  c->next_spare = m->spare_conn;
  c->nspares = n + 1;
  m->spare_conn = c;
}

/* The recipients' addresses of a MESSAGE event, in place for the usual few. */
typedef struct {
  const char *stack[16];
  const char **v;
  size_t n;
} rcpt_list;

static const char *const *rcpt_list_of(rcpt_list *l, const smtp_srv_event *ev) {
  l->n = ev->nrcpts;
  l->v = l->n <= G_N_ELEMENTS(l->stack) ? l->stack : g_new(const char *, l->n);
  for (size_t i = 0; i < l->n; i++)
    l->v[i] = ev->rcpts[i].to;
  return l->v;
}

static void rcpt_list_clear(rcpt_list *l) {
  if (l->v != l->stack)
    g_free(l->v);
}

static bool is_local(const mta_host *m, const char *addr) {
  const char *at = strrchr(addr, '@');
  const char *dom = at ? at + 1 : addr;
  for (guint i = 0; i < m->locals->len; i++)
    if (g_ascii_strcasecmp(m->locals->pdata[i], dom) == 0)
      return true;
  return false;
}

/* A fault's reply instead of the host's decision ID (mta_fault_hooks). */
static bool fault_reply(conn *c, uint64_t id, mta_stage st, const char *sender,
                        const char *const *rcpts, size_t n, sim_time now) {
  mta_host *m = c->m;
  mta_fault_reply r = {0};
  if (!m->faults.reply ||
      !m->faults.reply(m->faults.user, m, st, c->client, sender, rcpts, n, &r))
    return false;
  smtp_srv_reject(c->srv, id, r.code, r.esc, r.text, now);
  return true;
}

static bool filtered(const conn *c) {
  return c->m->filter && c->port == 25 && !smtp_srv_auth_user(c->srv);
}

static void ask_filter(conn *c, const smtp_srv_event *ev, mta_filter_stage stage) {
  mta_host *m = c->m;
  c->ticket = ++m->next_ticket;
  c->decision = ev->id;
  c->stage = stage;
  c->pending = *ev; /* its pointers stay valid until the decision is answered */
  rcpt_list rl;
  const char *const *rcpts = rcpt_list_of(&rl, ev);
  mta_filter_query q = {.stage = stage,
                        .conn = session_conn_id(c->s),
                        .client = c->client,
                        .helo = smtp_srv_helo(c->srv) ? smtp_srv_helo(c->srv) : "",
                        .sender = ev->mail ? ev->mail->from : "",
                        .rcpt = ev->rcpt ? ev->rcpt->to : NULL,
                        .rcpts = rcpts,
                        .nrcpts = rl.n,
                        .data = ev->data,
                        .len = ev->len,
                        .tls = smtp_srv_tls_active(c->srv)};
  m->filter(m->filter_user, m, c->ticket, &q);
  rcpt_list_clear(&rl);
}

/* The Received field: into BUF (BUFSZ octets) when it fits, else a new
 * string; NULL when refused. */
static char *received_field(conn *c, const smtp_srv_event *ev, const char *queue_id,
                            const char *helo, char *buf, size_t bufsz) {
  mta_host *m = c->m;
  mime_received r = {.helo = helo,
                     .ip = c->client,
                     .by = m->hostname,
                     .id = queue_id,
                     .for_addr = ev->nrcpts == 1 ? ev->rcpts[0].to : NULL,
                     .comment = c->tls_info,
                     .date_ns = host_now(m->h),
                     .epoch_unix = m->epoch};
  return mta_policy_received_buf(&r, false, c->esmtp, smtp_srv_tls_active(c->srv),
                                 smtp_srv_auth_user(c->srv) != NULL, buf, bufsz);
}

static void cut_ev(void *a, void *b) {
  (void)b;
  conn *c = a;
  c->fault_timer = 0;
  session_abort(c->s);
}

/* End of DATA, after the checks: store, then 250 (or 452 4.3.1). HD: what
 * the hop check read of EV's header, or NULL to read it here. */
static void store_message(conn *c, const smtp_srv_event *ev, const char *prepend,
                          const mta_policy_header *hd) {
  mta_host *m = c->m;
  sim_time now = host_now(m->h);
  uint64_t seq = mta__next_seq(m);
  char queue_id[20];
  mta__queue_id(queue_id, sizeof queue_id, seq);
  mta_policy_header own;
  if (!hd) {
    mta_policy_scan_header(ev->data, ev->len, &own);
    hd = &own;
  }
  char idbuf[MTA__ID_BUFSZ];
  char *msgid = mta__msgid_of(hd->msgid, hd->msgid_len, idbuf, sizeof idbuf);
  bool added_id = msgid == NULL;
  if (added_id)
    msgid = mta__make_msgid_buf(m, seq, idbuf, sizeof idbuf);
  const char *helo = smtp_srv_helo(c->srv);
  char fbuf[512];
  char *field = received_field(c, ev, queue_id, helo && *helo ? helo : "unknown", fbuf, sizeof fbuf);
  if (!field) /* a HELO name a Received field cannot carry */
    field = received_field(c, ev, queue_id, "unknown", fbuf, sizeof fbuf);
  /* "Message-ID: <%s>\r\n", on the stack while it fits */
  char hbuf[MTA__ID_BUFSZ + 32], *idh = NULL;
  size_t il = 0;
  if (added_id) {
    size_t n = strlen(msgid);
    il = 13 + n + 3;
    idh = il < sizeof hbuf ? hbuf : g_malloc(il + 1);
    memcpy(idh, "Message-ID: <", 13);
    memcpy(idh + 13, msgid, n);
    memcpy(idh + 13 + n, ">\r\n", 4); /* with its NUL */
  }
  /* Signing at submission (mta_host_set_signer): over the message as it
   * is queued (the added Message-ID and the data), below our Received
   * field. */
  char *sig = NULL;
  if (c->port == 587 && m->signer) {
    GByteArray *tail = g_byte_array_sized_new((guint)(il + ev->len));
    g_byte_array_append(tail, (const guint8 *)idh, (guint)il);
    g_byte_array_append(tail, ev->data, (guint)ev->len);
    sig = m->signer(m->signer_user, ev->mail->from, tail->data, tail->len,
                    m->epoch + now / SIM_S);
    g_byte_array_free(tail, TRUE);
  }
  /* Our fields above the data, written with it straight into the disk's
   * blob (mta__store): the message is never assembled apart. */
  size_t fl = field ? strlen(field) : 0, pl = prepend ? strlen(prepend) : 0;
  size_t sl = sig ? strlen(sig) : 0;
  const disk_part parts[] = {{field, fl}, {prepend, pl}, {sig, sl}, {idh, il}, {ev->data, ev->len}};

  rcpt_list rl;
  const char *const *rcpts = rcpt_list_of(&rl, ev);
  mta__store_args sa = {ev->mail->from, rcpts, rl.n, parts, G_N_ELEMENTS(parts), seq, msgid, 0};
  uint32_t qid = mta__store(m, &sa);
  if (!qid) {
    m->st.disk_full++;
    smtp_srv_reject(c->srv, ev->id, 452, "4.3.1", "Insufficient system storage", now);
  } else {
    mail_rcpts r = {rcpts, rl.n};
    bool tls = smtp_srv_tls_active(c->srv);
    const char *auth = smtp_srv_auth_user(c->srv);
    m->st.messages_in++;
    if (c->port == 587) {
      m->st.submitted++;
      mail_trace_submit(m->h, session_peer_name(c->s), msgid, session_conn_id(c->s), queue_id, r,
                        tls, auth);
    } else {
      m->st.relayed++;
      mail_trace_relay(m->h, session_peer_name(c->s), msgid, session_conn_id(c->s), queue_id, r,
                       tls, hd->received);
    }
    mta__trace_queue(m, msgid, queue_id, r, ev->mail->from);
    if (m->faults.cut_after_dot &&
        m->faults.cut_after_dot(m->faults.user, m, msgid, ev->mail->from, rcpts, rl.n)) {
      /* Stored, but the client never sees the 250 (RFC 1047): the
       * connection drops at once, outside the engine's callbacks. */
      c->fault_timer = sim_world_after(host_world(m->h), 0, cut_ev, c, NULL);
    } else {
      /* Last: EV's strings are the engine's until the decision is answered. */
      smtp_srv_accept_message(c->srv, ev->id, queue_id, now);
    }
  }
  rcpt_list_clear(&rl);
  if (idh && idh != hbuf) /* (no free(NULL) calls on the store path) */
    g_free(idh);
  if (sig)
    g_free(sig);
  if (field != fbuf)
    g_free(field);
  if (msgid != idbuf)
    g_free(msgid);
}

static void decide_rcpt(conn *c, const smtp_srv_event *ev, sim_time now) {
  mta_host *m = c->m;
  const char *to = ev->rcpt->to;
  if (fault_reply(c, ev->id, MTA_STAGE_RCPT, ev->mail ? ev->mail->from : "", &to, 1, now))
    return;
  if (is_local(m, to)) {
    if (m->verify_local && m->users && !userdir_find(m->users, to)) {
      char *t = g_strdup_printf("<%s>: Recipient address rejected: User unknown", to);
      smtp_srv_reject(c->srv, ev->id, 550, "5.1.1", t, now);
      g_free(t);
      return;
    }
  } else if (!smtp_srv_auth_user(c->srv)) {
    smtp_srv_reject_relay(c->srv, ev->id, now); /* no open relay */
    return;
  }
  /* ---- FILTER HOOK (issue 7): greylisting, DNSBL at RCPT ---- */
  if (filtered(c)) {
    ask_filter(c, ev, MTA_FILTER_RCPT);
    return;
  }
  smtp_srv_accept(c->srv, ev->id, now);
}

static void decide_message(conn *c, const smtp_srv_event *ev, sim_time now) {
  mta_policy_verdict v;
  if (c->m->faults.reply) {
    rcpt_list rl;
    const char *const *rcpts = rcpt_list_of(&rl, ev);
    bool faulted = fault_reply(c, ev->id, MTA_STAGE_DOT, ev->mail->from, rcpts, rl.n, now);
    rcpt_list_clear(&rl);
    if (faulted)
      return;
  }
  mta_policy_header hd; /* read once: the hop count, the Message-ID */
  mta_policy_scan_header(ev->data, ev->len, &hd);
  if (!mta_policy_hops_of(c->m->policy, hd.received, &v)) {
    smtp_srv_reject(c->srv, ev->id, v.code, v.esc, v.text, now);
    return;
  }
  /* ---- FILTER HOOK (issue 7): SPF, DKIM, DMARC, spam at DATA ---- */
  if (filtered(c)) {
    ask_filter(c, ev, MTA_FILTER_DATA);
    return;
  }
  store_message(c, ev, NULL, &hd);
}

static void decide_connect(conn *c, uint64_t id, sim_time now) {
  mta_host *m = c->m;
  mta_policy_verdict v;
  if (fault_reply(c, id, MTA_STAGE_CONNECT, NULL, NULL, 0, now))
    return;
  if (!mta_policy_session_begin(m->policy, &v)) {
    m->st.rejected_connect++;
    smtp_srv_reject(c->srv, id, v.code, v.esc, v.text, now);
  } else {
    c->counted = true;
    smtp_srv_accept(c->srv, id, now);
  }
}

/* The tarpit's delay is over: the greeting decision now. */
static void greet_ev(void *a, void *b) {
  (void)b;
  conn *c = a;
  c->fault_timer = 0;
  decide_connect(c, c->greeting, host_now(c->m->h));
  session_kick(c->s);
}

static void srv_pump(void *owner, session *s) {
  conn *c = owner;
  mta_host *m = c->m;
  sim_time now = host_now(m->h);
  smtp_srv_event ev;
  mta_policy_verdict v;
  c->in_pump = true;
  while (smtp_srv_next_event(c->srv, &ev)) {
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_CONNECT: {
      sim_time delay =
          m->faults.greeting_delay ? m->faults.greeting_delay(m->faults.user, m, c->client) : 0;
      if (delay > 0) { /* a tarpit: the greeting waits */
        c->greeting = ev.id;
        c->fault_timer = sim_world_after(host_world(m->h), delay, greet_ev, c, NULL);
      } else {
        decide_connect(c, ev.id, now);
      }
      break;
    }
    case SMTP_SRV_EV_DECIDE_HELO:
      c->esmtp = ev.esmtp;
      if (!fault_reply(c, ev.id, MTA_STAGE_HELO, NULL, NULL, 0, now))
        smtp_srv_accept(c->srv, ev.id, now);
      break;
    case SMTP_SRV_EV_DECIDE_AUTH:
      if (m->users && userdir_check(m->users, ev.user, ev.pass))
        smtp_srv_accept(c->srv, ev.id, now);
      else
        smtp_srv_reject(c->srv, ev.id, 535, "5.7.8", NULL, now);
      break;
    case SMTP_SRV_EV_DECIDE_MAIL:
      if (fault_reply(c, ev.id, MTA_STAGE_MAIL, ev.mail->from, NULL, 0, now))
        break;
      if (!mta_policy_rate(m->policy, c->client, now, &v))
        smtp_srv_reject(c->srv, ev.id, v.code, v.esc, v.text, now);
      else
        smtp_srv_accept(c->srv, ev.id, now);
      break;
    case SMTP_SRV_EV_DECIDE_RCPT:
      decide_rcpt(c, &ev, now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      decide_message(c, &ev, now);
      break;
    case SMTP_SRV_EV_STARTTLS:
      session_flush(s); /* the 220 goes out in clear */
      session_start_tls(s, tls_host_conn(m->tls, TLS_CONN_SERVER, NULL));
      break;
    case SMTP_SRV_EV_CLOSE:
      session_close(s);
      break;
    default:
      g_assert_not_reached();
    }
  }
  c->in_pump = false;
}

static void srv_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  conn *c = owner;
  mta_host *m = c->m;
  if (c->counted)
    mta_policy_session_end(m->policy);
  g_ptr_array_remove(m->conns, c);
  conn_end(c, true);
}

static void srv_tls(void *owner, session *s, const tls_conn_event *ev) {
  conn *c = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED) {
    g_free(c->tls_info);
    c->tls_info = g_strdup_printf("%s %s", ev->version, ev->cipher);
    smtp_srv_tls_started(c->srv, host_now(c->m->h));
  } else if (ev->type == TLS_CONN_EV_FAILED) {
    /* Send the alert (tls_conn.h: after FAILED, the pending ciphertext),
     * then close: the client learns why (RFC 8446 §6.2). */
    session_close(s);
  }
}

static const session_owner srv_owner = {
    .pump = srv_pump, .closed = srv_closed, .tls_event = srv_tls};

static void on_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  mta_host *m = lu;
  conn *c = m->spare_conn;
  if (c) { /* an ended connection's block (conn_end) */
    m->spare_conn = c->next_spare;
    memset(c, 0, sizeof *c);
  } else {
    c = g_new0(conn, 1);
  }
  c->m = m;
  c->port = sim_tcp_local_port(tc);
  sim_addr_format(sim_tcp_remote_addr(tc), c->client);
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.hostname = m->hostname;
  bool tls = tls_host_on(m->tls, c->port == 587 ? TLS_HOST_SUBMISSION : TLS_HOST_RELAY);
  cfg.ext_starttls = tls;
  cfg.ext_auth = m->users != NULL;
  cfg.require_auth = c->port == 587;
  cfg.require_tls_for_auth = tls;
  smtp_env env = smtp_glue_env_on(&c->tr, true, m->h);
  c->srv = smtp_srv_renew(smtp_srv_take(&m->spare_srv), &cfg, &env);
  c->s = session_accept_in(session_take(&m->spare_s), m->h, tc, &smtp_glue_srv_ops, c->srv,
                           &srv_owner, c);
  smtp_glue_attach(&c->tr, c->s);
  g_ptr_array_add(m->conns, c);
  m->st.sessions_in++;
  *cb = session_tcp_callbacks();
  *user = c->s;
  session_kick(c->s); /* the greeting decision */
}

void mta__smtpd_start(mta_host *m) {
  if (m->mx)
    m->lis25 = sim_tcp_listen(host_node(m->h), 25, on_accept, m);
  if (m->submission)
    m->lis587 = sim_tcp_listen(host_node(m->h), 587, on_accept, m);
}

void mta__smtpd_drop(mta_host *m) {
  for (guint i = 0; i < m->conns->len; i++)
    conn_end(m->conns->pdata[i], false);
  g_ptr_array_set_size(m->conns, 0);
  g_clear_pointer(&m->spare_srv, smtp_srv_free);
  while (m->spare_conn) {
    conn *c = m->spare_conn;
    m->spare_conn = c->next_spare;
    g_free(c);
  }
  session_free(g_steal_pointer(&m->spare_s)); /* the delivery side's parked ones too */
}

void mta_host_set_signer(mta_host *m, mta_signer_fn fn, void *user) {
  m->signer = fn;
  m->signer_user = user;
}

void mta_host_set_filter(mta_host *m, mta_filter_fn fn, void *user) {
  m->filter = fn;
  m->filter_user = user;
}

static bool filter_answer(mta_host *m, uint64_t ticket, int code, const char *esc,
                          const char *text, const char *prepend, const uint8_t *data,
                          size_t len) {
  if (!m->up || ticket == 0)
    return false;
  conn *c = NULL;
  for (guint i = 0; i < m->conns->len && !c; i++)
    if (((conn *)m->conns->pdata[i])->ticket == ticket)
      c = m->conns->pdata[i];
  if (!c)
    return false;
  c->ticket = 0;
  sim_time now = host_now(m->h);
  if (code)
    smtp_srv_reject(c->srv, c->decision, code, esc, text, now);
  else if (c->stage == MTA_FILTER_RCPT)
    smtp_srv_accept(c->srv, c->decision, now);
  else if (data) { /* the filter rewrote the header (mta_host_filter_accept_rewritten) */
    smtp_srv_event ev = c->pending;
    ev.data = data;
    ev.len = len;
    store_message(c, &ev, prepend, NULL);
  } else
    store_message(c, &c->pending, prepend, NULL);
  if (!c->in_pump)
    session_kick(c->s);
  return true;
}

bool mta_host_filter_answer(mta_host *m, uint64_t ticket, int code, const char *esc,
                            const char *text, const char *prepend) {
  return filter_answer(m, ticket, code, esc, text, prepend, NULL, 0);
}

bool mta_host_filter_accept_rewritten(mta_host *m, uint64_t ticket, const char *prepend,
                                      const uint8_t *data, size_t len) {
  g_assert(data != NULL);
  return filter_answer(m, ticket, 0, NULL, NULL, prepend, data, len);
}
