/* mailbox_host.c — the mailbox host service: a mailstore, IMAP4rev1
 * (RFC 3501) and POP3 (RFC 1939) servers for the users' clients, and local
 * delivery over SMTP (RFC 5321) with quota checks (RFC 3463 4.2.2) and a
 * Received field per delivery (RFC 5321 §4.4).
 *
 * Every connection is one mb_conn: a session (session.h) around one
 * engine. Decisions the engines ask for (logins, recipients, messages) are
 * answered at once from the user directory and the store. A crash frees
 * every mb_conn (the kernel already dropped the connections) and keeps the
 * store; a restart listens again and clears the POP3 locks.
 */
#include "mailbox_host.h"

#include <string.h>

#include "imap_glue.h"
#include "mail_trace.h"
#include "mailbox_keep.h"
#include "mailstore_imap.h"
#include "mailstore_pop3.h"
#include "mime_date.h"
#include "mime_trace.h"
#include "msgkey.h"
#include "pop3_glue.h"
#include "sieve.h"
#include "smtp_glue.h"

#define IMAP_PORT 143
#define POP3_PORT 110
#define SMTP_PORT 25

typedef enum { MB_IMAP, MB_POP3, MB_SMTP } mb_kind;

#define MB_ACCTS_KEPT 8

typedef struct {
  mailbox_host *mb;
  mb_kind kind;
  session *s;
  union {
    imap_srv *imap;
    pop3_srv *pop3;
    smtp_srv *smtp;
  } e;
  union {
    imap_glue_trace imap;
    pop3_glue_trace pop3;
    smtp_glue_trace smtp;
  } tr;
  /* SMTP: the accounts of the recipients accepted in this transaction, in
   * order (decide_rcpt), for decide_message; N_ACCTS > MB_ACCTS_KEPT: not
   * all kept, looked up again. */
  const char *accts[MB_ACCTS_KEPT];
  size_t n_accts;
  /* Parked (conn_free): the next block of the spare list, the list's
   * length from here. */
  void *next_spare;
  unsigned nspares;
} mb_conn;

/* The most connection blocks (and session blocks: SESSION_SPARES_MAX)
 * a mailbox host keeps parked: sessions overlap. */
#define MB_CONN_SPARES 4

struct mailbox_host {
  host *h;
  mailbox_host_config cfg;
  char *hostname;
  const userdir *users;
  tls_host *tls;
  mailstore *store;
  sim_tcp_listener *lis[3];
  GPtrArray *conns;     /* mb_conn*, in accept order */
  smtp_srv *spare_smtp; /* an ended engine, reused by the next (smtp_srv_renew) */
  imap_srv *spare_imap; /* ended IMAP engines (a list: sessions overlap) */
  pop3_srv *spare_pop3; /* the same for POP3 */
  mb_conn *spare_conn;  /* ended connections' blocks, a list (their sessions' in spare_s) */
  session *spare_s;     /* ended sessions' blocks, a list (session_keep) */
  uint64_t queue_seq;
  uint64_t delivered;
  GHashTable *sieve;  /* account -> sieve_script* (lookup only) */
  mailbox_keep *keep; /* NULL unless cfg.keep_messages */
  GPtrArray *full;    /* char*: accounts a fault keeps full (issue 10) */
};

void mailbox_host_config_init(mailbox_host_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->imap = cfg->pop3 = cfg->smtp = true;
  cfg->require_tls = true;
  cfg->epoch_unix = MIME_DATE_EPOCH_DEFAULT;
  cfg->first_uidvalidity = 1;
}

static void conn_free(mb_conn *c) {
  switch (c->kind) {
  case MB_IMAP:
    imap_srv_keep(&c->mb->spare_imap, c->e.imap);
    break;
  case MB_POP3:
    pop3_srv_keep(&c->mb->spare_pop3, c->e.pop3);
    break;
  case MB_SMTP:
    smtp_srv_keep(&c->mb->spare_smtp, c->e.smtp);
    break;
  }
  session_keep(&c->mb->spare_s, c->s);
  unsigned n = c->mb->spare_conn ? c->mb->spare_conn->nspares : 0;
  if (n >= MB_CONN_SPARES) {
    g_free(c);
    return;
  }
  c->next_spare = c->mb->spare_conn;
  c->nspares = n + 1;
  c->mb->spare_conn = c;
}

