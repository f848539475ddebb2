/* Tests for sim_net: addresses, routing and its tie-break, down links,
 * serialization and latency, jitter without reordering, queue drop-tail,
 * faults and the trace header. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_fixture.h"
#include "testutil.h"

/* --- addresses ------------------------------------------------------------- */

typedef struct {
  const char *in;
  int family; /* 0: must be rejected */
  const char *out;
} addr_row;

static const addr_row addr_rows[] = {
    {"10.0.0.1", 4, "10.0.0.1"},
    {"255.255.255.255", 4, "255.255.255.255"},
    {"0.0.0.0", 4, "0.0.0.0"},
    {"1.20.100.9", 4, "1.20.100.9"},
    {"::1", 6, "::1"},
    {"fd00:0:0::0002", 6, "fd00::2"},
    {"2001:DB8::1", 6, "2001:db8::1"},
    {"::ffff:10.0.0.1", 6, "::ffff:10.0.0.1"},
    {"", 0, NULL},
    {"10.0.0", 0, NULL},
    {"10.0.0.256", 0, NULL},
    {"1.2.3.4.5", 0, NULL},
    {" 10.0.0.1", 0, NULL},
    {"10.0.0.1 ", 0, NULL},
    {"fd00::g", 0, NULL},
    {"1:2:3:4:5:6:7:8:9", 0, NULL},
    {"example.org", 0, NULL},
};

START_TEST(addr_parse_and_format) {
  const addr_row *row = &addr_rows[_i];
  sim_addr a = {.family = 99};
  bool ok = sim_addr_parse(row->in, &a);
  ck_assert_msg(ok == (row->family != 0), "\"%s\": got %d want %d", row->in, ok, row->family != 0);
  if (!ok) {
    ck_assert_int_eq(a.family, 99); /* untouched */
    return;
  }
  ck_assert_int_eq(a.family, row->family);
  char buf[SIM_ADDR_BUFSZ];
  ck_assert_str_eq(sim_addr_format(&a, buf), row->out);
  sim_addr b;
  ck_assert(sim_addr_parse(buf, &b));
  ck_assert(sim_addr_equal(&a, &b));
}
END_TEST

/* The IPv4 dotted quad is written by hand: the same text as inet_ntop
 * for every octet value in every position. */
START_TEST(addr_format_ipv4_as_inet_ntop) {
  for (int pos = 0; pos < 4; pos++)
    for (int v = 0; v < 256; v++) {
      sim_addr a = {.family = 4, .b = {10, 99, 7, 200}};
      a.b[pos] = (uint8_t)v;
      char want[INET_ADDRSTRLEN], got[SIM_ADDR_BUFSZ];
      ck_assert_ptr_nonnull(inet_ntop(AF_INET, a.b, want, sizeof want));
      ck_assert_msg(strcmp(sim_addr_format(&a, got), want) == 0, "got %s want %s", got, want);
    }
}
END_TEST

START_TEST(addr_equality_and_ownership) {
  sim_world *w = sim_world_new(1);
  sim_net *net = sim_world_net(w);
  sim_node *n = sim_net_add_node(net, "n", false);
  sim_node *m = sim_net_add_node(net, "m", false);
  sim_addr a = fx_addr("10.1.1.1"), b = fx_addr("10.1.1.2"), v6 = fx_addr("::a01:101");
  ck_assert(!sim_addr_equal(&a, &b));
  ck_assert(!sim_addr_equal(&a, &v6));
  ck_assert(sim_node_add_addr(n, &a));
  ck_assert(!sim_node_add_addr(m, &a)); /* taken */
  ck_assert(sim_node_add_addr(n, &v6));
  ck_assert_ptr_eq(sim_net_node_by_addr(net, &a), n);
  ck_assert_ptr_null(sim_net_node_by_addr(net, &b));
  ck_assert_ptr_eq(sim_node_addr(n, 6), sim_node_addr_at(n, 1));
  ck_assert_ptr_null(sim_node_addr(m, 4));
  ck_assert_ptr_eq(sim_net_find_node(net, "m"), m);
  ck_assert_ptr_null(sim_net_find_node(net, "x"));
  ck_assert_uint_eq(sim_node_index(m), 1);
  ck_assert_ptr_eq(sim_net_node_at(net, 1), m);
  ck_assert_uint_eq(sim_net_node_count(net), 2);
  ck_assert_str_eq(sim_node_name(n), "n");
  sim_world_free(w);
}
END_TEST

