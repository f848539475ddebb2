/* trace_diff_mail: two traces compared in mail terms, with the first
 * divergence (trace_diff_events) beside it.
 *
 * Small traces written here differ from a base in one thing each — one
 * reply, one delay, one route, one outcome, the number of deferrals, the
 * seed (Message-ID hex), one message more — and each must give the right
 * first divergence (line and key) and exactly the right summary line.
 */
#include <stdarg.h>
#include <string.h>

#include "testutil.h"
#include "trace_diff.h"
#include "trace_diff_mail.h"

#define MIN_NS INT64_C(60000000000)

typedef struct {
  const char *hex;     /* the Message-ID's random part */
  const char *reply;   /* the MX's reply to DATA */
  const char *mx;      /* where the relay went */
  int64_t deliver_at;  /* ns */
  int defers;          /* attempts deferred before the relay */
  bool bounce;         /* bounced instead of relayed */
  bool second_message; /* m2 as well */
} variant;

static const variant base = {"0e3e635300ef3695",
                             "250 2.0.0 Ok: queued as 000001",
                             "mx1.example.org",
                             10 * MIN_NS,
                             1,
                             false,
                             false};

static void rec(GString *s, int *id, int64_t t, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void rec(GString *s, int *id, int64_t t, const char *fmt, ...) {
  g_string_append_printf(s, "{\"t\":%" G_GINT64_FORMAT ",\"id\":%d,", (gint64)t, ++*id);
  va_list ap;
  va_start(ap, fmt);
  g_string_append_vprintf(s, fmt, ap);
  va_end(ap);
  g_string_append(s, "}\n");
}

static char *make_trace(const variant *v) {
  GString *s =
      g_string_new("{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"
                   "\"detail\":\"protocol\",\"nodes\":[],\"links\":[]}\n");
  char *msg = g_strdup_printf("m1.%s@example.com", v->hex);
  int id = 0;
  rec(s, &id, MIN_NS,
      "\"ev\":\"msg.submit\",\"from\":\"alice\",\"to\":\"smtp\",\"msg\":\"%s\","
      "\"queue_id\":\"000001\",\"rcpts\":[\"bob@example.org\"]",
      msg);
  for (int k = 0; k < v->defers; k++)
    rec(s, &id, MIN_NS + 1000 * (k + 1),
        "\"ev\":\"msg.defer\",\"node\":\"smtp\",\"msg\":\"%s\",\"queue_id\":\"000001\","
        "\"rcpt\":\"bob@example.org\",\"reason\":\"451\",\"next_try\":0",
        msg);
  if (v->bounce) {
    rec(s, &id, v->deliver_at,
        "\"ev\":\"msg.bounce\",\"node\":\"smtp\",\"msg\":\"%s\",\"queue_id\":\"000001\","
        "\"rcpt\":\"bob@example.org\",\"reason\":\"550\",\"dsn\":\"d1@smtp\"",
        msg);
  } else {
    rec(s, &id, v->deliver_at - 2, "\"ev\":\"smtp.reply\",\"conn\":3,\"line\":\"%s\"", v->reply);
    rec(s, &id, v->deliver_at - 1,
        "\"ev\":\"msg.relay\",\"from\":\"smtp\",\"to\":\"%s\",\"msg\":\"%s\","
        "\"queue_id\":\"000001\",\"rcpts\":[\"bob@example.org\"]",
        v->mx, msg);
    rec(s, &id, v->deliver_at,
        "\"ev\":\"msg.deliver\",\"node\":\"mail\",\"msg\":\"%s\",\"rcpt\":\"bob@example.org\"",
        msg);
  }
  if (v->second_message)
    rec(s, &id, v->deliver_at + 1,
        "\"ev\":\"msg.submit\",\"from\":\"alice\",\"to\":\"smtp\","
        "\"msg\":\"m2.00000000000000aa@example.com\",\"queue_id\":\"000002\",\"rcpts\":[]");
  rec(s, &id, v->deliver_at + 5, "\"ev\":\"end\"");
  g_free(msg);
  return g_string_free(s, FALSE);
}

typedef struct {
  const char *what;
  variant b;
  uint64_t want_line; /* first divergence; 0 = none */
  const char *want_key;
  const char *want_summary; /* the one summary line, or NULL for none */
} row;

static const row rows[] = {
    {"one reply",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000042", "mx1.example.org", 10 * MIN_NS, 1,
      false, false},
     4,
     "line",
     NULL},
    {"one delay",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000001", "mx1.example.org", 48 * MIN_NS, 1,
      false, false},
     4,
     "t",
     "m1@example.com to bob@example.org: delivered 38m later (at 48:00.000, not 10:00.000)"},
    {"one route",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000001", "mx2.example.org", 10 * MIN_NS, 1,
      false, false},
     5,
     "to",
     "m1@example.com: used mx2.example.org instead of mx1.example.org"},
    {"bounced",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000001", "mx1.example.org", 10 * MIN_NS, 1, true,
      false},
     4,
     "t",
     NULL /* two lines: checked below */},
    {"deferrals",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000001", "mx1.example.org", 10 * MIN_NS, 3,
      false, false},
     4,
     "t",
     "m1@example.com: deferred 3 times instead of 1"},
    {"another seed: same mail",
     {"ffffffffffffffff", "250 2.0.0 Ok: queued as 000001", "mx1.example.org", 10 * MIN_NS, 1,
      false, false},
     2,
     "msg",
     NULL},
    {"one message more",
     {"0e3e635300ef3695", "250 2.0.0 Ok: queued as 000001", "mx1.example.org", 10 * MIN_NS, 1,
      false, true},
     7,
     "t",
     "m2@example.com: only in B"},
};

