/* pop3_cli.c — POP3 client engine.
 *
 * One command at a time (no pipelining), each reply matched to the state
 * that sent it. Multi-line responses (RFC 1939 §3) end with a line "."; a
 * leading "." of any other line is removed (byte-stuffing). CAPA (RFC 2449
 * §5) tells whether STLS is offered (RFC 2595 §4); AUTH PLAIN sends its
 * initial response on the command line (RFC 5034 §4). New mail is found
 * with UIDL (RFC 1939 §7) against the UIDLs the owner marked seen.
 */
#include "pop3_cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  pop3_cli_event ev;
  char *text, *uidl;
} queued_event;

typedef struct {
  size_t num;
  char *uidl;
} todo;

struct pop3_cli {
  pop3_cli_config cfg;
  char *user, *pass;
  pop3_env env;
  pop3_cli_state state;
  GByteArray *in, *out;
  bool multiline; /* reading the body of a multi-line reply */
  bool skipping;  /* over max_message: discard the body */
  GByteArray *body;
  bool stls_offered, tls_active;
  GHashTable *seen;    /* uidl set; lookup only; keys not owned (borrowed,
                        * the todo list's, or in SEEN_OWN) */
  GPtrArray *seen_own; /* copies made by pop3_cli_add_seen */
  GArray *todo;        /* of todo, in message-number order */
  guint cur;
  size_t fetched, deleted;
  GArray *events;
  guint ev_head;
  queued_event last;
  GBytes *last_data;
  int64_t deadline;
  size_t held; /* the most octets in, body, events or todo held (pop3_cli_renew) */
};

static const char *const state_names[POP3_CLI_STATE_COUNT] = {
    "GREETING", "CAPA", "STLS", "TLS_WAIT", "USER", "PASS", "AUTH",
    "STAT",     "UIDL", "RETR", "DELE",     "QUIT", "DONE"};
const char *pop3_cli_state_name(pop3_cli_state s) {
  g_assert((unsigned)s < POP3_CLI_STATE_COUNT);
  return state_names[s];
}
static const char *const event_names[POP3_CLI_EV_COUNT] = {"command", "reply", "stls", "message",
                                                           "error",   "done",  "close"};
const char *pop3_cli_event_name(pop3_cli_event_kind k) {
  g_assert((unsigned)k < POP3_CLI_EV_COUNT);
  return event_names[k];
}

static void trace(pop3_cli *c, const char *ev, const char *d) {
  if (c->env.trace)
    c->env.trace(c->env.ud, ev, d);
}

static void pop3_cli_enter(pop3_cli *c, pop3_cli_state to) {
  switch (to) {
  case POP3_CLI_GREETING:
  case POP3_CLI_CAPA:
  case POP3_CLI_STLS:
  case POP3_CLI_TLS_WAIT:
  case POP3_CLI_USER:
  case POP3_CLI_PASS:
  case POP3_CLI_AUTH:
  case POP3_CLI_STAT:
  case POP3_CLI_UIDL:
  case POP3_CLI_RETR:
  case POP3_CLI_DELE:
  case POP3_CLI_QUIT:
  case POP3_CLI_DONE:
    break;
  default:
    g_error("pop3_cli_enter: bad state %d", to);
  }
  if (c->env.trace) { /* untraced: no transition text to build */
    char *d = g_strconcat(state_names[c->state], " -> ", state_names[to], NULL);
    trace(c, "state", d);
    g_free(d);
  }
  c->state = to;
}

/* Queues an event; takes TEXT (may be NULL). */
static queued_event *push_take(pop3_cli *c, pop3_cli_event_kind k, char *text) {
  queued_event q = {0};
  q.ev.kind = k;
  q.text = text;
  g_array_append_val(c->events, q);
  c->held = MAX(c->held, c->events->len * sizeof q);
  return &g_array_index(c->events, queued_event, c->events->len - 1);
}

static queued_event *push(pop3_cli *c, pop3_cli_event_kind k, const char *text) {
  return push_take(c, k, g_strdup(text));
}

