/* Tests for mime__received_route_new (from, by and with of a Received
 * field for the msg.display record) against the full parse
 * (mime_trace_received_parse): the fields this simulator writes read
 * without the general parse must give the same three clauses, and so must
 * everything near them that the fast path declines. A table of fields and
 * near misses, each cut at every length (every prefix is a field too),
 * and random edits of written fields. */
#include <check.h>
#include <glib.h>
#include <string.h>

#include "mime_int.h"
#include "mime_trace.h"
#include "testutil.h"

/* "got ... want ..." when the route view of V differs from the full
 * parse's from/by/with, else NULL. */
static char *route_diff(const char *v) {
  mime_received_info full;
  mime_trace_received_parse(v, &full);
  mime_received_info *r = mime__received_route_new(v);
  char *d = NULL;
  if (g_strcmp0(r->from, full.from) || g_strcmp0(r->by, full.by) || g_strcmp0(r->with, full.with))
    d = g_strdup_printf("[%s]: got [%s|%s|%s] want [%s|%s|%s]", v, r->from, r->by, r->with,
                        full.from, full.by, full.with);
  else if (r->from_info || r->by_info || r->via || r->id || r->for_addr || r->date)
    d = g_strdup_printf("[%s]: more than from/by/with", v);
  mime_received_info_clear(&full);
  g_free(r);
  return d;
}

static const char *const fields[] = {
    /* as written (mime_trace_received), unfolded */
    " from mx.d06.test (mx.d06.test [10.0.0.5])\r\n\tby mx.d00.test with ESMTP\r\n\tid 0001A\r\n\t"
    "for <u0@d00.test>;\r\n\tSun, 01 Mar 2026 09:06:15 +0000",
    " from mx.d06.test (mx.d06.test [10.0.0.5])\tby mx.d00.test with ESMTP\tid 0001A\tfor "
    "<u0@d00.test>; Sun, 01 Mar 2026 09:06:15 +0000",
    " from users.d06.test ([10.0.1.9])\tby mx.d06.test with ESMTPA (tls)\tid 7; Sun, 1 Mar 2026",
    "from a by b with c",
    "from a by b with c;",
    "from a by b with c(x)",
    "from a(x)(y) by b with c id d",
    "from a (x\r\ny) by b with c",
    /* near misses: the general parse decides */
    "from a by b with c;d",
    "from a by b with \"q\"",
    "from \"a b\" by b with c",
    "from a (x (nested) y) by b with c",
    "from a (x \\) y) by b with c",
    "from a (x ; y) by b with c",
    "from a (x \" y) by b with c",
    "from a; by b with c",
    "from a by b; with c",
    "From a BY b With c",
    "from a by (c) b with c",
    "from a by b (c) with c",
    "from a by b with (c) c",
    "from a via v by b with c",
    "from by by with with with",
    "from a by b by c with d with e",
    "by b from a with c",
    "from a with c",
    "from a) by b with c",
    "from a\\ by b with c",
    "from a by b\\ with c",
    "from a by b with c\\d",
    "from a by b with c)d",
    "(x) from a by b with c",
    "\tfrom a by b with c",
    "from\ta\tby\tb\twith\tc",
    "froma by b with c",
    "from  a  by  b  with  c  ",
    "",
    "from",
    "from ",
};

/* Every field of the table cut at every length. */
START_TEST(route_table_every_prefix) {
  const char *f = fields[_i];
  size_t n = strlen(f);
  for (size_t cut = 0; cut <= n; cut++) {
    char *v = g_strndup(f, cut);
    char *d = route_diff(v);
    ck_assert_msg(d == NULL, "field %d cut at %zu: %s", _i, cut, d);
    g_free(v);
  }
}
END_TEST

/* Written fields with random edits: octets that matter to either parse
 * (white space, comment and quote marks, ';', '\\', keywords) inserted,
 * deleted or replaced. Seeded, so the same cases each run. */
START_TEST(route_random_edits) {
  static const char *const bits[] = {" ",  "\t", "\r\n", "(",    ")",  "\"", ";",   "\\",
                                     "by", "BY", "with", "from", "id", "<",  "x y", "\0"};
  GRand *rng = g_rand_new_with_seed(6);
  GString *v = g_string_new(NULL);
  for (int it = 0; it < 20000; it++) {
    g_string_assign(v, fields[g_rand_int_range(rng, 0, 8)]);
    int edits = g_rand_int_range(rng, 1, 4);
    for (int e = 0; e < edits; e++) {
      gsize at = (gsize)g_rand_int_range(rng, 0, (gint32)v->len + 1);
      const char *b = bits[g_rand_int_range(rng, 0, G_N_ELEMENTS(bits))];
      switch (g_rand_int_range(rng, 0, 3)) {
      case 0:
        g_string_insert(v, (gssize)at, b);
        break;
      case 1:
        if (at < v->len)
          g_string_erase(v, (gssize)at, 1);
        break;
      default:
        if (at < v->len)
          v->str[at] = b[0] ? b[0] : 'z';
        break;
      }
    }
    char *d = route_diff(v->str);
    ck_assert_msg(d == NULL, "edit %d: %s", it, d);
  }
  g_string_free(v, TRUE);
  g_rand_free(rng);
}
END_TEST

/* Every octet (but NUL) at every place of a written field, inserted and
 * replacing: where words and comments end must agree octet by octet. */
START_TEST(route_every_octet_everywhere) {
  static const char base[] = " from a (x y) by b with c id d";
  GString *v = g_string_new(NULL);
  for (unsigned c = 1; c < 256; c++)
    for (gsize at = 0; at <= sizeof base - 1; at++)
      for (int replace = 0; replace < 2 && !(replace && at == sizeof base - 1); replace++) {
        g_string_assign(v, base);
        if (replace)
          v->str[at] = (char)c;
        else
          g_string_insert_c(v, (gssize)at, (char)c);
        char *d = route_diff(v->str);
        ck_assert_msg(d == NULL, "octet 0x%02x at %zu: %s", c, (size_t)at, d);
      }
  g_string_free(v, TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mime_trace_route");
  TCase *tc = tcase_create("route");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, route_table_every_prefix, 0, G_N_ELEMENTS(fields));
  tcase_add_test(tc, route_random_edits);
  tcase_add_test(tc, route_every_octet_everywhere);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
