/* Tests for mime_msg: the part tree, exact octet ranges, IMAP part
 * numbers, transfer decoding, defects, limits, every split of the input,
 * and a deterministic mutation fuzz loop. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_compose.h"
#include "mime_display.h"
#include "mime_imap.h"
#include "mime_imap_grammar.h"
#include "mime_msg.h"
#include "testutil.h"

static const char nested[] = "From: a@b.test\r\n"
                             "To: c@d.test\r\n"
                             "Subject: nested\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                             "\r\n"
                             "preamble\r\n"
                             "--outer\r\n"
                             "Content-Type: multipart/alternative; boundary=inner\r\n"
                             "\r\n"
                             "--inner\r\n"
                             "Content-Type: text/plain\r\n"
                             "\r\n"
                             "plain body\r\n"
                             "--inner\r\n"
                             "Content-Type: text/html; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: quoted-printable\r\n"
                             "\r\n"
                             "<p>caf=C3=A9</p>\r\n"
                             "--inner--\r\n"
                             "--outer\r\n"
                             "Content-Type: message/rfc822\r\n"
                             "\r\n"
                             "Subject: inner msg\r\n"
                             "\r\n"
                             "inner body\r\n"
                             "--outer \r\n"
                             "Content-Type: application/octet-stream\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "Content-Disposition: attachment; filename=\"x.bin\"\r\n"
                             "\r\n"
                             "AAEC\r\n"
                             "--outer--\r\n"
                             "epilogue\r\n";

static gsize at(const char *m, const char *anchor) {
  const char *p = strstr(m, anchor);
  ck_assert_msg(p != NULL, "anchor not found: %s", anchor);
  return (gsize)(p - m);
}

/* Rows: section, type/subtype, where the header starts, where the body
 * starts, where the body ends (the anchor's offset). */
static const struct {
  const char *section, *type;
  const char *hdr_at, *body_at, *end_at;
  gsize lines;
} tree[] = {
    {"1", "multipart/alternative", "Content-Type: multipart/alternative",
     "--inner\r\nContent-Type: text/plain", "\r\n--outer\r\nContent-Type: message", 10},
    {"1.1", "text/plain", "Content-Type: text/plain", "plain body",
     "\r\n--inner\r\nContent-Type: text/html", 1},
    {"1.2", "text/html", "Content-Type: text/html", "<p>caf", "\r\n--inner--", 1},
    {"2", "message/rfc822", "Content-Type: message/rfc822", "Subject: inner msg",
     "\r\n--outer \r\n", 3},
    {"2.1", "text/plain", "Subject: inner msg", "inner body", "\r\n--outer \r\n", 1},
    {"3", "application/octet-stream", "Content-Type: application/octet-stream", "AAEC",
     "\r\n--outer--", 1},
};

