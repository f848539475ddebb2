/* mail_world.c — the test fixture of mail_world.h. */
#include "mail_world.h"

#include <check.h>
#include <string.h>

void mw_init(mail_world *x, uint64_t seed, sim_detail detail) {
  memset(x, 0, sizeof *x);
  x->w = sim_world_new(seed);
  x->tw = trace_writer_new_memory();
  sim_world_set_trace(x->w, x->tw, detail);
  x->tlw = tls_world_new(x->w);
  x->router = host_new(x->w, "internet", "router", true);
  sim_addr a;
  sim_addr_parse("10.255.0.1", &a);
  sim_node_add_addr(host_node(x->router), &a);
}

host *mw_add(mail_world *x, const char *name, const char *addr, const char *tls_name,
             tls_host **th) {
  ck_assert_int_lt(x->n, MW_MAX);
  host *h = host_new(x->w, name, "mail", false);
  sim_addr a;
  ck_assert(sim_addr_parse(addr, &a));
  sim_node_add_addr(host_node(h), &a);
  sim_link_params p = {
      .latency = 20 * SIM_MS, .jitter = SIM_MS, .bandwidth_bps = 10000000, .mtu = x->mtu};
  sim_net_add_link(sim_world_net(x->w), host_node(h), host_node(x->router), &p);
  x->h[x->n] = h;
  if (tls_name) {
    const char *names[] = {tls_name};
    x->th[x->n] = tls_host_new(x->tlw, h, names, 1);
  }
  if (th)
    *th = x->th[x->n];
  x->n++;
  return h;
}

const char *mw_trace(const mail_world *x) { return trace_writer_peek_memory(x->tw)->str; }

void mw_free(mail_world *x) {
  sim_world_free(x->w);
  for (int i = 0; i < x->n; i++) {
    tls_host_free(x->th[i]);
    host_free(x->h[i]);
  }
  host_free(x->router);
  tls_world_free(x->tlw);
  trace_writer_free(x->tw);
}

int mw_count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* ---- the sender ---- */

static void snd_pump(void *owner, session *s) {
  mw_sender *snd = owner;
  smtp_cli_event ev;
  while (smtp_cli_next_event(snd->cli, &ev)) {
    if (ev.type == SMTP_CLI_EV_RESULT) {
      snd->ok += ev.n_ok;
      snd->temp += ev.n_temp;
      snd->perm += ev.n_perm;
      for (size_t i = 0; i < ev.nrcpts && i < 8; i++)
        snd->codes[i] = ev.rcpts[i].code;
    } else if (ev.type == SMTP_CLI_EV_CLOSE) {
      session_close(s);
    }
  }
}

static void snd_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  mw_sender *snd = owner;
  snd->done = true;
}

static const session_owner snd_owner = {.pump = snd_pump, .closed = snd_closed};

static void snd_start(void *a, void *b) {
  (void)b;
  mw_sender *snd = a;
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "mx.example.org";
  cfg.tls = SMTP_CLI_TLS_NEVER;
  smtp_env env = smtp_glue_env(&snd->tr, false);
  snd->cli = smtp_cli_new(&cfg, &env, host_now(snd->h));
  smtp_cmd_mail mail = {.from = (char *)snd->mail_from};
  smtp_cmd_rcpt rc[32];
  size_t n = 0;
  memset(rc, 0, sizeof rc);
  while (snd->rcpts[n] && n < G_N_ELEMENTS(rc)) {
    rc[n].to = (char *)snd->rcpts[n];
    n++;
  }
  smtp_cli_message m = {&mail, rc, n, (const uint8_t *)snd->data, strlen(snd->data), 1};
  smtp_cli_send(snd->cli, &m, host_now(snd->h));
  snd->s =
      session_connect(snd->h, &snd->to, 25, NULL, &smtp_glue_cli_ops, snd->cli, &snd_owner, snd);
  smtp_glue_attach(&snd->tr, snd->s);
}

void mw_send_at(mail_world *x, mw_sender *snd, host *from, const char *to_addr, sim_time at,
                const char *mail_from, const char *const *rcpts, const char *data) {
  memset(snd, 0, sizeof *snd);
  snd->h = from;
  snd->mail_from = mail_from;
  snd->rcpts = rcpts;
  snd->data = data;
  ck_assert(sim_addr_parse(to_addr, &snd->to));
  sim_world_at(x->w, at, snd_start, snd, NULL);
}

void mw_sender_clear(mw_sender *snd) {
  session_free(snd->s);
  smtp_cli_free(snd->cli);
  snd->s = NULL;
  snd->cli = NULL;
}
