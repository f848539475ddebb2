/* viz_fixture.c — the synthetic journey trace (see viz_fixture.h). */
#include "viz_fixture.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name, *addr, *role;
} nodes[] = {
    {"laptop.alice.example", "10.0.1.1", "mua"},  {"msa.alice.example", "10.0.2.1", "msa"},
    {"relay.alice.example", "10.0.2.2", "relay"}, {"ns.example", "10.0.9.1", "resolver"},
    {"mx.bob.example", "10.0.3.1", "mx"},         {"imap.bob.example", "10.0.3.2", "imap"},
    {"phone.bob.example", "10.0.4.1", "mua"},     {"r1", "10.0.0.1", NULL},
};

void viz_fixture_header(trace_writer *tw, unsigned flags) {
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", TRACE_FORMAT_VERSION);
  trace_key_str(tw, "scenario", "fixture-journey");
  trace_key_uint(tw, "seed", 42);
  trace_key_str(tw, "detail", "protocol");
  trace_arr_begin(tw, "nodes");
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "name", nodes[i].name);
    trace_key_uint(tw, "index", i);
    trace_key_bool(tw, "router", nodes[i].role == NULL);
    trace_arr_begin(tw, "addrs");
    trace_key_str(tw, NULL, nodes[i].addr);
    trace_arr_end(tw);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  trace_arr_begin(tw, "links");
  for (size_t i = 0; i + 1 < sizeof nodes / sizeof nodes[0]; i++) {
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "a", nodes[i].name);
    trace_key_str(tw, "b", "r1");
    trace_key_int(tw, "latency_ns", i == 0 ? 5 * FIX_MS : i == 6 ? 2 * FIX_MS : 1 * FIX_MS);
    trace_key_int(tw, "jitter_ns", 0);
    trace_key_int(tw, "bandwidth_bps", 0);
    trace_key_int(tw, "queue_bytes", 262144);
    trace_key_int(tw, "loss_ppm", 0);
    trace_key_int(tw, "mtu", 1500);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  if (flags & FIX_ROLES) {
    trace_obj_begin(tw, "roles");
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
      if (nodes[i].role)
        trace_key_str(tw, nodes[i].name, nodes[i].role);
    trace_obj_end(tw);
  }
  if (flags & FIX_POS) {
    /* a circle-ish hand layout: node i at (100 * i, 50 * (i % 3)) */
    trace_obj_begin(tw, "pos");
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
      trace_arr_begin(tw, nodes[i].name);
      trace_key_int(tw, NULL, (int64_t)(100 * i));
      trace_key_int(tw, NULL, (int64_t)(50 * (i % 3)));
      trace_arr_end(tw);
    }
    trace_obj_end(tw);
  }
  trace_end(tw);
}

/* --- record helpers ----------------------------------------------------------- */

typedef struct {
  trace_writer *tw;
  int64_t t0;
  const char *key;
} jr;

#define N_LAPTOP 0
#define N_MSA 1
#define N_RELAY 2
#define N_NS 3
#define N_MX 4
#define N_IMAP 5
#define N_PHONE 6

static void tcp(jr *j, int64_t ms, const char *ev, int node, uint64_t conn, int peer_node,
                uint64_t peer) {
  char src[32], dst[32];
  snprintf(src, sizeof src, "%s:%d", nodes[node].addr, 40000 + (int)(conn % 1000));
  snprintf(dst, sizeof dst, "%s:%d", nodes[peer_node].addr, 25);
  trace_event_begin(j->tw, j->t0 + ms * FIX_MS, ev);
  trace_key_str(j->tw, "node", nodes[node].name);
  trace_key_uint(j->tw, "conn", conn);
  trace_key_str(j->tw, "src", src);
  trace_key_str(j->tw, "dst", dst);
  if (peer)
    trace_key_uint(j->tw, "peer", peer);
  if (strcmp(ev, "tcp.close") == 0)
    trace_key_str(j->tw, "reason", "normal");
  trace_end(j->tw);
}

/* A command (code < 0) or reply line, sent at SENT ms, received at RECV ms. */
static void line(jr *j, const char *fam, int64_t sent, int64_t recv, int from, int to,
                 uint64_t conn, int code, const char *text) {
  char ev[16];
  snprintf(ev, sizeof ev, "%s.%s", fam, code < 0 ? "cmd" : "reply");
  trace_event_begin(j->tw, j->t0 + recv * FIX_MS, ev);
  trace_key_uint(j->tw, "conn", conn);
  trace_key_str(j->tw, "from", nodes[from].name);
  trace_key_str(j->tw, "to", nodes[to].name);
  trace_key_int(j->tw, "sent", j->t0 + sent * FIX_MS);
  if (code >= 0) {
    if (strcmp(fam, "smtp") == 0)
      trace_key_int(j->tw, "code", code);
    else
      trace_key_str(j->tw, "code", code == 0 ? "OK" : "*");
  }
  char buf[256];
  snprintf(buf, sizeof buf, "%s\r\n", text);
  trace_key_bytes(j->tw, "line", buf, strlen(buf));
  trace_end(j->tw);
}

