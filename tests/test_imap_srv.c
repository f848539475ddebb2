/* Tests for imap_srv over the mailstore adapter: a scripted transcript for
 * every command (each also fed byte by byte and at every split), literal
 * edge cases, two sessions on one mailbox (EXPUNGE/EXISTS/FETCH seen by
 * the other at the allowed moments, IDLE), STARTTLS, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_srv.h"
#include "mailstore.h"
#include "mailstore_imap.h"
#include "testutil.h"

#define M1                                                                                         \
  "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hello Bob\r\n"               \
  "Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n\r\nHi Bob,\r\n.lunch?\r\n"
#define M2 "From: carol@example.com\r\nSubject: report\r\n\r\nquarterly numbers\r\n"
#define M3                                                                                         \
  "Subject: multi\r\nContent-Type: multipart/mixed; "                                              \
  "boundary=x\r\n\r\n--x\r\n\r\npart\r\n--x--\r\n"
#define DAY ((int64_t)86400 * 1000000000)

static mailstore *store_new(void) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 0, 0);
  const char *m[] = {M1, M2, M3};
  for (int i = 0; i < 3; i++) {
    GBytes *b = g_bytes_new_static(m[i], strlen(m[i]));
    mailstore_deliver(st, "bob", NULL, b, i * DAY, NULL);
    g_bytes_unref(b);
  }
  mailstore_flags_set(st, "bob", "INBOX", 2, '+', MAILSTORE_F_SEEN, 0);
  return st;
}

typedef struct {
  mailstore *st;
  imap_srv *srv;
  GString *out;
  GString *evlog;
  unsigned lines; /* COMMAND and REPLY events seen */
} sess;

static void pump(sess *x) {
  imap_srv_event ev;
  while (imap_srv_next_event(x->srv, &ev)) {
    if (ev.kind == IMAP_SRV_EV_REPLY || ev.kind == IMAP_SRV_EV_COMMAND) {
      x->lines++;
      continue;
    }
    g_string_append_printf(x->evlog, "%s", imap_srv_event_name(ev.kind));
    if (ev.kind == IMAP_SRV_EV_FETCH)
      g_string_append_printf(x->evlog, "(%s,%u)", ev.mailbox, ev.uid);
    g_string_append_c(x->evlog, ';');
    if (ev.kind == IMAP_SRV_EV_AUTH) {
      mailstore_imap *h =
          strcmp(ev.pass, "secret") == 0 ? mailstore_imap_open(x->st, ev.user) : NULL;
      if (h)
        imap_srv_auth_answer(x->srv, ev.id, IMAP_AUTH_OK, &mailstore_imap_ops, h);
      else
        imap_srv_auth_answer(x->srv, ev.id, IMAP_AUTH_FAIL, NULL, NULL);
    } else if (ev.kind == IMAP_SRV_EV_STARTTLS) {
      size_t n;
      const uint8_t *p = imap_srv_output_peek(x->srv, &n);
      g_string_append_len(x->out, (const char *)p, (gssize)n);
      imap_srv_output_consume(x->srv, n);
      imap_srv_tls_done(x->srv, true);
    }
  }
  size_t n;
  const uint8_t *p = imap_srv_output_peek(x->srv, &n);
  g_string_append_len(x->out, (const char *)p, (gssize)n);
  imap_srv_output_consume(x->srv, n);
}

/* sess_init on the storage of OLD (imap_srv_renew; NULL: a new engine). */
static void sess_init_on(sess *x, mailstore *st, const imap_srv_config *cfg0, imap_srv *old) {
  imap_srv_config cfg = {.hostname = "imap.example", .max_line = 200, .max_literal = 300};
  if (cfg0)
    cfg = *cfg0;
  x->st = st;
  x->srv = imap_srv_renew(old, &cfg, NULL, 0);
  x->out = g_string_new(NULL);
  x->evlog = g_string_new(NULL);
  pump(x);
}

