/* Tests for mime_imap: ENVELOPE, BODY and BODYSTRUCTURE strings (RFC 3501
 * §7.4.2, the expected strings derived by hand from the RFC's own
 * examples) and BODY[section] octet ranges (§6.4.5). */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_imap.h"
#include "mime_imap_grammar.h"
#include "mime_msg.h"
#include "testutil.h"

/* RFC 3501 §7.4.2 / §6.4.5 example message: the header that yields the
 * RFC's ENVELOPE, and a body of 3028 octets in 92 lines. */
static char *rfc_message(void) {
  GString *s = g_string_new("Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
                            "From: Terry Gray <gray@cac.washington.edu>\r\n"
                            "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
                            "To: imap@cac.washington.edu\r\n"
                            "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
                            "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
                            "\r\n");
  for (int i = 0; i < 92; i++) {
    for (int j = 0; j < (i < 84 ? 31 : 30); j++)
      g_string_append_c(s, (char)('a' + (i + j) % 26));
    g_string_append(s, "\r\n");
  }
  return g_string_free(s, FALSE);
}

static const char rfc_envelope[] =
    "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
    "NIL NIL \"<B27397-0100000@cac.washington.edu>\")";

START_TEST(rfc3501_single) {
  char *msg = rfc_message();
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  char *env = mime_imap_envelope(mime_msg_root(m));
  ck_assert_msg(strcmp(env, rfc_envelope) == 0, "got %s\nwant %s", env, rfc_envelope);
  char *body = mime_imap_bodystructure(m, FALSE);
  ck_assert_str_eq(body,
                   "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)");
  char *bs = mime_imap_bodystructure(m, TRUE);
  ck_assert_str_eq(bs, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 "
                       "NIL NIL NIL NIL)");
  gsize off, len;
  ck_assert(mime_imap_section_range(m, "1", &off, &len));
  ck_assert_uint_eq(len, 3028);
  ck_assert(mime_imap_section_range(m, "TEXT", &off, &len));
  ck_assert_uint_eq(len, 3028);
  ck_assert(mime_imap_section_range(m, "HEADER", &off, &len));
  ck_assert_uint_eq(off, 0);
  ck_assert_uint_eq(len, strlen(msg) - 3028);
  ck_assert(!mime_imap_section_range(m, "2", &off, &len));
  ck_assert(!mime_imap_section_range(m, "1.1", &off, &len));
  g_free(env);
  g_free(body);
  g_free(bs);
  mime_msg_free(m);
  g_free(msg);
}
END_TEST

/* RFC 3501 §7.4.2 BODY example: a multipart/mixed of a 1152-octet,
 * 23-line text part and a 4554-octet, 73-line base64 part. */
static char *rfc_multipart(void) {
  GString *s = g_string_new("From: a@b.test\r\nMIME-Version: 1.0\r\n"
                            "Content-Type: MULTIPART/MIXED; BOUNDARY=\"x\"\r\n\r\n"
                            "--x\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n");
  for (int i = 0; i < 22; i++)
    g_string_append(s, "12345678901234567890123456789012345678901234567890\r\n");
  g_string_append(s, "abcdefgh\r\n--x\r\n"
                     "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
                     "Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
                     "Content-Description: Compiler diff\r\n"
                     "Content-Transfer-Encoding: BASE64\r\n\r\n");
  for (int i = 0; i < 72; i++) {
    for (int j = 0; j < 61; j++)
      g_string_append_c(s, 'A');
    g_string_append(s, "\r\n");
  }
  g_string_append(s, "AAAAAAAAAAAAAAAAAA\r\n--x--\r\n");
  return g_string_free(s, FALSE);
}

