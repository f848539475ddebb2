/* Tests for the trace writer: key order, escaping, integers, nesting, and
 * the writer thread (same bytes, same tap order, errors, sync). */
#include <glib/gstdio.h>
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

/* A text and the JSON string trace_escape_text must make of it. */
typedef struct {
  const char *in;
  const char *want;
} text_case;

static void check_text(const text_case *c) {
  GString *out = g_string_new(NULL);
  trace_escape_text(out, c->in, strlen(c->in));
  ck_assert_str_eq(out->str, c->want);
  g_string_free(out, TRUE);
}

static const text_case text_cases[] = {
    {"caf\xc3\xa9", "\"caf\xc3\xa9\""},          /* valid UTF-8 kept */
    {"bad\xff!", "\"bad\\ufffd!\""},             /* invalid byte replaced */
    {"tab\there\n", "\"tab\\there\\n\""},
    {"\x1b[0m", "\"\\u001b[0m\""},
    {"\xe2\x82", "\"\\ufffd\\ufffd\""},          /* truncated sequence */
};

START_TEST(text_escaping) { check_text(&text_cases[_i]); }
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
  g_clear_error(&err); /* reused below */
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

static const struct {
  int64_t v;
  const char *want;
} int_cases[] = {
    {0, "0"},
    {-1, "-1"},
    {9, "9"},
    {10, "10"},
    {1500000000, "1500000000"},
    {INT64_MAX, "9223372036854775807"},
    {INT64_MIN, "-9223372036854775808"},
};

START_TEST(integers) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_key_int(tw, "i", int_cases[_i].v);
  if (int_cases[_i].v >= 0)
    trace_key_uint(tw, "u", (uint64_t)int_cases[_i].v);
  else
    trace_key_uint(tw, "u", UINT64_MAX);
  trace_end(tw);
  char *want = g_strdup_printf("{\"i\":%s,\"u\":%s}\n", int_cases[_i].want,
                               int_cases[_i].v >= 0 ? int_cases[_i].want : "18446744073709551615");
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str, want);
  g_free(want);
  trace_writer_free(tw);
}
END_TEST

START_TEST(key_escaping) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_key_bool(tw, "a\"b", true);
  trace_key_bool(tw, "tab\t", false);
  trace_key_bool(tw, "plain_key-1", true);
  trace_end(tw);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"a\\\"b\":true,\"tab\\t\":false,\"plain_key-1\":true}\n");
  trace_writer_free(tw);
}
END_TEST

/* --- the writer thread ------------------------------------------------ */

typedef struct {
  GString *seen; /* every tapped line, each followed by '\n' */
  size_t n;
} tap_log;

static void log_tap(void *user, const char *line, size_t len) {
  tap_log *l = user;
  g_string_append_len(l->seen, line, (gssize)len);
  g_string_append_c(l->seen, '\n');
  l->n++;
}

/* Record I of a varied stream: short and long ones (one longer than a
 * whole chunk), strings that need escaping. */
static void write_rec(trace_writer *tw, int i) {
  trace_event_begin(tw, i, "x.y");
  trace_key_str(tw, "node", i % 3 ? "alice" : "b\"o\tb");
  if (i % 97 == 0) {
    size_t n = i == 970 ? 200000 : (size_t)i * 7;
    char *big = g_malloc(n + 1);
    for (size_t k = 0; k < n; k++)
      big[k] = (char)('a' + (k + (size_t)i) % 26);
    big[n] = 0;
    trace_key_str(tw, "big", big);
    g_free(big);
  }
  trace_key_int(tw, "v", -i);
  trace_end(tw);
}

static char *slurp(const char *path) {
  char *text = NULL;
  ck_assert(g_file_get_contents(path, &text, NULL, NULL));
  return text;
}

/* Two file writers with taps, A plain and B with the thread, fed the same
 * records by a test; pair_close_same closes both and asserts the same file
 * and, for both taps, the same lines as the file. */
typedef struct {
  char *dir, *pa, *pb;
  trace_writer *a, *b;
  tap_log la, lb;
} writer_pair;