static void sess_init(sess *x, mailstore *st, const imap_srv_config *cfg0) {
  imap_srv_config cfg = {.hostname = "imap.example", .max_line = 200, .max_literal = 300};
  if (cfg0)
    cfg = *cfg0;
  x->st = st;
  x->srv = imap_srv_new(&cfg, NULL, 0);
  x->out = g_string_new(NULL);
  x->evlog = g_string_new(NULL);
  pump(x);
}

/* sess_init with ENV. */
static void sess_init_env(sess *x, mailstore *st, const imap_env *env) {
  imap_srv_config cfg = {.hostname = "imap.example", .max_line = 200, .max_literal = 300};
  memset(x, 0, sizeof *x);
  x->st = st;
  x->srv = imap_srv_new(&cfg, env, 0);
  x->out = g_string_new(NULL);
  x->evlog = g_string_new(NULL);
  pump(x);
}

static void sess_clear(sess *x) {
  imap_srv_free(x->srv);
  g_string_free(x->out, TRUE);
  g_string_free(x->evlog, TRUE);
}

static void sess_feed(sess *x, const char *d, size_t n) {
  imap_srv_feed(x->srv, d, n, 5 * DAY);
  pump(x);
}
static void say(sess *x, const char *d) {
  g_string_truncate(x->out, 0);
  sess_feed(x, d, strlen(d));
}

#define GREETING                                                                                   \
  "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR UIDPLUS IDLE MOVE NAMESPACE ID ENABLE SPECIAL-USE " \
  "UNSELECT AUTH=PLAIN] imap.example IMAP4rev1 server ready\r\n"
#define LOGIN "l LOGIN bob secret\r\n"
#define LOGGED                                                                                     \
  "l OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR UIDPLUS IDLE MOVE NAMESPACE ID ENABLE SPECIAL-USE " \
  "UNSELECT] Logged in\r\n"
#define SELECT "s SELECT INBOX\r\n"
#define SELECTED                                                                                   \
  "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"                                    \
  "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n"  \
  "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] First unseen\r\n"                                   \
  "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n"                     \
  "s OK [READ-WRITE] SELECT completed\r\n"

typedef struct {
  const char *name;
  const char *in;
  const char *want; /* after the greeting */
} row;

#include "test_imap_srv_rows.h"

static char *run_row(const row *r, const size_t *cuts, size_t ncuts) {
  mailstore *st = store_new();
  sess x;
  sess_init(&x, st, NULL);
  g_string_truncate(x.out, 0);
  size_t len = strlen(r->in), prev = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    sess_feed(&x, r->in + prev, end - prev);
    prev = end;
  }
  char *out = g_strdup(x.out->str);
  sess_clear(&x);
  mailstore_free(st);
  return out;
}

START_TEST(transcripts) {
  const row *r = &rows[_i];
  char *got = run_row(r, NULL, 0);
  if (getenv("IMAP_PRINT")) { /* regeneration aid: IMAP_PRINT=FILE, then review */
    FILE *f = fopen(getenv("IMAP_PRINT"), "a");
    if (f) {
      fprintf(f, "=== %s\n%s", r->name, got);
      fclose(f);
    }
  }
  ck_assert_msg(strcmp(got, r->want) == 0, "%s:\ngot:\n%s\nwant:\n%s", r->name, got, r->want);
  size_t len = strlen(r->in);
  size_t *cuts = g_new(size_t, len);
  for (size_t i = 0; i + 1 < len; i++)
    cuts[i] = i + 1;
  char *b = run_row(r, cuts, len - 1);
  ck_assert_msg(strcmp(b, got) == 0, "%s byte by byte:\n%s", r->name, b);
  g_free(b);
  for (size_t c = 1; c < len; c++) {
    b = run_row(r, &c, 1);
    ck_assert_msg(strcmp(b, got) == 0, "%s split at %zu:\n%s", r->name, c, b);
    g_free(b);
  }
  g_free(cuts);
  g_free(got);
}
END_TEST

