/* trace_story.c — message journeys from a trace, in one pass. */
#include "trace_story.h"

#include <inttypes.h>
#include <string.h>

typedef struct {
  GPtrArray *stories;   /* trace_story* */
  GHashTable *names;    /* trace_story* -> GPtrArray* of names learned from its lookups */
  GHashTable *by_msg;   /* msg -> trace_story*, lookup only */
  GHashTable *canon;    /* conn id (client end) -> server end id, uint64 keys */
  GHashTable *lines;    /* canonical conn id -> GPtrArray* of char* */
  GHashTable *held;     /* node -> GPtrArray* of trace_story* queued there */
  GPtrArray *pending;   /* pending_verdict*: RCPT-stage policy records not yet joined */
} builder;

/* A policy record made at RCPT, before the message was known (no "msg"):
 * joined with the msg.relay of its connection, or (a deferral) with the
 * sender's msg.defer for the same recipient and sender. */
typedef struct {
  uint64_t conn; /* canonical */
  int64_t t;
  char *rcpt, *sender;
  bool defer; /* a greylisting deferral */
  char *text;
} pending_verdict;

static void pending_free(pending_verdict *p) {
  g_free(p->rcpt);
  g_free(p->sender);
  g_free(p->text);
  g_free(p);
}

static void step_free(trace_step *s) {
  g_free(s->text);
  g_ptr_array_unref(s->details);
  g_free(s);
}

static void story_free(trace_story *s) {
  g_free(s->msg);
  g_free(s->from);
  g_free(s->subject);
  g_ptr_array_unref(s->rcpts);
  g_ptr_array_unref(s->steps);
  g_free(s);
}

static trace_story *story_of(builder *b, const char *msg) {
  trace_story *s = g_hash_table_lookup(b->by_msg, msg);
  if (s)
    return s;
  s = g_new0(trace_story, 1);
  s->msg = g_strdup(msg);
  s->from = g_strdup("");
  s->subject = g_strdup("");
  s->rcpts = g_ptr_array_new_with_free_func(g_free);
  s->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
  s->first = -1;
  g_ptr_array_add(b->stories, s);
  g_hash_table_insert(b->by_msg, s->msg, s);
  return s;
}

static trace_step *add_step(trace_story *s, int64_t t, char *text) {
  trace_step *st = g_new0(trace_step, 1);
  st->t = t;
  st->text = text;
  st->details = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(s->steps, st);
  if (s->first < 0)
    s->first = t;
  s->last = t;
  return st;
}

/* Adds a step at time T after every step not later than T (a verdict
 * joined late goes back to its place). */
static void insert_step(trace_story *s, int64_t t, char *text) {
  guint at = s->steps->len;
  while (at > 0 && ((trace_step *)s->steps->pdata[at - 1])->t > t)
    at--;
  trace_step *st = add_step(s, t, text);
  if (at < s->steps->len - 1) {
    g_ptr_array_steal_index(s->steps, s->steps->len - 1);
    g_ptr_array_insert(s->steps, (gint)at, st);
  }
  if (t < s->first)
    s->first = t;
  trace_step *last = s->steps->pdata[s->steps->len - 1];
  s->last = last->t;
}

static const char *str(const cJSON *rec, const char *key) {
  const char *v = trace_get_str(rec, key);
  return v ? v : "?";
}

static int64_t num(const cJSON *rec, const char *key) {
  int64_t v = 0;
  trace_get_int(rec, key, &v);
  return v;
}

/* "a, b and c" from a string array. */
static char *join_list(const cJSON *arr) {
  GString *out = g_string_new(NULL);
  int n = cJSON_GetArraySize(arr), i = 0;
  for (const cJSON *it = arr ? arr->child : NULL; it; it = it->next, i++) {
    if (i)
      g_string_append(out, i == n - 1 ? " and " : ", ");
    g_string_append(out, cJSON_IsString(it) ? it->valuestring : "?");
  }
  return g_string_free(out, FALSE);
}

static uint64_t canon_conn(builder *b, uint64_t conn) {
  gpointer v;
  if (g_hash_table_lookup_extended(b->canon, &conn, NULL, &v))
    return *(uint64_t *)v;
  return conn;
}