/* The address table through its growth (64 slots, doubling at half full):
 * 300 nodes with an IPv4 and an IPv6 address each, node i's v6 address
 * starting with the four octets of node i+1's v4 one (a lookup that
 * ignored the family would find the wrong node). Every
 * address finds its node after all are in, a taken one is refused, an
 * unknown or unset one finds nothing. */
START_TEST(addr_table_through_growth) {
  sim_world *w = sim_world_new(1);
  sim_net *net = sim_world_net(w);
  enum { K = 300 };
  sim_node *nodes[K];
  for (int i = 0; i < K; i++) {
    char name[16], v4[32], v6[48];
    g_snprintf(name, sizeof name, "n%d", i);
    g_snprintf(v4, sizeof v4, "10.%d.%d.1", i / 256, i % 256);
    int j = (i + 1) % K;
    g_snprintf(v6, sizeof v6, "a%02x:%02x01::1", j / 256, j % 256);
    nodes[i] = sim_net_add_node(net, name, false);
    sim_addr a4 = fx_addr(v4), a6 = fx_addr(v6);
    ck_assert(sim_node_add_addr(nodes[i], &a4));
    ck_assert(sim_node_add_addr(nodes[i], &a6));
  }
  for (int i = 0; i < K; i++)
    for (int f = 0; f < 2; f++) {
      const sim_addr *a = sim_node_addr_at(nodes[i], (size_t)f);
      sim_node *got = sim_net_node_by_addr(net, a);
      if (got != nodes[i])
        ck_abort_msg("node %d family %d: got %s, want n%d", i, a->family,
                     got ? sim_node_name(got) : "NULL", i);
      ck_assert(!sim_node_add_addr(nodes[(i + 1) % K], a)); /* taken */
    }
  sim_addr unknown = fx_addr("10.9.9.9"), unset = {0};
  ck_assert_ptr_null(sim_net_node_by_addr(net, &unknown));
  ck_assert_ptr_null(sim_net_node_by_addr(net, &unset));
  sim_world_free(w);
}
END_TEST

/* --- routing ---------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *nodes; /* space separated; a leading '*' marks a router */
  const char *links; /* "a-b:latency_ms" space separated */
  const char *from, *to;
  const char *want; /* next hop, or "" for none */
} route_row;

static const route_row route_rows[] = {
    {"equal paths: lowest next-hop index", "s *a *b d", "s-a:1 s-b:1 a-d:1 b-d:1", "s", "d", "a"},
    {"equal paths: index, not link order", "s *b *a d", "s-a:1 a-d:1 s-b:1 b-d:1", "s", "d", "b"},
    {"equal latency: fewer hops", "s *r d", "s-r:1 r-d:1 s-d:2", "s", "d", "d"},
    {"lower latency beats fewer hops", "s *r d", "s-r:1 r-d:1 s-d:3", "s", "d", "r"},
    {"hosts don't forward", "s h *r d", "s-h:1 h-d:1 s-r:5 r-d:5", "s", "d", "r"},
    {"only through a host: no route", "s h d", "s-h:1 h-d:1", "s", "d", ""},
    {"disconnected", "s *r d", "s-r:1", "s", "d", ""},
    {"tie deeper in the path", "s *r *a *b d", "s-r:1 r-a:1 r-b:1 a-d:1 b-d:1", "r", "d", "a"},
    {"zero latency links", "s *a *b d", "s-b:0 b-d:0 s-a:0 a-d:0", "s", "d", "a"},
    /* the source host is offered a distance by several routers (hosts are
     * not queued in the route search): the least (latency, hops) wins */
    {"host offered by two routers: nearer second", "s *a *b d", "s-a:1 s-b:1 a-d:3 b-d:1", "s", "d",
     "b"},
    {"host offered equal latency: fewer hops", "s *a *b *c d", "s-b:1 b-c:1 c-d:2 s-a:2 a-d:2", "s",
     "d", "a"},
    {"host offered zero latency: fewer hops", "s *a *b d", "s-a:0 a-b:0 b-d:0 s-b:0", "s", "d",
     "b"},
    {"star: host to host through the router", "s *r x y d", "s-r:5 x-r:5 y-r:5 d-r:5", "s", "d",
     "r"},
    {"star: a host is no way through", "s *r x d", "s-x:1 x-r:1 s-r:5 d-r:5", "s", "d", "r"},
    /* next hops are chosen during the search: an equal offer from a lower
     * index that comes later (b is expanded before a) still wins */
    {"tie offered later by a lower index", "s *a *b d", "d-b:1 b-s:2 d-a:2 a-s:1", "s", "d", "a"},
    {"tie offered later by a lower index, at a router", "*s *a *b d", "d-b:1 b-s:2 d-a:2 a-s:1",
     "s", "d", "a"},
    {"tie offered earlier by a lower index", "s *a *b d", "d-a:1 a-s:2 d-b:2 b-s:1", "s", "d", "a"},
};

