/* Tests for mime_compose (building), mime_trace (Received) and
 * mime_display (what a person sees): compose → parse round trips,
 * determinism, line limits, error paths, Received in and out. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_compose.h"
#include "mime_date.h"
#include "mime_ew.h"
#include "mime_display.h"
#include "mime_imap.h"
#include "mime_imap_grammar.h"
#include "mime_msg.h"
#include "mime_random.h"
#include "mime_trace.h"
#include "testutil.h"

#define S INT64_C(1000000000)

static guint8 blob[3000];

static void fill_blob(void) {
  for (gsize i = 0; i < sizeof blob; i++)
    blob[i] = (guint8)(i * 131 + 7);
}

static const mime_compose_attachment atts[] = {
    {"report.pdf", "application/pdf", blob, sizeof blob},
    {"r\xC3\xA9sum\xC3\xA9 avec un nom de fichier vraiment tr\xC3\xA8s long \xE2\x82\xAC.txt",
     "text/plain", (const guint8 *)"hello\r\n", 7},
    {"empty.bin", NULL, NULL, 0},
};

/* The least a message needs: one sender, one recipient, a Message-ID. */
static mime_compose_config plain_config(void) {
  mime_compose_config c;
  memset(&c, 0, sizeof c);
  c.from = "a@a.example";
  c.to = "b@b.example";
  c.epoch_unix = MIME_DATE_EPOCH_DEFAULT;
  c.message_id = "x@a.example";
  return c;
}

static mime_compose_config base_config(void) {
  mime_compose_config c;
  memset(&c, 0, sizeof c);
  c.from = "Alice \xC3\x89xample <alice@a.example>";
  c.to = "Bob <bob@b.example>, \"Carol, C.\" <carol@c.example>";
  c.cc = "Team: erin@e.example;";
  c.bcc = "dave@d.example";
  c.subject = "R\xC3\xA9union demain \xE2\x80\x94 ordre du jour";
  c.date_ns = 3600 * S;
  c.epoch_unix = MIME_DATE_EPOCH_DEFAULT;
  c.message_id = "m1.abc@a.example";
  c.text = "Hello Bob,\nsee attached.\n-- \nAlice";
  c.html = "<p>Hello Bob, caf\xC3\xA9</p>";
  c.attachments = atts;
  c.n_attachments = G_N_ELEMENTS(atts);
  return c;
}

static void check_lines(GBytes *b) {
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  gsize ls = 0;
  gboolean in_header = TRUE;
  for (gsize i = 0; i < n; i++) {
    ck_assert_msg(d[i] != '\r' || (i + 1 < n && d[i + 1] == '\n'), "bare CR at %zu", i);
    if (d[i] != '\n')
      continue;
    ck_assert_msg(i > 0 && d[i - 1] == '\r', "bare LF at %zu", i);
    gsize l = i - 1 - ls;
    ck_assert_msg(l <= 998, "line of %zu at %zu", l, ls);
    if (in_header) {
      ck_assert_msg(l <= 78, "header line of %zu: %.*s", l, (int)l, d + ls);
      if (l == 0)
        in_header = FALSE;
    }
    ls = i + 1;
  }
  ck_assert_msg(n >= 2 && d[n - 2] == '\r' && d[n - 1] == '\n', "no final CRLF");
}