static void pair_open(writer_pair *p) {
  p->dir = g_dir_make_tmp("trace-thread-XXXXXX", NULL);
  ck_assert_ptr_nonnull(p->dir);
  p->pa = g_build_filename(p->dir, "a.jsonl", NULL);
  p->pb = g_build_filename(p->dir, "b.jsonl", NULL);
  p->a = trace_writer_new_file(p->pa, NULL);
  p->b = trace_writer_new_file(p->pb, NULL);
  p->la = (tap_log){g_string_new(NULL), 0};
  p->lb = (tap_log){g_string_new(NULL), 0};
  trace_writer_set_tap(p->a, log_tap, &p->la);
  trace_writer_set_tap(p->b, log_tap, &p->lb);
  ck_assert(trace_writer_start_thread(p->b));
}

static void pair_close_same(writer_pair *p) {
  ck_assert(trace_writer_close(p->a, NULL));
  ck_assert(trace_writer_close(p->b, NULL));
  char *ta = slurp(p->pa), *tb = slurp(p->pb);
  ck_assert_str_eq(ta, tb);
  ck_assert_str_eq(p->la.seen->str, ta); /* the taps saw each line as written */
  ck_assert_str_eq(p->lb.seen->str, ta);
  g_free(ta);
  g_free(tb);
  trace_writer_free(p->a);
  trace_writer_free(p->b);
  g_string_free(p->la.seen, TRUE);
  g_string_free(p->lb.seen, TRUE);
  g_unlink(p->pa);
  g_unlink(p->pb);
  g_rmdir(p->dir);
  g_free(p->pa);
  g_free(p->pb);
  g_free(p->dir);
}

/* The same records through a writer with and without the thread: the same
 * file, the same tapped lines in the same order; sync makes the tap current. */
START_TEST(thread_same_output) {
  writer_pair p;
  pair_open(&p);
  trace_writer *a = p.a, *b = p.b;
  tap_log *la = &p.la, *lb = &p.lb;
  ck_assert(trace_writer_start_thread(b)); /* twice: still one thread */
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    write_rec(a, i);
    write_rec(b, i);
    if (i == 999) {
      trace_writer_sync(b);
      ck_assert_uint_eq(lb->n, 1000);
      ck_assert_str_eq(lb->seen->str, la->seen->str);
    }
  }
  trace_writer_sync(b);
  ck_assert_uint_eq(lb->n, (size_t)n);
  ck_assert_uint_eq(trace_writer_records(b), (uint64_t)n);
  pair_close_same(&p);
}
END_TEST

/* Records are built in place in the thread's chunk: a sync (or a tap
 * change, which syncs) inside a record hands the finished ones over and
 * carries the open one to the next chunk, so the file and the tapped
 * lines are those of a writer without the thread. */
START_TEST(thread_sync_inside_record) {
  writer_pair p;
  pair_open(&p);
  trace_writer *a = p.a, *b = p.b;
  tap_log *la = &p.la, *lb = &p.lb;
  const int n = 3000;
  for (int i = 0; i < n; i++) {
    trace_writer *w[2] = {a, b};
    for (int k = 0; k < 2; k++) {
      trace_event_begin(w[k], i, "x.y");
      trace_key_str(w[k], "node", "alice");
      if (k == 1 && i % 250 == 0)
        trace_writer_sync(b); /* inside the record */
      if (k == 1 && i == 1234)
        trace_writer_set_tap(b, log_tap, lb);
      trace_arr_begin(w[k], "a");
      trace_key_int(w[k], NULL, -i);
      trace_arr_end(w[k]);
      trace_end(w[k]);
    }
    if (i % 250 == 1) {
      trace_writer_sync(b);
      ck_assert_uint_eq(lb->n, (size_t)i + 1);
      ck_assert_str_eq(lb->seen->str, la->seen->str);
    }
  }
  pair_close_same(&p);
}
END_TEST

/* A null writer with the thread still taps everything; a memory writer
 * refuses the thread and keeps working; changing the tap syncs first. */
