/* scn.c — the scenario loader: parse, check, resolve references.
 *
 * A file is read by one of two paths. The general one parses the whole
 * text with cJSON and reads every key from the tree; it is the only one
 * that words errors. The fast one (most of a load world's file is its
 * messages) first reads the "messages" array straight from the text
 * (scn_msgs_text.h), then the rest as the general path does, with the
 * array cut out of the text ("[]" in its place). Anything the fast path
 * cannot read, and any error at all on it, sends the file down the
 * general path from the start, so what is loaded or refused, and with
 * which words, is the general path's.
 */
#include "scn.h"
#include "scn_int.h"
#include "scn_mail_int.h"
#include "scn_msgs_text.h"
#include "scn_chaos.h"

#include <string.h>

static void host_clear(void *p) {
  scn_host *h = p;
  g_free(h->name);
  g_free(h->role);
  if (h->addrs)
    g_ptr_array_unref(h->addrs);
  scn__mail_host_clear(h);
}
static void link_clear(void *p) {
  scn_link *l = p;
  g_free(l->a);
  g_free(l->b);
}
static void traffic_clear(void *p) {
  scn_traffic *t = p;
  g_free(t->from);
  g_free(t->to);
  g_free(t->name);
}
static void fault_clear(void *p) { scn_fault_clear(p); }

static scn_config *config_new(const char *file) {
  scn_config *c = g_new0(scn_config, 1);
  c->file = g_strdup(file);
  c->hosts = g_array_new(FALSE, TRUE, sizeof(scn_host));
  g_array_set_clear_func(c->hosts, host_clear);
  c->links = g_array_new(FALSE, TRUE, sizeof(scn_link));
  g_array_set_clear_func(c->links, link_clear);
  c->traffic = g_array_new(FALSE, TRUE, sizeof(scn_traffic));
  g_array_set_clear_func(c->traffic, traffic_clear);
  c->faults = g_array_new(FALSE, TRUE, sizeof(scn_fault));
  g_array_set_clear_func(c->faults, fault_clear);
  scn__mail_init(c);
  c->host_idx = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c->user_idx = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return c;
}

void scn_config_free(scn_config *c) {
  if (!c)
    return;
  g_free(c->file);
  g_free(c->name);
  g_free(c->description);
  g_array_unref(c->hosts);
  g_array_unref(c->links);
  g_array_unref(c->traffic);
  g_array_unref(c->faults);
  scn__mail_free(c);
  scn_chaos_free(c->chaos);
  if (c->host_idx)
    g_hash_table_unref(c->host_idx);
  if (c->user_idx)
    g_hash_table_unref(c->user_idx);
  g_free(c);
}

int scn_find_host(const scn_config *c, const char *name) {
  if (c->host_idx) /* large worlds: the loader's index */
    return GPOINTER_TO_INT(g_hash_table_lookup(c->host_idx, name)) - 1;
  for (guint i = 0; i < c->hosts->len; i++)
    if (strcmp(g_array_index(c->hosts, scn_host, i).name, name) == 0)
      return (int)i;
  return -1;
}

static bool valid_name(const char *s) {
  if (!*s || strlen(s) > 63)
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return false;
  return true;
}

