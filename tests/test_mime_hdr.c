/* Tests for mime_hdr (header blocks, parameters, RFC 2231) and mime_ew
 * (RFC 2047 encoded words). */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_addr.h"
#include "mime_date.h"
#include "mime_display.h"
#include "mime_ew.h"
#include "mime_hdr.h"
#include "mime_trace.h"
#include "testutil.h"

/* ---- header blocks ---- */

START_TEST(block_fields) {
  const char *m = "From: a@b.example\r\n"
                  "Subject: hello\r\n  world\r\n"
                  "X-Dup: 1\r\n"
                  "x-dup :2\r\n"
                  "\r\n"
                  "body\r\n";
  gsize hl = 0;
  guint fl = 0;
  mime_hdr *h = mime_hdr_parse(m, strlen(m), 100, 0, &hl, &fl);
  ck_assert_uint_eq(mime_hdr_count(h), 4);
  ck_assert_uint_eq(hl, (gsize)(strstr(m, "body") - m));
  ck_assert_uint_eq(fl, 0);
  const mime_hdr_field *f = mime_hdr_nth(h, 1);
  ck_assert_str_eq(f->name, "Subject");
  ck_assert_str_eq(f->raw_value, " hello\r\n  world");
  ck_assert_str_eq(f->value, "hello  world");
  ck_assert_uint_eq(f->offset, 100 + 19);
  ck_assert_uint_eq(f->length, strlen("Subject: hello\r\n  world\r\n"));
  ck_assert_str_eq(mime_hdr_find(h, "X-DUP", 1)->value, "2");
  ck_assert_str_eq(mime_hdr_find(h, "x-dup", 1)->name, "x-dup");
  ck_assert_ptr_null(mime_hdr_find(h, "x-dup", 2));
  ck_assert_str_eq(mime_hdr_get(h, "from"), "a@b.example");
  mime_hdr_free(h);
}
END_TEST

static const struct {
  const char *in;
  guint want_flags;
  guint want_fields;
  gsize want_hdr_len; /* (gsize)-1: whole input */
} blocks[] = {
    {"A: 1\nB: 2\n\nbody", MIME_FLAG_BARE_LF, 2, 11},
    {"A: 1\r\nB: 2", 0, 2, (gsize)-1},
    {"A: 1\r\nnot a header line\r\nB: 2\r\n\r\n", MIME_FLAG_NO_BODY_SEP | MIME_FLAG_BAD_HEADER, 1,
     6},
    {" lead: x\r\nA: 1\r\n\r\n", MIME_FLAG_BAD_HEADER, 1, 18},
    {"A: \x01\xff\r\n\r\n", MIME_FLAG_8BIT_HEADER, 1, 9},
    {"\r\nbody", 0, 0, 2},
    {"", 0, 0, 0},
    {":x\r\n\r\n", MIME_FLAG_NO_BODY_SEP | MIME_FLAG_BAD_HEADER, 0, 0},
};

START_TEST(block_table) {
  gsize hl = 0;
  guint fl = 0;
  const char *in = blocks[_i].in;
  mime_hdr *h = mime_hdr_parse(in, strlen(in), 0, 0, &hl, &fl);
  gsize want = blocks[_i].want_hdr_len == (gsize)-1 ? strlen(in) : blocks[_i].want_hdr_len;
  ck_assert_msg(fl == blocks[_i].want_flags, "row %d flags: got %x want %x", _i, fl,
                blocks[_i].want_flags);
  ck_assert_msg(mime_hdr_count(h) == blocks[_i].want_fields, "row %d fields: got %u want %u", _i,
                mime_hdr_count(h), blocks[_i].want_fields);
  ck_assert_msg(hl == want, "row %d hdr_len: got %zu want %zu", _i, hl, want);
  mime_hdr_free(h);
}
END_TEST

/* The in-place scanner gives the fields mime_hdr_parse lists, with the
 * same block length and flags, for every prefix of every input (a message
 * cut anywhere), and scan_get / scan_count agree with find / get. */
