/* STARTTLS end to end, in memory: the SMTP client engine talks to the SMTP
 * server engine; after the STARTTLS events each side wraps its stream in a
 * tls_conn (RFC 3207 §4.2), then AUTH PLAIN and one message go through TLS.
 * Both byte streams on the wire must be identical across runs with the same
 * seeds and across any cut of the wire into pieces, and differ with another
 * seed; nothing after STARTTLS may be readable on the wire. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_cli.h"
#include "smtp_srv.h"
#include "testutil.h"
#include "tls_fixture.h"

#define MS INT64_C(1000000)

typedef struct {
  tls_world w;
  uint8_t seed;
  smtp_cli *cli;
  smtp_srv *srv;
  tls_conn *ctls, *stls;
  GByteArray *c2s, *s2c;     /* every byte on the wire, per direction */
  GByteArray *q_c2s, *q_s2c; /* in flight */
  GString *log;
  char *message; /* the message the server accepted */
  tls_ca *other; /* a CA the client trusts instead of the world's, or NULL */
  bool cli_closed, srv_closed;
  int64_t now;
} run;

static void tls_events(run *r, tls_conn *c, const char *side) {
  tls_conn_event ev;
  while (tls_conn_next_event(c, &ev)) {
    if (ev.type == TLS_CONN_EV_ESTABLISHED)
      g_string_append_printf(r->log, "%s tls.established %s %s verified=%d\n", side, ev.version,
                             ev.cipher, ev.peer_verified);
    else
      g_string_append_printf(r->log, "%s tls.%s %s\n", side, tls_conn_event_type_name(ev.type),
                             ev.reason ? ev.reason : "");
    if (ev.type == TLS_CONN_EV_FAILED) { /* the owner drops the connection */
      if (c == r->ctls)
        smtp_cli_connection_lost(r->cli, r->now);
      else
        r->srv_closed = true;
    }
  }
}

static tls_conn *start_tls(run *r, bool client) {
  uint8_t k[TLS_RAND_SEED_LEN];
  fixture_seed(k, (uint8_t)(r->seed + (client ? 1 : 2)));
  return tls_conn_new(client ? r->w.cctx : r->w.sctx, client ? SERVER_NAME : NULL, k, NULL, r->now);
}

static void server_step(run *r) {
  smtp_srv_event ev;
  bool start = false;
  while (smtp_srv_next_event(r->srv, &ev)) {
    g_string_append_printf(r->log, "S %s\n", smtp_srv_event_type_name(ev.type));
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_AUTH:
      g_string_append_printf(r->log, "S auth %s %s\n", ev.mech, ev.user);
      if (strcmp(ev.user, "alice") == 0 && strcmp(ev.pass, "secret") == 0)
        smtp_srv_accept(r->srv, ev.id, r->now);
      else
        smtp_srv_reject(r->srv, ev.id, 535, NULL, NULL, r->now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      g_free(r->message);
      r->message = g_strndup((const char *)ev.data, ev.len);
      smtp_srv_accept_message(r->srv, ev.id, "Q1", r->now);
      break;
    case SMTP_SRV_EV_STARTTLS:
      start = true;
      break;
    case SMTP_SRV_EV_CLOSE:
      r->srv_closed = true;
      break;
    default:
      smtp_srv_accept(r->srv, ev.id, r->now);
      break;
    }
  }
  size_t n;
  const uint8_t *p = smtp_srv_output_peek(r->srv, &n);
  if (n > 0) {
    if (r->stls != NULL)
      tls_conn_write_plain(r->stls, p, n, r->now);
    else
      g_byte_array_append(r->q_s2c, p, (guint)n);
    smtp_srv_output_consume(r->srv, n);
  }
  if (start) { /* the 220 went out in clear above; wrap from here on */
    r->stls = start_tls(r, false);
    smtp_srv_tls_started(r->srv, r->now);
  }
  if (r->stls != NULL) {
    p = tls_conn_cipher_peek(r->stls, &n);
    g_byte_array_append(r->q_s2c, p, (guint)n);
    tls_conn_cipher_consume(r->stls, n);
    tls_events(r, r->stls, "S");
  }
}

