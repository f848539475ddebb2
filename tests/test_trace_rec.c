/* Tests for the reader's fast path (trace_rec.h): on good and bad lines
 * it must give what the full path gives — the same status, the same error
 * word for word, the same values — including for every truncation of a
 * trace and for every single-byte corruption of it; and its getters must
 * be exact (int64/uint64 limits, escapes, U+0000, surrogate pairs, bytes,
 * nested values). */
#include <inttypes.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"
#include "trace_read.h"
#include "trace_rec.h"

#define HDR "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"u\"}\n"

/* Keys compared between the two paths for each good record. */
static const char *const keys[] = {"t",   "id",  "ev",   "cause", "node", "line", "n",
                                   "big", "neg", "conn", "s",     "f",    "arr",  "obj"};

/* Appends to OUT what one path made of TEXT: per record its values, then
 * the final status and error message. FAST picks the path. */
static void digest(const char *text, size_t len, bool fast, GString *out) {
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("d.jsonl", text, len, &err);
  if (!r) {
    g_string_append_printf(out, "open: %s\n", err->message);
    g_error_free(err);
    return;
  }
  trace_read_status st;
  for (;;) {
    const cJSON *c = NULL;
    const trace_rec *f = NULL;
    st = fast ? trace_reader_next_rec(r, &f, &err) : trace_reader_next(r, &c, &err);
    if (st != TRACE_READ_OK)
      break;
    size_t rl;
    const char *raw = trace_reader_raw(r, &rl);
    g_string_append_printf(out, "line %" PRIu64 " raw %zu:", trace_reader_line(r), rl);
    g_string_append_len(out, raw, (gssize)rl);
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
      int64_t i = 0;
      uint64_t u = 0;
      bool hi = fast ? trace_rec_int(f, keys[k], &i) : trace_get_int(c, keys[k], &i);
      bool hu = fast ? trace_rec_uint(f, keys[k], &u) : trace_get_uint(c, keys[k], &u);
      const char *s = fast ? trace_rec_str(f, keys[k]) : trace_get_str(c, keys[k]);
      GBytes *b = fast ? trace_rec_bytes(f, keys[k]) : trace_get_bytes(c, keys[k]);
      const cJSON *j =
          fast ? trace_rec_json(f, keys[k]) : cJSON_GetObjectItemCaseSensitive(c, keys[k]);
      char *jt = j ? cJSON_PrintUnformatted(j) : NULL;
      g_string_append_printf(out, " %s=[%d %" PRId64 " %d %" PRIu64 " %s %zu %s]", keys[k], hi, i,
                             hu, u, s ? s : "-", b ? g_bytes_get_size(b) : (size_t)-1,
                             jt ? jt : "-");
      if (b)
        g_bytes_unref(b);
      cJSON_free(jt);
    }
    g_string_append_c(out, '\n');
  }
  g_string_append_printf(out, "status %d: %s\n", st, err ? err->message : "");
  g_clear_error(&err);
  /* sticky */
  const trace_rec *f = NULL;
  const cJSON *c = NULL;
  trace_read_status again =
      fast ? trace_reader_next_rec(r, &f, &err) : trace_reader_next(r, &c, &err);
  g_string_append_printf(out, "again %d: %s\n", again, err ? err->message : "");
  g_clear_error(&err);
  trace_reader_free(r);
}

static void same(const char *text, size_t len, const char *what) {
  GString *slow = g_string_new(NULL), *fast = g_string_new(NULL);
  digest(text, len, false, slow);
  digest(text, len, true, fast);
  ck_assert_msg(strcmp(slow->str, fast->str) == 0, "%s:\ngot (fast)\n%s\nwant (full path)\n%s",
                what, fast->str, slow->str);
  g_string_free(slow, TRUE);
  g_string_free(fast, TRUE);
}

