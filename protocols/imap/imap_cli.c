/* imap_cli.c — IMAP4rev1 client engine (see imap_cli.h).
 *
 * Responses are framed with imap_framer (server literals have the same
 * "{n}\r\n" form as client literals, RFC 3501 §4.3) and read by a small
 * response reader: tagged status (§7.1), untagged CAPABILITY (§7.2.1),
 * SEARCH (§7.2.5), EXISTS (§7.3.1), FETCH (§7.4.2: UID, FLAGS, BODY[]),
 * response codes UIDVALIDITY and CAPABILITY, continuation "+" (§7.5) for
 * IDLE (RFC 2177). Login uses AUTHENTICATE PLAIN with SASL-IR (RFC 4959)
 * when offered, else LOGIN, and never before TLS when TLS is wanted
 * (RFC 3501 §6.2.1 LOGINDISABLED). One command is outstanding at a time.
 */
#include "imap_cli.h"

#include <string.h>

#include "imap_fmt.h"
#include "imap_framer.h"

typedef struct {
  imap_cli_event ev;
  char *text;
} qev;

struct imap_cli {
  imap_cli_config cfg;
  /* The configuration's strings, copied into one block (STRS, STRS_CAP
   * octets: kept by imap_cli_renew when the next ones fit, wiped). */
  const char *user, *pass, *mailbox, *move_to;
  char *strs;
  size_t strs_cap;
  imap_env env;
  imap_cli_state state;
  imap_framer *fr;
  GByteArray *out;
  GArray *events;
  guint ev_head;
  qev cur;
  unsigned tagno;
  char tag[16];
  bool cap_starttls, cap_logindisabled, cap_sasl_ir, cap_plain, cap_move, cap_idle, caps_known;
  bool tls_active, idle_confirmed, stop;
  uint32_t uidvalidity, last_uid, exists;
  GArray *found; /* uint32_t UIDs from SEARCH */
  size_t round, total;
  int64_t deadline;
  size_t held; /* the most octets out, events or found held (imap_cli_renew) */
};

static const char *const state_names[IMAP_CLI_STATE_COUNT] = {
    "GREETING", "CAPABILITY", "STARTTLS", "TLS_WAIT", "LOGIN",     "SELECT", "SEARCH",
    "FETCH",    "STORE",      "MOVE",     "IDLE",     "DONE_SENT", "LOGOUT", "DONE"};
const char *imap_cli_state_name(imap_cli_state s) {
  g_assert((unsigned)s < IMAP_CLI_STATE_COUNT);
  return state_names[s];
}
static const char *const event_names[IMAP_CLI_EV_COUNT] = {
    "command", "reply", "starttls", "message", "synced", "error", "done", "close"};
const char *imap_cli_event_name(imap_cli_event_kind k) {
  g_assert((unsigned)k < IMAP_CLI_EV_COUNT);
  return event_names[k];
}

static void trace(imap_cli *c, const char *e, const char *d) {
  if (c->env.trace)
    c->env.trace(c->env.ud, e, d);
}

/* Queues an event; takes TEXT (may be NULL). */
static qev *push_take(imap_cli *c, imap_cli_event_kind k, char *text) {
  qev q = {0};
  q.ev.kind = k;
  q.text = text;
  g_array_append_val(c->events, q);
  c->held = MAX(c->held, c->events->len * sizeof(qev));
  return &g_array_index(c->events, qev, c->events->len - 1);
}

static qev *push(imap_cli *c, imap_cli_event_kind k, const char *text) {
  return push_take(c, k, g_strdup(text));
}

static void imap_cli_enter(imap_cli *c, imap_cli_state to) {
  switch (to) {
  case IMAP_CLI_GREETING:
  case IMAP_CLI_CAPABILITY:
  case IMAP_CLI_STARTTLS:
  case IMAP_CLI_TLS_WAIT:
  case IMAP_CLI_LOGIN:
  case IMAP_CLI_SELECT:
  case IMAP_CLI_SEARCH:
  case IMAP_CLI_FETCH:
  case IMAP_CLI_STORE:
  case IMAP_CLI_MOVE:
  case IMAP_CLI_IDLE:
  case IMAP_CLI_DONE_SENT:
  case IMAP_CLI_LOGOUT:
  case IMAP_CLI_DONE:
    break;
  default:
    g_error("imap_cli_enter: bad state %d", to);
  }
  if (c->env.trace) { /* untraced: no transition text to build */
    char *d = g_strconcat(state_names[c->state], " -> ", state_names[to], NULL);
    trace(c, "state", d);
    g_free(d);
  }
  c->state = to;
}

