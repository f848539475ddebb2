/* trace_pcap_rebuild.c — packets rebuilt from a trace recorded at protocol
 * detail, which records connections and protocol lines but no packets.
 *
 * What is exact: the endpoints, the order and content of every recorded
 * line (each line + CRLF; SMTP/IMAP/POP3 lines as the trace has them, so a
 * masked AUTH secret stays "****"), which lines went out together (one
 * write = the lines of one connection and direction with the same "sent"),
 * when each write left ("sent") and arrived ("t"), DNS packets (the
 * records' "wire", "src" and "dst"; DNS over TCP with its RFC 1035 §4.2.2
 * length prefix), and so byte-accurate sequence and acknowledgement numbers
 * over what is shown. What is modelled: initial sequence numbers (a
 * function of the connection id), MSS segmentation (1460 octets over IPv4,
 * 1440 over IPv6), one ACK per write when it arrived (piggybacked when the
 * receiver wrote at that instant, as sim_tcp does), the SYN-ACK's and the
 * FINs' send times, estimated from the handshake's one-way delays (RFC 9293
 * §3.6: the FIN of the end that closed first, the other's FIN, the last
 * ACK), an RST for an aborted or reset connection. Not shown: bytes the
 * trace does not record — message bodies after DATA, IMAP literals, POP3
 * multi-line bodies — and everything after a STARTTLS/STLS switch (the
 * trace records the plaintext, not the TLS records; a trace at packet
 * detail has the real bytes); retransmissions. The stream shown is
 * consistent in itself, so Wireshark sees no gap.
 */
#include <inttypes.h>
#include <string.h>

#include "trace_pcap_int.h"

typedef trace_pcap__ep ep;

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };
enum { WIN = 65535 };

typedef enum { END_OPEN, END_NORMAL, END_ABORTED, END_RESET, END_TIMEOUT, END_REFUSED } end_kind;

typedef struct {
  int64_t sent, t_last;
  uint64_t off; /* stream offset of the first octet */
  GByteArray *bytes;
} wr;

typedef struct {
  int64_t t;
  uint64_t cum; /* octets of the direction received once this arrived */
} rx;

typedef enum { TLS_NONE, TLS_ASKED, TLS_ON } tls_state;

/* One connection: side 0 the client (active opener), side 1 the server.
 * Direction d carries side d's writes. */
typedef struct {
  uint64_t id[2]; /* connection ids of the two ends; 0 = not seen */
  ep e[2];
  guint node[2]; /* node index */
  int64_t t_connect, t_est, t_accept;
  end_kind kind[2];
  int64_t t_end[2];
  GArray *w[2];  /* wr */
  GArray *rx[2]; /* rx */
  uint64_t total[2];
  tls_state tls;
  int64_t tls_asked_at;
  char *tls_tag; /* IMAP: the STARTTLS command's tag */
  /* derived in pass 2 */
  uint32_t isn[2];
  int64_t fin_sent[2], fin_arr[2];
  int active; /* the side that sent the first FIN */
} tconn;

typedef struct {
  int64_t t;
  uint64_t order;
  guint from, to;
  const ep *src, *dst;
  uint32_t seq, ack;
  uint8_t flags;
  bool udp;
  const uint8_t *pd;
  size_t plen;
} pkt;

typedef struct {
  trace_pcap__ctx *c;
  GHashTable *by_end; /* &tconn.id[side] -> tconn */
  GPtrArray *conns;   /* tconn, in tcp.connect order */
  GArray *pkts;       /* pkt */
  GPtrArray *keep;    /* GBytes and endpoints the packets point into */
  uint64_t order;
} rb;

static void tconn_free(gpointer p) {
  tconn *tc = p;
  for (int d = 0; d < 2; d++) {
    for (guint i = 0; i < tc->w[d]->len; i++)
      g_byte_array_unref(g_array_index(tc->w[d], wr, i).bytes);
    g_array_free(tc->w[d], TRUE);
    g_array_free(tc->rx[d], TRUE);
  }
  g_free(tc->tls_tag);
  g_free(tc);
}

