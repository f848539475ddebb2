/* authres.c — RFC 8601 Authentication-Results: §2.2 syntax (authserv-id,
 * resinfo "method=result [reason=...] *(ptype.property=pvalue)", "none"
 * when there is no result), §2.7 the spf, dkim and dmarc methods and their
 * properties (RFC 6008 header.b, RFC 7489 §11.2 dmarc), §5 removal of
 * fields claiming our authserv-id. */
#include "authres.h"

#include <string.h>

typedef struct {
  char *method, *result, *reason, *comment;
  GPtrArray *props; /* of char* "ptype.property=value" */
} resinfo;

struct authres {
  char *id;
  GArray *infos; /* of resinfo */
};

authres *authres_new(const char *authserv_id) {
  g_assert(authserv_id && *authserv_id);
  authres *a = g_new0(authres, 1);
  a->id = g_strdup(authserv_id);
  a->infos = g_array_new(FALSE, TRUE, sizeof(resinfo));
  return a;
}

void authres_free(authres *a) {
  if (!a)
    return;
  for (guint i = 0; i < a->infos->len; i++) {
    resinfo *r = &g_array_index(a->infos, resinfo, i);
    g_free(r->method);
    g_free(r->result);
    g_free(r->reason);
    g_free(r->comment);
    g_ptr_array_free(r->props, TRUE);
  }
  g_array_free(a->infos, TRUE);
  g_free(a->id);
  g_free(a);
}

void authres_add(authres *a, const char *method, const char *result, const char *reason,
                 const char *comment) {
  resinfo r = {g_strdup(method), g_strdup(result), g_strdup(reason), g_strdup(comment),
               g_ptr_array_new_with_free_func(g_free)};
  g_array_append_val(a->infos, r);
}

/* RFC 2045 token characters (§2.2 "value" is token / quoted-string). */
static bool is_token_char(char c) {
  return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* A dot-atom of RFC 5322 atext. */
static bool is_dot_atom(const char *s, size_t n) {
  if (n == 0 || s[0] == '.' || s[n - 1] == '.')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.' ? s[i + 1] == '.' : !(g_ascii_isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c)))
      return false;
  }
  return true;
}

static void append_quoted(GString *o, const char *v) {
  g_string_append_c(o, '"');
  for (const char *p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(o, '\\');
    if ((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f)
      g_string_append_c(o, *p);
  }
  g_string_append_c(o, '"');
}

/* pvalue = [ [ local-part ] "@" ] domain-name / value (§2.2). */
static void append_pvalue(GString *o, const char *v) {
  bool token = *v != '\0';
  for (const char *p = v; *p && token; p++)
    token = is_token_char(*p);
  const char *at = strrchr(v, '@');
  bool addr =
      at && is_dot_atom(at + 1, strlen(at + 1)) && (at == v || is_dot_atom(v, (size_t)(at - v)));
  if (token || addr)
    g_string_append(o, v);
  else
    append_quoted(o, v);
}

void authres_add_prop(authres *a, const char *ptype, const char *property, const char *value) {
  if (a->infos->len == 0)
    g_error("authres_add_prop: no resinfo to add %s.%s to", ptype, property);
  resinfo *r = &g_array_index(a->infos, resinfo, a->infos->len - 1);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "%s.%s=", ptype, property);
  append_pvalue(s, value ? value : "");
  g_ptr_array_add(r->props, g_string_free(s, FALSE));
}

void authres_add_spf(authres *a, const spf_check *c) {
  spf_result r = spf_check_result(c);
  authres_add(a, "spf", spf_result_name(r), spf_check_problem(c), NULL);
  /* §2.7.2: the HELO identity, and the null path (whose check is of
   * postmaster@HELO), are reported as smtp.helo. */
  if (spf_check_identity(c) == SPF_ID_HELO || spf_check_mailfrom(c)[0] == '\0')
    authres_add_prop(a, "smtp", "helo", spf_check_helo(c));
  else
    authres_add_prop(a, "smtp", "mailfrom", spf_check_mailfrom(c));
}

void authres_add_dkim(authres *a, const dkim_verify *v) {
  size_t n = dkim_verify_count(v);
  if (n == 0) {
    authres_add(a, "dkim", "none", NULL, NULL);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const dkim_sig_result *r = dkim_verify_get(v, i);
    authres_add(a, "dkim", dkim_result_name(r->result), r->reason, NULL);
    if (r->domain)
      authres_add_prop(a, "header", "d", r->domain);
    if (r->identity)
      authres_add_prop(a, "header", "i", r->identity);
    if (r->selector)
      authres_add_prop(a, "header", "s", r->selector);
    if (r->algorithm)
      authres_add_prop(a, "header", "a", r->algorithm);
    if (r->b_prefix && *r->b_prefix)
      authres_add_prop(a, "header", "b", r->b_prefix);
  }
}

