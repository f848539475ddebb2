/* scn_mail.c — scenario keys for the mail world: DNS zones, the services a
 * host runs, users and their clients, and the messages they send. */
#include <string.h>

#include "scn_dns.h"
#include "scn_mail_int.h"

/* --- small helpers ---------------------------------------------------- */

/* An array of strings at KEY into a new GPtrArray (empty if absent). */
static GPtrArray *string_list(scn_json_ctx *x, const cJSON *obj, const char *path,
                              const char *key, bool required) {
  GPtrArray *out = scn_json_strings(x, obj, path, key, required, false, "a string");
  return out ? out : g_ptr_array_new_with_free_func(g_free);
}

bool scn__valid_address(const char *a) {
  const char *at = strchr(a, '@');
  if (!at || at == a || strchr(at + 1, '@') || !strchr(at + 1, '.') || !at[1])
    return false;
  for (const char *p = a; *p; p++) {
    switch (*p) { /* the set <>()[]\,;: and '"' without a strchr per byte */
    case '<': case '>': case '(': case ')': case '[': case ']': case '\\': case ',': case ';':
    case ':': case '"':
      return false;
    default:
      if ((unsigned char)*p <= ' ')
        return false;
    }
  }
  return true;
}

static const char *domain_of(const char *address) { return strchr(address, '@') + 1; }

static bool obj_at(scn_json_ctx *x, const cJSON *parent, const char *path, const char *key,
                   const cJSON **out) {
  *out = cJSON_GetObjectItemCaseSensitive(parent, key);
  if (*out && !cJSON_IsObject(*out)) {
    char *p = scn_json_key_path(path, key);
    scn_json_fail(x, p, "expected an object");
    g_free(p);
    return false;
  }
  return scn_json_ok(x);
}

/* --- hosts ------------------------------------------------------------ */

void scn__mail_host(scn_json_ctx *x, scn_host *h, const cJSON *it, const char *path) {
  static const char *const mta_keys[] = {"hostname", "domains", "submission", "mx",
                                         "mailbox_host", "retry", "smarthost", "filters",
                                         "greylist_delay", "dkim", "greylist", "dnsbl", "spam",
                                         "public_suffixes", "tls_policy", NULL};
  static const char *const mbox_keys[] = {"domains", "imap", "pop3", "quota", "spam_folder", NULL};
  scn_json_string(x, it, path, "resolver", false, &h->resolver);
  h->zones = string_list(x, it, path, "zones", false);
  h->mta.domains = NULL;
  h->mailbox.domains = NULL;
  const cJSON *m;
  if (obj_at(x, it, path, "mta", &m) && m) {
    char *p = scn_json_key_path(path, "mta");
    h->mta.mx = true;
    if (scn_json_known_keys(x, m, p, mta_keys) &&
        scn_json_string(x, m, p, "hostname", false, &h->mta.hostname) &&
        scn_json_bool(x, m, p, "submission", false, &h->mta.submission) &&
        scn_json_bool(x, m, p, "mx", false, &h->mta.mx) &&
        scn_json_string(x, m, p, "mailbox_host", false, &h->mta.mailbox_host) &&
        scn_json_string(x, m, p, "retry", false, &h->mta.retry) &&
        scn_json_string(x, m, p, "smarthost", false, &h->mta.smarthost) &&
        scn_json_bool(x, m, p, "filters", false, &h->mta.filters) &&
        scn_json_duration(x, m, p, "greylist_delay", false, &h->mta.greylist_delay)) {
      static const char *const dkim_keys[] = {"domain", "selector", NULL};
      const cJSON *dk;
      if (obj_at(x, m, p, "dkim", &dk) && dk) {
        char *dp = scn_json_key_path(p, "dkim");
        if (scn_json_known_keys(x, dk, dp, dkim_keys) &&
            scn_json_string(x, dk, dp, "domain", true, &h->mta.dkim_domain))
          scn_json_string(x, dk, dp, "selector", true, &h->mta.dkim_selector);
        g_free(dp);
      }
      h->mta.domains = string_list(x, m, p, "domains", false);
      scn__filters_mta(x, &h->mta, m, p);
      char *tp = NULL;
      if (scn_json_string(x, m, p, "tls_policy", false, &tp) && tp) {
        if (strcmp(tp, "encrypt") == 0)
          h->mta.tls_encrypt = true;
        else if (strcmp(tp, "may") != 0)
          scn_json_fail(x, p, "\"tls_policy\": unknown policy \"%s\" (expected may or encrypt)", tp);
      }
      g_free(tp);
      if (scn_json_ok(x) && h->mta.retry && strcmp(h->mta.retry, "postfix") != 0 &&
          strcmp(h->mta.retry, "exim") != 0 && strcmp(h->mta.retry, "opensmtpd") != 0)
        scn_json_fail(x, p, "\"retry\": unknown profile \"%s\" (expected postfix, exim or opensmtpd)",
                      h->mta.retry);
    }
    g_free(p);
  }
  if (obj_at(x, it, path, "mailbox", &m) && m) {
    char *p = scn_json_key_path(path, "mailbox");
    h->mailbox.imap = h->mailbox.pop3 = true;
    if (scn_json_known_keys(x, m, p, mbox_keys) &&
        scn_json_bool(x, m, p, "imap", false, &h->mailbox.imap) &&
        scn_json_bool(x, m, p, "pop3", false, &h->mailbox.pop3) &&
        scn_json_size(x, m, p, "quota", false, &h->mailbox.quota) &&
        scn_json_string(x, m, p, "spam_folder", false, &h->mailbox.spam_folder))
      h->mailbox.domains = string_list(x, m, p, "domains", false);
    g_free(p);
  }
  if (!h->mta.domains)
    h->mta.domains = g_ptr_array_new_with_free_func(g_free);
  if (!h->mailbox.domains)
    h->mailbox.domains = g_ptr_array_new_with_free_func(g_free);
}