START_TEST(thread_null_and_memory) {
  trace_writer *m = trace_writer_new_memory();
  ck_assert(!trace_writer_start_thread(m));
  write_rec(m, 1);
  ck_assert_uint_eq(trace_writer_peek_memory(m)->len > 0, 1);
  trace_writer_free(m);

  trace_writer *nw = trace_writer_new_null();
  tap_log l1 = {g_string_new(NULL), 0}, l2 = {g_string_new(NULL), 0};
  trace_writer_set_tap(nw, log_tap, &l1);
  ck_assert(trace_writer_start_thread(nw));
  for (int i = 0; i < 5000; i++)
    write_rec(nw, i);
  trace_writer_set_tap(nw, log_tap, &l2); /* every earlier record went to l1 */
  ck_assert_uint_eq(l1.n, 5000);
  for (int i = 0; i < 3; i++)
    write_rec(nw, i);
  ck_assert(trace_writer_close(nw, NULL));
  ck_assert_uint_eq(l1.n, 5000);
  ck_assert_uint_eq(l2.n, 3);
  write_rec(nw, 4); /* after close: synchronous again, the tap still runs */
  ck_assert_uint_eq(l2.n, 4);
  trace_writer_free(nw);
  g_string_free(l1.seen, TRUE);
  g_string_free(l2.seen, TRUE);
}
END_TEST

