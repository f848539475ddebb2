/* Tests for the MTA host: worlds with DNS (root server, resolver), two
 * MTAs, test SMTP sinks standing in for mailbox hosts and remote MXs, and a
 * test submission client. Covers submission (STARTTLS + AUTH), relaying by
 * MX lookup, deferral on the postfix schedule, bounce after the lifetime,
 * null MX, MX to self, crash and restart, disk full, mixed per-recipient
 * outcomes and reproducibility. */
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "dns_auth.h"
#include "dns_client.h"
#include "dns_resolver.h"
#include "mta.h"
#include "mta_retry.h"
#include "smtp_glue.h"
#include "testutil.h"

#include "smtp_peers.h"

/* ---- the world ---- */

typedef struct {
  sim_world *w;
  trace_writer *tw;
  host *h[H__N];
  dns_zone *zone;
  dns_auth *auth;
  dns_resolver *res;
  dns_client *dns_a, *dns_b;
  tls_world *tlw;
  tls_host *tls_a, *tls_b, *tls_client;
  userdir *users;
  mta_host *a, *b;
  sink sa, sb, sc;
  client cl;
  smtp_cli *cl2; /* an idle second client (session limit) */
  session *cl2s;
} world;

static void idle_pump(void *owner, session *s) {
  world *x = owner;
  smtp_cli_event ev;
  while (x->cl2 && smtp_cli_next_event(x->cl2, &ev))
    if (ev.type == SMTP_CLI_EV_CLOSE)
      session_close(s);
}

static void idle_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  world *x = owner;
  session_free(x->cl2s);
  x->cl2s = NULL;
}

static const session_owner idle_owner = {.pump = idle_pump, .closed = idle_closed};

static void sink_init(sink *k, host *h) {
  memset(k, 0, sizeof *k);
  k->h = h;
  k->conns = g_ptr_array_new();
  k->rcpts = g_ptr_array_new_with_free_func(g_free);
  k->senders = g_ptr_array_new_with_free_func(g_free);
  k->bodies = g_ptr_array_new();
  k->lis = sim_tcp_listen(host_node(h), 25, sink_accept, k);
}

static void sink_clear(sink *k) {
  for (guint i = 0; i < k->conns->len; i++)
    sconn_free(k->conns->pdata[i]);
  g_ptr_array_free(k->conns, TRUE);
  g_ptr_array_free(k->rcpts, TRUE);
  g_ptr_array_free(k->senders, TRUE);
  for (guint i = 0; i < k->bodies->len; i++)
    g_string_free(k->bodies->pdata[i], TRUE);
  g_ptr_array_free(k->bodies, TRUE);
}

typedef void (*tweak_fn)(mta_host_config *cfg);

/* A world; TWEAK (may be NULL) adjusts mta-a's config. */
static void world_init_cfg(world *x, uint64_t seed, const char *profile, tweak_fn tweak) {
  memset(x, 0, sizeof *x);
  x->w = sim_world_new(seed);
  x->tw = trace_writer_new_memory();
  sim_world_set_trace(x->w, x->tw, SIM_DETAIL_PROTOCOL);
  for (int i = 0; i < H__N; i++) {
    x->h[i] = host_new(x->w, hnames[i], i == H_ROUTER ? "router" : "mta", i == H_ROUTER);
    sim_addr a;
    ck_assert(sim_addr_parse(haddrs[i], &a));
    sim_node_add_addr(host_node(x->h[i]), &a);
  }
  sim_link_params p = {.latency = 5 * SIM_MS, .bandwidth_bps = 100000000};
  for (int i = 1; i < H__N; i++)
    sim_net_add_link(sim_world_net(x->w), host_node(x->h[i]), host_node(x->h[H_ROUTER]), &p);
  static const char *const rrs[] = {
      ". 86400 IN SOA ns. hostmaster. 1 1800 900 604800 60",
      ". 86400 IN NS ns.",
      "ns. 86400 IN A 198.41.0.4",
      "a.example. 300 IN MX 10 mail.a.example.",
      "mail.a.example. 300 IN A 192.0.2.10",
      "b.example. 300 IN MX 10 mx.b.example.",
      "mx.b.example. 300 IN A 192.0.2.20",
      "c.example. 300 IN MX 10 mx.c.example.",
      "mx.c.example. 300 IN A 192.0.2.40",
      "null.example. 300 IN MX 0 .",
      "loop.example. 300 IN MX 10 mail.a.example.",
      "f.example. 300 IN MX 10 mx1.f.example.", /* nothing listens there */
      "f.example. 300 IN MX 20 mx.c.example.",
      "mx1.f.example. 300 IN A 192.0.2.53",
      "c2.example. 300 IN MX 10 mx.c.example.", /* another domain, same MX */
      "b3.example. 300 IN MX 10 alias.b.example.", /* not a name on mta-b's certificate */
      "alias.b.example. 300 IN A 192.0.2.20",
      /* eight addresses of one exchange, none listening (past a resolved
       * name's room for address texts; many_addresses_of_one_exchange
       * gives them to the resolver's node), then a working one */
      "many.example. 300 IN MX 10 mx.many.example.",
      "many.example. 300 IN MX 20 mx.c.example.",
      "mx.many.example. 300 IN A 192.0.2.61",
      "mx.many.example. 300 IN A 192.0.2.62",
      "mx.many.example. 300 IN A 192.0.2.63",
      "mx.many.example. 300 IN A 192.0.2.64",
      "mx.many.example. 300 IN A 192.0.2.65",
      "mx.many.example. 300 IN A 192.0.2.66",
      "mx.many.example. 300 IN A 192.0.2.67",
      "mx.many.example. 300 IN A 192.0.2.68",
  };
  dns_name o = dns_name_lit(".");
  x->zone = dns_zone_new(&o);
  for (size_t i = 0; i < G_N_ELEMENTS(rrs); i++)
    ck_assert_msg(dns_zone_add_text(x->zone, rrs[i]) == DNS_OK, "%s", rrs[i]);
  dns_zone_cfg zc = {.edns_size = 0};
  x->auth = dns_auth_new(x->h[H_NS], &x->zone, 1, &zc);
  dns_res_server hint = {"ns.", "198.41.0.4", 53};
  x->res = dns_resolver_new(x->h[H_RES], &hint, 1);
  sim_addr ra;
  sim_addr_parse(haddrs[H_RES], &ra);
  x->dns_a = dns_client_new(x->h[H_MTA_A], &ra);
  x->dns_b = dns_client_new(x->h[H_MTA_B], &ra);
  x->tlw = tls_world_new(x->w);
  const char *na[] = {"mail.a.example"}, *nb[] = {"mx.b.example"}, *nc[] = {"laptop.a.example"};
  x->tls_a = tls_host_new(x->tlw, x->h[H_MTA_A], na, 1);
  x->tls_b = tls_host_new(x->tlw, x->h[H_MTA_B], nb, 1);
  x->tls_client = tls_host_new(x->tlw, x->h[H_CLIENT], nc, 1);
  x->users = userdir_new();
  userdir_add(x->users, "alice@a.example", "wonderland", "sink-a");
  userdir_add(x->users, "bob@b.example", "builder", "sink-b");
  userdir_add(x->users, "carol@b.example", "singer", "sink-b");
  userdir_add(x->users, "bob@b3.example", "builder", "sink-b");

  mta_host_config cfg;
  mta_host_config_init(&cfg);
  const char *la[] = {"a.example"};
  cfg.hostname = "mail.a.example";
  cfg.local_domains = la;
  cfg.nlocal_domains = 1;
  cfg.mailbox_host = "sink-a";
  cfg.retry_profile = profile;
  if (tweak)
    tweak(&cfg);
  x->a = mta_host_new(x->h[H_MTA_A], &cfg, x->users, x->tls_a, x->dns_a);
  const char *lb[] = {"b.example", "b3.example"};
  mta_host_config_init(&cfg);
  cfg.hostname = "mx.b.example";
  cfg.local_domains = lb;
  cfg.nlocal_domains = 2;
  cfg.mailbox_host = "192.0.2.30";
  cfg.submission = false;
  x->b = mta_host_new(x->h[H_MTA_B], &cfg, x->users, x->tls_b, x->dns_b);
  sink_init(&x->sa, x->h[H_SINK_A]);
  sink_init(&x->sb, x->h[H_SINK_B]);
  sink_init(&x->sc, x->h[H_SINK_C]);

  client *cl = &x->cl;
  cl->h = x->h[H_CLIENT];
  cl->tls = x->tls_client;
  cl->to_addr = haddrs[H_MTA_A];
  cl->port = 587;
  cl->tls_on = cl->auth = true;
  cl->user = "alice@a.example";
  cl->pass = "wonderland";
  cl->from = "alice@a.example";
  cl->body = "From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nSubject: hi\r\n"
             "Message-ID: <m1.test@a.example>\r\n\r\nHello.\r\n";
}

