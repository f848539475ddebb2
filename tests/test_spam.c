/* Tests for spam: one row per rule (and its negative), thresholds and
 * decisions, header values, configuration by name, DNSBL scores, and the
 * same verdict whatever split the message was parsed from. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"
#include "testutil.h"

#define HDR_OK                                                                                     \
  "From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nSubject: Hello\r\n"                       \
  "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@a.example>\r\n"
#define PLAIN "Content-Type: text/plain\r\n\r\nHi Bob.\r\n"

static const struct {
  const char *what;
  const char *msg;
  const char *mail_from;
  spam_spf spf;
  spam_dkim dkim;
  spam_dmarc dmarc;
  spam_dmarc_policy pol;
  int want_score;
  const char *want_tests;
} rows[] = {
    {"clean", HDR_OK PLAIN, "alice@a.example", SPAM_SPF_PASS, SPAM_DKIM_PASS, SPAM_DMARC_PASS,
     SPAM_DMARC_P_NONE, 0, "none"},
    {"GTUBE plain", HDR_OK "\r\n" SPAM_GTUBE "\r\n", "alice@a.example", 0, 0, 0, 0, 10000, "GTUBE"},
    {"GTUBE base64 text part",
     HDR_OK "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "WEpTKkM0SkRCUUFETjEuTlNCTjMqMklETkVOKkdUVUJFLVNUQU5EQVJELUFOVEktVUJFLVRFU1QtRU1B\r\n"
            "SUwqQy4zNFg=\r\n--b--\r\n",
     "alice@a.example", 0, 0, 0, 0, 10000, "GTUBE"},
    {"GTUBE broken", HDR_OK "\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST\r\n",
     "alice@a.example", 0, 0, 0, 0, 0, "none"},
    {"SPF fail", HDR_OK PLAIN, "alice@a.example", SPAM_SPF_FAIL, 0, 0, 0, 9, "SPF_FAIL"},
    {"SPF softfail", HDR_OK PLAIN, "alice@a.example", SPAM_SPF_SOFTFAIL, 0, 0, 0, 10,
     "SPF_SOFTFAIL"},
    {"SPF neutral", HDR_OK PLAIN, "alice@a.example", SPAM_SPF_NEUTRAL, 0, 0, 0, 0, "none"},
    {"DKIM fail", HDR_OK PLAIN, "alice@a.example", 0, SPAM_DKIM_FAIL, 0, 0, 1, "DKIM_INVALID"},
    {"DKIM permerror", HDR_OK PLAIN, "alice@a.example", 0, SPAM_DKIM_PERMERROR, 0, 0, 1,
     "DKIM_INVALID"},
    {"DKIM temperror", HDR_OK PLAIN, "alice@a.example", 0, SPAM_DKIM_TEMPERROR, 0, 0, 0, "none"},
    {"DMARC reject", HDR_OK PLAIN, "alice@a.example", 0, 0, SPAM_DMARC_FAIL, SPAM_DMARC_P_REJECT,
     20, "DMARC_POLICY_REJECT"},
    {"DMARC quarantine", HDR_OK PLAIN, "alice@a.example", 0, 0, SPAM_DMARC_FAIL,
     SPAM_DMARC_P_QUARANTINE, 15, "DMARC_POLICY_QUARANTINE"},
    {"DMARC none", HDR_OK PLAIN, "alice@a.example", 0, 0, SPAM_DMARC_FAIL, SPAM_DMARC_P_NONE, 1,
     "DMARC_POLICY_SOFTFAIL"},
    {"DMARC pass", HDR_OK PLAIN, "alice@a.example", 0, 0, SPAM_DMARC_PASS, SPAM_DMARC_P_REJECT, 0,
     "none"},
    {"no Date", "From: alice@a.example\r\nSubject: x\r\nMessage-ID: <1@a.example>\r\n" PLAIN,
     "alice@a.example", 0, 0, 0, 0, 14, "MISSING_DATE"},
    {"no Message-ID",
     "From: alice@a.example\r\nSubject: x\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n" PLAIN,
     "alice@a.example", 0, 0, 0, 0, 1, "MISSING_MID"},
    {"no Date, no Message-ID", "From: alice@a.example\r\n" PLAIN, "alice@a.example", 0, 0, 0, 0, 15,
     "MISSING_DATE,MISSING_MID"},
    {"sender mismatch", HDR_OK PLAIN, "bounce@other.example", 0, 0, 0, 0, 3, "FORGED_SENDER"},
    {"sender case differs", HDR_OK PLAIN, "ALICE@A.EXAMPLE", 0, 0, 0, 0, 0, "none"},
    {"null sender", HDR_OK PLAIN, "", 0, 0, 0, 0, 0, "none"},
    {"HTML only", HDR_OK "Content-Type: text/html\r\n\r\n<p>Hi</p>\r\n", "alice@a.example", 0, 0, 0,
     0, 1, "MIME_HTML_ONLY"},
    {"HTML alternative",
     HDR_OK "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: "
            "text/plain\r\n\r\nHi\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--b--\r\n",
     "alice@a.example", 0, 0, 0, 0, 0, "none"},
    {"subject keyword",
     "From: alice@a.example\r\nSubject: =?UTF-8?Q?Cheap_V=49AGRA?=\r\nDate: Thu, 01 Jan 2026 "
     "00:00:00 +0000\r\nMessage-ID: <1@a.example>\r\n" PLAIN,
     "alice@a.example", 0, 0, 0, 0, 10, "SUBJECT_KEYWORD"},
    {"everything",
     "From: alice@a.example\r\nSubject: viagra\r\nContent-Type: text/html\r\n\r\n" SPAM_GTUBE
     "\r\n",
     "x@y.example", SPAM_SPF_FAIL, SPAM_DKIM_FAIL, SPAM_DMARC_FAIL, SPAM_DMARC_P_REJECT,
     10000 + 9 + 1 + 20 + 14 + 1 + 3 + 1 + 10,
     "DKIM_INVALID,DMARC_POLICY_REJECT,FORGED_SENDER,GTUBE,MIME_HTML_ONLY,MISSING_DATE,"
     "MISSING_MID,SPF_FAIL,SUBJECT_KEYWORD"},
};

static const char *const keywords[] = {"viagra", "lottery", NULL};

static void score_msg(mime_msg *m, int row, spam_result *r) {
  spam_config c;
  spam_config_default(&c);
  c.subject_keywords = keywords;
  spam_input in;
  spam_input_init(&in, m, rows[row].mail_from);
  in.spf = rows[row].spf;
  in.dkim = rows[row].dkim;
  in.dmarc = rows[row].dmarc;
  in.dmarc_policy = rows[row].pol;
  spam_score(&c, &in, r);
}

static char *tests_of(const spam_result *r) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < r->hits->len; i++) {
    const spam_hit *h = r->hits->pdata[i];
    g_string_append_printf(s, "%s%s", i ? "," : "", h->name);
  }
  if (!s->len)
    g_string_append(s, "none");
  return g_string_free(s, FALSE);
}

START_TEST(rules_table) {
  const char *msg = rows[_i].msg;
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  spam_result r;
  score_msg(m, _i, &r);
  char *t = tests_of(&r);
  ck_assert_msg(r.score == rows[_i].want_score && g_str_equal(t, rows[_i].want_tests),
                "%s: got %d [%s] want %d [%s]", rows[_i].what, r.score, t, rows[_i].want_score,
                rows[_i].want_tests);
  int sum = 0;
  for (guint i = 0; i < r.hits->len; i++) {
    const spam_hit *h = r.hits->pdata[i];
    ck_assert_ptr_nonnull(h->desc);
    sum += h->score;
  }
  ck_assert_int_eq(sum, r.score);
  g_free(t);

  /* The same verdict from the push parser, fed at every split point. */
  gsize n = strlen(msg);
  for (gsize cut = 0; cut <= n; cut++) {
    mime_msg_parser *p = mime_msg_parser_new(NULL);
    mime_msg_parser_feed(p, msg, cut);
    mime_msg_parser_feed(p, msg + cut, n - cut);
    mime_msg *m2 = mime_msg_parser_finish(p);
    spam_result r2;
    score_msg(m2, _i, &r2);
    ck_assert_int_eq(r2.score, r.score);
    ck_assert_str_eq(r2.status_header, r.status_header);
    spam_result_clear(&r2);
    mime_msg_free(m2);
  }
  spam_result_clear(&r);
  mime_msg_free(m);
}
END_TEST

