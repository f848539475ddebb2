/* trace_diff_mail.c — two traces compared message by message (see
 * trace_diff_mail.h). Journeys are kept in arrays in the order their
 * messages first appear; hash tables only find them. */
#include "trace_diff_mail.h"

#include <string.h>

#include "trace_time.h"

enum { OUT_PENDING, OUT_DELIVERED, OUT_BOUNCED, OUT_FAILED };
static const char *const out_names[] = {"still pending", "delivered", "bounced",
                                        "given up by the client"};

typedef struct {
  char *addr;
  int outcome;
  int64_t t; /* of the outcome */
} rcpt_out;

typedef struct {
  char *msg, *ident;
  GPtrArray *route; /* char*: hosts that accepted it, in order, each once */
  unsigned defers;  /* MTA attempts that deferred someone */
  int64_t defer_t;  /* time of the last one counted */
  char *defer_node;
  GArray *rcpts; /* rcpt_out */
} journey;

typedef struct {
  GPtrArray *order;   /* journey* */
  GHashTable *by_msg; /* msg -> journey* */
  GHashTable *dsn_of; /* dsn msg -> original msg */
} trace_mail;

static void journey_free(void *p) {
  journey *j = p;
  g_free(j->msg);
  g_free(j->ident);
  g_free(j->defer_node);
  g_ptr_array_unref(j->route);
  for (guint i = 0; i < j->rcpts->len; i++)
    g_free(g_array_index(j->rcpts, rcpt_out, i).addr);
  g_array_unref(j->rcpts);
  g_free(j);
}

static void mail_clear(trace_mail *m) {
  g_ptr_array_unref(m->order);
  g_hash_table_unref(m->by_msg);
  g_hash_table_unref(m->dsn_of);
}

static journey *journey_of(trace_mail *m, const char *msg) {
  journey *j = g_hash_table_lookup(m->by_msg, msg);
  if (!j) {
    j = g_new0(journey, 1);
    j->msg = g_strdup(msg);
    j->route = g_ptr_array_new_with_free_func(g_free);
    j->rcpts = g_array_new(FALSE, TRUE, sizeof(rcpt_out));
    g_ptr_array_add(m->order, j);
    g_hash_table_insert(m->by_msg, j->msg, j);
  }
  return j;
}

static rcpt_out *rcpt_of(journey *j, const char *addr) {
  for (guint i = 0; i < j->rcpts->len; i++) {
    rcpt_out *r = &g_array_index(j->rcpts, rcpt_out, i);
    if (g_ascii_strcasecmp(r->addr, addr) == 0)
      return r;
  }
  rcpt_out r = {g_strdup(addr), OUT_PENDING, 0};
  g_array_append_val(j->rcpts, r);
  return &g_array_index(j->rcpts, rcpt_out, j->rcpts->len - 1);
}

static void add_rcpts(journey *j, const cJSON *rec) {
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, "rcpts")) {
    if (cJSON_IsString(it))
      rcpt_of(j, it->valuestring);
  }
}