/* The store account of a login or recipient: the directory's spelling of
 * the address when the user keeps mail here, else NULL. */
static const char *account(mailbox_host *mb, const char *addr) {
  const userdir_user *u = userdir_find(mb->users, addr);
  if (!u || !u->mailbox || strcmp(u->mailbox, host_name(mb->h)) != 0 ||
      !mailstore_user_exists(mb->store, u->address))
    return NULL;
  return u->address;
}

static void start_tls_server(mb_conn *c) {
  session_flush(c->s); /* the go-ahead goes out in clear */
  session_start_tls(c->s, tls_host_conn(c->mb->tls, TLS_CONN_SERVER, NULL));
}

/* ---- IMAP ---- */

static void imap_pump(void *owner, session *s) {
  mb_conn *c = owner;
  mailbox_host *mb = c->mb;
  imap_srv_event ev;
  while (imap_srv_next_event(c->e.imap, &ev)) {
    switch (ev.kind) {
    case IMAP_SRV_EV_AUTH: {
      const char *acct = account(mb, ev.user);
      mailstore_imap *st = acct && userdir_check(mb->users, acct, ev.pass)
                               ? mailstore_imap_open(mb->store, acct)
                               : NULL;
      imap_srv_auth_answer(c->e.imap, ev.id, st ? IMAP_AUTH_OK : IMAP_AUTH_FAIL,
                           st ? &mailstore_imap_ops : NULL, st);
      break;
    }
    case IMAP_SRV_EV_STARTTLS:
      start_tls_server(c);
      break;
    case IMAP_SRV_EV_CLOSE:
      session_close(s);
      break;
    default:
      break;
    }
  }
}

static void imap_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  mb_conn *c = owner;
  if (ev->type != TLS_CONN_EV_CLOSED)
    imap_srv_tls_done(c->e.imap, ev->type == TLS_CONN_EV_ESTABLISHED);
}

/* ---- POP3 ---- */

static void pop3_pump(void *owner, session *s) {
  mb_conn *c = owner;
  mailbox_host *mb = c->mb;
  pop3_srv_event ev;
  while (pop3_srv_next_event(c->e.pop3, &ev)) {
    switch (ev.kind) {
    case POP3_SRV_EV_AUTH: {
      const char *acct = account(mb, ev.user);
      if (!acct || !userdir_check(mb->users, acct, ev.pass)) {
        pop3_srv_auth_answer(c->e.pop3, ev.id, POP3_AUTH_FAIL, NULL, NULL);
        break;
      }
      mailstore_err err = MAILSTORE_OK;
      mailstore_pop3 *d = mailstore_pop3_open(mb->store, acct, session_conn_id(s), &err);
      if (d)
        pop3_srv_auth_answer(c->e.pop3, ev.id, POP3_AUTH_OK, &mailstore_pop3_ops, d);
      else
        pop3_srv_auth_answer(c->e.pop3, ev.id,
                             err == MAILSTORE_ERR_LOCKED ? POP3_AUTH_IN_USE : POP3_AUTH_FAIL, NULL,
                             NULL);
      break;
    }
    case POP3_SRV_EV_STLS:
      start_tls_server(c);
      break;
    case POP3_SRV_EV_CLOSE:
      session_close(s);
      break;
    default:
      break;
    }
  }
}

static void pop3_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  mb_conn *c = owner;
  if (ev->type != TLS_CONN_EV_CLOSED)
    pop3_srv_tls_done(c->e.pop3, ev->type == TLS_CONN_EV_ESTABLISHED);
}

/* ---- SMTP delivery ---- */

/* 452 4.2.2 when ACCT cannot take EXTRA more bytes and one more message. */
static bool fits(mailbox_host *mb, const char *acct, uint64_t extra) {
  uint64_t bytes = 0, msgs = 0;
  bool quota = mb->cfg.quota_bytes || mb->cfg.quota_msgs; /* else the usage is not read */
  if (quota ? mailstore_usage(mb->store, acct, &bytes, &msgs) != MAILSTORE_OK
            : !mailstore_user_exists(mb->store, acct))
    return false;
  for (guint i = 0; i < mb->full->len; i++)
    if (g_ascii_strcasecmp(mb->full->pdata[i], acct) == 0)
      return false;
  if (mb->cfg.quota_bytes && bytes + extra > mb->cfg.quota_bytes)
    return false;
  if (mb->cfg.quota_msgs && msgs + 1 > mb->cfg.quota_msgs)
    return false;
  return true;
}

