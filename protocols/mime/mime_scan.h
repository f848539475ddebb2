/* mime_scan.h — the header scanner's two inner loops, inline, for the
 * places that read a message's header on a hot path without building a
 * field list: mime_hdr.c's scanner, the MTA's one-pass header read at DATA
 * (mta_policy.c) and the message key's (hosts/msgkey.c). One copy keeps
 * their rules the same as mime_hdr_scan's. */
#ifndef MAILSIM_MIME_SCAN_H
#define MAILSIM_MIME_SCAN_H

#include <glib.h>
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The first LF in S[0..N), or NULL: sixteen octets a step where SSE2 is
 * (header lines are short: a call to memchr costs more). */
static inline const char *mime_scan_lf(const char *s, size_t n) {
#if defined(__SSE2__)
  size_t i = 0;
  const __m128i lf = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    int m = _mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), lf));
    if (m)
      return s + i + (size_t)__builtin_ctz((unsigned)m);
  }
  for (; i < n; i++)
    if (s[i] == '\n')
      return s + i;
  return NULL;
#else
  return memchr(s, '\n', n);
#endif
}

/* The end of a field name that starts at BUF[P], within BUF[..EOL): the
 * first octet from P on that is not ftext (RFC 5322 §3.6.8: %d33-57 /
 * %d59-126, every printable octet but the colon), or EOL. */
static inline size_t mime_scan_name_end(const char *buf, size_t p, size_t eol) {
  size_t ne = p;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  /* Eight octets a step: the high bit of each octet below 33, above 126
   * or a colon (exact for the lowest one: no borrow or carry reaches it
   * from below), and the first such octet by its bit. */
  const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101), highs = ones << 7;
  while (eol - ne >= 8) {
    guint64 w;
    memcpy(&w, buf + ne, 8);
    guint64 c = w ^ (ones * ':');
    guint64 m =
        (((w - ones * 33) & ~w) | ((w & ~highs) + ones * 1) | w | ((c - ones) & ~c)) & highs;
    if (m)
      return ne + (size_t)__builtin_ctzll(m) / 8;
    ne += 8;
  }
#endif
  while (ne < eol && (guchar)buf[ne] >= 33 && (guchar)buf[ne] <= 126 && buf[ne] != ':')
    ne++;
  return ne;
}

#endif
