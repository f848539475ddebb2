/* chaos: the fault space (scenarios/scn_chaos) and `mailsim chaos`
 * (cli/cmd_chaos.c).
 *
 * The draw: the same scenario and seed give the same schedule; faults on
 * one target never overlap; every fault (the scenario's own included) heals
 * inside the window; the run is extended past it; the "chaos" key bounds
 * kinds and targets and its errors name the JSON path.
 * The command: CHAOS_SEEDS seeds (200 in the plain build; fewer under the
 * sanitizers, see tests/meson.build) of journey.json and mx-failover.json
 * find no violation, and two runs with different -j print the same table.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_check.h"
#include "scn.h"
#include "scn_chaos.h"
#include "testutil.h"

#ifndef CHAOS_SEEDS
#define CHAOS_SEEDS 200
#endif

static scn_config *load(const char *name) {
  char *rel = g_strdup_printf("scenarios/%s.json", name);
  char *path = testutil_src_path(rel);
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  g_free(path);
  g_free(rel);
  return c;
}

static char *draw(const char *name, uint64_t seed, size_t *n, scn_config **keep) {
  scn_config *c = load(name);
  GString *kinds = g_string_new(NULL), *faults = g_string_new(NULL);
  *n = scn_chaos_draw(c, seed, kinds, faults);
  char *out = g_strdup_printf("%s\n%s", kinds->str, faults->str);
  g_string_free(kinds, TRUE);
  g_string_free(faults, TRUE);
  if (keep)
    *keep = c;
  else
    scn_config_free(c);
  return out;
}

START_TEST(same_seed_same_schedule) {
  size_t drawn_any = 0, differ = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    size_t n1, n2, n3;
    char *a = draw("journey", seed, &n1, NULL), *b = draw("journey", seed, &n2, NULL);
    char *c = draw("journey", seed + 1, &n3, NULL);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(n1, n2);
    drawn_any += n1 > 0;
    differ += strcmp(a, c) != 0;
    g_free(a);
    g_free(b);
    g_free(c);
  }
  ck_assert_msg(drawn_any > 10, "got faults in %zu of 40 seeds, want most", drawn_any);
  ck_assert_msg(differ > 30, "got %zu of 40 neighbouring seeds differing, want most", differ);
}
END_TEST

START_TEST(faults_heal_inside_window) {
  for (uint64_t seed = 1; seed <= 60; seed++) {
    size_t n;
    scn_config *c = NULL;
    g_free(draw("mx-failover", seed, &n, &c));
    /* mx-failover: 1h and one message at 1 min, so the window is 16 min
     * (15 min past the last message, less than half the run) and the run
     * lasts 3h16. */
    sim_time window = 16 * 60 * SIM_S;
    ck_assert_int_eq(c->duration, window + 3 * 3600 * SIM_S);
    for (guint i = 0; i < c->faults->len; i++) {
      const scn_fault *f = &g_array_index(c->faults, scn_fault, i);
      ck_assert_msg(f->until != SIM_TIME_NEVER && f->until <= window && f->at < f->until,
                    "seed %" G_GUINT64_FORMAT ": fault %u on %s from %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT,
                    (guint64)seed, i, f->target, (gint64)f->at, (gint64)f->until);
      for (guint k = 0; k < i; k++) {
        const scn_fault *g = &g_array_index(c->faults, scn_fault, k);
        bool same =
            f->target && g->target && strcmp(f->target, g->target) == 0 && f->kind == g->kind;
        ck_assert_msg(!same || f->until <= g->at || g->until <= f->at,
                      "seed %" G_GUINT64_FORMAT ": overlapping %s faults on %s", (guint64)seed,
                      scn_fault_kind_name(f->kind), f->target);
      }
    }
    scn_config_free(c);
  }
}
END_TEST

/* Every kind is drawn over 60 seeds of the journey, each checked by the
 * loader's rules, with its parameters in the documented ranges; without
 * "permanent", injected replies are 4xx. */
