/* The example scenarios of issue 7, read back from their traces and run
 * summaries: journey.json's Sieve rule files the newsletter and the reader
 * sees Authentication-Results; spam.json refuses the listed spammer at RCPT
 * (reject-mode DNSBL) and at DATA (score mode over the reject threshold)
 * and files the GTUBE message into Junk; greylist-study.json's added delay
 * per retry profile and greylisting delay equals the profiles' schedules
 * (protocols/mta/mta_retry.h), computed by hand below. */
#include <string.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"
#include "trace_read.h"

typedef struct {
  GPtrArray *recs; /* cJSON* copies */
  GString *summary;
  GArray *grey; /* scn_greylist_row */
} run;

typedef void (*tweak_fn)(scn_config *c);

static void run_tweaked(const char *name, tweak_fn tweak, run *r) {
  char *rel = g_strdup_printf("scenarios/%s.json", name);
  char *path = testutil_src_path(rel);
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  if (tweak)
    tweak(c);
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_MESSAGES);
  ck_assert(scn_world_run(sw));
  r->summary = g_string_new(NULL);
  scn_world_summary(sw, r->summary);
  r->grey = scn_world_greylist(sw);
  scn_world_free(sw);
  const GString *text = trace_writer_peek_memory(tw);
  trace_reader *rd = trace_reader_new_memory(name, text->str, text->len, &err);
  ck_assert_msg(rd != NULL, "%s", err ? err->message : "");
  r->recs = g_ptr_array_new_with_free_func((GDestroyNotify)cJSON_Delete);
  const cJSON *rec;
  while (trace_reader_next(rd, &rec, &err) == TRACE_READ_OK)
    g_ptr_array_add(r->recs, cJSON_Duplicate(rec, 1));
  trace_reader_free(rd);
  trace_writer_free(tw);
  scn_config_free(c);
  g_free(path);
  g_free(rel);
}

static void run_scenario(const char *name, run *r) { run_tweaked(name, NULL, r); }

static void run_clear(run *r) {
  g_ptr_array_unref(r->recs);
  g_string_free(r->summary, TRUE);
  g_array_free(r->grey, TRUE);
}

static bool str_has(const cJSON *rec, const char *key, const char *part) {
  const char *s = trace_get_str(rec, key);
  return s && strstr(s, part) != NULL;
}

/* Records of kind EV whose KEY contains PART and whose KEY2 contains PART2
 * (KEY2 NULL: any). */
static unsigned count(const run *r, const char *ev, const char *key, const char *part,
                      const char *key2, const char *part2) {
  unsigned n = 0;
  for (guint i = 0; i < r->recs->len; i++) {
    const cJSON *rec = r->recs->pdata[i];
    if (str_has(rec, "ev", ev) && !strcmp(trace_get_str(rec, "ev"), ev) &&
        str_has(rec, key, part) && (!key2 || str_has(rec, key2, part2)))
      n++;
  }
  return n;
}

/* A count() and what it must be. */
typedef struct {
  const char *ev, *key, *part, *key2, *part2;
  unsigned want;
  const char *what;
} count_row;

static void check_counts(const run *r, const count_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const count_row *c = &rows[i];
    unsigned got = count(r, c->ev, c->key, c->part, c->key2, c->part2);
    ck_assert_msg(got == c->want, "%s: got %u want %u", c->what, got, c->want);
  }
}

static const count_row journey_counts[] = {
    {"msg.deliver", "msg", "m2.", "folder", "Newsletters", 1, "m2 filed into Newsletters"},
    {"msg.deliver", "msg", "m1.", "folder", "INBOX", 2, "m1 in INBOX (Bob and Carol)"},
    {"policy.dmarc", "from_domain", "lists.example.com", "result", "pass", 1,
     "DMARC pass for lists.example.com (organisational domain)"},
};

START_TEST(journey_sieve_files_the_newsletter) {
  run r;
  run_scenario("journey", &r);
  check_counts(&r, journey_counts, G_N_ELEMENTS(journey_counts));
  /* The displayed message shows the MX's Authentication-Results. */
  unsigned shown = 0;
  for (guint i = 0; i < r.recs->len; i++) {
    const cJSON *rec = r.recs->pdata[i];
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(rec, "fields");
    const cJSON *ar = f ? cJSON_GetObjectItemCaseSensitive(f, "Authentication-Results") : NULL;
    shown += cJSON_IsString(ar) && strstr(ar->valuestring, "dkim=pass") &&
             strstr(ar->valuestring, "spf=pass") && strstr(ar->valuestring, "dmarc=pass");
  }
  ck_assert_msg(shown == 2,
                "displays with Authentication-Results spf, dkim, dmarc pass: got %u want 2", shown);
  run_clear(&r);
}
END_TEST

