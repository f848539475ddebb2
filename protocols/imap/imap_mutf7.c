/* imap_mutf7.c — modified UTF-7 (RFC 3501 §5.1.3; base64 of RFC 2152
 * with "," for "/"). Decoding is strict so that every name has exactly one
 * spelling: shift sequences must be minimal (no encoded printable ASCII,
 * no empty "&-" except for "&", zero pad bits). */
#include "imap_mutf7.h"

#include <glib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static void flush_utf16(GString *out, const guint16 *u, size_t n) {
  guint32 bits = 0;
  int nbits = 0;
  for (size_t i = 0; i < n; i++) {
    bits = (bits << 16) | u[i];
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      g_string_append_c(out, b64[(bits >> nbits) & 0x3f]);
    }
  }
  if (nbits)
    g_string_append_c(out, b64[(bits << (6 - nbits)) & 0x3f]);
}

char *imap_mutf7_encode(const char *utf8) {
  if (!g_utf8_validate(utf8, -1, NULL))
    return NULL;
  GString *out = g_string_new(NULL);
  GArray *run = g_array_new(FALSE, FALSE, sizeof(guint16));
  for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    if (ch >= 0x20 && ch <= 0x7e) {
      if (run->len) {
        g_string_append_c(out, '&');
        flush_utf16(out, (guint16 *)(void *)run->data, run->len);
        g_string_append_c(out, '-');
        g_array_set_size(run, 0);
      }
      g_string_append(out, ch == '&' ? "&-" : (char[]){(char)ch, 0});
      continue;
    }
    if (ch >= 0x10000) {
      guint16 hi = (guint16)(0xd800 + ((ch - 0x10000) >> 10));
      guint16 lo = (guint16)(0xdc00 + ((ch - 0x10000) & 0x3ff));
      g_array_append_val(run, hi);
      g_array_append_val(run, lo);
    } else {
      guint16 u = (guint16)ch;
      g_array_append_val(run, u);
    }
  }
  if (run->len) {
    g_string_append_c(out, '&');
    flush_utf16(out, (guint16 *)(void *)run->data, run->len);
    g_string_append_c(out, '-');
  }
  g_array_free(run, TRUE);
  return g_string_free(out, FALSE);
}

char *imap_mutf7_decode(const char *s) {
  GString *out = g_string_new(NULL);
  bool prev_shift = false; /* RFC 3501: "&...-&...-" must be one run */
  for (size_t i = 0; s[i];) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c > 0x7e)
      goto bad;
    if (c != '&') {
      g_string_append_c(out, (char)c);
      i++;
      prev_shift = false;
      continue;
    }
    i++;
    if (s[i] == '-') {
      g_string_append_c(out, '&');
      i++;
      prev_shift = false;
      continue;
    }
    if (prev_shift)
      goto bad;
    guint32 bits = 0;
    int nbits = 0;
    guint16 hi = 0;
    size_t start = i;
    while (s[i] && s[i] != '-') {
      const char *q = strchr(b64, s[i]);
      if (!q)
        goto bad;
      bits = (bits << 6) | (guint32)(q - b64);
      nbits += 6;
      i++;
      if (nbits >= 16) {
        nbits -= 16;
        guint16 u = (guint16)(bits >> nbits);
        bits &= (1u << nbits) - 1;
        if (hi) {
          if (u < 0xdc00 || u > 0xdfff)
            goto bad;
          g_string_append_unichar(out, 0x10000 + (((gunichar)hi - 0xd800) << 10) + (u - 0xdc00));
          hi = 0;
        } else if (u >= 0xd800 && u <= 0xdbff) {
          hi = u;
        } else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e)) {
          goto bad;
        } else {
          g_string_append_unichar(out, u);
        }
      }
    }
    if (s[i] != '-' || i == start || hi || nbits >= 6 || (bits & ((1u << nbits) - 1)))
      goto bad;
    i++;
    prev_shift = true;
  }
  return g_string_free(out, FALSE);
bad:
  g_string_free(out, TRUE);
  return NULL;
}

bool imap_mutf7_valid(const char *s) {
  char *d = imap_mutf7_decode(s);
  g_free(d);
  return d != NULL;
}
