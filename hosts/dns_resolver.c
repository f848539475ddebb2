/* dns_resolver.c — a recursive DNS server over the simulated network. */
#include "dns_resolver.h"

#include <string.h>

#include "dns_driver.h"
#include "dns_tcp.h"
#include "dns_trace.h"
#include "sim_tcp.h"
#include "sim_udp.h"

#define DNS_PORT 53
#define EDNS_SIZE 1232

typedef struct tcp_client tcp_client;

/* A client query waiting for its lookup. During a queue-run burst a
 * resolver holds thousands, so the query is kept as what its answer
 * needs (header fields, EDNS, the question with its name at its length),
 * not as a decoded dns_msg (four arrays, a 260-octet question: ~850
 * octets with malloc's share), nor as the datagram to decode again. */
typedef struct {
  uint64_t lookup;
  /* where the answer goes: UDP (from, port) or a TCP client */
  tcp_client *tcp;
  sim_addr from;
  uint16_t port;
  uint16_t id, qtype, qclass, udp_size;
  uint8_t opcode;
  bool rd, edns, do_bit;
  uint8_t cap;     /* room in qname for a name of this many octets */
  uint8_t qname[]; /* the question's name: its length, then its wire form */
} waiting;

struct tcp_client {
  dns_resolver *r;
  sim_tcp_conn *conn; /* NULL once closed */
  dns_tcp *deframer;
  uint64_t rx_off;
  int waiting; /* queries not yet answered */
};

struct dns_resolver {
  host *h;
  dns_driver *drv;
  sim_udp_sock *udp;
  sim_tcp_listener *lis;
  GPtrArray *waiting; /* waiting*, in arrival order */
  waiting *spare;     /* an answered query's block, the next one's (or NULL) */
  GPtrArray *clients; /* tcp_client* */
  uint64_t answered;
};

static void waiting_free(waiting *w) { g_free(w); }

/* W (answered, out of the list) kept as the next query's block: the one
 * with room for the longer name, the other freed. Most queries are
 * answered from the cache inside take_query: then no block is made. */
static void waiting_done(dns_resolver *r, waiting *w) {
  if (r->spare && r->spare->cap >= w->cap) {
    g_free(w);
    return;
  }
  if (r->spare)
    g_free(r->spare);
  r->spare = w;
}

static void client_free(tcp_client *tc) {
  dns_tcp_free(tc->deframer);
  g_free(tc);
}

static void reply(dns_resolver *r, waiting *w, const dns_res_event *ev) {
  dns_msg q; /* the query's header and EDNS, as decoded when it came */
  dns_msg_init(&q);
  q.id = w->id;
  q.opcode = w->opcode;
  q.rd = w->rd;
  q.edns.present = w->edns;
  q.edns.do_bit = w->do_bit;
  q.edns.udp_size = w->udp_size;
  dns_question qq;
  qq.name.len = w->qname[0];
  memcpy(qq.name.wire, w->qname + 1, w->qname[0]);
  qq.type = w->qtype;
  qq.rclass = w->qclass;
  bool tcp = w->tcp != NULL;
  /* A UDP answer is at most EDNS_SIZE octets (dns_msg_udp_limit): built on
   * the stack; only TCP's 64 KiB limit takes a block. */
  uint8_t ubuf[EDNS_SIZE];
  size_t limit = tcp ? 65535 : dns_msg_udp_limit(&q, EDNS_SIZE);
  g_assert(tcp || limit <= sizeof ubuf);
  uint8_t *buf = tcp ? g_malloc(limit) : ubuf;
  dns_enc_result er;
  /* the octets of dns_res_make_response's message, without its copies */
  if (dns_res_encode_response(&q, &qq, ev, EDNS_SIZE, buf, limit, DNS_ENC_TRUNCATE, &er) ==
      DNS_OK) {
    r->answered++;
    if (!tcp) {
      if (r->udp)
        sim_udp_send(r->udp, &w->from, w->port, buf, er.len);
    } else if (w->tcp->conn) {
      GByteArray *f = g_byte_array_new();
      dns_tcp_frame(buf, er.len, f);
      sim_tcp_send(w->tcp->conn, f->data, f->len);
      g_byte_array_unref(f);
    }
  }
  if (buf != ubuf)
    g_free(buf);
  if (tcp)
    w->tcp->waiting--;
}

static void on_done(void *user, dns_res_event *ev) {
  dns_resolver *r = user;
  for (guint i = 0; i < r->waiting->len; i++) {
    waiting *w = r->waiting->pdata[i];
    if (w->lookup == ev->lookup) {
      reply(r, w, ev);
      g_ptr_array_steal_index(r->waiting, i);
      waiting_done(r, w);
      break;
    }
  }
  /* the records back to the engine: the next cache read's array */
  dns_res_give_rrs(dns_driver_engine(r->drv), ev->rrs);
  ev->rrs = NULL;
}

