/* sim_net.c — the simulated network: addresses, nodes, links, routes,
 * forwarding, faults and the trace header.
 *
 * A link direction is a FIFO served at the link's bandwidth. Because service
 * is FIFO and never preempted, the end of a packet's serialization is known
 * when it is accepted (tx_end = max(now, busy_until) + size*8e9/bps,
 * rounded up to the ns), so a hop costs ONE event: the arrival at the far
 * end, at tx_end + latency + jitter, never earlier than the previous
 * arrival on that direction (jitter delays, never reorders). Queue
 * occupancy (for drop-tail) is the octets of accepted packets whose
 * serialization has not ended at now; a small ring of (tx_end, size) keeps
 * it exact without events. A lost packet still occupies the link for its
 * serialization time (it is lost on the wire); its drop is traced when it
 * is put on the link. Draws from the link's stream, in this order, only when
 * the parameter is non-zero: loss (below(10^6) < loss_ppm), then jitter
 * (uniform integer in [0, jitter] ns) for packets not lost.
 *
 * A link going down bumps its epoch: packets in its queue or on the wire
 * are lost (reason "down") when their arrival comes, even if the link is up
 * again by then — a cut cable loses what was on it.
 *
 * Routing: for each destination, computed lazily and cached until the
 * topology changes or sim_net_reroute(): a Dijkstra from the destination
 * over links that were up at the last computation (route_up), relaxing
 * only through the destination itself or routers (hosts don't forward).
 * Each node's distance is the lexicographic minimum of (latency sum, hops);
 * its next hop is the neighbour v minimizing (link latency + dist(v),
 * 1 + hops(v), index(v), link index) — the tie-break of sim_net.h.
 */
#include <arpa/inet.h>
#include <string.h>

#include "sim_net_int.h"

#define DEFAULT_QUEUE (256 * 1024)
#define DEFAULT_MTU 1500

/* --- addresses ------------------------------------------------------- */

bool sim_addr_parse(const char *text, sim_addr *out) {
  sim_addr a = {0};
  if (!text)
    return false;
  if (inet_pton(AF_INET, text, a.b) == 1) {
    a.family = 4;
  } else if (inet_pton(AF_INET6, text, a.b) == 1) {
    a.family = 6;
  } else {
    return false;
  }
  *out = a;
  return true;
}

char *sim_addr_format(const sim_addr *a, char *buf) {
  if (a->family == 4) { /* inet_ntop's dotted quad, by hand: it costs
                         * ~1,700 instructions and MTAs format an address
                         * per MX answer */
    char *p = buf;
    for (int i = 0; i < 4; i++) {
      unsigned v = a->b[i];
      if (v >= 100)
        *p++ = (char)('0' + v / 100);
      if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
      *p++ = (char)('0' + v % 10);
      *p++ = i < 3 ? '.' : '\0';
    }
    return buf;
  } else if (a->family == 6) {
    if (inet_ntop(AF_INET6, a->b, buf, SIM_ADDR_BUFSZ))
      return buf;
  }
  g_strlcpy(buf, "unset", SIM_ADDR_BUFSZ);
  return buf;
}

bool sim_addr_equal(const sim_addr *a, const sim_addr *b) { return sim_addr__eq(a, b); }

/* The address folded a word at a time (FNV-style), then mixed. */
static inline uint32_t addr_hash(const sim_addr *a) {
  uint32_t h = 2166136261u ^ a->family, w;
  for (int i = 0; i < (a->family == 4 ? 4 : 16); i += 4) {
    memcpy(&w, a->b + i, 4);
    h = (h ^ w) * 0x9e3779b1u;
  }
  return h ^ (h >> 15);
}

/* The slot of A in the address table: its entry, or the empty one where it
 * would go. The table has an empty slot (at most half full). */
static inline sim_net__addr_ent *addr_slot(const sim_net *net, const sim_addr *a) {
  for (uint32_t i = addr_hash(a) & net->by_addr_mask;; i = (i + 1) & net->by_addr_mask) {
    sim_net__addr_ent *e = &net->by_addr[i];
    if (!e->n || sim_addr__eq(&e->a, a))
      return e;
  }
}

static void addr_table_grow(sim_net *net) {
  sim_net__addr_ent *old = net->by_addr;
  uint32_t old_size = old ? net->by_addr_mask + 1 : 0;
  uint32_t size = old_size ? 2 * old_size : 64;
  net->by_addr = g_new0(sim_net__addr_ent, size);
  net->by_addr_mask = size - 1;
  for (uint32_t i = 0; i < old_size; i++)
    if (old[i].n)
      *addr_slot(net, &old[i].a) = old[i];
  g_free(old);
}

char *sim_net__ep(const sim_addr *a, uint16_t port, char *buf) {
  char ab[SIM_ADDR_BUFSZ];
  sim_addr_format(a, ab);
  if (a->family == 6)
    g_snprintf(buf, SIM_EP_BUFSZ, "[%s]:%u", ab, (unsigned)port);
  else
    g_snprintf(buf, SIM_EP_BUFSZ, "%s:%u", ab, (unsigned)port);
  return buf;
}

/* --- network object ---------------------------------------------------- */

