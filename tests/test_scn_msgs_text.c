/* test_scn_msgs_text.c — the loader's fast path for the messages
 * (scenarios/scn_msgs_text.c, scn.c): what it takes, what it leaves to
 * the general path, and that scn_parse loads and refuses exactly what the
 * general path does, with the same words. */
#include <check.h>
#include <string.h>

#include "scn.h"
#include "scn_int.h"
#include "scn_msgs_text.h"
#include "testutil.h"

/* A canonical text of what a config holds of the file: the counts of its
 * parts and every field of every message. */
static void list_into(GString *d, const char *name, const GPtrArray *l) {
  g_string_append_printf(d, " %s[", name);
  for (guint i = 0; l && i < l->len; i++)
    g_string_append_printf(d, "%s<%s>", i ? "," : "", (const char *)l->pdata[i]);
  g_string_append(d, "]");
}

static char *describe(const scn_config *c) {
  GString *d = g_string_new(NULL);
  g_string_append_printf(d,
                         "name=%s seed=%" G_GUINT64_FORMAT " hosts=%u links=%u zones=%u users=%u "
                         "traffic=%u faults=%u messages=%zu\n",
                         c->name, (guint64)c->seed, c->hosts->len, c->links->len, c->zones->len,
                         c->users->len, c->traffic->len, c->faults->len,
                         scn_msgs_count(c->messages));
  for (size_t i = 0; i < scn_msgs_count(c->messages); i++) {
    const scn_message *m = scn_msgs_at(c->messages, i);
    g_string_append_printf(d, "%zu id<%s> from<%s> at=%" G_GINT64_FORMAT, i, m->id, m->from,
                           (gint64)m->at);
    list_into(d, "to", m->to);
    list_into(d, "cc", m->cc);
    list_into(d, "bcc", m->bcc);
    g_string_append_printf(d, " subject<%s> text<%s> html<%s> attachments=%u\n",
                           m->subject ? m->subject : "(null)", m->text ? m->text : "(null)",
                           m->html ? m->html : "(null)", m->attachments ? m->attachments->len : 99);
  }
  return g_string_free(d, FALSE);
}

/* What loading TEXT gives: the description, or "error: " and the message. */
static char *outcome(scn_config *c, GError *err) {
  if (!c) {
    char *r = g_strdup_printf("error: %s", err->message);
    g_error_free(err);
    return r;
  }
  char *r = describe(c);
  scn_config_free(c);
  return r;
}

/* Loads TEXT both ways and fails unless the outcomes are the same; returns
 * whether the fast reader took the messages. */
static bool same_both_ways(const char *text, size_t len) {
  GError *e1 = NULL, *e2 = NULL;
  scn_config *c1 = scn_parse("t.json", text, len, &e1);
  char *fast = outcome(c1, e1);
  scn_config *c2 = scn__parse_general("t.json", text, len, &e2);
  char *gen = outcome(c2, e2);
  ck_assert_msg(strcmp(fast, gen) == 0,
                "scn_parse got:\n%.900s\nthe general path (want):\n%.900s\ntext:\n%.*s", fast, gen,
                (int)MIN(len, 1500), text);
  g_free(fast);
  g_free(gen);
  size_t a, b;
  scn_msgs *m = scn_msgs_text_read(text, len, &a, &b);
  scn_msgs_free(m);
  return m != NULL;
}

/* A small world: one MX and its mailbox, a client, two users. MSGS is the
 * text of the "messages" value. */
static char *world(const char *msgs) {
  return g_strdup_printf(
      "{\"name\":\"t\",\"seed\":7,\n"
      "\"hosts\":[{\"name\":\"r\",\"role\":\"dns\",\"addrs\":[\"10.0.0.1\"],\"zones\":[\".\"]},\n"
      " {\"name\":\"res\",\"role\":\"resolver\",\"addrs\":[\"10.0.0.2\"]},\n"
      " {\"name\":\"mx\",\"role\":\"mta\",\"addrs\":[\"10.0.0.3\"],\"resolver\":\"res\","
      "\"mta\":{\"domains\":[\"a.test\"],\"submission\":true,\"mailbox_host\":\"mb\"}},\n"
      " {\"name\":\"mb\",\"role\":\"mailbox\",\"addrs\":[\"10.0.0.4\"],\"mailbox\":{\"domains\":["
      "\"a.test\"]}},\n"
      " {\"name\":\"pc\",\"role\":\"mua\",\"addrs\":[\"10.0.0.5\"],\"resolver\":\"res\"}],\n"
      "\"zones\":[{\"origin\":\".\",\"records\":[\"@ 60 IN NS r.\",\"r. 60 IN A 10.0.0.1\"]}],\n"
      "\"users\":[{\"address\":\"u1@a.test\",\"client\":\"pc\",\"submit\":\"mx\",\"mailbox\":"
      "\"mb\"},\n"
      " {\"address\":\"u2@a.test\",\"client\":\"pc\",\"submit\":\"mx\",\"mailbox\":\"mb\"}],\n"
      "\"messages\":%s,\n"
      "\"duration\":\"1m\"}\n",
      msgs);
}

