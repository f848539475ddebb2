/* viz_map.c — what each trace record means to the viewer: the one place
 * that knows record kinds and key names.
 *
 * Sources: traces/FORMAT.md (header, tcp.*, net.*, fault.* as written by
 * sim/) and the mail layers' draft (notes/TRACE-EVENTS-DRAFT.md: protocol
 * lines smtp/imap/pop3.cmd|reply|data, dns.query|response|timeout|cache_hit,
 * tls.*, msg.*, policy.*). When the engines settle their keys, this file
 * (and only this file) changes. Mapping is tolerant: a missing or mistyped
 * key leaves the derived object incomplete, never fails the load — the
 * reader has already checked what the format requires.
 *
 * Conventions relied on: protocol lines are written when the receiver has
 * the whole line, with "sent" = when the sender wrote its first byte; TCP
 * records carry the node's own connection id and, once known, the peer's
 * ("peer"), so the two ids of one connection are joined into one object.
 */
#include <string.h>

#include "trace_read.h"
#include "trace_rec.h"
#include "viz_model_int.h"

/* --- small accessors -------------------------------------------------------- */

static int64_t hget_i64(const cJSON *rec, const char *key, int64_t def) {
  int64_t v;
  return trace_get_int(rec, key, &v) ? v : def;
}

static uint64_t hget_u64(const cJSON *rec, const char *key, uint64_t def) {
  uint64_t v;
  return trace_get_uint(rec, key, &v) ? v : def;
}

static int64_t get_i64(const trace_rec *rec, const char *key, int64_t def) {
  int64_t v;
  return trace_rec_int(rec, key, &v) ? v : def;
}

static uint64_t get_u64(const trace_rec *rec, const char *key, uint64_t def) {
  uint64_t v;
  return trace_rec_uint(rec, key, &v) ? v : def;
}

static const char *get_text(viz_model *m, const trace_rec *rec, const char *key) {
  const char *s = trace_rec_str(rec, key);
  return viz__intern(m, s ? s : "");
}

/* Array of strings joined by ", ", or the string itself. */
static const char *get_joined(viz_model *m, const trace_rec *rec, const char *key) {
  const cJSON *v = trace_rec_json(rec, key);
  if (cJSON_IsString(v))
    return viz__intern(m, v->valuestring);
  if (!cJSON_IsArray(v))
    return viz__intern(m, "");
  GString *s = g_string_new(NULL);
  const cJSON *it;
  cJSON_ArrayForEach(it, v) {
    if (!cJSON_IsString(it))
      continue;
    if (s->len)
      g_string_append(s, ", ");
    g_string_append(s, it->valuestring);
  }
  const char *r = viz__intern(m, s->str);
  g_string_free(s, TRUE);
  return r;
}

static void mark(viz_model *m, viz_mark_kind k, const viz_event *ev, uint32_t ix, uint32_t link) {
  viz_mark mk = {
      .t = ev->t, .node = ev->node, .msg = ev->msg, .event = ix, .link = link, .kind = (uint8_t)k};
  g_array_append_val(m->marks, mk);
}

static uint32_t addr_node(viz_model *m, const char *endpoint) {
  if (!endpoint)
    return VIZ_NONE;
  /* "10.0.0.1:25" or "[2001:db8::1]:25" */
  const char *start = endpoint, *end = strrchr(endpoint, ':');
  if (*start == '[') {
    start++;
    end = strchr(start, ']');
  }
  if (!end)
    end = endpoint + strlen(endpoint);
  char *a = g_strndup(start, (gsize)(end - start));
  gpointer v = g_hash_table_lookup(m->b->node_by_addr, a);
  g_free(a);
  return v ? GPOINTER_TO_UINT(v) - 1 : VIZ_NONE;
}

static viz_conn *conn_at(viz_model *m, uint32_t c) {
  return c == VIZ_NONE ? NULL : &g_array_index(m->conns, viz_conn, c);
}

static viz_msg *msg_at(viz_model *m, uint32_t i) {
  return i == VIZ_NONE ? NULL : &g_array_index(m->msgs, viz_msg, i);
}

/* --- the header -------------------------------------------------------------- */