sim_net *sim_net__new(sim_world *w) {
  sim_net *net = g_new0(sim_net, 1);
  net->w = w;
  net->nodes = g_ptr_array_new();
  net->links = g_ptr_array_new();
  net->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  addr_table_grow(net);
  net->next_conn_id = 1;
  net->all_pkts = g_ptr_array_new();
  net->param_changes = g_ptr_array_new_with_free_func(g_free);
  return net;
}

static void routes_clear(sim_net *net) {
  for (size_t i = 0; i < net->routes_n; i++)
    g_free(net->routes[i]);
  g_free(net->routes);
  net->routes = NULL;
  net->routes_n = 0;
}

void sim_net__free(sim_net *net) {
  if (!net)
    return;
  for (guint i = 0; i < net->nodes->len; i++) {
    sim_node *n = net->nodes->pdata[i];
    sim_tcp__crash(n);
    sim_udp__crash(n);
    g_hash_table_destroy(n->tcp_listeners);
    sim_tcp__table_clear(&n->tcp_conns);
    g_hash_table_destroy(n->udp_socks);
    g_array_free(n->addrs, TRUE);
    g_ptr_array_free(n->links, TRUE);
    g_free(n->name);
    g_free(n);
  }
  for (guint i = 0; i < net->links->len; i++) {
    sim_link *l = net->links->pdata[i];
    g_free(l->dir[0].ring);
    g_free(l->dir[1].ring);
    g_free(l);
  }
  g_ptr_array_free(net->nodes, TRUE);
  g_ptr_array_free(net->links, TRUE);
  g_hash_table_destroy(net->by_name);
  g_free(net->by_addr);
  routes_clear(net);
  for (guint i = 0; i < net->all_pkts->len; i++) { /* free or still in flight */
    sim_pkt *p = net->all_pkts->pdata[i];
    g_free(p->data);
    g_free(p);
  }
  for (int k = 0; k < SIM_NET__BUF_CLASSES; k++) {
    void *b = net->free_bufs[k];
    while (b) {
      void *next;
      memcpy(&next, b, sizeof next);
      g_free(b);
      b = next;
    }
  }
  g_ptr_array_free(net->all_pkts, TRUE);
  g_ptr_array_free(net->param_changes, TRUE);
  sim_tcp__pool_free(net);
  g_free(net);
}

sim_net *sim_net_of(sim_world *w) { return sim_world_net(w); }

/* --- packets ------------------------------------------------------------ */

sim_pkt *sim_net__pkt_alloc(sim_net *net) {
  sim_pkt *p = g_new0(sim_pkt, 1);
  g_ptr_array_add(net->all_pkts, p);
  return p;
}

sim_pkt *sim_net__pkt_new(sim_net *net) {
  sim_pkt *p = net->free_pkts;
  if (!p)
    return sim_net__pkt_alloc(net);
  net->free_pkts = p->next;
  memset(p, 0, sizeof *p); /* a free packet holds no buffer */
  return p;
}

/* Size class of a buffer of CAP octets (a power of two from 32 to 2048), or
 * -1 for a larger, exact-size buffer. */
static inline int buf_class(uint32_t cap) {
  if (cap > (32u << (SIM_NET__BUF_CLASSES - 1)))
    return -1;
  return __builtin_ctz(cap) - SIM_NET__BUF_MIN_SHIFT;
}

void sim_net__buf_release(sim_net *net, sim_pkt *p) {
  int k = buf_class(p->cap);
  if (k < 0) {
    g_free(p->data);
  } else {
    memcpy(p->data, &net->free_bufs[k], sizeof(void *));
    net->free_bufs[k] = p->data;
  }
  p->data = NULL;
  p->cap = 0;
}

void sim_net__pkt_set_data(sim_net *net, sim_pkt *p, const void *buf, size_t len) {
  g_assert(len <= UINT32_MAX);
  if (len > p->cap) {
    if (p->data)
      sim_net__buf_release(net, p);
    uint32_t cap = (uint32_t)len;
    if (cap <= 32)
      cap = 32;
    else if (cap <= (32u << (SIM_NET__BUF_CLASSES - 1)))
      cap = 1u << (32 - __builtin_clz(cap - 1)); /* the next power of two */
    int k = buf_class(cap);
    void *b = k >= 0 ? net->free_bufs[k] : NULL;
    if (b)
      memcpy(&net->free_bufs[k], b, sizeof(void *));
    else
      b = g_malloc(cap);
    p->data = b;
    p->cap = cap;
  }
  if (len)
    memcpy(p->data, buf, len);
  p->len = (uint32_t)len;
}


/* --- nodes ---------------------------------------------------------------- */

sim_node *sim_net_add_node(sim_net *net, const char *name, bool router) {
  g_assert(name != NULL);
  if (g_hash_table_contains(net->by_name, name))
    g_error("sim_net_add_node: node \"%s\" exists", name);
  sim_node *n = g_new0(sim_node, 1);
  n->net = net;
  n->name = g_strdup(name);
  n->index = net->nodes->len;
  n->router = router;
  n->up = true;
  n->addrs = g_array_new(FALSE, FALSE, sizeof(sim_addr));
  n->links = g_ptr_array_new();
  char *sname = g_strconcat("node:", name, NULL);
  sim_world_stream(net->w, sname, &n->rng);
  g_free(sname);
  n->tcp_listeners = g_hash_table_new(NULL, NULL);
  n->udp_socks = g_hash_table_new(NULL, NULL);
  n->next_tcp_port = (uint16_t)(49152 + sim_rng_below(&n->rng, 16384));
  n->next_udp_port = (uint16_t)(49152 + sim_rng_below(&n->rng, 16384));
  g_ptr_array_add(net->nodes, n);
  g_hash_table_insert(net->by_name, n->name, n);
  routes_clear(net);
  return n;
}