START_TEST(round_trip) {
  fill_blob();
  mime_compose_config c = base_config();
  GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
  GError *err = NULL;
  GBytes *b = mime_compose_build(&c, rcpts, &err);
  ck_assert_msg(b != NULL, "%s", err ? err->message : "?");
  check_lines(b);
  ck_assert_uint_eq(rcpts->len, 4);
  ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "bob@b.example");
  ck_assert_str_eq(g_ptr_array_index(rcpts, 2), "erin@e.example");
  ck_assert_str_eq(g_ptr_array_index(rcpts, 3), "dave@d.example");
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  mime_msg *m = mime_msg_parse(d, n, NULL);
  ck_assert_uint_eq(mime_msg_flags(m), 0);
  const mime_part *root = mime_msg_root(m);
  ck_assert_ptr_null(mime_hdr_get(root->hdr, "Bcc"));
  ck_assert_ptr_null(g_strstr_len(d, (gssize)n, "dave@"));
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Message-ID"), "<m1.abc@a.example>");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Date"), "Thu, 01 Jan 2026 01:00:00 +0000");
  static const struct {
    const char *sec, *type;
  } parts[] = {
      {"1", "multipart/alternative"}, {"1.1", "text/plain"}, {"1.2", "text/html"},
      {"2", "application/pdf"},       {"3", "text/plain"},   {"4", "application/octet-stream"}};
  ck_assert_str_eq(root->subtype, "mixed");
  for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
    const mime_part *p = mime_msg_find(m, parts[i].sec);
    ck_assert_msg(p != NULL, "no part %s", parts[i].sec);
    char *t = g_strdup_printf("%s/%s", p->type, p->subtype);
    ck_assert_msg(strcmp(t, parts[i].type) == 0, "%s: got %s want %s", parts[i].sec, t,
                  parts[i].type);
    g_free(t);
  }
  ck_assert_ptr_null(mime_msg_find(m, "5"));
  GBytes *t = mime_part_decode(m, mime_msg_find(m, "1.1"), NULL);
  const char *want_text = "Hello Bob,\r\nsee attached.\r\n-- \r\nAlice\r\n";
  ck_assert_uint_eq(g_bytes_get_size(t), strlen(want_text));
  ck_assert(memcmp(g_bytes_get_data(t, NULL), want_text, strlen(want_text)) == 0);
  g_bytes_unref(t);
  t = mime_part_decode(m, mime_msg_find(m, "1.2"), NULL);
  ck_assert_uint_eq(g_bytes_get_size(t), strlen(c.html) + 2);
  g_bytes_unref(t);
  for (gsize i = 0; i < G_N_ELEMENTS(atts); i++) {
    char sec[8];
    g_snprintf(sec, sizeof sec, "%zu", i + 2);
    const mime_part *p = mime_msg_find(m, sec);
    ck_assert_str_eq(p->filename, atts[i].filename);
    ck_assert_str_eq(p->disposition, "attachment");
    guint fl = 0;
    GBytes *a = mime_part_decode(m, p, &fl);
    ck_assert_uint_eq(fl, 0);
    ck_assert_uint_eq(g_bytes_get_size(a), atts[i].len);
    ck_assert(atts[i].len == 0 ||
              memcmp(g_bytes_get_data(a, NULL), atts[i].data, atts[i].len) == 0);
    g_bytes_unref(a);
  }
  /* What the reader sees. */
  mime_display *v = mime_display_new(m);
  ck_assert_str_eq(mime_display_get(v, "Subject"), c.subject);
  ck_assert_str_eq(mime_display_get(v, "From"), "Alice \xC3\x89xample <alice@a.example>");
  ck_assert_str_eq(mime_display_get(v, "To"), "Bob <bob@b.example>, Carol, C. <carol@c.example>");
  ck_assert_str_eq(mime_display_get(v, "Cc"), "Team: erin@e.example;");
  ck_assert_str_eq(mime_display_get(v, "Date"), "Thu, 01 Jan 2026 01:00:00 +0000");
  ck_assert_uint_eq(v->fields->len, 5);
  ck_assert_uint_eq(v->attachments->len, 3);
  const mime_display_attachment *a0 = g_ptr_array_index(v->attachments, 0);
  ck_assert_str_eq(a0->filename, "report.pdf");
  ck_assert_str_eq(a0->type, "application/pdf");
  ck_assert_uint_eq(a0->size, sizeof blob);
  ck_assert_str_eq(a0->section, "2");
  mime_display_free(v);
  mime_msg_free(m);
  g_bytes_unref(b);
  g_ptr_array_unref(rcpts);
}
END_TEST

START_TEST(deterministic) {
  fill_blob();
  mime_compose_config c = base_config();
  GBytes *a = mime_compose_build(&c, NULL, NULL);
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  ck_assert(g_bytes_equal(a, b));
  c.boundary_seed = "another seed";
  GBytes *x = mime_compose_build(&c, NULL, NULL);
  ck_assert(!g_bytes_equal(a, x));
  ck_assert_uint_eq(g_bytes_get_size(a), g_bytes_get_size(x));
  char *b0 = mime_compose_boundary("s", 0), *b1 = mime_compose_boundary("s", 1);
  ck_assert_str_ne(b0, b1);
  ck_assert_uint_eq(strlen(b0), 37);
  ck_assert(g_str_has_prefix(b0, "=_ms_"));
  g_free(b0);
  g_free(b1);
  g_bytes_unref(a);
  g_bytes_unref(b);
  g_bytes_unref(x);
}
END_TEST

static const struct {
  const char *text;
  const char *want_cte;
  const char *want_charset;
} text_rows[] = {
    {"short ascii\n", "7bit", "us-ascii"},
    {"caf\xC3\xA9\n", "quoted-printable", "utf-8"},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
     "quoted-printable", "us-ascii"},
    {"--=_ms_ looks like a boundary\n", "quoted-printable", "us-ascii"},
    {"bell \x07\n", "quoted-printable", "us-ascii"},
    {"", "7bit", "us-ascii"},
};

START_TEST(text_encoding_choice) {
  mime_compose_config c = plain_config();
  c.text = text_rows[_i].text;
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  ck_assert(b != NULL);
  check_lines(b);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  mime_msg *m = mime_msg_parse(d, n, NULL);
  const mime_part *r = mime_msg_root(m);
  ck_assert_msg(strcmp(mime_cte_name(r->cte), text_rows[_i].want_cte) == 0, "row %d: got %s", _i,
                mime_cte_name(r->cte));
  ck_assert_str_eq(mime_part_param(r, "charset"), text_rows[_i].want_charset);
  GBytes *t = mime_part_decode(m, r, NULL);
  GString *want = g_string_new(NULL);
  for (const char *p = text_rows[_i].text; *p; p++)
    g_string_append(want, *p == '\n' ? "\r\n" : (char[]){*p, 0});
  if (want->len && !g_str_has_suffix(want->str, "\r\n"))
    g_string_append(want, "\r\n");
  ck_assert_msg(
      g_bytes_get_size(t) == want->len &&
          (want->len == 0 || memcmp(g_bytes_get_data(t, NULL), want->str, want->len) == 0),
      "row %d: text differs", _i);
  g_string_free(want, TRUE);
  g_bytes_unref(t);
  mime_msg_free(m);
  g_bytes_unref(b);
}
END_TEST