static const char *const scan_inputs[] = {
    "From: a@b.example\r\nSubject: hello\r\n  world\r\nX-Dup: 1\r\nx-dup :2\r\n\r\nbody\r\n",
    "A: 1\nB: 2\n\nbody",
    "A: 1\r\nnot a header line\r\nB: 2\r\n\r\n",
    " lead: x\r\nA: 1\r\n\r\n",
    "A: \x01\xff\r\n\r\n",
    "Received: from a\r\n\tby b;\r\n\tdate\r\nMessage-ID:\r\n <x@y>\r\nreceived: c\r\n\r\n",
    ":x\r\n\r\n",
};

static void check_scan(const char *in, gsize len, const char *what) {
  gsize hl = 0;
  guint fl = 0;
  mime_hdr *h = mime_hdr_parse(in, len, 0, 0, &hl, &fl);
  mime_hdr_scan sc;
  mime_hdr_view v;
  mime_hdr_scan_init(&sc, in, len, TRUE);
  guint i = 0;
  while (mime_hdr_scan_next(&sc, &v)) {
    ck_assert_msg(i < mime_hdr_count(h), "%s: got more than %u fields", what, mime_hdr_count(h));
    const mime_hdr_field *f = mime_hdr_nth(h, i);
    char *name = g_strndup(v.name, v.name_len), *raw = g_strndup(v.raw_value, v.raw_len);
    ck_assert_msg(strcmp(name, f->name) == 0 && strcmp(raw, f->raw_value) == 0 &&
                      v.offset == f->offset && v.length == f->length,
                  "%s field %u: got %s:%s @%zu+%zu want %s:%s @%zu+%zu", what, i, name, raw,
                  v.offset, v.length, f->name, f->raw_value, f->offset, f->length);
    g_free(name);
    g_free(raw);
    i++;
  }
  ck_assert_msg(i == mime_hdr_count(h), "%s: got %u fields want %u", what, i, mime_hdr_count(h));
  ck_assert_msg(mime_hdr_scan_end(&sc) == hl && sc.flags == fl,
                "%s: got len %zu flags %x want %zu %x", what, mime_hdr_scan_end(&sc), sc.flags, hl,
                fl);
  static const char *const names[] = {"x-dup", "Message-ID", "RECEIVED", "b", "none"};
  for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
    char *got = mime_hdr_scan_get(in, len, 0, names[k]);
    const char *want = mime_hdr_get(h, names[k]);
    ck_assert_msg(g_strcmp0(got, want) == 0, "%s get %s: got %s want %s", what, names[k], got,
                  want);
    g_free(got);
    guint n = 0;
    while (mime_hdr_find(h, names[k], n))
      n++;
    guint c = mime_hdr_scan_count(in, len, 0, names[k]);
    ck_assert_msg(c == n, "%s count %s: got %u want %u", what, names[k], c, n);
  }
  mime_hdr_free(h);
}

START_TEST(scan_matches_parse) {
  const char *in = scan_inputs[_i];
  gsize len = strlen(in);
  for (gsize cut = 0; cut <= len; cut++) {
    char *what = g_strdup_printf("row %d cut %zu", _i, cut);
    check_scan(in, cut, what);
    g_free(what);
  }
}
END_TEST

START_TEST(scan_field_limit) {
  const char *in = "A: 1\r\nM: first\r\nM: second\r\n\r\n";
  gsize len = strlen(in);
  char *v = mime_hdr_scan_get(in, len, 1, "M");
  ck_assert_ptr_null(v);
  v = mime_hdr_scan_get(in, len, 2, "m");
  ck_assert_str_eq(v, "first");
  g_free(v);
  ck_assert_uint_eq(mime_hdr_scan_count(in, len, 2, "M"), 1);
  ck_assert_uint_eq(mime_hdr_scan_count(in, len, 0, "M"), 2);
}
END_TEST

/* The field-name rule of earlier versions: the name runs to the first
 * colon of the line, WSP before the colon dropped; a field when that name
 * is not empty and all ftext (RFC 5322 §3.6.8, octets 33-126). Returns
 * the name's length, or -1 when the line is not a field. */