static guint node_of(rb *b, const ep *e) {
  guint n = trace_pcap__addr_owner(b->c, e);
  return n ? n - 1 : b->c->ip_id->len - 1; /* the last slot: outside the world */
}

static tconn *lookup(rb *b, uint64_t id, int *side) {
  tconn *tc = g_hash_table_lookup(b->by_end, &id);
  if (tc && side)
    *side = tc->id[0] == id ? 0 : 1;
  return tc;
}

static bool get_ep(rb *b, const cJSON *rec, const char *key, ep *e, const char *ev, GError **err) {
  const char *s = trace_get_str(rec, key);
  if (!s || !trace_pcap__parse_endpoint(s, e))
    return trace_pcap__fail(b->c, err, ev, "lacks an endpoint (\"addr:port\") at", key);
  return true;
}

/* --- pass 1: the records ------------------------------------------------- */

static bool on_connect(rb *b, const cJSON *rec, int64_t t, GError **err) {
  uint64_t id;
  ep src, dst;
  if (!trace_get_uint(rec, "conn", &id) || id == 0)
    return trace_pcap__fail(b->c, err, "tcp.connect", "lacks", "the integer \"conn\"");
  if (!get_ep(b, rec, "src", &src, "tcp.connect", err) ||
      !get_ep(b, rec, "dst", &dst, "tcp.connect", err))
    return false;
  if (src.family != dst.family)
    return trace_pcap__fail(b->c, err, "tcp.connect", "has endpoints of", "two families");
  if (lookup(b, id, NULL))
    return trace_pcap__fail(b->c, err, "tcp.connect", "repeats", "a connection id");
  tconn *tc = g_new0(tconn, 1);
  tc->id[0] = id;
  tc->e[0] = src;
  tc->e[1] = dst;
  tc->node[0] = node_of(b, &src);
  tc->node[1] = node_of(b, &dst);
  tc->t_connect = t;
  tc->t_est = tc->t_accept = -1;
  for (int d = 0; d < 2; d++) {
    tc->w[d] = g_array_new(FALSE, FALSE, sizeof(wr));
    tc->rx[d] = g_array_new(FALSE, FALSE, sizeof(rx));
  }
  g_ptr_array_add(b->conns, tc);
  g_hash_table_insert(b->by_end, &tc->id[0], tc);
  return true;
}

/* Names the server end once it is known (tcp.established's or
 * tcp.accept's "peer"). */
static void set_server(rb *b, tconn *tc, uint64_t id) {
  if (tc->id[1] || id == 0 || lookup(b, id, NULL))
    return;
  tc->id[1] = id;
  g_hash_table_insert(b->by_end, &tc->id[1], tc);
}

static bool on_tcp(rb *b, const char *ev, const cJSON *rec, int64_t t, GError **err) {
  uint64_t id, peer = 0;
  if (!trace_get_uint(rec, "conn", &id))
    return trace_pcap__fail(b->c, err, ev, "lacks", "the integer \"conn\"");
  trace_get_uint(rec, "peer", &peer);
  int side;
  if (strcmp(ev, "tcp.accept") == 0) {
    tconn *tc = lookup(b, peer, &side);
    if (tc && side == 0) {
      set_server(b, tc, id);
      if (tc->id[1] == id)
        tc->t_accept = t;
    }
    return true;
  }
  tconn *tc = lookup(b, id, &side);
  if (!tc)
    return true; /* an end whose connect this trace does not have */
  if (strcmp(ev, "tcp.established") == 0) {
    if (side == 0 && tc->t_est < 0) {
      tc->t_est = t;
      set_server(b, tc, peer);
    }
    return true;
  }
  end_kind k = END_OPEN;
  if (strcmp(ev, "tcp.close") == 0) {
    const char *reason = trace_get_str(rec, "reason");
    k = reason && strcmp(reason, "aborted") == 0 ? END_ABORTED : END_NORMAL;
  } else if (strcmp(ev, "tcp.reset") == 0) {
    k = END_RESET;
  } else if (strcmp(ev, "tcp.timeout") == 0) {
    k = END_TIMEOUT;
  } else if (strcmp(ev, "tcp.refused") == 0) {
    k = END_REFUSED;
  }
  if (k != END_OPEN && tc->kind[side] == END_OPEN) {
    tc->kind[side] = k;
    tc->t_end[side] = t;
  }
  return true;
}

