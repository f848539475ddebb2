/* Tests for sieve (RFC 5228 subset): the RFC's examples, each test and
 * action, match types and comparators, strings and comments, error
 * messages with line numbers, every prefix of the scripts, and a
 * deterministic mutation loop that must never crash (run under ASan). */
#include <check.h>
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "testutil.h"

static const char *const msg_list = "Sender: owner-ietf-mta-filters@imc.org\r\n"
                                    "From: Wile E. Coyote <coyote@desert.example>\r\n"
                                    "To: me@example.com, Road Runner <rr@acme.example>\r\n"
                                    "Cc: team: a@x.example, b@y.example;\r\n"
                                    "Subject: =?UTF-8?Q?Make_money_fast_=E2=82=AC?=\r\n"
                                    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
                                    "X-Spam: Yes\r\n"
                                    "\r\n"
                                    "Body text.\r\n";

static const char *const msg_company = "From: boss@example.com\r\n"
                                       "To: me@example.com\r\n"
                                       "Subject: University diplomas\r\n"
                                       "\r\n"
                                       "Hi.\r\n";

static const char *const msg_spam = "From: someone@elsewhere.example\r\n"
                                    "To: other@example.org\r\n"
                                    "Subject: quick make money fast\r\n"
                                    "\r\n"
                                    "Hi.\r\n";

static const char *const msg_personal = "From: friend@elsewhere.example\r\n"
                                        "To: pal@elsewhere.example\r\n"
                                        "Cc: Me <me@example.com>\r\n"
                                        "Subject: dinner\r\n"
                                        "List-Id: <news.example.org>\r\n"
                                        "\r\n"
                                        "Hi.\r\n";

/* RFC 5228 §9.1 (Example 1). */
static const char *const rfc_example1 =
    "#\r\n"
    "# Example Sieve Filter\r\n"
    "# Declare any optional features or extension used by the script\r\n"
    "#\r\n"
    "require [\"fileinto\"];\r\n"
    "\r\n"
    "#\r\n"
    "# Handle messages from known mailing lists\r\n"
    "# Move messages from IETF filter discussion list to filter mailbox\r\n"
    "#\r\n"
    "if header :is \"Sender\" \"owner-ietf-mta-filters@imc.org\"\r\n"
    "        {\r\n"
    "        fileinto \"filter\";  # move to \"filter\" mailbox\r\n"
    "        }\r\n"
    "#\r\n"
    "# Keep all messages to or from people in my company\r\n"
    "#\r\n"
    "elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\"\r\n"
    "        {\r\n"
    "        keep;               # keep in \"In\" mailbox\r\n"
    "        }\r\n"
    "\r\n"
    "#\r\n"
    "# Try and catch unsolicited email.  If a message is not to me,\r\n"
    "# or it contains a subject known to be spam, file it away.\r\n"
    "#\r\n"
    "elsif anyof (NOT address :all :contains\r\n"
    "               [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\r\n"
    "             header :matches \"subject\"\r\n"
    "               [\"*make*money*fast*\", \"*university*dipl*mas*\"])\r\n"
    "        {\r\n"
    "        fileinto \"spam\";   # move to \"spam\" mailbox\r\n"
    "        }\r\n"
    "else\r\n"
    "        {\r\n"
    "        # Move all other (non-company) mail to \"personal\"\r\n"
    "        # mailbox.\r\n"
    "        fileinto \"personal\";\r\n"
    "        }\r\n";

/* RFC 5228 §3.1's if / elsif / else example. */
static const char *const rfc_if = "require \"fileinto\";\n"
                                  "if header :contains \"from\" \"coyote\" {\n"
                                  "   discard;\n"
                                  "} elsif header :contains [\"subject\"] [\"$$$\"] {\n"
                                  "   discard;\n"
                                  "} else {\n"
                                  "   fileinto \"INBOX\";\n"
                                  "}\n";

static const char *const newsletter =
    "require [\"fileinto\", \"envelope\"];\n"
    "/* file newsletters */\n"
    "if allof (exists \"List-Id\", header :contains \"list-id\" \"news.example.org\") {\n"
    "  fileinto \"Newsletters\"; stop;\n"
    "}\n"
    "if envelope :domain :is \"from\" \"desert.example\" { redirect \"archive@example.com\"; }\n"
    "if size :over 1K { fileinto \"Big\"; }\n";

