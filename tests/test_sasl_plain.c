/* Tests for protocols/sasl/sasl_plain.c: RFC 4616 messages decoded from
 * base64, with and without an authorization identity, empty parts, long
 * messages (the heap path), and every malformed shape refused. */
#include <glib.h>
#include <string.h>

#include "sasl_plain.h"
#include "testutil.h"

/* base64 of the LEN octets at RAW (NULs included); g_free it. */
static char *b64(const char *raw, size_t len) { return g_base64_encode((const guchar *)raw, len); }

START_TEST(test_decode_rows) {
  static const struct {
    const char *raw;
    size_t len;
    bool ok;
    const char *authz, *authc, *pass;
  } rows[] = {
      {"\0alice\0secret", 13, true, "", "alice", "secret"},
      {"admin\0alice\0secret", 18, true, "admin", "alice", "secret"},
      {"\0\0", 2, true, "", "", ""},
      {"\0alice\0", 7, true, "", "alice", ""},
      {"alice\0secret", 12, false, NULL, NULL, NULL},                           /* two parts */
      {"\0a\0b\0c", 6, false, NULL, NULL, NULL},                                /* four parts */
      {"alice", 5, false, NULL, NULL, NULL},                                    /* one part */
      {"\0al\xc3\xa9\0p\xc3\xa4ss", 11, true, "", "al\xc3\xa9", "p\xc3\xa4ss"}, /* UTF-8 */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *enc = b64(rows[i].raw, rows[i].len);
    sasl_plain m;
    bool ok = sasl_plain_decode(&m, enc);
    ck_assert_msg(ok == rows[i].ok, "row %zu: got %d want %d", i, ok, rows[i].ok);
    if (ok) {
      ck_assert_str_eq(m.authzid, rows[i].authz);
      ck_assert_str_eq(m.authcid, rows[i].authc);
      ck_assert_str_eq(m.passwd, rows[i].pass);
    }
    sasl_plain_clear(&m);
    ck_assert_ptr_null(m.passwd);
    g_free(enc);
  }
}
END_TEST

START_TEST(test_not_base64) {
  static const char *const bad[] = {"",
                                    "=",
                                    "*",
                                    "AGFsaWNlAHNlY3JldA", /* not a whole quantum */
                                    "AGFsaWNl AHNlY3JldA==",
                                    "AGFsaWNl\nAHNlY3JldA==",
                                    "AGFsaWNlAHNlY3JldA==x",
                                    "AGFs!WNlAHNlY3JldA=="};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    sasl_plain m;
    ck_assert_msg(!sasl_plain_decode(&m, bad[i]), "\"%s\" accepted", bad[i]);
    sasl_plain_clear(&m);
  }
}
END_TEST

/* Beyond the reader's own buffer: a 700-octet password comes from the heap
 * and reads back whole. */
START_TEST(test_long_message) {
  for (size_t plen = 300; plen <= 700; plen += 100) {
    GString *raw = g_string_new(NULL);
    g_string_append_len(raw, "\0bob\0", 5);
    for (size_t i = 0; i < plen; i++)
      g_string_append_c(raw, (char)('a' + i % 26));
    char *enc = b64(raw->str, raw->len);
    sasl_plain m;
    ck_assert(sasl_plain_decode(&m, enc));
    ck_assert_str_eq(m.authcid, "bob");
    ck_assert_uint_eq(strlen(m.passwd), plen);
    ck_assert(memcmp(m.passwd, raw->str + 5, plen) == 0);
    sasl_plain_clear(&m);
    g_free(enc);
    g_string_free(raw, TRUE);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("sasl_plain");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_decode_rows);
  tcase_add_test(tc, test_not_base64);
  tcase_add_test(tc, test_long_message);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
