/* sim_tcp.c — TCP-like streams: the API, connection lifecycle, output,
 * timers and the delivery of socket callbacks.
 *
 * Follows RFC 9293 (states §3.3.2, reset generation §3.10.7.1, FIN §3.6),
 * RFC 6298 (RTO: SRTT/RTTVAR, initial 1 s, minimum 200 ms, maximum 60 s,
 * Karn's rule, backoff ×2), RFC 5681 §3.1 (after a timeout, send again from
 * SND.UNA: go-back-N) and §3.2 (fast retransmit on the third duplicate
 * ACK), RFC 6582 §3.2 (a partial ACK during fast recovery retransmits the
 * next hole at once; no fast retransmit for duplicates below "recover")
 * — without congestion control: the sender keeps up to the peer's window
 * in flight, so a timeout resends the whole window.
 *
 * Model choices (see sim_tcp.h for the contract):
 *  - sequence numbers are 64-bit inside the kernel (no wrap), starting at
 *    an ISN drawn from the node's stream; the trace writes them mod 2^32;
 *  - no Nagle, no delayed ACK: every segment that arrives is acknowledged
 *    at the end of the event that delivered it, by a pure ACK unless the
 *    socket's callbacks sent data that carried the ACK;
 *  - every segment, pure ACKs included, costs the IP+TCP header (40 or 60
 *    octets) on the wire, so ACKs take serialization time and queue space;
 *  - the receive window is fixed (opt.window): in-order bytes are handed to
 *    data() at the end of the event, so the buffer is always empty again;
 *  - TIME_WAIT lasts 60 s; the owner has been told closed(NORMAL) already.
 *  - timers are lazy: a deadline field moves freely, one event per timer
 *    kind is pending, and it re-arms itself when it fires early.
 */
#include <stddef.h>
#include <string.h>

#include "sim_tcp_int.h"

#define RTO_INIT SIM_S
#define RTO_MIN (200 * SIM_MS)
#define RTO_MAX (60 * SIM_S)
#define KA_INTERVAL (10 * SIM_S)
#define KA_PROBES 3
#define TIME_WAIT_LEN (60 * SIM_S)

static const char *const reason_names[SIM_TCP_CLOSED_COUNT] = {"normal",  "refused", "reset",
                                                               "timeout", "aborted", "crash"};

const char *sim_tcp_reason_name(sim_tcp_reason r) {
  g_assert((unsigned)r < SIM_TCP_CLOSED_COUNT);
  return reason_names[r];
}

static const char *const state_names[TCP_STATE_COUNT] = {
    "CLOSED",     "SYN_SENT", "SYN_RCVD",  "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSING",  "TIME_WAIT", "CLOSE_WAIT",  "LAST_ACK"};

const char *sim_tcp__state_name(tcp_state st) {
  g_assert((unsigned)st < TCP_STATE_COUNT);
  return state_names[st];
}

/* The legal transitions (sim_tcp_int.h) as one mask of target states per
 * state; CLOSED is a legal target from anywhere. */
#define TO(st) (1u << (st))
static const uint16_t legal_to[TCP_STATE_COUNT] = {
    [TCP_CLOSED] = TO(TCP_SYN_SENT) | TO(TCP_SYN_RCVD),
    [TCP_SYN_SENT] = TO(TCP_ESTABLISHED) | TO(TCP_FIN_WAIT_1),
    [TCP_SYN_RCVD] = TO(TCP_ESTABLISHED),
    [TCP_ESTABLISHED] = TO(TCP_FIN_WAIT_1) | TO(TCP_CLOSE_WAIT),
    [TCP_FIN_WAIT_1] = TO(TCP_FIN_WAIT_2) | TO(TCP_CLOSING) | TO(TCP_TIME_WAIT),
    [TCP_FIN_WAIT_2] = TO(TCP_TIME_WAIT),
    [TCP_CLOSING] = TO(TCP_TIME_WAIT),
    [TCP_TIME_WAIT] = 0,
    [TCP_CLOSE_WAIT] = TO(TCP_LAST_ACK),
    [TCP_LAST_ACK] = 0,
};
#undef TO

static inline bool legal(tcp_state from, tcp_state to) {
  g_assert((unsigned)from < TCP_STATE_COUNT && (unsigned)to < TCP_STATE_COUNT);
  return to == TCP_CLOSED || ((legal_to[from] >> to) & 1u);
}

void sim_tcp__enter(sim_tcp_conn *c, tcp_state st) {
  if (!legal(c->st, st))
    g_error("sim_tcp__enter: conn %" G_GUINT64_FORMAT ": %s -> %s", (guint64)c->id,
            state_names[c->st], state_names[st]);
  c->st = st;
}

/* --- connection table ---------------------------------------------------- */

static inline uint32_t slot_of_key(const sim_tcp__table *t, const sim_tcp__key *k) {
  return sim_tcp__key_hash(k) & t->mask;
}

/* Puts C into a table with room (no key equal to C's in it). */
static void table_put(sim_tcp__table *t, sim_tcp_conn *c) {
  uint32_t i = slot_of_key(t, &c->key);
  while (t->slot[i])
    i = (i + 1) & t->mask;
  t->slot[i] = c;
  t->n++;
}

/* The table at SIZE slots (a power of two >= 2 * entries). */
static void table_resize(sim_tcp__table *t, uint32_t size) {
  sim_tcp_conn **old = t->slot;
  uint32_t old_size = old ? t->mask + 1 : 0;
  t->slot = g_new0(sim_tcp_conn *, size);
  t->mask = size - 1;
  t->n = 0;
  for (uint32_t i = 0; i < old_size; i++)
    if (old[i])
      table_put(t, old[i]);
  g_free(old);
}

