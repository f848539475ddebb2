/* stats_fixture.c — the hand-built journey (times in seconds):
 *
 *   5..9  DNS: relay asks resolver (query); resolver asks root (query),
 *         answers twice from cache, times out once, asks ns1 (query)
 *   60    m1 composed on laptop for bob and carol
 *   61    m1 submitted laptop -> smtp (conn 2, client end 1), queued Q1
 *   62    m1 relayed smtp -> relay (R1); smtp expires Q1
 *   63    relay defers bob and carol: 450 4.2.0 greylisted (conn 4/3 lines)
 *   100   m2 submitted laptop -> smtp for dave (Q2), no compose
 *   101, 201  smtp defers dave: 421 4.4.2 timeout
 *   301   smtp bounces dave (dsn1), queues dsn1 (Q3), expires Q2
 *   302   dsn1 relayed smtp -> mail, delivered to alice; smtp expires Q3
 *   363   policy.greylist pass-delayed waited 300 s at mx;
 *         m1 relayed relay -> mx (conn 6/5), queued M1; relay expires R1
 *   364   m1 relayed mx -> mail; mx expires M1; delivered to bob, carol
 *   600   bob-phone fetches m1;  900 carol-pc fetches m1;  1000 end
 */
#include "stats_fixture.h"

#include <string.h>

#include "trace.h"

#define S INT64_C(1000000000)

static void header(trace_writer *tw) {
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", TRACE_FORMAT_VERSION);
  trace_key_str(tw, "scenario", "fixture");
  trace_key_uint(tw, "seed", 1);
  trace_key_str(tw, "detail", "protocol");
  trace_end(tw);
}

static void rcpts(trace_writer *tw, const char *a, const char *b) {
  trace_arr_begin(tw, "rcpts");
  trace_key_str(tw, NULL, a);
  if (b)
    trace_key_str(tw, NULL, b);
  trace_arr_end(tw);
}

static void transfer(trace_writer *tw, int64_t t, const char *ev, const char *from, const char *to,
                     const char *msg, int conn, const char *qid, const char *r1, const char *r2) {
  trace_event_begin(tw, t, ev);
  trace_key_str(tw, "from", from);
  trace_key_str(tw, "to", to);
  trace_key_str(tw, "msg", msg);
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "queue_id", qid);
  rcpts(tw, r1, r2);
  trace_key_bool(tw, "tls", true);
  if (ev[4] == 's')
    trace_key_str(tw, "auth", "alice@example.com");
  else
    trace_key_int(tw, "hop", 1);
  trace_end(tw);
}

static void queue(trace_writer *tw, int64_t t, const char *node, const char *msg, const char *qid,
                  const char *r1, const char *r2) {
  trace_event_begin(tw, t, "msg.queue");
  trace_key_str(tw, "node", node);
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", qid);
  rcpts(tw, r1, r2);
  trace_end(tw);
}

static void expire(trace_writer *tw, int64_t t, const char *node, const char *msg,
                   const char *qid) {
  trace_event_begin(tw, t, "msg.expire");
  trace_key_str(tw, "node", node);
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", qid);
  trace_end(tw);
}

static void defer(trace_writer *tw, int64_t t, const char *node, const char *msg, const char *qid,
                  const char *rcpt, const char *reason, int64_t next) {
  trace_event_begin(tw, t, "msg.defer");
  trace_key_str(tw, "node", node);
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", qid);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "reason", reason);
  trace_key_int(tw, "next_try", next);
  trace_end(tw);
}

static void deliver(trace_writer *tw, int64_t t, const char *msg, const char *rcpt) {
  trace_event_begin(tw, t, "msg.deliver");
  trace_key_str(tw, "node", "mail");
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "rcpt", rcpt);
  trace_key_str(tw, "mailbox", rcpt);
  trace_key_str(tw, "folder", "INBOX");
  trace_key_int(tw, "uid", 1);
  trace_end(tw);
}

static void fetch(trace_writer *tw, int64_t t, const char *node, const char *mailbox) {
  trace_event_begin(tw, t, "msg.fetch");
  trace_key_str(tw, "node", node);
  trace_key_str(tw, "from", "mail");
  trace_key_str(tw, "msg", "m1.x@example.com");
  trace_key_str(tw, "proto", "imap");
  trace_key_str(tw, "mailbox", mailbox);
  trace_end(tw);
}

static void dnsq(trace_writer *tw, int64_t t, const char *from, const char *to) {
  trace_event_begin(tw, t, "dns.query");
  trace_key_int(tw, "conn", 0);
  trace_key_str(tw, "from", from);
  trace_key_str(tw, "to", to);
  trace_key_int(tw, "sent", t - 1);
  trace_key_str(tw, "proto", "udp");
  trace_key_int(tw, "qid", 7);
  trace_key_str(tw, "qname", "example.org.");
  trace_key_str(tw, "qtype", "MX");
  trace_end(tw);
}