static void world_init(world *x, uint64_t seed, const char *profile) {
  world_init_cfg(x, seed, profile, NULL);
}

static GString *world_clear(world *x) {
  GString *t = g_string_new(trace_writer_peek_memory(x->tw)->str);
  /* Services before the world (host.h). */
  mta_host_free(x->a);
  mta_host_free(x->b);
  sink_clear(&x->sa);
  sink_clear(&x->sb);
  sink_clear(&x->sc);
  if (x->cl.s)
    session_free(x->cl.s);
  session_free(x->cl2s);
  smtp_cli_free(x->cl2);
  smtp_cli_free(x->cl.cli);
  dns_client_free(x->dns_a);
  dns_client_free(x->dns_b);
  dns_resolver_free(x->res);
  dns_auth_free(x->auth);
  sim_world_free(x->w);
  tls_host_free(x->tls_a);
  tls_host_free(x->tls_b);
  tls_host_free(x->tls_client);
  tls_world_free(x->tlw);
  dns_zone_free(x->zone);
  userdir_free(x->users);
  for (int i = 0; i < H__N; i++)
    host_free(x->h[i]);
  trace_writer_free(x->tw);
  return t;
}

static void run(world *x, sim_time t) { peers_run(x->w, x->tw, t); }
static size_t count(const char *hay, const char *needle) { return peers_count(hay, needle); }
static void assert_clean(world *x) { peers_assert_clean(x->a, x->b); }

static void submit_at(world *x, sim_time t) { sim_world_at(x->w, t, cli_start, &x->cl, NULL); }

/* ---- tests ---- */

static GString *journey(uint64_t seed, world *x) {
  world_init(x, seed, NULL);
  x->cl.rcpts[0] = "bob@b.example";
  x->cl.rcpts[1] = "carol@b.example";
  x->cl.nrcpts = 2;
  submit_at(x, SIM_S);
  run(x, 10 * SIM_MIN);
  ck_assert_uint_eq(x->cl.ok, 2);
  ck_assert_int_eq(x->sb.messages, 1);
  ck_assert_uint_eq(x->sb.rcpts->len, 2);
  const char *body = ((GString *)x->sb.bodies->pdata[0])->str;
  /* Two hops: mta-b's Received above mta-a's. */
  const char *rb = strstr(body, "by mx.b.example with ESMTPS");
  const char *ra = strstr(body, "by mail.a.example with ESMTPSA");
  ck_assert_msg(rb && ra && rb < ra, "%s", body);
  ck_assert_ptr_nonnull(strstr(body, "Message-ID: <m1.test@a.example>"));
  mta_host_stats st;
  mta_host_get_stats(x->a, &st);
  ck_assert_uint_eq(st.submitted, 1);
  ck_assert_uint_eq(st.rcpt_delivered, 2);
  ck_assert_uint_eq(st.queued, 0);
  mta_host_get_stats(x->b, &st);
  ck_assert_uint_eq(st.relayed, 1);
  ck_assert_uint_eq(st.left, 1);
  assert_clean(x);
  return world_clear(x);
}

