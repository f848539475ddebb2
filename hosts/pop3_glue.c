/* pop3_glue.c — POP3 engines behind the session interface, and their line
 * records (RFC 1939 commands and status lines). */
#include "pop3_glue.h"

#include <string.h>

static void srv_feed(void *e, const uint8_t *b, size_t n, sim_time now) {
  pop3_srv_feed(e, b, n, now);
}
static const uint8_t *srv_peek(void *e, size_t *n) { return pop3_srv_output_peek(e, n); }
static void srv_consume(void *e, size_t n, sim_time now) {
  (void)now;
  pop3_srv_output_consume(e, n);
}
static sim_time srv_deadline(void *e) { return pop3_srv_deadline(e); }
static void srv_tick(void *e, sim_time now) { pop3_srv_tick(e, now); }

const session_engine pop3_glue_srv_ops = {srv_feed, srv_peek, srv_consume, srv_deadline, srv_tick};

static void cli_feed(void *e, const uint8_t *b, size_t n, sim_time now) {
  pop3_cli_feed(e, b, n, now);
}
static const uint8_t *cli_peek(void *e, size_t *n) { return pop3_cli_output_peek(e, n); }
static void cli_consume(void *e, size_t n, sim_time now) {
  (void)now;
  pop3_cli_output_consume(e, n);
}
static sim_time cli_deadline(void *e) { return pop3_cli_deadline(e); }
static void cli_tick(void *e, sim_time now) { pop3_cli_tick(e, now); }

const session_engine pop3_glue_cli_ops = {cli_feed, cli_peek, cli_consume, cli_deadline, cli_tick};

/* Only received lines become records ("cmd" at the server, "reply" at the
 * client); the server's "+ " SASL prompt is a sent line and is skipped. */
static void on_trace(void *ctx, const char *event, const char *detail) {
  pop3_glue_trace *t = ctx;
  if (t->s && strcmp(event, t->want) == 0)
    session_trace_text(t->s, t->ev, detail);
}

pop3_env pop3_glue_env(pop3_glue_trace *t, bool server) {
  t->s = NULL;
  t->ev = server ? "pop3.cmd" : "pop3.reply";
  t->want = server ? "cmd" : "reply";
  /* hosts record lines through the hook and read no COMMAND/REPLY event */
  pop3_env env = {on_trace, t, true};
  return env;
}

pop3_env pop3_glue_env_on(pop3_glue_trace *t, bool server, const host *h) {
  pop3_env env = pop3_glue_env(t, server);
  if (!host_trace(h, SIM_DETAIL_PROTOCOL))
    env.trace = NULL;
  return env;
}
