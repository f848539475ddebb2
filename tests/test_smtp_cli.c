/* Tests for smtp_cli: conversations with scripted servers (golden
 * transcripts, replies fed whole, byte by byte and cut at every point),
 * per-recipient outcomes, fallbacks, STARTTLS, AUTH, timeouts, body
 * encoding, and the client against the server engine in memory. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_cli.h"
#include "smtp_harness.h"
#include "smtp_srv.h"
#include "testutil.h"

#define MINUTE (INT64_C(60) * 1000000000)

/* ---- a scripted server ---- */

typedef enum { FEED_WHOLE, FEED_BYTES, FEED_AT } feed_mode;

typedef struct {
  smtp_cli *cli;
  GString *log;
  GString *cline;   /* partial client line */
  GString *pending; /* server bytes not yet fed */
  const char *const *replies;
  size_t next;
  bool in_data;
  feed_mode mode;
  size_t at, fed;
  int64_t now;
  size_t max_feeds; /* 0: no limit; else stop after that many feeds */
  smtp_cli *old;    /* non-NULL: the engine is smtp_cli_renew(old, ...) */
} sc;

/* The next scripted reply ("" or NULL: stay silent), logged as "S:" lines. */
static void server_reply(sc *s) {
  const char *r = s->replies[s->next];
  if (!r)
    return;
  s->next++;
  if (!*r)
    return;
  gchar **lines = g_strsplit(r, "|", -1);
  for (gchar **l = lines; *l; l++) {
    g_string_append_printf(s->log, "S: %s\n", *l);
    g_string_append_printf(s->pending, "%s\r\n", *l);
  }
  g_strfreev(lines);
}

static void client_line(sc *s, const char *line) {
  g_string_append_printf(s->log, "C: %s\n", line);
  if (s->in_data) {
    if (strcmp(line, ".") == 0) {
      s->in_data = false;
      server_reply(s);
    }
    return;
  }
  const char *r = s->replies[s->next];
  bool data = g_ascii_strcasecmp(line, "DATA") == 0 && r && g_str_has_prefix(r, "354");
  server_reply(s);
  s->in_data = data;
}

static void drain_client(sc *s) {
  size_t n;
  const uint8_t *p = smtp_cli_output_peek(s->cli, &n);
  g_string_append_len(s->cline, (const char *)p, (gssize)n);
  smtp_cli_output_consume(s->cli, n, s->now);
  char *e;
  while ((e = strstr(s->cline->str, "\r\n")) != NULL) {
    *e = 0;
    char *line = g_strdup(s->cline->str);
    g_string_erase(s->cline, 0, e - s->cline->str + 2);
    client_line(s, line);
    g_free(line);
  }
}

static void log_events(sc *s) {
  smtp_cli_event ev;
  while (smtp_cli_next_event(s->cli, &ev)) {
    switch (ev.type) {
    case SMTP_CLI_EV_RESULT:
      g_string_append_printf(s->log, "E: RESULT %" G_GUINT64_FORMAT " ok=%u temp=%u perm=%u\n",
                             ev.cookie, ev.n_ok, ev.n_temp, ev.n_perm);
      for (size_t i = 0; i < ev.nrcpts; i++) {
        const smtp_cli_rcpt_result *r = &ev.rcpts[i];
        g_string_append_printf(s->log, "E:   <%s> %s at %s%s %d %s %s\n", r->rcpt,
                               smtp_cli_status_name(r->status), smtp_cli_stage_name(r->stage),
                               r->local ? " (local)" : "", r->code, r->esc, r->text);
      }
      break;
    case SMTP_CLI_EV_STARTTLS:
      g_string_append(s->log, "E: STARTTLS\nT: tls up\n");
      s->now += 1000;
      smtp_cli_tls_started(s->cli, s->now);
      break;
    case SMTP_CLI_EV_CLOSE:
      g_string_append_printf(s->log, "E: CLOSE %s\n", ev.reason);
      break;
    default:
      g_assert_not_reached();
    }
  }
}

/* Runs until nothing moves; returns the transcript. */
static char *sc_run(sc *s) {
  for (size_t guard = 0; guard < 100000 && (!s->max_feeds || guard < s->max_feeds); guard++) {
    log_events(s);
    drain_client(s);
    if (s->pending->len == 0)
      break;
    size_t k = s->pending->len;
    if (s->mode == FEED_BYTES)
      k = 1;
    else if (s->mode == FEED_AT && s->fed < s->at && s->fed + k > s->at)
      k = s->at - s->fed;
    char *chunk = g_strndup(s->pending->str, k);
    g_string_erase(s->pending, 0, (gssize)k);
    s->fed += k;
    s->now += 1000;
    smtp_cli_feed(s->cli, chunk, k, s->now);
    g_free(chunk);
  }
  return g_string_free(g_steal_pointer(&s->log), FALSE);
}

typedef struct {
  const char *name;
  unsigned cfg;               /* CC_* bits */
  unsigned msg;               /* which message set: MS_* */
  const char *const *replies; /* NULL-terminated */
  const char *want;
} cconv;

enum { CC_AUTH = 1, CC_TLS_REQ = 2, CC_NO_PIPE = 4, CC_TLS_NEVER = 8 };
enum { MS_THREE, MS_TWO_MSGS, MS_BIG, MS_DSN, MS_8BIT };

static const smtp_cmd_rcpt three[] = {
    {"bob@b.test", 0, NULL}, {"later@b.test", 0, NULL}, {"gone@b.test", 0, NULL}};
static const char body3[] = "Subject: hi\n\n.leading dot\r\nbare\rCR\nend";

static void setup(sc *s, unsigned cfgbits, unsigned ms) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "client.test";
  if (cfgbits & CC_AUTH)
    cfg.auth_user = "alice", cfg.auth_pass = "secret";
  if (cfgbits & CC_TLS_REQ)
    cfg.tls = SMTP_CLI_TLS_REQUIRED;
  if (cfgbits & CC_TLS_NEVER)
    cfg.tls = SMTP_CLI_TLS_NEVER;
  if (cfgbits & CC_NO_PIPE)
    cfg.use_pipelining = false;
  s->cli = s->old ? smtp_cli_renew(s->old, &cfg, NULL, 0) : smtp_cli_new(&cfg, NULL, 0);
  s->log = g_string_new(NULL);
  s->cline = g_string_new(NULL);
  s->pending = g_string_new(NULL);
  server_reply(s); /* the greeting */
  smtp_cmd_mail mail = {.from = "alice@a.test"};
  smtp_cli_message m = {&mail, three, 3, (const uint8_t *)body3, strlen(body3), 1};
  switch (ms) {
  case MS_TWO_MSGS:
    smtp_cli_send(s->cli, &m, 0);
    m.cookie = 2, m.rcpts = three, m.nrcpts = 1, m.data = (const uint8_t *)"x", m.len = 1;
    smtp_cli_send(s->cli, &m, 0);
    return;
  case MS_BIG:
    m.data = (const uint8_t *)"0123456789abcdefghij", m.len = 20;
    break;
  case MS_DSN: {
    static const smtp_cmd_rcpt dsn[] = {
        {"bob@b.test", SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY, "rfc822;bob@b.test"},
        {"carol@b.test", SMTP_NOTIFY_NEVER, NULL}};
    mail.ret = SMTP_RET_HDRS, mail.envid = "QQ+2B1";
    m.rcpts = dsn, m.nrcpts = 2, m.data = (const uint8_t *)"x\r\n", m.len = 3;
    break;
  }
  case MS_8BIT:
    m.nrcpts = 1,
    m.data = (const uint8_t *)"Gr\xc3\xbc\xc3\x9f"
                              "e\r\n",
    m.len = 9;
    break;
  default:
    break;
  }
  smtp_cli_send(s->cli, &m, 0);
}

#define EHLO_PIPE "250-mx.test|250-PIPELINING|250-SIZE 1000|250-8BITMIME|250 ENHANCEDSTATUSCODES"
#define BODY3_LINES "C: Subject: hi\nC: \nC: ..leading dot\nC: bare\nC: CR\nC: end\nC: .\n"

static const char *const r_pipe3[] = {"220 mx.test ESMTP",    EHLO_PIPE,
                                      "250 2.1.0 Ok",         "250 2.1.5 Ok",
                                      "450 4.2.0 greylisted", "550 5.1.1 user unknown",
                                      "354 go ahead",         "250 2.0.0 Ok: queued as Q7",
                                      "221 2.0.0 Bye",        NULL};
static const char *const r_lock3[] = {"220 mx.test ESMTP",    "250-mx.test|250 8BITMIME",
                                      "250 2.1.0 Ok",         "250 2.1.5 Ok",
                                      "450 4.2.0 greylisted", "550 5.1.1 user unknown",
                                      "354 go ahead",         "250 2.0.0 Ok: queued as Q7",
                                      "221 2.0.0 Bye",        NULL};
static const char *const r_helo[] = {"220 mx.test",
                                     "500 5.5.2 what",
                                     "250 mx.test",
                                     "250 Ok",
                                     "250 Ok",
                                     "250 Ok",
                                     "250 Ok",
                                     "354 go",
                                     "554 5.7.0 content rejected",
                                     "221 Bye",
                                     NULL};
static const char *const r_allfail_pipe[] = {"220 mx.test ESMTP",
                                             EHLO_PIPE,
                                             "250 2.1.0 Ok",
                                             "550 5.1.1 a",
                                             "550 5.1.1 b",
                                             "450 4.1.1 c",
                                             "554 5.5.1 Error: no valid recipients",
                                             "221 Bye",
                                             NULL};
static const char *const r_two_lock[] = {"220 mx.test ESMTP",
                                         "250 mx.test",
                                         "250 2.1.0 Ok",
                                         "550 5.1.1 a",
                                         "550 5.1.1 b",
                                         "550 5.1.1 c",
                                         "250 2.0.0 Ok",
                                         "250 2.1.0 Ok",
                                         "250 2.1.5 Ok",
                                         "354 go",
                                         "250 2.0.0 Ok: Q8",
                                         "221 Bye",
                                         NULL};
static const char *const r_421[] = {
    "220 mx.test ESMTP",       EHLO_PIPE, "250 2.1.0 Ok", "250 2.1.5 Ok",
    "421 4.3.2 shutting down", NULL};
static const char *const r_554_greet[] = {"554 5.7.1 no service for you", "221 Bye", NULL};
static const char *const r_tls_auth[] = {
    "220 mx.test ESMTP",
    "250-mx.test|250-STARTTLS|250 PIPELINING",
    "220 2.0.0 Ready",
    "250-mx.test|250-PIPELINING|250-AUTH=LOGIN|250-AUTH PLAIN LOGIN|250 8BITMIME",
    "235 2.7.0 Ok",
    "250 Ok",
    "250 Ok",
    "250 Ok",
    "250 Ok",
    "354 go",
    "250 Ok: queued",
    "221 Bye",
    NULL};
static const char *const r_login[] = {"220 mx.test ESMTP",
                                      "250-mx.test|250-AUTH LOGIN CRAM-MD5|250 8BITMIME",
                                      "334 VXNlcm5hbWU6",
                                      "334 UGFzc3dvcmQ6",
                                      "535 5.7.8 bad credentials",
                                      "221 Bye",
                                      NULL};
static const char *const r_no_tls[] = {"220 mx.test ESMTP", "250-mx.test|250 PIPELINING", "221 Bye",
                                       NULL};
