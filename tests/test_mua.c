/* Tests for the MUA's sending side: composition (headers, Bcc, attachments,
 * Message-ID, Date), submission over STARTTLS with AUTH to a test server,
 * the client's retries on 4xx (1, 2, 4 ... minutes), giving up on 5xx and
 * when the tries run out, a crash while waiting, and reproducibility. */
#include <string.h>

#include "dns_auth.h"
#include "dns_client.h"
#include "mail_world.h"
#include "mime_display.h"
#include "mua.h"
#include "testutil.h"

/* ---- a submission server (587, STARTTLS and AUTH required) ---- */

typedef struct srv srv;
typedef struct {
  srv *sv;
  smtp_srv *e;
  smtp_glue_trace tr;
  session *s;
} srv_conn;

struct srv {
  host *h;
  tls_host *tls;
  int temp_messages;   /* refuse this many messages with 451 4.7.1 first */
  bool always_temp;    /* refuse every message with 451 */
  GPtrArray *conns;    /* srv_conn* */
  GPtrArray *messages; /* GBytes* accepted */
  GPtrArray *rcpts;    /* char*: recipients of accepted messages */
  int connections;
};

static void srv_pump(void *owner, session *s) {
  srv_conn *c = owner;
  srv *sv = c->sv;
  smtp_srv_event ev;
  sim_time now = host_now(sv->h);
  while (smtp_srv_next_event(c->e, &ev)) {
    switch (ev.type) {
    case SMTP_SRV_EV_DECIDE_RCPT:
      if (strcmp(ev.rcpt->to, "nobody@example.org") == 0)
        smtp_srv_reject(c->e, ev.id, 550, "5.1.1", "No such user", now);
      else
        smtp_srv_accept(c->e, ev.id, now);
      break;
    case SMTP_SRV_EV_DECIDE_AUTH:
      if (strcmp(ev.user, "alice@example.com") == 0 && strcmp(ev.pass, "alice-secret-pw") == 0)
        smtp_srv_accept(c->e, ev.id, now);
      else
        smtp_srv_reject(c->e, ev.id, 535, "5.7.8", NULL, now);
      break;
    case SMTP_SRV_EV_DECIDE_MESSAGE:
      if (sv->always_temp || sv->temp_messages > 0) {
        sv->temp_messages--;
        smtp_srv_reject(c->e, ev.id, 451, "4.7.1", "Try again later", now);
        break;
      }
      g_ptr_array_add(sv->messages, g_bytes_new(ev.data, ev.len));
      for (size_t i = 0; i < ev.nrcpts; i++)
        g_ptr_array_add(sv->rcpts, g_strdup(ev.rcpts[i].to));
      smtp_srv_accept_message(c->e, ev.id, "Q1", now);
      break;
    case SMTP_SRV_EV_STARTTLS:
      session_flush(s);
      session_start_tls(s, tls_host_conn(sv->tls, TLS_CONN_SERVER, NULL));
      break;
    case SMTP_SRV_EV_CLOSE:
      session_close(s);
      break;
    default:
      smtp_srv_accept(c->e, ev.id, now);
      break;
    }
  }
}

static void srv_conn_free(srv_conn *c) {
  session_free(c->s);
  smtp_srv_free(c->e);
  g_free(c);
}

static void srv_closed(void *owner, session *s, sim_tcp_reason why) {
  (void)s, (void)why;
  srv_conn *c = owner;
  g_ptr_array_remove(c->sv->conns, c);
}

static void srv_tls(void *owner, session *s, const tls_conn_event *ev) {
  (void)s;
  srv_conn *c = owner;
  if (ev->type == TLS_CONN_EV_ESTABLISHED)
    smtp_srv_tls_started(c->e, host_now(c->sv->h));
}

static const session_owner srv_owner = {
    .pump = srv_pump, .closed = srv_closed, .tls_event = srv_tls};

