/* greylist.c — greylisting as Postgrey does it (postgrey(8), version 1.3x:
 * smtpd_access_policy, do_sender_substitutions, do_client_substitutions,
 * do_maintenance), with integer nanosecond time passed in.
 *
 * Rules followed, in Postgrey's order:
 *  - whitelisted clients and recipients pass untouched;
 *  - a client address whose AWL count reached --auto-whitelist-clients
 *    passes (its count grows at most once per hour, for statistics);
 *  - the key is lc("client_net/sender/recipient"), the sender after the
 *    VERP/BATV substitutions, the client cut to /24 (IPv4) or /64 (IPv6);
 *  - an existing entry (first, last): it "was successful" when
 *    last - first >= delay; otherwise, when now - first > retry_window, the
 *    first attempt is forgotten (first = now);
 *  - the entry becomes (first, now); diff = delay - (now - first); diff > 0
 *    defers (so 299 s after the first attempt is refused, 300 s passes);
 *  - the first pass of an entry counts once (per hour) for the client's AWL
 *    and gets the X-Greylist header;
 *  - maintenance forgets entries not seen for max_age and entries that
 *    never passed and were last seen over retry_window ago. Here the same
 *    tests run at lookup time too, so results do not depend on when
 *    maintenance ran (Postgrey runs it nightly).
 * Not copied: --privacy hashing, and Postgrey's lookups by client name
 * (whitelist_clients by host name: the host passes addresses only).
 * Checked against Postgrey 1.37 itself by tests/greylist_peer_test.py. */
#include "greylist.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "mime_date.h"

typedef struct {
  int64_t first, last;
} gl_entry;

typedef struct {
  guint count;
  int64_t last;
} gl_client;

typedef struct {
  guint8 addr[16];
  int family; /* AF_INET / AF_INET6 */
  guint prefix;
} gl_cidr;

struct greylist {
  greylist_config cfg;
  char *reply_text;
  GArray *wl_clients;   /* of gl_cidr */
  GPtrArray *wl_rcpts;  /* lower-cased patterns */
  GHashTable *triplets; /* key → gl_entry* (lookup only; output is sorted) */
  GHashTable *clients;  /* address → gl_client* */
};

static const char *const result_names[GREYLIST_RESULT_COUNT] = {
    "pass-whitelist", "pass-awl", "pass-delayed", "pass-known", "defer-new", "defer-early",
};

const char *greylist_result_name(greylist_result r) {
  return (unsigned)r < GREYLIST_RESULT_COUNT ? result_names[r] : "?";
}

void greylist_config_default(greylist_config *c) {
  memset(c, 0, sizeof *c);
  c->delay = 300 * GREYLIST_SEC;
  c->max_age = 35 * 86400 * GREYLIST_SEC;
  c->retry_window = 2 * 86400 * GREYLIST_SEC;
  c->awl_clients = 5;
  c->awl_interval = 3600 * GREYLIST_SEC;
  c->ipv4_prefix = 24;
  c->ipv6_prefix = 64;
  c->sender_substitutions = TRUE;
  c->reply_text = GREYLIST_DEFAULT_TEXT;
}

void greylist_verdict_clear(greylist_verdict *v) {
  if (!v)
    return;
  g_free(v->text);
  g_free(v->client_net);
  g_free(v->sender);
  g_free(v->recipient);
  g_free(v->triplet);
  memset(v, 0, sizeof *v);
}

/* ---- addresses ---- */