static void table_add(sim_tcp_conn *c) {
  sim_tcp__table *t = &c->node->tcp_conns;
  if (!t->slot)
    table_resize(t, 8);
  else if (2 * (t->n + 1) > t->mask + 1)
    table_resize(t, 2 * (t->mask + 1));
  table_put(t, c);
  c->in_table = true;
}

/* Removes C and shifts back the entries after it that probed past its
 * slot, so that every entry stays reachable from its home slot. */
static void table_del(sim_tcp__table *t, sim_tcp_conn *c) {
  uint32_t i = slot_of_key(t, &c->key);
  while (t->slot[i] != c)
    i = (i + 1) & t->mask;
  for (uint32_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
    uint32_t h = slot_of_key(t, &t->slot[j]->key);
    /* the entry at J may move to I unless its home H lies in (I, J] */
    if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
      t->slot[i] = t->slot[j];
      i = j;
    }
  }
  t->slot[i] = NULL;
  t->n--;
  /* a burst's table does not stay (q6000: thousands at one node) */
  if (t->mask + 1 > 64 && 8 * t->n < t->mask + 1)
    table_resize(t, (t->mask + 1) / 2);
}

void sim_tcp__table_clear(sim_tcp__table *t) {
  g_free(t->slot);
  *t = (sim_tcp__table){0};
}

static void table_remove(sim_tcp_conn *c) {
  if (c->in_table) {
    table_del(&c->node->tcp_conns, c);
    c->in_table = false;
    sim_tcp_conn **slot = &c->node->tcp_cache[c->peer_id & (SIM_TCP__CACHE - 1)];
    if (*slot == c)
      *slot = NULL;
  }
}

/* --- trace ------------------------------------------------------------------ */

trace_writer *sim_tcp__trace(sim_tcp_conn *c, const char *ev) {
  trace_writer *tw = sim_world__trace(c->net->w, SIM_DETAIL_PROTOCOL);
  if (!tw)
    return NULL;
  char sb[SIM_EP_BUFSZ], db[SIM_EP_BUFSZ];
  trace_event_begin(tw, sim_world__now(c->net->w), ev);
  trace_key_str(tw, "node", c->node->name);
  trace_key_uint(tw, "conn", c->id);
  trace_key_str(tw, "src", sim_net__ep(&c->key.laddr, c->key.lport, sb));
  trace_key_str(tw, "dst", sim_net__ep(&c->key.raddr, c->key.rport, db));
  if (c->peer_id)
    trace_key_uint(tw, "peer", c->peer_id);
  return tw;
}

/* --- timers ------------------------------------------------------------------ */

static void rto_ev(void *a, void *b);
static void ka_ev(void *a, void *b);

void sim_tcp__rto_schedule(sim_tcp_conn *c, sim_time at) {
  if (c->rto_ev)
    sim_world__cancel(c->net->w, c->rto_ev);
  c->rto_ev = sim_world__at(c->net->w, at, rto_ev, c, NULL);
  c->rto_ev_at = at;
}

void sim_tcp__rtt_sample(sim_tcp_conn *c, sim_time r) {
  /* RFC 6298 §2.2-2.3 with alpha = 1/8, beta = 1/4, G = 0, in integer ns */
  /* Every term is >= 0 (R is a time difference, now - sent): the divisions
   * are unsigned, shifts without the signed rounding fix-up. */
  g_assert(r >= 0);
  uint64_t ur = (uint64_t)r;
  if (!c->have_rtt) {
    c->srtt = r;
    c->rttvar = (sim_time)(ur / 2);
    c->have_rtt = true;
  } else {
    uint64_t srtt = (uint64_t)c->srtt;
    uint64_t d = srtt > ur ? srtt - ur : ur - srtt;
    c->rttvar = (sim_time)((3 * (uint64_t)c->rttvar + d) / 4);
    c->srtt = (sim_time)((7 * srtt + ur) / 8);
  }
  sim_time rto = c->srtt + 4 * c->rttvar;
  c->rto = CLAMP(rto, RTO_MIN, RTO_MAX); /* RFC 6298 §2.4, §2.5 */
}

void sim_tcp__rto_reset(sim_tcp_conn *c) {
  c->rto = c->have_rtt ? CLAMP(c->srtt + 4 * c->rttvar, RTO_MIN, RTO_MAX) : RTO_INIT;
}

static void ka_arm(sim_tcp_conn *c, sim_time at) {
  if (c->ka_ev)
    sim_world__cancel(c->net->w, c->ka_ev);
  c->ka_ev = sim_world__at(c->net->w, at, ka_ev, c, NULL);
}

void sim_tcp__ka_start(sim_tcp_conn *c) {
  if (!c->ka_ev)
    ka_arm(c, sim_time_add(c->last_rx, c->ka_idle));
}

static void timers_cancel(sim_tcp_conn *c) {
  sim_world *w = c->net->w;
  if (c->rto_ev)
    sim_world__cancel(w, c->rto_ev);
  if (c->ka_ev)
    sim_world__cancel(w, c->ka_ev);
  if (c->tw_ev)
    sim_world__cancel(w, c->tw_ev);
  c->rto_ev = c->ka_ev = c->tw_ev = 0;
  c->rto_at = SIM_TIME_NEVER;
}

