/* sim_tcp_int.h — the TCP connection block, shared by sim_tcp.c (API,
 * timers, output, notifications) and sim_tcp_in.c (segment arrival). */
#ifndef MAILSIM_SIM_TCP_INT_H
#define MAILSIM_SIM_TCP_INT_H

#include "sim_net_int.h"

/* Connection states, RFC 9293 §3.3.2. Legal transitions:
 *   SYN_SENT    -> ESTABLISHED (SYN-ACK) | FIN_WAIT_1 (SYN-ACK after close())
 *   SYN_RCVD    -> ESTABLISHED (ACK of our SYN)
 *   ESTABLISHED -> FIN_WAIT_1 (close) | CLOSE_WAIT (FIN received)
 *   FIN_WAIT_1  -> FIN_WAIT_2 (our FIN acked) | CLOSING (FIN received)
 *                | TIME_WAIT (FIN received and our FIN acked)
 *   FIN_WAIT_2  -> TIME_WAIT (FIN received)
 *   CLOSING     -> TIME_WAIT (our FIN acked)
 *   CLOSE_WAIT  -> LAST_ACK (close)
 *   LAST_ACK    -> CLOSED (our FIN acked)
 *   TIME_WAIT   -> CLOSED (2 MSL)
 *   any         -> CLOSED (RST, abort, timeout, crash) */
typedef enum {
  TCP_CLOSED,
  TCP_SYN_SENT,
  TCP_SYN_RCVD,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT_1,
  TCP_FIN_WAIT_2,
  TCP_CLOSING,
  TCP_TIME_WAIT,
  TCP_CLOSE_WAIT,
  TCP_LAST_ACK,
  TCP_STATE_COUNT
} tcp_state;

/* Pending notifications, delivered by sim_tcp__flush in this order. */
enum {
  N_ACCEPT = 1,
  N_CONNECTED = 2,
  N_DATA = 4,
  N_EOF = 8,
  N_DRAINED = 16,
  N_CLOSED = 32,
};

typedef struct {
  sim_addr laddr, raddr;
  uint16_t lport, rport;
} sim_tcp__key;

static inline bool sim_tcp__key_eq(const sim_tcp__key *a, const sim_tcp__key *b) {
  return a->lport == b->lport && a->rport == b->rport && sim_addr__eq(&a->laddr, &b->laddr) &&
         sim_addr__eq(&a->raddr, &b->raddr);
}

/* The address folded to 32 bits, a word at a time. */
static inline uint32_t sim_tcp__addr_fold(const sim_addr *a) {
  uint32_t x, y;
  memcpy(&x, a->b, 4);
  if (a->family == 6)
    for (int i = 4; i < 16; i += 4) {
      memcpy(&y, a->b + i, 4);
      x = (x ^ y) * 0x9e3779b1u;
    }
  return x;
}

static inline uint32_t sim_tcp__key_hash(const sim_tcp__key *k) {
  uint32_t h = sim_tcp__addr_fold(&k->laddr) * 0x9e3779b1u;
  h = (h ^ sim_tcp__addr_fold(&k->raddr)) * 0x85ebca6bu;
  h = (h ^ ((uint32_t)k->lport << 16 | k->rport)) * 0xc2b2ae35u;
  return h ^ (h >> 16);
}

typedef struct {
  uint64_t start, end;
} tcp_range;

/* The application wrote the stream bytes from OFF on at time T. */
typedef struct {
  uint64_t off;
  sim_time t;
} tcp_wmark;

struct sim_tcp_listener {
  sim_node *node;
  uint16_t port;
  sim_tcp_accept_fn accept;
  void *user;
};

/* Out-of-order bytes: the ranges held, and a ring of one window indexed by
 * seq % window. Allocated at the first out-of-order segment. */
typedef struct {
  GArray *ranges; /* tcp_range, sorted, disjoint, all > rcv_nxt */
  uint8_t ring[];
} tcp_ooo;

/* In-order bytes not yet given to data(): one block, grown by doubling. */
typedef struct {
  uint32_t len, cap;
  uint8_t data[];
} tcp_rbuf;