START_TEST(rfc3501_multipart) {
  char *msg = rfc_multipart();
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  char *body = mime_imap_bodystructure(m, FALSE);
  const char *want =
      "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
      "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
      "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) "
      "\"MIXED\")";
  ck_assert_msg(strcmp(body, want) == 0, "got %s\nwant %s", body, want);
  char *bs = mime_imap_bodystructure(m, TRUE);
  const char *want_ext =
      "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23 NIL NIL NIL NIL)"
      "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
      "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73 "
      "NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL)";
  ck_assert_msg(strcmp(bs, want_ext) == 0, "got %s\nwant %s", bs, want_ext);
  /* ENVELOPE of a message with only From. */
  char *env = mime_imap_envelope(mime_msg_root(m));
  ck_assert_str_eq(env, "(NIL NIL ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) "
                        "((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)");
  g_free(env);
  g_free(body);
  g_free(bs);
  mime_msg_free(m);
  g_free(msg);
}
END_TEST

static const char msg_c[] =
    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
    "From: \"Alice A.\" <alice@a.example>\r\n"
    "Sender: bot@a.example\r\n"
    "Reply-To:\r\n"
    "To: Team: bob@b.example, \"Carol \\\"C\\\"\" <carol@c.example>;, undisclosed-recipients:;\r\n"
    "Subject: =?UTF-8?Q?Caf=C3=A9?=\r\n"
    "Message-ID: <m1@a.example>\r\n"
    "In-Reply-To: <m0@b.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "Content-Language: en, fr\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "caf\xc3\xa9\r\n"
    "--b1\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: inline\r\n"
    "\r\n"
    "From: x@y.example\r\n"
    "Subject: fwd\r\n"
    "\r\n"
    "hi\r\n"
    "--b1\r\n"
    "Content-Type: image/png; name=\"a.png\"\r\n"
    "Content-Disposition: attachment; filename=\"a.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Location: http://x.example/a.png\r\n"
    "\r\n"
    "iVBORw0K\r\n"
    "--b1--\r\n";

START_TEST(groups_and_message_parts) {
  mime_msg *m = mime_msg_parse(msg_c, strlen(msg_c), NULL);
  char *env = mime_imap_envelope(mime_msg_root(m));
  const char *want_env =
      "(\"Thu, 01 Jan 2026 00:00:00 +0000\" \"=?UTF-8?Q?Caf=C3=A9?=\" "
      "((\"Alice A.\" NIL \"alice\" \"a.example\")) ((NIL NIL \"bot\" \"a.example\")) "
      "((\"Alice A.\" NIL \"alice\" \"a.example\")) "
      "((NIL NIL \"Team\" NIL)(NIL NIL \"bob\" \"b.example\")"
      "(\"Carol \\\"C\\\"\" NIL \"carol\" \"c.example\")(NIL NIL NIL NIL)"
      "(NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
      "NIL NIL \"<m0@b.example>\" \"<m1@a.example>\")";
  ck_assert_msg(strcmp(env, want_env) == 0, "got %s\nwant %s", env, want_env);
  ck_assert(ig_check_envelope(env));
  char *bs = mime_imap_bodystructure(m, TRUE);
  const char *want_bs =
      "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 5 1 NIL NIL NIL NIL)"
      "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 37 "
      "(NIL \"fwd\" ((NIL NIL \"x\" \"y.example\")) ((NIL NIL \"x\" \"y.example\")) "
      "((NIL NIL \"x\" \"y.example\")) NIL NIL NIL NIL NIL) "
      "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 2 1 NIL NIL NIL NIL) 4 "
      "NIL (\"INLINE\" NIL) NIL NIL)"
      "(\"IMAGE\" \"PNG\" (\"NAME\" \"a.png\") NIL NIL \"BASE64\" 8 NIL "
      "(\"ATTACHMENT\" (\"FILENAME\" \"a.png\")) NIL \"http://x.example/a.png\") "
      "\"MIXED\" (\"BOUNDARY\" \"b1\") NIL (\"en\" \"fr\") NIL)";
  ck_assert_msg(strcmp(bs, want_bs) == 0, "got %s\nwant %s", bs, want_bs);
  ck_assert(ig_check_body(bs, TRUE));
  g_free(env);
  g_free(bs);
  mime_msg_free(m);
}
END_TEST

