/* Tests for the MX filter service (hosts/mx_filters): worlds with DNS
 * (root server with the SPF/DKIM/DMARC/DNSBL records, resolver), a
 * submission MTA (mta-a) relaying to an MX (mta-b) with the filters on,
 * a test SMTP sink standing in for b.example's mailbox host, and a test
 * SMTP client (submission on 587, or a direct sender on port 25).
 * Covers greylisting through a real relay on the postfix schedule and
 * its 299 s / 300 s boundary, SPF pass/fail, DMARC reject, GTUBE tagged,
 * DNSBL reject at RCPT, forged Authentication-Results removed, the
 * greylist surviving a crash, DMARC quarantine flagged for Junk, SPF
 * softfail scored, and the RCPT-stage records' conn. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dkim_key.h"
#include "dns_auth.h"
#include "dns_client.h"
#include "dns_resolver.h"
#include "mailbox_host.h"
#include "mta.h"
#include "mta_dkim.h"
#include "mx_filters.h"
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
  mx_filters *fl;
  mailbox_host *mbox; /* instead of sink-b, when asked */
  sink sa, sb, sc;
  client cl;
} world;

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

typedef void (*tweak_fn)(mx_filters_config *cfg);

/* A world; TWEAK (may be NULL) adjusts mta-b's filters; EXTRA (NULL-
 * terminated, may be NULL) adds zone records. */
/* MBOX: a real mailbox host (spam folder "Junk") on sink-b's node instead
 * of the sink. */
static void world_init_cfg(world *x, uint64_t seed, const char *const *extra, tweak_fn tweak,
                           bool mbox) {
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
      "c2.example. 300 IN MX 10 mx.c.example.",    /* another domain, same MX */
      "b3.example. 300 IN MX 10 alias.b.example.", /* not a name on mta-b's certificate */
      "alias.b.example. 300 IN A 192.0.2.20",
  };
  dns_name o = dns_name_lit(".");
  x->zone = dns_zone_new(&o);
  for (size_t i = 0; i < G_N_ELEMENTS(rrs); i++)
    ck_assert_msg(dns_zone_add_text(x->zone, rrs[i]) == DNS_OK, "%s", rrs[i]);
  for (size_t i = 0; extra && extra[i]; i++)
    ck_assert_msg(dns_zone_add_text(x->zone, extra[i]) == DNS_OK, "%s", extra[i]);
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
  x->a = mta_host_new(x->h[H_MTA_A], &cfg, x->users, x->tls_a, x->dns_a);
  const char *lb[] = {"b.example", "b3.example"};
  mta_host_config_init(&cfg);
  cfg.hostname = "mx.b.example";
  cfg.local_domains = lb;
  cfg.nlocal_domains = 2;
  cfg.mailbox_host = "192.0.2.30";
  cfg.submission = false;
  x->b = mta_host_new(x->h[H_MTA_B], &cfg, x->users, x->tls_b, x->dns_b);
  mx_filters_config fc;
  mx_filters_config_init(&fc);
  if (tweak)
    tweak(&fc);
  x->fl = mx_filters_new(x->h[H_MTA_B], x->b, x->dns_b, &fc);
  sink_init(&x->sa, x->h[H_SINK_A]);
  if (mbox) {
    mailbox_host_config mc;
    mailbox_host_config_init(&mc);
    mc.spam_folder = "Junk";
    x->mbox = mailbox_host_new(x->h[H_SINK_B], &mc, x->users, NULL);
  } else {
    sink_init(&x->sb, x->h[H_SINK_B]);
  }
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

