/* smtp_cli.c — the SMTP client engine.
 *
 * Follows RFC 5321 (§3.1 greeting and 554; §4.1.1.1 EHLO then HELO on a
 * 5xx "command not recognized"; §3.3 the transaction; §4.5.2 dot-stuffing;
 * §2.3.8 CRLF only; §4.2.1 multi-line replies; §4.5.3.2 timeouts; §3.8 a
 * 421 ends the session), RFC 2920 §3 (pipeline MAIL, RCPTs and DATA; after
 * a 354 with no accepted recipient send an empty message), RFC 1870 §6.1
 * (do not send a message larger than the server's SIZE), RFC 6152 (BODY=
 * 8BITMIME for 8-bit data; no 8-bit data to a server without 8BITMIME),
 * RFC 3461 (RET, ENVID, NOTIFY, ORCPT when DSN is offered), RFC 3207 (STARTTLS;
 * discard what arrives before TLS is up; EHLO again after) and RFC 4954 /
 * RFC 4616 (AUTH PLAIN with an initial response, AUTH LOGIN by prompts).
 *
 * Every command sent pushes the tag of the reply it expects on a FIFO; each
 * complete reply pops the head, so pipelined and lock-step sessions share
 * one code path — lock-step just never has more than one tag queued.
 */
#include "smtp_cli.h"
#include "smtp_fifo.h"

#include <stdarg.h>
#include <string.h>

/* Client states. Legal transitions (checked by enter()):
 *   GREETING -> EHLO | QUIT (refused) | CLOSED
 *   EHLO     -> HELO (5xx) | STARTTLS | AUTH | READY | TXN | QUIT | CLOSED
 *   HELO     -> STARTTLS | AUTH | READY | TXN | QUIT | CLOSED
 *   STARTTLS -> TLS_WAIT (220) | AUTH | READY | TXN (refused, opportunistic) | QUIT | CLOSED
 *   TLS_WAIT -> EHLO (TLS up) | CLOSED
 *   AUTH     -> READY | TXN | QUIT | CLOSED
 *   READY    -> TXN | RSET (a message sent after a failed one) | QUIT | CLOSED
 *   TXN      -> TXN (next message) | RSET | READY | QUIT | CLOSED
 *   RSET     -> TXN | READY | QUIT | CLOSED
 *   QUIT     -> CLOSED
 *   CLOSED   -> (none) */
typedef enum {
  CLI_GREETING,
  CLI_EHLO,
  CLI_HELO,
  CLI_STARTTLS,
  CLI_TLS_WAIT,
  CLI_AUTH,
  CLI_READY,
  CLI_TXN,
  CLI_RSET,
  CLI_QUIT,
  CLI_CLOSED,
  CLI__COUNT
} cli_state;

#define B(s) (1u << (s))
#define AFTER_HELO (B(CLI_AUTH) | B(CLI_READY) | B(CLI_TXN) | B(CLI_QUIT) | B(CLI_CLOSED))

static const char *const state_names[CLI__COUNT] = {
    [CLI_GREETING] = "GREETING", [CLI_EHLO] = "EHLO",         [CLI_HELO] = "HELO",
    [CLI_STARTTLS] = "STARTTLS", [CLI_TLS_WAIT] = "TLS_WAIT", [CLI_AUTH] = "AUTH",
    [CLI_READY] = "READY",       [CLI_TXN] = "TXN",           [CLI_RSET] = "RSET",
    [CLI_QUIT] = "QUIT",         [CLI_CLOSED] = "CLOSED",
};

static const unsigned legal[CLI__COUNT] = {
    [CLI_GREETING] = B(CLI_EHLO) | B(CLI_QUIT) | B(CLI_CLOSED),
    [CLI_EHLO] = B(CLI_HELO) | B(CLI_STARTTLS) | AFTER_HELO,
    [CLI_HELO] = B(CLI_STARTTLS) | AFTER_HELO,
    [CLI_STARTTLS] = B(CLI_TLS_WAIT) | AFTER_HELO,
    [CLI_TLS_WAIT] = B(CLI_EHLO) | B(CLI_CLOSED),
    [CLI_AUTH] = AFTER_HELO & ~B(CLI_AUTH),
    [CLI_READY] = B(CLI_TXN) | B(CLI_RSET) | B(CLI_QUIT) | B(CLI_CLOSED),
    [CLI_TXN] = B(CLI_TXN) | B(CLI_RSET) | B(CLI_READY) | B(CLI_QUIT) | B(CLI_CLOSED),
    [CLI_RSET] = B(CLI_TXN) | B(CLI_READY) | B(CLI_QUIT) | B(CLI_CLOSED),
    [CLI_QUIT] = B(CLI_CLOSED),
    [CLI_CLOSED] = 0,
};

/* The reply a sent command waits for. */
typedef enum {
  T_GREETING,
  T_EHLO,
  T_HELO,
  T_STARTTLS,
  T_AUTH,
  T_MAIL,
  T_RCPT,
  T_DATA,
  T_DOT,
  T_RSET,
  T_QUIT
} tag_kind;

typedef struct {
  tag_kind kind;
  size_t idx; /* T_RCPT: recipient index */
} tag;

typedef struct cli_msg {
  smtp_cmd_mail mail;
  smtp_cmd_rcpt *rcpts;
  size_t n;
  guint8 *data;
  size_t len;
  uint64_t cookie;
  smtp_cli_rcpt_result *res;
  bool *final;
  bool mail_ok, empty_body;
  bool crlf_only; /* every line break in DATA is CRLF (smtp_cli_body_scan_dots) */
  bool dots;      /* and a line starts with "." */
  unsigned accepted;
  size_t next_rcpt;
  /* The results' texts, appended at TW (TROOM octets left there): first
   * in room kept at the end of the message's own block, then in blocks of
   * their own (BLOCKS, freed with the message). An outcome's texts are
   * copied once however many recipients share them. */
  char *tw;
  size_t troom;
  struct text_block *blocks;
  struct cli_msg *next; /* the queue of messages (smtp_cli.msgs) */
  size_t cap;           /* the octets of its own block */
} cli_msg;

typedef struct text_block {
  struct text_block *next;
} text_block; /* followed by its text room */

/* The room for results' texts in a message's own block: the usual
 * outcomes ("2.1.5" "Ok" per recipient, then "2.0.0" and "Ok: queued as
 * ..." shared) fit without another allocation. */
#define TEXT_ROOM(n) (48 + 16 * (n))
#define TEXT_BLOCK 256
/* A message block of at most this many octets is kept as the engine's
 * spare (one, across renewals) and reused by the next message that fits;
 * blocks are made in steps of MSG_STEP octets so that the next usually
 * does. */
#define MSG_KEEP_MAX 4096
#define MSG_STEP 256

typedef struct {
  smtp_cli_event_type type;
  cli_msg *msg;
  const char *reason;
} cli_event;

struct smtp_cli {
  smtp_cli_config cfg;
  char *helo_name, *auth_user, *auth_pass;
  smtp_env env;
  cli_state state;
  int64_t now;

  GString *rline; /* reply line being received */
  smtp_reply reply;
  GString *out;
  GString *cmd; /* the command line being built */
  uint64_t out_total, out_consumed;

  smtp_fifo tags; /* tag */
  int64_t head_since;
  uint64_t body_end;
  int64_t body_progress, body_done;

  cli_msg *msgs, **msgs_tail; /* the messages queued, the head being sent */
  smtp_fifo events;           /* cli_event */
  cli_msg *returned;          /* freed on the next next_event */
  cli_msg *spare_msg;         /* an ended message's block (msg_release) */

