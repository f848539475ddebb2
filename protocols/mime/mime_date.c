/* mime_date.c — RFC 5322 §3.3 date-time.
 *
 * Output always has the day name, a two-digit day, four-digit year,
 * seconds and a numeric zone (§3.3). Parsing accepts §3.3 plus §4.3: the
 * obsolete zones (UT, GMT, the US zones, military letters read as -0000
 * because RFC 822 got their signs wrong), two-digit years (< 50 → 20xx)
 * and three-digit years (+1900), CFWS anywhere. Day and month names come
 * from tables here, never from the locale; calendar arithmetic is GLib's
 * GDateTime. */
#include "mime_date.h"

#include "mime_int.h"

#include <string.h>

static const char *const days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *mime_date_format(int64_t sim_ns, int64_t epoch_unix, int tz_min) {
  if (tz_min < -1439 || tz_min > 1439)
    return NULL;
  int64_t sec = sim_ns / 1000000000;
  if (sim_ns % 1000000000 < 0)
    sec--;
  if ((epoch_unix > 0 && sec > INT64_MAX - epoch_unix) ||
      (epoch_unix < 0 && sec < INT64_MIN - epoch_unix))
    return NULL;
  int64_t t = sec + epoch_unix;
  /* Year 1..9999 in Unix seconds. */
  if (t < INT64_C(-62135596800) + 86400 || t > INT64_C(253402300799) - 86400)
    return NULL;
  GDateTime *u = g_date_time_new_from_unix_utc(t + (int64_t)tz_min * 60);
  if (!u)
    return NULL;
  int off = tz_min < 0 ? -tz_min : tz_min;
  char *r = g_strdup_printf(
      "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[g_date_time_get_day_of_week(u) - 1],
      g_date_time_get_day_of_month(u), months[g_date_time_get_month(u) - 1],
      g_date_time_get_year(u), g_date_time_get_hour(u), g_date_time_get_minute(u),
      g_date_time_get_second(u), tz_min < 0 ? '-' : '+', off / 60, off % 60);
  g_date_time_unref(u);
  return r;
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

static gboolean word(const char *s, gsize len, gsize *pos, GString *out) {
  gsize p = *pos;
  while (p < len && g_ascii_isalpha(s[p]))
    p++;
  if (p == *pos)
    return FALSE;
  g_string_assign(out, "");
  g_string_append_len(out, s + *pos, (gssize)(p - *pos));
  *pos = p;
  return TRUE;
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
  GString *w = g_string_new(NULL);
  gboolean ok = FALSE;
  int day, mon = -1, year, hh, mm, ss = 0, tz = 0;
  mime__skip_cfws(s, len, &pos, NULL);
  gsize save = pos;
  if (word(s, len, &pos, w)) { /* day-of-week "," */
    gboolean known = FALSE;
    for (int i = 0; i < 7; i++)
      known |= g_ascii_strcasecmp(w->str, days[i]) == 0;
    mime__skip_cfws(s, len, &pos, NULL);
    if (!known || pos >= len || s[pos] != ',')
      goto out;
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
  } else {
    pos = save;
  }
  if (digits(s, len, &pos, 2, &day) == 0 || day < 1 || day > 31)
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  if (!word(s, len, &pos, w))
    goto out;
  for (int i = 0; i < 12; i++)
    if (g_ascii_strcasecmp(w->str, months[i]) == 0)
      mon = i + 1;
  if (mon < 0)
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  int nd = digits(s, len, &pos, 4, &year);
  if (nd < 2 || (pos < len && g_ascii_isdigit(s[pos])))
    goto out;
  if (nd == 2) /* RFC 5322 §4.3 */
    year += year < 50 ? 2000 : 1900;
  else if (nd == 3)
    year += 1900;
  if (year < 1)
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  if (digits(s, len, &pos, 2, &hh) == 0 || hh > 23)
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos >= len || s[pos++] != ':')
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  if (digits(s, len, &pos, 2, &mm) != 2 || mm > 59)
    goto out;
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos < len && s[pos] == ':') {
    pos++;
    mime__skip_cfws(s, len, &pos, NULL);
    if (digits(s, len, &pos, 2, &ss) != 2 || ss > 60)
      goto out;
    mime__skip_cfws(s, len, &pos, NULL);
  }
  if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos++] == '-' ? -1 : 1, z;
    if (digits(s, len, &pos, 4, &z) != 4 || z % 100 > 59)
      goto out;
    tz = sign * (z / 100 * 60 + z % 100);
  } else if (word(s, len, &pos, w)) {
    gboolean found = FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(zones); i++)
      if (g_ascii_strcasecmp(w->str, zones[i].name) == 0) {
        tz = zones[i].min;
        found = TRUE;
      }
    if (!found && w->len == 1 && g_ascii_toupper(w->str[0]) != 'J')
      found = TRUE; /* military zone: -0000 (RFC 5322 §4.3) */
    if (!found)
      goto out;
  } else {
    goto out;
  }
  mime__skip_cfws(s, len, &pos, NULL);
  if (pos != len)
    goto out;
  GDateTime *d = g_date_time_new_utc(year, mon, day, hh, mm, ss == 60 ? 59 : ss);
  if (!d)
    goto out; /* 31 Feb and friends */
  if (unix_s)
    *unix_s = g_date_time_to_unix(d) - (int64_t)tz * 60 + (ss == 60 ? 1 : 0);
  if (tz_min)
    *tz_min = tz;
  g_date_time_unref(d);
  ok = TRUE;
out:
  g_string_free(w, TRUE);
  return ok;
}