START_TEST(nested_offsets) {
  mime_msg *m = mime_msg_parse(nested, strlen(nested), NULL);
  const mime_part *root = mime_msg_root(m);
  ck_assert_str_eq(root->type, "multipart");
  ck_assert_uint_eq(root->hdr_off, 0);
  ck_assert_uint_eq(root->body_off, at(nested, "preamble"));
  ck_assert_uint_eq(root->body_len, strlen(nested) - root->body_off);
  ck_assert_uint_eq(mime_msg_part_count(m), 7); /* root, 1, 1.1, 1.2, 2, its message, 3 */
  ck_assert_uint_eq(mime_msg_flags(m), 0);
  for (gsize i = 0; i < G_N_ELEMENTS(tree); i++) {
    const mime_part *p = mime_msg_find(m, tree[i].section);
    ck_assert_msg(p != NULL, "no part %s", tree[i].section);
    char *t = g_strdup_printf("%s/%s", p->type, p->subtype);
    ck_assert_msg(strcmp(t, tree[i].type) == 0, "%s: got %s want %s", tree[i].section, t,
                  tree[i].type);
    g_free(t);
    gsize h = at(nested, tree[i].hdr_at), b = at(nested, tree[i].body_at),
          e = at(nested, tree[i].end_at);
    ck_assert_msg(p->hdr_off == h, "%s hdr_off: got %zu want %zu", tree[i].section, p->hdr_off, h);
    ck_assert_msg(p->hdr_off + p->hdr_len == b, "%s hdr_len: got %zu want %zu", tree[i].section,
                  p->hdr_len, b - h);
    ck_assert_msg(p->body_off == b, "%s body_off: got %zu want %zu", tree[i].section, p->body_off,
                  b);
    ck_assert_msg(p->body_len == e - b, "%s body_len: got %zu want %zu", tree[i].section,
                  p->body_len, e - b);
    ck_assert_msg(p->body_lines == tree[i].lines, "%s lines: got %zu want %zu", tree[i].section,
                  p->body_lines, tree[i].lines);
  }
  /* The message inside part 2 carries number "2": BODY[2.HEADER]. */
  const mime_part *two = mime_msg_find(m, "2");
  const mime_part *inner = g_ptr_array_index(two->children, 0);
  ck_assert(inner->encapsulated);
  ck_assert_str_eq(inner->section, "2");
  ck_assert_ptr_eq(mime_msg_find(m, "2.1"), inner);
  ck_assert_str_eq(mime_hdr_get(inner->hdr, "subject"), "inner msg");
  const char *bad[] = {"0", "4", "1.3", "1.1.1", "3.1", "x", "1..2", "1.", "2.2"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    ck_assert_msg(mime_msg_find(m, bad[i]) == NULL, "found part %s", bad[i]);
  ck_assert_ptr_eq(mime_msg_find(m, ""), root);
  mime_msg_free(m);
}
END_TEST

START_TEST(decode_parts) {
  mime_msg *m = mime_msg_parse(nested, strlen(nested), NULL);
  guint fl = 0;
  GBytes *b = mime_part_decode(m, mime_msg_find(m, "1.2"), &fl);
  ck_assert_uint_eq(g_bytes_get_size(b), strlen("<p>caf\xC3\xA9</p>"));
  ck_assert(memcmp(g_bytes_get_data(b, NULL), "<p>caf\xC3\xA9</p>", g_bytes_get_size(b)) == 0);
  g_bytes_unref(b);
  const mime_part *att = mime_msg_find(m, "3");
  ck_assert_str_eq(att->filename, "x.bin");
  ck_assert_str_eq(att->disposition, "attachment");
  ck_assert_int_eq(att->cte, MIME_CTE_BASE64);
  b = mime_part_decode(m, att, &fl);
  ck_assert_uint_eq(g_bytes_get_size(b), 3);
  ck_assert(memcmp(g_bytes_get_data(b, NULL), "\x00\x01\x02", 3) == 0);
  g_bytes_unref(b);
  ck_assert_uint_eq(fl, 0);
  mime_msg_free(m);
}
END_TEST

static gboolean describe_part(const mime_part *p, void *ud) {
  g_string_append_printf(ud, "[%s %s/%s h=%zu+%zu b=%zu+%zu l=%zu f=%x n=%u]", p->section, p->type,
                         p->subtype, p->hdr_off, p->hdr_len, p->body_off, p->body_len,
                         p->body_lines, p->flags, mime_hdr_count(p->hdr));
  return TRUE;
}

static char *describe(const mime_msg *m) {
  GString *s = g_string_new(NULL);
  mime_msg_walk(m, describe_part, s);
  return g_string_free(s, FALSE);
}

/* The push parser gives the same tree for any split: every single split
 * point, and byte by byte. */
START_TEST(every_split) {
  gsize n = strlen(nested);
  mime_msg *whole = mime_msg_parse(nested, n, NULL);
  char *want = describe(whole);
  for (gsize cut = 0; cut <= n; cut++) {
    mime_msg_parser *p = mime_msg_parser_new(NULL);
    mime_msg_parser_feed(p, nested, cut);
    mime_msg_parser_feed(p, nested + cut, n - cut);
    mime_msg *m = mime_msg_parser_finish(p);
    char *got = describe(m);
    ck_assert_msg(strcmp(got, want) == 0, "split %zu: got %s want %s", cut, got, want);
    g_free(got);
    mime_msg_free(m);
  }
  mime_msg_parser *p = mime_msg_parser_new(NULL);
  for (gsize i = 0; i < n; i++)
    mime_msg_parser_feed(p, nested + i, 1);
  ck_assert_uint_eq(mime_msg_parser_size(p), n);
  mime_msg *m = mime_msg_parser_finish(p);
  char *got = describe(m);
  ck_assert_str_eq(got, want);
  g_free(got);
  mime_msg_free(m);
  g_free(want);
  mime_msg_free(whole);
  mime_msg_parser_free(NULL);
}
END_TEST

static char *crlf_to_lf(const char *s) {
  GString *o = g_string_new(NULL);
  for (; *s; s++)
    if (*s != '\r')
      g_string_append_c(o, *s);
  return g_string_free(o, FALSE);
}

START_TEST(lf_only) {
  char *lf = crlf_to_lf(nested);
  mime_msg *m = mime_msg_parse(lf, strlen(lf), NULL);
  ck_assert(mime_msg_flags(m) & MIME_FLAG_BARE_LF);
  ck_assert_uint_eq(mime_msg_part_count(m), 7);
  const mime_part *p = mime_msg_find(m, "1.1");
  ck_assert_uint_eq(p->body_off, at(lf, "plain body"));
  ck_assert_uint_eq(p->body_len, 10);
  p = mime_msg_find(m, "3");
  ck_assert_str_eq(p->filename, "x.bin");
  mime_msg_free(m);
  g_free(lf);
}
END_TEST

static const struct {
  const char *msg;
  guint want_flags; /* must all be set */
  const char *section;
  const char *want_type;
  const char *want_body;
} defects[] = {
    /* missing close delimiter: the last part runs to the end */
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n",
     MIME_FLAG_NO_CLOSE, "2", "text/plain", "two\r\n"},
    /* no boundary parameter: one opaque text leaf */
    {"Content-Type: multipart/mixed\r\n\r\n--b\r\nx\r\n", MIME_FLAG_NO_BOUNDARY, "1", "text/plain",
     "--b\r\nx\r\n"},
    /* boundary never appears */
    {"Content-Type: multipart/mixed; boundary=zz\r\n\r\nhello\r\n", MIME_FLAG_NO_CLOSE, "1",
     "text/plain", "hello\r\n"},
    /* bad Content-Type: text/plain (RFC 2045 §5.2) */
    {"Content-Type: garbage\r\n\r\nbody", MIME_FLAG_BAD_CTYPE, "1", "text/plain", "body"},
    /* no header at all */
    {"just a body line\r\n", MIME_FLAG_NO_BODY_SEP, "1", "text/plain", "just a body line\r\n"},
    /* a boundary that is only a prefix of a line is not a delimiter */
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--bx\r\n--b--\r\n", 0, "1",
     "text/plain", "--bx"},
    /* empty parts between adjacent delimiters */
    {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\nz\r\n--b--", 0, "2",
     "text/plain", "z"},
    /* multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5) */
    {"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: "
     "s\r\n\r\nb\r\n--d--\r\n",
     0, "1", "message/rfc822", "Subject: s\r\n\r\nb"},
    /* long line anywhere */
    {"A: b\r\n\r\n"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxx\r\n",
     MIME_FLAG_LONG_LINE, "1", "text/plain", NULL},
    {"", 0, "1", "text/plain", ""},
    /* a base64 message/rfc822 is not parsed inside (RFC 2046 §5.2.1 forbids it) */
    {"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
     "base64\r\n\r\nU3ViamVjdDogeA==\r\n",
     0, "1", "message/rfc822", "U3ViamVjdDogeA==\r\n"},
};

