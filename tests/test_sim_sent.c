/* When was it sent? sim_tcp_peer_write_time and sim_udp_sent_time: the
 * kernel's answer the viewer needs to draw a protocol line as a slanted
 * arrow from its send time to its arrival. */
#include <stdlib.h>

#include "net_fixture.h"
#include "testutil.h"

static const sim_link_params slow = {.latency = 10 * SIM_MS, .bandwidth_bps = 1000000};

typedef struct {
  sim_world *w;
  sim_tcp_conn *conn;
  uint64_t received;
  sim_time seen[8]; /* write time of the first byte of each data() call */
  sim_time arrived[8];
  int calls;
} rx;

static void rx_connected(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void rx_data(void *u, sim_tcp_conn *c, const uint8_t *b, size_t n) {
  rx *r = u;
  (void)b;
  if (r->calls < 8) {
    r->seen[r->calls] = sim_tcp_peer_write_time(c, r->received);
    r->arrived[r->calls] = sim_world_now(r->w);
    r->calls++;
  }
  r->received += n;
}
static void rx_eof(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void rx_drained(void *u, sim_tcp_conn *c) { (void)u, (void)c; }
static void rx_closed(void *u, sim_tcp_conn *c, sim_tcp_reason why) { (void)u, (void)c, (void)why; }
static const sim_tcp_callbacks rx_cb = {rx_connected, rx_data, rx_eof, rx_drained, rx_closed};

static void rx_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  rx *r = lu;
  r->conn = c;
  *cb = &rx_cb;
  *user = r;
}

typedef struct {
  sim_tcp_conn *conn;
  sim_time connected_at;
} tx;

static void tx_connected(void *u, sim_tcp_conn *c) {
  tx *t = u;
  t->connected_at = sim_world_now(sim_node_world(sim_tcp_node(c)));
  sim_tcp_send(c, "HELO a\r\n", 8);
}
static const sim_tcp_callbacks tx_cb = {tx_connected, rx_data, rx_eof, rx_drained, rx_closed};

static void later_write(void *a, void *b) {
  (void)b;
  tx *t = a;
  sim_tcp_send(t->conn, "QUIT\r\n", 6);
}

/* One connection on a slow line at DETAIL: the client writes a line at
 * connect and "QUIT" at 5 s; R sees both arrive. */
static void two_writes(fx_line *f, rx *r, tx *t, sim_detail detail) {
  fx_line_init(f, 1, &slow, NULL, detail);
  *r = (rx){.w = f->w};
  *t = (tx){0};
  ck_assert_ptr_nonnull(sim_tcp_listen(f->h2, 25, rx_accept, r));
  t->conn = sim_tcp_connect(f->h1, &f->a2, 25, NULL, &tx_cb, t);
  sim_world_at(f->w, 5 * SIM_S, later_write, t, NULL);
  sim_world_run(f->w, 10 * SIM_S);
}

START_TEST(tcp_write_times) {
  fx_line f;
  rx r;
  tx t;
  two_writes(&f, &r, &t, SIM_DETAIL_PROTOCOL);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_uint_eq(r.received, 14);
  ck_assert_msg(r.seen[0] == t.connected_at, "first line: got %lld want %lld", (long long)r.seen[0],
                (long long)t.connected_at);
  ck_assert(r.arrived[0] > r.seen[0]); /* transit takes time */
  ck_assert_msg(r.seen[1] == 5 * SIM_S, "second line: got %lld", (long long)r.seen[1]);
  ck_assert(r.arrived[1] > 5 * SIM_S);
  /* Beyond what the peer wrote, or in the other direction: unknown. */
  ck_assert(sim_tcp_peer_write_time(r.conn, 14) == -1);
  ck_assert(sim_tcp_peer_write_time(t.conn, 0) == -1);
  fx_line_clear(&f);
}
END_TEST

/* At message detail no record carries a write time: the kernel keeps none
 * (sim_tcp.h), and the answer is -1 even for bytes the peer did write. */
START_TEST(tcp_write_times_untraced) {
  fx_line f;
  rx r;
  tx t;
  two_writes(&f, &r, &t, SIM_DETAIL_MESSAGES);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_uint_eq(r.received, 14); /* the bytes themselves still arrive */
  for (int i = 0; i < r.calls; i++)
    ck_assert_msg(r.seen[i] == -1, "call %d: got %lld want -1", i, (long long)r.seen[i]);
  fx_line_clear(&f);
}
END_TEST

typedef struct {
  sim_time sent, arrived;
  int n;
} urx;

static void u_recv(void *u, sim_udp_sock *s, const sim_addr *from, uint16_t port, const uint8_t *b,
                   size_t n) {
  (void)from, (void)port, (void)b, (void)n;
  urx *r = u;
  r->sent = sim_udp_sent_time(s);
  r->arrived = sim_world_now(sim_node_world(sim_udp_node(s)));
  r->n++;
}
static const sim_udp_callbacks u_cb = {u_recv, NULL};

typedef struct {
  sim_udp_sock *s;
  sim_addr to;
} usend;

static void send_dgram(void *a, void *b) {
  (void)b;
  usend *u = a;
  sim_udp_send(u->s, &u->to, 53, "q", 1);
}

START_TEST(udp_sent_time) {
  fx_line f;
  fx_line_init(&f, 1, &slow, NULL, SIM_DETAIL_PROTOCOL);
  urx r = {0};
  ck_assert_ptr_nonnull(sim_udp_bind(f.h2, 53, &u_cb, &r));
  usend u = {sim_udp_bind(f.h1, 0, &u_cb, NULL), f.a2};
  sim_world_at(f.w, 2 * SIM_S, send_dgram, &u, NULL);
  sim_world_run(f.w, 10 * SIM_S);
  ck_assert_int_eq(r.n, 1);
  ck_assert(r.sent == 2 * SIM_S);
  ck_assert(r.arrived > r.sent + 30 * SIM_MS); /* three hops of 10 ms */
  fx_line_clear(&f);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_sent");
  TCase *tc = tcase_create("sent");
  tcase_add_test(tc, tcp_write_times);
  tcase_add_test(tc, tcp_write_times_untraced);
  tcase_add_test(tc, udp_sent_time);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