static void node_set_role(viz_model *m, viz_node *n, const cJSON *role) {
  GString *text = g_string_new(NULL);
  viz_role r = VIZ_ROLE_UNKNOWN;
  const cJSON *it;
  if (cJSON_IsString(role)) {
    g_string_append(text, role->valuestring);
    r = viz_role_parse(role->valuestring);
  } else if (cJSON_IsArray(role)) {
    cJSON_ArrayForEach(it, role) {
      if (!cJSON_IsString(it))
        continue;
      if (text->len)
        g_string_append(text, ", ");
      g_string_append(text, it->valuestring);
      if (r == VIZ_ROLE_UNKNOWN)
        r = viz_role_parse(it->valuestring);
    }
  }
  if (text->len) {
    n->role_text = viz__intern(m, text->str);
    if (r != VIZ_ROLE_UNKNOWN)
      n->role = r;
  }
  g_string_free(text, TRUE);
}

/* "pos": [x, y] or {"x": .., "y": ..}. */
static void node_set_pos(viz_node *n, const cJSON *pos) {
  int64_t x, y;
  if (cJSON_IsArray(pos) && cJSON_GetArraySize(pos) == 2) {
    cJSON *px = cJSON_GetArrayItem(pos, 0), *py = cJSON_GetArrayItem(pos, 1);
    if (cJSON_IsNumber(px) && cJSON_IsNumber(py)) {
      n->has_pos = true;
      n->pos_x = (int64_t)px->valuedouble;
      n->pos_y = (int64_t)py->valuedouble;
    }
  } else if (cJSON_IsObject(pos) && trace_get_int(pos, "x", &x) && trace_get_int(pos, "y", &y)) {
    n->has_pos = true;
    n->pos_x = x;
    n->pos_y = y;
  }
}

static viz_node *node_named(viz_model *m, const char *name) {
  gpointer v = name ? g_hash_table_lookup(m->node_by_name, name) : NULL;
  return v ? &g_array_index(m->nodes, viz_node, GPOINTER_TO_UINT(v) - 1) : NULL;
}

/* One entry of "roles" or "pos" given as an object {node|name, role|roles, pos|x,y}. */
static void apply_entry(viz_model *m, viz_node *n, const cJSON *e) {
  const cJSON *role = cJSON_GetObjectItemCaseSensitive(e, "role");
  if (!role)
    role = cJSON_GetObjectItemCaseSensitive(e, "roles");
  if (role)
    node_set_role(m, n, role);
  const cJSON *pos = cJSON_GetObjectItemCaseSensitive(e, "pos");
  node_set_pos(n, pos ? pos : e);
}

/* "roles" / "pos" either map names to values or list entries naming nodes. */
static void apply_table(viz_model *m, const cJSON *tab, bool is_pos) {
  const cJSON *e;
  cJSON_ArrayForEach(e, tab) {
    viz_node *n;
    if (cJSON_IsObject(tab)) {
      if (!(n = node_named(m, e->string)))
        continue;
      if (cJSON_IsObject(e))
        apply_entry(m, n, e);
      else if (is_pos)
        node_set_pos(n, e);
      else
        node_set_role(m, n, e);
    } else if (cJSON_IsObject(e)) {
      const char *name = trace_get_str(e, "node");
      if (!(n = node_named(m, name ? name : trace_get_str(e, "name"))))
        continue;
      apply_entry(m, n, e);
    }
  }
}

