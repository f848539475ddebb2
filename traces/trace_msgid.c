/* trace_msgid.c — Message-IDs (RFC 5322 §3.6.4) packed: hex runs two
 * digits to an octet (see trace_msgid.h for the form). The checker keeps
 * one per message and compares lookups against it as it unpacks, so a
 * lookup packs nothing.
 */
#include "trace_msgid.h"

#define RUN_MIN 4
#define RUN_MAX 127

static int hex_val(char c) {
  unsigned d = (unsigned)(unsigned char)c - '0', a = (unsigned)(unsigned char)c - 'a';
  return d < 10 ? (int)d : a < 6 ? (int)a + 10 : -1;
}

void trace_msgid_pack(GByteArray *out, const char *s) {
  g_byte_array_set_size(out, (guint)(2 * strlen(s)));
  if (!*s) /* no octets: out->data may be NULL */
    return;
  uint8_t *p = out->data;
  while (*s) {
    size_t run = 0;
    while (run < RUN_MAX && hex_val(s[run]) >= 0)
      run++;
    if (run >= RUN_MIN) {
      *p++ = (uint8_t)(0x80 | run);
      for (size_t i = 0; i < run; i += 2)
        *p++ = (uint8_t)(hex_val(s[i]) << 4 | (i + 1 < run ? hex_val(s[i + 1]) : 0));
      s += run;
      continue;
    }
    for (; run; run--) /* a short run: its digits as they are */
      *p++ = (uint8_t)*s++;
    if (!*s)
      break;
    uint8_t c = (uint8_t)*s++; /* not a digit */
    if (c >= 0x80)
      *p++ = 0x80;
    *p++ = c;
  }
  g_byte_array_set_size(out, (guint)(p - out->data));
}

void trace_msgid_unpack(GString *out, const uint8_t *p, size_t n) {
  const uint8_t *end = p + n;
  g_string_set_size(out, 2 * n); /* a packed octet is at most two */
  char *o = out->str;
  while (p < end) {
    uint8_t b = *p++;
    if (b < 0x80) {
      *o++ = (char)b;
    } else if (b == 0x80) {
      *o++ = (char)*p++;
    } else {
      size_t run = b & 0x7F;
      for (size_t i = 0; i + 1 < run; i += 2, p++) {
        *o++ = TRACE_MSGID_DIGITS[*p >> 4];
        *o++ = TRACE_MSGID_DIGITS[*p & 15];
      }
      if (run % 2)
        *o++ = TRACE_MSGID_DIGITS[*p++ >> 4];
    }
  }
  g_string_truncate(out, (gsize)(o - out->str));
}

uint32_t trace_msgid_keep(trace_store *st, const uint8_t *key, size_t n) {
  uint32_t ref;
  if (n > UINT32_MAX - 5)
    g_error("trace_msgid: a message id of %zu octets", n); /* out of memory first */
  uint8_t *p = trace_store_alloc(st, n + (n < 255 ? 1 : 5), &ref);
  if (n < 255) {
    *p++ = (uint8_t)n;
  } else {
    uint32_t len = (uint32_t)n;
    *p++ = 255;
    memcpy(p, &len, sizeof len);
    p += sizeof len;
  }
  if (n)
    memcpy(p, key, n);
  return ref;
}