static const struct {
  const char *what, *script, *msg, *env_from, *env_to, *want;
} runs[] = {
    {"9.1 list", NULL, NULL, "owner@imc.org", "me@example.com", "fileinto \"filter\""},
    {"9.1 company", NULL, NULL, "boss@example.com", "me@example.com", "keep"},
    {"9.1 spam", NULL, NULL, "x@elsewhere.example", "me@example.com", "fileinto \"spam\""},
    {"9.1 personal", NULL, NULL, "friend@elsewhere.example", "me@example.com",
     "fileinto \"personal\""},
    {"3.1 coyote", NULL, NULL, "a@b", "me@example.com", "discard"},
    {"3.1 else INBOX = keep", NULL, NULL, "a@b", "me@example.com", "fileinto \"INBOX\""},
    {"newsletter + stop", NULL, NULL, "friend@elsewhere.example", "me@example.com",
     "fileinto \"Newsletters\""},
    {"envelope redirect", NULL, NULL, "wile@desert.example", "me@example.com",
     "redirect \"archive@example.com\""},
    {"nothing matches: implicit keep", NULL, NULL, "a@b.example", "me@example.com",
     "implicit keep"},
    /* each test */
    {"true", "if true { discard; }", NULL, "", "", "discard"},
    {"false", "if false { discard; }", NULL, "", "", "implicit keep"},
    {"not", "if not false { discard; }", NULL, "", "", "discard"},
    {"allof false", "if allof (true, false) { discard; }", NULL, "", "", "implicit keep"},
    {"anyof true", "if anyof (false, true) { discard; }", NULL, "", "", "discard"},
    {"header :is trims and decodes",
     "if header :is \"subject\" \"Make money fast \xe2\x82\xac\" { discard; }", NULL, "", "",
     "discard"},
    {"header :is case-folded", "if header :is \"X-SPAM\" \"YES\" { discard; }", NULL, "", "",
     "discard"},
    {"header i;octet", "if header :comparator \"i;octet\" :is \"X-Spam\" \"YES\" { discard; }",
     NULL, "", "", "implicit keep"},
    {"header absent", "if header :contains \"X-None\" \"\" { discard; }", NULL, "", "",
     "implicit keep"},
    {"header :contains empty key", "if header :contains \"X-Spam\" \"\" { discard; }", NULL, "", "",
     "discard"},
    {"header :matches ?", "if header :matches \"Subject\" \"Make money fast ???\" { discard; }",
     NULL, "", "", "discard"},
    {"address :all", "if address :is :all \"from\" \"coyote@desert.example\" { discard; }", NULL,
     "", "", "discard"},
    {"address default :all", "if address \"from\" \"COYOTE@desert.example\" { discard; }", NULL, "",
     "", "discard"},
    {"address :localpart", "if address :localpart :is \"to\" \"rr\" { discard; }", NULL, "", "",
     "discard"},
    {"address :domain", "if address :domain :is \"to\" \"acme.example\" { discard; }", NULL, "", "",
     "discard"},
    {"address in group", "if address :is \"cc\" \"b@y.example\" { discard; }", NULL, "", "",
     "discard"},
    {"address not the group name", "if address :contains \"cc\" \"team\" { discard; }", NULL, "",
     "", "implicit keep"},
    {"address not the display name", "if address :contains \"from\" \"Wile\" { discard; }", NULL,
     "", "", "implicit keep"},
    {"envelope to", "require \"envelope\"; if envelope :localpart :is \"to\" \"me\" { discard; }",
     NULL, "a@b", "me@example.com", "discard"},
    {"envelope null from",
     "require \"envelope\"; if envelope :domain :is \"from\" \"\" { discard; }", NULL, "",
     "me@example.com", "discard"},
    {"envelope unknown from",
     "require \"envelope\"; if envelope :matches \"from\" \"*\" { discard; }", NULL, NULL,
     "me@example.com", "implicit keep"},
    {"exists all", "if exists [\"From\", \"Date\"] { discard; }", NULL, "", "", "discard"},
    {"exists missing", "if exists [\"From\", \"Reply-To\"] { discard; }", NULL, "", "",
     "implicit keep"},
    {"size over", "if size :over 100 { discard; }", NULL, "", "", "discard"},
    {"size under", "if size :under 1K { discard; }", NULL, "", "", "discard"},
    {"size over 1M", "if size :over 1M { discard; }", NULL, "", "", "implicit keep"},
    {"require comparators",
     "require [\"comparator-i;octet\", \"comparator-i;ascii-casemap\"];\n"
     "if header :comparator \"i;ascii-casemap\" :matches \"x-spam\" \"y*\" { discard; }",
     NULL, "", "", "discard"},
    {"address :matches", "if address :matches :domain \"from\" \"*.EXAMPLE\" { discard; }", NULL,
     "", "", "discard"},
    {"header any of several names",
     "if header :contains [\"X-None\", \"Subject\"] [\"zzz\", \"money\"] { discard; }", NULL, "",
     "", "discard"},
    {"nested if", "if true { if false { discard; } else { keep; } }", NULL, "", "", "keep"},
    /* actions */
    {"keep", "keep;", NULL, "", "", "keep"},
    {"discard", "discard;", NULL, "", "", "discard"},
    {"stop", "stop; discard;", NULL, "", "", "implicit keep"},
    {"fileinto twice", "require \"fileinto\"; fileinto \"A\"; fileinto \"A\"; fileinto \"B\";",
     NULL, "", "", "fileinto \"A\"; fileinto \"B\""},
    {"keep + fileinto inbox", "require \"fileinto\"; keep; fileinto \"inbox\";", NULL, "", "",
     "keep"},
    {"redirect dedup", "redirect \"a@x.example\"; redirect \"A@X.example\";", NULL, "", "",
     "redirect \"a@x.example\""},
    {"redirect + keep", "redirect \"<a@x.example>\"; keep;", NULL, "", "",
     "redirect \"a@x.example\"; keep"},
    {"discard + fileinto", "require \"fileinto\"; discard; fileinto \"X\";", NULL, "", "",
     "discard; fileinto \"X\""},
    {"too many redirects",
     "redirect \"a@x.example\"; redirect \"b@x.example\"; redirect \"c@x.example\";\n"
     "redirect \"d@x.example\";\nredirect \"e@x.example\";",
     NULL, "", "", "implicit keep"},
    {"empty script", "", NULL, "", "", "implicit keep"},
    {"comments only", "# nothing\n/* at\nall */\n", NULL, "", "", "implicit keep"},
};