static void add_data(tconn *tc, int dir, int64_t sent, int64_t t, const uint8_t *p, size_t n,
                     const uint8_t *p2, size_t n2) {
  GArray *w = tc->w[dir];
  wr *last = w->len ? &g_array_index(w, wr, w->len - 1) : NULL;
  if (!last || last->sent != sent) {
    wr nw = {sent, t, tc->total[dir], g_byte_array_new()};
    g_array_append_val(w, nw);
    last = &g_array_index(w, wr, w->len - 1);
  }
  g_byte_array_append(last->bytes, p, (guint)n);
  if (n2)
    g_byte_array_append(last->bytes, p2, (guint)n2);
  last->t_last = t;
  tc->total[dir] += n + n2;
  rx r = {t, tc->total[dir]};
  g_array_append_val(tc->rx[dir], r);
}

/* STARTTLS (RFC 3207), STARTTLS (RFC 9051 §6.2.1) and STLS (RFC 2595 §4):
 * after a positive answer the stream is TLS, which the trace does not
 * record. False if the line is inside TLS. */
static bool plaintext(tconn *tc, const char *family, int dir, int64_t t, int64_t sent,
                      const char *line) {
  if (tc->tls == TLS_ON)
    return false;
  bool imap = strcmp(family, "imap") == 0, pop3 = strcmp(family, "pop3") == 0;
  if (dir == 0) {
    const char *verb = line;
    if (imap) {
      const char *sp = strchr(line, ' ');
      if (!sp)
        return true;
      verb = sp + 1;
    }
    if (g_ascii_strcasecmp(verb, pop3 ? "STLS" : "STARTTLS") == 0) {
      tc->tls = TLS_ASKED;
      tc->tls_asked_at = t;
      g_free(tc->tls_tag);
      tc->tls_tag = imap ? g_strndup(line, (gsize)(verb - 1 - line)) : NULL;
    }
    return true;
  }
  if (tc->tls != TLS_ASKED || sent < tc->tls_asked_at)
    return true;
  bool last, ok;
  if (imap) {
    size_t tl = strlen(tc->tls_tag);
    last = strncmp(line, tc->tls_tag, tl) == 0 && line[tl] == ' ';
    ok = last && g_ascii_strncasecmp(line + tl + 1, "OK", 2) == 0;
  } else if (pop3) {
    last = true;
    ok = g_str_has_prefix(line, "+OK");
  } else {
    last = strlen(line) < 4 || line[3] != '-';
    ok = g_str_has_prefix(line, "220");
  }
  if (last)
    tc->tls = ok ? TLS_ON : TLS_NONE;
  return true;
}

static bool on_line(rb *b, const char *ev, const cJSON *rec, int64_t t, GError **err) {
  uint64_t id;
  int64_t sent;
  if (!trace_get_uint(rec, "conn", &id) || !trace_get_int(rec, "sent", &sent))
    return trace_pcap__fail(b->c, err, ev, "lacks", "the integers \"conn\" and \"sent\"");
  GBytes *line = trace_get_bytes(rec, "line");
  if (!line)
    return trace_pcap__fail(b->c, err, ev, "lacks", "the bytes string \"line\"");
  int side;
  tconn *tc = lookup(b, id, &side);
  if (tc) {
    int dir = 1 - side; /* the receiver wrote the record */
    gsize n;
    const char *p = g_bytes_get_data(line, &n);
    char *family = g_strndup(ev, (gsize)(strchr(ev, '.') - ev));
    /* A line holding NUL never is STARTTLS: the C string view is enough. */
    char *text = g_strndup(p, n);
    if (plaintext(tc, family, dir, t, sent, text))
      add_data(tc, dir, sent, t, (const uint8_t *)p, n, (const uint8_t *)"\r\n", 2);
    else
      b->c->st.tls_lines_hidden++;
    g_free(text);
    g_free(family);
  }
  g_bytes_unref(line);
  return true;
}

