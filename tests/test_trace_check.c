/* trace_check: the invariants on trace records (traces/CHECK.md).
 *
 * Online and offline agree: every example scenario run with the checker on
 * its writer's tap (what the end record reports) gives the same violations,
 * word for word, as the checker reading the finished trace back; both are
 * empty. The checker can fail: traces of those runs edited by hand (a
 * record neutralised, a key altered) break one invariant each and the
 * report names it, the message, the host and the event ids; the same
 * edited lines fed one by one through the tap path give the same report.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "scn.h"
#include "scn_world.h"
#include "testutil.h"
#include "trace_check.h"
#include "trace_read.h"

/* Runs scenario NAME (scenarios/NAME.json, or NAME.json from the source
 * root when it holds a '/') at DETAIL; returns the trace text (g_free) and
 * copies the online violations into ONLINE (char*). */
static char *run_trace(const char *name, sim_detail detail, GPtrArray *online) {
  char *rel = strchr(name, '/') ? g_strdup_printf("%s.json", name)
                                : g_strdup_printf("scenarios/%s.json", name);
  char *path = testutil_src_path(rel);
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  trace_writer *tw = trace_writer_new_memory();
  scn_world *sw = scn_world_build(c, c->seed, tw, detail);
  scn_world_run(sw);
  const trace_check *tc = scn_world_check(sw);
  for (size_t i = 0; online && i < trace_check_count(tc); i++)
    g_ptr_array_add(online, g_strdup(trace_check_at(tc, i)->text));
  scn_world_free(sw);
  char *text = g_strdup(trace_writer_peek_memory(tw)->str);
  trace_writer_free(tw);
  scn_config_free(c);
  g_free(path);
  g_free(rel);
  return text;
}

/* The checker reading TEXT as a file would be read. */
static trace_check *offline(const char *text) {
  GError *err = NULL;
  trace_reader *r = trace_reader_new_memory("trace", text, strlen(text), &err);
  ck_assert_msg(r != NULL, "%s", err ? err->message : "");
  trace_check *tc = trace_check_new();
  trace_check_header(tc, trace_reader_header(r));
  const cJSON *rec;
  trace_read_status st;
  while ((st = trace_reader_next(r, &rec, &err)) == TRACE_READ_OK)
    trace_check_feed(tc, rec);
  ck_assert_msg(st == TRACE_READ_EOF, "%s", err ? err->message : "");
  trace_reader_free(r);
  return tc;
}

/* The tap path: each line as text. */
static trace_check *by_lines(const char *text) {
  trace_check *tc = trace_check_new();
  char **lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l)
      trace_check_feed_line(tc, *l, strlen(*l));
  g_strfreev(lines);
  return tc;
}

static const char *const examples[] = {"journey",      "mx-failover", "retry-bounce", "loop",
                                       "pop3-vs-imap", "dns",         "stream"};

START_TEST(examples_agree) {
  const char *name = examples[_i];
  for (int d = 0; d < 2; d++) {
    sim_detail detail = d ? SIM_DETAIL_MESSAGES : SIM_DETAIL_PROTOCOL;
    GPtrArray *on = g_ptr_array_new_with_free_func(g_free);
    char *text = run_trace(name, detail, on);
    trace_check *off = offline(text);
    ck_assert_msg(on->len == trace_check_count(off), "%s: online %u violations, offline %zu", name,
                  on->len, trace_check_count(off));
    for (guint i = 0; i < on->len; i++)
      ck_assert_str_eq(on->pdata[i], trace_check_at(off, i)->text);
    ck_assert_msg(trace_check_agrees(off), "%s: the end record disagrees with the re-check", name);
    ck_assert_msg(on->len == 0, "%s: got violation \"%s\", want none", name,
                  on->len ? (const char *)on->pdata[0] : "");
    trace_check_free(off);
    g_ptr_array_unref(on);
    g_free(text);
  }
}
END_TEST

/* ---- hand-edited traces ---- */

typedef enum { EDIT_NEUTRAL, EDIT_STR, EDIT_INT, EDIT_JSON } edit_kind;

/* One edit: the Nth (from 0) record of kind EV whose KEY_MATCH equals
 * MATCH_VAL (any when NULL) is neutralised or gets KEY set. */
typedef struct {
  const char *ev, *match_key, *match_val;
  int nth;
  edit_kind kind;
  const char *key, *sval;
  int64_t ival;
} edit;

static char *apply_edits(const char *text, const edit *edits, size_t n) {
  char **lines = g_strsplit(text, "\n", -1);
  int *seen = g_new0(int, n);
  GString *out = g_string_new(NULL);
  for (char **l = lines; *l; l++) {
    if (!**l)
      continue;
    cJSON *rec = cJSON_Parse(*l);
    ck_assert(rec != NULL);
    const char *ev = trace_get_str(rec, "ev");
    bool changed = false;
    for (size_t e = 0; ev && e < n; e++) {
      const edit *x = &edits[e];
      if (strcmp(ev, x->ev) != 0)
        continue;
      const char *mv = x->match_key ? trace_get_str(rec, x->match_key) : NULL;
      if (x->match_key && (!mv || strcmp(mv, x->match_val) != 0))
        continue;
      if (seen[e]++ != x->nth)
        continue;
      changed = true;
      if (x->kind == EDIT_NEUTRAL) {
        int64_t t = 0, id = 0;
        trace_get_int(rec, "t", &t);
        trace_get_int(rec, "id", &id);
        cJSON_Delete(rec);
        rec = cJSON_CreateObject();
        cJSON_AddNumberToObject(rec, "t", (double)t);
        cJSON_AddNumberToObject(rec, "id", (double)id);
        cJSON_AddStringToObject(rec, "ev", "test.removed");
        break;
      }
      cJSON *v = x->kind == EDIT_STR    ? cJSON_CreateString(x->sval)
                 : x->kind == EDIT_JSON ? cJSON_Parse(x->sval)
                                        : cJSON_CreateNumber((double)x->ival);
      ck_assert(cJSON_ReplaceItemInObjectCaseSensitive(rec, x->key, v));
    }
    if (changed) {
      char *s = cJSON_PrintUnformatted(rec);
      g_string_append_printf(out, "%s\n", s);
      cJSON_free(s);
    } else {
      g_string_append_printf(out, "%s\n", *l);
    }
    cJSON_Delete(rec);
  }
  for (size_t e = 0; e < n; e++)
    ck_assert_msg(seen[e] > edits[e].nth, "edit %zu (%s) matched no record", e, edits[e].ev);
  g_free(seen);
  g_strfreev(lines);
  return g_string_free(out, FALSE);
}