void scn__mail_host_clear(scn_host *h) {
  g_free(h->resolver);
  if (h->zones)
    g_ptr_array_unref(h->zones);
  g_free(h->mta.hostname);
  if (h->mta.domains)
    g_ptr_array_unref(h->mta.domains);
  g_free(h->mta.mailbox_host);
  g_free(h->mta.retry);
  g_free(h->mta.smarthost);
  g_free(h->mta.dkim_domain);
  g_free(h->mta.dkim_selector);
  scn__filters_mta_clear(&h->mta);
  g_free(h->mailbox.spam_folder);
  if (h->mailbox.domains)
    g_ptr_array_unref(h->mailbox.domains);
}

/* "$.messages[I]" into BUF (the text of scn_json_index_path, without
 * printf: one per message, at loading and at checking). */
static const char *msg_path(char buf[32], int i) {
  static const char pre[] = "$.messages[";
  memcpy(buf, pre, sizeof pre - 1);
  char digits[12];
  int n = 0;
  unsigned u = i < 0 ? 0u - (unsigned)i : (unsigned)i;
  do
    digits[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  char *p = buf + sizeof pre - 1;
  if (i < 0)
    *p++ = '-';
  while (n)
    *p++ = digits[--n];
  *p++ = ']';
  *p = '\0';
  return buf;
}

/* --- zones, users, messages -------------------------------------------- */

static void zone_clear(void *p) {
  scn_zone *z = p;
  g_free(z->origin);
  if (z->records)
    g_ptr_array_unref(z->records);
}

static void user_clear(void *p) {
  scn_user *u = p;
  g_free(u->address);
  g_free(u->password);
  g_free(u->client);
  g_free(u->submit);
  g_free(u->mailbox);
  g_free(u->sieve);
}

static void attachment_clear(void *p) {
  scn_attachment *a = p;
  g_free(a->name);
  g_free(a->type);
}

void scn__mail_init(scn_config *c) {
  c->messages = scn_msgs_new(0); /* load_messages sizes it to the array */
  c->zones = g_array_new(FALSE, TRUE, sizeof(scn_zone));
  g_array_set_clear_func(c->zones, zone_clear);
  c->users = g_array_new(FALSE, TRUE, sizeof(scn_user));
  g_array_set_clear_func(c->users, user_clear);
  c->epoch_unix = 1772355600; /* 2026-03-01T09:00:00Z */
}

void scn__mail_free(scn_config *c) {
  g_array_unref(c->zones);
  g_array_unref(c->users);
  scn_msgs_free(c->messages);
}

static void load_epoch(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  char *text = NULL;
  if (!scn_json_string(x, root, "$", "epoch", false, &text) || !text)
    return;
  GDateTime *dt = g_date_time_new_from_iso8601(text, NULL);
  if (!dt)
    scn_json_fail(x, "$.epoch", "expected an ISO 8601 date and time with a zone, like "
                                "\"2026-03-01T09:00:00Z\"");
  else
    c->epoch_unix = g_date_time_to_unix(dt);
  if (dt)
    g_date_time_unref(dt);
  g_free(text);
}

static void load_zones(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"origin", "records", "listed", NULL};
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "zones", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.zones", i);
    scn_zone z = {0};
    if (!cJSON_IsObject(it))
      scn_json_fail(x, path, "expected a zone object");
    else if (scn_json_known_keys(x, it, path, keys) &&
             scn_json_string(x, it, path, "origin", true, &z.origin)) {
      z.records = string_list(x, it, path, "records", true);
      if (!g_str_has_suffix(z.origin, "."))
        scn_json_fail(x, path, "\"origin\": expected an absolute name ending in \".\", got \"%s\"",
                      z.origin);
      else
        scn__filters_zone(x, &z, it, path);
      guint bad;
      dns_err e;
      dns_zone *built = scn_json_ok(x) ? scn_dns_zone_build(&z, &bad, &e) : NULL;
      if (scn_json_ok(x) && !built && bad == G_MAXUINT)
        scn_json_fail(x, path, "\"origin\": \"%s\" is not a valid domain name", z.origin);
      else if (scn_json_ok(x) && !built)
        scn_json_fail(x, path, "records[%u]: %s in \"%s\" (expected \"name TTL IN TYPE data\" with "
                      "absolute names, \"@\" for the origin, and every record inside the zone)",
                      bad, dns_err_name(e), (char *)z.records->pdata[bad]);
      dns_zone_free(built);
    }
    g_array_append_val(c->zones, z);
    g_free(path);
  }
}