/* Write errors found on the thread are reported by close. */
START_TEST(thread_reports_errors) {
  trace_writer *tw = trace_writer_new_file("/dev/full", NULL);
  if (!tw)
    return;
  ck_assert(trace_writer_start_thread(tw));
  for (int i = 0; i < 20000; i++)
    write_rec(tw, i);
  GError *err = NULL;
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

/* --- the fast paths (plain runs word by word, keys and numbers written in
 * place): every case against a rule written out octet by octet -------- */

/* The JSON text of octet C alone in a bytes string (TEXT: in a text
 * string, where an octet from 0x80 alone is invalid UTF-8). */
static void want_octet(GString *want, unsigned c, bool text) {
  if (c == '"' || c == '\\')
    g_string_append_printf(want, "\\%c", c);
  else if (c == '\n' || c == '\r' || c == '\t')
    g_string_append_printf(want, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
  else if (c >= 0x20 && c < 0x7f)
    g_string_append_c(want, (char)c);
  else if (text && c >= 0x80)
    g_string_append(want, "\\ufffd");
  else
    g_string_append_printf(want, "\\u%04x", c);
}

/* Every octet at every place of an eight-octet word, of two sixteen-octet
 * blocks (SSE2) and past them (plain runs of 0..33 octets before it and
 * 0..9 after), in both kinds of string, appended to text already in the
 * GString. */
START_TEST(every_octet_every_offset) {
  GString *got = g_string_new(NULL), *want = g_string_new(NULL);
  unsigned char in[48];
  for (unsigned c = 0; c < 256; c++)
    for (size_t pre = 0; pre < 34; pre++)
      for (size_t post = 0; post < 10; post++) {
        size_t n = 0;
        for (size_t i = 0; i < pre; i++)
          in[n++] = (unsigned char)('a' + i % 26);
        in[n++] = (unsigned char)c;
        for (size_t i = 0; i < post; i++)
          in[n++] = (unsigned char)('0' + i);
        for (int text = 0; text < 2; text++) {
          g_string_assign(got, "x");
          if (text)
            trace_escape_text(got, (const char *)in, n);
          else
            trace_escape_bytes(got, in, n);
          g_string_assign(want, "x\"");
          g_string_append_len(want, (const char *)in, (gssize)pre);
          want_octet(want, c, text);
          g_string_append_len(want, (const char *)in + pre + 1, (gssize)post);
          g_string_append_c(want, '"');
          ck_assert_msg(strcmp(got->str, want->str) == 0 && got->len == want->len,
                        "octet 0x%02x after %zu, before %zu, %s: got %s want %s", c, pre, post,
                        text ? "text" : "bytes", got->str, want->str);
        }
      }
  g_string_free(got, TRUE);
  g_string_free(want, TRUE);
}
END_TEST

/* UTF-8 around the word boundaries: valid sequences kept whole, each
 * octet of an invalid or cut one replaced (as the writer did before the
 * word-wise scan). */
static const text_case utf8_cases[] = {
    {"", "\"\""},
    {"1234567\xc3\xa9", "\"1234567\xc3\xa9\""},                    /* split across the word */
    {"12345678\xe2\x82\xac", "\"12345678\xe2\x82\xac\""},          /* after a whole word */
    {"1234567\xf0\x9f\x98\x80z", "\"1234567\xf0\x9f\x98\x80z\""},  /* four octets */
    {"1234567\xc0\xaf", "\"1234567\\ufffd\\ufffd\""},              /* overlong '/' */
    {"abcdefgh\xed\xa0\x80", "\"abcdefgh\\ufffd\\ufffd\\ufffd\""}, /* a surrogate */
    {"abcdefghijklmno\xe2\x82", "\"abcdefghijklmno\\ufffd\\ufffd\""}, /* cut at the end */
    {"\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},      /* beyond U+10FFFF */
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\\\"\""},
    {"\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "\"\\u007f\\u007f\\u007f\\u007f\\u007f\\u007f\\u007f\\u007f\""},
};

START_TEST(utf8_around_words) { check_text(&utf8_cases[_i]); }
END_TEST

/* Long strings (to 70,000 octets: beyond the writer thread's 64 KiB
 * chunk) of plain octets, with one octet to escape at the start, the
 * middle or the end, through a record: the text and the GString's length
 * agree with the rule. */
START_TEST(long_strings) {
  static const size_t lens[] = {7, 8, 9, 15, 16, 17, 255, 256, 257, 4096, 65535, 65536, 70000};
  for (size_t li = 0; li < G_N_ELEMENTS(lens); li++)
    for (int where = 0; where < 4; where++) { /* none, first, middle, last */
      size_t n = lens[li];
      char *in = g_malloc(n);
      for (size_t i = 0; i < n; i++)
        in[i] = (char)(' ' + 1 + (i * 7) % 90); /* plain but for '"' and '\\' */
      for (size_t i = 0; i < n; i++)
        if (in[i] == '"' || in[i] == '\\')
          in[i] = 'q';
      size_t at = where == 1 ? 0 : where == 2 ? n / 2 : n - 1;
      if (where)
        in[at] = '\n';
      trace_writer *tw = trace_writer_new_memory();
      trace_begin(tw);
      trace_key_strn(tw, "s", in, n);
      trace_key_bytes(tw, "b", in, n);
      trace_end(tw);
      GString *want = g_string_new("{");
      for (int k = 0; k < 2; k++) {
        g_string_append(want, k ? ",\"b\":\"" : "\"s\":\"");
        for (size_t i = 0; i < n; i++)
          want_octet(want, (unsigned char)in[i], k == 0);
        g_string_append_c(want, '"');
      }
      g_string_append(want, "}\n");
      const GString *got = trace_writer_peek_memory(tw);
      ck_assert_msg(got->len == want->len && memcmp(got->str, want->str, got->len) == 0,
                    "length %zu, escape at %d: got %zu octets want %zu", n, where, got->len,
                    want->len);
      g_string_free(want, TRUE);
      trace_writer_free(tw);
      g_free(in);
    }
}
END_TEST

/* Empty and NULL values, an empty key, keys around the in-place limit
 * (32 octets) and keys to escape there. */
START_TEST(empty_and_long_keys) {
  trace_writer *tw = trace_writer_new_memory();
  trace_begin(tw);
  trace_key_str(tw, "e", "");
  trace_key_strn(tw, "n", "xyz", 0);
  trace_key_bytes(tw, "b", "", 0);
  trace_key_str(tw, "z", NULL);
  trace_key_str(tw, "", "v");
  trace_key_uint(tw, "abcdefghijklmnopqrstuvwxyz01234", 1);   /* 31 */
  trace_key_uint(tw, "abcdefghijklmnopqrstuvwxyz012345", 2);  /* 32 */
  trace_key_uint(tw, "abcdefghijklmnopqrstuvwxyz0123456", 3); /* 33 */
  trace_key_uint(tw, "abcdefghijklmnopqrstuvwxyz01234\n", 4);
  trace_key_uint(tw, "abcdefghijklmnopqrstuvwxyz012345\"", 5);
  trace_key_uint(tw, "caf\xc3\xa9", 6);
  trace_arr_begin(tw, "a");
  trace_key_str(tw, NULL, "");
  trace_key_bytes(tw, NULL, "\0", 1);
  trace_arr_end(tw);
  trace_end(tw);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"e\":\"\",\"n\":\"\",\"b\":\"\",\"z\":null,\"\":\"v\","
                   "\"abcdefghijklmnopqrstuvwxyz01234\":1,"
                   "\"abcdefghijklmnopqrstuvwxyz012345\":2,"
                   "\"abcdefghijklmnopqrstuvwxyz0123456\":3,"
                   "\"abcdefghijklmnopqrstuvwxyz01234\\n\":4,"
                   "\"abcdefghijklmnopqrstuvwxyz012345\\\"\":5,"
                   "\"caf\xc3\xa9\":6,"
                   "\"a\":[\"\",\"\\u0000\"]}\n");
  trace_writer_free(tw);
}
END_TEST

/* Every kind of key (bool, null, object, array, strn, bytes, and the
 * record head's kind), 0..40 octets, plain or with an octet to escape at
 * every place: written as trace_escape_text writes the key. */
START_TEST(every_kind_of_key) {
  for (size_t n = 0; n <= 40; n++) {
    for (size_t at = 0; at <= n; at++) {
      char key[48];
      for (size_t k = 0; k < n; k++)
        key[k] = (char)('a' + k % 26);
      if (at < n)
        key[at] = at % 2 ? '"' : '\n';
      key[n] = '\0';
      GString *k = g_string_new(NULL);
      trace_escape_text(k, key, n);
      trace_writer *tw = trace_writer_new_memory();
      trace_event_begin(tw, 1, key);
      trace_key_bool(tw, key, true);
      trace_key_bool(tw, key, false);
      trace_key_null(tw, key);
      trace_key_strn(tw, key, "xy", 2);
      trace_key_bytes(tw, key, "\x01", 1);
      trace_obj_begin(tw, key);
      trace_key_null(tw, key);
      trace_obj_end(tw);
      trace_arr_begin(tw, key);
      trace_key_null(tw, NULL);
      trace_key_bool(tw, NULL, true);
      trace_obj_begin(tw, NULL);
      trace_obj_end(tw);
      trace_arr_begin(tw, NULL);
      trace_arr_end(tw);
      trace_arr_end(tw);
      trace_end(tw);
      char *want = g_strdup_printf("{\"t\":1,\"id\":1,\"ev\":%s,%s:true,%s:false,%s:null,%s:\"xy\","
                                   "%s:\"\\u0001\",%s:{%s:null},%s:[null,true,{},[]]}\n",
                                   k->str, k->str, k->str, k->str, k->str, k->str, k->str, k->str,
                                   k->str);
      ck_assert_msg(strcmp(trace_writer_peek_memory(tw)->str, want) == 0,
                    "key of %zu octets, escape at %zu: got %s want %s", n, at,
                    trace_writer_peek_memory(tw)->str, want);
      g_free(want);
      g_string_free(k, TRUE);
      trace_writer_free(tw);
    }
  }
}
END_TEST

/* The record head's id (counted up in its text) past every power of ten
 * to 10^5, and its time (the digits above the last eight kept from the
 * record before) going up, down, across 10^8 steps, negative and at the
 * edges: as printf writes them. */
START_TEST(event_head_ids_and_times) {
  static const int64_t times[] = {0, 99999999, 100000000, 100000001, 199999999, 200000000, 5,
                                  100000000, -1, 3600000000000, 3600000000001, 3599999999999,
                                  INT64_MAX, INT64_MAX - 1, 9999999999999999, INT64_MIN,
                                  100000000, 1000000000000000000};
  GString *want = g_string_new(NULL);
  trace_writer *tw = trace_writer_new_memory();
  for (uint64_t i = 1; i <= 100005; i++) {
    int64_t t = i <= G_N_ELEMENTS(times) ? times[i - 1] : (int64_t)i * 987654321;
    uint64_t id = trace_event_begin(tw, t, "e");
    ck_assert_uint_eq(id, i);
    trace_end(tw);
    g_string_append_printf(want, "{\"t\":%" G_GINT64_FORMAT ",\"id\":%" G_GUINT64_FORMAT
                                 ",\"ev\":\"e\"}\n", t, i);
  }
  ck_assert_uint_eq(trace_writer_peek_memory(tw)->len, want->len);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str, want->str);
  g_string_free(want, TRUE);
  trace_writer_free(tw);
}
END_TEST