static sim_world *build(const route_row *row) {
  sim_world *w = sim_world_new(1);
  sim_net *net = sim_world_net(w);
  char **ns = g_strsplit(row->nodes, " ", -1);
  for (char **p = ns; *p; p++) {
    bool router = (*p)[0] == '*';
    sim_net_add_node(net, *p + (router ? 1 : 0), router);
  }
  g_strfreev(ns);
  char **ls = g_strsplit(row->links, " ", -1);
  for (char **p = ls; *p; p++) {
    char a[8], b[8];
    int ms;
    ck_assert_int_eq(sscanf(*p, "%7[^-]-%7[^:]:%d", a, b, &ms), 3);
    sim_link_params lp = {.latency = ms * SIM_MS};
    sim_net_add_link(net, sim_net_find_node(net, a), sim_net_find_node(net, b), &lp);
  }
  g_strfreev(ls);
  return w;
}

START_TEST(route_tie_break) {
  const route_row *row = &route_rows[_i];
  for (int rep = 0; rep < 2; rep++) { /* two worlds: the same answer */
    sim_world *w = build(row);
    sim_net *net = sim_world_net(w);
    sim_node *hop =
        sim_net_next_hop(net, sim_net_find_node(net, row->from), sim_net_find_node(net, row->to));
    const char *got = hop ? sim_node_name(hop) : "";
    ck_assert_msg(strcmp(got, row->want) == 0, "%s: got \"%s\" want \"%s\"", row->name, got,
                  row->want);
    sim_world_free(w);
  }
}
END_TEST

/* --- packets over links ---------------------------------------------------------- */

typedef struct {
  sim_world *w;
  GArray *seqs;
  GArray *times;
} collector;

static void coll_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t port,
                      const uint8_t *buf, size_t len) {
  collector *c = user;
  (void)s;
  (void)from;
  (void)port;
  uint32_t seq = 0;
  if (len >= 4)
    memcpy(&seq, buf, 4);
  sim_time t = sim_world_now(c->w);
  g_array_append_val(c->seqs, seq);
  g_array_append_val(c->times, t);
}
static const sim_udp_callbacks coll_cb = {.recv = coll_recv};
static const sim_udp_callbacks none_cb = {0};

static void collector_init(collector *c, sim_world *w) {
  c->w = w;
  c->seqs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  c->times = g_array_new(FALSE, FALSE, sizeof(sim_time));
}
static void collector_clear(collector *c) {
  g_array_free(c->seqs, TRUE);
  g_array_free(c->times, TRUE);
}

typedef struct {
  sim_udp_sock *s;
  const sim_addr *to;
  uint32_t next, count;
  sim_time gap;
  size_t len;
} pacer;

static void pace(void *a, void *b) {
  pacer *p = a;
  (void)b;
  uint8_t buf[2048] = {0};
  memcpy(buf, &p->next, 4);
  sim_udp_send(p->s, p->to, 7, buf, p->len);
  if (++p->next < p->count && p->gap > 0) /* gap 0: the test calls pace() itself */
    sim_world_after(sim_node_world(sim_udp_node(p->s)), p->gap, pace, p, NULL);
}

