/* sim_net_int.h — internals shared by the network and transport files of
 * sim/ (sim_net.c, sim_udp.c, sim_tcp.c, sim_tcp_in.c). Not for other
 * layers.
 *
 * Packets. A packet is one IP datagram in flight: addresses, protocol,
 * ports, the TCP header fields that matter to the model, and the payload
 * (owned by the packet, in a buffer of a power-of-two size class from 32 to
 * 2048 octets, exact above; when the packet returns to the network's free
 * list its buffer goes back to its class's free list, so a steady stream
 * allocates nothing and a pure ACK holds no buffer at all). A packet
 * has exactly one owner at a time: the sender until sim_net__output(), then
 * the network (a link direction or an arrival event), then the receiving
 * transport, which gives it back with sim_net__pkt_free().
 *
 * ICMP "port unreachable" packets reuse the port fields: src/dst are the
 * addresses of the ICMP message (from the unreachable host back to the UDP
 * sender), sport is the port that was unreachable, dport is the UDP
 * sender's port.
 *
 * Kernel events and callbacks. Every event of the network (packet arrival,
 * TCP timers, faults, the flush event) runs between sim_net__enter() and
 * sim_net__leave(); leave() runs the TCP notifications queued meanwhile
 * (socket callbacks, then pending pure ACKs). A notification raised by a
 * user call made outside a kernel event schedules a flush event at now, so
 * callbacks never run inside the call that caused them.
 */
#ifndef MAILSIM_SIM_NET_INT_H
#define MAILSIM_SIM_NET_INT_H

#include <glib.h>
#include <string.h>

#include "sim_net.h"
#include "sim_tcp.h"
#include "sim_udp.h"
#include "sim_world_int.h"

enum { SIM_PROTO_ICMP = 1, SIM_PROTO_TCP = 6, SIM_PROTO_UDP = 17 };

/* TCP flags, RFC 9293 §3.1 bit values. */
enum {
  SIM_TCP_FIN = 0x01,
  SIM_TCP_SYN = 0x02,
  SIM_TCP_RST = 0x04,
  SIM_TCP_PSH = 0x08,
  SIM_TCP_ACK = 0x10,
};

/* Header sizes on the wire (no options). */
enum {
  SIM_IPV4_HDR = 20,
  SIM_IPV6_HDR = 40,
  SIM_TCP_HDR = 20,
  SIM_UDP_HDR = 8,
  SIM_ICMP_HDR = 8,
};

/* Payload buffer size classes: 32 << k octets for k < SIM_NET__BUF_CLASSES. */
enum { SIM_NET__BUF_MIN_SHIFT = 5, SIM_NET__BUF_CLASSES = 7 };
/* TCP stream buffer classes (send buffers, pending received bytes): 256 << k
 * octets for k < SIM_TCP__BUF_CLASSES, at most SIM_TCP__BUF_KEEP of each
 * kept free per net (sim_tcp.c). */
enum { SIM_TCP__BUF_MIN_SHIFT = 8, SIM_TCP__BUF_CLASSES = 4, SIM_TCP__BUF_KEEP = 32 };
/* Slots of a node's connection cache by peer id (a power of two). */
enum { SIM_TCP__CACHE = 8 };

typedef struct sim_pkt sim_pkt;
struct sim_pkt {
  sim_pkt *next; /* free list */
  sim_addr src, dst;
  uint8_t proto;
  uint8_t flags; /* TCP */
  uint16_t sport, dport;
  uint32_t window;   /* TCP */
  uint64_t seq, ack; /* TCP, 64-bit sequence space (the trace writes mod 2^32) */
  uint64_t conn;     /* TCP: id of the sending connection, 0 if none */
  uint8_t *data;
  uint32_t len, cap;
  uint32_t wire; /* octets on the wire: IP + transport header + payload */
  sim_time sent; /* when the sender handed it to the network (UDP) */
  /* in flight */
  sim_node *dst_node;
  sim_link *link; /* NULL: loopback */
  uint32_t epoch; /* the link's epoch when the packet was put on it */
  uint8_t dir;    /* 0: end[0] -> end[1] */
};

typedef struct {
  sim_time end;
  uint32_t size;
} sim_qent;

/* One direction of a link: a FIFO of packets being serialized. Queue
 * occupancy = octets of packets whose serialization has not ended. */
typedef struct {
  sim_time busy_until;   /* end of serialization of the last packet accepted */
  sim_time last_arrival; /* arrival time of the last packet: later ones never overtake */
  uint64_t queued;
  sim_qent *ring;
  uint32_t head, count, cap;
} sim_linkdir;

struct sim_link {
  sim_net *net;
  size_t index;
  sim_node *end[2];
  sim_link_params p; /* with defaults applied */
  bool up;
  bool route_up;  /* up at the last route computation */
  /* forward's common case (up, a bandwidth, neither loss nor jitter) takes
   * packets of at most this many octets (the smaller of the MTU and the
   * queue); 0: none (link_fast_wire keeps it, at every change of UP or P) */
  uint32_t fast_wire;
  uint32_t epoch; /* bumped at each up/down change: packets of an older epoch are lost */
  sim_rng rng;    /* "link:A-B" */
  sim_linkdir dir[2];
};