static void load_hosts(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"name", "role", "addrs", "pos", "resolver",
                                     "zones", "mta", "mailbox", NULL};
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "hosts", true, &arr))
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.hosts", i);
    scn_host h = {0};
    if (!cJSON_IsObject(it)) {
      scn_json_fail(x, path, "expected a host object");
    } else if (scn_json_known_keys(x, it, path, keys) &&
               scn_json_string(x, it, path, "name", true, &h.name) &&
               scn_json_string(x, it, path, "role", false, &h.role)) {
      h.addrs = g_ptr_array_new_with_free_func(g_free);
      if (!valid_name(h.name))
        scn_json_fail(x, path, "host name \"%s\": expected 1-63 letters, digits, '-', '_' or '.'",
                      h.name);
      else if (scn_find_host(c, h.name) >= 0)
        scn_json_fail(x, path, "host name \"%s\" is used twice", h.name);
      const cJSON *addrs;
      if (scn_json_array(x, it, path, "addrs", false, &addrs) && addrs) {
        int k = 0;
        for (const cJSON *a = addrs->child; a && scn_json_ok(x); a = a->next, k++) {
          sim_addr sa;
          if (!cJSON_IsString(a) || !sim_addr_parse(a->valuestring, &sa)) {
            char *p = g_strdup_printf("%s.addrs[%d]", path, k);
            scn_json_fail(x, p, "expected an IPv4 or IPv6 address like \"10.0.0.1\" or \"2001:db8::1\"");
            g_free(p);
          } else {
            g_ptr_array_add(h.addrs, g_strdup(a->valuestring));
          }
        }
      }
      const cJSON *pos = cJSON_GetObjectItemCaseSensitive(it, "pos");
      if (pos && scn_json_ok(x)) {
        if (!cJSON_IsArray(pos) || cJSON_GetArraySize(pos) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(pos, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(pos, 1))) {
          char *p = g_strdup_printf("%s.pos", path);
          scn_json_fail(x, p, "expected [x, y] with two integers");
          g_free(p);
        } else {
          h.has_pos = true;
          h.x = (int64_t)cJSON_GetArrayItem(pos, 0)->valuedouble;
          h.y = (int64_t)cJSON_GetArrayItem(pos, 1)->valuedouble;
        }
      }
      if (!h.role)
        h.role = g_strdup("host");
      scn__mail_host(x, &h, it, path);
    }
    if (h.name && !g_hash_table_contains(c->host_idx, h.name))
      g_hash_table_insert(c->host_idx, g_strdup(h.name), GINT_TO_POINTER(c->hosts->len + 1));
    g_array_append_val(c->hosts, h);
    g_free(path);
  }
  if (scn_json_ok(x) && c->hosts->len == 0)
    scn_json_fail(x, "$.hosts", "expected at least one host");
}

static void load_links(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"a", "b", "latency", "jitter", "bandwidth", "queue",
                                     "loss", "mtu", "up", NULL};
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "links", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.links", i);
    scn_link l = {.up = true};
    int64_t mtu = 1500;
    uint64_t queue = 0;
    if (!cJSON_IsObject(it)) {
      scn_json_fail(x, path, "expected a link object");
    } else if (scn_json_known_keys(x, it, path, keys) &&
               scn_json_string(x, it, path, "a", true, &l.a) &&
               scn_json_string(x, it, path, "b", true, &l.b) &&
               scn_json_duration(x, it, path, "latency", true, &l.params.latency) &&
               scn_json_duration(x, it, path, "jitter", false, &l.params.jitter) &&
               scn_json_bandwidth(x, it, path, "bandwidth", false, &l.params.bandwidth_bps) &&
               scn_json_size(x, it, path, "queue", false, &queue) &&
               scn_json_ppm(x, it, path, "loss", false, &l.params.loss_ppm) &&
               scn_json_int(x, it, path, "mtu", false, 576, 65535, &mtu) &&
               scn_json_bool(x, it, path, "up", false, &l.up)) {
      l.params.mtu = (uint32_t)mtu;
      l.params.queue_bytes = queue;
      if (scn_find_host(c, l.a) < 0)
        scn_json_fail(x, path, "\"a\": no host named \"%s\"", l.a);
      else if (scn_find_host(c, l.b) < 0)
        scn_json_fail(x, path, "\"b\": no host named \"%s\"", l.b);
      else if (strcmp(l.a, l.b) == 0)
        scn_json_fail(x, path, "a link must join two different hosts");
    }
    g_array_append_val(c->links, l);
    g_free(path);
  }
}

static void load_stream(scn_json_ctx *x, scn_config *c, const cJSON *it, const char *path,
                        scn_traffic *t) {
  int64_t port = 0;
  if (scn_json_string(x, it, path, "to", true, &t->to) &&
      scn_json_int(x, it, path, "port", true, 1, 65535, &port) &&
      scn_json_size(x, it, path, "bytes", true, &t->bytes)) {
    t->kind = SCN_TRAFFIC_STREAM;
    t->port = (uint16_t)port;
    int to = scn_find_host(c, t->to);
    if (to < 0)
      scn_json_fail(x, path, "\"to\": no host named \"%s\"", t->to);
    else if (g_array_index(c->hosts, scn_host, to).addrs->len == 0)
      scn_json_fail(x, path, "\"to\": host \"%s\" has no address", t->to);
  }
}

