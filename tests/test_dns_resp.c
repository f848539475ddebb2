/* Tests for dns_resp: a resolver's reading of responses produced by real
 * authoritative zones (root -> com -> example.com), plus mismatches,
 * truncation, errors and lame referrals. */
#include <glib.h>
#include <string.h>

#include "dns_resp.h"
#include "dns_zone.h"
#include "testutil.h"

static dns_zone *zone(const char *origin, const char *const *rrs, size_t n) {
  dns_name o = dns_name_lit(origin);
  dns_zone *z = dns_zone_new(&o);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(dns_zone_add_text(z, rrs[i]) == DNS_OK, "%s", rrs[i]);
  return z;
}

static const char *const root_rrs[] = {
    ". 86400 IN SOA a.root. nstld.root. 1 1800 900 604800 86400",
    ". 518400 IN NS a.root.",
    "a.root. 518400 IN A 198.41.0.4",
    "com. 172800 IN NS a.gtld.net.",
    "com. 172800 IN NS b.gtld.com.",
    "b.gtld.com. 172800 IN A 192.33.14.30",
};
static const char *const com_rrs[] = {
    "com. 900 IN SOA a.gtld.net. nstld.verisign.com. 1 1800 900 604800 86400",
    "com. 172800 IN NS b.gtld.com.",
    "example.com. 172800 IN NS ns1.example.com.",
    "ns1.example.com. 172800 IN A 192.0.2.53",
};
static const char *const ex_rrs[] = {
    "example.com. 3600 IN SOA ns1.example.com. h.example.com. 1 7200 3600 1209600 300",
    "example.com. 3600 IN NS ns1.example.com.",
    "example.com. 3600 IN MX 10 mail.example.com.",
    "ns1.example.com. 3600 IN A 192.0.2.53",
    "mail.example.com. 3600 IN A 192.0.2.25",
    "www.example.com. 300 IN CNAME mail.example.com.",
    "out.example.com. 300 IN CNAME www.example.net.",
    "gone.example.com. 300 IN CNAME nothere.example.com.",
};

static const struct {
  const char *server_zone, *qname;
  uint16_t qtype;
  dns_resp_kind want;
  const char *final_name, *referral;
  int cnames;
  uint32_t neg_ttl;
} rows[] = {
    {".", "mail.example.com", DNS_T_A, DNS_RESP_REFERRAL, "mail.example.com.", "com.", 0, 0},
    {"com.", "mail.example.com", DNS_T_A, DNS_RESP_REFERRAL, "mail.example.com.", "example.com.", 0,
     0},
    {"example.com.", "mail.example.com", DNS_T_A, DNS_RESP_ANSWER, "mail.example.com.", ".", 0, 0},
    {"example.com.", "Example.COM", DNS_T_MX, DNS_RESP_ANSWER, "Example.COM.", ".", 0, 0},
    {"example.com.", "www.example.com", DNS_T_A, DNS_RESP_ANSWER, "mail.example.com.", ".", 1, 0},
    {"example.com.", "out.example.com", DNS_T_A, DNS_RESP_CNAME, "www.example.net.", ".", 1, 0},
    {"example.com.", "gone.example.com", DNS_T_A, DNS_RESP_NXDOMAIN, "nothere.example.com.", ".", 1,
     300},
    {"example.com.", "nope.example.com", DNS_T_A, DNS_RESP_NXDOMAIN, "nope.example.com.", ".", 0,
     300},
    {"example.com.", "mail.example.com", DNS_T_MX, DNS_RESP_NODATA, "mail.example.com.", ".", 0,
     300},
    {"example.com.", "www.example.com", DNS_T_MX, DNS_RESP_NODATA, "mail.example.com.", ".", 1,
     300},
    {"com.", "nope.com", DNS_T_A, DNS_RESP_NXDOMAIN, "nope.com.", ".", 0, 900},
    {"com.", "example.org", DNS_T_A, DNS_RESP_ERROR, "example.org.", ".", 0, 0}, /* REFUSED */
};

