/* Tests for the session glue: the real SMTP engines over the simulated TCP,
 * with their line records and send times. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_glue.h"
#include "tls_host.h"
#include "testutil.h"
#include "trace_read.h"

static bool submission; /* the current world: 587 with STARTTLS and AUTH */
static bool lazy;       /* the client's engine made only once connected */
static bool recycle;    /* two conversations, the second in the first's kept sessions */
static uint16_t port = 25; /* where the client connects */

typedef struct {
  host *h;
  tls_host *tls;
  sim_tcp_listener *lis;
  smtp_srv *srv;
  smtp_glue_trace tr;
  session *s;
  session *spare, *first; /* recycle: the kept block, the first session */
  int messages;
  size_t last_len;
  int closed;
} server;

typedef struct {
  host *h;
  tls_host *tls;
  smtp_cli *cli;
  smtp_glue_trace tr;
  session *s;
  session *spare, *first; /* recycle: the kept block, the first session */
  unsigned ok, temp, perm;
  int results, closed, connected;
  sim_tcp_reason why;
  bool had_cli; /* set by run_world */
} client;

static void srv_pump(void *owner, session *s) {
  server *sv = owner;
  smtp_srv_event ev;
  sim_time now = host_now(sv->h);
  while (smtp_srv_next_event(sv->srv, &ev)) {
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_RCPT:
      if (strcmp(ev.rcpt->to, "nobody@example.org") == 0)
        smtp_srv_reject(sv->srv, ev.id, 550, "5.1.1", "No such user", now);
      else
        smtp_srv_accept(sv->srv, ev.id, now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      sv->messages++;
      sv->last_len = ev.len;
      smtp_srv_accept_message(sv->srv, ev.id, "Q1", now);
      break;
    case SMTP_SRV_EV_CLOSE:
      session_close(s);
      break;
    case SMTP_SRV_EV_STARTTLS:
      ck_assert(submission);
      session_flush(s); /* the 220 goes out in clear */
      session_start_tls(s, tls_host_conn(sv->tls, TLS_CONN_SERVER, NULL));
      break;
    case SMTP_SRV_EV_DECIDE_AUTH:
      if (strcmp(ev.user, "alice") == 0 && strcmp(ev.pass, "wonderland") == 0)
        smtp_srv_accept(sv->srv, ev.id, now);
      else
        smtp_srv_reject(sv->srv, ev.id, 535, "5.7.8", NULL, now);
      break;
    default:
      smtp_srv_accept(sv->srv, ev.id, now);
      break;
    }
  }
}

static void srv_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  server *sv = owner;
  sv->closed++;
}

static int tls_up;

static void srv_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  server *sv = owner;
  if (ev->type == TLS_CONN_EV_CLOSED)
    return;
  ck_assert_int_eq(ev->type, TLS_CONN_EV_ESTABLISHED);
  tls_up++;
  smtp_srv_tls_started(sv->srv, host_now(sv->h));
}

static const session_owner srv_owner = {.pump = srv_pump, .closed = srv_closed, .tls_event = srv_tls};

static void srv_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  server *sv = lu;
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.hostname = "mx.example.org";
  cfg.ext_starttls = submission;
  cfg.require_auth = cfg.require_tls_for_auth = submission;
  smtp_env env = smtp_glue_env(&sv->tr, true);
  if (recycle && sv->s) { /* the first conversation is over */
    session_keep(&sv->spare, sv->s);
    smtp_srv_free(sv->srv);
  }
  sv->srv = smtp_srv_new(&cfg, &env);
  sv->s = session_accept_in(g_steal_pointer(&sv->spare), sv->h, c, &smtp_glue_srv_ops, sv->srv,
                            &srv_owner, sv);
  if (!sv->first)
    sv->first = sv->s;
  smtp_glue_attach(&sv->tr, sv->s);
  *cb = session_tcp_callbacks();
  *user = sv->s;
  session_kick(sv->s); /* the greeting decision */
}

static void cli_pump(void *owner, session *s) {
  client *cl = owner;
  smtp_cli_event ev;
  while (smtp_cli_next_event(cl->cli, &ev)) {
    if (ev.type == SMTP_CLI_EV_RESULT) {
      cl->results++;
      cl->ok += ev.n_ok;
      cl->temp += ev.n_temp;
      cl->perm += ev.n_perm;
    } else if (ev.type == SMTP_CLI_EV_CLOSE) {
      session_close(s);
    } else if (ev.type == SMTP_CLI_EV_STARTTLS) {
      session_start_tls(s, tls_host_conn(cl->tls, TLS_CONN_CLIENT, "mx.example.org"));
    }
  }
}

