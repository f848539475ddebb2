/* smtp_srv.c — the SMTP server engine: input framing, DATA, output,
 * events, decisions and timers. The verbs live in smtp_srv_verbs.c.
 *
 * Follows RFC 5321 (§2.3.8 lines end in CRLF only; §3.3 and §4.1.1.4 the
 * DATA phase ended by CRLF "." CRLF; §4.5.2 dot transparency; §4.5.3.1
 * limits; §4.5.3.2.7 the server timeout; §3.8 421 closes), RFC 2920 §3
 * (pipelined commands answered in order; we never read past a command
 * whose answer is pending), RFC 3207 §4.2 (discard everything received
 * before TLS is up, then forget the session) and RFC 1870 §6.3 (a message
 * over the size limit is read to its end and refused with 552).
 *
 * Framing is a byte-at-a-time machine whose state lives in the engine, so
 * every split of the input gives the same result. Smuggling (bare CR/LF,
 * NUL): see smtp_srv.h; the rule that makes every variant harmless is that
 * the end-of-data test requires a real CRLF before and after the dot, and
 * the bytes after a fake end stay inside the message being refused.
 */
#include "smtp_srv_int.h"

#include <stdarg.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* g_byte_array_set_size(A, 0) without the library call: a byte array has
 * no NUL end and no clear function, so emptying it is its length. */
static inline void bytes_empty(GByteArray *a) { a->len = 0; }

static const char *const state_names[SRV__COUNT] = {
    [SRV_CONNECT] = "CONNECT",
    [SRV_HELO] = "HELO",
    [SRV_HELO_WAIT] = "HELO_WAIT",
    [SRV_READY] = "READY",
    [SRV_AUTH_INPUT] = "AUTH_INPUT",
    [SRV_AUTH_WAIT] = "AUTH_WAIT",
    [SRV_MAIL_WAIT] = "MAIL_WAIT",
    [SRV_MAIL] = "MAIL",
    [SRV_RCPT_WAIT] = "RCPT_WAIT",
    [SRV_RCPT] = "RCPT",
    [SRV_DATA] = "DATA",
    [SRV_DATA_WAIT] = "DATA_WAIT",
    [SRV_TLS_WAIT] = "TLS_WAIT",
    [SRV_CLOSED] = "CLOSED",
};

/* Legal transitions, as listed above the enum in smtp_srv_int.h. */
static const unsigned legal[SRV__COUNT] = {
    [SRV_CONNECT] = SRV_BIT(SRV_HELO) | SRV_BIT(SRV_CLOSED),
    [SRV_HELO] = SRV_BIT(SRV_HELO_WAIT) | SRV_BIT(SRV_CLOSED),
    [SRV_HELO_WAIT] = SRV_BIT(SRV_READY) | SRV_BIT(SRV_HELO) | SRV_BIT(SRV_CLOSED),
    [SRV_READY] = SRV_BIT(SRV_HELO_WAIT) | SRV_BIT(SRV_MAIL_WAIT) | SRV_BIT(SRV_AUTH_INPUT) |
                  SRV_BIT(SRV_AUTH_WAIT) | SRV_BIT(SRV_TLS_WAIT) | SRV_BIT(SRV_CLOSED),
    [SRV_AUTH_INPUT] =
        SRV_BIT(SRV_AUTH_INPUT) | SRV_BIT(SRV_AUTH_WAIT) | SRV_BIT(SRV_READY) | SRV_BIT(SRV_CLOSED),
    [SRV_AUTH_WAIT] = SRV_BIT(SRV_READY) | SRV_BIT(SRV_CLOSED),
    [SRV_MAIL_WAIT] = SRV_BIT(SRV_MAIL) | SRV_BIT(SRV_READY) | SRV_BIT(SRV_CLOSED),
    [SRV_MAIL] =
        SRV_BIT(SRV_RCPT_WAIT) | SRV_BIT(SRV_READY) | SRV_BIT(SRV_HELO_WAIT) | SRV_BIT(SRV_CLOSED),
    [SRV_RCPT_WAIT] = SRV_BIT(SRV_RCPT) | SRV_BIT(SRV_MAIL) | SRV_BIT(SRV_CLOSED),
    [SRV_RCPT] = SRV_BIT(SRV_RCPT_WAIT) | SRV_BIT(SRV_DATA) | SRV_BIT(SRV_READY) |
                 SRV_BIT(SRV_HELO_WAIT) | SRV_BIT(SRV_CLOSED),
    [SRV_DATA] = SRV_BIT(SRV_DATA_WAIT) | SRV_BIT(SRV_READY) | SRV_BIT(SRV_CLOSED),
    [SRV_DATA_WAIT] = SRV_BIT(SRV_READY) | SRV_BIT(SRV_CLOSED),
    [SRV_TLS_WAIT] = SRV_BIT(SRV_HELO) | SRV_BIT(SRV_CLOSED),
    [SRV_CLOSED] = 0,
};

static const char *const event_names[SMTP_SRV_EV__COUNT] = {
    [SMTP_SRV_EV_DECIDE_CONNECT] = "DECIDE_CONNECT",
    [SMTP_SRV_EV_DECIDE_HELO] = "DECIDE_HELO",
    [SMTP_SRV_EV_DECIDE_MAIL] = "DECIDE_MAIL",
    [SMTP_SRV_EV_DECIDE_RCPT] = "DECIDE_RCPT",
    [SMTP_SRV_EV_DECIDE_AUTH] = "DECIDE_AUTH",
    [SMTP_SRV_EV_DECIDE_MESSAGE] = "DECIDE_MESSAGE",
    [SMTP_SRV_EV_STARTTLS] = "STARTTLS",
    [SMTP_SRV_EV_CLOSE] = "CLOSE",
};

