/* Tests for trace_mermaid: the diagrams of the hand-built journey
 * (tests/stats_fixture.c) checked structurally — participants in order of
 * appearance, one arrow per protocol line and per hop, in trace order,
 * notes for deferrals — and the escaping of Mermaid's special characters. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats_fixture.h"
#include "testutil.h"
#include "trace_mermaid.h"
#include "trace_read_int.h"

typedef enum { MODE_MSG, MODE_CONN } mode;

static char *diagram(const char *text, mode m, const char *id, uint64_t conn, GError **err) {
  trace_reader *r = trace_reader_new_memory("journey", text, strlen(text), err);
  ck_assert_ptr_nonnull(r);
  GString *out = g_string_new(NULL);
  bool ok = m == MODE_MSG ? trace_mermaid_message(r, "journey", id, out, err)
                          : trace_mermaid_connection(r, "journey", conn, out, err);
  trace_reader_free(r);
  return g_string_free(out, !ok);
}

static char *journey_diagram(mode m, const char *id, uint64_t conn) {
  char *t = stats_fixture_journey();
  GError *err = NULL;
  char *d = diagram(t, m, id, conn, &err);
  ck_assert_msg(d != NULL, "%s", err ? err->message : "");
  g_free(t);
  return d;
}

/* The statement lines of D (without the 4-space indent), split in kinds. */
typedef struct {
  GPtrArray *parts, *arrows, *notes; /* char* */
} parsed;

static parsed parse(const char *d) {
  parsed p = {g_ptr_array_new_with_free_func(g_free), g_ptr_array_new_with_free_func(g_free),
              g_ptr_array_new_with_free_func(g_free)};
  char **lines = g_strsplit(d, "\n", -1);
  ck_assert_str_eq(lines[0], "sequenceDiagram");
  for (char **l = lines + 1; *l && **l; l++) {
    ck_assert_msg(g_str_has_prefix(*l, "    "), "not indented: %s", *l);
    const char *s = *l + 4;
    if (g_str_has_prefix(s, "participant "))
      g_ptr_array_add(p.parts, g_strdup(s + 12));
    else if (g_str_has_prefix(s, "Note over "))
      g_ptr_array_add(p.notes, g_strdup(s + 10));
    else if (!g_str_has_prefix(s, "%% "))
      g_ptr_array_add(p.arrows, g_strdup(s));
  }
  g_strfreev(lines);
  return p;
}

static void parsed_clear(parsed *p) {
  g_ptr_array_unref(p->parts);
  g_ptr_array_unref(p->arrows);
  g_ptr_array_unref(p->notes);
}

static size_t count_prefix(GPtrArray *a, const char *prefix) {
  size_t n = 0;
  for (guint i = 0; i < a->len; i++)
    n += g_str_has_prefix(a->pdata[i], prefix);
  return n;
}