static int parse_ip(const char *text, guint8 out[16]) {
  if (!text)
    return 0;
  if (inet_pton(AF_INET, text, out) == 1)
    return AF_INET;
  if (inet_pton(AF_INET6, text, out) == 1) {
    static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out, mapped, 12) == 0) { /* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
      memmove(out, out + 12, 4);
      return AF_INET;
    }
    return AF_INET6;
  }
  return 0;
}

static void mask_bits(guint8 *a, guint nbytes, guint prefix) {
  for (guint i = 0; i < nbytes; i++) {
    guint bits = prefix > i * 8 ? prefix - i * 8 : 0;
    if (bits >= 8)
      continue;
    a[i] &= (guint8)(0xffu << (8 - bits));
  }
}

gboolean greylist_client_net(const char *ip, guint v4_prefix, guint v6_prefix, char **out) {
  guint8 a[16];
  int fam = parse_ip(ip, a);
  if (!fam) {
    *out = g_ascii_strdown(ip ? ip : "", -1);
    return FALSE;
  }
  guint prefix = fam == AF_INET ? v4_prefix : v6_prefix;
  mask_bits(a, fam == AF_INET ? 4 : 16, prefix);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(fam, a, buf, sizeof buf);
  *out = g_strdup_printf("%s/%u", buf, prefix);
  return TRUE;
}

static gboolean cidr_parse(const char *text, gl_cidr *c) {
  char *copy = g_strdup(text);
  char *slash = strchr(copy, '/');
  if (slash)
    *slash++ = '\0';
  c->family = parse_ip(copy, c->addr);
  gboolean ok = c->family != 0;
  guint max = c->family == AF_INET ? 32 : 128;
  c->prefix = max;
  if (ok && slash) {
    char *end = NULL;
    guint64 p = g_ascii_strtoull(slash, &end, 10);
    ok = end != slash && *end == '\0' && p <= max;
    c->prefix = (guint)p;
  }
  if (ok)
    mask_bits(c->addr, c->family == AF_INET ? 4 : 16, c->prefix);
  g_free(copy);
  return ok;
}

static gboolean client_whitelisted(const greylist *g, const char *ip) {
  guint8 a[16];
  int fam = parse_ip(ip, a);
  if (!fam)
    return FALSE;
  for (guint i = 0; i < g->wl_clients->len; i++) {
    const gl_cidr *c = &g_array_index(g->wl_clients, gl_cidr, i);
    if (c->family != fam)
      continue;
    guint8 m[16];
    memcpy(m, a, 16);
    mask_bits(m, fam == AF_INET ? 4 : 16, c->prefix);
    if (memcmp(m, c->addr, fam == AF_INET ? 4 : 16) == 0)
      return TRUE;
  }
  return FALSE;
}

/* Postgrey's recipient whitelist: "user@domain" and "user@" also match
 * "user+ext@..."; a bare domain matches it and its subdomains. */
static gboolean rcpt_whitelisted(const greylist *g, const char *rcpt_lc) {
  const char *at = strrchr(rcpt_lc, '@');
  for (guint i = 0; i < g->wl_rcpts->len; i++) {
    const char *w = g_ptr_array_index(g->wl_rcpts, i);
    const char *wat = strchr(w, '@');
    if (!wat) {
      if (!at)
        continue;
      const char *dom = at + 1;
      gsize dl = strlen(dom), wl = strlen(w);
      if (g_str_equal(dom, w) || (dl > wl && g_str_has_suffix(dom, w) && dom[dl - wl - 1] == '.'))
        return TRUE;
      continue;
    }
    if (!at)
      continue;
    gsize wuser = (gsize)(wat - w);
    gsize ruser = (gsize)(at - rcpt_lc);
    const char *plus = memchr(rcpt_lc, '+', ruser);
    gboolean user_ok = (ruser == wuser || (plus && (gsize)(plus - rcpt_lc) == wuser)) &&
                       strncmp(rcpt_lc, w, wuser) == 0;
    if (user_ok && (wat[1] == '\0' || g_str_equal(wat + 1, at + 1)))
      return TRUE;
  }
  return FALSE;
}

/* ---- sender normalisation (do_sender_substitutions) ---- */

static gboolean is_word(char c) { return g_ascii_isalnum(c) || c == '_'; }

static gboolean batv_tag(const char *s) {
  for (int i = 0; i < 10; i++)
    if (!(g_ascii_isdigit(s[i]) || (s[i] >= 'a' && s[i] <= 'z')))
      return FALSE;
  return TRUE;
}

char *greylist_normalise_sender(const char *sender) {
  const char *at = sender ? strrchr(sender, '@') : NULL;
  if (!at)
    return g_ascii_strdown(sender ? sender : "", -1);
  char *user = g_strndup(sender, (gsize)(at - sender));
  /* BATV (prvs=tag-val=loc-core, sometimes prvs=loc-core=tag-val). */
  if (g_str_has_prefix(user, "prvs=")) {
    char **a = g_strsplit(user, "=", -1);
    if (g_strv_length(a) == 3) {
      gboolean t1 = batv_tag(a[1]), t2 = batv_tag(a[2]);
      char *pick = (t2 && !t1) ? a[1] : a[2];
      char *u = g_strdup(pick);
      g_free(user);
      user = u;
    }
    g_strfreev(a);
  }
  char *plus = strchr(user, '+'); /* strip extension (VERP) */
  if (plus)
    *plus = '\0';
  GString *out = g_string_new(NULL);
  for (const char *p = user; *p;) {
    if (g_ascii_isdigit(*p) && (p == user || !is_word(p[-1]))) {
      const char *q = p;
      while (g_ascii_isdigit(*q))
        q++;
      if (!is_word(*q)) { /* \b\d+\b → '#' */
        g_string_append_c(out, '#');
        p = q;
        continue;
      }
      g_string_append_len(out, p, q - p);
      p = q;
      continue;
    }
    g_string_append_c(out, *p++);
  }
  g_string_append(out, at);
  g_free(user);
  char *lc = g_ascii_strdown(out->str, -1);
  g_string_free(out, TRUE);
  return lc;
}

/* ---- life cycle ---- */

greylist *greylist_new(const greylist_config *cfg) {
  greylist *g = g_new0(greylist, 1);
  if (cfg)
    g->cfg = *cfg;
  else
    greylist_config_default(&g->cfg);
  g_assert(g->cfg.delay >= 0 && g->cfg.max_age >= 0 && g->cfg.retry_window >= 0 &&
           g->cfg.awl_interval >= 0);
  g_assert(g->cfg.ipv4_prefix <= 32 && g->cfg.ipv6_prefix <= 128);
  g->reply_text = g_strdup(g->cfg.reply_text ? g->cfg.reply_text : GREYLIST_DEFAULT_TEXT);
  g->cfg.reply_text = g->reply_text;
  g->wl_clients = g_array_new(FALSE, FALSE, sizeof(gl_cidr));
  g->wl_rcpts = g_ptr_array_new_with_free_func(g_free);
  for (const char *const *w = g->cfg.whitelist_clients; w && *w; w++) {
    gl_cidr c;
    if (cidr_parse(*w, &c))
      g_array_append_val(g->wl_clients, c);
    else
      g_error("greylist_new: bad client whitelist entry \"%s\"", *w);
  }
  for (const char *const *w = g->cfg.whitelist_recipients; w && *w; w++)
    g_ptr_array_add(g->wl_rcpts, g_ascii_strdown(*w, -1));
  g->cfg.whitelist_clients = NULL;
  g->cfg.whitelist_recipients = NULL;
  g->triplets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return g;
}

void greylist_free(greylist *g) {
  if (!g)
    return;
  g_hash_table_destroy(g->triplets);
  g_hash_table_destroy(g->clients);
  g_array_free(g->wl_clients, TRUE);
  g_ptr_array_free(g->wl_rcpts, TRUE);
  g_free(g->reply_text);
  g_free(g);
}

guint greylist_triplet_count(const greylist *g) { return g_hash_table_size(g->triplets); }

guint greylist_client_count(const greylist *g) { return g_hash_table_size(g->clients); }

/* The AWL key: the address in canonical text, so "2001:DB8::1" and
 * "2001:db8:0::1" are one client. */
static char *client_key(const char *ip) {
  guint8 a[16];
  int fam = parse_ip(ip, a);
  if (!fam)
    return g_ascii_strdown(ip ? ip : "", -1);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(fam, a, buf, sizeof buf);
  return g_strdup(buf);
}

static char *format_text(const char *tmpl, int64_t retry_s, const char *rcpt) {
  const char *at = strrchr(rcpt, '@');
  const char *dom = at ? at + 1 : rcpt;
  GString *s = g_string_new(NULL);
  for (const char *p = tmpl; *p; p++) {
    if (p[0] == '%' && p[1] == 's') {
      g_string_append_printf(s, "%" G_GINT64_FORMAT, retry_s);
      p++;
    } else if (p[0] == '%' && p[1] == 'r') {
      g_string_append(s, dom);
      p++;
    } else {
      g_string_append_c(s, *p);
    }
  }
  return g_string_free(s, FALSE);
}

void greylist_check(greylist *g, const char *client_ip, const char *sender, const char *recipient,
                    int64_t now, greylist_verdict *out) {
  const greylist_config *c = &g->cfg;
  memset(out, 0, sizeof *out);
  greylist_client_net(client_ip, c->ipv4_prefix, c->ipv6_prefix, &out->client_net);
  out->sender = c->sender_substitutions ? greylist_normalise_sender(sender)
                                        : g_ascii_strdown(sender ? sender : "", -1);
  out->recipient = g_ascii_strdown(recipient ? recipient : "", -1);
  out->triplet = g_strdup_printf("%s/%s/%s", out->client_net, out->sender, out->recipient);

  if (client_whitelisted(g, client_ip) || rcpt_whitelisted(g, out->recipient)) {
    out->result = GREYLIST_PASS_WHITELIST;
    return;
  }

  char *ckey = client_key(client_ip);
  gl_client *cl = g_hash_table_lookup(g->clients, ckey);
  if (cl && now - cl->last > c->max_age) { /* AWL entry expired (maintenance) */
    g_hash_table_remove(g->clients, ckey);
    cl = NULL;
  }
  if (c->awl_clients && cl && cl->count >= c->awl_clients) {
    if (now >= cl->last + c->awl_interval) {
      cl->count++;
      cl->last = now;
    }
    out->result = GREYLIST_PASS_AWL;
    out->awl_count = cl->count;
    g_free(ckey);
    return;
  }

  gl_entry *e = g_hash_table_lookup(g->triplets, out->triplet);
  gboolean was_successful = FALSE;
  if (e) {
    gboolean passed = e->last - e->first >= c->delay;
    if (now - e->last > c->max_age || (!passed && now - e->last > c->retry_window)) {
      e->first = now; /* forgotten by maintenance */
    } else if (passed) {
      was_successful = TRUE;
    } else if (now - e->first > c->retry_window) {
      e->first = now; /* first retry came too late: start again */
    }
  } else {
    e = g_new0(gl_entry, 1);
    e->first = now;
    g_hash_table_insert(g->triplets, g_strdup(out->triplet), e);
  }
  e->last = now;
  out->first_seen = e->first;
  out->waited = now - e->first;
  int64_t diff = c->delay - (now - e->first);

  if (c->awl_clients && diff <= 0 && !was_successful) {
    if (!cl) {
      cl = g_new0(gl_client, 1);
      cl->last = INT64_MIN;
      g_hash_table_insert(g->clients, g_strdup(ckey), cl);
    }
    if (cl->last == INT64_MIN || now >= cl->last + c->awl_interval) {
      cl->count++;
      cl->last = now;
    }
  }
  out->awl_count = cl ? cl->count : 0;
  g_free(ckey);

  if (diff > 0) {
    out->result = now == e->first ? GREYLIST_DEFER_NEW : GREYLIST_DEFER_EARLY;
    out->defer = TRUE;
    out->code = 450;
    out->esc = "4.2.0"; /* Postgrey's 4.2.0, not 4.7.1 (Exchange workaround) */
    out->retry_in = diff;
    int64_t secs = (diff + GREYLIST_SEC - 1) / GREYLIST_SEC;
    out->text = format_text(g->reply_text, secs, out->recipient);
    return;
  }
  out->result = was_successful ? GREYLIST_PASS_KNOWN : GREYLIST_PASS_DELAYED;
}

char *greylist_header_value(const greylist_verdict *v, const char *host, int64_t now,
                            int64_t epoch_unix) {
  if (v->result != GREYLIST_PASS_DELAYED)
    return NULL;
  char *date = mime_date_format(now, epoch_unix, 0);
  char *s =
      g_strdup_printf("delayed %" G_GINT64_FORMAT " seconds by %s; %s", v->waited / GREYLIST_SEC,
                      host ? host : "localhost", date ? date : "unknown date");
  g_free(date);
  return s;
}

guint greylist_expire(greylist *g, int64_t now) {
  const greylist_config *c = &g->cfg;
  guint removed = 0;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, g->triplets);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const gl_entry *e = v;
    gboolean passed = e->last - e->first >= c->delay;
    if (now - e->last > c->max_age || (!passed && now - e->last > c->retry_window)) {
      g_hash_table_iter_remove(&it);
      removed++;
    }
  }
  g_hash_table_iter_init(&it, g->clients);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const gl_client *cl = v;
    if (now - cl->last > c->max_age) {
      g_hash_table_iter_remove(&it);
      removed++;
    }
  }
  return removed;
}

