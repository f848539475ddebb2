/* Tests for sim_tcp: bulk transfer under loss, exact timing, handshake
 * outcomes (refused, reset, timeouts), faults, half close, determinism. */
#include <stdlib.h>
#include <string.h>

#include "net_fixture.h"
#include "sim_tcp_int.h"
#include "testutil.h"

#define MIB (1024 * 1024)

static const sim_link_params fast = {
    .latency = 100 * SIM_US, .bandwidth_bps = 100000000, .mtu = 1500};

/* Runs to the end and checks that nothing is left behind. */
static void run_idle(fx_line *f) {
  ck_assert_int_eq(sim_world_run(f->w, SIM_TIME_NEVER), SIM_RUN_IDLE);
  ck_assert_uint_eq(sim_sched_pending(sim_world_sched(f->w)), 0);
}

/* --- bulk ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  uint32_t loss_all; /* on every link */
  uint32_t loss_mid; /* on r1-r2 instead, if set */
  uint32_t max_retries;
} bulk_row;

static const bulk_row bulk_rows[] = {
    {"0%", 0, 0, 0},
    {"1% per link", 10000, 0, 0},
    {"30% on the middle link", 0, 300000, 30},
};

START_TEST(bulk_1mib_complete_in_order) {
  const bulk_row *row = &bulk_rows[_i];
  sim_link_params p = fast, mid = fast;
  p.loss_ppm = row->loss_all;
  mid.loss_ppm = row->loss_mid ? row->loss_mid : row->loss_all;
  fx_line f;
  fx_line_init(&f, 42, &p, &mid, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {.want = MIB};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  sim_tcp_options opt = {.max_retries = row->max_retries};
  fx_source_start(&src, f.h1, &f.a2, 25, MIB, true, &opt);
  run_idle(&f);
  ck_assert_msg(sink.received == MIB, "%s: received %" G_GUINT64_FORMAT " want %d", row->name,
                sink.received, MIB);
  ck_assert_msg(sink.bad == 0, "%s: %" G_GUINT64_FORMAT " bytes differ", row->name, sink.bad);
  ck_assert_int_eq(sink.eofs, 1);
  ck_assert_int_eq(src.connected, 1);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_eq(sink.closed, 1);
  ck_assert_msg(src.reason == SIM_TCP_CLOSED_NORMAL, "%s: client closed %s", row->name,
                sim_tcp_reason_name(src.reason));
  ck_assert_msg(sink.reason == SIM_TCP_CLOSED_NORMAL, "%s: server closed %s", row->name,
                sim_tcp_reason_name(sink.reason));
  ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"tcp.close\""), 2);
  fx_line_clear(&f);
}
END_TEST

/* Completion time with no loss, computed by hand.
 *
 * Path: 3 links, each latency L = 100 us, 100 Mbit/s, MTU 1500, no jitter.
 * Serialization of W octets: ser(W) = W * 8 / 10^8 s = 80 W ns.
 * Every segment carries 40 header octets (IPv4 20 + TCP 20), pure ACKs and
 * SYNs included (40 octets: ser = 3200 ns per hop).
 *  - Handshake: SYN (3 hops) + SYN-ACK (3 hops) = 6 (L + ser(40)). The data
 *    queued before connect leaves as soon as the SYN-ACK arrives, the first
 *    segment carrying the ACK (no separate pure ACK).
 *  - Data: N = 1 MiB, MSS = 1460: n = 719 segments, 718 full (wire 1500,
 *    S = ser(1500) = 120 us) and a last of 296 octets (wire 336, s_last =
 *    ser(336) = 26.88 us). The window (65535) holds 44 segments, more than
 *    a round trip needs (~8 segments), so the first link never idles.
 *    Store and forward with equal bandwidths: segment k leaves link j just
 *    as segment k+1 reaches its router, so the pipeline adds one S per
 *    extra link; the short last segment waits behind the full one before
 *    it on links 2 and 3. Its arrival at h2:
 *      T_hs + (n - 1) S          last segment starts on link 1
 *           + S + S               waits for its predecessor on links 2, 3
 *           + s_last + 3 L        its own serialization on link 3 + 3 latencies
 *    = T_hs + (n + 1) S + s_last + 3 L.
 *  - Drained (last ACK back at h1): + 3 (L + ser(40)); ACKs travel the
 *    other direction of each link, so they never queue behind data. */
START_TEST(bulk_exact_completion_time) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {.want = MIB};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, MIB, true, NULL);
  ck_assert_uint_eq(sim_tcp_mss(src.conn), 1460);
  run_idle(&f);
  const sim_time L = 100 * SIM_US;
  const sim_time ack = 40 * 80; /* ser(40) */
  const sim_time S = 1500 * 80; /* ser(1500) */
  const uint64_t n = (MIB + 1459) / 1460;
  const sim_time s_last = (sim_time)((MIB - (n - 1) * 1460) + 40) * 80;
  const sim_time t_hs = 6 * (L + ack);
  const sim_time want_last = t_hs + (sim_time)(n + 1) * S + s_last + 3 * L;
  const sim_time want_drained = want_last + 3 * (L + ack);
  ck_assert_uint_eq(n, 719);
  ck_assert_int_eq(src.connected_at, t_hs);
  ck_assert_int_eq(sink.received, MIB);
  ck_assert_msg(sink.last_byte_at == want_last,
                "last byte at %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, sink.last_byte_at,
                want_last);
  ck_assert_msg(src.drained_at == want_drained,
                "drained at %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, src.drained_at,
                want_drained);
  ck_assert_int_eq(src.drained, 1);
  fx_line_clear(&f);
}
END_TEST

