/* dkim_canon.c — RFC 6376 §3.4.1–§3.4.4 canonicalisation, §3.4.5 example,
 * §5.4.2 header selection from the bottom up. */
#include "dkim_canon.h"

#include <string.h>

static const char *const canon_names[DKIM_CANON_COUNT] = {"simple", "relaxed"};

const char *dkim_canon_name(dkim_canon c) {
  g_assert((unsigned)c < DKIM_CANON_COUNT);
  return canon_names[c];
}

bool dkim_canon_from_name(const char *name, size_t len, dkim_canon *out) {
  for (unsigned i = 0; i < DKIM_CANON_COUNT; i++) {
    if (strlen(canon_names[i]) == len && g_ascii_strncasecmp(name, canon_names[i], len) == 0) {
      *out = (dkim_canon)i;
      return true;
    }
  }
  return false;
}

static bool is_wsp(char c) { return c == ' ' || c == '\t'; }

void dkim_canon_header(dkim_canon c, const char *field, size_t len, bool no_crlf, GString *out) {
  size_t body_len = len;
  if (body_len >= 2 && field[body_len - 2] == '\r' && field[body_len - 1] == '\n')
    body_len -= 2;
  if (c == DKIM_CANON_SIMPLE) {
    g_string_append_len(out, field, (gssize)body_len);
    if (!no_crlf)
      g_string_append(out, "\r\n");
    return;
  }
  const char *colon = memchr(field, ':', body_len);
  size_t ne = colon ? (size_t)(colon - field) : body_len;
  size_t nb = ne;
  while (nb > 0 && is_wsp(field[nb - 1]))
    nb--;
  for (size_t i = 0; i < nb; i++)
    g_string_append_c(out, g_ascii_tolower(field[i]));
  g_string_append_c(out, ':');
  bool pending = false, any = false;
  for (size_t i = colon ? ne + 1 : body_len; i < body_len; i++) {
    char ch = field[i];
    if (ch == '\r' || ch == '\n')
      continue; /* unfold */
    if (is_wsp(ch)) {
      pending = true;
      continue;
    }
    if (pending && any)
      g_string_append_c(out, ' ');
    pending = false;
    any = true;
    g_string_append_c(out, ch);
  }
  if (!no_crlf)
    g_string_append(out, "\r\n");
}

struct dkim_body {
  dkim_canon canon;
  int64_t limit, produced;
  dkim_canon_out_fn out;
  void *ud;
  size_t empty_lines; /* CRLFs held back: they may be trailing */
  bool cr;            /* a CR seen, waiting for LF */
  bool wsp;           /* relaxed: WSP held back inside a line */
  bool line_started;  /* simple: octets written on this line; relaxed: non-WSP */
};

static void emit(dkim_body *b, const char *d, size_t n) {
  int64_t room = b->limit < 0 ? (int64_t)n : b->limit - b->produced;
  b->produced += (int64_t)n;
  if (room <= 0)
    return;
  b->out(b->ud, d, (size_t)MIN((int64_t)n, room));
}

static void flush_empty(dkim_body *b) {
  for (; b->empty_lines > 0; b->empty_lines--)
    emit(b, "\r\n", 2);
}

dkim_body *dkim_body_new(dkim_canon c, int64_t limit, dkim_canon_out_fn out, void *ud) {
  g_assert((unsigned)c < DKIM_CANON_COUNT && out);
  dkim_body *b = g_new0(dkim_body, 1);
  b->canon = c;
  b->limit = limit;
  b->out = out;
  b->ud = ud;
  return b;
}

void dkim_body_free(dkim_body *b) { g_free(b); }

/* One octet of line content (not part of a CRLF). */
static void content(dkim_body *b, char ch) {
  if (b->canon == DKIM_CANON_SIMPLE) {
    if (!b->line_started) {
      flush_empty(b);
      b->line_started = true;
    }
    emit(b, &ch, 1);
    return;
  }
  if (is_wsp(ch)) {
    b->wsp = true;
    return;
  }
  if (!b->line_started) {
    flush_empty(b);
    b->line_started = true;
  }
  if (b->wsp) {
    emit(b, " ", 1); /* §3.4.4: a WSP run becomes one SP (even at line start) */
    b->wsp = false;
  }
  emit(b, &ch, 1);
}

static void end_line(dkim_body *b) {
  b->wsp = false; /* §3.4.4: WSP at the end of a line is ignored */
  if (b->line_started)
    emit(b, "\r\n", 2);
  else
    b->empty_lines++;
  b->line_started = false;
}

void dkim_body_feed(dkim_body *b, const void *data, size_t len) {
  const char *p = data;
  for (size_t i = 0; i < len; i++) {
    char ch = p[i];
    if (b->cr) {
      b->cr = false;
      if (ch == '\n') {
        end_line(b);
        continue;
      }
      content(b, '\r');
    }
    if (ch == '\r') {
      b->cr = true;
      continue;
    }
    content(b, ch);
  }
}

void dkim_body_end(dkim_body *b) {
  if (b->cr) {
    b->cr = false;
    content(b, '\r');
  }
  /* A last line without CRLF: relaxed with only WSP is empty. */
  if (b->line_started)
    end_line(b);
  if (b->canon == DKIM_CANON_SIMPLE && b->produced == 0)
    emit(b, "\r\n", 2); /* §3.4.3: an empty body is one CRLF */
  b->empty_lines = 0;
}

int64_t dkim_body_length(const dkim_body *b) { return b->produced; }

GArray *dkim_canon_select(const char *const *names, size_t nnames, const char *const *fields,
                          const size_t *lens, size_t nfields) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(int));
  bool *used = g_new0(bool, nfields ? nfields : 1);
  for (size_t i = 0; i < nnames; i++) {
    size_t nl = strlen(names[i]);
    int pick = -1;
    for (size_t k = nfields; k-- > 0;) {
      if (used[k])
        continue;
      const char *colon = memchr(fields[k], ':', lens[k]);
      if (!colon)
        continue;
      size_t fl = (size_t)(colon - fields[k]);
      while (fl > 0 && is_wsp(fields[k][fl - 1]))
        fl--;
      if (fl == nl && g_ascii_strncasecmp(fields[k], names[i], nl) == 0) {
        pick = (int)k;
        used[k] = true;
        break;
      }
    }
    g_array_append_val(out, pick);
  }
  g_free(used);
  return out;
}