static GString *world_clear(world *x) {
  GString *t = g_string_new(trace_writer_peek_memory(x->tw)->str);
  /* Services before the world (host.h). */
  mx_filters_free(x->fl);
  mta_host_free(x->a);
  mta_host_free(x->b);
  sink_clear(&x->sa);
  if (x->mbox)
    mailbox_host_free(x->mbox);
  else
    sink_clear(&x->sb);
  sink_clear(&x->sc);
  if (x->cl.s)
    session_free(x->cl.s);
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

static const char *body_of(const sink *k, guint i) { return ((GString *)k->bodies->pdata[i])->str; }

/* a.example publishes SPF for mail.a.example and DMARC p=reject. */
static const char *const auth_rrs[] = {
    "a.example. 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
    "_dmarc.a.example. 300 IN TXT \"v=DMARC1; p=reject\"",
    "100.2.0.192.bl.example. 300 IN A 127.0.0.2",
    "100.2.0.192.bl.example. 300 IN TXT \"listed for testing\"",
    NULL,
};

/* The client talks to mta-b's port 25 directly, from 192.0.2.100. */
static void direct(world *x, const char *from, const char *body) {
  client *cl = &x->cl;
  cl->to_addr = haddrs[H_MTA_B];
  cl->port = 25;
  cl->tls_on = cl->auth = false;
  cl->from = from;
  cl->rcpts[0] = "bob@b.example";
  cl->nrcpts = 1;
  cl->body = body;
}

/* Asserts mta-b stored one message whose body holds every string of the
 * NULL-terminated list; returns that body. */
static G_GNUC_NULL_TERMINATED const char *stored_one(world *x, ...) {
  ck_assert_int_eq(x->sb.messages, 1);
  const char *body = body_of(&x->sb, 0);
  va_list ap;
  va_start(ap, x);
  for (const char *part; (part = va_arg(ap, const char *));)
    ck_assert_msg(strstr(body, part), "no \"%s\" in %s", part, body);
  va_end(ap);
  return body;
}

/* A message from FROM with a Date and the Message-ID ID, and the body BODY. */
#define DATED_MSG(from, id, body)                                                                  \
  "From: <" from ">\r\nSubject: t\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n"                     \
  "Message-ID: <" id ">\r\n\r\n" body "\r\n"

static void no_greylist(mx_filters_config *c) { c->greylist = false; }

/* Through the real relay: mta-a's first try is greylisted (450 4.2.0),
 * the postfix schedule retries 300 s later and it passes, with X-Greylist
 * and SPF/DMARC pass in Authentication-Results. */
START_TEST(greylisted_then_relayed_on_postfix_schedule) {
  world x;
  world_init_cfg(&x, 41, auth_rrs, NULL, false);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 20 * SIM_MIN);
  stored_one(&x, "X-Greylist: delayed 598 seconds by mx.b.example",
             "Authentication-Results: mx.b.example;", "spf=pass", "dmarc=pass", "X-Spam-Status: No",
             NULL);
  mx_filters_stats st;
  mx_filters_get_stats(x.fl, &st);
  ck_assert_uint_eq(st.greylisted, 1);
  assert_clean(&x);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"reason\":\"450 4.2.0 "));
  ck_assert_uint_eq(count(t->str, "\"ev\":\"policy.greylist\""), 2);
  ck_assert_ptr_nonnull(strstr(t->str, "\"verdict\":\"defer-new\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"verdict\":\"pass-delayed\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"ev\":\"policy.spf\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"msg\":\"m1.test@a.example\""));
  g_string_free(t, TRUE);
}
END_TEST

static void at(world *x, sim_time t) { sim_world_at(x->w, t, cli_start, &x->cl, NULL); }

/* One message from FROM, direct() to mta-b, sent at 1 s in a world of SEED,
 * RRS and TWEAK (world_init_cfg()); runs to 60 s. */
static void direct_run(world *x, uint64_t seed, const char *const *rrs, tweak_fn tweak,
                       const char *from, const char *body) {
  world_init_cfg(x, seed, rrs, tweak, false);
  direct(x, from, body);
  at(x, SIM_S);
  run(x, 60 * SIM_S);
}

/* Three identical sessions: at 1 s (new), 1 s + 299 s (still refused),
 * 1 s + 300 s (passes): the same path, so the RCPTs are exactly that far
 * apart. */
START_TEST(greylist_boundary_299_refused_300_accepted) {
  world x;
  world_init_cfg(&x, 43, auth_rrs, NULL, false);
  direct(&x, "", "From: <x@c.example>\r\nSubject: t\r\n\r\nhi\r\n");
  at(&x, SIM_S);
  run(&x, 10 * SIM_S);
  ck_assert_uint_eq(x.cl.temp, 1);
  at(&x, 300 * SIM_S);
  run(&x, 300 * SIM_S + 500 * SIM_MS);
  ck_assert_uint_eq(x.cl.temp, 2);
  ck_assert_str_eq(x.cl.last_esc, "4.2.0");
  at(&x, 301 * SIM_S);
  run(&x, 320 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 1);
  ck_assert_int_eq(x.sb.messages, 1);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"verdict\":\"defer-early\""));
  ck_assert_msg(strstr(t->str, "\"waited\":299000000000"), "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"waited\":300000000000"));
  g_string_free(t, TRUE);
}
END_TEST