START_TEST(defect_table) {
  const char *in = defects[_i].msg;
  mime_msg *m = mime_msg_parse(in, strlen(in), NULL);
  guint fl = mime_msg_flags(m);
  ck_assert_msg((fl & defects[_i].want_flags) == defects[_i].want_flags,
                "row %d flags: got %x want %x", _i, fl, defects[_i].want_flags);
  const mime_part *p = mime_msg_find(m, defects[_i].section);
  ck_assert_msg(p != NULL, "row %d: no part %s", _i, defects[_i].section);
  char *t = g_strdup_printf("%s/%s", p->type, p->subtype);
  ck_assert_msg(strcmp(t, defects[_i].want_type) == 0, "row %d: got %s want %s", _i, t,
                defects[_i].want_type);
  g_free(t);
  if (defects[_i].want_body) {
    gsize n;
    const guint8 *d = mime_msg_data(m, &n);
    ck_assert_msg(p->body_len == strlen(defects[_i].want_body) &&
                      memcmp(d + p->body_off, defects[_i].want_body, p->body_len) == 0,
                  "row %d body: got [%.*s] want [%s]", _i, (int)p->body_len, d + p->body_off,
                  defects[_i].want_body);
  }
  char *bs = mime_imap_bodystructure(m, TRUE);
  ck_assert_msg(ig_check_body(bs, TRUE), "row %d: bad BODYSTRUCTURE %s", _i, bs);
  g_free(bs);
  mime_msg_free(m);
}
END_TEST

