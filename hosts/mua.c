/* mua.c — the user's mail program: composition (RFC 5322, MIME RFC 2045-
 * 2049 through mime_compose), submission (RFC 6409 on port 587 with
 * STARTTLS, RFC 3207, and AUTH, RFC 4954) with a client's retry on 4xx,
 * and retrieval over IMAP4rev1 (RFC 3501) or POP3 (RFC 1939), each new
 * message shown to the user (msg.fetch, msg.display).
 *
 * Outgoing messages (outmsg) live from mua_send until they are finished
 * (then only a small shell stays, swept from the outbox later): compose at
 * their time, then attempts until every recipient is accepted or given
 * up. One attempt = (lookup) -> connect -> one smtp_cli session; what to do
 * next is decided when the connection is over (closed()), from the
 * per-recipient results the engine reported.
 */
#include "mua.h"

#include <string.h>

#include "imap_glue.h"
#include "mail_trace.h"
#include "mime_compose.h"
#include "mime_date.h"
#include "mime_display.h"
#include "msgkey.h"
#include "pop3_glue.h"
#include "smtp_glue.h"

typedef struct resolve_req resolve_req;

/* Spare fetch engines a client keeps for its next rounds (of each kind).
 * One, as for SMTP: a host's rounds start together (one timer grid), so
 * more would be reused more often (8: -3.3 M instructions on small.json
 * against -0.16 M), but the spares of clients whose rounds are over are
 * held while others' run: +0.39 MB on q2000's peak (bench/README.md). */
#define MUA_SPARES 1

typedef struct {
  char *address, *password, *display, *server;
  sim_addr addr;
  bool has_addr;
} account;

typedef struct {
  char *rcpt;
  char *reason; /* the last failure, or NULL */
} pending_rcpt;

typedef struct {
  char *name, *type;
  uint64_t size;
} attach;

typedef struct {
  mua *m;
  account *acct;
  const char *key; /* in the entry's own block, after it */
  char *subject, *text, *html;
  uint64_t order;           /* place in the outbox (mua_send_now) */
  GPtrArray *to, *cc, *bcc; /* char* */
  GArray *atts;             /* attach */
  /* after composition */
  bool composed, finished, due;
  char *msgid; /* the trace key: Message-ID without <> (in the entry's block) */
  GBytes *data;
  /* The recipients not done yet, NPEND of them: in the entry's block
   * (room for the message's own address count) or, past that, on the heap
   * (PEND_HEAP). */
  pending_rcpt *pend;
  guint npend, pend_cap;
  bool pend_heap;
  unsigned tries;
  sim_event_id timer;
  resolve_req *rq;
  sim_tcp_reason why; /* how the last connection ended */
  session *s;
  smtp_cli *cli;
  smtp_glue_trace tr;
} outmsg;

typedef struct {
  mua *m;
  mua_proto proto;
  bool has_addr, keep;
  char *server, *user, *password;
  sim_addr addr;
  sim_time interval;
  sim_event_id timer;
  resolve_req *rq;
  /* The session of the round running (only while one runs). Its engine
   * is made once the connection is up (fetch_connected): a connection
   * that is refused or times out never makes one. */
  session *s;
  sim_time opened; /* when S was opened: the engine's clock starts there */
  imap_cli *ic;
  pop3_cli *pc;
  union {
    imap_glue_trace imap;
    pop3_glue_trace pop3;
  } tr;
  /* the client's memory (its disk) */
  uint32_t uidvalidity, last_uid;
  GPtrArray *seen; /* POP3 UIDLs downloaded and kept, or deleted (NULL: none yet) */
  GPtrArray *got;  /* POP3 UIDLs downloaded in the session running (NULL: none) */
} fetcher;

struct mua {
  host *h;
  mua_config cfg;
  char *helo;
  tls_host *tls;
  dns_client *dns;
  GPtrArray *accounts; /* account* */
  GPtrArray *out;      /* outmsg* */
  guint finished;      /* of them, finished (outbox_sweep) */
  uint64_t sends;      /* mua_send calls: their order */
  GPtrArray *fetchers; /* fetcher* */
  smtp_cli *spare_cli; /* an ended engine, reused by the next (smtp_cli_renew) */
  session *spare_s;    /* an ended session's block, reused by the next (session_keep) */
  /* Ended fetch engines, reused by the next rounds (imap_cli_renew,
   * pop3_cli_renew), up to MUA_SPARES of each. */
  imap_cli *spare_ic[MUA_SPARES];
  pop3_cli *spare_pc[MUA_SPARES];
  guint n_ic, n_pc;
  mime_display *shown; /* the last msg.display's view, its storage reused by the next */
  GPtrArray *rcpts;    /* compose's recipient list, empty between messages (kept) */
  mua_stats st;
};

void mua_config_init(mua_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->epoch_unix = MIME_DATE_EPOCH_DEFAULT;
  cfg->submit_port = 587;
  cfg->retry_base = SIM_MIN;
  cfg->max_tries = 5;
}

static bool host_up(const mua *m) { return sim_node_is_up(host_node(m->h)); }

/* ---- server lookup ---------------------------------------------------- */

typedef void (*resolved_fn)(void *user, const sim_addr *a, const char *why);

/* A lookup in progress; its owner holds it until FN runs or it cancels. */
struct resolve_req {
  mua *m;
  uint64_t id;
  resolved_fn fn;
  void *user;
};