START_TEST(jitter_never_reorders) {
  sim_link_params p = {.latency = 1 * SIM_MS, .jitter = 5 * SIM_MS, .bandwidth_bps = 1000000000};
  fx_line f;
  fx_line_init(&f, 77, &p, NULL, SIM_DETAIL_PROTOCOL);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 2000, 10 * SIM_US, 100};
  sim_world_after(f.w, 0, pace, &pc, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.seqs->len, 2000);
  bool jittered = false;
  for (guint i = 0; i < c.seqs->len; i++) {
    ck_assert_msg(g_array_index(c.seqs, uint32_t, i) == i, "position %u: got %u", i,
                  g_array_index(c.seqs, uint32_t, i));
    if (i > 0) {
      sim_time d = g_array_index(c.times, sim_time, i) - g_array_index(c.times, sim_time, i - 1);
      ck_assert_int_ge(d, 0);
      if (d != 10 * SIM_US)
        jittered = true;
    }
  }
  ck_assert(jittered);
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(serialization_queues_back_to_back) {
  /* 10 datagrams of 1000 octets sent at once over 3 x (1 ms, 8 Mbit/s):
   * wire 1028 octets = 1028 us per hop. Datagram k (from 0) leaves link 1
   * at (k+1) * 1028 us; the pipeline then adds 1028 us + 1 ms per hop. */
  sim_link_params p = {.latency = 1 * SIM_MS, .bandwidth_bps = 8000000};
  fx_line f;
  fx_line_init(&f, 1, &p, NULL, SIM_DETAIL_PROTOCOL);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 10, 0, 1000};
  for (int i = 0; i < 10; i++)
    pace(&pc, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.times->len, 10);
  const sim_time ser = 1028 * SIM_US;
  for (int k = 0; k < 10; k++) {
    sim_time want = (k + 1) * ser + 2 * ser + 3 * SIM_MS;
    ck_assert_msg(g_array_index(c.times, sim_time, k) == want,
                  "datagram %d: got %" G_GINT64_FORMAT " want %" G_GINT64_FORMAT, k,
                  g_array_index(c.times, sim_time, k), want);
  }
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(queue_drop_tail_then_recovery) {
  /* 20 datagrams of 1000 octets (wire 1028) at once into a 5000-octet queue:
   * the first 4 fit (4112), the 5th would make 5140: dropped, and so are
   * all the others. Once the queue drained, the next ones pass again. */
  sim_link_params p = {.latency = 1 * SIM_MS, .bandwidth_bps = 8000000, .queue_bytes = 5000};
  fx_line f;
  fx_line_init(&f, 1, &p, NULL, SIM_DETAIL_PACKETS);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 40, 0, 1000};
  for (int i = 0; i < 20; i++)
    pace(&pc, NULL);
  sim_world_run(f.w, 1 * SIM_S);
  ck_assert_uint_eq(c.seqs->len, 4);
  ck_assert_uint_eq(fx_count(f.tw, "\"reason\":\"queue\""), 16);
  for (int i = 0; i < 20; i++)
    pace(&pc, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.seqs->len, 8);
  ck_assert_uint_eq(g_array_index(c.seqs, uint32_t, 4), 20);
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(down_link_drops_until_reroute) {
  /* s - r1 - d (1 ms each) and s - r2 - d (2 ms each) */
  sim_world *w = sim_world_new(1);
  trace_writer *tw = trace_writer_new_memory();
  sim_world_set_trace(w, tw, SIM_DETAIL_PACKETS);
  sim_net *net = sim_world_net(w);
  sim_node *s = sim_net_add_node(net, "s", false);
  sim_node *r1 = sim_net_add_node(net, "r1", true);
  sim_node *r2 = sim_net_add_node(net, "r2", true);
  sim_node *d = sim_net_add_node(net, "d", false);
  sim_addr as = fx_addr("10.0.0.1"), ad = fx_addr("10.0.0.2");
  sim_node_add_addr(s, &as);
  sim_node_add_addr(d, &ad);
  sim_link_params p1 = {.latency = 1 * SIM_MS}, p2 = {.latency = 2 * SIM_MS};
  sim_net_add_link(net, s, r1, &p1);
  sim_link *cut = sim_net_add_link(net, r1, d, &p1);
  sim_net_add_link(net, s, r2, &p2);
  sim_net_add_link(net, r2, d, &p2);
  collector c;
  collector_init(&c, w);
  sim_udp_bind(d, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(s, 0, &none_cb, NULL), &ad, 0, 100, 0, 10};
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r1);

  pace(&pc, NULL);
  sim_world_run(w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.times->len, 1);
  ck_assert_int_eq(g_array_index(c.times, sim_time, 0), 2 * SIM_MS);

  sim_net_link_set_up(net, cut, false);
  ck_assert(!sim_link_is_up(cut));
  pace(&pc, NULL);
  sim_world_run(w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.times->len, 1); /* dropped at r1 */
  ck_assert_uint_eq(fx_count(tw, "\"ev\":\"net.drop\",\"node\":\"r1\""), 1);
  ck_assert_uint_eq(fx_count(tw, "\"reason\":\"down\""), 1);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r1); /* no reroute by itself */

  sim_net_reroute(net);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r2);
  sim_time t0 = sim_world_now(w);
  pace(&pc, NULL);
  sim_world_run(w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.times->len, 2);
  ck_assert_int_eq(g_array_index(c.times, sim_time, 1) - t0, 4 * SIM_MS);

  sim_net_link_set_up(net, cut, true);
  sim_net_reroute(net);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r1);
  ck_assert_uint_eq(fx_count(tw, "fault.link_down"), 1);
  ck_assert_uint_eq(fx_count(tw, "\"ev\":\"fault.link_up\",\"link\":1,\"a\":\"r1\",\"b\":\"d\""),
                    1);
  collector_clear(&c);
  sim_world_free(w);
  trace_writer_free(tw);
}
END_TEST

