/* Tests for dns_zone: building zones, and authoritative answers for data,
 * CNAME chains, NODATA/NXDOMAIN with the SOA (RFC 2308), referrals with glue,
 * wildcards (RFC 4592), REFUSED/FORMERR/NOTIMP/BADVERS, additional-section
 * processing, and the wire-level step with UDP truncation and TCP. */
#include <glib.h>
#include <string.h>

#include "dns_tcp.h"
#include "dns_wire.h"
#include "dns_zone.h"
#include "testutil.h"

static const char *const example_zone[] = {
    "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
    "example.com. 3600 IN NS ns1.example.com.",
    "example.com. 3600 IN NS ns2.example.com.",
    "example.com. 3600 IN MX 10 mail.example.com.",
    "example.com. 3600 IN MX 20 mx.example.net.",
    "ns1.example.com. 3600 IN A 192.0.2.53",
    "ns2.example.com. 3600 IN AAAA 2001:db8::53",
    "mail.example.com. 3600 IN A 192.0.2.25",
    "mail.example.com. 3600 IN AAAA 2001:db8::25",
    "www.example.com. 300 IN CNAME web.example.com.",
    "web.example.com. 300 IN A 192.0.2.80",
    "ext.example.com. 300 IN CNAME www.example.net.",
    "dangling.example.com. 300 IN CNAME nothere.example.com.",
    "loop1.example.com. 300 IN CNAME loop2.example.com.",
    "loop2.example.com. 300 IN CNAME loop1.example.com.",
    "a.b.c.example.com. 300 IN A 192.0.2.7",
    "*.wild.example.com. 300 IN A 192.0.2.99",
    "*.wild.example.com. 300 IN MX 5 mail.example.com.",
    "host.wild.example.com. 300 IN TXT \"real\"",
    "*.cn.example.com. 300 IN CNAME web.example.com.",
    "sub.example.com. 86400 IN NS ns1.sub.example.com.",
    "sub.example.com. 86400 IN NS ns.example.net.",
    "ns1.sub.example.com. 86400 IN A 192.0.2.100",
    "tosub.example.com. 300 IN CNAME host.sub.example.com.",
    "_submission._tcp.example.com. 300 IN SRV 0 1 587 mail.example.com.",
    "txt.example.com. 300 IN TXT \"v=spf1 mx -all\" \"two\"",
};

static dns_zone *build_zone(void) {
  dns_name o = dns_name_lit("example.com");
  dns_zone *z = dns_zone_new(&o);
  for (size_t i = 0; i < G_N_ELEMENTS(example_zone); i++) {
    dns_err e = dns_zone_add_text(z, example_zone[i]);
    ck_assert_msg(e == DNS_OK, "%s: %s", example_zone[i], dns_err_name(e));
  }
  return z;
}

static char *section_text(const dns_msg *m, dns_section s) {
  GString *t = g_string_new(NULL);
  for (guint i = 0; i < dns_msg_count(m, s); i++) {
    if (i)
      g_string_append(t, " | ");
    dns_rr_append_text(dns_msg_rr(m, s, i), t);
  }
  return g_string_free(t, FALSE);
}

static void make_query(dns_msg *q, const char *name, uint16_t type) {
  dns_msg_init(q);
  q->id = 4242;
  q->rd = true;
  dns_name n = dns_name_lit(name);
  dns_msg_add_question(q, &n, type, DNS_C_IN);
}

#define SOA_NEG                                                                                    \
  "example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"

