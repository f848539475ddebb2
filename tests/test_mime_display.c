/* Tests for mime_display_scan (the display read from the header in place)
 * against mime_display_new on a whole parse: the same fields, Received
 * from/by/with, attachments and Message-ID, for a table of messages cut
 * at every length (each prefix is a message too), for random headers, and
 * for composed messages. The scanned buffer is an exact-size copy, so a
 * read past its end shows under ASan. */
#include <check.h>
#include <glib.h>
#include <string.h>

#include "mime_compose.h"
#include "mime_date.h"
#include "mime_display.h"
#include "mime_int.h"
#include "mime_msg.h"
#include "mime_random.h"
#include "testutil.h"

/* "got ... want ..." for the first difference between the scanned view S
 * (and MID, its Message-ID) and the full one F (WANT_MID); NULL when they
 * are equal. */
static char *view_diff(const mime_display *s, const char *mid, const mime_display *f,
                       const char *want_mid) {
  char *r = NULL;
  if (g_strcmp0(mid, want_mid) != 0)
    r = g_strdup_printf("Message-ID: got [%s] want [%s]", mid ? mid : "(null)",
                        want_mid ? want_mid : "(null)");
  if (!r && s->fields->len != f->fields->len)
    r = g_strdup_printf("fields: got %u want %u", s->fields->len, f->fields->len);
  for (guint i = 0; !r && i < f->fields->len; i++) {
    const mime_display_field *a = s->fields->pdata[i], *b = f->fields->pdata[i];
    if (strcmp(a->name, b->name) != 0 || strcmp(a->value, b->value) != 0)
      r = g_strdup_printf("field %u: got [%s: %s] want [%s: %s]", i, a->name, a->value, b->name,
                          b->value);
  }
  if (!r && s->received->len != f->received->len)
    r = g_strdup_printf("received: got %u want %u", s->received->len, f->received->len);
  for (guint i = 0; !r && i < f->received->len; i++) {
    const mime_received_info *a = s->received->pdata[i], *b = f->received->pdata[i];
    if (g_strcmp0(a->from, b->from) || g_strcmp0(a->by, b->by) || g_strcmp0(a->with, b->with))
      r = g_strdup_printf("received %u: got [%s|%s|%s] want [%s|%s|%s]", i, a->from, a->by, a->with,
                          b->from, b->by, b->with);
    else if (a->from_info || a->by_info || a->via || a->id || a->for_addr || a->date || a->date_ok)
      r = g_strdup_printf("received %u: more than from/by/with", i);
  }
  if (!r && s->attachments->len != f->attachments->len)
    r = g_strdup_printf("attachments: got %u want %u", s->attachments->len, f->attachments->len);
  for (guint i = 0; !r && i < f->attachments->len; i++) {
    const mime_display_attachment *a = s->attachments->pdata[i], *b = f->attachments->pdata[i];
    if (strcmp(a->section, b->section) || g_strcmp0(a->filename, b->filename) ||
        strcmp(a->type, b->type) || a->size != b->size)
      r = g_strdup_printf("attachment %u: got [%s %s %s %zu] want [%s %s %s %zu]", i, a->section,
                          a->filename, a->type, (size_t)a->size, b->section, b->filename, b->type,
                          (size_t)b->size);
  }
  return r;
}

/* The first difference between the full view of DATA (LEN octets) and
 * both scanned ones: a new display, and *KEEP reused (mime_display_scan_into,
 * the view of the caller's previous message, whatever it was); NULL when
 * all are equal. */
