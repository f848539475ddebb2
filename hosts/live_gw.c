/* live_gw.c — the gateway node of live mode (see live_gw.h).
 *
 * The gateway behaves as a plain client host: it opens a TCP connection
 * per outside connection (RFC 9293 semantics through sim_tcp: a half close
 * passes FIN along, a reset passes RST), and asks the target's UDP service
 * from a fresh ephemeral port per outside datagram, as a stub resolver does
 * (RFC 1035 §4.2.1). Nothing here reads the wall clock: every input comes
 * from the caller at a point it can reproduce.
 */
#include "live_gw.h"

#include "sim_udp.h"

#define DGRAM_WAIT (30 * SIM_S) /* how long a datagram's socket waits for its answer */

typedef struct {
  uint64_t id; /* first: the hash key */
  live_gw *g;
  sim_tcp_conn *conn; /* NULL once closed */
  bool shut;          /* the outside half-closed: no more sends */
} gw_conn;

typedef struct {
  uint64_t id;
  live_gw *g;
  sim_udp_sock *sock;
  sim_event_id timer;
} gw_dgram;

struct live_gw {
  host *h, *target;
  sim_addr to;
  const live_gw_out *out;
  void *user;
  GHashTable *conns;  /* id -> gw_conn* (lookup only) */
  GHashTable *dgrams; /* id -> gw_dgram* (lookup only) */
};

static void trace_close(live_gw *g, uint64_t conn, uint64_t id, const char *reason) {
  trace_writer *tw = host_trace(g->h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  trace_event_begin(tw, host_now(g->h), "live.close");
  trace_key_str(tw, "node", host_name(g->h));
  trace_key_uint(tw, "conn", conn);
  trace_key_uint(tw, "live", id);
  trace_key_str(tw, "reason", reason);
  trace_end(tw);
}

static void on_connected(void *user, sim_tcp_conn *c) {
  (void)user;
  (void)c;
}

static void on_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  (void)c;
  gw_conn *gc = user;
  gc->g->out->data(gc->g->user, gc->id, buf, len);
}

static void on_eof(void *user, sim_tcp_conn *c) {
  (void)c;
  gw_conn *gc = user;
  gc->g->out->eof(gc->g->user, gc->id);
}

static void on_drained(void *user, sim_tcp_conn *c) {
  (void)user;
  (void)c;
}

static void on_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  gw_conn *gc = user;
  live_gw *g = gc->g;
  trace_close(g, sim_tcp_id(c), gc->id, sim_tcp_reason_name(why));
  gc->conn = NULL;
  uint64_t id = gc->id;
  g_hash_table_remove(g->conns, &id); /* frees gc */
  g->out->closed(g->user, id, why);
}

static const sim_tcp_callbacks conn_cb = {on_connected, on_data, on_eof, on_drained, on_closed};

live_gw *live_gw_new(host *gw, host *target, const live_gw_out *out, void *user) {
  live_gw *g = g_new0(live_gw, 1);
  g->h = gw;
  g->target = target;
  const sim_addr *a = sim_node_addr(host_node(target), 4);
  if (!a)
    a = sim_node_addr(host_node(target), 6);
  if (!a)
    g_error("live_gw_new: target %s has no address", host_name(target));
  g->to = *a;
  g->out = out;
  g->user = user;
  g->conns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
  g->dgrams = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
  return g;
}

static void cancel_dgram(gpointer key, gpointer value, gpointer user) {
  (void)key;
  gw_dgram *d = value;
  sim_world_cancel(host_world(d->g->h), d->timer);
  (void)user;
}

void live_gw_free(live_gw *g) {
  if (!g)
    return;
  /* The world frees the connections and sockets without callbacks. */
  g_hash_table_foreach(g->dgrams, cancel_dgram, NULL);
  g_hash_table_unref(g->conns);
  g_hash_table_unref(g->dgrams);
  g_free(g);
}

host *live_gw_host(const live_gw *g) { return g->h; }
host *live_gw_target(const live_gw *g) { return g->target; }

size_t live_gw_pending(const live_gw *g, uint64_t id) {
  gw_conn *gc = g_hash_table_lookup(g->conns, &id);
  return gc && gc->conn ? sim_tcp_unacked(gc->conn) : 0;
}

unsigned live_gw_open_count(const live_gw *g) {
  return g_hash_table_size(g->conns) + g_hash_table_size(g->dgrams);
}

