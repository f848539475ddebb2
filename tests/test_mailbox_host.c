/* Tests for the mailbox host: delivery over SMTP (accepted, unknown user,
 * over quota), then retrieval by the MUA over IMAP and POP3 with STARTTLS,
 * a crash between delivery and fetch, and reproducibility. Also the IMAP
 * glue's MIME provider. */
#include <string.h>

#include "imap_glue.h"
#include "mail_world.h"
#include "mailbox_host.h"
#include "mime_compose.h"
#include "mua.h"
#include "testutil.h"

typedef struct {
  uint64_t seed;
  uint64_t quota_bytes, quota_msgs;
  bool twice; /* a second delivery to bob at 5 s */
  bool fetch; /* the MUA fetches bob's mail */
  mua_proto proto;
  bool keep;
  bool mua_tls; /* the client has TLS (else it cannot log in) */
  bool crash;   /* the mailbox host is down from 10 s to 20 s */
  const char *const *rcpts;
  const char *password; /* NULL: bob's */
  uint32_t mtu;         /* 0: 1500 */
  sim_time crash_at;    /* with crash: when (0: 10 s; back 10 s later) */
  bool many_users;      /* LONG_USERS more accounts on mbox (long_user) */
} params;

#define LONG_USERS 12

/* The address of the I-th extra account: a 60-octet local part. */
static char *long_user(int i) {
  return g_strdup_printf("user-%02d-%s@example.org", i,
                         "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmno");
}

typedef struct {
  GString *trace;
  unsigned ok[2], temp[2], perm[2];
  int codes[2][8];
  uint32_t inbox, unseen;
  uint64_t bytes;
  mua_stats st;
  uint64_t delivered;
} result;

static const char *const bob_only[] = {"bob@example.org", NULL};

/* The test message: text, HTML and a 3000-octet attachment. */
static char *message(void) {
  static guint8 pdf[3000];
  for (size_t i = 0; i < sizeof pdf; i++)
    pdf[i] = (guint8)(i * 7);
  mime_compose_attachment att = {"report.pdf", "application/pdf", pdf, sizeof pdf};
  mime_compose_config cfg = {.from = "Alice <alice@example.com>",
                             .to = "Bob <bob@example.org>",
                             .subject = "Quarterly report",
                             .date_ns = 0,
                             .epoch_unix = 1767225600,
                             .message_id = "m1.test@example.com",
                             .text = "Hello Bob,\nthe report is attached.\n",
                             .html = "<p>Hello Bob</p>",
                             .attachments = &att,
                             .n_attachments = 1};
  GError *err = NULL;
  GBytes *b = mime_compose_build(&cfg, NULL, &err);
  ck_assert_msg(b, "%s", err ? err->message : "");
  gsize n;
  const char *p = g_bytes_get_data(b, &n);
  char *s = g_strndup(p, n);
  g_bytes_unref(b);
  return s;
}

