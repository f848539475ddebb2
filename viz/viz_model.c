/* viz_model.c — the viewer's model: loading a trace into flat indexed
 * arrays and answering the views' time queries.
 *
 * Loading reads every record once through the trace reader (which checks
 * the format and names file and line on any error), keeps the record's
 * exact text, and hands the record to the mapper (viz_map.c) which appends
 * derived rows. Afterwards the per-object lists (a connection's arrows, a
 * message's events and hops, a link's or node's state changes) are grouped
 * by stable counting sorts, so no list depends on hash-table order.
 * Arrays the views query by time are in time order and searched by
 * bisection; an item that spans time (an arrow, a hop) is found from the
 * first item ending after the time, scanning at most the longest span.
 */
#include <string.h>
#include <sys/stat.h>

#include "trace_read.h"
#include "viz_model_int.h"

G_STATIC_ASSERT(sizeof(viz_event) == 40);

/* --- names -------------------------------------------------------------------- */

static const char *const role_names[VIZ_ROLE_COUNT] = {
    "unknown", "client", "submission", "relay", "mx", "mailbox", "reader", "dns", "router"};
static const char *const proto_names[VIZ_PROTO_COUNT] = {"", "SMTP", "IMAP", "POP3", "DNS"};
static const char *const hop_names[VIZ_HOP_COUNT] = {"submit", "relay", "fetch"};
static const char *const mark_names[VIZ_MARK_COUNT] = {
    "compose",  "submit",    "relay",   "defer", "deliver", "bounce", "fetch",
    "greylist", "link down", "link up", "crash", "restart", "fault"};

const char *viz_role_name(viz_role r) {
  g_assert((unsigned)r < VIZ_ROLE_COUNT);
  return role_names[r];
}
const char *viz_proto_name(viz_proto p) {
  g_assert((unsigned)p < VIZ_PROTO_COUNT);
  return proto_names[p];
}
const char *viz_hop_kind_name(viz_hop_kind k) {
  g_assert((unsigned)k < VIZ_HOP_COUNT);
  return hop_names[k];
}
const char *viz_mark_kind_name(viz_mark_kind k) {
  g_assert((unsigned)k < VIZ_MARK_COUNT);
  return mark_names[k];
}

viz_role viz_role_parse(const char *word) {
  static const struct {
    const char *word;
    viz_role role;
  } words[] = {
      {"client", VIZ_ROLE_CLIENT},   {"mua", VIZ_ROLE_CLIENT},
      {"sender", VIZ_ROLE_CLIENT},   {"submission", VIZ_ROLE_SUBMISSION},
      {"msa", VIZ_ROLE_SUBMISSION},  {"relay", VIZ_ROLE_RELAY},
      {"mta", VIZ_ROLE_RELAY},       {"outbound", VIZ_ROLE_RELAY},
      {"smarthost", VIZ_ROLE_RELAY}, {"mx", VIZ_ROLE_MX},
      {"inbound", VIZ_ROLE_MX},      {"mailbox", VIZ_ROLE_MAILBOX},
      {"imap", VIZ_ROLE_MAILBOX},    {"pop3", VIZ_ROLE_MAILBOX},
      {"store", VIZ_ROLE_MAILBOX},   {"mda", VIZ_ROLE_MAILBOX},
      {"reader", VIZ_ROLE_READER},   {"dns", VIZ_ROLE_DNS},
      {"resolver", VIZ_ROLE_DNS},    {"nameserver", VIZ_ROLE_DNS},
      {"ns", VIZ_ROLE_DNS},          {"root", VIZ_ROLE_DNS},
      {"tld", VIZ_ROLE_DNS},         {"authoritative", VIZ_ROLE_DNS},
      {"router", VIZ_ROLE_ROUTER},
      {"gateway", VIZ_ROLE_CLIENT}, /* live mode: where real clients enter */
  };
  for (size_t i = 0; word && i < G_N_ELEMENTS(words); i++)
    if (g_ascii_strcasecmp(word, words[i].word) == 0)
      return words[i].role;
  return VIZ_ROLE_UNKNOWN;
}

/* --- building ------------------------------------------------------------------ */

const char *viz__intern(viz_model *m, const char *s) {
  const char *r = g_string_chunk_insert_const(m->strings, s);
  return r;
}

uint32_t viz__node_ref(viz_model *m, const trace_rec *rec, const char *key) {
  const char *name = trace_rec_str(rec, key);
  if (!name)
    return VIZ_NONE;
  gpointer v = g_hash_table_lookup(m->node_by_name, name);
  if (!v) {
    m->unknown_refs++;
    return VIZ_NONE;
  }
  return GPOINTER_TO_UINT(v) - 1;
}

static uint32_t conn_lookup(viz_model *m, uint64_t id) {
  gpointer v = g_hash_table_lookup(m->b->conn_by_id, (gpointer)(gsize)id);
  return v ? GPOINTER_TO_UINT(v) - 1 : VIZ_NONE;
}

uint32_t viz__conn_ref(viz_model *m, uint64_t id) {
  if (!id)
    return VIZ_NONE;
  uint32_t c = conn_lookup(m, id);
  if (c != VIZ_NONE)
    return c;
  viz_conn n = {.id = id,
                .client = VIZ_NONE,
                .server = VIZ_NONE,
                .t_open = -1,
                .t_est = -1,
                .t_tls = -1,
                .t_close = -1,
                .close_kind = viz__intern(m, ""),
                .msg = VIZ_NONE};
  c = m->conns->len;
  g_array_append_val(m->conns, n);
  uint32_t none = VIZ_NONE;
  g_array_append_val(m->b->conn_last_data, none);
  g_hash_table_insert(m->b->conn_by_id, (gpointer)(gsize)id, GUINT_TO_POINTER(c + 1));
  return c;
}