static const char *const r_mail_refused[] = {"220 mx.test ESMTP",
                                             EHLO_PIPE,
                                             "553 5.7.1 sender refused",
                                             "503 5.5.1 need MAIL",
                                             "503 5.5.1 need MAIL",
                                             "503 5.5.1 need MAIL",
                                             "503 5.5.1 need MAIL",
                                             "221 Bye",
                                             NULL};
static const char *const r_big[] = {"220 mx.test ESMTP", "250-mx.test|250 SIZE 10", "221 Bye",
                                    NULL};
static const char *const r_dsn[] = {"220 mx.test ESMTP",
                                    "250-mx.test|250-DSN|250 PIPELINING",
                                    "250 Ok",
                                    "250 Ok",
                                    "250 Ok",
                                    "354 go",
                                    "250 Ok",
                                    "221 Bye",
                                    NULL};
static const char *const r_8bit[] = {"220 mx.test ESMTP",
                                     "250-mx.test|250 8BITMIME",
                                     "250 Ok",
                                     "250 Ok",
                                     "354 go",
                                     "250 Ok",
                                     "221 Bye",
                                     NULL};
static const char *const r_8bit_no[] = {"220 mx.test ESMTP", "250 mx.test", "221 Bye", NULL};
static const char *const r_starttls_refused[] = {"220 mx.test ESMTP",
                                                 "250-mx.test|250-STARTTLS|250 8BITMIME",
                                                 "454 4.7.0 TLS not available",
                                                 "250 Ok",
                                                 "250 Ok",
                                                 "354 go",
                                                 "250 Ok",
                                                 "221 Bye",
                                                 NULL};

#define RESULT3_GOOD                                                                               \
  "E: RESULT 1 ok=1 temp=1 perm=1\n"                                                               \
  "E:   <bob@b.test> OK at DOT 250 2.0.0 Ok: queued as Q7\n"                                       \
  "E:   <later@b.test> TEMP at RCPT 450 4.2.0 greylisted\n"                                        \
  "E:   <gone@b.test> PERM at RCPT 550 5.1.1 user unknown\n"

static const cconv cconvs[] = {
    {"pipelined, one 4xx and one 5xx recipient", 0, MS_THREE, r_pipe3,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-PIPELINING\n"
     "S: 250-SIZE 1000\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
     "C: MAIL FROM:<alice@a.test> SIZE=44\nS: 250 2.1.0 Ok\n"
     "C: RCPT TO:<bob@b.test>\nS: 250 2.1.5 Ok\n"
     "C: RCPT TO:<later@b.test>\nS: 450 4.2.0 greylisted\n"
     "C: RCPT TO:<gone@b.test>\nS: 550 5.1.1 user unknown\n"
     "C: DATA\nS: 354 go ahead\n" BODY3_LINES "S: 250 2.0.0 Ok: queued as Q7\n" RESULT3_GOOD
     "C: QUIT\nS: 221 2.0.0 Bye\nE: CLOSE quit\n"},
    {"lock-step without PIPELINING", 0, MS_THREE, r_lock3,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250 8BITMIME\n"
     "C: MAIL FROM:<alice@a.test>\nS: 250 2.1.0 Ok\n"
     "C: RCPT TO:<bob@b.test>\nS: 250 2.1.5 Ok\n"
     "C: RCPT TO:<later@b.test>\nS: 450 4.2.0 greylisted\n"
     "C: RCPT TO:<gone@b.test>\nS: 550 5.1.1 user unknown\n"
     "C: DATA\nS: 354 go ahead\n" BODY3_LINES "S: 250 2.0.0 Ok: queued as Q7\n" RESULT3_GOOD
     "C: QUIT\nS: 221 2.0.0 Bye\nE: CLOSE quit\n"},
    {"HELO fallback, 5xx after the final dot", 0, MS_THREE, r_helo,
     "S: 220 mx.test\nC: EHLO client.test\nS: 500 5.5.2 what\nC: HELO client.test\n"
     "S: 250 mx.test\nC: MAIL FROM:<alice@a.test>\nS: 250 Ok\nC: RCPT TO:<bob@b.test>\n"
     "S: 250 Ok\nC: RCPT TO:<later@b.test>\nS: 250 Ok\nC: RCPT TO:<gone@b.test>\nS: 250 Ok\n"
     "C: DATA\nS: 354 go\n" BODY3_LINES "S: 554 5.7.0 content rejected\n"
     "E: RESULT 1 ok=0 temp=0 perm=3\n"
     "E:   <bob@b.test> PERM at DOT 554 5.7.0 content rejected\n"
     "E:   <later@b.test> PERM at DOT 554 5.7.0 content rejected\n"
     "E:   <gone@b.test> PERM at DOT 554 5.7.0 content rejected\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"pipelined, every recipient refused, DATA refused", 0, MS_THREE, r_allfail_pipe,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-PIPELINING\n"
     "S: 250-SIZE 1000\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
     "C: MAIL FROM:<alice@a.test> SIZE=44\nS: 250 2.1.0 Ok\n"
     "C: RCPT TO:<bob@b.test>\nS: 550 5.1.1 a\nC: RCPT TO:<later@b.test>\nS: 550 5.1.1 b\n"
     "C: RCPT TO:<gone@b.test>\nS: 450 4.1.1 c\n"
     "C: DATA\nS: 554 5.5.1 Error: no valid recipients\n"
     "E: RESULT 1 ok=0 temp=1 perm=2\nE:   <bob@b.test> PERM at RCPT 550 5.1.1 a\n"
     "E:   <later@b.test> PERM at RCPT 550 5.1.1 b\nE:   <gone@b.test> TEMP at RCPT 450 4.1.1 c\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"lock-step: no recipient, RSET, then the next message", 0, MS_TWO_MSGS, r_two_lock,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250 mx.test\n"
     "C: MAIL FROM:<alice@a.test>\nS: 250 2.1.0 Ok\nC: RCPT TO:<bob@b.test>\nS: 550 5.1.1 a\n"
     "C: RCPT TO:<later@b.test>\nS: 550 5.1.1 b\nC: RCPT TO:<gone@b.test>\nS: 550 5.1.1 c\n"
     "E: RESULT 1 ok=0 temp=0 perm=3\nE:   <bob@b.test> PERM at RCPT 550 5.1.1 a\n"
     "E:   <later@b.test> PERM at RCPT 550 5.1.1 b\nE:   <gone@b.test> PERM at RCPT 550 5.1.1 c\n"
     "C: RSET\nS: 250 2.0.0 Ok\nC: MAIL FROM:<alice@a.test>\nS: 250 2.1.0 Ok\n"
     "C: RCPT TO:<bob@b.test>\nS: 250 2.1.5 Ok\nC: DATA\nS: 354 go\nC: x\nC: .\n"
     "S: 250 2.0.0 Ok: Q8\nE: RESULT 2 ok=1 temp=0 perm=0\n"
     "E:   <bob@b.test> OK at DOT 250 2.0.0 Ok: Q8\nC: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"421 in the middle", 0, MS_TWO_MSGS, r_421,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-PIPELINING\n"
     "S: 250-SIZE 1000\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
     "C: MAIL FROM:<alice@a.test> SIZE=44\nS: 250 2.1.0 Ok\nC: RCPT TO:<bob@b.test>\n"
     "S: 250 2.1.5 Ok\nC: RCPT TO:<later@b.test>\nS: 421 4.3.2 shutting down\n"
     "C: RCPT TO:<gone@b.test>\nC: DATA\n"
     "E: RESULT 1 ok=0 temp=3 perm=0\nE:   <bob@b.test> TEMP at RCPT 421 4.3.2 shutting down\n"
     "E:   <later@b.test> TEMP at RCPT 421 4.3.2 shutting down\n"
     "E:   <gone@b.test> TEMP at RCPT 421 4.3.2 shutting down\n"
     "E: RESULT 2 ok=0 temp=1 perm=0\nE:   <bob@b.test> TEMP at RCPT 421 4.3.2 shutting down\n"
     "E: CLOSE 421\n"},
    {"554 greeting", 0, MS_THREE, r_554_greet,
     "S: 554 5.7.1 no service for you\nE: RESULT 1 ok=0 temp=0 perm=3\n"
     "E:   <bob@b.test> PERM at CONNECT 554 5.7.1 no service for you\n"
     "E:   <later@b.test> PERM at CONNECT 554 5.7.1 no service for you\n"
     "E:   <gone@b.test> PERM at CONNECT 554 5.7.1 no service for you\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE greeting refused\n"},
    {"STARTTLS, EHLO again, AUTH PLAIN", CC_AUTH, MS_THREE, r_tls_auth,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-STARTTLS\n"
     "S: 250 PIPELINING\nC: STARTTLS\nS: 220 2.0.0 Ready\nE: STARTTLS\nT: tls up\n"
     "C: EHLO client.test\nS: 250-mx.test\nS: 250-PIPELINING\nS: 250-AUTH=LOGIN\n"
     "S: 250-AUTH PLAIN LOGIN\nS: 250 8BITMIME\nC: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
     "S: 235 2.7.0 Ok\nC: MAIL FROM:<alice@a.test>\nS: 250 Ok\nC: RCPT TO:<bob@b.test>\n"
     "S: 250 Ok\nC: RCPT TO:<later@b.test>\nS: 250 Ok\nC: RCPT TO:<gone@b.test>\nS: 250 Ok\n"
     "C: DATA\nS: 354 go\n" BODY3_LINES "S: 250 Ok: queued\nE: RESULT 1 ok=3 temp=0 perm=0\n"
     "E:   <bob@b.test> OK at DOT 250  Ok: queued\nE:   <later@b.test> OK at DOT 250  Ok: queued\n"
     "E:   <gone@b.test> OK at DOT 250  Ok: queued\nC: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"AUTH LOGIN refused", CC_AUTH | CC_TLS_NEVER, MS_THREE, r_login,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-AUTH LOGIN CRAM-MD5\n"
     "S: 250 8BITMIME\nC: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: YWxpY2U=\nS: 334 UGFzc3dvcmQ6\n"
     "C: c2VjcmV0\nS: 535 5.7.8 bad credentials\nE: RESULT 1 ok=0 temp=0 perm=3\n"
     "E:   <bob@b.test> PERM at AUTH 535 5.7.8 bad credentials\n"
     "E:   <later@b.test> PERM at AUTH 535 5.7.8 bad credentials\n"
     "E:   <gone@b.test> PERM at AUTH 535 5.7.8 bad credentials\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE auth failed\n"},
    {"TLS required, not offered", CC_TLS_REQ, MS_THREE, r_no_tls,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250 PIPELINING\n"
     "E: RESULT 1 ok=0 temp=3 perm=0\n"
     "E:   <bob@b.test> TEMP at HELO (local) 0  TLS required but not available\n"
     "E:   <later@b.test> TEMP at HELO (local) 0  TLS required but not available\n"
     "E:   <gone@b.test> TEMP at HELO (local) 0  TLS required but not available\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE no tls\n"},
    {"STARTTLS refused, opportunistic goes on", 0, MS_8BIT, r_starttls_refused,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-STARTTLS\n"
     "S: 250 8BITMIME\nC: STARTTLS\nS: 454 4.7.0 TLS not available\n"
     "C: MAIL FROM:<alice@a.test> BODY=8BITMIME\nS: 250 Ok\nC: RCPT TO:<bob@b.test>\n"
     "S: 250 Ok\nC: DATA\nS: 354 go\nC: Gr\xc3\xbc\xc3\x9f"
     "e\nC: .\nS: 250 Ok\n"
     "E: RESULT 1 ok=1 temp=0 perm=0\nE:   <bob@b.test> OK at DOT 250  Ok\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"MAIL refused while pipelining", 0, MS_THREE, r_mail_refused,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-PIPELINING\n"
     "S: 250-SIZE 1000\nS: 250-8BITMIME\nS: 250 ENHANCEDSTATUSCODES\n"
     "C: MAIL FROM:<alice@a.test> SIZE=44\nS: 553 5.7.1 sender refused\n"
     "C: RCPT TO:<bob@b.test>\nS: 503 5.5.1 need MAIL\nC: RCPT TO:<later@b.test>\n"
     "S: 503 5.5.1 need MAIL\nC: RCPT TO:<gone@b.test>\nS: 503 5.5.1 need MAIL\n"
     "C: DATA\nS: 503 5.5.1 need MAIL\nE: RESULT 1 ok=0 temp=0 perm=3\n"
     "E:   <bob@b.test> PERM at MAIL 553 5.7.1 sender refused\n"
     "E:   <later@b.test> PERM at MAIL 553 5.7.1 sender refused\n"
     "E:   <gone@b.test> PERM at MAIL 553 5.7.1 sender refused\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"SIZE exceeded: refused locally", 0, MS_BIG, r_big,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250 SIZE 10\n"
     "E: RESULT 1 ok=0 temp=0 perm=3\n"
     "E:   <bob@b.test> PERM at MAIL (local) 552 5.3.4 message size exceeds the server's fixed "
     "limit\n"
     "E:   <later@b.test> PERM at MAIL (local) 552 5.3.4 message size exceeds the server's fixed "
     "limit\n"
     "E:   <gone@b.test> PERM at MAIL (local) 552 5.3.4 message size exceeds the server's fixed "
     "limit\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"DSN parameters when offered", 0, MS_DSN, r_dsn,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250-DSN\nS: 250 PIPELINING\n"
     "C: MAIL FROM:<alice@a.test> RET=HDRS ENVID=QQ+2B1\nS: 250 Ok\n"
     "C: RCPT TO:<bob@b.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob@b.test\nS: 250 Ok\n"
     "C: RCPT TO:<carol@b.test> NOTIFY=NEVER\nS: 250 Ok\nC: DATA\nS: 354 go\nC: x\nC: .\n"
     "S: 250 Ok\nE: RESULT 1 ok=2 temp=0 perm=0\nE:   <bob@b.test> OK at DOT 250  Ok\n"
     "E:   <carol@b.test> OK at DOT 250  Ok\nC: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"8-bit body with 8BITMIME", CC_TLS_NEVER, MS_8BIT, r_8bit,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250-mx.test\nS: 250 8BITMIME\n"
     "C: MAIL FROM:<alice@a.test> BODY=8BITMIME\nS: 250 Ok\nC: RCPT TO:<bob@b.test>\n"
     "S: 250 Ok\nC: DATA\nS: 354 go\nC: Gr\xc3\xbc\xc3\x9f"
     "e\nC: .\nS: 250 Ok\n"
     "E: RESULT 1 ok=1 temp=0 perm=0\nE:   <bob@b.test> OK at DOT 250  Ok\n"
     "C: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
    {"8-bit body without 8BITMIME: refused locally", 0, MS_8BIT, r_8bit_no,
     "S: 220 mx.test ESMTP\nC: EHLO client.test\nS: 250 mx.test\n"
     "E: RESULT 1 ok=0 temp=0 perm=1\n"
     "E:   <bob@b.test> PERM at MAIL (local) 554 5.6.3 8-bit message and the server does not "
     "offer 8BITMIME\nC: QUIT\nS: 221 Bye\nE: CLOSE quit\n"},
};

static char *run_cconv(const cconv *c, feed_mode mode, size_t at) {
  sc s = {0};
  s.replies = c->replies;
  s.mode = mode;
  s.at = at;
  setup(&s, c->cfg, c->msg);
  char *got = sc_run(&s);
  smtp_cli_free(s.cli);
  g_string_free(s.cline, TRUE);
  g_string_free(s.pending, TRUE);
  return got;
}

START_TEST(client_conversation) {
  const cconv *c = &cconvs[_i];
  char *whole = run_cconv(c, FEED_WHOLE, 0);
  ck_assert_msg(strcmp(whole, c->want) == 0, "%s (whole):\ngot:\n%s\nwant:\n%s", c->name, whole,
                c->want);
  char *bytes = run_cconv(c, FEED_BYTES, 0);
  ck_assert_msg(strcmp(bytes, c->want) == 0, "%s (bytes):\ngot:\n%s\nwant:\n%s", c->name, bytes,
                c->want);
  /* every cut of the server's byte stream */
  size_t total = 0;
  for (const char *p = c->want; (p = strstr(p, "S: ")) != NULL; p += 3)
    total += strcspn(p + 3, "\n") + 2;
  for (size_t at = 1; at < total; at++) {
    char *got = run_cconv(c, FEED_AT, at);
    ck_assert_msg(strcmp(got, c->want) == 0, "%s (cut at %zu):\ngot:\n%s", c->name, at, got);
    g_free(got);
  }
  g_free(whole);
  g_free(bytes);
}
END_TEST

/* A renewed engine (smtp_cli_renew) runs every conversation as a new one,
 * whatever the session before it left behind: each conversation after
 * each other one, that one run to its end or stopped after 2 server feeds
 * (messages queued, replies pending, a reply line half read). */
START_TEST(renewed_client) {
  const cconv *c = &cconvs[_i];
  for (size_t k = 0; k < G_N_ELEMENTS(cconvs); k++) {
    for (size_t stop = 0; stop < 3; stop += 2) {
      sc b = {0};
      b.replies = cconvs[k].replies;
      b.mode = stop ? FEED_AT : FEED_WHOLE;
      b.at = 3; /* inside the greeting */
      b.max_feeds = stop;
      setup(&b, cconvs[k].cfg, cconvs[k].msg);
      g_free(sc_run(&b));
      g_string_free(b.cline, TRUE);
      g_string_free(b.pending, TRUE);
      sc s = {0};
      s.replies = c->replies;
      s.mode = FEED_BYTES;
      s.old = b.cli;
      setup(&s, c->cfg, c->msg);
      ck_assert_ptr_eq(s.cli, b.cli); /* the storage was reused */
      char *got = sc_run(&s);
      ck_assert_msg(strcmp(got, c->want) == 0,
                    "%s after %s (stopped after %zu):\ngot:\n%s\nwant:\n%s", c->name,
                    cconvs[k].name, stop, got, c->want);
      g_free(got);
      smtp_cli_free(s.cli);
      g_string_free(s.cline, TRUE);
      g_string_free(s.pending, TRUE);
    }
  }
}
END_TEST

/* smtp_cli_keep: the first engine kept becomes the spare, a second is
 * freed (ASan reports a leak otherwise). */
START_TEST(keep_client) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "client.test";
  smtp_cli *spare = NULL;
  smtp_cli *a = smtp_cli_renew(spare, &cfg, NULL, 0), *b = smtp_cli_new(&cfg, NULL, 0);
  smtp_cli_keep(&spare, a);
  ck_assert_ptr_eq(spare, a);
  smtp_cli_keep(&spare, b);
  ck_assert_ptr_eq(spare, a);
  smtp_cli_free(spare);
}
END_TEST

