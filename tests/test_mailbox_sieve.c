/* Tests for the mailbox host's user rules (issue 7): a per-user Sieve
 * script run at delivery (fileinto, discard, keep), the spam folder for
 * messages the MX flagged (X-Spam-Flag: YES), and a script with an error
 * refused with its line. Deliveries come over SMTP as from an MX. */
#include <string.h>

#include "mail_world.h"
#include "mailbox_host.h"
#include "testutil.h"

static const char *const bob_only[] = {"bob@example.org", NULL};

static const char script[] = "require \"fileinto\";\n"
                             "if header :contains \"subject\" \"newsletter\" {\n"
                             "  fileinto \"News\";\n"
                             "} elsif address :is \"from\" \"junk@spam.example\" {\n"
                             "  discard;\n"
                             "}\n";

typedef struct {
  const char *subject, *from, *extra; /* extra: header fields, may be "" */
  const char *want_folder;            /* msg.deliver folder */
} row;

static const row rows[] = {
    {"Weekly newsletter", "news@list.example", "", "News"},
    {"hello", "junk@spam.example", "", ""},
    {"hello", "alice@example.com", "", "INBOX"},
    {"Cheap newsletter", "x@spam.example", "X-Spam-Flag: YES\r\n", "Junk"},
};

static uint32_t folder_count(mailbox_host *mbh, const char *folder) {
  mailstore_status st;
  if (mailstore_status_get(mailbox_host_store(mbh), "bob@example.org", folder, &st) !=
      MAILSTORE_OK)
    return 0;
  return st.messages;
}

START_TEST(sieve_and_spam_folder_at_delivery) {
  mail_world x;
  mw_init(&x, 7, SIM_DETAIL_MESSAGES);
  host *mx = mw_add(&x, "mx", "10.0.0.25", NULL, NULL);
  tls_host *mbt;
  host *mb = mw_add(&x, "mbox", "10.0.0.143", "mail.example.org", &mbt);
  userdir *ud = userdir_new();
  userdir_add(ud, "bob@example.org", "bob-secret-pw", "mbox");
  mailbox_host_config mc;
  mailbox_host_config_init(&mc);
  mc.hostname = "mail.example.org";
  mc.spam_folder = "Junk";
  mailbox_host *mbh = mailbox_host_new(mb, &mc, ud, mbt);
  char *err = NULL;
  ck_assert(mailbox_host_set_sieve(mbh, "bob@example.org", script, &err));
  ck_assert_ptr_null(err);
  mw_sender snd[G_N_ELEMENTS(rows)];
  char *msgs[G_N_ELEMENTS(rows)];
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    msgs[i] = g_strdup_printf("%sFrom: <%s>\r\nTo: bob@example.org\r\nSubject: %s\r\n"
                              "Message-ID: <r%zu.t@example.com>\r\n\r\nbody\r\n",
                              rows[i].extra, rows[i].from, rows[i].subject, i);
    mw_send_at(&x, &snd[i], mx, "10.0.0.143", (sim_time)(i + 1) * SIM_S, rows[i].from, bob_only,
               msgs[i]);
  }
  sim_world_run(x.w, 2 * SIM_MIN);
  const char *t = mw_trace(&x);
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    ck_assert_uint_eq(snd[i].ok, 1);
    char *want = g_strdup_printf("\"msg\":\"r%zu.t@example.com\",\"rcpt\":\"bob@example.org\","
                                 "\"mailbox\":\"bob@example.org\",\"folder\":\"%s\"",
                                 i, rows[i].want_folder);
    ck_assert_msg(strstr(t, want), "row %zu: want %s in\n%s", i, want, t);
    g_free(want);
  }
  ck_assert_uint_eq(folder_count(mbh, "News"), 1);
  ck_assert_uint_eq(folder_count(mbh, "INBOX"), 1);
  ck_assert_uint_eq(folder_count(mbh, "Junk"), 1);
  ck_assert_uint_eq(mailbox_host_delivered(mbh), 3); /* the discarded one is not stored */
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    mw_sender_clear(&snd[i]);
    g_free(msgs[i]);
  }
  mailbox_host_free(mbh);
  mw_free(&x);
  userdir_free(ud);
}
END_TEST

START_TEST(script_with_error_refused) {
  mail_world x;
  mw_init(&x, 8, SIM_DETAIL_MESSAGES);
  tls_host *mbt;
  host *mb = mw_add(&x, "mbox", "10.0.0.143", "mail.example.org", &mbt);
  userdir *ud = userdir_new();
  userdir_add(ud, "bob@example.org", "bob-secret-pw", "mbox");
  mailbox_host_config mc;
  mailbox_host_config_init(&mc);
  mailbox_host *mbh = mailbox_host_new(mb, &mc, ud, mbt);
  char *err = NULL;
  ck_assert(!mailbox_host_set_sieve(mbh, "bob@example.org", "keep;\nfrobnicate;\n", &err));
  ck_assert_msg(err && g_str_has_prefix(err, "line 2"), "got %s want line 2", err ? err : "NULL");
  g_free(err);
  ck_assert(mailbox_host_set_sieve(mbh, "bob@example.org", NULL, NULL));
  mailbox_host_free(mbh);
  mw_free(&x);
  userdir_free(ud);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mailbox_sieve");
  TCase *tc = tcase_create("sieve");
  tcase_add_test(tc, sieve_and_spam_folder_at_delivery);
  tcase_add_test(tc, script_with_error_refused);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