static const char *script_of(int i) {
  if (runs[i].script)
    return runs[i].script;
  return i < 4 ? rfc_example1 : i < 6 ? rfc_if : newsletter;
}

static const char *msg_of(int i) {
  if (runs[i].msg)
    return runs[i].msg;
  static const char *const m[] = {msg_list,     msg_company,  msg_spam,    msg_personal, msg_list,
                                  msg_personal, msg_personal, msg_company, msg_company};
  return i < (int)G_N_ELEMENTS(m) ? m[i] : msg_list;
}

START_TEST(run_table) {
  const char *script = script_of(_i);
  char *err = NULL;
  sieve_script *s = sieve_parse(script, strlen(script), &err);
  ck_assert_msg(s, "%s: parse error %s", runs[_i].what, err);
  const char *m = msg_of(_i);
  mime_msg *msg = mime_msg_parse(m, strlen(m), NULL);
  sieve_input in = {.msg = msg, .env_from = runs[_i].env_from, .env_to = runs[_i].env_to};
  sieve_result r;
  sieve_run(s, &in, &r);
  char *got = sieve_result_describe(&r);
  ck_assert_msg(g_str_equal(got, runs[_i].want), "%s: got [%s] want [%s]", runs[_i].what, got,
                runs[_i].want);
  ck_assert_uint_ge(r.actions->len, 1);
  if (g_str_equal(runs[_i].what, "too many redirects"))
    ck_assert_str_eq(r.error, "line 3: more than 4 redirect actions");
  else
    ck_assert_ptr_null(r.error);
  g_free(got);
  sieve_result_clear(&r);
  mime_msg_free(msg);
  sieve_script_free(s);
}
END_TEST

