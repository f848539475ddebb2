/* Tests for mta_policy: the session limit, the sliding-window rate limit at
 * its boundaries, hop counting (50 allowed, 51 refused), and the Received
 * stamp with its RFC 3848 with-clause. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_date.h"
#include "mime_hdr.h"
#include "mta_policy.h"
#include "testutil.h"

#define S INT64_C(1000000000)

START_TEST(session_limit) {
  mta_policy_config cfg;
  mta_policy_config_init(&cfg);
  ck_assert_uint_eq(cfg.max_sessions, 100);
  ck_assert_uint_eq(cfg.max_hops, 50);
  cfg.max_sessions = 3;
  mta_policy *p = mta_policy_new(&cfg);
  mta_policy_verdict v;
  for (int i = 0; i < 3; i++) {
    ck_assert(mta_policy_session_begin(p, &v));
    ck_assert_int_eq(v.code, 0);
  }
  ck_assert(!mta_policy_session_begin(p, &v));
  ck_assert_int_eq(v.code, 421);
  ck_assert_str_eq(v.esc, "4.7.0");
  ck_assert_uint_eq(mta_policy_sessions(p), 3);
  mta_policy_session_end(p);
  ck_assert(mta_policy_session_begin(p, &v));
  ck_assert(!mta_policy_session_begin(p, &v));
  mta_policy_free(p);
}
END_TEST

/* 3 events per 60 s window, window (now − 60 s, now]. */
static const struct {
  const char *client;
  int64_t t;
  bool ok;
  int64_t next; /* mta_policy_rate_next before the event */
} rate_rows[] = {
    {"192.0.2.1", 0, true, 0},
    {"192.0.2.1", 10 * S, true, 10 * S},
    {"192.0.2.1", 20 * S, true, 20 * S},
    {"192.0.2.1", 30 * S, false, 60 * S},     /* 4th within 60 s */
    {"192.0.2.2", 30 * S, true, 30 * S},      /* another client is independent */
    {"192.0.2.1", 60 * S - 1, false, 60 * S}, /* the event at 0 still counts */
    {"192.0.2.1", 60 * S, true, 60 * S},      /* it no longer does */
    {"192.0.2.1", 60 * S, false, 70 * S},     /* 10, 20, 60 in the window */
    {"192.0.2.1", 70 * S, true, 70 * S},      /* rejected events were not counted */
    {"192.0.2.1", 80 * S, true, 80 * S},
    {"192.0.2.1", 80 * S + 1, false, 120 * S},
    {"192.0.2.1", 1000 * S, true, 1000 * S},
};

START_TEST(rate_limit) {
  mta_policy_config cfg;
  mta_policy_config_init(&cfg);
  cfg.rate_limit = 3;
  cfg.rate_window = 60 * S;
  mta_policy *p = mta_policy_new(&cfg);
  for (size_t i = 0; i < G_N_ELEMENTS(rate_rows); i++) {
    mta_policy_verdict v;
    int64_t next = mta_policy_rate_next(p, rate_rows[i].client, rate_rows[i].t);
    ck_assert_msg(next == rate_rows[i].next,
                  "row %zu: next got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, i, next,
                  rate_rows[i].next);
    bool ok = mta_policy_rate(p, rate_rows[i].client, rate_rows[i].t, &v);
    ck_assert_msg(ok == rate_rows[i].ok, "row %zu: got %d want %d", i, ok, rate_rows[i].ok);
    if (!ok) {
      ck_assert_int_eq(v.code, 450);
      ck_assert_str_eq(v.esc, "4.7.1");
    }
  }
  ck_assert_uint_eq(mta_policy_clients(p), 2);
  mta_policy_prune(p, 1000 * S);
  ck_assert_uint_eq(mta_policy_clients(p), 1); /* 192.0.2.2 was idle for the window */
  mta_policy_prune(p, 1060 * S);
  ck_assert_uint_eq(mta_policy_clients(p), 0);
  mta_policy_free(p);

  /* No limit configured: everything passes. */
  mta_policy_config_init(&cfg);
  p = mta_policy_new(&cfg);
  mta_policy_verdict v;
  for (int i = 0; i < 1000; i++)
    ck_assert(mta_policy_rate(p, "x", 0, &v));
  mta_policy_free(p);
}
END_TEST