static void run(const params *p, result *r) {
  memset(r, 0, sizeof *r);
  mail_world x;
  mw_init(&x, p->seed, SIM_DETAIL_PROTOCOL);
  x.mtu = p->mtu;
  host *mx = mw_add(&x, "mx", "10.0.0.25", NULL, NULL);
  tls_host *mbt, *lt;
  host *mb = mw_add(&x, "mbox", "10.0.0.143", "mail.example.org", &mbt);
  host *lap = mw_add(&x, "laptop", "10.0.0.10", "laptop.example.org", &lt);
  userdir *ud = userdir_new();
  userdir_add(ud, "bob@example.org", "bob-secret-pw", "mbox");
  userdir_add(ud, "carol@example.org", "carol-secret-pw", "mbox");
  userdir_add(ud, "dave@other.org", "dave-pw", "elsewhere");
  for (int i = 0; p->many_users && i < LONG_USERS; i++) {
    char *a = long_user(i);
    userdir_add(ud, a, "pw", "mbox");
    g_free(a);
  }
  mailbox_host_config mc;
  mailbox_host_config_init(&mc);
  mc.hostname = "mail.example.org";
  mc.quota_bytes = p->quota_bytes;
  mc.quota_msgs = p->quota_msgs;
  mailbox_host *mbh = mailbox_host_new(mb, &mc, ud, mbt);
  mua_config uc;
  mua_config_init(&uc);
  mua *u = mua_new(lap, &uc, p->mua_tls ? lt : NULL, NULL);
  char *msg = message();
  mw_sender s1, s2;
  mw_send_at(&x, &s1, mx, "10.0.0.143", SIM_S, "alice@example.com", p->rcpts ? p->rcpts : bob_only,
             msg);
  if (p->twice)
    mw_send_at(&x, &s2, mx, "10.0.0.143", 5 * SIM_S, "alice@example.com", bob_only, msg);
  if (p->crash) {
    sim_time at = p->crash_at ? p->crash_at : 10 * SIM_S;
    sim_node_crash_at(host_node(mb), at);
    sim_node_restart_at(host_node(mb), at + 10 * SIM_S);
  }
  if (p->fetch) {
    mua_fetch f = {.proto = p->proto,
                   .server = "mail.example.org",
                   .server_addr = "10.0.0.143",
                   .user = "bob@example.org",
                   .password = p->password ? p->password : "bob-secret-pw",
                   .first = 30 * SIM_S,
                   .interval = 10 * SIM_MIN,
                   .keep = p->keep};
    mua_fetch_every(u, &f);
  }
  sim_world_run(x.w, 25 * SIM_MIN);
  r->trace = g_string_new(mw_trace(&x));
  if (g_getenv("MW_DUMP")) {
    char *fn = g_strdup_printf("%s.%d.%d", g_getenv("MW_DUMP"), (int)p->seed, (int)p->proto);
    g_file_set_contents(fn, r->trace->str, -1, NULL);
    g_free(fn);
  }
  r->ok[0] = s1.ok, r->temp[0] = s1.temp, r->perm[0] = s1.perm;
  memcpy(r->codes[0], s1.codes, sizeof s1.codes);
  if (p->twice) {
    r->ok[1] = s2.ok, r->temp[1] = s2.temp, r->perm[1] = s2.perm;
    memcpy(r->codes[1], s2.codes, sizeof s2.codes);
  }
  mailstore_status st;
  ck_assert_int_eq(mailstore_status_get(mailbox_host_store(mbh), "bob@example.org", "INBOX", &st),
                   MAILSTORE_OK);
  r->inbox = st.messages;
  r->unseen = st.unseen;
  uint64_t msgs;
  mailstore_usage(mailbox_host_store(mbh), "bob@example.org", &r->bytes, &msgs);
  mua_get_stats(u, &r->st);
  r->delivered = mailbox_host_delivered(mbh);
  /* teardown: services, then the world */
  mw_sender_clear(&s1);
  if (p->twice)
    mw_sender_clear(&s2);
  mua_free(u);
  mailbox_host_free(mbh);
  mw_free(&x);
  userdir_free(ud);
  g_free(msg);
}

static void result_clear(result *r) { g_string_free(r->trace, TRUE); }

START_TEST(delivery_accepts_users_and_refuses_others) {
  static const char *const rcpts[] = {"bob@example.org", "nobody@example.org", "dave@other.org",
                                      "carol@example.org", NULL};
  params p = {.seed = 1, .rcpts = rcpts};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.ok[0], 2);
  ck_assert_uint_eq(r.perm[0], 2);
  ck_assert_int_eq(r.codes[0][1], 550);
  ck_assert_int_eq(r.codes[0][2], 550);
  ck_assert_uint_eq(r.inbox, 1);
  ck_assert_uint_eq(r.delivered, 2);
  const char *t = r.trace->str;
  ck_assert_msg(strstr(t, "550 5.1.1"), "%s", t);
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.deliver\""), 2);
  ck_assert_ptr_nonnull(
      strstr(t, "\"ev\":\"msg.deliver\",\"node\":\"mbox\",\"msg\":\"m1.test@example.com\","
                "\"rcpt\":\"bob@example.org\",\"mailbox\":\"bob@example.org\","
                "\"folder\":\"INBOX\",\"uid\":1"));
  ck_assert_ptr_nonnull(strstr(t, "\"ev\":\"msg.relay\",\"from\":\"mx\",\"to\":\"mbox\","
                                  "\"msg\":\"m1.test@example.com\""));
  /* Both recipients, so no "for" clause; the hop is ours. */
  ck_assert_ptr_nonnull(strstr(t, "\"ev\":\"smtp.cmd\""));
  ck_assert_ptr_nonnull(strstr(t, "RCPT TO:<nobody@example.org>"));
  result_clear(&r);
}
END_TEST

/* More recipients and longer addresses than the delivery keeps on the
 * stack, one account given twice: each account gets
 * one copy, in the order given. */