static void srv_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  srv *sv = lu;
  srv_conn *c = g_new0(srv_conn, 1);
  c->sv = sv;
  smtp_srv_config cfg;
  smtp_srv_config_init(&cfg);
  cfg.hostname = "smtp.example.com";
  cfg.require_auth = cfg.require_tls_for_auth = true;
  smtp_env env = smtp_glue_env(&c->tr, true);
  c->e = smtp_srv_new(&cfg, &env);
  c->s = session_accept(sv->h, tc, &smtp_glue_srv_ops, c->e, &srv_owner, c);
  smtp_glue_attach(&c->tr, c->s);
  g_ptr_array_add(sv->conns, c);
  sv->connections++;
  *cb = session_tcp_callbacks();
  *user = c->s;
  session_kick(c->s);
}

/* A fetch port that completes the handshake, then resets the connection
 * (the client is connected: its engine is made, then hears the reset). */
static void reset_accept(void *lu, sim_tcp_conn *tc, const sim_tcp_callbacks **cb, void **user) {
  (void)lu, (void)tc, (void)user;
  *cb = NULL;
}

/* ---- the world ---- */

typedef struct {
  uint64_t seed;
  int temp_messages;
  bool always_temp;
  bool no_listener;
  bool by_name;      /* submit_addr NULL: looked up (or no resolver) */
  bool dns;          /* a name server answering for example.com */
  bool crash_client; /* laptop down 30 s .. 5 min */
  const char *const *to;
  int more;         /* this many more messages, one every 10 s from 10 s */
  bool now_api;     /* each message handed over at its time by mua_send_now */
  int fetch;        /* 1: IMAP, 2: POP3 rounds every 10 min from 1 min against the smtp host */
  bool fetch_reset; /* its fetch port accepts, then resets (else: refused) */
} params;

typedef struct {
  GString *trace;
  GPtrArray *messages, *rcpts;
  int connections;
  mua_stats st;
} result;

static const char *const bob_only[] = {"bob@example.org", NULL};

