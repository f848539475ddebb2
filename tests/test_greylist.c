/* Tests for greylist: Postgrey's rules (delay boundary, retry window, max
 * age, auto-whitelist, /24 and /64 grouping, sender normalisation),
 * whitelists, the X-Greylist header and the saved state. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "greylist.h"
#include "mime_date.h"
#include "testutil.h"

#define S GREYLIST_SEC
#define DAY (86400 * S)

static const struct {
  const char *in, *want;
} senders[] = {
    {"Alice@Example.ORG", "alice@example.org"},
    {"bounce-123-456@lists.example", "bounce-#-#@lists.example"},
    {"user+tag@example.org", "user@example.org"},
    {"user+123@example.org", "user@example.org"},
    {"user123@example.org", "user123@example.org"},
    {"123@example.org", "#@example.org"},
    {"a.77.b@example.org", "a.#.b@example.org"},
    {"x_12@example.org", "x_12@example.org"},
    {"prvs=0123456789=joe@example.org", "joe@example.org"},
    {"prvs=joe=0123456789@example.org", "joe@example.org"},
    {"", ""},
    {"postmaster", "postmaster"},
    {"m-2024-01@a.example", "m-#-#@a.example"},
};

START_TEST(sender_table) {
  char *got = greylist_normalise_sender(senders[_i].in);
  ck_assert_msg(g_str_equal(got, senders[_i].want), "row %d: got [%s] want [%s]", _i, got,
                senders[_i].want);
  g_free(got);
}
END_TEST

static const struct {
  const char *ip;
  guint v4, v6;
  gboolean ok;
  const char *want;
} nets[] = {
    {"192.0.2.77", 24, 64, TRUE, "192.0.2.0/24"},
    {"192.0.2.77", 32, 64, TRUE, "192.0.2.77/32"},
    {"192.0.2.77", 20, 64, TRUE, "192.0.0.0/20"},
    {"2001:db8:1:2:3:4:5:6", 24, 64, TRUE, "2001:db8:1:2::/64"},
    {"2001:DB8:1:2::9", 24, 48, TRUE, "2001:db8:1::/48"},
    {"::ffff:192.0.2.1", 24, 64, TRUE, "192.0.2.0/24"},
    {"::ffff:0:192.0.2.1", 24, 64, TRUE, "::/64"}, /* not v4-mapped */
    {"not-an-ip", 24, 64, FALSE, "not-an-ip"},
    {"192.0.2.300", 24, 64, FALSE, "192.0.2.300"},
};

START_TEST(net_table) {
  char *got = NULL;
  gboolean ok = greylist_client_net(nets[_i].ip, nets[_i].v4, nets[_i].v6, &got);
  ck_assert_msg(ok == nets[_i].ok && g_str_equal(got, nets[_i].want),
                "row %d: got %d [%s] want %d [%s]", _i, ok, got, nets[_i].ok, nets[_i].want);
  g_free(got);
}
END_TEST

/* One check; returns the result and keeps the verdict's numbers. */
static greylist_result chk(greylist *g, const char *ip, const char *from, const char *to,
                           int64_t now, greylist_verdict *keep) {
  greylist_verdict v;
  greylist_check(g, ip, from, to, now, &v);
  greylist_result r = v.result;
  if (keep) {
    greylist_verdict_clear(keep);
    *keep = v;
  } else {
    greylist_verdict_clear(&v);
  }
  return r;
}

#define EXPECT(g, ip, from, to, now, want)                                                         \
  do {                                                                                             \
    greylist_result r_ = chk(g, ip, from, to, now, NULL);                                          \
    ck_assert_msg(r_ == (want), "at %" G_GINT64_FORMAT " ns: got %s want %s", (int64_t)(now),      \
                  greylist_result_name(r_), greylist_result_name(want));                           \
  } while (0)