/* Messages of every shape the fast reader takes. */
static const char *const taken[] = {
    "[]",
    " [ ] ",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]}]",
    ("[{\"id\":\"m1\",\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":\"Hi\",\"text\":"
     "\"T\\n\","
     "\"at\":\"5ms\"}]"),
    ("[\n {\n  \"id\" : \"x\" ,\r\n\t\"from\": \"u1@a.test\", \"cc\": [ \"u2@a.test\" , "
     "\"u1@a.test\" ],"
     " \"bcc\": [], \"to\": [], \"html\": \"<p>\\\"q\\\" \\\\ \\/ \\b\\f\\r\\t</p>\","
     " \"attachments\": [ ], \"at\": \"1.5s\"}\n]"),
    ("[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"text\":\"\",\"html\":\"h\"},"
     "{\"from\":\"u2@a.test\",\"to\":[\"U1@A.test\"],\"subject\":\"\xc3\xa9t\xc3\xa9 \xff\"},"
     "{\"from\":\"u2@a.test\",\"bcc\":[\"u1@a.test\",\"u2@a.test\",\"u1@a.test\"],\"at\":\"1h\"}]"),
    /* the default ids m1, m2 beside given ones that do not meet them */
    ("[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},{\"id\":\"m9\",\"from\":\"u1@a.test\","
     "\"to\":[\"u2@a.test\"]},{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]}]"),
};

START_TEST(takes_the_usual_shapes) {
  char *text = world(taken[_i]);
  ck_assert_msg(same_both_ways(text, strlen(text)), "row %d: the fast reader gave up", _i);
  GError *err = NULL;
  scn_config *c = scn_parse("t.json", text, strlen(text), &err);
  ck_assert_msg(c != NULL, "row %d: %s", _i, err ? err->message : "");
  scn_config_free(c);
  g_free(text);
}
END_TEST

/* Messages the fast reader leaves to the general path (which loads some
 * and refuses others: either way the same as before). */
static const char *const left[] = {
    "null",
    "{}",
    "[1]",
    "[{}]",
    "[{\"from\":\"u1@a.test\"}]",                                  /* no recipient */
    "[{\"from\":\"u1@a.test\",\"to\":[]}]",                        /* no recipient */
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2\"]}]",                  /* not an address */
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"to\":[]}]", /* a key twice */
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"cc\":\"u1@a.test\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"x\":1}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":\"\\u00e9\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":\"a\\qb\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":\"a\tb\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":1}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"subject\":null}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"at\":\"5\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"at\":5}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"at\":\"-5ms\"}]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],\"attachments\":[{\"name\":\"a\",\"size\":1}]}"
    "]",
    "[{\"fr\\u006fm\":\"u1@a.test\",\"to\":[\"u2@a.test\"]}]",
    ("[{\"id\":\"m2\",\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},{\"from\":\"u1@a.test\","
     "\"to\":[\"u2@a.test\"]}]"), /* the default id m2 taken */
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},]",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]}",
    "[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]}\x01]",
    "[{\"from\":\"nobody@a.test\",\"to\":[\"u2@a.test\"]}]", /* read, then refused by the check */
};

START_TEST(leaves_the_rest) {
  char *text = world(left[_i]);
  same_both_ways(text, strlen(text));
  size_t a, b;
  scn_msgs *m = scn_msgs_text_read(text, strlen(text), &a, &b);
  bool last = _i == (int)G_N_ELEMENTS(left) - 1; /* read, but the world refuses the sender */
  ck_assert_msg((m != NULL) == last, "row %d: got %s, want %s", _i, m ? "taken" : "left",
                last ? "taken" : "left");
  scn_msgs_free(m);
  g_free(text);
}
END_TEST