  unsigned caps;
  uint64_t server_size;
  /* The keyword lines of the last EHLO reply parsed, as they came on the
   * wire (its octets after the first line's LF, through the last line's
   * LF), and what they said: the next reply whose first line is followed
   * by the same octets is not read line by line nor parsed again (a host's
   * sessions meet the same few servers; kept across renewals). Empty when
   * none is kept. */
  GString *caps_text;
  unsigned caps_seen;
  uint64_t size_seen;
  /* During on_reply() of an EHLO reply: CAPS_HIT when its lines after the
   * first were CAPS_TEXT's (not read); else CAPS_WIRE[0..CAPS_WIRE_N) the
   * octets of those lines when all came in one feed, whole (NULL if not). */
  bool caps_hit;
  const char *caps_wire;
  size_t caps_wire_n;
  bool tls, tls_refused, authed, quit_requested, dirty;
  int auth_step;
  const char *close_reason;
  /* Parked (smtp_cli_keep_upto): the next engine of the owner's list, and
   * how many engines the list holds from this one. */
  smtp_cli *next_spare;
  unsigned nspares;
};

/* ---- names ---- */

static const char *const status_names[] = {"OK", "TEMP", "PERM"};
static const char *const stage_names[SMTP_CLI_STAGE__COUNT] = {
    "CONNECT", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "DOT"};
static const char *const event_names[SMTP_CLI_EV__COUNT] = {"RESULT", "STARTTLS", "CLOSE"};

const char *smtp_cli_status_name(smtp_cli_status s) {
  g_assert((unsigned)s < G_N_ELEMENTS(status_names));
  return status_names[s];
}
const char *smtp_cli_stage_name(smtp_cli_stage s) {
  g_assert((unsigned)s < SMTP_CLI_STAGE__COUNT);
  return stage_names[s];
}
const char *smtp_cli_event_type_name(smtp_cli_event_type t) {
  g_assert((unsigned)t < SMTP_CLI_EV__COUNT);
  return event_names[t];
}
const char *smtp_cli_state_name(const smtp_cli *cli) { return state_names[cli->state]; }

G_GNUC_PRINTF(3, 4)
static void trace_out(smtp_cli *cli, smtp_trace_kind kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  cli->env.trace(cli->env.ctx, cli->now, kind, s);
  g_free(s);
}

/* The hook's call; no arguments are worked out when no hook is set (the
 * usual case below protocol detail). */
#define trace(cli, ...) ((cli)->env.trace ? trace_out((cli), __VA_ARGS__) : (void)0)

/* The only place that assigns cli->state. */
static void enter(smtp_cli *cli, cli_state s) {
  g_assert((unsigned)s < CLI__COUNT);
  if (!(legal[cli->state] & B(s)))
    g_error("smtp_cli enter: illegal transition %s -> %s", state_names[cli->state], state_names[s]);
  switch (s) {
  case CLI_GREETING:
  case CLI_EHLO:
  case CLI_HELO:
  case CLI_STARTTLS:
  case CLI_TLS_WAIT:
  case CLI_AUTH:
  case CLI_READY:
  case CLI_TXN:
  case CLI_RSET:
  case CLI_QUIT:
  case CLI_CLOSED:
    break;
  default:
    g_assert_not_reached();
  }
  trace(cli, SMTP_TRACE_STATE, "%s -> %s", state_names[cli->state], state_names[s]);
  cli->state = s;
}

/* ---- lifecycle ---- */

void smtp_cli_config_init(smtp_cli_config *cfg) {
  const int64_t min = INT64_C(60) * 1000000000;
  memset(cfg, 0, sizeof *cfg);
  cfg->helo_name = "localhost";
  cfg->tls = SMTP_CLI_TLS_OPPORTUNISTIC;
  cfg->auth_plain = cfg->auth_login = true;
  cfg->use_pipelining = true;
  cfg->quit_when_idle = true;
  cfg->t_initial = 5 * min;    /* RFC 5321 §4.5.3.2.1 */
  cfg->t_mail = 5 * min;       /* §4.5.3.2.2 */
  cfg->t_rcpt = 5 * min;       /* §4.5.3.2.3 */
  cfg->t_data_init = 2 * min;  /* §4.5.3.2.4 */
  cfg->t_data_block = 3 * min; /* §4.5.3.2.5 */
  cfg->t_data_term = 10 * min; /* §4.5.3.2.6 */
  cfg->t_other = 5 * min;
}

static void push_tag(smtp_cli *cli, tag_kind k, size_t idx) {
  if (smtp_fifo_count(&cli->tags) == 0)
    cli->head_since = cli->now;
  tag *t = smtp_fifo_push(&cli->tags, sizeof *t);
  t->kind = k;
  t->idx = idx;
}

/* The reply the session waits for first, or NULL. */
static const tag *head_tag(const smtp_cli *cli) { return smtp_fifo_peek(&cli->tags, sizeof(tag)); }

/* The session's part of smtp_cli_new: CLI is zeroed but for its buffers,
 * which are empty. */
static void cli_start(smtp_cli *cli, const smtp_cli_config *cfg, const smtp_env *env, int64_t now) {
  g_assert(cfg && cfg->helo_name && !strpbrk(cfg->helo_name, "\r\n"));
  g_assert(!cfg->auth_user || cfg->auth_pass);
  cli->cfg = *cfg;
  /* copies (kept from the session before when a renewal gives the same) */
  smtp_string_renew(&cli->helo_name, cfg->helo_name, false);
  smtp_string_renew(&cli->auth_user, cfg->auth_user, false);
  smtp_string_renew(&cli->auth_pass, cfg->auth_pass, true);
  if (env)
    cli->env = *env;
  cli->now = now;
  cli->state = CLI_GREETING;
  cli->msgs = NULL;
  cli->msgs_tail = &cli->msgs;
  push_tag(cli, T_GREETING, 0);
}

smtp_cli *smtp_cli_new(const smtp_cli_config *cfg, const smtp_env *env, int64_t now) {
  smtp_cli *cli = g_new0(smtp_cli, 1);
  /* Sized for a session's usual lines, so they need no regrowth. */
  cli->rline = g_string_sized_new(128);
  smtp_reply_init(&cli->reply);
  cli->out = g_string_sized_new(256);
  cli->cmd = g_string_sized_new(128);
  cli->caps_text = g_string_new(NULL);
  cli_start(cli, cfg, env, now);
  return cli;
}

/* A result's esc and text before the first outcome, and whenever empty. */
static const char no_text[] = "";

/* A copy of the text T in M's text room (no_text for NULL or ""). */
static const char *msg_text(cli_msg *m, const char *t) {
  if (!t || !*t)
    return no_text;
  size_t n = strlen(t) + 1;
  if (n > m->troom) {
    size_t room = MAX(n, TEXT_BLOCK);
    text_block *b = g_malloc(sizeof *b + room);
    b->next = m->blocks;
    m->blocks = b;
    m->tw = (char *)(b + 1);
    m->troom = room;
  }
  char *r = memcpy(m->tw, t, n);
  m->tw += n;
  m->troom -= n;
  return r;
}

/* A message lives in one block (smtp_cli_send), with the blocks its
 * results' texts overflowed into. */
static void msg_free(cli_msg *m) {
  if (!m)
    return;
  while (m->blocks) {
    text_block *b = m->blocks;
    m->blocks = b->next;
    g_free(b);
  }
  g_free(m);
}