static void decide_rcpt(mb_conn *c, const smtp_srv_event *ev, sim_time now) {
  mailbox_host *mb = c->mb;
  const char *acct = account(mb, ev->rcpt->to);
  if (!acct) {
    smtp_srv_reject(c->e.smtp, ev->id, 550, "5.1.1", "Recipient address rejected: User unknown",
                    now);
    return;
  }
  if (!fits(mb, acct, ev->mail->has_size ? ev->mail->size : 0)) {
    smtp_srv_reject(c->e.smtp, ev->id, 452, "4.2.2", "Mailbox full", now);
    return;
  }
  if (c->n_accts < MB_ACCTS_KEPT)
    c->accts[c->n_accts] = acct;
  c->n_accts++;
  smtp_srv_accept(c->e.smtp, ev->id, now);
}

/* The Received field of this hop (RFC 5321 §4.4), or NULL. */
/* The Received field, in BUF (BUFSZ octets) when it fits, else a new
 * string (the caller frees a result that is not BUF). */
static char *received(mb_conn *c, const char *qid, const char *for_addr, sim_time now, char *fbuf,
                      size_t fbufsz) {
  mailbox_host *mb = c->mb;
  char buf[SIM_ADDR_BUFSZ], ip[SIM_ADDR_BUFSZ + 8];
  const sim_addr *ra = session_conn(c->s) ? sim_tcp_remote_addr(session_conn(c->s)) : NULL;
  if (ra) { /* RFC 5321 §4.1.3: an IPv6 address literal is tagged */
    const char *tag = ra->family == 6 ? "IPv6:" : "";
    size_t tl = strlen(tag);
    memcpy(ip, tag, tl);
    g_strlcpy(ip + tl, sim_addr_format(ra, buf), sizeof ip - tl);
  }
  const char *helo = smtp_srv_helo(c->e.smtp);
  mime_received r = {
      .helo = helo && *helo ? helo : session_peer_name(c->s),
      .rdns = NULL, /* no verified reverse DNS in the simulation */
      .ip = ra ? ip : NULL,
      .by = mb->hostname,
      .with = smtp_srv_tls_active(c->e.smtp) ? "ESMTPS" : "ESMTP",
      .id = qid,
      .for_addr = for_addr,
      .date_ns = now,
      .epoch_unix = mb->cfg.epoch_unix,
  };
  return mime_trace_received_buf(&r, fbuf, fbufsz);
}

static bool spam_flagged(const mime_msg *mm) {
  const char *v = mime_hdr_get(mime_msg_root(mm)->hdr, "X-Spam-Flag"); /* trimmed */
  return v && g_ascii_strcasecmp(v, "YES") == 0;
}

/* The folders ACCT's copy goes to: the spam folder for a flagged message,
 * else the user's Sieve actions (keep = "INBOX", discard = "",
 * redirect = "redirect:ADDR"), else INBOX. A new array of new strings, or
 * NULL for INBOX alone when neither a spam folder nor a script applies
 * (the usual case: nothing to parse or allocate). */
static GPtrArray *folders(mailbox_host *mb, const char *acct, const smtp_srv_event *ev,
                          GBytes *data) {
  const sieve_script *sc =
      g_hash_table_size(mb->sieve) ? g_hash_table_lookup(mb->sieve, acct) : NULL;
  if (!mb->cfg.spam_folder && !sc)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  gsize n;
  const void *p = g_bytes_get_data(data, &n);
  mime_msg *mm = mime_msg_parse(p, n, NULL);
  if (mb->cfg.spam_folder && spam_flagged(mm)) {
    g_ptr_array_add(out, g_strdup(mb->cfg.spam_folder));
  } else if (sc) {
    sieve_input in = {.msg = mm, .env_from = ev->mail ? ev->mail->from : NULL, .env_to = acct};
    sieve_result r;
    sieve_run(sc, &in, &r);
    bool discard_only = true;
    for (guint i = 0; i < r.actions->len; i++) {
      const sieve_action *a = r.actions->pdata[i];
      switch (a->kind) {
      case SIEVE_KEEP:
        g_ptr_array_add(out, g_strdup("INBOX"));
        discard_only = false;
        break;
      case SIEVE_FILEINTO:
        g_ptr_array_add(out, g_strdup(a->arg));
        discard_only = false;
        break;
      case SIEVE_REDIRECT:
        g_ptr_array_add(out, g_strdup_printf("redirect:%s", a->arg));
        discard_only = false;
        break;
      case SIEVE_DISCARD:
        break;
      default:
        g_assert_not_reached();
      }
    }
    if (discard_only)
      g_ptr_array_add(out, g_strdup(""));
    sieve_result_clear(&r);
  } else {
    g_ptr_array_add(out, g_strdup("INBOX"));
  }
  mime_msg_free(mm);
  return out;
}

