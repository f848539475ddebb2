/* smtp_glue.c — SMTP engines behind the session interface. */
#include "smtp_glue.h"

#include <string.h>

static void srv_feed(void *e, const uint8_t *b, size_t n, sim_time now) { smtp_srv_feed(e, b, n, now); }
static const uint8_t *srv_peek(void *e, size_t *n) { return smtp_srv_output_peek(e, n); }
static void srv_consume(void *e, size_t n, sim_time now) {
  (void)now;
  smtp_srv_output_consume(e, n);
}
static sim_time srv_deadline(void *e) { return smtp_srv_deadline(e); }
static void srv_tick(void *e, sim_time now) { smtp_srv_tick(e, now); }

const session_engine smtp_glue_srv_ops = {srv_feed, srv_peek, srv_consume, srv_deadline, srv_tick};

static void cli_feed(void *e, const uint8_t *b, size_t n, sim_time now) { smtp_cli_feed(e, b, n, now); }
static const uint8_t *cli_peek(void *e, size_t *n) { return smtp_cli_output_peek(e, n); }
static void cli_consume(void *e, size_t n, sim_time now) { smtp_cli_output_consume(e, n, now); }
static sim_time cli_deadline(void *e) { return smtp_cli_deadline(e); }
static void cli_tick(void *e, sim_time now) { smtp_cli_tick(e, now); }

const session_engine smtp_glue_cli_ops = {cli_feed, cli_peek, cli_consume, cli_deadline, cli_tick};

static void on_trace(void *ctx, int64_t now, smtp_trace_kind kind, const char *text) {
  (void)now;
  smtp_glue_trace *t = ctx;
  if (!t->s)
    return;
  if (kind == SMTP_TRACE_RECV)
    session_trace_text(t->s, t->ev, text);
  else if (kind == SMTP_TRACE_STATE)
    session_trace_state(t->s, "smtp.state", text);
}

smtp_env smtp_glue_env(smtp_glue_trace *t, bool server) {
  t->s = NULL;
  t->ev = server ? "smtp.cmd" : "smtp.reply";
  smtp_env env = {on_trace, t};
  return env;
}

smtp_env smtp_glue_env_on(smtp_glue_trace *t, bool server, const host *h) {
  smtp_env env = smtp_glue_env(t, server);
  if (!host_trace(h, SIM_DETAIL_PROTOCOL))
    env.trace = NULL;
  return env;
}