/* --- notifications -------------------------------------------------------------- */

static void flush_ev(void *a, void *b) {
  sim_net *net = a;
  (void)b;
  net->flush_ev = 0;
  sim_net__enter(net);
  sim_net__leave(net);
}

void sim_tcp__flush_ev_arm(sim_net *net) {
  net->flush_ev = sim_world__at(net->w, sim_world__now(net->w), flush_ev, net, NULL);
}

static void flush_unlink(sim_tcp_conn *c) {
  if (!c->in_flush)
    return;
  sim_net *net = c->net;
  sim_tcp_conn *prev = NULL;
  for (sim_tcp_conn *x = net->flush_head; x; prev = x, x = x->flush_next) {
    if (x != c)
      continue;
    if (prev)
      prev->flush_next = x->flush_next;
    else
      net->flush_head = x->flush_next;
    if (net->flush_tail == x)
      net->flush_tail = prev;
    break;
  }
  c->in_flush = false;
}

/* Closed connection blocks are recycled (up to POOL_MAX per net): a busy
 * world opens and closes thousands, and a block comes back with its send
 * buffer and its receive buffer when they are small (at most KEEP_BUF
 * octets; a sent FIN has shrunk the send buffer already), which saves
 * their first allocations and growth too. The pool is bounded so that it
 * adds at most POOL_MAX * (block + 2 * KEEP_BUF) to a peak. */
#define POOL_MAX 128
#define KEEP_BUF 2048

/* Class of a stream buffer of SIZE octets, or -1 (no class size). */
static inline int buf_class(size_t size) {
  if (size < (1u << SIM_TCP__BUF_MIN_SHIFT) ||
      size > (1u << (SIM_TCP__BUF_MIN_SHIFT + SIM_TCP__BUF_CLASSES - 1)) || (size & (size - 1)))
    return -1;
  return __builtin_ctz((unsigned)size) - SIM_TCP__BUF_MIN_SHIFT;
}

void *sim_tcp__buf_get(sim_net *net, size_t size) {
  int k = buf_class(size);
  void *b = k >= 0 ? net->tcp_bufs[k] : NULL;
  if (!b)
    return g_malloc(size);
  memcpy(&net->tcp_bufs[k], b, sizeof(void *));
  net->n_tcp_bufs[k]--;
  return b;
}

void sim_tcp__buf_put(sim_net *net, void *b, size_t size) {
  int k = buf_class(size);
  if (k < 0 || net->n_tcp_bufs[k] >= SIM_TCP__BUF_KEEP) {
    g_free(b);
    return;
  }
  memcpy(b, &net->tcp_bufs[k], sizeof(void *));
  net->tcp_bufs[k] = b;
  net->n_tcp_bufs[k]++;
}

static inline size_t rbuf_size(const tcp_rbuf *b) { return sizeof *b + b->cap; }

static void conn_free(sim_tcp_conn *c) {
  timers_cancel(c);
  table_remove(c);
  flush_unlink(c);
  if (c->rpkt) /* a crash between the segment's arrival and the flush */
    sim_net__pkt_free(c->net, c->rpkt);
  if (c->ooo) {
    g_array_free(c->ooo->ranges, TRUE);
    g_free(c->ooo);
  }
  if (c->wlog) {
    g_array_free(c->wlog->marks, TRUE);
    g_free(c->wlog);
  }
  sim_net *net = c->net;
  if (net->n_free_conns >= POOL_MAX) {
    if (c->sbuf)
      sim_tcp__buf_put(net, c->sbuf, c->scap);
    if (c->rpend)
      sim_tcp__buf_put(net, c->rpend, rbuf_size(c->rpend));
    g_free(c);
    return;
  }
  uint8_t *sbuf = c->sbuf;
  uint32_t scap = c->scap;
  if (sbuf && scap > KEEP_BUF) {
    sim_tcp__buf_put(net, sbuf, scap);
    sbuf = NULL;
    scap = 0;
  }
  tcp_rbuf *rb = c->rpend;
  if (rb && rbuf_size(rb) > KEEP_BUF) {
    sim_tcp__buf_put(net, rb, rbuf_size(rb));
    rb = NULL;
  }
  memset(c, 0, sizeof *c);
  c->sbuf = sbuf;
  c->scap = scap;
  c->rpend = rb;
  if (rb)
    rb->len = 0;
  c->flush_next = net->free_conns;
  net->free_conns = c;
  net->n_free_conns++;
}

void sim_tcp__pool_free(sim_net *net) {
  while (net->free_conns) {
    sim_tcp_conn *c = net->free_conns;
    net->free_conns = c->flush_next;
    g_free(c->sbuf);
    g_free(c->rpend);
    g_free(c);
  }
  net->n_free_conns = 0;
  for (int k = 0; k < SIM_TCP__BUF_CLASSES; k++) {
    while (net->tcp_bufs[k]) {
      void *b = net->tcp_bufs[k];
      memcpy(&net->tcp_bufs[k], b, sizeof(void *));
      g_free(b);
    }
    net->n_tcp_bufs[k] = 0;
  }
}

