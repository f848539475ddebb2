/* Tests for mta_queue: due order, per-recipient outcomes of one
 * transaction, DSN accounting (never a bounce of a bounce), destinations,
 * the disk encoding (round trip, every truncation, corrupted bytes), the
 * invariant checker, and memory per queued message. */
#include <check.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "mime_date.h"
#include "mta_dsn.h"
#include "mta_queue.h"
#include "mta_route.h"
#include "testutil.h"

#define S MTA_SEC

static uint32_t add(mta_queue *q, const char *from, int64_t at, const char *r1, const char *r2,
                    const char *r3) {
  const char *rc[3] = {r1, r2, r3};
  size_t n = r3 ? 3 : r2 ? 2 : 1;
  GBytes *body = g_bytes_new_static("Subject: x\r\n\r\nhi\r\n", 18);
  mta_queue_add_args a = {.sender = from, .rcpts = rc, .nrcpts = n, .body = body, .arrival = at};
  uint32_t qid = mta_queue_add(q, &a);
  g_bytes_unref(body);
  return qid;
}

static void result(mta_queue *q, uint32_t qid, uint32_t i, mta_rcpt_state st, int code,
                   const char *esc, const char *text, int64_t now) {
  mta_queue_take(q, qid, i);
  mta_queue_result_args r = {st, code, esc, text, "mx.b.example"};
  mta_queue_result(q, qid, i, &r, now);
}

START_TEST(due_order) {
  mta_queue *q = mta_queue_new();
  ck_assert_int_eq(mta_queue_next_due(q), INT64_MAX);
  uint32_t a = add(q, "a@x", 50 * S, "r@b.example", NULL, NULL);
  uint32_t b = add(q, "a@x", 10 * S, "r@c.example", NULL, NULL);
  uint32_t c = add(q, "a@x", 10 * S, "r@d.example", NULL, NULL);
  uint32_t d = add(q, "a@x", 30 * S, "r@d.example", NULL, NULL);
  ck_assert_uint_eq(a, 1);
  ck_assert_uint_eq(d, 4);
  ck_assert_int_eq(mta_queue_next_due(q), 10 * S);
  static const struct {
    int64_t now;
    uint32_t want[4];
    size_t n;
  } rows[] = {
      {9 * S, {0}, 0}, {10 * S, {2, 3}, 2}, {30 * S, {2, 3, 4}, 3}, {99 * S, {2, 3, 4, 1}, 4}};
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GArray *got = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    ck_assert_uint_eq(mta_queue_due(q, rows[i].now, got), rows[i].n);
    for (size_t k = 0; k < rows[i].n; k++)
      ck_assert_msg(g_array_index(got, uint32_t, k) == rows[i].want[k],
                    "row %zu pos %zu: got %u want %u", i, k, g_array_index(got, uint32_t, k),
                    rows[i].want[k]);
    g_array_free(got, TRUE);
  }
  (void)b;
  (void)c;
  mta_queue_free(q);
}
END_TEST

/* More due messages than the walk keeps on the C stack (64): all of them,
 * in (due, qid) order, appended after what QIDS held. */
START_TEST(due_many) {
  mta_queue *q = mta_queue_new();
  enum { N = 300 };
  for (int i = 0; i < N; i++) /* dues 299, 298, ... 0 seconds: qid i+1 at N-1-i */
    add(q, "a@x", (int64_t)(N - 1 - i) * S, "r@b.example", NULL, NULL);
  GArray *got = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  uint32_t first = 7777;
  g_array_append_val(got, first);
  ck_assert_uint_eq(mta_queue_due(q, 199 * S, got), 200);
  ck_assert_uint_eq(got->len, 201);
  ck_assert_uint_eq(g_array_index(got, uint32_t, 0), 7777);
  for (guint k = 1; k < got->len; k++) /* due k-1 seconds: qid N-(k-1) */
    ck_assert_msg(g_array_index(got, uint32_t, k) == (uint32_t)(N - (k - 1)),
                  "pos %u: got %u want %u", k, g_array_index(got, uint32_t, k), N - (k - 1));
  g_array_free(got, TRUE);
  mta_queue_free(q);
}
END_TEST

/* One transaction, three recipients: delivered, deferred (4xx), bounced
 * (5xx). The DSN covers the bounce; the deferred one is retried on the
 * postfix schedule and delivered later; nothing is lost. */
START_TEST(mixed_outcomes) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  mta_queue *q = mta_queue_new();
  uint32_t qid = add(q, "alice@a.example", 0, "bob@b.example", "carol@b.example", "dave@b.example");
  ck_assert(mta_queue_begin_attempt(q, qid, &p, 0));
  result(q, qid, 0, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 2 * S);
  result(q, qid, 1, MTA_RCPT_DEFERRED, 450, "4.2.1", "try later", 2 * S);
  result(q, qid, 2, MTA_RCPT_BOUNCED, 550, "5.1.1", "no such user", 2 * S);
  mta_queue_outcome o;
  mta_queue_end_attempt(q, qid, &p, 2 * S, &o);
  ck_assert_uint_eq(o.delivered, 1);
  ck_assert_uint_eq(o.deferred, 1);
  ck_assert_uint_eq(o.bounced, 1);
  ck_assert_int_eq(o.verdict, MTA_RETRY_DEFER);
  /* Stamped 302 s: more than 1 s after the 300 s scan, so the 600 s one. */
  ck_assert_int_eq(o.next, 600 * S);
  ck_assert(o.needs_dsn && !o.done);
  const mta_msg *m = mta_queue_get(q, qid);
  ck_assert_str_eq(mta_rcpt_state_name(m->rcpts[1].state), "deferred");
  ck_assert_int_eq(m->due, 600 * S); /* the deferred recipient is due again then */
  ck_assert_str_eq(mta_rcpt_text(&m->rcpts[1]), "try later");
  ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[2]), "5.1.1");
  ck_assert_uint_eq(mta_rcpt_code(&m->rcpts[2]), 550);

  /* The DSN: null sender, about qid. */
  const char *to[] = {"alice@a.example"};
  mta_queue_add_args da = {.sender = "",
                           .rcpts = to,
                           .nrcpts = 1,
                           .body_id = 77,
                           .size = 900,
                           .arrival = 2 * S,
                           .dsn_of = qid};
  uint32_t dsn = mta_queue_add(q, &da);
  mta_queue_dsn_queued(q, qid, dsn);
  ck_assert(!mta_queue_needs_dsn(q, qid));
  ck_assert_ptr_nonnull(mta_queue_get(q, qid)); /* bob's deferral keeps it */

  GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  ck_assert_uint_eq(mta_queue_due(q, 599 * S, due), 1); /* only the DSN */
  ck_assert_uint_eq(g_array_index(due, uint32_t, 0), dsn);
  g_array_set_size(due, 0);
  ck_assert_uint_eq(mta_queue_due(q, 600 * S, due), 2);
  g_array_free(due, TRUE);

  ck_assert(mta_queue_begin_attempt(q, qid, &p, 600 * S));
  result(q, qid, 1, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 601 * S);
  mta_queue_end_attempt(q, qid, &p, 601 * S, &o);
  ck_assert(o.done && !o.needs_dsn);
  ck_assert_ptr_null(mta_queue_get(q, qid));

  /* The DSN itself bounces: no DSN about a DSN. */
  ck_assert(mta_queue_begin_attempt(q, dsn, &p, 300 * S));
  result(q, dsn, 0, MTA_RCPT_BOUNCED, 550, "5.1.1", "gone", 301 * S);
  mta_queue_end_attempt(q, dsn, &p, 301 * S, &o);
  ck_assert(o.done && !o.needs_dsn);

  mta_queue_stats st;
  mta_queue_get_stats(q, &st);
  ck_assert_uint_eq(st.accepted, 2);
  ck_assert_uint_eq(st.dsns, 1);
  ck_assert_uint_eq(st.rcpt_delivered, 2);
  ck_assert_uint_eq(st.rcpt_deferred, 1);
  ck_assert_uint_eq(st.rcpt_bounced, 2);
  ck_assert_uint_eq(st.dsn_suppressed, 1);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.done, 2);
  ck_assert_uint_eq(st.attempts, 3);
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  size_t nv = mta_queue_check(q, NULL, 0, v);
  ck_assert_msg(nv == 0, "got %zu violations: %s", nv, nv ? (char *)v->pdata[0] : "");
  uint32_t acc[] = {1, 2, 3};
  ck_assert_uint_eq(mta_queue_check(q, acc, 3, v), 1);
  ck_assert_str_eq(v->pdata[0], "message 3: accepted, then lost");
  g_ptr_array_free(v, TRUE);
  mta_queue_free(q);
}
END_TEST

/* Retries until the lifetime: the deferred recipient bounces with its last
 * reason; a null-sender message bounces without a DSN. */