bool viz__map_header(viz_model *m, const cJSON *hdr, GError **err) {
  const char *s = trace_get_str(hdr, "scenario");
  m->scenario = g_strdup(s ? s : "");
  s = trace_get_str(hdr, "detail");
  m->detail = g_strdup(s ? s : "");
  m->seed = hget_u64(hdr, "seed", 0);
  const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(hdr, "nodes");
  const cJSON *links = cJSON_GetObjectItemCaseSensitive(hdr, "links");
  if (!cJSON_IsArray(nodes) || !cJSON_IsArray(links)) {
    g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
                "%s:1: header: expected arrays \"nodes\" and \"links\"", m->source);
    return false;
  }
  const cJSON *e;
  cJSON_ArrayForEach(e, nodes) {
    const char *name = trace_get_str(e, "name");
    if (!name || g_hash_table_contains(m->node_by_name, name)) {
      g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
                  "%s:1: header: node %d: expected a unique text \"name\"", m->source,
                  (int)m->nodes->len);
      return false;
    }
    viz_node n = {.name = viz__intern(m, name), .role_text = viz__intern(m, "")};
    const char *dot = strchr(name, '.');
    n.domain = viz__intern(m, dot ? dot + 1 : "");
    n.router = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "router"));
    if (n.router)
      n.role = VIZ_ROLE_ROUTER;
    uint32_t ix = m->nodes->len;
    GString *addrs = g_string_new(NULL);
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(e, "addrs")) {
      if (!cJSON_IsString(a))
        continue;
      if (addrs->len)
        g_string_append(addrs, ", ");
      g_string_append(addrs, a->valuestring);
      g_hash_table_insert(m->b->node_by_addr, g_strdup(a->valuestring), GUINT_TO_POINTER(ix + 1));
    }
    n.addrs = viz__intern(m, addrs->str);
    g_string_free(addrs, TRUE);
    g_array_append_val(m->nodes, n);
    g_hash_table_insert(m->node_by_name, (gpointer)n.name, GUINT_TO_POINTER(ix + 1));
    /* Keys a later layer may append to a node: "role(s)", "pos". */
    viz_node *np = &g_array_index(m->nodes, viz_node, ix);
    apply_entry(m, np, e);
  }
  cJSON_ArrayForEach(e, links) {
    viz_node *a = node_named(m, trace_get_str(e, "a"));
    viz_node *b = node_named(m, trace_get_str(e, "b"));
    if (!a || !b) {
      g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
                  "%s:1: header: link %d: expected \"a\" and \"b\" naming nodes", m->source,
                  (int)m->links->len);
      return false;
    }
    viz_link l = {
        .a = (uint32_t)(a - &g_array_index(m->nodes, viz_node, 0)),
        .b = (uint32_t)(b - &g_array_index(m->nodes, viz_node, 0)),
        .latency_ns = hget_i64(e, "latency_ns", 0),
        .jitter_ns = hget_i64(e, "jitter_ns", 0),
        .bandwidth_bps = hget_u64(e, "bandwidth_bps", 0),
        .loss_ppm = (uint32_t)hget_u64(e, "loss_ppm", 0),
    };
    g_array_append_val(m->links, l);
  }
  const cJSON *roles = cJSON_GetObjectItemCaseSensitive(hdr, "roles");
  if (cJSON_IsObject(roles) || cJSON_IsArray(roles))
    apply_table(m, roles, false);
  const cJSON *pos = cJSON_GetObjectItemCaseSensitive(hdr, "pos");
  if (cJSON_IsObject(pos) || cJSON_IsArray(pos))
    apply_table(m, pos, true);
  return true;
}

/* --- transport and faults ------------------------------------------------------ */

static void map_tcp(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  (void)ix;
  const char *kind = viz_model_kind_name(m, ev->kind);
  ev->node = viz__node_ref(m, rec, "node");
  uint64_t id = get_u64(rec, "conn", 0), peer = get_u64(rec, "peer", 0);
  if (id && peer)
    viz__conn_link_ids(m, id, peer);
  ev->conn = viz__conn_ref(m, id);
  viz_conn *c = conn_at(m, ev->conn);
  if (!c)
    return;
  uint32_t remote = addr_node(m, trace_rec_str(rec, "dst"));
  ev->peer = remote;
  if (strcmp(kind, "tcp.connect") == 0) {
    c->client = ev->node;
    if (c->server == VIZ_NONE)
      c->server = remote;
    if (c->t_open < 0)
      c->t_open = ev->t;
  } else if (strcmp(kind, "tcp.accept") == 0) {
    c->server = ev->node;
    if (c->client == VIZ_NONE)
      c->client = remote;
    if (c->t_open < 0)
      c->t_open = ev->t;
  } else if (strcmp(kind, "tcp.established") == 0) {
    if (c->t_est < 0)
      c->t_est = ev->t;
  } else {
    /* close, reset, refused, timeout: over when the last end knows it. */
    if (c->t_open < 0)
      c->t_open = ev->t;
    c->t_close = ev->t;
    if (!*c->close_kind || strcmp(c->close_kind, "tcp.close") == 0)
      c->close_kind = viz__intern(m, kind);
  }
}

static void map_drop(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  ev->node = viz__node_ref(m, rec, "node");
  ev->peer = trace_rec_str(rec, "next") ? viz__node_ref(m, rec, "next") : VIZ_NONE;
  uint64_t id = get_u64(rec, "conn", 0);
  ev->conn = id ? viz__conn_ref(m, id) : VIZ_NONE;
  viz_drop d = {.t = ev->t, .node = ev->node, .next = ev->peer, .conn = ev->conn, .event = ix};
  g_array_append_val(m->drops, d);
}