const char *smtp_srv_event_type_name(smtp_srv_event_type t) {
  g_assert((unsigned)t < SMTP_SRV_EV__COUNT);
  return event_names[t];
}

const char *smtp_srv__state_name(smtp_srv_state s) {
  g_assert((unsigned)s < SRV__COUNT);
  return state_names[s];
}

const char *smtp_srv_state_name(const smtp_srv *srv) { return smtp_srv__state_name(srv->state); }

void smtp_srv__trace_out(smtp_srv *srv, smtp_trace_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  srv->env.trace(srv->env.ctx, srv->now, kind, s);
  g_free(s);
}

void smtp_srv__enter(smtp_srv *srv, smtp_srv_state s) {
  g_assert((unsigned)s < SRV__COUNT);
  if (!(legal[srv->state] & SRV_BIT(s)))
    g_error("smtp_srv__enter: illegal transition %s -> %s", state_names[srv->state],
            state_names[s]);
  switch (s) {
  case SRV_CONNECT:
  case SRV_HELO:
  case SRV_HELO_WAIT:
  case SRV_READY:
  case SRV_AUTH_INPUT:
  case SRV_AUTH_WAIT:
  case SRV_MAIL_WAIT:
  case SRV_MAIL:
  case SRV_RCPT_WAIT:
  case SRV_RCPT:
  case SRV_DATA:
  case SRV_DATA_WAIT:
  case SRV_TLS_WAIT:
  case SRV_CLOSED:
    break;
  default:
    g_assert_not_reached();
  }
  smtp_srv__trace(srv, SMTP_TRACE_STATE, "%s -> %s", state_names[srv->state], state_names[s]);
  srv->state = s;
}

void smtp_srv_config_init(smtp_srv_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->hostname = "localhost";
  cfg->ext_pipelining = cfg->ext_size = cfg->ext_8bitmime = true;
  cfg->ext_enhancedstatuscodes = cfg->ext_starttls = cfg->ext_auth = cfg->ext_dsn = true;
  cfg->auth_plain = cfg->auth_login = true;
  cfg->relay_reject_code = 554;
  cfg->max_size = 10 * 1024 * 1024;
  cfg->max_recipients = 100;
  cfg->max_errors = 20;
  cfg->bare_policy = SMTP_SRV_BARE_REJECT;
  cfg->timeout = INT64_C(300) * 1000000000;
}

/* The session's part of smtp_srv_new: SRV is zeroed but for its buffers,
 * which are empty. */
static void srv_start(smtp_srv *srv, const smtp_srv_config *cfg, const smtp_env *env) {
  g_assert(cfg && cfg->hostname);
  g_assert(cfg->relay_reject_code == 550 || cfg->relay_reject_code == 554);
  srv->cfg = *cfg;
  smtp_string_renew(&srv->hostname, cfg->hostname, false); /* kept when the same */
  srv->cfg.hostname = srv->hostname;
  if (env)
    srv->env = *env;
  srv->state = SRV_CONNECT;
  srv->next_id = 1;
  srv->a_authzid = srv->a_user = srv->a_pass = SIZE_MAX;
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_CONNECT);
}

smtp_srv *smtp_srv_new(const smtp_srv_config *cfg, const smtp_env *env) {
  smtp_srv *srv = g_new0(smtp_srv, 1);
  /* Sized for a session's usual lines, so they need no regrowth. */
  srv->in = g_byte_array_sized_new(256);
  srv->line = g_string_sized_new(128);
  srv->out = g_string_sized_new(256);
  srv->scratch = g_string_new(NULL);
  srv->auth_in = g_string_new(NULL);
  srv->helo = g_string_new(NULL);
  srv->cand_helo = g_string_new(NULL);
  srv->ehlo_text = g_string_new(NULL);
  srv->ehlo_wire = g_string_new(NULL);
  srv->rcpts = g_array_sized_new(FALSE, TRUE, sizeof(smtp_cmd_rcpt), 2);
  srv->msg = g_byte_array_new();
  srv_start(srv, cfg, env);
  return srv;
}

smtp_srv *smtp_srv_renew(smtp_srv *old, const smtp_srv_config *cfg, const smtp_env *env) {
  if (!old)
    return smtp_srv_new(cfg, env);
  g_assert(!old->next_spare); /* one engine (smtp_srv_take) */
  smtp_srv__reset_txn(old);
  smtp_srv__reset_auth_input(old);
  smtp_srv kept = {
      .in = old->in,
      .line = smtp_string_kept(old->line, 128),
      .out = smtp_string_kept(old->out, 256),
      .scratch = smtp_string_kept(old->scratch, 0),
      .auth_in = smtp_string_kept(old->auth_in, 0), /* wiped by reset_auth_input above */
      .hostname = old->hostname, /* kept if the new config gives the same (srv_start) */
      .helo = smtp_string_kept(old->helo, 0), /* storage only: HAS_HELO is false */
      .cand_helo = smtp_string_kept(old->cand_helo, 0),
      .ehlo_text = old->ehlo_text, /* a cache: its content stays valid */
      .ehlo_wire = old->ehlo_wire,
      .events = old->events,
      .rcpts = old->rcpts,
      .txn_strs = old->txn_strs, /* reset by reset_txn above */
      .msg = old->msg,
      .auth_kept = old->auth_kept, /* AUTH_USER is NULL: not authenticated */
  };
  if (old->grown) { /* a flood of input or a large message: let it go */
    g_byte_array_free(kept.in, TRUE);
    g_byte_array_free(kept.msg, TRUE);
    kept.in = g_byte_array_sized_new(256);
    kept.msg = g_byte_array_new();
  }
  bytes_empty(kept.in);
  smtp_fifo_kept(&kept.events);
  bytes_empty(kept.msg);
  *old = kept;
  srv_start(old, cfg, env);
  return old;
}

