/* trace_stats.c — delivery delays, hops, retries, queues, greylisting,
 * bounces and DNS cache hits of a trace, in one pass (definitions in
 * trace_stats.h and traces/STATS.md). Integer arithmetic only; every list
 * keeps the order of first appearance in the trace, hash tables serve
 * lookups only, so the output is deterministic. */
#include "trace_stats.h"

#include <inttypes.h>
#include <string.h>

/* Per message, while reading. */
typedef struct {
  trace_stats_msg *m;
  GHashTable *rcpts;              /* rcpt -> GUINT flags (RC_*), lookup only */
  GHashTable *arrive;             /* node -> arrival* (latest arrival there) */
  GPtrArray *stored;              /* arrival* of msg.deliver, in order (node, mailbox) */
  int64_t compose, submit, queue; /* -1 = none */
} mstate;

enum { RC_KNOWN = 1, RC_DELIVERED = 2, RC_BOUNCED = 4, RC_FAILED = 8 };

typedef struct {
  const char *node, *mailbox; /* interned */
  int64_t t;
} arrival;

typedef struct {
  trace_stats *s;
  const char *name;
  trace_reader *r;
  GHashTable *msgs; /* msg -> mstate*, lookup only */
  GPtrArray *mstates;
  GHashTable *hops;   /* "kind\nfrom\nto" -> trace_stats_hop* */
  GHashTable *queues; /* node -> trace_stats_queue* */
  GHashTable *open_q; /* "node\nqueue_id" -> present */
  GHashTable *grey;   /* "msg\nrcpt\nnode" -> trace_stats_grey* while open */
  GHashTable *dns;    /* node -> trace_stats_dns* */
  GHashTable *dsns;   /* DSN ids, lookup only */
} builder;

static void mstate_free(mstate *m) {
  g_hash_table_unref(m->rcpts);
  g_hash_table_unref(m->arrive);
  g_ptr_array_unref(m->stored);
  g_free(m);
}

static void hop_free(trace_stats_hop *h) {
  g_array_unref(h->delays);
  g_free(h);
}

static void queue_free(trace_stats_queue *q) {
  g_array_unref(q->curve);
  g_free(q);
}

/* The interned copy of S. */
static const char *intern(builder *b, const char *s) {
  return g_string_chunk_insert_const(b->s->names, s);
}

void trace_stats_free(trace_stats *s) {
  if (!s)
    return;
  g_ptr_array_unref(s->msgs);
  g_ptr_array_unref(s->deliveries);
  g_array_unref(s->delays);
  g_ptr_array_unref(s->hop_samples);
  g_ptr_array_unref(s->hops);
  g_array_unref(s->retry_hist);
  g_ptr_array_unref(s->queues);
  g_ptr_array_unref(s->grey);
  g_array_unref(s->grey_policy);
  g_ptr_array_unref(s->dns);
  g_string_chunk_free(s->names);
  g_free(s);
}

/* ---- numbers ---- */

int64_t trace_stats_percentile(const int64_t *sorted, size_t n, unsigned p) {
  g_assert(n > 0 && p <= 100);
  size_t rank = (p * (uint64_t)n + 99) / 100; /* ceil(p n / 100) */
  if (rank < 1)
    rank = 1;
  return sorted[rank - 1];
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

trace_stats_summary trace_stats_summarize(const int64_t *v, size_t n) {
  trace_stats_summary s = {0};
  if (n == 0)
    return s;
  int64_t *c = g_memdup2(v, n * sizeof *v);
  qsort(c, n, sizeof *c, cmp_i64);
  s.n = n;
  s.min = c[0];
  s.max = c[n - 1];
  s.p50 = trace_stats_percentile(c, n, 50);
  s.p95 = trace_stats_percentile(c, n, 95);
  /* Mean without overflow: sum quotients and remainders separately. */
  int64_t q = 0, rem = 0;
  for (size_t i = 0; i < n; i++) {
    q += c[i] / (int64_t)n;
    rem += c[i] % (int64_t)n;
    q += rem / (int64_t)n;
    rem %= (int64_t)n;
  }
  s.mean = q;
  g_free(c);
  return s;
}

void trace_stats_fixed(GString *out, uint64_t num, uint64_t den, unsigned decimals) {
  if (den == 0) {
    g_string_append_c(out, '-');
    return;
  }
  g_assert(decimals <= 9);
  uint64_t scale = 1;
  for (unsigned i = 0; i < decimals; i++)
    scale *= 10;
  g_assert(den <= UINT64_MAX / 10);
  uint64_t whole = num / den, rest = num % den, frac = 0;
  for (unsigned i = 0; i < decimals; i++) { /* long division, one digit at a time */
    frac = frac * 10 + rest * 10 / den;
    rest = rest * 10 % den;
  }
  if (rest >= den - rest) /* half up */
    frac++;
  if (frac >= scale) {
    whole++;
    frac -= scale;
  }
  g_string_append_printf(out, "%" PRIu64, whole);
  if (decimals)
    g_string_append_printf(out, ".%0*" PRIu64, (int)decimals, frac);
}

void trace_stats_seconds(GString *out, int64_t ns) {
  if (ns < 0) {
    g_string_append_c(out, '-');
    ns = ns == INT64_MIN ? INT64_MAX : -ns;
  }
  trace_stats_fixed(out, (uint64_t)ns, 1000000000u, 3);
}

/* ---- reading ---- */

static bool lacks(builder *b, GError **err, const char *ev, const char *key) {
  g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
              "%s:%" PRIu64 ": %s record lacks the text key \"%s\"", b->name,
              trace_reader_line(b->r), ev, key);
  return false;
}

