/* Tests for dnsbl (RFC 5782): query names (§2.1 IPv4, §2.4 IPv6), answer
 * classification, the test entries of §5, and the asynchronous check
 * (queries pulled, answers by id, reject or score verdicts). */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"
#include "testutil.h"

static const struct {
  const char *ip, *zone, *want;
} names[] = {
    {"127.0.0.2", "bl.example", "2.0.0.127.bl.example."},
    {"192.0.2.99", "bl.example.", "99.2.0.192.bl.example."},
    {"::FFFF:7F00:2", "bl6.example",
     "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl6.example."},
    /* RFC 5782 §2.4's example: 2001:db8:1:2:3:4:567:89ab. */
    {"2001:DB8:1:2:3:4:567:89AB", "ugly.example",
     "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example."},
    {"not-an-ip", "bl.example", NULL},
    {"1.2.3", "bl.example", NULL},
    {"192.0.2.1",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", NULL},
};

START_TEST(query_names) {
  char *got = dnsbl_query_name(names[_i].ip, names[_i].zone);
  ck_assert_msg(g_strcmp0(got, names[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                names[_i].want);
  g_free(got);
}
END_TEST

static const char *const only2[] = {"127.0.0.2", NULL};

static const struct {
  dnsbl_rcode rc;
  const char *answers[3];
  const char *const *codes;
  dnsbl_answer want;
  const char *want_matched;
} classes[] = {
    {DNSBL_RCODE_ANSWER, {"127.0.0.2"}, NULL, DNSBL_ANSWER_LISTED, "127.0.0.2"},
    {DNSBL_RCODE_ANSWER,
     {"127.0.0.4", "127.0.0.10"},
     NULL,
     DNSBL_ANSWER_LISTED,
     "127.0.0.4,127.0.0.10"},
    {DNSBL_RCODE_ANSWER, {"127.0.0.4"}, only2, DNSBL_ANSWER_NOT_LISTED, NULL},
    {DNSBL_RCODE_ANSWER, {"127.0.0.4", "127.0.0.2"}, only2, DNSBL_ANSWER_LISTED, "127.0.0.2"},
    {DNSBL_RCODE_ANSWER, {"127.0.0.1"}, NULL, DNSBL_ANSWER_BOGUS, NULL},
    {DNSBL_RCODE_ANSWER, {"198.51.100.1"}, NULL, DNSBL_ANSWER_BOGUS, NULL},
    {DNSBL_RCODE_ANSWER, {"garbage"}, NULL, DNSBL_ANSWER_BOGUS, NULL},
    {DNSBL_RCODE_ANSWER, {"198.51.100.1", "127.0.0.3"}, NULL, DNSBL_ANSWER_LISTED, "127.0.0.3"},
    {DNSBL_RCODE_ANSWER, {NULL}, NULL, DNSBL_ANSWER_NOT_LISTED, NULL},
    {DNSBL_RCODE_NXDOMAIN, {NULL}, NULL, DNSBL_ANSWER_NOT_LISTED, NULL},
    {DNSBL_RCODE_NODATA, {NULL}, NULL, DNSBL_ANSWER_NOT_LISTED, NULL},
    {DNSBL_RCODE_FAIL, {NULL}, NULL, DNSBL_ANSWER_ERROR, NULL},
};

START_TEST(classify) {
  guint n = 0;
  while (n < 3 && classes[_i].answers[n])
    n++;
  char *m = NULL;
  dnsbl_answer a = dnsbl_classify(classes[_i].rc, classes[_i].answers, n, classes[_i].codes, &m);
  ck_assert_msg(a == classes[_i].want && g_strcmp0(m, classes[_i].want_matched) == 0,
                "row %d: got %s [%s] want %s [%s]", _i, dnsbl_answer_name(a), m,
                dnsbl_answer_name(classes[_i].want), classes[_i].want_matched);
  g_free(m);
}
END_TEST

/* A tiny list server: the RFC 5782 §5 test entries plus one listed host. */
static dnsbl_rcode serve(const dnsbl_query *q, const char **rec) {
  static const char *const listed_a[] = {
      "2.0.0.127.bl.example.",
      "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example.",
      "9.2.0.192.bl.example.",
      "9.2.0.192.score.example.",
      "2.0.0.127.score.example.",
  };
  for (guint i = 0; i < G_N_ELEMENTS(listed_a); i++) {
    if (g_str_equal(q->name, listed_a[i])) {
      *rec = q->qtype == DNSBL_QTYPE_A ? "127.0.0.2" : "Listed, see https://bl.example/lookup";
      return DNSBL_RCODE_ANSWER;
    }
  }
  if (g_str_has_suffix(q->name, ".down.example."))
    return DNSBL_RCODE_FAIL;
  return DNSBL_RCODE_NXDOMAIN;
}

/* Runs a check to the end, answering queries in the order given by
 * REVERSE (FALSE: as emitted; TRUE: last first). Returns the check. */
static dnsbl_check *run(const dnsbl_zone *z, guint n, const char *ip, gboolean reverse,
                        guint *queries) {
  dnsbl_check *c = dnsbl_check_new(z, n, ip);
  *queries = 0;
  while (dnsbl_check_state_get(c) == DNSBL_CHECK_QUERYING) {
    GArray *pending = g_array_new(FALSE, FALSE, sizeof(dnsbl_query));
    GPtrArray *names_kept = g_ptr_array_new_with_free_func(g_free);
    dnsbl_query q;
    while (dnsbl_check_next_query(c, &q)) {
      g_ptr_array_add(names_kept, g_strdup(q.name));
      q.name = names_kept->pdata[names_kept->len - 1];
      g_array_append_val(pending, q);
    }
    ck_assert_uint_gt(pending->len, 0);
    *queries += pending->len;
    for (guint k = 0; k < pending->len; k++) {
      const dnsbl_query *p =
          &g_array_index(pending, dnsbl_query, reverse ? pending->len - 1 - k : k);
      const char *rec = NULL;
      dnsbl_rcode rc = serve(p, &rec);
      ck_assert(dnsbl_check_answer(c, p->id, rc, rec ? &rec : NULL, rec ? 1 : 0));
      ck_assert(!dnsbl_check_answer(c, p->id, rc, rec ? &rec : NULL, rec ? 1 : 0));
    }
    g_array_free(pending, TRUE);
    g_ptr_array_free(names_kept, TRUE);
  }
  return c;
}

START_TEST(test_entries_listed) {
  dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  z.action = DNSBL_REJECT;
  const char *ips[] = {"127.0.0.2", "::FFFF:7F00:2"};
  for (guint i = 0; i < 2; i++) {
    guint nq = 0;
    dnsbl_check *c = run(&z, 1, ips[i], FALSE, &nq);
    const dnsbl_verdict *v = dnsbl_check_verdict(c);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(nq, 2); /* A, then TXT */
    ck_assert(v->reject);
    ck_assert_int_eq(v->code, 554);
    ck_assert_str_eq(v->esc, "5.7.1");
    char *want = g_strdup_printf("Service unavailable; Client host [%s] blocked using bl.example; "
                                 "Listed, see https://bl.example/lookup",
                                 ips[i]);
    ck_assert_str_eq(v->text, want);
    g_free(want);
    ck_assert_uint_eq(v->hits->len, 1);
    const dnsbl_hit *h = v->hits->pdata[0];
    ck_assert_str_eq(h->codes, "127.0.0.2");
    ck_assert_int_eq(v->score, 0);
    dnsbl_check_free(c);
  }
}
END_TEST

START_TEST(test_entry_not_listed) {
  dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  z.action = DNSBL_REJECT;
  const char *ips[] = {"127.0.0.1", "::FFFF:7F00:1", "192.0.2.10"};
  for (guint i = 0; i < 3; i++) {
    guint nq = 0;
    dnsbl_check *c = run(&z, 1, ips[i], FALSE, &nq);
    const dnsbl_verdict *v = dnsbl_check_verdict(c);
    ck_assert_uint_eq(nq, 1);
    ck_assert(!v->reject);
    ck_assert_ptr_null(v->text);
    ck_assert_uint_eq(v->hits->len, 0);
    ck_assert_int_eq(g_array_index(v->answers, dnsbl_answer, 0), DNSBL_ANSWER_NOT_LISTED);
    dnsbl_check_free(c);
  }
}
END_TEST

START_TEST(several_lists) {
  dnsbl_zone z[4];
  dnsbl_zone_default(&z[0], "score.example");
  z[0].weight = 15;
  z[0].rule = "RCVD_IN_SCORE";
  dnsbl_zone_default(&z[1], "bl.example");
  z[1].action = DNSBL_REJECT;
  z[1].want_txt = FALSE;
  dnsbl_zone_default(&z[2], "down.example");
  dnsbl_zone_default(&z[3], "v6only.example");
  z[3].ipv4 = FALSE;
  for (int rev = 0; rev < 2; rev++) {
    guint nq = 0;
    dnsbl_check *c = run(z, 4, "192.0.2.9", rev, &nq);
    const dnsbl_verdict *v = dnsbl_check_verdict(c);
    ck_assert_uint_eq(nq, 4); /* 3 A + 1 TXT (score.example) */
    ck_assert(v->reject);
    ck_assert_str_eq(v->text, "Service unavailable; Client host [192.0.2.9] blocked using "
                              "bl.example");
    ck_assert_int_eq(v->score, 15);
    ck_assert_uint_eq(v->hits->len, 2);
    const dnsbl_hit *h0 = v->hits->pdata[0];
    ck_assert_str_eq(h0->zone, "score.example");
    ck_assert_str_eq(h0->rule, "RCVD_IN_SCORE");
    ck_assert_str_eq(h0->reason, "Listed, see https://bl.example/lookup");
    ck_assert_int_eq(g_array_index(v->answers, dnsbl_answer, 2), DNSBL_ANSWER_ERROR);
    ck_assert_int_eq(g_array_index(v->answers, dnsbl_answer, 3), DNSBL_ANSWER_NOT_LISTED);
    dnsbl_check_free(c);
  }
}
END_TEST

START_TEST(nothing_to_ask) {
  dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  z.ipv6 = FALSE;
  const char *ips[] = {"2001:db8::1", "garbage", ""};
  for (guint i = 0; i < 3; i++) {
    dnsbl_check *c = dnsbl_check_new(&z, 1, ips[i]);
    ck_assert_int_eq(dnsbl_check_state_get(c), DNSBL_CHECK_DONE);
    dnsbl_query q;
    ck_assert(!dnsbl_check_next_query(c, &q));
    ck_assert(!dnsbl_check_verdict(c)->reject);
    ck_assert(!dnsbl_check_answer(c, 1, DNSBL_RCODE_NXDOMAIN, NULL, 0));
    dnsbl_check_free(c);
  }
  dnsbl_check *c = dnsbl_check_new(NULL, 0, "192.0.2.1");
  ck_assert_int_eq(dnsbl_check_state_get(c), DNSBL_CHECK_DONE);
  dnsbl_check_free(c);
  dnsbl_check_free(NULL);
}
END_TEST

START_TEST(waits_for_answers) {
  dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  dnsbl_check *c = dnsbl_check_new(&z, 1, "192.0.2.9");
  ck_assert_int_eq(dnsbl_check_state_get(c), DNSBL_CHECK_QUERYING);
  ck_assert_ptr_null(dnsbl_check_verdict(c));
  dnsbl_query q;
  ck_assert(dnsbl_check_next_query(c, &q));
  ck_assert_str_eq(q.name, "9.2.0.192.bl.example.");
  ck_assert_int_eq(q.qtype, DNSBL_QTYPE_A);
  ck_assert(!dnsbl_check_next_query(c, &q)); /* handed out once */
  ck_assert(!dnsbl_check_answer(c, q.id + 7, DNSBL_RCODE_NXDOMAIN, NULL, 0));
  ck_assert_int_eq(dnsbl_check_state_get(c), DNSBL_CHECK_QUERYING);
  const char *a = "127.0.0.2";
  ck_assert(dnsbl_check_answer(c, q.id, DNSBL_RCODE_ANSWER, &a, 1));
  ck_assert_int_eq(dnsbl_check_state_get(c), DNSBL_CHECK_QUERYING);
  ck_assert(dnsbl_check_next_query(c, &q));
  ck_assert_int_eq(q.qtype, DNSBL_QTYPE_TXT);
  /* A TXT failure leaves the listing without a reason; odd bytes are masked. */
  const char *t[] = {"bad\r\nreason", " x"};
  ck_assert(dnsbl_check_answer(c, q.id, DNSBL_RCODE_ANSWER, t, 2));
  const dnsbl_verdict *v = dnsbl_check_verdict(c);
  ck_assert_int_eq(v->score, 26);
  ck_assert_str_eq(((const dnsbl_hit *)v->hits->pdata[0])->reason, "bad??reason x");
  dnsbl_check_free(c);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dnsbl");
  TCase *t = tcase_create("names");
  tcase_add_loop_test(t, query_names, 0, G_N_ELEMENTS(names));
  tcase_add_loop_test(t, classify, 0, G_N_ELEMENTS(classes));
  suite_add_tcase(s, t);
  t = tcase_create("check");
  tcase_add_test(t, test_entries_listed);
  tcase_add_test(t, test_entry_not_listed);
  tcase_add_test(t, several_lists);
  tcase_add_test(t, nothing_to_ask);
  tcase_add_test(t, waits_for_answers);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return testutil_run(suite()); }
