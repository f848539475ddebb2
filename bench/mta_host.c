/* mta_host benchmark (not a test): N messages submitted to mta-a (587,
 * AUTH, with or without STARTTLS), relayed by MX lookup to mta-b (25,
 * 100 local domains, 1000 users), delivered to a sink standing in for the
 * mailbox host. Prints wall time, messages per wall second, events and
 * peak RSS. "hold": mta-b is not running, every message stays queued on
 * mta-a; prints the heap per queued message beyond the disk's bytes
 * (bodies and records). usage: mta_host_bench [N] [tls|hold]             */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "dns_auth.h"
#include "dns_client.h"
#include "dns_resolver.h"
#include "mta.h"
#include "smtp_glue.h"

typedef struct {
  host *h;
  GPtrArray *conns;
  uint64_t messages;
} sink;

typedef struct {
  sink *k;
  smtp_srv *srv;
  session *s;
  smtp_glue_trace tr;
} sconn;

static void sink_pump(void *owner, session *s) {
  sconn *c = owner;
  smtp_srv_event ev;
  sim_time now = host_now(c->k->h);
  while (smtp_srv_next_event(c->srv, &ev)) {
    if (ev.type == SMTP_SRV_EV_CLOSE)
      session_close(s);
    else if (ev.type == SMTP_SRV_EV_DECIDE_MESSAGE) {
      c->k->messages++;
      smtp_srv_accept_message(c->srv, ev.id, "S", now);
    } else
      smtp_srv_accept(c->srv, ev.id, now);
  }
}

static void sink_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  sconn *c = owner;
  g_ptr_array_remove(c->k->conns, c);
  session_free(c->s);
  smtp_srv_free(c->srv);
  g_free(c);
}

static const session_owner sink_owner = {.pump = sink_pump, .closed = sink_closed};

static void sink_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  sink *k = lu;
  sconn *c = g_new0(sconn, 1);
  c->k = k;
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.ext_starttls = cfg.ext_auth = false;
  smtp_env env = smtp_glue_env(&c->tr, true);
  c->srv = smtp_srv_new(&cfg, &env);
  c->s = session_accept(k->h, tc, &smtp_glue_srv_ops, c->srv, &sink_owner, c);
  smtp_glue_attach(&c->tr, c->s);
  g_ptr_array_add(k->conns, c);
  *cb = session_tcp_callbacks();
  *user = c->s;
  session_kick(c->s);
}

typedef struct {
  host *h;
  tls_host *tls;
  bool use_tls;
  int first, n; /* message numbers */
  smtp_cli *cli;
  session *s;
  smtp_glue_trace tr;
  uint64_t *ok;
} client;