START_TEST(decisions_and_headers) {
  const char *msg = "From: alice@a.example\r\n" PLAIN; /* MISSING_DATE + MISSING_MID = 1.5 */
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  spam_input in;
  spam_input_init(&in, m, "alice@a.example");
  spam_config c;
  spam_config_default(&c);
  spam_result r;

  spam_score(&c, &in, &r);
  ck_assert_int_eq(r.decision, SPAM_HAM);
  ck_assert_str_eq(r.status_header, "No, score=1.5 required=5.0 tests=MISSING_DATE,MISSING_MID");
  ck_assert_str_eq(r.score_header, "1.5");
  ck_assert_ptr_null(r.flag_header);
  ck_assert_ptr_null(r.folder);
  ck_assert_int_eq(r.code, 0);
  spam_result_clear(&r);

  c.tag_threshold = 15; /* score == threshold tags (SpamAssassin: >= required) */
  spam_score(&c, &in, &r);
  ck_assert_int_eq(r.decision, SPAM_TAG);
  ck_assert_str_eq(r.status_header, "Yes, score=1.5 required=1.5 tests=MISSING_DATE,MISSING_MID");
  ck_assert_str_eq(r.flag_header, "YES");
  ck_assert_str_eq(r.folder, "Junk");
  ck_assert_ptr_null(r.text);
  spam_result_clear(&r);

  c.tag_threshold = 10;
  c.reject_threshold = 15;
  spam_score(&c, &in, &r);
  ck_assert_int_eq(r.decision, SPAM_REJECT);
  ck_assert_int_eq(r.code, 550);
  ck_assert_str_eq(r.esc, "5.7.1");
  ck_assert_str_eq(r.text, "Message refused as spam (score=1.5, reject at 1.5)");
  ck_assert_ptr_null(r.folder);
  spam_result_clear(&r);

  ck_assert(spam_config_set_weight(&c, "MISSING_MID", -30));
  ck_assert(!spam_config_set_weight(&c, "NO_SUCH_RULE", 1));
  spam_score(&c, &in, &r);
  ck_assert_int_eq(r.score, -16);
  ck_assert_str_eq(r.score_header, "-1.6");
  ck_assert_int_eq(r.decision, SPAM_HAM);
  spam_result_clear(&r);

  ck_assert(spam_config_set_weight(&c, "MISSING_MID", 0)); /* 0 disables the rule */
  spam_score(&c, &in, &r);
  ck_assert_uint_eq(r.hits->len, 1);
  spam_result_clear(&r);
  spam_result_clear(NULL);
  mime_msg_free(m);
}
END_TEST