/* smtp_cli_keep_upto: engines parked up to MAX (taken back last in, first
 * out, each alone), those beyond freed, a list freed whole (ASan reports
 * a leak or a double free otherwise); keep of NULL does nothing. */
START_TEST(keep_client_list) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "client.test";
  for (unsigned max = 0; max <= 4; max++) {
    smtp_cli *spares = NULL, *e[6], *back[6];
    for (int i = 0; i < 6; i++)
      e[i] = smtp_cli_new(&cfg, NULL, 0);
    smtp_cli_keep_upto(&spares, NULL, max);
    for (int i = 0; i < 6; i++)
      smtp_cli_keep_upto(&spares, e[i], max);
    unsigned got = 0;
    for (smtp_cli *t; (t = smtp_cli_take(&spares)) != NULL;) {
      ck_assert_msg(got < max, "max %u: more than %u engines back", max, max);
      ck_assert_msg(t == e[max - 1 - got], "max %u: take %u: got another engine", max, got);
      back[got++] = smtp_cli_renew(t, &cfg, NULL, 0); /* one engine, not the list */
      ck_assert_ptr_eq(back[got - 1], t);
    }
    ck_assert_msg(got == max, "max %u: got %u engines back", max, got);
    for (unsigned i = 0; i < got; i++)
      smtp_cli_keep_upto(&spares, back[i], max);
    smtp_cli_free(spares); /* the whole list */
  }
}
END_TEST

/* ---- timers (RFC 5321 §4.5.3.2) ---- */

static smtp_cli *timer_client(void) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 100);
  smtp_cmd_mail mail = {.from = "a@b.c"};
  smtp_cli_message m = {&mail, three, 1, (const uint8_t *)"hello\r\n", 7, 9};
  smtp_cli_send(cli, &m, 100);
  return cli;
}

static void consume_all(smtp_cli *cli, int64_t now) {
  size_t n;
  smtp_cli_output_peek(cli, &n);
  smtp_cli_output_consume(cli, n, now);
}

static void feed_str(smtp_cli *cli, const char *s, int64_t now) {
  smtp_cli_feed(cli, s, strlen(s), now);
}

START_TEST(greeting_timeout) {
  smtp_cli *cli = timer_client();
  ck_assert(smtp_cli_deadline(cli) == 100 + 5 * MINUTE);
  smtp_cli_tick(cli, 100 + 5 * MINUTE - 1);
  smtp_cli_event ev;
  ck_assert(!smtp_cli_next_event(cli, &ev));
  smtp_cli_tick(cli, 100 + 5 * MINUTE);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_int_eq(ev.type, SMTP_CLI_EV_RESULT);
  ck_assert_uint_eq(ev.n_temp, 1);
  ck_assert(ev.rcpts[0].local);
  ck_assert_int_eq(ev.rcpts[0].stage, SMTP_CLI_STAGE_CONNECT);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_int_eq(ev.type, SMTP_CLI_EV_CLOSE);
  ck_assert_str_eq(ev.reason, "timeout");
  size_t n;
  smtp_cli_output_peek(cli, &n);
  ck_assert_uint_eq(n, 0); /* no QUIT after a timeout */
  smtp_cli_free(cli);
}
END_TEST

START_TEST(phase_timeouts) {
  /* Each phase arms its own timer; the body's timers follow output progress. */
  smtp_cli *cli = timer_client();
  int64_t t = 1000;
  feed_str(cli, "220 mx\r\n", t);
  ck_assert(smtp_cli_deadline(cli) == t + 5 * MINUTE); /* EHLO: t_other */
  feed_str(cli, "250 mx\r\n", t += 10);
  ck_assert(smtp_cli_deadline(cli) == t + 5 * MINUTE); /* MAIL */
  feed_str(cli, "250 ok\r\n", t += 10);
  ck_assert(smtp_cli_deadline(cli) == t + 5 * MINUTE); /* RCPT */
  feed_str(cli, "250 ok\r\n", t += 10);
  ck_assert(smtp_cli_deadline(cli) == t + 2 * MINUTE); /* DATA initiation */
  consume_all(cli, t);
  feed_str(cli, "354 go\r\n", t += 10);
  ck_assert(smtp_cli_deadline(cli) == t + 3 * MINUTE); /* data block, body not yet sent */
  size_t n;
  smtp_cli_output_peek(cli, &n);
  smtp_cli_output_consume(cli, 3, t + 60);
  ck_assert(smtp_cli_deadline(cli) == t + 60 + 3 * MINUTE); /* progress restarts the block timer */
  smtp_cli_output_consume(cli, n - 3, t + 90);
  ck_assert(smtp_cli_deadline(cli) == t + 90 + 10 * MINUTE); /* final dot */
  smtp_cli_tick(cli, t + 90 + 10 * MINUTE);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.n_temp, 1);
  ck_assert_int_eq(ev.rcpts[0].stage, SMTP_CLI_STAGE_DOT);
  ck_assert_str_eq(ev.rcpts[0].text, "timeout waiting for the server");
  smtp_cli_free(cli);
}
END_TEST