/* DNS types a lookup may ask for, by mnemonic. */
static const struct {
  const char *name;
  uint16_t type;
} qtypes[] = {{"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12},
              {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}};

static void load_lookup(scn_json_ctx *x, const cJSON *it, const char *path, scn_traffic *t) {
  char *type = NULL;
  if (scn_json_string(x, it, path, "name", true, &t->name) &&
      scn_json_string(x, it, path, "type", true, &type)) {
    t->kind = SCN_TRAFFIC_LOOKUP;
    bool found = false;
    for (size_t i = 0; i < G_N_ELEMENTS(qtypes); i++)
      if (g_ascii_strcasecmp(type, qtypes[i].name) == 0) {
        t->qtype = qtypes[i].type;
        found = true;
      }
    if (!found)
      scn_json_fail(x, path, "\"type\": unknown record type \"%s\" (expected A, AAAA, MX, TXT, "
                    "NS, CNAME, SOA, PTR or SRV)", type);
  }
  g_free(type);
}

static void load_traffic(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"kind", "from", "to", "port", "bytes", "name", "type", "at",
                                     NULL};
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "traffic", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.traffic", i);
    scn_traffic t = {0};
    char *kind = NULL;
    if (!cJSON_IsObject(it)) {
      scn_json_fail(x, path, "expected a traffic object");
    } else if (scn_json_known_keys(x, it, path, keys) &&
               scn_json_string(x, it, path, "kind", true, &kind) &&
               scn_json_string(x, it, path, "from", true, &t.from) &&
               scn_json_duration(x, it, path, "at", false, &t.at)) {
      if (scn_find_host(c, t.from) < 0)
        scn_json_fail(x, path, "\"from\": no host named \"%s\"", t.from);
      else if (strcmp(kind, "stream") == 0)
        load_stream(x, c, it, path, &t);
      else if (strcmp(kind, "lookup") == 0 &&
               !g_array_index(c->hosts, scn_host, scn_find_host(c, t.from)).resolver)
        scn_json_fail(x, path, "\"from\": host \"%s\" has no \"resolver\" to ask", t.from);
      else if (strcmp(kind, "lookup") == 0)
        load_lookup(x, it, path, &t);
      else
        scn_json_fail(x, path, "\"kind\": unknown traffic kind \"%s\" (expected: stream, lookup)",
                      kind);
    }
    g_free(kind);
    g_array_append_val(c->traffic, t);
    g_free(path);
  }
}

static const char *const tls_service_names[] = {"submission", "relay", "lmtp", "imap", "pop3",
                                                NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(tls_service_names) == SCN_TLS_SVC__COUNT + 1);

const char *scn_tls_service_name(scn_tls_service s) {
  g_assert((unsigned)s < SCN_TLS_SVC__COUNT);
  return tls_service_names[s];
}

bool scn_tls_server(const scn_config *c, const scn_host *h) {
  unsigned served = 0;
  if (strcmp(h->role, "mta") == 0)
    served = 1u << SCN_TLS_SVC_SUBMISSION | 1u << SCN_TLS_SVC_RELAY;
  else if (strcmp(h->role, "mailbox") == 0)
    served = 1u << SCN_TLS_SVC_LMTP | 1u << SCN_TLS_SVC_IMAP | 1u << SCN_TLS_SVC_POP3;
  return (c->tls_services & served) != 0;
}

/* "tls": true (every service, the default), false (none) or an object
 * naming the services that use TLS ({"submission": true, "relay": true};
 * a service left out uses none). */