START_TEST(submission_relay_by_mx_and_local_delivery) {
  world x;
  GString *t = journey(7, &x);
  const char *s = t->str;
  ck_assert_msg(strstr(s, "\"ev\":\"msg.submit\",\"from\":\"client\",\"to\":\"mta-a\",\"msg\":\"m1."
                          "test@a.example\""),
                "%s", s);
  ck_assert_ptr_nonnull(strstr(s, "\"ev\":\"msg.relay\",\"from\":\"mta-a\",\"to\":\"mta-b\""));
  ck_assert_uint_eq(count(s, "\"ev\":\"msg.queue\""), 2);
  ck_assert_uint_eq(count(s, "\"ev\":\"msg.expire\""), 2);
  ck_assert_ptr_nonnull(strstr(s, "\"ev\":\"tls.established\""));
  ck_assert_msg(strstr(s, "MX") != NULL || strstr(s, "dns.query") != NULL, "no DNS");
  ck_assert_ptr_null(strstr(s, "wonderland"));
  g_string_free(t, TRUE);
}
END_TEST

START_TEST(same_seed_same_trace) {
  world x, y;
  GString *t1 = journey(11, &x);
  GString *t2 = journey(11, &y);
  ck_assert_msg(g_string_equal(t1, t2), "same seed, different traces");
  g_string_free(t1, TRUE);
  g_string_free(t2, TRUE);
}
END_TEST

START_TEST(auth_before_tls_and_open_relay_refused) {
  world x;
  world_init(&x, 3, NULL);
  /* AUTH without STARTTLS on 587: not offered; MAIL refused 530. */
  x.cl.tls_on = false;
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 30 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 0);
  ck_assert_uint_eq(x.cl.ok + x.cl.temp + x.cl.perm, 1);
  /* Port 25 without AUTH: relaying to b.example refused 554 5.7.1. */
  x.cl.port = 25;
  x.cl.auth = false;
  x.cl.last_code = 0;
  submit_at(&x, 40 * SIM_S);
  run(&x, 80 * SIM_S);
  ck_assert_int_eq(x.cl.last_code, 554);
  ck_assert_str_eq(x.cl.last_esc, "5.7.1");
  /* Wrong password over TLS: 535. */
  x.cl.port = 587;
  x.cl.tls_on = x.cl.auth = true;
  x.cl.pass = "guess";
  submit_at(&x, 100 * SIM_S);
  run(&x, 140 * SIM_S);
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.messages_in, 0);
  ck_assert_uint_eq(x.cl.ok, 0);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "Relay access denied"));
  ck_assert_ptr_nonnull(strstr(t->str, "535 5.7.8"));
  g_string_free(t, TRUE);
}
END_TEST

START_TEST(deferred_on_postfix_schedule_then_delivered) {
  world x;
  world_init(&x, 5, NULL);
  x.sc.temp_until = 1000 * SIM_S;
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 2 * SIM_HOUR);
  ck_assert_int_eq(x.sc.messages, 1);
  ck_assert_int_ge(x.sc.last_at, 1200 * SIM_S);
  ck_assert_int_lt(x.sc.last_at, 1201 * SIM_S);
  assert_clean(&x);
  GString *t = world_clear(&x);
  /* Attempts at arrival (1.2 s), 600 s, 1200 s (postfix: the queue file
   * is stamped now + age clamped to [300 s, 4000 s]; the 300 s queue run
   * takes it when the stamp is at most 1 s ahead: 301.3 s → 600 s). */
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.defer\""), 2);
  ck_assert_ptr_nonnull(strstr(t->str, "\"next_try\":600000000000}"));
  ck_assert_ptr_nonnull(strstr(t->str, "\"next_try\":1200000000000}"));
  ck_assert_ptr_nonnull(strstr(t->str, "450 4.7.1 Try again later"));
  g_string_free(t, TRUE);
}
END_TEST

START_TEST(always_4xx_bounces_after_lifetime_with_dsn) {
  world x;
  world_init(&x, 9, NULL);
  x.sc.temp_until = INT64_MAX;
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 5 * SIM_DAY + 2 * SIM_HOUR);
  ck_assert_int_eq(x.sc.messages, 0);
  ck_assert_int_eq(x.sa.messages, 1); /* the DSN, in alice's mailbox host */
  ck_assert_int_ge(x.sa.last_at, 5 * SIM_DAY);
  ck_assert_str_eq(x.sa.senders->pdata[0], "");
  ck_assert_str_eq(x.sa.rcpts->pdata[0], "alice@a.example");
  const char *dsn = ((GString *)x.sa.bodies->pdata[0])->str;
  ck_assert_ptr_nonnull(strstr(dsn, "multipart/report"));
  ck_assert_ptr_nonnull(strstr(dsn, "Final-Recipient: rfc822; dave@c.example"));
  ck_assert_ptr_nonnull(strstr(dsn, "Action: failed"));
  ck_assert_ptr_nonnull(strstr(dsn, "Status: 4.7.1"));
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.dsns, 1);
  ck_assert_uint_eq(st.queued, 0);
  ck_assert_uint_eq(st.left, 2);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.bounce\""), 1);
  /* Postfix's table for an arrival at 0 has 108 attempts; arriving at
   * 1.2 s the first retry falls to the 600 s queue run (see above): 107
   * attempts, the last one at 433200 s bounces. */
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.defer\""), 106);
  ck_assert_ptr_nonnull(strstr(t->str, "\"next_try\":433200000000000}"));
  g_string_free(t, TRUE);
}
END_TEST

static void bounce_case(const char *rcpt, const char *status) {
  world x;
  world_init(&x, 13, NULL);
  x.cl.rcpts[0] = rcpt;
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sa.messages, 1);
  const char *dsn = ((GString *)x.sa.bodies->pdata[0])->str;
  char *want = g_strdup_printf("Status: %s", status);
  ck_assert_msg(strstr(dsn, want) != NULL, "%s", dsn);
  g_free(want);
  ck_assert_int_lt(x.sa.last_at, 10 * SIM_S);
  assert_clean(&x);
  GString *t = world_clear(&x);
  /* No connection to any exchange of that domain was made. */
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.bounce\""), 1);
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.relay\""), 0);
  /* the submission and the DSN's delivery: nothing towards the domain */
  ck_assert_uint_eq(count(t->str, "\"ev\":\"tcp.connect\""), 2);
  g_string_free(t, TRUE);
}

START_TEST(null_mx_bounces_at_once) { bounce_case("x@null.example", "5.1.10"); }
END_TEST

START_TEST(mx_to_self_bounces) { bounce_case("x@loop.example", "5.4.6"); }
END_TEST