/* One line each: good ones and every kind of bad one. */
static const char *const lines[] = {
    "{\"t\":0,\"id\":1,\"ev\":\"tcp.connect\",\"node\":\"a\",\"conn\":3}",
    "{\"t\":5,\"id\":2,\"ev\":\"x.y\",\"cause\":1,\"big\":9223372036854775807,"
    "\"neg\":-9223372036854775808,\"n\":18446744073709551615}",
    "{\"t\":5,\"id\":3,\"ev\":\"smtp.cmd\",\"line\":\"RCPT TO:<b\\u00e9b@x>\\r\\n\\u0000\\u00ff\"}",
    "{\"t\":6,\"id\":4,\"ev\":\"a\",\"s\":\"\\ud83d\\ude00 \\\" \\\\ \\/ "
    "\\b\\f\\n\\r\\t\",\"f\":1.5e3}",
    "{\"t\":6,\"id\":5,\"ev\":\"a\",\"arr\":[1,\"x\",[true,false,null],{}],\"obj\":{\"k\":{\"z\":[]"
    "}}}",
    " {\t\"t\" : 7 , \"id\":6,\"ev\":\"a\" }\r",
    "{\"t\":8,\"id\":7,\"ev\":\"caf\xc3\xa9\"}",
    "{\"t\":8,\"id\":7,\"ev\":\"a\",\"s\":\"caf\xc3\xa9 \xe2\x82\xac\"}",
    "{\"t\":8,\"id\":7,\"ev\":\"a\",\"s\":\"bad \xc3\"}",
    "{\"t\":8,\"id\":7,\"ev\":\"a\",\"s\":\"\xed\xa0\x80\"}",
    "{\"t\":4,\"id\":7,\"ev\":\"a\"}",
    "{\"t\":9,\"id\":9,\"ev\":\"a\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"cause\":7}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"cause\":-1}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"cause\":\"1\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"A.b\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a..b\"}",
    "{\"t\":9,\"id\":7,\"ev\":5}",
    "{\"t\":9,\"id\":7}",
    "{\"t\":9.0,\"id\":7,\"ev\":\"a\"}",
    "{\"t\":1e1,\"id\":7,\"ev\":\"a\"}",
    "{\"t\":-1,\"id\":7,\"ev\":\"a\"}",
    "{\"t\":99999999999999999999,\"id\":7,\"ev\":\"a\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"ev\":\"b\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"t\":9}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"\\u0074\":9}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"k\\n\":9}",
    "{\"format\":\"mailsim-trace\",\"version\":1}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":01}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":1.}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":-}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":+1}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":1e}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":1-2}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"\\x\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"\\u12g4\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"\\udc00\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"\\ud800x\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"\\ud800\\u0041\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"tab\there\"}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"s\":\"open}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\"} x",
    "{\"t\":9,\"id\":7,\"ev\":\"a\"}{}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"arr\":[1,]}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"arr\":[1 2]}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"b\":tru}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"b\":nul}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"b\":falsey}",
    "{\"t\":9,\"id\":7,\"ev\":\"a\"}\f",
    "\v{\"t\":9,\"id\":7,\"ev\":\"a\"}",
    "[1,2]",
    "\"text\"",
    "",
    "   ",
    "{\"t\":9,\"id\":7,\"ev\":\"a\",\"n\":"
    "1234567890123456789012345678901234567890123456789012345678"
    "901234567890}",
};

static GString *trace_with(const char *line) {
  GString *s = g_string_new(HDR);
  g_string_append(s, "{\"t\":4,\"id\":1,\"ev\":\"first\"}\n{\"t\":5,\"id\":2,\"ev\":\"b\"}\n");
  g_string_append(s, "{\"t\":5,\"id\":3,\"ev\":\"c\"}\n{\"t\":5,\"id\":4,\"ev\":\"d\"}\n");
  g_string_append(s, "{\"t\":5,\"id\":5,\"ev\":\"e\"}\n{\"t\":5,\"id\":6,\"ev\":\"f\"}\n");
  g_string_append(s, line);
  g_string_append_c(s, '\n');
  return s;
}

START_TEST(test_lines_same_as_full_path) {
  for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
    /* alone (ids from 1) and after six records (ids from 7, t >= 5) */
    GString *alone = g_string_new(HDR);
    g_string_append(alone, lines[i]);
    g_string_append_c(alone, '\n');
    char *what = g_strdup_printf("line %zu alone", i);
    same(alone->str, alone->len, what);
    g_free(what);
    GString *after = trace_with(lines[i]);
    what = g_strdup_printf("line %zu after six", i);
    same(after->str, after->len, what);
    g_free(what);
    g_string_free(alone, TRUE);
    g_string_free(after, TRUE);
  }
}
END_TEST

START_TEST(test_nul_byte_same) {
  static const char t[] = HDR "{\"t\":1,\"id\":1,\"ev\":\"a\",\"s\":\"x\0y\"}\n";
  same(t, sizeof t - 1, "NUL byte inside a string");
}
END_TEST

START_TEST(test_deep_nesting_same) {
  for (int depth = 150; depth <= 1100; depth += 50) {
    GString *s = g_string_new(HDR "{\"t\":1,\"id\":1,\"ev\":\"a\",\"arr\":");
    for (int k = 0; k < depth; k++)
      g_string_append_c(s, '[');
    for (int k = 0; k < depth; k++)
      g_string_append_c(s, ']');
    g_string_append(s, "}\n");
    char *what = g_strdup_printf("nesting %d", depth);
    same(s->str, s->len, what);
    g_free(what);
    g_string_free(s, TRUE);
  }
}
END_TEST