static const struct {
  const char *script, *want;
} errors[] = {
    {"fileinto \"x\";", "line 1: fileinto used without require \"fileinto\""},
    {"keep;\nrequire \"fileinto\";", "line 2: require must come before other commands"},
    {"require \"vacation\";", "line 1: unsupported extension \"vacation\""},
    {"require [\"fileinto\", \"regex\"];", "line 1: unsupported extension \"regex\""},
    {"if true { require \"fileinto\"; }", "line 1: require must come before other commands"},
    {"keep", "line 1: expected \";\" or \"{\", got end of script"},
    {"keep;\n\nfoo;", "line 3: unknown command \"foo\""},
    {"if bar { keep; }", "line 1: unknown test \"bar\""},
    {"if header :regex \"a\" \"b\" { keep; }", "line 1: unknown tag \":regex\" for header"},
    {"if header :is :contains \"a\" \"b\" {}",
     "line 1: the same kind of tag given twice for header"},
    {"if header \"a\" \"b\" :is {}",
     "line 1: tag \":is\" after the positional arguments of header"},
    {"if header :comparator \"i;ascii-numeric\" \"a\" \"b\" {}",
     "line 1: unsupported comparator \"i;ascii-numeric\""},
    {"if header :comparator :is \"a\" \"b\" {}",
     "line 1: :comparator needs a comparator name (a string)"},
    {"if header \"a\" {}", "line 1: header takes a list of header names and a list of keys"},
    {"if header \"bad name\" \"x\" {}", "line 1: invalid header name \"bad name\""},
    {"if envelope \"from\" \"x\" {}", "line 1: envelope used without require \"envelope\""},
    {"require \"envelope\";\nif envelope \"auth\" \"x\" {}",
     "line 2: unsupported envelope part \"auth\""},
    {"if address \"subject\" \"x\" {}",
     "line 1: header \"subject\" holds no addresses: not allowed in the address test"},
    {"if size 100 {}", "line 1: size takes :over or :under and a number"},
    {"if size :over :under 100 {}", "line 1: :over/:under given twice for size"},
    {"if size :over \"100\" {}", "line 1: size takes :over or :under and a number"},
    {"if size :over 99999999999999999999 {}", "line 1: number too large"},
    {"if size :over 17179869184G {}", "line 1: number too large"},
    {"if not (true) {}", "line 1: not takes one test"},
    {"if anyof true {}", "line 1: anyof takes a list of tests in parentheses"},
    {"if true keep;", "line 1: if needs a block in braces"},
    {"if true;", "line 1: if needs a block in braces"},
    {"elsif true {}", "line 1: elsif without a preceding if"},
    {"if true {} keep; else {}", "line 1: else without a preceding if"},
    {"if true {} else {} else {}", "line 1: else without a preceding if"},
    {"if true {} else true {}", "line 1: else takes no test"},
    {"keep \"x\";", "line 1: keep takes no arguments"},
    {"stop { }", "line 1: stop does not take a block"},
    {"require \"fileinto\"; fileinto [\"a\", \"b\"];", "line 1: fileinto takes one string"},
    {"require \"fileinto\"; fileinto [\"a\"];", "line 1: fileinto takes one string"},
    {"require \"fileinto\"; fileinto \"\";", "line 1: fileinto needs a folder name"},
    {"redirect \"not an address\";", "line 1: redirect to an invalid address \"not an address\""},
    {"redirect \"a@b, c@d\";", "line 1: redirect to an invalid address \"a@b, c@d\""},
    {"keep;\n\"unterminated", "line 2: unterminated string"},
    {"keep;\n/* open\n\ncomment", "line 2: unterminated comment"},
    {"if header :is \"a\" text:\nfoo\n", "line 1: unterminated multi-line string (a line with a "
                                         "single \".\" ends it)"},
    {"if header :is \"a\" text: junk\nfoo\n.\n{}",
     "line 1: expected the end of the line after \"text:\""},
    {"keep;\n: foo", "line 2: expected a tag name after \":\""},
    {"keep; @", "line 1: unexpected character \"@\""},
    {"keep; \x01", "line 1: unexpected byte 0x01"},
    {"if header [\"a\" \"b\"] \"c\" {}", "line 1: expected \",\" or \"]\", got string"},
    {"if header [] \"c\" {}", "line 1: expected a string in the list, got \"]\""},
    {"if anyof (true false) {}", "line 1: true does not take tests"},
    {"if anyof (true, false {}", "line 1: expected \",\" or \")\", got \"{\""},
    {"if anyof () {}", "line 1: expected a test, got \")\""},
    {"}", "line 1: expected a command, got \"}\""},
    {"if true { keep;", "line 1: expected \"}\", got end of script"},
    {"if true { 5 }", "line 1: expected a command or \"}\", got number"},
    {"if exists \"a\" \"b\" {}", "line 1: exists takes a list of header names"},
    {"if true \"x\" {}", "line 1: true takes no arguments"},
};

