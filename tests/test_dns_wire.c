/* Tests for dns_name, dns_wire and dns_tcp: names and escapes, round trips
 * of every RR type, compression layout, RFC 9267 malformed packets, every
 * truncated prefix, encoder truncation (TC), EDNS, TCP deframing at every
 * split, and a deterministic mutation fuzz loop. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_name.h"
#include "dns_tcp.h"
#include "dns_wire.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

static GByteArray *hex_bytes(const char *hex) {
  GByteArray *b = g_byte_array_new();
  int hi = -1;
  for (const char *p = hex; *p; p++) {
    int v = g_ascii_xdigit_value(*p);
    if (v < 0)
      continue; /* blanks and separators */
    if (hi < 0)
      hi = v;
    else {
      uint8_t c = (uint8_t)(hi << 4 | v);
      g_byte_array_append(b, &c, 1);
      hi = -1;
    }
  }
  g_assert(hi < 0);
  return b;
}

static char *to_hex(const uint8_t *p, size_t n) {
  GString *s = g_string_new(NULL);
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(s, "%02x", p[i]);
  return g_string_free(s, FALSE);
}

static char *msg_text(const dns_msg *m) {
  GString *s = g_string_new(NULL);
  dns_msg_append_text(m, s);
  return g_string_free(s, FALSE);
}

/* Encodes M without limit; returns the bytes (caller frees). */
static GByteArray *encode(const dns_msg *m, unsigned flags) {
  uint8_t buf[65535];
  dns_enc_result res;
  dns_err e = dns_msg_encode(m, buf, sizeof buf, flags, &res);
  ck_assert_msg(e == DNS_OK, "encode: got %s want ok", dns_err_name(e));
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, buf, (guint)res.len);
  return b;
}

static const char *const all_types_rrs[] = {
    "example.com. 3600 IN A 192.0.2.1",
    "example.com. 3600 IN AAAA 2001:db8::1",
    "example.com. 3600 IN MX 10 mail.example.com.",
    "example.com. 3600 IN TXT \"v=spf1 -all\" \"second string\" \"q\\\"uote\\\\ \\001\"",
    "www.example.com. 60 IN CNAME example.com.",
    "example.com. 86400 IN NS ns1.example.com.",
    ("example.com. 86400 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 "
     "1209600 300"),
    "1.2.0.192.in-addr.arpa. 300 IN PTR example.com.",
    "_submission._tcp.example.com. 300 IN SRV 0 5 587 mail.example.com.",
    "example.com. 300 IN TYPE65280 \\# 4 0a0b0c0d",
    "example.com. 300 IN TYPE99 \\# 0",
    "example.com. 300 CH TXT \"\"",
    "we\\.ird\\032name\\\\.example.com. 5 IN A 10.0.0.1",
};

static void build_all_types(dns_msg *m) {
  dns_msg_init(m);
  m->id = 0xBEEF;
  m->qr = m->aa = m->rd = m->ra = true;
  dns_name q = dns_name_lit("example.com");
  dns_msg_add_question(m, &q, DNS_T_ANY, DNS_C_IN);
  for (size_t i = 0; i < G_N_ELEMENTS(all_types_rrs); i++) {
    dns_rr rr;
    dns_err e = dns_rr_from_text(&rr, all_types_rrs[i]);
    ck_assert_msg(e == DNS_OK, "parse %s: %s", all_types_rrs[i], dns_err_name(e));
    dns_msg_take_rr(m, i < 9 ? DNS_SEC_ANSWER : (i < 11 ? DNS_SEC_AUTHORITY : DNS_SEC_ADDITIONAL),
                    &rr);
  }
  dns_msg_set_edns(m, 1232, true);
}

/* ---- names ------------------------------------------------------------- */

static const struct {
  const char *in, *want; /* want NULL: same as in */
  dns_err err;
} name_rows[] = {
    {".", NULL, DNS_OK},
    {"", ".", DNS_OK},
    {"example.com", "example.com.", DNS_OK},
    {"Example.COM.", NULL, DNS_OK},
    {"a\\.b.c.", NULL, DNS_OK},
    {"a\\\\b.", NULL, DNS_OK},
    {"\\065bc.", "Abc.", DNS_OK},
    {"sp\\032ace.", NULL, DNS_OK},
    {"x\\255.", NULL, DNS_OK},
    {"\\@\\$\\(\\)\\;\\\".", NULL, DNS_OK},
    {"a..b", NULL, DNS_ERR_SYNTAX},
    {".a", NULL, DNS_ERR_SYNTAX},
    {"..", NULL, DNS_ERR_SYNTAX},
    {"a\\", NULL, DNS_ERR_SYNTAX},
    {"a\\25", NULL, DNS_ERR_SYNTAX},
    {"a\\256.", NULL, DNS_ERR_SYNTAX},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL,
     DNS_ERR_LABEL_TOO_LONG},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com.", NULL, DNS_OK},
};

START_TEST(name_text) {
  for (size_t i = 0; i < G_N_ELEMENTS(name_rows); i++) {
    dns_name n;
    dns_err e = dns_name_from_text(&n, name_rows[i].in);
    ck_assert_msg(e == name_rows[i].err, "%s: got %s want %s", name_rows[i].in, dns_err_name(e),
                  dns_err_name(name_rows[i].err));
    if (e != DNS_OK)
      continue;
    char *t = dns_name_to_text(&n);
    const char *want = name_rows[i].want ? name_rows[i].want : name_rows[i].in;
    ck_assert_msg(strcmp(t, want) == 0, "%s: got %s want %s", name_rows[i].in, t, want);
    /* Presentation must parse back to the same wire form. */
    dns_name back;
    ck_assert_int_eq(dns_name_from_text(&back, t), DNS_OK);
    ck_assert(back.len == n.len && memcmp(back.wire, n.wire, n.len) == 0);
    g_free(t);
  }
}
END_TEST

/* The presentation form of every octet, against RFC 1035 §5.1 written out
 * with printf: names of 4 labels of 63 octets (the longest text: 4 text
 * octets each) covering 0..255, and dns_name_append_text appending. */
static void text_ref(const dns_name *n, GString *out) {
  if (n->len <= 1) {
    g_string_append_c(out, '.');
    return;
  }
  for (size_t i = 0; i < n->len && n->wire[i] != 0;) {
    uint8_t l = n->wire[i++];
    for (uint8_t k = 0; k < l; k++) {
      uint8_t c = n->wire[i++];
      if (c != 0 && strchr("\"().;\\@$", c))
        g_string_append_printf(out, "\\%c", c);
      else if (c < 0x21 || c > 0x7e)
        g_string_append_printf(out, "\\%03u", c);
      else
        g_string_append_c(out, (char)c);
    }
    g_string_append_c(out, '.');
  }
}