/* The text at KEY, or a "lacks KEY" error. */
static bool need_str(builder *b, const cJSON *rec, const char *ev, const char *key,
                     const char **out, GError **err) {
  *out = trace_get_str(rec, key);
  return *out ? true : lacks(b, err, ev, key);
}

static mstate *mstate_of(builder *b, const char *msg) {
  mstate *m = g_hash_table_lookup(b->msgs, msg);
  if (m)
    return m;
  m = g_new0(mstate, 1);
  m->m = g_new0(trace_stats_msg, 1);
  m->m->msg = intern(b, msg);
  m->m->origin = -1;
  m->m->origin_kind = "";
  m->rcpts = g_hash_table_new(g_str_hash, g_str_equal); /* interned keys */
  m->arrive = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  m->stored = g_ptr_array_new_with_free_func(g_free);
  m->compose = m->submit = m->queue = -1;
  g_ptr_array_add(b->s->msgs, m->m);
  g_ptr_array_add(b->mstates, m);
  g_hash_table_insert(b->msgs, (gpointer)m->m->msg, m);
  return m;
}

static void rcpt_flag(builder *b, mstate *m, const char *rcpt, unsigned flag) {
  gpointer v;
  unsigned old = 0;
  if (g_hash_table_lookup_extended(m->rcpts, rcpt, NULL, &v))
    old = GPOINTER_TO_UINT(v);
  else {
    m->m->rcpts++;
    b->s->recipients++;
  }
  unsigned now = old | RC_KNOWN | flag;
  if ((now & RC_DELIVERED) && !(old & RC_DELIVERED)) {
    m->m->delivered++;
    b->s->delivered++;
  }
  if ((now & RC_BOUNCED) && !(old & RC_BOUNCED)) {
    m->m->bounced++;
    b->s->bounced++;
  }
  if ((now & RC_FAILED) && !(old & RC_FAILED)) {
    m->m->failed++;
    b->s->failed++;
  }
  g_hash_table_replace(m->rcpts, (gpointer)intern(b, rcpt), GUINT_TO_POINTER(now));
}

static void rcpt_list(builder *b, mstate *m, const cJSON *rec) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, "rcpts");
  for (const cJSON *it = cJSON_IsArray(arr) ? arr->child : NULL; it; it = it->next)
    if (cJSON_IsString(it))
      rcpt_flag(b, m, it->valuestring, 0);
}

static void set_origin(mstate *m) {
  if (m->submit >= 0) {
    m->m->origin = m->submit;
    m->m->origin_kind = "submit";
  } else if (m->compose >= 0) {
    m->m->origin = m->compose;
    m->m->origin_kind = "compose";
  } else if (m->queue >= 0) {
    m->m->origin = m->queue;
    m->m->origin_kind = "queue";
  }
}

static void arrive(builder *b, mstate *m, const char *node, int64_t t) {
  arrival *a = g_new0(arrival, 1);
  a->node = intern(b, node);
  a->t = t;
  g_hash_table_replace(m->arrive, (gpointer)a->node, a);
}

static void hop(builder *b, const char *msg, int64_t t, const char *kind, const char *from,
                const char *to, int64_t delay) {
  char *key = g_strdup_printf("%s\n%s\n%s", kind, from, to);
  trace_stats_hop *h = g_hash_table_lookup(b->hops, key);
  if (!h) {
    h = g_new0(trace_stats_hop, 1);
    h->kind = intern(b, kind);
    h->from = intern(b, from);
    h->to = intern(b, to);
    h->delays = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_ptr_array_add(b->s->hops, h);
    g_hash_table_insert(b->hops, key, h);
  } else {
    g_free(key);
  }
  g_array_append_val(h->delays, delay);
  trace_stats_hop_sample *sm = g_new0(trace_stats_hop_sample, 1);
  sm->hop = h;
  sm->msg = intern(b, msg);
  sm->t = t;
  sm->delay = delay;
  g_ptr_array_add(b->s->hop_samples, sm);
}