static void load_users(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"address", "password", "client", "submit", "mailbox",
                                     "fetch", "every", "keep", "sieve", "sieve_file", NULL};
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "users", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *path = scn_json_index_path("$.users", i);
    scn_user u = {.every = 5 * SIM_MIN};
    char *fetch = NULL;
    if (!cJSON_IsObject(it)) {
      scn_json_fail(x, path, "expected a user object");
    } else if (scn_json_known_keys(x, it, path, keys) &&
               scn_json_string(x, it, path, "address", true, &u.address) &&
               scn_json_string(x, it, path, "password", false, &u.password) &&
               scn_json_string(x, it, path, "client", false, &u.client) &&
               scn_json_string(x, it, path, "submit", false, &u.submit) &&
               scn_json_string(x, it, path, "mailbox", false, &u.mailbox) &&
               scn_json_string(x, it, path, "fetch", false, &fetch) &&
               scn_json_duration(x, it, path, "every", false, &u.every) &&
               scn_json_bool(x, it, path, "keep", false, &u.keep)) {
      if (!scn__valid_address(u.address))
        scn_json_fail(x, path, "\"address\": expected local@domain, got \"%s\"", u.address);
      else if (scn_find_user(c, u.address))
        scn_json_fail(x, path, "\"address\": user \"%s\" is listed twice", u.address);
      if (fetch && strcmp(fetch, "imap") == 0)
        u.fetch = SCN_FETCH_IMAP;
      else if (fetch && strcmp(fetch, "pop3") == 0)
        u.fetch = SCN_FETCH_POP3;
      else if (fetch && strcmp(fetch, "none") != 0)
        scn_json_fail(x, path, "\"fetch\": expected imap, pop3 or none, got \"%s\"", fetch);
      if (u.every <= 0)
        scn_json_fail(x, path, "\"every\": must be more than 0s");
      if (!u.password)
        u.password = g_strdup("secret");
      scn__filters_user(x, c, &u, it, path);
    }
    g_free(fetch);
    if (u.address) {
      char *key = g_ascii_strdown(u.address, -1);
      if (!g_hash_table_contains(c->user_idx, key))
        g_hash_table_insert(c->user_idx, key, GINT_TO_POINTER(c->users->len + 1));
      else
        g_free(key);
    }
    g_array_append_val(c->users, u);
    g_free(path);
  }
}