START_TEST(every_kind_drawn) {
  unsigned seen[SCN_FAULT_COUNT] = {0};
  for (uint64_t seed = 1; seed <= 60; seed++) {
    size_t n;
    scn_config *c = NULL;
    g_free(draw("journey", seed, &n, &c));
    ck_assert_uint_eq(n, c->faults->len);
    for (guint i = 0; i < c->faults->len; i++) {
      const scn_fault *f = &g_array_index(c->faults, scn_fault, i);
      GError *err = NULL;
      ck_assert_msg(scn_fault_check(c, f, NULL, &err), "seed %" G_GUINT64_FORMAT ": %s",
                    (guint64)seed, err ? err->message : "");
      seen[f->kind]++;
      switch (f->kind) {
      case SCN_FAULT_LATENCY:
        ck_assert(f->latency >= 50 * SIM_MS && f->latency <= 2 * SIM_S);
        break;
      case SCN_FAULT_LOSS:
        ck_assert(f->loss_ppm >= 10000 && f->loss_ppm <= 300000);
        break;
      case SCN_FAULT_SMTP_REPLY:
        ck_assert_msg(f->reply_code / 100 == 4, "got %d, want a 4xx", f->reply_code);
        break;
      case SCN_FAULT_DNS:
      case SCN_FAULT_DNS_MX:
        ck_assert(g_str_has_suffix(f->name, "example.org.") ||
                  g_str_has_suffix(f->name, "example.com."));
        break;
      default:
        break;
      }
    }
    scn_config_free(c);
  }
  for (int k = 0; k < SCN_FAULT_COUNT; k++)
    ck_assert_msg(seen[k] > 0, "kind %s never drawn", scn_fault_kind_name((scn_fault_kind)k));
  /* The names the command lists are the kinds of scn_fault. */
  size_t nk = 0;
  for (const char *const *p = scn_chaos_kind_names(); *p; p++, nk++) {
    scn_fault_kind k;
    ck_assert(scn_fault_kind_parse(*p, &k));
  }
  ck_assert_uint_eq(nk, SCN_FAULT_COUNT);
}
END_TEST

static const char *const base = "{\"name\":\"t\",\"duration\":\"1h\",\"hosts\":["
                                "{\"name\":\"a\",\"role\":\"server\",\"addrs\":[\"10.0.0.1\"]},"
                                "{\"name\":\"b\",\"role\":\"server\",\"addrs\":[\"10.0.0.2\"]}],"
                                "\"links\":[{\"a\":\"a\",\"b\":\"b\",\"latency\":\"1ms\"}]";

static scn_config *parse_with(const char *chaos, GError **err) {
  char *json = g_strdup_printf("%s,\"chaos\":%s}", base, chaos);
  scn_config *c = scn_parse("t.json", json, strlen(json), err);
  g_free(json);
  return c;
}