static size_t nv(const char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

/* A message handed to mua_send_now when it is due, from strings that are
 * freed right after the call (the client must not keep them). */
typedef struct {
  mua *u;
  const mua_message *m;
  uint64_t order;
} due_msg;

static void send_due(void *a, void *b) {
  (void)b;
  due_msg *d = a;
  mua_message m = *d->m;
  char *key = g_strdup(m.key), *subject = g_strdup(m.subject), *text = g_strdup(m.text),
       *html = g_strdup(m.html);
  m.key = key;
  m.subject = subject;
  m.text = text;
  m.html = html;
  mua_send_now(d->u, &m, d->order);
  memset(key, 'X', strlen(key));
  g_free(key);
  g_free(subject);
  g_free(text);
  g_free(html);
  if (d->order)
    g_free((void *)d->m); /* a copy (send_at) */
  g_free(d);
}

static void send_at(mua *u, const mua_message *m, sim_world *w, sim_time at, uint64_t order,
                    bool now_api) {
  if (!now_api) {
    mua_send(u, m, at);
    return;
  }
  due_msg *d = g_new0(due_msg, 1);
  d->u = u;
  d->order = order;
  /* the first message's view lives in run(); the others are copied here */
  d->m = order ? g_memdup2(m, sizeof *m) : m;
  sim_world_at(w, at, send_due, d, NULL);
}

static void run(const params *p, result *r) {
  memset(r, 0, sizeof *r);
  mail_world x;
  mw_init(&x, p->seed, SIM_DETAIL_PROTOCOL);
  tls_host *lt;
  srv sv = {0};
  host *lap = mw_add(&x, "laptop", "10.0.0.10", "laptop.example.com", &lt);
  sv.h = mw_add(&x, "smtp", "10.0.0.87", "smtp.example.com", &sv.tls);
  sv.temp_messages = p->temp_messages;
  sv.always_temp = p->always_temp;
  sv.conns = g_ptr_array_new_with_free_func((GDestroyNotify)srv_conn_free);
  sv.messages = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  sv.rcpts = g_ptr_array_new_with_free_func(g_free);
  sim_tcp_listener *lis =
      p->no_listener ? NULL : sim_tcp_listen(host_node(sv.h), 587, srv_accept, &sv);
  dns_zone *zone = NULL;
  dns_auth *auth = NULL;
  dns_client *dc = NULL;
  if (p->dns) {
    host *ns = mw_add(&x, "ns", "10.0.0.53", NULL, NULL);
    dns_name o = dns_name_lit("example.com.");
    zone = dns_zone_new(&o);
    static const char *const rrs[] = {
        "example.com. 3600 IN SOA ns.example.com. hostmaster.example.com. 1 7200 900 1209600 60",
        "example.com. 3600 IN NS ns.example.com.", "ns.example.com. 3600 IN A 10.0.0.53",
        "smtp.example.com. 300 IN A 10.0.0.87"};
    for (size_t i = 0; i < G_N_ELEMENTS(rrs); i++)
      ck_assert_int_eq(dns_zone_add_text(zone, rrs[i]), DNS_OK);
    dns_zone_cfg zc = {.edns_size = 0};
    auth = dns_auth_new(ns, &zone, 1, &zc);
    sim_addr na;
    sim_addr_parse("10.0.0.53", &na);
    dc = dns_client_new(lap, &na);
  }
  mua_config uc;
  mua_config_init(&uc);
  mua *u = mua_new(lap, &uc, lt, dc);
  mua_account acct = {.address = "alice@example.com",
                      .password = "alice-secret-pw",
                      .display_name = "Alice Liddell",
                      .submit_server = "smtp.example.com",
                      .submit_addr = p->by_name ? NULL : "10.0.0.87"};
  ck_assert(mua_add_account(u, &acct));
  ck_assert(!mua_add_account(u, &acct));
  static const char *const cc[] = {"carol@example.org"};
  static const char *const bcc[] = {"dave@example.net"};
  static const mua_attachment atts[] = {{"report.pdf", "application/pdf", 5000},
                                        {"photo.jpg", "image/jpeg", 777}};
  const char *const *to = p->to ? p->to : bob_only;
  mua_message m = {.key = "m1",
                   .from = "alice@example.com",
                   .to = to,
                   .nto = nv(to),
                   .cc = cc,
                   .ncc = 1,
                   .bcc = bcc,
                   .nbcc = 1,
                   .subject = "Lunch on Friday?",
                   .text = "Hi all,\nlunch on Friday?\n",
                   .html = "<p>Hi all, lunch on Friday?</p>",
                   .attachments = atts,
                   .nattachments = 2};
  send_at(u, &m, x.w, 2 * SIM_S, 0, p->now_api);
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < p->more; i++) {
    char *key = g_strdup_printf("n%d", i);
    g_ptr_array_add(keys, key);
    mua_message n = {.key = key,
                     .from = "alice@example.com",
                     .to = bob_only,
                     .nto = 1,
                     .subject = "again",
                     .text = "more\n"};
    send_at(u, &n, x.w, (10 + 10 * (sim_time)i) * SIM_S, (uint64_t)i + 1, p->now_api);
  }
  if (p->fetch) {
    mua_fetch f = {.proto = p->fetch == 1 ? MUA_IMAP : MUA_POP3,
                   .server = "smtp.example.com",
                   .server_addr = "10.0.0.87",
                   .user = "alice",
                   .password = "alice-secret-pw",
                   .first = SIM_MIN,
                   .interval = 10 * SIM_MIN};
    mua_fetch_every(u, &f);
    if (p->fetch_reset)
      sim_tcp_listen(host_node(sv.h), p->fetch == 1 ? 143 : 110, reset_accept, NULL);
  }
  if (p->crash_client) {
    sim_node_crash_at(host_node(lap), 30 * SIM_S);
    sim_node_restart_at(host_node(lap), 5 * SIM_MIN);
  }
  sim_world_run(x.w, 2 * SIM_HOUR);
  g_ptr_array_unref(keys);
  r->trace = g_string_new(mw_trace(&x));
  if (g_getenv("MW_DUMP"))
    g_file_set_contents(g_getenv("MW_DUMP"), r->trace->str, -1, NULL);
  r->messages = g_ptr_array_ref(sv.messages);
  r->rcpts = g_ptr_array_ref(sv.rcpts);
  r->connections = sv.connections;
  mua_get_stats(u, &r->st);
  mua_free(u);
  dns_client_free(dc);
  dns_auth_free(auth);
  g_ptr_array_unref(sv.conns);
  g_ptr_array_unref(sv.messages);
  g_ptr_array_unref(sv.rcpts);
  (void)lis; /* freed with the world */
  mw_free(&x);
  if (zone)
    dns_zone_free(zone);
}

static void result_clear(result *r) {
  g_string_free(r->trace, TRUE);
  g_ptr_array_unref(r->messages);
  g_ptr_array_unref(r->rcpts);
}