START_TEST(expiry) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  mta_queue *q = mta_queue_new();
  uint32_t a = add(q, "alice@a.example", 0, "bob@b.example", NULL, NULL);
  uint32_t b = add(q, "", 0, "carol@c.example", NULL, NULL);
  int64_t times[200], bounce;
  size_t n = mta_retry_schedule(&p, 0, false, times, 200, &bounce);
  mta_queue_outcome o = {0};
  for (size_t i = 0; i < n; i++) {
    GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    ck_assert_uint_eq(mta_queue_due(q, times[i], due), 2);
    ck_assert_int_eq(mta_queue_next_due(q), times[i]);
    for (guint k = 0; k < due->len; k++) {
      uint32_t id = g_array_index(due, uint32_t, k);
      ck_assert(mta_queue_begin_attempt(q, id, &p, times[i]));
      result(q, id, 0, MTA_RCPT_DEFERRED, 421, "4.4.2", "connection dropped", times[i]);
      mta_queue_end_attempt(q, id, &p, times[i], &o);
    }
    g_array_free(due, TRUE);
  }
  ck_assert_int_eq(o.verdict, MTA_RETRY_BOUNCE);
  ck_assert(mta_queue_needs_dsn(q, a));
  const mta_msg *m = mta_queue_get(q, a);
  ck_assert_uint_eq(m->attempts, n);
  ck_assert_str_eq(mta_rcpt_text(&m->rcpts[0]), "connection dropped");
  ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[0]), "4.4.2");
  ck_assert_ptr_null(mta_queue_get(q, b)); /* null sender: gone, no DSN */
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  ck_assert_uint_eq(mta_queue_check(q, NULL, 0, v), 0);
  g_ptr_array_free(v, TRUE);

  /* opensmtpd: the ttl passes with no attempt. */
  mta_retry_profile_init(&p, MTA_RETRY_OPENSMTPD);
  uint32_t c = add(q, "alice@a.example", 0, "eve@e.example", NULL, NULL);
  ck_assert(mta_queue_begin_attempt(q, c, &p, 336400 * S));
  result(q, c, 0, MTA_RCPT_DEFERRED, 451, "4.3.0", "later", 336400 * S);
  mta_queue_end_attempt(q, c, &p, 336400 * S, &o);
  ck_assert_int_eq(o.verdict, MTA_RETRY_EXPIRE);
  ck_assert_int_eq(mta_queue_next_due(q), 4 * MTA_DAY);
  GArray *ready = g_array_new(FALSE, FALSE, sizeof(mta_queue_ref));
  ck_assert_uint_eq(mta_queue_dest_ready(q, "e.example", 5 * MTA_DAY, true, ready), 0);
  g_array_free(ready, TRUE);
  /* One delay warning at 4 h (smtpd.conf "bounce warn-interval"). */
  ck_assert(!mta_queue_warning_due(q, c, &p, 4 * MTA_HOUR - 1));
  ck_assert(mta_queue_warning_due(q, c, &p, 4 * MTA_HOUR));
  mta_queue_warning_sent(q, c);
  ck_assert(!mta_queue_warning_due(q, c, &p, 3 * MTA_DAY));
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q, c, rec);
  mta_queue *q2 = mta_queue_new();
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode(q2, rec->data, rec->len, &err), c);
  ck_assert_uint_eq(mta_queue_get(q2, c)->warnings, 1);
  ck_assert_int_eq(mta_queue_get(q2, c)->due, 4 * MTA_DAY);
  ck_assert(mta_queue_get(q2, c)->expire_pending);
  mta_queue_free(q2);
  g_byte_array_free(rec, TRUE);
  ck_assert(!mta_queue_begin_attempt(q, c, &p, 4 * MTA_DAY));
  ck_assert(mta_queue_needs_dsn(q, c));
  ck_assert_uint_eq(mta_queue_get(q, c)->rcpts[0].state, MTA_RCPT_BOUNCED);
  mta_queue_free(q);
}
END_TEST

START_TEST(destinations) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  mta_queue *q = mta_queue_new();
  add(q, "a@x", 20 * S, "u1@B.example", "u2@c.example", NULL);
  add(q, "a@x", 10 * S, "u3@b.example", NULL, NULL);
  const char *rc[] = {"u4@d.example", "u5@b.example"};
  const char *ds[] = {"[smarthost.example]", NULL};
  mta_queue_add_args a = {
      .sender = "a@x", .rcpts = rc, .dests = ds, .nrcpts = 2, .arrival = 30 * S};
  mta_queue_add(q, &a);
  GPtrArray *names = g_ptr_array_new();
  ck_assert_uint_eq(mta_queue_dests(q, names), 3);
  ck_assert_str_eq(names->pdata[0], "[smarthost.example]");
  ck_assert_str_eq(names->pdata[1], "b.example");
  ck_assert_str_eq(names->pdata[2], "c.example");
  g_ptr_array_free(names, TRUE);

  GArray *r = g_array_new(FALSE, FALSE, sizeof(mta_queue_ref));
  ck_assert_uint_eq(mta_queue_dest_ready(q, "b.example", 25 * S, false, r), 2);
  mta_queue_ref want[] = {{2, 0}, {1, 0}, {3, 1}};
  for (guint i = 0; i < 2; i++)
    ck_assert(memcmp(&g_array_index(r, mta_queue_ref, i), &want[i], sizeof want[i]) == 0);
  g_array_set_size(r, 0);
  ck_assert_uint_eq(mta_queue_dest_ready(q, "B.EXAMPLE", 0, true, r), 3);
  for (guint i = 0; i < 3; i++)
    ck_assert(memcmp(&g_array_index(r, mta_queue_ref, i), &want[i], sizeof want[i]) == 0);
  /* In flight: not offered twice. */
  ck_assert(mta_queue_begin_attempt(q, 2, &p, 25 * S));
  mta_queue_take(q, 2, 0);
  g_array_set_size(r, 0);
  ck_assert_uint_eq(mta_queue_dest_ready(q, "b.example", 25 * S, false, r), 1);
  ck_assert_uint_eq(g_array_index(r, mta_queue_ref, 0).qid, 1);
  g_array_set_size(r, 0);
  ck_assert_uint_eq(mta_queue_dest_ready(q, "nowhere.example", 25 * S, true, r), 0);
  g_array_free(r, TRUE);
  mta_queue_free(q);
}
END_TEST

/* ---- one real SMTP transaction (smtp_cli against scripted replies) ---- */

static const char *const tx_replies[] = {
    "220 mx.b.example ESMTP\r\n",
    "250-mx.b.example\r\n250 ENHANCEDSTATUSCODES\r\n",
    "250 2.1.0 Ok\r\n",
    "250 2.1.5 Ok\r\n",
    "450 4.2.1 <carol@b.example>: Recipient address rejected: try again later\r\n",
    "550 5.1.1 <dave@b.example>: Recipient address rejected: User unknown\r\n",
    "354 End data with <CR><LF>.<CR><LF>\r\n",
    "250 2.0.0 Ok: queued as 7F3\r\n",
    "221 2.0.0 Bye\r\n",
};

static void feed(smtp_cli *cli, const char *r, bool bytewise, int64_t now) {
  size_t n = strlen(r);
  if (!bytewise)
    smtp_cli_feed(cli, r, n, now);
  else
    for (size_t i = 0; i < n; i++)
      smtp_cli_feed(cli, r + i, 1, now);
}

/* Runs the transaction for QID's three recipients; applies RESULT to Q. */
static void smtp_transaction(mta_queue *q, uint32_t qid, bool bytewise, int64_t now) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.tls = SMTP_CLI_TLS_NEVER;
  cfg.helo_name = "mail.a.example";
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, now);
  const mta_msg *m = mta_queue_get(q, qid);
  smtp_cmd_mail mail = {.from = (char *)mta_queue_msg_sender(m)};
  smtp_cmd_rcpt rc[3];
  for (uint32_t i = 0; i < 3; i++)
    rc[i] = (smtp_cmd_rcpt){.to = (char *)m->rcpts[i].addr};
  gsize blen;
  const uint8_t *body = g_bytes_get_data(mta_queue_body(q, qid), &blen);
  smtp_cli_message sm = {&mail, rc, 3, body, blen, qid};
  smtp_cli_send(cli, &sm, now);
  for (uint32_t i = 0; i < 3; i++)
    mta_queue_take(q, qid, i);
  GString *in = g_string_new(NULL);
  size_t ri = 0;
  bool data = false, closed = false, got_result = false;
  feed(cli, tx_replies[ri++], bytewise, now);
  for (int round = 0; round < 50 && !closed; round++) {
    size_t n;
    const uint8_t *out = smtp_cli_output_peek(cli, &n);
    g_string_append_len(in, (const char *)out, (gssize)n);
    smtp_cli_output_consume(cli, n, now);
    for (;;) {
      const char *end = data ? strstr(in->str, "\r\n.\r\n") : strstr(in->str, "\r\n");
      if (!end)
        break;
      size_t used = (size_t)(end - in->str) + (data ? 5 : 2);
      bool is_data = !data && g_str_has_prefix(in->str, "DATA");
      g_string_erase(in, 0, (gssize)used);
      ck_assert_uint_lt(ri, G_N_ELEMENTS(tx_replies));
      data = is_data;
      feed(cli, tx_replies[ri++], bytewise, now);
    }
    smtp_cli_event ev;
    while (smtp_cli_next_event(cli, &ev)) {
      if (ev.type == SMTP_CLI_EV_RESULT) {
        ck_assert_uint_eq(ev.cookie, qid);
        ck_assert_uint_eq(ev.nrcpts, 3);
        for (size_t i = 0; i < ev.nrcpts; i++) {
          mta_queue_result_args a;
          mta_queue_result_from_smtp(&ev.rcpts[i], "mx.b.example", &a);
          mta_queue_result(q, qid, (uint32_t)i, &a, now);
        }
        got_result = true;
      } else if (ev.type == SMTP_CLI_EV_CLOSE) {
        closed = true;
      }
    }
  }
  ck_assert_msg(got_result && closed, "result %d closed %d replies %zu state %s in [%s]",
                got_result, closed, ri, smtp_cli_state_name(cli), in->str);
  ck_assert_uint_eq(ri, G_N_ELEMENTS(tx_replies));
  g_string_free(in, TRUE);
  smtp_cli_free(cli);
}

/* Delivered, deferred and bounced from one transaction; the bounce becomes
 * a DSN built from the queue's record; the same whether the replies come
 * whole or byte by byte. */
