/* trace_pcap.c — a libpcap file from the packets of a trace (see
 * trace_pcap.h).
 *
 * Followed: the libpcap file format (draft-ietf-opsawg-pcap §4, §5:
 * nanosecond magic 0xa1b23c4d, written little-endian), Ethernet II
 * framing, RFC 791 §3.1 (IPv4 header), RFC 8200 §3 (IPv6 header), RFC
 * 9293 §3.1 (TCP header and pseudo-header), RFC 768 (UDP; a computed zero
 * checksum is sent as 0xffff), RFC 792 and RFC 4443 §3.1 (port
 * unreachable quoting the offending datagram), RFC 1071 (the checksum).
 * Only the sending hop of each packet is written, so a packet shows once,
 * as a capture on the sender's interface would show it.
 */
#include "trace_pcap.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "trace_pcap_int.h"

enum { IPPROTO_TCP_ = 6, IPPROTO_UDP_ = 17, IPPROTO_ICMP_ = 1, IPPROTO_ICMPV6_ = 58 };

typedef trace_pcap__ep endpoint;
typedef trace_pcap__ctx pcap_ctx;

uint16_t trace_pcap_checksum(const uint8_t *p, size_t n, uint32_t sum) {
  uint64_t s = sum;
  for (size_t i = 0; i + 1 < n; i += 2)
    s += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1)
    s += (uint32_t)p[n - 1] << 8;
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* The unfolded sum of a pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1). */
static uint32_t pseudo_sum(const endpoint *src, const endpoint *dst, uint8_t proto, size_t len) {
  uint32_t s = 0;
  size_t alen = src->family == 4 ? 4 : 16;
  for (size_t i = 0; i < alen; i += 2) {
    s += (uint32_t)(src->b[i] << 8 | src->b[i + 1]);
    s += (uint32_t)(dst->b[i] << 8 | dst->b[i + 1]);
  }
  s += proto;
  s += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
  return s;
}

static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}
static void put32le(GByteArray *a, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  g_byte_array_append(a, b, 4);
}

/* --- errors ------------------------------------------------------------ */

bool trace_pcap__fail(pcap_ctx *c, GError **err, const char *ev, const char *fmt,
                      const char *what) {
  g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD, "%s:%" PRIu64 ": %s: %s %s", c->name,
              trace_reader_line(c->r), ev, fmt, what);
  return false;
}
#define fail trace_pcap__fail

/* --- addresses --------------------------------------------------------- */

static bool parse_addr(const char *s, endpoint *e) {
  if (inet_pton(AF_INET, s, e->b) == 1) {
    e->family = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s, e->b) == 1) {
    e->family = 6;
    return true;
  }
  return false;
}

/* "10.0.0.1:25" or "[fd00::1]:25" (traces/FORMAT.md, Endpoints). */
bool trace_pcap__parse_endpoint(const char *s, endpoint *e) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s)
    return false;
  guint64 port;
  if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
    return false;
  char *host;
  if (s[0] == '[') {
    if (colon[-1] != ']' || colon - s < 3)
      return false;
    host = g_strndup(s + 1, (gsize)(colon - s - 2));
  } else {
    host = g_strndup(s, (gsize)(colon - s));
  }
  memset(e, 0, sizeof *e);
  bool ok = parse_addr(host, e) && (s[0] == '[') == (e->family == 6);
  g_free(host);
  e->port = (uint16_t)port;
  return ok;
}

static char *addr_key(const endpoint *e) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->b, buf, sizeof buf);
  return g_strdup(buf);
}

/* Node index + 1 of the owner of E's address, 0 if none. */
guint trace_pcap__addr_owner(pcap_ctx *c, const endpoint *e) {
  char *k = addr_key(e);
  guint v = GPOINTER_TO_UINT(g_hash_table_lookup(c->addr_node, k));
  g_free(k);
  return v;
}