static bool is_greylist(const char *reason) {
  if (strstr(reason, "4.2.0"))
    return true;
  for (const char *p = reason; *p; p++)
    if (g_ascii_strncasecmp(p, "greylist", 8) == 0)
      return true;
  return false;
}

static char *grey_key(const char *msg, const char *rcpt, const char *node) {
  return g_strdup_printf("%s\n%s\n%s", msg, rcpt, node);
}

/* MSG left NODE carrying the recipients of REC at T: close their waits. */
static void grey_close(builder *b, const char *msg, const char *node, const cJSON *rec, int64_t t) {
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, "rcpts");
  for (const cJSON *it = cJSON_IsArray(arr) ? arr->child : NULL; it; it = it->next) {
    if (!cJSON_IsString(it))
      continue;
    char *k = grey_key(msg, it->valuestring, node);
    trace_stats_grey *g = g_hash_table_lookup(b->grey, k);
    if (g) {
      g->delay = t - g->t;
      g_hash_table_remove(b->grey, k);
    }
    g_free(k);
  }
}

static trace_stats_queue *queue_of(builder *b, const char *node) {
  trace_stats_queue *q = g_hash_table_lookup(b->queues, node);
  if (q)
    return q;
  q = g_new0(trace_stats_queue, 1);
  q->node = intern(b, node);
  q->curve = g_array_new(FALSE, FALSE, sizeof(trace_stats_point));
  g_ptr_array_add(b->s->queues, q);
  g_hash_table_insert(b->queues, (gpointer)q->node, q);
  return q;
}

static void queue_step(trace_stats_queue *q, int64_t t, int64_t d) {
  int64_t len =
      (q->curve->len ? g_array_index(q->curve, trace_stats_point, q->curve->len - 1).len : 0) + d;
  if (q->curve->len && g_array_index(q->curve, trace_stats_point, q->curve->len - 1).t == t) {
    g_array_index(q->curve, trace_stats_point, q->curve->len - 1).len = len;
  } else {
    trace_stats_point p = {t, len};
    g_array_append_val(q->curve, p);
  }
  q->last = len;
}

static trace_stats_dns *dns_of(builder *b, const char *node) {
  trace_stats_dns *d = g_hash_table_lookup(b->dns, node);
  if (d)
    return d;
  d = g_new0(trace_stats_dns, 1);
  d->node = intern(b, node);
  g_ptr_array_add(b->s->dns, d);
  g_hash_table_insert(b->dns, (gpointer)d->node, d);
  return d;
}

