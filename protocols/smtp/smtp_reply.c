/* smtp_reply.c — format and parse SMTP replies.
 *
 * RFC 5321 §4.2: a reply is a three-digit code, then SP on the last line or
 * "-" on every earlier line, then text; §4.2.1 says every line of a
 * multi-line reply carries the same code. RFC 2034 §4 puts the enhanced
 * status code of RFC 3463 §2 ("class.subject.detail") at the head of each
 * line's text. The parser is strict about the code and separator (a bad
 * line is a protocol error) and lenient about everything after them.
 */
#include "smtp_reply.h"

#include <string.h>

static const char *const trace_kind_names[SMTP_TRACE__COUNT] = {
    [SMTP_TRACE_STATE] = "state",
    [SMTP_TRACE_RECV] = "recv",
    [SMTP_TRACE_SEND] = "send",
    [SMTP_TRACE_NOTE] = "note",
};

const char *smtp_trace_kind_name(smtp_trace_kind k) {
  g_assert((unsigned)k < SMTP_TRACE__COUNT);
  return trace_kind_names[k];
}

/* Appends one reply line: C[0..3) the code's digits, SEP ('-' or ' '),
 * then ESC[0..EN) and a space when both it and the text are there, then
 * the text A[0..AN) B[0..BN), then CRLF. */
static inline void put_line(GString *out, const char c[3], char sep, const char *esc, size_t en,
                            const char *a, size_t an, const char *b, size_t bn) {
  size_t n = an + bn;
  size_t at = out->len, sp = en && n > 0;
  size_t need = at + 4 + en + sp + n + 2;
  if (need < out->allocated_len) { /* room: no library call */
    out->len = need;
    out->str[need] = 0;
  } else {
    g_string_set_size(out, need);
  }
  char *w = out->str + at;
  *w++ = c[0];
  *w++ = c[1];
  *w++ = c[2];
  *w++ = sep;
  if (en) {
    memcpy(w, esc, en);
    w += en;
  }
  if (sp)
    *w++ = ' ';
  if (an)
    memcpy(w, a, an);
  w += an;
  if (bn)
    memcpy(w, b, bn);
  w += bn;
  *w++ = '\r';
  *w = '\n';
}

void smtp_reply_append(GString *out, int code, const char *esc, const char *text) {
  g_assert(code >= 200 && code <= 599);
  g_assert(text != NULL);
  size_t esc_len = esc && *esc ? strlen(esc) : 0;
  const char c[3] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10),
                     (char)('0' + code % 10)};
  const char *p = text;
  for (;;) {
    size_t n = strcspn(p, "\r\n"); /* one call finds the line's end and checks it */
    g_assert(p[n] != '\r');
    const char *nl = p[n] ? p + n : NULL;
    put_line(out, c, nl ? '-' : ' ', esc, esc_len, p, n, NULL, 0);
    if (!nl)
      break;
    p = nl + 1;
  }
}

void smtp_reply_append_line(GString *out, int code, const char *esc, size_t en, const char *a,
                            size_t an, const char *b, size_t bn) {
  g_assert(code >= 200 && code <= 599);
  const char c[3] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10),
                     (char)('0' + code % 10)};
  put_line(out, c, ' ', esc, en, a, an, b, bn);
}
void smtp_reply_init(smtp_reply *r) {
  memset(r, 0, sizeof *r);
  r->text = g_string_new(NULL);
}

void smtp_reply_clear(smtp_reply *r) {
  if (r->text)
    g_string_free(r->text, TRUE);
  memset(r, 0, sizeof *r);
}

void smtp_reply_reset(smtp_reply *r) {
  r->code = 0;
  r->esc[0] = 0;
  r->nlines = 0;
  r->text->str[r->text->len = 0] = 0;
}

static size_t digits(const char *s, size_t n, size_t max) {
  size_t i = 0;
  while (i < n && i < max + 1 && s[i] >= '0' && s[i] <= '9')
    i++;
  return i;
}

/* smtp_reply_esc_at, inlined in smtp_reply_feed_line (its first test
 * ends it on most lines). */
static inline bool esc_at(const char *s, size_t n, char klass, size_t *len) {
  /* RFC 3463 §2: class "." 1*3digit "." 1*3digit */
  if (n < 5 || s[0] != klass || s[1] != '.')
    return false;
  size_t i = 2, d = digits(s + i, n - i, 3);
  if (d < 1 || d > 3)
    return false;
  i += d;
  if (i >= n || s[i] != '.')
    return false;
  i++;
  d = digits(s + i, n - i, 3);
  if (d < 1 || d > 3)
    return false;
  i += d;
  if (i < n && s[i] != ' ')
    return false;
  *len = i;
  return true;
}

bool smtp_reply_esc_at(const char *s, size_t n, char klass, size_t *len) {
  return esc_at(s, n, klass, len);
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

smtp_reply_status smtp_reply_feed_line(smtp_reply *r, const char *line, size_t len) {
  /* RFC 5321 §4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
   *                 Reply-code [ SP textstring ] CRLF */
  if (len < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) || !is_digit(line[2]))
    return SMTP_REPLY_BAD;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  bool last;
  if (len == 3)
    last = true;
  else if (line[3] == ' ')
    last = true;
  else if (line[3] == '-')
    last = false;
  else
    return SMTP_REPLY_BAD;
  if (r->nlines > 0 && code != r->code)
    return SMTP_REPLY_BAD;
  if (r->nlines >= SMTP_REPLY_MAX_LINES)
    return SMTP_REPLY_BAD;
  const char *t = len > 4 ? line + 4 : line + len;
  size_t tn = len > 4 ? len - 4 : 0;
  size_t el = 0;
  if (esc_at(t, tn, line[0], &el)) {
    if (r->nlines == 0)
      memcpy(r->esc, t, el), r->esc[el] = 0;
    t += el;
    tn -= el;
    if (tn > 0 && *t == ' ')
      t++, tn--;
  }
  if (r->nlines > 0)
    smtp_reply_put(r->text, "\n", 1);
  smtp_reply_put(r->text, t, tn);
  r->code = code;
  r->nlines++;
  return last ? SMTP_REPLY_COMPLETE : SMTP_REPLY_MORE;
}

GString *smtp_string_kept(GString *s, gsize size) {
  if (s->allocated_len > SMTP_KEEP_MAX) {
    g_string_free(s, TRUE);
    return g_string_sized_new(size);
  }
  s->str[s->len = 0] = 0;
  return s;
}

void smtp_string_renew(char **slot, const char *s, bool wipe) {
  if (*slot && s && strcmp(*slot, s) == 0)
    return;
  if (!*slot && !s)
    return;
  size_t old = *slot ? strlen(*slot) : 0;
  if (*slot && s) {
    size_t n = strlen(s);
    if (n <= old) { /* the old block holds it: no allocation */
      memcpy(*slot, s, n + 1);
      if (wipe)
        memset(*slot + n + 1, 0, old - n);
      return;
    }
  }
  if (*slot && wipe)
    memset(*slot, 0, old);
  g_free(*slot);
  *slot = s ? g_strdup(s) : NULL;
}
