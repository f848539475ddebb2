/* Live mode without sockets: the journal's writer and reader
 * (hosts/live_journal.c), the gateway node (hosts/live_gw.c) driven
 * through scenarios/scn_live.c in the journey's world, and replay: a
 * scripted outside session, journaled, replays into the same trace bytes. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn_live.h"
#include "testutil.h"

/* --- journal ------------------------------------------------------------------ */

static char *tmp_path(const char *name) {
  static int n;
  char *dir = g_dir_make_tmp("mailsim-test-live-XXXXXX", NULL);
  ck_assert_ptr_nonnull(dir);
  char *p = g_strdup_printf("%s/%d-%s", dir, n++, name);
  g_free(dir);
  return p;
}

static void write_header(live_journal_header *h) {
  memset(h, 0, sizeof *h);
  h->scenario_file = "x.json";
  h->scenario = "{\"name\": \"a \\\"quoted\\\" name\"}\n";
  h->seed = UINT64_C(18446744073709551615); /* above 2^53: read from the text */
  h->detail = "protocol";
  h->gateways = g_ptr_array_new();
  g_ptr_array_add(h->gateways, "smtp.example.com");
  g_ptr_array_add(h->gateways, "mail.example.org");
}

START_TEST(journal_round_trip) {
  char *path = tmp_path("j.journal");
  live_journal_header h;
  write_header(&h);
  GError *err = NULL;
  live_journal *j = live_journal_create(path, &h, &err);
  ck_assert_ptr_nonnull(j);
  static const uint8_t bin[] = {0, 1, 2, 255, '\r', '\n', '"', '\\'};
  const live_input ins[] = {
      {.t = 5, .kind = LIVE_IN_OPEN, .id = 1, .gw = 1, .port = 143},
      {.t = 5, .kind = LIVE_IN_DATA, .id = 1, .buf = bin, .len = sizeof bin},
      {.t = 7, .kind = LIVE_IN_DGRAM, .id = 2, .gw = 0, .port = 53, .buf = bin, .len = 3},
      {.t = 9, .kind = LIVE_IN_SHUT, .id = 1},
      {.t = 9, .kind = LIVE_IN_ABORT, .id = 1},
      {.t = INT64_C(7200000000000), .kind = LIVE_IN_END, .id = 0},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(ins); i++)
    live_journal_write(j, &ins[i]);
  ck_assert(live_journal_close(j, &err));
  g_ptr_array_unref(h.gateways);

  live_journal_header got;
  live_journal_reader *r = live_journal_open(path, &got, &err);
  ck_assert_msg(r, "%s", err ? err->message : "");
  ck_assert_str_eq(got.scenario_file, "x.json");
  ck_assert_str_eq(got.scenario, h.scenario);
  ck_assert_msg(got.seed == h.seed, "seed: got %" G_GUINT64_FORMAT, (guint64)got.seed);
  ck_assert_str_eq(got.detail, "protocol");
  ck_assert_uint_eq(got.gateways->len, 2);
  ck_assert_str_eq(got.gateways->pdata[1], "mail.example.org");
  for (size_t i = 0; i < G_N_ELEMENTS(ins); i++) {
    live_input in;
    ck_assert_int_eq(live_journal_next(r, &in, &err), 1);
    ck_assert_msg(in.t == ins[i].t && in.kind == ins[i].kind && in.id == ins[i].id &&
                      in.gw == ins[i].gw && in.port == ins[i].port && in.len == ins[i].len,
                  "line %zu: got %s t=%" G_GINT64_FORMAT " want %s", i + 2,
                  live_in_kind_name(in.kind), (gint64)in.t, live_in_kind_name(ins[i].kind));
    if (in.len)
      ck_assert(memcmp(in.buf, ins[i].buf, in.len) == 0);
  }
  live_input in;
  ck_assert_int_eq(live_journal_next(r, &in, &err), 0);
  live_journal_reader_free(r);
  live_journal_header_clear(&got);
  g_unlink(path);
  g_free(path);
}
END_TEST