static trace_reader *reader(const char *name, const char *text) {
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory(name, text, strlen(text), &err);
  ck_assert_msg(r != NULL, "%s", err ? err->message : "");
  return r;
}

START_TEST(one_difference) {
  const row *w = &rows[_i];
  char *ta = make_trace(&base), *tb = make_trace(&w->b);
  GError *err = NULL;
  trace_diff_result res;
  trace_reader *a = reader("A", ta), *b = reader("B", tb);
  trace_diff_status st = trace_diff_events(a, b, &res, &err);
  ck_assert_msg(st == TRACE_DIFF_DIFFER, "%s: got %s", w->what, trace_diff_status_name(st));
  ck_assert_msg(res.line == w->want_line,
                "%s: got line %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT, w->what,
                (guint64)res.line, (guint64)w->want_line);
  ck_assert_msg(res.key && strcmp(res.key, w->want_key) == 0, "%s: got key %s, want %s", w->what,
                res.key ? res.key : "(none)", w->want_key);
  trace_diff_result_clear(&res);
  trace_reader_free(a);
  trace_reader_free(b);
  a = reader("A", ta);
  b = reader("B", tb);
  GPtrArray *lines = trace_diff_mail(a, b, &err);
  ck_assert_ptr_nonnull(lines);
  if (_i == 3) { /* bounced: the outcome, and the route it never took */
    ck_assert_uint_eq(lines->len, 2);
    ck_assert_str_eq(lines->pdata[0], "m1@example.com: never reached mx1.example.org");
    ck_assert_str_eq(lines->pdata[1],
                     "m1@example.com to bob@example.org: bounced instead of delivered");
  } else if (!w->want_summary) {
    ck_assert_msg(lines->len == 0, "%s: got \"%s\", want no difference in mail terms", w->what,
                  lines->len ? (const char *)lines->pdata[0] : "");
  } else {
    ck_assert_msg(lines->len == 1, "%s: got %u lines, want 1 (first: %s)", w->what, lines->len,
                  lines->len ? (const char *)lines->pdata[0] : "");
    ck_assert_str_eq(lines->pdata[0], w->want_summary);
  }
  g_ptr_array_unref(lines);
  trace_reader_free(a);
  trace_reader_free(b);
  g_free(ta);
  g_free(tb);
}
END_TEST

/* A DSN aligns by the message it reports on, not by its own Message-ID. */
START_TEST(dsn_identity) {
  const char *t1 =
      "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"
      "\"detail\":\"messages\",\"nodes\":[],\"links\":[]}\n"
      "{\"t\":1,\"id\":1,\"ev\":\"msg.bounce\",\"node\":\"s\",\"msg\":\"m1.0123456789abcdef@x."
      "org\","
      "\"queue_id\":\"1\",\"rcpt\":\"a@y.org\",\"reason\":\"550\",\"dsn\":\"111.2@s\"}\n"
      "{\"t\":5,\"id\":2,\"ev\":\"msg.deliver\",\"node\":\"mb\",\"msg\":\"111.2@s\","
      "\"rcpt\":\"alice@x.org\"}\n";
  const char *t2 =
      "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":2,"
      "\"detail\":\"messages\",\"nodes\":[],\"links\":[]}\n"
      "{\"t\":1,\"id\":1,\"ev\":\"msg.bounce\",\"node\":\"s\",\"msg\":\"m1.fedcba9876543210@x."
      "org\","
      "\"queue_id\":\"1\",\"rcpt\":\"a@y.org\",\"reason\":\"550\",\"dsn\":\"999.2@s\"}\n"
      "{\"t\":9,\"id\":2,\"ev\":\"msg.deliver\",\"node\":\"mb\",\"msg\":\"999.2@s\","
      "\"rcpt\":\"alice@x.org\"}\n";
  GError *err = NULL;
  trace_reader *a = reader("A", t1), *b = reader("B", t2);
  GPtrArray *lines = trace_diff_mail(a, b, &err);
  ck_assert_uint_eq(lines->len, 1);
  ck_assert_str_eq(
      lines->pdata[0],
      "DSN of m1@x.org to alice@x.org: delivered 4ns later (at 0:00.000, not 0:00.000)");
  g_ptr_array_unref(lines);
  trace_reader_free(a);
  trace_reader_free(b);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_diff_mail");
  TCase *tc = tcase_create("rows");
  tcase_add_loop_test(tc, one_difference, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, dsn_identity);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
