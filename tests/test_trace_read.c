/* Tests for the trace reader: writer -> reader round trips of every value
 * kind, exact integers and bytes, corrupt input of many kinds (each with
 * its line and expectation in the message, and sticky), truncation at
 * every byte, chunk boundaries of the file reader, files and stdin. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "testutil.h"
#include "trace.h"
#include "trace_read.h"
#include "trace_read_int.h"

#define CHUNK (64 * 1024) /* the reader's read size (READ_CHUNK) */

static void write_header(trace_writer *tw, int version) {
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", version);
  trace_key_str(tw, "scenario", "unit");
  trace_key_uint(tw, "seed", UINT64_C(18446744073709551557)); /* > 2^53: must stay exact */
  trace_key_str(tw, "detail", "protocol");
  trace_arr_begin(tw, "nodes");
  trace_obj_begin(tw, NULL);
  trace_key_str(tw, "name", "alice");
  trace_key_uint(tw, "index", 0);
  trace_key_bool(tw, "router", false);
  trace_arr_begin(tw, "addrs");
  trace_key_str(tw, NULL, "10.0.0.1");
  trace_arr_end(tw);
  trace_obj_end(tw);
  trace_arr_end(tw);
  trace_arr_begin(tw, "links");
  trace_arr_end(tw);
  trace_end(tw);
}

static trace_reader *open_mem(const trace_writer *tw) {
  const GString *s = trace_writer_peek_memory(tw);
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("mem.jsonl", s->str, s->len, &err);
  ck_assert_msg(r != NULL, "open failed: %s", err ? err->message : "?");
  return r;
}

static const cJSON *next_ok(trace_reader *r) {
  const cJSON *rec = NULL;
  GError *err = NULL;
  trace_read_status st = trace_reader_next(r, &rec, &err);
  ck_assert_msg(st == TRACE_READ_OK, "got status %d (%s), want OK", st, err ? err->message : "");
  return rec;
}

static void expect_eof(trace_reader *r) {
  const cJSON *rec = (const cJSON *)1;
  GError *err = NULL;
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(trace_reader_next(r, &rec, &err), TRACE_READ_EOF);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_null(err);
  }
}

/* --- round trips -------------------------------------------------------- */