/* Bad journals: each is refused with a message naming what was expected. */
static const struct {
  const char *text;
  bool header_ok;
  const char *want; /* in the error message */
} bad_rows[] = {
    {"", false, "not a mailsim journal"},
    {"{\"format\":\"mailsim-trace\",\"version\":1}\n", false, "not a mailsim journal"},
    {"{\"format\":\"mailsim-journal\",\"version\":2}\n", false, "unknown journal version"},
    {"{\"format\":\"mailsim-journal\",\"version\":1,\"seed\":1}\n", false, "header needs"},
    {"{\"format\":\"mailsim-journal\",\"version\":1,\"scenario_file\":\"f\",\"scenario\":\"{}\","
     "\"seed\":1,\"detail\":\"protocol\",\"gateways\":[3]}\n",
     false, "gateways"},
};
static const char *const good_header =
    "{\"format\":\"mailsim-journal\",\"version\":1,\"scenario_file\":\"f\",\"scenario\":\"{}\","
    "\"seed\":1,\"detail\":\"protocol\",\"gateways\":[\"h\"]}\n";
static const struct {
  const char *line;
  const char *want;
} bad_lines[] = {
    {"not json\n", "expected {"},
    {"{\"t\":1,\"in\":\"jump\",\"id\":1}\n", "expected open, data"},
    {"{\"t\":1,\"in\":\"data\",\"id\":1}\n", "need \"b64\""},
    {"{\"t\":1,\"in\":\"open\",\"id\":1,\"port\":25}\n", "need \"gw\" and \"port\""},
    {"{\"t\":1,\"in\":\"dgram\",\"id\":1,\"gw\":0,\"port\":70000,\"b64\":\"\"}\n", "\"port\""},
    {"{\"t\":-1,\"in\":\"end\",\"id\":0}\n", "expected {"},
};

START_TEST(journal_bad_header) {
  char *path = tmp_path("bad.journal");
  ck_assert(g_file_set_contents(path, bad_rows[_i].text, -1, NULL));
  live_journal_header h;
  GError *err = NULL;
  live_journal_reader *r = live_journal_open(path, &h, &err);
  ck_assert_ptr_null(r);
  ck_assert_msg(err && strstr(err->message, bad_rows[_i].want), "row %d: got \"%s\" want \"%s\"",
                _i, err ? err->message : "(none)", bad_rows[_i].want);
  g_error_free(err);
  g_unlink(path);
  g_free(path);
}
END_TEST

START_TEST(journal_bad_line) {
  char *path = tmp_path("bad.journal");
  char *text = g_strconcat(good_header, bad_lines[_i].line, NULL);
  ck_assert(g_file_set_contents(path, text, -1, NULL));
  live_journal_header h;
  GError *err = NULL;
  live_journal_reader *r = live_journal_open(path, &h, &err);
  ck_assert_ptr_nonnull(r);
  live_input in;
  ck_assert_int_eq(live_journal_next(r, &in, &err), -1);
  ck_assert_msg(err && strstr(err->message, bad_lines[_i].want) && strstr(err->message, ":2:"),
                "row %d: got \"%s\" want \"%s\" on line 2", _i, err ? err->message : "(none)",
                bad_lines[_i].want);
  g_error_free(err);
  live_journal_reader_free(r);
  live_journal_header_clear(&h);
  g_unlink(path);
  g_free(text);
  g_free(path);
}
END_TEST

/* --- the gateway in the journey's world ---------------------------------------- */

typedef struct {
  GString *out[8]; /* bytes per outside id */
  bool eof[8];
  int closed[8]; /* 1 + sim_tcp_reason */
  int datagrams;
  GByteArray *answer;
} outside;

static void o_data(void *u, uint64_t id, const uint8_t *b, size_t n) {
  outside *o = u;
  ck_assert_uint_lt(id, 8);
  g_string_append_len(o->out[id], (const char *)b, (gssize)n);
}
static void o_eof(void *u, uint64_t id) { ((outside *)u)->eof[id] = true; }
static void o_closed(void *u, uint64_t id, sim_tcp_reason why) {
  ((outside *)u)->closed[id] = 1 + (int)why;
}
static void o_dgram(void *u, uint64_t id, const uint8_t *b, size_t n) {
  (void)id;
  outside *o = u;
  o->datagrams++;
  g_byte_array_append(o->answer, b, (guint)n);
}
static const live_gw_out o_cb = {o_data, o_eof, o_closed, o_dgram};