static bool read_header(pcap_ctx *c, GError **err) {
  const cJSON *h = trace_reader_header(c->r);
  const char *detail = trace_get_str(h, "detail");
  c->rebuild = detail && strcmp(detail, "protocol") == 0;
  if (!detail || (!c->rebuild && strcmp(detail, "packets") != 0)) {
    g_set_error(err, TRACE_READ_ERROR, TRACE_READ_ERROR_RECORD,
                "%s: recorded at %s detail, which has no connections; packets need a trace "
                "recorded at protocol or packet detail ('mailsim run --detail packets')",
                c->name, detail ? detail : "an unknown");
    return false;
  }
  const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(h, "nodes");
  if (!cJSON_IsArray(nodes))
    return fail(c, err, "header", "lacks", "the array \"nodes\"");
  guint i = 0;
  const cJSON *n;
  cJSON_ArrayForEach(n, nodes) {
    const char *name = trace_get_str(n, "name");
    const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(n, "addrs");
    if (!name || !cJSON_IsArray(addrs))
      return fail(c, err, "header", "has a node without", "\"name\" and \"addrs\"");
    g_hash_table_insert(c->node_index, g_strdup(name), GUINT_TO_POINTER(i + 1));
    const cJSON *a;
    cJSON_ArrayForEach(a, addrs) {
      endpoint e;
      if (!cJSON_IsString(a) || !parse_addr(a->valuestring, &e))
        return fail(c, err, "header", "has a node address that is not", "an IP address");
      g_hash_table_insert(c->addr_node, addr_key(&e), GUINT_TO_POINTER(i + 1));
    }
    i++;
  }
  g_array_set_size(c->ip_id, i);
  /* A host with a single link sends everything to the node at its other
   * end: the next hop when the trace does not name it. */
  g_array_set_size(c->gateway, i);
  GArray *links_n = g_array_sized_new(FALSE, TRUE, sizeof(guint), i);
  g_array_set_size(links_n, i);
  const cJSON *links = cJSON_GetObjectItemCaseSensitive(h, "links");
  const cJSON *l;
  cJSON_ArrayForEach(l, links) {
    const char *ends[2] = {trace_get_str(l, "a"), trace_get_str(l, "b")};
    guint idx[2];
    for (int k = 0; k < 2; k++)
      idx[k] = ends[k] ? GPOINTER_TO_UINT(g_hash_table_lookup(c->node_index, ends[k])) : 0;
    if (!idx[0] || !idx[1])
      continue;
    for (int k = 0; k < 2; k++) {
      g_array_index(links_n, guint, idx[k] - 1)++;
      g_array_index(c->gateway, guint, idx[k] - 1) = idx[1 - k];
    }
  }
  for (guint k = 0; k < i; k++)
    if (g_array_index(links_n, guint, k) != 1)
      g_array_index(c->gateway, guint, k) = 0;
  g_array_free(links_n, TRUE);
  return true;
}

/* --- frames -------------------------------------------------------------- */

static void mac(uint8_t *p, guint node) {
  p[0] = 0x02, p[1] = 0, p[2] = 0, p[3] = 0;
  p[4] = (uint8_t)(node >> 8);
  p[5] = (uint8_t)node;
}

/* Appends one frame: Ethernet, IP header for SRC -> DST, then L4 (the
 * transport header and payload, its checksum already in place). */