START_TEST(connection_lost) {
  smtp_cli *cli = timer_client();
  feed_str(cli, "220 mx\r\n250-mx\r\n250 PIPELINING\r\n", 10);
  consume_all(cli, 10);
  smtp_cli_connection_lost(cli, 20);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_int_eq(ev.type, SMTP_CLI_EV_RESULT);
  ck_assert_str_eq(ev.rcpts[0].text, "connection lost");
  ck_assert(ev.rcpts[0].status == SMTP_CLI_TEMP);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_str_eq(ev.reason, "connection lost");
  /* A message sent after the end gets its result at once. */
  smtp_cmd_mail mail = {.from = ""};
  smtp_cli_message m = {&mail, three, 1, (const uint8_t *)"x", 1, 5};
  smtp_cli_send(cli, &m, 30);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.cookie, 5);
  ck_assert_uint_eq(ev.n_temp, 1);
  ck_assert(smtp_cli_deadline(cli) == SMTP_NO_DEADLINE);
  smtp_cli_free(cli);
}
END_TEST

/* A reply line may hold 4096 octets before its LF; one more ends the
 * session, whatever the split of the input. */
START_TEST(reply_line_limit) {
  for (int extra = 0; extra < 2; extra++) {
    GString *in = g_string_new("220 ");
    for (int i = 0; i < 4091 + extra; i++)
      g_string_append_c(in, 'x');
    g_string_append(in, "\r\n");
    for (size_t at = 0; at <= in->len; at += (at < 8 || at > in->len - 8) ? 1 : 509) {
      smtp_cli *cli = timer_client();
      smtp_cli_feed(cli, in->str, at, 10);
      smtp_cli_feed(cli, in->str + at, in->len - at, 11);
      smtp_cli_event ev;
      bool closed = false;
      while (smtp_cli_next_event(cli, &ev))
        closed |= ev.type == SMTP_CLI_EV_CLOSE && strcmp(ev.reason, "protocol error") == 0;
      ck_assert_msg(closed == (extra == 1), "extra %d split %zu: closed %d", extra, at, closed);
      size_t n;
      smtp_cli_output_peek(cli, &n);
      ck_assert_msg((n > 0) == (extra == 0), "extra %d split %zu: output %zu", extra, at, n);
      smtp_cli_free(cli);
    }
    g_string_free(in, TRUE);
  }
}
END_TEST

START_TEST(bad_replies) {
  static const char *const bad[] = {"hello\r\n", "220-a\r\n250 b\r\n", "99 x\r\n", "2200 x\r\n",
                                    "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n250 ok\r\n"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    smtp_cli *cli = timer_client();
    feed_str(cli, bad[i], 10);
    smtp_cli_event ev;
    bool closed = false;
    while (smtp_cli_next_event(cli, &ev))
      closed |= ev.type == SMTP_CLI_EV_CLOSE && strcmp(ev.reason, "protocol error") == 0;
    ck_assert_msg(closed, "%s: no protocol error", bad[i]);
    smtp_cli_free(cli);
  }
}
END_TEST

/* ---- body encoding ---- */

static const struct {
  const char *in, *want;
} bodies[] = {
    {"", ".\r\n"},
    {"a", "a\r\n.\r\n"},
    {"a\r\n", "a\r\n.\r\n"},
    {".", "..\r\n.\r\n"},
    {".\r\n.\n..", "..\r\n..\r\n...\r\n.\r\n"},
    {"a\nb\rc\r\n", "a\r\nb\r\nc\r\n.\r\n"},
    {"x\r\r\n.\r", "x\r\n\r\n..\r\n.\r\n"},
    {"a.b\n .c", "a.b\r\n .c\r\n.\r\n"},
    {"\r", "\r\n.\r\n"},
    {"\n\n.", "\r\n\r\n..\r\n.\r\n"},
    {"a\r", "a\r\n.\r\n"},
    {".\r.\r\n\r\n", "..\r\n..\r\n\r\n.\r\n"},
    {"long line here\r\n.x\rlast", "long line here\r\n..x\r\nlast\r\n.\r\n"},
    /* far more line ends and dots than the first reservation holds */
    {"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
     "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n.\r\n"},
    {".\n.\n.\n.\n.\n.\n.\n.\n.\n.\n",
     "..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n.\r\n"},
    /* CRLF only (smtp_cli_encode_crlf_body takes these too) */
    {".\r\n.\r\n..x\r\n", "..\r\n..\r\n...x\r\n.\r\n"},
    {"a\r\n.", "a\r\n..\r\n.\r\n"},
    {"\r\n.", "\r\n..\r\n.\r\n"},
    {"\r\n", "\r\n.\r\n"},
    {"abc\r\n.b\r\nc", "abc\r\n..b\r\nc\r\n.\r\n"},
    {"a.b\r\n.\r\nx.\r\n", "a.b\r\n..\r\nx.\r\n.\r\n"},
    {".\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n.\r\n",
     "..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n..\r\n.\r\n"},
};

START_TEST(encode_body) {
  GString *out = g_string_new(NULL);
  smtp_cli_encode_body(out, (const uint8_t *)bodies[_i].in, strlen(bodies[_i].in));
  char *g = g_strescape(out->str, NULL), *w = g_strescape(bodies[_i].want, NULL);
  ck_assert_msg(strcmp(out->str, bodies[_i].want) == 0, "got %s want %s", g, w);
  /* SIZE = encoded length minus stuffing dots and the final ".\r\n" */
  uint64_t stuffed = 0;
  for (size_t i = 0; i < out->len; i++)
    stuffed += out->str[i] == '.' && (i == 0 || out->str[i - 1] == '\n');
  ck_assert_uint_eq(smtp_cli_body_size((const uint8_t *)bodies[_i].in, strlen(bodies[_i].in)),
                    out->len - 3 - (stuffed - 1));
  g_free(g);
  g_free(w);
  /* It appends to what OUT holds. */
  g_string_assign(out, "DATA\r\n");
  smtp_cli_encode_body(out, (const uint8_t *)bodies[_i].in, strlen(bodies[_i].in));
  ck_assert(g_str_has_prefix(out->str, "DATA\r\n"));
  ck_assert_str_eq(out->str + 6, bodies[_i].want);
  /* The scan's size is the same; where it finds only CRLF line breaks,
   * the CRLF encoder writes the same octets (and appends, too). */
  bool crlf_only;
  size_t n = strlen(bodies[_i].in);
  ck_assert_uint_eq(smtp_cli_body_scan((const uint8_t *)bodies[_i].in, n, &crlf_only),
                    smtp_cli_body_size((const uint8_t *)bodies[_i].in, n));
  bool want_crlf = true;
  for (size_t i = 0; i < n; i++)
    if ((bodies[_i].in[i] == '\r') != (i + 1 < n && bodies[_i].in[i + 1] == '\n') ||
        (bodies[_i].in[i] == '\n' && (i == 0 || bodies[_i].in[i - 1] != '\r')))
      want_crlf = false;
  ck_assert_msg(crlf_only == want_crlf, "crlf_only: got %d want %d", crlf_only, want_crlf);
  if (crlf_only) {
    g_string_assign(out, "DATA\r\n");
    smtp_cli_encode_crlf_body(out, (const uint8_t *)bodies[_i].in, n);
    ck_assert(g_str_has_prefix(out->str, "DATA\r\n"));
    ck_assert_str_eq(out->str + 6, bodies[_i].want);
  }
  /* ... and where no line starts with a dot, the plain copy does too */
  bool dots, want_dots = false;
  for (size_t i = 0; i < n; i++)
    want_dots |= bodies[_i].in[i] == '.' && (i == 0 || bodies[_i].in[i - 1] == '\n');
  ck_assert_uint_eq(smtp_cli_body_scan_dots((const uint8_t *)bodies[_i].in, n, &crlf_only, &dots),
                    smtp_cli_body_size((const uint8_t *)bodies[_i].in, n));
  ck_assert_msg(crlf_only == want_crlf && dots == (crlf_only && want_dots), "dots: got %d want %d",
                dots, crlf_only && want_dots);
  if (crlf_only && !dots) {
    g_string_assign(out, "DATA\r\n");
    smtp_cli_encode_plain_body(out, (const uint8_t *)bodies[_i].in, n);
    ck_assert_str_eq(out->str + 6, bodies[_i].want);
  }
  g_string_free(out, TRUE);
}
END_TEST

/* smtp_cli_body_scan against the rule written plainly (each CRLF, bare CR
 * and bare LF ends a line and counts two octets; a last line without a
 * break gets two), on random bodies of CR, LF, ".", "a" and 0x8d (CR with
 * the high bit) of 0..40 octets (the CRs are counted up to the CRLF pairs). */
START_TEST(body_scan_random) {
  GRand *rng = g_rand_new_with_seed(5);
  static const char alphabet[] = "\r\n.a\x8d";
  for (int round = 0; round < 20000; round++) {
    char b[40];
    size_t n = (size_t)g_rand_int_range(rng, 0, 41);
    for (size_t i = 0; i < n; i++)
      b[i] = alphabet[g_rand_int_range(rng, 0, 5)];
    uint64_t want = 0;
    bool bol = true, want_crlf = true;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && b[j] != '\r' && b[j] != '\n')
        j++;
      want += j - i;
      bol = j < n;
      if (!bol) {
        i = j;
        break;
      }
      want += 2;
      bool crlf = b[j] == '\r' && j + 1 < n && b[j + 1] == '\n';
      want_crlf &= crlf;
      i = j + (crlf ? 2 : 1);
    }
    want += bol ? 0 : 2;
    bool crlf_only, dots, want_dots = false;
    for (size_t i = 0; i < n; i++)
      want_dots |= b[i] == '.' && (i == 0 || b[i - 1] == '\n');
    uint64_t got = smtp_cli_body_scan_dots((const uint8_t *)b, n, &crlf_only, &dots);
    ck_assert_msg(dots == (crlf_only && want_dots), "round %d: dots %d", round, dots);
    if (crlf_only && !dots) { /* the plain copy is the general encoding */
      GString *plain = g_string_new(NULL), *general = g_string_new(NULL);
      smtp_cli_encode_plain_body(plain, (const uint8_t *)b, n);
      smtp_cli_encode_body(general, (const uint8_t *)b, n);
      ck_assert(plain->len == general->len && memcmp(plain->str, general->str, plain->len) == 0);
      g_string_free(plain, TRUE);
      g_string_free(general, TRUE);
    }
    ck_assert_msg(got == want && crlf_only == want_crlf,
                  "round %d (%zu octets): got %" G_GUINT64_FORMAT "/%d want %" G_GUINT64_FORMAT
                  "/%d",
                  round, n, got, crlf_only, want, want_crlf);
  }
  g_rand_free(rng);
}
END_TEST

/* The plain rule of smtp_cli_body_scan_dots: SIZE (each CRLF, bare CR
 * and bare LF ends a line and counts two octets; a last line without one
 * gets two), CRLF_ONLY and, when CRLF_ONLY, DOTS (a line starts with "."). */
