/* trace_mermaid.c — Mermaid sequence diagrams of a message's journey or of
 * one connection (rules in trace_mermaid.h). One pass keeps what may be
 * drawn (protocol lines, the chosen records) in file order; the
 * attribution of lines to the message is decided at the end, and the
 * diagram is written in file order. Hash tables serve lookups only. */
#include "trace_mermaid.h"

#include <inttypes.h>
#include <string.h>

G_DEFINE_QUARK(trace - mermaid - error - quark, trace_mermaid_error)

typedef enum { IT_CMD, IT_REPLY, IT_HOP, IT_NOTE } it_kind;

typedef struct {
  uint64_t seq; /* file order */
  int64_t t;
  it_kind kind;
  char *from, *to; /* IT_NOTE: over FROM (and TO when not NULL) */
  char *text;
  bool bytes; /* TEXT is an octet string (length LEN) */
  size_t len;
  uint64_t conn; /* raw connection end, 0 = none */
  bool mail;     /* an SMTP "MAIL FROM" command */
  char *rcpt;    /* the address of an SMTP "RCPT TO" command */
  bool keep;     /* drawn */
} item;

/* A message that may be drawn. */
typedef struct {
  char *msg;
  GPtrArray *items;    /* item* (borrowed from the builder's list): hops, notes */
  GHashTable *arrival; /* node -> first arrival t (int64 in a pointer-sized box) */
  GArray *fails;       /* fail */
  GArray *fetches;     /* fetch */
} cand;

typedef struct {
  char *node, *rcpt; /* borrowed from the record's item */
  int64_t t;
} fail;

typedef struct {
  const char *node, *server; /* borrowed */
  int64_t t;
} fetch;

typedef struct {
  const char *msg; /* borrowed from the candidate, NULL for other messages */
  char *msg_own;   /* other messages */
  uint64_t conn;   /* raw end */
  uint64_t seq;
} transfer;

typedef struct {
  const char *name;
  trace_reader *r;
  const char *id; /* message mode: the ID asked for (NULL = first) */
  uint64_t conn;  /* connection mode */
  uint64_t seq;
  GPtrArray *all;        /* item*, owned, in file order */
  GPtrArray *lines;      /* item* protocol lines (borrowed) */
  GPtrArray *conn_notes; /* item* notes about connections (borrowed) */
  GArray *transfers;     /* transfer */
  GHashTable *peer;      /* raw end -> the other end (both directions), uint64 boxes */
  GPtrArray *cands;      /* cand* in order of first appearance */
  GHashTable *by_msg;    /* msg -> cand*, lookup only */
} builder;

static void item_free(item *it) {
  g_free(it->from);
  g_free(it->to);
  g_free(it->text);
  g_free(it->rcpt);
  g_free(it);
}

static void cand_free(cand *c) {
  g_free(c->msg);
  g_ptr_array_unref(c->items);
  g_hash_table_unref(c->arrival);
  g_array_unref(c->fails);
  g_array_unref(c->fetches);
  g_free(c);
}

/* ---- escaping ---- */

void trace_mermaid_escape(GString *out, const char *s, size_t n, bool bytes) {
  static const char special[] = "#;<>\"&%{}`\\|";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f) {
      if (strchr(special, c))
        g_string_append_printf(out, "#%u;", c);
      else
        g_string_append_c(out, (char)c);
    } else if (c >= 0x80 && !bytes) {
      g_string_append_c(out, (char)c); /* UTF-8 text: the reader checked it */
    } else {
      g_string_append_printf(out, "#92;x%02X", c);
    }
  }
}

/* ---- reading ---- */

static const char *str(const cJSON *rec, const char *key) {
  const char *v = trace_get_str(rec, key);
  return v ? v : "?";
}

static int64_t num(const cJSON *rec, const char *key) {
  int64_t v = 0;
  trace_get_int(rec, key, &v);
  return v;
}

static item *add(builder *b, int64_t t, it_kind kind, const char *from, const char *to,
                 char *text) {
  item *it = g_new0(item, 1);
  it->seq = b->seq;
  it->t = t;
  it->kind = kind;
  it->from = g_strdup(from);
  it->to = g_strdup(to);
  it->text = text;
  it->len = strlen(text);
  g_ptr_array_add(b->all, it);
  return it;
}