static void cli_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s;
  client *cl = owner;
  cl->why = why;
  cl->closed++;
}

static void cli_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  client *cl = owner;
  if (ev->type == TLS_CONN_EV_CLOSED)
    return; /* the server's close_notify at the end */
  ck_assert_msg(ev->type == TLS_CONN_EV_ESTABLISHED, "%s", ev->reason ? ev->reason : "");
  ck_assert(ev->peer_verified);
  tls_up++;
  smtp_cli_tls_started(cl->cli, host_now(cl->h));
}

static void cli_make(client *cl);

static void cli_connected(void *owner, session *s) {
  client *cl = owner;
  cl->connected++;
  if (lazy) {
    cli_make(cl);
    session_set_engine(s, cl->cli);
  }
}

static const session_owner cli_owner = {
    .pump = cli_pump, .closed = cli_closed, .connected = cli_connected, .tls_event = cli_tls};

static void cli_make(client *cl) {
  smtp_cli_config cfg;
  smtp_cli_config_init(&cfg);
  cfg.helo_name = "relay.example.com";
  cfg.tls = submission ? SMTP_CLI_TLS_REQUIRED : SMTP_CLI_TLS_NEVER;
  if (submission) {
    cfg.auth_user = "alice";
    cfg.auth_pass = "wonderland";
  }
  smtp_env env = smtp_glue_env(&cl->tr, false);
  cl->cli = smtp_cli_new(&cfg, &env, host_now(cl->h));
  static smtp_cmd_mail mail = {.from = "alice@example.com"};
  static smtp_cmd_rcpt rcpts[3] = {
      {.to = "bob@example.org"}, {.to = "nobody@example.org"}, {.to = "carol@example.org"}};
  static const char body[] = "Subject: hi\r\n\r\nHello Bob.\r\n.dot line\r\n";
  smtp_cli_message m = {&mail, rcpts, 3, (const uint8_t *)body, sizeof body - 1, 1};
  smtp_cli_send(cl->cli, &m, host_now(cl->h));
  if (cl->s)
    smtp_glue_attach(&cl->tr, cl->s);
}

static void cli_start(void *a, void *b) {
  client *cl = a;
  const sim_addr *to = b;
  if (recycle && cl->s) { /* the first conversation is over */
    session_keep(&cl->spare, cl->s);
    cl->s = NULL;
    smtp_cli_free(cl->cli);
    cl->cli = NULL;
  }
  if (!lazy)
    cli_make(cl);
  cl->s = session_connect_in(g_steal_pointer(&cl->spare), cl->h, to, port, NULL, &smtp_glue_cli_ops,
                             cl->cli, &cli_owner, cl);
  if (!cl->first)
    cl->first = cl->s;
  smtp_glue_attach(&cl->tr, cl->s);
}

static GString *run_world(uint64_t seed, server *sv, client *cl) {
  sim_world *w = sim_world_new(seed);
  trace_writer *tw = trace_writer_new_memory();
  sim_world_set_trace(w, tw, SIM_DETAIL_PROTOCOL);
  memset(sv, 0, sizeof *sv);
  memset(cl, 0, sizeof *cl);
  cl->h = host_new(w, "relay", "mta", false);
  sv->h = host_new(w, "mx", "mta", false);
  sim_addr ca, sa;
  sim_addr_parse("192.0.2.1", &ca);
  sim_addr_parse("198.51.100.25", &sa);
  sim_node_add_addr(host_node(cl->h), &ca);
  sim_node_add_addr(host_node(sv->h), &sa);
  sim_link_params p = {.latency = 20 * SIM_MS, .jitter = SIM_MS, .bandwidth_bps = 1000000};
  sim_net_add_link(sim_world_net(w), host_node(cl->h), host_node(sv->h), &p);
  tls_world *tlw = tls_world_new(w);
  const char *names[] = {"mx.example.org"};
  sv->tls = tls_host_new(tlw, sv->h, names, 1);
  const char *cnames[] = {"relay.example.com"};
  cl->tls = tls_host_new(tlw, cl->h, cnames, 1);
  sv->lis = sim_tcp_listen(host_node(sv->h), 25, srv_accept, sv);
  sim_world_at(w, SIM_S, cli_start, cl, &sa);
  if (recycle)
    sim_world_at(w, 5 * SIM_MIN, cli_start, cl, &sa);
  sim_world_run(w, 10 * SIM_MIN);
  GString *out = g_string_new(trace_writer_peek_memory(tw)->str);
  session_free(cl->s);
  session_free(sv->s);
  session_free(cl->spare);
  session_free(sv->spare);
  sim_world_free(w);
  tls_host_free(sv->tls);
  tls_host_free(cl->tls);
  tls_world_free(tlw);
  cl->had_cli = cl->cli != NULL;
  smtp_cli_free(cl->cli);
  smtp_srv_free(sv->srv);
  host_free(cl->h);
  host_free(sv->h);
  trace_writer_free(tw);
  return out;
}