static void srv_free1(smtp_srv *srv);

void smtp_srv_keep_upto(smtp_srv **spares, smtp_srv *srv, unsigned max) {
  if (!srv)
    return;
  g_assert(!srv->next_spare);
  unsigned n = *spares ? (*spares)->nspares : 0;
  if (n >= max) {
    srv_free1(srv);
    return;
  }
  srv->next_spare = *spares;
  srv->nspares = n + 1;
  *spares = srv;
}

void smtp_srv_keep(smtp_srv **spare, smtp_srv *srv) { smtp_srv_keep_upto(spare, srv, 1); }

smtp_srv *smtp_srv_take(smtp_srv **spares) {
  smtp_srv *srv = *spares;
  if (srv) {
    *spares = srv->next_spare;
    srv->next_spare = NULL;
  }
  return srv;
}

void smtp_srv__reset_auth_input(smtp_srv *srv) {
  GString *in = srv->auth_in;
  memset(in->str, 0, in->len); /* secrets */
  in->len = 0;
  srv->a_authzid = srv->a_user = srv->a_pass = SIZE_MAX;
  srv->auth_step = 0;
}

const char *smtp_srv__auth_part(const smtp_srv *srv, size_t at) {
  return at == SIZE_MAX ? NULL : srv->auth_in->str + at;
}

void smtp_srv__reset_txn(smtp_srv *srv) {
  /* their strings are in txn_strs */
  memset(&srv->mail, 0, sizeof srv->mail);
  memset(&srv->scratch_mail, 0, sizeof srv->scratch_mail);
  memset(&srv->cand_rcpt, 0, sizeof srv->cand_rcpt);
  srv->rcpts->len = 0; /* g_array_set_size(0) without the call: no clear function */
  smtp_cmd_arena_reset(&srv->txn_strs);
  bytes_empty(srv->msg);
  srv->msg_size = 0;
}

void smtp_srv_free(smtp_srv *srv) {
  while (srv) { /* a parked list: the engines behind it too */
    smtp_srv *next = srv->next_spare;
    srv_free1(srv);
    srv = next;
  }
}

static void srv_free1(smtp_srv *srv) {
  smtp_srv__reset_txn(srv);
  smtp_srv__reset_auth_input(srv);
  smtp_cmd_arena_clear(&srv->txn_strs);
  g_free(srv->hostname);
  g_byte_array_free(srv->in, TRUE);
  g_string_free(srv->line, TRUE);
  g_string_free(srv->out, TRUE);
  g_string_free(srv->scratch, TRUE);
  smtp_srv__reset_auth_input(srv); /* wiped */
  g_string_free(srv->auth_in, TRUE);
  g_string_free(srv->ehlo_text, TRUE);
  g_string_free(srv->ehlo_wire, TRUE);
  smtp_fifo_free(&srv->events);
  g_array_free(srv->rcpts, TRUE);
  g_byte_array_free(srv->msg, TRUE);
  g_string_free(srv->helo, TRUE);
  g_string_free(srv->cand_helo, TRUE);
  g_free(srv->auth_kept);
  g_free(srv);
}

/* ---- output, events ---- */

/* After a reply CODE was appended to OUT at START: its lines traced, and
 * counted when an error. */
static void replied(smtp_srv *srv, int code, size_t start) {
  if (srv->env.trace) {
    const char *p = srv->out->str + start;
    while (*p) {
      const char *e = strstr(p, "\r\n");
      smtp_srv__trace(srv, SMTP_TRACE_SEND, "%.*s", (int)(e - p), p);
      p = e + 2;
    }
  }
  if (code >= 400 && code != 421)
    srv->errors++;
}

void smtp_srv__reply(smtp_srv *srv, int code, const char *esc, const char *text) {
  char derived[6] = {(char)('0' + code / 100), '.', '0', '.', '0', 0};
  if (!srv->cfg.ext_enhancedstatuscodes)
    esc = NULL;
  else if (!esc)
    esc = derived;
  size_t start = srv->out->len;
  smtp_reply_append(srv->out, code, esc, text);
  replied(srv, code, start);
}

void smtp_srv__reply_wire(smtp_srv *srv, int code, const char *wire, size_t n) {
  size_t start = srv->out->len;
  smtp_reply_put(srv->out, wire, n);
  replied(srv, code, start);
}

void smtp_srv__reply_line(smtp_srv *srv, int code, const char *esc, size_t en, const char *a,
                          size_t an, const char *b, size_t bn) {
  size_t start = srv->out->len;
  smtp_reply_append_line(srv->out, code, esc, srv->cfg.ext_enhancedstatuscodes ? en : 0, a, an, b,
                         bn);
  replied(srv, code, start);
}

void smtp_srv__reply2(smtp_srv *srv, int code, const char *esc, const char *a, const char *b) {
  size_t an = strcspn(a, "\r\n"), bn = strcspn(b, "\r\n");
  if (!a[an] && !b[bn]) { /* one line: written in place */
    char derived[6] = {(char)('0' + code / 100), '.', '0', '.', '0', 0};
    if (!esc)
      esc = derived;
    smtp_srv__reply_line(srv, code, esc, strlen(esc), a, an, b, bn);
    return;
  }
  GString *t = srv->scratch;
  smtp_reply_set(t, a);
  smtp_reply_puts(t, b);
  smtp_srv__reply(srv, code, esc, t->str);
}

