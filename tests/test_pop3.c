/* Tests for pop3_srv and pop3_cli: scripted transcripts for every command
 * (each also fed byte by byte and at every split), UPDATE semantics, the
 * maildrop lock, UIDL stability, autologout, and client <-> server in
 * memory over the mailstore maildrop. */
#include <stdlib.h>
#include <string.h>

#include "mailstore.h"
#include "mailstore_pop3.h"
#include "pop3_cli.h"
#include "pop3_srv.h"
#include "testutil.h"

#define MSG1 "Subject: one\r\n\r\nhello\r\n.dot line\r\n"
#define MSG2 "Subject: two\r\n\r\nline1\r\nline2\r\nline3\r\n"
#define GREET "+OK mail.example POP3 server ready\r\n"
#define BYE0 "+OK mail.example POP3 server signing off (0 messages deleted)\r\n"
#define LOGIN "USER bob\r\nPASS secret\r\n"
#define LOGGED "+OK send PASS\r\n+OK maildrop has 2 messages (71 octets)\r\n"

static mailstore *store_new(void) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 0, 0);
  const char *m[] = {MSG1, MSG2};
  for (int i = 0; i < 2; i++) {
    GBytes *b = g_bytes_new(m[i], strlen(m[i]));
    mailstore_deliver(st, "bob", NULL, b, 1000, NULL);
    g_bytes_unref(b);
  }
  return st;
}

static size_t inbox_count(mailstore *st) {
  mailstore_status s;
  mailstore_status_get(st, "bob", "INBOX", &s);
  return s.messages;
}

typedef struct {
  mailstore *st;
  pop3_srv *srv;
  uint64_t owner;
  GString *out;
  GString *evlog; /* event kinds (no replies/commands) */
  unsigned lines; /* COMMAND and REPLY events seen */
} sess;

static void sess_init_env(sess *x, mailstore *st, uint64_t owner, const pop3_srv_config *cfg0,
                          const pop3_env *env) {
  pop3_srv_config cfg = {.hostname = "mail.example"};
  if (cfg0)
    cfg = *cfg0;
  x->st = st;
  x->owner = owner;
  x->lines = 0;
  x->srv = pop3_srv_new(&cfg, env, 0);
  x->out = g_string_new(NULL);
  x->evlog = g_string_new(NULL);
}

static void sess_init(sess *x, mailstore *st, uint64_t owner, const pop3_srv_config *cfg0) {
  sess_init_env(x, st, owner, cfg0, NULL);
}

static void sess_clear(sess *x) {
  pop3_srv_free(x->srv);
  g_string_free(x->out, TRUE);
  g_string_free(x->evlog, TRUE);
}

static void pump(sess *x) {
  pop3_srv_event ev;
  while (pop3_srv_next_event(x->srv, &ev)) {
    if (ev.kind == POP3_SRV_EV_REPLY || ev.kind == POP3_SRV_EV_COMMAND) {
      x->lines++;
      continue;
    }
    g_string_append_printf(x->evlog, "%s;", pop3_srv_event_name(ev.kind));
    if (ev.kind == POP3_SRV_EV_AUTH) {
      if (strcmp(ev.user, "bob") != 0 || strcmp(ev.pass, "secret") != 0) {
        pop3_srv_auth_answer(x->srv, ev.id, POP3_AUTH_FAIL, NULL, NULL);
        continue;
      }
      mailstore_err e;
      mailstore_pop3 *d = mailstore_pop3_open(x->st, ev.user, x->owner, &e);
      if (!d)
        pop3_srv_auth_answer(x->srv, ev.id, POP3_AUTH_IN_USE, NULL, NULL);
      else
        pop3_srv_auth_answer(x->srv, ev.id, POP3_AUTH_OK, &mailstore_pop3_ops, d);
    } else if (ev.kind == POP3_SRV_EV_STLS) {
      /* flush the +OK in the clear, then "handshake" */
      size_t n;
      const uint8_t *p = pop3_srv_output_peek(x->srv, &n);
      g_string_append_len(x->out, (const char *)p, (gssize)n);
      pop3_srv_output_consume(x->srv, n);
      pop3_srv_tls_done(x->srv, true);
    }
  }
  size_t n;
  const uint8_t *p = pop3_srv_output_peek(x->srv, &n);
  g_string_append_len(x->out, (const char *)p, (gssize)n);
  pop3_srv_output_consume(x->srv, n);
}

static void sess_feed(sess *x, const char *data, size_t len) {
  pop3_srv_feed(x->srv, data, len, 1);
  pump(x);
}

typedef struct {
  const char *name;
  const char *in;
  const char *want;
  size_t left; /* messages left in INBOX afterwards */
} row;