START_TEST(name_text_every_octet) {
  for (unsigned base = 0; base < 256; base += 63) {
    dns_name n;
    n.len = 0;
    /* Labels of 63 octets, the last one shorter: a name of DNS_NAME_MAX. */
    for (unsigned lab = 0; n.len + 2 < DNS_NAME_MAX; lab++) {
      unsigned room = DNS_NAME_MAX - n.len - 2; /* its length octet and the root's */
      unsigned len = room < 63 ? room : 63;
      n.wire[n.len++] = (uint8_t)len;
      for (unsigned k = 0; k < len; k++)
        n.wire[n.len++] = (uint8_t)((base + lab * 63 + k) % 256);
    }
    n.wire[n.len++] = 0;
    ck_assert_uint_eq(n.len, DNS_NAME_MAX);
    GString *want = g_string_new("x");
    text_ref(&n, want);
    char *got = dns_name_to_text(&n);
    ck_assert_msg(strcmp(got, want->str + 1) == 0, "base %u: got %s want %s", base, got,
                  want->str + 1);
    GString *app = g_string_new("x");
    dns_name_append_text(&n, app);
    ck_assert_str_eq(app->str, want->str);
    dns_name back; /* and the text reads back as the same octets */
    ck_assert_int_eq(dns_name_from_text(&back, got), DNS_OK);
    ck_assert_uint_eq(back.len, n.len);
    ck_assert_mem_eq(back.wire, n.wire, n.len);
    g_free(got);
    g_string_free(want, TRUE);
    g_string_free(app, TRUE);
  }
}
END_TEST

START_TEST(name_length_limits) {
  /* 4 labels of 63 = 4*64 + 1 = 257 octets: too long; 3*64 + 62 + 1 = 255 fits. */
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 4; i++) {
    for (int k = 0; k < 63; k++)
      g_string_append_c(s, 'a');
    g_string_append_c(s, '.');
  }
  dns_name n;
  ck_assert_int_eq(dns_name_from_text(&n, s->str), DNS_ERR_NAME_TOO_LONG);
  g_string_truncate(s, 3 * 64 + 61);
  g_string_append_c(s, '.');
  ck_assert_int_eq(dns_name_from_text(&n, s->str), DNS_OK);
  ck_assert_uint_eq(n.len, 255);
  ck_assert_int_eq(dns_name_prepend(&n, (const uint8_t *)"x", 1, &n), DNS_ERR_NAME_TOO_LONG);
  g_string_free(s, TRUE);
}
END_TEST

/* ASCII case folding of one octet, the rule (RFC 4343 §3). */
static uint8_t fold_rule(uint8_t c) { return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c; }

/* Case-insensitive compares and folding eight octets a step, against the
 * rule octet by octet: seeded random octet strings of 0..255 (letters of
 * both cases, their neighbours '@', '[', '`', '{', octets from 0x80 and
 * any other), the second a copy with letters' case flipped and now and
 * then one octet changed (often by the case bit 0x20 alone, which folds
 * only letters); a difference at every place; the same through
 * dns_name_equal, dns_name_is_under and dns_name_lower (in place too). */
START_TEST(name_fold_against_rule) {
  static const uint8_t picks[] = {'A', 'Z', 'a', 'z', 'M',         'q',  '@',  '[',  '`',  '{',
                                  '-', '0', 0,   3,   0x41 | 0x80, 0xc1, 0xe1, 0xff, 0x7f, 0x20};
  GRand *r = g_rand_new_with_seed(4343);
  uint8_t a[256], b[256], f[256];
  unsigned same = 0, differ = 0;
  for (int it = 0; it < 40000; it++) {
    size_t n = (size_t)g_rand_int_range(r, 0, it % 4 ? 24 : 256);
    for (size_t i = 0; i < n; i++)
      a[i] = g_rand_int_range(r, 0, 3) ? picks[g_rand_int_range(r, 0, G_N_ELEMENTS(picks))]
                                       : (uint8_t)g_rand_int_range(r, 0, 256);
    memcpy(b, a, n);
    for (size_t i = 0; i < n; i++)
      if (g_ascii_isalpha(b[i]) && g_rand_boolean(r))
        b[i] ^= 0x20;
    if (n && g_rand_boolean(r)) {
      size_t at = (size_t)g_rand_int_range(r, 0, (gint32)n);
      b[at] = g_rand_boolean(r) ? (uint8_t)(b[at] ^ 0x20) : (uint8_t)g_rand_int_range(r, 0, 256);
    }
    bool want = true;
    for (size_t i = 0; i < n; i++)
      want = want && fold_rule(a[i]) == fold_rule(b[i]);
    if (dns_name_octets_ieq(a, b, n) != want)
      ck_abort_msg("case %d (%zu octets): got %d want %d", it, n, !want, want);
    want ? same++ : differ++;
    uint8_t g[256];
    size_t bad = n;
    dns_name_lower_octets(a, n, f);
    for (size_t i = 0; i < n; i++) {
      g[i] = fold_rule(a[i]);
      if (f[i] != g[i] && bad == n)
        bad = i;
    }
    if (bad < n) /* one assertion per case: each costs Check a write */
      ck_abort_msg("case %d: octet %zu 0x%02x folded to 0x%02x", it, bad, a[bad], f[bad]);
    if (n) { /* as names: the same octets (valid or not: compared as they are) */
      dns_name x, y;
      x.len = y.len = (uint8_t)n;
      memcpy(x.wire, a, n);
      memcpy(y.wire, b, n);
      bool eq = dns_name_equal(&x, &y);
      dns_name_lower(&x, &x);
      if (eq != want || x.len != n || memcmp(x.wire, g, n) != 0)
        ck_abort_msg("case %d: as names: equal %d want %d, or folded otherwise", it, eq, want);
    }
  }
  ck_assert_msg(same > 5000 && differ > 5000, "both answers exercised: %u same, %u differ", same,
                differ);
  /* a difference at every place of names of 1..40 octets */
  for (size_t n = 1; n <= 40; n++)
    for (size_t at = 0; at < n; at++)
      for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < n; i++)
          a[i] = (uint8_t)('a' + i % 26);
        memcpy(b, a, n);
        b[at] = k == 0 ? (uint8_t)(b[at] ^ 0x20) : k == 1 ? (uint8_t)'{' : (uint8_t)(b[at] + 1);
        bool want = k == 0 || (k == 1 && a[at] == '{');
        ck_assert_msg(dns_name_octets_ieq(a, b, n) == want && dns_name_octets_ieq(b, a, n) == want,
                      "%zu octets, change %d at %zu", n, k, at);
      }
  /* under a parent: labels of every length, case mixed */
  dns_name p = dns_name_lit("Example.ORG"), q;
  for (int len = 1; len <= 63; len++) {
    char text[128];
    memset(text, 'X', (size_t)len);
    g_snprintf(text + len, sizeof text - (size_t)len, ".exAMPLE.org");
    q = dns_name_lit(text);
    ck_assert(dns_name_is_under(&q, &p));
    text[len + 3] = 'b'; /* .exbMPLE */
    q = dns_name_lit(text);
    ck_assert(!dns_name_is_under(&q, &p));
  }
  g_rand_free(r);
}
END_TEST

