/* smtp_peers.c — test peers for MTA-level suites (see smtp_peers.h). */
#include "smtp_peers.h"

#include <check.h>
#include <string.h>

#include "mta.h"

void sconn_free(sconn *c) {
  session_free(c->s);
  smtp_srv_free(c->srv);
  g_free(c);
}

static void sink_pump(void *owner, session *s) {
  sconn *c = owner;
  sink *k = c->k;
  sim_time now = host_now(k->h);
  smtp_srv_event ev;
  while (smtp_srv_next_event(c->srv, &ev)) {
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_RCPT:
      if (now < k->temp_until)
        smtp_srv_reject(c->srv, ev.id, 450, "4.7.1", "Try again later", now);
      else if (g_str_has_prefix(ev.rcpt->to, "perm"))
        smtp_srv_reject(c->srv, ev.id, 550, "5.1.1", "No such user", now);
      else if (g_str_has_prefix(ev.rcpt->to, "temp"))
        smtp_srv_reject(c->srv, ev.id, 452, "4.2.2", "Mailbox full", now);
      else
        smtp_srv_accept(c->srv, ev.id, now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      k->messages++;
      k->last_at = now;
      for (size_t i = 0; i < ev.nrcpts; i++)
        g_ptr_array_add(k->rcpts, g_strdup(ev.rcpts[i].to));
      g_ptr_array_add(k->bodies, g_string_new_len((const char *)ev.data, (gssize)ev.len));
      g_ptr_array_add(k->senders, g_strdup(ev.mail->from));
      smtp_srv_accept_message(c->srv, ev.id, "S1", now);
      break;
    case SMTP_SRV_EV_CLOSE:
      session_close(s);
      break;
    default:
      smtp_srv_accept(c->srv, ev.id, now);
    }
  }
}

static void sink_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  sconn *c = owner;
  g_ptr_array_remove(c->k->conns, c);
  sconn_free(c);
}

static const session_owner sink_owner = {.pump = sink_pump, .closed = sink_closed};

void sink_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  sink *k = lu;
  sconn *c = g_new0(sconn, 1);
  c->k = k;
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.hostname = host_name(k->h);
  cfg.ext_starttls = false;
  cfg.ext_auth = false;
  smtp_env env = smtp_glue_env(&c->tr, true);
  c->srv = smtp_srv_new(&cfg, &env);
  c->s = session_accept(k->h, tc, &smtp_glue_srv_ops, c->srv, &sink_owner, c);
  smtp_glue_attach(&c->tr, c->s);
  g_ptr_array_add(k->conns, c);
  if (k->conns->len > k->max_conns)
    k->max_conns = k->conns->len;
  *cb = session_tcp_callbacks();
  *user = c->s;
  session_kick(c->s);
}

/* ---- a test submission client ---- */

static void cli_pump(void *owner, session *s) {
  client *cl = owner;
  smtp_cli_event ev;
  while (cl->cli && smtp_cli_next_event(cl->cli, &ev)) {
    if (ev.type == SMTP_CLI_EV_RESULT) {
      cl->results++;
      cl->ok += ev.n_ok;
      cl->temp += ev.n_temp;
      cl->perm += ev.n_perm;
      for (size_t i = 0; i < ev.nrcpts; i++)
        if (ev.rcpts[i].status != SMTP_CLI_OK) {
          cl->last_code = ev.rcpts[i].code;
          g_strlcpy(cl->last_esc, ev.rcpts[i].esc, sizeof cl->last_esc);
        }
    } else if (ev.type == SMTP_CLI_EV_CLOSE) {
      session_close(s);
    } else if (ev.type == SMTP_CLI_EV_STARTTLS) {
      session_start_tls(s, tls_host_conn(cl->tls, TLS_CONN_CLIENT, "mail.a.example"));
    }
  }
}

static void cli_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)why;
  client *cl = owner;
  smtp_cli_connection_lost(cl->cli, host_now(cl->h));
  cli_pump(cl, s);
  session_free(cl->s);
  cl->s = NULL;
  smtp_cli_free(cl->cli);
  cl->cli = NULL;
}

static void cli_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  client *cl = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED)
    smtp_cli_tls_started(cl->cli, host_now(cl->h));
}

static const session_owner cli_owner = {
    .pump = cli_pump, .closed = cli_closed, .tls_event = cli_tls};

void cli_start(void *a, void *b) {
  (void)b;
  client *cl = a;
  g_assert(!cl->cli);
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "laptop.a.example";
  cfg.tls = cl->tls_on ? SMTP_CLI_TLS_REQUIRED : SMTP_CLI_TLS_NEVER;
  if (cl->auth) {
    cfg.auth_user = cl->user;
    cfg.auth_pass = cl->pass;
  }
  smtp_env env = smtp_glue_env(&cl->tr, false);
  cl->cli = smtp_cli_new(&cfg, &env, host_now(cl->h));
  smtp_cmd_mail mail = {.from = (char *)cl->from};
  smtp_cmd_rcpt rc[G_N_ELEMENTS(cl->rcpts)] = {{0}};
  for (size_t i = 0; i < cl->nrcpts; i++)
    rc[i].to = (char *)cl->rcpts[i];
  for (int i = 0; i < (cl->copies ? cl->copies : 1); i++) {
    smtp_cli_message m = {
        &mail, rc, cl->nrcpts, (const uint8_t *)cl->body, strlen(cl->body), (uint64_t)i + 1};
    smtp_cli_send(cl->cli, &m, host_now(cl->h));
  }
  sim_addr to;
  sim_addr_parse(cl->to_addr, &to);
  cl->s = session_connect(cl->h, &to, cl->port, NULL, &smtp_glue_cli_ops, cl->cli, &cli_owner, cl);
  smtp_glue_attach(&cl->tr, cl->s);
}

void peers_run(sim_world *w, trace_writer *tw, sim_time t) {
  sim_world_run(w, t);
  const char *dump = g_getenv("MTA_TEST_DUMP");
  if (dump)
    g_file_set_contents(dump, trace_writer_peek_memory(tw)->str, -1, NULL);
}

size_t peers_count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p++)
    n++;
  return n;
}

void peers_assert_clean(mta_host *a, mta_host *b) {
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  size_t na = mta_host_check(a, v);
  size_t nb = mta_host_check(b, v);
  ck_assert_msg(na + nb == 0, "violations: %s", v->len ? (char *)v->pdata[0] : "");
  g_ptr_array_free(v, TRUE);
}