START_TEST(boundary_299_300) {
  greylist *g = greylist_new(NULL);
  greylist_verdict v = {0};
  int64_t t0 = 1000 * S;
  ck_assert_int_eq(chk(g, "192.0.2.1", "a@x.example", "b@y.example", t0, &v), GREYLIST_DEFER_NEW);
  ck_assert(v.defer);
  ck_assert_int_eq(v.code, 450);
  ck_assert_str_eq(v.esc, "4.2.0");
  ck_assert_str_eq(v.text, "Greylisted, please try again in 300 seconds");
  ck_assert_str_eq(v.triplet, "192.0.2.0/24/a@x.example/b@y.example");
  ck_assert_int_eq(v.first_seen, t0);
  ck_assert_int_eq(v.retry_in, 300 * S);

  ck_assert_int_eq(chk(g, "192.0.2.1", "a@x.example", "b@y.example", t0 + 299 * S, &v),
                   GREYLIST_DEFER_EARLY);
  ck_assert_int_eq(v.retry_in, 1 * S);
  ck_assert_int_eq(v.waited, 299 * S);
  ck_assert_str_eq(v.text, "Greylisted, please try again in 1 seconds");
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", t0 + 300 * S - 1, GREYLIST_DEFER_EARLY);

  ck_assert_int_eq(chk(g, "192.0.2.1", "a@x.example", "b@y.example", t0 + 300 * S, &v),
                   GREYLIST_PASS_DELAYED);
  ck_assert(!v.defer);
  ck_assert_int_eq(v.code, 0);
  ck_assert_ptr_null(v.text);
  ck_assert_int_eq(v.waited, 300 * S);
  ck_assert_int_eq(v.first_seen, t0);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", t0 + 301 * S, GREYLIST_PASS_KNOWN);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", t0 + 20 * DAY, GREYLIST_PASS_KNOWN);
  ck_assert_uint_eq(greylist_triplet_count(g), 1);
  greylist_verdict_clear(&v);
  greylist_free(g);
}
END_TEST

START_TEST(configurable_delay_and_text) {
  greylist_config c;
  greylist_config_default(&c);
  c.delay = 60 * S;
  c.reply_text = "Greylisted for %s s, see https://help.example/%r";
  greylist *g = greylist_new(&c);
  greylist_verdict v = {0};
  chk(g, "198.51.100.9", "a@x.example", "b@Y.example", 0, &v);
  ck_assert_str_eq(v.text, "Greylisted for 60 s, see https://help.example/y.example");
  EXPECT(g, "198.51.100.9", "a@x.example", "b@y.example", 59 * S, GREYLIST_DEFER_EARLY);
  EXPECT(g, "198.51.100.9", "a@x.example", "b@y.example", 60 * S, GREYLIST_PASS_DELAYED);
  greylist_verdict_clear(&v);
  greylist_free(g);
}
END_TEST

START_TEST(retry_window) {
  greylist *g = greylist_new(NULL);
  /* First retry after more than 2 days: the first attempt is forgotten. */
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 2 * DAY + 1, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 2 * DAY + 1 + 299 * S, GREYLIST_DEFER_EARLY);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 2 * DAY + 1 + 300 * S,
         GREYLIST_PASS_DELAYED);
  /* Exactly 2 days is still inside the window. */
  EXPECT(g, "192.0.2.1", "c@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "c@x.example", "b@y.example", 2 * DAY, GREYLIST_PASS_DELAYED);
  /* Early retries inside the window do not move the first attempt... */
  EXPECT(g, "192.0.2.1", "d@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "d@x.example", "b@y.example", 100 * S, GREYLIST_DEFER_EARLY);
  EXPECT(g, "192.0.2.1", "d@x.example", "b@y.example", 300 * S, GREYLIST_PASS_DELAYED);
  greylist_free(g);
}
END_TEST

START_TEST(max_age) {
  greylist *g = greylist_new(NULL);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 300 * S, GREYLIST_PASS_DELAYED);
  /* last seen at 300 s: 35 days later it is still known, a moment after not. */
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 300 * S + 35 * DAY, GREYLIST_PASS_KNOWN);
  EXPECT(g, "192.0.2.1", "a@x.example", "b@y.example", 300 * S + 70 * DAY + 1, GREYLIST_DEFER_NEW);
  /* expire() drops what lookups would ignore. */
  EXPECT(g, "192.0.2.9", "z@x.example", "b@y.example", 300 * S + 70 * DAY + 1, GREYLIST_DEFER_NEW);
  ck_assert_uint_eq(greylist_triplet_count(g), 2);
  ck_assert_uint_eq(greylist_expire(g, 300 * S + 72 * DAY + 2), 2);
  ck_assert_uint_eq(greylist_triplet_count(g), 0);
  greylist_free(g);
}
END_TEST