/* A trace of every good line kind, for truncation and corruption. */
static GString *good_trace(void) {
  GString *s = g_string_new(HDR);
  for (size_t i = 0; i < 7; i++) { /* ids 1 to 7 */
    g_string_append(s, lines[i]);
    g_string_append_c(s, '\n');
  }
  return s;
}

START_TEST(test_every_truncation_same) {
  GString *s = good_trace();
  for (size_t n = 0; n <= s->len; n++) {
    char *what = g_strdup_printf("cut at %zu of %zu", n, s->len);
    same(s->str, n, what);
    g_free(what);
  }
  g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_every_byte_corrupted_same) {
  GString *s = good_trace();
  static const char subs[] = {'"', '\\', '{', '}', '[',  ']', ',',    ':',
                              '0', '-',  'e', ' ', '\n', 'x', '\x01', '\x80'};
  size_t hdr = strlen(HDR);
  for (size_t pos = hdr; pos < s->len; pos++) {
    for (size_t k = 0; k < sizeof subs; k++) {
      if (s->str[pos] == subs[k])
        continue;
      char *copy = g_memdup2(s->str, s->len);
      copy[pos] = subs[k];
      char *what = g_strdup_printf("byte %zu set to 0x%02x", pos, (unsigned char)subs[k]);
      same(copy, s->len, what);
      g_free(what);
      g_free(copy);
    }
  }
  g_string_free(s, TRUE);
}
END_TEST

/* The getters on their own: exact values (not only "same as"). */
START_TEST(test_getters_exact) {
  GString *s = g_string_new(HDR);
  g_string_append(s, lines[1]);
  g_string_append_c(s, '\n');
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("g.jsonl", s->str, s->len, &err);
  ck_assert_ptr_nonnull(r);
  const trace_rec *f;
  /* ids start at 1: lines[1] says id 2, so this is an ORDER error... */
  ck_assert_int_eq(trace_reader_next_rec(r, &f, &err), TRACE_READ_FAIL);
  ck_assert_msg(strstr(err->message, "g.jsonl:2: \"id\": expected 1") != NULL, "got %s",
                err->message);
  g_clear_error(&err);
  trace_reader_free(r);

  static const char t[] = HDR
      "{\"t\":5,\"id\":1,\"ev\":\"x.y\",\"big\":9223372036854775807,\"neg\":-9223372036854775808,"
      "\"n\":18446744073709551615,\"line\":\"A\\u0000\\u00ff\",\"s\":\"\\ud83d\\ude00\","
      "\"arr\":[12345678901234567890]}\n";
  r = trace_reader_new_memory("g.jsonl", t, sizeof t - 1, &err);
  ck_assert_int_eq(trace_reader_next_rec(r, &f, &err), TRACE_READ_OK);
  int64_t i;
  uint64_t u;
  ck_assert(trace_rec_int(f, "big", &i) && i == INT64_MAX);
  ck_assert(trace_rec_int(f, "neg", &i) && i == INT64_MIN);
  ck_assert(!trace_rec_int(f, "n", &i));
  ck_assert(trace_rec_uint(f, "n", &u) && u == UINT64_MAX);
  ck_assert(!trace_rec_uint(f, "neg", &u));
  ck_assert(!trace_rec_int(f, "ev", &i));
  ck_assert(!trace_rec_has(f, "nothing") && trace_rec_has(f, "arr"));
  ck_assert_str_eq(trace_rec_str(f, "line"), "A\xc0\x80\xc3\xbf");
  ck_assert_str_eq(trace_rec_str(f, "s"), "\xf0\x9f\x98\x80");
  GBytes *b = trace_rec_bytes(f, "line");
  ck_assert_uint_eq(g_bytes_get_size(b), 3);
  ck_assert(memcmp(g_bytes_get_data(b, NULL), "A\0\xff", 3) == 0);
  g_bytes_unref(b);
  ck_assert_ptr_null(trace_rec_bytes(f, "s")); /* above U+00FF */
  const cJSON *arr = trace_rec_json(f, "arr");
  ck_assert(cJSON_IsArray(arr));
  ck_assert_str_eq(cJSON_GetArrayItem(arr, 0)->valuestring, "12345678901234567890");
  ck_assert_int_eq(trace_reader_next_rec(r, &f, &err), TRACE_READ_EOF);
  trace_reader_free(r);
  g_string_free(s, TRUE);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_rec");
  TCase *tc = tcase_create("same as the full path");
  tcase_add_test(tc, test_lines_same_as_full_path);
  tcase_add_test(tc, test_nul_byte_same);
  tcase_add_test(tc, test_deep_nesting_same);
  tcase_add_test(tc, test_every_truncation_same);
  tcase_add_test(tc, test_every_byte_corrupted_same);
  suite_add_tcase(s, tc);
  tc = tcase_create("getters");
  tcase_add_test(tc, test_getters_exact);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
