/* viz_inspect.c — what the inspector lists for a message, a connection, a
 * node or a link, as plain lines (title, headings, fields, items) that the
 * window draws and the tests read.
 *
 * Details that only the inspector needs (a message's headers and Received
 * path, a deferral's reason, a delivery's mailbox) are read back from the
 * record's kept text when asked, so loading stays lean. A record's keys are
 * listed generically (every key but the ones already shown), so a key the
 * engines add later shows up without a change here.
 */
#include <string.h>

#include "trace_time.h"
#include "viz_model_int.h"

struct viz_inspect {
  GArray *lines; /* viz_insp_line */
};

static void line_clear(gpointer p) {
  viz_insp_line *l = p;
  g_free(l->key);
  g_free(l->text);
}

static viz_inspect *insp_new(void) {
  viz_inspect *in = g_new0(viz_inspect, 1);
  in->lines = g_array_new(FALSE, FALSE, sizeof(viz_insp_line));
  g_array_set_clear_func(in->lines, line_clear);
  return in;
}

static void add(viz_inspect *in, viz_insp_kind k, const char *key, const char *text) {
  viz_insp_line l = {k, g_strdup(key ? key : ""), g_strdup(text ? text : "")};
  g_array_append_val(in->lines, l);
}

G_GNUC_PRINTF(4, 5)
static void addf(viz_inspect *in, viz_insp_kind k, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  add(in, k, key, s);
  g_free(s);
}

size_t viz_inspect_count(const viz_inspect *in) { return in->lines->len; }
const viz_insp_line *viz_inspect_line(const viz_inspect *in, size_t i) {
  g_assert(i < in->lines->len);
  return &g_array_index(in->lines, viz_insp_line, i);
}
bool viz_inspect_contains(const viz_inspect *in, const char *needle) {
  for (size_t i = 0; i < in->lines->len; i++) {
    const viz_insp_line *l = viz_inspect_line(in, i);
    if (strstr(l->text, needle) || strstr(l->key, needle))
      return true;
  }
  return false;
}
void viz_inspect_free(viz_inspect *in) {
  if (!in)
    return;
  g_array_free(in->lines, TRUE);
  g_free(in);
}

/* --- helpers --------------------------------------------------------------------- */

static const char *node_name(const viz_model *m, uint32_t n) {
  return n == VIZ_NONE ? "?" : viz_model_node(m, n)->name;
}

static char *fmt_clock(int64_t t) {
  char buf[TRACE_TIME_BUFSZ];
  return g_strdup(t < 0 ? "-" : trace_time_format_clock(t, buf));
}

static cJSON *parse_event(const viz_model *m, uint32_t ev) {
  size_t len;
  const char *raw = viz_model_event_raw(m, ev, &len);
  return cJSON_ParseWithLength(raw, len);
}

/* A JSON value as short text: strings as is, numbers exactly, arrays joined. */
static void value_text(GString *out, const cJSON *v) {
  if (cJSON_IsString(v)) {
    g_string_append(out, v->valuestring);
  } else if (cJSON_IsNumber(v)) {
    if (v->valuestring)
      g_string_append(out, v->valuestring); /* the reader's exact literal */
    else
      g_string_append_printf(out, "%.0f", v->valuedouble);
  } else if (cJSON_IsBool(v)) {
    g_string_append(out, cJSON_IsTrue(v) ? "true" : "false");
  } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
    const cJSON *it;
    bool first = true;
    g_string_append_c(out, cJSON_IsArray(v) ? '[' : '{');
    cJSON_ArrayForEach(it, v) {
      if (!first)
        g_string_append(out, ", ");
      first = false;
      if (it->string)
        g_string_append_printf(out, "%s: ", it->string);
      value_text(out, it);
    }
    g_string_append_c(out, cJSON_IsArray(v) ? ']' : '}');
  } else {
    g_string_append(out, "null");
  }
}

/* Keys holding a time (ns since the start): shown as a clock. */
static bool time_key(const char *k) {
  return strcmp(k, "t") == 0 || strcmp(k, "sent") == 0 || strcmp(k, "next_try") == 0;
}

/* VALUE as text; a time key's integer as a clock ("5:01.380"). */
static void key_value_text(GString *out, const char *key, const cJSON *v) {
  /* the record was parsed by cJSON alone: doubles, exact to 2^53 ns (104 days) */
  if (time_key(key) && cJSON_IsNumber(v) && v->valuedouble >= 0 &&
      v->valuedouble <= 9007199254740992.0) {
    char buf[TRACE_TIME_BUFSZ];
    g_string_append(out, trace_time_format_clock((int64_t)v->valuedouble, buf));
    return;
  }
  value_text(out, v);
}