static void resolve_done(void *user, const dns_client_result *r) {
  resolve_req *rq = user;
  resolved_fn fn = rq->fn;
  void *u = rq->user;
  g_free(rq);
  for (guint i = 0; r->rcode == 0 && r->rrs && i < r->rrs->len; i++) {
    const dns_rr *rr = &g_array_index(r->rrs, dns_rr, i);
    if (rr->type == DNS_T_A) {
      sim_addr a = {.family = 4};
      memcpy(a.b, rr->rd.a, 4);
      fn(u, &a, NULL);
      return;
    }
  }
  char *why = g_strdup_printf("DNS lookup failed (rcode %u%s%s)", r->rcode, r->reason ? ": " : "",
                              r->reason ? r->reason : "");
  fn(u, NULL, why);
  g_free(why);
}

/* Looks NAME up (A) unless an address is KNOWN. FN runs once: at once
 * (then NULL is returned) or later (the request is returned; the owner
 * forgets it when FN runs, or drops it with resolve_cancel). */
static resolve_req *resolve(mua *m, const char *name, const sim_addr *known, resolved_fn fn,
                            void *user) {
  if (known) {
    fn(user, known, NULL);
    return NULL;
  }
  if (!m->dns) {
    fn(user, NULL, "no resolver configured");
    return NULL;
  }
  resolve_req *rq = g_new0(resolve_req, 1);
  rq->m = m;
  rq->fn = fn;
  rq->user = user;
  rq->id = dns_client_lookup(m->dns, name, DNS_T_A, resolve_done, rq);
  return rq;
}

/* FN will not run. LIVE: the resolver still exists (not at teardown). */
static void resolve_cancel(resolve_req *rq, bool live) {
  if (!rq)
    return;
  if (live)
    dns_client_cancel(rq->m->dns, rq->id);
  g_free(rq);
}

/* ---- composition ------------------------------------------------------ */

/* "a, b, c" (appends, not printf: every message's To); one address is
 * its own list (borrowed, no copy). A string made here is stored in *OWN
 * for the caller to free. */
static const char *join(const char *const *v, size_t n, char **own) {
  *own = NULL;
  if (!n)
    return NULL;
  if (n == 1)
    return v[0];
  GString *g = g_string_new(NULL);
  for (size_t i = 0; i < n; i++) {
    if (i)
      g_string_append_len(g, ", ", 2);
    g_string_append(g, v[i]);
  }
  return *own = g_string_free(g, FALSE);
}

/* The length of msgid_into's Message-ID with its NUL. */
static size_t msgid_size(const char *key, const char *domain) {
  return strlen(key) + 1 + 16 + 1 + strlen(domain) + 1;
}

/* The domain of O's Message-ID: its account's, else the host's name. */
static const char *msgid_domain(const mua *m, const account *acct) {
  const char *at = strrchr(acct->address, '@');
  return at ? at + 1 : host_name(m->h);
}

/* The Message-ID "KEY.XXXXXXXXXXXXXXXX@DOMAIN" (16 lower-case hex digits
 * of R) into S (msgid_size octets), written by hand: once per message. */
static char *msgid_into(char *s, const char *key, uint64_t r, const char *domain) {
  static const char hex[] = "0123456789abcdef";
  size_t kl = strlen(key), dl = strlen(domain);
  memcpy(s, key, kl);
  s[kl] = '.';
  for (int i = 15; i >= 0; i--, r >>= 4)
    s[kl + 1 + i] = hex[r & 15];
  s[kl + 17] = '@';
  memcpy(s + kl + 18, domain, dl + 1);
  return s;
}

/* RCPT is taken. */
static void add_pending(outmsg *o, char *rcpt) {
  if (o->npend == o->pend_cap) { /* past the block's room */
    guint cap = MAX(4, o->pend_cap * 2);
    pending_rcpt *p = g_new(pending_rcpt, cap);
    if (o->npend)
      memcpy(p, o->pend, o->npend * sizeof *p);
    if (o->pend_heap)
      g_free(o->pend);
    o->pend = p;
    o->pend_cap = cap;
    o->pend_heap = true;
  }
  o->pend[o->npend++] = (pending_rcpt){rcpt, NULL};
}

/* Drops pending recipient I (its strings already let go), keeping the order. */
static void remove_pending(outmsg *o, guint i) {
  g_assert(i < o->npend);
  memmove(&o->pend[i], &o->pend[i + 1], (o->npend - i - 1) * sizeof *o->pend);
  o->npend--;
}

static void give_up(outmsg *o, guint i, const char *reason) {
  pending_rcpt *p = &o->pend[i];
  mail_trace_fail(o->m->h, o->acct->server, o->msgid, p->rcpt, reason);
  o->m->st.failed++;
  g_free(p->rcpt);
  g_free(p->reason);
  remove_pending(o, i);
}

static void attempt(outmsg *o);
static void outmsg_finish(outmsg *o);

static void drop_source(outmsg *o);

/* Composes O from SRC: the caller's message (mua_send_now on a running
 * client: nothing copied) or O's own copy (compose_copy). */
