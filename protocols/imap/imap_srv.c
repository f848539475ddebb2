/* imap_srv.c — IMAP4rev1 server engine: session core.
 *
 * Lifecycle, input framing (imap_framer), the state machine (RFC 3501 §3:
 * not authenticated, authenticated, selected, logout; plus waiting states
 * for decisions, SASL, TLS and IDLE), the verb table, authentication
 * (LOGIN §6.2.3, AUTHENTICATE PLAIN §6.2.2 with SASL-IR RFC 4959),
 * STARTTLS (§6.2.1, input discarded after the command, CVE-2011-0411),
 * CAPABILITY/NOOP/LOGOUT/ID/ENABLE/NAMESPACE/IDLE, and the bookkeeping of
 * the selected mailbox: the store's change log is absorbed into pending
 * sets and flushed as untagged EXISTS / FETCH / EXPUNGE when allowed —
 * EXPUNGE never while answering FETCH, STORE or SEARCH (§7.4.1), nor when
 * no command is in progress (except during IDLE, RFC 2177).
 * Mailbox commands live in imap_srv_mbox.c, message commands in
 * imap_srv_msg.c.
 */
#include "imap_srv_int.h"

#include <string.h>

#include "imap_fmt.h"
#include "sasl_plain.h"

static const char *const state_names[IMAP_SRV_STATE_COUNT] = {
    "NOT_AUTH", "SASL", "AUTH_WAIT", "TLS_WAIT", "AUTHENTICATED", "SELECTED", "IDLE", "LOGOUT"};
const char *imap_srv_state_name(imap_srv_state st) {
  g_assert((unsigned)st < IMAP_SRV_STATE_COUNT);
  return state_names[st];
}
static const char *const event_names[IMAP_SRV_EV_COUNT] = {"command",  "reply", "auth",
                                                           "starttls", "fetch", "close"};
const char *imap_srv_event_name(imap_srv_event_kind k) {
  g_assert((unsigned)k < IMAP_SRV_EV_COUNT);
  return event_names[k];
}

static const char *const st_err_text[IMAP_ST_COUNT] = {
    "OK",
    "[NONEXISTENT] No such mailbox",
    "[ALREADYEXISTS] Mailbox already exists",
    "[CANNOT] Operation not permitted on this name",
    "[EXPUNGEISSUED] Message was expunged",
    "[OVERQUOTA] Quota exceeded",
    "[SERVERBUG] Change log lost",
    "[SERVERBUG] Store failure"};
const char *imap_srv__err_text(imap_store_err e) {
  g_assert((unsigned)e < IMAP_ST_COUNT);
  return st_err_text[e];
}

static void trace(imap_srv *s, const char *ev, const char *d) {
  if (s->env.trace)
    s->env.trace(s->env.ud, ev, d);
}

/* Queues an event; takes TEXT (may be NULL). */
static imap_srv__qev *push_take(imap_srv *s, imap_srv_event_kind k, char *text) {
  imap_srv__qev q = {0};
  q.ev.kind = k;
  q.text = text;
  g_array_append_val(s->events, q);
  return &g_array_index(s->events, imap_srv__qev, s->events->len - 1);
}

static imap_srv__qev *push(imap_srv *s, imap_srv_event_kind k, const char *text) {
  return push_take(s, k, g_strdup(text));
}

/* Whether command and reply lines are wanted at all: traced, or events. */
static bool lines_wanted(const imap_srv *s) { return s->env.trace || !s->env.lines_quiet; }

/* Traces the line TEXT (taken) as EV and queues it as an event of kind K,
 * unless lines_quiet. */
static void line_take(imap_srv *s, const char *ev, imap_srv_event_kind k, char *text) {
  trace(s, ev, text);
  if (s->env.lines_quiet)
    g_free(text);
  else
    push_take(s, k, text);
}

void imap_srv__enter(imap_srv *s, imap_srv_state to) {
  switch (to) {
  case IMAP_SRV_NOT_AUTH:
  case IMAP_SRV_SASL:
  case IMAP_SRV_AUTH_WAIT:
  case IMAP_SRV_TLS_WAIT:
  case IMAP_SRV_AUTHENTICATED:
  case IMAP_SRV_SELECTED:
  case IMAP_SRV_IDLE:
  case IMAP_SRV_LOGOUT:
    break;
  default:
    g_error("imap_srv__enter: bad state %d", to);
  }
  if (s->env.trace) { /* untraced: no transition text to build */
    char *d = g_strconcat(state_names[s->state], " -> ", state_names[to], NULL);
    trace(s, "state", d);
    g_free(d);
  }
  s->state = to;
  /* IDLE's DONE and SASL responses are plain lines, not commands. */
  imap_framer_set_raw(s->fr, to == IMAP_SRV_IDLE || to == IMAP_SRV_SASL);
}

void imap_srv__out(imap_srv *s, const char *data, size_t n) {
  g_byte_array_append(s->out, (const guint8 *)data, (guint)n);
}

/* Both reply kinds are written straight into the output; the copy that
 * the trace and the REPLY event get is taken from there. */
void imap_srv__untagged(imap_srv *s, const char *fmt, ...) {
  imap_srv__out(s, "* ", 2);
  guint start = s->out->len;
  va_list ap;
  va_start(ap, fmt);
  imap_fmt_append(s->out, fmt, ap);
  va_end(ap);
  guint end = s->out->len;
  imap_srv__out(s, "\r\n", 2);
  if (end - start >= 3 && memcmp(s->out->data + start, "BYE", 3) == 0 && lines_wanted(s))
    line_take(s, "reply", IMAP_SRV_EV_REPLY,
              g_strndup((const char *)s->out->data + start, end - start));
}