G_GNUC_PRINTF(3, 4) static void send_cmd(imap_cli *c, imap_cli_state next, const char *fmt, ...) {
  size_t tn = imap_fmt_tag(c->tag, ++c->tagno);
  c->tag[tn] = ' '; /* the tag and its space, appended at once */
  guint start = c->out->len;
  g_byte_array_append(c->out, (const guint8 *)c->tag, (guint)tn + 1);
  c->tag[tn] = 0;
  guint cmd_at = c->out->len;
  va_list ap;
  va_start(ap, fmt);
  imap_fmt_append(c->out, fmt, ap);
  va_end(ap);
  const char *line = (const char *)c->out->data;
  guint cmd_len = c->out->len - cmd_at;
  bool secret = (cmd_len >= 5 && memcmp(line + cmd_at, "LOGIN", 5) == 0) ||
                (cmd_len >= 12 && memcmp(line + cmd_at, "AUTHENTICATE", 12) == 0);
  /* What the trace and the event show: never the credentials. */
  char *shown;
  if (!c->env.trace && c->env.lines_quiet) { /* wanted by nobody */
    shown = NULL;
  } else if (secret) { /* "tag VERB ****", VERB the command's first 12 octets at most */
    size_t tl = strlen(c->tag), vl = MIN(cmd_len, 12u);
    shown = g_malloc(tl + vl + 7);
    memcpy(shown, c->tag, tl);
    shown[tl] = ' ';
    memcpy(shown + tl + 1, line + cmd_at, vl);
    memcpy(shown + tl + 1 + vl, " ****", 6);
  } else {
    shown = g_strndup(line + start, c->out->len - start);
  }
  g_byte_array_append(c->out, (const guint8 *)"\r\n", 2);
  c->held = MAX(c->held, c->out->len);
  trace(c, "cmd", shown);
  if (c->env.lines_quiet)
    g_free(shown);
  else
    push_take(c, IMAP_CLI_EV_COMMAND, shown);
  imap_cli_enter(c, next);
}

/* RFC 2177: "DONE" ends IDLE; it is a bare line, not a tagged command. */
static void send_done(imap_cli *c) {
  g_byte_array_append(c->out, (const guint8 *)"DONE\r\n", 6);
  trace(c, "cmd", "DONE");
  if (!c->env.lines_quiet)
    push(c, IMAP_CLI_EV_COMMAND, "DONE");
  imap_cli_enter(c, IMAP_CLI_DONE_SENT);
}

static void finish(imap_cli *c, bool ok) {
  if (c->state == IMAP_CLI_DONE)
    return;
  imap_cli_enter(c, IMAP_CLI_DONE);
  qev *q = push(c, IMAP_CLI_EV_DONE, NULL);
  q->ev.count = c->total;
  q->ev.ok = ok;
  push(c, IMAP_CLI_EV_CLOSE, NULL);
}

static void fail(imap_cli *c, const char *why, bool logout) {
  trace(c, "error", why);
  push(c, IMAP_CLI_EV_ERROR, why);
  if (logout)
    send_cmd(c, IMAP_CLI_LOGOUT, "LOGOUT");
  else
    finish(c, false);
}

/* Starts a session on C, whose fields are all zero but for the framer and
 * the buffers out, events and found (kept by imap_cli_renew, empty) or
 * NULL. */
static void cli_start(imap_cli *c, const imap_cli_config *cfg, const imap_env *env, int64_t now) {
  g_assert(cfg && cfg->user && cfg->pass);
  c->cfg = *cfg;
  const char *str[4] = {cfg->user, cfg->pass, cfg->mailbox ? cfg->mailbox : "INBOX", cfg->move_to};
  size_t len[4], total = 0;
  for (int i = 0; i < 4; i++) {
    len[i] = str[i] ? strlen(str[i]) + 1 : 0;
    total += len[i];
  }
  if (total > c->strs_cap) { /* a kept block holds the usual next ones */
    g_free(c->strs);
    c->strs = g_malloc(total);
    c->strs_cap = total;
  }
  const char **slot[4] = {&c->user, &c->pass, &c->mailbox, &c->move_to};
  char *w = c->strs;
  for (int i = 0; i < 4; i++) {
    *slot[i] = str[i] ? memcpy(w, str[i], len[i]) : NULL;
    w += len[i];
  }
  if (!c->cfg.max_message)
    c->cfg.max_message = 64u << 20;
  if (c->cfg.reply_timeout <= 0)
    c->cfg.reply_timeout = (int64_t)300 * 1000000000;
  if (env)
    c->env = *env;
  if (c->fr) /* as new; it lets go of a buffer that grew large */
    imap_framer_reset(c->fr, 65536, c->cfg.max_message);
  else
    c->fr = imap_framer_new(65536, c->cfg.max_message);
  /* Sized for usual lines, so that they need no regrowth. */
  if (!c->out)
    c->out = g_byte_array_sized_new(128);
  if (!c->events)
    c->events = g_array_sized_new(FALSE, TRUE, sizeof(qev), 4);
  if (!c->found)
    c->found = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  c->uidvalidity = cfg->uidvalidity;
  c->last_uid = cfg->last_uid;
  c->state = IMAP_CLI_GREETING;
  c->deadline = now + c->cfg.reply_timeout;
}