START_TEST(error_table) {
  char *err = NULL;
  sieve_script *s = sieve_parse(errors[_i].script, strlen(errors[_i].script), &err);
  ck_assert_ptr_null(s);
  ck_assert_msg(g_strcmp0(err, errors[_i].want) == 0, "row %d [%s]: got [%s] want [%s]", _i,
                errors[_i].script, err, errors[_i].want);
  g_free(err);
}
END_TEST

START_TEST(strings_and_numbers) {
  /* Multi-line strings with dot-stuffing, escapes, comments, quantifiers. */
  const char *script = "require \"fileinto\"; # comment\n"
                       "if header :is \"X-Multi\" text: # comment after text:\n"
                       "..dotted\n"
                       "line two\n"
                       ".\n"
                       "{ fileinto \"multi\"; }\n"
                       "if header :is \"X-Esc\" \"a\\\"b\\\\c\\d\" { fileinto \"esc\"; }\n"
                       "if header :matches \"X-Star\" \"lit\\\\*\" { fileinto \"star\"; }\n"
                       "if size :under 2k { fileinto \"small\"; }\n"
                       "IF HEADER :IS \"x-esc\" \"A\\\"B\\\\CD\" { FILEINTO \"Upper\"; }\n";
  char *err = NULL;
  sieve_script *s = sieve_parse(script, strlen(script), &err);
  ck_assert_msg(s, "%s", err);
  ck_assert_uint_eq(sieve_script_command_count(s), 10);
  const char *m = "X-Multi: x\r\nX-Esc: a\"b\\cd\r\nX-Star: lit*\r\n\r\n";
  mime_msg *msg = mime_msg_parse(m, strlen(m), NULL);
  sieve_input in = {.msg = msg};
  sieve_result r;
  sieve_run(s, &in, &r);
  char *got = sieve_result_describe(&r);
  ck_assert_str_eq(got, "fileinto \"esc\"; fileinto \"star\"; fileinto \"small\"; "
                        "fileinto \"Upper\"");
  g_free(got);
  sieve_result_clear(&r);
  mime_msg_free(msg);
  sieve_script_free(s);

  /* A multi-line value is exactly its lines, dot-stuffing undone. */
  const char *s2 = "require \"fileinto\";\r\nfileinto text:\r\n..dotted\r\nline two\n.\r\n;";
  s = sieve_parse(s2, strlen(s2), &err);
  ck_assert_msg(s, "%s", err);
  msg = mime_msg_parse("\r\n", 2, NULL);
  in.msg = msg;
  sieve_run(s, &in, &r);
  ck_assert_str_eq(((sieve_action *)r.actions->pdata[0])->arg, ".dotted\r\nline two\n");
  sieve_result_clear(&r);
  mime_msg_free(msg);
  sieve_script_free(s);
}
END_TEST

static const struct {
  sieve_match m;
  sieve_cmp c;
  const char *value, *key;
  gboolean want;
} matches[] = {
    {SIEVE_MATCH_IS, SIEVE_CMP_ASCII_CASEMAP, "Frobnitzm", "frobnitzm", TRUE},
    {SIEVE_MATCH_IS, SIEVE_CMP_OCTET, "Frobnitzm", "frobnitzm", FALSE},
    {SIEVE_MATCH_IS, SIEVE_CMP_OCTET, "", "", TRUE},
    {SIEVE_MATCH_IS, SIEVE_CMP_ASCII_CASEMAP, "\xc3\xa9", "\xc3\x89", FALSE}, /* ASCII only */
    {SIEVE_MATCH_CONTAINS, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "NIT", TRUE},
    {SIEVE_MATCH_CONTAINS, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "fbm", FALSE},
    {SIEVE_MATCH_CONTAINS, SIEVE_CMP_OCTET, "abc", "", TRUE},
    {SIEVE_MATCH_CONTAINS, SIEVE_CMP_OCTET, "ab", "abc", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "frob*", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "*NITZM", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "f?obn*m", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "frobnitzm", "f?bn*m", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "", "*", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "", "?", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "a", "", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "a*b", "a\\*b", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "axb", "a\\*b", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "a?b", "a\\?b", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "a\\", "a\\", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "mississippi", "*sip*", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "mississippi", "m*iss*ppi", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "mississippi", "m*iss*ppix", FALSE},
    /* §2.7.1: both comparators define a character as one octet. */
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "1 \xe2\x82\xac", "1 ?", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "1 \xe2\x82\xac", "1 ???", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "1 \xe2\x82\xac", "1 ?", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, "1 \xe2\x82\xac", "1 ???", TRUE},
    /* "?" then a literal: Pigeonhole 0.5.19 (Debian 12) wrongly says TRUE. */
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "abc", "?x*", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "me", "?@*", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "abc", "??x*", FALSE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "abc", "?b*", TRUE},
    {SIEVE_MATCH_MATCHES, SIEVE_CMP_ASCII_CASEMAP, "x, strange, y", "*, strange, *", TRUE},
};