START_TEST(awl_after_five) {
  greylist *g = greylist_new(NULL);
  greylist_verdict v = {0};
  int64_t t = 0;
  for (int i = 0; i < 5; i++) {
    char from[32];
    g_snprintf(from, sizeof from, "s%c@x.example", 'a' + i);
    EXPECT(g, "192.0.2.5", from, "b@y.example", t, GREYLIST_DEFER_NEW);
    ck_assert_int_eq(chk(g, "192.0.2.5", from, "b@y.example", t + 300 * S, &v),
                     GREYLIST_PASS_DELAYED);
    ck_assert_uint_eq(v.awl_count, (guint)i + 1);
    t += 3600 * S;
  }
  /* Sixth new triplet from that client: passes at once. */
  ck_assert_int_eq(chk(g, "192.0.2.5", "new@other.example", "c@y.example", t, &v),
                   GREYLIST_PASS_AWL);
  ck_assert(!v.defer);
  /* AWL is per address, not per network. */
  EXPECT(g, "192.0.2.6", "new@other.example", "c@y.example", t, GREYLIST_DEFER_NEW);
  ck_assert_uint_eq(greylist_client_count(g), 1);
  /* Not seen for longer than max_age: whitelisting is forgotten. */
  EXPECT(g, "192.0.2.5", "n2@other.example", "c@y.example", t + 36 * DAY, GREYLIST_DEFER_NEW);
  greylist_verdict_clear(&v);
  greylist_free(g);
}
END_TEST

START_TEST(awl_counts_once_per_hour) {
  greylist *g = greylist_new(NULL);
  greylist_verdict v = {0};
  for (int i = 0; i < 6; i++) {
    char from[32];
    g_snprintf(from, sizeof from, "s%c@x.example", 'a' + i);
    EXPECT(g, "192.0.2.5", from, "b@y.example", i * S, GREYLIST_DEFER_NEW);
    chk(g, "192.0.2.5", from, "b@y.example", 300 * S + i * S, &v);
    ck_assert_int_eq(v.result, GREYLIST_PASS_DELAYED);
    ck_assert_uint_eq(v.awl_count, 1);
  }
  EXPECT(g, "192.0.2.5", "q@x.example", "b@y.example", 400 * S, GREYLIST_DEFER_NEW);
  /* AWL off. */
  greylist_config c;
  greylist_config_default(&c);
  c.awl_clients = 0;
  greylist *h = greylist_new(&c);
  for (int i = 0; i < 7; i++) {
    char from[32];
    g_snprintf(from, sizeof from, "s%c@x.example", 'a' + i);
    EXPECT(h, "192.0.2.5", from, "b@y.example", i * 3600 * S, GREYLIST_DEFER_NEW);
    EXPECT(h, "192.0.2.5", from, "b@y.example", i * 3600 * S + 300 * S, GREYLIST_PASS_DELAYED);
  }
  EXPECT(h, "192.0.2.5", "z@x.example", "b@y.example", 30 * 3600 * S, GREYLIST_DEFER_NEW);
  ck_assert_uint_eq(greylist_client_count(h), 0);
  greylist_verdict_clear(&v);
  greylist_free(g);
  greylist_free(h);
}
END_TEST