/* M is done with: its block becomes the spare when it is small and
 * larger than the one kept (which is freed: the spare grows to the size
 * the engine's messages need, at most MSG_KEEP_MAX), else it is freed. */
static void msg_release(smtp_cli *cli, cli_msg *m) {
  if (!m)
    return;
  if (m->cap > MSG_KEEP_MAX || (cli->spare_msg && cli->spare_msg->cap >= m->cap)) {
    msg_free(m);
    return;
  }
  if (cli->spare_msg) /* smaller: a block of its own (msg_release cleared it) */
    g_free(cli->spare_msg);
  while (m->blocks) {
    text_block *b = m->blocks;
    m->blocks = b->next;
    g_free(b);
  }
  cli->spare_msg = m;
}

/* Takes the head of the message queue, or NULL. */
static cli_msg *msg_pop(smtp_cli *cli) {
  cli_msg *m = cli->msgs;
  if (m) {
    cli->msgs = m->next;
    if (!cli->msgs)
      cli->msgs_tail = &cli->msgs;
    m->next = NULL;
  }
  return m;
}

/* Frees what CLI's session owns (not its buffers, nor its copies of the
 * config's strings: cli_names_free). */
static void cli_end(smtp_cli *cli) {
  for (cli_msg *m; (m = msg_pop(cli)) != NULL;)
    msg_release(cli, m);
  for (size_t i = 0; i < smtp_fifo_count(&cli->events); i++)
    msg_release(cli, ((cli_event *)smtp_fifo_at(&cli->events, i, sizeof(cli_event)))->msg);
  msg_release(cli, cli->returned);
}

/* Frees CLI's copies of the config's strings. */
static void cli_names_free(smtp_cli *cli) {
  smtp_string_renew(&cli->helo_name, NULL, false);
  smtp_string_renew(&cli->auth_user, NULL, false);
  smtp_string_renew(&cli->auth_pass, NULL, true);
}

static void cli_free1(smtp_cli *cli) {
  cli_end(cli);
  g_free(cli->spare_msg);
  cli_names_free(cli);
  g_string_free(cli->rline, TRUE);
  smtp_reply_clear(&cli->reply);
  g_string_free(cli->out, TRUE);
  g_string_free(cli->cmd, TRUE);
  g_string_free(cli->caps_text, TRUE);
  smtp_fifo_free(&cli->tags);
  smtp_fifo_free(&cli->events);
  g_free(cli);
}

void smtp_cli_free(smtp_cli *cli) {
  while (cli) { /* a parked list: the engines behind it too */
    smtp_cli *next = cli->next_spare;
    cli_free1(cli);
    cli = next;
  }
}

smtp_cli *smtp_cli_renew(smtp_cli *old, const smtp_cli_config *cfg, const smtp_env *env,
                         int64_t now) {
  if (!old)
    return smtp_cli_new(cfg, env, now);
  g_assert(!old->next_spare); /* one engine (smtp_cli_take) */
  cli_end(old);
  smtp_cli kept = {
      .rline = smtp_string_kept(old->rline, 128),
      .reply = old->reply,
      .out = smtp_string_kept(old->out, 256),
      .cmd = smtp_string_kept(old->cmd, 128),
      .helo_name = old->helo_name, /* kept if the new config gives the same (cli_start) */
      .auth_user = old->auth_user,
      .auth_pass = old->auth_pass,
      .caps_text = old->caps_text, /* a cache: its content stays valid */
      .caps_seen = old->caps_seen,
      .size_seen = old->size_seen,
      .tags = old->tags,
      .events = old->events,
      .spare_msg = old->spare_msg,
  };
  kept.reply.text = smtp_string_kept(kept.reply.text, 0);
  smtp_reply_reset(&kept.reply);
  smtp_fifo_kept(&kept.tags);
  smtp_fifo_kept(&kept.events);
  *old = kept;
  cli_start(old, cfg, env, now);
  return old;
}

void smtp_cli_keep_upto(smtp_cli **spares, smtp_cli *cli, unsigned max) {
  if (!cli)
    return;
  g_assert(!cli->next_spare);
  unsigned n = *spares ? (*spares)->nspares : 0;
  if (n >= max) {
    cli_free1(cli);
    return;
  }
  cli->next_spare = *spares;
  cli->nspares = n + 1;
  *spares = cli;
}

void smtp_cli_keep(smtp_cli **spare, smtp_cli *cli) { smtp_cli_keep_upto(spare, cli, 1); }

smtp_cli *smtp_cli_take(smtp_cli **spares) {
  smtp_cli *cli = *spares;
  if (cli) {
    *spares = cli->next_spare;
    cli->next_spare = NULL;
  }
  return cli;
}

/* ---- output ---- */

/* Queues the command LINE[0..N) (no CRLF; LINE[N] is NUL), traced with
 * AUTH secrets masked. No line holds CR or LF: every piece from outside is
 * checked where it comes in (the HELO name at the start, addresses and
 * DSN values in smtp_cli_send; credentials go as base64). */
static void send_cmd_len(smtp_cli *cli, tag_kind k, size_t idx, const char *line, size_t n) {
  if (k == T_AUTH) { /* never trace secrets */
    const char *sp = strchr(line, ' ');
    const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
    if (g_str_has_prefix(line, "AUTH "))
      trace(cli, SMTP_TRACE_SEND, "%.*s%s", (int)(sp2 ? sp2 - line : (long)n), line,
            sp2 ? " ****" : "");
    else
      trace(cli, SMTP_TRACE_SEND, "****");
  } else {
    trace(cli, SMTP_TRACE_SEND, "%s", line);
  }
  smtp_reply_put(cli->out, line, n);
  smtp_reply_put(cli->out, "\r\n", 2);
  cli->out_total += n + 2;
  push_tag(cli, k, idx);
}

/* send_cmd_len of the string LINE. */
static void send_cmd(smtp_cli *cli, tag_kind k, size_t idx, const char *line) {
  send_cmd_len(cli, k, idx, line, strlen(line));
}

/* The command A B (B may be NULL), built in cli->cmd without printf. */
static void send_cmd2(smtp_cli *cli, tag_kind k, size_t idx, const char *a, const char *b) {
  smtp_reply_set(cli->cmd, a);
  if (b)
    smtp_reply_puts(cli->cmd, b);
  send_cmd_len(cli, k, idx, cli->cmd->str, cli->cmd->len);
}

const uint8_t *smtp_cli_output_peek(const smtp_cli *cli, size_t *len) {
  *len = cli->out->len;
  return (const uint8_t *)cli->out->str;
}

static bool head_is(const smtp_cli *cli, tag_kind k) {
  const tag *t = head_tag(cli);
  return t && t->kind == k;
}

void smtp_cli_output_consume(smtp_cli *cli, size_t n, int64_t now) {
  g_assert(n <= cli->out->len);
  cli->now = now;
  if (n == cli->out->len) /* the usual case: all of it, no library call */
    cli->out->str[cli->out->len = 0] = 0;
  else
    g_string_erase(cli->out, 0, (gssize)n);
  bool was_short = cli->out_consumed < cli->body_end;
  cli->out_consumed += n;
  if (head_is(cli, T_DOT) && n > 0) {
    cli->body_progress = now;
    if (was_short && cli->out_consumed >= cli->body_end)
      cli->body_done = now;
  }
}

/* ---- results and events ---- */

static smtp_cli_status class_status(int code) {
  return code >= 500 ? SMTP_CLI_PERM : code >= 400 ? SMTP_CLI_TEMP : SMTP_CLI_OK;
}