START_TEST(smtp_mixed_transaction) {
  GBytes *enc[2];
  for (int bytewise = 0; bytewise < 2; bytewise++) {
    mta_retry_profile p;
    mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
    mta_queue *q = mta_queue_new();
    uint32_t qid =
        add(q, "alice@a.example", 0, "bob@b.example", "carol@b.example", "dave@b.example");
    ck_assert(mta_queue_begin_attempt(q, qid, &p, 1 * S));
    smtp_transaction(q, qid, bytewise, 1 * S);
    mta_queue_outcome o;
    mta_queue_end_attempt(q, qid, &p, 1 * S, &o);
    ck_assert_uint_eq(o.delivered, 1);
    ck_assert_uint_eq(o.deferred, 1);
    ck_assert_uint_eq(o.bounced, 1);
    ck_assert(o.needs_dsn);
    const mta_msg *m = mta_queue_get(q, qid);
    ck_assert_uint_eq(mta_rcpt_code(&m->rcpts[1]), 450);
    ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[1]), "4.2.1");
    ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[2]), "5.1.1");
    ck_assert_str_eq(mta_rcpt_remote_mta(&m->rcpts[2]), "mx.b.example");
    ck_assert_str_eq(mta_rcpt_text(&m->rcpts[0]), "Ok: queued as 7F3");

    /* The DSN from the queue's view of the bounced recipients. */
    mta_dsn_rcpt dr[3];
    size_t nd = 0;
    for (uint32_t i = 0; i < m->nrcpts; i++) {
      const mta_rcpt *r = &m->rcpts[i];
      if (r->state != MTA_RCPT_BOUNCED)
        continue;
      dr[nd++] = (mta_dsn_rcpt){r->addr,         NULL,           MTA_DSN_FAILED,
                                mta_rcpt_esc(r), mta_rcpt_remote_mta(r), mta_rcpt_code(r),
                                mta_rcpt_text(r), r->last_try,   -1};
    }
    gsize blen;
    const uint8_t *body = g_bytes_get_data(mta_queue_body(q, qid), &blen);
    mta_dsn_config dc = {.reporting_mta = "mail.a.example",
                         .from = "MAILER-DAEMON@a.example",
                         .to = mta_queue_msg_sender(m),
                         .message_id = "dsn1@mail.a.example",
                         .date = 1 * S,
                         .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
                         .arrival = m->arrival,
                         .rcpts = dr,
                         .nrcpts = nd,
                         .original = body,
                         .original_len = blen};
    char *err = NULL;
    GBytes *dsn = mta_dsn_build(&dc, &err);
    ck_assert_msg(dsn != NULL, "%s", err);
    ck_assert(
        strstr(g_bytes_get_data(dsn, NULL), "Diagnostic-Code: smtp; 550 5.1.1 <dave@b.example>"));
    const char *to[] = {mta_queue_msg_sender(m)};
    mta_queue_add_args da = {
        .sender = "", .rcpts = to, .nrcpts = 1, .body = dsn, .arrival = 1 * S, .dsn_of = qid};
    uint32_t dq = mta_queue_add(q, &da);
    mta_queue_dsn_queued(q, qid, dq);
    g_bytes_unref(dsn);
    ck_assert_uint_eq(mta_queue_check(q, NULL, 0, NULL), 0);
    enc[bytewise] = mta_queue_encode(q);
    mta_queue_free(q);
  }
  ck_assert(g_bytes_equal(enc[0], enc[1]));
  g_bytes_unref(enc[0]);
  g_bytes_unref(enc[1]);
}
END_TEST

/* The retry-bounce journey with every module: a destination whose only MX
 * refuses connections; the message is retried on the postfix schedule,
 * expires after 5 days, a DSN (null sender) goes back to the local sender
 * and is delivered; nothing is lost. */
START_TEST(retry_bounce_journey) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  static const mta_route_local locals[] = {{"a.example", "mbox.a.example", 0}};
  mta_route_config rc;
  mta_route_config_init(&rc);
  rc.locals = locals;
  rc.nlocals = 1;
  mta_route *rt = mta_route_new(&rc);
  static const char *const mx_addr[] = {"192.0.2.25"};
  static const mta_route_mx mx[] = {{10, "mx.dead.example", MTA_DNS_OK, mx_addr, 1}};
  mta_queue *q = mta_queue_new();
  uint32_t qid = add(q, "alice@a.example", 0, "bob@dead.example", NULL, NULL);
  unsigned attempts = 0;
  uint32_t dsn = 0;
  for (int64_t now = mta_queue_next_due(q); now != INT64_MAX; now = mta_queue_next_due(q)) {
    GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    mta_queue_due(q, now, due);
    for (guint k = 0; k < due->len; k++) {
      uint32_t id = g_array_index(due, uint32_t, k);
      ck_assert(mta_queue_begin_attempt(q, id, &p, now));
      const mta_msg *m = mta_queue_get(q, id);
      mta_route_plan plan;
      mta_route_plan_for(rt, strchr(m->rcpts[0].addr, '@') + 1, &plan);
      mta_route_answer ans = {.mx_status = MTA_DNS_OK, .mx = mx, .nmx = 1};
      mta_route_decision d;
      mta_route_decide(rt, &plan, &ans, NULL, NULL, &d);
      mta_queue_take(q, id, 0);
      mta_queue_result_args r;
      if (plan.kind == MTA_ROUTE_LOCAL) { /* the DSN comes home */
        ck_assert_uint_eq(id, dsn);
        r = (mta_queue_result_args){MTA_RCPT_DELIVERED, 250, "2.0.0", "stored", plan.host};
      } else {
        attempts++;
        ck_assert_ptr_nonnull(mta_route_next(&d));
        mta_route_failed(&d, 0, NULL, "Connection refused");
        ck_assert_ptr_null(mta_route_next(&d));
        r = (mta_queue_result_args){MTA_RCPT_DEFERRED, d.code, d.esc, d.text, NULL};
      }
      mta_queue_result(q, id, 0, &r, now);
      mta_route_decision_clear(&d);
      mta_route_plan_clear(&plan);
      mta_queue_outcome o;
      mta_queue_end_attempt(q, id, &p, now, &o);
      if (o.needs_dsn) {
        ck_assert_int_eq(o.verdict, MTA_RETRY_BOUNCE);
        m = mta_queue_get(q, id);
        mta_dsn_rcpt dr = {
            m->rcpts[0].addr,     NULL, MTA_DSN_FAILED, mta_rcpt_esc(&m->rcpts[0]), NULL, 0, mta_rcpt_text(&m->rcpts[0]),
            m->rcpts[0].last_try, -1};
        mta_dsn_config dc = {.reporting_mta = "mail.a.example",
                             .from = "MAILER-DAEMON@a.example",
                             .to = mta_queue_msg_sender(m),
                             .message_id = "dsn@mail.a.example",
                             .date = now,
                             .epoch_unix = MIME_DATE_EPOCH_DEFAULT,
                             .arrival = m->arrival,
                             .rcpts = &dr,
                             .nrcpts = 1,
                             .original = g_bytes_get_data(mta_queue_body(q, id), NULL),
                             .original_len = g_bytes_get_size(mta_queue_body(q, id))};
        char *err = NULL;
        GBytes *body = mta_dsn_build(&dc, &err);
        ck_assert_msg(body != NULL, "%s", err);
        const char *text = g_bytes_get_data(body, NULL);
        ck_assert(strstr(text, "<bob@dead.example>: failed; 4.4.1: mx.dead.example[192.0.2.25]:"));
        ck_assert(strstr(text, "Action: failed\r\nStatus: 4.4.1\r\n"));
        const char *to[] = {mta_queue_msg_sender(m)};
        mta_queue_add_args da = {
            .sender = "", .rcpts = to, .nrcpts = 1, .body = body, .arrival = now, .dsn_of = id};
        dsn = mta_queue_add(q, &da);
        mta_queue_dsn_queued(q, id, dsn);
        g_bytes_unref(body);
      }
    }
    g_array_free(due, TRUE);
  }
  ck_assert_uint_eq(attempts, 108); /* the postfix table of test_mta_retry */
  ck_assert_uint_eq(dsn, 2);
  mta_queue_stats st;
  mta_queue_get_stats(q, &st);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.rcpt_bounced, 1);
  ck_assert_uint_eq(st.rcpt_delivered, 1);
  ck_assert_uint_eq(st.rcpt_deferred, 108); /* the last deferral, then the expiry */
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  uint32_t accepted[] = {qid};
  ck_assert_uint_eq(mta_queue_check(q, accepted, 1, v), 0);
  ck_assert_uint_eq(mta_queue_check(q, NULL, 0, v), 0);
  g_ptr_array_free(v, TRUE);
  mta_queue_free(q);
  mta_route_free(rt);
}
END_TEST

static mta_queue *sample_queue(void) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_EXIM);
  mta_queue *q = mta_queue_new();
  uint32_t a = add(q, "alice@a.example", 0, "bob@b.example", "carol@c.example", NULL);
  add(q, "", 5 * S, "dan@d.example", NULL, NULL);
  uint32_t c = add(q, "x@a.example", 7 * S, "e@e.example", "f@f.example", "g@e.example");
  mta_queue_outcome o;
  ck_assert(mta_queue_begin_attempt(q, a, &p, 1 * S));
  result(q, a, 0, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 2 * S);
  result(q, a, 1, MTA_RCPT_DEFERRED, 451, "4.7.1", "greylisted", 2 * S);
  mta_queue_end_attempt(q, a, &p, 2 * S, &o);
  ck_assert(mta_queue_begin_attempt(q, c, &p, 8 * S));
  result(q, c, 1, MTA_RCPT_BOUNCED, 550, "5.7.1", "refused", 9 * S);
  mta_queue_end_attempt(q, c, &p, 9 * S, &o);
  ck_assert(mta_queue_begin_attempt(q, c, &p, 1000 * S)); /* caught in an attempt */
  mta_queue_take(q, c, 0);
  return q;
}

START_TEST(withdraw) {
  /* A message whose record could not be stored is taken back: out of
   * every index and statistic, never issued again, not "lost". */
  mta_queue *q = mta_queue_new();
  uint32_t a = add(q, "alice@a.example", 0, "bob@b.example", NULL, NULL);
  uint32_t b = add(q, "alice@a.example", 0, "bob@b.example", "carol@c.example", NULL);
  mta_queue_withdraw(q, b);
  ck_assert_ptr_null(mta_queue_get(q, b));
  mta_queue_stats st;
  mta_queue_get_stats(q, &st);
  ck_assert_uint_eq(st.accepted, 1);
  ck_assert_uint_eq(st.queued, 1);
  ck_assert_uint_eq(st.queued_rcpts, 1);
  GPtrArray *names = g_ptr_array_new();
  ck_assert_uint_eq(mta_queue_dests(q, names), 1); /* c.example went with it */
  g_ptr_array_free(names, TRUE);
  GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  ck_assert_uint_eq(mta_queue_due(q, 0, due), 1);
  ck_assert_uint_eq(g_array_index(due, uint32_t, 0), a);
  g_array_free(due, TRUE);
  uint32_t c = add(q, "alice@a.example", 0, "dave@d.example", NULL, NULL);
  ck_assert_uint_gt(c, b);
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  ck_assert_uint_eq(mta_queue_check(q, NULL, 0, v), 0);
  g_ptr_array_free(v, TRUE);
  mta_queue_free(q);
}
END_TEST