static void hold(builder *b, const char *node, trace_story *s) {
  GPtrArray *a = g_hash_table_lookup(b->held, node);
  if (!a) {
    a = g_ptr_array_new();
    g_hash_table_insert(b->held, g_strdup(node), a);
  }
  for (guint i = 0; i < a->len; i++)
    if (a->pdata[i] == s)
      return;
  g_ptr_array_add(a, s);
}

static void release(builder *b, const char *node, trace_story *s) {
  GPtrArray *a = g_hash_table_lookup(b->held, node);
  if (a)
    g_ptr_array_remove(a, s);
}

/* Moves the lines buffered for connection CONN into STEP. */
static void take_lines(builder *b, uint64_t conn, trace_step *step) {
  uint64_t c = canon_conn(b, conn);
  GPtrArray *l = g_hash_table_lookup(b->lines, &c);
  if (!l)
    return;
  for (guint i = 0; i < l->len; i++)
    g_ptr_array_add(step->details, g_strdup(l->pdata[i]));
  g_ptr_array_set_size(l, 0);
}

static bool same_name(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  na -= na && a[na - 1] == '.';
  nb -= nb && b[nb - 1] == '.';
  return na == nb && g_ascii_strncasecmp(a, b, na) == 0;
}

/* Is QNAME a recipient domain of S, or a name its earlier lookups gave
 * (an exchange of an MX answer)? */
static bool domain_matches(builder *b, const char *qname, const trace_story *s) {
  for (guint i = 0; i < s->rcpts->len; i++) {
    const char *at = strrchr(s->rcpts->pdata[i], '@');
    if (at && same_name(at + 1, qname))
      return true;
  }
  GPtrArray *learned = g_hash_table_lookup(b->names, s);
  for (guint i = 0; learned && i < learned->len; i++)
    if (same_name(learned->pdata[i], qname))
      return true;
  return false;
}

/* Remembers the last word of each answer (an MX exchange, a CNAME target). */
static void learn(builder *b, const trace_story *s, const cJSON *answers) {
  GPtrArray *learned = g_hash_table_lookup(b->names, s);
  if (!learned) {
    learned = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(b->names, (gpointer)s, learned);
  }
  for (const cJSON *it = answers ? answers->child : NULL; it; it = it->next) {
    if (!cJSON_IsString(it))
      continue;
    const char *sp = strrchr(it->valuestring, ' ');
    if (sp && sp[1])
      g_ptr_array_add(learned, g_strdup(sp + 1));
  }
}

static void on_line(builder *b, const cJSON *rec) {
  uint64_t c = canon_conn(b, (uint64_t)num(rec, "conn"));
  GPtrArray *l = g_hash_table_lookup(b->lines, &c);
  if (!l) {
    uint64_t *k = g_new(uint64_t, 1);
    *k = c;
    l = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(b->lines, k, l);
  }
  GBytes *line = trace_get_bytes(rec, "line");
  gsize n = 0;
  const char *p = line ? g_bytes_get_data(line, &n) : "";
  char *safe = g_strndup(p, n);
  g_ptr_array_add(l, g_strdup_printf("%s -> %s: %s", str(rec, "from"), str(rec, "to"), safe));
  g_free(safe);
  if (line)
    g_bytes_unref(line);
}

static void on_dns(builder *b, const cJSON *rec, int64_t t) {
  const char *node = str(rec, "to");
  GPtrArray *a = g_hash_table_lookup(b->held, node);
  if (!a)
    return;
  const char *qname = str(rec, "qname");
  char *answers = join_list(cJSON_GetObjectItemCaseSensitive(rec, "answers"));
  for (guint i = 0; i < a->len; i++) {
    trace_story *s = a->pdata[i];
    if (!domain_matches(b, qname, s))
      continue;
    learn(b, s, cJSON_GetObjectItemCaseSensitive(rec, "answers"));
    add_step(s, t, g_strdup_printf("%s looked up %s %s: %s%s%s", node, qname, str(rec, "qtype"),
                                   str(rec, "rcode"), *answers ? " — " : "", answers));
  }
  g_free(answers);
}