/* The value of KEY (a string) in the first record of kind EV, or NULL. */
static char *first_str(const char *t, const char *ev, const char *key) {
  char *pat = g_strdup_printf("\"ev\":\"%s\"", ev);
  const char *p = strstr(t, pat);
  g_free(pat);
  if (!p)
    return NULL;
  const char *eol = strchr(p, '\n');
  char *k = g_strdup_printf("\"%s\":\"", key);
  const char *v = strstr(p, k);
  size_t kl = strlen(k);
  g_free(k);
  if (!v || (eol && v > eol))
    return NULL;
  v += kl;
  return g_strndup(v, (gsize)(strchr(v, '"') - v));
}

START_TEST(compose_and_submit_retrying_after_4xx) {
  params p = {.seed = 1, .temp_messages = 1};
  result r;
  run(&p, &r);
  const char *t = r.trace->str;
  ck_assert_int_eq(r.connections, 2);
  ck_assert_uint_eq(r.messages->len, 1);
  ck_assert_uint_eq(r.rcpts->len, 3);
  ck_assert_str_eq(r.rcpts->pdata[2], "dave@example.net"); /* Bcc: envelope only */
  ck_assert_uint_eq(r.st.composed, 1);
  ck_assert_uint_eq(r.st.accepted, 3);
  ck_assert_uint_eq(r.st.deferred, 3);
  ck_assert_uint_eq(r.st.failed, 0);
  /* msg.compose names the message by its Message-ID */
  char *msg = first_str(t, "msg.compose", "msg");
  ck_assert_ptr_nonnull(msg);
  ck_assert_msg(g_str_has_prefix(msg, "m1.") && g_str_has_suffix(msg, "@example.com"), "got %s",
                msg);
  ck_assert_int_eq((int)strlen(msg), (int)strlen("m1.@example.com") + 16);
  char *want = g_strdup_printf("\"ev\":\"msg.compose\",\"node\":\"laptop\",\"msg\":\"%s\","
                               "\"from\":\"alice@example.com\",\"rcpts\":[\"bob@example.org\","
                               "\"carol@example.org\",\"dave@example.net\"],"
                               "\"subject\":\"Lunch on Friday?\"",
                               msg);
  ck_assert_msg(strstr(t, want), "no %s", want);
  g_free(want);
  /* the deferral: retry one minute after the 451 */
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.defer\",\"node\":\"laptop\""), 3);
  ck_assert_ptr_nonnull(strstr(t, "\"reason\":\"451 4.7.1 Try again later\""));
  /* the message as the server got it */
  gsize n;
  const char *data = g_bytes_get_data(r.messages->pdata[0], &n);
  char *s = g_strndup(data, n);
  ck_assert_ptr_null(strstr(s, "dave@example.net"));
  ck_assert_ptr_nonnull(strstr(s, "From: Alice Liddell <alice@example.com>"));
  ck_assert_ptr_nonnull(strstr(s, "Date: Thu, 01 Jan 2026 00:00:02 +0000"));
  char *mid = g_strdup_printf("Message-ID: <%s>", msg);
  ck_assert_msg(strstr(s, mid), "no %s", mid);
  g_free(mid);
  mime_msg *mm = mime_msg_parse(data, n, NULL);
  mime_display *dv = mime_display_new(mm);
  ck_assert_uint_eq(dv->attachments->len, 2);
  const mime_display_attachment *a0 = dv->attachments->pdata[0], *a1 = dv->attachments->pdata[1];
  ck_assert_str_eq(a0->filename, "report.pdf");
  ck_assert_uint_eq(a0->size, 5000);
  ck_assert_str_eq(a1->type, "image/jpeg");
  ck_assert_uint_eq(a1->size, 777);
  mime_display_free(dv);
  mime_msg_free(mm);
  /* protected: STARTTLS then AUTH, the password never in the trace */
  ck_assert_ptr_nonnull(strstr(t, "\"line\":\"STARTTLS\""));
  ck_assert_ptr_nonnull(strstr(t, "AUTH PLAIN"));
  ck_assert_int_eq(mw_count(t, "\"ev\":\"tls.established\""), 4);
  ck_assert_ptr_null(strstr(t, "alice-secret-pw"));
  g_free(s);
  g_free(msg);
  result_clear(&r);
}
END_TEST