void imap_srv__tagged(imap_srv *s, const char *tag, const char *status, const char *fmt, ...) {
  guint start = s->out->len;
  const char *t = tag ? tag : "*";
  size_t tl = strlen(t), sl = strlen(status);
  char head[96]; /* "tag status " at once (tags are at most 64 octets, statuses 3) */
  if (tl + sl + 2 <= sizeof head) {
    memcpy(head, t, tl);
    head[tl] = ' ';
    memcpy(head + tl + 1, status, sl);
    head[tl + 1 + sl] = ' ';
    imap_srv__out(s, head, tl + sl + 2);
  } else {
    imap_srv__out(s, t, tl);
    imap_srv__out(s, " ", 1);
    imap_srv__out(s, status, sl);
    imap_srv__out(s, " ", 1);
  }
  va_list ap;
  va_start(ap, fmt);
  imap_fmt_append(s->out, fmt, ap);
  va_end(ap);
  char *line =
      lines_wanted(s) ? g_strndup((const char *)s->out->data + start, s->out->len - start) : NULL;
  imap_srv__out(s, "\r\n", 2);
  if (line)
    line_take(s, "reply", IMAP_SRV_EV_REPLY, line);
}

GArray *imap_srv__idx(imap_srv *s) {
  if (!s->idx)
    s->idx = g_array_new(FALSE, FALSE, sizeof(guint));
  s->grown |= s->idx->len > SRV_KEEP_MAX / sizeof(guint); /* the last command's */
  s->idx->len = 0;
  return s->idx;
}

void imap_srv__push_fetch_event(imap_srv *s, uint32_t uid) {
  imap_srv__qev *q = push_take(s, IMAP_SRV_EV_FETCH, NULL);
  q->mailbox = g_ref_string_acquire(s->mbox);
  q->ev.uid = uid;
}

/* The pending tag set (TAG: at most 64 octets, from the parser) and taken:
 * copied into BUF, cleared; NULL when there was none. */
static void pending_set(imap_srv *s, const char *tag) {
  if (!tag) {
    s->pending_tag[0] = 0;
    return;
  }
  size_t n = strlen(tag);
  g_assert(n < sizeof s->pending_tag);
  memcpy(s->pending_tag, tag, n + 1);
}
static const char *pending_take(imap_srv *s, char buf[static 65]) {
  if (!s->pending_tag[0])
    return NULL;
  memcpy(buf, s->pending_tag, sizeof s->pending_tag);
  s->pending_tag[0] = 0;
  return buf;
}