static const struct {
  const char *section;
  const char *want; /* NULL: no such section */
} ranges[] = {
    {"2.HEADER", "From: x@y.example\r\nSubject: fwd\r\n\r\n"},
    {"2.header", "From: x@y.example\r\nSubject: fwd\r\n\r\n"},
    {"2.TEXT", "hi"},
    {"2", "From: x@y.example\r\nSubject: fwd\r\n\r\nhi"},
    {"2.1", "hi"},
    {"2.MIME", "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"},
    {"1.MIME",
     "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"},
    {"1", "caf\xc3\xa9"},
    {"3", "iVBORw0K"},
    {"TEXT", NULL}, /* checked separately: the whole root body */
    {"1.HEADER", NULL},
    {"3.TEXT", NULL},
    {"4", NULL},
    {"MIME", NULL},
    {"1.FOO", NULL},
    {"1MIME", NULL},
    {"0", NULL},
};

START_TEST(section_table) {
  mime_msg *m = mime_msg_parse(msg_c, strlen(msg_c), NULL);
  gsize off = 0, len = 0;
  gboolean ok = mime_imap_section_range(m, ranges[_i].section, &off, &len);
  if (!ranges[_i].want) {
    if (strcmp(ranges[_i].section, "TEXT") == 0) {
      ck_assert(ok);
      ck_assert_uint_eq(off, (gsize)(strstr(msg_c, "--b1\r\n") - msg_c));
      ck_assert_uint_eq(off + len, strlen(msg_c));
    } else {
      ck_assert_msg(!ok, "%s: found", ranges[_i].section);
    }
  } else {
    ck_assert_msg(ok, "%s: not found", ranges[_i].section);
    ck_assert_msg(len == strlen(ranges[_i].want) && memcmp(msg_c + off, ranges[_i].want, len) == 0,
                  "%s: got [%.*s] want [%s]", ranges[_i].section, (int)len, msg_c + off,
                  ranges[_i].want);
  }
  mime_msg_free(m);
}
END_TEST

static const struct {
  const char *in, *want;
} nstr[] = {
    {NULL, "NIL"},
    {"", "\"\""},
    {"a\"b\\c", "\"a\\\"b\\\\c\""},
    {"caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9"},
    {"two\r\nlines", "{10}\r\ntwo\r\nlines"},
};

START_TEST(nstring_table) {
  GString *s = g_string_new(NULL);
  mime_imap_append_nstring(s, nstr[_i].in);
  ck_assert_msg(strcmp(s->str, nstr[_i].want) == 0, "row %d: got [%s] want [%s]", _i, s->str,
                nstr[_i].want);
  g_string_free(s, TRUE);
}
END_TEST

/* A literal in ENVELOPE for raw 8-bit subjects. */
START_TEST(envelope_literal) {
  const char *msg = "Subject: caf\xc3\xa9\r\nFrom: =?UTF-8?Q?Z=C3=B6e?= <z@x.test>\r\n\r\n";
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  char *env = mime_imap_envelope(mime_msg_root(m));
  const char *want = "(NIL {5}\r\ncaf\xc3\xa9 ((\"=?UTF-8?Q?Z=C3=B6e?=\" NIL \"z\" \"x.test\")) "
                     "((\"=?UTF-8?Q?Z=C3=B6e?=\" NIL \"z\" \"x.test\")) "
                     "((\"=?UTF-8?Q?Z=C3=B6e?=\" NIL \"z\" \"x.test\")) NIL NIL NIL NIL NIL)";
  ck_assert_msg(strcmp(env, want) == 0, "got %s\nwant %s", env, want);
  g_free(env);
  mime_msg_free(m);
}
END_TEST