/* next_try values of the msg.defer records, in order. */
static GArray *next_tries(const char *t) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (const char *p = strstr(t, "\"ev\":\"msg.defer\""); p;
       p = strstr(p + 1, "\"ev\":\"msg.defer\"")) {
    const char *q = strstr(p, "\"next_try\":");
    int64_t v = g_ascii_strtoll(q + strlen("\"next_try\":"), NULL, 10);
    g_array_append_val(a, v);
  }
  return a;
}

START_TEST(retries_back_off_then_give_up) {
  params p = {.seed = 2, .always_temp = true, .to = bob_only};
  result r;
  run(&p, &r);
  const char *t = r.trace->str;
  ck_assert_int_eq(r.connections, 5); /* max_tries */
  ck_assert_uint_eq(r.messages->len, 0);
  ck_assert_uint_eq(r.st.failed, 3);
  ck_assert_uint_eq(r.st.deferred, 12);
  ck_assert_int_eq(mw_count(t, "\"ev\":\"msg.fail\""), 3);
  ck_assert_ptr_nonnull(
      strstr(t, "\"reason\":\"gave up after 5 tries: 451 4.7.1 Try again later\""));
  /* Deferral k waits 2^(k-1) minutes after the end of attempt k. */
  GArray *nt = next_tries(t);
  ck_assert_uint_eq(nt->len, 12);
  for (guint k = 1; k < 4; k++) {
    int64_t gap = g_array_index(nt, int64_t, 3 * k) - g_array_index(nt, int64_t, 3 * (k - 1));
    int64_t want = ((int64_t)1 << k) * SIM_MIN;
    /* the attempt itself takes a few round trips (< 5 s) */
    ck_assert_msg(gap >= want && gap < want + 5 * SIM_S, "gap %u: got %lld want ~%lld", k,
                  (long long)gap, (long long)want);
  }
  g_array_unref(nt);
  result_clear(&r);
}
END_TEST

START_TEST(permanent_refusal_is_given_up_at_once) {
  static const char *const to[] = {"bob@example.org", "nobody@example.org", NULL};
  params p = {.seed = 3, .to = to};
  result r;
  run(&p, &r);
  ck_assert_int_eq(r.connections, 1);
  ck_assert_uint_eq(r.rcpts->len, 3);
  ck_assert_uint_eq(r.st.failed, 1);
  ck_assert_uint_eq(r.st.deferred, 0);
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"ev\":\"msg.fail\",\"node\":\"laptop\","
                                             "\"to\":\"smtp.example.com\""));
  ck_assert_ptr_nonnull(strstr(
      r.trace->str, "\"rcpt\":\"nobody@example.org\",\"reason\":\"550 5.1.1 No such user\""));
  result_clear(&r);
}
END_TEST

/* A To entry that is a list gives more recipients than the message names
 * addresses (the entry's room holds one a name): all go out, through a
 * deferral and a retry, each accepted once; and a group of none. */
START_TEST(address_lists_past_the_room) {
  static const char *const to[] = {
      "a1@example.org, a2@example.org, a3@example.org, a4@example.org, a5@example.org",
      "Friends: b1@example.org, b2@example.org;", "Nobody:;", NULL};
  for (int api = 0; api < 2; api++) {
    params p = {.seed = 10, .temp_messages = 1, .to = to, .now_api = api};
    result r;
    run(&p, &r);
    ck_assert_int_eq(r.connections, 2);
    ck_assert_uint_eq(r.messages->len, 1);
    ck_assert_uint_eq(r.rcpts->len, 9); /* 5 + 2 + Cc + Bcc */
    ck_assert_str_eq(r.rcpts->pdata[4], "a5@example.org");
    ck_assert_str_eq(r.rcpts->pdata[6], "b2@example.org");
    ck_assert_str_eq(r.rcpts->pdata[8], "dave@example.net");
    ck_assert_uint_eq(r.st.accepted, 9);
    ck_assert_uint_eq(r.st.deferred, 9);
    ck_assert_uint_eq(r.st.failed, 0);
    ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"msg.defer\""), 9);
    result_clear(&r);
  }
}
END_TEST