static bool on_msg(builder *b, const cJSON *rec, const char *ev, int64_t t, GError **err) {
  const char *msg, *node, *from, *to, *rcpt;
  if (!need_str(b, rec, ev, "msg", &msg, err))
    return false;
  mstate *m = mstate_of(b, msg);
  const char *what = ev + 4;
  if (strcmp(what, "compose") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err))
      return false;
    rcpt_list(b, m, rec);
    if (m->compose < 0)
      m->compose = t;
    arrive(b, m, node, t);
  } else if (strcmp(what, "submit") == 0 || strcmp(what, "relay") == 0) {
    if (!need_str(b, rec, ev, "from", &from, err) || !need_str(b, rec, ev, "to", &to, err))
      return false;
    rcpt_list(b, m, rec);
    if (what[0] == 's' && m->submit < 0)
      m->submit = t;
    arrival *a = g_hash_table_lookup(m->arrive, from);
    if (a)
      hop(b, msg, t, what, from, to, t - a->t);
    grey_close(b, msg, from, rec, t);
    arrive(b, m, to, t);
  } else if (strcmp(what, "queue") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err))
      return false;
    const char *qid = trace_get_str(rec, "queue_id");
    rcpt_list(b, m, rec);
    if (m->queue < 0)
      m->queue = t;
    if (!g_hash_table_contains(m->arrive, node))
      arrive(b, m, node, t);
    trace_stats_queue *q = queue_of(b, node);
    char *k = g_strdup_printf("%s\n%s", node, qid ? qid : "");
    if (!g_hash_table_contains(b->open_q, k)) {
      g_hash_table_add(b->open_q, k);
      queue_step(q, t, +1);
    } else {
      g_free(k);
    }
  } else if (strcmp(what, "expire") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err))
      return false;
    const char *qid = trace_get_str(rec, "queue_id");
    char *k = g_strdup_printf("%s\n%s", node, qid ? qid : "");
    trace_stats_queue *q = g_hash_table_lookup(b->queues, node);
    if (q && g_hash_table_remove(b->open_q, k))
      queue_step(q, t, -1);
    else
      queue_of(b, node)->unmatched++;
    g_free(k);
  } else if (strcmp(what, "defer") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err) || !need_str(b, rec, ev, "rcpt", &rcpt, err))
      return false;
    const char *reason = trace_get_str(rec, "reason");
    rcpt_flag(b, m, rcpt, 0);
    m->m->retries++;
    b->s->deferrals++;
    if (reason && is_greylist(reason)) {
      b->s->grey_defers++;
      char *k = grey_key(msg, rcpt, node);
      if (!g_hash_table_contains(b->grey, k)) {
        trace_stats_grey *g = g_new0(trace_stats_grey, 1);
        g->msg = intern(b, msg);
        g->rcpt = intern(b, rcpt);
        g->node = intern(b, node);
        g->t = t;
        g->delay = -1;
        g_ptr_array_add(b->s->grey, g);
        g_hash_table_insert(b->grey, k, g);
      } else {
        g_free(k);
      }
    }
  } else if (strcmp(what, "bounce") == 0 || strcmp(what, "fail") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err) || !need_str(b, rec, ev, "rcpt", &rcpt, err))
      return false;
    rcpt_flag(b, m, rcpt, what[0] == 'b' ? RC_BOUNCED : RC_FAILED);
    char *k = grey_key(msg, rcpt, node);
    g_hash_table_remove(b->grey, k); /* unresolved: stays -1 */
    g_free(k);
    const char *dsn = trace_get_str(rec, "dsn");
    if (dsn && *dsn && !g_hash_table_contains(b->dsns, dsn)) {
      g_hash_table_add(b->dsns, g_strdup(dsn));
      b->s->dsns++;
    }
  } else if (strcmp(what, "deliver") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err) || !need_str(b, rec, ev, "rcpt", &rcpt, err))
      return false;
    rcpt_flag(b, m, rcpt, RC_DELIVERED);
    if (m->m->origin >= 0) {
      trace_stats_delivery *d = g_new0(trace_stats_delivery, 1);
      d->msg = intern(b, msg);
      d->rcpt = intern(b, rcpt);
      d->node = intern(b, node);
      d->t = t;
      d->delay = t - m->m->origin;
      g_ptr_array_add(b->s->deliveries, d);
      g_array_append_val(b->s->delays, d->delay);
    }
    arrival *a = g_hash_table_lookup(m->arrive, node);
    if (a)
      hop(b, msg, t, "deliver", node, node, t - a->t);
    arrival *st = g_new0(arrival, 1);
    st->node = intern(b, node);
    const char *mb = trace_get_str(rec, "mailbox");
    st->mailbox = intern(b, mb ? mb : "");
    st->t = t;
    g_ptr_array_add(m->stored, st);
  } else if (strcmp(what, "fetch") == 0) {
    if (!need_str(b, rec, ev, "node", &node, err) || !need_str(b, rec, ev, "from", &from, err))
      return false;
    const char *mb = trace_get_str(rec, "mailbox");
    const arrival *best = NULL, *any = NULL;
    for (guint i = 0; i < m->stored->len; i++) {
      const arrival *st = m->stored->pdata[i];
      if (strcmp(st->node, from) != 0)
        continue;
      any = st;
      if (mb && strcmp(st->mailbox, mb) == 0)
        best = st;
    }
    if (!best)
      best = any;
    if (best)
      hop(b, msg, t, "fetch", from, node, t - best->t);
    arrive(b, m, node, t);
  }
  set_origin(m);
  return true;
}

static void on_policy_greylist(builder *b, const cJSON *rec) {
  const char *v = trace_get_str(rec, "verdict");
  if (!v)
    v = trace_get_str(rec, "result");
  int64_t waited;
  if (v && strcmp(v, "pass-delayed") == 0 && trace_get_int(rec, "waited", &waited))
    g_array_append_val(b->s->grey_policy, waited);
}