/* Receive buffer blocks are 256 octets and more, doubling. */
void sim_tcp__rbuf_grow(sim_tcp_conn *c, uint32_t len) {
  tcp_rbuf *b = c->rpend;
  uint64_t need = sizeof *b + (uint64_t)(b ? b->len : 0) + len;
  uint64_t size = b ? rbuf_size(b) : 256;
  while (size < need)
    size *= 2;
  if (size - sizeof *b > UINT32_MAX)
    g_error("sim_tcp: conn %" G_GUINT64_FORMAT ": receive buffer over 4 GiB", (guint64)c->id);
  tcp_rbuf *nb = sim_tcp__buf_get(c->net, (size_t)size);
  nb->len = 0;
  if (b) {
    memcpy(nb->data, b->data, b->len);
    nb->len = b->len;
    sim_tcp__buf_put(c->net, b, rbuf_size(b));
  }
  nb->cap = (uint32_t)(size - sizeof *nb);
  c->rpend = nb;
}

void sim_tcp__rpkt_spill(sim_tcp_conn *c) {
  sim_pkt *p = c->rpkt;
  c->rpkt = NULL;
  sim_tcp__rbuf_append(c, p->data, p->len);
  sim_net__pkt_free(c->net, p);
}

static void tw_ev(void *a, void *b) {
  sim_tcp_conn *c = a;
  (void)b;
  c->tw_ev = 0;
  c->st = TCP_CLOSED;
  conn_free(c);
}

void sim_tcp__time_wait(sim_tcp_conn *c) {
  sim_tcp__enter(c, TCP_TIME_WAIT);
  sim_tcp__rto_arm(c, SIM_TIME_NEVER);
  if (c->ka_ev)
    sim_world__cancel(c->net->w, c->ka_ev);
  c->ka_ev = 0;
  if (c->tw_ev)
    sim_world__cancel(c->net->w, c->tw_ev);
  c->tw_ev = sim_world__after(c->net->w, TIME_WAIT_LEN, tw_ev, c, NULL);
  trace_writer *tw = sim_tcp__trace(c, "tcp.close");
  trace_key_str(tw, "reason", "normal");
  trace_end(tw);
  c->reason = SIM_TCP_CLOSED_NORMAL;
  c->notify |= N_CLOSED;
  sim_tcp__want_flush(c);
}

void sim_tcp__kill(sim_tcp_conn *c, sim_tcp_reason why, const char *ev, const char *key,
                   const char *val) {
  if (c->dead)
    return;
  if (ev && c->visible) {
    trace_writer *tw = sim_tcp__trace(c, ev);
    if (key)
      trace_key_str(tw, key, val);
    trace_end(tw);
  }
  c->st = TCP_CLOSED;
  c->dead = true;
  table_remove(c);
  timers_cancel(c);
  c->reason = why;
  c->notify |= N_CLOSED;
  sim_tcp__want_flush(c);
}

/* Runs the pending callbacks of C, then its pending ACK. Returns false if
 * C was freed or retired to an unseen TIME_WAIT. */
static bool flush_one(sim_tcp_conn *c) {
  for (;;) {
    uint32_t nf = c->notify;
    if (!nf)
      break;
    const sim_tcp_callbacks *cb = c->visible ? c->cb : NULL;
    if (nf & N_ACCEPT) {
      c->notify &= ~(uint32_t)N_ACCEPT;
      sim_tcp_listener *l =
          g_hash_table_lookup(c->node->tcp_listeners, GUINT_TO_POINTER(c->key.lport));
      const sim_tcp_callbacks *ncb = NULL;
      void *nuser = NULL;
      if (l && !c->dead)
        l->accept(l->user, c, &ncb, &nuser);
      if (!ncb && !c->dead) {
        /* nobody listens any more, or the owner refused */
        sim_tcp__seg_send(c, c->snd_nxt, SIM_TCP_RST | SIM_TCP_ACK, NULL, 0);
        sim_tcp__kill(c, SIM_TCP_CLOSED_ABORTED, NULL, NULL, NULL);
      } else if (ncb) {
        c->cb = ncb;
        c->user = nuser;
        c->visible = true;
      }
    } else if (nf & N_CONNECTED) {
      c->notify &= ~(uint32_t)N_CONNECTED;
      if (cb && cb->connected && !c->dead) /* dead: aborted inside accept */
        cb->connected(c->user, c);
    } else if (nf & N_DATA) {
      c->notify &= ~(uint32_t)N_DATA;
      /* Non-NULL: N_DATA means bytes are pending. No segment arrives while
       * data() runs (arrivals are events of their own), so the bytes stay
       * put until it returns. */
      sim_pkt *p = c->rpkt;
      if (p) { /* the bytes came in one segment, kept */
        if (cb && cb->data)
          cb->data(c->user, c, p->data, p->len);
        c->rpkt = NULL;
        sim_net__pkt_free(c->net, p);
        continue;
      }
      tcp_rbuf *buf = c->rpend;
      if (cb && cb->data && buf->len)
        cb->data(c->user, c, buf->data, buf->len);
      buf->len = 0;
    } else if (nf & N_EOF) {
      c->notify &= ~(uint32_t)N_EOF;
      if (cb && cb->eof)
        cb->eof(c->user, c);
    } else if (nf & N_DRAINED) {
      c->notify &= ~(uint32_t)N_DRAINED;
      if (cb && cb->drained && !c->dead)
        cb->drained(c->user, c);
    } else {
      g_assert(nf & N_CLOSED);
      c->notify = 0;
      if (cb && cb->closed)
        cb->closed(c->user, c, c->reason);
      c->visible = false;
      c->cb = NULL;
      c->user = NULL;
      c->in_flush = false;
      if (c->st != TCP_TIME_WAIT) {
        conn_free(c);
        return false;
      }
      /* TIME_WAIT lives on, unseen, until tw_ev; it still acknowledges the FIN */
      if (c->ack_pending)
        sim_tcp__seg_send(c, c->snd_nxt, SIM_TCP_ACK, NULL, 0);
      return false;
    }
  }
  if (c->ack_pending && !c->dead && c->st != TCP_CLOSED)
    sim_tcp__seg_send(c, c->snd_nxt, SIM_TCP_ACK, NULL, 0);
  c->ack_pending = false;
  return true;
}