START_TEST(gtube_lands_in_junk) {
  const char *msg = HDR_OK "\r\n" SPAM_GTUBE "\r\n";
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  spam_input in;
  spam_input_init(&in, m, "alice@a.example");
  spam_result r;
  spam_score(NULL, &in, &r);
  ck_assert_int_eq(r.decision, SPAM_TAG);
  ck_assert_str_eq(r.folder, "Junk");
  ck_assert_str_eq(r.status_header, "Yes, score=1000.0 required=5.0 tests=GTUBE");
  spam_result_clear(&r);
  mime_msg_free(m);
}
END_TEST

START_TEST(dnsbl_scores) {
  dnsbl_zone z[2];
  dnsbl_zone_default(&z[0], "bl.example");
  z[0].rule = "RCVD_IN_SBL";
  dnsbl_zone_default(&z[1], "block.example");
  z[1].action = DNSBL_REJECT;
  dnsbl_check *c = dnsbl_check_new(z, 2, "192.0.2.1");
  dnsbl_query q;
  const char *a = "127.0.0.2";
  while (dnsbl_check_next_query(c, &q))
    dnsbl_check_answer(c, q.id,
                       q.qtype == DNSBL_QTYPE_A ? DNSBL_RCODE_ANSWER : DNSBL_RCODE_NXDOMAIN, &a,
                       q.qtype == DNSBL_QTYPE_A ? 1 : 0);
  while (dnsbl_check_next_query(c, &q))
    dnsbl_check_answer(c, q.id, DNSBL_RCODE_NXDOMAIN, NULL, 0);
  const dnsbl_verdict *v = dnsbl_check_verdict(c);
  ck_assert_ptr_nonnull(v);
  ck_assert_uint_eq(v->hits->len, 2);

  const char *msg = HDR_OK PLAIN;
  mime_msg *m = mime_msg_parse(msg, strlen(msg), NULL);
  spam_input in;
  spam_input_init(&in, m, "alice@a.example");
  in.dnsbl = v;
  spam_result r;
  spam_score(NULL, &in, &r);
  ck_assert_int_eq(r.score, 26); /* the reject list adds nothing to the score */
  ck_assert_uint_eq(r.hits->len, 1);
  const spam_hit *h = r.hits->pdata[0];
  ck_assert_str_eq(h->name, "RCVD_IN_SBL");
  ck_assert_str_eq(h->desc, "Listed in bl.example (127.0.0.2)");
  spam_result_clear(&r);
  mime_msg_free(m);
  dnsbl_check_free(c);
}
END_TEST