static void node_ev(trace_writer *tw, int64_t t, const char *ev, const char *node) {
  trace_event_begin(tw, t, ev);
  trace_key_str(tw, "node", node);
  trace_key_str(tw, "qname", "example.org.");
  trace_key_str(tw, "qtype", "MX");
  trace_end(tw);
}

static void accept_(trace_writer *tw, int64_t t, const char *node, int conn, int peer) {
  trace_event_begin(tw, t, "tcp.accept");
  trace_key_str(tw, "node", node);
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "src", "10.0.0.1:25");
  trace_key_str(tw, "dst", "10.0.0.2:40000");
  trace_key_int(tw, "peer", peer);
  trace_end(tw);
}

static void line(trace_writer *tw, int64_t t, const char *ev, int conn, const char *from,
                 const char *to, const char *text) {
  trace_event_begin(tw, t, ev);
  trace_key_int(tw, "conn", conn);
  trace_key_str(tw, "from", from);
  trace_key_str(tw, "to", to);
  trace_key_int(tw, "sent", t - 1000);
  trace_key_bytes(tw, "line", text, strlen(text));
  trace_end(tw);
}

/* An SMTP dialogue: client end CC, server end SC; LINES alternate
 * command / reply, NULL-terminated; one line per millisecond from T. */
static int64_t dialogue(trace_writer *tw, int64_t t, const char *client, const char *server, int cc,
                        int sc, const char *const *lines) {
  for (int i = 0; lines[i]; i++, t += 1000000) {
    if (i % 2 == 0)
      line(tw, t, "smtp.cmd", sc, client, server, lines[i]);
    else
      line(tw, t, "smtp.reply", cc, server, client, lines[i]);
  }
  return t;
}

