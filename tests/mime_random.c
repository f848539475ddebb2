/* mime_random.c — random header texts for the MIME property tests
 * (test_mime_compose, test_mime_pypeer): pieces that stress quoting
 * (RFC 5322 §3.2.4), encoded words (RFC 2047 §5) and folding (RFC 5322
 * §2.2.3), drawn by xorshift64*. */
#include "mime_random.h"

#include <stdint.h>

guint64 mime_random_next(guint64 *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

char *mime_random_text(guint64 *seed, gboolean words) {
  static const char *const pieces[] = {"a",
                                       "Bob",
                                       " ",
                                       "  ",
                                       "\"",
                                       "\\",
                                       "=?",
                                       "?=",
                                       "=?UTF-8?Q?x?=",
                                       "(",
                                       ")",
                                       "<",
                                       ">",
                                       ",",
                                       ";",
                                       ":",
                                       "@",
                                       ".",
                                       "_",
                                       "=",
                                       "%",
                                       "'",
                                       "*",
                                       "\xC3\xA9",
                                       "\xE2\x82\xAC",
                                       "\xF0\x9F\x98\x80",
                                       "\xE6\x97\xA5",
                                       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                       "From ",
                                       "--=_ms_"};
  GString *s = g_string_new(NULL);
  int n = 1 + (int)(mime_random_next(seed) % 12);
  for (int k = 0; k < n; k++) {
    const char *p = pieces[mime_random_next(seed) % G_N_ELEMENTS(pieces)];
    if (!words && g_str_has_prefix(p, "=?UTF"))
      p = "?";
    g_string_append(s, p);
  }
  char *t = g_strstrip(g_string_free(s, FALSE));
  if (!*t) {
    g_free(t);
    t = g_strdup("x");
  }
  return t;
}