static void cli_pump(void *owner, session *s) {
  client *cl = owner;
  smtp_cli_event ev;
  while (cl->cli && smtp_cli_next_event(cl->cli, &ev)) {
    if (ev.type == SMTP_CLI_EV_RESULT)
      *cl->ok += ev.n_ok;
    else if (ev.type == SMTP_CLI_EV_CLOSE)
      session_close(s);
    else if (ev.type == SMTP_CLI_EV_STARTTLS)
      session_start_tls(s, tls_host_conn(cl->tls, TLS_CONN_CLIENT, "mail.a.example"));
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

static void cli_start(void *a, void *b) {
  (void)b;
  client *cl = a;
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "laptop.a.example";
  cfg.tls = cl->use_tls ? SMTP_CLI_TLS_REQUIRED : SMTP_CLI_TLS_NEVER;
  cfg.auth_user = "alice@a.example";
  cfg.auth_pass = "pw";
  smtp_env env = smtp_glue_env(&cl->tr, false);
  cl->cli = smtp_cli_new(&cfg, &env, host_now(cl->h));
  smtp_cmd_mail mail = {.from = "alice@a.example"};
  for (int i = cl->first; i < cl->first + cl->n; i++) {
    char to[64], body[256];
    g_snprintf(to, sizeof to, "user%d@d%d.example", i % 1000, i % 100);
    g_snprintf(body, sizeof body,
               "From: alice@a.example\r\nTo: %s\r\nSubject: m%d\r\nMessage-ID: <m%d@a.example>\r\n"
               "\r\nHello %d.\r\n",
               to, i, i, i);
    smtp_cmd_rcpt rc = {.to = to};
    smtp_cli_message m = {&mail, &rc, 1, (const uint8_t *)body, strlen(body), (uint64_t)i};
    smtp_cli_send(cl->cli, &m, host_now(cl->h));
  }
  sim_addr to;
  sim_addr_parse("192.0.2.10", &to);
  cl->s = session_connect(cl->h, &to, 587, NULL, &smtp_glue_cli_ops, cl->cli, &cli_owner, cl);
  smtp_glue_attach(&cl->tr, cl->s);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  bool use_tls = argc > 2 && strcmp(argv[2], "tls") == 0;
  bool hold = argc > 2 && strcmp(argv[2], "hold") == 0;
  const int per_session = 10;
  sim_world *w = sim_world_new(1);
  trace_writer *tw = trace_writer_new_memory();
  if (!hold)
    sim_world_set_trace(w, tw, SIM_DETAIL_MESSAGES);
  const char *names[] = {"internet", "ns", "resolver", "mta-a", "mta-b", "sink", "client"};
  const char *addrs[] = {"10.0.0.1",   "198.41.0.4", "192.0.2.53", "192.0.2.10",
                         "192.0.2.20", "192.0.2.30", "192.0.2.100"};
  host *h[7];
  for (int i = 0; i < 7; i++) {
    h[i] = host_new(w, names[i], "x", i == 0);
    sim_addr a;
    sim_addr_parse(addrs[i], &a);
    sim_node_add_addr(host_node(h[i]), &a);
  }
  sim_link_params p = {.latency = 5 * SIM_MS, .bandwidth_bps = 1000000000};
  for (int i = 1; i < 7; i++)
    sim_net_add_link(sim_world_net(w), host_node(h[i]), host_node(h[0]), &p);
  dns_name o = dns_name_lit(".");
  dns_zone *z = dns_zone_new(&o);
  dns_zone_add_text(z, ". 86400 IN SOA ns. hostmaster. 1 1800 900 604800 60");
  dns_zone_add_text(z, ". 86400 IN NS ns.");
  dns_zone_add_text(z, "ns. 86400 IN A 198.41.0.4");
  dns_zone_add_text(z, "mx.b.example. 3600 IN A 192.0.2.20");
  GPtrArray *doms = g_ptr_array_new_with_free_func(g_free);
  for (int d = 0; d < 100; d++) {
    char *rr = g_strdup_printf("d%d.example. 3600 IN MX 10 mx.b.example.", d);
    dns_zone_add_text(z, rr);
    g_free(rr);
    g_ptr_array_add(doms, g_strdup_printf("d%d.example", d));
  }
  dns_zone_cfg zc = {.edns_size = 0};
  dns_auth *auth = dns_auth_new(h[1], &z, 1, &zc);
  dns_res_server hint = {"ns.", "198.41.0.4", 53};
  dns_resolver *res = dns_resolver_new(h[2], &hint, 1);
  sim_addr ra;
  sim_addr_parse(addrs[2], &ra);
  dns_client *dns_a = dns_client_new(h[3], &ra);
  userdir *users = userdir_new();
  userdir_add(users, "alice@a.example", "pw", NULL);
  for (int i = 0; i < 1000; i++) {
    char *u = g_strdup_printf("user%d@d%d.example", i, i % 100);
    userdir_add(users, u, "pw", "sink");
    g_free(u);
  }
  tls_world *tlw = tls_world_new(w);
  const char *na[] = {"mail.a.example"}, *nb[] = {"mx.b.example"}, *nc[] = {"laptop"};
  tls_host *ta = tls_host_new(tlw, h[3], na, 1), *tb = tls_host_new(tlw, h[4], nb, 1),
           *tc = tls_host_new(tlw, h[6], nc, 1);
  mta_host_config cfg;
  mta_host_config_init(&cfg);
  const char *la[] = {"a.example"};
  cfg.hostname = "mail.a.example";
  cfg.local_domains = la;
  cfg.nlocal_domains = 1;
  cfg.mailbox_host = "sink";
  mta_host *a = mta_host_new(h[3], &cfg, users, use_tls ? ta : NULL, dns_a);
  cfg.hostname = "mx.b.example";
  cfg.local_domains = (const char *const *)doms->pdata;
  cfg.nlocal_domains = doms->len;
  cfg.submission = false;
  mta_host *b = hold ? NULL : mta_host_new(h[4], &cfg, users, use_tls ? tb : NULL, NULL);
  sink k = {h[5], g_ptr_array_new(), 0};
  sim_tcp_listen(host_node(h[5]), 25, sink_accept, &k);
  int nsess = (n + per_session - 1) / per_session;
  client *cls = g_new0(client, (size_t)nsess);
  uint64_t ok = 0;
  for (int i = 0; i < nsess; i++) {
    cls[i] = (client){.h = h[6],
                      .tls = tc,
                      .use_tls = use_tls,
                      .first = i * per_session,
                      .n = MIN(per_session, n - i * per_session),
                      .ok = &ok};
    sim_world_at(w, SIM_S + (sim_time)i * (SIM_HOUR / nsess), cli_start, &cls[i], NULL);
  }
  gint64 t0 = g_get_monotonic_time();
  if (hold) {
    /* baseline: the world after its first minute (DNS cached, no mail) */
    sim_world_run(w, SIM_S / 2);
    size_t base = mallinfo2().uordblks;
    sim_world_run(w, 4190 * SIM_S); /* between queue runs: nothing in flight */
    mta_host_stats st;
    mta_host_get_stats(a, &st);
    size_t heap = mallinfo2().uordblks - base;
    uint64_t d = disk_used(host_disk(h[3]));
    printf("hold: %" G_GUINT64_FORMAT " queued, heap +%zu B, disk %" G_GUINT64_FORMAT
           " B: %.0f B per queued message beyond its disk bytes; the MTA's own estimate "
           "%.0f B\n",
           st.queued, heap, d, ((double)heap - (double)d) / (double)st.queued,
           (double)mta_host_memory(a) / (double)st.queued);
  }
  sim_world_run(w, 2 * SIM_HOUR);
  double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
  size_t viol = mta_host_check(a, v) + (b ? mta_host_check(b, v) : 0);
  printf("messages %d tls %s: submitted ok %" G_GUINT64_FORMAT ", delivered %" G_GUINT64_FORMAT
         ", violations %zu\n",
         n, use_tls ? "on" : "off", ok, k.messages, viol);
  printf("wall %.2f s, %.0f messages/s, trace %zu bytes, peak RSS %ld KiB\n", secs,
         (double)k.messages / secs, trace_writer_peek_memory(tw)->len, ru.ru_maxrss);
  mta_host_stats sa, sb;
  mta_host_get_stats(a, &sa);
  memset(&sb, 0, sizeof sb);
  if (b)
    mta_host_get_stats(b, &sb);
  printf("delivery sessions: mta-a %" G_GUINT64_FORMAT ", mta-b %" G_GUINT64_FORMAT "\n",
         sa.sessions_out, sb.sessions_out);
  g_ptr_array_free(v, TRUE);
  mta_host_free(a);
  mta_host_free(b);
  for (guint i = 0; i < k.conns->len; i++) {
    sconn *c = k.conns->pdata[i];
    session_free(c->s);
    smtp_srv_free(c->srv);
    g_free(c);
  }
  for (int i = 0; i < nsess; i++) {
    session_free(cls[i].s);
    smtp_cli_free(cls[i].cli);
  }
  dns_client_free(dns_a);
  dns_resolver_free(res);
  dns_auth_free(auth);
  sim_world_free(w);
  tls_host_free(ta);
  tls_host_free(tb);
  tls_host_free(tc);
  tls_world_free(tlw);
  dns_zone_free(z);
  userdir_free(users);
  for (int i = 0; i < 7; i++)
    host_free(h[i]);
  trace_writer_free(tw);
  g_free(cls);
  g_ptr_array_free(k.conns, TRUE);
  g_ptr_array_free(doms, TRUE);
  return viol ? 1 : 0;
}
