/* Tests for DKIM (RFC 6376, RFC 8463, RFC 8301): tag lists, header and body
 * canonicalisation tables (RFC 6376 §3.4.5 and more, the body fed at every
 * split), the RFC 8463 Appendix A example verifying under both of its
 * signatures (fed whole, byte by byte and at every split point), our own
 * signatures (RSA and Ed25519, every canonicalisation pair, oversigning)
 * verifying, tampering failing, key and signature errors with their
 * results, DNS answers out of order. With --dkimpy: python3-dkim verifies
 * what we sign and we verify what it signs (exit 77 without dkimpy). */
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "auth_fakedns.h"
#include "dkim_canon.h"
#include "dkim_key.h"
#include "dkim_sign.h"
#include "dkim_tag.h"
#include "dkim_verify.h"
#include "testutil.h"

/* ---- RFC 8463 Appendix A ---- */

static const char rfc8463_msg[] = "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
                                  " d=football.example.com; i=@football.example.com;\r\n"
                                  " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
                                  " subject : date : message-id : from : subject : date;\r\n"
                                  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                                  " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
                                  " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
                                  "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
                                  " d=football.example.com; i=@football.example.com;\r\n"
                                  " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
                                  " date : message-id : from : subject : date;\r\n"
                                  " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
                                  " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
                                  " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
                                  " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
                                  "From: Joe SixPack <joe@football.example.com>\r\n"
                                  "To: Suzie Q <suzie@shopping.example.net>\r\n"
                                  "Subject: Is dinner ready?\r\n"
                                  "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                                  "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
                                  "\r\n"
                                  "Hi.\r\n"
                                  "\r\n"
                                  "We lost the game.  Are you hungry yet?\r\n"
                                  "\r\n"
                                  "Joe.\r\n";

static const char rfc8463_ed_rec[] =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rfc8463_rsa_rec[] =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR"
    "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC"
    "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3"
    "Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

static const int64_t NOW = 1790910000;

/* Publishes TEXT as a TXT record at NAME (split into 255-octet strings). */
static void publish(auth_fakedns *d, const char *name, const char *text) {
  dns_name n = dns_name_lit(name);
  dns_rr rr;
  dns_rr_init(&rr, &n, DNS_T_TXT, 300);
  size_t len = strlen(text);
  for (size_t off = 0; off < len; off += 255)
    ck_assert(dns_rr_txt_add(&rr, (const uint8_t *)text + off, MIN(255, len - off)) == DNS_OK);
  auth_fakedns_add(d, &rr);
  dns_rr_clear(&rr);
}

static auth_fakedns *rfc_dns(void) {
  auth_fakedns *d = auth_fakedns_new();
  publish(d, "brisbane._domainkey.football.example.com", rfc8463_ed_rec);
  publish(d, "test._domainkey.football.example.com", rfc8463_rsa_rec);
  return d;
}

/* Verifies MSG fed in pieces of at most CHUNK octets (0 = whole; a value
 * above the length = split once at CHUNK - len... see feed_split). Returns
 * "result[:reason],..." for each signature. Answers queries in reverse
 * order when REVERSE. */