START_TEST(adding_a_link_reroutes) {
  /* s - r1 - d (1 ms) and s - r2 - d (2 ms); r1-d goes down: routes stay,
   * until a link is added anywhere (a topology change recomputes them) */
  sim_world *w = sim_world_new(1);
  sim_net *net = sim_world_net(w);
  sim_node *s = sim_net_add_node(net, "s", false);
  sim_node *r1 = sim_net_add_node(net, "r1", true);
  sim_node *r2 = sim_net_add_node(net, "r2", true);
  sim_node *d = sim_net_add_node(net, "d", false);
  sim_link_params p1 = {.latency = 1 * SIM_MS}, p2 = {.latency = 2 * SIM_MS};
  sim_net_add_link(net, s, r1, &p1);
  sim_link *cut = sim_net_add_link(net, r1, d, &p1);
  sim_net_add_link(net, s, r2, &p2);
  sim_net_add_link(net, r2, d, &p2);
  sim_net_link_set_up(net, cut, false);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r1);
  sim_node *x = sim_net_add_node(net, "x", false);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r1); /* a node alone changes no link */
  sim_net_add_link(net, x, r2, &p1);
  ck_assert_ptr_eq(sim_net_next_hop(net, s, d), r2);
  ck_assert_ptr_eq(sim_net_next_hop(net, x, d), r2);
  ck_assert_ptr_null(sim_net_next_hop(net, d, d));
  sim_world_free(w);
}
END_TEST