START_TEST(ipv6_mss_and_transfer) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2v6, 25, 100000, true, NULL);
  ck_assert_uint_eq(sim_tcp_mss(src.conn), 1440);
  ck_assert(sim_addr_equal(sim_tcp_local_addr(src.conn), &f.a1v6));
  run_idle(&f);
  ck_assert_uint_eq(sink.received, 100000);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
  ck_assert_uint_eq(fx_count(f.tw, "\"src\":\"[fd00::1]:"), 3); /* connect, established, close */
  fx_line_clear(&f);
}
END_TEST

/* --- determinism ---------------------------------------------------------------- */

static GString *run_jittery(uint64_t seed) {
  sim_link_params p = fast;
  p.jitter = 50 * SIM_US;
  p.loss_ppm = 20000;
  fx_line f;
  fx_line_init(&f, seed, &p, NULL, SIM_DETAIL_PACKETS);
  sim_net_write_header(f.net, "jitter", NULL, NULL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 200000, true, NULL);
  run_idle(&f);
  ck_assert_uint_eq(sink.received, 200000);
  ck_assert_uint_eq(sink.bad, 0);
  GString *out = g_string_new(trace_writer_peek_memory(f.tw)->str);
  fx_line_clear(&f);
  return out;
}

START_TEST(same_seed_same_trace) {
  GString *a = run_jittery(7), *b = run_jittery(7), *c = run_jittery(8);
  ck_assert_uint_gt(a->len, 10000);
  ck_assert_msg(g_string_equal(a, b), "same seed gave different traces");
  ck_assert_msg(!g_string_equal(a, c), "another seed gave the same trace");
  ck_assert(strstr(a->str, "\"reason\":\"loss\"") != NULL);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  g_string_free(c, TRUE);
}
END_TEST

/* Arrival times of each data() call at the sink, with and without an extra
 * node x (own jittery, lossy link to r1, own UDP traffic to r1). */
typedef struct {
  sim_world *w;
  GArray *times;
} arrivals;

static void arr_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  arrivals *a = user;
  (void)c;
  (void)buf;
  sim_time t = sim_world_now(a->w);
  g_array_append_val(a->times, t);
  g_array_append_val(a->times, len);
}
static const sim_tcp_callbacks arr_cb = {.data = arr_data};
static void arr_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  (void)c;
  *cb = &arr_cb;
  *user = lu;
}

static void x_tick(void *a, void *b) {
  sim_udp_sock *s = a;
  const sim_addr *to = b;
  sim_udp_send(s, to, 9, "ping", 4);
  sim_world *w = sim_node_world(sim_udp_node(s));
  if (sim_world_now(w) < 50 * SIM_MS)
    sim_world_after(w, 100 * SIM_US, x_tick, a, b);
}
static const sim_udp_callbacks x_cb = {0};

static GArray *run_with_extra(bool extra) {
  sim_link_params p = fast;
  p.jitter = 30 * SIM_US;
  p.loss_ppm = 10000;
  fx_line f;
  fx_line_init(&f, 99, &p, NULL, SIM_DETAIL_PROTOCOL);
  sim_udp_sock *xs = NULL;
  if (extra) {
    sim_node *x = sim_net_add_node(f.net, "x", false);
    sim_addr ax = fx_addr("10.0.3.1");
    sim_node_add_addr(x, &ax);
    sim_net_add_link(f.net, x, f.r1, &p);
    xs = sim_udp_bind(x, 0, &x_cb, NULL);
    sim_world_after(f.w, 0, x_tick, xs, &f.ar1);
  }
  arrivals a = {f.w, g_array_new(FALSE, FALSE, sizeof(sim_time))};
  sim_tcp_listen(f.h2, 25, arr_accept, &a);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 300000, true, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  if (extra)
    ck_assert_uint_gt(fx_count(f.tw, "udp.unreachable"), 10); /* x's traffic did flow */
  fx_line_clear(&f);
  return a.times;
}

START_TEST(extra_node_leaves_draws_unchanged) {
  GArray *a = run_with_extra(false), *b = run_with_extra(true);
  ck_assert_uint_gt(a->len, 100);
  ck_assert_uint_eq(a->len, b->len);
  ck_assert(memcmp(a->data, b->data, a->len * sizeof(sim_time)) == 0);
  g_array_free(a, TRUE);
  g_array_free(b, TRUE);
}
END_TEST

/* --- failures --------------------------------------------------------------------- */

START_TEST(link_cut_times_out_both_ends) {
  fx_line f;
  fx_line_init(&f, 3, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 10 * MIB, true, NULL);
  sim_net_link_set_up_at(f.net, f.l[1], 20 * SIM_MS, false);
  run_idle(&f);
  ck_assert_uint_gt(sink.received, 0);
  ck_assert_uint_lt(sink.received, 10 * MIB);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_eq(sink.closed, 1);
  ck_assert_msg(src.reason == SIM_TCP_CLOSED_TIMEOUT, "client: %s",
                sim_tcp_reason_name(src.reason));
  ck_assert_msg(sink.reason == SIM_TCP_CLOSED_TIMEOUT, "server: %s",
                sim_tcp_reason_name(sink.reason));
  ck_assert_uint_eq(fx_count(f.tw, "\"phase\":\"retransmit\""), 1);
  ck_assert_uint_eq(fx_count(f.tw, "\"phase\":\"keepalive\""), 1);
  ck_assert_uint_eq(fx_count(f.tw, "fault.link_down"), 1);
  /* the receiver: idle 60 s, 3 probes 10 s apart, then timeout */
  ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"tcp.timeout\""), 2);
  fx_line_clear(&f);
}
END_TEST