/* Recipient I's outcome; ESC and TEXT are M's copies already (msg_text). */
static void put_result(cli_msg *m, size_t i, smtp_cli_status st, smtp_cli_stage stage, bool local,
                       int code, const char *esc, const char *text, bool final) {
  smtp_cli_rcpt_result *r = &m->res[i];
  r->status = st;
  r->stage = stage;
  r->local = local;
  r->code = code;
  r->esc = esc;
  r->text = text;
  m->final[i] = final;
}

static void set_result(cli_msg *m, size_t i, smtp_cli_status st, smtp_cli_stage stage, bool local,
                       int code, const char *esc, const char *text, bool final) {
  put_result(m, i, st, stage, local, code, msg_text(m, esc), msg_text(m, text), final);
}

/* Sets every unfinished recipient of M to the given outcome. */
static void fail_rest(cli_msg *m, smtp_cli_status st, smtp_cli_stage stage, bool local, int code,
                      const char *esc, const char *text) {
  const char *e = NULL, *t = NULL; /* copied at the first recipient concerned */
  for (size_t i = 0; i < m->n; i++) {
    if (m->final[i])
      continue;
    if (!t) {
      e = msg_text(m, esc);
      t = msg_text(m, text);
    }
    put_result(m, i, st, stage, local, code, e, t, true);
  }
}

static void fail_rest_reply(cli_msg *m, smtp_cli_stage stage, const smtp_reply *r) {
  fail_rest(m, class_status(r->code), stage, false, r->code, r->esc, r->text->str);
}

/* Moves M (no longer queued) into a RESULT event. */
static void emit_result(smtp_cli *cli, cli_msg *m) {
  fail_rest(m, SMTP_CLI_TEMP, SMTP_CLI_STAGE_DOT, true, 0, "", "transaction not completed");
  cli_event *ev = smtp_fifo_push(&cli->events, sizeof *ev);
  *ev = (cli_event){SMTP_CLI_EV_RESULT, m, NULL};
  trace(cli, SMTP_TRACE_NOTE, "message %" G_GUINT64_FORMAT " done", m->cookie);
}

static void emit(smtp_cli *cli, smtp_cli_event_type t, const char *reason) {
  cli_event *ev = smtp_fifo_push(&cli->events, sizeof *ev);
  *ev = (cli_event){t, NULL, reason};
}

bool smtp_cli_next_event(smtp_cli *cli, smtp_cli_event *ev) {
  msg_release(cli, cli->returned);
  cli->returned = NULL;
  cli_event e;
  if (!smtp_fifo_pop(&cli->events, &e, sizeof e))
    return false;
  memset(ev, 0, sizeof *ev);
  ev->type = e.type;
  ev->reason = e.reason;
  if (e.msg) {
    cli_msg *m = e.msg;
    cli->returned = m;
    ev->cookie = m->cookie;
    ev->rcpts = m->res;
    ev->nrcpts = m->n;
    for (size_t i = 0; i < m->n; i++) {
      ev->n_ok += m->res[i].status == SMTP_CLI_OK;
      ev->n_temp += m->res[i].status == SMTP_CLI_TEMP;
      ev->n_perm += m->res[i].status == SMTP_CLI_PERM;
    }
  }
  return true;
}

static smtp_cli_stage session_stage(const smtp_cli *cli) {
  const tag *head = head_tag(cli);
  if (head) {
    switch (head->kind) {
    case T_GREETING:
      return SMTP_CLI_STAGE_CONNECT;
    case T_EHLO:
    case T_HELO:
      return SMTP_CLI_STAGE_HELO;
    case T_STARTTLS:
      return SMTP_CLI_STAGE_STARTTLS;
    case T_AUTH:
      return SMTP_CLI_STAGE_AUTH;
    case T_RCPT:
      return SMTP_CLI_STAGE_RCPT;
    case T_DATA:
      return SMTP_CLI_STAGE_DATA;
    case T_DOT:
      return SMTP_CLI_STAGE_DOT;
    default:
      return SMTP_CLI_STAGE_MAIL;
    }
  }
  switch (cli->state) {
  case CLI_GREETING:
    return SMTP_CLI_STAGE_CONNECT;
  case CLI_EHLO:
  case CLI_HELO:
    return SMTP_CLI_STAGE_HELO;
  case CLI_STARTTLS:
  case CLI_TLS_WAIT:
    return SMTP_CLI_STAGE_STARTTLS;
  case CLI_AUTH:
    return SMTP_CLI_STAGE_AUTH;
  default:
    return SMTP_CLI_STAGE_MAIL;
  }
}

static void close_now(smtp_cli *cli, const char *reason) {
  if (cli->state == CLI_CLOSED)
    return;
  smtp_fifo_clear(&cli->tags);
  enter(cli, CLI_CLOSED);
  emit(cli, SMTP_CLI_EV_CLOSE, cli->close_reason ? cli->close_reason : reason);
}

/* Ends the session: every unfinished message gets STATUS (from CODE when
 * it is a reply, TEMP when local), then QUIT (SEND_QUIT) or close. */
static void abort_session(smtp_cli *cli, bool local, int code, const char *esc, const char *text,
                          bool send_quit, const char *reason) {
  smtp_cli_stage stage = session_stage(cli);
  smtp_cli_status st = local ? SMTP_CLI_TEMP : class_status(code);
  cli_msg *m;
  while ((m = msg_pop(cli)) != NULL) {
    fail_rest(m, st, stage, local, code, esc, text);
    emit_result(cli, m);
  }
  smtp_fifo_clear(&cli->tags);
  cli->close_reason = reason;
  if (send_quit && cli->state != CLI_QUIT) {
    enter(cli, CLI_QUIT);
    send_cmd(cli, T_QUIT, 0, "QUIT");
  } else {
    close_now(cli, reason);
  }
}

/* ---- session steps ---- */

static void start_txn(smtp_cli *cli, cli_msg *m);

/* After HELO/EHLO, STARTTLS or AUTH, or a finished transaction. */
static void next_step(smtp_cli *cli) {
  cli_msg *m = cli->msgs;
  if (m && cli->dirty) {
    cli->dirty = false;
    if (cli->state != CLI_RSET)
      enter(cli, CLI_RSET);
    send_cmd(cli, T_RSET, 0, "RSET");
    return;
  }
  if (m) {
    start_txn(cli, m);
    return;
  }
  if (cli->cfg.quit_when_idle || cli->quit_requested) {
    enter(cli, CLI_QUIT);
    send_cmd(cli, T_QUIT, 0, "QUIT");
    return;
  }
  if (cli->state != CLI_READY)
    enter(cli, CLI_READY);
}