START_TEST(cut_loses_packets_on_the_wire) {
  /* A datagram is on the wire (10 ms latency) when the link goes down and
   * up again: it is lost all the same. */
  sim_link_params p = {.latency = 10 * SIM_MS};
  fx_line f;
  fx_line_init(&f, 1, &p, NULL, SIM_DETAIL_PACKETS);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 10, 0, 10};
  pace(&pc, NULL);
  sim_net_link_set_up_at(f.net, f.l[0], 2 * SIM_MS, false);
  sim_net_link_set_up_at(f.net, f.l[0], 4 * SIM_MS, true);
  sim_world_run(f.w, SIM_TIME_NEVER);
  ck_assert_uint_eq(c.seqs->len, 0);
  ck_assert_uint_eq(fx_count(f.tw, "\"reason\":\"down\""), 1);
  ck_assert(sim_link_is_up(f.l[0]));
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(latency_spike_delays_without_reordering) {
  /* Ten datagrams, one per ms from t=0, over 3 x 1 ms. From 2 ms to 5 ms
   * the first link takes 51 ms: datagrams 2..4 arrive 50 ms late, and the
   * ones sent after the spike wait behind them (never overtake). */
  sim_link_params p = {.latency = 1 * SIM_MS};
  fx_line f;
  fx_line_init(&f, 1, &p, NULL, SIM_DETAIL_MESSAGES);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  sim_link_params spike = p;
  spike.latency = 51 * SIM_MS;
  sim_net_link_set_params_at(f.net, f.l[0], 2 * SIM_MS, &spike);
  sim_net_link_set_params_at(f.net, f.l[0], 5 * SIM_MS, &p);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 10, 1 * SIM_MS, 100};
  sim_world_after(f.w, 0, pace, &pc, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  static const int64_t want_ms[10] = {3, 4, 55, 56, 57, 57, 57, 57, 57, 57};
  ck_assert_uint_eq(c.seqs->len, 10);
  for (guint i = 0; i < 10; i++) {
    ck_assert_uint_eq(g_array_index(c.seqs, uint32_t, i), i);
    sim_time got = g_array_index(c.times, sim_time, i);
    ck_assert_msg(got == want_ms[i] * SIM_MS, "datagram %u: got %" PRId64 " ns want %" PRId64 " ms",
                  i, got, want_ms[i]);
  }
  ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"fault.link_params\""), 2);
  ck_assert_uint_eq(fx_count(f.tw, "\"latency_ns\":51000000"), 1);
  ck_assert_int_eq(sim_link_params_peek(f.l[0])->latency, 1 * SIM_MS);
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(loss_burst_drops_only_in_its_window) {
  /* 100 % loss on the first link from 2 ms to 5 ms: datagrams 2, 3 and 4
   * are lost, the others arrive; no draw is made outside the burst. */
  sim_link_params p = {.latency = 1 * SIM_MS};
  fx_line f;
  fx_line_init(&f, 1, &p, NULL, SIM_DETAIL_PACKETS);
  collector c;
  collector_init(&c, f.w);
  sim_udp_bind(f.h2, 7, &coll_cb, &c);
  sim_link_params burst = p;
  burst.loss_ppm = 1000000;
  sim_net_link_set_params_at(f.net, f.l[0], 2 * SIM_MS, &burst);
  sim_net_link_set_params_at(f.net, f.l[0], 5 * SIM_MS, &p);
  pacer pc = {sim_udp_bind(f.h1, 0, &none_cb, NULL), &f.a2, 0, 10, 1 * SIM_MS, 100};
  sim_world_after(f.w, 0, pace, &pc, NULL);
  sim_world_run(f.w, SIM_TIME_NEVER);
  static const uint32_t want[7] = {0, 1, 5, 6, 7, 8, 9};
  ck_assert_uint_eq(c.seqs->len, 7);
  for (guint i = 0; i < 7; i++)
    ck_assert_msg(g_array_index(c.seqs, uint32_t, i) == want[i], "position %u: got %u want %u", i,
                  g_array_index(c.seqs, uint32_t, i), want[i]);
  ck_assert_uint_eq(fx_count(f.tw, "\"reason\":\"loss\""), 3);
  ck_assert_uint_eq(fx_count(f.tw, "\"loss_ppm\":1000000"), 1);
  collector_clear(&c);
  fx_line_clear(&f);
}
END_TEST

START_TEST(packet_records_only_at_packet_detail) {
  for (int detail = SIM_DETAIL_MESSAGES; detail <= SIM_DETAIL_PACKETS; detail++) {
    sim_link_params p = {.latency = 1 * SIM_MS};
    fx_line f;
    fx_line_init(&f, 1, &p, NULL, (sim_detail)detail);
    sim_udp_sock *s = sim_udp_bind(f.h1, 0, &none_cb, NULL);
    sim_udp_send(s, &f.a2, 7, "x", 1); /* unreachable */
    sim_node_crash_at(f.r1, 1 * SIM_S);
    sim_node_restart_at(f.r1, 2 * SIM_S);
    sim_world_run(f.w, SIM_TIME_NEVER);
    ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"net.send\""), detail == SIM_DETAIL_PACKETS ? 6 : 0);
    ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"net.recv\""), detail == SIM_DETAIL_PACKETS ? 2 : 0);
    ck_assert_uint_eq(fx_count(f.tw, "udp.unreachable"), detail >= SIM_DETAIL_PROTOCOL ? 1 : 0);
    ck_assert_uint_eq(fx_count(f.tw, "{\"t\":1000000000,\"id\":"), 1);
    ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"fault.crash\",\"node\":\"r1\"}"), 1);
    ck_assert_uint_eq(fx_count(f.tw, "\"ev\":\"fault.restart\",\"node\":\"r1\"}"), 1);
    fx_line_clear(&f);
  }
}
END_TEST

static void add_roles(void *user, trace_writer *tw) { trace_key_str(tw, "roles", user); }