START_TEST(refused_on_closed_port) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 10, false, NULL);
  run_idle(&f);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_eq(src.connected, 0);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_REFUSED);
  /* SYN there and RST back: 6 hops of 40 octets */
  ck_assert_int_eq(src.closed_at, 6 * (100 * SIM_US + 3200));
  ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"tcp.refused\""), 1);
  fx_line_clear(&f);
}
END_TEST

START_TEST(accept_refused_by_owner_resets_client) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {.refuse = true};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 10, false, NULL);
  run_idle(&f);
  ck_assert_int_eq(sink.accepted, 1);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_RESET);
  fx_line_clear(&f);
}
END_TEST

START_TEST(connect_timeout_when_path_down) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  sim_net_link_set_up(f.net, f.l[2], false);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 10, false, NULL);
  run_idle(&f);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_TIMEOUT);
  /* SYNs at 0, 1, 3, 7, 15 s; the next would be at 31 s, past the 30 s limit */
  ck_assert_int_eq(src.closed_at, 30 * SIM_S);
  ck_assert_uint_eq(fx_count(f.tw, "\"phase\":\"connect\""), 1);
  ck_assert_int_eq(sink.accepted, 0);
  fx_line_clear(&f);
}
END_TEST

typedef struct {
  fx_source *src;
  size_t n;
} later_send;

static void send_later(void *a, void *b) {
  later_send *ls = a;
  (void)b;
  uint8_t *buf = g_malloc0(ls->n);
  if (ls->src->conn)
    sim_tcp_send(ls->src->conn, buf, ls->n);
  g_free(buf);
}

static int hook_calls[2];
static void crash_hook(void *user, sim_node *n, bool crashed) {
  fx_sink *s = user;
  (void)n;
  hook_calls[crashed ? 1 : 0]++;
  s->conn = NULL; /* the kernel freed it */
  s->lis = NULL;
}

START_TEST(server_crash_client_times_out) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  sim_node_set_hook(f.h2, crash_hook, &sink);
  memset(hook_calls, 0, sizeof hook_calls);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 1000, false, NULL);
  sim_node_crash_at(f.h2, 1 * SIM_S);
  later_send ls = {&src, 5000};
  sim_world_at(f.w, 2 * SIM_S, send_later, &ls, NULL);
  run_idle(&f);
  ck_assert_int_eq(hook_calls[1], 1);
  ck_assert_int_eq(sink.closed, 0); /* crash: no callback */
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_TIMEOUT);
  ck_assert_uint_eq(fx_count(f.tw, "fault.crash"), 1);
  ck_assert_uint_eq(fx_count(f.tw, "net.drop"), 0); /* packet records only at packet detail */
  fx_line_clear(&f);
}
END_TEST

START_TEST(server_restart_client_reset) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PACKETS);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  sim_node_set_hook(f.h2, crash_hook, &sink);
  memset(hook_calls, 0, sizeof hook_calls);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 1000, false, NULL);
  sim_node_crash_at(f.h2, 1 * SIM_S);
  sim_node_restart_at(f.h2, 2 * SIM_S);
  later_send ls = {&src, 5000};
  sim_world_at(f.w, 3 * SIM_S, send_later, &ls, NULL);
  run_idle(&f);
  ck_assert_int_eq(hook_calls[1], 1);
  ck_assert_int_eq(hook_calls[0], 1);
  ck_assert_uint_eq(sink.received, 1000);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_RESET);
  /* the first data segment after the restart reaches h2 after 3 hops of 1500-octet... the
   * 5000 bytes leave at 3 s; the RST answers the first segment */
  ck_assert_int_gt(src.closed_at, 3 * SIM_S);
  ck_assert_int_lt(src.closed_at, 3 * SIM_S + 10 * SIM_MS);
  ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"tcp.reset\""), 1);
  ck_assert_uint_eq(fx_count(f.tw, "fault.restart"), 1);
  fx_line_clear(&f);
}
END_TEST

START_TEST(crashed_packets_dropped_at_packet_detail) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PACKETS);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  sim_node_set_hook(f.h2, crash_hook, &sink);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 1000, false, NULL);
  sim_node_crash_at(f.h2, 1 * SIM_S);
  later_send ls = {&src, 5000};
  sim_world_at(f.w, 2 * SIM_S, send_later, &ls, NULL);
  run_idle(&f);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_TIMEOUT);
  /* 5000 bytes = 4 segments, sent again from the first (go-back-N) at each
   * of the 8 timeouts */
  ck_assert_uint_eq(fx_count(f.tw, "\"reason\":\"node_down\""), 4 + 8 * 4);
  fx_line_clear(&f);
}
END_TEST

