/* Example scenarios: each bundled mail scenario runs to its end with zero
 * invariant violations ("violations":[] in the end record) and the outcome
 * it is there to show — read back from its trace with the trace reader:
 * the end record's mail counters, and the msg.* records that tell the
 * story (the failover hop, the DSN after the lifetime, the 5.4.6 loop
 * bounce, who fetched what over which protocol). load.json is the
 * benchmark's (bench/README.md) and too slow for a test. */
#include <string.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"
#include "trace_read.h"

/* What a run left behind, gathered from its trace. */
typedef struct {
  const cJSON *end; /* a copy of the end record */
  uint64_t relays_to_mx1, relays_to_mx2;
  int64_t first_submit, first_bounce; /* -1: none */
  char *bounce_reason, *dsn;
  uint64_t dsn_fetched_by_alice;
  uint64_t imap_fetches, pop3_fetches;
  uint64_t imap_by_bob, pop3_by_carol;
} outcome;

static void outcome_clear(outcome *o) {
  cJSON_Delete((cJSON *)o->end);
  g_free(o->bounce_reason);
  g_free(o->dsn);
}

static bool str_is(const cJSON *rec, const char *key, const char *want) {
  const char *s = trace_get_str(rec, key);
  return s && strcmp(s, want) == 0;
}

static void take(outcome *o, const cJSON *rec) {
  const char *ev = trace_get_str(rec, "ev");
  int64_t t = 0;
  ck_assert(trace_get_int(rec, "t", &t));
  if (!strcmp(ev, "end")) {
    o->end = cJSON_Duplicate(rec, 1);
  } else if (!strcmp(ev, "msg.relay")) {
    o->relays_to_mx1 += str_is(rec, "to", "mx1.example.org");
    o->relays_to_mx2 +=
        str_is(rec, "to", "mx2.example.org") && str_is(rec, "from", "smtp.example.com");
  } else if (!strcmp(ev, "msg.submit")) {
    if (o->first_submit < 0)
      o->first_submit = t;
  } else if (!strcmp(ev, "msg.bounce")) {
    if (o->first_bounce < 0) {
      o->first_bounce = t;
      o->bounce_reason = g_strdup(trace_get_str(rec, "reason"));
      o->dsn = g_strdup(trace_get_str(rec, "dsn"));
    }
  } else if (!strcmp(ev, "msg.fetch")) {
    bool imap = str_is(rec, "proto", "imap");
    o->imap_fetches += imap;
    o->pop3_fetches += !imap;
    o->imap_by_bob += imap && str_is(rec, "node", "bob-phone");
    o->pop3_by_carol += !imap && str_is(rec, "node", "carol-pc");
    o->dsn_fetched_by_alice +=
        o->dsn && str_is(rec, "node", "alice-laptop") && str_is(rec, "msg", o->dsn);
  }
}

static void run_scenario(const char *name, outcome *o) {
  memset(o, 0, sizeof *o);
  o->first_submit = o->first_bounce = -1;
  char *rel = g_strdup_printf("scenarios/%s.json", name);
  char *path = testutil_src_path(rel);
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_PROTOCOL);
  bool ok = scn_world_run(sw);
  ck_assert_msg(ok, "%s: the run reports a failure", name);
  scn_world_free(sw);
  const GString *text = trace_writer_peek_memory(tw);
  trace_reader *r = trace_reader_new_memory(name, text->str, text->len, &err);
  ck_assert_msg(r != NULL, "%s: %s", name, err ? err->message : "");
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(r, &rec, &err)) == TRACE_READ_OK)
    take(o, rec);
  ck_assert_msg(st == TRACE_READ_EOF, "%s: %s", name, err ? err->message : "");
  ck_assert_msg(o->end != NULL, "%s: no end record", name);
  trace_reader_free(r);
  trace_writer_free(tw);
  scn_config_free(c);
  g_free(path);
  g_free(rel);
}

static uint64_t mail_key(const outcome *o, const char *key) {
  const cJSON *mail = cJSON_GetObjectItemCaseSensitive(o->end, "mail");
  ck_assert_msg(mail != NULL, "end record without \"mail\"");
  uint64_t v = 0;
  ck_assert_msg(trace_get_uint(mail, key, &v), "end record: no mail.%s", key);
  return v;
}

/* The end record's mail counters each example must reach. */
typedef struct {
  const char *name;
  uint64_t submitted, submitted_rcpts, delivered, dsns, bounced, queued, failed, fetched;
  uint64_t min_retries, max_retries;
} row;

