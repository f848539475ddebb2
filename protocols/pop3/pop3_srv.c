/* pop3_srv.c — POP3 server engine.
 *
 * Follows RFC 1939 (states §3, commands §5-§7, dot-stuffing §3, UPDATE §6),
 * RFC 2449 (CAPA, extended response codes [IN-USE], 255-octet commands
 * §4), RFC 3206 ([AUTH], [SYS/TEMP]), RFC 5034 (AUTH, SASL PLAIN with
 * initial response, "*" cancels) and RFC 2595 §4 (STLS). Input lines are
 * assembled up to max_line; longer lines are discarded up to their LF and
 * answered -ERR. Commands are processed only while no decision is
 * pending, so pipelined input (RFC 2449 PIPELINING) waits in the buffer.
 */
#include "pop3_srv.h"

#include <string.h>

#include "imap_fmt.h"
#include "sasl_plain.h"

typedef struct {
  pop3_srv_event ev;
  char *text, *user, *pass;
} queued_event;

struct pop3_srv {
  pop3_srv_config cfg;
  char *hostname;
  pop3_env env;
  pop3_srv_state state;
  GByteArray *in;  /* unprocessed input */
  bool discarding; /* inside an over-long line */
  GByteArray *out;
  GArray *events; /* of queued_event, FIFO */
  guint ev_head;
  queued_event cur; /* last returned; freed on next call */
  uint64_t next_id, pending_id;
  char *user; /* from USER */
  char *auth_user, *auth_pass;
  int64_t last_activity;
  /* maildrop */
  const pop3_drop_ops *ops;
  void *drop;
  size_t nmsg;
  uint64_t *sizes;
  bool *deleted;
  bool grown;           /* IN or OUT held more than a renewed engine keeps */
  pop3_srv *next_spare; /* kept (pop3_srv_keep): the next spare in the list */
  guint nspares;        /* kept: the length of the list from here */
};

/* The most spares pop3_srv_keep holds in one list. */
#define SRV_SPARES_MAX 16

/* The largest buffer pop3_srv_renew keeps (OUT can hold a whole RETR). */
#define SRV_KEEP_MAX (64u << 10)

static const char *const state_names[POP3_SRV_STATE_COUNT] = {
    "AUTHORIZATION", "SASL", "AUTH_WAIT", "TLS_WAIT", "TRANSACTION", "UPDATE", "CLOSED"};
const char *pop3_srv_state_name(pop3_srv_state st) {
  g_assert((unsigned)st < POP3_SRV_STATE_COUNT);
  return state_names[st];
}
static const char *const event_names[POP3_SRV_EV_COUNT] = {"command", "reply",  "auth", "stls",
                                                           "retr",    "update", "close"};
const char *pop3_srv_event_name(pop3_srv_event_kind k) {
  g_assert((unsigned)k < POP3_SRV_EV_COUNT);
  return event_names[k];
}

static void process(pop3_srv *s);

static void trace(pop3_srv *s, const char *ev, const char *detail) {
  if (s->env.trace)
    s->env.trace(s->env.ud, ev, detail);
}

/* Queues an event; takes TEXT (may be NULL). */
static void push_event_take(pop3_srv *s, pop3_srv_event_kind kind, char *text) {
  queued_event q = {0};
  q.ev.kind = kind;
  q.text = text;
  g_array_append_val(s->events, q);
}

static void push_event(pop3_srv *s, pop3_srv_event_kind kind, const char *text) {
  push_event_take(s, kind, g_strdup(text));
}

/* Traces the line TEXT (taken) as EV and queues it as an event of kind K,
 * unless lines_quiet. */
static void line_take(pop3_srv *s, const char *ev, pop3_srv_event_kind k, char *text) {
  trace(s, ev, text);
  if (s->env.lines_quiet)
    g_free(text);
  else
    push_event_take(s, k, text);
}

static void pop3_srv_enter(pop3_srv *s, pop3_srv_state to) {
  switch (to) {
  case POP3_SRV_AUTHORIZATION:
  case POP3_SRV_SASL:
  case POP3_SRV_AUTH_WAIT:
  case POP3_SRV_TLS_WAIT:
  case POP3_SRV_TRANSACTION:
  case POP3_SRV_UPDATE:
  case POP3_SRV_CLOSED:
    break;
  default:
    g_error("pop3_srv_enter: bad state %d", to);
  }
  if (s->env.trace) { /* untraced: no transition text to build */
    char *d = g_strconcat(state_names[s->state], " -> ", state_names[to], NULL);
    trace(s, "state", d);
    g_free(d);
  }
  s->state = to;
}