void viz__conn_link_ids(viz_model *m, uint64_t a, uint64_t b) {
  uint32_t ca = conn_lookup(m, a), cb = conn_lookup(m, b);
  if (ca != VIZ_NONE && cb != VIZ_NONE)
    return;
  uint32_t c = ca != VIZ_NONE ? ca : cb != VIZ_NONE ? cb : viz__conn_ref(m, b);
  uint64_t other = ca != VIZ_NONE ? b : a;
  g_hash_table_insert(m->b->conn_by_id, (gpointer)(gsize)other, GUINT_TO_POINTER(c + 1));
  viz_conn *cn = &g_array_index(m->conns, viz_conn, c);
  if (cn->id != other && !cn->peer_id)
    cn->peer_id = other;
}

uint32_t viz__msg_ref(viz_model *m, const char *key) {
  if (!key)
    return VIZ_NONE;
  gpointer v = g_hash_table_lookup(m->msg_by_key, key);
  if (v)
    return GPOINTER_TO_UINT(v) - 1;
  const char *empty = viz__intern(m, "");
  viz_msg g = {.key = viz__intern(m, key),
               .message_id = empty,
               .from = empty,
               .rcpts = empty,
               .subject = empty,
               .origin = VIZ_NONE,
               .t_compose = -1,
               .t_done = -1,
               .display_event = VIZ_NONE};
  uint32_t i = m->msgs->len;
  g_array_append_val(m->msgs, g);
  g_hash_table_insert(m->msg_by_key, (gpointer)g.key, GUINT_TO_POINTER(i + 1));
  return i;
}

#define LABEL_MAX 160

uint32_t viz__label(viz_model *m, const char *p, size_t n, uint32_t *len) {
  GString *s = m->labels;
  size_t start = s->len;
  while (n && (p[n - 1] == '\n' || p[n - 1] == '\r'))
    n--;
  bool utf8 = g_utf8_validate(p, (gssize)n, NULL);
  for (size_t i = 0; i < n && s->len - start < LABEL_MAX; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
      g_string_append(s, " | ");
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      g_string_append_c(s, c == '\t' ? ' ' : '.');
    } else if (c >= 0x80 && !utf8) {
      g_string_append_c(s, '?');
    } else {
      g_string_append_c(s, (char)c);
    }
  }
  if (s->len - start >= LABEL_MAX) {
    /* cut at a character boundary and mark the cut */
    size_t end = s->len;
    while (end > start && ((unsigned char)s->str[end - 1] & 0xC0) == 0x80)
      end--;
    if (end > start && (unsigned char)s->str[end - 1] >= 0xC0)
      end--;
    g_string_truncate(s, end);
    g_string_append(s, "\xe2\x80\xa6"); /* … */
  }
  *len = (uint32_t)(s->len - start);
  return (uint32_t)start;
}

/* Least latency, then fewest hops, then lowest node index (O(N^2) Dijkstra,
 * run once per distinct pair; topologies are small). */
static uint32_t path_compute(viz_model *m, uint32_t from, uint32_t to) {
  uint32_t n = m->nodes->len;
  int64_t *dist = g_new(int64_t, n);
  uint32_t *hops = g_new(uint32_t, n), *prev = g_new(uint32_t, n), *via = g_new(uint32_t, n);
  bool *done = g_new0(bool, n);
  for (uint32_t i = 0; i < n; i++) {
    dist[i] = INT64_MAX;
    hops[i] = UINT32_MAX;
    prev[i] = via[i] = VIZ_NONE;
  }
  dist[from] = 0;
  hops[from] = 0;
  for (;;) {
    uint32_t u = VIZ_NONE;
    for (uint32_t i = 0; i < n; i++)
      if (!done[i] && dist[i] != INT64_MAX &&
          (u == VIZ_NONE || dist[i] < dist[u] || (dist[i] == dist[u] && hops[i] < hops[u])))
        u = i;
    if (u == VIZ_NONE || u == to)
      break;
    done[u] = true;
    for (uint32_t li = 0; li < m->links->len; li++) {
      const viz_link *l = &g_array_index(m->links, viz_link, li);
      uint32_t v = l->a == u ? l->b : l->b == u ? l->a : VIZ_NONE;
      if (v == VIZ_NONE || done[v])
        continue;
      /* routers forward; hosts are ends only */
      if (u != from && !g_array_index(m->nodes, viz_node, u).router)
        continue;
      int64_t d = dist[u] + MAX(l->latency_ns, 0);
      if (d < dist[v] || (d == dist[v] && hops[u] + 1 < hops[v])) {
        dist[v] = d;
        hops[v] = hops[u] + 1;
        prev[v] = u;
        via[v] = li;
      }
    }
  }
  viz__route p = {.first = m->path_nodes->len, .latency_ns = 0};
  if (dist[to] != INT64_MAX && to != from) {
    uint32_t k = hops[to] + 1;
    g_array_set_size(m->path_nodes, p.first + k);
    uint32_t lfirst = m->path_links->len;
    g_array_set_size(m->path_links, lfirst + k - 1);
    uint32_t v = to;
    for (uint32_t i = k; i-- > 0;) {
      g_array_index(m->path_nodes, uint32_t, p.first + i) = v;
      if (i)
        g_array_index(m->path_links, uint32_t, lfirst + i - 1) = via[v];
      v = prev[v];
    }
    p.len = k;
    p.latency_ns = dist[to];
  } else {
    uint32_t ends[2] = {from, to}, none = VIZ_NONE;
    g_array_append_vals(m->path_nodes, ends, 2);
    g_array_append_val(m->path_links, none);
    p.len = 2;
  }
  g_free(dist);
  g_free(hops);
  g_free(prev);
  g_free(via);
  g_free(done);
  uint32_t ix = m->paths->len;
  g_array_append_val(m->paths, p);
  return ix;
}