static const struct {
  const char *from, *to, *mid, *ctype;
  int tz;
  int code;
} errs[] = {
    {NULL, "b@b.example", "x@y", NULL, 0, MIME_COMPOSE_ERROR_FROM},
    {"not an address", "b@b.example", "x@y", NULL, 0, MIME_COMPOSE_ERROR_FROM},
    {"a@a.example", "b@", "x@y", NULL, 0, MIME_COMPOSE_ERROR_ADDRESS},
    {"a@a.example", "<b@b.example", "x@y", NULL, 0, MIME_COMPOSE_ERROR_ADDRESS},
    {"a@a.example", NULL, "x@y", NULL, 0, MIME_COMPOSE_ERROR_NO_RCPT},
    {"a@a.example", "Empty:;", "x@y", NULL, 0, MIME_COMPOSE_ERROR_NO_RCPT},
    {"a@a.example", "b@b.example", "x@y", NULL, 2000, MIME_COMPOSE_ERROR_DATE},
    {"a@a.example", "b@b.example", "<x@y>", NULL, 0, MIME_COMPOSE_ERROR_ARG},
    {"a@a.example", "b@b.example", "noat", NULL, 0, MIME_COMPOSE_ERROR_ARG},
    {"a@a.example", "b@b.example", "x@y", "nonsense", 0, MIME_COMPOSE_ERROR_ARG},
};

START_TEST(error_table) {
  mime_compose_config c;
  memset(&c, 0, sizeof c);
  c.from = errs[_i].from;
  c.to = errs[_i].to;
  c.message_id = errs[_i].mid;
  c.tz_min = errs[_i].tz;
  c.epoch_unix = MIME_DATE_EPOCH_DEFAULT;
  mime_compose_attachment a = {"f", errs[_i].ctype, (const guint8 *)"x", 1};
  if (errs[_i].ctype) {
    c.attachments = &a;
    c.n_attachments = 1;
  }
  /* without a list, and with a list already holding an entry: an error
   * appends nothing (recipients read before it are taken back) */
  for (int with = 0; with < 2; with++) {
    GPtrArray *rcpts = with ? g_ptr_array_new_with_free_func(g_free) : NULL;
    if (rcpts)
      g_ptr_array_add(rcpts, g_strdup("before@x.example"));
    GError *err = NULL;
    GBytes *b = mime_compose_build(&c, rcpts, &err);
    ck_assert_msg(b == NULL, "row %d: built", _i);
    ck_assert_msg(err && err->domain == MIME_COMPOSE_ERROR && err->code == errs[_i].code,
                  "row %d: got %s want %s", _i, err ? mime_compose_error_name(err->code) : "none",
                  mime_compose_error_name(errs[_i].code));
    g_error_free(err);
    if (rcpts) {
      ck_assert_msg(rcpts->len == 1, "row %d: got %u recipients want 1", _i, rcpts->len);
      ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "before@x.example");
      g_ptr_array_unref(rcpts);
    }
  }
}
END_TEST

/* The recipients are appended after what the list held. */
START_TEST(rcpts_appended) {
  mime_compose_config c = plain_config();
  GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(rcpts, g_strdup("before@x.example"));
  GBytes *b = mime_compose_build(&c, rcpts, NULL);
  ck_assert(b != NULL);
  GPtrArray *fresh = g_ptr_array_new_with_free_func(g_free);
  GBytes *b2 = mime_compose_build(&c, fresh, NULL);
  ck_assert(g_bytes_equal(b, b2));
  ck_assert_uint_eq(rcpts->len, fresh->len + 1);
  ck_assert_uint_gt(fresh->len, 0);
  ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "before@x.example");
  for (guint i = 0; i < fresh->len; i++)
    ck_assert_str_eq(g_ptr_array_index(rcpts, i + 1), g_ptr_array_index(fresh, i));
  g_ptr_array_unref(rcpts);
  g_ptr_array_unref(fresh);
  g_bytes_unref(b);
  g_bytes_unref(b2);
}
END_TEST

START_TEST(long_values) {
  GString *w = g_string_new(NULL);
  for (int i = 0; i < 1500; i++)
    g_string_append_c(w, (char)('a' + i % 26));
  mime_compose_config c = plain_config();
  c.subject = w->str;
  const char *extra[] = {"X-Mailer: mailsim", "X-Scenario: journey", NULL};
  c.extra_fields = extra;
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  ck_assert(b != NULL);
  check_lines(b);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  mime_msg *m = mime_msg_parse(d, n, NULL);
  mime_display *v = mime_display_new(m);
  ck_assert_str_eq(mime_display_get(v, "Subject"), w->str);
  ck_assert_str_eq(mime_hdr_get(mime_msg_root(m)->hdr, "X-Scenario"), "journey");
  mime_display_free(v);
  mime_msg_free(m);
  g_bytes_unref(b);
  /* An address too long to fold is refused. */
  GString *to = g_string_new(NULL);
  g_string_append_printf(to, "%s@b.example", w->str);
  c.to = to->str;
  GError *err = NULL;
  ck_assert_ptr_null(mime_compose_build(&c, NULL, &err));
  ck_assert_int_eq(err->code, MIME_COMPOSE_ERROR_ADDRESS);
  g_clear_error(&err);
  c.to = "b@b.example";
  const char *bad_extra[] = {"X-Bad: a\r\nInjected: yes", NULL};
  c.extra_fields = bad_extra;
  ck_assert_ptr_null(mime_compose_build(&c, NULL, &err));
  ck_assert_int_eq(err->code, MIME_COMPOSE_ERROR_ARG);
  g_clear_error(&err);
  c.extra_fields = NULL;
  c.in_reply_to = "<a@b>\r\nBcc: x@y";
  ck_assert_ptr_null(mime_compose_build(&c, NULL, &err));
  ck_assert_int_eq(err->code, MIME_COMPOSE_ERROR_ARG);
  g_clear_error(&err);
  g_string_free(to, TRUE);
  g_string_free(w, TRUE);
}
END_TEST

