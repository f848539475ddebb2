/* Tests for trace_story: a message's journey read back from a trace. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"
#include "trace_story.h"

static trace_writer *tw;

static void header(void) {
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", TRACE_FORMAT_VERSION);
  trace_end(tw);
}

static void line(int64_t t, const char *ev, int conn, const char *from, const char *to,
                 const char *text) {
  trace_event_begin(tw, t, ev);
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "from", from);
  trace_key_str(tw, "to", to);
  trace_key_int(tw, "sent", t - 1000);
  trace_key_bytes(tw, "line", text, strlen(text));
  trace_end(tw);
}

static void transfer(int64_t t, const char *ev, const char *from, const char *to, int conn,
                     const char *qid) {
  trace_event_begin(tw, t, ev);
  trace_key_str(tw, "from", from);
  trace_key_str(tw, "to", to);
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "queue_id", qid);
  trace_arr_begin(tw, "rcpts");
  trace_key_str(tw, NULL, "bob@example.org");
  trace_arr_end(tw);
  trace_key_bool(tw, "tls", true);
  if (ev[4] == 's')
    trace_key_str(tw, "auth", "alice@example.com");
  else
    trace_key_int(tw, "hop", 1);
  trace_end(tw);
}

/* A new trace: the header, then Alice composing m1 to Bob at 10 ns. */
static void compose(void) {
  tw = trace_writer_new_memory();
  header();
  trace_event_begin(tw, 10, "msg.compose");
  trace_key_str(tw, "node", "laptop");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "from", "alice@example.com");
  trace_arr_begin(tw, "rcpts");
  trace_key_str(tw, NULL, "bob@example.org");
  trace_arr_end(tw);
  trace_key_str(tw, "subject", "Photos");
  trace_key_int(tw, "size", 1234);
  trace_end(tw);
}

/* smtp's msg.defer of m1 for Bob at 70 ns (greylisted), to try again at NEXT_TRY. */
static void greylisted_at_70(int64_t next_try) {
  trace_event_begin(tw, 70, "msg.defer");
  trace_key_str(tw, "node", "smtp");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "queue_id", "Q1");
  trace_key_str(tw, "rcpt", "bob@example.org");
  trace_key_str(tw, "reason", "450 4.2.0 Greylisted");
  trace_key_int(tw, "next_try", next_try);
  trace_end(tw);
}

/* The stories of the trace written so far (named NAME); frees the writer. */
static GPtrArray *read_stories(const char *name) {
  const GString *t = trace_writer_peek_memory(tw);
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory(name, t->str, t->len, &err);
  ck_assert_msg(r != NULL, "%s", err ? err->message : "");
  GPtrArray *st = trace_story_read(r, &err);
  ck_assert_msg(st != NULL, "%s", err ? err->message : "");
  trace_reader_free(r);
  trace_writer_free(tw);
  return st;
}

static GPtrArray *journey(void) {
  compose();
  /* submission: client end 1, server end 2 */
  trace_event_begin(tw, 20, "tcp.accept");
  trace_key_str(tw, "node", "smtp");
  trace_key_int(tw, "conn", 2);
  trace_key_int(tw, "peer", 1);
  trace_end(tw);
  line(30, "smtp.cmd", 2, "laptop", "smtp", "MAIL FROM:<alice@example.com>");
  line(40, "smtp.reply", 1, "smtp", "laptop", "250 2.1.0 Ok");
  transfer(50, "msg.submit", "laptop", "smtp", 2, "Q1");
  trace_event_begin(tw, 60, "dns.response");
  trace_key_int(tw, "conn", 0);
  trace_key_str(tw, "from", "resolver");
  trace_key_str(tw, "to", "smtp");
  trace_key_int(tw, "sent", 55);
  trace_key_str(tw, "proto", "udp");
  trace_key_int(tw, "qid", 7);
  trace_key_str(tw, "qname", "example.org.");
  trace_key_str(tw, "qtype", "MX");
  trace_key_str(tw, "rcode", "NOERROR");
  trace_arr_begin(tw, "answers");
  trace_key_str(tw, NULL, "example.org. 300 IN MX 10 mx.example.org.");
  trace_arr_end(tw);
  trace_end(tw);
  greylisted_at_70(70 + 300000000000LL);
  trace_event_begin(tw, 80, "policy.greylist");
  trace_key_str(tw, "node", "mx");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "verdict", "pass");
  trace_end(tw);
  transfer(90, "msg.relay", "smtp", "mx", 5, "Q9");
  trace_event_begin(tw, 100, "msg.deliver");
  trace_key_str(tw, "node", "mailbox");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "rcpt", "bob@example.org");
  trace_key_str(tw, "mailbox", "bob@example.org");
  trace_key_str(tw, "folder", "INBOX");
  trace_key_int(tw, "uid", 1);
  trace_end(tw);
  trace_event_begin(tw, 110, "msg.fetch");
  trace_key_str(tw, "node", "phone");
  trace_key_str(tw, "from", "mailbox");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "proto", "imap");
  trace_key_str(tw, "mailbox", "INBOX");
  trace_end(tw);
  trace_event_begin(tw, 120, "msg.display");
  trace_key_str(tw, "node", "phone");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_obj_begin(tw, "fields");
  trace_key_str(tw, "Subject", "Photos");
  trace_obj_end(tw);
  trace_arr_begin(tw, "received");
  trace_key_str(tw, NULL, "by mx from smtp with ESMTPS");
  trace_arr_end(tw);
  trace_arr_begin(tw, "attachments");
  trace_obj_begin(tw, NULL);
  trace_key_str(tw, "name", "beach.jpg");
  trace_key_str(tw, "type", "image/jpeg");
  trace_key_int(tw, "size", 100);
  trace_obj_end(tw);
  trace_arr_end(tw);
  trace_end(tw);
  return read_stories("j");
}