bool mailbox_host_set_sieve(mailbox_host *m, const char *user, const char *script, char **err) {
  if (!script) {
    g_hash_table_remove(m->sieve, user);
    return true;
  }
  sieve_script *sc = sieve_parse(script, strlen(script), err);
  if (!sc)
    return false;
  g_hash_table_replace(m->sieve, g_strdup(user), sc);
  return true;
}

/* "MB" and SEQ in upper-case hex, at least 8 digits ("MB%08" PRIX64),
 * without printf. BUF holds 19 octets. */
static void queue_id(char *buf, uint64_t seq) {
  char hex[16];
  int n = 0;
  do
    hex[n++] = "0123456789ABCDEF"[seq & 15];
  while (seq >>= 4);
  while (n < 8)
    hex[n++] = '0';
  *buf++ = 'M';
  *buf++ = 'B';
  while (n)
    *buf++ = hex[--n];
  *buf = 0;
}

/* The usual transaction's recipients fit on the stack (decide_message). */
#define MB_RCPTS_STACK 8

static void decide_message(mb_conn *c, const smtp_srv_event *ev, sim_time now) {
  mailbox_host *mb = c->mb;
  char qid[32];
  queue_id(qid, ++mb->queue_seq);
  /* Recipients, each account once, in the order given. Their addresses
   * outlive the answer (which ends the engine's transaction): copied into
   * one block, on the stack when short. */
  size_t cap = ev->nrcpts, tos = 0;
  for (size_t i = 0; i < ev->nrcpts; i++)
    tos += strlen(ev->rcpts[i].to) + 1;
  const char *accts_stack[MB_RCPTS_STACK], *rcpts_stack[MB_RCPTS_STACK];
  char tos_stack[512];
  const char **accts = cap <= MB_RCPTS_STACK ? accts_stack : g_new(const char *, cap);
  const char **rcpts = cap <= MB_RCPTS_STACK ? rcpts_stack : g_new(const char *, cap);
  char *tw = tos <= sizeof tos_stack ? tos_stack : g_malloc(tos), *tos_block = tw;
  size_t n = 0;
  bool kept = c->n_accts == ev->nrcpts && c->n_accts <= MB_ACCTS_KEPT; /* decide_rcpt's */
  for (size_t i = 0; i < ev->nrcpts; i++) {
    const char *a = kept ? c->accts[i] : account(mb, ev->rcpts[i].to);
    bool dup = false;
    for (size_t j = 0; a && j < n; j++)
      dup = dup || strcmp(accts[j], a) == 0;
    if (a && !dup) {
      size_t tl = strlen(ev->rcpts[i].to) + 1;
      accts[n] = a;
      rcpts[n++] = memcpy(tw, ev->rcpts[i].to, tl);
      tw += tl;
    }
  }
  char fbuf[512];
  char *field = received(c, qid, n == 1 ? rcpts[0] : NULL, now, fbuf, sizeof fbuf);
  /* The stored message: our field, then the data (one copy) */
  GBytes *data;
  if (field) {
    size_t fl = strlen(field);
    guint8 *d = g_malloc(fl + ev->len + 1);
    memcpy(d, field, fl);
    if (ev->len)
      memcpy(d + fl, ev->data, ev->len);
    data = g_bytes_new_take(d, fl + ev->len);
  } else {
    data = g_bytes_new(ev->data, ev->len);
  }
  bool ok = n > 0;
  for (size_t i = 0; ok && i < n; i++)
    ok = fits(mb, accts[i], g_bytes_get_size(data));
  if (!ok) {
    /* Nothing is stored: the sender keeps the message and retries. */
    smtp_srv_reject(c->e.smtp, ev->id, 452, "4.2.2", "Mailbox full", now);
  } else {
    /* Where each account's copies go (user rules, issue 7); NULL: INBOX. */
    GPtrArray *plans_stack[MB_RCPTS_STACK];
    GPtrArray **plans = n <= MB_RCPTS_STACK ? plans_stack : g_new(GPtrArray *, n);
    for (size_t i = 0; i < n; i++)
      plans[i] = folders(mb, accts[i], ev, data);
    /* The envelope sender, before the answer ends the transaction. */
    char *env_from = mb->keep ? g_strdup(ev->mail ? ev->mail->from : "") : NULL;
    smtp_srv_accept_message(c->e.smtp, ev->id, qid, now);
    gsize dn;
    const uint8_t *p = g_bytes_get_data(data, &dn);
    unsigned hops;
    char kbuf[256];
    char *key = msgkey_of_hops_buf(p, dn, &hops, kbuf, sizeof kbuf);
    hops -= field != NULL;
    mail_rcpts mr = {rcpts, n};
    mail_trace_relay(mb->h, session_peer_name(c->s), key, session_conn_id(c->s), qid, mr,
                     smtp_srv_tls_active(c->e.smtp), hops);
    if (mb->keep)
      mailbox_keep_stored(mb->keep, key, qid, env_from, data);
    g_free(env_from);
    static const char *const inbox[] = {"INBOX"};
    for (size_t i = 0; i < n; i++) {
      GPtrArray *plan = plans[i];
      const char *const *fs = plan ? (const char *const *)plan->pdata : inbox;
      guint nf = plan ? plan->len : 1;
      for (guint k = 0; k < nf; k++) {
        const char *folder = fs[k];
        uint32_t uid = 0, uidvalidity = 0;
        if (*folder && !g_str_has_prefix(folder, "redirect:")) {
          bool to_inbox = strcmp(folder, "INBOX") == 0; /* INBOX either way below */
          if (!to_inbox && !mailstore_folder_exists(mb->store, accts[i], folder))
            (void)mailstore_folder_create(mb->store, accts[i], folder, MAILSTORE_USE_NONE);
          if (!to_inbox && !mailstore_folder_exists(mb->store, accts[i], folder))
            folder = "INBOX"; /* a name the store refuses */
          /* The first copy fits (checked above); a further one may not. */
          mailstore_err e =
              mailstore_deliver_uv(mb->store, accts[i], folder, data, now, &uid, &uidvalidity);
          if (e != MAILSTORE_OK) {
            g_assert(k > 0);
            continue;
          }
          mb->delivered++;
        }
        if (!uid)
          uidvalidity = 0;
        mail_trace_deliver(mb->h, key, rcpts[i], accts[i], folder, uid, uidvalidity);
      }
      if (plan)
        g_ptr_array_unref(plan);
    }
    if (plans != plans_stack)
      g_free(plans);
    if (key != kbuf)
      g_free(key);
  }
  if (field != fbuf)
    g_free(field);
  g_bytes_unref(data);
  if (accts != accts_stack) {
    g_free(accts);
    g_free(rcpts);
  }
  if (tos_block != tos_stack)
    g_free(tos_block);
}