START_TEST(name_compare_and_case) {
  dns_name a = dns_name_lit("WWW.Example.com"), b = dns_name_lit("www.example.COM.");
  dns_name c = dns_name_lit("example.com"), r = dns_name_lit(".");
  dns_name x = dns_name_lit("\\200.example.com"), y = dns_name_lit("\\232.example.com");
  ck_assert(dns_name_equal(&a, &b));
  ck_assert(dns_name_hash(&a) == dns_name_hash(&b));
  ck_assert(!dns_name_equal(&a, &c));
  ck_assert(!dns_name_equal(&x, &y)); /* only ASCII letters fold (RFC 4343 §3) */
  ck_assert(dns_name_is_under(&a, &c));
  ck_assert(dns_name_is_under(&c, &c));
  ck_assert(dns_name_is_under(&c, &r));
  ck_assert(!dns_name_is_under(&c, &a));
  dns_name notsub = dns_name_lit("xexample.com");
  ck_assert(!dns_name_is_under(&notsub, &c));
  ck_assert_int_eq(dns_name_labels(&a), 3);
  ck_assert_int_eq(dns_name_labels(&r), 0);
  /* RFC 4034 §6.1 example order. */
  const char *order[] = {"example.",         "a.example.",      "yljkjljk.a.example.",
                         "Z.a.example.",     "zABC.a.EXAMPLE.", "z.example.",
                         "\\001.z.example.", "*.z.example.",    "\\200.z.example."};
  for (size_t i = 0; i + 1 < G_N_ELEMENTS(order); i++) {
    dns_name p = dns_name_lit(order[i]), q = dns_name_lit(order[i + 1]);
    ck_assert_msg(dns_name_compare(&p, &q) < 0, "%s < %s", order[i], order[i + 1]);
    ck_assert_msg(dns_name_compare(&q, &p) > 0, "%s > %s", order[i + 1], order[i]);
  }
  ck_assert_int_eq(dns_name_compare(&a, &b), 0);
  dns_name s;
  dns_name_suffix(&a, 2, &s);
  ck_assert(dns_name_equal(&s, &c));
}
END_TEST

/* ---- RFC 9267 malformed packets ---------------------------------------- */

#define HDR_Q1 "1234 0100 0001 0000 0000 0000 "
#define HDR_R(an) "1234 8100 0001 " an " 0000 0000 "

static const struct {
  const char *what, *hex;
  dns_err want;
} bad_rows[] = {
    {"empty", "", DNS_ERR_SHORT},
    {"short header", "1234 0100 0001 0000 0000", DNS_ERR_SHORT},
    {"pointer to itself", HDR_Q1 "c00c 0001 0001", DNS_ERR_PTR_LOOP},
    {"pointer into own name", HDR_Q1 "01 61 c00c 0001 0001", DNS_ERR_PTR_LOOP},
    {"two pointers looping", HDR_Q1 "c00e c00c 0001 0001", DNS_ERR_PTR_FORWARD},
    {"forward pointer", HDR_Q1 "c012 0001 0001 00 0001 0001", DNS_ERR_PTR_FORWARD},
    {"pointer beyond packet", HDR_Q1 "c0ff 0001 0001", DNS_ERR_PTR_OUT_OF_BOUNDS},
    {"pointer missing second octet", HDR_Q1 "0161 0162 c0", DNS_ERR_SHORT},
    {"label type 0x40", HDR_Q1 "41 61 00 0001 0001", DNS_ERR_LABEL_TYPE},
    {"label type 0x80", HDR_Q1 "80 00 0001 0001", DNS_ERR_LABEL_TYPE},
    {"label length 64 (over 63)",
     HDR_Q1 "40 " /* 64 octets follow */
            "61616161616161616161616161616161616161616161616161616161616161616161"
            "616161616161616161616161616161616161616161616161616161616161 00 0001 0001",
     DNS_ERR_LABEL_TYPE},
    {"label runs off the end", HDR_Q1 "09 61626364656667", DNS_ERR_SHORT},
    {"name without terminator", HDR_Q1 "03 616263 01 61", DNS_ERR_SHORT},
    {"qdcount larger than packet", "1234 0100 0005 0000 0000 0000 00 0001 0001", DNS_ERR_COUNT},
    {"ancount larger than packet", HDR_R("0100") "00 0001 0001 00 0001 0001 00000000 0000",
     DNS_ERR_COUNT},
    {"question truncated in type", HDR_Q1 "03 616263 00 00", DNS_ERR_SHORT},
    {"rr truncated in fixed part", "1234 8100 0000 0001 0000 0000 0161 00 0001 0001 0000 0000 00",
     DNS_ERR_SHORT},
    {"rdlength beyond packet", HDR_R("0001") "00 0001 0001 00 0001 0001 00000000 0008 01020304",
     DNS_ERR_SHORT},
    {"A with rdlength 5", HDR_R("0001") "00 0001 0001 00 0001 0001 00000000 0005 0102030405",
     DNS_ERR_RDLENGTH},
    {"AAAA with rdlength 4", HDR_R("0001") "00 001c 0001 00 001c 0001 00000000 0004 01020304",
     DNS_ERR_RDLENGTH},
    {"NS name longer than rdlength",
     HDR_R("0001") "00 0002 0001 00 0002 0001 00000000 0002 0161 00 00", DNS_ERR_RDLENGTH},
    {"NS name shorter than rdlength",
     HDR_R("0001") "00 0002 0001 00 0002 0001 00000000 0004 0161 00 ff", DNS_ERR_RDLENGTH},
    {"MX rdlength 2", HDR_R("0001") "00 000f 0001 00 000f 0001 00000000 0002 000a",
     DNS_ERR_RDLENGTH},
    {"SOA missing counters", HDR_R("0001") "00 0006 0001 00 0006 0001 00000000 0006 00 00 00000001",
     DNS_ERR_RDLENGTH},
    {"TXT string past rdlength", HDR_R("0001") "00 0010 0001 00 0010 0001 00000000 0002 0561",
     DNS_ERR_RDLENGTH},
    {"TXT empty rdata", HDR_R("0001") "00 0010 0001 00 0010 0001 00000000 0000", DNS_ERR_RDLENGTH},
    {"SRV rdlength 6", HDR_R("0001") "00 0021 0001 00 0021 0001 00000000 0006 000000000000",
     DNS_ERR_RDLENGTH},
    {"trailing garbage", HDR_Q1 "00 0001 0001 ff", DNS_ERR_TRAILING},
    {"OPT in answer", HDR_R("0001") "00 0001 0001 00 0029 1000 00000000 0000", DNS_ERR_OPT},
    {"two OPT",
     "1234 8100 0001 0000 0000 0002 00 0001 0001 00 0029 1000 00000000 0000 "
     "00 0029 1000 00000000 0000",
     DNS_ERR_OPT},
    {"OPT non-root owner",
     "1234 8100 0001 0000 0000 0001 00 0001 0001 0161 00 0029 1000 00000000 0000", DNS_ERR_OPT},
    {"OPT option overruns",
     "1234 8100 0001 0000 0000 0001 00 0001 0001 00 0029 1000 00000000 "
     "0006 000a 0004 0102",
     DNS_ERR_OPT},
    {"name over 255 assembled through a pointer",
     /* q1 = three 63-octet labels (193 octets) at 12; q2 = one more label
      * then a pointer to q1: 64 + 193 = 257 octets */
     "1234 0100 0002 0000 0000 0000 "
     "3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 00 0001 0001 "
     "3f "
     "626262626262626262626262626262626262626262626262626262626262626262626262626262626262626262626"
     "262626262626262626262626262626262 c00c 0001 0001",
     DNS_ERR_NAME_TOO_LONG},
    {"name over 255 in one run",
     /* 4 labels of 63 at offset 12 (257 octets with root): too long */
     "1234 0100 0001 0000 0000 0000 "
     "3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 "
     "3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 "
     "3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 "
     "3f "
     "616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616"
     "161616161616161616161616161616161 "
     "00 0001 0001",
     DNS_ERR_NAME_TOO_LONG},
};