/* One message to dave@c.example submitted at 1 s; MTA A crashes at 100 s
 * and restarts at 200 s (the scenario's temp_until keeps it queued). */
static void submit_then_crash(world *x) {
  x->cl.rcpts[0] = "dave@c.example";
  x->cl.nrcpts = 1;
  submit_at(x, SIM_S);
  sim_node_crash_at(host_node(x->h[H_MTA_A]), 100 * SIM_S);
  sim_node_restart_at(host_node(x->h[H_MTA_A]), 200 * SIM_S);
}

START_TEST(crash_after_250_delivered_after_restart) {
  world x;
  world_init(&x, 17, NULL);
  x.sc.temp_until = 250 * SIM_S; /* keeps it queued across the crash */
  submit_then_crash(&x);
  run(&x, 150 * SIM_S);
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.queued, 1); /* on disk while down */
  assert_clean(&x);
  run(&x, 1 * SIM_HOUR);
  ck_assert_int_eq(x.sc.messages, 1);
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.restarts, 1);
  ck_assert_uint_eq(st.queued, 0);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

/* The Message-ID the queue reads from the stored body (it keeps no copy
 * of its own) names the message in every record, before a crash and after
 * the restart that rebuilt the queue from the disk. */
START_TEST(message_id_from_the_body_across_restart) {
  world x;
  world_init(&x, 23, NULL);
  x.sc.temp_until = 2000 * SIM_S; /* deferred before and after the crash */
  GString *b = g_string_new("");
  if (_i == 1) { /* the Message-ID past the account's 16-bit offset: the queue keeps it */
    for (int i = 0; i < 700; i++)
      g_string_append_printf(b, "X-Pad-%03d: %090d\r\n", i, i);
    g_string_append(b, "Subject: padded\r\nMessage-ID: <m1.test@a.example>\r\n\r\nHello.\r\n");
    ck_assert_uint_gt(b->len, 65536);
    x.cl.body = b->str;
  }
  submit_then_crash(&x);
  run(&x, 3 * SIM_HOUR);
  ck_assert_int_eq(x.sc.messages, 1);
  assert_clean(&x);
  GString *t = world_clear(&x);
  const char *sub = strstr(t->str, "\"ev\":\"msg.submit\"");
  ck_assert_ptr_nonnull(sub);
  const char *m = strstr(sub, "\"msg\":\"");
  ck_assert_ptr_nonnull(m);
  const char *e = strchr(m + 7, '"');
  char *want = g_strndup(m, (gsize)(e - m + 1)); /* "msg":"<id>" */
  size_t defers = 0, before = 0;
  for (const char *p = strstr(t->str, "\"ev\":\"msg.defer\""); p;
       p = strstr(p + 1, "\"ev\":\"msg.defer\"")) {
    const char *eol = strchr(p, '\n');
    char *line = g_strndup(p, eol ? (gsize)(eol - p) : strlen(p));
    ck_assert_msg(strstr(line, want) && strstr(line, "\"queue_id\":\"000001\""),
                  "got %s want %s", line, want);
    const char *tt = p;
    while (tt > t->str && tt[-1] != '\n')
      tt--;
    before += g_ascii_strtoll(tt + 5, NULL, 10) < 100 * SIM_S;
    defers++;
    g_free(line);
  }
  ck_assert_uint_gt(before, 0);      /* from the queue before the crash */
  ck_assert_uint_gt(defers, before); /* and from the one rebuilt after it */
  g_free(want);
  g_string_free(t, TRUE);
  g_string_free(b, TRUE);
}
END_TEST

START_TEST(crash_mid_delivery_never_loses) {
  /* Crash at many instants of the first delivery: the message is always
   * delivered in the end (possibly twice), and never lost. */
  int unacked = 0, redelivered = 0, before = 0;
  for (int ms = 0; ms < 400; ms += 9) {
    world x;
    world_init(&x, 19, NULL);
    x.cl.rcpts[0] = "dave@c.example";
    x.cl.nrcpts = 1;
    submit_at(&x, SIM_S);
    sim_node_crash_at(host_node(x.h[H_MTA_A]), SIM_S + 60 * SIM_MS + ms * SIM_MS);
    sim_node_restart_at(host_node(x.h[H_MTA_A]), 30 * SIM_S);
    run(&x, 2 * SIM_HOUR);
    mta_host_stats st;
    mta_host_get_stats(x.a, &st);
    if (x.cl.ok == 1) {
      ck_assert_msg(x.sc.messages >= 1, "crash at +%d ms: accepted, never delivered", ms);
      ck_assert_uint_eq(st.queued, 0);
      if (x.sc.last_at >= 30 * SIM_S)
        redelivered++; /* the crash came between the 250 and the delivery's end */
      else
        before++;
    } else {
      unacked++; /* not acknowledged: delivered or not, the client still owns it */
    }
    assert_clean(&x);
    g_string_free(world_clear(&x), TRUE);
  }
  /* The instants cover all three cases. */
  ck_assert_int_gt(unacked, 0);
  ck_assert_int_gt(redelivered, 0);
  ck_assert_int_gt(before, 0);
}
END_TEST

START_TEST(disk_full_452_nothing_lost) {
  world x;
  world_init(&x, 23, NULL);
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  disk_set_full(host_disk(x.h[H_MTA_A]), true);
  submit_at(&x, SIM_S);
  run(&x, 30 * SIM_S);
  ck_assert_uint_eq(x.cl.temp, 1);
  ck_assert_int_eq(x.cl.last_code, 452);
  ck_assert_str_eq(x.cl.last_esc, "4.3.1");
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.disk_full, 1);
  ck_assert_uint_eq(st.messages_in, 0);
  disk_set_full(host_disk(x.h[H_MTA_A]), false);
  submit_at(&x, 40 * SIM_S);
  run(&x, 10 * SIM_MIN);
  ck_assert_uint_eq(x.cl.ok, 1);
  ck_assert_int_eq(x.sc.messages, 1);
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.messages_in, 1);
  ck_assert_uint_eq(st.queued, 0);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