static void out_raw(pop3_srv *s, const char *p, size_t n) {
  g_byte_array_append(s->out, (const guint8 *)p, (guint)n);
}

static void out_str(pop3_srv *s, const char *str) { out_raw(s, str, strlen(str)); }

/* The line is formatted straight into the output by imap_fmt (printf's
 * text without printf: the replies' formats use only %s, %zu and %lu). */
G_GNUC_PRINTF(2, 3) static void reply(pop3_srv *s, const char *fmt, ...) {
  size_t start = s->out->len;
  va_list ap;
  va_start(ap, fmt);
  imap_fmt_append(s->out, fmt, ap);
  va_end(ap);
  bool wanted = s->env.trace || !s->env.lines_quiet;
  char *line = wanted ? g_strndup((const char *)s->out->data + start, s->out->len - start) : NULL;
  out_raw(s, "\r\n", 2);
  if (line)
    line_take(s, "reply", POP3_SRV_EV_REPLY, line);
}

G_GNUC_PRINTF(2, 3) static void out_fmt(pop3_srv *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  imap_fmt_append(s->out, fmt, ap);
  va_end(ap);
}

static void release_drop(pop3_srv *s) {
  if (s->ops) {
    const pop3_drop_ops *ops = s->ops;
    s->ops = NULL;
    ops->release(s->drop);
  }
  g_free(s->sizes);
  g_free(s->deleted);
  s->sizes = NULL;
  s->deleted = NULL;
  s->nmsg = 0;
}

static void close_session(pop3_srv *s) {
  if (s->state == POP3_SRV_CLOSED)
    return;
  release_drop(s);
  pop3_srv_enter(s, POP3_SRV_CLOSED);
  push_event(s, POP3_SRV_EV_CLOSE, NULL);
}

/* The start-up shared by _new and _renew: S is zeroed but for its
 * (empty) buffers, which are all present. */
static void srv_start(pop3_srv *s, const pop3_srv_config *cfg, const pop3_env *env, int64_t now) {
  if (cfg)
    s->cfg = *cfg;
  s->hostname = g_strdup(s->cfg.hostname ? s->cfg.hostname : "localhost");
  s->cfg.hostname = s->hostname;
  if (!s->cfg.max_line)
    s->cfg.max_line = 512;
  if (s->cfg.idle_timeout <= 0)
    s->cfg.idle_timeout = (int64_t)600 * 1000000000;
  if (env)
    s->env = *env;
  s->next_id = 1;
  s->last_activity = now;
  s->state = POP3_SRV_AUTHORIZATION;
  reply(s, "+OK %s POP3 server ready", s->hostname);
}

pop3_srv *pop3_srv_new(const pop3_srv_config *cfg, const pop3_env *env, int64_t now) {
  pop3_srv *s = g_new0(pop3_srv, 1);
  /* Sized for usual lines, so that they need no regrowth. */
  s->in = g_byte_array_sized_new(64);
  s->out = g_byte_array_sized_new(256);
  s->events = g_array_sized_new(FALSE, TRUE, sizeof(queued_event), 4);
  srv_start(s, cfg, env, now);
  return s;
}

static void qe_clear(queued_event *q) {
  g_free(q->text);
  g_free(q->user);
  g_free(q->pass);
  memset(q, 0, sizeof *q);
}

/* The session's own state let go, as pop3_srv_free does, the buffers kept. */
static void srv_end(pop3_srv *s) {
  release_drop(s);
  for (guint i = s->ev_head; i < s->events->len; i++)
    qe_clear(&g_array_index(s->events, queued_event, i));
  qe_clear(&s->cur);
  g_free(s->user);
  g_free(s->auth_user);
  g_free(s->auth_pass);
  g_free(s->hostname);
}

void pop3_srv_free(pop3_srv *s) {
  if (!s)
    return;
  pop3_srv_free(s->next_spare); /* the spares kept behind it */
  srv_end(s);
  g_array_free(s->events, TRUE);
  g_byte_array_unref(s->in);
  g_byte_array_unref(s->out);
  g_free(s);
}