imap_cli *imap_cli_new(const imap_cli_config *cfg, const imap_env *env, int64_t now) {
  imap_cli *c = g_new0(imap_cli, 1);
  cli_start(c, cfg, env, now);
  return c;
}

static void qev_clear(qev *q) {
  g_free(q->text);
  if (q->ev.data)
    g_bytes_unref(q->ev.data);
  memset(q, 0, sizeof *q);
}

/* Frees what the session holds: all but C, its framer and its buffers
 * out, events (emptied) and found. */
static void cli_end(imap_cli *c) {
  for (guint i = c->ev_head; i < c->events->len; i++)
    qev_clear(&g_array_index(c->events, qev, i));
  c->events->len = 0;
  qev_clear(&c->cur);
  if (c->strs) /* the password among them */
    memset(c->strs, 0, c->strs_cap);

  c->user = c->pass = c->mailbox = c->move_to = NULL;
}

void imap_cli_free(imap_cli *c) {
  if (!c)
    return;
  cli_end(c);
  g_free(c->strs);
  imap_framer_free(c->fr);
  g_array_free(c->events, TRUE);
  g_array_free(c->found, TRUE);
  g_byte_array_unref(c->out);
  g_free(c);
}

/* A buffer that held more than this is let go rather than kept by a
 * recycled engine (a spare would hold it for ever). */
#define CLI_KEEP_MAX (64 * 1024)

imap_cli *imap_cli_renew(imap_cli *old, const imap_cli_config *cfg, const imap_env *env,
                         int64_t now) {
  if (!old)
    return imap_cli_new(cfg, env, now);
  cli_end(old);
  imap_cli kept = {.fr = old->fr,
                   .out = old->out,
                   .events = old->events,
                   .found = old->found,
                   .strs = old->strs,
                   .strs_cap = old->strs_cap};
  if (old->held > CLI_KEEP_MAX) {
    g_byte_array_unref(kept.out);
    g_array_free(kept.events, TRUE);
    g_array_free(kept.found, TRUE);
    kept.out = NULL;
    kept.events = kept.found = NULL;
  } else {
    g_byte_array_set_size(kept.out, 0);
    kept.found->len = 0;
  }
  *old = kept;
  cli_start(old, cfg, env, now);
  return old;
}

void imap_cli_keep(imap_cli **spare, imap_cli *c) {
  if (*spare)
    imap_cli_free(c);
  else
    *spare = c;
}

bool imap_cli_next_event(imap_cli *c, imap_cli_event *ev) {
  qev_clear(&c->cur);
  if (c->ev_head >= c->events->len) {
    c->events->len = 0;
    c->ev_head = 0;
    return false;
  }
  c->cur = g_array_index(c->events, qev, c->ev_head++);
  *ev = c->cur.ev;
  ev->text = c->cur.text;
  return true;
}

const uint8_t *imap_cli_output_peek(const imap_cli *c, size_t *len) {
  *len = c->out->len;
  return c->out->data;
}
void imap_cli_output_consume(imap_cli *c, size_t n) {
  g_assert(n <= c->out->len);
  g_byte_array_remove_range(c->out, 0, (guint)n);
}
imap_cli_state imap_cli_state_get(const imap_cli *c) { return c->state; }

int64_t imap_cli_deadline(const imap_cli *c) {
  if (c->state == IMAP_CLI_DONE || c->state == IMAP_CLI_TLS_WAIT ||
      (c->state == IMAP_CLI_IDLE && c->idle_confirmed))
    return INT64_MAX;
  return c->deadline;
}

void imap_cli_tick(imap_cli *c, int64_t now) {
  if (now >= imap_cli_deadline(c)) {
    push(c, IMAP_CLI_EV_ERROR, "timeout waiting for the server");
    finish(c, false);
  }
}

void imap_cli_hangup(imap_cli *c) {
  if (c->state == IMAP_CLI_DONE)
    return;
  push(c, IMAP_CLI_EV_ERROR, "connection closed by the server");
  finish(c, c->state == IMAP_CLI_LOGOUT);
}

/* ---- response reading ---- */

typedef struct {
  const uint8_t *p;
  size_t n, i;
} rcur;

static int rpk(const rcur *r) { return r->i < r->n ? r->p[r->i] : -1; }