static char *verify_split(auth_fakedns *dns, const char *msg, size_t len, size_t split,
                          bool bytewise, bool reverse) {
  dkim_verify *v = dkim_verify_new(NULL, NULL);
  if (bytewise) {
    for (size_t i = 0; i < len; i++)
      dkim_verify_feed(v, msg + i, 1);
  } else {
    dkim_verify_feed(v, msg, split);
    dkim_verify_feed(v, msg + split, len - split);
  }
  ck_assert_int_eq(dkim_verify_state_get(v), DKIM_ST_RECEIVING);
  dkim_verify_end(v, NOW);
  GArray *pending = g_array_new(FALSE, FALSE, sizeof(auth_dns_query));
  dkim_event ev;
  for (;;) {
    while (dkim_verify_next(v, &ev) && ev.kind == DKIM_EV_DNS_QUERY)
      g_array_append_val(pending, ev.query);
    if (dkim_verify_state_get(v) == DKIM_ST_DONE)
      break;
    ck_assert_int_eq(dkim_verify_state_get(v), DKIM_ST_WAIT_DNS);
    ck_assert_uint_gt(pending->len, 0);
    guint k = reverse ? pending->len - 1 : 0;
    auth_dns_query q = g_array_index(pending, auth_dns_query, k);
    g_array_remove_index(pending, k);
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st = auth_fakedns_lookup(dns, &q.name, q.type, rrs);
    dkim_verify_answer(v, q.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  GString *out = g_string_new(NULL);
  for (size_t i = 0; i < dkim_verify_count(v); i++) {
    const dkim_sig_result *r = dkim_verify_get(v, i);
    g_string_append_printf(out, "%s%s%s%s", i ? "," : "", dkim_result_name(r->result),
                           r->reason ? ":" : "", r->reason ? r->reason : "");
  }
  if (dkim_verify_count(v) == 0)
    g_string_append(out, dkim_result_name(dkim_verify_summary(v)));
  g_array_free(pending, TRUE);
  dkim_verify_free(v);
  return g_string_free(out, FALSE);
}

static char *verify_msg(auth_fakedns *dns, const char *msg) {
  return verify_split(dns, msg, strlen(msg), 0, false, false);
}

START_TEST(test_rfc8463_example) {
  auth_fakedns *d = rfc_dns();
  size_t len = strlen(rfc8463_msg);
  char *whole = verify_split(d, rfc8463_msg, len, 0, false, false);
  ck_assert_str_eq(whole, "pass,pass");
  char *bytes = verify_split(d, rfc8463_msg, len, 0, true, true);
  ck_assert_str_eq(bytes, whole);
  for (size_t s = 1; s < len; s++) {
    char *got = verify_split(d, rfc8463_msg, len, s, false, s % 2);
    ck_assert_msg(strcmp(got, whole) == 0, "split at %zu: got %s want %s", s, got, whole);
    g_free(got);
  }
  /* Bare LF line ends verify too. */
  char **lines = g_strsplit(rfc8463_msg, "\r\n", -1);
  char *lf = g_strjoinv("\n", lines);
  char *got = verify_msg(d, lf);
  ck_assert_str_eq(got, "pass,pass");
  g_free(got);
  g_free(lf);
  g_strfreev(lines);
  g_free(whole);
  g_free(bytes);
  auth_fakedns_free(d);
}
END_TEST

static char *replace1(const char *s, const char *from, const char *to) {
  const char *p = strstr(s, from);
  ck_assert_msg(p != NULL, "no %s", from);
  return g_strdup_printf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

START_TEST(test_rfc8463_tampered_and_refused) {
  auth_fakedns *d = rfc_dns();
  static const struct {
    const char *from, *to, *want;
  } rows[] = {
      {"hungry", "hungrY", "fail:body hash did not verify,fail:body hash did not verify"},
      {"dinner", "lunch", "fail:signature did not verify,fail:signature did not verify"},
      {"From: Joe", "From: Mallory <m@evil.example>\r\nFrom: Joe",
       "fail:signature did not verify,fail:signature did not verify"},
      {"Message-ID:", "X-Mailer: any\r\nMessage-ID:", "pass,pass"},
      {"a=rsa-sha256", "a=rsa-sha1", "pass,permerror:policy: rsa-sha1 is refused (RFC 8301)"},
      {"t=1528637909; h=from : to :", "t=1528637909; x=1528637910; h=from : to :",
       "fail:signature expired,pass"},
      {"i=@football.example.com", "i=@example.net", "neutral:i= is not within d=,pass"},
      {"h=from : to :\r\n subject : date : message-id : from : subject : date;", "h=to : subject;",
       "neutral:From is not signed,pass"},
      {"s=brisbane;", "s=brisbane; s=brisbane;", "neutral:signature syntax error,pass"},
      {"v=1; a=ed25519", "v=2; a=ed25519", "neutral:incompatible version,pass"},
      {"s=brisbane;", "s=nokey;", "permerror:no key for signature,pass"},
      {"s=brisbane;", "s=slow;", "temperror:key lookup failed,pass"},
      {"s=brisbane;", "s=revoked;", "permerror:key revoked,pass"},
      {"s=brisbane;", "s=test;", "permerror:key type does not match the algorithm,pass"},
      {"i=@football.example.com;\r\n q=dns/txt; s=brisbane;",
       "i=@news.football.example.com;\r\n q=dns/txt; s=strict;",
       "permerror:key is strict (t=s) and i= is a subdomain,pass"},
      {"s=brisbane;", "s=web;", "permerror:key is not for email,pass"},
  };
  publish(d, "revoked._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=");
  publish(d, "strict._domainkey.football.example.com",
          "v=DKIM1; k=ed25519; t=s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  publish(d, "web._domainkey.football.example.com",
          "v=DKIM1; k=ed25519; s=tlsrpt; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  dns_name slow = dns_name_lit("slow._domainkey.football.example.com");
  auth_fakedns_fail(d, &slow, AUTH_DNS_TIMEOUT);
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *m = replace1(rfc8463_msg, rows[i].from, rows[i].to);
    char *got = verify_msg(d, m);
    ck_assert_msg(strcmp(got, rows[i].want) == 0, "%s -> %s: got %s want %s", rows[i].from,
                  rows[i].to, got, rows[i].want);
    g_free(got);
    g_free(m);
  }
  char *none = verify_msg(d, "From: a@example.com\r\n\r\nhi\r\n");
  ck_assert_str_eq(none, "none");
  g_free(none);
  auth_fakedns_free(d);
}
END_TEST

/* ---- tag lists and canonicalisation ---- */

START_TEST(test_tag_list) {
  static const struct {
    const char *in;
    bool ok;
    const char *a;
  } rows[] = {
      {"a=1; b=2", true, "1"},   {"a=1;b=2;", true, "1"},    {" a = x y ; b=2", true, "x y"},
      {"a=1; a=2", false, NULL}, {"a=1;; b=2", false, NULL}, {"=1", false, NULL},
      {"1a=1", false, NULL},     {"a", false, NULL},         {"a=\r\n\t1", true, "1"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    dkim_tag_list tl;
    bool ok = dkim_tag_list_parse(&tl, rows[i].in, strlen(rows[i].in), false);
    ck_assert_msg(ok == rows[i].ok, "%s: got %d want %d", rows[i].in, ok, rows[i].ok);
    if (ok)
      ck_assert_str_eq(dkim_tag_get(&tl, "a"), rows[i].a);
    dkim_tag_list_clear(&tl);
  }
}
END_TEST

static void gs_out(void *ud, const void *d, size_t n) { g_string_append_len(ud, d, (gssize)n); }

static void gs_trace(void *ud, const char *line) { g_string_append_printf(ud, "%s\n", line); }

static char *body_canon(dkim_canon c, const char *in, size_t split, int64_t limit) {
  GString *o = g_string_new(NULL);
  dkim_body *b = dkim_body_new(c, limit, gs_out, o);
  size_t len = strlen(in);
  if (split == (size_t)-1) {
    for (size_t i = 0; i < len; i++)
      dkim_body_feed(b, in + i, 1);
  } else {
    dkim_body_feed(b, in, split);
    dkim_body_feed(b, in + split, len - split);
  }
  dkim_body_end(b);
  dkim_body_free(b);
  return g_string_free(o, FALSE);
}

START_TEST(test_canon_tables) {
  /* RFC 6376 §3.4.5 */
  static const struct {
    const char *field;
    const char *simple, *relaxed;
  } hrows[] = {
      {"A: X\r\n", "A: X\r\n", "a:X\r\n"},
      {"B : Y\t\r\n\tZ  \r\n", "B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n"},
      {"Subject:   Hello   World  \r\n", "Subject:   Hello   World  \r\n",
       "subject:Hello World\r\n"},
      {"X-Empty:\r\n", "X-Empty:\r\n", "x-empty:\r\n"},
      {"To: a@b,\r\n  c@d\r\n", "To: a@b,\r\n  c@d\r\n", "to:a@b, c@d\r\n"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(hrows); i++) {
    GString *s = g_string_new(NULL), *r = g_string_new(NULL);
    dkim_canon_header(DKIM_CANON_SIMPLE, hrows[i].field, strlen(hrows[i].field), false, s);
    dkim_canon_header(DKIM_CANON_RELAXED, hrows[i].field, strlen(hrows[i].field), false, r);
    ck_assert_msg(strcmp(s->str, hrows[i].simple) == 0, "simple %s: got %s", hrows[i].field,
                  s->str);
    ck_assert_msg(strcmp(r->str, hrows[i].relaxed) == 0, "relaxed %s: got %s want %s",
                  hrows[i].field, r->str, hrows[i].relaxed);
    g_string_free(s, TRUE);
    g_string_free(r, TRUE);
  }
  static const struct {
    const char *in, *simple, *relaxed;
  } brows[] = {
      {" C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n", " C\r\nD E\r\n"}, /* §3.4.5 */
      {"", "\r\n", ""},
      {"\r\n\r\n", "\r\n", ""},
      {"abc", "abc\r\n", "abc\r\n"},
      {"a\r\n \t \r\n\r\n", "a\r\n \t \r\n", "a\r\n"},
      {"a\r\n\r\nb\r\n\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
      {"x\ry\r\n", "x\ry\r\n", "x\ry\r\n"},
      {"tail  \t", "tail  \t\r\n", "tail\r\n"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(brows); i++) {
    size_t len = strlen(brows[i].in);
    for (size_t sp = 0; sp <= len + 1; sp++) {
      size_t split = sp == len + 1 ? (size_t)-1 : sp;
      char *s = body_canon(DKIM_CANON_SIMPLE, brows[i].in, split, -1);
      char *r = body_canon(DKIM_CANON_RELAXED, brows[i].in, split, -1);
      ck_assert_msg(strcmp(s, brows[i].simple) == 0, "simple row %zu split %zu: got \"%s\"", i, sp,
                    s);
      ck_assert_msg(strcmp(r, brows[i].relaxed) == 0, "relaxed row %zu split %zu: got \"%s\"", i,
                    sp, r);
      g_free(s);
      g_free(r);
    }
  }
  char *lim = body_canon(DKIM_CANON_SIMPLE, "hello\r\nworld\r\n", 3, 7);
  ck_assert_str_eq(lim, "hello\r\n");
  g_free(lim);
  /* §5.4.2: instances from the bottom; names beyond the count add nothing. */
  const char *fields[] = {"From: a\r\n", "Subject: 1\r\n", "Subject: 2\r\n", "To: x\r\n"};
  size_t lens[4];
  for (int i = 0; i < 4; i++)
    lens[i] = strlen(fields[i]);
  const char *names[] = {"subject", "from", "subject", "subject", "cc"};
  GArray *sel = dkim_canon_select(names, 5, fields, lens, 4);
  int want[] = {2, 0, 1, -1, -1};
  for (int i = 0; i < 5; i++)
    ck_assert_msg(g_array_index(sel, int, i) == want[i], "pick %d: got %d want %d", i,
                  g_array_index(sel, int, i), want[i]);
  g_array_free(sel, TRUE);
}
END_TEST

/* ---- our signatures ---- */

static const char sample_msg[] = "From: Alice <alice@example.com>\r\n"
                                 "To: Bob <bob@example.net>\r\n"
                                 "Subject:  Lunch   tomorrow?\r\n"
                                 "Date: Thu, 26 Nov 2026 07:00:00 +0000\r\n"
                                 "Message-ID: <m1@example.com>\r\n"
                                 "MIME-Version: 1.0\r\n"
                                 "Content-Type: text/plain; charset=us-ascii\r\n"
                                 "\r\n"
                                 "Hi Bob,  \r\n"
                                 "\r\n"
                                 "are you free\t tomorrow?\r\n"
                                 "\r\n"
                                 "\r\n";

/* RFC 8032 §7.1 test 1 seed: a fixed Ed25519 key. */
static const uint8_t ed_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

static dkim_key *rsa_key(unsigned bits) {
  EVP_PKEY *p = EVP_RSA_gen(bits);
  ck_assert(p != NULL);
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL);
  char *pem;
  long n = BIO_get_mem_data(b, &pem);
  dkim_key *k = dkim_key_from_pem(pem, (size_t)n);
  BIO_free(b);
  EVP_PKEY_free(p);
  ck_assert(k != NULL);
  return k;
}

static char *sign_with(dkim_key *k, const char *sel, dkim_canon hc, dkim_canon bc, bool oversign,
                       const char *msg) {
  dkim_sign_cfg cfg = {.domain = "example.com",
                       .selector = sel,
                       .header_canon = hc,
                       .body_canon = bc,
                       .oversign = oversign,
                       .now_unix = NOW - 60};
  char *f = dkim_sign(&cfg, k, msg, strlen(msg));
  ck_assert(f != NULL);
  char *m = g_strconcat(f, msg, NULL);
  g_free(f);
  return m;
}

START_TEST(test_sign_verify_roundtrip) {
  dkim_key *ed = dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, sizeof ed_seed);
  dkim_key *rsa = rsa_key(2048);
  ck_assert_int_eq(dkim_key_bits(rsa), 2048);
  auth_fakedns *d = auth_fakedns_new();
  char *t1 = dkim_key_dns_txt(ed), *t2 = dkim_key_dns_txt(rsa);
  ck_assert_str_eq(t1, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  ck_assert(g_str_has_prefix(t2, "v=DKIM1; k=rsa; p=MIIBIjAN"));
  publish(d, "ed._domainkey.example.com", t1);
  publish(d, "rsa._domainkey.example.com", t2);
  g_free(t1);
  g_free(t2);
  for (int hc = 0; hc < 2; hc++) {
    for (int bc = 0; bc < 2; bc++) {
      for (int ov = 0; ov < 2; ov++) {
        char *m1 = sign_with(ed, "ed", hc, bc, ov, sample_msg);
        char *m2 = sign_with(rsa, "rsa", hc, bc, ov, m1);
        char *got = verify_msg(d, m2);
        ck_assert_msg(strcmp(got, "pass,pass") == 0, "c=%d/%d oversign %d: got %s\n%s", hc, bc, ov,
                      got, m2);
        g_free(got);
        /* one body octet changed */
        char *t = replace1(m2, "are you free", "are you frea");
        got = verify_msg(d, t);
        ck_assert_str_eq(got, "fail:body hash did not verify,fail:body hash did not verify");
        g_free(got);
        g_free(t);
        /* a second Subject added on top: only oversigning catches it */
        t = g_strconcat("Subject: free money\r\n", m2, NULL);
        got = verify_msg(d, t);
        ck_assert_str_eq(got, ov ? "fail:signature did not verify,fail:signature did not verify"
                                 : "pass,pass");
        g_free(got);
        g_free(t);
        g_free(m1);
        g_free(m2);
      }
    }
  }
  /* Deterministic signing. */
  char *a = sign_with(ed, "ed", DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, false, sample_msg);
  char *b = sign_with(ed, "ed", DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, false, sample_msg);
  ck_assert_str_eq(a, b);
  ck_assert(g_str_has_prefix(a, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; "
                                "d=example.com; s=ed;\r\n t=1790909940; h=from:to:subject:date:"
                                "message-id:mime-version:content-type;\r\n bh="));
  /* The field's lines stay within 78 octets. */
  const char *p = a;
  for (;;) {
    const char *e = strstr(p, "\r\n");
    ck_assert_msg((size_t)(e - p) <= 78, "line over 78: %.*s", (int)(e - p), p);
    p = e + 2;
    if (*p != ' ')
      break;
  }
  g_free(a);
  g_free(b);
  /* A public key cannot sign; a short RSA key is refused by verifiers. */
  dkim_sign_cfg cfg = {.domain = "example.com", .selector = "x", .now_unix = 1};
  dkim_key *pub = dkim_key_from_public(DKIM_KEY_ED25519, ed_seed, 32);
  ck_assert(dkim_sign(&cfg, pub, sample_msg, strlen(sample_msg)) == NULL);
  dkim_key_free(pub);
  dkim_key *small = rsa_key(512);
  char *ts = dkim_key_dns_txt(small);
  publish(d, "small._domainkey.example.com", ts);
  g_free(ts);
  char *m = sign_with(small, "small", DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE, false, sample_msg);
  char *got = verify_msg(d, m);
  ck_assert_str_eq(got, "permerror:policy: RSA key too short (RFC 8301)");
  g_free(got);
  g_free(m);
  dkim_key_free(small);
  dkim_key_free(ed);
  dkim_key_free(rsa);
  auth_fakedns_free(d);
}
END_TEST

/* Keys as PEM (PKCS#8 Ed25519, traditional RSA) and raw DER sign the same
 * way; the engine's states go through the trace hook. */
START_TEST(test_keys_and_trace) {
  dkim_key *raw = dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, sizeof ed_seed);
  static const char ed_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                               "-----END PRIVATE KEY-----\n";
  dkim_key *pem = dkim_key_from_pem(ed_pem, strlen(ed_pem));
  ck_assert(pem != NULL);
  ck_assert_int_eq(dkim_key_get_type(pem), DKIM_KEY_ED25519);
  char *a = sign_with(raw, "ed", DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, false, sample_msg);
  char *b = sign_with(pem, "ed", DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, false, sample_msg);
  ck_assert_str_eq(a, b);
  g_free(a);
  g_free(b);
  dkim_key *rsa = rsa_key(1024);
  unsigned char *der = NULL;
  int n = i2d_PrivateKey(dkim_key_peek(rsa), &der);
  ck_assert_int_gt(n, 0);
  dkim_key *rsa_raw = dkim_key_from_raw(DKIM_KEY_RSA, der, (size_t)n);
  OPENSSL_free(der);
  ck_assert(rsa_raw != NULL);
  a = sign_with(rsa, "r", DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE, false, sample_msg);
  b = sign_with(rsa_raw, "r", DKIM_CANON_SIMPLE, DKIM_CANON_SIMPLE, false, sample_msg);
  ck_assert_str_eq(a, b);
  g_free(a);
  g_free(b);
  ck_assert(dkim_key_from_pem("junk", 4) == NULL);
  ck_assert(dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, 31) == NULL);
  ck_assert(dkim_key_from_raw(DKIM_KEY_RSA, ed_seed, 32) == NULL);
  ck_assert(dkim_key_from_public(DKIM_KEY_RSA, ed_seed, 32) == NULL);

  GString *tr = g_string_new(NULL);
  auth_env env = {.trace = gs_trace, .ud = tr};
  dkim_verify *v = dkim_verify_new(NULL, &env);
  dkim_verify_feed(v, rfc8463_msg, strlen(rfc8463_msg));
  dkim_verify_end(v, NOW);
  dkim_event ev;
  uint32_t ids[2];
  int k = 0;
  while (dkim_verify_next(v, &ev))
    ids[k++] = ev.query.id;
  ck_assert_int_eq(k, 2);
  dkim_verify_answer(v, ids[1], AUTH_DNS_SERVFAIL, NULL, 0);
  dkim_verify_answer(v, ids[0], AUTH_DNS_NXDOMAIN, NULL, 0);
  ck_assert(dkim_verify_next(v, &ev) && ev.kind == DKIM_EV_DONE);
  ck_assert(!dkim_verify_next(v, &ev));
  ck_assert_str_eq(dkim_result_name(dkim_verify_get(v, 0)->result), "permerror");
  ck_assert_str_eq(dkim_result_name(dkim_verify_get(v, 1)->result), "temperror");
  ck_assert_str_eq(dkim_result_name(dkim_verify_summary(v)), "permerror");
  ck_assert_str_eq(tr->str, "dkim: receiving -> active\n"
                            "dkim: active -> wait-dns\n"
                            "dkim: wait-dns -> active\n"
                            "dkim: active -> done\n");
  dkim_verify_free(v);
  g_string_free(tr, TRUE);
  dkim_key_free(rsa_raw);
  dkim_key_free(rsa);
  dkim_key_free(raw);
  dkim_key_free(pem);
}
END_TEST

/* ---- dkimpy cross-checks (--dkimpy) ---- */

static char *tmpdir;

static char *write_tmp(const char *name, const char *data) {
  char *p = g_build_filename(tmpdir, name, NULL);
  ck_assert(g_file_set_contents(p, data, -1, NULL));
  return p;
}

static char *peer(char **args) {
  char *out = NULL, *err = NULL;
  int status = 0;
  GError *e = NULL;
  char *script = testutil_src_path("tests/dkim_pypeer.py");
  char *argv[16] = {"/usr/bin/python3", script};
  int i = 2;
  for (; args[i - 2]; i++)
    argv[i] = args[i - 2];
  argv[i] = NULL;
  ck_assert_msg(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, &err, &status, &e), "%s",
                e ? e->message : "");
  ck_assert_msg(g_spawn_check_wait_status(status, NULL), "dkimpy failed: %s", err);
  g_free(err);
  g_free(script);
  return out;
}

START_TEST(test_dkimpy_verifies_ours) {
  dkim_key *ed = dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, sizeof ed_seed);
  dkim_key *rsa = rsa_key(2048);
  char *t1 = dkim_key_dns_txt(ed), *t2 = dkim_key_dns_txt(rsa);
  char *keys =
      g_strdup_printf("ed._domainkey.example.com\t%s\nrsa._domainkey.example.com\t%s\n", t1, t2);
  char *kf = write_tmp("keys", keys);
  for (int hc = 0; hc < 2; hc++) {
    for (int bc = 0; bc < 2; bc++) {
      char *m1 = sign_with(ed, "ed", hc, bc, hc == bc, sample_msg);
      char *m2 = sign_with(rsa, "rsa", hc, bc, hc != bc, m1);
      char *mf = write_tmp("msg", m2);
      char *out = peer((char *[]){"verify", mf, kf, NULL});
      ck_assert_msg(strcmp(out, "pass\npass\n") == 0, "c=%d/%d: dkimpy says %s", hc, bc, out);
      g_free(out);
      char *t = replace1(m2, "are you free", "are you frea");
      g_free(mf);
      mf = write_tmp("msg", t);
      out = peer((char *[]){"verify", mf, kf, NULL});
      /* dkimpy reports a body hash mismatch as an exception */
      ck_assert_msg(g_str_has_prefix(out, "error body hash mismatch") &&
                        strstr(out, "\nerror body hash mismatch"),
                    "tampered: dkimpy says %s", out);
      g_free(out);
      g_free(t);
      g_free(mf);
      g_free(m1);
      g_free(m2);
    }
  }
  g_free(kf);
  g_free(keys);
  g_free(t1);
  g_free(t2);
  dkim_key_free(ed);
  dkim_key_free(rsa);
}
END_TEST

START_TEST(test_we_verify_dkimpy) {
  EVP_PKEY *p = EVP_RSA_gen(2048);
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL);
  char *pem;
  long n = BIO_get_mem_data(b, &pem);
  char *pemz = g_strndup(pem, (gsize)n);
  dkim_key *rsa = dkim_key_from_pem(pem, (size_t)n);
  BIO_free(b);
  EVP_PKEY_free(p);
  dkim_key *ed = dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, sizeof ed_seed);
  char *seed64 = g_base64_encode(ed_seed, 32);
  char *rsaf = write_tmp("rsa.pem", pemz), *edf = write_tmp("ed.key", seed64);
  auth_fakedns *d = auth_fakedns_new();
  char *t1 = dkim_key_dns_txt(ed), *t2 = dkim_key_dns_txt(rsa);
  publish(d, "ed._domainkey.example.com", t1);
  publish(d, "rsa._domainkey.example.com", t2);
  char *mf = write_tmp("msg", sample_msg);
  const char *canons[] = {"simple", "relaxed"};
  for (int hc = 0; hc < 2; hc++) {
    for (int bc = 0; bc < 2; bc++) {
      for (int alg = 0; alg < 2; alg++) {
        char *sigf =
            peer((char *[]){"sign", mf, alg ? edf : rsaf, alg ? "ed25519-sha256" : "rsa-sha256",
                            alg ? "ed" : "rsa", "example.com", (char *)canons[hc],
                            (char *)canons[bc], "from:to:subject:date:message-id:from", NULL});
        char *m = g_strconcat(sigf, sample_msg, NULL);
        char *got = verify_msg(d, m);
        ck_assert_msg(strcmp(got, "pass") == 0, "dkimpy %s c=%s/%s: got %s\n%s",
                      alg ? "ed25519" : "rsa", canons[hc], canons[bc], got, m);
        g_free(got);
        char *t = replace1(m, "are you free", "are you frea");
        got = verify_msg(d, t);
        ck_assert_str_eq(got, "fail:body hash did not verify");
        g_free(got);
        g_free(t);
        g_free(m);
        g_free(sigf);
      }
    }
  }
  g_free(mf);
  g_free(t1);
  g_free(t2);
  g_free(rsaf);
  g_free(edf);
  g_free(seed64);
  g_free(pemz);
  auth_fakedns_free(d);
  dkim_key_free(ed);
  dkim_key_free(rsa);
}
END_TEST

