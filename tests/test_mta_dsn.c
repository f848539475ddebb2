/* Tests for mta_dsn: the report's structure parsed back with
 * protocols/mime (parts, content types, per-message and per-recipient
 * fields), determinism, line limits, and refused inputs. Python's email
 * package checks the same message in test_mta_dsn_pypeer.c. */
#include <check.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mime_msg.h"
#include "mta_dsn_sample.h"
#include "testutil.h"

/* The field groups of a message/delivery-status body (blank-line
 * separated), each parsed as a header block. */
static GPtrArray *groups(const char *body, gsize len) {
  GPtrArray *g = g_ptr_array_new_with_free_func((GDestroyNotify)mime_hdr_free);
  gsize i = 0;
  while (i < len) {
    while (i + 1 < len && body[i] == '\r' && body[i + 1] == '\n')
      i += 2;
    if (i >= len)
      break;
    gsize used = 0;
    guint flags = 0;
    mime_hdr *h = mime_hdr_parse(body + i, len - i, 0, 100, &used, &flags);
    ck_assert_uint_gt(used, 0);
    g_ptr_array_add(g, h);
    i += used;
  }
  return g;
}

START_TEST(structure) {
  mta_dsn_config c;
  sample_config(&c);
  char *err = NULL;
  GBytes *dsn = mta_dsn_build(&c, &err);
  ck_assert_msg(dsn != NULL, "%s", err);
  gsize len;
  const char *d = g_bytes_get_data(dsn, &len);
  mime_msg *m = mime_msg_parse(d, len, NULL);
  const mime_part *root = mime_msg_root(m);
  ck_assert_str_eq(root->type, "multipart");
  ck_assert_str_eq(root->subtype, "report");
  ck_assert_str_eq(mime_part_param(root, "report-type"), "delivery-status");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "To"), "<alice@a.example>");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "From"),
                   "Mail Delivery System <MAILER-DAEMON@mail.a.example>");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Subject"), "Undelivered Mail Returned to Sender");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Date"), "Thu, 01 Jan 2026 01:00:02 +0000");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Message-ID"), "<dsn.1A@mail.a.example>");
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Auto-Submitted"), "auto-replied");
  ck_assert_uint_eq(root->children->len, 3);
  static const char *const want[3][2] = {
      {"text", "plain"}, {"message", "delivery-status"}, {"text", "rfc822-headers"}};
  for (guint i = 0; i < 3; i++) {
    const mime_part *p = root->children->pdata[i];
    ck_assert_msg(strcmp(p->type, want[i][0]) == 0 && strcmp(p->subtype, want[i][1]) == 0,
                  "part %u: got %s/%s want %s/%s", i + 1, p->type, p->subtype, want[i][0],
                  want[i][1]);
  }
  ck_assert_uint_eq(mime_msg_flags(m) & ~0u, 0); /* no defects at all */

  /* The human part names each recipient and what happened. */
  const mime_part *txt = root->children->pdata[0];
  char *t = g_strndup(d + txt->body_off, txt->body_len);
  ck_assert(strstr(t, "<bob@b.example>: failed; host mx.b.example said: 550 5.1.1"));
  ck_assert(strstr(t, "<carol@c.example>: delayed; 4.4.1: connect to mx.c.example"));
  ck_assert(strstr(t, "Queue ID: 1A"));
  g_free(t);

  /* The report: per-message fields, then one group per recipient. */
  const mime_part *ds = root->children->pdata[1];
  GPtrArray *g = groups(d + ds->body_off, ds->body_len);
  ck_assert_uint_eq(g->len, 3);
  mime_hdr *pm = g->pdata[0], *r1 = g->pdata[1], *r2 = g->pdata[2];
  ck_assert_str_eq(mime_hdr_get(pm, "Reporting-MTA"), "dns; mail.a.example");
  ck_assert_str_eq(mime_hdr_get(pm, "Received-From-MTA"), "dns; laptop.a.example");
  ck_assert_str_eq(mime_hdr_get(pm, "Arrival-Date"), "Thu, 01 Jan 2026 00:00:00 +0000");
  ck_assert_ptr_null(mime_hdr_get(pm, "Original-Envelope-Id"));
  ck_assert_str_eq(mime_hdr_get(r1, "Final-Recipient"), "rfc822; bob@b.example");
  ck_assert_str_eq(mime_hdr_get(r1, "Original-Recipient"), "rfc822;bob@b.example");
  ck_assert_str_eq(mime_hdr_get(r1, "Action"), "failed");
  ck_assert_str_eq(mime_hdr_get(r1, "Status"), "5.1.1");
  ck_assert_str_eq(mime_hdr_get(r1, "Remote-MTA"), "dns; mx.b.example");
  ck_assert_str_eq(mime_hdr_get(r1, "Diagnostic-Code"),
                   "smtp; 550 5.1.1 5.1.1 <bob@b.example>: Recipient address rejected: User "
                   "unknown in virtual mailbox table");
  ck_assert_str_eq(mime_hdr_get(r1, "Last-Attempt-Date"), "Thu, 01 Jan 2026 01:00:00 +0000");
  ck_assert_ptr_null(mime_hdr_get(r1, "Will-Retry-Until"));
  ck_assert_str_eq(mime_hdr_get(r2, "Final-Recipient"), "rfc822; carol@c.example");
  ck_assert_str_eq(mime_hdr_get(r2, "Action"), "delayed");
  ck_assert_str_eq(mime_hdr_get(r2, "Status"), "4.4.1");
  ck_assert_ptr_null(mime_hdr_get(r2, "Diagnostic-Code"));
  ck_assert_ptr_null(mime_hdr_get(r2, "Remote-MTA"));
  ck_assert_str_eq(mime_hdr_get(r2, "Will-Retry-Until"), "Tue, 06 Jan 2026 00:00:00 +0000");
  g_ptr_array_free(g, TRUE);

  /* The original's header, CRLF-normalised, without its body. */
  const mime_part *oh = root->children->pdata[2];
  char *hdr = g_strndup(d + oh->body_off, oh->body_len);
  char *want_hdr =
      g_strndup(sample_original, strstr(sample_original, "\r\n\r\n") - sample_original);
  char *fixed = want_hdr;
  GString *norm = g_string_new(NULL);
  for (const char *p = fixed; *p; p++) {
    if (*p == '\n' && (p == fixed || p[-1] != '\r'))
      g_string_append_c(norm, '\r');
    g_string_append_c(norm, *p);
  }
  g_string_append(norm, "\r\n"); /* the header's last line end; the blank line is the delimiter's */
  ck_assert_str_eq(hdr, norm->str);
  ck_assert(!strstr(d, "Body text that must not be quoted"));
  g_string_free(norm, TRUE);
  g_free(want_hdr);
  g_free(hdr);

  /* Every line ends in CRLF and stays within 78 octets here. */
  gsize col = 0;
  for (gsize i = 0; i < len; i++) {
    if (d[i] == '\n') {
      ck_assert_msg(i > 0 && d[i - 1] == '\r', "bare LF at %zu", i);
      col = 0;
    } else if (d[i] != '\r') {
      col++;
      ck_assert_msg(col <= 78, "line over 78 octets at %zu", i);
    }
  }
  /* Deterministic. */
  GBytes *again = mta_dsn_build(&c, &err);
  ck_assert(g_bytes_equal(dsn, again));
  g_bytes_unref(again);
  mime_msg_free(m);
  g_bytes_unref(dsn);
}
END_TEST