trace_stats *trace_stats_read(trace_reader *r, const char *name, GError **err) {
  trace_stats *s = g_new0(trace_stats, 1);
  s->names = g_string_chunk_new(4096);
  s->msgs = g_ptr_array_new_with_free_func(g_free);
  s->deliveries = g_ptr_array_new_with_free_func(g_free);
  s->delays = g_array_new(FALSE, FALSE, sizeof(int64_t));
  s->hops = g_ptr_array_new_with_free_func((GDestroyNotify)hop_free);
  s->hop_samples = g_ptr_array_new_with_free_func(g_free);
  s->retry_hist = g_array_new(FALSE, TRUE, sizeof(uint64_t));
  s->queues = g_ptr_array_new_with_free_func((GDestroyNotify)queue_free);
  s->grey = g_ptr_array_new_with_free_func(g_free);
  s->grey_policy = g_array_new(FALSE, FALSE, sizeof(int64_t));
  s->dns = g_ptr_array_new_with_free_func(g_free);
  builder b = {
      .s = s,
      .name = name,
      .r = r,
      .msgs = g_hash_table_new(g_str_hash, g_str_equal),
      .mstates = g_ptr_array_new_with_free_func((GDestroyNotify)mstate_free),
      .hops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
      .queues = g_hash_table_new(g_str_hash, g_str_equal),
      .open_q = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
      .grey = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
      .dns = g_hash_table_new(g_str_hash, g_str_equal),
      .dsns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
  };
  const cJSON *rec;
  trace_read_status st;
  bool ok = true;
  while (ok && (st = trace_reader_next(r, &rec, err)) == TRACE_READ_OK) {
    const char *ev = trace_get_str(rec, "ev");
    int64_t t = 0;
    trace_get_int(rec, "t", &t);
    s->end = t;
    s->records++;
    if (g_str_has_prefix(ev, "msg.")) {
      ok = on_msg(&b, rec, ev, t, err);
    } else if (strcmp(ev, "policy.greylist") == 0) {
      on_policy_greylist(&b, rec);
    } else if (strcmp(ev, "dns.cache_hit") == 0 || strcmp(ev, "dns.timeout") == 0) {
      const char *node;
      ok = need_str(&b, rec, ev, "node", &node, err);
      if (ok) {
        trace_stats_dns *d = dns_of(&b, node);
        if (ev[4] == 'c') {
          d->hits++;
          s->dns_hits++;
        } else {
          d->timeouts++;
          s->dns_timeouts++;
        }
      }
    } else if (strcmp(ev, "dns.query") == 0) {
      const char *from;
      ok = need_str(&b, rec, ev, "from", &from, err);
      if (ok) {
        dns_of(&b, from)->queries++;
        s->dns_queries++;
      }
    }
  }
  if (ok && st == TRACE_READ_FAIL)
    ok = false;
  if (ok) {
    s->messages = s->msgs->len;
    g_array_sort(s->delays, cmp_i64);
    s->delay = trace_stats_summarize((const int64_t *)s->delays->data, s->delays->len);
    for (guint i = 0; i < s->hops->len; i++) {
      trace_stats_hop *h = s->hops->pdata[i];
      h->sum = trace_stats_summarize((const int64_t *)h->delays->data, h->delays->len);
    }
    for (guint i = 0; i < s->msgs->len; i++) {
      const trace_stats_msg *m = s->msgs->pdata[i];
      if (s->retry_hist->len <= m->retries)
        g_array_set_size(s->retry_hist, m->retries + 1);
      g_array_index(s->retry_hist, uint64_t, m->retries)++;
    }
    GArray *gd = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; i < s->grey->len; i++) {
      const trace_stats_grey *g = s->grey->pdata[i];
      if (g->delay >= 0)
        g_array_append_val(gd, g->delay);
    }
    s->grey_sum = trace_stats_summarize((const int64_t *)gd->data, gd->len);
    g_array_unref(gd);
    s->grey_policy_sum =
        trace_stats_summarize((const int64_t *)s->grey_policy->data, s->grey_policy->len);
    /* Time-weighted mean queue length over [0, end], microsecond steps. */
    for (guint i = 0; i < s->queues->len; i++) {
      trace_stats_queue *q = s->queues->pdata[i];
      int64_t span = s->end / 1000, sum = 0;
      for (guint k = 0; k < q->curve->len; k++) {
        const trace_stats_point *p = &g_array_index(q->curve, trace_stats_point, k);
        q->peak = MAX(q->peak, p->len);
        int64_t next = k + 1 < q->curve->len
                           ? g_array_index(q->curve, trace_stats_point, k + 1).t / 1000
                           : span;
        sum += p->len * (next - p->t / 1000);
      }
      q->mean_milli = span > 0 ? sum / span * 1000 + sum % span * 1000 / span : q->last * 1000;
    }
  }
  g_hash_table_unref(b.msgs);
  g_ptr_array_unref(b.mstates);
  g_hash_table_unref(b.hops);
  g_hash_table_unref(b.queues);
  g_hash_table_unref(b.open_q);
  g_hash_table_unref(b.grey);
  g_hash_table_unref(b.dns);
  g_hash_table_unref(b.dsns);
  if (!ok) {
    trace_stats_free(s);
    return NULL;
  }
  return s;
}

/* ---- output ---- */

static void pct(GString *o, uint64_t num, uint64_t den) { trace_stats_fixed(o, num * 100, den, 2); }

static void sec(GString *o, int64_t ns) { trace_stats_seconds(o, ns); }

static void summary_line(GString *o, const trace_stats_summary *m) {
  g_string_append(o, "min ");
  sec(o, m->min);
  g_string_append(o, " s  p50 ");
  sec(o, m->p50);
  g_string_append(o, " s  p95 ");
  sec(o, m->p95);
  g_string_append(o, " s  max ");
  sec(o, m->max);
  g_string_append(o, " s  mean ");
  sec(o, m->mean);
  g_string_append(o, " s\n");
}

/* A column of seconds, right-aligned to WIDTH. */
static void sec_col(GString *o, int64_t ns, int width) {
  GString *t = g_string_new(NULL);
  sec(t, ns);
  g_string_append_printf(o, " %*s", width, t->str);
  g_string_free(t, TRUE);
}