#define M1 "m1.a057445e0dcfc0f9@example.com"

typedef struct {
  const char *what, *scenario;
  edit edits[5];
  size_t nedits;
  trace_check_invariant want;
  const char *want_hosts; /* the first violation's hosts */
  const char *want_text;  /* a substring of its text */
} broken;

static const broken broken_rows[] = {
    {"a stored copy removed: the mailbox host accepted it and kept nothing",
     "journey",
     {{"msg.deliver", "rcpt", "bob@example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0}},
     1,
     TRACE_CHECK_NO_LOSS,
     "mail.example.org",
     "recipient(s) bob@example.org: accepted by mail.example.org"},
    {"a relay removed: the submission server's queue entry left with nothing sent",
     "journey",
     {{"msg.relay", "to", "mx.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0}},
     1,
     TRACE_CHECK_NO_LOSS,
     "smtp.example.com",
     "then left its queue"},
    {"the submission server forgot its queue: never sent, never left, not held at the end",
     "journey",
     {{"msg.relay", "to", "mx.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.expire", "node", "smtp.example.com", 0, EDIT_NEUTRAL, NULL, NULL, 0}},
     2,
     TRACE_CHECK_NO_LOSS,
     "smtp.example.com",
     "not in its queue at the end"},
    {"stored in another user's mailbox",
     "journey",
     {{"msg.deliver", "rcpt", "bob@example.org", 0, EDIT_STR, "mailbox", "carol@example.org", 0}},
     1,
     TRACE_CHECK_WRONG_MAILBOX,
     "mail.example.org",
     "stored it in mailbox carol@example.org"},
    {"stored for an address its envelope never named",
     "journey",
     {{"msg.deliver", "rcpt", "bob@example.org", 0, EDIT_STR, "rcpt", "mallory@example.org", 0}},
     1,
     TRACE_CHECK_WRONG_MAILBOX,
     "mail.example.org",
     "not a recipient of any envelope"},
    {"a queue entry deferred past its lifetime",
     "journey",
     {{"msg.queue", "node", "smtp.example.com", 0, EDIT_INT, "lifetime", NULL, 1}},
     1,
     TRACE_CHECK_LIFETIME,
     "smtp.example.com",
     "deferred again"},
    {"accepted over the hop limit",
     "journey",
     {{"msg.queue", "node", "mx.example.org", 0, EDIT_INT, "max_hops", NULL, 0}},
     1,
     TRACE_CHECK_HOP_LIMIT,
     "mx.example.org",
     "with 1 Received fields, over its limit of 0"},
    {"a bounce without a DSN",
     "loop",
     {{"msg.bounce", NULL, NULL, 0, EDIT_STR, "dsn", "", 0}},
     1,
     TRACE_CHECK_NO_LOSS,
     "smtp.example.com",
     "without a DSN"},
    {"a bounce of a bounce: the bounced message had a null sender",
     "loop",
     {{"msg.queue", "queue_id", "000001", 0, EDIT_STR, "sender", "", 0}},
     1,
     TRACE_CHECK_BOUNCE_OF_BOUNCE,
     "smtp.example.com",
     "has a null sender (a DSN)"},
    {"UIDs going backwards in a folder",
     "pop3-vs-imap",
     {{"msg.deliver", "mailbox", "bob@example.org", 1, EDIT_INT, "uid", NULL, 1}},
     1,
     TRACE_CHECK_UID_ORDER,
     "mail.example.org",
     "gave it UID 1"},
};

static void check_broken(const broken *b, const char *text) {
  trace_check *off = offline(text);
  ck_assert_msg(trace_check_count(off) > 0, "%s: got no violation, want %s", b->what,
                trace_check_invariant_name(b->want));
  const trace_check_violation *v = trace_check_at(off, 0);
  ck_assert_msg(v->inv == b->want, "%s: got %s, want %s (%s)", b->what,
                trace_check_invariant_name(v->inv), trace_check_invariant_name(b->want), v->text);
  ck_assert_msg(strcmp(v->hosts, b->want_hosts) == 0, "%s: got hosts %s, want %s", b->what,
                v->hosts, b->want_hosts);
  ck_assert_msg(strstr(v->text, b->want_text), "%s: got \"%s\", want it to contain \"%s\"", b->what,
                v->text, b->want_text);
  ck_assert_msg(v->nids >= 1 && v->ids[0] > 0, "%s: no event id", b->what);
  ck_assert_msg(*v->msg, "%s: no message named", b->what);
  /* The end record was written by the clean run: it disagrees. */
  ck_assert(!trace_check_agrees(off));
  /* The tap path reports the same, word for word. */
  trace_check *on = by_lines(text);
  ck_assert_uint_eq(trace_check_count(on), trace_check_count(off));
  for (size_t i = 0; i < trace_check_count(on); i++)
    ck_assert_str_eq(trace_check_at(on, i)->text, trace_check_at(off, i)->text);
  trace_check_free(on);
  trace_check_free(off);
}

START_TEST(broken_traces) {
  const broken *b = &broken_rows[_i];
  char *text = run_trace(b->scenario, SIM_DETAIL_PROTOCOL, NULL);
  char *edited = apply_edits(text, b->edits, b->nedits);
  check_broken(b, edited);
  g_free(edited);
  g_free(text);
}
END_TEST

/* Delivery after bounce: the DSN's delivery relabelled as a copy of the
 * bounced message for the bounced recipient. */
START_TEST(delivery_after_bounce) {
  char *text = run_trace("loop", SIM_DETAIL_MESSAGES, NULL);
  edit e[] = {
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "msg", M1, 0},
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "rcpt", "eve@loop.example.org", 0},
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "mailbox", "eve@loop.example.org",
       0},
  };
  char *edited = apply_edits(text, e, 3);
  trace_check *tc = offline(edited);
  bool found = false;
  for (size_t i = 0; i < trace_check_count(tc); i++) {
    const trace_check_violation *v = trace_check_at(tc, i);
    if (v->inv == TRACE_CHECK_DELIVERY_AFTER_BOUNCE) {
      found = true;
      ck_assert_str_eq(v->hosts, "smtp.example.com,mail.example.com");
      ck_assert_str_eq(v->msg, M1);
      ck_assert_uint_eq(v->nids, 2);
      ck_assert(v->ids[0] < v->ids[1]);
    }
  }
  ck_assert_msg(found, "got %zu violations, none delivery-after-bounce", trace_check_count(tc));
  trace_check_free(tc);
  g_free(edited);
  g_free(text);
}
END_TEST

/* The journey's trace edited so that m1 stays queued at the MX to the end
 * (relay to the mailbox host, deliveries and expiry taken out), with a
 * retry gap of 10 minutes: a liveness violation when no fault is open. */
static char *stuck_at_mx(const char *text) {
  edit e[] = {
      {"msg.relay", "to", "mail.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.deliver", NULL, NULL, 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.expire", "node", "mx.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.queue", "node", "mx.example.org", 0, EDIT_INT, "retry_gap", NULL, 600000000000},
      {"end", NULL, NULL, 0, EDIT_JSON, "queues",
       "{\"smtp.example.com\":[],\"mx.example.org\":[\"000001\"]}", 0},
  };
  char *edited = apply_edits(text, e, 5);
  edit f = {"msg.deliver", NULL, NULL, 0, EDIT_NEUTRAL, NULL, NULL, 0};
  char *stuck = apply_edits(edited, &f, 1);
  g_free(edited);
  return stuck;
}

/* Liveness: the MX keeps the message to the end, its retry schedule said
 * it waits at most 10 minutes, and no fault is in force. */
START_TEST(liveness) {
  char *text = run_trace("journey", SIM_DETAIL_MESSAGES, NULL);
  char *e2 = stuck_at_mx(text);
  edit f = {"msg.deliver", NULL, NULL, 0, EDIT_NEUTRAL, NULL, NULL, 0};
  trace_check *tc = offline(e2);
  ck_assert_uint_eq(trace_check_count(tc), 1);
  const trace_check_violation *v = trace_check_at(tc, 0);
  ck_assert_msg(v->inv == TRACE_CHECK_LIVENESS, "got %s", v->text);
  ck_assert_str_eq(v->hosts, "mx.example.org");
  ck_assert_str_eq(v->msg, M1);
  ck_assert_ptr_null(trace_check_liveness_note(tc));
  trace_check_free(tc);
  /* With the retry schedule as the trace says (75 min), the run was too
   * short after the message was queued: not a violation (still queued). */
  edit g[] = {
      {"msg.relay", "to", "mail.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.deliver", NULL, NULL, 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"msg.expire", "node", "mx.example.org", 0, EDIT_NEUTRAL, NULL, NULL, 0},
      {"end", NULL, NULL, 0, EDIT_JSON, "queues",
       "{\"smtp.example.com\":[],\"mx.example.org\":[\"000001\"]}", 0},
  };
  char *e3 = apply_edits(text, g, 4);
  char *e4 = apply_edits(e3, &f, 1);
  tc = offline(e4);
  ck_assert_uint_eq(trace_check_count(tc), 0);
  trace_check_free(tc);
  g_free(e4);
  g_free(e3);
  g_free(e2);
  g_free(text);
}
END_TEST

/* Inserts the record LINE (with its newline, "id":0) at time T: before
 * the first event record later than T; the event ids are renumbered. */
static char *insert_at(const char *text, int64_t t, const char *line) {
  char **lines = g_strsplit(text, "\n", -1);
  GString *out = g_string_new(lines[0]);
  g_string_append_c(out, '\n');
  bool done = false;
  uint64_t id = 1;
  for (char **l = lines + 1; *l; l++) {
    if (!**l)
      continue;
    const char *rest = strstr(*l, ",\"ev\":");
    ck_assert(rest);
    int64_t lt = g_ascii_strtoll(*l + 5, NULL, 10);
    if (!done && lt > t) {
      const char *r2 = strstr(line, ",\"ev\":");
      g_string_append_printf(out, "{\"t\":%" G_GINT64_FORMAT ",\"id\":%" G_GUINT64_FORMAT "%s",
                             (gint64)t, (guint64)id++, r2);
      done = true;
    }
    g_string_append_printf(out, "{\"t\":%" G_GINT64_FORMAT ",\"id\":%" G_GUINT64_FORMAT "%s\n",
                           (gint64)lt, (guint64)id++, rest);
  }
  ck_assert(done);
  g_strfreev(lines);
  return g_string_free(out, FALSE);
}

/* The end record's time. */
static int64_t end_time(const char *text) {
  const char *last = g_strrstr(text, "\n{\"t\":");
  ck_assert(last);
  return g_ascii_strtoll(last + 6, NULL, 10);
}

/* Liveness with a fault other than a link or a crash (a full disk at
 * the MX, fault.start / fault.end): not checked while its window is open
 * at the end, and measured from its fault.end when it closed. */
START_TEST(liveness_window_faults) {
  char *text = run_trace("journey", SIM_DETAIL_MESSAGES, NULL);
  char *stuck = stuck_at_mx(text); /* liveness fails: see the test above */
  int64_t end = end_time(stuck);
  static const char start[] = "{\"t\":%" G_GINT64_FORMAT ",\"id\":900001,\"ev\":\"fault.start\","
                              "\"kind\":\"disk_full\",\"target\":\"mx.example.org\"}\n";
  static const char stop[] = "{\"t\":%" G_GINT64_FORMAT ",\"id\":900002,\"ev\":\"fault.end\","
                             "\"kind\":\"disk_full\",\"target\":\"mx.example.org\"}\n";
  const struct {
    const char *what;
    int64_t heal; /* -1: never */
    size_t want;  /* liveness violations */
    bool note;
  } rows[] = {
      {"the disk is still full at the end", -1, 0, true},
      {"healed a minute before the end", end - 60 * INT64_C(1000000000), 0, false},
      {"healed long before the end", 150 * INT64_C(1000000000), 1, false},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *l1 = g_strdup_printf(start, (gint64)(120 * INT64_C(1000000000)));
    char *l2 = rows[i].heal < 0 ? g_strdup("") : g_strdup_printf(stop, (gint64)rows[i].heal);
    char *t1 = insert_at(stuck, 120 * INT64_C(1000000000), l1);
    char *t = rows[i].heal < 0 ? g_strdup(t1) : insert_at(t1, rows[i].heal, l2);
    g_free(t1);
    trace_check *tc = offline(t);
    size_t got = 0;
    for (size_t k = 0; k < trace_check_count(tc); k++)
      got += trace_check_at(tc, k)->inv == TRACE_CHECK_LIVENESS;
    ck_assert_msg(got == rows[i].want, "%s: got %zu liveness violations, want %zu", rows[i].what,
                  got, rows[i].want);
    const char *note = trace_check_liveness_note(tc);
    ck_assert_msg((note != NULL) == rows[i].note, "%s: got note %s", rows[i].what,
                  note ? note : "(none)");
    if (note)
      ck_assert_msg(strstr(note, "disk_full") && strstr(note, "mx.example.org") &&
                        strstr(note, "never healed"),
                    "%s: got note %s", rows[i].what, note);
    /* The tap path agrees. */
    trace_check *on = by_lines(t);
    ck_assert_uint_eq(trace_check_count(on), trace_check_count(tc));
    trace_check_free(on);
    trace_check_free(tc);
    g_free(t);
    g_free(l1);
    g_free(l2);
  }
  g_free(stuck);
  g_free(text);
}
END_TEST

/* The bounce time of the loop's M1 (its first msg.bounce). */
static int64_t bounce_time(const char *text) {
  const char *b = strstr(text, "\"ev\":\"msg.bounce\"");
  ck_assert(b);
  while (b > text && b[-1] != '\n')
    b--;
  return g_ascii_strtoll(b + 5, NULL, 10);
}

/* A delivery after a bounce is the duplicate window of RFC 1047 when a
 * fault.cut of that message naming that recipient came before the
 * bounce; a cut after the bounce, or of another recipient, excuses
 * nothing. */
START_TEST(delivery_after_bounce_cut) {
  char *text = run_trace("loop", SIM_DETAIL_MESSAGES, NULL);
  edit e[] = {
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "msg", M1, 0},
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "rcpt", "eve@loop.example.org", 0},
      {"msg.deliver", "node", "mail.example.com", 0, EDIT_STR, "mailbox", "eve@loop.example.org",
       0},
  };
  char *edited = apply_edits(text, e, 3);
  int64_t tb = bounce_time(edited);
  const struct {
    const char *what;
    int64_t at;
    const char *rcpt;
    size_t want;
  } rows[] = {
      {"cut before the bounce", tb - 1000, "EVE@loop.example.org", 0},
      {"cut after the bounce", tb + 1, "eve@loop.example.org", 1},
      {"cut of another recipient", tb - 1000, "bob@loop.example.org", 1},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *line =
        g_strdup_printf("{\"t\":0,\"id\":0,\"ev\":\"fault.cut\",\"node\":\"mx.example.org\","
                        "\"msg\":\"%s\",\"rcpts\":[\"%s\"],\"attempt\":1}\n",
                        M1, rows[i].rcpt);
    char *t = insert_at(edited, rows[i].at, line);
    trace_check *tc = offline(t);
    size_t got = 0;
    for (size_t k = 0; k < trace_check_count(tc); k++)
      got += trace_check_at(tc, k)->inv == TRACE_CHECK_DELIVERY_AFTER_BOUNCE;
    ck_assert_msg(got == rows[i].want, "%s: got %zu delivery-after-bounce, want %zu", rows[i].what,
                  got, rows[i].want);
    trace_check_free(tc);
    g_free(t);
    g_free(line);
  }
  g_free(edited);
  g_free(text);
}
END_TEST