static const struct {
  const char *qname;
  uint16_t qtype;
  unsigned rcode;
  bool aa;
  const char *answer, *authority, *additional;
} answer_rows[] = {
    {"example.com", DNS_T_MX, DNS_RCODE_NOERROR, true,
     "example.com. 3600 IN MX 10 mail.example.com. | example.com. 3600 IN MX 20 mx.example.net.",
     "", "mail.example.com. 3600 IN A 192.0.2.25 | mail.example.com. 3600 IN AAAA 2001:db8::25"},
    {"EXAMPLE.com", DNS_T_NS, DNS_RCODE_NOERROR, true,
     "example.com. 3600 IN NS ns1.example.com. | example.com. 3600 IN NS ns2.example.com.", "",
     "ns1.example.com. 3600 IN A 192.0.2.53 | ns2.example.com. 3600 IN AAAA 2001:db8::53"},
    {"mail.example.com", DNS_T_A, DNS_RCODE_NOERROR, true, "mail.example.com. 3600 IN A 192.0.2.25",
     "", ""},
    {"txt.example.com", DNS_T_TXT, DNS_RCODE_NOERROR, true,
     "txt.example.com. 300 IN TXT \"v=spf1 mx -all\" \"two\"", "", ""},
    /* NODATA: name exists, type does not (RFC 2308 §2.2). */
    {"mail.example.com", DNS_T_MX, DNS_RCODE_NOERROR, true, "", SOA_NEG, ""},
    /* Empty non-terminal: NODATA, not NXDOMAIN. */
    {"b.c.example.com", DNS_T_A, DNS_RCODE_NOERROR, true, "", SOA_NEG, ""},
    {"a.b.c.example.com", DNS_T_A, DNS_RCODE_NOERROR, true, "a.b.c.example.com. 300 IN A 192.0.2.7",
     "", ""},
    /* NXDOMAIN (RFC 2308 §2.1). */
    {"nope.example.com", DNS_T_A, DNS_RCODE_NXDOMAIN, true, "", SOA_NEG, ""},
    {"x.mail.example.com", DNS_T_A, DNS_RCODE_NXDOMAIN, true, "", SOA_NEG, ""},
    /* CNAME chains. */
    {"www.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "www.example.com. 300 IN CNAME web.example.com. | web.example.com. 300 IN A 192.0.2.80", "",
     ""},
    {"www.example.com", DNS_T_CNAME, DNS_RCODE_NOERROR, true,
     "www.example.com. 300 IN CNAME web.example.com.", "", ""},
    {"www.example.com", DNS_T_MX, DNS_RCODE_NOERROR, true,
     "www.example.com. 300 IN CNAME web.example.com.", SOA_NEG, ""},
    {"ext.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "ext.example.com. 300 IN CNAME www.example.net.", "", ""},
    {"dangling.example.com", DNS_T_A, DNS_RCODE_NXDOMAIN, true,
     "dangling.example.com. 300 IN CNAME nothere.example.com.", SOA_NEG, ""},
    {"loop1.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "loop1.example.com. 300 IN CNAME loop2.example.com. | loop2.example.com. 300 IN CNAME "
     "loop1.example.com.",
     "", ""},
    /* Wildcards (RFC 4592 §3.3.1). */
    {"foo.wild.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "foo.wild.example.com. 300 IN A 192.0.2.99", "", ""},
    {"foo.wild.example.com", DNS_T_MX, DNS_RCODE_NOERROR, true,
     "foo.wild.example.com. 300 IN MX 5 mail.example.com.", "",
     "mail.example.com. 3600 IN A 192.0.2.25 | mail.example.com. 3600 IN AAAA 2001:db8::25"},
    {"foo.wild.example.com", DNS_T_AAAA, DNS_RCODE_NOERROR, true, "", SOA_NEG, ""},
    /* The wildcard does not cover an existing name, nor names below one. */
    {"host.wild.example.com", DNS_T_A, DNS_RCODE_NOERROR, true, "", SOA_NEG, ""},
    {"x.host.wild.example.com", DNS_T_A, DNS_RCODE_NXDOMAIN, true, "", SOA_NEG, ""},
    /* ...but it does cover several missing levels (RFC 4592 §2.2.1, foo.bar.example). */
    {"a.b.wild.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "a.b.wild.example.com. 300 IN A 192.0.2.99", "", ""},
    {"*.wild.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "*.wild.example.com. 300 IN A 192.0.2.99", "", ""},
    {"zz.cn.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "zz.cn.example.com. 300 IN CNAME web.example.com. | web.example.com. 300 IN A 192.0.2.80", "",
     ""},
    /* Referrals (RFC 1034 §4.3.2 step 3b): no AA, NS in authority, glue. */
    {"host.sub.example.com", DNS_T_A, DNS_RCODE_NOERROR, false, "",
     "sub.example.com. 86400 IN NS ns1.sub.example.com. | sub.example.com. 86400 IN NS "
     "ns.example.net.",
     "ns1.sub.example.com. 86400 IN A 192.0.2.100"},
    {"sub.example.com", DNS_T_NS, DNS_RCODE_NOERROR, false, "",
     "sub.example.com. 86400 IN NS ns1.sub.example.com. | sub.example.com. 86400 IN NS "
     "ns.example.net.",
     "ns1.sub.example.com. 86400 IN A 192.0.2.100"},
    {"tosub.example.com", DNS_T_A, DNS_RCODE_NOERROR, true,
     "tosub.example.com. 300 IN CNAME host.sub.example.com.",
     "sub.example.com. 86400 IN NS ns1.sub.example.com. | sub.example.com. 86400 IN NS "
     "ns.example.net.",
     "ns1.sub.example.com. 86400 IN A 192.0.2.100"},
    /* SRV target addresses in additional. */
    {"_submission._tcp.example.com", DNS_T_SRV, DNS_RCODE_NOERROR, true,
     "_submission._tcp.example.com. 300 IN SRV 0 1 587 mail.example.com.", "",
     "mail.example.com. 3600 IN A 192.0.2.25 | mail.example.com. 3600 IN AAAA 2001:db8::25"},
    /* ANY returns every RRset at the node. */
    {"mail.example.com", DNS_T_ANY, DNS_RCODE_NOERROR, true,
     "mail.example.com. 3600 IN A 192.0.2.25 | mail.example.com. 3600 IN AAAA 2001:db8::25", "",
     ""},
    /* Outside every zone. */
    {"example.org", DNS_T_A, DNS_RCODE_REFUSED, false, "", "", ""},
    {"com", DNS_T_NS, DNS_RCODE_REFUSED, false, "", "", ""},
};

START_TEST(answers_table) {
  dns_zone *z = build_zone();
  dns_zone_cfg cfg = {.edns_size = 1232};
  for (size_t i = 0; i < G_N_ELEMENTS(answer_rows); i++) {
    dns_msg q, r;
    make_query(&q, answer_rows[i].qname, answer_rows[i].qtype);
    ck_assert(dns_zone_respond(&z, 1, &cfg, &q, &r));
    char b1[16], b2[16];
    ck_assert_msg(r.rcode == answer_rows[i].rcode, "%s: rcode got %s want %s", answer_rows[i].qname,
                  dns_rcode_to_text(r.rcode, b1), dns_rcode_to_text(answer_rows[i].rcode, b2));
    ck_assert_msg(r.aa == answer_rows[i].aa, "%s: aa got %d", answer_rows[i].qname, r.aa);
    ck_assert(r.qr && r.rd && r.id == 4242 && !r.edns.present);
    ck_assert_uint_eq(dns_msg_qdcount(&r), 1);
    const char *want[3] = {answer_rows[i].answer, answer_rows[i].authority,
                           answer_rows[i].additional};
    for (int s = 0; s < DNS_SEC_COUNT; s++) {
      char *got = section_text(&r, (dns_section)s);
      ck_assert_msg(strcmp(got, want[s]) == 0, "%s %u %s:\n got  %s\n want %s",
                    answer_rows[i].qname, answer_rows[i].qtype, dns_section_name((dns_section)s),
                    got, want[s]);
      g_free(got);
    }
    /* Every response must survive the wire. */
    uint8_t buf[65535];
    dns_enc_result res;
    ck_assert_int_eq(dns_msg_encode(&r, buf, sizeof buf, 0, &res), DNS_OK);
    dns_msg d;
    ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
    dns_msg_clear(&d);
    dns_msg_clear(&q);
    dns_msg_clear(&r);
  }
  dns_zone_free(z);
}
END_TEST

START_TEST(negative_ttl_is_min) {
  /* RFC 2308 §3: min(SOA TTL, MINIMUM) both ways round. */
  dns_name o = dns_name_lit("t.test");
  dns_zone *z = dns_zone_new(&o);
  ck_assert_int_eq(dns_zone_add_text(z, "t.test. 60 IN SOA ns.t.test. h.t.test. 1 2 3 4 900"),
                   DNS_OK);
  dns_zone_cfg cfg = {0};
  dns_msg q, r;
  make_query(&q, "x.t.test", DNS_T_A);
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_NXDOMAIN);
  ck_assert_uint_eq(dns_msg_rr(&r, DNS_SEC_AUTHORITY, 0)->ttl, 60);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  dns_zone_free(z);
}
END_TEST

START_TEST(zone_build_errors) {
  dns_zone *z = build_zone();
  static const struct {
    const char *rr;
    dns_err want;
  } rows[] = {
      {"example.org. 1 IN A 1.2.3.4", DNS_ERR_OUT_OF_ZONE},
      {"com. 1 IN A 1.2.3.4", DNS_ERR_OUT_OF_ZONE},
      {"x.example.com. 1 CH A 1.2.3.4", DNS_ERR_BAD_RR},
      {"x.example.com. 1 IN SOA a. b. 1 2 3 4 5", DNS_ERR_BAD_RR},
      {"example.com. 1 IN SOA a. b. 1 2 3 4 5", DNS_ERR_BAD_RR},
      {"www.example.com. 1 IN A 1.2.3.4", DNS_ERR_BAD_RR},
      {"www.example.com. 1 IN CNAME other.example.com.", DNS_ERR_BAD_RR},
      {"mail.example.com. 1 IN CNAME other.example.com.", DNS_ERR_BAD_RR},
      {"mail.example.com. 1 IN A nonsense", DNS_ERR_SYNTAX},
      {"mail.example.com. 99 IN A 192.0.2.25", DNS_OK}, /* duplicate: ignored */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dns_err e = dns_zone_add_text(z, rows[i].rr);
    ck_assert_msg(e == rows[i].want, "%s: got %s want %s", rows[i].rr, dns_err_name(e),
                  dns_err_name(rows[i].want));
  }
  ck_assert_ptr_nonnull(dns_zone_soa(z));
  char *t = dns_name_to_text(dns_zone_origin(z));
  ck_assert_str_eq(t, "example.com.");
  g_free(t);
  /* The duplicate did not add a record. */
  dns_zone_cfg cfg = {0};
  dns_msg q, r;
  make_query(&q, "mail.example.com", DNS_T_A);
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(dns_msg_count(&r, DNS_SEC_ANSWER), 1);
  dns_msg_clear(&q);
  dns_msg_clear(&r);
  dns_zone_free(z);
  dns_zone_free(NULL);
}
END_TEST

START_TEST(no_soa_servfail_and_zone_choice) {
  dns_name o1 = dns_name_lit("example.com"), o2 = dns_name_lit("sub.example.com");
  dns_zone *zs[2] = {build_zone(), dns_zone_new(&o2)};
  dns_zone_cfg cfg = {0};
  dns_msg q, r;
  /* The child zone (more labels) wins even though the parent delegates. */
  make_query(&q, "host.sub.example.com", DNS_T_A);
  dns_zone_respond(zs, 2, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_SERVFAIL); /* child has no SOA yet */
  dns_msg_clear(&r);
  ck_assert_int_eq(dns_zone_add_text(zs[1], "sub.example.com. 60 IN SOA a. b. 1 2 3 4 5"), DNS_OK);
  ck_assert_int_eq(dns_zone_add_text(zs[1], "host.sub.example.com. 60 IN A 198.51.100.1"), DNS_OK);
  dns_zone_respond(zs, 2, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_NOERROR);
  ck_assert(r.aa);
  ck_assert_uint_eq(dns_msg_count(&r, DNS_SEC_ANSWER), 1);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  (void)o1;
  dns_zone_free(zs[0]);
  dns_zone_free(zs[1]);
}
END_TEST

/* The zone answering is the closest enclosing one, names compared
 * without regard to ASCII case and only at label boundaries: among a
 * hundred look-alike zones (the table's origins, and d00..d99.test). */
static const struct {
  const char *qname, *zone; /* zone NULL: REFUSED */
} zone_rows[] = {
    {"nx.example.com", "example.com."},
    {"NX.SUB.Example.COM", "sub.example.com."},
    {"sub.example.com", "sub.example.com."},
    {"nx.xsub.example.com", "example.com."},
    {"nx.ample.com", "ample.com."},
    {"nx.xample.com", NULL},
    {"example.org", NULL},
    {"mx.d07.test", "d07.test."},
    {"mx.D70.TEST", "d70.test."},
    {"mx.d7.test", NULL},
    {"com", NULL},
};

START_TEST(zone_choice_table) {
  GPtrArray *zs = g_ptr_array_new_with_free_func((GDestroyNotify)dns_zone_free);
  const char *origins[] = {"example.com", "sub.example.com", "ample.com"};
  GString *soa = g_string_new(NULL);
  for (int i = 0; i < 103; i++) {
    char o[32];
    if (i < 3)
      g_strlcpy(o, origins[i], sizeof o);
    else
      g_snprintf(o, sizeof o, "d%02d.test", i - 3);
    dns_name n = dns_name_lit(o);
    dns_zone *z = dns_zone_new(&n);
    g_string_printf(soa, "%s. 60 IN SOA a. b. 1 2 3 4 5", o);
    ck_assert_int_eq(dns_zone_add_text(z, soa->str), DNS_OK);
    g_ptr_array_add(zs, z);
  }
  g_string_free(soa, TRUE);
  dns_zone_cfg cfg = {0};
  for (size_t i = 0; i < G_N_ELEMENTS(zone_rows); i++) {
    dns_msg q, r;
    make_query(&q, zone_rows[i].qname, DNS_T_A);
    ck_assert(dns_zone_respond((dns_zone *const *)zs->pdata, zs->len, &cfg, &q, &r));
    if (!zone_rows[i].zone) {
      ck_assert_msg(r.rcode == DNS_RCODE_REFUSED, "%s: got rcode %u want REFUSED",
                    zone_rows[i].qname, r.rcode);
    } else {
      ck_assert_msg(r.rcode != DNS_RCODE_REFUSED && dns_msg_count(&r, DNS_SEC_AUTHORITY) >= 1,
                    "%s: got rcode %u", zone_rows[i].qname, r.rcode);
      char *got = dns_name_to_text(&dns_msg_rr(&r, DNS_SEC_AUTHORITY, 0)->owner);
      ck_assert_msg(strcmp(got, zone_rows[i].zone) == 0, "%s: got zone %s want %s",
                    zone_rows[i].qname, got, zone_rows[i].zone);
      g_free(got);
    }
    dns_msg_clear(&q);
    dns_msg_clear(&r);
  }
  g_ptr_array_free(zs, TRUE);
}
END_TEST

START_TEST(bad_queries) {
  dns_zone *z = build_zone();
  dns_zone_cfg cfg = {.edns_size = 1232};
  dns_msg q, r;
  /* NOTIMP for other opcodes. */
  make_query(&q, "example.com", DNS_T_A);
  q.opcode = DNS_OP_NOTIFY;
  ck_assert(dns_zone_respond(&z, 1, &cfg, &q, &r));
  ck_assert_uint_eq(r.rcode, DNS_RCODE_NOTIMP);
  ck_assert_uint_eq(r.opcode, DNS_OP_NOTIFY);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  /* FORMERR: no question, two questions, qtype OPT. */
  dns_msg_init(&q);
  ck_assert(dns_zone_respond(&z, 1, &cfg, &q, &r));
  ck_assert_uint_eq(r.rcode, DNS_RCODE_FORMERR);
  dns_msg_clear(&r);
  dns_name n = dns_name_lit("example.com");
  dns_msg_add_question(&q, &n, DNS_T_A, DNS_C_IN);
  dns_msg_add_question(&q, &n, DNS_T_MX, DNS_C_IN);
  ck_assert(dns_zone_respond(&z, 1, &cfg, &q, &r));
  ck_assert_uint_eq(r.rcode, DNS_RCODE_FORMERR);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  make_query(&q, "example.com", DNS_T_OPT);
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_FORMERR);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  make_query(&q, "example.com", 252); /* AXFR */
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_NOTIMP);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  /* Class CH: REFUSED. */
  make_query(&q, "example.com", DNS_T_A);
  dns_msg_question_at(&q, 0)->rclass = DNS_C_CH;
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_REFUSED);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  /* A response is never answered. */
  make_query(&q, "example.com", DNS_T_A);
  q.qr = true;
  ck_assert(!dns_zone_respond(&z, 1, &cfg, &q, &r));
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  /* EDNS: echoed with our size and DO; version 1 gets BADVERS. */
  make_query(&q, "example.com", DNS_T_A);
  dns_msg_set_edns(&q, 4096, true);
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert(r.edns.present && r.edns.udp_size == 1232 && r.edns.do_bit);
  dns_msg_clear(&r);
  q.edns.version = 1;
  dns_zone_respond(&z, 1, &cfg, &q, &r);
  ck_assert_uint_eq(r.rcode, DNS_RCODE_BADVERS);
  ck_assert(r.edns.present);
  ck_assert_uint_eq(dns_msg_count(&r, DNS_SEC_ANSWER), 0);
  uint8_t buf[512];
  dns_enc_result res;
  ck_assert_int_eq(dns_msg_encode(&r, buf, sizeof buf, 0, &res), DNS_OK);
  dns_msg d;
  ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
  ck_assert_uint_eq(d.rcode, DNS_RCODE_BADVERS);
  dns_msg_clear(&d);
  dns_msg_clear(&r);
  dns_msg_clear(&q);
  dns_zone_free(z);
}
END_TEST