START_TEST(abort_resets_peer) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 1000, false, NULL);
  sim_world_run(f.w, 100 * SIM_MS);
  ck_assert_uint_eq(sink.received, 1000);
  sim_tcp_abort(src.conn);
  ck_assert_int_eq(src.closed, 0); /* never inside the call */
  run_idle(&f);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_ABORTED);
  ck_assert_int_eq(sink.reason, SIM_TCP_CLOSED_RESET);
  ck_assert_uint_eq(fx_count(f.tw, "\"reason\":\"aborted\""), 1);
  fx_line_clear(&f);
}
END_TEST

START_TEST(half_close_echo_after_fin) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {.echo = 50000};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 3000, true, NULL);
  run_idle(&f);
  ck_assert_uint_eq(sink.received, 3000);
  ck_assert_uint_eq(src.received, 50000);
  ck_assert_uint_eq(src.bad, 0);
  ck_assert_int_eq(src.eofs, 1);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
  ck_assert_int_eq(sink.reason, SIM_TCP_CLOSED_NORMAL);
  fx_line_clear(&f);
}
END_TEST

/* Closed connection blocks are recycled with their small buffers: a run of
 * connections one after the other, of sizes around the kept buffer sizes
 * and beyond, each checked byte for byte both ways (a stale length, offset
 * or byte carried over from the block's previous connection shows). */
typedef struct {
  uint64_t up, echo;
} recycle_row;

static const recycle_row recycle_rows[] = {
    {0, 0},     {1, 1},       {100, 7},    {2047, 2049}, {3000, 50000}, {17, 0},
    {70000, 5}, {2040, 2040}, {1, 70000},  {0, 300},     {5000, 1},     {64, 64},
};

START_TEST(recycled_blocks_carry_nothing_over) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  for (int round = 0; round < 3; round++)
    for (size_t i = 0; i < G_N_ELEMENTS(recycle_rows); i++) {
      const recycle_row *r = &recycle_rows[i];
      fx_sink sink = {.echo = r->echo};
      uint16_t port = (uint16_t)(100 + round * 20 + i);
      fx_sink_listen(&sink, f.w, f.h2, port);
      fx_source src = {0};
      fx_source_start(&src, f.h1, &f.a2, port, r->up, true, NULL);
      run_idle(&f);
      if (sink.received != r->up || sink.bad || src.received != r->echo || src.bad)
        ck_abort_msg("round %d row %zu: got up %" G_GUINT64_FORMAT " (bad %" G_GUINT64_FORMAT
                     ") echo %" G_GUINT64_FORMAT " (bad %" G_GUINT64_FORMAT
                     "), want up %" G_GUINT64_FORMAT " echo %" G_GUINT64_FORMAT,
                     round, i, (guint64)sink.received, (guint64)sink.bad, (guint64)src.received,
                     (guint64)src.bad, (guint64)r->up, (guint64)r->echo);
      ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
      ck_assert_int_eq(sink.reason, SIM_TCP_CLOSED_NORMAL);
      sim_tcp_unlisten(sink.lis);
    }
  fx_line_clear(&f);
}
END_TEST

/* Hundreds of connections open at once at each end: the connection table
 * grows (to 1,024 slots at 300), then shrinks as they close, in an order
 * of its own (each stream's length differs, so they end at different
 * times); every segment must still find its connection, every stream
 * arrive whole, every close be NORMAL. */
START_TEST(hundreds_of_connections_at_once) {
  fx_line f;
  fx_line_init(&f, 2, &fast, NULL, SIM_DETAIL_MESSAGES);
  enum { K = 300 };
  fx_sink *sinks = g_new0(fx_sink, K);
  fx_source *srcs = g_new0(fx_source, K);
  for (int i = 0; i < K; i++) {
    sinks[i].echo = (size_t)(i * 37 % 500);
    fx_sink_listen(&sinks[i], f.w, f.h2, (uint16_t)(1000 + i));
  }
  for (int i = 0; i < K; i++)
    fx_source_start(&srcs[i], f.h1, &f.a2, (uint16_t)(1000 + i), (uint64_t)(i * 211 % 6000), true,
                    NULL);
  run_idle(&f);
  for (int i = 0; i < K; i++) {
    uint64_t up = (uint64_t)(i * 211 % 6000), echo = (uint64_t)(i * 37 % 500);
    if (sinks[i].received != up || sinks[i].bad || srcs[i].received != echo || srcs[i].bad ||
        srcs[i].reason != SIM_TCP_CLOSED_NORMAL || sinks[i].reason != SIM_TCP_CLOSED_NORMAL)
      ck_abort_msg("conn %d: got up %" G_GUINT64_FORMAT " echo %" G_GUINT64_FORMAT
                   " reasons %d/%d, want up %" G_GUINT64_FORMAT " echo %" G_GUINT64_FORMAT
                   " NORMAL",
                   i, (guint64)sinks[i].received, (guint64)srcs[i].received, srcs[i].reason,
                   sinks[i].reason, (guint64)up, (guint64)echo);
  }
  g_free(sinks);
  g_free(srcs);
  fx_line_clear(&f);
}
END_TEST

/* Both ends open and accept dozens of connections at once, three rounds
 * (each round's blocks come back from the pool for the next): every node
 * holds active and passive connections whose peers' ids share its
 * connection cache's slots (sim_tcp_in.c finds a connection by its peer's
 * id); every segment must still reach its own connection, every stream
 * arrive whole, every close be NORMAL. */