static void smtp_pump(void *owner, session *s) {
  mb_conn *c = owner;
  smtp_srv_event ev;
  sim_time now = host_now(c->mb->h);
  while (smtp_srv_next_event(c->e.smtp, &ev)) {
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_RCPT:
      decide_rcpt(c, &ev, now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      decide_message(c, &ev, now);
      break;
    case SMTP_SRV_EV_DECIDE_AUTH: /* not offered */
      smtp_srv_reject(c->e.smtp, ev.id, 503, "5.5.1", "AUTH not available", now);
      break;
    case SMTP_SRV_EV_STARTTLS:
      start_tls_server(c);
      break;
    case SMTP_SRV_EV_CLOSE:
      session_close(s);
      break;
    default: /* CONNECT, HELO, MAIL */
      if (ev.type == SMTP_SRV_EV_DECIDE_MAIL)
        c->n_accts = 0; /* a new transaction */
      smtp_srv_accept(c->e.smtp, ev.id, now);
      break;
    }
  }
}

static void smtp_tls(void *owner, session *s, const tls_conn_event *ev) {
  mb_conn *c = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED)
    smtp_srv_tls_started(c->e.smtp, host_now(c->mb->h));
  else if (ev->type == TLS_CONN_EV_FAILED)
    session_abort(s);
}