/* A client not in a.example's SPF claims alice@a.example: SPF fail, DMARC
 * fail under p=reject → 550 5.7.1 at DATA. */
START_TEST(spf_fail_dmarc_reject_550) {
  world x;
  direct_run(
      &x, 47, auth_rrs, no_greylist, "alice@a.example",
      "From: Alice <alice@a.example>\r\nSubject: t\r\nMessage-ID: <m2.t@a.example>\r\n\r\nhi\r\n");
  ck_assert_uint_eq(x.cl.perm, 1);
  ck_assert_int_eq(x.cl.last_code, 550);
  ck_assert_str_eq(x.cl.last_esc, "5.7.1");
  ck_assert_int_eq(x.sb.messages, 0);
  GString *t = world_clear(&x);
  ck_assert_msg(
      strstr(t->str, "\"ev\":\"policy.spf\",\"node\":\"mta-b\",\"msg\":\"m2.t@a.example\""), "%s",
      t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"result\":\"fail\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"disposition\":\"reject\""));
  g_string_free(t, TRUE);
}
END_TEST

/* GTUBE: accepted, tagged (X-Spam-Flag: YES) for the mailbox host's Junk. */
START_TEST(gtube_tagged) {
  world x;
  direct_run(&x, 53, auth_rrs, no_greylist, "x@c.example",
             DATED_MSG("x@c.example", "m3.t@c.example", SPAM_GTUBE));
  ck_assert_uint_eq(x.cl.ok, 1);
  stored_one(&x, "X-Spam-Flag: YES\r\n", "X-Spam-Status: Yes", NULL);
  GString *t = world_clear(&x);
  ck_assert_msg(strstr(t->str, "\"ev\":\"policy.spam\""), "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"GTUBE\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"action\":\"tag\""));
  g_string_free(t, TRUE);
}
END_TEST

static const dnsbl_zone *bl_zone(void) {
  static dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  z.action = DNSBL_REJECT;
  return &z;
}

static void with_dnsbl(mx_filters_config *c) {
  c->dnsbl = bl_zone();
  c->ndnsbl = 1;
}

/* A client listed in bl.example (127.0.0.2) is refused at RCPT. */
START_TEST(dnsbl_listed_client_rejected_at_rcpt) {
  world x;
  direct_run(&x, 59, auth_rrs, with_dnsbl, "x@c.example", "From: <x@c.example>\r\n\r\nhi\r\n");
  ck_assert_uint_eq(x.cl.perm, 1);
  ck_assert_int_eq(x.cl.last_code, 554);
  ck_assert_str_eq(x.cl.last_esc, "5.7.1");
  ck_assert_int_eq(x.sb.messages, 0);
  GString *t = world_clear(&x);
  ck_assert_msg(strstr(t->str, "\"ev\":\"policy.dnsbl\""), "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"listed\":[\"bl.example\"],\"action\":\"reject\""));
  ck_assert_ptr_null(strstr(t->str, "\"ev\":\"policy.greylist\"")); /* refused before */
  g_string_free(t, TRUE);
}
END_TEST

/* An incoming Authentication-Results claiming mx.b.example is removed
 * (RFC 8601 §5); one from another authserv-id is kept. */
