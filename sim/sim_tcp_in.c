/* sim_tcp_in.c — TCP segment arrival: demultiplexing, the handshake, ACK
 * processing (RFC 9293 §3.10.7.4; RFC 6298 RTT samples; RFC 5681 §3.2 fast
 * retransmit; RFC 6582 partial ACKs), reassembly and FIN, and RST
 * generation for segments nobody owns (RFC 9293 §3.10.7.1).
 *
 * RST acceptance is lenient (sequence within a window either side of
 * RCV.NXT): the simulated network has no off-path attacker, so RFC 5961's
 * exact-match challenge is not needed. A SYN on a synchronized connection
 * (a restarted peer reusing the 4-tuple) is answered with an ACK
 * (RFC 5961 §4.2), which the peer in SYN-SENT answers with an RST.
 */
#include <string.h>

#include "sim_tcp_int.h"

void sim_tcp__send_reset_for(sim_node *n, const sim_pkt *p) {
  if (p->flags & SIM_TCP_RST)
    return;
  sim_net *net = n->net;
  sim_pkt *r = sim_net__pkt_new(net);
  r->src = p->dst;
  r->dst = p->src;
  r->proto = SIM_PROTO_TCP;
  r->sport = p->dport;
  r->dport = p->sport;
  if (p->flags & SIM_TCP_ACK) {
    r->flags = SIM_TCP_RST;
    r->seq = p->ack;
  } else {
    r->flags = SIM_TCP_RST | SIM_TCP_ACK;
    r->seq = 0;
    r->ack =
        p->seq + p->len + ((p->flags & SIM_TCP_SYN) ? 1 : 0) + ((p->flags & SIM_TCP_FIN) ? 1 : 0);
  }
  r->wire = sim_net__hdr_size(r->dst.family, SIM_PROTO_TCP);
  sim_net__output(n, r);
}

static void passive_open(sim_node *n, sim_pkt *p) {
  sim_tcp_conn *c = sim_tcp__conn_new(n, &p->dst, p->dport, &p->src, p->sport, NULL);
  c->passive = true;
  c->peer_id = p->conn;
  c->irs = p->seq;
  c->rcv_nxt = p->seq + 1;
  c->snd_wnd = p->window;
  sim_tcp__enter(c, TCP_SYN_RCVD);
  c->timing = true;
  c->rtt_seq = c->iss + 1;
  c->rtt_t0 = sim_world__now(n->net->w);
  sim_tcp__seg_send(c, c->iss, SIM_TCP_SYN | SIM_TCP_ACK, NULL, 0);
  sim_tcp__rto_arm(c, sim_time_add(sim_world__now(n->net->w), c->rto));
}

/* Copies [from, to) of the out-of-order ring into the pending bytes. */
static void ring_take(sim_tcp_conn *c, uint64_t from, uint64_t to) {
  uint32_t w = c->window;
  while (from < to) {
    uint32_t pos = (uint32_t)(from % w);
    uint64_t n = MIN(to - from, (uint64_t)(w - pos));
    sim_tcp__rbuf_append(c, c->ooo->ring + pos, (uint32_t)n);
    from += n;
  }
}

static void ring_put(sim_tcp_conn *c, uint64_t seq, const uint8_t *data, uint32_t len) {
  uint32_t w = c->window;
  if (!c->ooo) {
    c->ooo = g_malloc(sizeof(tcp_ooo) + w);
    c->ooo->ranges = g_array_new(FALSE, FALSE, sizeof(tcp_range));
  }
  while (len) {
    uint32_t pos = (uint32_t)(seq % w);
    uint32_t n = MIN(len, w - pos);
    memcpy(c->ooo->ring + pos, data, n);
    seq += n;
    data += n;
    len -= n;
  }
}

