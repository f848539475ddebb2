/* bulk.c — bulk stream source and sink over the simulated TCP. */
#include "bulk.h"

#include <glib.h>

#define CHUNK 65536

struct bulk_sink {
  sim_node *node;
  sim_tcp_listener *lis; /* NULL while the node is down */
  uint16_t port;
  GPtrArray *streams; /* of sink_stream*, in accept order */
};

typedef struct {
  bulk_sink *sink;
  bulk_stats st;
  sim_time source_started; /* unknown at the sink: 0 */
} sink_stream;

struct bulk_source {
  sim_node *node;
  sim_addr to;
  uint16_t port;
  uint64_t total;
  sim_tcp_conn *conn;
  bulk_stats st;
};

/* --- sink ------------------------------------------------------------ */

static void sink_connected(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void sink_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  sink_stream *ss = user;
  sim_time now = sim_world_now(sim_node_world(sim_tcp_node(c)));
  if (ss->st.bytes == 0)
    ss->st.first_byte = now;
  ss->st.last_byte = now;
  for (size_t i = 0; i < len && ss->st.intact; i++)
    if (buf[i] != bulk_pattern(ss->st.bytes + i))
      ss->st.intact = false;
  ss->st.bytes += len;
}

static void sink_eof(void *user, sim_tcp_conn *c) {
  sink_stream *ss = user;
  sim_world *w = sim_node_world(sim_tcp_node(c));
  ss->st.finished = true;
  trace_writer *tw = sim_world_trace(w, SIM_DETAIL_MESSAGES);
  trace_event_begin(tw, sim_world_now(w), "app.stream.done");
  trace_key_str(tw, "node", sim_node_name(sim_tcp_node(c)));
  trace_key_uint(tw, "conn", sim_tcp_id(c));
  trace_key_uint(tw, "bytes", ss->st.bytes);
  trace_key_bool(tw, "intact", ss->st.intact);
  trace_end(tw);
  sim_tcp_close(c);
}

static void sink_drained(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void sink_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)c;
  sink_stream *ss = user;
  ss->st.reason = why;
  ss->st.ended = true;
}

static const sim_tcp_callbacks sink_cb = {sink_connected, sink_data, sink_eof, sink_drained,
                                          sink_closed};

static void sink_accept(void *lis_user, sim_tcp_conn *c, const sim_tcp_callbacks **cb,
                        void **user) {
  bulk_sink *s = lis_user;
  sink_stream *ss = g_new0(sink_stream, 1);
  ss->sink = s;
  ss->st.intact = true;
  ss->st.conn = sim_tcp_id(c);
  ss->st.local_port = sim_tcp_remote_port(c);
  ss->st.started = sim_world_now(sim_node_world(s->node));
  g_ptr_array_add(s->streams, ss);
  *cb = &sink_cb;
  *user = ss;
}

bulk_sink *bulk_sink_new(sim_node *n, uint16_t port) {
  bulk_sink *s = g_new0(bulk_sink, 1);
  s->node = n;
  s->streams = g_ptr_array_new_with_free_func(g_free);
  s->port = port;
  s->lis = sim_tcp_listen(n, port, sink_accept, s);
  g_assert(s->lis != NULL);
  return s;
}

void bulk_sink_free(bulk_sink *s) {
  if (!s)
    return;
  g_ptr_array_unref(s->streams);
  g_free(s);
}

void bulk_sink_node_changed(bulk_sink *s, bool crashed) {
  if (crashed) {
    s->lis = NULL; /* freed by the kernel with the node's sockets */
  } else if (!s->lis) {
    s->lis = sim_tcp_listen(s->node, s->port, sink_accept, s);
    g_assert(s->lis != NULL);
  }
}

sim_node *bulk_sink_node(const bulk_sink *s) { return s->node; }

size_t bulk_sink_count(const bulk_sink *s) { return s->streams->len; }

