/* Tests for scn_fault and scn_fault_apply: one small scenario per fault
 * kind with its outcome asserted from the trace and the end record (what
 * was deferred, retried, delivered, bounced, and when — exact simulated
 * times where the retry schedule fixes them), the loader's error for each
 * kind (bad target, bad window, bad data) with its exact message, the
 * match rules and the C API that builds faults.
 *
 * Every scenario is scenarios/mx-failover.json (Alice at example.com
 * writes to bob@example.org at 1 min; mx1 pref 10, mx2 pref 20; postfix
 * retry schedule: queue runs at 10, 20, 40 min...) with its own crash
 * fault replaced by the row's faults, and a 3-hour duration. Without a
 * fault smtp.example.com relays to mx1 at 60.85 s and Bob's message is
 * stored at 60.866 s. */
#include <string.h>

#include "mta.h"
#include "scn.h"
#include "scn_world.h"
#include "testutil.h"
#include "trace_read.h"

#define S INT64_C(1000000000)

static char *base_json(const char *faults, const char *policy) {
  char *path = testutil_src_path("scenarios/mx-failover.json");
  char *text = NULL;
  ck_assert(g_file_get_contents(path, &text, NULL, NULL));
  cJSON *root = cJSON_Parse(text);
  ck_assert(root);
  cJSON *f = cJSON_Parse(faults);
  ck_assert_msg(f != NULL, "bad test JSON: %s", faults);
  cJSON_ReplaceItemInObjectCaseSensitive(root, "faults", f);
  cJSON_ReplaceItemInObjectCaseSensitive(root, "duration", cJSON_CreateString("3h"));
  if (policy) {
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(root, "hosts");
    for (const cJSON *h = hosts->child; h; h = h->next)
      if (!strcmp(cJSON_GetObjectItemCaseSensitive(h, "name")->valuestring, "smtp.example.com"))
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(h, "mta"), "tls_policy", policy);
  }
  char *out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  g_free(text);
  g_free(path);
  return out;
}

/* What a run left behind. */
typedef struct {
  cJSON *end;
  int64_t first_defer;
  char *defer_reason;
  int64_t first_deliver; /* Bob's */
  int64_t first_bounce;
  char *bounce_reason;
  char *via;      /* who handed Bob's message to the mailbox host (last) */
  char *hop1;     /* where smtp.example.com relayed it (last) */
  int hop1_tls;   /* -1 none */
  uint64_t count; /* records of the row's event kind */
} outcome;

static void outcome_clear(outcome *o) {
  cJSON_Delete(o->end);
  g_free(o->defer_reason);
  g_free(o->bounce_reason);
  g_free(o->via);
  g_free(o->hop1);
}

static bool is(const cJSON *r, const char *k, const char *v) {
  const char *s = trace_get_str(r, k);
  return s && !strcmp(s, v);
}

static void take(outcome *o, const cJSON *r, const char *count_ev) {
  const char *ev = trace_get_str(r, "ev");
  int64_t t = 0;
  trace_get_int(r, "t", &t);
  if (count_ev && !strcmp(ev, count_ev))
    o->count++;
  if (!strcmp(ev, "end")) {
    o->end = cJSON_Duplicate(r, 1);
  } else if (!strcmp(ev, "msg.defer") && o->first_defer < 0) {
    o->first_defer = t;
    o->defer_reason = g_strdup(trace_get_str(r, "reason"));
  } else if (!strcmp(ev, "msg.bounce") && o->first_bounce < 0) {
    o->first_bounce = t;
    o->bounce_reason = g_strdup(trace_get_str(r, "reason"));
  } else if (!strcmp(ev, "msg.deliver") && is(r, "rcpt", "bob@example.org") &&
             o->first_deliver < 0) {
    o->first_deliver = t;
  } else if (!strcmp(ev, "msg.relay") && is(r, "to", "mail.example.org")) {
    g_free(o->via);
    o->via = g_strdup(trace_get_str(r, "from"));
  } else if (!strcmp(ev, "msg.relay") && is(r, "from", "smtp.example.com")) {
    g_free(o->hop1);
    o->hop1 = g_strdup(trace_get_str(r, "to"));
    const cJSON *tls = cJSON_GetObjectItemCaseSensitive(r, "tls");
    o->hop1_tls = cJSON_IsTrue(tls);
  }
}

