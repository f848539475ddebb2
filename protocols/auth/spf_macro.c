/* spf_macro.c — SPF macro strings, RFC 7208 §7.1 (syntax), §7.2 (letters),
 * §7.3 (transformers, delimiters, URL escaping, truncation to 253 octets).
 * The caller provides every value; nothing here touches DNS. */
#include "spf_macro.h"

#include <string.h>

static bool is_letter(char c, bool exp) {
  c = g_ascii_tolower(c);
  if (strchr("slodiphv", c))
    return true;
  return exp && strchr("crt", c); /* §7.2: c, r, t only in "exp" text */
}

static bool is_delim(char c) { return c != '\0' && strchr(".-+,/_=", c) != NULL; }

/* Parses one "%{...}" at S (S[0]=='%', S[1]=='{'): returns its length or 0. */
static size_t parse_expand(const char *s, size_t len, bool exp, char *letter, unsigned *digits,
                           bool *digits_set, bool *reverse, const char **delims, size_t *ndelims) {
  size_t i = 2;
  if (i >= len || !is_letter(s[i], exp))
    return 0;
  *letter = s[i++];
  *digits = 0;
  *digits_set = false;
  while (i < len && g_ascii_isdigit(s[i])) {
    *digits_set = true;
    if (*digits < 1000)
      *digits = *digits * 10 + (unsigned)(s[i] - '0');
    i++;
  }
  /* §7.3: "DIGIT ... must be non-zero" when given. */
  if (*digits_set && *digits == 0)
    return 0;
  *reverse = false;
  if (i < len && (s[i] == 'r' || s[i] == 'R')) {
    *reverse = true;
    i++;
  }
  *delims = s + i;
  size_t d0 = i;
  while (i < len && is_delim(s[i]))
    i++;
  *ndelims = i - d0;
  if (i >= len || s[i] != '}')
    return 0;
  return i + 1;
}

bool spf_macro_valid(const char *s, size_t len, bool exp, bool *ends_with_macro) {
  bool last_macro = false;
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      if (i + 1 >= len)
        return false;
      char n = s[i + 1];
      if (n == '%' || n == '_' || n == '-') {
        i += 2;
        last_macro = true;
        continue;
      }
      if (n != '{')
        return false;
      char letter;
      unsigned digits;
      bool ds, rev;
      const char *dl;
      size_t nd;
      size_t k = parse_expand(s + i, len - i, exp, &letter, &digits, &ds, &rev, &dl, &nd);
      if (k == 0)
        return false;
      i += k;
      last_macro = true;
      continue;
    }
    /* macro-literal = %x21-24 / %x26-7E; explain-strings also allow SP. */
    if (!((c >= 0x21 && c <= 0x7e) || (exp && c == ' ')))
      return false;
    last_macro = false;
    i++;
  }
  if (ends_with_macro)
    *ends_with_macro = last_macro;
  return true;
}

bool spf_macro_uses(const char *s, char letter) {
  for (const char *p = s; *p; p++) {
    if (p[0] == '%' && p[1] == '%') {
      p++;
      continue;
    }
    if (p[0] == '%' && p[1] == '{' && p[2] && g_ascii_tolower(p[2]) == g_ascii_tolower(letter))
      return true;
  }
  return false;
}

static const char *letter_value(char l, const spf_macro_ctx *ctx, char tbuf[32]) {
  switch (g_ascii_tolower(l)) {
  case 's':
    return ctx->sender;
  case 'l':
    return ctx->local;
  case 'o':
    return ctx->sender_domain;
  case 'd':
    return ctx->domain;
  case 'i':
    return ctx->ip_dotted;
  case 'c':
    return ctx->ip_text;
  case 'v':
    return ctx->ip_version;
  case 'h':
    return ctx->helo;
  case 'r':
    return ctx->receiver ? ctx->receiver : "unknown";
  case 'p':
    return ctx->ptr_name;
  case 't':
    g_snprintf(tbuf, 32, "%" G_GINT64_FORMAT, ctx->now_unix);
    return tbuf;
  default:
    g_assert_not_reached();
  }
}

/* §7.3: split on the delimiters, reverse, keep the rightmost DIGITS parts,
 * join with ".". */
static void transform(const char *value, unsigned digits, bool digits_set, bool reverse,
                      const char *delims, size_t ndelims, GString *out) {
  char dset[8] = ".";
  if (ndelims > 0) {
    size_t k = 0;
    for (size_t i = 0; i < ndelims && k < sizeof dset - 1; i++)
      if (!memchr(dset, delims[i], k))
        dset[k++] = delims[i];
    dset[k] = '\0';
  }
  GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
  const char *start = value;
  for (const char *p = value;; p++) {
    if (*p == '\0' || strchr(dset, *p)) {
      g_ptr_array_add(parts, g_strndup(start, (gsize)(p - start)));
      if (*p == '\0')
        break;
      start = p + 1;
    }
  }
  if (reverse) {
    for (guint i = 0, j = parts->len - 1; i < j; i++, j--) {
      gpointer t = parts->pdata[i];
      parts->pdata[i] = parts->pdata[j];
      parts->pdata[j] = t;
    }
  }
  guint first = 0;
  if (digits_set && digits < parts->len)
    first = parts->len - digits;
  for (guint i = first; i < parts->len; i++) {
    if (i > first)
      g_string_append_c(out, '.');
    g_string_append(out, parts->pdata[i]);
  }
  g_ptr_array_free(parts, TRUE);
}

/* §7.3: upper-case letters are URL-escaped (RFC 3986 unreserved kept). */
static void url_escape(const char *v, GString *out) {
  for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
    if (g_ascii_isalnum(*p) || strchr("-._~", *p))
      g_string_append_c(out, (char)*p);
    else
      g_string_append_printf(out, "%%%02X", *p);
  }
}

char *spf_macro_expand(const char *s, const spf_macro_ctx *ctx, bool exp) {
  size_t len = strlen(s);
  if (!spf_macro_valid(s, len, exp, NULL))
    return NULL;
  GString *out = g_string_new(NULL);
  for (size_t i = 0; i < len;) {
    if (s[i] != '%') {
      g_string_append_c(out, s[i++]);
      continue;
    }
    char n = s[i + 1];
    if (n == '%' || n == '_' || n == '-') {
      g_string_append(out, n == '%' ? "%" : n == '_' ? " " : "%20");
      i += 2;
      continue;
    }
    char letter;
    unsigned digits;
    bool ds, rev;
    const char *dl;
    size_t nd;
    size_t k = parse_expand(s + i, len - i, exp, &letter, &digits, &ds, &rev, &dl, &nd);
    char tbuf[32];
    const char *v = letter_value(letter, ctx, tbuf);
    if (!v) {
      g_string_free(out, TRUE);
      return NULL;
    }
    GString *t = g_string_new(NULL);
    transform(v, digits, ds, rev, dl, nd, t);
    if (g_ascii_isupper(letter))
      url_escape(t->str, out);
    else
      g_string_append(out, t->str);
    g_string_free(t, TRUE);
    i += k;
  }
  return g_string_free(out, FALSE);
}

void spf_macro_truncate_domain(GString *d) {
  while (d->len > 253) {
    const char *dot = strchr(d->str, '.');
    if (!dot) {
      g_string_truncate(d, 253);
      return;
    }
    g_string_erase(d, 0, dot - d->str + 1);
  }
}