static void compose(outmsg *o, const mua_message *src) {
  mua *m = o->m;
  sim_time now = host_now(m->h);
  /* A stream of its own per message: stable whatever else the host draws. */
  const char *hn = host_name(m->h);
  size_t hl = strlen(hn), kl = strlen(o->key);
  char stack[128];
  char *sname = 4 + hl + 1 + kl < sizeof stack ? stack : g_malloc(4 + hl + 1 + kl + 1);
  memcpy(sname, "mua:", 4);
  memcpy(sname + 4, hn, hl);
  sname[4 + hl] = ':';
  memcpy(sname + 5 + hl, o->key, kl + 1);
  sim_rng rng;
  sim_world_stream(host_world(m->h), sname, &rng);
  if (sname != stack)
    g_free(sname);
  o->msgid = msgid_into(o->msgid, o->key, sim_rng_u64(&rng), msgid_domain(m, o->acct));
  mime_compose_attachment *ca = NULL;
  GPtrArray *bufs = NULL;
  if (src->nattachments) {
    ca = g_new0(mime_compose_attachment, src->nattachments);
    bufs = g_ptr_array_new_with_free_func(g_free);
  }
  for (size_t i = 0; i < src->nattachments; i++) {
    const mua_attachment *a = &src->attachments[i];
    guint8 *b = g_malloc(a->size ? a->size : 1);
    for (uint64_t j = 0; j < a->size; j += 8) {
      uint64_t r = sim_rng_u64(&rng);
      memcpy(b + j, &r, MIN(8, a->size - j));
    }
    g_ptr_array_add(bufs, b);
    ca[i] = (mime_compose_attachment){a->name, a->type, b, a->size};
  }
  char *from_own = o->acct->display
                       ? g_strdup_printf("%s <%s>", o->acct->display, o->acct->address)
                       : NULL;
  const char *from = from_own ? from_own : o->acct->address;
  char *to_own, *cc_own, *bcc_own;
  const char *to = join(src->to, src->nto, &to_own), *cc = join(src->cc, src->ncc, &cc_own),
             *bcc = join(src->bcc, src->nbcc, &bcc_own);
  mime_compose_config cfg = {
      .from = from,
      .to = to,
      .cc = cc,
      .bcc = bcc,
      .subject = src->subject,
      .date_ns = now,
      .epoch_unix = m->cfg.epoch_unix,
      .tz_min = m->cfg.tz_min,
      .message_id = o->msgid,
      .text = src->text,
      .html = src->html,
      .attachments = ca,
      .n_attachments = src->nattachments,
  };
  if (!m->rcpts)
    m->rcpts = g_ptr_array_new_with_free_func(g_free);
  GPtrArray *rcpts = m->rcpts;
  GError *err = NULL;
  o->data = mime_compose_build(&cfg, rcpts, &err);
  o->composed = true;
  m->st.composed++;
  if (!o->data) {
    /* The user's message cannot be built: nothing goes out. */
    const char *const *all[] = {src->to, src->cc, src->bcc};
    size_t nall[] = {src->nto, src->ncc, src->nbcc};
    for (int k = 0; k < 3; k++)
      for (size_t i = 0; i < nall[k]; i++)
        add_pending(o, g_strdup(all[k][i]));
    mail_rcpts mr = {NULL, 0};
    mail_trace_compose(m->h, o->msgid, o->acct->address, mr, src->subject ? src->subject : "", 0);
    while (o->npend)
      give_up(o, 0, err->message);
    outmsg_finish(o);
    g_error_free(err);
  } else {
    mail_rcpts mr = {(const char *const *)rcpts->pdata, rcpts->len};
    mail_trace_compose(m->h, o->msgid, o->acct->address, mr, src->subject ? src->subject : "",
                       g_bytes_get_size(o->data));
    for (guint i = 0; i < rcpts->len; i++) /* the strings move */
      add_pending(o, g_steal_pointer(&rcpts->pdata[i]));
  }
  drop_source(o); /* composed: what it was made of is not read again */
  if (rcpts->len > 64) { /* a long list: let it go */
    g_ptr_array_unref(rcpts);
    m->rcpts = NULL;
  } else {
    g_ptr_array_set_size(rcpts, 0); /* its strings moved (NULL) or freed */
  }
  g_free(from_own);
  g_free(to_own);
  g_free(cc_own);
  g_free(bcc_own);
  g_free(ca);
  if (bufs)
    g_ptr_array_unref(bufs);
  if (!o->finished)
    attempt(o);
}

/* ---- submission ------------------------------------------------------- */

static void retry_fire(void *a, void *b) {
  (void)b;
  outmsg *o = a;
  o->timer = 0;
  if (!host_up(o->m))
    o->due = true; /* on restart */
  else
    attempt(o);
}

static void atts_free(outmsg *o) {
  if (!o->atts)
    return;
  for (guint i = 0; i < o->atts->len; i++) {
    attach *at = &g_array_index(o->atts, attach, i);
    g_free(at->name);
    g_free(at->type);
  }
  g_clear_pointer(&o->atts, g_array_unref);
}

/* The attempt is over: retry the recipients left, or give them up. */
/* The message is done: nothing will send its bytes again (no session or
 * client holds them any more), so they leave memory. */
static void outmsg_finish(outmsg *o) {
  g_assert(!o->finished && o->npend == 0);
  o->finished = true;
  o->m->finished++;
  if (o->data)
    g_bytes_unref(o->data);
  o->data = NULL;
  /* Nor does anything read what it was made of: only the shell stays,
   * until outbox_sweep frees it (not here: callers still look at O). */
  drop_source(o);
}