/* The message's attachments; none: a reference to the shared NONE. */
static void load_attachments(scn_json_ctx *x, scn_message *m, const cJSON *v, const char *path,
                             GArray *none) {
  static const char *const keys[] = {"name", "type", "size", NULL};
  const cJSON *arr; /* V: the value at "attachments" (NULL: absent) */
  if (!scn_json_field_array(x, v, path, "attachments", false, &arr) || !arr || !arr->child) {
    m->attachments = g_array_ref(none);
    return;
  }
  m->attachments = g_array_new(FALSE, TRUE, sizeof(scn_attachment));
  g_array_set_clear_func(m->attachments, attachment_clear);
  int i = 0;
  for (const cJSON *a = arr->child; a && scn_json_ok(x); a = a->next, i++) {
    char *p = g_strdup_printf("%s.attachments[%d]", path, i);
    scn_attachment at = {0};
    if (!cJSON_IsObject(a))
      scn_json_fail(x, p, "expected an attachment object");
    else if (scn_json_known_keys(x, a, p, keys) && scn_json_string(x, a, p, "name", true, &at.name) &&
             scn_json_string(x, a, p, "type", false, &at.type) &&
             scn_json_size(x, a, p, "size", true, &at.size)) {
      if (!at.type)
        at.type = g_strdup("application/octet-stream");
      if (at.size > 64 * 1024 * 1024)
        scn_json_fail(x, p, "\"size\": at most 64MiB");
    }
    g_array_append_val(m->attachments, at);
    g_free(p);
  }
}

/* Memory per message matters at 100,000 messages (issue #6): strings go to
 * the config's string chunk (addresses once each, no allocation per
 * string), recipient arrays are sized exactly, and absent lists share one
 * empty array. */
/* The addresses at KEY as a read-only list: NONE (referenced) when absent
 * or empty; a list of one address shared by every message that names only
 * it (ONES: interned address -> list, lookup only; most messages of a
 * load world have one recipient, ~80 B per message saved); else an
 * exact-size array of interned strings. */
static GPtrArray *address_list(scn_json_ctx *x, GStringChunk *addrs, const cJSON *v,
                               const char *path, const char *key, GPtrArray *none,
                               GHashTable *ones) {
  const cJSON *arr; /* V: the value at KEY; items read in place, no copy per address */
  if (!scn_json_field_string_items(x, v, path, key, false, false, "a string", &arr) || !arr ||
      !arr->child)
    return g_ptr_array_ref(none);
  if (!arr->child->next) {
    char *a = g_string_chunk_insert_const(addrs, arr->child->valuestring);
    GPtrArray *l = g_hash_table_lookup(ones, a);
    if (!l) {
      l = g_ptr_array_sized_new(1);
      g_ptr_array_add(l, a);
      g_hash_table_insert(ones, a, l);
    }
    return g_ptr_array_ref(l);
  }
  GPtrArray *out = g_ptr_array_sized_new((guint)cJSON_GetArraySize(arr));
  for (const cJSON *it = arr->child; it; it = it->next)
    g_ptr_array_add(out, g_string_chunk_insert_const(addrs, it->valuestring));
  return out;
}