START_TEST(delivery_to_many_long_addresses) {
  char *addrs[LONG_USERS];
  const char *rcpts[LONG_USERS + 3];
  size_t n = 0;
  rcpts[n++] = "bob@example.org";
  for (int i = 0; i < LONG_USERS; i++)
    rcpts[n++] = addrs[i] = long_user(i);
  rcpts[n++] = "bob@example.org";
  rcpts[n] = NULL;
  params p = {.seed = 3, .rcpts = rcpts, .many_users = true};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.ok[0], LONG_USERS + 2);
  ck_assert_uint_eq(r.delivered, LONG_USERS + 1);
  ck_assert_uint_eq(r.inbox, 1);
  const char *t = r.trace->str;
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.deliver\""), LONG_USERS + 1);
  const char *at = strstr(t, "\"rcpt\":\"bob@example.org\"");
  for (int i = 0; i < LONG_USERS; i++) { /* in order, each with its own address */
    char *want = g_strdup_printf("\"rcpt\":\"%s\",\"mailbox\":\"%s\"", addrs[i], addrs[i]);
    const char *got = at ? strstr(at, want) : NULL;
    ck_assert_msg(got, "no delivery to %s after the one before", addrs[i]);
    at = got;
    g_free(want);
    g_free(addrs[i]);
  }
  result_clear(&r);
}
END_TEST

START_TEST(over_quota_is_452_and_nothing_is_stored) {
  /* bytes: the message (~4.5 kB) does not fit in 1000 */
  params p = {.seed = 2, .quota_bytes = 1000};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.ok[0], 0);
  ck_assert_uint_eq(r.temp[0], 1);
  ck_assert_int_eq(r.codes[0][0], 452);
  ck_assert_uint_eq(r.inbox, 0);
  ck_assert_uint_eq(r.bytes, 0);
  ck_assert_ptr_nonnull(strstr(r.trace->str, "452 4.2.2 Mailbox full"));
  ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"msg.deliver\""), 0);
  result_clear(&r);
  /* messages: one fits, the second is refused */
  params q = {.seed = 2, .quota_msgs = 1, .twice = true};
  run(&q, &r);
  ck_assert_uint_eq(r.ok[0], 1);
  ck_assert_uint_eq(r.temp[1], 1);
  ck_assert_int_eq(r.codes[1][0], 452);
  ck_assert_uint_eq(r.inbox, 1);
  ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"msg.deliver\""), 1);
  result_clear(&r);
}
END_TEST

/* What every successful fetch must show. */
static void check_display(const char *t, const char *proto) {
  char *want = g_strdup_printf("\"ev\":\"msg.fetch\",\"node\":\"laptop\",\"from\":\"mbox\","
                               "\"msg\":\"m1.test@example.com\",\"proto\":\"%s\","
                               "\"mailbox\":\"bob@example.org\"",
                               proto);
  ck_assert_msg(strstr(t, want), "no %s in\n%s", want, t);
  g_free(want);
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.fetch\""), 1);
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.display\""), 1);
  ck_assert_ptr_nonnull(strstr(t, "\"Subject\":\"Quarterly report\""));
  ck_assert_ptr_nonnull(strstr(
      t, "\"attachments\":[{\"name\":\"report.pdf\",\"type\":\"application/pdf\",\"size\":3000}]"));
  ck_assert_ptr_nonnull(
      strstr(t, "\"received\":[\"by mail.example.org from mx.example.org with ESMTP\"]"));
  ck_assert_ptr_null(strstr(t, "bob-secret-pw"));
}

START_TEST(imap_fetch_with_starttls) {
  params p = {.seed = 3, .fetch = true, .proto = MUA_IMAP, .mua_tls = true};
  result r;
  run(&p, &r);
  const char *t = r.trace->str;
  check_display(t, "imap");
  ck_assert_uint_eq(r.st.fetched, 1);
  ck_assert_uint_eq(r.st.rounds, 3); /* 30 s, 10 m 30 s, 20 m 30 s: new mail only once */
  ck_assert_uint_eq(r.inbox, 1);     /* IMAP keeps it, marked \Seen */
  ck_assert_uint_eq(r.unseen, 0);
  ck_assert_ptr_nonnull(strstr(t, "\"ev\":\"imap.cmd\""));
  ck_assert_ptr_nonnull(strstr(t, "\"ev\":\"imap.reply\""));
  ck_assert_ptr_nonnull(strstr(t, "STARTTLS"));
  ck_assert_ptr_nonnull(strstr(t, "\"ev\":\"tls.established\""));
  ck_assert_int_ge(mw_count(t, "\"ev\":\"imap.cmd\",\"conn\":"), 8);
  result_clear(&r);
}
END_TEST