static bool prefix_ci(const char *s, size_t n, const char *p) {
  size_t k = strlen(p);
  return n >= k && g_ascii_strncasecmp(s, p, k) == 0;
}

/* The address inside <...> of "RCPT TO:<addr> ...", lower-cased. */
static char *rcpt_of(const char *s, size_t n) {
  const char *lt = memchr(s, '<', n);
  const char *gt = lt ? memchr(lt, '>', n - (size_t)(lt - s)) : NULL;
  if (!gt)
    return NULL;
  return g_ascii_strdown(lt + 1, gt - lt - 1);
}

static void on_line(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  GBytes *line = trace_get_bytes(rec, "line");
  gsize n = 0;
  const char *p = line ? g_bytes_get_data(line, &n) : "";
  char *copy = g_malloc(n + 1);
  memcpy(copy, p, n);
  copy[n] = '\0';
  bool cmd = g_str_has_suffix(ev, ".cmd");
  item *it = add(b, t, cmd ? IT_CMD : IT_REPLY, str(rec, "from"), str(rec, "to"), copy);
  it->len = n;
  it->bytes = true;
  it->conn = (uint64_t)num(rec, "conn");
  if (cmd && g_str_has_prefix(ev, "smtp.")) {
    it->mail = prefix_ci(copy, n, "MAIL FROM:");
    if (prefix_ci(copy, n, "RCPT TO:"))
      it->rcpt = rcpt_of(copy, n);
  }
  g_ptr_array_add(b->lines, it);
  if (line)
    g_bytes_unref(line);
}

static void on_dns_tcp(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  bool q = strcmp(ev, "dns.query") == 0;
  char *text;
  if (q)
    text = g_strdup_printf("DNS query %s %s (id %" PRId64 ")", str(rec, "qname"), str(rec, "qtype"),
                           num(rec, "qid"));
  else
    text = g_strdup_printf("DNS response %s %s: %s, %d answers", str(rec, "qname"),
                           str(rec, "qtype"), str(rec, "rcode"),
                           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "answers")));
  item *it = add(b, t, q ? IT_CMD : IT_REPLY, str(rec, "from"), str(rec, "to"), text);
  it->conn = (uint64_t)num(rec, "conn");
  g_ptr_array_add(b->lines, it);
}

static void pair(builder *b, uint64_t a, uint64_t c) {
  uint64_t *k1 = g_new(uint64_t, 1), *v1 = g_new(uint64_t, 1);
  uint64_t *k2 = g_new(uint64_t, 1), *v2 = g_new(uint64_t, 1);
  *k1 = a, *v1 = c, *k2 = c, *v2 = a;
  g_hash_table_replace(b->peer, k1, v1);
  g_hash_table_replace(b->peer, k2, v2);
}

/* The connection's canonical id: the smaller of its two ends. */
static uint64_t canon(const builder *b, uint64_t conn) {
  const uint64_t *p = g_hash_table_lookup(b->peer, &conn);
  return p && *p < conn ? *p : conn;
}

static bool wanted(const builder *b, const char *msg) {
  if (!b->id)
    return b->cands->len == 0 || g_hash_table_contains(b->by_msg, msg);
  return g_str_has_prefix(msg, b->id);
}

static cand *cand_of(builder *b, const char *msg) {
  cand *c = g_hash_table_lookup(b->by_msg, msg);
  if (c || !wanted(b, msg))
    return c;
  c = g_new0(cand, 1);
  c->msg = g_strdup(msg);
  c->items = g_ptr_array_new();
  c->arrival = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  c->fails = g_array_new(FALSE, FALSE, sizeof(fail));
  c->fetches = g_array_new(FALSE, FALSE, sizeof(fetch));
  g_ptr_array_add(b->cands, c);
  g_hash_table_insert(b->by_msg, c->msg, c);
  return c;
}

static void arrived(cand *c, const char *node, int64_t t) {
  if (g_hash_table_contains(c->arrival, node))
    return;
  int64_t *v = g_new(int64_t, 1);
  *v = t;
  g_hash_table_insert(c->arrival, g_strdup(node), v);
}

static char *rcpt_list(const cJSON *rec) {
  GString *o = g_string_new(NULL);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(rec, "rcpts");
  for (const cJSON *it = cJSON_IsArray(arr) ? arr->child : NULL; it; it = it->next)
    if (cJSON_IsString(it))
      g_string_append_printf(o, "%s%s", o->len ? ", " : "", it->valuestring);
  return g_string_free(o, FALSE);
}