/* ---- persistence ---- */

static void append_escaped(GString *s, const char *key) {
  for (const guint8 *p = (const guint8 *)key; *p; p++) {
    if (*p <= 0x20 || *p == '%' || *p >= 0x7f)
      g_string_append_printf(s, "%%%02X", *p);
    else
      g_string_append_c(s, (char)*p);
  }
}

static char *unescape(const char *s, gsize len) {
  GString *o = g_string_new(NULL);
  for (gsize i = 0; i < len; i++) {
    if (s[i] == '%') {
      if (i + 2 >= len || !g_ascii_isxdigit(s[i + 1]) || !g_ascii_isxdigit(s[i + 2])) {
        g_string_free(o, TRUE);
        return NULL;
      }
      guint8 b = (guint8)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2]));
      if (b == 0) {
        g_string_free(o, TRUE);
        return NULL;
      }
      g_string_append_c(o, (char)b);
      i += 2;
    } else if ((guint8)s[i] <= 0x20 || (guint8)s[i] >= 0x7f) {
      g_string_free(o, TRUE);
      return NULL;
    } else {
      g_string_append_c(o, s[i]);
    }
  }
  return g_string_free(o, FALSE);
}

static gint cmp_str(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *sorted_keys(GHashTable *h) {
  GPtrArray *keys = g_ptr_array_new();
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, h);
  while (g_hash_table_iter_next(&it, &k, NULL))
    g_ptr_array_add(keys, k);
  g_ptr_array_sort(keys, cmp_str);
  return keys;
}