START_TEST(match_table) {
  gboolean got =
      sieve_match_value(matches[_i].m, matches[_i].c, matches[_i].value, matches[_i].key);
  ck_assert_msg(got == matches[_i].want, "row %d: [%s] vs [%s]: got %d want %d", _i,
                matches[_i].value, matches[_i].key, got, matches[_i].want);
}
END_TEST

START_TEST(pathological_match) {
  /* Many stars against a long non-matching value stays polynomial. */
  GString *v = g_string_new(NULL);
  for (int i = 0; i < 4000; i++)
    g_string_append_c(v, 'a');
  GString *k = g_string_new(NULL);
  for (int i = 0; i < 40; i++)
    g_string_append(k, "*a");
  g_string_append(k, "b");
  ck_assert(!sieve_match_value(SIEVE_MATCH_MATCHES, SIEVE_CMP_OCTET, v->str, k->str));
  g_string_free(v, TRUE);
  g_string_free(k, TRUE);
}
END_TEST

/* Every prefix of every good script parses or fails with a line number;
 * the full scripts parse. */
START_TEST(prefixes) {
  const char *scripts[] = {rfc_example1, rfc_if, newsletter};
  for (guint i = 0; i < G_N_ELEMENTS(scripts); i++) {
    gsize n = strlen(scripts[i]);
    for (gsize cut = 0; cut <= n; cut++) {
      char *err = NULL;
      sieve_script *s = sieve_parse(scripts[i], cut, &err);
      if (cut == n)
        ck_assert_msg(s, "script %u: %s", i, err);
      if (!s) {
        ck_assert_msg(err && g_str_has_prefix(err, "line "), "script %u cut %zu: [%s]", i,
                      (size_t)cut, err);
        guint line = (guint)g_ascii_strtoull(err + 5, NULL, 10);
        ck_assert_uint_ge(line, 1);
      }
      g_free(err);
      sieve_script_free(s);
    }
  }
}
END_TEST

START_TEST(deep_nesting) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 5000; i++)
    g_string_append(s, "if not ");
  char *err = NULL;
  ck_assert_ptr_null(sieve_parse(s->str, s->len, &err));
  ck_assert_str_eq(err, "line 1: nesting deeper than 64");
  g_free(err);
  g_string_truncate(s, 0);
  for (int i = 0; i < 5000; i++)
    g_string_append(s, "if true {");
  ck_assert_ptr_null(sieve_parse(s->str, s->len, &err));
  ck_assert_str_eq(err, "line 1: nesting deeper than 64");
  g_free(err);
  g_string_free(s, TRUE);
  ck_assert_ptr_null(sieve_parse("\0keep;", 6, &err));
  ck_assert_str_eq(err, "line 1: unexpected byte 0x00");
  g_free(err);
  sieve_script *ok = sieve_parse(NULL, 0, NULL);
  ck_assert_ptr_nonnull(ok);
  sieve_script_free(ok);
  sieve_script_free(NULL);
}
END_TEST