void sim_tcp__flush(sim_net *net) {
  while (net->flush_head) {
    sim_tcp_conn *c = net->flush_head;
    net->flush_head = c->flush_next;
    if (!net->flush_head)
      net->flush_tail = NULL;
    c->flush_next = NULL;
    /* C stays marked in_flush while its callbacks run, so they don't queue it twice */
    if (!flush_one(c))
      continue;
    c->in_flush = false;
    if (c->notify || c->ack_pending) /* raised after its turn: once more */
      sim_tcp__want_flush(c);
  }
}

/* --- output ------------------------------------------------------------------ */

void sim_tcp__seg_send(sim_tcp_conn *c, uint64_t seq, uint8_t flags, const uint8_t *data,
                       uint32_t len) {
  sim_net *net = c->net;
  if (!c->peer_node)
    c->peer_node = sim_net_node_by_addr(net, &c->key.raddr);
  /* Every field read on the way assigned one by one (pkt_take's packet
   * holds no buffer: data NULL, cap 0), so no clearing of the whole packet
   * first. Left as the last user had them: next (the free list's), sent
   * (read for UDP only), and link, epoch and dir, which the network sets
   * before it reads them (sim_net.c: forward, link_tx, output_slow). */
  sim_pkt *p = sim_net__pkt_take(net);
  p->src = c->key.laddr;
  p->dst = c->key.raddr;
  p->proto = SIM_PROTO_TCP;
  p->flags = flags;
  p->sport = c->key.lport;
  p->dport = c->key.rport;
  p->window = c->window;
  p->seq = seq;
  p->ack = (flags & SIM_TCP_ACK) ? c->rcv_nxt : 0;
  p->conn = c->id;
  p->len = 0;
  p->wire = sim_net__hdr_size(c->key.raddr.family, SIM_PROTO_TCP) + len;
  p->dst_node = c->peer_node; /* saves sim_net__output its lookup */
  if (len) /* a pure ACK holds no buffer */
    sim_net__pkt_put_data(net, p, data, len);
  if (flags & SIM_TCP_ACK)
    c->ack_pending = false;
  sim_net__output(c->node, p);
}

static bool can_send_data(const sim_tcp_conn *c) {
  switch (c->st) {
  case TCP_ESTABLISHED:
  case TCP_CLOSE_WAIT:
  case TCP_FIN_WAIT_1:
  case TCP_CLOSING:
  case TCP_LAST_ACK:
    return true;
  default:
    return false;
  }
}

/* sim_tcp__output's body, inlined into sim_tcp_send (every write). */
static inline __attribute__((always_inline)) void output(sim_tcp_conn *c) {
  if (c->dead || !can_send_data(c))
    return;
  uint64_t data_end = c->sbase + c->slen;
  uint64_t wnd_end = c->snd_una + c->snd_wnd;
  sim_time now = sim_world__now(c->net->w);
  while (c->snd_nxt < data_end && c->snd_nxt < wnd_end) {
    uint64_t len = MIN(MIN((uint64_t)c->mss, data_end - c->snd_nxt), wnd_end - c->snd_nxt);
    /* RFC 9293 §3.8.6.2.1 sender SWS avoidance: a short segment only at
     * the end of the data, or when nothing is in flight */
    if (len < c->mss && c->snd_nxt + len < data_end && c->snd_max > c->snd_una)
      break;
    uint8_t flags = SIM_TCP_ACK;
    bool fin = false;
    if (c->snd_nxt + len == data_end) {
      flags |= SIM_TCP_PSH;
      fin = c->fin_queued; /* RFC 9293 §3.6: FIN rides on the last data segment */
    }
    if (fin)
      flags |= SIM_TCP_FIN;
    if (!c->timing && c->snd_nxt >= c->snd_max) {
      c->timing = true;
      c->rtt_seq = c->snd_nxt + len;
      c->rtt_t0 = now;
    }
    sim_tcp__seg_send(c, c->snd_nxt, flags, c->sbuf + c->shead + (c->snd_nxt - c->sbase),
                      (uint32_t)len);
    c->snd_nxt += len + (fin ? 1 : 0);
  }
  if (c->fin_queued && c->snd_nxt == c->fin_seq) {
    sim_tcp__seg_send(c, c->fin_seq, SIM_TCP_FIN | SIM_TCP_ACK, NULL, 0);
    c->snd_nxt++;
  }
  if (c->snd_nxt > c->snd_max)
    c->snd_max = c->snd_nxt;
  if (c->snd_max > c->snd_una && c->rto_at == SIM_TIME_NEVER)
    sim_tcp__rto_arm(c, sim_time_add(now, c->rto));
}

void sim_tcp__output(sim_tcp_conn *c) { output(c); }