static const row rows[] = {
    {"stat_list_uidl", LOGIN "STAT\r\nLIST\r\nLIST 2\r\nUIDL\r\nUIDL 1\r\nNOOP\r\nQUIT\r\n",
     GREET LOGGED "+OK 2 71\r\n+OK listing follows\r\n1 34\r\n2 37\r\n.\r\n+OK 2 37\r\n"
                  "+OK listing follows\r\n1 0000000100000001\r\n2 0000000100000002\r\n.\r\n"
                  "+OK 1 0000000100000001\r\n+OK\r\n" BYE0,
     2},
    {"retr_dot_stuffing", LOGIN "RETR 1\r\nRETR 2\r\nQUIT\r\n",
     GREET LOGGED "+OK 34 octets\r\nSubject: one\r\n\r\nhello\r\n..dot line\r\n.\r\n"
                  "+OK 37 octets\r\n" MSG2 ".\r\n" BYE0,
     2},
    {"top", LOGIN "TOP 2 1\r\nTOP 2 0\r\nTOP 1 9\r\nTOP 1\r\nTOP 3 1\r\nQUIT\r\n",
     GREET LOGGED "+OK top of message follows\r\nSubject: two\r\n\r\nline1\r\n.\r\n"
                  "+OK top of message follows\r\nSubject: two\r\n\r\n.\r\n"
                  "+OK top of message follows\r\nSubject: one\r\n\r\nhello\r\n..dot line\r\n.\r\n"
                  "-ERR usage: TOP msg n\r\n-ERR no such message\r\n" BYE0,
     2},
    {"dele_rset", LOGIN "DELE 1\r\nDELE 1\r\nRETR 1\r\nSTAT\r\nLIST\r\nRSET\r\nSTAT\r\nQUIT\r\n",
     GREET LOGGED
     "+OK message 1 deleted\r\n-ERR message 1 already deleted\r\n"
     "-ERR message 1 already deleted\r\n+OK 1 37\r\n+OK listing follows\r\n2 37\r\n.\r\n"
     "+OK\r\n+OK 2 71\r\n" BYE0,
     2},
    {"dele_quit_updates", LOGIN "DELE 2\r\nQUIT\r\n",
     GREET LOGGED "+OK message 2 deleted\r\n"
                  "+OK mail.example POP3 server signing off (1 messages deleted)\r\n",
     1},
    {"bad_numbers", LOGIN "RETR 0\r\nRETR 3\r\nRETR x\r\nDELE\r\nLIST 99999999999\r\nQUIT\r\n",
     GREET LOGGED "-ERR no such message\r\n-ERR no such message\r\n-ERR invalid message number\r\n"
                  "-ERR invalid message number\r\n-ERR invalid message number\r\n" BYE0,
     2},
    {"auth_state_errors", "STAT\r\nPASS x\r\nFOO\r\nUSER\r\nUSER bob\r\nPASS wrong\r\nQUIT\r\n",
     GREET "-ERR STAT not allowed in AUTHORIZATION state\r\n-ERR USER first\r\n"
           "-ERR unknown command\r\n-ERR USER needs a name\r\n+OK send PASS\r\n"
           "-ERR [AUTH] invalid credentials\r\n+OK mail.example POP3 server signing off\r\n",
     2},
    {"trans_state_errors", LOGIN "USER bob\r\nSTLS\r\nquit\r\n",
     GREET LOGGED "-ERR USER not allowed in TRANSACTION state\r\n"
                  "-ERR STLS not allowed in TRANSACTION state\r\n" BYE0,
     2},
    {"auth_plain_initial", "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\nSTAT\r\nQUIT\r\n",
     GREET "+OK maildrop has 2 messages (71 octets)\r\n+OK 2 71\r\n" BYE0, 2},
    {"auth_plain_continuation", "AUTH PLAIN\r\nYm9iAGJvYgBzZWNyZXQ=\r\nQUIT\r\n",
     GREET "+ \r\n+OK maildrop has 2 messages (71 octets)\r\n" BYE0, 2},
    {"auth_plain_failures",
     "AUTH PLAIN\r\n*\r\nAUTH PLAIN ZXZlAGJvYgBzZWNyZXQ=\r\nAUTH PLAIN AGJvYgB3cm9uZw==\r\n"
     "AUTH PLAIN bm9udWw=\r\nAUTH PLAIN !!!!\r\nAUTH CRAM-MD5\r\nAUTH\r\nQUIT\r\n",
     GREET "+ \r\n-ERR authentication cancelled\r\n"
           "-ERR [AUTH] authorization identity not permitted\r\n"
           "-ERR [AUTH] invalid credentials\r\n-ERR [AUTH] malformed SASL PLAIN response\r\n"
           "-ERR [AUTH] malformed SASL PLAIN response\r\n-ERR unsupported mechanism\r\n"
           "+OK supported mechanisms\r\nPLAIN\r\n.\r\n"
           "+OK mail.example POP3 server signing off\r\n",
     2},
    {"auth_plain_edges",
     "AUTH PLAIN =\r\nAUTH PLAIN AGJvYgBzZWMAcmV0\r\nAUTH PLAIN "
     "AGJvYgB4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4e"
     "Hh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eH"
     "h4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh"
     "4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4"
     "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHg=\r\n"
     "AUTH PLAIN Ym9iAGJvYgBzZWNyZXQ=\r\nQUIT\r\n",
     GREET "-ERR [AUTH] malformed SASL PLAIN response\r\n"
           "-ERR [AUTH] malformed SASL PLAIN response\r\n-ERR [AUTH] invalid credentials\r\n"
           "+OK maildrop has 2 messages (71 octets)\r\n" BYE0,
     2},
    {"capa", "CAPA\r\n" LOGIN "CAPA\r\nQUIT\r\n",
     GREET "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
           "PIPELINING\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION mailsim\r\n.\r\n" LOGGED
           "+OK capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
           "PIPELINING\r\nUSER\r\nSASL PLAIN\r\nIMPLEMENTATION mailsim\r\n.\r\n" BYE0,
     2},
    {"bare_lf_and_stls_unavailable", "USER bob\nPASS secret\nSTAT\n", GREET LOGGED "+OK 2 71\r\n",
     2},
    {"stls_refused_without_tls", "STLS\r\nQUIT\r\n",
     GREET "-ERR STLS not available\r\n+OK mail.example POP3 server signing off\r\n", 2},
};

static void run_row(const row *r, const size_t *cuts, size_t ncuts, const char *how) {
  mailstore *st = store_new();
  sess x;
  sess_init(&x, st, 1, NULL);
  pump(&x);
  size_t len = strlen(r->in), prev = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    sess_feed(&x, r->in + prev, end - prev);
    prev = end;
  }
  ck_assert_msg(strcmp(x.out->str, r->want) == 0, "%s (%s):\ngot:\n%s\nwant:\n%s", r->name, how,
                x.out->str, r->want);
  ck_assert_msg(inbox_count(st) == r->left, "%s (%s): got %zu messages left want %zu", r->name, how,
                inbox_count(st), r->left);
  sess_clear(&x);
  mailstore_free(st);
}

START_TEST(transcripts) {
  const row *r = &rows[_i];
  run_row(r, NULL, 0, "whole");
  size_t len = strlen(r->in);
  size_t *cuts = g_new(size_t, len);
  for (size_t i = 0; i + 1 < len; i++)
    cuts[i] = i + 1;
  run_row(r, cuts, len ? len - 1 : 0, "byte by byte");
  for (size_t c = 1; c < len; c++)
    run_row(r, &c, 1, "split");
  g_free(cuts);
}
END_TEST

/* A renewed engine (pop3_srv_renew) answers every transcript as a new one,
 * whatever the session before it left behind: each row after each other
 * row, that one run whole or cut at its middle (mid-line, a maildrop
 * held), the renewed one fed byte by byte. */