START_TEST(encode_round_trip) {
  mta_queue *q = sample_queue();
  GBytes *blob = mta_queue_encode(q);
  gsize len;
  const uint8_t *d = g_bytes_get_data(blob, &len);
  char *err = NULL;
  mta_queue *r = mta_queue_decode(d, len, &err);
  ck_assert_msg(r != NULL, "decode: %s", err);
  /* Equal except that the message caught in an attempt is due at once. */
  const mta_msg *m1 = mta_queue_get(q, 1), *m2 = mta_queue_get(r, 1);
  ck_assert_int_eq(m1->due, m2->due);
  ck_assert_int_eq(mta_queue_msg_retry(m1)->next_try, mta_queue_msg_retry(m2)->next_try);
  ck_assert_str_eq(mta_rcpt_text(&m2->rcpts[1]), "greylisted");
  ck_assert_str_eq(mta_rcpt_remote_mta(&m2->rcpts[1]), "mx.b.example");
  ck_assert_str_eq(mta_rcpt_esc(&m2->rcpts[1]), "4.7.1");
  ck_assert_uint_eq(m2->rcpts[0].state, MTA_RCPT_DELIVERED);
  ck_assert(g_bytes_equal(mta_queue_body(q, 1), mta_queue_body(r, 1)));
  const mta_msg *c2 = mta_queue_get(r, 3);
  ck_assert(!c2->in_attempt && !(c2->rcpts[0].flags & MTA_RCPT_F_INFLIGHT));
  ck_assert_int_eq(c2->due, 7 * S);
  ck_assert(mta_queue_needs_dsn(r, 3));
  GArray *due = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  mta_queue_due(r, 2000 * S, due);
  ck_assert_uint_eq(due->len, 3);
  ck_assert_uint_eq(g_array_index(due, uint32_t, 0), 2);
  ck_assert_uint_eq(g_array_index(due, uint32_t, 1), 3);
  ck_assert_uint_eq(g_array_index(due, uint32_t, 2), 1);
  g_array_free(due, TRUE);
  mta_queue_stats s1, s2;
  mta_queue_get_stats(q, &s1);
  mta_queue_get_stats(r, &s2);
  ck_assert(memcmp(&s1, &s2, sizeof s1) == 0);
  /* Ids continue after a restart. */
  ck_assert_uint_eq(add(r, "a@x", 0, "z@z.example", NULL, NULL), 4);

  /* Encoding the restored queue again is stable. */
  mta_queue *r1 = mta_queue_decode(d, len, &err);
  GBytes *b2 = mta_queue_encode(r1);
  mta_queue *r2 = mta_queue_decode(g_bytes_get_data(b2, NULL), g_bytes_get_size(b2), &err);
  GBytes *b3 = mta_queue_encode(r2);
  ck_assert(g_bytes_equal(b2, b3));

  /* Per-message records into an empty queue (the crash path). */
  mta_queue *e = mta_queue_new();
  for (uint32_t id = 1; id <= 3; id++) {
    GByteArray *rec = g_byte_array_new();
    mta_queue_msg_encode(q, id, rec);
    ck_assert_uint_eq(mta_queue_msg_decode(e, rec->data, rec->len, &err), id);
    ck_assert_uint_eq(mta_queue_msg_decode(e, rec->data, rec->len, &err), 0);
    ck_assert(strstr(err, "already queued"));
    g_free(err);
    err = NULL;
    g_byte_array_free(rec, TRUE);
  }
  ck_assert_uint_eq(add(e, "a@x", 0, "z@z.example", NULL, NULL), 4);

  mta_queue_free(e);
  mta_queue_free(r1);
  mta_queue_free(r2);
  g_bytes_unref(b2);
  g_bytes_unref(b3);
  mta_queue_free(r);
  g_bytes_unref(blob);
  mta_queue_free(q);
}
END_TEST

/* MQM3 writes times as differences: every time of a record comes back
 * as it was, whatever its sign or size (Exim's retry memory set, a
 * recipient never tried: last_try -1, one tried, a message whose due time
 * is none: INT64_MAX). */
START_TEST(record_times_round_trip) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_EXIM);
  mta_queue *q = mta_queue_new();
  uint32_t id = add(q, "s@a.example", 123456789, "r1@b.example", "r2@c.example", NULL);
  ck_assert(mta_queue_begin_attempt(q, id, &p, 400 * S + 7));
  result(q, id, 0, MTA_RCPT_BOUNCED, 550, "5.1.1", "no such user", 401 * S + 3);
  mta_queue_outcome o;
  mta_queue_end_attempt(q, id, &p, 402 * S, &o); /* r2 never taken: deferred, last_try -1 */
  ck_assert(o.needs_dsn);
  const mta_msg *m = mta_queue_get(q, id);
  ck_assert(mta_queue_msg_retry(m)->last_try != 0 && mta_queue_msg_retry(m)->next_try > mta_queue_msg_retry(m)->last_try);
  ck_assert_int_eq(m->rcpts[1].last_try, -1);
  const int64_t cases[] = {m->due, INT64_MAX, INT64_MIN + 1, 0};
  for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
    mta_msg *w = (mta_msg *)mta_queue_get(q, id); /* a test's liberty: the due time only */
    int64_t keep = w->due;
    w->due = cases[k];
    GByteArray *rec = g_byte_array_new();
    mta_queue_msg_encode(q, id, rec);
    w->due = keep;
    mta_queue *e = mta_queue_new();
    char *err = NULL;
    ck_assert_uint_eq(mta_queue_msg_decode(e, rec->data, rec->len, &err), id);
    const mta_msg *d = mta_queue_get(e, id);
    ck_assert_int_eq(d->arrival, 123456789);
    ck_assert_int_eq(d->due, cases[k]);
    ck_assert_int_eq(mta_queue_msg_retry(d)->last_try, mta_queue_msg_retry(m)->last_try);
    ck_assert_int_eq(mta_queue_msg_retry(d)->next_try, mta_queue_msg_retry(m)->next_try);
    ck_assert_int_eq(d->rcpts[0].last_try, 401 * S + 3);
    ck_assert_int_eq(d->rcpts[1].last_try, -1);
    mta_queue_free(e);
    g_byte_array_free(rec, TRUE);
  }
  mta_queue_free(q);
}
END_TEST

/* A message added borrowing its envelope holds none of it: it reads the
 * caller's strings until rebased, then its record's, wherever the record
 * moves (rebased again after each copy); the record it writes is the one
 * an owning queue writes, and a record decoded borrowing reads from it. */