uint32_t viz__path(viz_model *m, uint32_t from, uint32_t to) {
  gpointer k = (gpointer)(gsize)((uint64_t)from << 32 | to);
  gpointer v = g_hash_table_lookup(m->b->path_by_pair, k);
  if (v)
    return GPOINTER_TO_UINT(v) - 1;
  uint32_t p = path_compute(m, from, to);
  g_hash_table_insert(m->b->path_by_pair, k, GUINT_TO_POINTER(p + 1));
  return p;
}

void viz__queue_push(viz_model *m, int64_t t, uint32_t node) {
  viz__queue_change c = {.t = t,
                         .node = node,
                         .queued = g_array_index(m->b->node_queued, uint32_t, node),
                         .deferred = g_array_index(m->b->node_deferred, uint32_t, node)};
  g_array_append_val(m->queue_changes, c);
}

static viz_model *model_new(const char *source) {
  viz_model *m = g_new0(viz_model, 1);
  m->source = g_strdup(source);
  m->strings = g_string_chunk_new(4096);
  m->raw = g_string_new(NULL);
  m->labels = g_string_new(NULL);
#define ARR(f, T) m->f = g_array_new(FALSE, FALSE, sizeof(T))
  ARR(nodes, viz_node);
  ARR(links, viz_link);
  ARR(events, viz_event);
  ARR(arrows, viz_arrow);
  ARR(drops, viz_drop);
  ARR(conns, viz_conn);
  ARR(conn_arrows, uint32_t);
  ARR(msgs, viz_msg);
  ARR(hops, viz_hop);
  ARR(msg_hops, uint32_t);
  ARR(msg_events, uint32_t);
  ARR(dns, viz_dns);
  ARR(marks, viz_mark);
  ARR(link_changes, viz__state_change);
  ARR(link_first, uint32_t);
  ARR(node_changes, viz__state_change);
  ARR(node_first, uint32_t);
  ARR(queue_changes, viz__queue_change);
  ARR(queue_first, uint32_t);
  ARR(paths, viz__route);
  ARR(path_nodes, uint32_t);
  ARR(path_links, uint32_t);
  m->kinds = g_ptr_array_new();
  m->likes = g_ptr_array_new();
  m->node_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  m->msg_by_key = g_hash_table_new(g_str_hash, g_str_equal);
  m->kind_by_name = g_hash_table_new(g_str_hash, g_str_equal);
  viz__build *b = m->b = g_new0(viz__build, 1);
  b->conn_by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
  b->dns_pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  b->queue_state = g_hash_table_new(g_direct_hash, g_direct_equal);
  b->path_by_pair = g_hash_table_new(g_direct_hash, g_direct_equal);
  b->node_by_addr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  b->kind_handler = g_array_new(FALSE, FALSE, sizeof(viz__map_fn));
  b->conn_last_data = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  b->node_queued = g_array_new(FALSE, TRUE, sizeof(uint32_t));
  b->node_deferred = g_array_new(FALSE, TRUE, sizeof(uint32_t));
  b->conn_pairs = g_array_new(FALSE, FALSE, sizeof(viz__pair));
  b->msg_pairs = g_array_new(FALSE, FALSE, sizeof(viz__pair));
#undef ARR
  return m;
}

static void build_free(viz__build *b) {
  if (!b)
    return;
  g_hash_table_destroy(b->conn_by_id);
  g_hash_table_destroy(b->dns_pending);
  g_hash_table_destroy(b->queue_state);
  g_hash_table_destroy(b->path_by_pair);
  g_hash_table_destroy(b->node_by_addr);
  g_array_free(b->kind_handler, TRUE);
  g_array_free(b->conn_last_data, TRUE);
  g_array_free(b->node_queued, TRUE);
  g_array_free(b->node_deferred, TRUE);
  g_array_free(b->conn_pairs, TRUE);
  g_array_free(b->msg_pairs, TRUE);
  g_free(b);
}

void viz_model_free(viz_model *m) {
  if (!m)
    return;
  build_free(m->b);
  GArray *arrays[] = {m->nodes,      m->links,         m->events,      m->arrows,
                      m->drops,      m->conns,         m->conn_arrows, m->msgs,
                      m->hops,       m->msg_hops,      m->msg_events,  m->dns,
                      m->marks,      m->link_changes,  m->link_first,  m->node_changes,
                      m->node_first, m->queue_changes, m->queue_first, m->paths,
                      m->path_nodes, m->path_links};
  for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++)
    g_array_free(arrays[i], TRUE);
  g_ptr_array_free(m->kinds, TRUE);
  g_ptr_array_free(m->likes, TRUE);
  g_hash_table_destroy(m->node_by_name);
  g_hash_table_destroy(m->msg_by_key);
  g_hash_table_destroy(m->kind_by_name);
  g_string_chunk_free(m->strings);
  g_string_free(m->raw, TRUE);
  g_string_free(m->labels, TRUE);
  g_free(m->source);
  g_free(m->scenario);
  g_free(m->detail);
  g_free(m);
}