START_TEST(malformed_packets) {
  for (size_t i = 0; i < G_N_ELEMENTS(bad_rows); i++) {
    GByteArray *b = hex_bytes(bad_rows[i].hex);
    dns_msg m;
    dns_err e = dns_msg_decode(&m, b->data, b->len);
    ck_assert_msg(e == bad_rows[i].want, "%s: got %s want %s", bad_rows[i].what, dns_err_name(e),
                  dns_err_name(bad_rows[i].want));
    /* The header survives for a FORMERR reply; the sections do not. */
    if (b->len >= 12)
      ck_assert_uint_eq(m.id, 0x1234);
    ck_assert_uint_eq(dns_msg_qdcount(&m) + dns_msg_count(&m, DNS_SEC_ANSWER), 0);
    dns_msg_clear(&m);
    g_byte_array_free(b, TRUE);
  }
}
END_TEST

/* Questions: the first held in place, the others in a block; every
 * count from 0 to 4 survives encode, decode and the text form in order. */
START_TEST(questions_in_place_and_beyond) {
  const char *names[] = {"a.example", "B.example", "c.b.example", "d.example"};
  for (guint n = 0; n <= G_N_ELEMENTS(names); n++) {
    dns_msg m;
    dns_msg_init(&m);
    m.id = 7;
    for (guint i = 0; i < n; i++) {
      dns_name nm = dns_name_lit(names[i]);
      dns_msg_add_question(&m, &nm, (uint16_t)(DNS_T_A + i), DNS_C_IN);
    }
    ck_assert_uint_eq(dns_msg_qdcount(&m), n);
    ck_assert(n ? dns_msg_question(&m) == dns_msg_question_at(&m, 0) : !dns_msg_question(&m));
    uint8_t buf[512];
    dns_enc_result res;
    ck_assert_int_eq(dns_msg_encode(&m, buf, sizeof buf, 0, &res), DNS_OK);
    dns_msg d;
    ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
    ck_assert_uint_eq(dns_msg_qdcount(&d), n);
    GString *t = g_string_new(NULL);
    dns_msg_append_text(&d, t);
    for (guint i = 0; i < n; i++) {
      const dns_question *q = dns_msg_question_at(&d, i);
      char *got = dns_name_to_text(&q->name), want[32];
      g_snprintf(want, sizeof want, "%s.", names[i]);
      ck_assert_msg(strcmp(got, want) == 0, "question %u: got %s want %s", i, got, want);
      ck_assert_uint_eq(q->type, DNS_T_A + i);
      ck_assert_ptr_nonnull(strstr(t->str, want));
      g_free(got);
    }
    g_string_free(t, TRUE);
    dns_msg_clear(&d);
    dns_msg_clear(&m);
  }
}
END_TEST

START_TEST(compressed_chain_ok) {
  /* A valid chain of backward pointers: c.b.a. built from three names. */
  GByteArray *b = hex_bytes("1234 0100 0003 0000 0000 0000 "
                            "0161 00 0001 0001 "   /* a.   at 12 */
                            "0162 c00c 0001 0001 " /* b.a. at 19 */
                            "0163 c013 0001 0001");
  dns_msg m;
  ck_assert_int_eq(dns_msg_decode(&m, b->data, b->len), DNS_OK);
  char *t = dns_name_to_text(&dns_msg_question_at(&m, 2)->name);
  ck_assert_str_eq(t, "c.b.a.");
  g_free(t);
  dns_msg_clear(&m);
  g_byte_array_free(b, TRUE);
}
END_TEST

/* ---- round trips ------------------------------------------------------- */

START_TEST(roundtrip_all_types) {
  dns_msg m;
  build_all_types(&m);
  m.rcode = DNS_RCODE_BADVERS; /* needs the extended rcode of the OPT */
  m.ad = m.cd = m.z = true;
  char *want = msg_text(&m);
  for (int pass = 0; pass < 2; pass++) {
    GByteArray *b = encode(&m, pass ? DNS_ENC_NO_COMPRESS : 0);
    dns_msg d;
    dns_err e = dns_msg_decode(&d, b->data, b->len);
    ck_assert_msg(e == DNS_OK, "decode: %s", dns_err_name(e));
    char *got = msg_text(&d);
    ck_assert_msg(strcmp(got, want) == 0, "pass %d: got\n%s\nwant\n%s", pass, got, want);
    for (int s = 0; s < DNS_SEC_COUNT; s++)
      for (guint i = 0; i < dns_msg_count(&m, (dns_section)s); i++)
        ck_assert(
            dns_rr_same_data(dns_msg_rr(&m, (dns_section)s, i), dns_msg_rr(&d, (dns_section)s, i)));
    ck_assert_uint_eq(d.rcode, DNS_RCODE_BADVERS);
    ck_assert(d.edns.present && d.edns.do_bit && d.edns.udp_size == 1232);
    /* Every proper prefix must fail cleanly (never crash, never over-read). */
    for (guint n = 0; n < b->len; n++) {
      dns_msg p;
      ck_assert_msg(dns_msg_decode(&p, b->data, n) != DNS_OK, "prefix %u decoded", n);
      dns_msg_clear(&p);
    }
    g_free(got);
    dns_msg_clear(&d);
    g_byte_array_free(b, TRUE);
  }
  g_free(want);
  dns_msg_clear(&m);
}
END_TEST