void imap_srv__astring(GString *g, const char *str) {
  bool quotable = strlen(str) < 1024;
  for (const char *p = str; *p && quotable; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
      quotable = false;
  if (!quotable) {
    g_string_append_printf(g, "{%zu}\r\n%s", strlen(str), str);
    return;
  }
  g_string_append_c(g, '"');
  for (const char *p = str; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(g, '\\');
    g_string_append_c(g, *p);
  }
  g_string_append_c(g, '"');
}

/* ---- lifecycle ---- */

static void release_store(imap_srv *s) {
  imap_srv__deselect(s);
  if (s->ops) {
    const imap_store_ops *ops = s->ops;
    s->ops = NULL;
    ops->release(s->st);
  }
}

static void close_session(imap_srv *s) {
  if (s->state == IMAP_SRV_LOGOUT)
    return;
  release_store(s);
  imap_srv__enter(s, IMAP_SRV_LOGOUT);
  push(s, IMAP_SRV_EV_CLOSE, NULL);
}

/* The capability list for S's state: one of five fixed texts. */
static const char *capabilities(const imap_srv *s) {
#define CAPS_BASE                                                                                  \
  "IMAP4rev1 LITERAL+ SASL-IR UIDPLUS IDLE MOVE NAMESPACE ID ENABLE SPECIAL-USE UNSELECT"
  static const char *const texts[2][3] = {
      {CAPS_BASE, CAPS_BASE " AUTH=PLAIN", CAPS_BASE " LOGINDISABLED"},
      {CAPS_BASE " STARTTLS", CAPS_BASE " STARTTLS AUTH=PLAIN",
       CAPS_BASE " STARTTLS LOGINDISABLED"}};
#undef CAPS_BASE
  bool plain_ok = !(s->cfg.tls_required && !s->cfg.tls_active);
  bool logged_in = s->state == IMAP_SRV_AUTHENTICATED || s->state == IMAP_SRV_SELECTED;
  bool starttls = s->cfg.tls_available && !s->cfg.tls_active && !logged_in;
  return texts[starttls][logged_in ? 0 : plain_ok ? 1 : 2];
}

/* The start-up shared by _new and _renew: S is zeroed but for its
 * (empty) buffers, which are all present. */
static void srv_start(imap_srv *s, const imap_srv_config *cfg, const imap_env *env, int64_t now) {
  if (cfg)
    s->cfg = *cfg;
  s->hostname = g_strdup(s->cfg.hostname ? s->cfg.hostname : "localhost");
  s->cfg.hostname = s->hostname;
  if (s->cfg.mime) {
    s->mime = *s->cfg.mime;
    s->has_mime = true;
  }
  s->cfg.mime = NULL;
  if (!s->cfg.max_line)
    s->cfg.max_line = 8192;
  if (!s->cfg.max_literal)
    s->cfg.max_literal = 32u << 20;
  if (s->cfg.idle_timeout <= 0)
    s->cfg.idle_timeout = (int64_t)1800 * 1000000000;
  if (s->cfg.poll_interval <= 0)
    s->cfg.poll_interval = 1000000000;
  if (!s->cfg.epoch_unix)
    s->cfg.epoch_unix = 1735689600; /* 2025-01-01T00:00:00Z */
  if (env)
    s->env = *env;
  /* Before login, literals stay small (no unauthenticated memory use). */
  if (s->fr)
    imap_framer_reset(s->fr, s->cfg.max_line, 8192);
  else
    s->fr = imap_framer_new(s->cfg.max_line, 8192);
  s->next_id = 1;
  s->now = s->last_activity = s->last_poll = now;
  s->state = IMAP_SRV_NOT_AUTH;
  imap_srv__untagged(s, "OK [CAPABILITY %s] %s IMAP4rev1 server ready", capabilities(s),
                     s->hostname);
}

imap_srv *imap_srv_new(const imap_srv_config *cfg, const imap_env *env, int64_t now) {
  imap_srv *s = g_new0(imap_srv, 1);
  /* Sized for usual replies, so that they need no regrowth. */
  s->out = g_byte_array_sized_new(512);
  s->events = g_array_sized_new(FALSE, TRUE, sizeof(imap_srv__qev), 4);
  s->view = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  s->pend_new = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  s->pend_expunge = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  s->pend_flags = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  s->recent = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  s->changes = g_array_new(FALSE, FALSE, sizeof(imap_store_change));
  s->tail = g_byte_array_new();
  srv_start(s, cfg, env, now);
  return s;
}

static void qev_clear(imap_srv__qev *q) {
  g_free(q->text);
  if (q->mailbox)
    g_ref_string_release(q->mailbox);
  memset(q, 0, sizeof *q);
}

/* The AUTH buffer wiped and let go. */
static void auth_wipe(imap_srv *s) {
  if (s->auth) {
    memset(s->auth, 0, s->auth_len);
    g_free(s->auth);
    s->auth = NULL;
  }
}

/* The session's own state let go, as imap_srv_free does, the buffers kept. */
static void srv_end(imap_srv *s) {
  release_store(s);
  for (guint i = s->ev_head; i < s->events->len; i++)
    qev_clear(&g_array_index(s->events, imap_srv__qev, i));
  qev_clear(&s->cur);
  s->pending_tag[0] = 0;
  auth_wipe(s);
  g_free(s->hostname);
}

void imap_srv_free(imap_srv *s) {
  if (!s)
    return;
  imap_srv_free(s->next_spare); /* the spares kept behind it */
  srv_end(s);
  g_array_free(s->events, TRUE);
  imap_framer_free(s->fr);
  g_byte_array_unref(s->out);
  g_array_free(s->view, TRUE);
  g_array_free(s->pend_new, TRUE);
  g_array_free(s->pend_expunge, TRUE);
  g_array_free(s->pend_flags, TRUE);
  g_array_free(s->recent, TRUE);
  g_array_free(s->changes, TRUE);
  g_byte_array_unref(s->tail);
  if (s->idx)
    g_array_free(s->idx, TRUE);
  imap_cmd_free(s->spare_cmd);
  g_free(s);
}

/* A kept uint32_t array: emptied, or made anew if it grew large. */
static GArray *u32_kept(GArray *a, bool grown) {
  if (grown) {
    g_array_free(a, TRUE);
    return g_array_new(FALSE, FALSE, sizeof(uint32_t));
  }
  a->len = 0;
  return a;
}

/* A kept scratch array that may be absent: emptied, or let go if it grew
 * (NULL: made at the next use). */
static GArray *u32_kept_or_none(GArray *a, bool grown) {
  if (a && grown) {
    g_array_free(a, TRUE);
    return NULL;
  }
  if (a)
    a->len = 0;
  return a;
}

imap_srv *imap_srv_renew(imap_srv *old, const imap_srv_config *cfg, const imap_env *env,
                         int64_t now) {
  if (!old)
    return imap_srv_new(cfg, env, now);
  g_assert(!old->next_spare); /* taken from its list (_take) */
  srv_end(old);
  bool grown = old->grown;
  imap_srv kept = {
      .fr = old->fr, /* reset by srv_start */
      .out = old->out,
      .events = old->events,
      .view = u32_kept(old->view, grown),
      .pend_new = u32_kept(old->pend_new, grown),
      .pend_expunge = u32_kept(old->pend_expunge, grown),
      .pend_flags = u32_kept(old->pend_flags, grown),
      .recent = u32_kept(old->recent, grown),
      .idx = u32_kept_or_none(old->idx, grown),
      .changes = old->changes,
      .tail = old->tail,
      .spare_cmd = old->spare_cmd, /* empty, its arrays small */
  };
  if (grown) { /* scratch that held more than a renewed engine keeps */
    g_array_free(kept.changes, TRUE);
    kept.changes = g_array_new(FALSE, FALSE, sizeof(imap_store_change));
    g_byte_array_unref(kept.tail);
    kept.tail = g_byte_array_new();
    /* a large reply or mailbox: let it go */
    g_byte_array_unref(kept.out);
    kept.out = g_byte_array_sized_new(512);
  }
  g_byte_array_set_size(kept.out, 0);
  kept.events->len = 0;
  *old = kept;
  srv_start(old, cfg, env, now);
  return old;
}

imap_srv *imap_srv_take(imap_srv **spares) {
  imap_srv *s = *spares;
  if (s) {
    *spares = s->next_spare;
    s->next_spare = NULL;
  }
  return s;
}

void imap_srv_keep(imap_srv **spares, imap_srv *s) {
  guint n = *spares ? (*spares)->nspares : 0;
  if (n >= SRV_SPARES_MAX) {
    imap_srv_free(s);
    return;
  }
  release_store(s); /* when imap_srv_free would: a spare holds no store */
  if (s->idx) {     /* nor index scratch */
    g_array_free(s->idx, TRUE);
    s->idx = NULL;
  }
  s->next_spare = *spares;
  s->nspares = n + 1;
  *spares = s;
}

bool imap_srv_next_event(imap_srv *s, imap_srv_event *ev) {
  qev_clear(&s->cur);
  if (s->ev_head >= s->events->len) {
    s->events->len = 0;
    s->ev_head = 0;
    return false;
  }
  s->cur = g_array_index(s->events, imap_srv__qev, s->ev_head++);
  *ev = s->cur.ev;
  ev->text = s->cur.text;
  ev->user = s->cur.user;
  ev->pass = s->cur.pass;
  ev->mailbox = s->cur.mailbox;
  return true;
}

const uint8_t *imap_srv_output_peek(const imap_srv *s, size_t *len) {
  *len = s->out->len;
  return s->out->data;
}
void imap_srv_output_consume(imap_srv *s, size_t n) {
  g_assert(n <= s->out->len);
  s->grown |= s->out->len > SRV_KEEP_MAX; /* the most it held since the last consume */
  g_byte_array_remove_range(s->out, 0, (guint)n);
}
imap_srv_state imap_srv_state_get(const imap_srv *s) { return s->state; }

int64_t imap_srv_deadline(const imap_srv *s) {
  if (s->state == IMAP_SRV_LOGOUT)
    return INT64_MAX;
  int64_t d = s->last_activity + s->cfg.idle_timeout;
  if (s->state == IMAP_SRV_IDLE && s->mbox && s->last_poll + s->cfg.poll_interval < d)
    d = s->last_poll + s->cfg.poll_interval;
  return d;
}

void imap_srv_tick(imap_srv *s, int64_t now) {
  if (s->state == IMAP_SRV_LOGOUT)
    return;
  s->now = now;
  if (now >= s->last_activity + s->cfg.idle_timeout) {
    imap_srv__untagged(s, "BYE Autologout; idle for too long");
    close_session(s);
    return;
  }
  if (s->state == IMAP_SRV_IDLE && now >= s->last_poll + s->cfg.poll_interval)
    imap_srv_poll(s);
}

void imap_srv_hangup(imap_srv *s) {
  if (s->state == IMAP_SRV_LOGOUT)
    return;
  release_store(s);
  imap_srv__enter(s, IMAP_SRV_LOGOUT);
}

/* ---- selected mailbox bookkeeping ---- */

void imap_srv__deselect(imap_srv *s) {
  s->grown |= s->view->len > SRV_KEEP_MAX / sizeof(uint32_t);
  if (s->mbox)
    g_ref_string_release(s->mbox);
  s->mbox = NULL;
  s->view->len = 0;
  s->pend_new->len = 0;
  s->pend_expunge->len = 0;
  s->pend_flags->len = 0;
  s->recent->len = 0;
  s->modseq_seen = 0;
}

static int u32_cmp(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorts A and drops duplicates. */
static void sort_unique(GArray *a) {
  g_array_sort(a, u32_cmp);
  guint out = 0;
  for (guint i = 0; i < a->len; i++)
    if (!out || g_array_index(a, uint32_t, i) != g_array_index(a, uint32_t, out - 1))
      g_array_index(a, uint32_t, out++) = g_array_index(a, uint32_t, i);
  g_array_set_size(a, out);
}

/* Index of UID in the sorted array A, or of where it would go. */
static guint sorted_index(const GArray *a, uint32_t uid, bool *found) {
  guint lo = 0, hi = a->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    uint32_t u = g_array_index(a, uint32_t, mid);
    if (u == uid) {
      *found = true;
      return mid;
    }
    if (u < uid)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

static uint32_t known_max(const imap_srv *s) {
  uint32_t m = s->view->len ? g_array_index(s->view, uint32_t, s->view->len - 1) : 0;
  if (s->pend_new->len)
    m = MAX(m, g_array_index(s->pend_new, uint32_t, s->pend_new->len - 1));
  return m;
}

/* The log no longer reaches our modseq: diff the view against the store
 * (both sorted), mark every surviving message's flags for a refresh. */
static void resync(imap_srv *s) {
  GArray *now = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  if (s->ops->uids(s->st, s->mbox, now) != IMAP_ST_OK) {
    g_array_free(now, TRUE);
    return;
  }
  guint j = 0;
  for (guint i = 0; i < s->view->len; i++) {
    uint32_t u = g_array_index(s->view, uint32_t, i);
    while (j < now->len && g_array_index(now, uint32_t, j) < u)
      j++;
    if (j < now->len && g_array_index(now, uint32_t, j) == u)
      g_array_append_val(s->pend_flags, u);
    else
      g_array_append_val(s->pend_expunge, u);
  }
  uint32_t max = known_max(s);
  for (j = 0; j < now->len; j++) {
    uint32_t u = g_array_index(now, uint32_t, j);
    if (u > max)
      g_array_append_val(s->pend_new, u);
  }
  g_array_free(now, TRUE);
  imap_store_status st;
  if (s->ops->status(s->st, s->mbox, &st) == IMAP_ST_OK)
    s->modseq_seen = st.highest_modseq;
}

void imap_srv__absorb(imap_srv *s, bool own) {
  if (!s->mbox || !s->ops)
    return;
  GArray *ch = s->changes; /* kept empty between calls */
  imap_store_err e = s->ops->changes(s->st, s->mbox, s->modseq_seen, ch);
  if (e == IMAP_ST_RESYNC) {
    resync(s);
  } else if (e == IMAP_ST_OK) {
    /* Duplicates in the pending sets are dropped at flush time. */
    for (guint i = 0; i < ch->len; i++) {
      imap_store_change *c = &g_array_index(ch, imap_store_change, i);
      s->modseq_seen = MAX(s->modseq_seen, c->modseq);
      bool in_view, in_new;
      sorted_index(s->view, c->uid, &in_view);
      switch (c->kind) {
      case IMAP_CH_APPEND:
        if (c->uid > known_max(s))
          g_array_append_val(s->pend_new, c->uid);
        break;
      case IMAP_CH_EXPUNGE: {
        if (in_view)
          g_array_append_val(s->pend_expunge, c->uid);
        guint k = sorted_index(s->pend_new, c->uid, &in_new);
        if (in_new)
          g_array_remove_index(s->pend_new, k);
        break;
      }
      case IMAP_CH_FLAGS:
        if (!own && in_view)
          g_array_append_val(s->pend_flags, c->uid);
        break;
      default:
        break;
      }
    }
  }
  /* A mailbox deleted under us: nothing more to learn; its messages will
   * look expunged to FETCH. */
  s->grown |= ch->len * sizeof(imap_store_change) > SRV_KEEP_MAX;
  ch->len = 0;
}

void imap_srv__expunge_view(imap_srv *s, GArray *uids, bool silent) {
  sort_unique(uids);
  guint out = 0, k = 0, removed = 0;
  for (guint i = 0; i < s->view->len; i++) {
    uint32_t u = g_array_index(s->view, uint32_t, i);
    while (k < uids->len && g_array_index(uids, uint32_t, k) < u)
      k++;
    if (k < uids->len && g_array_index(uids, uint32_t, k) == u) {
      /* RFC 3501 §7.4.1: each number is valid after the previous EXPUNGE */
      if (!silent)
        imap_srv__untagged(s, "%u EXPUNGE", i + 1 - removed);
      removed++;
      continue;
    }
    g_array_index(s->view, uint32_t, out++) = u;
  }
  g_array_set_size(s->view, out);
  /* expunged messages are no longer \Recent here */
  out = k = 0;
  for (guint i = 0; i < s->recent->len; i++) {
    uint32_t u = g_array_index(s->recent, uint32_t, i);
    while (k < uids->len && g_array_index(uids, uint32_t, k) < u)
      k++;
    if (k < uids->len && g_array_index(uids, uint32_t, k) == u)
      continue;
    g_array_index(s->recent, uint32_t, out++) = u;
  }
  g_array_set_size(s->recent, out);
}

bool imap_srv__is_recent(const imap_srv *s, uint32_t uid) {
  bool found;
  sorted_index(s->recent, uid, &found);
  return found;
}

void imap_srv__take_recent(imap_srv *s, const uint32_t *uids, size_t n) {
  uint32_t from = 0, to = 0;
  imap_store_status st;
  if (!n)
    return;
  if (!s->readonly) {
    if (s->ops->claim_recent(s->st, s->mbox, &from, &to) != IMAP_ST_OK)
      return;
  } else if (s->ops->status(s->st, s->mbox, &st) == IMAP_ST_OK) {
    from = st.recent_from; /* EXAMINE sees without claiming */
    to = UINT32_MAX;
  }
  for (size_t i = 0; i < n; i++)
    if (uids[i] >= from && uids[i] < to)
      g_array_append_val(s->recent, uids[i]);
}

void imap_srv__flags(imap_srv *s, GString *g, uint32_t uid, uint32_t flags, uint64_t kw) {
  static const char *const names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};
  g_string_append_c(g, '(');
  bool first = true;
  for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
    if (flags & (1u << i)) {
      if (!first)
        g_string_append_c(g, ' ');
      g_string_append(g, names[i]);
      first = false;
    }
  if (imap_srv__is_recent(s, uid)) {
    g_string_append(g, first ? "\\Recent" : " \\Recent");
    first = false;
  }
  for (unsigned i = 0; i < 64 && kw; i++)
    if (kw & (UINT64_C(1) << i)) {
      const char *n = s->ops->keyword_name(s->st, s->mbox, i);
      if (n) {
        if (!first)
          g_string_append_c(g, ' ');
        g_string_append(g, n);
        first = false;
      }
    }
  g_string_append_c(g, ')');
}

bool imap_srv__parse_flags(imap_srv *s, const char *mbox, const GPtrArray *list, bool create,
                           uint32_t *flags, uint64_t *kw) {
  static const char *const names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};
  *flags = 0;
  *kw = 0;
  for (guint i = 0; list && i < list->len; i++) {
    const char *f = g_ptr_array_index(list, i);
    if (f[0] == '\\') {
      bool ok = false;
      for (unsigned k = 0; k < G_N_ELEMENTS(names); k++)
        if ((f[1] | 0x20) == (names[k][1] | 0x20) && g_ascii_strcasecmp(f, names[k]) == 0) {
          *flags |= 1u << k;
          ok = true;
        }
      if (!ok && g_ascii_strcasecmp(f, "\\Recent") != 0)
        return false;
      continue;
    }
    int k = s->ops->keyword_index(s->st, mbox, f, create);
    if (k >= 0)
      *kw |= UINT64_C(1) << k;
  }
  return true;
}

void imap_srv__flush(imap_srv *s, bool allow_expunge) {
  if (!s->mbox)
    return;
  if (allow_expunge) {
    imap_srv__expunge_view(s, s->pend_expunge, false);
    s->pend_expunge->len = 0;
  }
  sort_unique(s->pend_expunge);
  sort_unique(s->pend_flags);
  if (s->pend_new->len) {
    g_array_append_vals(s->view, s->pend_new->data, s->pend_new->len);
    imap_srv__take_recent(s, (const uint32_t *)(void *)s->pend_new->data, s->pend_new->len);
    s->pend_new->len = 0;
    imap_srv__untagged(s, "%u EXISTS", s->view->len);
    imap_srv__untagged(s, "%u RECENT", s->recent->len);
  }
  for (guint i = 0; i < s->pend_flags->len; i++) {
    uint32_t uid = g_array_index(s->pend_flags, uint32_t, i);
    bool found;
    bool gone;
    guint idx = sorted_index(s->view, uid, &found);
    sorted_index(s->pend_expunge, uid, &gone);
    imap_store_msg m;
    if (!found || gone || s->ops->msg(s->st, s->mbox, uid, &m) != IMAP_ST_OK)
      continue;
    GString *g = g_string_new(NULL);
    imap_srv__flags(s, g, uid, m.flags, m.keywords);
    imap_srv__untagged(s, "%u FETCH (UID %u FLAGS %s)", idx + 1, uid, g->str);
    g_string_free(g, TRUE);
  }
  s->pend_flags->len = 0;
}

void imap_srv_poll(imap_srv *s) {
  s->last_poll = s->now;
  if (!s->mbox || !s->ops)
    return;
  imap_srv__absorb(s, false);
  if (s->state == IMAP_SRV_IDLE)
    imap_srv__flush(s, true);
}

/* ---- authentication ---- */

/* Queues the AUTH decision; USER and PASS are copied into the engine's
 * AUTH buffer (one decision is pending at a time: AUTH_WAIT reads no
 * command until it is answered). */
static void ask_auth(imap_srv *s, const char *user, const char *pass) {
  imap_srv__qev *q = push_take(s, IMAP_SRV_EV_AUTH, NULL);
  q->ev.id = s->pending_id = s->next_id++;
  auth_wipe(s);
  size_t ul = strlen(user) + 1, pl = strlen(pass) + 1;
  s->auth_len = ul + pl;
  s->auth = g_malloc(s->auth_len);
  q->user = memcpy(s->auth, user, ul);
  q->pass = memcpy(s->auth + ul, pass, pl);
  imap_srv__enter(s, IMAP_SRV_AUTH_WAIT);
}

void imap_srv_auth_answer(imap_srv *s, uint64_t id, imap_auth_result res, const imap_store_ops *ops,
                          void *ud) {
  if (s->state != IMAP_SRV_AUTH_WAIT || id != s->pending_id)
    g_error("imap_srv_auth_answer: no pending decision %" G_GUINT64_FORMAT, id);
  s->pending_id = 0;
  char tagbuf[65];
  const char *tag = pending_take(s, tagbuf);
  auth_wipe(s); /* the event's user and pass read as empty from here */
  switch (res) {
  case IMAP_AUTH_OK: {
    g_assert(ops && ops->release);
    s->ops = ops;
    s->st = ud;
    imap_srv__enter(s, IMAP_SRV_AUTHENTICATED);
    imap_framer_set_max_literal(s->fr, s->cfg.max_literal);
    imap_srv__tagged(s, tag, "OK", "[CAPABILITY %s] Logged in", capabilities(s));
    break;
  }
  case IMAP_AUTH_TEMP:
    imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
    imap_srv__tagged(s, tag, "NO", "[UNAVAILABLE] Temporary authentication failure");
    break;
  case IMAP_AUTH_FAIL:
    imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
    imap_srv__tagged(s, tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
    break;
  default:
    g_error("imap_srv_auth_answer: bad result %d", res);
  }
  imap_srv_feed(s, NULL, 0, s->now); /* pipelined commands */
}

void imap_srv_tls_done(imap_srv *s, bool ok) {
  if (s->state != IMAP_SRV_TLS_WAIT)
    g_error("imap_srv_tls_done: not waiting for TLS");
  imap_framer_discard(s->fr);
  if (!ok) {
    close_session(s);
    return;
  }
  s->cfg.tls_active = true;
  imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
}

static bool plain_allowed(imap_srv *s, const char *tag) {
  if (s->cfg.tls_required && !s->cfg.tls_active) {
    imap_srv__tagged(s, tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
    return false;
  }
  return true;
}

/* SASL PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static void plain_response(imap_srv *s, const char *tag, const char *b64) {
  if (strcmp(b64, "*") == 0) {
    imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
    imap_srv__tagged(s, tag, "BAD", "Authentication cancelled");
    return;
  }
  sasl_plain m;
  if (!sasl_plain_decode(&m, b64)) {
    imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
    imap_srv__tagged(s, tag, "BAD", "Invalid SASL PLAIN response");
  } else if (*m.authzid && strcmp(m.authzid, m.authcid) != 0) {
    imap_srv__enter(s, IMAP_SRV_NOT_AUTH);
    imap_srv__tagged(s, tag, "NO", "[AUTHORIZATIONFAILED] Authorization identity not permitted");
  } else {
    pending_set(s, tag);
    ask_auth(s, m.authcid, m.passwd);
  }
  sasl_plain_clear(&m);
}

/* ---- simple commands ---- */

typedef void (*verb_fn)(imap_srv *s, imap_cmd *c);

static void v_capability(imap_srv *s, imap_cmd *c) {
  imap_srv__untagged(s, "CAPABILITY %s", capabilities(s));
  imap_srv__tagged(s, c->tag, "OK", "CAPABILITY completed");
}

static void v_noop(imap_srv *s, imap_cmd *c) {
  imap_srv__tagged(s, c->tag, "OK", "%s completed", imap_verb_name(c->verb));
}

static void v_logout(imap_srv *s, imap_cmd *c) {
  imap_srv__untagged(s, "BYE %s IMAP4rev1 server logging out", s->hostname);
  imap_srv__tagged(s, c->tag, "OK", "LOGOUT completed");
  close_session(s);
}

static void v_starttls(imap_srv *s, imap_cmd *c) {
  if (!s->cfg.tls_available || s->cfg.tls_active) {
    imap_srv__tagged(s, c->tag, "BAD", "STARTTLS not available");
    return;
  }
  imap_srv__tagged(s, c->tag, "OK", "Begin TLS negotiation now");
  imap_srv__enter(s, IMAP_SRV_TLS_WAIT);
  push(s, IMAP_SRV_EV_STARTTLS, NULL);
}

static void v_login(imap_srv *s, imap_cmd *c) {
  if (!plain_allowed(s, c->tag))
    return;
  pending_set(s, c->tag);
  ask_auth(s, c->arg1, c->arg2);
}

static void v_authenticate(imap_srv *s, imap_cmd *c) {
  if (g_ascii_strcasecmp(c->arg1, "PLAIN") != 0) {
    imap_srv__tagged(s, c->tag, "NO", "[CANNOT] Unsupported authentication mechanism");
    return;
  }
  if (!plain_allowed(s, c->tag))
    return;
  if (c->arg2) { /* RFC 4959: "=" is an empty initial response */
    plain_response(s, c->tag, strcmp(c->arg2, "=") == 0 ? "" : c->arg2);
    return;
  }
  pending_set(s, c->tag);
  imap_srv__enter(s, IMAP_SRV_SASL);
  imap_srv__out(s, "+ \r\n", 4);
}

static void v_namespace(imap_srv *s, imap_cmd *c) {
  imap_srv__untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
  imap_srv__tagged(s, c->tag, "OK", "NAMESPACE completed");
}

static void v_id(imap_srv *s, imap_cmd *c) {
  imap_srv__untagged(s, "ID (\"name\" \"mailsim\" \"version\" \"0.1\")");
  imap_srv__tagged(s, c->tag, "OK", "ID completed");
}

static void v_enable(imap_srv *s, imap_cmd *c) {
  /* RFC 5161 §3.1: unknown names are ignored; nothing here is enableable. */
  imap_srv__untagged(s, "ENABLED");
  imap_srv__tagged(s, c->tag, "OK", "ENABLE completed");
}

static void v_idle(imap_srv *s, imap_cmd *c) {
  pending_set(s, c->tag);
  s->idle_from = s->state;
  imap_srv__enter(s, IMAP_SRV_IDLE);
  imap_srv__out(s, "+ idling\r\n", 10);
  s->last_poll = s->now;
  imap_srv__absorb(s, false);
  imap_srv__flush(s, true);
}

static void v_check(imap_srv *s, imap_cmd *c) {
  imap_srv__tagged(s, c->tag, "OK", "CHECK completed");
}

#define S_NA (1u << IMAP_SRV_NOT_AUTH)
#define S_AU (1u << IMAP_SRV_AUTHENTICATED)
#define S_SE (1u << IMAP_SRV_SELECTED)
#define S_ANY (S_NA | S_AU | S_SE)

/* Rows: verb, states it is allowed in, handler. Handlers check their
 * arguments (answering NO/BAD without changing state) before acting. */
static const struct {
  imap_verb verb;
  unsigned states;
  verb_fn fn;
} verbs[] = {
    {IMAP_VERB_CAPABILITY, S_ANY, v_capability},
    {IMAP_VERB_NOOP, S_ANY, v_noop},
    {IMAP_VERB_LOGOUT, S_ANY, v_logout},
    {IMAP_VERB_ID, S_ANY, v_id},
    {IMAP_VERB_STARTTLS, S_NA, v_starttls},
    {IMAP_VERB_AUTHENTICATE, S_NA, v_authenticate},
    {IMAP_VERB_LOGIN, S_NA, v_login},
    {IMAP_VERB_SELECT, S_AU | S_SE, imap_srv__select},
    {IMAP_VERB_EXAMINE, S_AU | S_SE, imap_srv__select},
    {IMAP_VERB_CREATE, S_AU | S_SE, imap_srv__create},
    {IMAP_VERB_DELETE, S_AU | S_SE, imap_srv__delete},
    {IMAP_VERB_RENAME, S_AU | S_SE, imap_srv__rename},
    {IMAP_VERB_SUBSCRIBE, S_AU | S_SE, imap_srv__subscribe},
    {IMAP_VERB_UNSUBSCRIBE, S_AU | S_SE, imap_srv__subscribe},
    {IMAP_VERB_LIST, S_AU | S_SE, imap_srv__list},
    {IMAP_VERB_LSUB, S_AU | S_SE, imap_srv__list},
    {IMAP_VERB_STATUS, S_AU | S_SE, imap_srv__status},
    {IMAP_VERB_APPEND, S_AU | S_SE, imap_srv__append},
    {IMAP_VERB_NAMESPACE, S_AU | S_SE, v_namespace},
    {IMAP_VERB_ENABLE, S_AU, v_enable},
    {IMAP_VERB_IDLE, S_AU | S_SE, v_idle},
    {IMAP_VERB_CHECK, S_SE, v_check},
    {IMAP_VERB_CLOSE, S_SE, imap_srv__close},
    {IMAP_VERB_UNSELECT, S_SE, imap_srv__close},
    {IMAP_VERB_EXPUNGE, S_SE, imap_srv__expunge},
    {IMAP_VERB_SEARCH, S_SE, imap_srv__search},
    {IMAP_VERB_FETCH, S_SE, imap_srv__fetch},
    {IMAP_VERB_STORE, S_SE, imap_srv__store},
    {IMAP_VERB_COPY, S_SE, imap_srv__copy},
    {IMAP_VERB_MOVE, S_SE, imap_srv__copy},
};

static void command(imap_srv *s, const uint8_t *data, size_t len) {
  char *tag;
  const char *err;
  imap_cmd *c = imap_cmd_parse_spare(&s->spare_cmd, data, len, &tag, &err);
  if (!c) {
    if (lines_wanted(s))
      line_take(s, "cmd", IMAP_SRV_EV_COMMAND, g_strdup_printf("%s <unparsed>", tag ? tag : "*"));
    imap_srv__tagged(s, tag, "BAD", "%s", err);
    g_free(tag);
    return;
  }
  /* What the trace shows: never a password or SASL response. */
  char *shown;
  if (!lines_wanted(s))
    shown = NULL;
  else if (c->verb == IMAP_VERB_LOGIN)
    shown = g_strconcat(c->tag, " LOGIN ", c->arg1, " ****", NULL);
  else if (c->verb == IMAP_VERB_AUTHENTICATE)
    shown = g_strconcat(c->tag, " AUTHENTICATE ", c->arg1, c->arg2 ? " ****" : "", NULL);
  else { /* the command's first line as sent (a literal's data follows it) */
    size_t n = 0;
    while (n < len && n < 998 && data[n] != '\r' && data[n] != '\n')
      n++;
    shown = g_strndup((const char *)data, n);
  }
  if (shown)
    line_take(s, "cmd", IMAP_SRV_EV_COMMAND, shown);
  for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
    if (verbs[i].verb != c->verb)
      continue;
    if (!(verbs[i].states & (1u << s->state))) {
      imap_srv__tagged(s, c->tag, "BAD", "%s not allowed %s", imap_verb_name(c->verb),
                       verbs[i].states == S_NA              ? "after login"
                       : s->state == IMAP_SRV_NOT_AUTH      ? "before login"
                       : s->state == IMAP_SRV_AUTHENTICATED ? "without a selected mailbox"
                                                            : "in selected state");
      break;
    }
    bool in_mbox = s->state == IMAP_SRV_SELECTED;
    if (in_mbox)
      imap_srv__absorb(s, false);
    size_t before = s->out->len;
    verbs[i].fn(s, c);
    if (s->state == IMAP_SRV_SELECTED && s->mbox) {
      /* Pending untagged responses go just before the tagged reply (the
       * last line). RFC 3501 §7.4.1: no EXPUNGE while answering FETCH,
       * STORE or SEARCH; their UID forms may carry it. */
      bool allow = c->uid || (c->verb != IMAP_VERB_FETCH && c->verb != IMAP_VERB_STORE &&
                              c->verb != IMAP_VERB_SEARCH);
      imap_srv__absorb(s, true);
      if (!s->pend_new->len && !s->pend_expunge->len && !s->pend_flags->len)
        break; /* nothing to announce: imap_srv__flush would write and change nothing */
      size_t last = s->out->len >= 2 ? s->out->len - 2 : 0;
      while (last > before && s->out->data[last - 1] != '\n')
        last--;
      GByteArray *tail = s->tail; /* kept empty between commands */
      g_byte_array_append(tail, s->out->data + last, s->out->len - (guint)last);
      g_byte_array_set_size(s->out, (guint)last);
      imap_srv__flush(s, allow);
      g_byte_array_append(s->out, tail->data, tail->len);
      s->grown |= tail->len > SRV_KEEP_MAX;
      g_byte_array_set_size(tail, 0);
    }
    break;
  }
  imap_cmd_recycle(&s->spare_cmd, c);
}

static void idle_line(imap_srv *s, const uint8_t *data, size_t len) {
  char tagbuf[65];
  const char *tag = pending_take(s, tagbuf);
  imap_srv__enter(s, s->idle_from);
  if (len == 4 && g_ascii_strncasecmp((const char *)data, "DONE", 4) == 0)
    imap_srv__tagged(s, tag, "OK", "IDLE terminated");
  else
    imap_srv__tagged(s, tag, "BAD", "Expected DONE");
}

static bool ready(const imap_srv *s) {
  return s->state == IMAP_SRV_NOT_AUTH || s->state == IMAP_SRV_SASL ||
         s->state == IMAP_SRV_AUTHENTICATED || s->state == IMAP_SRV_SELECTED ||
         s->state == IMAP_SRV_IDLE;
}

void imap_srv_feed(imap_srv *s, const void *data, size_t len, int64_t now) {
  if (s->state == IMAP_SRV_LOGOUT)
    return;
  s->now = now;
  if (len) {
    s->last_activity = now;
    imap_framer_feed(s->fr, data, len);
  }
  /* While a decision is pending, bound what a client may pipeline. */
  if (!ready(s) && imap_framer_pending(s->fr) > s->cfg.max_line * 4 + s->cfg.max_literal) {
    imap_srv__untagged(s, "BYE Too much pipelined input");
    close_session(s);
    return;
  }
  while (ready(s)) {
    imap_frame f = imap_framer_next(s->fr);
    if (f.kind == IMAP_FRAME_NEED_MORE)
      break;
    if (f.kind == IMAP_FRAME_CONTINUE) {
      imap_srv__out(s, "+ Ready for literal data\r\n", 26);
      continue;
    }
    if (f.kind == IMAP_FRAME_ERROR) {
      if (s->state == IMAP_SRV_SASL || s->state == IMAP_SRV_IDLE) {
        char tagbuf[65];
        const char *tag = pending_take(s, tagbuf);
        imap_srv__enter(s, s->state == IMAP_SRV_IDLE ? s->idle_from : IMAP_SRV_NOT_AUTH);
        imap_srv__tagged(s, tag, "BAD", "%s", f.error);
      } else {
        imap_srv__tagged(s, f.tag, "BAD", "%s", f.error);
      }
      continue;
    }
    if (s->state == IMAP_SRV_IDLE) {
      idle_line(s, f.data, f.len);
    } else if (s->state == IMAP_SRV_SASL) {
      char *line = g_strndup((const char *)f.data, f.len);
      char tagbuf[65];
      const char *tag = pending_take(s, tagbuf);
      plain_response(s, tag, line);
      g_free(line);
    } else {
      command(s, f.data, f.len);
    }
  }
}