void trace_stats_write_text(const trace_stats *s, GString *o) {
  g_string_append_printf(o, "%" PRIu64 " records, the last at ", s->records);
  sec(o, s->end);
  g_string_append(o, " s\n\n");

  uint64_t pending = s->recipients - s->delivered - s->bounced - s->failed;
  if (s->delivered + s->bounced + s->failed > s->recipients)
    pending = 0; /* a recipient both delivered and bounced (e.g. on two hops) */
  g_string_append_printf(
      o, "Messages: %" PRIu64 " (%" PRIu64 " of them DSNs), recipients: %" PRIu64 "\n", s->messages,
      s->dsns, s->recipients);
  g_string_append_printf(o,
                         "  delivered %" PRIu64 ", bounced %" PRIu64
                         ", failed at the client %" PRIu64 ", not finished %" PRIu64 "\n",
                         s->delivered, s->bounced, s->failed, pending);
  g_string_append(o, "  bounce rate ");
  pct(o, s->bounced, s->recipients);
  g_string_append_printf(o, "%s (%" PRIu64 " of %" PRIu64 " recipients)\n\n",
                         s->recipients ? " %" : "", s->bounced, s->recipients);

  g_string_append_printf(o, "Delivery delay (origin -> msg.deliver), %" PRIu64 " samples\n",
                         s->delay.n);
  if (s->delay.n) {
    g_string_append(o, "  ");
    summary_line(o, &s->delay);
    g_string_append(o, "  CDF:");
    const int64_t *v = (const int64_t *)s->delays->data;
    for (unsigned p = 10; p <= 100; p += 10) {
      g_string_append_printf(o, " %u%%<=", p);
      sec(o, trace_stats_percentile(v, s->delays->len, p));
    }
    g_string_append(o, " (s)\n");
  }
  g_string_append(o, "\n");

  g_string_append(o, "Per-hop delay (time since the message reached the node it leaves), s\n");
  if (!s->hops->len)
    g_string_append(o, "  (no hops)\n");
  else
    g_string_append_printf(o, "  %-8s %-44s %6s %10s %10s %10s\n", "kind", "from -> to", "n", "p50",
                           "p95", "max");
  for (guint i = 0; i < s->hops->len; i++) {
    const trace_stats_hop *h = s->hops->pdata[i];
    char *fromto = strcmp(h->kind, "deliver") == 0 ? g_strdup_printf("at %s", h->from)
                                                   : g_strdup_printf("%s -> %s", h->from, h->to);
    g_string_append_printf(o, "  %-8s %-44s %6" PRIu64, h->kind, fromto, h->sum.n);
    sec_col(o, h->sum.p50, 10);
    sec_col(o, h->sum.p95, 10);
    sec_col(o, h->sum.max, 10);
    g_string_append_c(o, '\n');
    g_free(fromto);
  }
  g_string_append(o, "\n");

  g_string_append_printf(o, "Retries per message (msg.defer records): %" PRIu64 " in all\n",
                         s->deferrals);
  g_string_append(o, "  retries  messages\n");
  for (guint k = 0; k < s->retry_hist->len; k++) {
    uint64_t n = g_array_index(s->retry_hist, uint64_t, k);
    if (n)
      g_string_append_printf(o, "  %7u  %8" PRIu64 "\n", k, n);
  }
  g_string_append(o, "\n");

  g_string_append(o, "Queue length per MTA (+1 at msg.queue, -1 at msg.expire)\n");
  if (!s->queues->len)
    g_string_append(o, "  (no msg.queue records)\n");
  else
    g_string_append_printf(o, "  %-32s %6s %6s %10s %8s\n", "node", "peak", "final", "mean",
                           "changes");
  for (guint i = 0; i < s->queues->len; i++) {
    const trace_stats_queue *q = s->queues->pdata[i];
    GString *m = g_string_new(NULL);
    trace_stats_fixed(m, (uint64_t)q->mean_milli, 1000, 3);
    g_string_append_printf(o, "  %-32s %6" PRId64 " %6" PRId64 " %10s %8u", q->node, q->peak,
                           q->last, m->str, q->curve->len);
    if (q->unmatched)
      g_string_append_printf(o, "  (%" PRIu64 " msg.expire without msg.queue)", q->unmatched);
    g_string_append_c(o, '\n');
    g_string_free(m, TRUE);
  }
  g_string_append(o, "\n");

  g_string_append_printf(o, "Greylisting: %" PRIu64 " greylisted deferrals, %u recipient waits",
                         s->grey_defers, s->grey->len);
  g_string_append_printf(o, " (%" PRIu64 " resolved)\n", s->grey_sum.n);
  if (s->grey_sum.n) {
    g_string_append(o, "  delay added: ");
    summary_line(o, &s->grey_sum);
  }
  if (s->grey_policy_sum.n) {
    g_string_append_printf(o, "  policy.greylist pass-delayed: %" PRIu64 ", waited ",
                           s->grey_policy_sum.n);
    summary_line(o, &s->grey_policy_sum);
  }
  g_string_append(o, "\n");

  g_string_append(o, "DNS cache (hit rate = hits / (hits + queries sent))\n");
  if (!s->dns->len) {
    g_string_append(o, "  (no dns records: a messages-detail trace?)\n");
    return;
  }
  g_string_append_printf(o, "  %-32s %8s %8s %8s %9s\n", "node", "hits", "queries", "timeouts",
                         "hit rate");
  for (guint i = 0; i <= s->dns->len; i++) {
    const trace_stats_dns *d = i < s->dns->len ? s->dns->pdata[i] : NULL;
    uint64_t h = d ? d->hits : s->dns_hits, q = d ? d->queries : s->dns_queries,
             to = d ? d->timeouts : s->dns_timeouts;
    GString *r = g_string_new(NULL);
    pct(r, h, h + q);
    g_string_append_printf(o, "  %-32s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %7s%s\n",
                           d ? d->node : "(all)", h, q, to, r->str, h + q ? " %" : "");
    g_string_free(r, TRUE);
  }
}