static const row rows[] = {
    /* name            sub rcpt dlv dsn bnc que fail fetch retries */
    /* greylisted once: one retry per recipient; m2 filed by Bob's Sieve script */
    {"journey", 2, 3, 3, 0, 0, 0, 0, 2, 3, 3},
    {"mx-failover", 1, 1, 1, 0, 0, 0, 0, 1, 0, 0},
    /* postfix: 5-minute queue runs, backoff 300..4000 s over 5 days */
    {"retry-bounce", 1, 1, 1, 1, 1, 0, 0, 1, 100, 115},
    {"pop3-vs-imap", 3, 6, 6, 0, 0, 0, 0, 6, 0, 0},
    {"loop", 1, 2, 2, 1, 1, 0, 0, 2, 0, 0},
    /* the spam is refused at RCPT and at DATA (2 bounces), its DSN meets a
     * null MX (1 more); the GTUBE message is greylisted once, then filed in
     * Junk (Bob's client reads only INBOX) */
    {"spam", 2, 3, 1, 0, 3, 0, 0, 0, 1, 1},
    /* 3 profiles x 3 greylisting delays: every triplet deferred at least
     * once; postfix and opensmtpd twice at the 900 s MX */
    {"greylist-study", 3, 9, 9, 0, 0, 0, 0, 0, 11, 11},
};

START_TEST(example_outcome) {
  const row *w = &rows[_i];
  outcome o;
  run_scenario(w->name, &o);
  const cJSON *viol = cJSON_GetObjectItemCaseSensitive(o.end, "violations");
  ck_assert_msg(cJSON_IsArray(viol), "%s: end record without \"violations\"", w->name);
  ck_assert_msg(cJSON_GetArraySize(viol) == 0, "%s: got %d violations, want 0 (first: %s)", w->name,
                cJSON_GetArraySize(viol),
                cJSON_GetArraySize(viol) ? cJSON_GetArrayItem(viol, 0)->valuestring : "");
  ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o.end, "ok")), "%s: ok is not true",
                w->name);
  struct {
    const char *key;
    uint64_t want;
  } keys[] = {{"submitted", w->submitted}, {"submitted_rcpts", w->submitted_rcpts},
              {"delivered", w->delivered}, {"delivered_dsns", w->dsns},
              {"bounced", w->bounced},     {"queued", w->queued},
              {"failed", w->failed},       {"fetched", w->fetched}};
  for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
    uint64_t got = mail_key(&o, keys[k].key);
    ck_assert_msg(got == keys[k].want, "%s: mail.%s: got %llu want %llu", w->name, keys[k].key,
                  (unsigned long long)got, (unsigned long long)keys[k].want);
  }
  uint64_t retries = mail_key(&o, "retries");
  ck_assert_msg(retries >= w->min_retries && retries <= w->max_retries,
                "%s: mail.retries: got %llu want %llu..%llu", w->name, (unsigned long long)retries,
                (unsigned long long)w->min_retries, (unsigned long long)w->max_retries);
  /* Every delivery of a submitted message has a delay sample. */
  ck_assert_uint_eq(mail_key(&o, "delay_samples"), w->delivered - w->dsns);
  if (w->delivered > w->dsns)
    ck_assert_msg(mail_key(&o, "delay_max_ns") >= mail_key(&o, "delay_p50_ns") &&
                      mail_key(&o, "delay_p50_ns") > 0,
                  "%s: delays p50 %llu max %llu", w->name,
                  (unsigned long long)mail_key(&o, "delay_p50_ns"),
                  (unsigned long long)mail_key(&o, "delay_max_ns"));
  outcome_clear(&o);
}
END_TEST

START_TEST(mx_failover_uses_the_second_mx) {
  outcome o;
  run_scenario("mx-failover", &o);
  ck_assert_msg(o.relays_to_mx1 == 0, "got %llu relays to the crashed mx1, want 0",
                (unsigned long long)o.relays_to_mx1);
  ck_assert_msg(o.relays_to_mx2 == 1, "got %llu relays smtp.example.com -> mx2, want 1",
                (unsigned long long)o.relays_to_mx2);
  outcome_clear(&o);
}
END_TEST