/* Regression, from `mailsim chaos` (journey, seed 107): the submission
 * server cuts every submission after the dot for five minutes
 * (tests/chaos/cut-submission.json), so four copies of the newsletter
 * wait in its queue; one relay passes bob@ on and every copy leaves the
 * queue. The relay was credited to the oldest copy and the last one,
 * leaving first, was reported lost (no-loss); the credit now moves to the
 * copy that leaves. */
START_TEST(duplicate_copies_not_lost) {
  GPtrArray *online = g_ptr_array_new_with_free_func(g_free);
  char *text = run_trace("tests/chaos/cut-submission", SIM_DETAIL_MESSAGES, online);
  /* The case is still there: cuts, and several copies leaving one queue. */
  size_t cuts = 0, expires = 0;
  for (const char *p = text; (p = strstr(p, "\"ev\":\"fault.cut\"")); p++)
    cuts++;
  for (const char *p = text;
       (p = strstr(p, "\"ev\":\"msg.expire\",\"node\":\"smtp.example.com\",\"msg\":\"m2.")); p++)
    expires++;
  ck_assert_msg(cuts >= 2 && expires >= 3, "got %zu cuts and %zu copies leaving, want >= 2, >= 3",
                cuts, expires);
  for (guint i = 0; i < online->len; i++)
    ck_abort_msg("got violation %s, want none", (const char *)online->pdata[i]);
  trace_check *tc = offline(text);
  ck_assert_uint_eq(trace_check_count(tc), 0);
  trace_check_free(tc);
  g_free(text);
  g_ptr_array_unref(online);
}
END_TEST

