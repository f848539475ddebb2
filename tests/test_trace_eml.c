/* Tests for traces/trace_eml.c: which messages a trace gives (at the end,
 * ever stored, per mailbox), the errors, mboxrd quoting and the From_ line,
 * file names. The traces are written by hand with the trace writer. */
#include <string.h>

#include "testutil.h"
#include "trace.h"
#include "trace_eml.h"

/* A run of two deliveries at host mb: m1 to bob and carol (msg.store id 2),
 * then m2 to bob (id 4); at the end bob keeps m1 (uid 1) and a copy of m2
 * in Archive, plus an APPENDed draft with its own data; carol's m1 is gone. */
static const char *M1 = "Subject: one\r\nFrom me\r\n>From you\r\nplain\r\n";
static const char *M2 = "Subject: two\r\n\r\nno final newline";

static void store(trace_writer *tw, int64_t t, const char *msg, const char *from, const char *d) {
  trace_event_begin(tw, t, "msg.store");
  trace_key_str(tw, "node", "mb");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", "Q");
  trace_key_str(tw, "env_from", from);
  trace_key_uint(tw, "size", strlen(d));
  trace_key_int(tw, "date_unix", 1772442600 + t / 1000000000);
  trace_key_bytes(tw, "data", d, strlen(d));
  trace_end(tw);
}

static void deliver(trace_writer *tw, int64_t t, const char *msg, const char *mbox, int uid) {
  trace_event_begin(tw, t, "msg.deliver");
  trace_key_str(tw, "node", "mb");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "rcpt", mbox);
  trace_key_str(tw, "mailbox", mbox);
  trace_key_str(tw, "folder", uid ? "INBOX" : "");
  trace_key_uint(tw, "uid", (uint64_t)uid);
  trace_end(tw);
}

static void kept(trace_writer *tw, const char *mbox, const char *folder, int uid, const char *msg,
                 int store_id, const char *own) {
  trace_event_begin(tw, 9000000000, "msg.kept");
  trace_key_str(tw, "node", "mb");
  trace_key_str(tw, "mailbox", mbox);
  trace_key_str(tw, "folder", folder);
  trace_key_uint(tw, "uid", (uint64_t)uid);
  trace_key_str(tw, "msg", msg);
  trace_arr_begin(tw, "flags");
  trace_arr_end(tw);
  trace_key_int(tw, "date_unix", 1772442000);
  trace_key_uint(tw, "store", (uint64_t)store_id);
  if (own)
    trace_key_bytes(tw, "data", own, strlen(own));
  trace_end(tw);
}

/* KIND: 0 full, 1 no bodies, 2 msg.kept naming a missing store, 3 no data. */
static char *make(int kind) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", TRACE_FORMAT_VERSION);
  trace_end(tw);
  if (kind != 1)
    store(tw, 1000000000, "m1", "alice@example.com", M1); /* id 1 */
  deliver(tw, 1000000000, "m1", "bob@x", 1);
  deliver(tw, 1000000000, "m1", "carol@x", 1);
  if (kind != 1)
    store(tw, 2000000000, "m2", "", M2);
  deliver(tw, 2000000000, "m2", "bob@x", 2);
  deliver(tw, 2000000000, "m2", "bob@x", 0); /* a discard: nothing stored */
  if (kind != 1) {
    kept(tw, "bob@x", "Archive", 1, "m2", 4, NULL);
    kept(tw, "bob@x", "Drafts", 1, "d1", 0, kind == 3 ? NULL : "Subject: draft\r\n\r\n");
    kept(tw, "bob@x", "INBOX", 1, "m1", kind == 2 ? 3 : 1, NULL);
  }
  char *s = g_strdup(trace_writer_peek_memory(tw)->str);
  trace_writer_free(tw);
  return s;
}

static GPtrArray *collect(int kind, trace_eml_which which, const char *mbox, GError **err) {
  char *text = make(kind);
  trace_reader *r = trace_reader_new_memory("t.jsonl", text, strlen(text), err);
  ck_assert_ptr_nonnull(r);
  GPtrArray *a = trace_eml_collect(r, "t.jsonl", which, mbox, err);
  trace_reader_free(r);
  g_free(text);
  return a;
}

static const struct {
  trace_eml_which which;
  const char *mailbox;
  const char *want; /* "mailbox/folder/uid/msg/env_from/date;" per message */
} pick_rows[] = {
    {TRACE_EML_AT_END, NULL,
     "bob@x/Archive/1/m2//1772442000;bob@x/Drafts/1/d1//1772442000;"
     "bob@x/INBOX/1/m1/alice@example.com/1772442000;"},
    {TRACE_EML_AT_END, "BOB@X",
     "bob@x/Archive/1/m2//1772442000;bob@x/Drafts/1/d1//1772442000;"
     "bob@x/INBOX/1/m1/alice@example.com/1772442000;"},
    {TRACE_EML_EVER, NULL,
     "bob@x/INBOX/1/m1/alice@example.com/1772442601;carol@x/INBOX/1/m1/alice@example.com/"
     "1772442601;bob@x/INBOX/2/m2//1772442602;"},
    {TRACE_EML_EVER, "carol@x", "carol@x/INBOX/1/m1/alice@example.com/1772442601;"},
};

