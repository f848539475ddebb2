/* mime_imap_grammar.h — test helper: checks a string against the RFC 3501
 * §9 grammar of body (BODYSTRUCTURE with extension data) and envelope, so
 * tests and fuzz loops can assert that whatever the parser met, the IMAP
 * strings stay well-formed. Header-only (static functions). */
#ifndef MAILSIM_MIME_IMAP_GRAMMAR_H
#define MAILSIM_MIME_IMAP_GRAMMAR_H

#include <glib.h>
#include <string.h>

typedef struct {
  const char *s;
  gsize len, pos;
} ig_cur;

static gboolean ig_lit(ig_cur *c, const char *t) {
  gsize n = strlen(t);
  if (c->pos + n > c->len || g_ascii_strncasecmp(c->s + c->pos, t, n) != 0)
    return FALSE;
  c->pos += n;
  return TRUE;
}

static gboolean ig_sp(ig_cur *c) { return ig_lit(c, " "); }

/* string = quoted / literal; *out gets the content (may be NULL). */
static gboolean ig_string(ig_cur *c, GString *out) {
  if (c->pos < c->len && c->s[c->pos] == '"') {
    c->pos++;
    while (c->pos < c->len && c->s[c->pos] != '"') {
      char ch = c->s[c->pos];
      if (ch == '\r' || ch == '\n' || (unsigned char)ch >= 0x80)
        return FALSE;
      if (ch == '\\') {
        c->pos++;
        if (c->pos >= c->len || (c->s[c->pos] != '"' && c->s[c->pos] != '\\'))
          return FALSE;
        ch = c->s[c->pos];
      }
      if (out)
        g_string_append_c(out, ch);
      c->pos++;
    }
    return ig_lit(c, "\"");
  }
  if (c->pos < c->len && c->s[c->pos] == '{') {
    c->pos++;
    guint64 n = 0;
    gsize d = 0;
    while (c->pos < c->len && g_ascii_isdigit(c->s[c->pos])) {
      n = n * 10 + (guint64)(c->s[c->pos++] - '0');
      d++;
    }
    if (!d || !ig_lit(c, "}\r\n") || c->pos + n > c->len)
      return FALSE;
    if (out)
      g_string_append_len(out, c->s + c->pos, (gssize)n);
    c->pos += n;
    return TRUE;
  }
  return FALSE;
}

static gboolean ig_nstring(ig_cur *c) { return ig_lit(c, "NIL") || ig_string(c, NULL); }

static gboolean ig_number(ig_cur *c) {
  gsize a = c->pos;
  while (c->pos < c->len && g_ascii_isdigit(c->s[c->pos]))
    c->pos++;
  return c->pos > a;
}

static gboolean ig_params(ig_cur *c) {
  if (ig_lit(c, "NIL"))
    return TRUE;
  if (!ig_lit(c, "(") || !ig_string(c, NULL) || !ig_sp(c) || !ig_string(c, NULL))
    return FALSE;
  while (ig_sp(c))
    if (!ig_string(c, NULL) || !ig_sp(c) || !ig_string(c, NULL))
      return FALSE;
  return ig_lit(c, ")");
}

static gboolean ig_address(ig_cur *c) {
  return ig_lit(c, "(") && ig_nstring(c) && ig_sp(c) && ig_nstring(c) && ig_sp(c) &&
         ig_nstring(c) && ig_sp(c) && ig_nstring(c) && ig_lit(c, ")");
}

static gboolean ig_addrlist(ig_cur *c) {
  if (ig_lit(c, "NIL"))
    return TRUE;
  if (!ig_lit(c, "(") || !ig_address(c))
    return FALSE;
  while (c->pos < c->len && c->s[c->pos] == '(')
    if (!ig_address(c))
      return FALSE;
  return ig_lit(c, ")");
}

static gboolean ig_envelope(ig_cur *c) {
  if (!ig_lit(c, "(") || !ig_nstring(c) || !ig_sp(c) || !ig_nstring(c))
    return FALSE;
  for (int i = 0; i < 6; i++)
    if (!ig_sp(c) || !ig_addrlist(c))
      return FALSE;
  return ig_sp(c) && ig_nstring(c) && ig_sp(c) && ig_nstring(c) && ig_lit(c, ")");
}

static gboolean ig_dsp(ig_cur *c) {
  if (ig_lit(c, "NIL"))
    return TRUE;
  return ig_lit(c, "(") && ig_string(c, NULL) && ig_sp(c) && ig_params(c) && ig_lit(c, ")");
}

static gboolean ig_lang(ig_cur *c) {
  if (ig_nstring(c))
    return TRUE;
  if (!ig_lit(c, "(") || !ig_string(c, NULL))
    return FALSE;
  while (ig_sp(c))
    if (!ig_string(c, NULL))
      return FALSE;
  return ig_lit(c, ")");
}

/* SP dsp SP lang SP loc (all present in our output). */
static gboolean ig_ext_tail(ig_cur *c) {
  return ig_sp(c) && ig_dsp(c) && ig_sp(c) && ig_lang(c) && ig_sp(c) && ig_nstring(c);
}

static gboolean ig_body(ig_cur *c, gboolean ext, int depth);

static gboolean ig_body(ig_cur *c, gboolean ext, int depth) {
  if (depth > 200 || !ig_lit(c, "("))
    return FALSE;
  if (c->pos < c->len && c->s[c->pos] == '(') { /* body-type-mpart */
    while (c->pos < c->len && c->s[c->pos] == '(')
      if (!ig_body(c, ext, depth + 1))
        return FALSE;
    if (!ig_sp(c) || !ig_string(c, NULL))
      return FALSE;
    if (ext && (!ig_sp(c) || !ig_params(c) || !ig_ext_tail(c)))
      return FALSE;
    return ig_lit(c, ")");
  }
  GString *type = g_string_new(NULL), *sub = g_string_new(NULL);
  gboolean ok = ig_string(c, type) && ig_sp(c) && ig_string(c, sub) && ig_sp(c) && ig_params(c) &&
                ig_sp(c) && ig_nstring(c) && ig_sp(c) && ig_nstring(c) && ig_sp(c) &&
                ig_string(c, NULL) && ig_sp(c) && ig_number(c);
  if (ok && g_ascii_strcasecmp(type->str, "MESSAGE") == 0 &&
      (g_ascii_strcasecmp(sub->str, "RFC822") == 0 || g_ascii_strcasecmp(sub->str, "GLOBAL") == 0))
    ok = ig_sp(c) && ig_envelope(c) && ig_sp(c) && ig_body(c, ext, depth + 1) && ig_sp(c) &&
         ig_number(c);
  else if (ok && g_ascii_strcasecmp(type->str, "TEXT") == 0)
    ok = ig_sp(c) && ig_number(c);
  if (ok && ext)
    ok = ig_sp(c) && ig_nstring(c) && ig_ext_tail(c);
  g_string_free(type, TRUE);
  g_string_free(sub, TRUE);
  return ok && ig_lit(c, ")");
}

/* TRUE when S is exactly one body (EXT: with extension data). */
static G_GNUC_UNUSED gboolean ig_check_body(const char *s, gboolean ext) {
  ig_cur c = {s, strlen(s), 0};
  return ig_body(&c, ext, 0) && c.pos == c.len;
}

/* TRUE when S is exactly one envelope. */
static G_GNUC_UNUSED gboolean ig_check_envelope(const char *s) {
  ig_cur c = {s, strlen(s), 0};
  return ig_envelope(&c) && c.pos == c.len;
}

#endif
