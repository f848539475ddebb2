/* Tests for msgkey: the trace key of a message (its Message-ID without
 * <>) and its hop count (Received fields), table-driven, also with every
 * message cut short at each octet (never a crash, never an overread). */
#include <glib.h>
#include <string.h>

#include "mime_msg.h"
#include "msgkey.h"
#include "testutil.h"

static const struct {
  const char *msg;
  const char *key;
  unsigned hops;
} rows[] = {
    {"Message-ID: <m1.abc@example.com>\r\n\r\nbody\r\n", "m1.abc@example.com", 0},
    {"message-id:   <m2@x>  \r\nSubject: s\r\n\r\n", "m2@x", 0},
    {"Message-ID:\r\n <folded@example.org>\r\n\r\n", "folded@example.org", 0},
    {"Message-ID: bare@example.org\r\n\r\n", "bare@example.org", 0},
    {"Subject: none\r\n\r\nMessage-ID: <in-body@x>\r\n", "", 0},
    {"Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
     "Received: from c\r\n by d; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
     "Message-ID: <m3@y>\r\n\r\nReceived: not a field\r\n",
     "m3@y", 2},
    {"", "", 0},
    {"Message-ID: <unterminated@x\r\n\r\n", "<unterminated@x", 0},
};

START_TEST(keys_and_hops) {
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    size_t n = strlen(rows[i].msg);
    char *k = msgkey_of((const uint8_t *)rows[i].msg, n);
    ck_assert_msg(strcmp(k, rows[i].key) == 0, "row %zu: got \"%s\" want \"%s\"", i, k,
                  rows[i].key);
    g_free(k);
    unsigned h = msgkey_hops((const uint8_t *)rows[i].msg, n);
    ck_assert_msg(h == rows[i].hops, "row %zu: got %u hops want %u", i, h, rows[i].hops);
  }
}
END_TEST

START_TEST(every_prefix_is_safe) {
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    size_t n = strlen(rows[i].msg);
    for (size_t cut = 0; cut <= n; cut++) {
      /* a heap copy of exactly CUT octets, so ASan sees any overread */
      uint8_t *p = g_memdup2(rows[i].msg, cut ? cut : 1);
      char *k = msgkey_of(p, cut);
      ck_assert_ptr_nonnull(k);
      ck_assert(strlen(k) <= cut);
      ck_assert_uint_le(msgkey_hops(p, cut), rows[i].hops);
      unsigned hops = 99;
      char *k2 = msgkey_of_hops(p, cut, &hops);
      ck_assert_msg(strcmp(k, k2) == 0 && hops == msgkey_hops(p, cut),
                    "row %zu cut %zu: got %s %u want %s %u", i, cut, k2, hops, k,
                    msgkey_hops(p, cut));
      g_free(k2);
      g_free(k);
      g_free(p);
    }
  }
}
END_TEST

/* The key from a parsed message's header (and from its Message-ID value)
 * equals the one read from the bytes, for every row cut at every octet. */
START_TEST(key_from_parsed_header) {
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    size_t n = strlen(rows[i].msg);
    for (size_t cut = 0; cut <= n; cut++) {
      char *want = msgkey_of((const uint8_t *)rows[i].msg, cut);
      mime_msg *mm = mime_msg_parse(rows[i].msg, cut, NULL);
      char *got = msgkey_of_hdr(mime_msg_root(mm)->hdr);
      ck_assert_msg(strcmp(got, want) == 0, "row %zu cut %zu: got \"%s\" want \"%s\"", i, cut,
                    got, want);
      g_free(got);
      const char *v = mime_hdr_get(mime_msg_root(mm)->hdr, "Message-ID");
      got = msgkey_of_value_take(v ? g_strdup(v) : NULL);
      ck_assert_msg(strcmp(got, want) == 0, "row %zu cut %zu: of_value got \"%s\" want \"%s\"",
                    i, cut, got, want);
      g_free(got);
      g_free(want);
      mime_msg_free(mm);
    }
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("msgkey");
  TCase *tc = tcase_create("msgkey");
  tcase_add_test(tc, keys_and_hops);
  tcase_add_test(tc, every_prefix_is_safe);
  tcase_add_test(tc, key_from_parsed_header);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