START_TEST(renewed_engine) {
  const row *r = &rows[_i];
  for (size_t k = 0; k < G_N_ELEMENTS(rows); k++) {
    const row *b = &rows[k];
    for (int cut = 0; cut < 2; cut++) {
      mailstore *st = store_new();
      sess y;
      sess_init(&y, st, 1, NULL);
      pump(&y);
      size_t blen = strlen(b->in);
      sess_feed(&y, b->in, cut ? blen / 2 : blen);
      pop3_srv *old = y.srv;
      g_string_free(y.out, TRUE);
      g_string_free(y.evlog, TRUE);
      /* The same store: the renew must have let the maildrop lock go. */
      mailstore *rst = store_new();
      sess x = {.st = rst, .owner = 1, .out = g_string_new(NULL), .evlog = g_string_new(NULL)};
      pop3_srv_config cfg = {.hostname = "mail.example"};
      x.srv = pop3_srv_renew(old, &cfg, NULL, 0);
      ck_assert_ptr_eq(x.srv, old); /* the storage was reused */
      mailstore_free(st);
      pump(&x);
      size_t len = strlen(r->in);
      for (size_t i = 0; i < len; i++)
        sess_feed(&x, r->in + i, 1);
      ck_assert_msg(strcmp(x.out->str, r->want) == 0, "%s after %s (%s):\ngot:\n%s\nwant:\n%s",
                    r->name, b->name, cut ? "cut" : "whole", x.out->str, r->want);
      ck_assert_uint_eq(inbox_count(rst), r->left);
      sess_clear(&x);
      mailstore_free(rst);
    }
  }
}
END_TEST

/* pop3_srv_keep: ended engines join the spare list with their maildrop
 * released at once (another session can log in), at most 16 of them;
 * pop3_srv_take gives them back last in first out. A spare whose output
 * grew past 64 KiB (14,000 pipelined NOOPs) still renews into a new
 * engine. */
START_TEST(keep_spare) {
  mailstore *st = store_new();
  sess a, b, c;
  sess_init(&a, st, 1, NULL);
  sess_init(&b, st, 2, NULL);
  sess_init(&c, st, 3, NULL);
  sess_feed(&a, LOGIN, strlen(LOGIN));
  GString *noops = g_string_new(NULL);
  for (int i = 0; i < 14000; i++)
    g_string_append(noops, "NOOP\r\n");
  sess_feed(&a, noops->str, noops->len);
  ck_assert_uint_gt(a.out->len, 64000);
  g_string_free(noops, TRUE);
  pop3_srv *spares = NULL;
  pop3_srv_keep(&spares, a.srv);
  ck_assert_ptr_eq(spares, a.srv);
  sess_feed(&b, LOGIN, strlen(LOGIN));
  ck_assert(g_str_has_suffix(b.out->str, "+OK maildrop has 2 messages (71 octets)\r\n"));
  pop3_srv_keep(&spares, b.srv);
  sess_feed(&c, LOGIN, strlen(LOGIN)); /* b's lock went with b's keep */
  ck_assert(g_str_has_suffix(c.out->str, "+OK maildrop has 2 messages (71 octets)\r\n"));
  sess_clear(&c);
  pop3_srv *more[15];
  for (int i = 0; i < 15; i++) {
    more[i] = pop3_srv_new(NULL, NULL, 0);
    pop3_srv_keep(&spares, more[i]); /* the 15th is over the cap: freed */
  }
  for (int i = 13; i >= 0; i--) {
    ck_assert_ptr_eq(pop3_srv_take(&spares), more[i]);
    pop3_srv_free(more[i]);
  }
  ck_assert_ptr_eq(pop3_srv_take(&spares), b.srv);
  pop3_srv_free(b.srv);
  pop3_srv_config cfg = {.hostname = "mail.example"};
  sess x = {.st = st, .owner = 4, .out = g_string_new(NULL), .evlog = g_string_new(NULL)};
  x.srv = pop3_srv_renew(pop3_srv_take(&spares), &cfg, NULL, 0);
  ck_assert_ptr_eq(x.srv, a.srv);
  ck_assert_ptr_null(pop3_srv_take(&spares));
  pump(&x);
  sess_feed(&x, rows[0].in, strlen(rows[0].in));
  ck_assert_msg(strcmp(x.out->str, rows[0].want) == 0, "got:\n%s\nwant:\n%s", x.out->str,
                rows[0].want);
  sess_clear(&x);
  g_string_free(a.out, TRUE);
  g_string_free(a.evlog, TRUE);
  g_string_free(b.out, TRUE);
  g_string_free(b.evlog, TRUE);
  mailstore_free(st);
}
END_TEST

/* RFC 1939 §3 as a line-by-line rule, written plainly: each line of DATA
 * (ended by LF, an optional CR before it dropped) goes out with CRLF and a
 * leading "." doubled; with BODY_LINES >= 0, the header, the blank line and
 * that many body lines. */
static void ref_stuffed(GString *out, const char *p, size_t n, long body_lines) {
  size_t off = 0;
  bool in_body = false;
  long sent = 0;
  while (off < n && !(in_body && body_lines >= 0 && sent >= body_lines)) {
    const char *nl = memchr(p + off, '\n', n - off);
    size_t end = nl ? (size_t)(nl - p) : n, len = end - off;
    if (len && p[off + len - 1] == '\r')
      len--;
    if (len && p[off] == '.')
      g_string_append_c(out, '.');
    g_string_append_len(out, p + off, (gssize)len);
    g_string_append(out, "\r\n");
    if (in_body)
      sent++;
    else if (len == 0)
      in_body = true;
    off = nl ? end + 1 : n;
  }
  g_string_append(out, ".\r\n");
}

/* RETR and TOP 0..4 of stored messages with bare LF, bare CR, dots, no
 * final line end: the same octets as the plain rule (the server sends runs
 * of ordinary lines at once). */
START_TEST(stuffing_odd_messages) {
  static const char *const bodies[] = {"A: 1\r\n\r\nx\r\n.y\r\nz\r\n",
                                       "A: 1\n\n.\n..\nend",
                                       "A: 1\r\n\r\nno end",
                                       "A: 1\r\n\r\nbare\rcr\r\n.\r\n",
                                       ".A\r\n\r\n\r\n\r\n.",
                                       "\r\n",
                                       "A: 1\r\n\r\nx\r",
                                       "A: 1\r\n\nmixed\r\nends\n.\r\n"};
  for (size_t b = 0; b < G_N_ELEMENTS(bodies); b++) {
    mailstore *st = mailstore_new(1);
    mailstore_user_add(st, "bob", 0, 0);
    GBytes *m = g_bytes_new(bodies[b], strlen(bodies[b]));
    mailstore_deliver(st, "bob", NULL, m, 1000, NULL);
    g_bytes_unref(m);
    for (long top = -1; top <= 4; top++) {
      sess x;
      sess_init(&x, st, 1, NULL);
      sess_feed(&x, LOGIN, strlen(LOGIN));
      g_string_truncate(x.out, 0);
      char *cmd = top < 0 ? g_strdup("RETR 1\r\n") : g_strdup_printf("TOP 1 %ld\r\n", top);
      sess_feed(&x, cmd, strlen(cmd));
      const char *nl = strstr(x.out->str, "\r\n");
      ck_assert_ptr_nonnull(nl);
      GString *want = g_string_new(NULL);
      ref_stuffed(want, bodies[b], strlen(bodies[b]), top);
      ck_assert_msg(strcmp(nl + 2, want->str) == 0, "body %zu, %s: got \"%s\" want \"%s\"", b, cmd,
                    nl + 2, want->str);
      g_string_free(want, TRUE);
      g_free(cmd);
      sess_feed(&x, "QUIT\r\n", 6);
      sess_clear(&x);
    }
    mailstore_free(st);
  }
}
END_TEST