/* Adds [s, e) to the sorted disjoint out-of-order ranges. */
static void ooo_add(sim_tcp_conn *c, uint64_t s, uint64_t e) {
  GArray *a = c->ooo->ranges; /* ring_put made it */
  guint i = 0;
  while (i < a->len && g_array_index(a, tcp_range, i).end < s)
    i++;
  tcp_range r = {s, e};
  while (i < a->len && g_array_index(a, tcp_range, i).start <= e) {
    tcp_range *x = &g_array_index(a, tcp_range, i);
    r.start = MIN(r.start, x->start);
    r.end = MAX(r.end, x->end);
    g_array_remove_index(a, i);
  }
  g_array_insert_val(a, i, r);
}

static void fin_arrived(sim_tcp_conn *c) {
  c->fin_rcvd = true;
  c->rcv_nxt++;
  c->notify |= N_EOF;
  switch (c->st) {
  case TCP_ESTABLISHED:
    sim_tcp__enter(c, TCP_CLOSE_WAIT);
    break;
  case TCP_FIN_WAIT_1:
    if (c->snd_una > c->fin_seq)
      sim_tcp__time_wait(c);
    else
      sim_tcp__enter(c, TCP_CLOSING);
    break;
  case TCP_FIN_WAIT_2:
    sim_tcp__time_wait(c);
    break;
  default:
    g_assert_not_reached();
  }
}

/* Returns true when C kept P (c->rpkt: its payload is the pending bytes). */
static bool data_in(sim_tcp_conn *c, sim_pkt *p) {
  uint64_t s = p->seq;
  const uint8_t *d = p->data;
  uint64_t len = p->len;
  bool fin = (p->flags & SIM_TCP_FIN) != 0;
  if (c->fin_rcvd ||
      (c->st != TCP_ESTABLISHED && c->st != TCP_FIN_WAIT_1 && c->st != TCP_FIN_WAIT_2)) {
    if (len || fin)
      c->ack_pending = true; /* a retransmission: acknowledge again */
    return false;
  }
  uint64_t w = c->window;
  if (len == 0 && !fin) {
    if (s < c->rcv_nxt)
      c->ack_pending = true; /* unacceptable (a keepalive probe): ACK, §3.10.7.4 */
    return false;
  }
  c->ack_pending = true;
  uint64_t end = s + len;
  if (end < c->rcv_nxt || (end == c->rcv_nxt && !fin))
    return false; /* wholly old */
  if (s < c->rcv_nxt) {
    d += c->rcv_nxt - s;
    len -= c->rcv_nxt - s;
    s = c->rcv_nxt;
  }
  if (end > c->rcv_nxt + w) { /* beyond the window: keep what fits */
    fin = false;
    if (s >= c->rcv_nxt + w)
      return false;
    len = c->rcv_nxt + w - s;
    end = s + len;
  }
  if (fin) {
    c->has_rfin = true;
    c->rfin_seq = end;
  }
  bool kept = false;
  if (s == c->rcv_nxt) {
    GArray *a = c->ooo ? c->ooo->ranges : NULL;
    if (len) {
      /* The whole payload, nothing pending before it, no out-of-order
       * bytes to follow it: keep the segment instead of copying. */
      if (len == p->len && !c->rpkt && (!c->rpend || !c->rpend->len) && (!a || !a->len)) {
        c->rpkt = p;
        kept = true;
      } else {
        sim_tcp__rbuf_append(c, d, (uint32_t)len);
      }
      c->rcv_nxt += len;
    }
    while (a && a->len && g_array_index(a, tcp_range, 0).start <= c->rcv_nxt) {
      tcp_range r = g_array_index(a, tcp_range, 0);
      if (r.end > c->rcv_nxt) {
        ring_take(c, c->rcv_nxt, r.end);
        c->rcv_nxt = r.end;
      }
      g_array_remove_index(a, 0);
    }
    if (c->rpkt || (c->rpend && c->rpend->len))
      c->notify |= N_DATA;
  } else if (len) {
    ring_put(c, s, d, (uint32_t)len);
    ooo_add(c, s, end);
  }
  if (c->has_rfin && c->rcv_nxt == c->rfin_seq)
    fin_arrived(c);
  return kept;
}