/* Sends a command; SHOWN is what the trace sees (NULL = LINE). */
static void send_cmd(pop3_cli *c, pop3_cli_state next, const char *line, const char *shown) {
  g_byte_array_append(c->out, (const guint8 *)line, (guint)strlen(line));
  g_byte_array_append(c->out, (const guint8 *)"\r\n", 2);
  trace(c, "cmd", shown ? shown : line);
  if (!c->env.lines_quiet)
    push(c, POP3_CLI_EV_COMMAND, shown ? shown : line);
  pop3_cli_enter(c, next);
}

static void finish(pop3_cli *c, bool ok) {
  if (c->state == POP3_CLI_DONE)
    return;
  pop3_cli_enter(c, POP3_CLI_DONE);
  queued_event *q = push(c, POP3_CLI_EV_DONE, NULL);
  q->ev.count = c->fetched;
  q->ev.deleted = ok ? c->deleted : 0;
  q->ev.ok = ok;
  push(c, POP3_CLI_EV_CLOSE, NULL);
}

static void fail(pop3_cli *c, const char *why, bool logged_in) {
  trace(c, "error", why);
  push(c, POP3_CLI_EV_ERROR, why);
  if (logged_in) {
    send_cmd(c, POP3_CLI_QUIT, "QUIT", NULL);
  } else {
    finish(c, false);
  }
}

/* Starts a session on C, whose fields are all zero but for the buffers
 * in, out, body, seen, todo and events (kept by pop3_cli_renew, empty) or
 * NULL. */
static void cli_start(pop3_cli *c, const pop3_cli_config *cfg, const pop3_env *env, int64_t now) {
  g_assert(cfg && cfg->user && cfg->pass);
  c->cfg = *cfg;
  c->user = g_strdup(cfg->user);
  c->pass = g_strdup(cfg->pass);
  c->cfg.user = c->user;
  c->cfg.pass = c->pass;
  if (!c->cfg.max_line)
    c->cfg.max_line = 4096;
  if (!c->cfg.max_message)
    c->cfg.max_message = 64u << 20;
  if (c->cfg.reply_timeout <= 0)
    c->cfg.reply_timeout = (int64_t)300 * 1000000000;
  if (env)
    c->env = *env;
  /* Sized for usual lines, so that they need no regrowth. */
  if (!c->in)
    c->in = g_byte_array_sized_new(256);
  if (!c->out)
    c->out = g_byte_array_sized_new(64);
  if (!c->body)
    c->body = g_byte_array_new();
  if (!c->seen)
    c->seen = g_hash_table_new(g_str_hash, g_str_equal);
  if (!c->seen_own)
    c->seen_own = g_ptr_array_new_with_free_func(g_free);
  if (!c->todo)
    c->todo = g_array_new(FALSE, FALSE, sizeof(todo));
  if (!c->events)
    c->events = g_array_sized_new(FALSE, TRUE, sizeof(queued_event), 4);
  c->state = POP3_CLI_GREETING;
  c->deadline = now + c->cfg.reply_timeout;
}

pop3_cli *pop3_cli_new(const pop3_cli_config *cfg, const pop3_env *env, int64_t now) {
  pop3_cli *c = g_new0(pop3_cli, 1);
  cli_start(c, cfg, env, now);
  return c;
}

static void qe_clear(queued_event *q) {
  g_free(q->text);
  g_free(q->uidl);
  memset(q, 0, sizeof *q);
}

/* Frees what the session holds: all but C and its buffers (emptied). */
static void cli_end(pop3_cli *c) {
  for (guint i = c->ev_head; i < c->events->len; i++) {
    queued_event *q = &g_array_index(c->events, queued_event, i);
    if (q->ev.data)
      g_bytes_unref(q->ev.data);
    qe_clear(q);
  }
  c->events->len = 0;
  qe_clear(&c->last);
  if (c->last_data)
    g_bytes_unref(c->last_data);
  c->last_data = NULL;
  g_hash_table_remove_all(c->seen); /* before the keys it borrows go */
  g_ptr_array_set_size(c->seen_own, 0);
  for (guint i = 0; i < c->todo->len; i++)
    g_free(g_array_index(c->todo, todo, i).uidl);
  c->todo->len = 0;
  g_byte_array_set_size(c->in, 0);
  g_byte_array_set_size(c->out, 0);
  g_byte_array_set_size(c->body, 0);
  g_free(c->user);
  g_free(c->pass);
}