START_TEST(which_messages) {
  GError *err = NULL;
  GPtrArray *a = collect(0, pick_rows[_i].which, pick_rows[_i].mailbox, &err);
  ck_assert_msg(a, "row %d: %s", _i, err ? err->message : "");
  GString *got = g_string_new(NULL);
  for (guint i = 0; i < a->len; i++) {
    const trace_eml_msg *m = a->pdata[i];
    g_string_append_printf(got, "%s/%s/%u/%s/%s/%" G_GINT64_FORMAT ";", m->mailbox, m->folder,
                           m->uid, m->msg, m->env_from, m->date_unix);
  }
  ck_assert_msg(strcmp(got->str, pick_rows[_i].want) == 0, "row %d: got %s want %s", _i, got->str,
                pick_rows[_i].want);
  g_string_free(got, TRUE);
  g_ptr_array_unref(a);
}
END_TEST

START_TEST(bytes_are_the_stored_ones) {
  GError *err = NULL;
  GPtrArray *a = collect(0, TRACE_EML_AT_END, NULL, &err);
  ck_assert_ptr_nonnull(a);
  const char *want[] = {M2, "Subject: draft\r\n\r\n", M1};
  for (guint i = 0; i < a->len; i++) {
    gsize n;
    const char *p = g_bytes_get_data(((trace_eml_msg *)a->pdata[i])->data, &n);
    ck_assert_msg(n == strlen(want[i]) && memcmp(p, want[i], n) == 0, "message %u: got %.*s", i,
                  (int)n, p);
  }
  g_ptr_array_unref(a);
}
END_TEST

static const struct {
  int kind;
  trace_eml_which which;
  const char *mailbox;
  GQuark (*domain)(void);
  int code;
  const char *says;
} err_rows[] = {
    {1, TRACE_EML_AT_END, NULL, trace_eml_error_quark, TRACE_EML_ERROR_NO_BODIES,
     "--keep-messages"},
    {1, TRACE_EML_EVER, NULL, trace_eml_error_quark, TRACE_EML_ERROR_NO_BODIES, "no msg.store"},
    {0, TRACE_EML_AT_END, "carol@x", trace_eml_error_quark, TRACE_EML_ERROR_NOT_FOUND,
     "end of the run in mailbox carol@x"},
    {0, TRACE_EML_EVER, "dave@x", trace_eml_error_quark, TRACE_EML_ERROR_NOT_FOUND, "ever stored"},
    {2, TRACE_EML_AT_END, NULL, trace_read_error_quark, TRACE_READ_ERROR_RECORD,
     "t.jsonl:10: msg.kept names store 3"},
    {3, TRACE_EML_AT_END, NULL, trace_read_error_quark, TRACE_READ_ERROR_RECORD,
     "t.jsonl:9: msg.kept record lacks the bytes key \"data\""},
};

START_TEST(errors) {
  GError *err = NULL;
  GPtrArray *a = collect(err_rows[_i].kind, err_rows[_i].which, err_rows[_i].mailbox, &err);
  ck_assert_msg(a == NULL, "row %d: got messages, want an error", _i);
  ck_assert_msg(g_error_matches(err, err_rows[_i].domain(), err_rows[_i].code) &&
                    strstr(err->message, err_rows[_i].says),
                "row %d: got \"%s\" want \"%s\"", _i, err->message, err_rows[_i].says);
  g_error_free(err);
}
END_TEST

static const struct {
  const char *from;
  int64_t date;
  const char *data;
  const char *want;
} mbox_rows[] = {
    {"a@b", 1772442600, "X: 1\r\n\r\nFrom here\r\n>From there\r\n>>From x\r\nFromage\r\n",
     "From a@b Mon Mar  2 09:10:00 2026\nX: 1\n\n>From here\n>>From there\n>>>From x\nFromage\n\n"},
    {"", 0, "X: 1\r\n\r\nend", "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\nX: 1\n\nend\n\n"},
    {"a b@c", 951782400, "X: 1\n", "From a_b@c Tue Feb 29 00:00:00 2000\nX: 1\n\n"},
    {"x@y", -86400, "\r\n", "From x@y Wed Dec 31 00:00:00 1969\n\n\n"},
};

START_TEST(mboxrd) {
  trace_eml_msg m = {.env_from = (char *)mbox_rows[_i].from, .date_unix = mbox_rows[_i].date};
  m.data = g_bytes_new_static(mbox_rows[_i].data, strlen(mbox_rows[_i].data));
  GString *o = g_string_new(NULL);
  trace_eml_mbox_append(o, &m);
  ck_assert_msg(strcmp(o->str, mbox_rows[_i].want) == 0, "row %d: got\n%s\nwant\n%s", _i, o->str,
                mbox_rows[_i].want);
  g_string_free(o, TRUE);
  g_bytes_unref(m.data);
}
END_TEST

START_TEST(file_names) {
  trace_eml_msg m = {.mailbox = "bob@x.org", .folder = "Work/2026 Q1", .uid = 7};
  char *n = trace_eml_file_name(&m, 12);
  ck_assert_str_eq(n, "012-bob@x.org-Work_2026_Q1-7.eml");
  g_free(n);
  m.mailbox = "../../etc";
  n = trace_eml_file_name(&m, 1);
  ck_assert_msg(strchr(n, '/') == NULL, "got %s: a path separator", n);
  g_free(n);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_eml");
  TCase *tc = tcase_create("eml");
  tcase_add_loop_test(tc, which_messages, 0, G_N_ELEMENTS(pick_rows));
  tcase_add_test(tc, bytes_are_the_stored_ones);
  tcase_add_loop_test(tc, errors, 0, G_N_ELEMENTS(err_rows));
  tcase_add_loop_test(tc, mboxrd, 0, G_N_ELEMENTS(mbox_rows));
  tcase_add_test(tc, file_names);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