START_TEST(rr_text_rows) {
  for (size_t i = 0; i < G_N_ELEMENTS(all_types_rrs); i++) {
    dns_rr rr;
    ck_assert_int_eq(dns_rr_from_text(&rr, all_types_rrs[i]), DNS_OK);
    GString *s = g_string_new(NULL);
    dns_rr_append_text(&rr, s);
    ck_assert_msg(strcmp(s->str, all_types_rrs[i]) == 0, "got %s want %s", s->str,
                  all_types_rrs[i]);
    g_string_free(s, TRUE);
    dns_rr_clear(&rr);
  }
  /* Known type in the generic form is decoded as the known type. */
  dns_rr rr;
  ck_assert_int_eq(dns_rr_from_text(&rr, "a. 1 IN MX \\# 5 000a 016200"), DNS_OK);
  GString *s = g_string_new(NULL);
  dns_rr_append_text(&rr, s);
  ck_assert_str_eq(s->str, "a. 1 IN MX 10 b.");
  g_string_free(s, TRUE);
  dns_rr txt;
  ck_assert_int_eq(dns_rr_from_text(&txt, "t. 1 IN TXT one \"two words\" three"), DNS_OK);
  ck_assert_uint_eq(dns_rr_txt_count(&txt), 3);
  size_t l;
  const uint8_t *p = dns_rr_txt_get(&txt, 1, &l);
  ck_assert_uint_eq(l, 9);
  ck_assert(memcmp(p, "two words", 9) == 0);
  dns_rr_clear(&txt);
  const char *bad[] = {"a. 1 IN A 1.2.3",
                       "a. 1 IN A",
                       "a. x IN A 1.2.3.4",
                       "a. 1 IN MX a.",
                       "a. 1 IN BOGUS 1",
                       "a. 1 IN TYPE300 1",
                       "a. 1 IN TXT \"open",
                       "a. 1 IN \\# 2 00",
                       "a. 1 IN SOA a. b. 1 2 3",
                       "a. 1 IN TYPE9 \\# 2 0g00",
                       "a. 1 IN MX \\# 3 000a00 extra",
                       "a. 1 IN NS \\# 2 c000",
                       "a. 4294967296 IN A 1.2.3.4",
                       "a. 1 IN TXT \\# 2 0561",
                       "a. 1 IN A \\# 3 010203",
                       "a. 1 IN OPT \\# 0"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    ck_assert_msg(dns_rr_from_text(&rr, bad[i]) == DNS_ERR_SYNTAX, "accepted %s", bad[i]);
}
END_TEST

START_TEST(header_flags_each_bit) {
  for (int bit = 0; bit < 16; bit++) {
    GByteArray *b = hex_bytes("0000 0000 0000 0000 0000 0000");
    b->data[2] = (uint8_t)((1u << bit) >> 8);
    b->data[3] = (uint8_t)(1u << bit);
    dns_msg m;
    ck_assert_int_eq(dns_msg_decode(&m, b->data, b->len), DNS_OK);
    GByteArray *back = encode(&m, 0);
    ck_assert_msg(back->len == 12 && memcmp(back->data, b->data, 12) == 0, "bit %d", bit);
    dns_msg_clear(&m);
    g_byte_array_free(b, TRUE);
    g_byte_array_free(back, TRUE);
  }
}
END_TEST

START_TEST(edns_options_opaque) {
  GByteArray *b = hex_bytes("abcd 0100 0001 0000 0000 0001 076578616d706c6503636f6d00 0001 0001 "
                            "00 0029 04d0 0f00 8123 0010 000a 0008 0102030405060708 fde9 0000");
  dns_msg m;
  ck_assert_int_eq(dns_msg_decode(&m, b->data, b->len), DNS_OK);
  ck_assert(m.edns.present);
  ck_assert_uint_eq(m.edns.udp_size, 1232);
  ck_assert_uint_eq(m.rcode, 0xF0);
  ck_assert_uint_eq(m.edns.version, 0);
  ck_assert(m.edns.do_bit);
  ck_assert_uint_eq(m.edns.z, 0x0123);
  ck_assert_uint_eq(m.edns.options->len, 16);
  ck_assert_uint_eq(dns_msg_count(&m, DNS_SEC_ADDITIONAL), 0);
  GByteArray *back = encode(&m, 0);
  char *g = to_hex(back->data, back->len), *w = to_hex(b->data, b->len);
  ck_assert_msg(strcmp(g, w) == 0, "got %s want %s", g, w);
  g_free(g);
  g_free(w);
  dns_msg_clear(&m);
  g_byte_array_free(b, TRUE);
  g_byte_array_free(back, TRUE);
}
END_TEST

/* ---- compression ------------------------------------------------------- */

START_TEST(compression_layout) {
  /* example.com MX answer with glue, offsets derived by hand (RFC 1035
   * §4.1.4): the question name is at 12 (0x0c); the MX owner points there;
   * "mail" is written at 43 (0x2b) then points at 12; the glue owner points
   * at 43; "MAIL" differs in case, so it is written again at 66 and only
   * its "example.com" suffix points at 12. */
  const char *want = "1234 8180 0001 0001 0000 0002 "
                     "07 6578616d706c65 03 636f6d 00 000f 0001 "
                     "c00c 000f 0001 00000e10 0009 000a 04 6d61696c c00c "
                     "c02b 0001 0001 0000012c 0004 c0000201 "
                     "04 4d41494c c00c 0001 0001 0000012c 0004 c0000202";
  dns_msg m;
  dns_msg_init(&m);
  m.id = 0x1234;
  m.qr = m.rd = m.ra = true;
  dns_name q = dns_name_lit("example.com");
  dns_msg_add_question(&m, &q, DNS_T_MX, DNS_C_IN);
  dns_rr rr;
  ck_assert_int_eq(dns_rr_from_text(&rr, "example.com. 3600 IN MX 10 mail.example.com."), DNS_OK);
  dns_msg_take_rr(&m, DNS_SEC_ANSWER, &rr);
  ck_assert_int_eq(dns_rr_from_text(&rr, "mail.example.com. 300 IN A 192.0.2.1"), DNS_OK);
  dns_msg_take_rr(&m, DNS_SEC_ADDITIONAL, &rr);
  ck_assert_int_eq(dns_rr_from_text(&rr, "MAIL.example.com. 300 IN A 192.0.2.2"), DNS_OK);
  dns_msg_take_rr(&m, DNS_SEC_ADDITIONAL, &rr);
  GByteArray *got = encode(&m, 0), *wb = hex_bytes(want);
  char *g = to_hex(got->data, got->len), *w = to_hex(wb->data, wb->len);
  ck_assert_msg(strcmp(g, w) == 0, "got  %s\nwant %s", g, w);
  g_free(g);
  g_free(w);
  /* Without compression every name is written in full. */
  GByteArray *full = encode(&m, DNS_ENC_NO_COMPRESS);
  ck_assert_uint_eq(full->len, got->len + (13 - 2) + (18 - 7) + (18 - 2) + (18 - 7));
  g_byte_array_free(full, TRUE);
  g_byte_array_free(got, TRUE);
  g_byte_array_free(wb, TRUE);
  dns_msg_clear(&m);
}
END_TEST

START_TEST(compression_many_offsets) {
  /* More label offsets than the encoder keeps inline (64): 80 MX
   * exchanges "mxNN.example.com." (one new label each) and then 80 A
   * records owned by them, whose owners must all become pointers, the
   * later ones to offsets kept past the inline part. */
  dns_msg m;
  dns_msg_init(&m);
  ck_assert_uint_eq(dns_msg_qdcount(&m) + dns_msg_count(&m, DNS_SEC_ANSWER), 0);
  m.id = 7;
  m.qr = true;
  dns_name q = dns_name_lit("example.com");
  dns_msg_add_question(&m, &q, DNS_T_MX, DNS_C_IN);
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < 80; i++) {
      char text[80];
      if (s == 0)
        g_snprintf(text, sizeof text, "example.com. 60 IN MX %d mx%02d.example.com.", i, i);
      else
        g_snprintf(text, sizeof text, "mx%02d.example.com. 60 IN A 192.0.2.%d", i, i);
      dns_rr rr;
      ck_assert_int_eq(dns_rr_from_text(&rr, text), DNS_OK);
      dns_msg_take_rr(&m, s == 0 ? DNS_SEC_ANSWER : DNS_SEC_ADDITIONAL, &rr);
    }
  GByteArray *got = encode(&m, 0), *full = encode(&m, DNS_ENC_NO_COMPRESS);
  /* header 12, question 13 + 4, each MX 2 + 10 + (2 + 5 + 2), each A 2 + 10 + 4 */
  ck_assert_uint_eq(got->len, 12 + 17 + 80 * 21 + 80 * 16);
  ck_assert_uint_eq(full->len, 12 + 17 + 80 * (13 + 10 + 2 + 18) + 80 * (18 + 10 + 4));
  for (int k = 0; k < 2; k++) {
    GByteArray *b = k == 0 ? got : full;
    dns_msg d;
    ck_assert_int_eq(dns_msg_decode(&d, b->data, b->len), DNS_OK);
    GString *tm = g_string_new(NULL), *td = g_string_new(NULL);
    dns_msg_append_text(&m, tm);
    dns_msg_append_text(&d, td);
    ck_assert_msg(strcmp(tm->str, td->str) == 0, "got %s\nwant %s", td->str, tm->str);
    g_string_free(tm, TRUE);
    g_string_free(td, TRUE);
    dns_msg_clear(&d);
  }
  g_byte_array_free(got, TRUE);
  g_byte_array_free(full, TRUE);
  dns_msg_clear(&m);
}
END_TEST