static void outside_init(outside *o) {
  memset(o, 0, sizeof *o);
  for (int i = 0; i < 8; i++)
    o->out[i] = g_string_new(NULL);
  o->answer = g_byte_array_new();
}
static void outside_clear(outside *o) {
  for (int i = 0; i < 8; i++)
    g_string_free(o->out[i], TRUE);
  g_byte_array_unref(o->answer);
}

typedef struct {
  scn_config *cfg;
  trace_writer *tw;
  scn_live *l;
  outside o;
} live_world;

static void lw_init(live_world *x, const char *trace_path) {
  char *p = testutil_src_path("scenarios/journey.json");
  GError *err = NULL;
  x->cfg = scn_load(p, &err);
  ck_assert_msg(x->cfg, "%s", err ? err->message : "");
  g_free(p);
  x->tw = trace_path ? trace_writer_new_file(trace_path, &err) : trace_writer_new_memory();
  outside_init(&x->o);
  const char *targets[] = {"mx.example.org", "resolver.example.com", "mx.example.org"};
  x->l = scn_live_new(x->cfg, x->cfg->seed, x->tw, SIM_DETAIL_PROTOCOL, targets, 3, &o_cb, &x->o,
                      &err);
  ck_assert_msg(x->l, "%s", err ? err->message : "");
}

static void lw_clear(live_world *x) {
  scn_live_free(x->l);
  trace_writer_free(x->tw);
  scn_config_free(x->cfg);
  outside_clear(&x->o);
}

static void give(live_world *x, sim_time t, live_in_kind k, uint64_t id, uint32_t gw, uint16_t port,
                 const char *bytes, size_t len) {
  scn_live_run_to(x->l, t);
  live_input in = {
      .kind = k, .id = id, .gw = gw, .port = port, .buf = (const uint8_t *)bytes, .len = len};
  scn_live_input(x->l, &in);
  ck_assert_int_eq(in.t, scn_live_now(x->l));
}

START_TEST(gateway_targets) {
  live_world x;
  lw_init(&x, NULL);
  ck_assert_int_eq(scn_live_gateway(x.l, "mx.example.org"), 0);
  ck_assert_int_eq(scn_live_gateway(x.l, "resolver.example.com"), 1);
  ck_assert_int_eq(scn_live_gateway(x.l, "smtp.example.com"), -1); /* not asked for */
  const GString *t = trace_writer_peek_memory(x.tw);
  ck_assert_msg(strstr(t->str, "\"live-mx.example.org\":\"gateway\"") &&
                    strstr(t->str, "\"live\":{\"live-mx.example.org\":\"mx.example.org\","),
                "header: %.300s", t->str);
  lw_clear(&x);
  /* An unknown target is refused. */
  char *path = testutil_src_path("scenarios/journey.json");
  scn_config *cfg = scn_load(path, NULL);
  g_free(path);
  const char *bad[] = {"nosuch.example"};
  GError *err = NULL;
  outside o;
  outside_init(&o);
  ck_assert_ptr_null(scn_live_new(cfg, 1, NULL, SIM_DETAIL_MESSAGES, bad, 1, &o_cb, &o, &err));
  ck_assert(err && strstr(err->message, "nosuch.example: not a host"));
  g_error_free(err);
  outside_clear(&o);
  scn_config_free(cfg);
}
END_TEST

/* An SMTP conversation with the MX, the client's bytes split at every
 * point: the server's replies are the same each time. */
static const char script[] = "EHLO outside.test\r\nNOOP\r\nQUIT\r\n";

static void converse(size_t split, GString *replies, int *closed) {
  live_world x;
  lw_init(&x, NULL);
  give(&x, 2 * SIM_S, LIVE_IN_OPEN, 1, 0, 25, NULL, 0);
  give(&x, 3 * SIM_S, LIVE_IN_DATA, 1, 0, 0, script, split);
  give(&x, 3 * SIM_S + 7, LIVE_IN_DATA, 1, 0, 0, script + split, strlen(script) - split);
  give(&x, 4 * SIM_S, LIVE_IN_SHUT, 1, 0, 0, NULL, 0);
  scn_live_run_to(x.l, 6 * SIM_S);
  g_string_assign(replies, x.o.out[1]->str);
  *closed = x.o.closed[1];
  ck_assert(x.o.eof[1]);
  lw_clear(&x);
}