static void bufs_free(pop3_cli *c) {
  g_array_free(c->events, TRUE);
  g_array_free(c->todo, TRUE);
  g_hash_table_unref(c->seen);
  g_ptr_array_unref(c->seen_own);
  g_byte_array_unref(c->in);
  g_byte_array_unref(c->out);
  g_byte_array_unref(c->body);
}

void pop3_cli_free(pop3_cli *c) {
  if (!c)
    return;
  cli_end(c);
  bufs_free(c);
  g_free(c);
}

/* A buffer that held more than this (a message) is let go rather than
 * kept by a recycled engine (a spare would hold it for ever). */
#define CLI_KEEP_MAX (64 * 1024)

pop3_cli *pop3_cli_renew(pop3_cli *old, const pop3_cli_config *cfg, const pop3_env *env,
                         int64_t now) {
  if (!old)
    return pop3_cli_new(cfg, env, now);
  cli_end(old);
  pop3_cli kept = {.in = old->in,
                   .out = old->out,
                   .body = old->body,
                   .seen = old->seen,
                   .seen_own = old->seen_own,
                   .todo = old->todo,
                   .events = old->events};
  if (old->held > CLI_KEEP_MAX) {
    bufs_free(&kept);
    kept = (pop3_cli){0};
  }
  *old = kept;
  cli_start(old, cfg, env, now);
  return old;
}

void pop3_cli_keep(pop3_cli **spare, pop3_cli *c) {
  if (*spare)
    pop3_cli_free(c);
  else
    *spare = c;
}

void pop3_cli_add_seen(pop3_cli *c, const char *uidl) {
  char *u = g_strdup(uidl);
  g_ptr_array_add(c->seen_own, u);
  g_hash_table_add(c->seen, u);
}

void pop3_cli_add_seen_ref(pop3_cli *c, const char *uidl) {
  g_hash_table_add(c->seen, (char *)uidl);
}

bool pop3_cli_next_event(pop3_cli *c, pop3_cli_event *ev) {
  qe_clear(&c->last);
  if (c->last_data) {
    g_bytes_unref(c->last_data);
    c->last_data = NULL;
  }
  if (c->ev_head >= c->events->len) {
    c->events->len = 0;
    c->ev_head = 0;
    return false;
  }
  c->last = g_array_index(c->events, queued_event, c->ev_head++);
  c->last_data = c->last.ev.data;
  *ev = c->last.ev;
  ev->text = c->last.text;
  ev->uidl = c->last.uidl;
  return true;
}

const uint8_t *pop3_cli_output_peek(const pop3_cli *c, size_t *len) {
  *len = c->out->len;
  return c->out->data;
}
void pop3_cli_output_consume(pop3_cli *c, size_t n) {
  g_assert(n <= c->out->len);
  g_byte_array_remove_range(c->out, 0, (guint)n);
}
pop3_cli_state pop3_cli_state_get(const pop3_cli *c) { return c->state; }
int64_t pop3_cli_deadline(const pop3_cli *c) {
  return c->state == POP3_CLI_DONE || c->state == POP3_CLI_TLS_WAIT ? INT64_MAX : c->deadline;
}
void pop3_cli_tick(pop3_cli *c, int64_t now) {
  if (now >= pop3_cli_deadline(c)) {
    push(c, POP3_CLI_EV_ERROR, "timeout waiting for the server");
    finish(c, false);
  }
}

static void login(pop3_cli *c) {
  if (c->cfg.auth_plain) {
    GString *raw = g_string_new(NULL);
    g_string_append_c(raw, 0);
    g_string_append(raw, c->user);
    g_string_append_c(raw, 0);
    g_string_append(raw, c->pass);
    char *b64 = g_base64_encode((const guchar *)raw->str, raw->len);
    char *line = g_strdup_printf("AUTH PLAIN %s", b64);
    send_cmd(c, POP3_CLI_AUTH, line, "AUTH PLAIN ****");
    g_free(line);
    g_free(b64);
    g_string_free(raw, TRUE);
  } else {
    char *line = g_strdup_printf("USER %s", c->user);
    send_cmd(c, POP3_CLI_USER, line, NULL);
    g_free(line);
  }
}