void authres_add_dmarc(authres *a, const dmarc_check *c) {
  dmarc_result r = dmarc_check_result(c);
  char *comment = NULL;
  if (dmarc_check_record(c))
    comment = g_strdup_printf("p=%s dis=%s", dmarc_policy_name(dmarc_check_policy(c)),
                              dmarc_policy_name(dmarc_check_disposition(c)));
  authres_add(a, "dmarc", dmarc_result_name(r), NULL, comment);
  g_free(comment);
  authres_add_prop(a, "header", "from", dmarc_check_from_domain(c));
}

static void append_comment(GString *o, const char *c) {
  g_string_append_c(o, '(');
  for (const char *p = c; *p; p++) {
    if (*p == '(' || *p == ')' || *p == '\\')
      g_string_append_c(o, '\\');
    if ((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f)
      g_string_append_c(o, *p);
  }
  g_string_append_c(o, ')');
}

char *authres_header(const authres *a) {
  GString *o = g_string_new("Authentication-Results: ");
  append_pvalue(o, a->id);
  if (a->infos->len == 0) {
    g_string_append(o, "; none\r\n");
    return g_string_free(o, FALSE);
  }
  for (guint i = 0; i < a->infos->len; i++) {
    const resinfo *r = &g_array_index(a->infos, resinfo, i);
    g_string_append(o, ";\r\n\t");
    g_string_append_printf(o, "%s=%s", r->method, r->result);
    if (r->comment) {
      g_string_append_c(o, ' ');
      append_comment(o, r->comment);
    }
    if (r->reason) {
      g_string_append(o, " reason=");
      append_quoted(o, r->reason);
    }
    for (guint k = 0; k < r->props->len; k++)
      g_string_append_printf(o, " %s", (char *)r->props->pdata[k]);
  }
  g_string_append(o, "\r\n");
  return g_string_free(o, FALSE);
}

/* Skips CFWS (RFC 5322 §3.2.2: WSP, line breaks, nested comments). */
static size_t skip_cfws(const char *s, size_t i, size_t len) {
  int depth = 0;
  while (i < len) {
    char c = s[i];
    if (depth > 0) {
      if (c == '\\' && i + 1 < len)
        i++;
      else if (c == '(')
        depth++;
      else if (c == ')')
        depth--;
      i++;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      i++;
    else if (c == '(') {
      depth++;
      i++;
    } else
      break;
  }
  return i;
}

char *authres_authserv_id(const char *value, size_t len) {
  size_t i = skip_cfws(value, 0, len);
  if (i >= len)
    return NULL;
  GString *o = g_string_new(NULL);
  if (value[i] == '"') {
    for (i++; i < len && value[i] != '"'; i++) {
      if (value[i] == '\\' && i + 1 < len)
        i++;
      if (value[i] != '\r' && value[i] != '\n')
        g_string_append_c(o, value[i]);
    }
    if (i >= len) {
      g_string_free(o, TRUE);
      return NULL;
    }
  } else {
    /* a token; domain names are tokens too (dots allowed) */
    while (i < len && (is_token_char(value[i]) || value[i] == '@' || value[i] == '/'))
      g_string_append_c(o, value[i++]);
  }
  if (o->len == 0) {
    g_string_free(o, TRUE);
    return NULL;
  }
  return g_string_free(o, FALSE);
}

char *authres_strip(const char *msg, size_t len, const char *authserv_id, size_t *out_len,
                    unsigned *removed) {
  GString *o = g_string_sized_new(len);
  unsigned n = 0;
  size_t i = 0;
  while (i < len) {
    /* one field: a line and its continuation lines */
    const char *nl = memchr(msg + i, '\n', len - i);
    size_t end = nl ? (size_t)(nl - msg) + 1 : len;
    if (end - i == 1 || (end - i == 2 && msg[i] == '\r')) /* the empty line ends the header */
      break;
    while (end < len && (msg[end] == ' ' || msg[end] == '\t')) {
      nl = memchr(msg + end, '\n', len - end);
      end = nl ? (size_t)(nl - msg) + 1 : len;
    }
    const char *f = msg + i;
    size_t flen = end - i;
    const char *colon = memchr(f, ':', flen);
    bool drop = false;
    if (colon) {
      size_t nlen = (size_t)(colon - f);
      while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
        nlen--;
      if (nlen == 22 && g_ascii_strncasecmp(f, "Authentication-Results", 22) == 0) {
        char *id = authres_authserv_id(colon + 1, flen - (size_t)(colon + 1 - f));
        drop = id && g_ascii_strcasecmp(id, authserv_id) == 0;
        g_free(id);
      }
    }
    if (drop)
      n++;
    else
      g_string_append_len(o, f, (gssize)flen);
    i = end;
  }
  g_string_append_len(o, msg + i, (gssize)(len - i));
  if (removed)
    *removed = n;
  *out_len = o->len;
  return g_string_free(o, FALSE);
}