static uint32_t link_of(viz_model *m, const trace_rec *rec) {
  uint64_t li;
  if (trace_rec_uint(rec, "link", &li) && li < m->links->len)
    return (uint32_t)li;
  uint32_t a = viz__node_ref(m, rec, "a"), b = viz__node_ref(m, rec, "b");
  for (uint32_t i = 0; i < m->links->len; i++) {
    const viz_link *l = &g_array_index(m->links, viz_link, i);
    if ((l->a == a && l->b == b) || (l->a == b && l->b == a))
      return i;
  }
  return VIZ_NONE;
}

static void map_fault(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  const char *kind = viz_model_kind_name(m, ev->kind);
  bool down = strcmp(kind, "fault.link_down") == 0, up = strcmp(kind, "fault.link_up") == 0;
  if (down || up) {
    uint32_t l = link_of(m, rec);
    if (l != VIZ_NONE) {
      const viz_link *lk = &g_array_index(m->links, viz_link, l);
      ev->node = lk->a;
      ev->peer = lk->b;
      viz__state_change c = {.t = ev->t, .what = l, .up = up};
      g_array_append_val(m->link_changes, c);
    }
    mark(m, down ? VIZ_MARK_LINK_DOWN : VIZ_MARK_LINK_UP, ev, ix, l);
    return;
  }
  ev->node = trace_rec_str(rec, "node") ? viz__node_ref(m, rec, "node") : VIZ_NONE;
  bool crash = strcmp(kind, "fault.crash") == 0, restart = strcmp(kind, "fault.restart") == 0;
  if ((crash || restart) && ev->node != VIZ_NONE) {
    viz__state_change c = {.t = ev->t, .what = ev->node, .up = restart};
    g_array_append_val(m->node_changes, c);
  }
  mark(m, crash ? VIZ_MARK_CRASH : restart ? VIZ_MARK_RESTART : VIZ_MARK_FAULT, ev, ix, VIZ_NONE);
}

/* --- protocol lines -------------------------------------------------------------- */

static viz_proto proto_of(const char *kind) {
  if (g_str_has_prefix(kind, "smtp."))
    return VIZ_PROTO_SMTP;
  if (g_str_has_prefix(kind, "imap."))
    return VIZ_PROTO_IMAP;
  if (g_str_has_prefix(kind, "pop3."))
    return VIZ_PROTO_POP3;
  return VIZ_PROTO_DNS;
}

static uint32_t arrow_add(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix,
                          viz_arrow_kind k, const char *label, size_t label_n) {
  viz_arrow a = {
      .sent = get_i64(rec, "sent", ev->t),
      .recv = ev->t,
      .from = viz__node_ref(m, rec, "from"),
      .to = viz__node_ref(m, rec, "to"),
      .conn = VIZ_NONE,
      .event = ix,
      .kind = (uint8_t)k,
      .proto = (uint8_t)proto_of(viz_model_kind_name(m, ev->kind)),
  };
  if (a.sent > a.recv || a.sent < 0)
    a.sent = a.recv; /* never draw an arrow backwards in time */
  uint64_t id = get_u64(rec, "conn", 0);
  if (id)
    a.conn = viz__conn_ref(m, id);
  a.path = (a.from != VIZ_NONE && a.to != VIZ_NONE) ? viz__path(m, a.from, a.to) : VIZ_NONE;
  a.label_off = viz__label(m, label, label_n, &a.label_len);
  ev->node = a.from;
  ev->peer = a.to;
  ev->conn = a.conn;
  if (a.recv - a.sent > m->max_arrow_span)
    m->max_arrow_span = a.recv - a.sent;
  uint32_t ai = m->arrows->len;
  g_array_append_val(m->arrows, a);
  viz_conn *c = conn_at(m, a.conn);
  if (c) {
    if (c->proto == VIZ_PROTO_NONE)
      c->proto = (viz_proto)a.proto;
    if (k == VIZ_ARROW_CMD && c->client == VIZ_NONE) {
      c->client = a.from;
      c->server = a.to;
    }
    if (c->t_open < 0)
      c->t_open = a.sent;
    viz__pair p = {a.conn, ai};
    g_array_append_val(m->b->conn_pairs, p);
  }
  return ai;
}

