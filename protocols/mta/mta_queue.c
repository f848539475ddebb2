/* mta_queue.c — the queue model of an MTA: per-recipient delivery state
 * (RFC 5321 §4.5.4.1: the sender keeps the message and retries deferred
 * recipients; §6.1: once it has said 250 it must deliver or report),
 * DSN accounting (RFC 3464; never a DSN about a null-sender message,
 * RFC 5321 §4.5.5), a binary heap for due times with the queue id breaking
 * ties, and a length-checked little-endian encoding for the disk.
 *
 * Layout per message: the mta_msg, one array of mta_rcpt, the strings, one
 * hash entry (qid lookup only, never iterated for output), one heap slot
 * and one tree node per (destination, message). mta_queue_memory() adds
 * these up; tests/test_mta_queue.c measures the real figure.
 */
#include "mta_queue.h"

#include <string.h>

static const char *const rcpt_state_names[MTA_RCPT__COUNT] = {"pending", "deferred", "delivered",
                                                              "bounced"};

const char *mta_rcpt_state_name(mta_rcpt_state s) {
  g_assert((unsigned)s < MTA_RCPT__COUNT);
  return rcpt_state_names[s];
}

typedef struct {
  int64_t due;
  mta_msg *m;
} heap_ent;

typedef struct {
  uint32_t qid;
  uint32_t delivered, bounced;
  uint32_t dsn_qid; /* 0: none (null sender, or nothing bounced) */
  uint32_t dsn_of;  /* the message was itself a DSN about this qid */
  uint32_t flags;   /* LEDGER_F_* */
} ledger_ent;

enum { LEDGER_F_NULL_SENDER = 1u << 0, LEDGER_F_WITHDRAWN = 1u << 1 };

typedef struct {
  char *name;
  GTree *msgs; /* qid → unfinished recipients for this destination */
} dest_ent;

struct mta_queue {
  uint32_t next_qid;
  GHashTable *msgs;       /* qid → mta_msg* (lookup only) */
  GArray *heap;           /* heap_ent, min by (due, qid) */
  GHashTable *dest_index; /* name → dest_ent* (lookup only) */
  GPtrArray *dests;       /* dest_ent*, creation order */
  GArray *ledger;         /* ledger_ent */
  mta_queue_stats st;
  size_t str_bytes; /* bytes of message strings held */
};

/* ---- helpers ---- */

static gint qid_cmp(gconstpointer a, gconstpointer b, gpointer ud) {
  (void)ud;
  uint32_t x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
  return x < y ? -1 : x > y;
}

static dest_ent *dest_get(mta_queue *q, const char *name) {
  char *low = g_ascii_strdown(name, -1);
  dest_ent *d = g_hash_table_lookup(q->dest_index, low);
  if (d) {
    g_free(low);
  } else {
    d = g_new0(dest_ent, 1);
    d->name = low;
    d->msgs = g_tree_new_full(qid_cmp, NULL, NULL, NULL);
    g_hash_table_insert(q->dest_index, d->name, d);
    g_ptr_array_add(q->dests, d);
  }
  return d;
}

static void dest_adjust(mta_queue *q, const char *name, uint32_t qid, int delta) {
  dest_ent *d = g_hash_table_lookup(q->dest_index, name);
  g_assert(d);
  gpointer key = GUINT_TO_POINTER(qid);
  int n = GPOINTER_TO_INT(g_tree_lookup(d->msgs, key)) + delta;
  g_assert(n >= 0);
  if (n == 0)
    g_tree_remove(d->msgs, key);
  else
    g_tree_insert(d->msgs, key, GINT_TO_POINTER(n));
}

static bool heap_less(const heap_ent *a, const heap_ent *b) {
  return a->due < b->due || (a->due == b->due && a->m->qid < b->m->qid);
}

static void heap_set(mta_queue *q, guint i, heap_ent e) {
  g_array_index(q->heap, heap_ent, i) = e;
  e.m->heap_idx = (int32_t)i;
}

static void heap_fix(mta_queue *q, guint i) {
  heap_ent e = g_array_index(q->heap, heap_ent, i);
  while (i > 0) {
    guint parent = (i - 1) / 2;
    heap_ent p = g_array_index(q->heap, heap_ent, parent);
    if (!heap_less(&e, &p))
      break;
    heap_set(q, i, p);
    i = parent;
  }
  for (;;) {
    guint c = 2 * i + 1;
    if (c >= q->heap->len)
      break;
    if (c + 1 < q->heap->len &&
        heap_less(&g_array_index(q->heap, heap_ent, c + 1), &g_array_index(q->heap, heap_ent, c)))
      c++;
    if (!heap_less(&g_array_index(q->heap, heap_ent, c), &e))
      break;
    heap_set(q, i, g_array_index(q->heap, heap_ent, c));
    i = c;
  }
  heap_set(q, i, e);
}

static void heap_remove(mta_queue *q, mta_msg *m) {
  if (m->heap_idx < 0)
    return;
  guint i = (guint)m->heap_idx, last = q->heap->len - 1;
  m->heap_idx = -1;
  if (i != last) {
    g_array_index(q->heap, heap_ent, i) = g_array_index(q->heap, heap_ent, last);
    g_array_set_size(q->heap, last);
    heap_fix(q, i);
  } else {
    g_array_set_size(q->heap, last);
  }
}