static bool on_dns(rb *b, const char *ev, const cJSON *rec, int64_t t, GError **err) {
  int64_t sent;
  const char *proto = trace_get_str(rec, "proto");
  if (!trace_get_int(rec, "sent", &sent) || !proto)
    return trace_pcap__fail(b->c, err, ev, "lacks", "\"sent\" and \"proto\"");
  GBytes *wire = trace_get_bytes(rec, "wire");
  if (!wire) {
    b->c->st.dns_without_wire++; /* a trace from before "wire" was recorded */
    return true;
  }
  gsize n;
  const uint8_t *p = g_bytes_get_data(wire, &n);
  bool ok = true;
  if (strcmp(proto, "tcp") == 0) {
    uint64_t id;
    int side;
    tconn *tc;
    if (!trace_get_uint(rec, "conn", &id)) {
      ok = trace_pcap__fail(b->c, err, ev, "lacks", "the integer \"conn\"");
    } else if (n > 65535) {
      ok = trace_pcap__fail(b->c, err, ev, "has a \"wire\"", "longer than 65535 octets");
    } else if ((tc = lookup(b, id, &side)) != NULL) {
      uint8_t len[2] = {(uint8_t)(n >> 8), (uint8_t)n}; /* RFC 1035 §4.2.2 */
      add_data(tc, 1 - side, sent, t, len, 2, p, n);
    }
    g_bytes_unref(wire);
  } else {
    ep *e = g_new(ep, 2);
    g_ptr_array_add(b->keep, e);
    g_ptr_array_add(b->keep, wire);
    if (!get_ep(b, rec, "src", &e[0], ev, err) || !get_ep(b, rec, "dst", &e[1], ev, err))
      return false;
    if (e[0].family != e[1].family)
      return trace_pcap__fail(b->c, err, ev, "has endpoints of", "two families");
    guint from = node_of(b, &e[0]);
    guint gw = from < b->c->gateway->len ? g_array_index(b->c->gateway, guint, from) : 0;
    pkt k = {sent, b->order++, from, gw ? gw - 1 : node_of(b, &e[1]), &e[0], &e[1], 0, 0, 0,
             true, p,          n};
    g_array_append_val(b->pkts, k);
  }
  (void)t;
  return ok;
}

/* --- pass 2: the segments of each connection ----------------------------- */

static uint64_t snd_upto(const tconn *tc, int dir, int64_t tau) {
  uint64_t n = 0;
  for (guint i = 0; i < tc->w[dir]->len; i++) {
    const wr *w = &g_array_index(tc->w[dir], wr, i);
    if (w->sent > tau)
      break;
    n = w->off + w->bytes->len;
  }
  return n;
}

static uint64_t rcv_upto(const tconn *tc, int dir, int64_t tau) {
  uint64_t n = 0;
  for (guint i = 0; i < tc->rx[dir]->len; i++) {
    const rx *r = &g_array_index(tc->rx[dir], rx, i);
    if (r->t > tau)
      break;
    n = r->cum;
  }
  return n;
}

static bool writes_at(const tconn *tc, int dir, int64_t tau) {
  for (guint i = 0; i < tc->w[dir]->len; i++)
    if (g_array_index(tc->w[dir], wr, i).sent == tau)
      return true;
  return false;
}

static int64_t last_sent(const tconn *tc, int dir) {
  GArray *w = tc->w[dir];
  return w->len ? g_array_index(w, wr, w->len - 1).sent : tc->t_est;
}

static int64_t last_arrival(const tconn *tc, int dir) {
  GArray *w = tc->w[dir];
  return w->len ? g_array_index(w, wr, w->len - 1).t_last : tc->t_est;
}

/* Sequence and acknowledgement numbers of side X at TAU. */
static uint32_t seq_of(const tconn *tc, int x, int64_t tau) {
  return tc->isn[x] + 1 + (uint32_t)snd_upto(tc, x, tau) + (tau > tc->fin_sent[x] ? 1 : 0);
}
static uint32_t ack_of(const tconn *tc, int x, int64_t tau) {
  int y = 1 - x;
  return tc->isn[y] + 1 + (uint32_t)rcv_upto(tc, y, tau) + (tau >= tc->fin_arr[y] ? 1 : 0);
}