/* Joins the pending RCPT verdicts of connection CONN to S. */
static void join_conn(builder *b, trace_story *s, uint64_t conn) {
  uint64_t c = canon_conn(b, conn);
  for (guint i = 0; i < b->pending->len;) {
    pending_verdict *p = b->pending->pdata[i];
    if (p->conn == c) {
      insert_step(s, p->t, p->text);
      p->text = NULL;
      g_ptr_array_remove_index(b->pending, i); /* keeps the order */
    } else {
      i++;
    }
  }
}

/* Joins to S the earliest pending greylisting deferral of RCPT from S's
 * sender made by time T (the sender learns of it after the MX decided). */
static void join_defer(builder *b, trace_story *s, const char *rcpt, int64_t t) {
  for (guint i = 0; i < b->pending->len; i++) {
    pending_verdict *p = b->pending->pdata[i];
    if (p->defer && p->t <= t && g_ascii_strcasecmp(p->rcpt, rcpt) == 0 &&
        g_ascii_strcasecmp(p->sender, s->from) == 0) {
      insert_step(s, p->t, p->text);
      p->text = NULL;
      g_ptr_array_remove_index(b->pending, i);
      return;
    }
  }
}

static void on_msg(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  trace_story *s = story_of(b, str(rec, "msg"));
  char *rc = join_list(cJSON_GetObjectItemCaseSensitive(rec, "rcpts"));
  if (strcmp(ev, "msg.compose") == 0) {
    g_free(s->from);
    s->from = g_strdup(str(rec, "from"));
    g_free(s->subject);
    s->subject = g_strdup(str(rec, "subject"));
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, "rcpts");
    for (const cJSON *it = arr ? arr->child : NULL; it; it = it->next)
      if (cJSON_IsString(it))
        g_ptr_array_add(s->rcpts, g_strdup(it->valuestring));
    add_step(s, t, g_strdup_printf("%s composed it: from %s to %s, subject \"%s\", %" PRId64
                                   " bytes", str(rec, "node"), s->from, rc, s->subject,
                                   num(rec, "size")));
  } else if (strcmp(ev, "msg.submit") == 0 || strcmp(ev, "msg.relay") == 0) {
    bool sub = ev[4] == 's';
    const cJSON *tls = cJSON_GetObjectItemCaseSensitive(rec, "tls");
    const char *auth = trace_get_str(rec, "auth");
    trace_step *st = add_step(
        s, t,
        g_strdup_printf("%s %s it to %s over SMTP%s%s%s (connection %" PRId64 "); %s queued it as %s",
                        str(rec, "from"), sub ? "submitted" : "relayed", str(rec, "to"),
                        cJSON_IsTrue(tls) ? " with TLS" : " in clear",
                        auth && *auth ? ", authenticated as " : "", auth && *auth ? auth : "",
                        num(rec, "conn"), str(rec, "to"), str(rec, "queue_id")));
    take_lines(b, (uint64_t)num(rec, "conn"), st);
    join_conn(b, s, (uint64_t)num(rec, "conn"));
    if (s->rcpts->len == 0) {
      const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, "rcpts");
      for (const cJSON *it = arr ? arr->child : NULL; it; it = it->next)
        if (cJSON_IsString(it))
          g_ptr_array_add(s->rcpts, g_strdup(it->valuestring));
    }
    if (!sub)
      release(b, str(rec, "from"), s);
    hold(b, str(rec, "to"), s);
  } else if (strcmp(ev, "msg.queue") == 0) {
    hold(b, str(rec, "node"), s);
  } else if (strcmp(ev, "msg.defer") == 0) {
    s->deferred++;
    join_defer(b, s, str(rec, "rcpt"), t);
    int64_t next = num(rec, "next_try");
    add_step(s, t, g_strdup_printf("%s could not deliver to %s yet: %s; it will try again %.0f s later",
                                   str(rec, "node"), str(rec, "rcpt"), str(rec, "reason"),
                                   (double)(next - t) / 1e9));
  } else if (strcmp(ev, "msg.bounce") == 0) {
    s->bounced++;
    add_step(s, t, g_strdup_printf("%s gave up on %s: %s; a delivery status notification goes "
                                   "back to the sender",
                                   str(rec, "node"), str(rec, "rcpt"), str(rec, "reason")));
  } else if (strcmp(ev, "msg.deliver") == 0) {
    s->delivered++;
    add_step(s, t, g_strdup_printf("%s stored it in %s's %s (UID %" PRId64 ")", str(rec, "node"),
                                   str(rec, "rcpt"), str(rec, "folder"), num(rec, "uid")));
  } else if (strcmp(ev, "msg.fetch") == 0) {
    s->fetched++;
    add_step(s, t, g_strdup_printf("%s fetched it from %s over %s", str(rec, "node"),
                                   str(rec, "from"), str(rec, "proto")));
  } else if (strcmp(ev, "msg.display") == 0) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(rec, "fields");
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(f, "Subject");
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(rec, "attachments");
    const cJSON *recv = cJSON_GetObjectItemCaseSensitive(rec, "received");
    trace_step *st = add_step(
        s, t,
        g_strdup_printf("%s displayed it: \"%s\", %d attachment%s, %d Received header%s",
                        str(rec, "node"), cJSON_IsString(subj) ? subj->valuestring : "",
                        cJSON_GetArraySize(att), cJSON_GetArraySize(att) == 1 ? "" : "s",
                        cJSON_GetArraySize(recv), cJSON_GetArraySize(recv) == 1 ? "" : "s"));
    for (const cJSON *it = f ? f->child : NULL; it; it = it->next)
      if (cJSON_IsString(it))
        g_ptr_array_add(st->details, g_strdup_printf("%s: %s", it->string, it->valuestring));
    for (const cJSON *it = recv ? recv->child : NULL; it; it = it->next)
      if (cJSON_IsString(it))
        g_ptr_array_add(st->details, g_strdup_printf("Received: %s", it->valuestring));
    for (const cJSON *it = att ? att->child : NULL; it; it = it->next)
      g_ptr_array_add(st->details, g_strdup_printf("attachment: %s (%s, %" PRId64 " bytes)",
                                                   str(it, "name"), str(it, "type"), num(it, "size")));
  } else if (strcmp(ev, "msg.expire") == 0) {
    release(b, str(rec, "node"), s);
    add_step(s, t, g_strdup_printf("%s is done with it and removed it from its queue",
                                   str(rec, "node")));
  }
  g_free(rc);
}