static char *display_diff(const char *data, gsize len, mime_display **keep) {
  guint8 *copy = g_malloc(len ? len : 1); /* exact size: ASan sees overreads */
  memcpy(copy, data, len);
  char *mid = (char *)"unset", *kmid = (char *)"unset";
  mime_display *s = mime_display_scan(copy, len, &mid);
  *keep = mime_display_scan_into(*keep, copy, len, &kmid);
  /* the raw Message-ID (in DATA): unfolded, what the others give */
  const char *raw = "unset";
  gsize rawn = 5;
  mime_display *rw = mime_display_scan_into_raw(NULL, copy, len, &raw, &rawn);
  ck_assert(!raw || (raw >= (const char *)copy && raw + rawn <= (const char *)copy + len));
  char *rmid = raw ? mime_hdr_unfold(raw, rawn) : NULL;
  mime_msg *m = mime_msg_parse(copy, len, NULL);
  g_free(copy); /* the views own what they show */
  mime_display *f = mime_display_new(m);
  const char *want_mid = mime_hdr_get(mime_msg_root(m)->hdr, "Message-ID");
  char *r = view_diff(s, mid, f, want_mid);
  if (!r) {
    r = view_diff(*keep, kmid, f, want_mid);
    if (r) {
      char *t = g_strconcat("reused: ", r, NULL);
      g_free(r);
      r = t;
    }
  }
  if (!r) {
    r = view_diff(rw, rmid, f, want_mid);
    if (r) {
      char *t = g_strconcat("raw: ", r, NULL);
      g_free(r);
      r = t;
    }
  }
  mime_display_free(rw);
  g_free(rmid);
  mime_display_free(s);
  mime_display_free(f);
  mime_msg_free(m);
  g_free(mid);
  g_free(kmid);
  return r;
}

/* Every prefix of DATA, and DATA itself. */
static void check_every_cut(const char *what, const char *data, gsize len) {
  mime_display *keep = NULL;
  for (gsize cut = 0; cut <= len; cut++) {
    char *d = display_diff(data, cut, &keep);
    ck_assert_msg(d == NULL, "%s cut at %zu of %zu: %s", what, cut, len, d);
  }
  mime_display_free(keep);
}

#define MP_BODY                                                                                    \
  "\r\nThis is a multi-part message in MIME format.\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"   \
  "hello\r\n--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"                             \
  "Content-Disposition: attachment; filename=\"r\xC3\xA9sum\xC3\xA9.pdf\"\r\n"                     \
  "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--b1\r\n"                          \
  "Content-Type: text/plain; name=x.txt\r\n\r\nplain file\r\n--b1--\r\n"

/* The literal's length: some rows hold NULs. */
#define ROW(name, msg)                                                                             \
  { name, msg, sizeof msg - 1 }