START_TEST(fold_subject) {
  char *f = mime_compose_fold("a b c", 9);
  ck_assert_str_eq(f, "a b c");
  g_free(f);
  f = mime_compose_fold("The quick brown fox jumps over the lazy dog and keeps running across "
                        "the wide green field",
                        9);
  ck_assert_str_eq(f, "The quick brown fox jumps over the lazy dog and keeps running across\r\n"
                      " the wide green field");
  g_free(f);
}
END_TEST

/* Line ends of the text become CRLF (RFC 5322 §2.3), a last line gets
 * one. */
static const struct {
  const char *text, *want_body;
} line_rows[] = {
    {"a\rb\r\nc\nd", "a\r\nb\r\nc\r\nd\r\n"},
    {"\r\r\n\n", "\r\n\r\n\r\n"},
    {"x", "x\r\n"},
    {"a\r", "a\r\n"},
    {"\n\nend\n", "\r\n\r\nend\r\n"},
    {"", ""},
};

START_TEST(text_line_ends) {
  mime_compose_config c = plain_config();
  c.text = line_rows[_i].text;
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  ck_assert(b != NULL);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  const char *body = g_strstr_len(d, (gssize)n, "\r\n\r\n");
  ck_assert(body != NULL);
  body += 4;
  gsize bl = n - (gsize)(body - d);
  ck_assert_msg(bl == strlen(line_rows[_i].want_body) &&
                    memcmp(body, line_rows[_i].want_body, bl) == 0,
                "row %d: got [%.*s] want [%s]", _i, (int)bl, body, line_rows[_i].want_body);
  g_bytes_unref(b);
}
END_TEST

/* The fold as it was written first (g_strsplit on ' '): the reference
 * for the in-place one. */
static char *fold_reference(const char *value, gsize first_col) {
  GString *o = g_string_new(NULL);
  gsize col = first_col;
  gchar **words = g_strsplit(value, " ", -1);
  for (gchar **w = words; *w; w++) {
    gsize wl = strlen(*w);
    if (w != words) {
      if (col + 1 + wl > 78 && col > 1) {
        g_string_append(o, "\r\n ");
        col = 1;
      } else {
        g_string_append_c(o, ' ');
        col++;
      }
    }
    g_string_append(o, *w);
    col += wl;
  }
  g_strfreev(words);
  return g_string_free(o, FALSE);
}

START_TEST(fold_against_reference) {
  static const char *const fixed[] = {"", " ", "  ", "a", " a", "a ", "a  b", "   lead",
                                      "trail   "};
  guint64 seed = 99;
  for (int it = 0; it < 2000; it++) {
    GString *v = g_string_new(NULL);
    if (it < (int)G_N_ELEMENTS(fixed)) {
      g_string_append(v, fixed[it]);
    } else {
      guint n = (guint)(mime_random_next(&seed) % 200);
      for (guint i = 0; i < n; i++) {
        guint64 r = mime_random_next(&seed);
        g_string_append_c(v, r % 5 == 0 ? ' ' : (char)('a' + r % 26));
      }
    }
    for (gsize col = 0; col < 90; col += 9) {
      char *got = mime_compose_fold(v->str, col), *want = fold_reference(v->str, col);
      ck_assert_msg(strcmp(got, want) == 0, "[%s] at %zu: got [%s] want [%s]", v->str, col, got,
                    want);
      g_free(got);
      g_free(want);
    }
    g_string_free(v, TRUE);
  }
}
END_TEST

/* The fast paths of the builder against the general ones.
 * The subject: printable ASCII without "=?" and runs of at most 76
 * octets is folded straight into the header; anything else goes through
 * the sanitiser and mime_ew_encode. Reference: that whole pipeline
 * (every octet here is 1..0x7f, which the sanitiser keeps). */
static char *subject_ref(const char *subj) {
  char *valid = g_strdup(subj);
  g_strdelimit(valid, "\r\n\t", ' ');
  char *enc = mime_ew_encode(valid, MIME_EW_TEXT);
  char *folded = strcmp(enc, valid) == 0 ? mime_compose_fold(enc, 9) : g_strdup(enc);
  char *field = g_strdup_printf("Subject: %s\r\n", folded);
  g_free(folded);
  g_free(enc);
  g_free(valid);
  return field;
}

/* The text/plain entity (fields, empty line, body) of the message B: the
 * octets after the MIME-Version field, or with a multipart the first
 * part's, between its delimiter line and the next. */