START_TEST(forged_authentication_results_removed) {
  world x;
  world_init_cfg(&x, 61, auth_rrs, no_greylist, false);
  direct(&x, "x@c.example",
         "Authentication-Results: mx.b.example; spf=pass smtp.mailfrom=x@c.example\r\n"
         "Authentication-Results: other.example; dkim=pass\r\n"
         "From: <x@c.example>\r\nSubject: t\r\n\r\nhi\r\n");
  at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_int_eq(x.sb.messages, 1);
  const char *body = body_of(&x.sb, 0);
  ck_assert_uint_eq(count(body, "Authentication-Results: mx.b.example;"), 1);
  ck_assert_ptr_null(strstr(body, "spf=pass smtp.mailfrom=x@c.example"));
  ck_assert_msg(strstr(body, "spf=none"), "%s", body);
  ck_assert_ptr_nonnull(strstr(body, "Authentication-Results: other.example; dkim=pass\r\n"));
  mx_filters_stats st;
  mx_filters_get_stats(x.fl, &st);
  ck_assert_uint_eq(st.authres_removed, 1);
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

/* q.example: SPF lists only mail.a.example; DMARC p=quarantine. s.example:
 * SPF ~all. */
static const char *const more_rrs[] = {
    "q.example. 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
    "_dmarc.q.example. 300 IN TXT \"v=DMARC1; p=quarantine\"",
    "s.example. 300 IN TXT \"v=spf1 ip4:192.0.2.10 ~all\"",
    NULL,
};

/* A forged q.example sender: SPF fail, DMARC fail under p=quarantine →
 * accepted, flagged X-Spam-Flag: YES (the mailbox host files it into
 * Junk) with DMARC_POLICY_QUARANTINE among the rules. */
START_TEST(dmarc_quarantine_flags_for_junk) {
  world x;
  direct_run(&x, 71, more_rrs, no_greylist, "eve@q.example",
             DATED_MSG("eve@q.example", "m7.t@q.example", "hi"));
  ck_assert_uint_eq(x.cl.ok, 1);
  stored_one(&x, "X-Spam-Flag: YES\r\n", "dmarc=fail", "DMARC_POLICY_QUARANTINE", NULL);
  mx_filters_stats st;
  mx_filters_get_stats(x.fl, &st);
  ck_assert_uint_eq(st.spam_tagged, 1);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"policy\":\"quarantine\",\"disposition\":\"quarantine\""));
  g_string_free(t, TRUE);
}
END_TEST

/* s.example's ~all: SPF softfail, scored SPF_SOFTFAIL (1.0), not tagged. */
START_TEST(spf_softfail_scored) {
  world x;
  direct_run(&x, 73, more_rrs, no_greylist, "sam@s.example",
             DATED_MSG("sam@s.example", "m8.t@s.example", "hi"));
  const char *body = stored_one(
      &x, "spf=softfail", "X-Spam-Status: No, score=1.0 required=5.0 tests=SPF_SOFTFAIL", NULL);
  ck_assert_ptr_null(strstr(body, "X-Spam-Flag"));
  g_string_free(world_clear(&x), TRUE);
}
END_TEST

/* RCPT-stage records name the MX's connection (traces/FORMAT.md), the one
 * the accepted message's msg.relay names. Without greylisting there is no
 * policy.greylist at all. */
START_TEST(rcpt_verdicts_carry_conn) {
  world x;
  direct_run(&x, 79, auth_rrs, with_dnsbl, "x@c.example", "From: <x@c.example>\r\n\r\nhi\r\n");
  GString *t = world_clear(&x);
  ck_assert_msg(strstr(t->str, "\"ev\":\"policy.dnsbl\",\"node\":\"mta-b\",\"conn\":"), "%s",
                t->str);
  g_string_free(t, TRUE);

  world_init_cfg(&x, 83, auth_rrs, NULL, false);
  direct(&x, "", "From: <x@c.example>\r\nSubject: t\r\n\r\nhi\r\n");
  at(&x, SIM_S);
  at(&x, 400 * SIM_S);
  run(&x, 500 * SIM_S);
  ck_assert_int_eq(x.sb.messages, 1);
  t = world_clear(&x);
  /* The pass on the second connection and the relay on it share the id. */
  const char *g = strstr(t->str, "\"verdict\":\"pass-delayed\"");
  ck_assert_ptr_nonnull(g);
  const char *line = g;
  while (line > t->str && line[-1] != '\n')
    line--;
  const char *c = strstr(line, "\"conn\":");
  ck_assert(c && c < g);
  char *conn = g_strndup(c, strcspn(c, ","));
  char *relay =
      g_strdup_printf("\"ev\":\"msg.relay\",\"from\":\"client\",\"to\":\"mta-b\",\"msg\":");
  const char *r = strstr(t->str, relay);
  ck_assert_msg(r != NULL, "%s", t->str);
  ck_assert_msg(strstr(r, conn) && strstr(r, conn) < strchr(r, '\n'), "relay %.200s without %s", r,
                conn);
  g_free(conn);
  g_free(relay);
  g_string_free(t, TRUE);

  direct_run(&x, 85, auth_rrs, no_greylist, "x@c.example", "From: <x@c.example>\r\n\r\nhi\r\n");
  ck_assert_int_eq(x.sb.messages, 1);
  t = world_clear(&x);
  ck_assert_ptr_null(strstr(t->str, "\"ev\":\"policy.greylist\""));
  g_string_free(t, TRUE);
}
END_TEST