/* Runs C at DETAIL: the trace (caller frees); *OK (if not NULL) what
 * scn_world_run() returned. */
static char *run_world(const scn_config *c, sim_detail detail, bool *ok) {
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, detail);
  bool done = scn_world_run(sw);
  scn_world_free(sw);
  if (ok)
    *ok = done;
  const GString *t = trace_writer_peek_memory(tw);
  char *text = g_strndup(t->str, t->len);
  trace_writer_free(tw);
  return text;
}

static void run(const char *faults, const char *policy, const char *count_ev, outcome *o,
                GString *trace_out) {
  memset(o, 0, sizeof *o);
  o->first_defer = o->first_deliver = o->first_bounce = -1;
  o->hop1_tls = -1;
  char *json = base_json(faults, policy);
  GError *err = NULL;
  scn_config *c = scn_parse("faults.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  char *text = run_world(c, SIM_DETAIL_PROTOCOL, NULL);
  if (trace_out)
    g_string_assign(trace_out, text);
  trace_reader *r = trace_reader_new_memory("faults", text, strlen(text), &err);
  ck_assert(r);
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(r, &rec, &err)) == TRACE_READ_OK)
    take(o, rec, count_ev);
  ck_assert_msg(st == TRACE_READ_EOF, "%s", err ? err->message : "");
  ck_assert(o->end);
  trace_reader_free(r);
  g_free(text);
  scn_config_free(c);
  g_free(json);
}

static uint64_t mail_key(const outcome *o, const char *key) {
  const cJSON *mail = cJSON_GetObjectItemCaseSensitive(o->end, "mail");
  uint64_t v = 0;
  ck_assert_msg(mail && trace_get_uint(mail, key, &v), "end record: no mail.%s", key);
  return v;
}

typedef struct {
  const char *name;
  const char *faults;
  const char *policy; /* smtp.example.com's tls_policy, or NULL */
  int64_t first_defer;
  const char *defer_reason; /* the start of the first defer's reason */
  int64_t first_deliver;    /* Bob's first copy stored */
  const char *via;          /* last MTA handing it to the mailbox host */
  const char *hop1;         /* last host smtp.example.com relayed it to */
  int hop1_tls;
  uint64_t delivered, retries, bounced, duplicates;
  const char *ev; /* a record kind the fault leaves, and how many */
  uint64_t evs;
} row;

#define MX1 "mx1.example.org"
#define MX2 "mx2.example.org"

