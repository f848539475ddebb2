/* Tests for DMARC (RFC 7489): the organisational domain from a public
 * suffix list (§3.2), record parsing and defaults (§6.3), policy discovery
 * with the organisational-domain fallback (§6.6.3), relaxed and strict
 * alignment for SPF and DKIM (§3.1), p/sp, pct sampling with the caller's
 * randomness (§6.6.4), DNS failures, and the engine's states. */
#include <glib.h>
#include <string.h>

#include "auth_fakedns.h"
#include "dmarc_check.h"
#include "dmarc_from.h"
#include "testutil.h"

static const char *const psl[] = {"com", "net", "org", "co.uk", "example"};

START_TEST(test_org_domain) {
  static const struct {
    const char *in, *want;
  } rows[] = {
      {"example.com", "example.com"},
      {"mail.Example.COM", "example.com"},
      {"a.b.c.example.com.", "example.com"},
      {"shop.example.co.uk", "example.co.uk"},
      {"example.co.uk", "example.co.uk"},
      {"co.uk", "co.uk"},
      {"com", "com"},
      {"x.y.unlisted", "y.unlisted"}, /* default rule: the last label */
      {"host.test.example", "test.example"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = dmarc_org_domain(rows[i].in, psl, G_N_ELEMENTS(psl));
    ck_assert_msg(strcmp(got, rows[i].want) == 0, "%s: got %s want %s", rows[i].in, got,
                  rows[i].want);
    g_free(got);
  }
}
END_TEST

START_TEST(test_record_parse) {
  static const struct {
    const char *rec;
    bool ok;
    dmarc_policy p, sp;
    int pct;
    bool adkim_s, aspf_s;
    unsigned nrua;
  } rows[] = {
      {"v=DMARC1; p=reject", true, DMARC_POLICY_REJECT, DMARC_POLICY_REJECT, 100, false, false, 0},
      {"v=DMARC1;p=quarantine;sp=none;pct=20;adkim=s;aspf=s", true, DMARC_POLICY_QUARANTINE,
       DMARC_POLICY_NONE, 20, true, true, 0},
      {"v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.net!10m", true,
       DMARC_POLICY_NONE, DMARC_POLICY_NONE, 100, false, false, 2},
      {"v=DMARC1; rua=mailto:a@example.com", true, DMARC_POLICY_NONE, DMARC_POLICY_NONE, 100, false,
       false, 1}, /* §6.6.3: no p= but a valid rua= */
      {"v=DMARC1; p=bogus; rua=mailto:a@example.com", true, DMARC_POLICY_NONE, DMARC_POLICY_NONE,
       100, false, false, 1},
      {"v=DMARC1; p=reject; pct=150; adkim=x", true, DMARC_POLICY_REJECT, DMARC_POLICY_REJECT, 100,
       false, false, 0},
      {"V=DMARC1; P=Reject", false, 0, 0, 0, false, false, 0},
      {"v=DMARC1", false, 0, 0, 0, false, false, 0},
      {"v=DMARC1; p=bogus", false, 0, 0, 0, false, false, 0},
      {"p=reject; v=DMARC1", false, 0, 0, 0, false, false, 0},
      {"v=DMARC1; p=reject; p=none", false, 0, 0, 0, false, false, 0},
      {"v=spf1 -all", false, 0, 0, 0, false, false, 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dmarc_record *r = dmarc_record_parse(rows[i].rec, strlen(rows[i].rec));
    ck_assert_msg((r != NULL) == rows[i].ok, "%s: got %s want %s", rows[i].rec,
                  r ? "valid" : "invalid", rows[i].ok ? "valid" : "invalid");
    if (r) {
      ck_assert_msg(r->p == rows[i].p && r->sp == rows[i].sp && r->pct == rows[i].pct &&
                        r->adkim_strict == rows[i].adkim_s && r->aspf_strict == rows[i].aspf_s &&
                        r->rua->len == rows[i].nrua,
                    "%s: got p=%s sp=%s pct=%d adkim_s=%d aspf_s=%d rua=%u", rows[i].rec,
                    dmarc_policy_name(r->p), dmarc_policy_name(r->sp), r->pct, r->adkim_strict,
                    r->aspf_strict, r->rua->len);
      ck_assert_str_eq(r->fo, "0");
      ck_assert_uint_eq(r->ri, 86400);
    }
    dmarc_record_free(r);
  }
}
END_TEST

/* ---- the engine ---- */

static auth_fakedns *zone(void) {
  auth_fakedns *d = auth_fakedns_new();
  static const char *const recs[] = {
      ("_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject; sp=quarantine; "
       "rua=mailto:d@example.com\""),
      "_dmarc.strict.com. 300 IN TXT \"v=DMARC1; p=reject; adkim=s; aspf=s\"",
      "_dmarc.relaxed.com. 300 IN TXT \"v=DMARC1; p=quarantine\"",
      "_dmarc.monitor.org. 300 IN TXT \"v=DMARC1; p=none\"",
      "_dmarc.half.net. 300 IN TXT \"v=DMARC1; p=reject; pct=50\"",
      "_dmarc.halfq.net. 300 IN TXT \"v=DMARC1; p=quarantine; pct=50\"",
      "_dmarc.two.com. 300 IN TXT \"v=DMARC1; p=reject\"",
      "_dmarc.two.com. 300 IN TXT \"v=DMARC1; p=none\"",
      "_dmarc.mixed.com. 300 IN TXT \"some other text\"",
      "_dmarc.mixed.com. 300 IN TXT \"v=DMARC1; p=quarantine\"",
      "_dmarc.own.example.co.uk. 300 IN TXT \"v=DMARC1; p=none\"",
      "_dmarc.example.co.uk. 300 IN TXT \"v=DMARC1; p=reject\"",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(recs); i++)
    auth_fakedns_add_text(d, recs[i]);
  dns_name t = dns_name_lit("_dmarc.slow.com");
  auth_fakedns_fail(d, &t, AUTH_DNS_TIMEOUT);
  return d;
}

typedef struct {
  uint32_t value;
  unsigned draws;
} fixed_rand;

static uint32_t rand_cb(void *ud) {
  fixed_rand *r = ud;
  r->draws++;
  return r->value;
}

typedef struct {
  const char *from;
  spf_result spf;
  const char *spf_domain;
  const char *dkim_domain;
  dkim_result dkim;
  uint32_t draw;
  /* want */
  dmarc_result result;
  dmarc_policy policy, disposition;
  const char *queries;
  unsigned draws;
} row;

static void run_row(auth_fakedns *d, const row *w) {
  dmarc_dkim dk = {w->dkim_domain, w->dkim};
  dmarc_request req = {.from_domain = w->from,
                       .spf = w->spf,
                       .spf_domain = w->spf_domain,
                       .dkim = &dk,
                       .ndkim = w->dkim_domain ? 1 : 0,
                       .public_suffixes = psl,
                       .nsuffixes = G_N_ELEMENTS(psl)};
  fixed_rand fr = {w->draw, 0};
  auth_env env = {.rand = rand_cb, .rand_ud = &fr};
  dmarc_check *c = dmarc_check_new(&req, &env);
  GString *q = g_string_new(NULL);
  dmarc_event ev;
  int guard = 0;
  while (dmarc_check_next(c, &ev)) {
    ck_assert_int_lt(++guard, 10);
    if (ev.kind == DMARC_EV_DONE)
      continue;
    ck_assert_int_eq(dmarc_check_state(c), DMARC_ST_WAIT_DNS);
    char *n = dns_name_to_text(&ev.query.name);
    g_string_append_printf(q, "%s ", n);
    g_free(n);
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st = auth_fakedns_lookup(d, &ev.query.name, ev.query.type, rrs);
    dmarc_check_answer(c, ev.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  ck_assert_int_eq(dmarc_check_state(c), DMARC_ST_DONE);
  ck_assert_msg(dmarc_check_result(c) == w->result && dmarc_check_policy(c) == w->policy &&
                    dmarc_check_disposition(c) == w->disposition &&
                    strcmp(q->str, w->queries) == 0 && fr.draws == w->draws,
                "From %s: got %s p=%s dis=%s queries \"%s\" draws %u; want %s p=%s dis=%s queries "
                "\"%s\" draws %u (%s)",
                w->from, dmarc_result_name(dmarc_check_result(c)),
                dmarc_policy_name(dmarc_check_policy(c)),
                dmarc_policy_name(dmarc_check_disposition(c)), q->str, fr.draws,
                dmarc_result_name(w->result), dmarc_policy_name(w->policy),
                dmarc_policy_name(w->disposition), w->queries, w->draws, dmarc_check_reason(c));
  g_string_free(q, TRUE);
  dmarc_check_free(c);
}

#define R DMARC_POLICY_REJECT
#define Q DMARC_POLICY_QUARANTINE
#define N DMARC_POLICY_NONE

START_TEST(test_alignment) {
  static const row rows[] = {
      /* relaxed DKIM: a subdomain signature aligns with the organisational domain */
      {"example.com", SPF_FAIL, "example.com", "mail.example.com", DKIM_PASS, 0, DMARC_PASS, R, N,
       "_dmarc.example.com. ", 0},
      /* relaxed SPF */
      {"example.com", SPF_PASS, "bounce.example.com", NULL, 0, 0, DMARC_PASS, R, N,
       "_dmarc.example.com. ", 0},
      /* strict: the same identifiers do not align */
      {"strict.com", SPF_PASS, "bounce.strict.com", "mail.strict.com", DKIM_PASS, 0, DMARC_FAIL, R,
       R, "_dmarc.strict.com. ", 0},
      {"strict.com", SPF_NONE, NULL, "strict.com", DKIM_PASS, 0, DMARC_PASS, R, N,
       "_dmarc.strict.com. ", 0},
      {"strict.com", SPF_PASS, "STRICT.com", NULL, 0, 0, DMARC_PASS, R, N, "_dmarc.strict.com. ",
       0},
      /* passes for another domain do not count; a failing aligned signature does not either */
      {"relaxed.com", SPF_PASS, "other.net", "other.net", DKIM_PASS, 0, DMARC_FAIL, Q, Q,
       "_dmarc.relaxed.com. ", 0},
      {"relaxed.com", SPF_SOFTFAIL, "relaxed.com", "relaxed.com", DKIM_FAIL, 0, DMARC_FAIL, Q, Q,
       "_dmarc.relaxed.com. ", 0},
      /* two-level public suffix */
      {"shop.example.co.uk", SPF_PASS, "mail.example.co.uk", NULL, 0, 0, DMARC_PASS, R, N,
       "_dmarc.shop.example.co.uk. _dmarc.example.co.uk. ", 0},
      {"shop.example.co.uk", SPF_PASS, "other.co.uk", NULL, 0, 0, DMARC_FAIL, R, R,
       "_dmarc.shop.example.co.uk. _dmarc.example.co.uk. ", 0},
  };
  auth_fakedns *d = zone();
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    run_row(d, &rows[i]);
  auth_fakedns_free(d);
}
END_TEST

START_TEST(test_discovery_and_policy) {
  static const row rows[] = {
      /* §6.6.3: the From domain has no record: the organisational domain's sp= applies */
      {"news.example.com", SPF_FAIL, "x.net", NULL, 0, 0, DMARC_FAIL, Q, Q,
       "_dmarc.news.example.com. _dmarc.example.com. ", 0},
      /* a record at the From domain itself wins, and p= (not sp=) applies there */
      {"own.example.co.uk", SPF_FAIL, NULL, NULL, 0, 0, DMARC_FAIL, N, N,
       "_dmarc.own.example.co.uk. ", 0},
      {"example.com", SPF_FAIL, NULL, NULL, 0, 0, DMARC_FAIL, R, R, "_dmarc.example.com. ", 0},
      /* p=none: monitoring only */
      {"monitor.org", SPF_FAIL, NULL, NULL, 0, 0, DMARC_FAIL, N, N, "_dmarc.monitor.org. ", 0},
      /* no policy anywhere */
      {"a.nopolicy.net", SPF_PASS, "a.nopolicy.net", NULL, 0, 0, DMARC_NONE, N, N,
       "_dmarc.a.nopolicy.net. _dmarc.nopolicy.net. ", 0},
      {"nopolicy.net", SPF_PASS, NULL, NULL, 0, 0, DMARC_NONE, N, N, "_dmarc.nopolicy.net. ", 0},
      /* two DMARC records: no policy; other TXT records are ignored */
      {"two.com", SPF_FAIL, NULL, NULL, 0, 0, DMARC_NONE, N, N, "_dmarc.two.com. ", 0},
      {"mixed.com", SPF_FAIL, NULL, NULL, 0, 0, DMARC_FAIL, Q, Q, "_dmarc.mixed.com. ", 0},
      /* DNS failure */
      {"slow.com", SPF_PASS, "slow.com", NULL, 0, 0, DMARC_TEMPERROR, N, N, "_dmarc.slow.com. ", 0},
      /* not a domain */
      {"nodots", SPF_PASS, NULL, NULL, 0, 0, DMARC_PERMERROR, N, N, "", 0},
      {"bad..example.com", SPF_PASS, NULL, NULL, 0, 0, DMARC_PERMERROR, N, N, "", 0},
  };
  auth_fakedns *d = zone();
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    run_row(d, &rows[i]);
  auth_fakedns_free(d);
}
END_TEST

START_TEST(test_pct_sampling) {
  static const row rows[] = {
      /* (draw % 100) < pct: sampled, the policy applies */
      {"half.net", SPF_FAIL, NULL, NULL, 0, 49, DMARC_FAIL, R, R, "_dmarc.half.net. ", 1},
      {"half.net", SPF_FAIL, NULL, NULL, 0, 149, DMARC_FAIL, R, R, "_dmarc.half.net. ", 1},
      /* not sampled: the next weaker policy */
      {"half.net", SPF_FAIL, NULL, NULL, 0, 50, DMARC_FAIL, R, Q, "_dmarc.half.net. ", 1},
      {"halfq.net", SPF_FAIL, NULL, NULL, 0, 99, DMARC_FAIL, Q, N, "_dmarc.halfq.net. ", 1},
      /* no draw on pass or at pct=100 */
      {"half.net", SPF_PASS, "half.net", NULL, 0, 99, DMARC_PASS, R, N, "_dmarc.half.net. ", 0},
      {"example.com", SPF_FAIL, NULL, NULL, 0, 99, DMARC_FAIL, R, R, "_dmarc.example.com. ", 0},
  };
  auth_fakedns *d = zone();
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    run_row(d, &rows[i]);
  auth_fakedns_free(d);
}
END_TEST

START_TEST(test_from_domain) {
  static const struct {
    const char *msg;
    dmarc_from_status want;
    const char *domain;
  } rows[] = {
      {"From: Alice <alice@Example.COM>\r\nTo: b@x.net\r\n\r\nbody\r\n", DMARC_FROM_OK,
       "example.com"},
      {"From: \"Doe, J\" <j@example.com>, k@EXAMPLE.com\r\n\r\n", DMARC_FROM_OK, "example.com"},
      {"From: a@example.com,\r\n b@evil.example\r\n\r\n", DMARC_FROM_MULTIPLE, NULL},
      {"From: a@example.com\r\nFrom: a@example.com\r\n\r\n", DMARC_FROM_MULTIPLE, NULL},
      {"To: b@example.net\r\n\r\n", DMARC_FROM_MISSING, NULL},
      {"From: undisclosed-recipients:;\r\n\r\n", DMARC_FROM_NO_DOMAIN, NULL},
      {"From: just-a-name\r\n\r\n", DMARC_FROM_NO_DOMAIN, NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *d = NULL;
    dmarc_from_status st = dmarc_from_domain(rows[i].msg, strlen(rows[i].msg), &d);
    ck_assert_msg(st == rows[i].want && g_strcmp0(d, rows[i].domain) == 0,
                  "row %zu: got %s %s want %s %s", i, dmarc_from_status_name(st), d ? d : "-",
                  dmarc_from_status_name(rows[i].want), rows[i].domain ? rows[i].domain : "-");
    g_free(d);
  }
}
END_TEST

static void trace_cb(void *ud, const char *line) { g_string_append_printf(ud, "%s\n", line); }

/* The engine's states through the trace hook, and a late answer. */
START_TEST(test_states) {
  static const char *const p[] = {"com"};
  dmarc_request req = {.from_domain = "news.example.com",
                       .spf = SPF_PASS,
                       .spf_domain = "example.com",
                       .public_suffixes = p,
                       .nsuffixes = 1};
  GString *tr = g_string_new(NULL);
  auth_env env = {.trace = trace_cb, .ud = tr};
  dmarc_check *c = dmarc_check_new(&req, &env);
  dmarc_event ev;
  ck_assert(dmarc_check_next(c, &ev) && ev.kind == DMARC_EV_DNS_QUERY);
  uint32_t first = ev.query.id;
  ck_assert(!dmarc_check_next(c, &ev)); /* waiting: nothing to do */
  ck_assert_int_eq(dmarc_check_state(c), DMARC_ST_WAIT_DNS);
  dmarc_check_answer(c, first, AUTH_DNS_NXDOMAIN, NULL, 0);
  ck_assert(dmarc_check_next(c, &ev) && ev.kind == DMARC_EV_DNS_QUERY);
  char *n = dns_name_to_text(&ev.query.name);
  ck_assert_str_eq(n, "_dmarc.example.com.");
  g_free(n);
  dns_name owner = ev.query.name;
  dns_rr rr;
  dns_rr_init(&rr, &owner, DNS_T_TXT, 300);
  const char *rec = "v=DMARC1; p=reject; sp=none; aspf=s";
  dns_rr_txt_add(&rr, (const uint8_t *)rec, strlen(rec));
  dmarc_check_answer(c, ev.query.id, AUTH_DNS_OK, &rr, 1);
  dns_rr_clear(&rr);
  ck_assert(dmarc_check_next(c, &ev) && ev.kind == DMARC_EV_DONE);
  ck_assert(!dmarc_check_next(c, &ev));
  /* aspf=s: example.com is not news.example.com; sp=none for the subdomain */
  ck_assert_str_eq(dmarc_result_name(dmarc_check_result(c)), "fail");
  ck_assert_str_eq(dmarc_policy_name(dmarc_check_policy(c)), "none");
  ck_assert_str_eq(dmarc_check_record_domain(c), "example.com");
  ck_assert_str_eq(dmarc_check_org_domain(c), "example.com");
  ck_assert_str_eq(tr->str, "dmarc: evaluate -> wait-dns\n"
                            "dmarc: wait-dns -> evaluate\n"
                            "dmarc: evaluate -> wait-dns\n"
                            "dmarc: wait-dns -> evaluate\n"
                            "dmarc: evaluate -> done\n");
  g_string_free(tr, TRUE);
  dmarc_check_free(c);
}
END_TEST

int main(void) {
  Suite *s = suite_create("dmarc");
  TCase *t = tcase_create("record");
  tcase_add_test(t, test_org_domain);
  tcase_add_test(t, test_record_parse);
  tcase_add_test(t, test_from_domain);
  suite_add_tcase(s, t);
  t = tcase_create("check");
  tcase_add_test(t, test_alignment);
  tcase_add_test(t, test_discovery_and_policy);
  tcase_add_test(t, test_pct_sampling);
  tcase_add_test(t, test_states);
  suite_add_tcase(s, t);
  return testutil_run(s);
}