static bool load_tls(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "tls");
  if (v && cJSON_IsObject(v)) {
    if (!scn_json_known_keys(x, v, "$.tls", tls_service_names))
      return false;
    c->tls_services = 0;
    for (int i = 0; i < SCN_TLS_SVC__COUNT; i++) {
      bool on = false;
      if (!scn_json_bool(x, v, "$.tls", tls_service_names[i], false, &on))
        return false;
      c->tls_services |= on ? 1u << i : 0;
    }
  } else if (v && !cJSON_IsBool(v)) {
    scn_json_fail(x, "$.tls",
                  "expected true, false or an object like {\"submission\": true, \"relay\": "
                  "true}, got %s",
                  cJSON_IsString(v)   ? "a string"
                  : cJSON_IsNumber(v) ? "a number"
                  : cJSON_IsArray(v)  ? "an array"
                                      : "null");
    return false;
  } else if (v) {
    c->tls_services = cJSON_IsTrue(v) ? SCN_TLS_SVC_ALL : 0;
  }
  c->tls = c->tls_services != 0;
  return true;
}

/* The general path; with MSGS (taken), the messages already read and
 * JSON's "messages" an empty array. */
static scn_config *parse_tree(const char *file, const char *json, size_t len, scn_msgs *msgs,
                              GError **err) {
  scn_json_ctx x = {.file = file};
  scn_config *c = config_new(file);
  if (msgs) {
    scn_msgs_free(c->messages);
    c->messages = msgs;
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
  if (!root) {
    /* Report the line and column of the syntax error. */
    size_t off = end && end >= json ? (size_t)(end - json) : 0;
    int line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
      if (json[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    g_set_error(err, SCN_ERROR, 0, "%s:%d:%d: not valid JSON (expected a scenario object)", file,
                line, col);
    scn_config_free(c);
    return NULL;
  }
  static const char *const keys[] = {"name",    "description", "seed",  "duration", "epoch",
                                     "hosts",   "links",       "zones", "users",    "messages",
                                     "traffic", "faults",      "tls",   "chaos", NULL};
  c->seed = 1;
  c->tls = true;
  c->tls_services = SCN_TLS_SVC_ALL;
  c->duration = SIM_TIME_NEVER;
  if (!cJSON_IsObject(root)) {
    scn_json_fail(&x, "$", "expected a scenario object");
  } else if (scn_json_known_keys(&x, root, "$", keys) &&
             scn_json_string(&x, root, "$", "name", true, &c->name) &&
             scn_json_string(&x, root, "$", "description", false, &c->description) &&
             scn_json_seed(&x, root, "$", "seed", false, &c->seed) &&
             scn_json_duration(&x, root, "$", "duration", false, &c->duration) &&
             load_tls(&x, c, root)) {
    load_hosts(&x, c, root);
    load_links(&x, c, root);
    load_traffic(&x, c, root);
    scn__mail_load(&x, c, root, msgs != NULL);
    if (scn_json_ok(&x))
      scn__mail_check(&x, c);
    if (scn_json_ok(&x))
      scn__faults_load(&x, c, root); /* after zones and users: faults name them */
    if (scn_json_ok(&x))
      scn_chaos_load(&x, c, root);
  }
  cJSON_Delete(root);
  if (!scn_json_ok(&x)) {
    g_propagate_error(err, x.err);
    scn_config_free(c);
    return NULL;
  }
  return c;
}

scn_config *scn__parse_general(const char *file, const char *json, size_t len, GError **err) {
  return parse_tree(file, json, len, NULL, err);
}

scn_config *scn_parse(const char *file, const char *json, size_t len, GError **err) {
  size_t a, b;
  scn_msgs *msgs = scn_msgs_text_read(json, len, &a, &b);
  if (msgs) {
    /* the text without the array: "[]" in its place */
    size_t n = len - (b - a) + 2;
    char *rest = g_malloc(n + 1);
    memcpy(rest, json, a);
    memcpy(rest + a, "[]", 2);
    memcpy(rest + a + 2, json + b, len - b);
    rest[n] = '\0';
    scn_config *c = parse_tree(file, rest, n, msgs, NULL);
    g_free(rest);
    if (c)
      return c;
  }
  return parse_tree(file, json, len, NULL, err);
}

scn_config *scn_load(const char *path, GError **err) {
  char *text = NULL;
  gsize len = 0;
  GError *e = NULL;
  if (!g_file_get_contents(path, &text, &len, &e)) {
    g_set_error(err, SCN_ERROR, 0, "%s: cannot read scenario: %s", path, e->message);
    g_error_free(e);
    return NULL;
  }
  scn_config *c = scn_parse(path, text, len, err);
  g_free(text);
  return c;
}