/* A node's TCP connections by their key: open addressing with linear
 * probing, a power-of-two size at most half full, deletion by shifting
 * back (no tombstones: connections come and go all the time, and a table
 * with tombstones rebuilds itself every so often). Only lookups use the
 * hash; the crash sorts what it takes out by connection id. */
typedef struct {
  sim_tcp_conn **slot; /* NULL: empty; the array NULL until the first add */
  uint32_t mask;       /* size - 1 */
  uint32_t n;
} sim_tcp__table;

struct sim_node {
  sim_net *net;
  char *name;
  size_t index;
  bool router;
  bool up;
  GArray *addrs;    /* sim_addr */
  GPtrArray *links; /* sim_link*, in link creation order */
  sim_rng rng;      /* "node:NAME" */
  sim_node_hook hook;
  void *hook_user;
  /* transport state, dropped on crash */
  GHashTable *tcp_listeners; /* port -> sim_tcp_listener* */
  sim_tcp__table tcp_conns;  /* by key (sim_tcp.c) */
  /* Connections of tcp_conns by the id of their peer connection (the
   * sending connection a segment names, sim_pkt.conn): slot peer_id &
   * (SIM_TCP__CACHE - 1) holds one whose peer_id is set, or NULL. A
   * connection's peer_id is set once (at the SYN or SYN-ACK of a segment
   * that matched its key) and a connection sends only with its own key,
   * so a segment naming that peer is for that connection: no key compared
   * on a hit (sim_tcp_in.c). Cleared when a connection leaves the table. */
  sim_tcp_conn *tcp_cache[SIM_TCP__CACHE];
  GHashTable *udp_socks;     /* port -> sim_udp_sock* */
  uint16_t next_tcp_port, next_udp_port;
};

/* An entry of the net's address table; N NULL: empty. */
typedef struct {
  sim_addr a;
  sim_node *n;
} sim_net__addr_ent;

struct sim_net {
  sim_world *w;
  GPtrArray *nodes;    /* sim_node*, by index */
  GPtrArray *links;    /* sim_link*, by index */
  GHashTable *by_name; /* lookup only */
  /* address -> owner: open addressing, linear probing, a power-of-two size
   * at most half full (addresses are never removed); lookup only */
  sim_net__addr_ent *by_addr;
  uint32_t by_addr_mask, by_addr_n;
  int32_t **routes;    /* routes[dst][node] = link index toward dst, -1 none; lazily;
                          NULL or routes_n == the node count */
  size_t routes_n;
  sim_pkt *free_pkts;
  void *free_bufs[SIM_NET__BUF_CLASSES]; /* payload buffers by size class, linked through their first word */
  GPtrArray *all_pkts; /* every packet allocated, to free them with the world */
  sim_tcp_conn *free_conns; /* recycled connection blocks, linked through flush_next */
  uint32_t n_free_conns;
  /* free TCP stream buffers by class, linked through their first word (a
   * bounded cache: a burst's buffers beyond it go back to malloc) */
  void *tcp_bufs[SIM_TCP__BUF_CLASSES];
  uint32_t n_tcp_bufs[SIM_TCP__BUF_CLASSES];
  uint64_t next_conn_id;
  /* kernel event nesting and TCP notifications */
  int in_kernel;
  sim_tcp_conn *flush_head, *flush_tail;
  sim_event_id flush_ev;
  /* counters */
  uint64_t pkts_sent, pkts_delivered, pkts_dropped;
  GPtrArray *param_changes; /* sim_net__params*: scheduled by sim_net_link_set_params_at */
};

/* A parameter change scheduled for later (owned by the net). */
typedef struct {
  sim_link *l;
  sim_link_params p;
} sim_net__params;

/* sim_addr_equal, inlined for the connection table's compare. */
static inline bool sim_addr__eq(const sim_addr *a, const sim_addr *b) {
  if (a->family != b->family)
    return false;
  return a->family == 4 ? memcmp(a->b, b->b, 4) == 0 : memcmp(a->b, b->b, 16) == 0;
}

/* --- world glue (sim_world.c) --- */
sim_net *sim_net__new(sim_world *w);
void sim_net__free(sim_net *net);

/* --- packets --- */
/* A zeroed packet. */
sim_pkt *sim_net__pkt_new(sim_net *net);
/* A new packet, zeroed (the free list was empty). */
sim_pkt *sim_net__pkt_alloc(sim_net *net);
/* A packet off the free list, NOT cleared: it holds no payload buffer
 * (data NULL, cap 0) but its other fields are the last user's. For a
 * caller that assigns the whole struct (sim_tcp__seg_send, every segment). */
