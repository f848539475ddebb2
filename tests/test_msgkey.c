/* Tests for msgkey: the trace key of a message (its Message-ID without
 * <>) and its hop count (Received fields), table-driven, also with every
 * message cut short at each octet (never a crash, never an overread). */
#include <glib.h>
#include <stdbool.h>
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

/* msgkey_of_hops (its own pass) against msgkey_of and msgkey_hops (the
 * general scanner): seeded random headers of odd lines, every prefix of
 * them, and headers around the 1,000-field limit. */
static void hops_agree(const char *msg, size_t len, const char *what, bool bufs) {
  uint8_t *p = g_memdup2(msg, len ? len : 1); /* exactly LEN octets for ASan */
  unsigned hops = 99;
  char *got = msgkey_of_hops(p, len, &hops);
  char *want = msgkey_of(p, len);
  unsigned want_hops = msgkey_hops(p, len);
  ck_assert_msg(strcmp(got, want) == 0 && hops == want_hops, "%s (%zu octets): got %s %u want %s %u",
                what, len, got, hops, want, want_hops);
  /* into a buffer of every size up to past the key: the same key and
   * count (the buffer's bounds are ASan's to check) */
  for (size_t bufsz = 0; bufs && bufsz <= 24; bufsz++) {
    char *buf = g_malloc(bufsz ? bufsz : 1); /* exactly BUFSZ octets for ASan */
    unsigned bh = 99;
    char *bk = msgkey_of_hops_buf(p, len, &bh, buf, bufsz);
    ck_assert_msg(strcmp(bk, want) == 0 && bh == want_hops,
                  "%s (%zu octets, buffer %zu): got %s %u want %s %u", what, len, bufsz, bk, bh,
                  want, want_hops);
    if (bk != buf)
      g_free(bk);
    g_free(buf);
  }
  g_free(got);
  g_free(want);
  g_free(p);
}

START_TEST(hops_scan_agrees) {
  static const char *const lines[] = {
      "Received: from a by b\r\n", "received :x\n", "Message-ID: <m@id>\r\n", "Message-ID:\r\n",
      " <cont@id>\r\n", "\tmore\r\n", "Subject: s\r\n", "bad line\r\n", "\r\n", "Received\r\n",
      "message-id:<lower@id>\n", "Received: a", "X: y\r", "\n", "Message-ID: <a@b>\r\r\n",
      "Receivedx: no\r\n", ": empty name\r\n", "Message-ID : <wsp@id>\r\n", "Rec\x80ived: 8bit\r\n",
      "RECEIVED: up\r\n", "MESSAGE-id: <up@id>\r\n", "Message_ID: <no@id>\r\n", "Message-IDx: <no@id>\r\n",
      "Message\x0d-ID: <no@id>\r\n", "ReceiveD\t: tab\r\n", "Received-By: no\r\n",
  };
  GRand *r = g_rand_new_with_seed(8);
  for (int t = 0; t < 3000; t++) {
    GString *m = g_string_new(NULL);
    int k = g_rand_int_range(r, 0, 10);
    for (int j = 0; j < k; j++)
      g_string_append(m, lines[g_rand_int_range(r, 0, G_N_ELEMENTS(lines))]);
    char what[32];
    g_snprintf(what, sizeof what, "random %d", t);
    for (size_t cut = 0; cut <= m->len; cut += 1 + (size_t)(t % 3))
      hops_agree(m->str, cut, what, cut == m->len || t % 16 == 0);
    g_string_free(m, TRUE);
  }
  g_rand_free(r);
  /* the field limit: 998-1001 fields before the Message-ID */
  for (int k = 998; k <= 1001; k++) {
    GString *m = g_string_new(NULL);
    for (int j = 0; j < k; j++)
      g_string_append(m, j % 2 ? "Received: x\r\n" : "X-F: y\r\n z\r\n");
    g_string_append(m, "Message-ID: <late@id>\r\n\r\n");
    hops_agree(m->str, m->len, "limit", true);
    g_string_free(m, TRUE);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("msgkey");
  TCase *tc = tcase_create("msgkey");
  tcase_add_test(tc, keys_and_hops);
  tcase_add_test(tc, every_prefix_is_safe);
  tcase_add_test(tc, key_from_parsed_header);
  tcase_add_test(tc, hops_scan_agrees);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
