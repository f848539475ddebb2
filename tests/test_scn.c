/* Tests for the scenario loader: units, good files, and every error naming
 * the file, the JSON path and what was expected. */
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_units.h"
#include "scn_world.h"
#include "testutil.h"

static const struct {
  const char *text;
  uint64_t want;
} sizes[] = {{"512", 512},      {"1500B", 1500},     {"64KiB", 65536},
             {"1MiB", 1048576}, {"1.5KiB", 1536},    {"10kB", 10000},
             {"2GiB", 2147483648ULL}};

START_TEST(size_good) {
  uint64_t got = 0;
  ck_assert(scn_parse_size(sizes[_i].text, &got, NULL));
  ck_assert_msg(got == sizes[_i].want, "%s: got %llu want %llu", sizes[_i].text,
                (unsigned long long)got, (unsigned long long)sizes[_i].want);
}
END_TEST

START_TEST(units_bad) {
  const char *bad_sizes[] = {"", "KiB", "1.1B", "5 MiB", "1XB", "-1B", "99999999999999TiB"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
    uint64_t v = 7;
    GError *err = NULL;
    ck_assert_msg(!scn_parse_size(bad_sizes[i], &v, &err), "%s accepted", bad_sizes[i]);
    ck_assert_ptr_nonnull(strstr(err->message, bad_sizes[i]));
    ck_assert_uint_eq(v, 7);
    g_error_free(err);
  }
  uint32_t ppm;
  ck_assert(!scn_parse_ppm("101%", &ppm, NULL));
  ck_assert(!scn_parse_ppm("0.00001%", &ppm, NULL));
  uint64_t bps;
  ck_assert(!scn_parse_bandwidth("10MB", &bps, NULL));
}
END_TEST

START_TEST(bandwidth_and_ratio) {
  uint64_t bps = 0;
  ck_assert(scn_parse_bandwidth("10Mbit", &bps, NULL));
  ck_assert_uint_eq(bps, 10000000);
  ck_assert(scn_parse_bandwidth("1.5Gbps", &bps, NULL));
  ck_assert_uint_eq(bps, 1500000000);
  uint32_t ppm = 0;
  ck_assert(scn_parse_ppm("0.5%", &ppm, NULL));
  ck_assert_uint_eq(ppm, 5000);
  ck_assert(scn_parse_ppm("0.001", &ppm, NULL));
  ck_assert_uint_eq(ppm, 1000);
  ck_assert(scn_parse_ppm("100%", &ppm, NULL));
  ck_assert_uint_eq(ppm, 1000000);
  ck_assert(scn_parse_ppm("12ppm", &ppm, NULL));
  ck_assert_uint_eq(ppm, 12);
}
END_TEST

#define GOOD                                                                                       \
  "{\"name\":\"t\",\"seed\":7,\"duration\":\"10s\",\"hosts\":["                                  \
  "{\"name\":\"a\",\"addrs\":[\"10.0.0.1\"]},{\"name\":\"b\",\"role\":\"server\","               \
  "\"addrs\":[\"10.0.0.2\",\"2001:db8::2\"],\"pos\":[3,4]}],"                                    \
  "\"links\":[{\"a\":\"a\",\"b\":\"b\",\"latency\":\"5ms\",\"bandwidth\":\"1Mbit\","             \
  "\"loss\":\"1%\",\"mtu\":1400}],"                                                              \
  "\"traffic\":[{\"kind\":\"stream\",\"from\":\"a\",\"to\":\"b\",\"port\":25,\"bytes\":\"1KiB\","\
  "\"at\":\"1s\"}],"                                                                             \
  "\"faults\":[{\"kind\":\"link_down\",\"link\":\"a-b\",\"at\":\"2s\",\"until\":\"3s\"},"        \
  "{\"kind\":\"crash\",\"host\":\"b\",\"at\":\"4s\"}]}"