static gw_conn *find_conn(live_gw *g, uint64_t id) {
  gw_conn *gc = g_hash_table_lookup(g->conns, &id);
  return gc && gc->conn ? gc : NULL;
}

void live_gw_open(live_gw *g, uint64_t id, uint16_t port) {
  g_assert(!g_hash_table_contains(g->conns, &id));
  if (!sim_node_is_up(host_node(g->h))) {
    g->out->closed(g->user, id, SIM_TCP_CLOSED_CRASH);
    return;
  }
  gw_conn *gc = g_new0(gw_conn, 1);
  gc->id = id;
  gc->g = g;
  g_hash_table_insert(g->conns, &gc->id, gc);
  gc->conn = sim_tcp_connect(host_node(g->h), &g->to, port, NULL, &conn_cb, gc);
  trace_writer *tw = host_trace(g->h, SIM_DETAIL_MESSAGES);
  if (tw) {
    char ab[SIM_ADDR_BUFSZ];
    trace_event_begin(tw, host_now(g->h), "live.open");
    trace_key_str(tw, "node", host_name(g->h));
    trace_key_uint(tw, "conn", sim_tcp_id(gc->conn));
    trace_key_uint(tw, "live", id);
    trace_key_str(tw, "to", host_name(g->target));
    trace_key_str(tw, "addr", sim_addr_format(&g->to, ab));
    trace_key_uint(tw, "port", port);
    trace_end(tw);
  }
}

void live_gw_send(live_gw *g, uint64_t id, const uint8_t *buf, size_t len) {
  gw_conn *gc = find_conn(g, id);
  if (gc && !gc->shut && len)
    sim_tcp_send(gc->conn, buf, len);
}

void live_gw_shutdown(live_gw *g, uint64_t id) {
  gw_conn *gc = find_conn(g, id);
  if (gc && !gc->shut) {
    gc->shut = true;
    sim_tcp_close(gc->conn);
  }
}

void live_gw_abort(live_gw *g, uint64_t id) {
  gw_conn *gc = find_conn(g, id);
  if (gc)
    sim_tcp_abort(gc->conn); /* closed(ABORTED) follows as an event */
}

static void dgram_end(gw_dgram *d) {
  sim_udp_close(d->sock);
  uint64_t id = d->id;
  g_hash_table_remove(d->g->dgrams, &id);
}

static void dgram_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t from_port,
                       const uint8_t *buf, size_t len) {
  (void)s;
  (void)from;
  (void)from_port;
  gw_dgram *d = user;
  live_gw *g = d->g;
  uint64_t id = d->id;
  sim_world_cancel(host_world(g->h), d->timer);
  dgram_end(d);
  g->out->datagram(g->user, id, buf, len);
}

static void dgram_unreachable(void *user, sim_udp_sock *s, const sim_addr *to, uint16_t port) {
  (void)s;
  (void)to;
  (void)port;
  gw_dgram *d = user;
  sim_world_cancel(host_world(d->g->h), d->timer);
  dgram_end(d);
}

static const sim_udp_callbacks dgram_cb = {dgram_recv, dgram_unreachable};

static void dgram_timeout(void *a, void *b) {
  (void)b;
  dgram_end(a);
}

void live_gw_datagram(live_gw *g, uint64_t id, uint16_t port, const uint8_t *buf, size_t len) {
  g_assert(!g_hash_table_contains(g->dgrams, &id));
  if (!sim_node_is_up(host_node(g->h)))
    return;
  gw_dgram *d = g_new0(gw_dgram, 1);
  d->id = id;
  d->g = g;
  d->sock = sim_udp_bind(host_node(g->h), 0, &dgram_cb, d);
  if (!d->sock) { /* no ephemeral port left: the datagram is lost, as UDP allows */
    g_free(d);
    return;
  }
  g_hash_table_insert(g->dgrams, &d->id, d);
  d->timer = sim_world_after(host_world(g->h), DGRAM_WAIT, dgram_timeout, d, NULL);
  trace_writer *tw = host_trace(g->h, SIM_DETAIL_MESSAGES);
  if (tw) {
    trace_event_begin(tw, host_now(g->h), "live.dgram");
    trace_key_str(tw, "node", host_name(g->h));
    trace_key_uint(tw, "live", id);
    trace_key_str(tw, "to", host_name(g->target));
    trace_key_uint(tw, "port", port);
    trace_key_uint(tw, "size", len);
    trace_end(tw);
  }
  sim_udp_send(d->sock, &g->to, port, buf, len);
}