/* Frees O's copy of the message it is composed from (if it has one). */
static void drop_source(outmsg *o) {
  g_clear_pointer(&o->subject, g_free);
  g_clear_pointer(&o->text, g_free);
  g_clear_pointer(&o->html, g_free);
  g_clear_pointer(&o->to, g_ptr_array_unref);
  g_clear_pointer(&o->cc, g_ptr_array_unref);
  g_clear_pointer(&o->bcc, g_ptr_array_unref);
  atts_free(o);
}

/* Composes O from its own copy (mua_send, or a client that was down). */
static void compose_copy(outmsg *o) {
  g_assert(o->to && o->cc && o->bcc && o->atts);
  mua_attachment *at = g_new0(mua_attachment, o->atts->len + 1);
  for (guint i = 0; i < o->atts->len; i++) {
    const attach *a = &g_array_index(o->atts, attach, i);
    at[i] = (mua_attachment){a->name, a->type, a->size};
  }
  mua_message v = {.key = o->key,
                   .from = o->acct->address,
                   .to = (const char *const *)o->to->pdata,
                   .cc = (const char *const *)o->cc->pdata,
                   .bcc = (const char *const *)o->bcc->pdata,
                   .nto = o->to->len,
                   .ncc = o->cc->len,
                   .nbcc = o->bcc->len,
                   .subject = o->subject,
                   .text = o->text,
                   .html = o->html,
                   .attachments = at,
                   .nattachments = o->atts->len};
  compose(o, &v);
  g_free(at);
}

static void attempt_over(outmsg *o) {
  mua *m = o->m;
  if (!o->npend) {
    outmsg_finish(o);
    return;
  }
  sim_time now = host_now(m->h);
  if (o->tries >= m->cfg.max_tries) {
    while (o->npend) {
      pending_rcpt *p = &o->pend[0];
      char *why = g_strdup_printf("gave up after %u tries: %s", o->tries,
                                  p->reason ? p->reason : "no reason");
      give_up(o, 0, why);
      g_free(why);
    }
    outmsg_finish(o);
    return;
  }
  unsigned shift = MIN(o->tries - 1, 30u);
  sim_time next = now + m->cfg.retry_base * ((sim_time)1 << shift);
  for (guint i = 0; i < o->npend; i++) {
    pending_rcpt *p = &o->pend[i];
    mail_trace_defer(m->h, o->msgid, "", p->rcpt, p->reason ? p->reason : "", next);
    m->st.deferred++;
  }
  o->timer = sim_world_at(host_world(m->h), next, retry_fire, o, NULL);
}

static void sub_pump(void *owner, session *s) {
  outmsg *o = owner;
  smtp_cli_event ev;
  while (smtp_cli_next_event(o->cli, &ev)) {
    switch (ev.type) {
    case SMTP_CLI_EV_RESULT:
      for (size_t i = 0; i < ev.nrcpts; i++) {
        const smtp_cli_rcpt_result *r = &ev.rcpts[i];
        guint k = 0;
        while (k < o->npend && strcmp(o->pend[k].rcpt, r->rcpt) != 0)
          k++;
        if (k == o->npend)
          continue;
        pending_rcpt *p = &o->pend[k];
        if (r->status == SMTP_CLI_OK) {
          o->m->st.accepted++;
          g_free(p->rcpt);
          g_free(p->reason);
          remove_pending(o, k);
          continue;
        }
        char *why = r->code && !r->local
                        ? g_strdup_printf("%d%s%s %s", r->code, *r->esc ? " " : "", r->esc, r->text)
                    : r->local && o->why != SIM_TCP_CLOSED_NORMAL
                        ? g_strdup_printf("%s (%s)", r->text, sim_tcp_reason_name(o->why))
                        : g_strdup(r->text);
        if (r->status == SMTP_CLI_PERM) {
          give_up(o, k, why);
        } else {
          g_free(p->reason);
          p->reason = g_strdup(why);
        }
        g_free(why);
      }
      break;
    case SMTP_CLI_EV_STARTTLS:
      session_start_tls(s, tls_host_conn(o->m->tls, TLS_CONN_CLIENT, o->acct->server));
      break;
    case SMTP_CLI_EV_CLOSE:
      session_close(s);
      break;
    default:
      break;
    }
  }
}

static void sub_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s;
  outmsg *o = owner;
  o->why = why;
  smtp_cli_connection_lost(o->cli, host_now(o->m->h)); /* unfinished: TEMP */
  sub_pump(o, s);
  session_keep(&o->m->spare_s, o->s);
  o->s = NULL;
  smtp_cli_keep(&o->m->spare_cli, o->cli);
  o->cli = NULL;
  attempt_over(o);
}

static void sub_tls(void *owner, session *s, const tls_conn_event *ev) {
  outmsg *o = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED)
    smtp_cli_tls_started(o->cli, host_now(o->m->h));
  else if (ev->type == TLS_CONN_EV_FAILED)
    session_abort(s); /* the recipients stay pending: TEMP */
}

static const session_owner sub_owner = {
    .pump = sub_pump, .closed = sub_closed, .tls_event = sub_tls};