/* RET=FULL returns the whole message as message/rfc822; all-delayed
 * reports are warnings. */
START_TEST(full_and_delayed) {
  mta_dsn_config c;
  sample_config(&c);
  c.return_full = true;
  c.rcpts = &sample_rcpts[1];
  c.nrcpts = 1;
  c.envid = "QQ314159";
  char *err = NULL;
  GBytes *dsn = mta_dsn_build(&c, &err);
  ck_assert_ptr_nonnull(dsn);
  gsize len;
  const char *d = g_bytes_get_data(dsn, &len);
  mime_msg *m = mime_msg_parse(d, len, NULL);
  const mime_part *root = mime_msg_root(m);
  ck_assert_str_eq(mime_hdr_get(root->hdr, "Subject"), "Delayed Mail (still being retried)");
  const mime_part *full = root->children->pdata[2];
  ck_assert_str_eq(full->type, "message");
  ck_assert_str_eq(full->subtype, "rfc822");
  ck_assert(mime_part_is_message(full));
  const mime_part *inner = full->children->pdata[0];
  ck_assert_str_eq(mime_hdr_get(inner->hdr, "Subject"), "Hello");
  ck_assert(strstr(d, "Body text that must not be quoted"));
  ck_assert(strstr(d, "Original-Envelope-Id: QQ314159\r\n"));
  ck_assert(strstr(d, "THIS IS A WARNING ONLY"));
  mime_msg_free(m);
  g_bytes_unref(dsn);
}
END_TEST

static const struct {
  const char *name;
  int field;
  const char *value;
} bad[] = {
    {"no reporting MTA", 0, NULL}, {"no To", 1, ""},           {"CR in From", 2, "a\rb@x"},
    {"status 3.1.1", 3, "3.1.1"},  {"status 5.1", 3, "5.1"},   {"status 5.1.1234", 3, "5.1.1234"},
    {"status 5.a.1", 3, "5.a.1"},  {"LF in rcpt", 4, "x\n@y"}, {"no message id", 5, NULL},
};

START_TEST(refused) {
  mta_dsn_config c;
  sample_config(&c);
  mta_dsn_rcpt r = sample_rcpts[0];
  c.rcpts = &r;
  c.nrcpts = 1;
  switch (bad[_i].field) {
  case 0:
    c.reporting_mta = bad[_i].value;
    break;
  case 1:
    c.to = bad[_i].value;
    break;
  case 2:
    c.from = bad[_i].value;
    break;
  case 3:
    r.status = bad[_i].value;
    break;
  case 4:
    r.rcpt = bad[_i].value;
    break;
  default:
    c.message_id = bad[_i].value;
  }
  char *err = NULL;
  GBytes *dsn = mta_dsn_build(&c, &err);
  ck_assert_msg(dsn == NULL && err != NULL, "%s: accepted", bad[_i].name);
  g_free(err);
  /* And the good statuses. */
  static const char *const good[] = {"2.0.0", "4.7.1", "5.1.10", "5.123.999"};
  sample_config(&c);
  c.rcpts = &r;
  c.nrcpts = 1;
  r = sample_rcpts[0];
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    r.status = good[i];
    dsn = mta_dsn_build(&c, &err);
    ck_assert_msg(dsn != NULL, "%s refused: %s", good[i], err);
    g_bytes_unref(dsn);
  }
  /* A date out of range. */
  c.epoch_unix = INT64_C(400000000000); /* year 12700 */
  ck_assert_ptr_null(mta_dsn_build(&c, &err));
  ck_assert_str_eq(err, "a date is out of range");
  g_free(err);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mta_dsn");
  TCase *tc = tcase_create("dsn");
  tcase_add_test(tc, structure);
  tcase_add_test(tc, full_and_delayed);
  tcase_add_loop_test(tc, refused, 0, G_N_ELEMENTS(bad));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