static size_t inbox_count(mailstore *st) {
  mailstore_status s;
  mailstore_status_get(st, "bob", "INBOX", &s);
  return s.messages;
}

START_TEST(two_sessions_expunge_and_exists) {
  mailstore *st = store_new();
  sess a, b;
  sess_init(&a, st, NULL);
  sess_init(&b, st, NULL);
  say(&a, LOGIN SELECT);
  say(&b, LOGIN SELECT);
  /* A deletes message 2 and expunges. */
  say(&a, "a1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\na2 EXPUNGE\r\n");
  ck_assert_str_eq(a.out->str,
                   "a1 OK STORE completed\r\n* 2 EXPUNGE\r\na2 OK EXPUNGE completed\r\n");
  ck_assert_uint_eq(inbox_count(st), 2);
  /* B: no EXPUNGE during FETCH (RFC 3501 §7.4.1), but the flag change and
   * expunge arrive at NOOP. */
  say(&b, "b1 FETCH 2 (UID)\r\n");
  ck_assert_str_eq(b.out->str, "b1 NO [EXPUNGEISSUED] Some messages were expunged\r\n");
  say(&b, "b2 FETCH 3 (UID)\r\n");
  ck_assert_str_eq(b.out->str, "* 3 FETCH (UID 3)\r\nb2 OK FETCH completed\r\n");
  say(&b, "b3 NOOP\r\n");
  ck_assert_str_eq(b.out->str, "* 2 EXPUNGE\r\nb3 OK NOOP completed\r\n");
  /* new mail: EXISTS may come even with FETCH */
  GBytes *m = g_bytes_new_static("Subject: new\r\n\r\nx\r\n", 19);
  mailstore_deliver(st, "bob", NULL, m, 0, NULL);
  g_bytes_unref(m);
  say(&b, "b4 FETCH 1 (UID)\r\n");
  /* B learns of the new message first: it owns its \Recent flag */
  ck_assert_str_eq(b.out->str,
                   "* 1 FETCH (UID 1)\r\n* 3 EXISTS\r\n* 1 RECENT\r\nb4 OK FETCH completed\r\n");
  /* A's own flag change is not echoed twice; B sees it as FETCH FLAGS. */
  say(&a, "a3 STORE 1 +FLAGS (\\Flagged)\r\n");
  ck_assert_str_eq(a.out->str, "* 1 FETCH (FLAGS (\\Flagged \\Recent))\r\n* 3 EXISTS\r\n"
                               "* 2 RECENT\r\na3 OK STORE completed\r\n");
  say(&b, "b5 UID SEARCH FLAGGED\r\n");
  ck_assert_str_eq(b.out->str, "* SEARCH 1\r\n* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n"
                               "b5 OK UID SEARCH completed\r\n");
  sess_clear(&a);
  sess_clear(&b);
  mailstore_free(st);
}
END_TEST

static void trace_cb(void *ud, const char *ev, const char *detail) {
  g_string_append_printf(ud, "%s:%s|", ev, detail);
}