bool sim_node_add_addr(sim_node *n, const sim_addr *a) {
  g_assert(a->family == 4 || a->family == 6);
  sim_net *net = n->net;
  if (addr_slot(net, a)->n)
    return false;
  g_array_append_val(n->addrs, *a);
  if (2 * (net->by_addr_n + 1) > net->by_addr_mask + 1)
    addr_table_grow(net);
  sim_net__addr_ent *e = addr_slot(net, a);
  e->a = *a;
  e->n = n;
  net->by_addr_n++;
  return true;
}

sim_node *sim_net_find_node(sim_net *net, const char *name) {
  return g_hash_table_lookup(net->by_name, name);
}
sim_node *sim_net_node_by_addr(sim_net *net, const sim_addr *a) {
  if (a->family != 4 && a->family != 6)
    return NULL; /* unset: no node has it */
  return addr_slot(net, a)->n;
}
size_t sim_net_node_count(const sim_net *net) { return net->nodes->len; }
sim_node *sim_net_node_at(sim_net *net, size_t i) {
  g_assert(i < net->nodes->len);
  return net->nodes->pdata[i];
}
const char *sim_node_name(const sim_node *n) { return n->name; }
size_t sim_node_index(const sim_node *n) { return n->index; }
sim_world *sim_node_world(const sim_node *n) { return n->net->w; }
sim_net *sim_node_net(const sim_node *n) { return n->net; }
bool sim_node_is_up(const sim_node *n) { return n->up; }
bool sim_node_is_router(const sim_node *n) { return n->router; }
sim_rng *sim_node_rng(sim_node *n) { return &n->rng; }
size_t sim_node_addr_count(const sim_node *n) { return n->addrs->len; }
const sim_addr *sim_node_addr_at(const sim_node *n, size_t i) {
  g_assert(i < n->addrs->len);
  return &g_array_index(n->addrs, sim_addr, i);
}

const sim_addr *sim_node_addr(const sim_node *n, int family) {
  for (guint i = 0; i < n->addrs->len; i++) {
    const sim_addr *a = &g_array_index(n->addrs, sim_addr, i);
    if (a->family == family)
      return a;
  }
  return NULL;
}

/* --- links ---------------------------------------------------------------- */

static void link_fast_wire(sim_link *l) {
  bool fast = l->up && l->p.bandwidth_bps && !l->p.loss_ppm && !l->p.jitter;
  l->fast_wire = fast ? MIN(l->p.mtu, (uint32_t)MIN(l->p.queue_bytes, UINT32_MAX)) : 0;
}

sim_link *sim_net_add_link(sim_net *net, sim_node *a, sim_node *b, const sim_link_params *p) {
  g_assert(a && b && a != b && a->net == net && b->net == net);
  sim_link *l = g_new0(sim_link, 1);
  l->net = net;
  l->index = net->links->len;
  l->end[0] = a;
  l->end[1] = b;
  if (p)
    l->p = *p;
  g_assert(l->p.latency >= 0 && l->p.jitter >= 0);
  g_assert(l->p.loss_ppm <= 1000000);
  if (!l->p.queue_bytes)
    l->p.queue_bytes = DEFAULT_QUEUE;
  if (!l->p.mtu)
    l->p.mtu = DEFAULT_MTU;
  l->up = l->route_up = true;
  link_fast_wire(l);
  char *sname = g_strconcat("link:", a->name, "-", b->name, NULL);
  sim_world_stream(net->w, sname, &l->rng);
  g_free(sname);
  g_ptr_array_add(net->links, l);
  g_ptr_array_add(a->links, l);
  g_ptr_array_add(b->links, l);
  sim_net_reroute(net); /* a topology change: routes over the links up now */
  return l;
}

size_t sim_net_link_count(const sim_net *net) { return net->links->len; }
sim_link *sim_net_link_at(sim_net *net, size_t i) {
  g_assert(i < net->links->len);
  return net->links->pdata[i];
}
const sim_link_params *sim_link_params_peek(const sim_link *l) { return &l->p; }
sim_node *sim_link_end(const sim_link *l, int side) {
  g_assert(side == 0 || side == 1);
  return l->end[side];
}
bool sim_link_is_up(const sim_link *l) { return l->up; }
size_t sim_link_index(const sim_link *l) { return l->index; }

static void trace_link_fault(sim_net *net, sim_link *l, const char *ev) {
  trace_writer *tw = sim_world__trace(net->w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, sim_world__now(net->w), ev);
  trace_key_uint(tw, "link", l->index);
  trace_key_str(tw, "a", l->end[0]->name);
  trace_key_str(tw, "b", l->end[1]->name);
  trace_end(tw);
}