pop3_srv *pop3_srv_renew(pop3_srv *old, const pop3_srv_config *cfg, const pop3_env *env,
                         int64_t now) {
  if (!old)
    return pop3_srv_new(cfg, env, now);
  g_assert(!old->next_spare); /* taken from its list (_take) */
  srv_end(old);
  pop3_srv kept = {.in = old->in, .out = old->out, .events = old->events};
  if (old->grown || old->in->len > SRV_KEEP_MAX || old->out->len > SRV_KEEP_MAX) {
    g_byte_array_unref(kept.in); /* a large message or input: let it go */
    g_byte_array_unref(kept.out);
    kept.in = g_byte_array_sized_new(64);
    kept.out = g_byte_array_sized_new(256);
  }
  g_byte_array_set_size(kept.in, 0);
  g_byte_array_set_size(kept.out, 0);
  kept.events->len = 0;
  *old = kept;
  srv_start(old, cfg, env, now);
  return old;
}

pop3_srv *pop3_srv_take(pop3_srv **spares) {
  pop3_srv *s = *spares;
  if (s) {
    *spares = s->next_spare;
    s->next_spare = NULL;
  }
  return s;
}

void pop3_srv_keep(pop3_srv **spares, pop3_srv *s) {
  guint n = *spares ? (*spares)->nspares : 0;
  if (n >= SRV_SPARES_MAX) {
    pop3_srv_free(s);
    return;
  }
  release_drop(s); /* when pop3_srv_free would: a spare holds no maildrop */
  s->next_spare = *spares;
  s->nspares = n + 1;
  *spares = s;
}

bool pop3_srv_next_event(pop3_srv *s, pop3_srv_event *ev) {
  qe_clear(&s->cur);
  if (s->ev_head >= s->events->len) {
    s->events->len = 0;
    s->ev_head = 0;
    return false;
  }
  s->cur = g_array_index(s->events, queued_event, s->ev_head++);
  *ev = s->cur.ev;
  ev->text = s->cur.text;
  ev->user = s->cur.user;
  ev->pass = s->cur.pass;
  return true;
}

const uint8_t *pop3_srv_output_peek(const pop3_srv *s, size_t *len) {
  *len = s->out->len;
  return s->out->data;
}

void pop3_srv_output_consume(pop3_srv *s, size_t n) {
  g_assert(n <= s->out->len);
  s->grown |= s->out->len > SRV_KEEP_MAX; /* the most it held since the last consume */
  g_byte_array_remove_range(s->out, 0, (guint)n);
}

pop3_srv_state pop3_srv_state_get(const pop3_srv *s) { return s->state; }

int64_t pop3_srv_deadline(const pop3_srv *s) {
  if (s->state == POP3_SRV_CLOSED)
    return INT64_MAX;
  return s->last_activity + s->cfg.idle_timeout;
}

void pop3_srv_tick(pop3_srv *s, int64_t now) {
  if (s->state != POP3_SRV_CLOSED && now >= pop3_srv_deadline(s)) {
    /* RFC 1939 §3: autologout timer expiry closes without UPDATE. */
    reply(s, "-ERR autologout timer expired");
    close_session(s);
  }
}

/* ---- authentication ---- */

static bool auth_allowed(pop3_srv *s) {
  if (s->cfg.tls_required && !s->cfg.tls_active) {
    reply(s, "-ERR [AUTH] TLS required: use STLS first");
    return false;
  }
  return true;
}

static void ask_auth(pop3_srv *s, const char *user, const char *pass) {
  queued_event q = {0};
  q.ev.kind = POP3_SRV_EV_AUTH;
  q.ev.id = s->pending_id = s->next_id++;
  q.user = g_strdup(user);
  q.pass = g_strdup(pass);
  g_array_append_val(s->events, q);
  pop3_srv_enter(s, POP3_SRV_AUTH_WAIT);
}