static void data(jr *j, int64_t sent, int64_t recv, int from, int to, uint64_t conn) {
  static const char body[] = "From: alice@alice.example\r\nSubject: Hello\r\n\r\nHi Bob!\r\n";
  trace_event_begin(j->tw, j->t0 + recv * FIX_MS, "smtp.data");
  trace_key_uint(j->tw, "conn", conn);
  trace_key_str(j->tw, "from", nodes[from].name);
  trace_key_str(j->tw, "to", nodes[to].name);
  trace_key_int(j->tw, "sent", j->t0 + sent * FIX_MS);
  trace_key_uint(j->tw, "size", sizeof body - 1);
  trace_key_bytes(j->tw, "msg", body, sizeof body - 1);
  trace_end(j->tw);
}

static void msg_ev(jr *j, int64_t ms, const char *ev, const char *k1, int n1, const char *k2,
                   int n2) {
  trace_event_begin(j->tw, j->t0 + ms * FIX_MS, ev);
  if (k1)
    trace_key_str(j->tw, k1, nodes[n1].name);
  if (k2)
    trace_key_str(j->tw, k2, nodes[n2].name);
  trace_key_str(j->tw, "msg", j->key);
}

/* The SMTP dialogue of one relay/submit session from C to S on connection
 * pair (cc, sc), starting at MS; GREYLIST stops at RCPT with a 450.
 * Returns the time (ms) the session ended. */
static int64_t smtp_session(jr *j, int64_t ms, int c, int s, uint64_t cc, uint64_t sc, bool tls,
                            bool greylist) {
  const int64_t d = 10; /* one-way time of a line, ms */
  tcp(j, ms, "tcp.connect", c, cc, s, 0);
  tcp(j, ms + d, "tcp.accept", s, sc, c, cc);
  tcp(j, ms + 2 * d, "tcp.established", c, cc, s, sc);
  int64_t t = ms + 2 * d;
  line(j, "smtp", t, t + d, s, c, cc, 220, "220 server ESMTP ready");
  t += d;
  line(j, "smtp", t, t + d, c, s, cc, -1, "EHLO client");
  t += d;
  line(j, "smtp", t, t + d, s, c, cc, 250, "250-server\r\n250-STARTTLS\r\n250 SIZE 10240000");
  t += d;
  if (tls) {
    line(j, "smtp", t, t + d, c, s, cc, -1, "STARTTLS");
    t += d;
    line(j, "smtp", t, t + d, s, c, cc, 220, "220 2.0.0 go ahead");
    t += d;
    trace_event_begin(j->tw, j->t0 + t * FIX_MS, "tls.start");
    trace_key_uint(j->tw, "conn", cc);
    trace_key_str(j->tw, "node", nodes[c].name);
    trace_end(j->tw);
    t += 2 * d;
    trace_event_begin(j->tw, j->t0 + t * FIX_MS, "tls.established");
    trace_key_uint(j->tw, "conn", cc);
    trace_key_str(j->tw, "node", nodes[c].name);
    trace_key_str(j->tw, "version", "TLSv1.3");
    trace_key_str(j->tw, "cipher", "TLS_AES_128_GCM_SHA256");
    trace_end(j->tw);
  }
  line(j, "smtp", t, t + d, c, s, cc, -1, "MAIL FROM:<alice@alice.example>");
  t += d;
  line(j, "smtp", t, t + d, s, c, cc, 250, "250 2.1.0 Ok");
  t += d;
  line(j, "smtp", t, t + d, c, s, cc, -1, "RCPT TO:<bob@bob.example>");
  t += d;
  if (greylist) {
    msg_ev(j, t, "policy.greylist", "node", s, NULL, 0);
    trace_key_str(j->tw, "verdict", "defer");
    trace_key_str(j->tw, "triplet", "10.0.2.2/alice@alice.example/bob@bob.example");
    trace_end(j->tw);
    line(j, "smtp", t, t + d, s, c, cc, 450, "450 4.2.0 greylisted, try again later");
    t += d;
    msg_ev(j, t, "msg.defer", "node", c, NULL, 0);
    trace_key_str(j->tw, "rcpt", "bob@bob.example");
    trace_key_str(j->tw, "reason", "450 4.2.0 greylisted");
    trace_key_int(j->tw, "next_try", j->t0 + (t + 300000) * FIX_MS);
    trace_end(j->tw);
  } else {
    line(j, "smtp", t, t + d, s, c, cc, 250, "250 2.1.5 Ok");
    t += d;
    line(j, "smtp", t, t + d, c, s, cc, -1, "DATA");
    t += d;
    line(j, "smtp", t, t + d, s, c, cc, 354, "354 End data with <CR><LF>.<CR><LF>");
    t += d;
    data(j, t, t + 3 * d, c, s, cc);
    t += 3 * d;
    line(j, "smtp", t, t + d, s, c, cc, 250, "250 2.0.0 Ok: queued as 4711");
    t += d;
    msg_ev(j, t, c == N_LAPTOP ? "msg.submit" : "msg.relay", "from", c, "to", s);
    trace_key_uint(j->tw, "conn", cc);
    if (c != N_LAPTOP)
      trace_key_int(j->tw, "hop", 2);
    trace_end(j->tw);
    msg_ev(j, t, "msg.queue", "node", s, NULL, 0);
    trace_key_str(j->tw, "queue_id", "4711");
    trace_end(j->tw);
  }
  line(j, "smtp", t, t + d, c, s, cc, -1, "QUIT");
  t += d;
  line(j, "smtp", t, t + d, s, c, cc, 221, "221 2.0.0 Bye");
  t += d;
  tcp(j, t, "tcp.close", c, cc, s, sc);
  tcp(j, t + d, "tcp.close", s, sc, c, cc);
  return t + d;
}