START_TEST(gateway_smtp_every_split) {
  GString *want = g_string_new(NULL), *got = g_string_new(NULL);
  int closed;
  converse(0, want, &closed);
  ck_assert_msg(g_str_has_prefix(want->str, "220 mx.example.org ESMTP") &&
                    strstr(want->str, "250-mx.example.org") &&
                    strstr(want->str, "\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"),
                "replies: %s", want->str);
  ck_assert_int_eq(closed, 1 + SIM_TCP_CLOSED_NORMAL);
  for (size_t split = 1; split <= strlen(script); split++) {
    converse(split, got, &closed);
    ck_assert_msg(g_str_equal(got->str, want->str), "split %zu: got %s want %s", split, got->str,
                  want->str);
  }
  g_string_free(want, TRUE);
  g_string_free(got, TRUE);
}
END_TEST

START_TEST(gateway_abort_and_unknown_ids) {
  live_world x;
  lw_init(&x, NULL);
  give(&x, SIM_S, LIVE_IN_OPEN, 1, 0, 25, NULL, 0);
  give(&x, 2 * SIM_S, LIVE_IN_ABORT, 1, 0, 0, NULL, 0);
  /* inputs for ids that are gone or never were: ignored */
  give(&x, 3 * SIM_S, LIVE_IN_DATA, 1, 0, 0, "x", 1);
  give(&x, 3 * SIM_S, LIVE_IN_DATA, 5, 0, 0, "x", 1);
  give(&x, 3 * SIM_S, LIVE_IN_SHUT, 6, 0, 0, NULL, 0);
  give(&x, 3 * SIM_S, LIVE_IN_ABORT, 7, 0, 0, NULL, 0);
  /* a port nobody listens on: refused */
  give(&x, 4 * SIM_S, LIVE_IN_OPEN, 2, 0, 2525, NULL, 0);
  scn_live_run_to(x.l, 10 * SIM_S);
  ck_assert_int_eq(x.o.closed[1], 1 + SIM_TCP_CLOSED_ABORTED);
  ck_assert_int_eq(x.o.closed[2], 1 + SIM_TCP_CLOSED_REFUSED);
  ck_assert_msg(g_str_has_prefix(x.o.out[1]->str, "220 "), "got %s", x.o.out[1]->str);
  ck_assert_uint_eq(x.o.out[2]->len, 0);
  ck_assert(strstr(trace_writer_peek_memory(x.tw)->str,
                   "\"ev\":\"live.close\",\"node\":\"live-mx.example.org\""));
  lw_clear(&x);
}
END_TEST

/* A DNS query over UDP to the resolver: MX of example.org. */
static const char mx_query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\x07"
                               "example\x03org\x00\x00\x0f\x00\x01";

START_TEST(gateway_datagram) {
  live_world x;
  lw_init(&x, NULL);
  give(&x, SIM_S, LIVE_IN_DGRAM, 3, 1, 53, mx_query, sizeof mx_query - 1);
  scn_live_run_to(x.l, 10 * SIM_S);
  ck_assert_int_eq(x.o.datagrams, 1);
  const uint8_t *a = x.o.answer->data;
  ck_assert_uint_gt(x.o.answer->len, 12);
  ck_assert_msg(a[0] == 0x12 && a[1] == 0x34 && (a[2] & 0x80) && (a[3] & 0x0f) == 0 &&
                    (a[6] << 8 | a[7]) >= 1,
                "answer header %02x%02x %02x%02x ancount %d", a[0], a[1], a[2], a[3],
                a[6] << 8 | a[7]);
  /* No answer to a closed port: nothing comes back, nothing stays open. */
  give(&x, 11 * SIM_S, LIVE_IN_DGRAM, 4, 1, 5353, mx_query, sizeof mx_query - 1);
  scn_live_run_to(x.l, 60 * SIM_S);
  ck_assert_int_eq(x.o.datagrams, 1);
  lw_clear(&x);
}
END_TEST

/* --- replay ---------------------------------------------------------------------- */