static void map_line(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  const char *kind = viz_model_kind_name(m, ev->kind);
  bool reply = g_str_has_suffix(kind, ".reply");
  GBytes *line = trace_rec_bytes(rec, "line");
  gsize n = 0;
  const char *p = line ? g_bytes_get_data(line, &n) : "";
  uint32_t ai = arrow_add(m, rec, ev, ix, reply ? VIZ_ARROW_REPLY : VIZ_ARROW_CMD, p, n);
  if (line)
    g_bytes_unref(line);
  if (!reply)
    return;
  viz_arrow *a = &g_array_index(m->arrows, viz_arrow, ai);
  int64_t code;
  const char *word = trace_rec_str(rec, "code");
  if (trace_rec_int(rec, "code", &code)) {
    a->code = code > 0 && code < 1000 ? (uint16_t)code : 0;
    a->error = code >= 400;
  } else if (word) {
    a->error = strcmp(word, "NO") == 0 || strcmp(word, "BAD") == 0 || strcmp(word, "-ERR") == 0;
  }
}

static void map_data(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  int64_t size = get_i64(rec, "size", -1);
  char *label = size >= 0 ? g_strdup_printf("(message content, %" G_GINT64_FORMAT " octets)", size)
                          : g_strdup("(message content)");
  uint32_t ai = arrow_add(m, rec, ev, ix, VIZ_ARROW_DATA, label, strlen(label));
  g_free(label);
  uint32_t c = g_array_index(m->arrows, viz_arrow, ai).conn;
  if (c != VIZ_NONE)
    g_array_index(m->b->conn_last_data, uint32_t, c) = ai;
}

static char *dns_key(uint32_t client, uint32_t server, const trace_rec *rec) {
  const char *q = trace_rec_str(rec, "qname");
  return g_strdup_printf("%u/%u/%" G_GUINT64_FORMAT "/%s", client, server, get_u64(rec, "qid", 0),
                         q ? q : "");
}

static void map_dns_query(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  const char *qname = get_text(m, rec, "qname"), *qtype = get_text(m, rec, "qtype");
  char *label = g_strdup_printf("%s? %s", *qtype ? qtype : "?", qname);
  uint32_t ai = arrow_add(m, rec, ev, ix, VIZ_ARROW_DNS_QUERY, label, strlen(label));
  g_free(label);
  const viz_arrow *a = &g_array_index(m->arrows, viz_arrow, ai);
  viz_dns d = {.client = a->from,
               .server = a->to,
               .qname = qname,
               .qtype = qtype,
               .rcode = viz__intern(m, ""),
               .t_sent = a->sent,
               .t_resp = -1,
               .query_arrow = ai,
               .resp_arrow = VIZ_NONE};
  g_hash_table_replace(m->b->dns_pending, dns_key(a->from, a->to, rec),
                       GUINT_TO_POINTER(m->dns->len + 1));
  g_array_append_val(m->dns, d);
}

static void map_dns_response(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  const char *rcode = get_text(m, rec, "rcode");
  const char *answers = get_joined(m, rec, "answers");
  char *label =
      g_strdup_printf("%s%s%s", *rcode ? rcode : "response", *answers ? ": " : "", answers);
  uint32_t ai = arrow_add(m, rec, ev, ix, VIZ_ARROW_DNS_RESPONSE, label, strlen(label));
  g_free(label);
  viz_arrow *a = &g_array_index(m->arrows, viz_arrow, ai);
  a->error = *rcode && strcmp(rcode, "NOERROR") != 0;
  char *key = dns_key(a->to, a->from, rec);
  gpointer v = g_hash_table_lookup(m->b->dns_pending, key);
  if (v) {
    viz_dns *d = &g_array_index(m->dns, viz_dns, GPOINTER_TO_UINT(v) - 1);
    d->rcode = rcode;
    d->t_resp = a->recv;
    d->resp_arrow = ai;
    g_hash_table_remove(m->b->dns_pending, key);
  }
  g_free(key);
}

static void map_dns_timeout(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  (void)ix;
  ev->node = viz__node_ref(m, rec, "node");
  ev->peer = viz__node_ref(m, rec, "to");
  char *key = dns_key(ev->node, ev->peer, rec);
  gpointer v = g_hash_table_lookup(m->b->dns_pending, key);
  if (v) {
    g_array_index(m->dns, viz_dns, GPOINTER_TO_UINT(v) - 1).timeout = true;
    g_hash_table_remove(m->b->dns_pending, key);
  }
  g_free(key);
}