static const struct {
  const char *first_ip, *retry_ip;
  greylist_result want;
} groups[] = {
    {"192.0.2.1", "192.0.2.200", GREYLIST_PASS_DELAYED},
    {"192.0.2.1", "192.0.3.1", GREYLIST_DEFER_NEW},
    {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:9", GREYLIST_PASS_DELAYED},
    {"2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:7", GREYLIST_PASS_DELAYED},
    {"2001:db8:1:2::1", "2001:db8:1:3::1", GREYLIST_DEFER_NEW},
    {"bogus", "BOGUS", GREYLIST_PASS_DELAYED},
    {"bogus", "bogus2", GREYLIST_DEFER_NEW},
};

START_TEST(subnet_grouping) {
  greylist *g = greylist_new(NULL);
  EXPECT(g, groups[_i].first_ip, "a@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, groups[_i].retry_ip, "a@x.example", "b@y.example", 300 * S, groups[_i].want);
  greylist_free(g);
}
END_TEST

START_TEST(sender_normalised_in_key) {
  greylist *g = greylist_new(NULL);
  EXPECT(g, "192.0.2.1", "bounce-123@lists.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "Bounce-456@Lists.Example", "B@Y.example", 300 * S, GREYLIST_PASS_DELAYED);
  EXPECT(g, "192.0.2.1", "list+b=y.example@lists.example", "b@y.example", 400 * S,
         GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "list+other@lists.example", "b@y.example", 700 * S, GREYLIST_PASS_DELAYED);
  /* The recipient keeps its extension (Postgrey only changes senders). */
  EXPECT(g, "192.0.2.1", "x@lists.example", "b+1@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "x@lists.example", "b+2@y.example", 300 * S, GREYLIST_DEFER_NEW);
  /* Null sender is a sender like any other. */
  EXPECT(g, "192.0.2.1", "", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "", "b@y.example", 300 * S, GREYLIST_PASS_DELAYED);
  greylist_free(g);
}
END_TEST

START_TEST(whitelists) {
  static const char *const wc[] = {"198.51.100.0/24", "2001:db8:aa::/48", "203.0.113.7", NULL};
  static const char *const wr[] = {"postmaster@", "abuse@y.example", "open.example", NULL};
  greylist_config c;
  greylist_config_default(&c);
  c.whitelist_clients = wc;
  c.whitelist_recipients = wr;
  greylist *g = greylist_new(&c);
  EXPECT(g, "198.51.100.77", "a@x.example", "b@y.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "2001:db8:aa:1::5", "a@x.example", "b@y.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "203.0.113.7", "a@x.example", "b@y.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "203.0.113.8", "a@x.example", "b@y.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "a@x.example", "Postmaster@any.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "192.0.2.1", "a@x.example", "abuse+tag@y.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "192.0.2.1", "a@x.example", "abuse@z.example", 0, GREYLIST_DEFER_NEW);
  EXPECT(g, "192.0.2.1", "a@x.example", "u@open.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "192.0.2.1", "a@x.example", "u@mx.open.example", 0, GREYLIST_PASS_WHITELIST);
  EXPECT(g, "192.0.2.1", "a@x.example", "u@notopen.example", 0, GREYLIST_DEFER_NEW);
  ck_assert_uint_eq(greylist_triplet_count(g), 3);
  greylist_free(g);
}
END_TEST

START_TEST(header_value) {
  greylist *g = greylist_new(NULL);
  greylist_verdict v = {0};
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 0, &v);
  ck_assert_ptr_null(greylist_header_value(&v, "mx.y.example", 0, MIME_DATE_EPOCH_DEFAULT));
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 312 * S + 5, &v);
  char *h = greylist_header_value(&v, "mx.y.example", 312 * S + 5, MIME_DATE_EPOCH_DEFAULT);
  ck_assert_str_eq(h, "delayed 312 seconds by mx.y.example; Thu, 01 Jan 2026 00:05:12 +0000");
  g_free(h);
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 400 * S, &v);
  ck_assert_ptr_null(greylist_header_value(&v, "mx.y.example", 400 * S, MIME_DATE_EPOCH_DEFAULT));
  greylist_verdict_clear(&v);
  greylist_free(g);
}
END_TEST

START_TEST(save_load_roundtrip) {
  greylist *g = greylist_new(NULL);
  for (int i = 0; i < 6; i++) {
    char from[40];
    g_snprintf(from, sizeof from, "user %c@x.example", 'a' + i); /* space: escaped */
    chk(g, i % 2 ? "2001:db8::1" : "192.0.2.1", from, "b@y.example", i * 3600 * S, NULL);
    chk(g, i % 2 ? "2001:db8::1" : "192.0.2.1", from, "b@y.example", i * 3600 * S + 300 * S, NULL);
  }
  chk(g, "192.0.2.1", "late@x.example", "b@y.example", 30 * 3600 * S, NULL);
  char *text = greylist_save(g);
  ck_assert(g_str_has_prefix(text, "mailsim-greylist 1\nt "));
  ck_assert_ptr_nonnull(strstr(text, "user%20a@x.example"));
  greylist *h = greylist_new(NULL);
  char *err = NULL;
  ck_assert_msg(greylist_load(h, text, strlen(text), &err), "load: %s", err);
  char *again = greylist_save(h);
  ck_assert_str_eq(again, text);
  ck_assert_uint_eq(greylist_triplet_count(h), 7);
  ck_assert_uint_eq(greylist_client_count(h), 2);
  /* The restored state decides as the original does. */
  const int64_t t = 30 * 3600 * S + 300 * S;
  ck_assert_int_eq(chk(g, "192.0.2.1", "late@x.example", "b@y.example", t, NULL),
                   GREYLIST_PASS_DELAYED);
  ck_assert_int_eq(chk(h, "192.0.2.1", "late@x.example", "b@y.example", t, NULL),
                   GREYLIST_PASS_DELAYED);
  ck_assert_int_eq(chk(h, "192.0.2.1", "user a@x.example", "b@y.example", t, NULL),
                   GREYLIST_PASS_KNOWN);
  g_free(text);
  g_free(again);
  greylist_free(g);
  greylist_free(h);
}
END_TEST

static const struct {
  const char *text;
  const char *want_err;
} bad_loads[] = {
    {"", "line 1: expected \"mailsim-greylist 1\""},
    {"mailsim-greylist 2\n", "line 1: expected \"mailsim-greylist 1\""},
    {"mailsim-greylist 1", "line 1: expected a line ending with LF"},
    {"mailsim-greylist 1\nx 1 2 k\n", "line 2: expected \"t\" or \"c\" and a space"},
    {"mailsim-greylist 1\nt 1 k\n", "line 2: expected two integers"},
    {"mailsim-greylist 1\nt 5 2 k\n", "line 2: expected first <= last"},
    {"mailsim-greylist 1\nt 1 2 a%zz\n", "line 2: expected a %-escaped key"},
    {"mailsim-greylist 1\nt 1 2 a%00\n", "line 2: expected a %-escaped key"},
    {"mailsim-greylist 1\nt 1 2 a b\n", "line 2: expected a %-escaped key"},
    {"mailsim-greylist 1\nt 1 2 \n", "line 2: expected a %-escaped key"},
    {"mailsim-greylist 1\nt 1 2 k\nt 1 3 k\n", "line 3: expected a key not seen before"},
    {"mailsim-greylist 1\nc -1 2 k\n", "line 2: expected a count 0..4294967295"},
    {"mailsim-greylist 1\nt 99999999999999999999 2 k\n", "line 2: expected two integers"},
    {"mailsim-greylist 1\nt 1 2 k\nc 1 2", "line 3: expected a line ending with LF"},
};

START_TEST(load_errors) {
  greylist *g = greylist_new(NULL);
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 0, NULL);
  char *before = greylist_save(g);
  char *err = NULL;
  ck_assert(!greylist_load(g, bad_loads[_i].text, strlen(bad_loads[_i].text), &err));
  ck_assert_msg(g_strcmp0(err, bad_loads[_i].want_err) == 0, "row %d: got [%s] want [%s]", _i, err,
                bad_loads[_i].want_err);
  char *after = greylist_save(g);
  ck_assert_str_eq(after, before);
  g_free(err);
  g_free(before);
  g_free(after);
  greylist_free(g);
}
END_TEST

/* Every prefix of a good state file either loads or fails cleanly. */
START_TEST(load_prefixes) {
  greylist *g = greylist_new(NULL);
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 0, NULL);
  chk(g, "192.0.2.1", "a@x.example", "b@y.example", 300 * S, NULL);
  char *text = greylist_save(g);
  gsize n = strlen(text);
  guint ok = 0;
  for (gsize i = 0; i <= n; i++) {
    greylist *h = greylist_new(NULL);
    char *err = NULL;
    if (greylist_load(h, text, i, &err))
      ok++;
    else
      ck_assert_ptr_nonnull(err);
    g_free(err);
    greylist_free(h);
  }
  ck_assert_uint_eq(ok, 3); /* after each of the three lines */
  g_free(text);
  greylist_free(g);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("greylist");
  TCase *t = tcase_create("normalise");
  tcase_add_loop_test(t, sender_table, 0, G_N_ELEMENTS(senders));
  tcase_add_loop_test(t, net_table, 0, G_N_ELEMENTS(nets));
  suite_add_tcase(s, t);
  t = tcase_create("rules");
  tcase_add_test(t, boundary_299_300);
  tcase_add_test(t, configurable_delay_and_text);
  tcase_add_test(t, retry_window);
  tcase_add_test(t, max_age);
  tcase_add_test(t, awl_after_five);
  tcase_add_test(t, awl_counts_once_per_hour);
  tcase_add_loop_test(t, subnet_grouping, 0, G_N_ELEMENTS(groups));
  tcase_add_test(t, sender_normalised_in_key);
  tcase_add_test(t, whitelists);
  tcase_add_test(t, header_value);
  suite_add_tcase(s, t);
  t = tcase_create("state");
  tcase_add_test(t, save_load_roundtrip);
  tcase_add_loop_test(t, load_errors, 0, G_N_ELEMENTS(bad_loads));
  tcase_add_test(t, load_prefixes);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return testutil_run(suite()); }