static void sub_resolved(void *user, const sim_addr *a, const char *why) {
  outmsg *o = user;
  mua *m = o->m;
  o->rq = NULL;
  if (!a) {
    for (guint i = 0; i < o->npend; i++) {
      pending_rcpt *p = &o->pend[i];
      g_free(p->reason);
      p->reason = g_strdup(why);
    }
    attempt_over(o);
    return;
  }
  sim_time now = host_now(m->h);
  smtp_cli_config cc;
  smtp_cli_config_init(&cc);
  cc.helo_name = m->helo;
  cc.tls = tls_host_on(m->tls, TLS_HOST_SUBMISSION) ? SMTP_CLI_TLS_REQUIRED : SMTP_CLI_TLS_NEVER;
  cc.auth_user = o->acct->address;
  cc.auth_pass = o->acct->password;
  smtp_env env = smtp_glue_env_on(&o->tr, false, m->h);
  o->cli = smtp_cli_renew(smtp_cli_take(&m->spare_cli), &cc, &env, now);
  smtp_cmd_mail mail = {.from = o->acct->address};
  smtp_cmd_rcpt stack[8]; /* the usual recipients: no allocation */
  smtp_cmd_rcpt *rc =
      o->npend <= G_N_ELEMENTS(stack) ? stack : g_new(smtp_cmd_rcpt, o->npend);
  memset(rc, 0, o->npend * sizeof *rc);
  for (guint i = 0; i < o->npend; i++)
    rc[i].to = o->pend[i].rcpt;
  gsize n;
  const uint8_t *d = g_bytes_get_data(o->data, &n);
  smtp_cli_message msg = {&mail, rc, o->npend, d, n, 0};
  smtp_cli_send(o->cli, &msg, now);
  if (rc != stack)
    g_free(rc);
  o->why = SIM_TCP_CLOSED_NORMAL;
  o->s =
      session_connect_in(session_take(&m->spare_s), m->h, a, m->cfg.submit_port, NULL,
                         &smtp_glue_cli_ops, o->cli, &sub_owner, o);
  smtp_glue_attach(&o->tr, o->s);
}

static void attempt(outmsg *o) {
  o->due = false;
  o->tries++;
  o->rq =
      resolve(o->m, o->acct->server, o->acct->has_addr ? &o->acct->addr : NULL, sub_resolved, o);
}

static void outmsg_free(outmsg *o);

/* Frees the finished messages' shells once they are half the outbox (and
 * at least 8: a client sending one message an hour keeps a few), keeping
 * the order of the others (a restart walks them in order). Each sweep
 * frees at least half of what it walks. Called from a timer of another
 * message, never under a finished one's callbacks. */
static void outbox_sweep(mua *m) {
  if (m->finished < 8 || m->finished * 2 < m->out->len)
    return;
  guint keep = 0;
  for (guint i = 0; i < m->out->len; i++) {
    outmsg *o = m->out->pdata[i];
    if (o->finished && !o->s && !o->cli && !o->rq && !o->timer)
      outmsg_free(o);
    else
      m->out->pdata[keep++] = o;
  }
  g_ptr_array_set_free_func(m->out, NULL);
  g_ptr_array_set_size(m->out, keep);
  g_ptr_array_set_free_func(m->out, (GDestroyNotify)outmsg_free);
  m->finished = 0;
  for (guint i = 0; i < keep; i++)
    m->finished += ((outmsg *)m->out->pdata[i])->finished;
}

static void compose_fire(void *a, void *b) {
  (void)b;
  outmsg *o = a;
  outbox_sweep(o->m);
  o->timer = 0;
  if (!host_up(o->m))
    o->due = true; /* composed when the machine is back */
  else
    compose_copy(o);
}

/* Drops what the attempt in progress holds in memory (crash, teardown). */
static void outmsg_stop(outmsg *o, bool live) {
  if (o->timer && live)
    sim_world_cancel(host_world(o->m->h), o->timer);
  o->timer = 0;
  resolve_cancel(o->rq, live);
  o->rq = NULL;
  session_keep(&o->m->spare_s, o->s);
  o->s = NULL;
  smtp_cli_keep(&o->m->spare_cli, o->cli);
  o->cli = NULL;
}

static void outmsg_free(outmsg *o) {
  outmsg_stop(o, true);
  g_free(o->subject);
  g_free(o->text);
  g_free(o->html);
  if (o->to)
    g_ptr_array_unref(o->to);
  if (o->cc)
    g_ptr_array_unref(o->cc);
  if (o->bcc)
    g_ptr_array_unref(o->bcc);
  atts_free(o);
  if (o->data)
    g_bytes_unref(o->data);
  for (guint i = 0; i < o->npend; i++) {
    g_free(o->pend[i].rcpt);
    g_free(o->pend[i].reason);
  }
  if (o->pend_heap)
    g_free(o->pend);
  g_free(o);
}

/* ---- retrieval -------------------------------------------------------- */

/* The user sees a new message: msg.fetch and msg.display. The display is
 * read from the header in place (mime_display_scan_into: what msg.display
 * records, without a parse of the whole message unless it may have
 * attachments), into the view of the last message shown (no allocation
 * once its storage fits). */
static void shown(fetcher *f, session *s, GBytes *data, const char *proto) {
  mua *m = f->m;
  gsize n;
  const uint8_t *p = g_bytes_get_data(data, &n);
  m->st.fetched++;
  if (!host_trace(m->h, SIM_DETAIL_MESSAGES)) {
    char *key = msgkey_of(p, n);
    mail_trace_fetch(m->h, session_peer_name(s), key, proto, f->user);
    g_free(key);
    return;
  }
  /* One reading of the header for the key and the display; the key on
   * the stack while it fits. */
  const char *mid;
  gsize mid_len;
  m->shown = mime_display_scan_into_raw(m->shown, p, n, &mid, &mid_len);
  char kbuf[256];
  char *key = msgkey_of_raw_buf(mid, mid_len, kbuf, sizeof kbuf);
  mail_trace_fetch(m->h, session_peer_name(s), key, proto, f->user);
  mail_trace_display(m->h, key, m->shown);
  if (key != kbuf)
    g_free(key);
}