START_TEST(both_ends_connect_at_once) {
  fx_line f;
  fx_line_init(&f, 3, &fast, NULL, SIM_DETAIL_MESSAGES);
  enum { K = 40 };
  for (int round = 0; round < 3; round++) {
    fx_sink sinks[2 * K];
    fx_source srcs[2 * K];
    memset(sinks, 0, sizeof sinks);
    memset(srcs, 0, sizeof srcs);
    for (int i = 0; i < 2 * K; i++) {
      sinks[i].echo = (size_t)((i + round) * 53 % 3000);
      fx_sink_listen(&sinks[i], f.w, i < K ? f.h2 : f.h1, (uint16_t)(2000 + i));
    }
    for (int i = 0; i < 2 * K; i++)
      fx_source_start(&srcs[i], i < K ? f.h1 : f.h2, i < K ? &f.a2 : &f.a1, (uint16_t)(2000 + i),
                      (uint64_t)((i + round) * 389 % 7000), true, NULL);
    run_idle(&f);
    for (int i = 0; i < 2 * K; i++) {
      uint64_t up = (uint64_t)((i + round) * 389 % 7000), echo = (uint64_t)((i + round) * 53 % 3000);
      if (sinks[i].received != up || sinks[i].bad || srcs[i].received != echo || srcs[i].bad ||
          srcs[i].reason != SIM_TCP_CLOSED_NORMAL || sinks[i].reason != SIM_TCP_CLOSED_NORMAL)
        ck_abort_msg("round %d conn %d: got up %" G_GUINT64_FORMAT " (bad %" G_GUINT64_FORMAT
                     ") echo %" G_GUINT64_FORMAT " (bad %" G_GUINT64_FORMAT
                     ") reasons %d/%d, want up %" G_GUINT64_FORMAT " echo %" G_GUINT64_FORMAT
                     " NORMAL",
                     round, i, (guint64)sinks[i].received, (guint64)sinks[i].bad,
                     (guint64)srcs[i].received, (guint64)srcs[i].bad, srcs[i].reason,
                     sinks[i].reason, (guint64)up, (guint64)echo);
      sim_tcp_unlisten(sinks[i].lis);
    }
  }
  fx_line_clear(&f);
}
END_TEST

/* The sink's data() times and lengths for two streams in opposite
 * directions over a line whose bandwidth does not divide 8e9 (so
 * serialization rounds up), at DETAIL. */
static GArray *stream_times(sim_detail detail) {
  static const sim_link_params odd = {
      .latency = 100 * SIM_US, .bandwidth_bps = 33333333, .mtu = 1500};
  fx_line f;
  fx_line_init(&f, 5, &odd, NULL, detail);
  arrivals a1 = {f.w, g_array_new(FALSE, FALSE, sizeof(sim_time))};
  arrivals a2 = {f.w, g_array_new(FALSE, FALSE, sizeof(sim_time))};
  sim_tcp_listen(f.h2, 80, arr_accept, &a2);
  sim_tcp_listen(f.h1, 81, arr_accept, &a1);
  fx_source s1 = {0}, s2 = {0};
  fx_source_start(&s1, f.h1, &f.a2, 80, 300000, true, NULL);
  fx_source_start(&s2, f.h2, &f.a1, 81, 7000, true, NULL);
  ck_assert_int_eq(sim_world_run(f.w, 5 * SIM_S), SIM_RUN_UNTIL); /* the sinks never close */
  g_array_append_vals(a2.times, a1.times->data, a1.times->len);
  g_array_free(a1.times, TRUE);
  fx_line_clear(&f);
  return a2.times;
}

/* A hop on an idle link without loss, jitter or packet trace takes
 * sim_net's short path (forward); at packet detail every hop takes the
 * general one (link_tx). Both must give the same times to the byte. */
START_TEST(short_and_general_hop_paths_agree) {
  GArray *quick = stream_times(SIM_DETAIL_MESSAGES), *full = stream_times(SIM_DETAIL_PACKETS);
  ck_assert_uint_gt(quick->len, 200);
  ck_assert_uint_eq(quick->len, full->len);
  for (guint i = 0; i < quick->len; i++)
    if (g_array_index(quick, sim_time, i) != g_array_index(full, sim_time, i))
      ck_abort_msg("entry %u: got %" G_GINT64_FORMAT " without packet trace, %" G_GINT64_FORMAT
                   " with",
                   i, (gint64)g_array_index(quick, sim_time, i),
                   (gint64)g_array_index(full, sim_time, i));
  g_array_free(quick, TRUE);
  g_array_free(full, TRUE);
}
END_TEST

/* The free stream buffers of a class, counted along their list. */
static uint32_t tcp_bufs_listed(const sim_net *net, int k) {
  uint32_t n = 0;
  for (void *b = net->tcp_bufs[k]; b; memcpy(&b, b, sizeof b))
    n++;
  return n;
}

/* The net's cache of TCP stream buffers is bounded: after 300 connections
 * at once (their send buffers growing to 256..2048 octets and beyond,
 * then given back at close) no class keeps more than SIM_TCP__BUF_KEEP,
 * the lists hold what their counts say, and a class did fill up (else the
 * bound was not exercised). A second burst, served from the cache, carries
 * every stream whole. */