char *greylist_save(const greylist *g) {
  GString *s = g_string_new("mailsim-greylist 1\n");
  GPtrArray *keys = sorted_keys(g->triplets);
  for (guint i = 0; i < keys->len; i++) {
    const gl_entry *e = g_hash_table_lookup(g->triplets, keys->pdata[i]);
    g_string_append_printf(s, "t %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " ", e->first, e->last);
    append_escaped(s, keys->pdata[i]);
    g_string_append_c(s, '\n');
  }
  g_ptr_array_free(keys, TRUE);
  keys = sorted_keys(g->clients);
  for (guint i = 0; i < keys->len; i++) {
    const gl_client *cl = g_hash_table_lookup(g->clients, keys->pdata[i]);
    g_string_append_printf(s, "c %u %" G_GINT64_FORMAT " ", cl->count, cl->last);
    append_escaped(s, keys->pdata[i]);
    g_string_append_c(s, '\n');
  }
  g_ptr_array_free(keys, TRUE);
  return g_string_free(s, FALSE);
}

/* Reads a decimal int64 field ending at a space; advances *P. */
static gboolean read_i64(const char **p, const char *end, int64_t *out) {
  const char *q = *p;
  gboolean neg = q < end && *q == '-';
  if (neg)
    q++;
  if (q >= end || !g_ascii_isdigit(*q))
    return FALSE;
  guint64 v = 0;
  while (q < end && g_ascii_isdigit(*q)) {
    if (v > (G_MAXUINT64 - 9) / 10)
      return FALSE;
    v = v * 10 + (guint64)(*q++ - '0');
  }
  if (q >= end || *q != ' ')
    return FALSE;
  if ((!neg && v > (guint64)INT64_MAX) || (neg && v > (guint64)INT64_MAX + 1))
    return FALSE;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  *p = q + 1;
  return TRUE;
}

gboolean greylist_load(greylist *g, const char *text, gsize len, char **err) {
  GHashTable *tr = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTable *cl = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  const char *p = text, *end = text + len;
  guint line = 0;
  const char *what = NULL;
  while (p < end && !what) {
    const char *nl = memchr(p, '\n', (gsize)(end - p));
    if (!nl) {
      what = "a line ending with LF";
      line++;
      break;
    }
    line++;
    if (line == 1) {
      if ((gsize)(nl - p) != strlen("mailsim-greylist 1") ||
          memcmp(p, "mailsim-greylist 1", (gsize)(nl - p)) != 0)
        what = "\"mailsim-greylist 1\"";
      p = nl + 1;
      continue;
    }
    char kind = *p;
    const char *q = p + 2;
    int64_t a = 0, b = 0;
    if ((kind != 't' && kind != 'c') || nl - p < 2 || p[1] != ' ') {
      what = "\"t\" or \"c\" and a space";
    } else if (!read_i64(&q, nl, &a) || !read_i64(&q, nl, &b)) {
      what = "two integers";
    } else {
      char *key = unescape(q, (gsize)(nl - q));
      if (!key || !*key) {
        what = "a %-escaped key";
      } else if (kind == 't') {
        if (b < a) {
          what = "first <= last";
        } else if (g_hash_table_contains(tr, key)) {
          what = "a key not seen before";
        } else {
          gl_entry *e = g_new(gl_entry, 1);
          e->first = a;
          e->last = b;
          g_hash_table_insert(tr, key, e);
          key = NULL;
        }
      } else {
        if (a < 0 || a > G_MAXUINT) {
          what = "a count 0..4294967295";
        } else if (g_hash_table_contains(cl, key)) {
          what = "a client not seen before";
        } else {
          gl_client *c = g_new(gl_client, 1);
          c->count = (guint)a;
          c->last = b;
          g_hash_table_insert(cl, key, c);
          key = NULL;
        }
      }
      g_free(key);
    }
    p = nl + 1;
  }
  if (!what && line == 0) {
    what = "\"mailsim-greylist 1\"";
    line = 1;
  }
  if (what) {
    if (err)
      *err = g_strdup_printf("line %u: expected %s", line, what);
    g_hash_table_destroy(tr);
    g_hash_table_destroy(cl);
    return FALSE;
  }
  g_hash_table_destroy(g->triplets);
  g_hash_table_destroy(g->clients);
  g->triplets = tr;
  g->clients = cl;
  return TRUE;
}