START_TEST(message_journey) {
  char *d = journey_diagram(MODE_MSG, "m1", 0);
  parsed p = parse(d);
  static const char *const parts[] = {"P1 as laptop",  "P2 as smtp", "P3 as relay",
                                      "P4 as mx",      "P5 as mail", "P6 as bob-phone",
                                      "P7 as carol-pc"};
  ck_assert_uint_eq(p.parts->len, G_N_ELEMENTS(parts));
  for (guint i = 0; i < G_N_ELEMENTS(parts); i++)
    ck_assert_msg(strcmp(p.parts->pdata[i], parts[i]) == 0, "participant %u: got %s want %s", i,
                  (char *)p.parts->pdata[i], parts[i]);
  /* 14 lines of the submission, 8 of the greylisted try, 11 of the relay
   * that passed; 6 hops. */
  ck_assert_uint_eq(p.arrows->len, 14 + 8 + 11 + 6);
  ck_assert_uint_eq(count_prefix(p.arrows, "P1->>P2: "), 6);
  ck_assert_uint_eq(count_prefix(p.arrows, "P2-->>P1: "), 8);
  ck_assert_uint_eq(count_prefix(p.arrows, "P3->>P4: "), 4 + 5);
  ck_assert_uint_eq(count_prefix(p.arrows, "P4-->>P3: "), 4 + 6);
  static const char *const hops[] = {
      "P1-)P2: msg.submit for bob@example.org, carol@example.org, queued as Q1 (TLS)",
      "P2-)P3: msg.relay for bob@example.org, carol@example.org, queued as R1 (TLS)",
      "P3-)P4: msg.relay for bob@example.org, carol@example.org, queued as M1 (TLS)",
      "P4-)P5: msg.relay for bob@example.org, carol@example.org, queued as L1 (TLS)",
      "P5-)P6: msg.fetch over imap (bob@example.org)",
      "P5-)P7: msg.fetch over imap (carol@example.org)"};
  guint h = 0;
  for (guint i = 0; i < p.arrows->len; i++) {
    const char *a = p.arrows->pdata[i];
    if (!strstr(a, "-)"))
      continue;
    ck_assert_msg(h < G_N_ELEMENTS(hops) && strcmp(a, hops[h]) == 0, "hop %u: got %s want %s", h, a,
                  h < G_N_ELEMENTS(hops) ? hops[h] : "(none)");
    h++;
  }
  ck_assert_uint_eq(h, G_N_ELEMENTS(hops));
  /* In trace order: the greeting first, the submission before its 250. */
  ck_assert_str_eq(p.arrows->pdata[0], "P2-->>P1: 220 smtp ESMTP");
  ck_assert_str_eq(p.arrows->pdata[11], hops[0]);
  ck_assert_str_eq(p.arrows->pdata[12], "P2-->>P1: 250 2.0.0 Ok: queued as Q1");
  ck_assert_uint_eq(p.notes->len, 5);
  ck_assert_str_eq(p.notes->pdata[1], "P3: deferred bob@example.org: 450 4.2.0 Greylisted, try "
                                      "later, next try in 300 s");
  ck_assert_ptr_nonnull(strstr(d, "P3->>P4: RCPT TO:#60;bob@example.org#62;\n    P4-->>P3: 450 "
                                  "4.2.0 Greylisted, try later\n"));
  /* Nothing of m2 or the DSN. */
  ck_assert_ptr_null(strstr(d, "dave"));
  ck_assert_ptr_null(strstr(d, "dsn1"));
  parsed_clear(&p);
  g_free(d);
}
END_TEST

START_TEST(choosing_the_message) {
  char *a = journey_diagram(MODE_MSG, NULL, 0),
       *b = journey_diagram(MODE_MSG, "m1.x@example.com", 0);
  ck_assert_str_eq(a, b); /* the first message by default; exact ID */
  g_free(a);
  g_free(b);
  char *d = journey_diagram(MODE_MSG, "m2", 0);
  parsed p = parse(d);
  ck_assert_uint_eq(p.parts->len, 2); /* laptop, smtp */
  ck_assert_uint_eq(p.arrows->len, 1);
  ck_assert_uint_eq(p.notes->len, 3); /* two defers and the bounce */
  ck_assert_str_eq(p.notes->pdata[2], "P2: bounced dave@nowhere.test: 550 5.1.1 unknown, DSN "
                                      "dsn1@smtp");
  parsed_clear(&p);
  g_free(d);
  char *t = stats_fixture_journey();
  GError *err = NULL;
  ck_assert_ptr_null(diagram(t, MODE_MSG, "zz", 0, &err));
  ck_assert(g_error_matches(err, TRACE_MERMAID_ERROR, TRACE_MERMAID_ERROR_NOT_FOUND));
  ck_assert_str_eq(err->message, "journey: no message \"zz\"");
  g_clear_error(&err);
  ck_assert_ptr_null(diagram(t, MODE_CONN, NULL, 99, &err));
  ck_assert(g_error_matches(err, TRACE_MERMAID_ERROR, TRACE_MERMAID_ERROR_NOT_FOUND));
  g_clear_error(&err);
  g_free(t);
}
END_TEST