/* Sends VERB (with its space) and N in decimal, as printf's "%zu". */
static void send_num(pop3_cli *c, pop3_cli_state next, const char *verb, size_t n) {
  char line[48], *end = line + sizeof line, *p = end;
  *--p = 0;
  do
    *--p = (char)('0' + n % 10);
  while (n /= 10);
  size_t vl = strlen(verb);
  p -= vl;
  memcpy(p, verb, vl);
  send_cmd(c, next, p, NULL);
}

static void next_message(pop3_cli *c) {
  if (c->cur >= c->todo->len) {
    send_cmd(c, POP3_CLI_QUIT, "QUIT", NULL);
    return;
  }
  send_num(c, POP3_CLI_RETR, "RETR ", g_array_index(c->todo, todo, c->cur).num);
}

/* The lines of a multi-line body as a C string copy of it would hold (up
 * to a NUL), split at CRLF as g_strsplit would: calls FN(C, line, len) for
 * each, in place. */
static void body_lines(pop3_cli *c, void (*fn)(pop3_cli *c, const char *l, size_t n)) {
  const char *p = (const char *)c->body->data;
  size_t len = c->body->len;
  const char *nul = len ? memchr(p, 0, len) : NULL;
  if (nul)
    len = (size_t)(nul - p);
  if (!len)
    return; /* g_strsplit("") gives no piece */
  for (;;) {
    const char *e = NULL;
    for (const char *q = p; (q = memchr(q, '\r', len - (size_t)(q - p))) != NULL; q++)
      if ((size_t)(q - p) + 1 < len && q[1] == '\n') {
        e = q;
        break;
      }
    if (!e) {
      fn(c, p, len);
      return;
    }
    fn(c, p, (size_t)(e - p));
    len -= (size_t)(e - p) + 2;
    p = e + 2;
  }
}

static void capa_line(pop3_cli *c, const char *l, size_t n) {
  if (n == 4 && g_ascii_strncasecmp(l, "STLS", 4) == 0)
    c->stls_offered = true;
}

/* sscanf's "%Ns" on L[0..N) from *I: white space skipped, then at most
 * MAX octets that are not white space, into OUT (NUL-terminated). False
 * if none. */
static bool scan_word(const char *l, size_t n, size_t *i, char *out, size_t max) {
  while (*i < n && g_ascii_isspace(l[*i]))
    (*i)++;
  size_t k = 0;
  while (*i < n && k < max && !g_ascii_isspace(l[*i]))
    out[k++] = l[(*i)++];
  out[k] = 0;
  return k > 0;
}

/* "num uidl" (RFC 1939 §7 UIDL), read as sscanf(line, "%23s %79s") would. */
static void uidl_line(pop3_cli *c, const char *l, size_t n) {
  char num[24], id[80];
  size_t i = 0;
  if (!n || !scan_word(l, n, &i, num, 23) || !scan_word(l, n, &i, id, 79) ||
      g_hash_table_contains(c->seen, id))
    return;
  todo t = {(size_t)g_ascii_strtoull(num, NULL, 10), NULL};
  if (t.num) {
    t.uidl = g_strdup(id);
    g_array_append_val(c->todo, t);
  }
}