/* A trace cut short: without its end record the check ends at the last
 * record; a last line without its newline is unreadable. */
START_TEST(truncated) {
  char *text = run_trace("journey", SIM_DETAIL_MESSAGES, NULL);
  char *end = strstr(text, "{\"t\":");
  ck_assert(end);
  char *last = g_strrstr(text, "\n{\"t\":");
  ck_assert(last);
  last[1] = '\0'; /* drop the end record */
  trace_check *tc = offline(text);
  ck_assert_uint_eq(trace_check_count(tc), 0);
  ck_assert_ptr_null(trace_check_reported(tc));
  trace_check_free(tc);
  char *path = NULL; /* a file of its own: other test runs may be going on */
  int fd = g_file_open_tmp("trace_check_cut.XXXXXX.jsonl", &path, NULL);
  ck_assert_int_ge(fd, 0);
  close(fd);
  size_t n = strlen(text);
  ck_assert(g_file_set_contents(path, text, (gssize)(n - 5), NULL));
  GError *err = NULL;
  tc = trace_check_file(path, &err);
  ck_assert_ptr_null(tc);
  ck_assert(err && err->domain == TRACE_READ_ERROR);
  g_error_free(err);
  ck_assert(g_file_set_contents(path, text, (gssize)n, NULL));
  tc = trace_check_file(path, &err);
  ck_assert_ptr_nonnull(tc);
  ck_assert(trace_check_finished(tc));
  trace_check_free(tc);
  g_unlink(path);
  g_free(path);
  g_free(text);
}
END_TEST