/* The RFC 8032 test 1 seed, as a DKIM key of a.example (selector s1). */
static const uint8_t seed[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                 0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};

/* mta-a signs at submission (ed25519-sha256); mta-b verifies through the
 * resolver: pass. The same message with one body byte changed, sent
 * again straight to mta-b: fail ("body hash did not verify"). */
START_TEST(dkim_signed_at_submission_verifies_and_modified_fails) {
  dkim_key *k = dkim_key_from_raw(DKIM_KEY_ED25519, seed, sizeof seed);
  char *txt = dkim_key_dns_txt(k);
  dkim_key_free(k);
  char *rr = g_strdup_printf("s1._domainkey.a.example. 300 IN TXT \"%s\"", txt);
  const char *rrs[] = {"a.example. 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"", rr, NULL};
  world x;
  world_init_cfg(&x, 67, rrs, no_greylist, false);
  mta_dkim_config dc;
  mta_dkim_config_init(&dc);
  dc.domain = "a.example";
  dc.selector = "s1";
  dc.ed25519_seed = seed;
  dc.seed_len = sizeof seed;
  mta_dkim *d = mta_dkim_new(x.a, &dc);
  ck_assert_ptr_nonnull(d);
  char *t2 = mta_dkim_dns_txt(d);
  ck_assert_str_eq(t2, txt);
  g_free(t2);
  char *nm = mta_dkim_dns_name(d);
  ck_assert_str_eq(nm, "s1._domainkey.a.example");
  g_free(nm);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 60 * SIM_S);
  ck_assert_uint_eq(mta_dkim_signed(d), 1);
  const char *body = stored_one(&x, "DKIM-Signature: v=1; a=ed25519-sha256;",
                                "dkim=pass header.d=a.example", NULL);
  /* Resend what mta-b delivered, one body byte changed. */
  GString *mod = g_string_new(body);
  char *h = strstr(mod->str, "Hello.");
  ck_assert_ptr_nonnull(h);
  h[4] = 'p';
  direct(&x, "alice@a.example", mod->str);
  at(&x, 2 * SIM_MIN);
  run(&x, 3 * SIM_MIN);
  ck_assert_int_eq(x.sb.messages, 2);
  const char *b2 = body_of(&x.sb, 1);
  ck_assert_msg(strstr(b2, "dkim=fail"), "%s", b2);
  ck_assert_msg(strstr(b2, "spf=fail"), "%s", b2);
  /* the first pass result mx.b.example wrote was removed as forged */
  ck_assert_ptr_null(strstr(b2, "dkim=pass"));
  mta_dkim_free(d);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(
      strstr(t->str, "\"result\":\"fail\",\"sigs\":[{\"d\":\"a.example\",\"s\":\"s1\""));
  g_string_free(t, TRUE);
  g_string_free(mod, TRUE);
  g_free(rr);
  g_free(txt);
}
END_TEST

/* The greylist lives on mta-b's disk: a crash between the first attempt
 * and the retry does not make the retry "new" again. */
START_TEST(greylist_survives_a_crash) {
  world x;
  world_init_cfg(&x, 71, auth_rrs, NULL, false);
  direct(&x, "x@c.example", "From: <x@c.example>\r\nSubject: t\r\n\r\nhi\r\n");
  at(&x, SIM_S);
  sim_node_crash_at(host_node(x.h[H_MTA_B]), 10 * SIM_S);
  sim_node_restart_at(host_node(x.h[H_MTA_B]), 20 * SIM_S);
  run(&x, 30 * SIM_S);
  ck_assert_uint_eq(x.cl.temp, 1);
  at(&x, 400 * SIM_S);
  run(&x, 410 * SIM_S);
  ck_assert_uint_eq(x.cl.ok, 1);
  ck_assert_int_eq(x.sb.messages, 1);
  ck_assert_msg(strstr(body_of(&x.sb, 0), "X-Greylist: delayed 399 seconds"), "%s",
                body_of(&x.sb, 0));
  GString *t = world_clear(&x);
  ck_assert_uint_eq(count(t->str, "\"verdict\":\"defer-new\""), 1);
  ck_assert_uint_eq(count(t->str, "\"verdict\":\"pass-delayed\""), 1);
  g_string_free(t, TRUE);
}
END_TEST

