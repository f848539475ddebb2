/* imap_fmt.c — the few printf conversions IMAP lines use, expanded
 * directly (see imap_fmt.h). */
#include "imap_fmt.h"

#include <stdbool.h>
#include <string.h>

static void put(GByteArray *out, const char *p, size_t n) {
  g_byte_array_append(out, (const guint8 *)p, (guint)n);
}

/* True when every conversion of FMT is one imap_fmt_append expands. */
static bool simple(const char *fmt) {
  for (const char *p = strchr(fmt, '%'); p; p = strchr(p, '%')) {
    p++;
    if (*p == 's' || *p == 'u' || *p == '%')
      p++;
    else if ((*p == 'z' || *p == 'l') && p[1] == 'u')
      p += 2;
    else
      return false;
  }
  return true;
}

/* Writes V's decimal digits to the end of BUF[24]; returns the first. */
static char *uint_digits(char *buf, unsigned long v) {
  char *d = buf + 24;
  do
    *--d = (char)('0' + v % 10);
  while (v /= 10);
  return d;
}

enum { MAX_PIECES = 16, MAX_NUMS = 6 };

void imap_fmt_append(GByteArray *out, const char *fmt, va_list ap) {
  if (!simple(fmt)) {
    char *s = g_strdup_vprintf(fmt, ap);
    put(out, s, strlen(s));
    g_free(s);
    return;
  }
  /* The pieces first (numbers written on the stack), then the line's
   * exact size reserved once and the pieces copied in. */
  const char *pp[MAX_PIECES];
  size_t pn[MAX_PIECES], np = 0, total = 0;
  char nums[MAX_NUMS][24];
  size_t nn = 0;
  const char *p = fmt;
  for (const char *q; (q = strchr(p, '%')) != NULL;) {
    if (np + 2 >= MAX_PIECES || nn == MAX_NUMS) { /* a long line: piece by piece */
      for (size_t k = 0; k < np; k++)
        put(out, pp[k], pn[k]);
      np = total = 0;
      nn = 0;
    }
    pp[np] = p;
    pn[np++] = (size_t)(q - p);
    total += (size_t)(q - p);
    const char *a = "%";
    size_t an = 1;
    unsigned long v = 0;
    bool num = true;
    switch (q[1]) {
    case 's':
      a = va_arg(ap, const char *);
      a = a ? a : "(null)"; /* as glibc prints it */
      an = strlen(a);
      num = false;
      p = q + 2;
      break;
    case 'u':
      v = va_arg(ap, unsigned);
      p = q + 2;
      break;
    case 'z':
      v = va_arg(ap, size_t);
      p = q + 3;
      break;
    case 'l':
      v = va_arg(ap, unsigned long);
      p = q + 3;
      break;
    default: /* '%' */
      num = false;
      p = q + 2;
      break;
    }
    if (num) {
      a = uint_digits(nums[nn], v);
      an = (size_t)(nums[nn] + 24 - a);
      nn++;
    }
    pp[np] = a;
    pn[np++] = an;
    total += an;
  }
  size_t rest = strlen(p);
  if (total + rest == 0)
    return;
  guint at = out->len;
  g_byte_array_set_size(out, (guint)(at + total + rest));
  char *w = (char *)out->data + at;
  for (size_t k = 0; k < np; k++) {
    memcpy(w, pp[k], pn[k]);
    w += pn[k];
  }
  memcpy(w, p, rest);
}

size_t imap_fmt_tag(char out[static 12], unsigned n) {
  char d[10];
  size_t k = 0;
  do
    d[k++] = (char)('0' + n % 10);
  while ((n /= 10) != 0);
  while (k < 3)
    d[k++] = '0';
  out[0] = 'C';
  for (size_t i = 0; i < k; i++)
    out[1 + i] = d[k - 1 - i];
  out[1 + k] = 0;
  return 1 + k;
}