void trace_pcap__frame(pcap_ctx *c, int64_t t, guint from, guint to, const endpoint *src,
                       const endpoint *dst, uint8_t proto, const uint8_t *l4, size_t l4len) {
  size_t iplen = src->family == 4 ? 20 : 40;
  size_t len = 14 + iplen + l4len;
  uint64_t tu = t < 0 ? 0 : (uint64_t)t;
  put32le(c->out, (uint32_t)(tu / 1000000000u));
  put32le(c->out, (uint32_t)(tu % 1000000000u));
  put32le(c->out, (uint32_t)len);
  put32le(c->out, (uint32_t)len);
  uint8_t hdr[14 + 40] = {0};
  mac(hdr, to);
  mac(hdr + 6, from);
  put16(hdr + 12, src->family == 4 ? 0x0800 : 0x86dd);
  uint8_t *ip = hdr + 14;
  if (src->family == 4) {
    uint32_t *id = &g_array_index(c->ip_id, uint32_t, from);
    ip[0] = 0x45;
    put16(ip + 2, (uint32_t)(iplen + l4len));
    put16(ip + 4, (*id)++ & 0xffff);
    put16(ip + 6, 0x4000); /* DF: the simulation never fragments */
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, src->b, 4);
    memcpy(ip + 16, dst->b, 4);
    put16(ip + 10, trace_pcap_checksum(ip, 20, 0));
  } else {
    ip[0] = 0x60;
    put16(ip + 4, (uint32_t)l4len);
    ip[6] = proto;
    ip[7] = 64;
    memcpy(ip + 8, src->b, 16);
    memcpy(ip + 24, dst->b, 16);
  }
  g_byte_array_append(c->out, hdr, (guint)(14 + iplen));
  g_byte_array_append(c->out, l4, (guint)l4len);
  c->st.frames++;
}

static void put_l4_checksum(uint8_t *l4, size_t len, size_t at, const endpoint *src,
                            const endpoint *dst, uint8_t proto, bool udp) {
  uint16_t ck = trace_pcap_checksum(l4, len, pseudo_sum(src, dst, proto, len));
  if (udp && ck == 0)
    ck = 0xffff; /* RFC 768: zero means "no checksum" */
  put16(l4 + at, ck);
}

/* A transport segment of HLEN header octets, zero but for the ports, then
 * PD[0, PLEN). */
static uint8_t *l4_new(const endpoint *src, const endpoint *dst, size_t hlen, const uint8_t *pd,
                       size_t plen) {
  uint8_t *l4 = g_malloc0(hlen + plen);
  put16(l4, src->port);
  put16(l4 + 2, dst->port);
  if (plen)
    memcpy(l4 + hlen, pd, plen);
  return l4;
}

/* Puts the checksum of the segment L4 (N octets) at offset AT, frames it and
 * frees it. */
static void l4_send(pcap_ctx *c, int64_t t, guint from, guint to, const endpoint *src,
                    const endpoint *dst, uint8_t proto, uint8_t *l4, size_t n, size_t at) {
  put_l4_checksum(l4, n, at, src, dst, proto, proto == IPPROTO_UDP_);
  trace_pcap__frame(c, t, from, to, src, dst, proto, l4, n);
  g_free(l4);
}

void trace_pcap__tcp(pcap_ctx *c, int64_t t, guint from, guint to, const endpoint *src,
                     const endpoint *dst, uint32_t seq, uint32_t ack, uint8_t flags, uint32_t win,
                     const uint8_t *pd, size_t plen) {
  uint8_t *l4 = l4_new(src, dst, 20, pd, plen);
  put32(l4 + 4, seq);
  put32(l4 + 8, ack);
  l4[12] = 5 << 4;
  l4[13] = flags;
  put16(l4 + 14, MIN(win, 65535u)); /* no window scale option is sent */
  l4_send(c, t, from, to, src, dst, IPPROTO_TCP_, l4, 20 + plen, 16);
  c->st.tcp++;
}

void trace_pcap__udp(pcap_ctx *c, int64_t t, guint from, guint to, const endpoint *src,
                     const endpoint *dst, const uint8_t *pd, size_t plen) {
  uint8_t *l4 = l4_new(src, dst, 8, pd, plen);
  put16(l4 + 4, (uint32_t)(8 + plen));
  l4_send(c, t, from, to, src, dst, IPPROTO_UDP_, l4, 8 + plen, 6);
  c->st.udp++;
}