void sim_tcp__retransmit(sim_tcp_conn *c, uint64_t seq) {
  c->timing = false; /* Karn's rule: no sample from a retransmitted segment */
  if (c->st == TCP_SYN_SENT) {
    sim_tcp__seg_send(c, c->iss, SIM_TCP_SYN, NULL, 0);
    return;
  }
  if (c->st == TCP_SYN_RCVD) {
    sim_tcp__seg_send(c, c->iss, SIM_TCP_SYN | SIM_TCP_ACK, NULL, 0);
    return;
  }
  uint64_t data_end = c->sbase + c->slen;
  if (seq < data_end) {
    uint64_t len = MIN((uint64_t)c->mss, data_end - seq);
    uint8_t flags = SIM_TCP_ACK;
    if (seq + len == data_end) {
      flags |= SIM_TCP_PSH;
      if (c->fin_queued && c->snd_max > c->fin_seq)
        flags |= SIM_TCP_FIN;
    }
    sim_tcp__seg_send(c, seq, flags, c->sbuf + c->shead + (seq - c->sbase), (uint32_t)len);
  } else if (c->fin_queued && seq == c->fin_seq) {
    sim_tcp__seg_send(c, seq, SIM_TCP_FIN | SIM_TCP_ACK, NULL, 0);
  }
}

/* --- timer events ------------------------------------------------------------ */

static void rto_ev(void *a, void *b) {
  sim_tcp_conn *c = a;
  (void)b;
  sim_net *net = c->net;
  sim_time now = sim_world__now(net->w);
  c->rto_ev = 0;
  if (c->rto_at == SIM_TIME_NEVER || c->dead)
    return;
  if (now < c->rto_at) {
    sim_tcp__rto_arm(c, c->rto_at);
    return;
  }
  sim_net__enter(net);
  c->rto_at = SIM_TIME_NEVER;
  if (c->st == TCP_SYN_SENT) {
    if (now >= c->connect_deadline) {
      sim_tcp__kill(c, SIM_TCP_CLOSED_TIMEOUT, "tcp.timeout", "phase", "connect");
      goto out;
    }
  } else if (c->retries >= c->max_retries) {
    if (c->st == TCP_SYN_RCVD)
      sim_tcp__kill(c, SIM_TCP_CLOSED_TIMEOUT, NULL, NULL, NULL);
    else
      sim_tcp__kill(c, SIM_TCP_CLOSED_TIMEOUT, "tcp.timeout", "phase", "retransmit");
    goto out;
  }
  c->retries++;
  c->rto = MIN(c->rto * 2, RTO_MAX); /* RFC 6298 §5.5 */
  c->dupacks = 0;
  c->recovery = false;
  c->recover = c->snd_max; /* RFC 6582 §3.2 step 1: no fast retransmit below this */
  if (c->st == TCP_SYN_SENT || c->st == TCP_SYN_RCVD || c->snd_una == c->snd_nxt) {
    sim_tcp__retransmit(c, c->snd_una);
  } else {
    /* RFC 5681 §3.1: after a timeout, send again from SND.UNA (go-back-N,
     * as far as the window allows; the receiver keeps what it already has) */
    c->snd_nxt = c->snd_una;
    c->timing = false;
    sim_tcp__output(c);
  }
  sim_time next = sim_time_add(now, c->rto);
  if (c->st == TCP_SYN_SENT)
    next = MIN(next, c->connect_deadline);
  sim_tcp__rto_arm(c, next);
out:
  sim_net__leave(net);
}

static void ka_ev(void *a, void *b) {
  sim_tcp_conn *c = a;
  (void)b;
  sim_net *net = c->net;
  sim_time now = sim_world__now(net->w);
  c->ka_ev = 0;
  if (c->dead || c->st == TCP_TIME_WAIT)
    return;
  if (c->snd_max > c->snd_una) { /* retransmission covers a busy connection */
    ka_arm(c, sim_time_add(now, c->ka_idle));
    return;
  }
  sim_time due = sim_time_add(c->last_rx, c->ka_idle + c->ka_probes * KA_INTERVAL);
  if (now < due) {
    ka_arm(c, due);
    return;
  }
  sim_net__enter(net);
  if (c->ka_probes >= KA_PROBES) {
    sim_tcp__kill(c, SIM_TCP_CLOSED_TIMEOUT, "tcp.timeout", "phase", "keepalive");
  } else {
    /* RFC 9293 §3.8.4: a probe is a segment with an old sequence number */
    sim_tcp__seg_send(c, c->snd_una - 1, SIM_TCP_ACK, NULL, 0);
    c->ka_probes++;
    ka_arm(c, sim_time_add(now, KA_INTERVAL));
  }
  sim_net__leave(net);
}

/* --- connections --------------------------------------------------------------- */

sim_tcp_conn *sim_tcp__conn_new(sim_node *n, const sim_addr *laddr, uint16_t lport,
                                const sim_addr *raddr, uint16_t rport, const sim_tcp_options *opt) {
  sim_net *net = n->net;
  sim_tcp_conn *c = net->free_conns; /* zeroed but for its buffers */
  if (c) {
    net->free_conns = c->flush_next;
    c->flush_next = NULL;
    net->n_free_conns--;
  } else {
    c = g_new0(sim_tcp_conn, 1);
  }
  c->net = n->net;
  c->node = n;
  c->id = n->net->next_conn_id++;
  c->key.laddr = *laddr;
  c->key.raddr = *raddr;
  c->key.lport = lport;
  c->key.rport = rport;
  c->max_retries = opt && opt->max_retries ? opt->max_retries : 8;
  c->ka_idle = opt && opt->keepalive_idle ? opt->keepalive_idle : 60 * SIM_S;
  c->window = opt && opt->window ? opt->window : 65535;
  uint32_t hdr = sim_net__hdr_size(raddr->family, SIM_PROTO_TCP);
  c->peer_node = sim_net_node_by_addr(net, raddr); /* NULL: seg_send looks again */
  uint32_t pmtu = sim_net__path_mtu_to(n, c->peer_node);
  c->mss = pmtu > hdr ? pmtu - hdr : 1;
  c->iss = (uint64_t)(uint32_t)sim_rng_u64(&n->rng);
  c->snd_una = c->iss;
  c->snd_nxt = c->snd_max = c->iss + 1;
  c->sbase = c->iss + 1;
  c->snd_wnd = 65535;
  c->rto = RTO_INIT; /* RFC 6298 §2.1 */
  c->rto_at = SIM_TIME_NEVER;
  c->last_rx = sim_world__now(n->net->w);
  table_add(c);
  return c;
}