static void take(trace_mail *m, const cJSON *rec) {
  const char *ev = trace_get_str(rec, "ev"), *msg = trace_get_str(rec, "msg");
  int64_t t = 0;
  if (!ev || !msg || !g_str_has_prefix(ev, "msg.") || !trace_get_int(rec, "t", &t))
    return;
  journey *j = journey_of(m, msg);
  const char *k = ev + 4, *rcpt = trace_get_str(rec, "rcpt");
  if (!strcmp(k, "compose")) {
    add_rcpts(j, rec);
  } else if (!strcmp(k, "submit") || !strcmp(k, "relay")) {
    const char *to = trace_get_str(rec, "to");
    bool seen = false;
    for (guint i = 0; to && i < j->route->len; i++)
      seen |= strcmp(j->route->pdata[i], to) == 0;
    if (to && !seen)
      g_ptr_array_add(j->route, g_strdup(to));
    if (!strcmp(k, "submit"))
      add_rcpts(j, rec);
  } else if (!strcmp(k, "queue")) {
    if (!j->rcpts->len)
      add_rcpts(j, rec);
  } else if (!strcmp(k, "defer")) {
    /* One attempt defers its recipients in consecutive records of one
     * time and node: count attempts, not recipients. */
    const char *qid = trace_get_str(rec, "queue_id"), *node = trace_get_str(rec, "node");
    if (qid && *qid && node && (!j->defer_node || j->defer_t != t || strcmp(j->defer_node, node))) {
      j->defers++;
      j->defer_t = t;
      g_free(j->defer_node);
      j->defer_node = g_strdup(node);
    }
  } else if (rcpt && (!strcmp(k, "deliver") || !strcmp(k, "bounce") || !strcmp(k, "fail"))) {
    rcpt_out *r = rcpt_of(j, rcpt);
    int o = !strcmp(k, "deliver") ? OUT_DELIVERED : !strcmp(k, "bounce") ? OUT_BOUNCED : OUT_FAILED;
    if (r->outcome == OUT_PENDING || (o == OUT_DELIVERED && r->outcome != OUT_DELIVERED)) {
      r->outcome = o;
      r->t = t;
    }
    const char *dsn = trace_get_str(rec, "dsn");
    if (o == OUT_BOUNCED && dsn && *dsn && !g_hash_table_contains(m->dsn_of, dsn))
      g_hash_table_insert(m->dsn_of, g_strdup(dsn), g_strdup(msg));
  }
}

/* "KEY.<16 hex>@domain" -> "KEY@domain"; NULL if not of that form. */
static char *scenario_ident(const char *msg) {
  const char *at = strrchr(msg, '@'), *dot = strchr(msg, '.');
  if (!at || !dot || dot > at || at - dot != 17)
    return NULL;
  for (const char *p = dot + 1; p < at; p++)
    if (!g_ascii_isxdigit(*p))
      return NULL;
  return g_strdup_printf("%.*s%s", (int)(dot - msg), msg, at);
}

static const char *ident_of(trace_mail *m, journey *j, int depth) {
  if (j->ident)
    return j->ident;
  const char *orig = g_hash_table_lookup(m->dsn_of, j->msg);
  journey *oj = orig ? g_hash_table_lookup(m->by_msg, orig) : NULL;
  if (oj && depth < 8)
    j->ident = g_strdup_printf("DSN of %s", ident_of(m, oj, depth + 1));
  else if (!(j->ident = scenario_ident(j->msg)))
    j->ident = g_strdup(j->msg);
  return j->ident;
}

static bool read_all(trace_reader *r, trace_mail *m, GError **err) {
  m->order = g_ptr_array_new_with_free_func(journey_free);
  m->by_msg = g_hash_table_new(g_str_hash, g_str_equal);
  m->dsn_of = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(r, &rec, err)) == TRACE_READ_OK)
    take(m, rec);
  if (st == TRACE_READ_FAIL)
    return false;
  /* Identities, made unique in order ("#2" for a repeat). */
  GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < m->order->len; i++) {
    journey *j = m->order->pdata[i];
    ident_of(m, j, 0);
    for (int n = 2; g_hash_table_contains(seen, j->ident); n++) {
      char *base = g_strdup(j->ident);
      char *cut = strstr(base, " #");
      if (cut)
        *cut = '\0';
      g_free(j->ident);
      j->ident = g_strdup_printf("%s #%d", base, n);
      g_free(base);
    }
    g_hash_table_add(seen, j->ident);
  }
  g_hash_table_unref(seen);
  return true;
}

static journey *find_ident(const trace_mail *m, const char *ident) {
  for (guint i = 0; i < m->order->len; i++) {
    journey *j = m->order->pdata[i];
    if (strcmp(j->ident, ident) == 0)
      return j;
  }
  return NULL;
}