/* A fault that never heals: liveness is not checked, and says so. */
START_TEST(liveness_skipped) {
  char *text = run_trace("mx-failover", SIM_DETAIL_MESSAGES, NULL);
  trace_check *tc = offline(text);
  ck_assert_ptr_nonnull(trace_check_liveness_note(tc));
  ck_assert_msg(strstr(trace_check_liveness_note(tc), "mx1.example.org"), "got %s",
                trace_check_liveness_note(tc));
  trace_check_free(tc);
  g_free(text);
}
END_TEST

/* Entries left open are reported at the end in the order they were
 * accepted, however many (the units' arena spans blocks) and however long
 * a queue id (a unit bigger than a quarter block has a block of its own). */
START_TEST(open_entries_in_order) {
  trace_check *tc = trace_check_new();
  enum { N = 700, BIG = 300 };
  char *big = g_strnfill(5000, 'Q');
  for (int i = 0; i < N; i++) {
    char qid[32];
    g_snprintf(qid, sizeof qid, "%06X", i + 1);
    char *line = g_strdup_printf("{\"t\":%d,\"id\":%d,\"ev\":\"msg.submit\",\"from\":\"c\","
                                 "\"to\":\"mx\",\"msg\":\"m%d@x\",\"queue_id\":\"%s\","
                                 "\"rcpts\":[\"u%d@d.example\"]}",
                                 i, i + 1, i, i == BIG ? big : qid, i);
    trace_check_feed_line(tc, line, strlen(line));
    g_free(line);
  }
  trace_check_finish(tc, N);
  ck_assert_uint_eq(trace_check_count(tc), N);
  for (int i = 0; i < N; i++) {
    const trace_check_violation *v = trace_check_at(tc, (size_t)i);
    char want[64];
    g_snprintf(want, sizeof want, "u%d@d.example", i);
    ck_assert_msg(strstr(v->text, want), "violation %d: got %s, want %s", i, v->text, want);
    ck_assert(i != BIG || strstr(v->text, big));
  }
  g_free(big);
  trace_check_free(tc);
}
END_TEST

/* Feeds LINES (records as text, one per string, NULL-terminated) to TC
 * through the tap path and, parsed, to a second checker through
 * trace_check_feed; both must find the same. Returns the second. */
static trace_check *feed_both(trace_check *tc, const char *const *lines) {
  trace_check *tree = trace_check_new();
  for (const char *const *l = lines; *l; l++) {
    trace_check_feed_line(tc, *l, strlen(*l));
    cJSON *rec = cJSON_Parse(*l);
    ck_assert_msg(rec != NULL, "bad test record %s", *l);
    trace_check_feed(tree, rec);
    cJSON_Delete(rec);
  }
  return tree;
}

static void assert_same(const trace_check *a, const trace_check *b) {
  ck_assert_uint_eq(trace_check_count(a), trace_check_count(b));
  for (size_t i = 0; i < trace_check_count(a); i++)
    ck_assert_str_eq(trace_check_at(a, i)->text, trace_check_at(b, i)->text);
}

/* A unit's compact fields at their edges: hops past what the unit holds
 * itself (254, 300, -5) next to the largest it does (253); a unit's only
 * recipient becoming several (matched without regard to case); a queue id
 * of 8 octets or more (kept apart) found again by later records. */
START_TEST(compact_units) {
  static const char *const lines[] = {
      "{\"t\":1,\"id\":1,\"ev\":\"msg.relay\",\"from\":\"a\",\"to\":\"mx\",\"msg\":\"h253@x\","
      "\"queue_id\":\"Q1\",\"rcpts\":[\"u@d\"],\"hop\":253}",
      "{\"t\":1,\"id\":2,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"h253@x\",\"queue_id\":\"Q1\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"max_hops\":252}",
      "{\"t\":1,\"id\":3,\"ev\":\"msg.relay\",\"from\":\"a\",\"to\":\"mx\",\"msg\":\"h254@x\","
      "\"queue_id\":\"Q2\",\"rcpts\":[\"u@d\"],\"hop\":254}",
      "{\"t\":1,\"id\":4,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"h254@x\",\"queue_id\":\"Q2\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"max_hops\":252}",
      "{\"t\":1,\"id\":5,\"ev\":\"msg.relay\",\"from\":\"a\",\"to\":\"mx\",\"msg\":\"h300@x\","
      "\"queue_id\":\"Q3\",\"rcpts\":[\"u@d\"],\"hop\":300}",
      "{\"t\":1,\"id\":6,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"h300@x\",\"queue_id\":\"Q3\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"max_hops\":299}",
      "{\"t\":1,\"id\":7,\"ev\":\"msg.relay\",\"from\":\"a\",\"to\":\"mx\",\"msg\":\"hneg@x\","
      "\"queue_id\":\"Q4\",\"rcpts\":[\"u@d\"],\"hop\":-5}",
      "{\"t\":1,\"id\":8,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"hneg@x\",\"queue_id\":\"Q4\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"max_hops\":0}",
      /* one recipient, then three: B@d is b@d; then b passed on, a stored */
      "{\"t\":2,\"id\":9,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"sub\",\"msg\":\"r@x\","
      "\"queue_id\":\"LONGQUEUEID01\",\"rcpts\":[\"a@d\"]}",
      "{\"t\":2,\"id\":10,\"ev\":\"msg.queue\",\"node\":\"sub\",\"msg\":\"r@x\","
      "\"queue_id\":\"LONGQUEUEID01\",\"rcpts\":[\"a@d\",\"B@d\",\"c@d\"],\"sender\":\"s@x\","
      "\"lifetime\":10}",
      "{\"t\":3,\"id\":11,\"ev\":\"msg.relay\",\"from\":\"sub\",\"to\":\"mx2\",\"msg\":\"r@x\","
      "\"queue_id\":\"000001\",\"rcpts\":[\"b@d\"],\"hop\":1}",
      "{\"t\":4,\"id\":12,\"ev\":\"msg.deliver\",\"node\":\"sub\",\"msg\":\"r@x\",\"rcpt\":\"A@d\","
      "\"mailbox\":\"a@d\",\"folder\":\"INBOX\"}",
      "{\"t\":20,\"id\":13,\"ev\":\"msg.defer\",\"node\":\"sub\",\"msg\":\"r@x\","
      "\"queue_id\":\"LONGQUEUEID01\",\"rcpt\":\"c@d\"}",
      "{\"t\":21,\"id\":14,\"ev\":\"msg.expire\",\"node\":\"sub\",\"msg\":\"r@x\","
      "\"queue_id\":\"LONGQUEUEID01\"}",
      NULL};
  static const struct {
    trace_check_invariant inv;
    const char *text;
  } want[] = {
      {TRACE_CHECK_HOP_LIMIT, "with 253 Received fields, over its limit of 252"},
      {TRACE_CHECK_HOP_LIMIT, "with 254 Received fields, over its limit of 252"},
      {TRACE_CHECK_HOP_LIMIT, "with 300 Received fields, over its limit of 299"},
      {TRACE_CHECK_LIFETIME, "queue LONGQUEUEID01, accepted at event 9): deferred again (event 13)"},
      {TRACE_CHECK_NO_LOSS, "recipient(s) c@d: accepted by sub (event 9, queue LONGQUEUEID01), then "
                            "left its queue (event 14)"},
  };
  trace_check *tc = trace_check_new();
  trace_check *tree = feed_both(tc, lines);
  ck_assert_uint_eq(trace_check_accepted(tc), 6);
  ck_assert_uint_eq(trace_check_count(tc), G_N_ELEMENTS(want));
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    const trace_check_violation *v = trace_check_at(tc, i);
    ck_assert_msg(v->inv == want[i].inv && strstr(v->text, want[i].text),
                  "violation %zu: got %s, want %s ... %s", i, v->text,
                  trace_check_invariant_name(want[i].inv), want[i].text);
  }
  assert_same(tc, tree);
  trace_check_free(tree);
  trace_check_free(tc);
}
END_TEST