START_TEST(every_value_kind) {
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  uint8_t all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (uint8_t)i;
  uint64_t id = trace_event_begin(tw, 1500, "smtp.line");
  trace_key_int(tw, "neg", -3);
  trace_key_int(tw, "min", INT64_MIN);
  trace_key_int(tw, "max", INT64_MAX);
  trace_key_uint(tw, "umax", UINT64_MAX);
  trace_key_uint(tw, "big", (UINT64_C(1) << 53) + 1); /* not a double */
  trace_key_bool(tw, "yes", true);
  trace_key_bool(tw, "no", false);
  trace_key_null(tw, "nothing");
  trace_key_str(tw, "text", "caf\xc3\xa9 \xe2\x9c\x89 \t\n\"\\ \xf0\x9f\x93\xa7");
  trace_key_strn(tw, "textnul", "a\0b", 3);
  trace_key_bytes(tw, "bytes", all, sizeof all);
  trace_key_bytes(tw, "mutf", "\xc0\x80", 2); /* real octets C0 80, not a NUL */
  trace_key_bytes(tw, "empty", "", 0);
  trace_key_printf(tw, "fmt", "%d-%s", 42, "x");
  trace_obj_begin(tw, "obj");
  trace_key_int(tw, "inner", 7);
  trace_arr_begin(tw, "arr");
  trace_key_int(tw, NULL, 1);
  trace_key_str(tw, NULL, "two");
  trace_arr_end(tw);
  trace_obj_end(tw);
  trace_end(tw);
  trace_event_begin(tw, 1500, "end");
  trace_key_uint(tw, "cause", id);
  trace_end(tw);

  trace_reader *r = open_mem(tw);
  const cJSON *h = trace_reader_header(r);
  ck_assert_str_eq(trace_get_str(h, "format"), TRACE_FORMAT_NAME);
  int64_t v = 0;
  uint64_t u = 0;
  ck_assert(trace_get_int(h, "version", &v));
  ck_assert_int_eq(v, TRACE_FORMAT_VERSION);
  ck_assert(trace_get_uint(h, "seed", &u));
  ck_assert_msg(u == UINT64_C(18446744073709551557), "seed: got %" PRIu64, u);
  ck_assert(!trace_get_int(h, "seed", &v)); /* above INT64_MAX */
  ck_assert_uint_eq(trace_reader_line(r), 1);

  const cJSON *rec = next_ok(r);
  ck_assert_uint_eq(trace_reader_line(r), 2);
  ck_assert(trace_get_int(rec, "t", &v));
  ck_assert_int_eq(v, 1500);
  ck_assert(trace_get_int(rec, "id", &v));
  ck_assert_int_eq(v, 1);
  ck_assert_str_eq(trace_get_str(rec, "ev"), "smtp.line");
  ck_assert(trace_get_int(rec, "neg", &v) && v == -3);
  ck_assert(trace_get_int(rec, "min", &v));
  ck_assert_msg(v == INT64_MIN, "min: got %" PRId64 " want %" PRId64, v, INT64_MIN);
  ck_assert(trace_get_int(rec, "max", &v));
  ck_assert_msg(v == INT64_MAX, "max: got %" PRId64 " want %" PRId64, v, INT64_MAX);
  ck_assert(trace_get_uint(rec, "umax", &u) && u == UINT64_MAX);
  ck_assert(!trace_get_int(rec, "umax", &v));
  ck_assert(trace_get_uint(rec, "big", &u));
  ck_assert_msg(u == (UINT64_C(1) << 53) + 1, "big: got %" PRIu64, u);
  ck_assert(!trace_get_uint(rec, "neg", &u));
  ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "yes")));
  ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(rec, "no")));
  ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(rec, "nothing")));
  ck_assert_str_eq(trace_get_str(rec, "text"),
                   "caf\xc3\xa9 \xe2\x9c\x89 \t\n\"\\ \xf0\x9f\x93\xa7");
  ck_assert_str_eq(trace_get_str(rec, "textnul"), "a\xc0\x80"
                                                  "b");
  GBytes *b = trace_get_bytes(rec, "textnul");
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(g_bytes_get_size(b), 3);
  ck_assert_mem_eq(g_bytes_get_data(b, NULL), "a\0b", 3);
  g_bytes_unref(b);
  b = trace_get_bytes(rec, "bytes");
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(g_bytes_get_size(b), 256);
  ck_assert_mem_eq(g_bytes_get_data(b, NULL), all, 256);
  g_bytes_unref(b);
  b = trace_get_bytes(rec, "mutf");
  ck_assert_uint_eq(g_bytes_get_size(b), 2);
  ck_assert_mem_eq(g_bytes_get_data(b, NULL), "\xc0\x80", 2);
  g_bytes_unref(b);
  b = trace_get_bytes(rec, "empty");
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(g_bytes_get_size(b), 0);
  g_bytes_unref(b);
  ck_assert_ptr_null(trace_get_bytes(rec, "text")); /* U+2709 > U+00FF */
  ck_assert_ptr_null(trace_get_bytes(rec, "neg"));
  ck_assert_ptr_null(trace_get_bytes(rec, "absent"));
  ck_assert_str_eq(trace_get_str(rec, "fmt"), "42-x");
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(rec, "obj");
  ck_assert(trace_get_int(obj, "inner", &v) && v == 7);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "arr");
  ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
  ck_assert_str_eq(cJSON_GetArrayItem(arr, 1)->valuestring, "two");

  /* The raw text is the writer's line, byte for byte. */
  const GString *all_text = trace_writer_peek_memory(tw);
  const char *line2 = strchr(all_text->str, '\n') + 1;
  size_t rawlen = 0;
  const char *raw = trace_reader_raw(r, &rawlen);
  ck_assert_uint_eq(rawlen, (size_t)(strchr(line2, '\n') - line2));
  ck_assert_mem_eq(raw, line2, rawlen);

  rec = next_ok(r);
  ck_assert(trace_get_uint(rec, "cause", &u) && u == id);
  ck_assert_str_eq(trace_get_str(rec, "ev"), "end");
  expect_eof(r);
  trace_reader_free(r);
  trace_writer_free(tw);
}
END_TEST

/* Byte strings that stress the bytes encoding; each must come back exact. */
static const struct {
  const char *name;
  const char *p;
  size_t n;
} bytes_rows[] = {
    {"empty", "", 0},
    {"nul only", "\0", 1},
    {"nuls", "\0\0x\0", 4},
    {"crlf line", "MAIL FROM:<a@b>\r\n", 17},
    {"latin1 high", "\xff\xfe\x80\x81", 4},
    {"utf8 octets", "\xc3\xa9\xe2\x82\xac", 5},
    {"c0 80 octets", "\xc0\x80\xc0", 3},
    {"escapes", "\"\\/\b\f\t", 6},
    {"del", "\x7f", 1},
};

START_TEST(bytes_round_trip) {
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  trace_event_begin(tw, 0, "net.send");
  trace_key_bytes(tw, "data", bytes_rows[_i].p, bytes_rows[_i].n);
  trace_end(tw);
  trace_reader *r = open_mem(tw);
  GBytes *b = trace_get_bytes(next_ok(r), "data");
  ck_assert_msg(b != NULL, "%s: got NULL", bytes_rows[_i].name);
  ck_assert_msg(g_bytes_get_size(b) == bytes_rows[_i].n, "%s: got %zu bytes, want %zu",
                bytes_rows[_i].name, g_bytes_get_size(b), bytes_rows[_i].n);
  if (bytes_rows[_i].n > 0) /* an empty GBytes may have NULL data */
    ck_assert_mem_eq(g_bytes_get_data(b, NULL), bytes_rows[_i].p, bytes_rows[_i].n);
  g_bytes_unref(b);
  trace_reader_free(r);
  trace_writer_free(tw);
}
END_TEST