void pop3_srv_auth_answer(pop3_srv *s, uint64_t id, pop3_auth_result res, const pop3_drop_ops *ops,
                          void *ud) {
  if (s->state != POP3_SRV_AUTH_WAIT || id != s->pending_id)
    g_error("pop3_srv_auth_answer: no pending decision %" G_GUINT64_FORMAT, id);
  s->pending_id = 0;
  g_free(s->user);
  s->user = NULL;
  switch (res) {
  case POP3_AUTH_OK: {
    g_assert(ops && ops->count && ops->size && ops->uidl && ops->get && ops->commit &&
             ops->release);
    s->ops = ops;
    s->drop = ud;
    s->nmsg = ops->count(ud);
    s->sizes = g_new0(uint64_t, s->nmsg + 1);
    s->deleted = g_new0(bool, s->nmsg + 1);
    uint64_t total = 0;
    for (size_t i = 0; i < s->nmsg; i++)
      total += s->sizes[i] = ops->size(ud, i);
    pop3_srv_enter(s, POP3_SRV_TRANSACTION);
    reply(s, "+OK maildrop has %zu messages (%" G_GUINT64_FORMAT " octets)", s->nmsg, total);
    break;
  }
  case POP3_AUTH_IN_USE:
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR [IN-USE] maildrop already locked");
    break;
  case POP3_AUTH_TEMP:
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR [SYS/TEMP] temporary failure, try later");
    break;
  case POP3_AUTH_FAIL:
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR [AUTH] invalid credentials");
    break;
  default:
    g_error("pop3_srv_auth_answer: bad result %d", res);
  }
  process(s); /* pipelined commands waiting behind the decision */
}

void pop3_srv_tls_done(pop3_srv *s, bool ok) {
  if (s->state != POP3_SRV_TLS_WAIT)
    g_error("pop3_srv_tls_done: not waiting for TLS");
  g_byte_array_set_size(s->in, 0); /* RFC 2595 §3.1: nothing before the handshake counts */
  s->discarding = false;
  if (!ok) {
    close_session(s);
    return;
  }
  s->cfg.tls_active = true;
  g_free(s->user);
  s->user = NULL;
  pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
}

/* SASL PLAIN message (RFC 4616): [authzid] NUL authcid NUL passwd. */
static void plain_response(pop3_srv *s, const char *b64) {
  if (strcmp(b64, "*") == 0) {
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR authentication cancelled");
    return;
  }
  sasl_plain m; /* "=" (an empty response) decodes to nothing: malformed */
  if (!sasl_plain_decode(&m, b64)) {
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR [AUTH] malformed SASL PLAIN response");
  } else if (*m.authzid && strcmp(m.authzid, m.authcid) != 0) {
    pop3_srv_enter(s, POP3_SRV_AUTHORIZATION);
    reply(s, "-ERR [AUTH] authorization identity not permitted");
  } else {
    ask_auth(s, m.authcid, m.passwd);
  }
  sasl_plain_clear(&m);
}

/* ---- commands ---- */

typedef void (*verb_fn)(pop3_srv *s, const char *arg);

#define IN_AUTH (1u << POP3_SRV_AUTHORIZATION)
#define IN_TRANS (1u << POP3_SRV_TRANSACTION)

/* Parses a message number: decimal, 1..nmsg, not deleted. Answers -ERR. */
static bool msgno(pop3_srv *s, const char *arg, size_t *idx) {
  if (!arg || !*arg || strlen(arg) > 10 || strspn(arg, "0123456789") != strlen(arg)) {
    reply(s, "-ERR invalid message number");
    return false;
  }
  guint64 v = g_ascii_strtoull(arg, NULL, 10);
  if (v == 0 || v > s->nmsg) {
    reply(s, "-ERR no such message");
    return false;
  }
  if (s->deleted[v - 1]) {
    reply(s, "-ERR message %" G_GUINT64_FORMAT " already deleted", v);
    return false;
  }
  *idx = (size_t)v - 1;
  return true;
}