/* Sets M's due time and its place in the heap (INT64_MAX: out of it). */
static void set_due(mta_queue *q, mta_msg *m, int64_t due) {
  m->due = due;
  if (due == INT64_MAX) {
    heap_remove(q, m);
    return;
  }
  if (m->heap_idx < 0) {
    heap_ent e = {due, m};
    g_array_append_val(q->heap, e);
    m->heap_idx = (int32_t)(q->heap->len - 1);
  } else {
    g_array_index(q->heap, heap_ent, m->heap_idx).due = due;
  }
  heap_fix(q, (guint)m->heap_idx);
}

static size_t str_cost(const char *s) { return s ? strlen(s) + 1 : 0; }

static size_t msg_str_bytes(const mta_msg *m) {
  size_t n = str_cost(m->sender);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    n += str_cost(m->rcpts[i].addr) + str_cost(m->rcpts[i].text) + str_cost(m->rcpts[i].remote_mta);
  return n;
}

static bool rcpt_final(const mta_rcpt *r) {
  return r->state == MTA_RCPT_DELIVERED || r->state == MTA_RCPT_BOUNCED;
}

static mta_msg *msg_get(const mta_queue *q, uint32_t qid, const char *fn) {
  mta_msg *m = g_hash_table_lookup(q->msgs, GUINT_TO_POINTER(qid));
  if (!m)
    g_error("%s: queue id %u is not queued", fn, qid);
  return m;
}

static void msg_free(mta_msg *m) {
  if (!m)
    return;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    g_free(m->rcpts[i].addr);
    g_free(m->rcpts[i].text);
    g_free(m->rcpts[i].remote_mta);
  }
  g_free(m->rcpts);
  g_free(m->sender);
  if (m->body)
    g_bytes_unref(m->body);
  g_free(m);
}

/* ---- life cycle ---- */

mta_queue *mta_queue_new(void) {
  mta_queue *q = g_new0(mta_queue, 1);
  q->next_qid = 1;
  q->msgs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)msg_free);
  q->heap = g_array_new(FALSE, FALSE, sizeof(heap_ent));
  q->dest_index = g_hash_table_new(g_str_hash, g_str_equal);
  q->dests = g_ptr_array_new();
  q->ledger = g_array_new(FALSE, FALSE, sizeof(ledger_ent));
  return q;
}

void mta_queue_free(mta_queue *q) {
  if (!q)
    return;
  g_hash_table_destroy(q->msgs);
  g_array_free(q->heap, TRUE);
  for (guint i = 0; i < q->dests->len; i++) {
    dest_ent *d = q->dests->pdata[i];
    g_tree_destroy(d->msgs);
    g_free(d->name);
    g_free(d);
  }
  g_hash_table_destroy(q->dest_index);
  g_ptr_array_free(q->dests, TRUE);
  g_array_free(q->ledger, TRUE);
  g_free(q);
}

/* Registers M (fully built, qid set) in the indexes and the statistics. */
static void msg_insert(mta_queue *q, mta_msg *m) {
  g_hash_table_insert(q->msgs, GUINT_TO_POINTER(m->qid), m);
  m->heap_idx = -1;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    dest_ent *d = dest_get(q, r->dest);
    r->dest = d->name;
    if (!rcpt_final(r)) {
      dest_adjust(q, r->dest, m->qid, +1);
      q->st.queued_rcpts++;
    }
  }
  q->str_bytes += msg_str_bytes(m);
  q->st.queued++;
  q->st.queued_bytes += m->size;
  if (q->st.queued > q->st.peak_queued)
    q->st.peak_queued = q->st.queued;
  if (m->qid >= q->next_qid)
    q->next_qid = m->qid + 1;
  set_due(q, m, m->due);
}

uint32_t mta_queue_add(mta_queue *q, const mta_queue_add_args *a) {
  g_assert(q && a && a->nrcpts > 0 && a->rcpts);
  bool null_sender = !a->sender || !*a->sender;
  if (a->dsn_of && !null_sender)
    g_error("mta_queue_add: a DSN must have a null sender");
  if (q->next_qid == UINT32_MAX)
    g_error("mta_queue_add: queue ids exhausted");
  mta_msg *m = g_new0(mta_msg, 1);
  m->qid = q->next_qid;
  m->arrival = a->arrival;
  m->due = a->arrival;
  m->body = a->body ? g_bytes_ref(a->body) : NULL;
  m->body_id = a->body_id;
  m->size = a->size ? a->size : (a->body ? g_bytes_get_size(a->body) : 0);
  m->sender = g_strdup(null_sender ? "" : a->sender);
  m->dsn_of = a->dsn_of;
  m->nrcpts = (uint32_t)a->nrcpts;
  m->rcpts = g_new0(mta_rcpt, a->nrcpts);
  for (size_t i = 0; i < a->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    g_assert(a->rcpts[i]);
    r->addr = g_strdup(a->rcpts[i]);
    const char *dest = a->dests && a->dests[i] ? a->dests[i] : strrchr(r->addr, '@');
    dest = dest ? (dest == strrchr(r->addr, '@') ? dest + 1 : dest) : "";
    r->dest = dest; /* interned by msg_insert */
    r->last_try = -1;
  }
  q->st.accepted++;
  if (a->dsn_of)
    q->st.dsns++;
  msg_insert(q, m);
  return m->qid;
}

