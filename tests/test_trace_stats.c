/* Tests for trace_stats: the statistics of a hand-built journey
 * (tests/stats_fixture.c) equal the values worked out by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats_fixture.h"
#include "testutil.h"
#include "trace_read_int.h"
#include "trace_stats.h"

#define S INT64_C(1000000000)

static trace_stats *stats_of(const char *text, const char *name, GError **err) {
  trace_reader *r = trace_reader_new_memory(name, text, strlen(text), err);
  if (!r)
    return NULL;
  trace_stats *s = trace_stats_read(r, name, err);
  trace_reader_free(r);
  return s;
}

static trace_stats *journey(void) {
  char *t = stats_fixture_journey();
  GError *err = NULL;
  trace_stats *s = stats_of(t, "journey", &err);
  ck_assert_msg(s != NULL, "%s", err ? err->message : "");
  g_free(t);
  return s;
}

/* ---- numbers ---- */

START_TEST(percentiles_nearest_rank) {
  static const int64_t ten[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  static const struct {
    size_t n;
    unsigned p;
    int64_t want;
  } rows[] = {
      {10, 0, 10},    {10, 10, 10}, {10, 11, 20}, {10, 50, 50}, {10, 51, 60}, {10, 95, 100},
      {10, 100, 100}, {1, 50, 10},  {3, 50, 20},  {3, 95, 30},  {2, 50, 10},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    int64_t got = trace_stats_percentile(ten, rows[i].n, rows[i].p);
    ck_assert_msg(got == rows[i].want,
                  "row %zu: p%u of %zu: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, i,
                  rows[i].p, rows[i].n, got, rows[i].want);
  }
}
END_TEST

START_TEST(summary_and_mean) {
  static const int64_t v[] = {303, 1, 303};
  trace_stats_summary m = trace_stats_summarize(v, 3);
  ck_assert_uint_eq(m.n, 3);
  ck_assert_int_eq(m.min, 1);
  ck_assert_int_eq(m.p50, 303);
  ck_assert_int_eq(m.p95, 303);
  ck_assert_int_eq(m.max, 303);
  ck_assert_int_eq(m.mean, 202); /* 607 / 3 */
  static const int64_t big[] = {INT64_MAX - 1, INT64_MAX - 3};
  m = trace_stats_summarize(big, 2);
  ck_assert_int_eq(m.mean, INT64_MAX - 2); /* no overflow */
  m = trace_stats_summarize(NULL, 0);
  ck_assert_uint_eq(m.n, 0);
  ck_assert_int_eq(m.max, 0);
}
END_TEST

START_TEST(fixed_decimals) {
  static const struct {
    uint64_t num, den;
    unsigned dec;
    const char *want;
  } rows[] = {
      {1, 3, 2, "0.33"},       {2, 3, 2, "0.67"},
      {1, 8, 2, "0.13"},       {5, 1000, 2, "0.01"},
      {999, 1000, 2, "1.00"},  {0, 5, 3, "0.000"},
      {7, 0, 2, "-"},          {25, 1, 0, "25"},
      {2500, 100, 2, "25.00"}, {UINT64_MAX, 1, 1, "18446744073709551615.0"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GString *o = g_string_new(NULL);
    trace_stats_fixed(o, rows[i].num, rows[i].den, rows[i].dec);
    ck_assert_msg(strcmp(o->str, rows[i].want) == 0, "row %zu: got %s want %s", i, o->str,
                  rows[i].want);
    g_string_free(o, TRUE);
  }
  static const struct {
    int64_t ns;
    const char *want;
  } secs[] = {{1500000, "0.002"},
              {-1500000, "-0.002"},
              {202333333333, "202.333"},
              {0, "0.000"},
              {303 * S, "303.000"}};
  for (size_t i = 0; i < G_N_ELEMENTS(secs); i++) {
    GString *o = g_string_new(NULL);
    trace_stats_seconds(o, secs[i].ns);
    ck_assert_msg(strcmp(o->str, secs[i].want) == 0, "row %zu: got %s want %s", i, o->str,
                  secs[i].want);
    g_string_free(o, TRUE);
  }
}
END_TEST

/* ---- the journey ---- */

START_TEST(counts_and_bounce_rate) {
  trace_stats *s = journey();
  ck_assert_uint_eq(s->messages, 3); /* m1, m2, dsn1 */
  ck_assert_uint_eq(s->dsns, 1);
  ck_assert_uint_eq(s->recipients, 4); /* bob, carol, dave, alice */
  ck_assert_uint_eq(s->delivered, 3);
  ck_assert_uint_eq(s->bounced, 1);
  ck_assert_uint_eq(s->failed, 0);
  ck_assert_uint_eq(s->deferrals, 4);
  ck_assert_int_eq(s->end, 1000 * S);
  const trace_stats_msg *m = s->msgs->pdata[0];
  ck_assert_str_eq(m->msg, "m1.x@example.com");
  ck_assert_str_eq(m->origin_kind, "submit");
  ck_assert_int_eq(m->origin, 61 * S);
  m = s->msgs->pdata[2];
  ck_assert_str_eq(m->msg, "dsn1@smtp");
  ck_assert_str_eq(m->origin_kind, "queue");
  GString *o = g_string_new(NULL);
  trace_stats_write_text(s, o);
  ck_assert_msg(strstr(o->str, "bounce rate 25.00 % (1 of 4 recipients)"), "%s", o->str);
  g_string_free(o, TRUE);
  trace_stats_free(s);
}
END_TEST

START_TEST(delivery_delays_and_cdf) {
  trace_stats *s = journey();
  static const int64_t want[] = {1 * S, 303 * S, 303 * S};
  ck_assert_uint_eq(s->delays->len, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(g_array_index(s->delays, int64_t, i) == want[i],
                  "cdf[%u]: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, i,
                  g_array_index(s->delays, int64_t, i), want[i]);
  ck_assert_int_eq(s->delay.min, 1 * S);
  ck_assert_int_eq(s->delay.p50, 303 * S);
  ck_assert_int_eq(s->delay.p95, 303 * S);
  ck_assert_int_eq(s->delay.max, 303 * S);
  ck_assert_int_eq(s->delay.mean, 202333333333);
  const trace_stats_delivery *d = s->deliveries->pdata[0];
  ck_assert_str_eq(d->msg, "dsn1@smtp");
  ck_assert_str_eq(d->rcpt, "alice@example.com");
  d = s->deliveries->pdata[2];
  ck_assert_str_eq(d->rcpt, "carol@example.org");
  ck_assert_int_eq(d->t, 364 * S);
  trace_stats_free(s);
}
END_TEST

START_TEST(hops_in_order) {
  trace_stats *s = journey();
  static const struct {
    const char *kind, *from, *to;
    uint64_t n;
    int64_t max;
  } want[] = {
      {"submit", "laptop", "smtp", 1, 1 * S},     {"relay", "smtp", "relay", 1, 1 * S},
      {"relay", "smtp", "mail", 1, 1 * S},        {"deliver", "mail", "mail", 3, 0},
      {"relay", "relay", "mx", 1, 301 * S},       {"relay", "mx", "mail", 1, 1 * S},
      {"fetch", "mail", "bob-phone", 1, 236 * S}, {"fetch", "mail", "carol-pc", 1, 536 * S},
  };
  ck_assert_uint_eq(s->hops->len, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const trace_stats_hop *h = s->hops->pdata[i];
    ck_assert_msg(strcmp(h->kind, want[i].kind) == 0 && strcmp(h->from, want[i].from) == 0 &&
                      strcmp(h->to, want[i].to) == 0 && h->sum.n == want[i].n &&
                      h->sum.max == want[i].max,
                  "hop %u: got %s %s->%s n=%" G_GUINT64_FORMAT " max=%" G_GINT64_FORMAT
                  " want %s %s->%s n=%" G_GUINT64_FORMAT " max=%" G_GINT64_FORMAT,
                  i, h->kind, h->from, h->to, h->sum.n, h->sum.max, want[i].kind, want[i].from,
                  want[i].to, want[i].n, want[i].max);
  }
  ck_assert_uint_eq(s->hop_samples->len, 10);
  trace_stats_free(s);
}
END_TEST

START_TEST(retries_histogram) {
  trace_stats *s = journey();
  static const uint64_t want[] = {1, 0, 2}; /* dsn1: 0; m1, m2: 2 each */
  ck_assert_uint_eq(s->retry_hist->len, G_N_ELEMENTS(want));
  for (guint k = 0; k < G_N_ELEMENTS(want); k++)
    ck_assert_msg(g_array_index(s->retry_hist, uint64_t, k) == want[k],
                  "hist[%u]: got %" G_GUINT64_FORMAT " want %" G_GUINT64_FORMAT, k,
                  g_array_index(s->retry_hist, uint64_t, k), want[k]);
  trace_stats_free(s);
}
END_TEST

START_TEST(queue_curves) {
  trace_stats *s = journey();
  ck_assert_uint_eq(s->queues->len, 3);
  static const trace_stats_point smtp[] = {
      {61 * S, 1}, {62 * S, 0}, {100 * S, 1}, {301 * S, 1}, {302 * S, 0}};
  const trace_stats_queue *q = s->queues->pdata[0];
  ck_assert_str_eq(q->node, "smtp");
  ck_assert_uint_eq(q->curve->len, G_N_ELEMENTS(smtp));
  for (guint i = 0; i < G_N_ELEMENTS(smtp); i++) {
    const trace_stats_point *p = &g_array_index(q->curve, trace_stats_point, i);
    ck_assert_msg(p->t == smtp[i].t && p->len == smtp[i].len,
                  "smtp[%u]: got (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                  ") want (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                  i, p->t, p->len, smtp[i].t, smtp[i].len);
  }
  ck_assert_int_eq(q->peak, 1);
  ck_assert_int_eq(q->last, 0);
  ck_assert_int_eq(q->mean_milli, 203); /* (1 + 201 + 1) s of one message over 1000 s */
  static const struct {
    const char *node;
    int64_t mean_milli;
  } rest[] = {{"relay", 301}, {"mx", 1}};
  for (guint i = 0; i < G_N_ELEMENTS(rest); i++) {
    q = s->queues->pdata[i + 1];
    ck_assert_str_eq(q->node, rest[i].node);
    ck_assert_int_eq(q->peak, 1);
    ck_assert_int_eq(q->mean_milli, rest[i].mean_milli);
    ck_assert_uint_eq(q->unmatched, 0);
  }
  trace_stats_free(s);
}
END_TEST

START_TEST(greylisting) {
  trace_stats *s = journey();
  ck_assert_uint_eq(s->grey_defers, 2);
  ck_assert_uint_eq(s->grey->len, 2);
  for (guint i = 0; i < 2; i++) {
    const trace_stats_grey *g = s->grey->pdata[i];
    ck_assert_str_eq(g->node, "relay");
    ck_assert_int_eq(g->t, 63 * S);
    ck_assert_int_eq(g->delay, 300 * S);
  }
  ck_assert_uint_eq(s->grey_sum.n, 2);
  ck_assert_int_eq(s->grey_sum.p50, 300 * S);
  ck_assert_uint_eq(s->grey_policy_sum.n, 1);
  ck_assert_int_eq(s->grey_policy_sum.max, 300 * S);
  trace_stats_free(s);
}
END_TEST

START_TEST(dns_cache_rate) {
  trace_stats *s = journey();
  ck_assert_uint_eq(s->dns->len, 2);
  const trace_stats_dns *d = s->dns->pdata[0];
  ck_assert_str_eq(d->node, "relay");
  ck_assert_uint_eq(d->queries, 1);
  ck_assert_uint_eq(d->hits, 0);
  d = s->dns->pdata[1];
  ck_assert_str_eq(d->node, "resolver");
  ck_assert_uint_eq(d->hits, 2);
  ck_assert_uint_eq(d->queries, 2);
  ck_assert_uint_eq(d->timeouts, 1);
  GString *o = g_string_new(NULL);
  trace_stats_write_csv(s, o);
  ck_assert_msg(strstr(o->str, "\r\ndns,hit_rate_pct,resolver,,,,,50.00\r\n"), "%s", o->str);
  ck_assert_msg(strstr(o->str, "\r\nsummary,dns_hit_rate_pct,,,,,,40.00\r\n"), "%s", o->str);
  g_string_free(o, TRUE);
  trace_stats_free(s);
}
END_TEST

START_TEST(csv_rows) {
  trace_stats *s = journey();
  GString *o = g_string_new(NULL);
  trace_stats_write_csv(s, o);
  static const char *const want[] = {
      "section,key,node,peer,msg,rcpt,t_ns,value\r\n",
      "\r\nsummary,bounce_rate_pct,,,,,,25.00\r\n",
      "\r\nsummary,delay_p50_ns,,,,,,303000000000\r\n",
      "\r\ndelivery,,mail,,m1.x@example.com,bob@example.org,364000000000,303000000000\r\n",
      "\r\ncdf,0.333333,,,,,,1000000000\r\ncdf,0.666667,,,,,,303000000000\r\n",
      "\r\nhop,relay,relay,mx,m1.x@example.com,,363000000000,301000000000\r\n",
      "\r\nhop_summary,fetch.max_ns,mail,carol-pc,,,,536000000000\r\n",
      "\r\nretries,submit,,,m2.y@example.com,,100000000000,2\r\n",
      "\r\nretry_hist,2,,,,,,2\r\n",
      "\r\nqueue,,smtp,,,,301000000000,1\r\n",
      "\r\nqueue_summary,mean,relay,,,,,0.301\r\n",
      "\r\ngreylist,,relay,,m1.x@example.com,carol@example.org,63000000000,300000000000\r\n",
      "\r\ngreylist_policy,,,,,,,300000000000\r\n",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_msg(strstr(o->str, want[i]) != NULL, "row %zu missing: %s\n%s", i, want[i], o->str);
  /* Every row has 8 fields (no field here needs quoting). */
  char **lines = g_strsplit(o->str, "\r\n", -1);
  for (char **l = lines; *l && **l; l++) {
    int commas = 0;
    for (const char *p = *l; *p; p++)
      commas += *p == ',';
    ck_assert_msg(commas == 7, "got %d commas want 7: %s", commas, *l);
  }
  g_strfreev(lines);
  g_string_free(o, TRUE);
  trace_stats_free(s);
}
END_TEST

START_TEST(csv_quotes_fields) {
  const char *t =
      "{\"format\":\"mailsim-trace\",\"version\":1}\n"
      "{\"t\":1,\"id\":1,\"ev\":\"msg.submit\",\"from\":\"a\",\"to\":\"b\",\"msg\":\"x,\\\"y\\\"\","
      "\"rcpts\":[\"r\"]}\n"
      "{\"t\":5,\"id\":2,\"ev\":\"msg.deliver\",\"node\":\"b\",\"msg\":\"x,\\\"y\\\"\",\"rcpt\":"
      "\"r\"}\n";
  GError *err = NULL;
  trace_stats *s = stats_of(t, "q", &err);
  ck_assert_msg(s != NULL, "%s", err ? err->message : "");
  GString *o = g_string_new(NULL);
  trace_stats_write_csv(s, o);
  ck_assert_msg(strstr(o->str, "\r\ndelivery,,b,,\"x,\"\"y\"\"\",r,5,4\r\n"), "%s", o->str);
  g_string_free(o, TRUE);
  trace_stats_free(s);
}
END_TEST

/* The same numbers however the file arrives (read in chunks of 1..7
 * bytes and whole). */
START_TEST(any_split_same_output) {
  char *t = stats_fixture_journey();
  char *path = NULL;
  int fd = g_file_open_tmp("stats-XXXXXX.jsonl", &path, NULL);
  ck_assert_int_ge(fd, 0);
  ck_assert(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
  close(fd);
  GString *want = NULL;
  for (size_t chunk = 0; chunk <= 7; chunk++) {
    GError *err = NULL;
    trace_reader *r =
        chunk ? trace_read__open_chunked(path, chunk, &err) : trace_reader_open(path, &err);
    ck_assert_msg(r != NULL, "%s", err ? err->message : "");
    trace_stats *s = trace_stats_read(r, path, &err);
    ck_assert_msg(s != NULL, "%s", err ? err->message : "");
    GString *o = g_string_new(NULL);
    trace_stats_write_csv(s, o);
    trace_stats_write_text(s, o);
    if (!want)
      want = o;
    else {
      ck_assert_msg(strcmp(o->str, want->str) == 0, "chunk %zu differs", chunk);
      g_string_free(o, TRUE);
    }
    trace_stats_free(s);
    trace_reader_free(r);
  }
  g_string_free(want, TRUE);
  unlink(path);
  g_free(path);
  g_free(t);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_traces_name_file_and_line) {
  static const struct {
    const char *text, *want;
  } rows[] = {
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":1,\"id\":1,\"ev\":\"msg.compose\"",
       "bad:2"}, /* truncated */
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n"
       "{\"t\":1,\"id\":1,\"ev\":\"msg.deliver\",\"node\":\"n\",\"msg\":\"m\"}\n",
       "bad:2: msg.deliver record lacks the text key \"rcpt\""},
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":1,\"id\":1,\"ev\":\"msg.queue\"}\n",
       "bad:2: msg.queue record lacks the text key \"msg\""},
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":1,\"id\":1,\"ev\":\"msg.relay\","
       "\"from\":5,\"to\":\"b\",\"msg\":\"m\"}\n",
       "bad:2: msg.relay record lacks the text key \"from\""},
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":1,\"id\":1,\"ev\":\"dns.query\"}\n",
       "bad:2: dns.query record lacks the text key \"from\""},
      {"{\"format\":\"mailsim-trace\",\"version\":1}\n{\"t\":5,\"id\":1,\"ev\":\"a.b\"}\n"
       "{\"t\":4,\"id\":2,\"ev\":\"a.b\"}\n",
       "bad:3"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    GError *err = NULL;
    trace_stats *s = stats_of(rows[i].text, "bad", &err);
    ck_assert_msg(s == NULL, "row %zu: no error", i);
    ck_assert_msg(err && strstr(err->message, rows[i].want), "row %zu: got \"%s\" want \"%s\"", i,
                  err ? err->message : "(none)", rows[i].want);
    g_error_free(err);
  }
}
END_TEST

START_TEST(empty_trace) {
  GError *err = NULL;
  trace_stats *s = stats_of("{\"format\":\"mailsim-trace\",\"version\":1}\n", "e", &err);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(s->messages, 0);
  GString *o = g_string_new(NULL);
  trace_stats_write_text(s, o);
  trace_stats_write_csv(s, o);
  ck_assert_ptr_nonnull(strstr(o->str, "bounce rate - (0 of 0 recipients)"));
  ck_assert_ptr_nonnull(strstr(o->str, "summary,bounce_rate_pct,,,,,,-\r\n"));
  g_string_free(o, TRUE);
  trace_stats_free(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("trace_stats");
  TCase *tc = tcase_create("numbers");
  tcase_add_test(tc, percentiles_nearest_rank);
  tcase_add_test(tc, summary_and_mean);
  tcase_add_test(tc, fixed_decimals);
  suite_add_tcase(s, tc);
  tc = tcase_create("journey");
  tcase_add_test(tc, counts_and_bounce_rate);
  tcase_add_test(tc, delivery_delays_and_cdf);
  tcase_add_test(tc, hops_in_order);
  tcase_add_test(tc, retries_histogram);
  tcase_add_test(tc, queue_curves);
  tcase_add_test(tc, greylisting);
  tcase_add_test(tc, dns_cache_rate);
  tcase_add_test(tc, csv_rows);
  tcase_add_test(tc, csv_quotes_fields);
  tcase_add_test(tc, any_split_same_output);
  suite_add_tcase(s, tc);
  tc = tcase_create("bad_input");
  tcase_add_test(tc, bad_traces_name_file_and_line);
  tcase_add_test(tc, empty_trace);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