/* ACK processing for synchronized states. Returns false if C died. */
static bool ack_in(sim_tcp_conn *c, const sim_pkt *p) {
  sim_time now = sim_world__now(c->net->w);
  uint64_t ack = p->ack;
  if (ack > c->snd_max) {
    c->ack_pending = true; /* acks something not yet sent: §3.10.7.4 */
    return true;
  }
  if (ack > c->snd_una) {
    uint64_t data_end = c->sbase + c->slen;
    uint64_t to = MIN(ack, data_end);
    if (to > c->sbase) {
      size_t n = (size_t)(to - c->sbase);
      c->shead += n;
      c->slen -= n;
      c->sbase = to;
      if (c->slen == 0)
        c->shead = 0;
      /* Everything we will ever send is acknowledged: give the buffer back
       * (a closed connection may live on in TIME_WAIT; no send follows a
       * FIN, and with nothing queued no offset into it is taken). */
      if (c->slen == 0 && c->fin_queued && c->sbuf) {
        sim_tcp__buf_put(c->net, c->sbuf, c->scap);
        c->sbuf = NULL;
        c->scap = 0;
      }
    }
    c->snd_una = ack;
    if (c->snd_nxt < ack)
      c->snd_nxt = ack;
    if (c->timing && ack >= c->rtt_seq) {
      c->timing = false;
      sim_tcp__rtt_sample(c, now - c->rtt_t0);
    } else if (c->retries) {
      sim_tcp__rto_reset(c); /* new data acknowledged: the backoff ends */
    }
    c->retries = 0;
    c->dupacks = 0;
    if (c->recovery) {
      if (ack >= c->recover)
        c->recovery = false;
      else
        sim_tcp__retransmit(c, c->snd_una); /* RFC 6582 §3.2 step 3: partial ACK */
    }
    if (c->snd_una == c->snd_max) {
      sim_tcp__rto_arm(c, SIM_TIME_NEVER);
      if (c->drained_armed && c->slen == 0) {
        c->drained_armed = false;
        c->notify |= N_DRAINED;
      }
    } else {
      sim_tcp__rto_arm(c, sim_time_add(now, c->rto)); /* RFC 6298 §5.3 */
    }
    if (c->fin_queued && ack > c->fin_seq) {
      switch (c->st) {
      case TCP_FIN_WAIT_1:
        sim_tcp__enter(c, TCP_FIN_WAIT_2);
        break;
      case TCP_CLOSING:
        sim_tcp__time_wait(c);
        break;
      case TCP_LAST_ACK:
        sim_tcp__kill(c, SIM_TCP_CLOSED_NORMAL, "tcp.close", "reason", "normal");
        return false;
      default:
        break;
      }
    }
  } else if (ack == c->snd_una && p->len == 0 && !(p->flags & (SIM_TCP_SYN | SIM_TCP_FIN)) &&
             c->snd_max > c->snd_una && p->window == c->snd_wnd) {
    /* RFC 5681 §3.2: the third duplicate ACK retransmits at once */
    if (++c->dupacks == 3 && !c->recovery && c->snd_una >= c->recover) {
      c->recovery = true;
      c->recover = c->snd_max;
      sim_tcp__retransmit(c, c->snd_una);
    }
  }
  c->snd_wnd = p->window;
  return true;
}

static void syn_sent_in(sim_tcp_conn *c, sim_pkt *p) {
  if ((p->flags & SIM_TCP_ACK) && p->ack != c->iss + 1) {
    if (!(p->flags & SIM_TCP_RST))
      sim_tcp__send_reset_for(c->node, p);
    return;
  }
  if (p->flags & SIM_TCP_RST) {
    if (p->flags & SIM_TCP_ACK)
      sim_tcp__kill(c, SIM_TCP_CLOSED_REFUSED, "tcp.refused", NULL, NULL);
    return;
  }
  if (!(p->flags & SIM_TCP_SYN) || !(p->flags & SIM_TCP_ACK))
    return; /* simultaneous open is not modelled */
  c->irs = p->seq;
  c->rcv_nxt = p->seq + 1;
  c->snd_una = c->iss + 1;
  c->snd_wnd = p->window;
  c->peer_id = p->conn;
  if (c->timing) {
    c->timing = false;
    sim_tcp__rtt_sample(c, sim_world__now(c->net->w) - c->rtt_t0);
  } else {
    sim_tcp__rto_reset(c);
  }
  sim_tcp__rto_arm(c, SIM_TIME_NEVER);
  sim_tcp__enter(c, c->fin_queued ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED);
  sim_tcp__established(c);
  c->notify |= N_CONNECTED;
  c->ack_pending = true;
  sim_tcp__output(c); /* queued data carries the ACK */
}