void mta_queue_withdraw(mta_queue *q, uint32_t qid) {
  mta_msg *m = msg_get(q, qid, "mta_queue_withdraw");
  g_assert(!m->in_attempt && m->attempts == 0);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (!rcpt_final(&m->rcpts[i])) {
      dest_adjust(q, m->rcpts[i].dest, m->qid, -1);
      q->st.queued_rcpts--;
    }
  ledger_ent e = {m->qid, 0, 0, 0, m->dsn_of, LEDGER_F_WITHDRAWN};
  g_array_append_val(q->ledger, e);
  heap_remove(q, m);
  q->str_bytes -= msg_str_bytes(m);
  q->st.queued--;
  q->st.queued_bytes -= m->size;
  q->st.accepted--;
  if (m->dsn_of)
    q->st.dsns--;
  g_hash_table_remove(q->msgs, GUINT_TO_POINTER(qid));
}

const mta_msg *mta_queue_get(const mta_queue *q, uint32_t qid) {
  return g_hash_table_lookup(q->msgs, GUINT_TO_POINTER(qid));
}

int64_t mta_queue_next_due(const mta_queue *q) {
  return q->heap->len ? g_array_index(q->heap, heap_ent, 0).due : INT64_MAX;
}

static gint due_cmp(gconstpointer a, gconstpointer b) {
  const heap_ent *x = a, *y = b;
  return heap_less(x, y) ? -1 : heap_less(y, x) ? 1 : 0;
}

size_t mta_queue_due(const mta_queue *q, int64_t now, GArray *qids) {
  /* Walk the heap from the root, only into subtrees that hold due entries. */
  GArray *found = g_array_new(FALSE, FALSE, sizeof(heap_ent));
  GArray *stack = g_array_new(FALSE, FALSE, sizeof(guint));
  guint root = 0;
  if (q->heap->len)
    g_array_append_val(stack, root);
  while (stack->len) {
    guint i = g_array_index(stack, guint, stack->len - 1);
    g_array_set_size(stack, stack->len - 1);
    heap_ent e = g_array_index(q->heap, heap_ent, i);
    if (e.due > now)
      continue;
    g_array_append_val(found, e);
    for (guint c = 2 * i + 1; c <= 2 * i + 2 && c < q->heap->len; c++)
      g_array_append_val(stack, c);
  }
  g_array_sort(found, due_cmp);
  for (guint i = 0; i < found->len; i++)
    g_array_append_val(qids, g_array_index(found, heap_ent, i).m->qid);
  size_t n = found->len;
  g_array_free(found, TRUE);
  g_array_free(stack, TRUE);
  return n;
}

/* ---- attempts ---- */

static void rcpt_finish(mta_queue *q, mta_msg *m, mta_rcpt *r, mta_rcpt_state state) {
  g_assert(!rcpt_final(r));
  r->state = (uint8_t)state;
  dest_adjust(q, r->dest, m->qid, -1);
  q->st.queued_rcpts--;
  if (state == MTA_RCPT_DELIVERED)
    q->st.rcpt_delivered++;
  else
    q->st.rcpt_bounced++;
}

static void rcpt_set_text(mta_queue *q, mta_rcpt *r, char **field, const char *v) {
  (void)r;
  q->str_bytes -= str_cost(*field);
  g_free(*field);
  *field = g_strdup(v);
  q->str_bytes += str_cost(*field);
}

static bool msg_needs_dsn(const mta_msg *m) {
  if (!*m->sender)
    return false;
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_BOUNCED && !(m->rcpts[i].flags & MTA_RCPT_F_REPORTED))
      return true;
  return false;
}

/* Moves M to the ledger if it is finished; returns whether it left. */
static bool maybe_retire(mta_queue *q, mta_msg *m) {
  if (m->in_attempt)
    return false;
  ledger_ent e = {m->qid, 0, 0, m->dsn_qid, m->dsn_of, *m->sender ? 0 : LEDGER_F_NULL_SENDER};
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    const mta_rcpt *r = &m->rcpts[i];
    if (!rcpt_final(r))
      return false;
    if (r->state == MTA_RCPT_DELIVERED)
      e.delivered++;
    else
      e.bounced++;
  }
  if (msg_needs_dsn(m))
    return false;
  if (e.bounced && !*m->sender)
    q->st.dsn_suppressed += e.bounced;
  g_array_append_val(q->ledger, e);
  heap_remove(q, m);
  q->str_bytes -= msg_str_bytes(m);
  q->st.queued--;
  q->st.queued_bytes -= m->size;
  q->st.done++;
  g_hash_table_remove(q->msgs, GUINT_TO_POINTER(m->qid));
  return true;
}

static void bounce_unfinished(mta_queue *q, mta_msg *m, const char *why, int64_t now) {
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    if (rcpt_final(r))
      continue;
    r->flags &= (uint8_t)~MTA_RCPT_F_INFLIGHT;
    /* Keep the last deferral's reason and status (Postfix reports an
     * expired recipient with it); RFC 3463 X.4.7 "delivery time expired"
     * when there was none. */
    if (!r->text)
      rcpt_set_text(q, r, &r->text, why);
    if (!*r->esc)
      g_strlcpy(r->esc, "4.4.7", sizeof r->esc);
    r->last_try = now;
    rcpt_finish(q, m, r, MTA_RCPT_BOUNCED);
  }
}