static long name_ref(const char *line, gsize n) {
  const char *colon = memchr(line, ':', n);
  if (!colon)
    return -1;
  gsize ne = (gsize)(colon - line);
  while (ne > 0 && (line[ne - 1] == ' ' || line[ne - 1] == '\t'))
    ne--;
  if (ne == 0)
    return -1;
  for (gsize i = 0; i < ne; i++)
    if ((unsigned char)line[i] < 33 || (unsigned char)line[i] > 126)
      return -1;
  return (long)ne;
}

/* Every octet at every place of a field name (and of WSP and a second
 * colon around it): the scanner's one-pass name reading gives the fields
 * and flags of the earlier rule. */
START_TEST(scan_name_every_octet) {
  static const char *const tmpl[] = {"Abc: v", "Ab :v", "A\t\t: v", "Ab c: v", "AbC:x:y", "Ab",
                                     "Content-Transfer-Encoding: 7bit", "X-Seventeen-Octs :v",
                                     "Sixteen-Octets-:", "Name-Of-Fifteen"};
  for (gsize t = 0; t < G_N_ELEMENTS(tmpl); t++) {
    gsize tl = strlen(tmpl[t]);
    for (gsize at = 0; at <= tl; at++) {
      for (unsigned o = 0; o < 256; o++) {
        if (o == '\r' || o == '\n' || (at == 0 && (o == ' ' || o == '\t')))
          continue; /* line ends and continuation lines: not the name's rule */
        /* the line with octet O inserted at AT, then a second field */
        char line[48];
        memcpy(line, tmpl[t], at);
        line[at] = (char)o;
        memcpy(line + at + 1, tmpl[t] + at, tl - at);
        gsize ll = tl + 1;
        GString *in = g_string_new_len(line, (gssize)ll);
        g_string_append(in, "\r\nZ: 1\r\n\r\n");
        long want = name_ref(line, ll);
        mime_hdr_scan sc;
        mime_hdr_view v;
        mime_hdr_scan_init(&sc, in->str, in->len, FALSE);
        gboolean got = mime_hdr_scan_next(&sc, &v);
        if (want < 0) {
          /* not a field: the header ends before it */
          ck_assert_msg(!got && (sc.flags & MIME_FLAG_BAD_HEADER) && mime_hdr_scan_end(&sc) == 0,
                        "tmpl %zu at %zu octet %u: got a field, want none", t, at, o);
        } else {
          const char *colon = memchr(line, ':', ll);
          ck_assert_msg(got && v.name == in->str && v.name_len == (gsize)want &&
                            v.raw_value == in->str + (colon - line) + 1,
                        "tmpl %zu at %zu octet %u: got %d len %zu want len %ld", t, at, o, got,
                        got ? v.name_len : 0, want);
          ck_assert(mime_hdr_scan_next(&sc, &v) && v.name_len == 1 && v.name[0] == 'Z');
        }
        g_string_free(in, TRUE);
      }
    }
  }
}
END_TEST

/* The unfolding of earlier versions: drop every CR and LF, then trim WSP. */
static char *unfold_ref(const char *raw, gsize len) {
  GString *s = g_string_new(NULL);
  for (gsize i = 0; i < len; i++)
    if (raw[i] != '\r' && raw[i] != '\n')
      g_string_append_c(s, raw[i]);
  gsize a = 0, b = s->len;
  while (a < b && (s->str[a] == ' ' || s->str[a] == '\t'))
    a++;
  while (b > a && (s->str[b - 1] == ' ' || s->str[b - 1] == '\t'))
    b--;
  char *r = g_strndup(s->str + a, b - a);
  g_string_free(s, TRUE);
  return r;
}

/* mime_hdr_name_is against the rule written with g_ascii_tolower: every
 * pair of octets, alone and at each place of a 9-octet name; different
 * lengths never match. */