START_TEST(query_encoded_directly) {
  /* dns_msg_encode_query writes what dns_msg_encode writes for
   * dns_resp_make_query's message: every name, type, RD and EDNS size. */
  const char *names[] = {".", "com", "example.com", "MX.D03.Test", "a.b.c.d.e.f.g.example.org"};
  const uint16_t types[] = {DNS_T_A, DNS_T_MX, DNS_T_AAAA, 4000};
  const uint16_t sizes[] = {0, 512, 1232, 4096};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    for (size_t j = 0; j < G_N_ELEMENTS(types); j++)
      for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++)
        for (int rd = 0; rd < 2; rd++) {
          dns_name n = dns_name_lit(names[i]);
          dns_msg q;
          dns_msg_init(&q);
          q.id = (uint16_t)(0xBEEF + i * 7 + j);
          q.rd = rd;
          dns_msg_add_question(&q, &n, types[j], DNS_C_IN);
          if (sizes[k])
            dns_msg_set_edns(&q, sizes[k], false);
          GByteArray *want = encode(&q, 0);
          uint8_t buf[DNS_UDP_MIN];
          size_t got = dns_msg_encode_query(q.id, &n, types[j], rd, sizes[k], buf, sizeof buf);
          ck_assert_uint_eq(got, want->len);
          ck_assert_msg(memcmp(buf, want->data, got) == 0, "%s type %u size %u rd %d", names[i],
                        types[j], sizes[k], rd);
          /* one octet short of room: nothing written */
          ck_assert_uint_eq(dns_msg_encode_query(q.id, &n, types[j], rd, sizes[k], buf, got - 1),
                            0);
          g_byte_array_free(want, TRUE);
          dns_msg_clear(&q);
        }
}
END_TEST

START_TEST(srv_target_not_compressed) {
  dns_msg m;
  dns_msg_init(&m);
  dns_name q = dns_name_lit("_sip._tcp.example.com");
  dns_msg_add_question(&m, &q, DNS_T_SRV, DNS_C_IN);
  dns_rr rr;
  ck_assert_int_eq(dns_rr_from_text(&rr, "_sip._tcp.example.com. 1 IN SRV 1 2 3 example.com."),
                   DNS_OK);
  dns_msg_take_rr(&m, DNS_SEC_ANSWER, &rr);
  GByteArray *b = encode(&m, 0);
  /* header 12 + qname 23 + 4, owner pointer 2 + 10, rdata 6 + 13 (full) */
  ck_assert_uint_eq(b->len, 12 + 23 + 4 + 2 + 10 + 6 + 13);
  g_byte_array_free(b, TRUE);
  dns_msg_clear(&m);
}
END_TEST

/* ---- truncation -------------------------------------------------------- */

