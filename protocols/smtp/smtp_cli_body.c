/* smtp_cli_body.c — the message body as the client sends it after 354.
 *
 * RFC 5321 §2.3.8: lines end in CRLF only, so every CRLF, bare CR and bare
 * LF becomes CRLF (the client never emits a bare CR or LF, whatever the
 * message store holds — the sending half of the smuggling defence);
 * §4.5.2: a line starting with "." gets another "."; the data ends with
 * CRLF "." CRLF. RFC 1870 §3: SIZE counts the normalised octets without
 * the stuffing dots and the final dot line.
 */
#include "smtp_cli.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The next line of DATA[I..LEN): its text ends at *STOP (the first CR or
 * LF, or LEN); returns where the line after it begins (LEN at the end). A
 * CRLF, a bare CR and a bare LF each end a line. */
static size_t next_line(const uint8_t *data, size_t len, size_t i, size_t *stop) {
  const uint8_t *lf = memchr(data + i, '\n', len - i);
  size_t end = lf ? (size_t)(lf - data) : len;
  const uint8_t *cr = memchr(data + i, '\r', end - i);
  size_t s = cr ? (size_t)(cr - data) : end;
  *stop = s;
  if (s == len)
    return len;
  if (data[s] == '\r' && s + 1 < len && data[s + 1] == '\n')
    return s + 2;
  return s + 1;
}

#if !defined(__SSE2__)
/* Whether P[0..N) holds at most MAX octets CR: one memchr per CR (the
 * usual body has one a line, and lines of tens of octets), stopping at
 * the first beyond MAX. */
static bool crs_at_most(const uint8_t *p, size_t n, size_t max) {
  const uint8_t *end = p + n;
  size_t c = 0;
  for (const uint8_t *cr = p; cr < end && (cr = memchr(cr, '\r', (size_t)(end - cr))); cr++)
    if (++c > max)
      return false;
  return true;
}
#endif

/* Whether an octet of P[0..N) has its high bit set: eight octets a step. */
static bool any_8bit(const uint8_t *p, size_t n) {
  size_t i = 0;
  uint64_t any = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    any |= w;
  }
  for (; i < n; i++)
    any |= p[i];
  return (any & UINT64_C(0x8080808080808080)) != 0;
}

/* Whether DATA[0..LEN) is the usual body: every CR followed by an LF and
 * every LF preceded by a CR. When it is, *DOT: whether a line starts with
 * "." (at the start or after an LF), and *EIGHT: whether an octet has its
 * high bit set. */
static bool usual_body(const uint8_t *data, size_t len, bool *dot, bool *eight) {
  *dot = len && data[0] == '.';
  *eight = false;
  if (len == 0)
    return true;
  if (data[0] == '\n' || data[len - 1] == '\r')
    return false; /* an LF with no CR before it, a CR with no LF after it */
  size_t i = 1;
#if defined(__SSE2__)
  /* Sixteen octets a step: V is DATA[i..i+16), W the same moved back by
   * one, so an octet of V is an LF exactly where the octet before it (in
   * W) is a CR; a "." in V after an LF in W starts a line. */
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n'), dt = _mm_set1_epi8('.');
  int dots = 0;
  __m128i all = _mm_setzero_si128(); /* every octet of V or'ed: the high bits */
  for (; i + 16 <= len; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(data + i));
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(data + i - 1));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)) != _mm_movemask_epi8(_mm_cmpeq_epi8(w, cr)))
      return false;
    dots |= _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(w, lf), _mm_cmpeq_epi8(v, dt)));
    all = _mm_or_si128(all, v);
  }
  *dot |= dots != 0;
  unsigned any = data[0];
  for (; i < len; i++) {
    if ((data[i] == '\n') != (data[i - 1] == '\r'))
      return false;
    *dot |= data[i] == '.' && data[i - 1] == '\n';
    any |= data[i];
  }
  *eight = (any & 0x80) || _mm_movemask_epi8(all);
  return true;
#else
  /* One memchr a line: every LF after a CR, then as many CRs as CRLF
   * pairs (so each CR is a pair's). */
  (void)i;
  size_t pairs = 0;
  const uint8_t *end = data + len;
  for (const uint8_t *l = data; (l = memchr(l, '\n', (size_t)(end - l))); l++) {
    if (l == data || l[-1] != '\r')
      return false;
    pairs++;
    *dot |= l + 1 < end && l[1] == '.';
  }
  if (!crs_at_most(data, len, pairs))
    return false;
  *eight = any_8bit(data, len);
  return true;
#endif
}