/* ---- wire-level step --------------------------------------------------- */

static GByteArray *query_bytes(const char *name, uint16_t type, int edns) {
  dns_msg q;
  make_query(&q, name, type);
  if (edns)
    dns_msg_set_edns(&q, (uint16_t)edns, false);
  uint8_t buf[512];
  dns_enc_result res;
  ck_assert_int_eq(dns_msg_encode(&q, buf, sizeof buf, 0, &res), DNS_OK);
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, buf, (guint)res.len);
  dns_msg_clear(&q);
  return b;
}

START_TEST(wire_truncation_udp_then_tcp) {
  dns_zone *z = build_zone();
  /* 30 TXT strings of 100 octets: about 3 KB. */
  for (int i = 0; i < 30; i++) {
    char t[200];
    g_snprintf(t, sizeof t, "big.example.com. 60 IN TXT \"%02d-%096d\"", i, 0);
    ck_assert_int_eq(dns_zone_add_text(z, t), DNS_OK);
  }
  dns_zone_cfg cfg = {.edns_size = 1232};
  static const struct {
    int edns;
    bool tcp;
    size_t max;
    bool tc;
  } rows[] = {{0, false, 512, true},
              {4096, false, 1232, true},
              {800, false, 800, true},
              {0, true, 65535, false},
              {4096, true, 65535, false}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GByteArray *qb = query_bytes("big.example.com", DNS_T_TXT, rows[i].edns);
    GByteArray *out = g_byte_array_new();
    dns_err de;
    ck_assert(dns_zone_respond_wire(&z, 1, &cfg, qb->data, qb->len, rows[i].tcp, out, &de));
    ck_assert_int_eq(de, DNS_OK);
    ck_assert_msg(out->len <= rows[i].max, "row %zu: got %u octets, limit %zu", i, out->len,
                  rows[i].max);
    dns_msg r;
    ck_assert_int_eq(dns_msg_decode(&r, out->data, out->len), DNS_OK);
    ck_assert_msg(r.tc == rows[i].tc, "row %zu: tc got %d want %d", i, r.tc, rows[i].tc);
    ck_assert_uint_eq(dns_msg_count(&r, DNS_SEC_ANSWER), rows[i].tc ? 0 : 30);
    ck_assert(r.edns.present == (rows[i].edns != 0));
    if (rows[i].tcp) { /* the TCP answer frames and deframes intact, byte by byte */
      GByteArray *fr = g_byte_array_new();
      dns_tcp_frame(out->data, out->len, fr);
      dns_tcp *d = dns_tcp_new();
      GBytes *got = NULL;
      for (guint k = 0; k < fr->len; k++) {
        ck_assert_ptr_null(got);
        dns_tcp_feed(d, fr->data + k, 1);
        got = dns_tcp_next(d);
      }
      ck_assert_ptr_nonnull(got);
      ck_assert_uint_eq(g_bytes_get_size(got), out->len);
      g_bytes_unref(got);
      dns_tcp_free(d);
      g_byte_array_free(fr, TRUE);
    }
    dns_msg_clear(&r);
    g_byte_array_free(out, TRUE);
    g_byte_array_free(qb, TRUE);
  }
  dns_zone_free(z);
}
END_TEST