START_TEST(line_too_long) {
  mailstore *st = store_new();
  sess x;
  sess_init(&x, st, 1, NULL);
  GString *in = g_string_new("NOOP ");
  for (int i = 0; i < 2000; i++)
    g_string_append_c(in, 'x');
  g_string_append(in, "\r\n" LOGIN "STAT\r\n");
  for (size_t i = 0; i < in->len; i += 7)
    sess_feed(&x, in->str + i, MIN(7, in->len - i));
  ck_assert_str_eq(x.out->str, GREET "-ERR line too long\r\n" LOGGED "+OK 2 71\r\n");
  g_string_free(in, TRUE);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(stls_discards_injected_input) {
  mailstore *st = store_new();
  pop3_srv_config cfg = {.hostname = "mail.example", .tls_available = true};
  sess x;
  sess_init(&x, st, 1, &cfg);
  /* "STAT" injected behind STLS in the same packet must not be executed */
  const char *in = "CAPA\r\nSTLS\r\nSTAT\r\n";
  sess_feed(&x, in, strlen(in));
  ck_assert_str_eq(x.evlog->str, "stls;");
  ck_assert(strstr(x.out->str, "STLS\r\n") != NULL);
  ck_assert(g_str_has_suffix(x.out->str, "+OK begin TLS negotiation\r\n"));
  g_string_truncate(x.out, 0);
  sess_feed(&x, "CAPA\r\n", 6); /* no STLS after TLS */
  ck_assert(strstr(x.out->str, "STLS") == NULL);
  ck_assert_int_eq(pop3_srv_state_get(x.srv), POP3_SRV_AUTHORIZATION);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(tls_required_refuses_login) {
  mailstore *st = store_new();
  pop3_srv_config cfg = {.hostname = "mail.example", .tls_available = true, .tls_required = true};
  sess x;
  sess_init(&x, st, 1, &cfg);
  sess_feed(&x, "USER bob\r\nAUTH PLAIN AGJvYgBzZWNyZXQ=\r\n", 39);
  ck_assert_str_eq(x.out->str, GREET "-ERR [AUTH] TLS required: use STLS first\r\n"
                                     "-ERR [AUTH] TLS required: use STLS first\r\n");
  g_string_truncate(x.out, 0);
  sess_feed(&x, "STLS\r\n" LOGIN, 6 + strlen(LOGIN));
  ck_assert_str_eq(x.out->str, "+OK begin TLS negotiation\r\n"); /* LOGIN was injected */
  g_string_truncate(x.out, 0);
  sess_feed(&x, LOGIN, strlen(LOGIN));
  ck_assert_str_eq(x.out->str, LOGGED);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

START_TEST(dele_only_at_quit_and_drop_keeps_all) {
  mailstore *st = store_new();
  sess a;
  sess_init(&a, st, 1, NULL);
  const char *in = LOGIN "DELE 1\r\nDELE 2\r\n";
  sess_feed(&a, in, strlen(in));
  ck_assert_uint_eq(inbox_count(st), 2); /* marks only */
  pop3_srv_hangup(a.srv);                /* connection dropped before QUIT */
  ck_assert_int_eq(pop3_srv_state_get(a.srv), POP3_SRV_CLOSED);
  ck_assert_uint_eq(inbox_count(st), 2);
  sess_clear(&a);
  /* the lock was released: a new session works and deletes at QUIT */
  sess b;
  sess_init(&b, st, 2, NULL);
  in = LOGIN "DELE 1\r\n";
  sess_feed(&b, in, strlen(in));
  ck_assert_uint_eq(inbox_count(st), 2);
  sess_feed(&b, "QUIT\r\n", 6);
  ck_assert_uint_eq(inbox_count(st), 1);
  ck_assert_str_eq(b.evlog->str, "auth;update;close;");
  sess_clear(&b);
  /* freeing a logged-in session also commits nothing */
  sess c;
  sess_init(&c, st, 3, NULL);
  in = LOGIN "DELE 1\r\n";
  sess_feed(&c, in, strlen(in));
  sess_clear(&c);
  ck_assert_uint_eq(inbox_count(st), 1);
  mailstore_free(st);
}
END_TEST

START_TEST(in_use_lock) {
  mailstore *st = store_new();
  sess a, b;
  sess_init(&a, st, 1, NULL);
  sess_init(&b, st, 2, NULL);
  sess_feed(&a, LOGIN, strlen(LOGIN));
  sess_feed(&b, LOGIN, strlen(LOGIN));
  ck_assert_str_eq(b.out->str, GREET "+OK send PASS\r\n-ERR [IN-USE] maildrop already locked\r\n");
  sess_feed(&a, "QUIT\r\n", 6);
  sess_feed(&b, LOGIN, strlen(LOGIN));
  ck_assert(g_str_has_suffix(b.out->str, "+OK maildrop has 2 messages (71 octets)\r\n"));
  sess_clear(&a);
  sess_clear(&b);
  mailstore_free(st);
}
END_TEST

START_TEST(uidl_stable_across_sessions) {
  mailstore *st = store_new();
  char *lists[2];
  for (int k = 0; k < 2; k++) {
    sess x;
    sess_init(&x, st, (uint64_t)k + 1, NULL);
    const char *in = LOGIN "UIDL 2\r\nQUIT\r\n";
    sess_feed(&x, in, strlen(in));
    lists[k] = g_strdup(strstr(x.out->str, "+OK 2 "));
    sess_clear(&x);
    if (k == 0) { /* message 1 goes away and a new one arrives */
      mailstore_expunge_uid(st, "bob", "INBOX", 1);
      GBytes *b = g_bytes_new_static("x\r\n", 3);
      mailstore_deliver(st, "bob", NULL, b, 5, NULL);
      g_bytes_unref(b);
    }
  }
  /* message 2 of session 1 is message 1 of session 2: same UIDL */
  ck_assert_str_eq(lists[0], "+OK 2 0000000100000002\r\n" BYE0);
  ck_assert_str_eq(lists[1], "+OK 2 0000000100000003\r\n" BYE0);
  sess x;
  sess_init(&x, st, 9, NULL);
  const char *in = LOGIN "UIDL\r\n";
  sess_feed(&x, in, strlen(in));
  ck_assert(g_str_has_suffix(x.out->str, "1 0000000100000002\r\n2 0000000100000003\r\n.\r\n"));
  sess_clear(&x);
  g_free(lists[0]);
  g_free(lists[1]);
  mailstore_free(st);
}
END_TEST

static void trace_cb(void *ud, const char *ev, const char *detail) {
  g_string_append_printf(ud, "%s:%s|", ev, detail);
}

START_TEST(trace_masks_secrets) {
  GString *tr = g_string_new(NULL);
  pop3_env env = {trace_cb, tr, false};
  pop3_srv_config cfg = {.hostname = "h"};
  pop3_srv *s = pop3_srv_new(&cfg, &env, 0);
  const char *in = "USER bob\r\nPASS secret\r\n";
  pop3_srv_feed(s, in, strlen(in), 1);
  GString *evs = g_string_new(NULL);
  pop3_srv_event ev;
  while (pop3_srv_next_event(s, &ev)) {
    g_string_append_printf(evs, "%s:%s|", pop3_srv_event_name(ev.kind), ev.text ? ev.text : "");
    if (ev.kind == POP3_SRV_EV_AUTH)
      pop3_srv_auth_answer(s, ev.id, POP3_AUTH_FAIL, NULL, NULL);
  }
  in = "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\nAUTH PLAIN\r\nAGJvYgBzZWNyZXQ=\r\n";
  pop3_srv_feed(s, in, strlen(in), 2);
  while (pop3_srv_next_event(s, &ev)) {
    g_string_append_printf(evs, "%s:%s|", pop3_srv_event_name(ev.kind), ev.text ? ev.text : "");
    if (ev.kind == POP3_SRV_EV_AUTH)
      pop3_srv_auth_answer(s, ev.id, POP3_AUTH_FAIL, NULL, NULL);
  }
  ck_assert_msg(!strstr(tr->str, "secret") && !strstr(evs->str, "secret") &&
                    !strstr(tr->str, "AGJvYgBz") && !strstr(evs->str, "AGJvYgBz"),
                "secret leaked: %s / %s", tr->str, evs->str);
  ck_assert(strstr(evs->str, "command:PASS ****|auth:|") != NULL);
  ck_assert(strstr(evs->str, "command:AUTH PLAIN ****|") != NULL);
  ck_assert(strstr(tr->str, "state:AUTHORIZATION -> AUTH_WAIT|") != NULL);
  pop3_srv_free(s);
  g_string_free(tr, TRUE);
  g_string_free(evs, TRUE);
}
END_TEST

START_TEST(autologout_no_update) {
  mailstore *st = store_new();
  pop3_srv_config cfg = {.hostname = "mail.example", .idle_timeout = 1000};
  sess x;
  sess_init(&x, st, 1, &cfg);
  const char *in = LOGIN "DELE 1\r\n";
  sess_feed(&x, in, strlen(in)); /* at now=1 */
  ck_assert_int_eq(pop3_srv_deadline(x.srv), 1001);
  pop3_srv_tick(x.srv, 1000);
  ck_assert_int_eq(pop3_srv_state_get(x.srv), POP3_SRV_TRANSACTION);
  pop3_srv_tick(x.srv, 1001);
  pump(&x);
  ck_assert_int_eq(pop3_srv_state_get(x.srv), POP3_SRV_CLOSED);
  ck_assert(g_str_has_suffix(x.out->str, "-ERR autologout timer expired\r\n"));
  ck_assert_str_eq(x.evlog->str, "auth;close;");
  ck_assert_uint_eq(inbox_count(st), 2);
  ck_assert_int_eq(pop3_srv_deadline(x.srv), INT64_MAX);
  sess_clear(&x);
  mailstore_free(st);
}
END_TEST

/* ---- client <-> server in memory ---- */

typedef struct {
  GString *log; /* client events */
  GPtrArray *fetched;
} cli_rec;

/* Runs a client against a server session, moving at most CHUNK bytes per
 * step in each direction. */
/* Seen UIDLs given by reference (pop3_cli_add_seen_ref) instead of copied. */
static bool seen_ref;

static void converse_on(pop3_cli *c, mailstore *st, const pop3_srv_config *scfg,
                        const char *const *seen, size_t chunk, cli_rec *rec, GString *sent) {
  sess x;
  sess_init(&x, st, 77, scfg);
  for (size_t i = 0; seen && seen[i]; i++)
    if (seen_ref)
      pop3_cli_add_seen_ref(c, seen[i]); /* literals: they outlive the engine */
    else
      pop3_cli_add_seen(c, seen[i]);
  rec->log = g_string_new(NULL);
  rec->fetched = g_ptr_array_new_with_free_func(g_free);
  GString *s2c = g_string_new(NULL);
  bool closed = false;
  for (int guard = 0; guard < 100000 && !closed; guard++) {
    pump(&x);
    g_string_append_len(s2c, x.out->str, (gssize)x.out->len);
    g_string_truncate(x.out, 0);
    size_t take = MIN(chunk, s2c->len);
    if (take) {
      pop3_cli_feed(c, s2c->str, take, guard);
      g_string_erase(s2c, 0, (gssize)take);
    }
    pop3_cli_event ev;
    bool cli_tls = false;
    while (pop3_cli_next_event(c, &ev)) {
      if (ev.kind == POP3_CLI_EV_COMMAND || ev.kind == POP3_CLI_EV_REPLY)
        continue;
      g_string_append_printf(rec->log, "%s", pop3_cli_event_name(ev.kind));
      if (ev.kind == POP3_CLI_EV_MESSAGE) {
        g_string_append_printf(rec->log, "(%zu,%s)", ev.index, ev.uidl);
        g_ptr_array_add(rec->fetched,
                        g_strndup(g_bytes_get_data(ev.data, NULL), g_bytes_get_size(ev.data)));
      }
      if (ev.kind == POP3_CLI_EV_DONE)
        g_string_append_printf(rec->log, "(%zu,%zu,%d)", ev.count, ev.deleted, ev.ok);
      if (ev.kind == POP3_CLI_EV_ERROR)
        g_string_append_printf(rec->log, "(%s)", ev.text);
      if (ev.kind == POP3_CLI_EV_STLS)
        cli_tls = true;
      if (ev.kind == POP3_CLI_EV_CLOSE)
        closed = true;
      g_string_append_c(rec->log, ';');
    }
    size_t n;
    const uint8_t *p = pop3_cli_output_peek(c, &n);
    size_t give = MIN(chunk, n);
    if (give) {
      if (sent)
        g_string_append_len(sent, (const char *)p, (gssize)give);
      pop3_srv_feed(x.srv, p, give, guard);
      pop3_cli_output_consume(c, give);
    }
    if (cli_tls)
      pop3_cli_tls_done(c, true);
  }
  ck_assert_msg(closed, "conversation did not finish");
  g_string_free(s2c, TRUE);
  sess_clear(&x);
}

static void converse(mailstore *st, const pop3_cli_config *ccfg, const pop3_srv_config *scfg,
                     const char *const *seen, size_t chunk, cli_rec *rec) {
  pop3_cli *c = pop3_cli_new(ccfg, NULL, 0);
  converse_on(c, st, scfg, seen, chunk, rec, NULL);
  pop3_cli_free(c);
}

static void cli_rec_clear(cli_rec *r) {
  g_string_free(r->log, TRUE);
  g_ptr_array_unref(r->fetched);
}

START_TEST(client_leave_then_delete_modes) {
  static const size_t chunks[] = {1, 2, 3, 5, 64, 100000};
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
    mailstore *st = store_new();
    pop3_cli_config cc = {.user = "bob", .pass = "secret"};
    cli_rec r;
    converse(st, &cc, NULL, NULL, chunks[ci], &r);
    ck_assert_msg(strcmp(r.log->str, "message(1,0000000100000001);message(2,0000000100000002);"
                                     "done(2,0,1);close;") == 0,
                  "chunk %zu: got %s", chunks[ci], r.log->str);
    ck_assert_str_eq(g_ptr_array_index(r.fetched, 0), MSG1); /* un-stuffed */
    ck_assert_str_eq(g_ptr_array_index(r.fetched, 1), MSG2);
    ck_assert_uint_eq(inbox_count(st), 2); /* left on the server */
    cli_rec_clear(&r);
    /* new mail arrives; the client knows the first two */
    GBytes *b = g_bytes_new_static("Subject: 3\r\n\r\n.\r\n", 17);
    mailstore_deliver(st, "bob", NULL, b, 9, NULL);
    g_bytes_unref(b);
    const char *seen[] = {"0000000100000001", "0000000100000002", NULL};
    cc.auth_plain = true;
    cc.delete_after = true;
    seen_ref = ci % 2; /* copied or borrowed: the same session */
    converse(st, &cc, NULL, seen, chunks[ci], &r);
    seen_ref = false;
    ck_assert_msg(strcmp(r.log->str, "message(3,0000000100000003);done(1,1,1);close;") == 0,
                  "chunk %zu: got %s", chunks[ci], r.log->str);
    ck_assert_str_eq(g_ptr_array_index(r.fetched, 0), "Subject: 3\r\n\r\n.\r\n");
    ck_assert_uint_eq(inbox_count(st), 2);
    cli_rec_clear(&r);
    mailstore_free(st);
  }
}
END_TEST

START_TEST(client_stls_and_failures) {
  mailstore *st = store_new();
  pop3_srv_config sc = {.hostname = "mail.example", .tls_available = true, .tls_required = true};
  pop3_cli_config cc = {.user = "bob", .pass = "secret", .use_stls = true, .delete_after = true};
  cli_rec r;
  converse(st, &cc, &sc, NULL, 3, &r);
  ck_assert_str_eq(r.log->str, "stls;message(1,0000000100000001);message(2,0000000100000002);"
                               "done(2,2,1);close;");
  ck_assert_uint_eq(inbox_count(st), 0);
  cli_rec_clear(&r);
  /* server without STLS, client requires it */
  cc.require_tls = true;
  converse(st, &cc, NULL, NULL, 7, &r);
  ck_assert_str_eq(r.log->str, "error(server does not offer STLS);done(0,0,0);close;");
  cli_rec_clear(&r);
  /* wrong password */
  pop3_cli_config bad = {.user = "bob", .pass = "nope"};
  converse(st, &bad, NULL, NULL, 4, &r);
  ck_assert_str_eq(r.log->str, "error(-ERR [AUTH] invalid credentials);done(0,0,0);close;");
  cli_rec_clear(&r);
  mailstore_free(st);
}
END_TEST

/* pop3_cli_renew gives the engine pop3_cli_new would: every conversation
 * below, run on an engine renewed from one left in each of these states
 * (complete, cut with input and events pending, one that held a 100 kB
 * message, one with a seen list), has the events, bodies and sent bytes
 * of a new engine. */
START_TEST(renewed_client_same_as_new) {
  static const size_t chunks[] = {1, 3, 100000};
  pop3_srv_config tls_sc = {
      .hostname = "mail.example", .tls_available = true, .tls_required = true};
  const char *seen2[] = {"0000000100000001", NULL};
  const struct {
    pop3_cli_config cc;
    const pop3_srv_config *sc;
    const char *const *seen;
  } targets[] = {
      {{.user = "bob", .pass = "secret"}, NULL, NULL},
      {{.user = "bob", .pass = "secret", .auth_plain = true, .delete_after = true}, NULL, seen2},
      {{.user = "bob", .pass = "secret", .use_stls = true, .delete_after = true}, &tls_sc, NULL},
      {{.user = "bob", .pass = "secret", .require_tls = true}, NULL, NULL},
      {{.user = "bob", .pass = "nope"}, NULL, NULL},
  };
  enum { COMPLETE, CUT, BIG, SEEN, NPRIOR };
  GString *big = g_string_new("Subject: big\r\n\r\n");
  while (big->len < 100000)
    g_string_append(big,
                    "0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
  for (size_t ci = 0; ci < G_N_ELEMENTS(chunks); ci++) {
    for (int prior = 0; prior < NPRIOR; prior++) {
      for (size_t t = 0; t < G_N_ELEMENTS(targets); t++) {
        mailstore *st = store_new();
        cli_rec want;
        GString *want_sent = g_string_new(NULL);
        pop3_cli *n = pop3_cli_new(&targets[t].cc, NULL, 0);
        converse_on(n, st, targets[t].sc, targets[t].seen, chunks[ci], &want, want_sent);
        pop3_cli_free(n);
        size_t want_left = inbox_count(st);
        mailstore_free(st);
        /* the prior session, on a store of its own */
        pop3_cli_config pc = {.user = "bob", .pass = "secret", .delete_after = prior == BIG};
        pop3_cli *old = pop3_cli_new(&pc, NULL, 0);
        if (prior == CUT) { /* a reply and a half fed: events, output and input pending */
          pop3_cli_feed(old, GREET "+OK ca", strlen(GREET) + 6, 1);
        } else if (prior == SEEN) {
          pop3_cli_add_seen(old, "0000000100000002");
          pop3_cli_add_seen(old, "0000000100000003");
        } else {
          mailstore *pst = store_new();
          if (prior == BIG) {
            GBytes *b = g_bytes_new(big->str, big->len);
            mailstore_deliver(pst, "bob", NULL, b, 1000, NULL);
            g_bytes_unref(b);
          }
          cli_rec pr;
          converse_on(old, pst, NULL, seen2, 100000, &pr, NULL);
          if (prior == BIG)
            ck_assert_uint_eq(pr.fetched->len, 2);
          cli_rec_clear(&pr);
          mailstore_free(pst);
        }
        pop3_cli *c = pop3_cli_renew(old, &targets[t].cc, NULL, 0);
        ck_assert_ptr_eq(c, old); /* the storage is reused */
        st = store_new();
        cli_rec got;
        GString *got_sent = g_string_new(NULL);
        converse_on(c, st, targets[t].sc, targets[t].seen, chunks[ci], &got, got_sent);
        ck_assert_msg(strcmp(got.log->str, want.log->str) == 0,
                      "chunk %zu prior %d target %zu: got events %s want %s", chunks[ci], prior, t,
                      got.log->str, want.log->str);
        ck_assert_msg(strcmp(got_sent->str, want_sent->str) == 0,
                      "chunk %zu prior %d target %zu: got sent %s want %s", chunks[ci], prior, t,
                      got_sent->str, want_sent->str);
        ck_assert_uint_eq(got.fetched->len, want.fetched->len);
        for (guint i = 0; i < got.fetched->len; i++)
          ck_assert_str_eq(got.fetched->pdata[i], want.fetched->pdata[i]);
        ck_assert_uint_eq(inbox_count(st), want_left);
        /* kept as a spare, or freed when there is one */
        pop3_cli *spare = NULL;
        pop3_cli_keep(&spare, c);
        ck_assert_ptr_eq(spare, c);
        pop3_cli_keep(&spare, pop3_cli_new(&targets[t].cc, NULL, 0));
        ck_assert_ptr_eq(spare, c);
        pop3_cli_free(spare);
        cli_rec_clear(&got);
        cli_rec_clear(&want);
        g_string_free(got_sent, TRUE);
        g_string_free(want_sent, TRUE);
        mailstore_free(st);
      }
    }
  }
  /* renewing NULL is pop3_cli_new */
  pop3_cli *n = pop3_cli_renew(NULL, &targets[0].cc, NULL, 7);
  ck_assert_int_eq(pop3_cli_deadline(n), 7 + (int64_t)300 * 1000000000);
  pop3_cli_free(n);
  g_string_free(big, TRUE);
}
END_TEST

/* ---- client against a scripted server ---- */

/* Feeds the client REPLIES[i] in turn (each in chunks of CHUNK octets,
 * after the commands the previous ones drew); the log holds the commands
 * sent and the events. STLS events are answered with a good handshake. */
static char *scripted_env(const pop3_cli_config *cfg, const pop3_env *env,
                          const char *const *replies, size_t n, const size_t *lens, size_t chunk,
                          unsigned *lines) {
  pop3_cli *c = pop3_cli_new(cfg, env, 0);
  pop3_cli_add_seen(c, "seen1");
  GString *log = g_string_new(NULL);
  for (size_t i = 0; i < n; i++) {
    size_t len = lens && lens[i] ? lens[i] : strlen(replies[i]);
    for (size_t off = 0; off < len; off += chunk)
      pop3_cli_feed(c, replies[i] + off, MIN(chunk, len - off), (int64_t)i);
    pop3_cli_event ev;
    bool tls = false;
    while (pop3_cli_next_event(c, &ev)) {
      if (ev.kind == POP3_CLI_EV_COMMAND || ev.kind == POP3_CLI_EV_REPLY) {
        (*lines)++;
        continue;
      }
      g_string_append(log, pop3_cli_event_name(ev.kind));
      if (ev.kind == POP3_CLI_EV_MESSAGE)
        g_string_append_printf(log, "(%zu,%s,%zu)", ev.index, ev.uidl, g_bytes_get_size(ev.data));
      if (ev.kind == POP3_CLI_EV_ERROR)
        g_string_append_printf(log, "(%s)", ev.text);
      g_string_append(log, "; ");
      tls |= ev.kind == POP3_CLI_EV_STLS;
    }
    if (tls)
      pop3_cli_tls_done(c, true);
    size_t k;
    const uint8_t *p = pop3_cli_output_peek(c, &k);
    g_string_append_printf(log, "> %.*s", (int)k, (const char *)p);
    pop3_cli_output_consume(c, k);
  }
  pop3_cli_free(c);
  return g_string_free(log, FALSE);
}

static char *scripted(const pop3_cli_config *cfg, const char *const *replies, size_t n,
                      const size_t *lens, size_t chunk) {
  unsigned lines = 0;
  return scripted_env(cfg, NULL, replies, n, lens, chunk, &lines);
}

static void scripted_all_splits(const pop3_cli_config *cfg, const char *const *replies, size_t n,
                                const size_t *lens, const char *want) {
  static const size_t chunks[] = {1, 2, 3, 7, 1000};
  for (size_t i = 0; i < G_N_ELEMENTS(chunks); i++) {
    char *got = scripted(cfg, replies, n, lens, chunks[i]);
    ck_assert_msg(strcmp(got, want) == 0, "chunk %zu:\n got  %s\n want %s", chunks[i], got, want);
    g_free(got);
  }
}

/* CAPA lines are compared whole, in any case; a NUL ends the body as
 * the C string copy the client once made ended it. */
START_TEST(client_capa_lines) {
  pop3_cli_config cfg = {.user = "bob", .pass = "pw", .use_stls = true, .require_tls = true};
  static const char *const yes[] = {"+OK ready\r\n", "+OK\r\n stls\r\nstls \r\nsTlS\r\n.\r\n",
                                    "+OK go\r\n", "+OK\r\n.\r\n"};
  scripted_all_splits(&cfg, yes, 4, NULL, "> CAPA\r\n> STLS\r\nstls; > CAPA\r\n> USER bob\r\n");
  static const char no_body[] = "+OK\r\nSTLSX\r\nx\0\r\nSTLS\r\n.\r\n";
  static const char *const no[] = {"+OK ready\r\n", no_body};
  static const size_t no_lens[] = {0, sizeof no_body - 1};
  scripted_all_splits(&cfg, no, 2, no_lens,
                      "> CAPA\r\nerror(server does not offer STLS); done; close; > ");
}
END_TEST

/* UIDL lines read as sscanf("%23s %79s") read them: white space around
 * and between the words, a long number cut at 23 octets (its rest is the
 * id), seen ids and number 0 skipped. */
START_TEST(client_uidl_lines) {
  pop3_cli_config cfg = {.user = "bob", .pass = "pw"};
  static const char *const r[] = {
      "+OK ready\r\n",
      "+OK\r\n.\r\n",
      "+OK\r\n",
      "+OK\r\n",
      "+OK 6 60\r\n",
      ("+OK\r\n1 aaa\r\n\r\n2\tbbb\r\n0 zero\r\n123456789012345678901234567 x\r\n4 seen1\r\n"
       " 5   e5 extra\r\n6\r\n.\r\n"),
      "+OK\r\none\r\n.\r\n",
      "+OK\r\n..two\r\n.\r\n",
      "+OK\r\n.\r\n",
      "+OK\r\nx\r\n.\r\n",
      "+OK bye\r\n"};
  scripted_all_splits(&cfg, r, G_N_ELEMENTS(r), NULL,
                      "> CAPA\r\n> USER bob\r\n> PASS pw\r\n> STAT\r\n> UIDL\r\n> RETR 1\r\n"
                      "message(1,aaa,5); > RETR 2\r\n"
                      "message(2,bbb,6); > RETR 18446744073709551615\r\n"
                      "message(18446744073709551615,4567,0); > RETR 5\r\n"
                      "message(5,e5,3); > QUIT\r\ndone; close; > ");
}
END_TEST

/* max_message: a body that outgrows it mid-way is skipped, one that just
 * fits is kept; ordinary, stuffed and bare-LF lines mixed. */
START_TEST(client_body_limit) {
  pop3_cli_config cfg = {.user = "bob", .pass = "pw", .max_message = 16};
  static const char *const r[] = {"+OK ready\r\n",
                                  "+OK\r\n.\r\n",
                                  "+OK\r\n",
                                  "+OK\r\n",
                                  "+OK 3 60\r\n",
                                  "+OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n",
                                  "+OK\r\naaaa\r\nbbbb\r\ncccc\r\n.\r\n",
                                  "+OK\r\n..aaa\r\nbbbb\r\n.\r\n",
                                  "+OK\r\nxx\ny\r\n..\r\nzzzz\r\n.\r\n",
                                  "+OK bye\r\n"};
  scripted_all_splits(&cfg, r, G_N_ELEMENTS(r), NULL,
                      "> CAPA\r\n> USER bob\r\n> PASS pw\r\n> STAT\r\n> UIDL\r\n> RETR 1\r\n"
                      "error(message too large, skipped); > RETR 2\r\n"
                      "message(2,b,12); > RETR 3\r\n"
                      "message(3,c,16); > QUIT\r\ndone; close; > ");
}
END_TEST

/* lines_quiet: the same bytes, other events and trace, no COMMAND or
 * REPLY event (server rows and a client session, traced and not). */
START_TEST(quiet_lines) {
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got[4];
    unsigned lines[4];
    for (int k = 0; k < 4; k++) {
      mailstore *st = store_new();
      GString *tr = g_string_new(NULL);
      pop3_env env = {k & 1 ? trace_cb : NULL, tr, k >= 2};
      sess x;
      sess_init_env(&x, st, 1, NULL, &env);
      pump(&x);
      sess_feed(&x, rows[i].in, strlen(rows[i].in));
      got[k] = g_strdup_printf("%s\n--\n%s\n--\n%s", x.out->str, x.evlog->str, tr->str);
      lines[k] = x.lines;
      sess_clear(&x);
      g_string_free(tr, TRUE);
      mailstore_free(st);
    }
    ck_assert_msg(strcmp(got[0], got[2]) == 0 && strcmp(got[1], got[3]) == 0, "%s differs",
                  rows[i].name);
    ck_assert(lines[0] > 0 && lines[1] > 0 && lines[2] == 0 && lines[3] == 0);
    for (int k = 0; k < 4; k++)
      g_free(got[k]);
  }
  pop3_cli_config cfg = {.user = "bob", .pass = "pw"};
  static const char *const r[] = {"+OK ready\r\n",     "+OK\r\n.\r\n", "+OK\r\n",
                                  "+OK\r\n",           "+OK 1 9\r\n",  "+OK\r\n1 a\r\n.\r\n",
                                  "+OK\r\nx\r\n.\r\n", "+OK bye\r\n"};
  char *cg[4];
  unsigned cl[4] = {0, 0, 0, 0};
  GString *ctr[4];
  for (int k = 0; k < 4; k++) {
    ctr[k] = g_string_new(NULL);
    pop3_env env = {k & 1 ? trace_cb : NULL, ctr[k], k >= 2};
    cg[k] = scripted_env(&cfg, &env, r, G_N_ELEMENTS(r), NULL, 3, &cl[k]);
  }
  ck_assert_str_eq(cg[0], cg[2]);
  ck_assert_str_eq(cg[1], cg[3]);
  ck_assert_str_eq(ctr[1]->str, ctr[3]->str);
  ck_assert_msg(strstr(cg[0], "message(1,a,3)") != NULL, "session too thin: %s", cg[0]);
  ck_assert(cl[0] > 0 && cl[1] > 0 && cl[2] == 0 && cl[3] == 0);
  for (int k = 0; k < 4; k++) {
    g_free(cg[k]);
    g_string_free(ctr[k], TRUE);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("pop3");
  TCase *tc = tcase_create("server_transcripts");
  tcase_add_loop_test(tc, transcripts, 0, (int)G_N_ELEMENTS(rows));
  tcase_add_loop_test(tc, renewed_engine, 0, (int)G_N_ELEMENTS(rows));
  tcase_add_test(tc, keep_spare);
  tcase_add_test(tc, line_too_long);
  tcase_add_test(tc, stuffing_odd_messages);
  tcase_add_test(tc, stls_discards_injected_input);
  tcase_add_test(tc, tls_required_refuses_login);
  suite_add_tcase(s, tc);
  tc = tcase_create("server_maildrop");
  tcase_add_test(tc, dele_only_at_quit_and_drop_keeps_all);
  tcase_add_test(tc, in_use_lock);
  tcase_add_test(tc, uidl_stable_across_sessions);
  tcase_add_test(tc, autologout_no_update);
  tcase_add_test(tc, trace_masks_secrets);
  suite_add_tcase(s, tc);
  tc = tcase_create("client");
  tcase_add_test(tc, client_leave_then_delete_modes);
  tcase_add_test(tc, client_stls_and_failures);
  tcase_add_test(tc, renewed_client_same_as_new);
  tcase_add_test(tc, client_capa_lines);
  tcase_add_test(tc, client_uidl_lines);
  tcase_add_test(tc, client_body_limit);
  tcase_add_test(tc, quiet_lines);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