static const row rows[] = {
    /* the issue's example: mx1 answers 451 to RCPT for bob@ on attempts 1 to 3;
     * the postfix schedule retries at 10, 20 and 40 min; the 4th try passes */
    {"smtp_reply",
     "[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"rcpt\",\"rcpt\":\"bob@\","
     "\"attempts\":\"1-3\",\"reply\":\"451 4.3.0 Try again later\",\"at\":\"0s\"}]",
     NULL, 60821083620, "451 4.3.0 Try again later", 2400480100486, MX1, MX1, 1, 1, 3, 0, 0,
     "fault.reply", 3},
    /* a 421 greeting at mx1: the sender goes on to mx2 at once */
    {"smtp_reply_greeting",
     "[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"greeting\","
     "\"reply\":\"421 4.3.2 Service not available\",\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, -1, NULL, 61053149694, MX2, MX2, 1, 1, 0, 0, 0, "fault.reply", 1},
    /* a 5xx at MAIL for senders @example.com: bounced, the DSN to Alice */
    {"smtp_reply_mail",
     "[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"mail\","
     "\"sender\":\"@example.com\",\"attempts\":\"1\",\"reply\":\"550 5.7.1 Sender rejected\","
     "\"at\":\"0s\"}]",
     NULL, -1, NULL, -1, NULL, "mail.example.com", 1, 1, 0, 1, 0, "msg.bounce", 1},
    /* a 30 s tarpit: the greeting (and all after it) 30 s late, no retry */
    {"tarpit",
     "[{\"kind\":\"tarpit\",\"host\":\"" MX1
     "\",\"delay\":\"30s\",\"at\":\"0s\",\"until\":\"10m\"}]",
     NULL, -1, NULL, 90867144888, MX1, MX1, 1, 1, 0, 0, 0, "fault.tarpit", 1},
    /* the RFC 1047 window: mx1 stores the message and cuts before its 250;
     * smtp.example.com retries at 10 min: Bob gets it twice, a duplicate */
    {"cut_after_dot",
     "[{\"kind\":\"cut_after_dot\",\"host\":\"" MX1 "\",\"attempts\":\"1\",\"at\":\"0s\","
     "\"until\":\"10m\"}]",
     NULL, 60883094416, "connection lost", 60867144456, MX1, MX1, 1, 2, 1, 0, 1, "msg.duplicate",
     1},
    /* mx1's disk is full for 15 min: 452 4.3.1 at 1 and 10 min, 250 at 20 */
    {"disk_full", "[{\"kind\":\"disk_full\",\"host\":\"" MX1 "\",\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, 60883094850, "452 4.3.1 Insufficient system storage", 1200480100486, MX1, MX1, 1, 1, 2,
     0, 0, "fault.end", 1},
    /* Bob's mailbox is full for 15 min: mx1 keeps it and retries */
    {"mailbox_full",
     "[{\"kind\":\"mailbox_full\",\"host\":\"mail.example.org\",\"user\":\"bob@example.org\","
     "\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, 60866133288, "452 4.2.2 Mailbox full", 1200015047208, MX1, MX1, 1, 1, 2, 0, 0,
     "fault.start", 1},
    {"dns_servfail",
     "[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\",\"type\":\"MX\","
     "\"answer\":\"servfail\",\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, 60322032208, "451 4.4.3 MX lookup for example.org failed", 1200610117252, MX1, MX1, 1, 1,
     2, 0, 0, "fault.dns", 2},
    /* the resolver asks twice (1 s apart) before giving up */
    {"dns_timeout",
     "[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\",\"type\":\"MX\","
     "\"answer\":\"timeout\",\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, 63259029812, "451 4.4.3 MX lookup for example.org failed", 1200610117252, MX1, MX1, 1, 1,
     2, 0, 0, "fault.dns", 4},
    /* NXDOMAIN is permanent: bounced at once, the DSN goes to Alice's
     * mailbox (the only relay of smtp.example.com) */
    {"dns_nxdomain",
     "[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\",\"type\":\"MX\","
     "\"answer\":\"nxdomain\",\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, -1, NULL, -1, NULL, "mail.example.com", 1, 1, 0, 1, 0, "msg.bounce", 1},
    /* a wrong MX: example.org's MX answers mx2 only: delivered through mx2 */
    {"dns_mx",
     "[{\"kind\":\"dns_mx\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\","
     "\"mx\":[\"10 " MX2 ".\"],\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, -1, NULL, 60867143232, MX2, MX2, 1, 1, 0, 0, 0, "fault.dns", 1},
    /* TLS "may": a failed handshake is retried in clear with the same host */
    {"tls_may_cert",
     "[{\"kind\":\"tls\",\"host\":\"" MX1 "\",\"failure\":\"cert_mismatch\",\"at\":\"0s\","
     "\"until\":\"15m\"}]",
     "may", -1, NULL, 60991141906, MX1, MX1, 0, 1, 0, 0, 0, "tls.failed", 1},
    {"tls_may_handshake",
     "[{\"kind\":\"tls\",\"host\":\"" MX1 "\",\"failure\":\"handshake\",\"at\":\"0s\","
     "\"until\":\"15m\"}]",
     NULL, -1, NULL, 60991128706, MX1, MX1, 0, 1, 0, 0, 0, "tls.failed", 2},
    /* TLS "encrypt": mx1 fails, the next MX takes it over TLS */
    {"tls_encrypt_cert",
     "[{\"kind\":\"tls\",\"host\":\"" MX1 "\",\"failure\":\"cert_mismatch\",\"at\":\"0s\","
     "\"until\":\"15m\"}]",
     "encrypt", -1, NULL, 61177174992, MX2, MX2, 1, 1, 0, 0, 0, "tls.failed", 1},
    /* ... and with both MX failing, the message is deferred (4.7.5) */
    {"tls_encrypt_both",
     "[{\"kind\":\"tls\",\"host\":\"" MX1 "\",\"failure\":\"handshake\",\"at\":\"0s\","
     "\"until\":\"15m\"},{\"kind\":\"tls\",\"host\":\"" MX2 "\",\"failure\":\"cert_mismatch\","
     "\"at\":\"0s\",\"until\":\"15m\"}]",
     "encrypt", 61007086884, "454 4.7.5 " MX2 "[203.0.113.26]: TLS is required", 1200480104692, MX1,
     MX1, 1, 1, 2, 0, 0, "fault.end", 2},
    /* both MX cut off for 15 min: connection timeouts, then 25 min */
    {"partition",
     "[{\"kind\":\"partition\",\"hosts\":[\"" MX1 "\",\"" MX2
     "\"],\"at\":\"0s\",\"until\":\"15m\"}]",
     NULL, 120387040196, "451 4.4.1 " MX2 "[203.0.113.26]: Connection timed out", 1500480104692,
     MX1, MX1, 1, 1, 2, 0, 0, "fault.link_down", 2},
    /* the link down kind, on mx1's access link: the connection times out
     * after 30 s and mx2 takes it at once */
    {"link_down",
     "[{\"kind\":\"link_down\",\"link\":\"" MX1 "-isp-b\",\"at\":\"0s\",\"until\":\"15m\"}]", NULL,
     -1, NULL, 90867144888, MX2, MX2, 1, 1, 0, 0, 0, "fault.link_up", 1},
    /* +2 s each way on mx1's link: every SMTP round trip 4 s longer */
    {"latency",
     "[{\"kind\":\"latency\",\"link\":\"" MX1 "-isp-b\",\"latency\":\"2s\",\"at\":\"0s\","
     "\"until\":\"10m\"}]",
     NULL, -1, NULL, 120867144888, MX1, MX1, 1, 1, 0, 0, 0, "fault.link_params", 2},
    /* 30 % loss on mx1's link: TCP retransmits, 3 s late */
    {"loss",
     "[{\"kind\":\"loss\",\"link\":\"" MX1
     "-isp-b\",\"loss\":\"30%\",\"at\":\"0s\",\"until\":\"10m\"}]",
     NULL, -1, NULL, 64529149766, MX1, MX1, 1, 1, 0, 0, 0, "fault.link_params", 2},
    /* mx1 crashes just after its 250, while handing the message to the
     * mailbox host, which crashes too: both sides lose the transaction;
     * mx1's queue survives on disk (retry at 5 min: mailbox still down),
     * Bob's mailbox survives: stored at 15 min, fetched */
    {"crash",
     "[{\"kind\":\"crash\",\"host\":\"" MX1 "\",\"at\":\"60860ms\",\"until\":\"5m\"},"
     "{\"kind\":\"crash\",\"host\":\"mail.example.org\",\"at\":\"61s\",\"until\":\"6m\"}]",
     NULL, 330 * S, "451 4.4.1 mail.example.org", 900015051064, MX1, MX1, 1, 1, 1, 0, 0,
     "fault.restart", 2},
};

START_TEST(fault_outcome) {
  const row *w = &rows[_i];
  outcome o;
  run(w->faults, w->policy, w->ev, &o, NULL);
  const cJSON *viol = cJSON_GetObjectItemCaseSensitive(o.end, "violations");
  if (!strcmp(w->name, "crash") && mta_host_test_forgets_queue()) {
    /* the TEST-ONLY build loses mx1's queue: the checker must say so */
    ck_assert_msg(cJSON_GetArraySize(viol) == 1, "crash: want the loss reported");
    outcome_clear(&o);
    return;
  }
  ck_assert_msg(cJSON_IsArray(viol) && cJSON_GetArraySize(viol) == 0, "%s: violations", w->name);
  ck_assert_msg(o.first_defer == w->first_defer,
                "%s: first defer at %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, w->name,
                o.first_defer, w->first_defer);
  if (w->defer_reason)
    ck_assert_msg(o.defer_reason && g_str_has_prefix(o.defer_reason, w->defer_reason),
                  "%s: defer reason \"%s\", want \"%s...\"", w->name, o.defer_reason,
                  w->defer_reason);
  ck_assert_msg(o.first_deliver == w->first_deliver,
                "%s: Bob's copy stored at %" G_GINT64_FORMAT ", want %" G_GINT64_FORMAT, w->name,
                o.first_deliver, w->first_deliver);
  ck_assert_msg(g_strcmp0(o.via, w->via) == 0, "%s: via %s, want %s", w->name, o.via, w->via);
  ck_assert_msg(g_strcmp0(o.hop1, w->hop1) == 0, "%s: first hop to %s, want %s", w->name, o.hop1,
                w->hop1);
  ck_assert_msg(o.hop1_tls == w->hop1_tls, "%s: first hop TLS %d, want %d", w->name, o.hop1_tls,
                w->hop1_tls);
  struct {
    const char *key;
    uint64_t want;
  } keys[] = {{"delivered", w->delivered},
              {"retries", w->retries},
              {"bounced", w->bounced},
              {"duplicates", w->duplicates},
              {"queued", 0}};
  for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
    ck_assert_msg(mail_key(&o, keys[k].key) == keys[k].want,
                  "%s: mail.%s %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT, w->name,
                  keys[k].key, mail_key(&o, keys[k].key), keys[k].want);
  ck_assert_msg(o.count == w->evs, "%s: %" G_GUINT64_FORMAT " %s records, want %" G_GUINT64_FORMAT,
                w->name, o.count, w->ev, w->evs);
  if (!strcmp(w->name, "dns_nxdomain"))
    ck_assert_msg(g_str_has_prefix(o.bounce_reason, "550 5.1.2"), "bounce: %s", o.bounce_reason);
  if (!strcmp(w->name, "crash"))
    ck_assert_uint_eq(mail_key(&o, "fetched"), 1);
  outcome_clear(&o);
}
END_TEST

/* The same faults twice: the same trace, byte for byte. */
START_TEST(faults_replay_identically) {
  GString *a = g_string_new(NULL), *b = g_string_new(NULL);
  const char *f =
      "[{\"kind\":\"cut_after_dot\",\"host\":\"" MX1 "\",\"at\":\"0s\",\"until\":\"5m\"},"
      "{\"kind\":\"loss\",\"link\":\"" MX1 "-isp-b\",\"loss\":\"20%\",\"at\":\"0s\","
      "\"until\":\"20m\"}]";
  outcome o;
  run(f, NULL, NULL, &o, a);
  outcome_clear(&o);
  run(f, NULL, NULL, &o, b);
  outcome_clear(&o);
  ck_assert(a->len > 1000);
  ck_assert(g_string_equal(a, b));
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
}
END_TEST

/* --- loader errors: each kind, bad target, bad window, bad data --------- */

typedef struct {
  const char *faults;
  const char *want; /* the whole message */
} err_row;

#define P "faults.json: $.faults[0]: "
static const err_row err_rows[] = {
    {"[{\"kind\":\"flood\",\"at\":\"0s\"}]",
     P "\"kind\": unknown fault kind \"flood\" (expected: link_down, crash, partition, latency, "
       "loss, disk_full, dns, dns_mx, smtp_reply, tarpit, cut_after_dot, tls, mailbox_full)"},
    {"[{\"kind\":\"crash\",\"host\":\"nowhere\",\"at\":\"0s\"}]",
     P "\"host\": no host named \"nowhere\""},
    {"[{\"kind\":\"crash\",\"host\":\"" MX1 "\",\"at\":\"5m\",\"until\":\"5m\"}]",
     P "\"until\" must be later than \"at\""},
    {"[{\"kind\":\"link_down\",\"link\":\"" MX1 "-internet\",\"at\":\"0s\"}]",
     P "\"link\": no link named \"" MX1 "-internet\" (links are named \"a-b\")"},
    {"[{\"kind\":\"partition\",\"hosts\":[],\"at\":\"0s\"}]",
     P "\"hosts\": expected at least one host name"},
    {"[{\"kind\":\"partition\",\"hosts\":[\"" MX1 "\",\"mx9\"],\"at\":\"0s\"}]",
     P "\"hosts\": no host named \"mx9\""},
    {"[{\"kind\":\"partition\",\"hosts\":[\"" MX1 "\",\"" MX1 "\"],\"at\":\"0s\"}]",
     P "\"hosts\": \"" MX1 "\" is listed twice"},
    {"[{\"kind\":\"latency\",\"link\":\"" MX1 "-isp-b\",\"latency\":\"0s\",\"at\":\"0s\"}]",
     P "\"latency\": expected an extra delay above 0 like \"200ms\""},
    {"[{\"kind\":\"latency\",\"link\":\"" MX1 "-isp-b\",\"at\":\"0s\"}]",
     P "missing key \"latency\""},
    {"[{\"kind\":\"loss\",\"link\":\"nope\",\"loss\":\"5%\",\"at\":\"0s\"}]",
     P "\"link\": no link named \"nope\" (links are named \"a-b\")"},
    {"[{\"kind\":\"loss\",\"link\":\"" MX1 "-isp-b\",\"loss\":\"0%\",\"at\":\"0s\"}]",
     P "\"loss\": expected a ratio above 0 like \"30%\""},
    {"[{\"kind\":\"disk_full\",\"host\":\"x\",\"at\":\"0s\"}]", P "\"host\": no host named \"x\""},
    {"[{\"kind\":\"disk_full\",\"host\":\"" MX1 "\",\"at\":\"-1s\"}]",
     "faults.json: $.faults[0].at: duration \"-1s\": must not be negative"},
    {"[{\"kind\":\"dns\",\"host\":\"" MX1 "\",\"name\":\"example.org.\",\"answer\":\"servfail\","
     "\"at\":\"0s\"}]",
     P "\"host\": host \"" MX1 "\" serves no zone holding \"example.org.\""},
    {"[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org\","
     "\"answer\":\"servfail\",\"at\":\"0s\"}]",
     P "\"name\": expected an absolute name ending in \".\""},
    {"[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\","
     "\"answer\":\"refused\",\"at\":\"0s\"}]",
     P "\"answer\": unknown DNS failure \"refused\" (expected servfail, nxdomain or timeout)"},
    {"[{\"kind\":\"dns\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\",\"type\":\"ZZ\","
     "\"answer\":\"timeout\",\"at\":\"0s\"}]",
     P "\"type\": unknown record type \"ZZ\" (expected A, AAAA, MX, TXT, NS, CNAME, SOA, PTR or "
       "SRV)"},
    {"[{\"kind\":\"dns_mx\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\",\"mx\":[],"
     "\"at\":\"0s\"}]",
     P "\"mx\": expected at least one MX record like \"10 mx2.example.org.\""},
    {"[{\"kind\":\"dns_mx\",\"host\":\"ns1.example.org\",\"name\":\"example.org.\","
     "\"mx\":[\"mx2.example.org.\"],\"at\":\"0s\"}]",
     "faults.json: $.faults[0].mx[0]: expected MX data \"PREFERENCE EXCHANGE.\" like \"10 "
     "mx2.example.org.\""},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"ns1.example.org\",\"stage\":\"rcpt\","
     "\"reply\":\"451 4.3.0 x\",\"at\":\"0s\"}]",
     P "\"host\": host \"ns1.example.org\" has role \"dns\" (expected a \"mta\" host)"},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"data\",\"reply\":\"451 4.3.0 x\","
     "\"at\":\"0s\"}]",
     P "\"stage\": unknown SMTP stage \"data\" (expected connect or greeting, helo, mail, rcpt or "
       "dot)"},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"rcpt\",\"reply\":\"250 ok\","
     "\"at\":\"0s\"}]",
     P "\"reply\": expected a 4xx or 5xx reply like \"451 4.3.0 Try again later\""},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"rcpt\",\"reply\":\"451 5.3.0 x\","
     "\"at\":\"0s\"}]",
     P "\"reply\": the enhanced status code 5.3.0 does not match the reply 451"},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"rcpt\",\"attempts\":\"3-1\","
     "\"reply\":\"451 4.3.0 x\",\"at\":\"0s\"}]",
     P "\"attempts\": expected N or N-M with 1 <= N <= M, like \"1-3\""},
    {"[{\"kind\":\"smtp_reply\",\"host\":\"" MX1 "\",\"stage\":\"helo\",\"rcpt\":\"bob@\","
     "\"reply\":\"421 4.3.0 x\",\"at\":\"0s\"}]",
     P "\"rcpt\": no recipient is known at stage \"helo\""},
    {"[{\"kind\":\"tarpit\",\"host\":\"" MX1 "\",\"delay\":\"0s\",\"at\":\"0s\"}]",
     P "\"delay\": expected a delay above 0 like \"30s\""},
    {"[{\"kind\":\"tarpit\",\"host\":\"bob-phone\",\"delay\":\"1s\",\"at\":\"0s\"}]",
     P "\"host\": host \"bob-phone\" has role \"mua\" (expected a \"mta\" host)"},
    {"[{\"kind\":\"cut_after_dot\",\"host\":\"mail.example.org\",\"at\":\"0s\"}]",
     P "\"host\": host \"mail.example.org\" has role \"mailbox\" (expected a \"mta\" host)"},
    {"[{\"kind\":\"cut_after_dot\",\"host\":\"" MX1 "\",\"attempts\":\"0\",\"at\":\"0s\"}]",
     P "\"attempts\": expected N or N-M with 1 <= N <= M, like \"1-3\""},
    {"[{\"kind\":\"tls\",\"host\":\"ns1.example.org\",\"failure\":\"handshake\",\"at\":\"0s\"}]",
     P "\"host\": host \"ns1.example.org\" has role \"dns\" (expected an \"mta\" or \"mailbox\" "
       "host)"},
    {"[{\"kind\":\"tls\",\"host\":\"" MX1 "\",\"failure\":\"expired\",\"at\":\"0s\"}]",
     P "\"failure\": unknown TLS failure \"expired\" (expected cert_mismatch or handshake)"},
    {"[{\"kind\":\"mailbox_full\",\"host\":\"mail.example.org\",\"user\":\"alice@example.com\","
     "\"at\":\"0s\"}]",
     P "\"user\": no user \"alice@example.com\" keeps mail on \"mail.example.org\""},
    {"[{\"kind\":\"mailbox_full\",\"host\":\"" MX1
     "\",\"user\":\"bob@example.org\",\"at\":\"0s\"}]",
     P "\"host\": host \"" MX1 "\" has role \"mta\" (expected a \"mailbox\" host)"},
    {"[{\"kind\":\"crash\",\"link\":\"" MX1 "-isp-b\",\"at\":\"0s\"}]", NULL},
};

