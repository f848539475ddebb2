/* scn_filters.c — scenario keys for the checks of issue 7: an MX's
 * greylisting (Postgrey's settings), DNS blocklists (RFC 5782), spam
 * thresholds, rule weights and subject keywords, the DMARC public-suffix
 * list (RFC 7489 §3.2); a blocklist zone's listed addresses; a user's
 * Sieve script (RFC 5228) and a mailbox host's spam folder.
 *
 * Scores are written in points with at most one decimal ("5.0", 2.6) and
 * kept in integer tenths, as protocols/filter/spam.h counts them: no
 * floating point goes further than this file. */
#include <math.h>
#include <string.h>

#include "dnsbl.h"
#include "scn_mail_int.h"
#include "sieve.h"
#include "spam.h"

/* A score in points at KEY: a JSON number with at most one decimal, in
 * [-1000, 10000] points, into tenths. Absent (and optional): false, no
 * error, *OUT untouched. */
static bool tenths_at(scn_json_ctx *x, const cJSON *obj, const char *path, const char *key,
                      int *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v)
    return false;
  double t = cJSON_IsNumber(v) ? v->valuedouble * 10.0 : NAN;
  if (!cJSON_IsNumber(v) || !isfinite(t) || fabs(t - nearbyint(t)) > 1e-6 || t < -10000.0 ||
      t > 100000.0) {
    char *p = scn_json_key_path(path, key);
    scn_json_fail(x, p,
                  "expected a score in points with at most one decimal, like 5.0 "
                  "(-1000 to 10000)");
    g_free(p);
    return false;
  }
  *out = (int)nearbyint(t);
  return true;
}

/* The non-empty strings at KEY (optional): NULL if absent. */
static GPtrArray *strings_at(scn_json_ctx *x, const cJSON *obj, const char *path, const char *key) {
  return scn_json_strings(x, obj, path, key, false, true, "a non-empty string");
}

static void dnsbl_clear(void *p) {
  scn_dnsbl *d = p;
  g_free(d->zone);
  g_free(d->rule);
}

static void weight_clear(void *p) { g_free(((scn_rule_weight *)p)->name); }

/* mta.greylist: false, or {"delay", "retry_window", "max_age",
 * "auto_whitelist_clients"}. */
static void load_greylist(scn_json_ctx *x, scn_mta *m, const cJSON *mo, const char *path) {
  static const char *const keys[] = {"delay", "retry_window", "max_age", "auto_whitelist_clients",
                                     NULL};
  const cJSON *g = cJSON_GetObjectItemCaseSensitive(mo, "greylist");
  if (!g)
    return;
  char *p = scn_json_key_path(path, "greylist");
  if (cJSON_IsFalse(g)) {
    m->filt.greylist_off = true;
  } else if (!cJSON_IsObject(g) && !cJSON_IsTrue(g)) {
    scn_json_fail(x, p,
                  "expected false or an object {\"delay\", \"retry_window\", \"max_age\", "
                  "\"auto_whitelist_clients\"}");
  } else if (cJSON_IsObject(g) && scn_json_known_keys(x, g, p, keys) &&
             scn_json_duration(x, g, p, "delay", false, &m->greylist_delay) &&
             scn_json_duration(x, g, p, "retry_window", false, &m->filt.gl_retry_window) &&
             scn_json_duration(x, g, p, "max_age", false, &m->filt.gl_max_age) &&
             scn_json_int(x, g, p, "auto_whitelist_clients", false, 0, 1000000,
                          &m->filt.gl_awl_clients)) {
    if (m->greylist_delay < 0 || m->filt.gl_retry_window < 0 || m->filt.gl_max_age < 0)
      scn_json_fail(x, p, "durations must not be negative");
  }
  g_free(p);
}