static void compare_route(GPtrArray *out, const journey *a, const journey *b) {
  guint n = MIN(a->route->len, b->route->len);
  for (guint i = 0; i < n; i++) {
    if (strcmp(a->route->pdata[i], b->route->pdata[i]) != 0) {
      g_ptr_array_add(out, g_strdup_printf("%s: used %s instead of %s", a->ident,
                                           (const char *)b->route->pdata[i],
                                           (const char *)a->route->pdata[i]));
      return;
    }
  }
  if (b->route->len > n)
    g_ptr_array_add(out, g_strdup_printf("%s: also went through %s", a->ident,
                                         (const char *)b->route->pdata[n]));
  else if (a->route->len > n)
    g_ptr_array_add(
        out, g_strdup_printf("%s: never reached %s", a->ident, (const char *)a->route->pdata[n]));
}

static void compare(GPtrArray *out, const journey *a, const journey *b) {
  compare_route(out, a, b);
  for (guint i = 0; i < a->rcpts->len; i++) {
    const rcpt_out *ra = &g_array_index(a->rcpts, rcpt_out, i);
    const rcpt_out *rb = NULL;
    for (guint k = 0; k < b->rcpts->len && !rb; k++)
      if (!g_ascii_strcasecmp(g_array_index(b->rcpts, rcpt_out, k).addr, ra->addr))
        rb = &g_array_index(b->rcpts, rcpt_out, k);
    if (!rb) {
      g_ptr_array_add(out, g_strdup_printf("%s to %s: not a recipient in B", a->ident, ra->addr));
      continue;
    }
    char b1[TRACE_TIME_BUFSZ], b2[TRACE_TIME_BUFSZ], b3[TRACE_TIME_BUFSZ];
    if (ra->outcome != rb->outcome) {
      g_ptr_array_add(out, g_strdup_printf("%s to %s: %s instead of %s", a->ident, ra->addr,
                                           out_names[rb->outcome], out_names[ra->outcome]));
    } else if (ra->outcome != OUT_PENDING && ra->t != rb->t) {
      int64_t d = rb->t - ra->t;
      g_ptr_array_add(
          out, g_strdup_printf("%s to %s: %s %s %s (at %s, not %s)", a->ident, ra->addr,
                               out_names[ra->outcome], trace_time_format_short(d < 0 ? -d : d, b1),
                               d > 0 ? "later" : "earlier", trace_time_format_clock(rb->t, b2),
                               trace_time_format_clock(ra->t, b3)));
    }
  }
  for (guint k = 0; k < b->rcpts->len; k++) {
    const rcpt_out *rb = &g_array_index(b->rcpts, rcpt_out, k);
    bool in_a = false;
    for (guint i = 0; i < a->rcpts->len; i++)
      in_a |= !g_ascii_strcasecmp(g_array_index(a->rcpts, rcpt_out, i).addr, rb->addr);
    if (!in_a)
      g_ptr_array_add(out, g_strdup_printf("%s to %s: only a recipient in B", a->ident, rb->addr));
  }
  if (a->defers != b->defers)
    g_ptr_array_add(out, g_strdup_printf("%s: deferred %u time%s instead of %u", a->ident,
                                         b->defers, b->defers == 1 ? "" : "s", a->defers));
}

GPtrArray *trace_diff_mail(trace_reader *a, trace_reader *b, GError **err) {
  trace_mail ma = {0}, mb = {0};
  bool ok = read_all(a, &ma, err) && read_all(b, &mb, err);
  GPtrArray *out = NULL;
  if (ok) {
    out = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < ma.order->len; i++) {
      const journey *ja = ma.order->pdata[i];
      const journey *jb = find_ident(&mb, ja->ident);
      if (jb)
        compare(out, ja, jb);
      else
        g_ptr_array_add(out, g_strdup_printf("%s: only in A", ja->ident));
    }
    for (guint i = 0; i < mb.order->len; i++) {
      const journey *jb = mb.order->pdata[i];
      if (!find_ident(&ma, jb->ident))
        g_ptr_array_add(out, g_strdup_printf("%s: only in B", jb->ident));
    }
  }
  if (ma.order)
    mail_clear(&ma);
  if (mb.order)
    mail_clear(&mb);
  return out;
}