START_TEST(stream_buffer_cache_is_bounded) {
  fx_line f;
  fx_line_init(&f, 3, &fast, NULL, SIM_DETAIL_MESSAGES);
  enum { K = 300 };
  for (int burst = 0; burst < 2; burst++) {
    fx_sink *sinks = g_new0(fx_sink, K);
    fx_source *srcs = g_new0(fx_source, K);
    for (int i = 0; i < K; i++) {
      sinks[i].echo = (size_t)(i * 53 % 3000);
      fx_sink_listen(&sinks[i], f.w, f.h2, (uint16_t)(1000 + burst * K + i));
    }
    for (int i = 0; i < K; i++)
      fx_source_start(&srcs[i], f.h1, &f.a2, (uint16_t)(1000 + burst * K + i),
                      (uint64_t)(i * 211 % 5000), true, NULL);
    run_idle(&f);
    for (int i = 0; i < K; i++) {
      uint64_t up = (uint64_t)(i * 211 % 5000), echo = (uint64_t)(i * 53 % 3000);
      if (sinks[i].received != up || sinks[i].bad || srcs[i].received != echo || srcs[i].bad)
        ck_abort_msg("burst %d conn %d: got up %" G_GUINT64_FORMAT " echo %" G_GUINT64_FORMAT
                     ", want %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                     burst, i, (guint64)sinks[i].received, (guint64)srcs[i].received,
                     (guint64)up, (guint64)echo);
      sim_tcp_unlisten(sinks[i].lis);
    }
    uint32_t full = 0;
    for (int k = 0; k < SIM_TCP__BUF_CLASSES; k++) {
      uint32_t listed = tcp_bufs_listed(f.net, k);
      if (listed != f.net->n_tcp_bufs[k] || listed > SIM_TCP__BUF_KEEP)
        ck_abort_msg("burst %d class %d: got %u listed, count %u, want equal and <= %d", burst, k,
                     listed, f.net->n_tcp_bufs[k], SIM_TCP__BUF_KEEP);
      full += listed == SIM_TCP__BUF_KEEP;
    }
    ck_assert_uint_gt(full, 0);
    g_free(sinks);
    g_free(srcs);
  }
  fx_line_clear(&f);
}
END_TEST

START_TEST(queue_overflow_drops_and_recovers) {
  sim_link_params narrow = fast;
  narrow.bandwidth_bps = 10000000;
  narrow.queue_bytes = 8000;
  fx_line f;
  fx_line_init(&f, 5, &fast, &narrow, SIM_DETAIL_PACKETS);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 500000, true, NULL);
  run_idle(&f);
  ck_assert_uint_gt(fx_count(f.tw, "\"reason\":\"queue\""), 10);
  ck_assert_uint_eq(sink.received, 500000);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
  fx_line_clear(&f);
}
END_TEST

START_TEST(listen_twice_and_names) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink a = {0};
  fx_sink_listen(&a, f.w, f.h2, 25);
  ck_assert_ptr_null(sim_tcp_listen(f.h2, 25, arr_accept, &a));
  sim_tcp_unlisten(a.lis);
  sim_tcp_unlisten(NULL);
  for (int r = 0; r < SIM_TCP_CLOSED_COUNT; r++)
    ck_assert_ptr_nonnull(sim_tcp_reason_name((sim_tcp_reason)r));
  ck_assert_str_eq(sim_tcp_reason_name(SIM_TCP_CLOSED_TIMEOUT), "timeout");
  fx_line_clear(&f);
}
END_TEST

START_TEST(loopback_connection) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  fx_sink sink = {0};
  fx_sink_listen(&sink, f.w, f.h1, 25);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a1, 25, 100000, true, NULL);
  run_idle(&f);
  ck_assert_uint_eq(sink.received, 100000);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
  ck_assert_int_eq(sink.reason, SIM_TCP_CLOSED_NORMAL);
  ck_assert_int_eq(src.closed_at, 0); /* no link: no time passes */
  fx_line_clear(&f);
}
END_TEST

START_TEST(many_connections_demultiplexed) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  enum { K = 6 };
  fx_sink sinks[2];
  fx_source srcs[K];
  memset(sinks, 0, sizeof sinks);
  memset(srcs, 0, sizeof srcs);
  /* connections to port 25 go to sinks[0], to 26 to sinks[1] */
  fx_sink_listen(&sinks[0], f.w, f.h2, 25);
  fx_sink_listen(&sinks[1], f.w, f.h2, 26);
  for (int i = 0; i < K; i++)
    fx_source_start(&srcs[i], f.h1, &f.a2, (uint16_t)(25 + (i % 2)), 0, false, NULL);
  uint64_t ids[K];
  for (int i = 0; i < K; i++) {
    ids[i] = sim_tcp_id(srcs[i].conn);
    ck_assert_uint_eq(sim_tcp_remote_port(srcs[i].conn), 25 + (i % 2));
    for (int j = 0; j < i; j++) {
      ck_assert_uint_ne(ids[i], ids[j]);
      ck_assert_uint_ne(sim_tcp_local_port(srcs[i].conn), sim_tcp_local_port(srcs[j].conn));
    }
  }
  sim_world_run(f.w, 1 * SIM_S);
  ck_assert_int_eq(sinks[0].accepted, K / 2);
  ck_assert_int_eq(sinks[1].accepted, K / 2);
  for (int i = 0; i < K; i++) {
    ck_assert_int_eq(srcs[i].connected, 1);
    sim_tcp_abort(srcs[i].conn);
  }
  run_idle(&f);
  ck_assert_int_eq(sinks[0].closed + sinks[1].closed, K);
  fx_line_clear(&f);
}
END_TEST