static const dnsbl_zone *score_zone(void) {
  static dnsbl_zone z;
  dnsbl_zone_default(&z, "bl.example");
  z.action = DNSBL_SCORE;
  z.weight = 60; /* over the tag threshold alone */
  return &z;
}

static void with_dnsbl_score(mx_filters_config *c) {
  c->greylist = false;
  c->dnsbl = score_zone();
  c->ndnsbl = 1;
}

/* A list in score mode: no refusal at RCPT; the listing's weight counts
 * at DATA and tags the message. */
START_TEST(dnsbl_score_mode_tags_at_data) {
  world x;
  direct_run(&x, 73, auth_rrs, with_dnsbl_score, "x@c.example",
             DATED_MSG("x@c.example", "m4.t@c.example", "hi"));
  ck_assert_uint_eq(x.cl.ok, 1);
  stored_one(&x, "X-Spam-Flag: YES\r\n", "RCVD_IN_DNSBL", NULL);
  GString *t = world_clear(&x);
  ck_assert_msg(
      strstr(t->str, "\"ev\":\"policy.dnsbl\",\"node\":\"mta-b\",\"msg\":\"m4.t@c.example\""), "%s",
      t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"action\":\"score\""));
  g_string_free(t, TRUE);
}
END_TEST

static void spam_reject(mx_filters_config *c) {
  c->greylist = false;
  c->spam_cfg.reject_threshold = 100;
}

/* With a reject threshold, GTUBE is refused at DATA: 550 5.7.1. */
START_TEST(gtube_rejected_over_reject_threshold) {
  world x;
  direct_run(&x, 79, auth_rrs, spam_reject, "x@c.example",
             "From: <x@c.example>\r\nSubject: t\r\n\r\n" SPAM_GTUBE "\r\n");
  ck_assert_uint_eq(x.cl.perm, 1);
  ck_assert_int_eq(x.cl.last_code, 550);
  ck_assert_str_eq(x.cl.last_esc, "5.7.1");
  ck_assert_int_eq(x.sb.messages, 0);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"action\":\"reject\""));
  g_string_free(t, TRUE);
}
END_TEST

static uint32_t bob_folder(world *x, const char *folder) {
  mailstore_status st;
  if (mailstore_status_get(mailbox_host_store(x->mbox), "bob@b.example", folder, &st) !=
      MAILSTORE_OK)
    return 0;
  return st.messages;
}

/* The whole story into a real mailbox host: signed by mta-a at
 * submission, greylisted once at mta-b and retried on the postfix
 * schedule, SPF/DKIM/DMARC pass, bob's Sieve files the newsletter; a
 * GTUBE message from elsewhere lands in Junk. */