static const struct {
  int tenths;
  const char *want;
} fmts[] = {{0, "0.0"},
            {52, "5.2"},
            {-3, "-0.3"},
            {-16, "-1.6"},
            {10000, "1000.0"},
            {G_MAXINT, "214748364.7"},
            {G_MININT, "-214748364.8"}};

START_TEST(format_tenths) {
  char *got = spam_format_tenths(fmts[_i].tenths);
  ck_assert_msg(g_str_equal(got, fmts[_i].want), "got %s want %s", got, fmts[_i].want);
  g_free(got);
}
END_TEST

START_TEST(names) {
  spam_spf s;
  ck_assert(spam_spf_parse("SoftFail", &s) && s == SPAM_SPF_SOFTFAIL);
  ck_assert(!spam_spf_parse("bogus", &s));
  ck_assert(!spam_spf_parse(NULL, &s));
  spam_dkim d;
  ck_assert(spam_dkim_parse("permerror", &d) && d == SPAM_DKIM_PERMERROR);
  spam_dmarc m;
  ck_assert(spam_dmarc_parse("fail", &m) && m == SPAM_DMARC_FAIL);
  spam_dmarc_policy p;
  ck_assert(spam_dmarc_policy_parse("quarantine", &p) && p == SPAM_DMARC_P_QUARANTINE);
  for (int i = 0; i < SPAM_RULE_COUNT; i++) {
    spam_rule r;
    ck_assert(spam_rule_parse(spam_rule_name((spam_rule)i), &r));
    ck_assert_int_eq(r, i);
  }
  ck_assert_str_eq(spam_rule_name(SPAM_RULE_COUNT), "?");
  ck_assert_str_eq(spam_decision_name(SPAM_TAG), "tag");
  ck_assert_str_eq(spam_spf_name(SPAM_SPF_TEMPERROR), "temperror");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("spam");
  TCase *t = tcase_create("rules");
  tcase_set_timeout(t, 120);
  tcase_add_loop_test(t, rules_table, 0, G_N_ELEMENTS(rows));
  suite_add_tcase(s, t);
  t = tcase_create("decisions");
  tcase_add_test(t, decisions_and_headers);
  tcase_add_test(t, gtube_lands_in_junk);
  tcase_add_test(t, dnsbl_scores);
  tcase_add_loop_test(t, format_tenths, 0, G_N_ELEMENTS(fmts));
  tcase_add_test(t, names);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return testutil_run(suite()); }