/* trace_check_end_queue names what each node holds at the end, before or
 * after the entries were seen: a held entry is still queued, one not held
 * was lost. */
START_TEST(end_queue_before_and_after) {
  static const char *const first[] = {
      "{\"t\":1,\"id\":1,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"mx\",\"msg\":\"m1@x\","
      "\"queue_id\":\"A1\",\"rcpts\":[\"u@d\"]}",
      "{\"t\":1,\"id\":2,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m1@x\",\"queue_id\":\"A1\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\"}",
      "{\"t\":1,\"id\":3,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"mx\",\"msg\":\"m2@x\","
      "\"queue_id\":\"A2\",\"rcpts\":[\"u@d\"]}",
      "{\"t\":1,\"id\":4,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m2@x\",\"queue_id\":\"A2\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\"}",
      NULL};
  static const char *const later[] = {
      "{\"t\":2,\"id\":5,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"mx\",\"msg\":\"m3@x\","
      "\"queue_id\":\"LATE-QUEUE-ID\",\"rcpts\":[\"u@d\"]}",
      "{\"t\":2,\"id\":6,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m3@x\","
      "\"queue_id\":\"LATE-QUEUE-ID\",\"rcpts\":[\"u@d\"],\"sender\":\"s@x\"}",
      "{\"t\":2,\"id\":7,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"mx\",\"msg\":\"m4@x\","
      "\"queue_id\":\"A4\",\"rcpts\":[\"u@d\"]}",
      "{\"t\":2,\"id\":8,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m4@x\",\"queue_id\":\"A4\","
      "\"rcpts\":[\"u@d\"],\"sender\":\"s@x\"}",
      NULL};
  trace_check *tc = trace_check_new();
  trace_check *t1 = feed_both(tc, first);
  static const char *const held[] = {"A1", "LATE-QUEUE-ID"};
  trace_check_end_queue(tc, "mx", held, 2);
  trace_check_end_queue(t1, "mx", held, 2);
  for (const char *const *l = later; *l; l++) {
    trace_check_feed_line(tc, *l, strlen(*l));
    trace_check_feed_line(t1, *l, strlen(*l));
  }
  trace_check_finish(tc, 3);
  trace_check_finish(t1, 3);
  ck_assert_uint_eq(trace_check_count(tc), 2);
  ck_assert_msg(strstr(trace_check_at(tc, 0)->text, "message m2@x") &&
                    strstr(trace_check_at(tc, 0)->text, "not in its queue at the end"),
                "got %s", trace_check_at(tc, 0)->text);
  ck_assert_msg(strstr(trace_check_at(tc, 1)->text, "message m4@x") &&
                    strstr(trace_check_at(tc, 1)->text, "not in its queue at the end"),
                "got %s", trace_check_at(tc, 1)->text);
  assert_same(tc, t1);
  trace_check_free(t1);
  trace_check_free(tc);
}
END_TEST

/* Event ids of 2^31 and more (kept apart from the units): reported whole,
 * and compared whole when a relay's credit moves between two copies (a
 * relay after the second copy was accepted, its id past 2^32 where the
 * copy's is below). */