START_TEST(chaos_key_bounds) {
  GError *err = NULL;
  scn_config *c = parse_with("{\"kinds\":[\"crash\"],\"hosts\":[\"b\"],\"window\":\"10m\","
                             "\"max_faults\":2,\"drain\":\"1h\"}",
                             &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  size_t total = 0;
  for (uint64_t seed = 1; seed <= 30; seed++) {
    scn_config *d = parse_with("{\"kinds\":[\"crash\"],\"hosts\":[\"b\"],\"window\":\"10m\","
                               "\"max_faults\":2,\"drain\":\"1h\"}",
                               NULL);
    total += scn_chaos_draw(d, seed, NULL, NULL);
    ck_assert_uint_le(d->faults->len, 2);
    for (guint i = 0; i < d->faults->len; i++) {
      const scn_fault *f = &g_array_index(d->faults, scn_fault, i);
      ck_assert(f->kind == SCN_FAULT_CRASH);
      ck_assert_str_eq(f->target, "b");
      ck_assert_int_le(f->until, 10 * 60 * SIM_S);
    }
    ck_assert_int_eq(d->duration, 70 * 60 * SIM_S);
    scn_config_free(d);
  }
  ck_assert_uint_gt(total, 0);
  scn_config_free(c);
}
END_TEST

static const struct {
  const char *chaos, *want;
} bad_rows[] = {
    {"[]", "$.chaos: expected an object"},
    {"{\"kinds\":[\"flood\"]}", "unknown fault kind \"flood\""},
    {"{\"links\":[\"a-c\"]}", "no link named \"a-c\""},
    {"{\"hosts\":[\"z\"]}", "no host named \"z\""},
    {"{\"window\":\"soon\"}", "$.chaos"},
    {"{\"max_faults\":0}", "$.chaos"},
    {"{\"colour\":1}", "colour"},
    {"{\"permanent\":1}", "permanent"},
};

START_TEST(chaos_key_errors) {
  GError *err = NULL;
  scn_config *c = parse_with(bad_rows[_i].chaos, &err);
  ck_assert_ptr_null(c);
  ck_assert_msg(err && strstr(err->message, bad_rows[_i].want), "got \"%s\", want \"%s\"",
                err ? err->message : "(no error)", bad_rows[_i].want);
  g_error_free(err);
}
END_TEST

/* Runs `mailsim chaos ARGS...`, returns its standard output. */
static char *run_chaos(int *status, const char *const *args, int n) {
  /* A file of its own: other builds may run this test at the same time. */
  char *path = NULL;
  fflush(stdout);
  int saved = dup(1);
  int fd = g_file_open_tmp("test_chaos_out_XXXXXX.txt", &path, NULL);
  ck_assert(saved >= 0 && fd >= 0);
  dup2(fd, 1);
  close(fd);
  char **argv = g_new0(char *, n + 2);
  argv[0] = g_strdup("chaos");
  for (int i = 0; i < n; i++)
    argv[i + 1] = g_strdup(args[i]);
  char **keep = g_memdup2(argv, sizeof(char *) * (size_t)(n + 2));
  *status = cli_cmd_chaos(n + 1, argv);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  for (int i = 0; i < n + 1; i++)
    g_free(keep[i]);
  g_free(keep);
  g_free(argv);
  char *out = NULL;
  ck_assert(g_file_get_contents(path, &out, NULL, NULL));
  g_unlink(path);
  g_free(path);
  return out;
}

static const char *const chaos_scenarios[] = {"journey", "mx-failover"};

START_TEST(chaos_finds_nothing_and_repeats) {
  char *rel = g_strdup_printf("scenarios/%s.json", chaos_scenarios[_i]);
  char *path = testutil_src_path(rel);
  char *seeds = g_strdup_printf("1-%d", CHAOS_SEEDS);
  const char *a1[] = {path, "--seeds", seeds, "-j", "2"};
  const char *a2[] = {path, "--seeds", seeds, "-j", "3"};
  int s1, s2;
  char *o1 = run_chaos(&s1, a1, 5);
  char *o2 = run_chaos(&s2, a2, 5);
  char *want = g_strdup_printf("%d seeds, 0 failing\n", CHAOS_SEEDS);
  ck_assert_msg(strstr(o1, want), "%s: got\n%s\nwant \"%s\"", chaos_scenarios[_i], o1, want);
  ck_assert_int_eq(s1, 0);
  ck_assert_int_eq(s2, 0);
  ck_assert_str_eq(o1, o2);
  /* One row per seed, in seed order. */
  char **lines = g_strsplit(o1, "\n", -1);
  ck_assert_uint_ge(g_strv_length(lines), CHAOS_SEEDS + 2);
  for (int i = 1; i <= CHAOS_SEEDS; i++)
    ck_assert_int_eq(g_ascii_strtoll(lines[i], NULL, 10), i);
  g_strfreev(lines);
  g_free(want);
  g_free(o1);
  g_free(o2);
  g_free(seeds);
  g_free(path);
  g_free(rel);
}
END_TEST

START_TEST(chaos_usage_errors) {
  char *path = testutil_src_path("scenarios/journey.json");
  const char *bad_seeds[] = {path, "--seeds", "9-3"};
  const char *two_traces[] = {path, "--seeds", "1-2", "--trace", "x.jsonl"};
  const char *no_file[] = {"/nonexistent/scenario.json", "--seeds", "1"};
  int st;
  g_free(run_chaos(&st, bad_seeds, 3));
  ck_assert_int_eq(st, 2);
  g_free(run_chaos(&st, two_traces, 5));
  ck_assert_int_eq(st, 2);
  g_free(run_chaos(&st, no_file, 3));
  ck_assert_int_eq(st, 2);
  g_free(path);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("chaos");
  TCase *tc = tcase_create("draw");
  tcase_add_test(tc, same_seed_same_schedule);
  tcase_add_test(tc, faults_heal_inside_window);
  tcase_add_test(tc, chaos_key_bounds);
  tcase_add_test(tc, every_kind_drawn);
  tcase_add_loop_test(tc, chaos_key_errors, 0, G_N_ELEMENTS(bad_rows));
  suite_add_tcase(s, tc);
  tc = tcase_create("command");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, chaos_finds_nothing_and_repeats, 0, G_N_ELEMENTS(chaos_scenarios));
  tcase_add_test(tc, chaos_usage_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
