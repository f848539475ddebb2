/* Tests for mime_date (RFC 5322 §3.3, §4.3) and mime_codec (RFC 2045 §6.7
 * quoted-printable, §6.8 base64). */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_codec.h"
#include "mime_date.h"
#include "testutil.h"

#define S INT64_C(1000000000)

static const struct {
  int64_t ns;
  int64_t epoch;
  int tz;
  const char *want; /* NULL: refused */
} fmt[] = {
    {0, MIME_DATE_EPOCH_DEFAULT, 0, "Thu, 01 Jan 2026 00:00:00 +0000"},
    {1 * S + 999999999, MIME_DATE_EPOCH_DEFAULT, 0, "Thu, 01 Jan 2026 00:00:01 +0000"},
    {-1, MIME_DATE_EPOCH_DEFAULT, 0, "Wed, 31 Dec 2025 23:59:59 +0000"},
    {(int64_t)59 * 86400 * S, MIME_DATE_EPOCH_DEFAULT, 0, "Sun, 01 Mar 2026 00:00:00 +0000"},
    {90 * 60 * S, MIME_DATE_EPOCH_DEFAULT, -120, "Wed, 31 Dec 2025 23:30:00 -0200"},
    {0, MIME_DATE_EPOCH_DEFAULT, 330, "Thu, 01 Jan 2026 05:30:00 +0530"},
    {0, 837595405, -420, "Wed, 17 Jul 1996 02:23:25 -0700"},
    {0, 0, 0, "Thu, 01 Jan 1970 00:00:00 +0000"},
    {(int64_t)59 * 86400 * S, MIME_DATE_EPOCH_DEFAULT + 2 * 365 * 86400, 0,
     "Tue, 29 Feb 2028 00:00:00 +0000"},
    {0, MIME_DATE_EPOCH_DEFAULT, 1440, NULL},
    {INT64_MAX, INT64_MAX, 0, NULL},
};