void sim_net_link_set_up(sim_net *net, sim_link *l, bool up) {
  g_assert(l->net == net);
  if (l->up == up)
    return;
  l->up = up;
  link_fast_wire(l);
  l->epoch++;
  for (int d = 0; d < 2; d++) {
    sim_linkdir *ld = &l->dir[d];
    ld->head = ld->count = 0;
    ld->queued = 0;
    if (ld->busy_until > sim_world__now(net->w))
      ld->busy_until = sim_world__now(net->w);
  }
  trace_link_fault(net, l, up ? "fault.link_up" : "fault.link_down");
}

static void link_up_ev(void *a, void *b) {
  sim_link *l = a;
  sim_net__enter(l->net);
  sim_net_link_set_up(l->net, l, true);
  sim_net__leave(l->net);
  (void)b;
}

static void link_down_ev(void *a, void *b) {
  sim_link *l = a;
  sim_net__enter(l->net);
  sim_net_link_set_up(l->net, l, false);
  sim_net__leave(l->net);
  (void)b;
}

sim_event_id sim_net_link_set_up_at(sim_net *net, sim_link *l, sim_time t, bool up) {
  g_assert(l->net == net);
  return sim_world__at(net->w, t, up ? link_up_ev : link_down_ev, l, NULL);
}

void sim_net_link_set_params(sim_net *net, sim_link *l, const sim_link_params *p) {
  g_assert(l->net == net && p);
  g_assert(p->latency >= 0 && p->jitter >= 0 && p->loss_ppm <= 1000000);
  sim_link_params np = *p;
  if (!np.queue_bytes)
    np.queue_bytes = DEFAULT_QUEUE;
  if (!np.mtu)
    np.mtu = DEFAULT_MTU;
  l->p = np;
  link_fast_wire(l);
  trace_writer *tw = sim_world__trace(net->w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, sim_world__now(net->w), "fault.link_params");
  trace_key_uint(tw, "link", l->index);
  trace_key_str(tw, "a", l->end[0]->name);
  trace_key_str(tw, "b", l->end[1]->name);
  trace_key_int(tw, "latency_ns", l->p.latency);
  trace_key_int(tw, "jitter_ns", l->p.jitter);
  trace_key_uint(tw, "bandwidth_bps", l->p.bandwidth_bps);
  trace_key_uint(tw, "loss_ppm", l->p.loss_ppm);
  trace_end(tw);
}

static void link_params_ev(void *a, void *b) {
  sim_net__params *pc = a;
  sim_net *net = b;
  sim_net__enter(net);
  sim_net_link_set_params(net, pc->l, &pc->p);
  sim_net__leave(net);
}

sim_event_id sim_net_link_set_params_at(sim_net *net, sim_link *l, sim_time t,
                                        const sim_link_params *p) {
  g_assert(l->net == net && p);
  sim_net__params *pc = g_new(sim_net__params, 1);
  pc->l = l;
  pc->p = *p;
  g_ptr_array_add(net->param_changes, pc);
  return sim_world__at(net->w, t, link_params_ev, pc, net);
}

void sim_net_reroute(sim_net *net) {
  for (guint i = 0; i < net->links->len; i++) {
    sim_link *l = net->links->pdata[i];
    l->route_up = l->up;
  }
  routes_clear(net);
}

/* --- routing ---------------------------------------------------------------- */

typedef struct {
  sim_time dist;
  uint32_t hops;
  uint32_t node;
} rkey;

static bool rkey_less(const rkey *x, const rkey *y) {
  if (x->dist != y->dist)
    return x->dist < y->dist;
  if (x->hops != y->hops)
    return x->hops < y->hops;
  return x->node < y->node;
}

static void heap_push(GArray *h, rkey k) {
  g_array_append_val(h, k);
  rkey *a = (rkey *)(void *)h->data;
  size_t i = h->len - 1;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!rkey_less(&a[i], &a[p]))
      break;
    rkey t = a[i];
    a[i] = a[p];
    a[p] = t;
    i = p;
  }
}

static rkey heap_pop(GArray *h) {
  rkey *a = (rkey *)(void *)h->data;
  rkey top = a[0];
  a[0] = a[h->len - 1];
  g_array_set_size(h, h->len - 1);
  size_t n = h->len, i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && rkey_less(&a[l], &a[m]))
      m = l;
    if (r < n && rkey_less(&a[r], &a[m]))
      m = r;
    if (m == i)
      break;
    rkey t = a[i];
    a[i] = a[m];
    a[m] = t;
    i = m;
  }
  return top;
}