static GString *hops_message(unsigned n) {
  GString *m = g_string_new(NULL);
  for (unsigned i = 0; i < n; i++)
    g_string_append_printf(m,
                           "Received: from h%u.example\r\n\tby h%u.example; Thu, 01 Jan 2026 "
                           "00:00:00 +0000\r\n",
                           i, i + 1);
  g_string_append(m, "Subject: loop\r\n\r\nReceived: in the body does not count\r\n");
  return m;
}

START_TEST(hop_limit) {
  mta_policy_config cfg;
  mta_policy_config_init(&cfg);
  mta_policy *p = mta_policy_new(&cfg);
  static const struct {
    unsigned n;
    bool ok;
  } rows[] = {{0, true}, {1, true}, {49, true}, {50, true}, {51, false}, {200, false}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GString *m = hops_message(rows[i].n);
    ck_assert_uint_eq(mta_policy_count_received((const uint8_t *)m->str, m->len), rows[i].n);
    mta_policy_verdict v;
    bool ok = mta_policy_hops(p, (const uint8_t *)m->str, m->len, &v);
    ck_assert_msg(ok == rows[i].ok, "%u hops: got %d want %d", rows[i].n, ok, rows[i].ok);
    if (!ok) {
      ck_assert_int_eq(v.code, 554);
      ck_assert_str_eq(v.esc, "5.4.0");
    }
    g_string_free(m, TRUE);
  }
  static const struct {
    const char *msg;
    unsigned want;
  } odd[] = {
      {"received: a\nRECEIVED:b\n\nReceived: c\n", 2}, /* any case, bare LF */
      {"X-Received: a\r\nReceived : b\r\n\r\n", 0},    /* other names */
      {"Received: a\r\n Received: folded\r\n", 1},     /* continuation lines */
      {"Received: a", 1},                              /* no line end */
      {"\r\nReceived: a\r\n", 0},                      /* empty header */
      {"", 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(odd); i++)
    ck_assert_msg(mta_policy_count_received((const uint8_t *)odd[i].msg, strlen(odd[i].msg)) ==
                      odd[i].want,
                  "odd %zu", i);
  mta_policy_free(p);
}
END_TEST

START_TEST(received_stamp) {
  static const struct {
    bool lmtp, ehlo, tls, auth;
    const char *want;
  } rows[] = {
      {false, false, false, false, "SMTP"}, {false, true, false, false, "ESMTP"},
      {false, true, true, false, "ESMTPS"}, {false, true, false, true, "ESMTPA"},
      {false, true, true, true, "ESMTPSA"}, {true, true, false, false, "LMTP"},
      {true, true, true, false, "LMTPS"},   {true, true, true, true, "LMTPSA"},
      {true, false, false, true, "LMTPA"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
    ck_assert_str_eq(mta_policy_with(rows[i].lmtp, rows[i].ehlo, rows[i].tls, rows[i].auth),
                     rows[i].want);
  mime_received r = {.helo = "laptop.a.example",
                     .rdns = "laptop.a.example",
                     .ip = "192.0.2.10",
                     .by = "mail.a.example",
                     .with = "IGNORED",
                     .id = "1A",
                     .for_addr = "bob@b.example",
                     .date_ns = 90 * S,
                     .epoch_unix = MIME_DATE_EPOCH_DEFAULT};
  char *f = mta_policy_received(&r, false, true, true, true);
  ck_assert_ptr_nonnull(f);
  ck_assert(g_str_has_prefix(f, "Received: "));
  const char *colon = strchr(f, ':');
  char *unfolded = g_strdup(colon + 1);
  /* Unfold (RFC 5322 §2.2.3) and parse back. */
  GString *u = g_string_new(NULL);
  for (const char *s = unfolded; *s; s++)
    if (*s != '\r' && *s != '\n')
      g_string_append_c(u, *s);
  mime_received_info ri;
  ck_assert(mime_trace_received_parse(u->str, &ri));
  ck_assert_str_eq(ri.with, "ESMTPSA");
  ck_assert_str_eq(ri.by, "mail.a.example");
  ck_assert_str_eq(ri.id, "1A");
  ck_assert(ri.date_ok);
  ck_assert_int_eq(ri.date_unix, MIME_DATE_EPOCH_DEFAULT + 90);
  mime_received_info_clear(&ri);
  g_string_free(u, TRUE);
  g_free(unfolded);

  /* Each hop adds one field: the count goes up by one per stamp. */
  GBytes *msg = g_bytes_new_static("Subject: x\r\n\r\nbody\r\n", 21);
  for (unsigned hop = 1; hop <= 3; hop++) {
    GBytes *next = mime_trace_prepend(msg, f);
    g_bytes_unref(msg);
    msg = next;
    gsize len;
    const uint8_t *d = g_bytes_get_data(msg, &len);
    ck_assert_uint_eq(mta_policy_count_received(d, len), hop);
  }
  g_bytes_unref(msg);
  g_free(f);
  r.helo = NULL;
  ck_assert_ptr_null(mta_policy_received(&r, false, true, false, false));
}
END_TEST

/* The reference count: lines starting "Received:" in any case, each line
 * ending at LF (a CR before it dropped), up to the first empty line. */
static unsigned ref_received(const char *msg, size_t len) {
  unsigned n = 0;
  for (size_t i = 0; i < len;) {
    const char *lf = memchr(msg + i, '\n', len - i);
    size_t e = lf ? (size_t)(lf - msg) : len, l = e - i;
    if (l > 0 && msg[e - 1] == '\r')
      l--;
    if (l == 0)
      break;
    if (l >= 9 && g_ascii_strncasecmp(msg + i, "Received:", 9) == 0)
      n++;
    i = e + 1;
  }
  return n;
}

/* mta_policy_scan_header against plain readers: the reference count above
 * and the Message-ID of mime_hdr_scan_get (unfolded), on odd headers,
 * every prefix of them (no final line end, a lone CR at the end), and
 * seeded random headers of odd lines. */
static void scan_agrees(const char *msg, size_t len, const char *what) {
  mta_policy_header hd;
  mta_policy_scan_header((const uint8_t *)msg, len, &hd);
  unsigned want_n = ref_received(msg, len);
  ck_assert_uint_eq(mta_policy_count_received((const uint8_t *)msg, len), want_n);
  ck_assert_msg(hd.received == want_n, "%s (%zu octets): received got %u want %u", what, len,
                hd.received, want_n);
  char *want = mime_hdr_scan_get(msg, len, 0, "Message-ID");
  char *got = hd.msgid ? mime_hdr_unfold(hd.msgid, hd.msgid_len) : NULL;
  ck_assert_msg((want == NULL) == (got == NULL), "%s (%zu octets): Message-ID got %s want %s",
                what, len, got ? got : "(none)", want ? want : "(none)");
  if (want) {
    ck_assert_msg(strcmp(got, want) == 0, "%s (%zu octets): Message-ID got '%s' want '%s'", what,
                  len, got, want);
    ck_assert(hd.msgid >= msg && hd.msgid + hd.msgid_len <= msg + len); /* a view into MSG */
  }
  g_free(want);
  g_free(got);
}

START_TEST(scan_header_agrees) {
  static const char *const odd[] = {
      "Received: a\r\nMessage-ID: <x@y>\r\n\r\nbody",
      "Received: a\r\n b\r\nmessage-id:\r\n <folded@y>\r\n \t more\r\nReceived: c\r\n\r\n",
      "Message-ID : <wsp@before.colon>\r\nReceived: a\r\n",
      "Subject: s\r\nnot a field\r\nMessage-ID: <after@bad.line>\r\nReceived: counted\r\n\r\n",
      " continuation first\r\nMessage-ID: <a@b>\r\n",
      "Message-ID: <first@one>\r\nMessage-ID: <second@one>\r\n\r\n",
      "MESSAGE-ID:<upper@case>\nReceived:bare-lf\n\nReceived: body\n",
      "Message-ID: <a@b>\r\n\r\nMessage-ID: <body@b>\r\n",
      "Message-Id: <a@b>\r\r\nReceived: x\r",
      "Message_ID: <not@it>\r\nMessage-IDs: <not@it>\r\nX: y\r\n\r\n",
      "Received: a\r\n\r\n",
      "Message-ID:\r\n\r\n",
      "\r\nMessage-ID: <a@b>\r\n",
      "Message-ID: <a@b>",
      "Message-ID: <a@b>\r",
      ":\r\nMessage-ID: <no@name>\r\n",
      "Received: one\r\nX-Long-Header-Name-Of-Many-Octets: v\r\nMessage-ID:    <sp@c>   \r\n\r\n",
      "",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(odd); i++) {
    size_t n = strlen(odd[i]);
    for (size_t cut = 0; cut <= n; cut++) {
      char *copy = g_memdup2(odd[i], cut ? cut : 1); /* exactly CUT octets: no NUL after them */
      char what[32];
      g_snprintf(what, sizeof what, "odd %zu", i);
      scan_agrees(copy, cut, what);
      g_free(copy);
    }
  }
  /* NUL octets and 8-bit ones inside names and values */
  static const char with_nul[] = "Rec\0eived: a\r\nMessage-ID: <a\0b@c>\r\nX\200: y\r\nReceived: z\r\n";
  scan_agrees(with_nul, sizeof with_nul - 1, "with NUL");
  static const char *const lines[] = {
      "Received: from a by b\r\n", "received:x\n", "Message-ID: <m@id>\r\n", "Message-ID:\r\n",
      " <cont@id>\r\n", "\tmore\r\n", "Subject: s\r\n", "bad line\r\n", "\r\n", "Message-ID <no colon>\r\n",
      "message-id :<wsp@id>\n", "Received: a", "X: y\r", "\n", "Message-ID: <a@b>\r\r\n",
  };
  GRand *r = g_rand_new_with_seed(6);
  for (int t = 0; t < 4000; t++) {
    GString *m = g_string_new(NULL);
    int k = g_rand_int_range(r, 0, 12);
    for (int j = 0; j < k; j++)
      g_string_append(m, lines[g_rand_int_range(r, 0, G_N_ELEMENTS(lines))]);
    char what[32];
    g_snprintf(what, sizeof what, "random %d", t);
    scan_agrees(m->str, m->len, what);
    g_string_free(m, TRUE);
  }
  g_rand_free(r);
  /* the hop check on a count agrees with the one on the message */
  mta_policy_config cfg;
  mta_policy_config_init(&cfg);
  mta_policy *p = mta_policy_new(&cfg);
  for (unsigned n = 48; n <= 52; n++) {
    GString *m = hops_message(n);
    mta_policy_header hd;
    mta_policy_scan_header((const uint8_t *)m->str, m->len, &hd);
    mta_policy_verdict v1, v2;
    ck_assert_int_eq(mta_policy_hops_of(p, hd.received, &v1),
                     mta_policy_hops(p, (const uint8_t *)m->str, m->len, &v2));
    ck_assert_int_eq(v1.code, v2.code);
    g_string_free(m, TRUE);
  }
  mta_policy_free(p);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mta_policy");
  TCase *tc = tcase_create("policy");
  tcase_add_test(tc, session_limit);
  tcase_add_test(tc, rate_limit);
  tcase_add_test(tc, hop_limit);
  tcase_add_test(tc, received_stamp);
  tcase_add_test(tc, scan_header_agrees);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