static void auth_or_go(smtp_cli *cli) {
  if (cli->auth_user && !cli->authed) {
    cli->auth_step = 0;
    if ((cli->caps & SMTP_CLI_CAP_AUTH_PLAIN) && cli->cfg.auth_plain) {
      /* RFC 4616 §2, RFC 4954 §4: PLAIN with an initial response */
      size_t un = strlen(cli->auth_user), pn = strlen(cli->auth_pass), rn = un + pn + 2;
      char stack[256]; /* the usual credentials: no allocation */
      char *raw = rn <= sizeof stack ? stack : g_malloc(rn);
      raw[0] = 0;
      memcpy(raw + 1, cli->auth_user, un + 1);
      memcpy(raw + un + 2, cli->auth_pass, pn);
      /* "AUTH PLAIN " and the base64 written straight into the command */
      GString *c = cli->cmd;
      smtp_reply_set(c, "AUTH PLAIN ");
      size_t at = c->len;
      g_string_set_size(c, at + (rn / 3 + 1) * 4 + 4);
      gint state = 0, save = 0;
      size_t w = g_base64_encode_step((const guchar *)raw, rn, FALSE, c->str + at, &state, &save);
      w += g_base64_encode_close(FALSE, c->str + at + w, &state, &save);
      c->str[c->len = at + w] = 0;
      memset(raw, 0, rn);
      if (raw != stack)
        g_free(raw);
      enter(cli, CLI_AUTH);
      cli->auth_step = 2; /* a 334 now can only be answered with "*" */
      send_cmd_len(cli, T_AUTH, 0, c->str, c->len);
      return;
    }
    if ((cli->caps & SMTP_CLI_CAP_AUTH_LOGIN) && cli->cfg.auth_login) {
      enter(cli, CLI_AUTH);
      send_cmd(cli, T_AUTH, 0, "AUTH LOGIN");
      return;
    }
    abort_session(cli, true, 0, "", "AUTH configured but no usable mechanism offered", true,
                  "no auth");
    return;
  }
  next_step(cli);
}

static void after_helo(smtp_cli *cli) {
  if (!cli->tls && !cli->tls_refused && cli->cfg.tls != SMTP_CLI_TLS_NEVER &&
      (cli->caps & SMTP_CLI_CAP_STARTTLS)) {
    enter(cli, CLI_STARTTLS);
    send_cmd(cli, T_STARTTLS, 0, "STARTTLS");
    return;
  }
  if (!cli->tls && cli->cfg.tls == SMTP_CLI_TLS_REQUIRED) {
    abort_session(cli, true, 0, "", "TLS required but not available", true, "no tls");
    return;
  }
  auth_or_go(cli);
}

/* Whether the word W[0..N) is KEY (upper case), ignoring ASCII case. */
static bool word_is(const char *w, size_t n, const char *key) {
  size_t i = 0;
  for (; i < n && key[i]; i++) /* inline: an EHLO reply asks this ~10 times a line */
    if ((w[i] >= 'a' && w[i] <= 'z' ? w[i] - 'a' + 'A' : w[i]) != key[i])
      return false;
  return i == n && key[i] == 0;
}

/* The length of the word at W, ended by SP, "=" or END. */
static size_t word_len(const char *w, const char *end) {
  const char *q = w;
  while (q < end && *q != ' ' && *q != '=')
    q++;
  return (size_t)(q - w);
}

/* Whether W[0..N) is the keyword KEY (an upper-case literal): its length
 * first, then the usual upper-case spelling by a fixed-size memcmp. */
#define WORD_IS(w, n, key)                                                                         \
  ((n) == sizeof(key) - 1 && (memcmp(w, key, sizeof(key) - 1) == 0 || word_is(w, n, key)))

#define CLI_CAPS_KEEP_MAX 1024 /* the longest EHLO text whose reading is kept */

static void parse_caps_text(smtp_cli *cli, const char *text, size_t tn);

/* The EHLO reply's lines after the first: a keyword, then parameters
 * separated by SP (or "=", as some servers write "AUTH=LOGIN"). The text
 * is read up to its first NUL. What they said is a function of their
 * octets on the wire alone (the reply code is theirs, the enhanced code
 * each may carry is dropped): kept with those octets when the text has no
 * NUL, and taken from there when the same octets come again (caps_hit). */
static void parse_caps(smtp_cli *cli, const char *text) {
  if (cli->caps_hit) { /* the same lines as last time: not read (smtp_cli_feed) */
    cli->caps = cli->caps_seen;
    cli->server_size = cli->size_seen;
    return;
  }
  size_t tn = strlen(text);
  cli->caps = 0;
  cli->server_size = 0;
  parse_caps_text(cli, text, tn);
  if (cli->caps_wire && cli->caps_wire_n <= CLI_CAPS_KEEP_MAX && tn == cli->reply.text->len) {
    g_string_truncate(cli->caps_text, 0);
    g_string_append_len(cli->caps_text, cli->caps_wire, (gssize)cli->caps_wire_n);
    cli->caps_seen = cli->caps;
    cli->size_seen = cli->server_size;
  }
}

/* Reads the EHLO keywords of TEXT[0..TN) into cli->caps and server_size. */
static void parse_caps_text(smtp_cli *cli, const char *text, size_t tn) {
  const char *end = text + tn;
  const char *l = memchr(text, '\n', (size_t)(end - text));
  while (l) {
    l++;
    const char *eol = memchr(l, '\n', (size_t)(end - l));
    const char *lend = eol ? eol : end;
    size_t ln = (size_t)(lend - l);
    size_t kn = word_len(l, lend);
    const char *rest = l + kn; /* at the delimiter after the keyword, or the line end */
    char k0 = kn ? g_ascii_toupper(l[0]) : 0; /* tried first: most keywords are not asked */
    if (k0 == 'P' && WORD_IS(l, kn, "PIPELINING")) {
      cli->caps |= SMTP_CLI_CAP_PIPELINING;
    } else if (k0 == 'S' && WORD_IS(l, kn, "SIZE")) {
      cli->caps |= SMTP_CLI_CAP_SIZE;
      if (kn < ln) {
        size_t vn = word_len(rest + 1, lend);
        char buf[32];
        if (vn < sizeof buf) { /* the usual value: no copy on the heap */
          memcpy(buf, rest + 1, vn);
          buf[vn] = 0;
          cli->server_size = g_ascii_strtoull(buf, NULL, 10);
        } else {
          char *v = g_strndup(rest + 1, vn);
          cli->server_size = g_ascii_strtoull(v, NULL, 10);
          g_free(v);
        }
      }
    } else if (k0 == '8' && WORD_IS(l, kn, "8BITMIME")) {
      cli->caps |= SMTP_CLI_CAP_8BITMIME;
    } else if (k0 == 'E' && WORD_IS(l, kn, "ENHANCEDSTATUSCODES")) {
      cli->caps |= SMTP_CLI_CAP_ENHANCEDSTATUSCODES;
    } else if (k0 == 'S' && WORD_IS(l, kn, "STARTTLS")) {
      cli->caps |= SMTP_CLI_CAP_STARTTLS;
    } else if (k0 == 'D' && WORD_IS(l, kn, "DSN")) {
      cli->caps |= SMTP_CLI_CAP_DSN;
    } else if (k0 == 'A' && WORD_IS(l, kn, "AUTH")) {
      for (const char *w = rest; w < lend;) {
        w++; /* the delimiter */
        size_t wn = word_len(w, lend);
        if (WORD_IS(w, wn, "PLAIN"))
          cli->caps |= SMTP_CLI_CAP_AUTH_PLAIN;
        else if (WORD_IS(w, wn, "LOGIN"))
          cli->caps |= SMTP_CLI_CAP_AUTH_LOGIN;
        w += wn;
      }
    }
    l = eol;
  }
}

static bool pipelining(const smtp_cli *cli) {
  return cli->cfg.use_pipelining && (cli->caps & SMTP_CLI_CAP_PIPELINING);
}