START_TEST(wide_event_ids) {
  static const char *const lines[] = {
      "{\"t\":1,\"id\":2147483647,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"S\","
      "\"msg\":\"m@x\",\"queue_id\":\"Q1\",\"rcpts\":[\"b@d\"]}",
      "{\"t\":1,\"id\":2147483648,\"ev\":\"msg.queue\",\"node\":\"S\",\"msg\":\"m@x\","
      "\"queue_id\":\"Q1\",\"rcpts\":[\"b@d\"],\"sender\":\"s@x\"}",
      "{\"t\":2,\"id\":4294967295,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"S\","
      "\"msg\":\"m@x\",\"queue_id\":\"Q2\",\"rcpts\":[\"b@d\"]}",
      "{\"t\":2,\"id\":4294967296,\"ev\":\"msg.queue\",\"node\":\"S\",\"msg\":\"m@x\","
      "\"queue_id\":\"Q2\",\"rcpts\":[\"b@d\"],\"sender\":\"s@x\"}",
      "{\"t\":3,\"id\":4294967297,\"ev\":\"msg.relay\",\"from\":\"S\",\"to\":\"M\","
      "\"msg\":\"m@x\",\"queue_id\":\"R1\",\"rcpts\":[\"b@d\"],\"hop\":1}",
      "{\"t\":4,\"id\":4294967298,\"ev\":\"msg.expire\",\"node\":\"S\",\"msg\":\"m@x\","
      "\"queue_id\":\"Q2\"}",
      "{\"t\":5,\"id\":5000000000,\"ev\":\"msg.expire\",\"node\":\"S\",\"msg\":\"m@x\","
      "\"queue_id\":\"Q1\"}",
      NULL};
  static const char *const want[] = {
      "no-loss: message m@x, recipient(s) b@d: accepted by S (event 2147483647, queue Q1), then "
      "left its queue (event 5000000000) neither passed on, stored nor bounced",
      "no-loss: message m@x, recipient(s) b@d: accepted by M (event 4294967297, queue R1), never "
      "queued, passed on, stored or bounced",
  };
  trace_check *tc = trace_check_new();
  trace_check *tree = feed_both(tc, lines);
  trace_check_finish(tc, 10);
  trace_check_finish(tree, 10);
  ck_assert_uint_eq(trace_check_count(tc), G_N_ELEMENTS(want));
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    ck_assert_str_eq(trace_check_at(tc, i)->text, want[i]);
  ck_assert_uint_eq(trace_check_at(tc, 0)->ids[1], UINT64_C(5000000000));
  assert_same(tc, tree);
  trace_check_free(tree);
  trace_check_free(tc);
}
END_TEST