/* Roots the fast reader does not look into: the general path's. */
static const char *const roots[] = {
    "",
    "[]",
    "\xef\xbb\xbf{\"name\":\"t\",\"hosts\":[],\"messages\":[]}",
    "{\"name\":\"t\",\"messages\":[],\"messages\":[]}",
    "{\"name\":\"t\",\"mess\\u0061ges\":[]}",
    "{\"name\":\"t\",\"hosts\":[\"a\" \"b\"],\"messages\":[]", /* no end: the skim finds no '}' */
    "{\"name\":\"t\"}",
    "{\"name\":\"t\",\x01\"messages\":[]}",
};

START_TEST(leaves_other_roots) {
  size_t a = 0, b = 0;
  scn_msgs *m = scn_msgs_text_read(roots[_i], strlen(roots[_i]), &a, &b);
  ck_assert_msg(m == NULL, "row %d: got taken, want left", _i);
  same_both_ways(roots[_i], strlen(roots[_i]));
}
END_TEST

/* Senders named again (the same text, another case) are the same user;
 * an unknown one is refused at its own message's path. */
START_TEST(senders_checked_per_message) {
  char *ok = world("[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},"
                   "{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},"
                   "{\"from\":\"U1@A.TEST\",\"to\":[\"u2@a.test\"]}]");
  GError *err = NULL;
  scn_config *c = scn_parse("t.json", ok, strlen(ok), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  scn_config_free(c);
  char *bad = world("[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},"
                    "{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"]},"
                    "{\"from\":\"u3@a.test\",\"to\":[\"u2@a.test\"]},"
                    "{\"from\":\"u3@a.test\",\"to\":[\"u2@a.test\"]}]");
  c = scn_parse("t.json", bad, strlen(bad), &err);
  ck_assert_ptr_null(c);
  ck_assert_str_eq(err->message,
                   "t.json: $.messages[2]: \"from\": no user \"u3@a.test\" in $.users");
  g_error_free(err);
  g_free(ok);
  g_free(bad);
}
END_TEST

/* The array's offsets, with values of every kind before it and after it. */
START_TEST(finds_the_array) {
  const char *text = "{\"a\":{\"b\":[1,{\"c\":\"]}\\\"\"}]},\"n\":-1.5e3,\"t\":true,\"z\":null,"
                     "\"s\":\"x\\\\\",\"messages\" : [{\"from\":\"u@a.b\",\"to\":[\"v@a.b\"]}] ,"
                     "\"after\":[]}";
  size_t a = 0, b = 0;
  scn_msgs *m = scn_msgs_text_read(text, strlen(text), &a, &b);
  ck_assert_ptr_nonnull(m);
  const char *want = strstr(text, "[{\"from");
  ck_assert_uint_eq(a, (size_t)(want - text));
  ck_assert_uint_eq(b, (size_t)(strstr(text, " ,\"after") - text));
  ck_assert_uint_eq(scn_msgs_count(m), 1);
  ck_assert_str_eq(scn_msgs_at(m, 0)->id, "m1");
  scn_msgs_free(m);
}
END_TEST

/* The text of a world whose messages have every shape, changed at every
 * octet (each octet deleted, or replaced by one that matters to JSON),
 * loads or is refused the same both ways. */
START_TEST(every_edit_same_both_ways) {
  char *text = world(taken[5]);
  size_t len = strlen(text), from = 0, to = len;
  static const char repl[] = {'"', '\\', ',', ':', '[', ']', '{', '}', ' ', 'x', '@', '\x01'};
  char *buf = g_malloc(len + 1);
  unsigned fast = 0, slow = 0;
  for (size_t i = from; i < to; i++) {
    for (size_t r = 0; r <= G_N_ELEMENTS(repl); r++) {
      size_t n;
      if (r == G_N_ELEMENTS(repl)) { /* deleted */
        memcpy(buf, text, i);
        memcpy(buf + i, text + i + 1, len - i - 1);
        n = len - 1;
      } else {
        if (text[i] == repl[r])
          continue;
        memcpy(buf, text, len);
        buf[i] = repl[r];
        n = len;
      }
      if (same_both_ways(buf, n))
        fast++;
      else
        slow++;
    }
  }
  /* both paths met: the test says something about each */
  ck_assert_msg(fast > 100 && slow > 1000, "got %u edits taken, %u left", fast, slow);
  g_free(buf);
  g_free(text);
}
END_TEST

/* Strings longer than a 16-octet step, with an escape, a control octet or
 * a quote at every offset, in a message and before the array. */