START_TEST(pop3_fetch_delete_and_keep) {
  params p = {.seed = 4, .fetch = true, .proto = MUA_POP3, .mua_tls = true};
  result r;
  run(&p, &r);
  check_display(r.trace->str, "pop3");
  ck_assert_uint_eq(r.inbox, 0); /* DELE then QUIT */
  ck_assert_uint_eq(r.st.rounds, 3);
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"ev\":\"pop3.cmd\""));
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"ev\":\"pop3.reply\""));
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"line\":\"STLS\""));
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"line\":\"DELE 1\""));
  result_clear(&r);
  params q = p;
  q.keep = true;
  run(&q, &r);
  check_display(r.trace->str, "pop3"); /* once, though three rounds saw it */
  ck_assert_uint_eq(r.inbox, 1);
  ck_assert_uint_eq(r.st.rounds, 3);
  ck_assert_ptr_null(strstr(r.trace->str, "\"line\":\"DELE"));
  result_clear(&r);
}
END_TEST

START_TEST(crash_between_delivery_and_fetch_keeps_the_message) {
  mua_proto protos[] = {MUA_IMAP, MUA_POP3};
  for (int i = 0; i < 2; i++) {
    params p = {.seed = 5, .fetch = true, .proto = protos[i], .mua_tls = true, .crash = true};
    result r;
    run(&p, &r);
    ck_assert_uint_eq(r.ok[0], 1);
    check_display(r.trace->str, i ? "pop3" : "imap");
    ck_assert_ptr_nonnull(strstr(r.trace->str, "\"ev\":\"fault.crash\""));
    result_clear(&r);
  }
}
END_TEST

START_TEST(crash_between_retr_and_quit_loses_nothing) {
  /* The server goes down after sending RETR 1 and before DELE 1 arrives:
   * no UPDATE, the message stays; the next round downloads it again and
   * deletes it. */
  params p = {.seed = 4,
              .fetch = true,
              .proto = MUA_POP3,
              .mua_tls = true,
              .crash = true,
              .crash_at = 30850 * SIM_MS};
  result r;
  run(&p, &r);
  const char *t = r.trace->str;
  const char *crash = strstr(t, "\"ev\":\"fault.crash\"");
  ck_assert_ptr_nonnull(crash);
  ck_assert_msg(strstr(t, "\"line\":\"RETR 1\"") < crash, "RETR after the crash");
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.fetch\""), 2);
  ck_assert_int_eq(mw_count(t, "\"line\":\"DELE 1\""), 1);
  ck_assert_ptr_nonnull(strstr(crash, "\"line\":\"DELE 1\""));
  ck_assert_uint_eq(r.inbox, 0);
  ck_assert_uint_eq(r.st.fetched, 2);
  result_clear(&r);
}
END_TEST

START_TEST(no_login_before_tls) {
  mua_proto protos[] = {MUA_IMAP, MUA_POP3};
  for (int i = 0; i < 2; i++) {
    params p = {.seed = 6, .fetch = true, .proto = protos[i], .mua_tls = false};
    result r;
    run(&p, &r);
    ck_assert_uint_eq(r.st.fetched, 0);
    ck_assert_uint_eq(r.inbox, 1);
    ck_assert_ptr_null(strstr(r.trace->str, "bob-secret-pw"));
    /* IMAP: the client sees LOGINDISABLED in the greeting and never
     * tries; POP3: the server refuses the login. */
    ck_assert_ptr_null(strstr(r.trace->str, "LOGIN bob"));
    ck_assert_ptr_null(strstr(r.trace->str, "AUTHENTICATE PLAIN"));
    ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"tcp.connect\",\"node\":\"laptop\""), 3);
    if (i == 1)
      ck_assert_msg(strstr(r.trace->str, "\"ev\":\"pop3.reply\"") && strstr(r.trace->str, "-ERR"),
                    "no refusal");
    result_clear(&r);
  }
}
END_TEST

START_TEST(wrong_password_is_refused) {
  mua_proto protos[] = {MUA_IMAP, MUA_POP3};
  const char *want[] = {"NO [AUTHENTICATIONFAILED]", "-ERR [AUTH]"};
  for (int i = 0; i < 2; i++) {
    params p = {.seed = 8, .fetch = true, .proto = protos[i], .mua_tls = true, .password = "guess"};
    result r;
    run(&p, &r);
    ck_assert_uint_eq(r.st.fetched, 0);
    ck_assert_uint_eq(r.inbox, 1);
    ck_assert_msg(strstr(r.trace->str, want[i]), "no %s", want[i]);
    ck_assert_ptr_null(strstr(r.trace->str, "guess"));
    result_clear(&r);
  }
}
END_TEST