static inline sim_pkt *sim_net__pkt_take(sim_net *net) {
  sim_pkt *p = net->free_pkts;
  if (__builtin_expect(!p, 0))
    return sim_net__pkt_alloc(net);
  net->free_pkts = p->next;
  return p;
}
/* Gives P's payload buffer back to its class's free list (P keeps none). */
void sim_net__buf_release(sim_net *net, sim_pkt *p);
/* P back to the free list; its payload buffer back to its class's list. */
static inline void sim_net__pkt_free(sim_net *net, sim_pkt *p) {
  uint8_t *d = p->data;
  if (d) { /* a class buffer back on its list inline (every data segment) */
    uint32_t cap = p->cap;
    if (cap <= (32u << (SIM_NET__BUF_CLASSES - 1))) {
      int k = __builtin_ctz(cap) - SIM_NET__BUF_MIN_SHIFT;
      memcpy(d, &net->free_bufs[k], sizeof(void *));
      net->free_bufs[k] = d;
      p->data = NULL;
      p->cap = 0;
    } else {
      sim_net__buf_release(net, p);
    }
  }
  p->next = net->free_pkts;
  net->free_pkts = p;
}
/* Copies LEN bytes into the payload (a buffer of P's size class, from NET's
 * free lists when one is there). */
void sim_net__pkt_set_data(sim_net *net, sim_pkt *p, const void *buf, size_t len);
/* sim_net__pkt_set_data for a packet that holds no buffer (cap 0) and a
 * payload of 1..2048 octets whose class has a free buffer: inline (every
 * data segment); anything else through sim_net__pkt_set_data. Same buffer
 * either way. */
static inline void sim_net__pkt_put_data(sim_net *net, sim_pkt *p, const void *buf, uint32_t len) {
  uint32_t cap = len <= 32 ? 32 : 1u << (32 - __builtin_clz(len - 1));
  if (p->cap == 0 && len && cap <= (32u << (SIM_NET__BUF_CLASSES - 1))) {
    int k = __builtin_ctz(cap) - SIM_NET__BUF_MIN_SHIFT;
    void *b = net->free_bufs[k];
    if (b) {
      memcpy(&net->free_bufs[k], b, sizeof(void *));
      p->data = b;
      p->cap = cap;
      memcpy(b, buf, len);
      p->len = len;
      return;
    }
  }
  sim_net__pkt_set_data(net, p, buf, len);
}
/* Header octets for the family of P's addresses and protocol. */
static inline uint32_t sim_net__hdr_size(int family, uint8_t proto) {
  uint32_t ip = family == 6 ? SIM_IPV6_HDR : SIM_IPV4_HDR;
  switch (proto) {
  case SIM_PROTO_TCP:
    return ip + SIM_TCP_HDR;
  case SIM_PROTO_UDP:
    return ip + SIM_UDP_HDR;
  case SIM_PROTO_ICMP:
    return ip + SIM_ICMP_HDR + ip + 8; /* RFC 792: header + original IP header + 8 octets */
  default:
    g_error("sim_net__hdr_size: protocol %u", proto);
  }
}
/* Sends P from node N (the network takes P). P->wire must be set;
 * P->dst_node may be preset to the owner of P->dst (else it is looked up). */
void sim_net__output(sim_node *n, sim_pkt *p);
/* Smallest MTU on the route from N to TO (1500 if there is no route). */
/* Smallest MTU on the route from N to DST, the owner of the address in
 * question (1500 if there is no route or no owner, DST NULL). */
uint32_t sim_net__path_mtu_to(sim_node *n, sim_node *dst);


/* "addr:port" ("[v6]:port") into BUF of SIM_EP_BUFSZ. */
#define SIM_EP_BUFSZ (SIM_ADDR_BUFSZ + 8)
char *sim_net__ep(const sim_addr *a, uint16_t port, char *buf);

/* --- transports --- */
/* The arrival of segment P at N, between sim_net__enter() and
 * sim_net__leave() of its own (inlined): called from a kernel event, the
 * enter/leave pair only counts (the outer leave flushes); called as the
 * event itself (sim_net.c's arrive_ev, a segment reaching its owner with
 * the packet trace off), it is the whole kernel event. Takes P. */
void sim_tcp__arrive(sim_node *n, sim_pkt *p);
void sim_tcp__flush(sim_net *net);
void sim_tcp__table_clear(sim_tcp__table *t); /* frees its array (not the connections) */
void sim_tcp__crash(sim_node *n);             /* drops all TCP state of N */
void sim_tcp__pool_free(sim_net *net);        /* the recycled connection blocks and buffers */
void sim_udp__input(sim_node *n, sim_pkt *p); /* takes P */
void sim_udp__icmp_input(sim_node *n, sim_pkt *p);
void sim_udp__crash(sim_node *n);

/* --- kernel events: every packet's arrival passes here (inlined) --- */
static inline void sim_net__enter(sim_net *net) { net->in_kernel++; }
/* Leaving the outermost kernel event delivers the pending TCP callbacks. */
static inline void sim_net__leave(sim_net *net) {
  g_assert(net->in_kernel > 0);
  if (net->in_kernel == 1 && net->flush_head)
    sim_tcp__flush(net);
  net->in_kernel--;
}

#endif