void smtp_srv__replyf(smtp_srv *srv, int code, const char *esc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  smtp_srv__reply(srv, code, esc, s);
  g_free(s);
}

void smtp_srv__push_event(smtp_srv *srv, smtp_srv_event_type type) {
  srv_queued *q = smtp_fifo_push(&srv->events, sizeof *q);
  q->type = type;
  q->id = 0;
}

/* Fills the borrowed pointers of a decision event from the engine state. */
static void fill_event(smtp_srv *srv, smtp_srv_event *ev) {
  switch (ev->type) {
  case SMTP_SRV_EV_DECIDE_HELO:
    ev->helo = srv->cand_helo->str;
    ev->esmtp = srv->cand_esmtp;
    break;
  case SMTP_SRV_EV_DECIDE_AUTH:
    ev->mech = srv->auth_login ? "LOGIN" : "PLAIN";
    ev->authzid = srv->a_authzid == SIZE_MAX ? "" : smtp_srv__auth_part(srv, srv->a_authzid);
    ev->user = smtp_srv__auth_part(srv, srv->a_user);
    ev->pass = smtp_srv__auth_part(srv, srv->a_pass);
    break;
  case SMTP_SRV_EV_DECIDE_MAIL:
    ev->mail = &srv->scratch_mail;
    break;
  case SMTP_SRV_EV_DECIDE_RCPT:
    ev->mail = &srv->mail;
    ev->rcpt = &srv->cand_rcpt;
    break;
  case SMTP_SRV_EV_DECIDE_MESSAGE:
    ev->mail = &srv->mail;
    ev->rcpts = (const smtp_cmd_rcpt *)(void *)srv->rcpts->data;
    ev->nrcpts = srv->rcpts->len;
    ev->data = srv->msg->len ? srv->msg->data : (const uint8_t *)"";
    ev->len = srv->msg->len;
    break;
  case SMTP_SRV_EV_CLOSE:
    ev->reason = srv->close_reason;
    break;
  case SMTP_SRV_EV_DECIDE_CONNECT:
  case SMTP_SRV_EV_STARTTLS:
    break;
  default:
    g_assert_not_reached();
  }
}

void smtp_srv__decide(smtp_srv *srv, smtp_srv_event_type type) {
  g_assert(srv->pending_id == 0);
  srv_queued *q = smtp_fifo_push(&srv->events, sizeof *q);
  q->type = type;
  q->id = srv->next_id++;
  srv->pending_id = q->id;
  srv->pending_type = type;
}

bool smtp_srv_next_event(smtp_srv *srv, smtp_srv_event *ev) {
  srv_queued q;
  if (!smtp_fifo_pop(&srv->events, &q, sizeof q))
    return false;
  memset(ev, 0, sizeof *ev);
  ev->type = q.type;
  ev->id = q.id;
  fill_event(srv, ev);
  return true;
}

const uint8_t *smtp_srv_output_peek(const smtp_srv *srv, size_t *len) {
  *len = srv->out->len;
  return (const uint8_t *)srv->out->str;
}

void smtp_srv_output_consume(smtp_srv *srv, size_t n) {
  g_assert(n <= srv->out->len);
  if (n == srv->out->len) /* the usual case: all of it, no library call */
    srv->out->str[srv->out->len = 0] = 0;
  else
    g_string_erase(srv->out, 0, (gssize)n);
}

void smtp_srv__close(smtp_srv *srv, const char *reason) {
  if (srv->state == SRV_CLOSED)
    return;
  srv->close_reason = reason;
  srv->pending_id = 0;
  smtp_srv__enter(srv, SRV_CLOSED);
  smtp_srv__push_event(srv, SMTP_SRV_EV_CLOSE);
  size_t left = srv->in_n - srv->in_pos;
  if (left)
    smtp_srv__trace(srv, SMTP_TRACE_NOTE, "discarded %zu input bytes at close", left);
  bytes_empty(srv->in);
  srv->in_pos = srv->in_n = 0;
}

void smtp_srv__discard_input(smtp_srv *srv, const char *why) {
  size_t left = srv->in_n - srv->in_pos;
  if (left)
    smtp_srv__trace(srv, SMTP_TRACE_NOTE, "discarded %zu input bytes %s", left, why);
  bytes_empty(srv->in);
  srv->in_pos = srv->in_n = 0;
  g_string_truncate(srv->line, 0);
  srv->cr = srv->line_bare_cr = srv->line_nul = srv->line_long = false;
}

/* ---- command lines ---- */

static void line_reset(smtp_srv *srv) {
  srv->line->str[srv->line->len = 0] = 0;
  srv->line_bare_cr = srv->line_nul = srv->line_long = false;
}