/* Every line record of trace T was sent before it arrived, by at least
 * the latency, and comes from the other host; returns how many there are. */
static int check_line_records(const GString *t) {
  trace_writer *hw = trace_writer_new_memory();
  trace_begin(hw);
  trace_key_str(hw, "format", TRACE_FORMAT_NAME);
  trace_key_int(hw, "version", TRACE_FORMAT_VERSION);
  trace_end(hw);
  GString *whole = g_string_new(trace_writer_peek_memory(hw)->str);
  g_string_append(whole, t->str);
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("t", whole->str, whole->len, &err);
  ck_assert_msg(r != NULL, "%s", err ? err->message : "");
  const cJSON *rec;
  int lines = 0;
  while (trace_reader_next(r, &rec, &err) == TRACE_READ_OK) {
    const char *ev = trace_get_str(rec, "ev");
    if (strcmp(ev, "smtp.cmd") != 0 && strcmp(ev, "smtp.reply") != 0)
      continue;
    int64_t at, sent;
    ck_assert(trace_get_int(rec, "t", &at) && trace_get_int(rec, "sent", &sent));
    ck_assert_msg(at - sent >= 20 * SIM_MS, "%s: sent %lld arrived %lld", ev, (long long)sent,
                  (long long)at);
    ck_assert_str_eq(trace_get_str(rec, "from"), strcmp(ev, "smtp.cmd") == 0 ? "relay" : "mx");
    lines++;
  }
  trace_reader_free(r);
  g_string_free(whole, TRUE);
  trace_writer_free(hw);
  return lines;
}

START_TEST(smtp_over_simulated_tcp) {
  server sv;
  client cl;
  GString *t = run_world(3, &sv, &cl);
  ck_assert_int_eq(sv.messages, 1);
  ck_assert_int_eq(cl.results, 1);
  ck_assert_uint_eq(cl.ok, 2);
  ck_assert_uint_eq(cl.perm, 1);
  ck_assert_int_eq(sv.closed, 1);
  ck_assert_int_eq(cl.closed, 1);
  ck_assert_int_eq(cl.why, SIM_TCP_CLOSED_NORMAL);
  ck_assert_msg(strstr(t->str, "\"ev\":\"smtp.cmd\"") && strstr(t->str, "MAIL FROM:<alice@example.com>"),
                "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"ev\":\"smtp.reply\""));
  ck_assert_ptr_nonnull(strstr(t->str, "550 5.1.1 No such user"));

  /* Every line record was sent before it arrived, by at least the latency,
   * and comes from the other host. */
  int lines = check_line_records(t);
  ck_assert_int_gt(lines, 10);

  server sv2;
  client cl2;
  GString *t2 = run_world(3, &sv2, &cl2);
  ck_assert_msg(g_string_equal(t, t2), "same seed, different trace");
  g_string_free(t2, TRUE);
  g_string_free(t, TRUE);
}
END_TEST

/* Two conversations, each end's second session in the block session_keep
 * kept from its first (plain and with STARTTLS+AUTH): both complete as
 * the first does, and each line record of the second comes after the
 * first's, from the right host. */