/* A complete multi-line response body (already un-stuffed) for STATE. */
static void multiline_done(pop3_cli *c) {
  switch (c->state) {
  case POP3_CLI_CAPA: {
    body_lines(c, capa_line);
    if (c->cfg.use_stls && !c->tls_active && c->stls_offered)
      send_cmd(c, POP3_CLI_STLS, "STLS", NULL);
    else if (c->cfg.require_tls && !c->tls_active)
      fail(c, "server does not offer STLS", false);
    else
      login(c);
    break;
  }
  case POP3_CLI_UIDL: {
    body_lines(c, uidl_line);
    c->held = MAX(c->held, c->todo->len * sizeof(todo));
    next_message(c);
    break;
  }
  case POP3_CLI_RETR: {
    todo *t = &g_array_index(c->todo, todo, c->cur);
    if (c->skipping) {
      push(c, POP3_CLI_EV_ERROR, "message too large, skipped");
    } else {
      queued_event *q = push(c, POP3_CLI_EV_MESSAGE, NULL);
      q->uidl = g_strdup(t->uidl);
      q->ev.index = t->num;
      q->ev.data = g_bytes_new(c->body->data, c->body->len);
      c->fetched++;
      g_hash_table_add(c->seen, t->uidl); /* the todo list's, freed after it */
    }
    if (c->cfg.delete_after && !c->skipping) {
      send_num(c, POP3_CLI_DELE, "DELE ", t->num);
    } else {
      c->cur++;
      next_message(c);
    }
    break;
  }
  default:
    g_error("pop3_cli: multi-line reply in state %s", state_names[c->state]);
  }
  c->skipping = false;
  g_byte_array_set_size(c->body, 0);
}

static void status_line_do(pop3_cli *c, const char *line);

/* Takes LINE: the REPLY event holds it (valid while this runs), or it is
 * freed at the end (lines_quiet). */
static void status_line(pop3_cli *c, char *line) {
  trace(c, "reply", line);
  if (c->env.lines_quiet) {
    status_line_do(c, line);
    g_free(line);
    return;
  }
  push_take(c, POP3_CLI_EV_REPLY, line);
  status_line_do(c, line);
}

static void status_line_do(pop3_cli *c, const char *line) {
  bool ok = g_str_has_prefix(line, "+OK");
  switch (c->state) {
  case POP3_CLI_GREETING:
    if (!ok)
      fail(c, "server refused the connection", false);
    else
      send_cmd(c, POP3_CLI_CAPA, "CAPA", NULL);
    break;
  case POP3_CLI_CAPA:
    if (ok)
      c->multiline = true;
    else if (c->cfg.require_tls)
      fail(c, "no CAPA: cannot find STLS", false);
    else
      login(c);
    break;
  case POP3_CLI_STLS:
    if (!ok) {
      if (c->cfg.require_tls)
        fail(c, "STLS refused", false);
      else
        login(c);
    } else {
      pop3_cli_enter(c, POP3_CLI_TLS_WAIT);
      push(c, POP3_CLI_EV_STLS, NULL);
    }
    break;
  case POP3_CLI_USER:
    if (!ok) {
      fail(c, line, false);
    } else {
      char *l = g_strdup_printf("PASS %s", c->pass);
      send_cmd(c, POP3_CLI_PASS, l, "PASS ****");
      g_free(l);
    }
    break;
  case POP3_CLI_PASS:
  case POP3_CLI_AUTH:
    if (!ok)
      fail(c, line, false);
    else
      send_cmd(c, POP3_CLI_STAT, "STAT", NULL);
    break;
  case POP3_CLI_STAT:
    if (!ok)
      fail(c, line, true);
    else
      send_cmd(c, POP3_CLI_UIDL, "UIDL", NULL);
    break;
  case POP3_CLI_UIDL:
  case POP3_CLI_RETR:
    if (ok) {
      c->multiline = true;
    } else if (c->state == POP3_CLI_RETR) {
      c->cur++; /* vanished meanwhile: go on */
      next_message(c);
    } else {
      fail(c, line, true);
    }
    break;
  case POP3_CLI_DELE:
    if (ok)
      c->deleted++;
    c->cur++;
    next_message(c);
    break;
  case POP3_CLI_QUIT:
    finish(c, ok);
    break;
  case POP3_CLI_TLS_WAIT:
  case POP3_CLI_DONE:
    break; /* unexpected bytes: ignore */
  default:
    g_error("pop3_cli: bad state %d", c->state);
  }
}

/* A line of a multi-line reply, P[0..N) without its line end; CRLF tells
 * that P[N..N+2) holds "\r\n". */