/* RFC 4180: quote a field holding a comma, a quote, CR or LF. */
static void csv_field(GString *o, const char *v) {
  if (!v)
    return;
  if (!strpbrk(v, ",\"\r\n")) {
    g_string_append(o, v);
    return;
  }
  g_string_append_c(o, '"');
  for (const char *p = v; *p; p++) {
    if (*p == '"')
      g_string_append_c(o, '"');
    g_string_append_c(o, *p);
  }
  g_string_append_c(o, '"');
}

typedef struct {
  const char *section, *key, *node, *peer, *msg, *rcpt;
  bool has_t;
  int64_t t;
} csv_row;

static void csv_line(GString *o, const csv_row *r, const char *value) {
  const char *f[] = {r->section, r->key, r->node, r->peer, r->msg, r->rcpt};
  for (size_t i = 0; i < G_N_ELEMENTS(f); i++) {
    csv_field(o, f[i]);
    g_string_append_c(o, ',');
  }
  if (r->has_t)
    g_string_append_printf(o, "%" PRId64, r->t);
  g_string_append_c(o, ',');
  g_string_append(o, value);
  g_string_append(o, "\r\n");
}

static void csv_int(GString *o, const csv_row *r, int64_t v) {
  char buf[24];
  g_snprintf(buf, sizeof buf, "%" PRId64, v);
  csv_line(o, r, buf);
}

static void csv_ratio(GString *o, const csv_row *r, uint64_t num, uint64_t den) {
  GString *v = g_string_new(NULL);
  pct(v, num, den);
  csv_line(o, r, v->str);
  g_string_free(v, TRUE);
}

static void csv_summary(GString *o, const char *section, const char *prefix, const char *node,
                        const char *peer, const trace_stats_summary *m) {
  const char *names[] = {"n", "min_ns", "p50_ns", "p95_ns", "max_ns", "mean_ns"};
  int64_t vals[] = {(int64_t)m->n, m->min, m->p50, m->p95, m->max, m->mean};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    char *key = g_strdup_printf("%s%s", prefix, names[i]);
    csv_int(o, &(csv_row){.section = section, .key = key, .node = node, .peer = peer}, vals[i]);
    g_free(key);
  }
}