static const struct {
  const char *name;
  const char *msg;
  gsize len;
} rows[] = {
    ROW("plain",
        "Received: from mx.a.test (mx.a.test [10.0.0.1])\r\n\tby mail.b.test with ESMTP id Q1\r\n"
        "\tfor <bob@b.test>; Sun, 01 Mar 2026 09:06:15 +0000\r\n"
        "Received: from users.a.test by mx.a.test with ESMTPA; Sun, 01 Mar 2026 09:06:14 +0000\r\n"
        "Date: Sun, 01 Mar 2026 09:06:13 +0000\r\nFrom: u1@a.test\r\nTo: bob@b.test\r\n"
        "Subject: Load 1\r\nMessage-ID: <m1.0123@a.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        "Message 1.\r\n"),
    ROW("names_folded_encoded",
        "From: =?utf-8?q?Alice_=C3=89xample?= <alice@a.test>\r\nTo: \"Bob, B.\" <bob@b.test>,\r\n"
        " carol@c.test\r\nCc: Team: erin@e.test, f@f.test;\r\nSubject: =?utf-8?b?w6l0w6k=?= and\r\n"
        "\tmore\r\nAuthentication-Results: mx.b.test; spf=pass smtp.mailfrom=a.test\r\n"
        "Message-ID:\r\n <folded@a.test>\r\n\r\nbody\r\n"),
    ROW("received_odd",
        "Received: (comment) from \"quoted word\" (info (nested)) by b.test via X with\r\n"
        " LMTP id 7 for <x@y>\r\nReceived: by only.test; no date here\r\n"
        "Received: FROM Upper.test BY Upper.b WITH smtp\r\nReceived: with with with by by\r\n"
        "Received: from a from b by c; x; y\r\nReceived:\r\nReceived: ;\r\n"
        "Received: from x\\\"y (a\\)b) by z\r\nReceived: id 1 id 2 with W\r\n\r\n"),
    ROW("multipart", "From: a@a.test\r\nMessage-ID: <mp@a.test>\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: multipart/mixed; boundary=b1\r\n" MP_BODY),
    ROW("multipart_case_folded", "From: a@a.test\r\nContent-Type:\r\n MultiPart/Mixed;\r\n"
                                 " boundary=\"b1\"\r\n" MP_BODY),
    ROW("multipart_in_param_only",
        "From: a@a.test\r\nContent-Type: text/plain; x=multipart\r\n" MP_BODY),
    ROW("second_ctype_ignored", "Content-Type: text/plain\r\nContent-Type: multipart/mixed; "
                                "boundary=b1\r\n" MP_BODY),
    ROW("bare_cr_in_type",
        "From: a@a.test\r\nContent-Type: multi\rpart/mixed; boundary=b1\r\n" MP_BODY),
    ROW("duplicates_first_wins", "From: first@a.test\r\nFrom: second@a.test\r\nSubject: one\r\n"
                                 "Subject: two\r\nMessage-ID: <1@a>\r\nMessage-ID: <2@a>\r\n\r\n"),
    ROW("bad_lines", "From a@a.test\r\nFrom: x@a.test\r\n\x01"
                     "bad: y\r\nTo:\r\n\r\nbody\r\n"),
    ROW("no_separator", "From: a@a.test\r\nSubject: s\r\nthis line is not a field\r\nTo: b@b\r\n"),
    ROW("bare_lf", "From: a@a.test\nSubject: lf\n only\nReceived: from a by b with c\n\nbody\n"),
    ROW("nul_and_8bit", "From: a\0b@a.test\r\nSubject: caf\xC3\xA9 \xFF\r\nTo: b@b.test\r\n\r\n"),
    ROW("empty", ""),
};

START_TEST(scan_equals_parse_every_cut) {
  check_every_cut(rows[_i].name, rows[_i].msg, rows[_i].len);
}
END_TEST

/* Past the field limit: mime_msg_parse keeps the first 1,000 fields, so a
 * From or a Received after them is not shown. */
START_TEST(field_limit) {
  mime_display *keep = NULL;
  for (int late = 0; late < 2; late++) {
    GString *g = g_string_new("Received: from a by b with c\r\n");
    for (int i = 0; i < 997 + late; i++)
      g_string_append_printf(g, "X-F%d: v\r\n", i);
    g_string_append(g, "From: late@a.test\r\nReceived: from late by late with late\r\n"
                       "Content-Type: multipart/mixed; boundary=b1\r\n" MP_BODY);
    char *d = display_diff(g->str, g->len, &keep);
    ck_assert_msg(d == NULL, "late %d: %s", late, d);
    mime_display *s = mime_display_scan(g->str, g->len, NULL);
    ck_assert_uint_eq(s->received->len, 1 + (late == 0));
    mime_display_free(s);
    g_string_free(g, TRUE);
  }
  mime_display_free(keep);
}
END_TEST

/* One display reused for messages of every size: small, with hundreds of
 * Received entries (many blocks of its storage), with one Received of
 * 70,000 octets (a block of its own, not kept), small again. */
START_TEST(reuse_across_sizes) {
  mime_display *keep = NULL;
  for (int round = 0; round < 2; round++) {
    for (int k = 0; k < 4; k++) {
      GString *g = g_string_new(NULL);
      if (k == 1)
        for (int i = 0; i < 300; i++)
          g_string_append_printf(g, "Received: from h%d.example by mx%d.example with ESMTP\r\n", i,
                                 i);
      if (k == 2) {
        g_string_append(g, "Received: from ");
        for (int i = 0; i < 7000; i++)
          g_string_append(g, "0123456789");
        g_string_append(g, " by b with c\r\n");
      }
      g_string_append_printf(g, "From: \"Name %d\" <a@a.test>\r\nTo: b@b.test\r\n"
                                "Subject: =?utf-8?q?caf=C3=A9?= %d\r\nMessage-ID: <%d@x>\r\n\r\nbody\r\n",
                             k, k, k);
      char *d = display_diff(g->str, g->len, &keep);
      ck_assert_msg(d == NULL, "round %d message %d: %s", round, k, d);
      ck_assert_uint_eq(keep->received->len, k == 1 ? 300 : k == 2 ? 1 : 0);
      g_string_free(g, TRUE);
    }
  }
  mime_display_free(keep);
}
END_TEST

/* Random display names, subjects and Received words: quoting, encoded
 * words, folding. */
START_TEST(scan_equals_parse_random) {
  guint64 seed = 777;
  mime_display *keep = NULL;
  for (int it = 0; it < 300; it++) {
    char *a = mime_random_text(&seed, TRUE), *b = mime_random_text(&seed, TRUE),
         *c = mime_random_text(&seed, FALSE);
    GString *g = g_string_new(NULL);
    g_string_append_printf(g, "Received: from %s by %s with %s; %s\r\n", a, c, b, a);
    g_string_append_printf(g, "From: %s <a@a.test>\r\nTo: %s\r\nSubject: %s\r\n", c, a, b);
    g_string_append_printf(g, "Message-ID: %s\r\nContent-Type: %s\r\n\r\nbody\r\n", c, a);
    char *d = display_diff(g->str, g->len, &keep);
    ck_assert_msg(d == NULL, "it %d: %s\n%s", it, d, g->str);
    g_string_free(g, TRUE);
    g_free(a);
    g_free(b);
    g_free(c);
  }
  mime_display_free(keep);
}
END_TEST

/* What the MUA fetches: composed messages, with and without attachments. */
START_TEST(scan_equals_parse_composed) {
  static const guint8 blob[] = "attachment octets";
  mime_compose_attachment at = {"f.bin", "application/octet-stream", blob, sizeof blob};
  for (int k = 0; k < 2; k++) {
    mime_compose_config c;
    memset(&c, 0, sizeof c);
    c.from = "Alice <alice@a.example>";
    c.to = "bob@b.example, \"C, C.\" <carol@c.example>";
    c.cc = "dave@d.example";
    c.subject = "Caf\xC3\xA9 au lait, a subject long enough to be folded over two lines at least";
    c.epoch_unix = MIME_DATE_EPOCH_DEFAULT;
    c.message_id = "k.1@a.example";
    c.text = "text\n";
    c.html = k ? "<p>html</p>\n" : NULL;
    c.attachments = &at;
    c.n_attachments = (gsize)k;
    GBytes *b = mime_compose_build(&c, NULL, NULL);
    ck_assert(b != NULL);
    gsize n;
    const char *d = g_bytes_get_data(b, &n);
    check_every_cut(k ? "composed multipart" : "composed", d, n);
    mime_display *s = mime_display_scan(d, n, NULL);
    ck_assert_uint_eq(s->attachments->len, (guint)k);
    ck_assert_str_eq(mime_display_get(s, "To"), "bob@b.example, C, C. <carol@c.example>");
    mime_display_free(s);
    g_bytes_unref(b);
  }
}
END_TEST

/* mime__utf8_sanitize: the ASCII shortcut and the general path agree on
 * where U+FFFD goes (NUL and invalid sequences). */
#define SAN(in, want)                                                                              \
  { in, sizeof in - 1, want }
static const struct {
  const char *in;
  gsize len;
  const char *want;
} san[] = {
    SAN("", ""),
    SAN("plain ascii\t\x01\x7f", "plain ascii\t\x01\x7f"),
    SAN("a\0b", "a\xEF\xBF\xBD"
                "b"),
    SAN("\0", "\xEF\xBF\xBD"),
    SAN("caf\xC3\xA9", "caf\xC3\xA9"),
    SAN("x\xFFy", "x\xEF\xBF\xBDy"),
    SAN("\xC3", "\xEF\xBF\xBD"),
    SAN("\xC3\xA9\0z", "\xC3\xA9\xEF\xBF\xBDz"),
};

START_TEST(utf8_sanitize_table) {
  char *got = mime__utf8_sanitize(san[_i].in, san[_i].len);
  ck_assert_msg(strcmp(got, san[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                san[_i].want);
  g_free(got);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_display");
  TCase *tc = tcase_create("scan");
  tcase_add_loop_test(tc, scan_equals_parse_every_cut, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, field_limit);
  tcase_add_test(tc, reuse_across_sizes);
  tcase_add_test(tc, scan_equals_parse_random);
  tcase_add_test(tc, scan_equals_parse_composed);
  tcase_add_loop_test(tc, utf8_sanitize_table, 0, G_N_ELEMENTS(san));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