bool mta_queue_begin_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now) {
  mta_msg *m = msg_get(q, qid, "mta_queue_begin_attempt");
  g_assert(!m->in_attempt);
  if (p && (m->expire_pending || mta_retry_expired(p, m->arrival, !*m->sender, now))) {
    bounce_unfinished(q, m, "retry timeout exceeded", now);
    m->expire_pending = false;
    set_due(q, m, INT64_MAX);
    maybe_retire(q, m);
    return false;
  }
  m->in_attempt = true;
  m->attempts++;
  q->st.attempts++;
  set_due(q, m, INT64_MAX);
  return true;
}

void mta_queue_take(mta_queue *q, uint32_t qid, uint32_t i) {
  mta_msg *m = msg_get(q, qid, "mta_queue_take");
  g_assert(m->in_attempt && i < m->nrcpts);
  g_assert(!rcpt_final(&m->rcpts[i]) && !(m->rcpts[i].flags & MTA_RCPT_F_INFLIGHT));
  m->rcpts[i].flags |= MTA_RCPT_F_INFLIGHT;
}

void mta_queue_result(mta_queue *q, uint32_t qid, uint32_t i, const mta_queue_result_args *a,
                      int64_t now) {
  mta_msg *m = msg_get(q, qid, "mta_queue_result");
  g_assert(i < m->nrcpts && a);
  mta_rcpt *r = &m->rcpts[i];
  g_assert(!rcpt_final(r));
  r->flags &= (uint8_t)~MTA_RCPT_F_INFLIGHT;
  r->code = (uint16_t)(a->code > 0 && a->code < 1000 ? a->code : 0);
  g_strlcpy(r->esc, a->esc ? a->esc : "", sizeof r->esc);
  rcpt_set_text(q, r, &r->text, a->text);
  rcpt_set_text(q, r, &r->remote_mta, a->remote_mta);
  r->last_try = now;
  if (r->attempts < UINT16_MAX)
    r->attempts++;
  switch (a->state) {
  case MTA_RCPT_DELIVERED:
  case MTA_RCPT_BOUNCED:
    rcpt_finish(q, m, r, a->state);
    break;
  case MTA_RCPT_DEFERRED:
    r->state = MTA_RCPT_DEFERRED;
    q->st.rcpt_deferred++;
    break;
  default:
    g_error("mta_queue_result: %s is not an outcome", mta_rcpt_state_name(a->state));
  }
}

void mta_queue_result_from_smtp(const smtp_cli_rcpt_result *r, const char *remote_mta,
                                mta_queue_result_args *out) {
  static const mta_rcpt_state map[] = {[SMTP_CLI_OK] = MTA_RCPT_DELIVERED,
                                       [SMTP_CLI_TEMP] = MTA_RCPT_DEFERRED,
                                       [SMTP_CLI_PERM] = MTA_RCPT_BOUNCED};
  g_assert((unsigned)r->status < G_N_ELEMENTS(map));
  *out = (mta_queue_result_args){map[r->status], r->code, r->esc, r->text,
                                 r->local ? NULL : remote_mta};
}

void mta_queue_end_attempt(mta_queue *q, uint32_t qid, const mta_retry_profile *p, int64_t now,
                           mta_queue_outcome *out) {
  mta_msg *m = msg_get(q, qid, "mta_queue_end_attempt");
  g_assert(m->in_attempt && p && out);
  m->in_attempt = false;
  memset(out, 0, sizeof *out);
  out->next = INT64_MAX;
  unsigned deferred = 0;
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    mta_rcpt *r = &m->rcpts[i];
    if (r->flags & MTA_RCPT_F_INFLIGHT)
      g_error("mta_queue_end_attempt: recipient %u of %u still in flight", i, qid);
    if (!rcpt_final(r))
      deferred++;
  }
  if (deferred) {
    out->verdict = mta_retry_after_failure(p, &m->retry, m->arrival, m->attempts, !*m->sender, now,
                                           &out->next);
    if (out->verdict == MTA_RETRY_BOUNCE) {
      bounce_unfinished(q, m, "retry timeout exceeded", now);
      out->next = INT64_MAX;
    } else {
      m->expire_pending = out->verdict == MTA_RETRY_EXPIRE;
      for (uint32_t i = 0; i < m->nrcpts; i++)
        if (!rcpt_final(&m->rcpts[i])) {
          m->rcpts[i].state = MTA_RCPT_DEFERRED;
          m->rcpts[i].next_try = out->next;
        }
      set_due(q, m, out->next);
    }
  }
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    switch (m->rcpts[i].state) {
    case MTA_RCPT_DELIVERED:
      out->delivered++;
      break;
    case MTA_RCPT_BOUNCED:
      out->bounced++;
      break;
    default:
      out->deferred++;
    }
  }
  out->needs_dsn = msg_needs_dsn(m);
  out->done = maybe_retire(q, m);
}

bool mta_queue_needs_dsn(const mta_queue *q, uint32_t qid) {
  const mta_msg *m = mta_queue_get(q, qid);
  return m && msg_needs_dsn(m);
}