START_TEST(trace_and_events_mask_secrets) {
  mailstore *st = store_new();
  GString *tr = g_string_new(NULL);
  imap_env env = {trace_cb, tr, false};
  imap_srv_config cfg = {.hostname = "imap.example"};
  imap_srv *s = imap_srv_new(&cfg, &env, 0);
  const char *in = "l LOGIN bob secret\r\na AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n";
  imap_srv_feed(s, in, strlen(in), 1);
  GString *evs = g_string_new(NULL);
  imap_srv_event ev;
  while (imap_srv_next_event(s, &ev)) {
    g_string_append_printf(evs, "%s:%s|", imap_srv_event_name(ev.kind), ev.text ? ev.text : "");
    if (ev.kind == IMAP_SRV_EV_AUTH)
      imap_srv_auth_answer(s, ev.id, IMAP_AUTH_FAIL, NULL, NULL);
  }
  ck_assert_msg(strstr(tr->str, "secret") == NULL && strstr(evs->str, "secret") == NULL &&
                    strstr(tr->str, "AGJvYgBzZWNyZXQ") == NULL &&
                    strstr(evs->str, "AGJvYgBzZWNyZXQ") == NULL,
                "secret leaked: %s / %s", tr->str, evs->str);
  /* the pipelined AUTHENTICATE runs as soon as the LOGIN is answered */
  ck_assert_str_eq(evs->str, "command:l LOGIN bob ****|auth:|"
                             "reply:l NO [AUTHENTICATIONFAILED] Authentication failed|"
                             "command:a AUTHENTICATE PLAIN ****|auth:|"
                             "reply:a NO [AUTHENTICATIONFAILED] Authentication failed|");
  ck_assert(strstr(tr->str, "state:NOT_AUTH -> AUTH_WAIT|") != NULL);
  in = "b LOGIN bob secret\r\n";
  imap_srv_feed(s, in, strlen(in), 2);
  imap_srv_free(s); /* with a decision pending: nothing leaks */
  g_string_free(tr, TRUE);
  g_string_free(evs, TRUE);
  mailstore_free(st);
}
END_TEST

/* base64 of RAW[0..N) (NULs inside), for the SASL rows. */
static char *b64n(const char *raw, size_t n) { return g_base64_encode((const guchar *)raw, n); }

/* SASL PLAIN (RFC 4616) with an initial response and as a continuation:
 * the AUTH decision's user and password, or the refusal, row by row;
 * credentials past the stack's room, and a second attempt reusing the
 * engine's AUTH buffer with shorter ones. */
START_TEST(sasl_plain_responses) {
  char *lu = g_strnfill(300, 'u'), *lp = g_strnfill(400, 'p');
  GString *longraw = g_string_new(NULL);
  g_string_append_c(longraw, 0);
  g_string_append(longraw, lu);
  g_string_append_c(longraw, 0);
  g_string_append(longraw, lp);
  static const struct {
    const char *raw;
    size_t n;
    const char *want; /* "auth:USER/PASS" or the tagged reply */
  } sasl_rows[] = {
      {"\0bob\0secret", 11, "auth:bob/secret"},
      {"bob\0bob\0secret", 14, "auth:bob/secret"},
      {"eve\0bob\0secret", 14, "a NO [AUTHORIZATIONFAILED] Authorization identity not permitted"},
      {"\0bob\0sec\0ret", 12, "a BAD Invalid SASL PLAIN response"},
      {"\0bobsecret", 10, "a BAD Invalid SASL PLAIN response"},
      {"\0\0", 2, "auth:/"},
      {NULL, 0, "auth:LONG"},
  };
  for (int cont = 0; cont < 2; cont++)
    for (size_t r = 0; r < G_N_ELEMENTS(sasl_rows); r++) {
      char *b = sasl_rows[r].raw ? b64n(sasl_rows[r].raw, sasl_rows[r].n)
                                 : b64n(longraw->str, longraw->len);
      imap_srv_config cfg = {.hostname = "imap.example"};
      imap_srv *s = imap_srv_new(&cfg, NULL, 0);
      char *in = cont ? g_strdup_printf("a AUTHENTICATE PLAIN\r\n%s\r\n", b)
                      : g_strdup_printf("a AUTHENTICATE PLAIN %s\r\n", b);
      for (int again = 0; again < 2; again++) { /* a second try on the same engine */
        size_t out0;
        imap_srv_output_peek(s, &out0);
        imap_srv_feed(s, in, strlen(in), 1 + again);
        GString *got = g_string_new(NULL);
        imap_srv_event ev;
        while (imap_srv_next_event(s, &ev)) {
          if (ev.kind != IMAP_SRV_EV_AUTH)
            continue;
          bool is_long = strcmp(ev.user, lu) == 0 && strcmp(ev.pass, lp) == 0;
          g_string_append_printf(got, "auth:%s", is_long ? "LONG" : ev.user);
          if (!is_long)
            g_string_append_printf(got, "/%s", ev.pass);
          imap_srv_auth_answer(s, ev.id, IMAP_AUTH_FAIL, NULL, NULL);
        }
        size_t n;
        const uint8_t *o = imap_srv_output_peek(s, &n);
        if (!got->len) { /* no decision: the tagged reply is the answer */
          const char *last = g_strrstr_len((const char *)o, (gssize)n - 2, "\r\n");
          last = last ? last + 2 : (const char *)o;
          g_string_append_len(got, last, (gssize)((const char *)o + n - 2 - last));
        }
        ck_assert_msg(strcmp(got->str, sasl_rows[r].want) == 0,
                      "row %zu cont %d again %d: got %s want %s", r, cont, again, got->str,
                      sasl_rows[r].want);
        imap_srv_output_consume(s, n);
        g_string_free(got, TRUE);
      }
      g_free(in);
      g_free(b);
      imap_srv_free(s);
    }
  g_string_free(longraw, TRUE);
  g_free(lu);
  g_free(lp);
}
END_TEST