static void map_tls(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  (void)ix;
  ev->node = viz__node_ref(m, rec, "node");
  uint64_t id = get_u64(rec, "conn", 0);
  ev->conn = id ? viz__conn_ref(m, id) : VIZ_NONE;
  viz_conn *c = conn_at(m, ev->conn);
  const char *kind = viz_model_kind_name(m, ev->kind);
  if (c && strcmp(kind, "tls.established") == 0 && c->t_tls < 0)
    c->t_tls = ev->t;
  if (c && strcmp(kind, "tls.failed") == 0)
    c->tls_failed = true;
}

static void map_node_only(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  (void)ix;
  ev->node = viz__node_ref(m, rec, "node");
}

/* --- messages ----------------------------------------------------------------------- */

/* Every msg.* / policy.* names its message by "msg"; the event joins the
 * message's list. */
static viz_msg *msg_of(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  ev->msg = viz__msg_ref(m, trace_rec_str(rec, "msg"));
  if (ev->msg == VIZ_NONE)
    return NULL;
  viz__pair p = {ev->msg, ix};
  g_array_append_val(m->b->msg_pairs, p);
  return msg_at(m, ev->msg);
}

static uint64_t qkey(uint32_t node, uint32_t msg) { return (uint64_t)node << 32 | msg; }

/* Queue badges: a message is queued at a node from msg.queue (or its first
 * msg.defer) until it leaves (relay from the node, deliver, bounce, expire). */
enum { Q_QUEUED = 1, Q_DEFERRED = 2 };

static void queue_set(viz_model *m, int64_t t, uint32_t node, uint32_t msg, unsigned bits) {
  if (node == VIZ_NONE || msg == VIZ_NONE)
    return;
  gpointer k = (gpointer)(gsize)qkey(node, msg);
  unsigned old = GPOINTER_TO_UINT(g_hash_table_lookup(m->b->queue_state, k));
  if (old == bits)
    return;
  uint32_t *q = &g_array_index(m->b->node_queued, uint32_t, node);
  uint32_t *d = &g_array_index(m->b->node_deferred, uint32_t, node);
  *q += (bits & Q_QUEUED ? 1u : 0u) - (old & Q_QUEUED ? 1u : 0u);
  *d += (bits & Q_DEFERRED ? 1u : 0u) - (old & Q_DEFERRED ? 1u : 0u);
  if (bits)
    g_hash_table_insert(m->b->queue_state, k, GUINT_TO_POINTER(bits));
  else
    g_hash_table_remove(m->b->queue_state, k);
  viz__queue_push(m, t, node);
}

static void hop_add(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix, viz_hop_kind k,
                    uint32_t from, uint32_t to) {
  viz_hop h = {.t0 = -1,
               .t1 = ev->t,
               .from = from,
               .to = to,
               .msg = ev->msg,
               .conn = VIZ_NONE,
               .event = ix,
               .path = VIZ_NONE,
               .kind = (uint8_t)k};
  uint64_t id = get_u64(rec, "conn", 0);
  if (id) {
    h.conn = viz__conn_ref(m, id);
    ev->conn = h.conn;
    uint32_t *last = &g_array_index(m->b->conn_last_data, uint32_t, h.conn);
    if (*last != VIZ_NONE) {
      const viz_arrow *a = &g_array_index(m->arrows, viz_arrow, *last);
      h.t0 = a->sent;
      h.t1 = a->recv;
      *last = VIZ_NONE;
    }
  }
  if (from != VIZ_NONE && to != VIZ_NONE)
    h.path = viz__path(m, from, to);
  if (h.t0 < 0) {
    int64_t lat = h.path != VIZ_NONE ? g_array_index(m->paths, viz__route, h.path).latency_ns : 0;
    h.t0 = h.t1 - MAX(lat, 1000000);
  }
  if (h.t1 - h.t0 > m->max_hop_span)
    m->max_hop_span = h.t1 - h.t0;
  g_array_append_val(m->hops, h);
}