START_TEST(mixed_outcomes_in_one_transaction) {
  world x;
  world_init(&x, 29, NULL);
  x.cl.rcpts[0] = "ok1@c.example";
  x.cl.rcpts[1] = "temp1@c.example";
  x.cl.rcpts[2] = "perm1@c.example";
  x.cl.rcpts[3] = "ok2@c.example";
  x.cl.nrcpts = 4;
  submit_at(&x, SIM_S);
  run(&x, 100 * SIM_S);
  ck_assert_int_eq(x.sc.messages, 1); /* one transaction, two accepted */
  ck_assert_uint_eq(x.sc.rcpts->len, 2);
  ck_assert_int_eq(x.sa.messages, 1); /* the DSN for perm1 */
  const char *dsn = ((GString *)x.sa.bodies->pdata[0])->str;
  ck_assert_ptr_nonnull(strstr(dsn, "Final-Recipient: rfc822; perm1@c.example"));
  ck_assert_ptr_null(strstr(dsn, "Final-Recipient: rfc822; temp1@c.example"));
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.rcpt_delivered, 3); /* ok1, ok2, and the DSN */
  ck_assert_uint_eq(st.rcpt_bounced, 1);
  ck_assert_uint_eq(st.rcpt_deferred, 1);
  ck_assert_uint_eq(st.queued, 1); /* temp1 waits */
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.defer\""), 1);
  ck_assert_ptr_nonnull(strstr(t->str, "\"rcpt\":\"temp1@c.example\",\"reason\":\"452 4.2.2"));
  g_string_free(t, TRUE);
}
END_TEST

/* More recipients than mta_smtpd keeps on its stack (16): all 20 reach
 * the queue, the trace and the next hop in one transaction. */
START_TEST(twenty_recipients_one_transaction) {
  world x;
  world_init(&x, 31, NULL);
  char names[20][24];
  for (int i = 0; i < 20; i++) {
    g_snprintf(names[i], sizeof names[i], "ok%d@c.example", i + 1);
    x.cl.rcpts[i] = names[i];
  }
  x.cl.nrcpts = 20;
  submit_at(&x, SIM_S);
  run(&x, 100 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 20);
  ck_assert_int_eq(x.sc.messages, 1);
  ck_assert_uint_eq(x.sc.rcpts->len, 20);
  for (int i = 0; i < 20; i++)
    ck_assert_str_eq(x.sc.rcpts->pdata[i], names[i]);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"ok20@c.example\""));
  g_string_free(t, TRUE);
}
END_TEST

/* A filter standing in for issue 7's: greylisting at RCPT (answered a
 * second later: the first try of a client is refused for 60 s) and a
 * header at DATA (answered at once, inside the call). */
typedef struct {
  world *x;
  sim_time first;
  int rcpt_calls, data_calls;
} greylist;

typedef struct {
  mta_host *m;
  uint64_t ticket;
  bool pass;
} later;

static void answer_later(void *a, void *b) {
  (void)b;
  later *l = a;
  ck_assert(mta_host_filter_answer(l->m, l->ticket, l->pass ? 0 : 450, "4.7.1",
                                   "Greylisted, try again later", NULL));
  g_free(l);
}

static void filter(void *user, mta_host *m, uint64_t ticket, const mta_filter_query *q) {
  greylist *g = user;
  sim_time now = host_now(g->x->h[H_MTA_B]);
  if (q->stage == MTA_FILTER_RCPT) {
    g->rcpt_calls++;
    ck_assert_str_eq(q->client, "192.0.2.10");
    if (g->first < 0)
      g->first = now;
    later *l = g_new0(later, 1);
    *l = (later){m, ticket, now - g->first >= 60 * SIM_S};
    sim_world_after(g->x->w, SIM_S, answer_later, l, NULL);
  } else {
    g->data_calls++;
    ck_assert_uint_eq(q->nrcpts, 1);
    ck_assert(q->len > 0);
    ck_assert(mta_host_filter_answer(m, ticket, 0, NULL, NULL, "X-Filter: checked\r\n"));
    ck_assert(!mta_host_filter_answer(m, ticket, 0, NULL, NULL, NULL)); /* once */
  }
}

START_TEST(filter_hook_greylists_and_adds_a_header) {
  world x;
  world_init(&x, 31, NULL);
  greylist g = {&x, -1, 0, 0};
  mta_host_set_filter(x.b, filter, &g);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 20 * SIM_MIN);
  ck_assert_int_eq(x.sb.messages, 1);
  ck_assert_int_eq(g.rcpt_calls, 2);
  ck_assert_int_eq(g.data_calls, 1);
  const char *body = ((GString *)x.sb.bodies->pdata[0])->str;
  const char *rb = strstr(body, "Received: from mail.a.example");
  const char *xf = strstr(body, "X-Filter: checked\r\n");
  ck_assert_msg(rb && xf && rb < xf, "%s", body);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"reason\":\"450 4.7.1 Greylisted, try again later\""));
  g_string_free(t, TRUE);
}
END_TEST

static void two_sessions(mta_host_config *cfg) { cfg->dest_concurrency = 2; }

START_TEST(concurrency_limit_and_connection_reuse) {
  world x;
  world_init_cfg(&x, 37, NULL, two_sessions);
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  x.cl.copies = 8;
  x.sc.temp_until = 100 * SIM_S; /* all eight wait for the same queue run */
  submit_at(&x, SIM_S);
  run(&x, 20 * SIM_MIN);
  ck_assert_uint_eq(x.cl.ok, 8);
  ck_assert_int_eq(x.sc.messages, 8);
  ck_assert_uint_le(x.sc.max_conns, 2);
  assert_clean(&x);
  GString *t = world_clear(&x);
  /* The retry run at 600 s: two connections carry the eight messages. */
  const char *retry = strstr(t->str, "{\"t\":600");
  ck_assert_ptr_nonnull(retry);
  ck_assert_uint_eq(count(retry, "\"ev\":\"tcp.connect\",\"node\":\"mta-a\""), 2);
  g_string_free(t, TRUE);
}
END_TEST

START_TEST(hop_limit_554) {
  world x;
  world_init(&x, 41, NULL);
  GString *b = g_string_new("");
  for (int i = 0; i < 51; i++)
    g_string_append_printf(b, "Received: from h%d by h%d; Thu, 1 Jan 2026 00:00:00 +0000\r\n", i,
                           i + 1);
  g_string_append(b, "Subject: loop\r\n\r\nround and round\r\n");
  x.cl.body = b->str;
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.cl.last_code, 554);
  ck_assert_str_eq(x.cl.last_esc, "5.4.0");
  ck_assert_int_eq(x.sb.messages, 0);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
  g_string_free(b, TRUE);
}
END_TEST