START_TEST(kept_sessions_reused) {
  for (int sub = 0; sub < 2; sub++) {
    server sv;
    client cl;
    submission = sub;
    recycle = true;
    tls_up = 0;
    GString *t = run_world(7, &sv, &cl);
    recycle = false;
    submission = false;
    ck_assert_ptr_eq(cl.s, cl.first); /* the second session in the first's block */
    ck_assert_ptr_eq(sv.s, sv.first);
    ck_assert_int_eq(sv.messages, 2);
    ck_assert_int_eq(cl.results, 2);
    ck_assert_uint_eq(cl.ok, 4);
    ck_assert_uint_eq(cl.perm, 2);
    ck_assert_int_eq(sv.closed, 2);
    ck_assert_int_eq(cl.closed, 2);
    ck_assert_int_eq(cl.why, SIM_TCP_CLOSED_NORMAL);
    ck_assert_int_eq(tls_up, sub ? 4 : 0);
    gsize mails = 0;
    for (const char *p = t->str; (p = strstr(p, "MAIL FROM:<alice@example.com>")); p++)
      mails++;
    ck_assert_uint_eq(mails, 2);
    ck_assert_int_gt(check_line_records(t), 20);
    g_string_free(t, TRUE);
  }
}
END_TEST

START_TEST(submission_with_starttls_and_auth) {
  server sv;
  client cl;
  submission = true;
  tls_up = 0;
  GString *t = run_world(5, &sv, &cl);
  ck_assert_int_eq(tls_up, 2); /* both ends */
  ck_assert_int_eq(sv.messages, 1);
  ck_assert_uint_eq(cl.ok, 2);
  ck_assert_uint_eq(cl.perm, 1);
  ck_assert_msg(strstr(t->str, "\"ev\":\"tls.established\"") != NULL, "%s", t->str);
  ck_assert_ptr_nonnull(strstr(t->str, "\"line\":\"STARTTLS\""));
  ck_assert_ptr_nonnull(strstr(t->str, "AUTH PLAIN"));
  ck_assert_ptr_null(strstr(t->str, "wonderland")); /* the password never reaches the trace */
  server sv2;
  client cl2;
  GString *t2 = run_world(5, &sv2, &cl2);
  ck_assert_msg(g_string_equal(t, t2), "TLS run not reproducible");
  submission = false;
  g_string_free(t, TRUE);
  g_string_free(t2, TRUE);
}
END_TEST

/* --- the engine's timer ------------------------------------------------
 * A fake engine whose deadline each received line sets: 'a' now + 10 s,
 * 's' now + 2 s, 'h' none (as while a decision is pending). It times out
 * when ticked at or after its deadline. The session re-arms its timer
 * lazily (a deadline moving later leaves the pending event, which re-arms
 * when it comes early), so these check that tick() runs exactly at the
 * deadline as last read, never early, and not at all without one. */

typedef struct {
  sim_time deadline;
  sim_time fed_at[8];
  int fed;
  sim_time tick_at[8];
  int ticks;
  bool timed_out;
} fake_eng;

static void fake_feed(void *e, const uint8_t *buf, size_t len, sim_time now) {
  fake_eng *f = e;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\n')
      continue;
    ck_assert_int_lt(f->fed, 8);
    f->fed_at[f->fed++] = now;
    f->deadline = buf[i] == 'a' ? now + 10 * SIM_S : buf[i] == 's' ? now + 2 * SIM_S : INT64_MAX;
  }
}

static const uint8_t *fake_peek(void *e, size_t *len) {
  (void)e;
  *len = 0;
  return NULL;
}

static void fake_consume(void *e, size_t n, sim_time now) { (void)e, (void)n, (void)now; }
static sim_time fake_deadline(void *e) { return ((fake_eng *)e)->deadline; }

static void fake_tick(void *e, sim_time now) {
  fake_eng *f = e;
  ck_assert_int_lt(f->ticks, 8);
  f->tick_at[f->ticks++] = now;
  if (now >= f->deadline) {
    f->timed_out = true;
    f->deadline = INT64_MAX;
  }
}

static const session_engine fake_ops = {fake_feed, fake_peek, fake_consume, fake_deadline,
                                        fake_tick};

typedef struct {
  host *h;
  fake_eng eng;
  session *s;
  int closed;
} fake_srv;

static void fake_pump(void *owner, session *s) {
  fake_srv *fs = owner;
  if (fs->eng.timed_out)
    session_close(s);
}

static void fake_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  ((fake_srv *)owner)->closed++;
}

static const session_owner fake_owner = {.pump = fake_pump, .closed = fake_closed};

static void fake_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  fake_srv *fs = lu;
  fs->eng.deadline = INT64_MAX;
  fs->s = session_accept(fs->h, c, &fake_ops, &fs->eng, &fake_owner, fs);
  *cb = session_tcp_callbacks();
  *user = fs->s;
}