/* ---- connections ---- */

static void conn_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  mb_conn *c = owner;
  if (c->kind == MB_IMAP)
    imap_srv_hangup(c->e.imap);
  else if (c->kind == MB_POP3)
    pop3_srv_hangup(c->e.pop3);
  g_ptr_array_remove(c->mb->conns, c); /* frees it */
}

static const session_owner imap_owner = {
    .pump = imap_pump, .closed = conn_closed, .tls_event = imap_tls};
static const session_owner pop3_owner = {
    .pump = pop3_pump, .closed = conn_closed, .tls_event = pop3_tls};
static const session_owner smtp_owner = {
    .pump = smtp_pump, .closed = conn_closed, .tls_event = smtp_tls};

static void accept_conn(mailbox_host *mb, mb_kind kind, sim_tcp_conn *tc,
                        const sim_tcp_callbacks **cb, void **user) {
  mb_conn *c = mb->spare_conn;
  if (c) {
    mb->spare_conn = c->next_spare;
    memset(c, 0, sizeof *c);
  } else {
    c = g_new0(mb_conn, 1);
  }
  c->mb = mb;
  c->kind = kind;
  sim_time now = host_now(mb->h);
  static const tls_host_service service[] = {
      [MB_IMAP] = TLS_HOST_IMAP, [MB_POP3] = TLS_HOST_POP3, [MB_SMTP] = TLS_HOST_LMTP};
  bool tls = tls_host_on(mb->tls, service[kind]), req = tls && mb->cfg.require_tls;
  switch (kind) {
  case MB_IMAP: {
    imap_srv_config cfg = {.hostname = mb->hostname,
                           .epoch_unix = mb->cfg.epoch_unix,
                           .tls_available = tls,
                           .tls_required = req,
                           .mime = &imap_glue_mime};
    imap_env env = imap_glue_env_on(&c->tr.imap, true, mb->h);
    c->e.imap = imap_srv_renew(imap_srv_take(&mb->spare_imap), &cfg, &env, now);
    c->s = session_accept_in(session_take(&mb->spare_s), mb->h, tc, &imap_glue_srv_ops, c->e.imap, &imap_owner, c);
    imap_glue_attach(&c->tr.imap, c->s);
    break;
  }
  case MB_POP3: {
    pop3_srv_config cfg = {.hostname = mb->hostname, .tls_available = tls, .tls_required = req};
    pop3_env env = pop3_glue_env_on(&c->tr.pop3, true, mb->h);
    c->e.pop3 = pop3_srv_renew(pop3_srv_take(&mb->spare_pop3), &cfg, &env, now);
    c->s = session_accept_in(session_take(&mb->spare_s), mb->h, tc, &pop3_glue_srv_ops, c->e.pop3, &pop3_owner, c);
    pop3_glue_attach(&c->tr.pop3, c->s);
    break;
  }
  case MB_SMTP: {
    smtp_srv_config cfg;
    smtp_srv_config_init(&cfg);
    cfg.hostname = mb->hostname;
    cfg.ext_starttls = tls;
    cfg.ext_auth = false;
    smtp_env env = smtp_glue_env_on(&c->tr.smtp, true, mb->h);
    c->e.smtp = smtp_srv_renew(smtp_srv_take(&mb->spare_smtp), &cfg, &env);
    c->s = session_accept_in(session_take(&mb->spare_s), mb->h, tc, &smtp_glue_srv_ops, c->e.smtp, &smtp_owner, c);
    smtp_glue_attach(&c->tr.smtp, c->s);
    break;
  }
  }
  g_ptr_array_add(mb->conns, c);
  *cb = session_tcp_callbacks();
  *user = c->s;
  session_kick(c->s); /* greeting */
}