START_TEST(good_scenario) {
  GError *err = NULL;
  scn_config *c = scn_parse("good.json", GOOD, strlen(GOOD), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  ck_assert_str_eq(c->name, "t");
  ck_assert_uint_eq(c->seed, 7);
  ck_assert(c->duration == 10 * SIM_S);
  ck_assert_uint_eq(c->hosts->len, 2);
  const scn_host *b = &g_array_index(c->hosts, scn_host, 1);
  ck_assert_str_eq(b->role, "server");
  ck_assert_uint_eq(b->addrs->len, 2);
  ck_assert(b->has_pos && b->x == 3 && b->y == 4);
  ck_assert_str_eq(g_array_index(c->hosts, scn_host, 0).role, "host");
  const scn_link *l = &g_array_index(c->links, scn_link, 0);
  ck_assert(l->params.latency == 5 * SIM_MS);
  ck_assert_uint_eq(l->params.bandwidth_bps, 1000000);
  ck_assert_uint_eq(l->params.loss_ppm, 10000);
  ck_assert_uint_eq(l->params.mtu, 1400);
  const scn_traffic *t = &g_array_index(c->traffic, scn_traffic, 0);
  ck_assert_uint_eq(t->bytes, 1024);
  ck_assert_uint_eq(t->port, 25);
  ck_assert(t->at == SIM_S);
  ck_assert_uint_eq(c->faults->len, 2);
  ck_assert(g_array_index(c->faults, scn_fault, 1).until == SIM_TIME_NEVER);
  ck_assert_int_eq(scn_find_host(c, "b"), 1);
  ck_assert_int_eq(scn_find_host(c, "zz"), -1);
  scn_config_free(c);
}
END_TEST


#define MAILW3(extra_hosts, extra_zones, rest)                                                     \
  "{\"name\":\"m\",\"hosts\":[{\"name\":\"res\",\"role\":\"resolver\"},"                       \
  "{\"name\":\"mta1\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"domains\":[\"example.org\"]," \
  "\"mailbox_host\":\"mbox\"}},{\"name\":\"mbox\",\"role\":\"mailbox\",\"mailbox\":{\"domains\":"  \
  "[\"example.org\"]}},{\"name\":\"pc\",\"role\":\"mua\",\"resolver\":\"res\"},"                 \
  "{\"name\":\"root\",\"role\":\"dns\",\"zones\":[\".\"]}" extra_hosts "],"                       \
  "\"zones\":[{\"origin\":\".\",\"records\":[\". 86400 IN SOA a. b. 1 2 3 4 5\","                  \
  "\". 86400 IN NS a.root.\"]}" extra_zones "]" rest "}"
#define MAILW(extra_hosts, rest) MAILW3(extra_hosts, "", rest)

/* Each bad scenario: the text and fragments the message must contain. */
static const struct {
  const char *json;
  const char *want1, *want2;
} bad[] = {
    {"", "bad.json:1:1", "not valid JSON"},
    {"{\"name\":\"x\",\n\"hosts\":[}", "bad.json:2:", "not valid JSON"},
    {"[]", "$", "scenario object"},
    {"{\"hosts\":[]}", "$", "missing key \"name\""},
    {"{\"name\":\"x\",\"hosts\":[],\"sede\":1}", "unknown key \"sede\"", "did you mean \"seed\"?"},
    {"{\"name\":\"x\",\"hosts\":[],\"zzzzzz\":1}", "unknown key \"zzzzzz\"", "expected one of"},
    {"{\"name\":\"x\",\"hosts\":[]}", "$.hosts", "at least one host"},
    {"{\"name\":\"x\",\"hosts\":{}}", "$.hosts", "expected an array"},
    {"{\"name\":\"x\",\"tls\":\"no\",\"hosts\":[]}", "$.tls", "expected true, false or an object"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"users\":[{\"address\":\"a@x.org\"},{\"address\":\"A@X.ORG\"}]}",
     "$.users[1]", "user \"A@X.ORG\" is listed twice"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a b\"}]}", "$.hosts[0]", "letters, digits"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "$.hosts[1]", "used twice"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\",\"addrs\":[\"10.0.0.300\"]}]}",
     "$.hosts[0].addrs[0]", "IPv4 or IPv6"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"links\":[{\"a\":\"a\",\"b\":\"c\","
     "\"latency\":\"1ms\"}]}",
     "$.links[0]", "no host named \"c\""},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"a\":\"a\","
     "\"b\":\"b\",\"latency\":5}]}",
     "$.links[0].latency", "duration"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"a\":\"a\","
     "\"b\":\"b\",\"latency\":\"5parsecs\"}]}",
     "$.links[0].latency", "unit"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"a\":\"a\","
     "\"b\":\"b\",\"latency\":\"1ms\",\"mtu\":70000}]}",
     "$.links[0].mtu", "576 to 65535"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"links\":[{\"a\":\"a\","
     "\"b\":\"b\",\"latency\":\"1ms\",\"loss\":\"150%\"}]}",
     "$.links[0].loss", "more than 100%"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"traffic\":[{\"kind\":\"flood\",\"from\":\"a\"}]}",
     "$.traffic[0]", "unknown traffic kind"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"traffic\":[{\"kind\":"
     "\"stream\",\"from\":\"a\",\"to\":\"b\",\"port\":1,\"bytes\":1}]}",
     "$.traffic[0]", "has no address"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"traffic\":[{\"kind\":\"stream\",\"from\":"
     "\"a\",\"to\":\"a\",\"port\":0,\"bytes\":1}]}",
     "$.traffic[0].port", "1 to 65535"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"faults\":[{\"kind\":\"crash\",\"host\":"
     "\"a\",\"at\":\"5s\",\"until\":\"1s\"}]}",
     "$.faults[0]", "later than"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"a\"}],\"faults\":[{\"kind\":\"link_down\",\"link\":"
     "\"a-b\",\"at\":\"5s\"}]}",
     "$.faults[0]", "no link named"},
    {MAILW("", ",\"users\":[{\"address\":\"bob\"}]"), "$.users[0]", "local@domain"},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"client\":\"mta1\"}]"), "$.users[0]",
     "has role \"mta\", expected \"mua\""},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.com\",\"mailbox\":\"mbox\"}]"), "$.users[0]",
     "does not hold domain \"example.com\""},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"fetch\":\"smoke-signals\"}]"),
     "$.users[0]", "expected imap, pop3 or none"},
    {MAILW("", ",\"messages\":[{\"from\":\"x@example.org\",\"to\":[\"b@example.org\"]}]"),
     "$.messages[0]", "no user \"x@example.org\""},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"client\":\"pc\",\"submit\":\"mta1\"}],"
               "\"messages\":[{\"from\":\"b@example.org\"}]"),
     "$.messages[0]", "at least one recipient"},
    {MAILW("", ",\"messages\":[{\"id\":\"a\",\"from\":\"x@example.org\",\"to\":[\"b@example.org\"]},"
               "{\"id\":\"a\",\"from\":\"x@example.org\",\"to\":[\"b@example.org\"]}]"),
     "$.messages[1]", "\"id\": \"a\" is used twice"},
    /* a path of two digits (written without printf) */
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"client\":\"pc\",\"submit\":\"mta1\"}],"
               "\"messages\":["
               "{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},"
               "{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},"
               "{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},"
               "{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},{\"from\":\"b@example.org\",\"to\":[\"b@example.org\"]},"
               "{\"from\":\"b@example.org\"}]"),
     "$.messages[12]", "at least one recipient"},
    {MAILW(",{\"name\":\"ns\",\"role\":\"dns\",\"zones\":[\"example.org.\"]}", ""), "$.hosts[5]",
     "no zone with origin \"example.org.\""},
    {MAILW3("", ",{\"origin\":\"example.org\",\"records\":[]}", ""), "$.zones[1]",
     "ending in \".\""},
    {MAILW3("", ",{\"origin\":\"example.org.\",\"records\":[\"@ 300 IN MX ten mx.example.org.\"]}", ""),
     "$.zones[1]", "records[0]"},
    {MAILW3("", ",{\"origin\":\"example.org.\",\"records\":[\"www.example.com. 300 IN A 1.2.3.4\"]}", ""),
     "$.zones[1]", "inside the zone"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\"}", ""), "$.hosts[5]", "needs a \"resolver\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"retry\":\"sendmail\"}}",
           ""),
     "$.hosts[5].mta", "unknown profile \"sendmail\""},
    {MAILW("", ",\"epoch\":\"yesterday\""), "$.epoch", "ISO 8601"},
    {"{\"name\":\"x\",\"hosts\":[{\"name\":\"r\",\"role\":\"resolver\"}]}", "$.hosts[0]",
     "serving the root zone"},
    {MAILW("", ",\"traffic\":[{\"kind\":\"lookup\",\"from\":\"pc\",\"name\":\"x.org.\","
               "\"type\":\"HINFO\"}]"),
     "$.traffic[0]", "unknown record type \"HINFO\""},
    {MAILW("", ",\"traffic\":[{\"kind\":\"lookup\",\"from\":\"mbox\",\"name\":\"x.org.\","
               "\"type\":\"MX\"}]"),
     "$.traffic[0]", "has no \"resolver\""},
    {"{\"name\":\"x\",\"seed\":-1,\"hosts\":[{\"name\":\"a\"}]}", "$.seed", "seed"},
    {"{\"name\":\"x\",\"seed\":1.5,\"hosts\":[{\"name\":\"a\"}]}", "$.seed", "seed"},
    /* filter keys (scn_filters.c) */
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"greylist\":"
           "{\"delay\":\"1m\"}}}", ""),
     "$.hosts[5].mta", "need \"filters\": true"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"greylist\":{\"dealy\":\"1m\"}}}", ""),
     "$.hosts[5].mta.greylist", "unknown key \"dealy\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"greylist\":\"yes\"}}", ""),
     "$.hosts[5].mta.greylist", "expected false or an object"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"greylist\":{\"auto_whitelist_clients\":-1}}}", ""),
     "$.hosts[5].mta.greylist.auto_whitelist_clients", ""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"dnsbl\":[{\"zone\":\"bl.example.org\",\"mode\":\"drop\"}]}}", ""),
     "$.hosts[5].mta.dnsbl[0]", "expected \"reject\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"dnsbl\":[{\"mode\":\"score\"}]}}", ""),
     "$.hosts[5].mta.dnsbl[0]", "missing key \"zone\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"dnsbl\":[{\"zone\":\"bl.example.org\",\"weight\":2.55}]}}", ""),
     "$.hosts[5].mta.dnsbl[0].weight", "at most one decimal"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"dnsbl\":[{\"zone\":\"bl.example.org\"}]}}", ""),
     "$.hosts[5].mta.dnsbl[0]", "no zone in $.zones holds bl.example.org."},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"spam\":{\"rules\":{\"VIAGRA\":3}}}}", ""),
     "$.hosts[5].mta.spam.rules", "unknown rule \"VIAGRA\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"spam\":{\"tag\":\"high\"}}}", ""),
     "$.hosts[5].mta.spam.tag", "score in points"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"spam\":{\"tag\":5,\"reject\":4}}}", ""),
     "$.hosts[5].mta.spam", "\"reject\" must not be below \"tag\""},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"spam\":{\"subject_keywords\":[\"\"]}}}", ""),
     "$.hosts[5].mta.spam.subject_keywords[0]", "non-empty string"},
    {MAILW(",{\"name\":\"m2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
           "\"public_suffixes\":\"com\"}}", ""),
     "$.hosts[5].mta.public_suffixes", "expected an array"},
    {MAILW3("", ",{\"origin\":\"bl.example.org.\",\"records\":[],\"listed\":[\"not-an-ip\"]}", ""),
     "$.zones[1].listed[0]", "IPv4 or IPv6"},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"mailbox\":\"mbox\",\"sieve\":"
               "\"fileinto \\\"x\\\";\"}]"),
     "$.users[0]", "\"sieve\": line 1"},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"sieve\":\"keep;\"}]"), "$.users[0]",
     "needs a \"mailbox\""},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"mailbox\":\"mbox\",\"sieve_file\":"
               "\"/nonexistent/x.sieve\"}]"),
     "$.users[0]", "cannot read /nonexistent/x.sieve"},
    {MAILW("", ",\"users\":[{\"address\":\"b@example.org\",\"mailbox\":\"mbox\",\"sieve\":\"keep;\","
               "\"sieve_file\":\"x.sieve\"}]"),
     "$.users[0]", "not both"},
};