static char *text_part(GBytes *b, gboolean multi) {
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  const char *mv = g_strstr_len(d, (gssize)n, "MIME-Version: 1.0\r\n");
  ck_assert(mv != NULL);
  const char *p = mv + 19;
  if (!multi)
    return g_strndup(p, n - (gsize)(p - d));
  const char *dl = g_strstr_len(p, (gssize)(n - (gsize)(p - d)), "\r\n--=_ms_");
  ck_assert(dl != NULL);
  const char *start = strstr(dl + 2, "\r\n") + 2;
  const char *end = strstr(start, "\r\n--=_ms_");
  ck_assert(end != NULL);
  return g_strndup(start, (gsize)(end - start));
}

START_TEST(fast_paths_match_general) {
  static const char *const subj_tmpl[] = {"Hello world", "a  b", "", "x"};
  static const char *const text_tmpl[] = {"Hello\nworld", "a\r\nb\rc", "", "x=_ms_y"};
  GString *s = g_string_new(NULL);
  for (gsize t = 0; t < G_N_ELEMENTS(subj_tmpl); t++) {
    gsize tl = strlen(subj_tmpl[t]);
    for (gsize at = 0; at <= tl; at++) {
      for (unsigned o = 1; o < 0x80; o++) {
        g_string_assign(s, subj_tmpl[t]);
        g_string_insert_c(s, (gssize)at, (char)o);
        mime_compose_config c = plain_config();
        c.subject = s->str;
        GBytes *b = mime_compose_build(&c, NULL, NULL);
        ck_assert(b != NULL);
        char *want = subject_ref(s->str);
        gsize n;
        const char *d = g_bytes_get_data(b, &n);
        ck_assert_msg(g_strstr_len(d, (gssize)n, want) != NULL,
                      "subject tmpl %zu at %zu octet %u: want [%s] in [%.*s]", t, at, o, want,
                      (int)n, d);
        g_free(want);
        g_bytes_unref(b);
      }
    }
  }
  /* Runs of 76 and 77 octets, "=?" (fast path on one side of each). */
  static const gsize runs[] = {75, 76, 77, 78};
  for (gsize k = 0; k < G_N_ELEMENTS(runs); k++) {
    for (int eq = 0; eq < 2; eq++) {
      g_string_assign(s, "lead ");
      for (gsize i = 0; i < runs[k]; i++)
        g_string_append_c(s, 'r');
      g_string_append(s, eq ? " =?x?= tail" : " tail");
      mime_compose_config c = plain_config();
      c.subject = s->str;
      GBytes *b = mime_compose_build(&c, NULL, NULL);
      char *want = subject_ref(s->str);
      gsize n;
      const char *d = g_bytes_get_data(b, &n);
      ck_assert_msg(g_strstr_len(d, (gssize)n, want) != NULL, "run %zu eq %d", runs[k], eq);
      g_free(want);
      g_bytes_unref(b);
    }
  }
  /* The text: a one-part message (fields and body written straight into
   * it) gives the entity the general path gives the same text as the
   * first part of a multipart, for every octet at every place, and lines
   * of 76 and 77 octets. */
  for (gsize t = 0; t < G_N_ELEMENTS(text_tmpl) + 2; t++) {
    GString *tmpl = g_string_new(t < G_N_ELEMENTS(text_tmpl) ? text_tmpl[t] : "");
    if (t >= G_N_ELEMENTS(text_tmpl)) {
      for (gsize i = 0; i < 75 + (t - G_N_ELEMENTS(text_tmpl)); i++)
        g_string_append_c(tmpl, 'L');
      g_string_append(tmpl, "\r\nend");
    }
    for (gsize at = 0; at <= tmpl->len; at++) {
      for (unsigned o = 1; o < 0x100; o++) {
        g_string_assign(s, tmpl->str);
        g_string_insert_c(s, (gssize)at, (char)o);
        mime_compose_config c = plain_config();
        c.text = s->str;
        GBytes *one = mime_compose_build(&c, NULL, NULL);
        c.attachments = atts + 2;
        c.n_attachments = 1;
        GBytes *multi = mime_compose_build(&c, NULL, NULL);
        ck_assert(one && multi);
        char *got = text_part(one, FALSE), *want = text_part(multi, TRUE);
        /* the earlier rule, on the normalised text (CR/LF/CRLF -> CRLF,
         * a final CRLF): 7bit when ASCII, no control, lines <= 76 (CR
         * not counted), no "=_ms_" */
        GString *nt = g_string_new(NULL);
        for (const char *q = s->str; *q; q++) {
          if (*q == '\r' && q[1] == '\n')
            q++;
          g_string_append(nt, (*q == '\r' || *q == '\n') ? "\r\n" : (char[]){*q, 0});
        }
        if (nt->len && !g_str_has_suffix(nt->str, "\r\n"))
          g_string_append(nt, "\r\n");
        gboolean seven = strstr(nt->str, "=_ms_") == NULL;
        gsize line = 0;
        for (gsize i = 0; i < nt->len; i++) {
          unsigned char ch = (unsigned char)nt->str[i];
          if (ch >= 0x7f || (ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n'))
            seven = FALSE;
          line = ch == '\n' ? 0 : line + (ch != '\r');
          if (line > 76)
            seven = FALSE;
        }
        g_string_free(nt, TRUE);
        ck_assert_msg(strstr(got, seven ? "Encoding: 7bit" : "Encoding: quoted-printable") != NULL,
                      "text tmpl %zu at %zu octet %u: want %s", t, at, o, seven ? "7bit" : "qp");
        ck_assert_msg(strcmp(got, want) == 0,
                      "text tmpl %zu at %zu octet %u: got [%s] want [%s]", t, at, o, got, want);
        g_free(got);
        g_free(want);
        g_bytes_unref(one);
        g_bytes_unref(multi);
      }
    }
    g_string_free(tmpl, TRUE);
  }
  g_string_free(s, TRUE);
}
END_TEST

/* ---- Received ---- */

START_TEST(received_format) {
  mime_received r = {"a.example",
                     "mail.a.example",
                     "192.0.2.1",
                     "mx.b.example",
                     "ESMTPS",
                     "Q123",
                     "bob@b.example",
                     "TLS1.3 TLS_AES_128_GCM_SHA256",
                     5 * S,
                     MIME_DATE_EPOCH_DEFAULT,
                     60};
  char *f = mime_trace_received(&r);
  ck_assert_str_eq(f, "Received: from a.example (mail.a.example [192.0.2.1])\r\n"
                      "\tby mx.b.example with ESMTPS (TLS1.3 TLS_AES_128_GCM_SHA256)\r\n"
                      "\tid Q123\r\n"
                      "\tfor <bob@b.example>;\r\n"
                      "\tThu, 01 Jan 2026 01:00:05 +0100\r\n");
  g_free(f);
  mime_received r2 = {"[192.0.2.9]", NULL, "192.0.2.9", "relay.example",         NULL, NULL,
                      NULL,          NULL, 0,           MIME_DATE_EPOCH_DEFAULT, 0};
  f = mime_trace_received(&r2);
  ck_assert_str_eq(f, "Received: from [192.0.2.9] ([192.0.2.9])\r\n\tby relay.example;\r\n"
                      "\tThu, 01 Jan 2026 00:00:00 +0000\r\n");
  g_free(f);
  /* Into the caller's buffer: the same field, in place exactly when the
   * buffer holds the field's bound (its arguments, the date, 80). */
  char *whole = mime_trace_received(&r);
  size_t bound = strlen(r.helo) + strlen(r.rdns) + strlen(r.ip) + strlen(r.by) + strlen(r.with) +
                 strlen(r.id) + strlen(r.for_addr) + strlen(r.comment) + 31 + 80;
  for (size_t n = 0; n <= bound + 4; n++) {
    char buf[512];
    char *got = mime_trace_received_buf(&r, n ? buf : NULL, n);
    ck_assert_str_eq(got, whole);
    ck_assert_msg((got == buf) == (n >= bound), "buffer %zu: in place %d", n, got == buf);
    if (got != buf)
      g_free(got);
  }
  g_free(whole);
  mime_received bad = r;
  bad.helo = "evil\r\nX-Injected: 1";
  ck_assert_ptr_null(mime_trace_received(&bad));
  char refused[512];
  ck_assert_ptr_null(mime_trace_received_buf(&bad, refused, sizeof refused));
  bad = r;
  bad.by = NULL;
  ck_assert_ptr_null(mime_trace_received(&bad));
  bad = r;
  bad.id = "two words";
  ck_assert_ptr_null(mime_trace_received(&bad));
  /* Each argument checked: CR, LF, parentheses anywhere; blanks except
   * in the comment. */
  const char *bad_words[] = {"a(b", "a)", "a\rb", "a\nb", "a\tb", "a b"};
  for (gsize w = 0; w < G_N_ELEMENTS(bad_words); w++) {
    for (int k = 0; k < 8; k++) {
      bad = r;
      const char **slot[] = {&bad.helo, &bad.rdns, &bad.ip,       &bad.by,
                             &bad.with, &bad.id,   &bad.for_addr, &bad.comment};
      *slot[k] = bad_words[w];
      char *got = mime_trace_received(&bad);
      gboolean blank = bad_words[w][1] == '\t' || bad_words[w][1] == ' ';
      if (k == 7 && blank) {
        ck_assert_msg(got && strstr(got, bad_words[w]), "comment [%s]: got [%s]", bad_words[w],
                      got);
      } else {
        ck_assert_msg(got == NULL, "slot %d [%s]: got [%s] want NULL", k, bad_words[w], got);
      }
      g_free(got);
    }
  }
}
END_TEST

static const struct {
  const char *value;
  const char *from, *from_info, *by, *with, *id, *for_addr;
  int64_t unix_s;
} rcv[] = {
    {"from a.example (mail.a.example [192.0.2.1]) by mx.b.example with ESMTPS (TLS1.3) id Q123 "
     "for <bob@b.example>; Thu, 01 Jan 2026 00:00:05 +0000",
     "a.example", "mail.a.example [192.0.2.1]", "mx.b.example", "ESMTPS", "Q123", "bob@b.example",
     1767225605},
    /* Postfix */
    {"from mail.example.com (mail.example.com [192.0.2.5])\tby mx.example.net (Postfix) with "
     "ESMTPS id 4ABCdE12 for <x@example.net>; Tue, 6 Jan 2026 10:00:00 +0100 (CET)",
     "mail.example.com", "mail.example.com [192.0.2.5]", "mx.example.net", "ESMTPS", "4ABCdE12",
     "x@example.net", 1767690000},
    /* Exim: keyword order differs, extra comments */
    {"from [192.0.2.1] (helo=laptop) by smtp.example.org with esmtpsa (TLS1.3) tls "
     "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@example.org>) id 1vXyZ-000abc-1Q; "
     "Thu, 01 Jan 2026 00:00:00 -0000",
     "[192.0.2.1]", "helo=laptop", "smtp.example.org", "esmtpsa", "1vXyZ-000abc-1Q", NULL,
     1767225600},
    /* quoted strings kept with their quotes; comments joined by a space */
    {"from \"odd name\"(c1 (nested) \\) x)(c2) by h.example id \"q\\\"x\"; 1 Jan 2026 00:00:00 "
     "+0000",
     "\"odd name\"", "c1 (nested) ) x c2", "h.example", NULL, "\"q\"x\"", NULL, 1767225600},
    /* by only, local delivery */
    {"by mailbox.example (mailsim) id 7; Thu, 01 Jan 2026 00:00:00 +0000", NULL, NULL,
     "mailbox.example", NULL, "7", NULL, 1767225600},
    /* ';' inside a comment or a quoted string does not start the date */
    {"by h.example (a;b \\; c) id \"x;\\\";y\" for <u@h>; 1 Jan 2026 00:00:00 +0000", NULL, NULL,
     "h.example", NULL, "\"x;\";y\"", "u@h", 1767225600},
};

START_TEST(received_parse_table) {
  mime_received_info ri;
  ck_assert(mime_trace_received_parse(rcv[_i].value, &ri));
  ck_assert_msg(g_strcmp0(ri.from, rcv[_i].from) == 0, "row %d from: got %s", _i, ri.from);
  ck_assert_msg(g_strcmp0(ri.from_info, rcv[_i].from_info) == 0, "row %d from_info: got %s", _i,
                ri.from_info);
  ck_assert_msg(g_strcmp0(ri.by, rcv[_i].by) == 0, "row %d by: got %s", _i, ri.by);
  ck_assert_msg(g_strcmp0(ri.with, rcv[_i].with) == 0, "row %d with: got %s", _i, ri.with);
  ck_assert_msg(g_strcmp0(ri.id, rcv[_i].id) == 0, "row %d id: got %s", _i, ri.id);
  ck_assert_msg(g_strcmp0(ri.for_addr, rcv[_i].for_addr) == 0, "row %d for: got %s", _i,
                ri.for_addr);
  ck_assert_msg(ri.date_ok, "row %d: date [%s] not parsed", _i, ri.date);
  ck_assert_int_eq(ri.date_unix, rcv[_i].unix_s);
  mime_received_info_clear(&ri);
}
END_TEST

START_TEST(received_path_display) {
  fill_blob();
  mime_compose_config c = base_config();
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  mime_received hop1 = {"laptop.a.example",
                        NULL,
                        "10.0.0.2",
                        "submit.a.example",
                        "ESMTPSA",
                        "S1",
                        NULL,
                        NULL,
                        2 * S,
                        MIME_DATE_EPOCH_DEFAULT,
                        0};
  mime_received hop2 = {"relay.a.example",
                        "relay.a.example",
                        "192.0.2.1",
                        "mx.b.example",
                        "ESMTPS",
                        "M2",
                        "bob@b.example",
                        NULL,
                        9 * S,
                        MIME_DATE_EPOCH_DEFAULT,
                        0};
  char *f1 = mime_trace_received(&hop1), *f2 = mime_trace_received(&hop2);
  GBytes *b1 = mime_trace_prepend(b, f1);
  GBytes *b2 = mime_trace_prepend(b1, f2);
  gsize n;
  const char *d = g_bytes_get_data(b2, &n);
  ck_assert(g_str_has_prefix(d, f2));
  check_lines(b2);
  mime_msg *m = mime_msg_parse(d, n, NULL);
  mime_display *v = mime_display_new(m);
  ck_assert_uint_eq(v->received->len, 2);
  const mime_received_info *top = g_ptr_array_index(v->received, 0);
  const mime_received_info *bottom = g_ptr_array_index(v->received, 1);
  ck_assert_str_eq(top->by, "mx.b.example");
  ck_assert_str_eq(top->from, "relay.a.example");
  ck_assert_str_eq(top->for_addr, "bob@b.example");
  ck_assert_int_eq(top->date_unix, MIME_DATE_EPOCH_DEFAULT + 9);
  ck_assert_str_eq(bottom->by, "submit.a.example");
  ck_assert_str_eq(bottom->with, "ESMTPSA");
  ck_assert_str_eq(bottom->from_info, "[10.0.0.2]");
  /* The trace fields change no part's numbering. */
  ck_assert_uint_eq(v->attachments->len, 3);
  mime_display_free(v);
  mime_msg_free(m);
  g_free(f1);
  g_free(f2);
  g_bytes_unref(b);
  g_bytes_unref(b1);
  g_bytes_unref(b2);
}
END_TEST

/* The composed message parses the same for every split of its bytes. */
static gboolean desc(const mime_part *p, void *ud) {
  g_string_append_printf(ud, "[%s %s/%s %zu+%zu %zu+%zu]", p->section, p->type, p->subtype,
                         p->hdr_off, p->hdr_len, p->body_off, p->body_len);
  return TRUE;
}

START_TEST(composed_every_split) {
  fill_blob();
  mime_compose_config c = base_config();
  mime_compose_attachment small[] = {{"a.txt", "text/plain", (const guint8 *)"abc", 3}};
  c.attachments = small;
  c.n_attachments = 1;
  GBytes *b = mime_compose_build(&c, NULL, NULL);
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  mime_msg *whole = mime_msg_parse(d, n, NULL);
  GString *want = g_string_new(NULL);
  mime_msg_walk(whole, desc, want);
  for (gsize cut = 0; cut <= n; cut += 1) {
    mime_msg_parser *p = mime_msg_parser_new(NULL);
    mime_msg_parser_feed(p, d, cut);
    mime_msg_parser_feed(p, d + cut, n - cut);
    mime_msg *m = mime_msg_parser_finish(p);
    GString *got = g_string_new(NULL);
    mime_msg_walk(m, desc, got);
    ck_assert_msg(strcmp(got->str, want->str) == 0, "split %zu differs", cut);
    g_string_free(got, TRUE);
    mime_msg_free(m);
  }
  char *bs = mime_imap_bodystructure(whole, TRUE);
  ck_assert(
      g_str_has_prefix(bs, "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\""));
  g_free(bs);
  g_string_free(want, TRUE);
  mime_msg_free(whole);
  g_bytes_unref(b);
}
END_TEST

/* Property test: random subjects, display names and file names (ASCII
 * specials, quotes, "=?", long runs, multi-byte UTF-8) survive compose →
 * parse → display exactly, and every line limit holds. */
START_TEST(random_round_trip) {
  guint64 seed = 424242;
  for (int it = 0; it < 400; it++) {
    char *subject = mime_random_text(&seed, TRUE), *name = mime_random_text(&seed, FALSE),
         *fname = mime_random_text(&seed, TRUE);
    GString *from = g_string_new("\"");
    for (const char *p = name; *p; p++) {
      if (*p == '"' || *p == '\\')
        g_string_append_c(from, '\\');
      g_string_append_c(from, *p);
    }
    g_string_append(from, "\" <alice@a.example>");
    mime_compose_attachment a = {fname, "application/octet-stream", (const guint8 *)subject,
                                 strlen(subject)};
    mime_compose_config c;
    memset(&c, 0, sizeof c);
    c.from = from->str;
    c.to = "b@b.example";
    c.subject = subject;
    c.epoch_unix = MIME_DATE_EPOCH_DEFAULT;
    c.message_id = "r@a.example";
    c.text = name;
    c.attachments = &a;
    c.n_attachments = 1;
    GError *err = NULL;
    GBytes *b = mime_compose_build(&c, NULL, &err);
    ck_assert_msg(b != NULL, "it %d: %s", it, err ? err->message : "?");
    check_lines(b);
    gsize n;
    const char *d = g_bytes_get_data(b, &n);
    mime_msg *m = mime_msg_parse(d, n, NULL);
    ck_assert_msg(mime_msg_flags(m) == 0, "it %d: flags %x", it, mime_msg_flags(m));
    char *bs = mime_imap_bodystructure(m, TRUE), *env = mime_imap_envelope(mime_msg_root(m));
    ck_assert_msg(ig_check_body(bs, TRUE), "it %d: bad BODYSTRUCTURE %s", it, bs);
    ck_assert_msg(ig_check_envelope(env), "it %d: bad ENVELOPE %s", it, env);
    g_free(bs);
    g_free(env);
    mime_display *v = mime_display_new(m);
    ck_assert_msg(strcmp(mime_display_get(v, "Subject"), subject) == 0, "it %d: got [%s] want [%s]",
                  it, mime_display_get(v, "Subject"), subject);
    char *want_from = g_strdup_printf("%s <alice@a.example>", name);
    ck_assert_msg(strcmp(mime_display_get(v, "From"), want_from) == 0, "it %d: got [%s] want [%s]",
                  it, mime_display_get(v, "From"), want_from);
    ck_assert_uint_eq(v->attachments->len, 1);
    const mime_display_attachment *at = g_ptr_array_index(v->attachments, 0);
    ck_assert_msg(g_strcmp0(at->filename, fname) == 0, "it %d: got [%s] want [%s]", it,
                  at->filename, fname);
    ck_assert_uint_eq(at->size, strlen(subject));
    mime_display_free(v);
    mime_msg_free(m);
    g_bytes_unref(b);
    g_free(want_from);
    g_string_free(from, TRUE);
    g_free(subject);
    g_free(name);
    g_free(fname);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_compose");
  TCase *tc = tcase_create("compose");
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, deterministic);
  tcase_add_loop_test(tc, text_encoding_choice, 0, G_N_ELEMENTS(text_rows));
  tcase_add_loop_test(tc, error_table, 0, G_N_ELEMENTS(errs));
  tcase_add_test(tc, fold_subject);
  tcase_add_test(tc, fold_against_reference);
  tcase_add_loop_test(tc, text_line_ends, 0, G_N_ELEMENTS(line_rows));
  tcase_add_test(tc, long_values);
  tcase_add_test(tc, rcpts_appended);
  tcase_add_test(tc, random_round_trip);
  tcase_add_test(tc, composed_every_split);
  tcase_add_test(tc, fast_paths_match_general);
  suite_add_tcase(s, tc);
  tc = tcase_create("trace");
  tcase_add_test(tc, received_format);
  tcase_add_loop_test(tc, received_parse_table, 0, G_N_ELEMENTS(rcv));
  tcase_add_test(tc, received_path_display);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