static int32_t *compute_routes(sim_net *net, sim_node *dst) {
  size_t n = net->nodes->len;
  sim_time *dist = g_new(sim_time, n);
  uint32_t *hops = g_new(uint32_t, n);
  bool *done = g_new0(bool, n);
  int32_t *next = g_new(int32_t, n);
  for (size_t i = 0; i < n; i++) {
    dist[i] = SIM_TIME_NEVER;
    hops[i] = UINT32_MAX;
    next[i] = -1;
  }
  GArray *heap = g_array_new(FALSE, FALSE, sizeof(rkey));
  dist[dst->index] = 0;
  hops[dst->index] = 0;
  heap_push(heap, (rkey){0, 0, (uint32_t)dst->index});
  while (heap->len) {
    rkey k = heap_pop(heap);
    if (done[k.node])
      continue;
    done[k.node] = true;
    sim_node *v = net->nodes->pdata[k.node];
    if (v != dst && !v->router)
      continue; /* hosts don't forward */
    for (guint j = 0; j < v->links->len; j++) {
      sim_link *l = v->links->pdata[j];
      if (!l->route_up)
        continue;
      sim_node *u = l->end[l->end[0] == v ? 1 : 0];
      size_t ui = u->index;
      if (done[ui])
        continue;
      sim_time d = sim_time_add(k.dist, l->p.latency);
      uint32_t h = k.hops + 1;
      if (d < dist[ui] || (d == dist[ui] && h < hops[ui])) {
        dist[ui] = d;
        hops[ui] = h;
        next[ui] = d == SIM_TIME_NEVER ? -1 : (int32_t)l->index;
        /* A host other than DST is never expanded, so it need not be
         * popped: its (dist, hops) is the least candidate offered by the
         * nodes expanded, as it would be if popped (a node expanded after
         * it was popped offers only larger candidates, latencies being
         * >= 0 and hops growing). In a star of hosts around one router
         * this leaves one entry in the heap instead of one per host. */
        if (u->router)
          heap_push(heap, (rkey){d, h, (uint32_t)ui});
      } else if (d == dist[ui] && h == hops[ui] && d != SIM_TIME_NEVER) {
        /* A tie: the lower neighbour index, then the earlier link. */
        const sim_link *b = net->links->pdata[next[ui]];
        size_t bv = b->end[b->end[0] == u ? 1 : 0]->index;
        if (v->index < bv || (v->index == bv && l->index < b->index))
          next[ui] = (int32_t)l->index;
      }
    }
  }
  /* NEXT was set with the distances: the neighbour minimizing (lat +
   * dist, 1 + hops, index, link) over the nodes expanded (DST and the
   * routers: hosts don't forward). Every such neighbour V of a node U
   * offers its final (dist, hops) when expanded, while U is not done: U
   * done before V was popped would mean V's candidate is larger than U's
   * own (dist, hops) (latencies >= 0, hops + 1), so it could not win nor
   * tie. Unreachable nodes and DST keep -1. Each entry becomes the port
   * (2 * link index + the side of the link the node is on), so a hop
   * knows its direction without comparing the link's ends. */
  for (size_t i = 0; i < n; i++)
    if (next[i] >= 0) {
      const sim_link *l = net->links->pdata[next[i]];
      next[i] = 2 * next[i] + (l->end[0] == net->nodes->pdata[i] ? 0 : 1);
    }
  g_array_free(heap, TRUE);
  g_free(dist);
  g_free(hops);
  g_free(done);
  return next;
}

/* The routes toward DST (and the table for the nodes there are now). */
static __attribute__((noinline)) void routes_make(sim_net *net, sim_node *dst) {
  if (net->routes_n != net->nodes->len) {
    routes_clear(net);
    net->routes_n = net->nodes->len;
    net->routes = g_new0(int32_t *, net->routes_n);
  }
  if (!net->routes[dst->index])
    net->routes[dst->index] = compute_routes(net, dst);
}

/* Every hop asks: the known route is inlined, the rest is routes_make. A
 * table exists only for the nodes there are (adding one clears it). Rows
 * hold 32-bit ports (2 * link index + side, -1: none), not pointers: a
 * world of 315 nodes has up to 315 rows of 315. */
static inline sim_link *route_link(sim_net *net, sim_node *from, sim_node *dst) {
  if (__builtin_expect(!net->routes || !net->routes[dst->index], 0))
    routes_make(net, dst);
  int32_t port = net->routes[dst->index][from->index];
  return port < 0 ? NULL : net->links->pdata[port >> 1];
}

sim_node *sim_net_next_hop(sim_net *net, sim_node *from, sim_node *to) {
  if (from == to)
    return NULL;
  sim_link *l = route_link(net, from, to);
  if (!l)
    return NULL;
  return l->end[l->end[0] == from ? 1 : 0];
}

uint32_t sim_net__path_mtu_to(sim_node *n, sim_node *dst) {
  sim_net *net = n->net;
  if (!dst || dst == n)
    return DEFAULT_MTU;
  uint32_t mtu = UINT32_MAX;
  sim_node *cur = n;
  for (size_t guard = 0; cur != dst && guard <= net->nodes->len; guard++) {
    sim_link *l = route_link(net, cur, dst);
    if (!l)
      return DEFAULT_MTU;
    mtu = MIN(mtu, l->p.mtu);
    cur = l->end[l->end[0] == cur ? 1 : 0];
  }
  return mtu == UINT32_MAX ? DEFAULT_MTU : mtu;
}

/* --- kernel events ------------------------------------------------------- */


/* --- packet trace ---------------------------------------------------------- */

static const char *proto_name(uint8_t proto) {
  switch (proto) {
  case SIM_PROTO_TCP:
    return "tcp";
  case SIM_PROTO_UDP:
    return "udp";
  case SIM_PROTO_ICMP:
    return "icmp";
  default:
    return "?";
  }
}