START_TEST(far_behind_session_resyncs) {
  mailstore *st = store_new();
  sess b;
  sess_init(&b, st, NULL);
  say(&b, LOGIN SELECT);
  /* more changes than the store's log keeps */
  for (int i = 0; i < MAILSTORE_LOG_MAX + 100; i++)
    mailstore_flags_set(st, "bob", "INBOX", 1, i % 2 ? '-' : '+', MAILSTORE_F_FLAGGED, 0);
  mailstore_expunge_uid(st, "bob", "INBOX", 2);
  GBytes *m = g_bytes_new_static("Subject: new\r\n\r\nx\r\n", 19);
  mailstore_deliver(st, "bob", NULL, m, 0, NULL);
  g_bytes_unref(m);
  say(&b, "n NOOP\r\n");
  ck_assert_str_eq(b.out->str, "* 2 EXPUNGE\r\n* 3 EXISTS\r\n* 3 RECENT\r\n"
                               "* 1 FETCH (UID 1 FLAGS (\\Recent))\r\n"
                               "* 2 FETCH (UID 3 FLAGS (\\Recent))\r\nn OK NOOP completed\r\n");
  say(&b, "f FETCH 1:* (UID)\r\n");
  ck_assert_str_eq(b.out->str, "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\n* 3 FETCH (UID 4)\r\n"
                               "f OK FETCH completed\r\n");
  sess_clear(&b);
  mailstore_free(st);
}
END_TEST

START_TEST(idle_reports_at_once) {
  mailstore *st = store_new();
  sess a, b;
  imap_srv_config cfg = {.hostname = "imap.example", .poll_interval = 1000};
  sess_init(&a, st, &cfg);
  sess_init(&b, st, NULL);
  say(&a, LOGIN SELECT "i IDLE\r\n");
  ck_assert(g_str_has_suffix(a.out->str, "+ idling\r\n"));
  say(&b, LOGIN SELECT "x STORE 1 +FLAGS.SILENT (\\Deleted)\r\ny EXPUNGE\r\n");
  g_string_truncate(a.out, 0);
  int64_t d = imap_srv_deadline(a.srv);
  ck_assert_int_eq(d, 5 * DAY + 1000);
  imap_srv_tick(a.srv, d);
  pump(&a);
  ck_assert_str_eq(a.out->str, "* 1 EXPUNGE\r\n");
  GBytes *m = g_bytes_new_static("Subject: new\r\n\r\nx\r\n", 19);
  mailstore_deliver(st, "bob", NULL, m, 0, NULL);
  g_bytes_unref(m);
  g_string_truncate(a.out, 0);
  imap_srv_poll(a.srv);
  pump(&a);
  ck_assert_str_eq(a.out->str, "* 3 EXISTS\r\n* 3 RECENT\r\n");
  say(&a, "DONE\r\n");
  ck_assert_str_eq(a.out->str, "i OK IDLE terminated\r\n");
  ck_assert_int_eq(imap_srv_state_get(a.srv), IMAP_SRV_SELECTED);
  sess_clear(&a);
  sess_clear(&b);
  mailstore_free(st);
}
END_TEST