START_TEST(loader_error) {
  const err_row *w = &err_rows[_i];
  char *json = base_json(w->faults, NULL);
  GError *err = NULL;
  scn_config *c = scn_parse("faults.json", json, strlen(json), &err);
  ck_assert_msg(c == NULL, "row %d loaded", _i);
  ck_assert(err != NULL);
  if (w->want)
    ck_assert_msg(strcmp(err->message, w->want) == 0, "row %d: got\n  %s\nwant\n  %s", _i,
                  err->message, w->want);
  else
    ck_assert(g_str_has_prefix(err->message, P));
  g_error_free(err);
  g_free(json);
}
END_TEST

/* --- match rules ------------------------------------------------------------ */

static const struct {
  const char *rule, *addr;
  bool want;
} match_rows[] = {
    {NULL, "bob@example.org", true},
    {"bob@", "bob@example.org", true},
    {"BOB@", "bob@example.org", true},
    {"bob@", "bobby@example.org", false},
    {"bob@", "rebob@example.org", false},
    {"@example.org", "bob@EXAMPLE.org", true},
    {"@example.org", "bob@sub.example.org", false},
    {"bob@example.org", "Bob@Example.org", true},
    {"bob@example.org", "bob@example.com", false},
    {"bob@", "", false},
    {"@example.org", "example.org", false},
};