void viz_fixture_journey(trace_writer *tw, const char *key, int64_t t0, uint64_t conn_base) {
  jr j = {tw, t0, key};
  msg_ev(&j, 0, "msg.compose", "node", N_LAPTOP, NULL, 0);
  trace_key_printf(tw, "message_id", "<%s@laptop.alice.example>", key);
  trace_key_str(tw, "from", "alice@alice.example");
  trace_arr_begin(tw, "rcpts");
  trace_key_str(tw, NULL, "bob@bob.example");
  trace_arr_end(tw);
  trace_key_str(tw, "subject", "Hello Bob");
  trace_end(tw);
  /* submission: 0 .. ~260 ms */
  int64_t t = smtp_session(&j, 10, N_LAPTOP, N_MSA, conn_base + 1, conn_base + 2, true, false);
  /* msa -> relay, messages-detail style (no connection) */
  t += 40;
  msg_ev(&j, t, "msg.relay", "from", N_MSA, "to", N_RELAY);
  trace_end(tw);
  msg_ev(&j, t, "msg.queue", "node", N_RELAY, NULL, 0);
  trace_key_str(tw, "queue_id", "A1");
  trace_end(tw);
  /* MX lookup over UDP */
  t += 10;
  trace_event_begin(tw, t0 + (t + 2) * FIX_MS, "dns.query");
  trace_key_uint(tw, "conn", 0);
  trace_key_str(tw, "from", nodes[N_RELAY].name);
  trace_key_str(tw, "to", nodes[N_NS].name);
  trace_key_int(tw, "sent", t0 + t * FIX_MS);
  trace_key_uint(tw, "qid", 7);
  trace_key_str(tw, "qname", "bob.example");
  trace_key_str(tw, "qtype", "MX");
  trace_key_str(tw, "proto", "udp");
  trace_end(tw);
  trace_event_begin(tw, t0 + (t + 6) * FIX_MS, "dns.response");
  trace_key_uint(tw, "conn", 0);
  trace_key_str(tw, "from", nodes[N_NS].name);
  trace_key_str(tw, "to", nodes[N_RELAY].name);
  trace_key_int(tw, "sent", t0 + (t + 4) * FIX_MS);
  trace_key_uint(tw, "qid", 7);
  trace_key_str(tw, "qname", "bob.example");
  trace_key_str(tw, "qtype", "MX");
  trace_key_str(tw, "rcode", "NOERROR");
  trace_arr_begin(tw, "answers");
  trace_key_str(tw, NULL, "10 mx.bob.example");
  trace_arr_end(tw);
  trace_key_bool(tw, "tc", false);
  trace_end(tw);
  /* first attempt: greylisted */
  t = smtp_session(&j, t + 10, N_RELAY, N_MX, conn_base + 3, conn_base + 4, false, true);
  trace_event_begin(tw, t0 + (t + 5) * FIX_MS, "net.drop");
  trace_key_str(tw, "node", "r1");
  trace_key_uint(tw, "conn", conn_base + 3);
  trace_key_str(tw, "src", "10.0.2.2:40003");
  trace_key_str(tw, "dst", "10.0.3.1:25");
  trace_key_str(tw, "proto", "tcp");
  trace_key_str(tw, "next", nodes[N_MX].name);
  trace_key_uint(tw, "link", 4);
  trace_key_str(tw, "reason", "loss");
  trace_end(tw);
  /* a fault on the reader's link */
  trace_event_begin(tw, t0 + 100 * FIX_S, "fault.link_down");
  trace_key_uint(tw, "link", 6);
  trace_key_str(tw, "a", nodes[N_PHONE].name);
  trace_key_str(tw, "b", "r1");
  trace_end(tw);
  trace_event_begin(tw, t0 + 260 * FIX_S, "fault.link_up");
  trace_key_uint(tw, "link", 6);
  trace_key_str(tw, "a", nodes[N_PHONE].name);
  trace_key_str(tw, "b", "r1");
  trace_end(tw);
  /* the retry, 300 s later: accepted */
  t = smtp_session(&j, 300400, N_RELAY, N_MX, conn_base + 5, conn_base + 6, true, false);
  t += 100;
  msg_ev(&j, t, "msg.relay", "from", N_MX, "to", N_IMAP);
  trace_end(tw);
  msg_ev(&j, t, "msg.deliver", "node", N_IMAP, NULL, 0);
  trace_key_str(tw, "rcpt", "bob@bob.example");
  trace_key_str(tw, "mailbox", "bob");
  trace_key_str(tw, "folder", "INBOX");
  trace_end(tw);
  /* IMAP fetch at 400 s */
  int64_t f = 400000;
  uint64_t cc = conn_base + 7, sc = conn_base + 8;
  tcp(&j, f, "tcp.connect", N_PHONE, cc, N_IMAP, 0);
  tcp(&j, f + 3, "tcp.accept", N_IMAP, sc, N_PHONE, cc);
  tcp(&j, f + 6, "tcp.established", N_PHONE, cc, N_IMAP, sc);
  line(&j, "imap", 6 + f, f + 9, N_IMAP, N_PHONE, cc, 1, "* OK IMAP4rev1 ready");
  line(&j, "imap", 9 + f, f + 12, N_PHONE, N_IMAP, cc, -1, "a1 LOGIN bob secret");
  line(&j, "imap", 12 + f, f + 15, N_IMAP, N_PHONE, cc, 0, "a1 OK LOGIN completed");
  line(&j, "imap", 15 + f, f + 18, N_PHONE, N_IMAP, cc, -1, "a2 FETCH 1 BODY[]");
  line(&j, "imap", 18 + f, f + 21, N_IMAP, N_PHONE, cc, 0, "a2 OK FETCH completed");
  msg_ev(&j, f + 21, "msg.fetch", "node", N_PHONE, "from", N_IMAP);
  trace_key_str(tw, "proto", "imap");
  trace_key_str(tw, "mailbox", "bob");
  trace_end(tw);
  msg_ev(&j, f + 22, "msg.display", "node", N_PHONE, NULL, 0);
  trace_arr_begin(tw, "headers");
  static const char *const hdrs[][2] = {
      {"From", "Alice <alice@alice.example>"},
      {"To", "Bob <bob@bob.example>"},
      {"Subject", "Hello Bob"},
      {"Authentication-Results", "mx.bob.example; spf=pass; dkim=pass; dmarc=pass"},
      {"DKIM-Signature", "v=1; a=rsa-sha256; d=alice.example; s=s1"},
  };
  for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
    trace_arr_begin(tw, NULL);
    trace_key_str(tw, NULL, hdrs[i][0]);
    trace_key_str(tw, NULL, hdrs[i][1]);
    trace_arr_end(tw);
  }
  trace_arr_end(tw);
  trace_arr_begin(tw, "received");
  trace_key_str(tw, NULL, "from relay.alice.example by mx.bob.example");
  trace_key_str(tw, NULL, "from msa.alice.example by relay.alice.example");
  trace_key_str(tw, NULL, "from laptop.alice.example by msa.alice.example");
  trace_arr_end(tw);
  trace_arr_begin(tw, "attachments");
  trace_key_str(tw, NULL, "photo.jpg (image/jpeg, 2048 octets)");
  trace_arr_end(tw);
  trace_end(tw);
  tcp(&j, f + 30, "tcp.close", N_PHONE, cc, N_IMAP, sc);
  tcp(&j, f + 33, "tcp.close", N_IMAP, sc, N_PHONE, cc);
}

char *viz_fixture_trace(size_t *len) { return viz_fixture_trace_flags(FIX_ROLES, len); }

char *viz_fixture_trace_flags(unsigned flags, size_t *len) {
  trace_writer *tw = trace_writer_new_memory();
  viz_fixture_header(tw, flags);
  viz_fixture_journey(tw, "m1", FIX_S, 0);
  trace_event_begin(tw, 500 * FIX_S, "end");
  trace_end(tw);
  const GString *s = trace_writer_peek_memory(tw);
  char *out = g_strndup(s->str, s->len);
  *len = s->len;
  trace_writer_free(tw);
  return out;
}