START_TEST(journey_signed_greylisted_filed_by_sieve) {
  dkim_key *k = dkim_key_from_raw(DKIM_KEY_ED25519, seed, sizeof seed);
  char *txt = dkim_key_dns_txt(k);
  dkim_key_free(k);
  char *rr = g_strdup_printf("s1._domainkey.a.example. 300 IN TXT \"%s\"", txt);
  const char *rrs[] = {"a.example. 300 IN TXT \"v=spf1 ip4:192.0.2.10 -all\"",
                       "_dmarc.a.example. 300 IN TXT \"v=DMARC1; p=reject\"", rr, NULL};
  world x;
  world_init_cfg(&x, 83, rrs, NULL, true);
  mta_dkim_config dc;
  mta_dkim_config_init(&dc);
  dc.domain = "a.example";
  dc.selector = "s1";
  dc.ed25519_seed = seed;
  dc.seed_len = sizeof seed;
  mta_dkim *d = mta_dkim_new(x.a, &dc);
  ck_assert(mailbox_host_set_sieve(x.mbox, "bob@b.example",
                                   "require \"fileinto\";\n"
                                   "if header :contains \"subject\" \"newsletter\" {\n"
                                   "  fileinto \"News\";\n}\n",
                                   NULL));
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  x.cl.body = "From: Alice <alice@a.example>\r\nTo: bob@b.example\r\n"
              "Subject: The March newsletter\r\nMessage-ID: <m1.test@a.example>\r\n\r\nHello.\r\n";
  submit_at(&x, SIM_S);
  run(&x, 20 * SIM_MIN);
  ck_assert_uint_eq(bob_folder(&x, "News"), 1);
  ck_assert_uint_eq(bob_folder(&x, "INBOX"), 0);
  /* GTUBE straight from a stranger (greylisted first, then retried). */
  direct(&x, "x@c.example",
         "From: <x@c.example>\r\nSubject: t\r\nMessage-ID: <m5.t@c.example>\r\n\r\n" SPAM_GTUBE
         "\r\n");
  at(&x, 21 * SIM_MIN);
  run(&x, 22 * SIM_MIN);
  at(&x, 30 * SIM_MIN);
  run(&x, 31 * SIM_MIN);
  ck_assert_uint_eq(x.cl.ok, 2); /* the submission, then the GTUBE message */
  ck_assert_uint_eq(x.cl.temp, 1);
  ck_assert_uint_eq(bob_folder(&x, "Junk"), 1);
  mta_dkim_free(d);
  GString *t = world_clear(&x);
  ck_assert_ptr_nonnull(strstr(t->str, "\"verdict\":\"pass-delayed\""));
  ck_assert_msg(strstr(t->str,
                       "\"ev\":\"policy.dkim\",\"node\":\"mta-b\",\"msg\":\"m1.test@a.example\","
                       "\"result\":\"pass\""),
                "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"from_domain\":\"a.example\",\"result\":\"pass\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"msg\":\"m1.test@a.example\",\"rcpt\":\"bob@b.example\","
                                       "\"mailbox\":\"bob@b.example\",\"folder\":\"News\""));
  ck_assert_ptr_nonnull(strstr(t->str, "\"msg\":\"m5.t@c.example\",\"rcpt\":\"bob@b.example\","
                                       "\"mailbox\":\"bob@b.example\",\"folder\":\"Junk\""));
  g_string_free(t, TRUE);
  g_free(rr);
  g_free(txt);
}
END_TEST

static GString *story(uint64_t sd) {
  world x;
  world_init_cfg(&x, sd, auth_rrs, NULL, false);
  x.cl.rcpts[0] = "bob@b.example";
  x.cl.nrcpts = 1;
  submit_at(&x, SIM_S);
  run(&x, 20 * SIM_MIN);
  ck_assert_int_eq(x.sb.messages, 1);
  return world_clear(&x);
}

START_TEST(same_seed_same_trace) {
  GString *a = story(89), *b = story(89);
  ck_assert_uint_eq(a->len, b->len);
  ck_assert_str_eq(a->str, b->str);
  ck_assert_ptr_nonnull(strstr(a->str, "\"ev\":\"policy.spam\""));
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("mx_filters");
  TCase *tc = tcase_create("mx");
  tcase_set_timeout(tc, 300);
  /* MX_TEST_ONLY=name runs one test (with MTA_TEST_DUMP, to read its trace). */
  const char *only = g_getenv("MX_TEST_ONLY");
#define ADD(t)                                                                                     \
  if (!only || strcmp(only, #t) == 0)                                                              \
  tcase_add_test(tc, t)
  ADD(greylisted_then_relayed_on_postfix_schedule);
  ADD(greylist_boundary_299_refused_300_accepted);
  ADD(spf_fail_dmarc_reject_550);
  ADD(gtube_tagged);
  ADD(dnsbl_listed_client_rejected_at_rcpt);
  ADD(forged_authentication_results_removed);
  ADD(dkim_signed_at_submission_verifies_and_modified_fails);
  ADD(greylist_survives_a_crash);
  ADD(dnsbl_score_mode_tags_at_data);
  ADD(gtube_rejected_over_reject_threshold);
  ADD(journey_signed_greylisted_filed_by_sieve);
  ADD(same_seed_same_trace);
  ADD(dmarc_quarantine_flags_for_junk);
  ADD(spf_softfail_scored);
  ADD(rcpt_verdicts_carry_conn);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