static bool port_free(sim_node *n, const sim_addr *laddr, uint16_t port, const sim_addr *to,
                      uint16_t rport) {
  if (g_hash_table_contains(n->tcp_listeners, GUINT_TO_POINTER(port)))
    return false;
  sim_tcp__key k = {*laddr, *to, port, rport};
  return !sim_tcp__table_find(&n->tcp_conns, &k);
}

sim_tcp_conn *sim_tcp_connect(sim_node *n, const sim_addr *to, uint16_t port,
                              const sim_tcp_options *opt, const sim_tcp_callbacks *cb, void *user) {
  g_assert(n && to && cb);
  g_assert(to->family == 4 || to->family == 6);
  sim_addr laddr = {0};
  const sim_addr *la = sim_node_addr(n, to->family);
  if (la)
    laddr = *la;
  else
    laddr.family = to->family; /* unspecified: the answer will find no route */
  uint16_t lport = 0;
  for (int i = 0; i < 16384; i++) {
    uint16_t p = n->next_tcp_port;
    n->next_tcp_port = p == 65535 ? 49152 : (uint16_t)(p + 1);
    if (port_free(n, &laddr, p, to, port)) {
      lport = p;
      break;
    }
  }
  if (!lport)
    g_error("sim_tcp_connect: node %s has no free ephemeral port", n->name);
  sim_tcp_conn *c = sim_tcp__conn_new(n, &laddr, lport, to, port, opt);
  c->cb = cb;
  c->user = user;
  c->visible = true;
  sim_tcp__enter(c, TCP_SYN_SENT);
  sim_time now = sim_world__now(n->net->w);
  sim_time timeout = opt && opt->connect_timeout ? opt->connect_timeout : 30 * SIM_S;
  c->connect_deadline = sim_time_add(now, timeout);
  trace_end(sim_tcp__trace(c, "tcp.connect"));
  c->timing = true;
  c->rtt_seq = c->iss + 1;
  c->rtt_t0 = now;
  sim_tcp__seg_send(c, c->iss, SIM_TCP_SYN, NULL, 0);
  sim_tcp__rto_arm(c, MIN(sim_time_add(now, c->rto), c->connect_deadline));
  return c;
}

void sim_tcp__established(sim_tcp_conn *c) {
  trace_writer *tw = sim_tcp__trace(c, c->passive ? "tcp.accept" : "tcp.established");
  trace_end(tw);
  if (c->passive) {
    tw = sim_tcp__trace(c, "tcp.established");
    trace_end(tw);
  }
  c->retries = 0;
  c->last_rx = sim_world__now(c->net->w);
  sim_tcp__ka_start(c);
}

void sim_tcp_send(sim_tcp_conn *c, const void *buf, size_t len) {
  g_assert(c);
  if (c->dead || len == 0)
    return;
  if (c->fin_queued)
    g_error("sim_tcp_send: conn %" G_GUINT64_FORMAT " after close", (guint64)c->id);
  if (len > UINT32_MAX - c->slen)
    g_error("sim_tcp_send: conn %" G_GUINT64_FORMAT ": more than 4 GiB queued", (guint64)c->id);
  if (c->shead + c->slen + len > c->scap) {
    if (c->slen + len > c->scap) {
      /* Sized to what it holds: most connections carry protocol lines and
       * one message, and hundreds are open at once in a busy world. The
       * queued bytes move to the start of a new buffer. */
      size_t cap = c->scap >= 256 ? c->scap : 256;
      while (cap < c->slen + len)
        cap *= 2;
      uint8_t *nb = sim_tcp__buf_get(c->net, cap);
      if (c->slen)
        memcpy(nb, c->sbuf + c->shead, c->slen);
      if (c->sbuf)
        sim_tcp__buf_put(c->net, c->sbuf, c->scap);
      c->sbuf = nb;
      c->scap = (uint32_t)MIN(cap, UINT32_MAX);
    } else {
      memmove(c->sbuf, c->sbuf + c->shead, c->slen);
    }
    c->shead = 0;
  }
  memcpy(c->sbuf + c->shead + c->slen, buf, len);
  c->slen += len;
  /* Write times are for traced protocol lines only (sim_tcp.h). */
  if (sim_world__trace(c->net->w, SIM_DETAIL_PROTOCOL)) {
    sim_time now = sim_world__now(c->net->w);
    tcp_wlog *wl = c->wlog;
    if (!wl) {
      wl = c->wlog = g_new0(tcp_wlog, 1);
      wl->marks = g_array_new(FALSE, FALSE, sizeof(tcp_wmark));
    }
    if (wl->marks->len == 0 || g_array_index(wl->marks, tcp_wmark, wl->marks->len - 1).t != now) {
      tcp_wmark m = {wl->written, now};
      g_array_append_val(wl->marks, m);
    }
    wl->written += len;
  }
  c->drained_armed = true;
  output(c);
}