static void abort_on_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  int *calls = user;
  (void)buf;
  (void)len;
  (*calls)++;
  sim_tcp_abort(c);
  sim_tcp_abort(c); /* twice: no-op */
}
static void count_closed(void *user, sim_tcp_conn *c, sim_tcp_reason why) {
  int *calls = user;
  (void)c;
  ck_assert_int_eq(why, SIM_TCP_CLOSED_ABORTED);
  calls[1]++;
}
static const sim_tcp_callbacks aborter = {.data = abort_on_data, .closed = count_closed};
static void aborter_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  (void)c;
  *cb = &aborter;
  *user = lu;
}

START_TEST(abort_inside_data_callback) {
  fx_line f;
  fx_line_init(&f, 1, &fast, NULL, SIM_DETAIL_PROTOCOL);
  int calls[2] = {0, 0};
  sim_tcp_listen(f.h2, 25, aborter_accept, calls);
  fx_source src = {0};
  fx_source_start(&src, f.h1, &f.a2, 25, 200000, false, NULL);
  run_idle(&f);
  ck_assert_int_eq(calls[0], 1);
  ck_assert_int_eq(calls[1], 1);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_RESET);
  ck_assert_uint_eq(fx_count(f.tw, "\"state\":\"ESTABLISHED\""), 1);
  fx_line_clear(&f);
}
END_TEST

/* A receiver that checks the pattern and counts where data() read from:
 * the kept segment (c->rpkt, no copy) or the pending-bytes block. */
typedef struct {
  uint64_t received, bad;
  int kept, copied;
} kept_sink;

static void kept_data(void *user, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  kept_sink *k = user;
  if (c->rpkt && buf == c->rpkt->data && len == c->rpkt->len)
    k->kept++;
  else if (c->rpend && buf == c->rpend->data && len == c->rpend->len)
    k->copied++;
  else
    ck_abort_msg("data() from neither the kept segment nor the pending block");
  for (size_t i = 0; i < len; i++)
    k->bad += buf[i] != fx_pattern(k->received + i);
  k->received += len;
}
static void kept_eof(void *user, sim_tcp_conn *c) {
  (void)user;
  sim_tcp_close(c);
}
static const sim_tcp_callbacks kept_cb = {.data = kept_data, .eof = kept_eof};
static void kept_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  (void)c;
  *cb = &kept_cb;
  *user = lu;
}

typedef struct {
  const char *name;
  uint32_t loss_mid; /* ppm on r1-r2 */
  bool want_copied;  /* out-of-order bytes must come through the block */
} kept_row;

static const kept_row kept_rows[] = {
    {"no loss: every segment kept", 0, false},
    {"5% loss: reassembled bytes copied, the rest kept", 50000, true},
};

START_TEST(in_order_segments_kept_not_copied) {
  const kept_row *row = &kept_rows[_i];
  sim_link_params mid = fast;
  mid.loss_ppm = row->loss_mid;
  fx_line f;
  fx_line_init(&f, 7, &fast, &mid, SIM_DETAIL_MESSAGES);
  kept_sink k = {0};
  sim_tcp_listen(f.h2, 25, kept_accept, &k);
  fx_source src = {0};
  sim_tcp_options opt = {.max_retries = 30};
  fx_source_start(&src, f.h1, &f.a2, 25, 300000, true, &opt);
  run_idle(&f);
  ck_assert_msg(k.received == 300000 && k.bad == 0,
                "%s: got %" G_GUINT64_FORMAT " bytes (%" G_GUINT64_FORMAT " bad), want 300000",
                row->name, (guint64)k.received, (guint64)k.bad);
  ck_assert_int_gt(k.kept, 0);
  if (row->want_copied)
    ck_assert_int_gt(k.copied, 0);
  else
    ck_assert_int_eq(k.copied, 0);
  ck_assert_int_eq(src.reason, SIM_TCP_CLOSED_NORMAL);
  fx_line_clear(&f);
}
END_TEST

/* Chaos: random link parameters and link flaps for many seeds. Whatever
 * happens, the receiver gets an in-order prefix of the stream, a normal
 * close on the client means every byte arrived, both ends end, and the
 * world runs idle. */
START_TEST(chaos_invariants) {
  sim_rng r;
  sim_rng_init(&r, (uint64_t)_i, "chaos");
  sim_link_params p = fast, mid = fast;
  p.jitter = sim_rng_range(&r, 0, 200) * SIM_US;
  mid.loss_ppm = (uint32_t)sim_rng_below(&r, 200000);
  mid.queue_bytes = 3000 + sim_rng_below(&r, 100000);
  mid.bandwidth_bps = 1000000 + sim_rng_below(&r, 100000000);
  p.loss_ppm = (uint32_t)sim_rng_below(&r, 20000);
  fx_line f;
  fx_line_init(&f, (uint64_t)_i, &p, &mid, SIM_DETAIL_PACKETS);
  fx_sink sink = {.echo = (size_t)sim_rng_below(&r, 20000)};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  fx_source src = {0};
  uint64_t n = sim_rng_below(&r, 300000);
  sim_tcp_options opt = {.window = 2000 + (uint32_t)sim_rng_below(&r, 200000)};
  fx_source_start(&src, f.h1, &f.a2, 25, n, true, &opt);
  for (int k = 0; k < 3; k++) {
    sim_time t = sim_rng_range(&r, 0, 5 * SIM_S);
    sim_link *l = f.l[sim_rng_below(&r, 3)];
    sim_net_link_set_up_at(f.net, l, t, false);
    sim_net_link_set_up_at(f.net, l, t + sim_rng_range(&r, 0, 40 * SIM_S), true);
  }
  run_idle(&f);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_uint_eq(src.bad, 0);
  ck_assert_uint_le(sink.received, n);
  ck_assert_int_eq(src.closed, 1);
  ck_assert_int_le(sink.closed, 1);
  if (src.reason == SIM_TCP_CLOSED_NORMAL) {
    ck_assert_uint_eq(sink.received, n);
    ck_assert_uint_eq(src.received, sink.echo);
    ck_assert_int_eq(sink.closed, 1);
  }
  if (sink.accepted)
    ck_assert_int_eq(sink.closed, 1);
  fx_line_clear(&f);
}
END_TEST