START_TEST(test_dkimpy_rfc8463_and_length) {
  /* dkimpy agrees that the RFC 8463 example verifies. */
  char *keys = g_strdup_printf("brisbane._domainkey.football.example.com\t%s\n"
                               "test._domainkey.football.example.com\t%s\n",
                               rfc8463_ed_rec, rfc8463_rsa_rec);
  char *kf = write_tmp("keys", keys);
  char *mf = write_tmp("msg", rfc8463_msg);
  char *out = peer((char *[]){"verify", mf, kf, NULL});
  ck_assert_str_eq(out, "pass\npass\n");
  g_free(out);
  /* l= (which we never generate) is honoured when verifying: text added
   * after the signed length does not break dkimpy's signature. */
  dkim_key *ed = dkim_key_from_raw(DKIM_KEY_ED25519, ed_seed, sizeof ed_seed);
  char *seed64 = g_base64_encode(ed_seed, 32);
  char *edf = write_tmp("ed.key", seed64);
  g_free(mf);
  mf = write_tmp("msg", sample_msg);
  char *sigf = peer((char *[]){"sign", mf, edf, "ed25519-sha256", "ed", "example.com", "relaxed",
                               "simple", "from:subject", "l", NULL});
  ck_assert_msg(strstr(sigf, "l=") != NULL, "no l= in %s", sigf);
  auth_fakedns *d = auth_fakedns_new();
  char *t1 = dkim_key_dns_txt(ed);
  publish(d, "ed._domainkey.example.com", t1);
  char *m = g_strconcat(sigf, sample_msg, NULL);
  char *got = verify_msg(d, m);
  ck_assert_str_eq(got, "pass");
  g_free(got);
  char *longer = g_strconcat(m, "P.S. appended later\r\n", NULL);
  got = verify_msg(d, longer);
  ck_assert_str_eq(got, "pass");
  g_free(got);
  char *t = replace1(m, "are you free", "are you frea");
  got = verify_msg(d, t);
  ck_assert_str_eq(got, "fail:body hash did not verify");
  g_free(got);
  g_free(t);
  g_free(longer);
  g_free(m);
  g_free(t1);
  auth_fakedns_free(d);
  g_free(sigf);
  g_free(edf);
  g_free(seed64);
  dkim_key_free(ed);
  g_free(mf);
  g_free(kf);
  g_free(keys);
}
END_TEST