START_TEST(match_rule) {
  bool got = scn_fault_match(match_rows[_i].rule, match_rows[_i].addr);
  ck_assert_msg(got == match_rows[_i].want, "%s vs %s: got %d want %d", match_rows[_i].rule,
                match_rows[_i].addr, got, match_rows[_i].want);
}
END_TEST

START_TEST(attempt_ranges) {
  scn_fault f;
  scn_fault_init(&f, SCN_FAULT_SMTP_REPLY, "x", 0, SIM_TIME_NEVER);
  ck_assert(scn_fault_attempt_hit(&f, 1) && scn_fault_attempt_hit(&f, 1000)); /* all */
  f.attempt_from = 2;
  f.attempt_to = 3;
  ck_assert(!scn_fault_attempt_hit(&f, 1));
  ck_assert(scn_fault_attempt_hit(&f, 2) && scn_fault_attempt_hit(&f, 3));
  ck_assert(!scn_fault_attempt_hit(&f, 4));
  scn_fault_clear(&f);
}
END_TEST

/* --- the C API: faults built in code, as the chaos command does ----------- */

START_TEST(api_builds_faults) {
  char *json = base_json("[]", NULL);
  GError *err = NULL;
  scn_config *c = scn_parse("faults.json", json, strlen(json), &err);
  ck_assert(c);
  scn_fault f;
  scn_fault_init(&f, SCN_FAULT_SMTP_REPLY, MX1, 0, SIM_TIME_NEVER);
  f.stage = SCN_SMTP_STAGE_RCPT;
  f.rcpt = g_strdup("bob@");
  f.attempt_from = 1;
  f.attempt_to = 3;
  f.reply_code = 451;
  f.reply_esc = g_strdup("4.3.0");
  f.reply_text = g_strdup("Try again later");
  ck_assert_msg(scn_fault_append(c, &f, &err), "%s", err ? err->message : "");
  ck_assert_uint_eq(c->faults->len, 1);
  /* a bad one is refused, freed, and explained */
  scn_fault_init(&f, SCN_FAULT_TARPIT, "nowhere", 0, SIM_TIME_NEVER);
  f.delay = SIM_S;
  ck_assert(!scn_fault_append(c, &f, &err));
  ck_assert_str_eq(err->message, "faults.json: $.faults[1]: \"host\": no host named \"nowhere\"");
  g_clear_error(&err);
  scn_fault_init(&f, SCN_FAULT_CRASH, MX1, 10 * SIM_S, 5 * SIM_S);
  ck_assert(!scn_fault_check(c, &f, NULL, &err));
  ck_assert_str_eq(err->message, "faults.json: fault: \"until\" must be later than \"at\"");
  g_clear_error(&err);
  scn_fault_clear(&f);
  /* the built fault acts exactly as the JSON one (row smtp_reply) */
  char *text = run_world(c, SIM_DETAIL_MESSAGES, NULL);
  ck_assert(strstr(text, "\"ev\":\"fault.reply\"") != NULL);
  ck_assert(strstr(text, "\"t\":2400480100486,\"id\":") != NULL); /* stored after the 3rd retry */
  g_free(text);
  scn_config_free(c);
  g_free(json);
}
END_TEST

