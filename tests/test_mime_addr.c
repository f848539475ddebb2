/* Tests for mime_addr: RFC 5322 §3.4 address lists, with the examples of
 * RFC 5322 Appendix A and the obsolete forms of §4.4. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_addr.h"
#include "testutil.h"

/* One line per entry: "name|local@domain", "name|route:spec", "G:name",
 * ";" — joined with " ~ ". name is the decoded display name or "-". */
static char *describe(const GPtrArray *l) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < l->len; i++) {
    const mime_addr *a = g_ptr_array_index((GPtrArray *)l, i);
    if (i)
      g_string_append(s, " ~ ");
    switch (a->kind) {
    case MIME_ADDR_GROUP_START:
      g_string_append_printf(s, "G:%s", a->name ? a->name : "-");
      break;
    case MIME_ADDR_GROUP_END:
      g_string_append_c(s, ';');
      break;
    default: {
      char *spec = mime_addr_spec(a);
      g_string_append_printf(s, "%s|%s%s%s", a->name ? a->name : "-", a->route ? a->route : "",
                             a->route ? ":" : "", spec);
      g_free(spec);
    }
    }
  }
  return g_string_free(s, FALSE);
}

static const struct {
  const char *in;
  const char *want;
  guint bad;
} rows[] = {
    /* A.1.1 */
    {"John Doe <jdoe@machine.example>", "John Doe|jdoe@machine.example", 0},
    {"Mary Smith <mary@example.net>", "Mary Smith|mary@example.net", 0},
    /* A.1.2 */
    {"\"Joe Q. Public\" <john.q.public@example.com>", "Joe Q. Public|john.q.public@example.com", 0},
    {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
     "Mary Smith|mary@x.test ~ -|jdoe@example.org ~ Who?|one@y.test", 0},
    {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
     "-|boss@nil.test ~ Giant; \"Big\" Box|sysservices@example.net", 0},
    /* A.1.3 */
    {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
     "G:A Group ~ Ed Jones|c@a.test ~ -|joe@where.test ~ John|jdoe@one.test ~ ;", 0},
    {"Undisclosed recipients:;", "G:Undisclosed recipients ~ ;", 0},
    /* A.5 white space, comments */
    {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", "Pete|pete@silly.test", 0},
    {"A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
     "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
     "G:A Group ~ Chris Jones|c@public.example ~ -|joe@example.org ~ John|jdoe@one.test ~ ;", 0},
    /* A.6.1 obsolete */
    {"Joe Q. Public <john.q.public@example.com>", "Joe Q. Public|john.q.public@example.com", 0},
    {"Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
     "Mary Smith|@node.test:mary@example.net ~ -|jdoe@test.example", 0},
    /* quoted local parts, literals, encoded names */
    {"\"john q\"@example.com", "-|\"john q\"@example.com", 0},
    {"\"simple\"@example.com", "-|simple@example.com", 0},
    {"user@[192.0.2.1]", "-|user@[192.0.2.1]", 0},
    {"=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
     "Andr\xC3\xA9 Pirard|PIRARD@vm1.ulg.ac.be", 0},
    {"=?UTF-8?Q?J=C3=B6rg?= =?UTF-8?Q?_M=C3=BCller?= <jm@x.test>",
     "J\xC3\xB6rg M\xC3\xBCller|jm@x.test", 0},
    {"<>", "-|", 0},
    /* broken input: skipped and counted, never fatal */
    {"a@b.test, <unterminated@c.test", "-|a@b.test ~ -|unterminated@c.test", 1},
    {"@@@, ok@d.test", "-|ok@d.test", 1},
    {"undisclosed", "-|undisclosed", 0},
    {"x@y.test;", "-|x@y.test", 1},
    {"G: a@b.test", "G:G ~ -|a@b.test ~ ;", 0},
    {"\"unterminated <u@v.test>", "-|\"unterminated <u@v.test>\"", 0},
    {"", "", 0},
    {"(only a comment)", "", 0},
};

START_TEST(parse_table) {
  guint bad = 99;
  GPtrArray *l = mime_addr_parse(rows[_i].in, &bad);
  char *got = describe(l);
  ck_assert_msg(strcmp(got, rows[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                rows[_i].want);
  ck_assert_msg(bad == rows[_i].bad, "row %d bad: got %u want %u", _i, bad, rows[_i].bad);
  g_free(got);
  g_ptr_array_unref(l);
}
END_TEST

static const struct {
  const char *in;
  gsize col;
  const char *want;
} fmt[] = {
    {"John Doe <jdoe@machine.example>", 4, "John Doe <jdoe@machine.example>"},
    {"\"Joe Q. Public\" <john.q.public@example.com>", 4,
     "\"Joe Q. Public\" <john.q.public@example.com>"},
    {"A Group:Ed Jones <c@a.test>,joe@where.test;, x@y.test", 4,
     "A Group: Ed Jones <c@a.test>, joe@where.test;, x@y.test"},
    {"Undisclosed recipients:;", 4, "Undisclosed recipients:;"},
    {"=?UTF-8?Q?J=C3=B6rg?= <jm@x.test>", 6, "=?UTF-8?B?SsO2cmc=?= <jm@x.test>"},
    {"\"Doe, John\" <jd@x.test>", 4, "\"Doe, John\" <jd@x.test>"},
    {"aaaaaaaaaaaaaaaaaaaa@example.com, bbbbbbbbbbbbbbbbbbbbbbbb@example.com, "
     "cccccccccccccccccccc@example.com",
     4,
     "aaaaaaaaaaaaaaaaaaaa@example.com, bbbbbbbbbbbbbbbbbbbbbbbb@example.com,\r\n "
     "cccccccccccccccccccc@example.com"},
    /* One mailbox without a name (the shortcut): never folded without a
     * space, folded at a space of a quoted local part. */
    {"averyveryveryveryveryveryveryveryveryveryveryverylonglocalpartindeed@example.example.com",
     4, "averyveryveryveryveryveryveryveryveryveryveryverylonglocalpartindeed@example.example.com"},
    {"\"a very long quoted local part with spaces that goes on and on and on and on\"@example.com",
     4,
     "\"a very long quoted local part with spaces that goes on and on and on and\r\n on\"@"
     "example.com"},
    {"postmaster", 4, "postmaster"},
};

START_TEST(format_table) {
  GPtrArray *l = mime_addr_parse(fmt[_i].in, NULL);
  char *got = mime_addr_format(l, fmt[_i].col);
  ck_assert_msg(strcmp(got, fmt[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                fmt[_i].want);
  /* What we write parses back to the same list. */
  char *unf = g_strdup(got);
  GPtrArray *again = mime_addr_parse(unf, NULL);
  char *d1 = describe(l), *d2 = describe(again);
  ck_assert_msg(strcmp(d1, d2) == 0, "row %d reparse: got [%s] want [%s]", _i, d2, d1);
  g_free(d1);
  g_free(d2);
  g_free(unf);
  g_ptr_array_unref(again);
  g_free(got);
  g_ptr_array_unref(l);
}
END_TEST

/* A bare addr-spec takes a shortcut past the tokenizer; a leading space
 * (CFWS, skipped by the tokenizer) forces the full path, and both must give
 * the same list. The rows sit on both sides of the shortcut's edges. */
static const char *const plain[] = {
    "a@b", "u1@d06.test", "a.b@c.d", "a..b@c", ".a@b", "a.@b", "a@", "a@.b", "a@b.", "a@b@c",
    "@b", "a", "a!#$%&'*+-/=?^_`{|}~z@x-y.z", "a b@c", "\"a\"@b", "a@[1.2.3.4]", "A@B", "",
    "a@b,c@d", "x\xc3\xa9@b", "a@b\xc3\xa9", "a(c)@b", "a@b;",
};

static char *describe_list(const GPtrArray *l, guint bad) {
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "bad=%u", bad);
  for (guint i = 0; i < l->len; i++) {
    const mime_addr *a = g_ptr_array_index((GPtrArray *)l, i);
    g_string_append_printf(s, " [%s name=%s raw=%s route=%s local=%s domain=%s]",
                           mime_addr_kind_name(a->kind), a->name ? a->name : "-",
                           a->name_raw ? a->name_raw : "-", a->route ? a->route : "-",
                           a->local ? a->local : "-", a->domain ? a->domain : "-");
  }
  return g_string_free(s, FALSE);
}

START_TEST(plain_spec_shortcut) {
  guint bad1 = 99, bad2 = 99;
  char *spaced = g_strconcat(" ", plain[_i], NULL);
  GPtrArray *l1 = mime_addr_parse(plain[_i], &bad1), *l2 = mime_addr_parse(spaced, &bad2);
  char *got = describe_list(l1, bad1), *want = describe_list(l2, bad2);
  ck_assert_msg(strcmp(got, want) == 0, "[%s]: got %s want %s", plain[_i], got, want);
  g_free(got);
  g_free(want);
  g_free(spaced);
  g_ptr_array_unref(l1);
  g_ptr_array_unref(l2);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_addr");
  TCase *tc = tcase_create("parse");
  tcase_add_loop_test(tc, parse_table, 0, G_N_ELEMENTS(rows));
  tcase_add_loop_test(tc, plain_spec_shortcut, 0, G_N_ELEMENTS(plain));
  suite_add_tcase(s, tc);
  tc = tcase_create("format");
  tcase_add_loop_test(tc, format_table, 0, G_N_ELEMENTS(fmt));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