/* The peer: writes one line per scheduled event, closes on EOF. */
static void peer_eof(void *u, sim_tcp_conn *c) {
  (void)u;
  sim_tcp_close(c);
}
static void peer_closed(void *u, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)c, (void)why;
  *(sim_tcp_conn **)u = NULL;
}
static const sim_tcp_callbacks peer_cb = {.eof = peer_eof, .closed = peer_closed};

typedef struct {
  sim_tcp_conn **conn;
  char line[3];
} peer_write;

static void peer_send(void *a, void *b) {
  (void)b;
  peer_write *pw = a;
  if (*pw->conn)
    sim_tcp_send(*pw->conn, pw->line, 2);
}

START_TEST(timer_fires_at_the_last_deadline) {
  static const struct {
    const char *script; /* a line per second from 1 s: its letter, '-' none */
    int tick_after;     /* the tick is due after line TICK_AFTER (-1: never) */
    sim_time delay;     /* ... by this much */
  } rows[] = {
      {"a", 0, 10 * SIM_S},
      {"aaa", 2, 10 * SIM_S},          /* moved later twice: fires once, at the last */
      {"a-a--a", 2, 10 * SIM_S},       /* gaps */
      {"as", 1, 2 * SIM_S},            /* moved earlier */
      {"sa", 1, 10 * SIM_S},           /* moved later past the pending event */
      {"sas", 2, 2 * SIM_S},           /* later, then earlier than the first */
      {"ah", -1, 0},                   /* no deadline: never fires */
      {"aha", 2, 10 * SIM_S},          /* none, then one again */
      {"sh---------a", 2, 10 * SIM_S}, /* none while the old event would have come */
  };
  for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
    sim_world *w = sim_world_new(3);
    host *ch = host_new(w, "peer", "mua", false);
    fake_srv fs = {.h = host_new(w, "srv", "mta", false)};
    sim_addr ca, sa;
    sim_addr_parse("192.0.2.1", &ca);
    sim_addr_parse("198.51.100.25", &sa);
    sim_node_add_addr(host_node(ch), &ca);
    sim_node_add_addr(host_node(fs.h), &sa);
    sim_link_params p = {.latency = 20 * SIM_MS, .bandwidth_bps = 1000000};
    sim_net_add_link(sim_world_net(w), host_node(ch), host_node(fs.h), &p);
    sim_tcp_listener *lis = sim_tcp_listen(host_node(fs.h), 25, fake_accept, &fs);
    sim_tcp_conn *conn = sim_tcp_connect(host_node(ch), &sa, 25, NULL, &peer_cb, &conn);
    const char *sc = rows[r].script;
    size_t n = strlen(sc);
    peer_write *pw = g_new0(peer_write, n);
    int lines = 0;
    for (size_t i = 0; i < n; i++) {
      if (sc[i] == '-')
        continue;
      pw[i] = (peer_write){&conn, {sc[i], '\n', 0}};
      sim_world_at(w, (sim_time)(i + 1) * SIM_S, peer_send, &pw[i], NULL);
      lines++;
    }
    sim_world_run(w, 5 * SIM_MIN);
    ck_assert_msg(fs.eng.fed == lines, "row %zu: got %d lines fed, want %d", r, fs.eng.fed, lines);
    if (rows[r].tick_after < 0) {
      ck_assert_msg(fs.eng.ticks == 0, "row %zu: got %d ticks, want none", r, fs.eng.ticks);
      ck_assert_int_eq(fs.closed, 0);
    } else {
      sim_time want = fs.eng.fed_at[rows[r].tick_after] + rows[r].delay;
      ck_assert_msg(fs.eng.ticks == 1, "row %zu: got %d ticks, want 1", r, fs.eng.ticks);
      ck_assert_msg(fs.eng.tick_at[0] == want, "row %zu: got tick at %" PRId64 ", want %" PRId64, r,
                    fs.eng.tick_at[0], want);
      ck_assert_int_eq(fs.closed, 1);
    }
    sim_tcp_unlisten(lis);
    session_free(fs.s);
    sim_world_free(w);
    host_free(ch);
    host_free(fs.h);
    g_free(pw);
  }
}
END_TEST

/* A client connecting without an engine (session_connect with NULL, the
 * engine handed over in connected()): the same session, record for record,
 * as one made before connecting; refused, it never needs one. */