static void client_step(run *r) {
  smtp_cli_event ev;
  bool start = false;
  while (smtp_cli_next_event(r->cli, &ev)) {
    g_string_append_printf(r->log, "C %s", smtp_cli_event_type_name(ev.type));
    if (ev.type == SMTP_CLI_EV_RESULT)
      g_string_append_printf(r->log, " ok=%u temp=%u perm=%u", ev.n_ok, ev.n_temp, ev.n_perm);
    if (ev.type == SMTP_CLI_EV_CLOSE) {
      g_string_append_printf(r->log, " %s", ev.reason);
      r->cli_closed = true;
    }
    g_string_append_c(r->log, '\n');
    if (ev.type == SMTP_CLI_EV_STARTTLS)
      start = true;
  }
  size_t n;
  const uint8_t *p = smtp_cli_output_peek(r->cli, &n);
  if (n > 0) {
    if (r->ctls != NULL)
      tls_conn_write_plain(r->ctls, p, n, r->now);
    else
      g_byte_array_append(r->q_c2s, p, (guint)n);
    smtp_cli_output_consume(r->cli, n, r->now);
  }
  if (start) {
    r->ctls = start_tls(r, true);
    smtp_cli_tls_started(r->cli, r->now);
    p = smtp_cli_output_peek(r->cli, &n); /* EHLO again, waiting for the handshake */
    tls_conn_write_plain(r->ctls, p, n, r->now);
    smtp_cli_output_consume(r->cli, n, r->now);
  }
  if (r->ctls != NULL) {
    p = tls_conn_cipher_peek(r->ctls, &n);
    g_byte_array_append(r->q_c2s, p, (guint)n);
    tls_conn_cipher_consume(r->ctls, n);
    tls_events(r, r->ctls, "C");
  }
}

/* Delivers up to CHUNK bytes in flight each way (0 = all). */
static bool deliver(run *r, size_t chunk) {
  bool moved = false;
  size_t n = chunk == 0 ? r->q_c2s->len : MIN(chunk, r->q_c2s->len);
  if (n > 0) {
    moved = true;
    g_byte_array_append(r->c2s, r->q_c2s->data, (guint)n);
    if (r->stls != NULL) {
      tls_conn_feed_cipher(r->stls, r->q_c2s->data, n, r->now);
      tls_events(r, r->stls, "S");
      size_t pn;
      const uint8_t *p = tls_conn_plain_peek(r->stls, &pn);
      smtp_srv_feed(r->srv, p, pn, r->now);
      tls_conn_plain_consume(r->stls, pn);
    } else {
      smtp_srv_feed(r->srv, r->q_c2s->data, n, r->now);
    }
    g_byte_array_remove_range(r->q_c2s, 0, (guint)n);
  }
  n = chunk == 0 ? r->q_s2c->len : MIN(chunk, r->q_s2c->len);
  if (n > 0) {
    moved = true;
    g_byte_array_append(r->s2c, r->q_s2c->data, (guint)n);
    if (r->ctls != NULL) {
      tls_conn_feed_cipher(r->ctls, r->q_s2c->data, n, r->now);
      tls_events(r, r->ctls, "C");
      size_t pn;
      const uint8_t *p = tls_conn_plain_peek(r->ctls, &pn);
      smtp_cli_feed(r->cli, p, pn, r->now);
      tls_conn_plain_consume(r->ctls, pn);
    } else {
      smtp_cli_feed(r->cli, r->q_s2c->data, n, r->now);
    }
    g_byte_array_remove_range(r->q_s2c, 0, (guint)n);
  }
  return moved;
}