static __attribute__((noinline)) void trace_pkt_rec(trace_writer *tw, sim_net *net, const char *ev,
                                                    const sim_node *n, const sim_node *next,
                                                    const sim_pkt *p, const char *reason) {
  char sb[SIM_EP_BUFSZ], db[SIM_EP_BUFSZ];
  trace_event_begin(tw, sim_world__now(net->w), ev);
  trace_key_str(tw, "node", n->name);
  if (p->conn)
    trace_key_uint(tw, "conn", p->conn);
  trace_key_str(tw, "src", sim_net__ep(&p->src, p->sport, sb));
  trace_key_str(tw, "dst", sim_net__ep(&p->dst, p->dport, db));
  trace_key_str(tw, "proto", proto_name(p->proto));
  trace_key_uint(tw, "size", p->wire);
  trace_key_uint(tw, "len", p->len);
  if (p->proto == SIM_PROTO_TCP) {
    char fl[8];
    size_t k = 0;
    if (p->flags & SIM_TCP_SYN)
      fl[k++] = 'S';
    if (p->flags & SIM_TCP_FIN)
      fl[k++] = 'F';
    if (p->flags & SIM_TCP_RST)
      fl[k++] = 'R';
    if (p->flags & SIM_TCP_PSH)
      fl[k++] = 'P';
    if (p->flags & SIM_TCP_ACK)
      fl[k++] = 'A';
    fl[k] = 0;
    trace_key_str(tw, "flags", fl);
    trace_key_uint(tw, "seq", p->seq & 0xffffffffu);
    trace_key_uint(tw, "ack", p->ack & 0xffffffffu);
    trace_key_uint(tw, "win", p->window);
  }
  if (next)
    trace_key_str(tw, "next", next->name);
  if (p->link)
    trace_key_uint(tw, "link", p->link->index);
  if (reason)
    trace_key_str(tw, "reason", reason);
  /* The payload, once per packet: on its first hop (what a capture on the
   * sender's interface sees; mailsim pcap rebuilds packets from it). */
  if (next && p->len && sim_net_node_by_addr(net, &p->src) == n)
    trace_key_bytes(tw, "payload", p->data, p->len);
  trace_end(tw);
}

/* Every packet passes here twice or more: the check is inlined, the record
 * is written only at packet detail. */
static inline void trace_pkt(sim_net *net, const char *ev, const sim_node *n,
                             const sim_node *next, const sim_pkt *p, const char *reason) {
  trace_writer *tw = sim_world__trace(net->w, SIM_DETAIL_PACKETS);
  if (tw)
    trace_pkt_rec(tw, net, ev, n, next, p, reason);
}

static void drop(sim_net *net, const sim_node *at, sim_pkt *p, const char *reason) {
  net->pkts_dropped++;
  trace_pkt(net, "net.drop", at, NULL, p, reason);
  sim_net__pkt_free(net, p);
}

/* --- forwarding ------------------------------------------------------------ */

static void deliver(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  net->pkts_delivered++;
  trace_pkt(net, "net.recv", n, NULL, p, NULL);
  switch (p->proto) {
  case SIM_PROTO_TCP:
    sim_tcp__arrive(n, p);
    break;
  case SIM_PROTO_UDP:
    sim_udp__input(n, p);
    break;
  case SIM_PROTO_ICMP:
    sim_udp__icmp_input(n, p);
    break;
  default:
    sim_net__pkt_free(net, p);
  }
}

static void arrive_ev(void *a, void *b);

static __attribute__((noinline)) void link_tx(sim_link *l, int side, sim_node *from, sim_pkt *p) {
  sim_net *net = l->net;
  sim_time now = sim_world__now(net->w);
  sim_node *to = l->end[1 - side];
  p->link = l;
  if (!l->up) {
    drop(net, from, p, "down");
    return;
  }
  if (p->wire > l->p.mtu) {
    drop(net, from, p, "mtu");
    return;
  }
  sim_linkdir *d = &l->dir[side];
  bool idle = d->busy_until <= now;
  if (idle) { /* every serialization has ended */
    d->head = d->count = 0;
    d->queued = 0;
  } else {
    while (d->count && d->ring[d->head].end <= now) {
      d->queued -= d->ring[d->head].size;
      d->head = (d->head + 1) & (d->cap - 1);
      d->count--;
    }
  }
  if (d->queued + p->wire > l->p.queue_bytes) {
    drop(net, from, p, "queue");
    return;
  }
  sim_time start = MAX(now, d->busy_until);
  sim_time ser = 0;
  if (l->p.bandwidth_bps)
    ser = (sim_time)(((uint64_t)p->wire * 8u * 1000000000u + l->p.bandwidth_bps - 1) /
                     l->p.bandwidth_bps);
  sim_time end = start + ser;
  d->busy_until = end;
  if (ser > 0 && idle && d->cap) { /* the ring was just emptied */
    d->ring[0] = (sim_qent){end, p->wire};
    d->count = 1;
    d->queued = p->wire;
  } else if (ser > 0) {
    if (d->count == d->cap) {
      uint32_t ncap = d->cap ? d->cap * 2 : 64; /* a power of two: indices wrap by mask */
      sim_qent *nr = g_new(sim_qent, ncap);
      for (uint32_t i = 0; i < d->count; i++)
        nr[i] = d->ring[(d->head + i) & (d->cap - 1)];
      g_free(d->ring);
      d->ring = nr;
      d->cap = ncap;
      d->head = 0;
    }
    d->ring[(d->head + d->count) & (d->cap - 1)] = (sim_qent){end, p->wire};
    d->count++;
    d->queued += p->wire;
  }
  net->pkts_sent++;
  trace_pkt(net, "net.send", from, to, p, NULL);
  if (l->p.loss_ppm && sim_rng_below(&l->rng, 1000000) < l->p.loss_ppm) {
    drop(net, from, p, "loss");
    return;
  }
  sim_time arr = sim_time_add(end, l->p.latency);
  if (l->p.jitter)
    arr = sim_time_add(arr, sim_rng_range(&l->rng, 0, l->p.jitter));
  if (arr < d->last_arrival)
    arr = d->last_arrival;
  d->last_arrival = arr;
  p->epoch = l->epoch;
  p->dir = (uint8_t)side;
  sim_world__at(net->w, arr, arrive_ev, p, net);
}