uint64_t smtp_cli_body_scan_8bit(const uint8_t *data, size_t len, bool *crlf_only, bool *dots,
                                 bool *eight) {
  /* The usual body first: its size is its length, plus the CRLF a last
   * line without one gets. */
  bool dot;
  *dots = false;
  if (usual_body(data, len, &dot, eight)) {
    *crlf_only = true;
    *dots = dot;
    return len + (len && data[len - 1] != '\n' ? 2 : 0);
  }
  *eight = any_8bit(data, len);
  uint64_t n = 0;
  bool bol = true, crlf = true;
  for (size_t i = 0, stop; i < len;) {
    size_t next = next_line(data, len, i, &stop);
    n += stop - i;
    bol = stop < len;
    n += bol ? 2 : 0;
    crlf &= next != stop + 1; /* a bare CR or LF ended the line */
    i = next;
  }
  *crlf_only = crlf;
  return n + (bol ? 0 : 2);
}

uint64_t smtp_cli_body_scan_dots(const uint8_t *data, size_t len, bool *crlf_only, bool *dots) {
  bool eight;
  return smtp_cli_body_scan_8bit(data, len, crlf_only, dots, &eight);
}

uint64_t smtp_cli_body_scan(const uint8_t *data, size_t len, bool *crlf_only) {
  bool dots;
  return smtp_cli_body_scan_dots(data, len, crlf_only, &dots);
}

uint64_t smtp_cli_body_size(const uint8_t *data, size_t len) {
  bool crlf_only;
  return smtp_cli_body_scan(data, len, &crlf_only);
}

/* Makes room for N more octets at *W in OUT (whose length is the room
 * reserved so far). */
static char *reserve(GString *out, char *w, size_t n) {
  size_t off = (size_t)(w - out->str);
  if (off + n > out->len)
    g_string_set_size(out, 2 * out->len + n);
  return out->str + off;
}

void smtp_cli_encode_body(GString *out, const uint8_t *data, size_t len) {
  /* One pass: room for the data, its line ends and some stuffing dots is
   * reserved first (grown when a body needs more), the unused tail cut. */
  size_t start = out->len;
  g_string_set_size(out, start + len + len / 16 + 8);
  char *w = out->str + start;
  bool bol = true;
  for (size_t i = 0, stop; i < len;) {
    size_t next = next_line(data, len, i, &stop);
    w = reserve(out, w, stop - i + 3);
    if (stop > i) {
      if (data[i] == '.')
        *w++ = '.'; /* RFC 5321 §4.5.2 */
      memcpy(w, data + i, stop - i);
      w += stop - i;
    }
    bol = stop < len;
    if (bol) {
      *w++ = '\r';
      *w++ = '\n';
    }
    i = next;
  }
  w = reserve(out, w, 5);
  if (!bol) {
    *w++ = '\r';
    *w++ = '\n';
  }
  memcpy(w, ".\r\n", 3);
  w += 3;
  g_string_truncate(out, (gsize)(w - out->str));
}

void smtp_cli_encode_crlf_body(GString *out, const uint8_t *data, size_t len) {
  /* Every line break is a CRLF, so a line starts with "." exactly at the
   * data's start and after each "\n.": the data is copied in stretches
   * ending at those dots. */
  bool ends = len == 0 || (len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
  size_t tail = ends ? 3 : 5; /* [CRLF] "." CRLF */
  size_t start = out->len;
  g_string_set_size(out, start + len + tail + 8);
  char *w = out->str + start;
  if (len && data[0] == '.')
    *w++ = '.';    /* RFC 5321 §4.5.2 */
  size_t from = 0; /* the stretch not yet copied */
  for (const uint8_t *lf = data; len && (lf = memchr(lf, '\n', len - (size_t)(lf - data)));) {
    size_t at = (size_t)(++lf - data); /* the next line's start */
    if (at < len && data[at] == '.') {
      w = reserve(out, w, at - from + 1 + tail);
      memcpy(w, data + from, at - from);
      w += at - from;
      *w++ = '.';
      from = at;
    }
    if (at == len)
      break;
  }
  w = reserve(out, w, len - from + tail);
  if (len > from) {
    memcpy(w, data + from, len - from);
    w += len - from;
  }
  if (!ends) {
    *w++ = '\r';
    *w++ = '\n';
  }
  memcpy(w, ".\r\n", 3);
  w += 3;
  g_string_truncate(out, (gsize)(w - out->str));
}

void smtp_cli_encode_plain_body(GString *out, const uint8_t *data, size_t len) {
  /* Nothing to stuff: the data as is, then [CRLF] "." CRLF. */
  bool ends = len == 0 || (len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n');
  size_t start = out->len, tail = ends ? 3 : 5;
  g_string_set_size(out, start + len + tail);
  char *w = out->str + start;
  if (len)
    memcpy(w, data, len);
  memcpy(w + len, ends ? ".\r\n" : "\r\n.\r\n", tail);
}