static dns_zone *zone_by_name(dns_zone **zs, const char *name) {
  dns_name n = dns_name_lit(name);
  for (int i = 0; i < 3; i++)
    if (dns_name_equal(dns_zone_origin(zs[i]), &n))
      return zs[i];
  g_error("no zone %s", name);
}

START_TEST(classify_rows) {
  dns_zone *zs[3] = {zone(".", root_rrs, G_N_ELEMENTS(root_rrs)),
                     zone("com", com_rrs, G_N_ELEMENTS(com_rrs)),
                     zone("example.com", ex_rrs, G_N_ELEMENTS(ex_rrs))};
  dns_zone_cfg cfg = {0};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_zone *z = zone_by_name(zs, rows[i].server_zone);
    dns_name qn = dns_name_lit(rows[i].qname), zn = dns_name_lit(rows[i].server_zone);
    dns_msg q, r;
    dns_resp_make_query(&q, (uint16_t)(100 + i), &qn, rows[i].qtype, false, 1232);
    ck_assert(dns_zone_respond(&z, 1, &cfg, &q, &r));
    dns_resp_info info;
    dns_resp_kind k = dns_resp_classify(&q, &r, &zn, &info);
    ck_assert_msg(k == rows[i].want, "%s %u at %s: got %s want %s", rows[i].qname, rows[i].qtype,
                  rows[i].server_zone, dns_resp_kind_name(k), dns_resp_kind_name(rows[i].want));
    char *fin = dns_name_to_text(&info.final_name), *ref = dns_name_to_text(&info.referral);
    ck_assert_msg(strcmp(fin, rows[i].final_name) == 0, "%s: final got %s want %s", rows[i].qname,
                  fin, rows[i].final_name);
    ck_assert_msg(strcmp(ref, rows[i].referral) == 0, "%s: referral got %s want %s", rows[i].qname,
                  ref, rows[i].referral);
    ck_assert_int_eq(info.cnames, rows[i].cnames);
    ck_assert_uint_eq(info.neg_ttl, rows[i].neg_ttl);
    /* The query kept as (id, name, type) reads the response the same. */
    dns_resp_info info2;
    dns_resp_kind k2 =
        dns_resp_classify_query((uint16_t)(100 + i), &qn, rows[i].qtype, &r, &zn, &info2);
    ck_assert_msg(k2 == k, "%s: classify_query got %s want %s", rows[i].qname,
                  dns_resp_kind_name(k2), dns_resp_kind_name(k));
    ck_assert(dns_name_equal(&info2.final_name, &info.final_name));
    ck_assert(dns_name_equal(&info2.referral, &info.referral));
    ck_assert_int_eq(info2.cnames, info.cnames);
    ck_assert_uint_eq(info2.neg_ttl, info.neg_ttl);
    ck_assert_int_eq(
        dns_resp_classify_query((uint16_t)(101 + i), &qn, rows[i].qtype, &r, &zn, NULL),
        DNS_RESP_MISMATCH);
    g_free(fin);
    g_free(ref);
    dns_msg_clear(&q);
    dns_msg_clear(&r);
  }
  for (int i = 0; i < 3; i++)
    dns_zone_free(zs[i]);
}
END_TEST