static void on_msg(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  const char *msg = trace_get_str(rec, "msg");
  if (!msg)
    return;
  const char *w = ev + 4;
  bool xfer = strcmp(w, "submit") == 0 || strcmp(w, "relay") == 0;
  cand *c = b->conn ? NULL : cand_of(b, msg);
  if (xfer) {
    transfer tr = {c ? c->msg : NULL, c ? NULL : g_strdup(msg), (uint64_t)num(rec, "conn"), b->seq};
    g_array_append_val(b->transfers, tr);
    if (b->conn) { /* connection mode: a note on the connection */
      char *rc = rcpt_list(rec);
      item *it =
          add(b, t, IT_NOTE, str(rec, "from"), str(rec, "to"),
              g_strdup_printf("%s %s for %s, queued as %s", ev, msg, rc, str(rec, "queue_id")));
      it->conn = tr.conn;
      g_ptr_array_add(b->conn_notes, it);
      g_free(rc);
    }
  }
  if (!c)
    return;
  item *it = NULL;
  if (xfer) {
    char *rc = rcpt_list(rec);
    const cJSON *tls = cJSON_GetObjectItemCaseSensitive(rec, "tls");
    it = add(b, t, IT_HOP, str(rec, "from"), str(rec, "to"),
             g_strdup_printf("%s for %s, queued as %s%s", ev, rc, str(rec, "queue_id"),
                             cJSON_IsTrue(tls) ? " (TLS)" : ""));
    g_free(rc);
    arrived(c, str(rec, "to"), t);
  } else if (strcmp(w, "compose") == 0) {
    char *rc = rcpt_list(rec);
    it = add(b, t, IT_NOTE, str(rec, "node"), NULL,
             g_strdup_printf("composed %s: from %s to %s, \"%s\", %" PRId64 " bytes", msg,
                             str(rec, "from"), rc, str(rec, "subject"), num(rec, "size")));
    g_free(rc);
    arrived(c, str(rec, "node"), t);
  } else if (strcmp(w, "queue") == 0) {
    arrived(c, str(rec, "node"), t);
  } else if (strcmp(w, "defer") == 0 || strcmp(w, "bounce") == 0 || strcmp(w, "fail") == 0) {
    const char *verb = w[0] == 'd' ? "deferred" : w[0] == 'b' ? "bounced" : "gave up on";
    char *tail = w[0] == 'd' ? g_strdup_printf(", next try in %" PRId64 " s",
                                               (num(rec, "next_try") - t) / 1000000000)
                 : w[0] == 'b' && *str(rec, "dsn") != '?' && *str(rec, "dsn")
                     ? g_strdup_printf(", DSN %s", str(rec, "dsn"))
                     : g_strdup("");
    it = add(b, t, IT_NOTE, str(rec, "node"), NULL,
             g_strdup_printf("%s %s: %s%s", verb, str(rec, "rcpt"), str(rec, "reason"), tail));
    g_free(tail);
    fail f = {it->from, NULL, t};
    it->rcpt = g_ascii_strdown(str(rec, "rcpt"), -1);
    f.rcpt = it->rcpt;
    g_array_append_val(c->fails, f);
  } else if (strcmp(w, "deliver") == 0) {
    it = add(b, t, IT_NOTE, str(rec, "node"), NULL,
             g_strdup_printf("stored for %s in %s/%s (UID %" PRId64 ")", str(rec, "rcpt"),
                             str(rec, "mailbox"), str(rec, "folder"), num(rec, "uid")));
  } else if (strcmp(w, "fetch") == 0) {
    it = add(b, t, IT_HOP, str(rec, "from"), str(rec, "node"),
             g_strdup_printf("msg.fetch over %s (%s)", str(rec, "proto"), str(rec, "mailbox")));
    fetch f = {it->to, it->from, t};
    g_array_append_val(c->fetches, f);
    arrived(c, str(rec, "node"), t);
  } else if (strcmp(w, "display") == 0) {
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(rec, "fields");
    const cJSON *subj = cJSON_GetObjectItemCaseSensitive(fl, "Subject");
    if (!subj)
      subj = cJSON_GetObjectItemCaseSensitive(fl, "subject");
    int nr = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "received"));
    int na = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "attachments"));
    it = add(b, t, IT_NOTE, str(rec, "node"), NULL,
             g_strdup_printf("displayed \"%s\", %d Received field%s, %d attachment%s",
                             cJSON_IsString(subj) ? subj->valuestring : "", nr, nr == 1 ? "" : "s",
                             na, na == 1 ? "" : "s"));
  }
  if (it)
    g_ptr_array_add(c->items, it);
}