/* A literal's octets where they lie: "{n}" ["+"] CRLF then N octets at
 * *DATA; false at a syntax error. */
static bool rd_literal(rcur *r, const uint8_t **data, size_t *len) {
  size_t v = 0;
  r->i++;
  while (r->i < r->n && g_ascii_isdigit(r->p[r->i]) && v < ((size_t)1 << 40))
    v = v * 10 + (size_t)(r->p[r->i++] - '0');
  if (rpk(r) == '+')
    r->i++;
  if (r->i + 3 > r->n || r->p[r->i] != '}' || r->p[r->i + 1] != '\r' || r->p[r->i + 2] != '\n')
    return false;
  r->i += 3;
  if (v > r->n - r->i)
    return false;
  *data = r->p + r->i;
  *len = v;
  r->i += v;
  return true;
}

/* A string value (quoted, literal, NIL or atom) into *OUT (NULL for NIL);
 * false at a syntax error. OUT NULL: the value is only skipped. */
static bool rd_string(rcur *r, GString **out) {
  if (out)
    *out = NULL;
  int ch = rpk(r);
  if (ch == '"') {
    GString *g = out ? g_string_new(NULL) : NULL;
    r->i++;
    while (r->i < r->n && r->p[r->i] != '"') {
      if (r->p[r->i] == '\\' && r->i + 1 < r->n)
        r->i++;
      if (g)
        g_string_append_c(g, (char)r->p[r->i]);
      r->i++;
    }
    if (rpk(r) != '"') {
      if (g)
        g_string_free(g, TRUE);
      return false;
    }
    r->i++;
    if (out)
      *out = g;
    return true;
  }
  if (ch == '{') {
    const uint8_t *d;
    size_t v;
    if (!rd_literal(r, &d, &v))
      return false;
    if (out)
      *out = g_string_new_len((const char *)d, (gssize)v);
    return true;
  }
  size_t s = r->i;
  while (r->i < r->n && r->p[r->i] != ' ' && r->p[r->i] != ')' && r->p[r->i] != '(')
    r->i++;
  if (r->i == s)
    return false;
  if (r->i - s == 3 && g_ascii_strncasecmp((const char *)r->p + s, "NIL", 3) == 0)
    return true;
  if (out)
    *out = g_string_new_len((const char *)r->p + s, (gssize)(r->i - s));
  return true;
}

/* Skips one value of any shape (list, string, literal, atom). */
static bool rd_skip(rcur *r, int depth) {
  if (depth > 64)
    return false;
  if (rpk(r) == '(') {
    r->i++;
    while (rpk(r) != ')') {
      if (rpk(r) < 0 || (rpk(r) == ' ' && (r->i++, false)))
        return false;
      if (rpk(r) == ' ')
        continue;
      if (!rd_skip(r, depth + 1))
        return false;
    }
    r->i++;
    return true;
  }
  return rd_string(r, NULL);
}

static char upper(char ch) { return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch; }

/* Whether the word W[0..N) (no NUL in it) is KEY (upper-case), in any
 * case. */
static bool word_eq(const char *w, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (upper(w[i]) != key[i]) /* also false at KEY's end */
      return false;
  return key[n] == '\0';
}

/* Whether P starts with KEY (upper-case) in any case, as
 * g_ascii_strncasecmp(P, KEY, strlen(KEY)) == 0 reads it (a NUL in P
 * differs from every octet of KEY). */
static bool starts_ci(const char *p, const char *key) {
  for (; *key; p++, key++)
    if (upper(*p) != *key)
      return false;
  return true;
}

/* g_ascii_strtoull(P, NULL, 10) where P holds N octets: digits are read
 * here when they end within N (or at N, when AT_END: P is read as a copy
 * ending there) and are fewer than 20; the library reads the rest (signs,
 * spaces, overflow) on a copy of the N octets. */
static uint64_t dec_at(const char *p, size_t n, bool at_end) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && i < 19 && p[i] >= '0' && p[i] <= '9')
    v = v * 10 + (uint64_t)(p[i++] - '0');
  if (i > 0 && (i < n ? !(p[i] >= '0' && p[i] <= '9') : at_end))
    return v;
  char *copy = g_strndup(p, n);
  v = g_ascii_strtoull(copy, NULL, 10);
  g_free(copy);
  return v;
}

/* The number at R (UID's value), as g_ascii_strtoull reads it there (a
 * number running to the end of the response is read as its copy). */
static uint64_t uid_at(const rcur *r) { return dec_at((const char *)r->p + r->i, r->n - r->i, false); }

/* "* n FETCH (...)": UID, FLAGS, BODY[]. Read in place: the item names
 * compared where they lie, FLAGS copied once for the event, a literal
 * body copied once into the event's bytes. */