/* A RCPT-stage verdict ("conn", no "msg"), kept until it can be joined. */
static void hold_verdict(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  int64_t conn = 0;
  if (!trace_get_int(rec, "conn", &conn))
    return;
  pending_verdict *p = g_new0(pending_verdict, 1);
  p->conn = canon_conn(b, (uint64_t)conn);
  p->t = t;
  p->rcpt = g_strdup(trace_get_str(rec, "rcpt") ? trace_get_str(rec, "rcpt") : "");
  p->sender = g_strdup(trace_get_str(rec, "sender") ? trace_get_str(rec, "sender") : "");
  const char *v = trace_get_str(rec, "verdict");
  if (!v)
    v = trace_get_str(rec, "action");
  p->defer = v && g_str_has_prefix(v, "defer");
  int64_t waited = 0;
  trace_get_int(rec, "waited", &waited);
  if (strcmp(ev, "policy.greylist") == 0)
    p->text = g_strdup_printf("%s checked it (greylist) for %s from %s at RCPT: %s%s", str(rec, "node"),
                              p->rcpt, str(rec, "client"), v ? v : "?",
                              p->defer ? ", 450 4.2.0: try again later" : "");
  else
    p->text = g_strdup_printf("%s checked it (%s) for %s at RCPT: %s", str(rec, "node"), ev + 7,
                              str(rec, "client"), v ? v : "?");
  if (waited > 0) {
    char *more = g_strdup_printf("%s, %" PRId64 " s after the first attempt", p->text,
                                 (waited + 500000000) / 1000000000);
    g_free(p->text);
    p->text = more;
  }
  g_ptr_array_add(b->pending, p);
}