START_TEST(never_a_bounce_of_a_bounce) {
  world x;
  world_init(&x, 43, NULL);
  x.cl.from = "alice@null.example"; /* the DSN itself cannot be delivered */
  x.cl.rcpts[0] = "x@null.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 10 * SIM_MIN);
  ck_assert_int_eq(x.sa.messages, 0);
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.dsns, 1);
  ck_assert_uint_eq(st.rcpt_bounced, 2);
  ck_assert_uint_eq(st.queued, 0);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_uint_eq(count(t->str, "\"ev\":\"msg.bounce\""), 2);
  ck_assert_uint_eq(count(t->str, "\"dsn\":\"\"}"), 1); /* the DSN's bounce: no report */
  g_string_free(t, TRUE);
}
END_TEST

START_TEST(opensmtpd_warns_then_expires) {
  world x;
  world_init(&x, 47, "opensmtpd");
  x.sc.temp_until = INT64_MAX;
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 4 * SIM_DAY + SIM_HOUR);
  ck_assert_int_eq(x.sa.messages, 2);
  const char *warn = ((GString *)x.sa.bodies->pdata[0])->str;
  const char *fail = ((GString *)x.sa.bodies->pdata[1])->str;
  ck_assert_ptr_nonnull(strstr(warn, "Action: delayed"));
  ck_assert_ptr_nonnull(strstr(fail, "Action: failed"));
  /* ttl 4 d: the bounce comes at the expiry, without a last attempt. */
  ck_assert_int_ge(x.sa.last_at, 4 * SIM_DAY + SIM_S);
  ck_assert_int_lt(x.sa.last_at, 4 * SIM_DAY + 3 * SIM_S);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

START_TEST(mx_failover_to_the_next_preference) {
  world x;
  world_init(&x, 53, NULL);
  x.cl.rcpts[0] = "dave@f.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sc.messages, 1);
  ck_assert_int_lt(x.sc.last_at, 5 * SIM_S);
  assert_clean(&x);
  GString *t = world_clear(&x);
  const char *refused = strstr(t->str, "\"ev\":\"tcp.refused\"");
  const char *second = strstr(t->str, "\"dst\":\"192.0.2.40:25\"");
  ck_assert_msg(refused && second && refused < second, "%s", t->str);
  g_string_free(t, TRUE);
}
END_TEST

/* An exchange with eight addresses (their texts past the resolved name's
 * room): the first five (Postfix's smtp_mx_address_limit) tried in their
 * order, each refused, then the recipient deferred with the last one's
 * reason. */
START_TEST(many_addresses_of_one_exchange) {
  world x;
  world_init(&x, 54, NULL);
  for (int k = 1; k <= 8; k++) { /* the resolver's node: nothing listens on 25 there */
    char text[16];
    g_snprintf(text, sizeof text, "192.0.2.6%d", k);
    sim_addr a;
    ck_assert(sim_addr_parse(text, &a));
    sim_node_add_addr(host_node(x.h[H_RES]), &a);
  }
  x.cl.rcpts[0] = "dave@many.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sc.messages, 0);
  GString *t = world_clear(&x);
  const char *at = t->str;
  for (int k = 1; k <= 5; k++) {
    char want[64];
    g_snprintf(want, sizeof want, "\"ev\":\"tcp.refused\",\"node\":\"mta-a\"");
    at = strstr(at, want);
    ck_assert_msg(at, "refusal %d missing: %s", k, t->str);
    g_snprintf(want, sizeof want, "\"dst\":\"192.0.2.6%d:25\"", k);
    const char *eol = strchr(at, '\n');
    const char *d = strstr(at, want);
    ck_assert_msg(d && d < eol, "refusal %d not from 192.0.2.6%d", k, k);
    at = eol;
  }
  ck_assert_ptr_null(strstr(at, "\"ev\":\"tcp.refused\""));
  ck_assert_ptr_nonnull(strstr(
      t->str, "\"reason\":\"451 4.4.1 mx.many.example[192.0.2.65]: Connection refused\""));
  g_string_free(t, TRUE);
}
END_TEST

static void one_message_a_minute(mta_host_config *cfg) {
  cfg->policy.rate_limit = 1;
  cfg->policy.rate_window = 60 * SIM_S;
}

START_TEST(rate_limit_450) {
  world x;
  world_init_cfg(&x, 59, NULL, one_message_a_minute);
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  x.cl.copies = 2;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 1);
  ck_assert_uint_eq(x.cl.temp, 1);
  ck_assert_int_eq(x.cl.last_code, 450);
  ck_assert_str_eq(x.cl.last_esc, "4.7.1");
  ck_assert_int_eq(x.sc.messages, 1);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

static void one_session(mta_host_config *cfg) { cfg->policy.max_sessions = 1; }

static void second_client(void *a, void *b) {
  (void)b;
  world *x = a;
  /* a raw connection that just waits: holds the only session */
  sim_addr to;
  sim_addr_parse(haddrs[H_MTA_A], &to);
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.tls = SMTP_CLI_TLS_NEVER;
  cfg.quit_when_idle = false;
  static smtp_glue_trace tr;
  smtp_env env = smtp_glue_env(&tr, false);
  x->cl2 = smtp_cli_new(&cfg, &env, host_now(x->h[H_CLIENT]));
  x->cl2s =
      session_connect(x->h[H_CLIENT], &to, 25, NULL, &smtp_glue_cli_ops, x->cl2, &idle_owner, x);
  smtp_glue_attach(&tr, x->cl2s);
}

START_TEST(session_limit_421) {
  world x;
  world_init_cfg(&x, 61, NULL, one_session);
  sim_world_at(x.w, SIM_S / 2, second_client, &x, NULL);
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 30 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 0);
  ck_assert_int_eq(x.cl.last_code, 421);
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.rejected_connect, 1);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "421 4.7.0"));
  g_string_free(t, TRUE);
}
END_TEST

static void no_cache(mta_host_config *cfg) { cfg->conn_cache_time = 0; }