/* The record head written in one step, with an event name to escape. */
START_TEST(event_head_escapes) {
  trace_writer *tw = trace_writer_new_memory();
  trace_event_begin(tw, -5, "a\"b\tc");
  trace_end(tw);
  trace_event_begin(tw, INT64_MAX, "");
  trace_key_str(tw, "k", "v");
  trace_end(tw);
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str,
                   "{\"t\":-5,\"id\":1,\"ev\":\"a\\\"b\\tc\"}\n"
                   "{\"t\":9223372036854775807,\"id\":2,\"ev\":\"\",\"k\":\"v\"}\n");
  trace_writer_free(tw);
}
END_TEST

/* Every power of ten and of two, one less and one more, as printf writes
 * them (the digit count is computed, not looped). */
START_TEST(integers_at_digit_edges) {
  GString *want = g_string_new(NULL);
  trace_writer *tw = trace_writer_new_memory();
  uint64_t vals[200];
  size_t nv = 0;
  for (uint64_t p = 1;; p *= 10) {
    vals[nv++] = p - 1;
    vals[nv++] = p;
    vals[nv++] = p + 1;
    if (p > UINT64_MAX / 10)
      break;
  }
  for (int k = 0; k < 64; k++) {
    vals[nv++] = (UINT64_C(1) << k) - 1;
    vals[nv++] = UINT64_C(1) << k;
  }
  vals[nv++] = UINT64_MAX;
  for (size_t i = 0; i < nv; i++) {
    trace_begin(tw);
    trace_key_uint(tw, "u", vals[i]);
    trace_key_int(tw, "i", (int64_t)vals[i]);
    trace_key_int(tw, "n", -(int64_t)(vals[i] >> 1));
    trace_end(tw);
    g_string_append_printf(want, "{\"u\":%" G_GUINT64_FORMAT ",\"i\":%" G_GINT64_FORMAT
                                 ",\"n\":%" G_GINT64_FORMAT "}\n",
                           vals[i], (int64_t)vals[i], -(int64_t)(vals[i] >> 1));
  }
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str, want->str);
  g_string_free(want, TRUE);
  trace_writer_free(tw);
}
END_TEST