void trace_stats_write_csv(const trace_stats *s, GString *o) {
  g_string_append(o, "section,key,node,peer,msg,rcpt,t_ns,value\r\n");
  uint64_t pending = s->recipients - s->delivered - s->bounced - s->failed;
  if (s->delivered + s->bounced + s->failed > s->recipients)
    pending = 0;
  const struct {
    const char *key;
    int64_t v;
  } counts[] = {
      {"records", (int64_t)s->records},
      {"end_ns", s->end},
      {"messages", (int64_t)s->messages},
      {"dsns", (int64_t)s->dsns},
      {"recipients", (int64_t)s->recipients},
      {"delivered", (int64_t)s->delivered},
      {"bounced", (int64_t)s->bounced},
      {"failed", (int64_t)s->failed},
      {"pending", (int64_t)pending},
      {"deferrals", (int64_t)s->deferrals},
      {"grey_defers", (int64_t)s->grey_defers},
      {"grey_waits", (int64_t)s->grey->len},
      {"dns_hits", (int64_t)s->dns_hits},
      {"dns_queries", (int64_t)s->dns_queries},
      {"dns_timeouts", (int64_t)s->dns_timeouts},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
    csv_int(o, &(csv_row){.section = "summary", .key = counts[i].key}, counts[i].v);
  csv_ratio(o, &(csv_row){.section = "summary", .key = "bounce_rate_pct"}, s->bounced,
            s->recipients);
  csv_ratio(o, &(csv_row){.section = "summary", .key = "dns_hit_rate_pct"}, s->dns_hits,
            s->dns_hits + s->dns_queries);
  csv_summary(o, "summary", "delay_", NULL, NULL, &s->delay);
  csv_summary(o, "summary", "grey_", NULL, NULL, &s->grey_sum);
  csv_summary(o, "summary", "grey_policy_", NULL, NULL, &s->grey_policy_sum);

  for (guint i = 0; i < s->deliveries->len; i++) {
    const trace_stats_delivery *d = s->deliveries->pdata[i];
    csv_int(o,
            &(csv_row){.section = "delivery",
                       .node = d->node,
                       .msg = d->msg,
                       .rcpt = d->rcpt,
                       .has_t = true,
                       .t = d->t},
            d->delay);
  }
  for (guint i = 0; i < s->delays->len; i++) {
    GString *f = g_string_new(NULL);
    trace_stats_fixed(f, i + 1, s->delays->len, 6);
    csv_int(o, &(csv_row){.section = "cdf", .key = f->str}, g_array_index(s->delays, int64_t, i));
    g_string_free(f, TRUE);
  }
  for (guint i = 0; i < s->hop_samples->len; i++) {
    const trace_stats_hop_sample *h = s->hop_samples->pdata[i];
    csv_int(o,
            &(csv_row){.section = "hop",
                       .key = h->hop->kind,
                       .node = h->hop->from,
                       .peer = h->hop->to,
                       .msg = h->msg,
                       .has_t = true,
                       .t = h->t},
            h->delay);
  }
  for (guint i = 0; i < s->hops->len; i++) {
    const trace_stats_hop *h = s->hops->pdata[i];
    char *prefix = g_strdup_printf("%s.", h->kind);
    csv_summary(o, "hop_summary", prefix, h->from, h->to, &h->sum);
    g_free(prefix);
  }
  for (guint i = 0; i < s->msgs->len; i++) {
    const trace_stats_msg *m = s->msgs->pdata[i];
    csv_int(o,
            &(csv_row){.section = "retries",
                       .key = m->origin_kind,
                       .msg = m->msg,
                       .has_t = m->origin >= 0,
                       .t = m->origin},
            m->retries);
  }
  for (guint k = 0; k < s->retry_hist->len; k++) {
    char key[16];
    g_snprintf(key, sizeof key, "%u", k);
    csv_int(o, &(csv_row){.section = "retry_hist", .key = key},
            (int64_t)g_array_index(s->retry_hist, uint64_t, k));
  }
  for (guint i = 0; i < s->queues->len; i++) {
    const trace_stats_queue *q = s->queues->pdata[i];
    for (guint k = 0; k < q->curve->len; k++) {
      const trace_stats_point *p = &g_array_index(q->curve, trace_stats_point, k);
      csv_int(o, &(csv_row){.section = "queue", .node = q->node, .has_t = true, .t = p->t}, p->len);
    }
    csv_int(o, &(csv_row){.section = "queue_summary", .key = "peak", .node = q->node}, q->peak);
    csv_int(o, &(csv_row){.section = "queue_summary", .key = "final", .node = q->node}, q->last);
    GString *m = g_string_new(NULL);
    trace_stats_fixed(m, (uint64_t)q->mean_milli, 1000, 3);
    csv_line(o, &(csv_row){.section = "queue_summary", .key = "mean", .node = q->node}, m->str);
    g_string_free(m, TRUE);
    csv_int(o, &(csv_row){.section = "queue_summary", .key = "unmatched_expire", .node = q->node},
            (int64_t)q->unmatched);
  }
  for (guint i = 0; i < s->grey->len; i++) {
    const trace_stats_grey *g = s->grey->pdata[i];
    csv_int(o,
            &(csv_row){.section = "greylist",
                       .node = g->node,
                       .msg = g->msg,
                       .rcpt = g->rcpt,
                       .has_t = true,
                       .t = g->t},
            g->delay);
  }
  for (guint i = 0; i < s->grey_policy->len; i++)
    csv_int(o, &(csv_row){.section = "greylist_policy"}, g_array_index(s->grey_policy, int64_t, i));
  for (guint i = 0; i < s->dns->len; i++) {
    const trace_stats_dns *d = s->dns->pdata[i];
    csv_int(o, &(csv_row){.section = "dns", .key = "hits", .node = d->node}, (int64_t)d->hits);
    csv_int(o, &(csv_row){.section = "dns", .key = "queries", .node = d->node},
            (int64_t)d->queries);
    csv_int(o, &(csv_row){.section = "dns", .key = "timeouts", .node = d->node},
            (int64_t)d->timeouts);
    csv_ratio(o, &(csv_row){.section = "dns", .key = "hit_rate_pct", .node = d->node}, d->hits,
              d->hits + d->queries);
  }
}