static void on_fetch(imap_cli *c, rcur *r) {
  if (rpk(r) != '(')
    return;
  r->i++;
  uint32_t uid = 0;
  const char *flags = NULL; /* in the response */
  size_t flags_len = 0;
  GString *body = NULL;      /* a quoted or atom body (unescaped) */
  const uint8_t *lit = NULL; /* a literal body, in the response */
  size_t lit_len = 0;
  bool ok = true;
  while (ok && rpk(r) != ')' && rpk(r) >= 0) {
    if (rpk(r) == ' ') {
      r->i++;
      continue;
    }
    size_t s = r->i;
    int depth = 0;
    while (r->i < r->n && (depth || (r->p[r->i] != ' ' && r->p[r->i] != ')'))) {
      if (r->p[r->i] == '[')
        depth++;
      else if (r->p[r->i] == ']' && depth)
        depth--;
      r->i++;
    }
    if (rpk(r) != ' ') {
      ok = false;
      break;
    }
    /* the name as a C string copy of it would read: up to a NUL */
    const char *name = (const char *)r->p + s;
    const char *nul = memchr(name, 0, r->i - s);
    size_t nl = nul ? (size_t)(nul - name) : r->i - s;
    r->i++;
    if (word_eq(name, nl, "UID")) {
      uid = (uint32_t)uid_at(r);
      ok = rd_skip(r, 0);
    } else if (word_eq(name, nl, "FLAGS")) {
      size_t fs = r->i;
      ok = rd_skip(r, 0);
      if (ok) {
        flags = (const char *)r->p + fs;
        flags_len = r->i - fs;
      }
    } else if (word_eq(name, nl, "BODY[]") || word_eq(name, nl, "RFC822")) {
      if (body)
        g_string_free(body, TRUE);
      body = NULL;
      lit = NULL;
      if (rpk(r) == '{') {
        ok = rd_literal(r, &lit, &lit_len);
        if (!ok)
          lit = NULL;
      } else {
        ok = rd_string(r, &body);
      }
    } else {
      ok = rd_skip(r, 0);
    }
  }
  if (ok && uid && (body || lit) && c->state == IMAP_CLI_FETCH) {
    qev *q =
        push_take(c, IMAP_CLI_EV_MESSAGE, flags ? g_strndup(flags, flags_len) : g_strdup("()"));
    q->ev.uid = uid;
    q->ev.uidvalidity = c->uidvalidity;
    q->ev.data = lit ? g_bytes_new(lit, lit_len) : g_bytes_new(body->str, body->len);
    c->round++;
    c->total++;
    if (uid > c->last_uid)
      c->last_uid = uid;
  }
  if (body)
    g_string_free(body, TRUE);
}

/* LIST[0..LEN) holds no NUL. */
static void on_caps(imap_cli *c, const char *list, size_t len) {
  c->caps_known = true;
  c->cap_starttls = c->cap_logindisabled = c->cap_sasl_ir = c->cap_plain = false;
  c->cap_move = c->cap_idle = false;
  const char *end = list + len;
  for (const char *p = list;;) { /* the words between spaces, in place */
    const char *e = memchr(p, ' ', (size_t)(end - p));
    size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
    switch (n) { /* only the names of the word's length can match */
    case 8:
      c->cap_starttls |= word_eq(p, n, "STARTTLS");
      break;
    case 13:
      c->cap_logindisabled |= word_eq(p, n, "LOGINDISABLED");
      break;
    case 7:
      c->cap_sasl_ir |= word_eq(p, n, "SASL-IR");
      break;
    case 10:
      c->cap_plain |= word_eq(p, n, "AUTH=PLAIN");
      break;
    case 4:
      c->cap_move |= word_eq(p, n, "MOVE");
      c->cap_idle |= word_eq(p, n, "IDLE");
      break;
    default:
      break;
    }
    if (!e)
      break;
    p += n + 1;
  }
}

/* The response is read where it lies: as its first 4096 octets up to a
 * NUL (what a copy of them as a C string would hold), copied only for the
 * rare parts that need a string of their own. */