/* A complete line in command (or AUTH input) mode. */
static void line_done(smtp_srv *srv, bool bare_lf) {
  const char *s = srv->line->str;
  bool auth =
      srv->state == SRV_AUTH_INPUT || (srv->line->len >= 4 && (s[0] | 0x20) == 'a' &&
                                       smtp_cmd_ieqn(s, "AUTH", 4) && (s[4] == ' ' || s[4] == 0));
  if (srv->state == SRV_AUTH_INPUT)
    smtp_srv__trace(srv, SMTP_TRACE_RECV, "****");
  else if (auth && strchr(s + 5 - (s[4] == 0), ' '))
    smtp_srv__trace(srv, SMTP_TRACE_RECV, "%.*s ****", (int)strcspn(s + 5, " ") + 5, s);
  else
    smtp_srv__trace(srv, SMTP_TRACE_RECV, "%.*s", (int)MIN(srv->line->len, 600), s);
  bool too_long = srv->line_long || (!auth && srv->line->len > SRV_CMD_MAX);
  /* RFC 5321 §2.3.8: lines end with CRLF; bare CR/LF are not allowed. */
  if (too_long)
    smtp_srv__reply(srv, 500, "5.5.2", "Error: line too long");
  else if (bare_lf && srv->cfg.bare_policy == SMTP_SRV_BARE_REJECT)
    smtp_srv__reply(srv, 500, "5.5.2", "Error: bare <LF> received");
  else if (srv->line_bare_cr)
    smtp_srv__reply(srv, 500, "5.5.2", "Error: bare <CR> received");
  else if (srv->line_nul)
    smtp_srv__reply(srv, 500, "5.5.2", "Error: NUL character received");
  else if (srv->state == SRV_AUTH_INPUT)
    smtp_srv__auth_input(srv, s);
  else
    smtp_srv__command(srv, s);
  bool refused = too_long || (bare_lf && srv->cfg.bare_policy == SMTP_SRV_BARE_REJECT) ||
                 srv->line_bare_cr || srv->line_nul;
  line_reset(srv);
  if (refused && srv->state == SRV_AUTH_INPUT) { /* RFC 4954 §4: the exchange is over */
    smtp_srv__reset_auth_input(srv);
    smtp_srv__enter(srv, SRV_READY);
  }
  if (srv->state != SRV_CLOSED && srv->errors >= srv->cfg.max_errors) {
    smtp_srv__replyf(srv, 421, "4.7.0", "%s Error: too many errors", srv->hostname);
    smtp_srv__close(srv, "too many errors");
  }
}

static void line_byte(smtp_srv *srv, uint8_t b) {
  if (srv->line->len < SRV_AUTH_MAX)
    g_string_append_c(srv->line, (char)b);
  else
    srv->line_long = true;
}

/* ---- DATA (RFC 5321 §4.1.1.4, §4.5.2) ---- */

/* The most a SIZE= parameter makes the server reserve before the data
 * arrives (the peer's claim, not yet checked: bounded). */
#define SRV_SIZE_RESERVE_MAX (64 * 1024)

void smtp_srv__begin_data(smtp_srv *srv) {
  /* RFC 1870 §3: SIZE is the client's estimate of the message; reserving
   * it (plus room for line ends the client may not have counted) spares
   * the buffer its doublings while the data arrives. */
  if (srv->mail.has_size && srv->mail.size <= SRV_SIZE_RESERVE_MAX)
    g_byte_array_set_size(srv->msg, (guint)srv->mail.size + 64);
  bytes_empty(srv->msg);
  srv->msg_size = 0;
  srv->d_bol = srv->d_bol_strict = true;
  srv->d_dot = srv->d_dot_strict = srv->d_cr = false;
  srv->d_linelen = 0;
  srv->d_bare = srv->d_nul = srv->d_long = srv->d_big = false;
}

static void msg_append(smtp_srv *srv, const void *p, size_t n) {
  srv->msg_size += n;
  if (srv->cfg.max_size && srv->msg_size > srv->cfg.max_size) {
    if (!srv->d_big) /* RFC 1870 §6.3: read on to the end, keep nothing */
      bytes_empty(srv->msg);
    srv->grown |= srv->msg_size > SMTP_KEEP_MAX;
    srv->d_big = true;
    return;
  }
  g_byte_array_append(srv->msg, p, (guint)n);
}

/* A line break inside the data (CRLF, or a normalised bare CR/LF). */
static void data_eol(smtp_srv *srv, bool strict) {
  if (srv->d_dot)
    msg_append(srv, ".", 1); /* "." reached through a bare CR/LF: data */
  msg_append(srv, "\r\n", 2);
  srv->d_dot = false;
  srv->d_bol = true;
  srv->d_bol_strict = strict;
  srv->d_linelen = 0;
}

/* An ordinary data octet (any octet other than a line break). */
static void data_octet(smtp_srv *srv, uint8_t b) {
  if (++srv->d_linelen > SRV_TEXT_MAX)
    srv->d_long = true;
  if (srv->d_bol) {
    srv->d_bol = false;
    if (b == '.') {
      srv->d_dot = true;
      srv->d_dot_strict = srv->d_bol_strict;
      return;
    }
  } else if (srv->d_dot) {
    srv->d_dot = false; /* RFC 5321 §4.5.2: drop the leading dot of ".x" */
  }
  msg_append(srv, &b, 1);
}

static void data_done(smtp_srv *srv) {
  srv->grown |= srv->msg->len > SMTP_KEEP_MAX;
  smtp_srv__trace(srv, SMTP_TRACE_NOTE, "end of data: %" G_GUINT64_FORMAT " octets", srv->msg_size);
  const char *err = NULL;
  int code = 0;
  const char *esc = NULL;
  if (srv->d_bare) {
    code = 550, esc = "5.5.2";
    err = "Error: bare <CR> or <LF> in message data (RFC 5321 section 2.3.8)";
  } else if (srv->d_nul) {
    code = 550, esc = "5.6.0", err = "Error: NUL character in message data";
  } else if (srv->d_big) {
    code = 552, esc = "5.3.4", err = "Error: message size exceeds fixed limit";
  } else if (srv->d_long) {
    code = 550, esc = "5.6.0", err = "Error: message line longer than 1000 octets";
  }
  if (err) {
    smtp_srv__reply(srv, code, esc, err);
    smtp_srv__reset_txn(srv);
    smtp_srv__enter(srv, SRV_READY);
    return;
  }
  smtp_srv__enter(srv, SRV_DATA_WAIT);
  smtp_srv__decide(srv, SMTP_SRV_EV_DECIDE_MESSAGE);
}