const bulk_stats *bulk_sink_stats(const bulk_sink *s, size_t i) {
  g_assert(i < s->streams->len);
  return &((sink_stream *)s->streams->pdata[i])->st;
}

const bulk_stats *bulk_sink_find(const bulk_sink *s, const bulk_source *src) {
  for (guint i = 0; i < s->streams->len; i++) {
    const bulk_stats *st = &((sink_stream *)s->streams->pdata[i])->st;
    if (src->st.conn && st->local_port == src->st.local_port)
      return st;
  }
  return NULL;
}

/* --- source ---------------------------------------------------------- */

static void source_fill(bulk_source *s) {
  /* Keep at most two chunks queued beyond what was acknowledged. */
  uint8_t buf[CHUNK];
  while (s->st.bytes < s->total && sim_tcp_unacked(s->conn) < 2 * CHUNK) {
    uint64_t n = MIN((uint64_t)CHUNK, s->total - s->st.bytes);
    for (uint64_t i = 0; i < n; i++)
      buf[i] = bulk_pattern(s->st.bytes + i);
    sim_tcp_send(s->conn, buf, (size_t)n);
    s->st.bytes += n;
  }
  if (s->st.bytes == s->total)
    sim_tcp_close(s->conn);
}

static void source_connected(void *user, sim_tcp_conn *c) {
  bulk_source *s = user;
  s->st.local_port = sim_tcp_local_port(c);
  source_fill(s);
}

static void source_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  (void)user, (void)c, (void)buf, (void)len; /* the sink never talks back */
}

static void source_eof(void *user, sim_tcp_conn *c) { (void)user, (void)c; }

static void source_drained(void *user, sim_tcp_conn *c) {
  bulk_source *s = user;
  (void)c;
  if (s->st.bytes < s->total)
    source_fill(s);
}

static void source_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  bulk_source *s = user;
  (void)c;
  s->conn = NULL;
  s->st.reason = why;
  s->st.ended = true;
  s->st.finished = why == SIM_TCP_CLOSED_NORMAL;
}

static const sim_tcp_callbacks source_cb = {source_connected, source_data, source_eof,
                                            source_drained, source_closed};

static void source_start(void *a, void *b) {
  (void)b;
  bulk_source *s = a;
  sim_world *w = sim_node_world(s->node);
  s->st.started = sim_world_now(w);
  s->conn = sim_tcp_connect(s->node, &s->to, s->port, NULL, &source_cb, s);
  s->st.conn = sim_tcp_id(s->conn);
  trace_writer *tw = sim_world_trace(w, SIM_DETAIL_MESSAGES);
  char addr[SIM_ADDR_BUFSZ];
  trace_event_begin(tw, s->st.started, "app.stream.start");
  trace_key_str(tw, "node", sim_node_name(s->node));
  trace_key_uint(tw, "conn", s->st.conn);
  trace_key_printf(tw, "to", "%s:%u", sim_addr_format(&s->to, addr), s->port);
  trace_key_uint(tw, "bytes", s->total);
  trace_end(tw);
}

bulk_source *bulk_source_new(sim_node *n, const sim_addr *to, uint16_t port, uint64_t bytes,
                             sim_time at) {
  bulk_source *s = g_new0(bulk_source, 1);
  s->node = n;
  s->to = *to;
  s->port = port;
  s->total = bytes;
  s->st.intact = true;
  sim_world_at(sim_node_world(n), at, source_start, s, NULL);
  return s;
}

void bulk_source_free(bulk_source *s) { g_free(s); }

const bulk_stats *bulk_source_stats(const bulk_source *s) { return &s->st; }

void bulk_source_node_changed(bulk_source *s, bool crashed) {
  if (crashed && s->conn) {
    s->conn = NULL;
    s->st.ended = true;
    s->st.reason = SIM_TCP_CLOSED_CRASH;
  }
}

sim_node *bulk_source_node(const bulk_source *s) { return s->node; }