START_TEST(good_mail_scenario) {
  const char *json = MAILW3(",{\"name\":\"ns\",\"role\":\"dns\",\"zones\":[\"example.org.\"]}",
                           ",{\"origin\":\"example.org.\",\"records\":[\"@ 3600 IN MX 10 mta1.example.org.\"]}",
                           ",\"epoch\":\"2026-05-04T10:00:00Z\","
                           "\"users\":[{\"address\":\"Bob@Example.org\",\"client\":\"pc\",\"submit\":\"mta1\","
                           "\"mailbox\":\"mbox\",\"fetch\":\"pop3\",\"every\":\"2m\",\"keep\":true}],"
                           "\"messages\":[{\"from\":\"bob@example.org\",\"to\":[\"bob@example.org\"],"
                           "\"attachments\":[{\"name\":\"a.pdf\",\"size\":\"2KiB\"}],\"at\":\"1m\"}]");
  GError *err = NULL;
  scn_config *c = scn_parse("mail.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  ck_assert_int_eq(c->epoch_unix, 1777888800);
  const scn_host *mta = &g_array_index(c->hosts, scn_host, 1);
  ck_assert(mta->mta.mx && !mta->mta.submission);
  ck_assert_str_eq(mta->mta.mailbox_host, "mbox");
  ck_assert_uint_eq(mta->mta.domains->len, 1);
  const scn_host *mb = &g_array_index(c->hosts, scn_host, 2);
  ck_assert(mb->mailbox.imap && mb->mailbox.pop3);
  const scn_user *u = scn_find_user(c, "bob@example.org");
  ck_assert_ptr_nonnull(u);
  ck_assert_int_eq(u->fetch, SCN_FETCH_POP3);
  ck_assert(u->every == 2 * SIM_MIN && u->keep);
  const scn_message *m = scn_msgs_at(c->messages, 0);
  ck_assert_str_eq(m->id, "m1");
  ck_assert_uint_eq(g_array_index(m->attachments, scn_attachment, 0).size, 2048);
  ck_assert_str_eq(g_array_index(m->attachments, scn_attachment, 0).type, "application/octet-stream");
  ck_assert(m->at == SIM_MIN);
  scn_config_free(c);
}
END_TEST

/* Recipient lists of one address are shared between messages (they are
 * read-only); other lists keep their addresses in order. */
START_TEST(shared_recipient_lists) {
  const char *json = MAILW3(",{\"name\":\"ns\",\"role\":\"dns\",\"zones\":[\"example.org.\"]}",
                            ",{\"origin\":\"example.org.\",\"records\":[\"@ 3600 IN MX 10 "
                            "mta1.example.org.\"]}",
                            ",\"users\":[{\"address\":\"bob@example.org\",\"client\":\"pc\","
                            "\"submit\":\"mta1\",\"mailbox\":\"mbox\"}],\"messages\":["
                            "{\"from\":\"bob@example.org\",\"to\":[\"a@example.org\"]},"
                            "{\"from\":\"bob@example.org\",\"to\":[\"b@example.org\"],"
                            "\"cc\":[\"a@example.org\"]},"
                            "{\"from\":\"bob@example.org\",\"to\":[\"a@example.org\",\"b@example.org\"]},"
                            "{\"from\":\"bob@example.org\",\"bcc\":[\"a@example.org\"]}]");
  GError *err = NULL;
  scn_config *c = scn_parse("shared.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  ck_assert_uint_eq(scn_msgs_count(c->messages), 4);
  scn_message m[4];
  for (size_t i = 0; i < 4; i++)
    m[i] = *scn_msgs_at(c->messages, i);
  ck_assert_ptr_eq(m[0].to, m[1].cc);
  ck_assert_ptr_eq(m[0].to, m[3].bcc);
  ck_assert_ptr_ne(m[0].to, m[1].to);
  ck_assert_uint_eq(m[0].to->len, 1);
  ck_assert_str_eq(m[0].to->pdata[0], "a@example.org");
  ck_assert_str_eq(m[1].to->pdata[0], "b@example.org");
  ck_assert_uint_eq(m[2].to->len, 2);
  ck_assert_str_eq(m[2].to->pdata[0], "a@example.org");
  ck_assert_str_eq(m[2].to->pdata[1], "b@example.org");
  ck_assert_uint_eq(m[0].cc->len + m[0].bcc->len + m[3].to->len, 0);
  scn_config_free(c);
}
END_TEST

/* Every filter key with its value (scn_filters.c), the blocklist zone's
 * generated entries (RFC 5782 §2.1 reversed octets, §2.4 nibbles), a
 * user's Sieve script and the spam folder. */
START_TEST(good_filter_keys) {
  const char *json = MAILW3(
      ",{\"name\":\"mx\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
      "\"greylist\":{\"delay\":\"1m\",\"retry_window\":\"1d\",\"max_age\":\"7d\","
      "\"auto_whitelist_clients\":0},"
      "\"dnsbl\":[{\"zone\":\"bl.example.org.\",\"mode\":\"reject\"},"
      "{\"zone\":\"bl.example.org\",\"weight\":4.5,\"rule\":\"RCVD_IN_EX\"}],"
      "\"spam\":{\"tag\":4.0,\"reject\":null,\"rules\":{\"GTUBE\":20,\"MISSING_DATE\":-0.5},"
      "\"subject_keywords\":[\"viagra\",\"lottery\"]},\"public_suffixes\":[\"org\",\"co.uk\"]}},"
      "{\"name\":\"mx2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{\"filters\":true,"
      "\"greylist\":false,\"spam\":{\"reject\":12.5}}}",
      ",{\"origin\":\"bl.example.org.\",\"records\":[\"@ 300 IN SOA a. b. 1 2 3 4 5\","
      "\"@ 300 IN NS a.root.\"],\"listed\":[\"198.51.100.66\",\"2001:db8::1\"]}",
      ",\"users\":[{\"address\":\"b@example.org\",\"mailbox\":\"mbox\",\"sieve\":"
      "\"require \\\"fileinto\\\"; if header :contains \\\"subject\\\" \\\"news\\\" "
      "{ fileinto \\\"News\\\"; }\"}]");
  GError *err = NULL;
  scn_config *c = scn_parse("filters.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  const scn_mta *m = &g_array_index(c->hosts, scn_host, 5).mta;
  ck_assert(m->filters && !m->filt.greylist_off);
  ck_assert(m->greylist_delay == SIM_MIN && m->filt.gl_retry_window == SIM_DAY &&
            m->filt.gl_max_age == 7 * SIM_DAY && m->filt.gl_awl_clients == 0);
  ck_assert_uint_eq(m->filt.dnsbl->len, 2);
  const scn_dnsbl *d0 = &g_array_index(m->filt.dnsbl, scn_dnsbl, 0);
  const scn_dnsbl *d1 = &g_array_index(m->filt.dnsbl, scn_dnsbl, 1);
  ck_assert_str_eq(d0->zone, "bl.example.org");
  ck_assert(d0->reject && d0->weight == 26 && d0->rule == NULL);
  ck_assert(!d1->reject && d1->weight == 45);
  ck_assert_str_eq(d1->rule, "RCVD_IN_EX");
  ck_assert(m->filt.has_tag && m->filt.spam_tag == 40);
  ck_assert(m->filt.has_reject && m->filt.spam_reject == G_MAXINT);
  ck_assert_uint_eq(m->filt.rule_weights->len, 2);
  ck_assert_int_eq(g_array_index(m->filt.rule_weights, scn_rule_weight, 0).tenths, 200);
  ck_assert_int_eq(g_array_index(m->filt.rule_weights, scn_rule_weight, 1).tenths, -5);
  ck_assert_str_eq(m->filt.subject_keywords->pdata[1], "lottery");
  ck_assert_str_eq(m->filt.public_suffixes->pdata[1], "co.uk");
  const scn_mta *m2 = &g_array_index(c->hosts, scn_host, 6).mta;
  ck_assert(m2->filt.greylist_off && !m2->filt.has_tag && m2->filt.spam_reject == 125);
  ck_assert_int_eq(m2->filt.gl_awl_clients, -1);
  const scn_zone *z = scn_zone_for(c, "bl.example.org.");
  ck_assert_ptr_nonnull(z);
  ck_assert_uint_eq(z->records->len, 6);
  ck_assert_str_eq(z->records->pdata[2], "66.100.51.198.bl.example.org. 300 IN A 127.0.0.2");
  ck_assert_msg(g_str_has_prefix(z->records->pdata[4],
                                 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
                                 "bl.example.org. 300 IN A 127.0.0.2"),
                "got %s", (char *)z->records->pdata[4]);
  ck_assert_ptr_nonnull(strstr(z->records->pdata[3], "TXT"));
  const scn_user *u = scn_find_user(c, "b@example.org");
  ck_assert_ptr_nonnull(strstr(u->sieve, "fileinto \"News\""));
  ck_assert_ptr_null(g_array_index(c->hosts, scn_host, 2).mailbox.spam_folder);
  scn_config_free(c);
}
END_TEST

/* A Sieve script from a file next to the scenario, and a spam folder. */
START_TEST(sieve_file_is_relative_to_the_scenario) {
  char *dir = g_dir_make_tmp("scn-sieve-XXXXXX", NULL);
  ck_assert_ptr_nonnull(dir);
  char *sieve = g_build_filename(dir, "bob.sieve", NULL);
  ck_assert(g_file_set_contents(sieve, "require \"fileinto\";\nfileinto \"All\";\n", -1, NULL));
  const char *json = MAILW3("", "",
                            ",\"users\":[{\"address\":\"b@example.org\",\"mailbox\":\"mbox\","
                            "\"sieve_file\":\"bob.sieve\"}]");
  char *text = g_strdup(json);
  char *spam = strstr(text, "\"mailbox\":{\"domains\":[\"example.org\"]}");
  ck_assert_ptr_nonnull(spam);
  GString *j = g_string_new_len(text, spam - text);
  g_string_append(j, "\"mailbox\":{\"domains\":[\"example.org\"],\"spam_folder\":\"Spam\"}");
  g_string_append(j, spam + strlen("\"mailbox\":{\"domains\":[\"example.org\"]}"));
  char *path = g_build_filename(dir, "s.json", NULL);
  ck_assert(g_file_set_contents(path, j->str, (gssize)j->len, NULL));
  GError *err = NULL;
  scn_config *c = scn_load(path, &err);
  ck_assert_msg(c != NULL, "%s", err ? err->message : "");
  ck_assert_str_eq(scn_find_user(c, "b@example.org")->sieve, "require \"fileinto\";\nfileinto \"All\";\n");
  ck_assert_str_eq(g_array_index(c->hosts, scn_host, 2).mailbox.spam_folder, "Spam");
  scn_config_free(c);
  g_unlink(path);
  g_unlink(sieve);
  g_rmdir(dir);
  g_free(path);
  g_free(sieve);
  g_free(dir);
  g_free(text);
  g_string_free(j, TRUE);
}
END_TEST

START_TEST(bad_scenarios) {
  GError *err = NULL;
  scn_config *c = scn_parse("bad.json", bad[_i].json, strlen(bad[_i].json), &err);
  ck_assert_msg(c == NULL, "row %d accepted", _i);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(err->message, "bad.json") != NULL, "no file name: %s", err->message);
  ck_assert_msg(strstr(err->message, bad[_i].want1) != NULL, "row %d: got \"%s\" want \"%s\"", _i,
                err->message, bad[_i].want1);
  ck_assert_msg(strstr(err->message, bad[_i].want2) != NULL, "row %d: got \"%s\" want \"%s\"", _i,
                err->message, bad[_i].want2);
  g_error_free(err);
}
END_TEST

/* "tls": true, false or the services that use TLS. */
static const struct {
  const char *tls;
  unsigned want;
} tls_good[] = {
    {NULL, SCN_TLS_SVC_ALL},
    {"true", SCN_TLS_SVC_ALL},
    {"false", 0},
    {"{}", 0},
    {"{\"submission\":true,\"relay\":true}", 1u << SCN_TLS_SVC_SUBMISSION | 1u << SCN_TLS_SVC_RELAY},
    {"{\"submission\":true,\"relay\":true,\"lmtp\":false,\"imap\":true,\"pop3\":false}",
     1u << SCN_TLS_SVC_SUBMISSION | 1u << SCN_TLS_SVC_RELAY | 1u << SCN_TLS_SVC_IMAP},
    {"{\"pop3\":true}", 1u << SCN_TLS_SVC_POP3},
};

START_TEST(tls_services_good) {
  char *json = tls_good[_i].tls
                   ? g_strdup_printf(MAILW("", ",\"tls\":%s"), tls_good[_i].tls)
                   : g_strdup(MAILW("", ""));
  GError *err = NULL;
  scn_config *c = scn_parse("t.json", json, strlen(json), &err);
  ck_assert_msg(c != NULL, "row %d: %s", _i, err ? err->message : "");
  ck_assert_msg(c->tls_services == tls_good[_i].want, "row %d: got %#x want %#x", _i,
                c->tls_services, tls_good[_i].want);
  ck_assert(c->tls == (tls_good[_i].want != 0));
  scn_config_free(c);
  g_free(json);
}
END_TEST

/* Bad "tls" values and what they rule out: exact messages. */
static const struct {
  const char *json, *want;
} tls_bad[] = {
    {"{\"name\":\"x\",\"tls\":\"no\",\"hosts\":[]}",
     "t.json: $.tls: expected true, false or an object like {\"submission\": true, \"relay\": "
     "true}, got a string"},
    {"{\"name\":\"x\",\"tls\":[\"relay\"],\"hosts\":[]}",
     "t.json: $.tls: expected true, false or an object like {\"submission\": true, \"relay\": "
     "true}, got an array"},
    {"{\"name\":\"x\",\"tls\":{\"submision\":true},\"hosts\":[]}",
     "t.json: $.tls: unknown key \"submision\" (did you mean \"submission\"? expected one of: "
     "submission, relay, lmtp, imap, pop3)"},
    {"{\"name\":\"x\",\"tls\":{\"starttls\":true},\"hosts\":[]}",
     "t.json: $.tls: unknown key \"starttls\" (expected one of: submission, relay, lmtp, imap, pop3)"},
    {"{\"name\":\"x\",\"tls\":{\"relay\":1},\"hosts\":[]}",
     "t.json: $.tls.relay: expected true or false, got a number"},
    {MAILW(",{\"name\":\"mta2\",\"role\":\"mta\",\"resolver\":\"res\",\"mta\":{"
           "\"tls_policy\":\"encrypt\"}}",
           ",\"tls\":{\"submission\":true}"),
     "t.json: $.hosts[5]: \"mta.tls_policy\": \"encrypt\" needs TLS on relay (the scenario's "
     "\"tls\" turns it off)"},
    {MAILW("", ",\"tls\":{\"submission\":true,\"relay\":true},\"faults\":[{\"kind\":\"tls\","
               "\"host\":\"mbox\",\"failure\":\"handshake\",\"at\":\"0s\"}]"),
     "t.json: $.faults[0]: a TLS fault needs TLS on a service of host \"mbox\" (the scenario's "
     "\"tls\" turns them off)"},
};

START_TEST(tls_services_bad) {
  GError *err = NULL;
  scn_config *c = scn_parse("t.json", tls_bad[_i].json, strlen(tls_bad[_i].json), &err);
  ck_assert_msg(c == NULL, "row %d accepted", _i);
  ck_assert_msg(strcmp(err->message, tls_bad[_i].want) == 0, "row %d: got\n  %s\nwant\n  %s", _i,
                err->message, tls_bad[_i].want);
  g_error_free(err);
}
END_TEST

/* Lines of TRACE holding every one of the NULL-terminated fragments. */
static int count_lines(const char *trace, ...) {
  int n = 0;
  char **lines = g_strsplit(trace, "\n", -1);
  for (char **l = lines; *l; l++) {
    va_list ap;
    va_start(ap, trace);
    bool all = true;
    for (const char *f; (f = va_arg(ap, const char *)) != NULL;)
      all &= strstr(*l, f) != NULL;
    va_end(ap);
    n += all;
  }
  g_strfreev(lines);
  return n;
}

/* The journey with TLS on submission and relay only: every message still
 * arrives; handshakes happen on those hops and never with the mailbox host
 * (its LMTP/SMTP, IMAP and POP3 in clear), where TLS everywhere has some. */
START_TEST(tls_services_run) {
  static const unsigned sets[] = {1u << SCN_TLS_SVC_SUBMISSION | 1u << SCN_TLS_SVC_RELAY,
                                  SCN_TLS_SVC_ALL};
  char *path = testutil_src_path("scenarios/journey.json");
  for (size_t i = 0; i < G_N_ELEMENTS(sets); i++) {
    GError *err = NULL;
    scn_config *c = scn_load(path, &err);
    ck_assert_msg(c != NULL, "%s", err ? err->message : "");
    c->tls_services = sets[i];
    trace_writer *tw = trace_writer_new_memory();
    scn_world *sw = scn_world_build(c, c->seed, tw, SIM_DETAIL_PROTOCOL);
    ck_assert_msg(scn_world_run(sw), "set %zu: the journey did not complete", i);
    const char *t = trace_writer_peek_memory(tw)->str;
    int sub = count_lines(t, "\"ev\":\"tls.established\"", "\"node\":\"alice-laptop\"", NULL);
    int relay = count_lines(t, "\"ev\":\"tls.established\"", "\"node\":\"mx.example.org\"",
                            "\"peer\":\"smtp.example.com\"", NULL);
    int mbox = count_lines(t, "\"ev\":\"tls.established\"", "\"peer\":\"mail.example.org\"", NULL);
    ck_assert_msg(sub > 0 && relay > 0, "set %zu: got %d submission and %d relay handshakes", i,
                  sub, relay);
    if (i == 0)
      ck_assert_msg(mbox == 0, "got %d handshakes with the mailbox host, want 0", mbox);
    else
      ck_assert_msg(mbox > 0, "TLS everywhere: no handshake with the mailbox host");
    scn_world_free(sw);
    trace_writer_free(tw);
    scn_config_free(c);
  }
  g_free(path);
}
END_TEST

START_TEST(missing_file) {
  GError *err = NULL;
  ck_assert_ptr_null(scn_load("/nonexistent/s.json", &err));
  ck_assert_ptr_nonnull(strstr(err->message, "/nonexistent/s.json"));
  g_error_free(err);
}
END_TEST

START_TEST(every_truncation_is_an_error_not_a_crash) {
  size_t n = strlen(GOOD);
  for (size_t i = 0; i < n; i++) {
    GError *err = NULL;
    scn_config *c = scn_parse("cut.json", GOOD, i, &err);
    ck_assert_msg(c == NULL, "prefix of %zu bytes accepted", i);
    g_error_free(err);
  }
}
END_TEST

START_TEST(bundled_scenarios_load) {
  const char *files[] = {"scenarios/stream.json",      "scenarios/dns.json",
                         "scenarios/journey.json",     "scenarios/mx-failover.json",
                         "scenarios/retry-bounce.json", "scenarios/pop3-vs-imap.json",
                         "scenarios/loop.json",        "scenarios/load.json",
                         "scenarios/spam.json",        "scenarios/greylist-study.json"};
  for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
    char *p = testutil_src_path(files[i]);
    GError *err = NULL;
    scn_config *c = scn_load(p, &err);
    ck_assert_msg(c != NULL, "%s: %s", files[i], err ? err->message : "");
    scn_config_free(c);
    g_free(p);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("scn");
  TCase *tc = tcase_create("units");
  tcase_add_loop_test(tc, size_good, 0, G_N_ELEMENTS(sizes));
  tcase_add_test(tc, units_bad);
  tcase_add_test(tc, bandwidth_and_ratio);
  suite_add_tcase(s, tc);
  tc = tcase_create("load");
  tcase_add_test(tc, good_scenario);
  tcase_add_test(tc, good_mail_scenario);
  tcase_add_test(tc, shared_recipient_lists);
  tcase_add_test(tc, good_filter_keys);
  tcase_add_test(tc, sieve_file_is_relative_to_the_scenario);
  tcase_add_loop_test(tc, bad_scenarios, 0, G_N_ELEMENTS(bad));
  tcase_add_loop_test(tc, tls_services_good, 0, G_N_ELEMENTS(tls_good));
  tcase_add_loop_test(tc, tls_services_bad, 0, G_N_ELEMENTS(tls_bad));
  tcase_add_test(tc, tls_services_run);
  tcase_add_test(tc, missing_file);
  tcase_add_test(tc, every_truncation_is_an_error_not_a_crash);
  tcase_add_test(tc, bundled_scenarios_load);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