START_TEST(connection_dialogue) {
  char *d = journey_diagram(MODE_CONN, NULL, 3);
  parsed p = parse(d);
  ck_assert_uint_eq(p.parts->len, 2);
  ck_assert_str_eq(p.parts->pdata[0], "P1 as relay");
  ck_assert_str_eq(p.parts->pdata[1], "P2 as mx");
  static const char *const want[] = {"P1->>P2: EHLO relay",
                                     "P2-->>P1: 250 mx",
                                     "P1->>P2: MAIL FROM:#60;alice@example.com#62;",
                                     "P2-->>P1: 250 2.1.0 Ok",
                                     "P1->>P2: RCPT TO:#60;bob@example.org#62;",
                                     "P2-->>P1: 450 4.2.0 Greylisted, try later",
                                     "P1->>P2: QUIT",
                                     "P2-->>P1: 221 Bye"};
  ck_assert_uint_eq(p.arrows->len, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(strcmp(p.arrows->pdata[i], want[i]) == 0, "arrow %u: got %s want %s", i,
                  (char *)p.arrows->pdata[i], want[i]);
  char *other = journey_diagram(MODE_CONN, NULL, 4); /* the other end: the same dialogue */
  ck_assert_str_eq(strstr(other, "participant"), strstr(d, "participant"));
  g_free(other);
  parsed_clear(&p);
  g_free(d);
  d = journey_diagram(MODE_CONN, NULL, 6);
  ck_assert_ptr_nonnull(strstr(d, "Note over P1,P2: msg.relay m1.x@example.com for "
                                  "bob@example.org, carol@example.org, queued as M1\n"));
  g_free(d);
}
END_TEST

START_TEST(escaping) {
  static const struct {
    const char *in;
    bool bytes;
    const char *want;
  } rows[] = {
      {"221 2.0.0 \"Bye\" <smtp> | ok", true, "221 2.0.0 #34;Bye#34; #60;smtp#62; #124; ok"},
      {"a;b#c%%d", false, "a#59;b#35;c#37;#37;d"},
      {"x<br>y", false, "x#60;br#62;y"},
      {"{`&\\}", false, "#123;#96;#38;#92;#125;"},
      {"MAIL FROM:<a@b>", true, "MAIL FROM:#60;a@b#62;"},
      {"caf\xc3\xa9", false, "caf\xc3\xa9"},
      {"caf\xc3\xa9", true, "caf#92;xC3#92;xA9"},
      {"a\tb\x01", true, "a#92;x09b#92;x01"},
      {"end", false, "end"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GString *o = g_string_new(NULL);
    trace_mermaid_escape(o, rows[i].in, strlen(rows[i].in), rows[i].bytes);
    ck_assert_msg(strcmp(o->str, rows[i].want) == 0, "row %zu: got %s want %s", i, o->str,
                  rows[i].want);
    g_string_free(o, TRUE);
  }
  /* Escaped in the diagram too: the 221 with quotes, angle brackets, bar. */
  char *d = journey_diagram(MODE_MSG, "m1", 0);
  ck_assert_ptr_nonnull(strstr(d, "P2-->>P1: 221 2.0.0 #34;Bye#34; #60;smtp#62; #124; ok\n"));
  for (const char *l = d; *l; l = strchr(l, '\n') + 1) { /* nothing can break a statement */
    const char *e = strchr(l, '\n');
    ck_assert_ptr_nonnull(e);
    for (const char *c = l; c < e; c++)
      ck_assert_msg(*c != ';' || (c > l && strchr("0123456789", c[-1])), "raw ';' in %.*s",
                    (int)(e - l), l);
  }
  g_free(d);
}
END_TEST

/* One connection carrying two messages: each gets its own transaction; the
 * greeting and EHLO go with the first, QUIT with the last. */
START_TEST(reused_connection) {
  GString *t = g_string_new("{\"format\":\"mailsim-trace\",\"version\":1}\n");
  int id = 0;
  g_string_append_printf(t,
                         "{\"t\":1,\"id\":%d,\"ev\":\"tcp.accept\",\"node\":\"mx\",\"conn\":"
                         "8,\"src\":\"a\",\"dst\":\"b\",\"peer\":7}\n",
                         ++id);
  static const char *const lines[] = {
      "r220 mx",        "cEHLO relay",      "r250 mx", "cMAIL FROM:<a@x>", "r250 ok",
      "cRCPT TO:<b@y>", "r250 ok",          "cDATA",   "r354 go",          "Xm1",
      "r250 queued 1",  "cMAIL FROM:<c@x>", "r250 ok", "cRCPT TO:<d@y>",   "r250 ok",
      "cDATA",          "r354 go",          "Xm2",     "r250 queued 2",    "cQUIT",
      "r221 bye"};
  for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
    const char *l = lines[i];
    if (l[0] == 'X')
      g_string_append_printf(t,
                             "{\"t\":%zu,\"id\":%d,\"ev\":\"msg.relay\",\"from\":\"relay\","
                             "\"to\":\"mx\",\"msg\":\"%s\",\"conn\":8,\"queue_id\":\"Q\","
                             "\"rcpts\":[],\"tls\":false,\"hop\":1}\n",
                             i + 2, ++id, l + 1);
    else
      g_string_append_printf(t,
                             "{\"t\":%zu,\"id\":%d,\"ev\":\"smtp.%s\",\"conn\":%d,\"from\":"
                             "\"%s\",\"to\":\"%s\",\"sent\":0,\"line\":\"%s\"}\n",
                             i + 2, ++id, l[0] == 'c' ? "cmd" : "reply", l[0] == 'c' ? 8 : 7,
                             l[0] == 'c' ? "relay" : "mx", l[0] == 'c' ? "mx" : "relay", l + 1);
  }
  GError *err = NULL;
  char *d1 = diagram(t->str, MODE_MSG, "m1", 0, &err);
  ck_assert_msg(d1 != NULL, "%s", err ? err->message : "");
  char *d2 = diagram(t->str, MODE_MSG, "m2", 0, &err);
  ck_assert_msg(d2 != NULL, "%s", err ? err->message : "");
  parsed p1 = parse(d1), p2 = parse(d2);
  ck_assert_uint_eq(p1.arrows->len, 10 + 1); /* greeting .. 250 queued 1, and the hop */
  ck_assert_uint_eq(p2.arrows->len, 9 + 1);  /* MAIL FROM:<c@x> .. 221, and the hop */
  ck_assert_str_eq(p1.arrows->pdata[0], "P1-->>P2: 220 mx"); /* mx first: it spoke first */
  ck_assert_str_eq(p1.arrows->pdata[10], "P1-->>P2: 250 queued 1");
  ck_assert_str_eq(p2.arrows->pdata[0], "P1->>P2: MAIL FROM:#60;c@x#62;");
  ck_assert_str_eq(p2.arrows->pdata[9], "P2-->>P1: 221 bye");
  ck_assert_ptr_null(strstr(d1, "d@y"));
  ck_assert_ptr_null(strstr(d2, "b@y"));
  parsed_clear(&p1);
  parsed_clear(&p2);
  g_free(d1);
  g_free(d2);
  g_string_free(t, TRUE);
}
END_TEST

/* The same diagram however the file arrives. */
START_TEST(any_split_same_output) {
  char *t = stats_fixture_journey();
  char *path = NULL;
  int fd = g_file_open_tmp("mermaid-XXXXXX.jsonl", &path, NULL);
  ck_assert_int_ge(fd, 0);
  ck_assert(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
  close(fd);
  char *want = journey_diagram(MODE_MSG, "m1", 0);
  for (size_t chunk = 1; chunk <= 5; chunk++) {
    GError *err = NULL;
    trace_reader *r = trace_read__open_chunked(path, chunk, &err);
    ck_assert_ptr_nonnull(r);
    GString *o = g_string_new(NULL);
    ck_assert(trace_mermaid_message(r, "journey", "m1", o, &err));
    ck_assert_msg(strcmp(o->str, want) == 0, "chunk %zu differs", chunk);
    g_string_free(o, TRUE);
    trace_reader_free(r);
  }
  g_free(want);
  unlink(path);
  g_free(path);
  g_free(t);
}
END_TEST

START_TEST(bad_trace) {
  char *t = stats_fixture_journey();
  t[strlen(t) - 1] = '\0';
  GError *err = NULL;
  ck_assert_ptr_null(diagram(t, MODE_MSG, "m1", 0, &err));
  ck_assert(g_error_matches(err, TRACE_READ_ERROR, TRACE_READ_ERROR_SYNTAX));
  ck_assert_ptr_nonnull(strstr(err->message, "journey:"));
  g_clear_error(&err);
  g_free(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_mermaid");
  TCase *tc = tcase_create("diagrams");
  tcase_add_test(tc, message_journey);
  tcase_add_test(tc, choosing_the_message);
  tcase_add_test(tc, connection_dialogue);
  tcase_add_test(tc, reused_connection);
  tcase_add_test(tc, any_split_same_output);
  suite_add_tcase(s, tc);
  tc = tcase_create("input");
  tcase_add_test(tc, escaping);
  tcase_add_test(tc, bad_trace);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