static void imap_accept(void *u, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  accept_conn(u, MB_IMAP, tc, cb, user);
}
static void pop3_accept(void *u, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  accept_conn(u, MB_POP3, tc, cb, user);
}
static void smtp_accept(void *u, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  accept_conn(u, MB_SMTP, tc, cb, user);
}

static void start(mailbox_host *mb) {
  sim_node *n = host_node(mb->h);
  if (mb->cfg.imap)
    mb->lis[0] = sim_tcp_listen(n, IMAP_PORT, imap_accept, mb);
  if (mb->cfg.pop3)
    mb->lis[1] = sim_tcp_listen(n, POP3_PORT, pop3_accept, mb);
  if (mb->cfg.smtp)
    mb->lis[2] = sim_tcp_listen(n, SMTP_PORT, smtp_accept, mb);
}

static void on_crash(void *user, bool crashed) {
  mailbox_host *mb = user;
  if (crashed) {
    /* The kernel freed listeners and connections; drop the sessions (their
     * engines release the store handles). The store is disk: it stays. */
    memset(mb->lis, 0, sizeof mb->lis);
    g_ptr_array_set_size(mb->conns, 0);
  } else {
    mailstore_locks_reset(mb->store);
    start(mb);
  }
}

mailbox_host *mailbox_host_new(host *h, const mailbox_host_config *cfg, const userdir *users,
                               tls_host *tls) {
  mailbox_host *mb = g_new0(mailbox_host, 1);
  mb->h = h;
  mb->cfg = *cfg;
  mb->cfg.spam_folder = g_strdup(cfg->spam_folder); /* freed in mailbox_host_free */
  mb->hostname = g_strdup(cfg->hostname ? cfg->hostname : host_name(h));
  mb->cfg.hostname = mb->hostname;
  mb->users = users;
  mb->tls = tls;
  mb->full = g_ptr_array_new_with_free_func(g_free);
  mb->sieve =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)sieve_script_free);
  mb->store = mailstore_new(cfg->first_uidvalidity ? cfg->first_uidvalidity : 1);
  GPtrArray *mine = userdir_on_host(users, host_name(h));
  for (guint i = 0; i < mine->len; i++) {
    const userdir_user *u = mine->pdata[i];
    mailstore_err e = mailstore_user_add(mb->store, u->address, cfg->quota_bytes, cfg->quota_msgs);
    g_assert(e == MAILSTORE_OK || e == MAILSTORE_ERR_EXISTS);
  }
  g_ptr_array_unref(mine);
  mb->conns = g_ptr_array_new_with_free_func((GDestroyNotify)conn_free);
  if (cfg->keep_messages)
    mb->keep = mailbox_keep_new(h, cfg->epoch_unix);
  start(mb);
  host_on_crash(h, on_crash, mb);
  return mb;
}

void mailbox_host_free(mailbox_host *m) {
  if (!m)
    return;
  g_ptr_array_unref(m->conns); /* engines release their store handles */
  smtp_srv_free(m->spare_smtp);
  imap_srv_free(m->spare_imap);
  pop3_srv_free(m->spare_pop3);
  while (m->spare_conn) {
    mb_conn *c = m->spare_conn;
    m->spare_conn = c->next_spare;
    g_free(c);
  }
  session_free(m->spare_s);
  mailstore_free(m->store);
  mailbox_keep_free(m->keep);
  g_hash_table_destroy(m->sieve);
  g_ptr_array_unref(m->full);
  g_free((char *)m->cfg.spam_folder);
  g_free(m->hostname);
  g_free(m);
}

mailstore *mailbox_host_store(mailbox_host *m) { return m->store; }
uint64_t mailbox_host_delivered(const mailbox_host *m) { return m->delivered; }

void mailbox_host_write_kept(mailbox_host *m) {
  if (m->keep)
    mailbox_keep_write_kept(m->keep, m->store);
}

void mailbox_host_set_full(mailbox_host *m, const char *user, bool full) {
  for (guint i = 0; i < m->full->len; i++)
    if (g_ascii_strcasecmp(m->full->pdata[i], user) == 0) {
      if (!full)
        g_ptr_array_remove_index(m->full, i);
      return;
    }
  if (full)
    g_ptr_array_add(m->full, g_strdup(user));
}