START_TEST(long_strings) {
  static const char *const marks[] = {"\\n",     "\\\"", "\\\\",     "\t", "\x01",
                                      "\\u0041", "\\x",  "\xc3\xa9", "\""};
  unsigned fast = 0;
  for (size_t m = 0; m < G_N_ELEMENTS(marks); m++) {
    for (size_t at = 0; at <= 40; at++) {
      GString *subj = g_string_new(NULL);
      for (size_t k = 0; k < 40; k++) {
        if (k == at)
          g_string_append(subj, marks[m]);
        g_string_append_c(subj, (char)('a' + k % 26));
      }
      char *msgs = g_strdup_printf("[{\"from\":\"u1@a.test\",\"to\":[\"u2@a.test\"],"
                                   "\"subject\":\"%s\",\"text\":\"%s%s\"}]",
                                   subj->str, subj->str, subj->str);
      char *text = world(msgs);
      fast += same_both_ways(text, strlen(text));
      /* and in the description, which the reader skips */
      char *host = g_strdup_printf("{\"description\":\"%s\",%s", subj->str, text + 1);
      fast += same_both_ways(host, strlen(host));
      g_free(host);
      g_free(text);
      g_free(msgs);
      g_string_free(subj, TRUE);
    }
  }
  ck_assert_uint_ge(fast, 4 * 41 * 2); /* the escapes and UTF-8 taken */
}
END_TEST

/* Seeded random edits (1 to 4 octets inserted, deleted or replaced, from
 * an alphabet heavy in JSON's marks) of worlds with messages of every
 * shape: the same both ways. */
START_TEST(random_edits_same_both_ways) {
  static const char alphabet[] = "\"\"\"\\\\,,::[[]]{{}}  \n\t\x01\x7f\xc3\xa9@.amu0159-/ntbfr";
  GRand *rng = g_rand_new_with_seed(20261127);
  unsigned fast = 0, slow = 0;
  for (int round = 0; round < 3000; round++) {
    char *text = world(taken[(size_t)round % G_N_ELEMENTS(taken)]);
    GString *t = g_string_new(text);
    g_free(text);
    int edits = g_rand_int_range(rng, 1, 5);
    for (int k = 0; k < edits; k++) {
      gsize at = (gsize)g_rand_int_range(rng, 0, (gint32)t->len);
      char c = alphabet[g_rand_int_range(rng, 0, (gint32)sizeof alphabet - 1)];
      switch (g_rand_int_range(rng, 0, 3)) {
      case 0:
        g_string_insert_c(t, (gssize)at, c);
        break;
      case 1:
        g_string_erase(t, (gssize)at, 1);
        break;
      default:
        t->str[at] = c;
        break;
      }
    }
    if (same_both_ways(t->str, t->len))
      fast++;
    else
      slow++;
    g_string_free(t, TRUE);
  }
  g_rand_free(rng);
  ck_assert_msg(fast > 100 && slow > 100, "got %u edits taken, %u left", fast, slow);
}
END_TEST

/* The example scenarios load the same both ways. */
START_TEST(examples_same_both_ways) {
  static const char *const files[] = {"journey.json",
                                      "load.json",
                                      "spam.json",
                                      "greylist-study.json",
                                      "faults/relay-crash.json",
                                      "pop3-vs-imap.json"};
  unsigned fast = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *rel = g_strdup_printf("scenarios/%s", files[i]);
    char *path = testutil_src_path(rel);
    char *text = NULL;
    gsize len = 0;
    ck_assert(g_file_get_contents(path, &text, &len, NULL));
    fast += same_both_ways(text, len);
    g_free(text);
    g_free(path);
    g_free(rel);
  }
  ck_assert_uint_ge(fast, 4); /* load.json among them */
}
END_TEST

int main(void) {
  Suite *s = suite_create("scn_msgs_text");
  TCase *tc = tcase_create("shapes");
  tcase_add_loop_test(tc, takes_the_usual_shapes, 0, G_N_ELEMENTS(taken));
  tcase_add_loop_test(tc, leaves_the_rest, 0, G_N_ELEMENTS(left));
  tcase_add_loop_test(tc, leaves_other_roots, 0, G_N_ELEMENTS(roots));
  tcase_add_test(tc, finds_the_array);
  tcase_add_test(tc, senders_checked_per_message);
  suite_add_tcase(s, tc);
  TCase *te = tcase_create("edits");
  tcase_set_timeout(te, 300);
  tcase_add_test(te, every_edit_same_both_ways);
  tcase_add_test(te, long_strings);
  tcase_add_test(te, random_edits_same_both_ways);
  tcase_add_test(te, examples_same_both_ways);
  suite_add_tcase(s, te);
  return testutil_run(s);
}