/* Two messages for one next hop, submitted 1.5 s apart: the second rides
 * the cached session of the first (2 s), unless the cache is off. */
static size_t sessions_to_c(tweak_fn tweak, const char *second) {
  world x;
  world_init_cfg(&x, 67, NULL, tweak);
  x.cl.rcpts[0] = "dave@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 2 * SIM_S + SIM_S / 2);
  x.cl.rcpts[0] = second;
  submit_at(&x, 2 * SIM_S + SIM_S / 2);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sc.messages, 2);
  ck_assert_uint_eq(x.cl.ok, 2);
  assert_clean(&x);
  GString *t = world_clear(&x);
  size_t n = count(t->str, "\"ev\":\"tcp.connect\",\"node\":\"mta-a\"");
  g_string_free(t, TRUE);
  return n;
}

START_TEST(connection_cache) {
  ck_assert_uint_eq(sessions_to_c(NULL, "erin@c.example"), 1);
  ck_assert_uint_eq(sessions_to_c(no_cache, "erin@c.example"), 2);
  /* another next hop whose MX is the cached session's address */
  ck_assert_uint_eq(sessions_to_c(NULL, "erin@c2.example"), 1);
}
END_TEST

static void one_process(mta_host_config *cfg) {
  cfg->process_limit = 1;
  cfg->conn_cache_time = 0; /* no reuse: each next hop needs a session of its own */
}
static void no_cache_only(mta_host_config *cfg) { cfg->conn_cache_time = 0; }

/* Three messages, each for c.example and c2.example (two next hops with
 * the same MX), all deferred once so they meet at the 600 s queue run.
 * With the default limit (postfix: 100) every waiting message gets a
 * session; with process_limit 1 a next hop waits while the other's
 * session runs (limit_waits counts each wait), and never more than one
 * session is open. */
START_TEST(process_limit_serialises_next_hops) {
  static const struct {
    tweak_fn tweak;
    uint64_t peak_busy, limit_waits;
    guint max_conns;
    size_t connects, connects_600;
  } rows[] = {
      /* default: a session per waiting message and hop (3 + 3 at 1 s as
       * the messages arrive, 3 + 3 at 600 s), six at once */
      {no_cache_only, 6, 0, 6, 12, 6},
      /* one process: the hops take turns; a session carries every message
       * waiting for its hop (reuse), so one per hop at each run */
      {one_process, 1, 6, 1, 4, 2},
  };
  for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
    world x;
    world_init_cfg(&x, 71, NULL, rows[r].tweak);
    x.cl.rcpts[0] = "dave@c.example";
    x.cl.rcpts[1] = "erin@c2.example";
    x.cl.nrcpts = 2;
    x.cl.copies = 3;
    x.sc.temp_until = 100 * SIM_S;
    submit_at(&x, SIM_S);
    run(&x, 20 * SIM_MIN);
    ck_assert_uint_eq(x.cl.ok, 6); /* per recipient */
    ck_assert_int_eq(x.sc.messages, 6);
    mta_host_stats st;
    mta_host_get_stats(x.a, &st);
    ck_assert_msg(st.peak_busy == rows[r].peak_busy, "row %zu: peak_busy got %" PRIu64 " want %" PRIu64,
                  r, st.peak_busy, rows[r].peak_busy);
    ck_assert_msg(st.limit_waits == rows[r].limit_waits,
                  "row %zu: limit_waits got %" PRIu64 " want %" PRIu64, r, st.limit_waits,
                  rows[r].limit_waits);
    ck_assert_msg(x.sc.max_conns == rows[r].max_conns, "row %zu: max_conns got %u want %u", r,
                  x.sc.max_conns, rows[r].max_conns);
    ck_assert_uint_eq(st.queued, 0);
    assert_clean(&x);
    GString *t = world_clear(&x);
    size_t n = count(t->str, "\"ev\":\"tcp.connect\",\"node\":\"mta-a\"");
    const char *retry = strstr(t->str, "{\"t\":600");
    ck_assert_ptr_nonnull(retry);
    size_t n600 = count(retry, "\"ev\":\"tcp.connect\",\"node\":\"mta-a\"");
    ck_assert_msg(n == rows[r].connects && n600 == rows[r].connects_600,
                  "row %zu: connects got %zu (%zu from 600 s) want %zu (%zu)", r, n, n600,
                  rows[r].connects, rows[r].connects_600);
    g_string_free(t, TRUE);
  }
}
END_TEST

/* The profiles' documented outbound limits (mta_retry.h). */
START_TEST(profile_process_limits) {
  static const struct {
    mta_retry_kind kind;
    unsigned process_limit, dest_concurrency;
  } rows[] = {{MTA_RETRY_POSTFIX, 100, 20}, {MTA_RETRY_EXIM, 20, 20}, {MTA_RETRY_OPENSMTPD, 100, 10}};
  for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
    mta_retry_profile p;
    mta_retry_profile_init(&p, rows[r].kind);
    ck_assert_msg(p.process_limit == rows[r].process_limit, "row %zu: got %u want %u", r,
                  p.process_limit, rows[r].process_limit);
    ck_assert_msg(p.dest_concurrency == rows[r].dest_concurrency, "row %zu: got %u want %u", r,
                  p.dest_concurrency, rows[r].dest_concurrency);
  }
}
END_TEST

/* A raw client: writes a script, keeps what the server answers. */
typedef struct {
  const char *script;
  GString *got;
} raw;

static void raw_connected(void *u, sim_tcp_conn *c) {
  raw *r = u;
  sim_tcp_send(c, r->script, strlen(r->script));
}
static void raw_data(void *u, sim_tcp_conn *c, const uint8_t *b, size_t n) {
  (void)c;
  raw *r = u;
  g_string_append_len(r->got, (const char *)b, (gssize)n);
}
static void raw_eof(void *u, sim_tcp_conn *c) {
  (void)u;
  sim_tcp_close(c);
}
static void raw_drained(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void raw_closed(void *u, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)u, (void)c, (void)why;
}
static const sim_tcp_callbacks raw_cb = {raw_connected, raw_data, raw_eof, raw_drained, raw_closed};