/* Stable counting sort of PAIRS by group: OUT receives the items, FIRST (if
 * given) the start of each group (ngroups + 1 entries). */
static void group_pairs(const viz__pair *pairs, size_t n, uint32_t ngroups, GArray *out,
                        GArray *first) {
  GArray *start = first ? first : g_array_new(FALSE, FALSE, sizeof(uint32_t));
  g_array_set_size(start, ngroups + 1);
  uint32_t *st = (uint32_t *)(void *)start->data;
  memset(st, 0, sizeof(uint32_t) * (ngroups + 1));
  for (size_t i = 0; i < n; i++)
    st[pairs[i].group + 1]++;
  for (uint32_t g = 0; g < ngroups; g++)
    st[g + 1] += st[g];
  g_array_set_size(out, n);
  uint32_t *fill = g_new(uint32_t, ngroups + 1);
  memcpy(fill, st, sizeof(uint32_t) * (ngroups + 1));
  for (size_t i = 0; i < n; i++)
    g_array_index(out, uint32_t, fill[pairs[i].group]++) = pairs[i].item;
  g_free(fill);
  if (!first)
    g_array_free(start, TRUE);
}

/* Regroups an array of state changes (time order) by link/node, stably. */
static void group_changes(GArray *changes, size_t elt, uint32_t ngroups, GArray *first,
                          uint32_t (*group_of)(const void *)) {
  size_t n = changes->len;
  viz__pair *pairs = g_new(viz__pair, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    pairs[i] = (viz__pair){group_of(changes->data + i * elt), (uint32_t)i};
  GArray *order = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  group_pairs(pairs, n, ngroups, order, first);
  char *copy = g_memdup2(changes->data, n * elt);
  for (size_t i = 0; i < n; i++)
    memcpy(changes->data + i * elt, copy + g_array_index(order, uint32_t, i) * elt, elt);
  g_free(copy);
  g_free(pairs);
  g_array_free(order, TRUE);
}

static uint32_t state_group(const void *p) { return ((const viz__state_change *)p)->what; }
static uint32_t queue_group(const void *p) { return ((const viz__queue_change *)p)->node; }

static gint hop_cmp(gconstpointer a, gconstpointer b) {
  const viz_hop *x = a, *y = b;
  if (x->t1 != y->t1)
    return x->t1 < y->t1 ? -1 : 1;
  return x->event < y->event ? -1 : x->event > y->event;
}

/* Appends S casefolded with every run of digits as one '#'. */
static void append_masked(GString *out, const char *s) {
  char *f = g_utf8_casefold(s, -1);
  for (const char *p = f; *p; p++) {
    if (g_ascii_isdigit(*p)) {
      while (g_ascii_isdigit(p[1]))
        p++;
      g_string_append_c(out, '#');
    } else {
      g_string_append_c(out, *p);
    }
  }
  g_free(f);
}

static gint str_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The recipient domains of RCPTS ("a@x, b@y"), casefolded, sorted, once
 * each, joined by ", ". */
static char *rcpt_domains(const char *rcpts) {
  char **parts = g_strsplit(rcpts, ",", -1);
  GPtrArray *doms = g_ptr_array_new_with_free_func(g_free);
  for (char **p = parts; *p; p++) {
    const char *at = strrchr(*p, '@');
    if (!at)
      continue;
    char *d = g_utf8_casefold(at + 1, -1);
    g_strstrip(d);
    size_t n = strlen(d);
    if (n && d[n - 1] == '>')
      d[n - 1] = '\0';
    g_ptr_array_add(doms, d);
  }
  g_ptr_array_sort(doms, str_cmp);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < doms->len; i++) {
    const char *d = g_ptr_array_index(doms, i);
    if (i && strcmp(d, g_ptr_array_index(doms, i - 1)) == 0)
      continue;
    if (out->len)
      g_string_append(out, ", ");
    g_string_append(out, d);
  }
  g_ptr_array_free(doms, TRUE);
  g_strfreev(parts);
  return g_string_free(out, FALSE);
}

/* Numbers the "like" classes in message order (viz_model.h). */
static void classify_likes(viz_model *m) {
  GHashTable *by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GString *key = g_string_new(NULL);
  for (uint32_t g = 0; g < m->msgs->len; g++) {
    viz_msg *ms = &g_array_index(m->msgs, viz_msg, g);
    char *from = g_utf8_casefold(ms->from, -1), *doms = rcpt_domains(ms->rcpts);
    g_string_assign(key, from);
    g_string_append_c(key, '\x1f');
    g_string_append(key, doms);
    g_string_append_c(key, '\x1f');
    size_t subj = key->len;
    append_masked(key, ms->subject);
    gpointer v = g_hash_table_lookup(by_key, key->str);
    if (v) {
      ms->like = GPOINTER_TO_UINT(v) - 1;
    } else {
      ms->like = m->likes->len;
      char *text = g_strdup_printf("%s to %s, subject \"%s\"", *from ? from : "(no sender)",
                                   *doms ? doms : "(no recipients)", key->str + subj);
      g_ptr_array_add(m->likes, (gpointer)viz__intern(m, text));
      g_free(text);
      g_hash_table_insert(by_key, g_strdup(key->str), GUINT_TO_POINTER(ms->like + 1));
    }
    g_free(from);
    g_free(doms);
  }
  g_string_free(key, TRUE);
  g_hash_table_destroy(by_key);
}