static void v_capa(pop3_srv *s, const char *arg) {
  (void)arg;
  reply(s, "+OK capability list follows");
  out_str(s, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  if (!(s->cfg.tls_required && !s->cfg.tls_active))
    out_str(s, "USER\r\nSASL PLAIN\r\n");
  if (s->cfg.tls_available && !s->cfg.tls_active && s->state == POP3_SRV_AUTHORIZATION)
    out_str(s, "STLS\r\n");
  out_str(s, "IMPLEMENTATION mailsim\r\n.\r\n");
}

static void v_user(pop3_srv *s, const char *arg) {
  if (!auth_allowed(s))
    return;
  if (!arg || !*arg) {
    reply(s, "-ERR USER needs a name");
    return;
  }
  g_free(s->user);
  s->user = g_strdup(arg);
  reply(s, "+OK send PASS");
}

static void v_pass(pop3_srv *s, const char *arg) {
  if (!auth_allowed(s))
    return;
  if (!s->user) {
    reply(s, "-ERR USER first");
    return;
  }
  ask_auth(s, s->user, arg ? arg : "");
}

static void v_auth(pop3_srv *s, const char *arg) {
  if (!arg || !*arg) {
    /* Mechanism listing, as many clients expect (not in RFC 5034). */
    reply(s, "+OK supported mechanisms");
    out_str(s, "PLAIN\r\n.\r\n");
    return;
  }
  if (!auth_allowed(s))
    return;
  const char *sp = strchr(arg, ' ');
  char *mech = sp ? g_strndup(arg, (gsize)(sp - arg)) : g_strdup(arg);
  if (g_ascii_strcasecmp(mech, "PLAIN") != 0) {
    reply(s, "-ERR unsupported mechanism");
  } else if (sp) {
    plain_response(s, sp + 1); /* RFC 5034 §4: initial response */
  } else {
    pop3_srv_enter(s, POP3_SRV_SASL);
    out_str(s, "+ \r\n");
    trace(s, "reply", "+ ");
  }
  g_free(mech);
}

static void v_stls(pop3_srv *s, const char *arg) {
  (void)arg;
  if (!s->cfg.tls_available || s->cfg.tls_active) {
    reply(s, "-ERR STLS not available");
    return;
  }
  reply(s, "+OK begin TLS negotiation");
  pop3_srv_enter(s, POP3_SRV_TLS_WAIT);
  push_event(s, POP3_SRV_EV_STLS, NULL);
}

static void v_quit(pop3_srv *s, const char *arg) {
  (void)arg;
  if (s->state == POP3_SRV_TRANSACTION) {
    pop3_srv_enter(s, POP3_SRV_UPDATE);
    size_t *del = g_new(size_t, s->nmsg + 1);
    size_t n = 0;
    for (size_t i = 0; i < s->nmsg; i++)
      if (s->deleted[i])
        del[n++] = i;
    bool ok = n == 0 || s->ops->commit(s->drop, del, n);
    g_free(del);
    queued_event q = {0};
    q.ev.kind = POP3_SRV_EV_UPDATE;
    q.ev.count = n;
    q.ev.ok = ok;
    g_array_append_val(s->events, q);
    if (ok)
      reply(s, "+OK %s POP3 server signing off (%zu messages deleted)", s->hostname, n);
    else
      reply(s, "-ERR some deleted messages not removed");
  } else {
    reply(s, "+OK %s POP3 server signing off", s->hostname);
  }
  close_session(s);
}

static void v_noop(pop3_srv *s, const char *arg) {
  (void)arg;
  reply(s, "+OK");
}

static void v_stat(pop3_srv *s, const char *arg) {
  (void)arg;
  size_t n = 0;
  uint64_t total = 0;
  for (size_t i = 0; i < s->nmsg; i++)
    if (!s->deleted[i]) {
      n++;
      total += s->sizes[i];
    }
  reply(s, "+OK %zu %" G_GUINT64_FORMAT, n, total);
}

static void v_list_uidl(pop3_srv *s, const char *arg, bool uidl) {
  size_t i;
  if (arg && *arg) {
    if (!msgno(s, arg, &i))
      return;
    if (uidl)
      reply(s, "+OK %zu %s", i + 1, s->ops->uidl(s->drop, i));
    else
      reply(s, "+OK %zu %" G_GUINT64_FORMAT, i + 1, s->sizes[i]);
    return;
  }
  reply(s, "+OK listing follows");
  for (i = 0; i < s->nmsg; i++) {
    if (s->deleted[i])
      continue;
    if (uidl)
      out_fmt(s, "%zu %s\r\n", i + 1, s->ops->uidl(s->drop, i));
    else
      out_fmt(s, "%zu %" G_GUINT64_FORMAT "\r\n", i + 1, s->sizes[i]);
  }
  out_raw(s, ".\r\n", 3);
}

static void v_list(pop3_srv *s, const char *arg) { v_list_uidl(s, arg, false); }
static void v_uidl(pop3_srv *s, const char *arg) { v_list_uidl(s, arg, true); }

/* Sends DATA dot-stuffed (RFC 1939 §3), lines normalised to CRLF. With
 * BODY_LINES >= 0 (TOP), sends the header, the blank line and at most
 * BODY_LINES lines of the body. */
static void send_stuffed(pop3_srv *s, GBytes *data, long body_lines) {
  gsize n;
  const char *p = g_bytes_get_data(data, &n);
  size_t off = 0;
  bool in_body = false;
  long sent_body = 0;
  size_t run = 0; /* lines from here on go out as they are, CRLF included */
  while (off < n) {
    if (in_body && body_lines >= 0 && sent_body >= body_lines)
      break;
    const char *nl = memchr(p + off, '\n', n - off);
    size_t end = nl ? (size_t)(nl - p) : n; /* index of LF or n */
    size_t len = end - off;
    bool crlf = len && p[off + len - 1] == '\r';
    if (crlf)
      len--;
    bool dot = len && p[off] == '.';
    if (!crlf || dot || !nl) { /* this line is rewritten: what came before goes out first */
      out_raw(s, p + run, off - run);
      if (dot)
        out_raw(s, ".", 1);
      out_raw(s, p + off, len);
      out_raw(s, "\r\n", 2);
      run = nl ? end + 1 : n;
    }
    if (in_body)
      sent_body++;
    else if (len == 0)
      in_body = true;
    off = nl ? end + 1 : n;
  }
  out_raw(s, p + run, off - run);
  out_raw(s, ".\r\n", 3);
}

static void v_retr(pop3_srv *s, const char *arg) {
  size_t i;
  if (!msgno(s, arg, &i))
    return;
  GBytes *b = s->ops->get(s->drop, i);
  if (!b) {
    reply(s, "-ERR message %zu no longer exists", i + 1);
    return;
  }
  reply(s, "+OK %" G_GUINT64_FORMAT " octets", s->sizes[i]);
  send_stuffed(s, b, -1);
  g_bytes_unref(b);
  queued_event q = {0};
  q.ev.kind = POP3_SRV_EV_RETR;
  q.ev.index = i;
  g_array_append_val(s->events, q);
}

static void v_top(pop3_srv *s, const char *arg) {
  const char *sp = arg ? strchr(arg, ' ') : NULL;
  if (!sp || !sp[1] || strlen(sp + 1) > 9 || strspn(sp + 1, "0123456789") != strlen(sp + 1)) {
    reply(s, "-ERR usage: TOP msg n");
    return;
  }
  char *num = g_strndup(arg, (gsize)(sp - arg));
  size_t i;
  bool ok = msgno(s, num, &i);
  g_free(num);
  if (!ok)
    return;
  GBytes *b = s->ops->get(s->drop, i);
  if (!b) {
    reply(s, "-ERR message %zu no longer exists", i + 1);
    return;
  }
  reply(s, "+OK top of message follows");
  send_stuffed(s, b, (long)g_ascii_strtoull(sp + 1, NULL, 10));
  g_bytes_unref(b);
}

static void v_dele(pop3_srv *s, const char *arg) {
  size_t i;
  if (!msgno(s, arg, &i))
    return;
  s->deleted[i] = true;
  reply(s, "+OK message %zu deleted", i + 1);
}

static void v_rset(pop3_srv *s, const char *arg) {
  (void)arg;
  memset(s->deleted, 0, s->nmsg * sizeof(bool));
  reply(s, "+OK");
}

static const struct {
  const char *verb;
  unsigned states;
  verb_fn fn;
} verbs[] = {
    {"CAPA", IN_AUTH | IN_TRANS, v_capa},
    {"USER", IN_AUTH, v_user},
    {"PASS", IN_AUTH, v_pass},
    {"AUTH", IN_AUTH, v_auth},
    {"STLS", IN_AUTH, v_stls},
    {"QUIT", IN_AUTH | IN_TRANS, v_quit},
    {"NOOP", IN_TRANS, v_noop},
    {"STAT", IN_TRANS, v_stat},
    {"LIST", IN_TRANS, v_list},
    {"UIDL", IN_TRANS, v_uidl},
    {"RETR", IN_TRANS, v_retr},
    {"TOP", IN_TRANS, v_top},
    {"DELE", IN_TRANS, v_dele},
    {"RSET", IN_TRANS, v_rset},
};

static void command(pop3_srv *s, char *line) {
  if (s->state == POP3_SRV_SASL) {
    trace(s, "cmd", "<sasl response>");
    if (!s->env.lines_quiet)
      push_event(s, POP3_SRV_EV_COMMAND, "<sasl response>");
    plain_response(s, line);
    return;
  }
  char *sp = strchr(line, ' ');
  if (sp)
    *sp = 0;
  const char *arg = sp ? sp + 1 : NULL;
  /* What the trace shows: never a password or SASL response. */
  if (s->env.trace || !s->env.lines_quiet) {
    const char *ir = g_ascii_strcasecmp(line, "AUTH") == 0 && arg ? strchr(arg, ' ') : NULL;
    char *shown = g_ascii_strcasecmp(line, "PASS") == 0 ? g_strconcat(line, " ****", NULL)
                  : ir ? g_strdup_printf("%s %.*s ****", line, (int)(ir - arg), arg)
                       : g_strconcat(line, arg ? " " : "", arg, NULL);
    line_take(s, "cmd", POP3_SRV_EV_COMMAND, shown);
  }
  /* The first letter (any case: verbs are letters) rules most rows out. */
  for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
    if ((line[0] | 0x20) != (verbs[i].verb[0] | 0x20) ||
        (line[1] | 0x20) != (verbs[i].verb[1] | 0x20) || /* a NUL there differs too */
        g_ascii_strcasecmp(line, verbs[i].verb) != 0)
      continue;
    if (!(verbs[i].states & (1u << s->state))) {
      reply(s, "-ERR %s not allowed in %s state", verbs[i].verb,
            s->state == POP3_SRV_TRANSACTION ? "TRANSACTION" : "AUTHORIZATION");
      return;
    }
    verbs[i].fn(s, arg);
    return;
  }
  reply(s, "-ERR unknown command");
}