static void raw_start(void *a, void *b) {
  world *x = a;
  raw *r = b;
  sim_addr to;
  sim_addr_parse(haddrs[H_MTA_A], &to);
  sim_tcp_connect(host_node(x->h[H_CLIENT]), &to, 587, NULL, &raw_cb, r);
}

START_TEST(auth_before_starttls_538) {
  world x;
  world_init(&x, 71, NULL);
  /* RFC 4954 §4, RFC 3207: no AUTH in clear on the submission port. */
  raw r = {"EHLO laptop\r\nAUTH PLAIN AGFsaWNlQGEuZXhhbXBsZQB3b25kZXJsYW5k\r\n"
           "MAIL FROM:<alice@a.example>\r\nQUIT\r\n",
           g_string_new("")};
  sim_world_at(x.w, SIM_S, raw_start, &x, &r);
  run(&x, 30 * SIM_S);
  ck_assert_msg(strstr(r.got->str, "\r\n538 5.7.11") != NULL, "%s", r.got->str);
  ck_assert_msg(strstr(r.got->str, "\r\n530 5.7.0") != NULL, "%s", r.got->str);
  ck_assert_ptr_null(strstr(r.got->str, "250-AUTH"));
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.messages_in, 0);
  g_string_free(r.got, TRUE);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

START_TEST(unknown_user_at_the_mx_bounces) {
  world x;
  world_init(&x, 73, NULL);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.rcpts[1] = "nobody@b.example";
  x.cl.nrcpts = 2;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sb.messages, 1);
  ck_assert_uint_eq(x.sb.rcpts->len, 1);
  ck_assert_int_eq(x.sa.messages, 1);
  const char *dsn = ((GString *)x.sa.bodies->pdata[0])->str;
  ck_assert_ptr_nonnull(strstr(dsn, "Final-Recipient: rfc822; nobody@b.example"));
  ck_assert_ptr_nonnull(strstr(dsn, "Status: 5.1.1"));
  ck_assert_ptr_nonnull(strstr(dsn, "Remote-MTA: dns; mx.b.example"));
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

static void fill_disk(void *a, void *b) { disk_set_full(a, b != NULL); }

START_TEST(dsn_waits_for_disk_space) {
  world x;
  world_init(&x, 79, NULL);
  disk *d = host_disk(x.h[H_MTA_A]);
  x.cl.rcpts[0] = "perm1@c.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  /* full after the 250 (1.17 s), before the 550 comes back (1.33 s) */
  sim_world_at(x.w, 1200 * SIM_MS, fill_disk, d, d);
  sim_world_at(x.w, 100 * SIM_S, fill_disk, d, NULL);
  run(&x, 90 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 1);
  ck_assert_int_eq(x.sa.messages, 0);
  assert_clean(&x); /* waiting for its DSN is a legal state */
  run(&x, 10 * SIM_MIN);
  ck_assert_int_eq(x.sa.messages, 1);
  ck_assert_int_ge(x.sa.last_at, 100 * SIM_S);
  mta_host_stats st;
  mta_host_get_stats(x.a, &st);
  ck_assert_uint_eq(st.queued, 0);
  assert_clean(&x);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

START_TEST(tls_failure_falls_back_to_clear) {
  /* The MX name is not on the server's certificate: the handshake fails
   * verification; the same host is tried again without TLS. */
  world x;
  world_init(&x, 83, NULL);
  x.cl.rcpts[0] = "bob@b3.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sb.messages, 1);
  const char *body = ((GString *)x.sb.bodies->pdata[0])->str;
  ck_assert_msg(strstr(body, "by mx.b.example with ESMTP\r\n") != NULL, "%s", body);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"ev\":\"tls.failed\""));
  ck_assert_uint_eq(count(t->str, "\"ev\":\"tcp.connect\",\"node\":\"mta-a\""), 2);
  g_string_free(t, TRUE);
}
END_TEST

static void via_smarthost(mta_host_config *cfg) { cfg->smarthost = "[192.0.2.40]"; }

START_TEST(smarthost_takes_every_foreign_domain) {
  world x;
  world_init_cfg(&x, 89, NULL, via_smarthost);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sc.messages, 1); /* the smarthost, not b.example's MX */
  ck_assert_int_eq(x.sb.messages, 0);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_uint_eq(count(t->str, "\"qtype\":\"MX\""), 0); /* no MX lookup */
  g_string_free(t, TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mta_host");
  TCase *tc = tcase_create("mta");
  tcase_set_timeout(tc, 300);
  /* MTA_TEST_ONLY=name runs one test (with MTA_TEST_DUMP, to read its trace). */
  const char *only = g_getenv("MTA_TEST_ONLY");
#define ADD(t)                                                                                     \
  if (!only || strcmp(only, #t) == 0)                                                              \
  tcase_add_test(tc, t)
  ADD(submission_relay_by_mx_and_local_delivery);
  ADD(same_seed_same_trace);
  ADD(auth_before_tls_and_open_relay_refused);
  ADD(deferred_on_postfix_schedule_then_delivered);
  ADD(always_4xx_bounces_after_lifetime_with_dsn);
  ADD(null_mx_bounces_at_once);
  ADD(mx_to_self_bounces);
  ADD(crash_after_250_delivered_after_restart);
  ADD(crash_mid_delivery_never_loses);
  tcase_add_loop_test(tc, message_id_from_the_body_across_restart, 0, 2);
  ADD(disk_full_452_nothing_lost);
  ADD(mixed_outcomes_in_one_transaction);
  ADD(twenty_recipients_one_transaction);
  ADD(filter_hook_greylists_and_adds_a_header);
  ADD(concurrency_limit_and_connection_reuse);
  ADD(hop_limit_554);
  ADD(never_a_bounce_of_a_bounce);
  ADD(opensmtpd_warns_then_expires);
  ADD(mx_failover_to_the_next_preference);
  ADD(many_addresses_of_one_exchange);
  ADD(rate_limit_450);
  ADD(session_limit_421);
  ADD(connection_cache);
  ADD(process_limit_serialises_next_hops);
  ADD(profile_process_limits);
  ADD(auth_before_starttls_538);
  ADD(unknown_user_at_the_mx_bounces);
  ADD(dsn_waits_for_disk_space);
  ADD(tls_failure_falls_back_to_clear);
  ADD(smarthost_takes_every_foreign_domain);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