static void map_msg(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  const char *kind = viz_model_kind_name(m, ev->kind) + 4; /* after "msg." */
  viz_msg *g = msg_of(m, rec, ev, ix);
  bool has_node = trace_rec_str(rec, "node") != NULL;
  ev->node = has_node ? viz__node_ref(m, rec, "node") : VIZ_NONE;
  viz_msg none = {0}; /* a record without a message key updates nothing */
  if (!g)
    g = &none;
  if (strcmp(kind, "compose") == 0 && g != &none) {
    g->message_id = get_text(m, rec, "message_id");
    g->from = get_text(m, rec, "from");
    g->rcpts = get_joined(m, rec, "rcpts");
    g->subject = get_text(m, rec, "subject");
    g->origin = ev->node;
    g->t_compose = ev->t;
    if (ev->node != VIZ_NONE)
      g_array_index(m->nodes, viz_node, ev->node).composes = true;
    mark(m, VIZ_MARK_COMPOSE, ev, ix, VIZ_NONE);
  } else if (strcmp(kind, "submit") == 0 || strcmp(kind, "relay") == 0) {
    bool submit = kind[0] == 's';
    ev->node = viz__node_ref(m, rec, "from");
    ev->peer = viz__node_ref(m, rec, "to");
    hop_add(m, rec, ev, ix, submit ? VIZ_HOP_SUBMIT : VIZ_HOP_RELAY, ev->node, ev->peer);
    queue_set(m, ev->t, ev->node, ev->msg, 0);
    mark(m, submit ? VIZ_MARK_SUBMIT : VIZ_MARK_RELAY, ev, ix, VIZ_NONE);
  } else if (strcmp(kind, "queue") == 0) {
    queue_set(m, ev->t, ev->node, ev->msg, Q_QUEUED);
  } else if (strcmp(kind, "defer") == 0) {
    g->deferred++;
    queue_set(m, ev->t, ev->node, ev->msg, Q_QUEUED | Q_DEFERRED);
    mark(m, VIZ_MARK_DEFER, ev, ix, VIZ_NONE);
  } else if (strcmp(kind, "deliver") == 0 || strcmp(kind, "bounce") == 0) {
    bool deliver = kind[0] == 'd';
    if (deliver)
      g->delivered++;
    else
      g->bounced++;
    g->t_done = ev->t;
    queue_set(m, ev->t, ev->node, ev->msg, 0);
    mark(m, deliver ? VIZ_MARK_DELIVER : VIZ_MARK_BOUNCE, ev, ix, VIZ_NONE);
  } else if (strcmp(kind, "expire") == 0) {
    queue_set(m, ev->t, ev->node, ev->msg, 0);
  } else if (strcmp(kind, "fetch") == 0) {
    ev->peer = viz__node_ref(m, rec, "from");
    hop_add(m, rec, ev, ix, VIZ_HOP_FETCH, ev->peer, ev->node);
    if (ev->node != VIZ_NONE)
      g_array_index(m->nodes, viz_node, ev->node).fetches = true;
    mark(m, VIZ_MARK_FETCH, ev, ix, VIZ_NONE);
  } else if (strcmp(kind, "display") == 0 && g != &none) {
    g->display_event = ix;
  }
}

static void map_policy(viz_model *m, const trace_rec *rec, viz_event *ev, uint32_t ix) {
  msg_of(m, rec, ev, ix);
  ev->node = viz__node_ref(m, rec, "node");
  if (strcmp(viz_model_kind_name(m, ev->kind), "policy.greylist") == 0)
    mark(m, VIZ_MARK_GREYLIST, ev, ix, VIZ_NONE);
}

/* --- the table ----------------------------------------------------------------------- */

static const struct {
  const char *kind; /* exact kind, or a family prefix ending in '.' */
  viz__map_fn fn;
} table[] = {
    {"smtp.data", map_data},
    {"smtp.cmd", map_line},
    {"smtp.reply", map_line},
    {"imap.cmd", map_line},
    {"imap.reply", map_line},
    {"pop3.cmd", map_line},
    {"pop3.reply", map_line},
    {"dns.query", map_dns_query},
    {"dns.response", map_dns_response},
    {"dns.timeout", map_dns_timeout},
    {"dns.cache_hit", map_node_only},
    {"tls.", map_tls},
    {"tcp.", map_tcp},
    {"net.drop", map_drop},
    {"net.", map_node_only},
    {"fault.", map_fault},
    {"msg.", map_msg},
    {"policy.", map_policy},
};

viz__map_fn viz__map_lookup(const char *kind) {
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
    const char *k = table[i].kind;
    size_t n = strlen(k);
    if (k[n - 1] == '.' ? strncmp(kind, k, n) == 0 : strcmp(kind, k) == 0)
      return table[i].fn;
  }
  return NULL;
}