/* A query arrived (UDP or TCP): start its lookup. */
static void take_query(dns_resolver *r, const uint8_t *pkt, size_t len, const sim_addr *from,
                       uint16_t port, tcp_client *tc) {
  if (len > UINT16_MAX)
    return;
  dns_msg q; /* dns_msg_decode initialises it (an init before it would leak) */
  if (dns_msg_decode(&q, pkt, len) != DNS_OK || q.qr || !dns_msg_question(&q)) {
    dns_msg_clear(&q); /* not a query we can answer; a real server would FORMERR */
    return;
  }
  const dns_question *qq = dns_msg_question(&q);
  waiting *w = r->spare;
  if (w && w->cap >= qq->name.len) {
    r->spare = NULL;
  } else {
    w = g_malloc(sizeof *w + (size_t)qq->name.len + 1);
    w->cap = qq->name.len;
  }
  w->id = q.id;
  w->opcode = q.opcode;
  w->rd = q.rd;
  w->edns = q.edns.present;
  w->do_bit = q.edns.do_bit;
  w->udp_size = q.edns.udp_size;
  w->qtype = qq->type;
  w->qclass = qq->rclass;
  w->qname[0] = qq->name.len;
  memcpy(w->qname + 1, qq->name.wire, qq->name.len);
  w->from = *from;
  w->port = port;
  w->tcp = tc;
  if (tc)
    tc->waiting++;
  /* Register before looking up: a cache hit completes inside the call. */
  w->lookup = dns_res_stats_peek(dns_driver_engine(r->drv))->lookups + 1;
  g_ptr_array_add(r->waiting, w);
  dns_driver_lookup(r->drv, &qq->name, qq->type);
  dns_msg_clear(&q);
}

static void udp_recv(void *user, sim_udp_sock *s, const sim_addr *from, uint16_t port,
                     const uint8_t *buf, size_t len) {
  dns_resolver *r = user;
  dns_trace_packet(host_world(r->h), "dns.query", 0, from, port, host_node(r->h), NULL,
                   sim_udp_port(s), sim_udp_sent_time(s), false, buf, len);
  take_query(r, buf, len, from, port, NULL);
}

static const sim_udp_callbacks udp_cb = {udp_recv, NULL};

static void tcp_connected(void *u, sim_tcp_conn *c) { (void)u, (void)c; }

static void tcp_data(void *u, sim_tcp_conn *c, const uint8_t *buf, size_t len) {
  tcp_client *tc = u;
  dns_tcp_feed(tc->deframer, buf, len);
  GBytes *m;
  while ((m = dns_tcp_next(tc->deframer)) != NULL) {
    gsize n;
    const uint8_t *p = g_bytes_get_data(m, &n);
    dns_trace_packet(host_world(tc->r->h), "dns.query", sim_tcp_id(c), sim_tcp_remote_addr(c),
                     sim_tcp_remote_port(c), host_node(tc->r->h), sim_tcp_local_addr(c),
                     sim_tcp_local_port(c), sim_tcp_peer_write_time(c, tc->rx_off), true, p, n);
    tc->rx_off += 2 + n;
    take_query(tc->r, p, n, sim_tcp_remote_addr(c), sim_tcp_remote_port(c), tc);
    g_bytes_unref(m);
  }
}

static void tcp_eof(void *u, sim_tcp_conn *c) {
  (void)u;
  sim_tcp_close(c);
}

static void tcp_drained(void *u, sim_tcp_conn *c) { (void)u, (void)c; }

static void tcp_closed(void *u, sim_tcp_conn *c, sim_tcp_reason why) {
  (void)c, (void)why;
  tcp_client *tc = u;
  dns_resolver *r = tc->r;
  tc->conn = NULL;
  /* Answers still owed go nowhere: forget them. */
  for (guint i = r->waiting->len; i-- > 0;) {
    waiting *w = r->waiting->pdata[i];
    if (w->tcp == tc) {
      dns_driver_cancel(r->drv, w->lookup);
      g_ptr_array_remove_index(r->waiting, i);
    }
  }
  g_ptr_array_remove(r->clients, tc);
}

static const sim_tcp_callbacks tcp_cb = {tcp_connected, tcp_data, tcp_eof, tcp_drained,
                                         tcp_closed};

static void tcp_accept(void *lu, sim_tcp_conn *c, const sim_tcp_callbacks **cb, void **user) {
  dns_resolver *r = lu;
  tcp_client *tc = g_new0(tcp_client, 1);
  tc->r = r;
  tc->conn = c;
  tc->deframer = dns_tcp_new();
  g_ptr_array_add(r->clients, tc);
  *cb = &tcp_cb;
  *user = tc;
}

static void start(dns_resolver *r) {
  r->udp = sim_udp_bind(host_node(r->h), DNS_PORT, &udp_cb, r);
  r->lis = sim_tcp_listen(host_node(r->h), DNS_PORT, tcp_accept, r);
  g_assert(r->udp && r->lis);
}

static void on_crash(void *user, bool crashed) {
  dns_resolver *r = user;
  if (crashed) {
    r->udp = NULL;
    r->lis = NULL;
    g_ptr_array_set_size(r->waiting, 0);
    g_ptr_array_set_size(r->clients, 0);
  } else {
    start(r);
  }
}

dns_resolver *dns_resolver_new(host *h, const dns_res_server *hints, size_t nhints) {
  dns_resolver *r = g_new0(dns_resolver, 1);
  r->h = h;
  r->waiting = g_ptr_array_new_with_free_func((GDestroyNotify)waiting_free);
  r->clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
  dns_res_config cfg;
  dns_res_config_defaults(&cfg);
  cfg.mode = DNS_RES_RECURSIVE;
  cfg.servers = hints;
  cfg.nservers = nhints;
  cfg.shuffle = true;
  cfg.done_empty_null = true; /* reply reads NULL as no records */
  r->drv = dns_driver_new(h, &cfg, on_done, r);
  start(r);
  host_on_crash(h, on_crash, r);
  return r;
}

void dns_resolver_free(dns_resolver *r) {
  if (!r)
    return;
  dns_driver_free(r->drv);
  g_ptr_array_unref(r->waiting);
  g_free(r->spare);
  g_ptr_array_unref(r->clients);
  g_free(r);
}

uint64_t dns_resolver_answered(const dns_resolver *r) { return r->answered; }

const dns_res_stats *dns_resolver_stats(const dns_resolver *r) {
  dns_res *e = dns_driver_engine(r->drv);
  return e ? dns_res_stats_peek(e) : NULL;
}