/* xorshift64*: the tests' own deterministic generator (no rand()). */
static guint64 rng_next(guint64 *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

static const char *const tokens[] = {"if",
                                     "elsif",
                                     "else",
                                     "{",
                                     "}",
                                     "(",
                                     ")",
                                     "[",
                                     "]",
                                     ",",
                                     ";",
                                     "\"",
                                     "text:\n",
                                     "\n.\n",
                                     ":is",
                                     ":matches",
                                     ":contains",
                                     ":comparator",
                                     "\"i;octet\"",
                                     "header",
                                     "address",
                                     "envelope",
                                     "size",
                                     ":over",
                                     "10K",
                                     "exists",
                                     "not",
                                     "allof",
                                     "anyof",
                                     "true",
                                     "false",
                                     "keep",
                                     "discard",
                                     "stop",
                                     "fileinto",
                                     "redirect",
                                     "require",
                                     "\"fileinto\"",
                                     "\"envelope\"",
                                     "#",
                                     "/*",
                                     "*/",
                                     "\\",
                                     "\"a@b.example\"",
                                     "\"*?\"",
                                     ":all",
                                     ":domain",
                                     ":localpart",
                                     "99999999999999999999",
                                     "\x80",
                                     "\0"};

START_TEST(mutation_fuzz) {
  const char *seeds[] = {rfc_example1, rfc_if, newsletter,
                         "require \"envelope\"; if envelope :all :matches \"to\" \"*@*\" "
                         "{ redirect \"x@y.example\"; } else { discard; }"};
  const char *m = msg_list;
  mime_msg *msg = mime_msg_parse(m, strlen(m), NULL);
  guint64 st = UINT64_C(0x9E3779B97F4A7C15);
  guint parsed = 0, failed = 0;
  for (int iter = 0; iter < 20000; iter++) {
    GString *s = g_string_new(seeds[rng_next(&st) % G_N_ELEMENTS(seeds)]);
    int nmut = 1 + (int)(rng_next(&st) % 4);
    for (int k = 0; k < nmut; k++) {
      gsize pos = s->len ? (gsize)(rng_next(&st) % (s->len + 1)) : 0;
      switch (rng_next(&st) % 5) {
      case 0: /* delete a run */
        if (pos < s->len)
          g_string_erase(s, (gssize)pos, (gssize)MIN(s->len - pos, 1 + rng_next(&st) % 8));
        break;
      case 1: /* flip a byte */
        if (pos < s->len)
          s->str[pos] = (char)(rng_next(&st) & 0xff);
        break;
      case 2: { /* insert a token */
        const char *t = tokens[rng_next(&st) % G_N_ELEMENTS(tokens)];
        g_string_insert_len(s, (gssize)pos, t, t[0] ? (gssize)strlen(t) : 1);
        break;
      }
      case 3: /* duplicate a run */
        if (pos < s->len) {
          gsize n = MIN(s->len - pos, 1 + rng_next(&st) % 30);
          char *dup = g_strndup(s->str + pos, n);
          g_string_insert_len(s, (gssize)pos, dup, (gssize)n);
          g_free(dup);
        }
        break;
      default: /* truncate */
        g_string_truncate(s, pos);
        break;
      }
    }
    char *err = NULL;
    sieve_script *sc = sieve_parse(s->str, s->len, &err);
    if (sc) {
      parsed++;
      ck_assert_ptr_null(err);
      sieve_input in = {.msg = msg, .env_from = "a@b.example", .env_to = "me@example.com"};
      sieve_result r;
      sieve_run(sc, &in, &r);
      ck_assert_uint_ge(r.actions->len, 1);
      char *d = sieve_result_describe(&r);
      g_free(d);
      sieve_result_clear(&r);
      sieve_script_free(sc);
    } else {
      failed++;
      ck_assert_msg(err && g_str_has_prefix(err, "line "), "iteration %d: [%s]", iter, err);
    }
    g_free(err);
    g_string_free(s, TRUE);
  }
  /* Both outcomes are exercised. */
  ck_assert_uint_gt(parsed, 1000);
  ck_assert_uint_gt(failed, 1000);
  mime_msg_free(msg);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sieve");
  TCase *t = tcase_create("run");
  tcase_add_loop_test(t, run_table, 0, G_N_ELEMENTS(runs));
  tcase_add_loop_test(t, match_table, 0, G_N_ELEMENTS(matches));
  tcase_add_test(t, pathological_match);
  suite_add_tcase(s, t);
  t = tcase_create("parse");
  tcase_add_loop_test(t, error_table, 0, G_N_ELEMENTS(errors));
  tcase_add_test(t, strings_and_numbers);
  tcase_add_test(t, prefixes);
  tcase_add_test(t, deep_nesting);
  suite_add_tcase(s, t);
  t = tcase_create("fuzz");
  tcase_set_timeout(t, 300);
  tcase_add_test(t, mutation_fuzz);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return testutil_run(suite()); }