static void finish(viz_model *m) {
  viz__build *b = m->b;
  GArray *first = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  group_pairs((const viz__pair *)(void *)b->conn_pairs->data, b->conn_pairs->len, m->conns->len,
              m->conn_arrows, first);
  for (uint32_t c = 0; c < m->conns->len; c++) {
    viz_conn *cn = &g_array_index(m->conns, viz_conn, c);
    cn->arrow_first = g_array_index(first, uint32_t, c);
    cn->arrow_count = g_array_index(first, uint32_t, c + 1) - cn->arrow_first;
  }
  group_pairs((const viz__pair *)(void *)b->msg_pairs->data, b->msg_pairs->len, m->msgs->len,
              m->msg_events, first);
  for (uint32_t g = 0; g < m->msgs->len; g++) {
    viz_msg *ms = &g_array_index(m->msgs, viz_msg, g);
    ms->ev_first = g_array_index(first, uint32_t, g);
    ms->ev_count = g_array_index(first, uint32_t, g + 1) - ms->ev_first;
  }
  g_array_sort(m->hops, hop_cmp);
  viz__pair *hp = g_new(viz__pair, m->hops->len ? m->hops->len : 1);
  size_t nh = 0;
  for (uint32_t h = 0; h < m->hops->len; h++) {
    uint32_t g = g_array_index(m->hops, viz_hop, h).msg;
    if (g != VIZ_NONE)
      hp[nh++] = (viz__pair){g, h};
  }
  group_pairs(hp, nh, m->msgs->len, m->msg_hops, first);
  for (uint32_t g = 0; g < m->msgs->len; g++) {
    viz_msg *ms = &g_array_index(m->msgs, viz_msg, g);
    ms->hop_first = g_array_index(first, uint32_t, g);
    ms->hop_count = g_array_index(first, uint32_t, g + 1) - ms->hop_first;
  }
  g_free(hp);
  g_array_free(first, TRUE);
  /* a connection's message: the first hop's (hops are in time order) */
  for (uint32_t h = 0; h < m->hops->len; h++) {
    const viz_hop *hop = &g_array_index(m->hops, viz_hop, h);
    if (hop->conn != VIZ_NONE && hop->msg != VIZ_NONE) {
      viz_conn *cn = &g_array_index(m->conns, viz_conn, hop->conn);
      if (cn->msg == VIZ_NONE)
        cn->msg = hop->msg;
    }
  }
  classify_likes(m);
  group_changes(m->link_changes, sizeof(viz__state_change), m->links->len, m->link_first,
                state_group);
  group_changes(m->node_changes, sizeof(viz__state_change), m->nodes->len, m->node_first,
                state_group);
  group_changes(m->queue_changes, sizeof(viz__queue_change), m->nodes->len, m->queue_first,
                queue_group);
  if (m->events->len) {
    m->t_first = g_array_index(m->events, viz_event, 0).t;
    m->t_last = g_array_index(m->events, viz_event, m->events->len - 1).t;
  }
  build_free(m->b);
  m->b = NULL;
}

static viz__map_fn kind_intern(viz_model *m, const char *kind, uint32_t *ix) {
  gpointer v = g_hash_table_lookup(m->kind_by_name, kind);
  if (v) {
    *ix = GPOINTER_TO_UINT(v) - 1;
  } else {
    const char *k = viz__intern(m, kind);
    *ix = m->kinds->len;
    g_ptr_array_add(m->kinds, (gpointer)k);
    g_hash_table_insert(m->kind_by_name, (gpointer)k, GUINT_TO_POINTER(*ix + 1));
    viz__map_fn fn = viz__map_lookup(k);
    g_array_append_val(m->b->kind_handler, fn);
  }
  return g_array_index(m->b->kind_handler, viz__map_fn, *ix);
}

static viz_model *load(trace_reader *r, const char *name, size_t size_hint, GError **err) {
  if (!r)
    return NULL;
  viz_model *m = model_new(name);
  if (size_hint)
    g_string_set_size(m->raw, size_hint), g_string_truncate(m->raw, 0);
  if (!viz__map_header(m, trace_reader_header(r), err)) {
    viz_model_free(m);
    trace_reader_free(r);
    return NULL;
  }
  g_array_set_size(m->b->node_queued, m->nodes->len);
  g_array_set_size(m->b->node_deferred, m->nodes->len);
  const trace_rec *rec;
  trace_read_status st;
  while ((st = trace_reader_next_rec(r, &rec, err)) == TRACE_READ_OK) {
    size_t len;
    const char *raw = trace_reader_raw(r, &len);
    viz_event ev = {.kind = 0,
                    .node = VIZ_NONE,
                    .peer = VIZ_NONE,
                    .conn = VIZ_NONE,
                    .msg = VIZ_NONE,
                    .raw_off = m->raw->len,
                    .raw_len = (uint32_t)len};
    g_string_append_len(m->raw, raw, (gssize)len);
    trace_rec_int(rec, "t", &ev.t); /* checked by the reader */
    viz__map_fn fn = kind_intern(m, trace_rec_str(rec, "ev"), &ev.kind);
    uint32_t ix = m->events->len;
    if (fn)
      fn(m, rec, &ev, ix);
    g_array_append_val(m->events, ev);
  }
  trace_reader_free(r);
  if (st == TRACE_READ_FAIL) {
    viz_model_free(m);
    return NULL;
  }
  finish(m);
  return m;
}

viz_model *viz_model_load(const char *path, GError **err) {
  struct stat sb;
  size_t hint = (strcmp(path, "-") != 0 && stat(path, &sb) == 0) ? (size_t)sb.st_size : 0;
  return load(trace_reader_open(path, err), path, hint, err);
}

