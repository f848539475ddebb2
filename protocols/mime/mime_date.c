/* mime_date.c — RFC 5322 §3.3 date-time.
 *
 * Output always has the day name, a two-digit day, four-digit year,
 * seconds and a numeric zone (§3.3). Parsing accepts §3.3 plus §4.3: the
 * obsolete zones (UT, GMT, the US zones, military letters read as -0000
 * because RFC 822 got their signs wrong), two-digit years (< 50 → 20xx)
 * and three-digit years (+1900), CFWS anywhere. Day and month names come
 * from tables here, never from the locale. Calendar arithmetic is the
 * proleptic Gregorian calendar in integers (days from and to a civil date,
 * the algorithms of H. Hinnant's "chrono-compatible low-level date
 * algorithms"), the calendar GLib's GDateTime uses, over the same years
 * 1..9999 — without an allocation per date. */
#include "mime_date.h"

#include "mime_int.h"

#include <string.h>

static const char *const days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of Y-M-D (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                   /* [0, 399] */
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

/* The civil date of day Z since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dm[m - 1];
}

static char *put2(char *o, int v) {
  o[0] = (char)('0' + v / 10);
  o[1] = (char)('0' + v % 10);
  return o + 2;
}

char *mime_date_format(int64_t sim_ns, int64_t epoch_unix, int tz_min) {
  char buf[MIME__DATE_MAX];
  gsize n = mime__date_format_into(buf, sim_ns, epoch_unix, tz_min);
  return n ? g_strndup(buf, n) : NULL;
}

gsize mime__date_format_into(char *r, int64_t sim_ns, int64_t epoch_unix, int tz_min) {
  if (tz_min < -1439 || tz_min > 1439)
    return 0;
  int64_t sec = sim_ns / 1000000000;
  if (sim_ns % 1000000000 < 0)
    sec--;
  if ((epoch_unix > 0 && sec > INT64_MAX - epoch_unix) ||
      (epoch_unix < 0 && sec < INT64_MIN - epoch_unix))
    return 0;
  int64_t t = sec + epoch_unix;
  /* Year 1..9999 in Unix seconds. */
  if (t < INT64_C(-62135596800) + 86400 || t > INT64_C(253402300799) - 86400)
    return 0;
  int64_t local = t + (int64_t)tz_min * 60;
  int64_t dn = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t sod = local - dn * 86400; /* [0, 86399] */
  int64_t year;
  int mon, day;
  civil_from_days(dn, &year, &mon, &day);
  int wd = (int)((dn % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday: index 3 */
  int off = tz_min < 0 ? -tz_min : tz_min;
  /* "Thu, 01 Jan 2026 00:00:00 +0000" */
  char *o = r;
  memcpy(o, days[wd], 3);
  o += 3;
  *o++ = ',';
  *o++ = ' ';
  o = put2(o, day);
  *o++ = ' ';
  memcpy(o, months[mon - 1], 3);
  o += 3;
  *o++ = ' ';
  o = put2(o, (int)(year / 100));
  o = put2(o, (int)(year % 100));
  *o++ = ' ';
  o = put2(o, (int)(sod / 3600));
  *o++ = ':';
  o = put2(o, (int)(sod / 60 % 60));
  *o++ = ':';
  o = put2(o, (int)(sod % 60));
  *o++ = ' ';
  *o++ = tz_min < 0 ? '-' : '+';
  o = put2(o, off / 60);
  o = put2(o, off % 60);
  *o = '\0';
  return (gsize)(o - r);
}

int64_t mime_date_to_sim(int64_t unix_s, int64_t epoch_unix) {
  int64_t d = unix_s - epoch_unix; /* both within years 1..9999: no overflow */
  if (d > INT64_MAX / 1000000000)
    return INT64_MAX;
  if (d < INT64_MIN / 1000000000)
    return INT64_MIN;
  return d * 1000000000;
}

/* Reads up to MAXD digits; returns the count read. */
static int digits(const char *s, gsize len, gsize *pos, int maxd, int *val) {
  int n = 0, v = 0;
  while (*pos < len && n < maxd && g_ascii_isdigit(s[*pos])) {
    v = v * 10 + (s[*pos] - '0');
    (*pos)++;
    n++;
  }
  *val = v;
  return n;
}

/* A run of letters at *POS: its start and length in *W, *WL. */
static gboolean word(const char *s, gsize len, gsize *pos, const char **w, gsize *wl) {
  gsize p = *pos;
  while (p < len && g_ascii_isalpha(s[p]))
    p++;
  if (p == *pos)
    return FALSE;
  *w = s + *pos;
  *wl = p - *pos;
  *pos = p;
  return TRUE;
}

/* W (WL octets) equals NAME ignoring ASCII case. */
static gboolean word_is(const char *w, gsize wl, const char *name) {
  return strlen(name) == wl && g_ascii_strncasecmp(w, name, wl) == 0;
}

static const struct {
  const char *name;
  int min;
} zones[] = {
    {"UT", 0},        {"GMT", 0},       {"Z", 0},         {"EST", -5 * 60},
    {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60}, {"MST", -7 * 60},
    {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
};

gboolean mime_date_parse(const char *text, int64_t *unix_s, int *tz_min) {
  if (!text)
    return FALSE;
  const char *s = text;
  gsize len = strlen(s), pos = 0;
  const char *w;
  gsize wl;
  int day, mon = -1, year, hh, mm, ss = 0, tz = 0;
  mime__skip_cfws(s, len, &pos, NULL);
  gsize save = pos;
  if (word(s, len, &pos, &w, &wl)) { /* day-of-week "," */
    gboolean known = FALSE;
    for (int i = 0; i < 7; i++)
      known |= word_is(w, wl, days[i]);
    mime__skip_cfws(s, len, &pos, NULL);
    if (!known || pos >= len || s[pos] != ',')
      return FALSE;
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
  } else {
    pos = save;
  }
  if (digits(s, len, &pos, 2, &day) == 0 || day < 1 || day > 31)
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  if (!word(s, len, &pos, &w, &wl))
    return FALSE;
  for (int i = 0; i < 12; i++)
    if (word_is(w, wl, months[i]))
      mon = i + 1;
  if (mon < 0)
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  int nd = digits(s, len, &pos, 4, &year);
  if (nd < 2 || (pos < len && g_ascii_isdigit(s[pos])))
    return FALSE;
  if (nd == 2) /* RFC 5322 §4.3 */
    year += year < 50 ? 2000 : 1900;
  else if (nd == 3)
    year += 1900;
  if (year < 1)
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  if (digits(s, len, &pos, 2, &hh) == 0 || hh > 23)
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos >= len || s[pos++] != ':')
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  if (digits(s, len, &pos, 2, &mm) != 2 || mm > 59)
    return FALSE;
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos < len && s[pos] == ':') {
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
    if (digits(s, len, &pos, 2, &ss) != 2 || ss > 60)
      return FALSE;
    mime__skip_cfws(s, len, &pos, NULL);
  }
  if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos++] == '-' ? -1 : 1, z;
    if (digits(s, len, &pos, 4, &z) != 4 || z % 100 > 59)
      return FALSE;
    tz = sign * (z / 100 * 60 + z % 100);
  } else if (word(s, len, &pos, &w, &wl)) {
    gboolean found = FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(zones); i++)
      if (word_is(w, wl, zones[i].name)) {
        tz = zones[i].min;
        found = TRUE;
      }
    if (!found && wl == 1 && g_ascii_toupper(w[0]) != 'J')
      found = TRUE; /* military zone: -0000 (RFC 5322 §4.3) */
    if (!found)
      return FALSE;
  } else {
    return FALSE;
  }
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos != len)
    return FALSE;
  if (year > 9999 || day > days_in_month(year, mon))
    return FALSE; /* 31 Feb and friends */
  if (unix_s)
    *unix_s = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 +
              (ss == 60 ? 59 : ss) - (int64_t)tz * 60 + (ss == 60 ? 1 : 0);
  if (tz_min)
    *tz_min = tz;
  return TRUE;
}