static int run_dkimpy(void) {
  int status = 0;
  char *argv[] = {"/usr/bin/python3", "-c", "import dkim, nacl", NULL};
  if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                    NULL, NULL, NULL, &status, NULL) ||
      !g_spawn_check_wait_status(status, NULL)) {
    printf("SKIP: /usr/bin/python3 with dkimpy (python3-dkim) and PyNaCl is not available\n");
    return 77;
  }
  tmpdir = g_dir_make_tmp("dkimpy-XXXXXX", NULL);
  Suite *s = suite_create("dkim_dkimpy");
  TCase *t = tcase_create("dkimpy");
  tcase_add_test(t, test_dkimpy_verifies_ours);
  tcase_add_test(t, test_we_verify_dkimpy);
  tcase_add_test(t, test_dkimpy_rfc8463_and_length);
  suite_add_tcase(s, t);
  int r = testutil_run(s);
  const char *names[] = {"keys", "msg", "rsa.pem", "ed.key"};
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    char *p = g_build_filename(tmpdir, names[i], NULL);
    g_remove(p);
    g_free(p);
  }
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return r;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--dkimpy") == 0)
    return run_dkimpy();
  Suite *s = suite_create("dkim");
  TCase *t = tcase_create("canon");
  tcase_add_test(t, test_tag_list);
  tcase_add_test(t, test_canon_tables);
  suite_add_tcase(s, t);
  t = tcase_create("rfc8463");
  tcase_add_test(t, test_rfc8463_example);
  tcase_add_test(t, test_rfc8463_tampered_and_refused);
  suite_add_tcase(s, t);
  t = tcase_create("sign");
  tcase_add_test(t, test_sign_verify_roundtrip);
  tcase_add_test(t, test_keys_and_trace);
  suite_add_tcase(s, t);
  return testutil_run(s);
}