static bool ready(const pop3_srv *s) {
  return s->state == POP3_SRV_AUTHORIZATION || s->state == POP3_SRV_SASL ||
         s->state == POP3_SRV_TRANSACTION;
}

static void process(pop3_srv *s) {
  while (ready(s) && s->in->len) {
    guint8 *nl = memchr(s->in->data, '\n', s->in->len);
    if (!nl) {
      if (s->in->len >= s->cfg.max_line) { /* RFC 2449 §4: bounded command length */
        s->discarding = true;
        g_byte_array_set_size(s->in, 0);
      }
      return;
    }
    size_t len = (size_t)(nl - s->in->data);
    if (s->discarding || len + 1 > s->cfg.max_line) {
      s->discarding = false;
      g_byte_array_remove_range(s->in, 0, (guint)len + 1);
      reply(s, "-ERR line too long");
      continue;
    }
    size_t l = len;
    if (l && s->in->data[l - 1] == '\r')
      l--;
    char stack[256]; /* usual commands: no allocation */
    char *line = l < sizeof stack ? stack : g_malloc(l + 1);
    memcpy(line, s->in->data, l);
    line[l] = 0;
    g_byte_array_remove_range(s->in, 0, (guint)len + 1);
    if (memchr(line, 0, l)) { /* embedded NUL */
      reply(s, "-ERR invalid characters in command");
    } else {
      command(s, line);
    }
    if (line != stack)
      g_free(line);
  }
}