/* Adds UIDL U (taken) to *A, made when the first one comes. */
static void uidl_add(GPtrArray **a, char *u) {
  if (!*a)
    *a = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(*a, u);
}

/* The UIDLs of the session running become seen ones (moved, not copied). */
static void got_to_seen(fetcher *f) {
  if (!f->got)
    return;
  if (!f->seen)
    f->seen = g_steal_pointer(&f->got);
  else
    g_ptr_array_extend_and_steal(f->seen, g_steal_pointer(&f->got));
}

/* The round is over: its session and engine leave memory at once. */
static void fetch_end(fetcher *f) {
  mua *m = f->m;
  session_keep(&m->spare_s, f->s);
  f->s = NULL;
  if (f->ic && m->n_ic < MUA_SPARES)
    m->spare_ic[m->n_ic++] = g_steal_pointer(&f->ic);
  if (f->pc && m->n_pc < MUA_SPARES)
    m->spare_pc[m->n_pc++] = g_steal_pointer(&f->pc);
  imap_cli_free(f->ic);
  f->ic = NULL;
  pop3_cli_free(f->pc);
  f->pc = NULL;
  if (f->keep) /* kept messages were seen, whatever became of the session */
    got_to_seen(f);
  g_clear_pointer(&f->got, g_ptr_array_unref);
}

static void imap_pump(void *owner, session *s) {
  fetcher *f = owner;
  imap_cli_event ev;
  while (imap_cli_next_event(f->ic, &ev)) {
    switch (ev.kind) {
    case IMAP_CLI_EV_STARTTLS:
      session_start_tls(s, tls_host_conn(f->m->tls, TLS_CONN_CLIENT, f->server));
      break;
    case IMAP_CLI_EV_MESSAGE:
      if (ev.uidvalidity != f->uidvalidity) {
        f->uidvalidity = ev.uidvalidity;
        f->last_uid = 0;
      }
      f->last_uid = MAX(f->last_uid, ev.uid);
      shown(f, s, ev.data, "imap");
      break;
    case IMAP_CLI_EV_DONE:
      if (ev.ok)
        f->m->st.rounds++;
      break;
    case IMAP_CLI_EV_CLOSE:
      session_close(s);
      break;
    default:
      break;
    }
  }
}

static void pop3_pump(void *owner, session *s) {
  fetcher *f = owner;
  pop3_cli_event ev;
  while (pop3_cli_next_event(f->pc, &ev)) {
    switch (ev.kind) {
    case POP3_CLI_EV_STLS:
      session_start_tls(s, tls_host_conn(f->m->tls, TLS_CONN_CLIENT, f->server));
      break;
    case POP3_CLI_EV_MESSAGE:
      uidl_add(&f->got, g_strdup(ev.uidl));
      shown(f, s, ev.data, "pop3");
      break;
    case POP3_CLI_EV_DONE:
      /* In delete mode a message is done with only once QUIT removed it
       * (RFC 1939 §6); after a broken session it is downloaded again (shown
       * twice rather than left on the server for ever). */
      if (ev.ok)
        f->m->st.rounds++;
      if (ev.ok || f->keep)
        got_to_seen(f);
      g_clear_pointer(&f->got, g_ptr_array_unref);
      break;
    case POP3_CLI_EV_CLOSE:
      session_close(s);
      break;
    default:
      break;
    }
  }
}

/* The engine of F's round, as of the moment its connection was opened
 * (its reply timeout runs from there, as when it was made before
 * connecting): made from fetch_connected only. */
static void fetch_engine(fetcher *f) {
  mua *m = f->m;
  bool tls = tls_host_on(m->tls, f->proto == MUA_IMAP ? TLS_HOST_IMAP : TLS_HOST_POP3);
  m->st.fetch_engines++;
  if (f->proto == MUA_IMAP) {
    imap_cli_config c = {.user = f->user,
                         .pass = f->password,
                         .use_starttls = tls,
                         .require_tls = tls,
                         .mark_seen = true,
                         .uidvalidity = f->uidvalidity,
                         .last_uid = f->last_uid};
    imap_env env = imap_glue_env_on(&f->tr.imap, false, m->h);
    f->ic = imap_cli_renew(m->n_ic ? m->spare_ic[--m->n_ic] : NULL, &c, &env, f->opened);
    imap_glue_attach(&f->tr.imap, f->s);
    session_set_engine(f->s, f->ic);
  } else {
    pop3_cli_config c = {.user = f->user,
                         .pass = f->password,
                         .use_stls = tls,
                         .require_tls = tls,
                         .auth_plain = true,
                         .delete_after = !f->keep};
    pop3_env env = pop3_glue_env_on(&f->tr.pop3, false, m->h);
    f->pc = pop3_cli_renew(m->n_pc ? m->spare_pc[--m->n_pc] : NULL, &c, &env, f->opened);
    for (guint i = 0; f->seen && i < f->seen->len; i++)
      pop3_cli_add_seen_ref(f->pc, f->seen->pdata[i]); /* f->seen outlives the round */
    pop3_glue_attach(&f->tr.pop3, f->s);
    session_set_engine(f->s, f->pc);
  }
}