static void send_rcpt(smtp_cli *cli, cli_msg *m, size_t i) {
  GString *p = cli->cmd;
  smtp_reply_set(p, "RCPT TO:<");
  smtp_reply_puts(p, m->rcpts[i].to);
  smtp_reply_put(p, ">", 1);
  if (cli->caps & SMTP_CLI_CAP_DSN) {
    unsigned nt = m->rcpts[i].notify;
    if (nt) {
      smtp_reply_puts(p, " NOTIFY=");
      if (nt & SMTP_NOTIFY_NEVER) {
        smtp_reply_puts(p, "NEVER");
      } else {
        if (nt & SMTP_NOTIFY_SUCCESS)
          smtp_reply_puts(p, "SUCCESS,");
        if (nt & SMTP_NOTIFY_FAILURE)
          smtp_reply_puts(p, "FAILURE,");
        if (nt & SMTP_NOTIFY_DELAY)
          smtp_reply_puts(p, "DELAY,");
      }
      if (p->str[p->len - 1] == ',')
        p->str[--p->len] = 0;
    }
    if (m->rcpts[i].orcpt) {
      smtp_reply_puts(p, " ORCPT=");
      smtp_reply_puts(p, m->rcpts[i].orcpt);
    }
  }
  send_cmd_len(cli, T_RCPT, i, p->str, p->len);
}

static void finish_txn(smtp_cli *cli) {
  cli_msg *m = msg_pop(cli);
  g_assert(m);
  emit_result(cli, m);
  next_step(cli);
}

static void start_txn(smtp_cli *cli, cli_msg *m) {
  enter(cli, CLI_TXN);
  m->mail_ok = false;
  m->accepted = 0;
  m->next_rcpt = 0;
  /* RFC 1870 §6.1: refuse locally */
  bool eight;
  uint64_t size = smtp_cli_body_scan_8bit(m->data, m->len, &m->crlf_only, &m->dots, &eight);
  if (cli->server_size && size > cli->server_size) {
    fail_rest(m, SMTP_CLI_PERM, SMTP_CLI_STAGE_MAIL, true, 552, "5.3.4",
              "message size exceeds the server's fixed limit");
    finish_txn(cli);
    return;
  }
  if (eight && !(cli->caps & SMTP_CLI_CAP_8BITMIME)) { /* RFC 6152 §3 */
    fail_rest(m, SMTP_CLI_PERM, SMTP_CLI_STAGE_MAIL, true, 554, "5.6.3",
              "8-bit message and the server does not offer 8BITMIME");
    finish_txn(cli);
    return;
  }
  size_t live = 0;
  for (size_t i = 0; i < m->n; i++)
    live += !m->final[i]; /* recipients refused locally are not sent */
  if (live == 0) {
    finish_txn(cli);
    return;
  }
  GString *p = cli->cmd;
  smtp_reply_set(p, "MAIL FROM:<");
  smtp_reply_puts(p, m->mail.from);
  smtp_reply_put(p, ">", 1);
  if (cli->caps & SMTP_CLI_CAP_SIZE) {
    char num[24], *e = num + sizeof num, *d = e;
    uint64_t v = size;
    do
      *--d = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    smtp_reply_puts(p, " SIZE=");
    smtp_reply_put(p, d, (size_t)(e - d));
  }
  if (eight)
    smtp_reply_puts(p, " BODY=8BITMIME");
  if (cli->caps & SMTP_CLI_CAP_DSN) {
    if (m->mail.ret)
      smtp_reply_puts(p, m->mail.ret == SMTP_RET_FULL ? " RET=FULL" : " RET=HDRS");
    if (m->mail.envid) {
      smtp_reply_puts(p, " ENVID=");
      smtp_reply_puts(p, m->mail.envid);
    }
  }
  send_cmd_len(cli, T_MAIL, 0, p->str, p->len);
  if (pipelining(cli)) { /* RFC 2920 §3.1 */
    for (size_t i = 0; i < m->n; i++)
      if (!m->final[i])
        send_rcpt(cli, m, i);
    send_cmd(cli, T_DATA, 0, "DATA");
    m->next_rcpt = m->n;
  }
}

/* ---- replies ---- */

/* The next lock-step command after a RCPT reply (or MAIL for the first). */
static void lockstep_after_rcpt(smtp_cli *cli, cli_msg *m) {
  while (m->next_rcpt < m->n && m->final[m->next_rcpt])
    m->next_rcpt++;
  if (m->next_rcpt < m->n) {
    send_rcpt(cli, m, m->next_rcpt++);
  } else if (m->accepted > 0) {
    send_cmd(cli, T_DATA, 0, "DATA");
  } else {
    cli->dirty = true; /* MAIL was accepted: reset before the next one */
    finish_txn(cli);
  }
}

static void on_txn_reply(smtp_cli *cli, tag t, const smtp_reply *r) {
  cli_msg *m = cli->msgs;
  g_assert(m);
  bool ok = r->code >= 200 && r->code < 300;
  /* RFC 5321 §4.3.2: only DATA may get 354, and DATA only 354 or a failure */
  if ((t.kind == T_DATA) ? ok : (r->code >= 300 && r->code < 400)) {
    abort_session(cli, true, 0, "", "protocol error: unexpected reply", false, "protocol error");
    return;
  }
  switch (t.kind) {
  case T_MAIL:
    m->mail_ok = ok;
    if (!ok)
      fail_rest_reply(m, SMTP_CLI_STAGE_MAIL, r);
    if (!pipelining(cli)) {
      if (ok)
        lockstep_after_rcpt(cli, m);
      else
        finish_txn(cli);
    }
    break;
  case T_RCPT:
    if (m->mail_ok) {
      set_result(m, t.idx, class_status(r->code), SMTP_CLI_STAGE_RCPT, false, r->code, r->esc,
                 r->text->str, !ok);
      m->accepted += ok;
    }
    if (!pipelining(cli))
      lockstep_after_rcpt(cli, m);
    break;
  case T_DATA:
    if (r->code == 354) {
      bool real = m->mail_ok && m->accepted > 0;
      /* RFC 2920 §3.1: 354 with no recipient accepted: send an empty message */
      size_t before = cli->out->len;
      if (real && m->crlf_only && !m->dots) /* the scan at MAIL: nothing to change */
        smtp_cli_encode_plain_body(cli->out, m->data, m->len);
      else if (real && m->crlf_only) /* only CRLF line breaks */
        smtp_cli_encode_crlf_body(cli->out, m->data, m->len);
      else
        smtp_cli_encode_body(cli->out, real ? m->data : NULL, real ? m->len : 0);
      size_t body_len = cli->out->len - before;
      m->empty_body = !real;
      cli->out_total += body_len;
      cli->body_end = cli->out_total;
      cli->body_progress = cli->now;
      cli->body_done = cli->out_consumed >= cli->body_end ? cli->now : 0;
      trace(cli, SMTP_TRACE_NOTE, "message data: %zu octets", body_len);
      push_tag(cli, T_DOT, 0);
      cli->head_since = cli->now;
    } else {
      if (m->mail_ok)
        fail_rest_reply(m, SMTP_CLI_STAGE_DATA, r);
      cli->dirty = m->mail_ok;
      finish_txn(cli);
    }
    break;
  case T_DOT:
    if (!m->empty_body)
      fail_rest_reply(m, SMTP_CLI_STAGE_DOT, r);
    finish_txn(cli);
    break;
  default:
    g_assert_not_reached();
  }
}