START_TEST(engine_made_once_connected) {
  static const struct {
    bool lazy;
    uint16_t port;
    int want_connected;
    sim_tcp_reason want_why;
    bool want_cli;
  } cases[] = {
      {false, 25, 1, SIM_TCP_CLOSED_NORMAL, true},
      {true, 25, 1, SIM_TCP_CLOSED_NORMAL, true},
      {true, 26, 0, SIM_TCP_CLOSED_REFUSED, false}, /* nothing listens */
  };
  GString *eager = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    lazy = cases[i].lazy;
    port = cases[i].port;
    server sv;
    client cl;
    GString *t = run_world(3, &sv, &cl);
    ck_assert_msg(cl.connected == cases[i].want_connected, "case %zu: connected got %d want %d", i,
                  cl.connected, cases[i].want_connected);
    ck_assert_msg(cl.closed == 1 && cl.why == cases[i].want_why, "case %zu: closed %d why got %d want %d",
                  i, cl.closed, (int)cl.why, (int)cases[i].want_why);
    ck_assert_msg(cl.had_cli == cases[i].want_cli, "case %zu: engine made got %d want %d", i,
                  cl.had_cli, cases[i].want_cli);
    if (i == 0)
      eager = g_string_new(t->str);
    else if (cases[i].want_connected)
      ck_assert_msg(g_string_equal(eager, t), "case %zu: got\n%s\nwant\n%s", i, t->str, eager->str);
    g_string_free(t, TRUE);
  }
  g_string_free(eager, TRUE);
  lazy = false;
  port = 25;
}
END_TEST

static void nop_pump(void *owner, session *s) {
  (void)owner;
  (void)s;
}
static void nop_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)owner;
  (void)s;
  (void)why;
}

/* The spare list: blocks kept up to SESSION_SPARES_MAX (the rest freed),
 * taken back one at a time, newest first, until it is empty; a taken block
 * is the next session's (session_connect_in); session_free frees a list
 * whole (ASan: no leak). */
START_TEST(spare_list_bounded) {
  sim_world *w = sim_world_new(1);
  host *h = host_new(w, "a", "mta", false);
  sim_addr ca, to;
  sim_addr_parse("192.0.2.1", &ca);
  sim_addr_parse("192.0.2.9", &to);
  sim_node_add_addr(host_node(h), &ca);
  static const session_owner owner = {.pump = nop_pump, .closed = nop_closed};
  enum { N = SESSION_SPARES_MAX + 3 };
  session *made[N], *spares = NULL;
  for (int i = 0; i < N; i++)
    made[i] = session_connect(h, &to, 25, NULL, &smtp_glue_cli_ops, NULL, &owner, NULL);
  for (int i = 0; i < N; i++) {
    session_abort(made[i]);
    session_keep(&spares, made[i]);
  }
  for (int i = 0; i < SESSION_SPARES_MAX; i++) {
    session *t = session_take(&spares);
    ck_assert_msg(t == made[SESSION_SPARES_MAX - 1 - i], "take %d: got another block", i);
    if (i == 0) { /* a taken block serves the next session */
      session *again = session_connect_in(t, h, &to, 25, NULL, &smtp_glue_cli_ops, NULL, &owner, NULL);
      ck_assert_ptr_eq(again, t);
      ck_assert(session_is_open(again));
      session_abort(again);
    }
    session_free(t);
  }
  ck_assert_ptr_null(session_take(&spares)); /* the three beyond the bound were freed */
  for (int i = 0; i < 3; i++) { /* and a list is freed whole */
    session *t = session_connect(h, &to, 25, NULL, &smtp_glue_cli_ops, NULL, &owner, NULL);
    session_abort(t);
    session_keep(&spares, t);
  }
  session_free(spares);
  sim_world_free(w);
  host_free(h);
}
END_TEST

int main(void) {
  Suite *s = suite_create("session");
  TCase *tc = tcase_create("smtp");
  tcase_add_test(tc, smtp_over_simulated_tcp);
  tcase_add_test(tc, submission_with_starttls_and_auth);
  tcase_add_test(tc, timer_fires_at_the_last_deadline);
  tcase_add_test(tc, engine_made_once_connected);
  tcase_add_test(tc, kept_sessions_reused);
  tcase_add_test(tc, spare_list_bounded);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