static void feed_fmt(trace_check *tc, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void feed_fmt(trace_check *tc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  trace_check_feed_line(tc, line, strlen(line));
  g_free(line);
}

/* More distinct queue policies than a unit holds itself (300, from 255 on
 * kept apart): each unit's own lifetime decides, to the nanosecond. */
START_TEST(many_policies) {
  enum { N = 300 };
  trace_check *tc = trace_check_new();
  for (int i = 0; i < N; i++) {
    feed_fmt(tc,
             "{\"t\":0,\"id\":%d,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m%d@x\","
             "\"queue_id\":\"%06X\",\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"lifetime\":%d}",
             i + 1, i, i, (i + 1) * 1000);
  }
  for (int i = 0; i < N; i++) /* at its lifetime: not over it */
    feed_fmt(tc,
             "{\"t\":%d,\"id\":%d,\"ev\":\"msg.defer\",\"node\":\"mx\",\"msg\":\"m%d@x\","
             "\"queue_id\":\"%06X\",\"rcpt\":\"u@d\"}",
             (i + 1) * 1000, 1000 + i, i, i);
  ck_assert_uint_eq(trace_check_count(tc), 0);
  for (int i = 0; i < N; i++) /* a nanosecond over it */
    feed_fmt(tc,
             "{\"t\":%d,\"id\":%d,\"ev\":\"msg.defer\",\"node\":\"mx\",\"msg\":\"m%d@x\","
             "\"queue_id\":\"%06X\",\"rcpt\":\"u@d\"}",
             (i + 1) * 1000 + 1, 2000 + i, i, i);
  ck_assert_uint_eq(trace_check_count(tc), N);
  for (int i = 0; i < N; i++) {
    const trace_check_violation *v = trace_check_at(tc, (size_t)i);
    ck_assert_msg(v->inv == TRACE_CHECK_LIFETIME && v->nids == 2 && v->ids[0] == (uint64_t)i + 1 &&
                      v->ids[1] == (uint64_t)2000 + (uint64_t)i,
                  "violation %d: got %s", i, v->text);
  }
  trace_check_free(tc);
}
END_TEST

/* More nodes than a unit names itself (65,540, from 65,535 on kept
 * apart), every one with a queue entry "Q": lookups by node and queue id
 * and by message at a node find each its own (the first node and the
 * last two hold the same message). */
static const char *many_nodes_msg(int i, int n, char buf[32]) {
  if (i == 0 || i >= n - 2)
    return "shared@x";
  g_snprintf(buf, 32, "m%d@x", i);
  return buf;
}

START_TEST(many_nodes) {
  enum { N = 65540 };
  trace_check *tc = trace_check_new();
  char b[32];
  for (int i = 0; i < N; i++)
    feed_fmt(tc,
             "{\"t\":0,\"id\":%d,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"n%d\","
             "\"msg\":\"%s\",\"queue_id\":\"Q\",\"rcpts\":[\"u@d\"]}",
             i + 1, i, many_nodes_msg(i, N, b));
  /* the last node passes its entry on; the one before leaves with it open */
  feed_fmt(tc,
           "{\"t\":1,\"id\":%d,\"ev\":\"msg.relay\",\"from\":\"n%d\",\"to\":\"far\","
           "\"msg\":\"shared@x\",\"queue_id\":\"R\",\"rcpts\":[\"u@d\"]}",
           N + 1, N - 1);
  feed_fmt(tc,
           "{\"t\":2,\"id\":%d,\"ev\":\"msg.expire\",\"node\":\"n%d\",\"msg\":\"shared@x\","
           "\"queue_id\":\"Q\"}",
           N + 2, N - 1);
  feed_fmt(tc,
           "{\"t\":3,\"id\":%d,\"ev\":\"msg.expire\",\"node\":\"n%d\",\"msg\":\"shared@x\","
           "\"queue_id\":\"Q\"}",
           N + 3, N - 2);
  ck_assert_uint_eq(trace_check_count(tc), 1);
  char want[128];
  g_snprintf(want, sizeof want, "accepted by n%d (event %d, queue Q), then left its queue (event %d)",
             N - 2, N - 1, N + 3);
  ck_assert_msg(strstr(trace_check_at(tc, 0)->text, want), "got %s, want %s",
                trace_check_at(tc, 0)->text, want);
  ck_assert_uint_eq(trace_check_accepted(tc), N + 1);
  trace_check_free(tc);
}
END_TEST

/* Queue ids around what a unit holds itself (7 octets): 7, 8, a prefix
 * of them, empty; each found as itself only. */
START_TEST(queue_id_lengths) {
  static const char *const qids[] = {"ABCDEFG", "ABCDEFGH", "ABC", "ABCDEFGHIJKLMNOP", ""};
  trace_check *tc = trace_check_new();
  for (size_t i = 0; i < G_N_ELEMENTS(qids); i++)
    feed_fmt(tc,
             "{\"t\":0,\"id\":%zu,\"ev\":\"msg.queue\",\"node\":\"mx\",\"msg\":\"m%zu@x\","
             "\"queue_id\":\"%s\",\"rcpts\":[\"u@d\"],\"sender\":\"s@x\",\"lifetime\":10}",
             i + 1, i, qids[i]);
  for (size_t i = G_N_ELEMENTS(qids); i-- > 0;) /* the empty one is a mail client's: skipped */
    feed_fmt(tc,
             "{\"t\":20,\"id\":%zu,\"ev\":\"msg.defer\",\"node\":\"mx\",\"msg\":\"m%zu@x\","
             "\"queue_id\":\"%s\",\"rcpt\":\"u@d\"}",
             100 + i, i, qids[i]);
  ck_assert_uint_eq(trace_check_count(tc), G_N_ELEMENTS(qids) - 1);
  for (size_t k = 0; k < G_N_ELEMENTS(qids) - 1; k++) {
    size_t i = G_N_ELEMENTS(qids) - 2 - k;
    char want[96];
    g_snprintf(want, sizeof want, "message m%zu@x at mx (queue %s, accepted at event %zu)", i,
               qids[i], i + 1);
    ck_assert_msg(strstr(trace_check_at(tc, k)->text, want), "got %s, want %s",
                  trace_check_at(tc, k)->text, want);
  }
  trace_check_finish(tc, 30);
  ck_assert_uint_eq(trace_check_accepted(tc), G_N_ELEMENTS(qids));
  trace_check_free(tc);
}
END_TEST

/* Message ids of every shape the checker's packed form has to give back
 * exactly and keep apart: hex runs of 3, 4, 5, 127, 128 and 300 digits,
 * upper-case hex, zeros, octets of UTF-8, empty, ids that differ in one
 * digit of a long run or in its length. Each is accepted at S, passed on
 * by a relay naming it (found by message id), leaves S (nothing lost),
 * and is reported by name at T, where it was never queued. */
START_TEST(message_id_shapes) {
  char *h127 = g_strnfill(127, 'a'), *h128 = g_strnfill(128, '0'), *h300 = g_strnfill(300, 'f');
  char *near300 = g_strdup(h300);
  near300[299] = 'e';
  char *ids[] = {
      g_strdup("m840.cfe8e471fc2634b4@d66.test"),
      g_strdup("m840.cfe8e471fc2634b5@d66.test"),
      g_strdup("abc@x"),
      g_strdup("abcd@x"),
      g_strdup("abcde@x"),
      g_strdup("ABCDEF0123@X"),
      g_strdup("0000@x"),
      g_strdup("\u00e9t\u00e9-caf\u00e9@x"),
      g_strdup(""),
      g_strdup_printf("%s@x", h127),
      g_strdup_printf("%s@x", h128),
      g_strdup_printf("%s0@x", h128),
      g_strdup_printf("%s@x", h300),
      g_strdup_printf("%s@x", near300),
      g_strdup("8f3a5a3e-1c2b-4d5e-9f8a-1234567890ab@example.com"),
  };
  enum { N = G_N_ELEMENTS(ids) };
  trace_check *tc = trace_check_new();
  int id = 1;
  for (int i = 0; i < N; i++)
    feed_fmt(tc,
             "{\"t\":0,\"id\":%d,\"ev\":\"msg.submit\",\"from\":\"c\",\"to\":\"S\",\"msg\":\"%s\","
             "\"queue_id\":\"%d\",\"rcpts\":[\"u@d\"]}",
             id++, ids[i], i);
  for (int i = 0; i < N; i++) {
    feed_fmt(tc,
             "{\"t\":1,\"id\":%d,\"ev\":\"msg.relay\",\"from\":\"S\",\"to\":\"T\",\"msg\":\"%s\","
             "\"queue_id\":\"R%d\",\"rcpts\":[\"u@d\"]}",
             id++, ids[i], i);
    feed_fmt(tc,
             "{\"t\":2,\"id\":%d,\"ev\":\"msg.expire\",\"node\":\"S\",\"msg\":\"%s\","
             "\"queue_id\":\"%d\"}",
             id++, ids[i], i);
  }
  trace_check_finish(tc, 3);
  ck_assert_uint_eq(trace_check_count(tc), N);
  for (int i = 0; i < N; i++) {
    const trace_check_violation *v = trace_check_at(tc, (size_t)i);
    char *lit = g_strdup_printf("\"%s\"", ids[i]);
    cJSON *str = cJSON_Parse(lit); /* the id as the record meant it (\u escapes) */
    char *want_id = g_strdup(cJSON_GetStringValue(str));
    cJSON_Delete(str);
    g_free(lit);
    char *want = g_strdup_printf("no-loss: message %s, recipient(s) u@d: accepted by T (event %d, "
                                 "queue R%d), never queued",
                                 want_id, N + 1 + 2 * i, i);
    ck_assert_msg(g_str_has_prefix(v->text, want), "id %d: got %s, want %s...", i, v->text, want);
    ck_assert_str_eq(v->msg, want_id);
    g_free(want);
    g_free(want_id);
  }
  trace_check_free(tc);
  for (int i = 0; i < N; i++)
    g_free(ids[i]);
  g_free(near300);
  g_free(h300);
  g_free(h128);
  g_free(h127);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_check");
  TCase *tc = tcase_create("agree");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, examples_agree, 0, G_N_ELEMENTS(examples));
  suite_add_tcase(s, tc);
  tc = tcase_create("broken");
  tcase_set_timeout(tc, 300);
  tcase_add_loop_test(tc, broken_traces, 0, G_N_ELEMENTS(broken_rows));
  tcase_add_test(tc, delivery_after_bounce);
  tcase_add_test(tc, liveness);
  tcase_add_test(tc, liveness_skipped);
  tcase_add_test(tc, liveness_window_faults);
  tcase_add_test(tc, delivery_after_bounce_cut);
  tcase_add_test(tc, duplicate_copies_not_lost);
  tcase_add_test(tc, open_entries_in_order);
  tcase_add_test(tc, compact_units);
  tcase_add_test(tc, end_queue_before_and_after);
  tcase_add_test(tc, wide_event_ids);
  tcase_add_test(tc, many_policies);
  tcase_add_test(tc, many_nodes);
  tcase_add_test(tc, queue_id_lengths);
  tcase_add_test(tc, message_id_shapes);
  tcase_add_test(tc, truncated);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