START_TEST(name_is_every_pair) {
  for (unsigned x = 0; x < 256; x++) {
    for (unsigned y = 0; y < 256; y++) {
      gboolean want = g_ascii_tolower((gchar)x) == g_ascii_tolower((gchar)y);
      char a[9], b[9];
      for (gsize at = 0; at < 9; at += 4) {
        memcpy(a, "Received:", 9);
        memcpy(b, "rECEIVED:", 9);
        a[at] = (char)x;
        b[at] = (char)y;
        ck_assert_msg(mime_hdr_name_is(a, 9, b, 9) == want, "0x%02x 0x%02x at %zu: got %d want %d",
                      x, y, at, !want, want);
      }
      a[0] = (char)x;
      b[0] = (char)y;
      ck_assert(mime_hdr_name_is(a, 1, b, 1) == want);
      ck_assert(!mime_hdr_name_is(a, 1, b, 2));
    }
  }
}
END_TEST

START_TEST(unfold_every_mix) {
  /* Every string of up to 6 octets over the alphabet below. */
  static const char abc[] = {' ', '\t', '\r', '\n', 'a'};
  char buf[6];
  for (int n = 0; n <= 6; n++) {
    int total = 1;
    for (int k = 0; k < n; k++)
      total *= (int)sizeof abc;
    for (int code = 0; code < total; code++) {
      int c = code;
      for (int k = 0; k < n; k++, c /= (int)sizeof abc)
        buf[k] = abc[c % (int)sizeof abc];
      char *got = mime_hdr_unfold(buf, (gsize)n), *want = unfold_ref(buf, (gsize)n);
      ck_assert_msg(strcmp(got, want) == 0, "len %d code %d: got [%s] want [%s]", n, code, got,
                    want);
      g_free(got);
      g_free(want);
    }
  }
}
END_TEST

/* Longer values (the unfolding reads eight octets a step): every octet
 * at every place of a 24-octet value, and a CR, LF or CRLF pair at every
 * two places of a 20-octet one. */
START_TEST(unfold_words) {
  char buf[32];
  static const char base[] = "abcdefghijklmnopqrstuvwxyz";
  for (gsize at = 0; at < 24; at++) {
    for (unsigned o = 0; o < 256; o++) {
      memcpy(buf, base, 24);
      buf[at] = (char)o;
      char *got = mime_hdr_unfold(buf, 24), *want = unfold_ref(buf, 24);
      ck_assert_msg(strcmp(got, want) == 0, "octet %u at %zu: got [%s] want [%s]", o, at, got,
                    want);
      g_free(got);
      g_free(want);
    }
  }
  static const char ends[] = {'\r', '\n', ' '};
  for (gsize i = 0; i < 20; i++)
    for (gsize j = i; j < 20; j++)
      for (gsize e = 0; e < 9; e++) {
        memcpy(buf, base, 20);
        buf[i] = ends[e % 3];
        buf[j] = ends[e / 3];
        char *got = mime_hdr_unfold(buf, 20), *want = unfold_ref(buf, 20);
        ck_assert_msg(strcmp(got, want) == 0, "at %zu,%zu kind %zu: got [%s] want [%s]", i, j, e,
                      got, want);
        g_free(got);
        g_free(want);
      }
}
END_TEST

/* NUL and 8-bit octets are noticed wherever they sit in a line (the
 * scan reads eight octets at a time). */
START_TEST(block_octet_flags) {
  static const struct {
    char c;
    guint want;
  } bad[] = {{'\0', MIME_FLAG_NUL}, {'\x80', MIME_FLAG_8BIT_HEADER}, {'\xff', MIME_FLAG_8BIT_HEADER},
             {'\x7f', 0}, {'\x01', 0}};
  for (gsize b = 0; b < G_N_ELEMENTS(bad); b++)
    for (gsize at = 0; at < 28; at++) { /* every octet of the value */
      char line[40] = "X: abcdefghijklmnopqrstuvwxyz01\r\n\r\n";
      gsize len = strlen(line);
      line[3 + at] = bad[b].c;
      guint fl = 0;
      gsize hl = 0;
      mime_hdr_free(mime_hdr_parse(line, len, 0, 0, &hl, &fl));
      ck_assert_msg(fl == bad[b].want, "octet %02x at %zu: got flags %x want %x",
                    (unsigned char)bad[b].c, at, fl, bad[b].want);
    }
}
END_TEST