START_TEST(starttls_and_logindisabled) {
  mailstore *st = store_new();
  imap_srv_config cfg = {.hostname = "imap.example", .tls_available = true, .tls_required = true};
  sess x;
  sess_init(&x, st, &cfg);
  ck_assert(strstr(x.out->str, "STARTTLS LOGINDISABLED]") != NULL);
  say(&x, LOGIN);
  ck_assert_str_eq(x.out->str, "l NO [PRIVACYREQUIRED] Use STARTTLS first\r\n");
  say(&x, "t STARTTLS\r\n" LOGIN); /* the LOGIN is injected plaintext: dropped */
  ck_assert_str_eq(x.out->str, "t OK Begin TLS negotiation now\r\n");
  ck_assert_str_eq(x.evlog->str, "starttls;");
  say(&x, "c CAPABILITY\r\n");
  ck_assert_str_eq(x.out->str, "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR UIDPLUS IDLE MOVE "
                               "NAMESPACE ID ENABLE SPECIAL-USE UNSELECT AUTH=PLAIN\r\n"
                               "c OK CAPABILITY completed\r\n");
  say(&x, "a AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n");
  ck_assert(g_str_has_prefix(x.out->str, "a OK [CAPABILITY"));
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(limits_and_autologout) {
  mailstore *st = store_new();
  sess x;
  sess_init(&x, st, NULL);
  /* before login, literals are bounded by 8 KiB */
  say(&x, "a LOGIN {9000}\r\n");
  ck_assert_str_eq(x.out->str, "a BAD literal too large\r\n");
  say(&x, LOGIN SELECT);
  /* after login, max_literal = 300 */
  say(&x, "b APPEND INBOX {301}\r\n");
  ck_assert_str_eq(x.out->str, "b BAD literal too large\r\n");
  GString *big = g_string_new("c APPEND INBOX {400+}\r\n");
  for (int i = 0; i < 400; i++)
    g_string_append_c(big, 'x');
  g_string_append(big, "\r\nd NOOP\r\n");
  say(&x, big->str);
  ck_assert_str_eq(x.out->str, "c BAD literal too large\r\nd OK NOOP completed\r\n");
  g_string_free(big, TRUE);
  ck_assert_uint_eq(inbox_count(st), 3);
  /* autologout after 30 minutes idle */
  int64_t d = imap_srv_deadline(x.srv);
  ck_assert_int_eq(d, 5 * DAY + (int64_t)1800 * 1000000000);
  g_string_truncate(x.out, 0);
  imap_srv_tick(x.srv, d);
  pump(&x);
  ck_assert_str_eq(x.out->str, "* BYE Autologout; idle for too long\r\n");
  ck_assert_int_eq(imap_srv_state_get(x.srv), IMAP_SRV_LOGOUT);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(append_over_quota_and_hangup_mid_literal) {
  mailstore *st = store_new();
  uint64_t bytes;
  mailstore_usage(st, "bob", &bytes, NULL);
  mailstore_quota_set(st, "bob", bytes + 10, 0);
  sess x;
  sess_init(&x, st, NULL);
  say(&x, LOGIN "a APPEND INBOX {11+}\r\n0123456789X\r\nb APPEND INBOX {10+}\r\n0123456789\r\n");
  ck_assert_str_eq(x.out->str, LOGGED "a NO [OVERQUOTA] Quota exceeded\r\n"
                                      "b OK [APPENDUID 1 4] APPEND completed\r\n");
  /* the connection drops in the middle of a literal: nothing is stored */
  mailstore_quota_set(st, "bob", 0, 0);
  say(&x, "c APPEND INBOX {20}\r\n");
  ck_assert_str_eq(x.out->str, "+ Ready for literal data\r\n");
  say(&x, "half of it");
  imap_srv_hangup(x.srv);
  ck_assert_int_eq(imap_srv_state_get(x.srv), IMAP_SRV_LOGOUT);
  mailstore_status s;
  mailstore_status_get(st, "bob", "INBOX", &s);
  ck_assert_uint_eq(s.messages, 4);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

/* A renewed engine (imap_srv_renew) answers every transcript as a new one,
 * whatever the session before it left behind: each row after each other
 * row, that one run whole (logged in, a mailbox selected, IDLE ...) or cut
 * at its middle (mid-line, mid-literal, a decision pending). */
START_TEST(renewed_engine) {
  const row *r = &rows[_i];
  for (size_t k = 0; k < G_N_ELEMENTS(rows); k++) {
    const row *b = &rows[k];
    for (int cut = 0; cut < 2; cut++) {
      mailstore *bst = store_new();
      sess y;
      sess_init(&y, bst, NULL);
      size_t blen = strlen(b->in);
      sess_feed(&y, b->in, cut ? blen / 2 : blen);
      imap_srv *old = y.srv;
      g_string_free(y.out, TRUE);
      g_string_free(y.evlog, TRUE);
      mailstore *st = store_new();
      sess x;
      sess_init_on(&x, st, NULL, old);
      ck_assert_ptr_eq(x.srv, old); /* the storage was reused */
      mailstore_free(bst);          /* the renew released its handle */
      g_string_truncate(x.out, 0);
      size_t len = strlen(r->in);
      for (size_t i = 0; i < len; i++) /* byte by byte */
        sess_feed(&x, r->in + i, 1);
      ck_assert_msg(strcmp(x.out->str, r->want) == 0, "%s after %s (%s):\ngot:\n%s\nwant:\n%s",
                    r->name, b->name, cut ? "cut" : "whole", x.out->str, r->want);
      sess_clear(&x);
      mailstore_free(st);
    }
  }
}
END_TEST

/* Buffers past the kept size (a 70,000-octet line, 4,000 pipelined NOOPs'
 * replies) are let go: the renewed engine still answers as a new one. */
START_TEST(renewed_after_growth) {
  for (int kind = 0; kind < 2; kind++) {
    mailstore *st = store_new();
    sess y;
    sess_init(&y, st, NULL);
    GString *in = g_string_new(NULL);
    if (kind == 0) {
      for (int i = 0; i < 70000; i++)
        g_string_append_c(in, 'a');
    } else {
      for (int i = 0; i < 4000; i++)
        g_string_append(in, "n NOOP\r\n");
    }
    sess_feed(&y, in->str, in->len);
    ck_assert_uint_gt(y.out->len, kind ? 64000 : 0);
    g_string_free(in, TRUE);
    imap_srv *old = y.srv;
    g_string_free(y.out, TRUE);
    g_string_free(y.evlog, TRUE);
    sess x;
    sess_init_on(&x, st, NULL, old);
    g_string_truncate(x.out, 0);
    say(&x, rows[1].in);
    ck_assert_msg(strcmp(x.out->str, rows[1].want) == 0, "kind %d:\ngot:\n%s\nwant:\n%s", kind,
                  x.out->str, rows[1].want);
    sess_clear(&x);
    mailstore_free(st);
  }
}
END_TEST

/* imap_srv_keep: ended engines join the spare list with their store
 * released at once (the store can be freed before the spares), at most
 * 16 of them (the 17th is freed: ASan reports a leak otherwise);
 * imap_srv_take gives them back last in first out, then NULL. */
START_TEST(keep_spare) {
  mailstore *st = store_new();
  sess a[17];
  for (int i = 0; i < 17; i++) {
    sess_init(&a[i], st, NULL);
    say(&a[i], i % 2 ? LOGIN SELECT : LOGIN);
    ck_assert_msg(g_str_has_prefix(a[i].out->str, LOGGED), "session %d: %s", i, a[i].out->str);
  }
  imap_srv *spares = NULL;
  for (int i = 0; i < 17; i++)
    imap_srv_keep(&spares, a[i].srv);
  mailstore_free(st);
  for (int i = 15; i >= 0; i--) {
    imap_srv *t = imap_srv_take(&spares);
    ck_assert_ptr_eq(t, a[i].srv);
    imap_srv_keep(&spares, t); /* back on the list */
    ck_assert_ptr_eq(imap_srv_take(&spares), a[i].srv);
    if (i == 8) { /* half taken: the rest goes with the list's free */
      imap_srv_keep(&spares, t);
      break;
    }
    imap_srv_free(t);
  }
  imap_srv_free(spares);
  for (int i = 0; i < 17; i++) {
    g_string_free(a[i].out, TRUE);
    g_string_free(a[i].evlog, TRUE);
  }
}
END_TEST

static void trace_cb(void *ud, const char *ev, const char *detail);

/* Row R fed whole with ENV: output, events and trace; *LINES: the
 * COMMAND and REPLY events seen. */
static char *run_row_env(const row *r, bool traced, bool quiet, unsigned *lines) {
  mailstore *st = store_new();
  GString *tr = g_string_new(NULL);
  imap_env env = {traced ? trace_cb : NULL, tr, quiet};
  sess x;
  sess_init_env(&x, st, &env);
  sess_feed(&x, r->in, strlen(r->in));
  char *all = g_strdup_printf("%s\n--\n%s\n--\n%s", x.out->str, x.evlog->str, tr->str);
  *lines = x.lines;
  sess_clear(&x);
  g_string_free(tr, TRUE);
  mailstore_free(st);
  return all;
}

/* lines_quiet: the same bytes out, other events and trace, and no
 * COMMAND or REPLY event; untraced, none of their text is made. */
START_TEST(quiet_lines_same_session) {
  const row *r = &rows[_i];
  unsigned loud_lines, quiet_lines, n;
  char *loud = run_row_env(r, true, false, &loud_lines);
  char *quiet = run_row_env(r, true, true, &quiet_lines);
  ck_assert_msg(strcmp(loud, quiet) == 0, "%s: traced quiet differs:\n%s\nwant\n%s", r->name, quiet,
                loud);
  ck_assert_uint_eq(quiet_lines, 0);
  ck_assert_uint_gt(loud_lines, 0);
  char *plain = run_row_env(r, false, false, &n), *bare = run_row_env(r, false, true, &n);
  ck_assert_msg(strcmp(plain, bare) == 0, "%s: untraced quiet differs", r->name);
  ck_assert_uint_eq(n, 0);
  g_free(loud);
  g_free(quiet);
  g_free(plain);
  g_free(bare);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("imap_srv");
  TCase *tc = tcase_create("transcripts");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, transcripts, 0, (int)G_N_ELEMENTS(rows));
  tcase_add_loop_test(tc, renewed_engine, 0, (int)G_N_ELEMENTS(rows));
  tcase_add_loop_test(tc, quiet_lines_same_session, 0, (int)G_N_ELEMENTS(rows));
  tcase_add_test(tc, renewed_after_growth);
  tcase_add_test(tc, keep_spare);
  suite_add_tcase(s, tc);
  tc = tcase_create("sessions");
  tcase_add_test(tc, two_sessions_expunge_and_exists);
  tcase_add_test(tc, trace_and_events_mask_secrets);
  tcase_add_test(tc, sasl_plain_responses);
  tcase_add_test(tc, far_behind_session_resyncs);
  tcase_add_test(tc, idle_reports_at_once);
  tcase_add_test(tc, starttls_and_logindisabled);
  tcase_add_test(tc, limits_and_autologout);
  tcase_add_test(tc, append_over_quota_and_hangup_mid_literal);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