/* trace_event_begin_node writes what trace_event_begin and a "node" key
 * write: a plain name, one to escape, an empty one and NULL. */
START_TEST(event_head_with_node) {
  static const char *const nodes[] = {"mx.d00.test", "a\"b\xff\n", "", NULL,
                                      "a-node-name-longer-than-one-word.example"};
  trace_writer *a = trace_writer_new_memory(), *b = trace_writer_new_memory();
  for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++) {
    uint64_t ia = trace_event_begin(a, (int64_t)i * 1000000007, "msg.queue");
    trace_key_str(a, "node", nodes[i]);
    trace_key_str(a, "msg", "m1");
    trace_end(a);
    uint64_t ib = trace_event_begin_node(b, (int64_t)i * 1000000007, "msg.queue", nodes[i]);
    trace_key_str(b, "msg", "m1");
    trace_end(b);
    ck_assert_uint_eq(ia, ib);
  }
  ck_assert_str_eq(trace_writer_peek_memory(b)->str, trace_writer_peek_memory(a)->str);
  ck_assert_ptr_nonnull(strstr(trace_writer_peek_memory(b)->str,
                               "{\"t\":1000000007,\"id\":2,\"ev\":\"msg.queue\",\"node\":"
                               "\"a\\\"b\\ufffd\\n\",\"msg\":\"m1\"}\n"));
  ck_assert_uint_eq(trace_event_begin_node(NULL, 1, "x", "n"), 0);
  trace_writer_free(a);
  trace_writer_free(b);
}
END_TEST

/* Keys of 1..36 octets (around the in-place limit of 32) with every
 * octet but NUL at every place, through each kind of key call: the key's
 * JSON string is the rule's. */