static void run_session(run *r, uint8_t seed, size_t chunk, bool wrong_ca) {
  memset(r, 0, sizeof *r);
  r->seed = seed;
  tls_conn_config ccfg_tls;
  tls_conn_config_init(&ccfg_tls, TLS_CONN_CLIENT);
  if (wrong_ca) {
    uint8_t k[TLS_RAND_SEED_LEN];
    fixture_seed(k, 99);
    r->other = tls_ca_new(NULL, k, NULL, NULL);
    ccfg_tls.trust = r->other;
  }
  fixture_world_init(&r->w, seed, wrong_ca ? &ccfg_tls : NULL, NULL, NULL);
  r->c2s = g_byte_array_new();
  r->s2c = g_byte_array_new();
  r->q_c2s = g_byte_array_new();
  r->q_s2c = g_byte_array_new();
  r->log = g_string_new("");

  smtp_srv_config scfg;
  smtp_srv_config_init(&scfg);
  scfg.hostname = SERVER_NAME;
  scfg.require_auth = true;
  scfg.require_tls_for_auth = true;
  smtp_env env = {NULL, NULL};
  r->srv = smtp_srv_new(&scfg, &env);
  smtp_cli_config ccfg;
  smtp_cli_config_init(&ccfg);
  ccfg.helo_name = "laptop.example";
  ccfg.tls = SMTP_CLI_TLS_REQUIRED;
  ccfg.auth_user = "alice";
  ccfg.auth_pass = "secret";
  r->cli = smtp_cli_new(&ccfg, &env, 0);
  static const smtp_cmd_rcpt rcpts[] = {{.to = "bob@mx.example"}};
  smtp_cmd_mail mail = {.from = "alice@laptop.example"};
  static const char body[] = "Subject: hi\r\n\r\nHello Bob.\r\n.dot line\r\n";
  smtp_cli_message m = {&mail, rcpts, 1, (const uint8_t *)body, strlen(body), 1};
  smtp_cli_send(r->cli, &m, 0);

  for (int i = 0; i < 200000 && !(r->cli_closed && r->srv_closed); i++) {
    r->now += MS;
    server_step(r);
    client_step(r);
    if (!deliver(r, chunk) && r->cli_closed)
      break;
  }
}

static void run_clear(run *r) {
  smtp_cli_free(r->cli);
  smtp_srv_free(r->srv);
  tls_conn_free(r->ctls);
  tls_conn_free(r->stls);
  g_byte_array_unref(r->c2s);
  g_byte_array_unref(r->s2c);
  g_byte_array_unref(r->q_c2s);
  g_byte_array_unref(r->q_s2c);
  g_string_free(r->log, TRUE);
  g_free(r->message);
  fixture_world_clear(&r->w);
  tls_ca_free(r->other);
}

static bool contains(const GByteArray *b, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i + n <= b->len; i++)
    if (memcmp(b->data + i, s, n) == 0)
      return true;
  return false;
}

START_TEST(starttls_auth_message) {
  run r;
  run_session(&r, 1, 0, false);
  ck_assert_str_eq(r.log->str, "S DECIDE_CONNECT\n"
                               "S DECIDE_HELO\n"
                               "S STARTTLS\n"
                               "C STARTTLS\n"
                               "C tls.established TLSv1.3 TLS_AES_256_GCM_SHA384 verified=1\n"
                               "S tls.established TLSv1.3 TLS_AES_256_GCM_SHA384 verified=0\n"
                               "S DECIDE_HELO\n"
                               "S DECIDE_AUTH\n"
                               "S auth PLAIN alice\n"
                               "S DECIDE_MAIL\n"
                               "S DECIDE_RCPT\n"
                               "S DECIDE_MESSAGE\n"
                               "C RESULT ok=1 temp=0 perm=0\n"
                               "S CLOSE\n"
                               "C CLOSE quit\n");
  ck_assert_str_eq(r.message, "Subject: hi\r\n\r\nHello Bob.\r\n.dot line\r\n");
  ck_assert_msg(strstr(r.log->str, "C RESULT ok=1 temp=0 perm=0\n") != NULL, "log:\n%s",
                r.log->str);
  ck_assert_msg(strstr(r.log->str, "S auth PLAIN alice\n") != NULL, "log:\n%s", r.log->str);
  ck_assert(strstr(r.log->str, "C tls.established TLSv1.3 TLS_AES_256_GCM_SHA384 verified=1\n"));
  ck_assert(strstr(r.log->str, "S tls.established TLSv1.3 TLS_AES_256_GCM_SHA384 verified=0\n"));
  ck_assert(r.cli_closed && r.srv_closed);
  ck_assert(smtp_srv_tls_active(r.srv));
  /* in clear: the greeting, EHLO, STARTTLS and its 220 */
  ck_assert(contains(r.c2s, "STARTTLS\r\n"));
  ck_assert(contains(r.s2c, "220 2.0.0 Ready to start TLS\r\n"));
  /* encrypted: AUTH, the envelope, the body */
  ck_assert(!contains(r.c2s, "AUTH"));
  ck_assert(!contains(r.c2s, "bob@mx.example"));
  ck_assert(!contains(r.c2s, "Hello Bob"));
  ck_assert(!contains(r.s2c, "235"));
  run_clear(&r);
}
END_TEST