START_TEST(borrowed_envelope) {
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  /* The sender, then the first address after its NUL (a record's layout:
   * the queue finds the sender from there). */
  static const char env[] = "s@a.example\0r1@b.example";
  char *sender = g_memdup2(env, sizeof env), *r1 = sender + strlen(env) + 1,
       *r2 = g_strdup("R2@c.example");
  const char *rc[] = {r1, r2};
  mta_queue_add_args a = {.sender = sender, .rcpts = rc, .nrcpts = 2, .arrival = 5 * S,
                          .tag = "id@a.example", .borrow = true};
  mta_queue_add_args own = a;
  own.borrow = false;
  mta_queue *q = mta_queue_new(), *o = mta_queue_new();
  uint32_t id = mta_queue_add(q, &a);
  ck_assert_uint_eq(mta_queue_add(o, &own), id);
  const mta_msg *m = mta_queue_get(q, id);
  ck_assert_ptr_eq(mta_queue_msg_sender(m), sender); /* the caller's, until rebased */
  ck_assert_ptr_eq(m->rcpts[1].addr, r2);
  ck_assert_str_eq(mta_queue_rcpt_dest(q, &m->rcpts[1]), "c.example");
  ck_assert_str_eq(mta_queue_msg_tag(m), "id@a.example");
  ck_assert_uint_lt(mta_queue_memory(q), mta_queue_memory(o));
  { /* the first address elsewhere: the borrow is not honoured, copies made */
    char *apart = g_strdup("r1@b.example");
    const char *rc2[] = {apart, r2};
    mta_queue_add_args b = a;
    b.rcpts = rc2;
    mta_queue *c = mta_queue_new();
    const mta_msg *cm = mta_queue_get(c, mta_queue_add(c, &b));
    g_free(apart);
    ck_assert_ptr_ne(cm->rcpts[0].addr, rc2[0]);
    ck_assert_str_eq(cm->rcpts[0].addr, "r1@b.example");
    ck_assert_str_eq(mta_queue_msg_sender(cm), "s@a.example");
    ck_assert_str_eq(mta_queue_msg_tag(cm), "id@a.example");
    ck_assert_uint_eq(mta_queue_memory(c), mta_queue_memory(o));
    mta_queue_free(c);
  }
  GByteArray *rec = g_byte_array_new(), *orec = g_byte_array_new();
  mta_queue_msg_encode(q, id, rec);
  mta_queue_msg_encode(o, id, orec);
  ck_assert(rec->len == orec->len && memcmp(rec->data, orec->data, rec->len) == 0);
  uint8_t *copy = g_memdup2(rec->data, rec->len);
  mta_queue_msg_rebase(q, id, copy, rec->len);
  memset(sender, 'x', strlen(sender)); /* the caller's strings are no longer read */
  memset(r1, 'x', strlen(r1));
  memset(r2, 'x', strlen(r2));
  g_free(sender); /* r1 with it */
  g_free(r2);
  ck_assert(mta_queue_msg_sender(m) >= (const char *)copy &&
            mta_queue_msg_sender(m) < (const char *)copy + rec->len);
  ck_assert_str_eq(mta_queue_msg_sender(m), "s@a.example");
  ck_assert_str_eq(m->rcpts[1].addr, "R2@c.example");
  /* An attempt, the record written again and moved: rebased, still the same. */
  ck_assert(mta_queue_begin_attempt(q, id, &p, 6 * S));
  result(q, id, 0, MTA_RCPT_DEFERRED, 451, "4.4.1", "connection refused", 7 * S);
  result(q, id, 1, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 7 * S);
  mta_queue_outcome out;
  mta_queue_end_attempt(q, id, &p, 7 * S, &out);
  g_byte_array_set_size(rec, 0);
  mta_queue_msg_encode(q, id, rec);
  uint8_t *moved = g_memdup2(rec->data, rec->len);
  mta_queue_msg_rebase(q, id, moved, rec->len);
  g_free(copy); /* the old record is gone (ASan: never read again) */
  ck_assert_str_eq(mta_queue_msg_sender(m), "s@a.example");
  ck_assert_str_eq(m->rcpts[0].addr, "r1@b.example");
  ck_assert_str_eq(mta_queue_msg_tag(m), "id@a.example");
  /* Rebased on a record other than the one just encoded: read from it. */
  uint32_t other = add(q, "t@a.example", 8 * S, "z@z.example", NULL, NULL);
  GByteArray *orec2 = g_byte_array_new();
  mta_queue_msg_encode(q, other, orec2);
  uint8_t *again_at = g_memdup2(moved, rec->len);
  mta_queue_msg_rebase(q, id, again_at, rec->len);
  g_free(moved);
  moved = again_at;
  ck_assert(m->rcpts[1].addr > (const char *)moved &&
            m->rcpts[1].addr < (const char *)moved + rec->len);
  ck_assert_str_eq(m->rcpts[1].addr, "R2@c.example");
  ck_assert_str_eq(mta_queue_msg_sender(m), "s@a.example");
  g_byte_array_free(orec2, TRUE);
  /* After a crash: decoded borrowing from the stored record. */
  mta_queue *e = mta_queue_new();
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode_borrowed(e, moved, rec->len, "id@a.example", &err), id);
  const mta_msg *d = mta_queue_get(e, id);
  ck_assert(d->rcpts[1].addr > (const char *)moved &&
            d->rcpts[1].addr < (const char *)moved + rec->len);
  ck_assert_str_eq(d->rcpts[1].addr, "R2@c.example");
  ck_assert_str_eq(mta_queue_msg_sender(d), "s@a.example");
  ck_assert_str_eq(mta_queue_msg_tag(d), "id@a.example");
  ck_assert_int_eq(d->rcpts[0].state, MTA_RCPT_DEFERRED);
  GByteArray *again = g_byte_array_new();
  mta_queue_msg_encode(e, id, again);
  ck_assert(again->len == rec->len && memcmp(again->data, rec->data, rec->len) == 0);
  g_byte_array_free(again, TRUE);
  mta_queue_free(e);
  mta_queue_free(q);
  g_free(moved);
  g_byte_array_free(rec, TRUE);
  g_byte_array_free(orec, TRUE);
  mta_queue_free(o);
}
END_TEST

/* Every truncation and every single-byte corruption: an error or a queue,
 * never a crash (the disk is outside input). */
START_TEST(encode_damage) {
  mta_queue *q = sample_queue();
  GBytes *blob = mta_queue_encode(q);
  gsize len;
  const uint8_t *d = g_bytes_get_data(blob, &len);
  for (gsize cut = 0; cut < len; cut++) {
    char *err = NULL;
    mta_queue *r = mta_queue_decode(d, cut, &err);
    ck_assert_msg(r == NULL && err != NULL, "cut %zu accepted", cut);
    g_free(err);
  }
  uint8_t *copy = g_memdup2(d, len);
  size_t accepted = 0;
  for (gsize i = 0; i < len; i++) {
    for (int flip = 0; flip < 3; flip++) {
      uint8_t save = copy[i];
      copy[i] = flip == 0 ? 0xff : flip == 1 ? 0x00 : (uint8_t)(save ^ 0x80);
      char *err = NULL;
      mta_queue *r = mta_queue_decode(copy, len, &err);
      if (r) {
        accepted++;
        mta_queue_check(r, NULL, 0, NULL);
        GBytes *again = mta_queue_encode(r);
        g_bytes_unref(again);
      }
      mta_queue_free(r);
      g_free(err);
      copy[i] = save;
    }
  }
  ck_assert_uint_gt(accepted, 0); /* e.g. a changed time is still a queue */
  g_free(copy);

  /* A ledger entry that bounced without a DSN is reported: find the
   * sample's finished message by building one. */
  mta_queue *q2 = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  uint32_t id = add(q2, "s@a.example", 0, "r@b.example", NULL, NULL);
  mta_queue_outcome o;
  mta_queue_begin_attempt(q2, id, &p, 0);
  result(q2, id, 0, MTA_RCPT_BOUNCED, 550, "5.1.1", "no", 1);
  mta_queue_end_attempt(q2, id, &p, 1, &o);
  const char *to[] = {"s@a.example"};
  mta_queue_add_args da = {.sender = "", .rcpts = to, .nrcpts = 1, .arrival = 1, .dsn_of = id};
  mta_queue_dsn_queued(q2, id, mta_queue_add(q2, &da));
  GBytes *b = mta_queue_encode(q2);
  uint8_t *bad = g_memdup2(g_bytes_get_data(b, NULL), g_bytes_get_size(b));
  /* magic 4, counter 4, 12 statistics × 8, ledger count 4; dsn_qid at +12. */
  size_t off = 4 + 4 + 12 * 8 + 4 + 12;
  ck_assert_uint_eq(bad[off], 2);
  bad[off] = 0;
  char *err = NULL;
  mta_queue *r = mta_queue_decode(bad, g_bytes_get_size(b), &err);
  ck_assert_ptr_nonnull(r);
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  ck_assert_uint_eq(mta_queue_check(r, NULL, 0, v), 1);
  ck_assert_str_eq(v->pdata[0], "message 1: 1 recipient(s) bounced without a DSN");
  g_ptr_array_free(v, TRUE);
  mta_queue_free(r);
  g_free(bad);
  g_bytes_unref(b);
  mta_queue_free(q2);
  g_bytes_unref(blob);
  mta_queue_free(q);
}
END_TEST

/* Memory per queued message beyond its body: the queue's own estimate and
 * (with glibc, outside sanitizers) the allocator's figure, both < 1 KiB for
 * a typical message (one or two recipients, a deferral reason). */
START_TEST(memory_per_message) {
  enum { N = 20000 };
#ifdef __GLIBC__
  struct mallinfo2 before = mallinfo2();
#endif
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  for (unsigned i = 0; i < N; i++) {
    char from[64], r1[64], r2[64];
    snprintf(from, sizeof from, "user%u@sender%u.example", i % 1000, i % 100);
    snprintf(r1, sizeof r1, "user%u@domain%u.example", (i * 7) % 1000, i % 100);
    snprintf(r2, sizeof r2, "user%u@domain%u.example", (i * 13) % 1000, (i + 1) % 100);
    const char *rc[] = {r1, r2};
    mta_queue_add_args a = {.sender = from,
                            .rcpts = rc,
                            .nrcpts = 1 + i % 2,
                            .body_id = i,
                            .size = 4000,
                            .arrival = i * S};
    uint32_t qid = mta_queue_add(q, &a);
    if (i % 2) { /* half were tried once and deferred */
      mta_queue_begin_attempt(q, qid, &p, i * S);
      mta_queue_take(q, qid, 0);
      mta_queue_result_args r = {MTA_RCPT_DEFERRED, 451, "4.7.1",
                                 "Greylisted, see https://postgrey.example/help",
                                 "mx1.domain.example"};
      mta_queue_result(q, qid, 0, &r, i * S);
      mta_queue_outcome o;
      mta_queue_end_attempt(q, qid, &p, i * S, &o);
    }
  }
  size_t est = mta_queue_memory(q) / N;
#ifdef __GLIBC__
  struct mallinfo2 after = mallinfo2();
  size_t real = after.uordblks > before.uordblks ? (after.uordblks - before.uordblks) / N : 0;
#else
  size_t real = 0;
#endif
  fprintf(stderr, "mta_queue memory per message: estimate %zu B, allocator %zu B (1.5 rcpts avg)\n",
          est, real);
  ck_assert_uint_lt(est, 1024);
  ck_assert_uint_gt(est, 100);
  if (real > 0) /* 0 under sanitizers, which replace malloc */
    ck_assert_uint_lt(real, 1024);
  mta_queue_free(q);
}
END_TEST

/* Recipients' reply texts are held once per distinct text, and a record
 * leaves out what repeats (the address's domain, the previous recipient's
 * text and remote MTA), yet decodes to the same message. */
