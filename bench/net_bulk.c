/* net_bulk.c — benchmark of the network and TCP kernel: one bulk stream
 * over a 3-hop path (host - router - router - host, 1 Gbit/s, 100 us per
 * link, 1 MiB window, no loss unless given), untraced. Prints simulated
 * bytes delivered per wall-clock second and kernel events per second.
 *
 * Usage: net_bulk [MiB (default 256)] [loss_ppm on the middle link (default 0)]
 * This is the one place wall time is read: it measures, it never decides.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_net.h"
#include "sim_tcp.h"

typedef struct {
  sim_world *w;
  uint64_t received, want;
  sim_time done_at;
  uint8_t x; /* folds the bytes so the copy is not optimized away */
} sink;

static void on_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  sink *s = user;
  (void)c;
  s->received += len;
  s->x ^= buf[len - 1];
  if (s->received == s->want)
    s->done_at = sim_world_now(s->w);
}
static void on_eof(void *user, sim_tcp_conn *c) {
  (void)user;
  sim_tcp_close(c);
}
static const sim_tcp_callbacks sink_cb = {.data = on_data, .eof = on_eof};
static void on_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  (void)c;
  *cb = &sink_cb;
  *user = lu;
}
/* The source feeds CHUNK bytes each time the previous ones are all
 * acknowledged (one round trip of idle per chunk), so its buffer stays
 * small, as an application writing into a socket would keep it. */
#define CHUNK (8 * 1024 * 1024)
typedef struct {
  uint8_t *chunk;
  uint64_t left;
} source;

static void feed(source *src, sim_tcp_conn *c) {
  if (src->left == 0)
    return;
  uint64_t n = src->left < CHUNK ? src->left : CHUNK;
  src->left -= n;
  sim_tcp_send(c, src->chunk, n);
  if (src->left == 0)
    sim_tcp_close(c);
}
static void on_drained(void *user, sim_tcp_conn *c) { feed(user, c); }
static const sim_tcp_callbacks src_cb = {.drained = on_drained};

int main(int argc, char **argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
  uint32_t loss = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 0;
  uint64_t n = mib * 1024 * 1024;
  sim_world *w = sim_world_new(1);
  sim_net *net = sim_world_net(w);
  sim_node *h1 = sim_net_add_node(net, "h1", false), *r1 = sim_net_add_node(net, "r1", true),
           *r2 = sim_net_add_node(net, "r2", true), *h2 = sim_net_add_node(net, "h2", false);
  sim_addr a1, a2;
  sim_addr_parse("10.0.0.1", &a1);
  sim_addr_parse("10.0.0.2", &a2);
  sim_node_add_addr(h1, &a1);
  sim_node_add_addr(h2, &a2);
  sim_link_params p = {
      .latency = 100 * SIM_US, .bandwidth_bps = 1000000000, .queue_bytes = 4 * 1024 * 1024};
  sim_link_params mid = p;
  mid.loss_ppm = loss;
  sim_net_add_link(net, h1, r1, &p);
  sim_net_add_link(net, r1, r2, &mid);
  sim_net_add_link(net, r2, h2, &p);
  sink s = {.w = w, .want = n};
  sim_tcp_listen(h2, 9, on_accept, &s);
  sim_tcp_options opt = {.window = 1024 * 1024};

  gint64 t0 = g_get_monotonic_time();
  source src = {g_malloc(CHUNK), n};
  for (size_t i = 0; i < CHUNK; i++)
    src.chunk[i] = (uint8_t)i;
  sim_tcp_conn *c = sim_tcp_connect(h1, &a2, 9, &opt, &src_cb, &src);
  feed(&src, c);
  sim_world_run(w, SIM_TIME_NEVER);
  gint64 t1 = g_get_monotonic_time();

  double wall = (double)(t1 - t0) / 1e6;
  uint64_t events = sim_sched_executed(sim_world_sched(w));
  uint64_t sent, delivered, dropped;
  sim_net_counters(net, &sent, &delivered, &dropped);
  if (s.received != n) {
    fprintf(stderr, "net_bulk: received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT "\n",
            s.received, n);
    return 1;
  }
  printf("N=%" G_GUINT64_FORMAT " sim_bytes_per_s=%.0f events_per_s=%.0f wall_s=%.3f "
         "events=%" G_GUINT64_FORMAT " packets=%" G_GUINT64_FORMAT " dropped=%" G_GUINT64_FORMAT
         " sim_done_s=%.6f\n",
         n, (double)n / wall, (double)events / wall, wall, events, sent, dropped,
         (double)s.done_at / 1e9);
  g_free(src.chunk);
  sim_world_free(w);
  return s.x == 0xff ? 0 : 0; /* s.x is only read */
}