START_TEST(pseudo_random_bytes) {
  /* A fixed LCG (no rand()): 200 strings of 0..300 octets, all values. */
  uint32_t x = 12345;
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  GPtrArray *want = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  for (int i = 0; i < 200; i++) {
    x = x * 1103515245u + 12345u;
    size_t n = (x >> 8) % 301;
    uint8_t *p = g_malloc(n + 1);
    for (size_t k = 0; k < n; k++) {
      x = x * 1103515245u + 12345u;
      p[k] = (uint8_t)(x >> 16);
    }
    trace_event_begin(tw, i, "net.send");
    trace_key_bytes(tw, "data", p, n);
    trace_end(tw);
    g_ptr_array_add(want, g_bytes_new_take(p, n));
  }
  trace_reader *r = open_mem(tw);
  for (guint i = 0; i < want->len; i++) {
    GBytes *b = trace_get_bytes(next_ok(r), "data");
    ck_assert_msg(b && g_bytes_equal(b, want->pdata[i]), "string %u differs", i);
    g_bytes_unref(b);
  }
  expect_eof(r);
  trace_reader_free(r);
  g_ptr_array_free(want, TRUE);
  trace_writer_free(tw);
}
END_TEST

START_TEST(int_helpers) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "exact", 9007199254740992.0);   /* 2^53 */
  cJSON_AddNumberToObject(o, "too_big", 9007199254740994.0); /* 2^53 + 2 */
  cJSON_AddNumberToObject(o, "half", 1.5);
  cJSON_AddNumberToObject(o, "neg", -4);
  cJSON_AddStringToObject(o, "str", "5");
  int64_t v = 0;
  uint64_t u = 0;
  ck_assert(trace_get_int(o, "exact", &v) && v == INT64_C(9007199254740992));
  ck_assert(!trace_get_int(o, "too_big", &v));
  ck_assert(!trace_get_int(o, "half", &v));
  ck_assert(trace_get_int(o, "neg", &v) && v == -4);
  ck_assert(!trace_get_uint(o, "neg", &u));
  ck_assert(!trace_get_int(o, "str", &v));
  ck_assert(!trace_get_int(o, "missing", &v));
  ck_assert(!trace_get_int(NULL, "x", &v));
  ck_assert_ptr_null(trace_get_str(NULL, "x"));
  ck_assert_ptr_null(trace_get_bytes(NULL, "x"));
  cJSON_Delete(o);

  /* In reader records, integers must be written as integers. */
  static const char text[] = "{\"format\":\"mailsim-trace\",\"version\":1}\n"
                             "{\"t\":0,\"id\":1,\"ev\":\"x.y\",\"a\":5.0,\"b\":5e0,\"c\":-0,"
                             "\"d\":-9223372036854775808,\"e\":9223372036854775808}\n";
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("m", text, sizeof text - 1, &err);
  ck_assert_ptr_nonnull(r);
  const cJSON *rec = next_ok(r);
  ck_assert(!trace_get_int(rec, "a", &v));
  ck_assert(!trace_get_int(rec, "b", &v));
  ck_assert(trace_get_int(rec, "c", &v) && v == 0);
  ck_assert(trace_get_int(rec, "d", &v) && v == INT64_MIN);
  ck_assert(!trace_get_int(rec, "e", &v));
  ck_assert(trace_get_uint(rec, "e", &u) && u == UINT64_C(9223372036854775808));
  trace_reader_free(r);
}
END_TEST

START_TEST(many_records) {
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  for (int i = 0; i < 5000; i++) {
    trace_event_begin(tw, (int64_t)i / 3 * 1000, i % 2 ? "tcp.connect" : "msg.queue");
    trace_key_int(tw, "i", i);
    trace_end(tw);
  }
  trace_reader *r = open_mem(tw);
  for (int i = 0; i < 5000; i++) {
    const cJSON *rec = next_ok(r);
    int64_t t = -1, id = -1, k = -1;
    ck_assert(trace_get_int(rec, "t", &t) && trace_get_int(rec, "id", &id) &&
              trace_get_int(rec, "i", &k));
    ck_assert_int_eq(t, (int64_t)i / 3 * 1000);
    ck_assert_int_eq(id, i + 1);
    ck_assert_int_eq(k, i);
    ck_assert_uint_eq(trace_reader_line(r), (uint64_t)i + 2);
  }
  expect_eof(r);
  trace_reader_free(r);
  trace_writer_free(tw);
}
END_TEST

/* --- corrupt input ---------------------------------------------------- */

