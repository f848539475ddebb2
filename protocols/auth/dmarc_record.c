/* dmarc_record.c — RFC 7489 §6.3 (general record format: v=DMARC1 first,
 * p, sp, pct, adkim, aspf, rua, ruf, fo, rf, ri; unknown tags ignored;
 * invalid values replaced by defaults), §6.6.3 (p missing with a valid
 * rua: p=none), §3.2 (organisational domain via a public suffix list). */
#include "dmarc_record.h"

#include <stdlib.h>
#include <string.h>

#include "dkim_tag.h"

static const char *const policy_names[DMARC_POLICY_COUNT] = {"none", "quarantine", "reject"};

const char *dmarc_policy_name(dmarc_policy p) {
  g_assert((unsigned)p < DMARC_POLICY_COUNT);
  return policy_names[p];
}

static bool policy_from(const char *s, dmarc_policy *out) {
  for (unsigned i = 0; s && i < DMARC_POLICY_COUNT; i++) {
    if (g_ascii_strcasecmp(s, policy_names[i]) == 0) {
      *out = (dmarc_policy)i;
      return true;
    }
  }
  return false;
}

bool dmarc_record_is_dmarc(const char *text, size_t len) {
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (len - i < 8 || strncmp(text + i, "v=DMARC1", 8) != 0)
    return false;
  i += 8;
  while (i < len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  return i == len || text[i] == ';';
}

/* rua/ruf: comma-separated URIs; each must have a scheme (§6.2). */
static GPtrArray *uri_list(const char *v, bool *valid) {
  GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
  *valid = false;
  if (!v)
    return a;
  char **parts = g_strsplit(v, ",", -1);
  *valid = true;
  for (char **p = parts; *p; p++) {
    char *u = g_strstrip(*p);
    if (!strchr(u, ':') || !g_ascii_isalpha(u[0])) {
      *valid = false;
      continue;
    }
    g_ptr_array_add(a, g_strdup(u));
  }
  g_strfreev(parts);
  if (a->len == 0)
    *valid = false;
  return a;
}

void dmarc_record_free(dmarc_record *r) {
  if (!r)
    return;
  g_ptr_array_free(r->rua, TRUE);
  g_ptr_array_free(r->ruf, TRUE);
  g_free(r->fo);
  g_free(r->rf);
  g_free(r);
}

dmarc_record *dmarc_record_parse(const char *text, size_t len) {
  if (!dmarc_record_is_dmarc(text, len))
    return NULL;
  dkim_tag_list tl;
  if (!dkim_tag_list_parse(&tl, text, len, true) || strcmp(dkim_tag_first(&tl), "v") != 0) {
    dkim_tag_list_clear(&tl);
    return NULL;
  }
  dmarc_record *r = g_new0(dmarc_record, 1);
  bool rua_ok, ruf_ok;
  r->rua = uri_list(dkim_tag_get(&tl, "rua"), &rua_ok);
  r->ruf = uri_list(dkim_tag_get(&tl, "ruf"), &ruf_ok);
  if (!policy_from(dkim_tag_get(&tl, "p"), &r->p)) {
    if (!rua_ok) {
      dkim_tag_list_clear(&tl);
      dmarc_record_free(r);
      return NULL;
    }
    r->p = DMARC_POLICY_NONE;
  }
  r->has_sp = policy_from(dkim_tag_get(&tl, "sp"), &r->sp);
  if (!r->has_sp)
    r->sp = r->p;
  r->pct = 100;
  const char *pct = dkim_tag_get(&tl, "pct");
  if (pct && *pct && strspn(pct, "0123456789") == strlen(pct) && strlen(pct) <= 3 &&
      atoi(pct) <= 100)
    r->pct = atoi(pct);
  const char *ad = dkim_tag_get(&tl, "adkim"), *as = dkim_tag_get(&tl, "aspf");
  r->adkim_strict = ad && g_ascii_strcasecmp(ad, "s") == 0;
  r->aspf_strict = as && g_ascii_strcasecmp(as, "s") == 0;
  const char *fo = dkim_tag_get(&tl, "fo"), *rf = dkim_tag_get(&tl, "rf");
  r->fo = g_strdup(fo ? fo : "0");
  r->rf = g_strdup(rf ? rf : "afrf");
  r->ri = 86400;
  const char *ri = dkim_tag_get(&tl, "ri");
  if (ri && *ri && strspn(ri, "0123456789") == strlen(ri) && strlen(ri) <= 9)
    r->ri = (unsigned)atol(ri);
  dkim_tag_list_clear(&tl);
  return r;
}

char *dmarc_org_domain(const char *domain, const char *const *suffixes, size_t n) {
  char *d = g_ascii_strdown(domain, -1);
  size_t len = strlen(d);
  if (len && d[len - 1] == '.')
    d[--len] = '\0';
  /* Longest matching public suffix, in labels. */
  size_t best = 0; /* offset where the suffix starts; 0 with best_len 0 = none */
  size_t best_len = 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = suffixes[i];
    size_t sl = strlen(s);
    if (sl && s[sl - 1] == '.')
      sl--;
    if (sl == 0 || sl > len || g_ascii_strncasecmp(d + len - sl, s, sl) != 0)
      continue;
    if (sl < len && d[len - sl - 1] != '.')
      continue;
    if (sl > best_len) {
      best_len = sl;
      best = len - sl;
    }
  }
  if (best_len == 0) { /* default rule "*": the last label */
    const char *dot = strrchr(d, '.');
    best = dot ? (size_t)(dot - d) + 1 : 0;
    best_len = len - best;
  }
  if (best == 0) /* the domain is a public suffix */
    return d;
  /* one more label to the left */
  size_t start = best - 1; /* the dot before the suffix */
  while (start > 0 && d[start - 1] != '.')
    start--;
  char *org = g_strdup(d + start);
  g_free(d);
  return org;
}