START_TEST(mismatch_truncated_lame) {
  dns_zone *root = zone(".", root_rrs, G_N_ELEMENTS(root_rrs));
  dns_zone_cfg cfg = {0};
  dns_name qn = dns_name_lit("mail.example.com"), com = dns_name_lit("com"),
           rootn = dns_name_lit(".");
  dns_msg q, r;
  dns_resp_make_query(&q, 7, &qn, DNS_T_A, false, 0);
  ck_assert(!q.edns.present && !q.rd && q.id == 7);
  dns_zone_respond(&root, 1, &cfg, &q, &r);
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_REFERRAL);
  /* The same referral received while asking com's servers leads upwards. */
  ck_assert_int_eq(dns_resp_classify(&q, &r, &com, NULL), DNS_RESP_LAME);
  r.tc = true;
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_TRUNCATED);
  r.tc = false;
  r.id = 8;
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  ck_assert_int_eq(dns_resp_classify_query(7, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  ck_assert_int_eq(dns_resp_classify_query(8, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_REFERRAL);
  ck_assert_int_eq(dns_resp_classify_query(8, &qn, DNS_T_AAAA, &r, &rootn, NULL),
                   DNS_RESP_MISMATCH);
  r.opcode = DNS_OP_NOTIFY; /* the kept query is always a QUERY */
  ck_assert_int_eq(dns_resp_classify_query(8, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  r.opcode = DNS_OP_QUERY;
  r.id = 7;
  r.qr = false;
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  r.qr = true;
  dns_msg_question_at(&r, 0)->type = DNS_T_AAAA;
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  dns_msg_question_at(&r, 0)->type = DNS_T_A;
  dns_msg_question_at(&r, 0)->name = dns_name_lit("mail.example.org");
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  ck_assert_int_eq(dns_resp_classify_query(7, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  dns_msg_question_at(&r, 0)->name = dns_name_lit("MAIL.example.com");
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_REFERRAL);
  ck_assert_int_eq(dns_resp_classify_query(7, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_REFERRAL);
  dns_msg_question_at(&r, 0)->rclass = DNS_C_CH;
  ck_assert_int_eq(dns_resp_classify_query(7, &qn, DNS_T_A, &r, &rootn, NULL), DNS_RESP_MISMATCH);
  dns_msg_question_at(&r, 0)->rclass = DNS_C_IN;
  r.rcode = DNS_RCODE_SERVFAIL;
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_ERROR);
  /* An empty, non-authoritative NOERROR is lame. */
  dns_msg_clear(&r);
  dns_msg_init(&r);
  r.qr = true;
  r.id = 7;
  dns_msg_add_question(&r, &qn, DNS_T_A, DNS_C_IN);
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_LAME);
  r.aa = true; /* ...but authoritative, it is NODATA (RFC 2308 §2.2 type 3) */
  ck_assert_int_eq(dns_resp_classify(&q, &r, &rootn, NULL), DNS_RESP_NODATA);
  ck_assert_str_eq(dns_resp_kind_name(DNS_RESP_REFERRAL), "referral");
  ck_assert_str_eq(dns_resp_kind_name((dns_resp_kind)99), "unknown");
  dns_msg_clear(&q);
  dns_msg_clear(&r);
  dns_zone_free(root);
}
END_TEST

START_TEST(cname_loop_is_error) {
  dns_name a = dns_name_lit("a.test"), b = dns_name_lit("b.test");
  dns_msg q, r;
  dns_resp_make_query(&q, 1, &a, DNS_T_A, true, 0);
  dns_msg_init(&r);
  r.qr = true;
  r.id = 1;
  dns_msg_add_question(&r, &a, DNS_T_A, DNS_C_IN);
  dns_rr rr;
  dns_rr_init(&rr, &a, DNS_T_CNAME, 60);
  rr.rd.name = b;
  dns_msg_add_rr(&r, DNS_SEC_ANSWER, &rr);
  dns_rr_init(&rr, &b, DNS_T_CNAME, 60);
  rr.rd.name = a;
  dns_msg_add_rr(&r, DNS_SEC_ANSWER, &rr);
  dns_name root = dns_name_lit(".");
  ck_assert_int_eq(dns_resp_classify(&q, &r, &root, NULL), DNS_RESP_ERROR);
  dns_msg_clear(&q);
  dns_msg_clear(&r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_resp");
  TCase *tc = tcase_create("classify");
  tcase_add_test(tc, classify_rows);
  tcase_add_test(tc, mismatch_truncated_lame);
  tcase_add_test(tc, cname_loop_is_error);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