static void untagged(imap_cli *c, const uint8_t *p, size_t n) {
  const char *line = (const char *)p;
  size_t cap = MIN(n, 4096);
  const char *nul = memchr(line, 0, cap);
  size_t len = nul ? (size_t)(nul - line) : cap;
  /* One pass over the '[' for both response codes (the first of each). */
  const char *code = NULL, *uidv = NULL;
  for (const char *q = line; (q = memchr(q, '[', len - (size_t)(q - line))) != NULL; q++) {
    size_t left = len - (size_t)(q - line);
    if (!code && left >= 12 && memcmp(q, "[CAPABILITY ", 12) == 0)
      code = q;
    else if (!uidv && left >= 13 && memcmp(q, "[UIDVALIDITY ", 13) == 0)
      uidv = q;
    if (code && uidv)
      break;
  }
  if (code) {
    const char *end = memchr(code, ']', len - (size_t)(code - line));
    on_caps(c, code + 12, end ? (size_t)(end - code - 12) : len - (size_t)(code + 12 - line));
  } else if (len >= 11 && starts_ci(line, "CAPABILITY ")) {
    on_caps(c, line + 11, len - 11);
  }
  if ((code = uidv)) {
    uint32_t v = (uint32_t)dec_at(code + 13, len - (size_t)(code + 13 - line), true);
    if (c->uidvalidity != v)
      c->last_uid = 0; /* RFC 3501 §2.3.1.1: UIDs of another validity mean nothing */
    c->uidvalidity = v;
  }
  if (len >= 6 && starts_ci(line, "SEARCH")) {
    /* The words between spaces, each read as strtoull reads a copy of it. */
    for (size_t i = 6; i < len;) {
      const char *w = line + i;
      const char *e = memchr(w, ' ', len - i);
      size_t wl = e ? (size_t)(e - w) : len - i;
      i += wl + 1;
      if (!wl)
        continue;
      uint32_t u = (uint32_t)dec_at(w, wl, true);
      if (u > c->last_uid)
        g_array_append_val(c->found, u);
    }
    c->held = MAX(c->held, c->found->len * sizeof(uint32_t));
  }
  const char *sp = memchr(line, ' ', len);
  if (sp && g_ascii_isdigit(line[0])) {
    /* the digits before SP are the number, as strtoull reads them */
    uint32_t num = (uint32_t)dec_at(line, (size_t)(sp - line), true);
    size_t rest = len - (size_t)(sp + 1 - line);
    if (rest >= 6 && starts_ci(sp + 1, "EXISTS")) {
      bool more = num > c->exists;
      c->exists = num;
      if (more && c->state == IMAP_CLI_IDLE && c->idle_confirmed) /* RFC 2177 */
        send_done(c);
    } else if (rest >= 7 && starts_ci(sp + 1, "EXPUNGE") && c->exists) {
      c->exists--;
    } else if (rest >= 6 && starts_ci(sp + 1, "FETCH ")) {
      rcur r = {p, n, (size_t)(sp + 7 - line)};
      on_fetch(c, &r);
    }
  }
}

/* ---- the session ---- */

/* A command argument being built: on the stack while it is short (UID
 * sets, names and credentials usually are), on the heap beyond; always
 * NUL-terminated. */
typedef struct {
  char *p;
  size_t n, cap;
  char stack[192];
} sbuf;

static void sb_init(sbuf *b) {
  b->p = b->stack;
  b->n = 0;
  b->cap = sizeof b->stack;
  b->p[0] = 0;
}

/* Room for N more octets and the NUL; returns where they go. */
static char *sb_room(sbuf *b, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = MAX(b->cap * 2, b->n + n + 1);
    char *np = g_malloc(cap);
    memcpy(np, b->p, b->n + 1);
    if (b->p != b->stack) {
      memset(b->p, 0, b->n); /* it may hold a secret */
      g_free(b->p);
    }
    b->p = np;
    b->cap = cap;
  }
  return b->p + b->n;
}