/* The arrival of P at N (sim_tcp__arrive's body). */
static inline __attribute__((always_inline)) void input(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  /* The connection whose peer sent P, by the peer's id: no key built on a
   * hit (a cached entry's peer_id is never 0, so an unnamed segment misses) */
  uint64_t from = p->conn;
  sim_tcp_conn **slot = &n->tcp_cache[from & (SIM_TCP__CACHE - 1)];
  sim_tcp_conn *c = *slot;
  if (!c || c->peer_id != from) {
    sim_tcp__key k = {p->dst, p->src, p->dport, p->sport};
    c = sim_tcp__table_find(&n->tcp_conns, &k);
    if (c && c->peer_id == from && from)
      *slot = c;
  }
  if (!c) {
    if ((p->flags & (SIM_TCP_SYN | SIM_TCP_ACK | SIM_TCP_RST)) == SIM_TCP_SYN &&
        g_hash_table_contains(n->tcp_listeners, GUINT_TO_POINTER(p->dport)))
      passive_open(n, p);
    else
      sim_tcp__send_reset_for(n, p); /* RFC 9293 §3.10.7.1 */
    sim_net__pkt_free(net, p);
    return;
  }
  c->last_rx = sim_world__now(net->w);
  c->ka_probes = 0;
  if (c->st == TCP_SYN_SENT) {
    syn_sent_in(c, p);
    goto out;
  }
  if (p->flags & SIM_TCP_RST) {
    uint64_t w = c->window;
    if (p->seq + w >= c->rcv_nxt && p->seq < c->rcv_nxt + w) {
      if (c->st != TCP_TIME_WAIT) { /* RFC 1337: TIME_WAIT ignores RSTs */
        sim_tcp__kill(c, SIM_TCP_CLOSED_RESET, "tcp.reset", "state", sim_tcp__state_name(c->st));
      }
    }
    goto out;
  }
  if (p->flags & SIM_TCP_SYN) {
    if (c->st == TCP_SYN_RCVD && p->seq == c->irs)
      sim_tcp__retransmit(c, c->iss); /* our SYN-ACK was lost */
    else
      c->ack_pending = true; /* RFC 5961 §4.2 challenge ACK */
    goto out;
  }
  if (!(p->flags & SIM_TCP_ACK))
    goto out;
  if (c->st == TCP_SYN_RCVD) {
    if (p->ack != c->iss + 1) {
      sim_tcp__send_reset_for(n, p);
      goto out;
    }
    c->snd_una = c->iss + 1;
    if (c->timing) {
      c->timing = false;
      sim_tcp__rtt_sample(c, sim_world__now(net->w) - c->rtt_t0);
    }
    sim_tcp__rto_arm(c, SIM_TIME_NEVER);
    sim_tcp__enter(c, TCP_ESTABLISHED);
    sim_tcp__established(c);
    c->notify |= N_ACCEPT | N_CONNECTED;
  }
  if (!ack_in(c, p))
    goto out;
  bool kept = data_in(c, p);
  if (!c->dead && sim_tcp__output_due(c))
    sim_tcp__output(c);
  if (c->notify || c->ack_pending)
    sim_tcp__want_flush(c);
  if (!kept)
    sim_net__pkt_free(net, p);
  return;
out:
  if (c->notify || c->ack_pending)
    sim_tcp__want_flush(c);
  sim_net__pkt_free(net, p);
}

void sim_tcp__arrive(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  int k = net->in_kernel; /* sim_net__enter/leave, inlined */
  net->in_kernel = k + 1;
  input(n, p);
  if (k == 0 && net->flush_head)
    sim_tcp__flush(net);
  net->in_kernel = k;
}