viz_model *viz_model_load_memory(const char *name, const char *data, size_t len, GError **err) {
  return load(trace_reader_new_memory(name, data, len, err), name, len, err);
}

/* --- accessors ------------------------------------------------------------------ */

static const void *row_at(const GArray *a, size_t i) {
  if (i >= a->len)
    g_error("viz_model: index %zu out of range (%u rows)", i, a->len);
  return a->data + i * g_array_get_element_size((GArray *)a);
}
#define ROW(arr, T, i) ((const T *)row_at((arr), (i)))

const char *viz_model_scenario(const viz_model *m) { return m->scenario; }
const char *viz_model_detail(const viz_model *m) { return m->detail; }
const char *viz_model_source(const viz_model *m) { return m->source; }
uint64_t viz_model_seed(const viz_model *m) { return m->seed; }
int64_t viz_model_t_first(const viz_model *m) { return m->t_first; }
int64_t viz_model_t_last(const viz_model *m) { return m->t_last; }
uint64_t viz_model_unknown_refs(const viz_model *m) { return m->unknown_refs; }

size_t viz_model_memory(const viz_model *m) {
  const GArray *arrays[] = {m->nodes,      m->links,         m->events,      m->arrows,
                            m->drops,      m->conns,         m->conn_arrows, m->msgs,
                            m->hops,       m->msg_hops,      m->msg_events,  m->dns,
                            m->marks,      m->link_changes,  m->link_first,  m->node_changes,
                            m->node_first, m->queue_changes, m->queue_first, m->paths,
                            m->path_nodes, m->path_links};
  size_t total = sizeof *m + m->raw->allocated_len + m->labels->allocated_len;
  for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++)
    total += arrays[i]->len * g_array_get_element_size((GArray *)arrays[i]);
  return total;
}

size_t viz_model_node_count(const viz_model *m) { return m->nodes->len; }
const viz_node *viz_model_node(const viz_model *m, uint32_t i) {
  return ROW(m->nodes, viz_node, i);
}
uint32_t viz_model_node_find(const viz_model *m, const char *name) {
  gpointer v = g_hash_table_lookup(m->node_by_name, name);
  return v ? GPOINTER_TO_UINT(v) - 1 : VIZ_NONE;
}
size_t viz_model_link_count(const viz_model *m) { return m->links->len; }
const viz_link *viz_model_link(const viz_model *m, uint32_t i) {
  return ROW(m->links, viz_link, i);
}
size_t viz_model_event_count(const viz_model *m) { return m->events->len; }
const viz_event *viz_model_event(const viz_model *m, uint32_t i) {
  return ROW(m->events, viz_event, i);
}
const char *viz_model_kind_name(const viz_model *m, uint32_t kind) {
  g_assert(kind < m->kinds->len);
  return g_ptr_array_index(m->kinds, kind);
}
const char *viz_model_event_raw(const viz_model *m, uint32_t i, size_t *len) {
  const viz_event *e = viz_model_event(m, i);
  *len = e->raw_len;
  return m->raw->str + e->raw_off;
}
size_t viz_model_arrow_count(const viz_model *m) { return m->arrows->len; }
const viz_arrow *viz_model_arrow(const viz_model *m, uint32_t i) {
  return ROW(m->arrows, viz_arrow, i);
}
const char *viz_model_arrow_label(const viz_model *m, uint32_t i, size_t *len) {
  const viz_arrow *a = viz_model_arrow(m, i);
  *len = a->label_len;
  return m->labels->str + a->label_off;
}
size_t viz_model_drop_count(const viz_model *m) { return m->drops->len; }
const viz_drop *viz_model_drop(const viz_model *m, uint32_t i) {
  return ROW(m->drops, viz_drop, i);
}
size_t viz_model_conn_count(const viz_model *m) { return m->conns->len; }
const viz_conn *viz_model_conn(const viz_model *m, uint32_t i) {
  return ROW(m->conns, viz_conn, i);
}
uint32_t viz_model_conn_arrow(const viz_model *m, uint32_t conn, uint32_t k) {
  const viz_conn *c = viz_model_conn(m, conn);
  g_assert(k < c->arrow_count);
  return g_array_index(m->conn_arrows, uint32_t, c->arrow_first + k);
}
size_t viz_model_msg_count(const viz_model *m) { return m->msgs->len; }
const viz_msg *viz_model_msg(const viz_model *m, uint32_t i) { return ROW(m->msgs, viz_msg, i); }
uint32_t viz_model_msg_find(const viz_model *m, const char *key) {
  gpointer v = g_hash_table_lookup(m->msg_by_key, key);
  return v ? GPOINTER_TO_UINT(v) - 1 : VIZ_NONE;
}
const viz_hop *viz_model_msg_hop(const viz_model *m, uint32_t msg, uint32_t k) {
  const viz_msg *g = viz_model_msg(m, msg);
  g_assert(k < g->hop_count);
  return viz_model_hop(m, g_array_index(m->msg_hops, uint32_t, g->hop_first + k));
}
uint32_t viz_model_msg_event(const viz_model *m, uint32_t msg, uint32_t k) {
  const viz_msg *g = viz_model_msg(m, msg);
  g_assert(k < g->ev_count);
  return g_array_index(m->msg_events, uint32_t, g->ev_first + k);
}
size_t viz_model_hop_count(const viz_model *m) { return m->hops->len; }
const viz_hop *viz_model_hop(const viz_model *m, uint32_t i) { return ROW(m->hops, viz_hop, i); }
size_t viz_model_dns_count(const viz_model *m) { return m->dns->len; }
const viz_dns *viz_model_dns(const viz_model *m, uint32_t i) { return ROW(m->dns, viz_dns, i); }
size_t viz_model_mark_count(const viz_model *m) { return m->marks->len; }
const viz_mark *viz_model_mark(const viz_model *m, uint32_t i) {
  return ROW(m->marks, viz_mark, i);
}