static void on_conn_event(builder *b, const cJSON *rec, const char *ev, int64_t t) {
  uint64_t conn = (uint64_t)num(rec, "conn");
  char *text;
  if (strcmp(ev, "tls.established") == 0)
    text = g_strdup_printf("TLS %s established, %s", str(rec, "version"), str(rec, "cipher"));
  else if (strcmp(ev, "tls.failed") == 0)
    text = g_strdup_printf("TLS failed: %s", str(rec, "reason"));
  else if (strcmp(ev, "tcp.close") == 0)
    text = g_strdup_printf("closed (%s)", str(rec, "reason"));
  else if (strcmp(ev, "tcp.reset") == 0)
    text = g_strdup_printf("reset in %s", str(rec, "state"));
  else if (strcmp(ev, "tcp.timeout") == 0)
    text = g_strdup_printf("timed out (%s)", str(rec, "phase"));
  else if (strcmp(ev, "tcp.established") == 0)
    text = g_strdup_printf("connection %" PRIu64 " established, %s to %s", conn, str(rec, "src"),
                           str(rec, "dst"));
  else
    return;
  item *it = add(b, t, IT_NOTE, str(rec, "node"), NULL, text);
  it->conn = conn;
  g_ptr_array_add(b->conn_notes, it);
}

static bool read_all(builder *b, GError **err) {
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(b->r, &rec, err)) == TRACE_READ_OK) {
    b->seq++;
    const char *ev = trace_get_str(rec, "ev");
    int64_t t = num(rec, "t");
    if (strcmp(ev, "tcp.accept") == 0) {
      pair(b, (uint64_t)num(rec, "conn"), (uint64_t)num(rec, "peer"));
    } else if (g_str_has_suffix(ev, ".cmd") || g_str_has_suffix(ev, ".reply")) {
      on_line(b, rec, ev, t);
    } else if ((strcmp(ev, "dns.query") == 0 || strcmp(ev, "dns.response") == 0) &&
               num(rec, "conn") != 0) {
      on_dns_tcp(b, rec, ev, t);
    } else if (g_str_has_prefix(ev, "msg.")) {
      on_msg(b, rec, ev, t);
    } else if (b->conn && (g_str_has_prefix(ev, "tls.") || g_str_has_prefix(ev, "tcp."))) {
      on_conn_event(b, rec, ev, t);
    }
  }
  return st == TRACE_READ_EOF;
}

/* ---- attribution ---- */

typedef struct {
  uint64_t id;      /* canonical */
  GPtrArray *lines; /* item*, file order */
} conn_lines;

static void conn_lines_free(conn_lines *c) {
  g_ptr_array_unref(c->lines);
  g_free(c);
}

/* The protocol lines grouped by canonical connection, in order of first line. */
static GPtrArray *group_lines(builder *b) {
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)conn_lines_free);
  GHashTable *by = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < b->lines->len; i++) {
    item *it = b->lines->pdata[i];
    uint64_t id = canon(b, it->conn);
    conn_lines *c = g_hash_table_lookup(by, &id);
    if (!c) {
      c = g_new0(conn_lines, 1);
      c->id = id;
      c->lines = g_ptr_array_new();
      g_ptr_array_add(out, c);
      uint64_t *k = g_new(uint64_t, 1);
      *k = id;
      g_hash_table_insert(by, k, c);
    }
    g_ptr_array_add(c->lines, it);
  }
  g_hash_table_unref(by);
  return out;
}

/* The client of a connection: the sender of its first command. */
static const char *client_of(const conn_lines *c) {
  for (guint i = 0; i < c->lines->len; i++) {
    const item *it = c->lines->pdata[i];
    if (it->kind == IT_CMD)
      return it->from;
  }
  const item *first = c->lines->pdata[0];
  return first->to;
}

static void keep_range(const conn_lines *c, guint a, guint e) {
  for (guint i = a; i < e; i++)
    ((item *)c->lines->pdata[i])->keep = true;
}

