/* mime_lex.c — the small lexer under every structured header field.
 *
 * RFC 5322 §3.2.1 quoted-pair, §3.2.2 FWS and comments (nesting allowed),
 * §3.2.3 atext, §3.2.4 quoted-string, §3.4.1 domain-literal; RFC 2045 §5.1
 * MIME tokens. The readers are tolerant: an unterminated comment or quoted
 * string runs to the end of the value instead of failing, because header
 * values come from outside and must never stop a parse. */
#include "mime_int.h"

#include <string.h>

gboolean mime__is_atext(unsigned char c) {
  if (c >= 0x80)
    return TRUE;
  if (g_ascii_isalnum(c))
    return TRUE;
  return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

gboolean mime__is_token_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f)
    return FALSE;
  return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

gboolean mime__skip_cfws(const char *s, gsize len, gsize *pos, GString *comment) {
  gsize p = *pos;
  gboolean any = FALSE;
  while (p < len) {
    char c = s[p];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      p++;
      any = TRUE;
      continue;
    }
    if (c != '(')
      break;
    /* RFC 5322 §3.2.2: comments nest; quoted-pair escapes anything. */
    int depth = 0;
    if (comment && comment->len > 0)
      g_string_append_c(comment, ' ');
    while (p < len) {
      c = s[p];
      if (c == '\\' && p + 1 < len) {
        if (comment)
          g_string_append_c(comment, s[p + 1]);
        p += 2;
        continue;
      }
      p++;
      if (c == '(') {
        if (depth > 0 && comment)
          g_string_append_c(comment, c);
        depth++;
      } else if (c == ')') {
        depth--;
        if (depth == 0)
          break;
        if (comment)
          g_string_append_c(comment, c);
      } else if (comment && c != '\r' && c != '\n') {
        g_string_append_c(comment, c);
      }
    }
    any = TRUE;
  }
  *pos = p;
  return any;
}

gboolean mime__read_atom(const char *s, gsize len, gsize *pos, GString *out) {
  gsize p = *pos;
  while (p < len && mime__is_atext((unsigned char)s[p]))
    p++;
  if (p == *pos)
    return FALSE;
  g_string_append_len(out, s + *pos, (gssize)(p - *pos));
  *pos = p;
  return TRUE;
}

gboolean mime__read_token(const char *s, gsize len, gsize *pos, GString *out) {
  gsize p = *pos;
  while (p < len && mime__is_token_char((unsigned char)s[p]))
    p++;
  if (p == *pos)
    return FALSE;
  g_string_append_len(out, s + *pos, (gssize)(p - *pos));
  *pos = p;
  return TRUE;
}

gboolean mime__read_qstring(const char *s, gsize len, gsize *pos, GString *out, gboolean *closed) {
  gsize p = *pos;
  if (p >= len || s[p] != '"')
    return FALSE;
  p++;
  gboolean ok = FALSE;
  while (p < len) {
    char c = s[p];
    if (c == '\\' && p + 1 < len) {
      g_string_append_c(out, s[p + 1]);
      p += 2;
      continue;
    }
    p++;
    if (c == '"') {
      ok = TRUE;
      break;
    }
    /* RFC 5322 §3.2.2: folding (CRLF before WSP) is not part of the value. */
    if (c == '\r' || c == '\n')
      continue;
    g_string_append_c(out, c);
  }
  if (closed)
    *closed = ok;
  *pos = p;
  return TRUE;
}

gboolean mime__read_dliteral(const char *s, gsize len, gsize *pos, GString *out) {
  gsize p = *pos;
  if (p >= len || s[p] != '[')
    return FALSE;
  while (p < len) {
    char c = s[p++];
    if (c == '\\' && p < len) {
      g_string_append_c(out, s[p++]);
      continue;
    }
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
      continue;
    g_string_append_c(out, c);
    if (c == ']')
      break;
  }
  *pos = p;
  return TRUE;
}

char *mime__to_utf8(const char *charset, const char *bytes, gsize len) {
  if (!charset || !*charset || g_ascii_strcasecmp(charset, "us-ascii") == 0 ||
      g_ascii_strcasecmp(charset, "ascii") == 0) {
    for (gsize i = 0; i < len; i++)
      if ((unsigned char)bytes[i] >= 0x80 || bytes[i] == 0)
        return NULL;
    return g_strndup(bytes, len);
  }
  if (g_ascii_strcasecmp(charset, "utf-8") == 0 || g_ascii_strcasecmp(charset, "utf8") == 0) {
    if (memchr(bytes, 0, len) || !g_utf8_validate(bytes, (gssize)len, NULL))
      return NULL;
    return g_strndup(bytes, len);
  }
  gsize in_read = 0, out_len = 0;
  char *r = g_convert(bytes, (gssize)len, "UTF-8", charset, &in_read, &out_len, NULL);
  if (r && (in_read != len || memchr(r, 0, out_len))) {
    g_free(r);
    return NULL;
  }
  return r;
}

char *mime__utf8_sanitize(const char *bytes, gsize len) {
  /* Printable ASCII and controls but NUL: valid as it is (the usual
   * header value and text), one copy. */
  gsize i = 0;
  while (i < len && (guchar)(bytes[i] - 1) < 0x7f)
    i++;
  if (i == len)
    return g_strndup(bytes, len);
  GString *out = g_string_sized_new(len);
  const char *p = bytes, *end = bytes + len;
  while (p < end) {
    const char *bad = NULL;
    if (g_utf8_validate(p, end - p, &bad) && !memchr(p, 0, (gsize)(end - p))) {
      g_string_append_len(out, p, end - p);
      break;
    }
    const char *stop = bad;
    const char *nul = memchr(p, 0, (gsize)(end - p));
    if (nul && nul < stop)
      stop = nul;
    g_string_append_len(out, p, stop - p);
    g_string_append(out, "\xEF\xBF\xBD");
    p = stop + 1;
  }
  return g_string_free(out, FALSE);
}

void mime__append_word(GString *out, const char *s, gboolean phrase) {
  gboolean plain = *s != 0;
  gboolean last_dot = TRUE;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (phrase && c == ' ' && p[1] != ' ' && p[1] != 0 && p != s) {
      last_dot = TRUE;
      continue;
    }
    if (c == '.' && !phrase && !last_dot && p[1] != 0) {
      last_dot = TRUE;
      continue;
    }
    if (!mime__is_atext(c)) {
      plain = FALSE;
      break;
    }
    last_dot = FALSE;
  }
  if (plain && !last_dot) {
    g_string_append(out, s);
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(out, '\\');
    g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}

gboolean mime__plain_addr_spec(const char *v) {
  const char *at = strchr(v, '@');
  if (!at || at == v || !at[1])
    return FALSE;
  gboolean last_dot = TRUE;
  for (const char *p = v; p < at; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '.') {
      if (last_dot)
        return FALSE;
      last_dot = TRUE;
    } else if (c < 0x80 && mime__is_atext(c)) {
      last_dot = FALSE;
    } else {
      return FALSE;
    }
  }
  if (last_dot)
    return FALSE;
  for (const char *p = at + 1; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c != '.' && !(c < 0x80 && mime__is_atext(c)))
      return FALSE;
  }
  return TRUE;
}