static void relisten_hook(void *user, sim_node *n, bool crashed) {
  fx_sink *s = user;
  s->conn = NULL;
  s->lis = NULL;
  if (!crashed)
    fx_sink_listen(s, sim_node_world(n), n, 25);
}

/* Chaos with crashes: the server host or a router crashes and restarts at
 * random times while a transfer runs. */
START_TEST(chaos_crashes) {
  sim_rng r;
  sim_rng_init(&r, (uint64_t)_i, "chaos-crash");
  sim_link_params p = fast;
  p.jitter = sim_rng_range(&r, 0, 100) * SIM_US;
  p.loss_ppm = (uint32_t)sim_rng_below(&r, 50000);
  fx_line f;
  fx_line_init(&f, (uint64_t)_i, &p, NULL, SIM_DETAIL_PACKETS);
  fx_sink sink = {.echo = (size_t)sim_rng_below(&r, 5000)};
  fx_sink_listen(&sink, f.w, f.h2, 25);
  sim_node_set_hook(f.h2, relisten_hook, &sink);
  fx_source src = {0};
  uint64_t n = sim_rng_below(&r, 500000);
  fx_source_start(&src, f.h1, &f.a2, 25, n, true, NULL);
  sim_node *victims[3] = {f.h2, f.r1, f.r2};
  for (int k = 0; k < 2; k++) {
    sim_node *v = victims[sim_rng_below(&r, 3)];
    sim_time t = sim_rng_range(&r, 0, 200 * SIM_MS);
    sim_node_crash_at(v, t);
    sim_node_restart_at(v, t + sim_rng_range(&r, 0, 20 * SIM_S));
  }
  sim_world_run(f.w, 1000 * SIM_S);
  if (sink.lis)
    sim_tcp_unlisten(sink.lis);
  run_idle(&f);
  ck_assert_uint_eq(sink.bad, 0);
  ck_assert_uint_eq(src.bad, 0);
  ck_assert_int_eq(src.closed, 1);
  if (src.reason == SIM_TCP_CLOSED_NORMAL) {
    ck_assert_uint_eq(sink.received, n);
    ck_assert_uint_eq(src.received, sink.echo);
  }
  fx_line_clear(&f);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sim_tcp");
  TCase *tc = tcase_create("bulk");
  tcase_add_loop_test(tc, bulk_1mib_complete_in_order, 0, G_N_ELEMENTS(bulk_rows));
  tcase_add_test(tc, bulk_exact_completion_time);
  tcase_add_test(tc, ipv6_mss_and_transfer);
  tcase_add_test(tc, queue_overflow_drops_and_recovers);
  tcase_add_test(tc, half_close_echo_after_fin);
  tcase_add_test(tc, recycled_blocks_carry_nothing_over);
  suite_add_tcase(s, tc);
  tc = tcase_create("determinism");
  tcase_add_test(tc, same_seed_same_trace);
  tcase_add_test(tc, extra_node_leaves_draws_unchanged);
  suite_add_tcase(s, tc);
  tc = tcase_create("failures");
  tcase_add_test(tc, link_cut_times_out_both_ends);
  tcase_add_test(tc, refused_on_closed_port);
  tcase_add_test(tc, accept_refused_by_owner_resets_client);
  tcase_add_test(tc, connect_timeout_when_path_down);
  tcase_add_test(tc, server_crash_client_times_out);
  tcase_add_test(tc, server_restart_client_reset);
  tcase_add_test(tc, crashed_packets_dropped_at_packet_detail);
  tcase_add_test(tc, abort_resets_peer);
  tcase_add_test(tc, listen_twice_and_names);
  tcase_add_test(tc, abort_inside_data_callback);
  tcase_add_loop_test(tc, in_order_segments_kept_not_copied, 0, G_N_ELEMENTS(kept_rows));
  suite_add_tcase(s, tc);
  tc = tcase_create("chaos");
  tcase_add_loop_test(tc, chaos_invariants, 0, 200);
  tcase_add_loop_test(tc, chaos_crashes, 0, 100);
  suite_add_tcase(s, tc);
  tc = tcase_create("sockets");
  tcase_add_test(tc, loopback_connection);
  tcase_add_test(tc, many_connections_demultiplexed);
  tcase_add_test(tc, hundreds_of_connections_at_once);
  tcase_add_test(tc, both_ends_connect_at_once);
  tcase_add_test(tc, stream_buffer_cache_is_bounded);
  tcase_add_test(tc, short_and_general_hop_paths_agree);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