START_TEST(shared_texts_compact_record) {
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  uint32_t a = add(q, "s@a.example", 0, "r1@b.example", "r2@b.example", NULL);
  uint32_t b = add(q, "s@a.example", 0, "r3@b.example", NULL, NULL);
  mta_queue_outcome o;
  for (uint32_t id = a; id <= b; id++) {
    ck_assert(mta_queue_begin_attempt(q, id, &p, 1 * S));
    for (uint32_t i = 0; i < mta_queue_get(q, id)->nrcpts; i++)
      result(q, id, i, MTA_RCPT_DEFERRED, 451, "4.4.1", "connection refused", 1 * S);
    mta_queue_end_attempt(q, id, &p, 1 * S, &o);
  }
  const mta_msg *ma = mta_queue_get(q, a), *mb = mta_queue_get(q, b);
  ck_assert_str_eq(mta_rcpt_text(&ma->rcpts[0]), "connection refused");
  ck_assert_ptr_eq(mta_rcpt_text(&ma->rcpts[0]), mta_rcpt_text(&ma->rcpts[1]));
  ck_assert_ptr_eq(mta_rcpt_text(&ma->rcpts[0]), mta_rcpt_text(&mb->rcpts[0]));
  ck_assert_ptr_eq(mta_rcpt_remote_mta(&ma->rcpts[0]), mta_rcpt_remote_mta(&mb->rcpts[0]));
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q, a, rec);
  /* 155 octets: magic, header, 2 x (flags, address, times, code, state,
   * esc, attempts), the text and remote MTA once, body 18 + 1 (the
   * fixed-width format of MQM1 took 311). */
  ck_assert_msg(rec->len < 160, "got %u octets, want < 160", rec->len);
  mta_queue *q2 = mta_queue_new();
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode(q2, rec->data, rec->len, &err), a);
  const mta_msg *m2 = mta_queue_get(q2, a);
  for (uint32_t i = 0; i < 2; i++) {
    ck_assert_str_eq(mta_queue_rcpt_dest(q2, &m2->rcpts[i]), "b.example");
    ck_assert_str_eq(mta_rcpt_text(&m2->rcpts[i]), "connection refused");
    ck_assert_str_eq(mta_rcpt_remote_mta(&m2->rcpts[i]), "mx.b.example");
    ck_assert_int_eq(m2->rcpts[i].last_try, 1 * S);
  }
  GByteArray *rec2 = g_byte_array_new();
  mta_queue_msg_encode(q2, a, rec2);
  ck_assert_uint_eq(rec2->len, rec->len);
  ck_assert(memcmp(rec2->data, rec->data, rec->len) == 0);
  g_byte_array_free(rec2, TRUE);
  g_byte_array_free(rec, TRUE);
  mta_queue_free(q2);
  mta_queue_free(q);
}
END_TEST

/* The record's bytes are fixed (MQM3): a message with a shared deferral
 * text, a bounce, an override next hop and a body. Against MQM2: no
 * per-recipient next_try (the message's due time is it), times as
 * differences (due from arrival, a recipient's last try from the previous
 * recipient's), the retry memory only when set (flag 8), the sender and
 * the addresses NUL-terminated (a host's queue borrows them from the
 * record: mta_queue_add_args.borrow): 222 -> 203 octets. */
START_TEST(record_bytes_fixed) {
  static const char want[] =
      "4d514d33010180c8afa02580f89b8cd12212ac02000001000c7340612e657861"
      "6d706c650003800d723140622e6578616d706c65000b677265796c6973746564"
      "0d6d782e622e6578616d706c6580d0acf30ec3030106342e372e3101600d5232"
      "40422e6578616d706c65000a622e6578616d706c6500c3030106342e372e3101"
      "000d723340632e6578616d706c6500105b72656c61792e6578616d706c655d0d"
      "6e6f207375636820757365720000a6040306352e312e3101125375626a656374"
      "3a20780d0a0d0a68690d0a";
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  const char *rc[] = {"r1@b.example", "R2@B.example", "r3@c.example"};
  const char *ds[] = {NULL, NULL, "[relay.example]"};
  GBytes *body = g_bytes_new_static("Subject: x\r\n\r\nhi\r\n", 18);
  mta_queue_add_args a = {.sender = "s@a.example", .rcpts = rc, .dests = ds, .nrcpts = 3,
                          .body = body, .body_id = 300, .arrival = 5 * S};
  uint32_t id = mta_queue_add(q, &a);
  mta_queue_begin_attempt(q, id, &p, 6 * S);
  for (uint32_t i = 0; i < 3; i++)
    mta_queue_take(q, id, i);
  mta_queue_result_args r1 = {MTA_RCPT_DEFERRED, 451, "4.7.1", "greylisted", "mx.b.example"};
  mta_queue_result(q, id, 0, &r1, 7 * S);
  mta_queue_result(q, id, 1, &r1, 7 * S);
  mta_queue_result_args r3 = {MTA_RCPT_BOUNCED, 550, "5.1.1", "no such user", NULL};
  mta_queue_result(q, id, 2, &r3, 7 * S);
  mta_queue_outcome o;
  mta_queue_end_attempt(q, id, &p, 7 * S, &o);
  GByteArray *rec = g_byte_array_new();
  g_byte_array_append(rec, (const guint8 *)"xy", 2); /* appended after what is there */
  mta_queue_msg_encode(q, id, rec);
  GString *got = g_string_new("");
  for (guint i = 2; i < rec->len; i++)
    g_string_append_printf(got, "%02x", rec->data[i]);
  ck_assert_str_eq(got->str, want);
  ck_assert_int_eq(memcmp(rec->data, "xy", 2), 0);
  g_string_free(got, TRUE);
  g_byte_array_free(rec, TRUE);
  g_bytes_unref(body);
  mta_queue_free(q);
}
END_TEST

/* Messages are found by id in a dense array that drops its empty front:
 * after the oldest ninety of a hundred leave, the rest are still found,
 * the gone ones are not, and the check counts none lost; records decoded
 * out of id order (a restart) are found too. */
START_TEST(ids_dense_and_compacted) {
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  uint32_t ids[100];
  for (int i = 0; i < 100; i++)
    ids[i] = add(q, "s@a.example", i * S, "r@b.example", NULL, NULL);
  for (int i = 0; i < 90; i++) {
    ck_assert(mta_queue_begin_attempt(q, ids[i], &p, 200 * S));
    result(q, ids[i], 0, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 200 * S);
    mta_queue_outcome o;
    mta_queue_end_attempt(q, ids[i], &p, 200 * S, &o);
    ck_assert(o.done);
  }
  for (int i = 0; i < 100; i++)
    ck_assert_msg((mta_queue_get(q, ids[i]) != NULL) == (i >= 90), "id %u", ids[i]);
  ck_assert_ptr_null(mta_queue_get(q, 0));
  ck_assert_ptr_null(mta_queue_get(q, 101));
  mta_queue_stats st;
  mta_queue_get_stats(q, &st);
  ck_assert_uint_eq(st.queued, 10);
  ck_assert_uint_eq(mta_queue_check(q, NULL, 0, NULL), 0);
  ck_assert_uint_eq(mta_queue_check(q, ids, 100, NULL), 0);
  /* Three records into a new queue, newest first. */
  mta_queue *q2 = mta_queue_new();
  GByteArray *rec = g_byte_array_new();
  for (int k = 2; k >= 0; k--) {
    g_byte_array_set_size(rec, 0);
    mta_queue_msg_encode(q, ids[90 + 4 * k], rec);
    char *err = NULL;
    ck_assert_uint_eq(mta_queue_msg_decode(q2, rec->data, rec->len, &err), ids[90 + 4 * k]);
  }
  for (int i = 90; i < 100; i++)
    ck_assert_msg((mta_queue_get(q2, ids[i]) != NULL) == ((i - 90) % 4 == 0), "id %u", ids[i]);
  GBytes *blob = mta_queue_encode(q2); /* listed in id order */
  char *err = NULL;
  mta_queue *q3 = mta_queue_decode(g_bytes_get_data(blob, NULL), g_bytes_get_size(blob), &err);
  ck_assert_ptr_nonnull(q3);
  ck_assert_ptr_nonnull(mta_queue_get(q3, ids[94]));
  g_bytes_unref(blob);
  g_byte_array_free(rec, TRUE);
  mta_queue_free(q3);
  mta_queue_free(q2);
  mta_queue_free(q);
}
END_TEST

/* The host's tag lives in the message's block, never in the record: a
 * record decoded with a tag carries it, one decoded without has none; the
 * body_id is readable from a record's header alone. The host's word
 * starts at 0 and is kept. */
START_TEST(tag_and_user_word) {
  mta_queue *q = mta_queue_new();
  const char *rc[] = {"r1@b.example", "R2@C.example"};
  mta_queue_add_args a = {.sender = "s@a.example", .rcpts = rc, .nrcpts = 2, .body_id = 77,
                          .size = 100, .arrival = 5 * S, .tag = "id.1@a.example"};
  uint32_t qid = mta_queue_add(q, &a);
  const mta_msg *m = mta_queue_get(q, qid);
  ck_assert_str_eq(mta_queue_msg_tag(m), "id.1@a.example");
  ck_assert_str_eq(mta_queue_msg_sender(m), "s@a.example");
  ck_assert_str_eq(m->rcpts[1].addr, "R2@C.example");
  ck_assert_str_eq(mta_queue_rcpt_dest(q, &m->rcpts[1]), "c.example");
  ck_assert_uint_eq(*mta_queue_user(q, qid), 0);
  *mta_queue_user(q, qid) = 3;
  ck_assert_uint_eq(mta_queue_get(q, qid)->user, 3);
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q, qid, rec);
  uint64_t body_id = 0;
  ck_assert(mta_queue_msg_peek_body_id(rec->data, rec->len, &body_id));
  ck_assert_uint_eq(body_id, 77);
  ck_assert(!mta_queue_msg_peek_body_id(rec->data, 6, &body_id)); /* truncated header */
  ck_assert(!mta_queue_msg_peek_body_id((const uint8_t *)"MQM1xxxxxxxx", 12, &body_id));
  mta_queue *q2 = mta_queue_new(), *q3 = mta_queue_new();
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode_tagged(q2, rec->data, rec->len, "id.2@x", &err), qid);
  ck_assert_str_eq(mta_queue_msg_tag(mta_queue_get(q2, qid)), "id.2@x");
  ck_assert_str_eq(mta_queue_get(q2, qid)->rcpts[0].addr, "r1@b.example");
  ck_assert_uint_eq(mta_queue_get(q2, qid)->user, 0);
  ck_assert_uint_eq(mta_queue_msg_decode(q3, rec->data, rec->len, &err), qid);
  ck_assert_ptr_null(mta_queue_msg_tag(mta_queue_get(q3, qid)));
  GByteArray *rec2 = g_byte_array_new(); /* the tag is not in the record */
  mta_queue_msg_encode(q2, qid, rec2);
  ck_assert_uint_eq(rec2->len, rec->len);
  ck_assert_int_eq(memcmp(rec2->data, rec->data, rec->len), 0);
  g_byte_array_free(rec, TRUE);
  g_byte_array_free(rec2, TRUE);
  mta_queue_free(q);
  mta_queue_free(q2);
  mta_queue_free(q3);
}
END_TEST