/* Does transaction [A, E) of C belong to the chosen message? */
static bool owns(const builder *b, const cand *m, const conn_lines *c, guint a, guint e) {
  const item *first = c->lines->pdata[a];
  uint64_t lo = first->seq,
           hi = e < c->lines->len ? ((const item *)c->lines->pdata[e])->seq : UINT64_MAX;
  bool other = false;
  for (guint i = 0; i < b->transfers->len; i++) {
    const transfer *tr = &g_array_index(b->transfers, transfer, i);
    if (canon(b, tr->conn) != c->id || tr->seq < lo || tr->seq > hi)
      continue;
    if (tr->msg == m->msg)
      return true;
    other = true;
  }
  if (other)
    return false;
  const char *client = client_of(c);
  for (guint i = 0; i < m->fails->len; i++) {
    const fail *f = &g_array_index(m->fails, fail, i);
    const int64_t *arr = g_hash_table_lookup(m->arrival, f->node);
    if (strcmp(f->node, client) != 0 || f->t < first->t || (arr && first->t < *arr))
      continue;
    for (guint k = a; k < e; k++) {
      const item *it = c->lines->pdata[k];
      if (it->rcpt && strcmp(it->rcpt, f->rcpt) == 0)
        return true;
    }
  }
  return false;
}

static void attribute(builder *b, const cand *m) {
  GPtrArray *conns = group_lines(b);
  for (guint ci = 0; ci < conns->len; ci++) {
    const conn_lines *c = conns->pdata[ci];
    GArray *starts = g_array_new(FALSE, FALSE, sizeof(guint));
    for (guint i = 0; i < c->lines->len; i++)
      if (((const item *)c->lines->pdata[i])->mail)
        g_array_append_val(starts, i);
    if (starts->len) { /* SMTP: by transaction */
      for (guint k = 0; k < starts->len; k++) {
        guint a = g_array_index(starts, guint, k);
        guint e = k + 1 < starts->len ? g_array_index(starts, guint, k + 1) : c->lines->len;
        if (owns(b, m, c, a, e))
          keep_range(c, k == 0 ? 0 : a, e);
      }
    } else { /* IMAP, POP3: the session that carried a fetch */
      const item *first = c->lines->pdata[0], *last = c->lines->pdata[c->lines->len - 1];
      const char *client = client_of(c);
      for (guint i = 0; i < m->fetches->len; i++) {
        const fetch *f = &g_array_index(m->fetches, fetch, i);
        if (strcmp(f->node, client) == 0 && f->t >= first->t && f->t <= last->t &&
            (strcmp(first->from, f->server) == 0 || strcmp(first->to, f->server) == 0))
          keep_range(c, 0, c->lines->len);
      }
    }
    g_array_unref(starts);
  }
  g_ptr_array_unref(conns);
  for (guint i = 0; i < m->items->len; i++)
    ((item *)m->items->pdata[i])->keep = true;
}

/* ---- writing ---- */

static const char *pid(GPtrArray *parts, GHashTable *ids, const char *node) {
  const char *id = g_hash_table_lookup(ids, node);
  if (id)
    return id;
  g_ptr_array_add(parts, (gpointer)node);
  char *nid = g_strdup_printf("P%u", parts->len);
  g_hash_table_insert(ids, (gpointer)node, nid);
  return nid;
}

static void write_diagram(builder *b, const char *what, GString *out) {
  GPtrArray *parts = g_ptr_array_new();
  GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  GString *body = g_string_new(NULL);
  for (guint i = 0; i < b->all->len; i++) {
    const item *it = b->all->pdata[i];
    if (!it->keep)
      continue;
    const char *f = pid(parts, ids, it->from);
    const char *t = it->to ? pid(parts, ids, it->to) : NULL;
    if (it->kind == IT_NOTE)
      g_string_append_printf(body, "    Note over %s%s%s: ", f, t ? "," : "", t ? t : "");
    else
      g_string_append_printf(body, "    %s%s%s: ", f,
                             it->kind == IT_CMD     ? "->>"
                             : it->kind == IT_REPLY ? "-->>"
                                                    : "-)",
                             t);
    if (it->len == 0)
      g_string_append(body, "(empty line)");
    trace_mermaid_escape(body, it->text, it->len, it->bytes);
    g_string_append_c(body, '\n');
  }
  g_string_append(out, "sequenceDiagram\n");
  g_string_append(out, "    %% mailsim export of ");
  trace_mermaid_escape(out, what, strlen(what), false);
  g_string_append(out, "\n");
  for (guint i = 0; i < parts->len; i++) {
    g_string_append_printf(out, "    participant P%u as ", i + 1);
    const char *n = parts->pdata[i];
    trace_mermaid_escape(out, n, strlen(n), false);
    g_string_append_c(out, '\n');
  }
  g_string_append_len(out, body->str, (gssize)body->len);
  g_string_free(body, TRUE);
  g_hash_table_unref(ids);
  g_ptr_array_unref(parts);
}