static void fetch_connected(void *owner, session *s) {
  (void)s;
  fetch_engine(owner);
}

static void fetch_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)why;
  fetcher *f = owner;
  /* Never connected (refused, timed out): no engine was made. One made
   * now would only report "connection closed" and end the round unwell,
   * with no trace record at any detail (the glue records received lines
   * only) and nothing downloaded: the round just ends. */
  if (f->ic) {
    imap_cli_hangup(f->ic);
    imap_pump(f, s);
  } else if (f->pc) {
    pop3_cli_hangup(f->pc);
    pop3_pump(f, s);
  }
  fetch_end(f);
}

static void fetch_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  fetcher *f = owner;
  if (ev->type == TLS_CONN_EV_CLOSED)
    return;
  bool ok = ev->type == TLS_CONN_EV_ESTABLISHED;
  if (f->ic)
    imap_cli_tls_done(f->ic, ok);
  else
    pop3_cli_tls_done(f->pc, ok);
}

static const session_owner imap_owner = {.pump = imap_pump,
                                         .closed = fetch_closed,
                                         .connected = fetch_connected,
                                         .tls_event = fetch_tls};
static const session_owner pop3_owner = {.pump = pop3_pump,
                                         .closed = fetch_closed,
                                         .connected = fetch_connected,
                                         .tls_event = fetch_tls};

static void fetch_resolved(void *user, const sim_addr *a, const char *why) {
  (void)why; /* the next round tries again */
  fetcher *f = user;
  mua *m = f->m;
  f->rq = NULL;
  if (!a)
    return;
  f->opened = host_now(m->h);
  if (f->proto == MUA_IMAP)
    f->s = session_connect_in(session_take(&m->spare_s), m->h, a, 143, NULL, &imap_glue_cli_ops,
                              NULL, &imap_owner, f);
  else
    f->s = session_connect_in(session_take(&m->spare_s), m->h, a, 110, NULL, &pop3_glue_cli_ops,
                              NULL, &pop3_owner, f);
}

static void fetch_fire(void *a, void *b) {
  (void)b;
  fetcher *f = a;
  f->timer = sim_world_after(host_world(f->m->h), f->interval, fetch_fire, f, NULL);
  if (!host_up(f->m) || f->s || f->rq)
    return; /* down, or the last round still runs */
  f->rq = resolve(f->m, f->server, f->has_addr ? &f->addr : NULL, fetch_resolved, f);
}

static void fetcher_stop(fetcher *f, bool live) {
  resolve_cancel(f->rq, live);
  f->rq = NULL;
  fetch_end(f);
}

static void fetcher_free(fetcher *f) {
  fetcher_stop(f, true);
  if (f->timer)
    sim_world_cancel(host_world(f->m->h), f->timer);
  g_free(f->server);
  g_free(f->user);
  g_free(f->password);
  if (f->seen)
    g_ptr_array_unref(f->seen);
  g_free(f);
}

/* ---- life cycle ------------------------------------------------------- */

static void on_crash(void *user, bool crashed) {
  mua *m = user;
  if (crashed) {
    /* Memory is lost: sessions, lookups, retry timers. The outbox and what
     * was fetched are on disk. */
    for (guint i = 0; i < m->out->len; i++) {
      outmsg *o = m->out->pdata[i];
      if (o->composed && !o->finished) {
        outmsg_stop(o, true);
        o->due = true;
      }
    }
    for (guint i = 0; i < m->fetchers->len; i++)
      fetcher_stop(m->fetchers->pdata[i], true);
    return;
  }
  for (guint i = 0; i < m->out->len; i++) {
    outmsg *o = m->out->pdata[i];
    if (!o->due)
      continue;
    if (o->composed)
      attempt(o);
    else
      compose_copy(o);
  }
}

static void account_free(account *a) {
  g_free(a->address);
  g_free(a->password);
  g_free(a->display);
  g_free(a->server);
  g_free(a);
}

mua *mua_new(host *h, const mua_config *cfg, tls_host *tls, dns_client *dns) {
  mua *m = g_new0(mua, 1);
  m->h = h;
  m->cfg = *cfg;
  if (!m->cfg.submit_port)
    m->cfg.submit_port = 587;
  if (m->cfg.retry_base <= 0)
    m->cfg.retry_base = SIM_MIN;
  if (!m->cfg.max_tries)
    m->cfg.max_tries = 1;
  m->helo = g_strdup(cfg->helo ? cfg->helo : host_name(h));
  m->cfg.helo = m->helo;
  m->tls = tls;
  m->dns = dns;
  m->accounts = g_ptr_array_new_with_free_func((GDestroyNotify)account_free);
  m->out = g_ptr_array_new_with_free_func((GDestroyNotify)outmsg_free);
  m->fetchers = g_ptr_array_new_with_free_func((GDestroyNotify)fetcher_free);
  host_on_crash(h, on_crash, m);
  return m;
}

void mua_free(mua *m) {
  if (!m)
    return;
  g_ptr_array_unref(m->out);
  g_ptr_array_unref(m->fetchers);
  g_ptr_array_unref(m->accounts);
  smtp_cli_free(m->spare_cli);
  session_free(m->spare_s);
  while (m->n_ic)
    imap_cli_free(m->spare_ic[--m->n_ic]);
  while (m->n_pc)
    pop3_cli_free(m->spare_pc[--m->n_pc]);
  mime_display_free(m->shown);
  if (m->rcpts)
    g_ptr_array_unref(m->rcpts);
  g_free(m->helo);
  g_free(m);
}