/* The msg.display record without its time and id. */
static char *display_of(const char *t) {
  const char *p = strstr(t, "\"ev\":\"msg.display\"");
  ck_assert_ptr_nonnull(p);
  return g_strndup(p, (gsize)(strchr(p, '\n') - p));
}

START_TEST(small_segments_same_view) {
  /* A 100-octet MTU splits every line and the message across segments
   * (and TLS records): the user sees the same thing. */
  mua_proto protos[] = {MUA_IMAP, MUA_POP3};
  for (int i = 0; i < 2; i++) {
    params p = {.seed = 9, .fetch = true, .proto = protos[i], .mua_tls = true};
    result a, b;
    run(&p, &a);
    p.mtu = 100;
    run(&p, &b);
    check_display(b.trace->str, i ? "pop3" : "imap");
    char *da = display_of(a.trace->str), *db = display_of(b.trace->str);
    ck_assert_str_eq(da, db);
    ck_assert_int_gt(mw_count(b.trace->str, "\"ev\":\"tcp."), 0);
    g_free(da);
    g_free(db);
    result_clear(&a);
    result_clear(&b);
  }
}
END_TEST

START_TEST(same_seed_same_trace) {
  params p = {.seed = 7, .fetch = true, .proto = MUA_IMAP, .mua_tls = true, .twice = true};
  result a, b;
  run(&p, &a);
  run(&p, &b);
  ck_assert_msg(g_string_equal(a.trace, b.trace), "same seed, different trace");
  ck_assert_uint_eq(a.st.fetched, 2);
  result_clear(&a);
  result_clear(&b);
}
END_TEST

/* ---- the MIME provider ---- */

START_TEST(mime_provider_views) {
  char *m = message();
  GBytes *b = g_bytes_new_take(m, strlen(m));
  const imap_mime_provider *pr = &imap_glue_mime;
  char *env = pr->envelope(pr->ud, b);
  ck_assert_msg(strstr(env, "\"Quarterly report\"") && strstr(env, "\"<m1.test@example.com>\""),
                "%s", env);
  char *bs = pr->bodystructure(pr->ud, b, true);
  ck_assert_msg(strstr(bs, "\"MIXED\"") && strstr(bs, "\"report.pdf\""), "%s", bs);
  struct {
    uint32_t part[2];
    size_t n;
    imap_section_kind kind;
    bool ok;
    const char *starts;
  } rows[] = {
      {{1, 1}, 2, IMAP_SEC_ALL, true, "Hello Bob,"},
      {{2, 0}, 1, IMAP_SEC_MIME, true, "Content-Type: application/pdf"},
      {{2, 0}, 1, IMAP_SEC_HEADER, false, NULL}, /* not a message/rfc822 part */
      {{9, 0}, 1, IMAP_SEC_ALL, false, NULL},
  };
  gsize n;
  const char *p = g_bytes_get_data(b, &n);
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    size_t off = 0, len = 0;
    bool ok = pr->section(pr->ud, b, rows[i].part, rows[i].n, rows[i].kind, &off, &len);
    ck_assert_msg(ok == rows[i].ok, "row %zu: got %d want %d", i, ok, rows[i].ok);
    if (ok) {
      ck_assert(off + len <= n);
      ck_assert_msg(strncmp(p + off, rows[i].starts, strlen(rows[i].starts)) == 0,
                    "row %zu: got %.40s want %s", i, p + off, rows[i].starts);
    }
  }
  g_free(env);
  g_free(bs);
  g_bytes_unref(b);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mailbox_host");
  TCase *d = tcase_create("delivery");
  tcase_add_test(d, delivery_accepts_users_and_refuses_others);
  tcase_add_test(d, delivery_to_many_long_addresses);
  tcase_add_test(d, over_quota_is_452_and_nothing_is_stored);
  suite_add_tcase(s, d);
  TCase *f = tcase_create("fetch");
  tcase_add_test(f, imap_fetch_with_starttls);
  tcase_add_test(f, pop3_fetch_delete_and_keep);
  tcase_add_test(f, crash_between_delivery_and_fetch_keeps_the_message);
  tcase_add_test(f, crash_between_retr_and_quit_loses_nothing);
  tcase_add_test(f, no_login_before_tls);
  tcase_add_test(f, wrong_password_is_refused);
  tcase_add_test(f, small_segments_same_view);
  tcase_add_test(f, same_seed_same_trace);
  suite_add_tcase(s, f);
  TCase *m = tcase_create("mime");
  tcase_add_test(m, mime_provider_views);
  suite_add_tcase(s, m);
  return testutil_run(s);
}