/* mta.dnsbl: [{"zone", "mode": "reject"|"score", "weight", "rule"}]. */
static void load_dnsbl(scn_json_ctx *x, scn_mta *m, const cJSON *mo, const char *path) {
  static const char *const keys[] = {"zone", "mode", "weight", "rule", NULL};
  m->filt.dnsbl = g_array_new(FALSE, TRUE, sizeof(scn_dnsbl));
  g_array_set_clear_func(m->filt.dnsbl, dnsbl_clear);
  const cJSON *arr;
  if (!scn_json_array(x, mo, path, "dnsbl", false, &arr) || !arr)
    return;
  int i = 0;
  for (const cJSON *it = arr->child; it && scn_json_ok(x); it = it->next, i++) {
    char *p = g_strdup_printf("%s.dnsbl[%d]", path, i);
    scn_dnsbl d = {.weight = 26};
    char *mode = NULL;
    if (!cJSON_IsObject(it))
      scn_json_fail(x, p, "expected {\"zone\", \"mode\", \"weight\"}");
    else if (scn_json_known_keys(x, it, p, keys) &&
             scn_json_string(x, it, p, "zone", true, &d.zone) &&
             scn_json_string(x, it, p, "mode", false, &mode) &&
             scn_json_string(x, it, p, "rule", false, &d.rule)) {
      tenths_at(x, it, p, "weight", &d.weight);
      if (mode && strcmp(mode, "reject") == 0)
        d.reject = true;
      else if (mode && strcmp(mode, "score") != 0)
        scn_json_fail(x, p, "\"mode\": expected \"reject\" (554 at RCPT) or \"score\", got \"%s\"",
                      mode);
      if (scn_json_ok(x) && g_str_has_suffix(d.zone, "."))
        d.zone[strlen(d.zone) - 1] = '\0';
      char *probe = scn_json_ok(x) ? dnsbl_query_name("192.0.2.1", d.zone) : NULL;
      if (scn_json_ok(x) && (!probe || !*d.zone))
        scn_json_fail(x, p, "\"zone\": \"%s\" is not a valid domain name", d.zone);
      g_free(probe);
      if (d.rule && scn_json_ok(x)) {
        spam_rule r;
        if (spam_rule_parse(d.rule, &r))
          scn_json_fail(x, p, "\"rule\": \"%s\" is a built-in rule's name", d.rule);
      }
    }
    g_free(mode);
    g_array_append_val(m->filt.dnsbl, d);
    g_free(p);
  }
}

/* mta.spam: {"tag", "reject", "rules": {NAME: points}, "subject_keywords"}. */
static void load_spam(scn_json_ctx *x, scn_mta *m, const cJSON *mo, const char *path) {
  static const char *const keys[] = {"tag", "reject", "rules", "subject_keywords", NULL};
  m->filt.rule_weights = g_array_new(FALSE, TRUE, sizeof(scn_rule_weight));
  g_array_set_clear_func(m->filt.rule_weights, weight_clear);
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(mo, "spam");
  if (!s)
    return;
  char *p = scn_json_key_path(path, "spam");
  if (!cJSON_IsObject(s)) {
    scn_json_fail(x, p,
                  "expected an object {\"tag\", \"reject\", \"rules\", \"subject_keywords\"}");
  } else if (scn_json_known_keys(x, s, p, keys)) {
    m->filt.has_tag = tenths_at(x, s, p, "tag", &m->filt.spam_tag);
    const cJSON *rj = cJSON_GetObjectItemCaseSensitive(s, "reject");
    if (cJSON_IsNull(rj)) {
      m->filt.has_reject = true;
      m->filt.spam_reject = SPAM_NO_REJECT;
    } else {
      m->filt.has_reject = tenths_at(x, s, p, "reject", &m->filt.spam_reject);
    }
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(s, "rules");
    char *rp = scn_json_key_path(p, "rules");
    if (rules && !cJSON_IsObject(rules))
      scn_json_fail(x, rp, "expected an object of rule names and scores, like {\"GTUBE\": 1000}");
    for (const cJSON *r = rules ? rules->child : NULL; r && scn_json_ok(x); r = r->next) {
      spam_rule id;
      scn_rule_weight w = {0};
      if (!spam_rule_parse(r->string, &id)) {
        GString *names = g_string_new(NULL);
        for (int k = 0; k < SPAM_RULE_COUNT; k++)
          g_string_append_printf(names, "%s%s", k ? ", " : "", spam_rule_name((spam_rule)k));
        scn_json_fail(x, rp, "unknown rule \"%s\" (expected one of %s)", r->string, names->str);
        g_string_free(names, TRUE);
      } else if (tenths_at(x, rules, rp, r->string, &w.tenths)) {
        w.name = g_strdup(r->string);
        g_array_append_val(m->filt.rule_weights, w);
      }
    }
    g_free(rp);
    m->filt.subject_keywords = strings_at(x, s, p, "subject_keywords");
    if (scn_json_ok(x) && m->filt.has_tag && m->filt.has_reject &&
        m->filt.spam_reject < m->filt.spam_tag)
      scn_json_fail(x, p, "\"reject\" must not be below \"tag\"");
  }
  g_free(p);
}

void scn__filters_mta(scn_json_ctx *x, scn_mta *m, const cJSON *mo, const char *path) {
  m->filt.gl_awl_clients = -1;
  load_greylist(x, m, mo, path);
  load_dnsbl(x, m, mo, path);
  load_spam(x, m, mo, path);
  m->filt.public_suffixes = strings_at(x, mo, path, "public_suffixes");
  bool any = cJSON_GetObjectItemCaseSensitive(mo, "greylist") ||
             cJSON_GetObjectItemCaseSensitive(mo, "greylist_delay") || m->filt.dnsbl->len ||
             cJSON_GetObjectItemCaseSensitive(mo, "spam") || m->filt.public_suffixes;
  if (scn_json_ok(x) && any && !m->filters)
    scn_json_fail(x, path,
                  "\"greylist\", \"greylist_delay\", \"dnsbl\", \"spam\" and "
                  "\"public_suffixes\" need \"filters\": true");
}