static void on_reply(smtp_cli *cli, const smtp_reply *r) {
  tag t;
  if (!smtp_fifo_pop(&cli->tags, &t, sizeof t)) { /* nothing asked */
    if (r->code == 421)
      abort_session(cli, false, r->code, r->esc, r->text->str, false, "421");
    else
      abort_session(cli, true, 0, "", "protocol error: unexpected reply", false, "protocol error");
    return;
  }
  cli->head_since = cli->now;
  if (r->code == 421 && t.kind != T_QUIT) { /* RFC 5321 §3.8: the server is going away */
    abort_session(cli, false, r->code, r->esc, r->text->str, false, "421");
    return;
  }
  bool ok = r->code >= 200 && r->code < 300;
  switch (t.kind) {
  case T_GREETING:
    if (!ok) { /* RFC 5321 §3.1: 554 — QUIT and go */
      abort_session(cli, false, r->code, r->esc, r->text->str, true, "greeting refused");
      return;
    }
    enter(cli, CLI_EHLO);
    send_cmd2(cli, T_EHLO, 0, "EHLO ", cli->helo_name);
    break;
  case T_EHLO:
    if (ok) {
      parse_caps(cli, r->text->str);
      after_helo(cli);
    } else if (r->code >= 500) { /* RFC 5321 §4.1.1.1: fall back to HELO */
      enter(cli, CLI_HELO);
      send_cmd2(cli, T_HELO, 0, "HELO ", cli->helo_name);
    } else {
      abort_session(cli, false, r->code, r->esc, r->text->str, true, "helo refused");
    }
    break;
  case T_HELO:
    if (!ok) {
      abort_session(cli, false, r->code, r->esc, r->text->str, true, "helo refused");
      return;
    }
    cli->caps = 0;
    cli->server_size = 0;
    after_helo(cli);
    break;
  case T_STARTTLS:
    if (r->code == 220) {
      enter(cli, CLI_TLS_WAIT);
      emit(cli, SMTP_CLI_EV_STARTTLS, NULL);
    } else if (cli->cfg.tls == SMTP_CLI_TLS_REQUIRED) {
      abort_session(cli, false, r->code >= 500 ? 450 : r->code, r->esc, r->text->str, true,
                    "starttls refused");
    } else {
      cli->tls_refused = true;
      auth_or_go(cli);
    }
    break;
  case T_AUTH:
    if (r->code == 334) {
      const char *v = cli->auth_step == 0 ? cli->auth_user : cli->auth_pass;
      if (cli->auth_step >= 2) { /* RFC 4954 §4: "*" cancels */
        send_cmd(cli, T_AUTH, 0, "*");
        break;
      }
      char *b64 = g_base64_encode((const guchar *)v, strlen(v));
      cli->auth_step++;
      send_cmd(cli, T_AUTH, 0, b64);
      g_free(b64);
    } else if (r->code == 235) {
      cli->authed = true;
      next_step(cli);
    } else {
      abort_session(cli, false, r->code, r->esc, r->text->str, true, "auth failed");
    }
    break;
  case T_MAIL:
  case T_RCPT:
  case T_DATA:
  case T_DOT:
    on_txn_reply(cli, t, r);
    break;
  case T_RSET:
    if (!ok)
      abort_session(cli, false, r->code, r->esc, r->text->str, true, "rset refused");
    else
      next_step(cli);
    break;
  case T_QUIT:
    close_now(cli, "quit");
    break;
  default:
    g_assert_not_reached();
  }
}

/* ---- input ---- */

#define CLI_LINE_MAX 4096

/* Whether the reply being read answers EHLO. */
static bool ehlo_head(const smtp_cli *cli) {
  const tag *t = smtp_fifo_count(&cli->tags) ? smtp_fifo_peek(&cli->tags, sizeof *t) : NULL;
  return t && t->kind == T_EHLO;
}

/* After the first line LINE[0..N) of an EHLO reply (read in place, more to
 * come): how many octets of IN[0..LEN) are the kept keyword lines
 * (caps_text), 0 when they are not. They would be read as they were the
 * last time: the same code (each line must repeat the first's), no NUL in
 * the first line's text (the keywords are read up to one), the same octets
 * (so the same lines, each whole and within CLI_LINE_MAX, the same count). */
static size_t caps_lines_again(const smtp_cli *cli, const char *in, size_t len, const char *line,
                               size_t n) {
  const GString *kept = cli->caps_text;
  if (kept->len == 0 || kept->len > len || memcmp(kept->str, line, 3) != 0 || memchr(line, 0, n) ||
      memcmp(kept->str, in, kept->len) != 0)
    return 0;
  return kept->len;
}

/* The RECV trace of the lines IN[0..LEN) (each ending with an LF) read at
 * once, as smtp_cli_feed() writes it line by line. */
static void trace_lines(smtp_cli *cli, const char *in, size_t len) {
  if (!cli->env.trace)
    return;
  for (size_t i = 0; i < len;) {
    const char *lf = memchr(in + i, '\n', len - i);
    g_assert(lf);
    size_t n = (size_t)(lf - in) - i;
    if (n && in[i + n - 1] == '\r')
      n--;
    trace_out(cli, SMTP_TRACE_RECV, "%.*s", (int)n, in + i);
    i = (size_t)(lf - in) + 1;
  }
}

void smtp_cli_feed(smtp_cli *cli, const void *buf, size_t len, int64_t now) {
  g_assert(buf || len == 0);
  cli->now = now;
  const char *p = buf;
  size_t i = 0;
  size_t ehlo_from = SIZE_MAX; /* where the lines after an EHLO reply's first begin in BUF */
  while (i < len) {
    if (cli->state == CLI_CLOSED || cli->state == CLI_TLS_WAIT) {
      trace(cli, SMTP_TRACE_NOTE, "discarded %zu input bytes in %s", len - i,
            state_names[cli->state]); /* RFC 3207 §4.2 */
      g_string_truncate(cli->rline, 0);
      return;
    }
    const char *lf = memchr(p + i, '\n', len - i);
    size_t end = lf ? (size_t)(lf - p) : len;
    size_t room = CLI_LINE_MAX - cli->rline->len;
    if (end - i > room) { /* the octet after a full line is refused, and ends the session */
      smtp_reply_put(cli->rline, (const char *)p + i, room);
      i += room + 1;
      abort_session(cli, true, 0, "", "protocol error: reply line too long", false,
                    "protocol error");
      continue;
    }
    const char *line = p + i; /* a whole line in BUF is read where it is */
    size_t n = end - i;
    if (!lf || cli->rline->len) {
      smtp_reply_put(cli->rline, line, n);
      line = cli->rline->str;
      n = cli->rline->len;
    }
    i = end;
    if (!lf)
      break;
    i++;
    if (n && line[n - 1] == '\r')
      n--;
    bool in_place = line != cli->rline->str;
    trace(cli, SMTP_TRACE_RECV, "%.*s", (int)n, line);
    smtp_reply_status st = smtp_reply_feed_line(&cli->reply, line, n);
    cli->rline->str[cli->rline->len = 0] = 0;
    if (st == SMTP_REPLY_BAD) {
      ehlo_from = SIZE_MAX;
      abort_session(cli, true, 0, "", "protocol error: bad reply line", false, "protocol error");
    } else if (st == SMTP_REPLY_COMPLETE) {
      if (ehlo_from != SIZE_MAX && in_place) { /* an EHLO reply's lines, all here */
        cli->caps_wire = p + ehlo_from;
        cli->caps_wire_n = i - ehlo_from;
      }
      ehlo_from = SIZE_MAX;
      on_reply(cli, &cli->reply);
      cli->caps_wire = NULL;
      smtp_reply_reset(&cli->reply);
    } else if (!in_place) {
      ehlo_from = SIZE_MAX;
    } else if (cli->reply.nlines == 1 && ehlo_head(cli)) {
      size_t k = caps_lines_again(cli, p + i, len - i, line, n);
      if (k) { /* the lines after this one are the kept ones: as if read */
        trace_lines(cli, p + i, k);
        i += k;
        cli->caps_hit = true;
        on_reply(cli, &cli->reply);
        cli->caps_hit = false;
        smtp_reply_reset(&cli->reply);
      } else {
        ehlo_from = i;
      }
    }
  }
}