static __attribute__((noinline)) void forward_slow(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  sim_link *l = route_link(net, n, p->dst_node);
  if (!l) {
    p->link = NULL;
    drop(net, n, p, "no_route");
    return;
  }
  link_tx(l, l->end[0] == n ? 0 : 1, n, p);
}

/* Sends P from N on its route. Nearly every hop is the common case: a
 * known route, a link up with a bandwidth and neither loss nor jitter, its
 * direction idle (nothing left queued), no packet trace. That case is done
 * here, with what link_tx would do for it, in a function that saves few
 * registers and ends in the tail call that schedules the arrival; every
 * other goes through forward_slow and link_tx. */
static void forward(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  int32_t *row;
  if (__builtin_expect(!net->routes || !(row = net->routes[p->dst_node->index]), 0)) {
    forward_slow(n, p);
    return;
  }
  int32_t port = row[n->index];
  if (__builtin_expect(port < 0, 0)) {
    forward_slow(n, p);
    return;
  }
  sim_link *l = net->links->pdata[(uint32_t)port >> 1];
  uint32_t side = (uint32_t)port & 1;
  sim_linkdir *d = &l->dir[side];
  sim_world *w = net->w;
  sim_time now = sim_world__now(w);
  uint32_t wire = p->wire;
  if (__builtin_expect(wire > l->fast_wire || sim_world__trace(w, SIM_DETAIL_PACKETS) ||
                           d->busy_until > now || !d->cap,
                       0)) {
    link_tx(l, (int)side, n, p); /* the route is known: forward_slow's link */
    return;
  }
  /* What does not wait for the division first: fewer values live across it */
  p->link = l;
  p->epoch = l->epoch;
  p->dir = (uint8_t)side;
  net->pkts_sent++;
  d->head = 0;
  d->count = 1;
  d->queued = wire;
  sim_qent *q = d->ring;
  q->size = wire;
  sim_time end = now + (sim_time)(((uint64_t)wire * 8u * 1000000000u + l->p.bandwidth_bps - 1) /
                                  l->p.bandwidth_bps);
  d->busy_until = end;
  q->end = end;
  sim_time arr; /* sim_time_add: END and the latency are >= 0 */
  if (__builtin_add_overflow(end, l->p.latency, &arr))
    arr = SIM_TIME_NEVER;
  if (arr < d->last_arrival)
    arr = d->last_arrival;
  d->last_arrival = arr;
  sim_world__at(w, arr, arrive_ev, p, net);
}

/* The arrival of P at N (P->link's far end, or the owner for loopback),
 * every case, as a kernel event. */
static __attribute__((noinline)) void arrive(sim_net *net, sim_node *n, sim_pkt *p) {
  sim_net__enter(net);
  if (p->link && p->epoch != p->link->epoch) {
    drop(net, n, p, "down");
    goto out;
  }
  if (!n->up) {
    drop(net, n, p, "node_down");
  } else if (n == p->dst_node) { /* the owner of p->dst: addresses are never removed */
    deliver(n, p);
  } else if (n->router) {
    forward(n, p);
  } else {
    drop(net, n, p, "no_route");
  }
out:
  sim_net__leave(net);
}

/* A packet's arrival. Half of them reach a router on the way, which only
 * forwards: that case ends in the tail call to forward, without the
 * kernel's enter/leave around it (forward raises no TCP notification, so
 * leave would flush only what was pending before, and nothing is: the
 * flush list is empty). Every other case goes through arrive. */
static void arrive_ev(void *a, void *b) {
  sim_pkt *p = a;
  sim_net *net = b;
  sim_link *l = p->link;
  sim_node *n = l ? l->end[1 - p->dir] : p->dst_node; /* no link: loopback */
  if (__builtin_expect(l && p->epoch == l->epoch && n->up, 1)) {
    if (n != p->dst_node) {
      if (__builtin_expect(n->router && !net->flush_head, 1)) {
        forward(n, p);
        return;
      }
    } else if (__builtin_expect(p->proto == SIM_PROTO_TCP &&
                                    !sim_world__trace(net->w, SIM_DETAIL_PACKETS),
                                1)) {
      /* The other half: a segment reaching its owner, what arrive and
       * deliver would do for it (no net.recv record to write). */
      net->pkts_delivered++;
      sim_tcp__arrive(n, p);
      return;
    }
  }
  arrive(net, n, p);
}