START_TEST(format_table) {
  char *got = mime_date_format(fmt[_i].ns, fmt[_i].epoch, fmt[_i].tz);
  ck_assert_msg(g_strcmp0(got, fmt[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                fmt[_i].want);
  if (got) {
    int64_t u = 0;
    int tz = 99;
    ck_assert(mime_date_parse(got, &u, &tz));
    int64_t sec = fmt[_i].ns / S - (fmt[_i].ns % S < 0);
    ck_assert_int_eq(u, sec + fmt[_i].epoch);
    ck_assert_int_eq(tz, fmt[_i].tz);
  }
  g_free(got);
}
END_TEST

static const struct {
  const char *in;
  gboolean ok;
  int64_t unix_s;
  int tz;
} parse[] = {
    {"Fri, 21 Nov 1997 09:55:06 -0600", TRUE, 880127706, -360}, /* A.1.1 */
    {"Tue, 1 Jul 2003 10:52:37 +0200", TRUE, 1057049557, 120},  /* A.1.2 */
    {"Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n   -0330 (Newfoundland "
     "Time)",
     TRUE, -27723480, -210},                                          /* A.5 */
    {"21 Nov 97 09:55:06 GMT", TRUE, 880106106, 0},                   /* A.6.2 */
    {"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", TRUE, 837595405, -420}, /* RFC 3501 */
    {"1 Jan 2026 00:00 +0000", TRUE, 1767225600, 0},
    {"Thu, 01 Jan 2026 00:00:00 EST", TRUE, 1767225600 + 5 * 3600, -300},
    {"Thu, 01 Jan 2026 00:00:00 z", TRUE, 1767225600, 0},
    {"Thu, 01 Jan 2026 00:00:00 A", TRUE, 1767225600, 0},
    {"thu, 01 JAN 2026 00:00:00 +0100", TRUE, 1767225600 - 3600, 60},
    {"01 Jan 049 00:00:00 +0000", TRUE, -662688000, 0},
    {"31 Dec 1998 23:59:60 +0000", TRUE, 915148800, 0},
    {"Thu, 31 Feb 2026 00:00:00 +0000", FALSE, 0, 0},
    {"Thu, 01 Foo 2026 00:00:00 +0000", FALSE, 0, 0},
    {"Thu 01 Jan 2026 00:00:00 +0000", FALSE, 0, 0},
    {"Xyz, 01 Jan 2026 00:00:00 +0000", FALSE, 0, 0},
    {"01 Jan 2026 24:00:00 +0000", FALSE, 0, 0},
    {"01 Jan 2026 00:00:00 +000", FALSE, 0, 0},
    {"01 Jan 2026 00:00:00 +0000 trailing", FALSE, 0, 0},
    {"01 Jan 20266 00:00:00 +0000", FALSE, 0, 0},
    {"01 Jan 2026 00:00:00 Jx", FALSE, 0, 0},
    {"", FALSE, 0, 0},
};

START_TEST(parse_table) {
  int64_t u = -1;
  int tz = -1;
  gboolean ok = mime_date_parse(parse[_i].in, &u, &tz);
  ck_assert_msg(ok == parse[_i].ok, "row %d: got ok=%d", _i, ok);
  if (ok) {
    ck_assert_msg(u == parse[_i].unix_s, "row %d: got %lld want %lld", _i, (long long)u,
                  (long long)parse[_i].unix_s);
    ck_assert_msg(tz == parse[_i].tz, "row %d tz: got %d want %d", _i, tz, parse[_i].tz);
  }
}
END_TEST

/* The integer calendar agrees with GLib's GDateTime (what earlier
 * versions used) across years 1..9999: formatting at a spread of instants
 * and zones, and parsing every month's last days in years that test the
 * leap rules. */
static const char *const wdays[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const mnames[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

START_TEST(calendar_vs_gdatetime) {
  const int64_t lo = INT64_C(-62135596800) + 86400, hi = INT64_C(253402300799) - 86400;
  static const int zones[] = {0, -1439, 1439, 330, -420};
  int64_t step = (hi - lo) / 40000 + 7;
  for (int64_t t = lo; t <= hi; t += step) {
    for (gsize z = 0; z < G_N_ELEMENTS(zones); z++) {
      int tz = zones[z];
      GDateTime *u = g_date_time_new_from_unix_utc(t + (int64_t)tz * 60);
      ck_assert_ptr_nonnull(u);
      int off = tz < 0 ? -tz : tz;
      char *want = g_strdup_printf(
          "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
          wdays[g_date_time_get_day_of_week(u) - 1], g_date_time_get_day_of_month(u),
          mnames[g_date_time_get_month(u) - 1], g_date_time_get_year(u), g_date_time_get_hour(u),
          g_date_time_get_minute(u), g_date_time_get_second(u), tz < 0 ? '-' : '+', off / 60,
          off % 60);
      g_date_time_unref(u);
      char *got = mime_date_format(0, t, tz);
      ck_assert_msg(g_strcmp0(got, want) == 0, "t %" G_GINT64_FORMAT " tz %d: got [%s] want [%s]",
                    t, tz, got, want);
      int64_t back = 0;
      int btz = 99;
      ck_assert_msg(mime_date_parse(got, &back, &btz) && back == t && btz == tz,
                    "parse [%s]: got %" G_GINT64_FORMAT " %d want %" G_GINT64_FORMAT " %d", got,
                    back, btz, t, tz);
      g_free(got);
      g_free(want);
    }
  }
  static const int years[] = {1, 4, 100, 1600, 1900, 1970, 2000, 2024, 2026, 2100, 2400, 9999};
  for (gsize y = 0; y < G_N_ELEMENTS(years); y++)
    for (int m = 1; m <= 12; m++)
      for (int d = 27; d <= 31; d++) {
        char *in = g_strdup_printf("%02d %s %04d 23:59:60 -0130", d, mnames[m - 1], years[y]);
        GDateTime *g = g_date_time_new_utc(years[y], m, d, 23, 59, 59);
        int64_t got = 0;
        gboolean ok = mime_date_parse(in, &got, NULL);
        ck_assert_msg(ok == (g != NULL), "[%s]: got ok %d want %d", in, ok, g != NULL);
        if (g) {
          int64_t want = g_date_time_to_unix(g) + 90 * 60 + 1;
          ck_assert_msg(got == want, "[%s]: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, in,
                        got, want);
          g_date_time_unref(g);
        }
        g_free(in);
      }
}
END_TEST

START_TEST(to_sim) {
  ck_assert_int_eq(mime_date_to_sim(MIME_DATE_EPOCH_DEFAULT + 2, MIME_DATE_EPOCH_DEFAULT), 2 * S);
  ck_assert_int_eq(mime_date_to_sim(0, MIME_DATE_EPOCH_DEFAULT), -MIME_DATE_EPOCH_DEFAULT * S);
  ck_assert_int_eq(mime_date_to_sim(INT64_C(253402300799), INT64_C(-62135596800)), INT64_MAX);
}
END_TEST

/* ---- quoted-printable ---- */

static const struct {
  const char *in;
  const char *want;
  gboolean bad;
} qp_dec[] = {
    {"=48=65llo", "Hello", FALSE},
    {"soft=\r\nbreak", "softbreak", FALSE},
    {"soft=  \r\nbreak", "softbreak", FALSE},
    {"trailing   \r\nnext", "trailing\r\nnext", FALSE},
    {"lf only=\nx\n", "lf onlyx\n", FALSE},
    {"lower =c3=a9", "lower \xC3\xA9", FALSE},
    {"bad =ZZ and =4", "bad =ZZ and =4", TRUE},
    {"end=", "end", FALSE},
    {"", "", FALSE},
};

START_TEST(qp_decode_table) {
  gboolean bad = !qp_dec[_i].bad;
  GBytes *b = mime_codec_qp_decode(qp_dec[_i].in, strlen(qp_dec[_i].in), &bad);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  ck_assert_msg(n == strlen(qp_dec[_i].want) && (n == 0 || memcmp(d, qp_dec[_i].want, n) == 0),
                "row %d: got [%.*s] want [%s]", _i, (int)n, d, qp_dec[_i].want);
  ck_assert_msg(bad == qp_dec[_i].bad, "row %d bad: got %d", _i, bad);
  g_bytes_unref(b);
}
END_TEST

static const struct {
  const char *in;
  gboolean binary;
  const char *want;
} qp_enc[] = {
    {"Hello\n", FALSE, "Hello\r\n"},
    {"a=b\r\n", FALSE, "a=3Db\r\n"},
    {"tail \n", FALSE, "tail=20\r\n"},
    {"tab\t", FALSE, "tab=09"},
    {"caf\xC3\xA9", FALSE, "caf=C3=A9"},
    {".\nFrom me\n", FALSE, "=2E\r\n=46rom me\r\n"},
    {"a\r\nb", TRUE, "a=0D=0Ab"},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", FALSE,
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\nxxxxx"},
};

START_TEST(qp_encode_table) {
  char *got =
      mime_codec_qp_encode((const guint8 *)qp_enc[_i].in, strlen(qp_enc[_i].in), qp_enc[_i].binary);
  ck_assert_msg(strcmp(got, qp_enc[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                qp_enc[_i].want);
  g_free(got);
}
END_TEST

/* Every byte value, in both modes, at many lengths: encode → decode is
 * the identity (text mode: after CRLF normalisation), lines <= 76. */
START_TEST(qp_round_trip) {
  for (gsize len = 0; len < 600; len += 37) {
    guint8 *d = g_malloc(len + 1);
    for (gsize i = 0; i < len; i++)
      d[i] = (guint8)((i * 97 + len) & 0xff);
    char *e = mime_codec_qp_encode(d, len, TRUE);
    gchar **lines = g_strsplit(e, "\r\n", -1);
    for (gchar **l = lines; *l; l++)
      ck_assert_msg(strlen(*l) <= 76, "line of %zu", strlen(*l));
    g_strfreev(lines);
    GBytes *b = mime_codec_qp_decode(e, strlen(e), NULL);
    ck_assert_uint_eq(g_bytes_get_size(b), len);
    ck_assert(len == 0 || memcmp(g_bytes_get_data(b, NULL), d, len) == 0);
    g_bytes_unref(b);
    g_free(e);
    g_free(d);
  }
  const char *text = "line one  \r\nline two\t\r\n\r\n.leading dot\r\nFrom x\r\n=end";
  char *e = mime_codec_qp_encode((const guint8 *)text, strlen(text), FALSE);
  GBytes *b = mime_codec_qp_decode(e, strlen(e), NULL);
  ck_assert_uint_eq(g_bytes_get_size(b), strlen(text));
  ck_assert(memcmp(g_bytes_get_data(b, NULL), text, strlen(text)) == 0);
  g_bytes_unref(b);
  g_free(e);
}
END_TEST

/* ---- base64 ---- */

static const struct {
  const char *in;
  const char *want;
  gboolean bad;
} b64_dec[] = {
    {"SGVsbG8=", "Hello", FALSE},
    {"SGVs\r\nbG8=\r\n", "Hello", FALSE},
    {"SGVsbG8", "Hello", TRUE},
    {"SG!Vs bG8=", "Hello", TRUE},
    {"SGVsbG8=QUFB", "Hello", TRUE},
    {"S", "", TRUE},
    {"", "", FALSE},
};

START_TEST(b64_decode_table) {
  gboolean bad = !b64_dec[_i].bad;
  GBytes *b = mime_codec_base64_decode(b64_dec[_i].in, strlen(b64_dec[_i].in), &bad);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  ck_assert_msg(n == strlen(b64_dec[_i].want) && (n == 0 || memcmp(d, b64_dec[_i].want, n) == 0),
                "row %d: got [%.*s] want [%s]", _i, (int)n, d, b64_dec[_i].want);
  ck_assert_msg(bad == b64_dec[_i].bad, "row %d bad: got %d", _i, bad);
  g_bytes_unref(b);
}
END_TEST

START_TEST(b64_lines) {
  guint8 d[200];
  for (int i = 0; i < 200; i++)
    d[i] = (guint8)i;
  char *e = mime_codec_base64_encode(d, sizeof d);
  /* 200 octets → 268 characters → 76+76+76+40, each line CRLF-ended. */
  ck_assert_uint_eq(strlen(e), 268 + 4 * 2);
  ck_assert(e[76] == '\r' && e[77] == '\n' && g_str_has_suffix(e, "\r\n"));
  GBytes *b = mime_codec_base64_decode(e, strlen(e), NULL);
  ck_assert_uint_eq(g_bytes_get_size(b), 200);
  ck_assert(memcmp(g_bytes_get_data(b, NULL), d, 200) == 0);
  g_bytes_unref(b);
  g_free(e);
  e = mime_codec_base64_encode(d, 0);
  ck_assert_str_eq(e, "");
  g_free(e);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_date");
  TCase *tc = tcase_create("date");
  tcase_add_loop_test(tc, format_table, 0, G_N_ELEMENTS(fmt));
  tcase_add_loop_test(tc, parse_table, 0, G_N_ELEMENTS(parse));
  tcase_add_test(tc, to_sim);
  tcase_add_test(tc, calendar_vs_gdatetime);
  suite_add_tcase(s, tc);
  tc = tcase_create("codec");
  tcase_add_loop_test(tc, qp_decode_table, 0, G_N_ELEMENTS(qp_dec));
  tcase_add_loop_test(tc, qp_encode_table, 0, G_N_ELEMENTS(qp_enc));
  tcase_add_test(tc, qp_round_trip);
  tcase_add_loop_test(tc, b64_decode_table, 0, G_N_ELEMENTS(b64_dec));
  tcase_add_test(tc, b64_lines);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
