/* Tests for trace_diff: the first divergence of two traces (line, both
 * records, first differing key), exact number comparison, one trace
 * ending early, unreadable traces. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"
#include "trace_diff.h"
#include "trace_read.h"

#define HDR "{\"format\":\"mailsim-trace\",\"version\":1,\"seed\":7}\n"
#define E1 "{\"t\":10,\"id\":1,\"ev\":\"tcp.connect\",\"node\":\"a\",\"conn\":1}\n"
#define E2 "{\"t\":20,\"id\":2,\"ev\":\"tcp.accept\",\"node\":\"b\",\"conn\":1,\"cause\":1}\n"

static const struct {
  const char *name;
  const char *a, *b;
  trace_diff_status want;
  unsigned line;
  const char *key; /* NULL = no key */
  bool a_missing, b_missing;
} rows[] = {
    {"identical", HDR E1 E2, HDR E1 E2, TRACE_DIFF_SAME, 0, NULL, false, false},
    {"header only", HDR, HDR, TRACE_DIFF_SAME, 0, NULL, false, false},
    {"seed differs", HDR E1, "{\"format\":\"mailsim-trace\",\"version\":1,\"seed\":8}\n" E1,
     TRACE_DIFF_DIFFER, 1, "seed", false, false},
    {"value differs", HDR E1 E2,
     HDR E1 "{\"t\":20,\"id\":2,\"ev\":\"tcp.accept\",\"node\":\"c\",\"conn\":1,\"cause\":1}\n",
     TRACE_DIFF_DIFFER, 3, "node", false, false},
    {"time differs", HDR E1 E2,
     HDR E1 "{\"t\":21,\"id\":2,\"ev\":\"tcp.accept\",\"node\":\"b\",\"conn\":1,\"cause\":1}\n",
     TRACE_DIFF_DIFFER, 3, "t", false, false},
    {"kind differs", HDR E1,
     HDR "{\"t\":10,\"id\":1,\"ev\":\"tcp.refused\",\"node\":\"a\",\"conn\":1}\n",
     TRACE_DIFF_DIFFER, 2, "ev", false, false},
    {"beyond 2^53", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"n\":9007199254740992}\n",
     HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"n\":9007199254740993}\n", TRACE_DIFF_DIFFER, 2, "n",
     false, false},
    {"nested bytes differ", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"o\":{\"d\":[\"x\\u0000y\"]}}\n",
     HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"o\":{\"d\":[\"x\\u0000z\"]}}\n", TRACE_DIFF_DIFFER, 2,
     "o", false, false},
    {"extra key in B", HDR E1,
     HDR "{\"t\":10,\"id\":1,\"ev\":\"tcp.connect\",\"node\":\"a\",\"conn\":1,\"x\":true}\n",
     TRACE_DIFF_DIFFER, 2, "x", false, false},
    {"key order", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"p\":1,\"q\":2}\n",
     HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"q\":2,\"p\":1}\n", TRACE_DIFF_DIFFER, 2, "p", false,
     false},
    {"same JSON, other spelling", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"s\":\"\\u0041\"}\n",
     HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"s\":\"A\"}\n", TRACE_DIFF_DIFFER, 2, NULL, false,
     false},
    {"A ends first", HDR E1, HDR E1 E2, TRACE_DIFF_DIFFER, 3, NULL, true, false},
    {"B ends first", HDR E1 E2, HDR E1, TRACE_DIFF_DIFFER, 3, NULL, false, true},
    {"differ before B's corruption", HDR E1 E2,
     HDR "{\"t\":5,\"id\":1,\"ev\":\"tcp.connect\",\"node\":\"a\",\"conn\":1}\n"
         "garbage\n",
     TRACE_DIFF_DIFFER, 2, "t", false, false},
};

static trace_reader *open_text(const char *name, const char *text) {
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory(name, text, strlen(text), &err);
  ck_assert_msg(r != NULL, "%s: %s", name, err ? err->message : "?");
  return r;
}

START_TEST(first_divergence) {
  trace_reader *a = open_text("a.jsonl", rows[_i].a);
  trace_reader *b = open_text("b.jsonl", rows[_i].b);
  trace_diff_result d;
  GError *err = NULL;
  trace_diff_status st = trace_diff(a, b, &d, &err);
  const char *name = rows[_i].name;
  ck_assert_msg(st == rows[_i].want, "%s: got %s, want %s (%s)", name, trace_diff_status_name(st),
                trace_diff_status_name(rows[_i].want), err ? err->message : "");
  ck_assert_ptr_null(err);
  ck_assert_msg(d.line == rows[_i].line, "%s: got line %u, want %u", name, (unsigned)d.line,
                rows[_i].line);
  if (rows[_i].key)
    ck_assert_msg(d.key && strcmp(d.key, rows[_i].key) == 0, "%s: got key %s, want %s", name,
                  d.key ? d.key : "(none)", rows[_i].key);
  else
    ck_assert_msg(d.key == NULL, "%s: got key %s, want none", name, d.key);
  if (st == TRACE_DIFF_DIFFER) {
    /* Each side is the exact text of its line, or NULL where it ended. */
    gchar **la = g_strsplit(rows[_i].a, "\n", -1), **lb = g_strsplit(rows[_i].b, "\n", -1);
    if (rows[_i].a_missing) {
      ck_assert_ptr_null(d.a);
      ck_assert_ptr_null(d.rec_a);
    } else {
      ck_assert_str_eq(d.a, la[d.line - 1]);
      ck_assert_ptr_nonnull(d.rec_a);
    }
    if (rows[_i].b_missing) {
      ck_assert_ptr_null(d.b);
      ck_assert_ptr_null(d.rec_b);
    } else {
      ck_assert_str_eq(d.b, lb[d.line - 1]);
      ck_assert_ptr_nonnull(d.rec_b);
    }
    g_strfreev(la);
    g_strfreev(lb);
  } else {
    ck_assert_ptr_null(d.a);
    ck_assert_ptr_null(d.b);
  }
  trace_diff_result_clear(&d);
  ck_assert_ptr_null(d.a);
  trace_reader_free(a);
  trace_reader_free(b);
}
END_TEST