/* A queue told its profile keeps no retry memory gives its messages no
 * room for one (16 octets less each) and runs Postfix's schedule as
 * before; a record decoded with a retry memory gets room anyway (Exim's
 * memory read back whole); the reply shared by recipients is one. */
START_TEST(retry_room) {
  mta_retry_profile px, ex;
  mta_retry_profile_init(&px, MTA_RETRY_POSTFIX);
  mta_retry_profile_init(&ex, MTA_RETRY_EXIM);
  ck_assert(!mta_retry_keeps_state(&px));
  ck_assert(mta_retry_keeps_state(&ex));
  mta_queue *with = mta_queue_new(), *without = mta_queue_new();
  mta_queue_set_retry_room(without, false);
  uint32_t a = add(with, "s@a.example", 0, "r@b.example", "t@b.example", NULL);
  uint32_t b = add(without, "s@a.example", 0, "r@b.example", "t@b.example", NULL);
  ck_assert_uint_eq(mta_queue_memory(with) - mta_queue_memory(without), sizeof(mta_retry_state));
  ck_assert_ptr_nonnull(mta_queue_msg_retry(mta_queue_get(with, a)));
  ck_assert_ptr_null(mta_queue_msg_retry(mta_queue_get(without, b)));
  mta_queue *qs[2] = {with, without};
  uint32_t ids[2] = {a, b};
  int64_t next[2];
  for (int k = 0; k < 2; k++) {
    ck_assert(mta_queue_begin_attempt(qs[k], ids[k], &px, 10 * S));
    result(qs[k], ids[k], 0, MTA_RCPT_DEFERRED, 451, "4.4.1", "connection refused", 11 * S);
    result(qs[k], ids[k], 1, MTA_RCPT_DEFERRED, 451, "4.4.1", "connection refused", 11 * S);
    mta_queue_outcome o;
    mta_queue_end_attempt(qs[k], ids[k], &px, 12 * S, &o);
    next[k] = o.next;
  }
  ck_assert_int_eq(next[0], next[1]);
  const mta_msg *m = mta_queue_get(without, b);
  ck_assert_ptr_eq(m->rcpts[0].reply, m->rcpts[1].reply);
  ck_assert_uint_eq(mta_rcpt_code(&m->rcpts[1]), 451);
  ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[1]), "4.4.1");
  ck_assert_str_eq(mta_rcpt_remote_mta(&m->rcpts[1]), "mx.b.example");
  /* Exim's memory, written, then decoded into a queue without room. */
  mta_queue *eq = mta_queue_new();
  uint32_t e = add(eq, "s@a.example", 0, "r@b.example", NULL, NULL);
  ck_assert(mta_queue_begin_attempt(eq, e, &ex, 10 * S));
  result(eq, e, 0, MTA_RCPT_DEFERRED, 451, "4.4.1", "connection refused", 11 * S);
  mta_queue_outcome o;
  mta_queue_end_attempt(eq, e, &ex, 12 * S, &o);
  const mta_retry_state *st = mta_queue_msg_retry(mta_queue_get(eq, e));
  ck_assert_int_eq(st->last_try, 12 * S);
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(eq, e, rec);
  mta_queue *back = mta_queue_new();
  mta_queue_set_retry_room(back, false);
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode(back, rec->data, rec->len, &err), e);
  const mta_retry_state *st2 = mta_queue_msg_retry(mta_queue_get(back, e));
  ck_assert_ptr_nonnull(st2);
  ck_assert_int_eq(st2->last_try, st->last_try);
  ck_assert_int_eq(st2->next_try, st->next_try);
  g_byte_array_free(rec, TRUE);
  mta_queue_free(back);
  mta_queue_free(eq);
  mta_queue_free(with);
  mta_queue_free(without);
}
END_TEST

/* A sender too long to be found from the first address (a decoded
 * record's, borrowing): the message holds copies, rebasing it is nothing,
 * and it reads and re-encodes the same. */
START_TEST(long_sender_not_borrowed) {
  size_t n = MTA_QUEUE_BORROW_MAX + 10;
  char *sender = g_malloc(n + 1);
  memset(sender, 's', n);
  memcpy(sender + n - 10, "@a.example", 11);
  mta_queue *q = mta_queue_new();
  uint32_t id = add(q, sender, 0, "r@b.example", NULL, NULL);
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q, id, rec);
  uint8_t *kept = g_memdup2(rec->data, rec->len);
  mta_queue *e = mta_queue_new();
  char *err = NULL;
  ck_assert_uint_eq(mta_queue_msg_decode_borrowed(e, kept, rec->len, NULL, &err), id);
  const mta_msg *m = mta_queue_get(e, id);
  ck_assert(!(m->rcpts[0].addr >= (const char *)kept &&
              m->rcpts[0].addr < (const char *)kept + rec->len)); /* a copy */
  mta_queue_msg_rebase(e, id, kept, rec->len);
  memset(kept, 0, rec->len);
  g_free(kept);
  ck_assert_str_eq(mta_queue_msg_sender(m), sender);
  ck_assert_str_eq(m->rcpts[0].addr, "r@b.example");
  GByteArray *again = g_byte_array_new();
  mta_queue_msg_encode(e, id, again);
  ck_assert(again->len == rec->len && memcmp(again->data, rec->data, rec->len) == 0);
  g_byte_array_free(again, TRUE);
  g_byte_array_free(rec, TRUE);
  mta_queue_free(e);
  mta_queue_free(q);
  g_free(sender);
}
END_TEST

/* Destinations past the index's first sizes: each found again whatever
 * its case, listed once and sorted, its recipients found by it. */
START_TEST(many_destinations) {
  mta_queue *q = mta_queue_new();
  uint32_t ids[300];
  for (int i = 0; i < 300; i++) {
    char to[64];
    g_snprintf(to, sizeof to, "r@D%03d.Example", i);
    ids[i] = add(q, "s@a.example", i, to, NULL, NULL);
  }
  uint32_t again = add(q, "s@a.example", 0, "t@d007.EXAMPLE", NULL, NULL);
  GPtrArray *names = g_ptr_array_new();
  ck_assert_uint_eq(mta_queue_dests(q, names), 300);
  for (guint i = 0; i < names->len; i++) {
    char want[64];
    g_snprintf(want, sizeof want, "d%03u.example", i);
    ck_assert_str_eq(names->pdata[i], want);
  }
  const mta_msg *a = mta_queue_get(q, ids[7]), *b = mta_queue_get(q, again);
  ck_assert_uint_eq(a->rcpts[0].dest, b->rcpts[0].dest);
  ck_assert_str_eq(mta_queue_rcpt_dest(q, &a->rcpts[0]), "d007.example");
  GArray *refs = g_array_new(FALSE, FALSE, sizeof(mta_queue_ref));
  ck_assert_uint_eq(mta_queue_dest_ready(q, "D007.example", 1000 * S, false, refs), 2);
  ck_assert_uint_eq(g_array_index(refs, mta_queue_ref, 0).qid, again); /* due at 0 */
  ck_assert_uint_eq(g_array_index(refs, mta_queue_ref, 1).qid, ids[7]);
  ck_assert_uint_eq(mta_queue_dest_ready(q, "d300.example", 1000 * S, true, refs), 0);
  g_array_free(refs, TRUE);
  g_ptr_array_free(names, TRUE);
  mta_queue_free(q);
}
END_TEST

/* Queues sharing one text table (a world's MTAs): the same reply text
 * deferred in two queues is one string; each queue's references are
 * released as its messages leave or as it is freed (mta_queue_texts_free
 * asserts the table is empty), and the record holds the text itself. */
START_TEST(texts_shared_between_queues) {
  mta_queue_texts *t = mta_queue_texts_new();
  mta_queue *q1 = mta_queue_new_shared(t), *q2 = mta_queue_new_shared(t);
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  static const char why[] = "mx.d1.test[10.0.0.1]: Connection refused";
  mta_queue *qs[2] = {q1, q2};
  uint32_t ids[2];
  for (int k = 0; k < 2; k++) {
    ids[k] = add(qs[k], "s@a.example", 0, "r@b.example", NULL, NULL);
    ck_assert(mta_queue_begin_attempt(qs[k], ids[k], &p, 0));
    result(qs[k], ids[k], 0, MTA_RCPT_DEFERRED, 0, NULL, why, 0);
    mta_queue_outcome o;
    mta_queue_end_attempt(qs[k], ids[k], &p, 0, &o);
  }
  const mta_rcpt *r1 = &mta_queue_get(q1, ids[0])->rcpts[0];
  const mta_rcpt *r2 = &mta_queue_get(q2, ids[1])->rcpts[0];
  ck_assert_str_eq(mta_rcpt_text(r1), why);
  ck_assert_ptr_eq(r1->reply, r2->reply); /* the whole reply, once */
  ck_assert_ptr_eq(mta_rcpt_text(r1), mta_rcpt_text(r2));
  /* A record decoded into a queue of its own table reads the same. */
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q2, ids[1], rec);
  mta_queue_free(q1); /* q2's text stays */
  ck_assert_str_eq(mta_rcpt_text(&mta_queue_get(q2, ids[1])->rcpts[0]), why);
  mta_queue *own = mta_queue_new();
  char *err = NULL;
  uint32_t d = mta_queue_msg_decode(own, rec->data, rec->len, &err);
  ck_assert_msg(d == ids[1], "got %u want %u (%s)", d, ids[1], err ? err : "");
  ck_assert_str_eq(mta_rcpt_text(&mta_queue_get(own, d)->rcpts[0]), why);
  ck_assert_ptr_ne(mta_rcpt_text(&mta_queue_get(own, d)->rcpts[0]), mta_rcpt_text(&mta_queue_get(q2, ids[1])->rcpts[0]));
  mta_queue_free(own);
  g_byte_array_free(rec, TRUE);
  mta_queue_free(q2);
  mta_queue_texts_free(t); /* asserts every text was released */
}
END_TEST