static const size_t chunks[] = {0, 1, 3, 64};

/* Same seed, any cut of the wire: the same bytes both ways. */
START_TEST(starttls_deterministic) {
  run a, b;
  run_session(&a, 1, 0, false);
  run_session(&b, 1, chunks[_i], false);
  ck_assert_msg(a.c2s->len == b.c2s->len && memcmp(a.c2s->data, b.c2s->data, a.c2s->len) == 0,
                "chunk %zu: client bytes differ (%u vs %u)", chunks[_i], a.c2s->len, b.c2s->len);
  ck_assert_msg(a.s2c->len == b.s2c->len && memcmp(a.s2c->data, b.s2c->data, a.s2c->len) == 0,
                "chunk %zu: server bytes differ", chunks[_i]);
  ck_assert_str_eq(a.message, b.message);
  run_clear(&a);
  run_clear(&b);
}
END_TEST

START_TEST(starttls_seed_matters) {
  run a, b;
  run_session(&a, 1, 0, false);
  run_session(&b, 2, 0, false);
  ck_assert_str_eq(a.message, b.message);
  ck_assert_str_eq(a.log->str, b.log->str);
  ck_assert_uint_eq(a.c2s->len, b.c2s->len); /* constant lengths (Ed25519, X25519) */
  ck_assert_msg(memcmp(a.c2s->data, b.c2s->data, a.c2s->len) != 0, "seed changed nothing");
  run_clear(&a);
  run_clear(&b);
}
END_TEST

/* The client does not trust the server's CA: tls.failed on both sides with
 * the reason, the message is not sent (TEMP: retry later), nothing after
 * STARTTLS went out in clear. */
START_TEST(starttls_untrusted) {
  run r;
  run_session(&r, 1, 0, true);
  ck_assert_str_eq(
      r.log->str, "S DECIDE_CONNECT\n"
                  "S DECIDE_HELO\n"
                  "S STARTTLS\n"
                  "C STARTTLS\n"
                  "C tls.FAILED certificate verify failed: unable to get local issuer certificate\n"
                  "C RESULT ok=0 temp=1 perm=0\n"
                  "C CLOSE connection lost\n"
                  "S tls.FAILED tlsv1 alert unknown ca\n");
  ck_assert_ptr_null(r.message);
  ck_assert(!contains(r.c2s, "AUTH") && !contains(r.c2s, "MAIL"));
  run_clear(&r);
}
END_TEST

static Suite *starttls_suite(void) {
  Suite *s = suite_create("tls_starttls");
  TCase *tc = tcase_create("smtp");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, starttls_auth_message);
  tcase_add_loop_test(tc, starttls_deterministic, 0, G_N_ELEMENTS(chunks));
  tcase_add_test(tc, starttls_seed_matters);
  tcase_add_test(tc, starttls_untrusted);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(starttls_suite()); }