static account *find_account(mua *m, const char *address) {
  for (guint i = 0; i < m->accounts->len; i++) {
    account *a = m->accounts->pdata[i];
    if (smtp_cmd_ieq(a->address, address))
      return a;
  }
  return NULL;
}

bool mua_add_account(mua *m, const mua_account *a) {
  g_assert(a->address && a->password && a->submit_server);
  if (find_account(m, a->address))
    return false;
  account *ac = g_new0(account, 1);
  ac->address = g_strdup(a->address);
  ac->password = g_strdup(a->password);
  ac->display = g_strdup(a->display_name);
  ac->server = g_strdup(a->submit_server);
  if (a->submit_addr) {
    ac->has_addr = sim_addr_parse(a->submit_addr, &ac->addr);
    g_assert(ac->has_addr); /* the scenario loader checks address literals */
  }
  g_ptr_array_add(m->accounts, ac);
  return true;
}

static GPtrArray *strv(const char *const *v, size_t n) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  for (size_t i = 0; i < n; i++)
    g_ptr_array_add(a, g_strdup(v[i]));
  return a;
}

/* A new outbox entry for MSG at ORDER; COPY: it keeps a copy of MSG to be
 * composed from later (else the caller composes it now from MSG). */
static outmsg *outmsg_new(mua *m, const mua_message *msg, uint64_t order, bool copy) {
  g_assert(msg->key && msg->from);
  account *acct = find_account(m, msg->from);
  g_assert(acct);
  /* One block: the entry, room for a pending recipient per address given
   * (compose finds as many, bar lists and groups), the key and the
   * Message-ID compose makes. */
  size_t kl = strlen(msg->key) + 1;
  size_t nr = msg->nto + msg->ncc + msg->nbcc;
  size_t pend_at = (sizeof(outmsg) + G_ALIGNOF(pending_rcpt) - 1) / G_ALIGNOF(pending_rcpt) *
                   G_ALIGNOF(pending_rcpt);
  size_t key_at = pend_at + nr * sizeof(pending_rcpt);
  size_t id_at = key_at + kl;
  outmsg *o = g_malloc0(id_at + msgid_size(msg->key, msgid_domain(m, acct)));
  o->m = m;
  o->acct = acct;
  o->pend = (pending_rcpt *)((char *)o + pend_at);
  o->pend_cap = (guint)nr;
  o->key = memcpy((char *)o + key_at, msg->key, kl);
  o->msgid = (char *)o + id_at; /* written by compose */
  o->order = order;
  /* In ORDER: almost always at the end. */
  guint at = m->out->len;
  while (at > 0 && ((outmsg *)m->out->pdata[at - 1])->order > order)
    at--;
  g_ptr_array_insert(m->out, (gint)at, o);
  if (!copy)
    return o;
  o->subject = g_strdup(msg->subject);
  o->text = g_strdup(msg->text);
  o->html = g_strdup(msg->html);
  o->to = strv(msg->to, msg->nto);
  o->cc = strv(msg->cc, msg->ncc);
  o->bcc = strv(msg->bcc, msg->nbcc);
  o->atts = g_array_new(FALSE, TRUE, sizeof(attach));
  for (size_t i = 0; i < msg->nattachments; i++) {
    attach a = {g_strdup(msg->attachments[i].name), g_strdup(msg->attachments[i].type),
                msg->attachments[i].size};
    g_array_append_val(o->atts, a);
  }
  return o;
}

void mua_send(mua *m, const mua_message *msg, sim_time at) {
  outmsg *o = outmsg_new(m, msg, m->sends++, true);
  sim_time now = host_now(m->h);
  o->timer = sim_world_at(host_world(m->h), at > now ? at : now, compose_fire, o, NULL);
}

/* What compose_fire does for an entry made now, composing from MSG itself
 * when the client runs (no copy of the message is made). */
void mua_send_now(mua *m, const mua_message *msg, uint64_t order) {
  bool up = host_up(m);
  outmsg *o = outmsg_new(m, msg, order, !up);
  outbox_sweep(m);
  if (!up)
    o->due = true; /* composed when the machine is back */
  else
    compose(o, msg);
}

void mua_fetch_every(mua *m, const mua_fetch *fc) {
  g_assert(fc->server && fc->user && fc->password && fc->interval > 0);
  fetcher *f = g_new0(fetcher, 1);
  f->m = m;
  f->proto = fc->proto;
  f->server = g_strdup(fc->server);
  f->user = g_strdup(fc->user);
  f->password = g_strdup(fc->password);
  if (fc->server_addr) {
    f->has_addr = sim_addr_parse(fc->server_addr, &f->addr);
    g_assert(f->has_addr);
  }
  f->interval = fc->interval;
  f->keep = fc->keep;
  g_ptr_array_add(m->fetchers, f);
  sim_time now = host_now(m->h);
  f->timer = sim_world_at(host_world(m->h), fc->first > now ? fc->first : now, fetch_fire, f, NULL);
}

void mua_get_stats(const mua *m, mua_stats *out) {
  *out = m->st;
  out->outbox = m->out->len;
}