/* The display of address fields, around the shortcut for a bare
 * addr-spec (the expected values are what the full parse gives). */
static const struct {
  const char *in, *want;
} disp_addr[] = {
    {"a@b", "a@b"},
    {"u1@d06.test", "u1@d06.test"},
    {"a.b@c.d", "a.b@c.d"},
    {"a..b@c", "\"a..b\"@c"},
    {".a@b", "\".a\"@b"},
    {"a.@b", "\"a.\"@b"},
    {"a@", "a"},
    {"a@.b", "a@.b"},
    {"a@b.", "a@b."},
    {"a@b@c", "a@b"},
    {"@b", ""},
    {"a", "a"},
    {"a!#$%&'*+-/=?^_`{|}~z@x-y.z", "a!#$%&'*+-/=?^_`{|}~z@x-y.z"},
    {"a b@c", "ab@c"},
    {"\"a\"@b", "a@b"},
    {"a@[1.2.3.4]", "a@[1.2.3.4]"},
    {"A@B", "A@B"},
    {"", ""},
    {"a@b,c@d", "a@b, c@d"},
    {"x\xc3""\xa9""@b", "x\xc3""\xa9""@b"},
};

START_TEST(display_addresses_table) {
  char *got = mime_display_addresses(disp_addr[_i].in);
  ck_assert_msg(strcmp(got, disp_addr[_i].want) == 0, "row %d [%s]: got [%s] want [%s]", _i,
                disp_addr[_i].in, got, disp_addr[_i].want);
  g_free(got);
}
END_TEST

START_TEST(block_long_line_and_limit) {
  GString *s = g_string_new("Long: ");
  for (int i = 0; i < 1200; i++)
    g_string_append_c(s, 'x');
  g_string_append(s, "\r\n");
  for (int i = 0; i < 50; i++)
    g_string_append_printf(s, "F%d: v\r\n", i);
  g_string_append(s, "\r\n");
  guint fl = 0;
  gsize hl = 0;
  mime_hdr *h = mime_hdr_parse(s->str, s->len, 0, 10, &hl, &fl);
  ck_assert(fl & MIME_FLAG_LONG_LINE);
  ck_assert(fl & MIME_FLAG_FIELD_LIMIT);
  ck_assert_uint_eq(mime_hdr_count(h), 10);
  ck_assert_uint_eq(hl, s->len);
  ck_assert_uint_eq(strlen(mime_hdr_nth(h, 0)->value), 1200);
  mime_hdr_free(h);
  g_string_free(s, TRUE);
  char *d = mime_flags_describe(MIME_FLAG_BARE_LF | MIME_FLAG_NO_CLOSE);
  ck_assert_str_eq(d, "bare-lf,no-close-delimiter");
  g_free(d);
}
END_TEST

/* ---- Content-Type / Content-Disposition, RFC 2231 ---- */