/* ---- the owner's calls ---- */

/* Copies S (may be NULL) to *W, which moves past it; returns the copy. */
static char *copy_into(char **w, const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *r = memcpy(*w, s, n);
  *w += n;
  return r;
}

void smtp_cli_send(smtp_cli *cli, const smtp_cli_message *msg, int64_t now) {
  g_assert(msg && msg->mail && msg->mail->from && (msg->rcpts || msg->nrcpts == 0));
  cli->now = now;
  /* One block: the message, its recipients and results, the data and
   * every string copied (the pointer-aligned parts first). */
  size_t n = msg->nrcpts;
  size_t strs = strlen(msg->mail->from) + 1 + (msg->mail->envid ? strlen(msg->mail->envid) + 1 : 0);
  for (size_t i = 0; i < n; i++)
    strs += (msg->rcpts[i].to ? strlen(msg->rcpts[i].to) + 1 : 0) +
            (msg->rcpts[i].orcpt ? strlen(msg->rcpts[i].orcpt) + 1 : 0);
  size_t head = sizeof(cli_msg) + n * (sizeof(smtp_cmd_rcpt) + sizeof(smtp_cli_rcpt_result));
  size_t size = head + n * sizeof(bool) + msg->len + strs + TEXT_ROOM(n);
  cli_msg *m;
  if (cli->spare_msg && cli->spare_msg->cap >= size) { /* the spare fits */
    m = g_steal_pointer(&cli->spare_msg);
    size = m->cap;
  } else {
    if (size <= MSG_KEEP_MAX)
      size = (size + MSG_STEP - 1) / MSG_STEP * MSG_STEP;
    m = g_malloc(size);
  }
  /* Zeroed up to the data only: the rest is written over. */
  memset(m, 0, head + n * sizeof(bool));
  m->cap = size;
  m->n = n;
  m->rcpts = (smtp_cmd_rcpt *)(void *)(m + 1);
  m->res = (smtp_cli_rcpt_result *)(void *)(m->rcpts + n);
  m->final = (bool *)((char *)m + head);
  m->data = (guint8 *)(m->final + n);
  char *w = (char *)m->data + msg->len;
  m->mail.from = copy_into(&w, msg->mail->from);
  m->mail.ret = msg->mail->ret;
  m->mail.envid = copy_into(&w, msg->mail->envid);
  for (size_t i = 0; i < m->n; i++) {
    m->rcpts[i].to = copy_into(&w, msg->rcpts[i].to);
    m->rcpts[i].notify = msg->rcpts[i].notify;
    m->rcpts[i].orcpt = copy_into(&w, msg->rcpts[i].orcpt);
    m->res[i].rcpt = m->rcpts[i].to;
    m->res[i].esc = m->res[i].text = no_text;
  }
  m->tw = w;
  m->troom = TEXT_ROOM(n);
  /* Addresses come from outside (scenarios, earlier hops): never let one
   * inject a line; refuse it as a server would (RFC 5321 §4.1.2). */
  for (size_t i = 0; i < m->n; i++) {
    const char *to = m->rcpts[i].to, *oc = m->rcpts[i].orcpt;
    bool ok = to && (smtp_cmd_mailbox_valid(to) || smtp_cmd_ieq(to, "postmaster"));
    for (const char *q = oc; ok && q && *q; q++)
      ok = *q > 32 && *q < 127;
    if (!ok)
      set_result(m, i, SMTP_CLI_PERM, SMTP_CLI_STAGE_RCPT, true, 553, "5.1.3",
                 "bad recipient address syntax", true);
  }
  const char *envid = m->mail.envid;
  if ((*m->mail.from && !smtp_cmd_mailbox_valid(m->mail.from)) ||
      (envid && (strlen(envid) > 100 || !smtp_cmd_xtext_valid(envid))))
    fail_rest(m, SMTP_CLI_PERM, SMTP_CLI_STAGE_MAIL, true, 553, "5.1.7",
              "bad sender address or ENVID syntax");
  if (msg->len)
    memcpy(m->data, msg->data, msg->len);
  m->len = msg->len;
  m->cookie = msg->cookie;
  if (cli->state == CLI_QUIT || cli->state == CLI_CLOSED) {
    fail_rest(m, SMTP_CLI_TEMP, SMTP_CLI_STAGE_CONNECT, true, 0, "", "session closed");
    emit_result(cli, m);
    return;
  }
  *cli->msgs_tail = m; /* queued (m->next is NULL: zeroed) */
  cli->msgs_tail = &m->next;
  if (cli->state == CLI_READY)
    next_step(cli);
}

void smtp_cli_quit(smtp_cli *cli, int64_t now) {
  cli->now = now;
  cli->quit_requested = true;
  if (cli->state == CLI_READY)
    next_step(cli);
}

void smtp_cli_tls_started(smtp_cli *cli, int64_t now) {
  g_assert(cli->state == CLI_TLS_WAIT);
  cli->now = now;
  cli->tls = true;
  cli->caps = 0; /* RFC 3207 §4.2: forget what the server said before TLS */
  cli->server_size = 0;
  g_string_truncate(cli->rline, 0);
  smtp_reply_reset(&cli->reply);
  enter(cli, CLI_EHLO);
  send_cmd2(cli, T_EHLO, 0, "EHLO ", cli->helo_name);
}

void smtp_cli_connection_lost(smtp_cli *cli, int64_t now) {
  cli->now = now;
  if (cli->state == CLI_CLOSED)
    return;
  if (cli->state == CLI_QUIT && !cli->msgs) {
    close_now(cli, "quit");
    return;
  }
  abort_session(cli, true, 0, "", "connection lost", false, "connection lost");
}

static int64_t tag_timeout(const smtp_cli *cli, tag_kind k) {
  switch (k) {
  case T_GREETING:
    return cli->cfg.t_initial;
  case T_MAIL:
    return cli->cfg.t_mail;
  case T_RCPT:
    return cli->cfg.t_rcpt;
  case T_DATA:
    return cli->cfg.t_data_init;
  default:
    return cli->cfg.t_other;
  }
}

static int64_t add_sat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

int64_t smtp_cli_deadline(const smtp_cli *cli) {
  const tag *head = head_tag(cli);
  if (!head || cli->state == CLI_CLOSED)
    return SMTP_NO_DEADLINE;
  tag_kind k = head->kind;
  if (k == T_DOT) {
    if (cli->out_consumed < cli->body_end)
      return add_sat(cli->body_progress, cli->cfg.t_data_block);
    return add_sat(cli->body_done, cli->cfg.t_data_term);
  }
  return add_sat(cli->head_since, tag_timeout(cli, k));
}

void smtp_cli_tick(smtp_cli *cli, int64_t now) {
  cli->now = now;
  int64_t d = smtp_cli_deadline(cli);
  if (d == SMTP_NO_DEADLINE || now < d)
    return;
  /* RFC 5321 §4.5.3.2: give up on the connection, retry later. */
  abort_session(cli, true, 0, "", "timeout waiting for the server", false, "timeout");
}

unsigned smtp_cli_caps(const smtp_cli *cli) { return cli->caps; }
uint64_t smtp_cli_server_size(const smtp_cli *cli) { return cli->server_size; }
bool smtp_cli_tls_active(const smtp_cli *cli) { return cli->tls; }