START_TEST(depth_bomb) {
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 200; i++)
    g_string_append_printf(s, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
  g_string_append(s, "\r\nleaf\r\n");
  mime_msg *m = mime_msg_parse(s->str, s->len, NULL);
  ck_assert(mime_msg_flags(m) & MIME_FLAG_DEPTH_LIMIT);
  ck_assert_uint_le(mime_msg_part_count(m), 34);
  char *bs = mime_imap_bodystructure(m, TRUE);
  ck_assert_msg(ig_check_body(bs, TRUE), "bad BODYSTRUCTURE %s", bs);
  g_free(bs);
  mime_msg_free(m);
  g_string_free(s, TRUE);
  /* message/rfc822 nested 200 deep */
  s = g_string_new(NULL);
  for (int i = 0; i < 200; i++)
    g_string_append(s, "Content-Type: message/rfc822\r\n\r\n");
  m = mime_msg_parse(s->str, s->len, NULL);
  ck_assert(mime_msg_flags(m) & MIME_FLAG_DEPTH_LIMIT);
  ck_assert_uint_le(mime_msg_part_count(m), 34);
  bs = mime_imap_bodystructure(m, TRUE);
  ck_assert_msg(ig_check_body(bs, TRUE), "bad BODYSTRUCTURE %s", bs);
  g_free(bs);
  mime_msg_free(m);
  g_string_free(s, TRUE);
}
END_TEST

START_TEST(part_bomb) {
  GString *s = g_string_new("Content-Type: multipart/mixed; boundary=b\r\n\r\n");
  for (int i = 0; i < 5000; i++)
    g_string_append(s, "--b\r\n\r\nx\r\n");
  g_string_append(s, "--b--\r\n");
  mime_limits lim;
  mime_limits_default(&lim);
  mime_msg *m = mime_msg_parse(s->str, s->len, &lim);
  ck_assert(mime_msg_flags(m) & MIME_FLAG_PART_LIMIT);
  ck_assert_uint_eq(mime_msg_part_count(m), lim.max_parts);
  mime_msg_free(m);
  g_string_free(s, TRUE);
}
END_TEST