static const struct {
  const char *in;
  gboolean sub;
  gboolean ok;
  const char *type, *subtype;
  const char *pname, *pvalue; /* one decoded parameter to check */
  guint nraw;
} ctypes[] = {
    {"text/plain; charset=us-ascii (Plain text)", TRUE, TRUE, "text", "plain", "charset",
     "us-ascii", 1},
    {"TEXT/HTML ; CHARSET = \"UTF-8\"", TRUE, TRUE, "text", "html", "charset", "UTF-8", 1},
    {"multipart/mixed; boundary=\"simple boundary\"", TRUE, TRUE, "multipart", "mixed", "boundary",
     "simple boundary", 1},
    /* RFC 2231 §3 continuations */
    {"message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n "
     "URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
     TRUE, TRUE, "message", "external-body", "url",
     "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar", 3},
    /* RFC 2231 §4 charset and language */
    {"application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", TRUE, TRUE,
     "application", "x-stuff", "title", "This is ***fun***", 1},
    /* RFC 2231 §4.1 combined */
    {"application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; "
     "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
     TRUE, TRUE, "application", "x-stuff", "title", "This is even more ***fun*** isn't it!", 3},
    {"attachment; filename*=utf-8''%E2%82%AC%20rates.pdf", FALSE, TRUE, "attachment", NULL,
     "filename", "\xE2\x82\xAC rates.pdf", 1},
    {"attachment; filename*=iso-8859-1''caf%E9.txt; filename=\"cafe.txt\"", FALSE, TRUE,
     "attachment", NULL, "filename", "caf\xC3\xA9.txt", 2},
    {"attachment; filename*1=\"b.txt\"; filename*0=\"a\"", FALSE, TRUE, "attachment", NULL,
     "filename", "ab.txt", 2},
    {"inline; filename=r\xC3\xA9sum\xC3\xA9.pdf", FALSE, TRUE, "inline", NULL, "filename",
     "r\xC3\xA9sum\xC3\xA9.pdf", 1},
    {"text", TRUE, FALSE, "text", NULL, NULL, NULL, 0},
    {"", TRUE, FALSE, NULL, NULL, NULL, NULL, 0},
    {"/plain; x=1", TRUE, FALSE, NULL, NULL, "x", "1", 1},
    {"text/plain; ; junk; a=\"unterminated", TRUE, TRUE, "text", "plain", "a", "unterminated", 1},
};

START_TEST(ctype_table) {
  mime_ctype ct;
  gboolean ok = mime_ctype_parse(ctypes[_i].in, ctypes[_i].sub, &ct);
  ck_assert_msg(ok == ctypes[_i].ok, "row %d: got ok=%d", _i, ok);
  ck_assert_msg(g_strcmp0(ct.type, ctypes[_i].type) == 0, "row %d type: got %s want %s", _i,
                ct.type, ctypes[_i].type);
  ck_assert_msg(g_strcmp0(ct.subtype, ctypes[_i].subtype) == 0, "row %d subtype: got %s", _i,
                ct.subtype);
  if (ctypes[_i].pname) {
    const char *v = mime_params_get(ct.params, ctypes[_i].pname);
    ck_assert_msg(g_strcmp0(v, ctypes[_i].pvalue) == 0, "row %d %s: got [%s] want [%s]", _i,
                  ctypes[_i].pname, v, ctypes[_i].pvalue);
  }
  ck_assert_msg(ct.raw_params->len == ctypes[_i].nraw, "row %d raw params: got %u want %u", _i,
                ct.raw_params->len, ctypes[_i].nraw);
  mime_ctype_clear(&ct);
}
END_TEST

/* ---- RFC 2047 ---- */

static const struct {
  const char *in, *want;
} ew_dec[] = {
    /* RFC 2047 §8, the text inside the comments of its table */
    {"=?ISO-8859-1?Q?a?=", "a"},
    {"=?ISO-8859-1?Q?a?= b", "a b"},
    {"=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"},
    {"=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"},
    {"=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=", "ab"},
    {"=?ISO-8859-1?Q?a_b?=", "a b"},
    {"=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b"},
    /* §8 header examples */
    {"=?US-ASCII?Q?Keith_Moore?=", "Keith Moore"},
    {"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld J\xC3\xB8rn Simonsen"},
    {"=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xC3\xA9 Pirard"},
    {"=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
     "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
     "If you can read this you understand the example."},
    {"=?ISO-8859-8?b?7eXs+SDv4SDp7Oj08A==?=", "\xD7\x9D\xD7\x95\xD7\x9C\xD7\xA9 \xD7\x9F\xD7\x91 "
                                              "\xD7\x99\xD7\x9C\xD7\x98\xD7\xA4\xD7\xA0"},
    /* RFC 2231 §5 language suffix */
    {"=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"},
    /* a UTF-8 character split across two B words */
    {"=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xE2\x82\xAC"},
    /* not encoded words: kept */
    {"a =?bogus?X?zz?= b", "a =?bogus?X?zz?= b"},
    {"=?unknown-charset?Q?x?= y", "=?unknown-charset?Q?x?= y"},
    {"plain text, no words", "plain text, no words"},
    {"x=?UTF-8?Q?a?=", "x=?UTF-8?Q?a?="},
    {"=?UTF-8?Q?bad=ZZ?=", "=?UTF-8?Q?bad=ZZ?="},
    {"=?UTF-8?Q?a?= c =?UTF-8?Q?b?=", "a c b"},
    {"raw \xff byte", "raw \xEF\xBF\xBD byte"},
    {" a\r\n\tb  ", " a\r\n\tb  "}, /* no "=?": whitespace and line ends kept */
    {"", ""},
};