START_TEST(unreachable_server) {
  /* refused connections, then no resolver for a name: TEMP each time */
  params p = {.seed = 4, .no_listener = true, .to = bob_only};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.st.accepted, 0);
  ck_assert_uint_eq(r.st.failed, 3);
  ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"tcp.refused\""), 5);
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"ev\":\"msg.fail\""));
  ck_assert_msg(strstr(r.trace->str, "refused)\""), "reason names the refusal");
  result_clear(&r);
  params q = {.seed = 4, .by_name = true, .to = bob_only};
  run(&q, &r);
  ck_assert_uint_eq(r.st.failed, 3);
  ck_assert_ptr_nonnull(strstr(r.trace->str, "gave up after 5 tries: no resolver configured"));
  result_clear(&r);
}
END_TEST

START_TEST(submission_server_found_by_name) {
  params p = {.seed = 8, .by_name = true, .dns = true, .to = bob_only};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.st.accepted, 3);
  ck_assert_uint_eq(r.messages->len, 1);
  ck_assert_msg(strstr(r.trace->str, "\"ev\":\"dns.query\"") &&
                    strstr(r.trace->str, "\"qname\":\"smtp.example.com.\""),
                "no lookup");
  ck_assert_ptr_nonnull(strstr(r.trace->str, "smtp.example.com. 300 IN A 10.0.0.87"));
  result_clear(&r);
}
END_TEST

START_TEST(unbuildable_message_is_given_up) {
  static const char *const to[] = {"not an address", NULL};
  params p = {.seed = 9, .to = to};
  result r;
  run(&p, &r);
  ck_assert_int_eq(r.connections, 0);
  ck_assert_uint_eq(r.st.composed, 1);
  ck_assert_uint_eq(r.st.failed, 3);
  ck_assert_ptr_nonnull(
      strstr(r.trace->str, "\"rcpts\":[],\"subject\":\"Lunch on Friday?\",\"size\":0"));
  ck_assert_ptr_nonnull(strstr(r.trace->str, "\"rcpt\":\"not an address\""));
  ck_assert_ptr_null(strstr(r.trace->str, "tcp.connect"));
  result_clear(&r);
}
END_TEST

START_TEST(client_crash_while_waiting_to_retry) {
  /* 451 at 2 s; the retry would be at ~1 min but the laptop is down from
   * 30 s to 5 min: it tries again when it is back. */
  params p = {.seed = 5, .temp_messages = 1, .crash_client = true, .to = bob_only};
  result r;
  run(&p, &r);
  ck_assert_int_eq(r.connections, 2);
  ck_assert_uint_eq(r.messages->len, 1);
  ck_assert_uint_eq(r.st.accepted, 3);
  const char *c2 = strstr(r.trace->str, "\"ev\":\"fault.restart\"");
  ck_assert_ptr_nonnull(c2);
  ck_assert_ptr_nonnull(strstr(c2, "\"ev\":\"tcp.connect\",\"node\":\"laptop\""));
  result_clear(&r);
}
END_TEST

/* A finished message leaves the outbox (its shell is swept once the
 * finished ones are half of it): 300 messages sent, far fewer held. */
START_TEST(finished_messages_leave_the_outbox) {
  params p = {.seed = 8, .to = bob_only, .more = 300};
  result r;
  run(&p, &r);
  ck_assert_uint_eq(r.messages->len, 301);
  ck_assert_uint_eq(r.st.composed, 301);
  ck_assert_msg(r.st.outbox < 150, "got %" G_GUINT64_FORMAT " messages held, want < 150",
                r.st.outbox);
  result_clear(&r);
}
END_TEST

START_TEST(same_seed_same_trace) {
  params p = {.seed = 6, .temp_messages = 1};
  result a, b, c;
  run(&p, &a);
  run(&p, &b);
  ck_assert_msg(g_string_equal(a.trace, b.trace), "same seed, different trace");
  params q = p;
  q.seed = 7;
  run(&q, &c);
  char *ma = first_str(a.trace->str, "msg.compose", "msg"),
       *mc = first_str(c.trace->str, "msg.compose", "msg");
  ck_assert_str_ne(ma, mc); /* the Message-ID draws from the seed */
  g_free(ma);
  g_free(mc);
  result_clear(&a);
  result_clear(&b);
  result_clear(&c);
}
END_TEST

