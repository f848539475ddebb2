/* Tests for Authentication-Results (RFC 8601): the field built from real
 * SPF, DKIM and DMARC engine runs, quoting and "none", reading the
 * authserv-id (CFWS, comments, quoted-strings, folding), and stripping
 * incoming fields that claim our authserv-id (§5), forged ones included,
 * while every other octet of the message is kept. */
#include <glib.h>
#include <string.h>

#include "auth_fakedns.h"
#include "authres.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "testutil.h"

static const uint8_t seed[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void answer_from(auth_fakedns *d, const auth_dns_query *q, auth_dns_status *st,
                        GArray *rrs) {
  *st = auth_fakedns_lookup(d, &q->name, q->type, rrs);
}

/* Runs SPF, DKIM and DMARC for MSG from IP and returns our field. */
static char *pipeline(auth_fakedns *d, const char *ip, const char *mailfrom, const char *msg) {
  spf_request sr = {
      .ip = ip, .helo = "out.example.com", .mailfrom = mailfrom, .receiver = "mx.example.net"};
  spf_check *s = spf_check_new(&sr, NULL);
  spf_event se;
  while (spf_check_next(s, &se) && se.kind == SPF_EV_DNS_QUERY) {
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st;
    answer_from(d, &se.query, &st, rrs);
    spf_check_answer(s, se.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  dkim_verify *v = dkim_verify_new(NULL, NULL);
  dkim_verify_feed(v, msg, strlen(msg));
  dkim_verify_end(v, 1800000000);
  dkim_event de;
  while (dkim_verify_next(v, &de) && de.kind == DKIM_EV_DNS_QUERY) {
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st;
    answer_from(d, &de.query, &st, rrs);
    dkim_verify_answer(v, de.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  static const char *const psl[] = {"com", "net"};
  dmarc_dkim dk[4];
  size_t nd = 0;
  for (size_t i = 0; i < dkim_verify_count(v) && i < 4; i++, nd++) {
    dk[i].domain = dkim_verify_get(v, i)->domain;
    dk[i].result = dkim_verify_get(v, i)->result;
  }
  dmarc_request mr = {.from_domain = "example.com",
                      .spf = spf_check_result(s),
                      .spf_domain = spf_check_domain(s),
                      .dkim = dk,
                      .ndkim = nd,
                      .public_suffixes = psl,
                      .nsuffixes = 2};
  dmarc_check *m = dmarc_check_new(&mr, NULL);
  dmarc_event me;
  while (dmarc_check_next(m, &me) && me.kind == DMARC_EV_DNS_QUERY) {
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st;
    answer_from(d, &me.query, &st, rrs);
    dmarc_check_answer(m, me.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  authres *a = authres_new("mx.example.net");
  authres_add_spf(a, s);
  authres_add_dkim(a, v);
  authres_add_dmarc(a, m);
  char *h = authres_header(a);
  authres_free(a);
  spf_check_free(s);
  dkim_verify_free(v);
  dmarc_check_free(m);
  return h;
}

static const char body_msg[] = "From: Alice <alice@example.com>\r\n"
                               "To: bob@example.net\r\n"
                               "Subject: hi\r\n"
                               "\r\n"
                               "Hello.\r\n";

START_TEST(test_build_from_engines) {
  auth_fakedns *d = auth_fakedns_new();
  dkim_key *k = dkim_key_from_raw(DKIM_KEY_ED25519, seed, 32);
  char *txt = dkim_key_dns_txt(k);
  char *line = g_strdup_printf("sel._domainkey.example.com. 300 IN TXT \"%s\"", txt);
  auth_fakedns_add_text(d, line);
  auth_fakedns_add_text(d, "example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"");
  auth_fakedns_add_text(d, "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"");
  dkim_sign_cfg cfg = {.domain = "example.com",
                       .selector = "sel",
                       .header_canon = DKIM_CANON_RELAXED,
                       .body_canon = DKIM_CANON_RELAXED,
                       .now_unix = 1700000000};
  char *sig = dkim_sign(&cfg, k, body_msg, strlen(body_msg));
  char *signed_msg = g_strconcat(sig, body_msg, NULL);
  char *bprefix = g_strndup(strstr(sig, " b=") + 3, 8);

  char *h = pipeline(d, "192.0.2.25", "alice@example.com", signed_msg);
  char *want = g_strdup_printf("Authentication-Results: mx.example.net;\r\n"
                               "\tspf=pass smtp.mailfrom=alice@example.com;\r\n"
                               "\tdkim=pass header.d=example.com header.i=@example.com "
                               "header.s=sel header.a=ed25519-sha256 header.b=%s;\r\n"
                               "\tdmarc=pass (p=reject dis=none) header.from=example.com\r\n",
                               bprefix);
  ck_assert_str_eq(h, want);
  g_free(h);
  g_free(want);

  /* Spoofed: another IP, body changed, null path. */
  char *bad = g_strdup(signed_msg);
  *strstr(bad, "Hello") = 'J';
  h = pipeline(d, "203.0.113.9", "", bad);
  want = g_strdup_printf("Authentication-Results: mx.example.net;\r\n"
                         "\tspf=none smtp.helo=out.example.com;\r\n"
                         "\tdkim=fail reason=\"body hash did not verify\" header.d=example.com "
                         "header.i=@example.com header.s=sel header.a=ed25519-sha256 "
                         "header.b=%s;\r\n"
                         "\tdmarc=fail (p=reject dis=reject) header.from=example.com\r\n",
                         bprefix);
  ck_assert_str_eq(h, want);
  g_free(h);
  g_free(want);
  h = pipeline(d, "203.0.113.9", "mallory@example.com", body_msg);
  ck_assert_str_eq(h, "Authentication-Results: mx.example.net;\r\n"
                      "\tspf=fail smtp.mailfrom=mallory@example.com;\r\n"
                      "\tdkim=none;\r\n"
                      "\tdmarc=fail (p=reject dis=reject) header.from=example.com\r\n");
  g_free(h);
  g_free(bad);
  g_free(bprefix);
  g_free(signed_msg);
  g_free(sig);
  g_free(line);
  g_free(txt);
  dkim_key_free(k);
  auth_fakedns_free(d);
}
END_TEST

START_TEST(test_build_quoting) {
  authres *a = authres_new("mx.example.net");
  char *h = authres_header(a);
  ck_assert_str_eq(h, "Authentication-Results: mx.example.net; none\r\n");
  g_free(h);
  authres_add(a, "spf", "permerror", "bad \"record\"", NULL);
  authres_add_prop(a, "smtp", "mailfrom", "odd name@example.com");
  authres_add(a, "auth", "pass", NULL, "a (nested) comment");
  authres_add_prop(a, "smtp", "auth", "alice");
  h = authres_header(a);
  ck_assert_str_eq(h, "Authentication-Results: mx.example.net;\r\n"
                      "\tspf=permerror reason=\"bad \\\"record\\\"\" "
                      "smtp.mailfrom=\"odd name@example.com\";\r\n"
                      "\tauth=pass (a \\(nested\\) comment) smtp.auth=alice\r\n");
  /* Our own field reads back with our authserv-id. */
  char *id = authres_authserv_id(h + strlen("Authentication-Results:"),
                                 strlen(h) - strlen("Authentication-Results:"));
  ck_assert_str_eq(id, "mx.example.net");
  g_free(id);
  g_free(h);
  authres_free(a);
}
END_TEST

START_TEST(test_authserv_id) {
  static const struct {
    const char *value, *want;
  } rows[] = {
      {" mx.example.net; spf=pass", "mx.example.net"},
      {" mx.example.net 1; none", "mx.example.net"},
      {" (forged) mx.example.net; dkim=pass", "mx.example.net"},
      {" (a (nested) \\) comment)\r\n\tmx.example.net;", "mx.example.net"},
      {"\r\n mx.example.net;", "mx.example.net"},
      {" \"mx.example.net\"; none", "mx.example.net"},
      {" \"odd \\\"id\\\"\"; none", "odd \"id\""},
      {" MX.Example.NET;", "MX.Example.NET"},
      {" ; spf=pass", NULL},
      {"", NULL},
      {" (unterminated", NULL},
      {" \"unterminated", NULL},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = authres_authserv_id(rows[i].value, strlen(rows[i].value));
    ck_assert_msg(g_strcmp0(got, rows[i].want) == 0, "%s: got %s want %s", rows[i].value,
                  got ? got : "(null)", rows[i].want ? rows[i].want : "(null)");
    g_free(got);
  }
}
END_TEST

START_TEST(test_strip_forged) {
  static const char in[] =
      "Received: from out.example.com by mx.example.net; Thu, 26 Nov 2026 07:00:00 +0000\r\n"
      "Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=ceo@example.com\r\n"
      "Authentication-Results: other.example.org;\r\n"
      "\tdkim=pass header.d=example.org\r\n"
      "authentication-results : MX.EXAMPLE.NET; dkim=pass\r\n"
      "Authentication-Results: (looks harmless)\r\n"
      " \"mx.example.net\"; dmarc=pass header.from=example.com\r\n"
      "Authentication-Results: mx.example.net.evil; spf=pass\r\n"
      "Authentication-Results: ; garbage\r\n"
      "From: ceo@example.com\r\n"
      "Subject: wire the money\r\n"
      "\r\n"
      "Authentication-Results: mx.example.net; spf=pass\r\n"
      "(in the body: kept)\r\n";
  static const char want[] =
      "Received: from out.example.com by mx.example.net; Thu, 26 Nov 2026 07:00:00 +0000\r\n"
      "Authentication-Results: other.example.org;\r\n"
      "\tdkim=pass header.d=example.org\r\n"
      "Authentication-Results: mx.example.net.evil; spf=pass\r\n"
      "Authentication-Results: ; garbage\r\n"
      "From: ceo@example.com\r\n"
      "Subject: wire the money\r\n"
      "\r\n"
      "Authentication-Results: mx.example.net; spf=pass\r\n"
      "(in the body: kept)\r\n";
  size_t n;
  unsigned removed;
  char *out = authres_strip(in, strlen(in), "mx.example.net", &n, &removed);
  ck_assert_uint_eq(removed, 3);
  ck_assert_uint_eq(n, strlen(want));
  ck_assert_str_eq(out, want);
  /* Idempotent; nothing removed for another authserv-id. */
  char *again = authres_strip(out, n, "mx.example.net", &n, &removed);
  ck_assert_uint_eq(removed, 0);
  ck_assert_str_eq(again, want);
  char *other = authres_strip(in, strlen(in), "relay.example.net", &n, &removed);
  ck_assert_uint_eq(removed, 0);
  ck_assert_str_eq(other, in);
  /* Bare LF line ends, and a header without a body. */
  char **l = g_strsplit(in, "\r\n", -1);
  char *lf = g_strjoinv("\n", l);
  char **wl = g_strsplit(want, "\r\n", -1);
  char *wlf = g_strjoinv("\n", wl);
  char *outlf = authres_strip(lf, strlen(lf), "mx.example.net", &n, &removed);
  ck_assert_uint_eq(removed, 3);
  ck_assert_str_eq(outlf, wlf);
  static const char hdr_only[] = "Authentication-Results: mx.example.net; none";
  char *ho = authres_strip(hdr_only, strlen(hdr_only), "mx.example.net", &n, &removed);
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(removed, 1);
  g_free(ho);
  g_free(outlf);
  g_free(wlf);
  g_strfreev(wl);
  g_free(lf);
  g_strfreev(l);
  g_free(other);
  g_free(again);
  g_free(out);
}
END_TEST

/* Every enum of the auth module has a name table with distinct names. */
START_TEST(test_name_tables) {
  GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
#define NAMES(fn, count)                                                                           \
  do {                                                                                             \
    g_hash_table_remove_all(seen);                                                                 \
    for (unsigned i = 0; i < (unsigned)(count); i++) {                                             \
      const char *n = fn(i);                                                                       \
      ck_assert_msg(n &&*n && !g_hash_table_contains(seen, n), #fn "(%u): got %s", i, n);          \
      g_hash_table_add(seen, (gpointer)n);                                                         \
    }                                                                                              \
  } while (0)
  NAMES(auth_dns_status_name, AUTH_DNS_STATUS_COUNT);
  NAMES(spf_result_name, SPF_RESULT_COUNT);
  NAMES(spf_identity_name, SPF_ID_COUNT);
  NAMES(spf_state_name, SPF_ST_COUNT);
  NAMES(spf_event_kind_name, SPF_EV_COUNT);
  NAMES(dkim_result_name, DKIM_RESULT_COUNT);
  NAMES(dkim_verify_state_name, DKIM_ST_COUNT);
  NAMES(dkim_event_kind_name, DKIM_EV_COUNT);
  NAMES(dmarc_result_name, DMARC_RESULT_COUNT);
  NAMES(dmarc_policy_name, DMARC_POLICY_COUNT);
  NAMES(dmarc_state_name, DMARC_ST_COUNT);
  NAMES(dmarc_event_kind_name, DMARC_EV_COUNT);
#undef NAMES
  ck_assert_str_eq(spf_result_name(SPF_SOFTFAIL), "softfail");
  spf_result r;
  ck_assert(spf_result_from_name("PermError", &r) && r == SPF_PERMERROR);
  ck_assert(!spf_result_from_name("unknown", &r));
  g_hash_table_destroy(seen);
}
END_TEST

int main(void) {
  Suite *s = suite_create("authres");
  TCase *t = tcase_create("build");
  tcase_add_test(t, test_build_from_engines);
  tcase_add_test(t, test_build_quoting);
  tcase_add_test(t, test_name_tables);
  suite_add_tcase(s, t);
  t = tcase_create("strip");
  tcase_add_test(t, test_authserv_id);
  tcase_add_test(t, test_strip_forged);
  suite_add_tcase(s, t);
  return testutil_run(s);
}
