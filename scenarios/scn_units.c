/* scn_units.c — exact parsing of sizes, bandwidths and ratios. */
#include "scn_units.h"

#include <string.h>

G_DEFINE_QUARK(scn-units-error-quark, scn_units_error)

__extension__ typedef unsigned __int128 u128;

/* Parses "<digits>[.<digits>]" at *p into a value scaled by 10^9 (exact
 * for up to 9 fraction digits). Returns false on syntax error / overflow. */
static bool parse_decimal(const char **p, u128 *nano) {
  const char *s = *p;
  u128 v = 0;
  int nd = 0;
  while (g_ascii_isdigit(*s)) {
    v = v * 10 + (unsigned)(*s - '0');
    if (v > (u128)UINT64_MAX * 1000)
      return false;
    s++;
    nd++;
  }
  if (!nd)
    return false;
  v *= 1000000000u;
  if (*s == '.') {
    s++;
    u128 scale = 100000000u;
    int nf = 0;
    while (g_ascii_isdigit(*s)) {
      if (scale == 0) {
        if (*s != '0')
          return false; /* finer than 1e-9 */
      } else {
        v += scale * (unsigned)(*s - '0');
        scale /= 10;
      }
      s++;
      nf++;
    }
    if (!nf)
      return false;
  }
  *p = s;
  *nano = v;
  return true;
}

typedef struct {
  const char *suffix;
  uint64_t mult;
} unit;

static bool parse_with_units(const char *text, const unit *units, size_t nunits,
                             const char *what, const char *examples, uint64_t *out,
                             GError **err) {
  const char *p = text;
  u128 nano;
  if (!parse_decimal(&p, &nano)) {
    g_set_error(err, SCN_UNITS_ERROR, 0, "%s \"%s\": expected a number like %s", what, text,
                examples);
    return false;
  }
  for (size_t i = 0; i < nunits; i++) {
    if (strcmp(p, units[i].suffix) != 0)
      continue;
    u128 v = nano * units[i].mult;
    if (v % 1000000000u != 0) {
      g_set_error(err, SCN_UNITS_ERROR, 0, "%s \"%s\": not a whole number of units", what, text);
      return false;
    }
    v /= 1000000000u;
    if (v > UINT64_MAX) {
      g_set_error(err, SCN_UNITS_ERROR, 0, "%s \"%s\": too large", what, text);
      return false;
    }
    *out = (uint64_t)v;
    return true;
  }
  g_set_error(err, SCN_UNITS_ERROR, 0, "%s \"%s\": unknown unit \"%s\" (expected a number like %s)",
              what, text, p, examples);
  return false;
}

bool scn_parse_size(const char *text, uint64_t *bytes, GError **err) {
  static const unit units[] = {
      {"", 1},          {"B", 1},
      {"kB", 1000},     {"KB", 1000},       {"MB", 1000000}, {"GB", 1000000000},
      {"KiB", 1 << 10}, {"MiB", 1 << 20},   {"GiB", 1u << 30},
      {"TiB", (uint64_t)1 << 40},
  };
  return parse_with_units(text, units, G_N_ELEMENTS(units), "size", "\"1500B\", \"64KiB\", \"1MiB\"",
                          bytes, err);
}

bool scn_parse_bandwidth(const char *text, uint64_t *bps, GError **err) {
  static const unit units[] = {
      {"bps", 1},           {"bit", 1},
      {"kbit", 1000},       {"kbps", 1000},
      {"Mbit", 1000000},    {"Mbps", 1000000},
      {"Gbit", 1000000000}, {"Gbps", 1000000000},
  };
  return parse_with_units(text, units, G_N_ELEMENTS(units), "bandwidth",
                          "\"64kbit\", \"10Mbit\", \"1Gbit\"", bps, err);
}

bool scn_parse_ppm(const char *text, uint32_t *ppm, GError **err) {
  static const unit units[] = {{"%", 10000}, {"", 1000000}, {"ppm", 1}};
  uint64_t v;
  if (!parse_with_units(text, units, G_N_ELEMENTS(units), "ratio", "\"0.1%\", \"0.001\"", &v,
                        err))
    return false;
  if (v > 1000000) {
    g_set_error(err, SCN_UNITS_ERROR, 0, "ratio \"%s\": more than 100%%", text);
    return false;
  }
  *ppm = (uint32_t)v;
  return true;
}