/* The first octet of P[0..N) that is a CR or an LF, or also a NUL when
 * WITH_NUL; N when none is. Inline, sixteen octets a step where SSE2 is
 * (command and text lines are tens of octets: memchr calls cost more);
 * the last step overlaps the one before rather than going octet by octet
 * (the octets it reads again held none). */
static inline size_t find_eol(const uint8_t *p, size_t n, bool with_nul) {
  size_t i = 0;
#if defined(__SSE2__)
  if (n >= 16) {
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'), nul = _mm_setzero_si128();
    for (;; i += 16) {
      if (i + 16 > n)
        i = n - 16;
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
      __m128i e = _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf));
      if (with_nul)
        e = _mm_or_si128(e, _mm_cmpeq_epi8(v, nul));
      int m = _mm_movemask_epi8(e);
      if (m)
        return i + (size_t)__builtin_ctz((unsigned)m);
      if (i + 16 >= n)
        return n;
    }
  }
#endif
  while (i < n && p[i] != '\r' && p[i] != '\n' && (!with_nul || p[i] != 0))
    i++;
  return i;
}

/* Takes whole stretches of ordinary data from IN[0..N) at once: runs of
 * octets other than CR and LF (NUL only flagged, as data_byte() does),
 * each with the CRLF that ends its line. Leaves to data_byte() what needs
 * a decision octet by octet: a dot at a line start, a bare CR or LF, a
 * CRLF after a lone dot (the end of the data) and a CR at the end of IN.
 * The message, flags and state come out as if data_byte() had taken every
 * octet (RFC 5321 §4.5.2: the dot of ".x" at a line start is dropped).
 * Returns how many octets it took. */
static size_t data_run(smtp_srv *srv, const uint8_t *in, size_t n) {
  bool norm = srv->cfg.bare_policy == SMTP_SRV_BARE_NORMALIZE;
  size_t i = 0; /* IN[0..i) is taken: appended (and checked for NUL) at once, at the end */
  while (i < n && !srv->d_cr) {
    const uint8_t *p = in + i;
    size_t left = n - i;
    if (srv->d_bol && p[0] == '.')
      break;
    size_t run = find_eol(p, left, false);                              /* to the first CR or LF */
    bool crlf = run + 1 < left && p[run] == '\r' && p[run + 1] == '\n'; /* its line's CRLF */
    if (run == 0 && (!crlf || srv->d_dot))
      break;
    if (run) {
      srv->d_bol = false;
      srv->d_dot = false;
      srv->d_linelen += run;
      if (srv->d_linelen > SRV_TEXT_MAX)
        srv->d_long = true;
    }
    if (!crlf) {
      i += run;
      break;
    }
    /* the octets, then their CRLF as data_eol() adds it */
    srv->d_bol = srv->d_bol_strict = true;
    srv->d_linelen = 0;
    i += run + 2;
  }
  if (i) {
    if (!norm && memchr(in, 0, i))
      srv->d_nul = true;
    msg_append(srv, in, i);
  }
  return i;
}

/* Consumes one data octet; returns true at the end of the data. */
static bool data_byte(smtp_srv *srv, uint8_t b) {
  bool norm = srv->cfg.bare_policy == SMTP_SRV_BARE_NORMALIZE;
  if (srv->d_cr) {
    srv->d_cr = false;
    if (b == '\n') {
      if (srv->d_dot && srv->d_dot_strict && srv->d_linelen == 1)
        return true; /* CRLF "." CRLF: the only end of data */
      data_eol(srv, true);
      return false;
    }
    srv->d_bare |= !norm; /* bare CR, then B as usual */
    if (norm)
      data_eol(srv, false);
    else
      data_octet(srv, '\r');
  }
  if (b == '\r') {
    srv->d_cr = true;
  } else if (b == '\n') {
    srv->d_bare |= !norm;
    if (norm)
      data_eol(srv, false);
    else
      data_octet(srv, '\n');
  } else {
    if (b == 0 && !norm)
      srv->d_nul = true;
    data_octet(srv, b);
  }
  return false;
}

/* ---- the input loop ---- */

static bool blocked(const smtp_srv *srv) {
  return srv->pending_id != 0 || srv->state == SRV_TLS_WAIT || srv->state == SRV_CLOSED;
}

/* Parses IN_P[IN_POS..IN_N) until it is used up or blocked. */
static void parse(smtp_srv *srv) {
  while (!blocked(srv) && srv->in_pos < srv->in_n) {
    if (srv->state == SRV_DATA) {
      size_t run = data_run(srv, srv->in_p + srv->in_pos, srv->in_n - srv->in_pos);
      if (run) {
        srv->in_pos += run;
        continue;
      }
    }
    if (srv->state != SRV_DATA && !srv->cr) { /* a command line's ordinary octets, at once */
      const uint8_t *p = srv->in_p + srv->in_pos;
      size_t run = find_eol(p, srv->in_n - srv->in_pos, true);
      if (run) {
        size_t room = srv->line->len < SRV_AUTH_MAX ? SRV_AUTH_MAX - srv->line->len : 0;
        smtp_reply_put(srv->line, (const char *)p, MIN(run, room));
        if (run > room)
          srv->line_long = true;
        srv->in_pos += run;
        continue;
      }
    }
    uint8_t b = srv->in_p[srv->in_pos++];
    if (srv->state == SRV_DATA) {
      if (data_byte(srv, b))
        data_done(srv);
      continue;
    }
    if (srv->cr) {
      srv->cr = false;
      if (b == '\n') {
        line_done(srv, false);
        continue;
      }
      srv->line_bare_cr = true;
    }
    if (b == '\r')
      srv->cr = true;
    else if (b == '\n')
      line_done(srv, true);
    else if (b == 0)
      srv->line_nul = true;
    else
      line_byte(srv, b);
  }
}

