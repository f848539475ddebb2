/* Tests for trace_pcap: the RFC 1071 checksum against worked examples, the
 * frames made from a small hand-written packet-detail trace (pcap headers,
 * Ethernet, IPv4/IPv6, TCP/UDP/ICMP fields, every checksum verified by
 * summing the frame back to zero), the key log, and the reader path: bad
 * records are errors naming file and line, and every prefix of the trace
 * (a cut at each byte) is read without a crash, either whole or with an
 * error. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "trace_pcap.h"

/* --- checksum ------------------------------------------------------------ */

static const struct {
  const char *name;
  uint8_t bytes[24];
  size_t n;
  uint32_t sum;
  uint16_t want;
} ck_rows[] = {
    /* RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded). */
    {"rfc1071", {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 8, 0, (uint16_t)~0xddf2},
    /* A classic IPv4 header whose checksum field holds b861. */
    {"ipv4 header",
     {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7},
     20,
     0,
     0xb861},
    /* An odd length pads with a zero octet: 0102 0300 = 0402. */
    {"odd length", {0x01, 0x02, 0x03}, 3, 0, (uint16_t)~0x0402},
    /* A starting (pseudo-header) sum with carries to fold: ffff + ffff + 0001. */
    {"carry", {0xff, 0xff, 0x00, 0x01}, 4, 0xffff, (uint16_t)~0x0001},
    {"empty", {0}, 0, 0, 0xffff},
};

START_TEST(test_checksum) {
  for (size_t i = 0; i < G_N_ELEMENTS(ck_rows); i++) {
    uint16_t got = trace_pcap_checksum(ck_rows[i].bytes, ck_rows[i].n, ck_rows[i].sum);
    ck_assert_msg(got == ck_rows[i].want, "%s: got %04x want %04x", ck_rows[i].name, got,
                  ck_rows[i].want);
  }
  /* A header with its checksum in place sums to zero. */
  uint8_t h[20];
  memcpy(h, ck_rows[1].bytes, 20);
  h[10] = 0xb8, h[11] = 0x61;
  ck_assert_uint_eq(trace_pcap_checksum(h, 20, 0), 0);
}
END_TEST

/* --- a small trace --------------------------------------------------------- */

/* clang-format off */
#define HDR                                                                                       \
  "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"                   \
  "\"detail\":\"packets\",\"nodes\":["                                                          \
  "{\"name\":\"a\",\"index\":0,\"router\":false,\"addrs\":[\"10.0.0.1\",\"fd00::1\"]},"         \
  "{\"name\":\"r\",\"index\":1,\"router\":true,\"addrs\":[\"10.0.0.254\"]},"                    \
  "{\"name\":\"b\",\"index\":2,\"router\":false,\"addrs\":[\"10.0.1.2\",\"fd00::2\"]}],"        \
  "\"links\":[]}\n"

#define SEND(id, t, node, next, rest)                                                             \
  "{\"t\":" #t ",\"id\":" #id ",\"ev\":\"net.send\",\"node\":\"" node "\"," rest                 \
  ",\"next\":\"" next "\",\"link\":0" PAYLOAD_##id "}\n"

#define PAYLOAD_1 ""
#define PAYLOAD_2 ""
#define PAYLOAD_3 ",\"payload\":\"EHLO x\\r\\n\""
#define PAYLOAD_4 ",\"payload\":\"\\u0012\\u0034\\u00ff\""
#define PAYLOAD_5 ""
#define PAYLOAD_6 ",\"payload\":\"hi\""
#define PAYLOAD_7 ""

static const char trace_text[] =
    HDR SEND(1, 1000, "a", "r",
             "\"conn\":1,\"src\":\"10.0.0.1:1025\",\"dst\":\"10.0.1.2:25\",\"proto\":\"tcp\","
             "\"size\":40,\"len\":0,\"flags\":\"S\",\"seq\":4294967295,\"ack\":0,\"win\":70000")
    /* the router forwarding it: not a frame */
    SEND(2, 2000, "r", "b",
         "\"conn\":1,\"src\":\"10.0.0.1:1025\",\"dst\":\"10.0.1.2:25\",\"proto\":\"tcp\","
         "\"size\":40,\"len\":0,\"flags\":\"S\",\"seq\":4294967295,\"ack\":0,\"win\":70000")
    SEND(3, 3000000001, "a", "r",
         "\"conn\":1,\"src\":\"10.0.0.1:1025\",\"dst\":\"10.0.1.2:25\",\"proto\":\"tcp\","
         "\"size\":48,\"len\":8,\"flags\":\"PA\",\"seq\":0,\"ack\":7,\"win\":65535")
    SEND(4, 3000000002, "a", "r",
         "\"src\":\"10.0.0.1:5353\",\"dst\":\"10.0.1.2:53\",\"proto\":\"udp\","
         "\"size\":31,\"len\":3")
    SEND(5, 3000000003, "b", "r",
         "\"src\":\"10.0.1.2:53\",\"dst\":\"10.0.0.1:5353\",\"proto\":\"icmp\",\"size\":56,\"len\":0")
    SEND(6, 3000000004, "a", "r",
         "\"src\":\"[fd00::1]:1026\",\"dst\":\"[fd00::2]:53\",\"proto\":\"udp\",\"size\":50,"
         "\"len\":2")
    SEND(7, 3000000005, "b", "r",
         "\"conn\":2,\"src\":\"[fd00::2]:25\",\"dst\":\"[fd00::1]:1027\",\"proto\":\"tcp\","
         "\"size\":60,\"len\":0,\"flags\":\"RA\",\"seq\":1,\"ack\":2,\"win\":0")
    "{\"t\":3000000005,\"id\":8,\"ev\":\"tls.keylog\",\"conn\":1,\"node\":\"a\",\"peer\":\"b\","
    "\"lines\":[\"CLIENT_RANDOM 00 11\",\"EXPORTER_SECRET 00 22\"]}\n";

/* clang-format on */

static GByteArray *export(const char *text, size_t len, GString *keylog, trace_pcap_stats *st,
                          GError **err) {
  trace_reader *r = trace_reader_new_memory("t.jsonl", text, len, err);
  if (!r)
    return NULL;
  GByteArray *out = g_byte_array_new();
  bool ok = trace_pcap_write(r, "t.jsonl", out, keylog, st, err);
  trace_reader_free(r);
  if (!ok) {
    g_byte_array_unref(out);
    return NULL;
  }
  return out;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint32_t be16(const uint8_t *p) { return (uint32_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

/* The pseudo-header sum of the IP header at IP for an L4 of LEN octets. */
static uint32_t pseudo(const uint8_t *ip, uint8_t proto, size_t len) {
  bool v4 = ip[0] >> 4 == 4;
  const uint8_t *a = ip + (v4 ? 12 : 8);
  uint32_t s = 0;
  for (size_t i = 0; i < (v4 ? 8u : 32u); i += 2)
    s += be16(a + i);
  return s + proto + (uint32_t)len;
}

typedef struct {
  int64_t t;
  const uint8_t *eth, *ip, *l4;
  size_t l4len;
} frame_view;

static GArray *frames_of(const GByteArray *pcap) {
  ck_assert_uint_ge(pcap->len, 24);
  GArray *fs = g_array_new(FALSE, FALSE, sizeof(frame_view));
  size_t off = 24;
  while (off < pcap->len) {
    ck_assert_uint_le(off + 16, pcap->len);
    const uint8_t *h = pcap->data + off;
    uint32_t incl = le32(h + 8);
    ck_assert_uint_eq(incl, le32(h + 12));
    ck_assert_uint_le(off + 16 + incl, pcap->len);
    frame_view f = {(int64_t)le32(h) * 1000000000 + le32(h + 4), h + 16, h + 30, NULL, 0};
    size_t iplen = f.ip[0] >> 4 == 4 ? 20 : 40;
    f.l4 = f.ip + iplen;
    f.l4len = incl - 14 - iplen;
    g_array_append_val(fs, f);
    off += 16 + incl;
  }
  return fs;
}

START_TEST(test_frames) {
  GError *err = NULL;
  GString *keylog = g_string_new(NULL);
  trace_pcap_stats st;
  GByteArray *pcap = export(trace_text, strlen(trace_text), keylog, &st, &err);
  ck_assert_msg(pcap != NULL, "%s", err ? err->message : "");
  /* Global header: nanosecond magic, 2.4, LINKTYPE_ETHERNET. */
  static const uint8_t gh[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                 0,    0,    0,    0,    0, 0, 4, 0, 1, 0, 0, 0};
  ck_assert_mem_eq(pcap->data, gh, 24);
  GArray *fs = frames_of(pcap);
  ck_assert_uint_eq(fs->len, 6); /* the router's copy is not one */
  ck_assert_uint_eq(st.frames, 6);
  ck_assert_uint_eq(st.tcp, 3);
  ck_assert_uint_eq(st.udp, 2);
  ck_assert_uint_eq(st.icmp, 1);
  static const struct {
    int64_t t;
    uint32_t ethertype;
    uint8_t proto;
    size_t l4len;
    uint8_t dst_mac_last, src_mac_last;
  } want[] = {
      {1000, 0x0800, 6, 20, 1, 0},        {3000000001, 0x0800, 6, 28, 1, 0},
      {3000000002, 0x0800, 17, 11, 1, 0}, {3000000003, 0x0800, 1, 36, 1, 2},
      {3000000004, 0x86dd, 17, 10, 1, 0}, {3000000005, 0x86dd, 6, 20, 1, 2},
  };
  for (guint i = 0; i < fs->len; i++) {
    frame_view *f = &g_array_index(fs, frame_view, i);
    ck_assert_msg(f->t == want[i].t, "frame %u: got t %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT,
                  i, f->t, want[i].t);
    ck_assert_uint_eq(be16(f->eth + 12), want[i].ethertype);
    ck_assert_uint_eq(f->eth[0], 0x02);
    ck_assert_uint_eq(f->eth[5], want[i].dst_mac_last);
    ck_assert_uint_eq(f->eth[11], want[i].src_mac_last);
    ck_assert_uint_eq(f->l4len, want[i].l4len);
    bool v4 = want[i].ethertype == 0x0800;
    uint8_t proto = v4 ? f->ip[9] : f->ip[6];
    ck_assert_msg(proto == want[i].proto || (proto == 58 && want[i].proto == 1),
                  "frame %u: got proto %u want %u", i, proto, want[i].proto);
    if (v4) {
      ck_assert_uint_eq(trace_pcap_checksum(f->ip, 20, 0), 0);
      ck_assert_uint_eq(be16(f->ip + 2), 20 + f->l4len);
      ck_assert_uint_eq(f->ip[8], 64);
    } else {
      ck_assert_uint_eq(be16(f->ip + 4), f->l4len);
    }
    /* Every transport checksum verifies (ICMPv4: no pseudo-header). */
    uint32_t ps = proto == 1 ? 0 : pseudo(f->ip, proto, f->l4len);
    ck_assert_msg(trace_pcap_checksum(f->l4, f->l4len, ps) == 0, "frame %u: bad checksum", i);
  }
  frame_view *syn = &g_array_index(fs, frame_view, 0);
  ck_assert_uint_eq(be16(syn->l4), 1025);
  ck_assert_uint_eq(be16(syn->l4 + 2), 25);
  ck_assert_uint_eq(be32(syn->l4 + 4), 4294967295u);
  ck_assert_uint_eq(syn->l4[13], 0x02);         /* SYN */
  ck_assert_uint_eq(be16(syn->l4 + 14), 65535); /* 70000 clamped */
  frame_view *data = &g_array_index(fs, frame_view, 1);
  ck_assert_uint_eq(data->l4[13], 0x18); /* PSH ACK */
  ck_assert_uint_eq(be32(data->l4 + 8), 7);
  ck_assert_mem_eq(data->l4 + 20, "EHLO x\r\n", 8);
  /* IPv4 identification counts per source node. */
  ck_assert_uint_eq(be16(data->ip + 4), be16(syn->ip + 4) + 1);
  frame_view *udp = &g_array_index(fs, frame_view, 2);
  static const uint8_t pl[3] = {0x12, 0x34, 0xff};
  ck_assert_mem_eq(udp->l4 + 8, pl, 3);
  ck_assert_uint_eq(be16(udp->l4 + 4), 11);
  frame_view *icmp = &g_array_index(fs, frame_view, 3);
  ck_assert_uint_eq(icmp->l4[0], 3);
  ck_assert_uint_eq(icmp->l4[1], 3);
  ck_assert_uint_eq(be16(icmp->l4 + 8 + 20), 5353); /* the quoted datagram's source port */
  frame_view *rst = &g_array_index(fs, frame_view, 5);
  ck_assert_uint_eq(rst->l4[13], 0x14); /* RST ACK */
  ck_assert_str_eq(keylog->str, "CLIENT_RANDOM 00 11\nEXPORTER_SECRET 00 22\n");
  ck_assert_uint_eq(st.keylog_lines, 2);
  g_array_unref(fs);
  g_byte_array_unref(pcap);
  g_string_free(keylog, TRUE);
}
END_TEST

/* The same run twice gives the same bytes. */
START_TEST(test_deterministic) {
  GByteArray *a = export(trace_text, strlen(trace_text), NULL, NULL, NULL);
  GByteArray *b = export(trace_text, strlen(trace_text), NULL, NULL, NULL);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(a->len, b->len);
  ck_assert_mem_eq(a->data, b->data, a->len);
  g_byte_array_unref(a);
  g_byte_array_unref(b);
}
END_TEST

/* --- bad input --------------------------------------------------------------- */

#define REC(rest) "{\"t\":5,\"id\":1,\"ev\":\"net.send\",\"node\":\"a\"," rest "}\n"
#define TCP_OK "\"src\":\"10.0.0.1:1\",\"dst\":\"10.0.1.2:2\",\"proto\":\"tcp\",\"len\":0,"

/* clang-format off */
static const struct {
  const char *name, *text, *want;
} bad_rows[] = {
    {"messages detail",
     "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"
     "\"detail\":\"messages\",\"nodes\":[],\"links\":[]}\n",
     "t.jsonl: recorded at messages detail"},
    {"no payload",
     HDR REC("\"src\":\"10.0.0.1:1\",\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\",\"len\":4,"
             "\"next\":\"r\""),
     "t.jsonl:2: net.send: lacks its \"payload\""},
    {"short payload",
     HDR REC("\"src\":\"10.0.0.1:1\",\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\",\"len\":4,"
             "\"next\":\"r\",\"payload\":\"abc\""),
     "t.jsonl:2: net.send: lacks its \"payload\""},
    {"bad endpoint", HDR REC("\"src\":\"10.0.0.1\",\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\""),
     "t.jsonl:2: net.send: has endpoints"},
    {"bad port", HDR REC("\"src\":\"10.0.0.1:70000\",\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\""),
     "t.jsonl:2: net.send: has endpoints"},
    {"v6 without brackets", HDR REC("\"src\":\"fd00::1:1\",\"dst\":\"fd00::2:2\",\"proto\":\"udp\""),
     "t.jsonl:2: net.send: has endpoints"},
    {"mixed families", HDR REC("\"src\":\"10.0.0.1:1\",\"dst\":\"[fd00::2]:2\",\"proto\":\"udp\""),
     "t.jsonl:2: net.send: has endpoints"},
    {"unknown node",
     HDR "{\"t\":5,\"id\":1,\"ev\":\"net.send\",\"node\":\"zz\",\"src\":\"10.0.0.1:1\","
         "\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\"}\n",
     "t.jsonl:2: net.send: names a node not in the header: zz"},
    {"no next", HDR REC(TCP_OK "\"flags\":\"S\",\"seq\":1,\"ack\":0,\"win\":1"),
     "t.jsonl:2: net.send: lacks \"next\""},
    {"bad flags", HDR REC(TCP_OK "\"flags\":\"SX\",\"seq\":1,\"ack\":0,\"win\":1,\"next\":\"r\""),
     "t.jsonl:2: net.send: lacks TCP \"flags\""},
    {"seq too big",
     HDR REC(TCP_OK "\"flags\":\"S\",\"seq\":4294967296,\"ack\":0,\"win\":1,\"next\":\"r\""),
     "t.jsonl:2: net.send: lacks TCP"},
    {"no src", HDR REC("\"dst\":\"10.0.1.2:2\",\"proto\":\"udp\""),
     "t.jsonl:2: net.send: lacks one of the text keys"},
    {"unknown proto",
     HDR REC("\"src\":\"10.0.0.1:1\",\"dst\":\"10.0.1.2:2\",\"proto\":\"sctp\",\"len\":0,"
             "\"next\":\"r\""),
     "t.jsonl:2: net.send: has an unknown \"proto\": sctp"},
    {"keylog without lines",
     HDR "{\"t\":5,\"id\":1,\"ev\":\"tls.keylog\",\"conn\":1,\"lines\":\"x\"}\n",
     "t.jsonl:2: tls.keylog: lacks the array \"lines\""},
    {"keylog with a newline",
     HDR "{\"t\":5,\"id\":1,\"ev\":\"tls.keylog\",\"conn\":1,\"lines\":[\"a\\nb\"]}\n",
     "t.jsonl:2: tls.keylog: has a line"},
    {"bad node address",
     "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"
     "\"detail\":\"packets\",\"nodes\":[{\"name\":\"a\",\"addrs\":[\"10.0.0\"]}],\"links\":[]}\n",
     "t.jsonl:1: header: has a node address"},
    {"truncated", HDR "{\"t\":5,\"id\":1,\"ev\":\"net.send\"", "truncated"},
};

/* clang-format on */

START_TEST(test_bad) {
  for (size_t i = 0; i < G_N_ELEMENTS(bad_rows); i++) {
    GError *err = NULL;
    GByteArray *out = export(bad_rows[i].text, strlen(bad_rows[i].text), NULL, NULL, &err);
    ck_assert_msg(out == NULL, "%s: got a pcap, want an error", bad_rows[i].name);
    ck_assert_msg(err != NULL, "%s: no error set", bad_rows[i].name);
    ck_assert_msg(strstr(err->message, bad_rows[i].want) != NULL, "%s: got \"%s\" want \"%s\"",
                  bad_rows[i].name, err->message, bad_rows[i].want);
    g_error_free(err);
  }
}
END_TEST

/* Every prefix of the trace: whole-line prefixes export the frames of
 * their lines, any other cut is a clean error (a truncated trace), never a
 * crash. */
START_TEST(test_every_prefix) {
  size_t n = strlen(trace_text);
  guint whole = 0, errors = 0;
  for (size_t k = 0; k <= n; k++) {
    GError *err = NULL;
    GByteArray *out = export(trace_text, k, NULL, NULL, &err);
    bool at_line_end = k > 0 && trace_text[k - 1] == '\n';
    if (at_line_end) {
      ck_assert_msg(out != NULL, "cut at %zu: got %s want a pcap", k, err ? err->message : "");
      whole++;
    } else {
      ck_assert_msg(out == NULL && err != NULL, "cut at %zu: got a pcap want an error", k);
      errors++;
    }
    if (out)
      g_byte_array_unref(out);
    if (err)
      g_error_free(err);
  }
  ck_assert_uint_eq(whole, 9); /* header + 8 records */
  ck_assert_uint_eq(errors, n + 1 - 9);
}
END_TEST

/* --- protocol detail: packets rebuilt ------------------------------------- */

/* clang-format off */
#define PHDR                                                                                      \
  "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"t\",\"seed\":1,"                   \
  "\"detail\":\"protocol\",\"nodes\":["                                                         \
  "{\"name\":\"a\",\"index\":0,\"router\":false,\"addrs\":[\"10.0.0.1\"]},"                     \
  "{\"name\":\"r\",\"index\":1,\"router\":true,\"addrs\":[\"10.0.0.254\"]},"                    \
  "{\"name\":\"b\",\"index\":2,\"router\":false,\"addrs\":[\"10.0.1.2\"]}],"                    \
  "\"links\":[{\"a\":\"a\",\"b\":\"r\"},{\"a\":\"b\",\"b\":\"r\"}]}\n"
#define EV(id, t, ev) "{\"t\":" #t ",\"id\":" #id ",\"ev\":\"" ev "\","
#define TCPE(node, conn, src, dst) \
  "\"node\":\"" node "\",\"conn\":" #conn ",\"src\":\"" src "\",\"dst\":\"" dst "\""
#define AB TCPE("a", 1, "10.0.0.1:1025", "10.0.1.2:25")
#define BA TCPE("b", 2, "10.0.1.2:25", "10.0.0.1:1025")
#define LINE(ev, conn, from, to, sent, line)                                                      \
  ev "\"conn\":" #conn ",\"from\":\"" from "\",\"to\":\"" to "\",\"sent\":" #sent                 \
     ",\"line\":\"" line "\"}\n"

static const char proto_text[] =
    PHDR EV(1, 1000, "tcp.connect") AB "}\n"
    EV(2, 3000, "tcp.established") AB ",\"peer\":2}\n"
    EV(3, 4000, "tcp.accept") BA ",\"peer\":1}\n"
    EV(4, 4000, "tcp.established") BA ",\"peer\":1}\n"
    LINE(EV(5, 5000, "smtp.reply"), 1, "b", "a", 4000, "220 b ESMTP")
    LINE(EV(6, 6000, "smtp.cmd"), 2, "a", "b", 5000, "EHLO a")
    LINE(EV(7, 7000, "smtp.reply"), 1, "b", "a", 6000, "250-b")
    LINE(EV(8, 7000, "smtp.reply"), 1, "b", "a", 6000, "250 STARTTLS")
    LINE(EV(9, 8000, "smtp.cmd"), 2, "a", "b", 7000, "STARTTLS")
    LINE(EV(10, 9000, "smtp.reply"), 1, "b", "a", 8000, "220 Ready")
    /* inside TLS: not shown */
    LINE(EV(11, 11000, "smtp.cmd"), 2, "a", "b", 10000, "EHLO a")
    LINE(EV(12, 12000, "smtp.reply"), 1, "b", "a", 11000, "250 b")
    EV(13, 13000, "dns.query") "\"conn\":0,\"from\":\"a\",\"to\":\"b\",\"sent\":12500,"
    "\"proto\":\"udp\",\"qid\":1,\"qname\":\"x.\",\"qtype\":\"A\",\"src\":\"10.0.0.1:5353\","
    "\"dst\":\"10.0.1.2:53\",\"wire\":\"\\u0000\\u0001q\"}\n"
    EV(14, 20000, "tcp.close") BA ",\"peer\":1,\"reason\":\"normal\"}\n"
    EV(15, 21000, "tcp.close") AB ",\"peer\":2,\"reason\":\"normal\"}\n"
    /* DNS over TCP, left open */
    EV(16, 30000, "tcp.connect") TCPE("a", 3, "10.0.0.1:1026", "10.0.1.2:53") "}\n"
    EV(17, 32000, "tcp.established") TCPE("a", 3, "10.0.0.1:1026", "10.0.1.2:53") ",\"peer\":4}\n"
    EV(18, 33000, "tcp.accept") TCPE("b", 4, "10.0.1.2:53", "10.0.0.1:1026") ",\"peer\":3}\n"
    EV(19, 34000, "dns.query") "\"conn\":4,\"from\":\"a\",\"to\":\"b\",\"sent\":32000,"
    "\"proto\":\"tcp\",\"qid\":1,\"qname\":\"x.\",\"qtype\":\"A\",\"src\":\"10.0.0.1:1026\","
    "\"dst\":\"10.0.1.2:53\",\"wire\":\"ab\"}\n"
    /* aborted by the client */
    EV(20, 35000, "tcp.close") TCPE("a", 3, "10.0.0.1:1026", "10.0.1.2:53")
    ",\"peer\":4,\"reason\":\"aborted\"}\n"
    /* refused */
    EV(21, 40000, "tcp.connect") TCPE("a", 5, "10.0.0.1:1027", "10.0.1.2:26") "}\n"
    EV(22, 42000, "tcp.refused") TCPE("a", 5, "10.0.0.1:1027", "10.0.1.2:26") "}\n";

/* clang-format on */

START_TEST(test_rebuilt) {
  GError *err = NULL;
  trace_pcap_stats st;
  GByteArray *pcap = export(proto_text, strlen(proto_text), NULL, &st, &err);
  ck_assert_msg(pcap != NULL, "%s", err ? err->message : "");
  GArray *fs = frames_of(pcap);
  static const struct {
    int64_t t;
    uint16_t sport;
    uint8_t flags; /* 0 = UDP */
    size_t len;
  } want[] = {
      {1000, 1025, 0x02, 0},  /* SYN */
      {2000, 25, 0x12, 0},    /* SYN-ACK: connect + (accept - established) */
      {3000, 1025, 0x10, 0},  /* ACK */
      {4000, 25, 0x18, 13},   /* 220 */
      {5000, 1025, 0x18, 8},  /* EHLO, carrying the ACK of the 220 */
      {6000, 25, 0x18, 21},   /* 250-b, 250 STARTTLS in one write */
      {7000, 1025, 0x18, 10}, /* STARTTLS */
      {8000, 25, 0x18, 11},   /* 220 Ready */
      {9000, 1025, 0x10, 0},  /* its ACK; then TLS, not shown */
      {12500, 5353, 0, 3},    /* DNS over UDP */
      {18000, 25, 0x11, 0},   /* the server closes first: its FIN */
      {19000, 1025, 0x11, 0}, /* the client's FIN */
      {20000, 25, 0x10, 0},   /* the last ACK */
      {30000, 1026, 0x02, 0}, {31000, 53, 0x12, 0},
      {32000, 1026, 0x10, 0}, {32000, 1026, 0x18, 4}, /* length prefix + "ab" */
      {34000, 53, 0x10, 0},   {35000, 1026, 0x14, 0}, /* RST: aborted */
      {40000, 1027, 0x02, 0}, {41000, 26, 0x14, 0},   /* refused */
  };
  ck_assert_uint_eq(fs->len, G_N_ELEMENTS(want));
  GString *dir[2] = {g_string_new(NULL), g_string_new(NULL)};
  for (guint i = 0; i < fs->len; i++) {
    frame_view *f = &g_array_index(fs, frame_view, i);
    ck_assert_msg(f->t == want[i].t, "frame %u: got t %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT,
                  i, f->t, want[i].t);
    ck_assert_msg(be16(f->l4) == want[i].sport, "frame %u: got port %u want %u", i, be16(f->l4),
                  want[i].sport);
    bool udp = f->ip[9] == 17;
    ck_assert_uint_eq(udp, want[i].flags == 0);
    size_t hl = udp ? 8 : 20;
    ck_assert_msg(f->l4len - hl == want[i].len, "frame %u: got len %zu want %zu", i, f->l4len - hl,
                  want[i].len);
    if (!udp)
      ck_assert_msg(f->l4[13] == want[i].flags, "frame %u: got flags %02x want %02x", i, f->l4[13],
                    want[i].flags);
    ck_assert_uint_eq(trace_pcap_checksum(f->ip, 20, 0), 0);
    ck_assert_msg(trace_pcap_checksum(f->l4, f->l4len, pseudo(f->ip, f->ip[9], f->l4len)) == 0,
                  "frame %u: bad checksum", i);
    /* Frames leave a host for its only neighbour, the router. */
    ck_assert_uint_eq(f->eth[5], 1);
    if (!udp && be16(f->l4 + 2) == 1025 && want[i].len)
      g_string_append_len(dir[1], (const char *)f->l4 + 20, (gssize)want[i].len);
    else if (!udp && be16(f->l4) == 1025 && want[i].len)
      g_string_append_len(dir[0], (const char *)f->l4 + 20, (gssize)want[i].len);
  }
  ck_assert_str_eq(dir[0]->str, "EHLO a\r\nSTARTTLS\r\n");
  ck_assert_str_eq(dir[1]->str, "220 b ESMTP\r\n250-b\r\n250 STARTTLS\r\n220 Ready\r\n");
  /* Sequence numbers: each segment starts where the last one of its
   * direction ended (SYN and FIN count one); no ACK covers more than the
   * other direction has sent so far, nor goes back. */
  GHashTable *next = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < fs->len; i++) {
    frame_view *f = &g_array_index(fs, frame_view, i);
    if (f->ip[9] != 6)
      continue;
    uint32_t sport = be16(f->l4), dport = be16(f->l4 + 2);
    uint32_t seq = be32(f->l4 + 4), ack = be32(f->l4 + 8);
    uint8_t fl = f->l4[13];
    size_t len = f->l4len - 20;
    gpointer k = GUINT_TO_POINTER(sport << 16 | dport), rk = GUINT_TO_POINTER(dport << 16 | sport);
    if (!(fl & 0x02) && !(fl & 0x04) && g_hash_table_contains(next, k)) {
      uint32_t want_seq = GPOINTER_TO_UINT(g_hash_table_lookup(next, k));
      ck_assert_msg(seq == want_seq, "frame %u: got seq %u want %u", i, seq, want_seq);
    }
    if (!(fl & 0x04))
      g_hash_table_insert(next, k, GUINT_TO_POINTER(seq + len + ((fl & 0x03) ? 1 : 0)));
    if ((fl & 0x10) && g_hash_table_contains(next, rk))
      ck_assert_msg(ack == GPOINTER_TO_UINT(g_hash_table_lookup(next, rk)),
                    "frame %u: ack %u is not the peer's next sequence number", i, ack);
  }
  g_hash_table_destroy(next);
  ck_assert(st.rebuilt);
  ck_assert_uint_eq(st.tls_sessions_hidden, 1);
  ck_assert_uint_eq(st.tls_lines_hidden, 2);
  ck_assert_uint_eq(st.udp, 1);
  g_string_free(dir[0], TRUE);
  g_string_free(dir[1], TRUE);
  g_array_unref(fs);
  g_byte_array_unref(pcap);
}
END_TEST

/* Cut at every byte: whole-line prefixes rebuild, other cuts fail cleanly. */
START_TEST(test_rebuilt_every_prefix) {
  size_t n = strlen(proto_text);
  for (size_t k = 0; k <= n; k++) {
    GError *err = NULL;
    GByteArray *out = export(proto_text, k, NULL, NULL, &err);
    bool at_line_end = k > 0 && proto_text[k - 1] == '\n';
    ck_assert_msg(at_line_end ? out != NULL : (out == NULL && err != NULL), "cut at %zu: %s", k,
                  err ? err->message : "a pcap");
    if (out)
      g_byte_array_unref(out);
    if (err)
      g_error_free(err);
  }
}
END_TEST

/* clang-format off */
static const struct {
  const char *name, *text, *want;
} bad_proto_rows[] = {
    {"connect without conn", PHDR EV(1, 1, "tcp.connect") "\"src\":\"10.0.0.1:1\"}\n",
     "t.jsonl:2: tcp.connect: lacks the integer \"conn\""},
    {"connect with a bad endpoint",
     PHDR EV(1, 1, "tcp.connect") TCPE("a", 1, "10.0.0.1", "10.0.1.2:25") "}\n",
     "t.jsonl:2: tcp.connect: lacks an endpoint"},
    {"connect twice", PHDR EV(1, 1, "tcp.connect") AB "}\n" EV(2, 1, "tcp.connect") AB "}\n",
     "t.jsonl:3: tcp.connect: repeats a connection id"},
    {"line without sent",
     PHDR EV(1, 1, "smtp.cmd") "\"conn\":2,\"from\":\"a\",\"to\":\"b\",\"line\":\"x\"}\n",
     "t.jsonl:2: smtp.cmd: lacks the integers"},
    {"line that is not bytes",
     PHDR EV(1, 1, "smtp.cmd") "\"conn\":2,\"from\":\"a\",\"to\":\"b\",\"sent\":1,"
     "\"line\":\"\\u0100\"}\n",
     "t.jsonl:2: smtp.cmd: lacks the bytes string \"line\""},
    {"dns without endpoints",
     PHDR EV(1, 1, "dns.query") "\"conn\":0,\"sent\":1,\"proto\":\"udp\",\"wire\":\"x\"}\n",
     "t.jsonl:2: dns.query: lacks an endpoint"},
};

/* clang-format on */

START_TEST(test_rebuilt_bad) {
  for (size_t i = 0; i < G_N_ELEMENTS(bad_proto_rows); i++) {
    GError *err = NULL;
    const char *t = bad_proto_rows[i].text;
    GByteArray *out = export(t, strlen(t), NULL, NULL, &err);
    ck_assert_msg(out == NULL && err, "%s: got a pcap, want an error", bad_proto_rows[i].name);
    ck_assert_msg(strstr(err->message, bad_proto_rows[i].want) != NULL,
                  "%s: got \"%s\" want \"%s\"", bad_proto_rows[i].name, err->message,
                  bad_proto_rows[i].want);
    g_error_free(err);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("trace_pcap");
  TCase *tc = tcase_create("checksum");
  tcase_add_test(tc, test_checksum);
  suite_add_tcase(s, tc);
  tc = tcase_create("frames");
  tcase_add_test(tc, test_frames);
  tcase_add_test(tc, test_deterministic);
  suite_add_tcase(s, tc);
  tc = tcase_create("protocol detail");
  tcase_add_test(tc, test_rebuilt);
  tcase_add_test(tc, test_rebuilt_every_prefix);
  tcase_add_test(tc, test_rebuilt_bad);
  suite_add_tcase(s, tc);
  tc = tcase_create("bad input");
  tcase_add_test(tc, test_bad);
  tcase_add_test(tc, test_every_prefix);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