/* When the application wrote what (kept only at protocol detail). */
typedef struct {
  uint64_t written; /* octets written so far */
  GArray *marks;    /* tcp_wmark, by stream offset */
} tcp_wlog;

/* Field order and widths keep the block small (hundreds are open at once
 * in a queue run's burst): flags and small counters grouped, no padding. */
struct sim_tcp_conn {
  sim_tcp__key key; /* hashed; laddr/lport = this end */
  sim_net *net;
  sim_node *node;
  sim_node *peer_node; /* owner of key.raddr, looked up at the first segment;
                          NULL: none yet (addresses are never removed) */
  uint64_t id, peer_id;
  const sim_tcp_callbacks *cb;
  void *user;
  sim_tcp_conn *flush_next;
  /* options, defaults applied (sim_tcp_options) */
  sim_time ka_idle;
  uint32_t max_retries;
  uint32_t window; /* our receive window */
  uint32_t mss;
  uint8_t st;     /* tcp_state */
  uint8_t notify; /* N_* pending */
  uint8_t reason; /* sim_tcp_reason, for closed() */
  bool passive;
  bool visible; /* the user holds it (connect, or accepted) */
  bool in_table;
  bool dead; /* CLOSED; closed() pending or done */
  bool fin_queued; /* close() called; our FIN has sequence fin_seq */
  bool drained_armed;
  bool has_rfin, fin_rcvd;
  bool have_rtt, timing;
  bool recovery;
  bool ack_pending;
  bool in_flush;
  /* send side: sbuf[shead .. shead+slen) holds the bytes from sequence sbase;
   * sbuf (scap octets) NULL before the first send and once all is acked
   * after our FIN */
  uint32_t snd_wnd;
  uint32_t shead, slen, scap;
  uint64_t iss, snd_una, snd_nxt, snd_max;
  uint8_t *sbuf;
  uint64_t sbase;
  uint64_t fin_seq;
  tcp_wlog *wlog; /* NULL until the first traced write */
  /* receive side */
  uint64_t irs, rcv_nxt;
  uint64_t rfin_seq;
  tcp_ooo *ooo;               /* NULL until used */
  tcp_rbuf *rpend; /* NULL until used */
  /* In-order bytes not yet given to data() that came alone in one segment,
   * the segment itself kept (its payload is not copied into rpend): the
   * common case, one segment per event and connection. Non-NULL only
   * between the segment's arrival and the flush at the end of its event,
   * and only while rpend holds nothing; any other append first moves its
   * bytes into rpend (sim_tcp__rbuf_append). */
  sim_pkt *rpkt;
  /* RTO, RFC 6298 */
  sim_time srtt, rttvar, rto;
  uint64_t rtt_seq;
  sim_time rtt_t0;
  uint32_t retries;
  uint32_t dupacks;
  sim_time rto_at; /* SIM_TIME_NEVER: disarmed */
  sim_event_id rto_ev;
  sim_time rto_ev_at;
  uint64_t recover;
  sim_time connect_deadline;
  /* keepalive */
  sim_time last_rx;
  uint32_t ka_probes;
  sim_event_id ka_ev;
  sim_event_id tw_ev;
};

void sim_tcp__enter(sim_tcp_conn *c, tcp_state st);
const char *sim_tcp__state_name(tcp_state st);
/* Schedules the flush event (outside kernel events). */
void sim_tcp__flush_ev_arm(sim_net *net);
/* Queues C for the flush at the end of the kernel event (or of a flush
 * event of its own, outside one). Inlined: every segment passes here. */
static inline void sim_tcp__want_flush(sim_tcp_conn *c) {
  sim_net *net = c->net;
  if (!c->in_flush) {
    c->in_flush = true;
    c->flush_next = NULL;
    if (net->flush_tail)
      net->flush_tail->flush_next = c;
    else
      net->flush_head = c;
    net->flush_tail = c;
  }
  if (!net->in_kernel && !net->flush_ev)
    sim_tcp__flush_ev_arm(net);
}
void sim_tcp__kill(sim_tcp_conn *c, sim_tcp_reason why, const char *ev, const char *key,
                   const char *val);