char *stats_fixture_journey(void) {
  trace_writer *tw = trace_writer_new_memory();
  header(tw);
  const char *B = "bob@example.org", *C = "carol@example.org", *m1 = "m1.x@example.com";
  dnsq(tw, 5 * S, "relay", "resolver");
  dnsq(tw, 6 * S, "resolver", "root");
  node_ev(tw, 7 * S, "dns.cache_hit", "resolver");
  node_ev(tw, 7 * S, "dns.cache_hit", "resolver");
  trace_event_begin(tw, 8 * S, "dns.timeout");
  trace_key_str(tw, "node", "resolver");
  trace_key_str(tw, "server", "203.0.113.53");
  trace_key_int(tw, "qid", 9);
  trace_key_str(tw, "qname", "example.org.");
  trace_key_str(tw, "qtype", "MX");
  trace_end(tw);
  dnsq(tw, 9 * S, "resolver", "ns1");

  trace_event_begin(tw, 60 * S, "msg.compose");
  trace_key_str(tw, "node", "laptop");
  trace_key_str(tw, "msg", m1);
  trace_key_str(tw, "from", "alice@example.com");
  rcpts(tw, B, C);
  trace_key_str(tw, "subject", "Photos");
  trace_key_int(tw, "size", 1234);
  trace_end(tw);
  accept_(tw, 60 * S + 500, "smtp", 2, 1);
  static const char *const sub[] = {"220 smtp ESMTP", "EHLO laptop",
                                    "250 smtp",       "MAIL FROM:<alice@example.com>",
                                    "250 2.1.0 Ok",   "RCPT TO:<bob@example.org>",
                                    "250 2.1.5 Ok",   "RCPT TO:<carol@example.org>",
                                    "250 2.1.5 Ok",   "DATA",
                                    "354 go ahead",   NULL};
  /* dialogue() alternates client, server: start with the greeting as a
   * "reply" by shifting one slot. */
  line(tw, 60 * S + 1000, "smtp.reply", 1, "smtp", "laptop", sub[0]);
  dialogue(tw, 60 * S + 2000000, "laptop", "smtp", 1, 2, sub + 1);
  transfer(tw, 61 * S, "msg.submit", "laptop", "smtp", m1, 2, "Q1", B, C);
  queue(tw, 61 * S, "smtp", m1, "Q1", B, C);
  line(tw, 61 * S + 1000, "smtp.reply", 1, "smtp", "laptop", "250 2.0.0 Ok: queued as Q1");
  line(tw, 61 * S + 2000, "smtp.cmd", 2, "laptop", "smtp", "QUIT");
  line(tw, 61 * S + 3000, "smtp.reply", 1, "smtp", "laptop", "221 2.0.0 \"Bye\" <smtp> | ok");
  transfer(tw, 62 * S, "msg.relay", "smtp", "relay", m1, 9, "R1", B, C);
  queue(tw, 62 * S, "relay", m1, "R1", B, C);
  expire(tw, 62 * S, "smtp", m1, "Q1");
  /* The greylisted attempt relay -> mx: client end 3, server end 4. */
  accept_(tw, 62 * S + 500, "mx", 4, 3);
  static const char *const grey[] = {"EHLO relay",
                                     "250 mx",
                                     "MAIL FROM:<alice@example.com>",
                                     "250 2.1.0 Ok",
                                     "RCPT TO:<bob@example.org>",
                                     "450 4.2.0 Greylisted, try later",
                                     "QUIT",
                                     "221 Bye",
                                     NULL};
  dialogue(tw, 62 * S + 1000000, "relay", "mx", 3, 4, grey);
  defer(tw, 63 * S, "relay", m1, "R1", B, "450 4.2.0 Greylisted, try later", 363 * S);
  defer(tw, 63 * S, "relay", m1, "R1", C, "450 4.2.0 Greylisted, try later", 363 * S);

  const char *m2 = "m2.y@example.com";
  transfer(tw, 100 * S, "msg.submit", "laptop", "smtp", m2, 7, "Q2", "dave@nowhere.test", NULL);
  queue(tw, 100 * S, "smtp", m2, "Q2", "dave@nowhere.test", NULL);
  defer(tw, 101 * S, "smtp", m2, "Q2", "dave@nowhere.test", "421 4.4.2 timeout", 201 * S);
  defer(tw, 201 * S, "smtp", m2, "Q2", "dave@nowhere.test", "421 4.4.2 timeout", 301 * S);
  trace_event_begin(tw, 301 * S, "msg.bounce");
  trace_key_str(tw, "node", "smtp");
  trace_key_str(tw, "msg", m2);
  trace_key_str(tw, "queue_id", "Q2");
  trace_key_str(tw, "rcpt", "dave@nowhere.test");
  trace_key_str(tw, "reason", "550 5.1.1 unknown");
  trace_key_str(tw, "dsn", "dsn1@smtp");
  trace_end(tw);
  queue(tw, 301 * S, "smtp", "dsn1@smtp", "Q3", "alice@example.com", NULL);
  expire(tw, 301 * S, "smtp", m2, "Q2");
  transfer(tw, 302 * S, "msg.relay", "smtp", "mail", "dsn1@smtp", 11, "D1", "alice@example.com",
           NULL);
  deliver(tw, 302 * S, "dsn1@smtp", "alice@example.com");
  expire(tw, 302 * S, "smtp", "dsn1@smtp", "Q3");

  accept_(tw, 362 * S, "mx", 6, 5);
  static const char *const pass[] = {"EHLO relay",
                                     "250 mx",
                                     "MAIL FROM:<alice@example.com>",
                                     "250 2.1.0 Ok",
                                     "RCPT TO:<bob@example.org>",
                                     "250 2.1.5 Ok",
                                     "RCPT TO:<carol@example.org>",
                                     "250 2.1.5 Ok",
                                     "DATA",
                                     "354 go ahead",
                                     NULL};
  dialogue(tw, 362 * S + 1000000, "relay", "mx", 5, 6, pass);
  trace_event_begin(tw, 363 * S - 1000, "policy.greylist");
  trace_key_str(tw, "node", "mx");
  trace_key_str(tw, "verdict", "pass-delayed");
  trace_key_str(tw, "triplet", "10.0.0.0/24/alice@example.com/bob@example.org");
  trace_key_int(tw, "waited", 300 * S);
  trace_end(tw);
  transfer(tw, 363 * S, "msg.relay", "relay", "mx", m1, 6, "M1", B, C);
  queue(tw, 363 * S, "mx", m1, "M1", B, C);
  expire(tw, 363 * S, "relay", m1, "R1");
  line(tw, 363 * S + 1000, "smtp.reply", 5, "mx", "relay", "250 2.0.0 Ok: queued as M1");
  transfer(tw, 364 * S, "msg.relay", "mx", "mail", m1, 13, "L1", B, C);
  expire(tw, 364 * S, "mx", m1, "M1");
  deliver(tw, 364 * S, m1, B);
  deliver(tw, 364 * S, m1, C);
  fetch(tw, 600 * S, "bob-phone", B);
  fetch(tw, 900 * S, "carol-pc", C);
  trace_event_begin(tw, 1000 * S, "end");
  trace_key_int(tw, "events", 99);
  trace_key_bool(tw, "ok", true);
  trace_end(tw);
  char *out = g_strdup(trace_writer_peek_memory(tw)->str);
  trace_writer_free(tw);
  return out;
}