START_TEST(replay_identical) {
  char *trace = tmp_path("live.jsonl"), *journal = tmp_path("live.journal"),
       *again = tmp_path("replay.jsonl");
  char *scn_path = testutil_src_path("scenarios/journey.json");
  char *text = NULL;
  ck_assert(g_file_get_contents(scn_path, &text, NULL, NULL));
  live_world x;
  lw_init(&x, trace);
  live_journal_header h = {.scenario_file = scn_path,
                           .scenario = text,
                           .seed = x.cfg->seed,
                           .detail = "protocol",
                           .gateways = g_ptr_array_new()};
  g_ptr_array_add(h.gateways, "mx.example.org");
  g_ptr_array_add(h.gateways, "resolver.example.com");
  GError *err = NULL;
  live_journal *j = live_journal_create(journal, &h, &err);
  ck_assert_ptr_nonnull(j);
  scn_live_set_journal(x.l, j);
  /* Irregular times, two connections interleaved, a datagram, a reset. */
  give(&x, 1234567, LIVE_IN_OPEN, 1, 0, 25, NULL, 0);
  give(&x, 1234567, LIVE_IN_OPEN, 2, 0, 25, NULL, 0);
  give(&x, 300000001, LIVE_IN_DATA, 1, 0, 0, "EHLO a.test\r\nMAIL FROM:<x@a.test>\r\n", 34);
  give(&x, 300000002, LIVE_IN_DGRAM, 3, 1, 53, mx_query, sizeof mx_query - 1);
  give(&x, 400000000, LIVE_IN_DATA, 2, 0, 0, "\x01\x02junk\r\n", 8);
  give(&x, 500000000, LIVE_IN_ABORT, 2, 0, 0, NULL, 0);
  give(&x, 61 * SIM_S, LIVE_IN_DATA, 1, 0, 0, "QUIT\r\n", 6);
  give(&x, 62 * SIM_S, LIVE_IN_SHUT, 1, 0, 0, NULL, 0);
  give(&x, 95 * SIM_S, LIVE_IN_END, 0, 0, 0, NULL, 0);
  scn_live_finish(x.l);
  ck_assert(trace_writer_close(x.tw, &err));
  ck_assert(live_journal_close(j, &err));
  lw_clear(&x);
  ck_assert_int_eq(scn_live_replay(journal, again, &err), 0);
  char *a = NULL, *b = NULL;
  gsize la, lb;
  ck_assert(g_file_get_contents(trace, &a, &la, NULL));
  ck_assert(g_file_get_contents(again, &b, &lb, NULL));
  ck_assert_msg(la > 1000 && la == lb && memcmp(a, b, la) == 0,
                "replayed trace differs (%zu vs %zu octets)", (size_t)la, (size_t)lb);
  ck_assert(strstr(a, "\"ev\":\"live.dgram\""));
  /* A journal cut before its end record does not replay. */
  char *jt = NULL;
  ck_assert(g_file_get_contents(journal, &jt, NULL, NULL));
  char *last = strstr(jt, "{\"t\":95000000000,\"in\":\"end\"");
  ck_assert_ptr_nonnull(last);
  ck_assert(g_file_set_contents(journal, jt, last - jt, NULL));
  ck_assert_int_eq(scn_live_replay(journal, again, &err), 2);
  ck_assert(err && strstr(err->message, "no end record"));
  g_clear_error(&err);
  g_free(jt);
  g_free(a);
  g_free(b);
  g_ptr_array_unref(h.gateways);
  g_free(text);
  g_free(scn_path);
  g_free(trace);
  g_free(journal);
  g_free(again);
}
END_TEST

static Suite *live_suite(void) {
  Suite *s = suite_create("live");
  TCase *tc = tcase_create("journal");
  tcase_add_test(tc, journal_round_trip);
  tcase_add_loop_test(tc, journal_bad_header, 0, (int)G_N_ELEMENTS(bad_rows));
  tcase_add_loop_test(tc, journal_bad_line, 0, (int)G_N_ELEMENTS(bad_lines));
  suite_add_tcase(s, tc);
  tc = tcase_create("gateway");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, gateway_targets);
  tcase_add_test(tc, gateway_smtp_every_split);
  tcase_add_test(tc, gateway_abort_and_unknown_ids);
  tcase_add_test(tc, gateway_datagram);
  suite_add_tcase(s, tc);
  tc = tcase_create("replay");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, replay_identical);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(live_suite()); }