START_TEST(keys_every_octet_every_place) {
  GString *want = g_string_new(NULL), *k = g_string_new(NULL);
  char key[37];
  for (size_t klen = 1; klen <= 36; klen++)
    for (size_t at = 0; at < klen; at++)
      for (unsigned c = 1; c < 256; c++) {
        memset(key, 'k', klen);
        key[klen] = 0;
        key[at] = (char)c;
        trace_writer *tw = trace_writer_new_memory();
        trace_begin(tw);
        trace_key_bool(tw, key, true);
        trace_key_int(tw, key, -1);
        trace_key_uint(tw, key, 2);
        trace_key_str(tw, key, "s");
        trace_key_strn(tw, key, "n", 1);
        trace_key_null(tw, key);
        trace_key_bytes(tw, key, "b", 1);
        trace_obj_begin(tw, key);
        trace_obj_end(tw);
        trace_arr_begin(tw, key);
        trace_arr_end(tw);
        trace_end(tw);
        g_string_assign(k, "\"");
        for (size_t i = 0; i < klen; i++)
          want_octet(k, (unsigned char)key[i], true);
        g_string_append(k, "\":");
        g_string_printf(want, "{%strue,%s-1,%s2,%s\"s\",%s\"n\",%snull,%s\"b\",%s{},%s[]}\n", k->str,
                        k->str, k->str, k->str, k->str, k->str, k->str, k->str, k->str);
        ck_assert_msg(strcmp(trace_writer_peek_memory(tw)->str, want->str) == 0,
                      "key of %zu octets, 0x%02x at %zu: got %s want %s", klen, c, at,
                      trace_writer_peek_memory(tw)->str, want->str);
        trace_writer_free(tw);
      }
  g_string_free(want, TRUE);
  g_string_free(k, TRUE);
}
END_TEST

/* The rule, octet by octet (the general path, with no word or block
 * step): text keeps valid UTF-8 and writes U+FFFD for each octet of an
 * invalid or cut sequence; bytes write every octet from 0x80 as \u00XX. */
static void want_string(GString *want, const unsigned char *s, size_t n, bool text) {
  g_string_append_c(want, '"');
  for (size_t i = 0; i < n;) {
    if (!text || s[i] < 0x80) {
      want_octet(want, s[i++], false);
      continue;
    }
    gunichar u = g_utf8_get_char_validated((const char *)s + i, (gssize)(n - i));
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      g_string_append(want, "\\ufffd");
      i++;
      continue;
    }
    size_t len = (size_t)(g_utf8_next_char((const char *)s + i) - ((const char *)s + i));
    g_string_append_len(want, (const char *)s + i, (gssize)len);
    i += len;
  }
  g_string_append_c(want, '"');
}

/* A random string of N octets (seeded): mostly plain ASCII, as names and
 * addresses are, with now and then an octet of each class to escape
 * ('"', '\\', a control, DEL, any octet from 0x80) or a UTF-8 sequence of
 * two to four octets, valid or cut. */
static void random_string(GRand *r, unsigned char *s, size_t n) {
  static const char *const utf8[] = {"\xc3\xa9", "\xe2\x82\xac",    "\xf0\x9f\x98\x80",
                                     "\xc3",     "\xe2\x82",        "\xed\xa0\x80",
                                     "\xc0\xaf", "\xf5\x80\x80\x80"};
  gint32 odds = g_rand_int_range(r, 0, 4) == 0 ? 2 : 40; /* some strings dense in escapes */
  for (size_t i = 0; i < n;) {
    gint32 k = g_rand_int_range(r, 0, odds);
    if (k >= 8) {
      s[i++] = (unsigned char)g_rand_int_range(r, 0x20, 0x7f);
      if (s[i - 1] == '"' || s[i - 1] == '\\')
        s[i - 1] = 'a';
      continue;
    }
    switch (k) {
    case 0:
      s[i++] = '"';
      break;
    case 1:
      s[i++] = '\\';
      break;
    case 2:
      s[i++] = (unsigned char)g_rand_int_range(r, 0, 0x20);
      break;
    case 3:
      s[i++] = 0x7f;
      break;
    case 4:
    case 5:
      s[i++] = (unsigned char)g_rand_int_range(r, 0x80, 0x100);
      break;
    default: {
      const char *u = utf8[g_rand_int_range(r, 0, G_N_ELEMENTS(utf8))];
      for (size_t j = 0; u[j] && i < n; j++)
        s[i++] = (unsigned char)u[j];
    }
    }
  }
}