static void builder_init(builder *b, trace_reader *r, const char *name) {
  memset(b, 0, sizeof *b);
  b->r = r;
  b->name = name;
  b->all = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
  b->lines = g_ptr_array_new();
  b->conn_notes = g_ptr_array_new();
  b->transfers = g_array_new(FALSE, FALSE, sizeof(transfer));
  b->peer = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  b->cands = g_ptr_array_new_with_free_func((GDestroyNotify)cand_free);
  b->by_msg = g_hash_table_new(g_str_hash, g_str_equal);
}

static void builder_clear(builder *b) {
  for (guint i = 0; i < b->transfers->len; i++)
    g_free(g_array_index(b->transfers, transfer, i).msg_own);
  g_array_unref(b->transfers);
  g_hash_table_unref(b->by_msg);
  g_ptr_array_unref(b->cands);
  g_hash_table_unref(b->peer);
  g_ptr_array_unref(b->conn_notes);
  g_ptr_array_unref(b->lines);
  g_ptr_array_unref(b->all);
}

bool trace_mermaid_message(trace_reader *r, const char *name, const char *id, GString *out,
                           GError **err) {
  builder b;
  builder_init(&b, r, name);
  b.id = id && *id ? id : NULL;
  bool ok = read_all(&b, err);
  if (ok) {
    const cand *m = NULL;
    for (guint i = 0; i < b.cands->len && !m; i++)
      if (!b.id || strcmp(((const cand *)b.cands->pdata[i])->msg, b.id) == 0)
        m = b.cands->pdata[i];
    if (!m && b.cands->len)
      m = b.cands->pdata[0]; /* the first whose ID begins with the one asked for */
    if (!m) {
      g_set_error(err, TRACE_MERMAID_ERROR, TRACE_MERMAID_ERROR_NOT_FOUND,
                  b.id ? "%s: no message \"%s\"" : "%s: no message in this trace", name,
                  b.id ? b.id : "");
      ok = false;
    } else {
      attribute(&b, m);
      char *what = g_strdup_printf("message %s from %s", m->msg, name);
      write_diagram(&b, what, out);
      g_free(what);
    }
  }
  builder_clear(&b);
  return ok;
}

bool trace_mermaid_connection(trace_reader *r, const char *name, uint64_t conn, GString *out,
                              GError **err) {
  builder b;
  builder_init(&b, r, name);
  b.conn = conn;
  bool ok = read_all(&b, err);
  if (ok) {
    uint64_t id = canon(&b, conn);
    bool any = false;
    for (guint i = 0; i < b.lines->len; i++) {
      item *it = b.lines->pdata[i];
      if (canon(&b, it->conn) == id)
        any = it->keep = true;
    }
    for (guint i = 0; i < b.conn_notes->len; i++) {
      item *it = b.conn_notes->pdata[i];
      if (canon(&b, it->conn) == id)
        any = it->keep = true;
    }
    if (!any) {
      g_set_error(err, TRACE_MERMAID_ERROR, TRACE_MERMAID_ERROR_NOT_FOUND,
                  "%s: no connection %" PRIu64 " with protocol lines or events", name, conn);
      ok = false;
    } else {
      const uint64_t *p = g_hash_table_lookup(b.peer, &conn);
      char *what =
          p ? g_strdup_printf("connection %" PRIu64 " (ends %" PRIu64 " and %" PRIu64 ") from %s",
                              conn, MIN(conn, *p), MAX(conn, *p), name)
            : g_strdup_printf("connection %" PRIu64 " from %s", conn, name);
      write_diagram(&b, what, out);
      g_free(what);
    }
  }
  builder_clear(&b);
  return ok;
}