static void load_messages(scn_json_ctx *x, scn_config *c, const cJSON *root) {
  static const char *const keys[] = {"id", "from", "to", "cc", "bcc", "subject", "text",
                                     "html", "attachments", "at", NULL};
  enum { K_ID, K_FROM, K_TO, K_CC, K_BCC, K_SUBJECT, K_TEXT, K_HTML, K_ATTACHMENTS, K_AT, K_N };
  G_STATIC_ASSERT(G_N_ELEMENTS(keys) == K_N + 1);
  const cJSON *arr;
  if (!scn_json_array(x, root, "$", "messages", false, &arr) || !arr)
    return;
  GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal); /* lookup only */
  GPtrArray *no_rcpts = g_ptr_array_new();
  /* interned address -> its one-address list (a reference held here) */
  GHashTable *ones =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
  GArray *no_attachments = g_array_new(FALSE, TRUE, sizeof(scn_attachment));
  /* the messages by pages of their own (scn_msgs.h), sized to the array */
  scn_msgs_free(c->messages);
  c->messages = scn_msgs_new((size_t)cJSON_GetArraySize(arr));
  GStringChunk *addrs = scn_msgs_addresses(c->messages);
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char pbuf[32];
    const char *path = msg_path(pbuf, (int)i);
    GStringChunk *ch; /* the message's own strings */
    scn_message *m = scn_msgs_append(c->messages, &ch);
    /* the strings are read in place and copied once, into the chunk */
    const char *from = NULL, *id = NULL, *subject = NULL, *text = NULL, *html = NULL;
    const cJSON *f[K_N]; /* the values by key: one pass over the message's keys */
    if (!cJSON_IsObject(it)) {
      scn_json_fail(x, path, "expected a message object");
    } else if (scn_json_fields(x, it, path, keys, f) &&
               scn_json_field_string(x, f[K_FROM], path, "from", true, &from) &&
               scn_json_field_string(x, f[K_ID], path, "id", false, &id) &&
               scn_json_field_string(x, f[K_SUBJECT], path, "subject", false, &subject) &&
               scn_json_field_string(x, f[K_TEXT], path, "text", false, &text) &&
               scn_json_field_string(x, f[K_HTML], path, "html", false, &html) &&
               scn_json_field_duration(x, f[K_AT], path, "at", false, &m->at)) {
      m->to = address_list(x, addrs, f[K_TO], path, "to", no_rcpts, ones);
      m->cc = address_list(x, addrs, f[K_CC], path, "cc", no_rcpts, ones);
      m->bcc = address_list(x, addrs, f[K_BCC], path, "bcc", no_rcpts, ones);
      load_attachments(x, m, f[K_ATTACHMENTS], path, no_attachments);
      char idbuf[16];
      if (!id) {
        g_snprintf(idbuf, sizeof idbuf, "m%d", i + 1);
        id = idbuf;
      }
      m->id = g_string_chunk_insert(ch, id); /* before it is a key of IDS */
      m->from = g_string_chunk_insert_const(addrs, from);
      m->subject = g_string_chunk_insert(ch, subject ? subject : "");
      if (text || !html)
        m->text = g_string_chunk_insert(ch, text ? text : "");
      if (html)
        m->html = g_string_chunk_insert(ch, html);
      if (scn_json_ok(x) && m->to->len + m->cc->len + m->bcc->len == 0)
        scn_json_fail(x, path, "expected at least one recipient in \"to\", \"cc\" or \"bcc\"");
      GPtrArray *lists[] = {m->to, m->cc, m->bcc};
      for (int k = 0; k < 3 && scn_json_ok(x); k++)
        for (guint j = 0; j < lists[k]->len; j++)
          if (!scn__valid_address(lists[k]->pdata[j]))
            scn_json_fail(x, path, "recipient \"%s\": expected local@domain",
                          (char *)lists[k]->pdata[j]);
      if (scn_json_ok(x) && !g_hash_table_add(ids, m->id))
        scn_json_fail(x, path, "\"id\": \"%s\" is used twice", m->id);
    }
  }
  g_hash_table_unref(ids);
  g_hash_table_unref(ones);
  g_ptr_array_unref(no_rcpts);
  g_array_unref(no_attachments);
}