/* A reply let go is kept as the table's spare block and taken by the next
 * new reply that fits: replies of every length, made and dropped in turn
 * and held together, always read back as given (texts of 0-300 octets,
 * the longest past the spare's limit). */
START_TEST(reply_blocks_reused) {
  mta_queue_texts *t = mta_queue_texts_new();
  mta_queue *q = mta_queue_new_shared(t);
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  static const size_t lens[] = {1, 40, 10, 0, 300, 41, 39, 600};
  enum { N = G_N_ELEMENTS(lens) };
  char *texts[N];
  for (size_t k = 0; k < N; k++)
    texts[k] = g_strnfill(lens[k], (char)('a' + k));
  uint32_t held[N][N];
  /* Every pair: A's reply made and let go (the spare), then B's held; the
   * first on a table with no spare yet: a short reply's block, then a
   * longer reply, which must not take it. */
  for (size_t a = 0; a < N; a++)
    for (size_t b = 0; b < N; b++)
      for (int round = 0; round < 2; round++) {
        /* unique texts: an equal one would share the held reply */
        char *text = g_strdup_printf("%zu.%zu.%d.%s", a, b, round, round ? texts[b] : texts[a]);
        uint32_t id = add(q, "s@a.example", 0, "r@b.example", NULL, NULL);
        ck_assert(mta_queue_begin_attempt(q, id, &p, 0));
        result(q, id, 0, round ? MTA_RCPT_DEFERRED : MTA_RCPT_DELIVERED, 250, "2.0.0", text, 0);
        ck_assert_str_eq(mta_rcpt_text(&mta_queue_get(q, id)->rcpts[0]), text);
        ck_assert_str_eq(mta_rcpt_remote_mta(&mta_queue_get(q, id)->rcpts[0]), "mx.b.example");
        mta_queue_outcome o;
        mta_queue_end_attempt(q, id, &p, 0, &o);
        if (round)
          held[a][b] = id;
        else
          ck_assert_ptr_null(mta_queue_get(q, id)); /* delivered: gone, its reply let go */
        g_free(text);
      }
  for (size_t a = 0; a < N; a++)
    for (size_t b = 0; b < N; b++) {
      const mta_rcpt *r = &mta_queue_get(q, held[a][b])->rcpts[0];
      char *want = g_strdup_printf("%zu.%zu.1.%s", a, b, texts[b]);
      ck_assert_msg(strcmp(mta_rcpt_text(r), want) == 0, "pair %zu %zu: got %s", a, b,
                    mta_rcpt_text(r));
      g_free(want);
      ck_assert_str_eq(mta_rcpt_esc(r), "2.0.0");
    }
  for (size_t k = 0; k < N; k++)
    g_free(texts[k]);
  mta_queue_free(q);
  mta_queue_texts_free(t); /* the spare freed with it (ASan) */
}
END_TEST

/* A message's block, once it left, is kept for a new message whose block
 * is a malloc chunk of the same size, and only then: the new message
 * reads as a fresh one (zeroed, its own strings), a longer one gets a
 * block of its own; at most MTA_QUEUE__SPARES are kept, the rest freed
 * (ASan: nothing leaks at mta_queue_free). */
START_TEST(msg_blocks_reused) {
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  static const char *const rc[] = {"r1@b.example", "r2@b.example", "a-much-longer-recipient@b.example"};
  for (int round = 0; round < 6; round++) {
    /* two alike (the second takes the first's block), then a longer one */
    const mta_msg *prev = NULL;
    for (int k = 0; k < 3; k++) {
      uint32_t id = add(q, "s@a.example", 0, rc[k], NULL, NULL);
      const mta_msg *m = mta_queue_get(q, id);
      if (k == 1 && round == 0)
        ck_assert_msg(m == prev, "an equal block was not reused");
      if (k == 2)
        ck_assert_msg(m != prev, "a longer message took a shorter block");
      ck_assert_str_eq(m->rcpts[0].addr, rc[k]);
      ck_assert_str_eq(mta_queue_msg_sender(m), "s@a.example");
      ck_assert_int_eq(m->rcpts[0].state, MTA_RCPT_PENDING);
      ck_assert_int_eq(m->attempts, 0);
      ck_assert_ptr_null(m->rcpts[0].reply);
      ck_assert(mta_queue_begin_attempt(q, id, &p, 0));
      result(q, id, 0, k == 2 && round % 2 ? MTA_RCPT_DEFERRED : MTA_RCPT_DELIVERED, 250,
             "2.0.0", "ok", 0);
      mta_queue_outcome o;
      mta_queue_end_attempt(q, id, &p, 0, &o);
      prev = m;
    }
  }
  /* more departures than spares in a row: the oldest are freed */
  uint32_t ids[8];
  for (int k = 0; k < 8; k++)
    ids[k] = add(q, "s@a.example", 0, k % 2 ? rc[0] : rc[2], NULL, NULL);
  for (int k = 0; k < 8; k++) {
    ck_assert(mta_queue_begin_attempt(q, ids[k], &p, 0));
    result(q, ids[k], 0, MTA_RCPT_DELIVERED, 250, "2.0.0", "ok", 0);
    mta_queue_outcome o;
    mta_queue_end_attempt(q, ids[k], &p, 0, &o);
  }
  mta_queue_free(q);
}
END_TEST

/* A delivered recipient's reply (its own block, not interned) reads back
 * until its message leaves, beside the interned deferral of another
 * recipient and a second delivery with the same words; the queue's
 * record round-trips it; nothing leaks (ASan). */
START_TEST(delivered_reply_own) {
  mta_queue *q = mta_queue_new();
  mta_retry_profile p;
  mta_retry_profile_init(&p, MTA_RETRY_POSTFIX);
  uint32_t id = add(q, "s@a.example", 0, "r1@b.example", "r2@b.example", "r3@b.example");
  ck_assert(mta_queue_begin_attempt(q, id, &p, 0));
  result(q, id, 0, MTA_RCPT_DELIVERED, 250, "2.0.0", "Ok: queued as X1", 0);
  result(q, id, 1, MTA_RCPT_DEFERRED, 451, "4.7.1", "Try again later", 0);
  result(q, id, 2, MTA_RCPT_DELIVERED, 250, "2.0.0", "Ok: queued as X1", 0);
  mta_queue_outcome o;
  mta_queue_end_attempt(q, id, &p, 0, &o);
  const mta_msg *m = mta_queue_get(q, id);
  ck_assert_ptr_nonnull(m);
  for (int i = 0; i < 3; i += 2) {
    ck_assert_str_eq(mta_rcpt_text(&m->rcpts[i]), "Ok: queued as X1");
    ck_assert_str_eq(mta_rcpt_esc(&m->rcpts[i]), "2.0.0");
    ck_assert_int_eq(mta_rcpt_code(&m->rcpts[i]), 250);
    ck_assert_str_eq(mta_rcpt_remote_mta(&m->rcpts[i]), "mx.b.example");
  }
  ck_assert_str_eq(mta_rcpt_text(&m->rcpts[1]), "Try again later");
  /* the record: the same texts back */
  GByteArray *rec = g_byte_array_new();
  mta_queue_msg_encode(q, id, rec);
  mta_queue *q2 = mta_queue_new();
  char *err = NULL;
  uint32_t id2 = mta_queue_msg_decode(q2, rec->data, rec->len, &err);
  ck_assert_msg(id2 != 0, "%s", err ? err : "?");
  g_free(err);
  ck_assert_uint_ne(id2, 0);
  const mta_msg *m2 = mta_queue_get(q2, id2);
  for (int i = 0; i < 3; i++)
    ck_assert_str_eq(mta_rcpt_text(&m2->rcpts[i]), mta_rcpt_text(&m->rcpts[i]));
  g_byte_array_unref(rec);
  mta_queue_free(q2);
  /* the deferred one delivered at last: the message leaves */
  ck_assert(mta_queue_begin_attempt(q, id, &p, 3600 * S));
  result(q, id, 1, MTA_RCPT_DELIVERED, 250, "2.0.0", "Ok: queued as X2", 3600 * S);
  mta_queue_end_attempt(q, id, &p, 3600 * S, &o);
  ck_assert_ptr_null(mta_queue_get(q, id));
  mta_queue_free(q);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("mta_queue");
  TCase *tc = tcase_create("queue");
  tcase_add_test(tc, due_order);
  tcase_add_test(tc, due_many);
  tcase_add_test(tc, mixed_outcomes);
  tcase_add_test(tc, expiry);
  tcase_add_test(tc, destinations);
  tcase_add_test(tc, smtp_mixed_transaction);
  tcase_add_test(tc, retry_bounce_journey);
  tcase_add_test(tc, withdraw);
  tcase_add_test(tc, reply_blocks_reused);
  tcase_add_test(tc, msg_blocks_reused);
  tcase_add_test(tc, delivered_reply_own);
  suite_add_tcase(s, tc);
  TCase *enc = tcase_create("encoding");
  tcase_add_test(enc, encode_round_trip);
  tcase_add_test(enc, encode_damage);
  tcase_add_test(enc, retry_room);
  tcase_add_test(enc, many_destinations);
  tcase_add_test(enc, long_sender_not_borrowed);
  tcase_add_test(enc, memory_per_message);
  tcase_add_test(enc, shared_texts_compact_record);
  tcase_add_test(enc, texts_shared_between_queues);
  tcase_add_test(enc, tag_and_user_word);
  tcase_add_test(enc, record_bytes_fixed);
  tcase_add_test(enc, record_times_round_trip);
  tcase_add_test(enc, borrowed_envelope);
  tcase_add_test(enc, ids_dense_and_compacted);
  suite_add_tcase(s, enc);
  return s;
}

int main(void) { return testutil_run(suite()); }