/* xorshift64*: a fixed, seeded stream, so the loop is the same each run. */
static guint64 next_rand(guint64 *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

static gboolean check_ranges(const mime_part *p, void *ud) {
  gsize len = *(gsize *)ud;
  ck_assert(p->hdr_off + p->hdr_len == p->body_off);
  ck_assert(p->body_off + p->body_len <= len);
  if (p->parent) {
    ck_assert(p->hdr_off >= p->parent->body_off);
    ck_assert(p->body_off + p->body_len <= p->parent->body_off + p->parent->body_len);
  }
  return TRUE;
}

static void insert_bytes(GByteArray *a, guint pos, const guint8 *d, guint n) {
  if (n == 0)
    return;
  guint old = a->len;
  g_byte_array_set_size(a, old + n);
  memmove(a->data + pos + n, a->data + pos, old - pos);
  memcpy(a->data + pos, d, n);
}

static void exercise(const char *data, gsize len) {
  mime_msg *m = mime_msg_parse(data, len, NULL);
  mime_msg_walk(m, check_ranges, &len);
  char *bs = mime_imap_bodystructure(m, TRUE);
  char *b = mime_imap_bodystructure(m, FALSE);
  char *env = mime_imap_envelope(mime_msg_root(m));
  ck_assert_msg(ig_check_body(bs, TRUE), "bad BODYSTRUCTURE: %s", bs);
  ck_assert_msg(ig_check_body(b, FALSE), "bad BODY: %s", b);
  ck_assert_msg(ig_check_envelope(env), "bad ENVELOPE: %s", env);
  g_free(bs);
  g_free(b);
  g_free(env);
  mime_display *d = mime_display_new(m);
  mime_display_free(d);
  const char *secs[] = {"1", "1.1", "1.2", "2", "2.1", "3", "1.MIME", "2.HEADER", "2.TEXT", "TEXT"};
  for (gsize i = 0; i < G_N_ELEMENTS(secs); i++) {
    gsize off = 0, n = 0;
    if (mime_imap_section_range(m, secs[i], &off, &n))
      ck_assert(off + n <= len);
    const mime_part *p = mime_msg_find(m, secs[i]);
    if (p) {
      GBytes *x = mime_part_decode(m, p, NULL);
      g_bytes_unref(x);
    }
  }
  mime_msg_free(m);
}

START_TEST(fuzz_mutations) {
  static const char *const inserts[] = {
      "\r\n", "\n", "--outer", "--inner--", "=?UTF-8?B?",
      "\"",   "(",  ":",       ";",         "\\",
      "=",    "\0", "<",       "\r\n\r\n",  "Content-Type: message/rfc822\r\n"};
  guint64 seed = UINT64_C(0x9E3779B97F4A7C15);
  const char *base = nested;
  gsize blen = strlen(nested);
  for (int it = 0; it < 3000; it++) {
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, (const guint8 *)base, (guint)blen);
    int muts = 1 + (int)(next_rand(&seed) % 8);
    for (int k = 0; k < muts && a->len; k++) {
      guint pos = (guint)(next_rand(&seed) % a->len);
      switch (next_rand(&seed) % 5) {
      case 0:
        a->data[pos] = (guint8)next_rand(&seed);
        break;
      case 1: {
        const char *ins = inserts[next_rand(&seed) % G_N_ELEMENTS(inserts)];
        gsize il = *ins ? strlen(ins) : 1;
        insert_bytes(a, pos, (const guint8 *)ins, (guint)il);
        break;
      }
      case 2: {
        guint n = (guint)(next_rand(&seed) % 16);
        g_byte_array_remove_range(a, pos, MIN(a->len - pos, n));
        break;
      }
      case 3:
        g_byte_array_set_size(a, pos);
        break;
      default: {
        guint src = (guint)(next_rand(&seed) % a->len);
        guint n = (guint)(next_rand(&seed) % 64);
        n = MIN(a->len - src, n);
        GByteArray *copy = g_byte_array_new();
        g_byte_array_append(copy, a->data + src, n);
        insert_bytes(a, pos, copy->data, n);
        g_byte_array_free(copy, TRUE);
      }
      }
    }
    exercise((const char *)a->data, a->len);
    g_byte_array_free(a, TRUE);
  }
}
END_TEST

START_TEST(names) {
  ck_assert_str_eq(mime_cte_name(MIME_CTE_QP), "quoted-printable");
  ck_assert_str_eq(mime_cte_name(MIME_CTE_COUNT), "?");
  ck_assert_str_eq(mime_flag_name(MIME_FLAG_NO_CLOSE), "no-close-delimiter");
  ck_assert_str_eq(mime_flag_name(3), "?");
  char *all = mime_flags_describe((1u << MIME_FLAG_COUNT_) - 1);
  gchar **v = g_strsplit(all, ",", -1);
  ck_assert_uint_eq(g_strv_length(v), MIME_FLAG_COUNT_);
  g_strfreev(v);
  g_free(all);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_msg");
  TCase *tc = tcase_create("tree");
  tcase_add_test(tc, nested_offsets);
  tcase_add_test(tc, decode_parts);
  tcase_add_test(tc, every_split);
  tcase_add_test(tc, lf_only);
  tcase_add_test(tc, names);
  suite_add_tcase(s, tc);
  tc = tcase_create("defects");
  tcase_add_loop_test(tc, defect_table, 0, G_N_ELEMENTS(defects));
  tcase_add_test(tc, depth_bomb);
  tcase_add_test(tc, part_bomb);
  suite_add_tcase(s, tc);
  tc = tcase_create("fuzz");
  tcase_add_test(tc, fuzz_mutations);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