static void on_policy(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  const char *msg = trace_get_str(rec, "msg");
  if (!msg) {
    hold_verdict(b, rec, ev, t);
    return;
  }
  trace_story *s = g_hash_table_lookup(b->by_msg, msg);
  if (!s)
    return;
  const char *v = trace_get_str(rec, "verdict");
  if (!v)
    v = trace_get_str(rec, "result");
  if (!v)
    v = trace_get_str(rec, "action");
  int64_t score;
  if (trace_get_int(rec, "score", &score)) /* tenths of a point */
    add_step(s, t, g_strdup_printf("%s checked it (%s): %s, score %" PRId64 ".%" PRId64,
                                   str(rec, "node"), ev + 7, v ? v : "?", score / 10,
                                   (score < 0 ? -score : score) % 10));
  else
    add_step(s, t, g_strdup_printf("%s checked it (%s): %s", str(rec, "node"), ev + 7, v ? v : "?"));
}

GPtrArray *trace_story_read(trace_reader *r, GError **err) {
  builder b = {
      .stories = g_ptr_array_new_with_free_func((GDestroyNotify)story_free),
      .by_msg = g_hash_table_new(g_str_hash, g_str_equal),
      .canon = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
      .lines = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                     (GDestroyNotify)g_ptr_array_unref),
      .held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)g_ptr_array_unref),
      .names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                     (GDestroyNotify)g_ptr_array_unref),
      .pending = g_ptr_array_new_with_free_func((GDestroyNotify)pending_free),
  };
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(r, &rec, err)) == TRACE_READ_OK) {
    const char *ev = trace_get_str(rec, "ev");
    int64_t t = num(rec, "t");
    if (strcmp(ev, "tcp.accept") == 0) {
      uint64_t *k = g_new(uint64_t, 1), *v = g_new(uint64_t, 1);
      *k = (uint64_t)num(rec, "peer");
      *v = (uint64_t)num(rec, "conn");
      g_hash_table_replace(b.canon, k, v);
    } else if (g_str_has_suffix(ev, ".cmd") || g_str_has_suffix(ev, ".reply")) {
      on_line(&b, rec);
    } else if (strcmp(ev, "dns.response") == 0) {
      on_dns(&b, rec, t);
    } else if (g_str_has_prefix(ev, "msg.")) {
      on_msg(&b, rec, ev, t);
    } else if (g_str_has_prefix(ev, "policy.")) {
      on_policy(&b, rec, ev, t);
    }
  }
  g_hash_table_unref(b.by_msg);
  g_hash_table_unref(b.canon);
  g_hash_table_unref(b.lines);
  g_hash_table_unref(b.held);
  g_hash_table_unref(b.names);
  g_ptr_array_unref(b.pending);
  if (st == TRACE_READ_FAIL) {
    g_ptr_array_unref(b.stories);
    return NULL;
  }
  return b.stories;
}

const trace_story *trace_story_find(const GPtrArray *stories, const char *id) {
  for (guint i = 0; i < stories->len; i++) {
    const trace_story *s = stories->pdata[i];
    if (strcmp(s->msg, id) == 0)
      return s;
  }
  for (guint i = 0; i < stories->len; i++) {
    const trace_story *s = stories->pdata[i];
    if (g_str_has_prefix(s->msg, id))
      return s;
  }
  return NULL;
}

char *trace_story_outcome(const trace_story *s) {
  GString *o = g_string_new(NULL);
  if (s->delivered)
    g_string_append_printf(o, "delivered %u", s->delivered);
  if (s->fetched)
    g_string_append_printf(o, "%sfetched %u", o->len ? ", " : "", s->fetched);
  if (s->bounced)
    g_string_append_printf(o, "%sbounced %u", o->len ? ", " : "", s->bounced);
  if (s->deferred)
    g_string_append_printf(o, "%sdeferred %u time%s", o->len ? ", " : "", s->deferred,
                           s->deferred == 1 ? "" : "s");
  if (!o->len)
    g_string_append(o, "in transit");
  return g_string_free(o, FALSE);
}