/* The records handed back keep exact values (parsed copies of the reader's). */
START_TEST(records_are_exact_copies) {
  trace_reader *a = open_text(
      "a", HDR
      "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"n\":18446744073709551615,\"d\":\"\\u0000\\u00ff\"}\n");
  trace_reader *b = open_text("b", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"n\":1}\n");
  trace_diff_result d;
  ck_assert_int_eq(trace_diff(a, b, &d, NULL), TRACE_DIFF_DIFFER);
  trace_reader_free(a); /* the result owns its copies */
  trace_reader_free(b);
  uint64_t u = 0;
  ck_assert(trace_get_uint(d.rec_a, "n", &u) && u == UINT64_MAX);
  GBytes *bytes = trace_get_bytes(d.rec_a, "d");
  ck_assert_ptr_nonnull(bytes);
  ck_assert_uint_eq(g_bytes_get_size(bytes), 2);
  ck_assert_mem_eq(g_bytes_get_data(bytes, NULL), "\0\xff", 2);
  g_bytes_unref(bytes);
  ck_assert_str_eq(d.key, "n");
  trace_diff_result_clear(&d);
}
END_TEST

/* Two runs written by the writer: equal, then one event changed. */
START_TEST(writer_traces) {
  trace_writer *w[2];
  for (int k = 0; k < 2; k++) {
    w[k] = trace_writer_new_memory();
    trace_begin(w[k]);
    trace_key_str(w[k], "format", TRACE_FORMAT_NAME);
    trace_key_int(w[k], "version", TRACE_FORMAT_VERSION);
    trace_end(w[k]);
    for (int i = 0; i < 300; i++) {
      trace_event_begin(w[k], i * 100, "smtp.line");
      trace_key_bytes(w[k], "line", k == 1 && i == 211 ? "451 4.7.1\r\n" : "250 OK\r\n",
                      k == 1 && i == 211 ? 11 : 8);
      trace_end(w[k]);
    }
  }
  const GString *s0 = trace_writer_peek_memory(w[0]), *s1 = trace_writer_peek_memory(w[1]);
  trace_diff_result d;
  trace_reader *a = trace_reader_new_memory("a", s0->str, s0->len, NULL);
  trace_reader *b = trace_reader_new_memory("b", s0->str, s0->len, NULL);
  ck_assert_int_eq(trace_diff(a, b, &d, NULL), TRACE_DIFF_SAME);
  trace_reader_free(a);
  trace_reader_free(b);
  a = trace_reader_new_memory("a", s0->str, s0->len, NULL);
  b = trace_reader_new_memory("b", s1->str, s1->len, NULL);
  ck_assert_int_eq(trace_diff(a, b, &d, NULL), TRACE_DIFF_DIFFER);
  ck_assert_uint_eq(d.line, 213); /* header + 211 equal events + 1 */
  ck_assert_str_eq(d.key, "line");
  ck_assert_ptr_nonnull(strstr(d.b, "451 4.7.1"));
  trace_diff_result_clear(&d);
  trace_reader_free(a);
  trace_reader_free(b);
  trace_writer_free(w[0]);
  trace_writer_free(w[1]);
}
END_TEST

static const struct {
  const char *name;
  const char *a, *b;
  const char *want; /* prefix of the error message */
} error_rows[] = {
    {"B corrupt", HDR E1 E2, HDR E1 "{\"t\":5,\"id\":2,\"ev\":\"a.b\"}\n",
     "b.jsonl:3: time goes backwards"},
    {"A corrupt", HDR E1 "not json\n", HDR E1 E2, "a.jsonl:3: expected one JSON object"},
    {"both corrupt: A reported", HDR "[]\n", HDR "{}\n", "a.jsonl:2: expected a JSON object"},
    {"B truncated where A ends", HDR E1, HDR E1 "{\"t\":20", "b.jsonl:3: truncated"},
};

START_TEST(unreadable_trace) {
  trace_reader *a = open_text("a.jsonl", error_rows[_i].a);
  trace_reader *b = open_text("b.jsonl", error_rows[_i].b);
  trace_diff_result d;
  GError *err = NULL;
  ck_assert_int_eq(trace_diff(a, b, &d, &err), TRACE_DIFF_ERROR);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(g_str_has_prefix(err->message, error_rows[_i].want),
                "%s: got \"%s\", want \"%s...\"", error_rows[_i].name, err->message,
                error_rows[_i].want);
  ck_assert_uint_eq(d.line, 0);
  g_error_free(err);
  trace_diff_result_clear(&d);
  trace_reader_free(a);
  trace_reader_free(b);
}
END_TEST

START_TEST(status_names) {
  ck_assert_str_eq(trace_diff_status_name(TRACE_DIFF_SAME), "same");
  ck_assert_str_eq(trace_diff_status_name(TRACE_DIFF_DIFFER), "differ");
  ck_assert_str_eq(trace_diff_status_name(TRACE_DIFF_ERROR), "error");
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_diff");
  TCase *tc = tcase_create("diff");
  tcase_add_loop_test(tc, first_divergence, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, records_are_exact_copies);
  tcase_add_test(tc, writer_traces);
  tcase_add_loop_test(tc, unreadable_trace, 0, G_N_ELEMENTS(error_rows));
  tcase_add_test(tc, status_names);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
