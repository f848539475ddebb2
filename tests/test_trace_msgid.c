/* trace_msgid: packed Message-IDs: their length, exact round trips,
 * comparison against text, kept in a store. */
#include "testutil.h"
#include "trace_msgid.h"

static const char *run(char *buf, size_t n, char c) {
  memset(buf, c, n);
  buf[n] = '\0';
  return buf;
}

/* Text (NULL: a run of N '7') and its packed length. */
static const struct {
  const char *s;
  size_t run, packed;
} pack_rows[] = {
    {"", 0, 0},
    {"abc", 0, 3},                 /* a run of 3: as it is */
    {"abcd", 0, 3},                /* 0x84, 2 octets */
    {"abcde", 0, 4},               /* odd: the last digit in a high nibble */
    {"ABCD", 0, 4},                /* upper case is not packed */
    {"0123456789abcdef@x", 0, 11}, /* 1 + 8, then '@', 'x' */
    {"1a2b3c4d5e6f7081@mail.example", 0, 22},
    {"\xc3\xa9", 0, 4}, /* octets over 0x7f: 0x80 and itself */
    {"ab\x80zz", 0, 6},
    {"a1b2-c3d4-e5f6", 0, 11}, /* runs of 4: 3 + '-' + 3 + '-' + 3 */
    {"550e8400-e29b-41d4-a716-446655440000", 0, 25},
    {NULL, 127, 65},
    {NULL, 128, 66},  /* 127 packed, then one digit as it is */
    {NULL, 300, 154}, /* 127 + 127 + 46: 65 + 65 + 24 */
};

START_TEST(pack_rows_test) {
  char buf[400];
  const char *s = pack_rows[_i].s ? pack_rows[_i].s : run(buf, pack_rows[_i].run, '7');
  GByteArray *p = g_byte_array_new();
  trace_msgid_pack(p, s);
  ck_assert_msg(p->len == pack_rows[_i].packed, "%.40s: packed got %u want %zu", s, p->len,
                pack_rows[_i].packed);
  GString *back = g_string_new("junk");
  trace_msgid_unpack(back, p->data, p->len);
  ck_assert_msg(strcmp(back->str, s) == 0, "%.40s: unpacked got %.40s", s, back->str);
  ck_assert_msg(trace_msgid_eq(p->data, p->len, s), "%.40s: not equal to itself", s);
  /* One octet more, one less, one changed: never equal. */
  char *longer = g_strconcat(s, "0", NULL);
  ck_assert_msg(!trace_msgid_eq(p->data, p->len, longer), "%.40s: equals %.40s", s, longer);
  size_t n = strlen(s);
  if (n) {
    char *shorter = g_strndup(s, n - 1);
    ck_assert_msg(!trace_msgid_eq(p->data, p->len, shorter), "%.40s: equals its prefix", s);
    g_free(shorter);
    char *other = g_strdup(s);
    other[n / 2] = other[n / 2] == '8' ? '9' : '8';
    ck_assert_msg(!trace_msgid_eq(p->data, p->len, other), "%.40s: equals %.40s", s, other);
    g_free(other);
  }
  g_free(longer);
  g_string_free(back, TRUE);
  g_byte_array_unref(p);
}
END_TEST

/* Packed lengths around the one-octet length prefix, kept and read back. */
static const size_t keep_rows[] = {0, 1, 254, 255, 256, 3000};

START_TEST(keep_lengths) {
  trace_store st;
  trace_store_init(&st, 1024, "test");
  uint32_t refs[G_N_ELEMENTS(keep_rows)];
  for (size_t i = 0; i < G_N_ELEMENTS(keep_rows); i++) {
    uint8_t *k = g_malloc(keep_rows[i] + 1);
    for (size_t j = 0; j < keep_rows[i]; j++)
      k[j] = (uint8_t)(j * 7 + i);
    refs[i] = trace_msgid_keep(&st, k, keep_rows[i]);
    g_free(k);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(keep_rows); i++) {
    size_t n;
    const uint8_t *k = trace_msgid_key(&st, refs[i], &n);
    ck_assert_msg(n == keep_rows[i], "length got %zu want %zu", n, keep_rows[i]);
    for (size_t j = 0; j < n; j++)
      ck_assert_msg(k[j] == (uint8_t)(j * 7 + i), "%zu octets, [%zu]: got %u want %u", n, j, k[j],
                    (uint8_t)(j * 7 + i));
  }
  trace_store_clear(&st);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_msgid");
  TCase *tc = tcase_create("pack");
  tcase_add_loop_test(tc, pack_rows_test, 0, G_N_ELEMENTS(pack_rows));
  suite_add_tcase(s, tc);
  tc = tcase_create("keep");
  tcase_add_test(tc, keep_lengths);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