static uint64_t scan_rule(const char *b, size_t n, bool *crlf_only, bool *dots) {
  uint64_t size = 0;
  bool bol = true, crlf = true, dot = false;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && b[j] != '\r' && b[j] != '\n')
      j++;
    size += j - i;
    bol = j < n;
    if (!bol)
      break;
    size += 2;
    bool pair = b[j] == '\r' && j + 1 < n && b[j + 1] == '\n';
    crlf &= pair;
    i = j + (pair ? 2 : 1);
  }
  for (size_t i = 0; i < n; i++)
    dot |= b[i] == '.' && (i == 0 || b[i - 1] == '\n');
  *crlf_only = crlf;
  *dots = crlf && dot;
  return size + (bol ? 0 : 2);
}

/* CRLF bodies of 0..80 octets (lines of 0..9 octets, some starting with a
 * dot, the last one with or without its CRLF: the scan's blocks of sixteen
 * and their tails), each also with every octet of CR, LF, ".", "a", NUL
 * and 0x8a at every place: the scan against the plain rule (and the
 * 8-bit test against every octet's high bit). */
START_TEST(body_scan_every_place) {
  GRand *rng = g_rand_new_with_seed(11);
  static const char alphabet[] = "\r\n.a\0\x8a";
  char b[96];
  for (int round = 0; round < 400; round++) {
    size_t want_len = (size_t)g_rand_int_range(rng, 0, 81), n = 0;
    while (n < want_len) {
      size_t line = (size_t)g_rand_int_range(rng, 0, 10);
      for (size_t k = 0; k < line && n < want_len; k++)
        b[n++] = k == 0 && g_rand_int_range(rng, 0, 4) == 0 ? '.' : 'x';
      if (n + 2 <= want_len) {
        b[n++] = '\r';
        b[n++] = '\n';
      } else {
        break;
      }
    }
    for (size_t at = 0; at <= n; at++) {
      for (size_t c = 0; c < sizeof alphabet - 1; c++) { /* AT == N: as made */
        char m[96];
        memcpy(m, b, n);
        if (at < n)
          m[at] = alphabet[c];
        bool crlf_only, dots, want_crlf, want_dots;
        uint64_t want = scan_rule(m, n, &want_crlf, &want_dots);
        uint64_t got = smtp_cli_body_scan_dots((const uint8_t *)m, n, &crlf_only, &dots);
        ck_assert_msg(got == want && crlf_only == want_crlf && dots == want_dots,
                      "round %d, %zu octets, 0x%02x at %zu: got %" G_GUINT64_FORMAT
                      "/%d/%d want %" G_GUINT64_FORMAT "/%d/%d",
                      round, n, (unsigned)(unsigned char)alphabet[c], at, got, crlf_only, dots,
                      want, want_crlf, want_dots);
        bool eight, want_eight = false;
        for (size_t i = 0; i < n; i++)
          want_eight |= (unsigned char)m[i] >= 0x80;
        got = smtp_cli_body_scan_8bit((const uint8_t *)m, n, &crlf_only, &dots, &eight);
        ck_assert_msg(got == want && crlf_only == want_crlf && dots == want_dots &&
                          eight == want_eight,
                      "round %d, %zu octets, 0x%02x at %zu: got %" G_GUINT64_FORMAT
                      "/%d/%d/%d want %" G_GUINT64_FORMAT "/%d/%d/%d",
                      round, n, (unsigned)(unsigned char)alphabet[c], at, got, crlf_only, dots,
                      eight, want, want_crlf, want_dots, want_eight);
      }
    }
  }
  g_rand_free(rng);
}
END_TEST

/* ---- the client against the server engine, in memory ---- */

typedef struct {
  GString *log;
  GString *c2s, *s2c;         /* partial lines for the transcript */
  GString *c_bytes, *s_bytes; /* each direction's whole byte stream */
  GString *stored;            /* the message as the server got it */
  GString *results;
  bool closed_c, closed_s;
} wire;

static void wire_log(GString *log, GString *partial, const char *who, const uint8_t *p, size_t n) {
  g_string_append_len(partial, (const char *)p, (gssize)n);
  char *e;
  while ((e = strstr(partial->str, "\r\n")) != NULL) {
    g_string_append_printf(log, "%s: %.*s\n", who, (int)(e - partial->str), partial->str);
    g_string_erase(partial, 0, e - partial->str + 2);
  }
}

static void run_wire(size_t chunk, wire *w) {
  smtp_srv_config scfg;
  harness_config(&scfg);
  scfg.require_auth = scfg.require_tls_for_auth = true; /* a submission server */
  smtp_srv *srv = smtp_srv_new(&scfg, NULL);
  smtp_cli_config ccfg;
  smtp_cli_config_init(&ccfg);
  ccfg.helo_name = "laptop.test";
  ccfg.tls = SMTP_CLI_TLS_REQUIRED;
  ccfg.auth_user = "alice", ccfg.auth_pass = "secret";
  smtp_cli *cli = smtp_cli_new(&ccfg, NULL, 0);
  static const smtp_cmd_rcpt rc[] = {
      {"bob@b.test", 0, NULL}, {"carol@c.test", 0, NULL}, {"unknown@b.test", 0, NULL}};
  smtp_cmd_mail mail = {.from = "alice@a.test"};
  const char *body = "Subject: three\n\n.hidden dot\nbye\n";
  smtp_cli_message m = {&mail, rc, 3, (const uint8_t *)body, strlen(body), 42};
  smtp_cli_send(cli, &m, 0);
  int64_t now = 0;
  bool srv_tls = false;
  for (int guard = 0; guard < 200000; guard++) {
    bool moved = false;
    smtp_srv_event sev;
    while (smtp_srv_next_event(srv, &sev)) {
      moved = true;
      switch (sev.type) {
      case SMTP_SRV_EV_DECIDE_AUTH:
        if (strcmp(sev.user, "alice") == 0 && strcmp(sev.pass, "secret") == 0)
          smtp_srv_accept(srv, sev.id, now);
        else
          smtp_srv_reject(srv, sev.id, 535, NULL, NULL, now);
        break;
      case SMTP_SRV_EV_DECIDE_RCPT:
        if (strstr(sev.rcpt->to, "unknown"))
          smtp_srv_reject(srv, sev.id, 550, "5.1.1", "<unknown@b.test>: user unknown", now);
        else
          smtp_srv_accept(srv, sev.id, now);
        break;
      case SMTP_SRV_EV_DECIDE_MESSAGE:
        g_string_append_len(w->stored, (const char *)sev.data, (gssize)sev.len);
        g_string_append_printf(w->stored, "[%zu rcpts]", sev.nrcpts);
        smtp_srv_accept_message(srv, sev.id, "4F2A", now);
        break;
      case SMTP_SRV_EV_STARTTLS:
        srv_tls = true;
        break;
      case SMTP_SRV_EV_CLOSE:
        w->closed_s = true;
        break;
      default:
        smtp_srv_accept(srv, sev.id, now);
        break;
      }
    }
    size_t n;
    const uint8_t *p = smtp_srv_output_peek(srv, &n);
    size_t k = srv_tls ? n : MIN(n, chunk);
    if (k) {
      moved = true;
      wire_log(w->log, w->s2c, "S", p, k);
      g_string_append_len(w->s_bytes, (const char *)p, (gssize)k);
      uint8_t *copy = g_memdup2(p, k);
      smtp_srv_output_consume(srv, k);
      smtp_cli_feed(cli, copy, k, ++now);
      g_free(copy);
    }
    if (srv_tls) { /* the 220 is out: both sides now speak TLS */
      srv_tls = false;
      smtp_srv_tls_started(srv, now);
      g_string_append(w->log, "T: tls up\n");
    }
    smtp_cli_event cev;
    while (smtp_cli_next_event(cli, &cev)) {
      moved = true;
      if (cev.type == SMTP_CLI_EV_STARTTLS)
        smtp_cli_tls_started(cli, now);
      else if (cev.type == SMTP_CLI_EV_CLOSE)
        w->closed_c = true;
      else
        for (size_t i = 0; i < cev.nrcpts; i++)
          g_string_append_printf(w->results, "%s %s %s %d %s %s\n", cev.rcpts[i].rcpt,
                                 smtp_cli_status_name(cev.rcpts[i].status),
                                 smtp_cli_stage_name(cev.rcpts[i].stage), cev.rcpts[i].code,
                                 cev.rcpts[i].esc, cev.rcpts[i].text);
    }
    p = smtp_cli_output_peek(cli, &n);
    k = MIN(n, chunk);
    if (k) {
      moved = true;
      wire_log(w->log, w->c2s, "C", p, k);
      g_string_append_len(w->c_bytes, (const char *)p, (gssize)k);
      uint8_t *copy = g_memdup2(p, k);
      smtp_cli_output_consume(cli, k, now);
      smtp_srv_feed(srv, copy, k, ++now);
      g_free(copy);
    }
    if (!moved)
      break;
  }
  smtp_cli_free(cli);
  smtp_srv_free(srv);
}

static void wire_init(wire *w) {
  w->log = g_string_new(NULL);
  w->c2s = g_string_new(NULL);
  w->s2c = g_string_new(NULL);
  w->stored = g_string_new(NULL);
  w->results = g_string_new(NULL);
  w->c_bytes = g_string_new(NULL);
  w->s_bytes = g_string_new(NULL);
  w->closed_c = w->closed_s = false;
}

static void wire_clear(wire *w) {
  g_string_free(w->log, TRUE);
  g_string_free(w->c2s, TRUE);
  g_string_free(w->s2c, TRUE);
  g_string_free(w->stored, TRUE);
  g_string_free(w->results, TRUE);
  g_string_free(w->c_bytes, TRUE);
  g_string_free(w->s_bytes, TRUE);
}

START_TEST(client_server_in_memory) {
  wire whole, bytes, odd;
  wire_init(&whole);
  wire_init(&bytes);
  wire_init(&odd);
  run_wire(SIZE_MAX, &whole);
  run_wire(1, &bytes);
  run_wire(7, &odd);
  ck_assert_str_eq(whole.results->str,
                   "bob@b.test OK DOT 250 2.0.0 Ok: queued as 4F2A\n"
                   "carol@c.test OK DOT 250 2.0.0 Ok: queued as 4F2A\n"
                   "unknown@b.test PERM RCPT 550 5.1.1 <unknown@b.test>: user unknown\n");
  ck_assert_str_eq(whole.stored->str, "Subject: three\r\n\r\n.hidden dot\r\nbye\r\n[2 rcpts]");
  /* the SIZE announced is what the server stored (RFC 1870 §3) */
  ck_assert_msg(strstr(whole.log->str, "C: MAIL FROM:<alice@a.test> SIZE=36\n"), "%s",
                whole.log->str);
  ck_assert(whole.closed_c && whole.closed_s);
  ck_assert_msg(strstr(whole.log->str, "C: STARTTLS\nS: 220 2.0.0 Ready to start TLS\nT: tls up\n"
                                       "C: EHLO laptop.test\n"),
                "%s", whole.log->str);
  ck_assert_msg(strstr(whole.log->str, "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
                                       "S: 235 2.7.0 Authentication successful\n"),
                "%s", whole.log->str);
  ck_assert_msg(strstr(whole.log->str, "C: ..hidden dot\n"), "%s", whole.log->str);
  ck_assert_msg(g_str_has_suffix(whole.log->str, "C: QUIT\nS: 221 2.0.0 Bye\n"), "%s",
                whole.log->str);
  /* the chunking of the wire changes neither direction's bytes (only how
   * pipelined lines interleave in the combined log) */
  ck_assert_str_eq(bytes.c_bytes->str, whole.c_bytes->str);
  ck_assert_str_eq(bytes.s_bytes->str, whole.s_bytes->str);
  ck_assert_str_eq(odd.c_bytes->str, whole.c_bytes->str);
  ck_assert_str_eq(odd.s_bytes->str, whole.s_bytes->str);
  ck_assert_str_eq(bytes.results->str, whole.results->str);
  ck_assert_str_eq(odd.stored->str, whole.stored->str);
  wire_clear(&whole);
  wire_clear(&bytes);
  wire_clear(&odd);
}
END_TEST