START_TEST(wire_formerr_and_drop) {
  dns_zone *z = build_zone();
  dns_zone_cfg cfg = {.edns_size = 1232};
  GByteArray *qb = query_bytes("example.com", DNS_T_MX, 0);
  GByteArray *out = g_byte_array_new();
  dns_err de;
  /* Every truncated prefix of a query: FORMERR with its id, or silence. */
  for (guint n = 0; n < qb->len; n++) {
    g_byte_array_set_size(out, 0);
    bool reply = dns_zone_respond_wire(&z, 1, &cfg, qb->data, n, false, out, &de);
    ck_assert(de != DNS_OK);
    ck_assert(reply == (n >= 12));
    if (!reply)
      continue;
    dns_msg r;
    ck_assert_int_eq(dns_msg_decode(&r, out->data, out->len), DNS_OK);
    ck_assert_uint_eq(r.rcode, DNS_RCODE_FORMERR);
    ck_assert_uint_eq(r.id, 4242);
    ck_assert(r.qr);
    dns_msg_clear(&r);
  }
  /* A response (QR=1) that reaches the server is dropped. */
  qb->data[2] |= 0x80;
  g_byte_array_set_size(out, 0);
  ck_assert(!dns_zone_respond_wire(&z, 1, &cfg, qb->data, qb->len, false, out, NULL));
  ck_assert_uint_eq(out->len, 0);
  qb->data[2] &= 0x7F;
  ck_assert(dns_zone_respond_wire(&z, 1, &cfg, qb->data, qb->len, false, out, NULL));
  dns_msg r;
  ck_assert_int_eq(dns_msg_decode(&r, out->data, out->len), DNS_OK);
  ck_assert(r.aa);
  ck_assert_uint_eq(dns_msg_count(&r, DNS_SEC_ANSWER), 2);
  dns_msg_clear(&r);
  g_byte_array_free(out, TRUE);
  g_byte_array_free(qb, TRUE);
  dns_zone_free(z);
}
END_TEST