START_TEST(ew_decode_table) {
  char *got = mime_ew_decode(ew_dec[_i].in);
  ck_assert_msg(strcmp(got, ew_dec[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                ew_dec[_i].want);
  g_free(got);
}
END_TEST

static const struct {
  const char *in;
  mime_ew_ctx ctx;
  const char *want;
} ew_enc[] = {
    {"Hello world", MIME_EW_TEXT, "Hello world"},
    {"Hello world", MIME_EW_PHRASE, "Hello world"},
    {"Joe Q. Public", MIME_EW_PHRASE, "\"Joe Q. Public\""},
    {"Caf\xC3\xA9 ouvert", MIME_EW_TEXT, "=?UTF-8?Q?Caf=C3=A9_ouvert?="},
    {"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", MIME_EW_TEXT, "=?UTF-8?B?4oKs4oKs4oKs?="},
    {"a=?b", MIME_EW_TEXT, "=?UTF-8?Q?a=3D=3Fb?="},
};

START_TEST(ew_encode_table) {
  char *got = mime_ew_encode(ew_enc[_i].in, ew_enc[_i].ctx);
  ck_assert_msg(strcmp(got, ew_enc[_i].want) == 0, "row %d: got [%s] want [%s]", _i, got,
                ew_enc[_i].want);
  g_free(got);
}
END_TEST

/* Long and mixed texts survive encode → decode, words stay <= 75 octets
 * and split only between characters. */
START_TEST(ew_round_trip) {
  const char *texts[] = {
      "Gr\xC3\xBC\xC3\x9F"
      "e aus K\xC3\xB6ln \xE2\x80\x94 ein sehr langer Betreff, der "
      "sicher mehrere kodierte W\xC3\xB6rter braucht und noch l\xC3\xA4nger wird",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE4\xBB\xB6\xE5\x90\x8D\xE3\x81\xA7"
      "\xE3\x81\x99\xE3\x80\x82\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE4\xBB\xB6"
      "\xE5\x90\x8D\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
      "emoji \xF0\x9F\x98\x80 and _underscores_ and = signs ?",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
    for (int c = 0; c < MIME_EW_COUNT; c++) {
      char *enc = mime_ew_encode(texts[i], (mime_ew_ctx)c);
      gchar **lines = g_strsplit(enc, "\r\n", -1);
      for (gchar **l = lines; *l; l++) {
        const char *w = **l == ' ' ? *l + 1 : *l;
        ck_assert_msg(strlen(w) <= 75, "word too long: %s", w);
        ck_assert(g_str_has_prefix(w, "=?UTF-8?") && g_str_has_suffix(w, "?="));
        char *one = mime_ew_decode_word(w, strlen(w));
        ck_assert_msg(one && g_utf8_validate(one, -1, NULL), "word does not decode alone: %s", w);
        g_free(one);
      }
      g_strfreev(lines);
      char *unf = mime_hdr_unfold(enc, strlen(enc));
      char *dec = mime_ew_decode(unf);
      ck_assert_msg(strcmp(dec, texts[i]) == 0, "got [%s] want [%s]", dec, texts[i]);
      g_free(dec);
      g_free(unf);
      g_free(enc);
    }
  }
}
END_TEST

/* Random header values from a biased alphabet through every value parser:
 * nothing may crash, and results must be valid UTF-8 where promised. */
static guint64 next_rand(guint64 *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

START_TEST(fuzz_values) {
  static const char *const pieces[] = {
      "=?",     "?=",       "?Q?",   "?B?",   "UTF-8", "iso-8859-1", "\"",        "\\",
      "(",      ")",        "<",     ">",     "@",     ",",          ";",         ":",
      ".",      " ",        "\t",    "\r\n ", "=",     "*0*=",       "*1=",       "'",
      "%",      "%E2",      "[",     "]",     "a",     "bob",        "example",   "_",
      "Thu",    "01",       "Jan",   "2026",  "+0100", "from",       "by",        "id",
      "for",    "\xc3",     "\xa9",  "\xff",  "\x01",  "name",       "filename*", "text/plain",
      "=C3=A9", "SGVsbG8=", "Group:"};
  guint64 seed = 12345;
  for (int it = 0; it < 20000; it++) {
    GString *v = g_string_new(NULL);
    int n = (int)(next_rand(&seed) % 24);
    for (int k = 0; k < n; k++)
      g_string_append(v, pieces[next_rand(&seed) % G_N_ELEMENTS(pieces)]);
    GPtrArray *l = mime_addr_parse(v->str, NULL);
    char *f = mime_addr_format(l, 4);
    g_free(f);
    g_ptr_array_unref(l);
    char *d = mime_ew_decode(v->str);
    ck_assert(g_utf8_validate(d, -1, NULL));
    g_free(d);
    char *e = mime_ew_encode(v->str, (mime_ew_ctx)(it % 2));
    g_free(e);
    char *w = mime_ew_decode_word(v->str, v->len);
    ck_assert(!w || g_utf8_validate(w, -1, NULL));
    g_free(w);
    mime_date_parse(v->str, NULL, NULL);
    mime_ctype ct;
    mime_ctype_parse(v->str, it % 2 == 0, &ct);
    for (guint i = 0; i < ct.params->len; i++)
      ck_assert(g_utf8_validate(((mime_param *)g_ptr_array_index(ct.params, i))->value, -1, NULL));
    mime_ctype_clear(&ct);
    mime_received_info ri;
    mime_trace_received_parse(v->str, &ri);
    mime_received_info_clear(&ri);
    char *da = mime_display_addresses(v->str);
    g_free(da);
    g_string_free(v, TRUE);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mime_hdr");
  TCase *tc = tcase_create("block");
  tcase_add_test(tc, block_fields);
  tcase_add_loop_test(tc, block_table, 0, G_N_ELEMENTS(blocks));
  tcase_add_test(tc, block_long_line_and_limit);
  tcase_add_test(tc, block_octet_flags);
  tcase_add_loop_test(tc, display_addresses_table, 0, G_N_ELEMENTS(disp_addr));
  tcase_add_loop_test(tc, scan_matches_parse, 0, G_N_ELEMENTS(scan_inputs));
  tcase_add_test(tc, scan_field_limit);
  tcase_add_test(tc, scan_name_every_octet);
  tcase_add_test(tc, unfold_every_mix);
  tcase_add_test(tc, name_is_every_pair);
  tcase_add_test(tc, unfold_words);
  suite_add_tcase(s, tc);
  tc = tcase_create("params");
  tcase_add_loop_test(tc, ctype_table, 0, G_N_ELEMENTS(ctypes));
  suite_add_tcase(s, tc);
  tc = tcase_create("encoded_words");
  tcase_add_loop_test(tc, ew_decode_table, 0, G_N_ELEMENTS(ew_dec));
  tcase_add_loop_test(tc, ew_encode_table, 0, G_N_ELEMENTS(ew_enc));
  tcase_add_test(tc, ew_round_trip);
  suite_add_tcase(s, tc);
  tc = tcase_create("fuzz");
  tcase_add_test(tc, fuzz_values);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