START_TEST(header_record) {
  sim_world *w = sim_world_new(12345);
  trace_writer *tw = trace_writer_new_memory();
  sim_world_set_trace(w, tw, SIM_DETAIL_MESSAGES);
  sim_net *net = sim_world_net(w);
  sim_node *a = sim_net_add_node(net, "a", false);
  sim_node *r = sim_net_add_node(net, "r", true);
  sim_addr x = fx_addr("192.0.2.1"), y = fx_addr("2001:db8::1");
  sim_node_add_addr(a, &x);
  sim_node_add_addr(a, &y);
  sim_link_params p = {
      .latency = 5 * SIM_MS, .jitter = 1000, .bandwidth_bps = 1000000, .loss_ppm = 10};
  sim_link *l = sim_net_add_link(net, a, r, &p);
  ck_assert_uint_eq(sim_link_params_peek(l)->queue_bytes, 262144);
  ck_assert_ptr_eq(sim_link_end(l, 1), r);
  ck_assert_uint_eq(sim_net_link_count(net), 1);
  ck_assert_ptr_eq(sim_net_link_at(net, 0), l);
  sim_net_write_header(net, "demo", add_roles, "x");
  const char *want =
      "{\"format\":\"mailsim-trace\",\"version\":1,\"scenario\":\"demo\",\"seed\":12345,"
      "\"detail\":\"messages\",\"nodes\":[{\"name\":\"a\",\"index\":0,\"router\":false,"
      "\"addrs\":[\"192.0.2.1\",\"2001:db8::1\"]},{\"name\":\"r\",\"index\":1,\"router\":true,"
      "\"addrs\":[]}],\"links\":[{\"a\":\"a\",\"b\":\"r\",\"latency_ns\":5000000,"
      "\"jitter_ns\":1000,\"bandwidth_bps\":1000000,\"queue_bytes\":262144,\"loss_ppm\":10,"
      "\"mtu\":1500,\"up\":true}],\"roles\":\"x\"}\n";
  ck_assert_str_eq(trace_writer_peek_memory(tw)->str, want);
  sim_world_free(w);
  trace_writer_free(tw);
}
END_TEST

START_TEST(world_without_trace_runs) {
  sim_link_params p = {.latency = 1 * SIM_MS, .loss_ppm = 100000, .jitter = 100};
  sim_world *w = sim_world_new(3);
  sim_net *net = sim_world_net(w);
  sim_node *a = sim_net_add_node(net, "a", false), *b = sim_net_add_node(net, "b", false);
  sim_addr x = fx_addr("10.0.0.1"), y = fx_addr("10.0.0.2");
  sim_node_add_addr(a, &x);
  sim_node_add_addr(b, &y);
  sim_net_add_link(net, a, b, &p);
  sim_net_write_header(net, "none", NULL, NULL);
  collector c;
  collector_init(&c, w);
  sim_udp_bind(b, 7, &coll_cb, &c);
  pacer pc = {sim_udp_bind(a, 0, &none_cb, NULL), &y, 0, 100, SIM_MS, 10};
  sim_world_after(w, 0, pace, &pc, NULL);
  sim_world_run(w, SIM_TIME_NEVER);
  uint64_t sent, delivered, dropped;
  sim_net_counters(net, &sent, &delivered, &dropped);
  ck_assert_uint_eq(sent, 100);
  ck_assert_uint_eq(delivered, c.seqs->len);
  ck_assert_uint_eq(delivered + dropped, 100);
  ck_assert_uint_gt(dropped, 0);
  collector_clear(&c);
  sim_world_free(w);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("sim_net");
  TCase *tc = tcase_create("addresses");
  tcase_add_loop_test(tc, addr_parse_and_format, 0, G_N_ELEMENTS(addr_rows));
  tcase_add_test(tc, addr_format_ipv4_as_inet_ntop);
  tcase_add_test(tc, addr_equality_and_ownership);
  tcase_add_test(tc, addr_table_through_growth);
  suite_add_tcase(s, tc);
  tc = tcase_create("routing");
  tcase_add_loop_test(tc, route_tie_break, 0, G_N_ELEMENTS(route_rows));
  tcase_add_test(tc, down_link_drops_until_reroute);
  tcase_add_test(tc, adding_a_link_reroutes);
  suite_add_tcase(s, tc);
  tc = tcase_create("links");
  tcase_add_test(tc, jitter_never_reorders);
  tcase_add_test(tc, serialization_queues_back_to_back);
  tcase_add_test(tc, queue_drop_tail_then_recovery);
  tcase_add_test(tc, cut_loses_packets_on_the_wire);
  tcase_add_test(tc, latency_spike_delays_without_reordering);
  tcase_add_test(tc, loss_burst_drops_only_in_its_window);
  suite_add_tcase(s, tc);
  tc = tcase_create("trace");
  tcase_add_test(tc, packet_records_only_at_packet_detail);
  tcase_add_test(tc, header_record);
  tcase_add_test(tc, world_without_trace_runs);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return testutil_run(suite()); }
