/* mime_codec.c — base64 (RFC 2045 §6.8, the codec itself from GLib) and
 * quoted-printable (RFC 2045 §6.7: rules 1-5, 76-character lines, soft
 * line breaks; decoding tolerant of lower-case hex and of trailing
 * whitespace, as §6.7 note 1 and rule 3 ask). */
#include "mime_codec.h"

#include <string.h>

char *mime_codec_base64_encode(const guint8 *data, gsize len) {
  char *b = g_base64_encode(data, len);
  gsize n = strlen(b);
  GString *out = g_string_sized_new(n + n / 76 * 2 + 4);
  for (gsize i = 0; i < n; i += 76) {
    g_string_append_len(out, b + i, (gssize)MIN((gsize)76, n - i));
    g_string_append(out, "\r\n");
  }
  g_free(b);
  return g_string_free(out, FALSE);
}

static gboolean b64_char(char c) { return g_ascii_isalnum(c) || c == '+' || c == '/'; }

GBytes *mime_codec_base64_decode(const char *text, gsize len, gboolean *bad) {
  gboolean b = FALSE;
  /* Keep only the alphabet; '=' ends the data (RFC 2045 §6.8). */
  GString *clean = g_string_sized_new(len);
  gboolean padded = FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (b64_char(c)) {
      if (padded)
        b = TRUE; /* data after the padding: ignored */
      else
        g_string_append_c(clean, c);
    } else if (c == '=') {
      padded = TRUE;
    } else if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
      b = TRUE;
    }
  }
  gsize rem = clean->len % 4;
  if (rem == 1) {
    b = TRUE;
    g_string_truncate(clean, clean->len - 1);
  } else if (rem) {
    if (!padded)
      b = TRUE; /* unpadded tail: accepted */
    while (clean->len % 4)
      g_string_append_c(clean, '=');
  }
  gsize out_len = 0;
  guchar *out = clean->len ? g_base64_decode(clean->str, &out_len) : g_malloc0(1);
  g_string_free(clean, TRUE);
  if (bad)
    *bad = b;
  return g_bytes_new_take(out, out_len);
}

static const char hexd[] = "0123456789ABCDEF";

char *mime_codec_qp_encode(const guint8 *data, gsize len, gboolean binary) {
  GString *out = g_string_sized_new(len + len / 8 + 8);
  gsize col = 0;
  for (gsize i = 0; i < len; i++) {
    guint8 c = data[i];
    if (!binary && (c == '\n' || (c == '\r' && i + 1 < len && data[i + 1] == '\n'))) {
      if (c == '\r')
        i++;
      g_string_append(out, "\r\n");
      col = 0;
      continue;
    }
    gboolean at_eol =
        i + 1 == len || (!binary && (data[i + 1] == '\n' ||
                                     (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n')));
    gboolean enc;
    if (c == ' ' || c == '\t')
      enc = at_eol; /* rule 3: no trailing whitespace */
    else
      enc = c == '=' || c < 33 || c > 126;
    if (col == 0 && c == '.')
      enc = TRUE;
    if (col == 0 && c == 'F' && i + 5 <= len && memcmp(data + i, "From ", 5) == 0)
      enc = TRUE;
    gsize w = enc ? 3 : 1;
    /* Rule 5: at most 76 characters including the soft-break "=". The last
     * character of a line may use the 76th column. */
    if (col + w > (at_eol ? 76u : 75u)) {
      g_string_append(out, "=\r\n");
      col = 0;
      if (c == '.' || (c == 'F' && i + 5 <= len && memcmp(data + i, "From ", 5) == 0))
        enc = TRUE, w = 3;
    }
    if (enc) {
      g_string_append_c(out, '=');
      g_string_append_c(out, hexd[c >> 4]);
      g_string_append_c(out, hexd[c & 15]);
    } else {
      g_string_append_c(out, (char)c);
    }
    col += w;
  }
  return g_string_free(out, FALSE);
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

GBytes *mime_codec_qp_decode(const char *text, gsize len, gboolean *bad) {
  GByteArray *out = g_byte_array_sized_new((guint)MIN(len, (gsize)G_MAXUINT));
  gboolean b = FALSE;
  gsize p = 0;
  while (p < len) {
    const char *nl = memchr(text + p, '\n', len - p);
    gsize next = nl ? (gsize)(nl - text) + 1 : len;
    gsize eol = nl ? (gsize)(nl - text) : len;
    gsize eol_len = next - eol;
    if (nl && eol > p && text[eol - 1] == '\r') {
      eol--;
      eol_len++;
    }
    /* Rule 3: whitespace at the end of a line was added in transport. */
    gsize e = eol;
    while (e > p && (text[e - 1] == ' ' || text[e - 1] == '\t'))
      e--;
    gboolean soft = e > p && text[e - 1] == '=';
    if (soft)
      e--;
    for (gsize i = p; i < e; i++) {
      int h, l;
      if (text[i] == '=' && i + 2 < e && (h = hexval(text[i + 1])) >= 0 &&
          (l = hexval(text[i + 2])) >= 0) {
        guint8 v = (guint8)(h * 16 + l);
        g_byte_array_append(out, &v, 1);
        i += 2;
      } else {
        if (text[i] == '=')
          b = TRUE;
        g_byte_array_append(out, (const guint8 *)text + i, 1);
      }
    }
    if (!soft)
      g_byte_array_append(out, (const guint8 *)text + eol, (guint)eol_len);
    p = next;
  }
  if (bad)
    *bad = b;
  return g_byte_array_free_to_bytes(out);
}