void scn__filters_mta_clear(scn_mta *m) {
  if (m->filt.dnsbl)
    g_array_unref(m->filt.dnsbl);
  if (m->filt.rule_weights)
    g_array_unref(m->filt.rule_weights);
  if (m->filt.subject_keywords)
    g_ptr_array_unref(m->filt.subject_keywords);
  if (m->filt.public_suffixes)
    g_ptr_array_unref(m->filt.public_suffixes);
}

/* zones[].listed: addresses listed in a blocklist zone. Each gets the
 * RFC 5782 §2.1 entry: the reversed octets (IPv6: §2.4 nibbles) under the
 * origin with A 127.0.0.2 and a TXT reason. */
void scn__filters_zone(scn_json_ctx *x, scn_zone *z, const cJSON *it, const char *path) {
  GPtrArray *listed = strings_at(x, it, path, "listed");
  if (!listed)
    return;
  for (guint i = 0; i < listed->len && scn_json_ok(x); i++) {
    const char *ip = listed->pdata[i];
    char *name = dnsbl_query_name(ip, z->origin);
    if (!name) {
      char *p = g_strdup_printf("%s.listed[%u]", path, i);
      scn_json_fail(x, p, "expected an IPv4 or IPv6 address, got \"%s\"", ip);
      g_free(p);
      break;
    }
    g_ptr_array_add(z->records, g_strdup_printf("%s 300 IN A 127.0.0.2", name));
    g_ptr_array_add(z->records,
                    g_strdup_printf("%s 300 IN TXT \"%s listed in %s\"", name, ip, z->origin));
    g_free(name);
  }
  g_ptr_array_unref(listed);
}

/* users[].sieve (inline text) or .sieve_file (relative to the scenario). */
void scn__filters_user(scn_json_ctx *x, const scn_config *c, scn_user *u, const cJSON *it,
                       const char *path) {
  char *file = NULL;
  if (!scn_json_string(x, it, path, "sieve", false, &u->sieve) ||
      !scn_json_string(x, it, path, "sieve_file", false, &file))
    return;
  if (u->sieve && file) {
    scn_json_fail(x, path, "give \"sieve\" or \"sieve_file\", not both");
  } else if (file) {
    char *dir = g_path_get_dirname(c->file ? c->file : ".");
    char *full = g_path_is_absolute(file) ? g_strdup(file) : g_build_filename(dir, file, NULL);
    GError *e = NULL;
    if (!g_file_get_contents(full, &u->sieve, NULL, &e)) {
      scn_json_fail(x, path, "\"sieve_file\": cannot read %s: %s", full, e->message);
      g_error_free(e);
    }
    g_free(full);
    g_free(dir);
  }
  if (u->sieve && scn_json_ok(x)) {
    char *err = NULL;
    sieve_script *s = sieve_parse(u->sieve, strlen(u->sieve), &err);
    if (!s)
      scn_json_fail(x, path, "\"%s\": %s (RFC 5228 subset, protocols/sieve/sieve.h)",
                    file ? "sieve_file" : "sieve", err ? err : "not a Sieve script");
    sieve_script_free(s);
    g_free(err);
  }
  g_free(file);
}

void scn__filters_check(scn_json_ctx *x, const scn_config *c) {
  for (guint i = 0; i < c->hosts->len && scn_json_ok(x); i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    const GArray *bl = h->mta.filt.dnsbl;
    for (guint k = 0; bl && k < bl->len && scn_json_ok(x); k++) {
      const scn_dnsbl *d = &g_array_index(bl, scn_dnsbl, k);
      char *name = g_strdup_printf("%s.", d->zone);
      if (!scn_zone_for(c, name) || !strcmp(scn_zone_for(c, name)->origin, ".")) {
        char *p = g_strdup_printf("$.hosts[%u].mta.dnsbl[%u]", i, k);
        scn_json_fail(x, p,
                      "\"zone\": no zone in $.zones holds %s (the blocklist's entries "
                      "are published there)",
                      name);
        g_free(p);
      }
      g_free(name);
    }
  }
  for (guint i = 0; i < c->users->len && scn_json_ok(x); i++) {
    const scn_user *u = &g_array_index(c->users, scn_user, i);
    if (u->sieve && !u->mailbox) {
      char *p = scn_json_index_path("$.users", (int)i);
      scn_json_fail(x, p, "a Sieve script needs a \"mailbox\" host to run on");
      g_free(p);
    }
  }
}