/* sim_net__output's every case. */
static __attribute__((noinline)) void output_slow(sim_node *n, sim_pkt *p) {
  sim_net *net = n->net;
  if (!n->up) {
    sim_net__pkt_free(net, p);
    return;
  }
  p->link = NULL;
  if (!p->dst_node) /* a TCP segment comes with its connection's peer */
    p->dst_node = sim_net_node_by_addr(net, &p->dst);
  if (!p->dst_node) {
    drop(net, n, p, "no_route");
    return;
  }
  if (p->dst_node == n) {
    sim_world__at(net->w, sim_world__now(net->w), arrive_ev, p, net);
    return;
  }
  forward(n, p);
}

/* A packet leaving N: most (a TCP segment, which names its peer's node)
 * go straight to forward by a tail call; the rest through output_slow. */
void sim_net__output(sim_node *n, sim_pkt *p) {
  g_assert(p->wire > 0);
  sim_node *dst = p->dst_node;
  if (__builtin_expect(n->up && dst && dst != n, 1)) {
    forward(n, p); /* sets p->link (and epoch, dir) on every path */
    return;
  }
  output_slow(n, p);
}

/* --- crash and restart ------------------------------------------------------ */

void sim_node_set_hook(sim_node *n, sim_node_hook hook, void *user) {
  n->hook = hook;
  n->hook_user = user;
}

static void trace_node_fault(sim_node *n, const char *ev) {
  trace_writer *tw = sim_world__trace(n->net->w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, sim_world__now(n->net->w), ev);
  trace_key_str(tw, "node", n->name);
  trace_end(tw);
}

void sim_node_crash(sim_node *n) {
  if (!n->up)
    return;
  n->up = false;
  trace_node_fault(n, "fault.crash");
  sim_tcp__crash(n);
  sim_udp__crash(n);
  if (n->hook)
    n->hook(n->hook_user, n, true);
}

void sim_node_restart(sim_node *n) {
  if (n->up)
    return;
  n->up = true;
  trace_node_fault(n, "fault.restart");
  if (n->hook)
    n->hook(n->hook_user, n, false);
}

static void crash_ev(void *a, void *b) {
  sim_node *n = a;
  sim_net__enter(n->net);
  if (b)
    sim_node_crash(n);
  else
    sim_node_restart(n);
  sim_net__leave(n->net);
}

sim_event_id sim_node_crash_at(sim_node *n, sim_time t) {
  return sim_world__at(n->net->w, t, crash_ev, n, n);
}

sim_event_id sim_node_restart_at(sim_node *n, sim_time t) {
  return sim_world__at(n->net->w, t, crash_ev, n, NULL);
}

/* --- counters and header --------------------------------------------------- */

void sim_net_counters(const sim_net *net, uint64_t *sent, uint64_t *delivered, uint64_t *dropped) {
  if (sent)
    *sent = net->pkts_sent;
  if (delivered)
    *delivered = net->pkts_delivered;
  if (dropped)
    *dropped = net->pkts_dropped;
}

void sim_net_write_header(sim_net *net, const char *scenario, sim_header_extra extra, void *user) {
  trace_writer *tw = sim_world__trace(net->w, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  trace_begin(tw);
  trace_key_str(tw, "format", TRACE_FORMAT_NAME);
  trace_key_int(tw, "version", TRACE_FORMAT_VERSION);
  trace_key_str(tw, "scenario", scenario ? scenario : "");
  trace_key_uint(tw, "seed", sim_world_seed(net->w));
  trace_key_str(tw, "detail", sim_detail_name(sim_world_detail(net->w)));
  trace_arr_begin(tw, "nodes");
  for (guint i = 0; i < net->nodes->len; i++) {
    sim_node *n = net->nodes->pdata[i];
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "name", n->name);
    trace_key_uint(tw, "index", n->index);
    trace_key_bool(tw, "router", n->router);
    trace_arr_begin(tw, "addrs");
    for (guint j = 0; j < n->addrs->len; j++) {
      char ab[SIM_ADDR_BUFSZ];
      trace_key_str(tw, NULL, sim_addr_format(&g_array_index(n->addrs, sim_addr, j), ab));
    }
    trace_arr_end(tw);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  trace_arr_begin(tw, "links");
  for (guint i = 0; i < net->links->len; i++) {
    sim_link *l = net->links->pdata[i];
    trace_obj_begin(tw, NULL);
    trace_key_str(tw, "a", l->end[0]->name);
    trace_key_str(tw, "b", l->end[1]->name);
    trace_key_int(tw, "latency_ns", l->p.latency);
    trace_key_int(tw, "jitter_ns", l->p.jitter);
    trace_key_uint(tw, "bandwidth_bps", l->p.bandwidth_bps);
    trace_key_uint(tw, "queue_bytes", l->p.queue_bytes);
    trace_key_uint(tw, "loss_ppm", l->p.loss_ppm);
    trace_key_uint(tw, "mtu", l->p.mtu);
    trace_key_bool(tw, "up", l->up);
    trace_obj_end(tw);
  }
  trace_arr_end(tw);
  if (extra)
    extra(user, tw);
  trace_end(tw);
}