static bool skip_key(const char *k, const char *const *skip) {
  for (; *skip; skip++)
    if (strcmp(k, *skip) == 0)
      return true;
  return false;
}

/* "key=value, key=value" for every key of REC not in SKIP. */
static char *details(const cJSON *rec, const char *const *skip) {
  GString *s = g_string_new(NULL);
  const cJSON *it;
  cJSON_ArrayForEach(it, rec) {
    if (!it->string || skip_key(it->string, skip))
      continue;
    if (s->len)
      g_string_append(s, ", ");
    g_string_append_printf(s, "%s=", it->string);
    key_value_text(s, it->string, it);
  }
  return g_string_free(s, FALSE);
}

/* --- a message ---------------------------------------------------------------------- */

static void display_sections(viz_inspect *in, const cJSON *rec) {
  const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(rec, "headers");
  const cJSON *it;
  if (cJSON_IsArray(hdrs) && cJSON_GetArraySize(hdrs)) {
    add(in, VIZ_INSP_HEADING, NULL, "Headers");
    cJSON_ArrayForEach(it, hdrs) {
      const cJSON *name = cJSON_GetArrayItem(it, 0), *val = cJSON_GetArrayItem(it, 1);
      if (cJSON_IsString(name) && cJSON_IsString(val))
        add(in, VIZ_INSP_FIELD, name->valuestring, val->valuestring);
    }
  }
  const cJSON *body = cJSON_GetObjectItemCaseSensitive(rec, "body");
  if (cJSON_IsString(body) && *body->valuestring) {
    add(in, VIZ_INSP_HEADING, NULL, "Body");
    char **lines = g_strsplit(body->valuestring, "\n", 31);
    for (int i = 0; lines[i] && i < 30; i++) {
      g_strchomp(lines[i]);
      add(in, VIZ_INSP_ITEM, NULL, *lines[i] ? lines[i] : " ");
    }
    g_strfreev(lines);
  }
  static const struct {
    const char *key, *title;
  } lists[] = {{"received", "Received path"}, {"attachments", "Attachments"}};
  for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(rec, lists[i].key);
    if (!cJSON_IsArray(l) || !cJSON_GetArraySize(l))
      continue;
    add(in, VIZ_INSP_HEADING, NULL, lists[i].title);
    int k = 0;
    cJSON_ArrayForEach(it, l) {
      GString *s = g_string_new(NULL);
      value_text(s, it);
      addf(in, VIZ_INSP_ITEM, NULL, "%d. %s", ++k, s->str);
      g_string_free(s, TRUE);
    }
  }
}

viz_inspect *viz_model_inspect_msg(const viz_model *m, uint32_t msg) {
  const viz_msg *g = viz_model_msg(m, msg);
  viz_inspect *in = insp_new();
  addf(in, VIZ_INSP_TITLE, NULL, "Message %s", g->key);
  add(in, VIZ_INSP_FIELD, "Message-ID", g->message_id);
  add(in, VIZ_INSP_FIELD, "From", g->from);
  add(in, VIZ_INSP_FIELD, "To", g->rcpts);
  add(in, VIZ_INSP_FIELD, "Subject", g->subject);
  char *tc = fmt_clock(g->t_compose);
  addf(in, VIZ_INSP_FIELD, "Composed", "%s on %s", tc, node_name(m, g->origin));
  g_free(tc);
  addf(in, VIZ_INSP_FIELD, "Status", "%u delivered, %u bounced, %u deferrals", g->delivered,
       g->bounced, g->deferred);
  if (g->display_event != VIZ_NONE) {
    cJSON *rec = parse_event(m, g->display_event);
    if (rec)
      display_sections(in, rec);
    cJSON_Delete(rec);
  }
  if (g->hop_count)
    add(in, VIZ_INSP_HEADING, NULL, "Hops");
  for (uint32_t k = 0; k < g->hop_count; k++) {
    const viz_hop *h = viz_model_msg_hop(m, msg, k);
    char *t0 = fmt_clock(h->t0), *t1 = fmt_clock(h->t1);
    GString *s = g_string_new(NULL);
    g_string_printf(s, "%s %s \xe2\x86\x92 %s (%s \xe2\x86\x92 %s", viz_hop_kind_name(h->kind),
                    node_name(m, h->from), node_name(m, h->to), t0, t1);
    if (h->conn != VIZ_NONE) {
      const viz_conn *c = viz_model_conn(m, h->conn);
      g_string_append_printf(s, ", %s connection %" G_GUINT64_FORMAT "%s",
                             c->proto ? viz_proto_name(c->proto) : "TCP", c->id,
                             c->t_tls >= 0 && c->t_tls <= h->t0 ? ", TLS" : "");
    }
    g_string_append_c(s, ')');
    add(in, VIZ_INSP_ITEM, t1, s->str);
    g_string_free(s, TRUE);
    g_free(t0);
    g_free(t1);
  }
  if (g->ev_count)
    add(in, VIZ_INSP_HEADING, NULL, "Events");
  static const char *const skip[] = {"t",     "id",      "ev",       "msg",         "node",
                                     "cause", "headers", "received", "attachments", NULL};
  for (uint32_t k = 0; k < g->ev_count; k++) {
    uint32_t ei = viz_model_msg_event(m, msg, k);
    const viz_event *e = viz_model_event(m, ei);
    cJSON *rec = parse_event(m, ei);
    char *d = rec ? details(rec, skip) : g_strdup("");
    char *t = fmt_clock(e->t);
    addf(in, VIZ_INSP_ITEM, t, "%s%s%s%s%s", viz_model_kind_name(m, e->kind),
         e->node != VIZ_NONE ? " at " : "", e->node != VIZ_NONE ? node_name(m, e->node) : "",
         *d ? ": " : "", d);
    g_free(t);
    g_free(d);
    cJSON_Delete(rec);
  }
  return in;
}