void mta_queue_dsn_queued(mta_queue *q, uint32_t qid, uint32_t dsn_qid) {
  mta_msg *m = msg_get(q, qid, "mta_queue_dsn_queued");
  g_assert(msg_needs_dsn(m) && dsn_qid != 0);
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_BOUNCED)
      m->rcpts[i].flags |= MTA_RCPT_F_REPORTED;
  m->dsn_qid = dsn_qid;
  maybe_retire(q, m);
}

bool mta_queue_warning_due(const mta_queue *q, uint32_t qid, const mta_retry_profile *p,
                           int64_t now) {
  const mta_msg *m = msg_get(q, qid, "mta_queue_warning_due");
  if (!*m->sender || now < mta_retry_warning_at(p, m->arrival, m->warnings))
    return false;
  for (uint32_t i = 0; i < m->nrcpts; i++)
    if (m->rcpts[i].state == MTA_RCPT_DEFERRED)
      return true;
  return false;
}

void mta_queue_warning_sent(mta_queue *q, uint32_t qid) {
  mta_msg *m = msg_get(q, qid, "mta_queue_warning_sent");
  if (m->warnings < UINT8_MAX)
    m->warnings++;
}

/* ---- destinations ---- */

static gint str_ptr_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t mta_queue_dests(const mta_queue *q, GPtrArray *names) {
  GPtrArray *tmp = g_ptr_array_new();
  for (guint i = 0; i < q->dests->len; i++) {
    dest_ent *d = q->dests->pdata[i];
    if (g_tree_nnodes(d->msgs) > 0)
      g_ptr_array_add(tmp, d->name);
  }
  g_ptr_array_sort(tmp, str_ptr_cmp);
  for (guint i = 0; i < tmp->len; i++)
    g_ptr_array_add(names, tmp->pdata[i]);
  size_t n = tmp->len;
  g_ptr_array_free(tmp, TRUE);
  return n;
}

typedef struct {
  const mta_queue *q;
  const char *dest;
  int64_t now;
  bool any_time;
  GArray *found; /* heap_ent */
} ready_ctx;

static gboolean ready_visit(gpointer key, gpointer value, gpointer ud) {
  (void)value;
  ready_ctx *c = ud;
  mta_msg *m = g_hash_table_lookup(c->q->msgs, key);
  g_assert(m);
  int64_t due = m->in_attempt ? c->now : m->due;
  if (c->any_time || due <= c->now) {
    heap_ent e = {due, m};
    g_array_append_val(c->found, e);
  }
  return FALSE;
}

size_t mta_queue_dest_ready(const mta_queue *q, const char *dest, int64_t now, bool any_time,
                            GArray *out) {
  char *low = g_ascii_strdown(dest, -1);
  dest_ent *d = g_hash_table_lookup(q->dest_index, low);
  g_free(low);
  if (!d)
    return 0;
  ready_ctx c = {q, d->name, now, any_time, g_array_new(FALSE, FALSE, sizeof(heap_ent))};
  g_tree_foreach(d->msgs, ready_visit, &c);
  g_array_sort(c.found, due_cmp);
  size_t n = 0;
  for (guint k = 0; k < c.found->len; k++) {
    const mta_msg *m = g_array_index(c.found, heap_ent, k).m;
    for (uint32_t i = 0; i < m->nrcpts; i++) {
      const mta_rcpt *r = &m->rcpts[i];
      if (r->dest == d->name && !rcpt_final(r) && !(r->flags & MTA_RCPT_F_INFLIGHT) &&
          !m->expire_pending) {
        mta_queue_ref ref = {m->qid, i};
        g_array_append_val(out, ref);
        n++;
      }
    }
  }
  g_array_free(c.found, TRUE);
  return n;
}

void mta_queue_get_stats(const mta_queue *q, mta_queue_stats *st) { *st = q->st; }

size_t mta_queue_memory(const mta_queue *q) {
  /* malloc keeps about 16 bytes of bookkeeping per block; a GHashTable
   * entry is a hash, a key and a value slot; a GTree node is five words. */
  const size_t blk = 16;
  size_t n = sizeof *q + q->heap->len * sizeof(heap_ent) + q->ledger->len * sizeof(ledger_ent);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, q->msgs); /* a sum: order does not matter */
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const mta_msg *m = v;
    n += sizeof *m + blk + m->nrcpts * sizeof(mta_rcpt) + blk;
    n += sizeof(guint) + 2 * sizeof(gpointer);
    n += (m->sender ? blk : 0);
    for (uint32_t i = 0; i < m->nrcpts; i++)
      n += blk * (1 + (m->rcpts[i].text != NULL) + (m->rcpts[i].remote_mta != NULL));
  }
  n += q->str_bytes;
  for (guint i = 0; i < q->dests->len; i++) {
    const dest_ent *d = q->dests->pdata[i];
    n += sizeof *d + blk + strlen(d->name) + 1 +
         (size_t)g_tree_nnodes(d->msgs) * (5 * sizeof(gpointer) + blk);
  }
  return n;
}

/* ---- invariant ---- */