/* Runs CLI against SRV in memory until nothing moves, the server
 * rejecting every third recipient with a long text and accepting the
 * rest, and checking AUTH against USER and PASS. Returns the client's
 * results, one line per recipient. */
/* When set, pair_run appends every message the server takes to it. */
static GString *pair_stored;

static char *pair_run(smtp_cli *cli, smtp_srv *srv, const char *user, const char *pass) {
  GString *res = g_string_new(NULL);
  int64_t now = 0;
  for (int guard = 0; guard < 100000; guard++) {
    bool moved = false;
    smtp_srv_event sev;
    while (smtp_srv_next_event(srv, &sev)) {
      moved = true;
      if (sev.type == SMTP_SRV_EV_DECIDE_AUTH) {
        bool ok = user && strcmp(sev.user, user) == 0 && strcmp(sev.pass, pass) == 0;
        if (ok)
          smtp_srv_accept(srv, sev.id, now);
        else
          smtp_srv_reject(srv, sev.id, 535, NULL, NULL, now);
      } else if (sev.type == SMTP_SRV_EV_DECIDE_RCPT && sev.rcpt->to[3] % 3 == 0) {
        char *t = g_strdup_printf("<%s>: %0150d", sev.rcpt->to, 0);
        smtp_srv_reject(srv, sev.id, 550, "5.1.1", t, now);
        g_free(t);
      } else if (sev.type == SMTP_SRV_EV_DECIDE_MESSAGE) {
        if (pair_stored)
          g_string_append_len(pair_stored, (const char *)sev.data, (gssize)sev.len);
        smtp_srv_accept_message(srv, sev.id, "Q1", now);
      } else if (sev.type != SMTP_SRV_EV_CLOSE) {
        smtp_srv_accept(srv, sev.id, now);
      }
    }
    size_t n;
    const uint8_t *p = smtp_srv_output_peek(srv, &n);
    if (n) {
      moved = true;
      uint8_t *copy = g_memdup2(p, n);
      smtp_srv_output_consume(srv, n);
      smtp_cli_feed(cli, copy, n, ++now);
      g_free(copy);
    }
    smtp_cli_event cev;
    while (smtp_cli_next_event(cli, &cev)) {
      moved = true;
      for (size_t i = 0; cev.type == SMTP_CLI_EV_RESULT && i < cev.nrcpts; i++)
        g_string_append_printf(res, "%s %s %d %s %s\n", cev.rcpts[i].rcpt,
                               smtp_cli_status_name(cev.rcpts[i].status), cev.rcpts[i].code,
                               cev.rcpts[i].esc, cev.rcpts[i].text);
    }
    p = smtp_cli_output_peek(cli, &n);
    if (n) {
      moved = true;
      uint8_t *copy = g_memdup2(p, n);
      smtp_cli_output_consume(cli, n, now);
      smtp_srv_feed(srv, copy, n, ++now);
      g_free(copy);
    }
    if (!moved)
      break;
  }
  return g_string_free(res, FALSE);
}

/* One message to many recipients, pipelined: the reply queue grows far
 * past its first size (and is let go at the renewal: too large to keep),
 * the results' long texts overflow the message's own room; then the
 * renewed client sends one message with credentials too long for the
 * stack copy AUTH PLAIN is usually built in. Every outcome is checked. */
START_TEST(many_recipients_and_long_texts) {
  enum { N = 1100 };
  smtp_srv_config scfg;
  harness_config(&scfg);
  scfg.ext_starttls = false;
  scfg.max_recipients = 2 * N;
  scfg.max_errors = 2 * N;
  smtp_srv *srv = smtp_srv_new(&scfg, NULL);
  smtp_cli_config ccfg;
  smtp_cli_config_init(&ccfg);
  ccfg.helo_name = "c.test";
  smtp_cli *cli = smtp_cli_new(&ccfg, NULL, 0);
  smtp_cmd_rcpt *rc = g_new0(smtp_cmd_rcpt, N);
  char **to = g_new0(char *, N);
  for (size_t i = 0; i < N; i++)
    rc[i].to = to[i] = g_strdup_printf("r%04zu@b.test", i);
  smtp_cmd_mail mail = {.from = "a@a.test"};
  smtp_cli_message m = {&mail, rc, N, (const uint8_t *)"x\r\n", 3, 1};
  smtp_cli_send(cli, &m, 0);
  char *got = pair_run(cli, srv, NULL, NULL);
  GString *want = g_string_new(NULL);
  for (size_t i = 0; i < N; i++) {
    if (to[i][3] % 3 == 0)
      g_string_append_printf(want, "%s PERM 550 5.1.1 <%s>: %0150d\n", to[i], to[i], 0);
    else
      g_string_append_printf(want, "%s OK 250 2.0.0 Ok: queued as Q1\n", to[i]);
  }
  size_t d = 0; /* the first difference, with its context */
  while (got[d] && got[d] == want->str[d])
    d++;
  ck_assert_msg(got[d] == 0 && want->str[d] == 0, "at %zu: got \"%.80s\" want \"%.80s\"", d,
                got + (d > 20 ? d - 20 : 0), want->str + (d > 20 ? d - 20 : 0));
  g_free(got);
  /* renewed: AUTH PLAIN with 200-octet user and password (PLAIN allows 255) */
  char *user = g_strnfill(200, 'u'), *pass = g_strnfill(200, 'p');
  ccfg.auth_user = user;
  ccfg.auth_pass = pass;
  cli = smtp_cli_renew(cli, &ccfg, NULL, 0);
  scfg.require_auth = true;
  srv = smtp_srv_renew(srv, &scfg, NULL);
  m.rcpts = rc + 9; /* r0009 refused, r0010 taken */
  m.nrcpts = 2;
  smtp_cli_send(cli, &m, 0);
  got = pair_run(cli, srv, user, pass);
  ck_assert_str_eq(got,
                   "r0009@b.test PERM 550 5.1.1 <r0009@b.test>: "
                   "000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "000000000000000000000000000000000000000000000000000000000000000000000000000"
                   "\nr0010@b.test OK 250 2.0.0 Ok: queued as Q1\n");
  g_free(got);
  g_string_free(want, TRUE);
  for (size_t i = 0; i < N; i++)
    g_free(to[i]);
  g_free(to);
  g_free(rc);
  g_free(user);
  g_free(pass);
  smtp_cli_free(cli);
  smtp_srv_free(srv);
}
END_TEST

static char *out_cli(smtp_cli *cli, int64_t now) {
  size_t n;
  const uint8_t *p = smtp_cli_output_peek(cli, &n);
  char *s = g_strndup((const char *)p, n);
  smtp_cli_output_consume(cli, n, now);
  return s;
}

/* The 8-bit test (RFC 6152 §3: without 8BITMIME an 8-bit body is refused
 * locally) finds one octet over 127 at every position of bodies of 1..20
 * octets (the word-at-a-time loop and its tail), and none in 7-bit ones. */
/* One engine, renewed between messages, keeps an ended message's block
 * and reuses it for the next that fits (sizes up and down, past the
 * 4 KiB kept at most, with one to three recipients and refusals whose
 * texts overflow the room): every message arrives whole, every result
 * reads as on a fresh engine. */
START_TEST(message_blocks_reused) {
  static const size_t sizes[] = {10, 300, 40, 3000, 5000, 200, 4100, 8, 700, 1};
  smtp_srv_config scfg;
  harness_config(&scfg);
  scfg.ext_starttls = false;
  smtp_cli_config ccfg;
  smtp_cli_config_init(&ccfg);
  ccfg.helo_name = "c.test";
  smtp_cli *cli = NULL, *fresh_cli = NULL;
  smtp_srv *srv = NULL;
  /* pair_run refuses a recipient whose fourth octet is a multiple of 3 */
  smtp_cmd_rcpt rc[3] = {{.to = "ab1@b.test"}, {.to = "ab3x@b.test"}, {.to = "ab2x@b.test"}};
  smtp_cmd_mail mail = {.from = "a@a.test"};
  pair_stored = g_string_new(NULL);
  for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
    GString *body = g_string_new(NULL);
    for (size_t i = 0; i < sizes[k]; i++)
      g_string_append_c(body, i % 61 == 60 ? '\n' : (char)('a' + (i + k) % 26));
    for (size_t i = 0; i < body->len; i++) /* CRLF lines */
      if (body->str[i] == '\n' && (i == 0 || body->str[i - 1] != '\r'))
        g_string_insert_c(body, (gssize)i++, '\r');
    g_string_append(body, "\r\n");
    smtp_cli_message m = {&mail, rc, 1 + k % 3, (const uint8_t *)body->str, body->len, k};
    char *want = NULL;
    for (int pass = 0; pass < 2; pass++) { /* a fresh engine first, then the renewed one */
      smtp_cli **c = pass ? &cli : &fresh_cli;
      *c = pass ? smtp_cli_renew(*c, &ccfg, NULL, 0) : smtp_cli_new(&ccfg, NULL, 0);
      srv = smtp_srv_renew(srv, &scfg, NULL);
      g_string_truncate(pair_stored, 0);
      smtp_cli_send(*c, &m, 0);
      char *got = pair_run(*c, srv, NULL, NULL);
      ck_assert_msg(g_string_equal(pair_stored, body), "size %zu pass %d: stored %zu octets",
                    sizes[k], pass, pair_stored->len);
      if (!pass) {
        want = got;
        smtp_cli_free(fresh_cli);
        fresh_cli = NULL;
      } else {
        ck_assert_msg(strcmp(got, want) == 0, "size %zu: got %s want %s", sizes[k], got, want);
        ck_assert_ptr_nonnull(strstr(got, "ab1@b.test OK"));
        g_free(got);
        g_free(want);
      }
    }
    g_string_free(body, TRUE);
  }
  g_string_free(pair_stored, TRUE);
  pair_stored = NULL;
  smtp_cli_free(cli);
  smtp_srv_free(srv);
}
END_TEST

START_TEST(eight_bit_anywhere) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.tls = SMTP_CLI_TLS_NEVER;
  smtp_cmd_mail mail = {.from = "a@b.c"};
  for (size_t len = 1; len <= 20; len++) {
    for (size_t at = 0; at <= len; at++) { /* at == len: no 8-bit octet */
      uint8_t body[20];
      memset(body, 'a', sizeof body);
      if (at < len)
        body[at] = (uint8_t)(0x80 | at);
      smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
      smtp_cli_message m = {&mail, three, 1, body, len, 1};
      smtp_cli_send(cli, &m, 0);
      feed_str(cli, "220 mx\r\n250 mx\r\n", 1);
      char *o = out_cli(cli, 1);
      bool sent = strstr(o, "MAIL FROM:<a@b.c>") != NULL;
      ck_assert_msg(sent == (at == len), "len %zu, 8-bit octet at %zu: got output %s", len, at, o);
      g_free(o);
      smtp_cli_free(cli);
    }
  }
}
END_TEST