static void sb_put(sbuf *b, const char *s, size_t n) {
  memcpy(sb_room(b, n), s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void sb_putc(sbuf *b, char ch) { sb_put(b, &ch, 1); }

/* Lets B go; WIPE: its octets zeroed first (secrets). */
static void sb_clear(sbuf *b, bool wipe) {
  if (wipe)
    memset(b->p, 0, b->n);
  if (b->p != b->stack)
    g_free(b->p);
  sb_init(b);
}

/* A quoted string (RFC 3501 §4.3); names and passwords here are short. */
static void quote(sbuf *g, const char *str) {
  sb_putc(g, '"');
  for (const char *p = str; *p; p++) {
    if (*p == '"' || *p == '\\')
      sb_putc(g, '\\');
    sb_putc(g, *p);
  }
  sb_putc(g, '"');
}

static void login(imap_cli *c) {
  sbuf a, b;
  sb_init(&a);
  sb_init(&b);
  if (c->cap_plain && c->cap_sasl_ir) {
    /* "\0user\0pass" and its base64 built on the stack (no allocation
     * for usual credentials), as g_base64_encode writes it; wiped after. */
    sb_putc(&a, 0);
    sb_put(&a, c->user, strlen(c->user));
    sb_putc(&a, 0);
    sb_put(&a, c->pass, strlen(c->pass));
    char *w = sb_room(&b, (a.n / 3 + 1) * 4 + 4);
    gint state = 0, save = 0;
    gsize n = g_base64_encode_step((const guchar *)a.p, a.n, FALSE, w, &state, &save);
    n += g_base64_encode_close(FALSE, w + n, &state, &save);
    b.n = n;
    b.p[n] = 0;
    send_cmd(c, IMAP_CLI_LOGIN, "AUTHENTICATE PLAIN %s", b.p);
  } else if (!c->cap_logindisabled) {
    quote(&a, c->user);
    quote(&b, c->pass);
    send_cmd(c, IMAP_CLI_LOGIN, "LOGIN %s %s", a.p, b.p);
  } else {
    fail(c, "server offers no usable login", false);
  }
  sb_clear(&a, true);
  sb_clear(&b, true);
}

static void after_caps(imap_cli *c) {
  if (c->cfg.use_starttls && !c->tls_active && c->cap_starttls)
    send_cmd(c, IMAP_CLI_STARTTLS, "STARTTLS");
  else if (c->cfg.require_tls && !c->tls_active)
    fail(c, "server does not offer STARTTLS", false);
  else
    login(c);
}

/* Writes N in decimal ending at END; returns where it starts. */
static char *u32_dec(char *end, uint32_t n) {
  do
    *--end = (char)('0' + n % 10);
  while (n /= 10);
  return end;
}

/* The sequence set of the UIDs U ("3,5:7"), as printf's "%u" and ":%u"
 * would write it, without printf. */
static void uid_set(sbuf *g, const GArray *u) {
  for (guint i = 0; i < u->len;) {
    uint32_t a = g_array_index(u, uint32_t, i), b = a;
    guint j = i + 1;
    while (j < u->len && g_array_index(u, uint32_t, j) == b + 1)
      b = g_array_index(u, uint32_t, j++);
    char buf[24], *end = buf + sizeof buf, *p = end;
    if (b != a) {
      p = u32_dec(p, b);
      *--p = ':';
    }
    p = u32_dec(p, a);
    if (i)
      *--p = ',';
    sb_put(g, p, (size_t)(end - p));
    i = j;
  }
}

static void search(imap_cli *c) {
  c->found->len = 0;
  c->round = 0;
  send_cmd(c, IMAP_CLI_SEARCH, "UID SEARCH UID %u:*", c->last_uid + 1);
}

static void round_done(imap_cli *c) {
  qev *q = push(c, IMAP_CLI_EV_SYNCED, NULL);
  q->ev.count = c->round;
  if (c->cfg.idle && c->cap_idle && !c->stop) {
    c->idle_confirmed = false;
    send_cmd(c, IMAP_CLI_IDLE, "IDLE");
  } else {
    send_cmd(c, IMAP_CLI_LOGOUT, "LOGOUT");
  }
}

/* After FETCH: STORE, then MOVE, each only when wanted. */
static void next_step(imap_cli *c, imap_cli_state done) {
  sbuf set, m;
  sb_init(&set);
  sb_init(&m);
  uid_set(&set, c->found);
  if (done < IMAP_CLI_STORE && c->cfg.mark_seen && c->found->len)
    send_cmd(c, IMAP_CLI_STORE, "UID STORE %s +FLAGS.SILENT (\\Seen)", set.p);
  else if (done < IMAP_CLI_MOVE && c->move_to && c->found->len) {
    quote(&m, c->move_to);
    if (c->cap_move)
      send_cmd(c, IMAP_CLI_MOVE, "UID MOVE %s %s", set.p, m.p);
    else
      fail(c, "server lacks MOVE", true);
  } else
    round_done(c);
  sb_clear(&set, false);
  sb_clear(&m, false);
}

static void tagged(imap_cli *c, const char *line) {
  const char *st = strchr(line, ' ');
  bool ok = st && starts_ci(st + 1, "OK");
  trace(c, "reply", line);
  if (!c->env.lines_quiet)
    push(c, IMAP_CLI_EV_REPLY, line);
  switch (c->state) {
  case IMAP_CLI_CAPABILITY:
    if (ok)
      after_caps(c);
    else
      fail(c, line, false);
    break;
  case IMAP_CLI_STARTTLS:
    if (ok) {
      imap_cli_enter(c, IMAP_CLI_TLS_WAIT);
      push(c, IMAP_CLI_EV_STARTTLS, NULL);
    } else if (c->cfg.require_tls) {
      fail(c, "STARTTLS refused", false);
    } else {
      login(c);
    }
    break;
  case IMAP_CLI_LOGIN:
    if (!ok) {
      fail(c, line, false);
    } else {
      sbuf m;
      sb_init(&m);
      quote(&m, c->mailbox);
      send_cmd(c, IMAP_CLI_SELECT, "SELECT %s", m.p);
      sb_clear(&m, false);
    }
    break;
  case IMAP_CLI_SELECT:
    if (ok)
      search(c);
    else
      fail(c, line, true);
    break;
  case IMAP_CLI_SEARCH:
    if (!ok) {
      fail(c, line, true);
    } else if (!c->found->len) {
      round_done(c);
    } else {
      sbuf set;
      sb_init(&set);
      uid_set(&set, c->found);
      send_cmd(c, IMAP_CLI_FETCH, "UID FETCH %s (UID FLAGS BODY.PEEK[])", set.p);
      sb_clear(&set, false);
    }
    break;
  case IMAP_CLI_FETCH:
  case IMAP_CLI_STORE:
  case IMAP_CLI_MOVE:
    if (ok)
      next_step(c, c->state);
    else
      fail(c, line, true);
    break;
  case IMAP_CLI_IDLE:
  case IMAP_CLI_DONE_SENT:
    if (c->stop || !ok)
      send_cmd(c, IMAP_CLI_LOGOUT, "LOGOUT");
    else
      search(c);
    break;
  case IMAP_CLI_LOGOUT:
    finish(c, true);
    break;
  default:
    break; /* unexpected: ignore */
  }
}

/* Traces the first line of an untagged or continuation response (tagged
 * ones are traced where they are handled). */
static void trace_first_line(imap_cli *c, const uint8_t *p, size_t n) {
  if (!c->env.trace)
    return; /* nothing to cut out */
  size_t k = 0;
  while (k < n && k < 998 && p[k] != '\r' && p[k] != '\n')
    k++;
  char *line = g_strndup((const char *)p, k);
  trace(c, "reply", line);
  g_free(line);
}

static void response(imap_cli *c, const uint8_t *p, size_t n) {
  if (n >= 1 && (p[0] == '+' || p[0] == '*'))
    trace_first_line(c, p, n);
  if (n >= 1 && p[0] == '+') { /* continuation: only IDLE uses it here */
    if (c->state == IMAP_CLI_IDLE) {
      c->idle_confirmed = true;
      if (c->stop)
        send_done(c);
    }
    return;
  }
  if (n >= 2 && p[0] == '*' && p[1] == ' ') {
    if (c->state == IMAP_CLI_GREETING) {
      bool ok = n >= 4 && starts_ci((const char *)p + 2, "OK");
      untagged(c, p + 2, n - 2);
      if (!ok)
        fail(c, "server refused the connection", false);
      else if (c->caps_known)
        after_caps(c);
      else
        send_cmd(c, IMAP_CLI_CAPABILITY, "CAPABILITY");
      return;
    }
    untagged(c, p + 2, n - 2);
    return;
  }
  size_t tl = strlen(c->tag);
  if (n > tl && memcmp(p, c->tag, tl) == 0 && p[tl] == ' ') {
    char line[1025]; /* as g_strndup(p, MIN(n, 1024)) would, on the stack */
    size_t k = MIN(n, 1024);
    memcpy(line, p, k);
    line[k] = 0;
    tagged(c, line);
  }
}

void imap_cli_feed(imap_cli *c, const void *data, size_t len, int64_t now) {
  if (c->state == IMAP_CLI_DONE || c->state == IMAP_CLI_TLS_WAIT)
    return;
  c->deadline = now + c->cfg.reply_timeout;
  imap_framer_feed(c->fr, data, len);
  while (c->state != IMAP_CLI_DONE && c->state != IMAP_CLI_TLS_WAIT) {
    imap_frame f = imap_framer_next(c->fr);
    if (f.kind == IMAP_FRAME_NEED_MORE)
      break;
    if (f.kind == IMAP_FRAME_CONTINUE)
      continue; /* server literals need no continuation */
    if (f.kind == IMAP_FRAME_ERROR) {
      fail(c, "oversized response from the server", c->state > IMAP_CLI_LOGIN);
      continue;
    }
    response(c, f.data, f.len);
  }
  if (c->state == IMAP_CLI_TLS_WAIT)
    imap_framer_discard(c->fr);
}

void imap_cli_tls_done(imap_cli *c, bool ok) {
  if (c->state != IMAP_CLI_TLS_WAIT)
    g_error("imap_cli_tls_done: not waiting for TLS");
  if (!ok) {
    push(c, IMAP_CLI_EV_ERROR, "TLS handshake failed");
    finish(c, false);
    return;
  }
  c->tls_active = true;
  c->caps_known = false;
  send_cmd(c, IMAP_CLI_CAPABILITY, "CAPABILITY"); /* RFC 3501 §6.2.1: caps may change */
}

void imap_cli_stop(imap_cli *c) {
  c->stop = true;
  if (c->state == IMAP_CLI_IDLE && c->idle_confirmed)
    send_done(c);
}