/* Outside parse(), IN_P/IN_N describe IN. */
static void view_in(smtp_srv *srv) {
  srv->in_p = srv->in->data;
  srv->in_n = srv->in->len;
}

/* Parses what IN holds. */
static void process(smtp_srv *srv) {
  view_in(srv);
  parse(srv);
  if (srv->in_pos >= srv->in->len) {
    bytes_empty(srv->in);
    srv->in_pos = 0;
  } else if (srv->in_pos > 4096) {
    g_byte_array_remove_range(srv->in, 0, (guint)srv->in_pos);
    srv->in_pos = 0;
  }
  view_in(srv);
}

void smtp_srv_feed(smtp_srv *srv, const void *buf, size_t len, int64_t now) {
  g_assert(buf || len == 0);
  srv->now = now;
  if (len == 0)
    return;
  if (srv->state == SRV_CLOSED || srv->state == SRV_TLS_WAIT) {
    /* RFC 3207 §4.2: nothing sent before TLS is up may be acted on. */
    smtp_srv__trace(srv, SMTP_TRACE_NOTE, "discarded %zu input bytes in %s", len,
                    state_names[srv->state]);
    return;
  }
  srv->last_activity = now;
  if (srv->in->len) { /* behind earlier input */
    g_byte_array_append(srv->in, buf, (guint)len);
    srv->grown |= srv->in->len > SMTP_KEEP_MAX;
    process(srv);
    return;
  }
  /* Nothing kept: parse the chunk where it is, keep only what is left. */
  srv->in_p = buf;
  srv->in_n = len;
  srv->in_pos = 0;
  parse(srv);
  if (srv->in_pos < srv->in_n)
    g_byte_array_append(srv->in, srv->in_p + srv->in_pos, (guint)(srv->in_n - srv->in_pos));
  srv->grown |= srv->in->len > SMTP_KEEP_MAX;
  srv->in_pos = 0;
  view_in(srv);
}

bool smtp_srv_want_input(const smtp_srv *srv) {
  return srv->state != SRV_CLOSED && srv->in->len - srv->in_pos < SRV_INPUT_HIGH;
}

/* ---- decisions ---- */

static const char *default_text(smtp_srv_event_type t, int code) {
  bool temp = code < 500;
  switch (t) {
  case SMTP_SRV_EV_DECIDE_CONNECT:
    return temp ? "Service not available, closing transmission channel" : "No SMTP service here";
  case SMTP_SRV_EV_DECIDE_AUTH:
    return temp ? "Error: temporary authentication failure" : "Error: authentication failed";
  default:
    return temp ? "Error: temporarily rejected" : "Error: rejected";
  }
}