void scn__mail_load(scn_json_ctx *x, scn_config *c, const cJSON *root, bool messages_read) {
  load_epoch(x, c, root);
  load_zones(x, c, root);
  load_users(x, c, root);
  if (!messages_read)
    load_messages(x, c, root);
}

/* --- cross references --------------------------------------------------- */

static const scn_host *host_named(const scn_config *c, const char *name) {
  int i = scn_find_host(c, name);
  return i < 0 ? NULL : &g_array_index(c->hosts, scn_host, i);
}

/* Fails unless NAME names a host whose role is ROLE. */
static void want_role(scn_json_ctx *x, const scn_config *c, const char *path, const char *what,
                      const char *name, const char *role) {
  const scn_host *h = host_named(c, name);
  if (!h)
    scn_json_fail(x, path, "\"%s\": no host named \"%s\"", what, name);
  else if (strcmp(h->role, role) != 0)
    scn_json_fail(x, path, "\"%s\": host \"%s\" has role \"%s\", expected \"%s\"", what, name,
                  h->role, role);
}

static bool zone_exists(const scn_config *c, const char *origin) {
  for (guint i = 0; i < c->zones->len; i++)
    if (g_ascii_strcasecmp(g_array_index(c->zones, scn_zone, i).origin, origin) == 0)
      return true;
  return false;
}