void sim_tcp__seg_send(sim_tcp_conn *c, uint64_t seq, uint8_t flags, const uint8_t *data,
                       uint32_t len);
void sim_tcp__output(sim_tcp_conn *c);
/* False when sim_tcp__output(C) would do nothing (no data or FIN to send,
 * SND.MAX current, the retransmission deadline armed or nothing in
 * flight): most arriving segments, which find everything sent. The exact
 * complement of output's four actions, so skipping it changes nothing. */
static inline bool sim_tcp__output_due(const sim_tcp_conn *c) {
  uint64_t nxt = c->snd_nxt;
  return (nxt < c->sbase + c->slen && nxt < c->snd_una + c->snd_wnd) ||
         (c->fin_queued && nxt == c->fin_seq) || nxt > c->snd_max ||
         (c->snd_max > c->snd_una && c->rto_at == SIM_TIME_NEVER);
}
void sim_tcp__retransmit(sim_tcp_conn *c, uint64_t seq);
/* (Re)schedules the retransmission event for AT. */
void sim_tcp__rto_schedule(sim_tcp_conn *c, sim_time at);
/* The retransmission deadline := AT (SIM_TIME_NEVER: disarmed). Lazy: the
 * pending event, if any, finds nothing to do or fires earlier and re-arms;
 * only an earlier deadline schedules. Inlined: every segment passes here. */
static inline void sim_tcp__rto_arm(sim_tcp_conn *c, sim_time at) {
  c->rto_at = at;
  if (at == SIM_TIME_NEVER || (c->rto_ev && c->rto_ev_at <= at))
    return;
  sim_tcp__rto_schedule(c, at);
}
void sim_tcp__rtt_sample(sim_tcp_conn *c, sim_time rtt);
/* RTO from SRTT/RTTVAR (or the initial 1 s): ends a backoff. */
void sim_tcp__rto_reset(sim_tcp_conn *c);
void sim_tcp__ka_start(sim_tcp_conn *c);
void sim_tcp__established(sim_tcp_conn *c);
void sim_tcp__time_wait(sim_tcp_conn *c);
trace_writer *sim_tcp__trace(sim_tcp_conn *c, const char *ev);
sim_tcp_conn *sim_tcp__conn_new(sim_node *n, const sim_addr *laddr, uint16_t lport,
                                const sim_addr *raddr, uint16_t rport, const sim_tcp_options *opt);
void sim_tcp__send_reset_for(sim_node *n, const sim_pkt *p);
/* The connection of key K in T, or NULL. */
static inline sim_tcp_conn *sim_tcp__table_find(const sim_tcp__table *t, const sim_tcp__key *k) {
  if (!t->slot)
    return NULL;
  for (uint32_t i = sim_tcp__key_hash(k) & t->mask;; i = (i + 1) & t->mask) {
    sim_tcp_conn *c = t->slot[i];
    if (!c || sim_tcp__key_eq(&c->key, k))
      return c;
  }
}

/* A stream buffer of SIZE octets (a class size from the net's cache when it
 * has one; else malloc), and its return (to the cache unless that class is
 * full or SIZE is no class size). */
void *sim_tcp__buf_get(sim_net *net, size_t size);
void sim_tcp__buf_put(sim_net *net, void *b, size_t size);
/* Makes room for LEN more octets in C's pending in-order bytes. */
void sim_tcp__rbuf_grow(sim_tcp_conn *c, uint32_t len);
/* Moves the bytes of C's kept segment (c->rpkt) into rpend and frees it. */
void sim_tcp__rpkt_spill(sim_tcp_conn *c);
/* Appends LEN octets to C's pending in-order bytes. */
static inline void sim_tcp__rbuf_append(sim_tcp_conn *c, const uint8_t *d, uint32_t len) {
  if (c->rpkt)
    sim_tcp__rpkt_spill(c);
  tcp_rbuf *b = c->rpend;
  if (!b || b->cap - b->len < len) {
    sim_tcp__rbuf_grow(c, len);
    b = c->rpend;
  }
  memcpy(b->data + b->len, d, len);
  b->len += len;
}

#endif
