/* trace_time.c — durations as text for the trace tools, exact integers.
 *
 * Parsing keeps every part as integer digits: the whole part is multiplied
 * by the unit, each fraction digit by a tenth of the previous scale, and
 * every step is checked against INT64_MAX before it is taken.
 */
#include "trace_time.h"

#include <string.h>

G_DEFINE_QUARK(trace - time - error - quark, trace_time_error)

#define NS_US INT64_C(1000)
#define NS_MS INT64_C(1000000)
#define NS_S INT64_C(1000000000)
#define NS_MIN (60 * NS_S)
#define NS_H (60 * NS_MIN)
#define NS_D (24 * NS_H)

typedef struct {
  const char *name;
  int64_t ns;
} unit_row;

/* Largest first: the order of the printer. */
static const unit_row units[] = {{"d", NS_D},   {"h", NS_H},   {"m", NS_MIN}, {"s", NS_S},
                                 {"ms", NS_MS}, {"us", NS_US}, {"ns", 1}};

/* Matches the longest unit name at *P that is not followed by a letter. */
static bool unit_take(const char **p, int64_t *ns) {
  size_t best = 0;
  int64_t val = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
    size_t n = strlen(units[i].name);
    if (n > best && strncmp(*p, units[i].name, n) == 0 && !g_ascii_isalpha((*p)[n])) {
      best = n;
      val = units[i].ns;
    }
  }
  if (!best)
    return false;
  *p += best;
  *ns = val;
  return true;
}

static bool fail(GError **err, trace_time_error_code code, const char *text, const char *why) {
  g_set_error(err, TRACE_TIME_ERROR, code, "duration \"%s\": %s", text, why);
  return false;
}

bool trace_time_parse(const char *text, int64_t *out, GError **err) {
  static const char expect[] = "expected a number and a unit, like \"250ms\", \"5m\" or \"2h\"";
  static const char too_big[] = "too large (at most 9223372036854775807ns)";
  const char *p = text;
  int64_t total = 0;
  if (!p || !*p)
    return fail(err, TRACE_TIME_ERROR_SYNTAX, p ? p : "", expect);
  if (*p == '-')
    return fail(err, TRACE_TIME_ERROR_RANGE, text, "must not be negative");
  while (*p) {
    if (!g_ascii_isdigit(*p))
      return fail(err, TRACE_TIME_ERROR_SYNTAX, text, expect);
    const char *whole = p;
    while (g_ascii_isdigit(*p))
      p++;
    const char *whole_end = p, *frac = p;
    if (*p == '.') {
      frac = ++p;
      while (g_ascii_isdigit(*p))
        p++;
      if (p == frac)
        return fail(err, TRACE_TIME_ERROR_SYNTAX, text, "expected digits after the decimal point");
    }
    const char *frac_end = p;
    int64_t unit;
    if (!unit_take(&p, &unit))
      return fail(err, TRACE_TIME_ERROR_UNIT, text,
                  "expected a unit (d, h, m, s, ms, us, ns) after the number");
    int64_t part = 0;
    for (const char *d = whole; d < whole_end; d++) {
      int64_t digit = *d - '0';
      if (part > (INT64_MAX - digit) / 10)
        return fail(err, TRACE_TIME_ERROR_RANGE, text, too_big);
      part = part * 10 + digit;
    }
    if (part > INT64_MAX / unit)
      return fail(err, TRACE_TIME_ERROR_RANGE, text, too_big);
    part *= unit;
    int64_t scale = unit;
    for (const char *d = frac; d < frac_end; d++) {
      int64_t digit = *d - '0';
      if (scale % 10) {
        if (digit)
          return fail(err, TRACE_TIME_ERROR_RANGE, text, "finer than one nanosecond");
        continue;
      }
      scale /= 10;
      if (part > INT64_MAX - digit * scale)
        return fail(err, TRACE_TIME_ERROR_RANGE, text, too_big);
      part += digit * scale;
    }
    if (total > INT64_MAX - part)
      return fail(err, TRACE_TIME_ERROR_RANGE, text, too_big);
    total += part;
  }
  *out = total;
  return true;
}

/* |T| as uint64 without overflow at INT64_MIN. */
static uint64_t magnitude(int64_t t) { return t < 0 ? (uint64_t)(-(t + 1)) + 1 : (uint64_t)t; }

char *trace_time_format(int64_t t, char buf[TRACE_TIME_BUFSZ]) {
  uint64_t rest = magnitude(t);
  size_t len = 0;
  if (t < 0)
    buf[len++] = '-';
  if (!rest) {
    g_strlcpy(buf + len, "0s", TRACE_TIME_BUFSZ - len);
    return buf;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(units) && rest; i++) {
    uint64_t n = rest / (uint64_t)units[i].ns;
    if (!n)
      continue;
    rest -= n * (uint64_t)units[i].ns;
    len += (size_t)g_snprintf(buf + len, TRACE_TIME_BUFSZ - len, "%" G_GUINT64_FORMAT "%s", n,
                              units[i].name);
  }
  return buf;
}

char *trace_time_format_clock(int64_t t, char buf[TRACE_TIME_BUFSZ]) {
  uint64_t v = magnitude(t);
  const char *sign = t < 0 ? "-" : "";
  uint64_t ms = (v / (uint64_t)NS_MS) % 1000, s = (v / (uint64_t)NS_S) % 60;
  uint64_t m = (v / (uint64_t)NS_MIN) % 60, h = (v / (uint64_t)NS_H) % 24;
  uint64_t d = v / (uint64_t)NS_D;
  if (d)
    g_snprintf(buf, TRACE_TIME_BUFSZ,
               "%s%" G_GUINT64_FORMAT "d %" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT
               ":%02" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT,
               sign, d, h, m, s, ms);
  else if (h)
    g_snprintf(buf, TRACE_TIME_BUFSZ,
               "%s%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT
               ".%03" G_GUINT64_FORMAT,
               sign, h, m, s, ms);
  else
    g_snprintf(buf, TRACE_TIME_BUFSZ,
               "%s%" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT, sign, m, s,
               ms);
  return buf;
}

char *trace_time_format_short(int64_t t, char buf[TRACE_TIME_BUFSZ]) {
  uint64_t rest = magnitude(t);
  size_t len = 0;
  int parts = 0;
  if (t < 0)
    buf[len++] = '-';
  if (!rest) {
    g_strlcpy(buf + len, "0s", TRACE_TIME_BUFSZ - len);
    return buf;
  }
  buf[len] = '\0';
  for (size_t i = 0; i < G_N_ELEMENTS(units) && rest && parts < 2; i++) {
    uint64_t n = rest / (uint64_t)units[i].ns;
    if (!n) {
      if (parts)
        break; /* keep the two parts adjacent: "1m 0s" not "1m 250ms" */
      continue;
    }
    rest -= n * (uint64_t)units[i].ns;
    len += (size_t)g_snprintf(buf + len, TRACE_TIME_BUFSZ - len, "%s%" G_GUINT64_FORMAT "%s",
                              parts ? " " : "", n, units[i].name);
    parts++;
  }
  return buf;
}