uint32_t viz_model_path_len(const viz_model *m, uint32_t path) {
  return ROW(m->paths, viz__route, path)->len;
}
uint32_t viz_model_path_node(const viz_model *m, uint32_t path, uint32_t k) {
  const viz__route *p = ROW(m->paths, viz__route, path);
  g_assert(k < p->len);
  return g_array_index(m->path_nodes, uint32_t, p->first + k);
}
uint32_t viz_model_path_link(const viz_model *m, uint32_t path, uint32_t k) {
  const viz__route *p = ROW(m->paths, viz__route, path);
  g_assert(k + 1 < p->len);
  /* links of a path are stored in the same order, one fewer */
  uint32_t lfirst = p->first - path; /* each earlier path stored len-1 links */
  return g_array_index(m->path_links, uint32_t, lfirst + k);
}

/* --- time queries ------------------------------------------------------------------ */

/* First index in [0, n) whose time (at OFF in rows of ELT bytes) is >= T
 * (or > T if STRICT). */
static uint32_t bisect(const GArray *a, size_t off, int64_t t, bool strict) {
  size_t elt = g_array_get_element_size((GArray *)a);
  uint32_t lo = 0, hi = a->len;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t v;
    memcpy(&v, a->data + (size_t)mid * elt + off, sizeof v);
    if (strict ? v <= t : v < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

uint32_t viz_model_event_at(const viz_model *m, int64_t t) {
  return bisect(m->events, G_STRUCT_OFFSET(viz_event, t), t, false);
}
int64_t viz_model_next_event_time(const viz_model *m, int64_t t) {
  uint32_t i = bisect(m->events, G_STRUCT_OFFSET(viz_event, t), t, true);
  return i < m->events->len ? g_array_index(m->events, viz_event, i).t : t;
}
int64_t viz_model_prev_event_time(const viz_model *m, int64_t t) {
  uint32_t i = bisect(m->events, G_STRUCT_OFFSET(viz_event, t), t, false);
  return i > 0 ? g_array_index(m->events, viz_event, i - 1).t : t;
}
int64_t viz_model_next_hop_time(const viz_model *m, int64_t t) {
  uint32_t i = bisect(m->hops, G_STRUCT_OFFSET(viz_hop, t1), t, true);
  return i < m->hops->len ? g_array_index(m->hops, viz_hop, i).t1 : t;
}
int64_t viz_model_prev_hop_time(const viz_model *m, int64_t t) {
  uint32_t i = bisect(m->hops, G_STRUCT_OFFSET(viz_hop, t1), t, false);
  return i > 0 ? g_array_index(m->hops, viz_hop, i - 1).t1 : t;
}
uint32_t viz_model_mark_at(const viz_model *m, int64_t t) {
  return bisect(m->marks, G_STRUCT_OFFSET(viz_mark, t), t, false);
}
uint32_t viz_model_drop_at(const viz_model *m, int64_t t) {
  return bisect(m->drops, G_STRUCT_OFFSET(viz_drop, t), t, false);
}
uint32_t viz_model_arrow_at(const viz_model *m, int64_t t) {
  return bisect(m->arrows, G_STRUCT_OFFSET(viz_arrow, recv), t, false);
}

/* Last change of WHAT at or before T in a grouped change array. */
static const viz__state_change *state_at(const GArray *changes, const GArray *first, uint32_t what,
                                         int64_t t) {
  if (what + 1 >= first->len)
    return NULL;
  uint32_t lo = g_array_index(first, uint32_t, what), hi = g_array_index(first, uint32_t, what + 1);
  const viz__state_change *found = NULL;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const viz__state_change *c = &g_array_index(changes, viz__state_change, mid);
    if (c->t <= t) {
      found = c;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return found;
}

bool viz_model_link_up(const viz_model *m, uint32_t link, int64_t t) {
  g_assert(link < m->links->len);
  const viz__state_change *c = state_at(m->link_changes, m->link_first, link, t);
  return c ? c->up : true;
}

bool viz_model_node_up(const viz_model *m, uint32_t node, int64_t t) {
  g_assert(node < m->nodes->len);
  const viz__state_change *c = state_at(m->node_changes, m->node_first, node, t);
  return c ? c->up : true;
}

void viz_model_node_queue(const viz_model *m, uint32_t node, int64_t t, uint32_t *queued,
                          uint32_t *deferred) {
  g_assert(node < m->nodes->len);
  *queued = *deferred = 0;
  if (node + 1 >= m->queue_first->len)
    return;
  uint32_t lo = g_array_index(m->queue_first, uint32_t, node);
  uint32_t hi = g_array_index(m->queue_first, uint32_t, node + 1);
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const viz__queue_change *c = &g_array_index(m->queue_changes, viz__queue_change, mid);
    if (c->t <= t) {
      *queued = c->queued;
      *deferred = c->deferred;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
}

static uint32_t ppm(int64_t num, int64_t den) {
  if (den <= 0 || num >= den)
    return num >= den ? VIZ_PPM : 0;
  if (num <= 0)
    return 0;
  double f = (double)num / (double)den * (double)VIZ_PPM;
  uint32_t v = (uint32_t)f;
  return v > VIZ_PPM ? VIZ_PPM : v;
}

/* Places fraction F (ppm of the whole path) on one segment, segments
 * weighted by link latency (equally if the path has none). */
static void place(const viz_model *m, uint32_t path, uint32_t f, viz_flight *out) {
  const viz__route *p = &g_array_index(m->paths, viz__route, path);
  uint32_t nseg = p->len - 1;
  uint32_t lfirst = p->first - path;
  int64_t total = p->latency_ns;
  int64_t pos = total > 0 ? (int64_t)((double)f / VIZ_PPM * (double)total) : (int64_t)f * nseg;
  int64_t acc = 0;
  for (uint32_t k = 0; k < nseg; k++) {
    uint32_t li = g_array_index(m->path_links, uint32_t, lfirst + k);
    int64_t w = total > 0 ? (li == VIZ_NONE ? 0 : g_array_index(m->links, viz_link, li).latency_ns)
                          : VIZ_PPM;
    if (pos <= acc + w || k + 1 == nseg) {
      out->seg_from = g_array_index(m->path_nodes, uint32_t, p->first + k);
      out->seg_to = g_array_index(m->path_nodes, uint32_t, p->first + k + 1);
      out->link = li;
      out->frac_ppm = w > 0 ? ppm(pos - acc, w) : (pos > acc ? VIZ_PPM : 0);
      return;
    }
    acc += w;
  }
}

void viz_model_in_flight(const viz_model *m, int64_t t, bool with_lines, GArray *out) {
  uint32_t h = bisect(m->hops, G_STRUCT_OFFSET(viz_hop, t1), t, true);
  for (; h < m->hops->len; h++) {
    const viz_hop *hp = &g_array_index(m->hops, viz_hop, h);
    if (hp->t1 - m->max_hop_span > t)
      break;
    if (hp->t0 > t || hp->path == VIZ_NONE)
      continue;
    viz_flight f = {.kind = VIZ_FLIGHT_ENVELOPE, .index = h};
    place(m, hp->path, ppm(t - hp->t0, hp->t1 - hp->t0), &f);
    g_array_append_val(out, f);
  }
  uint32_t a = bisect(m->arrows, G_STRUCT_OFFSET(viz_arrow, recv), t, true);
  for (; a < m->arrows->len; a++) {
    const viz_arrow *ar = &g_array_index(m->arrows, viz_arrow, a);
    if (ar->recv - m->max_arrow_span > t)
      break;
    if (ar->sent > t || ar->path == VIZ_NONE)
      continue;
    bool dns = ar->proto == VIZ_PROTO_DNS;
    if (!dns && !with_lines)
      continue;
    viz_flight f = {.kind = dns ? VIZ_FLIGHT_DNS : VIZ_FLIGHT_LINE, .index = a};
    place(m, ar->path, ppm(t - ar->sent, ar->recv - ar->sent), &f);
    g_array_append_val(out, f);
  }
}

void viz_model_arrows_in(const viz_model *m, int64_t t0, int64_t t1, GArray *out) {
  uint32_t a = bisect(m->arrows, G_STRUCT_OFFSET(viz_arrow, recv), t0, false);
  for (; a < m->arrows->len; a++) {
    const viz_arrow *ar = &g_array_index(m->arrows, viz_arrow, a);
    if (ar->recv - m->max_arrow_span > t1)
      break;
    if (ar->sent <= t1)
      g_array_append_val(out, a);
  }
}

void viz_model_conns_open(const viz_model *m, int64_t t, GArray *out) {
  for (uint32_t c = 0; c < m->conns->len; c++) {
    const viz_conn *cn = &g_array_index(m->conns, viz_conn, c);
    if (cn->t_open >= 0 && cn->t_open <= t && (cn->t_close < 0 || t < cn->t_close))
      g_array_append_val(out, c);
  }
}

static bool contains_ci(const char *hay, const char *needle) {
  char *h = g_utf8_casefold(hay, -1), *n = g_utf8_casefold(needle, -1);
  bool r = strstr(h, n) != NULL;
  g_free(h);
  g_free(n);
  return r;
}

uint32_t viz_model_msg_search(const viz_model *m, const char *text, uint32_t after) {
  uint32_t n = m->msgs->len;
  if (!n || !text || !*text)
    return VIZ_NONE;
  uint32_t start = after == VIZ_NONE ? 0 : (after + 1) % n;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = (start + k) % n;
    const viz_msg *g = &g_array_index(m->msgs, viz_msg, i);
    if (contains_ci(g->key, text) || contains_ci(g->message_id, text) ||
        contains_ci(g->from, text) || contains_ci(g->rcpts, text) || contains_ci(g->subject, text))
      return i;
  }
  return VIZ_NONE;
}

uint32_t viz_model_like_count(const viz_model *m) { return m->likes->len; }

const char *viz_model_like_text(const viz_model *m, uint32_t like) {
  g_assert(like < m->likes->len);
  return g_ptr_array_index(m->likes, like);
}

uint32_t viz_model_node_search(const viz_model *m, const char *text, uint32_t after) {
  uint32_t n = m->nodes->len;
  if (!n || !text || !*text)
    return VIZ_NONE;
  uint32_t start = after == VIZ_NONE ? 0 : (after + 1) % n;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t i = (start + k) % n;
    const viz_node *nd = &g_array_index(m->nodes, viz_node, i);
    if (contains_ci(nd->name, text) || contains_ci(nd->addrs, text))
      return i;
  }
  return VIZ_NONE;
}