/* scenarios/faults/relay-crash.json: mx1 crashes holding a queued message.
 * A normal build keeps it (delivered at 50 min, no violation); the
 * TEST-ONLY build (-Dtest_forget_queue_on_crash=true) loses it, and the end
 * record says so. */
START_TEST(relay_crash_keeps_the_queue) {
  char *path = testutil_src_path("scenarios/faults/relay-crash.json");
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c, "%s", err ? err->message : "");
  bool ok;
  char *text = run_world(c, SIM_DETAIL_MESSAGES, &ok);
  const char *end = strstr(text, "\"ev\":\"end\"");
  ck_assert(end);
  if (mta_host_test_forgets_queue()) {
    ck_assert(!ok);
    ck_assert(strstr(end, "\"violations\":[]") == NULL);
    ck_assert(strstr(end, "\"delivered\":0") != NULL);
  } else {
    ck_assert(ok);
    ck_assert(strstr(end, "\"violations\":[]") != NULL);
    ck_assert(strstr(text, "{\"t\":3000015051064,\"id\":15,\"ev\":\"msg.deliver\"") != NULL);
  }
  g_free(text);
  scn_config_free(c);
  g_free(path);
}
END_TEST

static Suite *faults_suite(void) {
  Suite *s = suite_create("scn_fault");
  TCase *tc = tcase_create("outcomes");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, fault_outcome, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, faults_replay_identically);
  tcase_add_test(tc, api_builds_faults);
  tcase_add_test(tc, relay_crash_keeps_the_queue);
  suite_add_tcase(s, tc);
  tc = tcase_create("loader");
  tcase_add_loop_test(tc, loader_error, 0, G_N_ELEMENTS(err_rows));
  tcase_add_loop_test(tc, match_rule, 0, G_N_ELEMENTS(match_rows));
  tcase_add_test(tc, attempt_ranges);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(faults_suite()); }