void sim_tcp_close(sim_tcp_conn *c) {
  g_assert(c);
  if (c->dead || c->fin_queued)
    return;
  c->fin_queued = true;
  c->fin_seq = c->sbase + c->slen;
  if (c->st == TCP_ESTABLISHED)
    sim_tcp__enter(c, TCP_FIN_WAIT_1);
  else if (c->st == TCP_CLOSE_WAIT)
    sim_tcp__enter(c, TCP_LAST_ACK);
  sim_tcp__output(c);
}

void sim_tcp_abort(sim_tcp_conn *c) {
  g_assert(c);
  if (c->dead)
    return;
  if (c->st != TCP_TIME_WAIT)
    sim_tcp__seg_send(c, c->snd_nxt, SIM_TCP_RST | (c->st == TCP_SYN_SENT ? 0 : SIM_TCP_ACK), NULL,
                      0);
  sim_tcp__kill(c, SIM_TCP_CLOSED_ABORTED, "tcp.close", "reason", "aborted");
}

uint64_t sim_tcp_id(const sim_tcp_conn *c) { return c->id; }
sim_node *sim_tcp_node(const sim_tcp_conn *c) { return c->node; }
const sim_addr *sim_tcp_local_addr(const sim_tcp_conn *c) { return &c->key.laddr; }
const sim_addr *sim_tcp_remote_addr(const sim_tcp_conn *c) { return &c->key.raddr; }
uint16_t sim_tcp_local_port(const sim_tcp_conn *c) { return c->key.lport; }
uint16_t sim_tcp_remote_port(const sim_tcp_conn *c) { return c->key.rport; }
size_t sim_tcp_unacked(const sim_tcp_conn *c) {
  uint64_t end = c->sbase + c->slen;
  return end > c->snd_una ? (size_t)(end - MAX(c->snd_una, c->sbase)) : 0;
}
uint32_t sim_tcp_mss(const sim_tcp_conn *c) { return c->mss; }

/* --- listeners ------------------------------------------------------------------- */

sim_tcp_listener *sim_tcp_listen(sim_node *n, uint16_t port, sim_tcp_accept_fn accept, void *user) {
  g_assert(n && accept && port != 0);
  if (g_hash_table_contains(n->tcp_listeners, GUINT_TO_POINTER(port)))
    return NULL;
  sim_tcp_listener *l = g_new0(sim_tcp_listener, 1);
  l->node = n;
  l->port = port;
  l->accept = accept;
  l->user = user;
  g_hash_table_insert(n->tcp_listeners, GUINT_TO_POINTER(port), l);
  return l;
}

void sim_tcp_unlisten(sim_tcp_listener *l) {
  if (!l)
    return;
  g_hash_table_remove(l->node->tcp_listeners, GUINT_TO_POINTER(l->port));
  g_free(l);
}

/* --- crash ---------------------------------------------------------------------- */

static int cmp_conn_id(gconstpointer a, gconstpointer b) {
  const sim_tcp_conn *x = *(sim_tcp_conn *const *)a, *y = *(sim_tcp_conn *const *)b;
  return x->id < y->id ? -1 : x->id > y->id;
}

void sim_tcp__crash(sim_node *n) {
  sim_net *net = n->net;
  GPtrArray *all = g_ptr_array_new();
  /* dead connections still waiting for their closed() are only in the flush list */
  for (sim_tcp_conn *x = net->flush_head; x; x = x->flush_next)
    if (x->node == n && !x->in_table)
      g_ptr_array_add(all, x);
  sim_tcp__table *t = &n->tcp_conns;
  for (uint32_t i = 0; t->slot && i <= t->mask; i++)
    if (t->slot[i])
      g_ptr_array_add(all, t->slot[i]);
  g_ptr_array_sort(all, cmp_conn_id); /* no hash order reaches anything */
  for (guint i = 0; i < all->len; i++)
    conn_free(all->pdata[i]);
  g_ptr_array_free(all, TRUE);
  g_assert(t->n == 0);
  sim_tcp__table_clear(t);
  memset(n->tcp_cache, 0, sizeof n->tcp_cache);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, n->tcp_listeners);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_free(v);
  g_hash_table_remove_all(n->tcp_listeners);
}

sim_time sim_tcp_peer_write_time(const sim_tcp_conn *c, uint64_t offset) {
  sim_node *pn = sim_net_node_by_addr(c->net, &c->key.raddr);
  if (!pn || !sim_node_is_up(pn))
    return -1;
  sim_tcp__key k = {c->key.raddr, c->key.laddr, c->key.rport, c->key.lport};
  const sim_tcp_conn *p = sim_tcp__table_find(&pn->tcp_conns, &k);
  if (!p || p->id != c->peer_id || !p->wlog || p->wlog->marks->len == 0 ||
      offset >= p->wlog->written)
    return -1;
  /* The last mark at or before OFFSET (marks are in offset order). */
  const GArray *marks = p->wlog->marks;
  guint lo = 0, hi = marks->len;
  while (hi - lo > 1) {
    guint mid = lo + (hi - lo) / 2;
    if (g_array_index(marks, tcp_wmark, mid).off <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return g_array_index(marks, tcp_wmark, lo).t;
}