static void big_answer(dns_msg *m, int n_answer, int n_additional, bool edns) {
  dns_msg_init(m);
  m->qr = true;
  dns_name q = dns_name_lit("big.example.com");
  dns_msg_add_question(m, &q, DNS_T_A, DNS_C_IN);
  for (int i = 0; i < n_answer; i++) {
    char t[80];
    g_snprintf(t, sizeof t, "big.example.com. 60 IN A 10.0.%d.%d", i / 250, i % 250);
    dns_rr rr;
    ck_assert_int_eq(dns_rr_from_text(&rr, t), DNS_OK);
    dns_msg_take_rr(m, DNS_SEC_ANSWER, &rr);
  }
  for (int i = 0; i < n_additional; i++) {
    char t[80];
    g_snprintf(t, sizeof t, "x%d.example.com. 60 IN A 10.1.0.%d", i, i % 250);
    dns_rr rr;
    ck_assert_int_eq(dns_rr_from_text(&rr, t), DNS_OK);
    dns_msg_take_rr(m, DNS_SEC_ADDITIONAL, &rr);
  }
  if (edns)
    dns_msg_set_edns(m, 4096, false);
}

START_TEST(truncation_answer_sets_tc) {
  /* 40 A records of 16 octets each after 12 + 21 = 33: 673 octets. */
  dns_msg m;
  big_answer(&m, 40, 0, false);
  uint8_t buf[65535];
  dns_enc_result res;
  ck_assert_int_eq(dns_msg_encode(&m, buf, 512, 0, &res), DNS_ERR_NOSPACE);
  ck_assert_int_eq(dns_msg_encode(&m, buf, 512, DNS_ENC_TRUNCATE, &res), DNS_OK);
  ck_assert(res.tc);
  ck_assert_uint_le(res.len, 512);
  /* The whole RRset is dropped (RFC 2181 §9): the answer is empty. */
  ck_assert_uint_eq(res.dropped, 40);
  dns_msg d;
  ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
  ck_assert(d.tc);
  ck_assert_uint_eq(dns_msg_count(&d, DNS_SEC_ANSWER), 0);
  ck_assert_uint_eq(dns_msg_qdcount(&d), 1);
  dns_msg_clear(&d);
  /* It fits without truncation at 673. */
  ck_assert_int_eq(dns_msg_encode(&m, buf, 673, DNS_ENC_TRUNCATE, &res), DNS_OK);
  ck_assert(!res.tc);
  ck_assert_uint_eq(res.len, 673);
  ck_assert_int_eq(dns_msg_encode(&m, buf, 672, DNS_ENC_TRUNCATE, &res), DNS_OK);
  ck_assert(res.tc);
  dns_msg_clear(&m);
}
END_TEST

START_TEST(truncation_additional_no_tc_opt_kept) {
  dns_msg m;
  big_answer(&m, 10, 40, true);
  uint8_t buf[65535];
  dns_enc_result res;
  ck_assert_int_eq(dns_msg_encode(&m, buf, 512, DNS_ENC_TRUNCATE, &res), DNS_OK);
  ck_assert(!res.tc);
  ck_assert_uint_le(res.len, 512);
  dns_msg d;
  ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
  ck_assert(!d.tc);
  ck_assert_uint_eq(dns_msg_count(&d, DNS_SEC_ANSWER), 10);
  guint add = dns_msg_count(&d, DNS_SEC_ADDITIONAL);
  ck_assert_uint_gt(add, 0);
  ck_assert_uint_lt(add, 40);
  ck_assert_uint_eq(res.dropped, 40 - add);
  ck_assert(d.edns.present); /* RFC 6891 §7 */
  dns_msg_clear(&d);
  /* Every limit from the minimum up: never over the limit, always decodable. */
  for (size_t lim = 12 + 21 + 11; lim < 1200; lim++) {
    dns_err e = dns_msg_encode(&m, buf, lim, DNS_ENC_TRUNCATE, &res);
    ck_assert_msg(e == DNS_OK, "limit %zu: %s", lim, dns_err_name(e));
    ck_assert_uint_le(res.len, lim);
    ck_assert_int_eq(dns_msg_decode(&d, buf, res.len), DNS_OK);
    ck_assert(d.edns.present);
    ck_assert(d.tc == res.tc);
    dns_msg_clear(&d);
  }
  ck_assert_int_eq(dns_msg_encode(&m, buf, 12 + 21 + 10, DNS_ENC_TRUNCATE, &res), DNS_ERR_NOSPACE);
  dns_msg_clear(&m);
}
END_TEST

START_TEST(udp_limit) {
  dns_msg q;
  dns_msg_init(&q);
  ck_assert_uint_eq(dns_msg_udp_limit(&q, 1232), 512);
  dns_msg_set_edns(&q, 4096, false);
  ck_assert_uint_eq(dns_msg_udp_limit(&q, 1232), 1232);
  dns_msg_set_edns(&q, 100, false);
  ck_assert_uint_eq(dns_msg_udp_limit(&q, 1232), 512);
  dns_msg_set_edns(&q, 800, false);
  ck_assert_uint_eq(dns_msg_udp_limit(&q, 1232), 800);
  dns_msg_clear(&q);
}
END_TEST

/* ---- TCP framing ------------------------------------------------------- */

START_TEST(tcp_deframe_every_split) {
  dns_msg m;
  build_all_types(&m);
  GByteArray *one = encode(&m, 0);
  GByteArray *stream = g_byte_array_new();
  dns_tcp_frame(one->data, one->len, stream);
  dns_tcp_frame(one->data, 12, stream); /* a header-only second message */
  dns_tcp_frame(NULL, 0, stream);       /* and an empty frame */
  /* Every split point into two feeds, and byte by byte. */
  for (guint split = 0; split <= stream->len + 1; split++) {
    dns_tcp *d = dns_tcp_new();
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    if (split == stream->len + 1) {
      for (guint i = 0; i < stream->len; i++) {
        dns_tcp_feed(d, stream->data + i, 1);
        GBytes *x;
        while ((x = dns_tcp_next(d)))
          g_ptr_array_add(got, x);
      }
    } else {
      dns_tcp_feed(d, stream->data, split);
      GBytes *x;
      while ((x = dns_tcp_next(d)))
        g_ptr_array_add(got, x);
      dns_tcp_feed(d, stream->data + split, stream->len - split);
      while ((x = dns_tcp_next(d)))
        g_ptr_array_add(got, x);
    }
    ck_assert_msg(got->len == 3, "split %u: got %u messages want 3", split, got->len);
    gsize l0, l1, l2;
    const uint8_t *p0 = g_bytes_get_data(g_ptr_array_index(got, 0), &l0);
    g_bytes_get_data(g_ptr_array_index(got, 1), &l1);
    g_bytes_get_data(g_ptr_array_index(got, 2), &l2);
    ck_assert(l0 == one->len && memcmp(p0, one->data, l0) == 0);
    ck_assert_uint_eq(l1, 12);
    ck_assert_uint_eq(l2, 0);
    ck_assert_uint_eq(dns_tcp_pending(d), 0);
    g_ptr_array_free(got, TRUE);
    dns_tcp_free(d);
  }
  dns_tcp *d = dns_tcp_new();
  dns_tcp_feed(d, stream->data, 5);
  ck_assert_ptr_null(dns_tcp_next(d));
  ck_assert_uint_eq(dns_tcp_pending(d), 5);
  dns_tcp_free(d);
  dns_tcp_free(NULL);
  g_byte_array_free(stream, TRUE);
  g_byte_array_free(one, TRUE);
  dns_msg_clear(&m);
}
END_TEST