bool smtp_srv_answer_decision(smtp_srv *srv, uint64_t id, const smtp_srv_answer *a, int64_t now) {
  g_assert(a);
  g_assert(a->code == 0 || (a->code >= 400 && a->code <= 599));
  if (id == 0 || id != srv->pending_id || srv->state == SRV_CLOSED)
    return false;
  srv->now = now;
  srv->last_activity = now;
  srv->pending_id = 0;
  smtp_srv_event_type t = srv->pending_type;
  bool ok = a->code == 0;
  const char *text = a->text ? a->text : default_text(t, a->code);
  smtp_srv_answer auth_a;
  if (t == SMTP_SRV_EV_DECIDE_AUTH && !ok && !a->esc && a->code == 535) {
    auth_a = *a; /* RFC 4954 §6: 535 5.7.8 Authentication credentials invalid */
    auth_a.esc = "5.7.8";
    a = &auth_a;
  }
  switch (t) {
  case SMTP_SRV_EV_DECIDE_CONNECT:
    if (ok) {
      smtp_srv__reply2(srv, 220, "", srv->hostname, " ESMTP"); /* RFC 5321 §4.3.1 */
      smtp_srv__enter(srv, SRV_HELO);
    } else {
      smtp_srv__reply(srv, a->code, a->esc, text);
      smtp_srv__close(srv, "connection refused");
    }
    break;
  case SMTP_SRV_EV_DECIDE_HELO:
    srv->has_helo = false;
    if (ok) {
      GString *h = srv->helo;
      srv->helo = srv->cand_helo;
      srv->cand_helo = h; /* kept for the next EHLO */
      srv->has_helo = true;
      srv->esmtp = srv->cand_esmtp;
      smtp_srv__helo_reply(srv);
      smtp_srv__enter(srv, SRV_READY);
    } else {
      smtp_srv__reply(srv, a->code, a->esc, text);
      smtp_srv__enter(srv, SRV_HELO);
    }
    break;
  case SMTP_SRV_EV_DECIDE_MAIL:
    if (ok) {
      srv->mail = srv->scratch_mail;
      memset(&srv->scratch_mail, 0, sizeof srv->scratch_mail);
      smtp_srv__reply_lit(srv, 250, "2.1.0", "Ok");
      smtp_srv__enter(srv, SRV_MAIL);
    } else {
      memset(&srv->scratch_mail, 0, sizeof srv->scratch_mail); /* strings in txn_strs */
      smtp_srv__reply(srv, a->code, a->esc, text);
      smtp_srv__enter(srv, SRV_READY);
    }
    break;
  case SMTP_SRV_EV_DECIDE_RCPT:
    if (ok) {
      g_array_append_val(srv->rcpts, srv->cand_rcpt);
      memset(&srv->cand_rcpt, 0, sizeof srv->cand_rcpt);
      smtp_srv__reply_lit(srv, 250, "2.1.5", "Ok");
    } else {
      memset(&srv->cand_rcpt, 0, sizeof srv->cand_rcpt); /* strings in txn_strs */
      smtp_srv__reply(srv, a->code, a->esc, text);
    }
    smtp_srv__enter(srv, srv->rcpts->len ? SRV_RCPT : SRV_MAIL);
    break;
  case SMTP_SRV_EV_DECIDE_AUTH:
    if (ok) {
      smtp_string_renew(&srv->auth_kept, smtp_srv__auth_part(srv, srv->a_user), false);
      srv->auth_user = srv->auth_kept;
      smtp_srv__reply_lit(srv, 235, "2.7.0", "Authentication successful"); /* RFC 4954 §6 */
    } else {
      smtp_srv__reply(srv, a->code, a->esc, text);
    }
    smtp_srv__reset_auth_input(srv);
    smtp_srv__enter(srv, SRV_READY);
    break;
  case SMTP_SRV_EV_DECIDE_MESSAGE:
    if (ok && a->queue_id)
      smtp_srv__reply2(srv, 250, "2.0.0", "Ok: queued as ", a->queue_id);
    else if (ok)
      smtp_srv__reply_lit(srv, 250, "2.0.0", "Ok");
    else
      smtp_srv__reply(srv, a->code, a->esc, text);
    smtp_srv__reset_txn(srv);
    smtp_srv__enter(srv, SRV_READY);
    break;
  default:
    g_assert_not_reached();
  }
  if (a->code == 421) /* RFC 5321 §3.8 */
    smtp_srv__close(srv, "421 reply");
  process(srv);
  return true;
}

bool smtp_srv_accept(smtp_srv *srv, uint64_t id, int64_t now) {
  return smtp_srv_answer_decision(srv, id, &(smtp_srv_answer){0, NULL, NULL, NULL}, now);
}

bool smtp_srv_accept_message(smtp_srv *srv, uint64_t id, const char *queue_id, int64_t now) {
  return smtp_srv_answer_decision(srv, id, &(smtp_srv_answer){0, NULL, NULL, queue_id}, now);
}

bool smtp_srv_reject(smtp_srv *srv, uint64_t id, int code, const char *esc, const char *text,
                     int64_t now) {
  g_assert(code >= 400 && code <= 599);
  return smtp_srv_answer_decision(srv, id, &(smtp_srv_answer){code, esc, text, NULL}, now);
}

bool smtp_srv_reject_relay(smtp_srv *srv, uint64_t id, int64_t now) {
  if (id != srv->pending_id || srv->pending_type != SMTP_SRV_EV_DECIDE_RCPT)
    return false;
  char *text = g_strdup_printf("<%s>: Relay access denied", srv->cand_rcpt.to);
  bool r = smtp_srv_reject(srv, id, srv->cfg.relay_reject_code, "5.7.1", text, now);
  g_free(text);
  return r;
}

void smtp_srv_tls_started(smtp_srv *srv, int64_t now) {
  g_assert(srv->state == SRV_TLS_WAIT);
  srv->now = now;
  srv->last_activity = now;
  srv->tls = true;
  /* RFC 3207 §4.2: discard all knowledge obtained from the client. */
  srv->has_helo = false;
  srv->auth_user = NULL;
  srv->esmtp = false;
  smtp_srv__reset_txn(srv);
  smtp_srv__reset_auth_input(srv);
  smtp_srv__discard_input(srv, "received before TLS");
  smtp_srv__enter(srv, SRV_HELO);
}

/* ---- timers ---- */

int64_t smtp_srv_deadline(const smtp_srv *srv) {
  switch (srv->state) {
  case SRV_HELO:
  case SRV_READY:
  case SRV_AUTH_INPUT:
  case SRV_MAIL:
  case SRV_RCPT:
  case SRV_DATA:
    if (srv->pending_id)
      return SMTP_NO_DEADLINE;
    return srv->last_activity > INT64_MAX - srv->cfg.timeout
               ? SMTP_NO_DEADLINE
               : srv->last_activity + srv->cfg.timeout;
  default:
    return SMTP_NO_DEADLINE;
  }
}

void smtp_srv_tick(smtp_srv *srv, int64_t now) {
  srv->now = now;
  int64_t d = smtp_srv_deadline(srv);
  if (d == SMTP_NO_DEADLINE || now < d)
    return;
  smtp_srv__replyf(srv, 421, "4.4.2", "%s Error: timeout exceeded", srv->hostname);
  smtp_srv__close(srv, "timeout");
}

const char *smtp_srv_helo(const smtp_srv *srv) { return srv->has_helo ? srv->helo->str : NULL; }
const char *smtp_srv_auth_user(const smtp_srv *srv) { return srv->auth_user; }
bool smtp_srv_tls_active(const smtp_srv *srv) { return srv->tls; }
bool smtp_srv_closed(const smtp_srv *srv) { return srv->state == SRV_CLOSED; }