START_TEST(steps_in_order) {
  GPtrArray *stories = journey();
  ck_assert_uint_eq(stories->len, 1);
  const trace_story *s = trace_story_find(stories, "m1");
  ck_assert_ptr_nonnull(s);
  ck_assert_ptr_null(trace_story_find(stories, "m2"));
  ck_assert_str_eq(s->subject, "Photos");
  ck_assert_str_eq(s->from, "alice@example.com");
  static const char *const want[] = {
      "laptop composed it",
      "laptop submitted it to smtp over SMTP with TLS, authenticated as alice@example.com",
      "smtp looked up example.org. MX: NOERROR — example.org. 300 IN MX 10 mx.example.org.",
      "smtp could not deliver to bob@example.org yet: 450 4.2.0 Greylisted; it will try again 300 s later",
      "mx checked it (greylist): pass",
      "smtp relayed it to mx over SMTP with TLS",
      "mailbox stored it in bob@example.org's INBOX (UID 1)",
      "phone fetched it from mailbox over imap",
      "phone displayed it: \"Photos\", 1 attachment, 1 Received header",
  };
  ck_assert_uint_eq(s->steps->len, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const trace_step *st = s->steps->pdata[i];
    ck_assert_msg(strstr(st->text, want[i]) != NULL, "step %u: got \"%s\" want \"%s\"", i + 1,
                  st->text, want[i]);
  }
  /* The submission step carries both ends' lines of its connection. */
  const trace_step *sub = s->steps->pdata[1];
  ck_assert_uint_eq(sub->details->len, 2);
  ck_assert_str_eq(sub->details->pdata[0], "laptop -> smtp: MAIL FROM:<alice@example.com>");
  ck_assert_str_eq(sub->details->pdata[1], "smtp -> laptop: 250 2.1.0 Ok");
  char *o = trace_story_outcome(s);
  ck_assert_str_eq(o, "delivered 1, fetched 1, deferred 1 time");
  g_free(o);
  g_ptr_array_unref(stories);
}
END_TEST

static void greylist_rec(int64_t t, int conn, const char *sender, const char *verdict,
                         int64_t waited) {
  trace_event_begin(tw, t, "policy.greylist");
  trace_key_str(tw, "node", "mx");
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "client", "192.0.2.25");
  trace_key_str(tw, "sender", sender);
  trace_key_str(tw, "rcpt", "bob@example.org");
  trace_key_str(tw, "verdict", verdict);
  trace_key_int(tw, "waited", waited);
  trace_end(tw);
}

/* RCPT-stage verdicts have no "msg": the deferral is joined to the
 * sender's msg.defer (same recipient and sender), the pass to the
 * msg.relay of its connection; each lands at its own time. A verdict about
 * another sender stays out. */
START_TEST(rcpt_verdicts_joined) {
  compose();
  transfer(50, "msg.submit", "laptop", "smtp", 2, "Q1");
  greylist_rec(60, 4, "mallory@example.net", "defer-new", 0);
  greylist_rec(65, 4, "alice@example.com", "defer-new", 0);
  greylisted_at_70(300000000000LL);
  greylist_rec(300000000085LL, 5, "alice@example.com", "pass-delayed", 300000000020LL);
  trace_event_begin(tw, 300000000088LL, "policy.spam");
  trace_key_str(tw, "node", "mx");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_int(tw, "score", 0);
  trace_arr_begin(tw, "rules");
  trace_arr_end(tw);
  trace_key_str(tw, "action", "ham");
  trace_end(tw);
  transfer(300000000090LL, "msg.relay", "smtp", "mx", 5, "Q9");
  GPtrArray *all = read_stories("g");
  const trace_story *s = trace_story_find(all, "m1");
  static const char *const want[] = {
      "laptop composed it",
      "laptop submitted it",
      "mx checked it (greylist) for bob@example.org from 192.0.2.25 at RCPT: defer-new, 450 4.2.0",
      "smtp could not deliver to bob@example.org yet",
      ("mx checked it (greylist) for bob@example.org from 192.0.2.25 at RCPT: pass-delayed, 300 s "
       "after the first attempt"),
      "mx checked it (spam): ham",
      "smtp relayed it to mx",
  };
  ck_assert_uint_eq(s->steps->len, G_N_ELEMENTS(want));
  int64_t prev = 0;
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const trace_step *st = s->steps->pdata[i];
    ck_assert_msg(strstr(st->text, want[i]) != NULL, "step %u: got \"%s\" want \"%s\"", i + 1,
                  st->text, want[i]);
    ck_assert_msg(st->t >= prev, "step %u out of time order", i + 1);
    prev = st->t;
  }
  ck_assert(s->first == 10 && s->last == 300000000090LL);
  g_ptr_array_unref(all);
}
END_TEST

START_TEST(bad_trace_is_an_error) {
  const char *t = "{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":1,\"id\":1,\"ev\":\"msg.compose\"";
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("cut", t, strlen(t), &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_null(trace_story_read(r, &err));
  ck_assert_ptr_nonnull(strstr(err->message, "cut:2"));
  g_error_free(err);
  trace_reader_free(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_story");
  TCase *tc = tcase_create("story");
  tcase_add_test(tc, steps_in_order);
  tcase_add_test(tc, rcpt_verdicts_joined);
  tcase_add_test(tc, bad_trace_is_an_error);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
