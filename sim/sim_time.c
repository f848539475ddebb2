/* sim_time.c — parsing and printing durations in integer nanoseconds. */
#include "sim_time.h"

#include <string.h>

G_DEFINE_QUARK(sim-time-error-quark, sim_time_error)

static const struct {
  const char *name;
  sim_time ns;
} units[] = {
    /* Longest names first where one is a prefix of another ("ms" vs "m"). */
    {"d", SIM_DAY}, {"h", SIM_HOUR}, {"ms", SIM_MS}, {"us", SIM_US},
    {"ns", SIM_NS}, {"m", SIM_MIN},  {"s", SIM_S},
};

static bool lookup_unit(const char **p, sim_time *ns) {
  for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
    size_t n = strlen(units[i].name);
    if (strncmp(*p, units[i].name, n) == 0 && !g_ascii_isalpha((*p)[n])) {
      *p += n;
      *ns = units[i].ns;
      return true;
    }
  }
  return false;
}

bool sim_time_parse(const char *text, sim_time *out, GError **err) {
  const char *p = text;
  sim_time total = 0;
  bool any = false;
  if (*p == '-') {
    g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_RANGE,
                "duration \"%s\": must not be negative", text);
    return false;
  }
  while (*p) {
    if (!g_ascii_isdigit(*p)) {
      g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX,
                  "duration \"%s\": expected a number like \"250ms\", \"5m\" or \"2h\"", text);
      return false;
    }
    /* Integer part and optional fraction, kept exactly as digits. */
    uint64_t whole = 0;
    bool overflow = false;
    while (g_ascii_isdigit(*p)) {
      if (whole > (UINT64_MAX - 9) / 10)
        overflow = true;
      else
        whole = whole * 10 + (uint64_t)(*p - '0');
      p++;
    }
    const char *frac = NULL;
    size_t nfrac = 0;
    if (*p == '.') {
      p++;
      frac = p;
      while (g_ascii_isdigit(*p))
        p++;
      nfrac = (size_t)(p - frac);
      if (nfrac == 0) {
        g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX,
                    "duration \"%s\": expected digits after the decimal point", text);
        return false;
      }
    }
    sim_time unit;
    if (!*p || !lookup_unit(&p, &unit)) {
      g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_UNIT,
                  "duration \"%s\": expected a unit (d, h, m, s, ms, us, ns) after the number",
                  text);
      return false;
    }
    if (overflow || whole > (uint64_t)(INT64_MAX / unit)) {
      g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_RANGE,
                  "duration \"%s\": too large (at most %" G_GINT64_FORMAT " ns)", text,
                  (gint64)INT64_MAX);
      return false;
    }
    sim_time part = (sim_time)whole * unit;
    /* Fraction: each digit must land on a whole nanosecond. */
    sim_time scale = unit;
    for (size_t i = 0; i < nfrac; i++) {
      int d = frac[i] - '0';
      if (scale % 10 != 0) {
        if (d != 0) {
          g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_RANGE,
                      "duration \"%s\": finer than one nanosecond", text);
          return false;
        }
        continue;
      }
      scale /= 10;
      if (part > INT64_MAX - d * scale) {
        g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_RANGE,
                    "duration \"%s\": too large (at most %" G_GINT64_FORMAT " ns)", text,
                    (gint64)INT64_MAX);
        return false;
      }
      part += d * scale;
    }
    if (total > INT64_MAX - part) {
      g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_RANGE,
                  "duration \"%s\": too large (at most %" G_GINT64_FORMAT " ns)", text,
                  (gint64)INT64_MAX);
      return false;
    }
    total += part;
    any = true;
  }
  if (!any) {
    g_set_error(err, SIM_TIME_ERROR, SIM_TIME_ERROR_SYNTAX,
                "duration \"%s\": expected a number like \"250ms\", \"5m\" or \"2h\"", text);
    return false;
  }
  *out = total;
  return true;
}

char *sim_time_format(sim_time t, char buf[SIM_TIME_BUFSZ]) {
  static const struct {
    const char *name;
    sim_time ns;
  } order[] = {{"d", SIM_DAY}, {"h", SIM_HOUR}, {"m", SIM_MIN}, {"s", SIM_S},
               {"ms", SIM_MS}, {"us", SIM_US},  {"ns", SIM_NS}};
  size_t len = 0;
  uint64_t rest;
  if (t < 0) {
    buf[len++] = '-';
    rest = (uint64_t)(-(t + 1)) + 1; /* INT64_MIN safe */
  } else {
    rest = (uint64_t)t;
  }
  if (rest == 0) {
    g_strlcpy(buf + len, "0s", SIM_TIME_BUFSZ - len);
    return buf;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(order) && rest; i++) {
    uint64_t n = rest / (uint64_t)order[i].ns;
    if (!n)
      continue;
    rest -= n * (uint64_t)order[i].ns;
    len += (size_t)g_snprintf(buf + len, SIM_TIME_BUFSZ - len, "%" G_GUINT64_FORMAT "%s", n,
                              order[i].name);
  }
  buf[SIM_TIME_BUFSZ - 1] = '\0';
  return buf;
}

char *sim_time_format_short(sim_time t, char buf[SIM_TIME_BUFSZ]) {
  static const struct {
    const char *name;
    sim_time ns;
  } order[] = {{"d", SIM_DAY}, {"h", SIM_HOUR}, {"min", SIM_MIN}, {"s", SIM_S},
               {"ms", SIM_MS}, {"us", SIM_US},  {"ns", SIM_NS}};
  if (t == 0) {
    g_strlcpy(buf, "0s", SIM_TIME_BUFSZ);
    return buf;
  }
  uint64_t mag = t < 0 ? (uint64_t)(-(t + 1)) + 1 : (uint64_t)t;
  size_t i = 0;
  while ((uint64_t)order[i].ns > mag)
    i++;
  uint64_t unit, whole, frac;
  for (;;) {
    unit = (uint64_t)order[i].ns;
    /* Integer part and three decimals, rounded half up. */
    whole = mag / unit;
    frac = unit >= 1000 ? ((mag % unit) * 1000 + unit / 2) / unit : 0;
    if (frac == 1000) {
      whole++;
      frac = 0;
    }
    /* Rounding up may reach the next unit (999.9996ms -> 1s). */
    if (i > 0 && whole >= (uint64_t)order[i - 1].ns / unit)
      i--;
    else
      break;
  }
  if (whole >= 100)
    frac = 0; /* 4 significant digits are enough */
  char digits[8] = "";
  if (frac) {
    g_snprintf(digits, sizeof digits, ".%03" G_GUINT64_FORMAT, frac);
    for (size_t k = strlen(digits); k > 1 && digits[k - 1] == '0'; k--)
      digits[k - 1] = '\0';
  }
  g_snprintf(buf, SIM_TIME_BUFSZ, "%s%" G_GUINT64_FORMAT "%s%s", t < 0 ? "-" : "", whole, digits,
             order[i].name);
  return buf;
}