static void body_line(pop3_cli *c, const char *p, size_t n, bool crlf) {
  if (n == 1 && p[0] == '.') {
    c->multiline = false;
    multiline_done(c);
    return;
  }
  if (n && p[0] == '.') { /* RFC 1939 §3: byte-stuffed */
    p++;
    n--;
  }
  if (c->skipping)
    return;
  if (c->body->len + n + 2 > c->cfg.max_message) {
    c->skipping = true;
    g_byte_array_set_size(c->body, 0);
    return;
  }
  if (crlf) /* the line and its CRLF at once */
    g_byte_array_append(c->body, (const guint8 *)p, (guint)n + 2);
  else {
    g_byte_array_append(c->body, (const guint8 *)p, (guint)n);
    g_byte_array_append(c->body, (const guint8 *)"\r\n", 2);
  }
  c->held = MAX(c->held, c->body->len);
}

/* Appends the *RUN octets of c->in from AT to the body (see pop3_cli_feed). */
static void body_flush(pop3_cli *c, size_t at, size_t *run) {
  if (!*run)
    return;
  g_byte_array_append(c->body, c->in->data + at, (guint)*run);
  c->held = MAX(c->held, c->body->len);
  *run = 0;
}

void pop3_cli_feed(pop3_cli *c, const void *data, size_t len, int64_t now) {
  if (c->state == POP3_CLI_DONE || c->state == POP3_CLI_TLS_WAIT)
    return;
  c->deadline = now + c->cfg.reply_timeout;
  g_byte_array_append(c->in, data, (guint)len);
  c->held = MAX(c->held, c->in->len);
  size_t off = 0;
  /* Ordinary CRLF lines of a multi-line body are its octets verbatim: a
   * run of them is appended at once (RUN octets of c->in from RUN_AT). */
  size_t run_at = 0, run = 0;
  while (c->state != POP3_CLI_DONE && c->state != POP3_CLI_TLS_WAIT && off < c->in->len) {
    guint8 *nl = memchr(c->in->data + off, '\n', c->in->len - off);
    if (!nl) {
      uint64_t limit = c->multiline ? c->cfg.max_message + 2 : c->cfg.max_line;
      if (c->in->len - off > limit) {
        fail(c, "reply line too long", c->state > POP3_CLI_AUTH);
        off = c->in->len;
      }
      break;
    }
    size_t end = (size_t)(nl - c->in->data), n = end - off;
    const char *p = (const char *)c->in->data + off;
    bool crlf = n && p[n - 1] == '\r';
    if (crlf)
      n--;
    if (c->multiline && crlf && !(n && p[0] == '.') && !c->skipping &&
        c->body->len + run + n + 2 <= c->cfg.max_message) {
      if (!run)
        run_at = off;
      run += n + 2;
    } else if (c->multiline) {
      body_flush(c, run_at, &run);
      body_line(c, p, n, crlf);
    } else if (c->env.lines_quiet && n < 512) {
      char line[512]; /* as g_strndup(p, n) would, on the stack */
      memcpy(line, p, n);
      line[n] = 0;
      trace(c, "reply", line);
      status_line_do(c, line);
    } else {
      status_line(c, g_strndup(p, n));
    }
    off = end + 1;
  }
  body_flush(c, run_at, &run);
  g_byte_array_remove_range(c->in, 0, (guint)off);
  if (c->state == POP3_CLI_TLS_WAIT)
    g_byte_array_set_size(c->in, 0);
}

void pop3_cli_hangup(pop3_cli *c) {
  if (c->state == POP3_CLI_DONE)
    return;
  push(c, POP3_CLI_EV_ERROR, "connection closed by the server");
  finish(c, false);
}

void pop3_cli_tls_done(pop3_cli *c, bool ok) {
  if (c->state != POP3_CLI_TLS_WAIT)
    g_error("pop3_cli_tls_done: not waiting for TLS");
  if (!ok) {
    push(c, POP3_CLI_EV_ERROR, "TLS handshake failed");
    finish(c, false);
    return;
  }
  c->tls_active = true;
  c->stls_offered = false;
  send_cmd(c, POP3_CLI_CAPA, "CAPA", NULL); /* RFC 2595 §4: capabilities may change */
}