static const count_row spam_counts[] = {
    {"policy.dnsbl", "node", "mx.example.org", "action", "reject", 1,
     "reject-mode DNSBL verdicts at mx.example.org"},
    {"msg.bounce", "rcpt", "bob@example.org", "reason", "554 5.7.1", 1,
     "554 5.7.1 at RCPT for bob"},
    {"policy.spf", "client", "198.18.0.66", "result", "fail", 1, "SPF fail for the spammer"},
    {"policy.spam", "node", "mx.example.net", "action", "reject", 1,
     "spam reject at mx.example.net"},
    {"msg.bounce", "rcpt", "dave@example.net", "reason", "550 5.7.1", 1,
     "550 5.7.1 at DATA for dave"},
    {"msg.deliver", "msg", "spam1.", NULL, NULL, 0, "the spam stored"},
    {"policy.spam", "msg", "gtube1.", "action", "tag", 1, "GTUBE tagged"},
    {"msg.deliver", "msg", "gtube1.", "folder", "Junk", 1, "GTUBE in Junk"},
};

START_TEST(spam_refused_and_gtube_in_junk) {
  run r;
  run_scenario("spam", &r);
  check_counts(&r, spam_counts, G_N_ELEMENTS(spam_counts));
  run_clear(&r);
}
END_TEST

/* Hand-computed added delays, seconds (first attempt at the MX about
 * 60.4 s; the message reached its MTA at 60.2 s):
 *   postfix: retries at the 5-minute queue runs once the backoff
 *     (clamp(age, 300 s, 4000 s)) has passed: 600 s, then 1200 s (at
 *     600 s the age is 540 s, backoff 540 s → 1140 s → the 1200 s run):
 *     540 s for 60 s and 300 s; 1140 s for 900 s.
 *   exim (F,2h,15m): 900 s after each attempt: 900 s for all three.
 *   opensmtpd: arrival + 400 n² s: 400 s for 60 s and 300 s; 1600 s for
 *     900 s (at 400 s the triplet is still early). */
static const struct {
  const char *profile;
  int64_t delay, want;
} study[] = {
    {"postfix", 60, 540},   {"postfix", 300, 540},   {"postfix", 900, 1140},
    {"exim", 60, 900},      {"exim", 300, 900},      {"exim", 900, 900},
    {"opensmtpd", 60, 400}, {"opensmtpd", 300, 400}, {"opensmtpd", 900, 1600},
};

START_TEST(greylist_study_added_delay_by_profile) {
  run r;
  run_scenario("greylist-study", &r);
  ck_assert_uint_eq(r.grey->len, G_N_ELEMENTS(study));
  for (guint i = 0; i < r.grey->len; i++) {
    const scn_greylist_row *g = &g_array_index(r.grey, scn_greylist_row, i);
    ck_assert_str_eq(g->profile, study[i].profile);
    ck_assert_int_eq(g->delay, study[i].delay * SIM_S);
    ck_assert_uint_eq(g->n, 1);
    /* Within a second of the schedule: the network adds milliseconds. */
    int64_t got = g->sum / SIM_S;
    ck_assert_msg(got >= study[i].want - 1 && got <= study[i].want,
                  "%s at %lld s: got %lld s want %lld s", g->profile, (long long)study[i].delay,
                  (long long)got, (long long)study[i].want);
  }
  ck_assert_ptr_nonnull(strstr(r.summary->str, "greylisting: added delay by retry profile"));
  ck_assert_ptr_nonnull(
      strstr(r.summary->str, "opensmtpd  greylist delay   900 s:   1 passed, added mean 1600 s"));
  run_clear(&r);
}
END_TEST

/* The scenario's settings reach the filters: with "example.com" as a public
 * suffix at mx.example.org, lists.example.com is its own organisational
 * domain, has no _dmarc record, and DMARC gives none (RFC 7489 §6.6.3);
 * with greylisting off nothing is deferred. */
static void suffix_and_no_greylist(scn_config *c) {
  int i = scn_find_host(c, "mx.example.org");
  ck_assert_int_ge(i, 0);
  scn_mta *m = &g_array_index(c->hosts, scn_host, i).mta;
  m->filt.public_suffixes = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(m->filt.public_suffixes, g_strdup("org"));
  g_ptr_array_add(m->filt.public_suffixes, g_strdup("example.com"));
  m->filt.greylist_off = true;
}

static const count_row settings_counts[] = {
    {"policy.dmarc", "from_domain", "lists.example.com", "result", "none", 1,
     "DMARC none for lists.example.com under suffix example.com"},
    {"policy.greylist", "node", "mx.example.org", NULL, NULL, 0,
     "greylist verdicts with greylisting off"},
    {"msg.defer", "node", "smtp.example.com", NULL, NULL, 0, "deferrals with greylisting off"},
};

START_TEST(journey_settings_reach_the_filters) {
  run r;
  run_tweaked("journey", suffix_and_no_greylist, &r);
  check_counts(&r, settings_counts, G_N_ELEMENTS(settings_counts));
  ck_assert_uint_eq(r.grey->len, 0);
  run_clear(&r);
}
END_TEST

START_TEST(no_greylisting_no_section) {
  run r;
  run_scenario("mx-failover", &r);
  ck_assert_uint_eq(r.grey->len, 0);
  ck_assert_ptr_null(strstr(r.summary->str, "greylisting:"));
  run_clear(&r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("filter_scenarios");
  TCase *tc = tcase_create("examples");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, journey_sieve_files_the_newsletter);
  tcase_add_test(tc, spam_refused_and_gtube_in_junk);
  tcase_add_test(tc, greylist_study_added_delay_by_profile);
  tcase_add_test(tc, no_greylisting_no_section);
  tcase_add_test(tc, journey_settings_reach_the_filters);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