static bool tcp_flags(const char *s, uint8_t *out) {
  uint8_t f = 0;
  for (; *s; s++) {
    switch (*s) {
    case 'F':
      f |= 0x01;
      break;
    case 'S':
      f |= 0x02;
      break;
    case 'R':
      f |= 0x04;
      break;
    case 'P':
      f |= 0x08;
      break;
    case 'A':
      f |= 0x10;
      break;
    default:
      return false;
    }
  }
  *out = f;
  return true;
}

static bool get_u32(const cJSON *rec, const char *key, uint32_t *out) {
  uint64_t v;
  if (!trace_get_uint(rec, key, &v) || v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

static bool on_send(pcap_ctx *c, const cJSON *rec, int64_t t, GError **err) {
  const char *ev = "net.send";
  const char *node = trace_get_str(rec, "node"), *next = trace_get_str(rec, "next");
  const char *ssrc = trace_get_str(rec, "src"), *sdst = trace_get_str(rec, "dst");
  const char *proto = trace_get_str(rec, "proto");
  if (!node || !ssrc || !sdst || !proto)
    return fail(c, err, ev, "lacks", "one of the text keys \"node\", \"src\", \"dst\", \"proto\"");
  endpoint src, dst;
  if (!trace_pcap__parse_endpoint(ssrc, &src) || !trace_pcap__parse_endpoint(sdst, &dst) ||
      src.family != dst.family)
    return fail(c, err, ev, "has endpoints that are not", "\"addr:port\" of one family");
  guint from = GPOINTER_TO_UINT(g_hash_table_lookup(c->node_index, node));
  if (!from)
    return fail(c, err, ev, "names a node not in the header:", node);
  if (trace_pcap__addr_owner(c, &src) != from)
    return true; /* a router forwarding it: shown once, at its source */
  guint to = next ? GPOINTER_TO_UINT(g_hash_table_lookup(c->node_index, next)) : 0;
  if (!to)
    return fail(c, err, ev, "lacks", "\"next\", a node of the header");
  uint32_t len;
  if (!get_u32(rec, "len", &len))
    return fail(c, err, ev, "lacks", "the integer \"len\"");
  GBytes *pl = trace_get_bytes(rec, "payload");
  gsize plen = 0;
  const uint8_t *pd = pl ? g_bytes_get_data(pl, &plen) : NULL;
  bool ok = true;
  if (len && (!pl || plen != len)) {
    ok = fail(c, err, ev, "lacks",
              "its \"payload\" (bytes, \"len\" octets; recorded by a mailsim before payloads "
              "were traced?)");
  } else if (strcmp(proto, "tcp") == 0) {
    uint32_t seq, ack, win;
    uint8_t flags;
    const char *fl = trace_get_str(rec, "flags");
    if (!fl || !tcp_flags(fl, &flags) || !get_u32(rec, "seq", &seq) || !get_u32(rec, "ack", &ack) ||
        !get_u32(rec, "win", &win)) {
      ok = fail(c, err, ev, "lacks", "TCP \"flags\" (letters SFRPA), \"seq\", \"ack\", \"win\"");
    } else {
      trace_pcap__tcp(c, t, from - 1, to - 1, &src, &dst, seq, ack, flags, win, pd, plen);
    }
  } else if (strcmp(proto, "udp") == 0) {
    trace_pcap__udp(c, t, from - 1, to - 1, &src, &dst, pd, plen);
  } else if (strcmp(proto, "icmp") == 0) {
    /* Port unreachable: src is the unreachable addr:port, dst the UDP
     * sender; quote the datagram's IP header and its 8-octet UDP header
     * (its payload is not kept). */
    bool v4 = src.family == 4;
    size_t qip = v4 ? 20 : 40, n = 8 + qip + 8;
    uint8_t *l4 = g_malloc0(n), *q = l4 + 8;
    l4[0] = v4 ? 3 : 1; /* destination unreachable */
    l4[1] = v4 ? 3 : 4; /* port unreachable */
    if (v4) {
      q[0] = 0x45;
      put16(q + 2, 28);
      put16(q + 6, 0x4000);
      q[8] = 64;
      q[9] = IPPROTO_UDP_;
      memcpy(q + 12, dst.b, 4);
      memcpy(q + 16, src.b, 4);
      put16(q + 10, trace_pcap_checksum(q, 20, 0));
    } else {
      q[0] = 0x60;
      put16(q + 4, 8);
      q[6] = IPPROTO_UDP_;
      q[7] = 64;
      memcpy(q + 8, dst.b, 16);
      memcpy(q + 24, src.b, 16);
    }
    put16(q + qip, dst.port);
    put16(q + qip + 2, src.port);
    put16(q + qip + 4, 8);
    put_l4_checksum(q + qip, 8, 6, &dst, &src, IPPROTO_UDP_, true);
    uint8_t pr = v4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_;
    put16(l4 + 2, v4 ? trace_pcap_checksum(l4, n, 0)
                     : trace_pcap_checksum(l4, n, pseudo_sum(&src, &dst, pr, n)));
    trace_pcap__frame(c, t, from - 1, to - 1, &src, &dst, pr, l4, n);
    g_free(l4);
    c->st.icmp++;
  } else {
    ok = fail(c, err, ev, "has an unknown \"proto\":", proto);
  }
  if (pl)
    g_bytes_unref(pl);
  return ok;
}

static bool on_keylog(pcap_ctx *c, const cJSON *rec, GError **err) {
  const cJSON *lines = cJSON_GetObjectItemCaseSensitive(rec, "lines");
  if (!cJSON_IsArray(lines))
    return fail(c, err, "tls.keylog", "lacks", "the array \"lines\"");
  const cJSON *l;
  cJSON_ArrayForEach(l, lines) {
    if (!cJSON_IsString(l) || strchr(l->valuestring, '\n'))
      return fail(c, err, "tls.keylog", "has a line that is not", "one line of text");
    if (c->keylog) {
      g_string_append(c->keylog, l->valuestring);
      g_string_append_c(c->keylog, '\n');
    }
    c->st.keylog_lines++;
  }
  return true;
}

bool trace_pcap_write(trace_reader *r, const char *name, GByteArray *out, GString *keylog,
                      trace_pcap_stats *st, GError **err) {
  pcap_ctx c = {.name = name, .r = r, .out = out, .keylog = keylog};
  c.node_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c.addr_node = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  c.ip_id = g_array_new(FALSE, TRUE, sizeof(uint32_t));
  c.gateway = g_array_new(FALSE, TRUE, sizeof(guint));
  bool ok = read_header(&c, err);
  if (ok) {
    put32le(out, 0xa1b23c4d); /* nanosecond timestamps */
    uint8_t ver[4] = {2, 0, 4, 0};
    g_byte_array_append(out, ver, 4);
    put32le(out, 0);      /* thiszone */
    put32le(out, 0);      /* sigfigs */
    put32le(out, 262144); /* snaplen */
    put32le(out, 1);      /* LINKTYPE_ETHERNET */
  }
  if (ok && c.rebuild)
    ok = trace_pcap__rebuild(&c, err);
  while (ok && !c.rebuild) {
    const cJSON *rec;
    trace_read_status s = trace_reader_next(r, &rec, err);
    if (s == TRACE_READ_EOF)
      break;
    if (s == TRACE_READ_FAIL) {
      ok = false;
      break;
    }
    const char *ev = trace_get_str(rec, "ev");
    int64_t t = 0;
    trace_get_int(rec, "t", &t); /* the reader checked it */
    if (strcmp(ev, "net.send") == 0)
      ok = on_send(&c, rec, t, err);
    else if (strcmp(ev, "tls.keylog") == 0)
      ok = on_keylog(&c, rec, err);
  }
  if (st)
    *st = c.st;
  g_hash_table_destroy(c.node_index);
  g_hash_table_destroy(c.addr_node);
  g_array_free(c.ip_id, TRUE);
  g_array_free(c.gateway, TRUE);
  return ok;
}