/* EHLO keywords in any case, only as whole words (RFC 5321 §4.1.1.1:
 * keywords are case-insensitive): what the first output after the EHLO
 * reply shows of PIPELINING and SIZE. */
/* The EHLO keywords and parameters as read (parse_caps): the bits and the
 * SIZE value for keywords of every length around the asked ones, "=" and
 * SP between parameters, a SIZE value longer than the stack copy, signs
 * and tabs as g_ascii_strtoull reads them. */
/* A renewed client keeps its copies of the HELO name and credentials
 * only while the config gives the same: each renewal's commands carry the
 * new config's strings. */
START_TEST(renewed_names) {
  static const struct {
    const char *helo, *user, *pass, *auth; /* AUTH: the PLAIN command expected, or NULL */
  } rows[] = {
      {"a.test", NULL, NULL, NULL},
      {"b.test", NULL, NULL, NULL},
      {"b.test", NULL, NULL, NULL},
      {"a.test", "alice", "secret", "AUTH PLAIN AGFsaWNlAHNlY3JldA=="},
      {"a.test", "alice", "secreT", "AUTH PLAIN AGFsaWNlAHNlY3JlVA=="},
      {"a.test", "alicE", "secreT", "AUTH PLAIN AGFsaWNFAHNlY3JlVA=="},
      /* shorter names (written over the old ones in place), longer ones */
      {"longer.a.test", "bob", "pw", "AUTH PLAIN AGJvYgBwdw=="},
      {"a.test", "carolina", "much-longer-secret",
       "AUTH PLAIN AGNhcm9saW5hAG11Y2gtbG9uZ2VyLXNlY3JldA=="},
      {"a", "al", "s", "AUTH PLAIN AGFsAHM="},
      {"a", "alice", "secret", "AUTH PLAIN AGFsaWNlAHNlY3JldA=="},
      {"a.test", NULL, NULL, NULL},
  };
  smtp_cli *cli = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    smtp_cli_config cfg;
    smtp_cli_config_init(&cfg);
    cfg.tls = SMTP_CLI_TLS_NEVER;
    char *helo = g_strdup(rows[i].helo); /* the config's strings go away after the call */
    char *user = g_strdup(rows[i].user), *pass = g_strdup(rows[i].pass);
    cfg.helo_name = helo, cfg.auth_user = user, cfg.auth_pass = pass;
    cli = i ? smtp_cli_renew(cli, &cfg, NULL, 0) : smtp_cli_new(&cfg, NULL, 0);
    g_free(helo), g_free(user), g_free(pass);
    feed_str(cli, "220 mx\r\n", 1);
    char *o = out_cli(cli, 1);
    char *want = g_strdup_printf("EHLO %s\r\n", rows[i].helo);
    ck_assert_str_eq(o, want);
    g_free(o), g_free(want);
    feed_str(cli, "250-mx\r\n250 AUTH PLAIN\r\n", 2);
    o = out_cli(cli, 2);
    want = rows[i].auth ? g_strdup_printf("%s\r\n", rows[i].auth) : g_strdup("QUIT\r\n");
    ck_assert_msg(strcmp(o, want) == 0, "row %zu: got %s want %s", i, o, want);
    g_free(o), g_free(want);
  }
  smtp_cli_free(cli);
}
END_TEST