START_TEST(retry_bounce_dsn_after_the_lifetime) {
  outcome o;
  run_scenario("retry-bounce", &o);
  ck_assert(o.first_submit >= 0 && o.first_bounce >= 0);
  int64_t lifetime = 5 * SIM_DAY;
  int64_t took = o.first_bounce - o.first_submit;
  ck_assert_msg(took >= lifetime && took < lifetime + 2 * SIM_HOUR,
                "bounced %lld ns after submission, want 5 days (+ < 2 h)", (long long)took);
  ck_assert_msg(o.bounce_reason && strstr(o.bounce_reason, "4.4.1"),
                "bounce reason %s, want the last 4.4.1 deferral", o.bounce_reason);
  ck_assert_msg(o.dsn_fetched_by_alice == 1, "DSN %s fetched by alice-laptop %llu times, want 1",
                o.dsn, (unsigned long long)o.dsn_fetched_by_alice);
  outcome_clear(&o);
}
END_TEST

START_TEST(loop_bounces_5_4_6) {
  outcome o;
  run_scenario("loop", &o);
  ck_assert_msg(o.bounce_reason && strstr(o.bounce_reason, "5.4.6"), "bounce reason %s, want 5.4.6",
                o.bounce_reason);
  ck_assert_msg(o.first_bounce - o.first_submit < SIM_S, "the loop bounce took %lld ns, want < 1 s",
                (long long)(o.first_bounce - o.first_submit));
  ck_assert_msg(o.dsn_fetched_by_alice == 1, "DSN %s fetched by alice-laptop %llu times, want 1",
                o.dsn, (unsigned long long)o.dsn_fetched_by_alice);
  outcome_clear(&o);
}
END_TEST

START_TEST(pop3_and_imap_readers_each_get_everything) {
  outcome o;
  run_scenario("pop3-vs-imap", &o);
  ck_assert_msg(o.imap_by_bob == 3 && o.imap_fetches == 3,
                "IMAP fetches: got %llu by bob (%llu in all), want 3",
                (unsigned long long)o.imap_by_bob, (unsigned long long)o.imap_fetches);
  ck_assert_msg(o.pop3_by_carol == 3 && o.pop3_fetches == 3,
                "POP3 fetches: got %llu by carol (%llu in all), want 3",
                (unsigned long long)o.pop3_by_carol, (unsigned long long)o.pop3_fetches);
  outcome_clear(&o);
}
END_TEST

/* The progress display runs the world in slices of simulated time: the
 * trace must not change, whether the run ends at its duration or idle. */
static void count_calls(void *user, sim_time now, sim_time end, uint64_t events) {
  (void)now;
  (void)end;
  (void)events;
  (*(unsigned *)user)++;
}

static GString *trace_of(const scn_config *c, bool sliced, unsigned *calls) {
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_PROTOCOL);
  if (sliced)
    scn_world_set_progress(sw, count_calls, calls);
  scn_world_run(sw);
  scn_world_free(sw);
  GString *out = g_string_new_len(trace_writer_peek_memory(tw)->str,
                                  (gssize)trace_writer_peek_memory(tw)->len);
  trace_writer_free(tw);
  return out;
}

START_TEST(progress_slices_change_nothing) {
  /* journey: ends at its duration; dns: goes idle before its duration;
   * dns without a duration: slices of a minute until idle. */
  const char *names[] = {"journey", "dns", "dns"};
  char *rel = g_strdup_printf("scenarios/%s.json", names[_i]);
  char *path = testutil_src_path(rel);
  scn_config *c = scn_load(path, NULL);
  ck_assert_ptr_nonnull(c);
  if (_i == 2)
    c->duration = SIM_TIME_NEVER;
  unsigned calls = 0;
  GString *plain = trace_of(c, false, NULL);
  GString *sliced = trace_of(c, true, &calls);
  ck_assert_msg(calls > 1, "%s: got %u progress calls, want several", names[_i], calls);
  ck_assert_msg(g_string_equal(plain, sliced), "%s: the sliced run's trace differs", names[_i]);
  g_string_free(plain, TRUE);
  g_string_free(sliced, TRUE);
  scn_config_free(c);
  g_free(path);
  g_free(rel);
}
END_TEST

int main(void) {
  Suite *s = suite_create("examples");
  TCase *tc = tcase_create("outcomes");
  tcase_add_loop_test(tc, example_outcome, 0, G_N_ELEMENTS(rows));
  tcase_add_test(tc, mx_failover_uses_the_second_mx);
  tcase_add_test(tc, retry_bounce_dsn_after_the_lifetime);
  tcase_add_test(tc, loop_bounces_5_4_6);
  tcase_add_test(tc, pop3_and_imap_readers_each_get_everything);
  tcase_add_loop_test(tc, progress_slices_change_nothing, 0, 3);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