/* --- one record ---------------------------------------------------------------------------- */

viz_inspect *viz_model_inspect_event(const viz_model *m, uint32_t event) {
  const viz_event *e = viz_model_event(m, event);
  viz_inspect *in = insp_new();
  add(in, VIZ_INSP_TITLE, NULL, viz_model_kind_name(m, e->kind));
  char *t = fmt_clock(e->t);
  add(in, VIZ_INSP_FIELD, "Time", t);
  g_free(t);
  cJSON *rec = parse_event(m, event);
  const cJSON *it;
  cJSON_ArrayForEach(it, rec) {
    if (!it->string || strcmp(it->string, "t") == 0 || strcmp(it->string, "ev") == 0)
      continue;
    GString *v = g_string_new(NULL);
    key_value_text(v, it->string, it);
    add(in, VIZ_INSP_FIELD, it->string, v->str);
    g_string_free(v, TRUE);
  }
  cJSON_Delete(rec);
  return in;
}

/* --- a connection ------------------------------------------------------------------------ */

viz_inspect *viz_model_inspect_conn(const viz_model *m, uint32_t conn) {
  const viz_conn *c = viz_model_conn(m, conn);
  viz_inspect *in = insp_new();
  addf(in, VIZ_INSP_TITLE, NULL, "%s connection %" G_GUINT64_FORMAT,
       c->proto ? viz_proto_name(c->proto) : "TCP", c->id);
  add(in, VIZ_INSP_FIELD, "Client", node_name(m, c->client));
  add(in, VIZ_INSP_FIELD, "Server", node_name(m, c->server));
  struct {
    const char *name;
    int64_t t;
  } times[] = {{"Opened", c->t_open},
               {"Established", c->t_est},
               {"TLS up", c->t_tls},
               {"Closed", c->t_close}};
  for (size_t i = 0; i < G_N_ELEMENTS(times); i++) {
    char *t = fmt_clock(times[i].t);
    add(in, VIZ_INSP_FIELD, times[i].name, t);
    g_free(t);
  }
  if (c->tls_failed)
    add(in, VIZ_INSP_FIELD, "TLS", "handshake failed");
  if (*c->close_kind)
    add(in, VIZ_INSP_FIELD, "Ended by", c->close_kind);
  addf(in, VIZ_INSP_HEADING, NULL, "Dialogue (%u lines)", c->arrow_count);
  for (uint32_t k = 0; k < c->arrow_count; k++) {
    uint32_t ai = viz_model_conn_arrow(m, conn, k);
    const viz_arrow *a = viz_model_arrow(m, ai);
    size_t len;
    const char *label = viz_model_arrow_label(m, ai, &len);
    char *t = fmt_clock(a->recv);
    addf(in, VIZ_INSP_ITEM, t, "%s: %.*s", a->from == c->client ? "C" : "S", (int)len, label);
    g_free(t);
  }
  return in;
}

/* --- a node --------------------------------------------------------------------------------- */

static gint str_cmp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