void pop3_srv_feed(pop3_srv *s, const void *data, size_t len, int64_t now) {
  if (s->state == POP3_SRV_CLOSED)
    return;
  s->last_activity = now;
  const guint8 *p = data;
  /* Bound the buffer: while discarding, only look for the end of line. */
  while (len) {
    if (s->discarding) {
      const guint8 *nl = memchr(p, '\n', len);
      if (!nl)
        return;
      size_t k = (size_t)(nl - p);
      p += k;
      len -= k;
      g_byte_array_set_size(s->in, 0);
    }
    size_t cap = s->cfg.max_line * 2 > 65536 ? s->cfg.max_line * 2 : 65536;
    size_t room = cap > s->in->len ? cap - s->in->len : 0;
    size_t take = len < room ? len : room;
    if (!take && !ready(s))
      return; /* a decision is pending and the buffer is full: drop excess
                 pipelined input (a client must not send this much) */
    g_byte_array_append(s->in, p, (guint)take);
    s->grown |= s->in->len > SRV_KEEP_MAX;
    p += take;
    len -= take;
    process(s);
  }
}

void pop3_srv_hangup(pop3_srv *s) {
  if (s->state == POP3_SRV_CLOSED)
    return;
  release_drop(s);
  pop3_srv_enter(s, POP3_SRV_CLOSED);
}
