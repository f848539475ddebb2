/* sim_udp.c — UDP datagrams (RFC 768) and the ICMP port-unreachable answer
 * (RFC 792 type 3 code 3; RFC 1122 §4.1.3.1: a host SHOULD send it for a
 * datagram to a port with no listener).
 *
 * A datagram is one packet: 8 octets of UDP header plus the IP header plus
 * the payload on the wire; larger than a link's MTU, it is dropped at that
 * link (no fragmentation). recv() and unreachable() run inside the arrival
 * event of the packet, after the kernel is done with it, so they may call
 * anything here (including sim_udp_close of their own socket).
 */
#include "sim_net_int.h"

struct sim_udp_sock {
  sim_node *node;
  uint16_t port;
  bool bound; /* in node->udp_socks under port (else the caller's, to rebind or close) */
  const sim_udp_callbacks *cb;
  void *user;
  sim_time rx_sent; /* of the datagram recv() is being given */
};

/* PORT if free on N, or with 0 the next free ephemeral port; 0 if none. */
static uint16_t port_pick(sim_node *n, uint16_t port) {
  if (port == 0) {
    for (int i = 0; i < 16384 && !port; i++) {
      uint16_t p = n->next_udp_port;
      n->next_udp_port = p == 65535 ? 49152 : (uint16_t)(p + 1);
      if (!g_hash_table_contains(n->udp_socks, GUINT_TO_POINTER(p)))
        port = p;
    }
    return port;
  }
  return g_hash_table_contains(n->udp_socks, GUINT_TO_POINTER(port)) ? 0 : port;
}

static void sock_bind(sim_udp_sock *s, uint16_t port, const sim_udp_callbacks *cb, void *user) {
  s->port = port;
  s->bound = true;
  s->cb = cb;
  s->user = user;
  g_hash_table_insert(s->node->udp_socks, GUINT_TO_POINTER(port), s);
}

sim_udp_sock *sim_udp_bind(sim_node *n, uint16_t port, const sim_udp_callbacks *cb, void *user) {
  g_assert(n && cb);
  port = port_pick(n, port);
  if (!port)
    return NULL;
  sim_udp_sock *s = g_new0(sim_udp_sock, 1);
  s->node = n;
  sock_bind(s, port, cb, user);
  return s;
}

bool sim_udp_rebind(sim_udp_sock *s, uint16_t port, const sim_udp_callbacks *cb, void *user) {
  g_assert(s && !s->bound && cb);
  port = port_pick(s->node, port);
  if (!port)
    return false;
  sock_bind(s, port, cb, user);
  return true;
}

void sim_udp_unbind(sim_udp_sock *s) {
  g_assert(s && s->bound);
  g_hash_table_remove(s->node->udp_socks, GUINT_TO_POINTER(s->port));
  s->bound = false;
}

void sim_udp_close(sim_udp_sock *s) {
  if (!s)
    return;
  if (s->bound)
    g_hash_table_remove(s->node->udp_socks, GUINT_TO_POINTER(s->port));
  g_free(s);
}

uint16_t sim_udp_port(const sim_udp_sock *s) { return s->port; }
sim_node *sim_udp_node(const sim_udp_sock *s) { return s->node; }

void sim_udp_send(sim_udp_sock *s, const sim_addr *to, uint16_t port, const void *buf, size_t len) {
  g_assert(s && to && (to->family == 4 || to->family == 6));
  g_assert(len <= 65507);
  sim_node *n = s->node;
  sim_pkt *p = sim_net__pkt_new(n->net);
  const sim_addr *la = sim_node_addr(n, to->family);
  if (la) {
    p->src = *la;
  } else {
    p->src.family = to->family;
  }
  p->dst = *to;
  p->proto = SIM_PROTO_UDP;
  p->sport = s->port;
  p->dport = port;
  sim_net__pkt_set_data(n->net, p, buf, len);
  p->wire = sim_net__hdr_size(to->family, SIM_PROTO_UDP) + (uint32_t)len;
  p->sent = sim_world__now(n->net->w);
  sim_net__output(n, p);
}

void sim_udp__input(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  sim_udp_sock *s = g_hash_table_lookup(n->udp_socks, GUINT_TO_POINTER(p->dport));
  if (!s) {
    sim_pkt *r = sim_net__pkt_new(net);
    r->src = p->dst;
    r->dst = p->src;
    r->proto = SIM_PROTO_ICMP;
    r->sport = p->dport;
    r->dport = p->sport;
    r->wire = sim_net__hdr_size(r->dst.family, SIM_PROTO_ICMP);
    sim_net__output(n, r);
  } else if (s->cb->recv) {
    s->rx_sent = p->sent;
    s->cb->recv(s->user, s, &p->src, p->sport, p->data, p->len);
  }
  sim_net__pkt_free(net, p);
}

void sim_udp__icmp_input(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  trace_writer *tw = sim_world__trace(net->w, SIM_DETAIL_PROTOCOL);
  if (tw) {
    char sb[SIM_EP_BUFSZ], db[SIM_EP_BUFSZ];
    trace_event_begin(tw, sim_world__now(net->w), "udp.unreachable");
    trace_key_str(tw, "node", n->name);
    trace_key_str(tw, "src", sim_net__ep(&p->dst, p->dport, sb));
    trace_key_str(tw, "dst", sim_net__ep(&p->src, p->sport, db));
    trace_end(tw);
  }
  sim_udp_sock *s = g_hash_table_lookup(n->udp_socks, GUINT_TO_POINTER(p->dport));
  if (s && s->cb->unreachable)
    s->cb->unreachable(s->user, s, &p->src, p->sport);
  sim_net__pkt_free(net, p);
}

void sim_udp__crash(sim_node *n) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, n->udp_socks);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_free(v);
  g_hash_table_remove_all(n->udp_socks);
}

sim_time sim_udp_sent_time(const sim_udp_sock *s) { return s->rx_sent; }