static void emit(rb *b, tconn *tc, int64_t t, int x, uint32_t seq, uint32_t ack, uint8_t flags,
                 const uint8_t *pd, size_t plen) {
  guint from = tc->node[x];
  guint gw = from < b->c->gateway->len ? g_array_index(b->c->gateway, guint, from) : 0;
  pkt k = {t,         b->order++,    from, gw ? gw - 1 : tc->node[1 - x],
           &tc->e[x], &tc->e[1 - x], seq,  ack,
           flags,     false,         pd,   plen};
  g_array_append_val(b->pkts, k);
}

static uint32_t isn_of(uint64_t id) { return (uint32_t)(id * UINT64_C(0x9e3779b97f4a7c15) >> 32); }

static void segments(rb *b, tconn *tc) {
  tc->isn[0] = isn_of(tc->id[0]);
  tc->isn[1] = isn_of(tc->id[1] ? tc->id[1] : ~tc->id[0]);
  tc->fin_sent[0] = tc->fin_sent[1] = tc->fin_arr[0] = tc->fin_arr[1] = INT64_MAX;
  emit(b, tc, tc->t_connect, 0, tc->isn[0], 0, F_SYN, NULL, 0);
  if (tc->t_est < 0) {
    if (tc->kind[0] == END_REFUSED)
      emit(b, tc, tc->t_connect + (tc->t_end[0] - tc->t_connect) / 2, 1, 0, tc->isn[0] + 1,
           F_RST | F_ACK, NULL, 0);
    return;
  }
  /* One-way delays: client -> server and back, from the handshake. */
  int64_t d[2], rtt = tc->t_est - tc->t_connect;
  d[0] = tc->t_accept - tc->t_est;
  if (tc->t_accept < 0 || d[0] < 0 || d[0] > rtt)
    d[0] = rtt / 2; /* no accept, or the handshake's ACK was lost and sent again */
  int64_t synack = MIN(tc->t_connect + d[0], tc->t_est);
  d[0] = synack - tc->t_connect;
  d[1] = tc->t_est - synack;
  emit(b, tc, synack, 1, tc->isn[1], tc->isn[0] + 1, F_SYN | F_ACK, NULL, 0);
  emit(b, tc, tc->t_est, 0, tc->isn[0] + 1, tc->isn[1] + 1, F_ACK, NULL, 0);

  /* The FINs first: the numbers of later segments count them. */
  if (tc->kind[0] == END_NORMAL && tc->kind[1] == END_NORMAL) {
    int a = tc->t_end[0] <= tc->t_end[1] ? 0 : 1, p = 1 - a;
    int64_t fp = tc->t_end[a] - d[p];
    int64_t fa = MAX(MAX(fp - d[a], last_sent(tc, a)), tc->t_est);
    fp = MAX(MAX(fp, fa), MAX(last_sent(tc, p), last_arrival(tc, a)));
    tc->fin_sent[a] = fa;
    tc->fin_arr[a] = MIN(fa + d[a], fp);
    tc->fin_sent[p] = fp;
    tc->fin_arr[p] = MAX(tc->t_end[a], fp);
    tc->active = a;
  }
  for (int x = 0; x < 2; x++) {
    int y = 1 - x;
    size_t mss = tc->e[0].family == 4 ? 1460 : 1440;
    for (guint i = 0; i < tc->w[x]->len; i++) {
      const wr *w = &g_array_index(tc->w[x], wr, i);
      size_t len = w->bytes->len;
      for (size_t off = 0; off < len; off += mss) {
        size_t n = MIN(mss, len - off);
        emit(b, tc, w->sent, x, tc->isn[x] + 1 + (uint32_t)(w->off + off), ack_of(tc, x, w->sent),
             F_ACK | (off + n == len ? F_PSH : 0), w->bytes->data + off, n);
      }
      /* The receiver's ACK, unless data it wrote at that instant carries it. */
      if (len && !writes_at(tc, y, w->t_last))
        emit(b, tc, w->t_last, y, seq_of(tc, y, w->t_last), ack_of(tc, y, w->t_last), F_ACK, NULL,
             0);
    }
  }
  if (tc->fin_sent[0] != INT64_MAX) {
    /* The active side's FIN, the other's FIN (at the same instant, in this
     * order), the active side's last ACK. */
    int a = tc->active, p = 1 - a;
    int64_t fa = tc->fin_sent[a], fp = tc->fin_sent[p], ta = tc->fin_arr[p];
    emit(b, tc, fa, a, seq_of(tc, a, fa), ack_of(tc, a, fa), F_FIN | F_ACK, NULL, 0);
    emit(b, tc, fp, p, seq_of(tc, p, fp), ack_of(tc, p, fp), F_FIN | F_ACK, NULL, 0);
    emit(b, tc, ta, a, seq_of(tc, a, ta), ack_of(tc, a, ta), F_ACK, NULL, 0);
  }
  for (int x = 0; x < 2; x++) {
    int y = 1 - x;
    int64_t tr = -1;
    int from = x;
    if (tc->kind[x] == END_ABORTED) {
      tr = tc->t_end[x];
    } else if (tc->kind[x] == END_RESET && tc->kind[y] != END_ABORTED) {
      tr = MAX(tc->t_end[x] - d[y], last_sent(tc, y));
      from = y;
    }
    if (tr >= 0)
      emit(b, tc, tr, from, seq_of(tc, from, tr), ack_of(tc, from, tr), F_RST | F_ACK, NULL, 0);
  }
}