START_TEST(ehlo_caps_read) {
  static const struct {
    const char *ehlo;
    unsigned caps;
    uint64_t size;
  } rows[] = {
      {"250-mx\r\n250-SIZE 1000\r\n250-AUTH=LOGIN\r\n250 DSN\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_AUTH_LOGIN | SMTP_CLI_CAP_DSN, 1000},
      {"250-mx\r\n250-AUTH PLAIN=LOGIN X\r\n250 SIZE=77 9\r\n",
       SMTP_CLI_CAP_AUTH_PLAIN | SMTP_CLI_CAP_AUTH_LOGIN | SMTP_CLI_CAP_SIZE, 77},
      {"250-mx\r\n250-AUTH PLAINX LOGI\r\n250-AUTHX PLAIN\r\n250 SIZE\r\n", SMTP_CLI_CAP_SIZE, 0},
      {"250-mx\r\n250-SIZE 000000000000000000000000000000000000000042\r\n250 STARTTLS\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_STARTTLS, 42},
      {"250-mx\r\n250-SIZE \t12\r\n250 ENHANCEDSTATUSCODES\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_ENHANCEDSTATUSCODES, 12},
      {"250-mx\r\n250-SIZE -1\r\n250 STARTTLSX\r\n", SMTP_CLI_CAP_SIZE, UINT64_MAX},
      {"250-mx\r\n250-SIZE=\r\n250 DS\r\n", SMTP_CLI_CAP_SIZE, 0},
      {"250 mx\r\n", 0, 0},
      /* the same length as the first row: one digit, one letter apart */
      {"250-mx\r\n250-SIZE 2000\r\n250-AUTH=LOGIN\r\n250 DSN\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_AUTH_LOGIN | SMTP_CLI_CAP_DSN, 2000},
      {"250-mx\r\n250-SIZE 2000\r\n250-AUTH=LOGIN\r\n250 DSX\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_AUTH_LOGIN, 2000},
      /* another server name, the same keywords; a first line that looks
       * like a keyword (it is the name: not read) */
      {"250-other.test\r\n250-SIZE 2000\r\n250-AUTH=LOGIN\r\n250 DSX\r\n",
       SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_AUTH_LOGIN, 2000},
      {"250-SIZE 5\r\n250 DSN\r\n", SMTP_CLI_CAP_DSN, 0},
      {"250-SIZE 6\r\n250 DSN\r\n", SMTP_CLI_CAP_DSN, 0},
  };
  /* Each on a new engine; then all on one engine renewed before each row
   * (its reading of the last EHLO reply is kept), forwards, backwards and
   * each row twice. */
  size_t n = G_N_ELEMENTS(rows), order[4 * G_N_ELEMENTS(rows)], k = 0;
  for (size_t i = 0; i < n; i++)
    order[k++] = i;
  for (size_t i = 0; i < n; i++)
    order[k++] = n - 1 - i;
  for (size_t i = 0; i < n; i++)
    order[k++] = i, order[k++] = i;
  smtp_cli *kept = NULL;
  for (size_t j = 0; j < n + k; j++) {
    size_t i = j < n ? j : order[j - n];
    smtp_cli_config cfg;
    smtp_cli_config_init(&cfg);
    cfg.tls = SMTP_CLI_TLS_NEVER;
    smtp_cli *cli = j < n ? smtp_cli_new(&cfg, NULL, 0) : smtp_cli_renew(kept, &cfg, NULL, 0);
    feed_str(cli, "220 mx\r\n", 1);
    g_free(out_cli(cli, 1)); /* EHLO */
    feed_str(cli, rows[i].ehlo, 2);
    ck_assert_msg(smtp_cli_caps(cli) == rows[i].caps, "row %zu (%zu): got caps %#x want %#x", i, j,
                  smtp_cli_caps(cli), rows[i].caps);
    ck_assert_msg(smtp_cli_server_size(cli) == rows[i].size,
                  "row %zu (%zu): got size %" G_GUINT64_FORMAT " want %" G_GUINT64_FORMAT, i, j,
                  smtp_cli_server_size(cli), rows[i].size);
    if (j < n)
      smtp_cli_free(cli);
    else
      kept = cli;
  }
  smtp_cli_free(kept);
}
END_TEST

/* An EHLO reply whose lines after the first are those of the last one an
 * engine read whole (kept across renewals) is taken at once: everything
 * seen from outside — keywords, SIZE, the next command, the state and the
 * RECV trace lines — is what a new engine makes of the same octets, fed
 * whole and cut at every place, traced and not. The rows change the first
 * line's code, put a NUL in it or in a later line, carry enhanced codes,
 * stray CRs, a refused EHLO and a one-line reply between the same ones. */
typedef struct {
  GString *log;
} ehlo_trace_log;

static void ehlo_trace(void *ctx, int64_t now, smtp_trace_kind kind, const char *text) {
  ehlo_trace_log *t = ctx;
  g_string_append_printf(t->log, "%" G_GINT64_FORMAT " %s %s\n", now, smtp_trace_kind_name(kind),
                         text);
}

/* Runs the reply R[0..N) (fed at CUT too, unless 0) on CLI after the
 * greeting; returns what is seen: caps, size, state, output and trace. */
static char *ehlo_seen(smtp_cli *cli, ehlo_trace_log *t, const char *r, size_t n, size_t cut) {
  smtp_cli_feed(cli, "220 mx\r\n", 8, 1);
  g_free(out_cli(cli, 1)); /* EHLO */
  if (cut) {
    smtp_cli_feed(cli, r, cut, 2);
    smtp_cli_feed(cli, r + cut, n - cut, 2);
  } else {
    smtp_cli_feed(cli, r, n, 2);
  }
  char *o = out_cli(cli, 2);
  char *s = g_strdup_printf("caps %#x size %" G_GUINT64_FORMAT " state %s out [%s]\n%s",
                            smtp_cli_caps(cli), smtp_cli_server_size(cli), smtp_cli_state_name(cli),
                            o, t ? t->log->str : "");
  g_free(o);
  if (t)
    g_string_truncate(t->log, 0);
  return s;
}

START_TEST(ehlo_lines_kept) {
#define R(s)                                                                                       \
  { s, sizeof(s) - 1 }
  static const struct {
    const char *r;
    size_t n;
  } rows[] = {
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-other.test\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("251-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-m\0x\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-mx\r\n250-2.0.0 SIZE 3\r\n250 2.0.0 DSN\r\n"),
      R("250-mx\r\n250-2.0.0 SIZE 3\r\n250 2.0.0 DSN\r\n"),
      R("250-mx\r\n250-SIZE\0 9\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE\0 9\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE 4\r\r\n250 PIPELINING\n"),
      R("250-mx\r\n250-SIZE 4\r\r\n250 PIPELINING\n"),
      R("550-mx\r\n550-SIZE 2000\r\n550 DSN\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250 mx\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n250 extra\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250 DSN\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250-DSN\r\n250 8BITMIME\r\n"),
      R("250-mx\r\n250-SIZE 2000\r\n250-DSN\r\n250 8BITMIME\r\n"),
  };
#undef R
  smtp_cli *kept[2] = {NULL, NULL}; /* untraced, traced */
  ehlo_trace_log t = {g_string_new(NULL)};
  smtp_env env = {ehlo_trace, &t};
  int runs = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    for (size_t cut = 0; cut < rows[i].n; cut++) {
      for (int traced = 0; traced < 2; traced++) {
        smtp_cli_config cfg;
        smtp_cli_config_init(&cfg);
        cfg.tls = SMTP_CLI_TLS_NEVER;
        const smtp_env *e = traced ? &env : NULL;
        smtp_cli *fresh = smtp_cli_new(&cfg, e, 0);
        char *want = ehlo_seen(fresh, traced ? &t : NULL, rows[i].r, rows[i].n, cut);
        smtp_cli_free(fresh);
        kept[traced] = smtp_cli_renew(kept[traced], &cfg, e, 0);
        char *got = ehlo_seen(kept[traced], traced ? &t : NULL, rows[i].r, rows[i].n, cut);
        ck_assert_msg(strcmp(got, want) == 0, "row %zu cut %zu traced %d: got %s want %s", i, cut,
                      traced, got, want);
        g_free(got), g_free(want);
        runs++;
      }
    }
  }
  ck_assert_int_gt(runs, 0);
  smtp_cli_free(kept[0]);
  smtp_cli_free(kept[1]);
  g_string_free(t.log, TRUE);
}
END_TEST

START_TEST(ehlo_keywords_any_case) {
  static const struct {
    const char *ehlo;
    const char *want;
  } rows[] = {
      {"250-mx\r\n250-pipelining\r\n250-size 1000\r\n250 8bitmime\r\n",
       "MAIL FROM:<a@b.c> SIZE=4\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n"},
      {"250-mx\r\n250-PiPeLiNiNg\r\n250 SIZE\r\n",
       "MAIL FROM:<a@b.c> SIZE=4\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n"},
      {"250-mx\r\n250-PIPELININGX\r\n250-XSIZE 9\r\n250 8BITMIMEX\r\n", "MAIL FROM:<a@b.c>\r\n"},
      {"250-mx\r\n250-PIPELIN\r\n250-S\r\n250 8\r\n", "MAIL FROM:<a@b.c>\r\n"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    smtp_cli_config cfg;
    smtp_cli_config_init(&cfg);
    cfg.tls = SMTP_CLI_TLS_NEVER;
    smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
    smtp_cmd_mail mail = {.from = "a@b.c"};
    smtp_cli_message m = {&mail, three, 1, (const uint8_t *)"hi\r\n", 4, 1};
    smtp_cli_send(cli, &m, 0);
    feed_str(cli, "220 mx\r\n", 1);
    g_free(out_cli(cli, 1)); /* EHLO */
    feed_str(cli, rows[i].ehlo, 2);
    char *o = out_cli(cli, 2);
    ck_assert_msg(strcmp(o, rows[i].want) == 0, "row %zu: got \"%s\" want \"%s\"", i, o,
                  rows[i].want);
    g_free(o);
    smtp_cli_free(cli);
  }
}
END_TEST

START_TEST(idle_session) {
  /* quit_when_idle off: the session waits for messages, then QUIT on request;
   * a 421 while idle ends it. */
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.quit_when_idle = false;
  cfg.tls = SMTP_CLI_TLS_NEVER;
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  feed_str(cli, "220 mx\r\n250-mx\r\n250 PIPELINING\r\n", 1);
  char *o = out_cli(cli, 1);
  ck_assert_str_eq(o, "EHLO localhost\r\n");
  g_free(o);
  ck_assert_str_eq(smtp_cli_state_name(cli), "READY");
  ck_assert(smtp_cli_deadline(cli) == SMTP_NO_DEADLINE);
  smtp_cmd_mail mail = {.from = "a@b.c"};
  smtp_cli_message m = {&mail, three, 1, (const uint8_t *)"hi", 2, 3};
  smtp_cli_send(cli, &m, 2);
  o = out_cli(cli, 2);
  ck_assert_str_eq(o, "MAIL FROM:<a@b.c>\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n");
  g_free(o);
  feed_str(cli, "250 ok\r\n250 ok\r\n354 go\r\n", 3);
  o = out_cli(cli, 3);
  ck_assert_str_eq(o, "hi\r\n.\r\n");
  g_free(o);
  feed_str(cli, "250 queued\r\n", 4);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.n_ok, 1);
  ck_assert_str_eq(smtp_cli_state_name(cli), "READY");
  smtp_cli_send(cli, &m, 5);
  g_free(out_cli(cli, 5));
  feed_str(cli, "421 4.4.2 bye\r\n", 6);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_int_eq(ev.type, SMTP_CLI_EV_RESULT);
  ck_assert_uint_eq(ev.n_temp, 1);
  ck_assert_int_eq(ev.rcpts[0].code, 421);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_str_eq(ev.reason, "421");
  smtp_cli_free(cli);

  cli = smtp_cli_new(&cfg, NULL, 0);
  feed_str(cli, "220 mx\r\n250 mx\r\n", 1);
  g_free(out_cli(cli, 1));
  smtp_cli_quit(cli, 2);
  o = out_cli(cli, 2);
  ck_assert_str_eq(o, "QUIT\r\n");
  g_free(o);
  feed_str(cli, "221 bye\r\n", 3);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_str_eq(ev.reason, "quit");
  smtp_cli_free(cli);
}
END_TEST

START_TEST(idle_after_failed_message_resets) {
  /* Idle after a transaction whose recipients were all refused: the next
   * message begins with RSET (RFC 5321 §4.1.1.5), READY -> RSET -> TXN. */
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.quit_when_idle = false;
  cfg.tls = SMTP_CLI_TLS_NEVER;
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  feed_str(cli, "220 mx\r\n250-mx\r\n250 PIPELINING\r\n", 1);
  g_free(out_cli(cli, 1));
  smtp_cmd_mail mail = {.from = "a@b.c"};
  smtp_cli_message m = {&mail, three, 1, (const uint8_t *)"hi", 2, 3};
  smtp_cli_send(cli, &m, 2);
  g_free(out_cli(cli, 2));
  feed_str(cli, "250 ok\r\n450 4.7.1 later\r\n554 5.5.1 no valid recipients\r\n", 3);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.n_temp, 1);
  ck_assert_str_eq(smtp_cli_state_name(cli), "READY");
  smtp_cli_send(cli, &m, 4);
  char *o = out_cli(cli, 4);
  ck_assert_str_eq(o, "RSET\r\n");
  g_free(o);
  feed_str(cli, "250 ok\r\n", 5);
  o = out_cli(cli, 5);
  ck_assert_str_eq(o, "MAIL FROM:<a@b.c>\r\nRCPT TO:<bob@b.test>\r\nDATA\r\n");
  g_free(o);
  smtp_cli_free(cli);
}
END_TEST

START_TEST(auth_not_offered) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.auth_user = "alice", cfg.auth_pass = "secret";
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  smtp_cmd_mail mail = {.from = "a@b.c"};
  smtp_cli_message m = {&mail, three, 2, (const uint8_t *)"hi", 2, 3};
  smtp_cli_send(cli, &m, 0);
  feed_str(cli, "220 mx\r\n250-mx\r\n250 AUTH CRAM-MD5\r\n", 1);
  char *o = out_cli(cli, 1);
  ck_assert_str_eq(o, "EHLO localhost\r\nQUIT\r\n"); /* never MAIL without AUTH */
  g_free(o);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.n_temp, 2);
  ck_assert_int_eq(ev.rcpts[1].stage, SMTP_CLI_STAGE_HELO);
  smtp_cli_free(cli);
}
END_TEST

START_TEST(tls_discards_early_input) {
  /* RFC 3207 §4.2: bytes after the 220 and before TLS are not replies. */
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  feed_str(cli, "220 mx\r\n250-mx\r\n250 STARTTLS\r\n", 1);
  g_free(out_cli(cli, 1));
  feed_str(cli, "220 go\r\n250 injected\r\n", 2);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_int_eq(ev.type, SMTP_CLI_EV_STARTTLS);
  feed_str(cli, "250-injected\r\n", 3);
  smtp_cli_tls_started(cli, 4);
  ck_assert(smtp_cli_tls_active(cli));
  ck_assert_uint_eq(smtp_cli_caps(cli), 0);
  char *o = out_cli(cli, 4);
  ck_assert_str_eq(o, "EHLO localhost\r\n");
  g_free(o);
  feed_str(cli, "250-mx\r\n250-SIZE 5000\r\n250 PIPELINING\r\n", 5);
  ck_assert_uint_eq(smtp_cli_caps(cli), SMTP_CLI_CAP_SIZE | SMTP_CLI_CAP_PIPELINING);
  ck_assert_uint_eq(smtp_cli_server_size(cli), 5000);
  o = out_cli(cli, 5);
  ck_assert_str_eq(o, "QUIT\r\n");
  g_free(o);
  smtp_cli_free(cli);
}
END_TEST

START_TEST(bad_addresses_refused_locally) {
  /* An address that could inject a command never reaches the wire. */
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  smtp_cli *cli = smtp_cli_new(&cfg, NULL, 0);
  static const smtp_cmd_rcpt rc[] = {
      {"x@y.z>\r\nRSET", 0, NULL}, {"ok@y.z", 0, NULL}, {"o2@y.z", 0, "rfc822;a\r\nQUIT"}};
  smtp_cmd_mail mail = {.from = "a@b.c"};
  smtp_cli_message m = {&mail, rc, 3, (const uint8_t *)"hi", 2, 1};
  smtp_cli_send(cli, &m, 0);
  smtp_cmd_mail bad_from = {.from = "a@b.c> X"};
  m.mail = &bad_from, m.cookie = 2;
  smtp_cli_send(cli, &m, 0);
  feed_str(cli, "220 mx\r\n250-mx\r\n250-DSN\r\n250 PIPELINING\r\n", 1);
  char *o = out_cli(cli, 1);
  ck_assert_str_eq(o, "EHLO localhost\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<ok@y.z>\r\nDATA\r\n");
  g_free(o);
  feed_str(cli, "250 ok\r\n250 ok\r\n354 go\r\n250 done\r\n", 2);
  smtp_cli_event ev;
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.cookie, 1);
  ck_assert_uint_eq(ev.n_ok, 1);
  ck_assert_uint_eq(ev.n_perm, 2);
  ck_assert_int_eq(ev.rcpts[0].code, 553);
  ck_assert(ev.rcpts[0].local);
  ck_assert(smtp_cli_next_event(cli, &ev));
  ck_assert_uint_eq(ev.cookie, 2);
  ck_assert_uint_eq(ev.n_perm, 3);
  ck_assert_str_eq(ev.rcpts[1].esc, "5.1.7");
  o = out_cli(cli, 3);
  ck_assert_str_eq(o, "hi\r\n.\r\nQUIT\r\n");
  g_free(o);
  smtp_cli_free(cli);
}
END_TEST

int main(void) {
  Suite *s = suite_create("smtp_cli");
  TCase *tc = tcase_create("conversations");
  tcase_add_loop_test(tc, client_conversation, 0, G_N_ELEMENTS(cconvs));
  tcase_add_loop_test(tc, renewed_client, 0, G_N_ELEMENTS(cconvs));
  tcase_add_test(tc, keep_client);
  tcase_add_test(tc, keep_client_list);
  suite_add_tcase(s, tc);
  tc = tcase_create("timers and failures");
  tcase_add_test(tc, greeting_timeout);
  tcase_add_test(tc, phase_timeouts);
  tcase_add_test(tc, connection_lost);
  tcase_add_test(tc, bad_replies);
  tcase_add_test(tc, reply_line_limit);
  tcase_add_test(tc, idle_session);
  tcase_add_test(tc, eight_bit_anywhere);
  tcase_add_test(tc, ehlo_keywords_any_case);
  tcase_add_test(tc, ehlo_caps_read);
  tcase_add_test(tc, ehlo_lines_kept);
  tcase_add_test(tc, renewed_names);
  tcase_add_test(tc, idle_after_failed_message_resets);
  tcase_add_test(tc, auth_not_offered);
  tcase_add_test(tc, tls_discards_early_input);
  tcase_add_test(tc, bad_addresses_refused_locally);
  suite_add_tcase(s, tc);
  tc = tcase_create("body");
  tcase_add_loop_test(tc, encode_body, 0, G_N_ELEMENTS(bodies));
  tcase_add_test(tc, body_scan_random);
  tcase_add_test(tc, body_scan_every_place);
  suite_add_tcase(s, tc);
  tc = tcase_create("client and server");
  tcase_add_test(tc, client_server_in_memory);
  tcase_add_test(tc, many_recipients_and_long_texts);
  tcase_add_test(tc, message_blocks_reused);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