#define HDR "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"s\"}\n"
#define E1 "{\"t\":10,\"id\":1,\"ev\":\"tcp.connect\"}\n"

static const struct {
  const char *name;
  const char *text;
  size_t len; /* 0 = strlen */
  trace_read_error_code code;
  unsigned line;
  const char *want1, *want2; /* substrings of the message */
} bad_rows[] = {
    {"not JSON", HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\"\n", 0, TRACE_READ_ERROR_SYNTAX, 2,
     "invalid JSON", "column"},
    {"truncated last line", HDR E1 "{\"t\":20,\"id\":2,\"ev\":\"a.b\"}", 0, TRACE_READ_ERROR_SYNTAX,
     3, "truncated", "newline"},
    {"truncated header", "{\"format\":\"mailsim-trace\",\"version\":1}", 0, TRACE_READ_ERROR_SYNTAX,
     1, "truncated", "newline"},
    {"wrong format name", "{\"format\":\"pcap-ng\",\"version\":1}\n", 0, TRACE_READ_ERROR_FORMAT, 1,
     "expected \"mailsim-trace\"", "got \"pcap-ng\""},
    {"format not a string", "{\"format\":7,\"version\":1}\n", 0, TRACE_READ_ERROR_FORMAT, 1,
     "\"format\"", "got a number"},
    {"no format key", "{\"version\":1}\n", 0, TRACE_READ_ERROR_FORMAT, 1, "missing key \"format\"",
     "not a mailsim trace"},
    {"newer version", "{\"format\":\"mailsim-trace\",\"version\":2}\n" E1, 0,
     TRACE_READ_ERROR_VERSION, 1, "version 2 is newer", "expected version 1"},
    {"version zero", "{\"format\":\"mailsim-trace\",\"version\":0}\n", 0, TRACE_READ_ERROR_VERSION,
     1, "unknown trace format version 0", "expected version 1"},
    {"version a string", "{\"format\":\"mailsim-trace\",\"version\":\"1\"}\n", 0,
     TRACE_READ_ERROR_RECORD, 1, "\"version\": expected an integer", "got a string"},
    {"version missing", "{\"format\":\"mailsim-trace\"}\n", 0, TRACE_READ_ERROR_RECORD, 1,
     "missing key \"version\"", "integer"},
    {"missing header", E1 "{\"t\":20,\"id\":2,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_FORMAT, 1,
     "header", "got an event record"},
    {"empty file", "", 0, TRACE_READ_ERROR_FORMAT, 1, "header", "empty file"},
    {"header not an object", "\"mailsim-trace\"\n", 0, TRACE_READ_ERROR_SYNTAX, 1,
     "expected a JSON object", "got a string"},
    {"time backwards", HDR E1 "{\"t\":5,\"id\":2,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_ORDER, 3,
     "time goes backwards", "expected \"t\" >= 10 (line 2), got 5"},
    {"id skips", HDR E1 "{\"t\":10,\"id\":3,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_ORDER, 3,
     "\"id\": expected 2", "got 3"},
    {"id first not 1", HDR "{\"t\":10,\"id\":0,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_ORDER, 2,
     "\"id\": expected 1", "got 0"},
    {"missing ev", HDR "{\"t\":10,\"id\":1}\n", 0, TRACE_READ_ERROR_RECORD, 2, "missing key \"ev\"",
     "expected a string"},
    {"ev a number", HDR "{\"t\":10,\"id\":1,\"ev\":3}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "\"ev\": expected a string", "got a number"},
    {"ev not a kind", HDR "{\"t\":10,\"id\":1,\"ev\":\"TCP connect\"}\n", 0,
     TRACE_READ_ERROR_RECORD, 2, "dotted kind", "got \"TCP connect\""},
    {"ev empty word", HDR "{\"t\":10,\"id\":1,\"ev\":\"tcp..x\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "dotted kind", "tcp..x"},
    {"missing t", HDR "{\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "missing key \"t\"", "expected an integer"},
    {"t a string", HDR "{\"t\":\"10\",\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "\"t\": expected an integer", "got a string"},
    {"t a fraction", HDR "{\"t\":1.5,\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "\"t\": expected an integer", "fraction"},
    {"t with exponent", HDR "{\"t\":1e3,\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "\"t\": expected an integer", "exponent"},
    {"t beyond int64", HDR "{\"t\":9223372036854775808,\"id\":1,\"ev\":\"a.b\"}\n", 0,
     TRACE_READ_ERROR_RECORD, 2, "\"t\"", "9223372036854775808 out of int64 range"},
    {"t negative", HDR "{\"t\":-1,\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "\"t\": expected a time >= 0", "got -1"},
    {"missing id", HDR "{\"t\":10,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_RECORD, 2,
     "missing key \"id\"", "integer"},
    {"cause not earlier", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"cause\":1}\n", 0,
     TRACE_READ_ERROR_RECORD, 2, "\"cause\": expected the id of an earlier event", "got 1"},
    {"cause mistyped", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"cause\":\"x\"}\n", 0,
     TRACE_READ_ERROR_RECORD, 2, "\"cause\": expected an integer", "got a string"},
    {"blank line", HDR E1 "\n" E1, 0, TRACE_READ_ERROR_SYNTAX, 3, "expected a record",
     "blank line"},
    {"spaces only", HDR "   \t\n", 0, TRACE_READ_ERROR_SYNTAX, 2, "blank line", "record"},
    {"second header", HDR E1 HDR, 0, TRACE_READ_ERROR_RECORD, 3, "expected an event record",
     "second header"},
    {"array record", HDR "[1,2]\n", 0, TRACE_READ_ERROR_SYNTAX, 2, "expected a JSON object",
     "got an array"},
    {"number record", HDR "42\n", 0, TRACE_READ_ERROR_SYNTAX, 2, "expected a JSON object",
     "got a number"},
    {"trailing garbage", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\"} x\n", 0, TRACE_READ_ERROR_SYNTAX,
     2, "invalid JSON", "column 28"},
    {"two objects", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\"}{}\n", 0, TRACE_READ_ERROR_SYNTAX, 2,
     "invalid JSON", "one JSON object"},
    {"duplicate key", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"t\":20}\n", 0,
     TRACE_READ_ERROR_RECORD, 2, "each key once", "\"t\" twice"},
    {"invalid UTF-8", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"s\":\"\xff\"}\n", 0,
     TRACE_READ_ERROR_SYNTAX, 2, "invalid UTF-8", "column 32"},
    {"NUL byte", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"s\":\"\0\"}\n", sizeof HDR + 34,
     TRACE_READ_ERROR_SYNTAX, 2, "NUL byte", "column 32"},
    {"raw control character", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"s\":\"\t\"}\n", 0,
     TRACE_READ_ERROR_SYNTAX, 2, "control character", "column 32"},
    {"bad \\u escape", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"s\":\"\\uZZZZ\"}\n", 0,
     TRACE_READ_ERROR_SYNTAX, 2, "four hex digits", "column 32"},
    {"lone surrogate", HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"s\":\"\\udc00\"}\n", 0,
     TRACE_READ_ERROR_SYNTAX, 2, "invalid JSON", "column"},
    {"leading zero", HDR "{\"t\":010,\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_SYNTAX, 2,
     "RFC 8259 §6", "column 6"},
    {"BOM", HDR "\xef\xbb\xbf{\"t\":10,\"id\":1,\"ev\":\"a.b\"}\n", 0, TRACE_READ_ERROR_SYNTAX, 2,
     "unexpected character", "column 1"},
    {"nested arrays then backwards",
     HDR "{\"t\":10,\"id\":1,\"ev\":\"a.b\",\"x\":"
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n"
         "{\"t\":5,\"id\":2,\"ev\":\"a.b\"}\n",
     0, TRACE_READ_ERROR_ORDER, 3, "backwards", "got 5"},
};

START_TEST(corrupt_input) {
  const char *text = bad_rows[_i].text;
  size_t len = bad_rows[_i].len ? bad_rows[_i].len : strlen(text);
  const char *name = bad_rows[_i].name;
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("bad.jsonl", text, len, &err);
  const cJSON *rec = NULL;
  if (r) {
    int guard = 0;
    while (trace_reader_next(r, &rec, &err) == TRACE_READ_OK && guard++ < 10)
      ;
  }
  ck_assert_msg(err != NULL, "%s: got no error, want one", name);
  ck_assert_msg(err->domain == TRACE_READ_ERROR && err->code == (int)bad_rows[_i].code,
                "%s: got code %d, want %d (%s)", name, err->code, bad_rows[_i].code, err->message);
  char *prefix = g_strdup_printf("bad.jsonl:%u: ", bad_rows[_i].line);
  ck_assert_msg(g_str_has_prefix(err->message, prefix), "%s: got \"%s\", want prefix \"%s\"", name,
                err->message, prefix);
  ck_assert_msg(strstr(err->message, bad_rows[_i].want1) &&
                    strstr(err->message, bad_rows[_i].want2),
                "%s: got \"%s\", want \"%s\" and \"%s\"", name, err->message, bad_rows[_i].want1,
                bad_rows[_i].want2);
  /* Sticky: further calls fail the same way. */
  for (int k = 0; r && k < 3; k++) {
    GError *again = NULL;
    rec = (const cJSON *)1;
    ck_assert_int_eq(trace_reader_next(r, &rec, &again), TRACE_READ_FAIL);
    ck_assert_ptr_null(rec);
    ck_assert_ptr_nonnull(again);
    ck_assert_int_eq(again->code, err->code);
    ck_assert_str_eq(again->message, err->message);
    g_error_free(again);
  }
  /* NULL err is allowed. */
  if (r)
    ck_assert_int_eq(trace_reader_next(r, &rec, NULL), TRACE_READ_FAIL);
  g_free(prefix);
  g_error_free(err);
  trace_reader_free(r);
}
END_TEST

/* cJSON's nesting limit (1000) is an error, not a crash. */
START_TEST(too_deep) {
  GString *s = g_string_new(HDR "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"x\":");
  for (int i = 0; i < 5000; i++)
    g_string_append_c(s, '[');
  for (int i = 0; i < 5000; i++)
    g_string_append_c(s, ']');
  g_string_append(s, "}\n");
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("deep", s->str, s->len, &err);
  ck_assert_ptr_nonnull(r);
  const cJSON *rec;
  ck_assert_int_eq(trace_reader_next(r, &rec, &err), TRACE_READ_FAIL);
  ck_assert_msg(
      g_str_has_prefix(err->message, "deep:2: expected one JSON object, got invalid JSON"),
      "got \"%s\"", err->message);
  g_error_free(err);
  trace_reader_free(r);
  g_string_free(s, TRUE);
}
END_TEST

/* Every cut of a valid trace: a cut after a newline reads cleanly up to
 * there; any other cut is "truncated" on the cut line; never a crash. */
START_TEST(truncated_at_every_byte) {
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  for (int i = 0; i < 4; i++) {
    trace_event_begin(tw, i * 10, "smtp.line");
    trace_key_bytes(tw, "line", "EHLO x\r\n\0\xff", 10);
    trace_end(tw);
  }
  const GString *s = trace_writer_peek_memory(tw);
  for (size_t cut = 0; cut <= s->len; cut++) {
    unsigned complete = 0;
    for (size_t k = 0; k < cut; k++)
      complete += s->str[k] == '\n';
    bool clean = cut > 0 && s->str[cut - 1] == '\n';
    GError *err = NULL;
    trace_reader *r = trace_reader_new_memory("cut", s->str, cut, &err);
    const cJSON *rec;
    unsigned events = 0;
    trace_read_status st = TRACE_READ_FAIL;
    if (r) {
      while ((st = trace_reader_next(r, &rec, &err)) == TRACE_READ_OK)
        events++;
    }
    if (clean) {
      ck_assert_msg(st == TRACE_READ_EOF, "cut %zu: got status %d, want EOF", cut, st);
      ck_assert_uint_eq(events, complete - 1);
    } else if (cut == 0) {
      ck_assert_int_eq(err->code, TRACE_READ_ERROR_FORMAT);
    } else {
      ck_assert_msg(err && err->code == TRACE_READ_ERROR_SYNTAX, "cut %zu: got %s", cut,
                    err ? err->message : "no error");
      char *want = g_strdup_printf("cut:%u: truncated", complete + 1);
      ck_assert_msg(g_str_has_prefix(err->message, want), "cut %zu: got \"%s\", want \"%s...\"",
                    cut, err->message, want);
      ck_assert_uint_eq(events, complete ? complete - 1 : 0);
      g_free(want);
    }
    if (err)
      g_error_free(err);
    trace_reader_free(r);
  }
  trace_writer_free(tw);
}
END_TEST

/* --- files ------------------------------------------------------------ */

static char *tmp_path(const char *leaf) {
  GError *err = NULL;
  char *dir = g_dir_make_tmp("trace_read_XXXXXX", &err);
  ck_assert_msg(dir != NULL, "tmp dir: %s", err ? err->message : "?");
  char *p = g_build_filename(dir, leaf, NULL);
  g_free(dir);
  return p;
}

static void remove_tmp(char *path) {
  char *dir = g_path_get_dirname(path);
  g_unlink(path);
  g_rmdir(dir);
  g_free(dir);
  g_free(path);
}

START_TEST(file_round_trip) {
  char *path = tmp_path("t.jsonl");
  GError *err = NULL;
  trace_writer *tw = trace_writer_new_file(path, &err);
  ck_assert_ptr_nonnull(tw);
  write_header(tw, TRACE_FORMAT_VERSION);
  /* One record far longer than a read chunk, then small ones. */
  size_t big = 3 * CHUNK + 17;
  uint8_t *body = g_malloc(big);
  for (size_t i = 0; i < big; i++)
    body[i] = (uint8_t)(i * 7 + 3);
  trace_event_begin(tw, 5, "msg.compose");
  trace_key_bytes(tw, "body", body, big);
  trace_end(tw);
  for (int i = 0; i < 100; i++) {
    trace_event_begin(tw, 6 + i, "tcp.close");
    trace_end(tw);
  }
  ck_assert(trace_writer_close(tw, &err));
  trace_writer_free(tw);

  trace_reader *r = trace_reader_open(path, &err);
  ck_assert_msg(r != NULL, "open: %s", err ? err->message : "?");
  GBytes *b = trace_get_bytes(next_ok(r), "body");
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(g_bytes_get_size(b), big);
  ck_assert_mem_eq(g_bytes_get_data(b, NULL), body, big);
  g_bytes_unref(b);
  for (int i = 0; i < 100; i++) {
    int64_t t = 0;
    ck_assert(trace_get_int(next_ok(r), "t", &t));
    ck_assert_int_eq(t, 6 + i);
  }
  expect_eof(r);
  trace_reader_free(r);
  g_free(body);
  remove_tmp(path);
}
END_TEST

/* The newline of line 2 falls at every offset around a chunk boundary. */
START_TEST(chunk_boundaries) {
  char *path = tmp_path("c.jsonl");
  GString *s = g_string_new(HDR);
  size_t target = CHUNK + (size_t)_i - 3; /* offset of the newline */
  g_string_append(s, "{\"t\":1,\"id\":1,\"ev\":\"a.b\",\"pad\":\"");
  while (s->len < target - 2)
    g_string_append_c(s, 'x');
  g_string_append(s, "\"}\n");
  ck_assert_uint_eq(s->len - 1, target);
  g_string_append(s, "{\"t\":2,\"id\":2,\"ev\":\"a.c\"}\n");
  ck_assert(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
  GError *err = NULL;
  trace_reader *r = trace_reader_open(path, &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_str_eq(trace_get_str(next_ok(r), "ev"), "a.b");
  ck_assert_str_eq(trace_get_str(next_ok(r), "ev"), "a.c");
  ck_assert_uint_eq(trace_reader_line(r), 3);
  expect_eof(r);
  trace_reader_free(r);
  /* The same file cut one byte short is truncated on line 3. */
  ck_assert(g_file_set_contents(path, s->str, (gssize)s->len - 1, NULL));
  r = trace_reader_open(path, &err);
  ck_assert_ptr_nonnull(r);
  next_ok(r);
  const cJSON *rec;
  ck_assert_int_eq(trace_reader_next(r, &rec, &err), TRACE_READ_FAIL);
  ck_assert_ptr_nonnull(strstr(err->message, ":3: truncated"));
  g_error_free(err);
  trace_reader_free(r);
  g_string_free(s, TRUE);
  remove_tmp(path);
}
END_TEST

START_TEST(missing_file) {
  GError *err = NULL;
  ck_assert_ptr_null(trace_reader_open("/nonexistent-dir/run.jsonl", &err));
  ck_assert_ptr_nonnull(err);
  ck_assert(g_error_matches(err, TRACE_READ_ERROR, TRACE_READ_ERROR_IO));
  ck_assert_msg(g_str_has_prefix(err->message, "/nonexistent-dir/run.jsonl: cannot open trace"),
                "got \"%s\"", err->message);
  g_error_free(err);
}
END_TEST

START_TEST(directory_is_io_error) {
  GError *err = NULL;
  char *dir = g_dir_make_tmp("trace_read_XXXXXX", NULL);
  ck_assert_ptr_null(trace_reader_open(dir, &err));
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(g_error_matches(err, TRACE_READ_ERROR, TRACE_READ_ERROR_IO), "got %d: %s",
                err->code, err->message);
  ck_assert_ptr_nonnull(strstr(err->message, dir));
  g_error_free(err);
  g_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(standard_input) {
  char *path = tmp_path("in.jsonl");
  static const char text[] = HDR E1 "{\"t\":9,\"id\":2,\"ev\":\"a.b\"}\n";
  ck_assert(g_file_set_contents(path, text, -1, NULL));
  ck_assert_ptr_nonnull(freopen(path, "rb", stdin)); /* forked test: stdin is ours */
  GError *err = NULL;
  trace_reader *r = trace_reader_open("-", &err);
  ck_assert_ptr_nonnull(r);
  next_ok(r);
  const cJSON *rec;
  ck_assert_int_eq(trace_reader_next(r, &rec, &err), TRACE_READ_FAIL);
  ck_assert_msg(g_str_has_prefix(err->message, "<stdin>:3: time goes backwards"), "got \"%s\"",
                err->message);
  g_error_free(err);
  trace_reader_free(r);
  remove_tmp(path);
}
END_TEST

/* What a reader yields, as text: each record's line and raw text, then the
 * end (EOF or the error code and message). */
static char *transcript(trace_reader *r, GError *open_err) {
  GString *out = g_string_new(NULL);
  GError *err = open_err;
  if (r) {
    const cJSON *rec;
    size_t n;
    const char *raw = trace_reader_raw(r, &n);
    g_string_append_printf(out, "1 %.*s\n", (int)n, raw);
    trace_read_status st;
    while ((st = trace_reader_next(r, &rec, &err)) == TRACE_READ_OK) {
      raw = trace_reader_raw(r, &n);
      g_string_append_printf(out, "%" PRIu64 " %.*s\n", trace_reader_line(r), (int)n, raw);
    }
    if (st == TRACE_READ_EOF)
      g_string_append(out, "EOF\n");
  }
  if (err) {
    g_string_append_printf(out, "ERR %d %s\n", err->code, err->message);
    g_error_free(err);
  }
  trace_reader_free(r);
  return g_string_free(out, FALSE);
}

/* The file reader split its input at every byte (1-byte reads) and at every
 * small chunk size yields exactly what the memory reader yields, for good
 * and corrupt traces alike. */
START_TEST(every_split_point) {
  char *path = tmp_path("split.jsonl");
  GString *inputs[G_N_ELEMENTS(bad_rows) + 1];
  trace_writer *tw = trace_writer_new_memory();
  write_header(tw, TRACE_FORMAT_VERSION);
  for (int i = 0; i < 6; i++) {
    trace_event_begin(tw, i, "smtp.line");
    trace_key_bytes(tw, "line", "DATA\r\n\0\xc3\xa9", 9);
    trace_key_str(tw, "text", "caf\xc3\xa9");
    trace_end(tw);
  }
  inputs[0] = g_string_new_len(trace_writer_peek_memory(tw)->str,
                               (gssize)trace_writer_peek_memory(tw)->len);
  trace_writer_free(tw);
  for (size_t i = 0; i < G_N_ELEMENTS(bad_rows); i++)
    inputs[i + 1] =
        g_string_new_len(bad_rows[i].text, bad_rows[i].len ? (gssize)bad_rows[i].len : -1);
  for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
    ck_assert(g_file_set_contents(path, inputs[i]->str, (gssize)inputs[i]->len, NULL));
    GError *err = NULL;
    trace_reader *r = trace_reader_new_memory(path, inputs[i]->str, inputs[i]->len, &err);
    char *want = transcript(r, err);
    ck_assert_ptr_nonnull(strstr(want, i == 0 ? "EOF" : "ERR"));
    static const size_t chunks[] = {1, 2, 3, 4, 5, 7, 9, 64};
    for (size_t c = 0; c < G_N_ELEMENTS(chunks); c++) {
      size_t chunk = chunks[c];
      err = NULL;
      r = trace_read__open_chunked(path, chunk, &err);
      char *got = transcript(r, err);
      ck_assert_msg(strcmp(got, want) == 0, "input %zu, chunk %zu: got\n%s\nwant\n%s", i, chunk,
                    got, want);
      g_free(got);
    }
    g_free(want);
    g_string_free(inputs[i], TRUE);
  }
  remove_tmp(path);
}
END_TEST

/* Following a live writer through a pipe: each record is readable as soon
 * as its line is written, without waiting for more input or the end. */
START_TEST(live_pipe) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO); /* forked test: stdin is ours */
  close(fds[0]);
  static const char h[] = HDR, e1[] = E1, e2[] = "{\"t\":11,\"id\":2,\"ev\":\"a.b\"}\n";
  ck_assert_int_eq(write(fds[1], h, sizeof h - 1), (ssize_t)sizeof h - 1);
  GError *err = NULL;
  trace_reader *r = trace_reader_open("-", &err);
  ck_assert_ptr_nonnull(r);
  ck_assert_int_eq(write(fds[1], e1, sizeof e1 - 1), (ssize_t)sizeof e1 - 1);
  int64_t t = 0;
  ck_assert(trace_get_int(next_ok(r), "t", &t) && t == 10);
  ck_assert_int_eq(write(fds[1], e2, 10), 10); /* half a line, then the rest */
  ck_assert_int_eq(write(fds[1], e2 + 10, sizeof e2 - 11), (ssize_t)sizeof e2 - 11);
  ck_assert(trace_get_int(next_ok(r), "t", &t) && t == 11);
  close(fds[1]);
  expect_eof(r);
  trace_reader_free(r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_read");
  TCase *tc = tcase_create("round_trip");
  tcase_add_test(tc, every_value_kind);
  tcase_add_loop_test(tc, bytes_round_trip, 0, G_N_ELEMENTS(bytes_rows));
  tcase_add_test(tc, pseudo_random_bytes);
  tcase_add_test(tc, int_helpers);
  tcase_add_test(tc, many_records);
  suite_add_tcase(s, tc);
  tc = tcase_create("corrupt");
  tcase_add_loop_test(tc, corrupt_input, 0, G_N_ELEMENTS(bad_rows));
  tcase_add_test(tc, truncated_at_every_byte);
  tcase_add_test(tc, too_deep);
  suite_add_tcase(s, tc);
  tc = tcase_create("files");
  tcase_add_test(tc, file_round_trip);
  tcase_add_loop_test(tc, chunk_boundaries, 0, 7);
  tcase_add_test(tc, every_split_point);
  tcase_add_test(tc, missing_file);
  tcase_add_test(tc, directory_is_io_error);
  tcase_add_test(tc, standard_input);
  tcase_add_test(tc, live_pipe);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