viz_inspect *viz_model_inspect_node(const viz_model *m, uint32_t node, int64_t t) {
  const viz_node *n = viz_model_node(m, node);
  viz_inspect *in = insp_new();
  add(in, VIZ_INSP_TITLE, NULL, n->name);
  addf(in, VIZ_INSP_FIELD, "Role", "%s%s%s%s", viz_role_name(n->role), *n->role_text ? " (" : "",
       n->role_text, *n->role_text ? ")" : "");
  if (*n->domain)
    add(in, VIZ_INSP_FIELD, "Domain", n->domain);
  add(in, VIZ_INSP_FIELD, "Addresses", n->addrs);
  char *tc = fmt_clock(t);
  addf(in, VIZ_INSP_FIELD, "State", "%s at %s", viz_model_node_up(m, node, t) ? "up" : "crashed",
       tc);
  g_free(tc);
  uint32_t q, d;
  viz_model_node_queue(m, node, t, &q, &d);
  addf(in, VIZ_INSP_FIELD, "Queue", "%u message%s (%u deferred)", q, q == 1 ? "" : "s", d);
  /* Mailboxes: deliveries here up to T, counted per mailbox/folder. */
  GHashTable *boxes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    if (mk->t > t)
      break;
    if (mk->kind != VIZ_MARK_DELIVER || mk->node != node)
      continue;
    cJSON *rec = parse_event(m, mk->event);
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(rec, "mailbox");
    const cJSON *fo = cJSON_GetObjectItemCaseSensitive(rec, "folder");
    char *key = g_strdup_printf("%s/%s", cJSON_IsString(mb) ? mb->valuestring : "?",
                                cJSON_IsString(fo) ? fo->valuestring : "INBOX");
    gpointer old = g_hash_table_lookup(boxes, key);
    g_hash_table_replace(boxes, key, GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
    cJSON_Delete(rec);
  }
  if (g_hash_table_size(boxes)) {
    add(in, VIZ_INSP_HEADING, NULL, "Mailboxes");
    guint nk;
    gpointer *keys = g_hash_table_get_keys_as_array(boxes, &nk);
    qsort(keys, nk, sizeof *keys, str_cmp); /* sorted: no hash order reaches the list */
    for (guint i = 0; i < nk; i++) {
      guint c = GPOINTER_TO_UINT(g_hash_table_lookup(boxes, keys[i]));
      addf(in, VIZ_INSP_ITEM, NULL, "%s: %u message%s", (char *)keys[i], c, c == 1 ? "" : "s");
    }
    g_free(keys);
  }
  g_hash_table_destroy(boxes);
  GArray *open = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  viz_model_conns_open(m, t, open);
  bool heading = false;
  for (guint i = 0; i < open->len; i++) {
    const viz_conn *c = viz_model_conn(m, g_array_index(open, uint32_t, i));
    if (c->client != node && c->server != node)
      continue;
    if (!heading)
      add(in, VIZ_INSP_HEADING, NULL, "Open connections");
    heading = true;
    addf(in, VIZ_INSP_ITEM, NULL, "%s %" G_GUINT64_FORMAT ": %s \xe2\x86\x92 %s%s",
         c->proto ? viz_proto_name(c->proto) : "TCP", c->id, node_name(m, c->client),
         node_name(m, c->server), c->t_tls >= 0 && c->t_tls <= t ? " (TLS)" : "");
  }
  g_array_free(open, TRUE);
  return in;
}

/* --- a link ----------------------------------------------------------------------------------- */

viz_inspect *viz_model_inspect_link(const viz_model *m, uint32_t link, int64_t t) {
  const viz_link *l = viz_model_link(m, link);
  viz_inspect *in = insp_new();
  addf(in, VIZ_INSP_TITLE, NULL, "Link %s \xe2\x80\x94 %s", node_name(m, l->a), node_name(m, l->b));
  char buf[TRACE_TIME_BUFSZ];
  add(in, VIZ_INSP_FIELD, "Latency", trace_time_format(l->latency_ns, buf));
  add(in, VIZ_INSP_FIELD, "Jitter", trace_time_format(l->jitter_ns, buf));
  if (l->bandwidth_bps)
    addf(in, VIZ_INSP_FIELD, "Bandwidth", "%" G_GUINT64_FORMAT " bit/s", l->bandwidth_bps);
  else
    add(in, VIZ_INSP_FIELD, "Bandwidth", "unlimited");
  addf(in, VIZ_INSP_FIELD, "Loss", "%u ppm", l->loss_ppm);
  char *tc = fmt_clock(t);
  addf(in, VIZ_INSP_FIELD, "State", "%s at %s", viz_model_link_up(m, link, t) ? "up" : "down", tc);
  g_free(tc);
  bool heading = false;
  for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    if (mk->link != link)
      continue;
    if (!heading)
      add(in, VIZ_INSP_HEADING, NULL, "Faults");
    heading = true;
    char *ts = fmt_clock(mk->t);
    add(in, VIZ_INSP_ITEM, ts, viz_mark_kind_name(mk->kind));
    g_free(ts);
  }
  return in;
}
