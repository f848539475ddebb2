/* imap_fmt.c — the few printf conversions IMAP lines use, expanded
 * directly (see imap_fmt.h). */
#include "imap_fmt.h"

#include <stdbool.h>
#include <string.h>

static void put(GByteArray *out, const char *p, size_t n) {
  g_byte_array_append(out, (const guint8 *)p, (guint)n);
}

static void put_uint(GByteArray *out, unsigned long v) {
  char buf[24], *e = buf + sizeof buf, *d = e;
  do
    *--d = (char)('0' + v % 10);
  while (v /= 10);
  put(out, d, (size_t)(e - d));
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

void imap_fmt_append(GByteArray *out, const char *fmt, va_list ap) {
  if (!simple(fmt)) {
    char *s = g_strdup_vprintf(fmt, ap);
    put(out, s, strlen(s));
    g_free(s);
    return;
  }
  const char *p = fmt;
  for (const char *q; (q = strchr(p, '%')) != NULL;) {
    put(out, p, (size_t)(q - p));
    switch (q[1]) {
    case 's': {
      const char *a = va_arg(ap, const char *);
      a = a ? a : "(null)"; /* as glibc prints it */
      put(out, a, strlen(a));
      p = q + 2;
      break;
    }
    case 'u':
      put_uint(out, va_arg(ap, unsigned));
      p = q + 2;
      break;
    case 'z':
      put_uint(out, va_arg(ap, size_t));
      p = q + 3;
      break;
    case 'l':
      put_uint(out, va_arg(ap, unsigned long));
      p = q + 3;
      break;
    default: /* '%' */
      put(out, "%", 1);
      p = q + 2;
      break;
    }
  }
  put(out, p, strlen(p));
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
