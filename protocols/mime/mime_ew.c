/* mime_ew.c — RFC 2047 encoded words.
 *
 * Decoding: §2 syntax (charset, with an RFC 2231 §5 "*language" suffix
 * ignored), §4.1 B and §4.2 Q encodings, §5(1) words delimited by
 * whitespace, §6.2 whitespace between adjacent encoded words ignored. Bytes
 * of adjacent words in one charset are joined before conversion, so a
 * character split across two words (common with B) still decodes.
 * Encoding: §2 at most 75 octets per word, §5(3) the restricted Q alphabet
 * in phrases (used everywhere, it is safe in text too), §5 words separated
 * by folding whitespace. */
#include "mime_ew.h"

#include "mime_int.h"

#include <string.h>

static const char *const ctx_names[MIME_EW_COUNT] = {"text", "phrase"};

const char *mime_ew_ctx_name(mime_ew_ctx c) {
  return (unsigned)c < MIME_EW_COUNT ? ctx_names[c] : "?";
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Parses one encoded word at S[*pos]; on success appends its octets to
 * BYTES, stores the charset (new string) and advances *pos. */
static gboolean one_word(const char *s, gsize len, gsize *pos, GString *bytes, char **charset) {
  gsize p = *pos;
  if (p + 2 > len || s[p] != '=' || s[p + 1] != '?')
    return FALSE;
  p += 2;
  gsize cs = p;
  while (p < len && s[p] != '?' && mime__is_token_char((unsigned char)s[p]))
    p++;
  if (p == cs || p + 3 > len || s[p] != '?' || s[p + 2] != '?')
    return FALSE;
  char enc = g_ascii_toupper(s[p + 1]);
  if (enc != 'Q' && enc != 'B')
    return FALSE;
  gsize cs_end = p;
  p += 3;
  gsize t = p;
  while (p + 1 < len && !(s[p] == '?' && s[p + 1] == '=')) {
    if (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n' || s[p] == '?')
      return FALSE;
    p++;
  }
  if (p + 1 >= len)
    return FALSE;
  gsize t_end = p;
  p += 2;
  GString *out = g_string_new(NULL);
  if (enc == 'Q') {
    for (gsize i = t; i < t_end; i++) {
      int h, l;
      if (s[i] == '_') {
        g_string_append_c(out, ' ');
      } else if (s[i] == '=') {
        if (i + 2 >= t_end || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0) {
          g_string_free(out, TRUE);
          return FALSE;
        }
        g_string_append_c(out, (char)(h * 16 + l));
        i += 2;
      } else {
        g_string_append_c(out, s[i]);
      }
    }
  } else {
    for (gsize i = t; i < t_end; i++)
      if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=') {
        g_string_free(out, TRUE);
        return FALSE;
      }
    gint state = 0;
    guint save = 0;
    gsize n = t_end - t;
    guchar *buf = g_malloc(n / 4 * 3 + 4);
    gsize got = g_base64_decode_step(s + t, n, buf, &state, &save);
    g_string_append_len(out, (const char *)buf, (gssize)got);
    g_free(buf);
  }
  /* RFC 2231 §5: charset*language. */
  const char *star = memchr(s + cs, '*', cs_end - cs);
  *charset = g_strndup(s + cs, star ? (gsize)(star - (s + cs)) : cs_end - cs);
  g_string_append_len(bytes, out->str, (gssize)out->len);
  g_string_free(out, TRUE);
  *pos = p;
  return TRUE;
}

/* Bytes of pending encoded words that share a charset. */
typedef struct {
  char *charset;
  GString *bytes;
  GString *raw; /* the words as written, for a failed conversion */
} pending;

static gboolean flush(pending *pd, GString *out) {
  gboolean ok = TRUE;
  if (pd->charset) {
    char *u = mime__to_utf8(pd->charset, pd->bytes->str, pd->bytes->len);
    if (u) {
      g_string_append(out, u);
      g_free(u);
    } else {
      ok = FALSE;
      g_string_append_len(out, pd->raw->str, (gssize)pd->raw->len);
    }
    g_clear_pointer(&pd->charset, g_free);
  }
  g_string_truncate(pd->bytes, 0);
  g_string_truncate(pd->raw, 0);
  return ok;
}

/* Decodes S[0..len) if it is a run of encoded words, adding to PD/OUT.
 * Returns FALSE (nothing changed) when it is not. */
static gboolean run_of_words(const char *s, gsize len, pending *pd, GString *out) {
  gsize p = 0;
  GString *b = g_string_new(NULL);
  char *cs = NULL;
  /* Validate the whole run first. */
  while (p < len) {
    g_string_truncate(b, 0);
    if (!one_word(s, len, &p, b, &cs)) {
      g_string_free(b, TRUE);
      return FALSE;
    }
    g_free(cs);
    cs = NULL;
  }
  p = 0;
  while (p < len) {
    gsize start = p;
    g_string_truncate(b, 0);
    one_word(s, len, &p, b, &cs);
    if (pd->charset && g_ascii_strcasecmp(pd->charset, cs) != 0)
      flush(pd, out);
    if (!pd->charset)
      pd->charset = g_strdup(cs);
    g_string_append_len(pd->bytes, b->str, (gssize)b->len);
    g_string_append_len(pd->raw, s + start, (gssize)(p - start));
    g_free(cs);
    cs = NULL;
  }
  g_string_free(b, TRUE);
  return TRUE;
}

char *mime_ew_decode_word(const char *s, gsize len) {
  pending pd = {NULL, g_string_new(NULL), g_string_new(NULL)};
  GString *out = g_string_new(NULL);
  gboolean ok = run_of_words(s, len, &pd, out) && flush(&pd, out);
  g_string_free(pd.bytes, TRUE);
  g_string_free(pd.raw, TRUE);
  g_free(pd.charset);
  if (!ok) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

char *mime_ew_decode(const char *text) {
  /* Every encoded word starts with "=?" (§2): without one, each token is
   * kept as written and only the UTF-8 check below remains. */
  if (!strstr(text, "=?"))
    return mime__utf8_sanitize(text, strlen(text));
  GString *out = g_string_new(NULL);
  pending pd = {NULL, g_string_new(NULL), g_string_new(NULL)};
  const char *s = text;
  gsize len = strlen(s), p = 0;
  GString *ws = g_string_new(NULL); /* whitespace held after an encoded word */
  gboolean after_word = FALSE;
  while (p < len) {
    gsize a = p;
    while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n'))
      p++;
    if (p > a) {
      if (after_word)
        g_string_append_len(ws, s + a, (gssize)(p - a));
      else
        g_string_append_len(out, s + a, (gssize)(p - a));
      continue;
    }
    while (p < len && !(s[p] == ' ' || s[p] == '\t' || s[p] == '\r' || s[p] == '\n'))
      p++;
    GString *tmp = g_string_new(NULL);
    if (run_of_words(s + a, p - a, &pd, tmp)) {
      /* §6.2: whitespace between adjacent encoded words is dropped. */
      g_string_append_len(out, tmp->str, (gssize)tmp->len);
      g_string_truncate(ws, 0);
      after_word = TRUE;
    } else {
      flush(&pd, out);
      g_string_append_len(out, ws->str, (gssize)ws->len);
      g_string_truncate(ws, 0);
      g_string_append_len(out, s + a, (gssize)(p - a));
      after_word = FALSE;
    }
    g_string_free(tmp, TRUE);
  }
  flush(&pd, out);
  g_string_append_len(out, ws->str, (gssize)ws->len);
  g_string_free(ws, TRUE);
  g_string_free(pd.bytes, TRUE);
  g_string_free(pd.raw, TRUE);
  g_free(pd.charset);
  char *r = mime__utf8_sanitize(out->str, out->len);
  g_string_free(out, TRUE);
  return r;
}

/* §5(3): characters allowed unencoded in a Q word in a phrase. */
static gboolean q_plain(unsigned char c) {
  return g_ascii_isalnum(c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

#define EW_MAX 66      /* below the 75 of §2, leaving room for the field name */
#define EW_OVERHEAD 12 /* "=?UTF-8?Q?" + "?=" */

char *mime_ew_encode(const char *text, mime_ew_ctx ctx) {
  g_assert(text);
  gsize len = strlen(text);
  gboolean ascii = TRUE;
  for (gsize i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c >= 0x7f || (c < 0x20 && c != '\t'))
      ascii = FALSE;
  }
  /* A run longer than a line cannot be folded: encode it so it splits. */
  gsize run = 0, longest = 0;
  for (gsize i = 0; i < len; i++) {
    gboolean esc = ctx == MIME_EW_PHRASE && (text[i] == '"' || text[i] == '\\');
    run = (text[i] == ' ' || text[i] == '\t') ? 0 : run + (esc ? 2 : 1);
    longest = MAX(longest, run);
  }
  if (ascii && !strstr(text, "=?") && longest <= (ctx == MIME_EW_TEXT ? 76u : 60u)) {
    if (ctx == MIME_EW_TEXT)
      return g_strdup(text);
    GString *o = g_string_new(NULL);
    mime__append_word(o, text, TRUE);
    return g_string_free(o, FALSE);
  }
  char *valid = mime__utf8_sanitize(text, len);
  len = strlen(valid);
  gsize qlen = 0;
  for (gsize i = 0; i < len; i++)
    qlen += (q_plain((unsigned char)valid[i]) || valid[i] == ' ') ? 1 : 3;
  gboolean use_b = qlen > (len + 2) / 3 * 4;
  GString *out = g_string_new(NULL);
  GString *word = g_string_new(NULL); /* raw bytes of the current word */
  gsize wlen = 0;                     /* encoded length of the current word */
  const char *p = valid, *end = valid + len;
  while (p < end || word->len) {
    const char *next = p < end ? g_utf8_next_char(p) : p;
    gsize clen = (gsize)(next - p), cenc = 0;
    if (!use_b)
      for (const char *q = p; q < next; q++)
        cenc += (q_plain((unsigned char)*q) || *q == ' ') ? 1 : 3;
    gsize cand = use_b ? (word->len + clen + 2) / 3 * 4 : wlen + cenc;
    if (p == end || (cand + EW_OVERHEAD > EW_MAX && word->len)) {
      /* Prefer ending a word just after a space (kept inside the word):
       * decoders that wrongly keep the folding whitespace between encoded
       * words in a phrase (Python's email, for one) then only double a
       * space instead of splitting a word in two. */
      gsize cut = word->len;
      const char *sp = p == end ? NULL : strrchr(word->str, ' ');
      if (sp && (gsize)(sp - word->str) + 1 < word->len)
        cut = (gsize)(sp - word->str) + 1;
      if (out->len)
        g_string_append(out, "\r\n ");
      g_string_append(out, use_b ? "=?UTF-8?B?" : "=?UTF-8?Q?");
      if (use_b) {
        char *b = g_base64_encode((const guchar *)word->str, cut);
        g_string_append(out, b);
        g_free(b);
      } else {
        for (gsize i = 0; i < cut; i++) {
          unsigned char c = (unsigned char)word->str[i];
          if (c == ' ')
            g_string_append_c(out, '_');
          else if (q_plain(c))
            g_string_append_c(out, (char)c);
          else
            g_string_append_printf(out, "=%02X", c);
        }
      }
      g_string_append(out, "?=");
      g_string_erase(word, 0, (gssize)cut);
      wlen = 0;
      for (gsize i = 0; i < word->len; i++)
        wlen += (q_plain((unsigned char)word->str[i]) || word->str[i] == ' ') ? 1 : 3;
      continue;
    }
    g_string_append_len(word, p, (gssize)clen);
    wlen += cenc;
    p = next;
  }
  g_string_free(word, TRUE);
  g_free(valid);
  return g_string_free(out, FALSE);
}