static gint u32_cmp(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static gint ledger_cmp(gconstpointer a, gconstpointer b) {
  const ledger_ent *x = a, *y = b;
  return x->qid < y->qid ? -1 : x->qid > y->qid;
}

static void violation(GPtrArray *v, size_t *count, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void violation(GPtrArray *v, size_t *count, const char *fmt, ...) {
  (*count)++;
  if (!v)
    return;
  va_list ap;
  va_start(ap, fmt);
  g_ptr_array_add(v, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* Checks one qid known to the queue or its ledger; false when unknown. */
static bool check_one(const mta_queue *q, GArray *led, uint32_t qid, GPtrArray *violations,
                      size_t *count) {
  const mta_msg *m = mta_queue_get(q, qid);
  if (m) {
    if (!m->in_attempt && m->due == INT64_MAX && !msg_needs_dsn(m))
      violation(violations, count, "message %u: queued but neither due nor waiting for a DSN", qid);
    return true;
  }
  ledger_ent key = {.qid = qid};
  guint idx;
  if (!g_array_binary_search(led, &key, ledger_cmp, &idx))
    return false;
  const ledger_ent *e = &g_array_index(led, ledger_ent, idx);
  if (e->flags & LEDGER_F_WITHDRAWN)
    return true;
  if (e->bounced && !(e->flags & LEDGER_F_NULL_SENDER) && e->dsn_qid == 0)
    violation(violations, count, "message %u: %u recipient(s) bounced without a DSN", qid,
              e->bounced);
  if (e->dsn_qid && (e->flags & LEDGER_F_NULL_SENDER))
    violation(violations, count, "message %u: a DSN about a null-sender message", qid);
  return true;
}

size_t mta_queue_check(const mta_queue *q, const uint32_t *accepted, size_t n,
                       GPtrArray *violations) {
  size_t count = 0;
  GArray *led = g_array_sized_new(FALSE, FALSE, sizeof(ledger_ent), q->ledger->len);
  g_array_append_vals(led, q->ledger->data, q->ledger->len);
  g_array_sort(led, ledger_cmp);
  if (accepted) {
    for (size_t k = 0; k < n; k++)
      if (!check_one(q, led, accepted[k], violations, &count))
        violation(violations, &count, "message %u: accepted, then lost", accepted[k]);
  } else {
    /* Every id below the counter was issued: walk the known ones in order
     * and report each gap once, as a range. */
    GArray *known = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, q->msgs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
      uint32_t id = GPOINTER_TO_UINT(k);
      g_array_append_val(known, id);
    }
    for (guint i = 0; i < led->len; i++)
      g_array_append_val(known, g_array_index(led, ledger_ent, i).qid);
    g_array_sort(known, u32_cmp);
    uint32_t expect = 1;
    for (guint i = 0; i < known->len; i++) {
      uint32_t id = g_array_index(known, uint32_t, i);
      if (id < expect) /* a duplicate */
        continue;
      if (id > expect)
        violation(violations, &count,
                  id - 1 == expect ? "message %u: accepted, then lost"
                                   : "messages %u-%u: accepted, then lost",
                  expect, id - 1);
      check_one(q, led, id, violations, &count);
      expect = id + 1;
    }
    if (q->next_qid > expect)
      violation(violations, &count,
                q->next_qid - 1 == expect ? "message %u: accepted, then lost"
                                          : "messages %u-%u: accepted, then lost",
                expect, q->next_qid - 1);
    g_array_free(known, TRUE);
  }
  /* A DSN about a DSN anywhere in the queue or the ledger. */
  for (guint i = 0; i < led->len; i++) {
    const ledger_ent *e = &g_array_index(led, ledger_ent, i);
    if (e->dsn_of && e->dsn_qid)
      violation(violations, &count, "message %u: a DSN (about %u) was bounced to its sender",
                e->qid, e->dsn_of);
  }
  g_array_free(led, TRUE);
  return count;
}

/* ---- encoding ---- */

#define MSG_MAGIC "MQM1"
#define QUEUE_MAGIC "MQQ1"
#define NO_STR UINT32_MAX

static void put_u8(GByteArray *o, uint8_t v) { g_byte_array_append(o, &v, 1); }
static void put_u16(GByteArray *o, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  g_byte_array_append(o, b, 2);
}
static void put_u32(GByteArray *o, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(o, b, 4);
}
static void put_u64(GByteArray *o, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  g_byte_array_append(o, b, 8);
}
static void put_str(GByteArray *o, const char *s) {
  if (!s) {
    put_u32(o, NO_STR);
    return;
  }
  size_t n = strlen(s);
  put_u32(o, (uint32_t)n);
  g_byte_array_append(o, (const guint8 *)s, (guint)n);
}

typedef struct {
  const uint8_t *p;
  size_t left;
  bool bad;
} rd;

static bool take(rd *r, size_t n, const uint8_t **out) {
  if (r->bad || r->left < n) {
    r->bad = true;
    return false;
  }
  *out = r->p;
  r->p += n;
  r->left -= n;
  return true;
}
static uint64_t get_uint(rd *r, int bytes) {
  const uint8_t *b;
  if (!take(r, (size_t)bytes, &b))
    return 0;
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = (v << 8) | b[i];
  return v;
}
static int64_t get_i64(rd *r) { return (int64_t)get_uint(r, 8); }
/* A string: NULL for the absent marker; sets bad on truncation or NUL. */
static char *get_str(rd *r, bool *absent) {
  uint32_t n = (uint32_t)get_uint(r, 4);
  *absent = false;
  if (r->bad)
    return NULL;
  if (n == NO_STR) {
    *absent = true;
    return NULL;
  }
  const uint8_t *b;
  if (!take(r, n, &b) || memchr(b, 0, n)) {
    r->bad = true;
    return NULL;
  }
  return g_strndup((const char *)b, n);
}

void mta_queue_msg_encode(const mta_queue *q, uint32_t qid, GByteArray *o) {
  const mta_msg *m = msg_get(q, qid, "mta_queue_msg_encode");
  g_byte_array_append(o, (const guint8 *)MSG_MAGIC, 4);
  put_u32(o, m->qid);
  put_u32(o, m->attempts);
  put_u64(o, (uint64_t)m->arrival);
  /* A message caught in an attempt is due again at once after a crash. */
  put_u64(o, (uint64_t)(m->in_attempt ? m->arrival : m->due));
  put_u64(o, m->size);
  put_u64(o, m->body_id);
  put_u32(o, m->dsn_of);
  put_u32(o, m->dsn_qid);
  put_u8(o, (uint8_t)((m->body ? 1 : 0) | (m->expire_pending ? 2 : 0) | (m->in_attempt ? 4 : 0)));
  put_u8(o, m->warnings);
  put_u64(o, (uint64_t)m->retry.last_try);
  put_u64(o, (uint64_t)m->retry.next_try);
  put_str(o, m->sender);
  put_u32(o, m->nrcpts);
  for (uint32_t i = 0; i < m->nrcpts; i++) {
    const mta_rcpt *r = &m->rcpts[i];
    put_str(o, r->addr);
    put_str(o, r->dest);
    put_str(o, r->text);
    put_str(o, r->remote_mta);
    put_u64(o, (uint64_t)r->next_try);
    put_u64(o, (uint64_t)r->last_try);
    put_u16(o, r->code);
    put_u8(o, r->state);
    put_u8(o, (uint8_t)(r->flags & MTA_RCPT_F_REPORTED));
    put_str(o, r->esc);
    put_u16(o, r->attempts);
  }
  if (m->body) {
    gsize n;
    const guint8 *b = g_bytes_get_data(m->body, &n);
    put_u64(o, n);
    g_byte_array_append(o, b, (guint)n);
  }
}

/* Reads one record; the recipients' destination names are returned in
 * DESTS (owned) until msg_insert interns them. */
static mta_msg *msg_read(rd *r, GPtrArray *dests, char **err) {
  const uint8_t *magic;
  if (!take(r, 4, &magic) || memcmp(magic, MSG_MAGIC, 4) != 0) {
    *err = g_strdup("message record: bad magic");
    return NULL;
  }
  mta_msg *m = g_new0(mta_msg, 1);
  m->heap_idx = -1;
  m->qid = (uint32_t)get_uint(r, 4);
  m->attempts = (uint32_t)get_uint(r, 4);
  m->arrival = get_i64(r);
  m->due = get_i64(r);
  m->size = get_uint(r, 8);
  m->body_id = get_uint(r, 8);
  m->dsn_of = (uint32_t)get_uint(r, 4);
  m->dsn_qid = (uint32_t)get_uint(r, 4);
  uint8_t flags = (uint8_t)get_uint(r, 1);
  m->expire_pending = (flags & 2) != 0;
  m->warnings = (uint8_t)get_uint(r, 1);
  m->retry.last_try = get_i64(r);
  m->retry.next_try = get_i64(r);
  bool absent;
  m->sender = get_str(r, &absent);
  uint32_t n = (uint32_t)get_uint(r, 4);
  /* Each recipient takes at least 42 octets: bound N before allocating. */
  if (r->bad || absent || m->qid == 0 || m->qid == UINT32_MAX || n == 0 || n > r->left / 42 ||
      (flags & ~7u) || (m->dsn_of && *m->sender)) {
    *err = g_strdup("message record: bad header");
    m->nrcpts = 0;
    msg_free(m);
    return NULL;
  }
  m->rcpts = g_new0(mta_rcpt, n);
  m->nrcpts = n;
  const char *why = NULL;
  for (uint32_t i = 0; i < n && !r->bad && !why; i++) {
    mta_rcpt *rc = &m->rcpts[i];
    bool a1, a2, a3, a4, a5;
    rc->addr = get_str(r, &a1);
    char *dest = get_str(r, &a2);
    rc->text = get_str(r, &a3);
    rc->remote_mta = get_str(r, &a4);
    rc->next_try = get_i64(r);
    rc->last_try = get_i64(r);
    rc->code = (uint16_t)get_uint(r, 2);
    rc->state = (uint8_t)get_uint(r, 1);
    rc->flags = (uint8_t)get_uint(r, 1);
    char *esc = get_str(r, &a5);
    rc->attempts = (uint16_t)get_uint(r, 2);
    if (!r->bad && (a1 || a2 || a5 || rc->state >= MTA_RCPT__COUNT ||
                    (rc->flags & ~MTA_RCPT_F_REPORTED) || strlen(esc) >= sizeof rc->esc))
      why = "message record: bad recipient";
    else if (esc)
      g_strlcpy(rc->esc, esc, sizeof rc->esc);
    g_free(esc);
    g_ptr_array_add(dests, dest ? dest : g_strdup(""));
    rc->dest = g_ptr_array_index(dests, dests->len - 1);
  }
  if (!r->bad && !why && (flags & 1)) {
    uint64_t blen = get_uint(r, 8);
    const uint8_t *b;
    if (blen > r->left || !take(r, (size_t)blen, &b))
      why = "message record: truncated body";
    else
      m->body = g_bytes_new(b, (gsize)blen);
  }
  if (r->bad || why) {
    *err = g_strdup(why ? why : "message record: truncated");
    msg_free(m);
    return NULL;
  }
  return m;
}

uint32_t mta_queue_msg_decode(mta_queue *q, const uint8_t *data, size_t len, char **err) {
  rd r = {data, len, false};
  GPtrArray *dests = g_ptr_array_new_with_free_func(g_free);
  mta_msg *m = msg_read(&r, dests, err);
  uint32_t qid = 0;
  if (m && r.left) {
    *err = g_strdup("message record: trailing octets");
    msg_free(m);
  } else if (m && mta_queue_get(q, m->qid)) {
    *err = g_strdup_printf("message record: queue id %u is already queued", m->qid);
    msg_free(m);
  } else if (m) {
    msg_insert(q, m);
    qid = m->qid;
  }
  g_ptr_array_free(dests, TRUE);
  return qid;
}

GBytes *mta_queue_encode(const mta_queue *q) {
  GByteArray *o = g_byte_array_new();
  g_byte_array_append(o, (const guint8 *)QUEUE_MAGIC, 4);
  put_u32(o, q->next_qid);
  const uint64_t *sv = (const uint64_t *)&q->st;
  for (size_t i = 0; i < sizeof q->st / sizeof(uint64_t); i++)
    put_u64(o, sv[i]);
  put_u32(o, q->ledger->len);
  for (guint i = 0; i < q->ledger->len; i++) {
    const ledger_ent *e = &g_array_index(q->ledger, ledger_ent, i);
    put_u32(o, e->qid);
    put_u32(o, e->delivered);
    put_u32(o, e->bounced);
    put_u32(o, e->dsn_qid);
    put_u32(o, e->dsn_of);
    put_u32(o, e->flags);
  }
  GArray *qids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, q->msgs);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    uint32_t id = GPOINTER_TO_UINT(k);
    g_array_append_val(qids, id);
  }
  g_array_sort(qids, u32_cmp); /* hash order never reaches the output */
  put_u32(o, qids->len);
  GByteArray *rec = g_byte_array_new();
  for (guint i = 0; i < qids->len; i++) {
    g_byte_array_set_size(rec, 0);
    mta_queue_msg_encode(q, g_array_index(qids, uint32_t, i), rec);
    put_u32(o, rec->len);
    g_byte_array_append(o, rec->data, rec->len);
  }
  g_byte_array_free(rec, TRUE);
  g_array_free(qids, TRUE);
  return g_byte_array_free_to_bytes(o);
}

mta_queue *mta_queue_decode(const uint8_t *data, size_t len, char **err) {
  rd r = {data, len, false};
  const uint8_t *magic;
  if (!take(&r, 4, &magic) || memcmp(magic, QUEUE_MAGIC, 4) != 0) {
    *err = g_strdup("queue: bad magic");
    return NULL;
  }
  mta_queue *q = mta_queue_new();
  uint32_t next_qid = (uint32_t)get_uint(&r, 4);
  mta_queue_stats st;
  uint64_t *sv = (uint64_t *)&st;
  for (size_t i = 0; i < sizeof st / sizeof(uint64_t); i++)
    sv[i] = get_uint(&r, 8);
  uint32_t nled = (uint32_t)get_uint(&r, 4);
  if (r.bad || nled > r.left / 24 || next_qid == 0) {
    *err = g_strdup("queue: bad header");
    mta_queue_free(q);
    return NULL;
  }
  for (uint32_t i = 0; i < nled; i++) {
    ledger_ent e;
    e.qid = (uint32_t)get_uint(&r, 4);
    e.delivered = (uint32_t)get_uint(&r, 4);
    e.bounced = (uint32_t)get_uint(&r, 4);
    e.dsn_qid = (uint32_t)get_uint(&r, 4);
    e.dsn_of = (uint32_t)get_uint(&r, 4);
    e.flags = (uint32_t)get_uint(&r, 4);
    g_array_append_val(q->ledger, e);
  }
  uint32_t nmsg = (uint32_t)get_uint(&r, 4);
  for (uint32_t i = 0; i < nmsg && !r.bad; i++) {
    uint32_t rl = (uint32_t)get_uint(&r, 4);
    const uint8_t *b;
    if (!take(&r, rl, &b))
      break;
    if (!mta_queue_msg_decode(q, b, rl, err)) {
      mta_queue_free(q);
      return NULL;
    }
  }
  if (r.bad || r.left) {
    *err = g_strdup(r.bad ? "queue: truncated" : "queue: trailing octets");
    mta_queue_free(q);
    return NULL;
  }
  /* Statistics as saved, except what the restored messages define. */
  mta_queue_stats now = q->st;
  q->st = st;
  q->st.queued = now.queued;
  q->st.queued_rcpts = now.queued_rcpts;
  q->st.queued_bytes = now.queued_bytes;
  if (next_qid > q->next_qid)
    q->next_qid = next_qid;
  return q;
}