void scn__mail_check(scn_json_ctx *x, scn_config *c) {
  for (guint i = 0; i < c->hosts->len && scn_json_ok(x); i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    char *path = scn_json_index_path("$.hosts", i);
    if (h->resolver)
      want_role(x, c, path, "resolver", h->resolver, "resolver");
    for (guint k = 0; k < h->zones->len && scn_json_ok(x); k++)
      if (!zone_exists(c, h->zones->pdata[k]))
        scn_json_fail(x, path, "\"zones\": no zone with origin \"%s\" in $.zones",
                      (char *)h->zones->pdata[k]);
    if (h->mta.mailbox_host && scn_json_ok(x))
      want_role(x, c, path, "mta.mailbox_host", h->mta.mailbox_host, "mailbox");
    if (h->mta.smarthost && scn_json_ok(x))
      want_role(x, c, path, "mta.smarthost", h->mta.smarthost, "mta");
    if (h->mta.tls_encrypt && !(c->tls_services & 1u << SCN_TLS_SVC_RELAY) && scn_json_ok(x))
      scn_json_fail(x, path, "\"mta.tls_policy\": \"encrypt\" needs TLS on relay (the scenario's "
                             "\"tls\" turns it off)");
    if (h->mta.dkim_domain && scn_json_ok(x)) {
      char *name = g_strdup_printf("%s._domainkey.%s.", h->mta.dkim_selector, h->mta.dkim_domain);
      if (!scn_zone_for(c, name))
        scn_json_fail(x, path, "\"mta.dkim\": no zone in $.zones holds %s (the DKIM key is "
                      "published there)", name);
      g_free(name);
    }
    if (scn_json_ok(x) && !strcmp(h->role, "resolver")) {
      bool root = false;
      for (guint k = 0; k < c->hosts->len; k++) {
        const scn_host *o = &g_array_index(c->hosts, scn_host, k);
        for (guint z = 0; z < o->zones->len; z++)
          root |= strcmp(o->zones->pdata[z], ".") == 0;
      }
      if (!root)
        scn_json_fail(x, path, "a \"resolver\" needs a host serving the root zone \".\" (its hints)");
    }
    if (scn_json_ok(x) && (!strcmp(h->role, "mta") || !strcmp(h->role, "mua")) && !h->resolver)
      scn_json_fail(x, path, "a host with role \"%s\" needs a \"resolver\"", h->role);
    g_free(path);
  }
  for (guint i = 0; i < c->users->len && scn_json_ok(x); i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    char *path = scn_json_index_path("$.users", i);
    if (u->client)
      want_role(x, c, path, "client", u->client, "mua");
    if (u->submit && scn_json_ok(x))
      want_role(x, c, path, "submit", u->submit, "mta");
    if (u->mailbox && scn_json_ok(x)) {
      want_role(x, c, path, "mailbox", u->mailbox, "mailbox");
      const scn_host *mb = host_named(c, u->mailbox);
      bool serves = false;
      for (guint k = 0; mb && k < mb->mailbox.domains->len; k++)
        serves |= g_ascii_strcasecmp(mb->mailbox.domains->pdata[k], domain_of(u->address)) == 0;
      if (scn_json_ok(x) && !serves)
        scn_json_fail(x, path, "\"mailbox\": host \"%s\" does not hold domain \"%s\" (add it to its "
                      "mailbox.domains)", u->mailbox, domain_of(u->address));
    }
    if (u->fetch != SCN_FETCH_NONE && scn_json_ok(x) && (!u->client || !u->mailbox))
      scn_json_fail(x, path, "\"fetch\" needs a \"client\" and a \"mailbox\"");
    g_free(path);
  }
  if (scn_json_ok(x))
    scn__filters_check(x, c);
  /* a sender's user looked up once: its address is interned (scn_msgs.h),
   * so the same pointer names it in each of its messages */
  GHashTable *senders = g_hash_table_new(g_direct_hash, g_direct_equal); /* lookup only */
  for (size_t i = 0; i < scn_msgs_count(c->messages) && scn_json_ok(x); i++) {
    const scn_message *m = scn_msgs_at(c->messages, i);
    char pbuf[32]; /* the path only for an error */
    const scn_user *u = g_hash_table_lookup(senders, m->from);
    if (!u) {
      u = scn_find_user(c, m->from);
      if (u)
        g_hash_table_insert(senders, m->from, (gpointer)u);
    }
    if (!u)
      scn_json_fail(x, msg_path(pbuf, (int)i), "\"from\": no user \"%s\" in $.users", m->from);
    else if (!u->client || !u->submit)
      scn_json_fail(x, msg_path(pbuf, (int)i),
                    "\"from\": user \"%s\" needs a \"client\" and a \"submit\" server", m->from);
  }
  g_hash_table_unref(senders);
}

const scn_zone *scn_zone_for(const scn_config *c, const char *name) {
  const scn_zone *best = NULL;
  size_t n = strlen(name);
  for (guint i = 0; i < c->zones->len; i++) {
    const scn_zone *z = &g_array_index(c->zones, scn_zone, i);
    size_t o = strlen(z->origin);
    bool under = strcmp(z->origin, ".") == 0 ||
                 (o <= n && g_ascii_strcasecmp(name + n - o, z->origin) == 0 &&
                  (o == n || name[n - o - 1] == '.'));
    if (under && (!best || strlen(best->origin) < o))
      best = z;
  }
  return best;
}

const scn_user *scn_find_user(const scn_config *c, const char *address) {
  if (c->user_idx) { /* large worlds: the loader's index */
    /* the key lower-cased on the stack when it fits (twice per message) */
    size_t n = strlen(address);
    char small[128];
    char *key = n < sizeof small ? small : g_malloc(n + 1);
    for (size_t k = 0; k <= n; k++)
      key[k] = address[k] >= 'A' && address[k] <= 'Z' ? (char)(address[k] + 32) : address[k];
    int i = GPOINTER_TO_INT(g_hash_table_lookup(c->user_idx, key)) - 1;
    if (key != small)
      g_free(key);
    return i < 0 ? NULL : &g_array_index(c->users, scn_user, i);
  }
  for (guint i = 0; i < c->users->len; i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    if (u->address && g_ascii_strcasecmp(u->address, address) == 0)
      return u;
  }
  return NULL;
}