static uint64_t xs(uint64_t *s) { /* xorshift64*, deterministic test stream */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

START_TEST(server_fuzz) {
  /* Mutated queries: the server step never crashes, and whatever it sends
   * decodes, stays within the UDP limit and answers the query's id. */
  dns_zone *z = build_zone();
  dns_zone_cfg cfg = {.edns_size = 1232};
  const char *names[] = {"example.com", "www.example.com", "foo.wild.example.com",
                         "host.sub.example.com", "nope.example.com"};
  GByteArray *seeds[5];
  for (int i = 0; i < 5; i++)
    seeds[i] = query_bytes(names[i], (uint16_t)(i ? DNS_T_A : DNS_T_MX), i % 2 ? 1232 : 0);
  uint64_t st = 12345;
  unsigned replies = 0, answers = 0;
  GByteArray *out = g_byte_array_new();
  for (int it = 0; it < 100000; it++) {
    const GByteArray *seed = seeds[it % 5];
    uint8_t pkt[600];
    size_t len = seed->len;
    g_assert(len <= sizeof pkt);
    memcpy(pkt, seed->data, len);
    for (int k = 0, n = 1 + (int)(xs(&st) % 3); k < n; k++) {
      uint64_t r = xs(&st);
      if (len == 0)
        break;
      size_t at = (size_t)(r >> 8) % len;
      switch (r % 4) {
      case 0:
        pkt[at] ^= (uint8_t)(1u << ((r >> 40) % 8));
        break;
      case 1:
        pkt[at] = (uint8_t)(r >> 32);
        break;
      case 2:
        len = at;
        break;
      default:
        pkt[at] = (uint8_t)((r >> 32) % 64);
        break;
      }
    }
    uint8_t *copy = g_memdup2(pkt, len ? len : 1);
    g_byte_array_set_size(out, 0);
    bool tcp = (it / 5) % 2;
    if (dns_zone_respond_wire(&z, 1, &cfg, copy, len, tcp, out, NULL)) {
      replies++;
      dns_msg r;
      ck_assert_int_eq(dns_msg_decode(&r, out->data, out->len), DNS_OK);
      ck_assert(r.qr);
      ck_assert_uint_eq(r.id, (uint16_t)(copy[0] << 8 | copy[1]));
      if (!tcp)
        ck_assert_uint_le(out->len, 1232);
      if (r.rcode == DNS_RCODE_NOERROR && dns_msg_count(&r, DNS_SEC_ANSWER))
        answers++;
      dns_msg_clear(&r);
    }
    g_free(copy);
  }
  ck_assert_uint_gt(replies, 1000);
  ck_assert_uint_gt(answers, 100);
  g_byte_array_free(out, TRUE);
  for (int i = 0; i < 5; i++)
    g_byte_array_free(seeds[i], TRUE);
  dns_zone_free(z);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_zone");
  TCase *tc = tcase_create("answers");
  tcase_add_test(tc, answers_table);
  tcase_add_test(tc, negative_ttl_is_min);
  tcase_add_test(tc, no_soa_servfail_and_zone_choice);
  suite_add_tcase(s, tc);
  tc = tcase_create("build");
  tcase_add_test(tc, zone_build_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_test(tc, bad_queries);
  tcase_add_test(tc, zone_choice_table);
  suite_add_tcase(s, tc);
  tc = tcase_create("wire");
  tcase_add_test(tc, wire_truncation_udp_then_tcp);
  tcase_add_test(tc, wire_formerr_and_drop);
  suite_add_tcase(s, tc);
  tc = tcase_create("fuzz");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, server_fuzz);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