static gint pkt_cmp(gconstpointer a, gconstpointer b) {
  const pkt *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

bool trace_pcap__rebuild(trace_pcap__ctx *c, GError **err) {
  rb b = {c,
          g_hash_table_new(g_int64_hash, g_int64_equal),
          g_ptr_array_new_with_free_func(tconn_free),
          g_array_new(FALSE, FALSE, sizeof(pkt)),
          g_ptr_array_new(),
          0};
  g_array_set_size(c->ip_id, c->ip_id->len + 1); /* a slot for addresses of no node */
  c->st.rebuilt = true;
  bool ok = true;
  for (;;) {
    const cJSON *rec;
    trace_read_status s = trace_reader_next(c->r, &rec, err);
    if (s != TRACE_READ_OK) {
      ok = s == TRACE_READ_EOF;
      break;
    }
    const char *ev = trace_get_str(rec, "ev");
    int64_t t = 0;
    trace_get_int(rec, "t", &t);
    if (strcmp(ev, "tcp.connect") == 0)
      ok = on_connect(&b, rec, t, err);
    else if (g_str_has_prefix(ev, "tcp."))
      ok = on_tcp(&b, ev, rec, t, err);
    else if (strcmp(ev, "dns.query") == 0 || strcmp(ev, "dns.response") == 0)
      ok = on_dns(&b, ev, rec, t, err);
    else if (g_str_has_suffix(ev, ".cmd") || g_str_has_suffix(ev, ".reply")) {
      if (g_str_has_prefix(ev, "smtp.") || g_str_has_prefix(ev, "imap.") ||
          g_str_has_prefix(ev, "pop3."))
        ok = on_line(&b, ev, rec, t, err);
    }
    if (!ok)
      break;
  }
  if (ok) {
    for (guint i = 0; i < b.conns->len; i++) {
      tconn *tc = b.conns->pdata[i];
      segments(&b, tc);
      if (tc->tls == TLS_ON)
        c->st.tls_sessions_hidden++;
    }
    g_array_sort(b.pkts, pkt_cmp);
    for (guint i = 0; i < b.pkts->len; i++) {
      const pkt *k = &g_array_index(b.pkts, pkt, i);
      if (k->udp)
        trace_pcap__udp(c, k->t, k->from, k->to, k->src, k->dst, k->pd, k->plen);
      else
        trace_pcap__tcp(c, k->t, k->from, k->to, k->src, k->dst, k->seq, k->ack, k->flags, WIN,
                        k->pd, k->plen);
    }
  }
  for (guint i = 0; i < b.keep->len; i += 2) {
    g_free(b.keep->pdata[i]);
    g_bytes_unref(b.keep->pdata[i + 1]);
  }
  g_ptr_array_unref(b.keep);
  g_array_free(b.pkts, TRUE);
  g_ptr_array_unref(b.conns);
  g_hash_table_destroy(b.by_end);
  return ok;
}