/* mua_send_now at each message's time gives the trace of mua_send, also
 * for messages that fall due while the client is down (kept, composed at
 * restart), and keeps none of the caller's strings. */
START_TEST(send_now_same_as_send) {
  for (int crash = 0; crash < 2; crash++) {
    params p = {.seed = 9, .temp_messages = 1, .crash_client = crash, .more = 6};
    result a, b;
    run(&p, &a);
    p.now_api = true;
    run(&p, &b);
    ck_assert_msg(g_string_equal(a.trace, b.trace), "crash %d: traces differ", crash);
    ck_assert_uint_eq(b.st.composed, 7);
    ck_assert_uint_eq(b.messages->len, 7);
    result_clear(&a);
    result_clear(&b);
  }
}
END_TEST

/* The fetch engine is made once the connection is up: rounds whose
 * connection is refused make none (and write only the TCP records, at
 * protocol detail); rounds that connect make one each. 12 rounds in the
 * 2 hours (1 min, 11 min, ...). */
START_TEST(fetch_engine_only_when_connected) {
  for (int proto = 1; proto <= 2; proto++) {
    const char *port = proto == 1 ? "143" : "110";
    const char *recs = proto == 1 ? "\"ev\":\"imap." : "\"ev\":\"pop3.";
    params p = {.seed = 3, .fetch = proto};
    result r;
    run(&p, &r);
    ck_assert_msg(r.st.fetch_engines == 0,
                  "proto %d refused: got %" G_GUINT64_FORMAT " engines, want 0", proto,
                  r.st.fetch_engines);
    ck_assert_uint_eq(r.st.rounds, 0);
    ck_assert_uint_eq(r.st.fetched, 0);
    ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"tcp.refused\""), 12);
    ck_assert_int_eq(mw_count(r.trace->str, recs), 0);
    char *want = g_strdup_printf("\"ev\":\"tcp.connect\",\"node\":\"laptop\",\"conn\"");
    char *dst = g_strdup_printf("\"dst\":\"10.0.0.87:%s\"", port);
    ck_assert_int_eq(mw_count(r.trace->str, want), 13); /* submission, 12 rounds */
    ck_assert_int_eq(mw_count(r.trace->str, dst), 24);  /* connect and refused */
    ck_assert_uint_eq(r.st.accepted, 3);                /* submission unaffected */
    result_clear(&r);
    params q = {.seed = 3, .fetch = proto, .fetch_reset = true};
    run(&q, &r);
    ck_assert_msg(r.st.fetch_engines == 12,
                  "proto %d reset: got %" G_GUINT64_FORMAT " engines, want 12", proto,
                  r.st.fetch_engines);
    ck_assert_uint_eq(r.st.rounds, 0);
    ck_assert_int_eq(mw_count(r.trace->str, "\"ev\":\"tcp.refused\""), 0);
    ck_assert_int_eq(mw_count(r.trace->str, want), 13);
    ck_assert_int_eq(mw_count(r.trace->str, recs), 0); /* reset before any line */
    g_free(want);
    g_free(dst);
    result_clear(&r);
    /* the same rounds again: the same trace */
    result r2;
    run(&q, &r);
    run(&q, &r2);
    ck_assert_msg(g_string_equal(r.trace, r2.trace), "proto %d: same seed, different trace", proto);
    result_clear(&r);
    result_clear(&r2);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("mua");
  TCase *tc = tcase_create("submit");
  tcase_add_test(tc, compose_and_submit_retrying_after_4xx);
  tcase_add_test(tc, retries_back_off_then_give_up);
  tcase_add_test(tc, permanent_refusal_is_given_up_at_once);
  tcase_add_test(tc, address_lists_past_the_room);
  tcase_add_test(tc, unreachable_server);
  tcase_add_test(tc, submission_server_found_by_name);
  tcase_add_test(tc, unbuildable_message_is_given_up);
  tcase_add_test(tc, client_crash_while_waiting_to_retry);
  tcase_add_test(tc, send_now_same_as_send);
  tcase_add_test(tc, same_seed_same_trace);
  tcase_add_test(tc, finished_messages_leave_the_outbox);
  tcase_add_test(tc, fetch_engine_only_when_connected);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