START_TEST(header_fields) {
  mime_msg *m = mime_msg_parse(msg_c, strlen(msg_c), NULL);
  const char *names[] = {"subject", "FROM", "X-None"};
  GBytes *b = mime_imap_header_fields(m, mime_msg_root(m), names, 3, FALSE);
  const char *want = "From: \"Alice A.\" <alice@a.example>\r\n"
                     "Subject: =?UTF-8?Q?Caf=C3=A9?=\r\n\r\n";
  ck_assert_msg(g_bytes_get_size(b) == strlen(want) &&
                    memcmp(g_bytes_get_data(b, NULL), want, strlen(want)) == 0,
                "got [%.*s]", (int)g_bytes_get_size(b), (const char *)g_bytes_get_data(b, NULL));
  g_bytes_unref(b);
  const mime_part *inner = g_ptr_array_index(mime_msg_find(m, "2")->children, 0);
  b = mime_imap_header_fields(m, inner, names, 1, TRUE);
  want = "From: x@y.example\r\n\r\n";
  ck_assert_msg(g_bytes_get_size(b) == strlen(want) &&
                    memcmp(g_bytes_get_data(b, NULL), want, strlen(want)) == 0,
                "got [%.*s]", (int)g_bytes_get_size(b), (const char *)g_bytes_get_data(b, NULL));
  g_bytes_unref(b);
  mime_msg_free(m);
  /* A header with no empty line and no final CRLF. */
  const char *bare = "A: 1\r\nB: 2";
  m = mime_msg_parse(bare, strlen(bare), NULL);
  const char *nb[] = {"b"};
  b = mime_imap_header_fields(m, mime_msg_root(m), nb, 1, FALSE);
  ck_assert_uint_eq(g_bytes_get_size(b), 8);
  ck_assert(memcmp(g_bytes_get_data(b, NULL), "B: 2\r\n\r\n", 8) == 0);
  g_bytes_unref(b);
  mime_msg_free(m);
}
END_TEST

/* The grammar checker used by the fuzz loops must itself reject bad
 * strings, or those loops would assert nothing. */
static const struct {
  const char *s;
  gboolean ext, ok;
} grammar[] = {
    {"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)", FALSE, TRUE},
    {"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3028)", FALSE, FALSE},
    {"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"BASE64\" 18 NIL NIL NIL NIL)", TRUE, FALSE},
    {"((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1) \"MIXED\")", FALSE, TRUE},
    {"((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1) \"MIXED\")", TRUE, FALSE},
    {"(\"A\" \"B\" (\"x\") NIL NIL \"7BIT\" 1)", FALSE, FALSE},
    {"(\"A\" \"B\" NIL NIL NIL {3}\r\nabc 1)", FALSE, TRUE},
    {"(\"A\" \"B\" NIL NIL NIL \"a\nb\" 1)", FALSE, FALSE},
};

START_TEST(grammar_checker) {
  ck_assert_msg(ig_check_body(grammar[_i].s, grammar[_i].ext) == grammar[_i].ok, "row %d", _i);
  ck_assert(ig_check_envelope(rfc_envelope));
  ck_assert(!ig_check_envelope("(NIL NIL NIL NIL NIL NIL NIL NIL NIL)"));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_imap");
  TCase *tc = tcase_create("structure");
  tcase_add_test(tc, rfc3501_single);
  tcase_add_test(tc, rfc3501_multipart);
  tcase_add_test(tc, groups_and_message_parts);
  tcase_add_test(tc, envelope_literal);
  tcase_add_loop_test(tc, nstring_table, 0, G_N_ELEMENTS(nstr));
  tcase_add_loop_test(tc, grammar_checker, 0, G_N_ELEMENTS(grammar));
  suite_add_tcase(s, tc);
  tc = tcase_create("sections");
  tcase_add_loop_test(tc, section_table, 0, G_N_ELEMENTS(ranges));
  tcase_add_test(tc, header_fields);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