/* Seeded random strings of 0..80 octets (the whole-string check up to 32
 * and the block loop beyond) and keys of 0..40, through both escapers
 * (appended to text already there), trace_key_str / strn / bytes and the
 * record head's kind and node: the same text as the rule's, octet by
 * octet. */
START_TEST(random_strings_against_rule) {
  GRand *r = g_rand_new_with_seed(20261127);
  GString *got = g_string_new(NULL), *want = g_string_new(NULL), *k = g_string_new(NULL);
  unsigned char v[96], key[48];
  for (int it = 0; it < 30000; it++) {
    size_t n = (size_t)g_rand_int_range(r, 0, it % 8 ? 34 : 81);
    size_t kn = (size_t)g_rand_int_range(r, 0, 41);
    random_string(r, v, n);
    random_string(r, key, kn);
    for (size_t i = 0; i < kn; i++)
      if (!key[i])
        key[i] = 'z'; /* keys are C strings */
    key[kn] = 0;
    for (int text = 0; text < 2; text++) {
      g_string_assign(got, "x");
      if (text)
        trace_escape_text(got, (const char *)v, n);
      else
        trace_escape_bytes(got, v, n);
      g_string_assign(want, "x");
      want_string(want, v, n, text);
      if (got->len != want->len || memcmp(got->str, want->str, got->len) != 0)
        ck_abort_msg("case %d (%zu octets, %s): got %s want %s", it, n, text ? "text" : "bytes",
                     got->str, want->str); /* not ck_assert: each costs Check a write */
    }
    v[n] = 0;
    size_t cn = strlen((const char *)v); /* trace_key_str stops at a NUL */
    trace_writer *tw = trace_writer_new_memory();
    trace_event_begin_node(tw, 7, (const char *)key, (const char *)v);
    trace_key_str(tw, (const char *)key, (const char *)v);
    trace_key_strn(tw, (const char *)key, (const char *)v, n);
    trace_key_bytes(tw, (const char *)key, v, n);
    trace_end(tw);
    g_string_truncate(k, 0);
    want_string(k, key, kn, true);
    g_string_assign(want, "{\"t\":7,\"id\":1,\"ev\":");
    g_string_append(want, k->str);
    g_string_append(want, ",\"node\":");
    want_string(want, v, cn, true);
    for (int f = 0; f < 3; f++) {
      g_string_append_printf(want, ",%s:", k->str);
      want_string(want, v, f == 0 ? cn : n, f < 2);
    }
    g_string_append(want, "}\n");
    const GString *rec = trace_writer_peek_memory(tw);
    if (rec->len != want->len || memcmp(rec->str, want->str, rec->len) != 0)
      ck_abort_msg("case %d (key %zu, value %zu octets): got %s want %s", it, kn, n, rec->str,
                   want->str);
    trace_writer_free(tw);
  }
  g_string_free(got, TRUE);
  g_string_free(want, TRUE);
  g_string_free(k, TRUE);
  g_rand_free(r);
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
  tcase_add_loop_test(tc, integers, 0, G_N_ELEMENTS(int_cases));
  tcase_add_test(tc, key_escaping);
  tcase_add_test(tc, every_octet_every_offset);
  tcase_add_loop_test(tc, utf8_around_words, 0, G_N_ELEMENTS(utf8_cases));
  tcase_add_test(tc, long_strings);
  tcase_add_test(tc, empty_and_long_keys);
  tcase_add_test(tc, keys_every_octet_every_place);
  tcase_add_test(tc, event_head_escapes);
  tcase_add_test(tc, every_kind_of_key);
  tcase_add_test(tc, event_head_ids_and_times);
  tcase_add_test(tc, event_head_with_node);
  tcase_add_test(tc, integers_at_digit_edges);
  tcase_add_test(tc, random_strings_against_rule);
  suite_add_tcase(s, tc);
  tc = tcase_create("thread");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, thread_same_output);
  tcase_add_test(tc, thread_sync_inside_record);
  tcase_add_test(tc, thread_null_and_memory);
  tcase_add_test(tc, thread_reports_errors);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
