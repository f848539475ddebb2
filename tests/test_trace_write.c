/* Tests for the trace writer: key order, escaping, integers, nesting. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace.h"

START_TEST(event_record_layout) {
  trace_writer *tw = trace_writer_new_memory();
  uint64_t id = trace_event_begin(tw, 1500, "tcp.connect");
  trace_key_str(tw, "node", "alice");
  trace_key_int(tw, "conn", -3);
  trace_key_bool(tw, "ok", true);
  trace_end(tw);
  uint64_t id2 = trace_event_begin(tw, 1500, "tcp.close");
  trace_key_uint(tw, "cause", id);
  trace_end(tw);
  ck_assert_uint_eq(id, 1);
  ck_assert_uint_eq(id2, 2);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"t\":1500,\"id\":1,\"ev\":\"tcp.connect\",\"node\":\"alice\",\"conn\":-3,"
                   "\"ok\":true}\n"
                   "{\"t\":1500,\"id\":2,\"ev\":\"tcp.close\",\"cause\":1}\n");
  ck_assert_uint_eq(trace_writer_records(tw), 2);
  trace_writer_free(tw);
}
END_TEST

START_TEST(nesting) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_arr_begin(tw, "nodes");
  trace_obj_begin(tw, NULL);
  trace_key_str(tw, "name", "a");
  trace_arr_begin(tw, "addrs");
  trace_key_str(tw, NULL, "10.0.0.1");
  trace_key_str(tw, NULL, "2001:db8::1");
  trace_arr_end(tw);
  trace_obj_end(tw);
  trace_obj_begin(tw, NULL);
  trace_obj_end(tw);
  trace_arr_end(tw);
  trace_key_null(tw, "x");
  trace_end(tw);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"format\":\"mailsim-trace\",\"nodes\":[{\"name\":\"a\",\"addrs\":[\"10.0.0.1\","
                   "\"2001:db8::1\"]},{}],\"x\":null}\n");
  trace_writer_free(tw);
}
END_TEST

static const struct {
  const char *in;
  size_t n;
  const char *want;
} bytes_cases[] = {
    {"MAIL FROM:<a@b>\r\n", 17, "\"MAIL FROM:<a@b>\\r\\n\""},
    {"q\"\\t", 4, "\"q\\\"\\\\t\""},
    {"\x00\x01\x7f", 3, "\"\\u0000\\u0001\\u007f\""},
    {"\xc3\xa9\xff", 3, "\"\\u00c3\\u00a9\\u00ff\""},
    {"", 0, "\"\""},
};

START_TEST(bytes_escaping) {
  GString *out = g_string_new(NULL);
  trace_escape_bytes(out, bytes_cases[_i].in, bytes_cases[_i].n);
  ck_assert_str_eq(out->str, bytes_cases[_i].want);
  g_string_free(out, TRUE);
}
END_TEST

static const struct {
  const char *in;
  const char *want;
} text_cases[] = {
    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},          /* valid UTF-8 kept */
    {"bad\xff!", "\"bad\\ufffd!\""},             /* invalid byte replaced */
    {"tab\there\n", "\"tab\\there\\n\""},
    {"\x1b[0m", "\"\\u001b[0m\""},
    {"\xe2\x82", "\"\\ufffd\\ufffd\""},          /* truncated sequence */
};

START_TEST(text_escaping) {
  GString *out = g_string_new(NULL);
  trace_escape_text(out, text_cases[_i].in, strlen(text_cases[_i].in));
  ck_assert_str_eq(out->str, text_cases[_i].want);
  g_string_free(out, TRUE);
}
END_TEST

START_TEST(null_writer_is_noop) {
  ck_assert_uint_eq(trace_event_begin(NULL, 1, "x"), 0);
  trace_key_str(NULL, "k", "v");
  trace_end(NULL);
  ck_assert(trace_writer_close(NULL, NULL));
  ck_assert_uint_eq(trace_writer_records(NULL), 0);
}
END_TEST

START_TEST(file_writer_reports_errors) {
  GError *err = NULL;
  ck_assert_ptr_null(trace_writer_new_file("/nonexistent-dir/x.jsonl", &err));
  ck_assert_ptr_nonnull(err);
  ck_assert_ptr_nonnull(strstr(err->message, "/nonexistent-dir/x.jsonl"));
  g_error_free(err);
  /* /dev/full accepts the open and fails the write. */
  trace_writer *tw = trace_writer_new_file("/dev/full", &err);
  if (!tw) {
    g_error_free(err);
    return;
  }
  for (int i = 0; i < 10000; i++) {
    trace_event_begin(tw, i, "x.y");
    trace_end(tw);
  }
  ck_assert(!trace_writer_close(tw, &err));
  ck_assert_ptr_nonnull(err);
  g_error_free(err);
  trace_writer_free(tw);
}
END_TEST

START_TEST(unbalanced_end_aborts) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_arr_begin(tw, "a");
  trace_end(tw); /* array still open: a bug */
}
END_TEST

/* Every octet, alone and between plain runs, against the rule written
 * out octet by octet: 0x20..0x7e stand for themselves but '"' and '\\',
 * which get a backslash like \n \r \t; everything else is \u00XX. */
START_TEST(bytes_escaping_every_octet) {
  GString *got = g_string_new(NULL), *want = g_string_new(NULL);
  for (unsigned c = 0; c < 256; c++) {
    unsigned char in[5] = {'a', 'b', (unsigned char)c, 'c', 'd'};
    g_string_truncate(got, 0);
    trace_escape_bytes(got, in, sizeof in);
    g_string_assign(want, "\"ab");
    if (c == '"' || c == '\\')
      g_string_append_printf(want, "\\%c", c);
    else if (c == '\n' || c == '\r' || c == '\t')
      g_string_append_printf(want, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
    else if (c >= 0x20 && c < 0x7f)
      g_string_append_c(want, (char)c);
    else
      g_string_append_printf(want, "\\u%04x", c);
    g_string_append(want, "cd\"");
    ck_assert_msg(strcmp(got->str, want->str) == 0, "octet 0x%02x: got %s want %s", c, got->str,
                  want->str);
  }
  g_string_free(got, TRUE);
  g_string_free(want, TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_write");
  TCase *tc = tcase_create("records");
  tcase_add_test(tc, event_record_layout);
  tcase_add_test(tc, nesting);
  tcase_add_test(tc, null_writer_is_noop);
  tcase_add_test(tc, file_writer_reports_errors);
  tcase_add_test_raise_signal(tc, unbalanced_end_aborts, SIGABRT);
  suite_add_tcase(s, tc);
  tc = tcase_create("escaping");
  tcase_add_loop_test(tc, bytes_escaping, 0, G_N_ELEMENTS(bytes_cases));
  tcase_add_test(tc, bytes_escaping_every_octet);
  tcase_add_loop_test(tc, text_escaping, 0, G_N_ELEMENTS(text_cases));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