/* ---- fuzz -------------------------------------------------------------- */

static uint64_t xs(uint64_t *s) { /* xorshift64*, deterministic test stream */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

START_TEST(mutation_fuzz) {
  dns_msg m;
  build_all_types(&m);
  GByteArray *seeds[4];
  seeds[0] = encode(&m, 0);
  seeds[1] = encode(&m, DNS_ENC_NO_COMPRESS);
  dns_msg_clear(&m);
  big_answer(&m, 5, 5, true);
  seeds[2] = encode(&m, 0);
  dns_msg_clear(&m);
  seeds[3] = hex_bytes("1234 0100 0003 0000 0000 0001 0161 00 0001 0001 0162 c00c 0001 0001 "
                       "0163 c013 0001 0001 00 0029 04d0 0000 8000 0008 000a 0004 01020304");
  uint64_t st = 0x9E3779B97F4A7C15ULL;
  uint8_t pkt[4096], buf[65535];
  unsigned ok = 0, stable = 0;
  const int iters = 300000;
  for (int it = 0; it < iters; it++) {
    const GByteArray *seed = seeds[it % 4];
    g_assert(seed->len < sizeof pkt);
    size_t len = seed->len;
    memcpy(pkt, seed->data, len);
    int nmut = 1 + (int)(xs(&st) % 4);
    for (int k = 0; k < nmut; k++) {
      uint64_t r = xs(&st);
      size_t at = (size_t)(r >> 8) % len;
      switch (r % 6) {
      case 0:
        pkt[at] ^= (uint8_t)(1u << ((r >> 40) % 8));
        break;
      case 1:
        pkt[at] = (uint8_t)(r >> 32);
        break;
      case 2:
        pkt[at] = (uint8_t)(0xC0 | ((r >> 32) & 1));
        break; /* pointer-ish */
      case 3:
        len = at > 12 ? at : len;
        break; /* truncate */
      case 4:
        if (at + 1 < len)
          pkt[at + 1] = (uint8_t)(r >> 24) % 64;
        break;
      default:
        if (len < sizeof pkt)
          pkt[len++] = (uint8_t)(r >> 16);
        break;
      }
    }
    uint8_t *copy = g_memdup2(pkt, len); /* exact size: ASan catches over-reads */
    dns_msg d;
    if (dns_msg_decode(&d, copy, len) == DNS_OK) {
      ok++;
      /* What we accept we must re-encode, and that must decode the same. */
      dns_enc_result res;
      ck_assert_int_eq(dns_msg_encode(&d, buf, sizeof buf, 0, &res), DNS_OK);
      dns_msg d2;
      ck_assert_int_eq(dns_msg_decode(&d2, buf, res.len), DNS_OK);
      char *a = msg_text(&d), *b = msg_text(&d2);
      ck_assert_msg(strcmp(a, b) == 0, "iteration %d: re-encode changed\n%s\n%s", it, a, b);
      stable++;
      g_free(a);
      g_free(b);
      dns_msg_clear(&d2);
    }
    dns_msg_clear(&d);
    g_free(copy);
  }
  /* The loop must exercise both paths. */
  ck_assert_uint_gt(ok, 1000);
  ck_assert_uint_lt(ok, (unsigned)iters);
  ck_assert_uint_eq(stable, ok);
  printf("mutation fuzz: %u of %d mutated packets decoded and round-tripped\n", ok, iters);
  for (int i = 0; i < 4; i++)
    g_byte_array_free(seeds[i], TRUE);
}
END_TEST

START_TEST(err_names) {
  ck_assert_str_eq(dns_err_name(DNS_ERR_PTR_LOOP), "ptr_loop");
  ck_assert_str_eq(dns_err_name((dns_err)999), "unknown");
  for (int e = 0; e < DNS_ERR_COUNT_; e++)
    ck_assert_str_ne(dns_err_name((dns_err)e), "unknown");
  char b[16];
  ck_assert_str_eq(dns_type_to_text(65280, b), "TYPE65280");
  ck_assert_str_eq(dns_rcode_to_text(16, b), "BADVERS");
  ck_assert_str_eq(dns_rcode_to_text(99, b), "RCODE99");
  ck_assert_str_eq(dns_class_to_text(3, b), "CH");
  uint16_t t;
  ck_assert(dns_type_from_text("mx", &t) && t == DNS_T_MX);
  ck_assert(dns_type_from_text("TYPE65280", &t) && t == 65280);
  ck_assert(!dns_type_from_text("TYPE65536", &t));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("dns_wire");
  TCase *tc = tcase_create("names");
  tcase_add_test(tc, name_text);
  tcase_add_test(tc, name_text_every_octet);
  tcase_add_test(tc, name_length_limits);
  tcase_add_test(tc, name_compare_and_case);
  tcase_add_test(tc, name_fold_against_rule);
  tcase_add_test(tc, err_names);
  suite_add_tcase(s, tc);
  tc = tcase_create("decode");
  tcase_add_test(tc, malformed_packets);
  tcase_add_test(tc, compressed_chain_ok);
  tcase_add_test(tc, questions_in_place_and_beyond);
  tcase_add_test(tc, header_flags_each_bit);
  tcase_add_test(tc, edns_options_opaque);
  suite_add_tcase(s, tc);
  tc = tcase_create("roundtrip");
  tcase_add_test(tc, roundtrip_all_types);
  tcase_add_test(tc, rr_text_rows);
  tcase_add_test(tc, compression_layout);
  tcase_add_test(tc, compression_many_offsets);
  tcase_add_test(tc, query_encoded_directly);
  tcase_add_test(tc, srv_target_not_compressed);
  suite_add_tcase(s, tc);
  tc = tcase_create("truncation");
  tcase_add_test(tc, truncation_answer_sets_tc);
  tcase_add_test(tc, truncation_additional_no_tc_opt_kept);
  tcase_add_test(tc, udp_limit);
  suite_add_tcase(s, tc);
  tc = tcase_create("tcp");
  tcase_add_test(tc, tcp_deframe_every_split);
  suite_add_tcase(s, tc);
  tc = tcase_create("fuzz");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, mutation_fuzz);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
